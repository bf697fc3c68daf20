"""Two ingest replicas on one database: clients spread over both, the same request sent to both at
once (a retry that went to another replica) — every batch is stored once, every record once, and
both replicas answer the duplicate with the first answer."""

from __future__ import annotations

import threading

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from sqlalchemy import func, select

from services.shared.schema import batches, change_notices, dossiers
from tests.helpers import auth, dossier_record, ingest_server, seed_units, setup_tokens


def test_two_replicas_store_each_batch_once(db_url):
    with ingest_server(db_url) as (first, db, _), ingest_server(db_url) as (second, _db2, _):
        tokens = setup_tokens(db)
        seed_units(first, tokens)
        results: dict[int, list] = {}
        errors: list[Exception] = []

        def send(stub, b: int, request: pb.SyncDossiersRequest) -> None:
            try:
                r = stub.SyncDossiers(request, metadata=auth(tokens.phu_tho), timeout=30)
                results.setdefault(b, []).append(r.result)
            except grpc.RpcError as err:
                errors.append(err)

        threads = []
        for b in range(30):
            request = pb.SyncDossiersRequest(request_id=f"rep-{b}",
                                             records=[dossier_record(f"R-{b}-{i}") for i in range(100)])
            for stub in (first, second):  # the same request to both replicas at once
                threads.append(threading.Thread(target=send, args=(stub, b, request)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        for b in range(30):
            answers = results[b]
            assert len(answers) == 2
            assert {a.batch_id for a in answers} == {answers[0].batch_id}  # one batch, answered twice
            assert sorted(a.replayed for a in answers) == [False, True]
            assert all(a.accepted_count == 100 for a in answers)
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(dossiers)
                                .where(dossiers.c.code.like("R-%"))).scalar() == 3000
            committed = conn.execute(select(func.count()).select_from(batches).where(
                batches.c.request_id.like("rep-%"), batches.c.outcome == "committed")).scalar()
            assert committed == 30
            ids = [r[0] for r in conn.execute(select(change_notices.c.id).order_by(change_notices.c.id))]
            assert len(ids) == len(set(ids))
