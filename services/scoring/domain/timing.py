"""When is a dossier, a petition, a publication on time? Pure functions over primitive fields.

Dossiers (indicator 2.1, SPEC §4.3 and PORTAL_RULES 2.1), judged as of an evaluation moment:

- more than one supplement request: late;
- paused unlawfully: late;
- finished (at or before ``as_of``): late if it ended after its due time;
- waiting on its single supplement request: judged at the time of that request (a record stored
  without that time — ingest refuses such records now — is judged as any unfinished dossier);
- otherwise unfinished: late once its due time has passed at ``as_of`` (a due time equal to
  ``as_of`` has not passed yet);
- no due time: on time — unless ``statutory_days`` is given (portal/2025), then on time if the
  elapsed time less the applicant's supplement time is within the statutory limit.

The fields describe the dossier as known at ``as_of``; a ``finished_at`` after ``as_of`` is
treated as not finished yet, so a past moment can be re-scored from today's record. The due time
from the source is already extended for lawful pauses, so the applicant's supplement time is only
subtracted in the statutory-limit case (subtracting it again would count the pause twice).

Working-day limits (statutory limits, petition stage limits, 1.1/1.2 allowances) are counted on
Vietnam's working-day calendar: ``n`` working days after a moment is the same Hanoi clock time on
the ``n``-th working day after its Hanoi date (submitted Saturday 10:00, 2 working days → Tuesday
10:00).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from services.scoring.domain.periods import HANOI
from services.scoring.domain.workdays import add_working_days


class TimingError(ValueError):
    """Inconsistent or incomplete facts about a dossier or petition."""


class Verdict(StrEnum):
    ON_TIME = "ON_TIME"
    LATE = "LATE"


class LateReason(StrEnum):
    ENDED_LATE = "ended_late"
    OVERDUE_UNFINISHED = "overdue_unfinished"
    MULTIPLE_SUPPLEMENTS = "multiple_supplements"
    UNLAWFUL_PAUSE = "unlawful_pause"
    LATE_REFUSAL = "late_refusal"
    LATE_SUPPLEMENT_REQUEST = "late_supplement_request"
    LATE_READY_FOR_PUBLICATION = "late_ready_for_publication"
    LATE_PUBLICATION = "late_publication"


@dataclass(frozen=True)
class Outcome:
    """A verdict with its explanation.

    ``judged_at`` is the end time used (finish, supplement request, or ``as_of``); ``deadline`` the
    due time or computed limit it was held against (None when there is none); ``lateness`` how far
    past the deadline it went (zero when on time, and possibly zero when late for a reason that is
    not about time, such as a second supplement request).
    """

    verdict: Verdict
    reason: LateReason | None
    lateness: timedelta
    judged_at: datetime
    deadline: datetime | None

    @property
    def on_time(self) -> bool:
        return self.verdict is Verdict.ON_TIME


def classify_dossier(
    received_at: datetime,
    due_at: datetime | None,
    finished_at: datetime | None,
    supplement_count: int,
    last_supplement_at: datetime | None,
    waiting_supplement: bool,
    unlawful_pause: bool,
    as_of: datetime,
    statutory_days: int | None = None,
    applicant_supplement_seconds: int = 0,
) -> Outcome:
    """On time or late, as of ``as_of`` (see the module docstring for the rules)."""
    _aware(
        received_at=received_at,
        due_at=due_at,
        finished_at=finished_at,
        last_supplement_at=last_supplement_at,
        as_of=as_of,
    )
    if supplement_count < 0:
        raise TimingError(f"supplement_count must not be negative, got {supplement_count}")
    if applicant_supplement_seconds < 0:
        raise TimingError(f"applicant_supplement_seconds must not be negative, got {applicant_supplement_seconds}")
    if statutory_days is not None and statutory_days < 0:
        raise TimingError(f"statutory_days must not be negative, got {statutory_days}")
    if finished_at is not None and finished_at < received_at:
        raise TimingError(f"finished_at {finished_at.isoformat()} is before received_at {received_at.isoformat()}")

    finished = finished_at is not None and finished_at <= as_of
    ended = finished
    if finished:
        end = finished_at
    elif waiting_supplement and supplement_count == 0:
        raise TimingError("waiting_supplement is set but no supplement request was counted")
    elif waiting_supplement and supplement_count == 1 and last_supplement_at is not None:
        end, ended = last_supplement_at, True
    else:
        end = as_of

    deadline, effective_end = due_at, end
    if due_at is None and statutory_days is not None:
        deadline = working_deadline(received_at, statutory_days)
        effective_end = end - timedelta(seconds=applicant_supplement_seconds)
    lateness = max(timedelta(0), effective_end - deadline) if deadline is not None else timedelta(0)

    if supplement_count > 1:
        return Outcome(Verdict.LATE, LateReason.MULTIPLE_SUPPLEMENTS, lateness, end, deadline)
    if unlawful_pause:
        return Outcome(Verdict.LATE, LateReason.UNLAWFUL_PAUSE, lateness, end, deadline)
    if deadline is not None and effective_end > deadline:
        reason = LateReason.ENDED_LATE if ended else LateReason.OVERDUE_UNFINISHED
        return Outcome(Verdict.LATE, reason, lateness, end, deadline)
    return Outcome(Verdict.ON_TIME, None, timedelta(0), end, deadline)


@dataclass(frozen=True)
class PetitionLimits:
    """Stage limits of a petition in working days (portal/2025, indicator 5.2)."""

    refusal: int
    first_supplement: int
    ready_for_publication: int
    publication: int

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> PetitionLimits:
        """From the rule table's 5.2 parameters (``refusal_working_days`` …)."""
        try:
            return cls(
                refusal=parameters["refusal_working_days"],
                first_supplement=parameters["first_supplement_working_days"],
                ready_for_publication=parameters["ready_for_publication_working_days"],
                publication=parameters["publication_working_days"],
            )
        except KeyError as missing:
            raise TimingError(f"petition limits need the parameter {missing.args[0]}") from None


def classify_petition(
    received_at: datetime,
    as_of: datetime,
    limits: PetitionLimits,
    *,
    last_transfer_at: datetime | None = None,
    refused_at: datetime | None = None,
    first_supplement_at: datetime | None = None,
    ready_at: datetime | None = None,
    published_at: datetime | None = None,
) -> Outcome:
    """A petition's stages against their working-day limits, as of ``as_of`` (portal/2025).

    Refusal, the first supplement request and readiness for publication are due within their
    limits of submission or of the last transfer, whichever is later; publication within its
    limit of readiness. A refusal ends the petition. Events after ``as_of`` have not happened
    yet. The first stage found late decides the reason. Supplement time does not stop the clock
    (no published rule says it does).
    """
    _aware(
        received_at=received_at,
        as_of=as_of,
        last_transfer_at=last_transfer_at,
        refused_at=refused_at,
        first_supplement_at=first_supplement_at,
        ready_at=ready_at,
        published_at=published_at,
    )

    def happened(moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment <= as_of else None

    transfer = happened(last_transfer_at)
    refused, supplement = happened(refused_at), happened(first_supplement_at)
    ready, published = happened(ready_at), happened(published_at)
    anchor = max(received_at, transfer) if transfer else received_at

    def check(moment: datetime | None, start: datetime, days: int, reason: LateReason) -> Outcome | None:
        deadline = working_deadline(start, days)
        judged = moment if moment is not None else as_of
        if judged > deadline:
            late_reason = reason if moment is not None else LateReason.OVERDUE_UNFINISHED
            return Outcome(Verdict.LATE, late_reason, judged - deadline, judged, deadline)
        return None

    if refused is not None:
        late = check(refused, anchor, limits.refusal, LateReason.LATE_REFUSAL)
        return late or Outcome(Verdict.ON_TIME, None, timedelta(0), refused, working_deadline(anchor, limits.refusal))
    if supplement is not None:
        late = check(supplement, anchor, limits.first_supplement, LateReason.LATE_SUPPLEMENT_REQUEST)
        if late:
            return late
    late = check(ready, anchor, limits.ready_for_publication, LateReason.LATE_READY_FOR_PUBLICATION)
    if late or ready is None:
        return late or Outcome(
            Verdict.ON_TIME, None, timedelta(0), as_of, working_deadline(anchor, limits.ready_for_publication)
        )
    late = check(published, ready, limits.publication, LateReason.LATE_PUBLICATION)
    deadline = working_deadline(ready, limits.publication)
    return late or Outcome(Verdict.ON_TIME, None, timedelta(0), published or as_of, deadline)


def classify_petition_by_due(
    received_at: datetime, due_at: datetime, resolved_at: datetime | None, as_of: datetime
) -> Outcome:
    """766/2022's 5.2: resolved by its due time; unresolved ones are late once the due time passed."""
    return classify_dossier(
        received_at=received_at,
        due_at=due_at,
        finished_at=resolved_at,
        supplement_count=0,
        last_supplement_at=None,
        waiting_supplement=False,
        unlawful_pause=False,
        as_of=as_of,
    )


def working_deadline(start: datetime, working_days: int) -> datetime:
    """The same Hanoi clock time as ``start``, ``working_days`` working days after its Hanoi date."""
    local = start.astimezone(HANOI)
    day = add_working_days(local.date(), working_days)
    return datetime.combine(day, local.timetz())


def decision_on_time(decided_on: date, takes_effect_on: date, lead_working_days: int) -> bool:
    """1.1: a publication decision is on time when made at least ``lead_working_days`` working days
    before the legal text takes effect (decided on or before the working day that many working
    days before the effective date)."""
    return decided_on <= add_working_days(takes_effect_on, -lead_working_days)


def listing_on_time(decided_on: date, listed_on: date, allowance_working_days: int) -> bool:
    """1.2: a procedure is listed on time when listed within ``allowance_working_days`` working
    days of its decision."""
    return listed_on <= add_working_days(decided_on, allowance_working_days)


def _aware(**moments: datetime | None) -> None:
    for name, moment in moments.items():
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise TimingError(f"{name} {moment.isoformat()} has no time zone")
