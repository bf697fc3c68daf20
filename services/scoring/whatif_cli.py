"""chiso-whatif — "if we clear 300 late dossiers, do we reach Tốt?"

Sends counts to the scoring service's WhatIf and prints the scorecard they give:

    chiso-whatif --rule-version 766/2022 --period 2026-08 2.1=700/1000 5.4=850/1000

Each count is ``indicator=numerator/denominator``; indicators not given have no data and follow
their rule's no-data treatment. Exit status 0, or 2 when the service refuses the input.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

import grpc
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.shared.channels import retrying_channel
from services.shared.display import end_quietly_on_closed_pipe, period_label, shorten

_PERIOD = [
    (re.compile(r"(\d{4})-(\d{2})"), tpb.PERIOD_KIND_MONTH),
    (re.compile(r"(\d{4})-Q([1-4])"), tpb.PERIOD_KIND_QUARTER),
    (re.compile(r"(\d{4})-YTD"), tpb.PERIOD_KIND_YEAR_TO_DATE),
    (re.compile(r"(\d{4})"), tpb.PERIOD_KIND_YEAR),
]
NO_DATA = "Chưa có dữ liệu"
_COUNT = re.compile(r"(\d+(?:\.\d+)*)=(\d+)/(\d+)")
_STATUS = {tpb.INDICATOR_STATUS_NOT_APPLICABLE: "không áp dụng", tpb.INDICATOR_STATUS_ANALYSIS_ONLY: "phân tích",
           tpb.INDICATOR_STATUS_UNSCORED: "chưa chấm"}


def parse_period(text: str) -> tpb.Period:
    for pattern, kind in _PERIOD:
        m = pattern.fullmatch(text)
        if m:
            number = int(m.group(2)) if m.lastindex and m.lastindex > 1 else 0
            return tpb.Period(kind=kind, year=int(m.group(1)), number=number)
    raise argparse.ArgumentTypeError(f"period {text!r}: use 2026-08, 2026-Q3, 2026 or 2026-YTD")


def parse_count(text: str) -> pb.IndicatorCounts:
    m = _COUNT.fullmatch(text)
    if not m:
        raise argparse.ArgumentTypeError(f"count {text!r}: use indicator=numerator/denominator, e.g. 2.1=700/1000")
    return pb.IndicatorCounts(indicator_id=m.group(1), numerator=int(m.group(2)), denominator=int(m.group(3)))


def render(card: tpb.Scorecard) -> str:
    lines = [f"Phiên bản {card.rule_version}, {period_label(card.period.kind, card.period.year, card.period.number)}"]
    for g in card.groups:
        lines.append(f"{g.id:>3}  {shorten(g.name, 45):<45} {g.points.value:>6} / {g.max_points.value}")
        for i in card.indicators:
            if i.group_id != g.id:
                continue
            note = _STATUS.get(i.status, f"{i.numerator}/{i.denominator}")
            lines.append(f"     {i.id:<4} {shorten(i.name, 60):<60} {i.points.value:>6}  ({note})")
    if card.no_data:
        # no record of the period counts: the points above come from the catalogue and no-data rules
        lines.append(f"Tổng điểm: {NO_DATA} (không có hồ sơ, phản ánh, công bố hay báo cáo nào của kỳ; "
                     f"điểm trên chỉ từ danh mục TTHC: {card.total.value})")
    else:
        lines.append(f"Tổng điểm: {card.total.value} — {card.classification_label}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="chiso-whatif", description=__doc__.split("\n\n")[0])
    p.add_argument("counts", nargs="*", type=parse_count, help="indicator=numerator/denominator")
    p.add_argument("--rule-version", default="portal/2025")
    p.add_argument("--period", type=parse_period, help="2026-08, 2026-Q3, 2026 or 2026-YTD (default: this month)")
    p.add_argument("--target", default=os.environ.get("CHISO_SCORING_TARGET", "127.0.0.1:50052"))
    args = p.parse_args(argv)
    end_quietly_on_closed_pipe()
    request = pb.WhatIfRequest(rule_version=args.rule_version, counts=args.counts)
    if args.period is not None:
        request.period.CopyFrom(args.period)
    with retrying_channel(args.target) as channel:
        try:
            card = scoring_pb2_grpc.ScoringServiceStub(channel).WhatIf(request, timeout=30).scorecard
        except grpc.RpcError as err:
            print(f"chiso-whatif: {err.code().name}: {err.details()}", file=sys.stderr)
            return 2
    print(render(card))
    return 0


if __name__ == "__main__":
    sys.exit(main())
