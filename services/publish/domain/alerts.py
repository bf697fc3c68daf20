"""Early-warning alerts (SPEC §4.4): rules as data, what holds for a unit, what to send, in Vietnamese.

Pure Python, no I/O. The rules ship in ``services/publish/alert_rules.toml``; a subscription overrides
any setting (:func:`with_overrides`). :func:`evaluate` says, for one unit's facts — its live scorecard,
its at-risk list and projection (scoring's ``ListAtRiskDossiers``, the rule engine's numbers), the
source systems gone silent — which rules hold; :func:`transition` turns that and the stored state into
what to send: one alert per rule, unit, period and subscription when the condition starts to hold, one
"resolved" when it stops, nothing during quiet hours (what still holds afterwards is sent then).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

ALERT_CONTENT_TYPE = "application/vnd.chiso.alert+json"
EMAIL_SUBSCRIPTION = "email"  # the reserved subscription of units' e-mail recipients
DEFAULTS_PATH = Path(__file__).resolve().parent.parent / "alert_rules.toml"

OPEN, RESOLVED = "OPEN", "RESOLVED"

#: Bands from the best down (the rule tables' codes) and their Vietnamese labels.
BANDS = ("EXCELLENT", "GOOD", "FAIR", "AVERAGE", "WEAK")
BAND_LABELS = {"EXCELLENT": "Xuất sắc", "GOOD": "Tốt", "FAIR": "Khá", "AVERAGE": "Trung bình", "WEAK": "Yếu"}

#: Settings each rule takes beyond ``enabled``, with their types.
RULE_SETTINGS: dict[str, dict[str, type]] = {
    "live_band_drop": {},
    "projection_below_band": {},
    "at_risk_backlog": {"max_dossiers": int},
    "source_silent": {"hours": int, "active_within_days": int},
    "sync_gap": {"percent": int},
}


class AlertSettingsError(ValueError):
    """A rules file or an override that does not fit: ``field`` names the setting."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class RuleSet:
    quiet_hours: tuple[time, time] | None
    working_days: int
    rules: Mapping[str, Mapping[str, Any]]  # rule id → {"enabled": bool, setting: value}

    def enabled(self, rule_id: str) -> bool:
        return bool(self.rules.get(rule_id, {}).get("enabled"))

    def setting(self, rule_id: str, name: str) -> Any:
        return self.rules[rule_id][name]

    def quiet_at(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware; read in Hanoi) falls in the quiet hours."""
        if self.quiet_hours is None:
            return False
        from services.publish.domain.documents import HANOI

        now = moment.astimezone(HANOI).time().replace(tzinfo=None)
        start, end = self.quiet_hours
        return start <= now < end if start <= end else (now >= start or now < end)


def _quiet(value: str, where: str) -> tuple[time, time] | None:
    if not value.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise AlertSettingsError(where, 'quiet hours read "HH:MM-HH:MM" (Hanoi time), or "" for none') from None
    return None if start == end else (start, end)


def _int(value: Any, where: str, low: int, high: int) -> int:
    try:
        number = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise AlertSettingsError(where, f"a whole number from {low} to {high}")
    return number


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise AlertSettingsError(where, '"true" or "false"')


_LIMITS = {"max_dossiers": (0, 1_000_000), "hours": (1, 24 * 365), "active_within_days": (1, 3650),
           "percent": (1, 100), "working_days": (1, 30)}


def parse_rules(data: Mapping[str, Any]) -> RuleSet:
    """A rules file's contents, checked: every known rule exactly once, with its settings."""
    rules: dict[str, dict[str, Any]] = {}
    for i, rule in enumerate(data.get("rules", ())):
        rid = rule.get("id")
        if rid not in RULE_SETTINGS or rid in rules:
            raise AlertSettingsError(f"rules[{i}].id", f"one of {', '.join(RULE_SETTINGS)}, each once")
        settings = {"enabled": _bool(rule.get("enabled", True), f"{rid}.enabled")}
        for name in RULE_SETTINGS[rid]:
            if name not in rule:
                raise AlertSettingsError(f"{rid}.{name}", "missing")
            settings[name] = _int(rule[name], f"{rid}.{name}", *_LIMITS[name])
        rules[rid] = settings
    missing = set(RULE_SETTINGS) - set(rules)
    if missing:
        raise AlertSettingsError("rules", f"missing {', '.join(sorted(missing))}")
    return RuleSet(_quiet(str(data.get("quiet_hours", "")), "quiet_hours"),
                   _int(data.get("working_days", 2), "working_days", *_LIMITS["working_days"]), rules)


@lru_cache(maxsize=4)
def load_rules(path: str | Path = DEFAULTS_PATH) -> RuleSet:
    with open(path, "rb") as f:
        return parse_rules(tomllib.load(f))


def with_overrides(base: RuleSet, overrides: Mapping[str, str]) -> RuleSet:
    """``base`` with a subscription's settings applied; AlertSettingsError for an unknown key or a bad value."""
    rules = {rid: dict(settings) for rid, settings in base.rules.items()}
    quiet, days = base.quiet_hours, base.working_days
    for key, value in sorted(overrides.items()):
        if key == "quiet_hours":
            quiet = _quiet(value, key)
        elif key == "working_days":
            days = _int(value, key, *_LIMITS["working_days"])
        else:
            rid, _, name = key.partition(".")
            if rid not in RULE_SETTINGS or (name != "enabled" and name not in RULE_SETTINGS[rid]):
                raise AlertSettingsError(key, "not a setting of the alert rules (see OPERATIONS.md)")
            rules[rid][name] = _bool(value, key) if name == "enabled" else _int(value, key, *_LIMITS[name])
    return replace(base, quiet_hours=quiet, working_days=days, rules=rules)


# --- facts and findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskyDossier:
    record_key: str
    unit_code: str
    procedure_code: str
    procedure_name: str
    due: datetime
    working_days_left: int
    points: str  # "2.05"
    finish_first: bool


@dataclass(frozen=True)
class AtRiskFacts:
    count: int
    total_if_none_late: str
    band_if_none_late: str  # band code
    total_if_all_late: str
    band_if_all_late: str
    finish_first: int
    dossiers: tuple[RiskyDossier, ...]  # the first of the list (in the order to act on)


@dataclass(frozen=True)
class UnitFacts:
    unit_code: str
    unit_name: str
    period_key: str
    live_total: str | None  # "80.30"; None: no live scorecard yet
    live_band: str | None
    synchronised: int | None = None  # 1.4's numerator and denominator
    reported: int | None = None
    at_risk: AtRiskFacts | None = None
    silent_sources: tuple[tuple[str, int], ...] = ()  # (source id, seconds since its latest batch)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    holds: bool
    title: str = ""
    message: str = ""
    action: str = ""


def _below(band: str | None, than: str | None) -> bool:
    return band in BANDS and than in BANDS and BANDS.index(band) > BANDS.index(than)


def vn(value: str) -> str:
    """A decimal as people read it: "80,24"."""
    return value.replace(".", ",")


def evaluate(rules: RuleSet, facts: UnitFacts, baseline_band: str | None) -> list[Finding]:
    """Which enabled rules hold for the unit, with the Vietnamese text of each that does."""
    out = []
    name = facts.unit_name or facts.unit_code
    risk = facts.at_risk
    if rules.enabled("live_band_drop"):
        holds = _below(facts.live_band, baseline_band)
        out.append(Finding("live_band_drop", holds,
                           f"{name}: điểm tạm tính xuống mức {BAND_LABELS.get(facts.live_band or '', '')}",
                           f"Điểm tạm tính kỳ {facts.period_key} là {vn(facts.live_total or '')}, thấp hơn mức "
                           f"{BAND_LABELS.get(baseline_band or '', '')} đầu kỳ.",
                           "Xem các chỉ số bị trừ điểm và các hồ sơ sắp quá hạn trên trang của đơn vị.")
                   if holds else Finding("live_band_drop", False))
    if rules.enabled("projection_below_band"):
        holds = risk is not None and _below(risk.band_if_all_late, risk.band_if_none_late)
        out.append(Finding(
            "projection_below_band", holds,
            f"{name}: có thể xuống mức {BAND_LABELS.get(risk.band_if_all_late, '')}" if holds else "",
            (f"{risk.count} hồ sơ sắp quá hạn. Nếu tất cả quá hạn, điểm kỳ {facts.period_key} sẽ còn "
             f"{vn(risk.total_if_all_late)} ({BAND_LABELS.get(risk.band_if_all_late, '')}), hiện là "
             f"{vn(risk.total_if_none_late)} ({BAND_LABELS.get(risk.band_if_none_late, '')}).") if holds else "",
            (f"Để giữ mức {BAND_LABELS.get(risk.band_if_none_late, '')}, cần giải quyết đúng hạn ít nhất "
             f"{risk.finish_first} hồ sơ đầu danh sách dưới đây.") if holds else ""))
    if rules.enabled("at_risk_backlog"):
        limit = rules.setting("at_risk_backlog", "max_dossiers")
        holds = risk is not None and risk.count > limit
        out.append(Finding(
            "at_risk_backlog", holds, f"{name}: {risk.count} hồ sơ sắp quá hạn" if holds else "",
            (f"{risk.count} hồ sơ chưa giải quyết sẽ quá hạn trong {rules.working_days} ngày làm việc tới "
             f"(ngưỡng cảnh báo: {limit}).") if holds else "",
            "Phân công giải quyết các hồ sơ theo thứ tự trong danh sách dưới đây." if holds else ""))
    if rules.enabled("source_silent"):
        hours = rules.setting("source_silent", "hours")
        silent = [(s, seconds) for s, seconds in facts.silent_sources if seconds > hours * 3600]
        holds = bool(silent)
        listed = ", ".join(f"{s} (hơn {seconds // 3600} giờ)" for s, seconds in silent)
        out.append(Finding(
            "source_silent", holds, f"{name}: hệ thống nguồn ngừng gửi dữ liệu" if holds else "",
            f"Không nhận được dữ liệu từ {listed}, trước đó vẫn gửi đều." if holds else "",
            "Kiểm tra kết nối của hệ thống một cửa điện tử với chiso và gửi lại dữ liệu còn thiếu." if holds else ""))
    if rules.enabled("sync_gap"):
        percent = rules.setting("sync_gap", "percent")
        synced, reported = facts.synchronised, facts.reported
        holds = bool(reported) and synced is not None and synced * 100 < reported * (100 - percent)
        out.append(Finding(
            "sync_gap", holds, f"{name}: hồ sơ đồng bộ thấp hơn số báo cáo" if holds else "",
            (f"Kỳ {facts.period_key}: {synced} hồ sơ đã đồng bộ, thấp hơn {reported} hồ sơ đã báo cáo quá "
             f"{percent}% (chỉ số 1.4).") if holds else "",
            "Đồng bộ các hồ sơ còn thiếu lên Cổng dịch vụ công quốc gia." if holds else ""))
    return out


@dataclass(frozen=True)
class StoredAlert:
    alert_id: str
    state: str  # OPEN | RESOLVED


@dataclass(frozen=True)
class Send:
    """An alert to send: ``state`` OPEN (raised) or RESOLVED; ``alert_id`` is new for OPEN."""

    rule_id: str
    state: str
    finding: Finding
    alert_id: str = ""


def transition(findings: Sequence[Finding], stored: Mapping[str, StoredAlert], quiet: bool) -> list[Send]:
    """What to send given what holds now and what was sent this period (rule id → stored alert):
    a condition newly holding → OPEN (unless one was already raised this period); an open one no
    longer holding → RESOLVED; nothing during quiet hours."""
    if quiet:
        return []
    out = []
    for f in findings:
        prior = stored.get(f.rule_id)
        if f.holds and prior is None:
            out.append(Send(f.rule_id, OPEN, f))
        elif not f.holds and prior is not None and prior.state == OPEN:
            out.append(Send(f.rule_id, RESOLVED, f, prior.alert_id))
    return out


def alert_document(alert_id: str, send: Send, facts: UnitFacts, subscription_id: str, raised_at: str,
                   dashboard_url: str, title_when_resolved: str = "") -> dict:
    """The alert as delivered (canonical JSON of this dict): to a portal, and what an e-mail is made of."""
    f = send.finding
    resolved = send.state == RESOLVED
    doc: dict[str, Any] = {
        "alertId": alert_id, "state": send.state, "rule": send.rule_id, "subscriptionId": subscription_id,
        "unit": {"code": facts.unit_code, "name": facts.unit_name}, "period": facts.period_key,
        "raisedAt": raised_at,
        "title": (f"Đã hết cảnh báo: {title_when_resolved}" if resolved else f.title),
        "message": ("Điều kiện cảnh báo không còn đúng." if resolved else f.message),
        "action": ("" if resolved else f.action),
        "dashboardUrl": dashboard_link(dashboard_url, facts.unit_code),
    }
    if facts.live_total is not None:
        doc["liveTotal"] = facts.live_total
    risk = facts.at_risk
    if risk is not None and not resolved:
        doc["projection"] = {"totalIfNoneLate": risk.total_if_none_late, "bandIfNoneLate": risk.band_if_none_late,
                             "totalIfAllLate": risk.total_if_all_late, "bandIfAllLate": risk.band_if_all_late,
                             "finishFirstCount": risk.finish_first, "atRiskCount": risk.count}
        doc["atRisk"] = [{"recordKey": d.record_key, "unitCode": d.unit_code, "procedureCode": d.procedure_code,
                          "procedureName": d.procedure_name, "dueTime": d.due.isoformat(),
                          "workingDaysLeft": d.working_days_left, "points": d.points, "finishFirst": d.finish_first}
                         for d in risk.dossiers]
    return doc


def dashboard_link(base: str, unit_code: str) -> str:
    from urllib.parse import quote

    return f"{base.rstrip('/')}/don-vi/{quote(unit_code)}" if base else ""


def email_text(doc: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and plain-text body (Vietnamese) of an alert document."""
    from services.publish.domain.documents import HANOI

    unit = doc["unit"]
    subject = f"[Chỉ số 766] {doc['title']}"
    lines = [f"Đơn vị: {unit['name']} ({unit['code']})", f"Kỳ: {doc['period']}", "",
             "Việc gì đã xảy ra:", doc["message"]]
    if doc.get("liveTotal"):
        lines.append(f"Điểm tạm tính hiện tại: {vn(doc['liveTotal'])}")
    if doc.get("action"):
        lines += ["", "Cần làm gì:", doc["action"]]
    risky = doc.get("atRisk") or []
    if risky:
        lines += ["", "Hồ sơ sắp quá hạn (ưu tiên các hồ sơ đánh dấu *):"]
        for d in risky:
            due = datetime.fromisoformat(d["dueTime"]).astimezone(HANOI)
            mark = "*" if d["finishFirst"] else "-"
            lines.append(f" {mark} {d['recordKey']} — {d['procedureName'] or d['procedureCode']} "
                         f"({d['unitCode']}), hạn {due:%H:%M %d/%m/%Y}, còn {d['workingDaysLeft']} ngày làm việc, "
                         f"có thể mất {vn(d['points'])} điểm")
        count = (doc.get("projection") or {}).get("atRiskCount", len(risky))
        if count > len(risky):
            lines.append(f" … và {count - len(risky)} hồ sơ khác (xem trên trang của đơn vị)")
    if doc.get("dashboardUrl"):
        lines += ["", f"Trang của đơn vị: {doc['dashboardUrl']}"]
    lines += ["", "Thư này do hệ thống chiso gửi tự động; mỗi cảnh báo chỉ gửi một lần trong kỳ."]
    return subject, "\n".join(lines) + "\n"


def mask_address(address: str) -> str:
    """An e-mail address as logs may show it: "n***@s***.vn"."""
    local, _, domain = address.partition("@")
    host, dot, tld = domain.rpartition(".")
    masked_host = (host[:1] + "***") if host else "***"
    return f"{local[:1]}***@{masked_host}{dot}{tld}" if domain else "***"
