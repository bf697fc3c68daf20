"""The stored-record contract, written once for ingest (which writes the records) and scoring (which
reads them): the record shapes, the dossier flag bits, the unit kinds, instants and months in
Asia/Ho_Chi_Minh, and the walk up the unit hierarchy.

Plain Python (no grpc, protobuf or SQLAlchemy). Instants are integer microseconds since the epoch
(UTC); months are ``yyyymm`` integers of Asia/Ho_Chi_Minh; enums are their integer values (the
contracts' enums, zero = unspecified); absent optional values are ``None``. A record's fields are
named as the columns they are stored in (``services.shared.schema``); what a table adds to a record
(the source system, the batch, months derived from instants) is named there too, and rows are built
by those names (:func:`row_builder`), never by position.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
US = 1_000_000
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
#: ``month_to`` of a change notice, ``em`` of an unfinished dossier: open-ended
OPEN_MONTH = 999912


# --- enums of the contracts ----------------------------------------------------------------------


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


class UnitKind(enum.IntEnum):
    """Values of chiso.types.v1.UnitKind."""

    MINISTRY = 1
    MINISTERIAL_AGENCY = 2
    SOCIAL_SECURITY = 3
    PROVINCE = 4
    DEPARTMENT = 5
    COMMUNE = 6
    DISTRICT = 7
    OTHER = 8


#: unit kind → the lower-case name rule files use for per-kind parameters
UNIT_KIND_NAMES: Mapping[int, str] = {k.value: k.name.lower() for k in UnitKind}

CHANNEL_ONLINE = 1  # chiso.ingest.v1.Channel
PROCESSING_WAITING_SUPPLEMENT = 2  # chiso.ingest.v1.ProcessingState
RATING_SATISFIED, RATING_DISSATISFIED = 1, 3  # chiso.ingest.v1.Rating
PAYMENT_GATEWAYS = frozenset({1, 2})  # DVCQG's payment platform, a ministry's or province's gateway
ONLINE_PARTIAL, ONLINE_FULL = 2, 3  # chiso.ingest.v1.OnlineLevel
SERVICE_SUSPENDED = 2  # chiso.ingest.v1.OnlineServiceStatus


# --- records, as sent and stored -----------------------------------------------------------------


class UnitRecord(NamedTuple):
    code: str
    name: str
    kind: int
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    merged_into_code: str | None
    merged_on: date | None
    source_time: int


class ProcedureRecord(NamedTuple):
    code: str
    name: str
    field: str
    unit_code: str
    issues_result_document: bool
    statutory_days: int
    applicants_are_individuals: bool
    source_time: int


class UnitProcedureRecord(NamedTuple):
    """A procedure as one unit performs it (an "offer")."""

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

    @property
    def online(self) -> bool:
        """Offered online, partly or fully."""
        return self.online_level in (ONLINE_PARTIAL, ONLINE_FULL)

    @property
    def online_service(self) -> bool:
        """An online service the unit offers (partial or full, not suspended)."""
        return self.online and self.online_service_status != SERVICE_SUSPENDED


class PublicationRecord(NamedTuple):
    unit_code: str
    procedure_code: str
    decision_number: str
    decision_date: date | None
    legal_effective_date: date | None
    listed_at: int | None
    parts: int  # bit i set = chiso.ingest.v1.ProcedurePart i
    source_time: int


class DossierRecord(NamedTuple):
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
    flags: int  # DossierFlag bits
    source_time: int | None


class PetitionRecord(NamedTuple):
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


class ReportedTotalRecord(NamedTuple):
    unit_code: str
    year: int
    month: int
    dossiers_received: int
    source_time: int | None


def _stored(name: str, record: type) -> Any:
    """A record kept per source system: ``source_id`` first, then the record's own fields."""
    fields = [("source_id", str), *record.__annotations__.items()]
    return NamedTuple(name, fields)


#: a dossier as stored (read back by scoring): its source system and the record
StoredDossier = _stored("StoredDossier", DossierRecord)
#: a petition as stored
StoredPetition = _stored("StoredPetition", PetitionRecord)


# --- rows by name ---------------------------------------------------------------------------------


def row_builder(record: type, columns: Sequence[str], context: Sequence[str] = (),
                derived: Mapping[str, Callable[[Any], Any]] | None = None) -> Callable[..., tuple]:
    """A function ``(record, *context values) -> row`` giving ``columns`` in order, each by name: a
    field of ``record``, a value of the ``context`` names (the source system, the batch …, passed in
    that order), or ``derived[name](record)``. Every column must be filled, and every field of the
    record must land in a column (else ValueError: a field the table would silently drop, or a
    column nothing fills)."""
    derived = dict(derived or {})
    names = [*record._fields, *context, *derived]
    missing = [c for c in columns if c not in names]
    dropped = [n for n in names if n not in columns]
    if missing or dropped or len(set(names)) != len(names):
        raise ValueError(f"{record.__name__} as a row: nothing fills {missing}, no column for {dropped}")
    pick = itemgetter(*(names.index(c) for c in columns))
    functions = tuple(derived.values())
    if not functions:
        return lambda r, *values: pick((*r, *values))
    return lambda r, *values: pick((*r, *values, *[f(r) for f in functions]))


# --- instants and months in Asia/Ho_Chi_Minh ---------------------------------------------------------

# Instants a reader places lie between MIN_US and MAX_US: from 1 January 1900 to 1 January 9999 (00:00
# at UTC+7). A stored instant outside them is read as the nearest bound, so any stored record has a
# place and nothing overflows the calendar (ingest accepts a much narrower range).
MIN_US = int(datetime(1899, 12, 31, 17, tzinfo=UTC).timestamp()) * US
MAX_US = int(datetime(9998, 12, 31, 17, tzinfo=UTC).timestamp()) * US
MIN_MONTH = 190001
MAX_MONTH = 999901


def clamp_us(us: int) -> int:
    """``us`` moved into [MIN_US, MAX_US] (see above)."""
    return MIN_US if us < MIN_US else MAX_US if us > MAX_US else us


@lru_cache(maxsize=1 << 16)
def _month_of_hour(hour: int) -> int:
    local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(HANOI)
    return local.year * 100 + local.month


def month_of(us: int) -> int:
    """``yyyymm`` of an instant in Asia/Ho_Chi_Minh (whole-hour offset, so cached per UTC hour);
    instants outside [MIN_US, MAX_US] count as those bounds (190001, 999901)."""
    return _month_of_hour(clamp_us(us) // HOUR_US)


def month_of_date(d: date) -> int:
    return d.year * 100 + d.month


# --- the unit hierarchy ------------------------------------------------------------------------------


def walk_up(code: str, parent_of: Callable[[str], str | None]) -> list[str]:
    """``code`` and every unit above it, nearest first, by ``parent_of`` (None or "" at the top). A
    cycle of parents in stored data is cut where a unit would come round again."""
    chain = [code]
    seen = {code}
    parent = parent_of(code)
    while parent and parent not in seen:
        seen.add(parent)
        chain.append(parent)
        parent = parent_of(parent)
    return chain
