"""Entries per second a client reads from publish's change feed (StreamChanges and ListChanges).

Runs real ingest, scoring and publish servers on loopback over a SQLite file, lets publish record the
live scorecards of a few units, then copies those live feed rows (payload, signature and all) until
the feed holds ``--entries`` changes, and times a client reading them all over StreamChanges, then a
second client doing the same (publish keeps recent changes parsed), then ListChanges (page_size 1000).

    .venv/bin/python tools/bench_feed_read.py --entries 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402
from chiso.ingest.v1 import ingest_pb2 as ipb  # noqa: E402
from chiso.publish.v1 import publish_pb2 as pb  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402

from services.publish.tables import publish_changes, publish_state  # noqa: E402
from services.shared.db import migrate  # noqa: E402
from tests.helpers import (  # noqa: E402
    auth,
    ended_dossier,
    eventually,
    ingest_server,
    publish_caught_up,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
)


def fill(db, entries: int) -> int:
    with db.write() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(publish_changes).where(publish_changes.c.kind == 1))]
        top = conn.execute(select(publish_state.c.int_value).where(publish_state.c.name == "changes")).scalar()
        batch = []
        seq = top
        while seq < entries:
            seq += 1
            batch.append({**rows[seq % len(rows)], "seq": seq})
        if batch:
            conn.execute(insert(publish_changes), batch)
            conn.execute(update(publish_state).where(publish_state.c.name == "changes").values(int_value=seq))
    return seq


def read_stream(pub, n: int) -> float:
    t = time.perf_counter()
    for got, _ in enumerate(pub.StreamChanges(pb.StreamChangesRequest()), 1):
        if got >= n:
            break
    return time.perf_counter() - t


def read_list(pub, n: int) -> float:
    t = time.perf_counter()
    cursor, got = "", 0
    while got < n:
        page = pub.ListChanges(pb.ListChangesRequest(cursor=cursor, page_size=1000))
        got += len(page.changes)
        cursor = page.next_cursor
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=5000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_feed_"))
    url = f"sqlite:///{tmp / 'chiso.db'}"
    migrate(url)
    key = signing_key_file(tmp)
    with ingest_server(url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(url) as (_s, scoring), publish_server(url, scoring.address, key_file=key) as (pub, _h):
            r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="r", records=[
                ended_dossier("a1", "H25.01", 5), ended_dossier("b1", "H01.01", 12)]), metadata=auth(tokens.national))
            assert r.result.accepted_count == 2
            eventually(lambda: publish_caught_up(db, scoring.address) and len(pub.ListChanges(
                pb.ListChangesRequest(page_size=1000)).changes) >= 4, tolerate=(grpc.RpcError,), what="live")
            eventually(lambda: publish_caught_up(db, scoring.address), tolerate=(grpc.RpcError,), what="caught up")
            n = fill(db, args.entries)
            size = sum(c.ByteSize() for c in pub.ListChanges(pb.ListChangesRequest(page_size=20)).changes) / 20
            s = read_stream(pub, n)
            s2 = read_stream(pub, n)
            li = read_list(pub, n)
            print(f"entries {n}, mean change {size:.0f} bytes")
            print(f"StreamChanges, first reader:  {n / s:.0f} entries/s ({s:.2f} s)")
            print(f"StreamChanges, second reader: {n / s2:.0f} entries/s ({s2:.2f} s)")
            print(f"ListChanges (page_size 1000): {n / li:.0f} entries/s ({li:.2f} s)")


if __name__ == "__main__":
    main()
