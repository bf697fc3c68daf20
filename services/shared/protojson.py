"""A message's protobuf JSON mapping as a plain dict, exactly as ``json_format.MessageToDict(message)``
gives it with its default options — several times faster.

``json_format`` decides what to do with every field of every message again each time (is it a map,
a wrapper, a well-known type, which enum option applies …): converting a scorecard (~150 nested
messages) costs it ~1.5 ms, most of publish's work per live scorecard. Here those decisions are made
once per field descriptor and kept; what is rare or subtle (well-known types such as Timestamp,
wrappers, floating point, extensions, closed enums with unknown values) is still handed to
``json_format`` itself, so the output cannot drift from it. ``tests/unit/shared/test_protojson.py``
checks the two agree on real scorecards and on random messages of every type the services use.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

FD = descriptor.FieldDescriptor
_INT64 = {FD.CPPTYPE_INT64, FD.CPPTYPE_UINT64}
_INT32 = {FD.CPPTYPE_INT32, FD.CPPTYPE_UINT32}

Convert = Callable[[Any], Any]

_printer = json_format._Printer()  # noqa: SLF001 — only for the rare values handed over as they are
_fields: dict[Any, dict[int, tuple[str, Convert]] | None] = {}  # message descriptor → field number → (json name, value)
_lock = threading.Lock()


def message_to_dict(message: Message) -> Any:
    """``json_format.MessageToDict(message)``: camelCase names, enums by name, 64-bit integers as
    strings, bytes in base64, fields at their default value left out."""
    return _message(message)


def _message(message: Message) -> Any:
    d = message.DESCRIPTOR
    try:
        table = _fields[d]
    except KeyError:
        table = _build(d)
    if table is None:  # Timestamp, Duration, wrappers, Struct, Any …
        return json_format.MessageToDict(message)
    out = {}
    for field, value in message.ListFields():
        entry = table.get(field.number)
        if entry is None:  # an extension
            return json_format.MessageToDict(message)
        name, convert = entry
        out[name] = convert(value)
    return out


def _build(d: descriptor.Descriptor) -> dict[int, tuple[str, Convert]] | None:
    table = None
    if not d.full_name.startswith("google.protobuf."):
        table = {f.number: (f.json_name, _converter(f)) for f in d.fields}
    with _lock:
        _fields[d] = table
    return table


def _converter(field: FD) -> Convert:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        value = _scalar(value_field)

        def convert_map(m) -> dict:
            return {_map_key(k): value(v) for k, v in m.items()}

        return convert_map
    one = _scalar(field)
    if field.is_repeated:
        return lambda values: [one(v) for v in values]
    return one


def _map_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _scalar(field: FD) -> Convert:
    cpp = field.cpp_type
    if cpp == FD.CPPTYPE_MESSAGE:
        return _message
    if cpp == FD.CPPTYPE_ENUM:
        if field.enum_type.full_name == "google.protobuf.NullValue":
            return lambda _v: None
        names = {number: _printer._FieldToJsonObject(field, number)  # noqa: SLF001 — once per value
                 for number in field.enum_type.values_by_number}

        def convert_enum(v: int) -> Any:
            name = names.get(v)
            if name is None:  # not a known value: json_format's answer (the number, or its error)
                return _printer._FieldToJsonObject(field, v)  # noqa: SLF001
            return name

        return convert_enum
    if cpp == FD.CPPTYPE_STRING:
        if field.type == FD.TYPE_BYTES:
            return lambda v: base64.b64encode(v).decode("utf-8")
        return str
    if cpp == FD.CPPTYPE_BOOL:
        return bool
    if cpp in _INT64:
        return str
    if cpp in _INT32:
        return _same
    return lambda v: _printer._FieldToJsonObject(field, v)  # noqa: SLF001 — float, double: NaN, ∞, shortest form


def _same(v: Any) -> Any:
    return v
