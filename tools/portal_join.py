"""How long a national portal takes to join: replaying publish's whole change feed against taking the
live snapshot and the feed after its cursor (issue 17 item 3). Not part of ``make bench``: a small
measurement against a running publish, e.g. the one ``make run`` starts.

    .venv/bin/python tools/portal_join.py --publish 127.0.0.1:50053 [--work-dir var/portal-join]

For each way it reports what was read (changes or scorecards, bytes of the protobuf answers), the time
to read it, and the time for the reference portal (``chiso-portal follow``, a SQLite file) to read and
store it; both portals must end up holding the same live results.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import grpc
from chiso.publish.v1 import publish_pb2 as pb
from chiso.publish.v1 import publish_pb2_grpc

from services.publish.receiver import SNAPSHOT, START, Follower, KeyRing, ReceiverStore, fetch_from_publish

ROOT = Path(__file__).resolve().parents[1]


def read_feed(stub, cursor: str = "") -> tuple[int, int]:
    """(changes, bytes) of the feed after ``cursor``, read page by page to its end."""
    count = size = 0
    while True:
        page = stub.ListChanges(pb.ListChangesRequest(cursor=cursor, page_size=1000), timeout=120)
        size += page.ByteSize()
        if not page.changes:
            return count, size
        count += len(page.changes)
        cursor = page.next_cursor


def read_snapshot(stub) -> tuple[int, int, str]:
    """(scorecards, bytes, consistent cursor) of the whole live snapshot."""
    count = size = 0
    token = ""
    while True:
        page = stub.ListLiveSnapshot(pb.ListLiveSnapshotRequest(page_size=1000, page_token=token), timeout=120)
        size += page.ByteSize()
        count += len(page.scorecards)
        token = page.next_page_token
        if not token:
            return count, size, page.consistent_cursor


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def held(path: Path) -> dict:
    store = ReceiverStore(path)
    try:
        return {(r["unit_code"], r["period"], r["scope"]): (r["version"], r["total"]) for r in store.report()["live"]}
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publish", default="127.0.0.1:50053")
    parser.add_argument("--work-dir", default=str(ROOT / "var" / "portal-join"))
    args = parser.parse_args(argv)
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(args.publish, options=options) as channel:
        stub = publish_pb2_grpc.PublishServiceStub(channel)
        (changes, feed_bytes), replay_s = timed(lambda: read_feed(stub))
        (cards, snap_bytes, cursor), snap_s = timed(lambda: read_snapshot(stub))
        (after, after_bytes), after_s = timed(lambda: read_feed(stub, cursor))
        keys = KeyRing(fetch=fetch_from_publish(args.publish))
        out = {"publish": args.publish,
               "replay": {"changes": changes, "bytes": feed_bytes, "read_seconds": round(replay_s, 2)},
               "snapshot": {"scorecards": cards, "bytes": snap_bytes, "read_seconds": round(snap_s, 2),
                            "feed_after_changes": after, "feed_after_bytes": after_bytes,
                            "feed_after_read_seconds": round(after_s, 2)}}
        for name, start in (("replay", START), ("snapshot", SNAPSHOT)):
            store = ReceiverStore(work / f"{name}.db")
            try:
                _, seconds = timed(lambda: Follower(stub, store, keys).run(start, until_caught_up=True))  # noqa: B023
            finally:
                store.close()
            out[name]["portal_follow_seconds"] = round(seconds, 2)
    same = held(work / "replay.db") == held(work / "snapshot.db")
    out["same_live_results"] = same
    print(json.dumps(out, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
