"""Standard gRPC tools on real servers: reflection v1 and v1alpha, and the README's `buf curl` lines
run as written (only make run's directory and ports replaced by this test's)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from google.rpc import error_details_pb2

from tests.helpers import ingest_server, publish_server, scoring_server, seed_units, setup_tokens, signing_key_file

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"
BUF_CURL = [str(BUF), "curl", "--protocol", "grpc", "--http2-prior-knowledge"]


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8").split(heading, 1)[1]
    return text.split("```sh\n", 1)[1].split("```", 1)[0]


def buf(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BUF_CURL, *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                          timeout=60, check=False)


@pytest.fixture(scope="module", autouse=True)
def _buf_installed():
    if not BUF.exists():
        pytest.fail("node_modules/.bin/buf is missing: run make setup", pytrace=False)


@pytest.mark.parametrize("protocol", ["grpc-v1", "grpc-v1alpha"])
def test_reflection_v1_and_v1alpha(sqlite_url, protocol):
    with ingest_server(sqlite_url) as (_stub, _db, handle):
        out = buf("--reflect-protocol", protocol, "--list-services", f"http://{handle.address}")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["chiso.ingest.v1.IngestService", "grpc.health.v1.Health",
                                      "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
        # a method's types resolved through reflection, reflection's own v1 service included
        out = buf("--reflect-protocol", protocol, "--list-methods", f"http://{handle.address}")
        assert out.returncode == 0, out.stderr
        assert {"chiso.ingest.v1.IngestService/SyncUnits", "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                "grpc.health.v1.Health/Check"} <= set(out.stdout.split())
        out = buf("--reflect-protocol", protocol, f"http://{handle.address}/grpc.health.v1.Health/Check")
        assert out.returncode == 0 and json.loads(out.stdout) == {"status": "SERVING"}, out


def test_readme_buf_curl_lines_work_as_written(db_url, tmp_path):
    block = readme_block("## Standard gRPC tools")
    assert block.startswith('BUF="node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge"'), block
    key = signing_key_file(tmp_path)
    with ingest_server(db_url) as (stub, db, ingest), scoring_server(db_url) as (_s, scoring), \
            publish_server(db_url, scoring.address, key_file=key) as (_p, publish):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        var = tmp_path / "demo"
        var.mkdir()
        (var / "demo-operator.token").write_text(tokens.operator + "\n", encoding="utf-8")
        (var / "demo-source.token").write_text(tokens.national + "\n", encoding="utf-8")
        script = (block.replace("var/demo/", f"{var}/").replace("127.0.0.1:50051", ingest.address)
                  .replace("127.0.0.1:50052", scoring.address).replace("127.0.0.1:50053", publish.address))
        # each command alone, so that each one's output can be read
        lines = script.replace("\\\n", " ").splitlines()
        setup, commands = lines[0], lines[1:]
        outputs = []
        for command in commands:
            done = subprocess.run(["bash", "-ec", f"{setup}\n{command}"], cwd=ROOT, capture_output=True, text=True,
                                  encoding="utf-8", timeout=60, check=False)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
            outputs.append(done.stdout)
    services, methods, health, scorecard, ranking, subscriptions, validated = outputs
    assert "chiso.publish.v1.PublishService" in services.split()
    assert "chiso.ingest.v1.IngestService/SyncUnits" in methods.split()
    assert json.loads(health) == {"status": "SERVING"}
    card = json.loads(scorecard)["scorecard"]
    assert (card["unit"]["code"], card["unit"]["name"]) == ("H25", "UBND tỉnh Phú Thọ")
    assert json.loads(ranking)["ranking"]["unitKind"] == "UNIT_KIND_PROVINCE"
    assert json.loads(subscriptions) == {}  # none yet: an operator's call, allowed
    result = json.loads(validated)["result"]
    assert result["acceptedCount"] == 1 and "batchId" not in result, result  # judged, not stored


def test_buf_curl_shows_a_refusal_with_its_details(sqlite_url):
    with ingest_server(sqlite_url) as (_stub, db, handle):
        tokens = setup_tokens(db)
        body = json.dumps({"requestId": "r", "atomic": True, "records": [
            {"code": "h25", "name": "x", "kind": "UNIT_KIND_PROVINCE", "sourceTime": "2026-08-03T09:00:00+07:00"}]})
        out = buf("-H", f"authorization: Bearer {tokens.national}", "-d", body,
                  f"http://{handle.address}/chiso.ingest.v1.IngestService/SyncUnits")
    assert out.returncode != 0
    error = json.loads(out.stderr)
    assert error["code"] == "invalid_argument" and "atomic batch refused" in error["message"], error
    assert [d["type"] for d in error["details"]] == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]
    bad = error_details_pb2.BadRequest.FromString(base64.b64decode(error["details"][1]["value"] + "=="))
    assert [v.field for v in bad.field_violations] == ["records[0].code"], bad
