"""A client in another language (Node's @grpc/grpc-js) pushes a batch using only protos/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from services.shared.schema import dossiers
from tests.conftest import IN_CI
from tests.helpers import ingest_server, seed_units, setup_tokens

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "node" / "push_batch.js"


def test_node_grpc_js_client_pushes_a_batch(sqlite_url):
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@grpc" / "grpc-js").is_dir():
        (pytest.fail if IN_CI else pytest.skip)("node or node_modules missing: run `make setup`")
    with ingest_server(sqlite_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        out = subprocess.run([node, str(SCRIPT), handle.address, tokens.phu_tho], capture_output=True,
                             text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        first, again = result["first"], result["again"]
        assert first["statuses"] == ["RECORD_STATUS_ACCEPTED", "RECORD_STATUS_ACCEPTED",
                                     "RECORD_STATUS_PERMISSION_DENIED"]
        assert first["errors"][0]["reason"] == "OUT_OF_GRANT" and first["errors"][0]["index"] == 2
        assert again["replayed"] is True and again["batchId"] == first["batchId"]
        with db.read() as conn:
            rows = conn.execute(select(dossiers.c.code, dossiers.c.end_state, dossiers.c.rating)
                                .order_by(dossiers.c.code)).all()
        assert rows == [("NODE-1", 0, 0), ("NODE-2", 2, 1)]
