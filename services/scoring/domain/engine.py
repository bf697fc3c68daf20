"""The rule engine: counts in, scorecard out, under one rule table version.

There is one engine. Real scoring passes the counts kept by storage (see
:func:`counts_from_measures`); what-if passes counts typed in by an official. Arithmetic is exact
(``Fraction``); totals are rounded half-up to 2 decimals only for display, and the classification
is made on that displayed total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from math import floor

from services.scoring.domain.periods import Period
from services.scoring.domain.rules import Band, Indicator, Kind, NoData, RuleTable, Threshold


class ScoringInputError(ValueError):
    """Counts that the rule table cannot score: unknown indicator, wrong shape, impossible numbers."""


@dataclass(frozen=True)
class Counts:
    """An indicator's (or component's) numerator and denominator for one unit and period.

    ``data_quality`` carries notes about where the counts came from (e.g. ``"no_report"``); they
    appear in the scorecard as ``data_quality:<note>`` flags.
    """

    numerator: int
    denominator: int
    data_quality: frozenset[str] = field(default=frozenset())

    def __post_init__(self) -> None:
        for name in ("numerator", "denominator"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ScoringInputError(f"{name} must be a whole number, got {value!r}")
            if value < 0:
                raise ScoringInputError(f"{name} must not be negative, got {value}")
        if self.numerator > self.denominator:
            raise ScoringInputError(f"numerator {self.numerator} exceeds denominator {self.denominator}")
        object.__setattr__(self, "data_quality", frozenset(self.data_quality))


class Status(StrEnum):
    SCORED = "SCORED"
    NA = "NA"  # no denominator and the rule says not applicable: 0 points
    ANALYSIS = "ANALYSIS"  # analysis only, never points
    UNSCORED = "UNSCORED"  # formula not known: counts shown, 0 points


@dataclass(frozen=True)
class ComponentResult:
    id: str
    name: str
    max: Fraction
    numerator: int
    denominator: int
    rate: Fraction | None
    threshold: Fraction | None
    points: Fraction
    status: Status
    flags: frozenset[str]


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator of a scorecard, with everything needed to explain its points.

    ``denominator`` is a Fraction when it comes from the previous-year fallback (e.g. 1000/12).
    ``rate`` already includes ``factor`` (the rate of ``factor_indicator``) when the rule table
    multiplies by another indicator's rate. Composite indicators leave numerator, denominator,
    rate and threshold empty and explain themselves through ``components``.
    """

    id: str
    name: str
    group: str
    kind: str
    max: Fraction
    numerator: int | None
    denominator: int | Fraction | None
    rate: Fraction | None
    threshold: Fraction | None
    points: Fraction
    status: Status
    flags: frozenset[str]
    components: tuple[ComponentResult, ...] = ()
    factor: Fraction | None = None
    factor_indicator: str | None = None

    @property
    def points_display(self) -> Decimal:
        return fmt(self.points)


@dataclass(frozen=True)
class GroupResult:
    id: str
    name: str
    max: Fraction
    points: Fraction

    @property
    def points_display(self) -> Decimal:
        return fmt(self.points)


@dataclass(frozen=True)
class Scorecard:
    version: str
    period: Period
    as_of: datetime | None
    indicators: tuple[IndicatorResult, ...]
    groups: tuple[GroupResult, ...]
    total: Fraction
    total_display: Decimal
    classification: Band

    def indicator(self, indicator_id: str) -> IndicatorResult:
        for result in self.indicators:
            if result.id == indicator_id:
                return result
        raise KeyError(indicator_id)

    def group(self, group_id: str) -> GroupResult:
        for result in self.groups:
            if result.id == group_id:
                return result
        raise KeyError(group_id)


IndicatorCounts = Counts | Mapping[str, Counts]


def score(
    table: RuleTable,
    counts: Mapping[str, IndicatorCounts],
    period: Period,
    *,
    prev_year: Mapping[str, Counts] | None = None,
    as_of: datetime | None = None,
) -> Scorecard:
    """Score one unit's counts for ``period`` under ``table``.

    ``counts`` maps indicator ids to :class:`Counts`, or for a composite indicator to a mapping of
    component ids to Counts. An indicator left out has no data (0 / 0) and follows its no-data
    rule. ``prev_year`` gives last year's counts for indicators whose no-data rule is the
    previous-year fallback. The threshold stage is the one in force on the period's first day;
    ``as_of`` only matters for a year-to-date period's fallback share, and is recorded.
    """
    prev_year = prev_year or {}
    _check_input(table, counts, prev_year)
    day = period.first_day
    results: dict[str, IndicatorResult] = {}
    ordered = sorted(table.indicators, key=lambda i: i.multiply_by is not None)
    for indicator in ordered:
        if indicator.kind is Kind.ANALYSIS:
            results[indicator.id] = _analysis(indicator)
        elif indicator.is_composite:
            results[indicator.id] = _composite(indicator, counts.get(indicator.id, {}), day)
        else:
            factor = results[indicator.multiply_by].rate if indicator.multiply_by else None
            results[indicator.id] = _plain(
                indicator,
                counts.get(indicator.id, Counts(0, 0)),
                prev_year.get(indicator.id),
                period,
                as_of,
                factor,
            )
    indicators = tuple(results[i.id] for i in table.indicators)
    groups = tuple(
        GroupResult(
            id=group.id,
            name=group.name,
            max=group.max,
            points=sum((r.points for r in indicators if r.group == group.id), Fraction(0)),
        )
        for group in table.groups
    )
    total = sum((g.points for g in groups), Fraction(0))
    shown = fmt(total)
    return Scorecard(
        version=table.id,
        period=period,
        as_of=as_of,
        indicators=indicators,
        groups=groups,
        total=total,
        total_display=shown,
        classification=table.classify(shown),
    )


def _check_input(table: RuleTable, counts: Mapping[str, IndicatorCounts], prev_year: Mapping[str, Counts]) -> None:
    known = {i.id: i for i in table.indicators}
    for indicator_id, given in counts.items():
        indicator = known.get(indicator_id)
        if indicator is None:
            raise ScoringInputError(f"rule version {table.id} has no indicator {indicator_id!r}")
        if indicator.kind is Kind.ANALYSIS:
            raise ScoringInputError(f"indicator {indicator_id} is analysis only and takes no counts")
        if indicator.is_composite:
            if not isinstance(given, Mapping):
                raise ScoringInputError(
                    f"indicator {indicator_id} is composite: give counts per component "
                    f"({', '.join(c.id for c in indicator.components)})"
                )
            component_ids = {c.id for c in indicator.components}
            for component_id, component_counts in given.items():
                if component_id not in component_ids:
                    raise ScoringInputError(f"indicator {indicator_id} has no component {component_id!r}")
                if not isinstance(component_counts, Counts):
                    raise ScoringInputError(f"indicator {indicator_id}.{component_id}: expected Counts")
        elif not isinstance(given, Counts):
            raise ScoringInputError(f"indicator {indicator_id}: expected Counts, got {type(given).__name__}")
    for indicator_id, given in prev_year.items():
        indicator = known.get(indicator_id)
        if indicator is None or indicator.no_data is not NoData.PREV_YEAR_FALLBACK:
            raise ScoringInputError(f"indicator {indicator_id!r} has no previous-year fallback in {table.id}")
        if not isinstance(given, Counts):
            raise ScoringInputError(f"previous year of {indicator_id}: expected Counts")


def _analysis(indicator: Indicator) -> IndicatorResult:
    return IndicatorResult(
        id=indicator.id,
        name=indicator.name,
        group=indicator.group,
        kind=indicator.kind.value,
        max=Fraction(0),
        numerator=None,
        denominator=None,
        rate=None,
        threshold=None,
        points=Fraction(0),
        status=Status.ANALYSIS,
        flags=frozenset(indicator.flags),
    )


def _plain(
    indicator: Indicator,
    counts: Counts,
    prev: Counts | None,
    period: Period,
    as_of: datetime | None,
    factor: Fraction | None,
) -> IndicatorResult:
    flags = set(indicator.flags) | {f"data_quality:{note}" for note in sorted(counts.data_quality)}
    threshold = _threshold(indicator.kind, indicator.threshold, period.first_day, flags)
    numerator: int = counts.numerator
    denominator: int | Fraction = counts.denominator
    rate: Fraction | None = None
    status = Status.SCORED
    if indicator.kind is Kind.UNSCORED:
        status = Status.UNSCORED
    if denominator:
        rate = Fraction(numerator, denominator)
    else:
        flags.add("no_data")
        if indicator.no_data is NoData.PREV_YEAR_FALLBACK:
            if prev is not None and prev.denominator:
                denominator = prev.denominator * period.year_fraction(as_of)
                flags.add("prev_year_fallback")
            else:
                flags.add("no_prev_year")
            rate = Fraction(0)  # nothing synchronised, whatever was expected
        elif indicator.no_data is NoData.NA:
            status = Status.NA
    if indicator.multiply_by is not None and rate is not None:
        if factor is None:
            flags.add(f"factor_not_applicable:{indicator.multiply_by}")
        else:
            rate *= factor
    if status is not Status.SCORED:
        points = Fraction(0)
    elif indicator.kind is Kind.FULL or (rate is None and indicator.no_data is NoData.FULL):
        points = indicator.max
    elif rate is None:
        points = Fraction(0)
    else:
        points = _points(indicator.max, rate, threshold)
    return IndicatorResult(
        id=indicator.id,
        name=indicator.name,
        group=indicator.group,
        kind=indicator.kind.value,
        max=indicator.max,
        numerator=numerator,
        denominator=denominator,
        rate=rate,
        threshold=threshold,
        points=points,
        status=status,
        flags=frozenset(flags),
        factor=factor if indicator.multiply_by else None,
        factor_indicator=indicator.multiply_by,
    )


def _composite(indicator: Indicator, given: Mapping[str, Counts], day: date) -> IndicatorResult:
    parts = []
    for component in indicator.components:
        counts = given.get(component.id, Counts(0, 0))
        flags = {f"data_quality:{note}" for note in counts.data_quality}
        threshold = _threshold(component.kind, component.threshold, day, flags)
        status = Status.SCORED
        if counts.denominator:
            rate = Fraction(counts.numerator, counts.denominator)
            points = _points(component.max, rate, threshold)
        else:
            rate = None
            flags.add("no_data")
            points = component.max if component.no_data is NoData.FULL else Fraction(0)
            if component.no_data is NoData.NA:
                status = Status.NA
        parts.append(
            ComponentResult(
                id=component.id,
                name=component.name,
                max=component.max,
                numerator=counts.numerator,
                denominator=counts.denominator,
                rate=rate,
                threshold=threshold,
                points=points,
                status=status,
                flags=frozenset(flags),
            )
        )
    all_na = all(p.status is Status.NA for p in parts)
    flags = set(indicator.flags) | ({"no_data"} if all(p.denominator == 0 for p in parts) else set())
    return IndicatorResult(
        id=indicator.id,
        name=indicator.name,
        group=indicator.group,
        kind="composite",
        max=indicator.max,
        numerator=None,
        denominator=None,
        rate=None,
        threshold=None,
        points=sum((p.points for p in parts), Fraction(0)),
        status=Status.NA if all_na else Status.SCORED,
        flags=frozenset(flags),
        components=tuple(parts),
    )


def _threshold(kind: Kind, threshold: Threshold | None, day: date, flags: set[str]) -> Fraction | None:
    """The threshold in force for a period starting on ``day``: 1 for linear, None when unused."""
    if kind is Kind.LINEAR:
        return Fraction(1)
    if kind is not Kind.THRESHOLD:
        return None
    value, note = threshold.on(day)
    if note:
        flags.add(note)
    return value


def _points(maximum: Fraction, rate: Fraction, threshold: Fraction) -> Fraction:
    return maximum * min(Fraction(1), rate / threshold)


# --- display and ranking ------------------------------------------------------------------------


def fmt(value: Fraction | int | Decimal) -> Decimal:
    """``value`` rounded half-up (ties away from zero) to 2 decimals, computed exactly."""
    exact = Fraction(value)
    hundredths = floor(abs(exact) * 100 + Fraction(1, 2))
    shown = Decimal(hundredths).scaleb(-2)
    return -shown if exact < 0 else shown


def rank(entries: Iterable[tuple[str, Decimal | Fraction]]) -> list[tuple[str, int]]:
    """Competition ranking on the displayed (2-decimal) totals: ties share a rank, 1, 2, 2, 4.

    Returned best first; units with the same rank are listed by unit id.
    """
    shown = [(unit_id, fmt(total)) for unit_id, total in entries]
    ids = [unit_id for unit_id, _ in shown]
    if len(set(ids)) != len(ids):
        raise ScoringInputError("a unit appears more than once in the ranking")
    shown.sort(key=lambda entry: (-entry[1], entry[0]))
    ranked: list[tuple[str, int]] = []
    for position, (unit_id, total) in enumerate(shown, start=1):
        if ranked and total == shown[position - 2][1]:
            ranked.append((unit_id, ranked[-1][1]))
        else:
            ranked.append((unit_id, position))
    return ranked


# --- from stored measures -----------------------------------------------------------------------


def counts_from_measures(table: RuleTable, values: Mapping[str, int]) -> dict[str, IndicatorCounts]:
    """The engine's input built from the measure catalogue's counts (as storage keeps them).

    A measure absent from ``values`` counts 0; where the rule table declares a data-quality note
    for an absent measure (1.4's missing reported total), the counts carry that note.
    """
    _check_values(table, values)
    result: dict[str, IndicatorCounts] = {}
    for indicator in table.indicators:
        if indicator.kind is Kind.ANALYSIS:
            continue
        if indicator.is_composite:
            result[indicator.id] = {
                c.id: _counts(f"{indicator.id}.{c.id}", c.numerator.evaluate(values), c.denominator.evaluate(values))
                for c in indicator.components
            }
            continue
        notes = frozenset(note for note, measure in indicator.data_quality.items() if measure not in values)
        result[indicator.id] = _counts(
            indicator.id, indicator.numerator.evaluate(values), indicator.denominator.evaluate(values), notes
        )
    return result


def prev_year_counts(table: RuleTable, values: Mapping[str, int]) -> dict[str, Counts]:
    """Last year's counts for the indicators with a previous-year fallback, from last year's measures."""
    _check_values(table, values)
    result = {}
    for indicator in table.indicators:
        if indicator.no_data is NoData.PREV_YEAR_FALLBACK:
            denominator_of = indicator.fallback_denominator or indicator.denominator
            denominator = denominator_of.evaluate(values)
            # Only the denominator is used by the fallback; the numerator is kept within it.
            numerator = min(indicator.numerator.evaluate(values), denominator)
            result[indicator.id] = _counts(indicator.id, numerator, denominator)
    return result


def _check_values(table: RuleTable, values: Mapping[str, int]) -> None:
    catalogue = table.measures()
    for name, value in values.items():
        if name not in catalogue:
            raise ScoringInputError(f"rule version {table.id} has no measure {name!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScoringInputError(f"measure {name} must be a whole number ≥ 0, got {value!r}")


def _counts(where: str, numerator: int, denominator: int, notes: frozenset[str] = frozenset()) -> Counts:
    try:
        return Counts(numerator, denominator, notes)
    except ScoringInputError as error:
        raise ScoringInputError(f"indicator {where}: {error}") from None
