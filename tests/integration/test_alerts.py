"""Early-warning alerts end to end: real ingest, scoring and publish servers, the reference portal
receiver and a real SMTP server (aiosmtpd) on loopback, on SQLite and PostgreSQL; clocks injected.

Sở Tư pháp Hà Nội (H01.01, under H01), August 2026, portal/2025 (in force). One procedure P1 (offered
fully online, no fee), one publication decided 3 Aug for a text taking effect 20 Aug, listed 5 Aug with
all 11 parts. 25 dossiers, all online, digitised, linked to and using the data store and population
data: 22 finished on time (not reusing digitised data), 3 unfinished (r0–r2, reusing it) due Friday
28 August 16:00. Clock: Thursday 27 August.

The live total, worked from portal/2025's table (max × min(1, rate / threshold)):
  1.1 6 + 1.2 4 + 1.3 2 (the one publication on time, complete)       12
  1.4 6 (25 synchronised, none reported)                               6
  2.1 20 × 25/25 (r0–r2 not late yet)                                   20
  3.1 2 + 3.2 4 + 3.3 6                                                 12
  4.1 0 (no procedure issues a result document: no data, 0)             0
  4.2 4 + 4.5 4 + 4.7 2; 4.4 2 (no certifying unit: full)               12
  4.3 2 × min(1, (3/25) / 0.8) = 0.3                                    0.3
  4.6 0 (no procedure for individuals used population data — none)     0
  5.2 6 + 5.3 6 (no petitions: full); 5.4 6 × min(1, (25/25) / 0.9)    18
  6.x 0 (no fees)                                                       0
  total 80.30 → Tốt
If r0–r2 turn late: 2.1 = 20 × 22/25 = 17.6 (−2.4); 5.4 = 6 × (22/25) / 0.9 = 5.8667 (−0.1333)
  → 77.77 → Khá: the projection drops a band (rule projection_below_band).
A reported total of 30 for August: 1.4 = 6 × 25/30 = 5 → live 79.30 → Khá (rule live_band_drop), and
25 synchronised is 16.7% below 30 reported, more than 10% (rule sync_gap).
"""

from __future__ import annotations

import email
import socket
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from functools import partial

import grpc
import pytest
from aiosmtpd.controller import Controller
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from google.type import date_pb2

from services.publish.receiver import report
from tests import helpers
from tests.helpers import (
    SOURCE_TIME,
    auth,
    hanoi,
    ingest_server,
    portal_receiver,
    seed_units,
    setup_tokens,
    signing_key_file,
    ts,
    wait_scored,
)
from tests.integration.test_early_warning import d, scoring_at

P1 = "1.004227"
ADDRESS = "vanphong.stp@hanoi.gov.vn"


class Inbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                          policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(inbox: Inbox, port: int):
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def micros(clock):
    """Publish's clock (µs): ``clock[0]`` plus the real time passed since it was last set — so backoffs
    run out while the test holds the date still."""
    seen = {"at": None, "since": 0.0}

    def now() -> int:
        if seen["at"] != clock[0]:
            seen["at"], seen["since"] = clock[0], time.monotonic()
        return int((clock[0].timestamp() + time.monotonic() - seen["since"]) * 1_000_000)

    return now


@contextmanager
def publish_at(db_url, scoring_target, clock, key_dir, **overrides):
    from services.publish.server import PublishSettings, build

    values = dict(database_url=db_url, port=0, metrics_port=-1, auto_migrate=False, scoring_target=scoring_target,
                  poll_seconds=0.05, delivery_poll_seconds=0.05, deliver_timeout_seconds=2.0, lease_seconds=6.0,
                  backoff_base_seconds=0.05, backoff_max_seconds=0.2, max_attempts=1000,
                  signing_key_file=signing_key_file(key_dir), alert_poll_seconds=0.05,
                  alert_interval_seconds=3600, dashboard_url="https://chiso.example.vn", refresh_seconds=0.2)
    values.update(overrides)
    handle = build(PublishSettings(**values), clock=micros(clock))
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    try:
        yield publish_pb2_grpc.PublishServiceStub(channel), handle
    finally:
        channel.close()
        handle.stop(0)


eventually = partial(helpers.eventually, timeout=30.0)  # this module's bound on waiting


def hanoi_records(tokens, ingest):
    t = SOURCE_TIME
    offers = [ipb.UnitProcedureRecord(unit_code="H01.01", procedure_code=P1, online_level=ipb.ONLINE_LEVEL_FULL,
                                      source_time=ts(t))]
    r = ingest.SyncUnitProcedures(ipb.SyncUnitProceduresRequest(request_id="offers", records=offers),
                                  metadata=auth(tokens.ha_noi))
    assert r.result.accepted_count == 1, r.result
    pubs = [ipb.PublicationRecord(unit_code="H01.01", procedure_code=P1, decision_number="QĐ 1/2026",
                                  decision_date=date_pb2.Date(year=2026, month=8, day=3),
                                  legal_effective_date=date_pb2.Date(year=2026, month=8, day=20),
                                  listed_time=ts(hanoi(2026, 8, 5, 9)), parts=list(range(1, 12)), source_time=ts(t))]
    r = ingest.SyncPublications(ipb.SyncPublicationsRequest(request_id="pubs", records=pubs),
                                metadata=auth(tokens.ha_noi))
    assert r.result.accepted_count == 1, r.result
    common = dict(digitised=True, linked_to_data_store=True, used_population_data=True, component_from_data_store=True)
    recs = []
    for i in range(22):
        rec = d(f"f{i}", "H01.01", hanoi(2026, 8, 3, 8) + timedelta(hours=i), hanoi(2026, 8, 20, 8),
                end=hanoi(2026, 8, 10, 8), electronic_result=True, rating=ipb.RATING_SATISFIED, **common)
        rec.channel = ipb.CHANNEL_ONLINE
        recs.append(rec)
    recs += at_risk_records()
    r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="dossiers", records=recs), metadata=auth(tokens.ha_noi))
    assert r.result.accepted_count == 25, r.result


def at_risk_records(end=None, t=SOURCE_TIME):
    out = []
    for i in range(3):
        rec = d(f"r{i}", "H01.01", hanoi(2026, 8, 20, 8), hanoi(2026, 8, 28, 16), end=end, t=t,
                reused_digitised_data=True, digitised=True, linked_to_data_store=True, used_population_data=True,
                component_from_data_store=True)
        rec.channel = ipb.CHANNEL_ONLINE
        out.append(rec)
    return out


def alerts_at_portal(path):
    return report(path)["alerts"]


def test_a_band_about_to_be_lost_alerts_once_by_portal_and_email_then_resolves(db_url, tmp_path, capfd):
    clock = [hanoi(2026, 8, 27, 6, 30)]  # quiet hours (21:00–07:00) at first
    inbox = Inbox()
    port = free_port()
    with ingest_server(db_url) as (ingest, db, _), smtp_server(inbox, port):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        hanoi_records(tokens, ingest)
        with scoring_at(db_url, clock) as (scoring, scoring_target):
            wait_scored(db)
            with publish_at(db_url, scoring_target, clock, tmp_path, scoring_token=tokens.operator,
                            smtp_host="127.0.0.1", smtp_port=port, smtp_from="chiso@example.vn") as (pub, handle):
                op = auth(tokens.operator)
                with portal_receiver(tmp_path / "portal.db", handle.address) as receiver:
                    sub = ppb.Subscription(subscription_id="portal-ha-noi", endpoint=receiver.address,
                                           unit_codes=["H01"], feeds=[tpb.FEED_ALERT])
                    pub.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="sub", subscription=sub),
                                           metadata=op)
                    pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=ADDRESS), metadata=op)

                    # publish has H01's live scorecard (80.30, Tốt) and has evaluated it: the month's baseline
                    eventually(lambda: [u for u in _units(db) if u[0] == "H01" and u[2] == "GOOD"])
                    handle.alerts.run_once()
                    assert not alerts_at_portal(tmp_path / "portal.db") and not inbox.messages  # quiet hours

                    clock[0] = hanoi(2026, 8, 27, 10)  # quiet hours over; an hour and more since the last look
                    eventually(lambda: len(inbox.messages) == 1 and len(alerts_at_portal(tmp_path / "portal.db")) == 1)
                    portal = alerts_at_portal(tmp_path / "portal.db")
                    assert [(a["state"], a["rule"], a["unit_code"], a["period"]) for a in portal] == [
                        ("OPEN", "projection_below_band", "H01", "2026-08")]
                    msg = inbox.messages[0]
                    assert inbox.envelopes[0] == ("chiso@example.vn", [ADDRESS])
                    assert msg["Subject"] == "[Chỉ số 766] UBND thành phố Hà Nội: có thể xuống mức Khá"
                    body = msg.get_content()
                    assert "Đơn vị: UBND thành phố Hà Nội (H01)" in body
                    assert "3 hồ sơ sắp quá hạn" in body and "77,77 (Khá)" in body and "80,30 (Tốt)" in body
                    assert "ít nhất 3 hồ sơ" in body  # all three must be finished in time to stay in Tốt
                    for key in ("r0", "r1", "r2"):
                        assert f"igate-ha-noi/{key}" in body
                    assert "hạn 16:00 28/08/2026, còn 1 ngày làm việc" in body
                    assert "https://chiso.example.vn/don-vi/H01" in body
                    assert msg.get_content_charset() == "utf-8"

                    # more rounds, no new data: nothing more is sent
                    for _ in range(3):
                        handle.alerts.run_once()
                    clock[0] = hanoi(2026, 8, 27, 11, 30)  # past the interval: evaluated again, still holds
                    handle.alerts.run_once()
                    assert len(inbox.messages) == 1 and len(alerts_at_portal(tmp_path / "portal.db")) == 1

                    # finished in time → resolved (one notice each), never a second alert
                    done = at_risk_records(end=hanoi(2026, 8, 27, 11), t=SOURCE_TIME + timedelta(minutes=1))
                    r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="done", records=done),
                                            metadata=auth(tokens.ha_noi))
                    assert r.result.accepted_count == 3, r.result
                    wait_scored(db)
                    clock[0] = hanoi(2026, 8, 27, 12, 31)  # the data changed, and an hour passed: looked at again
                    eventually(lambda: len(inbox.messages) == 2 and len(alerts_at_portal(tmp_path / "portal.db")) == 2)
                    portal = alerts_at_portal(tmp_path / "portal.db")
                    assert [a["state"] for a in portal] == ["OPEN", "RESOLVED"]
                    assert portal[0]["alert_id"] == portal[1]["alert_id"]
                    assert inbox.messages[1]["Subject"].startswith("[Chỉ số 766] Đã hết cảnh báo: UBND thành phố")

                    # 1.4: 30 reported, 25 synchronised → the live total falls to Khá, and the gap is > 10%
                    r = ingest.SyncReportedTotals(ipb.SyncReportedTotalsRequest(request_id="reported", records=[
                        ipb.ReportedTotalRecord(unit_code="H01.01", year=2026, month=8, dossiers_received=30,
                                                source_time=ts(SOURCE_TIME))]), metadata=auth(tokens.ha_noi))
                    assert r.result.accepted_count == 1, r.result
                    eventually(lambda: len(alerts_at_portal(tmp_path / "portal.db")) == 4 and len(inbox.messages) == 4)
                    new = alerts_at_portal(tmp_path / "portal.db")[2:]
                    assert sorted((a["state"], a["rule"]) for a in new) == [("OPEN", "live_band_drop"),
                                                                             ("OPEN", "sync_gap")]
                    bodies = {m["Subject"]: m.get_content() for m in inbox.messages[2:]}
                    gap = next(b for s, b in bodies.items() if "đồng bộ" in s)
                    assert "25 hồ sơ đã đồng bộ, thấp hơn 30 hồ sơ đã báo cáo quá 10%" in gap
                    drop = next(b for s, b in bodies.items() if "xuống mức Khá" in s)
                    assert "79,30" in drop

                    listed = pub.ListAlerts(ppb.ListAlertsRequest(unit_code="H01"), metadata=op).alerts
                    assert len(listed) == 6  # three rules × (portal, e-mail)
                    assert {a.subscription_id for a in listed} == {"portal-ha-noi", "email"}
                    feed = pub.ListChanges(ppb.ListChangesRequest(page_size=1000)).changes  # public: no alert
                    assert feed and all(c.kind in (ppb.CHANGE_KIND_LIVE_SCORECARD, ppb.CHANGE_KIND_PUBLICATION)
                                        for c in feed)
                    assert "igate-ha-noi/r0" not in str(feed)
    out = capfd.readouterr()
    assert ADDRESS not in out.out + out.err  # addresses are masked in every log line
    assert "v***@h***.vn" in out.out + out.err


def _units(db):
    from sqlalchemy import select

    from services.publish.tables import alert_units

    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(alert_units))]


def _live_version(db, unit, now_us):
    """The version of the unit's (with subtree) live scorecard of the running month publish holds (0: none)."""
    from services.publish import storage as S
    from services.publish.alerts import _month_key
    from services.publish.domain.documents import SCOPE_SUBTREE

    with db.read() as conn:
        row = S.live_row(conn, unit, _month_key(now_us), SCOPE_SUBTREE)
    return row.version if row is not None else 0


def _evaluations(db, unit):
    from sqlalchemy import select

    from services.publish.tables import alert_units

    with db.read() as conn:
        return conn.execute(select(alert_units.c.evaluated_at).where(alert_units.c.unit_code == unit)).first()


@pytest.mark.parametrize("scoring_token", ["operator", "refused"])
def test_a_silent_source_after_h_hours_and_smtp_down_then_replayed(db_url, tmp_path, scoring_token):
    """``refused``: publish's token for scoring's at-risk lists is not accepted (revoked, mistyped) — the
    at-risk based rules cannot be evaluated, the silent source is still alerted."""
    real = datetime.now(UTC).replace(microsecond=0)
    clock = [real + timedelta(hours=1)]
    inbox = Inbox()
    port = free_port()  # nothing listens yet: SMTP is down
    rules = tmp_path / "rules.toml"
    rules.write_text((__import__("pathlib").Path(__file__).parents[2] / "services/publish/alert_rules.toml")
                     .read_text(encoding="utf-8").replace('quiet_hours = "21:00-07:00"', 'quiet_hours = ""'),
                     encoding="utf-8")
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        rec = d("s1", "H01.01", real - timedelta(days=1), real + timedelta(days=5))
        r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="s", records=[rec]), metadata=auth(tokens.ha_noi))
        assert r.result.accepted_count == 1
        with scoring_at(db_url, [real]) as (_, scoring_target):
            wait_scored(db)
            token = tokens.operator if scoring_token == "operator" else "chiso_nope_notatoken"  # noqa: S105
            with publish_at(db_url, scoring_target, clock, tmp_path, scoring_token=token,
                            smtp_host="127.0.0.1", smtp_port=port, max_attempts=2, alert_rules_file=str(rules),
                            alert_interval_seconds=1800, alert_poll_seconds=3600) as (pub, handle):
                # the worker's first round finds nothing to watch; this test runs the rounds itself
                op = auth(tokens.operator)
                # a department's recipient: the sources granted it (Hà Nội's, and the national one) are watched
                pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01.01", address=ADDRESS), metadata=op)
                handle.alerts.run_once()
                assert not pub.ListAlerts(ppb.ListAlertsRequest(unit_code="H01.01"), metadata=op).alerts  # 1 h: fine
                # publish holds the unit's live scorecard (no later version comes: scoring's clock stands still)
                eventually(lambda: _live_version(db, "H01.01", handle.alerts.clock()))
                clock[0] = real + timedelta(hours=26)  # 25 whole hours without a batch, more than the 24 allowed
                handle.alerts.run_once()
                (alert,) = pub.ListAlerts(ppb.ListAlertsRequest(unit_code="H01.01"), metadata=op).alerts
                assert alert.rule_id == "source_silent" and alert.subscription_id == "email"
                # a portal subscribing to the unit's alerts now is owed what already holds in the next round,
                # not after the 30-minute interval (the clock has not moved)
                pub.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="late", subscription=ppb.Subscription(
                    subscription_id="portal-late", endpoint="127.0.0.1:9", unit_codes=["H01.01"],
                    feeds=[tpb.FEED_ALERT])), metadata=op)
                handle.alerts.run_once()
                late = pub.ListAlerts(ppb.ListAlertsRequest(unit_code="H01.01"), metadata=op).alerts
                assert sorted((a.subscription_id, a.rule_id) for a in late) == [("email", "source_silent"),
                                                                               ("portal-late", "source_silent")]

                def set_aside():
                    """the e-mail set aside after 2 failed attempts"""
                    return pub.ListDeliveries(ppb.ListDeliveriesRequest(
                        subscription_id="email", state=ppb.DELIVERY_STATE_SET_ASIDE), metadata=op).deliveries

                (item,) = eventually(set_aside)
                assert item.attempts == 2 and "smtp" in item.last_error and ADDRESS not in item.last_error
                with smtp_server(inbox, port):
                    pub.ReplayDeliveries(ppb.ReplayDeliveriesRequest(subscription_id="email"), metadata=op)
                    eventually(lambda: len(inbox.messages) == 1)
                body = inbox.messages[0].get_content()
                assert "hệ thống nguồn ngừng gửi dữ liệu" in inbox.messages[0]["Subject"]
                assert "igate-ha-noi (hơn 25 giờ)" in body
                # a batch arrives: no longer silent → resolved
                clock[0] = real + timedelta(hours=27)
                with db.write() as conn:  # both sources send again (their latest batches: now)
                    from sqlalchemy import update

                    from services.shared.schema import batches
                    conn.execute(update(batches).values(committed_at=int(clock[0].timestamp() * 1e6)))
                handle.alerts.run_once()
                states = [a.state for a in pub.ListAlerts(ppb.ListAlertsRequest(unit_code="H01.01"),
                                                          metadata=op).alerts]
                assert states == [ppb.ALERT_STATE_RESOLVED] * 2


def test_recipients_are_managed_by_operators(db_url, tmp_path):
    clock = [datetime.now(UTC)]
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_at(db_url, clock) as (_, scoring_target), \
                publish_at(db_url, scoring_target, clock, tmp_path, alerts=False) as (pub, _handle):
            with pytest.raises(grpc.RpcError) as err:
                pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=ADDRESS))
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as err:
                pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=ADDRESS),
                                      metadata=auth(tokens.ha_noi))
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
            op = auth(tokens.operator)
            eventually(lambda: _known(db, "H01"))
            for bad in ("not-an-address", "a@b", "x" * 250 + "@hanoi.gov.vn"):
                with pytest.raises(grpc.RpcError) as err:
                    pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=bad), metadata=op)
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.RpcError) as err:
                pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H99", address=ADDRESS), metadata=op)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
            pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=ADDRESS), metadata=op)
            pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address="b@Hanoi.GOV.vn"), metadata=op)
            pub.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=ADDRESS), metadata=op)
            listed = pub.ListAlertRecipients(ppb.ListAlertRecipientsRequest(unit_code="H01", page_size=1), metadata=op)
            assert [r.address for r in listed.recipients] == ["b@hanoi.gov.vn"] and listed.next_page_token
            rest = pub.ListAlertRecipients(ppb.ListAlertRecipientsRequest(
                unit_code="H01", page_size=1, page_token=listed.next_page_token), metadata=op)
            assert [r.address for r in rest.recipients] == [ADDRESS]
            assert pub.RemoveAlertRecipient(ppb.RemoveAlertRecipientRequest(unit_code="H01", address=ADDRESS),
                                            metadata=op).removed
            # a unit's alerts: for its own officials and sources (a grant covering it), and operators
            assert not pub.ListAlerts(ppb.ListAlertsRequest(unit_code="H01.01"), metadata=auth(tokens.ha_noi)).alerts
            for request, token in ((ppb.ListAlertsRequest(unit_code="H01"), tokens.phu_tho),
                                   (ppb.ListAlertsRequest(), tokens.ha_noi)):
                with pytest.raises(grpc.RpcError) as err:
                    pub.ListAlerts(request, metadata=auth(token))
                assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert not pub.ListAlerts(ppb.ListAlertsRequest(), metadata=op).alerts
            with pytest.raises(grpc.RpcError) as err:  # alert settings are checked against the rules
                pub.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="x", subscription=ppb.Subscription(
                    subscription_id="p-x", endpoint="127.0.0.1:9", feeds=[tpb.FEED_ALERT],
                    alert_settings={"sync_gap.percent": "200"})), metadata=op)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _known(db, code):
    from services.publish import storage_alerts as A

    with db.read() as conn:
        return A.known_unit(conn, code)


def test_kill_9_during_alert_delivery_loses_none_and_stores_none_twice(pg_url, tmp_path):
    """Replica A (a process) raises an alert and is killed -9 while the portal is storing it; replica B
    takes over the leases: the portal holds the alert once, and every e-mail received is the same one
    (one Message-ID: a resend after the kill is the same message)."""
    from services.shared.processes import spawn, wait_healthy

    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def hold_the_alert(request):
        if request.content_type == "application/vnd.chiso.alert+json":
            calls.append(request.delivery_id)
            entered.set()
            release.wait(60)

    rules = tmp_path / "rules.toml"
    rules.write_text((__import__("pathlib").Path(__file__).parents[2] / "services/publish/alert_rules.toml")
                     .read_text(encoding="utf-8").replace('quiet_hours = "21:00-07:00"', 'quiet_hours = ""')
                     .replace("max_dossiers = 20", "max_dossiers = 0"), encoding="utf-8")
    inbox, smtp_port = Inbox(), free_port()
    now = datetime.now(UTC)
    with ingest_server(pg_url) as (ingest, db, _), smtp_server(inbox, smtp_port):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        # due within a working day from now, whatever today is: at risk (the backlog limit is 0 here)
        from services.scoring.domain.workdays import add_working_days

        due_day = add_working_days(now.astimezone(hanoi(2026, 1, 1).tzinfo).date(), 1)
        due = hanoi(due_day.year, due_day.month, due_day.day, 23)
        rec = d("k1", "H01.01", now - timedelta(hours=2), due)
        assert ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="k", records=[rec]),
                                   metadata=auth(tokens.ha_noi)).result.accepted_count == 1
        with scoring_at(pg_url, [now]) as (_, scoring_target):
            wait_scored(db)
            port_a = free_port()
            key = signing_key_file(tmp_path)
            common = dict(DATABASE_URL=pg_url, METRICS_PORT=-1, SCORING_TARGET=scoring_target, SIGNING_KEY_FILE=key,
                          AUTO_MIGRATE="false", POLL_SECONDS=0.05, DELIVERY_POLL_SECONDS=0.05,
                          DELIVER_TIMEOUT_SECONDS=1, LEASE_SECONDS=3, BACKOFF_BASE_SECONDS=0.05,
                          BACKOFF_MAX_SECONDS=0.4, MAX_ATTEMPTS=1000, SCORING_TOKEN=tokens.operator,
                          SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port, ALERT_RULES_FILE=str(rules),
                          ALERT_POLL_SECONDS=0.05)
            env = {f"CHISO_PUBLISH_{k}": str(v) for k, v in {**common, "PORT": port_a, "REPLICA_ID": "a"}.items()}
            replica_a = spawn("services.publish.server", env)
            try:
                wait_healthy(f"127.0.0.1:{port_a}", replica_a)
                portal_db = tmp_path / "portal.db"
                with grpc.insecure_channel(f"127.0.0.1:{port_a}") as channel, \
                        portal_receiver(portal_db, f"127.0.0.1:{port_a}", before_store=hold_the_alert) as receiver:
                    a = publish_pb2_grpc.PublishServiceStub(channel)
                    op = auth(tokens.operator)
                    sub = ppb.Subscription(subscription_id="portal-ha-noi", endpoint=receiver.address,
                                           unit_codes=["H01"], feeds=[tpb.FEED_ALERT])
                    a.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="s", subscription=sub), metadata=op)
                    a.AddAlertRecipient(ppb.AddAlertRecipientRequest(unit_code="H01", address=ADDRESS), metadata=op)
                    assert entered.wait(60)  # A is delivering the alert to the portal
                    replica_a.kill()  # SIGKILL: no lease released, no goodbye
                    replica_a.wait(30)
                    with publish_at(pg_url, scoring_target, [now], tmp_path, scoring_token=tokens.operator,
                                    smtp_host="127.0.0.1", smtp_port=smtp_port, alert_rules_file=str(rules),
                                    lease_seconds=3.0, deliver_timeout_seconds=1.0, replica_id="b") as (b, _):
                        release.set()  # A's abandoned call now completes at the portal
                        eventually(lambda: len(calls) >= 2 and _all_delivered(b, op, "portal-ha-noi"), timeout=60)
                        eventually(lambda: inbox.messages and _all_delivered(b, op, "email"), timeout=60)
                        alerts = b.ListAlerts(ppb.ListAlertsRequest(unit_code="H01"), metadata=op).alerts
            finally:
                if replica_a.poll() is None:
                    replica_a.kill()
    assert len(set(calls)) == 1  # the same delivery, sent by A and again by B
    stored = report(portal_db)["alerts"]
    assert [(x["state"], x["rule"]) for x in stored] == [("OPEN", "at_risk_backlog")]  # stored once
    assert sorted((x.subscription_id, x.rule_id) for x in alerts) == [("email", "at_risk_backlog"),
                                                                    ("portal-ha-noi", "at_risk_backlog")]
    assert len({m["Message-ID"] for m in inbox.messages}) == 1


def _all_delivered(pub, op, sid):
    rows = pub.ListDeliveries(ppb.ListDeliveriesRequest(subscription_id=sid), metadata=op).deliveries
    return bool(rows) and all(r.state == ppb.DELIVERY_STATE_DELIVERED for r in rows)
