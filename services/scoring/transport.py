"""gRPC transport of scoring: proto in → domain call → proto out.

Implemented so far: ``WhatIf`` (the rule engine on counts given directly) and ``ListRuleVersions``.
The RPCs that read stored records (scorecards, rankings, explanations, the change list) answer
UNIMPLEMENTED until the scoring aggregates exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from math import floor

import grpc
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from google.type import date_pb2, decimal_pb2

from services.scoring.domain.engine import Counts, Scorecard, ScoringInputError, Status, score
from services.scoring.domain.periods import HANOI, Period, PeriodError, PeriodKind
from services.scoring.domain.rules import RuleBook, RuleTable, UnknownRuleVersion
from services.shared.errors import FieldViolation, InvalidArgument, NotFound

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ScoringService"].full_name

_KINDS = {
    tpb.PERIOD_KIND_MONTH: PeriodKind.MONTH,
    tpb.PERIOD_KIND_QUARTER: PeriodKind.QUARTER,
    tpb.PERIOD_KIND_YEAR: PeriodKind.YEAR,
    tpb.PERIOD_KIND_YEAR_TO_DATE: PeriodKind.YTD,
}
_KINDS_BACK = {v: k for k, v in _KINDS.items()}
_STATUS = {
    Status.SCORED: tpb.INDICATOR_STATUS_SCORED,
    Status.NA: tpb.INDICATOR_STATUS_NOT_APPLICABLE,
    Status.ANALYSIS: tpb.INDICATOR_STATUS_ANALYSIS_ONLY,
    Status.UNSCORED: tpb.INDICATOR_STATUS_UNSCORED,
}
_BANDS = {
    "EXCELLENT": tpb.CLASSIFICATION_EXCELLENT,
    "GOOD": tpb.CLASSIFICATION_GOOD,
    "FAIR": tpb.CLASSIFICATION_FAIR,
    "AVERAGE": tpb.CLASSIFICATION_AVERAGE,
    "WEAK": tpb.CLASSIFICATION_WEAK,
}


def decimal(value: Fraction | int | None, places: int) -> decimal_pb2.Decimal | None:
    """Exact half-up rounding of a non-negative rational to ``places`` decimals."""
    if value is None:
        return None
    scaled = floor(Fraction(value) * 10**places + Fraction(1, 2))
    return decimal_pb2.Decimal(value=str(Decimal(scaled).scaleb(-places)))


def period_from_proto(p: tpb.Period, field: str = "period") -> Period:
    if p.kind not in _KINDS:
        raise InvalidArgument("period.kind is required", reason="BAD_PERIOD",
                              violations=[FieldViolation(f"{field}.kind", "required")])
    try:
        if _KINDS[p.kind] in (PeriodKind.MONTH, PeriodKind.QUARTER):
            return Period(_KINDS[p.kind], p.year, p.number)
        return Period(_KINDS[p.kind], p.year)
    except (PeriodError, ValueError) as exc:
        raise InvalidArgument(f"bad period: {exc}", reason="BAD_PERIOD",
                              violations=[FieldViolation(field, str(exc))]) from exc


def period_to_proto(p: Period) -> tpb.Period:
    number = p.number if p.kind in (PeriodKind.MONTH, PeriodKind.QUARTER) else 0
    return tpb.Period(kind=_KINDS_BACK[p.kind], year=p.year, number=number or 0)


def scorecard_to_proto(sc: Scorecard, compute_time: datetime) -> tpb.Scorecard:
    out = tpb.Scorecard(
        period=period_to_proto(sc.period),
        rule_version=sc.version,
        total=decimal(sc.total, 2),
        total_exact=tpb.Ratio(numerator=sc.total.numerator, denominator=sc.total.denominator),
        classification=_BANDS.get(sc.classification.code, tpb.CLASSIFICATION_UNSPECIFIED),
        classification_label=sc.classification.label,
    )
    out.compute_time.FromDatetime(compute_time)
    if sc.as_of is not None:
        out.as_of.FromDatetime(sc.as_of)
    for g in sc.groups:
        out.groups.add(id=g.id, name=g.name, max_points=decimal(g.max, 2), points=decimal(g.points, 2))
    for r in sc.indicators:
        ind = out.indicators.add(
            id=r.id, group_id=r.group, name=r.name, max_points=decimal(r.max, 2),
            numerator=r.numerator or 0,
            # A previous-year fallback denominator can be fractional (1000/12): the exact value is
            # in the rate; the count shown is rounded.
            denominator=round(r.denominator) if r.denominator is not None else 0,
            points=decimal(r.points, 2),
            points_exact=tpb.Ratio(numerator=r.points.numerator, denominator=r.points.denominator),
            status=_STATUS[r.status], flags=sorted(r.flags),
        )
        if r.rate is not None:
            ind.rate.CopyFrom(decimal(r.rate, 4))
        if r.threshold is not None:
            ind.threshold.CopyFrom(decimal(r.threshold, 4))
        for c in r.components:
            comp = ind.components.add(id=c.id, name=c.name, numerator=c.numerator, denominator=c.denominator,
                                      max_points=decimal(c.max, 2), points=decimal(c.points, 2))
            if c.rate is not None:
                comp.rate.CopyFrom(decimal(c.rate, 4))
            if c.threshold is not None:
                comp.threshold.CopyFrom(decimal(c.threshold, 4))
    return out


def rule_version_to_proto(t: RuleTable) -> pb.RuleVersion:
    out = pb.RuleVersion(id=t.id, name=t.name, effective_date=date_pb2.Date(
        year=t.effective_from.year, month=t.effective_from.month, day=t.effective_from.day))
    for g in t.groups:
        out.groups.add(id=g.id, name=g.name, max_points=decimal(g.max, 2))
    for i in t.indicators:
        d = out.indicators.add(
            id=i.id, group_id=i.group, name=i.name, max_points=decimal(i.max, 2),
            kind="composite" if i.is_composite else str(i.kind), no_data_rule=str(i.no_data or ""),
            flags=sorted(i.flags),
            description=(f"{i.numerator} / {i.denominator}" if i.numerator and i.denominator else i.note),
        )
        for s in i.threshold.stages if i.threshold else ():
            stage = d.thresholds.add(value=decimal(s.value, 4))
            stage.start_date.CopyFrom(date_pb2.Date(year=s.start.year, month=s.start.month, day=s.start.day))
            if s.end is not None:
                stage.end_date.CopyFrom(date_pb2.Date(year=s.end.year, month=s.end.month, day=s.end.day))
    return out


class ScoringServicer(scoring_pb2_grpc.ScoringServiceServicer):
    def __init__(self, book: RuleBook, now: Callable[[], datetime] = lambda: datetime.now(HANOI)) -> None:
        self.book = book
        self.now = now

    def _table(self, version: str) -> RuleTable:
        if not version:
            raise InvalidArgument("rule_version is required", reason="RULE_VERSION_REQUIRED",
                                  violations=[FieldViolation("rule_version", "required")])
        try:
            return self.book.get(version)
        except UnknownRuleVersion as exc:
            known = ", ".join(t.id for t in self.book.versions())
            raise NotFound(f"no rule version {version!r} (known: {known})", reason="UNKNOWN_RULE_VERSION",
                           metadata={"rule_version": version[:64]}) from exc

    def WhatIf(self, request: pb.WhatIfRequest, context) -> pb.WhatIfResponse:
        table = self._table(request.rule_version)
        now = self.now()
        period = (period_from_proto(request.period) if request.HasField("period")
                  else Period.month(now.year, now.month))
        counts: dict = {}
        prev_year: dict[str, Counts] = {}
        where = "counts"
        try:
            for i, c in enumerate(request.counts):
                if c.indicator_id in counts:
                    raise InvalidArgument(f"indicator {c.indicator_id} is given twice", reason="DUPLICATE_INDICATOR",
                                          violations=[FieldViolation(f"counts[{i}].indicator_id", "given twice")])
                where = f"counts[{i}]"
                if c.components:
                    counts[c.indicator_id] = {k.component_id: Counts(k.numerator, k.denominator)
                                              for k in c.components}
                else:
                    counts[c.indicator_id] = Counts(c.numerator, c.denominator)
                if c.previous_year_numerator or c.previous_year_denominator:
                    prev_year[c.indicator_id] = Counts(c.previous_year_numerator, c.previous_year_denominator)
            where = "counts"
            card = score(table, counts, period, prev_year=prev_year)
        except ScoringInputError as exc:
            raise InvalidArgument(str(exc), reason="BAD_COUNTS",
                                  violations=[FieldViolation(where, str(exc))]) from exc
        return pb.WhatIfResponse(scorecard=scorecard_to_proto(card, now))

    def ListRuleVersions(self, request, context) -> pb.ListRuleVersionsResponse:
        return pb.ListRuleVersionsResponse(rule_versions=[rule_version_to_proto(t) for t in self.book.versions()])

    def _not_yet(self, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED,
                      "scorecards from stored records are not available yet: use WhatIf with counts")

    def GetScorecard(self, request, context):
        self._not_yet(context)

    def BatchGetScorecards(self, request, context):
        self._not_yet(context)

    def GetRanking(self, request, context):
        self._not_yet(context)

    def ExplainIndicator(self, request, context):
        self._not_yet(context)

    def ListScorecardChanges(self, request, context):
        self._not_yet(context)
