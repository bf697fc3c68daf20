"""The whole pipeline at SPEC §8's scale: 5 million dossier records through ingest, scoring and publish.

Each service runs as its own process (``python -m services.<name>.server``) on one database
(PostgreSQL by default: the production store). The records are the national generator's
(``services.demo.data``: 3,473 units, 3,321 communes, 16 procedures, one month), each finished
dossier sent twice — first as received and being processed, later finished — so 5 million records
are about 2.7 million dossiers, as a month of the whole country changes state. Generated while
they are sent (never held in memory), 2 client threads, batches of 1,000.

1. **Stream through ingest**: every record through ``SyncDossiers``; ingest's RSS read from /proc
   after every batch and its peak (VmHWM) at the end.
2. **Stream through scoring**: scoring started on the loaded store consumes every change notice
   ingest wrote (the incremental path, not the rebuild); its RSS sampled until it has caught up.
3. **Stream through publish**: publish started, follows scoring's change feed into live results
   until it has caught up with it; its RSS sampled.
4. **All at once**: with the three running, a further load is pushed at the rate the pipeline takes
   it; ingest's rate while scoring and publish keep up, and, after the last acknowledgement, how
   long until scoring and then publish's change feed have caught up.

    .venv/bin/python -m tools.bench_pipeline [--records 5000000] [--live-records 200000] [--backend postgresql]

Also run by ``make bench`` (``--pipeline-records``; 0 skips it).
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from sqlalchemy.exc import OperationalError

from services.demo import data
from services.publish import storage as publish_storage
from services.scoring.storage import Aggregates
from services.shared import access
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tools.bench import WORK, cpu_seconds, database, pg_reachable, proc_status, stop_process

BATCH = 1000
CLIENTS = 2
RSS_TARGET_MB = 300
RPC_TIMEOUT = 120.0
SYNC_DOSSIERS = "/chiso.ingest.v1.IngestService/SyncDossiers"


# --------------------------------------------------------------------------- records


def two_versions(records: Iterator[pb.DossierRecord], lag: int = 20_000) -> Iterator[pb.DossierRecord]:
    """Each finished dossier twice: as received (being processed, source time = received), and —
    ``lag`` records later — finished, as the generator made it (a later source time)."""
    later: deque[pb.DossierRecord] = deque()
    for rec in records:
        if rec.HasField("end_time"):
            first = pb.DossierRecord()
            first.CopyFrom(rec)
            for name in ("end_time", "end_state", "rating", "electronic_result", "synced_with_result_file"):
                first.ClearField(name)
            first.processing_state = pb.PROCESSING_STATE_PROCESSING
            first.source_time.CopyFrom(rec.received_time)
            yield first
            later.append(rec)
            if len(later) > lag:
                yield later.popleft()
        else:
            yield rec
    yield from later


def batches(codes: list[str], n: int, spec: data.DemoSpec, now: datetime, tag: str, suffix: str = "",
            versions: int = 2) -> Iterator[bytes]:
    """``n`` records, serialized ``SyncDossiersRequest`` of ``BATCH`` records: with ``versions=2``
    about n / 2 dossiers, each finished one sent twice (:func:`two_versions`); with 1, n dossiers as
    the generator makes them (e.g. a backfill of a past month: every dossier finished, sent once)."""
    stream = data.dossiers(codes, n, spec, now)
    if versions == 2:
        stream = two_versions(stream)
    buf: list[pb.DossierRecord] = []
    number = 0
    for sent, rec in enumerate(stream, start=1):
        if suffix:
            rec.code += suffix  # not the codes of an earlier load
        buf.append(rec)
        if len(buf) == BATCH or sent == n:
            yield pb.SyncDossiersRequest(request_id=f"{tag}-{number}", records=buf).SerializeToString()
            number += 1
            buf = []
        if sent == n:
            return


def sync_catalogue(address: str, md, units: list[pb.UnitRecord], spec: data.DemoSpec, st: datetime,
                   tag: str = "") -> dict[str, tuple[int, int]]:
    """The catalogue as the demo pushes it — units, procedures, each unit's procedures (source time
    ``st``; the units' own) — in batches of ``BATCH``; method → (records accepted, not accepted)."""
    out: dict[str, tuple[int, int]] = {}
    with grpc.insecure_channel(address) as ch:
        stub = ingest_pb2_grpc.IngestServiceStub(ch)
        for method, req, recs in (
            ("SyncUnits", pb.SyncUnitsRequest, units),
            ("SyncProcedures", pb.SyncProceduresRequest, data.procedures(st)),
            ("SyncUnitProcedures", pb.SyncUnitProceduresRequest, list(data.unit_procedures(units, spec, st))),
        ):
            accepted = other = 0
            for i in range(0, len(recs), BATCH):
                r = getattr(stub, method)(req(request_id=f"{tag}{method}-{i}", records=recs[i:i + BATCH]),
                                          metadata=md, timeout=RPC_TIMEOUT).result
                accepted += r.accepted_count
                other += r.stale_count + r.rejected_count
            out[method] = (accepted, other)
    return out


# --------------------------------------------------------------------------- processes


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    address: str
    samples: list[float] = field(default_factory=list)

    def rss(self) -> float:
        return proc_status(self.proc.pid, "VmRSS")

    def peak(self) -> float:
        return proc_status(self.proc.pid, "VmHWM")

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)


@contextmanager
def service(name: str, url: str, env_extra: dict[str, str], logs: Path) -> Iterator[Service]:
    port = free_port()
    prefix = f"CHISO_{name.upper()}_"
    env = {f"{prefix}DATABASE_URL": url, f"{prefix}PORT": str(port), f"{prefix}METRICS_PORT": "-1",
           f"{prefix}LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"), f"{prefix}AUTO_MIGRATE": "false",
           **env_extra}
    with open(logs / f"{name}.log", "wb") as log:
        proc = spawn(f"services.{name}.server", env, output=log)
    try:
        wait_healthy(f"127.0.0.1:{port}", proc, timeout=120)
        yield Service(name, proc, f"127.0.0.1:{port}")
    finally:
        stop_process(proc)


class Sampler:
    """RSS of some services every ``every`` seconds, in a thread, until stopped."""

    def __init__(self, services: list[Service], every: float = 0.5) -> None:
        self.services, self.every = services, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            for s in self.services:
                if s.proc.poll() is None:
                    s.samples.append(s.rss())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def push(address: str, token: str, payloads: Iterator[bytes], on_batch=None) -> tuple[float, int, int]:
    """Send the payloads from ``CLIENTS`` threads as fast as they are taken; (seconds, records
    accepted, records not accepted). Payloads are produced by one thread into a bounded queue."""
    md = (("authorization", f"Bearer {token}"),)
    work: queue.Queue = queue.Queue(maxsize=16)
    counts = [0, 0]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def produce() -> None:
        try:
            for p in payloads:
                work.put(p)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)
        finally:
            for _ in range(CLIENTS):
                work.put(None)

    with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        send = channel.unary_unary(SYNC_DOSSIERS, request_serializer=None,
                                   response_deserializer=pb.SyncDossiersResponse.FromString)

        def client() -> None:
            try:
                while (payload := work.get()) is not None:
                    res = send(payload, metadata=md, timeout=RPC_TIMEOUT).result
                    with lock:
                        counts[0] += res.accepted_count
                        counts[1] += res.stale_count + res.rejected_count
                    if on_batch:
                        on_batch()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                while work.get() is not None:  # drain so the producer can finish
                    pass

        started = time.perf_counter()
        threads = [threading.Thread(target=produce, daemon=True)]
        threads += [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, counts[0], counts[1]


def wait_until(check, timeout: float, every: float = 0.5, status=None, progress=print) -> float:
    """Seconds until ``check()`` is true (raises after ``timeout``); ``status()`` shown every minute."""
    started = shown = time.perf_counter()

    def checked() -> bool:
        try:
            return check()
        except (OperationalError, grpc.RpcError) as exc:  # a database restart (e.g. by a test) is not the end
            progress(f"  … check failed, retrying: {str(exc).splitlines()[0][:120]}")
            time.sleep(5)
            return False

    while not checked():
        now = time.perf_counter()
        if now - started > timeout:
            raise TimeoutError(f"not reached in {timeout:.0f} s")
        if status and now - shown > 60:
            shown = now
            with suppress(OperationalError, grpc.RpcError):
                progress(f"  … {now - started:.0f} s: {status()}")
        time.sleep(every)
    return time.perf_counter() - started


def scoring_caught_up(db: Database) -> bool:
    applied, head = Aggregates(db).lag()
    return applied >= head


def publish_caught_up(db: Database, scoring: Service) -> bool:
    """Publish's cursors into scoring's change feed (both lanes) are at the feed's end."""
    with db.read() as conn:
        cursors = publish_storage.lane_cursors(conn)
    with grpc.insecure_channel(scoring.address) as ch:
        stub = scoring_pb2_grpc.ScoringServiceStub(ch)
        return not any(stub.ListScorecardChanges(scoring_pb2.ListScorecardChangesRequest(
            after_cursor=cursor, page_size=1), timeout=60).changes for cursor in cursors)


def scoring_status(db: Database) -> str:
    applied, head = Aggregates(db).lag()
    return f"applied notices up to {applied:,} of {head:,}"


def publish_through(db: Database, scoring: Service, moment_us: int) -> bool:
    """Publish has read scoring's change feed (both lanes) past every change scoring recorded up to
    ``moment_us`` (its change_time) — caught up with a moment, though later changes keep coming."""
    with db.read() as conn:
        cursors = publish_storage.lane_cursors(conn)
    with grpc.insecure_channel(scoring.address) as ch:
        stub = scoring_pb2_grpc.ScoringServiceStub(ch)
        for cursor in cursors:
            page = stub.ListScorecardChanges(scoring_pb2.ListScorecardChangesRequest(
                after_cursor=cursor, page_size=1), timeout=60)
            if page.changes and page.changes[0].change_time.ToMicroseconds() <= moment_us:
                return False
    return True


def publish_status(db: Database) -> str:
    with db.read() as conn:
        seq, _ = publish_storage.read_state(conn, publish_storage.CHANGES)
    return f"{seq:,} live scorecard entries recorded"


# --------------------------------------------------------------------------- the run


@dataclass
class PipelineFigures:
    backend: str
    records: int
    units: int
    ingest_seconds: float = 0.0
    ingest_accepted: int = 0
    ingest_other: int = 0
    ingest_peak: float = 0.0
    ingest_rss_quarters: list[float] = field(default_factory=list)
    ingest_cpu: float = 0.0
    client_cpu: float = 0.0
    notices: int = 0
    scoring_seconds: float = 0.0
    scoring_peak: float = 0.0
    scoring_cpu: float = 0.0
    publish_seconds: float = 0.0
    publish_peak: float = 0.0
    publish_cpu: float = 0.0
    live_entries: int = 0
    live_records: int = 0
    live_seconds: float = 0.0
    live_accepted: int = 0
    live_scoring_after: float = 0.0
    live_publish_after: float = 0.0
    live_peaks: dict[str, float] = field(default_factory=dict)
    peaks_end: dict[str, float] = field(default_factory=dict)


def run(work: Path, backend: str, records: int, live_records: int, progress=print) -> PipelineFigures:
    work.mkdir(parents=True, exist_ok=True)
    now = datetime.now(data.HANOI).replace(microsecond=0)
    spec = data.DemoSpec(year=now.year, month=now.month)
    st = now - timedelta(minutes=30)
    units = data.units(spec, st)
    codes = [u.code for u in units]
    fig = PipelineFigures(backend, records, len(units))
    key_file = work / "signing-key.pem"
    if not key_file.exists():
        from services.publish.signing import Signer

        key_file.write_bytes(Signer.generate().private_pem())
    with database(backend, "pipeline") as url:
        db = Database(url)
        try:
            with db.write() as conn:
                access.ensure_principal(conn, "bench", access.SOURCE, "Nguồn đo hiệu năng toàn quốc")
                access.set_grants(conn, "bench", ["*"])
                token = access.issue_token(conn, "bench").token
            md = (("authorization", f"Bearer {token}"),)
            with service("ingest", url, {}, work) as ingest:
                sync_catalogue(ingest.address, md, units, spec, st)
                # 1. ingest alone
                progress(f"[pipeline {backend}] 1/4 {records:,} records through ingest …")
                rss: list[float] = []
                sent = [0]

                def sample() -> None:
                    sent[0] += 1
                    if sent[0] % 50 == 0:
                        rss.append(ingest.rss())

                cpu0, client0 = ingest.cpu(), time.process_time()
                fig.ingest_seconds, fig.ingest_accepted, fig.ingest_other = push(
                    ingest.address, token, batches(codes, records, spec, now, "load"), sample)
                fig.ingest_cpu, fig.client_cpu = ingest.cpu() - cpu0, time.process_time() - client0
                fig.ingest_peak = ingest.peak()
                q = max(1, len(rss) // 4)
                fig.ingest_rss_quarters = [rss[min(len(rss) - 1, q * i - 1)] for i in (1, 2, 3, 4)] if rss else []
                progress(f"  {fig.ingest_accepted / fig.ingest_seconds:,.0f} records/s, "
                         f"peak RSS {fig.ingest_peak:.0f} MB")
                fig.notices = Aggregates(db).lag()[1]
                # 2. scoring consumes every notice
                progress(f"[pipeline {backend}] 2/4 scoring consumes {fig.notices:,} change notices …")
                with service("scoring", url, {}, work) as scoring, Sampler([scoring]):
                    cpu0 = scoring.cpu()
                    fig.scoring_seconds = wait_until(lambda: scoring_caught_up(db), timeout=4 * 3600,
                                                     status=lambda: f"{scoring_status(db)}, RSS {scoring.rss():.0f} MB",
                                                     progress=progress)
                    fig.scoring_cpu = scoring.cpu() - cpu0
                    fig.scoring_peak = scoring.peak()
                    progress(f"  {fig.scoring_seconds:.0f} s, peak RSS {fig.scoring_peak:.0f} MB")
                    # 3. publish follows scoring's feed
                    progress(f"[pipeline {backend}] 3/4 publish follows scoring's change feed …")
                    penv = {"CHISO_PUBLISH_SCORING_TARGET": scoring.address,
                            "CHISO_PUBLISH_SIGNING_KEY_FILE": str(key_file),
                            "CHISO_PUBLISH_SCORING_TIMEOUT_SECONDS": "600"}
                    with service("publish", url, penv, work) as publish, Sampler([publish]):
                        cpu0 = publish.cpu()
                        fig.publish_seconds = wait_until(lambda: publish_caught_up(db, scoring), timeout=4 * 3600,
                                                         every=1.0,
                                                         status=lambda: f"{publish_status(db)}, "
                                                                        f"RSS {publish.rss():.0f} MB",
                                                         progress=progress)
                        fig.publish_cpu = publish.cpu() - cpu0
                        fig.publish_peak = publish.peak()
                        with db.read() as conn:
                            fig.live_entries = publish_storage.read_state(conn, publish_storage.CHANGES)[0]
                        progress(f"  {fig.publish_seconds:.0f} s, peak RSS {fig.publish_peak:.0f} MB")
                        # 4. all at once
                        if live_records:
                            progress(f"[pipeline {backend}] 4/4 {live_records:,} more records with all three "
                                     "running …")
                            fig.live_records = live_records
                            later = now + timedelta(seconds=1)
                            live_spec = data.DemoSpec(seed=spec.seed + 1, year=now.year, month=now.month)
                            fig.live_seconds, fig.live_accepted, _ = push(
                                ingest.address, token, batches(codes, live_records, live_spec, later, "live", "-L"))
                            fig.live_scoring_after = wait_until(lambda: scoring_caught_up(db), timeout=3600, every=0.2)
                            fig.live_publish_after = fig.live_scoring_after + wait_until(
                                lambda: publish_caught_up(db, scoring), timeout=3600, every=0.2)
                            progress(f"  {fig.live_accepted / fig.live_seconds:,.0f} records/s; scoring caught up "
                                     f"{fig.live_scoring_after:.1f} s after the last ack, publish "
                                     f"{fig.live_publish_after:.1f} s")
                        fig.peaks_end = {s.name: s.peak() for s in (ingest, scoring, publish)}
        finally:
            db.dispose()
    return fig


# --------------------------------------------------------------------------- report


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else f"**MISSED** (+{value - target:,.0f} MB)"


def render(f: PipelineFigures, command: str) -> list[str]:
    rate = f.ingest_accepted / f.ingest_seconds if f.ingest_seconds else 0
    lines = [
        "## Whole pipeline (SPEC §8 scale)",
        "",
        f"{f.records:,} dossier records through ingest, scoring and publish, each its own process, on "
        f"{'PostgreSQL' if f.backend == 'postgresql' else 'SQLite'} (`services.demo.data`'s national catalogue: "
        f"{f.units:,} units, 3,321 communes; one month; each finished dossier sent twice, first as received "
        "then finished, so a dossier changes state as it does in a real month; generated while sent, 2 client "
        f"threads, batches of {BATCH:,}). Command: `{command}` (also part of `make bench`).",
        "",
        "| stage | what streams through | time | rate | peak RSS (VmHWM) | target ≤ 300 MB |",
        "|---|---|---|---|---|---|",
        f"| 1. ingest | {f.ingest_accepted:,} records acknowledged ({f.ingest_other:,} stale/refused) | "
        f"{f.ingest_seconds:,.0f} s | {rate:,.0f} records/s | **{f.ingest_peak:,.0f} MB** | "
        f"{_verdict(f.ingest_peak, RSS_TARGET_MB)} |",
        f"| 2. scoring | {f.notices:,} change notices of those records, applied incrementally | "
        f"{f.scoring_seconds:,.0f} s | {f.ingest_accepted / max(f.scoring_seconds, 1e-9):,.0f} records/s | "
        f"**{f.scoring_peak:,.0f} MB** | {_verdict(f.scoring_peak, RSS_TARGET_MB)} |",
        f"| 3. publish | scoring's change feed → {f.live_entries:,} live scorecard entries | "
        f"{f.publish_seconds:,.0f} s | | **{f.publish_peak:,.0f} MB** | {_verdict(f.publish_peak, RSS_TARGET_MB)} |",
        "",
        f"Ingest's RSS at the end of each quarter of stage 1: "
        f"{' → '.join(f'{r:,.0f}' for r in f.ingest_rss_quarters)} MB. CPU: ingest "
        f"{f.ingest_cpu / max(f.ingest_accepted, 1) * 1e6:.1f} µs/record, the bench client (generating the "
        f"records as it sends them) {f.client_cpu / max(f.ingest_accepted, 1) * 1e6:.1f} µs/record; scoring "
        f"{f.scoring_cpu:,.0f} s of CPU in stage 2; publish {f.publish_cpu:,.0f} s in stage 3.",
    ]
    if f.live_records:
        lines += [
            "",
            f"Stage 4, all three running: {f.live_accepted:,} more records acknowledged at "
            f"**{f.live_accepted / max(f.live_seconds, 1e-9):,.0f} records/s** (against {rate:,.0f}/s with ingest "
            f"alone); scoring had applied all of them **{f.live_scoring_after:.1f} s** after the last "
            f"acknowledgement, publish's change feed had them **{f.live_publish_after:.1f} s** after it. "
            "Peak RSS over the whole run: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in f.peaks_end.items()) + ".",
        ]
    return lines + [""]


def measure(work: Path, records: int, live_records: int, backend: str = "postgresql") -> list[str]:
    if backend == "postgresql":
        ok, why = pg_reachable()
        if not ok:
            return ["## Whole pipeline (SPEC §8 scale)", "", f"Not measured: PostgreSQL not reachable ({why}).", ""]
    f = run(work, backend, records, live_records)
    cmd = (f".venv/bin/python -m tools.bench_pipeline --records {records} --live-records {live_records} "
           f"--backend {backend}")
    return render(f, cmd)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.bench_pipeline", description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=5_000_000)
    p.add_argument("--live-records", type=int, default=200_000)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    p.add_argument("--write", metavar="BENCHMARKS.md", help="put the section into this file (others kept)")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda s, _f: (_ for _ in ()).throw(SystemExit(128 + s)))
    WORK.mkdir(exist_ok=True)
    lines = measure(WORK / f"pipeline-{os.getpid()}", args.records, args.live_records, args.backend)
    print("\n".join(lines))
    if args.write:
        write_section(Path(args.write), lines)
        print(f"written into {args.write}")
    return 0


def write_section(path: Path, lines: list[str], head: str = "## Whole pipeline") -> None:
    """Replace (or append) the section of BENCHMARKS.md whose heading starts with ``head`` (the
    whole-pipeline one by default), leaving the others as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = "\n".join(lines).rstrip("\n") + "\n"
    if head in text:
        before, rest = text.split(head, 1)
        after = rest.split("\n## ", 1)
        text = before + section + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
