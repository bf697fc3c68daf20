"""Structured JSON logs: one line per event, on stdout, for every service.

- UTF-8 with Vietnamese diacritics intact (``ensure_ascii=False``), ISO-8601 UTC timestamps.
- Ids bound with ``structlog.contextvars.bind_contextvars`` (request_id, batch_id, source, unit …)
  appear on every line logged while they are bound; the request-context interceptor gives each
  call its own context, so nothing leaks from one call to the next.
- Secrets never reach the stream: values of secret-looking keys are replaced, and bearer tokens,
  chiso tokens and URL passwords inside any string (messages, tracebacks) are scrubbed.
- Standard-library ``logging`` records (grpc, SQLAlchemy, Alembic …) go through the same pipeline.

``configure_logging`` is idempotent: tests call it again with their own stream.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["REDACTED", "configure_logging", "get_logger", "redact"]

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"token|secret|password|authorization|private_key|dsn|database_url", re.I)
_NOT_SECRET_KEYS = frozenset({"token_id"})  # the public half of a chiso token names it in audit lines
_SCRUBBERS = (
    (re.compile(r"\b(Bearer)\s+[^\s\"',;]+", re.I), r"\1 " + REDACTED),
    (re.compile(r"(://[^\s:/@]*:)[^\s@/]+@"), r"\1" + REDACTED + "@"),  # scheme://user:password@host
    (re.compile(r"\b(chiso_[0-9a-f]{6,}_)[A-Za-z0-9_\-]+"), r"\1" + REDACTED),  # chiso_<id>_<secret>
)
_HANDLER_MARK = "_chiso_json_handler"


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key not in _NOT_SECRET_KEYS and _SECRET_KEY.search(key) is not None


def _scrub(value: Any) -> Any:
    """``value`` with secrets hidden; containers are copied, never changed in place."""
    if isinstance(value, str):
        for pattern, replacement in _SCRUBBERS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_secret_key(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """structlog processor: hide values of secret-looking keys (at any depth) and secrets inside
    strings (bearer tokens, chiso tokens, URL passwords)."""
    for key, value in event.items():
        event[key] = REDACTED if _is_secret_key(key) else _scrub(value)
    return event


def _add_service(service: str) -> Processor:
    def add_service(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add_service


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that knows the name it was asked for (``structlog.stdlib.add_logger_name``
    reads ``.name``)."""

    def __init__(self, file: TextIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self._file, str(args[0]) if args else None)


def _add_logger_name(logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    name = getattr(logger, "name", None)
    if name:
        event.setdefault("logger", name)
    return event


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send structlog and standard-library logs, as JSON lines, to ``stream`` (default stdout).

    ``level`` is a standard level name (DEBUG, INFO, WARNING, ERROR, CRITICAL). Safe to call again:
    the last call wins and no handler is added twice.
    """
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    out = stream if stream is not None else sys.stdout
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_service(service),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    render: list[Processor] = [
        structlog.processors.format_exc_info,
        redact,
        structlog.processors.JSONRenderer(ensure_ascii=False),
    ]
    structlog.configure(
        processors=[*shared, _add_logger_name, *render],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_NamedWriteLoggerFactory(out),
        context_class=dict,
        cache_logger_on_first_use=False,  # so a later configure_logging (tests) takes effect everywhere
    )

    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
        )
    )
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)


def get_logger(name: str) -> Any:
    """A structlog logger whose lines carry ``logger=name``."""
    return structlog.get_logger(name)
