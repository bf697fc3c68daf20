"""chiso-score — scorecards, rankings and explanations from the scoring service, for people.

    chiso-score scorecard H25 2026-11 --subtree     # a province with its subtree, this month so far
    chiso-score --rule-version 766/2022 scorecard H25.S01 2026-Q3   # the unit alone
    chiso-score ranking province 2026-11 --subtree  # all provinces as wholes, shared ranks
    chiso-score ranking commune 2026-11 --parent H25
    CHISO_TOKEN=… chiso-score explain H25 2026-11 2.1 --subtree   # the records that cost 2.1 its points
    CHISO_TOKEN=… chiso-score at-risk H25 --days 2 --subtree      # dossiers turning late within 2 working days

Every command scores the unit alone unless ``--subtree`` is given — the contract's one default
(``chiso.types.v1.Scope``). A scorecard without any record of its period says "Chưa có dữ liệu"
instead of a total; a ranking lists such units apart, unranked.

``explain`` and ``at-risk`` list records (dossier and petition codes, ratings): it needs ``CHISO_TOKEN``, a token of the
unit's source system, of one of its officials (``chiso-admin official add``) or of an operator. The
other commands need none. Exit status 0, or 2 when the service refuses the request (the reason is
printed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import grpc
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.scoring.whatif_cli import NO_DATA, parse_period, render
from services.shared.channels import retrying_channel
from services.shared.display import UNIT_KINDS, end_quietly_on_closed_pipe, period_label, shorten
from services.shared.display import unit_kind as _unit_kind


def unit_kind(text: str) -> int:
    try:
        return _unit_kind(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


LABELS = {tpb.CLASSIFICATION_EXCELLENT: "Xuất sắc", tpb.CLASSIFICATION_GOOD: "Tốt", tpb.CLASSIFICATION_FAIR: "Khá",
          tpb.CLASSIFICATION_AVERAGE: "Trung bình", tpb.CLASSIFICATION_WEAK: "Yếu"}


def render_ranking(r: tpb.Ranking, top: int) -> str:
    lines = [f"Xếp hạng ({r.rule_version}), {period_label(r.period.kind, r.period.year, r.period.number)}"]
    lines[0] += " — " + ("đơn vị cùng cấp dưới" if r.scope == tpb.SCOPE_SUBTREE else "riêng đơn vị")
    for e in list(r.entries)[:top]:
        label = LABELS.get(e.classification, "")
        lines.append(f"{e.rank:>4}  {e.unit.code:<10} {shorten(e.unit.name, 48):<48} {e.total.value:>6}  {label}")
    if not r.entries:
        lines.append("      (no units of this kind have a score for this period)")
    if len(r.entries) > top:
        lines.append(f"      … {len(r.entries) - top} more")
    if r.units_without_data:
        lines.append(f"{NO_DATA} ({len(r.units_without_data)}, không xếp hạng):")
        lines.extend(f"   –  {u.code:<10} {u.name[:48]}" for u in r.units_without_data)
    return "\n".join(lines)


def _vn(value: str) -> str:
    """A decimal as people read it: "80,24"."""
    return value.replace(".", ",")


def render_at_risk(r: pb.ListAtRiskDossiersResponse) -> str:
    from services.scoring.domain.periods import HANOI

    p = r.projection
    end = r.horizon_end.ToDatetime(tzinfo=HANOI)
    lines = [f"{r.total_size} hồ sơ sắp quá hạn (trong {r.working_days} ngày làm việc, hạn trước "
             f"{end:%d/%m/%Y}) — {r.rule_version}",
             f"Điểm tạm tính: {_vn(p.total_if_none_late.value)} ({LABELS.get(p.band_if_none_late, '')}); nếu tất cả "
             f"quá hạn: {_vn(p.total_if_all_late.value)} ({LABELS.get(p.band_if_all_late, '')})"]
    if r.empty_reason:
        lines.append(r.empty_reason)
    if p.finish_first_count:
        lines.append(f"Để giữ mức {p.band_to_keep_label}: giải quyết trước {p.finish_first_count} hồ sơ đầu danh sách "
                     f"(khi đó {_vn(p.total_if_finish_first.value)} điểm)")
    for x in r.dossiers:
        due = x.due_time.ToDatetime(tzinfo=HANOI)
        mark = "*" if x.finish_first else " "
        lines.append(f" {mark} {x.record_key:<32} {x.unit_code:<10} {x.procedure_code:<10} hạn {due:%d/%m/%Y %H:%M}"
                     f"  còn {x.working_days_left} ngày làm việc  −{_vn(x.points_at_stake.value)} điểm")
    if r.next_page_token:
        lines.append(f"   … {r.total_size - len(r.dossiers)} hồ sơ nữa")
    for label, totals in (("Theo đơn vị", r.unit_totals), ("Theo thủ tục", r.procedure_totals)):
        lines.append(label + ": " + "; ".join(f"{t.key} {t.dossiers} hồ sơ (−{_vn(t.points_at_stake.value)})"
                                              for t in totals))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="chiso-score", description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default=os.environ.get("CHISO_SCORING_TARGET", "127.0.0.1:50052"))
    p.add_argument("--rule-version", default="", help="default: the version in force for the period")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("scorecard")
    s.add_argument("unit")
    s.add_argument("period", type=parse_period)
    r = sub.add_parser("ranking")
    r.add_argument("kind", type=unit_kind, metavar="kind", help=", ".join(UNIT_KINDS.values()))
    r.add_argument("period", type=parse_period)
    r.add_argument("--parent", default="")
    r.add_argument("--top", type=int, default=34)
    e = sub.add_parser("explain")
    e.add_argument("unit")
    e.add_argument("period", type=parse_period)
    e.add_argument("indicator")
    e.add_argument("--limit", type=int, default=20)
    a = sub.add_parser("at-risk", help="unfinished dossiers that turn late within a few working days, and the "
                                         "running period's projection")
    a.add_argument("unit")
    a.add_argument("--days", type=int, default=0, help="horizon in working days (default 2)")
    a.add_argument("--period", type=parse_period, default=None, help="a running period (default: this month)")
    a.add_argument("--limit", type=int, default=20)
    for command in (s, r, e, a):
        command.add_argument("--subtree", action="store_true",
                             help="the unit with everything beneath it (default: the unit alone)")
    args = p.parse_args(argv)
    end_quietly_on_closed_pipe()
    token = os.environ.get("CHISO_TOKEN", "")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with retrying_channel(args.target) as channel:
        stub = scoring_pb2_grpc.ScoringServiceStub(channel)
        scope = tpb.SCOPE_SUBTREE if args.subtree else tpb.SCOPE_UNIT
        try:
            if args.command == "scorecard":
                card = stub.GetScorecard(pb.GetScorecardRequest(unit_code=args.unit, period=args.period, scope=scope,
                                                                rule_version=args.rule_version), timeout=30).scorecard
                print(f"{card.unit.name} ({card.unit.code})"
                      + (" cùng các đơn vị cấp dưới" if card.scope == tpb.SCOPE_SUBTREE else "")
                      + (" — tạm tính" if card.provisional else ""))
                print(render(card))
            elif args.command == "ranking":
                ranking = stub.GetRanking(pb.GetRankingRequest(period=args.period, unit_kind=args.kind,
                                                               parent_code=args.parent, scope=scope,
                                                               rule_version=args.rule_version), timeout=60).ranking
                print(render_ranking(ranking, args.top))
            elif args.command == "at-risk":
                request = pb.ListAtRiskDossiersRequest(
                    unit_code=args.unit, working_days=args.days, rule_version=args.rule_version,
                    scope=scope, page_size=args.limit)
                if args.period is not None:
                    request.period.CopyFrom(args.period)
                print(render_at_risk(stub.ListAtRiskDossiers(request, timeout=60, metadata=metadata)))
            else:
                out = stub.ExplainIndicator(pb.ExplainIndicatorRequest(
                    unit_code=args.unit, period=args.period, indicator_id=args.indicator, scope=scope,
                    rule_version=args.rule_version, page_size=args.limit), timeout=60, metadata=metadata)
                print(f"{args.indicator} ({out.rule_version}): {out.headline}")
                if out.items:
                    print(f"the first {len(out.items)} of {out.total_size}, each with the points it cost:")
                for item in out.items:
                    points = item.points.value.replace(".", ",")
                    print(f"  {item.record_kind:<11} {item.record_key:<40} {item.unit_code:<12} {points:>6}  "
                          f"{item.reason} [{item.reason_code}]")
        except grpc.RpcError as err:
            print(f"chiso-score: {err.code().name}: {err.details()}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
