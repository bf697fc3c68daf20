"""Issue 15, ingest side: a grant covers every unit a record names, the hierarchy holds, codes are
canonical, text is stored NFC, every date and instant has a range — through the real ingest server
on SQLite and PostgreSQL.

The world: Phú Thọ (H25: departments H25.01, H25.02, commune H25.X1) and Hà Nội (H01: department
H01.01, commune H01.X1); procedure 1.004227 managed by H25, 2.002222 managed by Hà Nội's H01.01.
Sources: ``national`` (``*``), ``igate-phu-tho`` (H25), ``igate-ha-noi`` (H01), ``csdl-tthc``
(``@catalogue`` only) and ``so-tu-phap-phu-tho`` (department H25.01 only).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as pb
from google.type import date_pb2
from sqlalchemy import select

from services.shared import access, schema
from services.shared.errors import InvalidArgument
from services.shared.grants import PROCEDURE_CATALOGUE
from tests.helpers import (
    HANOI,
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

PROVINCE, DEPARTMENT, COMMUNE, MINISTRY = 4, 5, 6, 1
B_PROCEDURE = "2.002222"  # managed by Hà Nội's H01.01
RECORD_TABLES = (schema.units, schema.procedures, schema.unit_procedures, schema.publications, schema.dossiers,
                 schema.petitions, schema.reported_totals)


@dataclass
class World:
    stub: object
    db: object
    handle: object
    national: str
    phu_tho: str
    ha_noi: str
    catalogue: str  # '@catalogue' only
    department: str  # H25.01 only


def _source(db, principal: str, grant: list[str]) -> str:
    with db.write() as conn:
        access.ensure_principal(conn, principal, access.SOURCE, principal)
        access.set_grants(conn, principal, grant)
        return access.issue_token(conn, principal).token


@pytest.fixture
def world(db_url):
    with ingest_server(db_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        send(stub, "SyncUnits", [unit_record("H01.X1", "UBND phường Hoàn Kiếm", COMMUNE, "H01")], tokens.national)
        send(stub, "SyncProcedures", [procedure_record(B_PROCEDURE, "Cấp phép hoạt động", "H01.01", statutory_days=10)],
             tokens.national)
        yield World(stub, db, handle, tokens.national, tokens.phu_tho, tokens.ha_noi,
                    _source(db, "csdl-tthc", [PROCEDURE_CATALOGUE]), _source(db, "so-tu-phap-phu-tho", ["H25.01"]))


_REQUESTS = {
    "SyncUnits": pb.SyncUnitsRequest, "SyncProcedures": pb.SyncProceduresRequest,
    "SyncUnitProcedures": pb.SyncUnitProceduresRequest, "SyncPublications": pb.SyncPublicationsRequest,
    "SyncDossiers": pb.SyncDossiersRequest, "SyncPetitions": pb.SyncPetitionsRequest,
    "SyncReportedTotals": pb.SyncReportedTotalsRequest,
}  # fmt: skip
_n = iter(range(1_000_000))


def send(stub, method: str, records: list, token: str) -> pb.BatchResult:
    request = _REQUESTS[method](request_id=f"req-{next(_n)}", records=records)
    return getattr(stub, method)(request, metadata=auth(token), timeout=30).result


def outcome(result: pb.BatchResult, index: int = 0) -> tuple:
    """(status without its prefix, field, reason) of one record of a batch; ACCEPTED has no field or reason."""
    errors = {e.index: (e.field, e.reason) for e in result.errors}
    return (pb.RecordStatus.Name(result.statuses[index]).removeprefix("RECORD_STATUS_"), *errors.get(index, ("", "")))


def snapshot(db) -> dict[str, set[tuple]]:
    """Every stored record of every kind."""
    with db.read() as conn:
        return {t.name: set(map(tuple, conn.execute(select(t)).all())) for t in RECORD_TABLES}


def day(y: int, m: int, d: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=d)


def merged(code: str, parent: str, into: str, kind: int = COMMUNE, name: str = "UBND xã Thanh Miếu (cũ)"):
    rec = unit_record(code, name, kind, parent)
    rec.merged_into_code = into
    rec.merged_on.CopyFrom(day(2026, 8, 15))
    return rec


def finished(rec: pb.DossierRecord, end) -> pb.DossierRecord:
    rec.end_time.CopyFrom(end)
    rec.end_state = pb.END_STATE_COMPLETED
    rec.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
    return rec


def offer(unit: str, procedure: str = "1.004227") -> pb.UnitProcedureRecord:
    return pb.UnitProcedureRecord(unit_code=unit, procedure_code=procedure, online_level=pb.ONLINE_LEVEL_FULL,
                                  source_time=ts(SOURCE_TIME))


def publication(unit: str, procedure: str = "1.004227", **kw) -> pb.PublicationRecord:
    values = dict(unit_code=unit, procedure_code=procedure, decision_number="15/QĐ-UBND",
                  decision_date=day(2026, 7, 20), legal_effective_date=day(2026, 8, 1), source_time=ts(SOURCE_TIME))
    values.update(kw)
    return pb.PublicationRecord(**values)


def petition(code: str, unit: str, **kw) -> pb.PetitionRecord:
    values = dict(code=code, unit_code=unit, category=pb.PETITION_CATEGORY_RULES,
                  received_time=ts(hanoi(2026, 8, 3, 10)), source_time=ts(SOURCE_TIME))
    values.update(kw)
    return pb.PetitionRecord(**values)


def total(unit: str, year: int = 2026, month: int = 8) -> pb.ReportedTotalRecord:
    return pb.ReportedTotalRecord(unit_code=unit, year=year, month=month, dossiers_received=10,
                                  source_time=ts(SOURCE_TIME))


# ------------------------------------------------------------------ the three attacks of the issue


def test_a_unit_merged_into_another_provinces_unit_is_refused(world):
    """Attack 1: a source granted A created a unit under A merged into B's unit and pushed late
    dossiers to it, which then counted for B."""
    before = snapshot(world.db)
    r = send(world.stub, "SyncUnits", [merged("H25.X9", "H25", "H01.X1")], world.phu_tho)
    assert outcome(r) == ("PERMISSION_DENIED", "merged_into_code", "OUT_OF_GRANT")
    late = [finished(dossier_record(f"LATE-{i}", unit_code="H25.X9", received=hanoi(2026, 8, 20, 8), due_days=1),
                     ts(hanoi(2026, 8, 28, 8))) for i in range(20)]
    r = send(world.stub, "SyncDossiers", late, world.phu_tho)
    assert r.rejected_count == 20 and {(e.field, e.reason) for e in r.errors} == {("unit_code", "UNKNOWN_UNIT")}
    assert snapshot(world.db) == before
    # merging an existing unit of A into B's unit: refused likewise, and the unit keeps its record
    r = send(world.stub, "SyncUnits", [merged("H25.X1", "H25", "H01.X1")], world.phu_tho)
    assert outcome(r) == ("PERMISSION_DENIED", "merged_into_code", "OUT_OF_GRANT")
    assert snapshot(world.db) == before


def test_a_procedure_managed_by_another_provinces_unit_cannot_be_overwritten(world):
    """Attack 2: a source granted A overwrote a procedure managed by B's unit (name, managing unit,
    statutory days)."""
    before = snapshot(world.db)
    grab = procedure_record(B_PROCEDURE, "Đã bị sửa", "H25", statutory_days=1, t=NOW - timedelta(minutes=1))
    r = send(world.stub, "SyncProcedures", [grab], world.phu_tho)
    assert outcome(r) == ("PERMISSION_DENIED", "code", "OUT_OF_GRANT")
    assert snapshot(world.db) == before
    # the managing unit's own source may change it, and so may the national catalogue
    fixed = procedure_record(B_PROCEDURE, "Cấp phép hoạt động (sửa đổi)", "H01.01", statutory_days=12,
                             t=NOW - timedelta(minutes=2))
    assert outcome(send(world.stub, "SyncProcedures", [fixed], world.ha_noi)) == ("ACCEPTED", "", "")
    fixed.statutory_days, fixed.source_time.seconds = 15, fixed.source_time.seconds + 1
    assert outcome(send(world.stub, "SyncProcedures", [fixed], world.catalogue)) == ("ACCEPTED", "", "")
    with world.db.read() as conn:
        row = conn.execute(select(schema.procedures.c.unit_code, schema.procedures.c.statutory_days)
                           .where(schema.procedures.c.code == B_PROCEDURE)).one()
    assert tuple(row) == ("H01.01", 15)


def test_a_province_source_cannot_create_provinces_or_ministries(world):
    """Attack 3: a source granted A created units of kind PROVINCE under A (which then ranked in the
    national province ranking)."""
    before = snapshot(world.db)
    recs = [unit_record(f"H25.P{i}", f"Tỉnh giả {i}", PROVINCE, "H25") for i in range(3)]
    recs += [unit_record("H25.B1", "Bộ giả", MINISTRY, "H25"), unit_record("H99", "Tỉnh giả ở gốc", PROVINCE),
             unit_record("B99", "Bộ giả ở gốc", MINISTRY)]
    r = send(world.stub, "SyncUnits", recs, world.phu_tho)
    assert [outcome(r, i) for i in range(len(recs))] == [("INVALID", "parent_code", "HIERARCHY")] * 4 + [
        ("PERMISSION_DENIED", "parent_code", "OUT_OF_GRANT")] * 2
    assert snapshot(world.db) == before
    # nor turn its own province into a ministry
    r = send(world.stub, "SyncUnits", [unit_record("H25", "Bộ Phú Thọ", MINISTRY, t=NOW - timedelta(minutes=1))],
             world.phu_tho)
    assert outcome(r) == ("PERMISSION_DENIED", "kind", "OUT_OF_GRANT")
    assert snapshot(world.db) == before
    # the national source creates top-level units; the hierarchy binds it too
    r = send(world.stub, "SyncUnits", [unit_record("H99", "UBND tỉnh mới", PROVINCE),
                                        unit_record("H99.P", "Tỉnh trong tỉnh", PROVINCE, "H99")], world.national)
    assert [outcome(r, i) for i in (0, 1)] == [("ACCEPTED", "", ""),
                                                ("INVALID", "parent_code", "HIERARCHY")]


# ------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    outside: object  # callable() -> record naming a unit or entry outside igate-phu-tho's grant
    outside_expected: tuple[str, str]  # (field, reason)
    inside: object  # the same reference inside the grant: accepted
    outside_status: str = "PERMISSION_DENIED"


CASES = [
    Case("unit.code", "SyncUnits", lambda: unit_record("H01.01", "Sở Tư pháp (bị chiếm)", DEPARTMENT, "H01"),
         ("code", "OUT_OF_GRANT"), lambda: unit_record("H25.01", "Sở Tư pháp Phú Thọ (mới)", DEPARTMENT, "H25")),
    Case("unit.code moved into the grant", "SyncUnits",
         lambda: unit_record("H01.01", "Sở Tư pháp (bị chiếm)", DEPARTMENT, "H25"), ("code", "OUT_OF_GRANT"),
         lambda: unit_record("H25.02", "Sở Xây dựng", DEPARTMENT, "H25.01")),
    Case("unit.parent_code new", "SyncUnits", lambda: unit_record("H01.99", "Sở mới", DEPARTMENT, "H01"),
         ("parent_code", "OUT_OF_GRANT"), lambda: unit_record("H25.99", "Sở mới", DEPARTMENT, "H25")),
    Case("unit.parent_code moved", "SyncUnits", lambda: unit_record("H25.02", "Sở Xây dựng", DEPARTMENT, "H01"),
         ("parent_code", "OUT_OF_GRANT"), lambda: unit_record("H25.02", "Sở Xây dựng", DEPARTMENT, "H25.01")),
    Case("unit.parent_code top", "SyncUnits", lambda: unit_record("H25.02", "Sở Xây dựng", DEPARTMENT),
         ("parent_code", "REQUIRED"), lambda: unit_record("H25.02", "Sở Xây dựng", DEPARTMENT, "H25"),
         outside_status="INVALID"),
    Case("unit.merged_into_code", "SyncUnits", lambda: merged("H25.X9", "H25", "H01.X1"),
         ("merged_into_code", "OUT_OF_GRANT"), lambda: merged("H25.X9", "H25", "H25.X1")),
    Case("unit.kind", "SyncUnits", lambda: unit_record("H25.P1", "Tỉnh giả", PROVINCE, "H25"),
         ("parent_code", "HIERARCHY"), lambda: unit_record("H25.P1", "Sở mới", DEPARTMENT, "H25"),
         outside_status="INVALID"),
    Case("unit.kind top", "SyncUnits", lambda: unit_record("H25", "Bộ Phú Thọ", MINISTRY),
         ("kind", "OUT_OF_GRANT"), lambda: unit_record("H25", "UBND tỉnh Phú Thọ (tên mới)", PROVINCE)),
    Case("procedure.code", "SyncProcedures", lambda: procedure_record(B_PROCEDURE, "Đã bị sửa", "H25"),
         ("code", "OUT_OF_GRANT"), lambda: procedure_record("1.004227", "Đăng ký khai sinh (sửa)", "H25.01")),
    Case("procedure.unit_code", "SyncProcedures", lambda: procedure_record("3.000001", "Thủ tục mới", "H01.01"),
         ("unit_code", "OUT_OF_GRANT"), lambda: procedure_record("3.000001", "Thủ tục mới", "H25.02")),
    Case("unit_procedure.unit_code", "SyncUnitProcedures", lambda: offer("H01.01"), ("unit_code", "OUT_OF_GRANT"),
         lambda: offer("H25.01")),
    Case("unit_procedure.procedure_code", "SyncUnitProcedures", lambda: offer("H25.01", "9.999999"),
         ("procedure_code", "UNKNOWN_PROCEDURE"), lambda: offer("H25.01", B_PROCEDURE),
         outside_status="INVALID"),
    Case("publication.unit_code", "SyncPublications", lambda: publication("H01"), ("unit_code", "OUT_OF_GRANT"),
         lambda: publication("H25")),
    Case("publication.procedure_code", "SyncPublications", lambda: publication("H25", "9.999999"),
         ("procedure_code", "UNKNOWN_PROCEDURE"), lambda: publication("H25", B_PROCEDURE),
         outside_status="INVALID"),
    Case("dossier.unit_code", "SyncDossiers", lambda: dossier_record("HS-M", unit_code="H01.X1"),
         ("unit_code", "OUT_OF_GRANT"), lambda: dossier_record("HS-M", unit_code="H25.X1")),
    Case("dossier.procedure_code", "SyncDossiers", lambda: dossier_record("HS-M", procedure="9.999999"),
         ("procedure_code", "UNKNOWN_PROCEDURE"), lambda: dossier_record("HS-M", procedure=B_PROCEDURE),
         outside_status="INVALID"),
    Case("petition.unit_code", "SyncPetitions", lambda: petition("PA-M", "H01.01"), ("unit_code", "OUT_OF_GRANT"),
         lambda: petition("PA-M", "H25.01")),
    Case("reported_total.unit_code", "SyncReportedTotals", lambda: total("H01.01"), ("unit_code", "OUT_OF_GRANT"),
         lambda: total("H25.01")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_reference_of_every_kind_is_checked_against_the_grant(world, case):
    """Outside the grant: refused with its field and reason, and nothing stored changes; the same
    reference inside the grant: accepted. (A procedure named by an offer, a publication or a dossier
    needs only to exist: procedures are national, and any unit may perform any of them.)"""
    before = snapshot(world.db)
    outside, inside = case.outside(), case.inside()
    for rec in (outside, inside):  # newer than anything stored: only the grant can refuse them
        rec.source_time.CopyFrom(ts(NOW - timedelta(minutes=1)))
    r = send(world.stub, case.method, [outside], world.phu_tho)
    assert outcome(r) == (case.outside_status, *case.outside_expected)
    assert snapshot(world.db) == before
    r = send(world.stub, case.method, [inside], world.phu_tho)
    assert outcome(r) == ("ACCEPTED", "", "")
    assert snapshot(world.db) != before


def test_a_department_source_may_rename_its_unit_but_not_move_it(world):
    """A grant rooted at a department: the department's parent is outside the grant, but keeping it
    is no change; moving the department, or creating units above its kind beneath it, is refused."""
    keep = unit_record("H25.01", "Sở Tư pháp tỉnh Phú Thọ (tên mới)", DEPARTMENT, "H25", t=NOW - timedelta(minutes=1))
    move = unit_record("H25.01", "Sở Tư pháp", DEPARTMENT, "H25.02", t=NOW - timedelta(minutes=1))
    child = unit_record("H25.01.01", "Chi cục Thi hành án", DEPARTMENT, "H25.01")
    commune = unit_record("H25.01.X", "Xã trong sở", COMMUNE, "H25.01")
    r = send(world.stub, "SyncUnits", [move, keep, child, commune], world.department)
    assert [outcome(r, i) for i in range(4)] == [
        ("PERMISSION_DENIED", "parent_code", "OUT_OF_GRANT"), ("ACCEPTED", "", ""),
        ("ACCEPTED", "", ""), ("INVALID", "parent_code", "HIERARCHY")]
    with world.db.read() as conn:
        assert conn.execute(select(schema.units.c.parent_code).where(schema.units.c.code == "H25.01")).scalar() == "H25"


def test_the_catalogue_grant_covers_procedures_only(world):
    before = snapshot(world.db)
    assert outcome(send(world.stub, "SyncDossiers", [dossier_record("HS-C")], world.catalogue)) == (
        "PERMISSION_DENIED", "unit_code", "OUT_OF_GRANT")
    unit = unit_record("H25.98", "Sở", DEPARTMENT, "H25")
    assert outcome(send(world.stub, "SyncUnits", [unit], world.catalogue)) == (
        "PERMISSION_DENIED", "parent_code", "OUT_OF_GRANT")
    assert snapshot(world.db) == before
    r = send(world.stub, "SyncProcedures", [procedure_record("3.000002", "Thủ tục của Hà Nội", "H01.01"),
                                            procedure_record("1.004227", "Đăng ký khai sinh", "H01.01",
                                                             t=NOW - timedelta(minutes=1))], world.catalogue)
    assert r.accepted_count == 2
    # a procedure handed to Hà Nội is Hà Nội's now: Phú Thọ may no longer change it
    grab = procedure_record("1.004227", "Đăng ký khai sinh", "H25", t=NOW - timedelta(seconds=30))
    assert outcome(send(world.stub, "SyncProcedures", [grab], world.phu_tho)) == (
        "PERMISSION_DENIED", "code", "OUT_OF_GRANT")


def test_units_of_one_batch_in_any_order_and_chains_of_refusals(world):
    """Children before their parent in a batch are judged once the parent is accepted; a child of a
    refused unit is refused (UNKNOWN_UNIT: its parent does not exist); cycles are refused."""
    recs = [
        unit_record("H25.S9.1", "Chi cục", DEPARTMENT, "H25.S9"),  # 0: before its parent
        unit_record("H25.S9", "Sở mới", DEPARTMENT, "H25"),  # 1
        unit_record("H25.P9.1", "Sở dưới tỉnh giả", DEPARTMENT, "H25.P9"),  # 2: its parent is refused
        unit_record("H25.P9", "Tỉnh giả", PROVINCE, "H25"),  # 3
        unit_record("H25.C1", "Vòng 1", DEPARTMENT, "H25.C2"),  # 4, 5: a cycle of new units
        unit_record("H25.C2", "Vòng 2", DEPARTMENT, "H25.C1"),
        unit_record("H25", "UBND tỉnh Phú Thọ", PROVINCE, "H25.01"),  # 6: beneath its own department
    ]
    r = send(world.stub, "SyncUnits", recs, world.national)
    assert [outcome(r, i) for i in range(len(recs))] == [
        ("ACCEPTED", "", ""), ("ACCEPTED", "", ""),
        ("INVALID", "parent_code", "UNKNOWN_UNIT"), ("INVALID", "parent_code", "HIERARCHY"),
        ("INVALID", "parent_code", "UNKNOWN_UNIT"), ("INVALID", "parent_code", "UNKNOWN_UNIT"),
        ("INVALID", "parent_code", "HIERARCHY")]
    cycle = unit_record("H25.S9", "Sở mới", DEPARTMENT, "H25.S9.1", t=NOW - timedelta(minutes=1))
    assert outcome(send(world.stub, "SyncUnits", [cycle], world.phu_tho)) == (
        "INVALID", "parent_code", "INCONSISTENT")


# ------------------------------------------------------------------ hygiene: codes, text, clock


def test_codes_are_canonical_upper_case(world):
    before = snapshot(world.db)
    lower_unit = unit_record("h25.case", "UBND xã chữ thường", COMMUNE, "H25")
    lower_parent = unit_record("H25.CASE", "UBND xã", COMMUNE, "h25")
    lower_successor = merged("H25.CASE", "H25", "h25.x1")
    r = send(world.stub, "SyncUnits", [lower_unit, lower_parent, lower_successor], world.phu_tho)
    assert [outcome(r, i) for i in range(3)] == [("INVALID", "code", "NOT_CANONICAL"),
                                                 ("INVALID", "parent_code", "NOT_CANONICAL"),
                                                 ("INVALID", "merged_into_code", "NOT_CANONICAL")]
    assert "H25.CASE" in r.errors[0].message
    records = {
        "SyncProcedures": procedure_record("1.00ab", "Thủ tục", "H25"),
        "SyncUnitProcedures": offer("h25.01"),
        "SyncPublications": publication("h25"),
        "SyncDossiers": dossier_record("HS-L", unit_code="h25.01"),
        "SyncPetitions": petition("PA-L", "h25.01"),
        "SyncReportedTotals": total("h25.01"),
    }
    for method, record in records.items():
        field = "code" if method == "SyncProcedures" else "unit_code"
        assert outcome(send(world.stub, method, [record], world.phu_tho)) == (
            "INVALID", field, "NOT_CANONICAL"), method
    assert snapshot(world.db) == before
    # dossier and petition codes are the source's own keys: kept as sent, case and all
    r = send(world.stub, "SyncDossiers", [dossier_record("hs-a1"), dossier_record("HS-A1")], world.phu_tho)
    assert r.accepted_count == 2
    # and a grant names units canonically
    with world.db.write() as conn, pytest.raises(InvalidArgument, match="upper case"):
        access.set_grants(conn, "igate-phu-tho", ["h25"])


def test_text_is_stored_in_nfc(world):
    nfd = unicodedata.normalize("NFD", "UBND xã Phú Thọ Đông")
    assert nfd != unicodedata.normalize("NFC", nfd)
    procedure = procedure_record("3.000003", unicodedata.normalize("NFD", "Cấp giấy phép"), "H25")
    procedure.field = unicodedata.normalize("NFD", "Hộ tịch")
    pub = publication("H25", decision_number=unicodedata.normalize("NFD", "15/QĐ-UBND về thủ tục"))
    assert send(world.stub, "SyncUnits", [unit_record("H25.X7", nfd, COMMUNE, "H25")], world.phu_tho).accepted_count
    assert send(world.stub, "SyncProcedures", [procedure], world.phu_tho).accepted_count
    assert send(world.stub, "SyncPublications", [pub], world.phu_tho).accepted_count
    with world.db.read() as conn:
        unit = conn.execute(select(schema.units.c.name).where(schema.units.c.code == "H25.X7")).scalar()
        proc = conn.execute(select(schema.procedures.c.name, schema.procedures.c.field)
                            .where(schema.procedures.c.code == "3.000003")).one()
        number = conn.execute(select(schema.publications.c.decision_number)).scalar()
    assert unit == "UBND xã Phú Thọ Đông"
    assert tuple(proc) == ("Cấp giấy phép", "Hộ tịch")
    assert number == "15/QĐ-UBND về thủ tục"
    # the NFD spelling of the same name is the same record, not a second one
    again = unit_record("H25.X7", nfd, COMMUNE, "H25", t=NOW - timedelta(minutes=1))
    assert send(world.stub, "SyncUnits", [again], world.phu_tho).accepted_count == 1
    with world.db.read() as conn:
        assert conn.execute(select(schema.units.c.name).where(schema.units.c.code == "H25.X7")).scalars().all() == [
            "UBND xã Phú Thọ Đông"]


def test_source_times_may_run_two_minutes_ahead_not_fourteen(world):
    """A source time 14 minutes ahead used to be accepted, and a correct update sent later then came
    back STALE until that moment passed."""
    now = datetime.now(HANOI)  # not helpers.NOW: that is the import time, maybe minutes ago
    ahead = dossier_record("HS-F", t=now + timedelta(minutes=14))
    assert outcome(send(world.stub, "SyncDossiers", [ahead], world.phu_tho)) == (
        "INVALID", "source_time", "IN_FUTURE")
    correct = dossier_record("HS-F", t=now - timedelta(seconds=5))
    assert outcome(send(world.stub, "SyncDossiers", [correct], world.phu_tho)) == ("ACCEPTED", "", "")
    slightly = dossier_record("HS-G", t=datetime.now(HANOI) + timedelta(seconds=90))
    assert outcome(send(world.stub, "SyncDossiers", [slightly], world.phu_tho)) == ("ACCEPTED", "", "")


def test_the_allowed_skew_is_a_setting(sqlite_url):
    with ingest_server(sqlite_url, max_clock_skew_seconds=900) as (stub, db, _):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        ahead = dossier_record("HS-F", t=datetime.now(HANOI) + timedelta(minutes=14))
        assert outcome(send(stub, "SyncDossiers", [ahead], tokens.phu_tho)) == ("ACCEPTED", "", "")


# ------------------------------------------------------------------ ranges of dates and instants


def _far_instant():
    t = ts(NOW)
    t.seconds = 253402300799  # 9999-12-31T23:59:59Z, the largest valid Timestamp
    return t


def test_every_date_and_instant_has_a_range(world):
    """Each record is sent with one date or instant out of its range: refused with that field, in a
    batch whose good record is kept. Dossiers received before the first rule version (2022-08-01)
    are accepted: carried over unfinished, they count in later periods."""
    today = NOW.date()
    far = _far_instant()
    pubs = [
        publication("H25", decision_date=day(1, 1, 1)),
        publication("H25", decision_date=day(9999, 12, 31)),
        publication("H25", decision_date=day(today.year + 1, 1, 1)),
        publication("H25", legal_effective_date=day(9999, 12, 31)),
        publication("H25", legal_effective_date=day(1800, 1, 1)),
        publication("H25", listed_time=far),
        publication("H25", decision_date=day(2010, 3, 1), legal_effective_date=day(1995, 1, 1), decision_number="7/QĐ"),
    ]
    r = send(world.stub, "SyncPublications", pubs, world.phu_tho)
    assert [outcome(r, i) for i in range(len(pubs))] == [
        ("INVALID", "decision_date", "OUT_OF_RANGE"),
        ("INVALID", "decision_date", "IN_FUTURE"),
        ("INVALID", "decision_date", "IN_FUTURE"),
        ("INVALID", "legal_effective_date", "OUT_OF_RANGE"),
        ("INVALID", "legal_effective_date", "OUT_OF_RANGE"),
        ("INVALID", "listed_time", "IN_FUTURE"),
        ("ACCEPTED", "", ""),
    ]
    units = [
        unit_record("H25.D1", "Xã", COMMUNE, "H25"),
        unit_record("H25.D2", "Xã", COMMUNE, "H25"),
        merged("H25.D3", "H25", "H25.X1"),
        unit_record("H25.D4", "Xã Thanh Sơn (lập năm 1950)", COMMUNE, "H25"),
    ]
    units[0].valid_from.CopyFrom(day(1, 1, 1))
    units[1].valid_to.CopyFrom(day(9999, 12, 31))
    units[2].merged_on.CopyFrom(day(9999, 12, 31))
    units[3].valid_from.CopyFrom(day(1950, 1, 1))
    units[3].valid_to.CopyFrom(day(today.year + 5, 6, 30))  # a dissolution already decided
    r = send(world.stub, "SyncUnits", units, world.phu_tho)
    assert [outcome(r, i) for i in range(len(units))] == [
        ("INVALID", "valid_from", "OUT_OF_RANGE"), ("INVALID", "valid_to", "OUT_OF_RANGE"),
        ("INVALID", "merged_on", "OUT_OF_RANGE"), ("ACCEPTED", "", "")]
    received = hanoi(2026, 8, 3, 8)
    dossiers = [
        dossier_record("HS-R1", received=hanoi(1999, 12, 31, 23)),
        dossier_record("HS-R2", received=received, due_days=11 * 366),
        finished(dossier_record("HS-R3", received=received), far),
        dossier_record("HS-R4", received=hanoi(2021, 6, 1, 9), due_days=15),  # carried over: accepted
        dossier_record("HS-R5", received=received, due_days=9 * 365),
    ]
    r = send(world.stub, "SyncDossiers", dossiers, world.phu_tho)
    assert [outcome(r, i) for i in range(len(dossiers))] == [
        ("INVALID", "received_time", "OUT_OF_RANGE"), ("INVALID", "due_time", "OUT_OF_RANGE"),
        ("INVALID", "end_time", "IN_FUTURE"), ("ACCEPTED", "", ""),
        ("ACCEPTED", "", "")]
    pets = [petition("PA-R1", "H25.01", due_time=far), petition("PA-R2", "H25.01", resolved_time=far),
            petition("PA-R3", "H25.01", received_time=ts(hanoi(2021, 6, 1, 9)))]
    r = send(world.stub, "SyncPetitions", pets, world.phu_tho)
    assert [outcome(r, i) for i in range(len(pets))] == [
        ("INVALID", "due_time", "OUT_OF_RANGE"), ("INVALID", "resolved_time", "IN_FUTURE"),
        ("ACCEPTED", "", "")]
    this_month = (today.year, today.month)
    next_month = (today.year + today.month // 12, today.month % 12 + 1)
    totals = [total("H25.01", 1999, 12), total("H25.01", *next_month), total("H25.01", today.year + 1, 1),
              total("H25.01", 2021, 6), total("H25.01", *this_month)]
    r = send(world.stub, "SyncReportedTotals", totals, world.phu_tho)
    expected_next = "year" if next_month[0] > today.year else "month"
    assert [outcome(r, i) for i in range(len(totals))] == [
        ("INVALID", "year", "OUT_OF_RANGE"), ("INVALID", expected_next, "IN_FUTURE"),
        ("INVALID", "year", "IN_FUTURE"), ("ACCEPTED", "", ""),
        ("ACCEPTED", "", "")]


def test_an_atomic_batch_names_the_record_and_field_out_of_range(world):
    bad = publication("H25", decision_date=day(9999, 12, 31))
    request = pb.SyncPublicationsRequest(request_id="atomic-range", atomic=True, records=[publication("H25"), bad])
    with pytest.raises(grpc.RpcError) as err:
        world.stub.SyncPublications(request, metadata=auth(world.phu_tho))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    from services.shared.grpc_errors import details_from_rpc_error

    _, bad_request = details_from_rpc_error(err.value)
    assert [v.field for v in bad_request.field_violations] == ["records[1].decision_date"]
