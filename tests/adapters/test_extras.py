"""Optional packages: a missing one is named with the extra that installs it."""

from __future__ import annotations

import sys

import pytest

from tenantwatch.adapters.extras import MissingExtra, require


def test_an_installed_package_is_returned() -> None:
    assert require("yaml", extra="x", feature="Reading YAML").__name__ == "yaml"


def test_a_missing_package_names_the_extra_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingExtra) as caught:
        require("redis", extra="redis", feature="A redis check")
    assert str(caught.value) == (
        "A redis check needs the redis package, which is not installed; "
        "install it with: pip install 'tenantwatch[redis]'"
    )
    assert isinstance(caught.value, ImportError)
