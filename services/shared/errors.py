"""Domain errors, in plain Python (no grpc): the transport maps each to its gRPC status.

Every error carries a machine-readable ``reason`` (UPPER_SNAKE_CASE, AIP-193) and optional string
``metadata``; ``InvalidArgument`` also carries field violations (field paths such as
``records[3].due_time``). Messages are meant for the caller: never put a secret in one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


def record_field(index: int, field: str) -> str:
    """Field path of a record in a batch: ``records[3].due_time``."""
    return f"records[{index}].{field}" if field else f"records[{index}]"


class ChisoError(Exception):
    """Base of every error a caller should see as a non-INTERNAL status."""

    code_name = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        violations: list[FieldViolation] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.code_name
        self.metadata = dict(metadata or {})
        self.violations = list(violations or [])


class InvalidArgument(ChisoError):
    code_name = "INVALID_ARGUMENT"


class NotFound(ChisoError):
    code_name = "NOT_FOUND"


class AlreadyExists(ChisoError):
    code_name = "ALREADY_EXISTS"


class FailedPrecondition(ChisoError):
    code_name = "FAILED_PRECONDITION"


class PermissionDenied(ChisoError):
    code_name = "PERMISSION_DENIED"


class Unauthenticated(ChisoError):
    code_name = "UNAUTHENTICATED"


class ResourceExhausted(ChisoError):
    code_name = "RESOURCE_EXHAUSTED"


class Aborted(ChisoError):
    code_name = "ABORTED"


class Unavailable(ChisoError):
    code_name = "UNAVAILABLE"
