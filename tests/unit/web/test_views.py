"""The dashboard's Vietnamese formatting and view data (plain functions; no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from chiso.types.v1 import types_pb2 as tpb
from google.type import decimal_pb2

from services.publish.domain.documents import PeriodRef
from services.shared.config import ConfigError, load_settings
from services.web import fmt, views


def dec(text: str) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=text)


@pytest.mark.parametrize(("value", "shown"), [
    ("80.24", "80,24"), ("71", "71,00"), ("73.1", "73,10"), ("80.245", "80,25"), ("80.244", "80,24"),
    ("100", "100,00"), ("0", "0,00"), ("1234.5", "1.234,50"), ("1234567.891", "1.234.567,89"), ("", "—"),
    ("x", "—"), ("-2.5", "-2,50"),
])
def test_numbers_are_shown_the_vietnamese_way(value, shown):
    assert fmt.number(value) == shown


def test_counts_percentages_and_dates():
    assert [fmt.count(n) for n in (0, 999, 1000, 30000, 184513)] == ["0", "999", "1.000", "30.000", "184.513"]
    assert fmt.percent("0.9124") == "91,24 %" and fmt.percent("0.8") == "80,00 %" and fmt.percent("1") == "100,00 %"
    assert fmt.day(date(2026, 8, 3)) == "03/08/2026"
    # 2026-08-31 17:30 UTC is already 1 September in Hà Nội
    assert fmt.day(datetime(2026, 8, 31, 17, 30, tzinfo=UTC)) == "01/09/2026"
    assert fmt.moment(datetime(2026, 8, 31, 17, 30, tzinfo=UTC)) == "01/09/2026 00:30"


def test_rank_changes():
    assert fmt.rank_change(1, 4) == ("▲3", "up", "tăng 3 bậc")
    assert fmt.rank_change(7, 2) == ("▼5", "down", "giảm 5 bậc")
    assert fmt.rank_change(3, 3)[1] == "same" and fmt.rank_change(3, None)[1] == "new"


def test_periods_from_urls_and_the_picker():
    now = datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert views.parse_period(None, now) == PeriodRef(1, 2026, 12)
    assert views.parse_period("2026-Q3", now) == PeriodRef(2, 2026, 3)
    assert views.parse_period("2026-YTD", now) == PeriodRef(4, 2026)
    assert views.parse_period("2026", now) == PeriodRef(3, 2026)
    for bad in ("2026-13", "2026-Q5", "abc", "26-01", "2026-00"):
        assert views.parse_period(bad, now) is None, bad
    assert [views.period_label(PeriodRef.from_key(k)) for k in ("2026-08", "2026-Q3", "2026", "2026-YTD")] == [
        "Tháng 8/2026", "Quý III/2026", "Năm 2026", "Năm 2026 (lũy kế)"]
    groups = dict(views.period_choices(now, PeriodRef(1, 2026, 11)))
    assert [label for label in groups] == ["Tháng", "Quý", "Năm", "Từ đầu năm"]
    assert groups["Tháng"][0] == ("2026-12", "Tháng 12/2026", False)
    assert ("2026-11", "Tháng 11/2026", True) in groups["Tháng"]
    # a period older than the picker's lists is still offered, selected
    older = dict(views.period_choices(now, PeriodRef(1, 2022, 8)))
    assert ("2022-08", "Tháng 8/2022", True) in older["Tháng"]


def scorecard() -> tpb.Scorecard:
    """Three indicators worked by hand: 2.1 lost 20 − 15.5 = 4.5, 3.3 lost 6 − 5 = 1, 1.1 is N/A."""
    return tpb.Scorecard(
        unit=tpb.UnitRef(code="H25", name="UBND tỉnh Phú Thọ", kind=tpb.UNIT_KIND_PROVINCE),
        total=dec("80.24"), classification=tpb.CLASSIFICATION_GOOD,
        groups=[tpb.GroupResult(id="1", name="Công khai, minh bạch", max_points=dec("18"), points=dec("9"))],
        indicators=[
            tpb.IndicatorResult(id="1.1", group_id="1", name="TTHC công bố đúng hạn", max_points=dec("6"),
                                points=dec("0"), status=tpb.INDICATOR_STATUS_NOT_APPLICABLE, flags=["no_data"]),
            tpb.IndicatorResult(id="2.1", group_id="2", name="Hồ sơ xử lý đúng hạn", max_points=dec("20"),
                                numerator=775, denominator=1000, rate=dec("0.775"), threshold=dec("1"),
                                points=dec("15.5"), status=tpb.INDICATOR_STATUS_SCORED),
            tpb.IndicatorResult(id="3.3", group_id="3", name="Hồ sơ nộp trực tuyến", max_points=dec("6"),
                                numerator=5, denominator=12, rate=dec("0.4167"), threshold=dec("0.5"),
                                points=dec("5"), status=tpb.INDICATOR_STATUS_SCORED),
        ])


def test_indicator_rows_explain_each_indicator():
    rows = {r["id"]: r for r in views.indicator_rows(scorecard())}
    assert rows["1.1"]["note"].startswith("Không áp dụng") and rows["1.1"]["rate"] == "—"
    assert (rows["2.1"]["numerator"], rows["2.1"]["denominator"], rows["2.1"]["rate"], rows["2.1"]["points"],
            rows["2.1"]["max"]) == ("775", "1.000", "77,50 %", "15,50", "20,00")
    assert rows["3.3"]["threshold"] == "50,00 %" and rows["3.3"]["lost_text"] == "1,00"
    assert [r["id"] for r in views.costliest(scorecard())] == ["2.1", "3.3"]  # 1.1 is N/A: it costs nothing
    assert views.group_rows(scorecard())[0]["share"] == "50,00 %"


def test_reasons_are_vietnamese():
    assert views.reason_text("ended_late") == "Giải quyết xong sau hạn"
    assert views.reason_text("not_digitised, not_satisfied") == "Không được số hóa; Không hài lòng"
    assert views.reason_text("something_new") == "something_new"  # shown as scoring said it, never dropped


def test_web_settings_from_the_environment():
    from services.web.server import ENV_PREFIX, WebSettings

    s = load_settings(WebSettings, ENV_PREFIX, {"CHISO_WEB_PUBLISH_TARGET": "publish:50053", "CHISO_HOST": "::1"})
    assert (s.port, s.publish_target, s.host, s.secure_cookies) == (8080, "publish:50053", "::1", False)
    with pytest.raises(ConfigError, match="CHISO_WEB_TIMEOUT_SECONDS"):
        load_settings(WebSettings, ENV_PREFIX, {"CHISO_WEB_TIMEOUT_SECONDS": "0"})
    with pytest.raises(ConfigError, match="CHISO_WEB_SCORING_TARGET"):
        load_settings(WebSettings, ENV_PREFIX, {"CHISO_WEB_SCORING_TARGET": "scoring"})


def test_an_at_risk_list_empty_by_its_rule_version_says_why():
    from chiso.scoring.v1 import scoring_pb2 as spb

    reason = "Phiên bản quy tắc nolate/2026 không xét hồ sơ trễ hạn: …"
    reply = spb.ListAtRiskDossiersResponse(rule_version="nolate/2026", empty_reason_code="NO_LATENESS_POLICY",
                                           empty_reason=reason, working_days=2)
    view = views.at_risk_view(reply, [])
    assert view["empty_reason"] == reason and view["dossiers"] == [] and view["total"] == 0
    assert views.at_risk_view(spb.ListAtRiskDossiersResponse(), [])["empty_reason"] == ""
