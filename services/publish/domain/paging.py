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


def decode_token(token: str, fp: str, field: str = "page_token") -> Any:
    """The position in ``token``, or None for an empty token; InvalidArgument for a foreign one."""
    if not token:
        return None
    try:
        got, position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if got != fp:
            raise ValueError
        return position
    except (ValueError, TypeError):
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
        seq = int(number)
        if tag != "c1" or seq < 0 or not number.isdigit():
            raise ValueError
        return seq
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"{field} is not a cursor this service gave", reason="BAD_CURSOR",
                              violations=[FieldViolation(field, "malformed")]) from None
