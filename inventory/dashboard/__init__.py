"""The office's dashboard: shortfalls, expiry and alerts at a glance (reads every other domain, so it sits above them)."""
