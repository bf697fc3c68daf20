"""Ingest as a separate process killed with SIGKILL mid-load: nothing acknowledged is lost, and
after a restart the client's retries (same request ids) complete the load without double effects."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from sqlalchemy import func, select

from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from services.shared.schema import batches, dossiers
from tests.helpers import auth, dossier_record, seed_units, setup_tokens

ROOT = Path(__file__).resolve().parents[2]


def _start(db_url: str, port: int) -> subprocess.Popen:
    proc = spawn("services.ingest.server", {"CHISO_INGEST_DATABASE_URL": db_url, "CHISO_INGEST_PORT": str(port),
                                            "CHISO_INGEST_METRICS_PORT": "-1", "CHISO_INGEST_LOG_LEVEL": "WARNING"})
    wait_healthy(f"127.0.0.1:{port}", proc)
    return proc


def test_kill_9_loses_no_acknowledged_batch(db_url):
    port = free_port()
    proc = _start(db_url, port)
    db = Database(db_url)
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        requests = [pb.SyncDossiersRequest(request_id=f"load-{b}",
                                           records=[dossier_record(f"K-{b}-{i}") for i in range(500)])
                    for b in range(100)]
        acked: set[str] = set()
        stop = threading.Event()

        def client():
            for req in requests:
                while not stop.is_set():
                    try:
                        r = stub.SyncDossiers(req, metadata=auth(tokens.phu_tho), timeout=5, wait_for_ready=True)
                        assert r.result.accepted_count + r.result.stale_count == 500
                        acked.add(req.request_id)
                        break
                    except grpc.RpcError as err:
                        assert err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), err
                        time.sleep(0.05)

        worker = threading.Thread(target=client)
        worker.start()
        mid_load_kills = 0
        for _ in range(3):  # kill it three times while the client is pushing
            time.sleep(0.5)
            acked_before = set(acked)
            mid_load_kills += len(acked_before) < len(requests)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            with db.read() as conn:
                stored = set(conn.execute(select(batches.c.request_id).where(batches.c.outcome == "committed")
                                          .where(batches.c.request_id.like("load-%"))).scalars())
                for rid in acked_before:  # every acknowledged batch is durable, records and all
                    n = conn.execute(select(func.count()).select_from(dossiers)
                                     .where(dossiers.c.code.like(f"K-{rid[5:]}-%"))).scalar()
                    assert n == 500, rid
            assert acked_before <= stored
            proc = _start(db_url, port)
        worker.join(timeout=240)
        stop.set()
        assert mid_load_kills >= 1, "the load finished before any kill: make it longer"
        assert acked == {r.request_id for r in requests}
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(dossiers)).scalar() == 100 * 500
            assert conn.execute(select(func.count()).select_from(batches)
                                .where(batches.c.request_id.like("load-%"))).scalar() == 100
        channel.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0  # graceful stop on SIGTERM
        db.dispose()
