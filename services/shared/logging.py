"""Structured JSON logs (structlog): one line per event, UTF-8 with Vietnamese diacritics intact,
zone-aware timestamps, request/batch/source ids bound through context variables, secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, TextIO

import structlog

_SECRET_KEYS = re.compile(r"token|secret|password|authorization|private_key|dsn|database_url", re.I)
_BEARER = re.compile(r"(Bearer\s+)\S+", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_TOKEN = re.compile(r"chiso_[0-9a-f]{6,}_[A-Za-z0-9_\-]+")
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        value = _BEARER.sub(r"\1" + REDACTED, value)
        value = _URL_PASSWORD.sub(r"\1" + REDACTED + "@", value)
        return _TOKEN.sub(REDACTED, value)
    return value


def redact(_logger, _name, event: dict) -> dict:
    for key in list(event):
        if _SECRET_KEYS.search(key) and key != "token_id":
            event[key] = REDACTED
        else:
            event[key] = _scrub(event[key])
    return event


def _dumps(obj, **kw) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, **kw)


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Set up structlog (and the standard library's logging) for one process. Idempotent."""
    out = stream or sys.stdout
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    def add_service(_logger, _name, event: dict) -> dict:
        event.setdefault("service", service)
        return event

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_service,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=False),
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)


def get_logger(name: str):
    return structlog.get_logger(name)
