"""What each page shows, built from the messages of publish's (and scoring's) public API.

Plain data for the templates: every number a person reads is already a Vietnamese string here
(``fmt``), and every chart gets the same rows its table shows (``chart``), so a chart never says
something the table behind it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chiso.publish.v1 import publish_pb2 as ppb
from chiso.types.v1 import types_pb2 as tpb

from services.publish.domain.documents import HANOI, PeriodError, PeriodRef
from services.web import fmt

BANDS = {
    tpb.CLASSIFICATION_EXCELLENT: ("Xuất sắc", "excellent"),
    tpb.CLASSIFICATION_GOOD: ("Tốt", "good"),
    tpb.CLASSIFICATION_FAIR: ("Khá", "fair"),
    tpb.CLASSIFICATION_AVERAGE: ("Trung bình", "average"),
    tpb.CLASSIFICATION_WEAK: ("Yếu", "weak"),
}
KIND_LABELS = {
    tpb.UNIT_KIND_MINISTRY: "Bộ",
    tpb.UNIT_KIND_MINISTERIAL_AGENCY: "Cơ quan ngang bộ",
    tpb.UNIT_KIND_SOCIAL_SECURITY: "Bảo hiểm Xã hội Việt Nam",
    tpb.UNIT_KIND_PROVINCE: "Tỉnh, thành phố",
    tpb.UNIT_KIND_DEPARTMENT: "Sở, ban, ngành",
    tpb.UNIT_KIND_COMMUNE: "Xã, phường, đặc khu",
    tpb.UNIT_KIND_DISTRICT: "Huyện (trước 01/07/2025)",
    tpb.UNIT_KIND_OTHER: "Cơ quan khác",
}
TOP_LEVEL = (tpb.UNIT_KIND_PROVINCE, tpb.UNIT_KIND_MINISTRY, tpb.UNIT_KIND_MINISTERIAL_AGENCY,
             tpb.UNIT_KIND_SOCIAL_SECURITY)
# What sits beneath a unit of each kind, ranked on its page (the drill-down).
CHILD_KINDS = {
    tpb.UNIT_KIND_PROVINCE: (tpb.UNIT_KIND_DEPARTMENT, tpb.UNIT_KIND_COMMUNE),
    tpb.UNIT_KIND_MINISTRY: (tpb.UNIT_KIND_DEPARTMENT,),
    tpb.UNIT_KIND_MINISTERIAL_AGENCY: (tpb.UNIT_KIND_DEPARTMENT,),
    tpb.UNIT_KIND_SOCIAL_SECURITY: (tpb.UNIT_KIND_DEPARTMENT,),
}
FEEDS = {"tam-tinh": 1, "chinh-thuc": 2}  # URL word → chiso.types.v1.Feed
FEED_WORDS = {v: k for k, v in FEEDS.items()}
ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII")
STATUS_NOTES = {
    tpb.INDICATOR_STATUS_NOT_APPLICABLE: "Không áp dụng: kỳ này không phát sinh đối tượng đánh giá (0 điểm)",
    tpb.INDICATOR_STATUS_ANALYSIS_ONLY: "Chỉ để phân tích, không tính điểm",
    tpb.INDICATOR_STATUS_UNSCORED: "Chưa tính điểm: công thức của phiên bản này chưa được công bố",
}
FLAG_NOTES = {
    "prev_year_fallback": "dùng số liệu năm trước (không có số liệu kỳ này)",
    "no_prev_year": "không có số liệu kỳ này và năm trước",
    "fitted": "hệ số ước lượng từ số liệu Cổng DVCQG",
    "threshold_carried_forward": "dùng mục tiêu của giai đoạn trước",
    "data_quality:no_report": "đơn vị chưa báo cáo số liệu",
}


# Scoring's reason codes for a record that cost points, as an official reads them.
REASONS = {
    "ended_late": "Giải quyết xong sau hạn",
    "overdue_unfinished": "Chưa giải quyết xong, đã quá hạn",
    "multiple_supplements": "Yêu cầu bổ sung hồ sơ quá một lần",
    "unlawful_pause": "Tạm dừng không đúng quy định",
    "late_refusal": "Từ chối tiếp nhận muộn",
    "late_supplement_request": "Yêu cầu bổ sung muộn",
    "late_ready_for_publication": "Sẵn sàng công khai muộn",
    "late_publication": "Công khai muộn",
    "decided_late": "Quyết định công bố muộn",
    "listed_late": "Công khai trên CSDL quốc gia muộn",
    "not_listed": "Chưa công khai trên CSDL quốc gia",
    "missing_parts": "Công khai thiếu bộ phận tạo thành",
    "not_offered_online": "Chưa cung cấp dịch vụ công trực tuyến",
    "no_online_dossier": "Dịch vụ trực tuyến không phát sinh hồ sơ",
    "no_online_payment": "Không có giao dịch thanh toán trực tuyến",
    "payment_not_integrated": "Chưa tích hợp thanh toán trên Cổng DVCQG",
    "no_fee_dossier": "Không phát sinh hồ sơ có phí, lệ phí",
    "not_connected_to_population_data": "Chưa kết nối dữ liệu dân cư",
    "no_dossier_using_population_data": "Không có hồ sơ sử dụng dữ liệu dân cư",
    "no_reported_total": "Chưa báo cáo số hồ sơ tiếp nhận",
    "fewer_synchronised_than_reported": "Số hồ sơ đồng bộ ít hơn số báo cáo",
    "no_electronic_certified_copy": "Chưa cấp bản sao chứng thực điện tử",
    "no_electronic_result": "Không có kết quả điện tử",
    "no_result_file": "Không đồng bộ tệp kết quả",
    "not_digitised": "Không được số hóa",
    "not_linked_to_data_store": "Chưa đồng bộ kho dữ liệu cá nhân",
    "not_submitted_online": "Không nộp trực tuyến",
    "not_counted_online": "Không được tính là nộp trực tuyến",
    "not_satisfied": "Không hài lòng",
    "no_due_time": "Không có hạn giải quyết",
}
RECORD_KINDS = {"dossier": "Hồ sơ", "procedure": "TTHC", "unit_procedure": "TTHC của đơn vị",
                "publication": "Quyết định công bố", "petition": "PAKN", "reported_total": "Số liệu báo cáo",
                "unit": "Đơn vị"}
ATTRIBUTES = {"procedure_code": "Mã TTHC", "synchronised": "Đã đồng bộ", "reported": "Đã báo cáo",
              "required_parts": "Bộ phận bắt buộc", "due_time": "Hạn giải quyết",
              "lead_working_days": "Số ngày làm việc",
              "listing_working_days": "Số ngày làm việc đến khi công khai"}


_CODES = re.compile(r"[a-z0-9_]+(\s*[,;]\s*[a-z0-9_]+)*")


def reason_text(code: str) -> str:
    """Vietnamese words for a reason code; several codes joined by commas or semicolons each translated."""
    if not _CODES.fullmatch(code.strip()):  # scoring's own Vietnamese words (with its facts): as they are
        return code
    parts = [p.strip() for p in code.replace(";", ",").split(",") if p.strip()]
    return "; ".join(REASONS.get(p, p) for p in parts) or code


def period_proto(period: PeriodRef) -> tpb.Period:
    return tpb.Period(kind=period.kind, year=period.year, number=period.number)


def period_of(message: tpb.Period) -> PeriodRef | None:
    try:
        return PeriodRef(message.kind, message.year, message.number)
    except PeriodError:
        return None


def parse_period(text: str | None, now: datetime) -> PeriodRef | None:
    """The period a URL names (``2026-08``, ``2026-Q3``, ``2026``, ``2026-YTD``), the running month when
    none; None when the text is not a period."""
    if not text:
        local = now.astimezone(HANOI)
        return PeriodRef(1, local.year, local.month)
    try:
        return PeriodRef.from_key(text.strip())
    except PeriodError:
        return None


def period_label(period: PeriodRef) -> str:
    """``Tháng 8/2026``, ``Quý III/2026``, ``Năm 2026``, ``Năm 2026 (lũy kế)``."""
    label = period.label()
    return label[:1].upper() + label[1:]


def short_period(period: PeriodRef) -> str:
    """Chart axis labels: ``08/2026``, ``Q3/2026``, ``2026``."""
    if period.kind == 1:
        return f"{period.number:02d}/{period.year}"
    if period.kind == 2:
        return f"Q{period.number}/{period.year}"
    return str(period.year)


def period_choices(now: datetime, selected: PeriodRef) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """The period picker: (group label, [(key, label, selected)]) for months, quarters, years and the
    year-to-date, newest first (the selected period is always among them)."""
    local = now.astimezone(HANOI)
    months = []
    y, m = local.year, local.month
    for _ in range(24):
        months.append(PeriodRef(1, y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    quarter = (local.month + 2) // 3
    quarters = []
    y, q = local.year, quarter
    for _ in range(8):
        quarters.append(PeriodRef(2, y, q))
        y, q = (y - 1, 4) if q == 1 else (y, q - 1)
    years = [PeriodRef(3, local.year - i) for i in range(4)]
    ytd = [PeriodRef(4, local.year - i) for i in range(2)]
    groups = [("Tháng", months), ("Quý", quarters), ("Năm", years), ("Từ đầu năm", ytd)]
    if not any(selected in periods for _, periods in groups):
        kind_index = {1: 0, 2: 1, 3: 2, 4: 3}[selected.kind]
        groups[kind_index][1].append(selected)
    return [(label, [(p.key, period_label(p), p == selected) for p in periods]) for label, periods in groups]


def band(classification: int) -> dict[str, str]:
    label, css = BANDS.get(classification, ("—", "none"))
    return {"label": label, "css": css}


def group_label(group_id: str) -> str:
    return f"Nhóm {ROMAN[int(group_id)]}" if group_id.isdigit() and 0 < int(group_id) < len(ROMAN) else group_id


@dataclass
class Row:
    """One unit of a ranking table."""

    rank: int
    code: str
    name: str
    total: str
    total_value: str  # machine-readable, for sorting and tests
    band: dict[str, str]
    previous_rank: int | None
    change: tuple[str, str, str]
    groups: list[dict[str, Any]] = field(default_factory=list)


NO_PREVIOUS = (fmt.DASH, "none", "kỳ trước không có bảng xếp hạng để so sánh")


def ranking_rows(reply: ppb.GetRankingResponse, cards: dict[str, tpb.Scorecard]) -> list[Row]:
    rows = []
    # no previous rank at all (nothing ranked the period before, e.g. no earlier publication): no "new" marks
    any_previous = any(e.HasField("previous_rank") for e in reply.ranking.entries)
    for e in reply.ranking.entries:
        previous = e.previous_rank if e.HasField("previous_rank") else None
        card = cards.get(e.unit.code)
        groups = [{"id": g.id, "label": group_label(g.id), "name": g.name, "points": fmt.number(g.points.value),
                   "value": g.points.value or "0", "max": fmt.number(g.max_points.value)}
                  for g in (card.groups if card is not None else [])]
        rows.append(Row(e.rank, e.unit.code, e.unit.name, fmt.number(e.total.value), e.total.value or "0",
                        band(e.classification), previous,
                        fmt.rank_change(e.rank, previous) if any_previous else NO_PREVIOUS, groups))
    return rows


def group_headers(cards: dict[str, tpb.Scorecard]) -> list[dict[str, str]]:
    for card in cards.values():
        return [{"id": g.id, "label": group_label(g.id), "name": g.name, "max": fmt.number(g.max_points.value)}
                for g in card.groups]
    return []


def indicator_rows(card: tpb.Scorecard) -> list[dict[str, Any]]:
    rows = []
    for ind in card.indicators:
        notes = []
        if ind.status in STATUS_NOTES:
            notes.append(STATUS_NOTES[ind.status])
        elif "no_data" in ind.flags and ind.status == tpb.INDICATOR_STATUS_SCORED:
            full = ind.points.value and Decimal(ind.points.value) == Decimal(ind.max_points.value or "0")
            notes.append("Không phát sinh trong kỳ: " + ("được tối đa điểm theo quy định" if full
                                                           else "0 điểm theo quy định"))
        notes += [FLAG_NOTES[f] for f in ind.flags if f in FLAG_NOTES]
        scored = ind.status == tpb.INDICATOR_STATUS_SCORED
        analysis = ind.status == tpb.INDICATOR_STATUS_ANALYSIS_ONLY
        lost = (Decimal(ind.max_points.value or "0") - Decimal(ind.points.value or "0")) if scored else Decimal(0)
        rows.append({
            "id": ind.id, "group": ind.group_id, "name": ind.name,
            "numerator": fmt.count(ind.numerator) if not analysis else fmt.DASH,
            "denominator": fmt.count(ind.denominator) if not analysis else fmt.DASH,
            "numerator_value": ind.numerator, "denominator_value": ind.denominator,
            "rate": fmt.percent(ind.rate.value) if ind.rate.value else fmt.DASH,
            "threshold": fmt.percent(ind.threshold.value) if ind.threshold.value else fmt.DASH,
            "points": fmt.number(ind.points.value) if ind.status != tpb.INDICATOR_STATUS_ANALYSIS_ONLY else fmt.DASH,
            "max": fmt.number(ind.max_points.value) if ind.status != tpb.INDICATOR_STATUS_ANALYSIS_ONLY else fmt.DASH,
            "points_value": ind.points.value, "scored": scored, "lost": lost, "lost_text": fmt.number(lost),
            "note": "; ".join(notes),
            "components": [{"id": c.id, "name": c.name, "numerator": fmt.count(c.numerator),
                            "denominator": fmt.count(c.denominator),
                            "rate": fmt.percent(c.rate.value) if c.rate.value else fmt.DASH,
                            "points": fmt.number(c.points.value), "max": fmt.number(c.max_points.value)}
                           for c in ind.components],
        })
    return rows


def group_rows(card: tpb.Scorecard) -> list[dict[str, Any]]:
    return [{"id": g.id, "label": group_label(g.id), "name": g.name, "points": fmt.number(g.points.value),
             "max": fmt.number(g.max_points.value), "value": float(g.points.value or 0),
             "max_value": float(g.max_points.value or 0),
             "share": fmt.percent(Decimal(g.points.value or 0) / Decimal(g.max_points.value))
             if g.max_points.value and Decimal(g.max_points.value) else fmt.DASH}
            for g in card.groups]


def costliest(card: tpb.Scorecard, n: int = 3) -> list[dict[str, Any]]:
    """The ``n`` scored indicators that lost the most points, most first (none that lost nothing)."""
    rows = [r for r in indicator_rows(card) if r["scored"] and r["lost"] > 0]
    rows.sort(key=lambda r: (-r["lost"], r["id"]))
    return rows[:n]


def trend_rows(history: ppb.GetScorecardHistoryResponse) -> list[dict[str, Any]]:
    out = []
    for point in history.points:
        period = period_of(point.period)
        has = point.HasField("scorecard")
        card = point.scorecard.scorecard
        rank = point.rank if point.HasField("rank") else None
        out.append({
            "period": short_period(period) if period else "", "label": period_label(period) if period else "",
            "key": period.key if period else "",
            "total": fmt.number(card.total.value) if has else fmt.DASH,
            "total_value": float(card.total.value) if has and card.total.value else None,
            "band": band(card.classification) if has else band(0),
            "rank": rank, "ranked": point.ranked_count,
            "rank_text": f"{rank}/{point.ranked_count}" if rank is not None else fmt.DASH,
        })
    return out


def publication_view(pub: ppb.Publication, verified: bool) -> dict[str, Any]:
    when = fmt.from_timestamp(pub.publish_time.seconds, pub.publish_time.nanos)
    return {"id": pub.publication_id, "revision": pub.revision, "title": pub.title,
            "time": fmt.moment(when), "rule_version": pub.rule_version, "reason": pub.reason,
            "key_id": pub.key_id, "verified": verified}


# --- early warning ------------------------------------------------------------------------------------

BAND_WORDS = {1: "Xuất sắc", 2: "Tốt", 3: "Khá", 4: "Trung bình", 5: "Yếu"}


def projection_view(p) -> dict:
    return {"none_total": fmt.number(fmt.decimal(p.total_if_none_late.value)),
            "none_band": BAND_WORDS.get(p.band_if_none_late, ""),
            "all_total": fmt.number(fmt.decimal(p.total_if_all_late.value)),
            "all_band": BAND_WORDS.get(p.band_if_all_late, ""),
            "drops": p.band_if_all_late != p.band_if_none_late, "keep": p.band_to_keep_label,
            "finish_first": p.finish_first_count,
            "first_total": fmt.number(fmt.decimal(p.total_if_finish_first.value))}


def at_risk_view(reply, alerts) -> dict:
    """A unit's at-risk list for its officials (dossier codes: never on a public page)."""
    dossiers = [{"key": d.record_key, "unit": d.unit_code, "procedure": d.procedure_name or d.procedure_code,
                 "due": fmt.moment(fmt.from_timestamp(d.due_time.seconds, d.due_time.nanos)),
                 "left": d.working_days_left, "points": fmt.number(fmt.decimal(d.points_at_stake.value)),
                 "first": d.finish_first} for d in reply.dossiers]
    totals = [{"key": t.key, "count": fmt.count(t.dossiers), "points": fmt.number(fmt.decimal(t.points_at_stake.value))}
              for t in reply.unit_totals]
    return {"dossiers": dossiers, "total": reply.total_size, "unit_totals": totals,
            "projection": projection_view(reply.projection), "working_days": reply.working_days,
            "empty_reason": reply.empty_reason,
            "horizon": fmt.day(fmt.from_timestamp(reply.horizon_end.seconds)),
            "alerts": [{"title": a.title, "rule": a.rule_id,
                        "since": fmt.moment(fmt.from_timestamp(a.open_time.seconds, a.open_time.nanos))}
                       for a in alerts]}


def watch_rows(reply) -> list[dict]:
    return [{"code": u.unit.code, "name": u.unit.name, "count": fmt.count(u.at_risk_count),
             **projection_view(u.projection)} for u in reply.projections]
