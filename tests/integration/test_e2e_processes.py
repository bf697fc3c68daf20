"""End to end across real processes: ingest, scoring, publish and a reference portal each in its own
process on one database; a ministry-like client pushes batches over gRPC; the scorecards scoring
serves, publish's national pull and change feed, and what the portal receives carry the values worked
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
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.publish.receiver import report
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tests.helpers import NOW, auth, dossier_record, hanoi, seed_units, setup_tokens, signing_key_file, ts


def _service(procs: list, module: str, prefix: str, db_url: str, log, **extra: str) -> str:
    port = free_port()
    procs.append(spawn(module, {f"{prefix}DATABASE_URL": db_url, f"{prefix}PORT": str(port),
                                f"{prefix}METRICS_PORT": "-1", f"{prefix}LOG_LEVEL": "WARNING",
                                **{prefix + k: v for k, v in extra.items()}}, output=log))  # fmt: skip
    wait_healthy(f"127.0.0.1:{port}", procs[-1])
    return f"127.0.0.1:{port}"


def test_pushed_batches_become_the_expected_scorecards(db_url, tmp_path):
    db = Database(db_url)
    tokens = setup_tokens(db)
    log_path = tmp_path / "services.log"  # every process's warnings and errors, shown if the test fails
    log = log_path.open("ab")
    procs: list[subprocess.Popen] = []
    passed = False
    try:
        ingest_addr = _service(procs, "services.ingest.server", "CHISO_INGEST_", db_url, log)
        scoring_addr = _service(procs, "services.scoring.server", "CHISO_SCORING_", db_url, log)
        publish_addr = _service(procs, "services.publish.server", "CHISO_PUBLISH_", db_url, log,
                                SCORING_TARGET=scoring_addr, POLL_SECONDS="0.05", DELIVERY_POLL_SECONDS="0.05",
                                SIGNING_KEY_FILE=signing_key_file(tmp_path))
        portal_port = free_port()
        procs.append(spawn("services.publish.receiver", {}, log, args=[
            "serve", "--port", str(portal_port), "--db", str(tmp_path / "portal.db"), "--publish", publish_addr]))
        wait_healthy(f"127.0.0.1:{portal_port}", procs[-1])
        publish = publish_pb2_grpc.PublishServiceStub(grpc.insecure_channel(publish_addr))
        publish.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="e2e-sub", subscription=ppb.Subscription(
            subscription_id="portal-phu-tho", endpoint=f"127.0.0.1:{portal_port}", unit_codes=["H25"])),
            metadata=auth(tokens.operator), timeout=30)
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

        # publish's national pull and the portal show the same scorecard (the rule version in force,
        # portal/2025 for 2026) once they have caught up
        card = scoring.GetScorecard(spb.GetScorecardRequest(unit_code="H25", period=september), timeout=30).scorecard
        assert card.rule_version == "portal/2025"
        def live_from_publish():
            return publish.GetScorecard(ppb.GetScorecardRequest(
                unit_code="H25", period=september, scope=tpb.SCOPE_SUBTREE, feed=tpb.FEED_LIVE), timeout=30)

        def portal_total():
            held = {(r["unit_code"], r["scope"]): r["total"] for r in report(tmp_path / "portal.db")["live"]
                    if r["period"] == "2026-09"}
            return next((t for (u, scope), t in held.items() if u == "H25" and "SUBTREE" in scope.upper()), None)

        deadline = time.monotonic() + 60
        pulled = None
        while time.monotonic() < deadline:
            try:
                pulled = live_from_publish().scorecard.scorecard
            except grpc.RpcError:
                pulled = None
            if pulled is not None and {i.id: i for i in pulled.indicators}["2.1"].denominator == total \
                    and portal_total() == card.total.value:
                break
            time.sleep(0.1)
        assert pulled is not None
        assert ({i.id: i for i in pulled.indicators}["2.1"].numerator, pulled.total.value) == (
            total - late, card.total.value)
        assert portal_total() == card.total.value  # verified, stored by the portal
        feed, cursor = [], ""
        while True:
            page = publish.ListChanges(ppb.ListChangesRequest(cursor=cursor, page_size=100), timeout=30)
            if not page.changes:
                break
            feed.extend(page.changes)
            cursor = page.next_cursor
        last_h25 = [c.scorecard.scorecard for c in feed if c.scorecard.scorecard.unit.code == "H25"
                    and c.scorecard.scorecard.scope == tpb.SCOPE_SUBTREE
                    and c.scorecard.scorecard.period.number == 9 and c.scorecard.scorecard.period.kind == 1]
        assert last_h25 and last_h25[-1].total.value == card.total.value
        passed = True
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=30) for proc in procs]
        log.close()
        db.dispose()
        if not passed or any(codes):
            print(log_path.read_text(encoding="utf-8", errors="replace")[-20000:])
    assert codes == [0] * 4  # every process exits cleanly on SIGTERM
