"""Rule evaluation: Prometheus rule files, their unit tests and (later) the evaluator."""
