"""Helpers for tests: record builders, token setup and server starters (real servers, port 0)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.shared import access
from services.shared.db import Database

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def ts(dt: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt)
    return t


def hanoi(*args) -> datetime:
    return datetime(*args, tzinfo=HANOI)


NOW = datetime.now(HANOI).replace(microsecond=0)
SOURCE_TIME = NOW - timedelta(hours=1)


def unit_record(code, name, kind, parent="", t=SOURCE_TIME) -> pb.UnitRecord:
    return pb.UnitRecord(code=code, name=name, kind=kind, parent_code=parent, source_time=ts(t))


def procedure_record(code, name, unit_code, t=SOURCE_TIME, **kw) -> pb.ProcedureRecord:
    return pb.ProcedureRecord(code=code, name=name, field="Hộ tịch", unit_code=unit_code, source_time=ts(t), **kw)


def dossier_record(code, unit_code="H25.01", procedure="1.004227", *, received=None, due_days=5, t=SOURCE_TIME,
                   **kw) -> pb.DossierRecord:
    received = received or hanoi(2026, 8, 3, 8, 15)
    rec = pb.DossierRecord(
        code=code,
        unit_code=unit_code,
        procedure_code=procedure,
        channel=pb.CHANNEL_ONLINE,
        received_time=ts(received),
        processing_state=pb.PROCESSING_STATE_PROCESSING,
        source_time=ts(t),
        **kw,
    )
    if due_days is not None:
        rec.due_time.CopyFrom(ts(received + timedelta(days=due_days)))
    return rec


def ended_dossier(code, unit_code, end_day, *, due_days=5, **kw) -> pb.DossierRecord:
    """Received 3 Aug 2026 08:00, due ``due_days`` later, completed on ``end_day`` August at 10:00."""
    rec = dossier_record(code, unit_code, received=hanoi(2026, 8, 3, 8), due_days=due_days, **kw)
    rec.end_time.CopyFrom(ts(hanoi(2026, 8, end_day, 10)))
    rec.end_state, rec.processing_state = pb.END_STATE_COMPLETED, pb.PROCESSING_STATE_UNSPECIFIED
    return rec


@dataclass
class Tokens:
    national: str  # source granted every unit (catalogues)
    phu_tho: str  # source granted the Phú Thọ subtree (H25)
    ha_noi: str  # source granted Hà Nội (H01)
    operator: str


def setup_tokens(db: Database) -> Tokens:
    with db.write() as conn:
        out = {}
        for pid, kind, grants in (
            ("national", access.SOURCE, ["*"]),
            ("igate-phu-tho", access.SOURCE, ["H25"]),
            ("igate-ha-noi", access.SOURCE, ["H01"]),
            ("ops", access.OPERATOR, []),
        ):
            access.ensure_principal(conn, pid, kind, pid)
            access.set_grants(conn, pid, grants)
            out[pid] = access.issue_token(conn, pid).token
    return Tokens(out["national"], out["igate-phu-tho"], out["igate-ha-noi"], out["ops"])


def auth(token: str):
    return (("authorization", f"Bearer {token}"),)


@contextmanager
def ingest_server(db_url: str, **overrides) -> Iterator[tuple[ingest_pb2_grpc.IngestServiceStub, Database, object]]:
    from services.ingest.server import IngestSettings, build

    settings = IngestSettings(database_url=db_url, port=0, metrics_port=-1, auto_migrate=False, **overrides)
    db = Database(db_url)
    handle = build(settings, db)
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    try:
        yield ingest_pb2_grpc.IngestServiceStub(channel), db, handle
    finally:
        channel.close()
        handle.stop(0)


def seed_units(stub, tokens: Tokens) -> None:
    """Phú Thọ (H25) with two departments and a commune; Hà Nội (H01) with one department; two
    procedures."""
    units = [
        unit_record("H25", "UBND tỉnh Phú Thọ", 4),
        unit_record("H25.01", "Sở Tư pháp tỉnh Phú Thọ", 5, "H25"),
        unit_record("H25.02", "Sở Xây dựng tỉnh Phú Thọ", 5, "H25"),
        unit_record("H25.X1", "UBND phường Việt Trì", 6, "H25"),
        unit_record("H01", "UBND thành phố Hà Nội", 4),
        unit_record("H01.01", "Sở Tư pháp thành phố Hà Nội", 5, "H01"),
    ]
    r = stub.SyncUnits(pb.SyncUnitsRequest(request_id="seed-units", records=units), metadata=auth(tokens.national))
    assert r.result.accepted_count == len(units), r
    procs = [
        procedure_record("1.004227", "Đăng ký khai sinh", "H25", statutory_days=5),
        procedure_record("1.001193", "Cấp giấy phép xây dựng", "H25", statutory_days=20),
    ]
    r = stub.SyncProcedures(
        pb.SyncProceduresRequest(request_id="seed-procs", records=procs), metadata=auth(tokens.national)
    )
    assert r.result.accepted_count == 2, r


@contextmanager
def scoring_server(db_url: str, *, consume: bool = True, now=None, **overrides):
    """A real scoring server on a loopback port; yields (stub, handle). ``now``: its clock (a
    callable giving an aware datetime; default the real one)."""
    from chiso.scoring.v1 import scoring_pb2_grpc

    from services.scoring.server import ScoringSettings, build

    overrides = {"poll_seconds": 0.02, "catalogue_cache_seconds": 0, **overrides}
    settings = ScoringSettings(database_url=db_url, port=0, metrics_port=-1, auto_migrate=False, consume=consume,
                               **overrides)
    handle = build(settings, now=now)
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    try:
        yield scoring_pb2_grpc.ScoringServiceStub(channel), handle
    finally:
        channel.close()
        handle.stop(0)


def wait_scored(db: Database, timeout: float = 30.0) -> None:
    """Until scoring's consumer has applied every change notice."""
    import time as _time

    from services.scoring.storage import Aggregates

    agg = Aggregates(db)
    deadline = _time.monotonic() + timeout
    while _time.monotonic() < deadline:
        applied, head = agg.lag()
        if applied >= head:
            return
        _time.sleep(0.02)
    raise AssertionError(f"scoring did not catch up in {timeout} s: {agg.lag()}")


# --- publish (appended for services/publish) ------------------------------------------------------


def eventually(check, timeout: float = 90.0, what: str = "", *, tolerate: tuple[type[BaseException], ...] = (),
               interval: float = 0.05):
    """Poll ``check`` until it returns something true, and return that: a bound on waiting, never a timed
    assertion. An exception of a type in ``tolerate`` (e.g. ``grpc.RpcError`` while a server comes up)
    counts as "not yet"; the last one is named when the bound passes. ``what``: what was awaited, for
    the failure (default: ``check``'s docstring, else ``check`` itself)."""
    import time as _time

    deadline = _time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except tolerate as exc:
            last = exc
        if _time.monotonic() >= deadline:
            error = f" (last error: {last})" if tolerate else ""
            raise AssertionError(f"{what or check.__doc__ or check} not reached within {timeout} s{error}")
        _time.sleep(interval)


def publish_caught_up(db: Database, scoring_target: str) -> bool:
    """Scoring has applied every change notice, and both lanes of publish's follower (running and ended
    periods, ``services.publish.storage.lane_cursors``) are at the end of scoring's change feed. Does
    not wait: a predicate for :func:`eventually`."""
    from chiso.scoring.v1 import scoring_pb2 as spb
    from chiso.scoring.v1 import scoring_pb2_grpc

    from services.publish import storage as publish_storage
    from services.scoring.storage import Aggregates

    applied, head = Aggregates(db).lag()
    if applied < head:
        return False
    with db.read() as conn:
        cursors = publish_storage.lane_cursors(conn)
    with grpc.insecure_channel(scoring_target) as channel:
        stub = scoring_pb2_grpc.ScoringServiceStub(channel)
        return not any(stub.ListScorecardChanges(spb.ListScorecardChangesRequest(after_cursor=cursor or "",
                                                                                 page_size=1), timeout=30).changes
                       for cursor in cursors)


def signing_key_file(directory) -> str:
    """A fresh Ed25519 private key (PEM) in ``directory``, for publish servers that share one key."""
    from pathlib import Path

    from services.publish.signing import Signer

    path = Path(directory) / "publish-signing-key.pem"
    if not path.exists():
        path.write_bytes(Signer.generate().private_pem())
    return str(path)


@contextmanager
def publish_server(db_url: str, scoring_target: str, *, key_file: str | None = None, clock=None, **overrides):
    """A real publish server on a loopback port following the scoring server at ``scoring_target``;
    yields (stub, handle). Short polls, deadlines and backoffs so tests converge quickly. ``clock``:
    its clock (UTC µs; default the real one)."""
    from chiso.publish.v1 import publish_pb2_grpc

    from services.publish.server import PublishSettings, build

    values = dict(database_url=db_url, port=0, metrics_port=-1, auto_migrate=False, scoring_target=scoring_target,
                  poll_seconds=0.05, delivery_poll_seconds=0.05, deliver_timeout_seconds=2.0, lease_seconds=6.0,
                  backoff_base_seconds=0.05, backoff_max_seconds=0.4, max_attempts=1000, signing_key_file=key_file)
    values.update(overrides)
    handle = build(PublishSettings(**values), **({"clock": clock} if clock is not None else {}))
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    try:
        yield publish_pb2_grpc.PublishServiceStub(channel), handle
    finally:
        channel.close()
        handle.stop(0)


@contextmanager
def portal_receiver(db_path, publish_target: str, *, port: int = 0, before_store=None):
    """The reference portal receiver on a loopback port, verifying with publish's GetPublicKey."""
    from services.publish.receiver import KeyRing, build_receiver, fetch_from_publish

    handle = build_receiver(db_path, KeyRing(fetch=fetch_from_publish(publish_target), refetch_seconds=0.2),
                            port=port, before_store=before_store)
    handle.start()
    try:
        yield handle
    finally:
        handle.stop(0)
