"""The scoring service process: settings, wiring, the change-notice consumer, serve (``chiso-scoring``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from chiso.scoring.v1 import scoring_pb2_grpc
from prometheus_client import Counter, Gauge

from services.scoring.domain.rules import RuleBook, RuleTableError
from services.scoring.due import DueTicker
from services.scoring.service import Scoring
from services.scoring.storage import PAST, RECENT, Aggregates
from services.scoring.transport import PUBLIC_METHODS, SERVICE_NAME, ScoringServicer
from services.shared.access import Authenticator, bearer_authenticate
from services.shared.config import CommonSettings, check_setting, settings_or_exit
from services.shared.db import Database, log_failure, migrate
from services.shared.grpc_server import ServerHandle, create_server, serve
from services.shared.logging import configure_logging

ENV_PREFIX = "CHISO_SCORING_"
log = structlog.get_logger("chiso.scoring")

NOTICES = Counter("chiso_scoring_notices_applied_total", "Change notices applied to the aggregates")
DOSSIERS = Counter("chiso_scoring_dossiers_moved_total", "Dossiers whose contribution was re-placed")
LAG = Gauge("chiso_scoring_notice_lag", "Change notices not applied yet (at the last poll)")
FRESHNESS_LAG = Gauge("chiso_scoring_freshness_lag_seconds",
                      "Age of the oldest change notice the recent lane (running and last month, catalogue) has "
                      "not applied yet (0 when caught up): how far scoring's running periods are behind what "
                      "ingest acknowledged (at the last poll)")
PAST_LAG = Gauge("chiso_scoring_past_lane_lag_seconds",
                 "Age of the oldest change notice the past lane (months before last month) has not applied yet "
                 "(0 when caught up): how far a backfill of the past is from being scored (at the last poll)")
PAST_LIMIT = Gauge("chiso_scoring_past_lane_batch_notices",
                   "Notices the past lane takes per transaction now (adapted to PAST_SECONDS)")
SET_ASIDE = Counter("chiso_scoring_set_aside_total",
                    "Items (dossiers, change notices) the consumer could not apply and set aside")
SET_ASIDE_NOW = Gauge("chiso_scoring_set_aside_items", "Items set aside and not applied yet (at the last poll)")
RETRIES = Counter("chiso_scoring_set_aside_retries_total", "Retries of set-aside items, by outcome", ["outcome"])


@dataclass(frozen=True)
class ScoringSettings(CommonSettings):
    port: int = field(default=50052, metadata={"doc": "gRPC port (0 = any free port)"})
    auto_migrate: bool = field(default=True, metadata={"doc": "apply database migrations at start"})
    consume: bool = field(default=True, metadata={"doc": "apply ingest's change notices in the background"})
    poll_seconds: float = field(default=0.1, metadata={"doc": "consumer's pause when it is caught up"})
    batch_notices: int = field(default=2000, metadata={"doc": "notices applied per transaction"})
    catalogue_cache_seconds: float = field(
        default=0.5, metadata={"doc": "how often cached unit/procedure/offer lists are checked for changes"}
    )
    token_cache_seconds: float = field(
        default=5.0, metadata={"doc": "how long a token check is cached (revocation delay)"})
    retry_base_seconds: float = field(default=1.0, metadata={
        "doc": "first retry of a set-aside item waits up to this (full jitter, doubling)"})
    retry_max_seconds: float = field(default=600.0, metadata={
        "doc": "longest wait between retries of a set-aside item"})
    due_tick_seconds: float = field(default=5.0, metadata={
        "doc": "how often the due ticker announces the scorecards of units whose unfinished dossiers' deadlines "
               "passed (time passing; replicas share it); 0 = off"})
    rules_dir: str = field(default="", metadata={
        "doc": "folder of further rule versions (*.toml) beside the shipped ones; checked at start"})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_setting(0 < self.retry_base_seconds <= self.retry_max_seconds, "retry_base_seconds",
                      "must be positive and at most retry_max_seconds")
        check_setting(0 <= self.due_tick_seconds <= 3600, "due_tick_seconds", "must be 0–3600")


class Consumer:
    """Applies change notices until stopped. Several replicas may run one each (a lock serialises them).
    Items it could not apply are set aside (``Aggregates.apply_lane``) and retried here when due.

    The recent lane (running and last month, the catalogue) goes first, whole batches while it is
    behind; the past lane (a backfill of last year) gets one transaction between the recent lane's,
    its size adapted so that it takes about ``PAST_SECONDS``: a change to today's data waits at most
    for one such transaction, however large the backfill."""

    PAST_SECONDS = 0.3

    def __init__(self, aggregates: Aggregates, poll_seconds: float, batch: int) -> None:
        self.aggregates = aggregates
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.past_limit = max(1, batch // 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scoring-consumer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        measured = retried = 0.0
        while not self._stop.is_set():
            try:
                applied = self.aggregates.apply_lane(RECENT, self.batch)
                if not applied.behind:  # the recent lane is caught up: one bounded step of the past lane
                    started = time.monotonic()
                    past = self.aggregates.apply_lane(PAST, self.past_limit)
                    self._adapt(time.monotonic() - started, past.notices)
                    applied = dataclasses.replace(
                        past, notices=applied.notices + past.notices, dossiers=applied.dossiers + past.dossiers,
                        set_aside=applied.set_aside + past.set_aside)
                SET_ASIDE.inc(applied.set_aside)
                if applied.notices:
                    NOTICES.inc(applied.notices)
                    DOSSIERS.inc(applied.dossiers)
                if time.monotonic() - retried > 1.0:  # set-aside items whose next attempt is due
                    retried = time.monotonic()
                    again = self.aggregates.retry_set_aside()
                    RETRIES.labels("applied").inc(again.applied)
                    RETRIES.labels("failed").inc(again.failing)
                    SET_ASIDE.inc(again.set_aside)
                if time.monotonic() - measured > 2.0:  # the backlog and the set-aside items, for the gauges
                    measured = time.monotonic()
                    done, head = self.aggregates.lag()
                    LAG.set(max(0, head - done))
                    for gauge, lane in ((FRESHNESS_LAG, RECENT), (PAST_LAG, PAST)):
                        oldest = self.aggregates.oldest_pending_us(lane)
                        gauge.set(0 if oldest is None else max(0.0, time.time() - oldest / 1e6))
                    SET_ASIDE_NOW.set(self.aggregates.set_aside_count())
            except Exception as exc:  # noqa: BLE001 — keep consuming
                log_failure(log, "consumer failed; retrying", exc)
                self._stop.wait(1.0)
                continue
            if not applied.behind:
                self._stop.wait(self.poll_seconds)

    def _adapt(self, seconds: float, notices: int) -> None:
        """Halve the past lane's batch when a transaction took over twice ``PAST_SECONDS``, double it
        (up to the recent lane's batch) when a full one took under half."""
        if seconds > 2 * self.PAST_SECONDS and self.past_limit > 1:
            self.past_limit = max(1, self.past_limit // 2)
        elif seconds < self.PAST_SECONDS / 2 and notices >= self.past_limit:
            self.past_limit = min(self.batch, self.past_limit * 2)
        PAST_LIMIT.set(self.past_limit)


def build(settings: ScoringSettings, book: RuleBook | None = None, db: Database | None = None,
          now: Callable[[], datetime] | None = None) -> ServerHandle:
    """Rule files are loaded and validated here: a bad file stops the service with its message.
    ``now``: the clock (tests move it; default the real one)."""
    book = book or RuleBook.load(settings.rules_dir)
    if settings.auto_migrate:
        migrate(settings.database_url)
    db = db or Database(settings.database_url)
    clock = {"now": now} if now is not None else {}
    scoring = Scoring(db, book, cache_seconds=settings.catalogue_cache_seconds,
                      retry_base_seconds=settings.retry_base_seconds, retry_max_seconds=settings.retry_max_seconds,
                      **clock)
    servicer = ScoringServicer(book, scoring=scoring, **clock)
    handle = create_server(
        name="scoring",
        settings=settings,
        services=[(scoring_pb2_grpc.add_ScoringServiceServicer_to_server, servicer, SERVICE_NAME)],
        authenticate=bearer_authenticate(
            Authenticator(db, ttl=settings.token_cache_seconds),
            "the records behind a scorecard need a bearer token: the unit's source system, its official or an "
            "operator"),
        public_methods=PUBLIC_METHODS,
    )
    if settings.consume:
        consumer = Consumer(scoring.aggregates, settings.poll_seconds, settings.batch_notices)
        handle.consumer = consumer  # type: ignore[attr-defined]  # for tests and tools
        handle.on_start.append(consumer.start)
        handle.on_stop.append(consumer.stop)
    if settings.due_tick_seconds:
        ticker = DueTicker(scoring.aggregates, scoring.now, settings.due_tick_seconds)
        handle.ticker = ticker  # type: ignore[attr-defined]  # for tests and tools
        handle.on_start.append(ticker.start)
        handle.on_stop.append(ticker.stop)
    handle.on_stop.append(db.dispose)
    handle.watch_database(db.ping)  # readiness follows the database
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chiso-scoring", description="The chiso scoring service.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (default)")
    sub.add_parser("rebuild", help="recompute every aggregate from the stored dossiers, then exit")
    aside = sub.add_parser("set-aside", help="items the consumer could not apply: list them, or replay them now")
    actions = aside.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="one JSON object per item (oldest first)")
    replay = actions.add_parser("replay", help="try items again now, whatever their backoff")
    replay.add_argument("ids", nargs="*", type=int, help="item ids (default: every item)")
    args = parser.parse_args(argv)
    settings = settings_or_exit(ScoringSettings, ENV_PREFIX, "chiso-scoring")
    configure_logging("scoring", settings.log_level)
    if args.command == "rebuild":
        migrate(settings.database_url)
        db = Database(settings.database_url)
        result = Aggregates(db).rebuild()
        print(f"rebuilt {result.dossiers} dossiers into {result.cells} cells in {result.seconds:.1f} s")
        db.dispose()
        return 0
    if args.command == "set-aside":
        db = Database(settings.database_url)
        try:
            return _set_aside_command(args, Scoring(db, RuleBook.load(settings.rules_dir)).aggregates)
        finally:
            db.dispose()
    try:
        handle = build(settings)
    except RuleTableError as exc:  # one line: the file, the indicator and the problem
        print(f"chiso-scoring: a rule version cannot be used: {exc}", file=sys.stderr)
        return 2
    serve(handle, settings)
    return 0


def _set_aside_command(args, aggregates: Aggregates) -> int:
    """``chiso-scoring set-aside list|replay``: straight on the database, like ``rebuild``."""
    if args.action == "list":
        after = 0
        while items := aggregates.set_aside(1000, after):
            for item in items:
                print(json.dumps(dataclasses.asdict(item), ensure_ascii=False))
            after = items[-1].id
        if not after:
            print("(nothing set aside)", file=sys.stderr)  # standard output stays JSON lines, here none
        return 0
    ids = args.ids or [item.id for item in aggregates.set_aside(1_000_000)]
    result = aggregates.retry_set_aside(ids=ids)
    print(json.dumps({"tried": len(ids), "applied": result.applied, "still_failing": result.failing,
                      "newly_set_aside": result.set_aside}))
    return 0 if not result.failing else 1


if __name__ == "__main__":
    sys.exit(main())
