"""Working days against holidays.Vietnam's own 2026 calendar, counted by hand."""

from datetime import date, timedelta

import holidays
from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.workdays import add_working_days, holidays_in, is_working_day, working_days_between

# holidays.Vietnam(years=2026), as the library reports it (checked below, so a library update
# that changes the calendar shows up here first).
HOLIDAYS_2026 = {
    date(2026, 1, 1),  # New Year's Day (Thu)
    date(2026, 2, 16),
    date(2026, 2, 17),
    date(2026, 2, 18),
    date(2026, 2, 19),
    date(2026, 2, 20),  # Tết
    date(2026, 4, 26),  # Hùng Kings (Sun)
    date(2026, 4, 27),  # Hùng Kings observed (Mon)
    date(2026, 4, 30),
    date(2026, 5, 1),
    date(2026, 8, 31),  # day off substituted from Saturday 2026-08-22
    date(2026, 9, 1),
    date(2026, 9, 2),
    date(2026, 11, 24),  # Vietnam Cultural Day
}


def test_calendar_matches_the_library_list():
    assert set(holidays.Vietnam(years=2026)) == HOLIDAYS_2026
    assert set(holidays_in(2026)) == HOLIDAYS_2026


def test_holidays_and_weekends_are_not_working_days():
    for day in HOLIDAYS_2026:
        assert not is_working_day(day), day
    assert not is_working_day(date(2026, 2, 14))  # Saturday
    assert not is_working_day(date(2026, 2, 15))  # Sunday
    assert is_working_day(date(2026, 2, 13))  # Friday before Tết
    assert is_working_day(date(2026, 2, 23))  # Monday after Tết


def test_make_up_saturday_is_a_working_day():
    # 2026-08-31 is off in exchange for working Saturday 2026-08-22.
    assert date(2026, 8, 22).weekday() == 5
    assert is_working_day(date(2026, 8, 22))
    assert not is_working_day(date(2026, 8, 29))  # an ordinary Saturday


def test_add_working_days_across_tet():
    # Thu 12 Feb + 1 = Fri 13; then 14–15 weekend, 16–20 Tết, 21–22 weekend; Mon 23 = 2, Tue 24 = 3.
    assert add_working_days(date(2026, 2, 12), 1) == date(2026, 2, 13)
    assert add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 23)
    assert add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 23), -1) == date(2026, 2, 13)
    assert add_working_days(date(2026, 2, 17), 0) == date(2026, 2, 17)


def test_add_working_days_from_a_weekend_and_across_the_august_swap():
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Saturday + 1 = Monday
    # Fri 21 Aug + 1 = Sat 22 (worked); + 2 = Mon 24.
    assert add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert add_working_days(date(2026, 8, 21), 2) == date(2026, 8, 24)
    # Fri 28 Aug + 1: 29–30 weekend, 31 Aug, 1–2 Sep off → Thu 3 Sep.
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    # Fri 24 Apr + 2: 25–26 weekend, 27 observed holiday → Tue 28 (1), Wed 29 (2).
    assert add_working_days(date(2026, 4, 24), 2) == date(2026, 4, 29)


def test_working_days_between_counts_by_hand():
    # (a, b]: February 2026 has 20 weekdays, Tết takes 5.
    assert working_days_between(date(2026, 1, 31), date(2026, 2, 28)) == 15
    # August 2026: 21 weekdays, 31 Aug off, Saturday 22 Aug worked.
    assert working_days_between(date(2026, 7, 31), date(2026, 8, 31)) == 21
    # Year 2026: 261 weekdays − 13 weekday holidays (1 Jan, 5 Tết, 27 Apr, 30 Apr, 1 May, 31 Aug,
    # 1–2 Sep, 24 Nov) + 1 worked Saturday.
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 249
    # Across the new year: 31 Dec (Wed), 1 Jan off, 2 Jan (Fri), 5 Jan (Mon).
    assert working_days_between(date(2025, 12, 30), date(2026, 1, 5)) == 3
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == -1
    assert working_days_between(date(2026, 5, 5), date(2026, 5, 5)) == 0


@given(st.dates(min_value=date(2023, 1, 1), max_value=date(2029, 12, 31)), st.integers(-40, 40))
def test_between_inverts_add(day, n):
    target = add_working_days(day, n)
    if n >= 0 or is_working_day(day):
        assert working_days_between(day, target) == n
    if n:
        assert is_working_day(target)


@given(st.dates(min_value=date(2023, 1, 1), max_value=date(2029, 12, 31)), st.integers(0, 400))
def test_between_agrees_with_day_by_day_count(a, span):
    b = a + timedelta(days=span)
    by_hand = sum(is_working_day(a + timedelta(days=k)) for k in range(1, span + 1))
    assert working_days_between(a, b) == by_hand
