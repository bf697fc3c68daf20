"""A PostgreSQL restart under load: calls during the outage fail as UNAVAILABLE (retryable, never
INTERNAL), the services recover by themselves afterwards, every acknowledged batch is stored and
scored, and scoring's aggregates equal a rebuild. Restarts the machine's PostgreSQL cluster, so it
runs only where the test may do that (CI=true, or CHISO_TEST_PG_RESTART=1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as pb

from services.scoring import tables as scoring_tables
from services.scoring.storage import Aggregates
from services.shared import schema
from services.shared.grpc_errors import details_from_rpc_error
from tests.conftest import IN_CI
from tests.helpers import auth, dossier_record, ingest_server, scoring_server, seed_units, setup_tokens, wait_scored

pytestmark = pytest.mark.postgres


def _restart_command() -> list[str] | None:
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "restart"]


def test_services_ride_out_a_database_restart(pg_url):
    command = _restart_command()
    if not (IN_CI or os.environ.get("CHISO_TEST_PG_RESTART")) or command is None:
        pytest.skip("restarts the local PostgreSQL cluster: runs under CI=true or CHISO_TEST_PG_RESTART=1")
    with ingest_server(pg_url) as (ingest, db, _), scoring_server(pg_url) as (_scoring, _h):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        acked: set[str] = set()
        refusals: list[grpc.StatusCode] = []
        stop = threading.Event()

        def client():
            for b in range(40):
                request = pb.SyncDossiersRequest(request_id=f"pg-{b}",
                                                 records=[dossier_record(f"PG-{b}-{i}") for i in range(100)])
                while not stop.is_set():
                    try:
                        ingest.SyncDossiers(request, metadata=auth(tokens.phu_tho), timeout=10)
                        acked.add(request.request_id)
                        break
                    except grpc.RpcError as err:
                        refusals.append(err.code())
                        if err.code() == grpc.StatusCode.UNAVAILABLE:
                            assert details_from_rpc_error(err)[0].reason in ("DATABASE_UNAVAILABLE", ""), err
                        time.sleep(0.2)
                time.sleep(0.05)

        worker = threading.Thread(target=client)
        worker.start()
        time.sleep(0.5)
        subprocess.run(command, check=True, timeout=120)
        worker.join(timeout=180)
        stop.set()
        assert len(acked) == 40, f"{len(acked)} of 40 acknowledged"
        print(f"refused during the restart: {len(refusals)} ({sorted(set(map(str, refusals)))})")
        assert set(refusals) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}, refusals
        wait_scored(db, timeout=60)
        with db.read() as conn:
            stored = conn.execute(schema.dossiers.select().where(schema.dossiers.c.code.like("PG-%"))).all()
        assert len(stored) == 4000
        before = {t: sorted(map(tuple, r)) for t, r in _tables(db).items()}
        Aggregates(db).rebuild()
        assert {t: sorted(map(tuple, r)) for t, r in _tables(db).items()} == before


def _tables(db):
    with db.read() as conn:
        tables = (scoring_tables.score_cells, scoring_tables.score_dossiers)
        return {t.name: conn.execute(t.select()).all() for t in tables}
