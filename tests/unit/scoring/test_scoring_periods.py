"""Periods in Asia/Ho_Chi_Minh: parsing, bounds, the midnight edge against UTC."""

from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.periods import (
    Period,
    PeriodError,
    PeriodKind,
    evaluation_moment,
    period_containing,
)

HN = ZoneInfo("Asia/Ho_Chi_Minh")


def hanoi(*args):
    return datetime(*args, tzinfo=HN)


@pytest.mark.parametrize(
    ("text", "kind", "year", "number"),
    [
        ("2026-08", PeriodKind.MONTH, 2026, 8),
        ("2026-01", PeriodKind.MONTH, 2026, 1),
        ("2026-Q3", PeriodKind.QUARTER, 2026, 3),
        ("2026", PeriodKind.YEAR, 2026, None),
        ("2026-YTD", PeriodKind.YTD, 2026, None),
    ],
)
def test_parse_and_format_round_trip(text, kind, year, number):
    period = Period.parse(text)
    assert (period.kind, period.year, period.number) == (kind, year, number)
    assert str(period) == text


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-8", "2026-Q5", "2026-Q0", "26", "2026-ytd", "", "2026-08-01"]
)
def test_parse_rejects(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_constructor_rejects_impossible_periods():
    with pytest.raises(PeriodError):
        Period.month(2026, 13)
    with pytest.raises(PeriodError):
        Period(PeriodKind.YEAR, 2026, 1)
    with pytest.raises(PeriodError):
        Period("week", 2026, 1)
    assert Period("month", 2026, 8) == Period.month(2026, 8)


def test_bounds_are_hanoi_midnights_half_open():
    august = Period.parse("2026-08")
    assert august.start == hanoi(2026, 8, 1)
    assert august.end == hanoi(2026, 9, 1)
    assert august.start == datetime(2026, 7, 31, 17, 0, tzinfo=UTC)
    assert Period.parse("2026-12").end == hanoi(2027, 1, 1)
    assert Period.parse("2026-Q4").start == hanoi(2026, 10, 1)
    assert Period.parse("2026-Q4").end == hanoi(2027, 1, 1)
    assert Period.parse("2026").end == hanoi(2027, 1, 1)
    assert august.contains(hanoi(2026, 8, 1))
    assert not august.contains(hanoi(2026, 9, 1))
    assert august.contains(hanoi(2026, 9, 1) - timedelta(microseconds=1))


def test_midnight_hanoi_versus_utc():
    # 17:30 UTC on 31 July is 00:30 on 1 August in Hanoi.
    assert period_containing(datetime(2026, 7, 31, 17, 30, tzinfo=UTC), "month") == Period.month(2026, 8)
    assert period_containing(datetime(2026, 7, 31, 16, 59, 59, tzinfo=UTC), "month") == Period.month(2026, 7)
    assert period_containing(datetime(2026, 7, 31, 17, 0, tzinfo=UTC), "month") == Period.month(2026, 8)
    # New year in Hanoi while it is still 31 December in UTC.
    new_year = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    assert period_containing(new_year, PeriodKind.YEAR) == Period.whole_year(2026)
    assert period_containing(new_year, PeriodKind.QUARTER) == Period.quarter(2026, 1)
    assert period_containing(new_year, PeriodKind.YTD) == Period.ytd(2026)
    # Another zone, same instant.
    assert period_containing(datetime(2026, 7, 31, 19, 30, tzinfo=timezone(timedelta(hours=2))), "month") == (
        Period.month(2026, 8)
    )


def test_naive_moments_are_refused():
    with pytest.raises(PeriodError):
        period_containing(datetime(2026, 8, 1), "month")
    with pytest.raises(PeriodError):
        Period.parse("2026-08").contains(datetime(2026, 8, 1))


def test_months():
    assert [str(m) for m in Period.parse("2026-Q3").months()] == ["2026-07", "2026-08", "2026-09"]
    assert len(list(Period.parse("2026").months())) == 12
    ytd = Period.parse("2026-YTD")
    assert [str(m) for m in ytd.months(hanoi(2026, 3, 15))] == ["2026-01", "2026-02", "2026-03"]
    assert [str(m) for m in ytd.months(hanoi(2026, 3, 1))] == ["2026-01", "2026-02"]


def test_evaluation_moment_is_min_of_end_and_now():
    august = Period.parse("2026-08")
    now = hanoi(2026, 8, 15, 10, 0)
    assert evaluation_moment(august, now) == now  # running period: as of now
    assert evaluation_moment(august, hanoi(2026, 10, 1)) == august.end  # over: its end
    assert evaluation_moment(august, hanoi(2026, 7, 1)) == august.start  # not begun: empty
    assert august.window(now) == (hanoi(2026, 8, 1), now)
    ytd = Period.parse("2026-YTD")
    assert ytd.window(now) == (hanoi(2026, 1, 1), now)


def test_year_fraction_is_the_fallback_share():
    assert Period.parse("2026-08").year_fraction() == Fraction(1, 12)
    assert Period.parse("2026-Q3").year_fraction() == Fraction(1, 4)
    assert Period.parse("2026").year_fraction() == 1
    assert Period.parse("2026-YTD").year_fraction(hanoi(2026, 8, 15)) == Fraction(8, 12)
    assert Period.parse("2026-YTD").year_fraction() == 1


def test_first_day():
    assert Period.parse("2026-Q3").first_day.isoformat() == "2026-07-01"


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(list(PeriodKind)),
)
def test_period_containing_contains(moment, kind):
    period = period_containing(moment, kind)
    assert period.contains(moment)
    assert Period.parse(str(period)) == period
    assert period.start < period.end
