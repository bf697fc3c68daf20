"""The command lines as an operator and an integrator use them: chiso-admin and chiso-push."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from services.shared.db import Database
from services.shared.schema import dossiers
from tests.helpers import ingest_server, seed_units, setup_tokens

ROOT = Path(__file__).resolve().parents[2]


def run(args, env=None, check=True):
    out = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, **(env or {})}, check=False)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_admin_issue_rotate_revoke(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    admin = ["services.shared.admin_cli", "--database-url", url]
    out = run([*admin, "source", "add", "igate-phu-tho", "--name", "iGate Phú Thọ", "--grant", "H25"])
    token = out.stdout.strip()
    assert token.startswith("chiso_") and token not in out.stderr
    listed = [json.loads(x) for x in run([*admin, "token", "list", "--json"]).stdout.splitlines()]
    assert [(t["principal_id"], t["display_name"], t["grants"], t["revoked_at"]) for t in listed] == [
        ("igate-phu-tho", "iGate Phú Thọ", ["H25"], None)]
    assert token.split("_", 2)[2] not in json.dumps(listed)
    token_id = listed[0]["token_id"]
    new = run([*admin, "token", "rotate", token_id]).stdout.strip()
    assert new.startswith("chiso_") and new != token
    from services.shared.access import Authenticator

    auth = Authenticator(Database(url), ttl=0)
    assert auth.identify(new).id == "igate-phu-tho"
    try:
        auth.identify(token)
        raise AssertionError("rotated token still works")
    except Exception as exc:  # noqa: BLE001
        assert "revoked" in str(exc)
    bad = run([*admin, "token", "revoke", "nope"], check=False)
    assert bad.returncode == 2 and "no active token" in bad.stderr


def test_admin_officials_read_only_bound_to_a_subtree(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    admin = ["services.shared.admin_cli", "--database-url", url]
    missing = run([*admin, "official", "add", "ptho-vpubnd"], check=False)
    assert missing.returncode == 2 and "--grant" in missing.stderr  # an official reads some units, never none
    token = run([*admin, "official", "add", "ptho-vpubnd", "--name", "Văn phòng UBND tỉnh Phú Thọ",
                 "--grant", "H25"]).stdout.strip()
    listed = [json.loads(x) for x in run([*admin, "token", "list", "--json"]).stdout.splitlines()]
    assert [(t["principal_id"], t["kind"], t["grants"]) for t in listed] == [("ptho-vpubnd", "official", ["H25"])]
    out = run([*admin, "grant", "set", "ptho-vpubnd", "H25", "H01"])
    assert "may now read the records of: H25, H01" in out.stderr
    run([*admin, "operator", "add", "ops"])
    refused = run([*admin, "grant", "set", "ops", "H25"], check=False)
    assert refused.returncode == 2 and "grants are for sources and officials" in refused.stderr
    from services.shared.access import Authenticator

    ident = Authenticator(Database(url), ttl=0).identify(token)
    assert (ident.kind, ident.grant_roots) == ("official", frozenset({"H25", "H01"}))
    new = run([*admin, "token", "rotate", listed[0]["token_id"]]).stdout.strip()
    assert new.startswith("chiso_") and new != token


def test_push_jsonl_with_summary(sqlite_url, tmp_path):
    with ingest_server(sqlite_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seed_units(stub, tokens)
        lines = []
        for i in range(25):
            lines.append(json.dumps({
                "code": f"JL-{i}", "unitCode": "H25.01", "procedureCode": "1.004227", "channel": "CHANNEL_ONLINE",
                "receivedTime": "2026-08-03T08:15:00+07:00", "dueTime": "2026-08-10T17:00:00+07:00",
                "processingState": "PROCESSING_STATE_PROCESSING", "sourceTime": "2026-08-03T09:00:00+07:00",
            }, ensure_ascii=False))
        lines.insert(3, "{not json")
        lines.insert(7, json.dumps({"code": "JL-X", "unitCode": "H01.01", "procedureCode": "1.004227",
                                    "channel": "CHANNEL_ONLINE", "receivedTime": "2026-08-03T08:15:00+07:00",
                                    "sourceTime": "2026-08-03T09:00:00+07:00"}))
        path = tmp_path / "hồ-sơ.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args = ["services.ingest.push_cli", str(path), "--kind", "dossiers", "--target", handle.address,
                "--batch-size", "10"]
        out = run(args, env={"CHISO_TOKEN": tokens.phu_tho}, check=False)
        assert out.returncode == 1, out.stderr  # some records rejected
        assert "accepted: 25" in out.stdout
        assert "OUT_OF_GRANT (unit_code): 1 (lines 8)" in out.stdout
        assert "UNREADABLE_JSON" in out.stdout and "(lines 4)" in out.stdout
        assert tokens.phu_tho not in out.stdout + out.stderr
        # running the same file again is harmless
        again = run(args, env={"CHISO_TOKEN": tokens.phu_tho}, check=False)
        assert "3 already sent before" in again.stdout and "accepted: 25" in again.stdout
        with db.read() as conn:
            assert len(conn.execute(select(dossiers.c.code)).all()) == 25
        # no token: clear message, exit 2
        none = run(args, env={"CHISO_TOKEN": ""}, check=False)
        assert none.returncode == 2 and "no token" in none.stderr


def test_admin_grants_catalogue_and_canonical_unit_codes(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    admin = ["services.shared.admin_cli", "--database-url", url]
    run([*admin, "source", "add", "csdl-tthc", "--name", "CSDL quốc gia về TTHC", "--catalogue"])
    run([*admin, "grant", "set", "csdl-tthc", "H25", "--catalogue"])
    listed = [json.loads(x) for x in run([*admin, "token", "list", "--json"]).stdout.splitlines()]
    assert [t["grants"] for t in listed] == [["@catalogue", "H25"]]
    bad = run([*admin, "grant", "set", "csdl-tthc", "h25"], check=False)
    assert bad.returncode == 2 and "upper case: 'H25'" in bad.stderr
    bad = run([*admin, "source", "add", "x", "--grant", "H25; DROP"], check=False)
    assert bad.returncode == 2 and "not a unit code" in bad.stderr
    listed = [json.loads(x) for x in run([*admin, "token", "list", "--json"]).stdout.splitlines()]
    assert [t["grants"] for t in listed] == [["@catalogue", "H25"]]  # nothing changed
