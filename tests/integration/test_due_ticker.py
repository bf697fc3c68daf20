"""Time passing (issue 17 item 1): scoring's due ticker announces, in its change feed, exactly the
(unit, month) whose live scorecard re-judges an unfinished dossier because its deadline passed, and
publish's follower re-reads just those — no periodic refresh of every running scorecard.

Real ingest, scoring and publish servers on loopback, on SQLite and PostgreSQL; the services' clocks
are injected and moved by the test. Expected points by hand from the rule tables: indicator 2.1 of
both versions is ``20 × on time / received`` (``kind = "linear"``, max 20); portal/2025 (in force
since 2025) judges a dossier without a due time by its procedure's statutory limit, 766/2022 never
late.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

import grpc
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from services.publish.server import PublishSettings
from services.scoring.domain import cells as C
from services.scoring.domain.periods import HANOI
from services.scoring.domain.rules import RuleBook
from services.scoring.due import DUE_CHANGES, DueTicker
from services.scoring.service import Scoring
from services.scoring.storage import Aggregates
from services.shared.db import Database
from tests.helpers import (
    auth,
    dossier_record,
    ingest_server,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
    ts,
    unit_record,
    wait_scored,
)

UNIT, SUBTREE = tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE


class Clock:
    """A movable clock: an aware datetime for scoring, UTC µs for publish."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def us(self) -> int:
        return C.to_us(self.moment)


def base_moment() -> datetime:
    """Now (to the minute) — or four days ago late in a month — so that every deadline the tests
    move past (up to three days on) falls in the month the moment is in, which is also the real
    month (ingest's and the consumer's clocks are real)."""
    now = datetime.now(HANOI).replace(second=0, microsecond=0)
    return now if now.day <= 25 else now - timedelta(days=4)


def at_day(base: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` in Hanoi, ``days`` calendar days after ``base``'s day."""
    d = base.date() + timedelta(days=days)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=HANOI)


def month_of(moment: datetime) -> tpb.Period:
    return tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=moment.year, number=moment.month)


def open_dossier(code: str, unit: str, received: datetime, due: datetime | None) -> ipb.DossierRecord:
    rec = dossier_record(code, unit, received=received, due_days=None)
    if due is not None:
        rec.due_time.CopyFrom(ts(due))
    return rec


def push(ingest, tokens, request_id: str, records) -> None:
    r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=request_id, records=records),
                            metadata=auth(tokens.national))
    assert r.result.accepted_count == len(records), r.result


def feed_after(db: Database, after: int) -> list[tuple[str, int]]:
    return [(unit, month) for _, unit, month, _ in Aggregates(db).changes(after, 100_000)]


def feed_end(db: Database) -> int:
    rows = Aggregates(db).changes(0, 1_000_000)
    return rows[-1][0] if rows else 0


def wait_for(check, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except grpc.RpcError:  # not recorded yet
            result = None
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def points(card, indicator: str = "2.1") -> tuple[int, int, Decimal]:
    ind = {i.id: i for i in card.indicators}[indicator]
    return ind.numerator, ind.denominator, Decimal(ind.points.value)


def scored(stub, unit: str, period: tpb.Period, version: str = "") -> tuple[int, int, Decimal]:
    """2.1 of the unit alone, as of scoring's now."""
    r = stub.GetScorecard(spb.GetScorecardRequest(unit_code=unit, period=period, scope=UNIT, rule_version=version))
    return points(r.scorecard)


def test_publish_drops_its_hourly_refresh():
    assert PublishSettings().refresh_seconds == 0


def test_a_passing_due_time_reaches_publish_without_a_refresh(db_url, tmp_path):
    """H25.01 has two unfinished dossiers, one due tomorrow at 10:00; H01.01 one due in ten days.
    Once the clocks pass 10:00 tomorrow, the ticker (its own thread) announces H25.01's month and
    nothing else, and publish's live scorecard shows the lateness: 2.1 = 20 × 1/2 = 10 points
    (20 × 2/2 = 20 before)."""
    base = base_moment()
    clock = Clock(base)
    month = month_of(base)
    due = at_day(base, 1, 10)
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url, now=clock, due_tick_seconds=0.05) as (stub, _s), \
                publish_server(db_url, _s.address, key_file=signing_key_file(tmp_path), clock=clock.us,
                               deliver=False, alerts=False) as (pub, handle):
            assert handle.publish is not None
            received = base - timedelta(hours=2)
            push(ingest, tokens, "open", [
                open_dossier("T1", "H25.01", received, due),
                open_dossier("T2", "H25.01", received, at_day(base, 12, 17)),
                open_dossier("O1", "H01.01", received, at_day(base, 10, 17)),
            ])
            wait_scored(db)

            def live(unit):
                r = pub.GetScorecard(ppb.GetScorecardRequest(unit_code=unit, period=month, scope=UNIT,
                                                             feed=tpb.FEED_LIVE))
                return points(r.scorecard.scorecard), r.scorecard.version

            wait_for(lambda: live("H25.01")[0] == (2, 2, Decimal(20)) and live("H01.01")[0] == (1, 1, Decimal(20)),
                     what="live scorecards of the two units, all on time")
            h01_version = live("H01.01")[1]
            start, emitted = feed_end(db), DUE_CHANGES._value.get()

            clock.moment = due - timedelta(minutes=1)  # not yet due: nothing to announce
            time.sleep(0.3)
            assert feed_after(db, start) == []
            clock.moment = due + timedelta(minutes=1)
            wait_for(lambda: live("H25.01")[0] == (1, 2, Decimal(10)), what="the lateness in publish's live scorecard")
            time.sleep(0.3)  # further ticks of the same clock announce nothing more
            assert feed_after(db, start) == [("H25.01", base.year * 100 + base.month)]
            assert DUE_CHANGES._value.get() - emitted == 1
            assert live("H01.01") == ((1, 1, Decimal(20)), h01_version)  # not re-read, not re-recorded


def statutory_received(base: datetime, statutory_days: int, after: datetime, before: datetime) -> datetime:
    """A receipt time (9:00, a few days back) whose statutory deadline — ``statutory_days`` working
    days later, same clock time — falls in ``(after, before)``."""
    for back in range(1, 20):
        received = at_day(base, -back, 9)
        deadline = C.from_us(C.working_deadline_us(C.to_us(received), statutory_days))
        if after < deadline < before:
            return received
    raise AssertionError("no receipt day found")


def test_one_tick_after_downtime_covers_two_due_days_once(db_url):
    """Scoring is down (no tick) from today to the day after tomorrow: on day 1 at 10:00 H25.01's
    dossier falls due, on day 2 at 15:30 H01.01's, and between them H25.X1's dossier without a due
    time passes its procedure's statutory limit (5 working days); H25.02's is due on day 5. The first
    tick after announces the three units' month once; a second tick at the same moment nothing."""
    base = base_moment()
    clock = Clock(base)
    month = month_of(base)
    key = base.year * 100 + base.month
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        received = base - timedelta(hours=2)
        stat_received = statutory_received(base, 5, at_day(base, 1, 0), at_day(base, 2, 23))
        push(ingest, tokens, "open", [
            open_dossier("A", "H25.01", received, at_day(base, 1, 10)),
            open_dossier("B", "H01.01", received, at_day(base, 2, 15, 30)),
            open_dossier("C", "H25.02", received, at_day(base, 5, 10)),
            open_dossier("S", "H25.X1", stat_received, None),
        ])
        with scoring_server(db_url, now=clock, due_tick_seconds=3600) as (stub, handle):
            wait_scored(db)
            skew = int(DueTicker.SKEW_SECONDS * C.US)  # a tick covers time up to 1 s before its clock
            wait_for(lambda: Aggregates(db).last_tick() == C.to_us(base) - skew, what="the ticker's first tick")
            before = {u: scored(stub, u, month) for u in ("H25.01", "H01.01", "H25.02", "H25.X1")}
            assert set(before.values()) == {(1, 1, Decimal(20))}
            assert scored(stub, "H25.X1", month, "766/2022") == (1, 1, Decimal(20))
            start = feed_end(db)

            clock.moment = at_day(base, 3, 0, 5)  # the day after tomorrow is over
            ticked = handle.ticker.tick()
            assert (ticked.since, ticked.until) == (C.to_us(base) - skew, clock.us() - skew)
            assert (ticked.dossiers, ticked.changes) == (3, 3)
            assert sorted(feed_after(db, start)) == [("H01.01", key), ("H25.01", key), ("H25.X1", key)]
            again = handle.ticker.tick()
            assert (again.dossiers, again.changes, again.since, again.until) == (0, 0, ticked.until, ticked.until)
            assert len(feed_after(db, start)) == 3

            # the announced scorecards changed, the other did not: 20 × 0/1 = 0 points
            assert scored(stub, "H25.01", month) == (0, 1, Decimal(0))
            assert scored(stub, "H01.01", month) == (0, 1, Decimal(0))
            assert scored(stub, "H25.X1", month) == (0, 1, Decimal(0))  # portal/2025: past its statutory limit
            assert scored(stub, "H25.X1", month, "766/2022") == (1, 1, Decimal(20))  # 766/2022: no due time, on time
            assert scored(stub, "H25.02", month) == (1, 1, Decimal(20))


def test_two_replicas_racing_announce_each_deadline_once(db_url):
    """Two Scoring instances (their own database engines) tick the same store at once, with clocks
    that disagree by up to five minutes: twelve communes' dossiers falling due seven minutes apart
    are each announced exactly once, and the windows the ticks covered tile time without overlap."""
    base = base_moment()
    first = at_day(base, 1, 9)
    communes = [f"H25.X1{i:02d}" for i in range(12)]
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        r = ingest.SyncUnits(ipb.SyncUnitsRequest(request_id="communes", records=[
            unit_record(code, f"UBND xã {code}", 6, "H25") for code in communes]), metadata=auth(tokens.national))
        assert r.result.accepted_count == len(communes)
        received = base - timedelta(hours=2)
        push(ingest, tokens, "open", [open_dossier(f"R{i}", code, received, first + timedelta(minutes=7 * i))
                                      for i, code in enumerate(communes)])
        with scoring_server(db_url, due_tick_seconds=0):
            wait_scored(db)
        start = feed_end(db)
        lock = threading.Lock()
        step = [0]
        floor = C.to_us(first - timedelta(hours=1))

        def clock() -> datetime:  # a shared time moving on by 3 minutes a call, ± 5 minutes per replica
            with lock:
                step[0] += 1
                n = step[0]
            return C.from_us(floor + n * 180 * C.US + random.randint(-300, 300) * C.US).astimezone(HANOI)

        engines = [Database(db_url), Database(db_url)]
        tickers = [DueTicker(Scoring(e, RuleBook.load_default(), now=clock).aggregates, clock, 1) for e in engines]
        windows, errors = [], []
        # the first tick ever covers the day before it: made here, before the race
        tickers[0].aggregates.tick_due(lambda: floor)

        def race(ticker):
            try:
                for _ in range(40):
                    t = ticker.tick()
                    if t.until > t.since:
                        windows.append((t.since, t.until))
                    time.sleep(random.random() * 0.01)
            except Exception as exc:  # noqa: BLE001 — reported below
                errors.append(exc)

        threads = [threading.Thread(target=race, args=(t,)) for t in tickers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for e in engines:
            e.dispose()
        assert not errors, errors
        windows.sort()
        assert windows[0][0] == floor
        assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False)), windows  # contiguous
        assert windows[-1][1] > C.to_us(first + timedelta(minutes=7 * 11))  # past the last deadline
        key = first.year * 100 + first.month
        assert sorted(feed_after(db, start)) == sorted((code, key) for code in communes)


def test_a_tick_reads_the_deadline_index(db_url):
    """The tick's query is a range on the partial index of deadlines, not a read of the table nor of
    every unit's dossiers."""
    from sqlalchemy import text

    from services.scoring.storage import due_between

    db = Database(db_url)
    try:
        with db.read() as conn:
            sql = str(due_between(10, 20).compile(conn, compile_kwargs={"literal_binds": True}))
            if conn.dialect.name == "sqlite":
                plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            else:
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
        assert "ix_score_dossiers_open_deadline_at" in plan, plan
        assert "deadline_at" in plan.split("ix_score_dossiers_open_deadline_at", 1)[1], plan  # a range on it
    finally:
        db.dispose()


def test_migration_0015_gives_stored_unfinished_dossiers_their_deadline(db_url):
    """0015's backfill writes what the consumer writes: the due time (A), the statutory deadline of a
    dossier without one (S: 5 working days after receipt, same clock time), null for a finished one
    (F); the rows are taken back to null first, as stored before 0015."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import select, update

    from services.scoring.tables import score_dossiers

    path = Path(__file__).parents[2] / "services/shared/migrations/versions/0015_score_dossiers_deadline_at.py"
    spec = importlib.util.spec_from_file_location("migration_0015", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    base = base_moment()
    received = at_day(base, -1, 9)
    due = at_day(base, 2, 17)
    finished = open_dossier("F", "H25.01", received, due)
    finished.end_time.CopyFrom(ts(received + timedelta(hours=3)))
    finished.end_state, finished.processing_state = ipb.END_STATE_COMPLETED, ipb.PROCESSING_STATE_UNSPECIFIED
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        push(ingest, tokens, "three", [open_dossier("A", "H25.01", received, due),
                                       open_dossier("S", "H25.01", received, None), finished])
        with scoring_server(db_url, due_tick_seconds=0):
            wait_scored(db)
        t = score_dossiers

        def stored():
            with db.read() as conn:
                return dict(conn.execute(select(t.c.code, t.c.deadline_at)).all())

        statutory = C.working_deadline_us(C.to_us(received), 5)
        expected = {"A": C.to_us(due), "S": statutory, "F": None}
        assert stored() == expected
        assert C.from_us(statutory).astimezone(HANOI).time() == received.time()  # the same clock time
        with db.write() as conn:
            conn.execute(update(t).values(deadline_at=None))
        migration._PAGE = 2  # more than one page
        with db.write() as conn:
            migration._backfill(conn)
        assert stored() == expected


def first_working_day_after(base: datetime, within: int = 3):
    """The first working day among the ``within`` days after ``base``'s day."""
    from services.scoring.domain.workdays import is_working_day

    for days in range(1, within + 1):
        day = base.date() + timedelta(days=days)
        if is_working_day(day):
            return day
    raise AssertionError(f"no working day within {within} days after {base.date()} (a long holiday)")


def received_for_limit(limit: datetime, working_days: int) -> datetime:
    """A receipt time, in the past, whose limit ``working_days`` working days later is ``limit``."""
    for back in range(1, 60):
        received = limit - timedelta(days=back)
        if C.from_us(C.working_deadline_us(C.to_us(received), working_days)) == limit:
            return received
    raise AssertionError("no receipt day found")


def test_a_petition_turning_due_and_a_listing_falling_due_reach_publish_once(db_url, tmp_path):
    """Time re-judges petitions and listings too, with publish's refresh off (its default):

    * H25.02's petition Q1 is due tomorrow at 10:00, unresolved: 766/2022 5.2 (max 6, linear,
      ``petitions_resolved_on_time / petitions_due``, no data = full) goes from no petition due
      (0/0, 6 points) to 0/1 = 0 points;
    * H25.01's petition Q2, neither ready nor refused, reaches its portal/2025 readiness limit (15
      working days after receipt, same clock time) on the next working day at 9:00: portal/2025 5.2
      (max 6, ``(handled on time + in process within limit) / (handled or in process)``) goes from
      6 × 1/1 = 6 to 6 × 0/1 = 0 — in publish's live scorecard;
    * H25.X1 (a commune: listing allowance 5 working days) has a decision, not listed, whose listing
      falls due on that working day: portal/2025 1.2 (max 4, ``listed or due on time / listed or
      due``, no data = n/a) goes from 0/0 to 0/1 = 0 points at that day's Hanoi midnight — in
      publish's live scorecard.

    One move of the clocks past the three moments announces the three units' month once each, and
    the tick counts two petitions and one listing; further ticks announce nothing."""
    from google.type import date_pb2

    from services.scoring.domain.workdays import add_working_days
    from services.scoring.due import DUE_LISTINGS, DUE_PETITIONS

    base = base_moment()
    clock = Clock(base)
    month = month_of(base)
    key = base.year * 100 + base.month
    day = first_working_day_after(base)
    limit = datetime(day.year, day.month, day.day, 9, tzinfo=HANOI)  # Q2's readiness limit
    q2_received = received_for_limit(limit, 15)
    decided = next(day - timedelta(days=back) for back in range(5, 30)
                   if add_working_days(day - timedelta(days=back), 5) == day)
    q1_due = at_day(base, 1, 10)
    after_all = max(limit, q1_due) + timedelta(minutes=1)
    assert after_all.month == base.month and q2_received < base
    t = ts(base - timedelta(days=40))
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url, now=clock, due_tick_seconds=0.05) as (stub, _s), \
                publish_server(db_url, _s.address, key_file=signing_key_file(tmp_path), clock=clock.us,
                               deliver=False, alerts=False) as (pub, handle):
            assert handle.publish is not None
            r = ingest.SyncPetitions(ipb.SyncPetitionsRequest(request_id="petitions", records=[
                ipb.PetitionRecord(code="Q1", unit_code="H25.02", category=ipb.PETITION_CATEGORY_RULES,
                                   received_time=ts(base - timedelta(hours=2)), due_time=ts(q1_due), source_time=t),
                ipb.PetitionRecord(code="Q2", unit_code="H25.01", category=ipb.PETITION_CATEGORY_STAFF,
                                   received_time=ts(q2_received), source_time=t),
            ]), metadata=auth(tokens.national))
            assert r.result.accepted_count == 2, r.result
            r = ingest.SyncPublications(ipb.SyncPublicationsRequest(request_id="pubs", records=[
                ipb.PublicationRecord(unit_code="H25.X1", procedure_code="1.004227", decision_number="QĐ 9/2026",
                                      decision_date=date_pb2.Date(year=decided.year, month=decided.month,
                                                                  day=decided.day), source_time=t),
            ]), metadata=auth(tokens.national))
            assert r.result.accepted_count == 1, r.result
            wait_scored(db)

            def live(unit, indicator):
                r = pub.GetScorecard(ppb.GetScorecardRequest(unit_code=unit, period=month, scope=UNIT,
                                                             feed=tpb.FEED_LIVE))
                return points(r.scorecard.scorecard, indicator)[:2]

            def by_766(unit):
                r = stub.GetScorecard(spb.GetScorecardRequest(unit_code=unit, period=month, scope=UNIT,
                                                              rule_version="766/2022"))
                return points(r.scorecard, "5.2")

            wait_for(lambda: live("H25.01", "5.2") == (1, 1) and live("H25.X1", "1.2") == (0, 0),
                     what="live scorecards before the moments")
            assert by_766("H25.02") == (0, 0, Decimal(6))
            start, petitions, listings = feed_end(db), DUE_PETITIONS._value.get(), DUE_LISTINGS._value.get()

            midnight = datetime(day.year, day.month, day.day, tzinfo=HANOI)  # the listing's due day begins
            clock.moment = min(midnight, q1_due) - timedelta(minutes=1)  # nothing due yet
            time.sleep(0.3)
            assert feed_after(db, start) == []
            clock.moment = after_all
            wait_for(lambda: live("H25.01", "5.2") == (0, 1) and live("H25.X1", "1.2") == (0, 1),
                     what="the petition's lateness and the listing's due day in publish's live scorecards")
            time.sleep(0.3)  # further ticks of the same clock announce nothing more
            assert sorted(feed_after(db, start)) == [("H25.01", key), ("H25.02", key), ("H25.X1", key)]
            assert DUE_PETITIONS._value.get() - petitions == 2
            assert DUE_LISTINGS._value.get() - listings == 1
            assert by_766("H25.02") == (0, 1, Decimal(0))
            card = pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25.X1", period=month, scope=UNIT,
                                                            feed=tpb.FEED_LIVE)).scorecard.scorecard
            assert points(card, "1.2") == (0, 1, Decimal(0))
            card = pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25.01", period=month, scope=UNIT,
                                                            feed=tpb.FEED_LIVE)).scorecard.scorecard
            assert points(card, "5.2") == (0, 1, Decimal(0))


def test_a_tick_reads_petitions_and_listings_by_index(db_url):
    """The petition and listing queries of a tick are ranges on 0016's indexes."""
    from datetime import date

    from sqlalchemy import text

    from services.scoring.storage import listings_decided_on, petition_anchors, petitions_due_between

    cases = [(petitions_due_between(10, 20), "ix_petitions_due_at"),
             (petition_anchors("received_at", 10, 20), "ix_petitions_open_received_at"),
             (petition_anchors("last_transfer_at", 10, 20), "ix_petitions_open_last_transfer_at"),
             (petition_anchors("ready_for_publication_at", 10, 20), "ix_petitions_open_ready_at"),
             (listings_decided_on([date(2026, 12, 1), date(2026, 12, 2)]), "ix_publications_decision_date")]
    db = Database(db_url)
    try:
        with db.read() as conn:
            for stmt, index in cases:
                sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
                if conn.dialect.name == "sqlite":
                    plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
                else:
                    conn.execute(text("SET LOCAL enable_seqscan = off"))
                    plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
                assert index in plan, (index, plan)
    finally:
        db.dispose()
