import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UnitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNIT_KIND_UNSPECIFIED: _ClassVar[UnitKind]
    UNIT_KIND_MINISTRY: _ClassVar[UnitKind]
    UNIT_KIND_MINISTERIAL_AGENCY: _ClassVar[UnitKind]
    UNIT_KIND_SOCIAL_SECURITY: _ClassVar[UnitKind]
    UNIT_KIND_PROVINCE: _ClassVar[UnitKind]
    UNIT_KIND_DEPARTMENT: _ClassVar[UnitKind]
    UNIT_KIND_COMMUNE: _ClassVar[UnitKind]
    UNIT_KIND_DISTRICT: _ClassVar[UnitKind]
    UNIT_KIND_OTHER: _ClassVar[UnitKind]

class PeriodKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERIOD_KIND_UNSPECIFIED: _ClassVar[PeriodKind]
    PERIOD_KIND_MONTH: _ClassVar[PeriodKind]
    PERIOD_KIND_QUARTER: _ClassVar[PeriodKind]
    PERIOD_KIND_YEAR: _ClassVar[PeriodKind]
    PERIOD_KIND_YEAR_TO_DATE: _ClassVar[PeriodKind]

class Scope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCOPE_UNSPECIFIED: _ClassVar[Scope]
    SCOPE_UNIT: _ClassVar[Scope]
    SCOPE_SUBTREE: _ClassVar[Scope]

class Classification(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLASSIFICATION_UNSPECIFIED: _ClassVar[Classification]
    CLASSIFICATION_EXCELLENT: _ClassVar[Classification]
    CLASSIFICATION_GOOD: _ClassVar[Classification]
    CLASSIFICATION_FAIR: _ClassVar[Classification]
    CLASSIFICATION_AVERAGE: _ClassVar[Classification]
    CLASSIFICATION_WEAK: _ClassVar[Classification]

class IndicatorStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDICATOR_STATUS_UNSPECIFIED: _ClassVar[IndicatorStatus]
    INDICATOR_STATUS_SCORED: _ClassVar[IndicatorStatus]
    INDICATOR_STATUS_NOT_APPLICABLE: _ClassVar[IndicatorStatus]
    INDICATOR_STATUS_ANALYSIS_ONLY: _ClassVar[IndicatorStatus]
    INDICATOR_STATUS_UNSCORED: _ClassVar[IndicatorStatus]

class Feed(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEED_UNSPECIFIED: _ClassVar[Feed]
    FEED_LIVE: _ClassVar[Feed]
    FEED_OFFICIAL: _ClassVar[Feed]
    FEED_ALERT: _ClassVar[Feed]
UNIT_KIND_UNSPECIFIED: UnitKind
UNIT_KIND_MINISTRY: UnitKind
UNIT_KIND_MINISTERIAL_AGENCY: UnitKind
UNIT_KIND_SOCIAL_SECURITY: UnitKind
UNIT_KIND_PROVINCE: UnitKind
UNIT_KIND_DEPARTMENT: UnitKind
UNIT_KIND_COMMUNE: UnitKind
UNIT_KIND_DISTRICT: UnitKind
UNIT_KIND_OTHER: UnitKind
PERIOD_KIND_UNSPECIFIED: PeriodKind
PERIOD_KIND_MONTH: PeriodKind
PERIOD_KIND_QUARTER: PeriodKind
PERIOD_KIND_YEAR: PeriodKind
PERIOD_KIND_YEAR_TO_DATE: PeriodKind
SCOPE_UNSPECIFIED: Scope
SCOPE_UNIT: Scope
SCOPE_SUBTREE: Scope
CLASSIFICATION_UNSPECIFIED: Classification
CLASSIFICATION_EXCELLENT: Classification
CLASSIFICATION_GOOD: Classification
CLASSIFICATION_FAIR: Classification
CLASSIFICATION_AVERAGE: Classification
CLASSIFICATION_WEAK: Classification
INDICATOR_STATUS_UNSPECIFIED: IndicatorStatus
INDICATOR_STATUS_SCORED: IndicatorStatus
INDICATOR_STATUS_NOT_APPLICABLE: IndicatorStatus
INDICATOR_STATUS_ANALYSIS_ONLY: IndicatorStatus
INDICATOR_STATUS_UNSCORED: IndicatorStatus
FEED_UNSPECIFIED: Feed
FEED_LIVE: Feed
FEED_OFFICIAL: Feed
FEED_ALERT: Feed

class UnitRef(_message.Message):
    __slots__ = ("code", "name", "kind", "parent_code")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    kind: UnitKind
    parent_code: str
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[UnitKind, str]] = ..., parent_code: _Optional[str] = ...) -> None: ...

class Period(_message.Message):
    __slots__ = ("kind", "year", "number")
    KIND_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    kind: PeriodKind
    year: int
    number: int
    def __init__(self, kind: _Optional[_Union[PeriodKind, str]] = ..., year: _Optional[int] = ..., number: _Optional[int] = ...) -> None: ...

class Ratio(_message.Message):
    __slots__ = ("numerator", "denominator")
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    numerator: str
    denominator: str
    def __init__(self, numerator: _Optional[str] = ..., denominator: _Optional[str] = ...) -> None: ...

class ComponentResult(_message.Message):
    __slots__ = ("id", "name", "numerator", "denominator", "rate", "threshold", "max_points", "points")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    numerator: int
    denominator: int
    rate: _decimal_pb2.Decimal
    threshold: _decimal_pb2.Decimal
    max_points: _decimal_pb2.Decimal
    points: _decimal_pb2.Decimal
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., numerator: _Optional[int] = ..., denominator: _Optional[int] = ..., rate: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., threshold: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., max_points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class IndicatorResult(_message.Message):
    __slots__ = ("id", "group_id", "name", "max_points", "numerator", "denominator", "rate", "threshold", "points", "points_exact", "status", "flags", "components", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_EXACT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    group_id: str
    name: str
    max_points: _decimal_pb2.Decimal
    numerator: int
    denominator: int
    rate: _decimal_pb2.Decimal
    threshold: _decimal_pb2.Decimal
    points: _decimal_pb2.Decimal
    points_exact: Ratio
    status: IndicatorStatus
    flags: _containers.RepeatedScalarFieldContainer[str]
    components: _containers.RepeatedCompositeFieldContainer[ComponentResult]
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., group_id: _Optional[str] = ..., name: _Optional[str] = ..., max_points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., numerator: _Optional[int] = ..., denominator: _Optional[int] = ..., rate: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., threshold: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points_exact: _Optional[_Union[Ratio, _Mapping]] = ..., status: _Optional[_Union[IndicatorStatus, str]] = ..., flags: _Optional[_Iterable[str]] = ..., components: _Optional[_Iterable[_Union[ComponentResult, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GroupResult(_message.Message):
    __slots__ = ("id", "name", "max_points", "points")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    max_points: _decimal_pb2.Decimal
    points: _decimal_pb2.Decimal
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., max_points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., points: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class ProcessingTimeStat(_message.Message):
    __slots__ = ("procedure_code", "procedure_name", "dossiers", "mean_days", "p50_days", "p90_days")
    PROCEDURE_CODE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_NAME_FIELD_NUMBER: _ClassVar[int]
    DOSSIERS_FIELD_NUMBER: _ClassVar[int]
    MEAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    P50_DAYS_FIELD_NUMBER: _ClassVar[int]
    P90_DAYS_FIELD_NUMBER: _ClassVar[int]
    procedure_code: str
    procedure_name: str
    dossiers: int
    mean_days: _decimal_pb2.Decimal
    p50_days: _decimal_pb2.Decimal
    p90_days: _decimal_pb2.Decimal
    def __init__(self, procedure_code: _Optional[str] = ..., procedure_name: _Optional[str] = ..., dossiers: _Optional[int] = ..., mean_days: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., p50_days: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., p90_days: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class CategoryCount(_message.Message):
    __slots__ = ("category", "petitions")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PETITIONS_FIELD_NUMBER: _ClassVar[int]
    category: str
    petitions: int
    def __init__(self, category: _Optional[str] = ..., petitions: _Optional[int] = ...) -> None: ...

class Scorecard(_message.Message):
    __slots__ = ("name", "unit", "period", "scope", "rule_version", "as_of", "compute_time", "groups", "indicators", "total", "total_exact", "classification", "classification_label", "provisional", "processing_times", "petition_categories", "no_data", "requested_as_of")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EXACT_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_LABEL_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_TIMES_FIELD_NUMBER: _ClassVar[int]
    PETITION_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    NO_DATA_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AS_OF_FIELD_NUMBER: _ClassVar[int]
    name: str
    unit: UnitRef
    period: Period
    scope: Scope
    rule_version: str
    as_of: _timestamp_pb2.Timestamp
    compute_time: _timestamp_pb2.Timestamp
    groups: _containers.RepeatedCompositeFieldContainer[GroupResult]
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorResult]
    total: _decimal_pb2.Decimal
    total_exact: Ratio
    classification: Classification
    classification_label: str
    provisional: bool
    processing_times: _containers.RepeatedCompositeFieldContainer[ProcessingTimeStat]
    petition_categories: _containers.RepeatedCompositeFieldContainer[CategoryCount]
    no_data: bool
    requested_as_of: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., unit: _Optional[_Union[UnitRef, _Mapping]] = ..., period: _Optional[_Union[Period, _Mapping]] = ..., scope: _Optional[_Union[Scope, str]] = ..., rule_version: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., compute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., groups: _Optional[_Iterable[_Union[GroupResult, _Mapping]]] = ..., indicators: _Optional[_Iterable[_Union[IndicatorResult, _Mapping]]] = ..., total: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., total_exact: _Optional[_Union[Ratio, _Mapping]] = ..., classification: _Optional[_Union[Classification, str]] = ..., classification_label: _Optional[str] = ..., provisional: _Optional[bool] = ..., processing_times: _Optional[_Iterable[_Union[ProcessingTimeStat, _Mapping]]] = ..., petition_categories: _Optional[_Iterable[_Union[CategoryCount, _Mapping]]] = ..., no_data: _Optional[bool] = ..., requested_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RankingEntry(_message.Message):
    __slots__ = ("rank", "unit", "total", "classification", "previous_rank")
    RANK_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RANK_FIELD_NUMBER: _ClassVar[int]
    rank: int
    unit: UnitRef
    total: _decimal_pb2.Decimal
    classification: Classification
    previous_rank: int
    def __init__(self, rank: _Optional[int] = ..., unit: _Optional[_Union[UnitRef, _Mapping]] = ..., total: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., classification: _Optional[_Union[Classification, str]] = ..., previous_rank: _Optional[int] = ...) -> None: ...

class Ranking(_message.Message):
    __slots__ = ("period", "unit_kind", "parent_code", "rule_version", "as_of", "entries", "scope", "units_without_data", "requested_as_of")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    UNITS_WITHOUT_DATA_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AS_OF_FIELD_NUMBER: _ClassVar[int]
    period: Period
    unit_kind: UnitKind
    parent_code: str
    rule_version: str
    as_of: _timestamp_pb2.Timestamp
    entries: _containers.RepeatedCompositeFieldContainer[RankingEntry]
    scope: Scope
    units_without_data: _containers.RepeatedCompositeFieldContainer[UnitRef]
    requested_as_of: _timestamp_pb2.Timestamp
    def __init__(self, period: _Optional[_Union[Period, _Mapping]] = ..., unit_kind: _Optional[_Union[UnitKind, str]] = ..., parent_code: _Optional[str] = ..., rule_version: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[RankingEntry, _Mapping]]] = ..., scope: _Optional[_Union[Scope, str]] = ..., units_without_data: _Optional[_Iterable[_Union[UnitRef, _Mapping]]] = ..., requested_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
