"""The scoring service process: settings, wiring, serve (``chiso-scoring``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from chiso.scoring.v1 import scoring_pb2_grpc

from services.scoring.domain.rules import RuleBook
from services.scoring.transport import SERVICE_NAME, ScoringServicer
from services.shared.config import CommonSettings, load_settings
from services.shared.grpc_server import ServerHandle, create_server, serve
from services.shared.logging import configure_logging

ENV_PREFIX = "CHISO_SCORING_"


@dataclass(frozen=True)
class ScoringSettings(CommonSettings):
    port: int = field(default=50052, metadata={"doc": "gRPC port (0 = any free port)"})


def build(settings: ScoringSettings, book: RuleBook | None = None) -> ServerHandle:
    """Rule files are loaded and validated here: a bad file stops the service with its message."""
    servicer = ScoringServicer(book or RuleBook.load_default())
    return create_server(
        name="scoring",
        settings=settings,
        services=[(scoring_pb2_grpc.add_ScoringServiceServicer_to_server, servicer, SERVICE_NAME)],
    )


def main() -> int:
    settings = load_settings(ScoringSettings, ENV_PREFIX)
    configure_logging("scoring", settings.log_level)
    serve(build(settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
