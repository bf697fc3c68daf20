"""The due ticker announces exactly the scorecards time re-judges (``services.scoring.due``).

1. For one dossier: between two live moments ``t1 < t2`` of a running period, with nothing recorded
   after ``t1``, what the dossier counts changes if and only if its deadline instant
   (``Contribution.deadline_at``) is in ``[t1, t2)`` — whatever the rule version's policy, with or
   without a due time, supplements, unlawful pauses, finished or not.
2. Over a real store (SQLite): for random dossiers of a few units and a random sequence of ticks in a
   month, each tick announces exactly the (unit, month) whose live sums as of the previous tick and
   as of this one differ.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from services.scoring.domain import cells as C
from services.scoring.domain.periods import HANOI
from services.scoring.storage import Aggregates
from services.scoring.tables import (
    score_cells,
    score_changes,
    score_dossiers,
    score_durations,
    score_proc_cells,
    score_progress,
)
from services.shared.db import Database, migrate
from tests.unit.scoring.test_cells import H, dossier_and_moment


def _settled(row: C.DossierRow) -> int:
    """Just after the last stored instant of the row (a live moment: nothing happens after it)."""
    return 1 + max(t for t in (row.received_at, row.started_at, row.end_at, row.last_supplement_at) if t is not None)


def _live(m1: int, m2: int, e: int) -> C.Window:
    return C.Window.of(m1, m2, e, e)


@settings(max_examples=3000, deadline=None)
@given(dossier_and_moment(), st.integers(0, 20 * 24 * H), st.integers(1, 20 * 24 * H), st.booleans())
def test_a_dossier_counts_differently_only_across_its_deadline(case, gap, step, near):
    row, statutory, _ = case
    deadline = C.contribution(row, statutory).deadline_at
    t1 = _settled(row) + gap
    if near and deadline is not None:  # often right around the deadline
        t1 = max(_settled(row), deadline - step // 2)
    t2 = t1 + step
    m1, m2 = C.month_of(t1), C.month_of(t2)  # a running period holding both moments (a quarter, a year)
    before = C.row_contribution(row, statutory, _live(m1, m2, t1))
    after = C.row_contribution(row, statutory, _live(m1, m2, t2))
    crossed = deadline is not None and t1 <= deadline < t2
    assert (before != after) == crossed, (before, after, deadline, t1, t2)
    if deadline is not None:  # the instant both policies' day keys come from
        assert row.end_at is None
        assert C.day_of(deadline) in (row_keys := C.contribution(row, statutory)[5:7]) or C.NEVER in row_keys


MONTH_START = C.to_us(datetime(2026, 11, 1, tzinfo=HANOI))
UNITS = ("U1", "U2", "U3")


@st.composite
def store_and_ticks(draw):
    """Dossiers received in October/early November, due over November; ticks over November."""
    rows = []
    for i in range(draw(st.integers(1, 12))):
        received = MONTH_START - draw(st.integers(1, 40 * 24)) * H
        due = None if draw(st.integers(0, 4)) == 0 else MONTH_START + draw(st.integers(0, 28 * 24 * 60)) * 60 * C.US
        finished = draw(st.integers(0, 4)) == 0
        supplements = draw(st.sampled_from([0, 0, 0, 1, 2]))
        rows.append(C.DossierRow(
            source_id="src", code=f"D{i}", unit_code=draw(st.sampled_from(UNITS)), procedure_code="P", channel=1,
            received_at=received, due_at=due, started_at=None,
            end_at=received + H if finished else None, end_state=1 if finished else 0,
            processing_state=0 if finished else draw(st.sampled_from([1, 2, 3] if supplements else [1, 3])),
            supplement_count=supplements, last_supplement_at=received + H if supplements else None,
            applicant_supplement_seconds=0, fee_amount=0, payment_channel=0, rating=0, flags=0, source_time=received,
        ))  # fmt: skip
    first = MONTH_START + draw(st.integers(0, 3 * 24)) * H
    ticks = sorted({first + draw(st.integers(0, 25 * 24 * 60)) * 60 * C.US for _ in range(draw(st.integers(1, 8)))})
    return rows, draw(st.sampled_from([0, 5, 20])), first, ticks


def _sums(rows, statutory: int, e: int) -> dict[str, dict[str, int]]:
    w = _live(202611, 202611, e)
    out: dict[str, dict[str, int]] = {u: {} for u in UNITS}
    for row in rows:
        part = C.row_contribution(row, statutory, w)
        if part is not None:
            C.add_into(out[row.unit_code], part)
    return out


def test_each_tick_announces_exactly_the_scorecards_that_changed(tmp_path):
    url = f"sqlite:///{tmp_path / 'due.db'}"
    migrate(url)
    db = Database(url)
    aggregates = Aggregates(db)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(store_and_ticks())
    def check(case):
        rows, statutory, first, ticks = case
        with db.write() as conn:
            for table in (score_cells, score_proc_cells, score_durations, score_dossiers, score_changes,
                          score_progress):
                conn.execute(delete(table))
            aggregates._move(conn, rows, {"P": statutory})
        aggregates.tick_due(lambda: first)  # the first tick ever (covers the day before it)
        previous = first
        for now in ticks:
            if now == previous:
                continue
            seen = max((change[0] for change in aggregates.changes(0, 10_000)), default=0)
            aggregates.tick_due(lambda now=now: now)
            written = [change[1:3] for change in aggregates.changes(seen, 10_000)]
            announced = set(written)
            assert len(written) == len(announced)  # each once
            before, after = _sums(rows, statutory, previous), _sums(rows, statutory, now)
            changed = {(u, 202611) for u in UNITS if before[u] != after[u]}
            assert announced == changed, (previous, now, announced, changed)
            previous = now

    try:
        check()
    finally:
        db.dispose()
