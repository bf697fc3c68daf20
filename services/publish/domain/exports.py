"""Exports of publications, rankings and scorecards, for people and for machines.

Each export is first a ``Table`` (or a few: a workbook's sheets) of typed columns — text, whole
numbers, numbers shown with 2 decimals, instants — with Vietnamese headers; it is then written as

* CSV (``to_csv``): UTF-8 with a byte-order mark, RFC 4180 line ends, the first table only; numbers
  with a decimal point and their 2 decimals ("80.24", "71.00") so a program reads them back exactly;
  instants as dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh;
* XLSX (``services.publish.spreadsheet``, an adapter over openpyxl): numbers as numbers shown with
  2 decimals (a Vietnamese Excel shows "80,24"), the header row frozen, widths that fit;
* JSON: a publication's signed payload as is, or the canonical JSON of a ranking or a scorecard.

One vocabulary for bands everywhere people read them: Xuất sắc, Tốt, Khá, Trung bình, Yếu. A unit
with no record of the period (its scorecard's ``noData``; a ranking's ``unitsWithoutData``) is no
result: it comes after the ranked units, without rank or total, its band "Chưa có dữ liệu".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.publish.domain.documents import HANOI, UNIT_KINDS, PeriodRef, canonical_json

CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

CSV, JSON, XLSX = "csv", "json", "xlsx"

TEXT, INTEGER, DECIMAL2, INSTANT = "text", "integer", "decimal2", "instant"

BANDS = {
    "CLASSIFICATION_EXCELLENT": "Xuất sắc", "CLASSIFICATION_GOOD": "Tốt", "CLASSIFICATION_FAIR": "Khá",
    "CLASSIFICATION_AVERAGE": "Trung bình", "CLASSIFICATION_WEAK": "Yếu",
}  # fmt: skip
SCOPE_LABELS = {"SCOPE_UNIT": "Riêng đơn vị", "SCOPE_SUBTREE": "Đơn vị và các đơn vị trực thuộc"}
FEED_LABELS = {"FEED_LIVE": "Tạm tính", "FEED_OFFICIAL": "Chính thức"}
STATUS_LABELS = {
    "INDICATOR_STATUS_SCORED": "Tính điểm", "INDICATOR_STATUS_NOT_APPLICABLE": "Không áp dụng",
    "INDICATOR_STATUS_ANALYSIS_ONLY": "Chỉ phân tích", "INDICATOR_STATUS_UNSCORED": "Chưa có công thức",
}  # fmt: skip
NO_DATA_LABEL = "Chưa có dữ liệu"
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI"}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


@dataclass(frozen=True)
class Table:
    """One sheet: a title (at most 31 characters, for a workbook), columns and rows of values —
    str for text, int, Decimal (shown with 2 decimals), datetime, or None for an empty cell."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


# --------------------------------------------------------------------------- values


def band(document: Mapping) -> str:
    """The Vietnamese band of a scorecard or ranking entry (``classificationLabel`` when it has one);
    "Chưa có dữ liệu" for a scorecard without data."""
    if document.get("noData"):
        return NO_DATA_LABEL
    return str(document.get("classificationLabel") or BANDS.get(str(document.get("classification", "")), ""))


def decimal_of(value: Mapping | None) -> Decimal | None:
    """A ``google.type.Decimal`` document as a Decimal (None when absent)."""
    text = (value or {}).get("value", "")
    try:
        return Decimal(text) if text != "" else None
    except InvalidOperation:
        return None


def percent(value: Mapping | None) -> Decimal | None:
    """A rate (0.8024) as a percentage (80.24)."""
    d = decimal_of(value)
    return None if d is None else d.scaleb(2)


def instant(text: str) -> datetime | None:
    """A Timestamp's JSON form in Asia/Ho_Chi_Minh."""
    return datetime.fromisoformat(text).astimezone(HANOI) if text else None


def shown(value: Any, kind: str) -> str:
    """How a CSV cell says ``value``.

    >>> [shown(Decimal("71"), DECIMAL2), shown(Decimal("80.245"), DECIMAL2), shown(3, INTEGER), shown(None, TEXT)]
    ['71.00', '80.25', '3', '']
    """
    if value is None:
        return ""
    if kind == DECIMAL2:
        return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if kind == INSTANT:
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow([shown(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    return (BOM + out.getvalue()).encode("utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _period(doc: Mapping) -> PeriodRef:
    return PeriodRef.from_json(doc.get("period", {}))


def _group_header(group: Mapping, with_max: bool = True) -> str:
    """``Nhóm II. Tiến độ, kết quả giải quyết (20 điểm)``."""
    gid = str(group.get("id", ""))
    maximum = decimal_of(group.get("maxPoints"))
    most = f" ({shown(maximum, DECIMAL2).removesuffix('.00')} điểm)" if with_max and maximum is not None else ""
    return f"Nhóm {_ROMAN.get(gid, gid)}. {group.get('name', '')}".strip() + most


def _indicator_header(indicator: Mapping) -> str:
    return f"{indicator.get('id', '')} {indicator.get('name', '')}".strip()


def render(tables: Sequence[Table], fmt: str, name: str, as_json: Callable[[], bytes],
           xlsx: Callable[[Sequence[Table]], bytes] | None) -> Export:
    if fmt == JSON:
        return Export(as_json(), JSON_TYPE, f"{name}.json")
    if fmt == XLSX:
        if xlsx is None:
            raise ValueError("no XLSX writer")
        return Export(xlsx(tables), XLSX_TYPE, f"{name}.xlsx")
    return Export(to_csv(tables[0]), CSV_TYPE, f"{name}.csv")


# --------------------------------------------------------------------------- publications


def publication_tables(document: Mapping[str, Any]) -> list[Table]:
    """One row per scorecard, in ranking order: rank, unit, total, band, each group's and each
    indicator's points."""
    pid, revision = document["publicationId"], int(document["revision"])
    cards = list(document.get("scorecards", []))
    ranks = {e["unit"]["code"]: int(e.get("rank", 0)) for e in document.get("ranking", {}).get("entries", [])}
    groups: dict[str, Mapping] = {}
    indicators: dict[str, Mapping] = {}
    for card in cards:
        for g in card.get("groups", []):
            groups.setdefault(g["id"], g)
        for ind in card.get("indicators", []):
            indicators.setdefault(ind["id"], ind)
    columns = [Column("Mã công bố"), Column("Lần ban hành", INTEGER), Column("Kỳ đánh giá"),
               Column("Bộ tiêu chí"), Column("Hạng", INTEGER), Column("Mã đơn vị"), Column("Tên đơn vị"),
               Column("Phạm vi"), Column("Tổng điểm", DECIMAL2), Column("Xếp loại"),
               *(Column(_group_header(g), DECIMAL2) for g in groups.values()),
               *(Column(_indicator_header(i), DECIMAL2) for i in indicators.values())]
    period = _period(document).label()
    rows = []
    order = sorted(cards, key=lambda c: (bool(c.get("noData")), ranks.get(c["unit"]["code"], 1 << 30),
                                         c["unit"]["code"]))
    for card in order:
        code = card["unit"]["code"]
        group_points = {g["id"]: decimal_of(g.get("points")) for g in card.get("groups", [])}
        points = {i["id"]: decimal_of(i.get("points")) for i in card.get("indicators", [])}
        no_data = bool(card.get("noData"))
        rows.append([pid, revision, period, card.get("ruleVersion", ""), None if no_data else ranks.get(code), code,
                     card["unit"].get("name", ""), SCOPE_LABELS.get(card.get("scope", ""), ""),
                     None if no_data else decimal_of(card.get("total")), band(card),
                     *(group_points.get(g) for g in groups), *(points.get(i) for i in indicators)])
    return [Table(f"Công bố {period}"[:31], columns, rows)]


def publication_export(document: Mapping[str, Any], payload: bytes, fmt: str,
                       xlsx: Callable[[Sequence[Table]], bytes] | None = None) -> Export:
    """A publication as CSV or XLSX, or its signed payload as JSON."""
    name = f"{document['publicationId']}-r{int(document['revision'])}"
    return render(publication_tables(document) if fmt != JSON else [], fmt, name, lambda: payload, xlsx)


# --------------------------------------------------------------------------- rankings


def ranking_tables(document: Mapping[str, Any], feed_label: str = "") -> list[Table]:
    """One row per ranked unit: rank, previous rank and the change (positive: moved up), unit,
    total, band; then the units without data, unranked."""
    period = _period(document).label()
    as_of = instant(str(document.get("asOf", "")))
    scope = SCOPE_LABELS.get(str(document.get("scope", "")), "")
    rule_version = document.get("ruleVersion", "")
    columns = [Column("Kỳ đánh giá"), Column("Kết quả"), Column("Phạm vi"), Column("Hạng", INTEGER),
               Column("Hạng kỳ trước", INTEGER), Column("Thay đổi hạng", INTEGER), Column("Mã đơn vị"),
               Column("Tên đơn vị"), Column("Tổng điểm", DECIMAL2), Column("Xếp loại"), Column("Bộ tiêu chí"),
               Column("Tính đến", INSTANT)]
    rows = []
    for e in document.get("entries", []):
        rank, before = e.get("rank"), e.get("previousRank")
        change = int(before) - int(rank) if rank is not None and before is not None else None
        rows.append([period, feed_label, scope, rank, before, change, e["unit"]["code"], e["unit"].get("name", ""),
                     decimal_of(e.get("total")), band(e), rule_version, as_of])
    for u in document.get("unitsWithoutData", []):
        rows.append([period, feed_label, scope, None, None, None, u.get("code", ""), u.get("name", ""), None,
                     NO_DATA_LABEL, rule_version, as_of])
    return [Table(f"Xếp hạng {period}"[:31], columns, rows)]


def ranking_export(document: Mapping[str, Any], fmt: str, label: str = "",
                   xlsx: Callable[[Sequence[Table]], bytes] | None = None) -> Export:
    """A ranking (``label``: "live" or "official") as CSV, XLSX or canonical JSON."""
    kinds = {v: k for k, v in UNIT_KINDS.items()}
    kind = document.get("unitKind", "")
    parts = ["ranking", _period(document).key, kind.removeprefix("UNIT_KIND_").lower() if kind in kinds else ""]
    if document.get("parentCode"):
        parts.append(document["parentCode"])
    if label:
        parts.append(label)
    name = "-".join(_slug(p) for p in parts if p)
    feed = {"live": "Tạm tính", "official": "Chính thức"}.get(label, "")
    tables = ranking_tables(document, feed) if fmt != JSON else []
    return render(tables, fmt, name, lambda: canonical_json(dict(document)), xlsx)


# --------------------------------------------------------------------------- scorecards


def scorecard_tables(published: Mapping[str, Any]) -> list[Table]:
    """A PublishedScorecard: one row per indicator (the unit, period and total repeated on each, so a
    program reads one table), then a sheet of groups and the total."""
    card = published.get("scorecard", {})
    unit = card.get("unit", {})
    period = _period(card).label()
    feed = FEED_LABELS.get(str(published.get("feed", "")), "")
    head = [unit.get("code", ""), unit.get("name", ""), period, SCOPE_LABELS.get(card.get("scope", ""), ""), feed]
    head_columns = [Column("Mã đơn vị"), Column("Tên đơn vị"), Column("Kỳ đánh giá"), Column("Phạm vi"),
                    Column("Kết quả")]
    groups = {g["id"]: g for g in card.get("groups", [])}
    rows = []
    for ind in card.get("indicators", []):
        group = groups.get(ind.get("groupId", ""), {"id": ind.get("groupId", "")})
        status = str(ind.get("status", ""))
        rows.append([*head, _group_header(group, with_max=False), ind.get("id", ""), ind.get("name", ""),
                     int(ind.get("numerator", 0)), int(ind.get("denominator", 0)), percent(ind.get("rate")),
                     percent(ind.get("threshold")), decimal_of(ind.get("maxPoints")),
                     decimal_of(ind.get("points")) if status != "INDICATOR_STATUS_ANALYSIS_ONLY" else None,
                     STATUS_LABELS.get(status, ""), ", ".join(ind.get("flags", []))])
    indicators = Table("Chỉ số", [*head_columns, Column("Nhóm"), Column("Mã chỉ số"), Column("Tên chỉ số"),
                                  Column("Tử số", INTEGER), Column("Mẫu số", INTEGER), Column("Tỷ lệ (%)", DECIMAL2),
                                  Column("Ngưỡng (%)", DECIMAL2), Column("Điểm tối đa", DECIMAL2),
                                  Column("Điểm", DECIMAL2), Column("Trạng thái"), Column("Ghi chú")], rows)
    summary_rows: list[list[Any]] = [[*head, _group_header(g, with_max=False), decimal_of(g.get("maxPoints")),
                                      decimal_of(g.get("points")), ""] for g in card.get("groups", [])]
    most = sum((decimal_of(g.get("maxPoints")) or Decimal(0) for g in card.get("groups", [])), Decimal(0))
    total = None if card.get("noData") else decimal_of(card.get("total"))
    summary_rows.append([*head, "Tổng điểm", most, total, band(card)])
    summary = Table("Tổng hợp", [*head_columns, Column("Nhóm"), Column("Điểm tối đa", DECIMAL2),
                                 Column("Điểm", DECIMAL2), Column("Xếp loại")], summary_rows)
    return [indicators, summary]


def scorecard_export(published: Mapping[str, Any], fmt: str,
                     xlsx: Callable[[Sequence[Table]], bytes] | None = None) -> Export:
    """A scorecard as CSV (its indicators), XLSX (indicators, then groups and total) or JSON (the
    PublishedScorecard's canonical JSON)."""
    card = published.get("scorecard", {})
    parts = ["scorecard", card.get("unit", {}).get("code", ""), _period(card).key,
             str(card.get("scope", "")).removeprefix("SCOPE_").lower(),
             "official" if published.get("feed") == "FEED_OFFICIAL" else "live"]
    name = "-".join(_slug(p) for p in parts if p)
    tables = scorecard_tables(published) if fmt != JSON else []
    return render(tables, fmt, name, lambda: canonical_json(dict(published)), xlsx)
