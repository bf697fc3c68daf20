"""Numbers, dates and words the Vietnamese way, for everything a person reads on the dashboard.

Decimal comma and dot-grouped thousands ("80,24", "1.234", "30.000"), dates dd/mm/yyyy in
Asia/Ho_Chi_Minh, rates as percentages with a comma ("91,23 %"). Values come as the exact decimal
strings of ``google.type.Decimal`` and are rounded half-up only here, when shown.

>>> number("80.24"), number("71"), number("1234.5"), count(30000)
('80,24', '71,00', '1.234,50', '30.000')
>>> percent("0.91235"), percent("0.8"), percent("")
('91,24 %', '80,00 %', '—')
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DASH = "—"


def decimal(value: str | int | float | Decimal | None) -> Decimal | None:
    """``value`` as a Decimal; None when empty or not a number."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _grouped(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return ".".join(reversed(out))


def number(value, places: int = 2) -> str:
    """``80,24``: rounded half-up to ``places`` decimals, comma before them, dots between thousands."""
    d = decimal(value)
    if d is None:
        return DASH
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) if places else d.quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    return f"{sign}{_grouped(whole)}{',' + frac if frac else ''}"


def count(value) -> str:
    """A whole number: ``30.000``."""
    return number(value, 0)


def percent(rate, places: int = 2) -> str:
    """A rate (0.9123) as ``91,23 %``."""
    d = decimal(rate)
    return DASH if d is None else f"{number(d * 100, places)} %"


def day(value: date | datetime | None) -> str:
    """``05/12/2026`` (a moment is taken in Asia/Ho_Chi_Minh)."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = value.astimezone(HANOI).date()
    return value.strftime("%d/%m/%Y")


def moment(value: datetime | None) -> str:
    """``05/12/2026 14:03`` in Asia/Ho_Chi_Minh."""
    if value is None:
        return DASH
    return value.astimezone(HANOI).strftime("%d/%m/%Y %H:%M")


def from_timestamp(seconds: int, nanos: int = 0) -> datetime | None:
    """A ``google.protobuf.Timestamp``'s parts as an aware datetime; None when unset (0)."""
    if not seconds and not nanos:
        return None
    return datetime.fromtimestamp(seconds + nanos / 1e9, tz=UTC)


def rank_change(rank: int | None, previous: int | None) -> tuple[str, str, str]:
    """(symbol, css class, Vietnamese words) for a move from ``previous`` to ``rank``.

    >>> rank_change(3, 5), rank_change(5, 3), rank_change(4, 4), rank_change(2, None)
    (('▲2', 'up', 'tăng 2 bậc'), ('▼2', 'down', 'giảm 2 bậc'), ('=', 'same', 'giữ nguyên'), ('mới', 'new', \
'chưa được xếp hạng kỳ trước'))
    """
    if rank is None:
        return DASH, "none", "không xếp hạng"
    if previous is None:
        return "mới", "new", "chưa được xếp hạng kỳ trước"
    if previous > rank:
        return f"▲{previous - rank}", "up", f"tăng {previous - rank} bậc"
    if previous < rank:
        return f"▼{rank - previous}", "down", f"giảm {rank - previous} bậc"
    return "=", "same", "giữ nguyên"
