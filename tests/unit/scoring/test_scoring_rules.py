"""The shipped rule tables, the rule book, and the rejection of bad rule files."""

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from services.scoring.domain.periods import Period
from services.scoring.domain.rules import (
    Kind,
    NoData,
    RuleBook,
    RuleTableError,
    UnknownRuleVersion,
    load_rule_table,
    parse_rule_table,
)

BOOK = RuleBook.load_default()
V766 = BOOK.get("766/2022")
PORTAL = BOOK.get("portal/2025")

IDS_766 = [
    "1.1",
    "1.2",
    "1.3",
    "1.4",
    "2.1",
    "2.2",
    "3.1",
    "3.2",
    "3.3",
    "3.4",
    "3.5",
    "3.6",
    "4.1",
    "4.2",
    "4.3",
    "4.4",
    "4.5",
    "4.6",
    "4.7",
    "5.1",
    "5.2",
    "5.3",
    "5.4",
]
IDS_PORTAL = [
    "1.1",
    "1.2",
    "1.3",
    "1.4",
    "2.1",
    "2.2",
    "3.1",
    "3.2",
    "3.3",
    "4.1",
    "4.2",
    "4.3",
    "4.4",
    "4.5",
    "4.6",
    "4.7",
    "5.1",
    "5.2",
    "5.3",
    "5.4",
    "6.1",
    "6.2",
    "6.3",
]


def test_both_versions_ship():
    assert [t.id for t in BOOK.versions()] == ["766/2022", "portal/2025"]
    assert V766.effective_from == date(2022, 8, 1)
    assert PORTAL.effective_from == date(2025, 1, 1)


def test_indicator_ids():
    assert [i.id for i in V766.indicators] == IDS_766
    assert [i.id for i in PORTAL.indicators] == IDS_PORTAL


def test_groups_and_maxima_766():
    assert [(g.id, g.name, g.max) for g in V766.groups] == [
        ("1", "Công khai, minh bạch", 18),
        ("2", "Tiến độ, kết quả giải quyết", 20),
        ("3", "Cung cấp dịch vụ trực tuyến", 22),
        ("4", "Số hóa hồ sơ", 22),
        ("5", "Mức độ hài lòng", 18),
    ]
    maxima = {i.id: i.max for i in V766.indicators if not i.is_analysis}
    assert maxima == {
        "1.1": 6,
        "1.2": 4,
        "1.3": 2,
        "1.4": 6,
        "2.1": 20,
        "3.1": 2,
        "3.2": 4,
        "3.3": 6,
        "3.4": 2,
        "3.5": 2,
        "3.6": 6,
        "4.1": 6,
        "4.2": 4,
        "4.3": 2,
        "4.4": 2,
        "4.5": 4,
        "4.6": 2,
        "4.7": 2,
        "5.2": 6,
        "5.3": 6,
        "5.4": 6,
    }


def test_groups_and_maxima_portal():
    assert [(g.id, g.name, g.max) for g in PORTAL.groups] == [
        ("1", "Công khai, minh bạch", 18),
        ("2", "Tiến độ giải quyết", 20),
        ("3", "Dịch vụ công trực tuyến", 12),
        ("4", "Số hóa hồ sơ", 22),
        ("5", "Mức độ hài lòng", 18),
        ("6", "Thanh toán trực tuyến", 10),
    ]
    maxima = {i.id: i.max for i in PORTAL.indicators if not i.is_analysis}
    assert maxima == {
        "1.1": 6,
        "1.2": 4,
        "1.3": 2,
        "1.4": 6,
        "2.1": 20,
        "3.1": 2,
        "3.2": 4,
        "3.3": 6,
        "4.1": 6,
        "4.2": 4,
        "4.3": 2,
        "4.4": 2,
        "4.5": 4,
        "4.6": 2,
        "4.7": 2,
        "5.2": 6,
        "5.3": 6,
        "5.4": 6,
        "6.1": 2,
        "6.2": 2,
        "6.3": 6,
    }


def test_vietnamese_names_keep_their_diacritics():
    assert V766.indicator("2.1").name == "Tỷ lệ hồ sơ xử lý đúng hạn"
    assert PORTAL.indicator("2.1").name == "Tỷ lệ hồ sơ xử lý đúng hạn"
    assert V766.indicator("1.4").name == "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia"
    assert [b.label for b in V766.bands] == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]


def test_kinds_thresholds_and_no_data_rules_766():
    thresholds = {i.id: i.threshold.on(date(2024, 6, 1))[0] for i in V766.indicators if i.kind is Kind.THRESHOLD}
    assert thresholds == {
        "3.1": Fraction(4, 5),
        "3.3": Fraction(1, 2),
        "3.5": Fraction(4, 5),
        "4.2": Fraction(4, 5),
        "5.4": Fraction(9, 10),
    }
    assert {i.id for i in V766.indicators if i.kind is Kind.ANALYSIS} == {"2.2", "5.1"}
    rules = {i.id: i.no_data for i in V766.indicators if i.no_data is not None}
    assert rules["1.4"] is NoData.PREV_YEAR_FALLBACK
    assert rules["2.1"] is NoData.ZERO and rules["5.4"] is NoData.ZERO
    assert rules["5.2"] is NoData.FULL and rules["5.3"] is NoData.FULL
    others = set(rules) - {"1.4", "2.1", "5.4", "5.2", "5.3"}
    assert {rules[i] for i in others} == {NoData.NA}


def test_kinds_thresholds_and_flags_portal():
    thresholds = {i.id: i.threshold.on(date(2025, 6, 1))[0] for i in PORTAL.indicators if i.kind is Kind.THRESHOLD}
    assert thresholds == {
        "3.1": Fraction(4, 5),
        "3.3": Fraction(1, 2),
        "4.3": Fraction(4, 5),
        "5.4": Fraction(9, 10),
        "6.1": Fraction(4, 5),
        "6.2": Fraction(4, 5),
    }
    assert PORTAL.indicator("4.2").kind is Kind.LINEAR
    assert PORTAL.indicator("6.3").kind is Kind.LINEAR
    assert PORTAL.indicator("4.4").kind is Kind.FULL
    assert {i.id for i in PORTAL.indicators if "fitted" in i.flags} == {"3.1", "3.2", "3.3", "4.4"}
    assert PORTAL.indicator("3.3").multiply_by == "1.4"
    assert "analysis_only" in PORTAL.indicator("5.1").flags


def test_threshold_stages_carry_forward_after_2025():
    stage = V766.indicator("3.3").threshold
    assert stage.on(date(2025, 12, 1)) == (Fraction(1, 2), None)
    assert stage.on(date(2026, 1, 1)) == (Fraction(1, 2), "threshold_carried_forward")
    assert stage.on(date(2020, 1, 1)) == (Fraction(1, 2), "threshold_carried_back")
    # Group 6's 0.8 is a formula constant: open-ended, never "carried".
    assert PORTAL.indicator("6.1").threshold.on(date(2031, 1, 1)) == (Fraction(4, 5), None)


def test_working_day_parameters():
    for table in (V766, PORTAL):
        assert table.indicator("1.1").parameter("lead_working_days", "ministry") == 20
        assert table.indicator("1.1").parameter("lead_working_days", "ministerial_agency") == 20
        assert table.indicator("1.1").parameter("lead_working_days", "province") == 5
        assert table.indicator("1.1").parameter("lead_working_days") == 5
        assert table.indicator("1.2").parameter("listing_working_days", "ministry") == 10
        assert table.indicator("1.2").parameter("listing_working_days", "commune") == 5
    assert len(PORTAL.indicator("1.3").parameter("required_parts")) == 7
    assert len(V766.indicator("1.3").parameter("required_parts")) == 11
    with pytest.raises(ValueError, match="unknown unit kind"):
        PORTAL.indicator("1.1").parameter("lead_working_days", "planet")
    with pytest.raises(KeyError):
        PORTAL.indicator("1.1").parameter("nope")


def test_measures_catalogue():
    by_indicator = PORTAL.measures_by_indicator()
    assert by_indicator["1.4"] == ("dossiers_synchronised", "dossiers_reported")
    # corrected 2026-12-05 (PORTAL_RULES.md 6.2): 6.1's denominator
    assert by_indicator["6.2"] == ("fee_procedures_with_successful_online_payment", "fee_procedures_in_database")
    assert V766.measures_by_indicator()["5.4"] == ("dossiers_received", "dossiers_dissatisfied_petitioned_or_late")
    assert "2.2" not in by_indicator
    for table in (V766, PORTAL):
        used = {name for names in table.measures_by_indicator().values() for name in names}
        assert used == set(table.measures())
        assert all(description.strip() for description in table.measures().values())


def test_a_shared_measure_name_means_the_same_count_in_both_versions():
    shared = set(V766.measures()) & set(PORTAL.measures())
    assert "dossiers_received" in shared and "dossiers_synchronised" in shared
    for name in shared:
        assert V766.measures()[name] == PORTAL.measures()[name], name


# --- the rule book --------------------------------------------------------------------------


def test_in_force_by_date():
    assert BOOK.in_force(date(2022, 8, 1)).id == "766/2022"
    assert BOOK.in_force(date(2024, 12, 31)).id == "766/2022"
    assert BOOK.in_force(date(2025, 1, 1)).id == "portal/2025"
    assert BOOK.in_force(date(2030, 6, 1)).id == "portal/2025"
    with pytest.raises(UnknownRuleVersion):
        BOOK.in_force(date(2022, 7, 31))
    # A moment is read in Hanoi: 17:30 UTC on 31 Dec 2024 is already 2025 there.
    assert BOOK.in_force(datetime(2024, 12, 31, 17, 30, tzinfo=UTC)).id == "portal/2025"


def test_a_period_uses_the_version_in_force_at_its_start():
    assert BOOK.for_period(Period.parse("2024-Q4")).id == "766/2022"
    assert BOOK.for_period(Period.parse("2025-01")).id == "portal/2025"
    assert BOOK.for_period(Period.parse("2024")).id == "766/2022"


def test_get_unknown_version():
    with pytest.raises(UnknownRuleVersion, match="766/2023"):
        BOOK.get("766/2023")


def test_classify_bands_on_the_shown_total():
    expected = [
        ("100", "EXCELLENT"),
        ("90.00", "EXCELLENT"),
        ("89.99", "GOOD"),
        ("80", "GOOD"),
        ("79.99", "FAIR"),
        ("70", "FAIR"),
        ("69.99", "AVERAGE"),
        ("50", "AVERAGE"),
        ("49.99", "WEAK"),
        ("0", "WEAK"),
    ]
    for table in (V766, PORTAL):
        assert [(shown, table.classify(Decimal(shown)).code) for shown, _ in expected] == expected


# --- bad rule files -------------------------------------------------------------------------

MINIMAL = """
id = "test/1"
name = "Bảng thử"
effective_from = 2030-01-01

[[groups]]
id = "1"
name = "Nhóm một"
max = 60

[[groups]]
id = "2"
name = "Nhóm hai"
max = 40

[[indicators]]
id = "1.1"
group = "1"
name = "Chỉ số một"
max = 60
kind = "threshold"
numerator = "a"
denominator = "b"
no_data = "na"
threshold = [
  { from = 2021-01-01, to = 2025-12-31, value = 0.5 },
  { from = 2026-01-01, value = 0.8 },
]

[[indicators]]
id = "2.1"
group = "2"
name = "Chỉ số hai"
max = 40
kind = "linear"
numerator = "a"
denominator = "b"
no_data = "zero"

[[bands]]
code = "PASS"
label = "Đạt"
from = 50

[[bands]]
code = "FAIL"
label = "Không đạt"
from = 0

[measures]
a = "A things."
b = "B things."
"""


def test_minimal_table_is_valid():
    table = parse_rule_table(MINIMAL, "ok.toml")
    assert table.id == "test/1"
    assert table.indicator("1.1").threshold.on(date(2027, 1, 1)) == (Fraction(4, 5), None)


def mutate(old, new):
    assert old in MINIMAL, old
    return MINIMAL.replace(old, new, 1)


BAD = [
    ("unknown top-level key", mutate('name = "Bảng thử"', 'name = "Bảng thử"\nauthor = "x"'), "'author'"),
    (
        "unknown indicator key",
        mutate('no_data = "zero"', 'no_data = "zero"\ntreshold = 1'),
        "indicators[id=2.1]: unknown key 'treshold'",
    ),
    ("unknown stage key", mutate("value = 0.8 }", "value = 0.8, note = 1 }"), "threshold[1]: unknown key 'note'"),
    ("missing name", mutate('name = "Chỉ số hai"\n', ""), "indicators[id=2.1].name: missing required key"),
    ("missing effective date", mutate("effective_from = 2030-01-01\n", ""), "effective_from: missing"),
    ("group max mismatch", mutate("max = 40\nkind", "max = 30\nkind"), "group '2' has max 40 but its indicators"),
    (
        "total not 100",
        mutate("max = 40\n\n[[indicators]]", "max = 30\n\n[[indicators]]").replace("max = 40\nkind", "max = 30\nkind"),
        "sum to 90, not 100",
    ),
    (
        "string date",
        mutate("effective_from = 2030-01-01", 'effective_from = "2030-13-01"'),
        "effective_from: must be a date",
    ),
    ("date-time", mutate("effective_from = 2030-01-01", "effective_from = 2030-01-01T00:00:00"), "got a date-time"),
    ("impossible date", mutate("effective_from = 2030-01-01", "effective_from = 2030-02-30"), "not valid TOML"),
    (
        "overlapping stages",
        mutate("{ from = 2026-01-01, value", "{ from = 2025-06-01, value"),
        "threshold[1].from: overlaps the previous stage",
    ),
    ("gap between stages", mutate("{ from = 2026-01-01, value", "{ from = 2026-03-01, value"), "leaves a gap"),
    ("stage ends before it starts", mutate("to = 2025-12-31", "to = 2020-12-31"), "ends 2020-12-31 before"),
    ("open stage not last", mutate("to = 2025-12-31, ", ""), "only the last stage may be open-ended"),
    ("unknown no-data rule", mutate('no_data = "zero"', 'no_data = "skip"'), "no_data: unknown value 'skip'"),
    ("unknown kind", mutate('kind = "linear"', 'kind = "quadratic"'), "kind: unknown value 'quadratic'"),
    (
        "threshold on linear",
        mutate('no_data = "zero"', 'no_data = "zero"\nthreshold = []'),
        "threshold: not allowed for kind 'linear'",
    ),
    ("threshold above 100%", mutate("value = 0.8", "value = 1.5"), "a threshold is a rate in (0, 1]"),
    ("unknown measure", mutate('numerator = "a"', 'numerator = "c"'), "unknown measure 'c'"),
    (
        "unused measure",
        mutate('b = "B things."', 'b = "B things."\nc = "C things."'),
        "measure 'c' is in the catalogue but no indicator uses it",
    ),
    ("bad expression", mutate('numerator = "a"', 'numerator = { minus = ["a"] }'), "minus takes exactly two"),
    ("duplicate indicator", mutate('id = "2.1"', 'id = "1.1"'), "duplicate '1.1'"),
    ("indicator outside its group", mutate('id = "2.1"', 'id = "3.1"'), "does not belong to group '2'"),
    ("unknown group", mutate('id = "2.1"\ngroup = "2"', 'id = "9.1"\ngroup = "9"'), "unknown group '9'"),
    ("unknown flag", mutate('no_data = "zero"', 'no_data = "zero"\nflags = ["shiny"]'), "unknown flag 'shiny'"),
    (
        "analysis flag without kind",
        mutate('no_data = "zero"', 'no_data = "zero"\nflags = ["analysis_only"]'),
        "kind 'analysis' and flag 'analysis_only' go together",
    ),
    (
        "multiply by unknown",
        mutate('no_data = "zero"', 'no_data = "zero"\nmultiply_by = "7.7"'),
        "multiply_by: names unknown indicator '7.7'",
    ),
    (
        "multiply by itself",
        mutate('no_data = "zero"', 'no_data = "zero"\nmultiply_by = "2.1"'),
        "cannot multiply by its own rate",
    ),
    (
        "parameter for unknown unit kind",
        mutate(
            'no_data = "zero"', 'no_data = "zero"\nparameters = { lead_working_days = { default = 5, planet = 9 } }'
        ),
        "parameters.lead_working_days.planet: unknown unit kind",
    ),
    (
        "per-unit-kind parameter without default",
        mutate('no_data = "zero"', 'no_data = "zero"\nparameters = { lead_working_days = { ministry = 20 } }'),
        "needs a 'default'",
    ),
    (
        "unknown parameter",
        mutate('no_data = "zero"', 'no_data = "zero"\nparameters = { days = 5 }'),
        "parameters.days: unknown parameter",
    ),
    (
        "unknown lateness policy",
        mutate("effective_from = 2030-01-01", 'effective_from = 2030-01-01\npolicy = "late"'),
        "policy: unknown lateness policy 'late' (registered: due_time, statutory_limit)",
    ),
    (
        "threshold staged after the version takes effect",
        mutate("{ from = 2021-01-01, to = 2025-12-31, value = 0.5 },\n  { from = 2026-01-01, value = 0.8 },",
               "{ from = 2031-01-01, value = 0.8 },"),
        "indicators[id=1.1].threshold: the first threshold stage starts 2031-01-01, after the version takes "
        "effect (2030-01-01)",
    ),
    (
        "negative working days",
        mutate('no_data = "zero"', 'no_data = "zero"\nparameters = { refusal_working_days = -2 }'),
        "must be a whole number ≥ 0",
    ),
    (
        "fallback denominator without fallback",
        mutate('no_data = "zero"', 'no_data = "zero"\nfallback_denominator = "b"'),
        "only meaningful with no_data = 'prev_year_fallback'",
    ),
    (
        "composite flag without components",
        mutate('no_data = "zero"', 'no_data = "zero"\nflags = ["composite"]'),
        "flag 'composite' needs a components list",
    ),
    ("bands out of order", mutate("from = 50", "from = -1"), "bands must be listed from the highest"),
    ("lowest band not 0", mutate("from = 0", "from = 10"), "the lowest band (FAIL) must start at 0"),
    ("band bound with 3 decimals", mutate("from = 50", 'from = "49.995"'), "at most 2 decimals"),
    ("max not a number", mutate("max = 40\nkind", 'max = "forty"\nkind'), "not a number: 'forty'"),
    ("max is a boolean", mutate("max = 40\nkind", "max = true\nkind"), "got a boolean"),
    ("broken TOML", MINIMAL + "\n[[groups\n", "not valid TOML"),
]


@pytest.mark.parametrize(("problem", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_rule_files_are_rejected_with_a_clear_message(problem, text, message):
    with pytest.raises(RuleTableError) as caught:
        parse_rule_table(text, "bad.toml")
    assert str(caught.value).startswith("bad.toml: "), str(caught.value)
    assert message in str(caught.value), str(caught.value)


def test_a_file_on_disk_is_named_in_the_error(tmp_path):
    path = tmp_path / "broken-2030.toml"
    path.write_text(mutate('no_data = "zero"', 'no_data = "never"'), encoding="utf-8")
    with pytest.raises(RuleTableError, match=r"^broken-2030\.toml: indicators\[id=2\.1\]\.no_data"):
        load_rule_table(path)


# MINIMAL with measures that have code behind them (a rule book checks that)
BOUND = MINIMAL.replace('"a"', '"dossiers_synchronised"').replace('"b"', '"dossiers_received"').replace(
    'a = "A things."\nb = "B things."', 'dossiers_synchronised = "Synchronised."\ndossiers_received = "Received."')


def test_rule_book_from_a_directory_and_its_own_checks(tmp_path):
    (tmp_path / "a.toml").write_text(BOUND, encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        BOUND.replace('id = "test/1"', 'id = "test/2"').replace(
            "effective_from = 2030-01-01", "effective_from = 2031-01-01"
        ),
        encoding="utf-8",
    )
    book = RuleBook.load_dir(tmp_path)
    assert [t.id for t in book.versions()] == ["test/1", "test/2"]
    assert book.in_force(date(2030, 12, 31)).id == "test/1"
    (tmp_path / "c.toml").write_text(
        BOUND.replace("effective_from = 2030-01-01", "effective_from = 2032-01-01"), encoding="utf-8"
    )
    with pytest.raises(RuleTableError, match="version 'test/1' is also defined"):
        RuleBook.load_dir(tmp_path)
    (tmp_path / "c.toml").write_text(BOUND.replace('id = "test/1"', 'id = "test/3"'), encoding="utf-8")
    with pytest.raises(RuleTableError, match="effective_from 2030-01-01 is the same"):
        RuleBook.load_dir(tmp_path)


def test_shipped_files_reload_identically():
    assert BOOK is RuleBook.load_default()
    from services.scoring.domain import rules

    folder = rules.Path(rules.__file__).parent.parent / "rules"
    assert load_rule_table(folder / "766-2022.toml") == V766
    assert load_rule_table(folder / "portal-2025.toml") == PORTAL


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t, None),
        (lambda t: t.replace('"dossiers_received"', '"dossiers_recieved"').replace(
            "dossiers_received = ", "dossiers_recieved = "),
         "x.toml: indicator 1.1: measure 'dossiers_recieved' has no code behind it"),
        (lambda t: t.replace('numerator = "dossiers_synchronised"', 'numerator = "dossiers_on_time"', 1).replace(
            'dossiers_synchronised = "Synchronised."', 'dossiers_synchronised = "S."\ndossiers_on_time = "O."'),
         "x.toml: indicator 1.1: measure 'dossiers_on_time' judges lateness under policy 'due_time', but the "
         "file names no policy"),
        (lambda t: t.replace("effective_from = 2030-01-01", 'effective_from = 2030-01-01\npolicy = "statutory_limit"')
         .replace('numerator = "dossiers_synchronised"', 'numerator = "dossiers_on_time"', 1).replace(
            'dossiers_synchronised = "Synchronised."', 'dossiers_synchronised = "S."\ndossiers_on_time = "O."'),
         "measure 'dossiers_on_time' judges lateness under policy 'due_time', but the file names policy "
         "'statutory_limit'"),
        (lambda t: t.replace('no_data = "zero"', 'no_data = "zero"\nparameters = { refusal_working_days = 2 }'),
         "x.toml: indicator 2.1: parameter 'refusal_working_days' is read by none of its measures "
         "(dossiers_synchronised, dossiers_received)"),
    ],
)
def test_a_rule_book_refuses_measures_without_code_and_parameters_nothing_reads(tmp_path, change, message):
    """Issue 16: a measure named in a rule file but computed by no code counted 0 without a word."""
    (tmp_path / "x.toml").write_text(change(BOUND), encoding="utf-8")
    if message is None:
        assert RuleBook.load_dir(tmp_path).get("test/1").policy is None
        return
    with pytest.raises(RuleTableError) as err:
        RuleBook.load_dir(tmp_path)
    assert message in str(err.value) and "\n" not in str(err.value)
