"""What one stored dossier contributes to the scoring aggregates, and how aggregates are read back.

Scoring a period must not scan every dossier (SPEC §8), so scoring keeps *cells*: counts of
dossiers that share everything a scorecard needs to know about them. A dossier's contribution is

* its **key**: unit, procedure, received month ``rm``, end month ``em`` (``OPEN`` while
  unfinished), processing-start month ``sm`` and, per rule version, the Hanoi month of the moment
  it becomes late while unfinished (``dm766``, ``dmp``; :data:`ALWAYS` = late whenever unfinished,
  :data:`NEVER` = never late while unfinished);
* its **bits**: one yes/no per counter in :data:`COUNTERS` (online, digitised, paid, late as
  finished, …), none of which depends on the evaluation moment.

Only two things depend on the evaluation moment ``E``: whether the dossier had finished by ``E``
(else it is judged as unfinished, by its deadline month) and, for a moment inside a month, the
dossiers whose deadline (or receipt, end, start) falls in that very month. Cells whose answer the
months alone decide are summed; the others are *ambiguous* and resolved from the stored rows with
exact instants (:func:`row_contribution`) — the same rules, applied per dossier. Tests hold the two
paths equal to :func:`services.scoring.domain.timing.classify_dossier` for every moment.

Pure Python: plain ints (UTC microseconds, ``yyyymm`` months); no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from services.scoring.domain.workdays import add_working_days
from services.shared.records import (
    CHANNEL_ONLINE,
    DAY_US,
    HANOI,
    HOUR_US,
    MAX_MONTH,
    MAX_US,
    MIN_MONTH,
    MIN_US,
    PAYMENT_GATEWAYS,
    RATING_DISSATISFIED,
    US,
    StoredDossier,
    clamp_us,
    month_of,
)
from services.shared.records import OPEN_MONTH as OPEN  # end month of an unfinished dossier
from services.shared.records import PROCESSING_WAITING_SUPPLEMENT as WAITING_SUPPLEMENT
from services.shared.records import DossierFlag as F

# Deadline keys (dm766, dmp) are Hanoi days ``yyyymmdd`` for unfinished dossiers and ``yyyymm00``
# (the month only) for finished ones, which only a past moment inside their deadline month re-judges.
ALWAYS = 0  # deadline key: late whenever judged unfinished
NEVER = 99999999  # deadline key: never late while unfinished

_UNLAWFUL_PAUSE = int(F.UNLAWFUL_PAUSE)

#: Counters of a dossier that do not depend on the evaluation moment, in bit order.
COUNTERS: tuple[str, ...] = (
    "n",  # every dossier
    "online",  # submitted online
    "online_eres",  # submitted online and issued an electronic result
    "digitised",  # digitised at receipt
    "dig_eres",  # digitised and issued an electronic result
    "reused",  # reused digitised data
    "linked_dig",  # digitised and linked to the applicant's data store (766 4.5)
    "store",  # component from, or result to, the applicant's data store (portal 4.5)
    "pop",  # used population data (766 4.7)
    "pop_eid",  # population data, verified e-ID or data from the data store (portal 4.6, 4.7)
    "fee",  # carries a fee (amount > 0)
    "fee_data",  # has fee data: a fee, or an all-zero fee list (portal 6.1)
    "fee_paid",  # carries a fee and was paid online
    "paid_gw",  # carries a fee and was paid online through DVCQG or a local gateway (portal 6.3)
    "certified",  # issued an electronic certified copy (766 4.4)
    "eres",  # issued an electronic result
    "synced_file",  # synchronised with a result file (portal 4.1)
    "dp",  # rated dissatisfied or petitioned about
    "late766",  # late as finished, rule 766/2022
    "late_p",  # late as finished, rule portal/2025
    "dpl766",  # dp or late766
    "dpl_p",  # dp or late_p
)
BIT = {name: 1 << i for i, name in enumerate(COUNTERS)}
#: counters kept per (unit, procedure): what the per-procedure measures need
PROC_COUNTERS: tuple[str, ...] = (
    "n", "online", "online_eres", "digitised", "dig_eres", "synced_file", "pop", "pop_eid", "fee_data", "fee_paid",
)  # fmt: skip
#: counters kept per unit (without the procedure)
UNIT_COUNTERS: tuple[str, ...] = (
    "n", "online", "digitised", "reused", "linked_dig", "store", "pop_eid", "fee", "fee_paid", "paid_gw",
    "certified", "eres", "dp", "late766", "late_p", "dpl766", "dpl_p",
)  # fmt: skip

#: a stored dossier, as scoring reads it (services.shared.records)
DossierRow = StoredDossier


class Contribution(NamedTuple):
    """A dossier's place in the aggregates (see the module docstring)."""

    unit_code: str
    procedure_code: str
    rm: int
    em: int
    sm: int
    dm766: int
    dmp: int
    bits: int
    #: whole calendar days from receipt to end (finished dossiers), else -1 — for 2.2's percentiles
    days: int
    #: seconds from receipt to end (finished dossiers), else 0 — for 2.2's mean
    seconds: int


# --- months and deadlines -----------------------------------------------------------------------


def clamp_month(month: int) -> int:
    """A stored ``yyyymm`` moved into [MIN_MONTH, MAX_MONTH], as :func:`month_of` places instants."""
    return MIN_MONTH if month < MIN_MONTH else MAX_MONTH if month > MAX_MONTH else month


def month_start_us(month: int) -> int:
    """The first instant (Hanoi midnight on the 1st) of ``yyyymm``, in UTC microseconds."""
    moment = datetime(month // 100, month % 100, 1, tzinfo=HANOI)
    return int(moment.timestamp()) * US


def day_start_us(us: int) -> int:
    """Hanoi midnight at the start of the day ``us`` falls in (UTC microseconds)."""
    local = from_us(us).astimezone(HANOI)
    return to_us(datetime(local.year, local.month, local.day, tzinfo=HANOI))


def next_month(month: int) -> int:
    return month + 1 if month % 100 < 12 else (month // 100 + 1) * 100 + 1


def to_us(moment: datetime) -> int:
    return int(moment.timestamp()) * US + moment.microsecond


def from_us(us: int) -> datetime:
    """The instant as an aware datetime (UTC), moved into scoring's range first (see ``clamp_us``)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=clamp_us(us))


MAX_STATUTORY_DAYS = 3650  # ingest's limit (ten years of working days)


def clamp_statutory_days(days: int | None) -> int:
    """A stored statutory limit moved into [0, MAX_STATUTORY_DAYS] (0 = none)."""
    return min(max(days or 0, 0), MAX_STATUTORY_DAYS)


@lru_cache(maxsize=1 << 16)
def _working_deadline_shift(day_ordinal: int, working_days: int) -> int:
    """Calendar days from a Hanoi date to the ``working_days``-th working day after it."""
    start = datetime.fromordinal(day_ordinal).date()
    return (add_working_days(start, working_days) - start).days


def working_deadline_us(start_us: int, working_days: int) -> int:
    """The same Hanoi clock time as ``start_us``, ``working_days`` working days later (see timing)."""
    local = from_us(start_us).astimezone(HANOI)
    return start_us + _working_deadline_shift(local.toordinal(), working_days) * DAY_US


@lru_cache(maxsize=1 << 16)
def _day_of_hour(hour: int) -> int:
    local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(HANOI)
    return local.year * 10000 + local.month * 100 + local.day


def day_of(us: int) -> int:
    """``yyyymmdd`` of an instant in Asia/Ho_Chi_Minh (clamped like ``month_of``)."""
    return _day_of_hour(clamp_us(us) // HOUR_US)


def _deadline_key(deadline: int | None, finished: bool) -> int:
    if deadline is None:
        return NEVER
    return month_of(deadline) * 100 if finished else day_of(deadline)


# --- one dossier --------------------------------------------------------------------------------


def contribution(d: DossierRow, statutory_days: int) -> Contribution:
    """Where ``d`` sits in the aggregates. ``statutory_days`` is its procedure's statutory limit in
    working days (0 = none), which portal/2025 applies to dossiers without a due time. Instants outside
    scoring's range are read as its bounds (``clamp_us``), so any stored row has a place."""
    if not _in_range(d):
        d = _clamped(d)
    flags = d.flags
    finished = d.end_at is not None
    rm = month_of(d.received_at)
    em = month_of(d.end_at) if finished else OPEN
    sm = month_of(d.started_at) if d.started_at is not None else rm
    always_late = d.supplement_count > 1 or bool(flags & _UNLAWFUL_PAUSE)

    # 766/2022: the due time, or none (then on time).
    due = d.due_at
    # portal/2025: without a due time, the statutory limit, with the applicant's supplement time
    # added to the deadline (the same as subtracting it from the elapsed time).
    if due is None and statutory_days > 0:
        deadline_p = clamp_us(working_deadline_us(d.received_at, statutory_days) + d.applicant_supplement_seconds * US)
    else:
        deadline_p = due

    waiting_one = (d.processing_state == WAITING_SUPPLEMENT and d.supplement_count == 1 and not finished
                   and d.last_supplement_at is not None)  # without the time: judged as any unfinished one
    if always_late:
        dm766 = dmp = ALWAYS
    elif waiting_one:
        # judged at the time of its one supplement request: the verdict is fixed
        at = d.last_supplement_at
        dm766 = ALWAYS if due is not None and at > due else NEVER
        dmp = ALWAYS if deadline_p is not None and at > deadline_p else NEVER
    else:
        dm766 = _deadline_key(due, finished)
        dmp = _deadline_key(deadline_p, finished)

    gateway = d.payment_channel in PAYMENT_GATEWAYS
    bits = _flag_bits(flags, d.channel == CHANNEL_ONLINE, d.fee_amount > 0, gateway, d.rating == RATING_DISSATISFIED)
    dp = bool(bits & _DP)
    days, seconds = -1, 0
    if finished:
        end = d.end_at
        late766 = always_late or (due is not None and end > due)
        late_p = always_late or (deadline_p is not None and end > deadline_p)
        if late766:
            bits |= BIT["late766"]
        if late_p:
            bits |= BIT["late_p"]
        if dp or late766:
            bits |= BIT["dpl766"]
        if dp or late_p:
            bits |= BIT["dpl_p"]
        seconds = max(0, (end - d.received_at) // US)
        days = seconds // 86400
    return Contribution(d.unit_code, d.procedure_code, rm, em, sm, dm766, dmp, bits, days, seconds)


_DP = 1 << COUNTERS.index("dp")
_INSTANTS = tuple(DossierRow._fields.index(name)
                  for name in ("received_at", "due_at", "started_at", "end_at", "last_supplement_at"))


def _in_range(d: DossierRow) -> bool:
    for i in _INSTANTS:
        v = d[i]
        if v is not None and not MIN_US <= v <= MAX_US:
            return False
    return True


def _clamped(d: DossierRow) -> DossierRow:
    values = list(d)
    for i in _INSTANTS:
        if values[i] is not None:
            values[i] = clamp_us(values[i])
    return DossierRow(*values)


@lru_cache(maxsize=1 << 16)
def _flag_bits(flags: int, online: bool, fee: bool, gateway: bool, dissatisfied: bool) -> int:
    """The counters a dossier's yes/no facts set (a few thousand combinations, so cached)."""
    bits = BIT["n"]
    eres = flags & F.ELECTRONIC_RESULT
    paid = fee and flags & F.PAID_ONLINE
    if online:
        bits |= BIT["online"] | (BIT["online_eres"] if eres else 0)
    if flags & F.DIGITISED:
        bits |= BIT["digitised"] | (BIT["dig_eres"] if eres else 0)
        bits |= BIT["linked_dig"] if flags & F.LINKED_TO_DATA_STORE else 0
    if flags & F.REUSED_DIGITISED_DATA:
        bits |= BIT["reused"]
    if flags & (F.COMPONENT_FROM_DATA_STORE | F.RESULT_TO_DATA_STORE):
        bits |= BIT["store"]
    if flags & F.USED_POPULATION_DATA:
        bits |= BIT["pop"]
    if flags & (F.USED_POPULATION_DATA | F.VERIFIED_EID | F.COMPONENT_FROM_DATA_STORE):
        bits |= BIT["pop_eid"]
    if fee:
        bits |= BIT["fee"]
    if fee or flags & F.FEE_ALL_ZERO:
        bits |= BIT["fee_data"]
    if paid:
        bits |= BIT["fee_paid"] | (BIT["paid_gw"] if gateway else 0)
    if flags & F.CERTIFIED_COPY_ISSUED:
        bits |= BIT["certified"]
    if eres:
        bits |= BIT["eres"]
    if flags & F.SYNCED_WITH_RESULT_FILE:
        bits |= BIT["synced_file"]
    if dissatisfied or flags & F.PETITIONED:
        bits |= BIT["dp"]
    return bits


def deadline_us(d: DossierRow, statutory_days: int, version: str) -> int | None:
    """The instant after which ``d``, unfinished, is late (None: never; a very small number: always)."""
    c = contribution(d, statutory_days)
    dm = c.dm766 if version == "766" else c.dmp
    if dm == ALWAYS:
        return -(1 << 62)
    if dm == NEVER:
        return None
    if version == "766":
        return d.due_at
    if d.due_at is None:
        return working_deadline_us(d.received_at, statutory_days) + d.applicant_supplement_seconds * US
    return d.due_at


# --- reading aggregates back --------------------------------------------------------------------


class Window(NamedTuple):
    """A period's months and its evaluation moment ``E`` (all as plain ints).

    ``done`` is the last month wholly before ``E``; ``mid`` the month ``E`` falls inside (0 when
    ``E`` is a month boundary); ``live`` says ``E`` is the present, so nothing stored was received,
    started or ended after it (records are never dated in the future beyond clock skew).
    """

    m1: int
    m2: int
    e_us: int
    done: int
    mid: int
    live: bool
    e_day: int = 0  # day of month E falls in (with ``mid``)

    @classmethod
    def of(cls, m1: int, m2: int, e_us: int, now_us: int) -> Window:
        month = month_of(e_us)
        boundary = month_start_us(month) == e_us
        done = _prev_month(month)
        return cls(m1, m2, e_us, done, 0 if boundary else month, e_us >= now_us, 0 if boundary else day_of(e_us) % 100)

    @property
    def last(self) -> int:
        """The last month any record in the window can be placed in."""
        return min(self.m2, self.mid or self.done)


def _prev_month(month: int) -> int:
    return month - 1 if month % 100 > 1 else (month // 100 - 1) * 100 + 12


class Resolved(NamedTuple):
    """How a cell counts as of ``E``: excluded, or its verdict columns resolved, or ambiguous."""

    included: bool
    ambiguous: bool
    finished: bool  # ended by E (verdicts are the final ones)
    late766: bool  # unfinished: late by its deadline month (rule 766/2022)
    late_p: bool  # unfinished: late (portal/2025)
    started: bool  # processing started in the window


def resolve(w: Window, rm: int, em: int, sm: int, dm766: int, dmp: int) -> Resolved:
    """How a cell keyed by these months counts in window ``w`` (see :class:`Window`)."""
    last = w.last
    if rm > last or em < w.m1:
        return Resolved(False, False, False, False, False, False)
    ambiguous = False
    mid = w.mid
    if mid and not w.live and mid in (rm, em, sm):
        ambiguous = True  # received, ended or started inside E's month, before or after E
    finished = em <= w.done or (em == mid and w.live)
    late766 = late_p = False
    if not finished:
        late766, unsure766 = _late_by_key(dm766, w)
        late_p, unsure_p = _late_by_key(dmp, w)
        ambiguous = ambiguous or unsure766 or unsure_p
    started = w.m1 <= sm <= last
    return Resolved(True, ambiguous, finished, late766, late_p, started)


def _late_by_key(key: int, w: Window) -> tuple[bool, bool]:
    """(late, unsure) of a dossier unfinished at E whose deadline key is ``key``."""
    month, day = divmod(key, 100)
    if month <= w.done:
        return True, False
    if w.mid and month == w.mid:
        if day == 0 or day == w.e_day:
            return False, True  # only the month is kept, or the deadline is on E's own day
        return day < w.e_day, False
    return False, False


_PLAIN_UNIT_COUNTERS = tuple(n for n in UNIT_COUNTERS if n not in ("late766", "late_p", "dpl766", "dpl_p", "eres"))


def row_in_window(d: DossierRow, w: Window) -> bool:
    """``d`` is in the period's dossier population as of E: received before E and in or before the
    period, and not ended before the period began."""
    if d.received_at >= w.e_us or month_of(d.received_at) > w.m2:
        return False
    return d.end_at is None or month_of(d.end_at) >= w.m1


def row_contribution(d: DossierRow, statutory_days: int, w: Window) -> dict[str, int] | None:
    """The exact counts one dossier adds to the window's sums (None: not in the population)."""
    if not row_in_window(d, w):
        return None
    c = contribution(d, statutory_days)
    e = w.e_us
    finished = d.end_at is not None and d.end_at <= e
    out = {name: 1 for name in _PLAIN_UNIT_COUNTERS if c.bits & BIT[name]}
    dp = bool(c.bits & BIT["dp"])
    if finished:
        late766 = bool(c.bits & BIT["late766"])
        late_p = bool(c.bits & BIT["late_p"])
        out["fin"] = 1
        out["eres_fin"] = 1 if c.bits & BIT["eres"] else 0
    else:
        d766 = deadline_us(d, statutory_days, "766")
        dp_ = deadline_us(d, statutory_days, "portal")
        late766 = d766 is not None and e > d766
        late_p = dp_ is not None and e > dp_
    out["late766"] = int(late766)
    out["late_p_fin" if finished else "late_p_unf"] = int(late_p)
    out["dpl766"] = int(dp or late766)
    out["dpl_p"] = int(dp or late_p)
    started_at = d.started_at if d.started_at is not None else d.received_at
    if started_at < e and w.m1 <= month_of(started_at) <= w.m2:
        out["st_fee"] = 1 if c.bits & BIT["fee"] else 0
        out["st_paid_gw"] = 1 if c.bits & BIT["paid_gw"] else 0
    return out


def add_into(total: dict[str, int], part: dict[str, int]) -> None:
    for name, value in part.items():
        total[name] = total.get(name, 0) + value


def unit_cell_sums(r: Resolved, counts: dict[str, int]) -> dict[str, int]:
    """The window sums a resolved, unambiguous unit cell adds (``counts`` by UNIT_COUNTERS)."""
    n = counts["n"]
    out = {name: counts[name] for name in _PLAIN_UNIT_COUNTERS}
    if r.finished:
        out["fin"] = n
        out["eres_fin"] = counts["eres"]
        out["late766"] = counts["late766"]
        out["late_p_fin"] = counts["late_p"]
        out["dpl766"] = counts["dpl766"]
        out["dpl_p"] = counts["dpl_p"]
    else:
        out["late766"] = n if r.late766 else 0
        out["late_p_unf"] = n if r.late_p else 0
        out["dpl766"] = n if r.late766 else counts["dp"]
        out["dpl_p"] = n if r.late_p else counts["dp"]
    if r.started:
        out["st_fee"] = counts["fee"]
        out["st_paid_gw"] = counts["paid_gw"]
    return out


def sum_bits(contributions: Iterable[int], names: tuple[str, ...]) -> dict[str, int]:
    """Counter totals of a set of dossiers' bits."""
    totals = dict.fromkeys(names, 0)
    for bits in contributions:
        for name in names:
            if bits & BIT[name]:
                totals[name] += 1
    return totals
