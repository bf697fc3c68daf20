"""``protojson.message_to_dict`` gives exactly what ``json_format.MessageToDict`` gives: on every message
type of the services' contracts filled at random (hypothesis), on a scorecard filled by hand, and on
the rare cases it hands over (well-known types, unknown enum numbers, NaN and infinities)."""

from __future__ import annotations

import math

from chiso.ingest.v1 import ingest_pb2
from chiso.portal.v1 import portal_pb2
from chiso.publish.v1 import publish_pb2
from chiso.scoring.v1 import scoring_pb2
from chiso.types.v1 import types_pb2
from google.protobuf import descriptor, json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.shared.protojson import message_to_dict

FD = descriptor.FieldDescriptor
MODULES = (types_pb2, ingest_pb2, scoring_pb2, publish_pb2, portal_pb2)
MESSAGES = sorted(
    (getattr(m, name) for m in MODULES for name in m.DESCRIPTOR.message_types_by_name),
    key=lambda cls: cls.DESCRIPTOR.full_name,
)

I32, U32, I64, U64 = (-(2**31), 2**31 - 1), (0, 2**32 - 1), (-(2**63), 2**63 - 1), (0, 2**64 - 1)
_INTS = {FD.TYPE_INT32: I32, FD.TYPE_SINT32: I32, FD.TYPE_SFIXED32: I32, FD.TYPE_UINT32: U32, FD.TYPE_FIXED32: U32,
         FD.TYPE_INT64: I64, FD.TYPE_SINT64: I64, FD.TYPE_SFIXED64: I64, FD.TYPE_UINT64: U64, FD.TYPE_FIXED64: U64}
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["Tốt", "UBND tỉnh Phú Thọ", "Hồ sơ trễ hạn", ""])


def _value(draw, field: FD, depth: int):
    t = field.type
    if t == FD.TYPE_MESSAGE:
        return None  # filled in place by the caller
    if t == FD.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return draw(st.sampled_from(numbers) | st.integers(100, 120))  # open enums keep unknown numbers
    if t == FD.TYPE_BOOL:
        return draw(st.booleans())
    if t == FD.TYPE_STRING:
        return draw(TEXT)
    if t == FD.TYPE_BYTES:
        return draw(st.binary(max_size=12))
    if t in _INTS:
        lo, hi = _INTS[t]
        return draw(st.integers(lo, hi) | st.integers(-3, 3).filter(lambda v: lo <= v <= hi))
    if t == FD.TYPE_FLOAT:
        return draw(st.floats(width=32))
    return draw(st.floats())  # double: NaN and infinities included


def _fill(draw, message, depth: int = 0) -> None:
    d = message.DESCRIPTOR
    if d.full_name == "google.protobuf.Timestamp":
        message.seconds = draw(st.integers(-62135596800, 253402300799))
        message.nanos = draw(st.integers(0, 999_999_999))
        return
    if d.full_name == "google.protobuf.Duration":
        message.seconds = draw(st.integers(0, 315_576_000_000))
        message.nanos = draw(st.integers(0, 999_999_999))
        return
    for field in d.fields:
        if depth > 3 or not draw(st.booleans()):
            continue
        if field.containing_oneof is not None and message.WhichOneof(field.containing_oneof.name):
            continue
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        if is_map:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            for _ in range(draw(st.integers(0, 3))):
                key = _value(draw, key_field, depth)
                target = getattr(message, field.name)
                if value_field.type == FD.TYPE_MESSAGE:
                    _fill(draw, target[key], depth + 1)
                else:
                    target[key] = _value(draw, value_field, depth)
        elif field.is_repeated:
            target = getattr(message, field.name)
            for _ in range(draw(st.integers(0, 3))):
                if field.type == FD.TYPE_MESSAGE:
                    _fill(draw, target.add(), depth + 1)
                else:
                    target.append(_value(draw, field, depth))
        elif field.type == FD.TYPE_MESSAGE:
            sub = getattr(message, field.name)
            sub.SetInParent()
            _fill(draw, sub, depth + 1)
        else:
            setattr(message, field.name, _value(draw, field, depth))


@st.composite
def messages(draw):
    cls = draw(st.sampled_from(MESSAGES))
    message = cls()
    _fill(draw, message)
    return message


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (json_format writes it as the string "NaN", but a float field of a
    map value or list may keep it)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_every_contract_message_type_is_covered():
    names = {cls.DESCRIPTOR.full_name for cls in MESSAGES}
    assert {"chiso.types.v1.Scorecard", "chiso.ingest.v1.DossierRecord", "chiso.publish.v1.PublishedScorecard",
            "chiso.scoring.v1.BatchGetScorecardsResponse"} <= names


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(messages())
def test_random_messages_convert_exactly_as_json_format_does(message):
    try:
        expected = json_format.MessageToDict(message)
    except json_format.SerializeToJsonError as exc:
        try:
            message_to_dict(message)
        except (json_format.SerializeToJsonError, ValueError) as mine:
            assert type(mine) in (type(exc), ValueError)
            return
        raise AssertionError(f"json_format refused {message.DESCRIPTOR.full_name} ({exc}); "
                             "message_to_dict did not") from None
    got = message_to_dict(message)
    assert _same(got, expected), (message.DESCRIPTOR.full_name, got, expected)


def test_a_scorecard_as_publish_receives_it():
    sc = types_pb2.Scorecard(name="units/H25/scorecards/2026-08", rule_version="766/2022",
                             classification_label="Trung bình")
    sc.unit.code, sc.unit.name, sc.unit.kind = "H25", "UBND tỉnh Phú Thọ", types_pb2.UNIT_KIND_PROVINCE
    sc.period.kind, sc.period.year, sc.period.number = types_pb2.PERIOD_KIND_MONTH, 2026, 8
    sc.total.value = "58.71"
    sc.as_of.FromSeconds(1_788_195_600)
    ind = sc.indicators.add(id="2.1", name="Tỷ lệ hồ sơ đúng hạn")
    ind.flags.append("data_quality:no_report")
    got = message_to_dict(sc)
    assert got == json_format.MessageToDict(sc)
    assert got["unit"] == {"code": "H25", "name": "UBND tỉnh Phú Thọ", "kind": "UNIT_KIND_PROVINCE"}
    assert got["asOf"] == "2026-08-31T17:00:00Z" and got["total"] == {"value": "58.71"}
    assert got["classificationLabel"] == "Trung bình" and got["indicators"][0]["flags"] == ["data_quality:no_report"]
    assert "scope" not in got  # default values are left out, as json_format leaves them


def test_unknown_enum_numbers_and_64_bit_integers():
    rec = ingest_pb2.DossierRecord(code="d1", fee_amount=2**40)
    rec.channel = 117  # an open enum keeps a number it does not know
    got = message_to_dict(rec)
    assert got == json_format.MessageToDict(rec)
    assert got["channel"] == 117 and got["feeAmount"] == str(2**40)
