"""Time passing: the due ticker (issue 17 item 1) — what changes a scorecard when no record arrives:
dossiers' deadlines, petitions' due times and stage limits, listings falling due.

**What depends on the moment.** A running period is scored as of *now* (``periods.evaluation_moment``);
an ended one as of its end, which no longer moves. Of a dossier's contribution only two things depend
on the evaluation moment ``E`` (``cells``): whether it had finished by ``E`` — a record ending it
arrives through ingest, so the consumer announces it — and, while unfinished, whether it is late:
``E > deadline``, at the exact instant (``cells.row_contribution``; the cells keep the Hanoi *day* of
the deadline, ``dm_due``/``dm_stat``, and a live moment on the deadline's own day resolves the
dossier from its row with exact instants). Both rule versions judge by one instant per dossier:

* ``766/2022`` (policy ``due_time``): its due time; without one it is never late while unfinished;
* ``portal/2025`` (policy ``statutory_limit``): its due time, or without one the procedure's
  statutory limit in working days from receipt (Hanoi working days, the applicant's supplement time
  added) — so when a due time exists both policies' instant is the same one;
* neither moves with time when the verdict is fixed: finished dossiers, dossiers late whatever the
  moment (``ALWAYS``: more than one supplement request, an unlawful pause) or judged at their one
  supplement request (``ALWAYS``/``NEVER``).

So a live scorecard changes, with no data, exactly when an unfinished dossier's deadline instant
passes, in the indicators that count late dossiers: 2.1 (on time) and 5.4 (dissatisfied, petitioned
or late) of both versions. Day granularity would not do: a dossier due at 17:00 turns late at 17:00.
``cells.contribution`` therefore keeps that instant per dossier (``Contribution.deadline_at``, column
``score_dossiers.deadline_at``, migration 0015) with a partial index led by it
(``ix_score_dossiers_open_deadline_at``: unfinished dossiers that have one). The per-unit day indexes of
migration 0009 lead with the unit, so a range over the day for every unit would read all of them.

**Which scorecards.** A dossier turning late at instant ``T`` re-judges the live scorecards that
contain ``T``: its unit's month ``month_of(T)`` (Hanoi), and the quarter, year and year-to-date
containing it, alone and in every ancestor's subtree. The tick writes ``(unit, month_of(T))``;
``Scoring.changed_keys`` expands it to the unit alone and the subtrees of the unit and its ancestors,
and publish's follower to the periods containing the month that are running (or ended within the
last day, the live lane; the past lane takes older ones — a tick after downtime across a month's end
names the ended month, whose final scorecard then counts the dossier as late). A running month that
began after ``T`` needs nothing: it is first read after ``T``.

**The tick.** Every ``CHISO_SCORING_DUE_TICK_SECONDS`` (default 5) each replica calls
:meth:`Aggregates.tick_due` with its clock: in one transaction, under the lock of the ``due_ticker``
row of ``score_progress`` (``SELECT … FOR UPDATE`` on PostgreSQL, the single writer on SQLite) —
taken after the consumer's, which every writer of the feed holds so that feed ids commit in order —
it reads its clock (less ``DueTicker.SKEW_SECONDS``, 1 s, for replicas' clocks to disagree by), then
the window ``[last tick, now)``, writes the changes of the dossiers whose deadline falls in it and
moves the row to ``now``. So two replicas never announce one window twice
nor leave one out, and after downtime the first tick covers the whole window missed (the first tick
ever, the day before it). Half-open: a dossier due exactly at ``now`` is announced by the next tick,
once ``E > deadline`` holds for every read that follows. Cost: one indexed range read of the
dossiers due in the window — nothing per unit or per stored dossier.

**Petitions and listings** (``services.scoring.domain.moments``; same transaction, lock and window;
:func:`services.scoring.storage.time_moments`). Records carry no moment after their arrival (ingest
refuses receipt, listing and decision times in the future), so what else turns with ``E`` alone is:

* 766/2022 5.2 counts a petition once ``E > due_at`` (resolved or not): the petitions due in the
  window, a range on ``ix_petitions_due_at``;
* portal/2025 5.2 judges a petition in process (neither refused nor published) against one stage
  limit at ``E`` — readiness, ``ready_for_publication_working_days`` after the later of receipt and
  last transfer while it is not ready; publication, ``publication_working_days`` after readiness —
  and it turns late once ``E`` passes that limit (its other stages are judged at their own recorded
  moments). No moment is stored: a working-day limit is monotone in its anchor's Hanoi date, so the
  anchors whose limit falls in the window are a few ranges (``moments.working_sources``: for each
  Hanoi day the window touches, the days whose limit is that day, at the window's clock times), read
  on partial indexes of petitions in process (migration 0016: receipt and transfer of those not
  ready, readiness of those ready); the limit is then worked out from the true anchor and kept if in
  the window, once per petition;
* portal/2025 1.2 counts a listing once its due day — ``listing_working_days`` after the decision
  date — has begun (Hanoi midnight, ``measures._before``): for each Hanoi midnight in the window, the
  publications decided on a day whose listing falls due that day (``ix_publications_decision_date``).
  The allowance is the *scored* unit's kind's, and a unit's listing counts in its ancestors'
  subtrees: every allowance a loaded table sets is taken, so a unit may be announced for a day on
  which only another kind's allowance falls due — a re-read that changes nothing.

Each is announced as ``(unit, month_of(moment))``, like a dossier: the moment's month is in every
period running then (a petition in process counts in every running window, one received in the
period in its 5.3 too). The rule parameters come from every loaded version (``moments.time_rules``;
the ticker does not know which one a reader asks for). Each tick logs a line (``due tick``: window,
dossiers, petitions, listings, changes; at info when something passed, else at debug — every few
seconds) and counts ``chiso_scoring_due_changes_total``, ``chiso_scoring_due_dossiers_total``,
``chiso_scoring_due_petitions_total`` and ``chiso_scoring_due_listings_total``. Publish's full
refresh (``CHISO_PUBLISH_REFRESH_SECONDS``, off by default) is no longer needed for time passing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import structlog
from prometheus_client import Counter

from services.scoring.domain.cells import to_us
from services.scoring.storage import Aggregates, Ticked
from services.shared.db import log_failure

log = structlog.get_logger("chiso.scoring")

DUE_CHANGES = Counter("chiso_scoring_due_changes_total",
                      "Change feed entries the due ticker wrote: (unit, month) re-judged because an unfinished "
                      "dossier's deadline passed")
DUE_DOSSIERS = Counter("chiso_scoring_due_dossiers_total", "Unfinished dossiers whose deadline the due ticker saw pass")
DUE_PETITIONS = Counter("chiso_scoring_due_petitions_total",
                        "Petitions the due ticker saw time re-judge: due time passed (766/2022 5.2) or, in process, "
                        "a stage limit passed (portal/2025 5.2)")
DUE_LISTINGS = Counter("chiso_scoring_due_listings_total",
                       "Publication listings the due ticker saw fall due (portal/2025 1.2, at the Hanoi day's start)")


class DueTicker:
    """Time passing (issue 17): a live scorecard re-judges each unfinished dossier at the exact
    instant its deadline passes (``cells.row_contribution``: late when ``E > deadline``), with no
    record arriving. Every ``interval`` seconds this thread writes into scoring's change feed the
    (unit, month) of the dossiers whose deadline passed since the last tick
    (:meth:`Aggregates.tick_due`), so publish's follower re-reads just those scorecards. Replicas may
    all run one: the tick's window and its changes are written under one lock.

    A tick covers time up to ``skew_seconds`` before its clock: a deadline is announced that much
    after it passed, so that the replica publish then reads the scorecard from judges the dossier
    late even if its clock is up to that much behind the ticking replica's."""

    SKEW_SECONDS = 1.0

    def __init__(self, aggregates: Aggregates, now: Callable[[], datetime], interval: float,
                 skew_seconds: float = SKEW_SECONDS) -> None:
        self.aggregates = aggregates
        self.now = now
        self.interval = interval
        self.skew_us = int(skew_seconds * 1_000_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scoring-due-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def tick(self) -> Ticked:
        """One tick, now (tests call it with the clock moved)."""
        started = time.monotonic()
        ticked = self.aggregates.tick_due(lambda: to_us(self.now()) - self.skew_us)
        DUE_DOSSIERS.inc(ticked.dossiers)
        DUE_PETITIONS.inc(ticked.petitions)
        DUE_LISTINGS.inc(ticked.listings)
        DUE_CHANGES.inc(ticked.changes)
        # an empty window (the usual case, every few seconds) at debug; a moment passing at info
        (log.info if ticked.dossiers or ticked.petitions or ticked.listings else log.debug)(
            "due tick", since=ticked.since, until=ticked.until, dossiers=ticked.dossiers, petitions=ticked.petitions,
            listings=ticked.listings, changes=ticked.changes, seconds=round(time.monotonic() - started, 4))
        return ticked

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 — keep ticking: the next tick covers the window
                log_failure(log, "due tick failed; retrying", exc)
            self._stop.wait(self.interval)
