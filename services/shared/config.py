"""Typed settings from environment variables: one frozen dataclass per service.

``load_settings(IngestSettings, "CHISO_INGEST_")`` reads ``CHISO_INGEST_<FIELD>`` for every field;
fields common to all services (those of ``CommonSettings``) fall back to ``CHISO_<FIELD>``, so one
``CHISO_DATABASE_URL`` serves every service; otherwise the field's default applies.

Values are converted by annotation: ``str``, ``int``, ``float``, ``bool`` (1/true/yes/on,
0/false/no/off), ``tuple[str, ...]`` (comma-separated) and ``X | None`` (empty means ``None``).
A bad value raises ``ConfigError`` naming the variable; the values of settings whose name looks
secret (token, secret, password, key, dsn, url — database URLs carry passwords) are never echoed.

Settings docs live on the fields (``metadata={"doc": ...}``); ``describe_settings`` lists them for
the README.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "CommonSettings", "ConfigError", "SettingDoc", "check_setting", "describe_settings", "load_settings",
    "settings_or_exit",
]

S = TypeVar("S")
SHARED_PREFIX = "CHISO_"
_SECRETISH = ("token", "secret", "password", "key", "dsn", "url")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


class ConfigError(ValueError):
    """A setting is missing its right form; the message names the variable (or field)."""


@dataclass(frozen=True)
class CommonSettings:
    """Settings every service has. Subclass (also frozen) to add a service's own."""

    database_url: str = field(
        default="sqlite:///var/chiso.db",
        metadata={"doc": "SQLAlchemy URL: a SQLite file (embedded) or postgresql+psycopg://…"},
    )
    host: str = field(default="127.0.0.1", metadata={"doc": "address to listen on (0.0.0.0 in containers)"})
    port: int = field(default=0, metadata={"doc": "gRPC port (0 = any free port)"})
    metrics_port: int = field(default=0, metadata={"doc": "Prometheus port (0 = any free port, -1 = off)"})
    log_level: str = field(default="INFO", metadata={"doc": "DEBUG, INFO, WARNING or ERROR"})
    max_message_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata={"doc": "largest gRPC message accepted (larger: RESOURCE_EXHAUSTED)"},
    )
    grace_seconds: float = field(default=10.0, metadata={"doc": "drain time for in-flight calls on SIGTERM"})
    max_workers: int = field(default=16, metadata={"doc": "gRPC worker threads"})
    max_concurrent_rpcs: int = field(
        default=256, metadata={"doc": "calls in flight before new ones get RESOURCE_EXHAUSTED"}
    )
    max_streams: int = field(default=16, metadata={
        "doc": "streaming calls served at once, on threads of their own (more: RESOURCE_EXHAUSTED)"})
    max_streams_per_caller: int = field(default=4, metadata={
        "doc": "streams at once per principal (callers without a credential: per address)"})
    max_anonymous_streams: int = field(default=8, metadata={
        "doc": "streams at once of all callers without a credential together"})
    stream_idle_seconds: float = field(default=60.0, metadata={
        "doc": "a stream waiting this long on its client (next message, or taking a response) is ended"})

    def __post_init__(self) -> None:
        check_setting(0 <= self.port <= 65535, "port", "must be 0–65535")
        check_setting(-1 <= self.metrics_port <= 65535, "metrics_port", "must be -1–65535")
        levels = ", ".join(sorted(_LOG_LEVELS))
        check_setting(self.log_level.upper() in _LOG_LEVELS, "log_level", f"must be one of {levels}")
        check_setting(self.max_message_bytes > 0, "max_message_bytes", "must be positive")
        check_setting(self.grace_seconds >= 0, "grace_seconds", "must not be negative")
        check_setting(self.max_workers >= 1, "max_workers", "must be at least 1")
        check_setting(self.max_concurrent_rpcs >= 1, "max_concurrent_rpcs", "must be at least 1")
        check_setting(self.max_streams >= 1, "max_streams", "must be at least 1")
        check_setting(1 <= self.max_streams_per_caller <= self.max_streams, "max_streams_per_caller",
                      "must be 1 to max_streams")
        check_setting(0 <= self.max_anonymous_streams <= self.max_streams, "max_anonymous_streams",
                      "must be 0 to max_streams")
        check_setting(self.stream_idle_seconds > 0, "stream_idle_seconds", "must be positive")


class _FieldError(ConfigError):
    """Raised by validation, which knows the field but not the variable it came from."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field_name = field_name
        self.problem = problem


def check_setting(ok: bool, field_name: str, problem: str) -> None:
    """For ``__post_init__`` validation: raise ConfigError for ``field_name`` unless ``ok``
    (``load_settings`` then names the variable the value came from)."""
    if not ok:
        raise _FieldError(field_name, problem)


class SettingDoc(NamedTuple):
    """One row of the settings table."""

    variable: str
    type: str
    default: str
    doc: str


def _is_secret(name: str) -> bool:
    low = name.lower()
    return any(s in low for s in _SECRETISH)


def _optional_inner(kind: Any) -> Any | None:
    """``X`` for ``X | None``, else ``None``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(kind)) == 2:
            return args[0]
    return None


def _type_name(kind: Any) -> str:
    inner = _optional_inner(kind)
    if inner is not None:
        return f"{_type_name(inner)} | None"
    if typing.get_origin(kind) is tuple:
        return "tuple[str, ...]"
    return getattr(kind, "__name__", str(kind))


def _convert(raw: str, kind: Any) -> Any:
    """``raw`` as a ``kind``; ValueError with a value-free reason when it is not one."""
    inner = _optional_inner(kind)
    if inner is not None:
        return None if raw.strip() == "" else _convert(raw, inner)
    if kind is str:
        return raw
    if kind is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("expected one of 1/true/yes/on or 0/false/no/off")
    if kind is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise ValueError("expected an integer") from None
    if kind is float:
        try:
            return float(raw.strip())
        except ValueError:
            raise ValueError("expected a number") from None
    if typing.get_origin(kind) is tuple and typing.get_args(kind) in ((str, ...), ()):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    raise TypeError(f"unsupported setting type {kind!r}")


def _variables(cls: type, name: str, prefix: str) -> tuple[str, ...]:
    """The variables read for field ``name``, in order of precedence."""
    own = f"{prefix}{name.upper()}"
    common = {f.name for f in dataclasses.fields(CommonSettings)}
    if issubclass(cls, CommonSettings) and name in common and prefix != SHARED_PREFIX:
        return own, f"{SHARED_PREFIX}{name.upper()}"
    return (own,)


def load_settings(cls: type[S], prefix: str, environ: Mapping[str, str] | None = None) -> S:
    """Build the dataclass ``cls`` from ``environ`` (default ``os.environ``); see the module doc."""
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        for var in _variables(cls, f.name, prefix):
            if var not in env:
                continue
            raw = env[var]
            try:
                values[f.name] = _convert(raw, hints[f.name])
            except ValueError as exc:
                shown = "" if _is_secret(f.name) else f" (got {raw!r})"
                raise ConfigError(f"{var}: {exc}{shown}") from None
            source[f.name] = var
            break
    try:
        return cls(**values)
    except _FieldError as exc:
        var = source.get(exc.field_name, f"{prefix}{exc.field_name.upper()}")
        raise ConfigError(f"{var}: {exc.problem}") from None


def settings_or_exit(cls: type[S], prefix: str, prog: str) -> S:
    """``load_settings`` for a program's ``main``: a bad setting ends the program with one line on
    standard error naming the variable (``chiso-ingest: configuration error: CHISO_INGEST_PORT:
    expected an integer (got 'abc')``) and exit status 2, not a traceback."""
    try:
        return load_settings(cls, prefix)
    except ConfigError as exc:
        print(f"{prog}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def describe_settings(cls: type, prefix: str) -> list[SettingDoc]:
    """(variable, type, default, doc) rows, for the README; a shared fallback is named in the doc."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        if isinstance(default, tuple):
            shown = ",".join(str(x) for x in default)
        elif isinstance(default, bool):
            shown = str(default).lower()
        else:
            shown = "" if default is None else str(default)
        own, *fallback = _variables(cls, f.name, prefix)
        doc = f.metadata.get("doc", "")
        if fallback:
            doc = f"{doc} (or {fallback[0]})" if doc else f"or {fallback[0]}"
        rows.append(SettingDoc(own, _type_name(hints[f.name]), shown, doc))
    return rows
