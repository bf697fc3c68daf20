"""Fault trials: kill -9 each service at random moments under load, restart it, and check that
nothing acknowledged was lost and nothing took effect twice.

One trial, on a fresh database (a PostgreSQL schema by default, or a SQLite file):

1. ingest, scoring, publish and the reference portal start as their own processes
   (``python -m services.<name>.server``; ``python -m services.publish.receiver serve``), each on
   a port it keeps across restarts; the portal subscribes to one province's subtree (Phú Thọ, H25)
   for both feeds.
2. **Load**: two client threads push dossier records of two provinces (the national generator's,
   each finished dossier sent twice — received, then finished) in batches, paced over the load
   window. A call that fails is retried with the same request id until it is acknowledged, as a
   ministry system would; every status code seen is counted.
3. **Operator**: during the load an operator creates official publications of last month (the
   province's communes; the provinces) and corrects one, each retried under its request id.
4. **Faults**, one after another at random moments while the load runs: SIGKILL of ingest, of
   scoring, of publish, of the portal (each restarted after 0–1.5 s), of all three services at once,
   a portal outage (down 3–10 s), and — on PostgreSQL, where allowed — a restart of the database
   cluster.
5. After the load: wait until scoring has applied every change notice, publish has followed
   scoring's feed to its end and every delivery has been made (the *convergence* time, measured
   from the end of the last fault), then check the invariants below, stop every process with
   SIGTERM (each must exit 0), rebuild scoring's aggregates from the stored dossiers and compare.

Invariants (each breach is reported as a violation; a trial passes with none):

- every acknowledged record is stored, at the newest acknowledged version (``source_time``);
- every call failed only as UNAVAILABLE or DEADLINE_EXCEEDED (retryable), never otherwise;
- scoring has applied every change notice, and its aggregates equal a rebuild from the stored
  dossiers (nothing applied twice, nothing missed);
- publish's live results equal what scoring computes now, key for key (content hash);
- every acknowledged publication and correction exists once per request id, with a signature
  that verifies with publish's public key; publish's change feed is strictly increasing;
- every delivery was made; the portal holds each delivery once, in sequence order 1…N with no gap;
  its live results are publish's latest versions of the subscribed subtree and it holds every
  publication revision;
- every process exits 0 on SIGTERM, and none logged an unexpected error (a call failing INTERNAL).

    .venv/bin/python -m tools.faults [--trials 15] [--backends postgresql,sqlite] [--seed 1]
                                     [--load-seconds 30] [--records 12000] [--database-restarts]
                                     [--write FAULTS.md]

``make faults`` runs the default set and writes FAULTS.md. Database restarts run only with
``--database-restarts`` (they restart the machine's whole PostgreSQL cluster: don't run anything
else on it meanwhile).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from sqlalchemy import func, select

from services.demo import data
from services.publish import storage as publish_storage
from services.publish import tables as ptables
from services.publish.domain.documents import CardKey, PeriodRef
from services.publish.scoring_client import GrpcScoring
from services.publish.signing import Signer, verify
from services.scoring import tables as scoring_tables
from services.scoring.storage import Aggregates
from services.shared import access, schema
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tools.bench import database, machine
from tools.bench_pipeline import two_versions

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".faults"
PROVINCES = ("H25", "H22")  # Phú Thọ (subscribed) and Quảng Ninh (not: its items must not reach the portal)
SUBSCRIBED = "H25"
SUBSCRIPTION = "portal-phu-tho"
BATCH = 200
CALL_TIMEOUT = 10.0
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
CLIENT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 1000)]
SCORE_TABLES = scoring_tables.AGGREGATES

KILLS = ("ingest", "scoring", "publish", "portal")
FAULT_KINDS = (*(f"kill -9 {k}" for k in KILLS), "kill -9 all three services", "portal outage", "database restart")


def database_restart_command() -> list[str] | None:
    """``pg_ctlcluster … restart`` for the machine's PostgreSQL cluster, if there is one."""
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "restart"]


# --------------------------------------------------------------------------- processes


class Process:
    """One service process on a fixed port: started, killed, restarted, stopped."""

    def __init__(self, name: str, module: str, env: dict[str, str], args: list[str], port: int, log: Path) -> None:
        self.name, self.module, self.env, self.args, self.port, self.log = name, module, env, args, port, log
        self.proc: subprocess.Popen | None = None
        self.starts: list[float] = []  # seconds from spawn to SERVING

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        t0 = time.monotonic()
        with open(self.log, "ab") as out:
            self.proc = spawn(self.module, self.env, output=out, args=self.args)
        wait_healthy(self.address, self.proc, timeout=120)
        self.starts.append(time.monotonic() - t0)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code (``None`` if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


def services(url: str, work: Path, key_file: Path, portal_db: Path) -> dict[str, Process]:
    ports = {name: free_port() for name in KILLS}

    def env(name: str, **extra: str) -> dict[str, str]:
        prefix = f"CHISO_{name.upper()}_"
        return {f"{prefix}DATABASE_URL": url, f"{prefix}PORT": str(ports[name]), f"{prefix}METRICS_PORT": "-1",
                f"{prefix}LOG_LEVEL": "WARNING", f"{prefix}AUTO_MIGRATE": "false",
                **{prefix + k: v for k, v in extra.items()}}

    publish_env = env("publish", SCORING_TARGET=f"127.0.0.1:{ports['scoring']}", SIGNING_KEY_FILE=str(key_file),
                      # a restarted container keeps its pod's name: it takes its own delivery lease back
                      REPLICA_ID="faults-publish-0", DELIVERY_POLL_SECONDS="0.2")
    return {
        "ingest": Process("ingest", "services.ingest.server", env("ingest"), [], ports["ingest"], work / "ingest.log"),
        "scoring": Process("scoring", "services.scoring.server", env("scoring"), [], ports["scoring"],
                           work / "scoring.log"),
        "publish": Process("publish", "services.publish.server", publish_env, [], ports["publish"],
                           work / "publish.log"),
        "portal": Process("portal", "services.publish.receiver", {},
                          ["serve", "--port", str(ports["portal"]), "--db", str(portal_db),
                           "--publish", f"127.0.0.1:{ports['publish']}"], ports["portal"], work / "portal.log"),
    }


# --------------------------------------------------------------------------- a trial


@dataclass
class Fault:
    kind: str
    at: float  # seconds into the load
    down: float  # seconds the process (or database) was down


@dataclass
class TrialResult:
    trial: int
    seed: int
    backend: str
    records: int = 0
    batches: int = 0
    acked_batches: int = 0
    replayed: int = 0  # retries answered with the stored answer (the first ack was lost)
    failures: Counter = field(default_factory=Counter)  # status code of every failed call
    publications: int = 0
    corrections: int = 0
    deliveries: int = 0
    extra_attempts: int = 0  # delivery attempts beyond the first (redeliveries after faults)
    live_keys: int = 0
    faults: list[Fault] = field(default_factory=list)
    restarts: dict[str, list[float]] = field(default_factory=dict)
    converge_seconds: float = float("nan")
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)


@dataclass
class Expected:
    """What the clients were told: acknowledged records and publications."""

    newest: dict[str, int] = field(default_factory=dict)  # dossier code → newest acknowledged source time (µs)
    publications: dict[str, str] = field(default_factory=dict)  # request id → publication id
    corrected: dict[str, int] = field(default_factory=dict)  # publication id → revisions expected
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Trial:
    """Everything a check needs (handed to ``tamper`` in the checker's own test)."""

    db: Database
    url: str
    work: Path  # the processes' logs are here
    portal_db: Path
    procs: dict[str, Process]
    expected: Expected
    result: TrialResult


def _us(t) -> int:
    return t.seconds * 1_000_000 + t.nanos // 1000


def _workload(seed: int, records: int, now: datetime) -> tuple[list, list, list, list[pb.SyncDossiersRequest]]:
    """(units, procedures, unit procedures, dossier batches) of two provinces, last month."""
    last = (now.replace(day=1) - timedelta(days=1))
    spec = data.DemoSpec(seed=seed, communes_per_province=6, year=last.year, month=last.month)
    st = now - timedelta(hours=1)
    owners = set(data.OWNERS.values())  # the ministries the procedures belong to
    units = [u for u in data.units(spec, st) if u.code.split(".")[0] in (*PROVINCES, *owners)]
    codes = [u.code for u in units if u.code not in owners]
    far = data.ts(now + timedelta(days=60))
    requests, buf = [], []
    for rec in two_versions(data.dossiers(codes, records, spec, now), lag=BATCH * 5):
        if not rec.HasField("end_time"):
            rec.due_time.CopyFrom(far)  # unfinished: due well after the trial, so no result moves meanwhile
        buf.append(rec)
        if len(buf) == BATCH:
            requests.append(buf)
            buf = []
        if sum(map(len, requests)) + len(buf) >= records:
            break
    if buf:
        requests.append(buf)
    batches = [pb.SyncDossiersRequest(request_id=f"faults-{seed}-{i}", records=recs) for i, recs in enumerate(requests)]
    return units, data.procedures(st), list(data.unit_procedures(units, spec, st)), batches


def _call(fn, request, token: str, stop: threading.Event, failures: Counter, lock: threading.Lock,
          give_up_after: float = 600.0):
    """``fn(request)`` retried (same request, same id) until it succeeds; ``None`` if stopped."""
    deadline = time.monotonic() + give_up_after
    pause = 0.1
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            return fn(request, metadata=(("authorization", f"Bearer {token}"),), timeout=CALL_TIMEOUT)
        except grpc.RpcError as err:
            with lock:
                failures[err.code().name] += 1
            time.sleep(random.uniform(0, pause))  # full jitter
            pause = min(2.0, pause * 2)
    return None


def run_trial(number: int, seed: int, backend: str, records: int, load_seconds: float, db_restarts: bool,
              progress: Callable[[str], None] = print, tamper: Callable[[Trial], None] | None = None,
              min_faults: int = 0) -> TrialResult:
    """One trial; faults are injected while the load runs (``load_seconds``) and, on a slow machine where
    restarts take longer, on after it until at least ``min_faults`` have been."""
    result = TrialResult(number, seed, backend)
    work = WORK / f"trial-{number:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    key_file = work / "signing-key.pem"
    key_file.write_bytes(Signer.generate().private_pem())
    portal_db = work / "portal.db"
    rnd = random.Random(seed)
    now = datetime.now(data.HANOI).replace(microsecond=0)
    units, procedures, unit_procedures, batches = _workload(seed, records, now)
    result.records, result.batches = sum(len(b.records) for b in batches), len(batches)
    started = time.monotonic()
    with database(backend, f"faults{number}") as url:
        db = Database(url)
        procs = services(url, work, key_file, portal_db)
        trial = Trial(db, url, work, portal_db, procs, Expected(), result)
        try:
            with db.write() as conn:
                access.ensure_principal(conn, "faults-source", access.SOURCE, "Hệ thống một cửa (thử lỗi)")
                access.set_grants(conn, "faults-source", ["*"])
                source = access.issue_token(conn, "faults-source").token
                access.ensure_principal(conn, "faults-operator", access.OPERATOR, "Vận hành (thử lỗi)")
                operator = access.issue_token(conn, "faults-operator").token
            for p in procs.values():
                p.start()
            _seed(procs, source, operator, units, procedures, unit_procedures)
            _load_with_faults(trial, batches, source, operator, rnd, load_seconds, db_restarts, now, progress,
                              min_faults)
            quiet = time.monotonic()  # load acknowledged, last fault over
            for p in procs.values():  # anything a fault left down comes back
                if p.proc is None or p.proc.poll() is not None:
                    p.start()
            result.converge_seconds = _converge(trial, since=quiet, timeout=300)
            if tamper is not None:
                tamper(trial)
            check_live(trial)
        finally:
            exits = {name: p.stop() for name, p in procs.items()}
            result.restarts = {name: p.starts[1:] for name, p in procs.items()}
        for name, code in exits.items():
            if code != 0:
                result.violations.append(f"{name} exited {code} on SIGTERM (expected 0)")
        check_stored(trial)
        check_logs(trial)
        db.dispose()
    result.seconds = time.monotonic() - started
    return result


def _seed(procs, source, operator, units, procedures, unit_procedures) -> None:
    md = (("authorization", f"Bearer {source}"),)
    with grpc.insecure_channel(procs["ingest"].address) as ch:
        stub = ingest_pb2_grpc.IngestServiceStub(ch)
        for method, request in (
            (stub.SyncUnits, pb.SyncUnitsRequest(request_id="units", records=units)),
            (stub.SyncProcedures, pb.SyncProceduresRequest(request_id="procedures", records=procedures)),
            (stub.SyncUnitProcedures, pb.SyncUnitProceduresRequest(request_id="unit-procedures",
                                                                   records=unit_procedures)),
        ):
            r = method(request, metadata=md, timeout=60).result
            if r.accepted_count != len(request.records):
                raise RuntimeError(f"the catalogue was refused: {r.errors[0] if r.errors else r}")
    with grpc.insecure_channel(procs["publish"].address) as ch:
        publish_pb2_grpc.PublishServiceStub(ch).CreateSubscription(ppb.CreateSubscriptionRequest(
            request_id="subscription", subscription=ppb.Subscription(
                subscription_id=SUBSCRIPTION, display_name="Cổng dịch vụ công tỉnh Phú Thọ",
                endpoint=procs["portal"].address, unit_codes=[SUBSCRIBED])),
            metadata=(("authorization", f"Bearer {operator}"),), timeout=60)


def _load_with_faults(trial: Trial, batches, source, operator, rnd, load_seconds, db_restarts, now,
                      progress, min_faults: int = 0) -> None:
    """Push the load, make publications and inject faults; returns when all three are done."""
    result, expected, procs = trial.result, trial.expected, trial.procs
    stop = threading.Event()
    lock = threading.Lock()
    t0 = time.monotonic()
    spacing = load_seconds / max(1, len(batches))

    def client(which: int) -> None:
        with grpc.insecure_channel(procs["ingest"].address, options=CLIENT_OPTIONS) as ch:
            sync = ingest_pb2_grpc.IngestServiceStub(ch).SyncDossiers
            for i in range(which, len(batches), 2):
                delay = t0 + i * spacing - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                request = batches[i]
                r = _call(sync, request, source, stop, result.failures, lock)
                if r is None:
                    return
                res = r.result
                with lock:
                    result.acked_batches += 1
                    result.replayed += res.replayed
                    for rec, status in zip(request.records, res.statuses, strict=True):
                        if status in (pb.RECORD_STATUS_ACCEPTED, pb.RECORD_STATUS_STALE):
                            t = _us(rec.source_time)
                            if t > expected.newest.get(rec.code, -1):
                                expected.newest[rec.code] = t
                        else:
                            result.violations.append(f"{request.request_id}: record {rec.code} refused "
                                                     f"({pb.RecordStatus.Name(status)})")

    last_month = (now.replace(day=1) - timedelta(days=1))
    period = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=last_month.year, number=last_month.month)
    title = f"Kết quả tháng {last_month.month}/{last_month.year}"

    def operator_work() -> None:
        with grpc.insecure_channel(procs["publish"].address, options=CLIENT_OPTIONS) as ch:
            stub = publish_pb2_grpc.PublishServiceStub(ch)
            plan = [(0.3, ppb.CreatePublicationRequest(
                        request_id=f"pub-communes-{result.seed}", period=period, unit_kind=tpb.UNIT_KIND_COMMUNE,
                        parent_code=SUBSCRIBED, scope=tpb.SCOPE_UNIT, title=f"{title} — xã, phường tỉnh Phú Thọ")),
                    (0.6, ppb.CreatePublicationRequest(
                        request_id=f"pub-provinces-{result.seed}", period=period, unit_kind=tpb.UNIT_KIND_PROVINCE,
                        scope=tpb.SCOPE_SUBTREE, title=f"{title} — các tỉnh"))]
            for at, request in plan:
                time.sleep(max(0.0, t0 + at * load_seconds - time.monotonic()))
                r = _call(stub.CreatePublication, request, operator, stop, result.failures, lock)
                if r is None:
                    return
                with lock:
                    expected.publications[request.request_id] = r.publication.publication_id
                    expected.corrected.setdefault(r.publication.publication_id, 1)
            time.sleep(max(0.0, t0 + 0.85 * load_seconds - time.monotonic()))
            first = expected.publications[plan[0][1].request_id]
            r = _call(stub.CorrectPublication, ppb.CorrectPublicationRequest(
                request_id=f"correct-{result.seed}", publication_id=first,
                reason="Bổ sung dữ liệu đồng bộ muộn của UBND xã"), operator, stop, result.failures, lock)
            if r is not None:
                with lock:
                    expected.corrected[first] = r.publication.revision

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in (0, 1)]
    workers.append(threading.Thread(target=operator_work, daemon=True))
    for w in workers:
        w.start()
    restart_db = database_restart_command() if db_restarts and trial.url.startswith("postgresql") else None
    kinds = [k for k in FAULT_KINDS if k != "database restart" or restart_db]
    while time.monotonic() - t0 < load_seconds or len(result.faults) < min_faults:
        time.sleep(rnd.uniform(0.5, 3.0))
        kind = rnd.choice(kinds)
        at = time.monotonic() - t0
        down_from = time.monotonic()
        if kind == "database restart":
            subprocess.run(restart_db, check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            victims = ["ingest", "scoring", "publish"] if kind.endswith("all three services") else [
                "portal" if kind == "portal outage" else kind.removeprefix("kill -9 ")]
            for name in victims:
                procs[name].kill()
            time.sleep(rnd.uniform(3.0, 10.0) if kind == "portal outage" else rnd.uniform(0.0, 1.5))
            for name in victims:
                procs[name].start()
        down = time.monotonic() - down_from
        result.faults.append(Fault(kind, at, down))
        progress(f"  {at:5.1f} s  {kind} (back after {down:.1f} s)")
    for w in workers:
        w.join(timeout=600)
    stop.set()
    if any(w.is_alive() for w in workers):
        result.violations.append("the load did not finish within 10 minutes of the last fault")
    missing = len(batches) - result.acked_batches
    if missing:
        result.violations.append(f"{missing} batches never acknowledged")


def _converge(trial: Trial, since: float, timeout: float) -> float:
    """Seconds from ``since`` until scoring, publish and deliveries have caught up (a violation if
    never)."""
    t0 = time.monotonic()
    scoring = GrpcScoring(trial.procs["scoring"].address, timeout=30)
    last_error = ""
    try:
        while time.monotonic() - t0 < timeout:
            try:
                if _caught_up(trial, scoring):
                    return time.monotonic() - since
            except Exception as exc:  # noqa: BLE001 - a restarted service may still be warming up; look again
                last_error = f"; last error {type(exc).__name__}: {exc}"
            time.sleep(0.2)
    finally:
        scoring.close()
    trial.result.violations.append(f"did not converge within {timeout:.0f} s: {_progress(trial)}{last_error}")
    return float("nan")


def _caught_up(trial: Trial, scoring: GrpcScoring) -> bool:
    applied, head = Aggregates(trial.db).lag()
    if applied < head:
        return False
    with trial.db.read() as conn:
        cursors = publish_storage.lane_cursors(conn)
        pending = conn.execute(select(func.count()).select_from(ptables.publish_deliveries).where(
            ptables.publish_deliveries.c.state != ppb.DELIVERY_STATE_DELIVERED)).scalar()
    return not pending and not any(scoring.changes(cursor, 1).keys for cursor in cursors)


def _progress(trial: Trial) -> str:
    applied, head = Aggregates(trial.db).lag()
    with trial.db.read() as conn:
        states = dict(conn.execute(select(ptables.publish_deliveries.c.state, func.count())
                                   .group_by(ptables.publish_deliveries.c.state)).all())
    return f"scoring applied {applied}/{head} notices; deliveries by state {states}"


# --------------------------------------------------------------------------- invariants


def check_live(trial: Trial) -> None:
    """The invariants that need the services running (after convergence)."""
    v = trial.result.violations
    db, procs, expected = trial.db, trial.procs, trial.expected
    # publish's live results equal what scoring computes now
    with db.read() as conn:
        live = {(r.unit_code, r.period_key, r.scope): (r.version, r.content_sha256) for r in conn.execute(
            select(ptables.publish_live.c.unit_code, ptables.publish_live.c.period_key, ptables.publish_live.c.scope,
                   ptables.publish_live.c.version, ptables.publish_live.c.content_sha256))}
    trial.result.live_keys = len(live)
    if not live:
        v.append("publish holds no live results")
    scoring = GrpcScoring(procs["scoring"].address, timeout=60)
    try:
        keys = [CardKey(u, PeriodRef.from_key(p), s) for u, p, s in live]
        for card in scoring.scorecards(keys):
            stored = live[(card.unit_code, card.period.key, card.scope)][1]
            if card.content_sha256() != stored:
                v.append(f"live {card.unit_code} {card.period.key} scope {card.scope} differs from scoring's")
    finally:
        scoring.close()
    # publications: once per request id, signed, with their corrections
    with grpc.insecure_channel(procs["publish"].address) as ch:
        stub = publish_pb2_grpc.PublishServiceStub(ch)
        keys = {k.key_id: k.public_key for k in stub.GetPublicKey(ppb.GetPublicKeyRequest(), timeout=30).keys}
        made, token = [], ""
        while True:
            page = stub.ListPublications(ppb.ListPublicationsRequest(page_size=100, page_token=token), timeout=30)
            made.extend(p.publication_id for p in page.publications)
            token = page.next_page_token
            if not token:
                break
        if sorted(made) != sorted(expected.publications.values()):
            v.append(f"publications {sorted(made)} != acknowledged {sorted(expected.publications.values())}")
        revisions = set()
        for pid, latest in expected.corrected.items():
            for rev in range(1, latest + 1):
                try:
                    p = stub.GetPublication(ppb.GetPublicationRequest(publication_id=pid, revision=rev),
                                            timeout=30).publication
                except grpc.RpcError as err:
                    v.append(f"publication {pid} revision {rev}: {err.code().name}")
                    continue
                revisions.add((pid, rev))
                if not verify(keys.get(p.key_id, b""), p.payload, p.signature):
                    v.append(f"publication {pid} revision {rev}: signature does not verify")
        trial.result.publications = len(expected.publications)
        trial.result.corrections = sum(n - 1 for n in expected.corrected.values())
        # the change feed: every entry once, live versions strictly increasing, ending at publish's
        # latest live versions
        cursors, versions, cursor = [], [], ""
        while True:
            page = stub.ListChanges(ppb.ListChangesRequest(cursor=cursor, page_size=1000), timeout=30)
            if not page.changes:
                break
            cursors.extend(c.cursor for c in page.changes)
            versions.extend(c.scorecard.version for c in page.changes if c.scorecard.version)
            cursor = page.next_cursor
        if len(set(cursors)) != len(cursors) or any(b <= a for a, b in zip(versions, versions[1:], strict=False)):
            v.append("publish's change feed repeats an entry or is out of order")
        if max(versions, default=0) != max((ver for ver, _ in live.values()), default=0):
            v.append("publish's change feed does not end at its latest live result")
    # deliveries: all made; the portal holds each once, in order, with the latest live versions
    with db.read() as conn:
        d = ptables.publish_deliveries.c
        rows = conn.execute(select(d.delivery_id, d.sequence, d.state, d.attempts)
                            .where(d.subscription_id == SUBSCRIPTION).order_by(d.sequence)).all()
        subtree = {SUBSCRIBED} | {c for (c,) in conn.execute(select(schema.units.c.code).where(
            schema.units.c.code.like(f"{SUBSCRIBED}.%")))}
    trial.result.deliveries = len(rows)
    trial.result.extra_attempts = sum(max(0, r.attempts - 1) for r in rows)
    if [r.sequence for r in rows] != list(range(1, len(rows) + 1)):
        v.append("publish's deliveries are not numbered 1…N")
    undelivered = [r.sequence for r in rows if r.state != ppb.DELIVERY_STATE_DELIVERED]
    if undelivered:
        v.append(f"{len(undelivered)} deliveries not made (first: #{undelivered[0]})")
    portal = sqlite3.connect(trial.portal_db)
    try:
        got = portal.execute("SELECT delivery_id, sequence FROM received WHERE subscription_id = ? ORDER BY arrival",
                             (SUBSCRIPTION,)).fetchall()
        portal_live = {(u, p, s): ver for u, p, s, ver in portal.execute(
            "SELECT unit_code, period, scope, version FROM live")}
        portal_pubs = set(portal.execute("SELECT publication_id, revision FROM publications").fetchall())
    finally:
        portal.close()
    if [s for _, s in got] != list(range(1, len(got) + 1)):
        v.append("the portal did not receive its deliveries once each in sequence order")
    if Counter(i for i, _ in got) != Counter(r.delivery_id for r in rows):
        v.append(f"the portal holds {len(got)} deliveries, publish made {len(rows)} (ids differ)")
    want_live = {(u, p, tpb.Scope.Name(s)): ver for (u, p, s), (ver, _) in live.items() if u in subtree}
    if portal_live != want_live:
        wrong = sorted(set(portal_live.items()) ^ set(want_live.items()))[:3]
        v.append(f"the portal's live results are not publish's latest for {SUBSCRIBED} (e.g. {wrong})")
    if portal_pubs != revisions:
        v.append(f"the portal holds publications {sorted(portal_pubs)}, expected {sorted(revisions)}")


def check_stored(trial: Trial) -> None:
    """The invariants on the database (services stopped): acknowledged records stored at their
    newest version; scoring's aggregates complete and equal to a rebuild."""
    v, db, expected = trial.result.violations, trial.db, trial.expected
    d = schema.dossiers.c
    with db.read() as conn:
        stored = dict(conn.execute(select(d.code, d.source_time)).all())
    lost = [c for c in expected.newest if c not in stored]
    older = [c for c, t in expected.newest.items() if c in stored and stored[c] != t]
    if lost:
        v.append(f"{len(lost)} acknowledged dossiers lost (e.g. {lost[:3]})")
    if older:
        v.append(f"{len(older)} dossiers not at their newest acknowledged version (e.g. {older[:3]})")
    applied, head = Aggregates(db).lag()
    if applied != head:
        v.append(f"scoring applied notices up to {applied} of {head}")
    before = _score_tables(db)
    if not before["score_dossiers"]:
        v.append("scoring holds nothing")
    Aggregates(db).rebuild()
    after = _score_tables(db)
    for name in before:
        if before[name] != after[name]:
            diff = len(set(before[name]) ^ set(after[name]))
            v.append(f"scoring's {name} differs from a rebuild ({diff} rows)")


def check_logs(trial: Trial) -> None:
    """No call inside the suite failed unexpectedly (INTERNAL: the servers log "unexpected error"
    with the exception; clients here would retry it, so only the logs show it)."""
    for log in sorted(trial.work.glob("*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"event": "unexpected error"' in line:
                last = json.loads(line).get("exception", "").strip().splitlines()[-1:] if line.startswith("{") else []
                what = last[0][:200] if last else line[:200]
                trial.result.violations.append(f"{log.stem}: unexpected error ({what})")


def _score_tables(db: Database) -> dict[str, list[tuple]]:
    with db.read() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(t.select())) for t in SCORE_TABLES}


# --------------------------------------------------------------------------- report


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def render(results: list[TrialResult], command: str, settings: str) -> list[str]:
    kinds = Counter(f.kind for r in results for f in r.faults)
    violations = [(r.trial, x) for r in results for x in r.violations]
    failures = sum((r.failures for r in results), Counter())
    restarts = {name: [s for r in results for s in r.restarts.get(name, [])] for name in KILLS}
    converge = [r.converge_seconds for r in results if r.converge_seconds == r.converge_seconds]
    lines = [
        "# Fault trials",
        "",
        f"Measured by `{command}` on {datetime.now(data.HANOI):%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh); machine: "
        f"{machine()}. {settings}",
        "",
        "Each trial starts ingest, scoring, publish and the reference portal as their own processes on a fresh "
        "database, pushes dossier records of two provinces from two clients (retrying every failed call under "
        "its request id until acknowledged), has an operator create two official publications and correct one, "
        "and meanwhile injects faults one after another at random moments; then waits for the pipeline to "
        "converge and checks every invariant (`tools/faults.py` lists them). Nothing here is assumed: each figure "
        "is counted in the run.",
        "",
        "## Summary",
        "",
        f"- **Trials: {len(results)}; faults injected: {sum(kinds.values())}; invariant violations: "
        f"{len(violations)}.**",
        f"- Records acknowledged: {sum(r.records for r in results if r.acked_batches == r.batches):,} in "
        f"{sum(r.acked_batches for r in results):,} batches; retries answered with the stored answer (the first "
        f"acknowledgement was lost to a kill): {sum(r.replayed for r in results)}.",
        "- Failed calls seen by clients, by status (each retried): "
        + (", ".join(f"{k} {n}" for k, n in failures.most_common()) or "none") + ".",
        f"- Official publications: {sum(r.publications for r in results)} created and "
        f"{sum(r.corrections for r in results)} corrected, each once, signatures verified.",
        f"- Deliveries to the portal: {sum(r.deliveries for r in results):,}, each stored once (the portal "
        "drops a repeated delivery id) and in order, sequences 1…n without a gap; "
        f"attempts beyond the first (redeliveries after faults): {sum(r.extra_attempts for r in results):,}.",
        f"- Convergence after the last fault (scoring applied every notice, publish followed scoring to the "
        f"end, every delivery made): median {statistics.median(converge) if converge else float('nan'):.1f} s, "
        f"p95 {_pct(converge, 0.95):.1f} s, max {max(converge, default=float('nan')):.1f} s.",
        "",
        "| fault | injected |",
        "|---|---:|",
        *(f"| {k} | {kinds.get(k, 0)} |" for k in FAULT_KINDS),
        "",
        "| service | restarts | start to SERVING, median | max |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {len(s)} | {statistics.median(s) if s else float('nan'):.2f} s | "
          f"{max(s, default=float('nan')):.2f} s |" for name, s in restarts.items()),
        "",
        "## Trials",
        "",
        "| # | seed | backend | faults | records | batches (replayed) | failed calls | deliveries (extra attempts) "
        "| live keys | converged | violations |",
        "|---:|---:|---|---:|---:|---|---:|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.trial} | {r.seed} | {r.backend} | {len(r.faults)} | {r.records:,} | "
                     f"{r.acked_batches}/{r.batches} ({r.replayed}) | {sum(r.failures.values())} | "
                     f"{r.deliveries:,} ({r.extra_attempts}) | {r.live_keys} | {r.converge_seconds:.1f} s | "
                     f"{len(r.violations)} |")
    lines += ["", "## Violations", ""]
    lines += [f"- trial {t}: {x}" for t, x in violations] or ["None."]
    return lines + ["", NOT_COVERED]


NOT_COVERED = """## What these trials do not cover

- The database's own crash: a restart is `pg_ctlcluster … restart` (a fast shutdown: connections are
  terminated, committed work is on disk), not a kill -9 of PostgreSQL or of the machine; durability of a
  commit is PostgreSQL's (fsync on), SQLite's (WAL) and the disk's.
- Network partitions and slow networks (every process is on loopback); a portal that answers wrongly (the
  delivery tests cover refusals and bad signatures: `tests/integration/test_publish_delivery.py`).
- Several replicas of a service at once (covered by `test_ingest_replicas.py`, `test_scoring_crash.py` and the
  two-replica delivery test in `test_publish_delivery.py`).
- Faults overlap only when "all three services" are killed together; otherwise one fault at a time."""


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt  # unwinds: processes stopped, the trial's schema dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=15, help="trials per backend")
    parser.add_argument("--backends", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
    parser.add_argument("--seed", type=int, default=1, help="first trial's seed (each next trial: + 1)")
    parser.add_argument("--records", type=int, default=12_000, help="dossier records per trial")
    parser.add_argument("--load-seconds", type=float, default=30.0, help="how long each trial's load runs")
    parser.add_argument("--database-restarts", action="store_true",
                        help="also restart the PostgreSQL cluster (pg_ctlcluster) among the faults")
    parser.add_argument("--write", type=Path, help="write the report (e.g. FAULTS.md)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"postgresql", "sqlite"}:
        parser.error("--backends takes postgresql and/or sqlite")
    if args.database_restarts and database_restart_command() is None:
        parser.error("--database-restarts needs pg_ctlcluster (a local PostgreSQL cluster)")
    signal.signal(signal.SIGTERM, _interrupt)
    results = []
    plan = [(backend, n) for backend in backends for n in range(1, args.trials + 1)]
    for number, (backend, n) in enumerate(plan, start=1):
        seed = args.seed + number - 1
        print(f"[faults] trial {number}/{len(plan)} ({backend} {n}/{args.trials}, seed {seed})", flush=True)
        r = run_trial(number, seed, backend, args.records, args.load_seconds, args.database_restarts,
                      progress=lambda s: print(s, flush=True))
        results.append(r)
        print(f"  {len(r.faults)} faults, converged in {r.converge_seconds:.1f} s, {len(r.violations)} violations"
              + "".join(f"\n  ! {x}" for x in r.violations), flush=True)
    command = "python -m tools.faults " + " ".join(argv if argv is not None else sys.argv[1:])
    settings = (f"{args.records:,} dossier records per trial over {args.load_seconds:.0f} s, a fault every "
                f"0.5–3 s; services with their default settings except a fixed publish replica id (a restarted "
                f"container keeps its pod's name) and 0.2 s delivery polling."
                + (" Database restarts (PostgreSQL trials) included." if args.database_restarts else ""))
    lines = render(results, command.strip(), settings)
    if args.write:
        args.write.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:20]))
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
