import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from farmwatch.v1 import report_pb2 as _report_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FullReportReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FULL_REPORT_UNNEEDED: _ClassVar[FullReportReason]
    FULL_REPORT_BASE_UNKNOWN: _ClassVar[FullReportReason]
    FULL_REPORT_SEQUENCE_GAP: _ClassVar[FullReportReason]
    FULL_REPORT_DAILY_REFRESH: _ClassVar[FullReportReason]
    FULL_REPORT_STATE_MISMATCH: _ClassVar[FullReportReason]
FULL_REPORT_UNNEEDED: FullReportReason
FULL_REPORT_BASE_UNKNOWN: FullReportReason
FULL_REPORT_SEQUENCE_GAP: FullReportReason
FULL_REPORT_DAILY_REFRESH: FullReportReason
FULL_REPORT_STATE_MISMATCH: FullReportReason

class EnrollRequest(_message.Message):
    __slots__ = ("token", "csr_pem", "device_id", "hostname", "agent_version")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    token: str
    csr_pem: bytes
    device_id: str
    hostname: str
    agent_version: str
    def __init__(self, token: _Optional[str] = ..., csr_pem: _Optional[bytes] = ..., device_id: _Optional[str] = ..., hostname: _Optional[str] = ..., agent_version: _Optional[str] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ("device_id", "certificate_pem", "ca_certificate_pem", "not_after", "report_interval_seconds")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    REPORT_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    certificate_pem: bytes
    ca_certificate_pem: bytes
    not_after: _timestamp_pb2.Timestamp
    report_interval_seconds: int
    def __init__(self, device_id: _Optional[str] = ..., certificate_pem: _Optional[bytes] = ..., ca_certificate_pem: _Optional[bytes] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report_interval_seconds: _Optional[int] = ...) -> None: ...

class ReportAck(_message.Message):
    __slots__ = ("report_id", "duplicate", "report_interval_seconds", "deltas_accepted", "send_full")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    REPORT_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DELTAS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    SEND_FULL_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    duplicate: bool
    report_interval_seconds: int
    deltas_accepted: bool
    send_full: FullReportReason
    def __init__(self, report_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., report_interval_seconds: _Optional[int] = ..., deltas_accepted: _Optional[bool] = ..., send_full: _Optional[_Union[FullReportReason, str]] = ...) -> None: ...

class RenewRequest(_message.Message):
    __slots__ = ("csr_pem",)
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    csr_pem: bytes
    def __init__(self, csr_pem: _Optional[bytes] = ...) -> None: ...

class RenewResponse(_message.Message):
    __slots__ = ("certificate_pem", "not_after")
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: bytes
    not_after: _timestamp_pb2.Timestamp
    def __init__(self, certificate_pem: _Optional[bytes] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
