"""deploy/: Kubernetes manifests, Compose file, Dockerfile, entrypoint and health-check command.

No Docker daemon or cluster is needed. Every Kubernetes document is validated against the pinned
Kubernetes version's OpenAPI schemas in strict mode (unknown fields are errors) by
``kubernetes-validate``, which bundles them. The cross-checks take what the services really do from
the code, never from a list kept here: the console scripts from pyproject.toml, each script's settings
class and ``ENV_PREFIX`` (so the ``CHISO_*`` variables it reads, and its default ports), the gRPC
service name its health service reports, and the variables the image's entrypoint reads.

Each checker returns a list of problems; the tests assert the real files give none, and that a
deliberately broken copy gives the expected one (so the checks can fail).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from services.publish.receiver import KeyRing, build_receiver
from services.shared.config import CommonSettings, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.32.0"  # validated against this release's schemas (bundled by kubernetes-validate)
MEMORY_TARGET_BYTES = 300 * 1000 * 1000  # SPEC §8: any service ≤ 300 MB RSS
NAMESPACE = "chiso"
PLACEHOLDER_DB_URL = "postgresql+psycopg://chiso:x@db.invalid:5432/chiso"

# --------------------------------------------------------------------------- what the code says


@cache
def console_scripts() -> dict[str, str]:
    """``chiso-ingest`` → ``services.ingest.server`` (pyproject.toml [project.scripts])."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    return {name: target.split(":")[0] for name, target in scripts.items()}


@cache
def entrypoint_variables() -> frozenset[str]:
    """Variables deploy/docker-entrypoint.sh reads or sets (its *_FILE forms)."""
    text = (DEPLOY / "docker-entrypoint.sh").read_text()
    return frozenset(re.findall(r"\$\{?(CHISO_[A-Z0-9_]+)", text))


@dataclasses.dataclass(frozen=True)
class Program:
    """What one console script reads and serves, found in its module."""

    script: str
    module: str
    settings: type | None  # its CommonSettings subclass, if it has one
    prefix: str | None  # ENV_PREFIX when it loads that class from the environment (None: it takes flags)
    variables: frozenset[str]  # every CHISO_* variable it reads
    health_service: str | None  # full name of the gRPC service it registers with health
    http_health: str | None = None  # an HTTP server (the dashboard): the path its probes ask


@cache
def program(script: str) -> Program:
    module_name = console_scripts()[script]
    module = importlib.import_module(module_name)
    source = Path(module.__file__).read_text()
    prefix = getattr(module, "ENV_PREFIX", None)
    found = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, CommonSettings)
             and v.__module__ == module_name]
    assert len(found) <= 1, f"{module_name}: more than one settings class: {found}"
    settings = found[0] if found else None
    names: set[str] = set(re.findall(r"[\"'](CHISO_[A-Z0-9_]*[A-Z0-9])[\"']", source))  # os.environ.get("…")
    if prefix is not None:
        assert settings is not None, f"{module_name}: ENV_PREFIX without a settings class"
        common = {f.name for f in dataclasses.fields(CommonSettings)}
        for f in dataclasses.fields(settings):
            names.add(f"{prefix}{f.name.upper()}")
            if f.name in common:
                names.add(f"CHISO_{f.name.upper()}")  # the shared fallback (services/shared/config.py)
    return Program(script, module_name, settings, prefix, frozenset(names),
                   getattr(module, "SERVICE_NAME", None), getattr(module, "HTTP_HEALTH_PATH", None))


def program_of(command: list[str]) -> Program:
    """The program a container command runs (skipping the image's entrypoint when it is named)."""
    words = [w for w in command if not w.endswith("chiso-entrypoint")]
    assert words and words[0] in console_scripts(), f"not a console script of pyproject.toml: {command}"
    return program(words[0])


def servers() -> list[Program]:
    """The console scripts that run a server: gRPC (they register a service with health) or HTTP (they
    name the path their health is read at)."""
    return [program(s) for s in sorted(console_scripts())
            if program(s).health_service is not None or program(s).http_health is not None]


def targets_of(env: Mapping[str, str], command: list[str]) -> list[str]:
    """host:port of the chiso services a program calls, from its settings and flags."""
    names = ("CHISO_PUBLISH_SCORING_TARGET", "CHISO_WEB_PUBLISH_TARGET", "CHISO_WEB_SCORING_TARGET")
    return [t for t in (*(env.get(n) for n in names), flag(command, "--publish")) if t]


def allowed_variables(prog: Program) -> frozenset[str]:
    return prog.variables | entrypoint_variables()


def flag(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def is_credential(setting: str) -> bool:
    """A setting that holds a credential: the database URL (it carries the password), tokens, passwords."""
    return setting == "database_url" or setting.endswith(("_token", "_password"))


def is_alert_wiring(setting: str) -> bool:
    """A setting early-warning alerts need from a deployment (issue 19): publish's token for scoring's
    at-risk lists, the dashboard's URL alerts link to and the SMTP server (every ``smtp_*`` setting, but
    the optional CA bundle, a file the site mounts only when its relay has a private CA)."""
    return setting in ("scoring_token", "dashboard_url") or (setting.startswith("smtp_")
                                                             and not setting.endswith("_file"))


def wiring_problems(prog: Program, where: str, plain: set[str], secret: set[str]) -> list[str]:
    """``plain``: the variables a container gets as values (ConfigMaps, ``value``, Compose environment);
    ``secret``: those it gets from secrets (``secretKeyRef``; a Compose secret file through the
    entrypoint's ``*_FILE``). A credential setting is never plain; every alert setting is set."""
    if prog.settings is None or prog.prefix is None:
        return []
    problems = []
    common = {f.name for f in dataclasses.fields(CommonSettings)}
    for f in dataclasses.fields(prog.settings):
        names = {f"{prog.prefix}{f.name.upper()}"} | ({f"CHISO_{f.name.upper()}"} if f.name in common else set())
        if is_credential(f.name) and names & plain:
            problems.append(f"{where}: {sorted(names & plain)[0]} is a credential set in plain text, not from a secret")
        if is_alert_wiring(f.name) and is_credential(f.name) and not names & secret:
            problems.append(f"{where}: {sorted(names)[0]} is not wired from a secret (early-warning alerts need it)")
        elif is_alert_wiring(f.name) and not names & (plain | secret):
            problems.append(f"{where}: {sorted(names)[0]} is not set (early-warning alerts need it)")
    return problems


def compose_value(value: object) -> str:
    """A Compose environment value as the container sees it when the host sets none of the variables
    it interpolates: ``${VAR:-default}`` → default, ``${VAR}`` → empty."""
    return re.sub(r"\$\{[A-Z0-9_]+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", str(value))


# --------------------------------------------------------------------------- the Dockerfile


def dockerfile_instructions(text: str | None = None) -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text() if text is None else text
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    return instructions[starts[-1]:]


@cache
def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in final_stage(dockerfile_instructions()):
        if word == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", rest))
    return env


@cache
def image_uid() -> int:
    users = [rest for word, rest in final_stage(dockerfile_instructions()) if word == "USER"]
    return int(users[-1].split(":")[0])


def dockerfile_problems(text: str) -> list[str]:
    problems = []
    instructions = dockerfile_instructions(text)
    copied = [rest for word, rest in instructions if word == "COPY" and "--from" not in rest]
    if not any("constraints.txt" in c for c in copied):
        problems.append("constraints.txt is not copied into the build")
    for word, rest in instructions:
        if word == "RUN" and "pip install" in rest:
            for part in rest.split("&&"):
                if "pip install" in part and not re.search(r"(--constraint|-c)\s+constraints\.txt", part):
                    problems.append(f"pip install without --constraint constraints.txt: {part.strip()}")
                if "[dev]" in part:
                    problems.append("the image installs the dev extra")
    if not any(c.split()[0] == "gen" for c in copied):
        problems.append("gen/ (generated protobuf code) is not copied")
    final = final_stage(instructions)
    users = [rest for word, rest in final if word == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.append("the runtime stage does not switch to a non-root user")
    exposed = {int(p.split("/")[0]) for word, rest in final if word == "EXPOSE" for p in rest.split()}
    env = dict(kv for word, rest in final if word == "ENV" for kv in re.findall(r"(\w+)=(\S+)", rest))
    for prog in servers():
        if prog.prefix is None:  # takes flags: its default port
            ports = [prog.settings().port] if prog.settings is not None else []
        else:
            settings = load_settings(prog.settings, prog.prefix, environ=env)
            ports = [settings.port, settings.metrics_port]
            if settings.host not in ("0.0.0.0", "::"):  # noqa: S104 - what a container must listen on
                problems.append(f"{prog.script}: listens on {settings.host} in the image, unreachable from outside")
        for port in ports:
            if port not in exposed:
                problems.append(f"{prog.script}: port {port} (its default with the image's ENV) is not exposed")
    for name in env:
        if name.startswith("CHISO_") and not any(name in program(s).variables for s in console_scripts()):
            problems.append(f"ENV {name} is read by no program")
    return problems


def test_dockerfile_installs_pinned_runtime_and_exposes_the_services_ports():
    assert dockerfile_problems((DEPLOY / "Dockerfile").read_text()) == []


def test_dockerfile_checks_can_fail():
    text = (DEPLOY / "Dockerfile").read_text()
    broken = text.replace("--constraint constraints.txt --requirement", "--requirement")
    assert any("without --constraint" in p for p in dockerfile_problems(broken))
    broken = re.sub(r"^USER .*$", "USER root", text, flags=re.M)
    assert any("non-root" in p for p in dockerfile_problems(broken))
    broken = re.sub(r"^EXPOSE .*$", "EXPOSE 50051", text, flags=re.M)
    assert any("9103" in p for p in dockerfile_problems(broken))
    broken = text.replace("CHISO_HOST=0.0.0.0", "CHISO_HOST=127.0.0.1")
    assert any("unreachable" in p for p in dockerfile_problems(broken))


def _dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        for token in re.split(r"(\*\*/?|\*|\?)", pattern.strip("/")):
            out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        return re.compile(out + r"\Z")

    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate, pattern = raw.startswith("!"), raw.lstrip("!")
        if any(regex(pattern).match(c) for c in candidates):
            excluded = not negate
    return excluded


def test_dockerignore_sends_what_the_dockerfile_copies_and_no_secrets():
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    sources = [src for word, rest in dockerfile_instructions() if word == "COPY" and "--from" not in rest
               for src in rest.split()[:-1]]
    assert sources
    for src in sources:
        path = ROOT / src
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        needed = [str(p.relative_to(ROOT)) for p in files if "__pycache__" not in p.parts]
        assert needed, f"COPY {src}: nothing there"
        left_out = [p for p in needed if _dockerignore_excludes(patterns, p)]
        assert left_out == [], f"COPY {src}: .dockerignore leaves these out of the build context"
    for private in ("deploy/secrets/database_url", "deploy/secrets/publish_signing_key.pem", ".venv/bin/python",
                    "var/chiso.db", ".git/config", "services/ingest/__pycache__/server.cpython-311.pyc"):
        assert _dockerignore_excludes(patterns, private), f"{private} would be sent to the Docker daemon"


# --------------------------------------------------------------------------- Kubernetes


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


@cache
def k8s_documents() -> tuple[tuple[str, dict], ...]:
    docs = []
    for path in manifest_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((str(path.relative_to(K8S)), doc))
    return tuple(docs)


def _doc_id(item: tuple[str, dict]) -> str:
    path, doc = item
    return f"{path}:{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def strict_validate(doc: dict) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("item", k8s_documents(), ids=_doc_id)
def test_manifest_is_valid_for_the_pinned_kubernetes_version(item):
    _, doc = item
    strict_validate(doc)


def test_the_validator_rejects_broken_manifests():
    deployment = copy.deepcopy(next(d for _, d in k8s_documents() if d["kind"] == "Deployment"))
    strict_validate(deployment)
    container = deployment["spec"]["template"]["spec"]["containers"][0]

    unknown = copy.deepcopy(deployment)
    unknown["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["serviceName"] = "x"
    with pytest.raises(kubernetes_validate.ValidationError, match="serviceName"):
        strict_validate(unknown)
    kubernetes_validate.validate(unknown, K8S_VERSION, strict=False)  # what strict mode adds

    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = container["livenessProbe"]
    with pytest.raises(kubernetes_validate.ValidationError):
        strict_validate(misspelt)

    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["template"]["spec"]["containers"][0]["startupProbe"]["grpc"]["port"] = "grpc"
    with pytest.raises(kubernetes_validate.ValidationError):
        strict_validate(wrong_type)  # a gRPC probe's port must be a number

    nameless = copy.deepcopy(deployment)
    del nameless["spec"]["template"]["spec"]["containers"][0]["name"]
    with pytest.raises(kubernetes_validate.ValidationError):
        strict_validate(nameless)

    hpa = copy.deepcopy(next(d for _, d in k8s_documents() if d["kind"] == "HorizontalPodAutoscaler"))
    hpa["apiVersion"] = "autoscaling/v2beta1"  # removed in Kubernetes 1.25
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        strict_validate(hpa)


def test_every_manifest_is_in_the_namespace_and_listed_by_a_kustomization():
    listed: set[Path] = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(kustomization.read_text()).get("resources", []):
            target = (kustomization.parent / resource).resolve()
            if target.is_file():
                listed.add(target)
    examples = {p for p in manifest_files() if "examples" in p.parts}
    assert examples, "the example Secrets manifest is missing"
    assert set(manifest_files()) - examples == listed
    for path, doc in k8s_documents():
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, path
    for path in examples:
        text = path.read_text()
        assert "EXAMPLE" in text and "REPLACE-ME" in text, f"{path}: not clearly an example"


def test_kustomize_builds():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed (kustomize build not checked)")
    for overlay in ("base", "reference-portal"):
        out = subprocess.run([kubectl, "kustomize", str(K8S / overlay)], capture_output=True, text=True,
                             timeout=120, check=False)
        assert out.returncode == 0, out.stderr
        built = [d for d in yaml.safe_load_all(out.stdout) if d]
        for doc in built:
            strict_validate(doc)
        assert {d["kind"] for d in built} >= {"Namespace", "ConfigMap", "Job", "Deployment", "Service",
                                               "HorizontalPodAutoscaler", "PodDisruptionBudget"}


def _workloads(docs) -> Iterator[tuple[dict, dict]]:
    """(workload, pod spec) of every Deployment and Job."""
    for doc in docs:
        if doc["kind"] == "Deployment" or doc["kind"] == "Job":
            yield doc, doc["spec"]["template"]["spec"]


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _container_environ(container: dict, config_maps: dict, secrets: dict) -> tuple[dict[str, str], list[str]]:
    """(the environment a container sees — image ENV, envFrom, env — with Secret values from the
    documented examples, problems found on the way)."""
    env = dict(image_env())
    problems = []
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config_maps:
                problems.append(f"{container['name']}: envFrom ConfigMap {name} does not exist")
            env.update(config_maps.get(name, {}))
        if "secretRef" in source:
            name = source["secretRef"]["name"]
            if name not in secrets:
                problems.append(f"{container['name']}: envFrom Secret {name} is not documented")
            env.update(secrets.get(name, {}))
    for var in container.get("env", []):
        ref = var.get("valueFrom", {})
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "configMapKeyRef" in ref:
            name, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
            if key not in config_maps.get(name, {}):
                problems.append(f"{container['name']}: {var['name']} from ConfigMap {name} key {key}: no such key")
            env[var["name"]] = config_maps.get(name, {}).get(key, "")
        elif "secretKeyRef" in ref:
            name, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
            if key not in secrets.get(name, {}):
                problems.append(f"{container['name']}: {var['name']} from Secret {name} key {key}: "
                                "not in the documented example Secrets")
            env[var["name"]] = PLACEHOLDER_DB_URL if var["name"].endswith("DATABASE_URL") else "x"
        elif "fieldRef" in ref:
            env[var["name"]] = "pod-name"
        else:
            problems.append(f"{container['name']}: {var['name']} has no value")
    return env, problems


def _env_sources(container: dict, config_maps: dict) -> tuple[set[str], set[str]]:
    """(variables a container is given as plain values, variables it gets from Secrets). A variable in a
    ConfigMap that ``env`` overrides from a Secret is in both: its value still lies in the ConfigMap."""
    plain: set[str] = set()
    secret: set[str] = set()
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            plain |= set(config_maps.get(source["configMapRef"]["name"], {}))
    for var in container.get("env", []):
        ref = var.get("valueFrom", {})
        if "secretKeyRef" in ref:
            secret.add(var["name"])
        elif "value" in var or "configMapKeyRef" in ref:
            plain.add(var["name"])
    return plain, secret


def _probe_problems(container: dict, ports: set[int], prog: Program, port: int) -> list[str]:
    problems = []
    name = container["name"]
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        if probe is None:
            problems.append(f"{name}: no {kind}")
            continue
        if prog.http_health is not None:
            http = probe.get("httpGet")
            if http is None or http.get("path") != prog.http_health or http.get("port") not in ("http", port):
                problems.append(f"{name}: {kind} must be httpGet {prog.http_health} on its http port {port}")
            continue
        grpc = probe.get("grpc")
        if grpc is None:
            problems.append(f"{name}: {kind} is not a gRPC health probe")
            continue
        if grpc["port"] not in ports or grpc["port"] != port:
            problems.append(f"{name}: {kind} port {grpc['port']} is not its gRPC port {port}")
        if grpc.get("service", "") not in ("", prog.health_service):
            problems.append(f"{name}: {kind} asks for {grpc.get('service')!r}; the server registers "
                            f"'' and {prog.health_service!r}")
    return problems


def k8s_problems(docs: list[dict]) -> list[str]:
    """Cross-references and settings of the manifests (see the module doc)."""
    problems: list[str] = []
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"]: {**d.get("data", {}), **d.get("stringData", {})}
               for _, d in k8s_documents() if d["kind"] == "Secret"}  # the documented (example) Secrets
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    autoscaled = {d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    pod_labels = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}
    served: dict[str, int] = {}  # Service name → gRPC port it forwards
    targets: list[tuple[str, str]] = []  # (container, host:port it calls)

    for workload, pod in _workloads(docs):
        wname = workload["metadata"]["name"]
        if workload["kind"] == "Deployment":
            if not _matches(workload["spec"]["selector"]["matchLabels"], pod_labels[wname]):
                problems.append(f"{wname}: its selector does not match its pod labels")
            if wname in autoscaled and "replicas" in workload["spec"]:
                problems.append(f"{wname}: sets replicas although an HPA owns them")
        security = pod.get("securityContext", {})
        if security.get("runAsNonRoot") is not True or security.get("runAsUser") != image_uid():
            problems.append(f"{wname}: pod must run as non-root uid {image_uid()} (the image's user)")
        secret_volumes = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
        for volume in secret_volumes.values():
            keys = [item["key"] for item in volume.get("items", [])]
            if volume["secretName"] not in secrets or any(k not in secrets[volume["secretName"]] for k in keys):
                problems.append(f"{wname}: Secret volume {volume['secretName']} {keys} is not documented")
        for container in pod.get("initContainers", []) + pod["containers"]:
            cname = f"{wname}/{container['name']}"
            command = container.get("command", []) + container.get("args", [])
            prog = program_of(command)
            env, found = _container_environ(container, config_maps, secrets)
            problems += [f"{wname}/{p}" for p in found]
            visible = {k for k in env if k.startswith("CHISO_")} - set(image_env())
            for unread in sorted(visible - allowed_variables(prog)):
                problems.append(f"{cname}: {unread} is set but {prog.script} does not read it")
            sc = container.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("readOnlyRootFilesystem") is not True \
                    or sc.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{cname}: securityContext must drop ALL, forbid escalation, read-only root")
            limits = container.get("resources", {}).get("limits", {})
            requests = container.get("resources", {}).get("requests", {})
            if not {"cpu", "memory"} <= set(limits) or not {"cpu", "memory"} <= set(requests):
                problems.append(f"{cname}: needs cpu and memory requests and limits")
            if container in pod.get("initContainers", []) or workload["kind"] == "Job":
                continue
            # --- a long-running server
            if _bytes(limits.get("memory", "0")) < MEMORY_TARGET_BYTES:
                problems.append(f"{cname}: memory limit {limits.get('memory')} is below the 300 MB target, "
                                "so a service meeting it could be killed")
            ports = {p["containerPort"]: p.get("name") for p in container.get("ports", [])}
            if prog.prefix is not None:
                try:
                    settings = load_settings(prog.settings, prog.prefix, environ=env)
                except ConfigError as exc:
                    problems.append(f"{cname}: the service would refuse its settings: {exc}")
                    continue
                port, metrics, grace, host = (settings.port, settings.metrics_port, settings.grace_seconds,
                                              settings.host)
                if metrics <= 0 or ports.get(metrics) != "metrics":
                    problems.append(f"{cname}: metrics port {metrics} is not a container port named metrics")
                annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
                if annotations.get("prometheus.io/port") not in (None, str(metrics)):
                    problems.append(f"{cname}: prometheus.io/port is not the metrics port {metrics}")
                key_file = getattr(settings, "signing_key_file", None)
                if key_file and not any(
                        m["name"] in secret_volumes and key_file == f"{m['mountPath'].rstrip('/')}/{item['path']}"
                        for m in container.get("volumeMounts", [])
                        for item in secret_volumes.get(m["name"], {}).get("items", [])):
                    problems.append(f"{cname}: signing key file {key_file} is not mounted from a Secret")
                problems += wiring_problems(prog, cname, *_env_sources(container, config_maps))
            else:  # the reference portal: flags
                port, grace, host = int(flag(command, "--port") or 0), 10.0, flag(command, "--host")
            if host not in ("0.0.0.0", "::"):  # noqa: S104
                problems.append(f"{cname}: listens on {host}: unreachable from the Service")
            port_name = "http" if prog.http_health is not None else "grpc"
            if ports.get(port) != port_name:
                problems.append(f"{cname}: {port_name} port {port} is not a container port named {port_name}")
            problems += [f"{wname}/{p}" for p in _probe_problems(container, set(ports), prog, port)]
            stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
            sleep = float(stop[1]) if stop[:1] == ["sleep"] else 0.0
            if pod.get("terminationGracePeriodSeconds", 30) < sleep + grace + 5:
                problems.append(f"{cname}: terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds')}"
                                f" < preStop {sleep:g} s + drain {grace:g} s + 5 s")
            for svc in services.values():
                if _matches(svc["spec"]["selector"], pod_labels[wname]):
                    for p in svc["spec"]["ports"]:
                        if isinstance(p["targetPort"], str) and p["targetPort"] not in ports.values():
                            problems.append(f"Service {svc['metadata']['name']}: targetPort {p['targetPort']} "
                                            f"is not a port of {cname}")
                        if p["targetPort"] in ("grpc", port):
                            served[svc["metadata"]["name"]] = p["port"]
            targets += [(cname, t) for t in targets_of(env, command)]

    for svc in services.values():
        if not any(_matches(svc["spec"]["selector"], labels) for labels in pod_labels.values()):
            problems.append(f"Service {svc['metadata']['name']}: its selector matches no Deployment's pods")
    for doc in docs:
        if doc["kind"] == "HorizontalPodAutoscaler":
            ref = doc["spec"]["scaleTargetRef"]
            if ref["kind"] != "Deployment" or ref["name"] not in deployments:
                problems.append(f"HPA {doc['metadata']['name']}: targets missing {ref['kind']}/{ref['name']}")
            if doc["spec"].get("minReplicas", 1) < 2:
                problems.append(f"HPA {doc['metadata']['name']}: fewer than 2 replicas leaves no PDB headroom")
        if doc["kind"] == "PodDisruptionBudget":
            selector = doc["spec"]["selector"]["matchLabels"]
            if not any(_matches(selector, labels) for labels in pod_labels.values()):
                problems.append(f"PDB {doc['metadata']['name']}: its selector matches no Deployment's pods")
    for name in autoscaled & set(deployments):
        labels = pod_labels[name]
        if not any(d["kind"] == "PodDisruptionBudget" and _matches(d["spec"]["selector"]["matchLabels"], labels)
                   for d in docs):
            problems.append(f"{name}: autoscaled Deployment without a PodDisruptionBudget")
    for cname, target in targets:
        host, _, port = target.rpartition(":")
        name = host.split(".")[0]  # chiso-scoring or chiso-scoring.chiso.svc…
        if name not in services:
            problems.append(f"{cname}: target {target}: no Service {name}")
        elif served.get(name) != int(port):
            problems.append(f"{cname}: target {target}: no Service {name} forwarding port {port} to a gRPC port")
    return problems


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
    m = re.fullmatch(r"(\d+)([A-Za-z]*)", str(quantity))
    assert m, quantity
    return int(m.group(1)) * units.get(m.group(2), 1)


def overlay_documents(overlay: str = "reference-portal") -> list[dict]:
    """The documents an overlay deploys: its kustomization's resources, recursively (no kubectl)."""
    def collect(folder: Path) -> list[dict]:
        out = []
        for resource in yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]:
            target = (folder / resource).resolve()
            out += collect(target) if target.is_dir() else [d for d in yaml.safe_load_all(target.read_text()) if d]
        return out

    return collect(K8S / overlay)


def test_manifests_cross_references_and_settings_hold():
    assert k8s_problems(copy.deepcopy(overlay_documents("base"))) == []
    assert k8s_problems(copy.deepcopy(overlay_documents("reference-portal"))) == []


def _doc(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _container(docs: list[dict], deployment: str) -> dict:
    return _doc(docs, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(("breakage", "expected"), [
    (lambda d: _doc(d, "Service", "chiso-scoring")["spec"]["selector"].update(
        {"app.kubernetes.io/component": "scorer"}), "matches no Deployment"),
    (lambda d: _doc(d, "HorizontalPodAutoscaler", "chiso-publish")["spec"]["scaleTargetRef"].update(
        name="chiso-publisher"), "targets missing"),
    (lambda d: _doc(d, "PodDisruptionBudget", "chiso-ingest")["spec"]["selector"]["matchLabels"].update(
        {"app.kubernetes.io/component": "ingester"}), "PDB chiso-ingest"),
    (lambda d: _container(d, "chiso-ingest")["readinessProbe"]["grpc"].update(port=50052), "readinessProbe port"),
    (lambda d: _container(d, "chiso-scoring")["livenessProbe"]["grpc"].update(
        service="chiso.scoring.v1.Scoring"), "the server registers"),
    (lambda d: _doc(d, "ConfigMap", "chiso-ingest")["data"].update(CHISO_INGEST_MAX_BATCH=("100")), "does not read"),
    (lambda d: _doc(d, "ConfigMap", "chiso-scoring")["data"].update(CHISO_PUBLISH_FOLLOW="false"), "does not read"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].update(CHISO_PUBLISH_LEASE_SECONDS="5"),
     "refuse its settings"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].update(
        CHISO_PUBLISH_SCORING_TARGET="chiso-scorer:50052"), "no Service chiso-scorer"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].update(
        CHISO_PUBLISH_SCORING_TARGET="chiso-scoring:50053"), "no Service chiso-scoring forwarding port 50053"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].update(
        CHISO_PUBLISH_SIGNING_KEY_FILE="/etc/chiso/key.pem"), "not mounted from a Secret"),
    (lambda d: _doc(d, "ConfigMap", "chiso-common")["data"].update(CHISO_GRACE_SECONDS="60"),
     "terminationGracePeriodSeconds"),
    (lambda d: _doc(d, "ConfigMap", "chiso-common")["data"].update(CHISO_HOST="127.0.0.1"), "unreachable"),
    (lambda d: _doc(d, "ConfigMap", "chiso-scoring")["data"].update(CHISO_SCORING_METRICS_PORT="9200"),
     "metrics port 9200"),
    (lambda d: _container(d, "chiso-ingest")["env"][0]["valueFrom"]["secretKeyRef"].update(key="dsn"),
     "not in the documented example Secrets"),
    (lambda d: _container(d, "chiso-ingest")["envFrom"].append({"configMapRef": {"name": "chiso-extra"}}),
     "ConfigMap chiso-extra does not exist"),
    (lambda d: _container(d, "chiso-ingest")["env"].append(
        {"name": "CHISO_INGEST_TOKEN_CACHE_SECONDS", "valueFrom": {"configMapKeyRef": {
            "name": "chiso-ingest", "key": "TOKEN_CACHE"}}}), "no such key"),
    (lambda d: _container(d, "chiso-publish")["resources"]["limits"].update(memory="256Mi"), "below the 300 MB"),
    (lambda d: _doc(d, "Deployment", "chiso-scoring")["spec"].update(replicas=3), "an HPA owns them"),
    (lambda d: _container(d, "chiso-portal")["args"].__setitem__(3, "127.0.0.1"), "unreachable"),
    (lambda d: _container(d, "chiso-portal")["args"].__setitem__(-1, "chiso-publish:50063"), "port 50063"),
    (lambda d: _container(d, "chiso-web")["readinessProbe"]["httpGet"].update(path="/"), "must be httpGet /healthz"),
    (lambda d: _container(d, "chiso-web")["ports"][0].update(name="grpc"), "http port 8080"),
    (lambda d: _doc(d, "ConfigMap", "chiso-web")["data"].update(CHISO_WEB_PUBLISH_TARGET="chiso-publish:50052"),
     "target chiso-publish:50052"),
    (lambda d: _container(d, "chiso-publish").update(env=[
        v for v in _container(d, "chiso-publish")["env"] if v["name"] != "CHISO_PUBLISH_SCORING_TOKEN"]),
     "CHISO_PUBLISH_SCORING_TOKEN is not wired from a secret"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].update(CHISO_PUBLISH_SMTP_PASSWORD="hunter2"),  # noqa: S106
     "CHISO_PUBLISH_SMTP_PASSWORD is a credential set in plain text"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].pop("CHISO_PUBLISH_SMTP_HOST"),
     "CHISO_PUBLISH_SMTP_HOST is not set"),
    (lambda d: _doc(d, "ConfigMap", "chiso-publish")["data"].update(CHISO_PUBLISH_SMTP_PORT="smtp"),
     "refuse its settings"),
])
def test_manifest_cross_checks_can_fail(breakage, expected):
    docs = copy.deepcopy(overlay_documents("reference-portal"))
    breakage(docs)
    problems = k8s_problems(docs)
    assert any(expected in p for p in problems), problems


# --------------------------------------------------------------------------- Compose


@cache
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _service_command(svc: dict) -> list[str]:
    entry = svc.get("entrypoint") or []
    entry = shlex.split(entry) if isinstance(entry, str) else entry
    cmd = svc.get("command") or []
    return [*entry, *(shlex.split(cmd) if isinstance(cmd, str) else cmd)]


def compose_problems(spec: dict) -> list[str]:
    problems: list[str] = []
    services = spec["services"]
    secrets = spec.get("secrets", {})
    ports_of: dict[str, int] = {}
    pending: list[tuple[str, str]] = []
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            if dep not in services:
                problems.append(f"{name}: depends on unknown service {dep}")
            elif cond.get("condition") == "service_healthy" and "healthcheck" not in services[dep]:
                problems.append(f"{name}: waits for {dep} to be healthy, which has no healthcheck")
        for secret in svc.get("secrets", []):
            if (secret if isinstance(secret, str) else secret["source"]) not in secrets:
                problems.append(f"{name}: unknown secret {secret}")
        if not str(svc.get("image", "")).startswith("${CHISO_IMAGE"):
            continue
        # --- a chiso container
        build = svc.get("build", {})
        if (DEPLOY / build.get("context", ".") / build.get("dockerfile", "")).resolve() != DEPLOY / "Dockerfile":
            problems.append(f"{name}: not built from deploy/Dockerfile")
        command = _service_command(svc)
        prog = program_of(command)
        env = {k: compose_value(v) for k, v in (svc.get("environment") or {}).items()}
        for unread in sorted(k for k in env if k.startswith("CHISO_") and k not in allowed_variables(prog)):
            problems.append(f"{name}: {unread} is set but {prog.script} does not read it")
        mounted = {s if isinstance(s, str) else s["source"] for s in svc.get("secrets", [])}
        for var, value in env.items():
            if var.endswith("_FILE") and value.startswith("/run/secrets/") and value[13:] not in mounted:
                problems.append(f"{name}: {var} names secret {value[13:]}, which it does not mount")
        if prog.health_service is None and prog.http_health is None:  # migrate, admin tools: one-shot
            if svc.get("restart", "no") != "no":
                problems.append(f"{name}: a one-shot command must not restart")
            continue
        environ = {**image_env(), **env}
        if "CHISO_DATABASE_URL_FILE" in environ:
            environ["CHISO_DATABASE_URL"] = PLACEHOLDER_DB_URL
        if prog.prefix is not None:
            try:
                settings = load_settings(prog.settings, prog.prefix, environ=environ)
            except ConfigError as exc:
                problems.append(f"{name}: the service would refuse its settings: {exc}")
                continue
            port, grace, host = settings.port, settings.grace_seconds, settings.host
            from_files = {var.removesuffix("_FILE") for var, value in env.items()
                          if var.endswith("_FILE") and var in entrypoint_variables()
                          and value.startswith("/run/secrets/") and value[13:] in mounted}
            problems += wiring_problems(prog, name, {k for k in env if not k.endswith("_FILE")}, from_files)
            if prog.http_health is None:  # the dashboard uses no database
                if "CHISO_DATABASE_URL_FILE" not in env or "database_url" not in mounted:
                    problems.append(f"{name}: no database URL secret")
                if "migrate" not in (svc.get("depends_on") or {}) or \
                        svc["depends_on"]["migrate"].get("condition") != "service_completed_successfully":
                    problems.append(f"{name}: does not wait for the migration to complete")
        else:
            port, grace, host = int(flag(command, "--port") or 0), 10.0, flag(command, "--host")
        ports_of[name] = port
        if host not in ("0.0.0.0", "::"):  # noqa: S104
            problems.append(f"{name}: listens on {host}: unreachable from the other containers")
        test = (svc.get("healthcheck") or {}).get("test", [])
        if prog.http_health is not None:
            if test[:2] != ["CMD", "chiso-healthcheck"] or test[2:3] != [f"http://127.0.0.1:{port}{prog.http_health}"]:
                problems.append(f"{name}: healthcheck must be chiso-healthcheck http://127.0.0.1:{port}"
                                f"{prog.http_health}")
        elif test[:2] != ["CMD", "chiso-healthcheck"] or not str(test[2]).endswith(f":{port}") \
                or flag(test, "--service") != prog.health_service:
            problems.append(f"{name}: healthcheck must be chiso-healthcheck on port {port} "
                            f"--service {prog.health_service}")
        for mapping in svc.get("ports", []):
            if not str(mapping).endswith(f":{port}"):
                problems.append(f"{name}: publishes {mapping}, not its gRPC port {port}")
        stop = svc.get("stop_grace_period", "10s")
        if float(str(stop).rstrip("s")) < grace + 5:
            problems.append(f"{name}: stop_grace_period {stop} < drain {grace:g} s + 5 s")
        pending += [(name, target) for target in targets_of(env, command)]
    for name, target in pending:
        host, _, port = target.rpartition(":")
        if ports_of.get(host) != int(port):
            problems.append(f"{name}: target {target} is not a chiso service's gRPC port")
    return problems


def test_compose_services_healthchecks_and_env_hold():
    spec = compose()
    assert {"postgres", "migrate", "ingest", "scoring", "publish", "portal", "web"} <= set(spec["services"])
    assert compose_problems(copy.deepcopy(spec)) == []
    assert _service_command(spec["services"]["migrate"]) == ["chiso-admin", "migrate"]
    assert spec["services"]["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    ignored = (DEPLOY / "secrets" / ".gitignore").read_text().split()
    assert "*" in ignored and "!.gitignore" in ignored, "deploy/secrets/ must be git-ignored but for .gitignore"
    for secret in spec["secrets"].values():
        assert (DEPLOY / secret["file"]).resolve().parent == DEPLOY / "secrets", secret


@pytest.mark.parametrize(("breakage", "expected"), [
    (lambda s: s["services"]["ingest"]["environment"].update(CHISO_INGEST_BATCH="10"), "does not read"),
    (lambda s: s["services"]["scoring"]["environment"].update(CHISO_SCORING_POLL_SECONDS="soon"),
     "refuse its settings"),
    (lambda s: s["services"]["publish"]["healthcheck"]["test"].__setitem__(2, "127.0.0.1:50052"),
     "healthcheck must be"),
    (lambda s: s["services"]["portal"]["healthcheck"]["test"].__setitem__(-1, "chiso.publish.v1.PublishService"),
     "healthcheck must be"),
    (lambda s: s["services"]["publish"]["environment"].update(CHISO_PUBLISH_SCORING_TARGET="scoring:50053"),
     "target scoring:50053"),
    (lambda s: s["services"]["publish"]["secrets"].remove("publish_signing_key"), "does not mount"),
    (lambda s: s["services"]["ingest"]["depends_on"].pop("migrate"), "migration"),
    (lambda s: s["services"]["portal"]["depends_on"].update(migrate={"condition": "service_healthy"}),
     "no healthcheck"),
    (lambda s: s["services"]["scoring"].update(stop_grace_period="10s"), "stop_grace_period"),
    (lambda s: s["services"]["ingest"]["environment"].update(CHISO_INGEST_PORT="50061"), "publishes"),
    (lambda s: s["services"]["web"]["healthcheck"]["test"].__setitem__(2, "http://127.0.0.1:8080/"),
     "healthcheck must be"),
    (lambda s: s["services"]["web"]["environment"].update(CHISO_WEB_SCORING_TARGET="scoring:50053"),
     "target scoring:50053"),
    (lambda s: s["services"]["publish"]["environment"].pop("CHISO_PUBLISH_SCORING_TOKEN_FILE"),
     "CHISO_PUBLISH_SCORING_TOKEN is not wired from a secret"),
    (lambda s: s["services"]["publish"]["secrets"].remove("smtp_password"),
     "CHISO_PUBLISH_SMTP_PASSWORD is not wired from a secret"),
    (lambda s: s["services"]["publish"]["environment"].update(CHISO_PUBLISH_SMTP_PASSWORD="hunter2"),  # noqa: S106
     "CHISO_PUBLISH_SMTP_PASSWORD is a credential set in plain text"),
    (lambda s: s["services"]["publish"]["environment"].pop("CHISO_PUBLISH_SMTP_FROM"),
     "CHISO_PUBLISH_SMTP_FROM is not set"),
    (lambda s: s["services"]["publish"]["environment"].update(
        CHISO_PUBLISH_SMTP_STARTTLS="${CHISO_PUBLISH_SMTP_STARTTLS:-maybe}"), "refuse its settings"),
])
def test_compose_checks_can_fail(breakage, expected):
    spec = copy.deepcopy(compose())
    breakage(spec)
    problems = compose_problems(spec)
    assert any(expected in p for p in problems), problems


# --------------------------------------------------------------------------- image scripts


def _load_healthcheck():
    spec = importlib.util.spec_from_file_location("chiso_healthcheck", DEPLOY / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_healthcheck_command_follows_a_real_servers_health(tmp_path):
    healthcheck = _load_healthcheck()
    prog = program("chiso-portal")
    handle = build_receiver(tmp_path / "portal.db", KeyRing(), port=0)
    try:
        assert healthcheck.main([handle.address, "--service", prog.health_service, "--timeout", "2"]) == 1
        handle.start()
        assert healthcheck.main([handle.address, "--service", prog.health_service]) == 0
        assert healthcheck.main([handle.address]) == 0
        assert healthcheck.main([handle.address, "--service", "chiso.nothing.v1.Nothing"]) == 1
    finally:
        handle.stop(0)
    assert healthcheck.main([handle.address, "--timeout", "1"]) == 1


def test_healthcheck_command_reads_the_dashboards_http_health():
    from services.web.server import WebSettings, build

    healthcheck = _load_healthcheck()
    prog = program("chiso-web")
    handle = build(WebSettings(port=0, metrics_port=-1, publish_target="127.0.0.1:9", scoring_target="127.0.0.1:9"))
    url = f"{handle.address}{prog.http_health}"
    handle.start()
    try:
        assert healthcheck.main([url]) == 0
        assert healthcheck.main([f"{handle.address}/khong-co"]) == 1  # 404
    finally:
        handle.stop()
    assert healthcheck.main([url, "--timeout", "1"]) == 1  # nothing listens


def test_entrypoint_turns_secret_files_into_variables(tmp_path):
    url_file = tmp_path / "database_url"
    url_file.write_text(PLACEHOLDER_DB_URL + "\n")
    env = {"PATH": os.environ["PATH"], "CHISO_DATABASE_URL_FILE": str(url_file)}
    script = str(DEPLOY / "docker-entrypoint.sh")
    out = subprocess.run(["sh", script, "env"], env=env, capture_output=True, text=True, check=True).stdout
    seen = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert seen["CHISO_DATABASE_URL"] == PLACEHOLDER_DB_URL
    assert "CHISO_DATABASE_URL_FILE" not in seen
    token_file, password_file = tmp_path / "publish_scoring_token", tmp_path / "smtp_password"
    token_file.write_text("tok-123\n")
    password_file.write_text("")  # no SMTP login: set, empty
    out = subprocess.run(["sh", script, "env"], env={**env, "CHISO_PUBLISH_SCORING_TOKEN_FILE": str(token_file),
                                                     "CHISO_PUBLISH_SMTP_PASSWORD_FILE": str(password_file)},
                         capture_output=True, text=True, check=True).stdout
    seen = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert seen["CHISO_PUBLISH_SCORING_TOKEN"] == "tok-123" and seen["CHISO_PUBLISH_SMTP_PASSWORD"] == ""  # noqa: S105
    assert not {"CHISO_PUBLISH_SCORING_TOKEN_FILE", "CHISO_PUBLISH_SMTP_PASSWORD_FILE"} & set(seen)
    missing = subprocess.run(["sh", script, "env"], env={**env, "CHISO_TOKEN_FILE": str(tmp_path / "nope")},
                             capture_output=True, text=True, check=False)
    assert missing.returncode != 0
    assert subprocess.run(["sh", script], env=env, capture_output=True, check=False).returncode == 64


def test_make_secrets_writes_usable_secrets_once(tmp_path):
    from sqlalchemy.engine import make_url

    from services.publish.signing import load_key_file

    shutil.copy(DEPLOY / "make-secrets.sh", tmp_path)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["sh", str(tmp_path / "make-secrets.sh")], env=env, check=True, capture_output=True)
    secrets = tmp_path / "secrets"
    url = make_url((secrets / "database_url").read_text())
    assert url.drivername == "postgresql+psycopg" and url.password == (secrets / "db_password").read_text()
    signer = load_key_file(secrets / "publish_signing_key.pem")
    for secret in compose()["secrets"].values():
        assert (tmp_path / secret["file"]).exists(), secret
    subprocess.run(["sh", str(tmp_path / "make-secrets.sh")], env=env, check=True, capture_output=True)
    assert load_key_file(secrets / "publish_signing_key.pem").key_id == signer.key_id  # kept, not replaced


# --------------------------------------------------------------------------- OPERATIONS.md


def test_operations_guide_documents_exactly_the_real_variables():
    """Every variable a program reads is in OPERATIONS.md, and every CHISO_* name it mentions exists."""
    text = (ROOT / "OPERATIONS.md").read_text()
    mentioned = set(re.findall(r"`(CHISO_[A-Z0-9_]*[A-Z0-9])`", text))
    compose_interpolated = set(re.findall(r"\$\{(CHISO_[A-Z0-9_]+)", (DEPLOY / "compose.yaml").read_text()))
    real = set(entrypoint_variables()).union(compose_interpolated, *(program(s).variables for s in console_scripts()))
    common = {f.name.upper() for f in dataclasses.fields(CommonSettings)}
    # the per-service form of a common setting is covered by its shared row (CHISO_<SETTING>)
    covered = {v for v in real for p in servers() if p.prefix and v.startswith(p.prefix)
               and v.removeprefix(p.prefix) in common and f"CHISO_{v.removeprefix(p.prefix)}" in mentioned}
    assert real - mentioned - covered == set(), "document these in OPERATIONS.md §2"
    assert mentioned - real == set(), "OPERATIONS.md names variables no program reads"
