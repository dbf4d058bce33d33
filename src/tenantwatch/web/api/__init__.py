"""JSON APIs."""
