"""Scoring's two lanes of change notices (issue 17): a backfill of the past never holds up today's
changes, the past lane never runs ahead of the catalogue, and both together end where a rebuild ends."""

from __future__ import annotations

from datetime import UTC, datetime

from chiso.ingest.v1 import ingest_pb2 as ipb
from sqlalchemy import func, select

from services.scoring import tables as scoring_tables
from services.scoring.storage import PAST, RECENT, Aggregates, is_recent
from tests.helpers import NOW, auth, dossier_record, ended_dossier, ingest_server, seed_units, setup_tokens
from tests.integration.test_scoring_incremental import snapshot


def _us(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)


def test_a_notice_is_recent_when_it_reaches_the_month_before_the_one_it_was_written_in():
    # written 15 Jan 2026: December 2025 is the month before (across the year)
    assert is_recent(202512, 202512, _us(2026, 1, 15, 3))
    assert not is_recent(202511, 202511, _us(2026, 1, 15, 3))
    # written 1 Dec 2026 00:30 in Hanoi (30 Nov 17:30 UTC): November is the month before, not October
    assert is_recent(202611, 202611, _us(2026, 11, 30, 17, 30))
    assert not is_recent(202610, 202610, _us(2026, 11, 30, 17, 30))
    assert is_recent(202601, 999912, _us(2026, 11, 30, 17, 30))  # still open: counts up to now
    assert is_recent(0, 999912, _us(2026, 11, 30, 17, 30))  # a catalogue notice


def _dossier_codes(db) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(scoring_tables.score_dossiers.c.code)).scalars())


def _head(db) -> int:
    from services.shared.schema import change_notices
    with db.read() as conn:
        return conn.execute(select(func.max(change_notices.c.id))).scalar() or 0


def test_todays_change_is_applied_before_a_backfill_of_the_past(db_url):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        agg = Aggregates(db)
        agg.catch_up()
        # a backfill: 40 dossiers of August 2026, finished (months before last month, written now)
        for batch in range(4):
            records = [ended_dossier(f"old-{batch}-{i}", ("H25.01", "H25.02")[i % 2], 5 + i % 20)
                       for i in range(10)]
            ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=f"backfill-{batch}", records=records),
                                metadata=auth(tokens.phu_tho))
        # then one dossier of today, still being processed
        ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="today", records=[
            dossier_record("today-1", "H25.X1", received=NOW.replace(hour=0, minute=5))]),
            metadata=auth(tokens.phu_tho))
        head = _head(db)

        # the past lane may not run ahead of the recent lane's cursor (the catalogue's order)
        assert agg.apply_lane(PAST, 1000).notices == 0
        assert agg.lane_cursors()[PAST] < head

        recent = agg.apply_lane(RECENT, 1000)
        assert recent.notices == 1 and recent.last_notice_id == head and not recent.behind
        assert _dossier_codes(db) == {"today-1"}  # today's dossier in, the backfill still waiting
        assert agg.lag() == (agg.lane_cursors()[PAST], head)
        assert agg.oldest_pending_us(RECENT) is None and agg.oldest_pending_us(PAST) is not None

        past = agg.apply_lane(PAST, 1000)
        assert past.notices >= 4 and not past.behind
        assert len(_dossier_codes(db)) == 41
        assert agg.lag() == (head, head)

        incremental = snapshot(db)
        agg.rebuild()
        assert snapshot(db) == incremental


def test_a_fresh_store_whose_first_notices_the_recent_lane_applies_loses_none_of_the_past(db_url):
    """The data is there before scoring first runs: the recent lane goes first, and the past lane
    still starts from the beginning (its cursor is created with the recent lane's, at 0)."""
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="old", records=[
            ended_dossier(f"old-{i}", "H25.01", 10) for i in range(5)]), metadata=auth(tokens.phu_tho))
        ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="today", records=[
            dossier_record("today-1", "H25.X1", received=NOW.replace(hour=0, minute=5))]),
            metadata=auth(tokens.phu_tho))
        agg = Aggregates(db)
        assert not agg.apply_lane(RECENT, 1000).behind
        assert agg.lane_cursors()[PAST] == 0
        agg.apply_lane(PAST, 1000)
        assert len(_dossier_codes(db)) == 6 and agg.lag() == (_head(db), _head(db))


def test_a_store_kept_before_the_lanes_starts_the_past_lane_at_the_old_cursor(db_url):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="old", records=[
            ended_dossier(f"old-{i}", "H25.01", 10) for i in range(3)]), metadata=auth(tokens.phu_tho))
        head = _head(db)
        with db.write() as conn:  # what the single consumer before the lanes left: one cursor, at the head
            conn.execute(scoring_tables.score_progress.insert().values(name=RECENT, last_notice_id=head, updated_at=0))
        agg = Aggregates(db)
        assert agg.lane_cursors() == {RECENT: head, PAST: head}
        assert agg.apply_lane(PAST, 1000).notices == 0 and agg.lane_cursors()[PAST] == head


def test_a_lane_at_its_limit_says_it_is_behind_and_passes_the_other_lanes_notices(db_url):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        agg = Aggregates(db)
        agg.catch_up()
        for batch in range(3):
            ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=f"old-{batch}", records=[
                ended_dossier(f"old-{batch}", "H25.01", 10)]), metadata=auth(tokens.phu_tho))
            ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=f"new-{batch}", records=[
                dossier_record(f"new-{batch}", "H25.02", received=NOW.replace(hour=0, minute=5))]),
                metadata=auth(tokens.phu_tho))
        first = agg.apply_lane(RECENT, 2)
        assert (first.notices, first.behind) == (2, True)
        assert _dossier_codes(db) == {"new-0", "new-1"}
        second = agg.apply_lane(RECENT, 2)
        assert (second.notices, second.behind) == (1, False) and second.last_notice_id == _head(db)
        # apply_pending: the recent lane first, then the past lane with what is left
        while agg.apply_pending(limit=1).notices:
            pass
        assert len(_dossier_codes(db)) == 6 and agg.lag()[0] == _head(db)
