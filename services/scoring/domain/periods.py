"""Scoring periods: month, quarter, year and year-to-date, in Vietnam's time zone.

A period is the half-open interval ``[start, end)`` between midnights in Asia/Ho_Chi_Minh, never
UTC: 2026-07-31T17:30Z is 00:30 on 1 August in Hanoi and so belongs to ``2026-08``.

A year-to-date period ``2026-YTD`` spans the same year as ``2026`` but is always read as of a
moment: it covers 1 January up to that moment (``window(as_of)``), and its previous-year
fallback share is the months begun by then (see ``year_fraction``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction

from services.shared.records import HANOI

MIN_YEAR = 1900
MAX_YEAR = 9998


class PeriodError(ValueError):
    """A period that cannot exist or cannot be read."""


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    YTD = "ytd"


_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{2})"), PeriodKind.MONTH),
    (re.compile(r"(\d{4})-Q(\d)"), PeriodKind.QUARTER),
    (re.compile(r"(\d{4})"), PeriodKind.YEAR),
    (re.compile(r"(\d{4})-YTD"), PeriodKind.YTD),
)


@dataclass(frozen=True)
class Period:
    """A calendar period. ``number`` is the month (1–12) or quarter (1–4); None for year and YTD."""

    kind: PeriodKind
    year: int
    number: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, PeriodKind):
            try:
                object.__setattr__(self, "kind", PeriodKind(self.kind))
            except ValueError:
                raise PeriodError(f"unknown period kind {self.kind!r}") from None
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(f"year {self.year} is outside {MIN_YEAR}–{MAX_YEAR}")
        highest = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4}.get(self.kind)
        if highest is None:
            if self.number is not None:
                raise PeriodError(f"a {self.kind.value} period takes no number, got {self.number}")
        elif self.number is None or not 1 <= self.number <= highest:
            raise PeriodError(f"{self.kind.value} number must be 1–{highest}, got {self.number}")

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(PeriodKind.MONTH, year, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(PeriodKind.QUARTER, year, quarter)

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(PeriodKind.YEAR, year)

    @classmethod
    def ytd(cls, year: int) -> Period:
        return cls(PeriodKind.YTD, year)

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``2026-08``, ``2026-Q3``, ``2026`` or ``2026-YTD``."""
        for pattern, kind in _PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                year = int(match.group(1))
                number = int(match.group(2)) if match.lastindex == 2 else None
                return cls(kind, year, number)
        raise PeriodError(f"unrecognised period {text!r}: expected 2026-08, 2026-Q3, 2026 or 2026-YTD")

    def __str__(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year:04d}-Q{self.number}"
        if self.kind is PeriodKind.YTD:
            return f"{self.year:04d}-YTD"
        return f"{self.year:04d}"

    # --- bounds -------------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        return date(self.year, self._first_month, 1)

    @property
    def start(self) -> datetime:
        """Midnight in Hanoi at the start of the period (inclusive)."""
        return _midnight(self.year, self._first_month)

    @property
    def end(self) -> datetime:
        """Midnight in Hanoi just after the period (exclusive). For YTD, the end of its year."""
        month = self._first_month + self._length_in_months
        return _midnight(self.year + (month - 1) // 12, (month - 1) % 12 + 1)

    def contains(self, moment: datetime) -> bool:
        return self.start <= _aware(moment) < self.end

    def window(self, as_of: datetime) -> tuple[datetime, datetime]:
        """The part of the period that has happened by ``as_of``: ``[start, evaluation_moment)``."""
        return self.start, evaluation_moment(self, as_of)

    def months(self, as_of: datetime | None = None) -> Iterator[Period]:
        """The months of the period in order; with ``as_of``, only those begun before it."""
        for offset in range(self._length_in_months):
            month = Period.month(self.year, self._first_month + offset)
            if as_of is not None and month.start >= _aware(as_of):
                return
            yield month

    def year_fraction(self, as_of: datetime | None = None) -> Fraction:
        """Share of a year this period stands for: 1/12 a month, 1/4 a quarter, 1 a year.

        A YTD period stands for the months begun by ``as_of`` (all twelve without it): YTD as of
        15 August is 8/12. This is the divisor of the previous-year fallback.
        """
        if self.kind is PeriodKind.YTD and as_of is not None:
            return Fraction(max(1, sum(1 for _ in self.months(as_of))), 12)
        return Fraction(self._length_in_months, 12)

    # --- internals ----------------------------------------------------------------------------

    @property
    def _first_month(self) -> int:
        if self.kind is PeriodKind.MONTH:
            return self.number
        if self.kind is PeriodKind.QUARTER:
            return 3 * (self.number - 1) + 1
        return 1

    @property
    def _length_in_months(self) -> int:
        return {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3}.get(self.kind, 12)


def period_containing(moment: datetime, kind: PeriodKind | str) -> Period:
    """The period of ``kind`` that ``moment`` falls in, by the Hanoi calendar."""
    kind = PeriodKind(kind)
    local = _aware(moment).astimezone(HANOI)
    if kind is PeriodKind.MONTH:
        return Period.month(local.year, local.month)
    if kind is PeriodKind.QUARTER:
        return Period.quarter(local.year, (local.month - 1) // 3 + 1)
    return Period(kind, local.year)


def evaluation_moment(period: Period, now: datetime) -> datetime:
    """The moment a period is scored as of: its end once over, ``now`` while it runs.

    ``min(end, now)``, and never before the period's start (a period not begun yet is empty).
    """
    return max(period.start, min(period.end, _aware(now)))


def local_date(moment: datetime) -> date:
    """The Hanoi calendar date of an aware moment."""
    return _aware(moment).astimezone(HANOI).date()


def _midnight(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=HANOI)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PeriodError(f"moment {moment.isoformat()} has no time zone")
    return moment
