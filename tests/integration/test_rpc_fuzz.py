"""Fuzzing every RPC of every service through the real servers (issue 15, item 4), the quick part:
a few hundred calls (``make fuzz`` runs ≥ 10,000 per service). No call may end INTERNAL, UNKNOWN or
DATA_LOSS, whatever the bytes, timestamps, cursors, tokens or strings."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import make_db_url
from tests.fuzzing import SERVER_FAULTS, calls, metadata
from tests.rpc_suite import SERVICES, running_suite


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    url = next(make_db_url("sqlite", workdir))
    with running_suite(url, workdir) as s:
        yield s


@pytest.mark.parametrize("service", list(SERVICES))
def test_no_request_makes_a_service_fail_internally(suite, service):
    @settings(max_examples=75, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(call=calls(service))
    def one(call):
        method, payloads, who = call
        code, err = suite.invoke(method, payloads, metadata=metadata(suite, who), timeout=15, stream_messages=2)
        assert code.name not in SERVER_FAULTS, (method.full_name, payloads, who, err and err.details())

    one()
