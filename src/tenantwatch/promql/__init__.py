"""PromQL evaluation over a SeriesSource (parser: promql-parser; arrays: numpy)."""
