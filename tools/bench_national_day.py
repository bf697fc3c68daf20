"""A national day: freshness of ordinary traffic while the country's big events happen (issue 17 item 2,
issue 19's alert figure, SPEC §8 "real time under load").

Ingest, scoring and publish each run as their own process (``python -m services.<name>.server``) on one
database — a SQLite file under ``.bench/`` or a fresh PostgreSQL database of its own on
``CHISO_BENCH_PG_URL``'s server (created and dropped by the run). The country's catalogue is loaded
(``services.demo.data``: 3,473 units, 3,321 communes, 16 procedures and each unit's offers) with some
history of the running month, then:

* **the trickle** — ordinary traffic to one unrelated unit (``H25.X001``, a commune of Phú Thọ): a few
  new dossiers every half second, all through the run. For each trickle batch, the time from ingest's
  acknowledgement until it is visible (the commune's 2.1 denominator counts it) in (a) scoring's live
  scorecard (``GetScorecard``, the running month, polled), (b) publish's live scorecard (publish's
  ``GetScorecard``, polled) and (c) publish's change feed (``StreamChanges`` from the end);
* **the events**, one after another, each at least ``--event-seconds`` long (≥ 50 trickle batches):
  1. quiet;
  2. a backfill: another province (Hà Nội, ``H01``) sends ``--backfill`` records of last year, spread
     over its units and the year's twelve months, every dossier finished — scoring's incremental rate
     while it applies them and the rate end to end (first record sent → publish caught up);
  3. a burst: one new dossier for every other commune (3,320), pushed at once — "settled" is the time
     from the last acknowledgement until publish caught up;
  4. a catalogue re-sync: every unit, procedure and offer sent again as the demo's push sends them,
     with a newer source time — settled as for the burst.
* **alerts** (issue 19): publish evaluates early-warning alerts with its shipped settings for every
  watched unit — ``--watch units``: every unit has an e-mail recipient (the reserved ``email``
  subscription; delivery off: what is measured is evaluation); ``--watch provinces``: one portal
  subscription to the alert feed without unit codes (every top-level unit). Reported per event: units
  evaluated per second (publish's ``chiso_publish_alert_evaluations_total``) against what keeps pace
  (watched units ÷ the evaluation interval), and the delay from a unit's live scorecard changing
  (``publish_changes.created_at`` of its first version not yet evaluated) to its evaluation
  (``alert_units.evaluated_at``), both publish's own clock.

Every wait has a bound: an event that does not settle is reported as "did not settle within X s" and
the next one starts. Peak RSS of each service is read from /proc (VmHWM) and sampled every 0.5 s.

    .venv/bin/python -m tools.bench_national_day --backend sqlite|postgresql [--backfill 1000000]
        [--write BENCHMARKS.md]

Also run by ``make bench`` (``tools/bench.py --national-day-backfill``; 0 skips it).
"""

from __future__ import annotations

import argparse
import bisect
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from sqlalchemy import and_, func, select

from services.demo import data
from services.publish import storage as publish_storage
from services.publish import storage_alerts
from services.publish.domain.alerts import EMAIL_SUBSCRIPTION
from services.publish.domain.documents import FEED_ALERT
from services.publish.domain.documents import SCOPE_SUBTREE as SUBTREE  # the scope alerts read
from services.publish.domain.subscriptions import Subscription
from services.publish.tables import alert_units, publish_changes, publish_live
from services.scoring.storage import Aggregates
from services.shared import access
from services.shared.db import Database
from services.shared.processes import free_port
from tools.bench import ROOT, WORK, database, pg_reachable
from tools.bench_pipeline import (
    BATCH,
    Sampler,
    batches,
    publish_through,
    push,
    service,
    sync_catalogue,
    write_section,
)

TRICKLE_UNIT = "H25.X001"  # a commune of Phú Thọ: no other event is about it
BACKFILL_PROVINCE = "H01"  # Hà Nội's system reconnects and sends last year
# targets (issue 17 item 2, SPEC §8)
SCORING_P99_S = 2.0
PUBLISH_P99_S = 5.0
BURST_SETTLED_S = 10.0
RESYNC_SETTLED_S = 30.0
E2E_RATE = 5_000  # records/s ingest → publish caught up (PostgreSQL)
RSS_TARGET_MB = 300
POLL_PAUSE_S = 0.1
LIVE_SCOPE = tpb.SCOPE_UNIT
EVALUATIONS = "chiso_publish_alert_evaluations_total"


def section_head(backend: str) -> str:
    return f"## A national day ({'PostgreSQL' if backend == 'postgresql' else 'SQLite'})"


# --------------------------------------------------------------------------- observing the trickle


def denominator(indicators) -> int:
    return next((i.denominator for i in indicators if i.id == "2.1"), 0)


class Poller:
    """Calls ``read()`` every ``POLL_PAUSE_S`` in a thread; keeps (time after the call, value) and
    each call's duration (with the pause: the resolution of a freshness figure)."""

    def __init__(self, name: str, read: Callable[[], int]) -> None:
        self.name, self.read = name, read
        self.seen: list[tuple[float, int]] = []
        self.calls: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{name}", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                value = self.read()
            except grpc.RpcError:
                self.errors += 1
                self._stop.wait(1.0)
                continue
            t1 = time.perf_counter()
            self.calls.append(t1 - t0)
            self.seen.append((t1, value))
            self._stop.wait(POLL_PAUSE_S)

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def resolution_ms(self) -> float:
        return (statistics.median(self.calls) + POLL_PAUSE_S) * 1000 if self.calls else float("nan")


class FeedFollower:
    """Holds publish's ``StreamChanges`` open from the feed's end; keeps (time received, 2.1 denominator)
    of each change of the trickle unit's live scorecard, running month (re-opens after an error)."""

    def __init__(self, address: str, month: tpb.Period) -> None:
        self.address, self.month = address, month
        self.seen: list[tuple[float, int]] = []
        self.times: list[float] = []  # every entry streamed
        self.lags: list[tuple[float, float]] = []  # trickle unit's entries: (received, received − change_time s)
        self.reopened = 0
        self._stop = threading.Event()
        self._call = None
        self._thread = threading.Thread(target=self._run, name="feed-follower", daemon=True)

    def _run(self) -> None:
        cursor = ""
        with grpc.insecure_channel(self.address, options=[("grpc.max_receive_message_length", 64 << 20)]) as ch:
            stub = publish_pb2_grpc.PublishServiceStub(ch)
            while not self._stop.is_set():
                request = (ppb.StreamChangesRequest(cursor=cursor) if cursor
                           else ppb.StreamChangesRequest(start_at_end=True))
                self._call = stub.StreamChanges(request)
                try:
                    for message in self._call:
                        t = time.perf_counter()
                        self.times.append(t)
                        cursor = message.change.cursor or cursor
                        sc = message.change.scorecard.scorecard
                        if (sc.unit.code == TRICKLE_UNIT and sc.scope in (LIVE_SCOPE, tpb.SCOPE_UNSPECIFIED)
                                and sc.period.kind == tpb.PERIOD_KIND_MONTH and sc.period.year == self.month.year
                                and sc.period.number == self.month.number):
                            self.seen.append((t, denominator(sc.indicators)))
                            self.lags.append((t, time.time() - message.change.change_time.ToMicroseconds() / 1e6))
                except grpc.RpcError:
                    if not self._stop.is_set():
                        self.reopened += 1
                        self._stop.wait(1.0)

    def start(self) -> FeedFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._call is not None:
            self._call.cancel()
        self._thread.join(timeout=30)


class Trickle:
    """Every ``period`` seconds, ``size`` new dossiers for the trickle unit (received just now, being
    processed), through ingest; keeps (acknowledgement time, dossiers sent so far)."""

    def __init__(self, address: str, token: str, run: str, size: int, period: float) -> None:
        self.address, self.md, self.run = address, (("authorization", f"Bearer {token}"),), run
        self.size, self.period = size, period
        self.acks: list[tuple[float, int]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)

    def _records(self, k: int) -> list[ipb.DossierRecord]:
        now = datetime.now(data.HANOI)
        received = max(now - timedelta(seconds=30), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
        out = []
        for j in range(self.size):
            rec = ipb.DossierRecord(code=f"ND{self.run}-T{k:06d}-{j}", unit_code=TRICKLE_UNIT,
                                    procedure_code="1.004227", channel=ipb.CHANNEL_ONLINE,
                                    processing_state=ipb.PROCESSING_STATE_PROCESSING)
            rec.received_time.FromDatetime(received)
            rec.due_time.FromDatetime(received + timedelta(days=5))
            rec.source_time.FromDatetime(received)
            out.append(rec)
        return out

    def _run(self) -> None:
        with grpc.insecure_channel(self.address) as ch:
            stub = ingest_pb2_grpc.IngestServiceStub(ch)
            k, total, start = 0, 0, time.perf_counter()
            while not self._stop.is_set():
                pause = start + k * self.period - time.perf_counter()
                if pause > 0 and self._stop.wait(pause):
                    break
                try:
                    r = stub.SyncDossiers(ipb.SyncDossiersRequest(request_id=f"nd-{self.run}-trickle-{k}",
                                                                  records=self._records(k)),
                                          metadata=self.md, timeout=60).result
                    if r.accepted_count != self.size:
                        self.errors.append(f"batch {k}: {r.accepted_count} of {self.size} accepted")
                    else:
                        total += self.size
                        self.acks.append((time.perf_counter(), total))
                except grpc.RpcError as exc:
                    self.errors.append(f"batch {k}: {exc.code().name}")
                k += 1
                if time.perf_counter() - (start + k * self.period) > 5:  # ingest held us back: no burst to catch up
                    start = time.perf_counter() - k * self.period

    def start(self) -> Trickle:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=90)


def latencies(acks: list[tuple[float, int]], seen: list[tuple[float, int]], base: int) -> list[float | None]:
    """For each acknowledgement: seconds until the first observation (made after it) counting it;
    None if none did."""
    times = [t for t, _ in seen]
    out: list[float | None] = []
    for t_ack, count in acks:
        i = bisect.bisect_left(times, t_ack)
        while i < len(seen) and seen[i][1] - base < count:
            i += 1
        out.append(seen[i][0] - t_ack if i < len(seen) else None)
    return out


# --------------------------------------------------------------------------- observing alerts


class AlertWatch:
    """Reads publish's alert evaluation state every second: each new evaluation of a unit whose live
    scorecard changed since its last one gives a delay (its evaluation time − the recording time of
    the first live version it had not evaluated yet; both publish's clock)."""

    def __init__(self, db: Database, month_key: str, metrics_url: str, only: list[str] | None = None) -> None:
        self.db, self.month_key, self.metrics_url = db, month_key, metrics_url
        self.only = only  # the watched units, when not all
        self.delays: list[tuple[float, float]] = []  # (perf_counter when seen, delay s)
        self.last: dict[str, tuple[int, int]] = {}
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-watch", daemon=True)

    def evaluations(self) -> float:
        """publish's counter of units evaluated (NaN when unreadable)."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=10) as r:  # noqa: S310 — our http URL
                for line in r.read().decode().splitlines():
                    if line.startswith(EVALUATIONS + " "):
                        return float(line.split()[1])
        except OSError:
            pass
        return float("nan")

    def evaluated_units(self) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(alert_units)).scalar() or 0

    def changed(self, since_us: int, until_us: int) -> int:
        """Units whose running-month live scorecard (the scope alerts read) changed in this time."""
        c = publish_changes.c
        with self.db.read() as conn:
            stmt = select(func.count(func.distinct(c.unit_code))).where(
                c.period_key == self.month_key, c.scope == SUBTREE, c.created_at >= since_us, c.created_at < until_us)
            if self.only is not None:
                stmt = stmt.where(c.unit_code.in_(self.only))
            return conn.execute(stmt).scalar() or 0

    def pending(self) -> int:
        """Watched units whose live scorecard has a version not evaluated yet."""
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(publish_live.join(
                alert_units, publish_live.c.unit_code == alert_units.c.unit_code)).where(
                publish_live.c.period_key == self.month_key, publish_live.c.scope == SUBTREE,
                publish_live.c.version > alert_units.c.live_version)).scalar() or 0

    def _poll(self) -> None:
        with self.db.read() as conn:
            rows = conn.execute(select(alert_units.c.unit_code, alert_units.c.live_version,
                                       alert_units.c.evaluated_at)).all()
            t = time.perf_counter()
            for code, version, at in rows:
                before = self.last.get(code)
                self.last[code] = (version, at)
                if before is None or version == before[0] or at == before[1]:
                    continue
                c = publish_changes.c
                first = conn.execute(select(func.min(c.created_at)).where(and_(
                    c.unit_code == code, c.period_key == self.month_key, c.scope == SUBTREE,
                    c.seq > before[0], c.seq <= version))).scalar()
                if first is not None:
                    self.delays.append((t, max(0.0, (at - first) / 1e6)))

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self._poll()
            except Exception:  # noqa: BLE001 — a busy database: the next second tries again
                self.errors += 1

    def start(self) -> AlertWatch:
        self._poll()  # the state before: not counted
        self.delays.clear()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


# --------------------------------------------------------------------------- figures


@dataclass
class Event:
    name: str
    what: str
    started: float = 0.0
    ended: float = 0.0
    records: int = 0  # pushed by the event
    accepted: int = 0
    push_seconds: float = 0.0
    settle_target: float | None = None
    settle_timeout: float = 0.0
    scoring_settled: float | None = None  # s after the last acknowledgement
    publish_settled: float | None = None
    not_settled: str = ""
    scoring_ms: list[float | None] = field(default_factory=list)
    publish_ms: list[float | None] = field(default_factory=list)
    feed_ms: list[float | None] = field(default_factory=list)
    rss: dict[str, float] = field(default_factory=dict)  # max sampled during the event
    evaluations: float = float("nan")
    alert_delays: list[float] = field(default_factory=list)
    pending_at_end: int = 0
    feed_entries: int = 0
    stream_lag: list[float] = field(default_factory=list)  # change_time → received, trickle entries
    changed_units: int = -1  # watched units whose live scorecard changed during the event
    wall: tuple[int, int] = (0, 0)  # µs since the epoch
    recovered: float | None = None  # s after settling until the newest trickle batch was visible everywhere
    # backfill only
    notices_applied: int = 0
    notices_seconds: float = 0.0  # from the first record sent until scoring caught up (or the event's end)
    head_at_ack: int = 0  # newest change notice when the last record was acknowledged
    applied_before: int = 0  # scoring's applied notice when the backfill began
    scoring_through_s: float | None = None  # from the first record sent
    publish_through_s: float | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Day:
    backend: str
    command: str
    commit: str
    date: str
    load: str
    units: int = 0
    communes: int = 0
    history: int = 0
    watch: str = "units"
    watched: int = 0
    alert_poll_s: float = 30.0
    alert_interval_s: float = 600.0
    setup_seconds: float = 0.0
    setup_note: str = ""
    pending_at_start: int = 0
    load_end: str = ""
    trickle_size: int = 2
    trickle_period: float = 0.5
    backfill_year: int = 0
    events: list[Event] = field(default_factory=list)
    scoring_poll_ms: float = float("nan")
    publish_poll_ms: float = float("nan")
    feed_entries: int = 0
    peaks: dict[str, float] = field(default_factory=dict)
    trickle_errors: list[str] = field(default_factory=list)
    ingest_alone_rate: float | None = None
    wall_seconds: float = 0.0


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' (tree dirty: uncommitted changes measured)' if dirty else ' (clean tree)'}"


# --------------------------------------------------------------------------- the run


@dataclass
class Options:
    backend: str = "sqlite"
    backfill: int = 1_000_000
    history: int = 50_000
    event_seconds: float = 30.0
    min_samples: int = 50
    trickle_size: int = 2
    trickle_period: float = 0.5
    watch: str = "units"
    communes_per_province: int | None = None
    setup_timeout: float = 300.0
    backfill_timeout: float = 360.0
    burst_timeout: float = 120.0
    resync_timeout: float = 180.0
    alert_poll_seconds: float = 30.0  # publish's default
    alert_setup_timeout: float = 180.0  # after scoring and publish caught up with the setup
    recover_timeout: float = 120.0  # after settling, until the trickle is visible everywhere again


def run(work: Path, o: Options, command: str, progress=print) -> Day:
    wall = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    tag = f"[national day {o.backend}]"
    now = datetime.now(data.HANOI).replace(microsecond=0)
    spec = data.DemoSpec(year=now.year, month=now.month, communes_per_province=o.communes_per_province)
    st = now - timedelta(minutes=30)
    units = data.units(spec, st)
    codes = [u.code for u in units]
    month = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=now.year, number=now.month)
    month_key = f"{now.year:04d}-{now.month:02d}"
    day = Day(o.backend, command, git_commit(), now.strftime("%Y-%m-%d %H:%M %Z"),
              " / ".join(f"{x:.2f}" for x in os.getloadavg()), units=len(units),
              communes=sum(1 for u in units if u.kind == tpb.UNIT_KIND_COMMUNE), history=o.history, watch=o.watch,
              trickle_size=o.trickle_size, trickle_period=o.trickle_period, backfill_year=now.year - 1,
              alert_poll_s=o.alert_poll_seconds)
    run_id = uuid.uuid4().hex[:6]
    key_file = work / "signing-key.pem"
    if not key_file.exists():
        from services.publish.signing import Signer

        key_file.write_bytes(Signer.generate().private_pem())
    with database(o.backend, "nationalday", own_database=True) as url, ExitStack() as stack:
        db = Database(url)
        stack.callback(db.dispose)
        with db.write() as conn:
            access.ensure_principal(conn, "bench", access.SOURCE, "Nguồn đo hiệu năng: một ngày toàn quốc")
            access.set_grants(conn, "bench", ["*"])
            token = access.issue_token(conn, "bench").token
            access.ensure_principal(conn, "bench-ops", access.OPERATOR, "Vận hành đo hiệu năng")
            ops_token = access.issue_token(conn, "bench-ops").token
            # alerts: who is watched
            if o.watch == "units":
                for c in codes:
                    storage_alerts.add_recipient(conn, c, f"vp@{c.lower()}.bench.invalid", 0)
                publish_storage.insert_subscription(conn, Subscription(
                    EMAIL_SUBSCRIPTION, "Thư điện tử cảnh báo sớm", "127.0.0.1:9", feeds=frozenset({FEED_ALERT})), 0)
            else:
                publish_storage.insert_subscription(conn, Subscription(
                    "bench-portal", "Cổng đo hiệu năng", "127.0.0.1:9", feeds=frozenset({FEED_ALERT})), 0)
        day.watched = len(codes) if o.watch == "units" else sum(1 for u in units if not u.parent_code)
        md = (("authorization", f"Bearer {token}"),)

        # ---- setup: catalogue and history through ingest, then scoring and publish catch up
        progress(f"{tag} setup: catalogue of {len(units):,} units and {o.history:,} records of {month_key} …")
        ingest = stack.enter_context(service("ingest", url, {}, work))
        started = time.perf_counter()
        sync_catalogue(ingest.address, md, units, spec, st, tag="setup-")
        if o.history:
            push(ingest.address, token, batches(codes, o.history, spec, now - timedelta(minutes=20), "history"))
        scoring = stack.enter_context(service("scoring", url, {}, work))
        metrics_port = free_port()
        penv = {"CHISO_PUBLISH_SCORING_TARGET": scoring.address, "CHISO_PUBLISH_SIGNING_KEY_FILE": str(key_file),
                "CHISO_PUBLISH_SCORING_TIMEOUT_SECONDS": "600", "CHISO_PUBLISH_SCORING_TOKEN": ops_token,
                "CHISO_PUBLISH_METRICS_PORT": str(metrics_port), "CHISO_PUBLISH_DELIVER": "false",
                "CHISO_PUBLISH_ALERT_POLL_SECONDS": str(o.alert_poll_seconds)}
        publish = stack.enter_context(service("publish", url, penv, work))
        services = [ingest, scoring, publish]
        sampler = stack.enter_context(Sampler(services))
        watch = AlertWatch(db, month_key, f"http://127.0.0.1:{metrics_port}/metrics",
                           None if o.watch == "units" else [u.code for u in units if not u.parent_code])
        sch = stack.enter_context(grpc.insecure_channel(scoring.address))
        pch = stack.enter_context(grpc.insecure_channel(publish.address))
        sstub, pstub = scoring_pb2_grpc.ScoringServiceStub(sch), publish_pb2_grpc.PublishServiceStub(pch)

        def scoring_value() -> int:
            return denominator(sstub.GetScorecard(spb.GetScorecardRequest(
                unit_code=TRICKLE_UNIT, period=month, scope=LIVE_SCOPE), timeout=30).scorecard.indicators)

        def publish_value() -> int:
            try:
                r = pstub.GetScorecard(ppb.GetScorecardRequest(unit_code=TRICKLE_UNIT, period=month,
                                                               scope=LIVE_SCOPE), timeout=30)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    return 0
                raise
            return denominator(r.scorecard.scorecard.indicators)

        def settled_setup() -> bool:
            head = Aggregates(db).lag()[1]
            return (Aggregates(db).lag()[0] >= head and publish_through(db, scoring, now_us())
                    and publish_value() == scoring_value())

        if not wait_for(settled_setup, o.setup_timeout, progress, lambda: status(db, watch, day.watched)):
            day.setup_note = (f"scoring and publish had not caught up with the setup within "
                              f"{o.setup_timeout:.0f} s; the events started anyway")
            progress(f"  {day.setup_note}")
        # then alert evaluation: every watched unit evaluated at its current live scorecard (its own bound)
        elif not wait_for(lambda: watch.evaluated_units() >= day.watched and watch.pending() == 0,
                          o.alert_setup_timeout, progress, lambda: status(db, watch, day.watched)):
            day.setup_note = (f"alert evaluation had not caught up with the setup {o.alert_setup_timeout:.0f} s after "
                              "scoring and publish had; the events started anyway")
            progress(f"  {day.setup_note}")
        day.setup_seconds = time.perf_counter() - started
        day.pending_at_start = safe(watch.pending, -1)
        progress(f"  setup {day.setup_seconds:.0f} s")
        base = scoring_value()

        # ---- the trickle and its observers, all through the events
        trickle = Trickle(ingest.address, token, run_id, o.trickle_size, o.trickle_period).start()
        pollers = [Poller("scoring", scoring_value).start(), Poller("publish", publish_value).start()]
        feed = FeedFollower(publish.address, month).start()
        watch.start()

        def visible(count: int) -> bool:
            """Scoring, publish's live scorecard and its feed have all counted ``count`` trickle dossiers."""
            return all(ob.seen and ob.seen[-1][1] - base >= count for ob in (*pollers, feed))

        # warm-up: the observers see the trickle before the first event
        if not (wait_for(lambda: len(trickle.acks) >= 2, 60, progress)
                and wait_for(lambda: visible(trickle.acks[1][1]), 60, progress)):
            progress("  the trickle was not visible everywhere within 60 s of its start; the events start anyway")

        def event(ev: Event, action: Callable[[], None] | None = None, settle: bool = False) -> None:
            """Run one event: its action (pushes) in a thread, then (``settle``) wait until scoring and
            publish caught up with everything acknowledged, bounded; and as long as the trickle needs."""
            day.events.append(ev)
            n = len(day.events)
            progress(f"{tag} event {n}/4 {ev.name}: {ev.what} …")
            ev.started, wall0 = time.perf_counter(), now_us()
            marks = {s.name: len(s.samples) for s in services}
            evals0, acks0, entries0 = watch.evaluations(), len(trickle.acks), len(feed.times)
            done = threading.Event()
            failure: list[BaseException] = []

            def act() -> None:
                try:
                    if action:
                        action()
                except BaseException as exc:  # noqa: BLE001 — reported by the main thread
                    failure.append(exc)
                finally:
                    done.set()

            threading.Thread(target=act, name=f"event-{ev.name}", daemon=True).start()
            while not done.wait(30):  # every RPC of a push has a deadline: it ends
                now_s = safe(lambda: status(db, watch, day.watched), "?")
                progress(f"  … {time.perf_counter() - ev.started:.0f} s: {now_s}")
            if failure:
                raise failure[0]
            if settle:
                last_ack = time.perf_counter()
                head = ev.head_at_ack = Aggregates(db).lag()[1]
                ok = wait_for(lambda: Aggregates(db).lag()[0] >= head, ev.settle_timeout, progress,
                              lambda: status(db, watch, day.watched))
                if ok:
                    ev.scoring_settled = time.perf_counter() - last_ack
                    moment = now_us()
                    left = ev.settle_timeout - ev.scoring_settled
                    if wait_for(lambda: publish_through(db, scoring, moment), left, progress,
                                lambda: status(db, watch, day.watched)):
                        ev.publish_settled = time.perf_counter() - last_ack
                if ev.publish_settled is None:
                    how = ("scoring had not caught up" if ev.scoring_settled is None
                           else f"scoring caught up after {ev.scoring_settled:.1f} s, publish had not")
                    ev.not_settled = f"did not settle within {ev.settle_timeout:g} s ({how})"
                    progress(f"  {ev.not_settled}")
                else:
                    progress(f"  settled: scoring {ev.scoring_settled:.1f} s, publish {ev.publish_settled:.1f} s "
                             "after the last acknowledgement")
            # the event's consequences: until the newest trickle batch is visible everywhere again
            mark = time.perf_counter()
            newest = trickle.acks[-1][1] if trickle.acks else 0
            left = o.recover_timeout
            if wait_for(lambda: visible(newest), left, progress, lambda: status(db, watch, day.watched)):
                ev.recovered = time.perf_counter() - mark
            else:
                progress(f"  the trickle was not visible everywhere again within {left:.0f} s")
            # long enough for the trickle
            floor = time.perf_counter() + max(60.0, 4 * o.event_seconds)
            while ((time.perf_counter() - ev.started < o.event_seconds or len(trickle.acks) - acks0 < o.min_samples)
                   and time.perf_counter() < floor):
                time.sleep(0.2)
            ev.ended = time.perf_counter()
            ev.wall = (wall0, now_us())
            ev.evaluations = watch.evaluations() - evals0
            ev.pending_at_end = safe(watch.pending, -1)
            ev.rss = {s.name: max(s.samples[marks[s.name]:], default=float("nan")) for s in services}
            ev.feed_entries = sum(1 for t in feed.times[entries0:] if t < ev.ended)
            k = sum(1 for t, _ in trickle.acks if ev.started <= t < ev.ended)
            progress(f"  {ev.seconds:.0f} s, {k} trickle batches")

        # 1. quiet
        event(Event("quiet", "ordinary traffic only"))

        # 2. backfill
        year = now.year - 1
        province = [c for c in codes if c == BACKFILL_PROVINCE or c.startswith(BACKFILL_PROVINCE + ".")]
        ev = Event("backfill", f"{BACKFILL_PROVINCE} sends {o.backfill:,} records of {year} "
                               f"({len(province)} units, twelve months, finished)",
                   records=o.backfill, settle_timeout=o.backfill_timeout)
        backfill_start: list[float] = []
        applied0: list[int] = []

        def backfill() -> None:
            per = [o.backfill // 12 + (1 if m < o.backfill % 12 else 0) for m in range(12)]
            payloads = chain.from_iterable(
                batches(province, n, data.DemoSpec(year=year, month=m + 1), now, f"nd-{run_id}-backfill-{m + 1}",
                        versions=1) for m, n in enumerate(per) if n)
            applied0.append(Aggregates(db).lag()[0])
            ev.applied_before = applied0[0]
            backfill_start.append(time.perf_counter())
            ev.push_seconds, ev.accepted, _ = push(ingest.address, token, payloads)

        event(ev, backfill if o.backfill else None, settle=bool(o.backfill))
        if o.backfill and ev.scoring_settled is not None:
            acked = backfill_start[0] + ev.push_seconds
            ev.scoring_through_s = acked + ev.scoring_settled - backfill_start[0]
            if ev.publish_settled is not None:
                ev.publish_through_s = acked + ev.publish_settled - backfill_start[0]
        if o.backfill and ev.scoring_through_s is not None:
            ev.notices_applied, ev.notices_seconds = ev.head_at_ack - applied0[0], ev.scoring_through_s
        elif o.backfill:  # scoring had not caught up: what it applied by the event's end
            ev.notices_applied = safe(lambda: Aggregates(db).lag()[0], applied0[0]) - applied0[0]
            ev.notices_seconds = ev.ended - backfill_start[0]

        # 3. burst
        communes = [u.code for u in units if u.kind == tpb.UNIT_KIND_COMMUNE and u.code != TRICKLE_UNIT]
        ev = Event("burst", f"one new dossier for each of {len(communes):,} communes, at once",
                   records=len(communes), settle_target=BURST_SETTLED_S, settle_timeout=o.burst_timeout)

        def burst() -> None:
            t = datetime.now(data.HANOI).replace(microsecond=0)
            received = max(t - timedelta(minutes=1), t.replace(day=1, hour=0, minute=0, second=0))
            recs = []
            for i, code in enumerate(communes):
                rec = ipb.DossierRecord(code=f"ND{run_id}-B{i:05d}", unit_code=code,
                                        procedure_code="1.004227",
                                        channel=ipb.CHANNEL_ONLINE, processing_state=ipb.PROCESSING_STATE_PROCESSING)
                rec.received_time.FromDatetime(received)
                rec.due_time.FromDatetime(received + timedelta(days=2))
                rec.source_time.FromDatetime(received)
                recs.append(rec)
            payloads = [ipb.SyncDossiersRequest(request_id=f"nd-{run_id}-burst-{i}", records=recs[i:i + BATCH])
                        .SerializeToString() for i in range(0, len(recs), BATCH)]
            ev.push_seconds, ev.accepted, _ = push(ingest.address, token, iter(payloads))

        event(ev, burst, settle=True)

        # 4. catalogue re-sync
        ev = Event("re-sync", f"catalogue re-sync: {len(units):,} units, {len(data.PROCEDURES)} procedures and every "
                              "unit's offers sent again (newer source time)",
                   settle_target=RESYNC_SETTLED_S, settle_timeout=o.resync_timeout)

        def resync() -> None:
            t0 = time.perf_counter()
            later = datetime.now(data.HANOI).replace(microsecond=0) - timedelta(seconds=1)
            counts = sync_catalogue(ingest.address, md, data.units(spec, later), spec, later, tag=f"nd-{run_id}-")
            ev.push_seconds = time.perf_counter() - t0
            ev.records = sum(a + b for a, b in counts.values())
            ev.accepted = sum(a for a, _ in counts.values())

        event(ev, resync, settle=True)

        # ---- the last probes, then everything stops
        trickle.stop()
        wait_for(lambda: visible(trickle.acks[-1][1] if trickle.acks else 0), 60, progress)
        for p in pollers:
            p.stop()
        feed.stop()
        watch.stop()
        day.scoring_poll_ms, day.publish_poll_ms = pollers[0].resolution_ms(), pollers[1].resolution_ms()
        day.feed_entries = len(feed.times)
        day.trickle_errors = trickle.errors
        lat = {"scoring": latencies(trickle.acks, pollers[0].seen, base),
               "publish": latencies(trickle.acks, pollers[1].seen, base),
               "feed": latencies(trickle.acks, feed.seen, base)}
        for ev in day.events:
            idx = [i for i, (t, _) in enumerate(trickle.acks) if ev.started <= t < ev.ended]
            ev.scoring_ms = [lat["scoring"][i] for i in idx]
            ev.publish_ms = [lat["publish"][i] for i in idx]
            ev.feed_ms = [lat["feed"][i] for i in idx]
            ev.alert_delays = [d for t, d in watch.delays if ev.started <= t < ev.ended]
            ev.stream_lag = [lag for t, lag in feed.lags if ev.started <= t < ev.ended]
            ev.changed_units = safe(lambda ev=ev: watch.changed(*ev.wall), -1)
        day.peaks = {s.name: s.peak() for s in services}
        day.load_end = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        sampler.__exit__(None, None, None)
    day.wall_seconds = time.perf_counter() - wall
    return day


def now_us() -> int:
    return time.time_ns() // 1000


def safe(fn, default):
    try:
        return fn()
    except Exception:  # noqa: BLE001 — a figure for the report, not worth failing the run
        return default


def wait_for(check: Callable[[], bool], timeout: float, progress, status: Callable[[], str] | None = None,
             every: float = 0.2) -> bool:
    """Whether ``check()`` became true within ``timeout`` seconds (a failing check counts as false);
    ``status()`` shown every 30 s."""
    started = shown = time.perf_counter()
    while True:
        if safe(check, False):
            return True
        now = time.perf_counter()
        if now - started >= timeout:
            return False
        if status and now - shown >= 30:
            shown = now
            progress(f"  … {now - started:.0f} s: {safe(status, '?')}")
        time.sleep(every)


def status(db: Database, watch: AlertWatch, watched: int) -> str:
    applied, head = Aggregates(db).lag()
    with db.read() as conn:
        seq = publish_storage.read_state(conn, publish_storage.CHANGES)[0]
    return (f"scoring applied notices up to {applied:,} of {head:,}; publish {seq:,} feed entries; "
            f"{safe(watch.evaluated_units, '?')}/{watched} watched units evaluated at least once, "
            f"{safe(watch.pending, '?')} changed since their last evaluation")


# --------------------------------------------------------------------------- report


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))] if s else float("nan")


def fmt_s(x: float | None) -> str:
    return "—" if x is None or x != x else (f"{x:.2f} s" if x < 10 else f"{x:,.1f} s")


def verdict_max(value: float | None, target: float, unit: str = "s") -> str:
    if value is None or value != value:
        return "**not measured**"
    if value <= target:
        return "met"
    return f"**MISSED** by {value - target:,.2f} {unit} ({value / target:.1f}× the target)"


def freshness_cell(samples: list[float | None], target: float) -> tuple[str, str]:
    seen = [x for x in samples if x is not None]
    if not samples:
        return "no trickle batch", "**not measured**"
    missing = len(samples) - len(seen)
    text = (f"{fmt_s(pct(seen, .5))} / **{fmt_s(pct(seen, .99))}** / {fmt_s(max(seen, default=None))} "
            f"({len(seen)}/{len(samples)})")
    if missing:
        return text, f"**MISSED**: {missing} of {len(samples)} batches never seen"
    return text, verdict_max(pct(seen, .99), target)


def render(d: Day) -> list[str]:
    name = "PostgreSQL" if d.backend == "postgresql" else "SQLite"
    needed = d.watched / d.alert_interval_s if d.alert_interval_s else float("nan")
    lines = [
        section_head(d.backend),
        "",
        f"Issue 17 item 2 and SPEC §8 \"real time under load\" (`tools/bench_national_day.py`). Commit "
        f"{d.commit}; {d.date}; command `{d.command}`; backend {name} (a database of its own); load average at "
        f"the start {d.load}, at the end {d.load_end} (1/5/15 min); the run took {d.wall_seconds / 60:.1f} min.",
        "",
        f"Ingest, scoring and publish each in its own process on one {name} database; the national catalogue "
        f"({d.units:,} units, {d.communes:,} communes, 16 procedures, every unit's offers) and {d.history:,} records "
        f"of the running month loaded first (then {d.setup_seconds:.0f} s until scoring, publish and alert evaluation "
        f"had caught up{'; ' + d.setup_note if d.setup_note else ''}). Each event lasts until publish has caught up "
        "with what it sent (bounded) and the newest trickle batch is visible everywhere again, and at least as long "
        "as the trickle needs for its samples. Throughout, a trickle of "
        f"{d.trickle_size} new dossiers every {d.trickle_period:g} s to `{TRICKLE_UNIT}` (a commune of Phú Thọ, no "
        "other event is about it); for each batch, the time from ingest's acknowledgement until the commune's "
        "running-month 2.1 denominator counts it in scoring's live scorecard (`GetScorecard`, polled), in "
        "publish's live scorecard (publish's `GetScorecard`, polled) and in publish's change feed (`StreamChanges` "
        f"from the end). Resolution: one scoring poll {d.scoring_poll_ms:.0f} ms, one publish poll "
        f"{d.publish_poll_ms:.0f} ms (call + {POLL_PAUSE_S * 1000:.0f} ms pause); the feed is pushed "
        f"({d.feed_entries:,} feed entries streamed in all).",
        "",
        "Freshness, p50 / **p99** / max (batches seen / sent):",
        "",
        f"| event | duration | scoring (p99 ≤ {SCORING_P99_S:g} s) | verdict | publish's live scorecard "
        f"(p99 ≤ {PUBLISH_P99_S:g} s) | verdict | publish's change feed (p99 ≤ {PUBLISH_P99_S:g} s) | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, ev in enumerate(d.events, 1):
        cells = [freshness_cell(ev.scoring_ms, SCORING_P99_S), freshness_cell(ev.publish_ms, PUBLISH_P99_S),
                 freshness_cell(ev.feed_ms, PUBLISH_P99_S)]
        lines.append(f"| {i}. {ev.what} | {ev.seconds:.0f} s | " + " | ".join(f"{a} | {b}" for a, b in cells) + " |")
    lines += ["", "The events themselves:", "", "| event | pushed | settled: scoring / **publish** caught up "
              "(after the last acknowledgement) | target | verdict | then the trickle visible everywhere again | "
              "publish's feed: entries streamed (per s); the trickle's entries from recorded to received, p50 / p99 |",
              "|---|---|---|---|---|---|---|"]
    for i, ev in enumerate(d.events, 1):
        feed = f"{ev.feed_entries:,} ({ev.feed_entries / ev.seconds:,.0f}/s)" if ev.seconds else "—"
        if ev.stream_lag:
            feed += f"; {fmt_s(pct(ev.stream_lag, .5))} / {fmt_s(pct(ev.stream_lag, .99))}"
        again = "not within the bound" if ev.recovered is None else f"after {fmt_s(ev.recovered)}"
        if ev.name == "quiet":
            lines.append(f"| {i}. quiet | — | — | — | — | {again} | {feed} |")
            continue
        pushed = (f"{ev.accepted:,} of {ev.records:,} records accepted in {ev.push_seconds:.1f} s"
                  + (f" ({ev.accepted / ev.push_seconds:,.0f}/s)" if ev.push_seconds and ev.accepted else ""))
        settled = (ev.not_settled or f"{fmt_s(ev.scoring_settled)} / **{fmt_s(ev.publish_settled)}**")
        target = f"≤ {ev.settle_target:g} s" if ev.settle_target else "—"
        verdict = (f"**MISSED** by more than {max(0.0, ev.settle_timeout - ev.settle_target):g} s"
                   if ev.not_settled and ev.settle_target
                   else verdict_max(ev.publish_settled, ev.settle_target) if ev.settle_target else "—")
        lines.append(f"| {i}. {ev.name} | {pushed} | {settled} | {target} | {verdict} | {again} | {feed} |")
    backfill = next((ev for ev in d.events if ev.name == "backfill" and ev.records), None)
    if backfill:
        limit = (f"ingest alone, Ingest section of this run: {d.ingest_alone_rate:,.0f} records/s"
                 if d.ingest_alone_rate else "ingest alone: the Ingest section of `make bench`")
        rate_in = backfill.accepted / backfill.push_seconds if backfill.push_seconds else float("nan")
        lines += ["", f"Backfill of {backfill.records:,} records ({BACKFILL_PROVINCE}, {d.backfill_year}): ingest "
                  f"acknowledged them at {rate_in:,.0f} records/s with the other services running ({limit})."]
        if backfill.scoring_through_s:
            lines.append(
                f"Scoring's incremental rate while applying them: {backfill.notices_applied:,} change notices in "
                f"{backfill.scoring_through_s:,.1f} s from the first record sent = "
                f"**{backfill.notices_applied / backfill.scoring_through_s:,.0f} notices/s, "
                f"{backfill.records / backfill.scoring_through_s:,.0f} records/s** (it cannot be faster than "
                "ingest's acknowledgements).")
        elif backfill.notices_seconds:
            rate = backfill.notices_applied / backfill.notices_seconds
            lines.append(
                "Scoring's incremental rate while applying them: it had not caught up by the event's end; it applied "
                f"{backfill.notices_applied:,} change notices (of {backfill.head_at_ack - backfill.applied_before:,} "
                f"waiting when the last record was acknowledged) in {backfill.notices_seconds:,.1f} s from the first "
                f"record sent = **{rate:,.0f} notices/s**.")
        if backfill.publish_through_s:
            e2e = backfill.records / backfill.publish_through_s
            miss = ("met" if e2e >= E2E_RATE else f"**MISSED** by {E2E_RATE - e2e:,.0f} records/s "
                    f"({1 - e2e / E2E_RATE:.0%} short)")
            lines.append(f"End to end (first record sent → publish caught up): {backfill.publish_through_s:,.1f} s = "
                         f"**{e2e:,.0f} records/s** against ≥ {E2E_RATE:,} records/s (the target is PostgreSQL's): "
                         f"{miss}.")
        else:
            lines.append(f"End to end: publish had not caught up with the backfill within "
                         f"{backfill.settle_timeout:g} s of the last acknowledgement — below "
                         f"{backfill.records / (backfill.push_seconds + backfill.settle_timeout):,.0f} records/s "
                         f"against ≥ {E2E_RATE:,}: **MISSED**.")
    who = ("every unit has an e-mail recipient" if d.watch == "units"
           else "a portal subscription to every top-level unit")
    lines += [
        "",
        f"Early-warning alerts (issue 19): {d.watched:,} units watched ({who}; "
        f"delivery off, evaluation measured), publish's {'shipped ' if d.alert_poll_s == 30 else ''}settings: "
        f"a look every {d.alert_poll_s:g} s, each unit "
        f"at least every {d.alert_interval_s:g} s besides when its live scorecard changes. Keeping pace with time "
        f"passing needs {needed:,.1f} units/s ({d.watched:,} ÷ {d.alert_interval_s:g} s); a changed scorecard is "
        f"evaluated within one look ({d.alert_poll_s:g} s, the limit of the delay) when evaluation keeps pace. "
        f"Watched units changed since their last evaluation when the events began: {d.pending_at_start:,}. "
        "Units evaluated per second is what publish did in the event: it is its capacity only where units were "
        "waiting (last column above 0); the data's demand is the units whose live scorecard changed in the event.",
        "",
        "| event | watched units whose live scorecard changed | units evaluated | per second | needed (time passing) | "
        "delay: scorecard changed → evaluated, p50 / p99 / max (evaluations) | changed, not evaluated at the event's "
        "end |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, ev in enumerate(d.events, 1):
        rate = ev.evaluations / ev.seconds if ev.seconds else float("nan")
        delays = (f"{fmt_s(pct(ev.alert_delays, .5))} / {fmt_s(pct(ev.alert_delays, .99))} / "
                  f"{fmt_s(max(ev.alert_delays))} ({len(ev.alert_delays)})" if ev.alert_delays else "none")
        lines.append(f"| {i}. {ev.name} | {ev.changed_units:,} | {ev.evaluations:,.0f} | {rate:,.1f} | {needed:,.1f} | "
                     f"{delays} | "
                     f"{ev.pending_at_end:,} |")
    lines += ["", f"| service | peak RSS (VmHWM) | ≤ {RSS_TARGET_MB} MB | highest sample by event |",
              "|---|---|---|---|"]
    for s, peak in d.peaks.items():
        by_event = ", ".join(f"{ev.name} {ev.rss.get(s, float('nan')):,.0f}" for ev in d.events)
        lines.append(f"| {s} | {peak:,.0f} MB | {verdict_max(peak, RSS_TARGET_MB, 'MB')} | {by_event} MB |")
    if d.trickle_errors:
        lines += ["", f"Trickle batches not accepted: {len(d.trickle_errors)} ({'; '.join(d.trickle_errors[:3])})."]
    return lines + [""]


# --------------------------------------------------------------------------- entry points


def command_of(o: Options) -> str:
    extra = "" if o.communes_per_province is None else f" --communes-per-province {o.communes_per_province}"
    return (f".venv/bin/python -m tools.bench_national_day --backend {o.backend} --backfill {o.backfill} "
            f"--history {o.history} --event-seconds {o.event_seconds:g} --watch {o.watch}{extra}")


def measure(work: Path, o: Options, ingest_alone_rate: float | None = None, progress=print) -> list[str]:
    """The section for one backend (``work`` removed afterwards)."""
    if o.backend == "postgresql":
        ok, why = pg_reachable()
        if not ok:
            return [section_head(o.backend), "", f"Not measured: PostgreSQL not reachable ({why}).", ""]
    shutil.rmtree(work, ignore_errors=True)
    try:
        d = run(work, o, command_of(o), progress)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    d.ingest_alone_rate = ingest_alone_rate
    return render(d)


def options(argv=None) -> tuple[Options, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="python -m tools.bench_national_day", description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--backfill", type=int, default=1_000_000, help="records of last year the backfill sends")
    p.add_argument("--history", type=int, default=50_000, help="records of the running month loaded first")
    p.add_argument("--event-seconds", type=float, default=30.0, help="least length of each event")
    p.add_argument("--min-samples", type=int, default=50, help="least trickle batches in each event")
    p.add_argument("--watch", choices=["units", "provinces"], default="units",
                   help="alerts watch every unit (e-mail recipients) or every top-level unit (a portal)")
    p.add_argument("--communes-per-province", type=int, default=None, help="a smaller country (smoke tests)")
    p.add_argument("--setup-timeout", type=float, default=300.0)
    p.add_argument("--backfill-timeout", type=float, default=360.0, help="bound on the backfill's settling")
    p.add_argument("--burst-timeout", type=float, default=120.0)
    p.add_argument("--resync-timeout", type=float, default=180.0)
    p.add_argument("--alert-setup-timeout", type=float, default=180.0,
                   help="bound on the wait for alert evaluation to catch up with the setup")
    p.add_argument("--recover-timeout", type=float, default=120.0,
                   help="bound, after an event settled, on the wait until the trickle is visible everywhere again")
    p.add_argument("--write", metavar="BENCHMARKS.md", help="put the section into this file (others kept)")
    a = p.parse_args(argv)
    return Options(a.backend, a.backfill, a.history, a.event_seconds, a.min_samples, watch=a.watch,
                   communes_per_province=a.communes_per_province, setup_timeout=a.setup_timeout,
                   backfill_timeout=a.backfill_timeout, burst_timeout=a.burst_timeout,
                   resync_timeout=a.resync_timeout, recover_timeout=a.recover_timeout,
                   alert_setup_timeout=a.alert_setup_timeout), a


def main(argv=None) -> int:
    o, a = options(argv)
    signal.signal(signal.SIGTERM, lambda s, _f: (_ for _ in ()).throw(SystemExit(128 + s)))
    WORK.mkdir(exist_ok=True)
    lines = measure(WORK / f"nationalday-{os.getpid()}", o, progress=lambda m: print(m, flush=True))
    print("\n".join(lines))
    if a.write:
        write_section(Path(a.write), lines, section_head(o.backend))
        print(f"written into {a.write}")
    return 0


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        sys.exit(main())
