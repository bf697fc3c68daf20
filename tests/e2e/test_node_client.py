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


PULL = ROOT / "tests" / "node" / "pull_scorecard.js"


def test_node_grpc_js_client_pulls_the_scorecard_and_the_feed(sqlite_url, tmp_path):
    """The national portal's side in Node, from protos/ alone: the scorecard of the unit the batch
    was pushed for, from scoring, and publish's change feed — the same values Python's stubs get."""
    from chiso.scoring.v1 import scoring_pb2
    from chiso.types.v1 import types_pb2 as tpb

    from tests.helpers import publish_server, scoring_server, signing_key_file, wait_scored

    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@grpc" / "grpc-js").is_dir():
        (pytest.fail if IN_CI else pytest.skip)("node or node_modules missing: run `make setup`")
    with ingest_server(sqlite_url) as (stub, db, handle), scoring_server(sqlite_url) as (scoring, sh):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        pushed = subprocess.run([node, str(SCRIPT), handle.address, tokens.phu_tho], capture_output=True,
                                text=True, timeout=60, check=False)
        assert pushed.returncode == 0, pushed.stderr
        wait_scored(db)
        with publish_server(sqlite_url, sh.address, key_file=signing_key_file(tmp_path)) as (_pub, ph):
            import time

            deadline = time.monotonic() + 60
            while True:  # publish has recorded H25.01's August live scorecard
                out = subprocess.run([node, str(PULL), sh.address, ph.address, "H25.01", "2026", "8"],
                                     capture_output=True, text=True, timeout=60, check=False)
                assert out.returncode == 0, out.stderr
                pulled = json.loads(out.stdout)
                live = [c["scorecard"]["scorecard"] for c in pulled["changes"]
                        if c["scorecard"] and c["scorecard"]["scorecard"]["unit"]["code"] == "H25.01"
                        and c["scorecard"]["scorecard"]["period"] == {"kind": "PERIOD_KIND_MONTH", "year": 2026,
                                                                       "number": 8}]
                if live or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
        period = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
        expected = scoring.GetScorecard(scoring_pb2.GetScorecardRequest(unit_code="H25.01", period=period),
                                        timeout=20).scorecard
    card = pulled["scorecard"]
    assert card["unit"]["code"] == "H25.01" and card["ruleVersion"] == expected.rule_version
    assert card["total"]["value"] == expected.total.value
    assert {i["id"]: (i["numerator"], i["denominator"], i["points"]["value"] if i["points"] else None)
            for i in card["indicators"]} == {
        i.id: (str(i.numerator), str(i.denominator), i.points.value if i.HasField("points") else None)
        for i in expected.indicators}
    # the two accepted dossiers are in it: both were received in August by H25.01
    assert any(i["denominator"] == "2" for i in card["indicators"]), card["indicators"]
    assert live, "publish's change feed has no live scorecard of H25.01 for 08/2026"
    assert live[-1]["provisional"] is True and live[-1]["total"]["value"] == expected.total.value
