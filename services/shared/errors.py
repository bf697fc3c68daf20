"""Domain errors, in plain Python (no grpc, no protobuf): the transport maps each to a gRPC status.

Every error carries a caller-facing ``message``, a machine-readable ``reason`` (UPPER_SNAKE_CASE,
unique within the ``chiso.gov.vn`` domain, AIP-193) and optional string ``metadata``;
``InvalidArgument`` also carries field violations whose paths name the record and field, such as
``records[3].due_time``. Messages and metadata are sent to the caller: never put a secret in them.

The gRPC status of each class is its ``code_name`` (the name of a ``grpc.StatusCode``); mapping
happens in ``services.shared.grpc_errors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_REASON = re.compile(r"[A-Z][A-Z0-9_]{0,61}[A-Z0-9]")


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request: ``field`` is a path (``records[3].due_time``), ``description``
    says what is wrong in words the caller can act on."""

    field: str
    description: str


def record_field(index: int, field: str = "", collection: str = "records") -> str:
    """Path of a field of the ``index``-th element of a repeated field.

    >>> record_field(3, "due_time")
    'records[3].due_time'
    >>> record_field(3, "")
    'records[3]'
    """
    base = f"{collection}[{index}]"
    return f"{base}.{field}" if field else base


class ChisoError(Exception):
    """Base of every error a caller should see with its own status (never INTERNAL).

    ``reason`` defaults to the class's ``code_name``; ``metadata`` is a plain, mutable ``dict`` so a
    layer that knows more (for instance the index of a stream message) can add to it before
    re-raising.
    """

    code_name = "UNKNOWN"

    def __init__(
        self, message: str, *, reason: str = "", metadata: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.code_name
        if not _REASON.fullmatch(self.reason):
            raise ValueError(f"error reason must be UPPER_SNAKE_CASE, at most 63 characters: {self.reason!r}")
        self.metadata: dict[str, str] = {str(k): str(v) for k, v in (metadata or {}).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, reason={self.reason!r})"


class InvalidArgument(ChisoError):
    """The request itself is wrong, whatever the system's state; ``violations`` say where."""

    code_name = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        reason: str = "",
        metadata: Mapping[str, object] | None = None,
        violations: Iterable[FieldViolation] = (),
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations: list[FieldViolation] = list(violations)

    @classmethod
    def for_field(cls, field: str, description: str, *, reason: str = "") -> InvalidArgument:
        """A single-field error whose message is the field and its description."""
        return cls(f"{field}: {description}", reason=reason, violations=[FieldViolation(field, description)])


class NotFound(ChisoError):
    """A named resource does not exist (or is not visible to this caller)."""

    code_name = "NOT_FOUND"


class AlreadyExists(ChisoError):
    """The resource to create exists already (or a request id was reused for another request)."""

    code_name = "ALREADY_EXISTS"


class FailedPrecondition(ChisoError):
    """The system is not in a state that allows the operation; retrying as-is will not help."""

    code_name = "FAILED_PRECONDITION"


class PermissionDenied(ChisoError):
    """The caller is known but may not do this (for instance, write for a unit outside its grant)."""

    code_name = "PERMISSION_DENIED"


class Unauthenticated(ChisoError):
    """No valid credential came with the call."""

    code_name = "UNAUTHENTICATED"


class ResourceExhausted(ChisoError):
    """A quota or size limit was hit."""

    code_name = "RESOURCE_EXHAUSTED"


class Aborted(ChisoError):
    """A concurrency conflict (for instance a lost optimistic lock); retry the whole operation."""

    code_name = "ABORTED"


class Unavailable(ChisoError):
    """A dependency is down for now; the caller may retry with backoff (AIP-194)."""

    code_name = "UNAVAILABLE"
