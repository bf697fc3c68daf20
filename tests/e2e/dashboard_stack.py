"""A small country for the dashboard's tests: the real ingest, scoring and publish servers on loopback
ports over one SQLite file, loaded through ingest's gRPC API with the demo's generators (the 34
provinces and 16 ministries and agencies, Phú Thọ's first two departments and three communes, twelve
months of dossiers and petitions), then the dashboard (chiso-web) in front of publish and scoring.

``python -m tests.e2e.dashboard_stack`` starts the same and waits (to look at the pages by hand).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from chiso.ingest.v1 import ingest_pb2 as pb

from services.demo import data
from services.demo.__main__ import push
from services.shared import access
from services.shared.db import Database, migrate
from tests.helpers import (
    eventually,
    ingest_server,
    publish_caught_up,
    publish_server,
    scoring_server,
    signing_key_file,
    wait_scored,
)

MONTHS = 12
DOSSIERS_PER_MONTH = 400
RECENT_DOSSIERS = 1500  # the last two months: enough late dossiers in every province for the planner
SPEC = dict(communes_per_province=3, departments_per_province=2)
DRILLED = ("H25",)  # the provinces loaded with their departments and communes (the others alone: publish keeps
# every unit's scorecards for every period the data touches, and scoring computes each — the setup's cost)


@dataclass
class Stack:
    db_url: str
    ingest: str
    scoring: str
    publish: str
    web: str
    operator_token: str
    official_token: str  # Phú Thọ's officials (H25)
    months: list[data.DemoSpec]
    now: datetime


def months_back(now: datetime, count: int) -> list[data.DemoSpec]:
    out = []
    y, m = now.year, now.month
    for _ in range(count):
        out.append(data.DemoSpec(year=y, month=m, **SPEC))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def load(ingest_stub, token: str, now: datetime, months: list[data.DemoSpec]) -> None:
    src_time = now - timedelta(minutes=5)
    units = [u for u in data.units(months[-1], src_time) if not u.parent_code or u.parent_code in DRILLED]
    push(ingest_stub, "SyncUnits", pb.SyncUnitsRequest, units, token)
    push(ingest_stub, "SyncProcedures", pb.SyncProceduresRequest, data.procedures(src_time), token)
    push(ingest_stub, "SyncUnitProcedures", pb.SyncUnitProceduresRequest,
         data.unit_procedures(units, months[-1], src_time), token)
    codes = [u.code for u in units]
    for i, spec in enumerate(months):
        count = RECENT_DOSSIERS if i >= len(months) - 2 else DOSSIERS_PER_MONTH
        prefix = f"dash-{spec.year}{spec.month:02d}"
        push(ingest_stub, "SyncPublications", pb.SyncPublicationsRequest,
             data.publications(units, spec, src_time), token, prefix=prefix)
        received: Counter = Counter()
        push(ingest_stub, "SyncDossiers", pb.SyncDossiersRequest,
             data.dossiers(codes, count, spec, now, received), token, prefix=prefix)
        push(ingest_stub, "SyncPetitions", pb.SyncPetitionsRequest,
             data.petitions(codes, count // 20, spec, now), token, prefix=prefix)
        push(ingest_stub, "SyncReportedTotals", pb.SyncReportedTotalsRequest,
             data.reported_totals(received, spec, now), token, prefix=prefix)


@contextmanager
def stack(directory: Path) -> Iterator[Stack]:
    from services.web.server import WebSettings, build

    db_url = f"sqlite:///{directory / 'chiso.db'}"
    migrate(db_url)
    db = Database(db_url)
    with db.write() as conn:
        access.ensure_principal(conn, "dash-national", access.SOURCE, "Nguồn dữ liệu thử (toàn quốc)")
        access.set_grants(conn, "dash-national", ["*"])
        token = access.issue_token(conn, "dash-national").token
        access.ensure_principal(conn, "dash-ops", access.OPERATOR, "Vận hành")
        operator = access.issue_token(conn, "dash-ops").token
        access.ensure_principal(conn, "dash-ptho", access.OFFICIAL, "Văn phòng UBND tỉnh Phú Thọ")
        access.set_grants(conn, "dash-ptho", ["H25"])
        official = access.issue_token(conn, "dash-ptho").token
    now = datetime.now(data.HANOI).replace(microsecond=0)
    months = months_back(now, MONTHS)
    with ExitStack() as stack_:
        ingest_stub, _, ingest = stack_.enter_context(ingest_server(db_url))
        scoring_stub, scoring = stack_.enter_context(scoring_server(db_url))
        _, publish = stack_.enter_context(publish_server(db_url, scoring.address,
                                                         key_file=signing_key_file(directory),
                                                         follow_interval_seconds=0.0, follow_page_size=5000))
        t0 = time.perf_counter()
        load(ingest_stub, token, now, months)
        t1 = time.perf_counter()
        wait_scored(db, timeout=120)
        t2 = time.perf_counter()
        eventually(lambda: publish_caught_up(db, scoring.address), 120.0,
                   "publish following every change scoring recorded (both lanes)", interval=0.1)
        print(f"loaded {t1 - t0:.1f} s, scored {t2 - t1:.1f} s, followed {time.perf_counter() - t2:.1f} s", flush=True)
        web = build(WebSettings(port=0, metrics_port=-1, publish_target=publish.address,
                                scoring_target=scoring.address))
        web.start()
        stack_.callback(web.stop)
        try:
            yield Stack(db_url, ingest.address, scoring.address, publish.address, web.address, operator, official,
                        months, now)
        finally:
            db.dispose()


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with stack(Path(tmp)) as s:
            print(f"ready in {time.perf_counter() - started:.1f} s: {s.web}  publish {s.publish}  scoring "
                  f"{s.scoring}\nofficial token (H25): {s.official_token}\noperator token: {s.operator_token}",
                  flush=True)
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                sys.exit(0)
