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
from fractions import Fraction

from services.scoring.domain.cells import (
    BIT,
    DUE_TIME,
    STATUTORY_LIMIT,
    Policy,
    Window,
    contribution,
    from_us,
    month_of,
    month_start_us,
)
from services.scoring.domain.rules import Kind, RuleTable, RuleTableError
from services.scoring.domain.timing import (
    LateReason,
    PetitionLimits,
    classify_dossier,
    classify_petition,
    decision_on_time,
    listing_on_time,
)
from services.scoring.domain.workdays import add_working_days, working_days_between
from services.shared.records import (
    HANOI,
    PROCESSING_WAITING_SUPPLEMENT,
    RATING_DISSATISFIED,
    UNIT_KIND_NAMES,
    DossierFlag,
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
    """Every measure ``table`` names, for the scope and window (absent measures mean "no data").
    Only the families of measures the table names are counted."""
    names = table.measures()
    families = {MEASURES[name].family for name in names if name in MEASURES}
    values: dict[str, int] = {}
    if "dossiers" in families:
        values.update(_dossier_measures(data))
    if "policy" in families and table.policy is not None:
        values.update(_policy_measures(data, table.policy))
    if "offers" in families:
        values.update(_offer_measures(data))
    if "publications" in families:
        values.update(_publication_measures(table, data, w))
    if "petitions" in families:
        values.update(_petition_measures(table, data, w))
    if data.reported is not None:
        values["dossiers_reported"] = data.reported
    return {name: value for name, value in values.items() if name in names}


def _policy_measures(data: ScopeData, policy: Policy) -> dict[str, int]:
    """The dossier measures whose lateness is the version's policy's (each named for its policy)."""
    g = data.sums.get
    n, fin = g("n", 0), g("fin", 0)
    late_fin, late_unf, dpl = g(policy.late_fin, 0), g(policy.late_unf, 0), g(policy.dpl, 0)
    if policy is DUE_TIME:
        return {"dossiers_on_time": n - late_fin - late_unf, "dossiers_dissatisfied_petitioned_or_late": dpl}
    return {
        "dossiers_finished_on_time_portal": fin - late_fin,
        "dossiers_unfinished_within_due_portal": (n - fin) - late_unf,
        "dossiers_late_petitioned_or_disliked_portal": dpl,
    }


def _dossier_measures(data: ScopeData) -> dict[str, int]:
    s = data.sums
    g = s.get
    n = g("n", 0)
    fin = g("fin", 0)
    return {
        "dossiers_synchronised": n,
        "dossiers_received": n,
        "fee_dossiers_paid_online": g("fee_paid", 0),
        "fee_dossiers": g("fee", 0),
        "dossiers_finished_with_e_result": g("eres_fin", 0),
        "dossiers_finished": fin,
        "dossiers_digitised": g("digitised", 0),
        "dossiers_reusing_digitised_data": g("reused", 0),
        "dossiers_digitised_linked_to_data_store": g("linked_dig", 0),
        "dossiers_using_data_store": g("store", 0),
        "dossiers_using_population_or_eid_data": g("pop_eid", 0),
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
            out["fee_procedures_with_successful_online_payment"] += s.get("paid", 0) > 0
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
    "fee_procedures_with_fee_dossiers", "fee_procedures_with_successful_online_payment",
    "units_issued_e_certified_copy", "units_required_to_certify_copies",
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
    lead = table.parameter_for(_DECISION_TIMING, "lead_working_days", kind, 5)
    allowance = table.parameter_for(_LISTING_TIMING, "listing_working_days", kind, 5)

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
    required = table.parameter_for(_LISTING_PARTS, "required_parts", None, tuple(PART_NAMES))
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
    if not set(_PETITION_STAGES) & set(table.measures()):
        return out  # the stage measures are not named (766/2022)
    limits = petition_limits(table)
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


# --- the code behind every measure a rule file may name ---------------------------------------------


@dataclass(frozen=True)
class MeasureCode:
    """What counts a measure: its family (the function above that counts it), the lateness policy it
    needs (None: any), and the rule parameters its code reads (name → whether it has a default)."""

    family: str
    policy: str | None = None
    parameters: Mapping[str, bool] = field(default_factory=dict)


_DECISION_TIMING = ("decisions_on_time", "procedures_published_on_time")
_LISTING_TIMING = ("procedures_listed_on_time", "procedures_listed_or_due_on_time", "procedures_listed_or_listing_due")
_LISTING_PARTS = ("listings_all_parts", "listings_seven_parts")
_PETITION_STAGES = ("petitions_handled_on_time", "petitions_in_process_within_limit",
                    "petitions_handled_or_in_process", "petitions_disliked_late_or_repeated")
_STAGE_LIMITS = dict.fromkeys(("refusal_working_days", "first_supplement_working_days",
                               "ready_for_publication_working_days", "publication_working_days"), False)


def _codes() -> dict[str, MeasureCode]:
    out: dict[str, MeasureCode] = {}
    for name in ("dossiers_synchronised", "dossiers_received", "fee_dossiers_paid_online", "fee_dossiers",
                 "dossiers_finished_with_e_result", "dossiers_finished", "dossiers_digitised",
                 "dossiers_reusing_digitised_data", "dossiers_digitised_linked_to_data_store",
                 "dossiers_using_data_store", "dossiers_using_population_or_eid_data", "dossiers_paid_online_started",
                 "fee_dossiers_nonzero"):
        out[name] = MeasureCode("dossiers")
    for name in ("dossiers_on_time", "dossiers_dissatisfied_petitioned_or_late"):
        out[name] = MeasureCode("policy", DUE_TIME.id)
    for name in ("dossiers_finished_on_time_portal", "dossiers_unfinished_within_due_portal",
                 "dossiers_late_petitioned_or_disliked_portal"):
        out[name] = MeasureCode("policy", STATUTORY_LIMIT.id)
    for name in _OFFER_MEASURES:
        out[name] = MeasureCode("offers")
    for name in ("decisions_due", "procedures_decided", "procedures_published", "listings"):
        out[name] = MeasureCode("publications")
    for name in _DECISION_TIMING:
        out[name] = MeasureCode("publications", parameters={"lead_working_days": True})
    for name in _LISTING_TIMING:
        out[name] = MeasureCode("publications", parameters={"listing_working_days": True})
    for name in _LISTING_PARTS:
        out[name] = MeasureCode("publications", parameters={"required_parts": True})
    for name in ("petitions_due", "petitions_resolved_on_time", "petitions_rated", "petitions_rated_satisfied",
                 "petitions_first_received"):
        out[name] = MeasureCode("petitions")
    for name in _PETITION_STAGES:
        out[name] = MeasureCode("petitions", parameters=_STAGE_LIMITS)
    out["dossiers_reported"] = MeasureCode("reported")
    return out


#: every measure name a rule file may use, with the code that counts it
MEASURES: Mapping[str, MeasureCode] = _codes()
_NONE = MeasureCode("none")


def petition_limits(table: RuleTable) -> PetitionLimits:
    """5.2's stage limits, as set on the indicator that names the stage measures."""
    return PetitionLimits(*(table.parameter_for(_PETITION_STAGES, name, None, None) for name in _STAGE_LIMITS))


def check_rule_table(table: RuleTable) -> None:
    """Refuse a rule table whose measures have no code behind them, need a lateness policy the table
    does not name, or need a parameter it does not set; or which sets a parameter no code of the
    indicator reads. One line, naming the file, the indicator and the problem (RuleTableError)."""
    policy = table.policy.id if table.policy else None
    for indicator in table.indicators:
        where = f"{table.path or table.id}: indicator {indicator.id}"
        names = indicator.measures()
        read: dict[str, bool] = {}
        for name in names:
            code = MEASURES.get(name)
            if code is None:
                raise RuleTableError(f"{where}: measure {name!r} has no code behind it: nothing would count it "
                                     "(add its code to services/scoring/domain/measures.py, or use a measure "
                                     "that exists)")
            if code.policy is not None and code.policy != policy:
                named = f"names policy {policy!r}" if policy else "names no policy"
                raise RuleTableError(f"{where}: measure {name!r} judges lateness under policy {code.policy!r}, "
                                     f"but the file {named} (set policy = \"{code.policy}\" at the top)")
            read.update(code.parameters)
        if indicator.numerator is not None and indicator.kind not in (Kind.FULL, Kind.ANALYSIS):
            expr = indicator.numerator
            key = expr.names[1] if expr.op == "minus" else expr.names[0]
            if key not in _SHORTFALLS:
                raise RuleTableError(f"{where}: measure {key!r} cannot explain which records cost points "
                                     "(add its shortfall beside its count in services/scoring/domain/measures.py)")
        for parameter in indicator.parameters:
            if parameter not in read:
                raise RuleTableError(f"{where}: parameter {parameter!r} is read by none of its measures "
                                     f"({', '.join(names) or 'none'})")
        for parameter, has_default in read.items():
            # read from whichever indicator names a measure that reads it (5.3 reads 5.2's limits)
            needing = [n for n in table.measures() if parameter in MEASURES.get(n, _NONE).parameters]
            if not has_default and table.parameter_for(needing, parameter, None, None) is None:
                raise RuleTableError(f"{where}: its measures need the parameter {parameter!r}, set on no "
                                     f"indicator that names {', '.join(needing)}")


# --- explanations: the records behind each measure's shortfall ----------------------------------------
#
# Beside each count above, the records it leaves out: for a numerator measure, the records of its
# indicator's denominator that it does not count (for "a − b" numerators, the records b counts). Each
# record carries a machine code and a Vietnamese reason with its facts. The same definitions as the
# counts, applied record by record (a property test holds them equal for random stores).


@dataclass(frozen=True)
class Cost:
    """A record that cost an indicator points (its share of the loss is given by :func:`explain`)."""

    record_kind: str  # dossier | petition | procedure | publication | unit
    record_key: str
    unit_code: str
    code: str  # machine reason, e.g. "ended_late"
    reason: str  # Vietnamese, with its facts, e.g. "Quá hạn 3 ngày làm việc"
    late_seconds: int = 0
    attributes: Mapping[str, str] = field(default_factory=dict)
    weight: int = 1  # how many of the denominator it stands for (1.4: a unit's missing dossiers)


@dataclass
class RecordData:
    """What an explanation reads besides :class:`ScopeData`: the scope's stored dossiers in the window
    and, per unit, the reported totals."""

    rows: list  # StoredDossier in the window (cells.row_in_window)
    statutory: Mapping[str, int]  # procedure → statutory limit in working days
    reported: Mapping[str, int]  # unit → reported total of the window (units that reported)


@dataclass(frozen=True)
class Explanation:
    """What an indicator lost and the records that cost it, each with its exact share."""

    indicator_id: str
    rule_version: str
    max: Fraction
    points: Fraction
    lost: Fraction  # max − points for a scored indicator; 0 when nothing was lost or it is not scored
    status: str
    items: tuple[tuple[Cost, Fraction], ...]

    @property
    def headline(self) -> str:
        if self.status != "SCORED":
            return {"NA": "Không áp dụng: không có mẫu số, không tính điểm",
                    "ANALYSIS": "Chỉ số phân tích, không tính điểm",
                    "UNSCORED": "Chưa có công thức tính điểm: chỉ hiển thị số liệu"}.get(self.status, self.status)
        if not self.lost:
            return f"Đạt điểm tối đa {_vn(self.max)}: không bản ghi nào làm mất điểm"
        if not self.items:
            return f"Mất {_vn(self.lost)} điểm, không do bản ghi nào của chỉ số này"
        return f"{len(self.items)} bản ghi làm mất {_vn(self.lost)} điểm"


def _vn(points: Fraction) -> str:
    """Points as shown to people: half-up to 2 decimals, with a decimal comma ("1,35")."""
    hundredths = (points * 100 + Fraction(1, 2)).__floor__()
    text = f"{hundredths // 100},{hundredths % 100:02d}"
    return text


def _day(us: int) -> str:
    return from_us(us).astimezone(HANOI).strftime("%d/%m/%Y")


def _date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def explain(table: RuleTable, result, data: ScopeData, records: RecordData, w: Window) -> Explanation:
    """The records that cost ``result`` (the scorecard's indicator) its points, the loss shared among
    them exactly (by weight). Nothing is listed for an indicator at full points, not applicable or not
    scored; an indicator that lost points without a record of its own to show (no data at all, or 3.3's
    synchronisation factor) says so in its headline."""
    status = str(result.status)
    lost = result.max - result.points if status == "SCORED" else Fraction(0)
    if lost <= 0:
        return Explanation(result.id, table.id, result.max, result.points, Fraction(0), status, ())
    indicator = table.indicator(result.id)
    if indicator.numerator is None:
        return Explanation(result.id, table.id, result.max, result.points, lost, status, ())
    costs = sorted(_shortfall(table, indicator, data, records, w),
                   key=lambda c: (-c.late_seconds, c.unit_code, c.record_key))
    total = sum(c.weight for c in costs)
    items = tuple((c, lost * c.weight / total) for c in costs) if total else ()
    return Explanation(result.id, table.id, result.max, result.points, lost, status, items)


def _shortfall(table: RuleTable, indicator, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    expr = indicator.numerator
    key = expr.names[1] if expr.op == "minus" else expr.names[0]
    return _SHORTFALLS[key](table, data, records, w)


# dossiers ---------------------------------------------------------------------------------------------


def _dossier(row, code: str, reason: str, late_seconds: int = 0, **attributes: str) -> Cost:
    return Cost("dossier", f"{row.source_id}/{row.code}", row.unit_code, code, reason, late_seconds,
                {"procedure_code": row.procedure_code, **attributes})


def _bits(row, records: RecordData) -> int:
    return contribution(row, records.statutory.get(row.procedure_code, 0)).bits


def _late(row, records: RecordData, w: Window, policy: Policy) -> Cost | None:
    """Why ``row`` is late as of E under ``policy`` (None: on time) — the rule of SPEC §4.3."""
    stat = records.statutory.get(row.procedure_code, 0)
    outcome = classify_dossier(
        received_at=from_us(row.received_at), due_at=_dt(row.due_at), finished_at=_dt(row.end_at),
        supplement_count=row.supplement_count, last_supplement_at=_dt(row.last_supplement_at),
        # as the cells do: waiting counts only with a request counted (a stored row ingest refuses now)
        waiting_supplement=row.processing_state == PROCESSING_WAITING_SUPPLEMENT and row.supplement_count > 0,
        unlawful_pause=bool(row.flags & DossierFlag.UNLAWFUL_PAUSE), as_of=from_us(w.e_us),
        statutory_days=(stat or None) if policy.statutory_limit and row.due_at is None else None,
        applicant_supplement_seconds=row.applicant_supplement_seconds)
    if outcome.on_time:
        return None
    seconds = int(outcome.lateness.total_seconds())
    reason = outcome.reason
    if reason == LateReason.MULTIPLE_SUPPLEMENTS:
        return _dossier(row, str(reason), f"Yêu cầu bổ sung {row.supplement_count} lần", seconds)
    if reason == LateReason.UNLAWFUL_PAUSE:
        return _dossier(row, str(reason), "Tạm dừng không đúng quy định", seconds)
    deadline = outcome.deadline.astimezone(HANOI)
    judged = outcome.judged_at.astimezone(HANOI)
    days = working_days_between(deadline.date(), judged.date())
    late = f"Quá hạn {days} ngày làm việc" if days > 0 else "Quá hạn trong ngày làm việc cuối"
    facts = f"hạn {_date(deadline.date())}, " + (
        f"kết thúc {_date(judged.date())}" if reason == LateReason.ENDED_LATE else "chưa giải quyết xong")
    return _dossier(row, str(reason), f"{late} ({facts})", seconds, due=_date(deadline.date()))


def _late_dossiers(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """2.1: the dossiers received in the period that are late under the version's policy."""
    return [c for row in records.rows if (c := _late(row, records, w, table.policy)) is not None]


def _late_or_dissatisfied(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """5.4: the dossiers late under the version's policy, petitioned about or rated dissatisfied."""
    out = []
    for row in records.rows:
        late = _late(row, records, w, table.policy)
        if late is not None:
            out.append(late)
        elif row.flags & DossierFlag.PETITIONED:
            out.append(_dossier(row, "petitioned", "Hồ sơ bị phản ánh, kiến nghị"))
        elif row.rating == RATING_DISSATISFIED:
            out.append(_dossier(row, "rated_dissatisfied", "Người dân đánh giá không hài lòng"))
    return out


def _dossiers_without(counter: str, code: str, reason: str, among: str | None = None, started: bool = False):
    """The dossiers in the period (``among``: those with that counter; ``started``: whose processing
    started in the period) without ``counter``."""

    def shortfall(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
        out = []
        for row in records.rows:
            if started and not _started_in(row, w):
                continue
            bits = _bits(row, records)
            if (among is None or bits & BIT[among]) and not bits & BIT[counter]:
                out.append(_dossier(row, code, reason))
        return out

    return shortfall


def _started_in(row, w: Window) -> bool:
    start = row.started_at if row.started_at is not None else row.received_at
    return start < w.e_us and w.m1 <= month_of(start) <= w.m2


def _finished_without_e_result(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 4.1: dossiers finished by E without an electronic result."""
    return [_dossier(row, "no_electronic_result", "Hồ sơ đã giải quyết chưa có kết quả điện tử")
            for row in records.rows
            if row.end_at is not None and row.end_at <= w.e_us and not _bits(row, records) & BIT["eres"]]


# per-procedure dossier measures (portal 3.3, 4.1, 4.2; 766 3.3, 4.7): whose procedure is offered how


def _active_offers(data: ScopeData) -> dict[tuple[str, str], Offer]:
    return {(o.unit_code, o.procedure_code): o for o in data.offers if o.active and o.unit_code in data.units}


def _result_document(data: ScopeData, offers, row) -> bool:
    """The portal's "procedure that requires a result document" (an active offer's procedure only)."""
    p = data.procedures.get(row.procedure_code)
    return (row.unit_code, row.procedure_code) in offers and p is not None and p.issues_result_document


def _without_or_without_result(counter: str, with_result: str, code: str, reason: str, reason_no_result: str):
    """portal 3.3 / 4.2: dossiers without ``counter``, or — of a procedure that requires a result
    document — with it but without an electronic result (``with_result``)."""

    def shortfall(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
        offers = _active_offers(data)
        out = []
        for row in records.rows:
            bits = _bits(row, records)
            if not bits & BIT[counter]:
                out.append(_dossier(row, code, reason))
            elif _result_document(data, offers, row) and not bits & BIT[with_result]:
                out.append(_dossier(row, "no_electronic_result", reason_no_result))
        return out

    return shortfall


def _without_result_file(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    offers = _active_offers(data)
    return [_dossier(row, "no_result_file", "Hồ sơ chưa đồng bộ tệp kết quả giải quyết")
            for row in records.rows
            if _result_document(data, offers, row) and not _bits(row, records) & BIT["synced_file"]]


def _offline_of_online_procedures(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 3.3: dossiers of procedures offered online that were not submitted online."""
    offers = _active_offers(data)
    return [_dossier(row, "not_submitted_online", "Hồ sơ của TTHC có dịch vụ công trực tuyến không nộp trực tuyến")
            for row in records.rows
            if (o := offers.get((row.unit_code, row.procedure_code))) is not None and o.online
            and not _bits(row, records) & BIT["online"]]


def _without_population_data(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 4.7: dossiers of procedures connected to population data that did not use it."""
    offers = _active_offers(data)
    return [_dossier(row, "population_data_not_used", "Hồ sơ không sử dụng dữ liệu dân cư")
            for row in records.rows
            if (o := offers.get((row.unit_code, row.procedure_code))) is not None
            and o.population_data_eligible and o.population_data_connected and not _bits(row, records) & BIT["pop"]]


# procedures (offers) and units --------------------------------------------------------------------


def _proc_bits(records: RecordData) -> dict[tuple[str, str], int]:
    """(unit, procedure) → the union of its dossiers' counters in the period."""
    out: dict[tuple[str, str], int] = {}
    for row in records.rows:
        key = (row.unit_code, row.procedure_code)
        out[key] = out.get(key, 0) | _bits(row, records)
    return out


def _procedure(o: Offer, code: str, reason: str) -> Cost:
    return Cost("procedure", o.procedure_code, o.unit_code, code, reason)


def _offers_without(test, code: str, reason: str):
    """Active offers for which ``test(offer, procedure, bits of its dossiers)`` is True."""

    def shortfall(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
        bits = _proc_bits(records)
        return [_procedure(o, code, reason) for key, o in sorted(_active_offers(data).items())
                if test(o, data.procedures.get(o.procedure_code), bits.get(key, 0))]

    return shortfall


def _uncertified_units(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 4.4: units that must certify copies and issued no electronic certified copy."""
    issued = {row.unit_code for row in records.rows if _bits(row, records) & BIT["certified"]}
    units = sorted({o.unit_code for o in _active_offers(data).values() if o.certified_copy})
    return [Cost("unit", u, u, "no_electronic_certified_copy", "Đơn vị chưa cấp bản sao điện tử có chứng thực "
                 "trong kỳ") for u in units if u not in issued]


def _unsynchronised(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """1.4: units that synchronised fewer dossiers than they reported, weighted by the difference."""
    synced: dict[str, int] = {}
    for row in records.rows:
        synced[row.unit_code] = synced.get(row.unit_code, 0) + 1
    out = []
    for unit, reported in sorted(records.reported.items()):
        missing = reported - synced.get(unit, 0)
        if missing > 0:
            out.append(Cost("unit", unit, unit, "fewer_synchronised_than_reported",
                            f"Đồng bộ {synced.get(unit, 0)} hồ sơ, báo cáo {reported} hồ sơ: thiếu {missing}",
                            attributes={"reported": str(reported), "synchronised": str(synced.get(unit, 0))},
                            weight=missing))
    return out


# publications -------------------------------------------------------------------------------------


def _publication(p: PublicationInfo, code: str, reason: str, **attributes: str) -> Cost:
    return Cost("publication", f"{p.procedure_code}/{p.decision_number}", p.unit_code, code, reason,
                attributes=attributes)


def _decided_late(distinct: bool):
    """1.1: decisions in the period made less than the lead time before their legal text took effect
    (``distinct``: once per procedure, its first late decision — portal/2025's distinct procedures)."""
    return lambda table, data, records, w: _decisions_late(table, data, w, distinct)


def _decisions_late(table: RuleTable, data: ScopeData, w: Window, distinct: bool) -> list[Cost]:
    lead = table.parameter_for(_DECISION_TIMING, "lead_working_days", UNIT_KIND_NAMES.get(data.unit_kind), 5)
    out, seen = [], set()
    for p in sorted(_in_window(data, w), key=lambda p: (p.unit_code, p.procedure_code, p.decision_number)):
        if p.legal_effective_date is None or decision_on_time(p.decision_date, p.legal_effective_date, lead):
            continue
        if distinct and (p.unit_code, p.procedure_code) in seen:
            continue
        seen.add((p.unit_code, p.procedure_code))
        out.append(_publication(p, "decided_late", f"Công bố muộn: quyết định ngày {_date(p.decision_date)}, văn "
                                f"bản có hiệu lực {_date(p.legal_effective_date)} (cần trước ít nhất {lead} ngày "
                                "làm việc)", decision_date=p.decision_date.isoformat(),
                                legal_effective_date=p.legal_effective_date.isoformat()))
    return out


def _in_window(data: ScopeData, w: Window) -> list[PublicationInfo]:
    first = _month_first_day(w.m1)
    return [p for p in data.publications
            if p.unit_code in data.units and first <= p.decision_date and _before(p.decision_date, w)]


def _listed_on(p: PublicationInfo, w: Window) -> date | None:
    if p.listed_at is None or p.listed_at >= w.e_us:
        return None
    return from_us(p.listed_at).astimezone(HANOI).date()


def _listing_cost(p: PublicationInfo, listed: date | None, due: date) -> Cost:
    if listed is None:
        return _publication(p, "not_listed", f"Chưa công khai (hạn {_date(due)})", listing_due=due.isoformat())
    return _publication(p, "listed_late", f"Công khai muộn ngày {_date(listed)} (hạn {_date(due)})",
                        listing_due=due.isoformat(), listed_on=listed.isoformat())


def _listed_late(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 1.2: decisions in the period not listed within the allowance."""
    allowance = table.parameter_for(_LISTING_TIMING, "listing_working_days", UNIT_KIND_NAMES.get(data.unit_kind), 5)
    out = []
    for p in sorted(_in_window(data, w), key=lambda p: (p.unit_code, p.procedure_code, p.decision_number)):
        listed = _listed_on(p, w)
        if listed is None or not listing_on_time(p.decision_date, listed, allowance):
            out.append(_listing_cost(p, listed, add_working_days(p.decision_date, allowance)))
    return out


def _listed_or_due_late(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """portal 1.2: listings in the period, or falling due in it, not made by their due day."""
    allowance = table.parameter_for(_LISTING_TIMING, "listing_working_days", UNIT_KIND_NAMES.get(data.unit_kind), 5)
    first_day = _month_first_day(w.m1)
    last_day = (from_us(w.e_us) - timedelta(microseconds=1)).astimezone(HANOI).date()
    out = []
    for p in sorted(data.publications, key=lambda p: (p.unit_code, p.procedure_code, p.decision_number)):
        if p.unit_code not in data.units:
            continue
        due = add_working_days(p.decision_date, allowance)
        listed = _listed_on(p, w)
        counted = (listed is not None and first_day <= listed <= last_day) or (first_day <= due and _before(due, w))
        if counted and not (listed and listed <= due):
            out.append(_listing_cost(p, listed, due))
    return out


def _incomplete_listings(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """1.3: current listings (the latest listed decision per procedure) without every required part."""
    required = table.parameter_for(_LISTING_PARTS, "required_parts", None, tuple(PART_NAMES))
    latest: dict[tuple[str, str], PublicationInfo] = {}
    for p in data.publications:
        if p.unit_code not in data.units or _listed_on(p, w) is None:
            continue
        key = (p.unit_code, p.procedure_code)
        if key not in latest or (p.decision_date, p.decision_number) > (latest[key].decision_date,
                                                                        latest[key].decision_number):
            latest[key] = p
    out = []
    for _, p in sorted(latest.items()):
        missing = [name for name in required if not p.parts & (1 << PART_NAMES[name])]
        if missing:
            out.append(_publication(p, "missing_parts", f"Công khai thiếu bộ phận: {', '.join(missing)}",
                                    missing=",".join(missing)))
    return out


# petitions ----------------------------------------------------------------------------------------


def _petition(p: PetitionRow, code: str, reason: str, late_seconds: int = 0, **attributes: str) -> Cost:
    return Cost("petition", f"{p.source_id}/{p.code}", p.unit_code, code, reason, late_seconds, attributes)


def _petitions_late_766(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 5.2: petitions due in the period not resolved by their due time."""
    start, e = month_start_us(w.m1), w.e_us
    out = []
    for p in data.petitions:
        if p.unit_code not in data.units or p.received_at >= e or p.due_at is None:
            continue
        if not (start <= p.due_at < e and month_of(p.due_at) <= w.m2):
            continue
        if p.resolved_at is None or p.resolved_at > p.due_at:
            late = ((p.resolved_at or e) - p.due_at) // 1_000_000
            if p.resolved_at is not None:
                out.append(_petition(p, "resolved_late", f"Giải quyết PAKN quá hạn (hạn {_day(p.due_at)}, giải quyết "
                                     f"{_day(p.resolved_at)})", late))
            else:
                out.append(_petition(p, "unresolved_overdue", f"PAKN quá hạn chưa giải quyết (hạn {_day(p.due_at)})",
                                     late))
    return out


def _petitions_unsatisfied(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """766 5.3: rated petitions received in the period not rated satisfied."""
    start = month_start_us(w.m1)
    return [_petition(p, "not_satisfied", "Người dân chưa hài lòng với kết quả xử lý PAKN", rating=str(p.rating))
            for p in data.petitions
            if p.unit_code in data.units and start <= p.received_at < w.e_us and month_of(p.received_at) <= w.m2
            and p.rating and p.rating != 1]


_STAGE_REASONS = {
    LateReason.LATE_REFUSAL: "Từ chối PAKN quá hạn",
    LateReason.LATE_SUPPLEMENT_REQUEST: "Yêu cầu bổ sung PAKN quá hạn",
    LateReason.LATE_READY_FOR_PUBLICATION: "Chậm sẵn sàng công khai kết quả PAKN",
    LateReason.LATE_PUBLICATION: "Công khai kết quả PAKN quá hạn",
    LateReason.OVERDUE_UNFINISHED: "PAKN quá hạn chưa xử lý xong",
}


def _stage_outcomes(table: RuleTable, data: ScopeData, w: Window) -> dict[tuple[str, str], tuple]:
    """portal 5.2: (petition, outcome) of the petitions handled in the period or in process at E."""
    limits = petition_limits(table)
    start, e, moment = month_start_us(w.m1), w.e_us, from_us(w.e_us)
    out = {}
    for p in data.petitions:
        if p.unit_code not in data.units or p.received_at >= e:
            continue
        ended = min((t for t in (p.refused_at, p.published_at) if t is not None), default=None)
        ended = ended if ended is not None and ended < e else None
        if ended is not None and ended < start:
            continue
        outcome = classify_petition(from_us(p.received_at), moment, limits, last_transfer_at=_dt(p.last_transfer_at),
                                    refused_at=_dt(p.refused_at), first_supplement_at=_dt(p.first_supplement_at),
                                    ready_at=_dt(p.ready_for_publication_at), published_at=_dt(p.published_at))
        out[(p.source_id, p.code)] = (p, outcome)
    return out


def _petitions_late_stages(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    return [_petition(p, str(o.reason), _STAGE_REASONS.get(o.reason, "PAKN quá hạn"), int(o.lateness.total_seconds()))
            for p, o in _stage_outcomes(table, data, w).values() if not o.on_time]


def _petitions_disliked(table: RuleTable, data: ScopeData, records: RecordData, w: Window) -> list[Cost]:
    """portal 5.3: petitions first received in the period, late under 5.2, disliked or complained again."""
    late = {k for k, (_, o) in _stage_outcomes(table, data, w).items() if not o.on_time}
    start = month_start_us(w.m1)
    out = []
    for p in data.petitions:
        if p.unit_code not in data.units or not (start <= p.received_at < w.e_us and month_of(p.received_at) <= w.m2):
            continue
        if (p.source_id, p.code) in late:
            out.append(_petition(p, "late", "PAKN xử lý quá hạn"))
        elif p.dislikes > p.likes:
            out.append(_petition(p, "more_dislikes", f"PAKN có {p.dislikes} lượt không thích, {p.likes} lượt thích"))
        elif p.repeat_complaint:
            out.append(_petition(p, "repeat_complaint", "PAKN bị phản ánh lại"))
    return out


#: numerator measure → the records of its indicator's denominator it leaves out (for "a − b": b's)
_SHORTFALLS = {
    "dossiers_on_time": _late_dossiers,
    "dossiers_finished_on_time_portal": _late_dossiers,
    "dossiers_unfinished_within_due_portal": _late_dossiers,
    "dossiers_dissatisfied_petitioned_or_late": _late_or_dissatisfied,
    "dossiers_late_petitioned_or_disliked_portal": _late_or_dissatisfied,
    "dossiers_synchronised": _unsynchronised,
    "fee_dossiers_paid_online": _dossiers_without("fee_paid", "fee_not_paid_online",
                                                  "Hồ sơ có phí chưa thanh toán trực tuyến", among="fee"),
    "dossiers_paid_online_started": _dossiers_without(
        "paid_gw", "fee_not_paid_online", "Hồ sơ có phí chưa thanh toán trực tuyến qua Cổng DVCQG hoặc cổng "
        "thanh toán của bộ, tỉnh", among="fee", started=True),
    "dossiers_finished_with_e_result": _finished_without_e_result,
    "dossiers_digitised": _dossiers_without("digitised", "not_digitised", "Hồ sơ chưa được số hóa"),
    "dossiers_reusing_digitised_data": _dossiers_without("reused", "digitised_data_not_reused",
                                                         "Hồ sơ không sử dụng lại dữ liệu số hóa"),
    "dossiers_digitised_linked_to_data_store": _dossiers_without(
        "linked_dig", "not_linked_to_data_store", "Hồ sơ số hóa chưa đồng bộ kho dữ liệu cá nhân",
        among="digitised"),
    "dossiers_using_data_store": _dossiers_without(
        "store", "data_store_not_used", "Hồ sơ chưa kết nối kho quản lý dữ liệu điện tử của tổ chức, cá nhân"),
    "dossiers_using_population_or_eid_data": _dossiers_without("pop_eid", "population_data_not_used",
                                                               "Hồ sơ không sử dụng dữ liệu dân cư"),
    "dossiers_received_online": _offline_of_online_procedures,
    "dossiers_received_online_counted": _without_or_without_result(
        "online", "online_eres", "not_submitted_online", "Hồ sơ không nộp trực tuyến",
        "Hồ sơ nộp trực tuyến nhưng chưa có kết quả điện tử"),
    "dossiers_digitised_with_required_e_result": _without_or_without_result(
        "digitised", "dig_eres", "not_digitised", "Hồ sơ chưa được số hóa",
        "Hồ sơ số hóa nhưng chưa có kết quả điện tử"),
    "dossiers_synchronised_with_result_file": _without_result_file,
    "dossiers_using_population_data": _without_population_data,
    "procedures_online": _offers_without(lambda o, p, b: not o.online, "not_offered_online",
                                         "TTHC chưa cung cấp dịch vụ công trực tuyến"),
    "online_services_with_online_dossiers": _offers_without(
        lambda o, p, b: o.online_service and not b & BIT["online"], "no_online_dossier",
        "Dịch vụ công trực tuyến chưa phát sinh hồ sơ trực tuyến trong kỳ"),
    "fee_procedures_with_online_payment": _offers_without(
        lambda o, p, b: o.has_fee and not b & BIT["fee_paid"], "no_online_payment",
        "TTHC có thu phí chưa có giao dịch thanh toán trực tuyến trong kỳ"),
    "fee_procedures_with_successful_online_payment": _offers_without(
        lambda o, p, b: o.has_fee and not b & BIT["paid"], "no_online_payment",
        "TTHC có thu phí chưa có giao dịch thanh toán trực tuyến thành công trong kỳ"),
    "fee_procedures_integrated": _offers_without(
        lambda o, p, b: o.has_fee and not o.payment_integrated, "payment_not_integrated",
        "TTHC có thu phí chưa tích hợp thanh toán trên Cổng DVCQG"),
    "fee_procedures_with_fee_dossiers": _offers_without(
        lambda o, p, b: o.has_fee and not b & BIT["fee_data"], "no_fee_dossier",
        "TTHC có thu phí chưa phát sinh hồ sơ có thông tin phí trong kỳ"),
    "procedures_connected_population_data": _offers_without(
        lambda o, p, b: o.population_data_eligible and not o.population_data_connected,
        "not_connected_to_population_data", "TTHC chưa kết nối, chia sẻ dữ liệu dân cư"),
    "procedures_with_population_data_dossier": _offers_without(
        lambda o, p, b: p is not None and p.applicants_are_individuals and not b & BIT["pop_eid"],
        "no_dossier_using_population_data", "TTHC chưa có hồ sơ sử dụng dữ liệu dân cư trong kỳ"),
    "units_issued_e_certified_copy": _uncertified_units,
    "decisions_on_time": _decided_late(distinct=False),
    "procedures_published_on_time": _decided_late(distinct=True),
    "procedures_listed_on_time": _listed_late,
    "procedures_listed_or_due_on_time": _listed_or_due_late,
    "listings_all_parts": _incomplete_listings,
    "listings_seven_parts": _incomplete_listings,
    "petitions_resolved_on_time": _petitions_late_766,
    "petitions_rated_satisfied": _petitions_unsatisfied,
    "petitions_handled_on_time": _petitions_late_stages,
    "petitions_in_process_within_limit": _petitions_late_stages,
    "petitions_disliked_late_or_repeated": _petitions_disliked,
}
