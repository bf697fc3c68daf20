"""chiso-push as an integrator runs it, against a real ingest server: the sample files of
docs/examples/ push as they are, --dry-run answers as a real push would and stores nothing, rejected
lines come with the server's field and message (atomic refusals too), and a missing file, a bad flag
or a closed pipe end with a line, not a traceback. Both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chiso.ingest.v1 import ingest_pb2 as pb
from sqlalchemy import func, select

from services.shared.schema import (
    batches,
    change_notices,
    dossiers,
    petitions,
    procedures,
    publications,
    reported_totals,
    unit_procedures,
    units,
)
from tests.helpers import auth, ingest_server, setup_tokens, unit_record

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
#: the order a new source pushes them in: what a record names must exist first
ORDER = ["units", "procedures", "unit-procedures", "publications", "dossiers", "petitions", "reported-totals"]
TABLES = {"units": units, "procedures": procedures, "unit-procedures": unit_procedures,
          "publications": publications, "dossiers": dossiers, "petitions": petitions,
          "reported-totals": reported_totals}


def push(path, kind, target, token, *extra, check_rc=None):
    out = subprocess.run([sys.executable, "-m", "services.ingest.push_cli", str(path), "--kind", kind,
                          "--target", target, *extra], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                         timeout=120, env={**os.environ, "CHISO_TOKEN": token}, check=False)
    if check_rc is not None:
        assert out.returncode == check_rc, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def count(db, table) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def with_phu_tho(stub, tokens) -> None:
    """What the examples presuppose, as in `make run`'s database: the province exists."""
    r = stub.SyncUnits(pb.SyncUnitsRequest(request_id="h25", records=[unit_record("H25", "UBND tỉnh Phú Thọ", 4)]),
                       metadata=auth(tokens.national))
    assert r.result.accepted_count == 1


def test_every_example_kind_is_there():
    assert sorted(p.stem for p in EXAMPLES.glob("*.jsonl")) == sorted(ORDER)


def test_examples_dry_run_then_push_as_they_are(db_url):
    with ingest_server(db_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        with_phu_tho(stub, tokens)
        ledger, notices = count(db, batches), count(db, change_notices)
        for kind in ORDER:
            path = EXAMPLES / f"{kind}.jsonl"
            lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            assert lines, kind
            table = TABLES[kind]
            before = count(db, table)
            # a dry run: every line would be accepted; nothing stored, not even in the ledger
            dry = push(path, kind, handle.address, tokens.phu_tho, "--dry-run", check_rc=0)
            assert "dry run (validate only): nothing was stored" in dry.stdout
            assert f"would be accepted: {len(lines)}," in dry.stdout and "rejected: 0" in dry.stdout, dry.stdout
            assert (count(db, table), count(db, batches), count(db, change_notices)) == (before, ledger, notices)
            # then for real, with the same content (so the same request id: the dry run left it free)
            real = push(path, kind, handle.address, tokens.phu_tho, check_rc=0)
            assert "(0 already sent before)" in real.stdout and f"accepted: {len(lines)}," in real.stdout, real.stdout
            assert count(db, table) == before + len(lines)
            ledger, notices = count(db, batches), count(db, change_notices)
        # pushed again: answered from the ledger; a dry run now says each line is stale (already stored)
        again = push(EXAMPLES / "dossiers.jsonl", "dossiers", handle.address, tokens.phu_tho, check_rc=0)
        assert "(1 already sent before)" in again.stdout
        dry = push(EXAMPLES / "dossiers.jsonl", "dossiers", handle.address, tokens.phu_tho, "--dry-run", check_rc=0)
        assert "would be accepted: 0, would be stale (older than or same as stored): 4" in dry.stdout, dry.stdout


BAD_DOSSIERS = [
    {"code": "OK-1", "unitCode": "H25", "procedureCode": "1.004227", "channel": "CHANNEL_ONLINE",
     "receivedTime": "2026-08-03T08:15:00+07:00", "sourceTime": "2026-08-03T09:00:00+07:00"},
    {"code": "LATE-DUE", "unitCode": "H25", "procedureCode": "1.004227", "channel": "CHANNEL_ONLINE",
     "receivedTime": "2026-08-03T08:15:00+07:00", "dueTime": "2026-08-01T08:00:00+07:00",
     "sourceTime": "2026-08-03T09:00:00+07:00"},
    {"code": "HANOI", "unitCode": "H01", "procedureCode": "1.004227", "channel": "CHANNEL_ONLINE",
     "receivedTime": "2026-08-03T08:15:00+07:00", "sourceTime": "2026-08-03T09:00:00+07:00"},
]


DOSSIER = {"code": "", "unit_code": "H25", "procedure_code": "1.004227", "channel": pb.CHANNEL_ONLINE,
           "received_time": {"seconds": 1785726900}, "source_time": {"seconds": 1785730500}}


def bad_file(tmp_path) -> Path:
    path = tmp_path / "hồ-sơ.jsonl"
    lines = [json.dumps(d, ensure_ascii=False) for d in BAD_DOSSIERS]
    lines.insert(1, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def seeded(stub, tokens) -> None:
    units_ = [unit_record("H25", "UBND tỉnh Phú Thọ", 4), unit_record("H01", "UBND thành phố Hà Nội", 4)]
    stub.SyncUnits(pb.SyncUnitsRequest(request_id="u", records=units_), metadata=auth(tokens.national))
    stub.SyncProcedures(pb.SyncProceduresRequest(request_id="p", records=[pb.ProcedureRecord(
        code="1.004227", name="Đăng ký khai sinh", field="Hộ tịch", unit_code="H25", statutory_days=5,
        source_time={"seconds": 1785000000})]), metadata=auth(tokens.national))


def test_rejected_lines_say_field_and_message_also_when_an_atomic_batch_is_refused(db_url, tmp_path):
    path = bad_file(tmp_path)
    with ingest_server(db_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seeded(stub, tokens)
        for extra in ((), ("--dry-run",)):
            out = push(path, "dossiers", handle.address, tokens.phu_tho, *extra, check_rc=1)
            lines = out.stdout.splitlines()
            assert lines[0].startswith("line 2: UNREADABLE "), out.stdout
            assert "line 3: INVALID INCONSISTENT due_time: " in out.stdout and "before" in out.stdout, out.stdout
            assert "line 4: PERMISSION_DENIED OUT_OF_GRANT unit_code: " in out.stdout, out.stdout
        assert count(db, dossiers) == 1  # OK-1, once (the dry run stored nothing)

        # atomic: refused as a whole; still every line's own reason, and nothing stored
        atomic = tmp_path / "atomic.jsonl"
        atomic.write_text("\n".join(json.dumps({**d, "code": d["code"] + "-A"}) for d in BAD_DOSSIERS) + "\n",
                          encoding="utf-8")
        before = count(db, batches)
        out = push(atomic, "dossiers", handle.address, tokens.phu_tho, "--atomic", check_rc=1)
        assert "lines 1–3: atomic batch refused, nothing stored: INVALID_ARGUMENT: " in out.stdout, out.stdout
        assert "line 2: INVALID INCONSISTENT due_time: " in out.stdout, out.stdout
        assert "line 3: PERMISSION_DENIED OUT_OF_GRANT unit_code: " in out.stdout, out.stdout
        assert "not stored (valid, in a refused atomic batch): 1" in out.stdout and "accepted: 0," in out.stdout
        assert count(db, dossiers) == 1
        assert count(db, batches) == before + 1  # the refusal itself is in the ledger, the per-line check is not
        # outside the grant only: PERMISSION_DENIED as a whole, each line said
        outside = tmp_path / "outside.jsonl"
        outside.write_text(json.dumps({**BAD_DOSSIERS[2], "code": "HN-2"}) + "\n", encoding="utf-8")
        out = push(outside, "dossiers", handle.address, tokens.phu_tho, "--atomic", check_rc=1)
        assert "atomic batch refused, nothing stored: PERMISSION_DENIED: " in out.stdout, out.stdout
        assert "line 1: PERMISSION_DENIED OUT_OF_GRANT unit_code: " in out.stdout, out.stdout


def test_no_traceback_for_a_missing_file_a_bad_flag_or_a_closed_pipe(sqlite_url, tmp_path):
    with ingest_server(sqlite_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seeded(stub, tokens)
        missing = push(tmp_path / "none.jsonl", "dossiers", handle.address, tokens.phu_tho, check_rc=2)
        assert missing.stderr.strip() == f"chiso-push: cannot read {tmp_path / 'none.jsonl'}: no such file"
        bad_flag = push(bad_file(tmp_path), "dossiers", handle.address, tokens.phu_tho, "--batch-size", "0",
                        check_rc=2)
        assert "--batch-size: must be at least 1, not 0" in bad_flag.stderr
        no_token_file = push(bad_file(tmp_path), "dossiers", handle.address, "", "--token-file",
                             str(tmp_path / "t"), check_rc=2)
        assert "cannot read the token file" in no_token_file.stderr
        not_utf8 = tmp_path / "latin1.jsonl"
        not_utf8.write_bytes('{"code": "Hồ sơ"}\n'.encode("utf-16"))
        assert "is not UTF-8 text" in push(not_utf8, "dossiers", handle.address, tokens.phu_tho, check_rc=2).stderr

        # `| head -1`: the reader goes away after one line; the push goes on to the end, silently
        many = tmp_path / "many.jsonl"
        many.write_text("{bad\n" * 3000 + json.dumps(BAD_DOSSIERS[0]) + "\n", encoding="utf-8")
        done = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m services.ingest.push_cli {many} --kind dossiers "
             f"--target {handle.address} --batch-size 100 2>{tmp_path / 'err.txt'} | head -1; "
             "echo \"${PIPESTATUS[0]}\""], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "CHISO_TOKEN": tokens.phu_tho}, check=False)
        first, status = done.stdout.splitlines()
        assert first.startswith("line 1: UNREADABLE") and status == "1", done.stdout
        err = (tmp_path / "err.txt").read_text(encoding="utf-8")
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert count(db, dossiers) == 1  # the last line was pushed after the pipe closed


def test_unreachable_service_is_retried_then_reported(tmp_path):
    path = bad_file(tmp_path)
    out = push(path, "dossiers", "127.0.0.1:1", "chiso_x_y", "--timeout", "20", check_rc=2)
    assert "UNAVAILABLE" in out.stderr and "batch of lines 1–4 failed" in out.stderr, out.stderr


@pytest.mark.parametrize("code,calls", [("UNAVAILABLE", 3), ("INVALID_ARGUMENT", 1)])
def test_retries_unavailable_only_through_the_service_config(tmp_path, code, calls):
    """A server answering UNAVAILABLE twice, then OK: gRPC's retry policy does the retrying (the
    client has no loop of its own); any other status is final after one call."""
    from concurrent import futures

    import grpc
    from chiso.ingest.v1 import ingest_pb2_grpc

    seen = []

    class Flaky(ingest_pb2_grpc.IngestServiceServicer):
        def SyncDossiers(self, request, context):
            seen.append(request.request_id)
            if len(seen) < 3:
                context.abort(getattr(grpc.StatusCode, code), "not now")
            return pb.SyncDossiersResponse(result=pb.BatchResult(
                request_id=request.request_id, accepted_count=len(request.records),
                statuses=[pb.RECORD_STATUS_ACCEPTED] * len(request.records)))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    ingest_pb2_grpc.add_IngestServiceServicer_to_server(Flaky(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        path = tmp_path / "one.jsonl"
        path.write_text(json.dumps(BAD_DOSSIERS[0]) + "\n", encoding="utf-8")
        out = push(path, "dossiers", f"127.0.0.1:{port}", "chiso_x_y")
    finally:
        server.stop(None)
    assert len(seen) == calls and len(set(seen)) == 1, seen  # the same request (id) each time
    if code == "UNAVAILABLE":
        assert out.returncode == 0 and "accepted: 1," in out.stdout, (out.stdout, out.stderr)
    else:
        assert out.returncode == 2 and "INVALID_ARGUMENT: not now" in out.stderr, out.stderr


def test_validate_only_over_grpc_stores_nothing_and_leaves_the_request_id_free(db_url):
    """The contract itself (AIP-163), as any client uses it: unary and streamed batches."""
    import grpc

    from services.shared.grpc_errors import details_from_rpc_error

    good = pb.DossierRecord(**{**DOSSIER, "code": "V-1"})
    bad = pb.DossierRecord(**{**DOSSIER, "code": "V-2", "unit_code": "H01"})
    with ingest_server(db_url) as (stub, db, handle):
        tokens = setup_tokens(db)
        seeded(stub, tokens)
        ledger = count(db, batches)
        md = auth(tokens.phu_tho)
        r = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="v", records=[good, bad], validate_only=True),
                              metadata=md).result
        assert (list(r.statuses), r.accepted_count, r.rejected_count, r.batch_id, r.HasField("commit_time")) == (
            [pb.RECORD_STATUS_ACCEPTED, pb.RECORD_STATUS_PERMISSION_DENIED], 1, 1, "", False)
        assert (r.errors[0].index, r.errors[0].reason, r.errors[0].field) == (1, "OUT_OF_GRANT", "unit_code")
        try:
            stub.SyncDossiers(pb.SyncDossiersRequest(request_id="v", records=[good, bad], atomic=True,
                                                     validate_only=True), metadata=md)
            raise AssertionError("an atomic batch with a bad record must be refused, validate_only or not")
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.PERMISSION_DENIED
            info, _ = details_from_rpc_error(err)
            assert info.reason == "OUT_OF_GRANT" and "batch_id" not in info.metadata
        s = stub.StreamSync(iter([pb.StreamSyncRequest(request_id="s", validate_only=True,
                                                       dossiers=pb.DossierRecords(records=[good]))]), metadata=md)
        assert (s.accepted_count, s.results[0].batch_id) == (1, "")
        assert (count(db, dossiers), count(db, batches)) == (0, ledger)
        # the same request ids, for real: not replays, stored
        r = stub.SyncDossiers(pb.SyncDossiersRequest(request_id="v", records=[good, bad]), metadata=md).result
        assert (r.replayed, r.accepted_count, bool(r.batch_id)) == (False, 1, True)
        s = stub.StreamSync(iter([pb.StreamSyncRequest(request_id="s", dossiers=pb.DossierRecords(
            records=[pb.DossierRecord(**{**DOSSIER, "code": "V-3"})]))]), metadata=md)
        assert (s.accepted_count, s.results[0].replayed) == (1, False)
        assert count(db, dossiers) == 2
