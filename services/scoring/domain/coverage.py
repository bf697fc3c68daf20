"""Whether a scorecard has any data of its period at all.

A scope with no record of the period still gets points: from the catalogue (the procedures its
units perform and how — 3.1, 3.5, 4.6 … — which is not dated) and from the no-data rules (5.2 and
5.3 score full points without a petition). A month without a single record would then rank every
province 1st at the same total. That is not a result, so a scorecard says when it has no data
(``Scorecard.no_data``) and rankings list such units apart.

Decided here: a scope has data for a window when at least one dated record counts in it —

* a dossier received in the window or carried into it unfinished (the cells' ``n``);
* a reported total for one of its months;
* a petition received in the window, due in it, handled (resolved, refused, published) in it, or
  still open at its evaluation moment;
* a publication decision dated in the window, or a listing made in it.

Pure Python, no I/O.
"""

from __future__ import annotations

from datetime import date, datetime

from services.scoring.domain.cells import Window, from_us, month_of, month_start_us
from services.scoring.domain.measures import ScopeData
from services.scoring.domain.periods import HANOI


def has_records(data: ScopeData, w: Window) -> bool:
    """True when a dated record of ``data``'s units counts in window ``w`` (see the module)."""
    if data.sums.get("n", 0) > 0 or data.reported is not None:
        return True
    return _petitions(data, w) or _publications(data, w)


def _in_window(us: int | None, start: int, w: Window) -> bool:
    return us is not None and start <= us < w.e_us and month_of(us) <= w.m2


def _petitions(data: ScopeData, w: Window) -> bool:
    start = month_start_us(w.m1)
    for p in data.petitions:
        if p.unit_code not in data.units or p.received_at >= w.e_us:
            continue
        ended = [t for t in (p.resolved_at, p.refused_at, p.published_at) if t is not None and t < w.e_us]
        if (_in_window(p.received_at, start, w) or _in_window(p.due_at, start, w)
                or any(_in_window(t, start, w) for t in ended) or not ended):
            return True
    return False


def _publications(data: ScopeData, w: Window) -> bool:
    start = month_start_us(w.m1)
    first = date(w.m1 // 100, w.m1 % 100, 1)
    moment = from_us(w.e_us)
    for p in data.publications:
        if p.unit_code not in data.units:
            continue
        day = p.decision_date
        decided_in_window = (first <= day and day.year * 100 + day.month <= w.m2
                             and datetime(day.year, day.month, day.day, tzinfo=HANOI) < moment)
        if decided_in_window or _in_window(p.listed_at, start, w):
            return True
    return False
