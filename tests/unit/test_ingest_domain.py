"""Ingest's domain without servers: the fast and the detailed dossier checks agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.domain import (
    DEFAULT_SKEW_US,
    DUE_HORIZON_US,
    EARLIEST_US,
    Checker,
    DossierIn,
    check_dossier,
    check_dossier_in_detail,
    dossier_is_clean,
    month_of,
)

NOW = 1_790_000_000_000_000  # 2026-09-21T12:53:20Z, in microseconds
DAY = 86_400_000_000

instant = st.one_of(st.none(), st.integers(NOW - 30 * DAY, NOW + 30 * DAY),
                    st.sampled_from([0, EARLIEST_US - 1, EARLIEST_US, NOW, NOW + DEFAULT_SKEW_US,
                                     NOW + DEFAULT_SKEW_US + 1, NOW + 15 * 60_000_000]))
code = st.one_of(st.sampled_from(["HS-1", "hs-1", "H25.01", "h25.01", "1.004227", "", "x" * 64, "X" * 64, "x" * 65,
                                  "a b", "Sở"]),
                 st.text(max_size=70))
enum = st.integers(-1, 6)


def around(*limits: int):
    """Integers with the values at and next to each limit drawn often."""
    edges = sorted({v + d for v in limits for d in (-1, 0, 1)})
    return st.one_of(st.sampled_from(edges), st.integers(min(edges), max(edges)))


@st.composite
def dossiers(draw) -> DossierIn:
    return DossierIn(
        draw(code), draw(code), draw(code), draw(enum), draw(instant), draw(instant), draw(instant),
        draw(instant), draw(enum), draw(enum), draw(around(0, 1, 1000)), draw(instant),
        draw(around(0, 10 * 365 * 86400)), draw(around(0, 10**15)), draw(enum), draw(enum),
        draw(st.integers(0, 1 << 14)), draw(instant),
    )


GOOD = DossierIn("HS-1", "H25.01", "1.004227", 1, NOW - 2 * DAY, NOW + 3 * DAY, None, None, 0, 1, 0, None, 0,
                 0, 0, 0, 0, NOW - DAY)


@st.composite
def near_good(draw) -> DossierIn:
    """A good record with one or two fields replaced: mostly clean, sometimes just over a limit."""
    fields = dict(GOOD._asdict())
    wild = draw(dossiers())._asdict()
    for name in draw(st.lists(st.sampled_from(DossierIn._fields), max_size=2)):
        fields[name] = wild[name]
    return DossierIn(**fields)


def test_the_good_record_is_clean():
    assert dossier_is_clean(GOOD, NOW)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(dossiers(), near_good()))
def test_fast_check_agrees_with_detailed_checks(r):
    detailed = Checker(NOW)
    check_dossier_in_detail(r, detailed)
    assert dossier_is_clean(r, NOW) == (not detailed.violations), detailed.violations
    combined = Checker(NOW)
    check_dossier(r, combined)
    assert combined.violations == detailed.violations


def test_months_are_hanoi_months():
    # 2026-07-31T17:00:00Z is 2026-08-01 00:00 in Hanoi; one microsecond earlier is still July.
    boundary = 1_785_517_200_000_000
    assert month_of(boundary) == 202608
    assert month_of(boundary - 1) == 202607


EDGES = [
    ("supplement_count", [-1, 0, 1, 1000, 1001]),
    ("applicant_supplement_seconds", [-1, 0, 10 * 365 * 86400, 10 * 365 * 86400 + 1]),
    ("fee_amount", [-1, 0, 10**15, 10**15 + 1]),
    ("channel", [0, 1, 3, 4]),
    ("rating", [-1, 0, 3, 4]),
    ("payment_channel", [-1, 0, 2, 3]),
    ("end_state", [-1, 0, 5, 6]),
    ("processing_state", [-1, 0, 3, 4]),
    ("received_at", [None, EARLIEST_US - 1, EARLIEST_US, NOW + DEFAULT_SKEW_US, NOW + DEFAULT_SKEW_US + 1]),
    ("source_time", [None, NOW + DEFAULT_SKEW_US, NOW + DEFAULT_SKEW_US + 1]),
    ("due_at", [None, NOW - 2 * DAY - 1, NOW - 2 * DAY, NOW - 2 * DAY + DUE_HORIZON_US,
                NOW - 2 * DAY + DUE_HORIZON_US + 1]),
    ("code", ["", "x" * 64, "x" * 65, "a b", "Sở", "hs-1"]),
    ("unit_code", ["h25.01", "H25.01", "H25 01"]),
    ("procedure_code", ["X" * 32, "X" * 33, "x"]),
]


def test_fast_and_detailed_checks_agree_at_every_limit():
    for name, values in EDGES:
        for value in values:
            r = GOOD._replace(**{name: value})
            detailed = Checker(NOW)
            check_dossier_in_detail(r, detailed)
            assert dossier_is_clean(r, NOW) == (not detailed.violations), (name, value, detailed.violations)
