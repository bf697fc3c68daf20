"""Sends deliveries to a portal's ``chiso.portal.v1.PortalReceiverService`` (the PortalSender port)."""

from __future__ import annotations

import time

import grpc
from chiso.portal.v1 import portal_pb2, portal_pb2_grpc

from services.publish.domain.subscriptions import MAX_DELIVERY_BYTES, DeliveryFailed, Outgoing, Subscription


class GrpcPortalSender:
    def __init__(self, sub: Subscription) -> None:
        options = [("grpc.max_send_message_length", MAX_DELIVERY_BYTES)]
        if sub.tls_enabled:
            creds = grpc.ssl_channel_credentials(root_certificates=sub.tls_ca or None)
            if sub.tls_server_name:
                options.append(("grpc.ssl_target_name_override", sub.tls_server_name))
            self.channel = grpc.secure_channel(sub.endpoint, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(sub.endpoint, options=options)
        self.stub = portal_pb2_grpc.PortalReceiverServiceStub(self.channel)

    def send(self, item: Outgoing, timeout: float) -> None:
        request = portal_pb2.DeliverRequest(
            delivery_id=item.delivery_id, subscription_id=item.subscription_id, sequence=item.sequence,
            feed=item.feed, payload=item.payload, content_type=item.content_type, signature=item.signature,
            key_id=item.key_id)
        request.send_time.FromNanoseconds(time.time_ns())
        try:
            self.stub.Deliver(request, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else ""
            raise DeliveryFailed(f"{getattr(code, 'name', 'UNKNOWN')}: {details or ''}".strip()) from None

    def close(self) -> None:
        self.channel.close()
