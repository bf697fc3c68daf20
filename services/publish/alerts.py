"""Early-warning alerts: evaluated as data changes and as time passes, sent through publish's outbox.

**Who is watched.** Every subscription naming the feed FEED_ALERT watches its units: the roots of its
subtrees (the unit with its subtree — a province's alerts are about the province's score), or, with
no unit codes, every top-level unit; the reserved subscription ``email`` (made at start when SMTP is
configured) watches the units that have e-mail recipients.

**When.** A worker (:class:`AlertWorker`, one per replica, injectable clock) looks every
``poll_seconds`` at the watched units and evaluates a unit when its live scorecard of the running month
changed since its last evaluation (publish's follower recorded a new version: data arrived), when
``interval_seconds`` passed (due times pass, sources fall silent — time, not data), or when the month
turned. An evaluation reads the stored live scorecard (no re-scoring), one at-risk list from scoring
(``ListAtRiskDossiers``: the rule engine's projection) and the granted sources' latest batches — never
every scorecard.

**Pace.** A round looks at the watched units' versions in one read (not their scorecards) and
evaluates the due units longest due first (never evaluated, a new month or someone new watching; then
by when they fell due: their new version's arrival, or the interval's end), for at most
``round_seconds``; what is left stays due and the worker starts the next round at once. Each
evaluation records the version of the scorecard it actually read (read at evaluation, not at the
round's start), so data arriving while a round runs is evaluated once, not in every later round. The
lineages, granted sources and their latest batches are read once per round. Scoring's at-risk list is
asked at every evaluation: a unit is evaluated only when its data changed or the interval passed, and
the list moves with both (due times come closer as time passes).

**What is sent.** :func:`services.publish.domain.alerts.transition`: one alert per rule, unit, month and
subscription; a "resolved" when it stops holding; nothing during the subscription's quiet hours. Each
is a signed canonical JSON payload (``application/vnd.chiso.alert+json``) in publish's outbox — the
same table, workers, retries with backoff, set-aside and replay as scorecard deliveries — in the
transaction that records the alert, so an alert is recorded and queued together or not at all. Alerts
are not in the public change feed. Two replicas evaluating one unit: a compare-and-set on the unit's
evaluation time lets one of them record (the other's transaction changes nothing).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

from services.publish import storage as S
from services.publish import storage_alerts as A
from services.publish.domain.alerts import (
    ALERT_CONTENT_TYPE,
    EMAIL_SUBSCRIPTION,
    OPEN,
    AtRiskFacts,
    RuleSet,
    UnitFacts,
    alert_document,
    evaluate,
    load_rules,
    mask_address,
    transition,
    with_overrides,
)
from services.publish.domain.documents import FEED_ALERT, HANOI, SCOPE_SUBTREE, canonical_json, rfc3339
from services.publish.domain.paging import decode_token, encode_token, fingerprint
from services.publish.domain.subscriptions import PENDING, Subscription
from services.shared.access import covers
from services.shared.db import Database, log_failure
from services.shared.errors import ChisoError, InvalidArgument, NotFound

log = structlog.get_logger("chiso.publish.alerts")

RAISED = Counter("chiso_publish_alerts_total", "Alerts recorded and queued, by state", ["state"])
#: scoring's answers to an at-risk read that mean publish's own token is not accepted
REFUSED = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})
EVALUATED = Counter("chiso_publish_alert_evaluations_total", "Units whose alert rules were evaluated")

AtRiskPort = Callable[[str, int], AtRiskFacts | None]


class Alerts:
    def __init__(self, db: Database, signer, at_risk: AtRiskPort, *, clock: Callable[[], int],
                 defaults: RuleSet | None = None, dashboard_url: str = "", interval_seconds: float = 600.0,
                 on_sent: Callable[[], None] = lambda: None, round_seconds: float = 0.0) -> None:
        self.db = db
        self.signer = signer
        self.at_risk = at_risk
        self.clock = clock
        self.defaults = defaults or load_rules()
        self.dashboard_url = dashboard_url
        self.interval_us = int(interval_seconds * 1_000_000)
        self.on_sent = on_sent
        #: a round's time box (0: none); the units left stay due and are evaluated first next round
        self.round_seconds = round_seconds
        #: units still due when the last round ended (its time box ran out)
        self.backlog = 0

    def watched(self, conn) -> dict[str, list[tuple[Subscription, RuleSet]]]:
        """unit code → the subscriptions watching it, with their rules."""
        out: dict[str, list[tuple[Subscription, RuleSet]]] = {}
        top = None
        for sub in S.subscriptions(conn):
            if FEED_ALERT not in sub.feeds:
                continue
            try:
                rules = with_overrides(self.defaults, dict(sub.alert_settings))
            except ValueError as exc:  # checked when stored; a rules file changed since
                log.warning("subscription's alert settings no longer fit; shipped rules used",
                            subscription=sub.subscription_id, error=str(exc)[:200])
                rules = self.defaults
            if sub.subscription_id == EMAIL_SUBSCRIPTION:
                units = A.units_with_recipients(conn)
            elif sub.unit_codes:
                units = list(sub.unit_codes)
            else:
                top = A.top_units(conn) if top is None else top
                units = top
            for code in units:
                out.setdefault(code, []).append((sub, rules))
        return out

    def run_once(self) -> int:
        """Evaluate the watched units that are due, the longest-due first, for at most ``round_seconds``
        (what is left stays due for the next round, :attr:`backlog`); the number of alerts (and
        resolutions) queued."""
        started = time.monotonic()
        now = self.clock()
        month = _month_key(now)
        with self.db.read() as conn:
            watched = self.watched(conn)
            codes = sorted(watched)
            states = A.unit_states(conn, codes)
            versions = A.live_versions(conn, codes, month, SCOPE_SUBTREE)
        due = []
        for code in codes:
            version, updated_at = versions.get(code, (0, 0))
            st = states.get(code)
            if st is None or st.period_key != month or st.evaluated_at == 0:
                since = 0  # never evaluated, a new month, or someone new watches it: first
            elif st.live_version != version:
                since = min(updated_at, st.evaluated_at + self.interval_us)  # data arrived then
            elif now - st.evaluated_at >= self.interval_us:
                since = st.evaluated_at + self.interval_us  # time passed
            else:
                continue
            due.append((since, -(version - (st.live_version if st is not None else 0)), code, st))
        due.sort(key=lambda d: d[:3])
        self.backlog = len(due)
        sent = 0
        cache = _RoundCache()
        for i, (_, _, code, st) in enumerate(due):
            if i and self.round_seconds and time.monotonic() - started >= self.round_seconds:
                break  # the rest stays due: evaluated first next round, which starts at once
            self.backlog -= 1
            try:
                sent += self._evaluate(code, st, watched[code], now, month, cache)
            except IntegrityError:  # another replica recorded the unit's first evaluation meanwhile
                log.debug("alert evaluation overtaken", unit_code=code)
            except Exception as exc:  # noqa: BLE001 — one unit never stops the others; tried again next round
                log_failure(log.bind(unit_code=code), "alert evaluation failed", exc)
        if self.backlog:
            log.info("alert round time-boxed; the rest next round", evaluated=len(due) - self.backlog,
                     left=self.backlog, seconds=round(time.monotonic() - started, 1))
        if sent:
            self.on_sent()
        return sent

    def _facts(self, code: str, targets, month: str, cache: _RoundCache):
        """The unit's live scorecard row (read now, not at the round's start: the version recorded is
        the one read), its facts per horizon (working days) its subscriptions ask for, and the sources
        granted it with their latest batch (µs)."""
        with self.db.read() as conn:
            live = S.live_row(conn, code, month, SCOPE_SUBTREE)
            name = "" if live is not None else A.unit_name(conn, code)
            silent = []
            for source in cache.sources(conn, code):
                last = cache.last_batch(conn, source)
                if last is not None:
                    silent.append((source, last))
        card = json.loads(live.scorecard) if live is not None else {}
        total = (card.get("total") or {}).get("value") if card else None
        band = (card.get("classification") or "").removeprefix("CLASSIFICATION_") or None
        synced = reported = None
        for ind in card.get("indicators", ()):
            if ind.get("id") == "1.4":
                synced, reported = int(ind.get("numerator") or 0), int(ind.get("denominator") or 0)
        name = ((card.get("unit") or {}).get("name")) or name
        if not name:
            with self.db.read() as conn:
                name = A.unit_name(conn, code)
        out = {}
        for days in sorted({rules.working_days for _, rules in targets}):
            try:
                risk = self.at_risk(code, days)
            except ChisoError as exc:
                if exc.metadata.get("scoring_code") not in REFUSED:
                    raise  # scoring down or busy: the whole unit is tried again next round
                # publish's token is refused (revoked, rotated, mistyped): as without a token, the
                # projection and backlog rules cannot hold, and the other rules still must
                log.warning("scoring refused publish's token for the at-risk list: projection and backlog "
                            "alerts skipped (CHISO_PUBLISH_SCORING_TOKEN)", unit_code=code,
                            scoring_code=exc.metadata.get("scoring_code"))
                risk = None
            out[days] = UnitFacts(code, name, month, total, band, synced, reported, risk, ())
        return live, out, silent

    def _evaluate(self, code: str, st, targets, now: int, month: str, cache: _RoundCache) -> int:
        live, facts_by_days, sources = self._facts(code, targets, month, cache)
        EVALUATED.inc()
        moment = datetime.fromtimestamp(now / 1e6, UTC)
        sent = 0
        with self.db.write() as conn:
            base = next(iter(facts_by_days.values()))
            baseline = st.baseline_band if st is not None and st.period_key == month else ""
            baseline = baseline or (base.live_band or "")
            values = {"period_key": month, "baseline_band": baseline,
                      "live_version": live.version if live is not None else 0, "evaluated_at": now}
            if not A.claim_unit(conn, code, st.evaluated_at if st is not None else None, values):
                return 0  # another replica evaluated it meanwhile
            for sub, rules in targets:
                hours_limit = rules.setting("source_silent", "hours") if rules.enabled("source_silent") else 0
                active_us = (rules.setting("source_silent", "active_within_days") * 86_400_000_000
                             if rules.enabled("source_silent") else 0)
                silent = tuple((s, int((now - last) // 1_000_000)) for s, last in sources
                               if 0 < now - last <= active_us and hours_limit)
                facts = facts_by_days[rules.working_days]
                facts = UnitFacts(facts.unit_code, facts.unit_name, facts.period_key, facts.live_total,
                                  facts.live_band, facts.synchronised, facts.reported, facts.at_risk, silent)
                findings = evaluate(rules, facts, baseline or None)
                stored = A.stored_alerts(conn, sub.subscription_id, code, month)
                for send in transition(findings, stored, rules.quiet_at(moment)):
                    alert_id = send.alert_id or f"a-{uuid.uuid4().hex}"
                    title = A.stored_title(conn, alert_id) if send.state != OPEN else send.finding.title
                    doc = alert_document(alert_id, send, facts, sub.subscription_id, rfc3339(now), self.dashboard_url,
                                         title)
                    if send.state == OPEN:
                        A.open_alert(conn, sub.subscription_id, code, send.rule_id, month, alert_id, title, now)
                    elif not A.resolve_alert(conn, alert_id, now):
                        continue
                    self._queue(conn, sub.subscription_id, doc, now)
                    RAISED.labels(send.state.lower()).inc()
                    log.info("alert queued", unit_code=code, subscription=sub.subscription_id, rule=send.rule_id,
                             state=send.state, alert_id=alert_id, period=month)
                    sent += 1
        return sent

    def _queue(self, conn, subscription_id: str, doc: dict, now: int) -> None:
        payload = canonical_json(doc)
        (seq,) = S.allocate(conn, 1, now)
        S.insert_changes(conn, [S.change_row(S.KIND_ALERT, seq, payload=payload, signature=self.signer.sign(payload),
                                             key_id=self.signer.key_id, content_type=ALERT_CONTENT_TYPE, now=now,
                                             unit_code=doc["unit"]["code"], period_key=doc["period"])])
        first = S.reserve_sequences(conn, subscription_id, 1)
        if first is None:
            return
        S.insert_deliveries(conn, [{"delivery_id": uuid.uuid4().hex, "subscription_id": subscription_id,
                                    "sequence": first, "change_seq": seq, "feed": FEED_ALERT, "state": PENDING,
                                    "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now,
                                    "delivered_at": None}])


class _RoundCache:
    """One round's reads shared between its units: lineages, the sources granted them and the sources'
    latest batches (a round is time-boxed, so these are at most a round old — the silence rule counts
    hours)."""

    def __init__(self) -> None:
        self._sources: dict[str, list[str]] = {}
        self._last: dict[str, int | None] = {}

    def sources(self, conn, code: str) -> list[str]:
        if code not in self._sources:
            self._sources[code] = A.sources_covering(conn, [code, *A.ancestors(conn, code)])
        return self._sources[code]

    def last_batch(self, conn, source: str) -> int | None:
        if source not in self._last:
            self._last[source] = A.last_batch_at(conn, source)
        return self._last[source]


def _month_key(now_us: int) -> str:
    local = datetime.fromtimestamp(now_us / 1e6, UTC).astimezone(HANOI)
    return f"{local.year:04d}-{local.month:02d}"


class AlertWorker:
    """Runs :meth:`Alerts.run_once` every ``poll_seconds`` until stopped."""

    def __init__(self, alerts: Alerts, poll_seconds: float) -> None:
        self.alerts = alerts
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publish-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.alerts.run_once()
            except Exception as exc:  # noqa: BLE001 — keep evaluating
                log_failure(log, "alert round failed; retrying", exc)
                self.alerts.backlog = 0
            # a time-boxed round left units due: the next round starts at once (they are the longest due)
            self._stop.wait(0 if self.alerts.backlog else self.poll_seconds)


# --- operators: recipients and the alerts raised -------------------------------------------------------

_EMAIL = re.compile(r"[^@\s<>\"',;:]+@[^@\s<>\"',;:]+\.[^@\s<>\"',;:.]+")


def _check_unit(unit_code: str) -> str:
    if not unit_code or len(unit_code) > 64 or unit_code != unit_code.strip():
        raise InvalidArgument.for_field("unit_code", "a unit code of 1–64 characters", reason="FIELD_REQUIRED")
    return unit_code


def _check_address(address: str) -> str:
    address = address.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise InvalidArgument.for_field("address", "an e-mail address (name@domain), at most 254 characters",
                                        reason="BAD_ADDRESS")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def add_recipient(db: Database, unit_code: str, address: str, now: int) -> tuple[str, str, int]:
    """Add an address to a unit's alert recipients (NOT_FOUND for a unit publish does not know)."""
    unit_code, address = _check_unit(unit_code), _check_address(address)
    with db.write() as conn:
        if not A.known_unit(conn, unit_code):
            raise NotFound(f"no unit {unit_code!r}", reason="UNKNOWN_UNIT", metadata={"unit_code": unit_code})
        created = A.add_recipient(conn, unit_code, address, now)
        if created == now:  # a new recipient: the unit's alerts that already hold are owed to it now
            A.reevaluate_soon(conn, [unit_code])
    log.info("alert recipient added", unit_code=unit_code, address=mask_address(address))
    return unit_code, address, created


def remove_recipient(db: Database, unit_code: str, address: str) -> bool:
    unit_code, address = _check_unit(unit_code), _check_address(address)
    with db.write() as conn:
        removed = A.remove_recipient(conn, unit_code, address)
    log.info("alert recipient removed", unit_code=unit_code, address=mask_address(address), removed=removed)
    return removed


def list_recipients(db: Database, unit_code: str, size: int, token: str) -> tuple[list[tuple[str, str, int]], str]:
    fp = fingerprint("recipients", unit_code)
    after = decode_token(token, fp)
    with db.read() as conn:
        rows = A.recipients(conn, unit_code, tuple(after) if after else None, size + 1)
    nxt = encode_token(list(rows[size - 1][:2]), fp) if len(rows) > size else ""
    return rows[:size], nxt


def list_alerts(db: Database, unit_code: str, state: str, size: int, token: str) -> tuple[list, str]:
    fp = fingerprint("alerts", unit_code, state)
    after = decode_token(token, fp)
    with db.read() as conn:
        rows = A.alerts(conn, unit_code, state, tuple(after) if after else None, size + 1)
    nxt = encode_token([rows[size - 1].opened_at, rows[size - 1].alert_id], fp) if len(rows) > size else ""
    return rows[:size], nxt


def may_read(db: Database, identity, unit_code: str) -> bool:
    """Whether a unit's official or source system (its grant covering the unit or a unit above it) may
    read the unit's alerts; operators always may."""
    if identity is None:
        return False
    with db.read() as conn:
        lineage = [unit_code, *A.ancestors(conn, unit_code)]
    return covers(identity, lineage)
