"""The one-page A4 report for a unit's leaders, as a PDF (fpdf2) with DejaVu Sans embedded (it covers
Vietnamese): total, band, rank and its change, the groups, the three indicators that cost most, and
the 12-month trend as a chart with its figures. Everything comes from the same view data as the
unit's page; the layout never breaks onto a second page (automatic page breaks are off and long
names are shortened to fit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chiso.types.v1 import types_pb2 as tpb
from fpdf import FPDF

from services.web import fmt, views

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
BAND_COLOURS = {"excellent": (30, 123, 52), "good": (43, 122, 120), "fair": (183, 121, 31),
                "average": (192, 86, 33), "weak": (180, 35, 24), "none": (160, 174, 192)}
INK, MUTED, LINE, BRAND, ACCENT = (26, 32, 44), (74, 85, 104), (217, 222, 229), (163, 29, 36), (31, 111, 139)


class FontsMissing(RuntimeError):
    """The Vietnamese fonts the report embeds are not installed."""


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def one_page(card: tpb.Scorecard, period_label: str, feed: int, rank: dict[str, Any] | None,
             trend: list[dict[str, Any]], generated: str) -> bytes:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise FontsMissing(f"DejaVuSans.ttf and DejaVuSans-Bold.ttf are needed in {FONT_DIR}")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 12, 15)
    pdf.set_title(f"Báo cáo Bộ chỉ số 766 — {card.unit.name} — {period_label}")
    pdf.set_author("chiso — Bộ chỉ số 766")
    pdf.set_creator("chiso-web")
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    left = pdf.l_margin

    # --- heading
    pdf.set_fill_color(*BRAND)
    pdf.rect(0, 0, pdf.w, 30, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(left, 7)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 5, "BÁO CÁO KẾT QUẢ BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP (QĐ 766/QĐ-TTg)")
    pdf.set_xy(left, 13)
    pdf.set_font(FONT, "B", 16)
    pdf.cell(width, 8, _fit(pdf, card.unit.name, width))
    pdf.set_xy(left, 21)
    pdf.set_font(FONT, "", 10)
    source = "tạm tính (theo thời gian thực)" if feed == 1 else "chính thức (đã công bố, có chữ ký số)"
    pdf.cell(width, 5, f"{period_label} · kết quả {source} · phiên bản quy tắc {card.rule_version}")

    # --- the three figures
    y = 36
    band = views.band(card.classification)
    boxes = [("Tổng điểm", f"{fmt.number(card.total.value)} / 100", None),
             ("Xếp loại", band["label"], BAND_COLOURS[band["css"]]),
             ("Thứ hạng", f"{rank['rank']}/{rank['of']}" if rank else fmt.DASH, None)]
    box_w = (width - 8) / 3
    for i, (label, value, colour) in enumerate(boxes):
        x = left + i * (box_w + 4)
        pdf.set_draw_color(*LINE)
        pdf.rect(x, y, box_w, 24)
        pdf.set_xy(x + 3, y + 2)
        pdf.set_text_color(*MUTED)
        pdf.set_font(FONT, "", 9)
        pdf.cell(box_w - 6, 5, label)
        pdf.set_xy(x + 3, y + 8)
        pdf.set_text_color(*(colour or INK))
        pdf.set_font(FONT, "B", 17)
        pdf.cell(box_w - 6, 9, value)
        if label == "Thứ hạng" and rank:
            pdf.set_xy(x + 3, y + 17)
            pdf.set_font(FONT, "", 8)
            pdf.set_text_color(*MUTED)
            change = rank["change"]
            words = f"{change[0]} ({change[2]})" if change[1] in ("up", "down") else change[2]
            pdf.cell(box_w - 6, 5, _fit(pdf, f"{words} · trong {rank['peers']}", box_w - 6))
    pdf.set_text_color(*INK)

    # --- groups
    y += 30
    pdf.set_xy(left, y)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(width, 6, "Điểm theo nhóm chỉ tiêu")
    y += 8
    name_w, bar_w = 78, width - 78 - 28
    for g in views.group_rows(card):
        pdf.set_xy(left, y)
        pdf.set_font(FONT, "", 9)
        pdf.cell(name_w, 5.5, _fit(pdf, f"{g['label']}. {g['name']}", name_w - 2))
        share = (g["value"] / g["max_value"]) if g["max_value"] else 0
        pdf.set_fill_color(230, 236, 240)
        pdf.rect(left + name_w, y + 1, bar_w, 3.5, style="F")
        pdf.set_fill_color(*ACCENT)
        pdf.rect(left + name_w, y + 1, bar_w * max(0.0, min(1.0, share)), 3.5, style="F")
        pdf.set_xy(left + name_w + bar_w, y)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(28, 5.5, f"{g['points']}/{g['max']}", align="R")
        y += 6.5

    # --- the indicators that cost most
    y += 4
    pdf.set_xy(left, y)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(width, 6, "Ba chỉ tiêu mất nhiều điểm nhất")
    y += 8
    cols = [("Mã", 12, "L"), ("Chỉ tiêu", 78, "L"), ("Tử số/Mẫu số", 32, "R"), ("Tỷ lệ", 20, "R"),
            ("Điểm", 20, "R"), ("Mất", 18, "R")]
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_fill_color(238, 242, 246)
    x = left
    for title, w, align in cols:
        pdf.set_xy(x, y)
        pdf.cell(w, 6, title, align=align, fill=True)
        x += w
    y += 6
    pdf.set_font(FONT, "", 8.5)
    worst = views.costliest(card)
    if not worst:
        pdf.set_xy(left, y)
        pdf.cell(width, 6, "Không có chỉ tiêu nào bị mất điểm.")
        y += 6
    for r in worst:
        values = [r["id"], _fit(pdf, r["name"], 76), f"{r['numerator']}/{r['denominator']}", r["rate"],
                  f"{r['points']}/{r['max']}", r["lost_text"]]
        x = left
        for (_, w, align), value in zip(cols, values, strict=True):
            pdf.set_xy(x, y)
            pdf.cell(w, 6, value, align=align, border="B")
            x += w
        y += 6

    # --- trend
    y += 6
    pdf.set_xy(left, y)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(width, 6, "Diễn biến tổng điểm 12 tháng")
    y += 8
    chart_h, axis_w = 70, 18
    plot_x, plot_w = left + axis_w, width - axis_w
    pdf.set_draw_color(*LINE)
    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(*MUTED)
    for value in (0, 50, 70, 80, 90, 100):
        yy = y + chart_h - chart_h * value / 100
        pdf.line(plot_x, yy, plot_x + plot_w, yy)
        pdf.set_xy(left, yy - 2)
        pdf.cell(axis_w - 2, 4, str(value), align="R")
    n = max(1, len(trend))
    step = plot_w / n
    points = []
    for i, t in enumerate(trend):
        cx = plot_x + step * (i + 0.5)
        pdf.set_xy(cx - step / 2, y + chart_h + 1)
        pdf.cell(step, 4, t["period"], align="C")
        if t["total_value"] is not None:
            points.append((cx, y + chart_h - chart_h * t["total_value"] / 100))
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    for a, b in zip(points, points[1:], strict=False):
        pdf.line(a[0], a[1], b[0], b[1])
    pdf.set_fill_color(*ACCENT)
    for cx, cy in points:
        pdf.ellipse(cx - 0.9, cy - 0.9, 1.8, 1.8, style="F")
    pdf.set_line_width(0.2)
    y += chart_h + 7
    # its figures
    pdf.set_text_color(*INK)
    for label, key in (("Tổng điểm", "total"), ("Thứ hạng", "rank_text")):
        pdf.set_xy(left, y)
        pdf.set_font(FONT, "B", 7)
        pdf.cell(axis_w, 4.5, label)
        pdf.set_font(FONT, "", 6.5)
        for i, t in enumerate(trend):
            pdf.set_xy(plot_x + step * i, y)
            pdf.cell(step, 4.5, str(t[key]), align="C")
        y += 4.5

    # --- footer
    pdf.set_xy(left, pdf.h - 18)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, 3.8, (
        f"Lập lúc {generated} (giờ Việt Nam) từ hệ thống đánh giá Bộ chỉ số 766. Xếp loại: Xuất sắc 90–100, Tốt "
        "80 đến dưới 90, Khá 70 đến dưới 80, Trung bình 50 đến dưới 70, Yếu dưới 50. Kết quả tạm tính thay đổi "
        "theo dữ liệu đồng bộ; kết quả chính thức là công bố có chữ ký số."))
    return bytes(pdf.output())
