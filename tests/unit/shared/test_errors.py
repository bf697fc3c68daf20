"""Domain errors and their gRPC statuses (without a server)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2

from services.shared import errors
from services.shared.errors import FieldViolation, InvalidArgument, NotFound, record_field
from services.shared.grpc_errors import DOMAIN, internal_status, to_status

ROOT = Path(__file__).resolve().parents[3]


Decoded = tuple[status_pb2.Status, error_details_pb2.ErrorInfo, error_details_pb2.BadRequest]


def _decode(status: grpc.Status) -> Decoded:
    [(key, raw)] = status.trailing_metadata
    assert key == "grpc-status-details-bin"
    proto = status_pb2.Status.FromString(raw)
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    for d in proto.details:
        d.Unpack(info) if d.Is(info.DESCRIPTOR) else d.Unpack(bad)
    return proto, info, bad


def test_record_field_paths():
    assert record_field(3, "due_time") == "records[3].due_time"
    assert record_field(0, "") == "records[0]"
    assert record_field(2, "code", collection="units") == "units[2].code"


def test_reason_defaults_to_the_code_and_must_be_upper_snake_case():
    assert NotFound("x").reason == "NOT_FOUND"
    exc = NotFound("x", reason="UNIT_NOT_FOUND", metadata={"unit": "H25", "n": 3})
    assert exc.metadata == {"unit": "H25", "n": "3"}
    for bad in ("notFound", "NOT-FOUND", "_X", "X_", "A" * 64):
        with pytest.raises(ValueError, match="UPPER_SNAKE_CASE"):
            NotFound("x", reason=bad)


@pytest.mark.parametrize("name", [
    "InvalidArgument", "NotFound", "AlreadyExists", "FailedPrecondition", "PermissionDenied",
    "Unauthenticated", "ResourceExhausted", "Aborted", "Unavailable",
])
def test_each_error_has_its_code_and_error_info(name):
    cls = getattr(errors, name)
    code = grpc.StatusCode[re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()]
    status = to_status(cls("thông điệp", reason="SOME_REASON", metadata={"unit": "H25"}))
    assert (status.code, status.details) == (code, "thông điệp")
    proto, info, _ = _decode(status)
    assert proto.code == code.value[0]
    assert (info.reason, info.domain, dict(info.metadata)) == ("SOME_REASON", DOMAIN, {"unit": "H25"})


def test_invalid_argument_carries_bad_request():
    exc = InvalidArgument.for_field(record_field(3, "due_time"), "before received_time", reason="BAD_DUE")
    assert exc.message == "records[3].due_time: before received_time"
    _, info, bad = _decode(to_status(exc))
    assert info.reason == "BAD_DUE"
    got = [(v.field, v.description) for v in bad.field_violations]
    assert got == [("records[3].due_time", "before received_time")]


def test_huge_violation_lists_are_cut_to_fit_the_headers():
    violations = [FieldViolation(record_field(i, "due_time"), "trước tiếp nhận") for i in range(5000)]
    exc = InvalidArgument("lô bị từ chối " + "ệ" * 2000, reason="INVALID_RECORDS", violations=violations)
    status = to_status(exc)
    [(_, raw)] = status.trailing_metadata
    assert len(raw) < 4096
    assert len(status.details) <= 300
    _, info, bad = _decode(status)
    shown = len(bad.field_violations)
    assert 10 < shown < 5000
    assert bad.field_violations[0].field == "records[0].due_time"
    assert info.metadata["violations_total"] == "5000"
    assert info.metadata["violations_omitted"] == str(5000 - shown)


def test_internal_status_carries_only_the_error_id():
    status = internal_status("abc123")
    assert status.code == grpc.StatusCode.INTERNAL and status.details == "internal error (error id abc123)"
    proto, info, _ = _decode(status)
    assert proto.code == code_pb2.INTERNAL
    assert (info.reason, dict(info.metadata)) == ("INTERNAL", {"error_id": "abc123"})


def test_errors_module_imports_neither_grpc_nor_protobuf():
    code = (
        "import sys, services.shared.errors\n"
        "print([m for m in sys.modules if m.startswith(('grpc', 'google'))])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
