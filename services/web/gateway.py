"""The dashboard's only way to data: publish's public gRPC API, and scoring's WhatIf (the planner)
and ExplainIndicator (the records behind a score, with an official's own credential).

Every call has a deadline; a gRPC failure becomes a ``PageError`` carrying the HTTP status and the
Vietnamese sentence a person sees (never a stack trace): a unit or period the services do not know,
or a period no rule version covers, is 404; a refused credential 401/403; a service that cannot be
reached 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from grpc_status import rpc_status

from services.publish.signing import verify

KEYS_CACHE_SECONDS = 300.0


class PageError(Exception):
    """What a page shows instead of its content: an HTTP status and a Vietnamese message."""

    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


def _reason(exc: grpc.RpcError) -> str:
    try:
        status = rpc_status.from_call(exc)
    except Exception:  # noqa: BLE001 - a malformed trailer is not worth a failed page
        return ""
    if status is None:
        return ""
    from google.rpc import error_details_pb2

    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


def page_error(exc: grpc.RpcError, what: str) -> PageError:
    """The page a failed call of ``what`` (e.g. "kết quả của đơn vị H25 kỳ tháng 8/2026") shows."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    reason = _reason(exc)
    if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
        return PageError(404, f"Không tìm thấy {what}.", reason)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        if reason == "NO_RULE_VERSION":
            return PageError(404, f"Không có {what}: kỳ này trước khi Bộ chỉ số 766 được áp dụng (01/08/2022).",
                             reason)
        return PageError(404, f"Chưa có {what}.", reason)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return PageError(401, "Mã truy cập không hợp lệ hoặc đã bị thu hồi. Vui lòng đăng nhập lại.", reason)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PageError(403, "Mã truy cập này không được xem dữ liệu của đơn vị này.", reason)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return PageError(503, "Hệ thống đang bận hoặc tạm thời không truy cập được. Vui lòng thử lại sau ít phút.",
                         code.name)
    return PageError(502, "Đã có lỗi khi lấy dữ liệu. Vui lòng thử lại sau.", code.name)


class Gateway:
    """Stubs over two channels; thread-safe (one per process)."""

    def __init__(self, publish_target: str, scoring_target: str, timeout: float = 20.0,
                 max_message_bytes: int = 64 * 1024 * 1024) -> None:
        options = [("grpc.max_receive_message_length", max_message_bytes)]
        self._publish_channel = grpc.insecure_channel(publish_target, options=options)
        self._scoring_channel = grpc.insecure_channel(scoring_target, options=options)
        self.publish = publish_pb2_grpc.PublishServiceStub(self._publish_channel)
        self.scoring = scoring_pb2_grpc.ScoringServiceStub(self._scoring_channel)
        self.timeout = timeout
        self._keys: tuple[float, dict[str, bytes]] = (0.0, {})
        self._lock = threading.Lock()

    def close(self) -> None:
        self._publish_channel.close()
        self._scoring_channel.close()

    def _call(self, rpc, request, what: str, metadata=None):
        try:
            return rpc(request, timeout=self.timeout, metadata=metadata)
        except grpc.RpcError as exc:
            raise page_error(exc, what) from None

    # ------------------------------------------------------------------ publish: results

    def ranking(self, period: tpb.Period, unit_kind: int, feed: int, parent_code: str = "",
                what: str = "bảng xếp hạng") -> ppb.GetRankingResponse:
        return self._call(self.publish.GetRanking, ppb.GetRankingRequest(
            period=period, unit_kind=unit_kind, parent_code=parent_code, feed=feed), what)

    def scorecards(self, period: tpb.Period, unit_kind: int, feed: int, parent_code: str = "",
                   what: str = "kết quả") -> Iterator[ppb.PublishedScorecard]:
        token = ""
        while True:
            page = self._call(self.publish.ListScorecards, ppb.ListScorecardsRequest(
                period=period, unit_kind=unit_kind, parent_code=parent_code, feed=feed, page_size=500,
                page_token=token), what)
            yield from page.scorecards
            token = page.next_page_token
            if not token:
                return

    def scorecard(self, unit_code: str, period: tpb.Period, feed: int, scope: int = tpb.SCOPE_SUBTREE,
                  what: str = "kết quả") -> ppb.PublishedScorecard:
        return self._call(self.publish.GetScorecard, ppb.GetScorecardRequest(
            unit_code=unit_code, period=period, scope=scope, feed=feed), what).scorecard

    def history(self, unit_code: str, end_period: tpb.Period, feed: int, count: int = 12,
                scope: int = tpb.SCOPE_SUBTREE, what: str = "diễn biến") -> ppb.GetScorecardHistoryResponse:
        return self._call(self.publish.GetScorecardHistory, ppb.GetScorecardHistoryRequest(
            unit_code=unit_code, scope=scope, end_period=end_period, period_count=count, feed=feed), what)

    def export(self, request: ppb.ExportResultsRequest, what: str = "tệp xuất") -> ppb.ExportResultsResponse:
        return self._call(self.publish.ExportResults, request, what)

    # ------------------------------------------------------------------ publish: publications

    def publications(self, period: tpb.Period) -> list[ppb.Publication]:
        out: list[ppb.Publication] = []
        token = ""
        while True:
            page = self._call(self.publish.ListPublications, ppb.ListPublicationsRequest(
                period=period, page_size=100, page_token=token), "danh sách công bố")
            out.extend(page.publications)
            token = page.next_page_token
            if not token:
                return out

    def publication(self, publication_id: str, revision: int = 0) -> ppb.Publication:
        return self._call(self.publish.GetPublication, ppb.GetPublicationRequest(
            publication_id=publication_id, revision=revision), f"công bố {publication_id}").publication

    def public_keys(self, refresh: bool = False) -> dict[str, bytes]:
        """key id → raw Ed25519 public key, from publish's GetPublicKey (cached a few minutes)."""
        with self._lock:
            fetched, keys = self._keys
            if keys and not refresh and time.monotonic() - fetched < KEYS_CACHE_SECONDS:
                return keys
        reply = self._call(self.publish.GetPublicKey, ppb.GetPublicKeyRequest(), "khóa công khai")
        keys = {k.key_id: bytes(k.public_key) for k in reply.keys}
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def verified(self, publication: ppb.Publication) -> bool:
        """Whether the publication's signature verifies its canonical payload with publish's published
        key of that id — what the reference portal checks before it stores a delivery."""
        keys = self.public_keys()
        if publication.key_id not in keys:  # a key made since the cache was filled
            keys = self.public_keys(refresh=True)
        key = keys.get(publication.key_id)
        return key is not None and verify(key, bytes(publication.payload), bytes(publication.signature))

    # ------------------------------------------------------------------ scoring

    def whatif(self, request: spb.WhatIfRequest) -> tpb.Scorecard:
        return self._call(self.scoring.WhatIf, request, "kết quả mô phỏng").scorecard

    def at_risk(self, token: str, unit_code: str, page_token: str = "", page_size: int = 50,
                working_days: int = 0) -> spb.ListAtRiskDossiersResponse:
        """The unit's (with its subtree) dossiers about to be late and the running month's projection."""
        return self._call(self.scoring.ListAtRiskDossiers, spb.ListAtRiskDossiersRequest(
            unit_code=unit_code, scope=tpb.SCOPE_SUBTREE, working_days=working_days, page_size=page_size,
            page_token=page_token), "hồ sơ sắp quá hạn", metadata=(("authorization", f"Bearer {token}"),))

    def open_alerts(self, token: str, unit_code: str) -> list[ppb.Alert]:
        """The unit's open early-warning alerts (its officials' token)."""
        return list(self._call(self.publish.ListAlerts, ppb.ListAlertsRequest(
            unit_code=unit_code, state=ppb.ALERT_STATE_OPEN, page_size=100), "cảnh báo",
            metadata=(("authorization", f"Bearer {token}"),)).alerts)

    def projections(self, unit_kind: int, only_dropping: bool = True) -> spb.ListProjectionsResponse:
        """The watch list: units of a kind with their projection (counts, public)."""
        return self._call(self.scoring.ListProjections, spb.ListProjectionsRequest(
            unit_kind=unit_kind, only_dropping=only_dropping, page_size=500), "danh sách theo dõi")

    def explain(self, token: str, unit_code: str, period: tpb.Period, indicator_id: str, rule_version: str,
                page_token: str = "", page_size: int = 50,
                scope: int = tpb.SCOPE_SUBTREE) -> spb.ExplainIndicatorResponse:
        return self._call(self.scoring.ExplainIndicator, spb.ExplainIndicatorRequest(
            unit_code=unit_code, period=period, scope=scope, indicator_id=indicator_id, rule_version=rule_version,
            page_size=page_size, page_token=page_token), "hồ sơ làm mất điểm",
            metadata=(("authorization", f"Bearer {token}"),))
