"""Reads tenantwatch.yml into typed models: YAML with line tracking, ${VAR} expansion, file:line errors."""
