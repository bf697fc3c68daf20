"""The rule engine, with every expected value worked out by hand from the rule tables' numbers."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.domain.engine import (
    Counts,
    ScoringInputError,
    Status,
    counts_from_measures,
    fmt,
    prev_year_counts,
    rank,
    score,
)
from services.scoring.domain.periods import Period
from services.scoring.domain.rules import RuleBook, parse_rule_table

BOOK = RuleBook.load_default()
V766 = BOOK.get("766/2022")
PORTAL = BOOK.get("portal/2025")
F = Fraction


def scored_ids(table):
    return {i.id for i in table.indicators if not i.is_analysis}


# --- every indicator, hand-worked -----------------------------------------------------------

# id: (numerator, denominator, expected points), under 766/2022 for 2024-08 (Resolution 76 stage).
CASES_766 = {
    "1.1": (7, 10, F("4.2")),  # linear: 6 × 7/10
    "1.2": (3, 4, F(3)),  # 4 × 3/4
    "1.3": (9, 10, F("1.8")),  # 2 × 9/10
    "1.4": (950, 1000, F("5.7")),  # 6 × 0.95
    "2.1": (180, 200, F(18)),  # 20 × 0.9
    "3.1": (60, 100, F("1.5")),  # 2 × min(1, 0.60/0.80) = 2 × 0.75
    "3.2": (30, 40, F(3)),  # 4 × 0.75
    "3.3": (30, 100, F("3.6")),  # 6 × min(1, 0.30/0.50) = 6 × 0.6
    "3.4": (5, 10, F(1)),  # 2 × 0.5
    "3.5": (9, 10, F(2)),  # 2 × min(1, 0.90/0.80) = 2
    "3.6": (40, 100, F("2.4")),  # 6 × 0.4
    "4.1": (80, 100, F("4.8")),  # 6 × 0.8
    "4.2": (60, 100, F(3)),  # 4 × min(1, 0.60/0.80) = 4 × 0.75
    "4.3": (25, 100, F("0.5")),  # 2 × 0.25
    "4.4": (1, 2, F(1)),  # 2 × 0.5
    "4.5": (3, 4, F(3)),  # 4 × 0.75
    "4.6": (4, 5, F("1.6")),  # 2 × 0.8
    "4.7": (1, 10, F("0.2")),  # 2 × 0.1
    "5.2": (9, 10, F("5.4")),  # 6 × 0.9
    "5.3": (2, 3, F(4)),  # 6 × 2/3
    "5.4": (81, 100, F("5.4")),  # 6 × min(1, 0.81/0.90) = 6 × 0.9
}
# Groups: I 4.2+3+1.8+5.7 = 14.7; II 18; III 1.5+3+3.6+1+2+2.4 = 13.5;
# IV 4.8+3+0.5+1+3+1.6+0.2 = 14.1; V 5.4+4+5.4 = 14.8; total 75.1 → Khá.

# Under portal/2025 for 2025-06.
CASES_PORTAL = {
    "1.1": (7, 10, F("4.2")),  # 6 × 0.7
    "1.2": (3, 4, F(3)),  # 4 × 0.75
    "1.3": (9, 10, F("1.8")),  # 2 × 0.9
    "1.4": (950, 1000, F("5.7")),  # 6 × 0.95
    "2.1": (180, 200, F(18)),  # 20 × 0.9
    "3.1": (60, 100, F("1.5")),  # 2 × min(1, 0.6/0.8)
    "3.2": (30, 40, F(3)),  # 4 × 0.75
    "3.3": (30, 100, F("3.42")),  # rate 0.30 × 0.95 (1.4) = 0.285; 6 × 0.285/0.5
    "4.1": (80, 100, F("4.8")),  # 6 × 0.8
    "4.2": (60, 100, F("2.4")),  # linear here: 4 × 0.6
    "4.3": (25, 100, F("0.625")),  # 2 × min(1, 0.25/0.8)
    "4.4": (1, 2, F(2)),  # full points whatever the rate
    "4.5": (3, 4, F(3)),  # 4 × 0.75
    "4.6": (4, 5, F("1.6")),  # 2 × 0.8
    "4.7": (1, 10, F("0.2")),  # 2 × 0.1
    "5.2": (9, 10, F("5.4")),  # 6 × 0.9
    "5.3": (2, 3, F(4)),  # 6 × 2/3
    "5.4": (81, 100, F("5.4")),  # 6 × min(1, 0.81/0.9)
    "6.1": (6, 10, F("1.5")),  # min(2, 2 × 0.6/0.8)
    "6.2": (9, 10, F(2)),  # min(2, 2 × 0.9/0.8)
    "6.3": (40, 100, F("2.4")),  # 6 × 0.4
}
# Groups: 1 14.7; 2 18; 3 1.5+3+3.42 = 7.92; 4 4.8+2.4+0.625+2+3+1.6+0.2 = 14.625; 5 14.8;
# 6 1.5+2+2.4 = 5.9; total 75.945 → shown 75.95 (half-up) → Khá.


def test_cases_cover_every_scored_indicator():
    assert set(CASES_766) == scored_ids(V766)
    assert set(CASES_PORTAL) == scored_ids(PORTAL)


def card(table, cases, period):
    return score(table, {i: Counts(n, d) for i, (n, d, _) in cases.items()}, Period.parse(period))


@pytest.mark.parametrize("indicator_id", sorted(CASES_766))
def test_each_indicator_766(indicator_id):
    result = card(V766, CASES_766, "2024-08").indicator(indicator_id)
    numerator, denominator, points = CASES_766[indicator_id]
    assert result.points == points
    assert (result.numerator, result.denominator) == (numerator, denominator)
    assert result.rate == F(numerator, denominator)
    assert result.status is Status.SCORED
    assert "no_data" not in result.flags


@pytest.mark.parametrize("indicator_id", sorted(CASES_PORTAL))
def test_each_indicator_portal(indicator_id):
    result = card(PORTAL, CASES_PORTAL, "2025-06").indicator(indicator_id)
    assert result.points == CASES_PORTAL[indicator_id][2]
    assert result.status is Status.SCORED


def test_scorecard_totals_766():
    scorecard = card(V766, CASES_766, "2024-08")
    assert scorecard.version == "766/2022"
    assert [(g.id, g.points) for g in scorecard.groups] == [
        ("1", F("14.7")),
        ("2", F(18)),
        ("3", F("13.5")),
        ("4", F("14.1")),
        ("5", F("14.8")),
    ]
    assert scorecard.total == F("75.1")
    assert scorecard.total_display == Decimal("75.10")
    assert (scorecard.classification.code, scorecard.classification.label) == ("FAIR", "Khá")


def test_scorecard_totals_portal():
    scorecard = card(PORTAL, CASES_PORTAL, "2025-06")
    assert [(g.id, g.points) for g in scorecard.groups] == [
        ("1", F("14.7")),
        ("2", F(18)),
        ("3", F("7.92")),
        ("4", F("14.625")),
        ("5", F("14.8")),
        ("6", F("5.9")),
    ]
    assert scorecard.total == F("75.945")
    assert scorecard.total_display == Decimal("75.95")
    assert scorecard.classification.label == "Khá"


def test_explanation_fields():
    result = card(PORTAL, CASES_PORTAL, "2025-06").indicator("3.3")
    assert result.name == "Tỷ lệ hồ sơ thủ tục hành chính nộp trực tuyến"
    assert (result.group, result.max, result.threshold) == ("3", 6, F(1, 2))
    assert (result.factor_indicator, result.factor) == ("1.4", F(95, 100))
    assert result.rate == F(285, 1000)
    assert result.points_display == Decimal("3.42")
    assert "fitted" in result.flags
    linear = card(PORTAL, CASES_PORTAL, "2025-06").indicator("4.2")
    assert linear.threshold == 1 and linear.kind == "linear"
    analysis = card(PORTAL, CASES_PORTAL, "2025-06").indicator("2.2")
    assert analysis.status is Status.ANALYSIS and analysis.points == 0 and analysis.rate is None


# --- totals at the band edges ---------------------------------------------------------------


def full_but_2_1(numerator, denominator):
    """766/2022: every indicator at 100% (80 points) except 2.1 (max 20)."""
    counts = {i: Counts(1, 1) for i in scored_ids(V766)}
    counts["2.1"] = Counts(numerator, denominator)
    return score(V766, counts, Period.parse("2024-Q3"))


@pytest.mark.parametrize(
    ("numerator", "denominator", "total", "shown", "code", "label"),
    [
        (1, 1, F(100), "100.00", "EXCELLENT", "Xuất sắc"),  # 80 + 20
        (1, 2, F(90), "90.00", "EXCELLENT", "Xuất sắc"),  # 80 + 20 × 1/2 = 90
        (1999, 4000, F("89.995"), "90.00", "EXCELLENT", "Xuất sắc"),  # 80 + 20 × 0.49975 = 89.995
        (4997, 10000, F("89.994"), "89.99", "GOOD", "Tốt"),  # 80 + 20 × 0.4997 = 89.994
        (0, 1, F(80), "80.00", "GOOD", "Tốt"),
    ],
)
def test_totals_at_the_excellent_edge(numerator, denominator, total, shown, code, label):
    scorecard = full_but_2_1(numerator, denominator)
    assert scorecard.total == total
    assert scorecard.total_display == Decimal(shown)
    assert (scorecard.classification.code, scorecard.classification.label) == (code, label)


def test_display_rounding_is_half_up_and_exact():
    assert fmt(F("89.995")) == Decimal("90.00")
    assert fmt(F("89.994999")) == Decimal("89.99")
    assert fmt(F(1, 3)) == Decimal("0.33")
    assert fmt(F(2, 3)) == Decimal("0.67")
    assert fmt(F("0.125")) == Decimal("0.13")
    assert fmt(F("0.005")) == Decimal("0.01")
    assert fmt(-F("0.005")) == Decimal("-0.01")
    assert fmt(100) == Decimal("100.00")
    assert str(fmt(F(0))) == "0.00"


# --- no denominator -------------------------------------------------------------------------


def test_no_data_na():
    result = score(V766, {"1.1": Counts(0, 0)}, Period.parse("2024-08")).indicator("1.1")
    assert result.status is Status.NA and result.points == 0 and result.rate is None
    assert "no_data" in result.flags


def test_no_data_zero():
    result = score(V766, {"2.1": Counts(0, 0)}, Period.parse("2024-08")).indicator("2.1")
    assert result.status is Status.SCORED and result.points == 0 and result.rate is None
    assert "no_data" in result.flags
    assert score(PORTAL, {}, Period.parse("2025-08")).indicator("5.4").points == 0


def test_no_data_full():
    scorecard = score(V766, {}, Period.parse("2024-08"))
    assert scorecard.indicator("5.2").points == 6 and scorecard.indicator("5.3").points == 6
    assert scorecard.indicator("5.2").status is Status.SCORED
    # An empty unit: 5.2 and 5.3 full (12); everything else N/A or 0.
    assert scorecard.total == 12 and scorecard.classification.label == "Yếu"
    # portal/2025 adds 4.4's full 2 points.
    assert score(PORTAL, {}, Period.parse("2025-08")).total == 14


@pytest.mark.parametrize(
    ("period", "as_of", "expected_denominator"),
    [
        ("2026-08", None, F(1200, 12)),  # month: last year's reported total ÷ 12 = 100
        ("2026-Q3", None, F(1200, 4)),  # quarter: ÷ 4 = 300
        ("2026", None, F(1200)),  # year: whole
        ("2026-YTD", datetime(2026, 8, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")), F(800)),  # 8 months: 1200 × 8/12
    ],
)
def test_no_data_previous_year_fallback(period, as_of, expected_denominator):
    scorecard = score(
        PORTAL, {"1.4": Counts(0, 0)}, Period.parse(period), prev_year={"1.4": Counts(1100, 1200)}, as_of=as_of
    )
    result = scorecard.indicator("1.4")
    assert result.denominator == expected_denominator
    assert result.numerator == 0 and result.rate == 0 and result.points == 0
    assert result.status is Status.SCORED
    assert {"no_data", "prev_year_fallback"} <= result.flags
    assert scorecard.as_of == as_of


def test_no_previous_year_gives_rate_zero():
    for prev in (None, {"1.4": Counts(0, 0)}):
        result = score(PORTAL, {"1.4": Counts(0, 0)}, Period.parse("2026-08"), prev_year=prev).indicator("1.4")
        assert result.rate == 0 and result.points == 0 and result.denominator == 0
        assert {"no_data", "no_prev_year"} <= result.flags and "prev_year_fallback" not in result.flags


def test_fallback_is_not_used_when_there_is_data():
    result = score(
        V766, {"1.4": Counts(90, 120)}, Period.parse("2024-08"), prev_year={"1.4": Counts(10, 1200)}
    ).indicator("1.4")
    assert result.denominator == 120 and result.points == F("4.5")  # 6 × 0.75
    assert "prev_year_fallback" not in result.flags


# --- group 6 and 3.3 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "z", "expected"),
    [
        ((4, 10), (10, 10), (5, 10), F(6)),  # min(2, 2×0.4/0.8)=1 + min(2, 2×1/0.8)=2 + 6×0.5=3
        ((9, 10), (2, 10), (0, 10), F("2.5")),  # 2 (capped from 2.25) + 2×0.2/0.8=0.5 + 0
        ((8, 10), (8, 10), (10, 10), F(10)),  # 2 + 2 + 6
        ((1, 10), (3, 10), (7, 100), F("1.42")),  # 2×0.1/0.8=0.25 + 2×0.3/0.8=0.75 + 6×0.07=0.42
        ((0, 0), (0, 0), (1, 4), F("1.5")),  # no denominators: X and Y add 0; 6×0.25
    ],
)
def test_group_6_formula(x, y, z, expected):
    counts = {"6.1": Counts(*x), "6.2": Counts(*y), "6.3": Counts(*z)}
    scorecard = score(PORTAL, counts, Period.parse("2026-Q2"))
    assert scorecard.group("6").points == expected
    assert scorecard.group("6").max == 10


def test_group_6_component_without_denominator_is_na():
    scorecard = score(PORTAL, {"6.1": Counts(0, 0), "6.3": Counts(1, 2)}, Period.parse("2026-Q2"))
    assert scorecard.indicator("6.1").status is Status.NA


@pytest.mark.parametrize(
    ("sync", "online", "expected"),
    [
        ((80, 100), (50, 100), F("4.8")),  # 0.5 × 0.8 = 0.4; 6 × 0.4/0.5
        ((100, 100), (50, 100), F(6)),  # 0.5 × 1 = 0.5 → full
        ((100, 100), (25, 100), F(3)),  # 0.25 → 6 × 0.5
        ((0, 0), (50, 100), F(0)),  # 1.4 has no data and no previous year: rate 0, so 3.3 scores 0
    ],
)
def test_3_3_is_multiplied_by_the_sync_rate(sync, online, expected):
    counts = {"1.4": Counts(*sync), "3.3": Counts(*online)}
    assert score(PORTAL, counts, Period.parse("2025-09")).indicator("3.3").points == expected


def test_3_3_of_766_is_not_multiplied():
    counts = {"1.4": Counts(50, 100), "3.3": Counts(50, 100)}
    result = score(V766, counts, Period.parse("2024-09")).indicator("3.3")
    assert result.points == 6 and result.factor is None


# --- threshold stages ----------------------------------------------------------------------


def test_threshold_after_2025_uses_the_last_stage_and_says_so():
    late = score(V766, {"3.3": Counts(30, 100)}, Period.parse("2026-08")).indicator("3.3")
    assert late.threshold == F(1, 2) and late.points == F("3.6")
    assert "threshold_carried_forward" in late.flags
    in_stage = score(V766, {"3.3": Counts(30, 100)}, Period.parse("2025-12")).indicator("3.3")
    assert "threshold_carried_forward" not in in_stage.flags


# --- data quality and measures ---------------------------------------------------------------


def test_counts_from_measures_and_the_no_report_flag():
    measures = {name: 0 for name in PORTAL.measures()}
    measures.update(
        dossiers_synchronised=90,
        dossiers_received=100,
        dossiers_reported=120,
        dossiers_finished_on_time_portal=70,
        dossiers_unfinished_within_due_portal=10,
        dossiers_late_petitioned_or_disliked_portal=20,
    )
    counts = counts_from_measures(PORTAL, measures)
    assert counts["1.4"] == Counts(90, 120)  # 90 / max(120, 90)
    assert counts["2.1"] == Counts(80, 100)  # (70 + 10) / 100
    assert counts["5.4"] == Counts(80, 100)  # (100 − 20) / 100
    assert "2.2" not in counts
    del measures["dossiers_reported"]
    counts = counts_from_measures(PORTAL, measures)
    assert counts["1.4"] == Counts(90, 90, frozenset({"no_report"}))
    result = score(PORTAL, counts, Period.parse("2025-09")).indicator("1.4")
    assert "data_quality:no_report" in result.flags and result.points == 6


def test_prev_year_counts_follow_each_version():
    last_year = {"dossiers_reported": 1200, "dossiers_synchronised": 1300}
    assert prev_year_counts(PORTAL, last_year) == {"1.4": Counts(1200, 1200)}  # reported total
    assert prev_year_counts(V766, last_year) == {"1.4": Counts(1300, 1300)}  # max(reported, synchronised)


def test_measures_are_checked():
    with pytest.raises(ScoringInputError, match="no measure 'dossiers_typo'"):
        counts_from_measures(PORTAL, {"dossiers_typo": 1})
    with pytest.raises(ScoringInputError, match="indicator 2.1: numerator 5 exceeds denominator 3"):
        counts_from_measures(V766, {"dossiers_on_time": 5, "dossiers_received": 3})
    with pytest.raises(ScoringInputError):
        counts_from_measures(V766, {"dossiers_on_time": -1})


# --- input errors -------------------------------------------------------------------------


def test_bad_input_is_refused():
    period = Period.parse("2025-09")
    with pytest.raises(ScoringInputError, match="no indicator '3.4'"):
        score(PORTAL, {"3.4": Counts(1, 1)}, period)  # 3.4 exists only in 766/2022
    with pytest.raises(ScoringInputError, match="analysis only"):
        score(PORTAL, {"2.2": Counts(1, 1)}, period)
    with pytest.raises(ScoringInputError, match="expected Counts"):
        score(PORTAL, {"2.1": (1, 2)}, period)
    with pytest.raises(ScoringInputError, match="no previous-year fallback"):
        score(PORTAL, {}, period, prev_year={"2.1": Counts(1, 2)})
    with pytest.raises(ScoringInputError, match="exceeds"):
        Counts(3, 2)
    with pytest.raises(ScoringInputError, match="negative"):
        Counts(-1, 2)
    with pytest.raises(ScoringInputError, match="whole number"):
        Counts(True, 2)


# --- composite and unscored indicators (engine support, on a custom table) -------------------

CUSTOM = """
id = "custom/1"
name = "Bảng thử nghiệm"
effective_from = 2030-01-01

[[groups]]
id = "1"
name = "Nhóm một"
max = 100

[[indicators]]
id = "1.1"
group = "1"
name = "Chỉ số tổng hợp"
max = 90
flags = ["composite"]

[[indicators.components]]
id = "A"
name = "Thành phần A"
max = 40
kind = "threshold"
numerator = "a"
denominator = "b"
no_data = "na"
threshold = [{ from = 2030-01-01, value = 0.8 }]

[[indicators.components]]
id = "B"
name = "Thành phần B"
max = 50
kind = "linear"
numerator = "c"
denominator = "b"
no_data = "na"

[[indicators]]
id = "1.2"
group = "1"
name = "Chỉ số chưa rõ công thức"
max = 10
kind = "unscored"
numerator = "c"
denominator = "b"

[[bands]]
code = "PASS"
label = "Đạt"
from = 50

[[bands]]
code = "FAIL"
label = "Không đạt"
from = 0

[measures]
a = "A."
b = "B."
c = "C."
"""


def test_composite_indicator_sums_its_components():
    table = parse_rule_table(CUSTOM, "custom.toml")
    counts = {"1.1": {"A": Counts(4, 10), "B": Counts(1, 2)}, "1.2": Counts(9, 10)}
    scorecard = score(table, counts, Period.parse("2030-05"))
    result = scorecard.indicator("1.1")
    # A: 40 × min(1, 0.4/0.8) = 20; B: 50 × 0.5 = 25
    assert result.points == 45
    assert [(c.id, c.points, c.threshold) for c in result.components] == [("A", 20, F(4, 5)), ("B", 25, 1)]
    assert result.rate is None and "composite" in result.flags
    unscored = scorecard.indicator("1.2")
    assert unscored.status is Status.UNSCORED and unscored.points == 0 and unscored.rate == F(9, 10)
    assert scorecard.total == 45 and scorecard.classification.code == "FAIL"  # 45 < 50


def test_composite_input_shapes():
    table = parse_rule_table(CUSTOM, "custom.toml")
    period = Period.parse("2030-05")
    partly = score(table, {"1.1": {"B": Counts(1, 1)}}, period).indicator("1.1")
    assert partly.points == 50 and partly.components[0].status is Status.NA
    assert score(table, {}, period).indicator("1.1").status is Status.NA
    with pytest.raises(ScoringInputError, match="composite"):
        score(table, {"1.1": Counts(1, 1)}, period)
    with pytest.raises(ScoringInputError, match="no component 'C'"):
        score(table, {"1.1": {"C": Counts(1, 1)}}, period)
    assert counts_from_measures(table, {"a": 1, "b": 2, "c": 2}) == {
        "1.1": {"A": Counts(1, 2), "B": Counts(2, 2)},
        "1.2": Counts(2, 2),
    }


# --- ranking -------------------------------------------------------------------------------


def test_ranking_shares_ranks_on_the_shown_total():
    entries = [
        ("H44", Decimal("85.50")),
        ("H01", Decimal("90.00")),
        ("H22", Decimal("85.50")),
        ("H31", Decimal("80.00")),
    ]
    assert rank(entries) == [("H01", 1), ("H22", 2), ("H44", 2), ("H31", 4)]


def test_ranking_ties_on_two_decimals_not_on_exact_totals():
    entries = [("A", F("89.995")), ("B", F(90)), ("C", F("89.994")), ("D", F("89.991")), ("E", F(50))]
    # A and B both show 90.00; C and D both show 89.99.
    assert rank(entries) == [("A", 1), ("B", 1), ("C", 3), ("D", 3), ("E", 5)]


def test_ranking_edge_cases():
    assert rank([]) == []
    assert rank([("X", Decimal("0"))]) == [("X", 1)]
    with pytest.raises(ScoringInputError):
        rank([("X", Decimal("1")), ("X", Decimal("2"))])


# --- properties --------------------------------------------------------------------------

PLAIN = [
    (table, i.id) for table in (V766, PORTAL) for i in table.indicators if not i.is_analysis and not i.is_composite
]


@st.composite
def monotone_pair(draw):
    denominator = draw(st.integers(1, 10**6))
    a = draw(st.integers(0, denominator))
    b = draw(st.integers(a, denominator))
    return a, b, denominator


@settings(max_examples=300)
@given(st.sampled_from(PLAIN), monotone_pair(), st.sampled_from(["2024-08", "2025-Q2", "2026", "2027-03"]))
def test_points_within_bounds_and_monotone_in_numerator(target, pair, period_text):
    table, indicator_id = target
    low, high, denominator = pair
    period = Period.parse(period_text)
    base = {"1.4": Counts(7, 9)} if indicator_id != "1.4" else {}
    low_result = score(table, {**base, indicator_id: Counts(low, denominator)}, period).indicator(indicator_id)
    high_result = score(table, {**base, indicator_id: Counts(high, denominator)}, period).indicator(indicator_id)
    assert 0 <= low_result.points <= low_result.max
    assert 0 <= high_result.points <= high_result.max
    assert low_result.points <= high_result.points


def all_counts(table):
    ids = sorted(scored_ids(table))
    pair = st.integers(0, 500).flatmap(lambda d: st.tuples(st.integers(0, d), st.just(d)))
    return st.fixed_dictionaries({i: pair.map(lambda nd: Counts(*nd)) for i in ids})


def band_by_hand(shown):
    if shown >= 90:
        return "EXCELLENT"
    if shown >= 80:
        return "GOOD"
    if shown >= 70:
        return "FAIR"
    if shown >= 50:
        return "AVERAGE"
    return "WEAK"


@settings(max_examples=200)
@given(st.sampled_from([V766, PORTAL]).flatmap(lambda t: st.tuples(st.just(t), all_counts(t))))
def test_classification_follows_the_rounded_total(table_and_counts):
    table, counts = table_and_counts
    scorecard = score(table, counts, Period.parse("2025-Q1"))
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(scorecard.total.numerator) / Decimal(scorecard.total.denominator)
        shown = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert scorecard.total_display == shown
    assert scorecard.classification.code == band_by_hand(shown)
    assert 0 <= scorecard.total <= 100
    assert scorecard.total == sum(g.points for g in scorecard.groups)
    for group in scorecard.groups:
        assert 0 <= group.points <= group.max
