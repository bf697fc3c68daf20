"""Fault trials (``tools/faults.py``) as tests: the four processes under load, kill -9 of each at random
moments, a portal outage and — where this test may restart the machine's PostgreSQL (CI=true or
CHISO_TEST_PG_RESTART=1) — database restarts; every invariant must hold. The many-trial statistics
are ``make faults`` (FAULTS.md); here a few trials, and a proof that the checker does catch each
broken invariant."""

from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import func, select, update

from services.publish import storage as pstorage
from services.publish import tables as ptables
from services.shared import schema
from tests.conftest import IN_CI, require_postgres
from tools import faults


def _trial(backend: str, seed: int, **kw) -> faults.TrialResult:
    return faults.run_trial(1, seed, backend, kw.pop("records", 4000), kw.pop("load_seconds", 20.0),
                            kw.pop("db_restarts", False), progress=print, min_faults=5, **kw)


def test_kill_9_of_every_service_loses_nothing_and_repeats_nothing_on_sqlite():
    r = _trial("sqlite", seed=7)
    assert r.violations == []
    assert len(r.faults) >= 5 and r.acked_batches == r.batches and r.deliveries > 0 and r.publications == 2


@pytest.mark.postgres
def test_kill_9_and_database_restarts_lose_nothing_and_repeat_nothing_on_postgresql():
    require_postgres()
    restarts = bool((IN_CI or os.environ.get("CHISO_TEST_PG_RESTART")) and faults.database_restart_command())
    r = _trial("postgresql", seed=8, records=8000, db_restarts=restarts)
    assert r.violations == []
    assert len(r.faults) >= 5 and r.acked_batches == r.batches and r.corrections == 1
    if restarts:
        print("database restarts:", sum(f.kind == "database restart" for f in r.faults))


def test_the_checker_catches_each_broken_invariant():
    """One trial whose stores are tampered with after convergence: every kind of breach is reported."""

    def tamper(trial: faults.Trial) -> None:
        with trial.db.write() as conn:
            d = schema.dossiers.c
            lost = conn.execute(select(d.code).order_by(d.code).limit(1)).scalar_one()
            conn.execute(schema.dossiers.delete().where(d.code == lost))
            older = conn.execute(select(d.code).order_by(d.code.desc()).limit(1)).scalar_one()
            conn.execute(update(schema.dossiers).where(d.code == older).values(source_time=d.source_time - 1))
            live = ptables.publish_live.c
            one = conn.execute(select(live.unit_code, live.period_key, live.scope).limit(1)).one()
            conn.execute(update(ptables.publish_live).where(
                live.unit_code == one.unit_code, live.period_key == one.period_key, live.scope == one.scope
            ).values(content_sha256="0" * 64))
            conn.execute(update(ptables.publish_publications).where(
                ptables.publish_publications.c.revision == 2).values(signature=b"\x00" * 64))
            # a publication that was never corrected disappears (its frozen scorecards with it)
            pubs = ptables.publish_publications.c
            single = conn.execute(select(pubs.publication_id).group_by(pubs.publication_id)
                                  .having(func.max(pubs.revision) == 1).limit(1)).scalar_one()
            off = ptables.publish_official.c
            conn.execute(ptables.publish_official.delete().where(off.publication_id == single))
            conn.execute(ptables.publish_publications.delete().where(pubs.publication_id == single))
            # the feed loses its last live entry; the last delivery goes back to pending
            ch = ptables.publish_changes.c
            last = conn.execute(select(func.max(ch.seq)).where(ch.kind == pstorage.KIND_LIVE)).scalar_one()
            conn.execute(ptables.publish_changes.delete().where(ch.seq == last))
            dl = ptables.publish_deliveries.c
            conn.execute(update(ptables.publish_deliveries).where(
                dl.sequence == select(func.max(dl.sequence)).scalar_subquery()
            ).values(state=1, next_attempt_at=4_102_444_800_000_000))  # pending until 2100: not sent again
        portal = sqlite3.connect(trial.portal_db)
        with portal:
            portal.execute("DELETE FROM received WHERE arrival = (SELECT MIN(arrival) + 1 FROM received)")
            portal.execute("UPDATE live SET version = version - 1 WHERE rowid = (SELECT MIN(rowid) FROM live)")
            portal.execute("DELETE FROM publications WHERE revision = 2")
        portal.close()
        with open(trial.work / "scoring.log", "a", encoding="utf-8") as log:
            log.write('{"event": "unexpected error", "exception": "Traceback …\\nValueError: cố ý"}\n')

    r = _trial("sqlite", seed=9, records=2000, load_seconds=8.0, tamper=tamper)
    found = "\n".join(r.violations)
    for expected in (
        "acknowledged dossiers lost",
        "not at their newest acknowledged version",
        "differs from a rebuild",
        "differs from scoring's",
        "signature does not verify",
        "did not receive its deliveries once each in sequence order",
        "ids differ",
        "the portal's live results are not publish's latest",
        "the portal holds publications",
        "!= acknowledged",
        "publish's change feed does not end at its latest live result",
        "deliveries not made",
        "scoring: unexpected error (ValueError: cố ý)",
    ):
        assert expected in found, f"{expected!r} not reported; got:\n{found}"
