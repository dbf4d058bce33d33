"""Adapters: the I/O edges (database, probes, notifiers, HTTP clients)."""
