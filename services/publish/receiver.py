"""The reference portal receiver: what a ministry's or province's portal runs to receive pushes.

It implements ``chiso.portal.v1.PortalReceiverService``: every delivery's Ed25519 signature is
checked with publish's public keys (fetched from ``GetPublicKey``, again when an unknown key id
shows up, or read from a PEM file) before anything is stored; a tampered payload is refused with
INVALID_ARGUMENT (publish retries and finally sets it aside, where an operator sees it). A delivery
id already stored is answered ``duplicate = true`` and changes nothing. What it receives goes into
a SQLite file in one transaction per delivery, and only then is OK answered:

* ``received`` — every delivery (payload, signature, key id), in arrival order;
* ``live`` — the newest version of each live scorecard (an older version arriving late, e.g. a
  replayed delivery, is kept in ``received`` but does not replace a newer one);
* ``publications`` — every publication revision;
* ``alerts`` — early-warning alerts (FEED_ALERT), each raised and resolved once.

Run it: ``chiso-portal serve --port 50060 --db var/portal.db --publish 127.0.0.1:50053`` (or
``--public-key-file key.pem``); ``chiso-portal report --db var/portal.db`` prints what it holds.

A portal may also pull instead of receiving pushes (the national portal does):
``chiso-portal follow --db var/national.db --publish 127.0.0.1:50053 --from-snapshot`` joins from
``ListLiveSnapshot`` — every live scorecard as it stood at one feed position — and then follows
``ListChanges`` from that position (``--from-start`` replays the whole feed instead, ``--from-end``
takes only what changes from now on). Each page is applied with the cursor after it in one
transaction (``follow_state``), so a restarted follower resumes where it stopped; the join is
made only when no cursor is stored yet (a snapshot interrupted halfway is taken again: the live
table keeps the newer of two versions, so nothing goes backwards). Publications named by the
feed are fetched with ``GetPublication`` and their signatures verified before they are stored.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from chiso.portal.v1 import portal_pb2, portal_pb2_grpc
from chiso.publish.v1 import publish_pb2, publish_pb2_grpc
from google.protobuf import json_format

from services.publish.domain.alerts import ALERT_CONTENT_TYPE
from services.publish.domain.documents import PUBLICATION_CONTENT_TYPE, SCORECARD_CONTENT_TYPE, PeriodRef
from services.publish.domain.subscriptions import MAX_DELIVERY_BYTES
from services.publish.signing import key_id_of, public_raw_from_pem, verify
from services.shared.config import CommonSettings
from services.shared.display import end_quietly_on_closed_pipe, hanoi_time, table
from services.shared.errors import FailedPrecondition, InvalidArgument
from services.shared.grpc_server import ServerHandle, create_server, serve
from services.shared.logging import configure_logging, get_logger

SERVICE_NAME = portal_pb2.DESCRIPTOR.services_by_name["PortalReceiverService"].full_name
log = get_logger("chiso.portal")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    arrival INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    feed INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    signature BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS live (
    unit_code TEXT NOT NULL, period TEXT NOT NULL, scope TEXT NOT NULL,
    version INTEGER NOT NULL, total TEXT NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (unit_code, period, scope)
);
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT NOT NULL, state TEXT NOT NULL, unit_code TEXT NOT NULL, rule TEXT NOT NULL,
    period TEXT NOT NULL, title TEXT NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (alert_id, state)
);
CREATE TABLE IF NOT EXISTS publications (
    publication_id TEXT NOT NULL, revision INTEGER NOT NULL, payload BLOB NOT NULL, signature BLOB NOT NULL,
    PRIMARY KEY (publication_id, revision)
);
CREATE TABLE IF NOT EXISTS follow_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ReceiverStore:
    """The receiver's SQLite file. Thread-safe (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def store(self, request: portal_pb2.DeliverRequest, document: Mapping[str, Any]) -> bool:
        """Store and apply one verified delivery; ``True`` when its id was already stored."""
        with self.lock:
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                if c.execute("SELECT 1 FROM received WHERE delivery_id = ?", (request.delivery_id,)).fetchone():
                    c.execute("ROLLBACK")
                    return True
                c.execute("INSERT INTO received (delivery_id, subscription_id, sequence, feed, content_type, key_id,"
                          " payload, signature, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (request.delivery_id, request.subscription_id, request.sequence, request.feed,
                           request.content_type, request.key_id, request.payload, request.signature,
                           time.time_ns() // 1000))
                if request.content_type == SCORECARD_CONTENT_TYPE:
                    _apply_live(c, document, request.payload)
                elif request.content_type == ALERT_CONTENT_TYPE:
                    c.execute("INSERT OR IGNORE INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (document["alertId"], document["state"], document["unit"]["code"], document["rule"],
                               document["period"], document["title"], request.payload))
                else:
                    c.execute("INSERT OR IGNORE INTO publications VALUES (?, ?, ?, ?)",
                              (document["publicationId"], int(document["revision"]), request.payload,
                               request.signature))
                c.execute("COMMIT")
                return False
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def cursor(self) -> str | None:
        """The feed cursor a pulling follower applied up to (``None``: it has not joined yet)."""
        with self.lock:
            row = self.conn.execute("SELECT value FROM follow_state WHERE name = 'cursor'").fetchone()
        return row[0] if row else None

    def apply_pulled(self, scorecards: list[tuple[Mapping[str, Any], bytes]],
                     publications: list[tuple[str, int, bytes, bytes]], cursor: str | None) -> None:
        """In one transaction: pulled live scorecards (PublishedScorecard documents and the JSON
        stored for each), publication revisions (id, revision, payload, signature), and the cursor
        they bring the follower to (``None``: leave it)."""
        with self.lock:
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                for document, payload in scorecards:
                    _apply_live(c, document, payload)
                c.executemany("INSERT OR IGNORE INTO publications VALUES (?, ?, ?, ?)", publications)
                if cursor is not None:
                    c.execute("INSERT INTO follow_state VALUES ('cursor', ?) ON CONFLICT (name) DO UPDATE"
                              " SET value = excluded.value", (cursor,))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def report(self) -> dict:
        with self.lock:
            c = self.conn
            received = c.execute("SELECT subscription_id, sequence, content_type FROM received "
                                 "ORDER BY arrival").fetchall()
            last = c.execute("SELECT MAX(received_at) FROM received").fetchone()[0]
            live = c.execute("SELECT unit_code, period, scope, version, total FROM live "
                             "ORDER BY unit_code, period, scope").fetchall()
            pubs = c.execute("SELECT publication_id, revision FROM publications ORDER BY publication_id, revision")
            pubs = pubs.fetchall()
            alerts = c.execute("SELECT alert_id, state, unit_code, rule, period, title FROM alerts "
                               "ORDER BY rowid").fetchall()
        return {
            "deliveries": len(received),
            "last_received_at": last,
            "sequences": [seq for _, seq, _ in received],
            "subscriptions": sorted({sub for sub, _, _ in received}),
            "subscription_of": [sub for sub, _, _ in received],
            "live": [{"unit_code": u, "period": p, "scope": s, "version": v, "total": t} for u, p, s, v, t in live],
            "publications": [{"publication_id": pid, "revision": rev} for pid, rev in pubs],
            "alerts": [{"alert_id": a, "state": st, "unit_code": u, "rule": r, "period": p, "title": t}
                       for a, st, u, r, p, t in alerts],
        }


def _apply_live(c: sqlite3.Connection, document: Mapping[str, Any], payload: bytes) -> None:
    """Keep the newest version of a live scorecard (an older one arriving late changes nothing)."""
    sc = document["scorecard"]
    key = (sc["unit"]["code"], PeriodRef.from_json(sc["period"]).key, sc.get("scope", ""))
    c.execute("INSERT INTO live VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit_code, period, scope) DO"
              " UPDATE SET version = excluded.version, total = excluded.total,"
              " payload = excluded.payload WHERE excluded.version > live.version",
              (*key, int(document["version"]), sc.get("total", {}).get("value", ""), payload))
def summary(held: Mapping[str, Any], path: str | Path) -> str:
    """What ``report`` found, for a person: deliveries and their sequences, live scorecards, publications,
    and the totals held for the top units of the subscription (with their subtree)."""
    def n(x: int) -> str:
        return f"{x:,}".replace(",", ".")

    lines = [f"Cổng tham chiếu — {path}"]
    if not held["deliveries"]:
        lines.append("deliveries: none received yet")
        return "\n".join(lines)
    by_sub: dict[str, list[int]] = {}
    for sub, seq in zip(held["subscription_of"], held["sequences"], strict=True):
        by_sub.setdefault(sub, []).append(seq)
    for sub, seqs in sorted(by_sub.items()):
        low, high = min(seqs), max(seqs)
        missing = high - low + 1 - len(set(seqs))
        gaps = "none missing" if not missing else f"{n(missing)} missing"
        lines.append(f"deliveries: {n(len(seqs))} from subscription {sub}, sequences {n(low)}–{n(high)} ({gaps})")
    lines.append(f"last delivery: {hanoi_time(held['last_received_at'])}")
    live = held["live"]
    periods = sorted({x["period"] for x in live})
    units = {x["unit_code"] for x in live}
    lines.append(f"live scorecards: {n(len(live))} ({n(len(units))} units; periods {', '.join(periods) or '—'})")
    pubs: dict[str, list[int]] = {}
    for p in held["publications"]:
        pubs.setdefault(p["publication_id"], []).append(p["revision"])
    described = [f"{pid} (revision{'s' if len(revs) > 1 else ''} {', '.join(map(str, revs))})"
                 for pid, revs in sorted(pubs.items())]
    lines.append("official publications: " + ("; ".join(described) or "none"))
    roots = sorted(u for u in units if "." not in u)
    if roots:
        totals = {(x["unit_code"], x["period"]): x["total"] for x in live if x["scope"] in ("subtree", "SCOPE_SUBTREE")}
        lines.append("live totals of the top units with their subtree (điểm):")
        rows = [[u, *(totals.get((u, p), "—").replace(".", ",") for p in periods)] for u in roots]
        lines += ["  " + line for line in table(rows, ["unit", *periods]).splitlines()]
    lines.append("(chiso-portal report --json prints everything held)")
    return "\n".join(lines)


def report(db_path: str | Path) -> dict:
    """What a receiver's file holds (see ``ReceiverStore.report``)."""
    store = ReceiverStore(db_path)
    try:
        return store.report()
    finally:
        store.close()


class KeyRing:
    """Public keys by key id: given ones, plus those ``fetch`` returns (asked again, at most every
    ``refetch_seconds``, when a delivery names a key not known yet)."""

    def __init__(self, keys: Mapping[str, bytes] | None = None,
                 fetch: Callable[[], Mapping[str, bytes]] | None = None, refetch_seconds: float = 5.0) -> None:
        self.keys = dict(keys or {})
        self.fetch = fetch
        self.refetch_seconds = refetch_seconds
        self._fetched_at = -1e18
        self._lock = threading.Lock()

    def get(self, key_id: str) -> bytes | None:
        with self._lock:
            if key_id not in self.keys and self.fetch is not None \
                    and time.monotonic() - self._fetched_at >= self.refetch_seconds:
                self._fetched_at = time.monotonic()
                try:
                    self.keys.update(self.fetch())
                except grpc.RpcError as exc:
                    log.warning("could not fetch publish's public keys", error=str(exc.code()))
            return self.keys.get(key_id)

    @classmethod
    def from_pem_file(cls, path: str | Path) -> KeyRing:
        raw = public_raw_from_pem(Path(path).read_bytes())
        return cls({key_id_of(raw): raw})


def fetch_from_publish(target: str, timeout: float = 10.0) -> Callable[[], dict[str, bytes]]:
    """A fetcher of publish's keys through ``GetPublicKey`` (checks each key id against its key)."""

    def fetch() -> dict[str, bytes]:
        with grpc.insecure_channel(target) as channel:
            r = publish_pb2_grpc.PublishServiceStub(channel).GetPublicKey(publish_pb2.GetPublicKeyRequest(),
                                                                           timeout=timeout)
        return {k.key_id: bytes(k.public_key) for k in r.keys if key_id_of(bytes(k.public_key)) == k.key_id}

    return fetch


class ReceiverServicer(portal_pb2_grpc.PortalReceiverServiceServicer):
    def __init__(self, store: ReceiverStore, keys: KeyRing,
                 before_store: Callable[[portal_pb2.DeliverRequest], None] | None = None) -> None:
        self.store = store
        self.keys = keys
        self.before_store = before_store

    def Deliver(self, request: portal_pb2.DeliverRequest, context) -> portal_pb2.DeliverResponse:
        if not request.delivery_id or len(request.delivery_id) > 128:
            raise InvalidArgument.for_field("delivery_id", "1–128 characters", reason="BAD_DELIVERY_ID")
        if request.content_type not in (SCORECARD_CONTENT_TYPE, PUBLICATION_CONTENT_TYPE, ALERT_CONTENT_TYPE):
            raise InvalidArgument.for_field("content_type", "unknown content type", reason="BAD_CONTENT_TYPE")
        key = self.keys.get(request.key_id)
        if key is None:
            raise FailedPrecondition(f"unknown signing key {request.key_id[:32]!r}", reason="UNKNOWN_KEY")
        if not verify(key, request.payload, request.signature):
            log.warning("delivery refused: bad signature", delivery_id=request.delivery_id, sequence=request.sequence)
            raise InvalidArgument.for_field("signature", "does not verify the payload", reason="BAD_SIGNATURE")
        try:
            document = json.loads(request.payload)
        except ValueError:
            raise InvalidArgument.for_field("payload", "not JSON", reason="BAD_PAYLOAD") from None
        if self.before_store is not None:
            self.before_store(request)
        duplicate = self.store.store(request, document)
        log.info("delivery stored" if not duplicate else "duplicate delivery dropped",
                 delivery_id=request.delivery_id, sequence=request.sequence)
        return portal_pb2.DeliverResponse(duplicate=duplicate)


SNAPSHOT, START, END = "snapshot", "start", "end"


class Follower:
    """Pulls publish's results into a ``ReceiverStore`` (see the module docstring): joins once —
    from a snapshot, the feed's start or its end — then applies the feed page by page."""

    def __init__(self, stub: publish_pb2_grpc.PublishServiceStub, store: ReceiverStore, keys: KeyRing, *,
                 page_size: int = 1000, timeout: float = 60.0) -> None:
        self.stub = stub
        self.store = store
        self.keys = keys
        self.page_size = page_size
        self.timeout = timeout

    def join(self, start: str = SNAPSHOT) -> tuple[str, int]:
        """(cursor to follow from, live scorecards taken from a snapshot). A stored cursor wins: the
        follower has joined before and resumes."""
        cursor = self.store.cursor()
        if cursor is not None:
            return cursor, 0
        taken = 0
        if start == SNAPSHOT:
            token, cursor = "", ""
            while True:
                page = self.stub.ListLiveSnapshot(publish_pb2.ListLiveSnapshotRequest(
                    page_size=self.page_size, page_token=token), timeout=self.timeout)
                cursor = page.consistent_cursor
                self.store.apply_pulled([_pulled(s) for s in page.scorecards], [], None)
                taken += len(page.scorecards)
                token = page.next_page_token
                if not token:
                    break
        elif start == END:
            cursor = self.stub.ListChanges(publish_pb2.ListChangesRequest(start_at_end=True),
                                           timeout=self.timeout).next_cursor
        else:
            cursor = ""
        self.store.apply_pulled([], [], cursor)
        log.info("follower joined", start=start, snapshot_scorecards=taken)
        return cursor, taken

    def follow_once(self) -> int:
        """Apply one page of the feed after the stored cursor; the number of changes in it."""
        cursor = self.store.cursor() or ""
        page = self.stub.ListChanges(publish_pb2.ListChangesRequest(cursor=cursor, page_size=self.page_size),
                                     timeout=self.timeout)
        if not page.changes:
            return 0
        live, pubs = [], []
        for change in page.changes:
            if change.kind == publish_pb2.CHANGE_KIND_LIVE_SCORECARD:
                live.append(_pulled(change.scorecard))
            elif change.kind == publish_pb2.CHANGE_KIND_PUBLICATION:
                pubs.append(self._publication(change.publication_name))
        self.store.apply_pulled(live, pubs, page.next_cursor)
        return len(page.changes)

    def _publication(self, name: str) -> tuple[str, int, bytes, bytes]:
        _, pid, _, revision = name.split("/")
        p = self.stub.GetPublication(publish_pb2.GetPublicationRequest(publication_id=pid, revision=int(revision)),
                                     timeout=self.timeout).publication
        key = self.keys.get(p.key_id)
        if key is None or not verify(key, p.payload, p.signature):
            raise FailedPrecondition(f"publication {name} does not verify with publish's keys",
                                     reason="BAD_SIGNATURE")
        return p.publication_id, p.revision, bytes(p.payload), bytes(p.signature)

    def run(self, start: str = SNAPSHOT, *, until_caught_up: bool = False, poll_seconds: float = 1.0,
            stop: threading.Event | None = None) -> int:
        """Join, then follow until stopped (or, ``until_caught_up``, until a page comes back empty);
        the number of changes applied."""
        stop = stop or threading.Event()
        self.join(start)
        applied = 0
        while not stop.is_set():
            try:
                got = self.follow_once()
            except grpc.RpcError as exc:
                if until_caught_up or exc.code() not in (grpc.StatusCode.UNAVAILABLE,
                                                         grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                log.warning("publish unreachable; trying again", error=str(exc.code()))
                stop.wait(poll_seconds)
                continue
            applied += got
            if not got:
                if until_caught_up:
                    break
                stop.wait(poll_seconds)
        return applied


def _pulled(published: publish_pb2.PublishedScorecard) -> tuple[dict, bytes]:
    document = json_format.MessageToDict(published)
    return document, json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ReceiverSettings(CommonSettings):
    port: int = field(default=50060, metadata={"doc": "gRPC port"})
    metrics_port: int = field(default=-1, metadata={"doc": "Prometheus port (-1 = off)"})
    max_message_bytes: int = field(default=MAX_DELIVERY_BYTES, metadata={
        "doc": "largest delivery accepted: as large as publish sends"})


def build_receiver(db_path: str | Path, keys: KeyRing, *, host: str = "127.0.0.1", port: int = 0,
                   before_store: Callable[[portal_pb2.DeliverRequest], None] | None = None) -> ServerHandle:
    store = ReceiverStore(db_path)
    servicer = ReceiverServicer(store, keys, before_store)
    handle = create_server(name="portal", settings=ReceiverSettings(host=host, port=port),
                           services=[(portal_pb2_grpc.add_PortalReceiverServiceServicer_to_server, servicer,
                                      SERVICE_NAME)])
    handle.store = store  # type: ignore[attr-defined]
    handle.on_stop.append(store.close)
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chiso-portal", description="Reference portal receiver of chiso pushes.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="receive deliveries (the default command)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=50060)
    s.add_argument("--db", default="var/portal.db", help="SQLite file")
    s.add_argument("--publish", default="127.0.0.1:50053", help="publish's address, for GetPublicKey")
    s.add_argument("--public-key-file", help="verify with this PEM public key instead of asking publish")
    r = sub.add_parser("report", help="a summary of what the receiver holds (--json: all of it)")
    r.add_argument("--db", default="var/portal.db")
    r.add_argument("--json", action="store_true", help="everything held, as JSON")
    f = sub.add_parser("follow", help="pull publish's results instead of receiving pushes: join, then follow the "
                                      "change feed (resumes from the stored cursor)")
    f.add_argument("--db", default="var/portal.db", help="SQLite file")
    f.add_argument("--publish", default="127.0.0.1:50053", help="publish's address")
    start = f.add_mutually_exclusive_group()
    start.add_argument("--from-snapshot", dest="start", action="store_const", const=SNAPSHOT,
                       help="join from the live snapshot, then the feed from its cursor (the default)")
    start.add_argument("--from-start", dest="start", action="store_const", const=START,
                       help="replay the whole feed from its beginning")
    start.add_argument("--from-end", dest="start", action="store_const", const=END,
                       help="take only what changes from now on")
    f.add_argument("--until-caught-up", action="store_true", help="stop at the feed's end instead of waiting")
    f.add_argument("--page-size", type=int, default=1000)
    f.add_argument("--poll-seconds", type=float, default=1.0)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("serve", "report", "follow", "-h", "--help"):
        argv.insert(0, "serve")
    args = parser.parse_args(argv)
    if args.command == "report":
        end_quietly_on_closed_pipe()
        if not Path(args.db).exists():
            print(f"chiso-portal: no receiver file at {args.db}", file=sys.stderr)
            return 2
        held = report(args.db)
        if args.json:
            held.pop("subscription_of", None)
            print(json.dumps(held, ensure_ascii=False, indent=2))
        else:
            print(summary(held, args.db))
        return 0
    if args.command == "follow":
        return _follow(args)
    configure_logging("portal", "INFO")
    keys = KeyRing.from_pem_file(args.public_key_file) if args.public_key_file \
        else KeyRing(fetch=fetch_from_publish(args.publish))
    handle = build_receiver(args.db, keys, host=args.host, port=args.port)
    serve(handle, ReceiverSettings(host=args.host, port=args.port))
    return 0


def _follow(args) -> int:
    configure_logging("portal", "INFO")
    store = ReceiverStore(args.db)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    try:
        with grpc.insecure_channel(args.publish, options=[("grpc.max_receive_message_length",
                                                           MAX_DELIVERY_BYTES)]) as channel:
            follower = Follower(publish_pb2_grpc.PublishServiceStub(channel), store,
                                KeyRing(fetch=fetch_from_publish(args.publish)), page_size=args.page_size)
            applied = follower.run(args.start or SNAPSHOT, until_caught_up=args.until_caught_up,
                                   poll_seconds=args.poll_seconds, stop=stop)
    except KeyboardInterrupt:
        applied = -1
    finally:
        held = store.report()
        store.close()
    print(json.dumps({"changes_applied": applied, "live_scorecards": len(held["live"]),
                      "publications": len(held["publications"]),
                      "seconds": round(time.monotonic() - started, 2)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
