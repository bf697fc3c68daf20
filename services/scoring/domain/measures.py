"""The measures of both rule versions, from dossier sums, the catalogue, publications and petitions.

A measure is a count named in a rule file's ``[measures]`` catalogue (e.g. ``dossiers_on_time``).
This module turns what scoring keeps and reads — the dossier sums of a scope and window
(:mod:`cells`), the unit–procedure offers, procedures, publication decisions, petitions and
reported totals — into every measure either version names; the engine then scores them.

Definitions follow SPEC §4.1/§4.3 and PORTAL_RULES.md; where they were silent the choice is
written beside the measure. Pure Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.scoring.domain.cells import Window, from_us, month_of, month_start_us
from services.scoring.domain.periods import HANOI
from services.scoring.domain.rules import RuleTable
from services.scoring.domain.timing import (
    PetitionLimits,
    classify_petition,
    decision_on_time,
    listing_on_time,
)
from services.scoring.domain.workdays import add_working_days

UNIT_KIND_NAMES = {
    1: "ministry", 2: "ministerial_agency", 3: "social_security", 4: "province",
    5: "department", 6: "commune", 7: "district", 8: "other",
}  # fmt: skip
COMMUNE = 6
PART_NAMES = {
    "name": 1, "steps": 2, "method": 3, "dossier_components": 4, "time_limit": 5, "applicants": 6,
    "agency": 7, "result": 8, "fees": 9, "conditions": 10, "legal_basis": 11,
}  # fmt: skip
ONLINE_PARTIAL, ONLINE_FULL = 2, 3
SERVICE_SUSPENDED = 2


@dataclass(frozen=True)
class Offer:
    """A procedure as one unit performs it (``unit_procedures``)."""

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

    @property
    def online(self) -> bool:
        return self.online_level in (ONLINE_PARTIAL, ONLINE_FULL)

    @property
    def online_service(self) -> bool:
        """An online service the unit offers (partial or full, not suspended)."""
        return self.online and self.online_service_status != SERVICE_SUSPENDED


@dataclass(frozen=True)
class ProcedureInfo:
    code: str
    issues_result_document: bool
    statutory_days: int
    applicants_are_individuals: bool


@dataclass(frozen=True)
class PublicationInfo:
    unit_code: str
    procedure_code: str
    decision_number: str
    decision_date: date
    legal_effective_date: date | None
    listed_at: int | None  # UTC microseconds
    parts: int


@dataclass(frozen=True)
class PetitionRow:
    source_id: str
    code: str
    unit_code: str
    category: int
    received_at: int
    due_at: int | None
    resolved_at: int | None
    refused_at: int | None
    first_supplement_at: int | None
    ready_for_publication_at: int | None
    published_at: int | None
    last_transfer_at: int | None
    likes: int
    dislikes: int
    repeat_complaint: bool
    rating: int


@dataclass
class ScopeData:
    """Everything read for one scope (a unit alone or with its subtree) and window."""

    unit_kind: int  # the scored unit's kind (per-kind parameters)
    units: Mapping[str, int]  # code → kind of every unit in scope
    sums: dict[str, int] = field(default_factory=dict)  # unit-level dossier sums (cells.unit_cell_sums)
    proc_sums: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (unit, procedure) → sums
    offers: list[Offer] = field(default_factory=list)
    procedures: Mapping[str, ProcedureInfo] = field(default_factory=dict)
    publications: list[PublicationInfo] = field(default_factory=list)  # every publication of the scope's units
    petitions: list[PetitionRow] = field(default_factory=list)  # received before E, possibly in the window
    reported: int | None = None  # reported totals of the window's months (None: no report at all)
    certified_by_unit: dict[str, int] = field(default_factory=dict)  # unit → e-certified-copy dossiers
    durations: dict = field(default_factory=dict)  # procedure → [count, seconds, {days: count}] (2.2)


def measure_values(table: RuleTable, data: ScopeData, w: Window) -> dict[str, int]:
    """Every measure ``table`` names, for the scope and window (absent measures mean "no data")."""
    names = table.measures()
    values: dict[str, int] = {}
    values.update(_dossier_measures(data))
    values.update(_offer_measures(data))
    values.update(_publication_measures(table, data, w))
    values.update(_petition_measures(table, data, w))
    if data.reported is not None:
        values["dossiers_reported"] = data.reported
    return {name: value for name, value in values.items() if name in names}


def _dossier_measures(data: ScopeData) -> dict[str, int]:
    s = data.sums
    g = s.get
    n = g("n", 0)
    fin = g("fin", 0)
    return {
        "dossiers_synchronised": n,
        "dossiers_received": n,
        "dossiers_on_time": n - g("late766", 0),
        "dossiers_finished_on_time_portal": fin - g("late_p_fin", 0),
        "dossiers_unfinished_within_due_portal": (n - fin) - g("late_p_unf", 0),
        "fee_dossiers_paid_online": g("fee_paid", 0),
        "fee_dossiers": g("fee", 0),
        "dossiers_finished_with_e_result": g("eres_fin", 0),
        "dossiers_finished": fin,
        "dossiers_digitised": g("digitised", 0),
        "dossiers_reusing_digitised_data": g("reused", 0),
        "dossiers_digitised_linked_to_data_store": g("linked_dig", 0),
        "dossiers_using_data_store": g("store", 0),
        "dossiers_using_population_or_eid_data": g("pop_eid", 0),
        "dossiers_dissatisfied_petitioned_or_late": g("dpl766", 0),
        "dossiers_late_petitioned_or_disliked_portal": g("dpl_p", 0),
        "dossiers_paid_online_started": g("st_paid_gw", 0),
        "fee_dossiers_nonzero": g("st_fee", 0),
    }


def _offer_measures(data: ScopeData) -> dict[str, int]:
    """Measures over the procedures the scope's units perform, and the per-procedure dossier sums.

    Chosen: only active offers count; a dossier of a procedure the unit has no offer for counts in
    the dossier measures but in no per-procedure measure.
    """
    offers = [o for o in data.offers if o.active and o.unit_code in data.units]
    procs = data.procedures
    empty: dict[str, int] = {}

    def sums(o: Offer) -> dict[str, int]:
        return data.proc_sums.get((o.unit_code, o.procedure_code), empty)

    def result_doc(o: Offer) -> bool:
        p = procs.get(o.procedure_code)
        return bool(p and p.issues_result_document)

    def individuals(o: Offer) -> bool:
        p = procs.get(o.procedure_code)
        return bool(p and p.applicants_are_individuals)

    online = [o for o in offers if o.online]
    services = [o for o in offers if o.online_service]
    fee = [o for o in offers if o.has_fee]
    eligible = [o for o in offers if o.population_data_eligible]
    connected = [o for o in eligible if o.population_data_connected]
    certifying = {o.unit_code for o in offers if o.certified_copy}
    issued = {u for u in certifying if data.certified_by_unit.get(u, 0) > 0}
    result_docs = [o for o in offers if result_doc(o)]
    plain = [o for o in offers if not result_doc(o)]
    citizens = [o for o in offers if individuals(o)]
    communes = {u for u, kind in data.units.items() if kind == COMMUNE}

    def total(items: Iterable[Offer], name: str) -> int:
        return sum(sums(o).get(name, 0) for o in items)

    def having(items: Iterable[Offer], name: str) -> int:
        return sum(1 for o in items if sums(o).get(name, 0) > 0)

    return {
        "procedures_online": len(online),
        "procedures_performed": len(offers),
        "online_services_with_online_dossiers": having(services, "online"),
        "online_services": len(services),
        "dossiers_received_online": total(online, "online"),
        "dossiers_received_online_procedures": total(online, "n"),
        "dossiers_received_online_counted": total(result_docs, "online_eres")
        + total(plain, "online")
        + _unoffered(data, "online"),
        "fee_procedures_with_online_payment": having(fee, "fee_paid"),
        "fee_procedures": len(fee),
        "fee_procedures_in_database": len(fee),
        "fee_procedures_integrated": sum(1 for o in fee if o.payment_integrated),
        "fee_procedures_with_fee_dossiers": having(fee, "fee_data"),
        "units_issued_e_certified_copy": len(issued),
        "units_required_to_certify_copies": len(certifying),
        "communes_offering_e_certified_copy": len(communes & certifying),
        "communes_managed": len(communes),
        "procedures_connected_population_data": len(connected),
        "procedures_eligible_population_data": len(eligible),
        "dossiers_using_population_data": total(connected, "pop"),
        "dossiers_of_connected_procedures": total(connected, "n"),
        "dossiers_synchronised_with_result_file": total(result_docs, "synced_file"),
        "dossiers_of_result_document_procedures": total(result_docs, "n"),
        "dossiers_digitised_with_required_e_result": total(result_docs, "dig_eres")
        + total(plain, "digitised")
        + _unoffered(data, "digitised"),
        "procedures_with_population_data_dossier": having(citizens, "pop_eid"),
        "procedures_for_citizens_or_foreigners": len(citizens),
    }


def _unoffered(data: ScopeData, name: str) -> int:
    """Sums of dossiers whose (unit, procedure) has no active offer: counted as not needing a result document."""
    active = {(o.unit_code, o.procedure_code) for o in data.offers if o.active}
    return sum(v.get(name, 0) for k, v in data.proc_sums.items() if k not in active)


# --- group I: publication decisions and listings --------------------------------------------------


def _publication_measures(table: RuleTable, data: ScopeData, w: Window) -> dict[str, int]:
    kind = UNIT_KIND_NAMES.get(data.unit_kind)
    first_day = _month_first_day(w.m1)
    moment = from_us(w.e_us)
    pubs = [p for p in data.publications if p.unit_code in data.units]
    in_window = [p for p in pubs if first_day <= p.decision_date and _before(p.decision_date, w)]
    out: dict[str, int] = {}
    lead = _param(table, "1.1", "lead_working_days", kind, 5)
    allowance = _param(table, "1.2", "listing_working_days", kind, 5)

    def on_time(p: PublicationInfo) -> bool:
        # Chosen: a decision whose legal text has no effective date cannot be judged late.
        return p.legal_effective_date is None or decision_on_time(p.decision_date, p.legal_effective_date, lead)

    def listed_by(p: PublicationInfo) -> date | None:
        if p.listed_at is None or p.listed_at >= w.e_us:
            return None
        return from_us(p.listed_at).astimezone(HANOI).date()

    # 766/2022 1.1 / 1.2: per decision (unit, procedure, decision number) dated in the period
    out["decisions_due"] = len(in_window)
    out["decisions_on_time"] = sum(1 for p in in_window if on_time(p))
    out["procedures_decided"] = len(in_window)
    out["procedures_listed_on_time"] = sum(
        1 for p in in_window if (day := listed_by(p)) is not None and listing_on_time(p.decision_date, day, allowance)
    )
    # portal/2025 1.1: distinct procedures; late once in the period = late for the period
    by_procedure: dict[tuple[str, str], bool] = {}
    for p in in_window:
        key = (p.unit_code, p.procedure_code)
        by_procedure[key] = by_procedure.get(key, True) and on_time(p)
    out["procedures_published"] = len(by_procedure)
    out["procedures_published_on_time"] = sum(by_procedure.values())
    # portal/2025 1.2: listed in the period, plus those whose listing fell due in it
    last_day = (moment - timedelta(microseconds=1)).astimezone(HANOI).date()
    due_or_listed = []
    for p in pubs:
        due = add_working_days(p.decision_date, allowance)
        listed = listed_by(p)
        if (listed is not None and first_day <= listed <= last_day) or (first_day <= due and _before(due, w)):
            due_or_listed.append((p, listed, due))
    out["procedures_listed_or_listing_due"] = len(due_or_listed)
    out["procedures_listed_or_due_on_time"] = sum(1 for _, listed, due in due_or_listed if listed and listed <= due)
    # 1.3: current state of the listings — the latest listed decision per procedure
    latest: dict[tuple[str, str], PublicationInfo] = {}
    for p in pubs:
        if listed_by(p) is None:
            continue
        key = (p.unit_code, p.procedure_code)
        if key not in latest or (p.decision_date, p.decision_number) > (
            latest[key].decision_date,
            latest[key].decision_number,
        ):
            latest[key] = p
    required = _param(table, "1.3", "required_parts", None, tuple(PART_NAMES))
    mask = sum(1 << PART_NAMES[name] for name in required)
    complete = sum(1 for p in latest.values() if p.parts & mask == mask)
    out["listings"] = len(latest)
    out["listings_all_parts"] = complete
    out["listings_seven_parts"] = complete
    return out


def _before(day: date, w: Window) -> bool:
    """``day`` falls no later than the window's last month and began before the evaluation moment."""
    begun = datetime(day.year, day.month, day.day, tzinfo=HANOI) < from_us(w.e_us)
    return day.year * 100 + day.month <= w.last and begun


def _month_first_day(month: int) -> date:
    return date(month // 100, month % 100, 1)


def _param(table: RuleTable, indicator_id: str, name: str, kind: str | None, default):
    try:
        return table.indicator(indicator_id).parameter(name, kind)
    except KeyError:
        return default


# --- group V: petitions -----------------------------------------------------------------------------


def _petition_measures(table: RuleTable, data: ScopeData, w: Window) -> dict[str, int]:
    e = w.e_us
    start = month_start_us(w.m1)
    moment = from_us(e)
    rows = [p for p in data.petitions if p.unit_code in data.units and p.received_at < e]
    in_window = [p for p in rows if start <= p.received_at and month_of(p.received_at) <= w.m2]
    out = {
        # 766/2022 5.2: due in the period (and by E), resolved by the due time
        "petitions_due": 0,
        "petitions_resolved_on_time": 0,
        # 766/2022 5.3: petitions received in the period that were rated
        "petitions_rated": sum(1 for p in in_window if p.rating),
        "petitions_rated_satisfied": sum(1 for p in in_window if p.rating == 1),
        "petitions_first_received": len(in_window),
    }
    for p in rows:
        if p.due_at is not None and start <= p.due_at < e and month_of(p.due_at) <= w.m2:
            out["petitions_due"] += 1
            if p.resolved_at is not None and p.resolved_at <= p.due_at:
                out["petitions_resolved_on_time"] += 1
    try:
        limits = PetitionLimits.from_parameters(table.indicator("5.2").parameters)
    except Exception:  # noqa: BLE001 — 766/2022 has no stage limits
        return out
    handled_on_time = in_process_ok = population = disliked = 0
    late_codes: set[tuple[str, str]] = set()
    for p in rows:
        ended = min((t for t in (p.refused_at, p.published_at) if t is not None), default=None)
        ended = ended if ended is not None and ended < e else None
        handled_in_window = ended is not None and ended >= start
        in_process = ended is None
        if not (handled_in_window or in_process):
            continue
        outcome = classify_petition(
            from_us(p.received_at),
            moment,
            limits,
            last_transfer_at=_dt(p.last_transfer_at),
            refused_at=_dt(p.refused_at),
            first_supplement_at=_dt(p.first_supplement_at),
            ready_at=_dt(p.ready_for_publication_at),
            published_at=_dt(p.published_at),
        )
        population += 1
        if outcome.on_time:
            if in_process:
                in_process_ok += 1
            else:
                handled_on_time += 1
        else:
            late_codes.add((p.source_id, p.code))
    for p in in_window:
        late = (p.source_id, p.code) in late_codes
        if p.dislikes > p.likes or p.repeat_complaint or late:
            disliked += 1
    out.update(
        petitions_handled_on_time=handled_on_time,
        petitions_in_process_within_limit=in_process_ok,
        petitions_handled_or_in_process=population,
        petitions_disliked_late_or_repeated=disliked,
    )
    return out


def petition_categories(data: ScopeData, w: Window) -> dict[int, int]:
    """5.1: petitions received in the window, by category."""
    start = month_start_us(w.m1)
    out: dict[int, int] = {}
    for p in data.petitions:
        if p.unit_code in data.units and start <= p.received_at < w.e_us and month_of(p.received_at) <= w.m2:
            out[p.category] = out.get(p.category, 0) + 1
    return out


def _dt(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)
