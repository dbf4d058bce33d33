"""The incidents wing: lifecycle, grouping across tenants, roles, timeline, automated
response, communications and postmortems (pure cores; services drive them)."""
