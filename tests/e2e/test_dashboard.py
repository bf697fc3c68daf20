"""The dashboard in a real browser (Playwright driving Debian's Chromium, headless) against the real
ingest, scoring and publish servers loaded with a small country (``dashboard_stack``): what a person
sees equals what publish's and scoring's APIs return.

One server set and one browser for the whole module. Every page is checked for console errors;
screenshots at 1280 and 390 px wide are kept under ``test-artifacts/dashboard/``. Chromium
(``/usr/bin/chromium``, or ``CHISO_CHROMIUM``) and poppler's ``pdftoppm`` come from Debian packages
that ``make test`` installs when missing (``make test-tools``); without them these tests skip, and
fail under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.web import fmt
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
CHROMIUM = os.environ.get("CHISO_CHROMIUM", "/usr/bin/chromium")
SUBTREE = tpb.SCOPE_SUBTREE


def _require(ok: bool, what: str) -> None:
    if not ok:
        (pytest.fail if IN_CI else pytest.skip)(f"{what} is missing: `make test` installs it (make test-tools)")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    _require(Path(CHROMIUM).is_file(), f"Chromium ({CHROMIUM}, Debian package chromium)")
    from tests.e2e.dashboard_stack import stack

    with stack(tmp_path_factory.mktemp("dashboard")) as s:
        yield s


@pytest.fixture(scope="module")
def stubs(env):
    publish_channel = grpc.insecure_channel(env.publish)
    scoring_channel = grpc.insecure_channel(env.scoring)
    yield (publish_pb2_grpc.PublishServiceStub(publish_channel), scoring_pb2_grpc.ScoringServiceStub(scoring_channel))
    publish_channel.close()
    scoring_channel.close()


@pytest.fixture(scope="module")
def browser(env):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


class Page:
    """A browser page at a given width that records console errors and failed page loads."""

    def __init__(self, browser, width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url: str, status: int = 200):
        response = self.page.goto(url)
        assert response is not None and response.status == status, (url, response and response.status)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        if self.context is None:
            return
        context, self.context = self.context, None
        context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def page(browser):
    pages: list[Page] = []

    def make(width: int = 1280) -> Page:
        pages.append(Page(browser, width))
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def month(env, back: int = 0) -> tpb.Period:
    spec = env.months[-1 - back]
    return tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=spec.year, number=spec.month)


def key(period: tpb.Period) -> str:
    return f"{period.year}-{period.number:02d}"


def rows(page, selector: str) -> list[dict[str, str]]:
    return page.eval_on_selector_all(selector, "rows => rows.map(r => ({...r.dataset, text: r.innerText}))")


def test_national_page_lists_the_34_provinces_with_publish_totals_and_sorts(env, stubs, page):
    publish, _ = stubs
    reply = publish.GetRanking(ppb.GetRankingRequest(period=month(env), unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                     feed=tpb.FEED_LIVE), timeout=60)
    expected = [(e.rank, e.unit.code, e.total.value, e.previous_rank if e.HasField("previous_rank") else None)
                for e in reply.ranking.entries]
    assert len(expected) == 34
    p = page(1280)
    pg = p.open(env.web + "/")
    shown = rows(pg, "table[data-kind='4'] tbody tr")
    assert [(int(r["rank"]), r["code"], r["total"]) for r in shown] == [(r, c, t) for r, c, t, _ in expected]
    for r, (_, _, total, previous) in zip(shown, expected, strict=True):
        assert fmt.number(total) in r["text"]  # shown the Vietnamese way: 80,24
        assert (fmt.rank_change(int(r["rank"]), previous)[0]) in r["text"]
    assert re.search(r"\d+,\d\d", shown[0]["text"]) and not re.search(r"\b\d+\.\d\d\b", shown[0]["text"])
    # each group's points are the province's scorecard's
    card = publish.GetScorecard(ppb.GetScorecardRequest(unit_code=expected[0][1], period=month(env), scope=SUBTREE),
                                timeout=30).scorecard.scorecard
    assert [shown[0][f"g{g.id}"] for g in card.groups] == [g.points.value for g in card.groups]
    p.shot("national-1280")

    # sortable by keyboard: focus "Đơn vị" and press Enter → by name (Vietnamese collation); Tổng điểm → best first
    pg.locator("table[data-kind='4'] thead button[data-sort='name']").focus()
    pg.keyboard.press("Enter")
    names = [r["name"] for r in rows(pg, "table[data-kind='4'] tbody tr")]
    assert names != [r["name"] for r in shown] and len(names) == 34
    assert pg.locator("table[data-kind='4'] thead th[aria-sort='ascending'] button").inner_text() == "Đơn vị"
    pg.locator("table[data-kind='4'] thead button[data-sort='total']").first.click()
    totals = [Decimal(r["total"]) for r in rows(pg, "table[data-kind='4'] tbody tr")]
    assert totals == sorted(totals, reverse=True)

    # the ministries are ranked too
    assert pg.locator("table[data-kind='1'] tbody tr").count() >= 10

    narrow = page(390)
    npg = narrow.open(env.web + "/")
    assert npg.evaluate("document.documentElement.scrollWidth") <= 390  # only the tables scroll, inside
    narrow.shot("national-390")


def test_a_province_page_equals_get_scorecard_with_a_12_month_trend_and_its_units_ranked(env, stubs, page):
    publish, _ = stubs
    p = page(1280)
    pg = p.open(env.web + "/")
    with pg.expect_navigation():
        pg.locator("table[data-kind='4'] tbody tr[data-code='H25'] a").click()
    assert pg.url.startswith(env.web + "/don-vi/H25")
    card = publish.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=month(env), scope=SUBTREE,
                                                        feed=tpb.FEED_LIVE), timeout=30).scorecard.scorecard
    assert pg.locator("h1").inner_text() == card.unit.name == "UBND tỉnh Phú Thọ"
    assert pg.get_by_test_id("total").inner_text() == fmt.number(card.total.value)
    shown = rows(pg, "table.indicators-table tbody tr")
    assert [(r["indicator"], int(r["numerator"]), int(r["denominator"]), r["points"]) for r in shown] == [
        (i.id, i.numerator, i.denominator, i.points.value) for i in card.indicators]
    for r, ind in zip(shown, card.indicators, strict=True):
        assert ind.name in r["text"]
        if ind.status != tpb.INDICATOR_STATUS_ANALYSIS_ONLY:
            assert f"{fmt.count(ind.numerator)} / {fmt.count(ind.denominator)}" in r["text"]
        if ind.status == tpb.INDICATOR_STATUS_SCORED:
            assert f"{fmt.number(ind.points.value)} / {fmt.number(ind.max_points.value)}" in r["text"]
        if ind.status == tpb.INDICATOR_STATUS_NOT_APPLICABLE:
            assert "Không áp dụng" in r["text"]
    groups = rows(pg, "table.groups-table tbody tr")
    assert [(r["group"], fmt.number(g.points.value) in r["text"]) for r, g in zip(groups, card.groups, strict=True)] \
        == [(g.id, True) for g in card.groups]

    # the trend: 12 months, each as GetScorecardHistory says, drawn (a canvas) over its table
    history = publish.GetScorecardHistory(ppb.GetScorecardHistoryRequest(
        unit_code="H25", scope=SUBTREE, end_period=month(env), period_count=12), timeout=30)
    trend = rows(pg, "table.trend-table tbody tr")
    assert len(trend) == 12 == len(history.points)
    for r, point in zip(trend, history.points, strict=True):
        assert r["period"] == key(point.period)
        assert point.HasField("scorecard"), key(point.period)  # every month has data
        assert fmt.number(point.scorecard.scorecard.total.value) in r["text"]
        assert f"{point.rank}/{point.ranked_count}" in r["text"]
    assert pg.evaluate("JSON.parse(document.getElementById('data-trend').textContent).length") == 12
    pg.wait_for_function("() => window.Chart && Chart.getChart('chart-trend') && Chart.getChart('chart-groups')")
    assert pg.evaluate("Chart.getChart('chart-trend').data.datasets[0].data.length") == 12

    # drill-down: the province's departments and communes, ranked as publish ranks them
    for kind in (tpb.UNIT_KIND_DEPARTMENT, tpb.UNIT_KIND_COMMUNE):
        ranking = publish.GetRanking(ppb.GetRankingRequest(period=month(env), unit_kind=kind, parent_code="H25"),
                                     timeout=30).ranking
        children = rows(pg, f"table.child-table[data-kind='{kind}'] tbody tr")
        assert [(int(r["rank"]), r["code"], r["total"]) for r in children] == [
            (e.rank, e.unit.code, e.total.value) for e in ranking.entries] and children
    p.shot("unit-H25-1280")
    narrow = page(390)
    npg = narrow.open(pg.url)
    assert npg.evaluate("document.documentElement.scrollWidth") <= 390
    narrow.shot("unit-H25-390")


def whatif_total(scoring, card: tpb.Scorecard, period: tpb.Period, indicator_id: str, extra: int) -> tpb.Scorecard:
    """WhatIf asked directly, from GetScorecard's counts with ``extra`` more in one numerator (built
    here, not by the page's code)."""
    counts = []
    for ind in card.indicators:
        if ind.status == tpb.INDICATOR_STATUS_ANALYSIS_ONLY:
            continue
        numerator = min(ind.denominator, ind.numerator + extra) if ind.id == indicator_id else ind.numerator
        counts.append(spb.IndicatorCounts(indicator_id=ind.id, numerator=numerator, denominator=ind.denominator,
                                          components=[spb.ComponentCounts(component_id=c.id, numerator=c.numerator,
                                                                          denominator=c.denominator)
                                                      for c in ind.components]))
    return scoring.WhatIf(spb.WhatIfRequest(rule_version=card.rule_version, period=period, counts=counts,
                                            unit_kind=card.unit.kind), timeout=30).scorecard


def test_the_planner_answers_with_the_whatif_rpc(env, stubs, page):
    publish, scoring = stubs
    period = month(env, 1)  # the month before: a whole month of dossiers, some late in every province
    card = publish.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=period, scope=SUBTREE),
                                timeout=30).scorecard.scorecard
    on_time = next(i for i in card.indicators if i.id == "2.1")
    assert on_time.numerator < on_time.denominator, "Phú Thọ has late dossiers in the demo data"
    p = page(1280)
    pg = p.open(f"{env.web}/don-vi/H25/ke-hoach?period={key(period)}&chi-tieu=2.1&them=30")
    answer = pg.get_by_test_id("plan-answer")
    assert answer.get_attribute("data-indicator") == "2.1"
    extra = int(answer.get_attribute("data-extra"))
    assert extra == min(30, on_time.denominator - on_time.numerator)
    whatif = whatif_total(scoring, card, period, "2.1", extra)
    assert answer.get_attribute("data-total") == whatif.total.value
    assert pg.get_by_test_id("plan-total").inner_text() == fmt.number(whatif.total.value)
    assert f"Hoàn thành thêm {extra} hồ sơ đúng hạn" in answer.inner_text()
    assert whatif.classification_label in answer.inner_text()
    p.shot("planner-H25-1280")
    # "to reach <band> you need N more": WhatIf at N reaches it, at N − 1 does not — for every indicator the
    # planner offers (some can reach a better band alone, some cannot: the page says which)
    options = pg.eval_on_selector_all("#chi-tieu option", "os => os.map(o => o.value)")
    assert "2.1" in options
    checked = 0
    for indicator in options:
        pg = p.open(f"{env.web}/don-vi/H25/ke-hoach?period={key(period)}&chi-tieu={indicator}")
        answer = pg.get_by_test_id("plan-answer")
        for item in answer.locator("li[data-needed]").all():
            needed = int(item.get_attribute("data-needed"))
            target = {"Xuất sắc": 1, "Tốt": 2, "Khá": 3, "Trung bình": 4}[item.get_attribute("data-band")]
            assert whatif_total(scoring, card, period, indicator, needed).classification <= target
            assert whatif_total(scoring, card, period, indicator, needed - 1).classification > target
            assert f"cần thêm {fmt.count(needed)} " in item.inner_text()
            checked += 1
        for item in answer.locator("li[data-band]:not([data-needed])").all():
            target = {"Xuất sắc": 1, "Tốt": 2, "Khá": 3, "Trung bình": 4}[item.get_attribute("data-band")]
            best = next(i for i in card.indicators if i.id == indicator)
            assert whatif_total(scoring, card, period, indicator, best.denominator).classification > target
        if checked:
            p.shot(f"planner-H25-{indicator}-1280")
            break
    assert checked, "no indicator of Phú Thọ reaches a better band alone in the test data"


def test_the_official_view_shows_a_verified_publication_with_its_ranking(env, stubs, page):
    publish, _ = stubs
    ended = month(env, 1)
    created = publish.CreatePublication(ppb.CreatePublicationRequest(
        request_id="dash-official", period=ended, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=SUBTREE,
        title="Kết quả thử nghiệm"),
        metadata=(("authorization", f"Bearer {env.operator_token}"),), timeout=120).publication
    p = page(1280)
    pg = p.open(f"{env.web}/?period={key(ended)}&nguon=chinh-thuc")
    block = pg.locator("section.ranking").first.get_by_test_id("publication")
    assert created.publication_id in block.inner_text() and "lần 1" in block.inner_text()
    assert block.locator(".signature").get_attribute("data-verified") == "true"
    assert "Chữ ký số hợp lệ" in block.inner_text()
    shown = rows(pg, "table[data-kind='4'] tbody tr")
    assert [(int(r["rank"]), r["code"], r["total"]) for r in shown] == [
        (e.rank, e.unit.code, e.total.value) for e in created.ranking.entries]
    # no publication of the month before: no rank to compare with, so no "mới" (new) on every row
    assert not any("mới" in r["text"] for r in shown)
    p.shot("national-official-1280")
    # the province's page, official: the publication's scorecard, with the same mark
    pg = p.open(f"{env.web}/don-vi/H25?period={key(ended)}&nguon=chinh-thuc")
    frozen = next(c for c in created.scorecards if c.unit.code == "H25")
    assert pg.get_by_test_id("total").inner_text() == fmt.number(frozen.total.value)
    assert pg.get_by_test_id("publication").locator(".signature").get_attribute("data-verified") == "true"


def test_officials_see_the_records_behind_a_score_and_the_public_sees_counts_only(env, stubs, page):
    _, scoring = stubs
    period = month(env, 1)
    explain = scoring.ExplainIndicator(spb.ExplainIndicatorRequest(
        unit_code="H25", period=period, scope=SUBTREE, indicator_id="2.1", page_size=50),
        metadata=(("authorization", f"Bearer {env.official_token}"),), timeout=30)
    assert explain.items, "the demo data has late dossiers in Phú Thọ"
    p = page(1280)
    pg = p.open(f"{env.web}/don-vi/H25?period={key(period)}")
    public = pg.content()
    assert not any(item.record_key in public for item in explain.items)
    assert pg.locator("a", has_text="Hồ sơ làm mất").count() == 0
    # the records page asks for a sign-in first
    pg = p.open(f"{env.web}/don-vi/H25/mat-diem/2.1?period={key(period)}")
    assert "/dang-nhap" in pg.url
    pg.fill("#token", "chiso_000000000000_wrong")
    pg.click("button[type=submit]")
    assert "Mã truy cập không hợp lệ" in pg.locator("[role=alert]").inner_text()
    assert p.errors == ["Failed to load resource: the server responded with a status of 401 (UNAUTHORIZED)"]
    p.errors.clear()  # the browser logs the refusal's status itself
    pg.fill("#token", env.official_token)
    with pg.expect_navigation():
        pg.click("form.signin button[type=submit]")
    assert "/mat-diem/2.1" in pg.url
    assert int(pg.get_by_test_id("record-count").inner_text().replace(".", "")) == explain.total_size
    codes = pg.eval_on_selector_all("table.records-table tbody th code", "cs => cs.map(c => c.innerText)")
    assert codes == [item.record_key for item in explain.items]
    # each record's share of the points lost, as scoring's explain gives it, the Vietnamese way
    shown = pg.eval_on_selector_all("table.records-table tbody td.points", "cs => cs.map(c => c.innerText)")
    assert shown == [fmt.number(item.points.value) for item in explain.items]
    assert all(item.points.value for item in explain.items)
    p.shot("records-H25-2.1-1280")
    # signed in, the unit's page links each indicator that lost points to its records
    pg = p.open(f"{env.web}/don-vi/H25?period={key(period)}")
    assert pg.locator("a", has_text="Hồ sơ làm mất").count() >= 1
    # not Hà Nội's: refused, in Vietnamese
    pg = p.open(f"{env.web}/don-vi/H01/mat-diem/2.1?period={key(period)}", status=403)
    assert "không được xem dữ liệu của đơn vị này" in pg.content()
    assert p.errors == ["Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"]
    p.errors.clear()


def test_officials_see_what_is_about_to_be_late_and_the_public_the_watch_list(env, stubs, page):
    _, scoring = stubs
    official = (("authorization", f"Bearer {env.official_token}"),)
    want = scoring.ListAtRiskDossiers(spb.ListAtRiskDossiersRequest(unit_code="H25", scope=SUBTREE, page_size=50),
                                      metadata=official, timeout=60)
    p = page(1280)
    pg = p.open(f"{env.web}/don-vi/H25/sap-qua-han")
    assert "/dang-nhap" in pg.url  # records: a sign-in first
    pg.fill("#token", env.official_token)
    with pg.expect_navigation():
        pg.click("form.signin button[type=submit]")
    assert "/sap-qua-han" in pg.url
    assert int(pg.get_by_test_id("at-risk-count").inner_text().replace(".", "")) == want.total_size
    assert pg.get_by_test_id("total-none-late").inner_text() == want.projection.total_if_none_late.value.replace(
        ".", ",")
    codes = pg.eval_on_selector_all("table.at-risk-table tbody th code", "cs => cs.map(c => c.innerText)")
    assert codes == [d.record_key for d in want.dossiers]
    assert pg.get_by_test_id("open-alerts").count() == 1
    p.shot("at-risk-H25-1280")
    # the public watch list: counts only, the same projections scoring gives
    watch = scoring.ListProjections(spb.ListProjectionsRequest(unit_kind=tpb.UNIT_KIND_PROVINCE, only_dropping=True),
                                    timeout=60)
    pg = p.open(f"{env.web}/theo-doi")
    assert [r["code"] for r in rows(pg, "table.watch-table tbody tr[data-code]")] == [
        u.unit.code for u in watch.projections]
    assert not any(d.record_key in pg.content() for d in want.dossiers)


def test_unknown_units_and_periods_give_a_vietnamese_404(env, page):
    p = page(1280)
    for path in ("/don-vi/H99", "/?period=2026-13", "/?period=abc", "/don-vi/H25?period=2099-01",
                 "/don-vi/H25?period=2021-05", "/khong-co", "/don-vi/H25?nguon=la", "/nhung/H99",
                 "/don-vi/H25/bao-cao.pdf?period=1999"):
        pg = p.open(env.web + path, status=404)
        text = pg.locator("main").inner_text()
        assert "Không tìm thấy" in text or "chưa bắt đầu" in text or "không hợp lệ" in text, (path, text)
        assert "Traceback" not in pg.content() and "Exception" not in pg.content()
        assert pg.locator("html").get_attribute("lang") == "vi"
    p.shot("not-found-1280")
    assert set(p.errors) == {"Failed to load resource: the server responded with a status of 404 (NOT FOUND)"}
    p.errors.clear()  # the browser logs each 404 response itself; nothing else


def test_the_embed_example_shows_the_units_card(env, stubs, page):
    publish, _ = stubs
    card = publish.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=month(env), scope=SUBTREE),
                                timeout=30).scorecard.scorecard
    html = (ROOT / "docs" / "embed-example.html").read_text(encoding="utf-8")
    assert "http://127.0.0.1:8080/nhung/H25" in html
    example = ARTIFACTS / "embed-example.html"
    example.write_text(html.replace("http://127.0.0.1:8080", env.web), encoding="utf-8")
    p = page(1280)
    pg = p.open(example.as_uri(), status=200)
    frame = pg.frame_locator("iframe")
    assert frame.get_by_test_id("widget-total").inner_text() == fmt.number(card.total.value)
    assert re.fullmatch(r"\d+/34", frame.get_by_test_id("widget-rank").inner_text())
    p.shot("embed-example-1280")


def test_the_one_page_report_is_an_a4_pdf_with_vietnamese_fonts_embedded(env, tmp_path):
    _require(shutil.which("pdftoppm") is not None and shutil.which("pdffonts") is not None,
             "poppler-utils (pdftoppm, pdffonts)")
    with urllib.request.urlopen(f"{env.web}/don-vi/H25/bao-cao.pdf", timeout=60) as response:  # noqa: S310
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = response.read()
    path = tmp_path / "bao-cao.pdf"
    path.write_bytes(pdf)
    shutil.copy(path, ARTIFACTS / "report-H25.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1, pages
    shutil.copy(pages[0], ARTIFACTS / "report-H25.png")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    font_rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and all("DejaVuSans" in line and " yes " in line for line in font_rows), fonts
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "UBND tỉnh Phú Thọ" in text and "Ba chỉ tiêu mất nhiều điểm nhất" in text
    assert re.search(r"\d+,\d\d / 100", text), text[:500]


def test_exports_download_from_the_page(env):
    for path in ("/xuat/xep-hang.xlsx", "/xuat/xep-hang.csv", "/don-vi/H25/ket-qua.xlsx"):
        with urllib.request.urlopen(env.web + path, timeout=60) as response:  # noqa: S310
            assert response.status == 200
            assert "attachment" in response.headers["Content-Disposition"]
            assert response.read()[:2] in (b"PK", b"\xef\xbb")  # a zip (XLSX) or a CSV with its BOM
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(env.web + "/xuat/xep-hang.pdf", timeout=60)  # noqa: S310
    assert err.value.code == 404


def test_a_month_without_data_lists_the_provinces_apart_unranked(env, stubs, page):
    """January 2023 has no record of any province in the demo: publish's ranking lists them all in
    units_without_data and ranks none; the page says so instead of ranking 34 provinces at one score."""
    publish, _ = stubs
    january = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2023, number=1)
    reply = publish.GetRanking(ppb.GetRankingRequest(period=january, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                     feed=tpb.FEED_LIVE), timeout=60)
    apart = sorted(u.code for u in reply.ranking.units_without_data)
    assert len(apart) == 34 and not reply.ranking.entries
    p = page(1280)
    pg = p.open(env.web + "/?period=2023-01")
    assert pg.locator("table[data-kind='4'] tbody tr").count() == 0
    listed = pg.locator("[data-testid='without-data-4']")
    assert "Chưa có dữ liệu trong kỳ, không xếp hạng" in listed.inner_text()
    assert sorted(listed.locator("[data-code]").evaluate_all("els => els.map(e => e.dataset.code)")) == apart
    p.shot("no-data-month-1280")
    assert not p.errors
