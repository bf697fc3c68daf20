"""Client channels of chiso's command-line tools and services: gRPC's own retry, by service config.

Every method is retried on UNAVAILABLE only (AIP-194: the server was not reached, or it was
stopping), with exponential backoff and jitter done by gRPC itself; every other status is final.
Only calls that are safe to repeat go through these channels: reads, and writes that carry a
request id (AIP-155), whose repeat returns the first answer and changes nothing.

The retry buffer is raised to the largest message a client sends (64 MiB): gRPC does not retry a
call whose request no longer fits in it (the default buffer is 256 KiB, smaller than a batch).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import grpc

MAX_ATTEMPTS = 5
"""gRPC's ceiling: a service config asking more attempts gets 5."""
MAX_MESSAGE_BYTES = 64 << 20

RETRY_POLICY = {
    "maxAttempts": MAX_ATTEMPTS,
    "initialBackoff": "0.2s",
    "maxBackoff": "10s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
SERVICE_CONFIG = json.dumps({"methodConfig": [{"name": [{}], "retryPolicy": RETRY_POLICY}]})


def channel_options(extra: Sequence[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    """Options of a retrying channel (plus ``extra``)."""
    return [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", SERVICE_CONFIG),
        ("grpc.per_rpc_retry_buffer_size", MAX_MESSAGE_BYTES),
        ("grpc.retry_buffer_size", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        *extra,
    ]


def retrying_channel(target: str, extra: Sequence[tuple[str, object]] = ()) -> grpc.Channel:
    """An insecure channel to ``target`` (host:port) that retries UNAVAILABLE by service config."""
    return grpc.insecure_channel(target, options=channel_options(extra))
