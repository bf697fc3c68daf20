"""What operators watch: the Prometheus rules and scrape configuration pass promtool (and the rules'
own unit tests), the Grafana dashboard and the rules name only metrics the services really export
(scraped from the three services running as processes), and health follows the database:
NOT_SERVING while it cannot be reached, SERVING again once it is back."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import urllib.request
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.shared.processes import free_port, spawn, wait_healthy
from tests.conftest import IN_CI
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "chiso-dashboard.json"
ALERTS = PROMETHEUS / "chiso-alerts.yaml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    message = "promtool is not installed (make test installs Debian's prometheus package: make test-tools)"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def run_promtool(*args: str) -> str:
    done = subprocess.run([promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout + done.stderr


def test_promtool_checks_the_rules_the_config_and_the_rules_unit_tests():
    out = run_promtool("check", "rules", ALERTS.name)
    assert "SUCCESS" in out
    assert "SUCCESS" in run_promtool("check", "config", "prometheus.yml")
    assert "SUCCESS" in run_promtool("test", "rules", "chiso-alerts.test.yaml")
    alerts = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"] if "alert" in r}
    # what the issue asks for, at least: a service down, ingest errors, scoring lag, publish lag,
    # deliveries set aside, freshness SLO burn
    assert {"ChisoServiceDown", "ChisoIngestServerErrors", "ChisoScoringLag", "ChisoPublishLag",
            "ChisoDeliveriesSetAside", "ChisoFreshnessBudgetBurn"} <= alerts
    # the Kubernetes job (Debian's promtool has no Kubernetes discovery): labels targets as the rules expect
    (job,) = yaml.safe_load((PROMETHEUS / "scrape-kubernetes.yaml").read_text())["scrape_configs"]
    assert any(r.get("target_label") == "component"
               and r["source_labels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]
               for r in job["relabel_configs"])


# ------------------------------------------------------------------ metric names against real /metrics

_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
             "summary": ("_count", "_sum", "_created"), "gauge": ("",), "info": ("_info",), "untyped": ("",)}
_PROMQL_WORDS = {"sum", "by", "rate", "max", "min", "avg", "count", "time", "increase", "histogram_quantile",
                 "avg_over_time", "absent", "and", "or", "bool", "without", "on", "le", "humanize"}


def exported_names(text: str) -> set[str]:
    """Sample names a scrape can hold, from its ``# TYPE`` lines (a labelled metric with no sample yet
    still has its TYPE line)."""
    names = set()
    for m in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        name = m.group(1).removesuffix("_total") if m.group(2) == "counter" else m.group(1)
        names.update(name + s for s in _SUFFIXES.get(m.group(2), ("",)))
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (not functions, keywords, labels or recording rules)."""
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"by \([^)]*\)", "", expr)
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_:]*", expr))
    return {w for w in words if w not in _PROMQL_WORDS and ":" not in w}


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:  # noqa: S310
        return response.read().decode()


def test_the_dashboard_and_the_rules_name_only_metrics_the_services_export(tmp_path):
    db = f"sqlite:///{tmp_path / 'chiso.db'}"
    ports = {name: (free_port(), free_port()) for name in ("ingest", "scoring", "publish")}
    env = {"CHISO_DATABASE_URL": db, "CHISO_PUBLISH_SCORING_TARGET": f"127.0.0.1:{ports['scoring'][0]}"}
    for name, (grpc_port, metrics_port) in ports.items():
        env[f"CHISO_{name.upper()}_PORT"] = str(grpc_port)
        env[f"CHISO_{name.upper()}_METRICS_PORT"] = str(metrics_port)
    procs = {}
    try:
        for name in ports:  # one after the other: the first applies the migrations
            procs[name] = spawn(f"services.{name}.server", env)
            wait_healthy(f"127.0.0.1:{ports[name][0]}", procs[name])
        scraped = {name: scrape(metrics) for name, (_, metrics) in ports.items()}
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=60)
    exported = set().union(*(exported_names(text) for text in scraped.values())) | {"up"}
    for name, text in scraped.items():  # RSS per service, and the database gauge of each
        assert "process_resident_memory_bytes" in exported_names(text), name
        assert f'chiso_database_up{{service="{name}"}} 1.0' in text, name

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for metric in metric_names(target["expr"]):
                used.setdefault(metric, panel["title"])
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    for rule in rules:
        for metric in metric_names(rule["expr"]):
            used.setdefault(metric, rule.get("alert") or rule.get("record"))
    unknown = {m: where for m, where in used.items() if m not in exported}
    assert not unknown, f"not exported by any service: {unknown}"
    # the dashboard covers what an operator watches
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("freshness", "throughput", "lag", "deliveries", "memory (rss) per service"):
        assert topic in titles, topic
    # recording rules the dashboard reads exist
    recorded = {r["record"] for r in rules if "record" in r}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"chiso:[a-z_:]+", target["expr"]):
                assert name in recorded, name


# ------------------------------------------------------------------ health follows the database


class Proxy:
    """A TCP proxy on loopback to PostgreSQL that can be cut (listener closed, connections reset)
    and restored on the same port: the database unreachable, then back."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def health(stub, service: str) -> int:
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


@pytest.mark.postgres
def test_health_follows_the_database(pg_url, monkeypatch):
    """Ingest on PostgreSQL through a proxy: cut the proxy, and the readiness service turns NOT_SERVING
    (liveness, the empty name, stays SERVING: a restart would not help) and a call is UNAVAILABLE;
    restore it, and health is SERVING again — with no restart. Scoring and publish use the same
    server code (``ServerHandle.watch_database``, wired in each one's ``build``)."""
    from chiso.ingest.v1 import ingest_pb2, ingest_pb2_grpc
    from sqlalchemy.engine import make_url

    from services.ingest.server import IngestSettings, build
    from services.ingest.transport import SERVICE_NAME
    from services.shared import grpc_server

    monkeypatch.setattr(grpc_server, "DATABASE_CHECK_SECONDS", 0.1)  # production: every 2 s
    url = make_url(pg_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    handle = build(IngestSettings(database_url=proxied, port=0, metrics_port=-1, auto_migrate=False))
    handle.start()
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    gauge = grpc_server.DATABASE_UP.labels("ingest")
    try:
        with grpc.insecure_channel(handle.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            assert (health(stub, SERVICE_NAME), health(stub, ""), gauge._value.get()) == (serving, serving, 1)
            proxy.cut()
            eventually(lambda: health(stub, SERVICE_NAME) == not_serving, 60.0, "NOT_SERVING while unreachable",
                       interval=0.1)
            assert (health(stub, ""), gauge._value.get()) == (serving, 0)
            try:
                ingest_pb2_grpc.IngestServiceStub(channel).GetBatch(ingest_pb2.GetBatchRequest(request_id="x"),
                                                                    metadata=(("authorization", "Bearer chiso_a_b"),),
                                                                    timeout=30)
                raise AssertionError("a call needing the database must fail while it is unreachable")
            except grpc.RpcError as err:
                assert err.code() == grpc.StatusCode.UNAVAILABLE, err
            proxy.start()
            eventually(lambda: health(stub, SERVICE_NAME) == serving, 60.0, "SERVING once the database is back",
                       interval=0.1)
            assert gauge._value.get() == 1
    finally:
        handle.stop(0)
        proxy.cut()
    # stopped: NOT_SERVING for good, whatever the watcher saw last
    assert handle.health._server_status[SERVICE_NAME] == not_serving


def test_sqlite_services_are_serving_and_say_so_in_metrics(tmp_path):
    """The embedded database is a file: it is reachable while the process runs; health and
    chiso_database_up say so (checked on the processes above too)."""
    from services.ingest.server import IngestSettings, build
    from services.ingest.transport import SERVICE_NAME
    from services.shared.db import migrate
    from services.shared.grpc_server import DATABASE_UP

    url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate(url)
    handle = build(IngestSettings(database_url=url, port=0, metrics_port=-1, auto_migrate=False))
    handle.start()
    try:
        with grpc.insecure_channel(handle.address) as channel:
            assert health(health_pb2_grpc.HealthStub(channel), SERVICE_NAME) == health_pb2.HealthCheckResponse.SERVING
        assert DATABASE_UP.labels("ingest")._value.get() == 1
    finally:
        handle.stop(0)
    assert os.path.exists(tmp_path / "c.db")
