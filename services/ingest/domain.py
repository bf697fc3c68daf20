"""Ingest's domain: the records ministries send, how they are checked, and what they change.

Plain Python only (no grpc, protobuf or SQLAlchemy). Records arrive here as named tuples of
primitives: instants are integer microseconds since the epoch (UTC), enums are their integer
values, absent optional instants are ``None``.

Rules that apply to every kind (the contract, ``chiso.ingest.v1``, says the same to integrators):

* every unit or catalogue entry a record names exists (``UNKNOWN_UNIT``, ``UNKNOWN_PROCEDURE``) and
  every unit it names is inside the sender's grant (``OUT_OF_GRANT``, with the field that names it):
  the record's unit, a unit's parent and successor, a procedure's managing unit — see :func:`judge`;
* unit and procedure codes are canonical, upper case (``NOT_CANONICAL`` names the canonical form);
  dossier and petition codes are the source's own keys and are kept as sent;
* text is 1..N characters without control characters (Vietnamese and any other Unicode is kept),
  stored in Unicode NFC whatever form it was sent in;
* every instant and date lies in a documented window (``OUT_OF_RANGE``, ``IN_FUTURE``): see the
  constants below;
* ``source_time`` is required and not in the future beyond the allowed clock skew;
* the newer ``source_time`` wins: a record older than, or as old as, what is stored is ``STALE``; two
  versions of one record in one batch are resolved the same way.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from services.shared.grants import ALL_UNITS, CANONICAL_CODE_RE, PROCEDURE_CATALOGUE
from services.shared.records import (
    DAY_US,
    HANOI,
    HOUR_US,
    OPEN_MONTH,
    DossierRecord,
    PetitionRecord,
    ProcedureRecord,
    PublicationRecord,
    ReportedTotalRecord,
    UnitKind,
    UnitProcedureRecord,
    UnitRecord,
    month_of,
    month_of_date,
    walk_up,
)
from services.shared.records import US as MICROS

# --- the valid ranges of instants and dates (documented in ingest.proto and README) -------------
#: Clock skew tolerated by default for instants that cannot lie in the future (source_time,
#: received_time …): 2 minutes; the setting CHISO_INGEST_MAX_CLOCK_SKEW_SECONDS changes it.
DEFAULT_SKEW_US = 120 * MICROS
#: Earliest instant accepted anywhere: 2000-01-01 00:00 in Asia/Ho_Chi_Minh. Well before the 2022
#: go-live on purpose: a dossier received earlier and still open counts in later periods.
EARLIEST_US = int(datetime(2000, 1, 1, tzinfo=HANOI).timestamp()) * MICROS
#: A due time lies at most this long after the receipt it belongs to (about 10 years).
DUE_HORIZON_US = 3653 * DAY_US
#: Earliest date of the dates that describe history (a unit's validity and merger, the effective
#: date of a legal text).
EARLIEST_DATE = date(1900, 1, 1)
#: Earliest publication decision date (none were made before the procedure reforms of the 2000s).
EARLIEST_DECISION_DATE = date(2000, 1, 1)
#: Dates that may lie ahead (validity, merger, effective date) lie at most this far after today.
DATE_HORIZON = timedelta(days=3653)
#: Reported totals: from this month up to the current month.
EARLIEST_MONTH = 200001


class RecordKind(enum.IntEnum):
    UNIT = 1
    PROCEDURE = 2
    UNIT_PROCEDURE = 3
    PUBLICATION = 4
    DOSSIER = 5
    PETITION = 6
    REPORTED_TOTAL = 7


class Outcome(enum.IntEnum):
    """Per-record outcome (values match chiso.ingest.v1.RecordStatus)."""

    ACCEPTED = 1
    STALE = 2
    INVALID = 3
    PERMISSION_DENIED = 4
    ABORTED = 5


# Valid enum values (the contracts' enums, zero = unspecified).
UNIT_KINDS = frozenset(range(1, 9))
ONLINE_LEVELS = frozenset({1, 2, 3})
ONLINE_SERVICE_STATUSES = frozenset({0, 1, 2})
CHANNELS = frozenset({1, 2, 3})
END_STATES = frozenset({0, 1, 2, 3, 4, 5})
PROCESSING_STATES = frozenset({0, 1, 2, 3})
RATINGS = frozenset({0, 1, 2, 3})
PAYMENT_CHANNELS = frozenset({0, 1, 2})
PETITION_CATEGORIES = frozenset({0, 1, 2, 3})
ALL_PARTS_MASK = sum(1 << i for i in range(1, 12))

MAX_CODE = 64
MAX_PROCEDURE_CODE = 32
MAX_NAME = 500
MAX_DECISION = 64
MAX_COUNT = 1_000_000
MAX_MONEY = 10**15

#: Unit and procedure codes (names of catalogue entries): canonical, upper case.
_CODE_RE = CANONICAL_CODE_RE
#: Dossier and petition codes: the source's own keys, case kept as sent.
_RECORD_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# --------------------------------------------------------------------------- records


# The records as sent and stored: the one contract of services.shared.records, under ingest's names.
UnitIn = UnitRecord
ProcedureIn = ProcedureRecord
UnitProcedureIn = UnitProcedureRecord
PublicationIn = PublicationRecord
DossierIn = DossierRecord
PetitionIn = PetitionRecord
ReportedTotalIn = ReportedTotalRecord


# --------------------------------------------------------------------------- violations


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    reason: str
    message: str


@lru_cache(maxsize=1 << 12)
def _hanoi_day_of_hour(hour: int) -> date:
    return datetime.fromtimestamp(hour * 3600, tz=HANOI).date()


def hanoi_date(us: int) -> date:
    """The calendar day of an instant in Asia/Ho_Chi_Minh (whole-hour offset: cached per hour)."""
    return _hanoi_day_of_hour(us // HOUR_US)


class Checker:
    """Collects the violations of one record. ``latest_us`` is the latest instant accepted for what
    cannot lie in the future: now plus the allowed clock skew."""

    __slots__ = ("violations", "now_us", "latest_us")

    def __init__(self, now_us: int, skew_us: int = DEFAULT_SKEW_US) -> None:
        self.violations: list[Violation] = []
        self.now_us = now_us
        self.latest_us = now_us + skew_us

    def add(self, field_name: str, reason: str, message: str) -> None:
        self.violations.append(Violation(field_name, reason, message))

    def _absent(self, field_name: str, value: object, required: bool) -> bool:
        """Whether the field is empty (None or ""); a REQUIRED violation too if it must not be."""
        if value is None or value == "":
            if required:
                self.add(field_name, "REQUIRED", f"{field_name} is required")
            return True
        return False

    def text(self, field_name: str, value: str, max_len: int, *, required: bool = True) -> None:
        if self._absent(field_name, value, required):
            return
        if len(value) > max_len:
            self.add(field_name, "TOO_LONG", f"{field_name} has {len(value)} characters, at most {max_len}")
        elif _CONTROL_RE.search(value):
            self.add(field_name, "BAD_CHARACTERS", f"{field_name} contains control characters")

    def code(
        self,
        field_name: str,
        value: str,
        max_len: int = MAX_CODE,
        *,
        required: bool = True,
        canonical: bool = True,
    ) -> None:
        """A code: 1..max_len letters, digits, '.', '-', '_'; upper case when ``canonical`` (unit and
        procedure codes), as sent otherwise (dossier and petition codes)."""
        if self._absent(field_name, value, required):
            return
        if len(value) > max_len:
            self.add(field_name, "TOO_LONG", f"{field_name} has {len(value)} characters, at most {max_len}")
        elif (_CODE_RE if canonical else _RECORD_CODE_RE).match(value):
            return
        elif canonical and _CODE_RE.match(value.upper()):
            self.add(field_name, "NOT_CANONICAL", f"{field_name} must be upper case: {value.upper()}")
        else:
            letters = "upper-case letters" if canonical else "letters"
            self.add(field_name, "BAD_FORMAT", f"{field_name} may contain only {letters}, digits, '.', '-' and '_'")

    def enum(self, field_name: str, value: int, allowed: frozenset[int]) -> None:
        if value not in allowed:
            reason = "REQUIRED" if value == 0 else "UNKNOWN_ENUM_VALUE"
            self.add(field_name, reason, f"{field_name} has no valid value ({value})")

    def instant(self, field_name: str, value: int | None, *, required: bool = False) -> None:
        """An instant of the past: from 2000-01-01 (Asia/Ho_Chi_Minh) up to now plus the clock skew."""
        if self._absent(field_name, value, required):
            return
        if value < EARLIEST_US:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is before 2000-01-01")
        elif value > self.latest_us:
            self.add(field_name, "IN_FUTURE", f"{field_name} is in the future")

    def due(self, field_name: str, value: int | None, received_name: str, received: int | None) -> None:
        """A due time: not before the receipt and at most about 10 years after it."""
        if value is None:
            return
        if value < EARLIEST_US:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is before 2000-01-01")
        elif value > (received if received is not None else self.latest_us) + DUE_HORIZON_US:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is more than 10 years after {received_name}")
        else:
            self.not_before(field_name, value, received_name, received)

    def day(
        self, field_name: str, value: date | None, *, earliest: date, ahead: bool, required: bool = False
    ) -> None:
        """A calendar date (Asia/Ho_Chi_Minh) from ``earliest``; up to today, or up to about 10 years
        ahead when ``ahead``."""
        if self._absent(field_name, value, required):
            return
        if value < earliest:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is before {earliest.isoformat()}")
            return
        today = hanoi_date(self.latest_us)
        if ahead and value > today + DATE_HORIZON:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is more than 10 years ahead")
        elif not ahead and value > today:
            self.add(field_name, "IN_FUTURE", f"{field_name} is after today (Asia/Ho_Chi_Minh)")

    def not_before(self, field_name: str, value: int | None, other_name: str, other: int | None) -> None:
        if value is not None and other is not None and value < other:
            self.add(field_name, "INCONSISTENT", f"{field_name} is before {other_name}")

    def count(self, field_name: str, value: int, maximum: int = MAX_COUNT) -> None:
        if value < 0 or value > maximum:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} must be between 0 and {maximum}")


# --------------------------------------------------------------------------- per-kind checks


def check_unit(r: UnitIn, c: Checker) -> None:
    c.code("code", r.code)
    c.text("name", r.name, MAX_NAME)
    c.enum("kind", r.kind, UNIT_KINDS)
    c.code("parent_code", r.parent_code or "", required=False)
    if r.parent_code and r.parent_code == r.code:
        c.add("parent_code", "INCONSISTENT", "a unit cannot be its own parent")
    c.code("merged_into_code", r.merged_into_code or "", required=False)
    if r.merged_into_code and r.merged_into_code == r.code:
        c.add("merged_into_code", "INCONSISTENT", "a unit cannot be merged into itself")
    c.day("valid_from", r.valid_from, earliest=EARLIEST_DATE, ahead=True)
    c.day("valid_to", r.valid_to, earliest=EARLIEST_DATE, ahead=True)
    if r.valid_from and r.valid_to and r.valid_to < r.valid_from:
        c.add("valid_to", "INCONSISTENT", "valid_to is before valid_from")
    c.day("merged_on", r.merged_on, earliest=EARLIEST_DATE, ahead=True)
    if bool(r.merged_into_code) != bool(r.merged_on):
        c.add("merged_on", "INCONSISTENT", "merged_into_code and merged_on go together")
    c.instant("source_time", r.source_time, required=True)


def check_procedure(r: ProcedureIn, c: Checker) -> None:
    c.code("code", r.code, MAX_PROCEDURE_CODE)
    c.text("name", r.name, MAX_NAME)
    c.text("field", r.field, MAX_NAME, required=False)
    c.code("unit_code", r.unit_code)
    c.count("statutory_days", r.statutory_days, 3650)
    c.instant("source_time", r.source_time, required=True)


def check_unit_procedure(r: UnitProcedureIn, c: Checker) -> None:
    c.code("unit_code", r.unit_code)
    c.code("procedure_code", r.procedure_code, MAX_PROCEDURE_CODE)
    c.enum("online_level", r.online_level, ONLINE_LEVELS)
    c.enum("online_service_status", r.online_service_status, ONLINE_SERVICE_STATUSES)
    if r.population_data_connected and not r.population_data_eligible:
        c.add("population_data_connected", "INCONSISTENT", "connected to population data but not eligible")
    if r.payment_integrated and not r.has_fee:
        c.add("payment_integrated", "INCONSISTENT", "payment integrated but the procedure has no fee")
    c.instant("source_time", r.source_time, required=True)


def check_publication(r: PublicationIn, c: Checker) -> None:
    c.code("unit_code", r.unit_code)
    c.code("procedure_code", r.procedure_code, MAX_PROCEDURE_CODE)
    c.text("decision_number", r.decision_number, MAX_DECISION)
    c.day("decision_date", r.decision_date, earliest=EARLIEST_DECISION_DATE, ahead=False, required=True)
    c.day("legal_effective_date", r.legal_effective_date, earliest=EARLIEST_DATE, ahead=True)
    c.instant("listed_time", r.listed_at)
    if r.parts & ~ALL_PARTS_MASK:
        c.add("parts", "UNKNOWN_ENUM_VALUE", "parts has an unknown value")
    c.instant("source_time", r.source_time, required=True)


def dossier_is_clean(r: DossierIn, now_us: int, skew_us: int = DEFAULT_SKEW_US) -> bool:
    """The checks of :func:`check_dossier` as one expression, for the common case where a record
    has nothing wrong (about 3× faster than collecting violations). ``check_dossier`` runs the
    detailed checks only when this says no; a property test keeps the two in agreement."""
    hi = now_us + skew_us
    rec = r.received_at
    code, unit, proc = r.code, r.unit_code, r.procedure_code
    return (
        rec is not None
        and EARLIEST_US <= rec <= hi
        and 0 < len(code) <= MAX_CODE
        and 0 < len(unit) <= MAX_CODE
        and 0 < len(proc) <= MAX_PROCEDURE_CODE
        and _RECORD_CODE_RE.match(code) is not None
        and _CODE_RE.match(unit) is not None
        and _CODE_RE.match(proc) is not None
        and r.channel in CHANNELS
        and (r.due_at is None or rec <= r.due_at <= rec + DUE_HORIZON_US)
        and (r.started_at is None or rec <= r.started_at <= hi)
        and r.end_state in END_STATES
        and r.processing_state in PROCESSING_STATES
        and (
            (r.end_at is None and r.end_state == 0)
            or (r.end_at is not None and r.end_state != 0 and rec <= r.end_at <= hi and r.processing_state == 0)
        )
        and 0 <= r.supplement_count <= 1000
        and (r.last_supplement_at is None or rec <= r.last_supplement_at <= hi)
        and (r.processing_state != 2 or r.supplement_count >= 1)
        and (r.processing_state != 2 or r.supplement_count != 1 or r.last_supplement_at is not None)
        and 0 <= r.applicant_supplement_seconds <= 10 * 365 * 86400
        and 0 <= r.fee_amount <= MAX_MONEY
        and r.payment_channel in PAYMENT_CHANNELS
        and r.rating in RATINGS
        and r.source_time is not None
        and EARLIEST_US <= r.source_time <= hi
    )


def check_dossier(r: DossierIn, c: Checker) -> None:
    if not dossier_is_clean(r, c.now_us, c.latest_us - c.now_us):
        check_dossier_in_detail(r, c)


def check_dossier_in_detail(r: DossierIn, c: Checker) -> None:
    c.code("code", r.code, canonical=False)
    c.code("unit_code", r.unit_code)
    c.code("procedure_code", r.procedure_code, MAX_PROCEDURE_CODE)
    c.enum("channel", r.channel, CHANNELS)
    c.instant("received_time", r.received_at, required=True)
    c.due("due_time", r.due_at, "received_time", r.received_at)
    c.instant("processing_start_time", r.started_at)
    c.not_before("processing_start_time", r.started_at, "received_time", r.received_at)
    c.instant("end_time", r.end_at)
    c.not_before("end_time", r.end_at, "received_time", r.received_at)
    c.enum("end_state", r.end_state, END_STATES)
    c.enum("processing_state", r.processing_state, PROCESSING_STATES)
    if (r.end_at is None) != (r.end_state == 0):
        c.add("end_state", "INCONSISTENT", "end_state must be set exactly when end_time is")
    if r.end_at is not None and r.processing_state != 0:
        c.add("processing_state", "INCONSISTENT", "a finished dossier has no processing_state")
    c.count("supplement_count", r.supplement_count, 1000)
    c.instant("last_supplement_time", r.last_supplement_at)
    c.not_before("last_supplement_time", r.last_supplement_at, "received_time", r.received_at)
    if r.processing_state == 2 and r.supplement_count < 1:
        c.add("supplement_count", "INCONSISTENT", "waiting for a supplement but no supplement request")
    if r.processing_state == 2 and r.supplement_count == 1 and r.last_supplement_at is None:
        # judged at the time of its one request (2.1): the only case the count needs the time
        c.add("last_supplement_time", "REQUIRED",
              "last_supplement_time is required while waiting on the one supplement request")
    c.count("applicant_supplement_seconds", r.applicant_supplement_seconds, 10 * 365 * 86400)
    c.count("fee_amount", r.fee_amount, MAX_MONEY)
    c.enum("payment_channel", r.payment_channel, PAYMENT_CHANNELS)
    c.enum("rating", r.rating, RATINGS)
    c.instant("source_time", r.source_time, required=True)


def check_petition(r: PetitionIn, c: Checker) -> None:
    c.code("code", r.code, canonical=False)
    c.code("unit_code", r.unit_code)
    c.enum("category", r.category, PETITION_CATEGORIES)
    c.instant("received_time", r.received_at, required=True)
    c.due("due_time", r.due_at, "received_time", r.received_at)
    for name, value in (
        ("resolved_time", r.resolved_at),
        ("refused_time", r.refused_at),
        ("first_supplement_time", r.first_supplement_at),
        ("ready_for_publication_time", r.ready_for_publication_at),
        ("published_time", r.published_at),
        ("last_transfer_time", r.last_transfer_at),
    ):
        c.instant(name, value)
        c.not_before(name, value, "received_time", r.received_at)
    c.count("transfer_count", r.transfer_count, 1000)
    c.count("likes", r.likes)
    c.count("dislikes", r.dislikes)
    c.enum("rating", r.rating, RATINGS)
    c.instant("source_time", r.source_time, required=True)


def check_reported_total(r: ReportedTotalIn, c: Checker) -> None:
    c.code("unit_code", r.unit_code)
    if not 1 <= r.month <= 12:
        c.add("month", "OUT_OF_RANGE", "month must be between 1 and 12")
    else:
        current = month_of(c.latest_us)
        month = r.year * 100 + r.month
        if month < EARLIEST_MONTH:
            c.add("year", "OUT_OF_RANGE", "the month is before January 2000")
        elif month > current:
            c.add("year" if r.year > current // 100 else "month", "IN_FUTURE",
                  "the month has not begun yet (Asia/Ho_Chi_Minh)")
    c.count("dossiers_received", r.dossiers_received, 10**9)
    c.instant("source_time", r.source_time, required=True)


# --------------------------------------------------------------------------- text


def nfc(value: str) -> str:
    """``value`` in Unicode NFC (what is stored, whatever form was sent: NFD "Phú Thọ" as well)."""
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def _nfc_unit(r: UnitIn) -> UnitIn:
    return r if unicodedata.is_normalized("NFC", r.name) else r._replace(name=nfc(r.name))


def _nfc_procedure(r: ProcedureIn) -> ProcedureIn:
    return r._replace(name=nfc(r.name), field=nfc(r.field))


def _nfc_publication(r: PublicationIn) -> PublicationIn:
    return r._replace(decision_number=nfc(r.decision_number))


# --------------------------------------------------------------------------- months




# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class KindSpec:
    """Everything generic code needs to know about one record kind."""

    kind: RecordKind
    check: Callable[[object, Checker], None]
    key: Callable[[tuple], tuple]
    #: (unit, first month, last month) the record affects for scoring
    months: Callable[[tuple], Iterable[tuple[str, int, int]]]
    #: the units and catalogue entries it names: do they exist, are they inside the grant? (None:
    #: units, judged as a batch by :func:`_judge_units`)
    references: Callable[[tuple, Directory, Grant], RecordVerdict | None] | None
    #: the record as stored (text in NFC), for kinds with free text
    normalise: Callable[[tuple], tuple] | None = None


def _dossier_months(r: DossierIn) -> list[tuple[str, int, int]]:
    # A dossier counts from the month it was received through the month it ended (carried over
    # while unfinished); unfinished ones stay open-ended.
    start = month_of(r.received_at)
    end = month_of(r.end_at) if r.end_at is not None else OPEN_MONTH
    return [(r.unit_code, start, max(start, end))]


def _petition_months(r: PetitionIn) -> list[tuple[str, int, int]]:
    start = month_of(r.received_at)
    ends = [t for t in (r.resolved_at, r.refused_at, r.published_at) if t is not None]
    end = month_of(max(ends)) if ends else OPEN_MONTH
    return [(r.unit_code, start, max(start, end))]


def normalise(spec: KindSpec, records: Sequence[tuple | None]) -> list[tuple | None]:
    """The records as they will be stored (text in NFC); ``None`` (unreadable) stays ``None``."""
    fix = spec.normalise
    if fix is None:
        return list(records)
    return [None if r is None else fix(r) for r in records]


# --------------------------------------------------------------------------- grants


_K = UnitKind
#: Where a unit of each kind may sit: the kinds of its parent (None: at the top, without a parent).
#: Ministries, ministerial agencies, Vietnam Social Security and provinces are at the top;
#: departments under any of them, another department (a Cục's Chi cục) or a historic district;
#: communes under a province or a historic district; districts under a province; other bodies
#: anywhere.
ALLOWED_PARENTS: dict[int, frozenset[int | None]] = {
    _K.MINISTRY: frozenset({None}),
    _K.MINISTERIAL_AGENCY: frozenset({None}),
    _K.SOCIAL_SECURITY: frozenset({None}),
    _K.PROVINCE: frozenset({None}),
    _K.DEPARTMENT: frozenset({_K.MINISTRY, _K.MINISTERIAL_AGENCY, _K.SOCIAL_SECURITY, _K.PROVINCE, _K.DEPARTMENT,
                              _K.DISTRICT}),
    _K.COMMUNE: frozenset({_K.PROVINCE, _K.DISTRICT}),
    _K.DISTRICT: frozenset({_K.PROVINCE}),
    _K.OTHER: frozenset({None, *_K}),
}


class UnitEntry(NamedTuple):
    """What ingest keeps of a stored unit to judge records."""

    parent: str | None
    kind: int
    merged_into: str | None = None


class Directory:
    """What ingest must know to judge a record: which units and procedures exist, the hierarchy.

    ``units`` maps unit code → :class:`UnitEntry`; ``parents`` unit code → parent code (or None);
    ``procedures`` procedure code → code of the unit that manages it.
    """

    def __init__(self, units: dict[str, UnitEntry], procedures: dict[str, str]) -> None:
        self.units = units
        self.parents = {code: u.parent for code, u in units.items()}
        self.procedures = procedures
        self._ancestors: dict[str, frozenset[str]] = {}

    def ancestors(self, code: str) -> frozenset[str]:
        """The unit and every unit above it (cycles in bad data are cut)."""
        cached = self._ancestors.get(code)
        if cached is None:
            cached = self._ancestors[code] = frozenset(walk_up(code, self.parents.get))
        return cached


def in_grant(directory: Directory, unit_code: str, grant_roots: frozenset[str]) -> bool:
    if ALL_UNITS in grant_roots:
        return True
    return not grant_roots.isdisjoint(directory.ancestors(unit_code))


class Grant:
    """What one source may write (see ``services.shared.grants``): unit subtrees, every unit, the
    procedure catalogue."""

    __slots__ = ("roots", "every_unit", "catalogue")

    def __init__(self, roots: frozenset[str]) -> None:
        self.roots = roots
        self.every_unit = ALL_UNITS in roots
        self.catalogue = self.every_unit or PROCEDURE_CATALOGUE in roots

    def covers(self, directory: Directory, unit_code: str) -> bool:
        return self.every_unit or not self.roots.isdisjoint(directory.ancestors(unit_code))


def _invalid(field_name: str, reason: str, message: str) -> RecordVerdict:
    return RecordVerdict(Outcome.INVALID, [Violation(field_name, reason, message)])


def _denied(field_name: str, message: str) -> RecordVerdict:
    return RecordVerdict(Outcome.PERMISSION_DENIED, [Violation(field_name, "OUT_OF_GRANT", message)])


def _unit_reference(r, directory: Directory, grant: Grant) -> RecordVerdict | None:
    """The record's own unit (``unit_code``) exists and is inside the grant."""
    unit = r.unit_code
    if unit not in directory.parents:
        return _invalid("unit_code", "UNKNOWN_UNIT", f"unit {unit} is not known")
    if not grant.covers(directory, unit):
        return _denied("unit_code", f"unit {unit} is outside this source's grant")
    return None


def _unit_and_procedure_references(r, directory: Directory, grant: Grant) -> RecordVerdict | None:
    """The record's unit as above; the procedure it names exists. Naming a procedure needs no
    grant: procedures are national and any unit may perform any of them."""
    verdict = _unit_reference(r, directory, grant)
    if verdict is None and r.procedure_code not in directory.procedures:
        return _invalid("procedure_code", "UNKNOWN_PROCEDURE", f"procedure {r.procedure_code} is not known")
    return verdict


def _procedure_references(r: ProcedureIn, directory: Directory, grant: Grant) -> RecordVerdict | None:
    """Who may create or change a procedure: a source with the national catalogue (``@catalogue``
    or ``*``), or one whose grant covers the managing unit — the one stored (no taking over another
    unit's procedure) and the one sent (no handing it to a unit outside the grant)."""
    if r.unit_code not in directory.parents:
        return _invalid("unit_code", "UNKNOWN_UNIT", f"unit {r.unit_code} is not known")
    if grant.catalogue:
        return None
    owner = directory.procedures.get(r.code)
    if owner is not None and not grant.covers(directory, owner):
        return _denied("code", f"procedure {r.code} is managed by unit {owner}, outside this source's grant")
    if not grant.covers(directory, r.unit_code):
        return _denied("unit_code", f"unit {r.unit_code} is outside this source's grant")
    return None


class _UnitView:
    """The directory's units with those accepted earlier in the batch being judged laid over them."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.batch: dict[str, UnitIn] = {}

    def known(self, code: str) -> bool:
        return code in self.batch or code in self.directory.parents

    def entry(self, code: str) -> UnitEntry | None:
        r = self.batch.get(code)
        if r is not None:
            return UnitEntry(r.parent_code, r.kind, r.merged_into_code)
        return self.directory.units.get(code)

    def chain(self, code: str) -> list[str]:
        """The unit and every unit above it (cycles cut)."""
        def parent_of(unit: str) -> str | None:
            r = self.batch.get(unit)
            return r.parent_code if r is not None else self.directory.parents.get(unit)

        return walk_up(code, parent_of)

    def covered(self, grant: Grant, code: str) -> bool:
        return grant.every_unit or not grant.roots.isdisjoint(self.chain(code))

    def accept(self, r: UnitIn) -> None:
        current = self.batch.get(r.code)
        if current is None or r.source_time > current.source_time:
            self.batch[r.code] = r


def _kind_names(kinds: Iterable[int | None]) -> str:
    return ", ".join(UnitKind(k).name for k in sorted(k for k in kinds if k is not None))


def _unit_references(r: UnitIn, view: _UnitView, grant: Grant) -> RecordVerdict | None:
    """A unit record: its parent and successor exist; it sits where the hierarchy allows; and the
    grant covers the unit as stored, its new parent (a parent it already has needs no grant: a source
    granted a department may still rename it), its successor as stored and as sent. Only a source
    granted every unit (``*``) creates top-level units, moves a unit to the top or changes a top-level
    unit's kind — so a source granted a province cannot make provinces or ministries."""
    for name, ref in (("parent_code", r.parent_code), ("merged_into_code", r.merged_into_code)):
        if ref and not view.known(ref):
            return _invalid(name, "UNKNOWN_UNIT", f"unit {ref} is not known")
    allowed = ALLOWED_PARENTS[r.kind]
    kind = UnitKind(r.kind).name
    if r.parent_code:
        parent = view.entry(r.parent_code)
        if parent.kind not in allowed:
            where = ("it is top-level: parent_code must be empty" if allowed == {None}
                     else f"its parent must be of kind {_kind_names(allowed)}")
            return _invalid("parent_code", "HIERARCHY",
                            f"a {kind} unit cannot sit under {r.parent_code} ({UnitKind(parent.kind).name}): {where}")
        if r.code in view.chain(r.parent_code):
            return _invalid("parent_code", "INCONSISTENT", f"{r.parent_code} is beneath {r.code}: that makes a cycle")
    elif None not in allowed:
        return _invalid("parent_code", "REQUIRED", f"a {kind} unit sits under a unit of kind {_kind_names(allowed)}")
    if grant.every_unit:
        return None
    stored = view.entry(r.code)
    if stored is not None and not view.covered(grant, r.code):
        return _denied("code", f"unit {r.code} is outside this source's grant")
    if r.parent_code:
        if (stored is None or stored.parent != r.parent_code) and not view.covered(grant, r.parent_code):
            return _denied("parent_code", f"unit {r.parent_code} is outside this source's grant")
    elif stored is None or stored.parent:
        return _denied("parent_code", "only a source granted every unit ('*') places a unit at the top")
    elif stored.kind != r.kind:
        return _denied("kind", "only a source granted every unit ('*') changes the kind of a top-level unit")
    for successor in (stored.merged_into if stored is not None else None, r.merged_into_code):
        if successor and not view.covered(grant, successor):
            return _denied("merged_into_code", f"unit {successor} is outside this source's grant")
    return None


def _judge_units(
    records: Sequence[UnitIn | None], checked: list[RecordVerdict | None], directory: Directory, grant: Grant
) -> list[RecordVerdict | None]:
    """The references of a batch of units, in batch order, a unit created in the batch counting as
    known (and as part of the hierarchy) once it has been accepted — whatever the order of parents
    and children in the batch; a record naming a unit of the batch that is refused is UNKNOWN_UNIT."""
    out = list(checked)
    view = _UnitView(directory)
    in_batch = {r.code for r, v in zip(records, checked, strict=True) if v is None}
    waiting: dict[str, list[int]] = defaultdict(list)
    queue = deque(i for i, v in enumerate(checked) if v is None)
    while queue:
        i = queue.popleft()
        r = records[i]
        missing = next((u for u in (r.parent_code, r.merged_into_code) if u and not view.known(u)), None)
        if missing is not None and missing in in_batch:
            waiting[missing].append(i)
            continue
        verdict = _unit_references(r, view, grant)
        out[i] = verdict
        if verdict is None:
            view.accept(r)
            queue.extend(waiting.pop(r.code, ()))
    for code, indices in waiting.items():
        for i in indices:
            name = "parent_code" if records[i].parent_code == code else "merged_into_code"
            out[i] = _invalid(name, "UNKNOWN_UNIT", f"unit {code} is not known (its record in this batch was refused)")
    return out


SPECS: dict[RecordKind, KindSpec] = {
    RecordKind.UNIT: KindSpec(
        RecordKind.UNIT,
        check_unit,
        key=lambda r: (r.code,),
        months=lambda r: [(r.code, 0, OPEN_MONTH)],
        references=None,
        normalise=_nfc_unit,
    ),
    RecordKind.PROCEDURE: KindSpec(
        RecordKind.PROCEDURE,
        check_procedure,
        key=lambda r: (r.code,),
        months=lambda r: [(r.unit_code, 0, OPEN_MONTH)],
        references=_procedure_references,
        normalise=_nfc_procedure,
    ),
    RecordKind.UNIT_PROCEDURE: KindSpec(
        RecordKind.UNIT_PROCEDURE,
        check_unit_procedure,
        key=lambda r: (r.unit_code, r.procedure_code),
        months=lambda r: [(r.unit_code, 0, OPEN_MONTH)],
        references=_unit_and_procedure_references,
    ),
    RecordKind.PUBLICATION: KindSpec(
        RecordKind.PUBLICATION,
        check_publication,
        key=lambda r: (r.unit_code, r.procedure_code, r.decision_number),
        months=lambda r: [(r.unit_code, month_of_date(r.decision_date), OPEN_MONTH)],
        references=_unit_and_procedure_references,
        normalise=_nfc_publication,
    ),
    RecordKind.DOSSIER: KindSpec(
        RecordKind.DOSSIER,
        check_dossier,
        key=lambda r: (r.code,),
        months=_dossier_months,
        references=_unit_and_procedure_references,
    ),
    RecordKind.PETITION: KindSpec(
        RecordKind.PETITION,
        check_petition,
        key=lambda r: (r.code,),
        months=_petition_months,
        references=_unit_reference,
    ),
    RecordKind.REPORTED_TOTAL: KindSpec(
        RecordKind.REPORTED_TOTAL,
        check_reported_total,
        key=lambda r: (r.unit_code, r.year, r.month),
        months=lambda r: [(r.unit_code, r.year * 100 + r.month, r.year * 100 + r.month)],
        references=_unit_reference,
    ),
}


# --------------------------------------------------------------------------- the batch decision


@dataclass
class RecordVerdict:
    outcome: Outcome
    violations: list[Violation] = field(default_factory=list)


@dataclass
class BatchPlan:
    """What to do with a batch: per-record verdicts and the records to write."""

    verdicts: list[RecordVerdict]
    to_write: list[tuple[int, tuple]]  # (index, record)
    invalid: bool  # some record is INVALID or PERMISSION_DENIED

    def counts(self) -> tuple[int, int, int]:
        accepted = sum(1 for v in self.verdicts if v.outcome is Outcome.ACCEPTED)
        stale = sum(1 for v in self.verdicts if v.outcome is Outcome.STALE)
        return accepted, stale, len(self.verdicts) - accepted - stale


def judge(
    spec: KindSpec,
    records: Sequence[tuple | None],
    *,
    directory: Directory,
    grant_roots: frozenset[str],
    now_us: int,
    skew_us: int = DEFAULT_SKEW_US,
) -> list[RecordVerdict | None]:
    """Validate each record and check what it names against the directory and the grant.
    ``None`` = valid and in grant so far (whether it is newer than what is stored comes next)."""
    grant = Grant(grant_roots)
    references = spec.references
    verdicts: list[RecordVerdict | None] = []
    for r in records:
        if r is None:  # the transport could not read it; its verdict is supplied by the caller
            verdicts.append(RecordVerdict(Outcome.INVALID))
            continue
        c = Checker(now_us, skew_us)
        spec.check(r, c)
        if c.violations:
            verdicts.append(RecordVerdict(Outcome.INVALID, c.violations))
        elif references is None:
            verdicts.append(None)
        else:
            verdicts.append(references(r, directory, grant))
    if references is None:
        return _judge_units(records, verdicts, directory, grant)
    return verdicts


def plan_batch(
    spec: KindSpec,
    records: Sequence[tuple],
    prejudged: list[RecordVerdict | None],
    stored_source_times: dict[tuple, int],
) -> BatchPlan:
    """Decide, for records that passed :func:`judge`, which are newer than what is stored.

    Two versions of one key in the batch: the newer source_time wins, the other is STALE.
    """
    best: dict[tuple, int] = {}
    for i, (r, v) in enumerate(zip(records, prejudged, strict=True)):
        if v is not None:
            continue
        k = spec.key(r)
        j = best.get(k)
        if j is None or r.source_time > records[j].source_time:
            best[k] = i
    verdicts: list[RecordVerdict] = []
    to_write: list[tuple[int, tuple]] = []
    invalid = False
    for i, (r, v) in enumerate(zip(records, prejudged, strict=True)):
        if v is not None:
            invalid = True
            verdicts.append(v)
            continue
        k = spec.key(r)
        stored = stored_source_times.get(k)
        if best[k] != i or (stored is not None and stored >= r.source_time):
            verdicts.append(RecordVerdict(Outcome.STALE))
            continue
        verdicts.append(RecordVerdict(Outcome.ACCEPTED))
        to_write.append((i, r))
    return BatchPlan(verdicts, to_write, invalid)


def affected_months(spec: KindSpec, records: Iterable[tuple]) -> set[tuple[str, int, int]]:
    out: set[tuple[str, int, int]] = set()
    for r in records:
        out.update(spec.months(r))
    return out
