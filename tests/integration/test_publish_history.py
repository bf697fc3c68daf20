"""A unit's history (GetScorecardHistory) and rank changes (GetRanking's previous ranks) through real
ingest, scoring and publish servers on loopback, on SQLite and PostgreSQL.

Every dossier is received on the 3rd at 08:00 and due 5 days later (the 8th at 08:00); one that
ends on the 5th or 6th is on time, one that ends on the 12th is late. Worked by hand:

  July 2026      Phú Thọ H25.01: 2 of 2 on time   Hà Nội H01.01: 1 of 2   Tuyên Quang H30.01: 0 of 2
  August 2026    Phú Thọ H25.01: 2 of 2 on time   Hà Nội H01.01: 1 of 2   Tuyên Quang H30.01: 1 of 2

2.1 = 20 × on time / received (July: 20, 10, 0; August: 20, 10, 10) and 5.4 = 6 × min(1, rate / 0.9)
with rate = (received − late) / received (July: 6, 3.33, 0; August: 6, 3.33, 3.33). Hà Nội and
Tuyên Quang have the same catalogue and the same kind of dossiers, so every other indicator gives
them the same points; Phú Thọ's catalogue can only add points (N/A gives 0). So, with subtrees:

  July     1 H25, 2 H01, 3 H30          August   1 H25, 2 H01, 2 H30 (tied, listed by code)

"""

from __future__ import annotations

from datetime import datetime

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb
from sqlalchemy import event

from services.scoring.domain.periods import HANOI
from services.shared.grpc_errors import details_from_rpc_error
from tests.helpers import (
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
    unit_record,
)

JUL = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=7)
AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
JUN = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=6)
UNIT, SUBTREE = tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE
PROVINCE = tpb.UNIT_KIND_PROVINCE


def ended(code, unit, month, end_day):
    rec = dossier_record(code, unit, received=hanoi(2026, month, 3, 8), due_days=5)
    rec.end_time.CopyFrom(ts(hanoi(2026, month, end_day, 10)))
    rec.end_state = ipb.END_STATE_COMPLETED
    rec.processing_state = ipb.PROCESSING_STATE_UNSPECIFIED
    return rec


def on_time(pub, unit, period, scope=SUBTREE):
    sc = pub.GetScorecard(pb.GetScorecardRequest(unit_code=unit, period=period, scope=scope)).scorecard
    ind = {i.id: i for i in sc.scorecard.indicators}["2.1"]
    return ind.numerator, ind.denominator


def error_of(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    info, _ = details_from_rpc_error(err.value)
    return err.value.code(), info.reason


@pytest.fixture
def world(db_url, tmp_path):
    key = signing_key_file(tmp_path)
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        units = [unit_record("H30", "UBND tỉnh Tuyên Quang", 4),
                 unit_record("H30.01", "Sở Tư pháp tỉnh Tuyên Quang", 5, "H30")]
        assert ingest.SyncUnits(ipb.SyncUnitsRequest(request_id="h30", records=units),
                                metadata=auth(tokens.national)).result.accepted_count == 2
        with scoring_server(db_url) as (_scoring, scoring_handle), \
                publish_server(db_url, scoring_handle.address, key_file=key) as (pub, handle):
            records = [ended("ja1", "H25.01", 7, 5), ended("ja2", "H25.01", 7, 6),
                       ended("jb1", "H01.01", 7, 5), ended("jb2", "H01.01", 7, 12),
                       ended("jc1", "H30.01", 7, 12), ended("jc2", "H30.01", 7, 12),
                       ended("a1", "H25.01", 8, 5), ended("a2", "H25.01", 8, 6),
                       ended("b1", "H01.01", 8, 5), ended("b2", "H01.01", 8, 12),
                       ended("c1", "H30.01", 8, 5), ended("c2", "H30.01", 8, 12)]
            r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="jul-aug", records=records),
                                    metadata=auth(tokens.national))
            assert r.result.accepted_count == len(records), r.result
            eventually(lambda: [on_time(pub, u, p) for p in (JUL, AUG) for u in ("H25", "H01", "H30")]
                       == [(2, 2), (1, 2), (0, 2), (2, 2), (1, 2), (1, 2)], tolerate=(grpc.RpcError,),
                       what="live results of July and August")
            yield {"pub": pub, "handle": handle, "tokens": tokens}


def test_a_units_history_has_every_period_with_its_rank_among_its_peers(world):
    pub = world["pub"]
    history = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(
        unit_code="H30", scope=SUBTREE, end_period=AUG, period_count=3))
    assert (history.unit.code, history.unit.name, history.unit.kind) == ("H30", "UBND tỉnh Tuyên Quang", PROVINCE)
    assert [p.period for p in history.points] == [JUN, JUL, AUG]  # oldest first, June without data
    june, july, august = history.points
    assert not june.HasField("scorecard") and not june.HasField("rank") and june.ranked_count == 0
    assert (july.rank, july.ranked_count) == (3, 3) and (august.rank, august.ranked_count) == (2, 3)
    # each point's scorecard is publish's GetScorecard of that period
    for point in (july, august):
        assert point.HasField("rank")
        alone = pub.GetScorecard(pb.GetScorecardRequest(unit_code="H30", period=point.period, scope=SUBTREE))
        assert point.scorecard == alone.scorecard
        assert point.scorecard.feed == tpb.FEED_LIVE and point.scorecard.scorecard.scope == SUBTREE
    points_21 = [{i.id: i for i in p.scorecard.scorecard.indicators}["2.1"].points.value for p in (july, august)]
    assert points_21 == ["0.00", "10.00"]
    # Phú Thọ first in both; Hà Nội second in both
    for unit, ranks in (("H25", [1, 1]), ("H01", [2, 2])):
        got = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code=unit, scope=SUBTREE, end_period=AUG,
                                                                    period_count=2))
        assert [(p.rank, p.ranked_count) for p in got.points] == [(ranks[0], 3), (ranks[1], 3)]
    # the default scope is the unit alone: a province's committee itself has no dossiers, so no live
    # scorecard (publish records those of units with records and of the subtrees that hold them)
    alone = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", end_period=AUG, period_count=2))
    assert [(p.HasField("scorecard"), p.HasField("rank"), p.ranked_count) for p in alone.points] == [
        (False, False, 0), (False, False, 0)]
    # a department is ranked among its province's departments (Phú Thọ's other one has no data)
    dept = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H25.01", end_period=AUG, period_count=1))
    assert [(p.period, p.rank, p.ranked_count) for p in dept.points] == [(AUG, 1, 1)]
    # quarters: Q3 holds July and August (H25 4 of 4, H01 2 of 4, H30 1 of 4 on time)
    q3 = tpb.Period(kind=tpb.PERIOD_KIND_QUARTER, year=2026, number=3)
    quarters = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", scope=SUBTREE, end_period=q3,
                                                                      period_count=2))
    assert [p.period.number for p in quarters.points] == [2, 3]
    assert (quarters.points[1].rank, quarters.points[1].ranked_count) == (3, 3)
    assert {i.id: i for i in quarters.points[1].scorecard.scorecard.indicators}["2.1"].numerator == 1


def test_history_defaults_and_bad_requests(world):
    pub = world["pub"]
    today = datetime.now(HANOI)
    # default: the 12 months ending with the one running now
    got = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", scope=SUBTREE))
    assert len(got.points) == 12
    assert (got.points[-1].period.year, got.points[-1].period.number) == (today.year, today.month)
    months = [(p.period.year, p.period.number) for p in got.points]
    assert months == sorted(months) and len(set(months)) == 12
    # a kind without an end: the running period of that kind
    years = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", period_kind=tpb.PERIOD_KIND_YEAR,
                                                                  period_count=2))
    assert [(p.period.kind, p.period.year) for p in years.points] == [
        (tpb.PERIOD_KIND_YEAR, today.year - 1), (tpb.PERIOD_KIND_YEAR, today.year)]

    def history(**kw):
        return lambda: pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(**kw))

    assert error_of(history(unit_code="H99", end_period=AUG)) == (grpc.StatusCode.NOT_FOUND, "UNIT_NOT_FOUND")
    assert error_of(history(end_period=AUG))[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert error_of(history(unit_code="H30", end_period=AUG, period_count=61)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "BAD_PERIOD_COUNT")
    assert error_of(history(unit_code="H30", end_period=AUG, period_count=-1))[1] == "BAD_PERIOD_COUNT"
    assert error_of(history(unit_code="H30", end_period=AUG, period_kind=tpb.PERIOD_KIND_QUARTER)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "PERIOD_KIND_MISMATCH")
    future = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=today.year + 1, number=1)
    assert error_of(history(unit_code="H30", end_period=future)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "PERIOD_NOT_STARTED")
    assert error_of(history(unit_code="H30", end_period=tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026,
                                                                   number=13)))[1] == "BAD_PERIOD"


def test_history_is_one_read_whatever_the_number_of_periods(world):
    """Twelve or sixty periods: the same few statements (the unit, its scorecards with their ranks)."""
    pub, db = world["pub"], world["handle"].publish.db
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engines = {id(e): e for e in (db.read_engine, db.write_engine) if e is not None}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        for n in (1, 12, 60):
            statements.clear()
            pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", scope=SUBTREE, end_period=AUG,
                                                                  period_count=n))
            # (the follower's own reads run beside it: count the statements on the tables it reads)
            mine = [s for s in statements if "publish_units" in s or " AS me" in s]
            assert len(mine) == 2, (n, mine)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def test_rankings_carry_the_previous_periods_rank_live_and_official(world):
    pub, tokens = world["pub"], world["tokens"]
    live = pub.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=PROVINCE))
    assert live.previous_period == JUL and live.previous_publication_id == ""
    assert [(e.rank, e.unit.code, e.previous_rank) for e in live.ranking.entries] == [
        (1, "H25", 1), (2, "H01", 2), (2, "H30", 3)]
    # June: scoring ranks every province at the same no-data total or leaves them out; either way
    # no July rank is worse than its June rank would show — the previous period is June
    july = pub.GetRanking(pb.GetRankingRequest(period=JUL, unit_kind=PROVINCE))
    assert july.previous_period == JUN

    # official: ranks from the publications of July and August
    ops = auth(tokens.operator)
    with pytest.raises(grpc.RpcError):
        pub.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=PROVINCE, feed=tpb.FEED_OFFICIAL))
    jul_pub = pub.CreatePublication(pb.CreatePublicationRequest(request_id="jul", period=JUL, unit_kind=PROVINCE,
                                                                scope=SUBTREE), metadata=ops).publication
    aug_pub = pub.CreatePublication(pb.CreatePublicationRequest(request_id="aug", period=AUG, unit_kind=PROVINCE,
                                                                scope=SUBTREE), metadata=ops).publication
    official = pub.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=PROVINCE, feed=tpb.FEED_OFFICIAL))
    assert official.previous_period == JUL and official.previous_publication_id == jul_pub.publication_id
    assert [(e.rank, e.unit.code, e.previous_rank) for e in official.ranking.entries] == [
        (1, "H25", 1), (2, "H01", 2), (2, "H30", 3)]
    # the same asked by publication id; July's own ranking has no previous publication
    by_id = pub.GetRanking(pb.GetRankingRequest(publication_id=aug_pub.publication_id, feed=tpb.FEED_OFFICIAL))
    assert by_id.ranking == official.ranking
    first = pub.GetRanking(pb.GetRankingRequest(period=JUL, unit_kind=PROVINCE, feed=tpb.FEED_OFFICIAL))
    assert first.previous_publication_id == "" and not any(e.HasField("previous_rank") for e in first.ranking.entries)
    # the publication itself is what was signed: it carries no previous ranks
    assert not any(e.HasField("previous_rank") for e in aug_pub.ranking.entries)

    # official history: ranks as the publications froze them
    alone = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", end_period=AUG, period_count=3,
                                                                  feed=tpb.FEED_OFFICIAL))
    assert not any(p.HasField("scorecard") for p in alone.points)  # the unit alone by default: not published
    got = pub.GetScorecardHistory(pb.GetScorecardHistoryRequest(unit_code="H30", end_period=AUG, period_count=3,
                                                                scope=SUBTREE, feed=tpb.FEED_OFFICIAL))
    assert [(p.HasField("scorecard"), p.rank, p.ranked_count) for p in got.points] == [
        (False, 0, 0), (True, 3, 3), (True, 2, 3)]
    assert [(p.scorecard.publication_id, p.scorecard.feed, p.scorecard.scorecard.scope) for p in got.points[1:]] == [
        (jul_pub.publication_id, tpb.FEED_OFFICIAL, SUBTREE), (aug_pub.publication_id, tpb.FEED_OFFICIAL, SUBTREE)]
    assert got.points[2].scorecard.scorecard == next(s for s in aug_pub.scorecards if s.unit.code == "H30")
