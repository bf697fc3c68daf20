import datetime

from chiso.types.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_KIND_UNSPECIFIED: _ClassVar[ChangeKind]
    CHANGE_KIND_LIVE_SCORECARD: _ClassVar[ChangeKind]
    CHANGE_KIND_PUBLICATION: _ClassVar[ChangeKind]

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_PENDING: _ClassVar[DeliveryState]
    DELIVERY_STATE_DELIVERED: _ClassVar[DeliveryState]
    DELIVERY_STATE_SET_ASIDE: _ClassVar[DeliveryState]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]
    EXPORT_FORMAT_XLSX: _ClassVar[ExportFormat]

class AlertState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATE_UNSPECIFIED: _ClassVar[AlertState]
    ALERT_STATE_OPEN: _ClassVar[AlertState]
    ALERT_STATE_RESOLVED: _ClassVar[AlertState]
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_LIVE_SCORECARD: ChangeKind
CHANGE_KIND_PUBLICATION: ChangeKind
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_PENDING: DeliveryState
DELIVERY_STATE_DELIVERED: DeliveryState
DELIVERY_STATE_SET_ASIDE: DeliveryState
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
EXPORT_FORMAT_XLSX: ExportFormat
ALERT_STATE_UNSPECIFIED: AlertState
ALERT_STATE_OPEN: AlertState
ALERT_STATE_RESOLVED: AlertState

class PublishedScorecard(_message.Message):
    __slots__ = ("feed", "scorecard", "publication_id", "revision", "version", "update_time")
    FEED_FIELD_NUMBER: _ClassVar[int]
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    feed: _types_pb2.Feed
    scorecard: _types_pb2.Scorecard
    publication_id: str
    revision: int
    version: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, feed: _Optional[_Union[_types_pb2.Feed, str]] = ..., scorecard: _Optional[_Union[_types_pb2.Scorecard, _Mapping]] = ..., publication_id: _Optional[str] = ..., revision: _Optional[int] = ..., version: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Publication(_message.Message):
    __slots__ = ("name", "publication_id", "revision", "title", "period", "rule_version", "unit_kind", "parent_code", "publish_time", "reason", "scorecards", "ranking", "payload", "signature", "key_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    RANKING_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    publication_id: str
    revision: int
    title: str
    period: _types_pb2.Period
    rule_version: str
    unit_kind: _types_pb2.UnitKind
    parent_code: str
    publish_time: _timestamp_pb2.Timestamp
    reason: str
    scorecards: _containers.RepeatedCompositeFieldContainer[_types_pb2.Scorecard]
    ranking: _types_pb2.Ranking
    payload: bytes
    signature: bytes
    key_id: str
    def __init__(self, name: _Optional[str] = ..., publication_id: _Optional[str] = ..., revision: _Optional[int] = ..., title: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., rule_version: _Optional[str] = ..., unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., scorecards: _Optional[_Iterable[_Union[_types_pb2.Scorecard, _Mapping]]] = ..., ranking: _Optional[_Union[_types_pb2.Ranking, _Mapping]] = ..., payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("cursor", "kind", "change_time", "scorecard", "publication_name")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    PUBLICATION_NAME_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    kind: ChangeKind
    change_time: _timestamp_pb2.Timestamp
    scorecard: PublishedScorecard
    publication_name: str
    def __init__(self, cursor: _Optional[str] = ..., kind: _Optional[_Union[ChangeKind, str]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scorecard: _Optional[_Union[PublishedScorecard, _Mapping]] = ..., publication_name: _Optional[str] = ...) -> None: ...

class GetScorecardRequest(_message.Message):
    __slots__ = ("unit_code", "period", "scope", "feed", "publication_id", "revision")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    period: _types_pb2.Period
    scope: _types_pb2.Scope
    feed: _types_pb2.Feed
    publication_id: str
    revision: int
    def __init__(self, unit_code: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ..., publication_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class GetScorecardResponse(_message.Message):
    __slots__ = ("scorecard",)
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    scorecard: PublishedScorecard
    def __init__(self, scorecard: _Optional[_Union[PublishedScorecard, _Mapping]] = ...) -> None: ...

class ListScorecardsRequest(_message.Message):
    __slots__ = ("period", "unit_kind", "parent_code", "feed", "page_size", "page_token", "scope")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    period: _types_pb2.Period
    unit_kind: _types_pb2.UnitKind
    parent_code: str
    feed: _types_pb2.Feed
    page_size: int
    page_token: str
    scope: _types_pb2.Scope
    def __init__(self, period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ...) -> None: ...

class ListScorecardsResponse(_message.Message):
    __slots__ = ("scorecards", "next_page_token", "total_size")
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[PublishedScorecard]
    next_page_token: str
    total_size: int
    def __init__(self, scorecards: _Optional[_Iterable[_Union[PublishedScorecard, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetRankingRequest(_message.Message):
    __slots__ = ("period", "unit_kind", "parent_code", "feed", "publication_id")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    period: _types_pb2.Period
    unit_kind: _types_pb2.UnitKind
    parent_code: str
    feed: _types_pb2.Feed
    publication_id: str
    def __init__(self, period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ..., publication_id: _Optional[str] = ...) -> None: ...

class GetRankingResponse(_message.Message):
    __slots__ = ("ranking", "feed", "previous_period", "previous_publication_id")
    RANKING_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_PERIOD_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    ranking: _types_pb2.Ranking
    feed: _types_pb2.Feed
    previous_period: _types_pb2.Period
    previous_publication_id: str
    def __init__(self, ranking: _Optional[_Union[_types_pb2.Ranking, _Mapping]] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ..., previous_period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., previous_publication_id: _Optional[str] = ...) -> None: ...

class GetScorecardHistoryRequest(_message.Message):
    __slots__ = ("unit_code", "scope", "end_period", "period_kind", "period_count", "feed")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    END_PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_KIND_FIELD_NUMBER: _ClassVar[int]
    PERIOD_COUNT_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    scope: _types_pb2.Scope
    end_period: _types_pb2.Period
    period_kind: _types_pb2.PeriodKind
    period_count: int
    feed: _types_pb2.Feed
    def __init__(self, unit_code: _Optional[str] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., end_period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., period_kind: _Optional[_Union[_types_pb2.PeriodKind, str]] = ..., period_count: _Optional[int] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ...) -> None: ...

class ScorecardHistoryPoint(_message.Message):
    __slots__ = ("period", "scorecard", "rank", "ranked_count")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    RANKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    period: _types_pb2.Period
    scorecard: PublishedScorecard
    rank: int
    ranked_count: int
    def __init__(self, period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., scorecard: _Optional[_Union[PublishedScorecard, _Mapping]] = ..., rank: _Optional[int] = ..., ranked_count: _Optional[int] = ...) -> None: ...

class GetScorecardHistoryResponse(_message.Message):
    __slots__ = ("unit", "points")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    unit: _types_pb2.UnitRef
    points: _containers.RepeatedCompositeFieldContainer[ScorecardHistoryPoint]
    def __init__(self, unit: _Optional[_Union[_types_pb2.UnitRef, _Mapping]] = ..., points: _Optional[_Iterable[_Union[ScorecardHistoryPoint, _Mapping]]] = ...) -> None: ...

class ListChangesRequest(_message.Message):
    __slots__ = ("cursor", "page_size", "start_at_end")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    START_AT_END_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    page_size: int
    start_at_end: bool
    def __init__(self, cursor: _Optional[str] = ..., page_size: _Optional[int] = ..., start_at_end: _Optional[bool] = ...) -> None: ...

class ListChangesResponse(_message.Message):
    __slots__ = ("changes", "next_cursor")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[Change]
    next_cursor: str
    def __init__(self, changes: _Optional[_Iterable[_Union[Change, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class StreamChangesRequest(_message.Message):
    __slots__ = ("cursor", "start_at_end")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    START_AT_END_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    start_at_end: bool
    def __init__(self, cursor: _Optional[str] = ..., start_at_end: _Optional[bool] = ...) -> None: ...

class ListLiveSnapshotRequest(_message.Message):
    __slots__ = ("period", "unit_codes", "scope", "page_size", "page_token")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODES_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    period: _types_pb2.Period
    unit_codes: _containers.RepeatedScalarFieldContainer[str]
    scope: _types_pb2.Scope
    page_size: int
    page_token: str
    def __init__(self, period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., unit_codes: _Optional[_Iterable[str]] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLiveSnapshotResponse(_message.Message):
    __slots__ = ("scorecards", "next_page_token", "consistent_cursor")
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[PublishedScorecard]
    next_page_token: str
    consistent_cursor: str
    def __init__(self, scorecards: _Optional[_Iterable[_Union[PublishedScorecard, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., consistent_cursor: _Optional[str] = ...) -> None: ...

class StreamChangesResponse(_message.Message):
    __slots__ = ("change",)
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    change: Change
    def __init__(self, change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class CreatePublicationRequest(_message.Message):
    __slots__ = ("request_id", "period", "unit_kind", "parent_code", "rule_version", "scope", "title")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    period: _types_pb2.Period
    unit_kind: _types_pb2.UnitKind
    parent_code: str
    rule_version: str
    scope: _types_pb2.Scope
    title: str
    def __init__(self, request_id: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., unit_kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., rule_version: _Optional[str] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ..., title: _Optional[str] = ...) -> None: ...

class CreatePublicationResponse(_message.Message):
    __slots__ = ("publication",)
    PUBLICATION_FIELD_NUMBER: _ClassVar[int]
    publication: Publication
    def __init__(self, publication: _Optional[_Union[Publication, _Mapping]] = ...) -> None: ...

class CorrectPublicationRequest(_message.Message):
    __slots__ = ("request_id", "publication_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    publication_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., publication_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CorrectPublicationResponse(_message.Message):
    __slots__ = ("publication",)
    PUBLICATION_FIELD_NUMBER: _ClassVar[int]
    publication: Publication
    def __init__(self, publication: _Optional[_Union[Publication, _Mapping]] = ...) -> None: ...

class GetPublicationRequest(_message.Message):
    __slots__ = ("publication_id", "revision")
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    publication_id: str
    revision: int
    def __init__(self, publication_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class GetPublicationResponse(_message.Message):
    __slots__ = ("publication",)
    PUBLICATION_FIELD_NUMBER: _ClassVar[int]
    publication: Publication
    def __init__(self, publication: _Optional[_Union[Publication, _Mapping]] = ...) -> None: ...

class ListPublicationsRequest(_message.Message):
    __slots__ = ("period", "page_size", "page_token")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    period: _types_pb2.Period
    page_size: int
    page_token: str
    def __init__(self, period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPublicationsResponse(_message.Message):
    __slots__ = ("publications", "next_page_token")
    PUBLICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    publications: _containers.RepeatedCompositeFieldContainer[Publication]
    next_page_token: str
    def __init__(self, publications: _Optional[_Iterable[_Union[Publication, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PublicKey(_message.Message):
    __slots__ = ("key_id", "algorithm", "public_key", "pem", "create_time")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    PEM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    algorithm: str
    public_key: bytes
    pem: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., public_key: _Optional[bytes] = ..., pem: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPublicKeyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetPublicKeyResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[PublicKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[PublicKey, _Mapping]]] = ...) -> None: ...

class ExportResultsRequest(_message.Message):
    __slots__ = ("publication_id", "revision", "ranking", "format", "scorecard")
    PUBLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RANKING_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    publication_id: str
    revision: int
    ranking: GetRankingRequest
    format: ExportFormat
    scorecard: GetScorecardRequest
    def __init__(self, publication_id: _Optional[str] = ..., revision: _Optional[int] = ..., ranking: _Optional[_Union[GetRankingRequest, _Mapping]] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., scorecard: _Optional[_Union[GetScorecardRequest, _Mapping]] = ...) -> None: ...

class ExportResultsResponse(_message.Message):
    __slots__ = ("content", "content_type", "filename")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    content_type: str
    filename: str
    def __init__(self, content: _Optional[bytes] = ..., content_type: _Optional[str] = ..., filename: _Optional[str] = ...) -> None: ...

class TlsSettings(_message.Message):
    __slots__ = ("enabled", "ca_certificate", "server_name")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    ca_certificate: bytes
    server_name: str
    def __init__(self, enabled: _Optional[bool] = ..., ca_certificate: _Optional[bytes] = ..., server_name: _Optional[str] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("subscription_id", "display_name", "endpoint", "unit_codes", "feeds", "tls", "create_time", "pending_count", "set_aside_count", "alert_settings")
    class AlertSettingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODES_FIELD_NUMBER: _ClassVar[int]
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    SET_ASIDE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ALERT_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    display_name: str
    endpoint: str
    unit_codes: _containers.RepeatedScalarFieldContainer[str]
    feeds: _containers.RepeatedScalarFieldContainer[_types_pb2.Feed]
    tls: TlsSettings
    create_time: _timestamp_pb2.Timestamp
    pending_count: int
    set_aside_count: int
    alert_settings: _containers.ScalarMap[str, str]
    def __init__(self, subscription_id: _Optional[str] = ..., display_name: _Optional[str] = ..., endpoint: _Optional[str] = ..., unit_codes: _Optional[_Iterable[str]] = ..., feeds: _Optional[_Iterable[_Union[_types_pb2.Feed, str]]] = ..., tls: _Optional[_Union[TlsSettings, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_count: _Optional[int] = ..., set_aside_count: _Optional[int] = ..., alert_settings: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateSubscriptionRequest(_message.Message):
    __slots__ = ("request_id", "subscription")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription: Subscription
    def __init__(self, request_id: _Optional[str] = ..., subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class CreateSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class UpdateSubscriptionRequest(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class UpdateSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class DeleteSubscriptionRequest(_message.Message):
    __slots__ = ("subscription_id",)
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    def __init__(self, subscription_id: _Optional[str] = ...) -> None: ...

class DeleteSubscriptionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions", "next_page_token")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    next_page_token: str
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("delivery_id", "subscription_id", "sequence", "state", "attempts", "next_attempt_time", "last_error", "create_time", "deliver_time", "feed")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVER_TIME_FIELD_NUMBER: _ClassVar[int]
    FEED_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    subscription_id: str
    sequence: int
    state: DeliveryState
    attempts: int
    next_attempt_time: _timestamp_pb2.Timestamp
    last_error: str
    create_time: _timestamp_pb2.Timestamp
    deliver_time: _timestamp_pb2.Timestamp
    feed: _types_pb2.Feed
    def __init__(self, delivery_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., sequence: _Optional[int] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., attempts: _Optional[int] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deliver_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., feed: _Optional[_Union[_types_pb2.Feed, str]] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("subscription_id", "state", "page_size", "page_token")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    state: DeliveryState
    page_size: int
    page_token: str
    def __init__(self, subscription_id: _Optional[str] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplayDeliveriesRequest(_message.Message):
    __slots__ = ("subscription_id", "delivery_ids")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_IDS_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    delivery_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subscription_id: _Optional[str] = ..., delivery_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReplayDeliveriesResponse(_message.Message):
    __slots__ = ("replayed_count",)
    REPLAYED_COUNT_FIELD_NUMBER: _ClassVar[int]
    replayed_count: int
    def __init__(self, replayed_count: _Optional[int] = ...) -> None: ...

class ScorecardKey(_message.Message):
    __slots__ = ("unit_code", "period", "scope")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    period: _types_pb2.Period
    scope: _types_pb2.Scope
    def __init__(self, unit_code: _Optional[str] = ..., period: _Optional[_Union[_types_pb2.Period, _Mapping]] = ..., scope: _Optional[_Union[_types_pb2.Scope, str]] = ...) -> None: ...

class SetAsideScorecard(_message.Message):
    __slots__ = ("key", "last_error", "attempts", "first_fail_time", "last_fail_time", "next_attempt_time")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAIL_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_FAIL_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    key: ScorecardKey
    last_error: str
    attempts: int
    first_fail_time: _timestamp_pb2.Timestamp
    last_fail_time: _timestamp_pb2.Timestamp
    next_attempt_time: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[_Union[ScorecardKey, _Mapping]] = ..., last_error: _Optional[str] = ..., attempts: _Optional[int] = ..., first_fail_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_fail_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSetAsideScorecardsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSetAsideScorecardsResponse(_message.Message):
    __slots__ = ("scorecards", "next_page_token")
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[SetAsideScorecard]
    next_page_token: str
    def __init__(self, scorecards: _Optional[_Iterable[_Union[SetAsideScorecard, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplaySetAsideScorecardsRequest(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ScorecardKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[ScorecardKey, _Mapping]]] = ...) -> None: ...

class ReplaySetAsideScorecardsResponse(_message.Message):
    __slots__ = ("tried_count", "recovered_count", "failing_count")
    TRIED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILING_COUNT_FIELD_NUMBER: _ClassVar[int]
    tried_count: int
    recovered_count: int
    failing_count: int
    def __init__(self, tried_count: _Optional[int] = ..., recovered_count: _Optional[int] = ..., failing_count: _Optional[int] = ...) -> None: ...

class AlertRecipient(_message.Message):
    __slots__ = ("unit_code", "address", "create_time")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    address: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, unit_code: _Optional[str] = ..., address: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AddAlertRecipientRequest(_message.Message):
    __slots__ = ("unit_code", "address")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    address: str
    def __init__(self, unit_code: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class AddAlertRecipientResponse(_message.Message):
    __slots__ = ("recipient",)
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    recipient: AlertRecipient
    def __init__(self, recipient: _Optional[_Union[AlertRecipient, _Mapping]] = ...) -> None: ...

class RemoveAlertRecipientRequest(_message.Message):
    __slots__ = ("unit_code", "address")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    address: str
    def __init__(self, unit_code: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class RemoveAlertRecipientResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: bool
    def __init__(self, removed: _Optional[bool] = ...) -> None: ...

class ListAlertRecipientsRequest(_message.Message):
    __slots__ = ("unit_code", "page_size", "page_token")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    page_size: int
    page_token: str
    def __init__(self, unit_code: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAlertRecipientsResponse(_message.Message):
    __slots__ = ("recipients", "next_page_token")
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    recipients: _containers.RepeatedCompositeFieldContainer[AlertRecipient]
    next_page_token: str
    def __init__(self, recipients: _Optional[_Iterable[_Union[AlertRecipient, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("alert_id", "subscription_id", "unit_code", "rule_id", "period_key", "state", "title", "open_time", "resolve_time")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    subscription_id: str
    unit_code: str
    rule_id: str
    period_key: str
    state: AlertState
    title: str
    open_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    def __init__(self, alert_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., unit_code: _Optional[str] = ..., rule_id: _Optional[str] = ..., period_key: _Optional[str] = ..., state: _Optional[_Union[AlertState, str]] = ..., title: _Optional[str] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("unit_code", "state", "page_size", "page_token")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    state: AlertState
    page_size: int
    page_token: str
    def __init__(self, unit_code: _Optional[str] = ..., state: _Optional[_Union[AlertState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts", "next_page_token")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    next_page_token: str
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
