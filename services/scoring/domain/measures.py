"""The measures of both rule versions, from dossier sums, the catalogue, publications and petitions.

A measure is a count named in a rule file's ``[measures]`` catalogue (e.g. ``dossiers_on_time``).
This module turns what scoring keeps and reads — the dossier sums of a scope and window
(:mod:`cells`), the unit–procedure offers, procedures, publication decisions, petitions and
reported totals — into every measure either version names; the engine then scores them.

Definitions follow SPEC §4.1/§4.3 and PORTAL_RULES.md; where they were silent the choice is
written beside the measure. Pure Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.scoring.domain.cells import Window, from_us, month_of, month_start_us
from services.scoring.domain.rules import RuleTable
from services.scoring.domain.timing import (
    PetitionLimits,
    classify_petition,
    decision_on_time,
    listing_on_time,
)
from services.scoring.domain.workdays import add_working_days
from services.shared.records import (
    HANOI,
    UNIT_KIND_NAMES,
    ProcedureRecord,
    PublicationRecord,
    StoredPetition,
    UnitKind,
    UnitProcedureRecord,
)

COMMUNE = UnitKind.COMMUNE
PART_NAMES = {
    "name": 1, "steps": 2, "method": 3, "dossier_components": 4, "time_limit": 5, "applicants": 6,
    "agency": 7, "result": 8, "fees": 9, "conditions": 10, "legal_basis": 11,
}  # fmt: skip

# The stored records scoring reads (services.shared.records), under the names this module uses.
Offer = UnitProcedureRecord  # a procedure as one unit performs it (``unit_procedures``)
ProcedureInfo = ProcedureRecord
PublicationInfo = PublicationRecord
PetitionRow = StoredPetition


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

    One pass over the offers (a ranking scores thousands). Chosen: only active offers count; a
    dossier of a procedure its unit has no active offer for counts in the dossier measures and, for
    the portal's online and digitised counts, as a procedure without a result document, but in no
    per-procedure measure.
    """
    procs = data.procedures
    empty: dict[str, int] = {}
    out = dict.fromkeys(_OFFER_MEASURES, 0)
    certifying: set[str] = set()
    active: set[tuple[str, str]] = set()
    for o in data.offers:
        if not o.active or o.unit_code not in data.units:
            continue
        active.add((o.unit_code, o.procedure_code))
        s = data.proc_sums.get((o.unit_code, o.procedure_code), empty)
        p = procs.get(o.procedure_code)
        out["procedures_performed"] += 1
        if o.online:
            out["procedures_online"] += 1
            out["dossiers_received_online"] += s.get("online", 0)
            out["dossiers_received_online_procedures"] += s.get("n", 0)
        if o.online_service:
            out["online_services"] += 1
            out["online_services_with_online_dossiers"] += s.get("online", 0) > 0
        if o.has_fee:
            out["fee_procedures"] += 1
            out["fee_procedures_integrated"] += o.payment_integrated
            out["fee_procedures_with_online_payment"] += s.get("fee_paid", 0) > 0
            out["fee_procedures_with_fee_dossiers"] += s.get("fee_data", 0) > 0
        if o.population_data_eligible:
            out["procedures_eligible_population_data"] += 1
            if o.population_data_connected:
                out["procedures_connected_population_data"] += 1
                out["dossiers_using_population_data"] += s.get("pop", 0)
                out["dossiers_of_connected_procedures"] += s.get("n", 0)
        if o.certified_copy:
            certifying.add(o.unit_code)
        if p is not None and p.issues_result_document:
            out["dossiers_received_online_counted"] += s.get("online_eres", 0)
            out["dossiers_digitised_with_required_e_result"] += s.get("dig_eres", 0)
            out["dossiers_synchronised_with_result_file"] += s.get("synced_file", 0)
            out["dossiers_of_result_document_procedures"] += s.get("n", 0)
        else:
            out["dossiers_received_online_counted"] += s.get("online", 0)
            out["dossiers_digitised_with_required_e_result"] += s.get("digitised", 0)
        if p is not None and p.applicants_are_individuals:
            out["procedures_for_citizens_or_foreigners"] += 1
            out["procedures_with_population_data_dossier"] += s.get("pop_eid", 0) > 0
    for key, s in data.proc_sums.items():
        if key not in active:  # dossiers of procedures without an active offer
            out["dossiers_received_online_counted"] += s.get("online", 0)
            out["dossiers_digitised_with_required_e_result"] += s.get("digitised", 0)
    communes = {u for u, kind in data.units.items() if kind == COMMUNE}
    out["fee_procedures_in_database"] = out["fee_procedures"]
    out["units_required_to_certify_copies"] = len(certifying)
    out["units_issued_e_certified_copy"] = sum(1 for u in certifying if data.certified_by_unit.get(u, 0) > 0)
    out["communes_offering_e_certified_copy"] = len(communes & certifying)
    out["communes_managed"] = len(communes)
    return {k: int(v) for k, v in out.items()}


_OFFER_MEASURES = (
    "procedures_online", "procedures_performed", "online_services_with_online_dossiers", "online_services",
    "dossiers_received_online", "dossiers_received_online_procedures", "dossiers_received_online_counted",
    "fee_procedures_with_online_payment", "fee_procedures", "fee_procedures_in_database", "fee_procedures_integrated",
    "fee_procedures_with_fee_dossiers", "units_issued_e_certified_copy", "units_required_to_certify_copies",
    "communes_offering_e_certified_copy", "communes_managed", "procedures_connected_population_data",
    "procedures_eligible_population_data", "dossiers_using_population_data", "dossiers_of_connected_procedures",
    "dossiers_synchronised_with_result_file", "dossiers_of_result_document_procedures",
    "dossiers_digitised_with_required_e_result", "procedures_with_population_data_dossier",
    "procedures_for_citizens_or_foreigners",
)  # fmt: skip


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
