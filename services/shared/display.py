"""What the command-line tools show people, written once: periods, times, names, unit kinds.

Plain Python (no grpc, no protobuf): callers pass numbers. People read Vietnamese: "tháng 11/2026",
"quý IV/2026", times in Asia/Ho_Chi_Minh as dd/mm/yyyy HH:MM.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
MONTH, QUARTER, YEAR, YEAR_TO_DATE = 1, 2, 3, 4  # chiso.types.v1.PeriodKind
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

#: chiso.types.v1.UnitKind number ↔ the one spelling every CLI takes and prints
UNIT_KINDS = {1: "ministry", 2: "ministerial-agency", 3: "social-security", 4: "province", 5: "department",
              6: "commune", 7: "district", 8: "other"}
UNIT_KIND_NUMBERS = {name: n for n, name in UNIT_KINDS.items()}


def unit_kind(text: str) -> int:
    """The UnitKind number of a CLI spelling (``ministerial-agency``; ``_`` taken for ``-``)."""
    try:
        return UNIT_KIND_NUMBERS[text.strip().lower().replace("_", "-")]
    except KeyError:
        raise ValueError(f"unit kind {text!r}: one of {', '.join(UNIT_KINDS.values())}") from None


def period_label(kind: int, year: int, number: int = 0) -> str:
    """``tháng 11/2026``, ``quý IV/2026``, ``năm 2026``, ``từ đầu năm 2026``."""
    if kind == MONTH:
        return f"tháng {number:02d}/{year}"
    if kind == QUARTER:
        return f"quý {_ROMAN.get(number, number)}/{year}"
    if kind == YEAR:
        return f"năm {year}"
    if kind == YEAR_TO_DATE:
        return f"từ đầu năm {year} đến nay"
    return str(year)


def period_key(kind: int, year: int, number: int = 0) -> str:
    """The CLI spelling of a period: ``2026-11``, ``2026-Q4``, ``2026``, ``2026-YTD``."""
    return {MONTH: f"{year}-{number:02d}", QUARTER: f"{year}-Q{number}", YEAR_TO_DATE: f"{year}-YTD"}.get(
        kind, str(year))


def hanoi_time(us: int | None) -> str:
    """An instant (UTC microseconds) as Hanoi's ``dd/mm/yyyy HH:MM``; ``—`` for none."""
    if us is None:
        return "—"
    return datetime.fromtimestamp(us / 1_000_000, UTC).astimezone(HANOI).strftime("%d/%m/%Y %H:%M")


def iso_time(us: int | None) -> str | None:
    """An instant as ISO 8601 in Hanoi's offset (for JSON output), e.g. ``2026-11-30T08:15:00+07:00``."""
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, UTC).astimezone(HANOI).isoformat(timespec="seconds")


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut between words with "…" (a single word longer than
    the width is cut where it must be)."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def table(rows: list[list[str]], header: list[str] | None = None, *, empty: str = "(none)") -> str:
    """Rows as left-aligned columns; ``empty`` when there are none."""
    if not rows:
        return empty
    all_rows = ([header] if header else []) + rows
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in all_rows]
    return "\n".join(lines)


def end_quietly_on_closed_pipe() -> None:
    """For a read-only command: when its reader goes away (``… | head``), end as ``cat`` does,
    silently, instead of a BrokenPipeError traceback. (chiso-push, which writes, handles it itself.)"""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
