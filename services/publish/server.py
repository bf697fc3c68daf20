"""The publish service process: settings, wiring, the scoring follower, delivery, serve
(``chiso-publish``).

``build(settings, ...)`` returns an unstarted server handle (tests call it with port 0 and may pass
their own scoring port and portal sender factory); ``main()`` is the container entry point.

Signing key: ``CHISO_PUBLISH_SIGNING_KEY_FILE`` (an Ed25519 private key, PEM). Without it, on the
embedded database, a key is generated at first start as ``publish-signing-key.pem`` beside the
SQLite file and reused afterwards; on PostgreSQL the setting is required (every replica must sign
with the same key).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from chiso.publish.v1 import publish_pb2_grpc
from prometheus_client import Counter, Gauge
from sqlalchemy.engine import make_url

from services.publish.alerts import Alerts, AlertWorker
from services.publish.delivery import DeliverySettings, Dispatcher, SenderFactory
from services.publish.domain.alerts import EMAIL_SUBSCRIPTION, load_rules
from services.publish.domain.ports import ScoringPort
from services.publish.domain.subscriptions import RetryPolicy
from services.publish.mail_client import MailSettings, SmtpSender
from services.publish.portal_client import GrpcPortalSender
from services.publish.scoring_client import GrpcScoring
from services.publish.service import Publish, now_us
from services.publish.signing import Signer, load_key_file, load_or_create_key_file
from services.publish.storage import LANES
from services.publish.transport import PUBLIC_METHODS, SERVICE_NAME, PublishServicer
from services.shared.access import Authenticator, bearer_authenticate
from services.shared.config import CommonSettings, ConfigError, check_setting, load_settings
from services.shared.db import Database, is_sqlite, migrate
from services.shared.grpc_server import ServerHandle, create_server, serve
from services.shared.logging import configure_logging

ENV_PREFIX = "CHISO_PUBLISH_"
KEY_FILE_NAME = "publish-signing-key.pem"
log = structlog.get_logger("chiso.publish")

APPLIED = Counter("chiso_publish_live_changes_total", "Live scorecard versions recorded from scoring")
SET_ASIDE_NOW = Gauge("chiso_publish_set_aside_scorecards", "Live scorecards set aside and not recovered yet")
CAUGHT_UP = Gauge("chiso_publish_follow_caught_up_timestamp_seconds",
                  "When the follower's live lane last found scoring's change feed read to its end (Unix time)")


@dataclass(frozen=True)
class PublishSettings(CommonSettings):
    port: int = field(default=50053, metadata={"doc": "gRPC port (0 = any free port)"})
    auto_migrate: bool = field(default=True, metadata={"doc": "apply database migrations at start"})
    token_cache_seconds: float = field(default=5.0, metadata={"doc": "how long a token check is cached"})
    scoring_target: str = field(default="127.0.0.1:50052", metadata={"doc": "host:port of the scoring service"})
    scoring_timeout_seconds: float = field(default=60.0, metadata={"doc": "deadline of each call to scoring"})
    follow: bool = field(default=True, metadata={"doc": "follow scoring's change feed into live results"})
    poll_seconds: float = field(default=0.2, metadata={"doc": "pause of the follower and of change streams when idle"})
    follow_page_size: int = field(default=2000, metadata={"doc": "scoring changes applied per transaction"})
    follow_interval_seconds: float = field(default=1.0, metadata={
        "doc": "least time between two pages of scoring's feed: a unit changed by every batch meanwhile is "
               "re-read once, not once per batch"})
    refresh_seconds: float = field(
        default=0.0,
        metadata={"doc": "re-read every running period's live scorecard this often; 0 = never (the default: "
                         "scoring's due ticker announces the scorecards time re-judges: dossiers' deadlines, "
                         "petitions' due times and stage limits, listings falling due). An operator's safety net "
                         "only"})
    signing_key_file: str | None = field(
        default=None, metadata={"doc": "Ed25519 private key (PEM); unset: generated beside the SQLite file"})
    replica_id: str = field(default="", metadata={
        "doc": "name of this replica in delivery leases (default: host-pid-random)"})
    deliver: bool = field(default=True, metadata={"doc": "push deliveries to subscribed portals"})
    deliver_timeout_seconds: float = field(default=10.0, metadata={"doc": "deadline of each Deliver call"})
    max_attempts: int = field(default=12, metadata={"doc": "attempts before a delivery is set aside"})
    backoff_base_seconds: float = field(default=1.0, metadata={"doc": "first retry waits up to this (full jitter)"})
    backoff_max_seconds: float = field(default=300.0, metadata={"doc": "longest wait between attempts"})
    lease_seconds: float = field(default=30.0, metadata={"doc": "a replica's hold on a subscription's deliveries"})
    delivery_poll_seconds: float = field(default=0.5, metadata={"doc": "how often idle delivery workers look"})
    delivery_inflight_mb: int = field(default=16, metadata={
        "doc": "MB of payloads this replica sends at once, all subscriptions together (a larger one goes alone)"})

    alerts: bool = field(default=True, metadata={
        "doc": "evaluate early-warning alerts for subscriptions with the alert feed and units' e-mail recipients"})
    alert_poll_seconds: float = field(default=30.0, metadata={"doc": "how often the alert worker looks for work"})
    alert_interval_seconds: float = field(default=600.0, metadata={
        "doc": "a watched unit is evaluated at least this often (time passing) besides when its data changes"})
    alert_rules_file: str = field(default="", metadata={"doc": "alert rules (TOML); empty: the shipped defaults"})
    dashboard_url: str = field(default="", metadata={
        "doc": "base URL of the dashboard, for the unit's page linked from alerts (e.g. https://chiso.gov.vn)"})
    scoring_token: str = field(default="", metadata={
        "doc": "bearer token for scoring's at-risk lists (an operator's); empty: no projection-based alerts"})
    smtp_host: str = field(default="", metadata={"doc": "SMTP server for alert e-mails; empty: no e-mail"})
    smtp_port: int = field(default=25, metadata={"doc": "SMTP port (587 with STARTTLS, usually)"})
    smtp_starttls: bool = field(default=False, metadata={"doc": "upgrade the SMTP connection with STARTTLS"})
    smtp_ca_file: str = field(default="", metadata={"doc": "CA bundle (PEM) to verify the SMTP server; empty: system"})
    smtp_username: str = field(default="", metadata={"doc": "SMTP login (empty: none)"})
    smtp_password: str = field(default="", metadata={"doc": "SMTP password"})
    smtp_from: str = field(default="chiso@localhost", metadata={"doc": "From address of alert e-mails"})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_setting(self.alert_poll_seconds > 0, "alert_poll_seconds", "must be positive")
        check_setting(self.alert_interval_seconds >= 0, "alert_interval_seconds", "must not be negative")
        check_setting(0 < self.smtp_port < 65536, "smtp_port", "must be a port number")
        check_setting(self.poll_seconds > 0, "poll_seconds", "must be positive")
        check_setting(1 <= self.follow_page_size <= 5000, "follow_page_size", "must be 1–5000")
        check_setting(0 <= self.follow_interval_seconds <= 60, "follow_interval_seconds", "must be 0–60")
        check_setting(self.refresh_seconds >= 0, "refresh_seconds", "must not be negative")
        check_setting(self.deliver_timeout_seconds > 0, "deliver_timeout_seconds", "must be positive")
        check_setting(self.max_attempts >= 1, "max_attempts", "must be at least 1")
        check_setting(0 < self.backoff_base_seconds <= self.backoff_max_seconds, "backoff_base_seconds",
                      "must be positive and at most backoff_max_seconds")
        check_setting(self.lease_seconds > 2 * self.deliver_timeout_seconds, "lease_seconds",
                      "must be more than twice deliver_timeout_seconds")
        check_setting(self.delivery_poll_seconds > 0, "delivery_poll_seconds", "must be positive")
        check_setting(self.delivery_inflight_mb >= 1, "delivery_inflight_mb", "must be at least 1")


def load_signer(settings: PublishSettings) -> Signer:
    if settings.signing_key_file:
        try:
            signer = load_key_file(settings.signing_key_file)
        except ValueError as exc:
            raise ConfigError(f"{ENV_PREFIX}SIGNING_KEY_FILE: {exc}") from None
        log.info("signing key loaded", key_id=signer.key_id, path=settings.signing_key_file)
        return signer
    if not is_sqlite(settings.database_url):
        raise ConfigError(f"{ENV_PREFIX}SIGNING_KEY_FILE is required on PostgreSQL (replicas must share one key)")
    database = make_url(settings.database_url).database or ""
    folder = Path(database).parent if database and database != ":memory:" else Path("var")
    path = folder / KEY_FILE_NAME
    signer, created = load_or_create_key_file(path)
    log.info("signing key generated" if created else "signing key loaded", key_id=signer.key_id, path=str(path))
    return signer


class Follower:
    """Applies scoring's change feed to the live results, in one lane (``S.LANES``: running or ended
    periods, each with its own thread and cursor), until stopped. The live lane also retries set-aside
    scorecards and, only if ``refresh_seconds`` is set (off by default: scoring's due ticker puts the
    scorecards time re-judges into the feed), re-reads every running period that often.
    Replicas may all run both (a page is applied once: see ``Publish.follow_once``)."""

    def __init__(self, publish: Publish, settings: PublishSettings, lane: str = LANES[0]) -> None:
        self.publish = publish
        self.settings = settings
        self.lane = lane
        self.live = lane == LANES[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"publish-follower-{lane}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        failures = 0
        refreshed = now_us()
        retried = 0.0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                read, recorded = self.publish.follow_once(self.settings.follow_page_size, lane=self.lane)
                if recorded:
                    APPLIED.inc(recorded)
                behind = read >= self.settings.follow_page_size
                if self.live and not behind:  # the live lane: how fresh live results are
                    CAUGHT_UP.set_to_current_time()
                # Running periods are re-read once the feed is caught up (while it is behind, the
                # changes themselves re-read what moved).
                if (self.live and not behind and self.settings.refresh_seconds
                        and now_us() - refreshed > self.settings.refresh_seconds * 1e6):
                    refreshed = now_us()
                    APPLIED.inc(self.publish.refresh_live(self.publish.running_keys()))
                if self.live and time.monotonic() - retried > 1.0:  # set-aside scorecards past their backoff
                    retried = time.monotonic()
                    self.publish.retry_set_aside()
                    SET_ASIDE_NOW.set(self.publish.set_aside_count())
                failures = 0
            except Exception as exc:  # noqa: BLE001 — keep following; logged with its trace
                failures += 1
                log.warning("following scoring failed; retrying", lane=self.lane, error=str(exc)[:300],
                            failures=failures, exc_info=failures == 1)
                self._stop.wait(min(30.0, self.settings.poll_seconds * 2 ** min(failures, 8)))
                continue
            if not behind:  # changes arriving within the interval are read together
                left = self.settings.follow_interval_seconds - (time.monotonic() - started)
                self._stop.wait(max(self.settings.poll_seconds, left))


def build(settings: PublishSettings, *, db: Database | None = None, scoring: ScoringPort | None = None,
          signer: Signer | None = None, sender_factory: SenderFactory | None = None,
          clock: Callable[[], int] = now_us) -> ServerHandle:
    signer = signer or load_signer(settings)
    if settings.auto_migrate:
        migrate(settings.database_url)
    db = db or Database(settings.database_url)
    own_scoring = scoring is None
    scoring = scoring or GrpcScoring(settings.scoring_target, settings.scoring_timeout_seconds,
                                     token=settings.scoring_token)
    publish = Publish(db, scoring, signer, clock=clock, retry=RetryPolicy(
        settings.max_attempts, settings.backoff_base_seconds, settings.backoff_max_seconds))
    publish.register_key()
    stopping = threading.Event()
    servicer = PublishServicer(publish, settings.poll_seconds, stopping.is_set)
    handle = create_server(
        name="publish",
        settings=settings,
        services=[(publish_pb2_grpc.add_PublishServiceServicer_to_server, servicer, SERVICE_NAME)],
        authenticate=bearer_authenticate(Authenticator(db, ttl=settings.token_cache_seconds),
                                         "this method needs an operator's bearer token"),
        public_methods=PUBLIC_METHODS,
    )
    handle.publish = publish  # type: ignore[attr-defined]  # for tests and tools
    stops: list[Callable[[], None]] = []  # in the order they must run
    if settings.follow:
        for lane in LANES:
            follower = Follower(publish, settings, lane)
            handle.on_start.append(follower.start)
            stops.append(follower.stop)
    if settings.smtp_host:
        ensure_email_subscription(db, settings, clock())
    if settings.alerts:
        rules = load_rules(settings.alert_rules_file) if settings.alert_rules_file else load_rules()
        at_risk = getattr(scoring, "at_risk", None) or (lambda unit, days: None)
        alerts = Alerts(db, signer, at_risk, clock=clock, defaults=rules, dashboard_url=settings.dashboard_url,
                        interval_seconds=settings.alert_interval_seconds, on_sent=publish._notify,
                        round_seconds=max(settings.alert_poll_seconds, 10.0))
        worker = AlertWorker(alerts, settings.alert_poll_seconds)
        handle.alerts = alerts  # type: ignore[attr-defined]  # for tests and tools
        handle.on_start.append(worker.start)
        stops.append(worker.stop)
    if settings.deliver:
        owner = settings.replica_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        portal_senders = sender_factory or GrpcPortalSender
        mail = MailSettings(settings.smtp_host, settings.smtp_port, settings.smtp_starttls, settings.smtp_username,
                            settings.smtp_password, settings.smtp_from, settings.smtp_ca_file)

        def senders(sub):
            if sub.subscription_id == EMAIL_SUBSCRIPTION:
                return SmtpSender(mail, db)
            return portal_senders(sub)

        dispatcher = Dispatcher(db, senders, DeliverySettings(
            owner=owner, lease_seconds=settings.lease_seconds, poll_seconds=settings.delivery_poll_seconds,
            deliver_timeout=settings.deliver_timeout_seconds,
            policy=RetryPolicy(settings.max_attempts, settings.backoff_base_seconds, settings.backoff_max_seconds),
            inflight_bytes=settings.delivery_inflight_mb * 1024 * 1024,
        ), clock)
        publish.add_listener(dispatcher.notify)
        handle.on_start.append(dispatcher.start)
        stops.append(dispatcher.stop)
        handle.dispatcher = dispatcher  # type: ignore[attr-defined]
    stops.append(stopping.set)
    if own_scoring:
        stops.append(scoring.close)  # type: ignore[union-attr]
    stops.append(db.dispose)
    handle.on_stop.extend(reversed(stops))  # on_stop runs last registered first
    handle.watch_database(db.ping)  # readiness follows the database
    return handle


def ensure_email_subscription(db: Database, settings: PublishSettings, now: int) -> None:
    """The reserved subscription ``email`` (alerts to units' e-mail recipients, through the SMTP server):
    made at start when SMTP is configured, its endpoint kept current; its alert settings are the
    operator's (UpdateSubscription)."""
    from services.publish import storage as S
    from services.publish.domain.documents import FEED_ALERT
    from services.publish.domain.subscriptions import Subscription

    endpoint = f"{settings.smtp_host}:{settings.smtp_port}"
    with db.write() as conn:
        rows = S.subscriptions(conn, only=EMAIL_SUBSCRIPTION)
        if not rows:
            S.insert_subscription(conn, Subscription(EMAIL_SUBSCRIPTION, "Thư điện tử cảnh báo sớm", endpoint,
                                                     feeds=frozenset({FEED_ALERT})), now)
        elif rows[0].endpoint != endpoint:
            S.update_subscription(conn, Subscription(
                EMAIL_SUBSCRIPTION, rows[0].display_name, endpoint, rows[0].unit_codes, rows[0].feeds,
                alert_settings=rows[0].alert_settings), now)


def main() -> int:
    try:
        settings = load_settings(PublishSettings, ENV_PREFIX)
        configure_logging("publish", settings.log_level)
        handle = build(settings)
    except ConfigError as exc:
        print(f"chiso-publish: configuration error: {exc}", file=sys.stderr)
        return 2
    serve(handle, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
