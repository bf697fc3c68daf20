"""A few idle clients must not take a service down (issue 15, item 3; OWASP API4), through the real
servers.

64 ``StreamSync`` calls that send nothing, on one source's token, and 64 anonymous ``StreamChanges``
calls that read nothing, from the start of a feed of 3,000 live scorecards: health and ordinary calls
still answer within a 1 s deadline; the streams past the limits are refused with RESOURCE_EXHAUSTED
(reason TOO_MANY_STREAMS); the admitted ones are ended once idle; memory stays bounded.
"""

from __future__ import annotations

import json
import threading
import time

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as ppb
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY
from sqlalchemy import insert, select, update

from services.publish.tables import publish_changes, publish_state
from services.shared.grpc_errors import details_from_rpc_error
from tests.conftest import make_db_url
from tests.helpers import auth, unit_record
from tests.rpc_suite import running_suite

IDLE_SECONDS = 3.0
FEED_CHANGES = 3000


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def suite(tmp_path):
    url = next(make_db_url("sqlite", tmp_path))
    with running_suite(url, tmp_path, stream_idle_seconds=IDLE_SECONDS) as s:
        # a long live feed: copies of a real live scorecard change (once the follower has recorded one)
        for _ in range(600):
            if s.stubs["publish"].ListChanges(ppb.ListChangesRequest(page_size=1), timeout=10).changes:
                break
            time.sleep(0.05)
        with s.db.write() as conn:
            row = conn.execute(select(publish_changes).order_by(publish_changes.c.seq.desc()).limit(1)).one()
            template = dict(row._mapping)
            # padded to the size of a province's scorecard (an unknown field, ignored by readers): the
            # feed is far larger than what flow control lets a client buffer
            doc = json.loads(template["payload"])
            template["payload"] = json.dumps({**doc, "padding": "x" * 8000}).encode()
            rows = [{**template, "seq": template["seq"] + n} for n in range(1, FEED_CHANGES + 1)]
            conn.execute(insert(publish_changes), rows)
            conn.execute(update(publish_state).where(publish_state.c.name == "changes")
                         .values(int_value=rows[-1]["seq"]))
        yield s


def healthy(channel: grpc.Channel) -> None:
    r = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
    assert r.status == health_pb2.HealthCheckResponse.SERVING


def reason(err: grpc.RpcError) -> str:
    info, _ = details_from_rpc_error(err)
    return info.reason if info else ""


def refused(service: str) -> float:
    return REGISTRY.get_sample_value("chiso_grpc_streams_refused_total", {"service": service, "limit": "caller"}) or 0


def outcome(err: grpc.RpcError) -> str:
    """TOO_MANY_STREAMS (refused), idle (ended as idle), or what else happened."""
    if err.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return f"{err.code().name}: {err.details()}"
    return reason(err) or ("idle" if "idle" in err.details() else err.details())


def test_idle_streams_neither_starve_health_nor_other_callers(suite):
    ingest_channel = suite.channels["IngestService"]
    publish_channel = suite.channels["PublishService"]
    release = threading.Event()
    before = rss_mb()

    def nothing():
        release.wait()
        return
        yield  # a request stream that sends nothing until released

    syncs = [suite.stubs["ingest"].StreamSync.future(nothing(), metadata=auth(suite.tokens.phu_tho))
             for _ in range(64)]
    feeds = [publish_channel.unary_stream("/chiso.publish.v1.PublishService/StreamChanges")(
        ppb.StreamChangesRequest().SerializeToString()) for _ in range(64)]
    try:
        # once the streams past the limits have been refused (60 of each kind) …
        for _ in range(1200):
            if min(refused("ingest"), refused("publish")) >= 60:
                break
            time.sleep(0.05)
        # … health and an ordinary call of every service answer within a 1 s deadline, again and again
        for _ in range(5):
            healthy(ingest_channel)
            healthy(publish_channel)
            healthy(suite.channels["ScoringService"])
            r = suite.stubs["ingest"].SyncUnits(ipb.SyncUnitsRequest(
                request_id=f"u-{_}", records=[unit_record("H01.09", "Sở Y tế thành phố Hà Nội", 5, "H01")]),
                metadata=auth(suite.tokens.ha_noi), timeout=1)
            assert r.result.accepted_count + r.result.stale_count == 1
            suite.stubs["publish"].ListChanges(ppb.ListChangesRequest(page_size=5), timeout=1)
            # the source with the idle streams can still make unary calls
            suite.stubs["ingest"].GetBatch(ipb.GetBatchRequest(batch_id=r.result.batch_id),
                                           metadata=auth(suite.tokens.ha_noi), timeout=1)
        # 4 streams per caller: the other 60 were refused at once, with the limit in ErrorInfo; the 4
        # admitted, idle ones are ended after IDLE_SECONDS (RESOURCE_EXHAUSTED, "idle")
        errors = [f.exception(timeout=60) for f in syncs]
        assert all(e is not None and e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for e in errors), errors
        assert sorted(outcome(e) for e in errors) == ["TOO_MANY_STREAMS"] * 60 + ["idle"] * 4
        # the feeds: anonymous callers from one address get 4 streams; those, never read, are ended too
        # (the client sees a stream's end after what it had buffered: read once the server has none open)
        for _ in range(1200):
            if not REGISTRY.get_sample_value("chiso_grpc_streams_open", {"service": "publish"}):
                break
            time.sleep(0.05)
        outcomes = []
        for feed in feeds:
            try:
                for n, _ in enumerate(feed):
                    if n > FEED_CHANGES:
                        break
                outcomes.append("still open")
            except grpc.RpcError as err:
                outcomes.append(outcome(err))
        assert sorted(outcomes) == ["TOO_MANY_STREAMS"] * 60 + ["idle"] * 4, sorted(outcomes)[58:]
        # memory stays bounded with the streams open and after they have ended: the servers share this
        # process with the test runner (whose own size depends on the tests run before), so what the 128
        # streams cost is its growth — publish alone grew from 96 MB to 523 MB under 16 of them before
        assert rss_mb() - before < 100, (before, rss_mb())
        # the source streams again, now that its idle streams are gone
        again = suite.stubs["ingest"].StreamSync(iter([ipb.StreamSyncRequest(
            request_id="again", units=ipb.UnitRecords(records=[
                unit_record("H25.07", "Sở Y tế tỉnh Phú Thọ", 5, "H25")]))]),
            metadata=auth(suite.tokens.phu_tho), timeout=10)
        assert again.accepted_count == 1
    finally:
        release.set()
        for f in syncs:
            f.cancel()
        for feed in feeds:
            feed.cancel()
