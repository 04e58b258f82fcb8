"""Demo data for a fresh install, seeded through the services (``flask seed-demo``)."""
