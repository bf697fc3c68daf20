"""Domain errors ↔ gRPC statuses with rich details (AIP-193).

Server side: ``to_status`` / ``abort_with`` turn a ``ChisoError`` into its canonical code plus a
``google.rpc.Status`` carrying ``ErrorInfo{reason, domain="chiso.gov.vn", metadata}`` and, for
``InvalidArgument``, a ``BadRequest`` listing field violations; ``internal_status`` is the only
status an unexpected error produces (an error id, never the exception's text).

Client side (tests, CLIs): ``details_from_rpc_error`` reads the details back.

The details travel in trailing metadata, which clients cap at 8 KiB by default, so the message and
the violation list are trimmed to fit; ErrorInfo then says how many violations were left out.
"""

from __future__ import annotations

from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.shared.errors import ChisoError, InvalidArgument

DOMAIN = "chiso.gov.vn"

MAX_MESSAGE_CHARS = 300
"""Longer messages are cut (the message is sent twice, percent-encoded, in the headers)."""
MAX_VIOLATION_BYTES = 3000
"""Budget for the serialized field violations; the rest are counted in ErrorInfo metadata."""


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bad_request(exc: InvalidArgument) -> tuple[error_details_pb2.BadRequest, int]:
    """The violations that fit the budget, and how many were left out."""
    bad = error_details_pb2.BadRequest()
    used = 0
    for n, v in enumerate(exc.violations):
        fv = error_details_pb2.BadRequest.FieldViolation(
            field=_trim(v.field, 200), description=_trim(v.description, 200)
        )
        used += fv.ByteSize() + 4
        if used > MAX_VIOLATION_BYTES:
            return bad, len(exc.violations) - n
        bad.field_violations.append(fv)
    return bad, 0


def to_status(exc: ChisoError) -> grpc.Status:
    """The gRPC status (code, message, rich details) for a domain error."""
    code = getattr(code_pb2, exc.code_name, code_pb2.UNKNOWN)
    metadata = dict(exc.metadata)
    details = []
    if isinstance(exc, InvalidArgument) and exc.violations:
        bad, omitted = _bad_request(exc)
        if omitted:
            metadata["violations_total"] = str(len(exc.violations))
            metadata["violations_omitted"] = str(omitted)
        details.append(_pack(bad))
    info = error_details_pb2.ErrorInfo(reason=exc.reason, domain=DOMAIN, metadata=metadata)
    details.insert(0, _pack(info))
    status = status_pb2.Status(code=code, message=_trim(exc.message, MAX_MESSAGE_CHARS), details=details)
    return rpc_status.to_status(status)


def abort_with(context: grpc.ServicerContext, exc: ChisoError) -> NoReturn:
    """End the call with the status of ``exc`` (raises, as ``context.abort`` does)."""
    context.abort_with_status(to_status(exc))
    raise AssertionError("unreachable: abort_with_status raises")  # pragma: no cover


def internal_status(error_id: str) -> grpc.Status:
    """INTERNAL with only an error id (``ErrorInfo.metadata["error_id"]``) for operators to find the
    logged traceback; nothing of the exception itself."""
    info = error_details_pb2.ErrorInfo(reason="INTERNAL", domain=DOMAIN, metadata={"error_id": error_id})
    status = status_pb2.Status(
        code=code_pb2.INTERNAL, message=f"internal error (error id {error_id})", details=[_pack(info)]
    )
    return rpc_status.to_status(status)


def details_from_rpc_error(
    err: grpc.RpcError,
) -> tuple[error_details_pb2.ErrorInfo | None, error_details_pb2.BadRequest | None]:
    """(ErrorInfo, BadRequest) carried by a failed call; ``None`` for each one absent."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]  # a failed call is a grpc.Call
    info = bad = None
    if status is None:
        return None, None
    for detail in status.details:
        if info is None and detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif bad is None and detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
    return info, bad
