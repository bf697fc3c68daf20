"""chiso-grpc: list, describe and call a real service through its gRPC reflection alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.shared.processes import free_port
from tests.helpers import auth, ingest_server, setup_tokens

ROOT = Path(__file__).resolve().parents[2]
INGEST = "chiso.ingest.v1.IngestService"
UNIT = {"code": "H25", "name": "UBND tỉnh Phú Thọ", "kind": "UNIT_KIND_PROVINCE",
        "sourceTime": "2026-08-03T09:00:00+07:00"}


def grpc_cli(target: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # the client imports nothing generated: it runs with only the checkout (not gen/) importable; it
    # writes UTF-8 whatever the locale says
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C", "PYTHONIOENCODING": "ascii"}
    return subprocess.run([sys.executable, "-m", "services.shared.reflect_cli", "--target", target, *args],
                          cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, encoding="utf-8",
                          timeout=60, check=False)


def test_list_describe_call_and_errors(sqlite_url, tmp_path):
    with ingest_server(sqlite_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        target = handle.address

        out = grpc_cli(target, "list")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == sorted([INGEST, "grpc.health.v1.Health",
                                             "grpc.reflection.v1alpha.ServerReflection"])
        out = grpc_cli(target, "list", INGEST)
        assert out.returncode == 0, out.stderr
        assert f"{INGEST}/SyncUnits" in out.stdout.splitlines() and f"{INGEST}/GetBatch" in out.stdout.splitlines()

        out = grpc_cli(target, "describe", INGEST)
        assert out.returncode == 0, out.stderr
        assert "rpc SyncUnits(.chiso.ingest.v1.SyncUnitsRequest) returns (.chiso.ingest.v1.SyncUnitsResponse);" \
            in out.stdout
        assert "rpc StreamSync(stream .chiso.ingest.v1.StreamSyncRequest)" in out.stdout
        out = grpc_cli(target, "describe", f"{INGEST}/SyncUnits")
        assert out.returncode == 0, out.stderr
        assert "repeated .chiso.ingest.v1.UnitRecord records = 3;" in out.stdout
        out = grpc_cli(target, "describe", "chiso.ingest.v1.UnitRecord")
        assert out.returncode == 0, out.stderr
        assert "string parent_code = 4;  // JSON: parentCode" in out.stdout
        assert "enum chiso.types.v1.UnitKind: UNIT_KIND_UNSPECIFIED," in out.stdout

        # a real call, with metadata; its effect is visible through the generated stub too
        body = json.dumps({"requestId": "lô-đầu", "records": [UNIT]}, ensure_ascii=False)
        out = grpc_cli(target, "call", f"{INGEST}/SyncUnits", body, "-H", f"authorization=Bearer {tokens.national}")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)["result"]
        assert result["acceptedCount"] == 1 and result["requestId"] == "lô-đầu"
        assert result["statuses"] == ["RECORD_STATUS_ACCEPTED"]
        from chiso.ingest.v1 import ingest_pb2 as pb

        batch = stub.GetBatch(pb.GetBatchRequest(request_id="lô-đầu"), metadata=auth(tokens.national))
        assert batch.result.batch_id == result["batchId"]
        # the body from standard input, the header as "name: value"; the answer is stored one
        out = grpc_cli(target, "call", f"{INGEST}/GetBatch", "-", "-H", f"Authorization: Bearer {tokens.national}",
                       stdin='{"request_id": "lô-đầu"}')
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["result"]["batchId"] == result["batchId"]
        assert '"requestId": "lô-đầu"' in out.stdout  # UTF-8, diacritics kept
        (tmp_path / "units.json").write_text(json.dumps({"requestId": "units-2", "atomic": True, "records": [
            {**UNIT, "code": "H25.01", "name": "Sở Tư pháp", "kind": "UNIT_KIND_DEPARTMENT", "parentCode": "H99"}]},
            ensure_ascii=False), encoding="utf-8")

        # errors: the status code and details, exit 2
        out = grpc_cli(target, "call", f"{INGEST}/SyncUnits", body)
        assert out.returncode == 2 and out.stdout == ""
        assert "UNAUTHENTICATED" in out.stderr and "reason: MISSING_TOKEN (chiso.gov.vn)" in out.stderr, out.stderr
        out = grpc_cli(target, "call", f"{INGEST}/SyncUnits", f"@{tmp_path / 'units.json'}",
                       "-H", f"authorization=Bearer {tokens.national}")
        assert out.returncode == 2, out.stdout
        assert out.stderr.splitlines() == [
            "chiso-grpc: INVALID_ARGUMENT: atomic batch refused: 1 invalid record(s); nothing was stored",
            f"  reason: INVALID_RECORDS (chiso.gov.vn, batch_id={out.stderr.split('batch_id=')[1].split(',')[0]}, "
            "invalid_records=1)",
            "  field records[0].parent_code: UNKNOWN_UNIT: unit H99 is not known"], out.stderr
        out = grpc_cli(target, "call", f"{INGEST}/SyncUnits", '{"requestId": ""}',
                       "-H", f"authorization=Bearer {tokens.national}")
        assert out.returncode == 2 and "INVALID_ARGUMENT: request_id must be 1–128 printable" in out.stderr
        out = grpc_cli(target, "call", f"{INGEST}/GetBatch", '{"requestId": "nope"}',
                       "-H", f"authorization=Bearer {tokens.national}")
        assert out.returncode == 2 and "NOT_FOUND" in out.stderr, out.stderr

        # requests this client cannot make: exit 1, nothing sent
        for args, message in [
            (("call", f"{INGEST}/Nope"), f"{INGEST} has no method 'Nope'"),
            (("call", "chiso.nope.v1.Nope/Get"), "the server has no service 'chiso.nope.v1.Nope'"),
            (("call", f"{INGEST}/SyncUnits", '{"records": [{"colour": "đỏ"}]}'), 'no field named "colour"'),
            (("call", f"{INGEST}/SyncUnits", "{not json"), "the body is not JSON"),
            (("call", f"{INGEST}/StreamSync"), "streaming method"),
            (("call", f"{INGEST}/SyncUnits", "{}", "-H", "no-separator"), "a header is name=value"),
            (("describe", "chiso.nope.v1.Thing"), "no service 'chiso.nope.v1'"),
        ]:
            out = grpc_cli(target, *args)
            assert out.returncode == 1 and message in out.stderr, (args, out.stderr)

    # nobody listening: UNAVAILABLE, promptly
    out = grpc_cli(f"127.0.0.1:{free_port()}", "--timeout", "2", "list")
    assert out.returncode == 2 and "UNAVAILABLE" in out.stderr, out.stderr
