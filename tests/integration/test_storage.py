"""The storage suite every backend must pass (run on a SQLite file and on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.ingest import storage
from services.ingest.domain import DossierIn, RecordKind, UnitIn
from services.shared import access
from services.shared.schema import batches, change_notices, dossiers, units

US = 1_000_000
T0 = 1_780_000_000 * US  # 2026-05-28T20:26:40Z


def unit(code, name="UBND tỉnh Phú Thọ", parent=None, t=T0):
    return UnitIn(code, name, 4, parent, date(2025, 7, 1), None, None, None, t)


def dossier(code, unit_code="H25", t=T0, received=T0 - 86400 * US, end=None, flags=0):
    return DossierIn(
        code, unit_code, "1.004227", 1, received, received + 5 * 86400 * US, None, end,
        1 if end else 0, 0 if end else 1, 0, None, 0, 0, 0, 0, flags, t,
    )


def test_upsert_keeps_the_newest_source_time(db):
    with db.write() as conn:
        storage.write_records(conn, RecordKind.UNIT, "src", "b1", [unit("H25", "Tỉnh cũ", t=T0 + 10)])
    with db.write() as conn:  # older update arriving late: ignored
        storage.write_records(conn, RecordKind.UNIT, "src", "b2", [unit("H25", "Tỉnh quá cũ", t=T0 + 5)])
    with db.write() as conn:  # newer: wins
        storage.write_records(conn, RecordKind.UNIT, "src", "b3", [unit("H25", "UBND tỉnh Phú Thọ", t=T0 + 20)])
    with db.read() as conn:
        row = conn.execute(select(units.c.name, units.c.source_time, units.c.batch_id, units.c.valid_from)).one()
    assert row == ("UBND tỉnh Phú Thọ", T0 + 20, "b3", date(2025, 7, 1))


def test_vietnamese_and_hostile_text_round_trip(db):
    hostile = "Sở Tư pháp'); DROP TABLE units;-- 😀 \u202egnp.exe"
    with db.write() as conn:
        storage.write_records(conn, RecordKind.UNIT, "src", "b1", [unit("X1", hostile)])
    with db.read() as conn:
        assert conn.execute(select(units.c.name).where(units.c.code == "X1")).scalar() == hostile
        assert conn.execute(select(func.count()).select_from(units)).scalar() == 1


def test_stored_versions_and_months(db):
    recs = [dossier(f"HS-{i}", t=T0 + i) for i in range(1200)]  # more than one key chunk
    with db.write() as conn:
        storage.write_records(conn, RecordKind.DOSSIER, "igate", "b1", recs)
    with db.read() as conn:
        found = storage.stored_versions(conn, RecordKind.DOSSIER, "igate", [("HS-5",), ("HS-1100",), ("nope",)])
        other_source = storage.stored_versions(conn, RecordKind.DOSSIER, "other", [("HS-5",)])
        n = conn.execute(select(func.count()).select_from(dossiers)).scalar()
        month = conn.execute(select(dossiers.c.received_month).where(dossiers.c.code == "HS-5")).scalar()
    assert n == 1200
    assert set(found) == {("HS-5",), ("HS-1100",)}
    assert found[("HS-5",)].source_time == T0 + 5
    # received 2026-05-27T20:26:40Z = 2026-05-28 03:26 in Hanoi; unfinished → open-ended
    assert found[("HS-5",)].months == ("H25", 202605, 999912)
    assert month == 202605
    assert other_source == {}


def test_ledger_request_id_is_unique_per_source(db):
    row = dict(
        source_id="igate", request_id="r-1", idempotency_key="r-1", kind=5, request_sha256="a" * 64,
        atomic=False, received_at=T0, committed_at=T0, record_count=1, accepted_count=1, stale_count=0,
        rejected_count=0, outcome="committed", response=b"{}",
    )
    with db.write() as conn:
        storage.write_ledger(conn, batch_id="b1", **row)
        storage.write_ledger(conn, batch_id="b2", **{**row, "source_id": "other"})
        # refused atomic batches do not reserve the id
        storage.write_ledger(conn, batch_id="b3", **{**row, "idempotency_key": None, "outcome": "refused"})
        storage.write_ledger(conn, batch_id="b4", **{**row, "idempotency_key": None, "outcome": "refused"})
    with pytest.raises(IntegrityError), db.write() as conn:
        storage.write_ledger(conn, batch_id="b5", **row)
    with db.read() as conn:
        assert storage.find_batch(conn, "igate", "r-1") == ("a" * 64, b"{}")
        assert conn.execute(select(func.count()).select_from(batches)).scalar() == 4


def test_notices_are_written_in_the_same_transaction(db):
    with pytest.raises(RuntimeError), db.write() as conn:
        storage.write_records(conn, RecordKind.DOSSIER, "igate", "b1", [dossier("HS-1")])
        storage.write_notices(conn, RecordKind.DOSSIER, "b1", {("H25", 202605, 999912)}, T0)
        raise RuntimeError("crash before commit")
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(dossiers)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(change_notices)).scalar() == 0
    with db.write() as conn:
        storage.write_records(conn, RecordKind.DOSSIER, "igate", "b1", [dossier("HS-1")])
        storage.write_notices(conn, RecordKind.DOSSIER, "b1", {("H25", 202605, 999912)}, T0)
    with db.read() as conn:
        rows = conn.execute(select(change_notices.c.unit_code, change_notices.c.month_from)).all()
    assert rows == [("H25", 202605)]


def test_concurrent_writers_keep_the_newest(db):
    """Two writers push versions of the same dossiers at once; each row ends at its newest version."""

    def push(offset):
        for round_ in range(5):
            recs = [dossier(f"HS-{i}", t=T0 + round_ * 10 + offset, flags=offset) for i in range(200)]
            with db.write() as conn:
                storage.write_records(conn, RecordKind.DOSSIER, "igate", f"b{offset}{round_}", recs)

    threads = [threading.Thread(target=push, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as conn:
        rows = conn.execute(select(dossiers.c.source_time, dossiers.c.flags)).all()
    assert len(rows) == 200
    assert {r.source_time for r in rows} == {T0 + 42}
    assert {r.flags for r in rows} == {2}


def test_tokens_hashed_rotated_revoked(db):
    with db.write() as conn:
        access.ensure_principal(conn, "igate", access.SOURCE, "iGate Phú Thọ")
        access.set_grants(conn, "igate", ["H25"])
        issued = access.issue_token(conn, "igate")
    auth = access.Authenticator(db, ttl=0)
    ident = auth.identify(issued.token)
    assert (ident.kind, ident.id, ident.grant_roots) == ("source", "igate", frozenset({"H25"}))
    with db.read() as conn:
        stored = [t["token_id"] for t in access.list_tokens(conn)]
        raw = conn.exec_driver_sql("SELECT secret_sha256 FROM tokens").scalar()
    assert stored == [issued.token_id]
    assert issued.token.split("_", 2)[2] not in raw  # only the hash is stored
    with db.write() as conn:
        new = access.rotate_token(conn, issued.token_id)
    with pytest.raises(Exception, match="revoked"):
        auth.identify(issued.token)
    assert auth.identify(new.token).id == "igate"
    with db.write() as conn:
        access.revoke_token(conn, new.token_id)
    with pytest.raises(Exception, match="revoked"):
        auth.identify(new.token)


def test_a_read_transaction_sees_one_snapshot_while_others_commit(db):
    """Every statement of ``db.read()`` sees the same committed state (a scorecard is read in several
    statements while scoring's consumer commits batches; READ COMMITTED on PostgreSQL would mix them)."""
    from services.shared.schema import principals

    with db.write() as conn:
        access.ensure_principal(conn, "first", access.SOURCE, "Nguồn thứ nhất")
    with db.read() as conn:
        before = conn.execute(select(func.count()).select_from(principals)).scalar()
        with db.write() as other:
            access.ensure_principal(other, "second", access.SOURCE, "Nguồn thứ hai")
        assert conn.execute(select(func.count()).select_from(principals)).scalar() == before
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(principals)).scalar() == before + 1


def _distinct_values(record_type, seed: int):
    """A record whose every field holds a value no other field of it holds (by the field's type)."""
    values = []
    for i, (name, annotation) in enumerate(record_type.__annotations__.items()):
        kind = str(annotation)
        if name in ("source_time", "received_at"):
            values.append(T0 - (seed * 100 + i) * US)
        elif "date" in kind:
            values.append(date(2026, 1 + i % 12, 1 + i))
        elif "bool" in kind:
            values.append(i % 2 == 0)
        elif "int" in kind:
            values.append(T0 + (seed * 100 + i) * US if name.endswith("_at") else seed * 100 + i)
        else:
            values.append(f"{name[:8].upper()}{seed}")
    return record_type(*values)


def test_every_field_of_every_record_lands_in_its_column(db):
    """Rows are built by name: each field of each kind's record is read back from the column of its
    name, and every derived column (months, source, batch) holds what it should."""
    from services.shared import records as R
    from services.shared.records import month_of, month_of_date

    for kind, tm in storage.TABLES.items():
        record_type = {
            "units": R.UnitRecord, "procedures": R.ProcedureRecord, "unit_procedures": R.UnitProcedureRecord,
            "publications": R.PublicationRecord, "dossiers": R.DossierRecord, "petitions": R.PetitionRecord,
            "reported_totals": R.ReportedTotalRecord,
        }[tm.table.name]  # fmt: skip
        record = _distinct_values(record_type, int(kind))
        with db.write() as conn:
            storage.write_records(conn, kind, "src-x", f"batch-{int(kind)}", [record])
        with db.read() as conn:
            row = conn.execute(select(tm.table)).mappings().one()
        for name, value in record._asdict().items():
            assert row[name] == value, (tm.table.name, name, row[name], value)
        assert row["batch_id"] == f"batch-{int(kind)}"
        if "source_id" in row:
            assert row["source_id"] == "src-x"
        if "received_month" in row:
            assert row["received_month"] == month_of(record.received_at)
        if "end_month" in row:
            assert row["end_month"] == month_of(record.end_at)
        if "decision_month" in row:
            assert row["decision_month"] == month_of_date(record.decision_date)
