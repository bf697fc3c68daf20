"""gRPC transport of scoring: proto in → domain call → proto out.

``WhatIf`` runs the rule engine on counts given directly; the other reads go through
:class:`services.scoring.service.Scoring` (stored records, kept current by the consumer).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from fractions import Fraction

from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2, decimal_pb2

from services.scoring.atrisk import AtRiskReport, at_risk, projections
from services.scoring.domain.engine import Counts, Scorecard, ScoringInputError, Status, score
from services.scoring.domain.periods import HANOI, Period, PeriodError, PeriodKind
from services.scoring.domain.rules import RuleBook, RuleTable, UnknownRuleVersion
from services.scoring.service import SELF, SUBTREE, Scoring, explain
from services.shared.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.shared.interceptors import current_principal

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ScoringService"].full_name
#: Open to any caller: they answer counts, never a record (publish, what-if planners, self-assessment).
#: ExplainIndicator and ListAtRiskDossiers list records — dossier and petition codes, ratings — and need a
#: credential that covers the unit (OPERATIONS.md, "Who may read and write what").
RECORD_METHODS = ("ExplainIndicator", "ListAtRiskDossiers")
PUBLIC_METHODS = tuple(f"/{SERVICE_NAME}/{m.name}" for m in pb.DESCRIPTOR.services_by_name["ScoringService"].methods
                       if m.name not in RECORD_METHODS)

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
    n, d = (value, 1) if isinstance(value, int) else (value.numerator, value.denominator)
    scaled = (2 * n * 10**places + d) // (2 * d)  # floor(value · 10^places + 1/2), in integers
    if not places:
        return decimal_pb2.Decimal(value=str(scaled))
    whole, part = divmod(abs(scaled), 10**places)
    return decimal_pb2.Decimal(value=f"{'-' if scaled < 0 else ''}{whole}.{part:0{places}d}")


def ratio(value: Fraction) -> tpb.Ratio:
    """An exact rational as decimal digits (sums of many rates outgrow 64-bit integers)."""
    value = Fraction(value)
    return tpb.Ratio(numerator=str(value.numerator), denominator=str(value.denominator))


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
        total_exact=ratio(sc.total),
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
            points_exact=ratio(r.points),
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
    def __init__(self, book: RuleBook, now: Callable[[], datetime] = lambda: datetime.now(HANOI),
                 scoring: Scoring | None = None) -> None:
        self.book = book
        self.now = now
        self.scoring = scoring

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
        if request.unit_kind and request.unit_kind not in _UNIT_KIND_NAMES:
            raise InvalidArgument(f"unknown unit_kind {request.unit_kind}", reason="BAD_UNIT_KIND",
                                  violations=[FieldViolation("unit_kind", "a chiso.types.v1.UnitKind value")])
        out = scorecard_to_proto(card, now)
        out.unit.kind = request.unit_kind
        fill_parameters(out, table, request.unit_kind)  # 1.1 and 1.2: ministries' working days
        return pb.WhatIfResponse(scorecard=out)

    def ListRuleVersions(self, request, context) -> pb.ListRuleVersionsResponse:
        return pb.ListRuleVersionsResponse(rule_versions=[rule_version_to_proto(t) for t in self.book.versions()])

    # --- stored data ------------------------------------------------------------------------

    def _svc(self) -> Scoring:
        if self.scoring is None:
            raise FailedPrecondition("this scoring server has no database", reason="NO_DATABASE")
        return self.scoring

    def _version(self, version: str) -> str:
        if version:
            self._table(version)
        return version

    def _as_of(self, request) -> datetime | None:
        if not request.HasField("as_of"):
            return None
        try:
            return request.as_of.ToDatetime(tzinfo=HANOI)
        except (ValueError, OverflowError):  # seconds or nanos outside google.protobuf.Timestamp's range
            raise InvalidArgument.for_field("as_of", "not a valid timestamp (0001-01-01 to 9999-12-31, nanos "
                                            "0–999,999,999)", reason="BAD_TIMESTAMP") from None

    def GetScorecard(self, request: pb.GetScorecardRequest, context) -> pb.GetScorecardResponse:
        if not request.unit_code:
            raise InvalidArgument("unit_code is required", reason="UNIT_REQUIRED",
                                  violations=[FieldViolation("unit_code", "required")])
        period = period_from_proto(request.period)
        card = self._svc().scorecard(request.unit_code, period, _scope(request.scope), self._as_of(request),
                                     self._version(request.rule_version))
        out = unit_scorecard_to_proto(card, self.now())
        fill_parameters(out, self.book.get(out.rule_version), out.unit.kind)
        _echo_as_of(request, out)
        return pb.GetScorecardResponse(scorecard=out)

    def BatchGetScorecards(self, request: pb.BatchGetScorecardsRequest, context) -> pb.BatchGetScorecardsResponse:
        if len(request.keys) > MAX_BATCH_KEYS:
            raise InvalidArgument(f"at most {MAX_BATCH_KEYS} keys per call", reason="BATCH_TOO_LARGE",
                                  violations=[FieldViolation("keys", f"{len(request.keys)} keys")])
        keys = []
        for i, key in enumerate(request.keys):
            if not key.unit_code:
                raise InvalidArgument("unit_code is required", reason="UNIT_REQUIRED",
                                      violations=[FieldViolation(f"keys[{i}].unit_code", "required")])
            keys.append((key.unit_code, period_from_proto(key.period, f"keys[{i}].period"),
                         _scope(key.scope, f"keys[{i}].scope")))
        version = self._version(request.rule_version)
        cards = self._svc().batch(keys, self._as_of(request), version)
        now = self.now()
        out = pb.BatchGetScorecardsResponse(scorecards=[unit_scorecard_to_proto(card, now) for card in cards])
        for sc in out.scorecards:
            fill_parameters(sc, self.book.get(sc.rule_version), sc.unit.kind)
            _echo_as_of(request, sc)
        return out

    def GetRanking(self, request: pb.GetRankingRequest, context) -> pb.GetRankingResponse:
        if request.unit_kind == tpb.UNIT_KIND_UNSPECIFIED:
            raise InvalidArgument("unit_kind is required", reason="UNIT_KIND_REQUIRED",
                                  violations=[FieldViolation("unit_kind", "required")])
        period = period_from_proto(request.period)
        result = self._svc().ranking(period, request.unit_kind, request.parent_code, _scope(request.scope),
                                     self._as_of(request), self._version(request.rule_version))
        ranking = tpb.Ranking(period=period_to_proto(period), unit_kind=request.unit_kind,
                              parent_code=request.parent_code, rule_version=result.version,
                              scope=_SCOPE_TO_PROTO[result.scope],
                              units_without_data=[unit_ref(card.unit) for card in result.without_data])
        ranking.as_of.FromDatetime(result.as_of)
        _echo_as_of(request, ranking)
        for position, card in result.entries:
            sc = card.scorecard
            ranking.entries.add(rank=position, unit=unit_ref(card.unit), total=decimal(sc.total, 2),
                                classification=_BANDS.get(sc.classification.code, 0))
        return pb.GetRankingResponse(ranking=ranking)

    def ExplainIndicator(self, request: pb.ExplainIndicatorRequest, context) -> pb.ExplainIndicatorResponse:
        for name in ("unit_code", "indicator_id"):
            if not getattr(request, name):
                raise InvalidArgument(f"{name} is required", reason="FIELD_REQUIRED",
                                      violations=[FieldViolation(name, "required")])
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative", reason="BAD_PAGE_SIZE",
                                  violations=[FieldViolation("page_size", "negative")])
        period = period_from_proto(request.period)
        self._svc().require_started(period, self._as_of(request))
        self._check_record_reader(request.unit_code, period)
        size = min(request.page_size or 100, 1000)
        fingerprint = _fingerprint(request)
        offset = _decode_token(request.page_token, fingerprint)
        version = self._version(request.rule_version)
        explained = explain(self._svc(), request.unit_code, period, _scope(request.scope), self._as_of(request),
                            version, request.indicator_id)
        items = explained.items
        page = items[offset : offset + size]
        nxt = _encode_token(offset + size, fingerprint) if offset + size < len(items) else ""
        return pb.ExplainIndicatorResponse(
            items=[pb.ExplanationItem(record_kind=c.record_kind, record_key=c.record_key, unit_code=c.unit_code,
                                      reason=c.reason, reason_code=c.code, late_seconds=c.late_seconds,
                                      attributes=dict(c.attributes), points=decimal(points, 2),
                                      points_exact=ratio(points))
                   for c, points in page],
            next_page_token=nxt, total_size=len(items), points_lost=decimal(explained.lost, 2),
            points_lost_exact=ratio(explained.lost), headline=explained.headline,
            rule_version=explained.rule_version)

    def _check_record_reader(self, unit_code: str, period: Period) -> None:
        """Records (dossier and petition codes, ratings) are for the unit's source systems, its officials
        and operators: PERMISSION_DENIED (UNIT_NOT_GRANTED) for anyone else."""
        principal = current_principal()
        identity = principal.attributes.get("identity") if principal is not None else None
        if not self._svc().may_read_records(identity, unit_code, period):
            raise PermissionDenied(
                f"the records of {unit_code[:64]} are for its own source systems, its officials and "
                "operators; its counts are in its scorecard", reason="UNIT_NOT_GRANTED",
                metadata={"unit_code": unit_code[:64]})

    def ListAtRiskDossiers(self, request: pb.ListAtRiskDossiersRequest, context) -> pb.ListAtRiskDossiersResponse:
        if not request.unit_code:
            raise InvalidArgument("unit_code is required", reason="UNIT_REQUIRED",
                                  violations=[FieldViolation("unit_code", "required")])
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative", reason="BAD_PAGE_SIZE",
                                  violations=[FieldViolation("page_size", "negative")])
        period = period_from_proto(request.period) if request.HasField("period") else None
        now = self._svc().now()
        self._check_record_reader(request.unit_code, period or Period.month(now.year, now.month))
        size = min(request.page_size or 100, 1000)
        fingerprint = _fingerprint(request)
        offset = _decode_token(request.page_token, fingerprint)
        report = at_risk(self._svc(), request.unit_code, _scope(request.scope), request.working_days, period,
                         self._version(request.rule_version))
        return at_risk_to_proto(report, offset, size, fingerprint)

    def ListProjections(self, request: pb.ListProjectionsRequest, context) -> pb.ListProjectionsResponse:
        if request.unit_kind == tpb.UNIT_KIND_UNSPECIFIED:
            raise InvalidArgument("unit_kind is required", reason="UNIT_KIND_REQUIRED",
                                  violations=[FieldViolation("unit_kind", "required")])
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative", reason="BAD_PAGE_SIZE",
                                  violations=[FieldViolation("page_size", "negative")])
        size = min(request.page_size or 100, 500)
        fingerprint = _fingerprint(request)
        offset = _decode_token(request.page_token, fingerprint)
        period, version, rows, (reason_code, reason) = projections(
            self._svc(), request.unit_kind, request.parent_code, _scope(request.scope), request.working_days,
            request.only_dropping)
        out = pb.ListProjectionsResponse(
            total_size=len(rows), period=period_to_proto(period), rule_version=version,
            empty_reason_code=reason_code, empty_reason=reason,
            next_page_token=_encode_token(offset + size, fingerprint) if offset + size < len(rows) else "")
        for unit, assessment in rows[offset:offset + size]:
            p = assessment.projection
            out.projections.add(unit=unit_ref(unit), at_risk_count=len(assessment.dossiers),
                                projection=projection_to_proto(p),
                                drops_band=p.all_late.classification.code != p.none_late.classification.code)
        return out

    def ListScorecardChanges(self, request: pb.ListScorecardChangesRequest, context):
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative", reason="BAD_PAGE_SIZE",
                                  violations=[FieldViolation("page_size", "negative")])
        after = 0
        if request.after_cursor:
            try:
                text = request.after_cursor
                after = int(text)
                if after >= 2**63 or not (text.isascii() and text.isdigit()):  # a BIGINT, digits only
                    raise ValueError
            except ValueError:
                raise InvalidArgument("after_cursor is not a cursor this service gave", reason="BAD_CURSOR",
                                      violations=[FieldViolation("after_cursor", "malformed")]) from None
        size = min(request.page_size or 500, 5000)
        changed, last = self._svc().changed_keys(after, size)
        out = pb.ListScorecardChangesResponse(next_cursor=str(last) if last != after else request.after_cursor)
        for change_id, created, period, keys in changed:
            for code, scope in keys:
                change = out.changes.add(cursor=str(change_id), key=pb.ScorecardKey(
                    unit_code=code, period=period_to_proto(period), scope=_SCOPE_TO_PROTO[scope]))
                change.change_time.FromMicroseconds(created)
        return out


MAX_BATCH_KEYS = 1000


_SCOPE_TO_PROTO = {SELF: tpb.SCOPE_UNIT, SUBTREE: tpb.SCOPE_SUBTREE}


def _scope(value: int, field: str = "scope") -> str:
    """The one default of the contract (``chiso.types.v1.Scope``): unset means the unit alone."""
    if value in (tpb.SCOPE_UNSPECIFIED, tpb.SCOPE_UNIT):
        return SELF
    if value == tpb.SCOPE_SUBTREE:
        return SUBTREE
    raise InvalidArgument(f"unknown scope {value}", reason="BAD_SCOPE",
                          violations=[FieldViolation(field, "SCOPE_UNIT or SCOPE_SUBTREE")])


def _echo_as_of(request, out) -> None:
    """Beside the moment used (``as_of``, capped to the period's end), the one asked for when it differs."""
    if request.HasField("as_of") and request.as_of != out.as_of:
        out.requested_as_of.CopyFrom(request.as_of)


def _fingerprint(request) -> str:
    copy = type(request)()
    copy.CopyFrom(request)
    copy.page_token = ""
    copy.page_size = 0
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()[:16]


def _encode_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{fingerprint}:{offset}".encode()).decode()


def _decode_token(token: str, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        got, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if got != fingerprint or not (offset.isascii() and offset.isdigit()) or int(offset) >= 2**63:
            raise ValueError
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("page_token does not belong to this request", reason="BAD_PAGE_TOKEN",
                              violations=[FieldViolation("page_token", "not from this request")]) from None


_UNIT_KIND_NAMES = {
    tpb.UNIT_KIND_MINISTRY: "ministry", tpb.UNIT_KIND_MINISTERIAL_AGENCY: "ministerial_agency",
    tpb.UNIT_KIND_SOCIAL_SECURITY: "social_security", tpb.UNIT_KIND_PROVINCE: "province",
    tpb.UNIT_KIND_DEPARTMENT: "department", tpb.UNIT_KIND_COMMUNE: "commune", tpb.UNIT_KIND_DISTRICT: "district",
    tpb.UNIT_KIND_OTHER: "other",
}  # fmt: skip


def fill_parameters(out: tpb.Scorecard, table: RuleTable, unit_kind: int) -> None:
    """Each indicator's rule parameters as they apply to ``unit_kind`` (per-kind values resolved: 1.1
    gives a ministry 20 working days, other kinds 5); lists comma-separated."""
    kind = _UNIT_KIND_NAMES.get(unit_kind)
    for ind in out.indicators:
        try:
            definition = table.indicator(ind.id)
        except KeyError:
            continue
        for name, value in definition.parameters.items():
            if isinstance(value, Mapping):
                value = value.get(kind, value.get("default")) if kind else value.get("default")
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            if value is not None and not isinstance(value, Mapping):
                ind.parameters[name] = str(value)


def unit_ref(u) -> tpb.UnitRef:
    return tpb.UnitRef(code=u.code, name=u.name, kind=u.kind, parent_code=u.parent_code or "")


def unit_scorecard_to_proto(card, compute_time: datetime) -> tpb.Scorecard:
    out = scorecard_to_proto(card.scorecard, compute_time)
    out.name = f"units/{card.unit.code}/scorecards/{card.scorecard.period}"
    out.unit.CopyFrom(unit_ref(card.unit))
    out.scope = _SCOPE_TO_PROTO[card.scope]
    out.provisional = card.provisional
    out.no_data = card.no_data
    for stat in card.processing_times:
        out.processing_times.add(procedure_code=stat.procedure_code, procedure_name=stat.procedure_name,
                                 dossiers=stat.dossiers, mean_days=decimal(stat.mean_days, 2),
                                 p50_days=decimal(stat.p50_days, 0), p90_days=decimal(stat.p90_days, 0))
    for category, count in sorted(card.petition_categories.items()):
        out.petition_categories.add(category=_CATEGORIES.get(category, str(category)), petitions=count)
    return out


_CATEGORIES = {0: "UNSPECIFIED", 1: "RULES", 2: "STAFF", 3: "OTHER"}


def _timestamp(moment: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(moment)
    return out


def projection_to_proto(p) -> pb.Projection:
    keep = p.none_late.classification
    return pb.Projection(
        total_if_none_late=decimal(p.none_late.total, 2), band_if_none_late=_BANDS.get(keep.code, 0),
        total_if_all_late=decimal(p.all_late.total, 2),
        band_if_all_late=_BANDS.get(p.all_late.classification.code, 0),
        band_to_keep=_BANDS.get(keep.code, 0), band_to_keep_label=keep.label, finish_first_count=p.finish_first,
        total_if_finish_first=decimal(p.if_finish_first.total, 2))


def at_risk_to_proto(report: AtRiskReport, offset: int, size: int, fingerprint: str) -> pb.ListAtRiskDossiersResponse:
    a = report.assessment
    p = a.projection
    out = pb.ListAtRiskDossiersResponse(
        total_size=len(a.dossiers), period=period_to_proto(report.period), rule_version=report.rule_version,
        as_of=_timestamp(report.as_of), horizon_end=_timestamp(report.horizon_end),
        working_days=a.horizon.working_days, empty_reason_code=report.empty_reason_code,
        empty_reason=report.empty_reason,
        next_page_token=_encode_token(offset + size, fingerprint) if offset + size < len(a.dossiers) else "",
        projection=projection_to_proto(p))
    for x in a.dossiers[offset:offset + size]:
        c = x.candidate
        out.dossiers.add(record_key=c.record_key, unit_code=c.unit_code, procedure_code=c.procedure_code,
                         procedure_name=report.procedure_names.get(c.procedure_code, ""),
                         due_time=_timestamp(c.deadline), working_days_left=x.working_days_left,
                         points_at_stake=decimal(x.cost, 2), points_at_stake_exact=ratio(x.cost),
                         finish_first=x.finish_first)
    for g in a.by_unit:
        out.unit_totals.add(key=g.key, dossiers=g.dossiers, points_at_stake=decimal(g.cost, 2))
    for g in a.by_procedure:
        out.procedure_totals.add(key=g.key, dossiers=g.dossiers, points_at_stake=decimal(g.cost, 2))
    return out
