"""The documents publish signs, stores and serves, and their canonical bytes.

A document is the protobuf JSON mapping of a ``chiso.publish.v1`` message, built here as plain
dicts: lowerCamelCase keys, enums by name, 64-bit integers and decimals as strings, timestamps as
RFC 3339 in UTC, fields at their default value left out. So a portal can parse a payload with any
protobuf library (``PublishedScorecard`` or ``Publication``) and check it against the signature.

Canonical bytes (what a signature covers): ``canonical_json`` — keys sorted, no insignificant
whitespace, UTF-8 (not ASCII-escaped). Documents hold no floating-point numbers: every fraction is a
decimal string, so the bytes are the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")

# Enum numbers and names of chiso.types.v1 (a test holds them equal to the generated code).
PERIOD_KINDS = {1: "PERIOD_KIND_MONTH", 2: "PERIOD_KIND_QUARTER", 3: "PERIOD_KIND_YEAR", 4: "PERIOD_KIND_YEAR_TO_DATE"}
UNIT_KINDS = {
    1: "UNIT_KIND_MINISTRY", 2: "UNIT_KIND_MINISTERIAL_AGENCY", 3: "UNIT_KIND_SOCIAL_SECURITY",
    4: "UNIT_KIND_PROVINCE", 5: "UNIT_KIND_DEPARTMENT", 6: "UNIT_KIND_COMMUNE", 7: "UNIT_KIND_DISTRICT",
    8: "UNIT_KIND_OTHER",
}  # fmt: skip
SCOPES = {1: "SCOPE_UNIT", 2: "SCOPE_SUBTREE"}
FEEDS = {1: "FEED_LIVE", 2: "FEED_OFFICIAL", 3: "FEED_ALERT"}
CLASSIFICATIONS = {
    1: "CLASSIFICATION_EXCELLENT", 2: "CLASSIFICATION_GOOD", 3: "CLASSIFICATION_FAIR",
    4: "CLASSIFICATION_AVERAGE", 5: "CLASSIFICATION_WEAK",
}  # fmt: skip
MONTH, QUARTER, YEAR, YTD = 1, 2, 3, 4
SCOPE_UNIT, SCOPE_SUBTREE = 1, 2
FEED_LIVE, FEED_OFFICIAL, FEED_ALERT = 1, 2, 3

SCORECARD_CONTENT_TYPE = "application/vnd.chiso.scorecard+json"
PUBLICATION_CONTENT_TYPE = "application/vnd.chiso.publication+json"

# Vietnamese labels for default titles.
_KIND_LABELS = {
    1: "các bộ", 2: "các cơ quan ngang bộ", 3: "Bảo hiểm Xã hội Việt Nam", 4: "các tỉnh, thành phố",
    5: "các sở, ban, ngành", 6: "các xã, phường, đặc khu", 7: "các huyện", 8: "các cơ quan khác",
}  # fmt: skip
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class PeriodError(ValueError):
    """A period that cannot exist."""


def canonical_json(document: Any) -> bytes:
    """The canonical bytes of a JSON document: sorted keys, no whitespace, UTF-8.

    >>> canonical_json({"b": "Tốt", "a": ["1.50", 2]})
    b'{"a":["1.50",2],"b":"T\\xe1\\xbb\\x91t"}'
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _member(key: str, value: Any) -> bytes:
    """One member of a canonical JSON object: ``"key":value``."""
    return canonical_json(key) + b":" + canonical_json(value)


def _object(members: Mapping[str, bytes]) -> bytes:
    """``canonical_json`` of an object from its members, each encoded already (``_member``): the
    same bytes, since canonical JSON is the members in key order, comma-separated, in braces."""
    return b"{" + b",".join(members[k] for k in sorted(members)) + b"}"


def rfc3339(micros: int) -> str:
    """A UTC instant in microseconds as protobuf's JSON form of a Timestamp.

    >>> rfc3339(1_788_195_600_000_000)
    '2026-08-31T17:00:00Z'
    >>> rfc3339(1_788_195_600_123_400)
    '2026-08-31T17:00:00.123400Z'
    """
    seconds, us = divmod(micros, 1_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{us:06d}Z" if us else f"{text}Z"


def micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def micros_of(text: str) -> int:
    """A Timestamp's JSON form back to µs since the epoch (0 for ""): the inverse of ``rfc3339``.

    >>> micros_of("2026-08-31T17:00:00.123400Z")
    1788195600123400
    """
    return micros(datetime.fromisoformat(text)) if text else 0


@dataclass(frozen=True, order=True)
class PeriodRef:
    """A period as ``chiso.types.v1.Period`` numbers it: kind (1 month, 2 quarter, 3 year, 4
    year-to-date), year, and the month or quarter number (0 otherwise)."""

    kind: int
    year: int
    number: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_KINDS:
            raise PeriodError("period kind is required")
        if not 1900 <= self.year <= 9998:
            raise PeriodError(f"year {self.year} is outside 1900–9998")
        top = {MONTH: 12, QUARTER: 4}.get(self.kind)
        if top is None and self.number:
            raise PeriodError("a year period takes no number")
        if top is not None and not 1 <= self.number <= top:
            raise PeriodError(f"number must be 1–{top}")

    @property
    def key(self) -> str:
        """Text form: ``2026-08``, ``2026-Q3``, ``2026``, ``2026-YTD``."""
        if self.kind == MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year}-Q{self.number}"
        return f"{self.year}-YTD" if self.kind == YTD else str(self.year)

    @classmethod
    def from_key(cls, text: str) -> PeriodRef:
        for pattern, kind in ((r"(\d{4})-(\d{2})", MONTH), (r"(\d{4})-Q(\d)", QUARTER), (r"(\d{4})", YEAR),
                              (r"(\d{4})-YTD", YTD)):
            m = re.fullmatch(pattern, text)
            if m:
                return cls(kind, int(m.group(1)), int(m.group(2)) if m.lastindex == 2 else 0)
        raise PeriodError(f"not a period: {text!r}")

    @property
    def start(self) -> datetime:
        first = {MONTH: self.number, QUARTER: 3 * self.number - 2}.get(self.kind, 1)
        return datetime(self.year, first, 1, tzinfo=HANOI)

    @property
    def end(self) -> datetime:
        """Midnight in Hanoi just after the period (a year-to-date ends with its year)."""
        last = {MONTH: self.number, QUARTER: 3 * self.number}.get(self.kind, 12)
        year, month = (self.year + 1, 1) if last == 12 else (self.year, last + 1)
        return datetime(year, month, 1, tzinfo=HANOI)

    def previous(self) -> PeriodRef:
        """The period before, of the same kind: the month, quarter or year before; for a year-to-date,
        the year before's year-to-date. PeriodError before 1900.

        >>> [PeriodRef(MONTH, 2026, 1).previous().key, PeriodRef(QUARTER, 2026, 1).previous().key]
        ['2025-12', '2025-Q4']
        >>> [PeriodRef(YEAR, 2026).previous().key, PeriodRef(YTD, 2026).previous().key]
        ['2025', '2025-YTD']
        """
        if self.kind == MONTH:
            return PeriodRef(MONTH, self.year - (self.number == 1), 12 if self.number == 1 else self.number - 1)
        if self.kind == QUARTER:
            return PeriodRef(QUARTER, self.year - (self.number == 1), 4 if self.number == 1 else self.number - 1)
        return PeriodRef(self.kind, self.year - 1)

    def ending_range(self, count: int) -> list[PeriodRef]:
        """``count`` consecutive periods of this kind ending with this one, oldest first (fewer when
        they would start before 1900).

        >>> [p.key for p in PeriodRef(MONTH, 2026, 2).ending_range(3)]
        ['2025-12', '2026-01', '2026-02']
        """
        out = [self]
        while len(out) < count:
            try:
                out.append(out[-1].previous())
            except PeriodError:
                break
        return out[::-1]

    @classmethod
    def running(cls, kind: int, moment: datetime) -> PeriodRef:
        """The period of ``kind`` that holds ``moment`` (Asia/Ho_Chi_Minh).

        >>> PeriodRef.running(QUARTER, datetime(2026, 9, 30, 17, 0, tzinfo=UTC)).key  # 1 Oct 00:00 in Hanoi
        '2026-Q4'
        """
        local = moment.astimezone(HANOI)
        number = {MONTH: local.month, QUARTER: (local.month + 2) // 3}.get(kind, 0)
        return cls(kind, local.year, number)

    def containing_periods(self, today: datetime) -> list[PeriodRef]:
        """For a month: the month, its quarter, its year, and the year-to-date while the year runs —
        the live scorecards a change to the month can move."""
        if self.kind != MONTH:
            return [self]
        out = [self, PeriodRef(QUARTER, self.year, (self.number + 2) // 3), PeriodRef(YEAR, self.year)]
        if today.astimezone(HANOI).year == self.year:
            out.append(PeriodRef(YTD, self.year))
        return out

    def to_json(self) -> dict:
        out: dict[str, Any] = {"kind": PERIOD_KINDS[self.kind], "year": self.year}
        if self.number:
            out["number"] = self.number
        return out

    @classmethod
    def from_json(cls, doc: Mapping) -> PeriodRef:
        kinds = {v: k for k, v in PERIOD_KINDS.items()}
        return cls(kinds.get(doc.get("kind", ""), 0), int(doc.get("year", 0)), int(doc.get("number", 0)))

    def label(self) -> str:
        """Vietnamese: ``tháng 8/2026``, ``quý III/2026``, ``năm 2026``, ``năm 2026 (lũy kế)``."""
        if self.kind == MONTH:
            return f"tháng {self.number}/{self.year}"
        if self.kind == QUARTER:
            return f"quý {_ROMAN[self.number]}/{self.year}"
        return f"năm {self.year} (lũy kế)" if self.kind == YTD else f"năm {self.year}"


@dataclass(frozen=True)
class CardKey:
    """Which scorecard: unit, period, scope (1 unit alone, 2 with its subtree)."""

    unit_code: str
    period: PeriodRef
    scope: int


@dataclass(frozen=True)
class Card:
    """A scorecard as scoring computed it: the few facts publish files it under, and ``body``, its
    whole JSON mapping (``chiso.types.v1.Scorecard``)."""

    unit_code: str
    unit_name: str
    unit_kind: int
    parent_code: str
    period: PeriodRef
    scope: int
    rule_version: str
    total: str
    classification: int
    provisional: bool
    body: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def key(self) -> CardKey:
        return CardKey(self.unit_code, self.period, self.scope)

    @property
    def no_data(self) -> bool:
        """No record of the period counts in it (``Scorecard.no_data``): not ranked."""
        return bool(self.body.get("noData"))

    @cached_property
    def _members(self) -> dict[str, bytes]:
        # The body's top-level members encoded once: its hash, its stored bytes and its live payload
        # are all made of them (a scorecard is ~10 KB of JSON; publish handles ~28,000 per national round).
        return {k: _member(k, v) for k, v in self.body.items()}

    def content_sha256(self) -> str:
        """Hash of what the scorecard says, leaving out when it was computed and as of when (a running
        period is scored as of now, so those move on every read without anything changing)."""
        members = self._members
        content = {k: v for k, v in members.items() if k not in ("asOf", "computeTime")}
        return hashlib.sha256(_object(content)).hexdigest()

    def computed_at(self) -> int:
        """When scoring computed it (``computeTime``), µs since the epoch; 0 if it does not say."""
        return micros_of(self.body.get("computeTime", ""))

    def body_json(self) -> bytes:
        """``canonical_json(body)``."""
        return _object(self._members)

    def live_payload(self, version: int, update_time_us: int) -> bytes:
        """``canonical_json(live_document(body, version, update_time_us))``."""
        card = _object({**self._members, "provisional": _member("provisional", True)})
        return _object({"feed": _member("feed", FEEDS[FEED_LIVE]), "scorecard": b'"scorecard":' + card,
                        "version": _member("version", str(version)),
                        "updateTime": _member("updateTime", rfc3339(update_time_us))})


def centi(total: str) -> int:
    """A shown total ("80.24") in hundredths (8024): what rankings compare, as a sortable integer.

    >>> [centi("80.24"), centi("71"), centi("100.00"), centi("")]
    [8024, 7100, 10000, 0]
    """
    return int(total_of(total).scaleb(2).to_integral_value())


def ranked_centi(card: Card) -> int | None:
    """What a card's rank is counted from: its shown total in hundredths; None for a scorecard with no
    data of its period (``Scorecard.no_data``), which is not ranked."""
    return None if card.body.get("noData") else centi(card.total)


def total_of(total: str) -> Decimal:
    try:
        return Decimal(total or "0")
    except InvalidOperation:
        return Decimal(0)


def rank(cards: Iterable[Card]) -> list[tuple[int, Card]]:
    """Competition ranking on the shown totals: best first, ties share a rank (1, 2, 2, 4) and are
    listed by unit code."""
    ordered = sorted(cards, key=lambda c: (-total_of(c.total), c.unit_code))
    out: list[tuple[int, Card]] = []
    for position, card in enumerate(ordered, start=1):
        if out and total_of(card.total) == total_of(out[-1][1].total):
            out.append((out[-1][0], card))
        else:
            out.append((position, card))
    return out


def unit_ref(card: Card) -> dict:
    out: dict[str, Any] = {"code": card.unit_code}
    if card.unit_name:
        out["name"] = card.unit_name
    if card.unit_kind:
        out["kind"] = UNIT_KINDS.get(card.unit_kind, card.unit_kind)
    if card.parent_code:
        out["parentCode"] = card.parent_code
    return out


def ranking_document(period: PeriodRef, unit_kind: int, parent_code: str, rule_version: str, as_of: str,
                     ranked: Sequence[tuple[int, Card]], *, scope: int = 0,
                     without_data: Sequence[Card] = ()) -> dict:
    """``chiso.types.v1.Ranking`` of ranked cards, and of the cards without data listed apart."""
    doc: dict[str, Any] = {"period": period.to_json(), "unitKind": UNIT_KINDS[unit_kind]}
    if parent_code:
        doc["parentCode"] = parent_code
    if rule_version:
        doc["ruleVersion"] = rule_version
    if as_of:
        doc["asOf"] = as_of
    entries = []
    for position, card in ranked:
        entry: dict[str, Any] = {"rank": position, "unit": unit_ref(card), "total": {"value": card.total or "0"}}
        if card.classification:
            entry["classification"] = CLASSIFICATIONS.get(card.classification, card.classification)
        entries.append(entry)
    if entries:
        doc["entries"] = entries
    if scope:
        doc["scope"] = SCOPES[scope]
    if without_data:
        doc["unitsWithoutData"] = [unit_ref(card) for card in without_data]
    return doc


def new_publication_id(period: PeriodRef, unit_kind: int, parent_code: str) -> str:
    """``2026-q3-province-3fa1c2`` or ``2026-08-commune-h25-0b9e44``: readable, unique, AIP-122 safe."""
    kind = UNIT_KINDS[unit_kind].removeprefix("UNIT_KIND_").lower().replace("_", "-")
    parts = [period.key.lower(), kind]
    if parent_code:
        parts.append(re.sub(r"[^a-z0-9]+", "-", parent_code.lower()).strip("-")[:24])
    parts.append(secrets.token_hex(3))
    return "-".join(p for p in parts if p)


def default_title(period: PeriodRef, unit_kind: int, parent_name: str = "") -> str:
    """``Kết quả đánh giá Bộ chỉ số 766 quý III/2026 — các tỉnh, thành phố``."""
    where = _KIND_LABELS.get(unit_kind, "")
    if parent_name:
        where = f"{where} thuộc {parent_name}"
    return f"Kết quả đánh giá Bộ chỉ số 766 {period.label()} — {where}"


@dataclass(frozen=True)
class PublicationSpec:
    """What an operator asked to freeze (kept so that corrections freeze the same thing)."""

    period: PeriodRef
    unit_kind: int
    parent_code: str
    scope: int
    rule_version: str
    title: str


def publication_document(*, publication_id: str, revision: int, spec: PublicationSpec, rule_version: str,
                         publish_time_us: int, reason: str, cards: Sequence[Card], key_id: str) -> dict:
    """``chiso.publish.v1.Publication`` of one revision, without ``payload`` and ``signature`` (the
    payload is these bytes; the signature covers them)."""
    ranked = rank(c for c in cards if not c.no_data)
    without = sorted((c for c in cards if c.no_data), key=lambda c: c.unit_code)
    as_of = next((str(c.body["asOf"]) for c in cards if c.body.get("asOf")), "")
    doc: dict[str, Any] = {
        "name": f"publications/{publication_id}/revisions/{revision}",
        "publicationId": publication_id,
        "revision": revision,
        "title": spec.title,
        "period": spec.period.to_json(),
        "ruleVersion": rule_version,
        "unitKind": UNIT_KINDS[spec.unit_kind],
        "publishTime": rfc3339(publish_time_us),
        "scorecards": [dict(c.body) for c in sorted(cards, key=lambda c: (c.unit_code, c.scope))],
        "ranking": ranking_document(spec.period, spec.unit_kind, spec.parent_code, rule_version, as_of, ranked,
                                    scope=spec.scope, without_data=without),
        "keyId": key_id,
    }
    if spec.parent_code:
        doc["parentCode"] = spec.parent_code
    if reason:
        doc["reason"] = reason
    if not doc["scorecards"]:
        del doc["scorecards"]
    return doc


def live_document(scorecard: Mapping[str, Any], version: int, update_time_us: int) -> dict:
    """``chiso.publish.v1.PublishedScorecard`` of a live scorecard at ``version``. Live results are
    always provisional (SPEC §5: they change as data arrives, even for a period that has ended, until
    an official publication freezes them)."""
    return {"feed": FEEDS[FEED_LIVE], "scorecard": {**scorecard, "provisional": True}, "version": str(version),
            "updateTime": rfc3339(update_time_us)}


def official_document(scorecard: Mapping[str, Any], publication_id: str, revision: int, publish_time: str) -> dict:
    """``chiso.publish.v1.PublishedScorecard`` of a scorecard frozen in a publication."""
    return {"feed": FEEDS[FEED_OFFICIAL], "scorecard": dict(scorecard), "publicationId": publication_id,
            "revision": revision, "updateTime": publish_time}
