"""gRPC transport of publish: proto in → service call → proto out. Documents from the service are
the protobuf JSON mapping of the response messages and are parsed straight into them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

from chiso.publish.v1 import publish_pb2 as pb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf import json_format

from services.publish import alerts, proto_json
from services.publish.domain.documents import FEED_OFFICIAL, CardKey, PeriodError, PeriodRef, PublicationSpec
from services.publish.domain.exports import CSV, JSON, XLSX
from services.publish.domain.paging import decode_cursor, encode_cursor, page_size
from services.publish.domain.subscriptions import Subscription
from services.publish.service import ChangeView, DeliveryView, PublicationView, Publish
from services.shared.access import OPERATOR
from services.shared.errors import FieldViolation, InvalidArgument, PermissionDenied, Unauthenticated
from services.shared.interceptors import current_principal, remaining

# A ListChanges page stops before this many bytes, whatever page_size asked: gRPC clients refuse
# messages over 4 MiB unless configured otherwise, and 1,000 live scorecards can exceed that.
PAGE_BYTES = 3 * 1024 * 1024

# Changes a stream reads at a time: what one stream holds in memory (limits.py caps the streams).
STREAM_PAGE = 100

# Live changes kept parsed (serialized PublishedScorecard, ~4 KB each) for the feed's readers: every
# portal following the feed reads the same recent changes, and parsing one is most of serving it.
PARSED_CHANGES = 4096

EXPORT_FORMATS = {pb.EXPORT_FORMAT_CSV: CSV, pb.EXPORT_FORMAT_JSON: JSON, pb.EXPORT_FORMAT_XLSX: XLSX}

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PublishService"].full_name
PUBLIC_METHODS = tuple(f"/{SERVICE_NAME}/{m}" for m in (
    "GetScorecard", "ListScorecards", "ListLiveSnapshot", "GetRanking", "GetScorecardHistory", "ListChanges",
    "StreamChanges",
    "GetPublication", "ListPublications", "GetPublicKey", "ExportResults"))


def operator_id() -> str:
    """The calling operator's id; UNAUTHENTICATED without a credential, PERMISSION_DENIED for others."""
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("this method needs an operator's bearer token", reason="MISSING_TOKEN")
    if principal.kind != OPERATOR:
        raise PermissionDenied("only operators may do this", reason="OPERATOR_REQUIRED",
                               metadata={"principal_kind": principal.kind})
    return principal.id


def period_from_proto(p: tpb.Period, field: str = "period") -> PeriodRef:
    try:
        return PeriodRef(p.kind, p.year, p.number)
    except PeriodError as exc:
        raise InvalidArgument(f"{field}: {exc}", reason="BAD_PERIOD", violations=[FieldViolation(field, str(exc))]) \
            from None


def period_to_proto(p: PeriodRef) -> tpb.Period:
    return tpb.Period(kind=p.kind, year=p.year, number=p.number)


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "required", reason="FIELD_REQUIRED")
    if len(value) > 128:
        raise InvalidArgument.for_field(field, "at most 128 characters", reason="FIELD_TOO_LONG")
    return value


def _parse(doc: dict, message):
    return json_format.ParseDict(doc, message, ignore_unknown_fields=True)


def publication_to_proto(view: PublicationView, *, brief: bool = False) -> pb.Publication:
    out = _parse(view.document, pb.Publication())
    if brief:
        del out.scorecards[:]
    else:
        out.payload = view.payload
        out.signature = view.signature
    return out


class ParsedChanges:
    """The last ``size`` live changes' scorecards, parsed and serialized, by (sequence, record time): a
    feed entry never changes once committed, so each is parsed once for all the feed's readers."""

    def __init__(self, size: int = PARSED_CHANGES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def scorecard(self, change: ChangeView) -> bytes:
        key = (change.seq, change.created_at)
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
                return data
        data = proto_json.parse(change.document, pb.PublishedScorecard()).SerializeToString()
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return data


def change_to_proto(change: ChangeView, parsed: ParsedChanges | None = None) -> pb.Change:
    out = pb.Change(cursor=encode_cursor(change.seq), kind=change.kind, publication_name=change.publication_name)
    out.change_time.FromMicroseconds(change.created_at)
    if change.payload is not None:
        data = parsed.scorecard(change) if parsed is not None else b""
        if data:
            out.scorecard.MergeFromString(data)
        else:  # ParseDict's result, without its cost per field
            proto_json.parse(change.document, out.scorecard)
    return out


def subscription_from_proto(s: pb.Subscription) -> Subscription:
    return Subscription(subscription_id=s.subscription_id, display_name=s.display_name, endpoint=s.endpoint,
                        unit_codes=tuple(s.unit_codes), feeds=frozenset(s.feeds), tls_enabled=s.tls.enabled,
                        tls_ca=bytes(s.tls.ca_certificate), tls_server_name=s.tls.server_name,
                        alert_settings=tuple(sorted(s.alert_settings.items())))


def subscription_to_proto(s: Subscription) -> pb.Subscription:
    out = pb.Subscription(subscription_id=s.subscription_id, display_name=s.display_name, endpoint=s.endpoint,
                          unit_codes=list(s.unit_codes), feeds=sorted(s.feeds),
                          tls=pb.TlsSettings(enabled=s.tls_enabled, ca_certificate=s.tls_ca,
                                             server_name=s.tls_server_name),
                          pending_count=s.pending_count, set_aside_count=s.set_aside_count,
                          alert_settings=dict(s.alert_settings))
    out.create_time.FromMicroseconds(s.create_time_us)
    return out


def _recipient(unit_code: str, address: str, created_at: int) -> pb.AlertRecipient:
    out = pb.AlertRecipient(unit_code=unit_code, address=address)
    out.create_time.FromMicroseconds(created_at)
    return out


def delivery_to_proto(d: DeliveryView) -> pb.Delivery:
    out = pb.Delivery(delivery_id=d.delivery_id, subscription_id=d.subscription_id, sequence=d.sequence,
                      state=d.state, attempts=d.attempts, last_error=d.last_error, feed=d.feed)
    out.create_time.FromMicroseconds(d.created_at)
    if d.state == pb.DELIVERY_STATE_PENDING:
        out.next_attempt_time.FromMicroseconds(d.next_attempt_at)
    if d.delivered_at:
        out.deliver_time.FromMicroseconds(d.delivered_at)
    return out


class PublishServicer(publish_pb2_grpc.PublishServiceServicer):
    def __init__(self, publish: Publish, poll_seconds: float = 0.5,
                 stopping: Callable[[], bool] = lambda: False) -> None:
        self.publish = publish
        self.poll_seconds = poll_seconds
        self.stopping = stopping
        self.parsed = ParsedChanges()

    # --- reads (public) ---------------------------------------------------------------------

    def GetScorecard(self, request: pb.GetScorecardRequest, context) -> pb.GetScorecardResponse:
        key = CardKey(_required(request.unit_code, "unit_code"), period_from_proto(request.period), request.scope)
        if request.revision < 0:
            raise InvalidArgument.for_field("revision", "must not be negative", reason="BAD_REVISION")
        doc = self.publish.scorecard(key, request.feed, request.publication_id, request.revision)
        return pb.GetScorecardResponse(scorecard=_parse(doc, pb.PublishedScorecard()))

    def ListScorecards(self, request: pb.ListScorecardsRequest, context) -> pb.ListScorecardsResponse:
        size = page_size(request.page_size, 50, 500)
        docs, nxt, total = self.publish.list_scorecards(period_from_proto(request.period), request.unit_kind,
                                                        request.parent_code, request.feed, size, request.page_token,
                                                        _scope(request.scope))
        return pb.ListScorecardsResponse(scorecards=[_parse(d, pb.PublishedScorecard()) for d in docs],
                                         next_page_token=nxt, total_size=total)

    def ListLiveSnapshot(self, request: pb.ListLiveSnapshotRequest, context) -> pb.ListLiveSnapshotResponse:
        size = page_size(request.page_size, 500, 1000)
        period = period_from_proto(request.period) if request.HasField("period") else None
        docs, nxt, at = self.publish.live_snapshot(period, list(request.unit_codes), _scope(request.scope), size,
                                                   request.page_token, max_bytes=PAGE_BYTES)
        return pb.ListLiveSnapshotResponse(scorecards=[_parse(d, pb.PublishedScorecard()) for d in docs],
                                           next_page_token=nxt, consistent_cursor=encode_cursor(at))

    def GetRanking(self, request: pb.GetRankingRequest, context) -> pb.GetRankingResponse:
        # a publication id names its period: the period may be left out then
        period = (None if request.publication_id and not request.HasField("period")
                  else period_from_proto(request.period))
        doc, before, previous_pid = self.publish.ranking_compared(
            period, request.unit_kind, request.parent_code, request.feed, request.publication_id)
        feed = tpb.FEED_OFFICIAL if request.feed == FEED_OFFICIAL else tpb.FEED_LIVE
        out = pb.GetRankingResponse(ranking=_parse(doc, tpb.Ranking()), feed=feed,
                                    previous_publication_id=previous_pid)
        if before is not None:
            out.previous_period.CopyFrom(period_to_proto(before))
        return out

    def GetScorecardHistory(self, request: pb.GetScorecardHistoryRequest,
                            context) -> pb.GetScorecardHistoryResponse:
        end = period_from_proto(request.end_period, "end_period") if request.HasField("end_period") else None
        unit, points = self.publish.scorecard_history(_required(request.unit_code, "unit_code"), request.scope,
                                                      end, request.period_kind, request.period_count, request.feed)
        out = pb.GetScorecardHistoryResponse(unit=_parse(unit, tpb.UnitRef()))
        for p in points:
            point = out.points.add(period=period_to_proto(p.period), ranked_count=p.ranked_count)
            if p.document is not None:
                _parse(dict(p.document), point.scorecard)
            if p.rank is not None:
                point.rank = p.rank
        return out

    def ListChanges(self, request: pb.ListChangesRequest, context) -> pb.ListChangesResponse:
        after = self._start(request.cursor, request.start_at_end)
        size = page_size(request.page_size, 100, 1000)
        if request.start_at_end:
            return pb.ListChangesResponse(next_cursor=encode_cursor(after))
        changes, total = [], 0
        for view in self.publish.changes(after, size):
            change = change_to_proto(view, self.parsed)
            total += change.ByteSize() + 8
            if changes and total > PAGE_BYTES:
                break  # a shorter page (AIP-158): the client's default 4 MiB receive limit holds
            changes.append(change)
        return pb.ListChangesResponse(changes=changes, next_cursor=changes[-1].cursor if changes else request.cursor)

    def _start(self, cursor: str, at_end: bool) -> int:
        """Feed position to read after: the cursor's, or with ``at_end`` the last committed change's."""
        if at_end and cursor:
            raise InvalidArgument("give a cursor or start_at_end, not both", reason="CURSOR_AND_START_AT_END",
                                  violations=[FieldViolation("start_at_end", "only with an empty cursor")])
        return self.publish.feed_end() if at_end else decode_cursor(cursor)

    def StreamChanges(self, request: pb.StreamChangesRequest, context) -> Iterator[pb.StreamChangesResponse]:
        after = self._start(request.cursor, request.start_at_end)
        while context.is_active() and not self.stopping():
            changes = self.publish.changes(after, STREAM_PAGE)
            for change in changes:
                yield pb.StreamChangesResponse(change=change_to_proto(change, self.parsed))
                after = change.seq
            if len(changes) < STREAM_PAGE:
                left = remaining(context)
                if left is not None and left <= 0:
                    return
                self.publish.wait_for_changes(after, self.poll_seconds if left is None
                                              else min(self.poll_seconds, left))

    def GetPublication(self, request: pb.GetPublicationRequest, context) -> pb.GetPublicationResponse:
        view = self.publish.get_publication(_required(request.publication_id, "publication_id"), request.revision)
        return pb.GetPublicationResponse(publication=publication_to_proto(view))

    def ListPublications(self, request: pb.ListPublicationsRequest, context) -> pb.ListPublicationsResponse:
        size = page_size(request.page_size, 20, 100)
        period = period_from_proto(request.period) if request.HasField("period") else None
        views, nxt = self.publish.list_publications(period, size, request.page_token)
        return pb.ListPublicationsResponse(publications=[publication_to_proto(v, brief=True) for v in views],
                                           next_page_token=nxt)

    def GetPublicKey(self, request, context) -> pb.GetPublicKeyResponse:
        out = pb.GetPublicKeyResponse()
        for k in self.publish.public_keys():
            key = out.keys.add(key_id=k.key_id, algorithm=k.algorithm, public_key=k.public_raw, pem=k.pem)
            key.create_time.FromMicroseconds(k.created_at)
        return out

    def ExportResults(self, request: pb.ExportResultsRequest, context) -> pb.ExportResultsResponse:
        fmt = EXPORT_FORMATS.get(request.format)
        if fmt is None:
            raise InvalidArgument.for_field("format", "XLSX, CSV or JSON", reason="FORMAT_REQUIRED")
        given = [f for f, there in (("publication_id", bool(request.publication_id)),
                                    ("ranking", request.HasField("ranking")),
                                    ("scorecard", request.HasField("scorecard"))) if there]
        if len(given) != 1:
            raise InvalidArgument("give exactly one of publication_id, ranking and scorecard",
                                  reason="ONE_OF_REQUIRED",
                                  violations=[FieldViolation(f, "exactly one of publication_id, ranking, scorecard")
                                              for f in (given or ["publication_id"])])
        if request.publication_id:
            export = self.publish.export_publication(request.publication_id, request.revision, fmt)
        elif request.HasField("ranking"):
            r = request.ranking
            period = (None if r.publication_id and not r.HasField("period")
                      else period_from_proto(r.period, "ranking.period"))
            export = self.publish.export_ranking(period, r.unit_kind, r.parent_code, r.feed, r.publication_id, fmt)
        else:
            c = request.scorecard
            if c.revision < 0:
                raise InvalidArgument.for_field("scorecard.revision", "must not be negative", reason="BAD_REVISION")
            key = CardKey(_required(c.unit_code, "scorecard.unit_code"),
                          period_from_proto(c.period, "scorecard.period"), c.scope)
            export = self.publish.export_scorecard(key, c.feed, c.publication_id, c.revision, fmt)
        return pb.ExportResultsResponse(content=export.content, content_type=export.content_type,
                                        filename=export.filename)

    # --- operator ---------------------------------------------------------------------------

    def CreatePublication(self, request: pb.CreatePublicationRequest, context) -> pb.CreatePublicationResponse:
        who = operator_id()
        if request.scope not in (tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE):
            # Official results take no default scope: a province frozen alone instead of with its
            # departments and communes would be signed and pushed to every portal.
            raise InvalidArgument.for_field("scope", "required: SCOPE_UNIT or SCOPE_SUBTREE", reason="SCOPE_REQUIRED")
        spec = PublicationSpec(period_from_proto(request.period), request.unit_kind, request.parent_code,
                               request.scope, request.rule_version, request.title)
        view = self.publish.create_publication(who, request.request_id, spec)
        return pb.CreatePublicationResponse(publication=publication_to_proto(view))

    def CorrectPublication(self, request: pb.CorrectPublicationRequest, context) -> pb.CorrectPublicationResponse:
        who = operator_id()
        view = self.publish.correct_publication(who, request.request_id,
                                                _required(request.publication_id, "publication_id"), request.reason)
        return pb.CorrectPublicationResponse(publication=publication_to_proto(view))

    def CreateSubscription(self, request: pb.CreateSubscriptionRequest, context) -> pb.CreateSubscriptionResponse:
        who = operator_id()
        sub = self.publish.create_subscription(who, request.request_id, subscription_from_proto(request.subscription))
        return pb.CreateSubscriptionResponse(subscription=subscription_to_proto(sub))

    def UpdateSubscription(self, request: pb.UpdateSubscriptionRequest, context) -> pb.UpdateSubscriptionResponse:
        operator_id()
        sub = self.publish.update_subscription(subscription_from_proto(request.subscription))
        return pb.UpdateSubscriptionResponse(subscription=subscription_to_proto(sub))

    def DeleteSubscription(self, request: pb.DeleteSubscriptionRequest, context) -> pb.DeleteSubscriptionResponse:
        operator_id()
        self.publish.delete_subscription(_required(request.subscription_id, "subscription_id"))
        return pb.DeleteSubscriptionResponse()

    def ListSubscriptions(self, request: pb.ListSubscriptionsRequest, context) -> pb.ListSubscriptionsResponse:
        operator_id()
        subs, nxt = self.publish.list_subscriptions(page_size(request.page_size, 50, 500), request.page_token)
        return pb.ListSubscriptionsResponse(subscriptions=[subscription_to_proto(s) for s in subs],
                                            next_page_token=nxt)

    def ListDeliveries(self, request: pb.ListDeliveriesRequest, context) -> pb.ListDeliveriesResponse:
        operator_id()
        views, nxt = self.publish.list_deliveries(request.subscription_id, request.state,
                                                  page_size(request.page_size, 100, 1000), request.page_token)
        return pb.ListDeliveriesResponse(deliveries=[delivery_to_proto(d) for d in views], next_page_token=nxt)

    def AddAlertRecipient(self, request: pb.AddAlertRecipientRequest, context) -> pb.AddAlertRecipientResponse:
        operator_id()
        unit, address, created = alerts.add_recipient(self.publish.db, request.unit_code, request.address,
                                                      self.publish.clock())
        return pb.AddAlertRecipientResponse(recipient=_recipient(unit, address, created))

    def RemoveAlertRecipient(self, request: pb.RemoveAlertRecipientRequest,
                             context) -> pb.RemoveAlertRecipientResponse:
        operator_id()
        return pb.RemoveAlertRecipientResponse(
            removed=alerts.remove_recipient(self.publish.db, request.unit_code, request.address))

    def ListAlertRecipients(self, request: pb.ListAlertRecipientsRequest, context) -> pb.ListAlertRecipientsResponse:
        operator_id()
        rows, nxt = alerts.list_recipients(self.publish.db, request.unit_code,
                                           page_size(request.page_size, 100, 1000), request.page_token)
        return pb.ListAlertRecipientsResponse(recipients=[_recipient(*r) for r in rows], next_page_token=nxt)

    def ListAlerts(self, request: pb.ListAlertsRequest, context) -> pb.ListAlertsResponse:
        principal = current_principal()
        if principal is None or principal.kind != OPERATOR:  # a unit's officials and sources: their units
            identity = principal.attributes.get("identity") if principal is not None else None
            if not request.unit_code or not alerts.may_read(self.publish.db, identity, request.unit_code):
                operator_id()
        state = {pb.ALERT_STATE_OPEN: "OPEN", pb.ALERT_STATE_RESOLVED: "RESOLVED"}.get(request.state, "")
        rows, nxt = alerts.list_alerts(self.publish.db, request.unit_code, state,
                                       page_size(request.page_size, 100, 1000), request.page_token)
        out = pb.ListAlertsResponse(next_page_token=nxt)
        for r in rows:
            a = out.alerts.add(alert_id=r.alert_id, subscription_id=r.subscription_id, unit_code=r.unit_code,
                               rule_id=r.rule_id, period_key=r.period_key, title=r.title,
                               state=pb.ALERT_STATE_OPEN if r.state == "OPEN" else pb.ALERT_STATE_RESOLVED)
            a.open_time.FromMicroseconds(r.opened_at)
            if r.resolved_at:
                a.resolve_time.FromMicroseconds(r.resolved_at)
        return out

    def ReplayDeliveries(self, request: pb.ReplayDeliveriesRequest, context) -> pb.ReplayDeliveriesResponse:
        operator_id()
        count = self.publish.replay(request.subscription_id, list(request.delivery_ids))
        return pb.ReplayDeliveriesResponse(replayed_count=count)

    def ListSetAsideScorecards(self, request: pb.ListSetAsideScorecardsRequest,
                               context) -> pb.ListSetAsideScorecardsResponse:
        operator_id()
        rows, nxt = self.publish.list_set_aside(page_size(request.page_size, 100, 1000), request.page_token)
        out = pb.ListSetAsideScorecardsResponse(next_page_token=nxt)
        for r in rows:
            item = out.scorecards.add(key=pb.ScorecardKey(unit_code=r.key.unit_code, scope=r.key.scope,
                                                          period=tpb.Period(kind=r.key.period.kind,
                                                                            year=r.key.period.year,
                                                                            number=r.key.period.number)),
                                      last_error=r.error, attempts=r.attempts)
            item.first_fail_time.FromMicroseconds(r.first_failed_at)
            item.last_fail_time.FromMicroseconds(r.last_failed_at)
            item.next_attempt_time.FromMicroseconds(r.next_attempt_at)
        return out

    def ReplaySetAsideScorecards(self, request: pb.ReplaySetAsideScorecardsRequest,
                                 context) -> pb.ReplaySetAsideScorecardsResponse:
        operator_id()
        if len(request.keys) > MAX_REPLAY_KEYS:
            raise InvalidArgument.for_field("keys", f"at most {MAX_REPLAY_KEYS:,}", reason="TOO_MANY_KEYS")
        keys = [CardKey(_required(k.unit_code, f"keys[{i}].unit_code"),
                        period_from_proto(k.period, f"keys[{i}].period"), k.scope or tpb.SCOPE_UNIT)
                for i, k in enumerate(request.keys)] or None
        recovered, failing = self.publish.retry_set_aside(keys, limit=MAX_REPLAY_KEYS, replay=True)
        return pb.ReplaySetAsideScorecardsResponse(tried_count=recovered + failing, recovered_count=recovered,
                                                   failing_count=failing)


MAX_REPLAY_KEYS = 5000


def _scope(scope: int) -> int:
    if scope not in (tpb.SCOPE_UNSPECIFIED, tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE):
        raise InvalidArgument.for_field("scope", "SCOPE_UNIT, SCOPE_SUBTREE or unset", reason="BAD_SCOPE")
    return scope


