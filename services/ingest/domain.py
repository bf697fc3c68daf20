"""Ingest's domain: the records ministries send, how they are checked, and what they change.

Plain Python only (no grpc, protobuf or SQLAlchemy). Records arrive here as named tuples of
primitives: instants are integer microseconds since the epoch (UTC), enums are their integer
values, absent optional instants are ``None``.

Rules that apply to every kind:

* every record names a unit that exists (``UNKNOWN_UNIT``) and is inside the sender's grant
  (``OUT_OF_GRANT``);
* text is 1..N characters without control characters (Vietnamese and any other Unicode is kept);
* ``source_time`` is required and not in the future (beyond a small clock skew);
* the newer ``source_time`` wins: a record older than, or as old as, what is stored is ``STALE``; two
  versions of one record in one batch are resolved the same way.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
MICROS = 1_000_000
HOUR_US = 3600 * MICROS
#: Clock skew tolerated for instants "in the future".
MAX_SKEW_US = 15 * 60 * MICROS
#: Earliest instant accepted anywhere (well before the 2022 go-live, to allow history).
EARLIEST_US = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()) * MICROS
MAX_FUTURE_US = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp()) * MICROS
OPEN_MONTH = 999912


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


class DossierFlag(enum.IntFlag):
    """The yes/no facts of a dossier, stored together in ``dossiers.flags``."""

    UNLAWFUL_PAUSE = 1 << 0
    FEE_ALL_ZERO = 1 << 1
    PAID_ONLINE = 1 << 2
    ELECTRONIC_RESULT = 1 << 3
    SYNCED_WITH_RESULT_FILE = 1 << 4
    DIGITISED = 1 << 5
    REUSED_DIGITISED_DATA = 1 << 6
    LINKED_TO_DATA_STORE = 1 << 7
    COMPONENT_FROM_DATA_STORE = 1 << 8
    RESULT_TO_DATA_STORE = 1 << 9
    USED_POPULATION_DATA = 1 << 10
    VERIFIED_EID = 1 << 11
    CERTIFIED_COPY_ISSUED = 1 << 12
    PETITIONED = 1 << 13


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

_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# --------------------------------------------------------------------------- records


class UnitIn(NamedTuple):
    code: str
    name: str
    kind: int
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    merged_into_code: str | None
    merged_on: date | None
    source_time: int


class ProcedureIn(NamedTuple):
    code: str
    name: str
    field: str
    unit_code: str
    issues_result_document: bool
    statutory_days: int
    applicants_are_individuals: bool
    source_time: int


class UnitProcedureIn(NamedTuple):
    unit_code: str
    procedure_code: str
    online_level: int
    online_service_status: int
    has_fee: bool
    payment_integrated: bool
    population_data_eligible: bool
    population_data_connected: bool
    certified_copy: bool
    active: bool
    source_time: int


class PublicationIn(NamedTuple):
    unit_code: str
    procedure_code: str
    decision_number: str
    decision_date: date | None
    legal_effective_date: date | None
    listed_at: int | None
    parts: int
    source_time: int


class DossierIn(NamedTuple):
    code: str
    unit_code: str
    procedure_code: str
    channel: int
    received_at: int | None
    due_at: int | None
    started_at: int | None
    end_at: int | None
    end_state: int
    processing_state: int
    supplement_count: int
    last_supplement_at: int | None
    applicant_supplement_seconds: int
    fee_amount: int
    payment_channel: int
    rating: int
    flags: int
    source_time: int | None


class PetitionIn(NamedTuple):
    code: str
    unit_code: str
    category: int
    received_at: int | None
    due_at: int | None
    resolved_at: int | None
    refused_at: int | None
    first_supplement_at: int | None
    ready_for_publication_at: int | None
    published_at: int | None
    last_transfer_at: int | None
    transfer_count: int
    likes: int
    dislikes: int
    repeat_complaint: bool
    rating: int
    source_time: int | None


class ReportedTotalIn(NamedTuple):
    unit_code: str
    year: int
    month: int
    dossiers_received: int
    source_time: int | None


# --------------------------------------------------------------------------- violations


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    reason: str
    message: str


class Checker:
    """Collects the violations of one record. Methods return self for brevity."""

    __slots__ = ("violations", "now_us")

    def __init__(self, now_us: int) -> None:
        self.violations: list[Violation] = []
        self.now_us = now_us

    def add(self, field_name: str, reason: str, message: str) -> None:
        self.violations.append(Violation(field_name, reason, message))

    def text(self, field_name: str, value: str, max_len: int, *, required: bool = True) -> None:
        if not value:
            if required:
                self.add(field_name, "REQUIRED", f"{field_name} is required")
            return
        if len(value) > max_len:
            self.add(field_name, "TOO_LONG", f"{field_name} has {len(value)} characters, at most {max_len}")
        elif _CONTROL_RE.search(value):
            self.add(field_name, "BAD_CHARACTERS", f"{field_name} contains control characters")

    def code(self, field_name: str, value: str, max_len: int = MAX_CODE, *, required: bool = True) -> None:
        if not value:
            if required:
                self.add(field_name, "REQUIRED", f"{field_name} is required")
            return
        if len(value) > max_len:
            self.add(field_name, "TOO_LONG", f"{field_name} has {len(value)} characters, at most {max_len}")
        elif not _CODE_RE.match(value):
            self.add(
                field_name,
                "BAD_FORMAT",
                f"{field_name} may contain only letters, digits, '.', '-' and '_'",
            )

    def enum(self, field_name: str, value: int, allowed: frozenset[int]) -> None:
        if value not in allowed:
            reason = "REQUIRED" if value == 0 else "UNKNOWN_ENUM_VALUE"
            self.add(field_name, reason, f"{field_name} has no valid value ({value})")

    def instant(self, field_name: str, value: int | None, *, required: bool = False, future: bool = False) -> None:
        """An instant after 2000; not in the future unless ``future`` (due times are)."""
        if value is None:
            if required:
                self.add(field_name, "REQUIRED", f"{field_name} is required")
            return
        if value < EARLIEST_US:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is before 2000-01-01")
        elif future and value > MAX_FUTURE_US:
            self.add(field_name, "OUT_OF_RANGE", f"{field_name} is after 2100-01-01")
        elif not future and value > self.now_us + MAX_SKEW_US:
            self.add(field_name, "IN_FUTURE", f"{field_name} is in the future")

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
    if r.valid_from and r.valid_to and r.valid_to < r.valid_from:
        c.add("valid_to", "INCONSISTENT", "valid_to is before valid_from")
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
    if r.decision_date is None:
        c.add("decision_date", "REQUIRED", "decision_date is required")
    c.instant("listed_time", r.listed_at)
    if r.parts & ~ALL_PARTS_MASK:
        c.add("parts", "UNKNOWN_ENUM_VALUE", "parts has an unknown value")
    c.instant("source_time", r.source_time, required=True)


def dossier_is_clean(r: DossierIn, now_us: int) -> bool:
    """The checks of :func:`check_dossier` as one expression, for the common case where a record
    has nothing wrong (about 3× faster than collecting violations). ``check_dossier`` runs the
    detailed checks only when this says no; a property test keeps the two in agreement."""
    hi = now_us + MAX_SKEW_US
    rec = r.received_at
    code, unit, proc = r.code, r.unit_code, r.procedure_code
    return (
        rec is not None
        and EARLIEST_US <= rec <= hi
        and 0 < len(code) <= MAX_CODE
        and 0 < len(unit) <= MAX_CODE
        and 0 < len(proc) <= MAX_PROCEDURE_CODE
        and _CODE_RE.match(code) is not None
        and _CODE_RE.match(unit) is not None
        and _CODE_RE.match(proc) is not None
        and r.channel in CHANNELS
        and (r.due_at is None or rec <= r.due_at <= MAX_FUTURE_US)
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
        and 0 <= r.applicant_supplement_seconds <= 10 * 365 * 86400
        and 0 <= r.fee_amount <= MAX_MONEY
        and r.payment_channel in PAYMENT_CHANNELS
        and r.rating in RATINGS
        and r.source_time is not None
        and EARLIEST_US <= r.source_time <= hi
    )


def check_dossier(r: DossierIn, c: Checker) -> None:
    if not dossier_is_clean(r, c.now_us):
        check_dossier_in_detail(r, c)


def check_dossier_in_detail(r: DossierIn, c: Checker) -> None:
    c.code("code", r.code)
    c.code("unit_code", r.unit_code)
    c.code("procedure_code", r.procedure_code, MAX_PROCEDURE_CODE)
    c.enum("channel", r.channel, CHANNELS)
    c.instant("received_time", r.received_at, required=True)
    c.instant("due_time", r.due_at, future=True)
    c.not_before("due_time", r.due_at, "received_time", r.received_at)
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
    c.count("applicant_supplement_seconds", r.applicant_supplement_seconds, 10 * 365 * 86400)
    c.count("fee_amount", r.fee_amount, MAX_MONEY)
    c.enum("payment_channel", r.payment_channel, PAYMENT_CHANNELS)
    c.enum("rating", r.rating, RATINGS)
    c.instant("source_time", r.source_time, required=True)


def check_petition(r: PetitionIn, c: Checker) -> None:
    c.code("code", r.code)
    c.code("unit_code", r.unit_code)
    c.enum("category", r.category, PETITION_CATEGORIES)
    c.instant("received_time", r.received_at, required=True)
    for name, value in (
        ("due_time", r.due_at),
        ("resolved_time", r.resolved_at),
        ("refused_time", r.refused_at),
        ("first_supplement_time", r.first_supplement_at),
        ("ready_for_publication_time", r.ready_for_publication_at),
        ("published_time", r.published_at),
        ("last_transfer_time", r.last_transfer_at),
    ):
        c.instant(name, value, future=name == "due_time")
        c.not_before(name, value, "received_time", r.received_at)
    c.count("transfer_count", r.transfer_count, 1000)
    c.count("likes", r.likes)
    c.count("dislikes", r.dislikes)
    c.enum("rating", r.rating, RATINGS)
    c.instant("source_time", r.source_time, required=True)


def check_reported_total(r: ReportedTotalIn, c: Checker) -> None:
    c.code("unit_code", r.unit_code)
    if not 2000 <= r.year <= 2100:
        c.add("year", "OUT_OF_RANGE", "year must be between 2000 and 2100")
    if not 1 <= r.month <= 12:
        c.add("month", "OUT_OF_RANGE", "month must be between 1 and 12")
    c.count("dossiers_received", r.dossiers_received, 10**9)
    c.instant("source_time", r.source_time, required=True)


# --------------------------------------------------------------------------- months


@lru_cache(maxsize=1 << 16)
def _month_of_hour(hour: int) -> int:
    local = datetime.fromtimestamp(hour * 3600, tz=HANOI)
    return local.year * 100 + local.month


def month_of(us: int) -> int:
    """``yyyymm`` of an instant in Asia/Ho_Chi_Minh (whole-hour offset, so cached per UTC hour)."""
    return _month_of_hour(us // HOUR_US)


def month_of_date(d: date) -> int:
    return d.year * 100 + d.month


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class KindSpec:
    """Everything generic code needs to know about one record kind."""

    kind: RecordKind
    check: Callable[[object, Checker], None]
    key: Callable[[tuple], tuple]
    #: units whose grant must cover the record (normally just the record's unit)
    units: Callable[[tuple], Sequence[str]]
    #: (unit, first month, last month) the record affects for scoring
    months: Callable[[tuple], Iterable[tuple[str, int, int]]]
    #: known procedure the record refers to, if any
    procedure: Callable[[tuple], str | None] = field(default=lambda r: None)


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


SPECS: dict[RecordKind, KindSpec] = {
    RecordKind.UNIT: KindSpec(
        RecordKind.UNIT,
        check_unit,
        key=lambda r: (r.code,),
        units=lambda r: (r.code,),  # refined in judge(): new units are judged by their parent
        months=lambda r: [(r.code, 0, OPEN_MONTH)],
    ),
    RecordKind.PROCEDURE: KindSpec(
        RecordKind.PROCEDURE,
        check_procedure,
        key=lambda r: (r.code,),
        units=lambda r: (r.unit_code,),
        months=lambda r: [(r.unit_code, 0, OPEN_MONTH)],
    ),
    RecordKind.UNIT_PROCEDURE: KindSpec(
        RecordKind.UNIT_PROCEDURE,
        check_unit_procedure,
        key=lambda r: (r.unit_code, r.procedure_code),
        units=lambda r: (r.unit_code,),
        months=lambda r: [(r.unit_code, 0, OPEN_MONTH)],
        procedure=lambda r: r.procedure_code,
    ),
    RecordKind.PUBLICATION: KindSpec(
        RecordKind.PUBLICATION,
        check_publication,
        key=lambda r: (r.unit_code, r.procedure_code, r.decision_number),
        units=lambda r: (r.unit_code,),
        months=lambda r: [(r.unit_code, month_of_date(r.decision_date), OPEN_MONTH)],
        procedure=lambda r: r.procedure_code,
    ),
    RecordKind.DOSSIER: KindSpec(
        RecordKind.DOSSIER,
        check_dossier,
        key=lambda r: (r.code,),
        units=lambda r: (r.unit_code,),
        months=_dossier_months,
        procedure=lambda r: r.procedure_code,
    ),
    RecordKind.PETITION: KindSpec(
        RecordKind.PETITION,
        check_petition,
        key=lambda r: (r.code,),
        units=lambda r: (r.unit_code,),
        months=_petition_months,
    ),
    RecordKind.REPORTED_TOTAL: KindSpec(
        RecordKind.REPORTED_TOTAL,
        check_reported_total,
        key=lambda r: (r.unit_code, r.year, r.month),
        units=lambda r: (r.unit_code,),
        months=lambda r: [(r.unit_code, r.year * 100 + r.month, r.year * 100 + r.month)],
    ),
}


# --------------------------------------------------------------------------- grants


class Directory:
    """What ingest must know to judge a record: which units and procedures exist, the hierarchy.

    ``parents`` maps unit code → parent code (or None); ``procedures`` is the set of known codes.
    """

    def __init__(self, parents: dict[str, str | None], procedures: set[str]) -> None:
        self.parents = parents
        self.procedures = procedures
        self._ancestors: dict[str, frozenset[str]] = {}

    def ancestors(self, code: str) -> frozenset[str]:
        """The unit and every unit above it (cycles in bad data are cut)."""
        cached = self._ancestors.get(code)
        if cached is not None:
            return cached
        chain: list[str] = []
        seen: set[str] = set()
        cur: str | None = code
        while cur is not None and cur not in seen:
            seen.add(cur)
            chain.append(cur)
            cur = self.parents.get(cur)
        result = frozenset(chain)
        self._ancestors[code] = result
        return result


def in_grant(directory: Directory, unit_code: str, grant_roots: frozenset[str]) -> bool:
    if "*" in grant_roots:
        return True
    return not grant_roots.isdisjoint(directory.ancestors(unit_code))


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


def _unit_grant_targets(r: UnitIn, known_units: dict[str, str | None]) -> tuple[str, ...]:
    """A unit record touches the unit itself if it exists (so nobody takes over another's unit)
    and its new parent (so a source creates units only beneath what it is granted)."""
    targets = [u for u in ((r.code if r.code in known_units else None), r.parent_code) if u]
    return tuple(targets) or (r.code,)


def judge(
    spec: KindSpec,
    records: Sequence[tuple],
    *,
    directory: Directory,
    grant_roots: frozenset[str],
    now_us: int,
) -> list[RecordVerdict | None]:
    """Validate each record and check its grant. ``None`` = valid and in grant so far."""
    verdicts: list[RecordVerdict | None] = []
    known_units = directory.parents
    new_units = {r.code for r in records if r is not None} if spec.kind is RecordKind.UNIT else set()
    for r in records:
        if r is None:  # the transport could not read it; its verdict is supplied by the caller
            verdicts.append(RecordVerdict(Outcome.INVALID))
            continue
        c = Checker(now_us)
        spec.check(r, c)
        if c.violations:
            verdicts.append(RecordVerdict(Outcome.INVALID, c.violations))
            continue
        units = _unit_grant_targets(r, known_units) if spec.kind is RecordKind.UNIT else spec.units(r)
        unknown = [u for u in units if u not in known_units and u not in new_units]
        if unknown and spec.kind is not RecordKind.UNIT:
            verdicts.append(
                RecordVerdict(
                    Outcome.INVALID, [Violation("unit_code", "UNKNOWN_UNIT", f"unit {unknown[0]} is not known")]
                )
            )
            continue
        parent = r.parent_code if spec.kind is RecordKind.UNIT else None
        if parent and parent not in known_units and parent not in new_units:
            verdicts.append(
                RecordVerdict(
                    Outcome.INVALID,
                    [Violation("parent_code", "UNKNOWN_UNIT", f"parent unit {r.parent_code} is not known")],
                )
            )
            continue
        if not all(in_grant(directory, u, grant_roots) for u in units):
            verdicts.append(
                RecordVerdict(
                    Outcome.PERMISSION_DENIED,
                    [Violation("unit_code", "OUT_OF_GRANT", "the unit is outside this source's grant")],
                )
            )
            continue
        proc = spec.procedure(r)
        if proc is not None and proc not in directory.procedures:
            verdicts.append(
                RecordVerdict(
                    Outcome.INVALID,
                    [Violation("procedure_code", "UNKNOWN_PROCEDURE", f"procedure {proc} is not known")],
                )
            )
            continue
        verdicts.append(None)
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
