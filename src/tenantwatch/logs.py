"""Structured logging through structlog: JSON lines, or readable lines in a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


Format = Literal["json", "console"]


def resolve_format(fmt: str, interactive: bool) -> Format:
    """Return the renderer for a configured format: `auto` is console in a terminal
    (interactive) and JSON otherwise, so piped or collected logs stay machine-readable."""
    if fmt == "auto":
        return "console" if interactive else "json"
    return "console" if fmt == "console" else "json"


_ALEMBIC_BOILERPLATE = ("Context impl ", "Will assume ")


def _quiet_alembic(record: logging.LogRecord) -> bool:
    """Drop the two lines alembic logs on every connection; keep its "Running upgrade"."""
    return not (
        record.name == "alembic.runtime.migration"
        and isinstance(record.msg, str)
        and record.msg.startswith(_ALEMBIC_BOILERPLATE)
    )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    """Route structlog and the standard library's logging to stderr in one format
    (json, console, or auto: console when stderr is a terminal)."""
    terminal = _is_terminal(sys.stderr)
    console = resolve_format(fmt, terminal) == "console"
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=terminal)
        if console
        else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        # a person at a terminal reads local clock time; collected logs get UTC ISO 8601
        structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
        if console
        else structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_quiet_alembic)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    # uvicorn's access log repeats our request line; its error log is kept
    logging.getLogger("uvicorn.access").handlers.clear()
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
