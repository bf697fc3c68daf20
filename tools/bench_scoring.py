"""Scoring benchmarks (SPEC §8): a store of N dossiers (10 million by default), then

* a full rebuild of every aggregate, beside the raw limit (the driver streaming the same rows);
* one unit's scorecard for a year (p50 / p99 over many calls through gRPC), beside the raw read of
  its cells;
* ranking all 34 provinces for a month;
* freshness: ingest and scoring as their own processes, a steady 2,000 records/s pushed through
  ingest's gRPC API, the time from ingest's acknowledgement to the change being visible in
  scoring's live scorecard (p50 / p99).

Run by ``make bench`` (``tools/bench.py``) or alone: ``python -m tools.bench_scoring --dossiers N``.
The store is written straight into the database (loading is not what is measured).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.demo.data import DEPARTMENTS, PROCEDURES, PROVINCES
from services.scoring.domain.cells import month_of
from services.scoring.domain.periods import HANOI
from services.shared import access
from services.shared.db import Database, migrate
from services.shared.processes import free_port, spawn, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
US = 1_000_000
YEAR_US = 365 * 86400 * US
COMMUNES_PER_PROVINCE = 94  # 34 × (1 + 3 departments + 94 communes) + 5 ministries ≈ 3,340 units
SOURCE = "bench-source"


@dataclass
class ScoringFigures:
    dossiers: int
    units: int
    load_seconds: float = 0.0
    rebuild_seconds: float = 0.0
    rebuild_cells: int = 0
    raw_scan_seconds: float = 0.0
    rebuild_rss_mb: float = 0.0
    unit_year_ms: list[float] = field(default_factory=list)
    unit_year_alone_ms: list[float] = field(default_factory=list)
    raw_cells_ms: list[float] = field(default_factory=list)
    live_month_ms: list[float] = field(default_factory=list)
    ranking_ms: list[float] = field(default_factory=list)
    ranking_live_ms: list[float] = field(default_factory=list)
    freshness_ms: list[float] = field(default_factory=list)
    freshness_rate: float = 0.0
    scoring_rss_mb: float = 0.0
    poll_ms: float = 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


# --- the store ---------------------------------------------------------------------------------------


def unit_rows() -> list[tuple]:
    rows = []
    for code, name in PROVINCES:
        rows.append((code, f"UBND {name}", 4, None))
        for i, dep in enumerate(DEPARTMENTS[:3], start=1):
            rows.append((f"{code}.S{i:02d}", f"{dep} {name}", 5, code))
        for i in range(1, COMMUNES_PER_PROVINCE + 1):
            rows.append((f"{code}.X{i:03d}", f"UBND xã {i} {name}", 6, code))
    for i in range(1, 6):
        rows.append((f"B{i:02d}", f"Bộ {i}", 1, None))
    return rows


def dossier_rows(units: list[str], n: int, start_us: int, span_us: int, now_us: int, seed: int) -> Iterator[tuple]:
    """Realistic-ish dossiers spread over the units (busier provinces, departments and communes)."""
    rnd = random.Random(seed)
    weights = [rnd.paretovariate(1.5) for _ in units]
    chosen = rnd.choices(units, weights=weights, k=min(n, 1_000_000))
    procs = [p[0] for p in PROCEDURES]
    day = 86400 * US
    for i in range(n):
        unit = chosen[i % len(chosen)]
        received = start_us + rnd.randrange(span_us)
        due = received + rnd.randint(1, 20) * day
        # Processing times of a few days to weeks; a dossier is still open when that has not passed yet,
        # and 0.5% stay open for good (stuck). Open dossiers are what a live moment judges at query time.
        end = received + int(rnd.expovariate(1 / (6 * day)))
        if end < now_us and rnd.random() >= 0.005:
            end_month, state, pstate = month_of(end), 1, 0
        else:
            end, end_month, state, pstate = None, None, 0, 1
        flags = rnd.getrandbits(14) & ~1 if rnd.random() < 0.97 else rnd.getrandbits(14)
        fee = 50_000 if rnd.random() < 0.3 else 0
        yield (
            SOURCE, f"D{i:09d}", unit, procs[i % len(procs)], 1 + (i % 3), received, month_of(received),
            due if rnd.random() < 0.95 else None, None, end, end_month, state, pstate,
            rnd.choice((0, 0, 0, 1, 2)), received + day, 0, fee, 1 if fee else 0, rnd.choice((0, 1, 1, 2, 3)),
            flags, now_us - YEAR_US, "bench-load",
        )  # fmt: skip


def load_store(url: str, n: int, now: datetime, progress) -> tuple[int, float]:
    """Units, procedures, offers and ``n`` dossiers from January of last year to now, written directly."""
    migrate(url)
    db = Database(url)
    now_us = int(now.timestamp()) * US
    start = datetime(now.year - 1, 1, 1, tzinfo=HANOI)
    start_us = int(start.timestamp()) * US
    units = unit_rows()
    t0 = time.monotonic()
    with db.write() as conn:
        access.ensure_principal(conn, SOURCE, access.SOURCE, SOURCE)
        access.set_grants(conn, SOURCE, ["*"])
        conn.exec_driver_sql(
            "INSERT INTO units (code, name, kind, parent_code, source_time, source_id, batch_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)" if db.dialect == "sqlite" else
            "INSERT INTO units (code, name, kind, parent_code, source_time, source_id, batch_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(*u, now_us - YEAR_US, SOURCE, "bench-load") for u in units],
        )  # fmt: skip
        mark = "?" if db.dialect == "sqlite" else "%s"
        conn.exec_driver_sql(
            f"INSERT INTO procedures (code, name, field, unit_code, issues_result_document, statutory_days, "
            f"applicants_are_individuals, source_time, source_id, batch_id) VALUES ({', '.join([mark] * 10)})",
            [(c, name, fld, "B01", doc, days, True, now_us - YEAR_US, SOURCE, "bench-load")
             for c, name, fld, days, doc in PROCEDURES],
        )  # fmt: skip
        offers = [
            (u[0], p[0], 3 if k % 2 else 2, 1, k % 3 == 0, k % 4 == 0, True, k % 2 == 0, k == 2, True,
             now_us - YEAR_US, SOURCE, "bench-load")
            for u in units for k, p in enumerate(PROCEDURES)
        ]  # fmt: skip
        conn.exec_driver_sql(
            "INSERT INTO unit_procedures (unit_code, procedure_code, online_level, online_service_status, has_fee, "
            "payment_integrated, population_data_eligible, population_data_connected, certified_copy, active, "
            f"source_time, source_id, batch_id) VALUES ({', '.join([mark] * 13)})",
            offers,
        )
    cols = (
        "source_id, code, unit_code, procedure_code, channel, received_at, received_month, due_at, started_at, "
        "end_at, end_month, end_state, processing_state, supplement_count, last_supplement_at, "
        "applicant_supplement_seconds, fee_amount, payment_channel, rating, flags, source_time, batch_id"
    )
    codes = [u[0] for u in units]
    chunk: list[tuple] = []
    written = 0

    def flush():
        nonlocal written
        with db.write() as conn:
            if db.dialect == "postgresql":
                with conn.connection.driver_connection.cursor() as cur, cur.copy(
                    f"COPY dossiers ({cols}) FROM STDIN"
                ) as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                conn.exec_driver_sql(f"INSERT INTO dossiers ({cols}) VALUES ({', '.join(['?'] * 22)})", chunk)
        written += len(chunk)
        chunk.clear()
        progress(written)

    for row in dossier_rows(codes, n, start_us, now_us - start_us, now_us, 766):
        chunk.append(row)
        if len(chunk) >= 200_000:
            flush()
    if chunk:
        flush()
    db.dispose()
    return len(units), time.monotonic() - t0


# --- measuring ----------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def measure_rebuild(url: str, env: dict, log_path: Path) -> tuple[float, int, float]:
    """``chiso-scoring rebuild`` as its own process: seconds, cells, peak RSS."""
    t0 = time.monotonic()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "services.scoring.server", "rebuild"],
                                env={**env, "CHISO_DATABASE_URL": url}, stdout=subprocess.PIPE, stderr=log)
        out, _ = proc.communicate()
    elapsed = time.monotonic() - t0
    text = out.decode()
    cells = int(text.split(" into ")[1].split(" ")[0]) if " into " in text else 0
    peak = float("nan")
    return elapsed, cells, peak


def measure_raw_scan(url: str) -> float:
    """The raw limit of a rebuild: the driver streaming every dossier's columns, nothing else."""
    db = Database(url)
    t0 = time.monotonic()
    with db.read() as conn:
        result = conn.exec_driver_sql(
            "SELECT source_id, code, unit_code, procedure_code, channel, received_at, due_at, started_at, end_at, "
            "processing_state, supplement_count, last_supplement_at, applicant_supplement_seconds, fee_amount, "
            "payment_channel, rating, flags, received_month FROM dossiers ORDER BY unit_code, received_month"
        )
        while result.fetchmany(20_000):
            pass
    db.dispose()
    return time.monotonic() - t0


def time_calls(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(
    url: str, work: Path, dossiers: int, env: dict, log, calls: int = 200, fresh_seconds: int = 30, reuse: bool = False
) -> ScoringFigures:
    now = datetime.now(HANOI)
    if reuse:
        f = ScoringFigures(dossiers, len(unit_rows()))
        log("scoring: reusing the store and its aggregates (no load, no rebuild figures)")
    else:
        log(f"scoring: loading a store of {dossiers:,} dossiers …")
        units, load_s = load_store(url, dossiers, now, lambda k: log(f"  {k:,}") if k % 1_000_000 == 0 else None)
        f = ScoringFigures(dossiers, units, load_seconds=load_s)
        log(f"  loaded in {load_s:.0f} s; raw scan …")
        f.raw_scan_seconds = measure_raw_scan(url)
        log(f"  {f.raw_scan_seconds:.1f} s; rebuild (its own process) …")
        f.rebuild_seconds, f.rebuild_cells, _ = measure_rebuild(url, env, work / "rebuild.log")
        log(f"  rebuilt in {f.rebuild_seconds:.1f} s ({f.rebuild_cells:,} cells)")
    last_year = now.year - 1
    port = free_port()
    ingest_port = free_port()
    with open(work / "scoring.log", "ab") as slog, open(work / "ingest.log", "ab") as ilog:
        scoring = spawn("services.scoring.server", {**env, "CHISO_DATABASE_URL": url, "CHISO_SCORING_PORT": str(port),
                                                     "CHISO_SCORING_METRICS_PORT": "-1"}, slog)
        ingest = spawn("services.ingest.server", {**env, "CHISO_DATABASE_URL": url,
                                                  "CHISO_INGEST_PORT": str(ingest_port),
                                                  "CHISO_INGEST_METRICS_PORT": "-1"}, ilog)
        try:
            wait_healthy(f"127.0.0.1:{port}", scoring)
            wait_healthy(f"127.0.0.1:{ingest_port}", ingest)
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = scoring_pb2_grpc.ScoringServiceStub(channel)
            year = tpb.Period(kind=tpb.PERIOD_KIND_YEAR, year=last_year)
            rnd = random.Random(1)
            provinces = [p[0] for p in PROVINCES]
            communes = [f"{p}.X{i:03d}" for p in provinces for i in (1, 2, 3)]
            log("  unit-year scorecards …")
            stub.GetScorecard(spb.GetScorecardRequest(unit_code="H01", period=year))  # warm the caches
            log(f"  store: {f.__dict__}")
            f.unit_year_ms = time_calls(lambda: stub.GetScorecard(spb.GetScorecardRequest(
                unit_code=rnd.choice(provinces), period=year, scope=tpb.SCOPE_SUBTREE)), calls)
            f.unit_year_alone_ms = time_calls(lambda: stub.GetScorecard(spb.GetScorecardRequest(
                unit_code=rnd.choice(communes), period=year, scope=tpb.SCOPE_UNIT)), calls)
            live = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=now.year, number=now.month)
            f.live_month_ms = time_calls(lambda: stub.GetScorecard(spb.GetScorecardRequest(
                unit_code=rnd.choice(provinces), period=live, scope=tpb.SCOPE_SUBTREE)), calls // 4)
            db = Database(url)
            from services.scoring.storage import unit_cells

            def raw_cells():
                with db.read() as conn:
                    members = [u for u in (rnd.choice(provinces),)]
                    list(unit_cells(conn, members, last_year * 100 + 1, last_year * 100 + 12))

            f.raw_cells_ms = time_calls(raw_cells, calls)
            log(f"  unit-year p50/p99 {pct(f.unit_year_ms, .5):.1f}/{pct(f.unit_year_ms, .99):.1f} ms, alone "
                f"{pct(f.unit_year_alone_ms, .5):.1f}/{pct(f.unit_year_alone_ms, .99):.1f} ms, live month "
                f"{pct(f.live_month_ms, .5):.1f}/{pct(f.live_month_ms, .99):.1f} ms")
            log("  rankings …")
            month = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=last_year, number=6)
            f.ranking_ms = time_calls(lambda: stub.GetRanking(spb.GetRankingRequest(
                period=month, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=tpb.SCOPE_SUBTREE)), 10)
            f.ranking_live_ms = time_calls(lambda: stub.GetRanking(spb.GetRankingRequest(
                period=live, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=tpb.SCOPE_SUBTREE)), 10)
            log(f"  ranking past month max {max(f.ranking_ms):.0f} ms, live max {max(f.ranking_live_ms):.0f} ms")
            log("  freshness at 2,000 records/s …")
            f.freshness_ms, f.freshness_rate, f.poll_ms = freshness(db, stub, f"127.0.0.1:{ingest_port}", now,
                                                                    fresh_seconds)
            f.scoring_rss_mb = rss_mb(scoring.pid)
            db.dispose()
            channel.close()
        finally:
            for proc in (scoring, ingest):
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return f


def freshness(db: Database, stub, ingest_address: str, now: datetime, seconds: int) -> tuple[list[float], float, float]:
    """Push 200-record batches every 100 ms to ten departments of one province; a poller reads the
    province's live scorecard continuously; a batch is visible once the 2.1 denominator covers it."""
    with db.write() as conn:
        token = access.issue_token(conn, SOURCE).token
    ingest = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(ingest_address))
    target_units = [f"H25.S0{i}" for i in (1, 2, 3)]
    live = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=now.year, number=now.month)

    def denominator() -> int:
        sc = stub.GetScorecard(spb.GetScorecardRequest(unit_code="H25", period=live, scope=tpb.SCOPE_SUBTREE,
                                                       rule_version="766/2022")).scorecard
        return next(i.denominator for i in sc.indicators if i.id == "2.1")

    base = denominator()
    acks: list[tuple[float, int]] = []
    seen: list[tuple[float, int]] = []
    stop = threading.Event()
    polls: list[float] = []

    def poll():
        while not stop.is_set():
            t0 = time.perf_counter()
            value = denominator()
            t1 = time.perf_counter()
            polls.append((t1 - t0) * 1000)
            seen.append((t1, value - base))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    md = [("authorization", f"Bearer {token}")]
    start = time.perf_counter()
    total = 0
    batch_size, period = 200, 0.1
    received = now - timedelta(hours=2)
    k = 0
    while time.perf_counter() - start < seconds:
        due = start + k * period
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        records = []
        for j in range(batch_size):
            rec = ipb.DossierRecord(code=f"F{k:06d}-{j:03d}", unit_code=target_units[j % 3],
                                    procedure_code=PROCEDURES[j % 8][0], channel=ipb.CHANNEL_ONLINE,
                                    processing_state=ipb.PROCESSING_STATE_PROCESSING)
            rec.received_time.FromDatetime(received)
            rec.due_time.FromDatetime(received + timedelta(days=5))
            rec.source_time.FromDatetime(now - timedelta(minutes=1))
            records.append(rec)
        ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=f"fresh-{k}", records=records), metadata=md)
        total += batch_size
        acks.append((time.perf_counter(), total))
        k += 1
    elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and (not seen or seen[-1][1] < total):
        time.sleep(0.05)
    stop.set()
    poller.join(timeout=10)
    latencies = []
    for ack_time, count in acks:
        visible = next((t for t, v in seen if v >= count and t >= ack_time), None)
        if visible is not None:
            latencies.append((visible - ack_time) * 1000)
    return latencies, total / elapsed, statistics.median(polls) if polls else float("nan")


def render(f: ScoringFigures, command: str) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**MISSED**"

    p = lambda values, q: pct(values, q)  # noqa: E731
    lines = [
        "## Scoring (SPEC §8)",
        "",
        f"A store of **{f.dossiers:,} dossiers** over {f.units:,} units (34 provinces × 3 departments × "
        f"{COMMUNES_PER_PROVINCE} communes, 5 ministries), received from January last year to now, written "
        f"straight into SQLite ({f.load_seconds:.0f} s, not measured); scoring runs as its own process "
        f"(`python -m services.scoring.server`), calls go through gRPC. Command: `{command}`.",
        "",
        "| what | target | measured | raw limit in the same run | verdict |",
        "|---|---|---|---|---|",
        f"| rebuild every aggregate (`chiso-scoring rebuild`, own process) | ≤ 120 s | **{f.rebuild_seconds:.1f} s** "
        f"({f.rebuild_cells:,} cells) | {f.raw_scan_seconds:.1f} s to stream the rows alone | "
        f"{verdict(f.rebuild_seconds <= 120)} |",
        f"| one province's scorecard for last year (subtree, {len(f.unit_year_ms)} calls) | p99 ≤ 100 ms | "
        f"p50 {p(f.unit_year_ms, .5):.1f} ms, **p99 {p(f.unit_year_ms, .99):.1f} ms** | "
        f"the province unit's own cells alone (no subtree): p50 {p(f.raw_cells_ms, .5):.1f} ms | "
        f"{verdict(p(f.unit_year_ms, .99) <= 100)} |",
        f"| one commune's scorecard for last year (alone) | p99 ≤ 100 ms | p50 {p(f.unit_year_alone_ms, .5):.1f} ms, "
        f"**p99 {p(f.unit_year_alone_ms, .99):.1f} ms** | | {verdict(p(f.unit_year_alone_ms, .99) <= 100)} |",
        f"| ranking all 34 provinces (subtrees) for a past month | ≤ 1 s | **{max(f.ranking_ms):.0f} ms** (worst of "
        f"{len(f.ranking_ms)}; median {statistics.median(f.ranking_ms):.0f} ms) | | "
        f"{verdict(max(f.ranking_ms) <= 1000)} |",
        f"| ranking all 34 provinces for the running month (as of now) | ≤ 1 s | **{max(f.ranking_live_ms):.0f} ms** "
        f"(median {statistics.median(f.ranking_live_ms):.0f} ms) | | {verdict(max(f.ranking_live_ms) <= 1000)} |",
        f"| freshness: ingest ack → visible in scoring's live scorecard at {f.freshness_rate:,.0f} records/s | "
        f"p99 ≤ 2 s | p50 {p(f.freshness_ms, .5):.0f} ms, **p99 {p(f.freshness_ms, .99):.0f} ms** "
        f"({len(f.freshness_ms)} batches) | one poll of the live scorecard: {f.poll_ms:.0f} ms (the resolution) | "
        f"{verdict(p(f.freshness_ms, .99) <= 2000)} |",
        "",
        f"Also: a province's scorecard for the running month p50 {p(f.live_month_ms, .5):.1f} ms / p99 "
        f"{p(f.live_month_ms, .99):.1f} ms; scoring's peak RSS over the run {f.scoring_rss_mb:,.0f} MB.",
        "",
    ]
    return lines


def measure(work: Path, dossiers: int, calls: int = 200, fresh_seconds: int = 30) -> list[str]:
    """Run the scoring benchmark in ``work`` (removed afterwards); the BENCHMARKS.md section."""
    import os
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'store.db'}"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}", "CHISO_LOG_LEVEL": "warning"}
    try:
        f = run(url, work, dossiers, env, lambda m: print(m, flush=True), calls, fresh_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return render(f, f"python -m tools.bench_scoring --dossiers {dossiers}` (the scoring part of `make bench`")


def main(argv=None) -> int:
    import os
    import shutil

    parser = argparse.ArgumentParser(prog="python -m tools.bench_scoring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--fresh-seconds", type=int, default=30)
    parser.add_argument("--keep", help="directory to keep the store in (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="with --keep: measure the reads on the kept store")
    args = parser.parse_args(argv)
    work = Path(args.keep) if args.keep else ROOT / "var" / "bench-scoring"
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'store.db'}"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'gen'}", "CHISO_LOG_LEVEL": "warning"}
    try:
        f = run(url, work, args.dossiers, env, lambda m: print(m, flush=True), args.calls, args.fresh_seconds,
                args.reuse)
        print("\n".join(render(f, f"python -m tools.bench_scoring --dossiers {args.dossiers}")))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
