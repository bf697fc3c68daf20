"""Exports of publications and rankings: CSV (UTF-8 with a byte-order mark, so spreadsheet programs
show Vietnamese correctly; RFC 4180 line ends) and JSON (a publication's signed payload as is, or a
ranking's canonical JSON).

A unit without any record of the period (its scorecard's ``noData``) is no result: in CSV it comes
after the ranked units, without rank, total or band, its ``no_data`` column ``true`` and its band
column "Chưa có dữ liệu"."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.publish.domain.documents import UNIT_KINDS, PeriodRef, canonical_json

CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"
BOM = "\ufeff"
NO_DATA_LABEL = "Chưa có dữ liệu"


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


def _csv(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _value(decimal: Mapping | None) -> str:
    return str((decimal or {}).get("value", ""))


def _period_key(doc: Mapping) -> str:
    return PeriodRef.from_json(doc.get("period", {})).key


def publication_export(document: Mapping[str, Any], payload: bytes, as_csv: bool) -> Export:
    """One row per scorecard, in ranking order, with every indicator's points; or the signed payload."""
    pid, revision = document["publicationId"], int(document["revision"])
    name = f"{pid}-r{revision}"
    if not as_csv:
        return Export(payload, JSON_TYPE, f"{name}.json")
    cards = list(document.get("scorecards", []))
    ranks = {e["unit"]["code"]: int(e.get("rank", 0)) for e in document.get("ranking", {}).get("entries", [])}
    indicator_ids: list[str] = []
    for card in cards:
        for ind in card.get("indicators", []):
            if ind["id"] not in indicator_ids:
                indicator_ids.append(ind["id"])
    header = ["publication_id", "revision", "period", "rule_version", "rank", "unit_code", "unit_name", "scope",
              "total", "classification", "no_data", *(f"points_{i}" for i in indicator_ids)]
    rows: list[list[Any]] = [header]
    period = _period_key(document)
    order = sorted(cards, key=lambda c: (ranks.get(c["unit"]["code"], 1 << 30), c["unit"]["code"]))
    for card in order:
        points = {ind["id"]: _value(ind.get("points")) for ind in card.get("indicators", [])}
        code = card["unit"]["code"]
        no_data = bool(card.get("noData"))
        rows.append([pid, revision, period, card.get("ruleVersion", ""), ranks.get(code, ""), code,
                     card["unit"].get("name", ""), card.get("scope", "").removeprefix("SCOPE_").lower(),
                     "" if no_data else _value(card.get("total")),
                     NO_DATA_LABEL if no_data else card.get("classificationLabel", ""), _flag(no_data),
                     *(points.get(i, "") for i in indicator_ids)])
    return Export(_csv(rows), CSV_TYPE, f"{name}.csv")


def ranking_export(document: Mapping[str, Any], as_csv: bool, label: str = "") -> Export:
    """One row per ranked unit; or the ranking's canonical JSON."""
    kinds = {v: k for k, v in UNIT_KINDS.items()}
    kind = document.get("unitKind", "")
    parts = ["ranking", _period_key(document), kind.removeprefix("UNIT_KIND_").lower() if kind in kinds else ""]
    if document.get("parentCode"):
        parts.append(document["parentCode"])
    if label:
        parts.append(label)
    name = "-".join(_slug(p) for p in parts if p)
    if not as_csv:
        return Export(canonical_json(dict(document)), JSON_TYPE, f"{name}.json")
    rows: list[list[Any]] = [["period", "rule_version", "as_of", "scope", "rank", "unit_code", "unit_name", "total",
                              "classification", "no_data"]]
    head = [_period_key(document), document.get("ruleVersion", ""), document.get("asOf", ""),
            str(document.get("scope", "")).removeprefix("SCOPE_").lower()]
    for e in document.get("entries", []):
        rows.append([*head, e.get("rank", ""), e["unit"]["code"], e["unit"].get("name", ""), _value(e.get("total")),
                     str(e.get("classification", "")).removeprefix("CLASSIFICATION_").lower(), _flag(False)])
    for u in document.get("unitsWithoutData", []):
        rows.append([*head, "", u["code"], u.get("name", ""), "", NO_DATA_LABEL, _flag(True)])
    return Export(_csv(rows), CSV_TYPE, f"{name}.csv")


def _flag(value: bool) -> str:
    return "true" if value else "false"
