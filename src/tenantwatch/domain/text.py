"""Rules for free text users give (names, label values): what every database can store."""

from __future__ import annotations


def text_problem(value: str, *, what: str, max_length: int, min_length: int = 1) -> str | None:
    """Return why value cannot be stored as text, or None when it can."""
    if len(value) < min_length:
        return f"{what} must not be empty" if min_length == 1 else f"{what} is too short"
    if len(value) > max_length:
        return f"{what} is {len(value)} characters long; at most {max_length} are allowed"
    if "\x00" in value:
        return f"{what} must not contain the NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid Unicode text; check the encoding of your input"
    return None


def storable(value: str) -> bool:
    """Return True when a database can hold and compare value (no NUL, valid Unicode)."""
    return text_problem(value, what="", max_length=len(value), min_length=0) is None


def size_text(size: int) -> str:
    """A byte count as people read it: "16 MiB" when it is whole mebibytes, else bytes."""
    mib = 1 << 20
    return f"{size // mib} MiB" if size >= mib and not size % mib else f"{size} bytes"
