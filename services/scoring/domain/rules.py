"""Rule tables: the versioned, dated scoring rules, read from TOML files and checked strictly.

A rule table is data (``services/scoring/rules/*.toml``), not code: groups, indicators with their
maximum points, how each is scored, the counts ("measures") it is computed from, the threshold
stages of Resolution 76/NQ-CP, what happens when there is no denominator, and the classification
bands. This module turns such a file into immutable objects or refuses it with a
:class:`RuleTableError` naming the file and the key.

Which version scores a period: the version in force at the period's START (its first day in
Hanoi). A quarter that straddles a version change is scored whole under the older version, so a
period is never scored under two tables. Any version can still be asked for by name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from services.scoring.domain.cells import POLICY_BY_ID, Policy
from services.scoring.domain.periods import Period, local_date

UNIT_KINDS = frozenset(
    {"ministry", "ministerial_agency", "social_security", "province", "department", "commune", "district", "other"}
)
TOTAL_POINTS = 100


class RuleTableError(ValueError):
    """A rule file that is malformed or inconsistent; the message names the file and the key."""


class UnknownRuleVersion(LookupError):
    """No rule table has that version id, or none was in force on that date."""


class Kind(StrEnum):
    THRESHOLD = "threshold"  # max × min(1, rate / threshold)
    LINEAR = "linear"  # max × min(1, rate): a threshold of 100%
    FULL = "full"  # always max; counts shown for information (observed behaviour, see the file)
    UNSCORED = "unscored"  # formula not known: counts shown, 0 points, never guessed
    ANALYSIS = "analysis"  # analysis only: no points, no counts in the scorecard


class NoData(StrEnum):
    """What an indicator (or component) scores when its denominator is 0."""

    NA = "na"  # not applicable: shown as such, 0 points
    ZERO = "zero"  # scored 0
    FULL = "full"  # full points
    PREV_YEAR_FALLBACK = "prev_year_fallback"  # previous year's denominator × the period's share of a year


FLAGS = frozenset({"analysis_only", "fitted", "composite"})

# The parameters a rule file may set, and their shape: a whole number per unit kind (with a
# default), a list of names, a whole number, or one of a few words.
PARAMETERS: Mapping[str, Any] = MappingProxyType(
    {
        "lead_working_days": "per_unit_kind",  # 1.1: decision at least this many working days before effect
        "listing_working_days": "per_unit_kind",  # 1.2: listed within this many working days of the decision
        "required_parts": "names",  # 1.3: parts a complete listing carries
        "refusal_working_days": "whole",  # 5.2 (portal): stage limits of a petition
        "first_supplement_working_days": "whole",
        "ready_for_publication_working_days": "whole",
        "publication_working_days": "whole",
    }
)


# --- measure expressions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """How a numerator or denominator is made from stored counts (measures).

    ``op`` is ``"measure"`` (one named count), ``"sum"``, ``"max"`` or ``"minus"`` (first less
    second) over ``names``.
    """

    op: str
    names: tuple[str, ...]

    def evaluate(self, values: Mapping[str, int]) -> int:
        got = [values.get(name, 0) for name in self.names]
        if self.op == "measure":
            return got[0]
        if self.op == "sum":
            return sum(got)
        if self.op == "max":
            return max(got)
        return got[0] - got[1]

    def __str__(self) -> str:
        if self.op == "measure":
            return self.names[0]
        if self.op == "minus":
            return f"{self.names[0]} − {self.names[1]}"
        return f"{self.op}({', '.join(self.names)})"


# --- thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """A threshold value for the dates ``start``..``end`` (both inclusive; ``end`` None = open)."""

    start: date
    end: date | None
    value: Fraction


@dataclass(frozen=True)
class Threshold:
    stages: tuple[Stage, ...]

    def on(self, day: date) -> tuple[Fraction, str | None]:
        """The threshold for a period starting on ``day``, and a flag when it was carried over.

        Before the first stage the first stage's value applies ("threshold_carried_back"); after
        the last closed stage its value stays in force ("threshold_carried_forward") until a new
        stage is added to the rule file.
        """
        first, last = self.stages[0], self.stages[-1]
        if day < first.start:
            return first.value, "threshold_carried_back"
        for stage in self.stages:
            if stage.start <= day and (stage.end is None or day <= stage.end):
                return stage.value, None
        return last.value, "threshold_carried_forward"


# --- rule table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """One scored part of a composite indicator (or the single part of a plain one)."""

    id: str
    name: str
    max: Fraction
    kind: Kind
    numerator: Measure
    denominator: Measure
    threshold: Threshold | None
    no_data: NoData


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str
    name: str
    kind: Kind | None  # None for a composite indicator (its components carry the kinds)
    max: Fraction
    numerator: Measure | None = None
    denominator: Measure | None = None
    threshold: Threshold | None = None
    no_data: NoData | None = None
    flags: frozenset[str] = frozenset()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    multiply_by: str | None = None
    fallback_denominator: Measure | None = None
    data_quality: Mapping[str, str] = field(default_factory=dict)
    components: tuple[Component, ...] = ()
    note: str = ""

    @property
    def is_composite(self) -> bool:
        return bool(self.components)

    @property
    def is_analysis(self) -> bool:
        return self.kind is Kind.ANALYSIS

    def measures(self) -> tuple[str, ...]:
        """Every measure name this indicator reads, in first-use order."""
        exprs: list[Measure | None] = [self.numerator, self.denominator, self.fallback_denominator]
        for component in self.components:
            exprs += [component.numerator, component.denominator]
        names: dict[str, None] = {}
        for expr in exprs:
            if expr is not None:
                names.update(dict.fromkeys(expr.names))
        names.update(dict.fromkeys(self.data_quality.values()))
        return tuple(names)

    def parameter(self, name: str, unit_kind: str | None = None) -> Any:
        """A parameter's value; per-unit-kind parameters give the unit kind's value or the default."""
        try:
            value = self.parameters[name]
        except KeyError:
            raise KeyError(f"indicator {self.id} has no parameter {name!r}") from None
        if isinstance(value, Mapping):
            if unit_kind is not None and unit_kind not in UNIT_KINDS:
                raise ValueError(f"unknown unit kind {unit_kind!r}")
            return value.get(unit_kind, value["default"])
        return value


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    max: Fraction
    formula: str = ""


@dataclass(frozen=True)
class Band:
    """A classification band: totals (rounded to 2 decimals) from ``lower`` upwards."""

    code: str
    label: str
    lower: Decimal


@dataclass(frozen=True)
class RuleTable:
    id: str
    name: str
    effective_from: date
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]  # highest first
    measure_catalogue: Mapping[str, str]
    source: str = ""
    path: str = ""
    #: how this version judges a dossier late (``policy = "..."`` in the file; None: it names no
    #: measure that needs one)
    policy: Policy | None = None

    def indicator(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(f"rule table {self.id} has no indicator {indicator_id!r}")

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(f"rule table {self.id} has no group {group_id!r}")

    def measures(self) -> Mapping[str, str]:
        """The measure catalogue: every count name this version reads, with what it counts."""
        return self.measure_catalogue

    def parameter_for(self, measures: Iterable[str], name: str, unit_kind: str | None, default: Any) -> Any:
        """Parameter ``name`` as set on the indicator that names one of ``measures`` (the code of
        those measures reads it; per-unit-kind values for ``unit_kind``), else ``default``."""
        wanted = set(measures)
        for indicator in self.indicators:
            if name in indicator.parameters and wanted & set(indicator.measures()):
                return indicator.parameter(name, unit_kind)
        return default

    def measures_by_indicator(self) -> dict[str, tuple[str, ...]]:
        return {i.id: i.measures() for i in self.indicators if i.measures()}

    def classify(self, shown_total: Decimal) -> Band:
        for band in self.bands:
            if shown_total >= band.lower:
                return band
        return self.bands[-1]


# --- rule book --------------------------------------------------------------------------------


class RuleBook:
    """All rule versions, found by id or by the date they are in force."""

    def __init__(self, tables: Iterable[RuleTable]):
        ordered = sorted(tables, key=lambda t: t.effective_from)
        seen: dict[str, RuleTable] = {}
        for table in ordered:
            if table.id in seen:
                raise RuleTableError(f"{table.path}: version {table.id!r} is also defined in {seen[table.id].path}")
            seen[table.id] = table
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if earlier.effective_from == later.effective_from:
                raise RuleTableError(
                    f"{later.path}: effective_from {later.effective_from} is the same as {earlier.id!r}'s"
                )
        for table in ordered:
            _check_code(table)
        self._tables = tuple(ordered)
        self._by_id = seen

    @classmethod
    def load_default(cls) -> RuleBook:
        """The versions shipped in ``services/scoring/rules``."""
        return _default_book()

    @classmethod
    def load_dir(cls, directory: Path | str) -> RuleBook:
        return cls(load_rule_table(path) for path in sorted(Path(directory).glob("*.toml")))

    @classmethod
    def load(cls, extra_dir: Path | str = "") -> RuleBook:
        """The shipped versions and, with ``extra_dir``, every ``*.toml`` in it (an operator's own
        versions; a file there may not reuse a shipped version's id). Every file is checked."""
        tables = list(_default_book().versions())
        if extra_dir:
            folder = Path(extra_dir)
            if not folder.is_dir():
                raise RuleTableError(f"{folder}: the rules folder does not exist")
            tables += [load_rule_table(path) for path in sorted(folder.glob("*.toml"))]
        return cls(tables)

    def versions(self) -> tuple[RuleTable, ...]:
        """Every version, oldest first."""
        return self._tables

    def get(self, version_id: str) -> RuleTable:
        try:
            return self._by_id[version_id]
        except KeyError:
            known = ", ".join(self._by_id)
            raise UnknownRuleVersion(f"no rule version {version_id!r} (known: {known})") from None

    def in_force(self, on: date) -> RuleTable:
        """The version with the latest ``effective_from`` on or before ``on`` (a Hanoi date)."""
        if isinstance(on, datetime):
            on = local_date(on)
        current = None
        for table in self._tables:
            if table.effective_from <= on:
                current = table
        if current is None:
            raise UnknownRuleVersion(f"no rule version was in force on {on.isoformat()}")
        return current

    def for_period(self, period: Period) -> RuleTable:
        """The version that scores ``period``: the one in force on its first day."""
        return self.in_force(period.first_day)


def _check_code(table: RuleTable) -> None:
    """Every measure the table names has code behind it, under the table's policy, and every
    parameter is read by that code (:func:`services.scoring.domain.measures.check_rule_table`)."""
    from services.scoring.domain.measures import check_rule_table  # the measures read rule tables

    check_rule_table(table)


@cache
def _default_book() -> RuleBook:
    folder = resources.files("services.scoring.rules")
    tables = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            tables.append(parse_rule_table(entry.read_text(encoding="utf-8"), entry.name))
    return RuleBook(tables)


# --- loading and validation -------------------------------------------------------------------


def load_rule_table(path: Path | str) -> RuleTable:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleTableError(f"{path.name}: cannot read: {error}") from error
    return parse_rule_table(text, path.name)


def parse_rule_table(text: str, source_name: str = "<rules>") -> RuleTable:
    """Read and check one rule table; ``source_name`` is used in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleTableError(f"{source_name}: not valid TOML: {error}") from error
    return _TableReader(source_name).read(document)


class _Node:
    """A TOML table being read: takes keys off it and reports unknown or missing ones by path."""

    def __init__(self, file: str, where: str, data: Any):
        self.file = file
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"must be a table, got {_type_name(data)}")
        self.data = data
        self.taken: set[str] = set()

    def fail(self, message: str, key: str | None = None) -> None:
        place = self.where if key is None else (f"{self.where}.{key}" if self.where else key)
        raise RuleTableError(f"{self.file}: {place or 'top level'}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def take(self, key: str, kind: type | tuple[type, ...], required: bool = True, default: Any = None) -> Any:
        self.taken.add(key)
        if key not in self.data:
            if required:
                self.fail("missing required key", key)
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.fail(f"must be {_kind_names(kinds)}, got a boolean", key)
        if date in kinds and isinstance(value, datetime):
            self.fail(f"must be a date (YYYY-MM-DD), got a date-time {value.isoformat()}", key)
        if not isinstance(value, kinds):
            self.fail(f"must be {_kind_names(kinds)}, got {_type_name(value)} {value!r}", key)
        if isinstance(value, str) and not value.strip() and required:
            self.fail("must not be empty", key)
        return value

    def child(self, key: str, value: Any) -> _Node:
        return _Node(self.file, f"{self.where}.{key}" if self.where else key, value)

    def forbid(self, keys: Iterable[str], reason: str) -> None:
        for key in keys:
            if key in self.data:
                self.fail(f"not allowed {reason}", key)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.taken)
        if len(unknown) == 1:
            self.fail(f"unknown key {unknown[0]!r}")
        if unknown:
            self.fail(f"unknown keys {', '.join(repr(k) for k in unknown)}")


class _TableReader:
    def __init__(self, file: str):
        self.file = file
        self.used_measures: set[str] = set()

    def read(self, document: dict[str, Any]) -> RuleTable:
        top = _Node(self.file, "", document)
        version_id = top.take("id", str)
        name = top.take("name", str)
        effective_from = self._date(top, "effective_from")
        source = top.take("source", str, required=False, default="")
        policy_id = top.take("policy", str, required=False)
        if policy_id is not None and policy_id not in POLICY_BY_ID:
            top.fail(f"unknown lateness policy {policy_id!r} (registered: {', '.join(POLICY_BY_ID)})", "policy")
        catalogue = self._catalogue(top)
        groups = self._groups(top)
        indicators = self._indicators(top, catalogue)
        bands = self._bands(top)
        top.done()

        for indicator in indicators:  # thresholds are staged by date from the version's first day
            for part in (indicator, *indicator.components):
                if part.threshold is not None and part.threshold.stages[0].start > effective_from:
                    where = f"indicators[id={indicator.id}]" + (
                        f".components[id={part.id}]" if part is not indicator else "")
                    top.fail(f"the first threshold stage starts {part.threshold.stages[0].start}, after the "
                             f"version takes effect ({effective_from}): no target for its first periods",
                             f"{where}.threshold")
        group_ids = [g.id for g in groups]
        for indicator in indicators:
            if indicator.group not in group_ids:
                top.fail(f"indicator {indicator.id!r} names unknown group {indicator.group!r}", "indicators")
        for group in groups:
            members = [i for i in indicators if i.group == group.id]
            if not members:
                top.fail(f"group {group.id!r} has no indicators", "groups")
            total = sum((i.max for i in members), Fraction(0))
            if total != group.max:
                top.fail(
                    f"group {group.id!r} has max {_num(group.max)} but its indicators' max sum to {_num(total)} "
                    f"({' + '.join(f'{i.id}: {_num(i.max)}' for i in members if i.max)})",
                    "groups",
                )
        grand_total = sum((g.max for g in groups), Fraction(0))
        if grand_total != TOTAL_POINTS:
            top.fail(f"group maxima sum to {_num(grand_total)}, not {TOTAL_POINTS}", "groups")
        unused = sorted(set(catalogue) - self.used_measures)
        if unused:
            top.fail(f"measure {unused[0]!r} is in the catalogue but no indicator uses it", "measures")
        return RuleTable(
            id=version_id,
            name=name,
            effective_from=effective_from,
            groups=groups,
            indicators=indicators,
            bands=bands,
            measure_catalogue=MappingProxyType(catalogue),
            source=source,
            path=self.file,
            policy=POLICY_BY_ID.get(policy_id) if policy_id else None,
        )

    # -- pieces --

    def _catalogue(self, top: _Node) -> dict[str, str]:
        node = top.child("measures", top.take("measures", dict))
        catalogue: dict[str, str] = {}
        for key in node.data:
            description = node.take(key, str)
            if not key.isidentifier() or key != key.lower():
                node.fail("measure names are lower_snake_case identifiers", key)
            catalogue[key] = description
        node.done()
        if not catalogue:
            top.fail("the measure catalogue is empty", "measures")
        return catalogue

    def _groups(self, top: _Node) -> tuple[Group, ...]:
        groups = []
        for index, raw in enumerate(top.take("groups", list)):
            node = top.child(f"groups[{index}]", raw)
            group_id = node.take("id", str)
            node.where = f"groups[id={group_id}]"
            groups.append(
                Group(
                    id=group_id,
                    name=node.take("name", str),
                    max=self._points(node, "max"),
                    formula=node.take("formula", str, required=False, default=""),
                )
            )
            node.done()
        self._unique(top, "groups", [g.id for g in groups])
        if not groups:
            top.fail("no groups", "groups")
        return tuple(groups)

    def _indicators(self, top: _Node, catalogue: dict[str, str]) -> tuple[Indicator, ...]:
        raws = top.take("indicators", list)
        ids = []
        for index, raw in enumerate(raws):
            node = top.child(f"indicators[{index}]", raw)
            ids.append(node.take("id", str))
        self._unique(top, "indicators", ids)
        indicators = [self._indicator(top, index, raw, catalogue) for index, raw in enumerate(raws)]
        by_id = {i.id: i for i in indicators}
        for indicator in indicators:
            if indicator.multiply_by is None:
                continue
            where = f"indicators[id={indicator.id}].multiply_by"
            target = by_id.get(indicator.multiply_by)
            if target is None:
                top.fail(f"names unknown indicator {indicator.multiply_by!r}", where)
            if target is indicator:
                top.fail("an indicator cannot multiply by its own rate", where)
            if target.kind in (Kind.ANALYSIS, None) or target.multiply_by is not None:
                top.fail(
                    f"indicator {target.id!r} must be a plain scored indicator (not analysis, composite "
                    "or itself multiplied)",
                    where,
                )
        return tuple(indicators)

    def _indicator(self, top: _Node, index: int, raw: Any, catalogue: dict[str, str]) -> Indicator:
        node = top.child(f"indicators[{index}]", raw)
        indicator_id = node.take("id", str)
        node.where = f"indicators[id={indicator_id}]"
        group = node.take("group", str)
        if not indicator_id.startswith(group + "."):
            node.fail(f"id {indicator_id!r} does not belong to group {group!r} (expected {group}.n)", "id")
        name = node.take("name", str)
        flags = self._flags(node)
        note = node.take("note", str, required=False, default="")
        parameters = self._parameters(node)

        if node.has("components"):
            if "composite" not in flags:
                node.fail("an indicator with components must carry the flag 'composite'", "flags")
            node.forbid(
                ("kind", "numerator", "denominator", "threshold", "no_data", "multiply_by", "fallback_denominator"),
                "on a composite indicator (put them on its components)",
            )
            components = self._components(node, catalogue)
            declared_max = self._points(node, "max")
            summed = sum((c.max for c in components), Fraction(0))
            if declared_max != summed:
                node.fail(f"max {_num(declared_max)} differs from its components' sum {_num(summed)}", "max")
            node.take("data_quality", dict, required=False)
            if node.has("data_quality"):
                node.fail("not supported on a composite indicator", "data_quality")
            node.done()
            return Indicator(
                id=indicator_id,
                group=group,
                name=name,
                kind=None,
                max=declared_max,
                flags=flags,
                parameters=parameters,
                components=components,
                note=note,
            )
        if "composite" in flags:
            node.fail("flag 'composite' needs a components list", "flags")

        kind = self._enum(node, "kind", Kind)
        if (kind is Kind.ANALYSIS) != ("analysis_only" in flags):
            node.fail("kind 'analysis' and flag 'analysis_only' go together", "flags")
        if kind is Kind.ANALYSIS:
            node.forbid(
                (
                    "max",
                    "numerator",
                    "denominator",
                    "threshold",
                    "no_data",
                    "multiply_by",
                    "fallback_denominator",
                    "data_quality",
                ),
                "on an analysis-only indicator",
            )
            node.done()
            return Indicator(
                id=indicator_id,
                group=group,
                name=name,
                kind=kind,
                max=Fraction(0),
                flags=flags,
                parameters=parameters,
                note=note,
            )

        max_points = self._points(node, "max")
        numerator = self._measure(node, "numerator", catalogue)
        denominator = self._measure(node, "denominator", catalogue)
        threshold = self._threshold(node, kind)
        if kind in (Kind.FULL, Kind.UNSCORED):
            node.forbid(("no_data",), f"on a '{kind.value}' indicator (no data changes nothing)")
            no_data = None
        else:
            no_data = self._enum(node, "no_data", NoData)
        fallback = None
        if node.has("fallback_denominator"):
            if no_data is not NoData.PREV_YEAR_FALLBACK:
                node.fail("only meaningful with no_data = 'prev_year_fallback'", "fallback_denominator")
            fallback = self._measure(node, "fallback_denominator", catalogue)
        multiply_by = node.take("multiply_by", str, required=False)
        data_quality = self._data_quality(node, catalogue)
        node.done()
        return Indicator(
            id=indicator_id,
            group=group,
            name=name,
            kind=kind,
            max=max_points,
            numerator=numerator,
            denominator=denominator,
            threshold=threshold,
            no_data=no_data,
            flags=flags,
            parameters=parameters,
            multiply_by=multiply_by,
            fallback_denominator=fallback,
            data_quality=data_quality,
            note=note,
        )

    def _components(self, node: _Node, catalogue: dict[str, str]) -> tuple[Component, ...]:
        raws = node.take("components", list)
        if len(raws) < 2:
            node.fail("a composite indicator needs at least two components", "components")
        components = []
        for index, raw in enumerate(raws):
            child = node.child(f"components[{index}]", raw)
            component_id = child.take("id", str)
            child.where = f"{node.where}.components[id={component_id}]"
            kind = self._enum(child, "kind", Kind)
            if kind not in (Kind.THRESHOLD, Kind.LINEAR):
                child.fail("a component is 'threshold' or 'linear'", "kind")
            no_data = self._enum(child, "no_data", NoData)
            if no_data is NoData.PREV_YEAR_FALLBACK:
                child.fail("'prev_year_fallback' is for plain indicators only", "no_data")
            components.append(
                Component(
                    id=component_id,
                    name=child.take("name", str),
                    max=self._points(child, "max"),
                    kind=kind,
                    numerator=self._measure(child, "numerator", catalogue),
                    denominator=self._measure(child, "denominator", catalogue),
                    threshold=self._threshold(child, kind),
                    no_data=no_data,
                )
            )
            child.done()
        self._unique(node, "components", [c.id for c in components])
        return tuple(components)

    def _flags(self, node: _Node) -> frozenset[str]:
        raw = node.take("flags", list, required=False, default=[])
        for flag in raw:
            if not isinstance(flag, str) or flag not in FLAGS:
                node.fail(f"unknown flag {flag!r} (known: {', '.join(sorted(FLAGS))})", "flags")
        if len(set(raw)) != len(raw):
            node.fail("repeated flag", "flags")
        return frozenset(raw)

    def _parameters(self, node: _Node) -> Mapping[str, Any]:
        raw = node.take("parameters", dict, required=False, default={})
        child = node.child("parameters", raw)
        parameters: dict[str, Any] = {}
        for key, value in raw.items():
            shape = PARAMETERS.get(key)
            if shape is None:
                child.fail(f"unknown parameter (known: {', '.join(sorted(PARAMETERS))})", key)
            if shape == "per_unit_kind":
                table = child.child(key, value)
                if "default" not in value:
                    table.fail("a per-unit-kind parameter needs a 'default'")
                for unit_kind, amount in value.items():
                    if unit_kind != "default" and unit_kind not in UNIT_KINDS:
                        table.fail(f"unknown unit kind (known: {', '.join(sorted(UNIT_KINDS))})", unit_kind)
                    if not _whole(amount):
                        table.fail(f"must be a whole number ≥ 0, got {amount!r}", unit_kind)
                parameters[key] = MappingProxyType(dict(value))
            elif shape == "names":
                if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                    child.fail("must be a non-empty list of names", key)
                parameters[key] = tuple(value)
            elif shape == "whole":
                if not _whole(value):
                    child.fail(f"must be a whole number ≥ 0, got {value!r}", key)
                parameters[key] = value
            else:
                if value not in shape:
                    child.fail(f"unknown value {value!r} (known: {', '.join(map(repr, shape))})", key)
                parameters[key] = value
        return MappingProxyType(parameters)

    def _data_quality(self, node: _Node, catalogue: dict[str, str]) -> Mapping[str, str]:
        raw = node.take("data_quality", dict, required=False, default={})
        child = node.child("data_quality", raw)
        for note in raw:
            measure = child.take(note, str)
            if measure not in catalogue:
                child.fail(f"names unknown measure {measure!r}", note)
            self.used_measures.add(measure)
        return MappingProxyType(dict(raw))

    def _measure(self, node: _Node, key: str, catalogue: dict[str, str]) -> Measure:
        raw = node.take(key, (str, dict))
        if isinstance(raw, str):
            expr = Measure("measure", (raw,))
        else:
            if len(raw) != 1:
                node.fail("an expression is one of {sum = [...]}, {max = [...]}, {minus = [a, b]}", key)
            ((op, names),) = raw.items()
            if op not in ("sum", "max", "minus"):
                node.fail(f"unknown operator {op!r} (known: sum, max, minus)", key)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                node.fail(f"{op} takes a list of measure names", key)
            if len(names) < 2 or (op == "minus" and len(names) != 2):
                node.fail(f"{op} takes {'exactly two' if op == 'minus' else 'at least two'} measure names", key)
            expr = Measure(op, tuple(names))
        for name in expr.names:
            if name not in catalogue:
                node.fail(f"unknown measure {name!r}: add it to [measures] with a description", key)
        self.used_measures.update(expr.names)
        return expr

    def _threshold(self, node: _Node, kind: Kind) -> Threshold | None:
        if kind is not Kind.THRESHOLD:
            node.forbid(("threshold",), f"for kind '{kind.value}' (only 'threshold' has one)")
            return None
        raws = node.take("threshold", list)
        if not raws:
            node.fail("needs at least one stage", "threshold")
        stages = []
        for index, raw in enumerate(raws):
            child = node.child(f"threshold[{index}]", raw)
            start = self._date(child, "from")
            end = self._date(child, "to", required=False)
            value = self._fraction(child, "value")
            child.done()
            if not 0 < value <= 1:
                child.fail(f"a threshold is a rate in (0, 1], got {value}", "value")
            if end is not None and end < start:
                child.fail(f"ends {end} before it starts {start}", "to")
            if stages:
                previous = stages[-1]
                if previous.end is None:
                    child.fail("only the last stage may be open-ended (no 'to')", None)
                if start <= previous.end:
                    child.fail(f"overlaps the previous stage ({previous.start}..{previous.end})", "from")
                if (start - previous.end).days != 1:
                    child.fail(f"leaves a gap after the previous stage ending {previous.end}", "from")
            stages.append(Stage(start, end, value))
        return Threshold(tuple(stages))

    def _bands(self, top: _Node) -> tuple[Band, ...]:
        bands = []
        for index, raw in enumerate(top.take("bands", list)):
            node = top.child(f"bands[{index}]", raw)
            code = node.take("code", str)
            node.where = f"bands[code={code}]"
            if code != code.upper() or not code.replace("_", "").isalpha():
                node.fail("codes are UPPER_CASE", "code")
            lower = self._band_bound(node)
            bands.append(Band(code=code, label=node.take("label", str), lower=lower))
            node.done()
        if not bands:
            top.fail("no classification bands", "bands")
        self._unique(top, "bands", [b.code for b in bands])
        self._unique(top, "bands", [b.label for b in bands])
        for higher, lower in zip(bands, bands[1:], strict=False):
            if not lower.lower < higher.lower:
                top.fail(
                    f"bands must be listed from the highest; {lower.code} does not start below {higher.code}", "bands"
                )
        if bands[-1].lower != 0:
            top.fail(f"the lowest band ({bands[-1].code}) must start at 0", "bands")
        if bands[0].lower > TOTAL_POINTS:
            top.fail(f"the highest band ({bands[0].code}) starts above {TOTAL_POINTS}", "bands")
        return tuple(bands)

    # -- scalars --

    def _enum(self, node: _Node, key: str, enum: type[Enum]) -> Any:
        raw = node.take(key, str)
        try:
            return enum(raw)
        except ValueError:
            known = ", ".join(repr(m.value) for m in enum)
            node.fail(f"unknown value {raw!r} (known: {known})", key)

    def _band_bound(self, node: _Node) -> Decimal:
        raw = node.take("from", (int, float, str))
        try:
            bound = Decimal(str(raw))
        except InvalidOperation:
            node.fail(f"not a number: {raw!r}", "from")
        if not bound.is_finite() or bound.as_tuple().exponent < -2:
            node.fail(f"a band starts at a total with at most 2 decimals, got {raw!r}", "from")
        return bound

    def _date(self, node: _Node, key: str, required: bool = True) -> date | None:
        return node.take(key, date, required=required)

    def _points(self, node: _Node, key: str) -> Fraction:
        value = self._fraction(node, key)
        if value <= 0:
            node.fail(f"must be positive, got {_num(value)}", key)
        return value

    def _fraction(self, node: _Node, key: str) -> Fraction:
        raw = node.take(key, (int, float, str))
        try:
            # A TOML float is read back through its shortest decimal spelling (0.8 -> "0.8" -> 4/5),
            # so a rule file never carries binary rounding error into the arithmetic.
            value = Fraction(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            node.fail(f"not a number: {raw!r}", key)
        return value

    def _unique(self, node: _Node, key: str, values: list[str]) -> None:
        seen = set()
        for value in values:
            if value in seen:
                node.fail(f"duplicate {value!r}", key)
            seen.add(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _num(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(Decimal(value.numerator) / value.denominator)


def _type_name(value: Any) -> str:
    return {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
    }.get(type(value), type(value).__name__)


def _kind_names(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        dict: "a table",
        list: "an array",
        date: "a date (YYYY-MM-DD)",
        bool: "a boolean",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
