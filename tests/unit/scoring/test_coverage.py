"""Whether a scope has any record of its period (``Scorecard.no_data``), one kind of record at a time.

October 2026, scored after its end (E = 1 Nov 00:00 Hanoi). Each case below is one record and the
answer worked out from the module's rule: a dated record that counts in the window is data; the
catalogue is not."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.scoring.domain.cells import Window, to_us
from services.scoring.domain.coverage import has_records
from services.scoring.domain.measures import Offer, PetitionRow, PublicationInfo, ScopeData
from services.scoring.domain.periods import HANOI


def us(*args) -> int:
    return to_us(datetime(*args, tzinfo=HANOI))


W = Window.of(202610, 202610, us(2026, 11, 1), us(2026, 12, 5))


def _record(kind, **given):
    """A stored record built by field name (fields not given: None, 0 or False as their kind)."""
    return kind(**{name: given.get(name) for name in kind._fields})


def petition(received, due=None, resolved=None, unit="H25.02"):
    return _record(PetitionRow, source_id="src", code="p", unit_code=unit, category=1, received_at=received,
                   due_at=due, resolved_at=resolved, transfer_count=0, likes=0, dislikes=0, repeat_complaint=False,
                   rating=0, source_time=0)


def publication(decided, listed=None, unit="H25.02"):
    return _record(PublicationInfo, unit_code=unit, procedure_code="1.004227", decision_number="QĐ 1",
                   decision_date=decided, listed_at=listed, parts=0, source_time=0)


def scope(**kw) -> ScopeData:
    return ScopeData(unit_kind=5, units={"H25.02": 5}, **kw)


OFFER = _record(Offer, unit_code="H25.02", procedure_code="1.004227", online_level=3, online_service_status=1,
                has_fee=True, payment_integrated=True, population_data_eligible=True, population_data_connected=True,
                certified_copy=True, active=True, source_time=0)


@pytest.mark.parametrize(("data", "expected"), [
    (scope(), False),  # nothing at all
    (scope(offers=[OFFER]), False),  # the catalogue is not dated: still no data
    (scope(sums={"n": 1}), True),  # a dossier received in October or carried into it
    (scope(sums={"n": 0, "fee": 0}), False),
    (scope(reported=0), True),  # a reported total, even of zero dossiers
    (scope(petitions=[petition(us(2026, 10, 12), us(2026, 10, 22), us(2026, 10, 20))]), True),  # received in it
    (scope(petitions=[petition(us(2026, 9, 12), us(2026, 10, 2), us(2026, 9, 20))]), True),  # due in it
    (scope(petitions=[petition(us(2026, 9, 1), us(2026, 9, 10), us(2026, 10, 3))]), True),  # resolved in it
    (scope(petitions=[petition(us(2026, 3, 1), us(2026, 3, 10))]), True),  # still open at E
    (scope(petitions=[petition(us(2026, 9, 1), us(2026, 9, 10), us(2026, 9, 9))]), False),  # all of it in September
    (scope(petitions=[petition(us(2026, 11, 2))]), False),  # after E
    (scope(petitions=[petition(us(2026, 10, 12), unit="H01.01")]), False),  # another unit's
    (scope(publications=[publication(date(2026, 10, 5))]), True),  # decided in October
    (scope(publications=[publication(date(2026, 9, 5), us(2026, 10, 1, 9))]), True),  # listed in October
    (scope(publications=[publication(date(2026, 9, 5), us(2026, 9, 8, 9))]), False),  # all in September
    (scope(publications=[publication(date(2026, 11, 3))]), False),  # after the period
])  # fmt: skip
def test_a_scope_has_data_when_a_dated_record_counts_in_the_window(data, expected):
    assert has_records(data, W) is expected


def test_a_window_cut_by_its_moment_sees_only_what_happened_by_then():
    inside = Window.of(202610, 202610, us(2026, 10, 10), us(2026, 12, 5))  # as of 10 Oct 00:00
    assert not has_records(scope(petitions=[petition(us(2026, 10, 12), us(2026, 10, 22))]), inside)
    assert not has_records(scope(publications=[publication(date(2026, 10, 10))]), inside)
    assert has_records(scope(publications=[publication(date(2026, 10, 9))]), inside)
