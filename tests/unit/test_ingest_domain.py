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


# --------------------------------------------------------------------------- units: hierarchy and grants

from datetime import date  # noqa: E402

from services.ingest.domain import (  # noqa: E402
    SPECS,
    Directory,
    Outcome,
    RecordKind,
    UnitEntry,
    UnitIn,
    judge,
)

# ministry, agency, social security, province, department, commune, district, other
M, A, S, P, D, C, H, OTHER = range(1, 9)
# Where a unit may sit, as README and ingest.proto state it (None: at the top).
WHERE = {
    M: {None}, A: {None}, S: {None}, P: {None},
    D: {M, A, S, P, D, H},
    C: {P, H},
    H: {P},
    OTHER: {None, M, A, S, P, D, C, H, OTHER},
}  # fmt: skip


def unit(code, kind, parent=None, merged_into=None, t=NOW - DAY) -> UnitIn:
    return UnitIn(code, "Đơn vị", kind, parent, None, None, merged_into, date(2026, 1, 1) if merged_into else None, t)


def judge_units(records, directory, grant):
    return judge(SPECS[RecordKind.UNIT], records, directory=directory, grant_roots=frozenset(grant), now_us=NOW)


def test_every_kind_sits_only_where_the_hierarchy_allows():
    for kind in range(1, 9):
        for parent_kind in [None, *range(1, 9)]:
            directory = Directory({"PARENT": UnitEntry(None, parent_kind or P)}, {})
            record = unit("CHILD", kind, "PARENT" if parent_kind else None)
            verdict = judge_units([record], directory, ["*"])[0]
            assert (verdict is None) == (parent_kind in WHERE[kind]), (kind, parent_kind, verdict)
            if verdict is not None:
                assert verdict.outcome is Outcome.INVALID
                assert verdict.violations[0].field == "parent_code"


WORLD = Directory({
    "H25": UnitEntry(None, P), "H25.01": UnitEntry("H25", D), "H25.X1": UnitEntry("H25", C),
    "H01": UnitEntry(None, P), "H01.01": UnitEntry("H01", D), "H01.X1": UnitEntry("H01", C, "H01.01"),
    "B01": UnitEntry(None, M),
}, {"1.004227": "H25"})  # fmt: skip
POOL = [*WORLD.units, "H25.N1", "H25.N2", "H01.N3", "N4"]


@st.composite
def unit_batches(draw) -> list[UnitIn]:
    out = []
    for _ in range(draw(st.integers(1, 8))):
        code = draw(st.sampled_from(POOL))
        parent = draw(st.one_of(st.none(), st.sampled_from(POOL)))
        merged_into = draw(st.one_of(st.none(), st.none(), st.sampled_from(POOL)))
        t = NOW - draw(st.integers(1, 5)) * DAY
        out.append(unit(code, draw(st.integers(1, 8)), parent if parent != code else None,
                        merged_into if merged_into != code else None, t))
    return out


def _chain(units: dict[str, UnitEntry], code: str) -> list[str]:
    out = []
    while code is not None:
        assert code not in out, f"cycle through {code}"
        out.append(code)
        code = units[code].parent if code in units else None
    return out


@settings(max_examples=1500, deadline=None)
@given(unit_batches())
def test_a_province_source_changes_nothing_outside_its_subtree_whatever_it_sends(batch):
    """Whatever units a source granted H25 sends, in any order: every unit it changes was in H25's
    subtree (or new), is there afterwards with its successor, sits where the hierarchy allows, and is
    no new top-level unit; no cycle appears."""
    verdicts = judge_units(batch, WORLD, ["H25"])
    newest: dict[str, UnitIn] = {}
    for r, v in zip(batch, verdicts, strict=True):
        if v is None and (r.code not in newest or r.source_time > newest[r.code].source_time):
            newest[r.code] = r
    for r in newest.values():
        assert r.code not in WORLD.units or "H25" in WORLD.ancestors(r.code), r
    after = dict(WORLD.units)
    after.update({c: UnitEntry(r.parent_code, r.kind, r.merged_into_code) for c, r in newest.items()})
    for code, r in newest.items():
        assert "H25" in _chain(after, code), r
        if r.merged_into_code:
            assert "H25" in _chain(after, r.merged_into_code), r
        parent_kind = after[r.parent_code].kind if r.parent_code else None
        assert parent_kind in WHERE[r.kind], r
        if r.parent_code is None:
            assert code == "H25" and r.kind == P, r
    for code in after:
        _chain(after, code)
    # refusals name the field that is at fault
    for v in verdicts:
        if v is not None and v.outcome is Outcome.PERMISSION_DENIED:
            assert v.violations[0].field in ("code", "parent_code", "merged_into_code", "kind")
