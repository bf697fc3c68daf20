"""The dashboard's pages (Flask): national rankings, a unit's page, the planner, the records behind a
score for officials, the embeddable widget, exports and the one-page report.

Built by ``create_app(gateway, …)`` — nothing is made at import time. Each route turns the URL into
calls of the gateway (publish's public API; scoring's WhatIf and ExplainIndicator), then hands plain
view data (``views``) to a template. A unit or period the services do not know, or a malformed URL,
gives the Vietnamese 404 page; an unexpected failure the Vietnamese 500 page (logged, never shown).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.types.v1 import types_pb2 as tpb
from flask import Flask, Response, abort, g, make_response, redirect, render_template, request, send_file, url_for
from prometheus_client import Counter, Histogram
from werkzeug.exceptions import HTTPException

from services.publish.domain.documents import PeriodRef
from services.web import fmt, planner, views
from services.web.gateway import Gateway, PageError

log = structlog.get_logger("chiso.web")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOKEN_COOKIE = "chiso_token"  # noqa: S105 - the name of the cookie, not a secret
MAX_TOKEN = 512
CHART_JS = ("static/vendor/chart.umd.min.js", "node_modules/chart.js/dist/chart.umd.min.js")

REQUESTS = Counter("chiso_web_requests_total", "Dashboard HTTP requests", ["route", "status"])
LATENCY = Histogram("chiso_web_request_seconds", "Dashboard HTTP request time", ["route"])

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'")
# Pages may be framed by this site only; the widget by any portal (no frame-ancestors: "*" would still
# refuse a page opened from a file).
FRAME_SELF = "; frame-ancestors 'self'"


def chart_js_path() -> Path | None:
    """Chart.js, pinned in package.json: a copy made in the image build, else the checkout's node_modules."""
    for candidate in (HERE / CHART_JS[0], ROOT / CHART_JS[1]):
        if candidate.is_file():
            return candidate
    return None


def create_app(gateway: Gateway, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
               secure_cookies: bool = False) -> Flask:
    app = Flask("chiso-web", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.json.ensure_ascii = False
    env = app.jinja_env
    env.globals.update(fmt=fmt, feed_words=views.FEED_WORDS)
    env.filters.update(number=fmt.number, count=fmt.count, percent=fmt.percent)

    # ------------------------------------------------------------------ plumbing

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "(none)"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        REQUESTS.labels(route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(elapsed)
        response.headers.setdefault("Content-Security-Policy", CSP + ("" if g.get("embeddable") else FRAME_SELF))
        if not g.get("embeddable"):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("private"):
            response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Request-Id"] = g.get("request_id", "")
        log.info("request", method=request.method, route=route, status=response.status_code,
                 duration_ms=round(elapsed * 1000, 1))
        return response

    def error_page(status: int, title: str, message: str) -> Response:
        return make_response(render_template("error.html", status=status, title=title, message=message,
                                             signed_in=bool(token())), status)

    @app.errorhandler(PageError)
    def on_page_error(exc: PageError) -> Response:
        titles = {404: "Không tìm thấy trang", 401: "Cần đăng nhập", 403: "Không có quyền truy cập",
                  503: "Tạm thời gián đoạn"}
        return error_page(exc.status, titles.get(exc.status, "Đã có lỗi"), exc.message)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException) -> Response:
        if exc.code == 404:
            return error_page(404, "Không tìm thấy trang",
                              exc.description if getattr(exc, "vietnamese", False) else
                              "Địa chỉ này không có trên trang Bộ chỉ số 766. Vui lòng kiểm tra lại đường dẫn.")
        if exc.code == 405:
            return error_page(405, "Thao tác không hợp lệ", "Trang này không nhận thao tác đó.")
        return error_page(exc.code or 400, "Yêu cầu không hợp lệ", "Yêu cầu không hợp lệ. Vui lòng thử lại.")

    @app.errorhandler(Exception)
    def on_error(exc: Exception) -> Response:
        log.exception("page failed", path=request.path[:200])
        return error_page(500, "Đã có lỗi", "Đã có lỗi khi hiển thị trang này. Vui lòng thử lại sau.")

    def not_found(message: str):
        exc = PageError(404, message)
        raise exc

    def token() -> str:
        return request.cookies.get(TOKEN_COOKIE, "")[:MAX_TOKEN]

    def period_arg(name: str = "period") -> PeriodRef:
        period = views.parse_period(request.args.get(name), clock())
        if period is None:
            not_found(f"Kỳ đánh giá “{request.args.get(name, '')[:40]}” không hợp lệ. Kỳ được viết như "
                      "2026-08 (tháng), 2026-Q3 (quý), 2026 (năm) hoặc 2026-YTD (từ đầu năm).")
        if period.start > clock():
            not_found(f"{views.period_label(period)} chưa bắt đầu: chưa có kết quả đánh giá.")
        return period

    def feed_arg() -> int:
        word = request.args.get("nguon", "tam-tinh")
        if word not in views.FEEDS:
            not_found("Nguồn kết quả không hợp lệ: chọn “tam-tinh” (tạm tính) hoặc “chinh-thuc” (chính thức).")
        return views.FEEDS[word]

    def unit_code_arg(code: str) -> str:
        if not code or len(code) > 64 or not all(c.isalnum() or c in "._-" for c in code):
            not_found(f"Không có đơn vị mang mã “{code[:40]}”.")
        return code

    def common(period: PeriodRef, feed: int, **more: Any) -> dict[str, Any]:
        return {"period": period, "period_label": views.period_label(period), "feed": feed,
                "feed_word": views.FEED_WORDS[feed],
                "choices": views.period_choices(clock(), period), "signed_in": bool(token()),
                "now": fmt.moment(clock()), **more}

    def official_publication(period: PeriodRef, unit_kind: int, parent_code: str = "") -> dict | None:
        matching = [p for p in gateway.publications(views.period_proto(period))
                    if p.unit_kind == unit_kind and p.parent_code == parent_code]
        if not matching:
            return None
        pub = gateway.publication(matching[0].publication_id)
        return views.publication_view(pub, gateway.verified(pub))

    def ranking_section(period: PeriodRef, feed: int, unit_kind: int, parent_code: str = "",
                        with_groups: bool = True) -> dict[str, Any]:
        label = views.KIND_LABELS.get(unit_kind, "")
        try:
            reply = gateway.ranking(views.period_proto(period), unit_kind, feed, parent_code,
                                    what=f"bảng xếp hạng {label.lower()} {period.label()}")
        except PageError as exc:
            if exc.status == 404 and feed == 2 or exc.detail == "PUBLICATION_NOT_FOUND":
                return {"kind": unit_kind, "label": label, "rows": [], "groups": [], "missing": True,
                        "previous": "", "without_data": []}
            raise
        cards: dict[str, tpb.Scorecard] = {}
        if with_groups and reply.ranking.entries:
            wanted = {e.unit.code for e in reply.ranking.entries}
            for pc in gateway.scorecards(views.period_proto(period), unit_kind, feed, parent_code):
                card = pc.scorecard
                if card.unit.code in wanted and (feed == 2 or card.scope == tpb.SCOPE_SUBTREE):
                    cards.setdefault(card.unit.code, card)
        previous = views.period_of(reply.previous_period) if reply.HasField("previous_period") else None
        return {"kind": unit_kind, "label": label, "rows": views.ranking_rows(reply, cards),
                "without_data": [{"code": u.code, "name": u.name} for u in reply.ranking.units_without_data],
                "groups": views.group_headers(cards), "missing": False,
                "previous": views.period_label(previous) if previous else "",
                "rule_version": reply.ranking.rule_version}

    # ------------------------------------------------------------------ national page

    @app.get("/")
    def national() -> str:
        period, feed = period_arg(), feed_arg()
        sections = []
        for kind in views.TOP_LEVEL:
            section = ranking_section(period, feed, kind)
            if (section["rows"] or section["without_data"] or kind == tpb.UNIT_KIND_PROVINCE
                    or (feed == 2 and kind == tpb.UNIT_KIND_MINISTRY)):
                section["publication"] = official_publication(period, kind) if feed == 2 else None
                sections.append(section)
        return render_template("national.html", sections=sections, **common(period, feed))

    # ------------------------------------------------------------------ a unit

    def unit_card(code: str, period: PeriodRef, feed: int) -> ppb.PublishedScorecard:
        what = f"kết quả của đơn vị “{code}” {period.label()}"
        if feed == 2:  # as the publication froze it: with its subtree (provinces, ministries) or alone
            try:
                return gateway.scorecard(code, views.period_proto(period), feed, tpb.SCOPE_SUBTREE, what=what)
            except PageError as exc:
                if exc.status != 404:
                    raise
                return gateway.scorecard(code, views.period_proto(period), feed, tpb.SCOPE_UNIT, what=what)
        return gateway.scorecard(code, views.period_proto(period), feed, tpb.SCOPE_SUBTREE, what=what)

    def trend_end(period: PeriodRef) -> PeriodRef:
        """The month the 12-month trend ends with: the period's last month, or the running one."""
        local = clock().astimezone(fmt.HANOI)
        last = {1: period.number, 2: 3 * period.number}.get(period.kind, 12)
        if (period.year, last) > (local.year, local.month):
            return PeriodRef(1, local.year, local.month)
        return PeriodRef(1, period.year, last)

    def own_rank(card: tpb.Scorecard, period: PeriodRef, feed: int) -> dict[str, Any] | None:
        parent = "" if card.unit.kind in views.TOP_LEVEL else card.unit.parent_code
        try:
            reply = gateway.ranking(views.period_proto(period), card.unit.kind, feed, parent)
        except PageError as exc:
            if exc.status == 404:
                return None
            raise
        for e in reply.ranking.entries:
            if e.unit.code == card.unit.code:
                previous = e.previous_rank if e.HasField("previous_rank") else None
                return {"rank": e.rank, "of": len(reply.ranking.entries), "previous": previous,
                        "change": fmt.rank_change(e.rank, previous),
                        "peers": views.KIND_LABELS.get(card.unit.kind, "").lower()}
        return None

    @app.get("/don-vi/<code>")
    def unit(code: str) -> str:
        code = unit_code_arg(code)
        period, feed = period_arg(), feed_arg()
        published = unit_card(code, period, feed)
        card = published.scorecard
        history = gateway.history(code, views.period_proto(trend_end(period)), feed, 12,
                                  tpb.SCOPE_SUBTREE if feed == 1 else card.scope)
        trend = views.trend_rows(history)
        children = [ranking_section(period, feed, kind, code, with_groups=False)
                    for kind in views.CHILD_KINDS.get(card.unit.kind, ())]
        publication = None
        if feed == 2 and published.publication_id:
            pub = gateway.publication(published.publication_id, published.revision)
            publication = views.publication_view(pub, gateway.verified(pub))
        g.private = bool(token())
        return render_template(
            "unit.html", card=card, published=published, band=views.band(card.classification),
            kind_label=views.KIND_LABELS.get(card.unit.kind, ""), groups=views.group_rows(card),
            indicators=views.indicator_rows(card), trend=trend,
            children=[c for c in children if c["rows"] or c["without_data"]],
            rank=own_rank(card, period, feed), publication=publication,
            planner_choices=planner.choices(card), **common(period, feed))

    @app.get("/don-vi/<code>/bao-cao.pdf")
    def report(code: str) -> Response:
        from services.web import report as pdf

        code = unit_code_arg(code)
        period, feed = period_arg(), feed_arg()
        published = unit_card(code, period, feed)
        card = published.scorecard
        history = gateway.history(code, views.period_proto(trend_end(period)), feed, 12,
                                  tpb.SCOPE_SUBTREE if feed == 1 else card.scope)
        content = pdf.one_page(card, views.period_label(period), feed, own_rank(card, period, feed),
                               views.trend_rows(history), fmt.moment(clock()))
        response = make_response(content)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="bao-cao-{code}-{period.key}.pdf"'
        return response

    # ------------------------------------------------------------------ the planner

    @app.get("/don-vi/<code>/ke-hoach")
    def plan(code: str) -> str:
        code = unit_code_arg(code)
        period = period_arg()
        card = unit_card(code, period, 1).scorecard
        options = planner.choices(card)
        indicator = request.args.get("chi-tieu") or (options[0]["id"] if options else "")
        chosen = next((c for c in options if c["id"] == indicator), None)
        if options and chosen is None:
            not_found(f"Chỉ tiêu “{indicator[:20]}” không thể mô phỏng cho đơn vị này.")
        answer = None
        if chosen is not None:
            raw = request.args.get("them", "")
            try:
                extra = int(raw) if raw else min(30, chosen["room"])
            except ValueError:
                not_found("Số lượng thêm phải là số nguyên.")
            extra = max(0, min(extra, chosen["room"]))
            answer = planner.answer(gateway, card, period, chosen, extra)
        return render_template("plan.html", card=card, options=options, chosen=chosen, answer=answer,
                               **common(period, 1))

    # ------------------------------------------------------------------ officials

    @app.get("/dang-nhap")
    def sign_in_form() -> str:
        g.private = True
        return render_template("signin.html", next=_safe_next(request.args.get("next", "/")), error="",
                               signed_in=bool(token()))

    @app.post("/dang-nhap")
    def sign_in() -> Response:
        g.private = True
        credential = request.form.get("token", "").strip()
        nxt = _safe_next(request.form.get("next", "/"))
        if not credential or len(credential) > MAX_TOKEN:
            return make_response(render_template("signin.html", next=nxt, signed_in=False,
                                                 error="Vui lòng nhập mã truy cập được cấp cho đơn vị."), 400)
        unit_code = nxt.split("/")[2] if nxt.startswith("/don-vi/") else ""
        if unit_code:  # check it now against the unit the official came from
            local = clock().astimezone(fmt.HANOI)
            try:
                gateway.explain(credential, unit_code, tpb.Period(kind=1, year=local.year, number=local.month),
                                "2.1", "", page_size=1)
            except PageError as exc:
                if exc.status in (401, 403):
                    return make_response(render_template("signin.html", next=nxt, signed_in=False,
                                                         error=exc.message), exc.status)
        response = redirect(nxt, 303)
        response.set_cookie(TOKEN_COOKIE, credential, httponly=True, samesite="Strict", secure=secure_cookies,
                            max_age=8 * 3600, path="/")
        log.info("official signed in", unit_code=unit_code)
        return response

    @app.post("/dang-xuat")
    def sign_out() -> Response:
        response = redirect(_safe_next(request.form.get("next", "/")), 303)
        response.delete_cookie(TOKEN_COOKIE, path="/")
        return response

    @app.get("/don-vi/<code>/mat-diem/<indicator>")
    def records(code: str, indicator: str) -> Any:
        code = unit_code_arg(code)
        period = period_arg()
        g.private = True
        credential = token()
        if not credential:
            return redirect(url_for("sign_in_form", next=request.full_path.rstrip("?")), 303)
        card = unit_card(code, period, 1).scorecard
        row = next((r for r in views.indicator_rows(card) if r["id"] == indicator), None)
        if row is None:
            not_found(f"Không có chỉ tiêu “{indicator[:20]}” trong kết quả của đơn vị.")
        page_token = request.args.get("trang", "")[:512]
        reply = gateway.explain(credential, code, views.period_proto(period), indicator, card.rule_version,
                                page_token=page_token, page_size=50, scope=card.scope or tpb.SCOPE_SUBTREE)
        items = [{"kind": views.RECORD_KINDS.get(i.record_kind, i.record_kind), "key": i.record_key,
                  "unit": i.unit_code, "reason": views.reason_text(i.reason),
                  "late_days": fmt.number(Decimal(i.late_seconds) / 86400, 1) if i.late_seconds else "",
                  "points": fmt.number(i.points.value) if i.points.value else "",
                  "attributes": sorted((views.ATTRIBUTES.get(k, k), v) for k, v in i.attributes.items())}
                 for i in reply.items]
        return render_template("records.html", card=card, row=row, items=items, total=reply.total_size,
                               next_token=reply.next_page_token, **common(period, 1))

    @app.get("/don-vi/<code>/sap-qua-han")
    def at_risk(code: str) -> Any:
        """For the unit's officials: its dossiers about to be late (2 working days), what each would cost
        the running month, the projection and the unit's open alerts."""
        code = unit_code_arg(code)
        g.private = True
        credential = token()
        if not credential:
            return redirect(url_for("sign_in_form", next=request.full_path.rstrip("?")), 303)
        reply = gateway.at_risk(credential, code, page_token=request.args.get("trang", "")[:512], page_size=50)
        alerts = gateway.open_alerts(credential, code)
        period = PeriodRef(reply.period.kind, reply.period.year, reply.period.number)
        return render_template("at_risk.html", code=code, **views.at_risk_view(reply, alerts),
                               next_token=reply.next_page_token, **common(period, 1))

    @app.get("/theo-doi")
    def watch_list() -> str:
        """Public: the provinces (or ministries) whose running month would drop a band if every dossier
        about to be late turned late — counts only."""
        kind = {"bo": tpb.UNIT_KIND_MINISTRY}.get(request.args.get("loai", ""), tpb.UNIT_KIND_PROVINCE)
        reply = gateway.projections(kind)
        period = PeriodRef(reply.period.kind, reply.period.year, reply.period.number)
        return render_template("watch.html", rows=views.watch_rows(reply), kind=kind, empty_reason=reply.empty_reason,
                               **common(period, 1))

    # ------------------------------------------------------------------ embeddable widget

    @app.get("/nhung/<code>")
    def widget(code: str) -> str:
        g.embeddable = True
        code = unit_code_arg(code)
        period = period_arg()
        card = unit_card(code, period, 1).scorecard
        return render_template("widget.html", card=card, band=views.band(card.classification),
                               rank=own_rank(card, period, 1), period=period,
                               period_label=views.period_label(period), now=fmt.moment(clock()))

    # ------------------------------------------------------------------ exports

    formats = {"xlsx": ppb.EXPORT_FORMAT_XLSX, "csv": ppb.EXPORT_FORMAT_CSV}

    def send_export(reply: ppb.ExportResultsResponse) -> Response:
        response = make_response(bytes(reply.content))
        response.headers["Content-Type"] = reply.content_type
        response.headers["Content-Disposition"] = f'attachment; filename="{reply.filename}"'
        return response

    @app.get("/xuat/xep-hang.<ext>")
    def export_ranking(ext: str) -> Response:
        if ext not in formats:
            abort(404)
        period, feed = period_arg(), feed_arg()
        try:
            kind = int(request.args.get("loai", tpb.UNIT_KIND_PROVINCE))
        except ValueError:
            kind = -1
        if kind not in views.KIND_LABELS:
            not_found("Loại đơn vị không hợp lệ.")
        return send_export(gateway.export(ppb.ExportResultsRequest(
            format=formats[ext], ranking=ppb.GetRankingRequest(
                period=views.period_proto(period), unit_kind=kind, feed=feed,
                parent_code=request.args.get("cha", "")[:64])), f"bảng xếp hạng {period.label()}"))

    @app.get("/don-vi/<code>/ket-qua.<ext>")
    def export_scorecard(code: str, ext: str) -> Response:
        if ext not in formats:
            abort(404)
        code = unit_code_arg(code)
        period, feed = period_arg(), feed_arg()
        return send_export(gateway.export(ppb.ExportResultsRequest(
            format=formats[ext], scorecard=ppb.GetScorecardRequest(
                unit_code=code, period=views.period_proto(period), feed=feed,
                scope=unit_card(code, period, feed).scorecard.scope or tpb.SCOPE_SUBTREE)),
            f"kết quả của đơn vị “{code}” {period.label()}"))

    # ------------------------------------------------------------------ health, assets

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/static/vendor/chart.umd.min.js")
    def chart_js() -> Response:
        path = chart_js_path()
        if path is None:
            abort(404)
        return send_file(path, mimetype="text/javascript", max_age=86400)

    return app


def _safe_next(target: str) -> str:
    """Only a path of this site (never another origin) to go back to after signing in or out."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return "/"
    return target
