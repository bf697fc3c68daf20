"""Typed settings from environment variables — one frozen dataclass per service.

``load_settings(IngestSettings, "CHISO_INGEST_")`` reads ``CHISO_INGEST_<FIELD>`` and falls back to
``CHISO_<FIELD>`` (so ``CHISO_DATABASE_URL`` serves every service), then to the field's default.
A bad value raises ``ConfigError`` naming the variable; values of secret-looking settings are never
echoed.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
_SECRETISH = ("token", "secret", "password", "key", "dsn", "url")


class ConfigError(ValueError):
    """A setting could not be read."""


@dataclass(frozen=True)
class CommonSettings:
    database_url: str = field(
        default="sqlite:///var/chiso.db",
        metadata={"doc": "SQLAlchemy URL: a SQLite file (embedded) or postgresql+psycopg://…"},
    )
    host: str = field(default="127.0.0.1", metadata={"doc": "address to listen on (0.0.0.0 in containers)"})
    port: int = field(default=0, metadata={"doc": "gRPC port (0 = any free port)"})
    metrics_port: int = field(default=0, metadata={"doc": "Prometheus port (0 = any free port, -1 = off)"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG, INFO, WARNING or ERROR"})
    max_message_bytes: int = field(default=16 * 1024 * 1024, metadata={"doc": "largest gRPC message accepted"})
    grace_seconds: float = field(default=10.0, metadata={"doc": "drain time on SIGTERM"})
    max_workers: int = field(default=16, metadata={"doc": "gRPC worker threads"})
    max_concurrent_rpcs: int = field(
        default=256, metadata={"doc": "calls in flight before RESOURCE_EXHAUSTED"}
    )


def _is_secret(name: str) -> bool:
    return any(s in name.lower() for s in _SECRETISH)


def _convert(raw: str, kind: Any, var: str, name: str) -> Any:
    shown = "(value hidden)" if _is_secret(name) else repr(raw)
    try:
        if kind is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError("not a boolean")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if typing.get_origin(kind) is tuple:
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        return raw
    except ValueError as exc:
        raise ConfigError(f"{var}: cannot read {shown} as {getattr(kind, '__name__', kind)}") from exc


def load_settings(cls: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        for var in (f"{prefix}{f.name.upper()}", f"CHISO_{f.name.upper()}"):
            if var in env:
                values[f.name] = _convert(env[var], hints[f.name], var, f.name)
                break
    return cls(**values)


def describe_settings(cls: type, prefix: str) -> list[tuple[str, str, str, str]]:
    """(variable, type, default, description) rows, for the README."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        rows.append(
            (f"{prefix}{f.name.upper()}", getattr(kind, "__name__", str(kind)), repr(f.default),
             f.metadata.get("doc", ""))
        )
    return rows
