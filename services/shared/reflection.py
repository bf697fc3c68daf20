"""gRPC server reflection under both names clients ask for: ``grpc.reflection.v1`` (buf curl,
grpcurl and current gRPC tools try it first) and ``grpc.reflection.v1alpha`` (older tools).

grpcio-reflection ships only v1alpha. The two protocols are the same messages under another
package name (byte for byte on the wire), so one servicer answers both: v1 is a second route to it,
and v1's own descriptor — v1alpha's file renamed — is added to the default pool, so that reflection
describes itself under both names too.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection
from grpc_reflection.v1alpha import reflection_pb2 as alpha
from grpc_reflection.v1alpha import reflection_pb2_grpc as alpha_grpc

V1ALPHA = reflection.SERVICE_NAME
V1 = "grpc.reflection.v1.ServerReflection"
_ALPHA_PACKAGE, _V1_PACKAGE = ".grpc.reflection.v1alpha.", ".grpc.reflection.v1."


def _v1_type(name: str) -> str:
    return _V1_PACKAGE + name[len(_ALPHA_PACKAGE):] if name.startswith(_ALPHA_PACKAGE) else name


def register_v1_descriptor(pool: descriptor_pool.DescriptorPool | None = None) -> None:
    """Add ``grpc/reflection/v1/reflection.proto`` to ``pool`` (default: the default pool), once."""
    pool = pool or descriptor_pool.Default()
    try:
        pool.FindServiceByName(V1)
        return
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto()
    alpha.DESCRIPTOR.CopyToProto(file)
    file.name = "grpc/reflection/v1/reflection.proto"
    file.package = "grpc.reflection.v1"
    file.ClearField("options")
    file.options.java_package = "io.grpc.reflection.v1"
    file.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    for message in file.message_type:
        for f in message.field:
            if f.type_name:  # assigning even "" would mark a scalar field as having a type name
                f.type_name = _v1_type(f.type_name)
    for service in file.service:
        for method in service.method:
            method.input_type = _v1_type(method.input_type)
            method.output_type = _v1_type(method.output_type)
    pool.AddSerializedFile(file.SerializeToString())


def enable_reflection(service_names: Sequence[str], server: grpc.Server) -> None:
    """Serve reflection v1 and v1alpha for ``service_names`` (plus both reflection services)."""
    register_v1_descriptor()
    servicer = reflection.ReflectionServicer([*service_names, V1, V1ALPHA])
    alpha_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1 = grpc.method_handlers_generic_handler(V1, {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=alpha.ServerReflectionRequest.FromString,
            response_serializer=alpha.ServerReflectionResponse.SerializeToString,
        ),
    })
    server.add_generic_rpc_handlers((v1,))
