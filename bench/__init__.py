"""Benchmarks that measure tenantwatch against a baseline in the same run (see README.md)."""
