"""Stored documents (the protobuf JSON mapping) parsed into their messages fast.

``json_format.ParseDict`` is pure Python and generic: about 1–2 ms for one live scorecard, which held
a client of the change feed to a few hundred entries a second. ``parse`` walks the document with a
plan compiled once per message type from its descriptor and sets the fields directly — for what the
feed's documents hold (strings, integers, booleans, enums by name, messages, repeated fields,
string-keyed maps, Timestamp and Duration) it gives what ``ParseDict(doc, message,
ignore_unknown_fields=True)`` gives. Anything else (a null, an enum by number, a float, bytes, a
field named by its proto name, a value ParseDict would refuse) is left to ParseDict: the message is
cleared and parsed by it, so results and errors stay exactly ParseDict's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

_WKT_STRING = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration"})


class _Unsupported(Exception):
    """The fast path does not handle this document: ParseDict does."""


_Setter = Callable[[Any, Any], None]
_plans: dict[str, dict[str, _Setter]] = {}


def parse(doc: Any, message):
    """``json_format.ParseDict(doc, message, ignore_unknown_fields=True)``, faster; returns ``message``."""
    try:
        _fill(doc, message, message.DESCRIPTOR)
    except Exception:  # noqa: BLE001 — ParseDict decides (and raises its own error)
        message.Clear()
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    return message


def _fill(doc: Any, message, desc: Descriptor) -> None:
    if type(doc) is not dict:
        raise _Unsupported
    if desc.full_name in _WKT_STRING or desc.full_name.startswith("google.protobuf."):
        raise _Unsupported  # only reached at the top level: nested ones have their own setter
    plan = _plans.get(desc.full_name)
    if plan is None:
        plan = _plans[desc.full_name] = _compile(desc)
    for key, value in doc.items():
        setter = plan.get(key)
        if setter is None:
            if key in desc.fields_by_name or key.startswith("["):
                raise _Unsupported  # a proto name (ParseDict checks it is not given twice) or an extension
            continue  # unknown: ignored
        if value is None:
            raise _Unsupported
        setter(message, value)


def _compile(desc: Descriptor) -> dict[str, _Setter]:
    plan = {}
    for f in desc.fields:
        if f.containing_oneof is not None:
            plan[f.json_name] = _unsupported  # ParseDict checks one member only
        else:
            plan[f.json_name] = _setter(f)
    return plan


def _unsupported(message, value) -> None:
    raise _Unsupported


def _setter(f: FieldDescriptor) -> _Setter:
    name = f.name
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        return _map_setter(f)
    if f.message_type is not None:
        sub_desc = f.message_type
        wkt = sub_desc.full_name in _WKT_STRING
        if sub_desc.full_name.startswith("google.protobuf.") and not wkt:
            return _unsupported
        if f.is_repeated:
            def rep_msg(message, value):
                if type(value) is not list:
                    raise _Unsupported
                field = getattr(message, name)
                for item in value:
                    sub = field.add()
                    if wkt:
                        _wkt(item, sub)
                    else:
                        _fill(item, sub, sub_desc)
            return rep_msg

        def one_msg(message, value):
            sub = getattr(message, name)
            sub.SetInParent()
            if wkt:
                _wkt(value, sub)
            else:
                _fill(value, sub, sub_desc)
        return one_msg
    convert = _scalar(f)
    if f.is_repeated:
        def rep_scalar(message, value):
            if type(value) is not list:
                raise _Unsupported
            getattr(message, name).extend([convert(v) for v in value])
        return rep_scalar

    def one_scalar(message, value):
        setattr(message, name, convert(value))
    return one_scalar


def _wkt(value, sub) -> None:
    if type(value) is not str:
        raise _Unsupported
    sub.FromJsonString(value)


def _map_setter(f: FieldDescriptor) -> _Setter:
    name = f.name
    key_f, value_f = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
    if key_f.type != FieldDescriptor.TYPE_STRING or value_f.type != FieldDescriptor.TYPE_STRING:
        return _unsupported

    def set_map(message, value):
        if type(value) is not dict:
            raise _Unsupported
        target = getattr(message, name)
        for k, v in value.items():
            if type(v) is not str:
                raise _Unsupported
            target[k] = v
    return set_map


_INTS = frozenset({FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT32,
                   FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_SFIXED64,
                   FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED32,
                   FieldDescriptor.TYPE_FIXED64})


def _scalar(f: FieldDescriptor) -> Callable[[Any], Any]:
    if f.type == FieldDescriptor.TYPE_STRING:
        def string(v):
            if type(v) is not str:
                raise _Unsupported
            return v
        return string
    if f.type == FieldDescriptor.TYPE_BOOL:
        def boolean(v):
            if type(v) is not bool:
                raise _Unsupported
            return v
        return boolean
    if f.type in _INTS:
        def integer(v):
            if type(v) is int:
                return v
            if type(v) is str and v.isascii() and (v[1:] if v[:1] == "-" else v).isdigit():
                return int(v)
            raise _Unsupported
        return integer
    if f.type == FieldDescriptor.TYPE_ENUM:
        by_name = {v.name: v.number for v in f.enum_type.values}

        def enum(v):
            if type(v) is not str or v not in by_name:
                raise _Unsupported
            return by_name[v]
        return enum

    def other(v):
        raise _Unsupported
    return other
