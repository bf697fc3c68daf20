import datetime

from chiso.types.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliverRequest(_message.Message):
    __slots__ = ("delivery_id", "subscription_id", "sequence", "feed", "payload", "content_type", "signature", "key_id", "send_time")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    subscription_id: str
    sequence: int
    feed: _types_pb2.Feed
    payload: bytes
    content_type: str
    signature: bytes
    key_id: str
    send_time: _timestamp_pb2.Timestamp
    def __init__(self, delivery_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., sequence: _Optional[int] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ..., payload: _Optional[bytes] = ..., content_type: _Optional[str] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ..., send_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeliverResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...
