"""What one stored dossier contributes to the scoring aggregates, and how aggregates are read back.

Scoring a period must not scan every dossier (SPEC §8), so scoring keeps *cells*: counts of
dossiers that share everything a scorecard needs to know about them. A dossier's contribution is

* its **key**: unit, procedure, received month ``rm``, end month ``em`` (``OPEN`` while
  unfinished), processing-start month ``sm`` and, per rule version, the Hanoi month of the moment
  it becomes late while unfinished under each lateness policy (``dm_due``, ``dm_stat``, see
  :data:`POLICIES`; :data:`ALWAYS` = late whenever unfinished,
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

# Deadline keys (dm_due, dm_stat) are Hanoi days ``yyyymmdd`` for unfinished dossiers and ``yyyymm00``
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
    "late_due",  # late as finished, policy due_time
    "late_stat",  # late as finished, policy statutory_limit
    "dpl_due",  # dp or late_due
    "dpl_stat",  # dp or late_stat
    "paid",  # a successful online payment, whatever the fee data (portal 6.2)
)
BIT = {name: 1 << i for i, name in enumerate(COUNTERS)}
#: counters kept per (unit, procedure): what the per-procedure measures need
PROC_COUNTERS: tuple[str, ...] = (
    "n", "online", "online_eres", "digitised", "dig_eres", "synced_file", "pop", "pop_eid", "fee_data", "fee_paid",
    "paid",
)  # fmt: skip
#: counters kept per unit (without the procedure)
UNIT_COUNTERS: tuple[str, ...] = (
    "n", "online", "digitised", "reused", "linked_dig", "store", "pop_eid", "fee", "fee_paid", "paid_gw",
    "certified", "eres", "dp", "late_due", "late_stat", "dpl_due", "dpl_stat",
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
    dm_due: int  # deadline key, policy due_time
    dm_stat: int  # deadline key, policy statutory_limit
    bits: int
    #: whole calendar days from receipt to end (finished dossiers), else -1 — for 2.2's percentiles
    days: int
    #: seconds from receipt to end (finished dossiers), else 0 — for 2.2's mean
    seconds: int
    #: unfinished, with a real deadline key: the instant (UTC µs) after which it is late — its due
    #: time, else its statutory deadline (the one instant both policies' day keys come from); else
    #: None. Not part of any cell key: scoring's due ticker finds by it the dossiers turning late.
    deadline_at: int | None = None


class Policy(NamedTuple):
    """How a family of rule versions judges a dossier's lateness, and where the aggregates keep it.

    A rule version names its policy (``policy = "..."`` in its file); the aggregates are keyed by
    policy, never by a version's name, so a new version of an existing policy is a data file only.
    A new policy is code: an entry here, its deadline in :func:`contribution`, a column per key and
    counter (a migration), and its measures (:mod:`services.scoring.domain.measures`).
    """

    id: str  # the name rule files use
    key: str  # its deadline-key column (Contribution field, cell key)
    late: str  # counter: late as finished
    dpl: str  # counter / sum: dissatisfied, petitioned or late
    statutory_limit: bool  # without a due time: the procedure's statutory limit (else on time)

    @property
    def slot(self) -> int:
        """The deadline key's index in a Contribution."""
        return Contribution._fields.index(self.key)

    @property
    def late_fin(self) -> str:
        return f"{self.late}_fin"

    @property
    def late_unf(self) -> str:
        return f"{self.late}_unf"


DUE_TIME = Policy("due_time", "dm_due", "late_due", "dpl_due", statutory_limit=False)
STATUTORY_LIMIT = Policy("statutory_limit", "dm_stat", "late_stat", "dpl_stat", statutory_limit=True)
#: every registered policy, in deadline-key order
POLICIES: tuple[Policy, ...] = (DUE_TIME, STATUTORY_LIMIT)
POLICY_BY_ID = {p.id: p for p in POLICIES}
DEADLINE_KEYS = tuple(p.key for p in POLICIES)
_FIRST_SLOT = POLICIES[0].slot


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

    # policy due_time: the due time, or none (then on time)
    due = d.due_at
    # policy statutory_limit: without a due time, the statutory limit, with the applicant's supplement
    # time added to the deadline (the same as subtracting it from the elapsed time)
    deadline_p = _statutory_deadline(d, statutory_days) if due is None else due

    turns_late = None  # the instant it turns late while unfinished (see Contribution.deadline_at)
    waiting_one = (d.processing_state == WAITING_SUPPLEMENT and d.supplement_count == 1 and not finished
                   and d.last_supplement_at is not None)  # without the time: judged as any unfinished one
    if always_late:
        dm_due = dm_stat = ALWAYS
    elif waiting_one:
        # judged at the time of its one supplement request: the verdict is fixed
        at = d.last_supplement_at
        dm_due = ALWAYS if due is not None and at > due else NEVER
        dm_stat = ALWAYS if deadline_p is not None and at > deadline_p else NEVER
    else:
        dm_due = _deadline_key(due, finished)
        dm_stat = _deadline_key(deadline_p, finished)
        if not finished:
            turns_late = deadline_p  # the due time when there is one (dm_due's instant too), else the limit

    gateway = d.payment_channel in PAYMENT_GATEWAYS
    bits = _flag_bits(flags, d.channel == CHANNEL_ONLINE, d.fee_amount > 0, gateway, d.rating == RATING_DISSATISFIED)
    dp = bool(bits & _DP)
    days, seconds = -1, 0
    if finished:
        end = d.end_at
        late_due = always_late or (due is not None and end > due)
        late_stat = always_late or (deadline_p is not None and end > deadline_p)
        if late_due:
            bits |= BIT["late_due"]
        if late_stat:
            bits |= BIT["late_stat"]
        if dp or late_due:
            bits |= BIT["dpl_due"]
        if dp or late_stat:
            bits |= BIT["dpl_stat"]
        seconds = max(0, (end - d.received_at) // US)
        days = seconds // 86400
    return Contribution(d.unit_code, d.procedure_code, rm, em, sm, dm_due, dm_stat, bits, days, seconds, turns_late)


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
    if flags & F.PAID_ONLINE:
        bits |= BIT["paid"]
    if flags & F.CERTIFIED_COPY_ISSUED:
        bits |= BIT["certified"]
    if eres:
        bits |= BIT["eres"]
    if flags & F.SYNCED_WITH_RESULT_FILE:
        bits |= BIT["synced_file"]
    if dissatisfied or flags & F.PETITIONED:
        bits |= BIT["dp"]
    return bits


def _statutory_deadline(d: DossierRow, statutory_days: int) -> int | None:
    if statutory_days <= 0:
        return None
    return clamp_us(working_deadline_us(d.received_at, statutory_days) + d.applicant_supplement_seconds * US)


def deadline_us(d: DossierRow, statutory_days: int, policy: Policy) -> int | None:
    """The instant after which ``d``, unfinished, is late under ``policy`` (None: never; a very small
    number: always)."""
    dm = contribution(d, statutory_days)[policy.slot]
    if dm == ALWAYS:
        return -(1 << 62)
    if dm == NEVER:
        return None
    if d.due_at is None and policy.statutory_limit:
        return _statutory_deadline(d, statutory_days)
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
    late: tuple[bool, ...]  # unfinished: late by its deadline key, per policy (POLICIES' order)
    started: bool  # processing started in the window


_EXCLUDED = Resolved(False, False, False, (False,) * 2, False)


def resolve(w: Window, rm: int, em: int, sm: int, *deadline_keys: int) -> Resolved:
    """How a cell keyed by these months and deadline keys (one per policy) counts in window ``w``."""
    last = w.last
    if rm > last or em < w.m1:
        return _EXCLUDED
    ambiguous = False
    mid = w.mid
    if mid and not w.live and mid in (rm, em, sm):
        ambiguous = True  # received, ended or started inside E's month, before or after E
    finished = em <= w.done or (em == mid and w.live)
    late = (False,) * len(deadline_keys)
    if not finished:
        judged = [_late_by_key(key, w) for key in deadline_keys]
        late = tuple(verdict for verdict, _ in judged)
        ambiguous = ambiguous or any(unsure for _, unsure in judged)
    started = w.m1 <= sm <= last
    return Resolved(True, ambiguous, finished, late, started)


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


_POLICY_COUNTERS = {name for p in POLICIES for name in (p.late, p.dpl)}
_PLAIN_UNIT_COUNTERS = tuple(n for n in UNIT_COUNTERS if n not in _POLICY_COUNTERS and n != "eres")


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
        out["fin"] = 1
        out["eres_fin"] = 1 if c.bits & BIT["eres"] else 0
    for p in POLICIES:
        if finished:
            late = bool(c.bits & BIT[p.late])
        else:
            deadline = deadline_us(d, statutory_days, p)
            late = deadline is not None and e > deadline
        out[p.late_fin if finished else p.late_unf] = int(late)
        out[p.dpl] = int(dp or late)
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
        for p in POLICIES:
            out[p.late_fin] = counts[p.late]
            out[p.dpl] = counts[p.dpl]
    else:
        for p in POLICIES:
            late = r.late[p.slot - _FIRST_SLOT]
            out[p.late_unf] = n if late else 0
            out[p.dpl] = n if late else counts["dp"]
    if r.started:
        out["st_fee"] = counts["fee"]
        out["st_paid_gw"] = counts["paid_gw"]
    return out
