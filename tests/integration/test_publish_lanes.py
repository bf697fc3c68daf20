"""Publish follows scoring's change feed in two lanes (issue 17): a backfill of a past year is the
past lane's work, and today's changes elsewhere are recorded by the live lane without waiting for it.
Real ingest, scoring and publish servers on SQLite and PostgreSQL; the lanes are driven by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from chiso.ingest.v1 import ingest_pb2 as ipb
from sqlalchemy import select

from services.publish import storage as S
from services.publish.storage import KIND_LIVE
from services.publish.tables import publish_changes
from services.scoring.domain.periods import HANOI
from tests.helpers import (
    auth,
    dossier_record,
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


def recorded_after(db, seq):
    """(unit, period, scope) of the live scorecard versions publish recorded after ``seq``."""
    with db.read() as conn:
        return {(r.unit_code, r.period_key, r.scope) for r in conn.execute(
            select(publish_changes).where(publish_changes.c.seq > seq, publish_changes.c.kind == KIND_LIVE))}


def feed_end(db):
    with db.read() as conn:
        return S.read_state(conn, S.CHANGES)[0]


def test_past_backfill_and_todays_change_go_to_their_own_lanes(db_url, tmp_path):
    now = datetime.now(HANOI) - timedelta(hours=1)
    month = f"{now.year}-{now.month:02d}"
    quarter = f"{now.year}-Q{(now.month + 2) // 3}"
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url) as (_scoring, scoring_handle), \
                publish_server(db_url, scoring_handle.address, key_file=signing_key_file(tmp_path),
                               follow=False, deliver=False) as (_pub, handle):
            publish = handle.publish
            wait_scored(db)
            publish.follow_once()  # the catalogue's own changes, both lanes
            start = feed_end(db)
            # Phú Thọ backfills June last year (received and ended in June); Hà Nội receives a dossier today.
            backfill = []
            for i in range(40):
                rec = dossier_record(f"BF-{i}", "H25.01", received=hanoi(now.year - 1, 6, 2 + i % 20, 9))
                rec.end_time.CopyFrom(ts(hanoi(now.year - 1, 6, 3 + i % 20, 15)))
                rec.end_state, rec.processing_state = ipb.END_STATE_COMPLETED, ipb.PROCESSING_STATE_UNSPECIFIED
                backfill.append(rec)
            today = [dossier_record("TODAY-1", "H01.01", received=now, due_days=5)]
            for request_id, records in (("backfill", backfill), ("today", today)):
                r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=request_id, records=records),
                                        metadata=auth(tokens.national))
                assert r.result.accepted_count == len(records), r.result
            wait_scored(db)

            # the live lane records today's scorecards (Hà Nội's department alone and with its
            # subtree, its province's subtree), nothing of last year
            read, recorded = publish.follow_once(lane=S.SCORING)
            assert read > 0
            running = {month, quarter, str(now.year), f"{now.year}-YTD"}
            expected_live = {(unit, period, scope) for period in running
                             for unit, scope in (("H01.01", 1), ("H01.01", 2), ("H01", 2))}
            assert recorded_after(db, start) == expected_live
            assert publish.follow_once(lane=S.SCORING) == (0, 0)  # caught up

            # the past lane records last year's (Phú Thọ's department and its province), none of today's
            middle = feed_end(db)
            read, recorded = publish.follow_once(lane=S.SCORING_PAST)
            assert read > 0
            past = {f"{now.year - 1}-06", f"{now.year - 1}-Q2", str(now.year - 1)}
            assert recorded_after(db, middle) == {(unit, period, scope) for period in past
                                                  for unit, scope in (("H25.01", 1), ("H25.01", 2), ("H25", 2))}
            assert publish.follow_once() == (0, 0)  # both lanes at the feed's end
            with db.read() as conn:
                cursors = S.lane_cursors(conn)
            assert len(cursors) == 2 and all(cursors)
