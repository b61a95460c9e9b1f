import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentReport(_message.Message):
    __slots__ = ("report_id", "device_id", "sequence", "collected_at", "host", "processes", "applications", "usb_devices", "displays", "network", "sessions", "probe_errors", "agent_stats", "remote_access", "delta")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    USB_DEVICES_FIELD_NUMBER: _ClassVar[int]
    DISPLAYS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    PROBE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    AGENT_STATS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ACCESS_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    device_id: str
    sequence: int
    collected_at: _timestamp_pb2.Timestamp
    host: Host
    processes: _containers.RepeatedCompositeFieldContainer[Process]
    applications: _containers.RepeatedCompositeFieldContainer[Application]
    usb_devices: _containers.RepeatedCompositeFieldContainer[UsbDevice]
    displays: _containers.RepeatedCompositeFieldContainer[Display]
    network: Network
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    probe_errors: _containers.RepeatedCompositeFieldContainer[ProbeError]
    agent_stats: AgentStats
    remote_access: _containers.RepeatedCompositeFieldContainer[RemoteAccessSetting]
    delta: ReportDelta
    def __init__(self, report_id: _Optional[str] = ..., device_id: _Optional[str] = ..., sequence: _Optional[int] = ..., collected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., host: _Optional[_Union[Host, _Mapping]] = ..., processes: _Optional[_Iterable[_Union[Process, _Mapping]]] = ..., applications: _Optional[_Iterable[_Union[Application, _Mapping]]] = ..., usb_devices: _Optional[_Iterable[_Union[UsbDevice, _Mapping]]] = ..., displays: _Optional[_Iterable[_Union[Display, _Mapping]]] = ..., network: _Optional[_Union[Network, _Mapping]] = ..., sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., probe_errors: _Optional[_Iterable[_Union[ProbeError, _Mapping]]] = ..., agent_stats: _Optional[_Union[AgentStats, _Mapping]] = ..., remote_access: _Optional[_Iterable[_Union[RemoteAccessSetting, _Mapping]]] = ..., delta: _Optional[_Union[ReportDelta, _Mapping]] = ...) -> None: ...

class ReportDelta(_message.Message):
    __slots__ = ("base_report_id", "base_sequence", "removed", "state_digest")
    BASE_REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    STATE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    base_report_id: str
    base_sequence: int
    removed: _containers.RepeatedCompositeFieldContainer[SectionRemovals]
    state_digest: bytes
    def __init__(self, base_report_id: _Optional[str] = ..., base_sequence: _Optional[int] = ..., removed: _Optional[_Iterable[_Union[SectionRemovals, _Mapping]]] = ..., state_digest: _Optional[bytes] = ...) -> None: ...

class SectionRemovals(_message.Message):
    __slots__ = ("section", "item_digests")
    SECTION_FIELD_NUMBER: _ClassVar[int]
    ITEM_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    section: str
    item_digests: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, section: _Optional[str] = ..., item_digests: _Optional[_Iterable[bytes]] = ...) -> None: ...

class Host(_message.Message):
    __slots__ = ("hostname", "os", "os_version", "arch", "agent_version", "serial_number", "hardware_model", "boot_time", "timezone", "utc_offset_minutes", "locale", "keyboard_layouts")
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    OS_VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_MODEL_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    UTC_OFFSET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    KEYBOARD_LAYOUTS_FIELD_NUMBER: _ClassVar[int]
    hostname: str
    os: str
    os_version: str
    arch: str
    agent_version: str
    serial_number: str
    hardware_model: str
    boot_time: _timestamp_pb2.Timestamp
    timezone: str
    utc_offset_minutes: int
    locale: str
    keyboard_layouts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, hostname: _Optional[str] = ..., os: _Optional[str] = ..., os_version: _Optional[str] = ..., arch: _Optional[str] = ..., agent_version: _Optional[str] = ..., serial_number: _Optional[str] = ..., hardware_model: _Optional[str] = ..., boot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timezone: _Optional[str] = ..., utc_offset_minutes: _Optional[int] = ..., locale: _Optional[str] = ..., keyboard_layouts: _Optional[_Iterable[str]] = ...) -> None: ...

class Process(_message.Message):
    __slots__ = ("pid", "ppid", "name", "exe", "cmdline", "username", "create_time", "signer", "bundle_id")
    PID_FIELD_NUMBER: _ClassVar[int]
    PPID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXE_FIELD_NUMBER: _ClassVar[int]
    CMDLINE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SIGNER_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_ID_FIELD_NUMBER: _ClassVar[int]
    pid: int
    ppid: int
    name: str
    exe: str
    cmdline: _containers.RepeatedScalarFieldContainer[str]
    username: str
    create_time: _timestamp_pb2.Timestamp
    signer: str
    bundle_id: str
    def __init__(self, pid: _Optional[int] = ..., ppid: _Optional[int] = ..., name: _Optional[str] = ..., exe: _Optional[str] = ..., cmdline: _Optional[_Iterable[str]] = ..., username: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signer: _Optional[str] = ..., bundle_id: _Optional[str] = ...) -> None: ...

class Application(_message.Message):
    __slots__ = ("name", "version", "path", "bundle_id", "publisher", "signer", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    SIGNER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    path: str
    bundle_id: str
    publisher: str
    signer: str
    source: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ..., bundle_id: _Optional[str] = ..., publisher: _Optional[str] = ..., signer: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class UsbInterface(_message.Message):
    __slots__ = ("interface_class", "interface_subclass", "interface_protocol", "driver")
    INTERFACE_CLASS_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_SUBCLASS_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    interface_class: str
    interface_subclass: str
    interface_protocol: str
    driver: str
    def __init__(self, interface_class: _Optional[str] = ..., interface_subclass: _Optional[str] = ..., interface_protocol: _Optional[str] = ..., driver: _Optional[str] = ...) -> None: ...

class UsbDevice(_message.Message):
    __slots__ = ("vendor_id", "product_id", "manufacturer", "product", "serial", "device_class", "bcd_device", "speed_mbps", "bus_path", "interfaces")
    VENDOR_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURER_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_CLASS_FIELD_NUMBER: _ClassVar[int]
    BCD_DEVICE_FIELD_NUMBER: _ClassVar[int]
    SPEED_MBPS_FIELD_NUMBER: _ClassVar[int]
    BUS_PATH_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    vendor_id: str
    product_id: str
    manufacturer: str
    product: str
    serial: str
    device_class: str
    bcd_device: str
    speed_mbps: float
    bus_path: str
    interfaces: _containers.RepeatedCompositeFieldContainer[UsbInterface]
    def __init__(self, vendor_id: _Optional[str] = ..., product_id: _Optional[str] = ..., manufacturer: _Optional[str] = ..., product: _Optional[str] = ..., serial: _Optional[str] = ..., device_class: _Optional[str] = ..., bcd_device: _Optional[str] = ..., speed_mbps: _Optional[float] = ..., bus_path: _Optional[str] = ..., interfaces: _Optional[_Iterable[_Union[UsbInterface, _Mapping]]] = ...) -> None: ...

class Display(_message.Message):
    __slots__ = ("connector", "manufacturer_id", "product_code", "serial_number", "monitor_name", "width_mm", "height_mm", "built_in", "edid", "serial_string", "manufacture_year")
    CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_CODE_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MONITOR_NAME_FIELD_NUMBER: _ClassVar[int]
    WIDTH_MM_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_MM_FIELD_NUMBER: _ClassVar[int]
    BUILT_IN_FIELD_NUMBER: _ClassVar[int]
    EDID_FIELD_NUMBER: _ClassVar[int]
    SERIAL_STRING_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURE_YEAR_FIELD_NUMBER: _ClassVar[int]
    connector: str
    manufacturer_id: str
    product_code: int
    serial_number: int
    monitor_name: str
    width_mm: int
    height_mm: int
    built_in: bool
    edid: bytes
    serial_string: str
    manufacture_year: int
    def __init__(self, connector: _Optional[str] = ..., manufacturer_id: _Optional[str] = ..., product_code: _Optional[int] = ..., serial_number: _Optional[int] = ..., monitor_name: _Optional[str] = ..., width_mm: _Optional[int] = ..., height_mm: _Optional[int] = ..., built_in: _Optional[bool] = ..., edid: _Optional[bytes] = ..., serial_string: _Optional[str] = ..., manufacture_year: _Optional[int] = ...) -> None: ...

class NetworkInterface(_message.Message):
    __slots__ = ("name", "mac", "addresses", "is_up", "kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IS_UP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    mac: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    is_up: bool
    kind: str
    def __init__(self, name: _Optional[str] = ..., mac: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., is_up: _Optional[bool] = ..., kind: _Optional[str] = ...) -> None: ...

class Gateway(_message.Message):
    __slots__ = ("ip", "mac", "interface")
    IP_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    ip: str
    mac: str
    interface: str
    def __init__(self, ip: _Optional[str] = ..., mac: _Optional[str] = ..., interface: _Optional[str] = ...) -> None: ...

class Wifi(_message.Message):
    __slots__ = ("ssid", "bssid")
    SSID_FIELD_NUMBER: _ClassVar[int]
    BSSID_FIELD_NUMBER: _ClassVar[int]
    ssid: str
    bssid: str
    def __init__(self, ssid: _Optional[str] = ..., bssid: _Optional[str] = ...) -> None: ...

class WifiAccessPoint(_message.Message):
    __slots__ = ("bssid", "ssid", "signal_dbm", "channel")
    BSSID_FIELD_NUMBER: _ClassVar[int]
    SSID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_DBM_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    bssid: str
    ssid: str
    signal_dbm: int
    channel: int
    def __init__(self, bssid: _Optional[str] = ..., ssid: _Optional[str] = ..., signal_dbm: _Optional[int] = ..., channel: _Optional[int] = ...) -> None: ...

class Connection(_message.Message):
    __slots__ = ("local_ip", "local_port", "remote_ip", "remote_port", "status", "pid", "process_name")
    LOCAL_IP_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PORT_FIELD_NUMBER: _ClassVar[int]
    REMOTE_IP_FIELD_NUMBER: _ClassVar[int]
    REMOTE_PORT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PROCESS_NAME_FIELD_NUMBER: _ClassVar[int]
    local_ip: str
    local_port: int
    remote_ip: str
    remote_port: int
    status: str
    pid: int
    process_name: str
    def __init__(self, local_ip: _Optional[str] = ..., local_port: _Optional[int] = ..., remote_ip: _Optional[str] = ..., remote_port: _Optional[int] = ..., status: _Optional[str] = ..., pid: _Optional[int] = ..., process_name: _Optional[str] = ...) -> None: ...

class Listener(_message.Message):
    __slots__ = ("ip", "port", "protocol", "pid", "process_name")
    IP_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PROCESS_NAME_FIELD_NUMBER: _ClassVar[int]
    ip: str
    port: int
    protocol: str
    pid: int
    process_name: str
    def __init__(self, ip: _Optional[str] = ..., port: _Optional[int] = ..., protocol: _Optional[str] = ..., pid: _Optional[int] = ..., process_name: _Optional[str] = ...) -> None: ...

class Network(_message.Message):
    __slots__ = ("interfaces", "default_gateway", "wifi", "dns_servers", "ip_forwarding", "connections", "listeners", "wifi_nearby")
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_GATEWAY_FIELD_NUMBER: _ClassVar[int]
    WIFI_FIELD_NUMBER: _ClassVar[int]
    DNS_SERVERS_FIELD_NUMBER: _ClassVar[int]
    IP_FORWARDING_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    WIFI_NEARBY_FIELD_NUMBER: _ClassVar[int]
    interfaces: _containers.RepeatedCompositeFieldContainer[NetworkInterface]
    default_gateway: Gateway
    wifi: Wifi
    dns_servers: _containers.RepeatedScalarFieldContainer[str]
    ip_forwarding: bool
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    listeners: _containers.RepeatedCompositeFieldContainer[Listener]
    wifi_nearby: _containers.RepeatedCompositeFieldContainer[WifiAccessPoint]
    def __init__(self, interfaces: _Optional[_Iterable[_Union[NetworkInterface, _Mapping]]] = ..., default_gateway: _Optional[_Union[Gateway, _Mapping]] = ..., wifi: _Optional[_Union[Wifi, _Mapping]] = ..., dns_servers: _Optional[_Iterable[str]] = ..., ip_forwarding: _Optional[bool] = ..., connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ..., listeners: _Optional[_Iterable[_Union[Listener, _Mapping]]] = ..., wifi_nearby: _Optional[_Iterable[_Union[WifiAccessPoint, _Mapping]]] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("user", "terminal", "remote_host", "started_at")
    USER_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_FIELD_NUMBER: _ClassVar[int]
    REMOTE_HOST_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    user: str
    terminal: str
    remote_host: str
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, user: _Optional[str] = ..., terminal: _Optional[str] = ..., remote_host: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProbeError(_message.Message):
    __slots__ = ("probe", "error")
    PROBE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    probe: str
    error: str
    def __init__(self, probe: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class RemoteAccessSetting(_message.Message):
    __slots__ = ("service", "enabled")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    service: str
    enabled: bool
    def __init__(self, service: _Optional[str] = ..., enabled: _Optional[bool] = ...) -> None: ...

class AgentStats(_message.Message):
    __slots__ = ("rss_bytes", "cpu_seconds", "wall_seconds", "probe_seconds", "spool_depth", "spool_dropped", "probes_skipped")
    class ProbeSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROBE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SPOOL_DEPTH_FIELD_NUMBER: _ClassVar[int]
    SPOOL_DROPPED_FIELD_NUMBER: _ClassVar[int]
    PROBES_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    rss_bytes: int
    cpu_seconds: float
    wall_seconds: float
    probe_seconds: _containers.ScalarMap[str, float]
    spool_depth: int
    spool_dropped: int
    probes_skipped: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rss_bytes: _Optional[int] = ..., cpu_seconds: _Optional[float] = ..., wall_seconds: _Optional[float] = ..., probe_seconds: _Optional[_Mapping[str, float]] = ..., spool_depth: _Optional[int] = ..., spool_dropped: _Optional[int] = ..., probes_skipped: _Optional[_Iterable[str]] = ...) -> None: ...
