"""End to end across real processes: ingest and scoring each in its own process on one database; a
ministry-like client pushes batches over gRPC; the scorecards scoring serves carry the values worked
out here, independently, from the records the client sent."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from datetime import timedelta
from fractions import Fraction as F

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tests.helpers import NOW, auth, dossier_record, hanoi, seed_units, setup_tokens, ts


def _service(module: str, prefix: str, db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = spawn(module, {f"{prefix}DATABASE_URL": db_url, f"{prefix}PORT": str(port), f"{prefix}METRICS_PORT": "-1",
                          f"{prefix}LOG_LEVEL": "WARNING"})  # fmt: skip
    wait_healthy(f"127.0.0.1:{port}", proc)
    return proc, f"127.0.0.1:{port}"


def test_pushed_batches_become_the_expected_scorecards(db_url):
    db = Database(db_url)
    tokens = setup_tokens(db)
    ingest_proc, ingest_addr = _service("services.ingest.server", "CHISO_INGEST_", db_url)
    scoring_proc, scoring_addr = _service("services.scoring.server", "CHISO_SCORING_", db_url)
    try:
        ingest = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(ingest_addr))
        scoring = scoring_pb2_grpc.ScoringServiceStub(grpc.insecure_channel(scoring_addr))
        seed_units(ingest, tokens)
        rnd = random.Random(2026)
        late = digitised = reused = total = 0
        for b in range(10):
            records = []
            for i in range(200):
                received = hanoi(2026, 9, rnd.randint(1, 20), rnd.randint(7, 16))
                took = timedelta(hours=rnd.randint(1, 24 * 9))
                rec = dossier_record(f"E-{b}-{i}", rnd.choice(["H25.01", "H25.02", "H25.X1"]), "1.004227",
                                     received=received, due_days=5, t=NOW - timedelta(minutes=10))
                rec.end_time.CopyFrom(ts(received + took))
                rec.end_state = pb.END_STATE_COMPLETED
                rec.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
                rec.digitised = rnd.random() < 0.7
                rec.reused_digitised_data = rnd.random() < 0.3
                records.append(rec)
                total += 1
                late += took > timedelta(days=5)
                digitised += rec.digitised
                reused += rec.reused_digitised_data
            r = ingest.SyncDossiers(pb.SyncDossiersRequest(request_id=f"e2e-{b}", records=records),
                                    metadata=auth(tokens.phu_tho), timeout=30)
            assert r.result.accepted_count == 200
        september = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=9)
        request = spb.GetScorecardRequest(unit_code="H25", period=september, rule_version="766/2022")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            card = scoring.GetScorecard(request, timeout=30).scorecard
            got = {i.id: i for i in card.indicators}
            if got["2.1"].denominator == total:
                break
            time.sleep(0.1)
        assert got["2.1"].denominator == total
        # worked out from the records sent: 2.1 = 20 × on time / received; 4.2 = 4 × min(1, rate / 0.8);
        # 4.3 = 2 × rate
        assert (got["2.1"].numerator, got["2.1"].denominator) == (total - late, total)
        assert F(int(got["2.1"].points_exact.numerator), int(got["2.1"].points_exact.denominator)) == F(
            20 * (total - late), total)
        assert F(int(got["4.2"].points_exact.numerator), int(got["4.2"].points_exact.denominator)) == 4 * min(
            F(1), F(digitised, total) / F(4, 5))
        assert F(int(got["4.3"].points_exact.numerator), int(got["4.3"].points_exact.denominator)) == F(
            2 * reused, total)
        assert not card.provisional and card.unit.name == "UBND tỉnh Phú Thọ"
    finally:
        for proc in (ingest_proc, scoring_proc):
            proc.send_signal(signal.SIGTERM)
        for proc in (ingest_proc, scoring_proc):
            assert proc.wait(timeout=30) == 0  # graceful shutdown on SIGTERM
        db.dispose()
