"""Server interceptors (sync ``grpc.server``): request context, metrics, error mapping, authentication.

gRPC looks handlers up on its own thread and runs them on worker threads, so each interceptor wraps
the handler's *behaviour* (which runs on the worker) in a context manager, ``around(method,
context)``, rebuilding the handler with its (de)serializers. For streaming responses the context
manager spans the whole iteration, so errors raised mid-stream are mapped, timed and logged like any
other. A status set with ``context.abort`` (or ``set_code``) is read back with ``context.code()``.

Order in the server, outermost first (see ``grpc_server.create_server``):
request context → metrics → error mapping → malformed requests → authentication → stream limits →
service-specific interceptors.
Error mapping sits outside authentication so that credential errors (and bugs in an authenticator)
get the same statuses as any handler error.

gRPC runs each call (handler lookup, behaviour, response iteration) in a ``contextvars.Context`` of
its own, so ids a handler binds for logging (``bind_contextvars(batch_id=...)``) and the current
principal never leak into the next call served by the same worker thread (a test guards this).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from prometheus_client import Counter, Gauge, Histogram

from services.shared.db import DATABASE_UNAVAILABLE, unavailable_cause
from services.shared.errors import ChisoError, FieldViolation, InvalidArgument, Unauthenticated, Unavailable
from services.shared.grpc_errors import internal_status, to_status
from services.shared.logging import get_logger

__all__ = [
    "AuthInterceptor",
    "BehaviourInterceptor",
    "ErrorMappingInterceptor",
    "MalformedRequestInterceptor",
    "MetricsInterceptor",
    "Principal",
    "RequestContextInterceptor",
    "bearer_token",
    "current_principal",
    "remaining",
]

log = get_logger("chiso.rpc")

Behaviour = Callable[[Any, Any], Any]
"""A handler's function: (request or request iterator, context) -> response or response iterator."""

# Module level, so registered once per process however many servers a test process builds.
REQUESTS = Counter(
    "chiso_grpc_requests", "gRPC calls handled, by final status code", ["service", "method", "code"]
)
LATENCY = Histogram(
    "chiso_grpc_request_seconds",
    "gRPC call duration (for streams: until the last message)",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
IN_FLIGHT = Gauge("chiso_grpc_requests_in_flight", "gRPC calls being handled", ["service"])

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[!-~]{1,128}")  # printable ASCII, no spaces: safe to echo and to log
_ALWAYS_PUBLIC = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.", "/grpc.reflection.v1.")
_QUIET = ("/grpc.health.v1.Health/",)  # probes: logged at debug
_SERVER_FAULTS = frozenset(  # logged at warning
    grpc.StatusCode[name] for name in ("UNKNOWN", "INTERNAL", "DATA_LOSS", "UNAVAILABLE")
)
_NO_DEADLINE = 1e9  # grpc reports ~9.2e18 s remaining when the client set no deadline
_TOO_LATE = 0.001  # deadlines have millisecond resolution: less than this left is already over


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: ``kind`` ("source", "operator" …), ``id``, granted ``scopes`` and
    whatever else the authenticator wants handlers to see in ``attributes``."""

    kind: str
    id: str
    scopes: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)


_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("chiso_principal", default=None)


def current_principal() -> Principal | None:
    """The caller of the RPC being handled on this thread (``None`` on public methods)."""
    return _principal.get()


def remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds left before the call's deadline, or ``None`` when the client set none."""
    left = context.time_remaining()
    return None if left is None or left > _NO_DEADLINE else max(left, 0.0)


def bearer_token(metadata: Mapping[str, str]) -> str | None:
    """The token of an ``authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = metadata.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _final_code(context: grpc.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(error, GeneratorExit) or (error is None and not context.is_active()):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN


def _is_abort(exc: BaseException, context: grpc.ServicerContext) -> bool:
    """Whether ``exc`` is what ``context.abort`` raises (a bare Exception, status already set)."""
    return type(exc) is Exception and not exc.args and isinstance(context.code(), grpc.StatusCode)


def rebuild_handler(
    handler: grpc.RpcMethodHandler,
    wrap: Callable[[Behaviour, bool], Behaviour],
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour replaced by ``wrap(behaviour, response_streaming)`` (and its
    request deserializer by ``request_deserializer`` when given). A thread pool the behaviour was
    given (``experimental_thread_pool``, see ``StreamLimitInterceptor``) stays with the new one."""
    kw = {
        "request_deserializer": request_deserializer or handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    for attr, factory, streaming in (
        ("unary_unary", grpc.unary_unary_rpc_method_handler, False),
        ("stream_unary", grpc.stream_unary_rpc_method_handler, False),
        ("unary_stream", grpc.unary_stream_rpc_method_handler, True),
        ("stream_stream", grpc.stream_stream_rpc_method_handler, True),
    ):
        behaviour = getattr(handler, attr)
        if behaviour is None:
            continue
        new = wrap(behaviour, streaming)
        pool = getattr(behaviour, "experimental_thread_pool", None)
        if pool is not None:
            new.experimental_thread_pool = pool  # type: ignore[attr-defined]
        return factory(new, **kw)
    raise ValueError("a method handler without a behaviour")


class BehaviourInterceptor(grpc.ServerInterceptor):
    """Base class: subclasses implement ``around(method, context)``, a context manager entered
    (on the worker thread) around each call of each handler kind."""

    def around(self, method: str, context: grpc.ServicerContext) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:  # unknown method: gRPC answers UNIMPLEMENTED
            return None
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        return rebuild_handler(
            handler,
            lambda behaviour, streaming: (self._streaming if streaming else self._unary)(method, behaviour),
        )

    def _unary(self, method: str, behaviour: Behaviour) -> Behaviour:
        def run(request: Any, context: grpc.ServicerContext) -> Any:
            with self.around(method, context):
                return behaviour(request, context)

        return run

    def _streaming(self, method: str, behaviour: Behaviour) -> Behaviour:
        def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with self.around(method, context):
                yield from behaviour(request, context)

        return run


class RequestContextInterceptor(BehaviourInterceptor):
    """Gives each call its own logging context: the caller's ``x-request-id`` (or a new one) is
    bound as ``request_id`` with ``rpc`` (the method) and sent back in the initial metadata; one
    ``rpc`` line per call records method, code and duration. A call whose deadline has already
    passed (less than a millisecond left) is refused before any work."""

    @contextlib.contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        started = time.perf_counter()
        request_id = ""
        for key, value in context.invocation_metadata() or ():
            if key == REQUEST_ID_HEADER and isinstance(value, str):
                request_id = value
                break
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
        error: BaseException | None = None
        try:
            context.send_initial_metadata(((REQUEST_ID_HEADER, request_id),))
            left = remaining(context)
            if left is not None and left < _TOO_LATE:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline already passed")
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            code = _final_code(context, error)
            level = (
                logging.DEBUG if method.startswith(_QUIET)
                else logging.WARNING if code in _SERVER_FAULTS
                else logging.INFO
            )
            log.log(
                level,
                "rpc",
                method=method,
                code=code.name,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


class MetricsInterceptor(BehaviourInterceptor):
    """Prometheus: ``chiso_grpc_requests_total{service,method,code}``,
    ``chiso_grpc_request_seconds{service,method}`` and ``chiso_grpc_requests_in_flight{service}``
    (``method`` is the bare method name, e.g. ``SyncDossiers``)."""

    def __init__(self, service: str) -> None:
        self.service = service

    @contextlib.contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        short = method.rsplit("/", 1)[-1]
        started = time.perf_counter()
        error: BaseException | None = None
        in_flight = IN_FLIGHT.labels(self.service)
        in_flight.inc()
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            in_flight.dec()
            REQUESTS.labels(self.service, short, _final_code(context, error).name).inc()
            LATENCY.labels(self.service, short).observe(time.perf_counter() - started)


class ErrorMappingInterceptor(BehaviourInterceptor):
    """A ``ChisoError`` becomes its status with ErrorInfo (and BadRequest); a handler's own
    ``context.abort`` passes through; anything else becomes INTERNAL with an error id — the
    traceback is logged under that id, nothing of it is sent."""

    @contextlib.contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        try:
            yield
        except ChisoError as exc:
            log.info("rpc refused", status=exc.code_name, reason=exc.reason, error_message=exc.message)
            context.abort_with_status(to_status(exc))
        except DATABASE_UNAVAILABLE as exc:
            # The database is unreachable, restarting or busy, or no pooled connection was free within
            # the pool's wait: a retryable condition, not a bug.
            error_id = uuid.uuid4().hex[:16]
            log.warning("database unavailable", error_id=error_id, error_type=unavailable_cause(exc))
            context.abort_with_status(to_status(Unavailable(
                "the database is unavailable; retry with backoff", reason="DATABASE_UNAVAILABLE",
                metadata={"error_id": error_id})))
        except Exception as exc:
            if _is_abort(exc, context):
                raise
            if not context.is_active():
                # The client cancelled the call or went away while the handler was reading its stream
                # (reading a cancelled stream raises): not a fault of ours, nothing to log as one.
                log.info("rpc cancelled by the client", error_type=type(exc).__name__)
                context.abort(grpc.StatusCode.CANCELLED, "the client cancelled the call")
            error_id = uuid.uuid4().hex[:16]
            log.error("unexpected error", error_id=error_id, exc_info=exc)
            context.abort_with_status(internal_status(error_id))


class _Unparsable:
    """What the tolerant deserializer hands on for bytes that are not the request message, or for a
    message with a NUL character in a string (``field``: its path) — text no database stores
    (PostgreSQL refuses it) and no code, name or id of chiso holds."""

    __slots__ = ("error_type", "field")

    def __init__(self, error_type: str, field: str = "") -> None:
        self.error_type = error_type
        self.field = field


def nul_field(message: Any, prefix: str = "") -> str:
    r"""The path of the first string field holding a NUL character, or ``""``: the request's own
    fields, those of its single nested messages and its maps and lists of text — not the elements of
    lists of messages (a sync batch's records), which their service judges one by one, keeping the
    good ones (ingest refuses such a record with its field).

    >>> from google.rpc import error_details_pb2
    >>> nul_field(error_details_pb2.BadRequest.FieldViolation(field="a", description="x\x00y"))
    'description'
    >>> nul_field(error_details_pb2.ErrorInfo(reason="R", metadata={"k": "a\x00"}))
    "metadata['k']"
    >>> nul_field(error_details_pb2.BadRequest(field_violations=[
    ...     error_details_pb2.BadRequest.FieldViolation(description="x\x00y")]))
    ''
    """
    for fd, value in message.ListFields():
        path = f"{prefix}{fd.name}"
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if (isinstance(key, str) and "\x00" in key) or (isinstance(item, str) and "\x00" in item):
                    return f"{path}[{key!r}]"
            continue
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif hasattr(value, "ListFields"):
            found = nul_field(value, f"{path}.")
            if found:
                return found
        elif hasattr(value, "__len__") and not isinstance(value, bytes):  # a list: of text only
            for index, item in enumerate(value):
                if isinstance(item, str) and "\x00" in item:
                    return f"{path}[{index}]"
    return ""


def _message_name(deserializer: Callable[[bytes], Any]) -> str:
    owner = getattr(deserializer, "__self__", None)  # ``SomeRequest.FromString``
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "") or "the request message"


def _malformed(name: str, bad: _Unparsable, index: int | None = None) -> InvalidArgument:
    where = "the request" if index is None else f"stream message {index}"
    metadata = {"message_type": name, "error_type": bad.error_type}
    if index is not None:
        metadata["message_index"] = str(index)
    if bad.field:
        return InvalidArgument(f"{bad.field}: a NUL character is not allowed in text", reason="NUL_CHARACTER",
                               metadata=metadata,
                               violations=[FieldViolation(bad.field, "a NUL character is not allowed in text")])
    return InvalidArgument(f"{where} is not a valid {name} (protobuf binary encoding)",
                           reason="MALFORMED_REQUEST", metadata=metadata)


def _checked_stream(requests: Iterator[Any], name: str) -> Iterator[Any]:
    for index, request in enumerate(requests):
        if isinstance(request, _Unparsable):
            raise _malformed(name, request, index)
        yield request


class MalformedRequestInterceptor(grpc.ServerInterceptor):
    """Bytes that do not parse as the method's request message are the caller's error: INVALID_ARGUMENT
    (reason ``MALFORMED_REQUEST``, the message type in ErrorInfo), logged like any refusal — not
    gRPC's own INTERNAL "Exception deserializing request!" with a traceback per call. A NUL character
    in any string field is refused the same way (reason ``NUL_CHARACTER``, the field's path).

    gRPC deserializes before the behaviour runs (for request streams: as the handler reads), and a
    deserializer that raises makes gRPC abort by itself. So the deserializer is wrapped to hand on a
    marker instead, and the behaviour (or the request stream) refuses the marker. Sits inside error
    mapping, so the refusal gets its status details."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        parse = handler.request_deserializer
        name = _message_name(parse)

        def tolerant(data: bytes) -> Any:
            try:
                message = parse(data)
            except Exception as exc:  # noqa: BLE001 - any failure to parse is the caller's bytes
                return _Unparsable(type(exc).__name__)
            # A NUL in a string is a 0 byte in the encoding: only then is the message walked (rare).
            if b"\x00" in data:
                where = nul_field(message)
                if where:
                    return _Unparsable("NulCharacter", where)
            return message

        if handler.request_streaming:
            def wrap(behaviour: Behaviour, _streaming: bool) -> Behaviour:
                def run(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
                    return behaviour(_checked_stream(requests, name), context)

                return run
        else:
            def wrap(behaviour: Behaviour, _streaming: bool) -> Behaviour:
                def run(request: Any, context: grpc.ServicerContext) -> Any:
                    if isinstance(request, _Unparsable):
                        raise _malformed(name, request)
                    return behaviour(request, context)

                return run

        return rebuild_handler(handler, wrap, tolerant)


class AuthInterceptor(BehaviourInterceptor):
    """Authenticates every call except public methods, health and reflection.

    ``authenticate(method, metadata)`` receives the call's text metadata (lower-case keys, first
    value of each; ``bearer_token`` extracts the token) and returns a ``Principal`` or raises
    ``Unauthenticated`` / ``PermissionDenied``; ``None`` means no credential
    (UNAUTHENTICATED, reason ``MISSING_TOKEN``). The principal is then ``current_principal()``
    and its id is bound as ``principal`` in the logs. Metadata and tokens are never logged.

    ``public_methods`` holds full method names (``/chiso.publish.v1.PublishService/GetScorecard``)
    or whole service names (``chiso.publish.v1.PublishService``).
    """

    def __init__(
        self,
        authenticate: Callable[[str, Mapping[str, str]], Principal | None],
        public_methods: Iterable[str] = (),
    ) -> None:
        public = frozenset(public_methods)
        self.authenticate = authenticate
        self.public_methods = frozenset(m for m in public if m.startswith("/"))
        services = sorted(f"/{name}/" for name in public if not name.startswith("/"))
        self.public_prefixes = _ALWAYS_PUBLIC + tuple(services)

    def is_public(self, method: str) -> bool:
        return method in self.public_methods or method.startswith(self.public_prefixes)

    @contextlib.contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        if self.is_public(method):
            yield
            return
        metadata: dict[str, str] = {}
        for key, value in context.invocation_metadata() or ():
            if isinstance(value, str):
                metadata.setdefault(key.lower(), value)
        principal = self.authenticate(method, metadata)
        if principal is None:
            raise Unauthenticated("this method needs a bearer token", reason="MISSING_TOKEN")
        token = _principal.set(principal)
        structlog.contextvars.bind_contextvars(principal=principal.id)
        try:
            yield
        finally:
            # A response stream abandoned by its client may be closed later, by the garbage
            # collector, outside the call's context; the call's context dies with it anyway.
            with contextlib.suppress(ValueError):
                _principal.reset(token)
