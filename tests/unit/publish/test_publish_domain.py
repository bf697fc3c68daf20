"""Publish's domain: canonical bytes, periods, ranks, subscriptions, retry policy, exports, tokens,
signing. Expected values are written out by hand."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import os
import stat
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publish.domain import documents as D
from services.publish.domain.exports import publication_export, ranking_export, scorecard_export, scorecard_tables
from services.publish.domain.paging import decode_cursor, decode_token, encode_cursor, encode_token
from services.publish.domain.subscriptions import RetryPolicy, Subscription, ancestors_from, check_subscription
from services.publish.signing import Signer, key_id_of, load_or_create_key_file, public_raw_from_pem, verify
from services.shared.errors import InvalidArgument

DOMAIN = Path(__file__).resolve().parents[3] / "services" / "publish" / "domain"


def card(code, total, *, kind=4, parent="", scope=2, body=None):
    body = body or {"name": f"units/{code}/scorecards/2026-Q3", "unit": {"code": code}, "total": {"value": total}}
    return D.Card(code, f"Tỉnh {code}", kind, parent, D.PeriodRef(2, 2026, 3), scope, "766/2022", total, 2, False,
                  body)


def test_domain_imports_no_grpc_protobuf_or_sqlalchemy():
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                root = name.split(".")[0]
                assert root in sys.stdlib_module_names or name.startswith(("services.publish.domain",
                                                                           "services.shared.errors",
                                                                           "services.shared.backoff")), (path, name)


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8():
    doc = {"z": 1, "a": {"y": "Tốt", "b": ["90.50", "7"]}}
    assert D.canonical_json(doc) == '{"a":{"b":["90.50","7"],"y":"Tốt"},"z":1}'.encode()
    assert D.canonical_json({"b": 1, "a": 2}) == D.canonical_json({"a": 2, "b": 1})
    with pytest.raises(ValueError):
        D.canonical_json({"x": float("nan")})


def test_rfc3339_is_protobufs_timestamp_form():
    # 00:00 on 1 September 2026 in Hanoi is 17:00 UTC on 31 August
    us = int(datetime(2026, 8, 31, 17, tzinfo=UTC).timestamp()) * 1_000_000
    assert D.rfc3339(us) == "2026-08-31T17:00:00Z"
    assert D.rfc3339(us + 250_000) == "2026-08-31T17:00:00.250000Z"


def test_periods_keys_ends_and_what_a_month_moves():
    q3 = D.PeriodRef(D.QUARTER, 2026, 3)
    assert q3.key == "2026-Q3" and D.PeriodRef.from_key("2026-Q3") == q3
    assert q3.end == datetime(2026, 10, 1, tzinfo=D.HANOI)
    assert q3.end.astimezone(UTC) == datetime(2026, 9, 30, 17, tzinfo=UTC)
    assert D.PeriodRef(D.MONTH, 2026, 12).end == datetime(2027, 1, 1, tzinfo=D.HANOI)
    assert [p.key for p in (D.PeriodRef(1, 2026, 8), D.PeriodRef(3, 2026), D.PeriodRef(4, 2026))] == \
        ["2026-08", "2026", "2026-YTD"]
    aug = D.PeriodRef(D.MONTH, 2026, 8)
    in_2026 = datetime(2026, 11, 23, tzinfo=UTC)
    assert [p.key for p in aug.containing_periods(in_2026)] == ["2026-08", "2026-Q3", "2026", "2026-YTD"]
    assert [p.key for p in aug.containing_periods(datetime(2027, 1, 5, tzinfo=UTC))] == ["2026-08", "2026-Q3", "2026"]
    # 31 Dec 2026 18:00 UTC is already 1 January 2027 in Hanoi: the 2026 year-to-date is over
    assert len(aug.containing_periods(datetime(2026, 12, 31, 18, tzinfo=UTC))) == 3
    for bad in ((1, 2026, 13), (2, 2026, 0), (3, 2026, 1), (0, 2026, 0)):
        with pytest.raises(D.PeriodError):
            D.PeriodRef(*bad)
    assert q3.label() == "quý III/2026"


def test_ranks_share_on_equal_shown_totals():
    ranked = D.rank([card("H30", "80.00"), card("H01", "79.99"), card("H25", "91.50"), card("H10", "80.00")])
    assert [(r, c.unit_code) for r, c in ranked] == [(1, "H25"), (2, "H10"), (2, "H30"), (4, "H01")]


def test_content_hash_ignores_evaluation_and_compute_times_only():
    a = card("H25", "50.00", body={"total": {"value": "50.00"}, "asOf": "2026-11-23T01:00:00Z",
                                   "computeTime": "2026-11-23T01:00:01Z"})
    b = card("H25", "50.00", body={"total": {"value": "50.00"}, "asOf": "2026-11-23T02:00:00Z",
                                   "computeTime": "2026-11-23T02:00:01Z"})
    c = card("H25", "50.01", body={"total": {"value": "50.01"}, "asOf": "2026-11-23T02:00:00Z"})
    assert a.content_sha256() == b.content_sha256() != c.content_sha256()


def test_a_live_payload_is_exactly_what_publish_signed_before():
    # Written out by hand: the scorecard with provisional forced true, members in key order.
    c = card("H25", "50.00", body={"unit": {"code": "H25", "name": "Tỉnh Phú Thọ"}, "total": {"value": "50.00"},
                                   "provisional": False, "asOf": "2026-08-31T17:00:00Z"})
    us = int(datetime(2026, 8, 31, 17, tzinfo=UTC).timestamp()) * 1_000_000
    assert c.live_payload(7, us) == (
        '{"feed":"FEED_LIVE","scorecard":{"asOf":"2026-08-31T17:00:00Z","provisional":true,"total":{"value":"50.00"},'
        '"unit":{"code":"H25","name":"Tỉnh Phú Thọ"}},"updateTime":"2026-08-31T17:00:00Z","version":"7"}').encode()
    assert c.body_json() == ('{"asOf":"2026-08-31T17:00:00Z","provisional":false,"total":{"value":"50.00"},'
                             '"unit":{"code":"H25","name":"Tỉnh Phú Thọ"}}').encode()
    assert c.content_sha256() == hashlib.sha256(
        b'{"provisional":false,"total":{"value":"50.00"},"unit":{"code":"H25","name":"T\xe1\xbb\x89nh Ph\xc3\xba '
        b'Th\xe1\xbb\x8d"}}').hexdigest()


_json = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                     max_leaves=20)


@given(body=st.dictionaries(st.sampled_from(["asOf", "computeTime", "provisional", "total", "unit", "Đơn vị", "", "a"])
                            | st.text(max_size=6), _json, max_size=8),
       version=st.integers(0, 2**62), us=st.integers(0, 4_000_000_000_000_000))
def test_a_cards_bytes_built_from_its_members_equal_canonical_json_of_the_whole(body, version, us):
    c = D.Card("H25", "", 4, "", D.PeriodRef(1, 2026, 8), 2, "766/2022", "1", 2, False, body)
    assert c.body_json() == D.canonical_json(body)
    assert c.live_payload(version, us) == D.canonical_json(D.live_document(body, version, us))
    content = {k: v for k, v in body.items() if k not in ("asOf", "computeTime")}
    assert c.content_sha256() == hashlib.sha256(D.canonical_json(content)).hexdigest()


def test_publication_document_holds_sorted_scorecards_and_their_ranking():
    spec = D.PublicationSpec(D.PeriodRef(2, 2026, 3), 4, "", 2, "", "Quý III")
    cards = [card("H30", "70.00"), card("H01", "85.25")]
    doc = D.publication_document(publication_id="2026-q3-province-abc123", revision=2, spec=spec,
                                 rule_version="766/2022", publish_time_us=1_790_000_000_000_000, reason="Bổ sung",
                                 cards=cards, key_id="k1")
    assert doc["name"] == "publications/2026-q3-province-abc123/revisions/2"
    assert [s["unit"]["code"] for s in doc["scorecards"]] == ["H01", "H30"]
    assert [(e["rank"], e["unit"]["code"], e["total"]["value"]) for e in doc["ranking"]["entries"]] == [
        (1, "H01", "85.25"), (2, "H30", "70.00")]
    assert doc["period"] == {"kind": "PERIOD_KIND_QUARTER", "year": 2026, "number": 3}
    assert doc["unitKind"] == "UNIT_KIND_PROVINCE" and doc["reason"] == "Bổ sung" and "parentCode" not in doc


def test_enum_names_match_the_contracts():
    from chiso.types.v1 import types_pb2 as tpb

    for table, enum in ((D.PERIOD_KINDS, tpb.PeriodKind), (D.UNIT_KINDS, tpb.UnitKind), (D.SCOPES, tpb.Scope),
                        (D.FEEDS, tpb.Feed), (D.CLASSIFICATIONS, tpb.Classification)):
        assert {n: enum.Name(n) for n in table} == table


def test_subscription_matching_by_subtree_and_feed():
    parents = {"H25.01": "H25", "H25.X1": "H25", "H25.X1.T": "H25.X1", "H01.01": "H01"}
    ancestors = ancestors_from(parents)
    assert ancestors("H25.X1.T") == ["H25.X1", "H25"]
    phu_tho = check_subscription(Subscription("portal-phu-tho", "Phú Thọ", "127.0.0.1:5000", ("H25",), frozenset()))
    assert phu_tho.feeds == {D.FEED_LIVE, D.FEED_OFFICIAL}
    assert phu_tho.wants(D.FEED_LIVE, ["H25.X1.T"], ancestors)
    assert phu_tho.wants(D.FEED_OFFICIAL, ["H01", "H25"], ancestors)  # a publication naming H25 among others
    assert not phu_tho.wants(D.FEED_LIVE, ["H01.01"], ancestors)
    official_only = Subscription("national", "", "h:1", (), frozenset({D.FEED_OFFICIAL}))
    assert official_only.wants(D.FEED_OFFICIAL, ["H01.01"], ancestors)
    assert not official_only.wants(D.FEED_LIVE, ["H01.01"], ancestors)


def test_bad_subscriptions_name_every_field():
    with pytest.raises(InvalidArgument) as err:
        check_subscription(Subscription("Portal Phú Thọ", "x" * 201, "no-port", ("",), frozenset({7})))
    assert {v.field for v in err.value.violations} == {
        "subscription.subscription_id", "subscription.display_name", "subscription.endpoint",
        "subscription.unit_codes[0]", "subscription.feeds"}


def test_full_jitter_backoff_is_bounded_by_the_doubling_ceiling():
    policy = RetryPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=10.0)
    assert [policy.delay(n, lambda: 1.0) for n in (1, 2, 3, 4, 5, 60)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.delay(3, lambda: 0.0) == 0.0 and policy.delay(3, lambda: 0.5) == 2.0
    assert not policy.exhausted(4) and policy.exhausted(5)


AUG_DOC = {"kind": "PERIOD_KIND_MONTH", "year": 2026, "number": 8}
GROUPS = [{"id": "1", "name": "Công khai, minh bạch", "maxPoints": {"value": "18"}},
          {"id": "2", "name": "Tiến độ, kết quả giải quyết", "maxPoints": {"value": "20"}}]


def _rows(export):
    return list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))


def test_publication_csv_speaks_vietnamese_with_a_bom_and_rows_in_rank_order():
    def card(code, name, total, band, g1, g2, p21):
        return {"unit": {"code": code, "name": name}, "scope": "SCOPE_SUBTREE", "ruleVersion": "766/2022",
                "total": {"value": total}, "classificationLabel": band,
                "groups": [{**GROUPS[0], "points": {"value": g1}}, {**GROUPS[1], "points": {"value": g2}}],
                "indicators": [{"id": "2.1", "name": "Hồ sơ xử lý đúng hạn", "points": {"value": p21}}]}

    doc = {
        "publicationId": "p1", "revision": 1, "period": AUG_DOC,
        "scorecards": [card("H01", "UBND thành phố Hà Nội", "71", "Khá", "18", "10", "10.00"),
                       card("H25", "UBND tỉnh Phú Thọ", "80.24", "Tốt", "17.5", "20", "20.00")],
        "ranking": {"entries": [{"rank": 1, "unit": {"code": "H25"}}, {"rank": 2, "unit": {"code": "H01"}}]},
    }
    export = publication_export(doc, b"{}", "csv")
    assert export.filename == "p1-r1.csv" and export.content_type == "text/csv; charset=utf-8"
    assert export.content.startswith(b"\xef\xbb\xbf")
    assert _rows(export) == [
        ["Mã công bố", "Lần ban hành", "Kỳ đánh giá", "Bộ tiêu chí", "Hạng", "Mã đơn vị", "Tên đơn vị", "Phạm vi",
         "Tổng điểm", "Xếp loại", "Nhóm I. Công khai, minh bạch (18 điểm)",
         "Nhóm II. Tiến độ, kết quả giải quyết (20 điểm)", "2.1 Hồ sơ xử lý đúng hạn"],
        ["p1", "1", "tháng 8/2026", "766/2022", "1", "H25", "UBND tỉnh Phú Thọ", "Đơn vị và các đơn vị trực thuộc",
         "80.24", "Tốt", "17.50", "20.00", "20.00"],
        ["p1", "1", "tháng 8/2026", "766/2022", "2", "H01", "UBND thành phố Hà Nội",
         "Đơn vị và các đơn vị trực thuộc", "71.00", "Khá", "18.00", "10.00", "10.00"],
    ]
    assert export.content.count(b"\r\n") == 3
    assert publication_export(doc, b'{"signed":1}', "json").content == b'{"signed":1}'


def test_ranking_csv_uses_the_vietnamese_bands_and_says_the_rank_change():
    ranking = {"period": AUG_DOC, "unitKind": "UNIT_KIND_PROVINCE", "ruleVersion": "portal/2025",
               "asOf": "2026-08-31T17:00:00Z", "scope": "SCOPE_SUBTREE",
               "entries": [{"rank": 1, "previousRank": 3, "unit": {"code": "H25", "name": "UBND tỉnh Phú Thọ"},
                            "total": {"value": "90"}, "classification": "CLASSIFICATION_EXCELLENT"},
                           {"rank": 2, "unit": {"code": "H30", "name": "UBND tỉnh Tuyên Quang"},
                            "total": {"value": "80.2"}, "classification": "CLASSIFICATION_GOOD"}],
               "unitsWithoutData": [{"code": "H01", "name": "UBND thành phố Hà Nội"}]}
    out = ranking_export(ranking, "csv", label="live")
    assert out.filename == "ranking-2026-08-province-live.csv"
    head = ["tháng 8/2026", "Tạm tính", "Đơn vị và các đơn vị trực thuộc"]
    assert _rows(out) == [
        ["Kỳ đánh giá", "Kết quả", "Phạm vi", "Hạng", "Hạng kỳ trước", "Thay đổi hạng", "Mã đơn vị", "Tên đơn vị",
         "Tổng điểm", "Xếp loại", "Bộ tiêu chí", "Tính đến"],
        [*head, "1", "3", "2", "H25", "UBND tỉnh Phú Thọ", "90.00", "Xuất sắc", "portal/2025", "01/09/2026 00:00"],
        [*head, "2", "", "", "H30", "UBND tỉnh Tuyên Quang", "80.20", "Tốt", "portal/2025", "01/09/2026 00:00"],
        [*head, "", "", "", "H01", "UBND thành phố Hà Nội", "", "Chưa có dữ liệu", "portal/2025",
         "01/09/2026 00:00"],
    ]
    assert json.loads(ranking_export(ranking, "json").content) == ranking


def test_a_unit_without_data_is_no_result_in_a_publication():
    doc = {"publicationId": "p2", "revision": 1, "period": AUG_DOC, "scorecards": [
        {"unit": {"code": "H01", "name": "UBND thành phố Hà Nội"}, "scope": "SCOPE_SUBTREE", "noData": True,
         "total": {"value": "16.00"}, "classificationLabel": "Yếu"},
        {"unit": {"code": "H25", "name": "UBND tỉnh Phú Thọ"}, "scope": "SCOPE_SUBTREE",
         "total": {"value": "80.24"}, "classificationLabel": "Tốt"}],
        "ranking": {"entries": [{"rank": 1, "unit": {"code": "H25"}}], "unitsWithoutData": [{"code": "H01"}]}}
    rows = _rows(publication_export(doc, b"{}", "csv"))
    assert [r[4:10] for r in rows[1:]] == [
        ["1", "H25", "UBND tỉnh Phú Thọ", "Đơn vị và các đơn vị trực thuộc", "80.24", "Tốt"],
        ["", "H01", "UBND thành phố Hà Nội", "Đơn vị và các đơn vị trực thuộc", "", "Chưa có dữ liệu"]]


def test_scorecard_csv_has_one_row_per_indicator_with_counts_rates_and_points():
    published = {"feed": "FEED_OFFICIAL", "scorecard": {
        "unit": {"code": "H25", "name": "UBND tỉnh Phú Thọ"}, "period": AUG_DOC, "scope": "SCOPE_UNIT",
        "total": {"value": "37.5"}, "classificationLabel": "Yếu", "groups": [
            {**GROUPS[0], "points": {"value": "0"}}, {**GROUPS[1], "points": {"value": "15"}}],
        "indicators": [
            {"id": "1.1", "groupId": "1", "name": "TTHC công bố đúng hạn", "maxPoints": {"value": "6"},
             "threshold": {"value": "1"}, "points": {"value": "0"}, "status": "INDICATOR_STATUS_NOT_APPLICABLE",
             "flags": ["no_data"]},
            {"id": "2.1", "groupId": "2", "name": "Hồ sơ xử lý đúng hạn", "maxPoints": {"value": "20"},
             "numerator": "3", "denominator": "4", "rate": {"value": "0.75"}, "threshold": {"value": "1"},
             "points": {"value": "15"}, "status": "INDICATOR_STATUS_SCORED"}]}}
    out = scorecard_export(published, "csv")
    assert out.filename == "scorecard-h25-2026-08-unit-official.csv"
    head = ["H25", "UBND tỉnh Phú Thọ", "tháng 8/2026", "Riêng đơn vị", "Chính thức"]
    assert _rows(out) == [
        ["Mã đơn vị", "Tên đơn vị", "Kỳ đánh giá", "Phạm vi", "Kết quả", "Nhóm", "Mã chỉ số", "Tên chỉ số", "Tử số",
         "Mẫu số", "Tỷ lệ (%)", "Ngưỡng (%)", "Điểm tối đa", "Điểm", "Trạng thái", "Ghi chú"],
        [*head, "Nhóm I. Công khai, minh bạch", "1.1", "TTHC công bố đúng hạn", "0", "0", "", "100.00", "6.00",
         "0.00", "Không áp dụng", "no_data"],
        [*head, "Nhóm II. Tiến độ, kết quả giải quyết", "2.1", "Hồ sơ xử lý đúng hạn", "3", "4", "75.00", "100.00",
         "20.00", "15.00", "Tính điểm", ""],
    ]
    tables = scorecard_tables(published)
    assert [t.title for t in tables] == ["Chỉ số", "Tổng hợp"]
    assert [row[5:] for row in tables[1].rows] == [
        ["Nhóm I. Công khai, minh bạch", Decimal(18), Decimal(0), ""],
        ["Nhóm II. Tiến độ, kết quả giải quyết", Decimal(20), Decimal(15), ""],
        ["Tổng điểm", Decimal(38), Decimal("37.5"), "Yếu"]]


def test_page_tokens_and_cursors_are_opaque_and_checked():
    token = encode_token(["H25", 2], "fp1")
    assert decode_token(token, "fp1") == ["H25", 2] and decode_token("", "fp1") is None
    with pytest.raises(InvalidArgument):
        decode_token(token, "fp2")  # another request's filters
    assert decode_cursor(encode_cursor(41)) == 41 and decode_cursor("") == 0
    for bad in ("41", "not-base64!", encode_token(1, "x")):
        with pytest.raises(InvalidArgument):
            decode_cursor(bad)


def test_signatures_verify_and_tampering_is_caught(tmp_path):
    signer = Signer.generate()
    payload = b'{"total":{"value":"90.00"}}'
    sig = signer.sign(payload)
    assert verify(signer.public_raw, payload, sig)
    assert not verify(signer.public_raw, payload.replace(b"90", b"99"), sig)
    assert not verify(Signer.generate().public_raw, payload, sig)
    assert signer.key_id == hashlib.sha256(signer.public_raw).hexdigest()[:16] == key_id_of(signer.public_raw)
    assert len(signer.public_raw) == 32 and "PRIVATE" not in repr(signer)


def test_a_generated_key_file_is_private_and_reused(tmp_path):
    path = tmp_path / "keys" / "publish-signing-key.pem"
    first, created = load_or_create_key_file(path)
    assert created and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again, created_again = load_or_create_key_file(path)
    assert not created_again and again.key_id == first.key_id
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    from services.publish.signing import public_pem

    assert public_raw_from_pem(public_pem(first.public_raw)) == first.public_raw
