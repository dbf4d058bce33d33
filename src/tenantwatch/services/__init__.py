"""Use cases: orchestrate domain logic and ports; own transactions; always tenant-scoped."""
