"""tenantwatch: tenant-aware monitoring, SLAs, alerting and incident response."""

__version__ = "0.1.0"
