"""Fault trials: kill -9 each service at random moments under load, restart it, and check that
nothing acknowledged was lost and nothing took effect twice.

One trial, on a fresh database (a PostgreSQL schema by default, or a SQLite file):

1. ingest, scoring, publish and the reference portal start as their own processes
   (``python -m services.<name>.server``; ``python -m services.publish.receiver serve``), each on
   a port it keeps across restarts; the portal subscribes to one province's subtree (Phú Thọ, H25)
   for both feeds.
2. **Load**: two client threads push dossier records of two provinces (the national generator's)
   in batches, paced over the load window, the two provinces' batches interleaved:

   * Phú Thọ (H25), **last month**: each finished dossier sent twice — received, then finished —
     so its notices take scoring's *recent* lane (``services.scoring.storage.is_recent``); of its
     unfinished dossiers every other one is **due during the trial** (10–40 s after the load
     starts: scoring's due ticker, ``CHISO_SCORING_DUE_TICK_SECONDS`` = 1 here, must announce each
     as its deadline passes), the others due well after it;
   * Quảng Ninh (H22), a **backfill of three months ago**: every dossier finished, sent twice —
     the source system's first answer (no rating, no electronic result), then corrected an hour
     later — so its notices (months three and two back) take the *past* lane, applied in bounded
     transactions between the recent lane's.

   A call that fails is retried with the same request id until it is acknowledged, as a
   ministry system would; every status code seen is counted.
3. **Operator**: during the load an operator creates official publications of last month (the
   province's communes; the provinces) and corrects one, each retried under its request id.
4. **Faults**, one after another at random moments while the load runs: SIGKILL of ingest, of
   scoring, of publish, of the portal (each restarted after 0–1.5 s), of all three services at once,
   a portal outage (down 3–10 s), and — on PostgreSQL, where allowed — a restart of the database
   cluster (``--database-restarts``; with ``--postgres-cluster NAME`` a private cluster, below).
5. After the load: wait until scoring has applied every change notice, publish has followed
   scoring's feed to its end, the due ticker has passed the last deadline of the trial and every
   delivery has been made (the *convergence* time, measured from the end of the last fault), then
   check the invariants below, stop every process with SIGTERM (each must exit 0), rebuild
   scoring's aggregates from the stored dossiers and compare.

Invariants (each breach is reported as a violation; a trial passes with none):

- every acknowledged record is stored, at the newest acknowledged version (``source_time``);
- every call failed only as UNAVAILABLE or DEADLINE_EXCEEDED (retryable), never otherwise;
- scoring has applied every change notice (both lanes), and its aggregates equal a rebuild from the
  stored dossiers (nothing applied twice, nothing missed);
- publish's live results equal what scoring computes now, key for key (content hash) — after the
  due ticker passed every deadline of the trial, so a tick lost to a kill would show here;
- every acknowledged publication and correction exists once per request id, with a signature
  that verifies with publish's public key; publish's change feed is strictly increasing;
- every delivery was made; the portal holds each delivery once, in sequence order 1…N with no gap;
  its live results are publish's latest versions of the subscribed subtree and it holds every
  publication revision;
- every process exits 0 on SIGTERM, and none logged an unexpected error (a call failing INTERNAL).

    .venv/bin/python -m tools.faults [--trials 15] [--backends postgresql,sqlite] [--seed 1]
                                     [--load-seconds 30] [--records 12000] [--database-restarts]
                                     [--postgres-cluster faults [--postgres-port 5433]]
                                     [--write FAULTS.md]

``make faults`` runs the default set on a private cluster and writes FAULTS.md (its "Fuzzing every
RPC" section, ``make fuzz``'s, is kept), naming the commit measured.

**Database restarts** run only with ``--database-restarts``. Without ``--postgres-cluster`` the
PostgreSQL trials use ``CHISO_BENCH_PG_URL`` (default the machine's cluster on 127.0.0.1:5432) and a
restart is ``pg_ctlcluster <version> main restart`` — the machine's whole cluster: nothing else may
use it meanwhile. With ``--postgres-cluster NAME`` the trials use a private Debian cluster instead:
created if missing (``pg_createcluster <version> NAME --port PORT -- --auth=trust``, as root or the
postgres user), started if down (``pg_ctlcluster <version> NAME start``), a database ``chiso_faults``
created in it; the restarts restart only that cluster (``pg_ctlcluster <version> NAME restart``), so
other users of the machine's PostgreSQL are never disturbed. The cluster is left running (drop it
with ``pg_dropcluster --stop <version> NAME``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
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
from sqlalchemy import create_engine, func, select, text

from services.demo import data
from services.publish import storage as publish_storage
from services.publish import tables as ptables
from services.publish.domain.documents import CardKey, PeriodRef
from services.publish.scoring_client import GrpcScoring
from services.publish.signing import Signer, verify
from services.scoring import tables as scoring_tables
from services.scoring.storage import Aggregates, is_recent
from services.shared import access, schema
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from services.shared.records import OPEN_MONTH
from tools import bench
from tools.bench import database, machine
from tools.bench_pipeline import two_versions

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".faults"
PROVINCES = ("H25", "H22")  # Phú Thọ (subscribed) and Quảng Ninh (not: its items must not reach the portal)
SUBSCRIBED = "H25"  # its load is last month's (scoring's recent lane), the publications' month
BACKFILL = "H22"  # its load is a backfill of BACKFILL_MONTHS_BACK months ago (scoring's past lane)
BACKFILL_MONTHS_BACK = 3
DUE_DURING = (10.0, 40.0)  # unfinished dossiers due this many seconds after the load starts (every other one)
DUE_TICK_SECONDS = "1"  # scoring's due ticker interval in the trials (default 5)
FAULTS_DATABASE = "chiso_faults"  # the database made in a private cluster (--postgres-cluster)
SUBSCRIPTION = "portal-phu-tho"
BATCH = 200
CALL_TIMEOUT = 10.0
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
CLIENT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 1000)]
SCORE_TABLES = scoring_tables.AGGREGATES

KILLS = ("ingest", "scoring", "publish", "portal")
FAULT_KINDS = (*(f"kill -9 {k}" for k in KILLS), "kill -9 all three services", "portal outage", "database restart")


def _pg_version() -> str | None:
    versions = sorted(Path("/etc/postgresql").glob("*"), key=lambda p: (len(p.name), p.name)) \
        if Path("/etc/postgresql").exists() else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        return None
    return versions[-1].name


def database_restart_command(cluster: str = "main") -> list[str] | None:
    """``pg_ctlcluster … restart`` for a local PostgreSQL cluster (by default the machine's, ``main``),
    if there is one."""
    version = _pg_version()
    if version is None:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"]


def private_cluster(name: str, port: int) -> str:
    """Make sure a private PostgreSQL cluster ``name`` exists on ``port`` and runs (idempotent), with a
    database for the trials; its SQLAlchemy URL. Refuses the machine's own cluster (``main``) and a
    cluster of that name on another port."""
    version = _pg_version()
    if version is None or shutil.which("pg_createcluster") is None:
        raise SystemExit("--postgres-cluster needs the Debian PostgreSQL tools (pg_createcluster, pg_ctlcluster)")
    if name == "main":
        raise SystemExit("--postgres-cluster main is the machine's shared cluster; name a private one")
    listed = subprocess.run(["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True).stdout
    clusters = {(f[0], f[1]): (int(f[2]), f[3]) for f in (line.split() for line in listed.splitlines()) if len(f) >= 4}
    if (version, name) not in clusters:
        if any(p == port for p, _ in clusters.values()):
            raise SystemExit(f"port {port} is taken by another cluster ({listed.strip()})")
        subprocess.run(["pg_createcluster", version, name, "--port", str(port), "--",
                        "--auth=trust"], check=True, stdout=subprocess.DEVNULL)
        clusters[(version, name)] = (port, "down")
    have_port, status = clusters[(version, name)]
    if have_port != port:
        raise SystemExit(f"cluster {version}/{name} listens on port {have_port}, not {port}")
    if status != "online":
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
                       check=True)
    admin = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(60):  # just started: wait until it accepts connections
            try:
                with engine.connect() as conn:
                    if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                        {"n": FAULTS_DATABASE}).first():
                        conn.execute(text(f'CREATE DATABASE "{FAULTS_DATABASE}"'))
                break
            except Exception:  # noqa: BLE001 - not accepting connections yet
                time.sleep(0.5)
        else:
            raise SystemExit(f"cluster {version}/{name} on port {port} does not accept connections")
    finally:
        engine.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{FAULTS_DATABASE}"


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
        "scoring": Process("scoring", "services.scoring.server", env("scoring", DUE_TICK_SECONDS=DUE_TICK_SECONDS),
                           [], ports["scoring"],
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
    past_notices: int = 0  # change notices of scoring's past lane (the backfill)
    recent_notices: int = 0  # change notices of its recent lane
    due_passed: int = 0  # unfinished dossiers whose deadline passed during the trial (the due ticker's)
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
    due_from: int = 0  # the load's start (UTC µs): the dossiers due during the trial fall due after it
    due_until: int = 0  # the latest deadline passing during the trial (UTC µs): the due ticker must pass it
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


@dataclass
class Workload:
    units: list
    procedures: list
    unit_procedures: list
    batches: list[pb.SyncDossiersRequest]
    due_soon: dict[str, float]  # dossier code → seconds after the load starts when it falls due


def _months_back(now: datetime, n: int) -> datetime:
    day = now.replace(day=1)
    for _ in range(n):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


def _batched(records: list[pb.DossierRecord]) -> list[list[pb.DossierRecord]]:
    return [records[i:i + BATCH] for i in range(0, len(records), BATCH)]


def _workload(seed: int, records: int, now: datetime) -> Workload:
    """Two provinces' dossier records (the module docstring, step 2): ``SUBSCRIBED``'s of last month
    (every other unfinished dossier due ``DUE_DURING`` after the load starts — set then, by
    :func:`_set_due_times`), ``BACKFILL``'s of ``BACKFILL_MONTHS_BACK`` months ago (all finished,
    each sent twice), in batches that alternate between the two."""
    last = _months_back(now, 1)
    spec = data.DemoSpec(seed=seed, communes_per_province=6, year=last.year, month=last.month)
    past = _months_back(now, BACKFILL_MONTHS_BACK)
    past_spec = data.DemoSpec(seed=seed, communes_per_province=6, year=past.year, month=past.month)
    st = now - timedelta(hours=1)
    owners = set(data.OWNERS.values())  # the ministries the procedures belong to
    units = [u for u in data.units(spec, st) if u.code.split(".")[0] in (*PROVINCES, *owners)]
    codes = [u.code for u in units if u.code not in owners]
    rnd = random.Random(seed)
    far = data.ts(now + timedelta(days=60))
    due_soon: dict[str, float] = {}

    def marked(stream):
        """Every other dossier still open at the end of the generator's history falls due during the
        trial (its due time is set at the load's start); the others well after the trial."""
        for rec in stream:
            if not rec.HasField("end_time"):
                if len(due_soon) * 2 <= marked.open:
                    due_soon[rec.code] = rnd.uniform(*DUE_DURING)
                else:
                    rec.due_time.CopyFrom(far)
                marked.open += 1
            yield rec

    marked.open = 0
    recent = []
    for rec in two_versions(marked(data.dossiers([c for c in codes if c.split(".")[0] == SUBSCRIBED],
                                                 records // 2, spec, now)), lag=BATCH * 5):
        if not rec.HasField("end_time") and rec.code not in due_soon:
            rec.due_time.CopyFrom(far)  # a first version (received) or open and due after the trial
        recent.append(rec)
        if len(recent) >= records // 2:
            break
    backfill = []
    for rec in data.dossiers([c for c in codes if c.split(".")[0] == BACKFILL], records, past_spec, now):
        if not rec.HasField("end_time"):
            continue  # a backfill of the past: finished dossiers only
        first = pb.DossierRecord()
        first.CopyFrom(rec)  # the source system's first answer: no rating, no electronic result yet
        for name in ("rating", "electronic_result", "synced_with_result_file"):
            first.ClearField(name)
        rec.source_time.CopyFrom(data.ts(datetime.fromtimestamp(_us(rec.source_time) / 1e6, data.HANOI)
                                         + timedelta(hours=1)))  # corrected an hour later
        backfill.append((first, rec))
        if 2 * len(backfill) >= records - len(recent):
            break
    # each dossier's correction comes ``BATCH * 5`` records after its first answer
    past_records = [f for f, _ in backfill[:BATCH * 5 // 2]]
    for i in range(len(backfill)):
        if i + BATCH * 5 // 2 < len(backfill):
            past_records.append(backfill[i + BATCH * 5 // 2][0])
        past_records.append(backfill[i][1])
    parts = [(b, "r") for b in _batched(recent)], [(b, "p") for b in _batched(past_records)]
    interleaved = [x for pair in zip(*parts, strict=False) for x in pair]
    longer = max(parts, key=len)
    interleaved += longer[min(map(len, parts)):]
    batches = [pb.SyncDossiersRequest(request_id=f"faults-{seed}-{i}-{lane}", records=recs)
               for i, (recs, lane) in enumerate(interleaved)]
    return Workload(units, data.procedures(st), list(data.unit_procedures(units, spec, st)), batches, due_soon)


def _set_due_times(batches: list[pb.SyncDossiersRequest], due_soon: dict[str, float], start_us: int) -> int:
    """At the load's start (before any batch is sent): the due time of the dossiers due during the
    trial, ``start_us`` + their offset. The latest such deadline (UTC µs; 0 if none)."""
    latest = 0
    for request in batches:
        for rec in request.records:
            offset = due_soon.get(rec.code)
            if offset is not None:
                at = start_us + int(offset * 1_000_000)
                rec.due_time.seconds, rec.due_time.nanos = divmod(at, 1_000_000)[0], at % 1_000_000 * 1000
                latest = max(latest, at)
    return latest


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
              min_faults: int = 0, cluster: str = "main") -> TrialResult:
    """One trial; faults are injected while the load runs (``load_seconds``) and, on a slow machine where
    restarts take longer, on after it until at least ``min_faults`` have been. ``db_restarts``: restart
    the PostgreSQL ``cluster`` among the faults (the one ``tools.bench.PG_URL`` points at)."""
    result = TrialResult(number, seed, backend)
    work = WORK / f"trial-{number:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    key_file = work / "signing-key.pem"
    key_file.write_bytes(Signer.generate().private_pem())
    portal_db = work / "portal.db"
    rnd = random.Random(seed)
    now = datetime.now(data.HANOI).replace(microsecond=0)
    load = _workload(seed, records, now)
    batches = load.batches
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
            _seed(procs, source, operator, load.units, load.procedures, load.unit_procedures)
            _load_with_faults(trial, batches, load.due_soon, source, operator, rnd, load_seconds,
                              cluster if db_restarts else None, now, progress, min_faults)
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


def _load_with_faults(trial: Trial, batches, due_soon, source, operator, rnd, load_seconds, restart_cluster, now,
                      progress, min_faults: int = 0) -> None:
    """Push the load, make publications and inject faults; returns when all three are done."""
    result, expected, procs = trial.result, trial.expected, trial.procs
    stop = threading.Event()
    lock = threading.Lock()
    t0 = time.monotonic()
    expected.due_from = time.time_ns() // 1000
    expected.due_until = _set_due_times(batches, due_soon, expected.due_from)
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
    restart_db = (database_restart_command(restart_cluster)
                  if restart_cluster and trial.url.startswith("postgresql") else None)
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
    aggregates = Aggregates(trial.db)
    applied, head = aggregates.lag()
    if applied < head or (aggregates.last_tick() or 0) <= trial.expected.due_until:
        return False
    with trial.db.read() as conn:
        cursors = publish_storage.lane_cursors(conn)
        pending = conn.execute(select(func.count()).select_from(ptables.publish_deliveries).where(
            ptables.publish_deliveries.c.state != ppb.DELIVERY_STATE_DELIVERED)).scalar()
    return not pending and not any(scoring.changes(cursor, 1).keys for cursor in cursors)


def _progress(trial: Trial) -> str:
    aggregates = Aggregates(trial.db)
    applied, head = aggregates.lag()
    with trial.db.read() as conn:
        states = dict(conn.execute(select(ptables.publish_deliveries.c.state, func.count())
                                   .group_by(ptables.publish_deliveries.c.state)).all())
    return (f"scoring applied {applied}/{head} notices (lanes {aggregates.lane_cursors()}); due ticker at "
            f"{aggregates.last_tick()} (last deadline {trial.expected.due_until}); deliveries by state {states}")


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
    n = schema.change_notices.c
    sd = scoring_tables.score_dossiers.c
    with db.read() as conn:
        lanes = Counter(is_recent(r.month_from, r.month_to, r.created_at) for r in conn.execute(
            select(n.month_from, n.month_to, n.created_at)))
        # the dossiers whose deadline the trial saw pass, unfinished (the due ticker's work)
        trial.result.due_passed = conn.execute(select(func.count()).select_from(scoring_tables.score_dossiers).where(
            sd.deadline_at >= expected.due_from, sd.deadline_at <= expected.due_until, sd.em == OPEN_MONTH)).scalar()
    trial.result.recent_notices, trial.result.past_notices = lanes[True], lanes[False]
    if expected.due_until and not trial.result.due_passed:
        v.append("no unfinished dossier fell due during the trial (the due ticker had nothing to do)")
    if not lanes[False]:
        v.append("no change notice took scoring's past lane (the backfill did not exercise it)")
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


def _commit() -> str:
    """The commit measured: ``git rev-parse --short HEAD``, marked if the tree has uncommitted changes
    (tracked files other than FAULTS.md)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()
        dirty = [line for line in subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                                 check=True, capture_output=True, text=True).stdout.splitlines()
                 if not line.endswith("FAULTS.md")]
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{head}`" + (" with uncommitted changes" if dirty else "")


def render(results: list[TrialResult], command: str, settings: str, backfill_label: str = "",
           commit: str = "") -> list[str]:
    kinds = Counter(f.kind for r in results for f in r.faults)
    violations = [(r.trial, x) for r in results for x in r.violations]
    failures = sum((r.failures for r in results), Counter())
    restarts = {name: [s for r in results for s in r.restarts.get(name, [])] for name in KILLS}
    converge = [r.converge_seconds for r in results if r.converge_seconds == r.converge_seconds]
    lines = [
        "# Fault trials",
        "",
        (f"Measured at commit {commit} " if commit else "")
        + f"by `{command}` on {datetime.now(data.HANOI):%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh); machine: "
        f"{machine()}. {settings}",
        "",
        "Each trial starts ingest, scoring, publish and the reference portal as their own processes on a fresh "
        "database, pushes dossier records of two provinces from two clients (retrying every failed call under "
        "its request id until acknowledged), has an operator create two official publications and correct one, "
        "and meanwhile injects faults one after another at random moments; then waits for the pipeline to "
        "converge and checks every invariant (`tools/faults.py` lists them). Nothing here is assumed: each figure "
        "is counted in the run.",
        "",
        f"The load (changed since the previous FAULTS.md, for issue 17's new paths): Phú Thọ ({SUBSCRIBED}, the "
        "portal's subscription) sends last month's dossiers, each finished one twice (received, then finished) — "
        f"scoring's *recent* lane; Quảng Ninh ({BACKFILL}) sends a backfill of {backfill_label} "
        f"({BACKFILL_MONTHS_BACK} months back), every dossier finished and sent twice (first answer, then "
        "corrected an hour later) — scoring's *past* lane, applied in bounded transactions between the recent "
        "lane's; the two provinces' batches alternate. Every other unfinished dossier of Phú Thọ falls due "
        f"{DUE_DURING[0]:.0f}–{DUE_DURING[1]:.0f} s after the load starts, so scoring's due ticker (interval "
        f"{DUE_TICK_SECONDS} s in the trials) must announce each as its deadline passes, through the kills; the "
        "convergence wait includes the ticker passing the last such deadline, after which publish's live results "
        "must equal what scoring computes at that moment. The official publications stay on last month "
        "(Phú Thọ's communes; the provinces).",
        "",
        "## Summary",
        "",
        f"- **Trials: {len(results)}; faults injected: {sum(kinds.values())}; invariant violations: "
        f"{len(violations)}.**",
        f"- Change notices: {sum(r.recent_notices for r in results):,} through scoring's recent lane, "
        f"{sum(r.past_notices for r in results):,} through its past lane (the backfill); unfinished dossiers whose "
        f"deadline passed during a trial (the due ticker's): {sum(r.due_passed for r in results):,}.",
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
        f"- Convergence after the last fault (scoring applied every notice in both lanes, its due ticker passed "
        f"the trial's last deadline, publish followed scoring to the end, every delivery made): "
        f"median {statistics.median(converge) if converge else float('nan'):.1f} s, "
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
        "| notices recent / past | due passed | live keys | converged | violations |",
        "|---:|---:|---|---:|---:|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.trial} | {r.seed} | {r.backend} | {len(r.faults)} | {r.records:,} | "
                     f"{r.acked_batches}/{r.batches} ({r.replayed}) | {sum(r.failures.values())} | "
                     f"{r.deliveries:,} ({r.extra_attempts}) | {r.recent_notices:,} / {r.past_notices:,} | "
                     f"{r.due_passed} | {r.live_keys} | {r.converge_seconds:.1f} s | "
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
- Faults overlap only when "all three services" are killed together; otherwise one fault at a time.
- Scale: each trial's backfill is a few thousand records (some hundred past-lane notices) and some
  hundred dossiers fall due; the lanes' freshness under a 1,000,000-record backfill is `make bench`'s
  (BENCHMARKS.md, "a national day"), not measured here. Petitions and publications falling due are
  not in the load (at the commit measured they were left to publish's optional full refresh, off here)."""


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
                        help="also restart the PostgreSQL cluster (pg_ctlcluster) among the faults: the machine's "
                             "(main) unless --postgres-cluster names a private one")
    parser.add_argument("--postgres-cluster", metavar="NAME",
                        help="run the PostgreSQL trials on a private Debian cluster NAME (created and started if "
                             "needed; the only cluster --database-restarts restarts)")
    parser.add_argument("--postgres-port", type=int, default=5433, help="the private cluster's port (default 5433)")
    parser.add_argument("--write", type=Path, help="write the report (e.g. FAULTS.md; its fuzzing section is kept)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"postgresql", "sqlite"}:
        parser.error("--backends takes postgresql and/or sqlite")
    cluster = "main"
    if args.postgres_cluster:
        cluster = args.postgres_cluster
        if "postgresql" in backends:
            bench.PG_URL = private_cluster(cluster, args.postgres_port)  # tools.bench.database() makes schemas there
            print(f"[faults] PostgreSQL trials on the private cluster {cluster} ({bench.PG_URL})", flush=True)
    if args.database_restarts and database_restart_command(cluster) is None:
        parser.error("--database-restarts needs pg_ctlcluster (a local PostgreSQL cluster)")
    commit = _commit()
    signal.signal(signal.SIGTERM, _interrupt)
    results = []
    plan = [(backend, n) for backend in backends for n in range(1, args.trials + 1)]
    for number, (backend, n) in enumerate(plan, start=1):
        seed = args.seed + number - 1
        print(f"[faults] trial {number}/{len(plan)} ({backend} {n}/{args.trials}, seed {seed})", flush=True)
        r = run_trial(number, seed, backend, args.records, args.load_seconds, args.database_restarts,
                      progress=lambda s: print(s, flush=True), cluster=cluster)
        results.append(r)
        print(f"  {len(r.faults)} faults, converged in {r.converge_seconds:.1f} s, {len(r.violations)} violations"
              + "".join(f"\n  ! {x}" for x in r.violations), flush=True)
    command = "python -m tools.faults " + " ".join(argv if argv is not None else sys.argv[1:])
    settings = (f"{args.records:,} dossier records per trial over {args.load_seconds:.0f} s, a fault every "
                f"0.5–3 s; services with their default settings except a fixed publish replica id (a restarted "
                f"container keeps its pod's name), 0.2 s delivery polling and a {DUE_TICK_SECONDS} s due tick."
                + (f" PostgreSQL trials on a private cluster (`{cluster}`, port {args.postgres_port}), not the "
                   "machine's shared one." if args.postgres_cluster and "postgresql" in backends else "")
                + (f" Database restarts (PostgreSQL trials) included: `pg_ctlcluster … {cluster} restart`"
                   + (", which restarts only that private cluster." if args.postgres_cluster else
                      ", the machine's whole cluster.") if args.database_restarts else ""))
    past = _months_back(datetime.now(data.HANOI), BACKFILL_MONTHS_BACK)
    lines = render(results, command.strip(), settings, backfill_label=f"{past:%Y-%m}", commit=commit)
    if args.write:
        old = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        kept = re.search(r"^## Fuzzing every RPC.*", old, re.S | re.M)  # make fuzz's section
        args.write.write_text("\n".join(lines) + "\n" + ("\n" + kept.group(0).rstrip() + "\n" if kept else ""),
                              encoding="utf-8")
    print("\n".join(lines[:20]))
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
