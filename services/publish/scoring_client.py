"""The ScoringPort over gRPC: a thin adapter from ``chiso.scoring.v1`` messages to publish's plain
values (a scorecard becomes a ``Card`` whose body is its protobuf JSON mapping)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import grpc
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.publish.domain.alerts import AtRiskFacts, RiskyDossier
from services.publish.domain.documents import Card, CardKey, PeriodRef
from services.publish.domain.ports import ChangesPage, RankingView
from services.shared.errors import (
    ChisoError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.shared.grpc_errors import details_from_rpc_error
from services.shared.protojson import message_to_dict

BATCH = 500  # keys per BatchGetScorecards


def period_to_proto(p: PeriodRef) -> tpb.Period:
    return tpb.Period(kind=p.kind, year=p.year, number=p.number)


def period_from_proto(p: tpb.Period) -> PeriodRef:
    return PeriodRef(p.kind, p.year, p.number)


def to_json(message) -> dict:
    return message_to_dict(message)


def card_from_proto(sc: tpb.Scorecard) -> Card:
    return Card(unit_code=sc.unit.code, unit_name=sc.unit.name, unit_kind=sc.unit.kind,
                parent_code=sc.unit.parent_code, period=period_from_proto(sc.period), scope=sc.scope,
                rule_version=sc.rule_version, total=sc.total.value, classification=sc.classification,
                provisional=sc.provisional, body=to_json(sc))


def _info(exc: grpc.RpcError):
    try:
        info, _ = details_from_rpc_error(exc)
    except Exception:  # noqa: BLE001 — an error without status details
        info = None
    return info


def _mapped(exc: grpc.RpcError, what: str) -> ChisoError:
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else "") or ""
    message = f"scoring: {details}" if details else f"scoring could not {what}"
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(message, reason="SCORING_NOT_FOUND")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        info = _info(exc)  # scoring's reason (PERIOD_NOT_STARTED …) passes through
        return InvalidArgument(message, reason=info.reason if info is not None and info.reason else "SCORING_REFUSED",
                               metadata=dict(info.metadata) if info is not None else None)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        # scoring's own reason and metadata (NO_RULE_VERSION names the period) pass through
        info = _info(exc)
        return FailedPrecondition(message, reason=(info.reason if info is not None and info.reason else
                                                   "SCORING_PRECONDITION"),
                                  metadata=dict(info.metadata) if info is not None else None)
    name = getattr(code, "name", "UNKNOWN")
    return Unavailable(f"scoring could not {what} ({name}); try again later", reason="SCORING_UNAVAILABLE",
                       metadata={"scoring_code": name})


class GrpcScoring:
    def __init__(self, target: str, timeout: float = 60.0, channel: grpc.Channel | None = None,
                 token: str = "") -> None:
        """``token``: a bearer token for the record-level reads (early warning's at-risk lists): an
        operator's, or an official's covering the watched units."""
        self.channel = channel or grpc.insecure_channel(
            target, options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)])
        self.stub = scoring_pb2_grpc.ScoringServiceStub(self.channel)
        self.timeout = timeout
        self._records = (("authorization", f"Bearer {token}"),) if token else None

    def at_risk(self, unit_code: str, working_days: int, first: int = 20) -> AtRiskFacts | None:
        """The unit's (with its subtree) at-risk list and projection for the running month, the first
        ``first`` dossiers in the order to act on; None without a token to ask with."""
        if self._records is None:
            return None
        request = pb.ListAtRiskDossiersRequest(unit_code=unit_code, scope=tpb.SCOPE_SUBTREE,
                                               working_days=working_days, page_size=first)
        try:
            r = self.stub.ListAtRiskDossiers(request, timeout=self.timeout, metadata=self._records)
        except grpc.RpcError as exc:
            raise _mapped(exc, "list the dossiers at risk") from None
        p = r.projection
        band = lambda value: tpb.Classification.Name(value).removeprefix("CLASSIFICATION_")  # noqa: E731
        return AtRiskFacts(
            count=r.total_size, total_if_none_late=p.total_if_none_late.value, band_if_none_late=band(
                p.band_if_none_late), total_if_all_late=p.total_if_all_late.value,
            band_if_all_late=band(p.band_if_all_late), finish_first=p.finish_first_count,
            dossiers=tuple(RiskyDossier(d.record_key, d.unit_code, d.procedure_code, d.procedure_name,
                                        d.due_time.ToDatetime(tzinfo=UTC), d.working_days_left,
                                        d.points_at_stake.value, d.finish_first) for d in r.dossiers))

    def close(self) -> None:
        self.channel.close()

    def changes(self, after_cursor: str, page_size: int) -> ChangesPage:
        try:
            r = self.stub.ListScorecardChanges(
                pb.ListScorecardChangesRequest(after_cursor=after_cursor, page_size=page_size), timeout=self.timeout)
        except grpc.RpcError as exc:
            raise _mapped(exc, "list its changes") from None
        keys = [CardKey(c.key.unit_code, period_from_proto(c.key.period), c.key.scope or tpb.SCOPE_UNIT)
                for c in r.changes]
        return ChangesPage(keys, r.next_cursor or after_cursor)

    def scorecards(self, keys: Sequence[CardKey], rule_version: str = "") -> list[Card]:
        out: list[Card] = []
        for i in range(0, len(keys), BATCH):
            chunk = keys[i:i + BATCH]
            request = pb.BatchGetScorecardsRequest(rule_version=rule_version, keys=[
                pb.ScorecardKey(unit_code=k.unit_code, period=period_to_proto(k.period), scope=k.scope)
                for k in chunk])
            try:
                r = self.stub.BatchGetScorecards(request, timeout=self.timeout)
            except grpc.RpcError as exc:
                raise _mapped(exc, "compute scorecards") from None
            out.extend(card_from_proto(sc) for sc in r.scorecards)
        return out

    def ranking(self, period: PeriodRef, unit_kind: int, parent_code: str, scope: int,
                rule_version: str = "") -> RankingView:
        request = pb.GetRankingRequest(period=period_to_proto(period), unit_kind=unit_kind, parent_code=parent_code,
                                       scope=scope, rule_version=rule_version)
        try:
            r = self.stub.GetRanking(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise _mapped(exc, "rank the units") from None
        # a publication freezes every unit of the kind: those ranked, then those without data (marked)
        codes = [e.unit.code for e in r.ranking.entries] + [u.code for u in r.ranking.units_without_data]
        return RankingView(r.ranking.rule_version, codes, to_json(r.ranking))
