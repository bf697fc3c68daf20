"""The alert worker's pace (issue 19 §3, §5): a round records the live version it actually read (data
arriving while a round runs is evaluated once, not again in every later round), and a time-boxed round
evaluates the longest-due units first, the rest staying due for the next round.

Publish's side alone, on a real database (SQLite and PostgreSQL); scoring's at-risk list is a fake that
records the order it is asked in (no dossier at risk: no alert, only evaluations)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from services.publish import storage as S
from services.publish import storage_alerts as A
from services.publish.alerts import Alerts
from services.publish.domain.alerts import EMAIL_SUBSCRIPTION, load_rules, with_overrides
from services.publish.domain.documents import FEED_ALERT
from services.publish.domain.subscriptions import Subscription
from services.publish.signing import Signer
from services.publish.tables import alert_units, publish_live, publish_units

T0 = int(datetime(2026, 8, 27, 3, tzinfo=UTC).timestamp() * 1_000_000)  # 10:00 in Hanoi, month 2026-08
S_ = 1_000_000
CARD = b'{"classification":"CLASSIFICATION_GOOD","total":{"value":"80.30"},"unit":{"name":"X"}}'


def _setup(db, codes):
    with db.write() as conn:
        conn.execute(insert(publish_units), [{"code": c, "name": c, "kind": 6, "parent_code": "", "updated_at": 0}
                                             for c in codes])
        conn.execute(insert(publish_live), [{"unit_code": c, "period_key": "2026-08", "scope": 2, "unit_kind": 6,
                                             "parent_code": "", "version": 1, "content_sha256": "x", "scorecard": CARD,
                                             "updated_at": 0, "computed_at": 0, "total_centi": 8030} for c in codes])
        for c in codes:
            A.add_recipient(conn, c, f"vp@{c.lower()}.gov.vn", 0)
        S.insert_subscription(conn, Subscription(EMAIL_SUBSCRIPTION, "", "127.0.0.1:25",
                                                 feeds=frozenset({FEED_ALERT})), 0)


def _bump(db, codes, at):
    with db.write() as conn:
        conn.execute(update(publish_live).where(publish_live.c.unit_code.in_(codes))
                     .values(version=publish_live.c.version + 1, updated_at=at))


def _recorded(db):
    with db.read() as conn:
        return {r.unit_code: (r.live_version, r.evaluated_at) for r in conn.execute(select(alert_units))}


def test_a_round_records_the_version_it_read_so_a_burst_meanwhile_is_evaluated_once(db):
    codes = ["U1", "U2", "U3"]
    _setup(db, codes)
    now = [T0]
    asked: list[str] = []
    burst = [True]

    def at_risk(unit, days):
        asked.append(unit)
        if burst[0]:  # data for every unit arrives just after U1's scorecard was read
            burst[0] = False
            _bump(db, codes, now[0])
        return None

    rules = with_overrides(load_rules(), {"quiet_hours": ""})
    alerts = Alerts(db, Signer.generate(), at_risk, clock=lambda: now[0], defaults=rules, interval_seconds=600)
    assert alerts.run_once() == 0
    assert asked == ["U1", "U2", "U3"]
    # U1 was read at version 1 (before the burst); U2 and U3 were read after it, at version 2
    assert _recorded(db) == {"U1": (1, T0), "U2": (2, T0), "U3": (2, T0)}

    now[0] += S_
    asked.clear()
    alerts.run_once()
    assert asked == ["U1"]  # only U1 is owed the burst; U2 and U3 already evaluated it
    assert _recorded(db)["U1"] == (2, T0 + S_)

    now[0] += S_
    asked.clear()
    alerts.run_once()
    assert asked == []  # nothing changed, the interval (600 s) not passed
    db.dispose()


def test_a_time_boxed_round_evaluates_the_longest_due_first_and_leaves_the_rest_due(db):
    codes = ["U1", "U2", "U3"]
    _setup(db, codes)
    now = [T0]
    asked: list[str] = []

    def at_risk(unit, days):
        asked.append(unit)
        return None

    rules = with_overrides(load_rules(), {"quiet_hours": ""})
    unboxed = Alerts(db, Signer.generate(), at_risk, clock=lambda: now[0], defaults=rules, interval_seconds=600)
    unboxed.run_once()  # each evaluated at T0, version 1
    assert asked == ["U1", "U2", "U3"] and unboxed.backlog == 0

    # at T0+100 s new data for U3; at T0+601 s U1 and U2 are due by the interval since T0+600 s, U3 by its
    # data since T0+100 s: U3 is the longest due
    _bump(db, ["U3"], T0 + 100 * S_)
    now[0] = T0 + 601 * S_
    asked.clear()
    # a time box nothing fits in: each round still evaluates one unit (the longest due), the rest waits
    boxed = Alerts(db, Signer.generate(), at_risk, clock=lambda: now[0], defaults=rules, interval_seconds=600,
                   round_seconds=1e-9)
    backlogs = []
    for _ in range(3):
        boxed.run_once()
        backlogs.append(boxed.backlog)
    assert asked == ["U3", "U1", "U2"]
    assert backlogs == [2, 1, 0]
    assert _recorded(db) == {"U1": (1, T0 + 601 * S_), "U2": (1, T0 + 601 * S_), "U3": (2, T0 + 601 * S_)}
    boxed.run_once()
    assert asked == ["U3", "U1", "U2"] and boxed.backlog == 0  # nothing left due
    db.dispose()
