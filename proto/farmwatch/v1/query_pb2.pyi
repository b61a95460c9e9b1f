from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DevicesRequest(_message.Message):
    __slots__ = ("verdict", "user", "cluster_id")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    verdict: str
    user: str
    cluster_id: str
    def __init__(self, verdict: _Optional[str] = ..., user: _Optional[str] = ..., cluster_id: _Optional[str] = ...) -> None: ...

class DeviceRequest(_message.Message):
    __slots__ = ("device_id", "history")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    history: int
    def __init__(self, device_id: _Optional[str] = ..., history: _Optional[int] = ...) -> None: ...

class DeviceResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class FlagsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClustersRequest(_message.Message):
    __slots__ = ("include_inactive", "min_score")
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    include_inactive: bool
    min_score: int
    def __init__(self, include_inactive: _Optional[bool] = ..., min_score: _Optional[int] = ...) -> None: ...

class ClusterRequest(_message.Message):
    __slots__ = ("cluster_id",)
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    cluster_id: str
    def __init__(self, cluster_id: _Optional[str] = ...) -> None: ...

class ClusterResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class SqlRequest(_message.Message):
    __slots__ = ("sql", "max_rows")
    SQL_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    sql: str
    max_rows: int
    def __init__(self, sql: _Optional[str] = ..., max_rows: _Optional[int] = ...) -> None: ...

class Rows(_message.Message):
    __slots__ = ("columns", "rows", "truncated")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedScalarFieldContainer[str]
    truncated: bool
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[str]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class FollowFlagsRequest(_message.Message):
    __slots__ = ("skip_current", "poll_seconds")
    SKIP_CURRENT_FIELD_NUMBER: _ClassVar[int]
    POLL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    skip_current: bool
    poll_seconds: int
    def __init__(self, skip_current: _Optional[bool] = ..., poll_seconds: _Optional[int] = ...) -> None: ...

class FlagEvent(_message.Message):
    __slots__ = ("event", "device_id", "rule", "severity", "json")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    event: str
    device_id: str
    rule: str
    severity: str
    json: str
    def __init__(self, event: _Optional[str] = ..., device_id: _Optional[str] = ..., rule: _Optional[str] = ..., severity: _Optional[str] = ..., json: _Optional[str] = ...) -> None: ...

class TriageRequest(_message.Message):
    __slots__ = ("device_id", "state", "assignee", "note")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    state: str
    assignee: str
    note: str
    def __init__(self, device_id: _Optional[str] = ..., state: _Optional[str] = ..., assignee: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class TriageResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...
