"""The tenantwatch command line (Typer + rich)."""
