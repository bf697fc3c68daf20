"""Publish's use cases: follow scoring into live results, freeze official publications, serve reads,
manage subscriptions and their outbox. Transport-free: plain values in, documents out (the
protobuf JSON mapping as dicts, see ``domain.documents``).

Every change publish records — a live scorecard whose content moved, a publication revision — gets
the next number of publish's own change feed, a signed canonical payload, and a delivery row for
each subscription that wants it, all in one transaction (the transactional outbox). Numbers are
handed out under a lock held until commit, so the feed is committed in number order and a reader
resuming after number n never skips or repeats an entry, across disconnects, restarts and
replicas.

Decided where the spec is silent:

* Live results are scoring's scorecards for every month scoring reports changed and for the
  quarter, year and (during the year) year-to-date containing it, for the unit alone and for each
  unit whose subtree holds it. A scorecard whose content is unchanged (ignoring as-of and compute
  times) is not recorded again; its version is the feed number of its latest content.
* Live rankings are computed by scoring when asked, every unit with its subtree: the units with data
  ranked, those without any record of the period listed apart (``units_without_data``); official
  rankings are those frozen in a publication, worked out from its own scorecards.
* A publication freezes a period that has ended: the units scoring ranks for it (kind, parent),
  their scorecards as of the period's end under the rule version asked (or in force), and their
  ranking. Units without data are frozen too, their scorecards marked ``noData``, unranked. The
  scope is required (no default for official results). A correction re-reads the same units and
  rule version as they are now and becomes the next revision, with its reason; earlier revisions
  stay as they were.
* GetScorecard defaults to the unit alone, live and official alike (the contract's one default);
  ListScorecards and ListLiveSnapshot list both scopes unless one is asked for (a province has only
  its subtree scorecard: a unit-alone default would leave it out). Official reads without a
  publication id use the most recently issued revision covering the unit, period and scope.
* A period that has not started has no result: INVALID_ARGUMENT, PERIOD_NOT_STARTED, for every read.
* A portal joins from ListLiveSnapshot: every live scorecard as it stood at one committed feed
  number N (the feed's own history gives the version at N of a scorecard changed since), paged with
  N pinned in the token, then the feed after N.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import random as random_fraction
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

from services.publish import storage as S
from services.publish import storage_alerts as A
from services.publish.domain.documents import (
    FEED_ALERT,
    FEED_LIVE,
    FEED_OFFICIAL,
    PUBLICATION_CONTENT_TYPE,
    SCOPE_SUBTREE,
    SCOPE_UNIT,
    SCORECARD_CONTENT_TYPE,
    UNIT_KINDS,
    Card,
    CardKey,
    PeriodError,
    PeriodRef,
    PublicationSpec,
    canonical_json,
    default_title,
    live_document,
    new_publication_id,
    official_document,
    publication_document,
    ranked_centi,
    rfc3339,
)
from services.publish.domain.exports import Export, publication_export, ranking_export, scorecard_export
from services.publish.domain.history import HistoryPoint, competition_ranks, history_range, with_previous_ranks
from services.publish.domain.paging import decode_token, encode_token, fingerprint
from services.publish.domain.ports import ScoringPort
from services.publish.domain.subscriptions import (
    PENDING,
    RetryPolicy,
    Subscription,
    ancestors_from,
    check_subscription,
)
from services.publish.signing import ALGORITHM, Signer, public_pem
from services.publish.spreadsheet import workbook_bytes
from services.shared.db import DATABASE_UNAVAILABLE, Database
from services.shared.errors import (
    AlreadyExists,
    ChisoError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)

log = structlog.get_logger("chiso.publish")

MAX_REQUEST_ID = 128
MAX_SNAPSHOT_ROOTS = 200
MAX_TITLE = 500
MAX_REASON = 2000


#: the live lane also records scorecards of periods ended this long ago (see ``Publish.follow_once``)
LIVE_LANE_GRACE = timedelta(days=1)
CARDS_PER_TRANSACTION = 500  # live scorecards read from scoring and recorded at a time (memory)

SET_ASIDE = Counter("chiso_publish_set_aside_total",
                    "Live scorecards the follower could not read from scoring or record, set aside")
SKIPPED = Counter("chiso_publish_live_skipped_total",
                  "Live scorecards not asked for: no rule version is in force for their period")


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class PublicationView:
    document: dict
    payload: bytes
    signature: bytes


@dataclass(frozen=True)
class ChangeView:
    seq: int
    kind: int
    created_at: int
    payload: bytes | None  # live changes: a PublishedScorecard's canonical JSON, as stored and signed
    publication_name: str

    @property
    def document(self) -> dict | None:
        """The live change's PublishedScorecard (its JSON mapping), parsed on each call."""
        return None if self.payload is None else json.loads(self.payload)


@dataclass(frozen=True)
class KeyView:
    key_id: str
    algorithm: str
    public_raw: bytes
    pem: str
    created_at: int


@dataclass(frozen=True)
class DeliveryView:
    delivery_id: str
    subscription_id: str
    sequence: int
    state: int
    attempts: int
    next_attempt_at: int
    last_error: str
    created_at: int
    delivered_at: int | None
    feed: int


def _check_request_id(request_id: str) -> None:
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidArgument.for_field("request_id", f"at most {MAX_REQUEST_ID} characters", reason="BAD_REQUEST_ID")


def _sha(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class Publish:
    """Thread-safe; one per process. ``on_change`` is called after a commit that added feed entries
    or deliveries (wakes local streams and delivery workers)."""

    def __init__(self, db: Database, scoring: ScoringPort, signer: Signer, *,
                 clock: Callable[[], int] = now_us, on_change: Callable[[], None] | None = None,
                 retry: RetryPolicy | None = None, random: Callable[[], float] = random_fraction) -> None:
        """``retry``: backoff of set-aside live scorecards (its ``max_attempts`` is not used: they are
        tried until they succeed)."""
        self.db = db
        self.scoring = scoring
        self.signer = signer
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.random = random
        self._listeners: list[Callable[[], None]] = [on_change] if on_change else []
        self.changed = threading.Condition()

    def add_listener(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()
        for fn in self._listeners:
            fn()

    # ------------------------------------------------------------------ keys

    def register_key(self) -> None:
        with self.db.write() as conn:
            S.register_key(conn, self.signer.key_id, ALGORITHM, self.signer.public_raw, self.clock())

    def public_keys(self) -> list[KeyView]:
        with self.db.read() as conn:
            rows = S.keys(conn)
        views = [KeyView(r.key_id, r.algorithm, bytes(r.public_key), public_pem(bytes(r.public_key)), r.created_at)
                 for r in rows]
        views.sort(key=lambda k: k.key_id != self.signer.key_id)  # the signing key first
        return views

    # ------------------------------------------------------------------ following scoring

    def follow_once(self, page_size: int = 500, max_pages: int = 500, lane: str | None = None) -> tuple[int, int]:
        """Apply one page of scoring's change feed in one lane — or in both, one after the other,
        when ``lane`` is None: (scoring changes read, feed entries recorded).

        Two lanes follow the same feed, each with its own cursor (``S.LANES``), so that no event in
        one kind of period delays the other: the live lane (``S.SCORING``) records the scorecards of
        periods still running — and of those ended within the last day, so that a scorecard whose
        period ends while the lanes read it is recorded by one lane or the other —, the past lane
        (``S.SCORING_PAST``) those of ended periods. A province backfilling last year keeps the past
        lane busy while today's changes anywhere are recorded at once.

        No single scorecard can stop the follower: a part that fails for a reason other than scoring
        or the database being unavailable is read again in halves down to the scorecards that fail on
        their own, which are set aside (``publish_set_aside``: listed for operators, retried with
        backoff) while every other one is recorded and the cursor moves on. A period no rule version
        is in force for (scoring's NO_RULE_VERSION) has no live scorecard: its keys are dropped,
        counted in ``chiso_publish_live_skipped_total``."""
        if lane is None:  # both lanes read the same changes: counted once
            totals = [self.follow_once(page_size, max_pages, each) for each in S.LANES]
            return max(t[0] for t in totals), sum(t[1] for t in totals)
        with self.db.read() as conn:
            _, cursor = S.read_state(conn, lane)
        # Read ahead while the feed is behind: a unit changed by many batches is re-read once for
        # all of them (up to ``max_pages`` pages of the feed, while under 10 × ``page_size`` distinct
        # keys — each change names about three: the unit, its subtree, its ancestors' subtrees; the
        # whole country is about 7,000).
        changed: dict = {}
        read, next_cursor = 0, cursor
        for _ in range(max_pages):
            page = self.scoring.changes(next_cursor, page_size)
            read += len(page.keys)
            changed.update(dict.fromkeys(page.keys))
            if page.next_cursor == next_cursor:
                break
            next_cursor = page.next_cursor
            if len(page.keys) < page_size or len(changed) >= 10 * page_size:
                break
        if next_cursor == cursor:
            return 0, 0
        today = _datetime(self.clock())
        live = lane == S.SCORING
        recent = today - LIVE_LANE_GRACE
        keys = list(dict.fromkeys(CardKey(k.unit_code, p, k.scope)
                                  for k in changed for p in k.period.containing_periods(today)
                                  if (p.end > recent if live else p.end <= today)))
        # At most CARDS_PER_TRANSACTION scorecards in one transaction, and two parts in memory: while
        # one part is recorded, scoring computes the next (a whole country's round is scoring's
        # work and publish's side by side, not one after the other). The cursor moves after the last
        # part, with the scorecards set aside (after a crash the parts are read again: unchanged
        # content is not recorded twice).
        recorded = 0
        failures: dict[CardKey, BaseException] = {}
        parts = [keys[i:i + CARDS_PER_TRANSACTION] for i in range(0, len(keys), CARDS_PER_TRANSACTION)]
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="publish-prefetch") as prefetch:
                coming = prefetch.submit(self._fetch, parts[0]) if parts else None
                for number, part in enumerate(parts, start=1):
                    fetched = coming.result()
                    coming = prefetch.submit(self._fetch, parts[number]) if number < len(parts) else None
                    try:
                        recorded += self._apply_keys(part, cursor, failures, fetched, lane)
                    except _Overtaken:
                        if coming is not None:
                            coming.cancel()
                        raise
            with self.db.write() as conn:
                _, current = S.lock_state(conn, lane)
                if current != cursor:
                    raise _Overtaken
                self._settle(conn, keys, failures)
                S.write_state(conn, lane, self.clock(), text_value=next_cursor)
        except _Overtaken:  # another replica applied these changes meanwhile
            return read, recorded
        return read, recorded

    def refresh_live(self, keys: Sequence[CardKey]) -> int:
        """Re-read ``keys`` from scoring and record those whose content moved (e.g. running periods
        as unfinished dossiers pass their due time). Scorecards that fail are set aside, as in
        ``follow_once``."""
        keys = list(keys)
        recorded = 0
        failures: dict[CardKey, BaseException] = {}
        for i in range(0, len(keys), CARDS_PER_TRANSACTION):
            part = keys[i:i + CARDS_PER_TRANSACTION]
            recorded += self._apply_keys(part, None, failures, self._fetch(part))
        if failures:
            with self.db.write() as conn:
                S.lock_state(conn, S.SCORING)
                self._settle(conn, [], failures)
        return recorded

    def retry_set_aside(self, keys: Sequence[CardKey] | None = None, limit: int = 500, *,
                        replay: bool = False) -> tuple[int, int]:
        """Read set-aside scorecards again: those due (their backoff passed), or — a ``replay`` — the
        ``keys`` given or every one, at once. (recovered, still failing): a recovered one is recorded
        if its content moved and leaves the set-aside list; one that fails again waits longer."""
        with self.db.read() as conn:
            if keys is None:
                rows = S.set_aside_rows(conn, due_by=None if replay else self.clock(), limit=limit)
            else:
                rows = S.set_aside_rows(conn, keys_=keys, limit=limit)
        todo = [r.key for r in rows]
        failures: dict[CardKey, BaseException] = {}
        for i in range(0, len(todo), CARDS_PER_TRANSACTION):
            part = todo[i:i + CARDS_PER_TRANSACTION]
            self._apply_keys(part, None, failures, self._fetch(part))
        if todo:
            with self.db.write() as conn:
                S.lock_state(conn, S.SCORING)
                self._settle(conn, todo, failures, new_only=False)
        recovered = len(todo) - len(failures)
        if todo:
            log.info("set-aside scorecards retried", recovered=recovered, failing=len(failures))
        return recovered, len(failures)

    def list_set_aside(self, size: int, token: str) -> tuple[list[S.SetAside], str]:
        fp = fingerprint("set-aside")
        after = decode_token(token, fp, shape=(str, str, int))
        with self.db.read() as conn:
            rows = S.set_aside_rows(conn, after=tuple(after) if after else None, limit=size + 1)
        more = len(rows) > size
        rows = rows[:size]
        last = rows[-1].key if rows else None
        return rows, encode_token([last.unit_code, last.period.key, last.scope], fp) if more and last else ""

    def set_aside_count(self) -> int:
        with self.db.read() as conn:
            return S.set_aside_count(conn)

    def _fetch(self, keys: Sequence[CardKey]) -> list[Card] | BaseException:
        """Scoring's scorecards of ``keys``, or the error it failed with (to be isolated by the
        caller). Scoring being unavailable is raised."""
        try:
            return self.scoring.scorecards(keys)
        except Exception as exc:  # noqa: BLE001
            if _transient(exc):
                raise
            return exc

    def _apply_keys(self, keys: Sequence[CardKey], cursor: str | None, failures: dict,
                    fetched: list[Card] | BaseException | None = None, lane: str = S.SCORING) -> int:
        """Record the scorecards of ``keys`` (``fetched`` from scoring, or read here); returns how many
        were recorded. A failure that is not scoring or the database being unavailable is narrowed
        down by halves to the keys that fail alone, which go into ``failures``. ``cursor``: the
        scoring cursor this round of ``lane`` started from (another replica moving it ends the round)."""
        if not keys:
            return 0
        try:
            if fetched is None:
                fetched = self.scoring.scorecards(keys)
            if isinstance(fetched, BaseException):
                raise fetched
            sums = _content_sums(fetched)  # outside the write transaction: other writers wait less
            with self.db.write() as conn:
                _, current = S.lock_state(conn, lane)
                if cursor is not None and current != cursor:
                    raise _Overtaken
                done = self._record_live(conn, fetched, sums)
            if done:
                self._notify()
            return done
        except _Overtaken:
            raise
        except Exception as exc:  # noqa: BLE001 — narrowed down below
            if _transient(exc):
                raise
            error = exc
        period = _period_without_rule_version(error)
        if period is not None:
            rest = [k for k in keys if k.period.key != period]
            if len(rest) < len(keys):
                SKIPPED.inc(len(keys) - len(rest))
                log.info("no rule version in force: no live scorecard", period=period, keys=len(keys) - len(rest))
                return self._apply_keys(rest, cursor, failures, lane=lane)
        if len(keys) == 1:
            failures[keys[0]] = error
            return 0
        middle = len(keys) // 2
        return (self._apply_keys(keys[:middle], cursor, failures, lane=lane)
                + self._apply_keys(keys[middle:], cursor, failures, lane=lane))

    def _settle(self, conn, tried: Sequence[CardKey], failures: Mapping[CardKey, BaseException], *,
                new_only: bool = True) -> None:
        """Inside the caller's transaction: set ``failures`` aside (or count another failed attempt),
        and take the other ``tried`` keys off the set-aside list if they were on it."""
        now = self.clock()

        def next_attempt(attempts: int) -> int:
            return now + int(self.retry.delay(attempts, self.random) * 1e6)

        for key, exc in failures.items():
            error = _describe(exc)
            if S.set_aside(conn, key, error, now, next_attempt):
                SET_ASIDE.inc()
                log.error("live scorecard set aside", unit_code=key.unit_code[:64], period=key.period.key,
                          scope=key.scope, error=error)
            elif not new_only:
                log.warning("set-aside scorecard failed again", unit_code=key.unit_code[:64],
                            period=key.period.key, scope=key.scope, error=error)
        if tried and S.set_aside_count(conn):
            S.clear_set_aside(conn, [k for k in tried if k not in failures])

    def running_keys(self) -> list[CardKey]:
        """Live scorecards of periods still running."""
        now = _datetime(self.clock())
        with self.db.read() as conn:
            rows = S.live_keys(conn)
        out = []
        for code, key, scope in rows:
            period = PeriodRef.from_key(key)
            if period.start <= now < period.end:
                out.append(CardKey(code, period, scope))
        return out

    def _record_live(self, conn, cards: Sequence[Card], sums: Mapping[CardKey, str]) -> int:
        latest = {c.key: c for c in cards}
        stored = S.live_hashes(conn, list(latest))
        changed = []
        for k, c in latest.items():
            sha, computed_at = stored.get((k.unit_code, k.period.key, k.scope), ("", 0))
            # New content, unless it was computed before what is stored: another writer (a replica
            # following the same round, or the refresh of running periods) got a later computation in first.
            if sha != sums[k] and c.computed_at() >= computed_at:
                changed.append(c)
        if not changed:
            return 0
        now = self.clock()
        S.upsert_units(conn, changed, now)
        seqs = S.allocate(conn, len(changed), now)
        live, feed, items = [], [], []
        for card, seq in zip(changed, seqs, strict=True):
            payload = card.live_payload(seq, now)
            signature = self.signer.sign(payload)
            live.append({"unit_code": card.unit_code, "period_key": card.period.key, "scope": card.scope,
                         "unit_kind": card.unit_kind, "parent_code": card.parent_code, "version": seq,
                         "content_sha256": sums[card.key], "scorecard": card.body_json(),
                         "updated_at": now, "computed_at": card.computed_at(), "total_centi": ranked_centi(card)})
            feed.append(S.change_row(S.KIND_LIVE, seq, payload=payload, signature=signature,
                                     key_id=self.signer.key_id, content_type=SCORECARD_CONTENT_TYPE, now=now,
                                     unit_code=card.unit_code, period_key=card.period.key, scope=card.scope))
            items.append((seq, FEED_LIVE, [card.unit_code]))
        S.upsert_live(conn, live)
        S.insert_changes(conn, feed)
        self._enqueue(conn, items, now)
        return len(changed)

    def _enqueue(self, conn, items: Sequence[tuple[int, int, Sequence[str]]], now: int) -> int:
        """Outbox: a delivery per (feed entry, subscription that wants it), numbered per subscription."""
        subs = S.subscriptions(conn)
        if not subs:
            return 0
        ancestors = ancestors_from(S.parents(conn)) if any(s.unit_codes for s in subs) else (lambda _: [])
        per_sub: dict[str, list[tuple[int, int]]] = {}
        for seq, feed, units in items:
            for sub in subs:
                if sub.wants(feed, units, ancestors):
                    per_sub.setdefault(sub.subscription_id, []).append((seq, feed))
        rows = []
        for sid, entries in per_sub.items():
            first = S.reserve_sequences(conn, sid, len(entries))
            if first is None:
                continue
            for n, (seq, feed) in enumerate(entries):
                rows.append({"delivery_id": uuid.uuid4().hex, "subscription_id": sid, "sequence": first + n,
                             "change_seq": seq, "feed": feed, "state": PENDING, "attempts": 0,
                             "next_attempt_at": now, "last_error": "", "created_at": now, "delivered_at": None})
        S.insert_deliveries(conn, rows)
        return len(rows)

    # ------------------------------------------------------------------ publications

    def _replayed(self, conn, principal_id: str, request_id: str, method: str, sha: str) -> str | None:
        if not request_id:
            return None
        row = S.find_request(conn, principal_id, request_id)
        if row is None:
            return None
        if row.method != method or row.request_sha256 != sha:
            raise AlreadyExists("request_id was already used for another request", reason="REQUEST_ID_REUSED",
                                metadata={"request_id": request_id})
        return row.result

    def create_publication(self, principal_id: str, request_id: str, spec: PublicationSpec) -> PublicationView:
        _check_request_id(request_id)
        bad = []
        if spec.unit_kind == 0:
            bad.append(FieldViolation("unit_kind", "required"))
        if len(spec.title) > MAX_TITLE:
            bad.append(FieldViolation("title", f"at most {MAX_TITLE} characters"))
        if len(spec.parent_code) > 64:
            bad.append(FieldViolation("parent_code", "at most 64 characters"))
        if bad:
            raise InvalidArgument(f"{bad[0].field}: {bad[0].description}", reason="BAD_PUBLICATION", violations=bad)
        sha = _sha("CreatePublication", spec)
        with self.db.read() as conn:
            done = self._replayed(conn, principal_id, request_id, "CreatePublication", sha)
        if done:
            return self.get_publication(*_parse_name(done))
        if spec.period.end.timestamp() * 1e6 > self.clock():
            raise FailedPrecondition(f"period {spec.period.key} has not ended; only ended periods are published",
                                     reason="PERIOD_NOT_ENDED", metadata={"period": spec.period.key})
        cards = self._freeze(spec)
        with self.db.write() as conn:
            done = self._replayed(conn, principal_id, request_id, "CreatePublication", sha)
            if done is None:
                title = spec.title or default_title(spec.period, spec.unit_kind, S.unit_name(conn, spec.parent_code)
                                                    if spec.parent_code else "")
                spec = PublicationSpec(spec.period, spec.unit_kind, spec.parent_code, spec.scope, spec.rule_version,
                                       title)
                pid = new_publication_id(spec.period, spec.unit_kind, spec.parent_code)
                view = self._write_revision(conn, pid, spec, cards, reason="", revision=1)
                if request_id:
                    S.record_request(conn, principal_id, request_id, "CreatePublication", sha,
                                     view.document["name"], self.clock())
        if done:
            return self.get_publication(*_parse_name(done))
        log.info("publication made", publication=view.document["name"], period=spec.period.key,
                 units=len(cards), rule_version=view.document["ruleVersion"])
        self._notify()
        return view

    def correct_publication(self, principal_id: str, request_id: str, publication_id: str,
                            reason: str) -> PublicationView:
        _check_request_id(request_id)
        if not reason.strip():
            raise InvalidArgument.for_field("reason", "required: say why the publication is corrected",
                                            reason="REASON_REQUIRED")
        if len(reason) > MAX_REASON:
            raise InvalidArgument.for_field("reason", f"at most {MAX_REASON} characters", reason="BAD_REASON")
        sha = _sha("CorrectPublication", publication_id, reason)
        with self.db.read() as conn:
            done = self._replayed(conn, principal_id, request_id, "CorrectPublication", sha)
            latest = S.latest_revision(conn, publication_id)
        if done:
            return self.get_publication(*_parse_name(done))
        if latest is None:
            raise NotFound(f"no publication {publication_id!r}", reason="PUBLICATION_NOT_FOUND",
                           metadata={"publication_id": publication_id[:64]})
        spec = PublicationSpec(PeriodRef.from_key(latest.period_key), latest.unit_kind, latest.parent_code,
                               latest.scope, latest.rule_version, latest.title)
        cards = self._freeze(spec)
        with self.db.write() as conn:
            done = self._replayed(conn, principal_id, request_id, "CorrectPublication", sha)
            if done is None:
                view = self._write_revision(conn, publication_id, spec, cards, reason=reason, revision=None)
                if request_id:
                    S.record_request(conn, principal_id, request_id, "CorrectPublication", sha,
                                     view.document["name"], self.clock())
        if done:
            return self.get_publication(*_parse_name(done))
        log.info("publication corrected", publication=view.document["name"], units=len(cards))
        self._notify()
        return view

    def _freeze(self, spec: PublicationSpec) -> list[Card]:
        ranking = self.scoring.ranking(spec.period, spec.unit_kind, spec.parent_code, spec.scope, spec.rule_version)
        if not ranking.unit_codes:
            raise FailedPrecondition("no units of that kind to publish for the period", reason="NO_UNITS")
        keys = [CardKey(code, spec.period, spec.scope) for code in ranking.unit_codes]
        return self.scoring.scorecards(keys, spec.rule_version or ranking.rule_version)

    def _write_revision(self, conn, publication_id: str, spec: PublicationSpec, cards: Sequence[Card], *,
                        reason: str, revision: int | None) -> PublicationView:
        now = self.clock()
        (seq,) = S.allocate(conn, 1, now)  # first: serialises revisions of one publication too
        if revision is None:
            revision = S.latest_revision(conn, publication_id).revision + 1
        rule_version = cards[0].rule_version if cards else spec.rule_version
        doc = publication_document(publication_id=publication_id, revision=revision, spec=spec,
                                   rule_version=rule_version, publish_time_us=now, reason=reason, cards=cards,
                                   key_id=self.signer.key_id)
        payload = canonical_json(doc)
        signature = self.signer.sign(payload)
        S.upsert_units(conn, cards, now)
        S.insert_publication(conn, {
            "publication_id": publication_id, "revision": revision, "title": spec.title,
            "period_key": spec.period.key, "unit_kind": spec.unit_kind, "parent_code": spec.parent_code,
            "scope": spec.scope, "requested_rule_version": spec.rule_version, "rule_version": rule_version,
            "reason": reason, "publish_time": now, "change_seq": seq, "payload": payload, "signature": signature,
            "key_id": self.signer.key_id,
        }, [{"publication_id": publication_id, "revision": revision, "unit_code": c.unit_code, "scope": c.scope,
             "period_key": spec.period.key, "unit_kind": c.unit_kind, "parent_code": c.parent_code,
             "scorecard": c.body_json(), "total_centi": ranked_centi(c)} for c in cards])
        S.insert_changes(conn, [S.change_row(S.KIND_PUBLICATION, seq, payload=payload, signature=signature,
                                             key_id=self.signer.key_id, content_type=PUBLICATION_CONTENT_TYPE,
                                             now=now, period_key=spec.period.key, publication_id=publication_id,
                                             revision=revision)])
        self._enqueue(conn, [(seq, FEED_OFFICIAL, [c.unit_code for c in cards])], now)
        return PublicationView(doc, payload, signature)

    def get_publication(self, publication_id: str, revision: int = 0) -> PublicationView:
        if revision < 0:
            raise InvalidArgument.for_field("revision", "must not be negative", reason="BAD_REVISION")
        with self.db.read() as conn:
            row = S.revision_row(conn, publication_id, revision)
        if row is None:
            what = f"{publication_id!r} revision {revision}" if revision else repr(publication_id)
            raise NotFound(f"no publication {what}", reason="PUBLICATION_NOT_FOUND",
                           metadata={"publication_id": publication_id[:64], "revision": revision})
        return _view(row)

    def list_publications(self, period: PeriodRef | None, size: int, token: str) -> tuple[list[PublicationView], str]:
        fp = fingerprint("publications", period.key if period else "")
        after = decode_token(token, fp, shape=(int, str))
        with self.db.read() as conn:
            rows = S.list_latest_publications(conn, period.key if period else "",
                                              tuple(after) if after else None, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        nxt = encode_token([rows[-1].publish_time, rows[-1].publication_id], fp) if more else ""
        return [_view(r) for r in rows], nxt

    # ------------------------------------------------------------------ reads

    def scorecard(self, key: CardKey, feed: int, publication_id: str = "", revision: int = 0) -> dict:
        """PublishedScorecard document of one unit, live or official. Scope 0 means the unit alone for
        live and official results alike (the contract's one default)."""
        self._require_started(key.period)
        scope = key.scope or SCOPE_UNIT
        with self.db.read() as conn:
            if feed != FEED_OFFICIAL:
                row = S.live_row(conn, key.unit_code, key.period.key, scope)
                if row is None:
                    other = S.live_row(conn, key.unit_code, key.period.key, SCOPE_UNIT + SCOPE_SUBTREE - scope)
                    hint = (" (there is one with its subtree: scope SCOPE_SUBTREE)" if other is not None
                            and scope == SCOPE_UNIT else " (there is one of the unit alone: scope SCOPE_UNIT)"
                            if other is not None else "")
                    raise NotFound(f"no live scorecard of {key.unit_code} "
                                   f"{'alone' if scope == SCOPE_UNIT else 'with its subtree'} for {key.period.key} "
                                   f"yet{hint}", reason="SCORECARD_NOT_FOUND",
                                   metadata={"unit_code": key.unit_code[:64]})
                return live_document(json.loads(row.scorecard), row.version, row.updated_at)
            if publication_id:
                pub = S.revision_row(conn, publication_id, revision)
                rows = S.official_rows(conn, key.period.key, key.unit_code, scope, publication_id=publication_id,
                                       revision=pub.revision) if pub is not None else []
            else:
                if revision:
                    raise InvalidArgument.for_field("revision", "give publication_id with a revision",
                                                    reason="PUBLICATION_REQUIRED")
                rows = S.official_rows(conn, key.period.key, key.unit_code, scope)
            row = min(rows, key=lambda r: -r.publish_time, default=None)
            other = None if row is not None else (
                S.official_rows(conn, key.period.key, key.unit_code, SCOPE_UNIT + SCOPE_SUBTREE - scope) or [None])[0]
        if row is None:
            alone = "alone" if scope == SCOPE_UNIT else "with its subtree"
            hint = (f"; publication {other.publication_id} froze it "
                    f"{'alone' if other.scope == SCOPE_UNIT else 'with its subtree'} "
                    f"(scope {'SCOPE_UNIT' if other.scope == SCOPE_UNIT else 'SCOPE_SUBTREE'})") if other else ""
            raise NotFound(f"no official scorecard of {key.unit_code} {alone} for {key.period.key}{hint}",
                           reason="SCORECARD_NOT_FOUND", metadata={"unit_code": key.unit_code[:64]})
        return official_document(json.loads(row.scorecard), row.publication_id, row.revision,
                                 rfc3339(row.publish_time))

    def list_scorecards(self, period: PeriodRef, unit_kind: int, parent_code: str, feed: int, size: int,
                        token: str, scope: int = 0) -> tuple[list[dict], str, int]:
        """Scope 0: both scopes (live), or whichever each publication froze (official)."""
        self._require_started(period)
        fp = fingerprint("scorecards", period.key, unit_kind, parent_code, feed, *([scope] if scope else []))
        after = decode_token(token, fp, shape=(str, int))
        with self.db.read() as conn:
            if feed != FEED_OFFICIAL:
                rows, total = S.live_rows(conn, period.key, unit_kind, parent_code,
                                          tuple(after) if after else None, size + 1, scope)
                docs = [live_document(json.loads(r.scorecard), r.version, r.updated_at) for r in rows]
                more = len(rows) > size
                nxt = encode_token([rows[size - 1].unit_code, rows[size - 1].scope], fp) if more else ""
                return docs[:size], nxt, total
            rows = S.official_rows(conn, period.key, scope=scope, unit_kind=unit_kind, parent_code=parent_code)
        newest: dict[tuple[str, int], Any] = {}
        for r in rows:  # newest publication first: keep the first seen per unit and scope
            newest.setdefault((r.unit_code, r.scope), r)
        ordered = [newest[k] for k in sorted(newest)]
        start = 0
        if after:
            code, scope = after
            start = next((i for i, r in enumerate(ordered) if (r.unit_code, r.scope) > (code, scope)), len(ordered))
        page = ordered[start:start + size]
        nxt = encode_token([page[-1].unit_code, page[-1].scope], fp) if start + size < len(ordered) else ""
        docs = [official_document(json.loads(r.scorecard), r.publication_id, r.revision, rfc3339(r.publish_time))
                for r in page]
        return docs, nxt, len(ordered)

    def ranking(self, period: PeriodRef | None, unit_kind: int, parent_code: str, feed: int,
                publication_id: str = "") -> dict:
        """Ranking document: live from scoring (units ranked with their subtrees), or official. The
        period may be None only with a publication id."""
        if period is None and not (feed == FEED_OFFICIAL and publication_id):
            raise InvalidArgument.for_field("period", "period kind is required", reason="BAD_PERIOD")
        if period is not None:
            self._require_started(period)
        if feed != FEED_OFFICIAL:
            if publication_id:
                raise InvalidArgument.for_field("publication_id", "only for the official feed",
                                                reason="PUBLICATION_ID_FOR_LIVE")
            if not unit_kind:
                raise InvalidArgument.for_field("unit_kind", "required", reason="UNIT_KIND_REQUIRED")
            return self.scoring.ranking(period, unit_kind, parent_code, SCOPE_SUBTREE).document
        with self.db.read() as conn:
            if publication_id:
                row = S.latest_revision(conn, publication_id)
            else:
                if not unit_kind:
                    raise InvalidArgument.for_field("unit_kind", "required without publication_id",
                                                    reason="UNIT_KIND_REQUIRED")
                row = S.latest_publication_for(conn, period.key, unit_kind, parent_code)
        if row is None:
            raise NotFound("no official ranking matches", reason="PUBLICATION_NOT_FOUND")
        return json.loads(row.payload)["ranking"]

    def _require_started(self, period: PeriodRef) -> None:
        if int(period.start.timestamp()) * 1_000_000 > self.clock():
            raise InvalidArgument(
                f"period {period.key} has not started (it starts on {period.start.strftime('%d/%m/%Y')})",
                reason="PERIOD_NOT_STARTED", violations=[FieldViolation("period", "has not started")],
                metadata={"period": period.key})
    def live_snapshot(self, period: PeriodRef | None, roots: Sequence[str], scope: int, size: int, token: str,
                      max_bytes: int = 3 * 1024 * 1024) -> tuple[list[dict], str, int]:
        """One page of the live results as they stood at one feed position: (PublishedScorecard
        documents, next page token, that position). The first page takes the feed's last committed
        number N; its token pins N for every later page. A live scorecard recorded after N is given as
        its latest feed entry at or before N, or left out if it had none (the feed after N brings it),
        so the snapshot plus the feed after N is the whole feed replayed. A page stops early once its
        scorecards pass ``max_bytes`` of JSON (the protobuf answer is smaller)."""
        if len(roots) > MAX_SNAPSHOT_ROOTS:
            raise InvalidArgument.for_field("unit_codes", f"at most {MAX_SNAPSHOT_ROOTS}", reason="TOO_MANY_UNITS")
        for i, code in enumerate(roots):
            if not code or len(code) > 64:
                raise InvalidArgument.for_field(f"unit_codes[{i}]", "a unit code of 1–64 characters",
                                                reason="BAD_UNIT_CODE")
        roots = sorted(set(roots))
        fp = fingerprint("live-snapshot", period.key if period else "", roots, scope)
        position = decode_token(token, fp)
        with self.db.read() as conn:  # one snapshot of the database (REPEATABLE READ on PostgreSQL)
            if position is None:
                at, after = S.last_seq(conn), None
            else:
                at, after = int(position[0]), tuple(position[1:])
            codes = S.subtree_codes(conn, roots) if roots else None
            docs: list[dict] = []
            used, more = 0, True
            while more and len(docs) < size and used < max_bytes:
                want = size - len(docs)
                rows = S.live_in_key_order(conn, period_key=period.key if period else "", scope=scope, codes=codes,
                                           after=after, limit=want + 1)
                more = len(rows) > want
                rows = rows[:want]
                older = S.live_payloads_at(conn, [(r.unit_code, r.period_key, r.scope) for r in rows
                                                  if r.version > at], at)
                for i, r in enumerate(rows):
                    after = (r.unit_code, r.period_key, r.scope)
                    if r.version <= at:
                        docs.append(live_document(json.loads(r.scorecard), r.version, r.updated_at))
                        used += len(r.scorecard)
                    elif after in older:
                        docs.append(json.loads(older[after]))
                        used += len(older[after])
                    if used >= max_bytes:
                        more = more or i < len(rows) - 1
                        break
        return docs, encode_token([at, *after], fp) if more and after else "", at

    def feed_end(self) -> int:
        """Number of the last committed change of the feed (0 when empty)."""
        with self.db.read() as conn:
            return S.last_seq(conn)
    def ranking_compared(self, period: PeriodRef | None, unit_kind: int, parent_code: str, feed: int,
                         publication_id: str = "") -> tuple[dict, PeriodRef | None, str]:
        """``ranking`` with each entry's previous rank: (ranking document, the previous period, for
        official rankings the publication the previous ranks come from). A live ranking and the one
        before are asked of scoring side by side."""
        earlier = None
        if feed != FEED_OFFICIAL and period is not None and unit_kind:
            try:
                before = period.previous()
            except PeriodError:
                before = None
            if before is not None:
                with ThreadPoolExecutor(1, thread_name_prefix="publish-previous-ranking") as pool:
                    earlier = pool.submit(self._previous_live_ranks, before, unit_kind, parent_code)
                    doc = self.ranking(period, unit_kind, parent_code, feed, publication_id)
                    return with_previous_ranks(doc, earlier.result()), before, ""
        doc = self.ranking(period, unit_kind, parent_code, feed, publication_id)
        try:
            before = PeriodRef.from_json(doc["period"]).previous()
        except (PeriodError, KeyError):
            return doc, None, ""
        kinds = {v: k for k, v in UNIT_KINDS.items()}
        scopes = {"SCOPE_UNIT": SCOPE_UNIT, "SCOPE_SUBTREE": SCOPE_SUBTREE}
        with self.db.read() as conn:
            row = S.latest_publication_for(conn, before.key, kinds.get(doc.get("unitKind", ""), unit_kind),
                                           doc.get("parentCode", ""), scope=scopes.get(doc.get("scope", ""), 0))
            totals = S.official_totals(conn, row.publication_id, row.revision) if row is not None else []
        return with_previous_ranks(doc, competition_ranks(totals)), before, row.publication_id if row else ""

    def _previous_live_ranks(self, before: PeriodRef, unit_kind: int, parent_code: str) -> dict[str, int]:
        try:
            earlier = self.scoring.ranking(before, unit_kind, parent_code, SCOPE_SUBTREE).document
        except (FailedPrecondition, NotFound, InvalidArgument):  # no rule version in force then, …
            return {}
        return {e["unit"]["code"]: int(e.get("rank", 0)) for e in earlier.get("entries", [])}

    def scorecard_history(self, unit_code: str, scope: int, end: PeriodRef | None, kind: int, count: int,
                          feed: int) -> tuple[dict, list[HistoryPoint]]:
        """A unit's scorecards over consecutive periods with its rank in each: (UnitRef document,
        points oldest first). Scope 0 means the unit alone, live and official alike."""
        periods = history_range(end, kind, count, _datetime(self.clock()))
        keys = [p.key for p in periods]
        with self.db.read() as conn:
            unit = S.unit_row(conn, unit_code)
            if unit is None:
                raise NotFound(f"no unit {unit_code!r} has results", reason="UNIT_NOT_FOUND",
                               metadata={"unit_code": unit_code[:64]})
            if feed != FEED_OFFICIAL:
                found = {r.period_key: HistoryPoint(
                    PeriodRef.from_key(r.period_key), live_document(json.loads(r.scorecard), r.version, r.updated_at),
                    r.rank, r.ranked_count if r.rank is not None else 0)
                    for r in S.live_history(conn, unit_code, keys, scope or SCOPE_UNIT)}
            else:
                found = {}  # of each period, the scorecard of the newest publication
                rows = sorted(S.official_history(conn, unit_code, keys, scope or SCOPE_UNIT),
                              key=lambda r: -r.publish_time)
                for r in rows:
                    if r.period_key not in found:
                        found[r.period_key] = HistoryPoint(
                            PeriodRef.from_key(r.period_key),
                            official_document(json.loads(r.scorecard), r.publication_id, r.revision,
                                              rfc3339(r.publish_time)),
                            r.rank, r.ranked_count if r.rank is not None else 0)
        ref: dict[str, Any] = {"code": unit.code, "name": unit.name, "kind": UNIT_KINDS.get(unit.kind, unit.kind)}
        if unit.parent_code:
            ref["parentCode"] = unit.parent_code
        return ref, [found.get(p.key) or HistoryPoint(p, None, None, 0) for p in periods]

    def changes(self, after_seq: int, limit: int) -> list[ChangeView]:
        with self.db.read() as conn:
            rows = S.changes_after(conn, after_seq, limit)
        out = []
        for r in rows:
            if r.kind == S.KIND_LIVE:
                out.append(ChangeView(r.seq, r.kind, r.created_at, bytes(r.payload), ""))
            else:
                out.append(ChangeView(r.seq, r.kind, r.created_at, None,
                                      f"publications/{r.publication_id}/revisions/{r.revision}"))
        return out

    def wait_for_changes(self, after_seq: int, timeout: float) -> None:
        """Block until this process records a change, or ``timeout`` (other replicas are polled)."""
        with self.changed:
            self.changed.wait(timeout)

    def export_publication(self, publication_id: str, revision: int, fmt: str) -> Export:
        """``fmt``: "csv", "xlsx" or "json" (the signed payload)."""
        view = self.get_publication(publication_id, revision)
        return publication_export(view.document, view.payload, fmt, workbook_bytes)

    def export_ranking(self, period: PeriodRef | None, unit_kind: int, parent_code: str, feed: int,
                       publication_id: str, fmt: str) -> Export:
        doc, _, _ = self.ranking_compared(period, unit_kind, parent_code, feed, publication_id)
        return ranking_export(doc, fmt, "official" if feed == FEED_OFFICIAL else "live", workbook_bytes)

    def export_scorecard(self, key: CardKey, feed: int, publication_id: str, revision: int, fmt: str) -> Export:
        return scorecard_export(self.scorecard(key, feed, publication_id, revision), fmt, workbook_bytes)

    # ------------------------------------------------------------------ subscriptions

    def create_subscription(self, principal_id: str, request_id: str, sub: Subscription) -> Subscription:
        _check_request_id(request_id)
        sub = check_subscription(sub)
        sha = _sha("CreateSubscription", sub)
        initial = 0
        try:
            with self.db.write() as conn:
                done = self._replayed(conn, principal_id, request_id, "CreateSubscription", sha)
                if done is None:
                    if S.subscription_row(conn, sub.subscription_id) is not None:
                        raise AlreadyExists(f"subscription {sub.subscription_id} exists",
                                            reason="SUBSCRIPTION_EXISTS",
                                            metadata={"subscription_id": sub.subscription_id})
                    # no feed entry is recorded meanwhile: the current state enqueued here and the
                    # changes enqueued after this commit meet exactly, none missed and none twice
                    S.lock_state(conn, S.CHANGES)
                    S.insert_subscription(conn, sub, self.clock())
                    initial = self._enqueue_initial_state(conn, sub, self.clock())
                    if FEED_ALERT in sub.feeds:  # what already holds for its units is owed to it now
                        A.reevaluate_soon(conn, sub.unit_codes or None)
                    if request_id:
                        S.record_request(conn, principal_id, request_id, "CreateSubscription", sha,
                                         f"subscriptions/{sub.subscription_id}", self.clock())
        except IntegrityError:
            raise AlreadyExists(f"subscription {sub.subscription_id} exists", reason="SUBSCRIPTION_EXISTS",
                                metadata={"subscription_id": sub.subscription_id}) from None
        log.info("subscription created", subscription=sub.subscription_id, endpoint=sub.endpoint,
                 initial_deliveries=initial)
        self._notify()
        return self.get_subscription(sub.subscription_id)

    def _enqueue_initial_state(self, conn, sub: Subscription, now: int) -> int:
        """Outbox rows giving a new subscription the current state of its units: the latest feed
        entry of each live scorecard in its subtrees and of each publication's latest revision that
        includes one of them (as it would have been sent them), in feed order."""
        codes = S.subtree_codes(conn, sub.unit_codes) if sub.unit_codes else None
        items: list[tuple[int, int]] = []
        if FEED_LIVE in sub.feeds:
            rows = S.live_in_key_order(conn, codes=codes, columns=[S.publish_live.c.version])
            items += [(r.version, FEED_LIVE) for r in rows]
        if FEED_OFFICIAL in sub.feeds:
            items += [(seq, FEED_OFFICIAL) for seq, _ in S.latest_publication_changes(conn, codes)]
        if not items:
            return 0
        items.sort()
        first = S.reserve_sequences(conn, sub.subscription_id, len(items))
        S.insert_deliveries(conn, [
            {"delivery_id": uuid.uuid4().hex, "subscription_id": sub.subscription_id, "sequence": first + n,
             "change_seq": seq, "feed": feed, "state": PENDING, "attempts": 0, "next_attempt_at": now,
             "last_error": "", "created_at": now, "delivered_at": None} for n, (seq, feed) in enumerate(items)])
        return len(items)

    def update_subscription(self, sub: Subscription) -> Subscription:
        sub = check_subscription(sub)
        with self.db.write() as conn:
            if not S.update_subscription(conn, sub, self.clock()):
                raise _no_subscription(sub.subscription_id)
            if FEED_ALERT in sub.feeds:  # its units or alert settings may have changed: evaluated again now
                A.reevaluate_soon(conn, sub.unit_codes or None)
        log.info("subscription updated", subscription=sub.subscription_id, endpoint=sub.endpoint)
        self._notify()
        return self.get_subscription(sub.subscription_id)

    def delete_subscription(self, subscription_id: str) -> None:
        with self.db.write() as conn:
            if not S.delete_subscription(conn, subscription_id):
                raise _no_subscription(subscription_id)
        log.info("subscription deleted", subscription=subscription_id)
        self._notify()

    def get_subscription(self, subscription_id: str) -> Subscription:
        with self.db.read() as conn:
            found = S.subscriptions(conn, only=subscription_id, counts=True) if subscription_id else []
        if not found:
            raise _no_subscription(subscription_id)
        return found[0]

    def list_subscriptions(self, size: int, token: str) -> tuple[list[Subscription], str]:
        fp = fingerprint("subscriptions")
        after = decode_token(token, fp, shape=str) or ""
        with self.db.read() as conn:
            subs = S.subscriptions(conn, after=after, limit=size + 1, counts=True)
        more = len(subs) > size
        subs = subs[:size]
        return subs, encode_token(subs[-1].subscription_id, fp) if more else ""

    def list_deliveries(self, subscription_id: str, state: int, size: int,
                        token: str) -> tuple[list[DeliveryView], str]:
        if not subscription_id:
            raise InvalidArgument.for_field("subscription_id", "required", reason="SUBSCRIPTION_REQUIRED")
        fp = fingerprint("deliveries", subscription_id, state)
        after = decode_token(token, fp, shape=int) or 0
        with self.db.read() as conn:
            if S.subscription_row(conn, subscription_id) is None:
                raise _no_subscription(subscription_id)
            rows = S.deliveries(conn, subscription_id, state, int(after), size + 1)
        more = len(rows) > size
        rows = rows[:size]
        views = [DeliveryView(r.delivery_id, r.subscription_id, r.sequence, r.state, r.attempts, r.next_attempt_at,
                              r.last_error, r.created_at, r.delivered_at, r.feed) for r in rows]
        return views, encode_token(rows[-1].sequence, fp) if more else ""

    def replay(self, subscription_id: str, delivery_ids: Sequence[str]) -> int:
        if not subscription_id:
            raise InvalidArgument.for_field("subscription_id", "required", reason="SUBSCRIPTION_REQUIRED")
        if len(delivery_ids) > 10_000:
            raise InvalidArgument.for_field("delivery_ids", "at most 10,000", reason="TOO_MANY_IDS")
        with self.db.write() as conn:
            if S.subscription_row(conn, subscription_id) is None:
                raise _no_subscription(subscription_id)
            count = S.replay(conn, subscription_id, delivery_ids, self.clock())
        log.info("deliveries replayed", subscription=subscription_id, count=count)
        self._notify()  # also for pending deliveries now due
        return count


class _Overtaken(Exception):
    """Another replica moved scoring's cursor during this round: it applied these changes."""


# Scoring's answers that say "try again later" rather than "this request fails": a failure with one
# of them is retried whole, never narrowed down to keys and set aside.
_TRANSIENT_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "CANCELLED", "ABORTED"})


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return True
    if isinstance(exc, ChisoError) and exc.code_name == "UNAVAILABLE":
        return exc.metadata.get("scoring_code", "UNAVAILABLE") in _TRANSIENT_CODES
    return False


def _period_without_rule_version(exc: BaseException) -> str | None:
    if isinstance(exc, FailedPrecondition) and exc.reason == "NO_RULE_VERSION":
        return exc.metadata.get("period") or None
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ChisoError):
        return f"{exc.code_name} {exc.reason}: {exc.message}"[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


def _content_sums(cards: Sequence[Card]) -> dict[CardKey, str]:
    return {c.key: c.content_sha256() for c in cards}


def _no_subscription(subscription_id: str) -> NotFound:
    return NotFound(f"no subscription {subscription_id!r}", reason="SUBSCRIPTION_NOT_FOUND",
                    metadata={"subscription_id": subscription_id[:64]})


def _parse_name(name: str) -> tuple[str, int]:
    _, pid, _, rev = name.split("/")
    return pid, int(rev)


def _view(row) -> PublicationView:
    return PublicationView(json.loads(row.payload), bytes(row.payload), bytes(row.signature))


def _datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, UTC)
