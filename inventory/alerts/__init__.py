"""Alerts (预警): rules, expiry lead times, inspections, digests, channels, the outbox and the scheduler's jobs."""
