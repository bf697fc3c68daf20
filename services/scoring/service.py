"""Scoring's use cases over stored data: scorecards, rankings, explanations, the change feed.

Transport-free: takes and returns domain objects. Reads go through :mod:`services.scoring.storage`.

Decided where the spec is silent:

* **Scope** defaults to the unit alone, as the contract says (``chiso.types.v1.Scope``: one default
  in every service); a province with its departments and communes is asked for as the subtree.
* **No data**: a scorecard whose scope has no dated record in the period (:mod:`domain.coverage`)
  says so (``no_data``); rankings rank only units with data and list the others apart.
* **Periods not begun** (by now, or by the ``as_of`` asked for) have no scorecard: INVALID_ARGUMENT,
  reason PERIOD_NOT_STARTED. An ``as_of`` after the period's end is capped to the end; the
  scorecard's ``as_of`` is the moment used (the transport echoes the one asked for beside it).
* **Mergers**: a unit merged into another on a date rolls up into its successor — alone and in
  subtrees — for every period ending after that date; for periods ending before it, it stays
  under its own parent (the hierarchy valid at the period's end, SPEC §3).
* **As of**: the running period is scored as of now; a past period as of its end; an ``as_of``
  inside a period re-judges today's records at that moment (records received after it don't count,
  those ending after it are judged unfinished).
* Petitions are read per scope and window from their rows (about 1/100 of the dossiers); dossiers
  only through the cells, plus the few rows a moment inside a month cannot place.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

import structlog
from prometheus_client import Counter

from services.scoring import storage as S
from services.scoring.domain import cells as C
from services.scoring.domain import measures as M
from services.scoring.domain.coverage import has_records
from services.scoring.domain.engine import Scorecard, counts_from_measures, prev_year_counts, rank, score
from services.scoring.domain.measures import ScopeData, measure_values, petition_categories
from services.scoring.domain.moments import time_rules
from services.scoring.domain.periods import HANOI, MIN_YEAR, Period, PeriodError, evaluation_moment
from services.scoring.domain.rules import RuleBook, RuleTable, UnknownRuleVersion
from services.shared.access import Identity, covers
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.shared.records import walk_up

SELF, SUBTREE = "unit", "subtree"

log = structlog.get_logger("chiso.scoring")
FEED_SKIPPED = Counter("chiso_scoring_feed_entries_skipped_total",
                       "Change feed entries left out because no scorecard can come from them (bad month)")


@dataclass(frozen=True)
class DurationStat:
    procedure_code: str
    procedure_name: str
    dossiers: int
    mean_days: Fraction
    p50_days: int
    p90_days: int


@dataclass(frozen=True)
class UnitScorecard:
    unit: S.UnitInfo
    scope: str
    scorecard: Scorecard
    provisional: bool
    processing_times: tuple[DurationStat, ...] = ()
    petition_categories: Mapping[int, int] = field(default_factory=dict)
    measures: Mapping[str, int] = field(default_factory=dict)
    no_data: bool = False  # no dated record of the period counts (domain.coverage)


@dataclass(frozen=True)
class RankingResult:
    period: Period
    unit_kind: int
    parent_code: str
    version: str
    as_of: datetime
    entries: tuple[tuple[int, UnitScorecard], ...]  # units with data, ranked
    scope: str = "unit"
    without_data: tuple[UnitScorecard, ...] = ()  # units without data for the period, by code, unranked


class Hierarchy:
    """Units and their parents as of a date (mergers included); cached, reloaded every few seconds."""

    def __init__(self, units: dict[str, S.UnitInfo]):
        self.units = units
        self._children: dict[date, dict[str, list[str]]] = {}

    def parent_on(self, u: S.UnitInfo, day: date) -> str | None:
        if u.merged_into_code and u.merged_on is not None and u.merged_on <= day:
            return u.merged_into_code
        return u.parent_code

    def children_on(self, day: date) -> dict[str, list[str]]:
        if day not in self._children:
            children: dict[str, list[str]] = defaultdict(list)
            for u in self.units.values():
                if u.valid_from is not None and u.valid_from > day:
                    continue
                parent = self.parent_on(u, day)
                if parent:
                    children[parent].append(u.code)
            self._children[day] = children
        return self._children[day]

    def members(self, root: str, scope: str, day: date) -> list[str]:
        """The units whose records count for ``root``'s scorecard of a period ending on ``day``."""
        children = self.children_on(day)
        out, stack, seen = [root], [root], {root}
        while stack:
            code = stack.pop()
            for child in children.get(code, ()):
                if child in seen:  # a cycle of parents in the stored units: each unit counts once
                    continue
                u = self.units[child]
                merged_here = u.merged_into_code == code and u.merged_on is not None and u.merged_on <= day
                if scope == SUBTREE or merged_here:
                    seen.add(child)
                    out.append(child)
                    stack.append(child)
        return out

    def active_on(self, u: S.UnitInfo, first: date, last: date) -> bool:
        if u.valid_from is not None and u.valid_from > last:
            return False
        if u.merged_on is not None and u.merged_on <= last:
            return False
        return u.valid_to is None or u.valid_to >= first

    def ancestors(self, code: str, day: date) -> list[str]:
        """The units above ``code`` on ``day``, nearest first (mergers included, cycles cut)."""
        units = self.units

        def parent_of(unit: str) -> str | None:
            u = units.get(unit)
            return self.parent_on(u, day) if u is not None else None

        return walk_up(code, parent_of)[1:]


class Scoring:
    def __init__(
        self,
        db: Database,
        book: RuleBook,
        now: Callable[[], datetime] = lambda: datetime.now(HANOI),
        cache_seconds: float = 0.5,
        retry_base_seconds: float = 1.0,
        retry_max_seconds: float = 600.0,
    ) -> None:
        self.db = db
        self.book = book
        self.now = now
        self.cache_seconds = cache_seconds
        first = min(t.effective_from for t in book.versions())
        self.aggregates = S.Aggregates(db, first_month=first.year * 100 + first.month,
                                       retry_base_seconds=retry_base_seconds, retry_max_seconds=retry_max_seconds,
                                       time_rules=time_rules(book.versions()))
        self._lock = threading.Lock()
        self._cached: tuple[Hierarchy, dict] | None = None
        self._offers_cached: dict[str, list] | None = None
        # per cache: (when checked, tables' fingerprint, catalogue stamp it was loaded at)
        self._fingerprints: dict[str, tuple[float, tuple | None, int]] = {}

    # --- catalogue cache --------------------------------------------------------------------
    #
    # A scorecard is never built from a catalogue older than the records it counts. Scoring's
    # consumer applies ingest's notices in commit order and moves the catalogue stamp
    # (``Aggregates.catalogue_stamp``) past every catalogue notice it applies, in the transaction
    # that applies it; a cache loaded below the current stamp is reloaded before it is used, whatever
    # ``cache_seconds`` says, and a scorecard computed while the stamp moved is computed again
    # (``_settled``). So records the consumer applied after a catalogue change (offers, then the
    # dossiers of those procedures) are always counted against that change. Without it, a cache
    # checked less than ``cache_seconds`` ago served the old offers, publish recorded that scorecard,
    # and the catalogue's own notice (which names only the running month) never had it read again.

    def _catalogue(self) -> tuple[Hierarchy, dict]:
        """Units and procedures, reloaded when their tables' fingerprint changed — checked when the
        catalogue stamp moved, or at most every ``cache_seconds``."""
        with self._lock:
            def load(conn):
                self._cached = (Hierarchy(S.load_units(conn)), S.load_procedures(conn))

            self._refresh("catalogue", (S.units_fingerprint, S.procedures_fingerprint), load)
            return self._cached

    def _offers(self) -> dict[str, list]:
        """Every unit's offers (unit_procedures), cached like the units (a catalogue)."""
        with self._lock:
            def load(conn):
                by_unit: dict[str, list] = defaultdict(list)
                for offer in S.all_offers(conn):
                    by_unit[offer.unit_code].append(offer)
                self._offers_cached = by_unit

            self._refresh("offers", (S.offers_fingerprint,), load)
            return self._offers_cached

    def _refresh(self, name: str, fingerprints, load) -> None:
        """Call ``load(conn)`` if the tables' fingerprint changed since the last load — checked at
        once when the catalogue stamp moved past the one the cache was loaded at (one indexed read),
        otherwise at most every ``cache_seconds``; stamp, fingerprint and load in one snapshot. The
        fingerprint is recorded only once the load succeeded: a reload that fails is tried again by
        the next call instead of the old catalogue being served as current. Called under ``_lock``."""
        checked, seen, stamp = self._fingerprints.get(name, (-1e18, None, -1))
        if seen is not None and time.monotonic() - checked < self.cache_seconds and self._stamp() <= stamp:
            return
        with self.db.read() as conn:
            stamp = S.catalogue_stamp(conn)
            now = tuple(f(conn) for f in fingerprints)
            if now != seen:
                load(conn)
        self._fingerprints[name] = (time.monotonic(), now, stamp)

    def _stamp(self) -> int:
        with self.db.read() as conn:
            return S.catalogue_stamp(conn)

    def _settled(self, compute: Callable[[], Any]) -> Any:
        """``compute()`` — again (at most twice more) if the consumer applied a catalogue change while
        it ran: its cells could then count records applied after the catalogue it used."""
        for _ in range(3):
            before = self._stamp()
            result = compute()
            if self._stamp() == before:
                break
        return result

    def catalogue_with(self, codes: Sequence[str], require: bool = True) -> tuple[Hierarchy, dict]:
        """The catalogue (hierarchy, procedures), holding every unit of ``codes`` if it exists: a unit
        missing from the cached one may have been created since the last check, so the fingerprints
        are checked again at once (a new unit changes them) before NOT_FOUND — or, without
        ``require``, before answering with the catalogue as it is. Callers work with the catalogue
        returned here (one snapshot) and never mix it with another."""
        hierarchy, procs = self._catalogue()
        missing = [c for c in codes if c not in hierarchy.units]
        if missing:
            with self._lock:  # check now, not after cache_seconds; the offers too (a new unit's offers)
                for name in ("catalogue", "offers"):
                    if name in self._fingerprints:
                        self._fingerprints[name] = (-1e18, *self._fingerprints[name][1:])
            hierarchy, procs = self._catalogue()
            missing = [c for c in missing if c not in hierarchy.units]
        if missing and require:
            code = missing[0]
            raise NotFound(f"no unit {code!r}", reason="UNKNOWN_UNIT", metadata={"unit_code": code[:64]})
        return hierarchy, procs

    def changed_keys(self, after: int, limit: int) -> tuple[list[tuple[int, int, Period, list[tuple[str, str]]]], int]:
        """Scoring's change feed after cursor ``after``: the entries (cursor, change time in µs, month,
        keys) where the keys are the scorecards the change touches — the unit alone, the unit's subtree
        and every ancestor's subtree, in the hierarchy valid at the month's end — and the cursor of the
        last entry read. An entry no scorecard can come from (a month outside the periods scoring
        knows, written before the feed was bounded) is left out, counted and logged, and the cursor
        still passes it: one bad entry never stops the feed for every reader."""
        rows = self.aggregates.changes(after, limit)
        hierarchy, _ = self.catalogue_with(sorted({unit for _, unit, _, _ in rows}), require=False)
        out = []
        for change_id, unit, month, created in rows:
            try:
                period = Period.month(month // 100, month % 100)
                day = (period.end - timedelta(days=1)).date()
                keys = [(unit, SELF)] + [(a, SUBTREE) for a in [unit, *hierarchy.ancestors(unit, day)]]
            except (PeriodError, ValueError, OverflowError) as exc:
                FEED_SKIPPED.inc()
                log.warning("change feed entry skipped", change_id=change_id, unit_code=unit[:64], month=month,
                            error=str(exc)[:200])
                continue
            out.append((change_id, created, period, keys))
        return out, (rows[-1][0] if rows else after)

    def may_read_records(self, identity: Identity | None, unit_code: str, period: Period) -> bool:
        """Whether ``identity`` may see the records behind ``unit_code``'s scorecard for ``period``
        (dossier and petition codes, ratings): operators always; a source system or a unit's official
        whose grant covers the unit — the unit itself or one of its ancestors, in the hierarchy of the
        period's end (whose scorecards its records count in) or of today."""
        if identity is None:
            return False
        hierarchy, _ = self.catalogue_with((unit_code,), require=False)
        last_day = (period.end - timedelta(days=1)).date()
        lineage = {unit_code, *hierarchy.ancestors(unit_code, last_day),
                   *hierarchy.ancestors(unit_code, self.now().date())}
        return covers(identity, lineage)

    def table(self, version: str, period: Period) -> RuleTable:
        """The rule version asked for, or the one in force for ``period``. A period no version is in
        force for (before 2022-08-01, when 766/2022 took effect) has no scorecard: FAILED_PRECONDITION,
        reason NO_RULE_VERSION, with the period (a client's answer, not a fault of scoring's)."""
        if version:
            return self.book.get(version)
        try:
            return self.book.for_period(period)
        except UnknownRuleVersion:
            first = min(t.effective_from for t in self.book.versions())
            raise FailedPrecondition(
                f"no rule version is in force for {period} (the first takes effect on {first.isoformat()}); "
                "name one in rule_version to score it anyway",
                reason="NO_RULE_VERSION", metadata={"period": str(period)}) from None

    # --- scorecards -------------------------------------------------------------------------

    def require_started(self, period: Period, as_of: datetime | None = None) -> None:
        """A period that has not begun — by now, or by the ``as_of`` asked for — has no scorecard:
        INVALID_ARGUMENT, reason PERIOD_NOT_STARTED (a 2030 month is not "provisional")."""
        if period.start > self.now():
            raise InvalidArgument(
                f"period {period} has not started (it starts on {period.first_day.strftime('%d/%m/%Y')})",
                reason="PERIOD_NOT_STARTED", violations=[FieldViolation("period", "has not started")],
                metadata={"period": str(period)})
        if as_of is not None and as_of < period.start:
            raise InvalidArgument(
                f"period {period} had not started at as_of {as_of.isoformat()}", reason="PERIOD_NOT_STARTED",
                violations=[FieldViolation("as_of", "before the period's start")], metadata={"period": str(period)})

    def scorecard(
        self, unit_code: str, period: Period, scope: str = SELF, as_of: datetime | None = None, version: str = ""
    ) -> UnitScorecard:
        return self.scorecards([unit_code], period, scope, as_of, version)[0]

    def scorecards(
        self,
        unit_codes: Sequence[str],
        period: Period,
        scope: str = SELF,
        as_of: datetime | None = None,
        version: str = "",
        analysis: bool = True,
        catalogue: tuple[Hierarchy, dict] | None = None,
    ) -> list[UnitScorecard]:
        """Scorecards of several units for one period; ``analysis`` adds 2.2's processing times;
        ``catalogue``: the caller's snapshot of it (holding every unit of ``unit_codes``; the caller
        then sees to ``_settled``)."""
        self.require_started(period, as_of)
        if catalogue is None:
            return self._settled(lambda: self.scorecards(unit_codes, period, scope, as_of, version, analysis,
                                                         self.catalogue_with(unit_codes)))
        hierarchy, procs = catalogue
        table = self.table(version, period)
        now = self.now()
        moment = evaluation_moment(period, as_of or now)
        w = _window(period, moment, now)
        last_day = (period.end - timedelta(days=1)).date()
        scopes = {code: hierarchy.members(code, scope, last_day) for code in dict.fromkeys(unit_codes)}
        data = self._read(scopes, w, hierarchy, procs, with_details=True, durations=analysis)
        cards = {}
        for code, d in data.items():
            cards[code] = self._score(table, period, moment, now, hierarchy, procs, scopes[code], d, w, scope)
        return [cards[c] for c in unit_codes]

    def batch(
        self, keys: Sequence[tuple[str, Period, str]], as_of: datetime | None = None, version: str = ""
    ) -> list[UnitScorecard]:
        """Scorecards for (unit, period, scope) keys, in their order: read and scored per period and
        scope; where a unit's subtree holds the same units as the unit itself (a commune, any unit
        without subordinates) and both are asked for, it is computed once and given under both scopes."""
        return self._settled(lambda: self._batch(keys, as_of, version))

    def _batch(self, keys: Sequence[tuple[str, Period, str]], as_of: datetime | None, version: str
               ) -> list[UnitScorecard]:
        groups: dict[tuple[Period, str], list[str]] = {}
        for code, period, scope in keys:
            groups.setdefault((period, scope), []).append(code)
        catalogue = self.catalogue_with(list(dict.fromkeys(code for code, _, _ in keys)))
        hierarchy = catalogue[0]
        done: dict[tuple[str, Period, str], UnitScorecard] = {}
        for period, scope in sorted(groups, key=lambda g: g[1] != SELF):  # the unit scope first
            codes = list(dict.fromkeys(groups[(period, scope)]))
            if scope == SUBTREE:
                last_day = (period.end - timedelta(days=1)).date()
                todo = []
                for code in codes:
                    alone = done.get((code, period, SELF))
                    if alone is not None and (hierarchy.members(code, SUBTREE, last_day)
                                              == hierarchy.members(code, SELF, last_day)):
                        done[(code, period, SUBTREE)] = replace(alone, scope=SUBTREE)
                    else:
                        todo.append(code)
                codes = todo
            if codes:
                cards = self.scorecards(codes, period, scope, as_of, version, catalogue=catalogue)
                for code, card in zip(codes, cards, strict=True):
                    done[(code, period, scope)] = card
        return [done[key] for key in keys]

    def _score(self, table, period, moment, now, hierarchy, procs, members, d, w, scope) -> UnitScorecard:
        values = measure_values(table, d, w)
        prev = {}
        if not d.sums.get("n") and not d.reported and period.year > MIN_YEAR:
            prev = self._previous_year(table, period, hierarchy, procs, members)
        card = score(table, counts_from_measures(table, values), period, prev_year=prev, as_of=moment)
        return UnitScorecard(
            unit=hierarchy.units[members[0]],
            scope=scope,
            scorecard=card,
            provisional=moment < period.end,
            processing_times=tuple(_duration_stats(d.durations, procs)),
            petition_categories=petition_categories(d, w),
            measures=values,
            no_data=not has_records(d, w),
        )

    def _previous_year(self, table, period, hierarchy, procs, members) -> dict:
        year = Period.whole_year(period.year - 1)
        w = _window(year, year.end, year.end)
        d = self._read({members[0]: members}, w, hierarchy, procs, with_details=False)[members[0]]
        values = {"dossiers_synchronised": d.sums.get("n", 0)}
        if d.reported is not None:
            values["dossiers_reported"] = d.reported
        values = {k: v for k, v in values.items() if k in table.measures()}
        return prev_year_counts(table, values)

    def ranking(
        self,
        period: Period,
        unit_kind: int,
        parent_code: str = "",
        scope: str = SELF,
        as_of: datetime | None = None,
        version: str = "",
    ) -> RankingResult:
        """Units of ``unit_kind`` (beneath ``parent_code``) ranked for ``period``: those with data,
        ties sharing a rank; those without any record of the period apart, by code, unranked."""
        self.require_started(period, as_of)
        return self._settled(lambda: self._ranking(period, unit_kind, parent_code, scope, as_of, version))

    def _ranking(self, period: Period, unit_kind: int, parent_code: str, scope: str, as_of: datetime | None,
                 version: str) -> RankingResult:
        catalogue = self.catalogue_with((parent_code,) if parent_code else ())
        hierarchy = catalogue[0]
        first_day, last_day = period.first_day, (period.end - timedelta(days=1)).date()
        candidates = []
        for u in hierarchy.units.values():
            if u.kind != unit_kind or not hierarchy.active_on(u, first_day, last_day):
                continue
            if parent_code and parent_code not in hierarchy.ancestors(u.code, last_day):
                continue
            candidates.append(u.code)
        candidates.sort()
        cards = self.scorecards(candidates, period, scope, as_of, version, analysis=False,
                                catalogue=catalogue) if candidates else []
        table = self.table(version, period)
        ranked = rank((c.unit.code, c.scorecard.total_display) for c in cards if not c.no_data)
        by_code = {c.unit.code: c for c in cards}
        now = self.now()
        moment = evaluation_moment(period, as_of or now)
        entries = tuple((position, by_code[code]) for code, position in ranked)
        without = tuple(c for c in cards if c.no_data)
        return RankingResult(period, unit_kind, parent_code, table.id, moment, entries, scope, without)

    # --- reading ----------------------------------------------------------------------------

    #: read every cell and resolve it in Python (the reference the grouped SQL reads are tested against)
    reference_reads = False

    def _read_cells_one_by_one(self, conn, all_units, w, roots_of, out, amb_unit, amb_proc, partitions) -> None:
        mid, live = w.mid, w.live
        keys = len(C.DEADLINE_KEYS)
        for row in S.unit_cells(conn, all_units, w.m1, w.last):
            unit, rm, em, sm = row[:4]
            r = C.resolve(w, rm, em, sm, *row[4:4 + keys])
            if not r.included:
                continue
            if r.ambiguous:
                amb_unit.add(tuple(row[:4 + keys]))
                partitions.add((unit, rm))
                continue
            counts = dict(zip(C.UNIT_COUNTERS, row[4 + keys:], strict=True))
            part = C.unit_cell_sums(r, counts)
            for root in roots_of[unit]:
                C.add_into(out[root].sums, part)
                if counts["certified"]:
                    cb = out[root].certified_by_unit
                    cb[unit] = cb.get(unit, 0) + counts["certified"]
        for row in S.proc_cells(conn, all_units, w.m1, w.last):
            unit, proc, rm, em = row[:4]
            if mid and not live and mid in (rm, em):
                amb_proc.add(tuple(row[:4]))
                partitions.add((unit, rm))
                continue
            counts = dict(zip(C.PROC_COUNTERS, row[4:], strict=True))
            for root in roots_of[unit]:
                C.add_into(out[root].proc_sums.setdefault((unit, proc), {}), counts)

    def _read(
        self, scopes: dict[str, list[str]], w: C.Window, hierarchy, procs, with_details: bool, durations: bool = True
    ) -> dict:
        """ScopeData per root. Scopes may overlap (each unit's data is given to every root holding it)."""
        roots_of: dict[str, list[str]] = defaultdict(list)
        for root, members in scopes.items():
            for code in members:
                roots_of[code].append(root)
        all_units = sorted(roots_of)
        out = {
            root: ScopeData(
                unit_kind=hierarchy.units[root].kind,
                units={code: hierarchy.units[code].kind for code in members},
                procedures={code: info for code, (_, info) in procs.items()},
            )
            for root, members in scopes.items()
        }
        for d in out.values():
            d.durations = defaultdict(lambda: [0, 0, defaultdict(int)])  # 2.2: count, seconds, days histogram
        statutory = {code: info.statutory_days for code, (_, info) in procs.items()}
        keys = len(C.DEADLINE_KEYS)
        amb_unit: set[tuple] = set()
        amb_proc: set[tuple] = set()
        partitions: set[tuple[str, int]] = set()
        last = w.last
        offers = self._offers() if with_details else {}  # before the read: never wait for the lock holding a connection
        with self.db.read() as conn:
            if self.reference_reads:
                self._read_cells_one_by_one(conn, all_units, w, roots_of, out, amb_unit, amb_proc, partitions)
            else:
                for row in S.grouped_unit_cells(conn, all_units, w):
                    unit, fin, started = row[:3]
                    late = tuple(bool(v) for v in row[3:3 + keys])
                    r = C.Resolved(True, False, bool(fin), late, bool(started))
                    counts = dict(zip(C.UNIT_COUNTERS, (int(v) for v in row[3 + keys:]), strict=True))
                    part = C.unit_cell_sums(r, counts)
                    for root in roots_of[unit]:
                        C.add_into(out[root].sums, part)
                        if counts["certified"]:
                            cb = out[root].certified_by_unit
                            cb[unit] = cb.get(unit, 0) + counts["certified"]
                names = C.PROC_COUNTERS
                for row in S.grouped_proc_cells(conn, all_units, w):
                    key = (row[0], row[1])
                    for root in roots_of[row[0]]:
                        sums = out[root].proc_sums
                        if key in sums:  # a unit in a scope only once, so this is rare
                            C.add_into(sums[key], dict(zip(names, (int(v) for v in row[2:]), strict=True)))
                        else:
                            sums[key] = dict(zip(names, (int(v) for v in row[2:]), strict=True))
                for key in S.ambiguous_unit_cells(conn, all_units, w):
                    amb_unit.add(key)
                    partitions.add((key[0], key[1]))
                for key in S.ambiguous_proc_cells(conn, all_units, w):
                    amb_proc.add(key)
                    partitions.add((key[0], key[2]))
            if partitions:
                open_only = w.live
                day_start = C.day_start_us(w.e_us) if w.mid else 0
                due_from, due_to = day_start, day_start + C.DAY_US
                for d_row in S.partition_rows(conn, partitions, open_only=open_only, due_from=due_from, due_to=due_to):
                    stat = statutory.get(d_row.procedure_code, 0)
                    c = C.contribution(d_row, stat)
                    key_u = (c.unit_code, c.rm, c.em, c.sm, *(c[p.slot] for p in C.POLICIES))
                    key_p = (c.unit_code, c.procedure_code, c.rm, c.em)
                    if key_u in amb_unit:
                        part = C.row_contribution(d_row, stat, w)
                        if part:
                            for root in roots_of[c.unit_code]:
                                C.add_into(out[root].sums, part)
                                if part.get("certified"):
                                    cb = out[root].certified_by_unit
                                    cb[c.unit_code] = cb.get(c.unit_code, 0) + 1
                    if key_p in amb_proc and C.row_in_window(d_row, w):
                        counts = {n: 1 for n in C.PROC_COUNTERS if c.bits & C.BIT[n]}
                        for root in roots_of[c.unit_code]:
                            C.add_into(out[root].proc_sums.setdefault((c.unit_code, c.procedure_code), {}), counts)
            reported = S.reported_of(conn, all_units, w.m1, last)
            for unit, total in reported.items():
                for root in roots_of[unit]:
                    out[root].reported = (out[root].reported or 0) + total
            if with_details:
                for unit in all_units:
                    for offer in offers.get(unit, ()):
                        for root in roots_of[unit]:
                            out[root].offers.append(offer)
                for pub in S.publications_of(conn, all_units):
                    for root in roots_of[pub.unit_code]:
                        out[root].publications.append(pub)
                for pet in S.petitions_of(conn, all_units, w.m1, last, C.month_start_us(w.m1)):
                    for root in roots_of[pet.unit_code]:
                        out[root].petitions.append(pet)
                if durations and len(scopes) == 1:  # one scope: the database sums over its units
                    (root,) = scopes
                    for proc, days, count, seconds in S.duration_sums(conn, all_units, w.m1, last):
                        stat = out[root].durations[proc]
                        stat[0] += count
                        stat[1] += seconds
                        stat[2][days] += count
                elif durations:
                    for unit, proc, days, count, seconds in S.duration_cells(conn, all_units, w.m1, last):
                        for root in roots_of[unit]:
                            stat = out[root].durations[proc]
                            stat[0] += int(count)
                            stat[1] += int(seconds)
                            stat[2][days] += int(count)
        return out


def _window(period: Period, moment: datetime, now: datetime) -> C.Window:
    m1 = period.first_day.year * 100 + period.first_day.month
    last_day = (period.end - timedelta(days=1)).date()
    m2 = last_day.year * 100 + last_day.month
    return C.Window.of(m1, m2, C.to_us(moment), C.to_us(now))


def _duration_stats(durations: Mapping[str, list], procs: Mapping) -> list[DurationStat]:
    out = []
    for proc, (count, seconds, histogram) in sorted(durations.items()):
        if count <= 0:
            continue
        out.append(
            DurationStat(
                procedure_code=proc,
                procedure_name=procs.get(proc, (proc, None))[0],
                dossiers=count,
                mean_days=Fraction(seconds, 86400 * count),
                p50_days=_percentile(histogram, count, Fraction(1, 2)),
                p90_days=_percentile(histogram, count, Fraction(9, 10)),
            )
        )
    return out


def _percentile(histogram: Mapping[int, int], count: int, q: Fraction) -> int:
    """Nearest-rank percentile in whole days."""
    rank_needed = max(1, -(-q.numerator * count // q.denominator))
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank_needed:
            return days
    return max(histogram) if histogram else 0


def check_scope(value: str) -> str:
    if value not in (SELF, SUBTREE):
        raise InvalidArgument(f"unknown scope {value!r}", reason="BAD_SCOPE")
    return value


__all__ = ["Scoring", "UnitScorecard", "RankingResult", "check_scope", "FailedPrecondition"]


# --- explanations -----------------------------------------------------------------------------------


def explain(
    scoring: Scoring, unit_code: str, period: Period, scope: str, as_of: datetime | None, version: str, indicator: str
) -> M.Explanation:
    """The records that cost ``indicator`` points in ``unit_code``'s scorecard, each with its share of the
    points lost (services.scoring.domain.measures.explain: each measure explains itself)."""
    hierarchy, procs = scoring.catalogue_with((unit_code,))
    table = scoring.table(version, period)
    try:
        table.indicator(indicator)
    except KeyError:
        raise NotFound(
            f"rule version {table.id} has no indicator {indicator!r}",
            reason="UNKNOWN_INDICATOR",
            metadata={"indicator_id": indicator[:16]},
        ) from None
    card, d, records, w = explanation_data(scoring, unit_code, period, scope, as_of, table, hierarchy, procs)
    return M.explain(table, card.indicator(indicator), d, records, w)


def explanation_data(scoring: Scoring, unit_code: str, period: Period, scope: str, as_of: datetime | None,
                     table: RuleTable, hierarchy: Hierarchy, procs: dict):
    """What explaining any indicator of one scorecard reads: (scorecard, scope data, records, window)."""
    now = scoring.now()
    moment = evaluation_moment(period, as_of or now)
    w = _window(period, moment, now)
    last_day = (period.end - timedelta(days=1)).date()
    members = hierarchy.members(unit_code, scope, last_day)
    d = scoring._read({unit_code: members}, w, hierarchy, procs, with_details=True, durations=False)[unit_code]
    card = scoring._score(table, period, moment, now, hierarchy, procs, members, d, w, scope).scorecard
    statutory = {code: info.statutory_days for code, (_, info) in procs.items()}
    with scoring.db.read() as conn:
        rows = [row for row in S.dossier_rows_of(conn, members, w.m2) if C.row_in_window(row, w)]
        reported = S.reported_of(conn, members, w.m1, w.last)
    return card, d, M.RecordData(rows, statutory, reported), w
