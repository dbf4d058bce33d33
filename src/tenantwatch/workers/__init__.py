"""Workers: schedulers and runners (checks, scrapes, rule groups, outbox, retention)."""
