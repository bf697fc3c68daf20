"""Scoring as separate processes, killed with SIGKILL at random moments while notices pour in, and two
replicas consuming at once: after restarts the aggregates are exactly a rebuild's (nothing applied
twice, nothing lost), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
import urllib.request
from datetime import timedelta

from chiso.ingest.v1 import ingest_pb2 as pb
from sqlalchemy import func, select

from services.scoring import tables as scoring_tables
from services.scoring.storage import Aggregates
from services.shared import schema
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tests.helpers import NOW, auth, dossier_record, hanoi, ingest_server, seed_units, setup_tokens

UNITS = ["H25.01", "H25.02", "H25.X1"]


def _start_scoring(db_url: str) -> subprocess.Popen:
    port = free_port()
    proc = spawn("services.scoring.server", {
        "CHISO_SCORING_DATABASE_URL": db_url, "CHISO_SCORING_PORT": str(port), "CHISO_SCORING_METRICS_PORT": "-1",
        "CHISO_SCORING_LOG_LEVEL": "WARNING", "CHISO_SCORING_BATCH_NOTICES": "7", "CHISO_SCORING_POLL_SECONDS": "0.01",
    })  # fmt: skip
    wait_healthy(f"127.0.0.1:{port}", proc)
    return proc


def _snapshot(db: Database) -> dict:
    out = {}
    with db.read() as conn:
        for table in scoring_tables.AGGREGATES:
            out[table.name] = sorted(tuple(r) for r in conn.execute(table.select()))
    return out


def _batches(n: int) -> list[pb.SyncDossiersRequest]:
    rnd = random.Random(766)
    out = []
    for b in range(n):
        records = []
        for i in range(100):
            code = f"C-{rnd.randrange(2000)}"  # codes repeat: later batches update earlier dossiers
            rec = dossier_record(code, UNITS[rnd.randrange(3)], "1.004227",
                                 received=hanoi(2026, rnd.randint(7, 9), rnd.randint(1, 28), 9),
                                 due_days=rnd.choice([None, 3, 10]), t=NOW - timedelta(seconds=3000 - b * 10 - i % 3))
            if rnd.random() < 0.5:
                rec.end_time.CopyFrom(rec.received_time)
                rec.end_time.seconds += rnd.randint(1, 20) * 86400
                rec.end_state = pb.END_STATE_COMPLETED
                rec.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
            records.append(rec)
        out.append(pb.SyncDossiersRequest(request_id=f"crash-{b}", records=records))
    return out


def test_kill_9_during_consumption_and_two_replicas_end_at_a_rebuild(db_url):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        replicas = [_start_scoring(db_url), _start_scoring(db_url)]
        done = threading.Event()

        def push():
            for request in _batches(60):
                ingest.SyncDossiers(request, metadata=auth(tokens.phu_tho), timeout=30)
                time.sleep(0.01)
            done.set()

        pusher = threading.Thread(target=push)
        pusher.start()
        rnd = random.Random(1)
        kills = 0
        try:
            while not done.is_set() or kills < 6:
                time.sleep(rnd.uniform(0.05, 0.4))
                victim = rnd.randrange(2)
                replicas[victim].send_signal(signal.SIGKILL)
                replicas[victim].wait(timeout=10)
                kills += 1
                replicas[victim] = _start_scoring(db_url)
            pusher.join(timeout=120)
            deadline = time.monotonic() + 60
            agg = Aggregates(db)
            while time.monotonic() < deadline and agg.lag()[0] < agg.lag()[1]:
                time.sleep(0.05)
            applied, head = agg.lag()
            assert applied == head, (applied, head)
        finally:
            for proc in replicas:
                proc.send_signal(signal.SIGTERM)
            for proc in replicas:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        assert kills >= 6
        incremental = _snapshot(db)
        assert incremental["score_dossiers"], "nothing was scored"
        Aggregates(db).rebuild()
        assert _snapshot(db) == incremental


def _start_with_metrics(db_url: str) -> tuple[subprocess.Popen, int]:
    port, metrics = free_port(), free_port()
    proc = spawn("services.scoring.server", {
        "CHISO_SCORING_DATABASE_URL": db_url, "CHISO_SCORING_PORT": str(port),
        "CHISO_SCORING_METRICS_PORT": str(metrics), "CHISO_SCORING_LOG_LEVEL": "WARNING",
        "CHISO_SCORING_BATCH_NOTICES": "7", "CHISO_SCORING_POLL_SECONDS": "0.01",
    })  # fmt: skip
    wait_healthy(f"127.0.0.1:{port}", proc)
    return proc, metrics


def _applied_by(metrics_port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("chiso_scoring_notices_applied_total "):
                return int(float(line.split()[1]))
    raise AssertionError("chiso_scoring_notices_applied_total not exported")


def test_two_replicas_apply_each_notice_once_between_them(db_url):
    """No double work, no lost work: two consumers at once apply between them exactly the notices
    ingest wrote (each replica's own counter, read from its /metrics), and the result is a rebuild's."""
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        replicas = [_start_with_metrics(db_url), _start_with_metrics(db_url)]
        try:
            for request in _batches(40):
                ingest.SyncDossiers(request, metadata=auth(tokens.phu_tho), timeout=30)
            agg = Aggregates(db)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and agg.lag()[0] < agg.lag()[1]:
                time.sleep(0.05)
            with db.read() as conn:
                notices = conn.execute(select(func.count()).select_from(schema.change_notices)).scalar_one()
            applied = [_applied_by(metrics) for _, metrics in replicas]
        finally:
            for proc, _ in replicas:
                proc.send_signal(signal.SIGTERM)
            for proc, _ in replicas:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        print("notices applied by each replica:", applied, "of", notices)
        assert notices > 40 and sum(applied) == notices  # each applied once, by one of the two
        incremental = _snapshot(db)
        Aggregates(db).rebuild()
        assert _snapshot(db) == incremental
