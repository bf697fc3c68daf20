"""Hypothesis strategies for fuzzing every RPC of every service (issue 15, item 4): raw bytes, and
request messages built from their descriptors with boundary values — timestamps outside the valid
range, cursors and page tokens forged or huge, strings with NUL, very long or odd Unicode, numbers at
the edges of their types. Used by the quick part in ``make test`` and by ``make fuzz``."""

from __future__ import annotations

import base64
import json

from google.protobuf import descriptor as _d
from google.protobuf import message_factory
from hypothesis import strategies as st

from services.publish.domain.paging import fingerprint
from tests.rpc_suite import methods

_FD = _d.FieldDescriptor
_RANGES = {
    _FD.TYPE_INT32: (-(2**31), 2**31 - 1), _FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1), _FD.TYPE_ENUM: (-(2**31), 2**31 - 1),
    _FD.TYPE_INT64: (-(2**63), 2**63 - 1), _FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1), _FD.TYPE_UINT32: (0, 2**32 - 1), _FD.TYPE_FIXED32: (0, 2**32 - 1),
    _FD.TYPE_UINT64: (0, 2**64 - 1), _FD.TYPE_FIXED64: (0, 2**64 - 1),
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


STRINGS = st.one_of(
    st.sampled_from([
        "", "H25", "H25.01", "H01", "1.004227", "766/2022", "portal/2025", "\x00", "H25\x00", "a\x00b", "x" * 129,
        "x" * 5000, "[" * 100_000, "Sở Tư pháp", "\u202e", "H25.01\n", "'; DROP TABLE dossiers;--", "*", "..",
        _b64(b"c1:" + str(2**63).encode()), _b64(b"c1:-1"), _b64(b"c1:99999999999999999999999"), str(2**63), "-1",
        "9" * 40, _b64(b"[" * 5000), _b64(json.dumps([fingerprint("publications", ""), "abc"]).encode()),
        _b64(json.dumps([fingerprint("subscriptions"), [None, None]]).encode()),
        _b64(json.dumps([fingerprint("publications", ""), [1e30, "x"]]).encode()),
        "publications/x/revisions/1", "subscriptions/x", "chiso_0123456789_abc",
    ]),
    st.text(max_size=24),
)
_SECONDS = st.one_of(st.sampled_from([
    0, -1, -62135596800, -62135596801, 253402300799, 253402300800, 1659286800, 1659286799, 946684800,
    1785000000, 2**63 - 1, -(2**63)]), st.integers(-(2**40), 2**40))
_NANOS = st.sampled_from([0, -1, 999_999_999, 10**9, 2**31 - 1, -(2**31), 500])


def _scalar(field: _FD):
    t = field.type
    if t == _FD.TYPE_STRING:
        return STRINGS
    if t == _FD.TYPE_BYTES:
        return st.binary(max_size=32)
    if t == _FD.TYPE_BOOL:
        return st.booleans()
    if t in (_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT):
        return st.floats(allow_nan=True, width=32)
    lo, hi = _RANGES[t]
    edges = [v for v in (0, 1, -1, 2, 7, 2022, 1999, 9999, 10000, 2**31 - 1, -(2**31), 2**63 - 1, lo, hi)
             if lo <= v <= hi]
    return st.one_of(st.sampled_from(edges), st.integers(max(lo, -(2**33)), min(hi, 2**33)))


@st.composite
def message(draw, descriptor: _d.Descriptor, depth: int = 0):
    cls = message_factory.GetMessageClass(descriptor)
    msg = cls()
    if descriptor.full_name == "google.protobuf.Timestamp":
        msg.seconds, msg.nanos = draw(_SECONDS), draw(_NANOS)
        return msg
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue
        if field.type == _FD.TYPE_MESSAGE:
            if depth >= 3 or field.message_type.GetOptions().map_entry:
                continue
            if field.is_repeated:
                for _ in range(draw(st.integers(0, 2))):
                    getattr(msg, field.name).add().CopyFrom(draw(message(field.message_type, depth + 1)))
            else:
                getattr(msg, field.name).CopyFrom(draw(message(field.message_type, depth + 1)))
        elif field.is_repeated:
            getattr(msg, field.name).extend(draw(st.lists(_scalar(field), max_size=3)))
        else:
            setattr(msg, field.name, draw(_scalar(field)))
    return msg


def payloads(method: _d.MethodDescriptor):
    """Serialized requests for ``method``: raw bytes now and then, mostly wild but well-formed messages."""
    one = st.one_of(st.binary(max_size=48),
                    message(method.input_type).map(lambda m: m.SerializeToString()),
                    message(method.input_type).map(lambda m: m.SerializeToString()))
    return st.lists(one, min_size=1, max_size=3) if method.client_streaming else one.map(lambda p: [p])


def calls(service: str):
    """(method, payloads, credential) for any method of ``service``; credential is "operator",
    "national", "phu_tho", "bad" or "" (none)."""
    return st.sampled_from(methods(service)).flatmap(
        lambda m: st.tuples(st.just(m), payloads(m),
                            st.sampled_from(["operator", "national", "phu_tho", "bad", ""])))


def metadata(suite, who: str):
    from tests.helpers import auth

    if not who:
        return ()
    if who == "bad":
        return auth("chiso_000000_notatoken")
    return auth(getattr(suite.tokens, who))


SERVER_FAULTS = ("INTERNAL", "UNKNOWN", "DATA_LOSS")
