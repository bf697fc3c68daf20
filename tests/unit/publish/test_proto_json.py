"""proto_json.parse gives exactly what json_format.ParseDict(…, ignore_unknown_fields=True) gives —
through its fast path for the feed's documents, and through ParseDict itself for anything else."""

from __future__ import annotations

import copy

import pytest
from chiso.publish.v1 import publish_pb2 as pb
from google.protobuf import json_format

from services.publish import proto_json

LIVE = {
    "feed": "FEED_LIVE",
    "version": "4213",
    "updateTime": "2026-08-12T03:00:00.123456Z",
    "revision": 0,
    "scorecard": {
        "name": "units/H25/scorecards/2026-M08",
        "unit": {"code": "H25", "name": "UBND tỉnh Phú Thọ", "kind": "UNIT_KIND_PROVINCE", "parentCode": ""},
        "period": {"kind": "PERIOD_KIND_MONTH", "year": 2026, "number": 8},
        "scope": "SCOPE_SUBTREE",
        "asOf": "1970-01-01T00:00:00Z",  # the epoch: presence must still be set
        "computeTime": "2026-08-12T02:59:59Z",
        "total": {"value": "80.24"},
        "totalExact": {"numerator": "2006", "denominator": "25"},
        "provisional": True,
        "noData": False,
        "groups": [{"id": "2", "name": "Tiến độ", "maxPoints": {"value": "20"}, "points": {}}],
        "indicators": [{"id": "2.1", "groupId": "2", "numerator": "1", "denominator": 2, "rate": {"value": "0.5"},
                        "status": "INDICATOR_STATUS_SCORED", "flags": ["late", "partial"],
                        "parameters": {"threshold": "0.9", "unit": "%"},
                        "components": [{"id": "a", "numerator": "-3", "points": {"value": "1"}}]},
                       {"id": "5.4"}],
        "processingTimes": [],
        "someFieldFromLater": {"x": [1, None]},  # unknown: ignored
    },
}


def test_a_live_scorecard_document_parses_as_parse_dict_parses_it(monkeypatch):
    expected = json_format.ParseDict(copy.deepcopy(LIVE), pb.PublishedScorecard(), ignore_unknown_fields=True)
    monkeypatch.setattr(json_format, "ParseDict", None)  # the fast path alone
    got = proto_json.parse(LIVE, pb.PublishedScorecard())
    assert got == expected
    assert got.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
    # worked out by hand from LIVE
    assert got.version == 4213 and got.scorecard.indicators[0].denominator == 2
    assert got.scorecard.HasField("as_of") and got.scorecard.as_of.seconds == 0
    assert got.scorecard.groups[0].HasField("points") and not got.scorecard.groups[0].points.value
    assert dict(got.scorecard.indicators[0].parameters) == {"threshold": "0.9", "unit": "%"}
    assert got.scorecard.indicators[0].components[0].numerator == -3
    assert got.update_time.nanos == 123456000


@pytest.mark.parametrize("change", [
    {"revision": None},  # a null
    {"feed": 2},  # an enum by number
    {"feed": "FEED_NOT_THERE"},  # an unknown enum name (ParseDict refuses it)
    {"update_time": "2026-08-12T03:00:00Z"},  # a field by its proto name
    {"version": "12 3"},  # not an integer
    {"version": 1.0},  # a float that is an integer
    {"revision": 2 ** 40},  # out of int32's range
    {"scorecard": {"provisional": "true"}},  # not a boolean
    {"scorecard": {"indicators": [None]}},
    {"scorecard": {"flags": "x", "indicators": [{"flags": "late"}]}},
    {"updateTime": "yesterday"},
])
def test_anything_else_is_parse_dicts_to_decide(change):
    doc = {**copy.deepcopy(LIVE), **change}
    try:
        expected = json_format.ParseDict(copy.deepcopy(doc), pb.PublishedScorecard(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        with pytest.raises(json_format.ParseError) as raised:
            proto_json.parse(doc, pb.PublishedScorecard())
        assert str(raised.value) == str(exc)
        return
    assert proto_json.parse(doc, pb.PublishedScorecard()) == expected


def test_into_a_sub_message_as_the_feed_does():
    out = pb.Change(cursor="c")
    proto_json.parse({"feed": "FEED_LIVE", "nonsense": None}, out.scorecard)
    expected = pb.Change(cursor="c")
    json_format.ParseDict({"feed": "FEED_LIVE", "nonsense": None}, expected.scorecard, ignore_unknown_fields=True)
    assert out == expected


def test_the_feed_serves_a_live_change_from_its_parsed_copy_as_from_the_document():
    import json

    from services.publish.service import ChangeView
    from services.publish.transport import ParsedChanges, change_to_proto

    parsed = ParsedChanges(size=2)
    changes = [ChangeView(seq, 1, 1_786_000_000_000_000 + seq, json.dumps({**LIVE, "version": str(seq)}).encode(), "")
               for seq in (7, 8, 9)]
    plain = [change_to_proto(c) for c in changes]
    assert [change_to_proto(c, parsed) for c in changes] == plain  # parsed, then kept
    assert list(parsed._items) == [(8, 1_786_000_000_000_008), (9, 1_786_000_000_000_009)]  # the last two
    assert [change_to_proto(c, parsed) for c in changes[1:]] == plain[1:]  # from the kept copies
    assert plain[2].scorecard.version == 9 and plain[2].cursor and plain[2].scorecard.HasField("update_time")
    publication = ChangeView(10, 2, 5, None, "publications/p/revisions/1")
    assert not change_to_proto(publication, parsed).HasField("scorecard")
