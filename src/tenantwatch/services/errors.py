"""Errors a use case reports; the web and CLI layers turn them into 4xx answers and messages."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors users see; the message is a sentence that says how to fix it."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


class Invalid(ServiceError):
    """Input that is well-formed but breaks a rule (unknown tier, ...)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
