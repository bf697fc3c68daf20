"""`make run`: start the suite on the embedded database with demo data and say where to look.

Starts each service as its own process (as in production), loads a demo month (the running one, and
a smaller ended one before it, which can be published officially) through the public gRPC API with a
demo source token, prints endpoints and ready-to-run commands (the CLIs, and calls through gRPC
reflection with buf curl), then waits. The services run in sessions of their own, so a terminal's
Ctrl-C reaches only this process, which stops each with one SIGTERM (they drain their calls) and says
how each ended; Ctrl-C again stops them without draining. ``--once`` loads and stops.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc

from services.demo import data
from services.shared import access
from services.shared.db import Database, migrate
from services.shared.processes import free_port, spawn, wait_healthy

ROOT = Path(__file__).resolve().parents[2]


def push(stub, method: str, request_type, records, token: str, batch: int = 1000, prefix: str = "demo") -> int:
    md = (("authorization", f"Bearer {token}"),)
    rpc = getattr(stub, method)
    accepted = 0
    buf: list = []

    def flush(n: int) -> None:
        nonlocal accepted
        r = rpc(request_type(request_id=f"{prefix}-{method}-{n}", records=buf), metadata=md, timeout=120)
        accepted += r.result.accepted_count + r.result.stale_count
        buf.clear()

    n = 0
    for rec in records:
        buf.append(rec)
        if len(buf) >= batch:
            flush(n)
            n += 1
    if buf:
        flush(n)
    return accepted


def subscribe(publish: str, ops_token: str, portal: str) -> None:
    """Phú Thọ's portal (the reference receiver) subscribes to its province: live and official results,
    and early-warning alerts."""
    from chiso.publish.v1 import publish_pb2, publish_pb2_grpc
    from chiso.types.v1 import types_pb2 as tpb

    with grpc.insecure_channel(publish) as ch:
        publish_pb2_grpc.PublishServiceStub(ch).CreateSubscription(
            publish_pb2.CreateSubscriptionRequest(
                request_id="demo-portal-phu-tho",
                subscription=publish_pb2.Subscription(subscription_id="portal-phu-tho",
                                                      display_name="Cổng thông tin tỉnh Phú Thọ",
                                                      endpoint=portal, unit_codes=["H25"],
                                                      feeds=[tpb.FEED_LIVE, tpb.FEED_OFFICIAL, tpb.FEED_ALERT])),
            metadata=(("authorization", f"Bearer {ops_token}"),), timeout=30)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Block until ``url`` answers 200 (the dashboard's health)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 - our own http:// URL
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def wait_for_portal(db_path: Path, timeout: float = 240.0) -> int:
    """How many deliveries the portal holds, once the first have arrived (or the timeout passed)."""
    from services.publish.receiver import report

    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        try:
            count = int(report(db_path).get("deliveries", 0))
        except Exception:  # noqa: BLE001 — the receiver may not have created its file yet
            count = 0
        if count:
            return count
        time.sleep(0.2)
    return count


def live_ranking(db_url: str, address: str, spec: data.DemoSpec, top: int = 5,
                 timeout: float = 120.0) -> tuple[str, str]:
    """The top of the live provincial ranking once scoring has applied everything loaded, and a
    note when it had not within ``timeout`` s (the ranking is then partial)."""
    from chiso.scoring.v1 import scoring_pb2, scoring_pb2_grpc
    from chiso.types.v1 import types_pb2 as tpb

    from services.scoring.score_cli import render_ranking
    from services.scoring.storage import Aggregates

    db = Database(db_url)
    note = ""
    try:
        deadline = time.monotonic() + timeout
        while True:
            applied, head = Aggregates(db).lag()
            if applied >= head:
                break
            if time.monotonic() >= deadline:
                note = (f"  (partial: scoring had applied changes up to {applied:,} of {head:,} after {timeout:.0f} s; "
                        "see scoring.log)\n")
                break
            time.sleep(0.1)
    finally:
        db.dispose()
    with grpc.insecure_channel(address) as ch:
        period = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=spec.year, number=spec.month)
        ranking = scoring_pb2_grpc.ScoringServiceStub(ch).GetRanking(
            scoring_pb2.GetRankingRequest(period=period, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                          scope=tpb.SCOPE_SUBTREE), timeout=60
        ).ranking
    return "\n".join("  " + line for line in render_ranking(ranking, top).splitlines()), note


STOP_TIMEOUT = 20.0
"""Seconds the services have to stop after their SIGTERM (they drain for 10 s) before being killed."""
PORTAL_TIMEOUT = 240.0


class Interrupts:
    """SIGINT/SIGTERM handler: the first one stops the demo (KeyboardInterrupt); one more while the
    services are stopping has them stop without draining (a service stops at once on a second
    signal)."""

    def __init__(self, procs: dict[str, subprocess.Popen]) -> None:
        self.procs = procs
        self.stopping = False
        self.hurried = False

    def __call__(self, _signum, _frame) -> None:
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt
        self.hurried = True
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)  # a no-op for one that has exited


def stop_all(procs: dict[str, subprocess.Popen], interrupts: Interrupts, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the services with one SIGTERM each (each drains its calls), kill any still running
    ``timeout`` s later, and say truthfully how each one ended; True when all stopped cleanly."""
    interrupts.stopping = True
    exited = {name: proc.returncode for name, proc in procs.items() if proc.poll() is not None}
    for name, proc in procs.items():
        if name not in exited:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    killed = []
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            killed.append(name)
    clean = [name for name, proc in procs.items() if name not in exited and name not in killed and proc.returncode == 0]
    if clean:
        how = "without draining (Ctrl-C again)" if interrupts.hurried else "cleanly"
        print(f"stopped {how}: {', '.join(clean)} (exit code 0)", flush=True)
    for name, proc in procs.items():
        if name in exited:
            print(f"{name} had already exited (exit code {exited[name]}); see {name}.log", file=sys.stderr)
        elif name in killed:
            print(f"{name} was killed: still running {timeout:.0f} s after SIGTERM (exit code {proc.returncode}); "
                  f"see {name}.log", file=sys.stderr)
        elif proc.returncode != 0:
            print(f"{name} stopped with exit code {proc.returncode}; see {name}.log", file=sys.stderr)
    return len(clean) == len(procs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m services.demo")
    p.add_argument("--var-dir", default=str(ROOT / "var" / "demo"))
    p.add_argument("--dossiers", type=int, default=30_000, help="dossiers of the running month (default 30,000)")
    p.add_argument("--previous-dossiers", type=int, default=None,
                   help="dossiers of the month before, an ended month to publish officially (default a third)")
    p.add_argument("--once", action="store_true", help="load the demo data, print, stop")
    args = p.parse_args(argv)

    var = Path(args.var_dir)
    if var.exists():
        shutil.rmtree(var)  # a fresh demo every run
    var.mkdir(parents=True)
    db_url = f"sqlite:///{var / 'chiso.db'}"
    migrate(db_url)
    db = Database(db_url)
    with db.write() as conn:
        access.ensure_principal(conn, "demo-national", access.SOURCE, "Nguồn dữ liệu demo (toàn quốc)")
        access.set_grants(conn, "demo-national", ["*"])
        token = access.issue_token(conn, "demo-national").token
        access.ensure_principal(conn, "demo-ops", access.OPERATOR, "Vận hành demo")
        ops_token = access.issue_token(conn, "demo-ops").token
        access.ensure_principal(conn, "demo-ptho-officials", access.OFFICIAL, "Văn phòng UBND tỉnh Phú Thọ (demo)")
        access.set_grants(conn, "demo-ptho-officials", ["H25"])
        official_token = access.issue_token(conn, "demo-ptho-officials").token
    db.dispose()
    token_file = var / "demo-source.token"
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    ops_file = var / "demo-operator.token"
    ops_file.write_text(ops_token + "\n", encoding="utf-8")
    ops_file.chmod(0o600)
    official_file = var / "demo-phu-tho-official.token"
    official_file.write_text(official_token + "\n", encoding="utf-8")
    official_file.chmod(0o600)

    ingest_port = free_port(50051)
    metrics_port = free_port(9101)
    scoring_port = free_port(50052)
    scoring_metrics_port = free_port(9102)
    publish_port = free_port(50053)
    publish_metrics_port = free_port(9103)
    portal_port = free_port(50060)
    web_port = free_port(8080)
    web_metrics_port = free_port(9104)
    dashboard = f"http://127.0.0.1:{web_port}"
    env = {"CHISO_DATABASE_URL": db_url, "CHISO_INGEST_PORT": str(ingest_port),
           "CHISO_INGEST_METRICS_PORT": str(metrics_port), "CHISO_INGEST_AUTO_MIGRATE": "false",
           "CHISO_SCORING_PORT": str(scoring_port), "CHISO_SCORING_METRICS_PORT": str(scoring_metrics_port),
           "CHISO_SCORING_AUTO_MIGRATE": "false", "CHISO_PUBLISH_AUTO_MIGRATE": "false",
           "CHISO_PUBLISH_PORT": str(publish_port), "CHISO_PUBLISH_METRICS_PORT": str(publish_metrics_port),
           "CHISO_PUBLISH_SCORING_TARGET": f"127.0.0.1:{scoring_port}",  # signing key: made beside the db
           "CHISO_PUBLISH_DASHBOARD_URL": dashboard,
           "CHISO_WEB_PORT": str(web_port), "CHISO_WEB_METRICS_PORT": str(web_metrics_port),
           "CHISO_WEB_PUBLISH_TARGET": f"127.0.0.1:{publish_port}",
           "CHISO_WEB_SCORING_TARGET": f"127.0.0.1:{scoring_port}",
           "CHISO_PUBLISH_SCORING_TOKEN": ops_token}  # early warning reads the at-risk lists
    procs: dict[str, subprocess.Popen] = {}
    logs = {}
    interrupts = Interrupts(procs)
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored (e.g. `&`)
        signal.signal(sig, interrupts)
    status = 1
    try:
        logs["ingest"] = open(var / "ingest.log", "w", encoding="utf-8")  # noqa: SIM115
        procs["ingest"] = spawn("services.ingest.server", env, logs["ingest"], own_session=True)
        logs["scoring"] = open(var / "scoring.log", "w", encoding="utf-8")  # noqa: SIM115
        procs["scoring"] = spawn("services.scoring.server", env, logs["scoring"], own_session=True)
        logs["publish"] = open(var / "publish.log", "w", encoding="utf-8")  # noqa: SIM115
        procs["publish"] = spawn("services.publish.server", env, logs["publish"], own_session=True)
        address = f"127.0.0.1:{ingest_port}"
        scoring = f"127.0.0.1:{scoring_port}"
        publish = f"127.0.0.1:{publish_port}"
        portal = f"127.0.0.1:{portal_port}"
        wait_healthy(address, procs["ingest"])
        wait_healthy(scoring, procs["scoring"])
        wait_healthy(publish, procs["publish"])
        logs["portal"] = open(var / "portal.log", "w", encoding="utf-8")  # noqa: SIM115
        procs["portal"] = spawn("services.publish.receiver", {}, logs["portal"],
                                args=["serve", "--port", str(portal_port), "--db", str(var / "portal.db"),
                                      "--publish", publish], own_session=True)
        wait_healthy(portal, procs["portal"])
        logs["web"] = open(var / "web.log", "w", encoding="utf-8")  # noqa: SIM115
        procs["web"] = spawn("services.web.server", env, logs["web"], own_session=True)
        wait_http(f"{dashboard}/healthz", procs["web"])
        subscribe(publish, ops_token, portal)

        now = datetime.now(data.HANOI).replace(microsecond=0)
        spec = data.DemoSpec(year=now.year, month=now.month)
        before = now.replace(day=1) - timedelta(days=1)
        previous = data.DemoSpec(year=before.year, month=before.month)  # ended: it can be published
        n_previous = args.dossiers // 3 if args.previous_dossiers is None else args.previous_dossiers
        src_time = now - timedelta(minutes=5)
        with grpc.insecure_channel(address) as ch:
            stub = ingest_pb2_grpc.IngestServiceStub(ch)
            units = data.units(spec, src_time)
            push(stub, "SyncUnits", pb.SyncUnitsRequest, units, token)
            push(stub, "SyncProcedures", pb.SyncProceduresRequest, data.procedures(src_time), token)
            push(stub, "SyncUnitProcedures", pb.SyncUnitProceduresRequest,
                 data.unit_procedures(units, spec, src_time), token)
            push(stub, "SyncPublications", pb.SyncPublicationsRequest,
                 data.publications(units, spec, src_time), token)
            codes = [u.code for u in units]
            loaded = {}
            for month, count in ((previous, n_previous), (spec, args.dossiers)):
                received = Counter()
                started = time.perf_counter()
                prefix = f"demo-{month.year}{month.month:02d}"  # request ids are per source: one set a month
                n = push(stub, "SyncDossiers", pb.SyncDossiersRequest,
                         data.dossiers(codes, count, month, now, received), token, prefix=prefix)
                elapsed = time.perf_counter() - started
                n_petitions = push(stub, "SyncPetitions", pb.SyncPetitionsRequest,
                                   data.petitions(codes, max(1, count // 100), month, now), token, prefix=prefix)
                push(stub, "SyncReportedTotals", pb.SyncReportedTotalsRequest,
                     data.reported_totals(received, month, now), token, prefix=prefix)
                loaded[month] = (n, n_petitions, elapsed)
        n, n_petitions, elapsed = loaded[spec]
        ranking, partial = live_ranking(db_url, scoring, spec)
        held = wait_for_portal(var / "portal.db", PORTAL_TIMEOUT)
        none_held = "" if held else (f"\n              (none arrived within {PORTAL_TIMEOUT:.0f} s: "
                                     "see publish.log and portal.log)")

        communes = sum(1 for u in units if u.kind == data.tpb.UNIT_KIND_COMMUNE)
        print(f"""
chiso demo is running on the embedded database ({var / 'chiso.db'})

  ingest      {address}   (gRPC, health + reflection)   metrics http://127.0.0.1:{metrics_port}/metrics
  scoring     {scoring}   (scorecards, rankings, explanations, what-if; live as data arrives)
              metrics http://127.0.0.1:{scoring_metrics_port}/metrics
  loaded      {len(units):,} units ({communes:,} communes), {len(data.PROCEDURES)} procedures, \
{n:,} dossiers and {n_petitions:,} petitions of {spec.month:02d}/{spec.year} (running), \
{loaded[previous][0]:,} and {loaded[previous][1]:,} of {previous.month:02d}/{previous.year} (ended)
              through the gRPC API (dossiers in {elapsed:.1f}s, {n / max(elapsed, 1e-9):,.0f}/s)
  publish     {publish}   (live + official results, change feed, pushes to portals)
              metrics http://127.0.0.1:{publish_metrics_port}/metrics
  portal      {portal}   reference receiver of Phú Thọ's portal (subscribed to H25: live, official, alerts);
              it holds {held} verified deliveries so far ({var / 'portal.db'}){none_held}
  dashboard   {dashboard}/   public results in Vietnamese: rankings, each unit's page, the planner,
              Phú Thọ's embeddable card {dashboard}/nhung/H25, one-page PDF reports; officials sign in
              with a token (e.g. {official_file}) to see the records that cost points
  logs        {var}/{{ingest,scoring,publish,portal,web}}.log (JSON lines, one per event)
  tokens      {token_file} (demo source, granted every unit), {ops_file} (operator),
              {official_file} (Phú Thọ's officials: read the records behind H25's scores)

Live ranking of the provinces, {spec.month:02d}/{spec.year} so far (rule version in force):
{partial}{ranking}

Try:
  .venv/bin/chiso-score --target {scoring} scorecard H25 {spec.year}-{spec.month:02d} --subtree
  CHISO_TOKEN=$(cat {official_file}) .venv/bin/chiso-score --target {scoring} explain H25 \
      {spec.year}-{spec.month:02d} 2.1 --subtree
  .venv/bin/chiso-score --target {scoring} ranking commune {spec.year}-{spec.month:02d} --parent H25
  CHISO_TOKEN=$(cat {official_file}) .venv/bin/chiso-score --target {scoring} at-risk H25 --days 2
  CHISO_TOKEN=$(cat {ops_file}) .venv/bin/chiso-publish-admin --target {publish} alerts list --unit H25
  CHISO_TOKEN=$(cat {ops_file}) .venv/bin/chiso-publish-admin --target {publish} publication create \\
      --period {previous.year}-{previous.month:02d} --kind province --scope subtree --title "Thử nghiệm"
  .venv/bin/chiso-portal report --db {var / 'portal.db'}
  .venv/bin/chiso-whatif --target {scoring} --rule-version 766/2022 2.1=700/1000 5.4=850/1000 3.3=40/100
  .venv/bin/chiso-admin --database-url {db_url} token list

Integrators: the sample files of docs/examples/, judged by ingest with nothing stored (--dry-run), and a
source of your own on this database:
  CHISO_TOKEN=$(cat {token_file}) .venv/bin/chiso-push --kind units docs/examples/units.jsonl --target {address} \\
      --dry-run
  .venv/bin/chiso-admin --database-url {db_url} source add igate-phu-tho --grant H25

Any service with standard gRPC tools, through server reflection (buf is in node_modules/.bin; plain-text
gRPC needs --protocol grpc --http2-prior-knowledge; grpcurl: -plaintext, see the README):
  node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge --list-methods http://{publish}
  node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge \\
      -d '{{"period": {{"kind": "PERIOD_KIND_MONTH", "year": {spec.year}, "number": {spec.month}}}, \
"unitKind": "UNIT_KIND_PROVINCE"}}' http://{publish}/chiso.publish.v1.PublishService/GetRanking
  node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $(cat {ops_file})" \\
      http://{publish}/chiso.publish.v1.PublishService/ListSubscriptions
""", flush=True)
        if args.once:
            status = 0
        else:
            print("Press Ctrl-C to stop.", flush=True)
            while all(proc.poll() is None for proc in procs.values()):
                time.sleep(0.5)
            dead = ", ".join(f"{name} (exit code {proc.returncode})" for name, proc in procs.items()
                             if proc.poll() is not None)
            print(f"stopped unexpectedly: {dead}; see its log in {var}", file=sys.stderr)
    except KeyboardInterrupt:
        status = 0
    finally:
        interrupts.stopping = True  # from here on, Ctrl-C only hurries the services
        clean = stop_all(procs, interrupts) if procs else True
        for fh in logs.values():
            fh.close()
    return status if clean else 1


if __name__ == "__main__":
    sys.exit(main())
