"""Optional dependencies: imported when a feature first needs them, naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """A feature needs a package that one of tenantwatch's extras installs."""


def require(package: str, *, extra: str, feature: str) -> ModuleType:
    """Return the imported package. Raise MissingExtra, one sentence naming the extra that
    installs it, when it is not installed."""
    try:
        return importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != package:
            raise  # the package is there but something it needs is not: not ours to name
        raise MissingExtra(
            f"{feature} needs the {package} package, which is not installed; "
            f"install it with: pip install 'tenantwatch[{extra}]'",
            name=package,
        ) from None
