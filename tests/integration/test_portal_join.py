"""A portal joins without replaying history — through real ingest, scoring and publish servers on
loopback, on SQLite and PostgreSQL.

* ``ListLiveSnapshot`` gives the live results as they stood at one feed position (its
  ``consistent_cursor``), on every page, whatever is recorded while the pages are read; the snapshot
  plus the feed after its cursor ends exactly where a replay of the whole feed ends (the reference
  portal's ``follow --from-snapshot`` against ``--from-start``).
* ``start_at_end`` (ListChanges, StreamChanges) gives only what is recorded after the call.
* ``ListScorecards`` filters by scope.
* A new subscription receives the current state of its subtree once, then the changes.

The data: the catalogue of ``seed_units`` (Phú Thọ H25 with H25.01, H25.02, H25.X1; Hà Nội H01 with
H01.01) and dossiers of August 2026 received 3 Aug 08:00, due 5 days later. A push for one
department moves 12 live scorecards (the department alone and with its subtree, its province's
subtree; August, Q3, 2026 and 2026 year-to-date).
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
from chiso.publish.v1 import publish_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb

from services.publish.domain.documents import PeriodRef
from services.publish.receiver import END, SNAPSHOT, START, Follower, KeyRing, ReceiverStore, fetch_from_publish
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
UNIT, SUBTREE = tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE


class World:
    def __init__(self, ingest, db, tokens, scoring, pub, pub_handle):
        self.ingest, self.db, self.tokens, self.scoring = ingest, db, tokens, scoring
        self.pub, self.pub_handle = pub, pub_handle

    def push(self, request_id, records):
        r = self.ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=request_id, records=records),
                                     metadata=auth(self.tokens.national))
        assert r.result.accepted_count == len(records), r.result

    def settle(self):
        """Until scoring applied every notice and publish followed every scoring change."""
        eventually(lambda: publish_caught_up(self.db, self.scoring.address), what="publish caught up with scoring")


@contextmanager
def world_on(db_url, tmp_path):
    key = signing_key_file(tmp_path)
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url) as (_scoring, scoring_handle), \
                publish_server(db_url, scoring_handle.address, key_file=key) as (pub, handle):
            w = World(ingest, db, tokens, scoring_handle, pub, handle)
            w.settle()
            yield w


@pytest.fixture
def world(db_url, tmp_path):
    with world_on(db_url, tmp_path) as w:
        yield w


def state_of(published) -> dict:
    """(unit, period, scope) → (version, total) of PublishedScorecards."""
    out = {}
    for s in published:
        sc = s.scorecard
        key = (sc.unit.code, PeriodRef(sc.period.kind, sc.period.year, sc.period.number).key, tpb.Scope.Name(sc.scope))
        out[key] = (s.version, sc.total.value)
    return out


def whole_feed(pub, cursor=""):
    out = []
    while True:
        page = pub.ListChanges(pb.ListChangesRequest(cursor=cursor, page_size=50))
        if not page.changes:
            return out
        out.extend(page.changes)
        cursor = page.next_cursor


def replayed(changes) -> dict:
    """The live state a reader gets by applying ``changes`` in order."""
    return state_of(c.scorecard for c in changes if c.kind == pb.CHANGE_KIND_LIVE_SCORECARD)


def snapshot(pub, token="", **kw):
    """(every scorecard of the snapshot, its consistent cursor, the page sizes)."""
    cards, cursor, sizes = [], None, []
    while True:
        page = pub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(page_token=token, **kw))
        assert cursor in (None, page.consistent_cursor)  # the same position on every page
        cursor = page.consistent_cursor
        cards.extend(page.scorecards)
        sizes.append(len(page.scorecards))
        token = page.next_page_token
        if not token:
            return cards, cursor, sizes


def held(path) -> dict:
    store = ReceiverStore(path)
    try:
        return {(r["unit_code"], r["period"], r["scope"]): (r["version"], r["total"]) for r in store.report()["live"]}
    finally:
        store.close()


def follow(pub, address, path, start) -> int:
    store = ReceiverStore(path)
    try:
        follower = Follower(pub, store, KeyRing(fetch=fetch_from_publish(address)), page_size=7)
        return follower.run(start, until_caught_up=True)
    finally:
        store.close()


def test_a_snapshot_holds_one_feed_position_and_with_the_feed_after_it_equals_a_full_replay(world, tmp_path):
    pub = world.pub
    world.push("aug-1", [ended_dossier("a1", "H25.01", 5), ended_dossier("b1", "H01.01", 12)])
    world.settle()
    world.push("aug-2", [ended_dossier("a2", "H25.01", 12)])  # H25.01's August scorecards get a second version
    world.settle()
    at_start = state_of(pub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(page_size=1000)).scorecards)

    # the first page fixes the position; then more is recorded before the other pages are read
    first = pub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(page_size=5))
    assert len(first.scorecards) == 5 and first.next_page_token
    # changed and new scorecards
    world.push("aug-3", [ended_dossier("a3", "H25.01", 20), ended_dossier("c1", "H25.02", 6)])
    world.settle()
    rest, cursor, sizes = snapshot(pub, first.next_page_token, page_size=5)
    assert cursor == first.consistent_cursor and set(sizes[:-1]) == {5}
    pinned = state_of([*first.scorecards, *rest])
    assert pinned == at_start  # nothing recorded after the first page shows in any page

    # exactly the feed replayed up to the snapshot's cursor
    feed = whole_feed(pub)
    upto = len(feed) - len(whole_feed(pub, cursor))  # the entries up to the cursor (a position, opaque)
    assert replayed(feed[:upto]) == pinned
    assert any(c.scorecard.scorecard.unit.code == "H25.02" for c in feed[upto:])  # made after: only in the feed

    # the snapshot with the feed after its cursor ≡ the whole feed replayed ≡ publish's live results now
    joined = {**pinned, **replayed(whole_feed(pub, cursor))}
    now, _, _ = snapshot(pub)
    assert joined == replayed(feed) == state_of(now)
    assert ("H25.02", "2026-08", "SCOPE_UNIT") in joined and ("H25.02", "2026-08", "SCOPE_UNIT") not in pinned

    # the same through the reference portal pulling: from a snapshot, and replaying from the start
    address = world.pub_handle.address
    follow(pub, address, tmp_path / "from-snapshot.db", SNAPSHOT)
    follow(pub, address, tmp_path / "from-start.db", START)
    assert held(tmp_path / "from-snapshot.db") == held(tmp_path / "from-start.db") == state_of(now)
    world.push("aug-4", [ended_dossier("b2", "H01.01", 5)])  # a restarted follower resumes from its stored cursor
    world.settle()
    assert follow(pub, address, tmp_path / "from-snapshot.db", SNAPSHOT) > 0
    latest, _, _ = snapshot(pub)
    assert held(tmp_path / "from-snapshot.db") == state_of(latest)

    # filters: one period, one subtree, one scope — and a token is refused with other filters
    subtree, _, _ = snapshot(pub, unit_codes=["H25"], scope=SUBTREE, period=AUG, page_size=2)
    assert sorted(state_of(subtree)) == [(u, "2026-08", "SCOPE_SUBTREE") for u in ("H25", "H25.01", "H25.02")]
    assert state_of(subtree) == {k: v for k, v in state_of(latest).items() if k in state_of(subtree)}
    page = pub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(page_size=2, unit_codes=["H25"]))
    with pytest.raises(grpc.RpcError) as err:
        pub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(page_size=2, unit_codes=["H01"],
                                                        page_token=page.next_page_token))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_from_rpc_error(err.value)[0].reason == "BAD_PAGE_TOKEN"


def test_start_at_end_gives_only_what_is_recorded_after(world, tmp_path):
    pub = world.pub
    world.push("aug-1", [ended_dossier("a1", "H25.01", 5)])
    world.settle()
    before = {c.cursor for c in whole_feed(pub)}
    assert before
    end = pub.ListChanges(pb.ListChangesRequest(start_at_end=True, page_size=10))
    assert not end.changes and end.next_cursor
    assert not pub.ListChanges(pb.ListChangesRequest(cursor=end.next_cursor)).changes
    follow(pub, world.pub_handle.address, tmp_path / "from-end.db", END)
    assert held(tmp_path / "from-end.db") == {}

    stream = pub.StreamChanges(pb.StreamChangesRequest(start_at_end=True), timeout=120)
    streamed: list = []

    def read():
        try:
            for r in stream:
                streamed.append(r.change)
        except grpc.RpcError as exc:  # cancelled at the end of the test
            assert exc.code() == grpc.StatusCode.CANCELLED

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    world.push("aug-2", [ended_dossier("b1", "H01.01", 12)])
    world.settle()
    after = whole_feed(pub, end.next_cursor)
    assert after and not {c.cursor for c in after} & before
    assert {c.scorecard.scorecard.unit.code for c in after} == {"H01", "H01.01"}
    # the stream started at the end as it was when publish took the call: what it gives are the last
    # entries of the feed after ``end``, in order (more pushes, if it started after one of them)
    n = 3
    while not streamed:
        world.push(f"aug-{n}", [ended_dossier(f"b{n}", "H01.01", 5 + n)])
        world.settle()
        n += 1
    after = whole_feed(pub, end.next_cursor)
    eventually(lambda: [c.cursor for c in streamed] == [c.cursor for c in after][-len(streamed):]
               and streamed[-1].cursor == after[-1].cursor, what="the stream reaching the feed's end")
    stream.cancel()
    follow(pub, world.pub_handle.address, tmp_path / "from-end.db", END)  # resumes after ``end``
    assert held(tmp_path / "from-end.db") == replayed(after)

    for request in (pb.ListChangesRequest(cursor=end.next_cursor, start_at_end=True),):
        with pytest.raises(grpc.RpcError) as err:
            pub.ListChanges(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details_from_rpc_error(err.value)[0].reason == "CURSOR_AND_START_AT_END"
    with pytest.raises(grpc.RpcError) as err:
        next(iter(pub.StreamChanges(pb.StreamChangesRequest(cursor=end.next_cursor, start_at_end=True), timeout=10)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_list_scorecards_by_scope(world):
    pub = world.pub
    world.push("aug", [ended_dossier("a1", "H25.01", 5), ended_dossier("x1", "H25.X1", 12)])
    world.settle()

    def listed(**kw):
        out, token, total = [], "", None
        while True:
            page = pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, page_size=2, page_token=token, **kw))
            assert total in (None, page.total_size)
            total = page.total_size
            out += [(s.scorecard.unit.code, s.scorecard.scope) for s in page.scorecards]
            token = page.next_page_token
            if not token:
                assert total == len(out)
                return out

    # H25.01 and the commune H25.X1: alone and with their (empty) subtrees; Phú Thọ: its subtree only
    assert listed() == [("H25", SUBTREE), ("H25.01", UNIT), ("H25.01", SUBTREE), ("H25.X1", UNIT),
                        ("H25.X1", SUBTREE)]
    assert listed(scope=SUBTREE) == [("H25", SUBTREE), ("H25.01", SUBTREE), ("H25.X1", SUBTREE)]
    assert listed(scope=UNIT) == [("H25.01", UNIT), ("H25.X1", UNIT)]
    assert listed(scope=SUBTREE, unit_kind=tpb.UNIT_KIND_COMMUNE) == [("H25.X1", SUBTREE)]
    page = pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, page_size=1, scope=UNIT))
    with pytest.raises(grpc.RpcError) as err:  # a token of one scope is not used for another
        pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, scope=SUBTREE, page_token=page.next_page_token))
    assert details_from_rpc_error(err.value)[0].reason == "BAD_PAGE_TOKEN"
    with pytest.raises(grpc.RpcError) as err:
        pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, scope=7))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_from_rpc_error(err.value)[0].reason == "BAD_SCOPE"


def test_a_new_subscription_gets_the_current_state_of_its_subtree_once_then_changes(world, tmp_path):
    pub, ops = world.pub, auth(world.tokens.operator)
    world.push("aug", [ended_dossier("a1", "H25.01", 5), ended_dossier("b1", "H01.01", 12)])
    world.settle()
    publication = pub.CreatePublication(pb.CreatePublicationRequest(
        request_id="aug", period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=tpb.SCOPE_SUBTREE),
        metadata=ops).publication
    pub.CorrectPublication(pb.CorrectPublicationRequest(request_id="fix", publication_id=publication.publication_id,
                                                        reason="Bổ sung"), metadata=ops)
    ministry = pub.CreatePublication(pb.CreatePublicationRequest(  # includes nothing of Phú Thọ's
        request_id="aug-dept", period=AUG, unit_kind=tpb.UNIT_KIND_DEPARTMENT, parent_code="H01",
        scope=tpb.SCOPE_SUBTREE),
        metadata=ops).publication
    subtree, _, _ = snapshot(pub, unit_codes=["H25"])
    assert {c.scorecard.unit.code for c in subtree} == {"H25", "H25.01", "H25.02", "H25.X1"}

    port = free_port()
    request = pb.CreateSubscriptionRequest(request_id="sub-ptho", subscription=pb.Subscription(
        subscription_id="portal-phu-tho", endpoint=f"127.0.0.1:{port}", unit_codes=["H25"]))
    pub.CreateSubscription(request, metadata=ops)
    pub.CreateSubscription(request, metadata=ops)  # the same request again: no second initial state

    def deliveries():
        return list(pub.ListDeliveries(pb.ListDeliveriesRequest(subscription_id="portal-phu-tho", page_size=1000),
                                       metadata=ops).deliveries)

    initial = deliveries()
    assert len(initial) == len(subtree) + 1  # each live scorecard of the subtree, and revision 2 of the provinces'
    db = tmp_path / "phu-tho.db"
    with portal_receiver(db, world.pub_handle.address, port=port) as receiver:
        eventually(lambda: all(d.state == pb.DELIVERY_STATE_DELIVERED for d in deliveries()), what="the initial state")
        assert held(db) == state_of(subtree)
        got = receiver.store.report()
        assert got["publications"] == [{"publication_id": publication.publication_id, "revision": 2}]
        assert ministry.publication_id not in json.dumps(got)
        world.push("aug-2", [ended_dossier("a2", "H25.01", 12), ended_dossier("b2", "H01.01", 5)])
        world.settle()
        eventually(lambda: len(deliveries()) == len(initial) + 12
                   and all(d.state == pb.DELIVERY_STATE_DELIVERED for d in deliveries()), what="the changes")
        got = receiver.store.report()
    assert got["sequences"] == list(range(1, len(initial) + 13))  # each once, in order
    now, _, _ = snapshot(pub, unit_codes=["H25"])
    assert held(db) == state_of(now)


def run_cli(args):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen'}"}, check=False)


def test_chiso_portal_follow_from_a_snapshot(sqlite_url, tmp_path):
    with world_on(sqlite_url, tmp_path) as w:
        w.push("aug", [ended_dossier("a1", "H25.01", 5), ended_dossier("b1", "H01.01", 12)])
        w.settle()
        db = tmp_path / "national.db"
        out = run_cli(["services.publish.receiver", "follow", "--db", str(db), "--publish", w.pub_handle.address,
                       "--from-snapshot", "--until-caught-up"])
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout.splitlines()[-1])  # after the log lines: the summary
        now, _, _ = snapshot(w.pub)
        assert summary["changes_applied"] == 0 and summary["live_scorecards"] == len(now)
        assert held(db) == state_of(now)

