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
"""

from __future__ import annotations

import argparse
import json
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

from services.publish.domain.alerts import ALERT_CONTENT_TYPE
from services.publish.domain.documents import PUBLICATION_CONTENT_TYPE, SCORECARD_CONTENT_TYPE, PeriodRef
from services.publish.domain.subscriptions import MAX_DELIVERY_BYTES
from services.publish.signing import key_id_of, public_raw_from_pem, verify
from services.shared.config import CommonSettings
from services.shared.display import hanoi_time, table
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
                    sc = document["scorecard"]
                    key = (sc["unit"]["code"], PeriodRef.from_json(sc["period"]).key, sc.get("scope", ""))
                    version = int(document["version"])
                    c.execute("INSERT INTO live VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit_code, period, scope) DO"
                              " UPDATE SET version = excluded.version, total = excluded.total,"
                              " payload = excluded.payload WHERE excluded.version > live.version",
                              (*key, version, sc.get("total", {}).get("value", ""), request.payload))
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("serve", "report", "-h", "--help"):
        argv.insert(0, "serve")
    args = parser.parse_args(argv)
    if args.command == "report":
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
    configure_logging("portal", "INFO")
    keys = KeyRing.from_pem_file(args.public_key_file) if args.public_key_file \
        else KeyRing(fetch=fetch_from_publish(args.publish))
    handle = build_receiver(args.db, keys, host=args.host, port=args.port)
    serve(handle, ReceiverSettings(host=args.host, port=args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
