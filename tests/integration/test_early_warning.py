"""Early warning through the real ingest and scoring servers, on SQLite and PostgreSQL.

Scoring's clock is set to Friday 28 August 2026, 10:00 in Hanoi. The working days after it, on
Vietnam's calendar: Saturday 29 and Sunday 30 are the weekend, Monday 31 August is the day off
substituted for Saturday 22 August, Tuesday 1 and Wednesday 2 September are National Day — so
Thursday 3 September is the first working day, Friday 4 the second, Monday 7 the third. With the
default horizon of 2 working days a dossier is at risk when due from now to Sunday 6 September 23:59.

Sở Tư pháp Hà Nội (H01.01), August 2026, rule version 766/2022 named:
  f1–f6  finished on time
  a1     unfinished, due Thu 3 Sep 09:00       → at risk, 1 working day left
  a2     unfinished, due Sun 6 Sep 23:00       → at risk, 2 working days left
  a3     unfinished, due today 17:00           → at risk, 0 working days left
  a4     unfinished, rated dissatisfied, due Fri 4 Sep 08:00 → at risk, 2 working days left
  b1     unfinished, due Mon 7 Sep 08:00       → not at risk (3 working days)
  b2     unfinished, due today 09:00           → already late, not at risk
  b3     unfinished, no due time, P1 (5 working days), received Tue 25 Aug 08:00: never late under
         766/2022; under portal/2025 its limit runs Wed 26, Thu 27, Fri 28, Thu 3, Fri 4 Sep → due
         Fri 4 Sep 08:00, at risk
and UBND Hà Nội itself (H01): a5 unfinished, due Thu 3 Sep 09:00 (in H01's subtree only).

Points under 766/2022 for H01.01 alone: n = 13 dossiers, 1 late (b2); dissatisfied-or-late
(5.4) = 2 (b2, a4).
  2.1 = 20 · on_time / 13;  5.4 = 6 · min(1, ((13 − dpl) / 13) / 0.9)
  a1, a2, a3 each alone late: 2.1 loses 20/13; 5.4 goes from 11/13 to 10/13 (both under 0.9), losing
      6 · (1/13) / 0.9 = 20/39 — together 80/39 ≈ 2,05
  a4 alone late (already dissatisfied): 2.1 loses 20/13 ≈ 1,54, 5.4 nothing
  all four late: 2.1 loses 80/13, 5.4 loses 6 · (3/13) / 0.9 = 20/13 — 100/13 ≈ 7,69
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction as F

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from tests.helpers import (
    SOURCE_TIME,
    auth,
    dossier_record,
    hanoi,
    ingest_server,
    seed_units,
    setup_tokens,
    ts,
    wait_scored,
)

P1, P2 = "1.004227", "1.001193"
AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
FRIDAY = hanoi(2026, 8, 28, 10)


def d(code, unit, received, due, *, end=None, **kw):
    rec = dossier_record(code, unit, P1, received=received, due_days=None, **kw)
    rec.channel = ipb.CHANNEL_IN_PERSON
    if due is not None:
        rec.due_time.CopyFrom(ts(due))
    if end is not None:
        rec.end_time.CopyFrom(ts(end))
        rec.end_state = ipb.END_STATE_COMPLETED
        rec.processing_state = ipb.PROCESSING_STATE_UNSPECIFIED
    return rec


def hanoi_dossiers():
    a = lambda day, hour=8: hanoi(2026, 8, day, hour)  # noqa: E731
    finished = [d(f"f{i}", "H01.01", a(3 + i), a(10 + i), end=a(5 + i)) for i in range(1, 7)]
    return finished + [
        d("a1", "H01.01", a(20), hanoi(2026, 9, 3, 9)),
        d("a2", "H01.01", a(21), hanoi(2026, 9, 6, 23)),
        d("a3", "H01.01", a(21), a(28, 17)),
        d("a4", "H01.01", a(21), hanoi(2026, 9, 4, 8), rating=ipb.RATING_DISSATISFIED),
        d("b1", "H01.01", a(21), hanoi(2026, 9, 7, 8)),
        d("b2", "H01.01", a(21), a(28, 9)),
        d("b3", "H01.01", a(25), None),
        d("a5", "H01", a(21), hanoi(2026, 9, 3, 9)),
    ]


@contextmanager
def scoring_at(db_url, clock, **overrides):
    from services.scoring.server import ScoringSettings, build

    settings = ScoringSettings(database_url=db_url, port=0, metrics_port=-1, auto_migrate=False,
                               poll_seconds=0.02, catalogue_cache_seconds=0, **overrides)
    handle = build(settings, now=lambda: clock[0])
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    try:
        yield scoring_pb2_grpc.ScoringServiceStub(channel), handle.address
    finally:
        channel.close()
        handle.stop(0)


@contextmanager
def hanoi_loaded(db_url, **scoring_overrides):
    """The dossiers above through a real ingest, scored by a real scoring server at Friday 10:00:
    ``(ingest, scoring, db, tokens, clock, scoring's address)``."""
    clock = [FRIDAY]
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="hanoi", records=hanoi_dossiers()),
                                metadata=auth(tokens.ha_noi))
        assert r.result.accepted_count == 14, r.result
        with scoring_at(db_url, clock, **scoring_overrides) as (scoring, address):
            wait_scored(db)
            yield ingest, scoring, db, tokens, clock, address


@pytest.fixture
def hanoi_world(db_url):
    with hanoi_loaded(db_url) as world:
        yield world


def shown(value: F) -> str:
    return str(Decimal(value.numerator / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def exact(r) -> F:
    return F(int(r.numerator), int(r.denominator))


def listing(scoring, token, unit="H01.01", scope=tpb.SCOPE_UNIT, version="766/2022", **kw):
    return scoring.ListAtRiskDossiers(
        pb.ListAtRiskDossiersRequest(unit_code=unit, scope=scope, rule_version=version, **kw), metadata=auth(token))


def test_at_risk_list_across_a_weekend_and_national_day_worked_by_hand(hanoi_world):
    _, scoring, _, tokens, _, _ = hanoi_world
    r = listing(scoring, tokens.ha_noi)
    assert r.rule_version == "766/2022" and r.working_days == 2
    assert (r.period.kind, r.period.year, r.period.number) == (tpb.PERIOD_KIND_MONTH, 2026, 8)
    assert r.horizon_end.ToDatetime(tzinfo=FRIDAY.tzinfo) == hanoi(2026, 9, 7)
    got = {x.record_key.split("/")[1]: x for x in r.dossiers}
    assert set(got) == {"a1", "a2", "a3", "a4"} and r.total_size == 4
    assert {k: x.working_days_left for k, x in got.items()} == {"a1": 1, "a2": 2, "a3": 0, "a4": 2}
    assert got["a1"].due_time.ToDatetime(tzinfo=FRIDAY.tzinfo) == hanoi(2026, 9, 3, 9)
    one_late = F(20, 13) + F(20, 39)
    for key in ("a1", "a2", "a3"):
        assert exact(got[key].points_at_stake_exact) == one_late == F(80, 39)
        assert got[key].points_at_stake.value == shown(one_late) == "2.05"
    assert exact(got["a4"].points_at_stake_exact) == F(20, 13)
    assert got["a4"].procedure_name == "Đăng ký khai sinh"
    # in the order to act on: most at stake first, then soonest due; the dissatisfied one last
    assert [x.record_key.split("/")[1] for x in r.dossiers] == ["a3", "a1", "a2", "a4"]
    assert [(t.key, t.dossiers, t.points_at_stake.value) for t in r.unit_totals] == [
        ("H01.01", 4, shown(F(100, 13)))]
    assert [(t.key, t.dossiers) for t in r.procedure_totals] == [(P1, 4)]


def test_projection_and_the_fewest_to_finish_worked_from_the_rule_table(hanoi_world):
    _, scoring, _, tokens, _, _ = hanoi_world
    r = listing(scoring, tokens.ha_noi)
    p = r.projection
    base = scoring.GetScorecard(pb.GetScorecardRequest(unit_code="H01.01", period=AUG, scope=tpb.SCOPE_UNIT,
                                                       rule_version="766/2022")).scorecard
    base_exact = exact(base.total_exact)
    assert p.total_if_none_late.value == base.total.value  # as it stands: the live scorecard
    # k of the list finished, the others late: 2.1 loses 20/13 per late one; 5.4 loses 20/39 per late
    # one of a1–a3 (the first three of the list) — a4 is last and costs 5.4 nothing
    def drop(k):  # noqa: E306
        late = 4 - k
        late_not_dissatisfied = max(0, 3 - k)
        return F(20, 13) * late + F(20, 39) * late_not_dissatisfied

    assert drop(0) == F(100, 13)
    assert p.total_if_all_late.value == shown(base_exact - drop(0))

    def band(total: F) -> int:
        value = Decimal(shown(total))
        edges = [(90, tpb.CLASSIFICATION_EXCELLENT), (80, tpb.CLASSIFICATION_GOOD), (70, tpb.CLASSIFICATION_FAIR),
                 (50, tpb.CLASSIFICATION_AVERAGE)]
        return next((b for edge, b in edges if value >= edge), tpb.CLASSIFICATION_WEAK)

    assert p.band_to_keep == band(base_exact) == base.classification
    k = next(k for k in range(5) if band(base_exact - drop(k)) == band(base_exact))
    assert p.finish_first_count == k
    assert p.total_if_finish_first.value == shown(base_exact - drop(k))
    assert [x.finish_first for x in r.dossiers] == [i < k for i in range(4)]


def test_subtree_paging_and_the_portal_rules_deadline(hanoi_world):
    _, scoring, _, tokens, _, _ = hanoi_world
    first = listing(scoring, tokens.ha_noi, unit="H01", scope=tpb.SCOPE_SUBTREE, page_size=3)
    assert first.total_size == 5 and len(first.dossiers) == 3 and first.next_page_token
    second = scoring.ListAtRiskDossiers(pb.ListAtRiskDossiersRequest(
        unit_code="H01", scope=tpb.SCOPE_SUBTREE, rule_version="766/2022", page_size=3,
        page_token=first.next_page_token), metadata=auth(tokens.ha_noi))
    assert len(second.dossiers) == 2 and not second.next_page_token
    keys = [x.record_key.split("/")[1] for x in [*first.dossiers, *second.dossiers]]
    assert sorted(keys) == ["a1", "a2", "a3", "a4", "a5"]
    assert [(t.key, t.dossiers) for t in first.unit_totals] == [("H01", 1), ("H01.01", 4)]
    alone = listing(scoring, tokens.ha_noi, unit="H01", scope=tpb.SCOPE_UNIT)
    assert [x.record_key.split("/")[1] for x in alone.dossiers] == ["a5"]
    # portal/2025 (in force for 2026): b3, without a due time, is due by its 5-working-day limit
    portal = listing(scoring, tokens.ha_noi, version="")
    assert portal.rule_version == "portal/2025"
    got = {x.record_key.split("/")[1]: x for x in portal.dossiers}
    assert set(got) == {"a1", "a2", "a3", "a4", "b3"}
    assert got["b3"].due_time.ToDatetime(tzinfo=FRIDAY.tzinfo) == hanoi(2026, 9, 4, 8)
    assert got["b3"].working_days_left == 2
    # a longer horizon takes in b1 (due Monday 7 September, the third working day)
    wider = listing(scoring, tokens.ha_noi, working_days=3)
    assert {x.record_key.split("/")[1] for x in wider.dossiers} == {"a1", "a2", "a3", "a4", "b1"}


def test_finished_and_passed_dossiers_leave_the_list(hanoi_world):
    ingest, scoring, db, tokens, clock, _ = hanoi_world
    done = d("a1", "H01.01", hanoi(2026, 8, 20, 8), hanoi(2026, 9, 3, 9), end=hanoi(2026, 8, 28, 9, 30),
             t=SOURCE_TIME + timedelta(minutes=1))
    r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="a1-done", records=[done]),
                            metadata=auth(tokens.ha_noi))
    assert r.result.accepted_count == 1, r.result
    wait_scored(db)
    assert {x.record_key.split("/")[1] for x in listing(scoring, tokens.ha_noi).dossiers} == {"a2", "a3", "a4"}
    clock[0] = hanoi(2026, 8, 28, 17, 30)  # a3's due time has passed: late now, no longer at risk
    assert {x.record_key.split("/")[1] for x in listing(scoring, tokens.ha_noi).dossiers} == {"a2", "a4"}


def test_records_are_for_the_units_own_readers(hanoi_world):
    _, scoring, _, tokens, _, _ = hanoi_world
    request = pb.ListAtRiskDossiersRequest(unit_code="H01.01")
    with pytest.raises(grpc.RpcError) as err:
        scoring.ListAtRiskDossiers(request)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as err:
        scoring.ListAtRiskDossiers(request, metadata=auth(tokens.phu_tho))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert scoring.ListAtRiskDossiers(request, metadata=auth(tokens.operator)).total_size == 5  # portal: b3 too
    for bad, code in (
        (pb.ListAtRiskDossiersRequest(unit_code="H01.01", working_days=31), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.ListAtRiskDossiersRequest(unit_code="H01.01", period=tpb.Period(
            kind=tpb.PERIOD_KIND_MONTH, year=2026, number=7)), grpc.StatusCode.FAILED_PRECONDITION),
        (pb.ListAtRiskDossiersRequest(unit_code="H99"), grpc.StatusCode.NOT_FOUND),
        (pb.ListAtRiskDossiersRequest(unit_code="H01.01", page_token="bm9wZToy"),  # noqa: S106
         grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.RpcError) as err:
            scoring.ListAtRiskDossiers(bad, metadata=auth(tokens.operator))
        assert err.value.code() == code, bad


def test_the_list_is_read_through_the_deadline_index(db_url):
    """The query a unit's list runs is answered from the partial index, not by reading the table."""
    from sqlalchemy import text

    from services.shared.db import Database, migrate

    migrate(db_url)
    db = Database(db_url)
    try:
        with db.read() as conn:
            if conn.dialect.name == "sqlite":
                plan = " ".join(str(r[-1]) for r in conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT code, source_id, bits FROM score_dossiers "
                    "WHERE unit_code IN ('H01.01') AND em = 999912 AND dm_stat >= 20260828 AND dm_stat < 20260907")))
                assert "ix_score_dossiers_open_dm_stat" in plan, plan
            else:
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                plan = " ".join(r[0] for r in conn.execute(text(
                    "EXPLAIN SELECT code, source_id, bits FROM score_dossiers "
                    "WHERE unit_code IN ('H01.01') AND em = 999912 AND dm_due >= 20260828 AND dm_due < 20260907")))
                assert "ix_score_dossiers_open_dm_due" in plan, plan
    finally:
        db.dispose()


def test_chiso_score_at_risk_prints_the_list(hanoi_world, capsys, monkeypatch):
    from services.scoring.score_cli import main

    _, _, _, tokens, _, target = hanoi_world
    monkeypatch.setenv("CHISO_TOKEN", tokens.ha_noi)
    assert main(["--target", target, "--rule-version", "766/2022", "at-risk", "H01.01"]) == 0  # alone: the default
    out = capsys.readouterr().out
    assert "4 hồ sơ sắp quá hạn" in out and "07/09/2026" in out and "2,05" in out


def test_the_watch_list_gives_each_units_projection_without_a_credential(hanoi_world):
    _, scoring, _, tokens, _, _ = hanoi_world
    listed = scoring.ListProjections(pb.ListProjectionsRequest(unit_kind=tpb.UNIT_KIND_DEPARTMENT, parent_code="H01"))
    assert listed.rule_version == "portal/2025" and listed.total_size == 1
    (one,) = listed.projections
    own = listing(scoring, tokens.ha_noi, version="", scope=tpb.SCOPE_SUBTREE)
    assert (one.unit.code, one.at_risk_count) == ("H01.01", 5)
    assert one.projection == own.projection  # the same engine, the same numbers
    assert one.drops_band == (own.projection.band_if_all_late != own.projection.band_if_none_late)
    provinces = scoring.ListProjections(pb.ListProjectionsRequest(unit_kind=tpb.UNIT_KIND_PROVINCE, page_size=1))
    assert provinces.total_size == 2 and len(provinces.projections) == 1 and provinces.next_page_token
    dropping = scoring.ListProjections(pb.ListProjectionsRequest(unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                                 only_dropping=True))
    assert all(p.drops_band for p in dropping.projections)
    with pytest.raises(grpc.RpcError) as err:
        scoring.ListProjections(pb.ListProjectionsRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def no_lateness_version() -> str:
    """766/2022's table as "nolate/2026", in force from 1 August 2026, judging no dossier late: no policy,
    2.1 and 5.4 of kind "full" (always their maximum) showing dossiers received / dossiers received (the
    rule book refuses a version without a policy that names a measure needing one)."""
    from pathlib import Path

    from services.scoring import rules as shipped

    text = (Path(shipped.__file__).parent / "766-2022.toml").read_text(encoding="utf-8")
    for old, new in (('id = "766/2022"', 'id = "nolate/2026"'),
                     ("effective_from = 2022-08-01", "effective_from = 2026-08-01"),
                     ('policy = "due_time"\n', ""),
                     ('kind = "linear"\nnumerator = "dossiers_on_time"\ndenominator = "dossiers_received"\n'
                      'no_data = "zero"\n', 'kind = "full"\nnumerator = "dossiers_received"\n'
                      'denominator = "dossiers_received"\n'),
                     ('kind = "threshold"\nnumerator = { minus = ["dossiers_received", '
                      '"dossiers_dissatisfied_petitioned_or_late"] }\ndenominator = "dossiers_received"\n'
                      'no_data = "zero"\nthreshold = [\n'
                      '  # Resolution 76/NQ-CP, 2021–2025: satisfaction of at least 90%.\n'
                      '  { from = 2021-01-01, to = 2025-12-31, value = 0.90 },\n]\n',
                      'kind = "full"\nnumerator = "dossiers_received"\ndenominator = "dossiers_received"\n'),
                     ("dossiers_on_time = ", "# "), ("dossiers_dissatisfied_petitioned_or_late = ", "# ")):
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_a_rule_version_without_a_lateness_policy_has_nothing_at_risk_and_says_why(db_url, tmp_path):
    """Decided (issue 19): not an error — an empty list with NO_LATENESS_POLICY and its Vietnamese reason,
    the projection being the live scorecard as it stands; the watch list and publish's alert facts too."""
    from services.publish.domain.alerts import UnitFacts, evaluate, load_rules
    from services.publish.scoring_client import GrpcScoring
    from services.scoring.score_cli import render_at_risk

    (tmp_path / "nolate-2026.toml").write_text(no_lateness_version(), encoding="utf-8")
    with hanoi_loaded(db_url, rules_dir=str(tmp_path)) as (_, scoring, _, tokens, _, address):
        for version in ("nolate/2026", ""):  # named, and in force for August 2026
            r = listing(scoring, tokens.ha_noi, version=version)
            assert r.rule_version == "nolate/2026"
            assert (r.total_size, list(r.dossiers), list(r.unit_totals), list(r.procedure_totals)) == (
                0, [], [], [])
            assert r.empty_reason_code == "NO_LATENESS_POLICY"
            assert "nolate/2026 không xét hồ sơ trễ hạn" in r.empty_reason
            card = scoring.GetScorecard(pb.GetScorecardRequest(
                unit_code="H01.01", period=AUG, scope=tpb.SCOPE_UNIT, rule_version="nolate/2026")).scorecard
            # 2.1 under this version: its maximum, whatever is late — b2, late, costs nothing
            assert {i.id: i.points.value for i in card.indicators}["2.1"] in ("20", "20.00")
            p = r.projection
            assert p.total_if_none_late.value == p.total_if_all_late.value == p.total_if_finish_first.value \
                == card.total.value
            assert p.band_if_none_late == p.band_if_all_late == card.classification
            assert p.finish_first_count == 0
        # the same dossiers under 766/2022 are at risk, and nothing is said about an empty list
        judged = listing(scoring, tokens.ha_noi)
        assert judged.total_size == 4 and judged.empty_reason_code == "" and judged.empty_reason == ""
        watch = scoring.ListProjections(pb.ListProjectionsRequest(unit_kind=tpb.UNIT_KIND_DEPARTMENT,
                                                                  parent_code="H01"))
        assert (watch.rule_version, watch.empty_reason_code) == ("nolate/2026", "NO_LATENESS_POLICY")
        assert [(u.unit.code, u.at_risk_count, u.drops_band) for u in watch.projections] == [("H01.01", 0, False)]
        assert "không xét hồ sơ trễ hạn" in render_at_risk(listing(scoring, tokens.ha_noi, version=""))
        # publish's alert evaluation reads it as nothing at risk: no projection or backlog alert
        client = GrpcScoring(address, token=tokens.operator)
        try:
            facts = client.at_risk("H01", 2)
        finally:
            client.close()
        assert facts.count == 0 and facts.band_if_all_late == facts.band_if_none_late and not facts.dossiers
        unit = UnitFacts("H01", "UBND Hà Nội", "2026-08", facts.total_if_none_late, facts.band_if_none_late,
                         at_risk=facts)
        held = {f.rule_id for f in evaluate(load_rules(), unit, facts.band_if_none_late) if f.holds}
        assert not held & {"projection_below_band", "at_risk_backlog"}, held
