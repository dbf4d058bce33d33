"""Prometheus rule files: loading, evaluation and promtool unit tests."""
