"""Scoring from stored records, through the real ingest and scoring servers, on SQLite and PostgreSQL.

One province (Phú Thọ, H25) gets a hand-made August 2026: nine dossiers that exercise every on-time
rule, offers, publications, petitions and a reported total. Every expected point below is worked
out here from the rule table's numbers (max × min(1, rate / threshold)), not taken from the code.

Dossiers of August 2026 (due = received + 5 days unless said):
  d1 H25.01 P1 online, ended on time, e-result, digitised + linked, reused, fee paid online, population data
  d2 H25.01 P1 online, ended 4 days late, digitised, fee not paid, rated dissatisfied
  d3 H25.01 P2 in person, ended on time but after 2 supplement requests (late), fee paid (local gateway)
  d4 H25.01 P2 in person, unfinished, due 25 Aug → overdue at the end of August (late)
  d5 H25.X1 P1 online, unfinished, due 3 Sep → on time at the end of August; digitised; e-certified copy
  d6 H25.X1 P1 in person, waiting on its one supplement request made before the due time → on time
  d7 H25.X1 P1 in person, received 28 Jul, ended 1 Aug on time (carried over into August); petitioned
  d8 H25.02 P1 online, no due time, ended 20 Aug → on time (766); 5-working-day limit met (portal)
  d9 H25.02 P2 in person, ended on time but paused unlawfully (late)
  d10 H25.01 P1, received and ended in July — not in August
"""

from __future__ import annotations

import time
from datetime import timedelta
from fractions import Fraction as F

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb
from google.type import date_pb2

from services.scoring import tables as scoring_tables
from services.scoring.storage import Aggregates
from services.shared import access
from services.shared.grpc_errors import details_from_rpc_error
from tests.helpers import (
    NOW,
    auth,
    dossier_record,
    hanoi,
    ingest_server,
    scoring_server,
    seed_units,
    setup_tokens,
    ts,
    unit_record,
    wait_scored,
)

P1, P2 = "1.004227", "1.001193"
AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
JUL = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=7)


def d(code, unit, proc, received, *, due_days=5, end=None, online=False, **kw):
    rec = dossier_record(code, unit, proc, received=received, due_days=due_days, **kw)
    rec.channel = ipb.CHANNEL_ONLINE if online else ipb.CHANNEL_IN_PERSON
    if end is not None:
        rec.end_time.CopyFrom(ts(end))
        rec.end_state = ipb.END_STATE_COMPLETED
        rec.processing_state = ipb.PROCESSING_STATE_UNSPECIFIED
    return rec


def august_dossiers():
    a = lambda day, hour=8: hanoi(2026, 8, day, hour)  # noqa: E731
    d6 = d("d6", "H25.X1", P1, a(3), supplement_count=1, last_supplement_time=ts(a(6)))
    d6.processing_state = ipb.PROCESSING_STATE_WAITING_SUPPLEMENT
    return [
        d("d1", "H25.01", P1, a(3), end=a(5), online=True, electronic_result=True, digitised=True,
          linked_to_data_store=True, reused_digitised_data=True, fee_amount=50_000, paid_online=True,
          payment_channel=ipb.PAYMENT_CHANNEL_NATIONAL_PLATFORM, used_population_data=True,
          rating=ipb.RATING_SATISFIED),
        d("d2", "H25.01", P1, a(3), end=a(12), online=True, digitised=True, fee_amount=50_000,
          rating=ipb.RATING_DISSATISFIED),
        d("d3", "H25.01", P2, a(4), end=a(8), supplement_count=2, last_supplement_time=ts(a(6)),
          fee_amount=20_000, paid_online=True, payment_channel=ipb.PAYMENT_CHANNEL_LOCAL_GATEWAY),
        d("d4", "H25.01", P2, a(20)),
        d("d5", "H25.X1", P1, a(29), online=True, digitised=True, certified_copy_issued=True),
        d6,
        d("d7", "H25.X1", P1, hanoi(2026, 7, 28, 8), end=a(1), petitioned=True),
        d("d8", "H25.02", P1, a(17), due_days=None, end=a(20), online=True),
        d("d9", "H25.02", P2, a(10), end=a(12), unlawful_pause=True),
        d("d10", "H25.01", P1, hanoi(2026, 7, 3, 8), end=hanoi(2026, 7, 10, 8)),
    ]  # fmt: skip


def push(stub, method, records, token, request_id):
    request_type = {
        "SyncDossiers": ipb.SyncDossiersRequest, "SyncUnitProcedures": ipb.SyncUnitProceduresRequest,
        "SyncPublications": ipb.SyncPublicationsRequest, "SyncPetitions": ipb.SyncPetitionsRequest,
        "SyncReportedTotals": ipb.SyncReportedTotalsRequest, "SyncUnits": ipb.SyncUnitsRequest,
    }[method]  # fmt: skip
    response = getattr(stub, method)(request_type(request_id=request_id, records=records), metadata=auth(token))
    assert response.result.accepted_count == len(records), response.result
    return response


def load_august(stub, tokens):
    seed_units(stub, tokens)
    t = NOW - timedelta(minutes=30)
    offers = [
        ipb.UnitProcedureRecord(unit_code="H25.01", procedure_code=P1, online_level=ipb.ONLINE_LEVEL_FULL, has_fee=True,
                                payment_integrated=True, population_data_eligible=True,
                                population_data_connected=True, source_time=ts(t)),
        ipb.UnitProcedureRecord(unit_code="H25.01", procedure_code=P2, online_level=ipb.ONLINE_LEVEL_NONE, has_fee=True,
                                population_data_eligible=True, source_time=ts(t)),
        ipb.UnitProcedureRecord(unit_code="H25.X1", procedure_code=P1, online_level=ipb.ONLINE_LEVEL_PARTIAL,
                                certified_copy=True, source_time=ts(t)),
    ]  # fmt: skip
    push(stub, "SyncUnitProcedures", offers, tokens.phu_tho, "offers")
    all_parts = list(range(1, 12))
    pubs = [
        ipb.PublicationRecord(unit_code="H25.01", procedure_code=P1, decision_number="QĐ 1/2026",
                              decision_date=date_pb2.Date(year=2026, month=8, day=3),
                              legal_effective_date=date_pb2.Date(year=2026, month=8, day=20),
                              listed_time=ts(hanoi(2026, 8, 5, 9)), parts=all_parts, source_time=ts(t)),
        ipb.PublicationRecord(unit_code="H25.01", procedure_code=P2, decision_number="QĐ 2/2026",
                              decision_date=date_pb2.Date(year=2026, month=8, day=17),
                              legal_effective_date=date_pb2.Date(year=2026, month=8, day=20), source_time=ts(t)),
    ]  # fmt: skip
    push(stub, "SyncPublications", pubs, tokens.phu_tho, "pubs")
    petitions = [
        ipb.PetitionRecord(code="p1", unit_code="H25.01", category=ipb.PETITION_CATEGORY_RULES,
                           received_time=ts(hanoi(2026, 8, 2, 9)), due_time=ts(hanoi(2026, 8, 10, 9)),
                           resolved_time=ts(hanoi(2026, 8, 9, 9)), rating=ipb.RATING_SATISFIED, source_time=ts(t)),
        ipb.PetitionRecord(code="p2", unit_code="H25.01", category=ipb.PETITION_CATEGORY_STAFF,
                           received_time=ts(hanoi(2026, 8, 5, 9)), due_time=ts(hanoi(2026, 8, 15, 9)),
                           resolved_time=ts(hanoi(2026, 8, 20, 9)), rating=ipb.RATING_DISSATISFIED, source_time=ts(t)),
        ipb.PetitionRecord(code="p3", unit_code="H25.01", category=ipb.PETITION_CATEGORY_RULES,
                           received_time=ts(hanoi(2026, 8, 20, 9)), due_time=ts(hanoi(2026, 9, 5, 9)),
                           source_time=ts(t)),
    ]  # fmt: skip
    push(stub, "SyncPetitions", petitions, tokens.phu_tho, "petitions")
    push(stub, "SyncReportedTotals",
         [ipb.ReportedTotalRecord(unit_code="H25.01", year=2026, month=8, dossiers_received=12, source_time=ts(t))],
         tokens.phu_tho, "reported")  # fmt: skip
    push(stub, "SyncDossiers", august_dossiers(), tokens.phu_tho, "august")


@pytest.fixture
def world(db_url):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        with scoring_server(db_url) as (scoring, _handle):
            load_august(ingest, tokens)
            wait_scored(db)
            yield ingest, scoring, db, tokens


def card(stub, unit, period=AUG, scope=tpb.SCOPE_SUBTREE, version="766/2022", **kw):
    return stub.GetScorecard(
        pb.GetScorecardRequest(unit_code=unit, period=period, scope=scope, rule_version=version, **kw)
    ).scorecard


def indicators(sc):
    return {i.id: i for i in sc.indicators}


def exact(i) -> F:
    return F(int(i.points_exact.numerator), int(i.points_exact.denominator))


def pts(maximum, num, den, threshold=F(1)) -> F:
    return maximum * min(F(1), F(num, den) / threshold)


EXPECTED_766 = {
    # id: (numerator, denominator, points) — worked out in the module docstring's terms
    "1.1": (1, 2, pts(6, 1, 2)),  # QĐ 1 decided ≥5 working days before 20 Aug; QĐ 2 (17 Aug) is not
    "1.2": (1, 2, pts(4, 1, 2)),  # QĐ 1 listed 5 Aug (within 5 working days); QĐ 2 never listed
    "1.3": (1, 1, pts(2, 1, 1)),  # one listing, all 11 parts
    "1.4": (9, 12, pts(6, 9, 12)),  # 9 synchronised, 12 reported
    "2.1": (5, 9, pts(20, 5, 9)),  # on time: d1 d5 d6 d7 d8
    "3.1": (2, 3, pts(2, 2, 3, F(4, 5))),  # offers online: H25.01-P1, H25.X1-P1 of 3
    "3.2": (2, 2, pts(4, 2, 2)),
    "3.3": (3, 5, pts(6, 3, 5, F(1, 2))),  # online procedures' dossiers d1 d2 d5 d6 d7; online d1 d2 d5
    "3.4": (2, 2, pts(2, 2, 2)),  # P1 (d1) and P2 (d3) had an online payment
    "3.5": (1, 2, pts(2, 1, 2, F(4, 5))),
    "3.6": (2, 3, pts(6, 2, 3)),  # fee dossiers d1 d2 d3; paid d1 d3
    "4.1": (1, 6, pts(6, 1, 6)),  # finished by 31 Aug: d1 d2 d3 d7 d8 d9; e-result d1
    "4.2": (3, 9, pts(4, 3, 9, F(4, 5))),  # digitised d1 d2 d5
    "4.3": (1, 9, pts(2, 1, 9)),
    "4.4": (1, 1, pts(2, 1, 1)),  # H25.X1 must certify copies and did (d5)
    "4.5": (1, 3, pts(4, 1, 3)),  # digitised d1 d2 d5; linked d1
    "4.6": (1, 2, pts(2, 1, 2)),  # eligible H25.01-P1 (connected), H25.01-P2
    "4.7": (1, 2, pts(2, 1, 2)),  # connected procedure's dossiers d1 d2; d1 used population data
    "5.2": (1, 2, pts(6, 1, 2)),  # due in August: p1 (on time), p2 (late)
    "5.3": (1, 2, pts(6, 1, 2)),  # rated: p1 satisfied, p2 dissatisfied
    "5.4": (4, 9, pts(6, 4, 9, F(9, 10))),  # 9 − {d2, d3, d4, d9 late; d7 petitioned}
}


def test_august_766_worked_by_hand_on_both_databases(world):
    _, scoring, _, _ = world
    sc = card(scoring, "H25")
    got = indicators(sc)
    for ind, (num, den, points) in EXPECTED_766.items():
        assert (got[ind].numerator, got[ind].denominator) == (num, den), ind
        assert exact(got[ind]) == points, (ind, exact(got[ind]), points)
    total = sum(p for _, _, p in EXPECTED_766.values())
    assert F(int(sc.total_exact.numerator), int(sc.total_exact.denominator)) == total
    assert sc.total.value == f"{(total * 100 + F(1, 2)).__floor__() / 100:.2f}"
    assert 50 <= total < 70  # ≈ 58.71
    assert sc.classification == tpb.CLASSIFICATION_AVERAGE and sc.classification_label == "Trung bình"
    assert sc.name == "units/H25/scorecards/2026-08"
    assert sc.unit.name == "UBND tỉnh Phú Thọ" and not sc.provisional
    assert got["1.4"].flags == [] and got["5.2"].status == tpb.INDICATOR_STATUS_SCORED
    # 2.2 and 5.1: analysis beside the points
    times = {t.procedure_code: t for t in sc.processing_times}
    assert times[P1].dossiers == 4  # d1 (2 days) d2 (9) d7 (4) d8 (3) ended in August
    assert times[P1].p50_days.value == "3" and times[P1].p90_days.value == "9"
    assert {c.category: c.petitions for c in sc.petition_categories} == {"RULES": 2, "STAFF": 1}


def test_portal_2025_by_name_on_the_same_data(world):
    _, scoring, _, _ = world
    got = indicators(card(scoring, "H25", version="portal/2025"))
    # d8: 5 working days from Mon 17 Aug end on Sat 22 Aug (a working Saturday, swapped for Mon 31 Aug)
    assert exact(got["2.1"]) == pts(20, 5, 9)
    # 3.3: online d1 d2 d5 d8 of 9 (no result documents), × the 1.4 rate 9/12, threshold 50%
    assert (got["3.3"].numerator, got["3.3"].denominator) == (4, 9)
    assert exact(got["3.3"]) == 6 * min(F(1), F(4, 9) * F(9, 12) / F(1, 2))
    assert exact(got["6.1"]) == 2 and exact(got["6.2"]) == 2  # P1, P2 both had fee dossiers and a payment
    assert (got["6.3"].numerator, got["6.3"].denominator) == (2, 3)  # d1 (national) d3 (gateway) of d1 d2 d3
    assert exact(got["6.3"]) == 4
    assert exact(got["4.4"]) == 2 and "fitted" in got["4.4"].flags
    assert {g.id for g in card(scoring, "H25", version="portal/2025").groups} == {"1", "2", "3", "4", "5", "6"}


def test_scope_alone_subtree_and_period_edges(world):
    ingest, scoring, db, tokens = world
    # H25 alone has no dossiers of its own: 2.1 has no denominator and scores 0
    alone = indicators(card(scoring, "H25", scope=tpb.SCOPE_UNIT))
    assert (alone["2.1"].numerator, alone["2.1"].denominator) == (0, 0) and exact(alone["2.1"]) == 0
    dept = indicators(card(scoring, "H25.01", scope=tpb.SCOPE_UNIT))
    assert (dept["2.1"].numerator, dept["2.1"].denominator) == (1, 4)  # d1 d2 d3 d4: only d1 on time
    # 23:30 on 31 August in Hanoi is 16:30 UTC: August. 00:10 on 1 September is still 31 August in UTC.
    late_night = d("edge-aug", "H01.01", P1, hanoi(2026, 8, 31, 23, 30), end=hanoi(2026, 8, 31, 23, 50))
    after_midnight = d("edge-sep", "H01.01", P1, hanoi(2026, 9, 1, 0, 10), end=hanoi(2026, 9, 1, 0, 40))
    push(ingest, "SyncDossiers", [late_night, after_midnight], tokens.ha_noi, "edges")
    wait_scored(db)
    sep = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=9)
    assert indicators(card(scoring, "H01.01", AUG))["2.1"].denominator == 1
    assert indicators(card(scoring, "H01.01", sep))["2.1"].denominator == 1
    q3 = tpb.Period(kind=tpb.PERIOD_KIND_QUARTER, year=2026, number=3)
    assert indicators(card(scoring, "H01", q3))["2.1"].denominator == 2
    assert indicators(card(scoring, "H25", JUL))["2.1"].denominator == 2  # d7 (received July) and d10


def test_as_of_inside_the_month_rejudges_at_that_moment(world):
    _, scoring, _, _ = world
    as_of = ts(hanoi(2026, 8, 22, 12))
    got = indicators(card(scoring, "H25", as_of=as_of))
    # As of 22 Aug noon: d5 not yet received; d4 (due 25 Aug) unfinished within due → on time.
    # Population: d1 d2 d3 d4 d6 d7 d8 d9 (8); late: d2 d3 d9 → 5 on time.
    assert (got["2.1"].numerator, got["2.1"].denominator) == (5, 8)
    sc = card(scoring, "H25", as_of=as_of)
    assert sc.provisional  # scored before the period's end


def test_live_month_is_scored_as_of_now(world):
    ingest, scoring, db, tokens = world
    overdue = d("live-1", "H01.01", P1, NOW - timedelta(days=2), due_days=None)
    overdue.due_time.CopyFrom(ts(NOW - timedelta(hours=1)))
    within = d("live-2", "H01.01", P1, NOW - timedelta(days=2), due_days=None)
    within.due_time.CopyFrom(ts(NOW + timedelta(hours=3)))
    push(ingest, "SyncDossiers", [overdue, within], tokens.ha_noi, "live")
    wait_scored(db)
    now_month = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=NOW.year, number=NOW.month)
    sc = card(scoring, "H01.01", now_month)
    assert sc.provisional
    assert (indicators(sc)["2.1"].numerator, indicators(sc)["2.1"].denominator) == (1, 2)
    earlier = card(scoring, "H01.01", now_month, as_of=ts(NOW - timedelta(hours=2)))
    assert (indicators(earlier)["2.1"].numerator, indicators(earlier)["2.1"].denominator) == (2, 2)


def test_ranking_with_shared_ranks(world):
    ingest, scoring, db, tokens = world
    # two more departments with the same single late dossier: they tie
    units = [unit_record("H25.03", "Sở Y tế tỉnh Phú Thọ", 5, "H25"),
             unit_record("H25.04", "Sở Nội vụ tỉnh Phú Thọ", 5, "H25")]  # fmt: skip
    push(ingest, "SyncUnits", units, tokens.national, "more-depts")
    a = hanoi(2026, 8, 10, 8)
    same = [d(f"tie-{u}", u, P1, a, end=a + timedelta(days=9)) for u in ("H25.03", "H25.04")]
    push(ingest, "SyncDossiers", same, tokens.phu_tho, "ties")
    wait_scored(db)
    ranking = scoring.GetRanking(
        pb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_DEPARTMENT, parent_code="H25", rule_version="766/2022")
    ).ranking
    entries = [(e.rank, e.unit.code, e.total.value) for e in ranking.entries]
    by_code = {code: (r, total) for r, code, total in entries}
    assert set(by_code) == {"H25.01", "H25.02", "H25.03", "H25.04"}
    assert by_code["H25.03"] == by_code["H25.04"]  # same total, same rank
    ranks = [r for r, _, _ in entries]
    assert ranks == sorted(ranks)
    totals = [float(t) for _, _, t in entries]
    assert totals == sorted(totals, reverse=True)
    # competition ranking: the rank after a tie of two skips one
    for r, _, t in entries:
        first = next(j for j, e in enumerate(entries) if e[2] == t)
        assert r == first + 1, entries
    provinces = scoring.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                        scope=tpb.SCOPE_SUBTREE)).ranking
    # No rule version named: portal/2025 is in force for 2026. Hà Nội has no August data: it used to
    # be ranked 2nd at 14.00 (5.2 and 5.3 full without petitions, 4.4 full everywhere) — points that
    # come from no record. Now it is listed apart, unranked (issue 16 item 4).
    assert provinces.rule_version == "portal/2025" and provinces.scope == tpb.SCOPE_SUBTREE
    assert [(e.rank, e.unit.code) for e in provinces.entries] == [(1, "H25")]
    assert [u.code for u in provinces.units_without_data] == ["H01"]


def test_explain_lists_the_late_dossiers_paged(world):
    _, scoring, _, tokens = world
    phu_tho = auth(tokens.phu_tho)  # the records are Phú Thọ's: its own source may read them
    request = pb.ExplainIndicatorRequest(
        unit_code="H25", period=AUG, rule_version="766/2022", indicator_id="2.1", page_size=3, scope=tpb.SCOPE_SUBTREE
    )
    first = scoring.ExplainIndicator(request, metadata=phu_tho)
    assert first.total_size == 4 and len(first.items) == 3 and first.next_page_token
    request.page_token = first.next_page_token
    second = scoring.ExplainIndicator(request, metadata=phu_tho)
    assert len(second.items) == 1 and not second.next_page_token
    items = {i.record_key.split("/")[1]: i for i in [*first.items, *second.items]}
    assert set(items) == {"d2", "d3", "d4", "d9"}
    assert items["d2"].reason_code == "ended_late"
    assert items["d2"].late_seconds == 4 * 86400  # ended 12 Aug 08:00, due 8 Aug 08:00
    # working days after Saturday 8 August up to Wednesday 12: Monday 10, 11, 12
    assert items["d2"].reason == "Quá hạn 3 ngày làm việc (hạn 08/08/2026, kết thúc 12/08/2026)"
    assert items["d4"].reason_code == "overdue_unfinished"
    assert items["d4"].late_seconds == (6 * 24 + 16) * 3600  # due 25 Aug 08:00; judged 1 Sep 00:00
    assert items["d3"].reason_code == "multiple_supplements" and items["d9"].reason_code == "unlawful_pause"
    assert items["d3"].reason == "Yêu cầu bổ sung 2 lần" and items["d9"].reason == "Tạm dừng không đúng quy định"
    # 2.1 scored 20 × 5/9: 80/9 points lost, shared by the 4 late dossiers (20/9 each)
    assert F(int(first.points_lost_exact.numerator), int(first.points_lost_exact.denominator)) == F(80, 9)
    assert first.points_lost.value == "8.89" and first.headline == "4 bản ghi làm mất 8,89 điểm"
    assert {(i.points.value, i.points_exact.numerator, i.points_exact.denominator) for i in items.values()} == {
        ("2.22", "20", "9")}
    offered = scoring.ExplainIndicator(
        pb.ExplainIndicatorRequest(unit_code="H25", period=AUG, rule_version="766/2022", indicator_id="3.1",
                                   scope=tpb.SCOPE_SUBTREE),
        metadata=phu_tho)
    assert [(i.unit_code, i.record_key, i.reason_code, i.reason) for i in offered.items] == [
        ("H25.01", P2, "not_offered_online", "TTHC chưa cung cấp dịch vụ công trực tuyến")]
    # 3.1: 2 × (2/3)/0.8 = 5/3; the one procedure not offered online cost all 1/3 of a point
    assert (offered.points_lost.value, offered.items[0].points.value) == ("0.33", "0.33")
    # 3.3 at 60% against a 50% threshold has full points: nothing cost it anything (d6, d7 are not online)
    full = scoring.ExplainIndicator(
        pb.ExplainIndicatorRequest(unit_code="H25", period=AUG, rule_version="766/2022", indicator_id="3.3",
                                   scope=tpb.SCOPE_SUBTREE),
        metadata=phu_tho)
    assert (list(full.items), full.total_size, full.points_lost.value) == ([], 0, "0.00")
    assert full.headline == "Đạt điểm tối đa 6,00: không bản ghi nào làm mất điểm"
    with pytest.raises(grpc.RpcError) as err:
        request.page_token = "bm9wZToy"  # noqa: S105 — a forged page token
        scoring.ExplainIndicator(request, metadata=phu_tho)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        scoring.ExplainIndicator(pb.ExplainIndicatorRequest(unit_code="H25", period=AUG, indicator_id="9.9"),
                                 metadata=phu_tho)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_bad_requests(world):
    _, scoring, _, _ = world
    with pytest.raises(grpc.RpcError) as err:
        card(scoring, "H99")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert details_from_rpc_error(err.value)[0].reason == "UNKNOWN_UNIT"
    with pytest.raises(grpc.RpcError) as err:
        card(scoring, "H25", version="766/2099")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        scoring.GetRanking(pb.GetRankingRequest(period=AUG))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        scoring.ListScorecardChanges(pb.ListScorecardChangesRequest(after_cursor="x"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_change_feed_names_the_unit_and_its_ancestors(world):
    _, scoring, _, _ = world
    changes = []
    cursor = ""
    while True:
        page = scoring.ListScorecardChanges(pb.ListScorecardChangesRequest(after_cursor=cursor, page_size=2))
        if not page.changes:
            break
        changes.extend(page.changes)
        cursor = page.next_cursor
    keys = {(c.key.unit_code, c.key.period.year, c.key.period.number, c.key.scope) for c in changes}
    assert ("H25.01", 2026, 8, tpb.SCOPE_UNIT) in keys
    assert ("H25", 2026, 8, tpb.SCOPE_SUBTREE) in keys
    assert ("H25.X1", 2026, 7, tpb.SCOPE_UNIT) in keys  # d7 counted in July and August
    again = scoring.ListScorecardChanges(pb.ListScorecardChangesRequest(after_cursor=cursor))
    assert not again.changes and again.next_cursor == cursor


def snapshot(db):
    out = {}
    with db.read() as conn:
        for table in scoring_tables.AGGREGATES:
            out[table.name] = sorted(tuple(r) for r in conn.execute(table.select()))
    return out


def test_updates_out_of_order_and_repeated_then_rebuild_agrees(world):
    ingest, scoring, db, tokens = world
    later = NOW - timedelta(minutes=5)
    # d4 finishes (late) — a newer version; then an older version arrives late and is stale
    d4 = d("d4", "H25.01", P2, hanoi(2026, 8, 20, 8), end=hanoi(2026, 8, 28, 8), t=later)
    stale = d("d4", "H25.01", P2, hanoi(2026, 8, 20, 8), t=later - timedelta(minutes=1))
    # d2's unit is corrected to H25.02 and it turns out not to be late
    d2 = d("d2", "H25.02", P1, hanoi(2026, 8, 3, 8), end=hanoi(2026, 8, 6, 8), online=True, t=later)
    push(ingest, "SyncDossiers", [d4, d2], tokens.phu_tho, "fix-1")
    response = ingest.SyncDossiers(
        ipb.SyncDossiersRequest(request_id="fix-2", records=[stale]), metadata=auth(tokens.phu_tho)
    )
    assert response.result.stale_count == 1
    wait_scored(db)
    incremental = snapshot(db)
    got = indicators(card(scoring, "H25"))
    assert (got["2.1"].numerator, got["2.1"].denominator) == (6, 9)  # d2 now on time; d4 still late
    assert (indicators(card(scoring, "H25.02", scope=tpb.SCOPE_UNIT))["2.1"].denominator) == 3
    # the same notices applied again change nothing
    with db.write() as conn:
        conn.execute(scoring_tables.score_progress.update().values(last_notice_id=0))
    Aggregates(db).catch_up()
    assert snapshot(db) == incremental
    Aggregates(db).rebuild()
    assert snapshot(db) == incremental


def test_merged_commune_rolls_into_its_successor_after_the_merger(world):
    ingest, scoring, db, tokens = world
    old = unit_record("H25.X9", "UBND xã Thanh Miếu (cũ)", 6, "H25")
    old.merged_into_code = "H25.X1"
    old.merged_on.CopyFrom(date_pb2.Date(year=2026, month=8, day=15))
    push(ingest, "SyncUnits", [old], tokens.national, "merger")
    dossiers = [d("x9-jul", "H25.X9", P1, hanoi(2026, 7, 6, 8), end=hanoi(2026, 7, 7, 8)),
                d("x9-aug", "H25.X9", P1, hanoi(2026, 8, 3, 8), end=hanoi(2026, 8, 4, 8))]  # fmt: skip
    push(ingest, "SyncDossiers", dossiers, tokens.phu_tho, "x9")
    wait_scored(db)
    # August ends after the merger: X9's August dossier is X1's; July ended before it: X1 alone has d7 only
    assert indicators(card(scoring, "H25.X1", scope=tpb.SCOPE_UNIT))["2.1"].denominator == 4  # d5 d6 d7 + x9
    assert indicators(card(scoring, "H25.X1", JUL, scope=tpb.SCOPE_UNIT))["2.1"].denominator == 1  # d7
    assert indicators(card(scoring, "H25.X9", JUL, scope=tpb.SCOPE_UNIT))["2.1"].denominator == 1
    # the province counts each dossier once either way
    assert indicators(card(scoring, "H25"))["2.1"].denominator == 10


def test_batch_get_scorecards_keeps_order(world):
    _, scoring, _, _ = world
    keys = [pb.ScorecardKey(unit_code=u, period=AUG, scope=tpb.SCOPE_UNIT) for u in ("H25.X1", "H25.01", "H25")]
    response = scoring.BatchGetScorecards(pb.BatchGetScorecardsRequest(keys=keys, rule_version="766/2022"))
    assert [s.unit.code for s in response.scorecards] == ["H25.X1", "H25.01", "H25"]
    assert [s.scope for s in response.scorecards] == [tpb.SCOPE_UNIT] * 3


def test_batch_get_scorecards_gives_each_key_what_a_single_call_gives(world):
    """Publish asks for every changed unit under both scopes and four periods in one call; a commune's
    subtree is the commune alone, so the batch scores it once — and must still answer every key
    exactly as GetScorecard does for it (scope included)."""
    _, scoring, _, _ = world
    keys = [(u, p, s) for u in ("H25.X1", "H25.01", "H25") for p in (AUG, JUL)
            for s in (tpb.SCOPE_SUBTREE, tpb.SCOPE_UNIT)]
    response = scoring.BatchGetScorecards(pb.BatchGetScorecardsRequest(
        keys=[pb.ScorecardKey(unit_code=u, period=p, scope=s) for u, p, s in keys], rule_version="766/2022"))
    assert len(response.scorecards) == len(keys)
    for (unit, period, scope), got in zip(keys, response.scorecards, strict=True):
        assert (got.unit.code, got.period, got.scope) == (unit, period, scope)
        single = card(scoring, unit, period, scope=scope)
        for message in (got, single):
            message.ClearField("compute_time")
        assert got == single
    by_key = {(u, p.number, s): sc for (u, p, s), sc in zip(keys, response.scorecards, strict=True)}
    on_time = {k: (indicators(sc)["2.1"].numerator, indicators(sc)["2.1"].denominator)
               for k, sc in by_key.items() if k[1] == 8}
    assert on_time == {  # August, by hand from august_dossiers()
        ("H25", 8, tpb.SCOPE_UNIT): (0, 0),  # the province has no dossiers of its own
        ("H25", 8, tpb.SCOPE_SUBTREE): (5, 9),  # d1 d5 d6 d7 d8 of nine (EXPECTED_766)
        ("H25.01", 8, tpb.SCOPE_UNIT): (1, 4), ("H25.01", 8, tpb.SCOPE_SUBTREE): (1, 4),  # d1 of d1–d4
        ("H25.X1", 8, tpb.SCOPE_UNIT): (3, 3), ("H25.X1", 8, tpb.SCOPE_SUBTREE): (3, 3),  # d5 d6 d7
    }


def test_batch_scores_a_unit_without_subordinates_once_for_both_scopes(world, db_url):
    from services.scoring.domain.periods import Period
    from services.scoring.domain.rules import RuleBook
    from services.scoring.service import SELF, SUBTREE, Scoring
    from services.shared.db import Database

    db = Database(db_url)
    try:
        svc = Scoring(db, RuleBook.load_default(), now=lambda: NOW)
        asked: list[tuple[tuple[str, ...], str]] = []
        scorecards = svc.scorecards

        def counting(codes, period, scope, *args, **kwargs):
            asked.append((tuple(codes), scope))
            return scorecards(codes, period, scope, *args, **kwargs)

        svc.scorecards = counting
        aug = Period.month(2026, 8)
        keys = [(u, aug, s) for u in ("H25.X1", "H25.01", "H25") for s in (SUBTREE, SELF)]
        cards = svc.batch(keys, version="766/2022")
        assert [(c.unit.code, c.scope) for c in cards] == [(u, s) for u, _, s in keys]
        # the commune and the department have no subordinates: scored once; only the province twice
        assert asked == [(("H25.X1", "H25.01", "H25"), SELF), (("H25",), SUBTREE)]
        x1_alone, x1_subtree = cards[1], cards[0]
        assert x1_subtree.scorecard == x1_alone.scorecard and x1_subtree.measures == x1_alone.measures
    finally:
        db.dispose()


def test_consumer_freshness_is_observable(world):
    """An acknowledged batch becomes visible without any call to scoring besides reading."""
    ingest, scoring, _, tokens = world
    rec = d("fresh-1", "H01.01", P1, hanoi(2026, 8, 12, 8), end=hanoi(2026, 8, 13, 8))
    push(ingest, "SyncDossiers", [rec], tokens.ha_noi, "fresh")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if indicators(card(scoring, "H01.01"))["2.1"].denominator == 1:
            break
        time.sleep(0.02)
    assert indicators(card(scoring, "H01.01"))["2.1"].denominator == 1


def test_chiso_score_cli_as_an_official_uses_it(sqlite_url, capsys, monkeypatch):
    from services.scoring.score_cli import main

    with ingest_server(sqlite_url) as (ingest, db, _), scoring_server(sqlite_url) as (_, handle):
        tokens = setup_tokens(db)
        load_august(ingest, tokens)
        wait_scored(db)
        target = ["--target", handle.address, "--rule-version", "766/2022"]
        assert main([*target, "scorecard", "H25", "2026-08", "--subtree"]) == 0
        out = capsys.readouterr().out
        assert "UBND tỉnh Phú Thọ (H25) cùng các đơn vị cấp dưới" in out and "Tổng điểm: 58.71 — Trung bình" in out
        assert main([*target, "scorecard", "H25", "2026-08"]) == 0  # the unit alone: no record of its own
        out = capsys.readouterr().out
        assert "UBND tỉnh Phú Thọ (H25)\n" in out and "Tổng điểm: Chưa có dữ liệu" in out
        assert main([*target, "ranking", "province", "2026-08", "--subtree"]) == 0
        out = capsys.readouterr().out
        assert "   1  H25 " in out and "Chưa có dữ liệu (1, không xếp hạng):\n   –  H01 " in out
        assert main([*target, "explain", "H25", "2026-08", "2.1", "--subtree"]) == 2  # records need a credential
        assert "UNAUTHENTICATED" in capsys.readouterr().err
        with db.write() as conn:
            access.ensure_principal(conn, "ptho-officials", access.OFFICIAL, "Văn phòng UBND tỉnh Phú Thọ")
            access.set_grants(conn, "ptho-officials", ["H25"])
            monkeypatch.setenv("CHISO_TOKEN", access.issue_token(conn, "ptho-officials").token)
        assert main([*target, "explain", "H25", "2026-08", "2.1", "--subtree"]) == 0
        out = capsys.readouterr().out
        assert "2.1 (766/2022): 4 bản ghi làm mất 8,89 điểm" in out
        assert "2,22  Quá hạn 3 ngày làm việc (hạn 08/08/2026, kết thúc 12/08/2026) [ended_late]" in out
        assert main([*target, "ranking", "department", "2026-08", "--parent", "H25"]) == 0
        out = capsys.readouterr().out
        assert "H25.01" in out and "H25.02" in out
        assert main([*target, "scorecard", "H99", "2026-08"]) == 2
        assert "NOT_FOUND" in capsys.readouterr().err


def test_statutory_limits_count_working_days_across_tet(world):
    """portal/2025 judges a dossier without a due time by its procedure's statutory limit in working
    days. Tết 2026: Mon 16 – Fri 20 February are holidays. P1's limit is 5 working days, so a dossier
    received Fri 13 Feb 10:00 is due Fri 27 Feb 10:00 (23, 24, 25, 26, 27) — not Fri 20 Feb."""
    ingest, scoring, db, tokens = world
    feb = lambda day, hour: hanoi(2026, 2, day, hour)  # noqa: E731
    records = [
        d("tet-1", "H01.01", P1, feb(13, 10), due_days=None, end=feb(26, 16)),  # on time
        d("tet-2", "H01.01", P1, feb(13, 10), due_days=None, end=feb(27, 11)),  # an hour late
        d("tet-3", "H01.01", P1, feb(10, 10), due_days=None, end=feb(23, 9)),  # due Tue 24 Feb: on time
    ]
    due_on_tet = d("tet-4", "H01.01", P1, feb(9, 10), due_days=None, end=feb(23, 9))
    due_on_tet.due_time.CopyFrom(ts(feb(17, 10)))  # the source's due time falls on Tết: ended after it, late
    push(ingest, "SyncDossiers", [*records, due_on_tet], tokens.ha_noi, "tet")
    wait_scored(db)
    feb_period = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=2)
    portal = indicators(card(scoring, "H01.01", feb_period, version="portal/2025"))
    assert (portal["2.1"].numerator, portal["2.1"].denominator) == (2, 4)
    decision = indicators(card(scoring, "H01.01", feb_period, version="766/2022"))
    assert (decision["2.1"].numerator, decision["2.1"].denominator) == (3, 4)  # 766/2022: no due time = on time
    late = scoring.ExplainIndicator(pb.ExplainIndicatorRequest(unit_code="H01.01", period=feb_period,
                                                               rule_version="portal/2025", indicator_id="2.1"),
                                    metadata=auth(tokens.ha_noi))
    assert {(i.record_key.split("/")[1], i.late_seconds) for i in late.items} == {
        ("tet-2", 3600), ("tet-4", (6 * 24 - 1) * 3600)}


def test_units_created_after_the_catalogue_was_cached_are_scored(db_url):
    """Scoring caches the unit catalogue; a unit created since (a province's new commune, a new
    province) must be scored at once — from a catalogue that holds it — not refused and never
    INTERNAL. With a cache that would otherwise never expire, every call below asks for units the
    cached catalogue lacks (the race behind a CI failure: GetScorecard's unit check reloaded the
    catalogue, but the scorecard was read with the older one and failed with KeyError)."""
    with ingest_server(db_url) as (ingest, db, _), \
            scoring_server(db_url, catalogue_cache_seconds=3600) as (scoring, _handle):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        assert card(scoring, "H25").unit.code == "H25"  # the catalogue is cached now
        push(ingest, "SyncUnits", [unit_record("H02", "UBND tỉnh Tuyên Quang", 4),
                                   unit_record("H02.X1", "UBND xã Lâm Bình", 6, "H02")], tokens.national, "new")
        push(ingest, "SyncDossiers", [d("new-1", "H02.X1", P1, hanoi(2026, 8, 4, 9), end=hanoi(2026, 8, 5, 9)),
                                      d("new-2", "H02.X1", P1, hanoi(2026, 8, 4, 9), end=hanoi(2026, 8, 20, 9))],
             tokens.national, "new-dossiers")
        wait_scored(db)
        # the change feed names the new commune's ancestors too (publish re-reads the province from it)
        feed = scoring.ListScorecardChanges(pb.ListScorecardChangesRequest(page_size=5000)).changes
        assert {(c.key.unit_code, c.key.scope) for c in feed if c.key.unit_code.startswith("H02")
                and c.key.period == AUG} == {("H02.X1", tpb.SCOPE_UNIT), ("H02.X1", tpb.SCOPE_SUBTREE),
                                             ("H02", tpb.SCOPE_SUBTREE)}
        province = card(scoring, "H02")  # subtree: the commune's two dossiers, one on time (5-day limit)
        assert (province.unit.name, indicators(province)["2.1"].numerator,
                indicators(province)["2.1"].denominator) == ("UBND tỉnh Tuyên Quang", 1, 2)
        push(ingest, "SyncUnits", [unit_record("H03", "UBND tỉnh Lào Cai", 4),
                                   unit_record("H03.X1", "UBND xã Bát Xát", 6, "H03")], tokens.national, "newer")
        ranking = scoring.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_COMMUNE,
                                                          parent_code="H03", rule_version="766/2022")).ranking
        # in the catalogue holding H03; without any record it is listed apart, unranked
        assert [u.code for u in ranking.units_without_data] == ["H03.X1"] and not ranking.entries
        push(ingest, "SyncUnits", [unit_record("H02.X3", "UBND xã Yên Hoa", 6, "H02")], tokens.national, "newest")
        batch = scoring.BatchGetScorecards(pb.BatchGetScorecardsRequest(keys=[
            pb.ScorecardKey(unit_code=u, period=AUG, scope=s) for u in ("H02.X3", "H02")
            for s in (tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE)], rule_version="766/2022"))
        assert [(s.unit.code, indicators(s)["2.1"].denominator) for s in batch.scorecards] == [
            ("H02.X3", 0), ("H02.X3", 0), ("H02", 0), ("H02", 2)]
        push(ingest, "SyncUnits", [unit_record("H04", "UBND tỉnh Điện Biên", 4),
                                   unit_record("H04.X1", "UBND xã Mường Nhé", 6, "H04")], tokens.national, "last")
        push(ingest, "SyncDossiers", [d("new-3", "H04.X1", P1, hanoi(2026, 8, 4, 9), end=hanoi(2026, 8, 20, 9))],
             tokens.national, "last-dossiers")
        wait_scored(db)
        late = scoring.ExplainIndicator(pb.ExplainIndicatorRequest(unit_code="H04", period=AUG,
                                                                   rule_version="766/2022", indicator_id="2.1",
                                                                   scope=tpb.SCOPE_SUBTREE),
                                        metadata=auth(tokens.national))
        assert [(i.unit_code, i.record_key.split("/")[1], i.reason_code) for i in late.items] == [
            ("H04.X1", "new-3", "ended_late")]  # due 9 Aug, ended 20 Aug
        with pytest.raises(grpc.RpcError) as err:
            card(scoring, "H99")
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_catalogue_reload_that_fails_is_tried_again(db_url, monkeypatch):
    """The database fails while scoring reloads a changed catalogue (a restart, a lost connection):
    the call fails, and the next one reloads — it must not take the change as seen and serve the old
    catalogue until the tables change again."""
    from sqlalchemy.exc import OperationalError

    from services.scoring import storage as S
    from services.scoring.domain.periods import Period
    from services.scoring.domain.rules import RuleBook
    from services.scoring.service import Scoring

    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        svc = Scoring(db, RuleBook.load_default(), now=lambda: NOW, cache_seconds=0)

        def provinces():
            ranking = svc.ranking(Period.month(2026, 8), 4, version="766/2022")
            return sorted([card.unit.code for _, card in ranking.entries] + [c.unit.code for c in ranking.without_data])

        assert provinces() == ["H01", "H25"]
        push(ingest, "SyncUnits", [unit_record("H02", "UBND tỉnh Tuyên Quang", 4)], tokens.national, "new")
        real = S.load_units

        def failing(conn):
            raise OperationalError("SELECT …", {}, Exception("server closed the connection unexpectedly"))

        monkeypatch.setattr(S, "load_units", failing)
        with pytest.raises(OperationalError):
            provinces()
        monkeypatch.setattr(S, "load_units", real)
        assert provinces() == ["H01", "H02", "H25"]


def test_a_catalogue_update_older_than_the_newest_row_is_seen(db_url):
    """Scoring reloads its catalogue when the tables' fingerprint changes. An update is stored when it
    is newer than the row it replaces — not necessarily newer than every other row: a commune moved to
    another province by a source whose clock is behind the national catalogue's must be seen too."""
    from services.scoring.domain.periods import Period
    from services.scoring.domain.rules import RuleBook
    from services.scoring.service import Scoring

    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)  # every unit at NOW − 1 h
        svc = Scoring(db, RuleBook.load_default(), now=lambda: NOW, cache_seconds=0)

        def communes_of(province):
            ranking = svc.ranking(Period.month(2026, 8), tpb.UNIT_KIND_COMMUNE, province, version="766/2022")
            return [card.unit.code for _, card in ranking.entries] + [c.unit.code for c in ranking.without_data]

        push(ingest, "SyncUnits", [unit_record("H01", "UBND Thành phố Hà Nội", 4, t=NOW - timedelta(minutes=5))],
             tokens.national, "renamed")  # the newest source time in the table
        assert communes_of("H25") == ["H25.X1"] and communes_of("H01") == []
        moved = unit_record("H25.X1", "UBND phường Việt Trì", 6, "H01", t=NOW - timedelta(minutes=30))
        push(ingest, "SyncUnits", [moved], tokens.national, "moved")  # newer than its row, older than H01's
        assert communes_of("H01") == ["H25.X1"] and communes_of("H25") == []


def test_supplement_requests_without_their_time_explain_as_they_score(world):
    """Issue 16: ingest accepted supplement_count 2 without last_supplement_time; GetScorecard scored it
    late and ExplainIndicator answered INTERNAL. More than one request makes a dossier late whatever
    the time; only a dossier waiting on its one request needs the time, and ingest asks for it."""
    ingest, scoring, db, tokens = world
    two = d("two-requests", "H01.01", P1, hanoi(2026, 8, 10, 8), end=hanoi(2026, 8, 12, 8), supplement_count=2)
    push(ingest, "SyncDossiers", [two], tokens.ha_noi, "two-requests")
    wait_scored(db)
    got = indicators(card(scoring, "H01.01", scope=tpb.SCOPE_UNIT))["2.1"]
    assert (got.numerator, got.denominator) == (0, 1)
    explained = scoring.ExplainIndicator(
        pb.ExplainIndicatorRequest(unit_code="H01.01", period=AUG, rule_version="766/2022", indicator_id="2.1",
                                   scope=tpb.SCOPE_UNIT), metadata=auth(tokens.ha_noi))
    assert [(i.record_key, i.reason_code) for i in explained.items] == [("igate-ha-noi/two-requests",
                                                                   "multiple_supplements")]
    waiting = d("waiting-one", "H01.01", P1, hanoi(2026, 8, 10, 8), supplement_count=1)
    waiting.processing_state = ipb.PROCESSING_STATE_WAITING_SUPPLEMENT
    result = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="waiting-one", records=[waiting]),
                                 metadata=auth(tokens.ha_noi)).result
    assert [(e.field, e.reason) for e in result.errors] == [("last_supplement_time", "REQUIRED")]


def test_portal_6_2_counts_every_fee_bearing_procedure_and_any_successful_payment(world):
    """PORTAL_RULES.md 6.2, corrected 2026-12-05: Y = fee-bearing procedures with at least one successful
    online payment in the period / fee-bearing procedures in the procedure database (6.1's denominator);
    a payment counts whether or not the dossier carried fee data. Before: Y's denominator was the
    procedures that had fee dossiers and a payment needed a fee — here 0/0, not applicable."""
    ingest, scoring, db, tokens = world
    t = NOW - timedelta(minutes=20)
    offers = [ipb.UnitProcedureRecord(unit_code="H01.01", procedure_code=p, online_level=ipb.ONLINE_LEVEL_FULL,
                                      has_fee=True, source_time=ts(t)) for p in (P1, P2)]
    push(ingest, "SyncUnitProcedures", offers, tokens.ha_noi, "fee-offers")
    # paid online through the national platform, but sent without a fee amount (no fee data)
    paid = d("paid-no-fee", "H01.01", P1, hanoi(2026, 8, 10, 8), end=hanoi(2026, 8, 11, 8), online=True,
             paid_online=True, payment_channel=ipb.PAYMENT_CHANNEL_NATIONAL_PLATFORM)
    push(ingest, "SyncDossiers", [paid], tokens.ha_noi, "paid-no-fee")
    wait_scored(db)
    got = indicators(card(scoring, "H01.01", scope=tpb.SCOPE_UNIT, version="portal/2025"))
    assert (got["6.1"].numerator, got["6.1"].denominator) == (0, 2)  # no dossier with fee data
    assert (got["6.2"].numerator, got["6.2"].denominator) == (1, 2)  # P1 paid; of P1, P2
    assert exact(got["6.2"]) == pts(2, 1, 2, F(4, 5)) == F(5, 4)  # 2 × (1/2)/0.8
    explained = scoring.ExplainIndicator(
        pb.ExplainIndicatorRequest(unit_code="H01.01", period=AUG, rule_version="portal/2025", indicator_id="6.2",
                                   scope=tpb.SCOPE_UNIT), metadata=auth(tokens.ha_noi))
    assert [(i.record_key, i.reason_code, i.points.value) for i in explained.items] == [
        (P2, "no_online_payment", "0.75")]
