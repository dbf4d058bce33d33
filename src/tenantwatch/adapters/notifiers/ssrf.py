"""The SSRF guard, where the notifiers first had it; it lives in adapters/ssrf.py (connect
time) and domain/ssrf.py (the decision), shared with the probes."""

from tenantwatch.adapters.ssrf import (
    GuardedResolver,
    SsrfError,
    SsrfPolicy,
    is_internal,
    resolve_checked,
)
from tenantwatch.domain.ssrf import allowed_only

__all__ = [
    "GuardedResolver",
    "SsrfError",
    "SsrfPolicy",
    "allowed_only",
    "is_internal",
    "resolve_checked",
]
