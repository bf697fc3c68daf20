"""Opaque page tokens (AIP-158): a position plus a fingerprint of the request's filters, so a token
used with other filters is refused instead of silently paging something else."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from services.shared.errors import FieldViolation, InvalidArgument


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(position: Any, fp: str) -> str:
    raw = json.dumps([fp, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_TOKEN_CHARS = 4096
"""Longer page tokens are refused unread (no token this service gives comes near)."""
_MAX_INT = 2**63 - 1  # positions are database integers (BIGINT)
_MAX_TEXT = 512


def _scalar_ok(value: Any, kind: type) -> bool:
    if kind is int:
        return type(value) is int and 0 <= value <= _MAX_INT
    return type(value) is str and len(value) <= _MAX_TEXT and "\x00" not in value


def _position_ok(position: Any, shape: type | tuple[type, ...] | None) -> bool:
    if shape is None:  # any flat position of database-sized numbers and strings
        items = position if isinstance(position, list) else [position]
        return all(_scalar_ok(v, int) or _scalar_ok(v, str) for v in items)
    if isinstance(shape, tuple):
        return (isinstance(position, list) and len(position) == len(shape)
                and all(_scalar_ok(v, k) for v, k in zip(position, shape, strict=True)))
    return _scalar_ok(position, shape)


def decode_token(token: str, fp: str, field: str = "page_token",
                 shape: type | tuple[type, ...] | None = None) -> Any:
    """The position in ``token``, or None for an empty token; InvalidArgument for a foreign one, and
    for one whose position is not what this request's tokens hold: ``shape`` is ``int`` or ``str``
    for a single value, a tuple of them for a list of that length (unset: a flat list of
    non-negative 64-bit integers and strings). Never more than the token's text is read: a
    forged token cannot make the service recurse, overflow a database integer or carry a NUL."""
    if not token:
        return None
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError
        got, position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if got != fp or not _position_ok(position, shape):
            raise ValueError
        return position
    except (ValueError, TypeError, RecursionError):
        raise InvalidArgument(f"{field} does not belong to this request", reason="BAD_PAGE_TOKEN",
                              violations=[FieldViolation(field, "not from a previous page of this request")]) from None


def page_size(requested: int, default: int, maximum: int, field: str = "page_size") -> int:
    if requested < 0:
        raise InvalidArgument(f"{field} must not be negative", reason="BAD_PAGE_SIZE",
                              violations=[FieldViolation(field, "negative")])
    return min(requested or default, maximum)


def encode_cursor(seq: int) -> str:
    """Cursor of the change feed: opaque to clients, a committed sequence number inside."""
    return base64.urlsafe_b64encode(f"c1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "cursor") -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, number = text.partition(":")
        if len(cursor) > 64 or tag != "c1" or not (number.isascii() and number.isdigit()):
            raise ValueError
        seq = int(number)
        if seq > _MAX_INT:
            raise ValueError
        return seq
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"{field} is not a cursor this service gave", reason="BAD_CURSOR",
                              violations=[FieldViolation(field, "malformed")]) from None
