"""Aggregate cells read back at any moment give what judging each dossier directly gives.

Three ways to count one dossier as of an evaluation moment E must agree: ``timing.classify_dossier``
(the rule, written plainly), ``cells.row_contribution`` (exact instants, used for the rows a month
cannot place) and the cell path (``contribution`` → ``resolve`` → ``unit_cell_sums``, what scoring
reads for almost every dossier).
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.domain import cells as C
from services.scoring.domain.periods import HANOI
from services.scoring.domain.timing import classify_dossier

H = 3600 * C.US
BASE = C.to_us(datetime(2026, 1, 1, tzinfo=HANOI))
YEAR = 365 * 24 * H


@st.composite
def dossier_and_moment(draw):
    received = BASE + draw(st.integers(0, YEAR))
    due = None if draw(st.booleans()) and draw(st.booleans()) else received + draw(st.integers(0, 60 * 24)) * H
    finished = draw(st.booleans())
    end = received + draw(st.integers(0, 90 * 24 * H)) if finished else None
    supplements = draw(st.sampled_from([0, 0, 1, 1, 2, 3]))
    last_supplement = received + draw(st.integers(0, 30 * 24 * H)) if supplements else None
    state = 0 if finished else draw(st.sampled_from([1, 2, 3] if supplements else [1, 3]))
    flags = draw(st.integers(0, (1 << 14) - 1))
    row = C.DossierRow(
        source_id="src", code="D1", unit_code="U", procedure_code="P", channel=draw(st.sampled_from([1, 2, 3])),
        received_at=received, due_at=due, started_at=draw(st.one_of(st.none(), st.just(received + 2 * H))),
        end_at=end, end_state=1 if finished else 0, processing_state=state, supplement_count=supplements,
        last_supplement_at=last_supplement,
        applicant_supplement_seconds=draw(st.sampled_from([0, 0, 3600, 86400 * 3])),
        fee_amount=draw(st.sampled_from([0, 0, 50_000])), payment_channel=draw(st.sampled_from([0, 1, 2])),
        rating=draw(st.sampled_from([0, 1, 2, 3])), flags=flags, source_time=received,
    )  # fmt: skip
    statutory = draw(st.sampled_from([0, 1, 5, 20]))
    # the period: 1–12 months starting in 2026; E: its end, or a moment inside it
    m1 = 202600 + draw(st.integers(1, 12))
    length = draw(st.integers(1, 12))
    m2 = m1
    for _ in range(length - 1):
        m2 = C.next_month(m2) if m2 < 202712 else m2
    start, end_of_period = C.month_start_us(m1), C.month_start_us(C.next_month(m2))
    kind = draw(st.sampled_from(["end", "inside_live", "inside_past", "boundary"]))
    if kind == "end":
        e, now = end_of_period, end_of_period + draw(st.integers(0, YEAR))
    elif kind == "boundary":
        e = C.month_start_us(m2)
        now = e + draw(st.integers(1, YEAR))
    else:
        e = start + draw(st.integers(1, end_of_period - start - 1))
        now = e if kind == "inside_live" else e + draw(st.integers(1, YEAR))
    return row, statutory, C.Window.of(m1, m2, e, now)


def _live_consistent(row: C.DossierRow, w: C.Window) -> bool:
    """A live moment is 'now': nothing stored happened after it."""
    if not w.live:
        return True
    started = row.started_at if row.started_at is not None else row.received_at
    ended = [row.end_at, row.last_supplement_at]
    return row.received_at < w.e_us and started < w.e_us and all(t is None or t <= w.e_us for t in ended)


def _dt(us):
    return None if us is None else datetime(1970, 1, 1, tzinfo=UTC) + (C.from_us(us) - C.from_us(0))


@settings(max_examples=3000, deadline=None)
@given(dossier_and_moment())
def test_exact_row_counts_follow_the_plain_rule(case):
    row, statutory, w = case
    part = C.row_contribution(row, statutory, w)
    if part is None:
        return
    for policy in C.POLICIES:
        outcome = classify_dossier(
            received_at=_dt(row.received_at),
            due_at=_dt(row.due_at),
            finished_at=_dt(row.end_at),
            supplement_count=row.supplement_count,
            last_supplement_at=_dt(row.last_supplement_at),
            waiting_supplement=row.processing_state == 2,
            unlawful_pause=bool(row.flags & 1),
            as_of=_dt(w.e_us),
            statutory_days=(statutory or None) if policy.statutory_limit and row.due_at is None else None,
            applicant_supplement_seconds=row.applicant_supplement_seconds,
        )
        late = part.get(policy.late_fin, 0) + part.get(policy.late_unf, 0)
        assert late == (0 if outcome.on_time else 1), (policy, outcome, part)


@settings(max_examples=3000, deadline=None)
@given(dossier_and_moment())
def test_cells_read_back_equal_the_exact_row_counts(case):
    row, statutory, w = case
    if not _live_consistent(row, w):
        return
    c = C.contribution(row, statutory)
    r = C.resolve(w, c.rm, c.em, c.sm, c.dm_due, c.dm_stat)
    exact = C.row_contribution(row, statutory, w)
    if r.ambiguous:
        return  # scoring resolves these from the rows, i.e. with row_contribution itself
    assert r.included == (exact is not None)
    if exact is None:
        return
    counts = {name: 1 if c.bits & C.BIT[name] else 0 for name in C.UNIT_COUNTERS}
    from_cell = {k: v for k, v in C.unit_cell_sums(r, counts).items() if v}
    assert from_cell == {k: v for k, v in exact.items() if v}


def test_ambiguity_is_rare_for_a_live_moment():
    """A live moment only needs rows for unfinished dossiers whose deadline falls on E's own day."""
    e = C.to_us(datetime(2026, 8, 15, 12, tzinfo=HANOI))
    w = C.Window.of(202608, 202608, e, e)
    r = C.resolve(w, 202608, 202608, 202608, 20260800, 20260800)
    assert r.finished and not r.ambiguous  # finished this month: its final verdict
    r = C.resolve(w, 202608, C.OPEN, 202608, 20260820, 20260820)
    assert not r.ambiguous and not r.late[0]  # due on the 20th: on time now
    r = C.resolve(w, 202608, C.OPEN, 202608, 20260810, 20260714)
    assert not r.ambiguous and r.late == (True, True)  # due earlier: late
    assert C.resolve(w, 202608, C.OPEN, 202608, 20260815, 20260816).ambiguous  # due today: rows decide
    assert not C.resolve(w, 202608, C.OPEN, 202608, C.NEVER, C.ALWAYS).ambiguous


def test_the_cell_tables_have_a_column_per_counter():
    from services.scoring import tables

    assert set(C.UNIT_COUNTERS) <= set(tables.score_cells.c.keys())
    assert set(C.PROC_COUNTERS) <= set(tables.score_proc_cells.c.keys())
