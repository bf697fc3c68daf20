"""chiso-publish-admin — operators' command line for publish: subscriptions, deliveries,
publications, exports and the public key, over gRPC with an operator token.

    export CHISO_TOKEN=…   # an operator token (chiso-admin operator add …)
    chiso-publish-admin subscription add portal-phu-tho --endpoint portal.phutho.gov.vn:443 --tls \\
        --name "Cổng DVC Phú Thọ" --unit H25 --feed live --feed official
    chiso-publish-admin subscription list
    chiso-publish-admin deliveries list portal-phu-tho --state set-aside
    chiso-publish-admin deliveries replay portal-phu-tho            # every delivery set aside (and retry now)
    chiso-publish-admin publication create --period 2026-Q3 --kind province --scope subtree
    chiso-publish-admin publication list --period 2026-Q3                 # every publication (latest revisions)
    chiso-publish-admin publication correct 2026-q3-province-3fa1c2 --reason "Bổ sung dữ liệu …"
    chiso-publish-admin export --publication 2026-q3-province-3fa1c2 --format xlsx --out q3.xlsx
    chiso-publish-admin export --period 2026-08 --kind province --format csv     # the live ranking
    chiso-publish-admin export --period 2026-08 --unit H25 --scope subtree --format xlsx   # one scorecard
    chiso-publish-admin key                                         # the public key, PEM
    chiso-publish-admin set-aside list                              # live scorecards the follower set aside
    chiso-publish-admin set-aside replay H25.01/2026-08/unit        # read again now (default: all)
    chiso-publish-admin subscription update portal-phu-tho --endpoint … --unit H25 --feed live --feed alert \
        --alert-setting at_risk_backlog.max_dossiers=50 --alert-setting quiet_hours=22:00-06:00
    chiso-publish-admin recipients add H25 vanphong@phutho.gov.vn     # e-mail alerts about Phú Thọ
    chiso-publish-admin recipients list --unit H25
    chiso-publish-admin alerts list --unit H25 --state open

Output is JSON (one object per line for lists; a list with nothing in it says so on standard
error, its standard output stays empty), except ``publication list``, a table a person reads
(``--json`` for JSON lines), with times as Hanoi's dd/mm/yyyy HH:MM. Errors go to standard error
with their status and reason, exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import grpc
from chiso.publish.v1 import publish_pb2 as pb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf import json_format

from services.publish.domain.documents import PeriodError, PeriodRef
from services.shared.channels import retrying_channel
from services.shared.display import (
    UNIT_KIND_NUMBERS,
    UNIT_KINDS,
    end_quietly_on_closed_pipe,
    hanoi_time,
    iso_time,
    period_key,
    period_label,
    shorten,
    table,
)
from services.shared.grpc_errors import details_from_rpc_error

_KINDS = UNIT_KIND_NUMBERS
_FEEDS = {"live": tpb.FEED_LIVE, "official": tpb.FEED_OFFICIAL, "alert": tpb.FEED_ALERT}
_ALERT_STATES = {"open": pb.ALERT_STATE_OPEN, "resolved": pb.ALERT_STATE_RESOLVED}
_STATES = {"pending": pb.DELIVERY_STATE_PENDING, "delivered": pb.DELIVERY_STATE_DELIVERED,
           "set-aside": pb.DELIVERY_STATE_SET_ASIDE}
_SCOPES = {"unit": tpb.SCOPE_UNIT, "subtree": tpb.SCOPE_SUBTREE}


def _period(text: str) -> tpb.Period:
    try:
        p = PeriodRef.from_key(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return tpb.Period(kind=p.kind, year=p.year, number=p.number)


def _scorecard_key(text: str) -> pb.ScorecardKey:
    unit, _, rest = text.rpartition("/")
    unit, _, period = unit.rpartition("/") if unit.count("/") else ("", "", unit)
    if not unit or rest not in _SCOPES:
        raise argparse.ArgumentTypeError(f"expected UNIT/PERIOD/SCOPE (scope unit or subtree), got {text!r}")
    return pb.ScorecardKey(unit_code=unit, period=_period(period), scope=_SCOPES[rest])


def _print(message, *, defaults: bool = False) -> None:
    print(json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True,
                                               always_print_fields_with_no_presence=defaults), ensure_ascii=False))


def _none(what: str) -> None:
    """An empty list says so (on standard error: standard output stays JSON lines, here none)."""
    print(f"({what})", file=sys.stderr)


def _us(ts) -> int | None:
    return ts.seconds * 1_000_000 + ts.nanos // 1000 if ts.seconds or ts.nanos else None


def _subscription(args) -> pb.Subscription:
    ca = Path(args.ca_file).read_bytes() if args.ca_file else b""
    return pb.Subscription(subscription_id=args.id, display_name=args.name or "", endpoint=args.endpoint,
                           unit_codes=args.unit or [], feeds=[_FEEDS[f] for f in args.feed or []],
                           tls=pb.TlsSettings(enabled=args.tls or bool(ca), ca_certificate=ca,
                                              server_name=args.server_name or ""),
                           alert_settings=dict(item.split("=", 1) for item in args.alert_setting or []))


def run(args, stub: publish_pb2_grpc.PublishServiceStub, metadata) -> None:
    call = {"metadata": metadata, "timeout": args.timeout}
    if args.command == "subscription":
        if args.action == "add":
            r = stub.CreateSubscription(pb.CreateSubscriptionRequest(
                request_id=args.request_id or uuid.uuid4().hex, subscription=_subscription(args)), **call)
            _print(r.subscription)
        elif args.action == "update":
            _print(stub.UpdateSubscription(pb.UpdateSubscriptionRequest(subscription=_subscription(args)),
                                           **call).subscription)
        elif args.action == "delete":
            stub.DeleteSubscription(pb.DeleteSubscriptionRequest(subscription_id=args.id), **call)
        else:
            token, n = "", 0
            while True:
                r = stub.ListSubscriptions(pb.ListSubscriptionsRequest(page_size=500, page_token=token), **call)
                for s in r.subscriptions:
                    _print(s)
                n += len(r.subscriptions)
                token = r.next_page_token
                if not token:
                    break
            if not n:
                _none("no subscriptions")
    elif args.command == "deliveries":
        if args.action == "replay":
            r = stub.ReplayDeliveries(pb.ReplayDeliveriesRequest(subscription_id=args.id,
                                                                 delivery_ids=args.delivery_ids), **call)
            _print(r, defaults=True)
            if not r.replayed_count:
                _none(f"nothing to replay: {args.id} has no delivery set aside or waiting"
                      if not args.delivery_ids else "none of these deliveries could be replayed")
        else:
            token, n = "", 0
            while True:
                r = stub.ListDeliveries(pb.ListDeliveriesRequest(
                    subscription_id=args.id, state=_STATES.get(args.state, 0), page_size=1000, page_token=token),
                    **call)
                for d in r.deliveries:
                    _print(d)
                n += len(r.deliveries)
                token = r.next_page_token
                if not token:
                    break
            if not n:
                _none(f"no {args.state + ' ' if args.state else ''}deliveries for {args.id}")
    elif args.command == "recipients":
        if args.action == "add":
            _print(stub.AddAlertRecipient(pb.AddAlertRecipientRequest(unit_code=args.unit, address=args.address),
                                          **call).recipient)
        elif args.action == "remove":
            _print(stub.RemoveAlertRecipient(pb.RemoveAlertRecipientRequest(unit_code=args.unit,
                                                                            address=args.address), **call))
        else:
            token = ""
            while True:
                r = stub.ListAlertRecipients(pb.ListAlertRecipientsRequest(unit_code=args.unit or "", page_size=1000,
                                                                           page_token=token), **call)
                for item in r.recipients:
                    _print(item)
                token = r.next_page_token
                if not token:
                    break
    elif args.command == "alerts":
        token = ""
        while True:
            r = stub.ListAlerts(pb.ListAlertsRequest(unit_code=args.unit or "", state=_ALERT_STATES.get(args.state, 0),
                                                     page_size=1000, page_token=token), **call)
            for item in r.alerts:
                _print(item)
            token = r.next_page_token
            if not token:
                break
    elif args.command == "set-aside":
        if args.action == "replay":
            r = stub.ReplaySetAsideScorecards(pb.ReplaySetAsideScorecardsRequest(keys=args.keys), **call)
            _print(r, defaults=True)
            if not r.tried_count:
                _none("nothing to replay: no scorecard is set aside")
        else:
            token, n = "", 0
            while True:
                r = stub.ListSetAsideScorecards(pb.ListSetAsideScorecardsRequest(page_size=1000, page_token=token),
                                                **call)
                for item in r.scorecards:
                    _print(item)
                n += len(r.scorecards)
                token = r.next_page_token
                if not token:
                    break
            if not n:
                _none("no scorecards set aside")
    elif args.command == "publication":
        if args.action == "create":
            r = stub.CreatePublication(pb.CreatePublicationRequest(
                request_id=args.request_id or uuid.uuid4().hex, period=args.period, unit_kind=_KINDS[args.kind],
                parent_code=args.parent or "", rule_version=args.rule_version or "", scope=_SCOPES[args.scope],
                title=args.title or ""), **call)
            _brief(r.publication)
        elif args.action == "correct":
            r = stub.CorrectPublication(pb.CorrectPublicationRequest(
                request_id=args.request_id or uuid.uuid4().hex, publication_id=args.id, reason=args.reason), **call)
            _brief(r.publication)
        elif args.action == "list":
            _publications(args, stub, call)
        else:
            _brief(stub.GetPublication(pb.GetPublicationRequest(publication_id=args.id, revision=args.revision),
                                       **call).publication)
    elif args.command == "export":
        fmt = {"csv": pb.EXPORT_FORMAT_CSV, "json": pb.EXPORT_FORMAT_JSON, "xlsx": pb.EXPORT_FORMAT_XLSX}[args.format]
        request = pb.ExportResultsRequest(format=fmt)
        if args.publication:
            request.publication_id, request.revision = args.publication, args.revision
        elif args.unit:
            request.scorecard.CopyFrom(pb.GetScorecardRequest(unit_code=args.unit, period=args.period,
                                                              scope=_SCOPES[args.scope], feed=_FEEDS[args.feed]))
        else:
            request.ranking.CopyFrom(pb.GetRankingRequest(period=args.period, unit_kind=_KINDS[args.kind],
                                                          parent_code=args.parent or "",
                                                          feed=_FEEDS[args.feed]))
        r = stub.ExportResults(request, **call)
        out = Path(args.out or r.filename)
        out.write_bytes(r.content)
        print(json.dumps({"file": str(out), "content_type": r.content_type, "bytes": len(r.content)}))
    elif args.command == "key":
        for k in stub.GetPublicKey(pb.GetPublicKeyRequest(), **call).keys:
            print(f"# key id {k.key_id} ({k.algorithm})")
            print(k.pem, end="")


def _publications(args, stub, call) -> None:
    """``publication list``: the latest revision of each publication, a table or JSON lines."""
    request = pb.ListPublicationsRequest(page_size=100)
    if args.period is not None:
        request.period.CopyFrom(args.period)
    rows, found = [], 0
    while True:
        r = stub.ListPublications(request, **call)
        for p in r.publications:
            found += 1
            when = _us(p.publish_time)
            if args.json:
                print(json.dumps({"publication_id": p.publication_id, "revision": p.revision,
                                  "period": period_key(p.period.kind, p.period.year, p.period.number),
                                  "unit_kind": UNIT_KINDS.get(p.unit_kind, ""), "parent_code": p.parent_code,
                                  "rule_version": p.rule_version, "title": p.title, "publish_time": iso_time(when),
                                  "reason": p.reason, "key_id": p.key_id}, ensure_ascii=False))
                continue
            rows.append([p.publication_id, str(p.revision), period_label(p.period.kind, p.period.year, p.period.number),
                         UNIT_KINDS.get(p.unit_kind, "") + (f" ({p.parent_code})" if p.parent_code else ""),
                         hanoi_time(when), shorten(p.title, 50)])
        if not r.next_page_token:
            break
        request.page_token = r.next_page_token
    if args.json:
        if not found:
            _none("no publications")
        return
    header = ["publication", "revision", "kỳ", "đơn vị", "công bố lúc", "tiêu đề"]
    print(table(rows, header, empty="no publications" + (" for this period" if args.period is not None else "")))


def _brief(p: pb.Publication) -> None:
    print(json.dumps({"name": p.name, "publication_id": p.publication_id, "revision": p.revision, "title": p.title,
                      "rule_version": p.rule_version, "units": len(p.scorecards), "key_id": p.key_id,
                      "reason": p.reason}, ensure_ascii=False))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chiso-publish-admin", description="Operate chiso's publish service.")
    parser.add_argument("--target", default=os.environ.get("CHISO_PUBLISH_TARGET", "127.0.0.1:50053"))
    parser.add_argument("--timeout", type=float, default=120.0, help="deadline of each call, seconds")
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("subscription", help="portal subscriptions").add_subparsers(dest="action", required=True)
    for name in ("add", "update"):
        a = s.add_parser(name, help=f"{name} a subscription (update replaces every setting)")
        a.add_argument("id", help="portal id, e.g. portal-phu-tho")
        a.add_argument("--endpoint", required=True, help="host:port of the portal's receiver")
        a.add_argument("--name", help="display name")
        a.add_argument("--unit", action="append", help="root of a unit subtree (repeat); none: every unit")
        a.add_argument("--feed", action="append", choices=sorted(_FEEDS),
                       help="live, official, alert (repeat); none: live and official")
        a.add_argument("--alert-setting", action="append", metavar="RULE.SETTING=VALUE",
                       help="override a shipped alert rule's setting (repeat), e.g. sync_gap.percent=5")
        a.add_argument("--tls", action="store_true", help="connect with TLS")
        a.add_argument("--ca-file", help="PEM CA bundle to trust (implies --tls)")
        a.add_argument("--server-name", help="TLS server name override")
        if name == "add":
            a.add_argument("--request-id", help="idempotency key (default: random)")
    s.add_parser("delete", help="delete a subscription and its deliveries").add_argument("id")
    s.add_parser("list", help="list subscriptions")

    d = sub.add_parser("deliveries", help="deliveries of a subscription").add_subparsers(dest="action", required=True)
    a = d.add_parser("list", help="list deliveries by sequence")
    a.add_argument("id")
    a.add_argument("--state", choices=sorted(_STATES))
    a = d.add_parser("replay", help="put set-aside deliveries back in line; pending ones waiting out a backoff go now")
    a.add_argument("id")
    a.add_argument("delivery_ids", nargs="*", help="only these (default: every one set aside)")

    a = sub.add_parser("set-aside", help="live scorecards the follower set aside").add_subparsers(
        dest="action", required=True)
    a.add_parser("list", help="list them (unit, period, scope, attempts, last error)")
    r = a.add_parser("replay", help="read them from scoring again now")
    r.add_argument("keys", nargs="*", type=_scorecard_key,
                   help="UNIT/PERIOD/SCOPE, e.g. H25.01/2026-08/unit (default: every one)")

    p = sub.add_parser("publication", help="official publications").add_subparsers(dest="action", required=True)
    a = p.add_parser("create", help="freeze a period for a set of units, signed")
    a.add_argument("--period", type=_period, required=True, help="2026-08, 2026-Q3, 2026")
    a.add_argument("--kind", choices=sorted(_KINDS), required=True)
    a.add_argument("--parent", help="only units beneath this one")
    a.add_argument("--rule-version", help="default: the version in force for the period")
    a.add_argument("--scope", choices=sorted(_SCOPES), required=True,
                   help="unit: each unit alone; subtree: with everything beneath it (a province as people know "
                        "it). Required: official results take no default")
    a.add_argument("--title")
    a.add_argument("--request-id")
    a = p.add_parser("correct", help="issue a corrected revision")
    a.add_argument("id")
    a.add_argument("--reason", required=True)
    a.add_argument("--request-id")
    a = p.add_parser("list", help="publications (their latest revisions), newest first")
    a.add_argument("--period", type=_period, help="only this period: 2026-08, 2026-Q3, 2026")
    a.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    a = p.add_parser("get", help="a revision (latest by default)")
    a.add_argument("id")
    a.add_argument("--revision", type=int, default=0)

    e = sub.add_parser("export", help="a publication, a ranking or a unit's scorecard as XLSX, CSV or JSON")
    e.add_argument("--publication")
    e.add_argument("--revision", type=int, default=0)
    e.add_argument("--period", type=_period)
    e.add_argument("--kind", choices=sorted(_KINDS), default="province")
    e.add_argument("--parent")
    e.add_argument("--feed", choices=sorted(_FEEDS), default="live")
    e.add_argument("--unit", help="export this unit's scorecard for --period (with --scope) instead of a ranking")
    e.add_argument("--scope", choices=sorted(_SCOPES), default="unit")
    e.add_argument("--format", choices=("csv", "json", "xlsx"), default="csv")
    e.add_argument("--out", help="file to write (default: the suggested name)")

    sub.add_parser("key", help="print the public verification keys (PEM)")

    r = sub.add_parser("recipients", help="e-mail addresses that receive a unit's alerts").add_subparsers(
        dest="action", required=True)
    for name in ("add", "remove"):
        a = r.add_parser(name, help=f"{name} an address")
        a.add_argument("unit", help="unit code, e.g. H25")
        a.add_argument("address", help="e-mail address")
    r.add_parser("list", help="list recipients").add_argument("--unit", help="only this unit")
    a = sub.add_parser("alerts", help="early-warning alerts raised").add_subparsers(dest="action", required=True)
    a = a.add_parser("list", help="newest first")
    a.add_argument("--unit", help="only this unit")
    a.add_argument("--state", choices=sorted(_ALERT_STATES))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    end_quietly_on_closed_pipe()
    if args.command == "export" and not args.publication and args.period is None:
        print("chiso-publish-admin: export needs --publication or --period", file=sys.stderr)
        return 2
    token = os.environ.get("CHISO_TOKEN", "")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with retrying_channel(args.target) as channel:
        try:
            run(args, publish_pb2_grpc.PublishServiceStub(channel), metadata)
        except grpc.RpcError as exc:
            info, bad = details_from_rpc_error(exc)
            reason = f" [{info.reason}]" if info is not None else ""
            print(f"chiso-publish-admin: {exc.code().name}{reason}: {exc.details()}", file=sys.stderr)
            for v in bad.field_violations if bad is not None else ():
                print(f"  {v.field}: {v.description}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
