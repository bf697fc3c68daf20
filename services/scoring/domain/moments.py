"""The moments at which time alone re-judges a petition or a publication listing (the due ticker's
second and third sources, after dossiers' deadlines; see ``services.scoring.due``). Pure Python.

A running period is scored as of now, ``E``; records carry no moment after their arrival (ingest
refuses receipt, listing and decision dates in the future), so what turns with ``E`` alone is:

* **766/2022 5.2** (``petitions_due``): a petition counts once ``E > due_at`` — at its stored due
  time, resolved or not;
* **portal/2025 5.2** (stage limits, :func:`timing.classify_petition`): a petition in process (neither
  refused nor published) is judged at ``E`` against one limit — readiness for publication,
  ``ready_days`` working days after ``max(receipt, last transfer)`` while it is not ready, else
  publication, ``publication_days`` after readiness — and turns late once ``E`` passes it
  (:func:`timing.working_deadline`: same Hanoi clock time, that many working days on). Its other
  stages are judged at their own recorded moments, which do not move;
* **portal/2025 1.2** (``procedures_listed_or_listing_due``): a decision's listing falls due on the
  Hanoi day ``add_working_days(decision_date, listing_days)`` and counts from that day's midnight
  (``measures._before``). The allowance is the *scored* unit's kind's, so every allowance a table
  sets is taken (an announcement too many is a re-read that changes nothing; one too few, a stale
  scorecard).

The stored columns hold the anchors (receipt, transfer, readiness, decision date), not the moments;
a working-day limit is monotone in its anchor's Hanoi *date*, so the anchors whose moment falls in a
window are a few ranges — :func:`working_sources` — read by ranges on indexes of the stored columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from services.scoring.domain.cells import DAY_US, day_start_us, from_us, to_us
from services.scoring.domain.measures import _LISTING_TIMING, _PETITION_STAGES, petition_limits
from services.scoring.domain.periods import HANOI
from services.scoring.domain.rules import RuleTable
from services.scoring.domain.workdays import add_working_days, is_working_day
from services.shared.records import UNIT_KIND_NAMES

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class TimeRules:
    """What of the rule tables makes petitions and listings turn with time (every version loaded:
    the ticker does not know which one a reader asks for)."""

    petitions_due: bool = False  # a table counts petitions by due time (766/2022 5.2)
    ready_days: frozenset[int] = field(default_factory=frozenset)  # stage limits: readiness (working days)
    publication_days: frozenset[int] = field(default_factory=frozenset)  # stage limits: publication
    listing_days: frozenset[int] = field(default_factory=frozenset)  # 1.2 allowances that fall due by day

    def __bool__(self) -> bool:
        return self.petitions_due or bool(self.ready_days or self.publication_days or self.listing_days)


def time_rules(tables: Iterable[RuleTable]) -> TimeRules:
    due, ready, publication, listing = False, set(), set(), set()
    for table in tables:
        names = set(table.measures())
        due |= "petitions_due" in names
        if names & set(_PETITION_STAGES):
            limits = petition_limits(table)
            ready.add(limits.ready_for_publication)
            publication.add(limits.publication)
        if names & {"procedures_listed_or_listing_due", "procedures_listed_or_due_on_time"}:
            for kind in (None, *UNIT_KIND_NAMES.values()):
                listing.add(table.parameter_for(_LISTING_TIMING, "listing_working_days", kind, 5))
    return TimeRules(due, frozenset(ready), frozenset(publication), frozenset(listing))


@lru_cache(maxsize=4096)
def source_days(day: date, working_days: int) -> tuple[date, ...]:
    """The dates ``d`` with ``add_working_days(d, working_days) == day`` (contiguous: a working day
    and the days off after it; none when ``day`` is a day off and ``working_days > 0``). Cached: a
    tick every few seconds asks for the same day."""
    if working_days <= 0:
        return (day,)
    if not is_working_day(day):
        return ()
    try:
        d = add_working_days(day, -working_days) - _ONE_DAY
    except OverflowError:
        return ()
    out = []
    while d < day:
        if add_working_days(d, working_days) == day:
            out.append(d)
        d += _ONE_DAY
    return tuple(out)


def _midnight(d: date) -> int:
    return to_us(datetime(d.year, d.month, d.day, tzinfo=HANOI))


def working_sources(since: int, until: int, working_days: int) -> list[tuple[int, int]]:
    """Half-open ranges ``[lo, hi)`` of anchors ``a`` (UTC µs) whose moment
    ``working_deadline_us(a, working_days)`` is in ``[since, until)``, merged and sorted.

    For ``a`` on Hanoi date ``d`` at ``o`` after its midnight, the moment is the midnight of
    ``add_working_days(d, n)`` plus ``o``; so each Hanoi day ``D`` the window touches contributes,
    for every ``d`` of :func:`source_days`, the part of ``d`` at the offsets of the window within ``D``."""
    ranges: list[tuple[int, int]] = []
    day = day_start_us(since)
    while day < until:
        lo, hi = max(since, day) - day, min(until, day + DAY_US) - day
        for d in source_days(from_us(day).astimezone(HANOI).date(), working_days):
            start = _midnight(d)
            ranges.append((start + lo, start + hi))
        day += DAY_US
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def days_beginning(since: int, until: int) -> list[tuple[date, int]]:
    """The Hanoi days whose midnight is in ``[since, until)``, with that midnight (UTC µs)."""
    out = []
    day = day_start_us(since)
    if day < since:
        day += DAY_US
    while day < until:
        out.append((from_us(day).astimezone(HANOI).date(), day))
        day += DAY_US
    return out


def listing_decision_days(day: date, rules: TimeRules) -> list[date]:
    """The decision dates whose listing falls due on ``day`` under one of the allowances."""
    return sorted({d for n in rules.listing_days for d in source_days(day, n)})
