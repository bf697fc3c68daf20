import datetime

from chiso.types.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScorecardKey(_message.Message):
    __slots__ = ("unit_code", "period", "scope")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    period: _types_pb2.Period
    scope: _types_pb2.Scope
    def __init__(self, unit_code: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ...) -> None: ...

class GetScorecardRequest(_message.Message):
    __slots__ = ("unit_code", "period", "scope", "as_of", "rule_version")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    period: _types_pb2.Period
    scope: _types_pb2.Scope
    as_of: _timestamp_pb2.Timestamp
    rule_version: str
    def __init__(self, unit_code: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rule_version: _Optional[str] = ...) -> None: ...

class GetScorecardResponse(_message.Message):
    __slots__ = ("scorecard",)
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    scorecard: _types_pb2.Scorecard
    def __init__(self, scorecard: _Optional[_Union[_types_pb2.Scorecard, _Mapping]] = ...) -> None: ...

class BatchGetScorecardsRequest(_message.Message):
    __slots__ = ("keys", "as_of", "rule_version")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ScorecardKey]
    as_of: _timestamp_pb2.Timestamp
    rule_version: str
    def __init__(self, keys: _Optional[_Iterable[_Union[ScorecardKey, _Mapping]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rule_version: _Optional[str] = ...) -> None: ...

class BatchGetScorecardsResponse(_message.Message):
    __slots__ = ("scorecards",)
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[_types_pb2.Scorecard]
    def __init__(self, scorecards: _Optional[_Iterable[_Union[_types_pb2.Scorecard, _Mapping]]] = ...) -> None: ...

class GetRankingRequest(_message.Message):
    __slots__ = ("period", "unit_kind", "parent_code", "as_of", "rule_version", "scope")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    period: _types_pb2.Period
    unit_kind: _types_pb2.UnitKind
    parent_code: str
    as_of: _timestamp_pb2.Timestamp
    rule_version: str
    scope: _types_pb2.Scope
    def __init__(self, period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rule_version: _Optional[str] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ...) -> None: ...

class GetRankingResponse(_message.Message):
    __slots__ = ("ranking",)
    RANKING_FIELD_NUMBER: _ClassVar[int]
    ranking: _types_pb2.Ranking
    def __init__(self, ranking: _Optional[_Union[_types_pb2.Ranking, _Mapping]] = ...) -> None: ...

class ExplanationItem(_message.Message):
    __slots__ = ("record_kind", "record_key", "unit_code", "reason", "late_seconds", "attributes", "reason_code", "points", "points_exact")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RECORD_KIND_FIELD_NUMBER: _ClassVar[int]
    RECORD_KEY_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LATE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_EXACT_FIELD_NUMBER: _ClassVar[int]
    record_kind: str
    record_key: str
    unit_code: str
    reason: str
    late_seconds: int
    attributes: _containers.ScalarMap[str, str]
    reason_code: str
    points: _decimal_pb2.Decimal
    points_exact: _types_pb2.Ratio
    def __init__(self, record_kind: _Optional[str] = ..., record_key: _Optional[str] = ..., unit_code: _Optional[str] = ..., reason: _Optional[str] = ..., late_seconds: _Optional[int] = ..., attributes: _Optional[_Mapping[str, str]] = ..., reason_code: _Optional[str] = ..., points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points_exact: _Optional[_Union[_types_pb2.Ratio, _Mapping]] = ...) -> None: ...

class ExplainIndicatorRequest(_message.Message):
    __slots__ = ("unit_code", "period", "scope", "as_of", "rule_version", "indicator_id", "page_size", "page_token")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    period: _types_pb2.Period
    scope: _types_pb2.Scope
    as_of: _timestamp_pb2.Timestamp
    rule_version: str
    indicator_id: str
    page_size: int
    page_token: str
    def __init__(self, unit_code: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rule_version: _Optional[str] = ..., indicator_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ExplainIndicatorResponse(_message.Message):
    __slots__ = ("items", "next_page_token", "total_size", "points_lost", "points_lost_exact", "headline", "rule_version")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    POINTS_LOST_FIELD_NUMBER: _ClassVar[int]
    POINTS_LOST_EXACT_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ExplanationItem]
    next_page_token: str
    total_size: int
    points_lost: _decimal_pb2.Decimal
    points_lost_exact: _types_pb2.Ratio
    headline: str
    rule_version: str
    def __init__(self, items: _Optional[_Iterable[_Union[ExplanationItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., points_lost: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points_lost_exact: _Optional[_Union[_types_pb2.Ratio, _Mapping]] = ..., headline: _Optional[str] = ..., rule_version: _Optional[str] = ...) -> None: ...

class ComponentCounts(_message.Message):
    __slots__ = ("component_id", "numerator", "denominator")
    COMPONENT_ID_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    component_id: str
    numerator: int
    denominator: int
    def __init__(self, component_id: _Optional[str] = ..., numerator: _Optional[int] = ..., denominator: _Optional[int] = ...) -> None: ...

class IndicatorCounts(_message.Message):
    __slots__ = ("indicator_id", "numerator", "denominator", "components", "previous_year_numerator", "previous_year_denominator")
    INDICATOR_ID_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_YEAR_NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_YEAR_DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    indicator_id: str
    numerator: int
    denominator: int
    components: _containers.RepeatedCompositeFieldContainer[ComponentCounts]
    previous_year_numerator: int
    previous_year_denominator: int
    def __init__(self, indicator_id: _Optional[str] = ..., numerator: _Optional[int] = ..., denominator: _Optional[int] = ..., components: _Optional[_Iterable[_Union[ComponentCounts, _Mapping]]] = ..., previous_year_numerator: _Optional[int] = ..., previous_year_denominator: _Optional[int] = ...) -> None: ...

class WhatIfRequest(_message.Message):
    __slots__ = ("rule_version", "period", "counts", "unit_kind")
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    rule_version: str
    period: _types_pb2.Period
    counts: _containers.RepeatedCompositeFieldContainer[IndicatorCounts]
    unit_kind: _types_pb2.UnitKind
    def __init__(self, rule_version: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., counts: _Optional[_Iterable[_Union[IndicatorCounts, _Mapping]]] = ..., unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ...) -> None: ...

class WhatIfResponse(_message.Message):
    __slots__ = ("scorecard",)
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    scorecard: _types_pb2.Scorecard
    def __init__(self, scorecard: _Optional[_Union[_types_pb2.Scorecard, _Mapping]] = ...) -> None: ...

class ThresholdStage(_message.Message):
    __slots__ = ("start_date", "end_date", "value")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    value: _decimal_pb2.Decimal
    def __init__(self, start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., value: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class IndicatorDefinition(_message.Message):
    __slots__ = ("id", "group_id", "name", "max_points", "kind", "thresholds", "no_data_rule", "flags", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    NO_DATA_RULE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    group_id: str
    name: str
    max_points: _decimal_pb2.Decimal
    kind: str
    thresholds: _containers.RepeatedCompositeFieldContainer[ThresholdStage]
    no_data_rule: str
    flags: _containers.RepeatedScalarFieldContainer[str]
    description: str
    def __init__(self, id: _Optional[str] = ..., group_id: _Optional[str] = ..., name: _Optional[str] = ..., max_points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., kind: _Optional[str] = ..., thresholds: _Optional[_Iterable[_Union[ThresholdStage, _Mapping]]] = ..., no_data_rule: _Optional[str] = ..., flags: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class GroupDefinition(_message.Message):
    __slots__ = ("id", "name", "max_points")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    max_points: _decimal_pb2.Decimal
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., max_points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class RuleVersion(_message.Message):
    __slots__ = ("id", "name", "effective_date", "groups", "indicators")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    effective_date: _date_pb2.Date
    groups: _containers.RepeatedCompositeFieldContainer[GroupDefinition]
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorDefinition]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., effective_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., groups: _Optional[_Iterable[_Union[GroupDefinition, _Mapping]]] = ..., indicators: _Optional[_Iterable[_Union[IndicatorDefinition, _Mapping]]] = ...) -> None: ...

class ListRuleVersionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRuleVersionsResponse(_message.Message):
    __slots__ = ("rule_versions",)
    RULE_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    rule_versions: _containers.RepeatedCompositeFieldContainer[RuleVersion]
    def __init__(self, rule_versions: _Optional[_Iterable[_Union[RuleVersion, _Mapping]]] = ...) -> None: ...

class ScorecardChange(_message.Message):
    __slots__ = ("cursor", "key", "change_time")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    key: ScorecardKey
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, cursor: _Optional[str] = ..., key: _Optional[_Union[ScorecardKey, _Mapping]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListScorecardChangesRequest(_message.Message):
    __slots__ = ("after_cursor", "page_size")
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_cursor: str
    page_size: int
    def __init__(self, after_cursor: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListScorecardChangesResponse(_message.Message):
    __slots__ = ("changes", "next_cursor")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ScorecardChange]
    next_cursor: str
    def __init__(self, changes: _Optional[_Iterable[_Union[ScorecardChange, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListAtRiskDossiersRequest(_message.Message):
    __slots__ = ("unit_code", "scope", "working_days", "period", "rule_version", "page_size", "page_token")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    scope: _types_pb2.Scope
    working_days: int
    period: _types_pb2.Period
    rule_version: str
    page_size: int
    page_token: str
    def __init__(self, unit_code: _Optional[str] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., working_days: _Optional[int] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., rule_version: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class AtRiskDossier(_message.Message):
    __slots__ = ("record_key", "unit_code", "procedure_code", "procedure_name", "due_time", "working_days_left", "points_at_stake", "points_at_stake_exact", "finish_first")
    RECORD_KEY_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_CODE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_NAME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_LEFT_FIELD_NUMBER: _ClassVar[int]
    POINTS_AT_STAKE_FIELD_NUMBER: _ClassVar[int]
    POINTS_AT_STAKE_EXACT_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIRST_FIELD_NUMBER: _ClassVar[int]
    record_key: str
    unit_code: str
    procedure_code: str
    procedure_name: str
    due_time: _timestamp_pb2.Timestamp
    working_days_left: int
    points_at_stake: _decimal_pb2.Decimal
    points_at_stake_exact: _types_pb2.Ratio
    finish_first: bool
    def __init__(self, record_key: _Optional[str] = ..., unit_code: _Optional[str] = ..., procedure_code: _Optional[str] = ..., procedure_name: _Optional[str] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., working_days_left: _Optional[int] = ..., points_at_stake: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points_at_stake_exact: _Optional[_Union[_types_pb2.Ratio, _Mapping]] = ..., finish_first: _Optional[bool] = ...) -> None: ...

class AtRiskTotal(_message.Message):
    __slots__ = ("key", "dossiers", "points_at_stake")
    KEY_FIELD_NUMBER: _ClassVar[int]
    DOSSIERS_FIELD_NUMBER: _ClassVar[int]
    POINTS_AT_STAKE_FIELD_NUMBER: _ClassVar[int]
    key: str
    dossiers: int
    points_at_stake: _decimal_pb2.Decimal
    def __init__(self, key: _Optional[str] = ..., dossiers: _Optional[int] = ..., points_at_stake: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class Projection(_message.Message):
    __slots__ = ("total_if_none_late", "band_if_none_late", "total_if_all_late", "band_if_all_late", "band_to_keep", "band_to_keep_label", "finish_first_count", "total_if_finish_first")
    TOTAL_IF_NONE_LATE_FIELD_NUMBER: _ClassVar[int]
    BAND_IF_NONE_LATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IF_ALL_LATE_FIELD_NUMBER: _ClassVar[int]
    BAND_IF_ALL_LATE_FIELD_NUMBER: _ClassVar[int]
    BAND_TO_KEEP_FIELD_NUMBER: _ClassVar[int]
    BAND_TO_KEEP_LABEL_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIRST_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IF_FINISH_FIRST_FIELD_NUMBER: _ClassVar[int]
    total_if_none_late: _decimal_pb2.Decimal
    band_if_none_late: _types_pb2.Classification
    total_if_all_late: _decimal_pb2.Decimal
    band_if_all_late: _types_pb2.Classification
    band_to_keep: _types_pb2.Classification
    band_to_keep_label: str
    finish_first_count: int
    total_if_finish_first: _decimal_pb2.Decimal
    def __init__(self, total_if_none_late: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., band_if_none_late: _Optional[_Union[_types_pb2.Classification, str]] = ..., total_if_all_late: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., band_if_all_late: _Optional[_Union[_types_pb2.Classification, str]] = ..., band_to_keep: _Optional[_Union[_types_pb2.Classification, str]] = ..., band_to_keep_label: _Optional[str] = ..., finish_first_count: _Optional[int] = ..., total_if_finish_first: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class ListAtRiskDossiersResponse(_message.Message):
    __slots__ = ("dossiers", "next_page_token", "total_size", "unit_totals", "procedure_totals", "projection", "period", "rule_version", "as_of", "horizon_end", "working_days", "empty_reason_code", "empty_reason")
    DOSSIERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    UNIT_TOTALS_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_TOTALS_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    HORIZON_END_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    EMPTY_REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    EMPTY_REASON_FIELD_NUMBER: _ClassVar[int]
    dossiers: _containers.RepeatedCompositeFieldContainer[AtRiskDossier]
    next_page_token: str
    total_size: int
    unit_totals: _containers.RepeatedCompositeFieldContainer[AtRiskTotal]
    procedure_totals: _containers.RepeatedCompositeFieldContainer[AtRiskTotal]
    projection: Projection
    period: _types_pb2.Period
    rule_version: str
    as_of: _timestamp_pb2.Timestamp
    horizon_end: _timestamp_pb2.Timestamp
    working_days: int
    empty_reason_code: str
    empty_reason: str
    def __init__(self, dossiers: _Optional[_Iterable[_Union[AtRiskDossier, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., unit_totals: _Optional[_Iterable[_Union[AtRiskTotal, _Mapping]]] = ..., procedure_totals: _Optional[_Iterable[_Union[AtRiskTotal, _Mapping]]] = ..., projection: _Optional[_Union[Projection, _Mapping]] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., rule_version: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., horizon_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., working_days: _Optional[int] = ..., empty_reason_code: _Optional[str] = ..., empty_reason: _Optional[str] = ...) -> None: ...

class ListProjectionsRequest(_message.Message):
    __slots__ = ("unit_kind", "parent_code", "working_days", "only_dropping", "scope", "page_size", "page_token")
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    ONLY_DROPPING_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_kind: _types_pb2.UnitKind
    parent_code: str
    working_days: int
    only_dropping: bool
    scope: _types_pb2.Scope
    page_size: int
    page_token: str
    def __init__(self, unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., working_days: _Optional[int] = ..., only_dropping: _Optional[bool] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class UnitProjection(_message.Message):
    __slots__ = ("unit", "at_risk_count", "projection", "drops_band")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    DROPS_BAND_FIELD_NUMBER: _ClassVar[int]
    unit: _types_pb2.UnitRef
    at_risk_count: int
    projection: Projection
    drops_band: bool
    def __init__(self, unit: _Optional[_Union[_types_pb2.UnitRef, _Mapping]] = ..., at_risk_count: _Optional[int] = ..., projection: _Optional[_Union[Projection, _Mapping]] = ..., drops_band: _Optional[bool] = ...) -> None: ...

class ListProjectionsResponse(_message.Message):
    __slots__ = ("projections", "next_page_token", "total_size", "period", "rule_version", "empty_reason_code", "empty_reason")
    PROJECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EMPTY_REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    EMPTY_REASON_FIELD_NUMBER: _ClassVar[int]
    projections: _containers.RepeatedCompositeFieldContainer[UnitProjection]
    next_page_token: str
    total_size: int
    period: _types_pb2.Period
    rule_version: str
    empty_reason_code: str
    empty_reason: str
    def __init__(self, projections: _Optional[_Iterable[_Union[UnitProjection, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., rule_version: _Optional[str] = ..., empty_reason_code: _Optional[str] = ..., empty_reason: _Optional[str] = ...) -> None: ...
