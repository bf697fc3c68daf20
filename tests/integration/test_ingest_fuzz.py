"""Hypothesis-generated bad records through the real server: never INTERNAL, good records kept."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as pb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.shared.schema import dossiers
from tests.conftest import make_db_url
from tests.helpers import auth, dossier_record, ingest_server, seed_units, setup_tokens

_ids = itertools.count()

text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", "H25.01", "1.004227", "'; DROP TABLE dossiers;--", "\x00", "Sở Tư pháp", "x" * 70,
                     "\u202e", "H25.01\n"]),
)
instant = st.one_of(
    st.none(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([0, 946684800, 1785000000, 4102444800]),
)
small = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def _ts(msg, name, value):
    if value is not None:
        getattr(msg, name).seconds = value  # raw, possibly outside the valid Timestamp range


@st.composite
def wild_dossier(draw) -> pb.DossierRecord:
    rec = pb.DossierRecord(
        code=draw(text), unit_code=draw(text), procedure_code=draw(text),
        channel=draw(small), end_state=draw(small), processing_state=draw(small),
        supplement_count=draw(small), applicant_supplement_seconds=draw(st.integers(-(2**63), 2**63 - 1)),
        fee_amount=draw(st.integers(-(2**63), 2**63 - 1)), payment_channel=draw(small), rating=draw(small),
        paid_online=draw(st.booleans()), petitioned=draw(st.booleans()),
    )
    for name in ("received_time", "due_time", "processing_start_time", "end_time", "last_supplement_time",
                 "source_time"):
        _ts(rec, name, draw(instant))
    if draw(st.booleans()):
        rec.received_time.nanos = draw(st.integers(0, 999_999_999))
    return rec


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    gen = make_db_url("sqlite", tmp_path_factory.mktemp("fuzz"))
    url = next(gen)
    with ingest_server(url) as (stub, db, _):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        yield stub, db, tokens


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.lists(wild_dossier(), min_size=1, max_size=8), position=st.integers(0, 8))
def test_wild_records_never_cause_internal_and_good_ones_are_kept(live, bad, position):
    stub, db, tokens = live
    n = next(_ids)
    good = dossier_record(f"GOOD-{n}", received=datetime(2026, 8, 3, 1, 0, tzinfo=UTC))
    records = list(bad)
    records.insert(min(position, len(records)), good)
    try:
        r = stub.SyncDossiers(pb.SyncDossiersRequest(request_id=f"fuzz-{n}", records=records),
                              metadata=auth(tokens.phu_tho), timeout=30)
    except grpc.RpcError as err:  # pragma: no cover - the assertion explains
        pytest.fail(f"non-atomic batch failed as a whole: {err.code()} {err.details()}")
    assert len(r.result.statuses) == len(records)
    idx = records.index(good)
    assert r.result.statuses[idx] == pb.RECORD_STATUS_ACCEPTED
    for e in r.result.errors:
        assert e.reason and e.status in (pb.RECORD_STATUS_INVALID, pb.RECORD_STATUS_PERMISSION_DENIED,
                                         pb.RECORD_STATUS_STALE)
    with db.read() as conn:
        assert conn.execute(select(dossiers.c.code).where(dossiers.c.code == f"GOOD-{n}")).scalar() == f"GOOD-{n}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.lists(wild_dossier(), min_size=1, max_size=5))
def test_wild_records_in_atomic_batches_get_a_clear_status(live, bad):
    stub, _, tokens = live
    n = next(_ids)
    try:
        stub.SyncDossiers(pb.SyncDossiersRequest(request_id=f"afuzz-{n}", atomic=True, records=bad),
                          metadata=auth(tokens.phu_tho), timeout=30)
    except grpc.RpcError as err:
        assert err.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED), err.details()
