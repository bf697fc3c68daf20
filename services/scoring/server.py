"""The scoring service process: settings, wiring, the change-notice consumer, serve (``chiso-scoring``)."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, field

import structlog
from chiso.scoring.v1 import scoring_pb2_grpc
from prometheus_client import Counter, Gauge

from services.scoring.domain.rules import RuleBook
from services.scoring.service import Scoring
from services.scoring.storage import Aggregates
from services.scoring.transport import SERVICE_NAME, ScoringServicer
from services.shared.config import CommonSettings, load_settings
from services.shared.db import Database, log_failure, migrate
from services.shared.grpc_server import ServerHandle, create_server, serve
from services.shared.logging import configure_logging

ENV_PREFIX = "CHISO_SCORING_"
log = structlog.get_logger("chiso.scoring")

NOTICES = Counter("chiso_scoring_notices_applied_total", "Change notices applied to the aggregates")
DOSSIERS = Counter("chiso_scoring_dossiers_moved_total", "Dossiers whose contribution was re-placed")
LAG = Gauge("chiso_scoring_notice_lag", "Change notices not applied yet (at the last poll)")


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


class Consumer:
    """Applies change notices until stopped. Several replicas may run one each (a lock serialises them)."""

    def __init__(self, aggregates: Aggregates, poll_seconds: float, batch: int) -> None:
        self.aggregates = aggregates
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scoring-consumer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        measured = 0.0
        while not self._stop.is_set():
            try:
                applied = self.aggregates.apply_pending(self.batch)
                if time.monotonic() - measured > 2.0:  # the backlog, for the notice-lag gauge
                    measured = time.monotonic()
                    done, head = self.aggregates.lag()
                    LAG.set(max(0, head - done))
            except Exception as exc:  # noqa: BLE001 — keep consuming
                log_failure(log, "consumer failed; retrying", exc)
                self._stop.wait(1.0)
                continue
            if applied.notices:
                NOTICES.inc(applied.notices)
                DOSSIERS.inc(applied.dossiers)
            if applied.notices < self.batch:
                self._stop.wait(self.poll_seconds)


def build(settings: ScoringSettings, book: RuleBook | None = None, db: Database | None = None) -> ServerHandle:
    """Rule files are loaded and validated here: a bad file stops the service with its message."""
    book = book or RuleBook.load_default()
    if settings.auto_migrate:
        migrate(settings.database_url)
    db = db or Database(settings.database_url)
    scoring = Scoring(db, book, cache_seconds=settings.catalogue_cache_seconds)
    servicer = ScoringServicer(book, scoring=scoring)
    handle = create_server(
        name="scoring",
        settings=settings,
        services=[(scoring_pb2_grpc.add_ScoringServiceServicer_to_server, servicer, SERVICE_NAME)],
    )
    if settings.consume:
        consumer = Consumer(scoring.aggregates, settings.poll_seconds, settings.batch_notices)
        handle.on_start.append(consumer.start)
        handle.on_stop.append(consumer.stop)
    handle.on_stop.append(db.dispose)
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chiso-scoring", description="The chiso scoring service.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (default)")
    sub.add_parser("rebuild", help="recompute every aggregate from the stored dossiers, then exit")
    args = parser.parse_args(argv)
    settings = load_settings(ScoringSettings, ENV_PREFIX)
    configure_logging("scoring", settings.log_level)
    if args.command == "rebuild":
        migrate(settings.database_url)
        db = Database(settings.database_url)
        result = Aggregates(db).rebuild()
        print(f"rebuilt {result.dossiers} dossiers into {result.cells} cells in {result.seconds:.1f} s")
        db.dispose()
        return 0
    serve(build(settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
