"""Faults found by trying the public API from outside (issue 16 item 4): one default of scope in every
service, no data that looks like data, periods that have not started, and an as_of that is capped
without a word — through real ingest, scoring and publish servers on SQLite and PostgreSQL.

October 2026, every dossier received Mon 5 Oct 08:00 and due 5 days later (Sat 10 Oct 08:00):
  o1  H25 (the province's own People's Committee)  ended 7 Oct   on time
  o2  H25.01 (Sở Tư pháp)                          ended 15 Oct  late
  o3  H25.01                                       ended 8 Oct   on time
  pet H25.02 (Sở Xây dựng): one petition received 12 Oct, due 22 Oct, resolved 20 Oct; no dossier
Hà Nội (H01, H01.01) and the commune H25.X1 have no record of October at all; nobody has one of August.

By hand, 2.1 (max 20, linear; the same under 766/2022 and portal/2025 for dossiers with due times):
  H25 alone           on time o1 of {o1}            1/1 → 20 × 1   = 20.00
  H25 with subtree    on time o1 o3 of {o1 o2 o3}   2/3 → 20 × 2/3 = 13.33
  H25.01              on time o3 of {o2 o3}         1/2 → 10.00
Before the fix scoring read an unset scope as the subtree (2/3) and publish as the unit (1/1): the
same request gave two answers.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from services.shared.grpc_errors import details_from_rpc_error
from tests.helpers import (
    NOW,
    auth,
    dossier_record,
    eventually,
    hanoi,
    ingest_server,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
    ts,
    wait_scored,
)

OCT = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=10)
AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
JAN_2030 = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2030, number=1)
UNIT, SUBTREE, UNSET = tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE, tpb.SCOPE_UNSPECIFIED


def ended(code, unit, end_day):
    rec = dossier_record(code, unit, received=hanoi(2026, 10, 5, 8), due_days=5)
    rec.end_time.CopyFrom(ts(hanoi(2026, 10, end_day, 10)))
    rec.end_state, rec.processing_state = ipb.END_STATE_COMPLETED, ipb.PROCESSING_STATE_UNSPECIFIED
    return rec


def on_time(sc):
    i = {i.id: i for i in sc.indicators}["2.1"]
    return i.numerator, i.denominator, i.points.value


def refused(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    info, violations = details_from_rpc_error(err.value)
    return err.value.code(), info.reason, [v.field for v in violations.field_violations]


@pytest.fixture
def world(db_url, tmp_path):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url) as (scoring, scoring_handle), \
                publish_server(db_url, scoring_handle.address, key_file=signing_key_file(tmp_path)) as (pub, _):
            r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="october", records=[
                ended("o1", "H25", 7), ended("o2", "H25.01", 15), ended("o3", "H25.01", 8)]),
                metadata=auth(tokens.national))
            assert r.result.accepted_count == 3, r.result
            petition = ipb.PetitionRecord(
                code="pet", unit_code="H25.02", category=ipb.PETITION_CATEGORY_RULES,
                received_time=ts(hanoi(2026, 10, 12, 9)), due_time=ts(hanoi(2026, 10, 22, 9)),
                resolved_time=ts(hanoi(2026, 10, 20, 9)), rating=ipb.RATING_SATISFIED,
                source_time=ts(NOW - timedelta(minutes=30)))
            r = ingest.SyncPetitions(ipb.SyncPetitionsRequest(request_id="pet", records=[petition]),
                                     metadata=auth(tokens.national))
            assert r.result.accepted_count == 1, r.result
            wait_scored(db)

            def live(unit, scope):
                return pub.GetScorecard(ppb.GetScorecardRequest(unit_code=unit, period=OCT, scope=scope)).scorecard

            eventually(lambda: on_time(live("H25", UNIT).scorecard)[:2] == (1, 1)
                       and on_time(live("H25", SUBTREE).scorecard)[:2] == (2, 3), tolerate=(grpc.RpcError,),
                       what="October in publish")
            yield scoring, pub, tokens


def scorecard(scoring, unit, scope=UNSET, period=OCT, **kw):
    return scoring.GetScorecard(spb.GetScorecardRequest(unit_code=unit, period=period, scope=scope, **kw)).scorecard


def test_an_unset_scope_means_the_unit_alone_in_every_service(world):
    scoring, pub, tokens = world
    # scoring: GetScorecard
    alone, subtree = scorecard(scoring, "H25", UNIT), scorecard(scoring, "H25", SUBTREE)
    assert on_time(alone) == (1, 1, "20.00") and on_time(subtree) == (2, 3, "13.33")
    unset = scorecard(scoring, "H25")
    assert unset.scope == UNIT and on_time(unset) == (1, 1, "20.00") and unset.total == alone.total
    assert alone.total != subtree.total  # the two answers the same request used to get
    # scoring: BatchGetScorecards, GetRanking, ExplainIndicator
    batch = scoring.BatchGetScorecards(spb.BatchGetScorecardsRequest(keys=[
        spb.ScorecardKey(unit_code="H25", period=OCT), spb.ScorecardKey(unit_code="H25.01", period=OCT)]))
    assert [(s.scope, on_time(s)) for s in batch.scorecards] == [(UNIT, (1, 1, "20.00")), (UNIT, (1, 2, "10.00"))]
    ranking = scoring.GetRanking(spb.GetRankingRequest(period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE)).ranking
    assert ranking.scope == UNIT and [(e.rank, e.unit.code, e.total) for e in ranking.entries] == [
        (1, "H25", alone.total)]
    explain = spb.ExplainIndicatorRequest(unit_code="H25", period=OCT, indicator_id="2.1", rule_version="766/2022")
    assert scoring.ExplainIndicator(explain, metadata=auth(tokens.phu_tho)).total_size == 0  # o1 was on time
    explain.scope = SUBTREE
    late = scoring.ExplainIndicator(explain, metadata=auth(tokens.phu_tho)).items
    assert [i.record_key.split("/")[-1] for i in late] == ["o2"]
    with pytest.raises(grpc.RpcError) as err:
        scorecard(scoring, "H25", scope=7)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # publish: GetScorecard gives what scoring gives, for an unset scope too
    live = pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=OCT)).scorecard.scorecard
    assert live.scope == UNIT and on_time(live) == (1, 1, "20.00") and live.total == unset.total
    live_subtree = pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=OCT, scope=SUBTREE))
    assert live_subtree.scorecard.scorecard.total == subtree.total
    # publish's live ranking ranks provinces as wholes, and says so
    ranked = pub.GetRanking(ppb.GetRankingRequest(period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE)).ranking
    assert ranked.scope == SUBTREE and [(e.rank, e.unit.code, e.total) for e in ranked.entries] == [
        (1, "H25", subtree.total)]


def test_no_data_is_said_and_such_units_are_listed_apart(world):
    scoring, pub, tokens = world
    # Hà Nội has no record of October; the commune neither; Sở Xây dựng has a petition only
    hanoi_card = scorecard(scoring, "H01", SUBTREE)
    assert hanoi_card.no_data and on_time(hanoi_card) == (0, 0, "0.00")
    assert scorecard(scoring, "H25.X1").no_data
    assert not scorecard(scoring, "H25.02").no_data  # a petition received, due and resolved in October
    assert not scorecard(scoring, "H25", SUBTREE).no_data and not scorecard(scoring, "H25").no_data
    ranking = scoring.GetRanking(spb.GetRankingRequest(period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                       scope=SUBTREE)).ranking
    assert [(e.rank, e.unit.code) for e in ranking.entries] == [(1, "H25")]
    assert [(u.code, u.name) for u in ranking.units_without_data] == [("H01", "UBND thành phố Hà Nội")]
    depts = scoring.GetRanking(spb.GetRankingRequest(period=OCT, unit_kind=tpb.UNIT_KIND_DEPARTMENT)).ranking
    assert [e.unit.code for e in depts.entries] == ["H25.01", "H25.02"]
    assert [u.code for u in depts.units_without_data] == ["H01.01"]
    # August: no record at all anywhere — nobody is ranked (it used to rank every province 1st at the
    # same total, from the catalogue and the no-data rules alone)
    august = scoring.GetRanking(spb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                      scope=SUBTREE)).ranking
    assert not august.entries and [u.code for u in august.units_without_data] == ["H01", "H25"]
    assert scorecard(scoring, "H25", SUBTREE, AUG).no_data
    # publish: the live ranking, its export, and an official publication mark it too
    live = pub.GetRanking(ppb.GetRankingRequest(period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE)).ranking
    subtree_total = scorecard(scoring, "H25", SUBTREE).total.value
    assert [e.unit.code for e in live.entries] == ["H25"] and [u.code for u in live.units_without_data] == ["H01"]
    export = pub.ExportResults(ppb.ExportResultsRequest(format=ppb.EXPORT_FORMAT_CSV, ranking=ppb.GetRankingRequest(
        period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE)))
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [(r["Hạng"], r["Mã đơn vị"], r["Tổng điểm"]) for r in rows] == [("1", "H25", subtree_total), ("", "H01", "")]
    assert rows[1]["Xếp loại"] == "Chưa có dữ liệu" and rows[0]["Xếp loại"] != "Chưa có dữ liệu"
    publication = pub.CreatePublication(ppb.CreatePublicationRequest(
        request_id="oct", period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=SUBTREE),
        metadata=auth(tokens.operator)).publication
    assert [(s.unit.code, s.no_data) for s in publication.scorecards] == [("H01", True), ("H25", False)]
    assert [e.unit.code for e in publication.ranking.entries] == ["H25"]
    assert [u.code for u in publication.ranking.units_without_data] == ["H01"]
    frozen = pub.ExportResults(ppb.ExportResultsRequest(publication_id=publication.publication_id,
                                                        format=ppb.EXPORT_FORMAT_CSV))
    rows = list(csv.DictReader(io.StringIO(frozen.content.decode("utf-8-sig"))))
    assert [(r["Hạng"], r["Mã đơn vị"], r["Tổng điểm"], r["Xếp loại"]) for r in rows][1] == (
        "", "H01", "", "Chưa có dữ liệu")


def test_a_period_that_has_not_started_is_invalid_argument(world):
    scoring, pub, tokens = world
    not_started = (grpc.StatusCode.INVALID_ARGUMENT, "PERIOD_NOT_STARTED", ["period"])
    assert refused(lambda: scorecard(scoring, "H25", period=JAN_2030)) == not_started
    assert refused(lambda: scoring.GetRanking(spb.GetRankingRequest(
        period=JAN_2030, unit_kind=tpb.UNIT_KIND_PROVINCE))) == not_started
    assert refused(lambda: scoring.BatchGetScorecards(spb.BatchGetScorecardsRequest(
        keys=[spb.ScorecardKey(unit_code="H25", period=JAN_2030)]))) == not_started
    assert refused(lambda: scoring.ExplainIndicator(spb.ExplainIndicatorRequest(
        unit_code="H25", period=JAN_2030, indicator_id="2.1"), metadata=auth(tokens.phu_tho))) == not_started
    # a period scored as of a moment before it began
    assert refused(lambda: scorecard(scoring, "H25", as_of=ts(hanoi(2026, 9, 15)))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "PERIOD_NOT_STARTED", ["as_of"])
    # publish's reads, live and official, and its exports
    for call in (lambda: pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=JAN_2030)),
                 lambda: pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=JAN_2030,
                                                                  feed=tpb.FEED_OFFICIAL)),
                 lambda: pub.ListScorecards(ppb.ListScorecardsRequest(period=JAN_2030)),
                 lambda: pub.GetRanking(ppb.GetRankingRequest(period=JAN_2030, unit_kind=tpb.UNIT_KIND_PROVINCE)),
                 lambda: pub.ExportResults(ppb.ExportResultsRequest(format=ppb.EXPORT_FORMAT_JSON,
                                                                    ranking=ppb.GetRankingRequest(
                                                                        period=JAN_2030,
                                                                        unit_kind=tpb.UNIT_KIND_PROVINCE)))):
        assert refused(call)[:2] == not_started[:2]
    # the running month is still scored, provisional; WhatIf plans for any period
    running = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=NOW.year, number=NOW.month)
    assert scorecard(scoring, "H25", period=running).provisional
    assert scoring.WhatIf(spb.WhatIfRequest(rule_version="portal/2025", period=JAN_2030)).scorecard.period == JAN_2030


def test_an_as_of_after_the_end_is_capped_and_both_are_echoed(world):
    scoring, _, _ = world
    end = ts(hanoi(2026, 11, 1))
    asked = ts(hanoi(2026, 11, 15, 10))
    capped = scorecard(scoring, "H25", as_of=asked)
    assert capped.as_of == end and capped.requested_as_of == asked and on_time(capped) == (1, 1, "20.00")
    plain = scorecard(scoring, "H25")
    assert plain.as_of == end and not plain.HasField("requested_as_of")
    inside = ts(hanoi(2026, 10, 20, 12))
    used = scorecard(scoring, "H25", SUBTREE, as_of=inside)
    assert used.as_of == inside and not used.HasField("requested_as_of")
    assert on_time(used) == (2, 3, "13.33")  # o2 ended late on 15 Oct, before the moment
    batch = scoring.BatchGetScorecards(spb.BatchGetScorecardsRequest(
        keys=[spb.ScorecardKey(unit_code="H25", period=OCT)], as_of=asked)).scorecards[0]
    assert batch.as_of == end and batch.requested_as_of == asked
    ranking = scoring.GetRanking(spb.GetRankingRequest(period=OCT, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                       as_of=asked)).ranking
    assert ranking.as_of == end and ranking.requested_as_of == asked
