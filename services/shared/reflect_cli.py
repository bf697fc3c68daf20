"""chiso-grpc — explore and call any chiso service through its gRPC server reflection alone.

    chiso-grpc --target 127.0.0.1:50053 list                                   # services
    chiso-grpc --target 127.0.0.1:50053 list chiso.publish.v1.PublishService   # its methods
    chiso-grpc --target 127.0.0.1:50053 describe chiso.publish.v1.PublishService/GetRanking
    chiso-grpc --target 127.0.0.1:50053 describe chiso.publish.v1.GetRankingRequest
    chiso-grpc --target 127.0.0.1:50053 call chiso.publish.v1.PublishService/GetRanking \\
        '{"period": {"kind": "PERIOD_KIND_MONTH", "year": 2026, "number": 11}, "unitKind": "UNIT_KIND_PROVINCE"}'
    chiso-grpc --target 127.0.0.1:50051 call chiso.ingest.v1.IngestService/SyncUnits @units.json \\
        -H "authorization=Bearer $(cat var/demo/demo-source.token)"

Nothing of chiso's generated code is used: message types come from the server (as grpcurl does),
so the same command works for any service that enables reflection. A request body is JSON in
protobuf's JSON mapping (camelCase or the proto field names), given inline, as ``@file`` or ``-``
(standard input); the response is printed as JSON, UTF-8 with the diacritics kept. Unary methods
only.

Exit status 0; 2 when the call ends with a gRPC status other than OK (code, message and the
ErrorInfo reason / field violations are printed); 1 for a request this client cannot make (an
unknown service or method, a body that is not valid JSON for the request type).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Sequence

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor, ServiceDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from services.shared.grpc_errors import details_from_rpc_error

PROG = "chiso-grpc"
_HEADER = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*[:=]\s*(.*)$")


class UsageError(Exception):
    """A request this client cannot make (exit status 1)."""


class _Database(ProtoReflectionDescriptorDatabase):
    """grpc_reflection's client, reading each reflection stream to its end: it reads the one
    answer it asked for and drops the stream, which cancels it, and the server then logs every
    lookup as a failed call."""

    def _do_one_request(self, request, key):
        responses = self._stub.ServerReflectionInfo(iter([request]))
        res = next(responses)
        for _ in responses:  # the server ends the stream once the request stream has ended
            pass
        if res.WhichOneof("message_response") == "error_response":
            if res.error_response.error_code != grpc.StatusCode.NOT_FOUND.value[0]:
                raise UsageError(f"reflection refused {key!r}: {res.error_response.error_message}")
            raise KeyError(key)
        return res


class Reflection:
    """The services and message types a server describes through its reflection service."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.db = _Database(channel)
        self.pool = descriptor_pool.DescriptorPool(self.db)

    def services(self) -> list[str]:
        return sorted(self.db.get_services())

    def service(self, name: str) -> ServiceDescriptor:
        try:
            return self.pool.FindServiceByName(name)
        except KeyError:
            raise UsageError(f"the server has no service {name!r} (try: {PROG} list)") from None

    def method(self, name: str) -> MethodDescriptor:
        """``pkg.Service/Method`` or ``pkg.Service.Method``."""
        service, sep, method = name.replace("/", ".").rpartition(".")
        if not sep or not service:
            raise UsageError(f"name a method as package.Service/Method, not {name!r}")
        found = self.service(service).methods_by_name.get(method)
        if found is None:
            raise UsageError(f"{service} has no method {method!r} (try: {PROG} list {service})")
        return found

    def symbol(self, name: str) -> ServiceDescriptor | MethodDescriptor | Descriptor:
        """A service, a method or a message type."""
        name = name.lstrip(".")
        if "/" in name:
            return self.method(name)
        for find in (self.pool.FindServiceByName, self.pool.FindMessageTypeByName):
            try:
                return find(name)
            except KeyError:
                pass
        return self.method(name)  # pkg.Service.Method, or a clear "no such service"


def _rpc_line(m: MethodDescriptor) -> str:
    stream_in = "stream " if m.client_streaming else ""
    stream_out = "stream " if m.server_streaming else ""
    return (f"rpc {m.name}({stream_in}.{m.input_type.full_name}) "
            f"returns ({stream_out}.{m.output_type.full_name});")


def _field_type(f: FieldDescriptor) -> str:
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        key, value = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
        return f"map<{_field_type(key)}, {_field_type(value)}>"
    if f.message_type is not None:
        kind = "." + f.message_type.full_name
    elif f.enum_type is not None:
        kind = "." + f.enum_type.full_name
    else:
        kind = _SCALARS.get(f.type, "?")
    repeated = f.is_repeated if hasattr(f, "is_repeated") else f.label == FieldDescriptor.LABEL_REPEATED
    return f"repeated {kind}" if repeated else kind


_SCALARS = {getattr(FieldDescriptor, f"TYPE_{t.upper()}"): t for t in (
    "double", "float", "int64", "uint64", "int32", "fixed64", "fixed32", "bool", "string", "bytes",
    "uint32", "sfixed32", "sfixed64", "sint32", "sint64")}


def describe_message(d: Descriptor) -> list[str]:
    lines = [f"{d.full_name} is a message:", f"message {d.name} {{"]
    for f in d.fields:
        is_map = f.message_type is not None and f.message_type.GetOptions().map_entry
        lines.append(f"  {_field_type(f)} {f.name} = {f.number};" + ("" if is_map else f"  // JSON: {f.json_name}"))
    lines.append("}")
    enums = {f.enum_type for f in d.fields if f.enum_type is not None}
    for e in sorted(enums, key=lambda e: e.full_name):
        lines.append(f"enum {e.full_name}: " + ", ".join(v.name for v in e.values))
    return lines


def describe(symbol: ServiceDescriptor | MethodDescriptor | Descriptor) -> str:
    if isinstance(symbol, ServiceDescriptor):
        lines = [f"{symbol.full_name} is a service:", f"service {symbol.name} {{"]
        lines += [f"  {_rpc_line(m)}" for m in symbol.methods]
        return "\n".join([*lines, "}"])
    if isinstance(symbol, MethodDescriptor):
        lines = [f"{symbol.containing_service.full_name}/{symbol.name} is a method:", f"  {_rpc_line(symbol)}", ""]
        return "\n".join(lines + describe_message(symbol.input_type))
    return "\n".join(describe_message(symbol))


def read_body(text: str) -> str:
    """The body given inline, as ``@file`` or ``-`` (standard input); JSON is UTF-8 whatever the locale."""
    if text == "-":
        return sys.stdin.buffer.read().decode("utf-8-sig")
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8-sig") as fh:
            return fh.read()
    return text


def parse_headers(values: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        m = _HEADER.match(value)
        if not m:
            raise UsageError(f"a header is name=value or 'name: value', not {value!r}")
        out.append((m.group(1).lower(), m.group(2)))
    return out


def call(channel: grpc.Channel, reflection: Reflection, method_name: str, body: str,
         metadata: Sequence[tuple[str, str]], timeout: float) -> str:
    """The JSON of the response to ``method_name`` called with the JSON ``body``."""
    method = reflection.method(method_name)
    if method.client_streaming or method.server_streaming:
        raise UsageError(f"{method.full_name} is a streaming method; {PROG} calls unary methods only")
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    try:
        request = json_format.Parse(body or "{}", request_class(), descriptor_pool=reflection.pool)
    except json_format.ParseError as exc:
        raise UsageError(f"the body is not a valid {method.input_type.full_name}: {exc}") from None
    rpc = channel.unary_unary(f"/{method.containing_service.full_name}/{method.name}",
                              request_serializer=request_class.SerializeToString,
                              response_deserializer=response_class.FromString)
    response = rpc(request, metadata=tuple(metadata) or None, timeout=timeout)
    return json_format.MessageToJson(response, indent=2, ensure_ascii=False, descriptor_pool=reflection.pool)


def describe_error(err: grpc.RpcError) -> str:
    """``CODE: message`` with the ErrorInfo reason and metadata and any field violations."""
    code = err.code() if callable(getattr(err, "code", None)) else None
    text = f"{code.name if code else 'UNKNOWN'}: {err.details() if callable(getattr(err, 'details', None)) else err}"
    try:
        info, bad = details_from_rpc_error(err)
    except Exception:  # noqa: BLE001 — details that are not a google.rpc.Status: the code says enough
        info = bad = None
    if info is not None and info.reason:
        extra = "".join(f", {k}={v}" for k, v in sorted(info.metadata.items()))
        text += f"\n  reason: {info.reason} ({info.domain}{extra})"
    for v in bad.field_violations if bad is not None else ():
        text += f"\n  field {v.field}: {v.description}"
    return text


def _utf8(stream):
    if stream.encoding.lower().replace("-", "") != "utf8" and hasattr(stream, "reconfigure"):
        with contextlib.suppress(ValueError, OSError):  # e.g. a stream that cannot be re-encoded
            stream.reconfigure(encoding="utf-8")
    return stream


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--target", default="127.0.0.1:50051", help="host:port of the service (default %(default)s)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds, per call (default %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("list", help="services, or the methods of one")
    s.add_argument("service", nargs="?")
    s = sub.add_parser("describe", help="a service, a method (with its request type) or a message type")
    s.add_argument("symbol")
    s = sub.add_parser("call", help="call a unary method with a JSON body; print the JSON response")
    s.add_argument("method", help="package.Service/Method")
    s.add_argument("body", nargs="?", default="{}", help="JSON, @file or - for standard input (default {})")
    s.add_argument("-H", "--header", action="append", default=[], metavar="NAME=VALUE",
                   help="request metadata, e.g. -H 'authorization=Bearer …' (repeatable)")
    args = p.parse_args(argv)
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)
    with grpc.insecure_channel(args.target) as channel:
        try:
            try:
                grpc.channel_ready_future(channel).result(timeout=args.timeout)
            except grpc.FutureTimeoutError:
                print(f"{PROG}: UNAVAILABLE: cannot reach {args.target} within {args.timeout:g} s", file=err)
                return 2
            reflection = Reflection(channel)
            if args.command == "list" and not args.service:
                print("\n".join(reflection.services()), file=out)
            elif args.command == "list":
                service = reflection.service(args.service)
                print("\n".join(f"{service.full_name}/{m.name}" for m in service.methods), file=out)
            elif args.command == "describe":
                print(describe(reflection.symbol(args.symbol)), file=out)
            else:
                body = read_body(args.body)
                try:
                    json.loads(body or "{}")
                except json.JSONDecodeError as exc:
                    raise UsageError(f"the body is not JSON: {exc}") from None
                print(call(channel, reflection, args.method, body, parse_headers(args.header), args.timeout), file=out)
        except UsageError as exc:
            print(f"{PROG}: {exc}", file=err)
            return 1
        except grpc.RpcError as exc:
            print(f"{PROG}: {describe_error(exc)}", file=err)
            return 2
        except (OSError, UnicodeDecodeError) as exc:  # an unreadable @file, a body that is not UTF-8
            print(f"{PROG}: {exc}", file=err)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
