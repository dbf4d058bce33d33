"""Metric store (in-memory head with durable persistence), scrape, push and remote backend."""
