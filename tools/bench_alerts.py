"""How fast publish evaluates early-warning alerts (publish's side; scoring's at-risk lists faked).

    python -m tools.bench_alerts --units 2000          # SQLite in a temporary directory

Every unit has an e-mail recipient (so the reserved ``email`` subscription watches it) and a stored
live scorecard; the at-risk port answers at once with three dossiers whose lateness would drop the
band, so each first evaluation raises one alert (an outbox row, signed). Reports units evaluated per
second for the first round (every unit raises) and for a second round a full interval later (every
unit evaluated again, nothing new to send). Scoring's cost per unit is that of one scorecard read of
the unit's scope (``ListAtRiskDossiers``), measured by the scoring benchmarks; ``--at-risk-ms`` adds
that much to each at-risk answer.

A third round starts with every unit's data changed, and a burst touching every unit again arrives
just after the round's first evaluation (data arriving while a round runs, as on the national day);
the fourth round then shows how many units are evaluated again for that burst — each unit evaluated
after the burst already read it, so only those read before it (one) are owed another evaluation.
``--round-seconds`` time-boxes each round as the server does (the worker then starts the next round
at once); rounds are run until nothing is due, and their count is reported.

    python -m tools.bench_alerts --units 2000 --at-risk-ms 5 --round-seconds 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, update

from services.publish import storage as S
from services.publish import storage_alerts as A
from services.publish.alerts import Alerts
from services.publish.domain.alerts import EMAIL_SUBSCRIPTION, AtRiskFacts, RiskyDossier, load_rules, with_overrides
from services.publish.domain.documents import FEED_ALERT
from services.publish.domain.subscriptions import Subscription
from services.publish.signing import Signer
from services.publish.tables import publish_live, publish_units
from services.shared.db import Database, migrate


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.bench_alerts", description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, default=2000)
    p.add_argument("--database-url", default="")
    p.add_argument("--at-risk-ms", type=float, default=0.0, help="scoring's time per at-risk answer (faked)")
    p.add_argument("--round-seconds", type=float, default=0.0, help="a round's time box (0: none)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'alerts.db'}"
        migrate(url)
        db = Database(url)
        now = [int(datetime(2026, 8, 27, 3, tzinfo=UTC).timestamp() * 1e6)]  # 10:00 in Hanoi
        codes = [f"U{i:05d}" for i in range(args.units)]
        card = b'{"classification":"CLASSIFICATION_GOOD","total":{"value":"80.30"},"unit":{"name":"X"}}'
        with db.write() as conn:
            conn.execute(insert(publish_units), [{"code": c, "name": f"Đơn vị {c}", "kind": 6, "parent_code": "",
                                                  "updated_at": 0} for c in codes])
            conn.execute(insert(publish_live), [{"unit_code": c, "period_key": "2026-08", "scope": 2, "unit_kind": 6,
                                                 "parent_code": "", "version": 1, "content_sha256": "x",
                                                 "scorecard": card, "updated_at": 0, "computed_at": 0,
                                                 "total_centi": 8030} for c in codes])
            for c in codes:
                A.add_recipient(conn, c, f"vp@{c.lower()}.gov.vn", 0)
            S.insert_subscription(conn, Subscription(EMAIL_SUBSCRIPTION, "", "127.0.0.1:25",
                                                     feeds=frozenset({FEED_ALERT})), 0)
        due = datetime(2026, 8, 28, 9, tzinfo=UTC)
        risk = AtRiskFacts(3, "80.30", "GOOD", "77.77", "FAIR", 3, tuple(
            RiskyDossier(f"src/r{i}", "U", "1.004227", "Đăng ký khai sinh", due, 1, "0.84", True) for i in range(3)))
        rules = with_overrides(load_rules(), {"quiet_hours": ""})
        calls = [0]
        burst = [False]

        def at_risk(unit, days):
            calls[0] += 1
            if burst[0]:
                burst[0] = False
                bump(db)
            if args.at_risk_ms:
                time.sleep(args.at_risk_ms / 1000)
            return risk

        boxed = {"round_seconds": args.round_seconds} if args.round_seconds else {}
        alerts = Alerts(db, Signer.generate(), at_risk, clock=lambda: now[0], defaults=rules,
                        interval_seconds=600, **boxed)
        for label, change, during in (("first round (each unit raises an alert)", False, False),
                                      ("a round later (nothing new)", False, False),
                                      ("every unit changed, a burst over every unit during the round", True, True),
                                      ("the round after (units owed for that burst)", False, False)):
            if change:
                bump(db)
            burst[0] = during
            calls[0], rounds, sent = 0, 0, 0
            started = time.perf_counter()
            while True:
                sent += alerts.run_once()
                rounds += 1
                if not getattr(alerts, "backlog", 0):
                    break
            seconds = time.perf_counter() - started
            print(f"{label}: {calls[0]} units in {seconds:.2f} s = {calls[0] / seconds if seconds else 0:,.0f} "
                  f"units/s, {rounds} round(s), {sent} alerts queued", flush=True)
            now[0] += 1_000_000 if change else 601 * 1_000_000
        db.dispose()
    return 0


def bump(db) -> None:
    """New data for every unit: each live scorecard gets a new version."""
    with db.write() as conn:
        conn.execute(update(publish_live).values(version=publish_live.c.version + 1))


if __name__ == "__main__":
    raise SystemExit(main())
