"""Check settings from site.yaml: frozen dataclasses, and parsing that reports every problem at once."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Callable, Union
from urllib.parse import urlsplit

from generator.site.options import Option
from generator.site.problems import did_you_mean

from generator.checks.secrets import has_references, reference_errors

Report = Callable[[tuple, str], None]

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 1
DEFAULT_INTERVAL = 300.0
DEFAULT_WARN_DAYS = 14
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_STATUS = [(200, 399)]
DEFAULT_MAX_REDIRECTS = 10
MAX_RETRIES = 10
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DNS_RECORDS = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "CAA", "PTR")


@dataclass(frozen=True, kw_only=True)
class _Common:
    """What every kind of check takes: how long to wait, how often to retry, how often it runs."""

    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    interval: float = DEFAULT_INTERVAL
    # Seconds; slower answers are "degraded". Available on every type, not just http.
    degraded_after: float | None = None


class CertificateExpect(NamedTuple):
    """What a check's `expect: {certificate: ...}` asks of the server's certificate."""

    issuer: str | None = None  # text the issuer's name contains (any case)
    subject: str | None = None  # text the subject's name contains (any case)
    names: tuple[str, ...] = ()  # DNS names the certificate must be valid for (subjectAltName)
    min_days: int | None = None  # at least this many days before it expires
    fingerprint: str | None = None  # its SHA-256, as 64 hex digits (colons and "SHA256:" removed)


@dataclass(frozen=True, kw_only=True)
class HttpCheck(_Common):
    """An http(s) request and what its answer must be (status, body, headers, certificate)."""

    type: str = field(default="http", init=False)
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    follow_redirects: bool = True
    expect_status: list[tuple[int, int]] = field(default_factory=lambda: list(DEFAULT_STATUS))
    body_contains: str | None = None
    body_regex: str | None = None
    body_not_contains: str | None = None
    expect_json: dict[str, Any] = field(default_factory=dict)
    expect_headers: dict[str, str] = field(default_factory=dict)  # name -> text its value must contain
    expect_certificate: CertificateExpect | None = None
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    verify_tls: bool = True
    tls_warn_days: int = DEFAULT_WARN_DAYS
    max_body: int = DEFAULT_MAX_BODY
    ca_file: str | None = None  # extra CA certificates (PEM) to trust, for private CAs
    # Lower-cased names of the headers whose value came from ${...}; set by the runner when it
    # expands them (never from site.yaml), so they are not sent on to another origin.
    secret_headers: frozenset[str] = frozenset()
    # Whether the body came from ${...}: such a body is never resent to another origin (a 307 or
    # 308 redirect would); set by the runner like secret_headers.
    secret_body: bool = False


@dataclass(frozen=True, kw_only=True)
class TcpCheck(_Common):
    """A TCP connection to host:port; up when it opens."""

    type: str = field(default="tcp", init=False)
    host: str
    port: int


@dataclass(frozen=True, kw_only=True)
class DnsCheck(_Common):
    """A DNS query for `name`, and the answers it must include."""

    type: str = field(default="dns", init=False)
    name: str
    record: str = "A"
    nameserver: str | None = None  # "ip", "ip:port" or "[v6]:port"; None uses the system resolver
    expect: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TlsCheck(_Common):
    """A TLS handshake with host:port; its certificate judged expired or expiring within `warn_days`."""

    type: str = field(default="tls", init=False)
    host: str
    port: int = 443
    warn_days: int = DEFAULT_WARN_DAYS
    ca_file: str | None = None
    expect_certificate: CertificateExpect | None = None


@dataclass(frozen=True, kw_only=True)
class HeartbeatCheck(_Common):
    """Nothing is probed: the job itself reports (`heliograph beat`), and the component is up
    while its last beat is at most `every + grace` old."""

    type: str = field(default="heartbeat", init=False)
    every: float
    grace: float = 0.0

    @property
    def overdue_after(self) -> float:
        return self.every + self.grace


@dataclass(frozen=True, kw_only=True)
class UdpCheck(_Common):
    """A UDP datagram sent to host:port, and the reply it must get."""

    type: str = field(default="udp", init=False)
    host: str
    port: int
    send: str = ""  # text sent as UTF-8; ${NAME} reads a secret
    send_hex: str | None = None  # or bytes written as hex
    expect_contains: str | None = None  # text the reply must contain
    expect_regex: str | None = None  # a regular expression the reply must match

    def payload(self) -> bytes:
        return bytes.fromhex(self.send_hex) if self.send_hex is not None else self.send.encode("utf-8")


MAIL_TYPES = ("smtp", "imap", "pop3")
# Default ports by type and TLS: the well-known ones.
MAIL_PORTS = {("smtp", "starttls"): 587, ("smtp", "implicit"): 465, ("smtp", "none"): 25,
              ("imap", "starttls"): 143, ("imap", "implicit"): 993, ("imap", "none"): 143,
              ("pop3", "starttls"): 110, ("pop3", "implicit"): 995, ("pop3", "none"): 110}
MAIL_TLS = ("starttls", "implicit", "none")


@dataclass(frozen=True, kw_only=True)
class MailCheck(_Common):
    """An smtp, imap or pop3 server's greeting, over plain, STARTTLS or implicit TLS."""

    type: str  # smtp, imap or pop3
    host: str
    port: int
    tls: str = "starttls"
    expect_banner: str | None = None
    expect_certificate: CertificateExpect | None = None
    verify_tls: bool = True
    warn_days: int = DEFAULT_WARN_DAYS
    ca_file: str | None = None


@dataclass(frozen=True, kw_only=True)
class PingCheck(_Common):
    """ICMP echo requests to a host: all replies lost is down, some lost (or slow) degraded."""

    type: str = field(default="ping", init=False)
    host: str
    count: int = 3
    privileged: str = "auto"  # auto: unprivileged ICMP sockets, else raw ones; false: never raw


@dataclass(frozen=True, kw_only=True)
class WebSocketCheck(_Common):
    """A WebSocket handshake, and optionally a message sent and the reply it must get."""

    type: str = field(default="websocket", init=False)
    url: str
    send: str | None = None
    expect_contains: str | None = None
    expect_regex: str | None = None
    ca_file: str | None = None
    max_message: int = DEFAULT_MAX_BODY


@dataclass(frozen=True, kw_only=True)
class SshCheck(_Common):
    """An SSH server's banner and host key, read without logging in."""

    type: str = field(default="ssh", init=False)
    host: str
    port: int = 22
    expect_banner: str | None = None
    expect_fingerprint: str | None = None  # "SHA256:..." as ssh-keygen -lf prints it


@dataclass(frozen=True, kw_only=True)
class GrpcCheck(_Common):
    """One call to the standard gRPC health service of host:port (or of one of its services)."""

    type: str = field(default="grpc", init=False)
    host: str
    port: int
    service: str = ""  # "" asks about the server as a whole
    tls: bool = False
    verify_tls: bool = True
    warn_days: int = DEFAULT_WARN_DAYS
    ca_file: str | None = None


CheckSpec = Union[HttpCheck, TcpCheck, DnsCheck, TlsCheck, HeartbeatCheck, UdpCheck, MailCheck, PingCheck,
                  WebSocketCheck, SshCheck, GrpcCheck]

CHECK_TYPES = ("http", "tcp", "dns", "tls", "heartbeat", "udp", *MAIL_TYPES, "ping", "websocket", "ssh", "grpc")
_COMMON_KEYS = ("type", "timeout", "retries", "interval", "degraded_after")
# Read by parse_check below and by `heliograph schema`; each type's own keys are declared in
# generator/checks/options.py.
COMMON_OPTIONS = {option.name: option for option in (
    Option("timeout", "duration", 'No answer within this is "down".', default=DEFAULT_TIMEOUT),
    Option("retries", "integer", "How many more tries before a failure counts.", default=DEFAULT_RETRIES,
           minimum=0, maximum=MAX_RETRIES),
    Option("interval", "duration", "How often the check is due.", default=DEFAULT_INTERVAL),
    Option("degraded_after", "duration", 'A slower answer is "degraded"; less than timeout.'),
)}
ALLOWED_KEYS: dict[str, tuple[str, ...]] = {
    "http": _COMMON_KEYS
    + ("url", "method", "headers", "body", "follow_redirects", "max_redirects", "expect", "verify_tls", "tls_warn_days",
       "max_body", "ca_file"),
    "tcp": _COMMON_KEYS + ("host", "port"),
    # (tls's own keys are below, with `expect` for its certificate)
    "udp": _COMMON_KEYS + ("host", "port", "send", "send_hex", "expect"),
    "ping": _COMMON_KEYS + ("host", "count", "privileged"),
    "websocket": _COMMON_KEYS + ("url", "send", "expect", "ca_file"),
    "ssh": _COMMON_KEYS + ("host", "port", "expect"),
    "grpc": _COMMON_KEYS + ("host", "port", "service", "tls", "verify_tls", "warn_days", "ca_file"),
    **{kind: _COMMON_KEYS + ("host", "port", "tls", "expect", "verify_tls", "warn_days", "ca_file") for kind in MAIL_TYPES},
    "dns": _COMMON_KEYS + ("name", "record", "nameserver", "expect"),
    "tls": _COMMON_KEYS + ("host", "port", "warn_days", "ca_file", "expect"),
    # Nothing is probed, so timeout, retries and degraded_after mean nothing; the interval is `every`.
    "heartbeat": ("type", "every", "grace"),
}
REQUIRED_KEYS = {"http": ("url",), "tcp": ("host", "port"), "dns": ("name",), "tls": ("host",), "heartbeat": ("every",),
                 "udp": ("host", "port"), **{kind: ("host",) for kind in MAIL_TYPES}, "ping": ("host",),
                 "websocket": ("url",), "ssh": ("host",), "grpc": ("host", "port")}
HTTP_EXPECT_KEYS = ("status", "body_contains", "body_not_contains", "body_regex", "json", "headers", "certificate")


# ---------------------------------------------------------------- durations and sizes

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)", re.IGNORECASE)
_DURATION_HELP = "use seconds (e.g. 10 or 1.5) or a number with a unit: 500ms, 10s, 5m, 1h (or combined, 1m30s)"


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or a string like "500ms", "10s", "5m", "1h", "1.5s", "1m30s"."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; {_DURATION_HELP}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value.strip())
    else:
        raise ValueError(f"{value!r} is not a duration; {_DURATION_HELP}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration {value!r} must be zero or positive; {_DURATION_HELP}")
    return seconds


def _parse_duration_text(text: str) -> float:
    try:
        return float(text)  # a bare number of seconds, e.g. "10" from a quoted YAML value
    except ValueError:
        pass
    compact = text.replace(" ", "")
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
        position = match.end()
    if not compact or position != len(compact):
        raise ValueError(f'"{text}" is not a duration; {_DURATION_HELP}')
    return total


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
_SIZE_HELP = "use a number of bytes or a size like 64KB or 1MB (KB and MB count 1024s)"


def parse_size(value: Any) -> int:
    """Bytes from an int or a string like "512B", "64KB", "1MB", "1MiB" (K and M are powers of 1024)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size; {_SIZE_HELP}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())) and match.group(2).lower() in _SIZE_UNITS:
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    else:
        raise ValueError(f"{value!r} is not a size; {_SIZE_HELP}")
    if size <= 0:
        raise ValueError(f"size must be positive; {_SIZE_HELP}")
    return size


# ---------------------------------------------------------------- status codes

_STATUS_CLASS = re.compile(r"([1-5])xx", re.IGNORECASE)
_STATUS_RANGE = re.compile(r"(\d{3})\s*-\s*(\d{3})")
_STATUS_HELP = 'use codes like 200, classes like "2xx", ranges like "200-299", or a list of them'


def parse_status_item(value: Any) -> tuple[int, int]:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a status code; {_STATUS_HELP}")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str) and (text := value.strip()):
        if match := _STATUS_CLASS.fullmatch(text):
            low = int(match.group(1)) * 100
            high = low + 99
        elif match := _STATUS_RANGE.fullmatch(text):
            low, high = int(match.group(1)), int(match.group(2))
        elif text.isdigit():
            low = high = int(text)
        else:
            raise ValueError(f'"{value}" is not a status code; {_STATUS_HELP}')
    else:
        raise ValueError(f"{value!r} is not a status code; {_STATUS_HELP}")
    if not (100 <= low <= 599 and 100 <= high <= 599):
        raise ValueError(f"{value!r}: HTTP status codes are between 100 and 599")
    if low > high:
        raise ValueError(f'"{value}": the range is backwards; write the lower code first')
    return (low, high)


def describe_status_ranges(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


# ---------------------------------------------------------------- parsing

class _Invalid:
    """Marks a value that was reported as a problem."""


INVALID = _Invalid()


class _Parser:
    """Reads one check mapping, reporting every problem and remembering whether there was one."""

    def __init__(self, raw: dict, kind: str, report: Report):
        self.raw = raw
        self.kind = kind
        self._report = report
        self.ok = True

    def problem(self, path: tuple, message: str) -> _Invalid:
        self.ok = False
        self._report(path, message)
        return INVALID

    def take(self, key: str, convert: Callable[[Any, tuple], Any], default: Any) -> Any:
        if key not in self.raw:
            return default
        if self.raw[key] is None:
            if default is None or default is INVALID:
                return default  # unset optional, or a missing required key (reported once, by _check_keys)
            return self.problem((key,), f"{key} is empty; give it a value or remove the line")
        return convert(self.raw[key], (key,))

    # Converters take (value, path) and return the value or INVALID after reporting.

    def string(self, value: Any, path: tuple, *, allow_empty: bool = False) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return self.problem(path, f"{_name(path)} must be a text value, not {_type_name(value)}")
        text = str(value)
        if not allow_empty and not text.strip():
            return self.problem(path, f"{_name(path)} must not be empty")
        return self.references(text, path)

    def references(self, text: str, path: tuple) -> Any:
        errors = reference_errors(text)
        for error in errors:
            self.problem(path, f"{_name(path)}: {error}")
        return INVALID if errors else text

    def duration(self, value: Any, path: tuple, *, positive: bool = True) -> Any:
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            return self.problem(path, f"{_name(path)}: {exc}")
        if positive and seconds <= 0:
            return self.problem(path, f"{_name(path)} must be more than 0 seconds")
        return seconds

    def integer(self, value: Any, path: tuple, low: int, high: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return self.problem(path, f"{_name(path)} must be a whole number from {low} to {high}, not {value!r}")
        if not low <= value <= high:
            return self.problem(path, f"{_name(path)} must be from {low} to {high}, not {value}")
        return value

    def boolean(self, value: Any, path: tuple) -> Any:
        if not isinstance(value, bool):
            return self.problem(path, f"{_name(path)} must be true or false, not {value!r}")
        return value

    def size(self, value: Any, path: tuple) -> Any:
        try:
            return parse_size(value)
        except ValueError as exc:
            return self.problem(path, f"{_name(path)}: {exc}")

    def mapping(self, value: Any, path: tuple, what: str) -> Any:
        if not isinstance(value, dict):
            return self.problem(path, f"{_name(path)} must be a mapping of {what}, not {_type_name(value)}")
        return value


def parse_check(raw: Any, report: Report) -> CheckSpec | None:
    """A CheckSpec from the plain value under a component's ``check:``, or None after reporting problems.

    ``report(path, message)`` gets every problem; path is relative to the check mapping.
    A bare URL string is accepted as shorthand for an http check.
    """
    if isinstance(raw, str) and raw.strip().lower().startswith(("http://", "https://")):
        raw = {"type": "http", "url": raw.strip()}
    if not isinstance(raw, dict):
        report((), f"check must be a mapping with a type ({', '.join(CHECK_TYPES)}) and its settings, "
                   f"not {_type_name(raw)}; e.g. {{type: http, url: https://example.com}}")
        return None
    kind = raw.get("type")
    if kind is None:
        if "url" not in raw:
            report(("type",), f'check needs a "type": one of {", ".join(CHECK_TYPES)}')
            return None
        kind = "http"  # a url alone says what kind of check this is
    if not isinstance(kind, str) or kind.strip().lower() not in CHECK_TYPES:
        hint = did_you_mean(str(kind).lower(), CHECK_TYPES) if isinstance(kind, str) else ""
        report(("type",), f'unknown check type "{kind}"{hint}; use one of: {", ".join(CHECK_TYPES)}')
        return None
    kind = kind.strip().lower()

    parser = _Parser(raw, kind, report)
    _check_keys(parser)
    retries = COMMON_OPTIONS["retries"]
    common = {
        "timeout": parser.take("timeout", parser.duration, COMMON_OPTIONS["timeout"].default),
        "retries": parser.take("retries", lambda v, p: parser.integer(v, p, retries.minimum, retries.maximum),
                               retries.default),
        "interval": parser.take("interval", parser.duration, COMMON_OPTIONS["interval"].default),
        "degraded_after": parser.take("degraded_after", parser.duration, COMMON_OPTIONS["degraded_after"].default),
    }
    timeout, degraded_after = common["timeout"], common["degraded_after"]
    if isinstance(timeout, float) and isinstance(degraded_after, float) and degraded_after >= timeout:
        parser.problem(("degraded_after",), f"degraded_after ({_seconds(degraded_after)}) must be less than timeout "
                                            f"({_seconds(timeout)}), or it can never apply")
    own = {"http": _http_fields, "tcp": _tcp_fields, "dns": _dns_fields, "tls": _tls_fields,
           "heartbeat": _heartbeat_fields, "udp": _udp_fields, "ping": _ping_fields, "websocket": _websocket_fields,
           "ssh": _ssh_fields, "grpc": _grpc_fields,
           **{kind: _mail_fields for kind in MAIL_TYPES}}[kind](parser)
    if not parser.ok or any(v is INVALID for v in (*common.values(), *own.values())):
        return None
    if kind == "heartbeat":
        # A beat is due every `every`: that is the interval the stale-data warning and duration
        # uptime measure gaps by.
        common["interval"] = own["every"]
    if kind in MAIL_TYPES:
        return MailCheck(type=kind, **common, **own)
    cls = {"http": HttpCheck, "tcp": TcpCheck, "dns": DnsCheck, "tls": TlsCheck, "heartbeat": HeartbeatCheck,
           "udp": UdpCheck, "ping": PingCheck, "websocket": WebSocketCheck, "ssh": SshCheck, "grpc": GrpcCheck}[kind]
    return cls(**common, **own)


def _check_keys(parser: _Parser) -> None:
    allowed = ALLOWED_KEYS[parser.kind]
    for key in parser.raw:
        if key in allowed:
            continue
        if not isinstance(key, str):
            parser.problem((key,), f"check keys must be text, not {key!r}; allowed keys: {', '.join(allowed)}")
            continue
        if parser.kind == "http" and key in HTTP_EXPECT_KEYS:
            hint = f' (put it under "expect:", e.g. expect: {{{key}: ...}})'
        elif parser.kind == "http" and key.startswith("expect_") and key[7:] in HTTP_EXPECT_KEYS:
            hint = f' (write it as expect: {{{key[7:]}: ...}})'
        else:
            hint = did_you_mean(key, allowed)
        parser.problem((key,), f'unknown key "{key}" in {parser.kind} check{hint}; allowed keys: {", ".join(allowed)}')
    for key in REQUIRED_KEYS[parser.kind]:
        if parser.raw.get(key) is None:
            parser.problem((key,), f'{parser.kind} check needs "{key}"{_EXAMPLES[parser.kind]}')


_EXAMPLES = {
    "http": ", e.g. url: https://example.com/health",
    "tcp": ", e.g. host: db.example.com and port: 5432",
    "dns": ", e.g. name: example.com",
    "tls": ", e.g. host: example.com",
    "heartbeat": ", e.g. every: 1h (and grace: 10m for a job that may run late)",
    "udp": ", e.g. host: dns.example.com and port: 53",
    **{kind: ", e.g. host: mail.example.com" for kind in MAIL_TYPES},
    "ping": ", e.g. host: example.com",
    "websocket": ", e.g. url: wss://example.com/socket",
    "ssh": ", e.g. host: git.example.com",
    "grpc": ", e.g. host: api.example.com and port: 50051",
}


# ---------------------------------------------------------------- per type

def _http_fields(p: _Parser) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "url": p.take("url", lambda v, path: _url(p, v, path), INVALID),
        "method": p.take("method", lambda v, path: _method(p, v, path), "GET"),
        "headers": p.take("headers", lambda v, path: _headers(p, v, path), {}),
        "body": p.take("body", lambda v, path: _body(p, v, path), None),
        "follow_redirects": p.take("follow_redirects", p.boolean, True),
        "max_redirects": p.take("max_redirects", lambda v, path: p.integer(v, path, 0, 50), DEFAULT_MAX_REDIRECTS),
        "verify_tls": p.take("verify_tls", p.boolean, True),
        "tls_warn_days": p.take("tls_warn_days", lambda v, path: p.integer(v, path, 0, 3650), DEFAULT_WARN_DAYS),
        "max_body": p.take("max_body", p.size, DEFAULT_MAX_BODY),
        "ca_file": p.take("ca_file", p.string, None),
    }
    expect = p.raw.get("expect")
    if expect is None:
        fields.update(expect_status=list(DEFAULT_STATUS), body_contains=None, body_regex=None, expect_json={},
                      body_not_contains=None, expect_headers={}, expect_certificate=None)
    elif p.mapping(expect, ("expect",), "expectations (" + ", ".join(HTTP_EXPECT_KEYS) + ")") is INVALID:
        fields["expect_status"] = INVALID
    else:
        fields.update(_http_expect(p, expect))
    if fields["body"] is not None and fields["body"] is not INVALID and fields["method"] in ("GET", "HEAD"):
        p.problem(("body",), f'a {fields["method"]} request cannot carry a body; set method: POST (or PUT, PATCH)')
    if isinstance(fields["body"], _JsonBody) and isinstance(fields["headers"], dict):
        if not any(name.lower() == "content-type" for name in fields["headers"]):
            fields["headers"] = {**fields["headers"], "Content-Type": "application/json"}
    if isinstance(fields["body"], _JsonBody):
        fields["body"] = str(fields["body"])
    return fields


def _url(p: _Parser, value: Any, path: tuple) -> Any:
    text = p.string(value, path)
    if text is INVALID:
        return INVALID
    text = text.strip()
    if has_references(text) and text.startswith("${"):
        return text  # the scheme and host come from the environment; checked when the check runs
    problem = url_problem(text if not has_references(text) else _placeholder_references(text))
    return p.problem(path, f"url {problem}") if problem else text


def url_problem(url: str) -> str | None:
    """Why url cannot be checked over HTTP, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        return f'"{url}" is not a valid URL ({exc})'
    if parts.scheme.lower() not in ("http", "https"):
        return f'"{url}" must start with http:// or https://'
    if not parts.hostname:
        return f'"{url}" has no host name; write it like https://example.com/path'
    return None


def _placeholder_references(text: str) -> str:
    # Stand-in values keep the rest of the URL checkable at parse time.
    return re.sub(r"\$\{[^}]*\}", "x", text)


def _method(p: _Parser, value: Any, path: tuple) -> Any:
    if not isinstance(value, str) or value.strip().upper() not in HTTP_METHODS:
        hint = did_you_mean(value.strip().upper(), HTTP_METHODS) if isinstance(value, str) else ""
        return p.problem(path, f'method "{value}" is not supported{hint}; use one of: {", ".join(HTTP_METHODS)}')
    return value.strip().upper()


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _headers(p: _Parser, value: Any, path: tuple) -> Any:
    if p.mapping(value, path, "header names to values, e.g. {Authorization: 'Bearer ${API_TOKEN}'}") is INVALID:
        return INVALID
    headers: dict[str, str] = {}
    ok = True
    for name, header_value in value.items():
        where = path + (name,)
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            p.problem(where, f"header name {name!r} is not valid; use letters, digits and dashes, e.g. X-Api-Key")
            ok = False
            continue
        if isinstance(header_value, bool):
            p.problem(where, f'header "{name}" is true/false; quote it if you mean the text, e.g. "{str(header_value).lower()}"')
            ok = False
            continue
        text = p.string(header_value, where, allow_empty=True)
        if text is INVALID:
            ok = False
            continue
        if "\n" in text or "\r" in text:
            p.problem(where, f'header "{name}" must be on one line')
            ok = False
            continue
        headers[name] = text
    return headers if ok else INVALID


class _JsonBody(str):
    """A body given as a YAML mapping or list, sent as JSON."""


def _body(p: _Parser, value: Any, path: tuple) -> Any:
    if isinstance(value, (dict, list)):
        try:
            encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        except (TypeError, ValueError) as exc:
            return p.problem(path, f"body cannot be sent as JSON ({exc}); write it as a text block instead")
        checked = p.references(encoded, path)
        return INVALID if checked is INVALID else _JsonBody(checked)
    return p.string(value, path, allow_empty=True)


def _http_expect(p: _Parser, expect: dict) -> dict[str, Any]:
    for key in expect:
        if key not in HTTP_EXPECT_KEYS:
            hint = did_you_mean(str(key), HTTP_EXPECT_KEYS)
            p.problem(("expect", key), f'unknown key "{key}" under expect{hint}; allowed keys: {", ".join(HTTP_EXPECT_KEYS)}')
    status = expect.get("status")
    if status is None:
        ranges: Any = list(DEFAULT_STATUS)
    else:
        ranges = _status_ranges(p, status, ("expect", "status"))
    contains = expect.get("body_contains")
    if contains is not None:
        contains = p.string(contains, ("expect", "body_contains"))
    regex = expect.get("body_regex")
    if regex is not None:
        regex = p.string(regex, ("expect", "body_regex"))
        if isinstance(regex, str) and not has_references(regex):
            try:
                re.compile(regex)
            except re.error as exc:
                regex = p.problem(("expect", "body_regex"), f"body_regex is not a valid regular expression: {exc}")
    json_expect: Any = {}
    if expect.get("json") is not None:
        json_expect = _json_expect(p, expect["json"], ("expect", "json"))
    forbidden = expect.get("body_not_contains")
    if forbidden is not None:
        forbidden = p.string(forbidden, ("expect", "body_not_contains"))
    headers: Any = {}
    if expect.get("headers") is not None:
        headers = _headers(p, expect["headers"], ("expect", "headers"))
    certificate = None
    if expect.get("certificate") is not None:
        certificate = _certificate_expect(p, expect["certificate"], ("expect", "certificate"))
    return {"expect_status": ranges, "body_contains": contains, "body_regex": regex, "expect_json": json_expect,
            "body_not_contains": forbidden, "expect_headers": headers, "expect_certificate": certificate}


def _status_ranges(p: _Parser, value: Any, path: tuple) -> Any:
    items = value if isinstance(value, list) else [value]
    if not items:
        return p.problem(path, f"status list is empty; {_STATUS_HELP}")
    ranges = []
    for index, item in enumerate(items):
        where = path + (index,) if isinstance(value, list) else path
        try:
            ranges.append(parse_status_item(item))
        except ValueError as exc:
            p.problem(where, f"status {exc}")
            ranges.append(INVALID)
    return INVALID if INVALID in ranges else ranges


_JSON_PATH_SEGMENT = re.compile(r"[^.\s]+")


def _json_expect(p: _Parser, value: Any, path: tuple) -> Any:
    example = 'dotted paths to expected values, e.g. {"data.status": "ok", "items.0.ready": true}'
    if p.mapping(value, path, example) is INVALID:
        return INVALID
    ok = True
    for key in value:
        if not isinstance(key, str) or not all(_JSON_PATH_SEGMENT.fullmatch(s) for s in key.split(".")):
            p.problem(path + (key,), f"json path {key!r} is not valid; use {example}")
            ok = False
            continue
        comparison = json_comparison(value[key])
        if comparison is not None and comparison[0] in ("<", "<=", ">", ">=") and not _is_number(comparison[1]):
            p.problem(path + (key,), f'"{value[key]}" compares with {comparison[0]}, which needs a number, '
                                     f'e.g. "{comparison[0]} 1000"')
            ok = False
    return dict(value) if ok else INVALID


_COMPARISON = re.compile(r"(<=|>=|!=|==|<|>)\s+(.+)", re.S)


def json_comparison(expected: Any) -> tuple[str, Any] | None:
    """("<", 1000) for an expected JSON value written "< 1000" (also <=, >, >=, ==, !=), the
    operand read as JSON where it is JSON (a number, true, "text") and as text where not; None
    for a plain expected value."""
    if not isinstance(expected, str):
        return None
    match = _COMPARISON.fullmatch(expected.strip())
    if match is None:
        return None
    operand = match.group(2).strip()
    try:
        return match.group(1), json.loads(operand)
    except ValueError:
        return match.group(1), operand


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _host(p: _Parser, value: Any, path: tuple) -> Any:
    text = p.string(value, path)
    if text is INVALID:
        return INVALID
    text = text.strip()
    if "://" in text:
        return p.problem(path, f'host "{text}" must be a host name or IP address, without a scheme like https://')
    if "/" in text or " " in text:
        return p.problem(path, f'host "{text}" must be a host name or IP address only')
    if text.count(":") == 1 and not has_references(text):
        return p.problem(path, f'host "{text}" contains a port; put the port under "port:"')
    return text.strip("[]")  # allow IPv6 literals written in brackets


def _tcp_fields(p: _Parser) -> dict[str, Any]:
    return {
        "host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
        "port": p.take("port", lambda v, path: p.integer(v, path, 1, 65535), INVALID),
    }


def _tls_fields(p: _Parser) -> dict[str, Any]:
    fields = {
        "host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
        "port": p.take("port", lambda v, path: p.integer(v, path, 1, 65535), 443),
        "warn_days": p.take("warn_days", lambda v, path: p.integer(v, path, 0, 3650), DEFAULT_WARN_DAYS),
        "ca_file": p.take("ca_file", p.string, None),
        "expect_certificate": None,
    }
    expect = p.raw.get("expect")
    if expect is not None and p.mapping(expect, ("expect",), "expectations (certificate)") is not INVALID:
        for key in expect:
            if key != "certificate":
                p.problem(("expect", key), f'unknown key "{key}" under expect; allowed keys: certificate')
        if expect.get("certificate") is not None:
            fields["expect_certificate"] = _certificate_expect(p, expect["certificate"], ("expect", "certificate"))
    return fields


_CERTIFICATE_KEYS = ("issuer", "subject", "names", "min_days", "fingerprint")


def _certificate_expect(p: _Parser, value: Any, path: tuple) -> Any:
    """expect: {certificate: {issuer, subject, names, min_days, fingerprint}} as a CertificateExpect."""
    if p.mapping(value, path, "what the certificate must hold (" + ", ".join(_CERTIFICATE_KEYS) + ")") is INVALID:
        return INVALID
    for key in value:
        if key not in _CERTIFICATE_KEYS:
            p.problem(path + (key,), f'unknown key "{key}" under certificate{did_you_mean(str(key), _CERTIFICATE_KEYS)}; '
                                     f'allowed keys: {", ".join(_CERTIFICATE_KEYS)}')
    names = value.get("names") or []
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        p.problem(path + ("names",), "names must be a list of DNS names, e.g. [example.com, www.example.com]")
        names = []
    fingerprint = value.get("fingerprint")
    if fingerprint is not None:
        text = str(fingerprint).strip()
        hexed = re.sub(r"[:\s]", "", text.removeprefix("SHA256:").removeprefix("sha256:")).lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hexed):
            p.problem(path + ("fingerprint",), f'fingerprint "{text[:40]}" is not a SHA-256 of 64 hex digits '
                                               '(as openssl x509 -fingerprint -sha256 prints it)')
            hexed = None
        fingerprint = hexed
    min_days = value.get("min_days")
    if min_days is not None:
        min_days = p.integer(min_days, path + ("min_days",), 0, 3650)
        if min_days is INVALID:
            min_days = None
    text = {key: (p.string(value[key], path + (key,)) if value.get(key) is not None else None)
            for key in ("issuer", "subject")}
    return CertificateExpect(issuer=text["issuer"] if isinstance(text["issuer"], str) else None,
                             subject=text["subject"] if isinstance(text["subject"], str) else None,
                             names=tuple(names), min_days=min_days, fingerprint=fingerprint)


def _udp_fields(p: _Parser) -> dict[str, Any]:
    fields = {
        "host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
        "port": p.take("port", lambda v, path: p.integer(v, path, 1, 65535), INVALID),
        "send": p.take("send", lambda v, path: p.string(v, path, allow_empty=True), ""),
        "send_hex": p.take("send_hex", lambda v, path: _hex(p, v, path), None),
        "expect_contains": None,
        "expect_regex": None,
    }
    if "send" in p.raw and "send_hex" in p.raw:
        p.problem(("send_hex",), "give send (text) or send_hex (bytes as hex), not both")
    expect = p.raw.get("expect")
    if expect is not None and p.mapping(expect, ("expect",), "expectations (contains, regex)") is not INVALID:
        for key in expect:
            if key not in ("contains", "regex"):
                p.problem(("expect", key), f'unknown key "{key}" under expect{did_you_mean(str(key), ("contains", "regex"))}; '
                                           "allowed keys: contains, regex")
        if expect.get("contains") is not None:
            fields["expect_contains"] = p.string(expect["contains"], ("expect", "contains"))
        if expect.get("regex") is not None:
            regex = p.string(expect["regex"], ("expect", "regex"))
            if isinstance(regex, str):
                try:
                    re.compile(regex.encode())
                except re.error as exc:
                    regex = p.problem(("expect", "regex"), f"regex is not a valid regular expression: {exc}")
            fields["expect_regex"] = regex
    return fields


def _ping_fields(p: _Parser) -> dict[str, Any]:
    return {
        "host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
        "count": p.take("count", lambda v, path: p.integer(v, path, 1, 20), 3),
        "privileged": p.take("privileged", lambda v, path: "auto" if v == "auto" else "false" if v is False else
                             p.problem(path, 'privileged must be auto (the default) or false'), "auto"),
    }


def _expect_text(p: _Parser, fields: dict, allowed: tuple[str, ...], example: str) -> None:
    """expect: {contains: text, regex: ...} (the keys in `allowed`), into fields' expect_* entries."""
    expect = p.raw.get("expect")
    if expect is None or p.mapping(expect, ("expect",), example) is INVALID:
        return
    for key in expect:
        if key not in allowed:
            p.problem(("expect", key), f'unknown key "{key}" under expect{did_you_mean(str(key), allowed)}; '
                                       f'allowed keys: {", ".join(allowed)}')
    for key in allowed:
        if expect.get(key) is None:
            continue
        text = p.string(expect[key], ("expect", key))
        if key == "regex" and isinstance(text, str):
            try:
                re.compile(text)
            except re.error as exc:
                text = p.problem(("expect", key), f"regex is not a valid regular expression: {exc}")
        fields[f"expect_{key}"] = text


def _websocket_fields(p: _Parser) -> dict[str, Any]:
    def url(value: Any, path: tuple) -> Any:
        text = p.string(value, path)
        if text is INVALID:
            return INVALID
        text = text.strip()
        if not re.match(r"wss?://[^/\s]+", text) and not text.startswith("${"):
            return p.problem(path, f'url "{text}" must start with ws:// or wss://, e.g. wss://example.com/socket')
        return text

    fields = {"url": p.take("url", url, INVALID), "send": p.take("send", p.string, None),
              "ca_file": p.take("ca_file", p.string, None), "expect_contains": None, "expect_regex": None}
    _expect_text(p, fields, ("contains", "regex"), "expectations (contains, regex)")
    return fields


_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


def _ssh_fields(p: _Parser) -> dict[str, Any]:
    fields = {"host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
              "port": p.take("port", lambda v, path: p.integer(v, path, 1, 65535), 22),
              "expect_banner": None, "expect_fingerprint": None}
    _expect_text(p, fields, ("banner", "fingerprint"), "expectations (banner, fingerprint)")
    fingerprint = fields["expect_fingerprint"]
    if isinstance(fingerprint, str) and not _FINGERPRINT.fullmatch(fingerprint.strip()):
        fields["expect_fingerprint"] = p.problem(("expect", "fingerprint"), f'fingerprint "{fingerprint}" is not as '
                                                 'ssh-keygen -lf prints it, e.g. "SHA256:" and 43 characters')
    return fields


def _grpc_fields(p: _Parser) -> dict[str, Any]:
    return {
        "host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
        "port": p.take("port", lambda v, path: p.integer(v, path, 1, 65535), INVALID),
        "service": p.take("service", lambda v, path: p.string(v, path, allow_empty=True), ""),
        "tls": p.take("tls", p.boolean, False),
        "verify_tls": p.take("verify_tls", p.boolean, True),
        "warn_days": p.take("warn_days", lambda v, path: p.integer(v, path, 0, 3650), DEFAULT_WARN_DAYS),
        "ca_file": p.take("ca_file", p.string, None),
    }


def _hex(p: _Parser, value: Any, path: tuple) -> Any:
    text = p.string(value, path)
    if text is INVALID:
        return INVALID
    try:
        bytes.fromhex(text)
    except ValueError:
        return p.problem(path, f'send_hex "{text[:40]}" is not bytes written as hex, e.g. "deadbeef" or "de ad be ef"')
    return text


def _mail_fields(p: _Parser) -> dict[str, Any]:
    tls = p.take("tls", lambda v, path: v.strip().lower() if isinstance(v, str) and v.strip().lower() in MAIL_TLS
                 else p.problem(path, f'tls "{v}" is not one of {", ".join(MAIL_TLS)}'
                                      f'{did_you_mean(str(v).lower(), MAIL_TLS)}'), "starttls")
    fields = {
        "host": p.take("host", lambda v, path: _host(p, v, path), INVALID),
        "tls": tls,
        "port": p.take("port", lambda v, path: p.integer(v, path, 1, 65535),
                       MAIL_PORTS.get((p.kind, tls), 25) if isinstance(tls, str) else INVALID),
        "verify_tls": p.take("verify_tls", p.boolean, True),
        "warn_days": p.take("warn_days", lambda v, path: p.integer(v, path, 0, 3650), DEFAULT_WARN_DAYS),
        "ca_file": p.take("ca_file", p.string, None),
        "expect_banner": None,
        "expect_certificate": None,
    }
    expect = p.raw.get("expect")
    if expect is not None and p.mapping(expect, ("expect",), "expectations (banner, certificate)") is not INVALID:
        for key in expect:
            if key not in ("banner", "certificate"):
                p.problem(("expect", key), f'unknown key "{key}" under expect; allowed keys: banner, certificate')
        if expect.get("banner") is not None:
            fields["expect_banner"] = p.string(expect["banner"], ("expect", "banner"))
        if expect.get("certificate") is not None:
            fields["expect_certificate"] = _certificate_expect(p, expect["certificate"], ("expect", "certificate"))
    return fields


def _heartbeat_fields(p: _Parser) -> dict[str, Any]:
    return {
        "every": p.take("every", p.duration, INVALID),
        "grace": p.take("grace", lambda v, path: p.duration(v, path, positive=False), 0.0),
    }


def _dns_fields(p: _Parser) -> dict[str, Any]:
    return {
        "name": p.take("name", lambda v, path: _dns_name(p, v, path), INVALID),
        "record": p.take("record", lambda v, path: _record(p, v, path), "A"),
        "nameserver": p.take("nameserver", lambda v, path: _nameserver(p, v, path), None),
        "expect": p.take("expect", lambda v, path: _dns_expect(p, v, path), []),
    }


def _dns_name(p: _Parser, value: Any, path: tuple) -> Any:
    text = p.string(value, path)
    if text is INVALID:
        return INVALID
    text = text.strip()
    if "://" in text or "/" in text:
        return p.problem(path, f'name "{text}" must be a domain name like example.com, not a URL')
    return text


def _record(p: _Parser, value: Any, path: tuple) -> Any:
    if not isinstance(value, str) or value.strip().upper() not in DNS_RECORDS:
        hint = did_you_mean(value.strip().upper(), DNS_RECORDS) if isinstance(value, str) else ""
        return p.problem(path, f'record type "{value}" is not supported{hint}; use one of: {", ".join(DNS_RECORDS)}')
    return value.strip().upper()


def _nameserver(p: _Parser, value: Any, path: tuple) -> Any:
    text = p.string(value, path)
    if text is INVALID:
        return INVALID
    text = text.strip()
    if has_references(text):
        return text
    try:
        parse_nameserver(text)
    except ValueError as exc:
        return p.problem(path, f"nameserver {exc}")
    return text


def parse_nameserver(text: str) -> tuple[str, int]:
    """(ip, port) from "ip", "ip:port", "v6" or "[v6]:port"."""
    help_ = 'use an IP address, optionally with a port: "9.9.9.9", "9.9.9.9:5353" or "[2620:fe::fe]:53"'
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f'"{text}" is not valid; {help_}')
            port = _port_number(rest[1:], text, help_)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port_number(port_text, text, help_)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f'"{text}" is not an IP address; {help_}') from None
    return host, port


def _port_number(text: str, whole: str, help_: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f'"{whole}" has an invalid port; {help_}')
    return int(text)


def _dns_expect(p: _Parser, value: Any, path: tuple) -> Any:
    items = value if isinstance(value, list) else [value]
    values = []
    for index, item in enumerate(items):
        where = path + (index,) if isinstance(value, list) else path
        values.append(p.string(item, where))
    return INVALID if INVALID in values else values


# ---------------------------------------------------------------- wording helpers

def _name(path: tuple) -> str:
    return ".".join(str(part) for part in path) or "check"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", bool: "true/false", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _seconds(value: float) -> str:
    return f"{value:g}s"
