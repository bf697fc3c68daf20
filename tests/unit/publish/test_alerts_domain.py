"""Early-warning rules as data: loading, overrides, quiet hours, dedup transitions, e-mail text, masking."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.publish.domain.alerts import (
    OPEN,
    RESOLVED,
    AlertSettingsError,
    AtRiskFacts,
    Finding,
    StoredAlert,
    UnitFacts,
    alert_document,
    email_text,
    evaluate,
    load_rules,
    mask_address,
    parse_rules,
    transition,
    with_overrides,
)
from services.publish.domain.documents import HANOI


def test_shipped_rules_load_and_overrides_are_checked():
    rules = load_rules()
    assert rules.working_days == 2 and rules.setting("at_risk_backlog", "max_dossiers") == 20
    assert all(rules.enabled(r) for r in rules.rules)
    custom = with_overrides(rules, {"at_risk_backlog.max_dossiers": "5", "sync_gap.enabled": "false",
                                    "quiet_hours": "", "working_days": "3"})
    assert custom.setting("at_risk_backlog", "max_dossiers") == 5 and not custom.enabled("sync_gap")
    assert custom.quiet_hours is None and custom.working_days == 3
    assert rules.setting("at_risk_backlog", "max_dossiers") == 20  # the defaults are untouched
    for bad in ({"nope.enabled": "true"}, {"sync_gap.percent": "0"}, {"sync_gap.percent": "x"},
                {"quiet_hours": "25:00-01:00"}, {"at_risk_backlog.hours": "2"}, {"working_days": "99"}):
        with pytest.raises(AlertSettingsError):
            with_overrides(rules, bad)
    with pytest.raises(AlertSettingsError):
        parse_rules({"rules": [{"id": "sync_gap", "percent": 10}]})  # the other rules are missing


def test_quiet_hours_wrap_midnight_in_hanoi():
    rules = load_rules()  # 21:00–07:00
    at = lambda h, m=0: datetime(2026, 8, 27, h, m, tzinfo=HANOI)  # noqa: E731
    assert [rules.quiet_at(at(h)) for h in (6, 7, 12, 20, 21, 23)] == [True, False, False, False, True, True]
    assert rules.quiet_at(at(6, 59)) and not with_overrides(rules, {"quiet_hours": ""}).quiet_at(at(23))


def facts(**kw):
    risk = AtRiskFacts(3, "80.30", "GOOD", "77.77", "FAIR", 3, ())
    values = dict(unit_code="H01", unit_name="UBND thành phố Hà Nội", period_key="2026-08", live_total="80.30",
                  live_band="GOOD", synchronised=25, reported=25, at_risk=risk)
    values.update(kw)
    return UnitFacts(**values)


def holding(findings):
    return sorted(f.rule_id for f in findings if f.holds)


def test_each_rule_holds_on_its_condition():
    rules = load_rules()
    assert holding(evaluate(rules, facts(), "GOOD")) == ["projection_below_band"]
    assert holding(evaluate(rules, facts(live_band="FAIR", live_total="79.30"), "GOOD")) == [
        "live_band_drop", "projection_below_band"]
    assert holding(evaluate(rules, facts(live_band="EXCELLENT"), "GOOD")) == ["projection_below_band"]  # a rise
    many = AtRiskFacts(21, "80.30", "GOOD", "80.10", "GOOD", 0, ())
    assert holding(evaluate(rules, facts(at_risk=many), "GOOD")) == ["at_risk_backlog"]
    assert holding(evaluate(rules, facts(synchronised=27, reported=30, at_risk=None), "GOOD")) == []  # 10%: not more
    assert holding(evaluate(rules, facts(synchronised=26, reported=29, at_risk=None), "GOOD")) == ["sync_gap"]  # 10.3%
    assert holding(evaluate(rules, facts(synchronised=25, reported=30, at_risk=None), "GOOD")) == ["sync_gap"]
    silent = facts(at_risk=None, silent_sources=(("igate", 24 * 3600 + 1),))
    assert holding(evaluate(rules, silent, "GOOD")) == ["source_silent"]
    assert holding(evaluate(rules, facts(at_risk=None, silent_sources=(("igate", 24 * 3600),)), "GOOD")) == []


def test_one_alert_per_rule_and_period_then_one_resolution():
    up = [Finding("sync_gap", True, "t", "m", "a")]
    down = [Finding("sync_gap", False)]
    assert [s.state for s in transition(up, {}, quiet=False)] == [OPEN]
    assert transition(up, {}, quiet=True) == []  # quiet hours: nothing now, sent when they end if it holds
    assert transition(up, {"sync_gap": StoredAlert("a-1", OPEN)}, quiet=False) == []
    (resolved,) = transition(down, {"sync_gap": StoredAlert("a-1", OPEN)}, quiet=False)
    assert (resolved.state, resolved.alert_id) == (RESOLVED, "a-1")
    assert transition(up, {"sync_gap": StoredAlert("a-1", RESOLVED)}, quiet=False) == []  # not twice a month
    assert transition(down, {"sync_gap": StoredAlert("a-1", RESOLVED)}, quiet=False) == []


def test_email_text_is_vietnamese_with_the_link():
    (finding,) = [f for f in evaluate(load_rules(), facts(), "GOOD") if f.holds]
    send = transition([finding], {}, quiet=False)[0]
    doc = alert_document("a-1", send, facts(), "email", "2026-08-27T03:00:00Z", "https://chiso.example.vn")
    subject, body = email_text(doc)
    assert subject == "[Chỉ số 766] UBND thành phố Hà Nội: có thể xuống mức Khá"
    assert "77,77 (Khá)" in body and "https://chiso.example.vn/don-vi/H01" in body


def test_addresses_are_masked():
    assert mask_address("vanphong.stp@hanoi.gov.vn") == "v***@h***.vn"
    assert mask_address("x@y.vn") == "x***@y***.vn" and mask_address("no-at-sign") == "***"
