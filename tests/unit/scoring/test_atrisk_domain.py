"""Early warning's pure parts: the working-day horizon and the fewest dossiers to finish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction as F

from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.atrisk import Candidate, Horizon, assess, turned_late
from services.scoring.domain.cells import DUE_TIME, STATUTORY_LIMIT
from services.scoring.domain.periods import HANOI


def test_horizon_across_a_weekend_a_substituted_day_off_and_national_day():
    h = Horizon.of(date(2026, 8, 28), 2)  # Friday
    assert h.end == date(2026, 9, 7)  # Thu 3 and Fri 4 September are the two working days
    assert h.day_keys() == (20260828, 20260907)
    assert [h.working_days_left(date(2026, 8, d)) for d in (28, 29, 30, 31)] == [0, 0, 0, 0]
    assert [h.working_days_left(date(2026, 9, d)) for d in (1, 2, 3, 4, 5, 6, 7)] == [0, 0, 1, 2, 2, 2, 3]


def test_turned_late_moves_counters_of_the_rule_versions_policy_only():
    sums = {"n": 10, "late_due_unf": 1, "dpl_due": 2, "late_stat_unf": 1, "dpl_stat": 2}
    assert turned_late(sums, 3, 2, DUE_TIME) == {**sums, "late_due_unf": 4, "dpl_due": 4}
    assert turned_late(sums, 3, 2, STATUTORY_LIMIT) == {**sums, "late_stat_unf": 4, "dpl_stat": 4}


@dataclass(frozen=True)
class Band:
    code: str


@dataclass(frozen=True)
class Card:
    total: F
    classification: Band


def fake_engine(n: int, base: F, per_late: F, per_not_dissatisfied: F):
    """A monotone stand-in for the rule engine: points lost per late dossier, more for one not yet
    counted against 5.4; bands every 10 points."""

    def score_with(late: int, late_nd: int) -> Card:
        total = base - per_late * late - per_not_dissatisfied * late_nd
        return Card(total, Band(str(max(0, int(total // 10)))))

    return score_with


def candidates(flags: list[bool]) -> list[Candidate]:
    t = datetime(2026, 9, 3, 9, tzinfo=HANOI)
    return [Candidate("src", f"c{i}", "U", "P", t + timedelta(hours=i), t.date(), dissatisfied)
            for i, dissatisfied in enumerate(flags)]


@given(st.lists(st.booleans(), max_size=12), st.fractions(min_value=40, max_value=100),
       st.fractions(min_value=0, max_value=3), st.fractions(min_value=0, max_value=3))
def test_finish_first_is_the_fewest_that_keep_the_band(flags, base, per_late, per_nd):
    engine = fake_engine(len(flags), base, per_late, per_nd)
    result = assess(Horizon.of(date(2026, 8, 28), 2), candidates(flags), engine)
    keep = engine(0, 0).classification
    # brute force over every subset size: the fewest finished (any choice) that keep the band
    n, nd = len(flags), sum(not f for f in flags)
    fewest = min(k for k in range(n + 1)
                 if any(engine(n - k, nd - finished_nd).classification == keep
                        for finished_nd in range(max(0, k - (n - nd)), min(k, nd) + 1)))
    assert result.projection.finish_first == fewest
    assert [x.finish_first for x in result.dossiers] == [i < fewest for i in range(n)]
    assert result.projection.if_finish_first.classification == keep
    costs = [x.cost for x in result.dossiers]
    assert costs == sorted(costs, reverse=True)
