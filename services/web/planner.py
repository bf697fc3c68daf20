"""The what-if planner: from a unit's real counts, what N more (e.g. on-time dossiers) would give, and
how many it takes to reach the next band — every figure answered by scoring's WhatIf RPC (the same
rule engine as the scorecards), never by a formula here. The search for "how many" only asks WhatIf
at chosen counts (a bisection: about 15 calls for 30,000 dossiers) and reads its bands.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from services.publish.domain.documents import PeriodRef
from services.web import fmt, views

# What one more in the numerator is, for the indicators whose numerator people count one by one.
NOUNS = {
    "1.4": "hồ sơ đồng bộ lên Cổng DVCQG",
    "2.1": "hồ sơ đúng hạn",
    "3.3": "hồ sơ nộp trực tuyến",
    "3.6": "hồ sơ thanh toán trực tuyến",
    "4.1": "hồ sơ có kết quả điện tử",
    "4.2": "hồ sơ được số hóa",
    "4.3": "hồ sơ sử dụng lại dữ liệu số hóa",
    "4.5": "hồ sơ số hóa đồng bộ kho dữ liệu cá nhân",
    "4.7": "hồ sơ sử dụng dữ liệu dân cư",
    "5.2": "phản ánh, kiến nghị xử lý đúng hạn",
    "5.3": "đánh giá hài lòng về xử lý PAKN",
    "5.4": "hồ sơ được đánh giá hài lòng",
}


def counts_of(card: tpb.Scorecard) -> list[spb.IndicatorCounts]:
    """The scorecard's own counts, per indicator (and component), as WhatIf takes them."""
    out = []
    for ind in card.indicators:
        if ind.status == tpb.INDICATOR_STATUS_ANALYSIS_ONLY:
            continue
        out.append(spb.IndicatorCounts(
            indicator_id=ind.id, numerator=ind.numerator, denominator=ind.denominator,
            components=[spb.ComponentCounts(component_id=c.id, numerator=c.numerator, denominator=c.denominator)
                        for c in ind.components]))
    return out


def choices(card: tpb.Scorecard) -> list[dict[str, Any]]:
    """Indicators the planner can move: scored, not composite, with room below their denominator —
    those that lost most first."""
    out = []
    for row in views.indicator_rows(card):
        if not row["scored"] or row["components"] or row["denominator_value"] <= 0:
            continue
        room = row["denominator_value"] - row["numerator_value"]
        if room <= 0 or row["lost"] <= 0:
            continue
        noun = NOUNS.get(row["id"], f"đối tượng đạt của chỉ tiêu {row['id']}")
        out.append({"id": row["id"], "name": row["name"], "noun": noun, "room": room, "lost": row["lost"],
                    "numerator": row["numerator_value"], "denominator": row["denominator_value"]})
    out.sort(key=lambda c: (-c["lost"], c["id"]))
    return out


def request_for(card: tpb.Scorecard, period: PeriodRef, indicator_id: str, extra: int) -> spb.WhatIfRequest:
    counts = counts_of(card)
    for c in counts:
        if c.indicator_id == indicator_id:
            c.numerator = min(c.denominator, c.numerator + extra)
    return spb.WhatIfRequest(rule_version=card.rule_version, period=views.period_proto(period), counts=counts,
                             unit_kind=card.unit.kind)


def answer(gateway, card: tpb.Scorecard, period: PeriodRef, chosen: dict[str, Any], extra: int) -> dict[str, Any]:
    def score(n: int) -> tpb.Scorecard:
        return gateway.whatif(request_for(card, period, chosen["id"], n))

    base = score(0)
    after = score(extra)
    targets = []
    # every better band than today's, from the next one up: the fewest more that reach it (bisection on WhatIf)
    best = score(chosen["room"])
    for classification in sorted(views.BANDS, reverse=True):
        if classification >= base.classification:
            continue
        label = views.BANDS[classification][0]
        if best.classification > classification:
            targets.append({"band": label, "reachable": False, "needed": None})
            continue
        low, high = 0, chosen["room"]  # score(high) reaches it, score(low) does not
        while high - low > 1:
            mid = (low + high) // 2
            if score(mid).classification <= classification:
                high = mid
            else:
                low = mid
        reached = score(high)
        targets.append({"band": label, "reachable": True, "needed": high, "needed_text": fmt.count(high),
                        "total": fmt.number(reached.total.value)})
    same = Decimal(base.total.value or "0") == Decimal(card.total.value or "0")
    return {
        "extra": extra, "extra_text": fmt.count(extra),
        "base_total": fmt.number(base.total.value), "base_band": views.band(base.classification),
        "total": fmt.number(after.total.value), "total_value": after.total.value,
        "band": views.band(after.classification), "targets": targets, "matches_card": same,
        "card_total": fmt.number(card.total.value),
    }
