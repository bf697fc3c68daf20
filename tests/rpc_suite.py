"""The whole suite on one database (ingest, scoring, publish and a portal receiver on loopback), with
seed data and tokens, plus generic calls of any method by its full name with raw bytes — for the
bad-input tests, the fuzz tests and ``make fuzz`` (``tools/fuzz.py``).

Every method of every service is listed from the generated descriptors, so a new RPC is covered
without touching the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.portal.v1 import portal_pb2
from chiso.publish.v1 import publish_pb2
from chiso.scoring.v1 import scoring_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message_factory

from tests.helpers import (
    Tokens,
    auth,
    ended_dossier,
    ingest_server,
    portal_receiver,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
    wait_scored,
)

SERVICES: dict[str, _descriptor.ServiceDescriptor] = {
    "ingest": ipb.DESCRIPTOR.services_by_name["IngestService"],
    "scoring": scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"],
    "publish": publish_pb2.DESCRIPTOR.services_by_name["PublishService"],
    "portal": portal_pb2.DESCRIPTOR.services_by_name["PortalReceiverService"],
}


def methods(service: str) -> list[_descriptor.MethodDescriptor]:
    return list(SERVICES[service].methods)


def path(method: _descriptor.MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def request_class(method: _descriptor.MethodDescriptor):
    return message_factory.GetMessageClass(method.input_type)


@dataclass
class Suite:
    tokens: Tokens
    channels: dict[str, grpc.Channel]
    handles: dict[str, object]
    db: object
    db_url: str
    stubs: dict[str, object] = field(default_factory=dict)

    def invoke(self, method: _descriptor.MethodDescriptor, payloads: list[bytes], *, metadata=(),
               timeout: float = 10.0, stream_messages: int = 3,
               stream_timeout: float = 1.0) -> tuple[grpc.StatusCode, grpc.RpcError | None]:
        """Call ``method`` with raw request bytes (one payload for unary requests, each for a request
        stream); a response stream is read for up to ``stream_messages`` messages, then cancelled
        (that counts as OK), or until ``stream_timeout`` (a feed waiting for changes ends
        DEADLINE_EXCEEDED). Returns the final code and the error, if any."""
        channel = self.channels[method.containing_service.name]
        name = path(method)
        if method.server_streaming:
            timeout = min(timeout, stream_timeout)
        try:
            if method.client_streaming and method.server_streaming:
                call = channel.stream_stream(name)(iter(payloads), metadata=metadata, timeout=timeout)
                return self._drain(call, stream_messages)
            if method.client_streaming:
                channel.stream_unary(name)(iter(payloads), metadata=metadata, timeout=timeout)
            elif method.server_streaming:
                call = channel.unary_stream(name)(payloads[0], metadata=metadata, timeout=timeout)
                return self._drain(call, stream_messages)
            else:
                channel.unary_unary(name)(payloads[0], metadata=metadata, timeout=timeout)
        except grpc.RpcError as err:
            return err.code(), err
        return grpc.StatusCode.OK, None

    @staticmethod
    def _drain(call, limit: int) -> tuple[grpc.StatusCode, grpc.RpcError | None]:
        try:
            for n, _ in enumerate(call, 1):
                if n >= limit:
                    call.cancel()
                    return grpc.StatusCode.OK, None
        except grpc.RpcError as err:
            return err.code(), err
        return grpc.StatusCode.OK, None


def seed(ingest, tokens: Tokens) -> None:
    """Two provinces' units and procedures, and three dossiers of August 2026."""
    seed_units(ingest, tokens)
    records = [ended_dossier("late-1", "H25.01", 12), ended_dossier("ok-1", "H25.01", 5),
               ended_dossier("hn-1", "H01.01", 5)]
    r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="seed-aug", records=records),
                            metadata=auth(tokens.national))
    assert r.result.accepted_count == 3, r.result


@contextmanager
def running_suite(db_url: str, workdir: Path, **overrides) -> Iterator[Suite]:
    """Ingest, scoring, publish (following scoring) and a portal receiver on ``db_url``, seeded;
    ``overrides`` are settings common to the three services (stream limits …)."""
    with ExitStack() as stack:
        ingest, db, ingest_handle = stack.enter_context(ingest_server(db_url, **overrides))
        tokens = setup_tokens(db)
        seed(ingest, tokens)
        scoring, scoring_handle = stack.enter_context(scoring_server(db_url, **overrides))
        wait_scored(db)
        publish, publish_handle = stack.enter_context(
            publish_server(db_url, scoring_handle.address, key_file=signing_key_file(workdir), **overrides))
        portal_handle = stack.enter_context(portal_receiver(workdir / "portal.db", publish_handle.address))
        handles = {"IngestService": ingest_handle, "ScoringService": scoring_handle,
                   "PublishService": publish_handle, "PortalReceiverService": portal_handle}
        channels = {}
        for name, handle in handles.items():
            channels[name] = stack.enter_context(grpc.insecure_channel(handle.address))
        yield Suite(tokens=tokens, channels=channels, handles=handles, db=db, db_url=db_url,
                    stubs={"ingest": ingest, "scoring": scoring, "publish": publish})
