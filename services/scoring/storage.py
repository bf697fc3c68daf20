"""Scoring's storage: the aggregates kept current from ingest's change notices, and the reads a
scorecard needs.

**Incremental.** :meth:`Aggregates.apply_pending` takes the change notices after scoring's cursor
(in id order — ingest makes ids visible in commit order), finds the dossiers each batch changed
(``unit, received month, batch id``), and moves each dossier's contribution: what it contributed
before (``score_dossiers``) is taken out of the cells, what it contributes now is put in. Applying
a notice twice changes nothing the second time (the stored contribution already equals the new
one), so redelivery and overlapping consumers are harmless; the cursor, the cells and the change
feed are written in one transaction under a lock, so two replicas never double-apply.

**Two lanes.** Notices are applied in two lanes, each with its own cursor, so that a province
backfilling a past year never makes today's changes wait (issue 17): the *recent* lane
(:data:`RECENT`, the cursor named ``scoring``) takes the notices that touch the running month or the
month before it — as judged against the month the notice was written in, a fixed property of the
notice, so no notice can fall between the lanes — and every catalogue notice; the *past* lane
(:data:`PAST`) takes the rest, only up to the recent lane's cursor (so a catalogue change is always
applied before the records written after it, whatever their lane) and only while the recent lane is
caught up (:class:`services.scoring.server.Consumer` bounds each past transaction's time). Every
notice at or below the past cursor is applied; between the two cursors only the past ones wait.
Applying is order-independent (each dossier moves from its stored contribution to its current row),
and both lanes take the same lock, so one dossier is never moved by two transactions at once.

**Rebuild.** :meth:`Aggregates.rebuild` recomputes every aggregate from the stored dossiers, one
(unit, received month) partition at a time, with the same contribution function.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from random import random as random_fraction

import structlog
from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from services.scoring.domain import cells as C
from services.scoring.domain import moments as M
from services.scoring.tables import (
    score_cells,
    score_changes,
    score_dossiers,
    score_durations,
    score_proc_cells,
    score_progress,
    score_set_aside,
)
from services.shared.backoff import full_jitter
from services.shared.db import DATABASE_UNAVAILABLE, Database
from services.shared.records import (
    ProcedureRecord,
    PublicationRecord,
    StoredPetition,
    UnitProcedureRecord,
    UnitRecord,
)
from services.shared.schema import (
    change_notices,
    dossiers,
    petitions,
    procedures,
    publications,
    reported_totals,
    unit_procedures,
    units,
)

log = structlog.get_logger("chiso.scoring.storage")

CONSUMER = "scoring"  # score_progress row of the recent lane (and the lock every applier takes)
RECENT, PAST = CONSUMER, "scoring_past"  # the two lanes of notices (module docstring)
LANES = (RECENT, PAST)
SCAN_FACTOR = 20  # a lane reads up to this many notices per notice it may apply (the other lane's are skipped)
DOSSIER, PETITION, PROCEDURE = 5, 6, 2
CATALOGUE_FROM = 0  # month_from of catalogue notices (units, procedures, offers)
DUE_TICKER = "due_ticker"  # score_progress row: updated_at = the instant due moments are announced up to
FIRST_TICK_WINDOW_US = C.DAY_US  # the first tick ever looks back this far
_CHUNK = 500

DOSSIER_COLUMNS = [dossiers.c[name] for name in C.DossierRow._fields]  # by name
_UNIT_KEY = ("unit_code", "rm", "em", "sm", *C.DEADLINE_KEYS)  # a deadline key per lateness policy
_PROC_KEY = ("unit_code", "procedure_code", "rm", "em")
_DUR_KEY = ("unit_code", "procedure_code", "em", "days")
_STATE_COLUMNS = C.Contribution._fields
_UNIT_BITS = [C.BIT[name] for name in C.UNIT_COUNTERS]
_PROC_BITS = [C.BIT[name] for name in C.PROC_COUNTERS]


def _counts(bits: int, masks: Sequence[int]) -> list[int]:
    return [1 if bits & m else 0 for m in masks]


class Delta:
    """Additions to (and removals from) cells, keyed like the tables."""

    def __init__(self) -> None:
        self.unit: dict[tuple, list[int]] = {}
        self.proc: dict[tuple, list[int]] = {}
        self.dur: dict[tuple, list[int]] = {}

    def add(self, c: C.Contribution, sign: int) -> None:
        _bump(self.unit, _unit_key(c), _counts(c.bits, _UNIT_BITS), sign)
        _bump(self.proc, (c.unit_code, c.procedure_code, c.rm, c.em), _counts(c.bits, _PROC_BITS), sign)
        if c.days >= 0:
            _bump(self.dur, (c.unit_code, c.procedure_code, c.em, c.days), [1, c.seconds], sign)

    def __bool__(self) -> bool:
        return bool(self.unit or self.proc or self.dur)


#: a contribution's unit-cell key: unit, months and a deadline key per policy
_unit_key = itemgetter(*(C.Contribution._fields.index(name) for name in _UNIT_KEY))


def _bump(into: dict[tuple, list[int]], key: tuple, values: list[int], sign: int) -> None:
    current = into.get(key)
    if current is None:
        into[key] = [sign * v for v in values]
    else:
        for i, v in enumerate(values):
            current[i] += sign * v


@dataclass(frozen=True)
class Applied:
    notices: int
    dossiers: int
    last_notice_id: int
    set_aside: int = 0  # items newly set aside by this call
    behind: bool = False  # a lane stopped at its limit: more notices are pending


SET_ASIDE_DOSSIER, SET_ASIDE_NOTICE = "dossier", "notice"
_MAX_ERROR = 1000


@dataclass(frozen=True)
class SetAsideItem:
    """Something the consumer could not apply: one stored dossier, or one change notice."""

    id: int
    item_kind: str
    item_key: str
    unit_code: str
    error: str
    attempts: int
    first_failed_at: int
    last_failed_at: int
    next_attempt_at: int


@dataclass(frozen=True)
class Retried:
    applied: int  # items that applied this time (no longer set aside)
    failing: int  # items that failed again (kept, with a later next attempt)
    set_aside: int = 0  # new items (dossiers of a retried notice that could not be placed)


class _Overtaken(Exception):
    """Another consumer moved the cursor while this one was isolating a failure."""


@dataclass(frozen=True)
class Ticked:
    """One tick of the due ticker: the window ``[since, until)`` it covered (empty when another
    replica had covered it), the unfinished dossiers whose deadline fell in it, the changes written,
    the petitions time re-judged in it (due, or past a stage limit) and the listings that fell due."""

    since: int
    until: int
    dossiers: int
    changes: int
    petitions: int = 0
    listings: int = 0


@dataclass(frozen=True)
class Rebuilt:
    dossiers: int
    cells: int
    seconds: float


class Aggregates:
    """Keeps ``score_*`` current (see the module docstring)."""

    def __init__(self, db: Database, now_us=None, first_month: int = C.MIN_MONTH, *,
                 retry_base_seconds: float = 1.0, retry_max_seconds: float = 600.0,
                 random: Callable[[], float] = random_fraction, time_rules: M.TimeRules | None = None) -> None:
        """``first_month``: the change feed names no month before it (the first month a rule version
        scores; a record dated in the year 1 would otherwise name every month since).
        ``retry_*``: backoff of set-aside items (full jitter, doubling from the base up to the max).
        ``time_rules``: what of the rule tables makes petitions and listings turn with time
        (:func:`moments.time_rules`; none: the due ticker announces dossiers only)."""
        self.db = db
        self.time_rules = time_rules or M.TimeRules()
        self.now_us = now_us or (lambda: time.time_ns() // 1000)
        self.first_month = max(first_month, C.MIN_MONTH)
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.random = random

    # --- incremental ------------------------------------------------------------------------

    def apply_pending(self, limit: int = 2000, past_limit: int | None = None) -> Applied:
        """Apply up to ``limit`` notices: the recent lane's first, then, if it is caught up, the past
        lane's (up to ``past_limit``, by default what is left of ``limit``). ``behind``: a lane stopped
        at its limit (call again)."""
        recent = self.apply_lane(RECENT, limit)
        if recent.behind:
            return recent
        left = limit - recent.notices if past_limit is None else past_limit
        past = self.apply_lane(PAST, max(1, left))
        return Applied(recent.notices + past.notices, recent.dossiers + past.dossiers, past.last_notice_id,
                       recent.set_aside + past.set_aside, past.behind)

    def apply_lane(self, lane: str, limit: int = 2000) -> Applied:
        """Apply up to ``limit`` of ``lane``'s notices after its cursor in one transaction.

        One failing item never stops the consumer: a dossier whose contribution cannot be worked out
        is set aside and the rest of the batch applies; if the batch fails anyway (a value the
        database refuses, a bug), it is applied again in halves, each in its own transaction, down to
        the one notice that fails — whose dossiers are then placed one by one (the ones that fail set
        aside) or, failing that, the notice itself is set aside — and the cursor moves on. The
        database being unavailable is not such a failure: it is raised, and the batch retried whole."""
        try:
            with self.db.write() as conn:
                last = _lock_lane(conn, lane)
                notices, end, behind = _lane_notices(conn, lane, last, limit)
                if end == last:
                    return Applied(0, 0, last)
                dossier_count, set_aside = self._apply_notices(conn, notices, isolate_rows=False) if notices else (0, 0)
                self._advance(conn, end, lane)
                return Applied(len(notices), dossier_count, end, set_aside, behind)
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001 — isolated below, and logged with its trace
            log.error("a batch of change notices failed; applying it in parts to set the failing item aside",
                      lane=lane, exc_info=exc)
        return self._apply_isolating(lane, limit)

    def _apply_isolating(self, lane: str, limit: int) -> Applied:
        with self.db.read() as conn:
            expected = _lane_cursor(conn, lane)
            notices, _, behind = _lane_notices(conn, lane, expected, limit)
        done = Applied(0, 0, expected, 0, behind)

        def attempt(part: list, *, single: bool) -> Applied:
            with self.db.write() as conn:
                if _lock_lane(conn, lane) != done.last_notice_id:
                    raise _Overtaken
                dossier_count, set_aside = self._apply_notices(conn, part, isolate_rows=single)
                self._advance(conn, part[-1].id, lane)
            return Applied(len(part), dossier_count, part[-1].id, set_aside)

        def add(a: Applied) -> None:
            nonlocal done
            done = Applied(done.notices + a.notices, done.dossiers + a.dossiers, a.last_notice_id,
                           done.set_aside + a.set_aside, done.behind)

        def run(part: list) -> None:
            try:
                add(attempt(part, single=len(part) == 1))
                return
            except (_Overtaken, *DATABASE_UNAVAILABLE):
                raise
            except Exception as exc:  # noqa: BLE001
                if len(part) > 1:
                    middle = len(part) // 2
                    run(part[:middle])
                    run(part[middle:])
                    return
                error = exc
            notice = part[0]
            with self.db.write() as conn:
                if _lock_lane(conn, lane) != done.last_notice_id:
                    raise _Overtaken
                new = self._set_aside(conn, SET_ASIDE_NOTICE, str(notice.id), notice.unit_code, error)
                self._advance(conn, notice.id, lane)
            log.error("change notice set aside", notice_id=notice.id, unit_code=notice.unit_code[:64],
                      error=_describe(error))
            add(Applied(1, 0, notice.id, int(new)))

        try:
            if notices:
                run(notices)
        except _Overtaken:
            log.info("another consumer moved the cursor while a failure was isolated; it goes on from there")
        return done

    def _apply_notices(self, conn: Connection, notices: Sequence, *, isolate_rows: bool) -> tuple[int, int]:
        """Apply ``notices`` inside the caller's transaction: (dossiers read, items newly set aside).
        ``isolate_rows``: place each dossier in its own savepoint, so a row the database refuses is
        set aside alone."""
        partitions: dict[tuple[str, int], set[str]] = defaultdict(set)
        procedure_batches: set[str] = set()
        for n in notices:
            if n.kind == DOSSIER:
                partitions[(n.unit_code, n.month_from)].add(n.batch_id)
            elif n.kind == PROCEDURE:
                procedure_batches.add(n.batch_id)
        statutory = _statutory_days(conn)
        rows = list(_changed_dossiers(conn, partitions))
        if procedure_batches:
            rows.extend(_dossiers_of_changed_procedures(conn, procedure_batches))
        failed: list[tuple[C.DossierRow, BaseException]] = []
        if isolate_rows:
            moved = self._move_one_by_one(conn, rows, statutory, failed)
        else:
            moved = self._move(conn, rows, statutory, failed)
        self._record_changes(conn, notices, moved)
        catalogue = [n.id for n in notices if n.month_from == CATALOGUE_FROM and n.kind != DOSSIER]
        if catalogue:
            _move_catalogue_stamp(conn, max(catalogue), self.now_us())
        new = 0
        for row, exc in failed:
            new += self._set_aside(conn, SET_ASIDE_DOSSIER, _dossier_key(row), row.unit_code, exc)
            log.error("dossier set aside", source_id=row.source_id[:64], dossier_code=row.code[:64],
                      unit_code=row.unit_code[:64], error=_describe(exc))
        return len(rows), new

    def _record_changes(self, conn: Connection, notices: Sequence, moved: Iterable[tuple]) -> None:
        months = _changed_months(notices, moved, self.first_month, _month_now(self.now_us()))
        if months:
            now = self.now_us()
            conn.execute(
                insert(score_changes),
                [{"unit_code": u, "month": m, "created_at": now} for u, m in sorted(months)],
            )

    def _advance(self, conn: Connection, notice_id: int, lane: str = RECENT) -> None:
        conn.execute(
            update(score_progress)
            .where(score_progress.c.name == lane)
            .values(last_notice_id=notice_id, updated_at=self.now_us())
        )

    def _move_one_by_one(self, conn: Connection, rows: list[C.DossierRow], statutory: dict[str, int],
                         failed: list) -> list[tuple]:
        touched: list[tuple] = []
        for row in {(r.code, r.source_id): r for r in rows}.values():
            try:
                with conn.begin_nested():
                    touched.extend(self._move(conn, [row], statutory))
            except DATABASE_UNAVAILABLE:
                raise
            except Exception as exc:  # noqa: BLE001 — this row is set aside by the caller
                failed.append((row, exc))
        return touched

    # --- set-aside items ----------------------------------------------------------------------

    def _set_aside(self, conn: Connection, kind: str, key: str, unit_code: str, error: BaseException) -> bool:
        """Record a failed attempt at an item (inside the caller's transaction): set aside the first
        time, its attempts counted and its next try put off (full jitter) after. True if new."""
        t = score_set_aside
        now = self.now_us()
        text_error = _describe(error)
        attempts = conn.execute(
            select(t.c.attempts).where(t.c.item_kind == kind, t.c.item_key == key)).scalar()
        wait = full_jitter((attempts or 0) + 1, self.retry_base_seconds, self.retry_max_seconds, self.random)
        values = {"error": text_error, "last_failed_at": now, "next_attempt_at": now + int(wait * 1e6)}
        if attempts is None:
            conn.execute(insert(t).values(item_kind=kind, item_key=key, unit_code=unit_code, attempts=1,
                                          first_failed_at=now, **values))
            return True
        conn.execute(update(t).where(t.c.item_kind == kind, t.c.item_key == key)
                     .values(attempts=attempts + 1, **values))
        return False

    def set_aside(self, limit: int = 1000, after_id: int = 0) -> list[SetAsideItem]:
        """Items set aside, by id."""
        t = score_set_aside
        with self.db.read() as conn:
            rows = conn.execute(select(*(t.c[f] for f in SetAsideItem.__dataclass_fields__))
                                .where(t.c.id > after_id).order_by(t.c.id).limit(limit)).all()
        return [SetAsideItem(*r) for r in rows]

    def set_aside_count(self) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(score_set_aside)).scalar() or 0

    def retry_set_aside(self, limit: int = 100, ids: Sequence[int] | None = None) -> Retried:
        """Try set-aside items again: those due (``next_attempt_at`` passed), or the ``ids`` given
        (a replay: at once, whatever their backoff). One that applies leaves the table and its
        scorecards join the change feed; one that fails again waits longer. A dossier is placed as it
        is stored now; a notice is applied again (its dossiers one by one, any that fail set aside)."""
        t = score_set_aside
        applied = failing = new = 0
        if ids is None:
            with self.db.read() as conn:  # nothing due (the usual case): no write transaction, no lock
                if conn.execute(select(t.c.id).where(t.c.next_attempt_at <= self.now_us()).limit(1)).first() is None:
                    return Retried(0, 0)
        with self.db.write() as conn:
            _lock_progress(conn)  # one applier at a time, as for notices
            stmt = select(*(t.c[f] for f in SetAsideItem.__dataclass_fields__)).order_by(t.c.id)
            if ids is not None:
                stmt = stmt.where(t.c.id.in_(list(ids)))
            else:
                stmt = stmt.where(t.c.next_attempt_at <= self.now_us()).limit(limit)
            items = [SetAsideItem(*r) for r in conn.execute(stmt)]
            statutory = _statutory_days(conn) if items else {}
            for item in items:
                try:
                    with conn.begin_nested():
                        new += self._retry_item(conn, item, statutory)
                        conn.execute(delete(t).where(t.c.id == item.id))
                    applied += 1
                    log.info("set-aside item applied", item_kind=item.item_kind, item_id=item.id)
                except DATABASE_UNAVAILABLE:
                    raise
                except Exception as exc:  # noqa: BLE001 — kept, with a later next attempt
                    self._set_aside(conn, item.item_kind, item.item_key, item.unit_code, exc)
                    failing += 1
                    log.warning("set-aside item failed again", item_kind=item.item_kind, item_id=item.id,
                                attempts=item.attempts + 1, error=_describe(exc))
        return Retried(applied, failing, new)

    def _retry_item(self, conn: Connection, item: SetAsideItem, statutory: dict[str, int]) -> int:
        if item.item_kind == SET_ASIDE_DOSSIER:
            source_id, code = json.loads(item.item_key)
            stmt = select(*DOSSIER_COLUMNS).where(dossiers.c.code == code, dossiers.c.source_id == source_id)
            rows = [C.DossierRow(*r) for r in conn.execute(stmt)]  # none left: nothing to place
            self._record_changes(conn, (), self._move(conn, rows, statutory))
            return 0
        notices = conn.execute(_NOTICE_SELECT.where(change_notices.c.id == int(item.item_key))).all()
        return self._apply_notices(conn, notices, isolate_rows=True)[1] if notices else 0

    def catch_up(self, limit: int = 2000) -> int:
        """Apply every pending notice; the number applied."""
        total = 0
        while True:
            applied = self.apply_pending(limit)
            total += applied.notices
            if not applied.behind:
                return total

    def _move(self, conn: Connection, rows: list[C.DossierRow], statutory: dict[str, int],
              failed: list | None = None) -> list[tuple]:
        """Re-place ``rows``; returns (unit, first month, last month) of every contribution moved.
        With ``failed``, a row whose contribution cannot be worked out is added to it (with the
        error) and left where it was; without, the error is raised."""
        if not rows:
            return []
        unique: dict[tuple[str, str], C.DossierRow] = {}
        for r in rows:
            unique[(r.code, r.source_id)] = r
        old = _states(conn, list(unique))
        delta = Delta()
        changed: list[dict] = []
        touched: list[tuple] = []
        for key, row in unique.items():
            try:
                new = C.contribution(row, statutory.get(row.procedure_code, 0))
            except Exception as exc:
                if failed is None:
                    raise
                failed.append((row, exc))
                continue
            before = old.get(key)
            if before == new:
                continue
            if before is not None:
                delta.add(before, -1)
                touched.append((before.unit_code, before.rm, before.em))
            delta.add(new, +1)
            touched.append((new.unit_code, new.rm, new.em))
            changed.append({"code": key[0], "source_id": key[1], **new._asdict()})
        if changed:
            _apply_delta(conn, delta)
            _upsert(conn, score_dossiers, changed, ("code", "source_id"), _STATE_COLUMNS)
        return touched

    # --- rebuild ----------------------------------------------------------------------------

    def rebuild(self) -> Rebuilt:
        """Recompute every aggregate from the stored dossiers (one transaction).

        Streams the dossiers in (unit, received month) order straight from the driver, aggregates
        one unit at a time in memory and writes with the driver's bulk path (executemany on SQLite,
        COPY on PostgreSQL): the same contribution function as the incremental path.
        """
        started = time.monotonic()
        with self.db.write() as conn:
            last = _lock_progress(conn)
            head = conn.execute(select(func.max(change_notices.c.id))).scalar() or 0
            for table in (score_cells, score_proc_cells, score_durations, score_dossiers):
                conn.execute(delete(table))
            # every dossier is placed again: rows set aside before are tried now (and set aside again if
            # they still fail); set-aside notices keep their own retries
            conn.execute(delete(score_set_aside).where(score_set_aside.c.item_kind == SET_ASIDE_DOSSIER))
            failed: list[tuple[C.DossierRow, BaseException]] = []
            statutory = _statutory_days(conn)
            writer = _BulkWriter(conn)
            count = 0
            unit_cells: dict[tuple, list[int]] = {}
            proc_cells: dict[tuple, list[int]] = {}
            durations: dict[tuple, list[int]] = {}
            current_unit = None
            contribution = C.contribution
            unit_bits, proc_bits = _UNIT_BITS, _PROC_BITS
            states = writer.states
            for raw in _stream_dossiers(conn):
                row = C.DossierRow(*raw)
                if row.unit_code != current_unit:
                    writer.cells(unit_cells, proc_cells, durations)
                    current_unit = row.unit_code
                try:
                    c = contribution(row, statutory.get(row.procedure_code, 0))
                except Exception as exc:  # noqa: BLE001 — set aside below; the rebuild goes on
                    failed.append((row, exc))
                    continue
                bits = c.bits
                key = _unit_key(c)
                got = unit_cells.get(key)
                if got is None:
                    unit_cells[key] = [1 if bits & m else 0 for m in unit_bits]
                else:
                    for i, m in enumerate(unit_bits):
                        if bits & m:
                            got[i] += 1
                key = (c.unit_code, c.procedure_code, c.rm, c.em)
                got = proc_cells.get(key)
                if got is None:
                    proc_cells[key] = [1 if bits & m else 0 for m in proc_bits]
                else:
                    for i, m in enumerate(proc_bits):
                        if bits & m:
                            got[i] += 1
                if c.days >= 0:
                    key = (c.unit_code, c.procedure_code, c.em, c.days)
                    got = durations.get(key)
                    if got is None:
                        durations[key] = [1, c.seconds]
                    else:
                        got[0] += 1
                        got[1] += c.seconds
                states.append((row.code, row.source_id, *c))
                count += 1
                if len(states) >= 50_000:
                    writer.flush_states()
            writer.cells(unit_cells, proc_cells, durations)
            writer.flush()
            for row, exc in failed:
                self._set_aside(conn, SET_ASIDE_DOSSIER, _dossier_key(row), row.unit_code, exc)
                log.error("dossier set aside", source_id=row.source_id[:64], dossier_code=row.code[:64],
                          unit_code=row.unit_code[:64], error=_describe(exc))
            _lock_lane(conn, PAST)  # both lanes' cursors exist, and both move to the head
            conn.execute(
                update(score_progress)
                .where(score_progress.c.name.in_(LANES))
                .values(last_notice_id=max(last, head), updated_at=self.now_us())
            )
            _move_catalogue_stamp(conn, max(last, head), self.now_us())  # every notice is reflected now
        elapsed = time.monotonic() - started
        log.info("rebuilt", dossiers=count, cells=writer.written, seconds=round(elapsed, 2))
        return Rebuilt(count, writer.written, elapsed)

    # --- time passing: the due ticker -------------------------------------------------------

    def tick_due(self, clock: Callable[[], int], first_window_us: int = FIRST_TICK_WINDOW_US) -> Ticked:
        """Announce in the change feed the (unit, month) of every unfinished dossier whose deadline
        fell in ``[last tick, now)`` — and of every petition or listing time re-judged in it
        (:func:`time_moments`, by ``self.time_rules``) —, and move the tick to ``now`` (``clock()``,
        UTC µs, read once the locks are held) — in one transaction, under the ``due_ticker`` row's
        lock, so replicas never announce a window twice or leave one out (a replica whose clock is
        behind the last tick does nothing). The first tick ever covers the ``first_window_us`` before
        it. The month named is the one the moment fell in: the running month at that instant, the
        only live scorecard it re-judged (publish derives the quarter and year). Reads only the
        dossiers due in the window (:func:`due_between`) and the petitions and listings whose moment
        is in it (ranges on indexes).

        The consumer's lock is taken first: every writer of the change feed holds it, so feed ids
        commit in id order and a reader's cursor never passes an id still to commit."""
        with self.db.write() as conn:
            _lock_progress(conn)
            now_us = clock()
            last = _lock_tick(conn, now_us - first_window_us)
            if now_us <= last:
                return Ticked(last, last, 0, 0)
            due = conn.execute(due_between(last, now_us)).all()
            petitions, listings = time_moments(conn, last, now_us, self.time_rules)
            months = sorted({(unit, m) for unit, at in (*due, *petitions, *listings)
                             if (m := C.month_of(at)) >= self.first_month})
            if months:
                conn.execute(insert(score_changes),
                             [{"unit_code": u, "month": m, "created_at": now_us} for u, m in months])
            conn.execute(update(score_progress).where(score_progress.c.name == DUE_TICKER)
                         .values(updated_at=now_us))
        return Ticked(last, now_us, len(due), len(months), len(petitions), len(listings))

    def last_tick(self) -> int | None:
        """The instant due moments are announced up to (None: never ticked)."""
        with self.db.read() as conn:
            return conn.execute(select(score_progress.c.updated_at)
                                .where(score_progress.c.name == DUE_TICKER)).scalar()

    # --- reading the feed -------------------------------------------------------------------

    def changes(self, after: int, limit: int) -> list[tuple[int, str, int, int]]:
        """(id, unit, month, created_at) of scorecard changes after ``after``."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(score_changes.c.id, score_changes.c.unit_code, score_changes.c.month, score_changes.c.created_at)
                .where(score_changes.c.id > after)
                .order_by(score_changes.c.id)
                .limit(limit)
            ).all()
        return [tuple(r) for r in rows]

    def oldest_pending_us(self, lane: str = RECENT) -> int | None:
        """When the oldest change notice ``lane`` has not passed yet was written (UTC µs); ``None`` when
        it is caught up. For the recent lane, scoring's running periods are at most ``now - this``
        behind ingest (the lane passes the past lane's notices at once, so one of those can stand
        first only briefly)."""
        with self.db.read() as conn:
            applied = _lane_cursor(conn, lane)
            return conn.execute(select(change_notices.c.created_at).where(change_notices.c.id > applied)
                                .order_by(change_notices.c.id).limit(1)).scalar()

    def lag(self) -> tuple[int, int]:
        """(notice id up to which every notice is applied — the lower of the two lanes' cursors —,
        newest notice id)."""
        with self.db.read() as conn:
            head = conn.execute(select(func.max(change_notices.c.id))).scalar() or 0
            return min(_lane_cursor(conn, lane) for lane in LANES), head

    def lane_cursors(self) -> dict[str, int]:
        """Each lane's cursor (notice id)."""
        with self.db.read() as conn:
            return {lane: _lane_cursor(conn, lane) for lane in LANES}


_NOTICE_SELECT = select(
    change_notices.c.id,
    change_notices.c.unit_code,
    change_notices.c.month_from,
    change_notices.c.month_to,
    change_notices.c.kind,
    change_notices.c.batch_id,
    change_notices.c.created_at,
)


CATALOGUE_STAMP = "catalogue"  # score_progress row: the newest catalogue notice applied


def catalogue_stamp(conn: Connection) -> int:
    """Id of the newest catalogue notice (units, procedures, offers) the consumer has applied: every
    record counted in the aggregates was applied after the catalogue notices up to it. 0: none."""
    return conn.execute(select(score_progress.c.last_notice_id)
                        .where(score_progress.c.name == CATALOGUE_STAMP)).scalar() or 0


def _move_catalogue_stamp(conn: Connection, notice_id: int, now: int) -> None:
    """Inside the applying transaction: the catalogue stamp to ``notice_id`` (never backwards)."""
    t = score_progress
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(t).values(
        name=CATALOGUE_STAMP, last_notice_id=notice_id, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"last_notice_id": stmt.excluded.last_notice_id, "updated_at": now},
        where=t.c.last_notice_id < stmt.excluded.last_notice_id))


def is_recent(month_from: int, month_to: int, created_at_us: int) -> bool:
    """Whether a notice belongs to the recent lane: a catalogue notice, or one whose months reach the
    month before the one it was written in (Asia/Ho_Chi_Minh). Fixed once the notice is written."""
    if month_from == CATALOGUE_FROM:
        return True
    written = C.month_of(created_at_us)
    before = written - 1 if written % 100 > 1 else written - 89  # yyyymm of the month before
    return month_to >= before


def _lane_notices(conn: Connection, lane: str, last: int, limit: int) -> tuple[list, int, bool]:
    """(``lane``'s notices after ``last``, up to ``limit`` of them, in id order; the cursor after
    them; whether the lane stopped at its limit). The other lane's notices read on the way are
    skipped (the cursor passes them). The past lane reads only up to the recent lane's cursor."""
    recent = lane == RECENT
    stmt = _NOTICE_SELECT.where(change_notices.c.id > last)
    if not recent:
        stmt = stmt.where(change_notices.c.id <= _lane_cursor(conn, RECENT))
    scan = max(limit, 1) * SCAN_FACTOR
    rows = conn.execute(stmt.order_by(change_notices.c.id).limit(scan)).all()
    mine = []
    for r in rows:
        if is_recent(r.month_from, r.month_to, r.created_at) == recent:
            mine.append(r)
            if len(mine) >= limit:
                return mine, r.id, True
    if not rows:
        return [], last, False
    return mine, rows[-1].id, len(rows) >= scan


def _lane_cursor(conn: Connection, lane: str) -> int:
    """A lane's cursor without locking it; the past lane's is the recent lane's until it is created."""
    got = dict(conn.execute(select(score_progress.c.name, score_progress.c.last_notice_id)
                            .where(score_progress.c.name.in_(LANES))).all())
    return got.get(lane, got.get(RECENT, 0)) or 0


def _lock_lane(conn: Connection, lane: str) -> int:
    """``lane``'s cursor, locked for this transaction. Every applier locks the recent lane's row
    first (one applier at a time). A store kept before the lanes has no past lane's row: it is created
    at the recent lane's cursor, which was then every notice's."""
    recent = _lock_progress(conn)
    if lane == RECENT:
        return recent
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(score_progress).values(
        name=PAST, last_notice_id=recent, updated_at=0)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
    return conn.execute(select(score_progress.c.last_notice_id).where(score_progress.c.name == PAST)).scalar_one()


def _dossier_key(row: C.DossierRow) -> str:
    return json.dumps([row.source_id, row.code], ensure_ascii=False)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]


def due_between(since: int, until: int):
    """(unit, deadline) of the unfinished dossiers whose deadline instant is in ``[since, until)``:
    a range on ``ix_score_dossiers_open_deadline_at`` (its predicate as literals, so that SQLite and a
    generic PostgreSQL plan can use the partial index)."""
    t = score_dossiers
    return select(t.c.unit_code, t.c.deadline_at).where(
        t.c.em == literal_column(str(C.OPEN)), t.c.deadline_at >= int(since), t.c.deadline_at < int(until))


def petitions_due_between(since: int, until: int):
    """(unit, due time) of the petitions due in ``[since, until)`` (766/2022 5.2 counts a petition
    once its due time has passed, resolved or not): a range on ``ix_petitions_due_at``."""
    t = petitions
    return select(t.c.unit_code, t.c.due_at).where(t.c.due_at >= int(since), t.c.due_at < int(until))


_IN_PROCESS = (petitions.c.refused_at.is_(None), petitions.c.published_at.is_(None))


def petition_anchors(column: str, lo: int, hi: int):
    """(unit, source, code, received, last transfer, ready) of the petitions in process whose
    ``column`` is in ``[lo, hi)``: ``received_at`` or ``last_transfer_at`` of those not ready for
    publication (``ix_petitions_open_*``; their limit runs from the later of the two), or
    ``ready_for_publication_at`` (``ix_petitions_open_ready_at``). The partial indexes' predicates are
    in the statement as written there (no bound values)."""
    t = petitions
    col = t.c[column]
    where = [*_IN_PROCESS, col >= int(lo), col < int(hi)]
    if column != "ready_for_publication_at":
        where.append(t.c.ready_for_publication_at.is_(None))
    return select(t.c.unit_code, t.c.source_id, t.c.code, t.c.received_at, t.c.last_transfer_at,
                  t.c.ready_for_publication_at).where(*where)


def listings_decided_on(days: Sequence):
    """(unit, decision date) of the publications decided on one of ``days``: a range on
    ``ix_publications_decision_date`` (then the exact days)."""
    t = publications
    return select(t.c.unit_code, t.c.decision_date).where(
        t.c.decision_date >= min(days), t.c.decision_date <= max(days), t.c.decision_date.in_(list(days)))


def time_moments(conn: Connection, since: int, until: int, rules: M.TimeRules) -> tuple[list, list]:
    """(unit, instant) of the petitions and of the listings time re-judges in ``[since, until)``
    (``moments``): the petitions due in it (766/2022 5.2); the petitions in process whose stage limit
    passes in it (portal/2025 5.2: readiness, ``ready_days`` working days after the later of receipt
    and last transfer; publication, ``publication_days`` after readiness) — the instant is the limit,
    worked out from the anchor read; the listings falling due on a Hanoi day whose midnight is in it
    (portal/2025 1.2), and the decisions dated that day (1.1) — the instant is that midnight. A
    moment is counted once per record and limit."""
    found: list[tuple[str, int]] = []
    if rules.petitions_due:
        found.extend(conn.execute(petitions_due_between(since, until)).all())
    stages = [(n, column) for n in rules.ready_days for column in ("received_at", "last_transfer_at")]
    stages += [(n, "ready_for_publication_at") for n in rules.publication_days]
    seen: set[tuple] = set()
    for n, column in stages:
        for lo, hi in M.working_sources(since, until, n):  # a few ranges (a range a day after downtime)
            for unit, source, code, received, transfer, ready in conn.execute(petition_anchors(column, lo, hi)):
                anchor = ready if ready is not None else max(received, transfer or received)
                at = C.working_deadline_us(anchor, n)
                if since <= at < until and (source, code, n, at) not in seen:  # once per petition and limit
                    seen.add((source, code, n, at))
                    found.append((unit, at))
    listings: list[tuple[str, int]] = []
    if rules.listing_days or rules.decisions:
        for day, midnight in M.days_beginning(since, until):
            decided = M.listing_decision_days(day, rules)
            if decided:
                listings.extend((unit, midnight) for unit, _ in conn.execute(listings_decided_on(decided)))
    return found, listings


def _lock_tick(conn: Connection, first: int) -> int:
    """The due ticker's instant, locked for this transaction (created at ``first`` the first time)."""
    t = score_progress
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(t).values(name=DUE_TICKER, last_notice_id=0, updated_at=first)
                 .on_conflict_do_nothing(index_elements=["name"]))
    stmt = select(t.c.updated_at).where(t.c.name == DUE_TICKER)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # SQLite: the write transaction (BEGIN IMMEDIATE) is the lock
    return conn.execute(stmt).scalar_one()


def _lock_progress(conn: Connection) -> int:
    """The recent lane's cursor, locked for this transaction. Created at 0 the first time, together
    with the past lane's (so a store whose first notices are applied by the recent lane never starts
    the past lane after them; only a store kept before the lanes has the one without the other)."""
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    created = conn.execute(insert_(score_progress).values(name=CONSUMER, last_notice_id=0, updated_at=0)
                           .on_conflict_do_nothing(index_elements=["name"])
                           .returning(score_progress.c.name)).first()  # (rowcount is -1 on psycopg)
    if created is not None:
        conn.execute(insert_(score_progress).values(name=PAST, last_notice_id=0, updated_at=0)
                     .on_conflict_do_nothing(index_elements=["name"]))
    stmt = select(score_progress.c.last_notice_id).where(score_progress.c.name == CONSUMER)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).scalar_one()


def _statutory_days(conn: Connection) -> dict[str, int]:
    return {code: C.clamp_statutory_days(days)
            for code, days in conn.execute(select(procedures.c.code, procedures.c.statutory_days))}


def _changed_dossiers(conn: Connection, partitions: dict[tuple[str, int], set[str]]) -> Iterator[C.DossierRow]:
    """The dossiers of each (unit, received month) partition stored by one of its batches. One query
    per chunk of units (their months and batches; the index leads with unit, month, batch), not one
    per partition: a national batch touches a thousand units, so per-partition queries were a round
    trip per record. Rows of a chunk's other (unit, month, batch) combinations are dropped here."""
    for chunk, months in _unit_month_chunks(partitions):
        batches = sorted({b for u in chunk for m in months for b in partitions.get((u, m), ())})
        stmt = select(*DOSSIER_COLUMNS, dossiers.c.received_month, dossiers.c.batch_id).where(
            dossiers.c.unit_code.in_(chunk), dossiers.c.received_month.in_(months), dossiers.c.batch_id.in_(batches))
        for row in conn.execute(stmt):
            if row[-1] in partitions.get((row[2], row[-2]), ()):
                yield C.DossierRow(*row[:-2])


def _dossiers_of_changed_procedures(conn: Connection, batch_ids: set[str]) -> list[C.DossierRow]:
    """Dossiers without a due time of procedures changed in these batches (portal/2025 judges them
    by the procedure's statutory limit). A rare catalogue event, so a scan is fine."""
    codes = [r[0] for r in conn.execute(select(procedures.c.code).where(procedures.c.batch_id.in_(sorted(batch_ids))))]
    if not codes:
        return []
    stmt = select(*DOSSIER_COLUMNS).where(dossiers.c.procedure_code.in_(codes), dossiers.c.due_at.is_(None))
    return [C.DossierRow(*r) for r in conn.execute(stmt)]


def _states(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], C.Contribution]:
    out: dict[tuple[str, str], C.Contribution] = {}
    cols = [score_dossiers.c.code, score_dossiers.c.source_id, *(score_dossiers.c[n] for n in _STATE_COLUMNS)]
    wanted = set(keys)
    codes = sorted({k[0] for k in keys})
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start : start + _CHUNK]
        for row in conn.execute(select(*cols).where(score_dossiers.c.code.in_(chunk))):
            key = (row[0], row[1])
            if key in wanted:
                out[key] = C.Contribution(*row[2:])
    return out


def _apply_delta(conn: Connection, delta: Delta) -> None:
    _add_counts(conn, score_cells, _UNIT_KEY, C.UNIT_COUNTERS, delta.unit)
    _add_counts(conn, score_proc_cells, _PROC_KEY, C.PROC_COUNTERS, delta.proc)
    _add_counts(conn, score_durations, _DUR_KEY, ("count", "seconds"), delta.dur)


def _add_counts(conn: Connection, table: Table, key: tuple[str, ...], names: Sequence[str], values: dict) -> None:
    rows = [dict(zip(key, k, strict=True)) | dict(zip(names, v, strict=True)) for k, v in values.items() if any(v)]
    if not rows:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={n: table.c[n] + stmt.excluded[n] for n in names})
    conn.execute(stmt, rows)
    first = names[0]
    emptied = [dict(zip(key, k, strict=True)) for k, v in values.items() if v[0] < 0]
    if emptied:
        where = and_(*(table.c[c] == bindparam(c) for c in key), table.c[first] == 0)
        conn.execute(delete(table).where(where), emptied)


def _upsert(conn: Connection, table: Table, rows: list[dict], key: tuple[str, ...], cols: Sequence[str]) -> None:
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in cols})
    for start in range(0, len(rows), 5000):
        conn.execute(stmt, rows[start : start + 5000])


_DOSSIER_SELECT = (
    f"SELECT {', '.join(C.DossierRow._fields)} FROM {dossiers.name} ORDER BY unit_code, received_month"
)


def _stream_dossiers(conn: Connection) -> Iterator[tuple]:
    """Every stored dossier's scoring columns, straight from the driver, in (unit, month) order."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cur = raw.cursor(name="chiso_rebuild")
        cur.itersize = 20_000
    else:
        cur = raw.cursor()
    try:
        cur.execute(_DOSSIER_SELECT)
        while rows := cur.fetchmany(20_000):
            yield from rows
    finally:
        cur.close()


class _BulkWriter:
    """Bulk inserts through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[str, tuple[tuple[str, ...], list[tuple]]] = {}
        self.states: list[tuple] = []
        self.written = 0

    def cells(self, unit_cells: dict, proc_cells: dict, durations: dict) -> None:
        for table, key, names, values in (
            (score_cells, _UNIT_KEY, C.UNIT_COUNTERS, unit_cells),
            (score_proc_cells, _PROC_KEY, C.PROC_COUNTERS, proc_cells),
            (score_durations, _DUR_KEY, ("count", "seconds"), durations),
        ):
            if not values:
                continue
            cols, rows = self.pending.setdefault(table.name, ((*key, *names), []))
            rows.extend((*k, *v) for k, v in values.items())
            values.clear()
            if len(rows) >= 50_000:
                self._write(table.name, cols, rows)

    def flush_states(self) -> None:
        self._write(score_dossiers.name, ("code", "source_id", *_STATE_COLUMNS), self.states, count=False)

    def flush(self) -> None:
        for name, (cols, rows) in self.pending.items():
            self._write(name, cols, rows)
        self.flush_states()

    def _write(self, name: str, cols: tuple[str, ...], rows: list[tuple], count: bool = True) -> None:
        if not rows:
            return
        quoted = ", ".join(f'"{c}"' for c in cols)
        if self.conn.dialect.name == "postgresql":
            with self.conn.connection.driver_connection.cursor() as cur, cur.copy(
                f"COPY {name} ({quoted}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(cols))
            self.conn.connection.driver_connection.executemany(
                f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows
            )
        if count:
            self.written += len(rows)
        rows.clear()


def _month_now(now_us: int) -> int:
    return C.month_of(now_us)


def _months_between(first: int, last: int) -> Iterator[int]:
    m = first
    while m <= last:
        yield m
        m = C.next_month(m)


def _changed_months(notices: Sequence, moved: Iterable[tuple], first_month: int,
                    now_month: int) -> set[tuple[str, int]]:
    """(unit, month) whose scorecards changed: every month a moved dossier counted in (from
    ``first_month`` to now), the months of other records' notices, and the current month for
    catalogue changes."""
    out: set[tuple[str, int]] = set()
    for unit, first, last in moved:
        for m in _months_between(max(first, first_month), min(last, now_month)):
            out.add((unit, m))
    for n in notices:
        if n.kind == DOSSIER:
            continue
        if n.month_from == CATALOGUE_FROM:
            out.add((n.unit_code, now_month))
            continue
        for m in _months_between(max(n.month_from, first_month), min(n.month_to, now_month)):
            out.add((n.unit_code, m))
    return out


# --- reads for scorecards -------------------------------------------------------------------------


UnitInfo = UnitRecord  # a unit as stored (services.shared.records)


def _fingerprint(conn: Connection, table: Table) -> tuple:
    """Changes with every row stored: a new row adds to the count, and an update is stored only with
    a newer source time, so the sum of source times grows (summed as whole milliseconds and the
    microseconds left over, each well inside 64 bits, which SQLite's sum needs). The newest source
    time alone would miss an update older than another row's."""
    st = table.c.source_time
    ms = st // 1000  # whole milliseconds (integer division on both databases)
    return tuple(int(v or 0) for v in conn.execute(select(func.count(), func.sum(ms), func.sum(st % 1000))).one())


def units_fingerprint(conn: Connection) -> tuple:
    return _fingerprint(conn, units)


def procedures_fingerprint(conn: Connection) -> tuple:
    return _fingerprint(conn, procedures)


def offers_fingerprint(conn: Connection) -> tuple:
    return _fingerprint(conn, unit_procedures)


def _columns(table: Table, record: type) -> list:
    """The columns of ``table`` a record type's fields are stored in, by name."""
    return [table.c[name] for name in record._fields]


def load_units(conn: Connection) -> dict[str, UnitRecord]:
    return {r[0]: UnitRecord(*r) for r in conn.execute(select(*_columns(units, UnitRecord)))}


def load_procedures(conn: Connection) -> dict[str, tuple[str, ProcedureRecord]]:
    """code → (name, the procedure with its statutory limit read into scoring's range)."""
    out = {}
    for r in conn.execute(select(*_columns(procedures, ProcedureRecord))):
        p = ProcedureRecord(*r)
        out[p.code] = (p.name, p._replace(statutory_days=C.clamp_statutory_days(p.statutory_days)))
    return out


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unit_month_chunks(partitions: Iterable[tuple[str, int]]) -> Iterator[tuple[Sequence[str], list[int]]]:
    """(units, every month any of them is asked for) per chunk of the (unit, month) partitions' units:
    one query per chunk instead of one per partition; the caller drops the rows of combinations that
    were not asked for."""
    by_unit: dict[str, set[int]] = defaultdict(set)
    for unit, month in partitions:
        by_unit[unit].add(month)
    for chunk in _chunks(sorted(by_unit)):
        yield chunk, sorted({m for u in chunk for m in by_unit[u]})


def unit_cells(conn: Connection, unit_codes: Sequence[str], m1: int, m2: int) -> Iterator[tuple]:
    t = score_cells
    cols = [t.c[n] for n in (*_UNIT_KEY, *C.UNIT_COUNTERS)]
    for chunk in _chunks(unit_codes):
        yield from conn.execute(select(*cols).where(t.c.unit_code.in_(chunk), t.c.rm <= m2, t.c.em >= m1))


def proc_cells(conn: Connection, unit_codes: Sequence[str], m1: int, m2: int) -> Iterator[tuple]:
    t = score_proc_cells
    cols = [t.c[n] for n in (*_PROC_KEY, *C.PROC_COUNTERS)]
    for chunk in _chunks(unit_codes):
        yield from conn.execute(select(*cols).where(t.c.unit_code.in_(chunk), t.c.rm <= m2, t.c.em >= m1))


def duration_cells(conn: Connection, unit_codes: Sequence[str], m1: int, m2: int) -> Iterator[tuple]:
    """(unit, procedure, days, count, seconds) of dossiers that ended in ``[m1, m2]``, summed over
    the end months by the database."""
    t = score_durations
    cols = [t.c.unit_code, t.c.procedure_code, t.c.days, func.sum(t.c["count"]), func.sum(t.c.seconds)]
    for chunk in _chunks(unit_codes):
        stmt = (
            select(*cols)
            .where(t.c.unit_code.in_(chunk), t.c.em >= m1, t.c.em <= m2)
            .group_by(t.c.unit_code, t.c.procedure_code, t.c.days)
        )
        yield from conn.execute(stmt)


def duration_sums(conn: Connection, unit_codes: Sequence[str], m1: int, m2: int) -> Iterator[tuple]:
    """(procedure, days, count, seconds) over all of ``unit_codes`` (one scope), summed by the database."""
    t = score_durations
    cols = [t.c.procedure_code, t.c.days, func.sum(t.c["count"]), func.sum(t.c.seconds)]
    totals: dict[tuple[str, int], list[int]] = {}
    for chunk in _chunks(unit_codes):
        stmt = (
            select(*cols)
            .where(t.c.unit_code.in_(chunk), t.c.em >= m1, t.c.em <= m2)
            .group_by(t.c.procedure_code, t.c.days)
        )
        for proc, days, count, seconds in conn.execute(stmt):
            got = totals.setdefault((proc, days), [0, 0])
            got[0] += int(count)
            got[1] += int(seconds)
    for (proc, days), (count, seconds) in totals.items():
        yield proc, days, count, seconds


def partition_rows(
    conn: Connection, partitions: Iterable[tuple[str, int]], *, open_only: bool, due_from: int, due_to: int
) -> Iterator[C.DossierRow]:
    """Stored dossiers of (unit, received month) partitions; ``open_only`` keeps the unfinished ones
    due in ``[due_from, due_to)`` or without a due time (the only ones a live moment can't place).
    One query per chunk of units, not per partition."""
    wanted = set(partitions)
    stored = dossiers.c.received_month
    for chunk, months in _unit_month_chunks(wanted):
        month_in = stored.in_(months)
        # a received month outside scoring's range is placed at its bound (cells.clamp_month)
        if months[0] <= C.MIN_MONTH:
            month_in = or_(month_in, stored < C.MIN_MONTH)
        if months[-1] >= C.MAX_MONTH:
            month_in = or_(month_in, stored > C.MAX_MONTH)
        where = [dossiers.c.unit_code.in_(chunk), month_in]
        if open_only:
            where.append(dossiers.c.end_at.is_(None))
            where.append(
                dossiers.c.due_at.is_(None) | and_(dossiers.c.due_at >= due_from, dossiers.c.due_at < due_to)
            )
        for row in conn.execute(select(*DOSSIER_COLUMNS, stored).where(*where)):
            if (row[2], C.clamp_month(row[-1])) in wanted:
                yield C.DossierRow(*row[:-1])


def all_offers(conn: Connection) -> list[UnitProcedureRecord]:
    return [UnitProcedureRecord(*r) for r in conn.execute(select(*_columns(unit_procedures, UnitProcedureRecord)))]


def publications_of(conn: Connection, unit_codes: Sequence[str]) -> list[PublicationRecord]:
    t = publications
    cols = _columns(t, PublicationRecord)
    out = []
    for chunk in _chunks(unit_codes):
        out.extend(PublicationRecord(*r) for r in conn.execute(select(*cols).where(t.c.unit_code.in_(chunk))))
    return out


def petitions_of(conn: Connection, unit_codes: Sequence[str], m1: int, m2: int, start_us: int) -> list[StoredPetition]:
    """Petitions that can count in a window starting at ``start_us``: received in it, due or ended
    in it, or still open."""
    t = petitions
    cols = _columns(t, StoredPetition)
    relevant = (
        (t.c.received_month >= m1)
        | (t.c.due_at >= start_us)
        | (t.c.published_at >= start_us)
        | (t.c.refused_at >= start_us)
        | (t.c.published_at.is_(None) & t.c.refused_at.is_(None))
    )
    out = []
    for chunk in _chunks(unit_codes):
        stmt = select(*cols).where(t.c.unit_code.in_(chunk), t.c.received_month <= m2, relevant)
        out.extend(StoredPetition(*r) for r in conn.execute(stmt))
    return out


def reported_of(conn: Connection, unit_codes: Sequence[str], m1: int, m2: int) -> dict[str, int]:
    """unit → reported total over the window's months (units without any report are absent)."""
    t = reported_totals
    month = t.c.year * 100 + t.c.month
    out: dict[str, int] = {}
    for chunk in _chunks(unit_codes):
        stmt = (
            select(t.c.unit_code, func.sum(t.c.dossiers_received))
            .where(t.c.unit_code.in_(chunk), month >= m1, month <= m2)
            .group_by(t.c.unit_code)
        )
        out.update({u: int(s) for u, s in conn.execute(stmt)})
    return out


def dossier_rows_of(conn: Connection, unit_codes: Sequence[str], m2: int, extra=None) -> Iterator[C.DossierRow]:
    """Every stored dossier of the units received up to ``m2`` (explanations)."""
    for chunk in _chunks(unit_codes):
        stmt = select(*DOSSIER_COLUMNS).where(dossiers.c.unit_code.in_(chunk), dossiers.c.received_month <= m2)
        if extra is not None:
            stmt = stmt.where(extra)
        for row in conn.execute(stmt):
            yield C.DossierRow(*row)


# --- grouped reads: the database sums the cells a moment treats alike ----------------------------------


def _window_terms(t: Table, w: C.Window):
    """SQL for :func:`services.scoring.domain.cells.resolve` over ``t``'s month columns, with the
    window's months inlined as constants (they are ints computed here, never caller text)."""
    lit = lambda v: literal_column(str(int(v)))  # noqa: E731
    mid, done, last = w.mid, w.done, w.last
    finished = t.c.em <= lit(done)
    if mid and w.live:
        finished = or_(finished, t.c.em == lit(mid))
    ambiguous = []
    if mid and not w.live:
        months = [t.c.rm, t.c.em] + ([t.c.sm] if "sm" in t.c else [])
        ambiguous.append(or_(*(m == lit(mid) for m in months)))
    if mid and C.DEADLINE_KEYS[0] in t.c:
        unsure = [
            and_((c // lit(100)) == lit(mid), or_((c % lit(100)) == lit(0), (c % lit(100)) == lit(w.e_day)))
            for c in (t.c[key] for key in C.DEADLINE_KEYS)
        ]
        ambiguous.append(and_(not_(finished), or_(*unsure)))
    included = and_(t.c.rm <= lit(last), t.c.em >= lit(w.m1))
    return lit, finished, (or_(*ambiguous) if ambiguous else None), included


def _late_by_key(c, w: C.Window, lit):
    """SQL of :func:`services.scoring.domain.cells._late_by_key` (the unsure cells are excluded)."""
    late = (c // lit(100)) <= lit(w.done)
    if w.mid:
        day = c % lit(100)
        late = or_(late, and_((c // lit(100)) == lit(w.mid), day != lit(0), day < lit(w.e_day)))
    return late


def grouped_unit_cells(conn: Connection, unit_codes: Sequence[str], w: C.Window) -> Iterator[tuple]:
    """(unit, finished, started, *late per policy, *UNIT_COUNTERS sums) over the unambiguous cells."""
    t = score_cells
    lit, finished, ambiguous, included = _window_terms(t, w)
    one, zero = lit(1), lit(0)
    fin = case((finished, one), else_=zero)
    late = [case((and_(not_(finished), _late_by_key(t.c[key], w, lit)), one), else_=zero) for key in C.DEADLINE_KEYS]
    st = case((and_(t.c.sm >= lit(w.m1), t.c.sm <= lit(w.last)), one), else_=zero)
    sums = [func.sum(t.c[n]) for n in C.UNIT_COUNTERS]
    for chunk in _chunks(unit_codes):
        stmt = (
            select(t.c.unit_code, fin, st, *late, *sums)
            .where(t.c.unit_code.in_(chunk), included, *([] if ambiguous is None else [not_(ambiguous)]))
            .group_by(text(", ".join(str(i) for i in range(1, 4 + len(late)))))
        )
        yield from conn.execute(stmt)


def ambiguous_unit_cells(conn: Connection, unit_codes: Sequence[str], w: C.Window) -> list[tuple]:
    """Keys of the cells a moment inside a month cannot place (resolved from rows)."""
    t = score_cells
    _, _, ambiguous, included = _window_terms(t, w)
    if ambiguous is None:
        return []
    out = []
    for chunk in _chunks(unit_codes):
        stmt = select(*(t.c[n] for n in _UNIT_KEY)).where(t.c.unit_code.in_(chunk), included, ambiguous)
        out.extend(tuple(r) for r in conn.execute(stmt))
    return out


def grouped_proc_cells(conn: Connection, unit_codes: Sequence[str], w: C.Window) -> Iterator[tuple]:
    """(unit, procedure, *PROC_COUNTERS sums) over the window's unambiguous procedure cells."""
    t = score_proc_cells
    _, _, ambiguous, included = _window_terms(t, w)
    sums = [func.sum(t.c[n]) for n in C.PROC_COUNTERS]
    for chunk in _chunks(unit_codes):
        stmt = (
            select(t.c.unit_code, t.c.procedure_code, *sums)
            .where(t.c.unit_code.in_(chunk), included, *([] if ambiguous is None else [not_(ambiguous)]))
            .group_by(t.c.unit_code, t.c.procedure_code)
        )
        yield from conn.execute(stmt)


def ambiguous_proc_cells(conn: Connection, unit_codes: Sequence[str], w: C.Window) -> list[tuple]:
    t = score_proc_cells
    _, _, ambiguous, included = _window_terms(t, w)
    if ambiguous is None:
        return []
    out = []
    for chunk in _chunks(unit_codes):
        stmt = select(*(t.c[n] for n in _PROC_KEY)).where(t.c.unit_code.in_(chunk), included, ambiguous)
        out.extend(tuple(r) for r in conn.execute(stmt))
    return out
