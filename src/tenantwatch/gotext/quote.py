"""Go's quoted strings: strconv.Quote and strconv.Unquote, and the rune-wise reading of
string literals that the template engine does."""

from __future__ import annotations

import re
import unicodedata

_QUOTE_ESCAPES = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}
_UNQUOTE_ESCAPES = {
    "a": 7,
    "b": 8,
    "f": 12,
    "n": 10,
    "r": 13,
    "t": 9,
    "v": 11,
    "\\": 92,
    '"': 34,
    "'": 39,
}
_RUNE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


class UnquoteError(ValueError):
    """A string literal with an escape that cannot be read."""


def quote(text: str) -> str:
    """Go's strconv.Quote (fmt's %q): printable runes kept, the rest escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch.isprintable() and unicodedata.category(ch) != "Cs":
            out.append(ch)
        elif ch in _QUOTE_ESCAPES:
            out.append("\\" + _QUOTE_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def unquote(text: str) -> str:
    """Go's strconv.Unquote: "..." with escapes, `...` raw, or '...'. Raise ValueError
    where Go returns an error. Bytes that are not UTF-8 come back as lone surrogates."""
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"'`":
        raise ValueError(f"not a quoted string: {text}")
    quote_char, body = text[0], text[1:-1]
    if quote_char == "`":
        if "`" in body:
            raise ValueError(f"a backquoted string cannot contain a backquote: {text}")
        return body.replace("\r", "")
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == quote_char:
            raise ValueError(f"unescaped {quote_char} inside the string: {text}")
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        i += 1
        e = body[i : i + 1]
        if e in _UNQUOTE_ESCAPES:
            out.append(_UNQUOTE_ESCAPES[e])
            i += 1
        elif e == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 1 : i + 3]):
            out.append(int(body[i + 1 : i + 3], 16))
            i += 3
        elif e in ("u", "U") and re.fullmatch(
            r"[0-9a-fA-F]+", hexa := body[i + 1 : i + (5 if e == "u" else 9)]
        ):
            out += chr(int(hexa, 16)).encode("utf-8", "surrogatepass")
            i += len(hexa) + 1
        elif re.fullmatch(r"[0-7]{3}", body[i : i + 3]):
            out.append(int(body[i : i + 3], 8) & 0xFF)
            i += 3
        else:
            raise ValueError(f"invalid escape \\{e} in {text}")
    return out.decode("utf-8", "surrogateescape")


def unquote_runes(text: str) -> str:
    """A double-quoted literal read rune by rune, as the template engine reads one: the
    escapes \\n \\t \\r \\\\ \\" \\' \\0, \\xNN as the character U+00NN (not a byte) and
    \\uNNNN. Raise UnquoteError for any other escape."""
    body = text[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _RUNE_ESCAPES:
                out.append(_RUNE_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "x" and i + 3 < len(body):
                out.append(chr(int(body[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "u" and i + 5 < len(body):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            raise UnquoteError(f"unknown escape \\{nxt} in {text}")
        out.append(c)
        i += 1
    return "".join(out)
