"""Early warning (SPEC §4.4): which unfinished dossiers turn late soon, what they would cost, what to do.

Pure Python, no I/O. The points come from the one rule engine: the caller passes ``score_with``, which
scores the scope's counts with some of the at-risk dossiers counted late (see :func:`turned_late`) — the
same measures and engine as a scorecard, never a second formula.

* **Horizon.** A dossier is at risk when it is unfinished, its deadline has not passed (a deadline equal
  to now has not passed, as in :mod:`timing`) and at most ``N`` working days lie between today and its
  due date: ``working_days_between(today, due date) <= N``, i.e. due before the ``N+1``-th working day
  after today. Friday 28 August 2026 with ``N = 2``: the weekend, the day off substituted for Saturday
  22 August and the two days of National Day are not working days, so Thursday 3 September is the first
  working day after it, Friday 4 the second, and the horizon ends at Monday 7 September 00:00.
* **Cost.** What the period's live total loses if the dossier alone turns late.
* **No lateness policy.** A rule version that names none judges no dossier late: nothing is at risk,
  the projection is the scorecard as it stands, and the answer says why (:func:`nothing_at_risk`).
* **Finish first.** The fewest dossiers that, finished in time, keep the band of the total if none turns
  late, while every other at-risk dossier turns late. Dossiers are taken in the order of the list: most
  points at stake first (a dossier already rated dissatisfied or petitioned about costs 5.4 nothing more
  when late, so it comes after one that does), then soonest due. The score is monotone in the set of
  late dossiers and a dossier of a higher cost dominates one of a lower, so the first K of this order is
  a fewest set; K is found by bisection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from services.scoring.domain.cells import Policy
from services.scoring.domain.engine import Scorecard
from services.scoring.domain.workdays import add_working_days, working_days_between

DEFAULT_WORKING_DAYS = 2
MAX_WORKING_DAYS = 30
#: Why nothing can be at risk under a rule version whatever the data: it names no lateness policy, so
#: (the rule book checks this when it loads the version) no indicator of it judges a dossier late.
NO_LATENESS_POLICY = "NO_LATENESS_POLICY"


def nothing_at_risk(version: str, policy: Policy | None) -> tuple[str, str]:
    """``(code, Vietnamese reason)`` when a rule version can have no dossier at risk, else ``("", "")``.

    Decided (issue 19): asked for the at-risk list under such a version, an official gets an empty list
    that says why, and the projection of the live scorecard as it stands — not an error, since the
    question has a true answer ("nothing here can cost points by turning late"), and a watch list or an
    alert rule over many units keeps working."""
    if policy is not None:
        return "", ""
    return NO_LATENESS_POLICY, (f"Phiên bản quy tắc {version} không xét hồ sơ trễ hạn: hồ sơ quá hạn không làm "
                                "mất điểm, nên không có hồ sơ nào sắp quá hạn cần xử lý trước.")


@dataclass(frozen=True)
class Horizon:
    """Today (Hanoi) and the first day past the horizon (exclusive)."""

    today: date
    end: date
    working_days: int

    @classmethod
    def of(cls, today: date, working_days: int) -> Horizon:
        return cls(today, add_working_days(today, working_days + 1), working_days)

    def day_keys(self) -> tuple[int, int]:
        """``yyyymmdd`` keys of today (inclusive) and of the end (exclusive), as scoring's cells keep
        deadline days."""
        return _key(self.today), _key(self.end)

    def working_days_left(self, due_day: date) -> int:
        return max(0, working_days_between(self.today, due_day))


def _key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


@dataclass(frozen=True)
class Candidate:
    """An unfinished dossier whose deadline falls within the horizon."""

    source_id: str
    code: str
    unit_code: str
    procedure_code: str
    deadline: datetime
    due_day: date  # the deadline's Hanoi date
    #: rated dissatisfied or petitioned about already: late or not, it counts against 5.4
    dissatisfied: bool

    @property
    def record_key(self) -> str:
        return f"{self.source_id}/{self.code}"


def turned_late(sums: Mapping[str, int], late: int, late_not_dissatisfied: int, policy: Policy) -> dict[str, int]:
    """The scope's dossier sums (``cells.unit_cell_sums``) with ``late`` of its unfinished, not yet late
    dossiers counted late, ``late_not_dissatisfied`` of them not rated dissatisfied or petitioned about:
    what the sums are at a moment past their deadlines, nothing else having changed. ``policy``: the
    rule version's lateness policy, whose sums move."""
    out = dict(sums)
    out[policy.late_unf] = out.get(policy.late_unf, 0) + late
    out[policy.dpl] = out.get(policy.dpl, 0) + late_not_dissatisfied
    return out


@dataclass(frozen=True)
class Costed:
    candidate: Candidate
    cost: Fraction
    working_days_left: int
    finish_first: bool = False


@dataclass(frozen=True)
class GroupTotal:
    key: str
    dossiers: int
    cost: Fraction


@dataclass(frozen=True)
class Projection:
    none_late: Scorecard
    all_late: Scorecard
    finish_first: int
    if_finish_first: Scorecard


@dataclass(frozen=True)
class AtRisk:
    horizon: Horizon
    dossiers: tuple[Costed, ...]
    by_unit: tuple[GroupTotal, ...]
    by_procedure: tuple[GroupTotal, ...]
    projection: Projection


ScoreWith = Callable[[int, int], Scorecard]


def assess(horizon: Horizon, candidates: Sequence[Candidate], score_with: ScoreWith) -> AtRisk:
    """Cost, order, group and project ``candidates``. ``score_with(late, late_not_dissatisfied)`` is the
    period's scorecard with that many of them counted late (memoised here: it depends on the two
    numbers only)."""
    cache: dict[tuple[int, int], Scorecard] = {}

    def card(late: int, late_nd: int) -> Scorecard:
        key = (late, late_nd)
        if key not in cache:
            cache[key] = score_with(late, late_nd)
        return cache[key]

    base = card(0, 0)

    def cost_of(group: Sequence[Candidate]) -> Fraction:
        return base.total - card(len(group), sum(1 for c in group if not c.dissatisfied)).total

    costed = [Costed(c, cost_of([c]), horizon.working_days_left(c.due_day)) for c in candidates]
    costed.sort(key=lambda x: (-x.cost, x.candidate.deadline, x.candidate.unit_code, x.candidate.record_key))
    n = len(costed)
    # suffix[k] = dossiers not dissatisfied among costed[k:]
    suffix = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + (not costed[i].candidate.dissatisfied)
    keep = base.classification.code

    def keeps(k: int) -> bool:  # the band holds if the first k are finished and the others turn late
        return card(n - k, suffix[k]).classification.code == keep

    lo, hi = 0, n  # keeps(n) holds: nothing late is the base itself
    while lo < hi:
        mid = (lo + hi) // 2
        if keeps(mid):
            hi = mid
        else:
            lo = mid + 1
    ordered = tuple(Costed(x.candidate, x.cost, x.working_days_left, i < lo) for i, x in enumerate(costed))
    projection = Projection(none_late=base, all_late=card(n, suffix[0]), finish_first=lo,
                            if_finish_first=card(n - lo, suffix[lo]))
    return AtRisk(horizon, ordered, _groups(costed, lambda c: c.unit_code, cost_of),
                  _groups(costed, lambda c: c.procedure_code, cost_of), projection)


def _groups(costed: Sequence[Costed], key: Callable[[Candidate], str],
            cost_of: Callable[[Sequence[Candidate]], Fraction]) -> tuple[GroupTotal, ...]:
    groups: dict[str, list[Candidate]] = {}
    for x in costed:
        groups.setdefault(key(x.candidate), []).append(x.candidate)
    return tuple(GroupTotal(k, len(v), cost_of(v)) for k, v in sorted(groups.items()))
