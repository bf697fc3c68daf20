"""Ingest through a real gRPC server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as pb
from sqlalchemy import func, select

from services.shared.grpc_errors import details_from_rpc_error
from services.shared.schema import batches, change_notices, dossiers, units
from tests.helpers import (
    NOW,
    SOURCE_TIME,
    auth,
    dossier_record,
    hanoi,
    ingest_server,
    procedure_record,
    seed_units,
    setup_tokens,
    ts,
    unit_record,
)


@pytest.fixture
def env(db_url):
    with ingest_server(db_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        yield stub, db, tokens


def count(db, table, *where):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_partial_batch_keeps_good_records_and_reports_each_bad_one(env):
    stub, db, tokens = env
    bad_channel = dossier_record("HS-2")
    bad_channel.channel = pb.CHANNEL_UNSPECIFIED
    early_due = dossier_record("HS-3")
    early_due.due_time.CopyFrom(ts(hanoi(2026, 8, 1)))
    records = [
        dossier_record("HS-1"),
        bad_channel,
        early_due,
        dossier_record("HS-4", unit_code="H99"),  # unknown unit
        dossier_record("HS-5", unit_code="H01.01"),  # Hà Nội: outside Phú Thọ's grant
        dossier_record("HS-6", procedure="9.999999"),  # unknown procedure
        dossier_record("HS-7", unit_code="H25.X1", received=NOW - timedelta(hours=2), due_days=30),  # due later
    ]
    r = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="b-1", records=records), metadata=auth(tokens.phu_tho))
    res = r.result
    assert list(res.statuses) == [
        pb.RECORD_STATUS_ACCEPTED,
        pb.RECORD_STATUS_INVALID,
        pb.RECORD_STATUS_INVALID,
        pb.RECORD_STATUS_INVALID,
        pb.RECORD_STATUS_PERMISSION_DENIED,
        pb.RECORD_STATUS_INVALID,
        pb.RECORD_STATUS_ACCEPTED,
    ]
    errors = {e.index: (e.field, e.reason) for e in res.errors}
    assert errors == {
        1: ("channel", "REQUIRED"),
        2: ("due_time", "INCONSISTENT"),
        3: ("unit_code", "UNKNOWN_UNIT"),
        4: ("unit_code", "OUT_OF_GRANT"),
        5: ("procedure_code", "UNKNOWN_PROCEDURE"),
    }
    assert (res.accepted_count, res.stale_count, res.rejected_count) == (2, 0, 5)
    with db.read() as conn:
        codes = sorted(conn.execute(select(dossiers.c.code)).scalars())
    assert codes == ["HS-1", "HS-7"]
    assert count(db, dossiers, dossiers.c.unit_code == "H01.01") == 0


def test_atomic_batch_stores_nothing_and_lists_every_violation(env):
    stub, db, tokens = env
    bad = dossier_record("HS-2")
    bad.channel = 42  # unknown enum value
    bad2 = dossier_record("HS-3", code_ignored=None) if False else dossier_record("")
    req = pb.SyncDossiersRequest(request_id="atomic-1", atomic=True, records=[dossier_record("HS-1"), bad, bad2])
    with pytest.raises(grpc.RpcError) as err:
        stub.SyncDossiers(req, metadata=auth(tokens.phu_tho))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info, bad_request = details_from_rpc_error(err.value)
    assert info.reason == "INVALID_RECORDS"
    assert info.domain
    fields = [v.field for v in bad_request.field_violations]
    assert fields == ["records[1].channel", "records[2].code"]
    assert count(db, dossiers) == 0
    # the request id was not used up: the corrected batch goes through under the same id
    fixed = pb.SyncDossiersRequest(request_id="atomic-1", atomic=True, records=[dossier_record("HS-1")])
    assert stub.SyncDossiers(fixed, metadata=auth(tokens.phu_tho)).result.accepted_count == 1


def test_atomic_batch_out_of_grant_is_permission_denied(env):
    stub, db, tokens = env
    req = pb.SyncDossiersRequest(request_id="a-2", atomic=True, records=[dossier_record("HS-9", unit_code="H25.01")])
    with pytest.raises(grpc.RpcError) as err:
        stub.SyncDossiers(req, metadata=auth(tokens.ha_noi))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details_from_rpc_error(err.value)[0].reason == "OUT_OF_GRANT"
    assert count(db, dossiers) == 0


@pytest.mark.parametrize(
    "metadata, reason",
    [
        ((), "MISSING_TOKEN"),
        ((("authorization", "Bearer chiso_deadbeef0000_notthesecret"),), "BAD_TOKEN"),
        ((("authorization", "Basic dXNlcjpwYXNz"),), "MISSING_TOKEN"),
        ((("authorization", "Bearer garbage"),), "BAD_TOKEN"),
    ],
)
def test_missing_or_bad_token_is_unauthenticated(env, metadata, reason):
    stub, db, _ = env
    with pytest.raises(grpc.RpcError) as err:
        stub.SyncDossiers(pb.SyncDossiersRequest(request_id="x", records=[dossier_record("HS-1")]), metadata=metadata)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert details_from_rpc_error(err.value)[0].reason == reason
    assert "notthesecret" not in (err.value.details() or "")
    assert count(db, dossiers) == 0


def test_operator_token_cannot_push(env):
    stub, _, tokens = env
    with pytest.raises(grpc.RpcError) as err:
        stub.SyncDossiers(pb.SyncDossiersRequest(request_id="x", records=[dossier_record("HS-1")]),
                          metadata=auth(tokens.operator))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_repeated_request_id_returns_the_first_answer_and_changes_nothing(env):
    stub, db, tokens = env
    req = pb.SyncDossiersRequest(request_id="dup-1", records=[dossier_record("HS-1"), dossier_record("HS-2")])
    first = stub.SyncDossiers(req, metadata=auth(tokens.phu_tho)).result
    notices = count(db, change_notices)
    again = stub.SyncDossiers(req, metadata=auth(tokens.phu_tho)).result
    assert again.replayed and not first.replayed
    assert again.batch_id == first.batch_id
    assert list(again.statuses) == list(first.statuses)
    assert count(db, batches, batches.c.outcome == "committed", batches.c.source_id == "igate-phu-tho") == 1
    assert count(db, change_notices) == notices
    # same id, different content: refused
    other = pb.SyncDossiersRequest(request_id="dup-1", records=[dossier_record("HS-3")])
    with pytest.raises(grpc.RpcError) as err:
        stub.SyncDossiers(other, metadata=auth(tokens.phu_tho))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert details_from_rpc_error(err.value)[0].reason == "REQUEST_ID_REUSED"
    assert count(db, dossiers, dossiers.c.code == "HS-3") == 0
    # request ids are per source: Hà Nội may use the same id
    hn = pb.SyncDossiersRequest(request_id="dup-1", records=[dossier_record("HN-1", unit_code="H01.01")])
    assert stub.SyncDossiers(hn, metadata=auth(tokens.ha_noi)).result.accepted_count == 1


def test_older_update_arriving_late_changes_nothing(env):
    stub, db, tokens = env
    newer = dossier_record("HS-1", t=SOURCE_TIME, end_time=ts(hanoi(2026, 8, 5, 10)),
                           end_state=pb.END_STATE_RESULT_RETURNED)
    newer.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
    older = dossier_record("HS-1", t=SOURCE_TIME - timedelta(minutes=5))
    r1 = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="n", records=[newer]), metadata=auth(tokens.phu_tho))
    r2 = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="o", records=[older]), metadata=auth(tokens.phu_tho))
    assert list(r1.result.statuses) == [pb.RECORD_STATUS_ACCEPTED]
    assert list(r2.result.statuses) == [pb.RECORD_STATUS_STALE]
    assert r2.result.errors[0].reason == "STALE"
    with db.read() as conn:
        row = conn.execute(select(dossiers.c.end_state, dossiers.c.batch_id)).one()
    assert row.end_state == pb.END_STATE_RESULT_RETURNED
    assert row.batch_id == r1.result.batch_id
    # two versions in one batch: the newer wins whatever the order
    both = [dossier_record("HS-2", t=SOURCE_TIME), dossier_record("HS-2", t=SOURCE_TIME - timedelta(1))]
    both[0].supplement_count = 1
    both[0].last_supplement_time.CopyFrom(ts(hanoi(2026, 8, 4)))
    r3 = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="both", records=both), metadata=auth(tokens.phu_tho))
    assert list(r3.result.statuses) == [pb.RECORD_STATUS_ACCEPTED, pb.RECORD_STATUS_STALE]
    with db.read() as conn:
        assert conn.execute(select(dossiers.c.supplement_count).where(dossiers.c.code == "HS-2")).scalar() == 1


def test_batch_too_large_and_message_too_large(db_url):
    with ingest_server(db_url, max_batch_records=10, max_message_bytes=64 * 1024) as (stub, db, _):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        req = pb.SyncDossiersRequest(request_id="big", records=[dossier_record(f"HS-{i}") for i in range(11)])
        with pytest.raises(grpc.RpcError) as err:
            stub.SyncDossiers(req, metadata=auth(tokens.phu_tho))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info, bad = details_from_rpc_error(err.value)
        assert info.reason == "BATCH_TOO_LARGE" and info.metadata["max_records"] == "10"
        huge = pb.SyncUnitsRequest(request_id="huge", records=[unit_record("H25.Z", "x" * 100_000, 5, "H25")])
        with pytest.raises(grpc.RpcError) as err:
            stub.SyncUnits(huge, metadata=auth(tokens.phu_tho))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert count(db, dossiers) == 0


def test_hostile_strings(env):
    stub, db, tokens = env
    names = {
        "H25.S1": "Sở Tài chính'); DROP TABLE units;--",
        "H25.S2": "Phòng 😀 \u202eRTL",
        "H25.S3": "<script>alert('xss')</script> Ủy ban",
    }
    recs = [unit_record(c, n, 5, "H25") for c, n in names.items()]
    recs.append(unit_record("H25.S4", "Tên có ký tự điều khiển\x00\x07", 5, "H25"))
    recs.append(unit_record("H25 S5; DROP", "Mã sai", 5, "H25"))
    recs.append(unit_record("H25.S6", "x" * 501, 5, "H25"))
    r = stub.SyncUnits(pb.SyncUnitsRequest(request_id="hostile", records=recs), metadata=auth(tokens.phu_tho))
    assert [(e.index, e.field, e.reason) for e in r.result.errors] == [
        (3, "name", "BAD_CHARACTERS"),
        (4, "code", "BAD_FORMAT"),
        (5, "name", "TOO_LONG"),
    ]
    with db.read() as conn:
        stored = dict(conn.execute(select(units.c.code, units.c.name).where(units.c.code.in_(list(names)))).all())
    assert stored == names


def test_units_outside_grant_cannot_be_created_or_taken_over(env):
    stub, db, tokens = env
    recs = [
        unit_record("H01.99", "Sở mới của Hà Nội", 5, "H01"),  # new unit under Hà Nội
        unit_record("H01.01", "Sở Tư pháp (bị chiếm)", 5, "H25"),  # move Hà Nội's unit under Phú Thọ
        unit_record("H25.03", "Sở Y tế tỉnh Phú Thọ", 5, "H25"),
    ]
    r = stub.SyncUnits(pb.SyncUnitsRequest(request_id="grab", records=recs), metadata=auth(tokens.phu_tho))
    assert list(r.result.statuses) == [
        pb.RECORD_STATUS_PERMISSION_DENIED,
        pb.RECORD_STATUS_PERMISSION_DENIED,
        pb.RECORD_STATUS_ACCEPTED,
    ]
    with db.read() as conn:
        assert conn.execute(select(units.c.parent_code).where(units.c.code == "H01.01")).scalar() == "H01"
        assert conn.execute(select(func.count()).where(units.c.code == "H01.99")).scalar() == 0
    # a dossier for the unit created in the previous batch is accepted straight away
    d = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="d", records=[dossier_record("Y-1", unit_code="H25.03")]),
                          metadata=auth(tokens.phu_tho))
    assert d.result.accepted_count == 1


def test_two_clients_pushing_overlapping_records_at_once(env):
    stub, db, tokens = env
    errors = []

    def push(worker: int):
        try:
            for rnd in range(6):
                recs = []
                for i in range(150):
                    t = SOURCE_TIME - timedelta(minutes=30) + timedelta(seconds=rnd * 10 + worker)
                    rec = dossier_record(f"HS-{i}", t=t)
                    rec.supplement_count = worker
                    if worker:
                        rec.last_supplement_time.CopyFrom(ts(hanoi(2026, 8, 4)))
                    recs.append(rec)
                stub.SyncDossiers(pb.SyncDossiersRequest(request_id=f"w{worker}-{rnd}", records=recs),
                                  metadata=auth(tokens.phu_tho), timeout=60)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.read() as conn:
        rows = conn.execute(select(dossiers.c.supplement_count)).scalars().all()
    # the newest version of every dossier is worker 1's last round (50 s + 1)
    assert len(rows) == 150 and set(rows) == {1}


def test_stream_sync_and_get_batch(env):
    stub, db, tokens = env

    def messages():
        yield pb.StreamSyncRequest(request_id="s-1", units=pb.UnitRecords(
            records=[unit_record("H25.X2", "UBND xã Hạ Hòa", 6, "H25")]))
        yield pb.StreamSyncRequest(request_id="s-2", dossiers=pb.DossierRecords(
            records=[dossier_record(f"S-{i}", unit_code="H25.X2") for i in range(3)] + [dossier_record("")]))

    r = stub.StreamSync(messages(), metadata=auth(tokens.phu_tho))
    assert [b.request_id for b in r.results] == ["s-1", "s-2"]
    assert (r.accepted_count, r.stale_count, r.rejected_count) == (4, 0, 1)
    assert count(db, dossiers, dossiers.c.unit_code == "H25.X2") == 3
    # resending the whole stream changes nothing
    r2 = stub.StreamSync(messages(), metadata=auth(tokens.phu_tho))
    assert all(b.replayed for b in r2.results)
    got = stub.GetBatch(pb.GetBatchRequest(request_id="s-2"), metadata=auth(tokens.phu_tho))
    assert got.source_id == "igate-phu-tho"
    assert got.result.batch_id == r.results[1].batch_id
    assert list(got.result.statuses) == [1, 1, 1, 3]
    # another source cannot see it
    with pytest.raises(grpc.RpcError) as err:
        stub.GetBatch(pb.GetBatchRequest(request_id="s-2"), metadata=auth(tokens.ha_noi))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_ledger_and_change_notices(env):
    stub, db, tokens = env
    rec = dossier_record("HS-1", received=hanoi(2026, 8, 1, 0, 30))  # 2026-07-31T17:30Z: August in Hanoi
    r = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="L", records=[rec]), metadata=auth(tokens.phu_tho))
    with db.read() as conn:
        ledger = conn.execute(select(batches).where(batches.c.batch_id == r.result.batch_id)).mappings().one()
        notice = conn.execute(
            select(change_notices.c.unit_code, change_notices.c.month_from, change_notices.c.month_to)
            .where(change_notices.c.batch_id == r.result.batch_id)
        ).all()
    assert (ledger["source_id"], ledger["request_id"], ledger["accepted_count"], ledger["outcome"]) == (
        "igate-phu-tho", "L", 1, "committed")
    assert notice == [("H25.01", 202608, 999912)]
    # finishing the dossier in September: the notice covers August..September
    done = dossier_record("HS-1", received=hanoi(2026, 8, 1, 0, 30), t=SOURCE_TIME + timedelta(seconds=1),
                          end_time=ts(hanoi(2026, 9, 2)), end_state=pb.END_STATE_COMPLETED)
    done.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
    r2 = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="L2", records=[done]), metadata=auth(tokens.phu_tho))
    with db.read() as conn:
        notices = set(conn.execute(
            select(change_notices.c.unit_code, change_notices.c.month_from, change_notices.c.month_to)
            .where(change_notices.c.batch_id == r2.result.batch_id)
        ).all())
    # new range and the previous (open-ended) one, so scoring revisits every month it counted in
    assert notices == {("H25.01", 202608, 202609), ("H25.01", 202608, 999912)}


def test_stream_stops_at_a_batch_refused_as_a_whole(env):
    stub, db, tokens = env

    def messages():
        yield pb.StreamSyncRequest(request_id="t-1", dossiers=pb.DossierRecords(records=[dossier_record("T-1")]))
        yield pb.StreamSyncRequest(request_id="t-2", atomic=True,
                                   dossiers=pb.DossierRecords(records=[dossier_record("T-2"), dossier_record("")]))
        yield pb.StreamSyncRequest(request_id="t-3", dossiers=pb.DossierRecords(records=[dossier_record("T-3")]))

    with pytest.raises(grpc.RpcError) as err:
        stub.StreamSync(messages(), metadata=auth(tokens.phu_tho))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info, bad = details_from_rpc_error(err.value)
    assert info.metadata["message_index"] == "1" and info.metadata["committed_batches"] == "1"
    assert [v.field for v in bad.field_violations] == ["records[1].code"]
    with db.read() as conn:
        assert sorted(conn.execute(select(dossiers.c.code)).scalars()) == ["T-1"]


def test_every_other_record_kind_round_trips(env):
    from datetime import date as _date

    from google.type import date_pb2

    from services.shared.schema import petitions, publications, reported_totals, unit_procedures

    stub, db, tokens = env
    md = auth(tokens.phu_tho)
    older = SOURCE_TIME - timedelta(minutes=10)

    def d(y, m, dd):
        return date_pb2.Date(year=y, month=m, day=dd)

    up = pb.UnitProcedureRecord(unit_code="H25.01", procedure_code="1.004227", online_level=pb.ONLINE_LEVEL_FULL,
                                has_fee=True, payment_integrated=True, source_time=ts(SOURCE_TIME))
    pub = pb.PublicationRecord(unit_code="H25", procedure_code="1.004227", decision_number="1234/QĐ-UBND",
                               decision_date=d(2026, 7, 20), legal_effective_date=d(2026, 8, 1),
                               listed_time=ts(hanoi(2026, 7, 24, 9)), source_time=ts(SOURCE_TIME),
                               parts=[pb.PROCEDURE_PART_NAME, pb.PROCEDURE_PART_STEPS, pb.PROCEDURE_PART_FEES])
    pet = pb.PetitionRecord(code="PA-1", unit_code="H25.01", category=pb.PETITION_CATEGORY_STAFF,
                            received_time=ts(hanoi(2026, 8, 3, 10)), resolved_time=ts(hanoi(2026, 8, 10, 10)),
                            likes=3, dislikes=1, rating=pb.RATING_SATISFIED, source_time=ts(SOURCE_TIME))
    tot = pb.ReportedTotalRecord(unit_code="H25.01", year=2026, month=8, dossiers_received=1520,
                                 source_time=ts(SOURCE_TIME))
    calls = [
        (stub.SyncUnitProcedures, pb.SyncUnitProceduresRequest, up),
        (stub.SyncPublications, pb.SyncPublicationsRequest, pub),
        (stub.SyncPetitions, pb.SyncPetitionsRequest, pet),
        (stub.SyncReportedTotals, pb.SyncReportedTotalsRequest, tot),
    ]
    for n, (rpc, request, record) in enumerate(calls):
        assert rpc(request(request_id=f"k{n}", records=[record]), metadata=md).result.accepted_count == 1
        stale = type(record)()
        stale.CopyFrom(record)
        stale.source_time.CopyFrom(ts(older))
        r = rpc(request(request_id=f"k{n}-old", records=[stale]), metadata=md).result
        assert list(r.statuses) == [pb.RECORD_STATUS_STALE], type(record).__name__
    bad_total = pb.ReportedTotalRecord(unit_code="H25.01", year=2026, month=13, source_time=ts(SOURCE_TIME))
    bad_date = pb.PublicationRecord(unit_code="H25", procedure_code="1.004227", decision_number="1/QĐ",
                                    decision_date=d(2026, 2, 30), source_time=ts(SOURCE_TIME))
    assert stub.SyncReportedTotals(pb.SyncReportedTotalsRequest(request_id="bt", records=[bad_total]),
                                   metadata=md).result.errors[0].field == "month"
    assert stub.SyncPublications(pb.SyncPublicationsRequest(request_id="bd", records=[bad_date]),
                                 metadata=md).result.errors[0].field == "decision_date"
    with db.read() as conn:
        assert conn.execute(select(unit_procedures.c.online_level, unit_procedures.c.payment_integrated)).one() == (
            pb.ONLINE_LEVEL_FULL, True)
        p = conn.execute(select(publications)).mappings().one()
        assert (p["decision_number"], p["decision_date"], p["decision_month"]) == ("1234/QĐ-UBND", _date(2026, 7, 20),
                                                                                   202607)
        assert p["parts"] == (1 << 1) | (1 << 2) | (1 << 9)
        assert conn.execute(select(petitions.c.likes, petitions.c.received_month, petitions.c.source_id)).one() == (
            3, 202608, "igate-phu-tho")
        assert conn.execute(select(reported_totals.c.dossiers_received)).scalar() == 1520


def test_catalogue_resync_that_changes_nothing_notifies_nobody(env):
    """A nightly re-sync of the catalogue (same content, newer source time) is stored — the source
    time moves on — but writes no change notice, so scoring and publish redo nothing; a record that
    does change (a renamed unit, a procedure's statutory days, an offer going online) still does."""
    from google.type import date_pb2

    stub, db, tokens = env
    md = auth(tokens.national)
    later = SOURCE_TIME + timedelta(minutes=1)
    offer = pb.UnitProcedureRecord(unit_code="H25.01", procedure_code="1.004227", online_level=pb.ONLINE_LEVEL_FULL,
                                   has_fee=True, source_time=ts(SOURCE_TIME))
    pub = pb.PublicationRecord(unit_code="H25", procedure_code="1.004227", decision_number="12/QĐ-UBND",
                               decision_date=date_pb2.Date(year=2026, month=7, day=20), source_time=ts(SOURCE_TIME),
                               parts=[pb.PROCEDURE_PART_NAME])
    assert stub.SyncUnitProcedures(pb.SyncUnitProceduresRequest(request_id="o1", records=[offer]),
                                   metadata=md).result.accepted_count == 1
    assert stub.SyncPublications(pb.SyncPublicationsRequest(request_id="p1", records=[pub]),
                                 metadata=md).result.accepted_count == 1

    def notices_of(result):
        with db.read() as conn:
            return sorted(conn.execute(select(change_notices.c.unit_code).where(
                change_notices.c.batch_id == result.batch_id)).scalars())

    def again(record, **changes):
        out = type(record)()
        out.CopyFrom(record)
        out.source_time.CopyFrom(ts(later))
        for name, value in changes.items():
            if hasattr(value, "CopyFrom"):
                getattr(out, name).CopyFrom(value)
            else:
                setattr(out, name, value)
        return out

    same = [
        stub.SyncUnits(pb.SyncUnitsRequest(request_id="u2", records=[
            unit_record("H25", "UBND tỉnh Phú Thọ", 4, t=later),
            unit_record("H25.01", "Sở Tư pháp tỉnh Phú Thọ", 5, "H25", t=later)]), metadata=md).result,
        stub.SyncProcedures(pb.SyncProceduresRequest(request_id="c2", records=[
            procedure_record("1.004227", "Đăng ký khai sinh", "H25", t=later, statutory_days=5)]), metadata=md).result,
        stub.SyncUnitProcedures(pb.SyncUnitProceduresRequest(request_id="o2", records=[again(offer)]),
                                metadata=md).result,
        stub.SyncPublications(pb.SyncPublicationsRequest(request_id="p2", records=[again(pub)]), metadata=md).result,
    ]
    assert [r.accepted_count for r in same] == [2, 1, 1, 1]
    assert [notices_of(r) for r in same] == [[], [], [], []]
    with db.read() as conn:  # stored: a newer version of the same record is not STALE-blocked by the old time
        assert conn.execute(select(units.c.source_time).where(units.c.code == "H25")).scalar() > 0
    repeat = stub.SyncUnits(pb.SyncUnitsRequest(request_id="u3", records=[
        unit_record("H25", "UBND tỉnh Phú Thọ", 4, t=later)]), metadata=md).result
    assert list(repeat.statuses) == [pb.RECORD_STATUS_STALE]  # the re-sync's time was kept

    t2 = later + timedelta(minutes=1)
    changed = [
        stub.SyncUnits(pb.SyncUnitsRequest(request_id="u4", records=[
            unit_record("H25", "UBND tỉnh Phú Thọ", 4, t=t2),  # unchanged beside a changed one
            unit_record("H25.01", "Sở Tư pháp Phú Thọ", 5, "H25", t=t2)]), metadata=md).result,
        stub.SyncProcedures(pb.SyncProceduresRequest(request_id="c4", records=[
            procedure_record("1.004227", "Đăng ký khai sinh", "H25", t=t2, statutory_days=3)]), metadata=md).result,
        stub.SyncUnitProcedures(pb.SyncUnitProceduresRequest(request_id="o4", records=[
            again(offer, source_time=ts(t2), online_level=pb.ONLINE_LEVEL_PARTIAL)]), metadata=md).result,
        stub.SyncPublications(pb.SyncPublicationsRequest(request_id="p4", records=[
            again(pub, source_time=ts(t2), listed_time=ts(hanoi(2026, 7, 24, 9)))]), metadata=md).result,
    ]
    assert [notices_of(r) for r in changed] == [["H25.01"], ["H25"], ["H25.01"], ["H25"]]
