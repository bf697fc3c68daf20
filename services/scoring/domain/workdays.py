"""Working days in Vietnam: Monday to Friday, less public holidays, plus make-up Saturdays.

The calendar is ``holidays.Vietnam``: its holidays (including the observed days and the
substituted days off it reports, such as 2026-08-31 in exchange for Saturday 2026-08-22) are not
working days, and the weekend days it reports as worked (``weekend_workdays``, e.g. 2026-08-22)
are. Each year is computed once and cached.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

_SATURDAY = 5


@lru_cache(maxsize=256)
def _working_days_of(year: int) -> tuple[bool, ...]:
    """One flag per day of ``year`` (index 0 = 1 January): is it a working day?"""
    calendar = holidays.Vietnam(years=year)
    worked_weekend_days = {d for d in calendar.weekend_workdays if d.year == year}
    first = date(year, 1, 1)
    days = (date(year, 12, 31) - first).days + 1
    flags = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() >= _SATURDAY:
            flags.append(day in worked_weekend_days)
        else:
            flags.append(day not in calendar)
    return tuple(flags)


@lru_cache(maxsize=256)
def _cumulative(year: int) -> tuple[int, ...]:
    """``_cumulative(y)[i]`` = working days among the first ``i`` days of year ``y``."""
    totals = [0]
    for is_working in _working_days_of(year):
        totals.append(totals[-1] + is_working)
    return tuple(totals)


def is_working_day(day: date) -> bool:
    return _working_days_of(day.year)[_day_index(day)]


def holidays_in(year: int) -> dict[date, str]:
    """The public holidays (and substituted days off) of ``year``, as ``holidays.Vietnam`` lists them."""
    return dict(sorted(holidays.Vietnam(years=year).items()))


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (before it when ``n`` is negative); ``day`` itself if 0.

    ``day`` need not be a working day: one working day after Saturday is Monday. A count that runs past
    the calendar's end (9999-12-31) or start (0001-01-01) stops there: a deadline beyond the calendar is
    the calendar's last day, never an error.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = day
    try:
        while remaining:
            current += timedelta(days=step)
            if is_working_day(current):
                remaining -= 1
    except OverflowError:
        return date.max if step > 0 else date.min
    return current


def working_days_between(a: date, b: date) -> int:
    """Working days ``d`` with ``a < d <= b``; negative when ``b`` is before ``a``.

    It inverts :func:`add_working_days`: ``working_days_between(d, add_working_days(d, n)) == n``
    for ``n >= 0``, and for ``n < 0`` when ``d`` is itself a working day.
    """
    if b < a:
        return -working_days_between(b, a)
    whole_years = sum(_cumulative(year)[-1] for year in range(a.year, b.year))
    return whole_years + _cumulative(b.year)[_day_index(b) + 1] - _cumulative(a.year)[_day_index(a) + 1]


def _day_index(day: date) -> int:
    return day.timetuple().tm_yday - 1
