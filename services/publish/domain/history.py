"""A unit's results over consecutive periods (the trend of a dashboard's unit page), and ranks
compared with the period before (a ranking's rank changes). Plain values; storage counts the ranks
(``services.publish.storage.live_history``), this module checks the request and assembles the answer.

Decided where the issue is silent:

* The range is ``count`` consecutive periods of one kind ending with ``end`` (default: the period
  of that kind running now, in Asia/Ho_Chi_Minh; default kind: month; default count 12, at most 60).
  Consecutive year-to-dates are those of consecutive years. A range never ends in a period that has
  not started (INVALID_ARGUMENT): there is nothing to show there.
* Every period of the range is answered, with or without a scorecard, so a chart has its 12 points
  and shows a gap where the unit had no data.
* A live rank compares the unit with its peers: the units of the same kind under the same parent
  with a live scorecard of the same period and scope (the 34 provinces; the ministries; a province's
  departments; a province's communes). An official rank is the one in the publication revision the
  scorecard comes from.
* The previous rank of a ranking row is the unit's rank in the ranking of the same units (kind,
  parent, feed) for the period before (``PeriodRef.previous``); absent when it was not ranked then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.publish.domain.documents import MONTH, PERIOD_KINDS, PeriodRef
from services.shared.errors import InvalidArgument

DEFAULT_COUNT = 12
MAX_COUNT = 60


@dataclass(frozen=True)
class HistoryPoint:
    """One period of a unit's history: its PublishedScorecard document (None when there is none),
    its rank among its peers (None when unranked) and how many were ranked."""

    period: PeriodRef
    document: Mapping[str, Any] | None
    rank: int | None
    ranked_count: int


def history_range(end: PeriodRef | None, kind: int, count: int, now: datetime) -> list[PeriodRef]:
    """The periods asked for, oldest first. ``end``/``kind``/``count`` as the request gave them
    (None/0/0 when unset)."""
    if count < 0 or count > MAX_COUNT:
        raise InvalidArgument.for_field("period_count", f"from 1 to {MAX_COUNT} (default {DEFAULT_COUNT})",
                                        reason="BAD_PERIOD_COUNT")
    if kind and kind not in PERIOD_KINDS:
        raise InvalidArgument.for_field("period_kind", "not a period kind", reason="BAD_PERIOD")
    if end is None:
        end = PeriodRef.running(kind or MONTH, now)
    elif kind and kind != end.kind:
        raise InvalidArgument.for_field("period_kind", "differs from end_period's kind; give one of them",
                                        reason="PERIOD_KIND_MISMATCH")
    if end.start > now:
        raise InvalidArgument.for_field("end_period", f"{end.key} has not started", reason="PERIOD_NOT_STARTED")
    return end.ending_range(count or DEFAULT_COUNT)


def competition_ranks(totals: Iterable[tuple[str, int | None]]) -> dict[str, int]:
    """Ranks on shown totals in hundredths, ties sharing a rank (1, 2, 2, 4); units whose total is
    None are not ranked.

    >>> competition_ranks([("A", 8024), ("B", 9000), ("C", 8024), ("D", 7000), ("E", None)])
    {'B': 1, 'A': 2, 'C': 2, 'D': 4}
    """
    ordered = sorted(((c, t) for c, t in totals if t is not None), key=lambda ct: (-ct[1], ct[0]))
    out: dict[str, int] = {}
    previous: int | None = None
    for position, (code, total) in enumerate(ordered, start=1):
        out[code] = out[ordered[position - 2][0]] if previous == total else position
        previous = total
    return out


def with_previous_ranks(ranking: Mapping[str, Any], previous: Mapping[str, int]) -> dict:
    """The ranking document with each entry's ``previousRank`` where the unit was ranked before."""
    doc = dict(ranking)
    entries = []
    for entry in ranking.get("entries", []):
        entry = dict(entry)
        before = previous.get(entry.get("unit", {}).get("code", ""))
        if before is not None:
            entry["previousRank"] = before
        entries.append(entry)
    if entries:
        doc["entries"] = entries
    return doc
