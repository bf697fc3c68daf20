"""Dossier and petition timing (SPEC §4.3, PORTAL_RULES 2.1 and 5.2), worked by hand."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scoring.domain.rules import RuleBook
from services.scoring.domain.timing import (
    LateReason,
    PetitionLimits,
    TimingError,
    Verdict,
    classify_dossier,
    classify_petition,
    classify_petition_by_due,
    decision_on_time,
    listing_on_time,
    working_deadline,
)

HN = ZoneInfo("Asia/Ho_Chi_Minh")


def hanoi(*args):
    return datetime(*args, tzinfo=HN)


RECEIVED = hanoi(2026, 8, 3, 9, 0)
DUE = hanoi(2026, 8, 10, 17, 0)


def dossier(**overrides):
    fields = dict(
        received_at=RECEIVED,
        due_at=DUE,
        finished_at=None,
        supplement_count=0,
        last_supplement_at=None,
        waiting_supplement=False,
        unlawful_pause=False,
        as_of=hanoi(2026, 9, 1),
    )
    fields.update(overrides)
    return classify_dossier(**fields)


def test_finished_before_or_at_due_is_on_time():
    assert dossier(finished_at=hanoi(2026, 8, 7, 10, 0)).verdict is Verdict.ON_TIME
    outcome = dossier(finished_at=DUE)
    assert outcome.on_time and outcome.lateness == timedelta(0) and outcome.judged_at == DUE


def test_finished_after_due_is_late_by_the_difference():
    outcome = dossier(finished_at=hanoi(2026, 8, 11, 9, 30))
    assert outcome.verdict is Verdict.LATE
    assert outcome.reason is LateReason.ENDED_LATE
    assert outcome.lateness == timedelta(hours=16, minutes=30)  # 17:00 on the 10th → 09:30 on the 11th


def test_unfinished_is_late_once_due_has_passed_at_the_evaluation_moment():
    assert dossier(as_of=hanoi(2026, 8, 10, 12, 0)).on_time
    assert dossier(as_of=DUE).on_time  # due equal to the moment has not passed yet
    late = dossier(as_of=DUE + timedelta(seconds=1))
    assert late.reason is LateReason.OVERDUE_UNFINISHED and late.lateness == timedelta(seconds=1)
    assert late.judged_at == DUE + timedelta(seconds=1)


def test_a_finish_after_the_evaluation_moment_has_not_happened_yet():
    outcome = dossier(finished_at=hanoi(2026, 8, 20), as_of=hanoi(2026, 8, 9))
    assert outcome.on_time and outcome.judged_at == hanoi(2026, 8, 9)
    outcome = dossier(finished_at=hanoi(2026, 8, 20), as_of=hanoi(2026, 8, 15))
    assert outcome.reason is LateReason.OVERDUE_UNFINISHED


def test_utc_and_hanoi_times_compare_as_instants():
    due_utc = datetime(2026, 8, 10, 10, 0, tzinfo=UTC)  # 17:00 in Hanoi
    assert dossier(due_at=due_utc, finished_at=hanoi(2026, 8, 10, 16, 59)).on_time
    assert not dossier(due_at=due_utc, finished_at=hanoi(2026, 8, 10, 17, 1)).on_time


@pytest.mark.parametrize(("count", "verdict"), [(0, Verdict.ON_TIME), (1, Verdict.ON_TIME), (2, Verdict.LATE)])
def test_supplement_requests_zero_one_two(count, verdict):
    outcome = dossier(
        finished_at=hanoi(2026, 8, 6, 9, 0),
        supplement_count=count,
        last_supplement_at=hanoi(2026, 8, 4, 9, 0) if count else None,
    )
    assert outcome.verdict is verdict
    if count == 2:
        assert outcome.reason is LateReason.MULTIPLE_SUPPLEMENTS
        assert outcome.lateness == timedelta(0)  # late by rule, not by time


def test_waiting_on_the_single_supplement_request_is_judged_at_the_request():
    request = hanoi(2026, 8, 5, 14, 0)
    outcome = dossier(supplement_count=1, last_supplement_at=request, waiting_supplement=True)
    assert outcome.on_time and outcome.judged_at == request  # as_of 1 Sep is long after due
    late_request = hanoi(2026, 8, 11, 8, 0)
    outcome = dossier(supplement_count=1, last_supplement_at=late_request, waiting_supplement=True)
    assert outcome.reason is LateReason.ENDED_LATE and outcome.lateness == timedelta(hours=15)


def test_waiting_with_two_requests_is_late():
    outcome = dossier(supplement_count=2, last_supplement_at=hanoi(2026, 8, 5), waiting_supplement=True)
    assert outcome.reason is LateReason.MULTIPLE_SUPPLEMENTS


def test_unlawful_pause_is_late():
    outcome = dossier(finished_at=hanoi(2026, 8, 5), unlawful_pause=True)
    assert outcome.verdict is Verdict.LATE and outcome.reason is LateReason.UNLAWFUL_PAUSE


def test_no_due_time_is_on_time():
    assert dossier(due_at=None).on_time
    assert dossier(due_at=None, finished_at=hanoi(2027, 1, 1), as_of=hanoi(2027, 2, 1)).on_time


def test_portal_statutory_limit_without_due_time():
    # Received Thu 12 Feb 2026 09:00; 3 working days: Fri 13, (Tết 16–20), Mon 23, Tue 24 → 24 Feb 09:00.
    received = hanoi(2026, 2, 12, 9, 0)
    base = dict(received_at=received, due_at=None, as_of=hanoi(2026, 3, 31), statutory_days=3)
    on_time = dossier(**base, finished_at=hanoi(2026, 2, 24, 8, 0))
    assert on_time.on_time and on_time.deadline == hanoi(2026, 2, 24, 9, 0)
    late = dossier(**base, finished_at=hanoi(2026, 2, 25, 9, 0))
    assert late.reason is LateReason.ENDED_LATE and late.lateness == timedelta(days=1)
    # The applicant took two days to supplement: 25 Feb 09:00 − 2 days = 23 Feb 09:00, within the limit.
    assert dossier(**base, finished_at=hanoi(2026, 2, 25, 9, 0), applicant_supplement_seconds=2 * 86400).on_time
    # Unfinished: late once as_of less the supplement time passes the limit.
    assert dossier(**{**base, "as_of": hanoi(2026, 2, 24, 9, 0)}).on_time
    assert dossier(**{**base, "as_of": hanoi(2026, 2, 24, 9, 1)}).reason is LateReason.OVERDUE_UNFINISHED


def test_dossier_due_on_a_tet_holiday():
    # The source computed a due time that falls on Tết (17 Feb 2026, a holiday): it stands as given.
    due = hanoi(2026, 2, 17, 17, 0)
    base = dict(received_at=hanoi(2026, 2, 9, 8, 0), due_at=due)
    assert dossier(**base, finished_at=hanoi(2026, 2, 17, 16, 0)).on_time
    assert dossier(**base, as_of=hanoi(2026, 2, 17, 17, 0)).on_time
    overdue = dossier(**base, as_of=hanoi(2026, 2, 23, 8, 0))
    assert overdue.reason is LateReason.OVERDUE_UNFINISHED
    assert overdue.lateness == timedelta(days=5, hours=15)
    # A due time worked out in working days skips Tết: Fri 13 Feb + 1 working day = Mon 23 Feb.
    assert working_deadline(hanoi(2026, 2, 13, 10, 0), 1) == hanoi(2026, 2, 23, 10, 0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"received_at": datetime(2026, 8, 3, 9, 0)},
        {"as_of": datetime(2026, 9, 1)},
        {"supplement_count": -1},
        {"waiting_supplement": True},  # waiting but no request counted
        {"finished_at": hanoi(2026, 8, 1)},  # before received
        {"applicant_supplement_seconds": -5},
    ],
)
def test_inconsistent_dossiers_are_refused(overrides):
    with pytest.raises(TimingError):
        dossier(**overrides)


def test_supplement_requests_without_their_time_are_judged_not_refused():
    # issue 16: ingest accepted supplement_count 2 without last_supplement_time and explain failed
    two = dossier(supplement_count=2, last_supplement_at=None)
    assert not two.on_time and two.reason is LateReason.MULTIPLE_SUPPLEMENTS
    one = dossier(supplement_count=1, last_supplement_at=None)  # not waiting: the count needs no time
    assert one.on_time == dossier(supplement_count=0).on_time


# --- petitions (portal/2025 5.2) ------------------------------------------------------------


@pytest.fixture(scope="module")
def limits():
    return PetitionLimits.from_parameters(RuleBook.load_default().get("portal/2025").indicator("5.2").parameters)


def test_limits_come_from_the_rule_table(limits):
    assert limits == PetitionLimits(refusal=2, first_supplement=5, ready_for_publication=15, publication=2)
    with pytest.raises(TimingError):
        PetitionLimits.from_parameters({"refusal_working_days": 2})


PETITION = hanoi(2026, 3, 2, 9, 0)  # Monday


def test_refusal_within_two_working_days(limits):
    # Mon 2 Mar + 2 working days = Wed 4 Mar 09:00.
    assert classify_petition(PETITION, hanoi(2026, 4, 1), limits, refused_at=hanoi(2026, 3, 4, 8, 0)).on_time
    late = classify_petition(PETITION, hanoi(2026, 4, 1), limits, refused_at=hanoi(2026, 3, 5, 9, 0))
    assert late.reason is LateReason.LATE_REFUSAL and late.lateness == timedelta(days=1)


def test_refusal_limit_skips_the_hung_kings_holiday(limits):
    # Fri 24 Apr 2026: 25–26 weekend, 27 observed holiday; Tue 28 = 1, Wed 29 = 2.
    received = hanoi(2026, 4, 24, 9, 0)
    assert classify_petition(received, hanoi(2026, 5, 30), limits, refused_at=hanoi(2026, 4, 29, 9, 0)).on_time
    late = classify_petition(received, hanoi(2026, 5, 30), limits, refused_at=hanoi(2026, 4, 29, 9, 1))
    assert late.reason is LateReason.LATE_REFUSAL


def test_first_supplement_request_within_five_working_days(limits):
    # Mon 2 Mar + 5 = Mon 9 Mar 09:00.
    ok = classify_petition(PETITION, hanoi(2026, 3, 12), limits, first_supplement_at=hanoi(2026, 3, 9, 9, 0))
    assert ok.on_time
    late = classify_petition(PETITION, hanoi(2026, 3, 12), limits, first_supplement_at=hanoi(2026, 3, 10, 9, 0))
    assert late.reason is LateReason.LATE_SUPPLEMENT_REQUEST


def test_ready_for_publication_within_fifteen_working_days(limits):
    # Mon 2 Mar + 15 working days = Mon 23 Mar 09:00.
    assert classify_petition(PETITION, hanoi(2026, 3, 23, 9, 0), limits).on_time
    overdue = classify_petition(PETITION, hanoi(2026, 3, 24, 9, 0), limits)
    assert overdue.reason is LateReason.OVERDUE_UNFINISHED and overdue.lateness == timedelta(days=1)
    late = classify_petition(
        PETITION, hanoi(2026, 4, 30), limits, ready_at=hanoi(2026, 3, 24, 9, 0), published_at=hanoi(2026, 3, 24, 10, 0)
    )
    assert late.reason is LateReason.LATE_READY_FOR_PUBLICATION


def test_fifteen_days_run_from_the_last_transfer(limits):
    # Transferred Tue 10 Mar 09:00; + 15 working days = Tue 31 Mar 09:00.
    transferred = hanoi(2026, 3, 10, 9, 0)
    assert classify_petition(PETITION, hanoi(2026, 3, 31, 9, 0), limits, last_transfer_at=transferred).on_time
    late = classify_petition(PETITION, hanoi(2026, 3, 31, 9, 1), limits, last_transfer_at=transferred)
    assert late.reason is LateReason.OVERDUE_UNFINISHED


def test_publication_within_two_working_days_of_readiness(limits):
    ready = hanoi(2026, 3, 20, 10, 0)  # Friday; + 2 working days = Tue 24 Mar 10:00
    ok = classify_petition(PETITION, hanoi(2026, 4, 30), limits, ready_at=ready, published_at=hanoi(2026, 3, 24, 9))
    assert ok.on_time
    late = classify_petition(PETITION, hanoi(2026, 4, 30), limits, ready_at=ready, published_at=hanoi(2026, 3, 25, 9))
    assert late.reason is LateReason.LATE_PUBLICATION
    waiting = classify_petition(PETITION, hanoi(2026, 3, 24, 11, 0), limits, ready_at=ready)
    assert waiting.reason is LateReason.OVERDUE_UNFINISHED
    assert classify_petition(PETITION, hanoi(2026, 3, 24, 10, 0), limits, ready_at=ready).on_time


def test_petition_by_due_time_for_766():
    received, due = hanoi(2026, 3, 2), hanoi(2026, 3, 20, 17, 0)
    assert classify_petition_by_due(received, due, hanoi(2026, 3, 20, 16, 0), hanoi(2026, 4, 1)).on_time
    assert classify_petition_by_due(received, due, None, hanoi(2026, 3, 21)).reason is LateReason.OVERDUE_UNFINISHED
    assert classify_petition_by_due(received, due, hanoi(2026, 3, 23), hanoi(2026, 4, 1)).reason is (
        LateReason.ENDED_LATE
    )


# --- publication decisions (1.1) and listings (1.2) -------------------------------------------


def test_decision_lead_time():
    # Effective Mon 9 Mar 2026; 5 working days before = Mon 2 Mar.
    assert decision_on_time(date(2026, 3, 2), date(2026, 3, 9), 5)
    assert not decision_on_time(date(2026, 3, 3), date(2026, 3, 9), 5)
    # Effective Mon 23 Feb 2026, after Tết: 5 working days before = Mon 9 Feb.
    assert decision_on_time(date(2026, 2, 9), date(2026, 2, 23), 5)
    assert not decision_on_time(date(2026, 2, 10), date(2026, 2, 23), 5)


def test_listing_allowance():
    # Decided Fri 28 Aug 2026; 31 Aug, 1–2 Sep off; Thu 3 = 1, Fri 4 = 2, Mon 7 = 3, Tue 8 = 4, Wed 9 = 5.
    assert listing_on_time(date(2026, 8, 28), date(2026, 9, 9), 5)
    assert not listing_on_time(date(2026, 8, 28), date(2026, 9, 10), 5)
