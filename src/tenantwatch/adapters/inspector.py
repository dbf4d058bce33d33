"""The request inspector's recorder: the latest requests and emails its local receivers got."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tenantwatch import jsonio


@dataclass
class Captured:
    at: float
    bin: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "bin": self.bin,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
        }


@dataclass
class Inspector:
    limit: int = 500
    items: deque[Captured] = field(default_factory=deque)

    def record(self, item: Captured) -> None:
        self.items.append(item)
        while len(self.items) > self.limit:
            self.items.popleft()

    def record_request(
        self,
        at: float,
        bin: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        content_type: str,
    ) -> None:
        """Record an HTTP request, its body decoded by its content type."""
        self.record(Captured(at, bin, method, path, headers, decode_body(body, content_type)))

    def record_email(self, message: dict[str, Any]) -> None:
        """Record a message the SMTP sink received (smtp_sink.parse_message's shape)."""
        self.record(Captured(message["at"], "smtp", "SMTP", "/", {}, message))

    def requests(self, bin: str | None = None) -> list[Captured]:
        return [c for c in self.items if bin is None or c.bin == bin]


def decode_body(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text[:1] in "[{":
        try:
            return jsonio.loads(text)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text))
    return text
