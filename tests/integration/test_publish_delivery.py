"""Pushing to portals through real servers: ingest → scoring → publish → reference receivers.

Every push below is of August 2026 dossiers of one department. One department's change moves 12 live
scorecards — the department alone, the department with its subtree and its province's subtree, each
for August, Q3, 2026 and 2026 year-to-date — so a subscription that wants that department gets 12
deliveries per push, numbered on from the last.

A subscription made once publish holds live results (the catalogue alone gives every unit some, for the
running month) first gets the current state of its units: ``initial`` deliveries, numbered 1 to
``initial``, before those of the pushes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.portal.v1 import portal_pb2, portal_pb2_grpc
from chiso.publish.v1 import publish_pb2 as pb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.publish.receiver import KeyRing, build_receiver, report
from services.publish.signing import Signer
from services.shared.db import Database
from services.shared.grpc_errors import details_from_rpc_error
from services.shared.processes import free_port
from tests.helpers import (
    auth,
    ended_dossier,
    eventually,
    ingest_server,
    portal_receiver,
    publish_caught_up,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
)

ROOT = Path(__file__).resolve().parents[2]
AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)


class Stack:
    def __init__(self, ingest, db, tokens, scoring, url, key):
        self.ingest, self.db, self.tokens, self.scoring, self.url, self.key = ingest, db, tokens, scoring, url, key

    def push(self, request_id, records):
        r = self.ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=request_id, records=records),
                                     metadata=auth(self.tokens.national))
        assert r.result.accepted_count == len(records), r.result

    def caught_up(self, pub_handle=None) -> bool:
        """Scoring applied every notice and publish followed every scoring change."""
        return publish_caught_up(self.db, self.scoring.address)


@contextmanager
def stack(db_url, tmp_path):
    key = signing_key_file(tmp_path)
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url) as (_scoring, scoring_handle):
            yield Stack(ingest, db, tokens, scoring_handle, db_url, key)


def subscribe(pub, tokens, sid, port, units=(), feeds=()):
    sub = pb.Subscription(subscription_id=sid, display_name=sid, endpoint=f"127.0.0.1:{port}", unit_codes=units,
                          feeds=feeds)
    return pub.CreateSubscription(pb.CreateSubscriptionRequest(request_id=f"sub-{sid}", subscription=sub),
                                  metadata=auth(tokens.operator)).subscription


def deliveries(pub, tokens, sid, state=0):
    return list(pub.ListDeliveries(pb.ListDeliveriesRequest(subscription_id=sid, state=state, page_size=1000),
                                   metadata=auth(tokens.operator)).deliveries)


def counts(pub, tokens, sid):
    (sub,) = [s for s in pub.ListSubscriptions(pb.ListSubscriptionsRequest(), metadata=auth(tokens.operator))
              .subscriptions if s.subscription_id == sid]
    return sub.pending_count, sub.set_aside_count


def delivered_all(pub, tokens, sid, n):
    rows = deliveries(pub, tokens, sid)
    return len(rows) == n and all(d.state == pb.DELIVERY_STATE_DELIVERED for d in rows)


def units_in(receiver_db) -> set[str]:
    return {row["unit_code"] for row in report(receiver_db)["live"]}


def initial(pub, tokens, sid) -> int:
    """The deliveries a subscription got when it was made (the current state of its units)."""
    return len(deliveries(pub, tokens, sid))


def live_of(pub, units=()) -> list[tuple[str, str, str, int, str]]:
    """Publish's live results of ``units``' subtrees now, as the reference receiver reports them."""
    from services.publish.domain.documents import PeriodRef

    out, token = [], ""
    while True:
        page = pub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(unit_codes=units, page_token=token))
        for s in page.scorecards:
            sc = s.scorecard
            period = PeriodRef(sc.period.kind, sc.period.year, sc.period.number).key
            out.append((sc.unit.code, period, tpb.Scope.Name(sc.scope), s.version, sc.total.value))
        token = page.next_page_token
        if not token:
            return sorted(out)


def held(receiver_db) -> list[tuple[str, str, str, int, str]]:
    return sorted((r["unit_code"], r["period"], r["scope"], r["version"], r["total"])
                  for r in report(receiver_db)["live"])


def test_a_portal_down_for_a_while_gets_everything_in_order_once_back(db_url, tmp_path):
    with stack(db_url, tmp_path) as s, publish_server(db_url, s.scoring.address, key_file=s.key) as (pub, ph):
        eventually(s.caught_up, what="publish following the catalogue")
        port = free_port()
        subscribe(pub, s.tokens, "portal-phu-tho", port, units=["H25"])
        n = initial(pub, s.tokens, "portal-phu-tho")
        assert n > 0
        s.push("aug-1", [ended_dossier("a1", "H25.01", 5), ended_dossier("a2", "H25.01", 6),
                         ended_dossier("b1", "H01.01", 5)])
        # nobody listens yet: the first delivery is retried, the rest wait behind it
        first = eventually(lambda: [d for d in deliveries(pub, s.tokens, "portal-phu-tho") if d.attempts >= 3],
                           what="retries against the dead portal")
        assert first[0].sequence == 1 and first[0].last_error.startswith("UNAVAILABLE")
        assert all(d.attempts == 0 for d in deliveries(pub, s.tokens, "portal-phu-tho")[1:])
        db = tmp_path / "phu-tho.db"
        with portal_receiver(db, ph.address, port=port):
            eventually(lambda: delivered_all(pub, s.tokens, "portal-phu-tho", n + 12), what="12 deliveries")
            s.push("aug-2", [ended_dossier("a3", "H25.01", 20)])  # late: the same 12 scorecards move again
            eventually(lambda: delivered_all(pub, s.tokens, "portal-phu-tho", n + 24), what="24 deliveries")
        got = report(db)
        assert got["sequences"] == list(range(1, n + 25)) and got["subscriptions"] == ["portal-phu-tho"]
        assert units_in(db) == {"H25", "H25.01", "H25.02", "H25.X1"}  # nothing of Hà Nội
        # every live scorecard of Phú Thọ's subtree, each at its latest version
        assert held(db) == live_of(pub, ["H25"])
        assert len({(u, p) for u, p, *_ in held(db) if u == "H25.01" and p in ("2026-08", "2026-Q3")}) == 2
        live = pub.GetScorecard(pb.GetScorecardRequest(unit_code="H25", period=AUG, scope=tpb.SCOPE_SUBTREE))
        (h25,) = [r for r in got["live"] if (r["unit_code"], r["period"], r["scope"]) ==
                  ("H25", "2026-08", "SCOPE_SUBTREE")]
        assert (h25["version"], h25["total"]) == (live.scorecard.version, live.scorecard.scorecard.total.value)


def test_a_slow_portal_never_holds_back_the_others(sqlite_url, tmp_path):
    release = threading.Event()

    def slow(_request):
        release.wait(120)

    with stack(sqlite_url, tmp_path) as s, publish_server(sqlite_url, s.scoring.address, key_file=s.key) as (pub, ph):
        eventually(s.caught_up, what="publish following the catalogue")
        ports = {name: free_port() for name in ("fast-all", "fast-ha-noi", "slow-all")}
        subscribe(pub, s.tokens, "fast-all", ports["fast-all"])
        subscribe(pub, s.tokens, "fast-ha-noi", ports["fast-ha-noi"], units=["H01"])
        subscribe(pub, s.tokens, "slow-all", ports["slow-all"])
        n = {name: initial(pub, s.tokens, name) for name in ports}
        assert n["fast-all"] == n["slow-all"] > n["fast-ha-noi"] > 0
        dbs = {name: tmp_path / f"{name}.db" for name in ports}
        with portal_receiver(dbs["fast-all"], ph.address, port=ports["fast-all"]), \
                portal_receiver(dbs["fast-ha-noi"], ph.address, port=ports["fast-ha-noi"]), \
                portal_receiver(dbs["slow-all"], ph.address, port=ports["slow-all"], before_store=slow):
            s.push("aug", [ended_dossier("a1", "H25.01", 5), ended_dossier("a2", "H25.01", 6),
                           ended_dossier("b1", "H01.01", 5), ended_dossier("b2", "H01.01", 12)])
            eventually(lambda: delivered_all(pub, s.tokens, "fast-all", n["fast-all"] + 24), what="fast-all")
            eventually(lambda: delivered_all(pub, s.tokens, "fast-ha-noi", n["fast-ha-noi"] + 12),
                       what="fast-ha-noi")
            # the slow portal has stored nothing yet; its calls hit the deadline and are retried
            assert report(dbs["slow-all"])["deliveries"] == 0
            eventually(lambda: "DEADLINE_EXCEEDED" in deliveries(pub, s.tokens, "slow-all")[0].last_error,
                       what="a deadline on the slow portal")
            assert counts(pub, s.tokens, "slow-all")[0] == n["slow-all"] + 24
            release.set()
            eventually(lambda: delivered_all(pub, s.tokens, "slow-all", n["slow-all"] + 24),
                       what="the slow portal catching up")
        assert report(dbs["fast-all"])["sequences"] == list(range(1, n["fast-all"] + 25))
        assert report(dbs["fast-ha-noi"])["sequences"] == list(range(1, n["fast-ha-noi"] + 13))
        assert units_in(dbs["fast-ha-noi"]) == {"H01", "H01.01"}
        slow_report = report(dbs["slow-all"])
        assert slow_report["sequences"] == list(range(1, n["slow-all"] + 25))  # each once, in order, despite retries
        assert slow_report["live"] == report(dbs["fast-all"])["live"]


def test_a_tampered_payload_is_refused_and_bad_deliveries_are_set_aside_then_replayed(sqlite_url, tmp_path):
    with stack(sqlite_url, tmp_path) as s, \
            publish_server(sqlite_url, s.scoring.address, key_file=s.key, max_attempts=3) as (pub, ph):
        s.push("aug", [ended_dossier("a1", "H25.01", 5), ended_dossier("b1", "H01.01", 12)])
        eventually(s.caught_up, what="publish following the data")
        publication = pub.CreatePublication(pb.CreatePublicationRequest(
            request_id="aug", period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=tpb.SCOPE_SUBTREE),
            metadata=auth(s.tokens.operator)
        ).publication
        assert b'"H25"' in publication.payload
        with portal_receiver(tmp_path / "direct.db", ph.address) as receiver, \
                grpc.insecure_channel(receiver.address) as channel:
            portal = portal_pb2_grpc.PortalReceiverServiceStub(channel)

            def deliver(payload, delivery_id="d-1", key_id=publication.key_id):
                return portal.Deliver(portal_pb2.DeliverRequest(
                    delivery_id=delivery_id, subscription_id="direct", sequence=1, feed=tpb.FEED_OFFICIAL,
                    payload=payload, content_type="application/vnd.chiso.publication+json",
                    signature=publication.signature, key_id=key_id))

            for tampered in (publication.payload.replace(b'"H25"', b'"H26"', 1), publication.payload + b" "):
                with pytest.raises(grpc.RpcError) as err:
                    deliver(tampered)
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert details_from_rpc_error(err.value)[0].reason == "BAD_SIGNATURE"
            with pytest.raises(grpc.RpcError) as err:
                deliver(publication.payload, key_id="0000000000000000")
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert report(tmp_path / "direct.db")["deliveries"] == 0
            assert deliver(publication.payload).duplicate is False
            assert deliver(publication.payload).duplicate is True
            stored = report(tmp_path / "direct.db")
            assert stored["deliveries"] == 1
            assert stored["publications"] == [{"publication_id": publication.publication_id, "revision": 1}]

        # a portal verifying with the wrong key refuses everything: after 3 attempts each is set aside —
        # the publication it was subscribed after (its initial state: Hà Nội is in it), then the correction
        port = free_port()
        impostor = Signer.generate().public_raw
        wrong = build_receiver(tmp_path / "ha-noi.db", KeyRing({publication.key_id: impostor}), port=port)
        wrong.start()
        try:
            subscribe(pub, s.tokens, "portal-ha-noi", port, units=["H01"], feeds=[tpb.FEED_OFFICIAL])
            assert initial(pub, s.tokens, "portal-ha-noi") == 1
            pub.CorrectPublication(pb.CorrectPublicationRequest(
                request_id="fix", publication_id=publication.publication_id, reason="Kiểm tra lại"),
                metadata=auth(s.tokens.operator))
            eventually(lambda: counts(pub, s.tokens, "portal-ha-noi") == (0, 2), what="set aside")
        finally:
            wrong.stop(0)
        aside = deliveries(pub, s.tokens, "portal-ha-noi", pb.DELIVERY_STATE_SET_ASIDE)
        assert [(d.sequence, d.attempts) for d in aside] == [(1, 3), (2, 3)]
        assert {d.last_error for d in aside} == {"INVALID_ARGUMENT: signature: does not verify the payload"}
        assert report(tmp_path / "ha-noi.db")["deliveries"] == 0
        with portal_receiver(tmp_path / "ha-noi.db", ph.address, port=port):
            replayed = pub.ReplayDeliveries(pb.ReplayDeliveriesRequest(subscription_id="portal-ha-noi"),
                                            metadata=auth(s.tokens.operator))
            assert replayed.replayed_count == 2
            eventually(lambda: delivered_all(pub, s.tokens, "portal-ha-noi", 2), what="the replay")
        assert report(tmp_path / "ha-noi.db")["publications"] == [
            {"publication_id": publication.publication_id, "revision": 1},
            {"publication_id": publication.publication_id, "revision": 2}]


def test_two_replicas_on_postgresql_deliver_each_item_once(pg_url, tmp_path):
    calls: dict[str, int] = {}
    lock = threading.Lock()

    def count(request):
        with lock:
            calls[request.delivery_id] = calls.get(request.delivery_id, 0) + 1

    with stack(pg_url, tmp_path) as s, \
            publish_server(pg_url, s.scoring.address, key_file=s.key, replica_id="replica-a") as (a, a_handle), \
            publish_server(pg_url, s.scoring.address, key_file=s.key, replica_id="replica-b") as (b, _):
        eventually(s.caught_up, what="publish following the catalogue")
        port = free_port()
        subscribe(a, s.tokens, "national", port)
        n = initial(a, s.tokens, "national")
        db = tmp_path / "national.db"
        with portal_receiver(db, a_handle.address, port=port, before_store=count):
            s.push("aug-1", [ended_dossier("a1", "H25.01", 5), ended_dossier("a2", "H25.01", 6)])
            eventually(lambda: delivered_all(b, s.tokens, "national", n + 12), what="the first 12")
            a_handle.stop(5)  # one replica goes away; the other takes its leases over
            s.push("aug-2", [ended_dossier("b1", "H01.01", 5), ended_dossier("b2", "H01.01", 12)])
            eventually(lambda: delivered_all(b, s.tokens, "national", n + 24), what="the next 12")
            s.push("aug-3", [ended_dossier("c1", "H01.01", 20)])
            eventually(lambda: delivered_all(b, s.tokens, "national", n + 36), what="the last 12")
        got = report(db)
        assert got["sequences"] == list(range(1, n + 37))
        assert set(calls) == {d.delivery_id for d in deliveries(b, s.tokens, "national")}
        with Database(pg_url).read() as conn:
            owners = conn.exec_driver_sql("SELECT DISTINCT lease_owner FROM publish_subscriptions").scalars().all()
        assert owners == ["replica-b"]
        feed = b.ListChanges(pb.ListChangesRequest(page_size=1000)).changes
        assert len({c.cursor for c in feed}) == len(feed)
        versions = [int(c.scorecard.version) for c in feed if c.kind == pb.CHANGE_KIND_LIVE_SCORECARD]
        assert versions == sorted(set(versions))  # both replicas followed scoring; each change recorded once
        # no lost work: the last live version of every scorecard says what scoring says now
        latest = {}
        for c in feed:
            if c.kind == pb.CHANGE_KIND_LIVE_SCORECARD:
                card = c.scorecard.scorecard
                latest[(card.unit.code, card.period.SerializeToString(), card.scope)] = card
        with grpc.insecure_channel(s.scoring.address) as channel:
            keys = [spb.ScorecardKey(unit_code=card.unit.code, period=card.period, scope=card.scope)
                    for card in latest.values()]
            now = scoring_pb2_grpc.ScoringServiceStub(channel).BatchGetScorecards(
                spb.BatchGetScorecardsRequest(keys=keys), timeout=30).scorecards

        def content(card):
            return (card.total.value, [(i.id, i.numerator, i.denominator, i.points.value) for i in card.indicators])

        assert len(latest) > 10 and [content(c) for c in latest.values()] == [content(c) for c in now]


def run_cli(args, env):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen'}", **env}, check=False)


def test_operators_cli_and_the_portal_report(sqlite_url, tmp_path):
    with stack(sqlite_url, tmp_path) as s, publish_server(sqlite_url, s.scoring.address, key_file=s.key) as (pub, ph):
        env = {"CHISO_TOKEN": s.tokens.operator}
        cli = ["services.publish.admin_cli", "--target", ph.address]
        added = run_cli([*cli, "subscription", "add", "portal-phu-tho", "--endpoint", "127.0.0.1:1", "--unit", "H25",
                         "--feed", "live", "--name", "Cổng DVC Phú Thọ"], env)
        assert added.returncode == 0, added.stderr
        assert s.tokens.operator not in added.stdout + added.stderr
        listed = [json.loads(line) for line in run_cli([*cli, "subscription", "list"], env).stdout.splitlines()]
        assert [(x["subscription_id"], x["display_name"], x["unit_codes"], x["feeds"]) for x in listed] == [
            ("portal-phu-tho", "Cổng DVC Phú Thọ", ["H25"], ["FEED_LIVE"])]
        refused = run_cli([*cli, "subscription", "list"], {"CHISO_TOKEN": s.tokens.phu_tho})
        assert refused.returncode == 1 and "PERMISSION_DENIED [OPERATOR_REQUIRED]" in refused.stderr
        key = run_cli([*cli, "key"], {})
        assert key.returncode == 0 and "BEGIN PUBLIC KEY" in key.stdout
        (pem_key,) = pub.GetPublicKey(pb.GetPublicKeyRequest()).keys
        assert pem_key.pem in key.stdout
        none = run_cli(["services.publish.receiver", "report", "--db", str(tmp_path / "portal.db")], {})
        assert none.returncode == 2 and "no receiver file" in none.stderr  # and none made by asking
        assert not (tmp_path / "portal.db").exists()


def test_a_replica_killed_mid_delivery_is_taken_over_when_its_lease_expires(pg_url, tmp_path):
    from services.shared.processes import spawn, wait_healthy

    entered, release = threading.Event(), threading.Event()
    calls_of_13: list[str] = []
    n = [10**9]  # the subscription's initial deliveries, once it is made

    def hold_the_13th(request):  # the first delivery of the second push
        if request.sequence == n[0] + 13:
            calls_of_13.append(request.delivery_id)
            entered.set()
            release.wait(60)

    with stack(pg_url, tmp_path) as s:
        port_a = free_port()
        env = {f"CHISO_PUBLISH_{k}": str(v) for k, v in dict(
            DATABASE_URL=pg_url, PORT=port_a, METRICS_PORT=-1, SCORING_TARGET=s.scoring.address,
            SIGNING_KEY_FILE=s.key, REPLICA_ID="replica-a", AUTO_MIGRATE="false", POLL_SECONDS=0.05,
            DELIVERY_POLL_SECONDS=0.05, DELIVER_TIMEOUT_SECONDS=1, LEASE_SECONDS=3, BACKOFF_BASE_SECONDS=0.05,
            BACKOFF_MAX_SECONDS=0.4, MAX_ATTEMPTS=1000).items()}
        replica_a = spawn("services.publish.server", env)
        try:
            wait_healthy(f"127.0.0.1:{port_a}", replica_a)
            eventually(s.caught_up, what="replica A following the catalogue")
            port = free_port()
            db = tmp_path / "national.db"
            with grpc.insecure_channel(f"127.0.0.1:{port_a}") as channel, \
                    portal_receiver(db, f"127.0.0.1:{port_a}", port=port, before_store=hold_the_13th):
                from chiso.publish.v1 import publish_pb2_grpc

                a = publish_pb2_grpc.PublishServiceStub(channel)
                subscribe(a, s.tokens, "national", port)
                n[0] = initial(a, s.tokens, "national")
                s.push("aug-1", [ended_dossier("a1", "H25.01", 5)])
                eventually(lambda: delivered_all(a, s.tokens, "national", n[0] + 12), what="the first 12 through A")
                s.push("aug-2", [ended_dossier("b1", "H01.01", 12)])
                eventually(lambda: len(deliveries(a, s.tokens, "national")) == n[0] + 24, what="A's outbox rows")
                assert entered.wait(60)  # A is in the middle of delivering the 13th
                replica_a.kill()  # SIGKILL: no lease released, no goodbye
                replica_a.wait(30)
                with publish_server(pg_url, s.scoring.address, key_file=s.key, replica_id="replica-b") as (b, _):
                    release.set()  # A's abandoned call now completes at the portal
                    eventually(lambda: delivered_all(b, s.tokens, "national", n[0] + 24), what="B taking over")
                    s.push("aug-3", [ended_dossier("c1", "H01.01", 20)])
                    eventually(lambda: delivered_all(b, s.tokens, "national", n[0] + 36), what="B going on")
            assert len(calls_of_13) >= 2 and len(set(calls_of_13)) == 1  # sent by A, then again by B
            assert report(db)["sequences"] == list(range(1, n[0] + 37))  # yet stored once
        finally:
            if replica_a.poll() is None:
                replica_a.kill()
