"""Quick timing (issue 17 item 1): one tick of scoring's due ticker vs publish's old full refresh of
every running scorecard, over a national store (~3,340 units, ``--dossiers`` spread over last year and
this one, written straight into a SQLite file — or ``--url`` — and rebuilt; loading is not timed).

* **old**: ``Publish.refresh_live(Publish.running_keys())`` — what the follower did every hour;
* **new**: ``Aggregates.tick_due`` over windows of 5 s (the default interval), 1 hour and 1 day,
  then publish's ``follow_once`` re-reading just the scorecards the tick announced.

Scoring and publish run in this process (gRPC on loopback), so figures include the GIL's sharing.
``python -m tools.due_tick_timing [--dossiers N] [--work DIR (default var/due-tick, emptied)]``.
Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import datetime
from pathlib import Path

from services.publish.domain.documents import MONTH, QUARTER, YEAR, YTD, CardKey, PeriodRef
from services.publish.server import PublishSettings
from services.publish.server import build as build_publish
from services.scoring.domain import cells as C
from services.scoring.domain.moments import time_rules
from services.scoring.domain.periods import HANOI
from services.scoring.domain.rules import RuleBook
from services.scoring.server import ScoringSettings
from services.scoring.server import build as build_scoring
from services.scoring.storage import Aggregates
from services.shared.db import Database
from tests.helpers import signing_key_file
from tools.bench_scoring import load_store, unit_rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--work", default="var/due-tick")
    parser.add_argument("--url", default="", help="an empty database to use instead of a SQLite file in --work "
                                                  "(e.g. a PostgreSQL database of your own)")
    args = parser.parse_args(argv)
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = args.url or f"sqlite:///{work / 'store.db'}"
    now = datetime.now(HANOI)
    load_store(url, args.dossiers, now, lambda *a, **k: None)
    db = Database(url)
    aggregates = Aggregates(db, time_rules=time_rules(RuleBook.load_default().versions()))  # as scoring ticks
    rebuilt = aggregates.rebuild()
    with db.read() as conn:
        open_with_deadline = conn.exec_driver_sql(
            "SELECT count(*) FROM score_dossiers WHERE em = 999912 AND deadline_at IS NOT NULL").scalar()
    units = unit_rows()
    print(f"{db.dialect}: {len(units)} units, {rebuilt.dossiers} dossiers, "
          f"{open_with_deadline} unfinished with a deadline")

    scoring = build_scoring(ScoringSettings(database_url=url, port=0, metrics_port=-1, auto_migrate=False,
                                            consume=False, due_tick_seconds=0, catalogue_cache_seconds=5))
    scoring.start()
    publish_handle = build_publish(PublishSettings(
        database_url=url, port=0, metrics_port=-1, auto_migrate=False, scoring_target=scoring.address,
        follow=False, deliver=False, alerts=False, signing_key_file=signing_key_file(work),
        scoring_timeout_seconds=600))
    publish_handle.start()
    publish = publish_handle.publish
    try:
        # publish's running scorecards: every unit alone, every unit with children with its subtree
        parents = {u[3] for u in units if u[3]}
        periods = [PeriodRef(MONTH, now.year, now.month), PeriodRef(QUARTER, now.year, (now.month + 2) // 3),
                   PeriodRef(YEAR, now.year), PeriodRef(YTD, now.year)]
        keys = [CardKey(u[0], p, scope) for u in units for p in periods
                for scope in ((1, 2) if u[0] in parents else (1,))]
        t0 = time.monotonic()
        publish.refresh_live(keys)
        print(f"publish's first fill of {len(keys)} running scorecards: {time.monotonic() - t0:.1f} s")
        running = publish.running_keys()
        t0 = time.monotonic()
        publish.refresh_live(running)
        old = time.monotonic() - t0
        print(f"OLD  full refresh (refresh_live(running_keys()), {len(running)} scorecards): {old:.2f} s")

        # the feed's end for publish's lanes, then ticks over windows ending now
        publish.follow_once(5000)
        now_us = C.to_us(now)
        for label, window_s in (("5 s", 5), ("1 hour", 3600), ("1 day", 86400)):
            with db.write() as conn:  # the last tick, window_s ago
                conn.exec_driver_sql("DELETE FROM score_progress WHERE name = 'due_ticker'")
            aggregates.tick_due(lambda w=window_s: now_us - w * C.US, first_window_us=0)
            t0 = time.monotonic()
            ticked = aggregates.tick_due(lambda: now_us)
            tick = time.monotonic() - t0
            t0 = time.monotonic()
            read, recorded = publish.follow_once(5000)
            follow = time.monotonic() - t0
            print(f"NEW  tick over {label:>6}: {tick * 1000:8.1f} ms, {ticked.dossiers} dossiers, "
                  f"{ticked.petitions} petitions, {ticked.listings} listings turned due, "
                  f"{ticked.changes} (unit, month) announced; publish re-read them in {follow:.2f} s "
                  f"({read} feed keys, {recorded} versions recorded)")
    finally:
        publish_handle.stop(0)
        scoring.stop(0)
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
