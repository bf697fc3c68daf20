"""The shared runtime through a real server: health, reflection, request ids, logs, errors, metrics."""

from __future__ import annotations

import io
import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import REGISTRY

from services.shared.config import CommonSettings
from services.shared.errors import FieldViolation, InvalidArgument, PermissionDenied, Unauthenticated
from services.shared.grpc_errors import details_from_rpc_error
from services.shared.grpc_server import create_server
from services.shared.interceptors import Principal, current_principal
from services.shared.logging import configure_logging, get_logger

SERVICE = "chiso.test.v1.EchoService"


def _behaviours():
    log = get_logger("test")

    def echo(request: bytes, context):
        log.info("echo", unit="Sở Tư pháp tỉnh Phú Thọ", token="chiso_abcdef012345_SECRETSECRET",
                 note="Authorization: Bearer abc.def.ghi and postgresql://u:pw@db/x")
        principal = current_principal()
        return request + b"|" + (principal.id.encode() if principal else b"-")

    def invalid(request, context):
        raise InvalidArgument("bad record", reason="INVALID_RECORDS",
                              violations=[FieldViolation("records[3].due_time", "before received_time")])

    def crash(request, context):
        raise RuntimeError("database password is hunter2")

    def stream(request, context):
        yield b"1"
        yield b"2"
        raise PermissionDenied("no more for you", reason="OUT_OF_GRANT")

    ident = (lambda b: b)
    return grpc.method_handlers_generic_handler(SERVICE, {
        "Echo": grpc.unary_unary_rpc_method_handler(echo, ident, ident),
        "Invalid": grpc.unary_unary_rpc_method_handler(invalid, ident, ident),
        "Crash": grpc.unary_unary_rpc_method_handler(crash, ident, ident),
        "Stream": grpc.unary_stream_rpc_method_handler(stream, ident, ident),
        "Public": grpc.unary_unary_rpc_method_handler(echo, ident, ident),
    })


def _authenticate(method, md):
    header = md.get("authorization", "")
    if header != "Bearer good-token":
        raise Unauthenticated("missing or bad token", reason="BAD_TOKEN")
    return Principal(kind="operator", id="ops")


@pytest.fixture
def server():
    stream = io.StringIO()
    configure_logging("test", "INFO", stream=stream)
    settings = CommonSettings(port=0, metrics_port=-1)
    handle = create_server(
        name="echo", settings=settings,
        services=[(lambda servicer, srv: srv.add_generic_rpc_handlers((servicer,)), _behaviours(), SERVICE)],
        authenticate=_authenticate, public_methods=[f"/{SERVICE}/Public"],
    )
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    yield handle, channel, stream
    channel.close()
    handle.stop(0)


def call(channel, name, payload=b"x", metadata=(("authorization", "Bearer good-token"),)):
    return channel.unary_unary(f"/{SERVICE}/{name}")(payload, metadata=metadata, timeout=10)


def test_health_serving_then_not_serving(server):
    handle, channel, _ = server
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE):
        assert stub.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING
    handle.health.set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)  # what stop() does first
    assert stub.Check(health_pb2.HealthCheckRequest(service=SERVICE)).status == \
        health_pb2.HealthCheckResponse.NOT_SERVING


def test_reflection_lists_services(server):
    _, channel, _ = server
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


def test_request_id_echoed_and_logged_as_utf8_json_without_secrets(server):
    _, channel, stream = server
    fn = channel.unary_unary(f"/{SERVICE}/Echo")
    reply, call_ = fn.with_call(b"hi", metadata=(("authorization", "Bearer good-token"), ("x-request-id", "req-766")))
    assert reply == b"hi|ops"
    assert ("x-request-id", "req-766") in call_.initial_metadata()
    text = stream.getvalue()
    assert "Sở Tư pháp tỉnh Phú Thọ" in text  # not \u-escaped
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    echo = next(e for e in events if e["event"] == "echo")
    assert echo["request_id"] == "req-766" and echo["principal"] == "ops" and echo["service"] == "test"
    assert echo["token"] == "[redacted]"
    for secret in ("SECRETSECRET", "abc.def.ghi", ":pw@", "good-token"):
        assert secret not in text
    rpc_line = next(e for e in events if e["event"] == "rpc")
    assert rpc_line["code"] == "OK" and rpc_line["request_id"] == "req-766"


def test_missing_token_is_unauthenticated_and_public_method_is_open(server):
    _, channel, _ = server
    with pytest.raises(grpc.RpcError) as err:
        call(channel, "Echo", metadata=())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert details_from_rpc_error(err.value)[0].reason == "BAD_TOKEN"
    assert call(channel, "Public", metadata=()) == b"x|-"


def test_invalid_argument_carries_bad_request(server):
    _, channel, _ = server
    with pytest.raises(grpc.RpcError) as err:
        call(channel, "Invalid")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info, bad = details_from_rpc_error(err.value)
    assert info.reason == "INVALID_RECORDS" and info.domain == "chiso.gov.vn"
    assert [(v.field, v.description) for v in bad.field_violations] == [("records[3].due_time", "before received_time")]


def test_unexpected_error_is_internal_without_its_message(server):
    _, channel, stream = server
    with pytest.raises(grpc.RpcError) as err:
        call(channel, "Crash")
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "hunter2" not in err.value.details()
    info, _ = details_from_rpc_error(err.value)
    assert info.metadata["error_id"] in stream.getvalue()  # the operator can find the traceback


def test_error_in_a_stream_is_mapped(server):
    _, channel, _ = server
    it = channel.unary_stream(f"/{SERVICE}/Stream")(b"", metadata=(("authorization", "Bearer good-token"),))
    got = []
    with pytest.raises(grpc.RpcError) as err:
        for item in it:
            got.append(item)
    assert got == [b"1", b"2"]
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_metrics_count_calls_by_code(server):
    _, channel, _ = server

    def value(code):
        return REGISTRY.get_sample_value(
            "chiso_grpc_requests_total", {"service": "echo", "method": "Invalid", "code": code}) or 0

    before = value("INVALID_ARGUMENT")
    with pytest.raises(grpc.RpcError):
        call(channel, "Invalid")
    assert value("INVALID_ARGUMENT") == before + 1


def test_expired_deadline_is_refused(server):
    _, channel, _ = server
    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary(f"/{SERVICE}/Echo")(b"", metadata=(("authorization", "Bearer good-token"),),
                                                 timeout=0.000001)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
