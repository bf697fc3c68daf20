"""Server interceptors: request context, metrics, error mapping and authentication.

gRPC's sync server looks up handlers on its own thread and runs them on worker threads, so each
interceptor wraps the handler's *behaviour* (which runs on the worker) in a context manager,
``around(method, context)``. For streaming responses the context spans the whole iteration, so
errors raised while streaming are mapped and timed like any other.

Order in the server (outermost first): request context → metrics → error mapping → authentication.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from prometheus_client import Counter, Histogram

from services.shared.errors import ChisoError, Unauthenticated
from services.shared.grpc_errors import internal_status, to_status

log = structlog.get_logger("chiso.rpc")

REQUESTS = Counter("chiso_grpc_requests_total", "gRPC calls handled", ["service", "method", "code"])
LATENCY = Histogram(
    "chiso_grpc_request_seconds",
    "gRPC call duration",
    ["service", "method"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    kind: str
    id: str
    scopes: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)


_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("chiso_principal", default=None)


def current_principal() -> Principal | None:
    return _principal.get()


def code_of(context) -> grpc.StatusCode:
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK


class BehaviourInterceptor(grpc.ServerInterceptor):
    """Base: subclasses implement ``around(method, context)``, a context manager around the call."""

    def around(self, method: str, context) -> contextlib.AbstractContextManager:  # pragma: no cover
        raise NotImplementedError

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method

        def wrap_unary(behaviour):
            def run(request, context):
                with self.around(method, context):
                    return behaviour(request, context)

            return run

        def wrap_streaming(behaviour):
            def run(request, context):
                with self.around(method, context):
                    yield from behaviour(request, context)

            return run

        kwargs = dict(
            request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(wrap_unary(handler.unary_unary), **kwargs)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(wrap_unary(handler.stream_unary), **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(wrap_streaming(handler.unary_stream), **kwargs)
        return grpc.stream_stream_rpc_method_handler(wrap_streaming(handler.stream_stream), **kwargs)


class RequestContextInterceptor(BehaviourInterceptor):
    """Request id (from ``x-request-id`` or new) bound into logs and echoed back; one log line per
    call; a call whose deadline has already passed is refused."""

    @contextlib.contextmanager
    def around(self, method, context) -> Iterator[None]:
        structlog.contextvars.clear_contextvars()  # worker threads are reused
        md = dict(context.invocation_metadata() or ())
        request_id = str(md.get("x-request-id", ""))[:128] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
        context.send_initial_metadata((("x-request-id", request_id),))
        started = time.perf_counter()
        try:
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline already passed")
            yield
        finally:
            log.info("rpc", method=method, code=code_of(context).name,
                     duration_ms=round((time.perf_counter() - started) * 1000, 2))
            structlog.contextvars.clear_contextvars()


class MetricsInterceptor(BehaviourInterceptor):
    """Counts calls by status code and times them (Prometheus)."""

    def __init__(self, service: str) -> None:
        self.service = service

    @contextlib.contextmanager
    def around(self, method, context) -> Iterator[None]:
        started = time.perf_counter()
        short = method.rsplit("/", 1)[-1]
        try:
            yield
        finally:
            REQUESTS.labels(self.service, short, code_of(context).name).inc()
            LATENCY.labels(self.service, short).observe(time.perf_counter() - started)


class ErrorMappingInterceptor(BehaviourInterceptor):
    """Domain errors → their status with ErrorInfo (and BadRequest); anything else → INTERNAL with
    an error id (the traceback is logged, never sent)."""

    @contextlib.contextmanager
    def around(self, method, context) -> Iterator[None]:
        try:
            yield
        except ChisoError as exc:
            log.info("rpc refused", status=exc.code_name, reason=exc.reason, message=exc.message)
            context.abort_with_status(to_status(exc))
        except Exception as exc:
            if code_of(context) is not grpc.StatusCode.OK:
                raise  # the handler aborted on purpose
            error_id = uuid.uuid4().hex[:12]
            log.error("unexpected error", error_id=error_id, exc_info=exc)
            context.abort_with_status(internal_status(error_id))


class AuthInterceptor(BehaviourInterceptor):
    """Bearer authentication: ``authenticate(method, metadata)`` returns a Principal or raises
    Unauthenticated / PermissionDenied. Public methods, health and reflection skip it."""

    def __init__(
        self,
        authenticate: Callable[[str, Mapping[str, str]], Principal | None],
        public_methods: frozenset[str] = frozenset(),
    ) -> None:
        self.authenticate = authenticate
        self.public_methods = frozenset(public_methods)

    @contextlib.contextmanager
    def around(self, method, context) -> Iterator[None]:
        if method in self.public_methods or method.startswith(("/grpc.health.", "/grpc.reflection.")):
            yield
            return
        md = {k.lower(): v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        principal = self.authenticate(method, md)
        if principal is None:
            raise Unauthenticated("not authenticated", reason="MISSING_TOKEN")
        token = _principal.set(principal)
        structlog.contextvars.bind_contextvars(principal=principal.id)
        try:
            yield
        finally:
            _principal.reset(token)
