"""Early warning over stored data: a unit's at-risk dossiers and the running period's projection.

Reads the unit's unfinished dossiers due within the horizon through ``score_dossiers``' deadline-day
indexes (never a scan of the store), re-judges each from its stored row, and prices them with the
scope's scorecard counts through the rule engine (:mod:`services.scoring.domain.atrisk`).

Decided where the spec is silent:

* The period at stake is the running month unless another running period is named. A dossier due
  after that period's end is priced as if it turned late within it: an unfinished dossier carries over
  into the next period, which will count it the same way.
* Scope defaults to the unit with its subtree, as scorecards do.
* A rule version without a lateness policy has nothing at risk: an empty list saying why
  (``NO_LATENESS_POLICY``) and the live scorecard as the projection, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.scoring import storage_atrisk as SA
from services.scoring.domain import cells as C
from services.scoring.domain.atrisk import (
    DEFAULT_WORKING_DAYS,
    MAX_WORKING_DAYS,
    AtRisk,
    Candidate,
    Horizon,
    assess,
    nothing_at_risk,
    turned_late,
)
from services.scoring.domain.periods import HANOI, Period, evaluation_moment
from services.scoring.service import Scoring, _window
from services.shared.errors import FailedPrecondition, FieldViolation, InvalidArgument


@dataclass(frozen=True)
class AtRiskReport:
    unit_code: str
    period: Period
    rule_version: str
    as_of: datetime
    horizon_end: datetime
    assessment: AtRisk
    procedure_names: dict[str, str]
    #: why nothing can be at risk under the rule version (``nothing_at_risk``); empty otherwise
    empty_reason_code: str = ""
    empty_reason: str = ""


def at_risk(scoring: Scoring, unit_code: str, scope: str, working_days: int = 0, period: Period | None = None,
            version: str = "") -> AtRiskReport:
    if working_days < 0 or working_days > MAX_WORKING_DAYS:
        raise InvalidArgument(f"working_days must be between 0 and {MAX_WORKING_DAYS}", reason="BAD_WORKING_DAYS",
                              violations=[FieldViolation("working_days", f"0–{MAX_WORKING_DAYS}")])
    days = working_days or DEFAULT_WORKING_DAYS
    now = scoring.now().astimezone(HANOI)
    if period is None:
        period = Period.month(now.year, now.month)
    elif not period.contains(now):
        raise FailedPrecondition(f"period {period} is not running: only a running period's points are at stake",
                                 reason="PERIOD_NOT_RUNNING", metadata={"period": str(period)})
    hierarchy, procs = scoring.catalogue_with((unit_code,))
    table = scoring.table(version, period)
    policy = table.policy
    moment = evaluation_moment(period, now)
    w = _window(period, moment, now)
    last_day = (period.end - timedelta(days=1)).date()
    members = hierarchy.members(unit_code, scope, last_day)
    horizon = Horizon.of(now.date(), days)
    day_from, day_to = horizon.day_keys()
    now_us = C.to_us(now)
    statutory = {code: C.clamp_statutory_days(info.statutory_days) for code, (_, info) in procs.items()}
    candidates = []
    rows = []
    if policy is not None:  # without one no dossier is ever late: none is at risk (nothing_at_risk)
        with scoring.db.read() as conn:
            keys = [(code, source) for code, source, _ in SA.open_due_between(conn, members, policy, day_from,
                                                                                day_to)]
            rows = SA.dossier_rows(conn, keys) if keys else []
    for row in rows:
        if row.end_at is not None or not C.row_in_window(row, w):
            continue  # finished since the consumer last saw it, or not in the period's population
        stat = statutory.get(row.procedure_code, 0)
        deadline = C.deadline_us(row, stat, policy)
        if deadline is None or deadline < now_us or C.day_of(deadline) >= day_to:
            continue
        dissatisfied = bool(C.contribution(row, stat).bits & C.BIT["dp"])
        due = C.from_us(deadline).astimezone(HANOI)
        candidates.append(Candidate(row.source_id, row.code, row.unit_code, row.procedure_code, due, due.date(),
                                    dissatisfied))
    data = scoring._read({unit_code: members}, w, hierarchy, procs, with_details=True, durations=False)[unit_code]

    def score_with(late: int, late_not_dissatisfied: int):
        d = data if policy is None else replace(data, sums=turned_late(data.sums, late, late_not_dissatisfied,
                                                                        policy))
        return scoring._score(table, period, moment, now, hierarchy, procs, members, d, w, scope).scorecard

    assessment = assess(horizon, candidates, score_with)
    end = datetime(horizon.end.year, horizon.end.month, horizon.end.day, tzinfo=HANOI)
    names = {code: name for code, (name, _) in procs.items()}
    return AtRiskReport(unit_code, period, table.id, now, end, assessment, names,
                        *nothing_at_risk(table.id, policy))


def projections(scoring: Scoring, unit_kind: int, parent_code: str, scope: str, working_days: int = 0,
                only_dropping: bool = False) -> tuple[Period, str, list[tuple[object, AtRisk]], tuple[str, str]]:
    """The watch list: every unit of ``unit_kind`` (beneath ``parent_code``) active in the running month,
    with its projection — those whose projection drops a band first, then by points at stake. Counts
    only: no dossier leaves this function's callers' hands (the transport sends counts). Last: why no unit
    can have dossiers at risk under the version in force (``nothing_at_risk``), or ``("", "")``."""
    now = scoring.now().astimezone(HANOI)
    period = Period.month(now.year, now.month)
    hierarchy, _ = scoring.catalogue_with((parent_code,) if parent_code else ())
    first_day, last_day = period.first_day, (period.end - timedelta(days=1)).date()
    codes = sorted(u.code for u in hierarchy.units.values()
                   if u.kind == unit_kind and hierarchy.active_on(u, first_day, last_day)
                   and (not parent_code or parent_code in hierarchy.ancestors(u.code, last_day)))
    out = []
    version = ""
    for code in codes:
        report = at_risk(scoring, code, scope, working_days, period)
        version = report.rule_version
        p = report.assessment.projection
        drops = p.all_late.classification.code != p.none_late.classification.code
        if drops or not only_dropping:
            out.append((hierarchy.units[code], report.assessment))
    out.sort(key=lambda x: (x[1].projection.all_late.classification.code
                            == x[1].projection.none_late.classification.code,
                            -(x[1].projection.none_late.total - x[1].projection.all_late.total), x[0].code))
    table = scoring.table("", period)
    return period, version or table.id, out, nothing_at_risk(table.id, table.policy)
