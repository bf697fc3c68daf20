"""Publish benchmarks (SPEC §8 and the publish issue), every service its own process, SQLite:

* an official publication of every unit's scorecard (~3,400 units) delivered to 50 subscribed
  reference receivers: time from CreatePublication's return until every receiver has stored it,
  and deliveries/s — beside the raw limit, a bare Deliver loop of the same signed payload to one
  receiver;
* freshness in publish's change feed: ingest, scoring and publish as processes, 200-record batches
  every 100 ms (2,000 records/s) through ingest's gRPC API, a follower on publish's StreamChanges;
  the time from ingest's acknowledgement to the first feed entry whose scorecard covers the batch
  (p50 / p99; target p99 ≤ 5 s);
* publish's peak RSS (VmHWM) over the run.

Run by ``make bench`` (``tools/bench.py``) or alone: ``python -m tools.bench_publish``.
The store (units, procedures, offers, N dossiers) is written straight into the database and its
aggregates rebuilt by ``python -m services.scoring.server rebuild``; loading is not measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.portal.v1 import portal_pb2, portal_pb2_grpc
from chiso.publish.v1 import publish_pb2 as pb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.demo.data import PROCEDURES
from services.publish.domain.documents import PUBLICATION_CONTENT_TYPE
from services.scoring.domain.periods import HANOI
from services.shared import access
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tools.bench_scoring import SOURCE, load_store, measure_rebuild, pct, rss_mb, unit_rows

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = "bench-operator"
KINDS = [  # every unit of the catalogue is of one of these kinds; a publication covers one kind
    (tpb.UNIT_KIND_MINISTRY, "ministries"),
    (tpb.UNIT_KIND_PROVINCE, "provinces"),
    (tpb.UNIT_KIND_DEPARTMENT, "departments"),
    (tpb.UNIT_KIND_COMMUNE, "communes"),
]


def layout(national: bool) -> list[tuple[int, str, str]]:
    """(unit kind, parent code, label) of the publications that together cover every unit: one per
    kind (``national``: the communes' is ~28 MB), or the communes one per province (~0.8 MB each)."""
    if national:
        return [(kind, "", label) for kind, label in KINDS]
    provinces = [code for code, _, kind, _ in unit_rows() if kind == tpb.UNIT_KIND_PROVINCE]
    return [(kind, "", label) for kind, label in KINDS[:3]] + \
        [(tpb.UNIT_KIND_COMMUNE, code, f"communes of {code}") for code in provinces]
MAX_MESSAGE = 256 * 1024 * 1024
BIG = [("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE)]


@dataclass
class Publication:
    label: str
    units: int = 0
    payload_bytes: int = 0
    create_seconds: float = 0.0
    sent_at_us: int = 0
    returned_at_us: int = 0
    stored_us: list[int] = field(default_factory=list)  # one per receiver: when it stored this publication

    @property
    def full_seconds(self) -> float:
        """CreatePublication sent → stored by every receiver."""
        return (max(self.stored_us) - self.sent_at_us) / 1e6 if self.stored_us else float("nan")

    @property
    def after_return_seconds(self) -> float:
        """CreatePublication returned → stored by every receiver (negative: done before the reply arrived)."""
        return (max(self.stored_us) - self.returned_at_us) / 1e6 if self.stored_us else float("nan")


@dataclass
class PublishFigures:
    dossiers: int
    units: int
    receivers: int
    receiver_hosts: int
    national: bool = False
    period: str = ""
    load_seconds: float = 0.0
    rebuild_seconds: float = 0.0
    publications: list[Publication] = field(default_factory=list)
    delivered: int = 0
    expected: int = 0
    deliver_seconds: float = 0.0  # first CreatePublication sent → last delivery stored
    raw_per_s: float = 0.0  # bare Deliver loop of the biggest payload to one receiver
    raw_small_per_s: float = 0.0  # same, smallest payload
    raw_calls: int = 0
    failures: list[str] = field(default_factory=list)
    freshness_ms: list[float] = field(default_factory=list)
    freshness_rate: float = 0.0
    batches: int = 0
    feed_entries: int = 0
    publish_rss_mb: float = 0.0
    publish_rss_before_mb: float = 0.0
    receiver_host_rss_mb: float = 0.0


# --- receivers: several reference receivers per process ------------------------------------------------


def host_receivers(folder: str, pem: str, ports: list[int]) -> int:
    """Serve one reference receiver (``services.publish.receiver``: verify, store in its own SQLite
    file) per port in this process until SIGTERM. Messages up to 256 MB (a publication of every
    commune is larger than the default 16 MB)."""
    from services.publish.receiver import SERVICE_NAME, KeyRing, ReceiverServicer, ReceiverSettings, ReceiverStore
    from services.shared.grpc_server import create_server

    handles = []
    for port in ports:
        store = ReceiverStore(Path(folder) / f"receiver-{port}.db")
        handle = create_server(name="portal", settings=ReceiverSettings(port=port, max_message_bytes=MAX_MESSAGE),
                               services=[(portal_pb2_grpc.add_PortalReceiverServiceServicer_to_server,
                                          ReceiverServicer(store, KeyRing.from_pem_file(pem)), SERVICE_NAME)])
        handle.on_stop.append(store.close)
        handle.start()
        handles.append(handle)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    for h in handles:
        h.stop(1)
    return 0


def stored_times(path: Path) -> list[tuple[str, int]]:
    """(publication id, received_at µs) of every publication a receiver has stored."""
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT payload, received_at FROM received WHERE content_type = ?",
                            (PUBLICATION_CONTENT_TYPE,)).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    out = []
    for payload, at in rows:
        head = bytes(payload[:400]).decode("utf-8", "replace")
        marker = '"publicationId":"'
        i = head.find(marker)
        pid = head[i + len(marker):head.index('"', i + len(marker))] if i >= 0 else ""
        if not pid:
            import json

            pid = json.loads(payload)["publicationId"]
        out.append((pid, at))
    return out


def count_stored(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM publications").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


# --- the run ------------------------------------------------------------------------------------------


def stop_all(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(work: Path, dossiers: int, receivers: int, per_host: int, fresh_seconds: int, log,
        national: bool = False) -> PublishFigures:
    from services.publish.signing import Signer, public_pem

    url = f"sqlite:///{work / 'store.db'}"
    env = {"CHISO_LOG_LEVEL": "warning"}
    now = datetime.now(HANOI)
    hosts = -(-receivers // per_host)
    f = PublishFigures(dossiers, len(unit_rows()), receivers, hosts, national)
    log(f"publish: loading a store of {dossiers:,} dossiers …")
    _, f.load_seconds = load_store(url, dossiers, now, lambda k: None)
    log(f"  loaded in {f.load_seconds:.0f} s; rebuilding the aggregates …")
    f.rebuild_seconds, _, _ = measure_rebuild(url, {**os.environ, **env, "PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}"},
                                              work / "rebuild.log")
    db = Database(url)
    with db.write() as conn:
        access.ensure_principal(conn, OPERATOR, access.OPERATOR, OPERATOR)
        operator = access.issue_token(conn, OPERATOR).token
        source = access.issue_token(conn, SOURCE).token
    db.dispose()
    signer = Signer.generate()
    key_file = work / "signing-key.pem"
    key_file.write_bytes(signer.private_pem())
    pem = work / "public-key.pem"
    pem.write_text(public_pem(signer.public_raw))

    scoring_port, publish_port, ingest_port = free_port(), free_port(), free_port()
    common = {**env, "CHISO_DATABASE_URL": url}
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        def start(module, extra, name, args=()):
            out = open(work / f"{name}.log", "ab")  # noqa: SIM115 — closed at the end
            logs.append(out)
            proc = spawn(module, {**common, **extra}, out, args)
            procs.append(proc)
            return proc

        scoring = start("services.scoring.server", {"CHISO_SCORING_PORT": str(scoring_port),
                                                    "CHISO_SCORING_METRICS_PORT": "-1"}, "scoring")
        ingest = start("services.ingest.server", {"CHISO_INGEST_PORT": str(ingest_port),
                                                  "CHISO_INGEST_METRICS_PORT": "-1"}, "ingest")
        publish = start("services.publish.server", {
            "CHISO_PUBLISH_PORT": str(publish_port), "CHISO_PUBLISH_METRICS_PORT": "-1",
            "CHISO_PUBLISH_SCORING_TARGET": f"127.0.0.1:{scoring_port}",
            "CHISO_PUBLISH_SIGNING_KEY_FILE": str(key_file),
            "CHISO_PUBLISH_MAX_MESSAGE_BYTES": str(MAX_MESSAGE)}, "publish")
        ports = [free_port() for _ in range(receivers + 1)]  # the last one: the raw limit's receiver
        groups = [ports[i:i + per_host] for i in range(0, receivers, per_host)] + [ports[receivers:]]
        rdir = work / "receivers"
        rdir.mkdir()
        host_procs = [start("tools.bench_publish", {}, f"receivers-{i}",
                            ["--host-receivers", str(rdir), str(pem), ",".join(map(str, g))])
                      for i, g in enumerate(groups)]
        for port, proc in ((scoring_port, scoring), (ingest_port, ingest), (publish_port, publish)):
            wait_healthy(f"127.0.0.1:{port}", proc, timeout=120)
        for g, proc in zip(groups, host_procs, strict=True):
            for port in g:
                wait_healthy(f"127.0.0.1:{port}", proc, timeout=120)
        log(f"  scoring, ingest, publish and {len(host_procs)} receiver processes serving")
        channel = grpc.insecure_channel(f"127.0.0.1:{publish_port}", options=BIG)
        stub = publish_pb2_grpc.PublishServiceStub(channel)
        md = [("authorization", f"Bearer {operator}")]
        publication_run(f, stub, md, ports, rdir, now, log)
        f.publish_rss_before_mb = rss_mb(publish.pid)
        f.receiver_host_rss_mb = max(rss_mb(p.pid) for p in host_procs)
        log("  freshness in publish's change feed at 2,000 records/s …")
        scoring_stub = scoring_pb2_grpc.ScoringServiceStub(grpc.insecure_channel(f"127.0.0.1:{scoring_port}"))
        ingest_stub = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(f"127.0.0.1:{ingest_port}"))
        freshness(f, stub, scoring_stub, ingest_stub, source, now, fresh_seconds, log)
        f.publish_rss_mb = rss_mb(publish.pid)
        channel.close()
    finally:
        stop_all(procs)
        for out in logs:
            out.close()
    return f


def publication_run(f: PublishFigures, stub, md, ports: list[int], rdir: Path, now: datetime, log) -> None:
    receivers = f.receivers
    for i, port in enumerate(ports[:receivers]):
        sub = pb.Subscription(subscription_id=f"portal-{i:02d}", display_name=f"Bench portal {i}",
                              endpoint=f"127.0.0.1:{port}", feeds=[tpb.FEED_OFFICIAL])
        stub.CreateSubscription(pb.CreateSubscriptionRequest(request_id=f"bench-sub-{i}", subscription=sub),
                                metadata=md, timeout=60)
    month_start = now.replace(day=1)
    last = month_start - timedelta(days=1)
    period = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=last.year, number=last.month)
    f.period = f"{last.year}-{last.month:02d}"
    log(f"  {receivers} subscriptions (whole tree, official feed); publishing {f.period} for every unit …")
    payloads = []
    for kind, parent, label in layout(f.national):
        p = Publication(label)
        t0 = time.perf_counter()
        p.sent_at_us = time.time_ns() // 1000
        r = stub.CreatePublication(pb.CreatePublicationRequest(request_id=f"bench-{label}", period=period,
                                                               unit_kind=kind, parent_code=parent,
                                                               scope=tpb.SCOPE_SUBTREE),
                                   metadata=md, timeout=600)
        p.create_seconds = time.perf_counter() - t0
        p.returned_at_us = time.time_ns() // 1000
        pubmsg = r.publication
        p.units, p.payload_bytes = len(pubmsg.scorecards), len(pubmsg.payload)
        payloads.append((pubmsg.publication_id, pubmsg.payload, pubmsg.signature, pubmsg.key_id))
        f.publications.append(p)
        log(f"    {label}: {p.units:,} scorecards, {p.payload_bytes / 1e6:.1f} MB, CreatePublication "
            f"{p.create_seconds:.1f} s")
    f.expected = receivers * len(f.publications)
    paths = [rdir / f"receiver-{port}.db" for port in ports[:receivers]]
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        got = sum(count_stored(p) for p in paths)
        if got >= f.expected:
            break
        time.sleep(0.2)
    by_id = {pid: p for (pid, *_), p in zip(payloads, f.publications, strict=True)}
    for path in paths:
        for pid, at in stored_times(path):
            if pid in by_id:
                by_id[pid].stored_us.append(at)
    f.delivered = sum(len(p.stored_us) for p in f.publications)
    stored = [t for p in f.publications for t in p.stored_us]
    if stored:
        f.deliver_seconds = (max(stored) - f.publications[0].sent_at_us) / 1e6
    if f.delivered < f.expected:
        f.failures.append(f"only {f.delivered} of {f.expected} deliveries stored within 30 min")
        for s in stub.ListSubscriptions(pb.ListSubscriptionsRequest(page_size=500), metadata=md,
                                        timeout=60).subscriptions:
            if s.pending_count or s.set_aside_count:
                d = stub.ListDeliveries(pb.ListDeliveriesRequest(subscription_id=s.subscription_id, page_size=5),
                                        metadata=md, timeout=60).deliveries
                errs = {x.last_error for x in d if x.last_error}
                f.failures.append(f"{s.subscription_id}: {s.pending_count} pending, {s.set_aside_count} set "
                                  f"aside; errors {sorted(errs)[:2]}")
                break
    last = f.publications[-1]
    log(f"  {f.delivered}/{f.expected} stored, {f.deliver_seconds:.1f} s after the first CreatePublication was sent; "
        f"the last publication stored by all {last.after_return_seconds:+.1f} s after its return")
    # the raw limit: the same signed payloads, Deliver in a loop to one receiver, nothing else
    raw = portal_pb2_grpc.PortalReceiverServiceStub(grpc.insecure_channel(f"127.0.0.1:{ports[-1]}", options=BIG))
    biggest = max(payloads, key=lambda x: len(x[1]))
    smallest = min(payloads, key=lambda x: len(x[1]))

    def loop(item, n: int, tag: str) -> float:
        pid, payload, signature, key_id = item
        t0 = time.perf_counter()
        for k in range(n):
            raw.Deliver(portal_pb2.DeliverRequest(delivery_id=f"raw-{tag}-{k}", subscription_id="raw", sequence=k + 1,
                                                  feed=tpb.FEED_OFFICIAL, payload=payload, signature=signature,
                                                  key_id=key_id, content_type=PUBLICATION_CONTENT_TYPE),
                        timeout=120)
        return n / (time.perf_counter() - t0)

    f.raw_calls = 20 if len(biggest[1]) > 5e6 else 100
    f.raw_per_s = loop(biggest, f.raw_calls, "big")
    f.raw_small_per_s = loop(smallest, 200, "small")
    log(f"  raw Deliver loop to one receiver: {f.raw_per_s:.2f}/s ({len(biggest[1]) / 1e6:.1f} MB), "
        f"{f.raw_small_per_s:.0f}/s ({len(smallest[1]) / 1e3:.0f} kB)")


def freshness(f: PublishFigures, stub, scoring, ingest, token: str, now: datetime, seconds: int, log) -> None:
    """200-record batches every 100 ms to three departments of one province (received two minutes
    ago, still being processed); a follower streams publish's change feed. A batch is visible at the
    first feed entry for the province's subtree, this month, whose 2.1 denominator is at least the
    number of records acknowledged up to and including that batch (above the count before the run)."""
    live = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=now.year, number=now.month)
    province, target_units = "H25", [f"H25.S0{i}" for i in (1, 2, 3)]

    def indicator(indicators) -> int:
        return next(i.denominator for i in indicators if i.id == "2.1")

    request = spb.GetScorecardRequest(unit_code=province, period=live, scope=tpb.SCOPE_SUBTREE)
    base = indicator(scoring.GetScorecard(request, timeout=60).scorecard.indicators)
    # the follower starts at the feed's current end
    cursor = ""
    while True:
        page = stub.ListChanges(pb.ListChangesRequest(cursor=cursor, page_size=1000), timeout=60)
        if not page.changes:
            break
        cursor = page.next_cursor
    seen: list[tuple[float, int]] = []
    entries = [0]
    stream = stub.StreamChanges(pb.StreamChangesRequest(cursor=cursor), timeout=seconds + 180)

    def follow():
        try:
            for message in stream:
                t = time.perf_counter()
                entries[0] += 1
                sc = message.change.scorecard.scorecard
                if (sc.unit.code == province and sc.scope == tpb.SCOPE_SUBTREE
                        and sc.period.kind == tpb.PERIOD_KIND_MONTH and sc.period.number == now.month
                        and sc.period.year == now.year):
                    seen.append((t, indicator(sc.indicators) - base))
        except grpc.RpcError:
            pass

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    md = [("authorization", f"Bearer {token}")]
    received = now - timedelta(minutes=2)
    if received.month != now.month:
        received = now
    acks: list[tuple[float, int]] = []
    total, k, batch_size, period = 0, 0, 200, 0.1
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        pause = start + k * period - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        records = []
        for j in range(batch_size):
            rec = ipb.DossierRecord(code=f"P{k:06d}-{j:03d}", unit_code=target_units[j % 3],
                                    procedure_code=PROCEDURES[j % 8][0], channel=ipb.CHANNEL_ONLINE,
                                    processing_state=ipb.PROCESSING_STATE_PROCESSING)
            rec.received_time.FromDatetime(received)
            rec.due_time.FromDatetime(received + timedelta(days=5))
            rec.source_time.FromDatetime(now - timedelta(minutes=1))
            records.append(rec)
        ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=f"pub-fresh-{k}", records=records), metadata=md,
                            timeout=60)
        total += batch_size
        acks.append((time.perf_counter(), total))
        k += 1
    f.freshness_rate = total / (time.perf_counter() - start)
    f.batches = len(acks)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and (not seen or seen[-1][1] < total):
        time.sleep(0.05)
    stream.cancel()
    follower.join(timeout=10)
    f.feed_entries = entries[0]
    for ack_time, count in acks:
        visible = next((t for t, v in seen if v >= count and t >= ack_time), None)
        if visible is not None:
            f.freshness_ms.append((visible - ack_time) * 1000)
    log(f"  {len(f.freshness_ms)}/{len(acks)} batches seen; p50 {pct(f.freshness_ms, .5):.0f} ms, "
        f"p99 {pct(f.freshness_ms, .99):.0f} ms at {f.freshness_rate:,.0f} records/s ({f.feed_entries} feed entries)")


# --- the report -----------------------------------------------------------------------------------------


def render(f: PublishFigures, command: str) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**MISSED**"

    units = sum(p.units for p in f.publications)
    rate = f.delivered / f.deliver_seconds if f.deliver_seconds else float("nan")
    big = max(f.publications, key=lambda p: p.payload_bytes) if f.publications else None
    total_mb = sum(p.payload_bytes for p in f.publications) / 1e6
    moved_mb = sum(p.payload_bytes * len(p.stored_us) for p in f.publications) / 1e6
    rate_mb = moved_mb / f.deliver_seconds if f.deliver_seconds else float("nan")
    per = -(-f.receivers // f.receiver_hosts)
    communes = [p for p in f.publications if p.label.startswith("communes of ")]
    shape = ", ".join(f"{p.label} ({p.units:,} scorecards, {p.payload_bytes / 1e6:.2f} MB)"
                      for p in f.publications if p not in communes)
    if communes:
        sizes = [p.payload_bytes / 1e6 for p in communes]
        shape += (f", and the communes one per province ({len(communes)} publications, "
                  f"{sum(p.units for p in communes):,} scorecards, {min(sizes):.2f}–{max(sizes):.2f} MB each)")
    last = f.publications[-1] if f.publications else None
    lines = [
        "## Publish (SPEC §8, publish issue)",
        "",
        f"A store of {f.dossiers:,} dossiers over {f.units:,} units written straight into SQLite, aggregates "
        f"rebuilt ({f.rebuild_seconds:.0f} s, not measured); scoring, ingest and publish each run as their own "
        f"process (`python -m services.<name>.server`, default settings; publish with "
        f"`CHISO_PUBLISH_MAX_MESSAGE_BYTES` = 256 MB), {f.receivers} reference receivers "
        f"(`services.publish.receiver`: verify the Ed25519 signature, store in their own SQLite file) hosted "
        f"{-(-f.receivers // f.receiver_hosts)} per process in {f.receiver_hosts} processes (50 processes would "
        f"not fit 2 cores), each with its own gRPC server, port and file. Command: `{command}`.",
        "",
        f"**Official publication to {f.receivers} receivers.** {f.receivers} subscriptions, each to the whole "
        f"tree and the official feed only (so the live feed does not mix in). A publication freezes the units of "
        f"one kind (`unit_kind`, optional `parent_code`) — one publication cannot hold every unit — so \"every "
        f"unit\" is {len(f.publications)} publications of {f.period} made back to back: {shape}; "
        f"{units:,} scorecards, {total_mb:.1f} MB of signed payload. Each publication is one delivery, whole, to "
        f"each subscription: {f.expected:,} deliveries, {total_mb * f.receivers:,.0f} MB in all. CreatePublication "
        f"took {sum(p.create_seconds for p in f.publications):.1f} s in all. Stored-at times are the receivers' "
        "own `received_at` (no polling resolution).",
        "",
        "| what | target | measured | limit in the same run | verdict |",
        "|---|---|---|---|---|",
    ]
    if big is not None:
        raw_time = f.receivers / f.raw_per_s if f.raw_per_s else float("nan")
        lines += [
            f"| the last publication ({last.label}, {last.units:,} scorecards): CreatePublication returned → "
            f"stored by all {f.receivers} receivers | — (none in SPEC §8) | **{last.after_return_seconds:.1f} s** "
            f"(the call took {last.create_seconds:.1f} s) | {raw_time:.1f} s for {f.receivers} bare Deliver calls of "
            f"the biggest payload one after another | — |",
            f"| every unit ({len(f.publications)} publications, back to back): first CreatePublication sent → "
            f"all {f.expected} deliveries stored | — | **{f.deliver_seconds:.1f} s, {rate:.2f} deliveries/s, "
            f"{rate_mb:.0f} MB/s** ({f.delivered}/{f.expected} stored) | bare Deliver loop to one receiver: "
            f"{f.raw_per_s:.2f}/s ({big.payload_bytes / 1e6:.1f} MB payload, "
            f"{f.raw_per_s * big.payload_bytes / 1e6:.0f} MB/s), {f.raw_small_per_s:,.0f}/s (smallest) | — |",
        ]
    lines += [
        f"| freshness: ingest ack → publish's change feed, at {f.freshness_rate:,.0f} records/s | p99 ≤ 5 s | "
        f"p50 {pct(f.freshness_ms, .5):,.0f} ms, **p99 {pct(f.freshness_ms, .99):,.0f} ms** "
        f"({len(f.freshness_ms)}/{f.batches} batches) | scoring's own freshness: see Scoring (p99 target 2 s) | "
        f"{verdict(len(f.freshness_ms) == f.batches and pct(f.freshness_ms, .99) <= 5000)} |",
        f"| publish's peak RSS (VmHWM) over the run | ≤ 300 MB | **{f.publish_rss_mb:,.0f} MB** "
        f"({f.publish_rss_before_mb:,.0f} MB after the publications) | a receiver process ({per} receivers)"
        f": {f.receiver_host_rss_mb:,.0f} MB | {verdict(f.publish_rss_mb <= 300)} |",
        "",
        "Freshness, precisely: 200-record batches every 100 ms for "
        f"{f.batches / 10:.0f} s to three departments of H25 (dossiers received two minutes earlier, still "
        "being processed), through ingest's `SyncDossiers`; a follower holds publish's `StreamChanges` open "
        "from the feed's end. A batch counts as visible at the first feed entry (the follower's clock on "
        "arrival) for H25 with its subtree, this month, whose indicator 2.1 denominator exceeds the count "
        "before the run by at least every record acknowledged up to that batch. The path: ingest's outbox → "
        "scoring's consumer → scoring's change feed → publish's follower (polls every 0.2 s, re-reads the "
        "changed scorecards from scoring, records them) → the stream. "
        f"{f.feed_entries:,} feed entries arrived during the run.",
        "",
    ]
    if f.failures:
        lines += ["**Delivery problems:** " + "; ".join(f.failures), ""]
    return lines


def measure(work: Path, dossiers: int = 200_000, receivers: int = 50, per_host: int = 10,
            fresh_seconds: int = 30) -> list[str]:
    """Run the publish benchmark in ``work`` (removed afterwards); the BENCHMARKS.md section."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    try:
        f = run(work, dossiers, receivers, per_host, fresh_seconds, lambda m: print(m, flush=True))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return render(f, f"python -m tools.bench_publish --dossiers {dossiers} --receivers {receivers}` (the publish "
                     "part of `make bench`")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--host-receivers"]:
        return host_receivers(argv[1], argv[2], [int(p) for p in argv[3].split(",")])
    parser = argparse.ArgumentParser(prog="python -m tools.bench_publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=200_000)
    parser.add_argument("--receivers", type=int, default=50)
    parser.add_argument("--per-process", type=int, default=10, help="receivers hosted per process (default 10)")
    parser.add_argument("--fresh-seconds", type=int, default=30)
    parser.add_argument("--national", action="store_true",
                        help="the communes in one national publication (~28 MB) instead of one per province; "
                             "needs several GB of RAM with 50 receivers")
    parser.add_argument("--keep", help="directory to work in and keep (default: a temporary one under var/)")
    args = parser.parse_args(argv)
    work = Path(args.keep) if args.keep else ROOT / "var" / "bench-publish"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    try:
        f = run(work, args.dossiers, args.receivers, args.per_process, args.fresh_seconds,
                lambda m: print(m, flush=True), args.national)
        print("\n".join(render(f, f"python -m tools.bench_publish --dossiers {args.dossiers} "
                                  f"--receivers {args.receivers}"
                                  f"{' --national' if args.national else ''}")))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
