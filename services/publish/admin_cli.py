"""chiso-publish-admin — operators' command line for publish: subscriptions, deliveries,
publications, exports and the public key, over gRPC with an operator token.

    export CHISO_TOKEN=…   # an operator token (chiso-admin operator add …)
    chiso-publish-admin subscription add portal-phu-tho --endpoint portal.phutho.gov.vn:443 --tls \\
        --name "Cổng DVC Phú Thọ" --unit H25 --feed live --feed official
    chiso-publish-admin subscription list
    chiso-publish-admin deliveries list portal-phu-tho --state set-aside
    chiso-publish-admin deliveries replay portal-phu-tho            # every delivery set aside (and retry now)
    chiso-publish-admin publication create --period 2026-Q3 --kind province --scope subtree
    chiso-publish-admin publication correct 2026-q3-province-3fa1c2 --reason "Bổ sung dữ liệu …"
    chiso-publish-admin export --publication 2026-q3-province-3fa1c2 --format csv --out q3.csv
    chiso-publish-admin key                                         # the public key, PEM
    chiso-publish-admin set-aside list                              # live scorecards the follower set aside
    chiso-publish-admin set-aside replay H25.01/2026-08/unit        # read again now (default: all)

Output is JSON (one object per line for lists); errors go to standard error with their status and
reason, exit status 1.
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

from services.publish.domain.documents import UNIT_KINDS, PeriodError, PeriodRef
from services.shared.grpc_errors import details_from_rpc_error

_KINDS = {name.removeprefix("UNIT_KIND_").lower().replace("_", "-"): n for n, name in UNIT_KINDS.items()}
_FEEDS = {"live": tpb.FEED_LIVE, "official": tpb.FEED_OFFICIAL}
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


def _print(message) -> None:
    print(json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True), ensure_ascii=False))


def _subscription(args) -> pb.Subscription:
    ca = Path(args.ca_file).read_bytes() if args.ca_file else b""
    return pb.Subscription(subscription_id=args.id, display_name=args.name or "", endpoint=args.endpoint,
                           unit_codes=args.unit or [], feeds=[_FEEDS[f] for f in args.feed or []],
                           tls=pb.TlsSettings(enabled=args.tls or bool(ca), ca_certificate=ca,
                                              server_name=args.server_name or ""))


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
            token = ""
            while True:
                r = stub.ListSubscriptions(pb.ListSubscriptionsRequest(page_size=500, page_token=token), **call)
                for s in r.subscriptions:
                    _print(s)
                token = r.next_page_token
                if not token:
                    break
    elif args.command == "deliveries":
        if args.action == "replay":
            r = stub.ReplayDeliveries(pb.ReplayDeliveriesRequest(subscription_id=args.id,
                                                                 delivery_ids=args.delivery_ids), **call)
            _print(r)
        else:
            token = ""
            while True:
                r = stub.ListDeliveries(pb.ListDeliveriesRequest(
                    subscription_id=args.id, state=_STATES.get(args.state, 0), page_size=1000, page_token=token),
                    **call)
                for d in r.deliveries:
                    _print(d)
                token = r.next_page_token
                if not token:
                    break
    elif args.command == "set-aside":
        if args.action == "replay":
            _print(stub.ReplaySetAsideScorecards(pb.ReplaySetAsideScorecardsRequest(keys=args.keys), **call))
        else:
            token = ""
            while True:
                r = stub.ListSetAsideScorecards(pb.ListSetAsideScorecardsRequest(page_size=1000, page_token=token),
                                                **call)
                for item in r.scorecards:
                    _print(item)
                token = r.next_page_token
                if not token:
                    break
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
        else:
            _brief(stub.GetPublication(pb.GetPublicationRequest(publication_id=args.id, revision=args.revision),
                                       **call).publication)
    elif args.command == "export":
        fmt = pb.EXPORT_FORMAT_CSV if args.format == "csv" else pb.EXPORT_FORMAT_JSON
        request = pb.ExportResultsRequest(format=fmt)
        if args.publication:
            request.publication_id, request.revision = args.publication, args.revision
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
        a.add_argument("--feed", action="append", choices=sorted(_FEEDS), help="live, official (repeat); none: both")
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
    a = p.add_parser("get", help="a revision (latest by default)")
    a.add_argument("id")
    a.add_argument("--revision", type=int, default=0)

    e = sub.add_parser("export", help="a publication or ranking as CSV or JSON")
    e.add_argument("--publication")
    e.add_argument("--revision", type=int, default=0)
    e.add_argument("--period", type=_period)
    e.add_argument("--kind", choices=sorted(_KINDS), default="province")
    e.add_argument("--parent")
    e.add_argument("--feed", choices=sorted(_FEEDS), default="live")
    e.add_argument("--format", choices=("csv", "json"), default="csv")
    e.add_argument("--out", help="file to write (default: the suggested name)")

    sub.add_parser("key", help="print the public verification keys (PEM)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "export" and not args.publication and args.period is None:
        print("chiso-publish-admin: export needs --publication or --period", file=sys.stderr)
        return 2
    token = os.environ.get("CHISO_TOKEN", "")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(args.target) as channel:
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
