import datetime

from chiso.types.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_STATUS_UNSPECIFIED: _ClassVar[RecordStatus]
    RECORD_STATUS_ACCEPTED: _ClassVar[RecordStatus]
    RECORD_STATUS_STALE: _ClassVar[RecordStatus]
    RECORD_STATUS_INVALID: _ClassVar[RecordStatus]
    RECORD_STATUS_PERMISSION_DENIED: _ClassVar[RecordStatus]
    RECORD_STATUS_ABORTED: _ClassVar[RecordStatus]

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_UNIT: _ClassVar[RecordKind]
    RECORD_KIND_PROCEDURE: _ClassVar[RecordKind]
    RECORD_KIND_UNIT_PROCEDURE: _ClassVar[RecordKind]
    RECORD_KIND_PUBLICATION: _ClassVar[RecordKind]
    RECORD_KIND_DOSSIER: _ClassVar[RecordKind]
    RECORD_KIND_PETITION: _ClassVar[RecordKind]
    RECORD_KIND_REPORTED_TOTAL: _ClassVar[RecordKind]

class OnlineLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ONLINE_LEVEL_UNSPECIFIED: _ClassVar[OnlineLevel]
    ONLINE_LEVEL_NONE: _ClassVar[OnlineLevel]
    ONLINE_LEVEL_PARTIAL: _ClassVar[OnlineLevel]
    ONLINE_LEVEL_FULL: _ClassVar[OnlineLevel]

class OnlineServiceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ONLINE_SERVICE_STATUS_UNSPECIFIED: _ClassVar[OnlineServiceStatus]
    ONLINE_SERVICE_STATUS_ACTIVE: _ClassVar[OnlineServiceStatus]
    ONLINE_SERVICE_STATUS_SUSPENDED: _ClassVar[OnlineServiceStatus]

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_ONLINE: _ClassVar[Channel]
    CHANNEL_IN_PERSON: _ClassVar[Channel]
    CHANNEL_POSTAL: _ClassVar[Channel]

class EndState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    END_STATE_UNSPECIFIED: _ClassVar[EndState]
    END_STATE_COMPLETED: _ClassVar[EndState]
    END_STATE_RESULT_RETURNED: _ClassVar[EndState]
    END_STATE_REJECTED: _ClassVar[EndState]
    END_STATE_STOPPED: _ClassVar[EndState]
    END_STATE_WITHDRAWN: _ClassVar[EndState]

class ProcessingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESSING_STATE_UNSPECIFIED: _ClassVar[ProcessingState]
    PROCESSING_STATE_PROCESSING: _ClassVar[ProcessingState]
    PROCESSING_STATE_WAITING_SUPPLEMENT: _ClassVar[ProcessingState]
    PROCESSING_STATE_PAUSED: _ClassVar[ProcessingState]

class Rating(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RATING_UNSPECIFIED: _ClassVar[Rating]
    RATING_SATISFIED: _ClassVar[Rating]
    RATING_NEUTRAL: _ClassVar[Rating]
    RATING_DISSATISFIED: _ClassVar[Rating]

class PaymentChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_CHANNEL_UNSPECIFIED: _ClassVar[PaymentChannel]
    PAYMENT_CHANNEL_NATIONAL_PLATFORM: _ClassVar[PaymentChannel]
    PAYMENT_CHANNEL_LOCAL_GATEWAY: _ClassVar[PaymentChannel]

class ProcedurePart(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCEDURE_PART_UNSPECIFIED: _ClassVar[ProcedurePart]
    PROCEDURE_PART_NAME: _ClassVar[ProcedurePart]
    PROCEDURE_PART_STEPS: _ClassVar[ProcedurePart]
    PROCEDURE_PART_METHOD: _ClassVar[ProcedurePart]
    PROCEDURE_PART_DOSSIER_COMPONENTS: _ClassVar[ProcedurePart]
    PROCEDURE_PART_TIME_LIMIT: _ClassVar[ProcedurePart]
    PROCEDURE_PART_APPLICANTS: _ClassVar[ProcedurePart]
    PROCEDURE_PART_AGENCY: _ClassVar[ProcedurePart]
    PROCEDURE_PART_RESULT: _ClassVar[ProcedurePart]
    PROCEDURE_PART_FEES: _ClassVar[ProcedurePart]
    PROCEDURE_PART_CONDITIONS: _ClassVar[ProcedurePart]
    PROCEDURE_PART_LEGAL_BASIS: _ClassVar[ProcedurePart]

class PetitionCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PETITION_CATEGORY_UNSPECIFIED: _ClassVar[PetitionCategory]
    PETITION_CATEGORY_RULES: _ClassVar[PetitionCategory]
    PETITION_CATEGORY_STAFF: _ClassVar[PetitionCategory]
    PETITION_CATEGORY_OTHER: _ClassVar[PetitionCategory]
RECORD_STATUS_UNSPECIFIED: RecordStatus
RECORD_STATUS_ACCEPTED: RecordStatus
RECORD_STATUS_STALE: RecordStatus
RECORD_STATUS_INVALID: RecordStatus
RECORD_STATUS_PERMISSION_DENIED: RecordStatus
RECORD_STATUS_ABORTED: RecordStatus
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_UNIT: RecordKind
RECORD_KIND_PROCEDURE: RecordKind
RECORD_KIND_UNIT_PROCEDURE: RecordKind
RECORD_KIND_PUBLICATION: RecordKind
RECORD_KIND_DOSSIER: RecordKind
RECORD_KIND_PETITION: RecordKind
RECORD_KIND_REPORTED_TOTAL: RecordKind
ONLINE_LEVEL_UNSPECIFIED: OnlineLevel
ONLINE_LEVEL_NONE: OnlineLevel
ONLINE_LEVEL_PARTIAL: OnlineLevel
ONLINE_LEVEL_FULL: OnlineLevel
ONLINE_SERVICE_STATUS_UNSPECIFIED: OnlineServiceStatus
ONLINE_SERVICE_STATUS_ACTIVE: OnlineServiceStatus
ONLINE_SERVICE_STATUS_SUSPENDED: OnlineServiceStatus
CHANNEL_UNSPECIFIED: Channel
CHANNEL_ONLINE: Channel
CHANNEL_IN_PERSON: Channel
CHANNEL_POSTAL: Channel
END_STATE_UNSPECIFIED: EndState
END_STATE_COMPLETED: EndState
END_STATE_RESULT_RETURNED: EndState
END_STATE_REJECTED: EndState
END_STATE_STOPPED: EndState
END_STATE_WITHDRAWN: EndState
PROCESSING_STATE_UNSPECIFIED: ProcessingState
PROCESSING_STATE_PROCESSING: ProcessingState
PROCESSING_STATE_WAITING_SUPPLEMENT: ProcessingState
PROCESSING_STATE_PAUSED: ProcessingState
RATING_UNSPECIFIED: Rating
RATING_SATISFIED: Rating
RATING_NEUTRAL: Rating
RATING_DISSATISFIED: Rating
PAYMENT_CHANNEL_UNSPECIFIED: PaymentChannel
PAYMENT_CHANNEL_NATIONAL_PLATFORM: PaymentChannel
PAYMENT_CHANNEL_LOCAL_GATEWAY: PaymentChannel
PROCEDURE_PART_UNSPECIFIED: ProcedurePart
PROCEDURE_PART_NAME: ProcedurePart
PROCEDURE_PART_STEPS: ProcedurePart
PROCEDURE_PART_METHOD: ProcedurePart
PROCEDURE_PART_DOSSIER_COMPONENTS: ProcedurePart
PROCEDURE_PART_TIME_LIMIT: ProcedurePart
PROCEDURE_PART_APPLICANTS: ProcedurePart
PROCEDURE_PART_AGENCY: ProcedurePart
PROCEDURE_PART_RESULT: ProcedurePart
PROCEDURE_PART_FEES: ProcedurePart
PROCEDURE_PART_CONDITIONS: ProcedurePart
PROCEDURE_PART_LEGAL_BASIS: ProcedurePart
PETITION_CATEGORY_UNSPECIFIED: PetitionCategory
PETITION_CATEGORY_RULES: PetitionCategory
PETITION_CATEGORY_STAFF: PetitionCategory
PETITION_CATEGORY_OTHER: PetitionCategory

class UnitRecord(_message.Message):
    __slots__ = ("code", "name", "kind", "parent_code", "valid_from", "valid_to", "merged_into_code", "merged_on", "source_time")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_CODE_FIELD_NUMBER: _ClassVar[int]
    MERGED_ON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    kind: _types_pb2.UnitKind
    parent_code: str
    valid_from: _date_pb2.Date
    valid_to: _date_pb2.Date
    merged_into_code: str
    merged_on: _date_pb2.Date
    source_time: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.UnitKind, str]] = ..., parent_code: _Optional[str] = ..., valid_from: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., valid_to: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., merged_into_code: _Optional[str] = ..., merged_on: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProcedureRecord(_message.Message):
    __slots__ = ("code", "name", "field", "unit_code", "issues_result_document", "statutory_days", "applicants_are_individuals", "source_time")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUES_RESULT_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    STATUTORY_DAYS_FIELD_NUMBER: _ClassVar[int]
    APPLICANTS_ARE_INDIVIDUALS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    field: str
    unit_code: str
    issues_result_document: bool
    statutory_days: int
    applicants_are_individuals: bool
    source_time: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., field: _Optional[str] = ..., unit_code: _Optional[str] = ..., issues_result_document: _Optional[bool] = ..., statutory_days: _Optional[int] = ..., applicants_are_individuals: _Optional[bool] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnitProcedureRecord(_message.Message):
    __slots__ = ("unit_code", "procedure_code", "online_level", "online_service_status", "has_fee", "payment_integrated", "population_data_eligible", "population_data_connected", "certified_copy", "source_time", "withdrawn")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_CODE_FIELD_NUMBER: _ClassVar[int]
    ONLINE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ONLINE_SERVICE_STATUS_FIELD_NUMBER: _ClassVar[int]
    HAS_FEE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTEGRATED_FIELD_NUMBER: _ClassVar[int]
    POPULATION_DATA_ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    POPULATION_DATA_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CERTIFIED_COPY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    procedure_code: str
    online_level: OnlineLevel
    online_service_status: OnlineServiceStatus
    has_fee: bool
    payment_integrated: bool
    population_data_eligible: bool
    population_data_connected: bool
    certified_copy: bool
    source_time: _timestamp_pb2.Timestamp
    withdrawn: bool
    def __init__(self, unit_code: _Optional[str] = ..., procedure_code: _Optional[str] = ..., online_level: _Optional[_Union[OnlineLevel, str]] = ..., online_service_status: _Optional[_Union[OnlineServiceStatus, str]] = ..., has_fee: _Optional[bool] = ..., payment_integrated: _Optional[bool] = ..., population_data_eligible: _Optional[bool] = ..., population_data_connected: _Optional[bool] = ..., certified_copy: _Optional[bool] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withdrawn: _Optional[bool] = ...) -> None: ...

class PublicationRecord(_message.Message):
    __slots__ = ("unit_code", "procedure_code", "decision_number", "decision_date", "legal_effective_date", "listed_time", "parts", "source_time")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_CODE_FIELD_NUMBER: _ClassVar[int]
    DECISION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DECISION_DATE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    LISTED_TIME_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    procedure_code: str
    decision_number: str
    decision_date: _date_pb2.Date
    legal_effective_date: _date_pb2.Date
    listed_time: _timestamp_pb2.Timestamp
    parts: _containers.RepeatedScalarFieldContainer[ProcedurePart]
    source_time: _timestamp_pb2.Timestamp
    def __init__(self, unit_code: _Optional[str] = ..., procedure_code: _Optional[str] = ..., decision_number: _Optional[str] = ..., decision_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., legal_effective_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., listed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parts: _Optional[_Iterable[_Union[ProcedurePart, str]]] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DossierRecord(_message.Message):
    __slots__ = ("code", "unit_code", "procedure_code", "channel", "received_time", "due_time", "processing_start_time", "end_time", "end_state", "processing_state", "supplement_count", "last_supplement_time", "applicant_supplement_seconds", "unlawful_pause", "fee_amount", "fee_all_zero", "paid_online", "payment_channel", "electronic_result", "synced_with_result_file", "digitised", "reused_digitised_data", "linked_to_data_store", "component_from_data_store", "result_to_data_store", "used_population_data", "verified_eid", "certified_copy_issued", "rating", "petitioned", "source_time")
    CODE_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    END_STATE_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_STATE_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_SUPPLEMENT_TIME_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_SUPPLEMENT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UNLAWFUL_PAUSE_FIELD_NUMBER: _ClassVar[int]
    FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FEE_ALL_ZERO_FIELD_NUMBER: _ClassVar[int]
    PAID_ONLINE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ELECTRONIC_RESULT_FIELD_NUMBER: _ClassVar[int]
    SYNCED_WITH_RESULT_FILE_FIELD_NUMBER: _ClassVar[int]
    DIGITISED_FIELD_NUMBER: _ClassVar[int]
    REUSED_DIGITISED_DATA_FIELD_NUMBER: _ClassVar[int]
    LINKED_TO_DATA_STORE_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FROM_DATA_STORE_FIELD_NUMBER: _ClassVar[int]
    RESULT_TO_DATA_STORE_FIELD_NUMBER: _ClassVar[int]
    USED_POPULATION_DATA_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_EID_FIELD_NUMBER: _ClassVar[int]
    CERTIFIED_COPY_ISSUED_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    PETITIONED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    code: str
    unit_code: str
    procedure_code: str
    channel: Channel
    received_time: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    processing_start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    end_state: EndState
    processing_state: ProcessingState
    supplement_count: int
    last_supplement_time: _timestamp_pb2.Timestamp
    applicant_supplement_seconds: int
    unlawful_pause: bool
    fee_amount: int
    fee_all_zero: bool
    paid_online: bool
    payment_channel: PaymentChannel
    electronic_result: bool
    synced_with_result_file: bool
    digitised: bool
    reused_digitised_data: bool
    linked_to_data_store: bool
    component_from_data_store: bool
    result_to_data_store: bool
    used_population_data: bool
    verified_eid: bool
    certified_copy_issued: bool
    rating: Rating
    petitioned: bool
    source_time: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., unit_code: _Optional[str] = ..., procedure_code: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., received_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., processing_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_state: _Optional[_Union[EndState, str]] = ..., processing_state: _Optional[_Union[ProcessingState, str]] = ..., supplement_count: _Optional[int] = ..., last_supplement_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., applicant_supplement_seconds: _Optional[int] = ..., unlawful_pause: _Optional[bool] = ..., fee_amount: _Optional[int] = ..., fee_all_zero: _Optional[bool] = ..., paid_online: _Optional[bool] = ..., payment_channel: _Optional[_Union[PaymentChannel, str]] = ..., electronic_result: _Optional[bool] = ..., synced_with_result_file: _Optional[bool] = ..., digitised: _Optional[bool] = ..., reused_digitised_data: _Optional[bool] = ..., linked_to_data_store: _Optional[bool] = ..., component_from_data_store: _Optional[bool] = ..., result_to_data_store: _Optional[bool] = ..., used_population_data: _Optional[bool] = ..., verified_eid: _Optional[bool] = ..., certified_copy_issued: _Optional[bool] = ..., rating: _Optional[_Union[Rating, str]] = ..., petitioned: _Optional[bool] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PetitionRecord(_message.Message):
    __slots__ = ("code", "unit_code", "category", "received_time", "due_time", "resolved_time", "refused_time", "first_supplement_time", "ready_for_publication_time", "published_time", "last_transfer_time", "transfer_count", "likes", "dislikes", "repeat_complaint", "rating", "source_time")
    CODE_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_TIME_FIELD_NUMBER: _ClassVar[int]
    REFUSED_TIME_FIELD_NUMBER: _ClassVar[int]
    FIRST_SUPPLEMENT_TIME_FIELD_NUMBER: _ClassVar[int]
    READY_FOR_PUBLICATION_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSFER_TIME_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIKES_FIELD_NUMBER: _ClassVar[int]
    DISLIKES_FIELD_NUMBER: _ClassVar[int]
    REPEAT_COMPLAINT_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    code: str
    unit_code: str
    category: PetitionCategory
    received_time: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    resolved_time: _timestamp_pb2.Timestamp
    refused_time: _timestamp_pb2.Timestamp
    first_supplement_time: _timestamp_pb2.Timestamp
    ready_for_publication_time: _timestamp_pb2.Timestamp
    published_time: _timestamp_pb2.Timestamp
    last_transfer_time: _timestamp_pb2.Timestamp
    transfer_count: int
    likes: int
    dislikes: int
    repeat_complaint: bool
    rating: Rating
    source_time: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., unit_code: _Optional[str] = ..., category: _Optional[_Union[PetitionCategory, str]] = ..., received_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refused_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_supplement_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ready_for_publication_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., published_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_transfer_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transfer_count: _Optional[int] = ..., likes: _Optional[int] = ..., dislikes: _Optional[int] = ..., repeat_complaint: _Optional[bool] = ..., rating: _Optional[_Union[Rating, str]] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportedTotalRecord(_message.Message):
    __slots__ = ("unit_code", "year", "month", "dossiers_received", "source_time")
    UNIT_CODE_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DOSSIERS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIME_FIELD_NUMBER: _ClassVar[int]
    unit_code: str
    year: int
    month: int
    dossiers_received: int
    source_time: _timestamp_pb2.Timestamp
    def __init__(self, unit_code: _Optional[str] = ..., year: _Optional[int] = ..., month: _Optional[int] = ..., dossiers_received: _Optional[int] = ..., source_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordError(_message.Message):
    __slots__ = ("index", "status", "field", "reason", "message")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    index: int
    status: RecordStatus
    field: str
    reason: str
    message: str
    def __init__(self, index: _Optional[int] = ..., status: _Optional[_Union[RecordStatus, str]] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class BatchResult(_message.Message):
    __slots__ = ("batch_id", "request_id", "kind", "statuses", "errors", "accepted_count", "stale_count", "rejected_count", "commit_time", "replayed")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    STALE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    request_id: str
    kind: RecordKind
    statuses: _containers.RepeatedScalarFieldContainer[RecordStatus]
    errors: _containers.RepeatedCompositeFieldContainer[RecordError]
    accepted_count: int
    stale_count: int
    rejected_count: int
    commit_time: _timestamp_pb2.Timestamp
    replayed: bool
    def __init__(self, batch_id: _Optional[str] = ..., request_id: _Optional[str] = ..., kind: _Optional[_Union[RecordKind, str]] = ..., statuses: _Optional[_Iterable[_Union[RecordStatus, str]]] = ..., errors: _Optional[_Iterable[_Union[RecordError, _Mapping]]] = ..., accepted_count: _Optional[int] = ..., stale_count: _Optional[int] = ..., rejected_count: _Optional[int] = ..., commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class SyncUnitsRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[UnitRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[UnitRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncUnitsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class SyncProceduresRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[ProcedureRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[ProcedureRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncProceduresResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class SyncUnitProceduresRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[UnitProcedureRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[UnitProcedureRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncUnitProceduresResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class SyncPublicationsRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[PublicationRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[PublicationRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncPublicationsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class SyncDossiersRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[DossierRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[DossierRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncDossiersResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class SyncPetitionsRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[PetitionRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[PetitionRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncPetitionsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class SyncReportedTotalsRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "records", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    records: _containers.RepeatedCompositeFieldContainer[ReportedTotalRecord]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., records: _Optional[_Iterable[_Union[ReportedTotalRecord, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SyncReportedTotalsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchResult
    def __init__(self, result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class UnitRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[UnitRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[UnitRecord, _Mapping]]] = ...) -> None: ...

class ProcedureRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[ProcedureRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[ProcedureRecord, _Mapping]]] = ...) -> None: ...

class UnitProcedureRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[UnitProcedureRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[UnitProcedureRecord, _Mapping]]] = ...) -> None: ...

class PublicationRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[PublicationRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[PublicationRecord, _Mapping]]] = ...) -> None: ...

class DossierRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[DossierRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[DossierRecord, _Mapping]]] = ...) -> None: ...

class PetitionRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[PetitionRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[PetitionRecord, _Mapping]]] = ...) -> None: ...

class ReportedTotalRecords(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[ReportedTotalRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[ReportedTotalRecord, _Mapping]]] = ...) -> None: ...

class StreamSyncRequest(_message.Message):
    __slots__ = ("request_id", "atomic", "validate_only", "units", "procedures", "unit_procedures", "publications", "dossiers", "petitions", "reported_totals")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    PROCEDURES_FIELD_NUMBER: _ClassVar[int]
    UNIT_PROCEDURES_FIELD_NUMBER: _ClassVar[int]
    PUBLICATIONS_FIELD_NUMBER: _ClassVar[int]
    DOSSIERS_FIELD_NUMBER: _ClassVar[int]
    PETITIONS_FIELD_NUMBER: _ClassVar[int]
    REPORTED_TOTALS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    atomic: bool
    validate_only: bool
    units: UnitRecords
    procedures: ProcedureRecords
    unit_procedures: UnitProcedureRecords
    publications: PublicationRecords
    dossiers: DossierRecords
    petitions: PetitionRecords
    reported_totals: ReportedTotalRecords
    def __init__(self, request_id: _Optional[str] = ..., atomic: _Optional[bool] = ..., validate_only: _Optional[bool] = ..., units: _Optional[_Union[UnitRecords, _Mapping]] = ..., procedures: _Optional[_Union[ProcedureRecords, _Mapping]] = ..., unit_procedures: _Optional[_Union[UnitProcedureRecords, _Mapping]] = ..., publications: _Optional[_Union[PublicationRecords, _Mapping]] = ..., dossiers: _Optional[_Union[DossierRecords, _Mapping]] = ..., petitions: _Optional[_Union[PetitionRecords, _Mapping]] = ..., reported_totals: _Optional[_Union[ReportedTotalRecords, _Mapping]] = ...) -> None: ...

class StreamSyncResponse(_message.Message):
    __slots__ = ("results", "accepted_count", "stale_count", "rejected_count")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    STALE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchResult]
    accepted_count: int
    stale_count: int
    rejected_count: int
    def __init__(self, results: _Optional[_Iterable[_Union[BatchResult, _Mapping]]] = ..., accepted_count: _Optional[int] = ..., stale_count: _Optional[int] = ..., rejected_count: _Optional[int] = ...) -> None: ...

class GetBatchRequest(_message.Message):
    __slots__ = ("batch_id", "request_id")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    request_id: str
    def __init__(self, batch_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetBatchResponse(_message.Message):
    __slots__ = ("source_id", "receive_time", "result")
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    source_id: str
    receive_time: _timestamp_pb2.Timestamp
    result: BatchResult
    def __init__(self, source_id: _Optional[str] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...
