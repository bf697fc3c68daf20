"""The ingest service process: settings, wiring, serve.

``build(settings)`` wires everything and returns an unstarted server handle (tests call it with
port 0); ``main()`` is the container entry point (``chiso-ingest``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from chiso.ingest.v1 import ingest_pb2_grpc

from services.ingest.service import Ingest, IngestLimits
from services.ingest.transport import SERVICE_NAME, IngestServicer
from services.shared.access import Authenticator, Identity, bearer_authenticate
from services.shared.config import CommonSettings, check_setting, settings_or_exit
from services.shared.db import Database, migrate
from services.shared.errors import Unauthenticated
from services.shared.grpc_server import ServerHandle, create_server, serve
from services.shared.interceptors import current_principal
from services.shared.logging import configure_logging

ENV_PREFIX = "CHISO_INGEST_"


@dataclass(frozen=True)
class IngestSettings(CommonSettings):
    port: int = field(default=50051, metadata={"doc": "gRPC port (0 = any free port)"})
    max_batch_records: int = field(default=5000, metadata={"doc": "records per batch, at most"})
    auto_migrate: bool = field(default=True, metadata={"doc": "apply database migrations at start"})
    token_cache_seconds: float = field(
        default=5.0, metadata={"doc": "how long a token check is cached (revocation delay)"}
    )
    max_clock_skew_seconds: float = field(
        default=120.0,
        metadata={"doc": "how far in the future a source instant may lie (sender's clock ahead), 0–900"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_setting(0 <= self.max_clock_skew_seconds <= 900, "max_clock_skew_seconds", "must be 0 to 900 seconds")


def current_identity() -> Identity:
    principal = current_principal()
    if principal is None:  # the interceptor guarantees one on every ingest method
        raise Unauthenticated("not authenticated", reason="MISSING_TOKEN")
    return principal.attributes["identity"]


def build(settings: IngestSettings, db: Database | None = None) -> ServerHandle:
    if settings.auto_migrate:
        migrate(settings.database_url)
    db = db or Database(settings.database_url)
    ingest = Ingest(db, IngestLimits(max_batch_records=settings.max_batch_records,
                                     max_clock_skew_seconds=settings.max_clock_skew_seconds))
    servicer = IngestServicer(ingest, current_identity)
    handle = create_server(
        name="ingest",
        settings=settings,
        services=[(ingest_pb2_grpc.add_IngestServiceServicer_to_server, servicer, SERVICE_NAME)],
        authenticate=bearer_authenticate(Authenticator(db, ttl=settings.token_cache_seconds),
                                         "missing bearer token"),
    )
    handle.on_stop.append(db.dispose)
    handle.watch_database(db.ping)  # readiness follows the database
    return handle


def main() -> int:
    settings = settings_or_exit(IngestSettings, ENV_PREFIX, "chiso-ingest")
    configure_logging("ingest", settings.log_level)
    serve(build(settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
