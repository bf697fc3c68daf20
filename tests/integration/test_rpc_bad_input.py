"""Never INTERNAL for a client's bad input (issue 15, item 4), through the real servers.

Bytes that are not the request message, on every RPC of every service: INVALID_ARGUMENT with reason
MALFORMED_REQUEST (the message type in ErrorInfo), and no traceback in the logs.
"""

from __future__ import annotations

import logging
import random

import grpc
import pytest
from google.protobuf.message import DecodeError

from services.shared.grpc_errors import details_from_rpc_error
from tests.conftest import make_db_url
from tests.helpers import auth
from tests.rpc_suite import SERVICES, methods, path, request_class, running_suite


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bad-input")
    gen = make_db_url("sqlite", workdir)
    url = next(gen)
    with running_suite(url, workdir) as s:
        yield s


def _unparsable(cls, rng: random.Random) -> list[bytes]:
    """Payloads that do not parse as ``cls``: the issue's bytes, truncations, random bytes."""
    valid = cls()
    # a message with every top-level string set, to truncate mid-field
    candidates = [b"\x0a\x02\xff\xfe", b"\x0a\x05ab", b"\x12\x80", b"\xff\xff\xff\xff\xff", b"\x08\x80\x80\x80"]
    for f in cls.DESCRIPTOR.fields:
        if f.type == f.TYPE_STRING and not f.is_repeated:
            setattr(valid, f.name, "Sở Tư pháp tỉnh Phú Thọ")
    data = valid.SerializeToString()
    candidates += [data[:-1], data[: len(data) // 2]] if data else []
    candidates += [rng.randbytes(rng.randint(1, 64)) for _ in range(20)]
    out = []
    for payload in candidates:
        try:
            cls.FromString(payload)
        except DecodeError:
            out.append(payload)
    return out[:8]


ALL_METHODS = [m for service in SERVICES for m in methods(service)]


@pytest.mark.parametrize("method", ALL_METHODS, ids=path)
def test_bytes_that_are_not_the_request_are_invalid_argument_without_a_traceback(suite, method, caplog):
    rng = random.Random(path(method))
    cls = request_class(method)
    payloads = _unparsable(cls, rng)
    assert len(payloads) >= 3
    caplog.set_level(logging.DEBUG)
    # a request stream is read after authentication: without a token it is UNAUTHENTICATED first
    for token in (suite.tokens.operator, *(() if method.client_streaming else (None,))):
        for payload in payloads:
            metadata = auth(token) if token else ()
            code, err = suite.invoke(method, [payload], metadata=metadata, timeout=30)
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (payload, code, err and err.details())
            info, _ = details_from_rpc_error(err)
            assert info is not None and info.reason == "MALFORMED_REQUEST", err.details()
            assert info.metadata["message_type"] == method.input_type.full_name
    tracebacks = [r for r in caplog.records if r.exc_info or "deserializ" in r.getMessage().lower()]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
