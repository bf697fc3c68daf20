"""Map domain errors to gRPC statuses with ``google.rpc.Status`` details, and read them back."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.shared.errors import ChisoError

DOMAIN = "chiso.gov.vn"


def to_status(exc: ChisoError) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=exc.reason, domain=DOMAIN, metadata=exc.metadata))
    details = [detail]
    if exc.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad)
        details.append(packed)
    status = status_pb2.Status(code=code_pb2.Code.Value(exc.code_name), message=exc.message, details=details)
    return rpc_status.to_status(status)


def internal_status(error_id: str) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=DOMAIN, metadata={"error_id": error_id}))
    status = status_pb2.Status(
        code=code_pb2.INTERNAL, message=f"internal error (error id {error_id})", details=[detail]
    )
    return rpc_status.to_status(status)


def details_from_rpc_error(
    err: grpc.RpcError,
) -> tuple[error_details_pb2.ErrorInfo | None, error_details_pb2.BadRequest | None]:
    """(ErrorInfo, BadRequest) carried by a failed call, for clients and tests."""
    status = rpc_status.from_call(err)
    info = bad = None
    if status is None:
        return None, None
    for d in status.details:
        if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            d.Unpack(info)
        elif d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            d.Unpack(bad)
    return info, bad
