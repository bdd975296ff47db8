"""HTTP(S) checks with httpx: status, body and JSON expectations, timing phases, certificate expiry."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from generator.checks.certs import certificate_details, certificate_mismatch, classify_tls_error, fetch_certificate, judge_expiry, validity_from_der, verifying_context
from generator.checks.errors import classify_connection_error, find, short_error
from generator.checks.result import DEGRADED, DOWN, UP, Outcome, clip, down
from generator.checks.spec import HttpCheck, describe_status_ranges, json_comparison, url_problem
from urllib.parse import urlsplit

USER_AGENT = "Heliograph/0.1 (status page check)"
MAX_REDIRECTS = 20
# A URL may be revisited this often in one redirect chain before it counts as a loop:
# some login flows redirect back to the same URL once after setting a cookie.
MAX_VISITS_PER_URL = 2


class HttpClients:
    """Shared httpx clients for a run: connections pool, and TLS contexts are built once.

    httpcore's pool scans every connection on each request, so one pool of 1,000 connections
    spends its time in that scan (a 1,000-endpoint run took 40 s instead of 0.5 s). Each TLS
    configuration therefore gets several small clients, handed out in turn.
    """

    CONNECTIONS_PER_CLIENT = 8

    def __init__(self, concurrency: int):
        self._shards = max(1, -(-concurrency // self.CONNECTIONS_PER_CLIENT))
        per_client = min(concurrency, self.CONNECTIONS_PER_CLIENT)
        self._limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
        self._clients: dict[tuple[bool, str | None], list[httpx.AsyncClient]] = {}
        self._turn = 0

    def get(self, verify_tls: bool, ca_file: str | None) -> httpx.AsyncClient:
        key = (verify_tls, ca_file if verify_tls else None)
        if key not in self._clients:
            verify: ssl.SSLContext | bool = verifying_context(ca_file) if verify_tls else False
            self._clients[key] = [self._new_client(verify) for _ in range(self._shards)]
        self._turn += 1
        shards = self._clients[key]
        return shards[self._turn % len(shards)]

    def _new_client(self, verify: ssl.SSLContext | bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=verify,
            limits=self._limits,
            follow_redirects=False,  # redirects are followed by hand, to bound and inspect them
            headers={"User-Agent": USER_AGENT},
            # Each check keeps its own cookies; the shared client must not leak them between checks.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    async def aclose(self) -> None:
        shards, self._clients = list(self._clients.values()), {}
        for clients in shards:
            for client in clients:
                await client.aclose()


# httpcore trace events (without their "connection."/"http11." prefix) that start and end a phase.
_PHASE_EDGES = {
    "connect_tcp.started": ("start", "connect"),
    "connect_tcp.complete": ("end", "connect"),
    "start_tls.started": ("start", "tls"),
    "start_tls.complete": ("end", "tls"),
    "send_request_headers.started": ("start", "ttfb"),
    "receive_response_headers.complete": ("end", "ttfb"),
}

_TIMEOUT_WORDING = {
    "connect": "could not connect within {}",
    "tls": "TLS handshake did not finish within {}",
    "ttfb": "connected, but no response within {}",
    "body": "response body did not finish within {}",
}


class _Phases:
    """Milliseconds spent in each phase, summed over redirects, from httpcore's trace extension."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self.current: str | None = None

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        edge = _PHASE_EDGES.get(name.split(".", 1)[-1])
        if edge is not None:
            self.mark(*edge)

    def mark(self, edge: str, phase: str) -> None:
        now = time.perf_counter()
        if edge == "start":
            self._started[phase] = now
            self.current = phase
        elif phase in self._started:
            elapsed = (now - self._started.pop(phase)) * 1000
            self.totals[phase] = round(self.totals.get(phase, 0.0) + elapsed, 1)
            self.current = None

    def timeout_message(self, timeout: float) -> str:
        wording = _TIMEOUT_WORDING.get(self.current or "", "no complete response within {}")
        return wording.format(f"{timeout:g}s")


@dataclass
class _Exchange:
    """What was seen on the wire, for the result details."""

    status_code: int | None = None
    final_url: str | None = None
    redirects: int = 0
    body_bytes: int | None = None
    truncated: bool = False
    certificates: dict[str, bytes] = field(default_factory=dict)  # host -> DER

    def capture_certificate(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        if ssl_object is not None:
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                self.certificates[response.url.host] = der

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if self.status_code is not None:
            details["status_code"] = self.status_code
        if self.redirects:
            details["redirects"] = self.redirects
            details["final_url"] = self.final_url
        if self.body_bytes is not None:
            details["body_bytes"] = self.body_bytes
        if self.truncated:
            details["body_truncated"] = True
        return details


async def probe_http(spec: HttpCheck, clients: HttpClients) -> Outcome:
    """Run one HTTP check attempt. Never raises for network trouble; returns a down Outcome instead."""
    problem = url_problem(spec.url)
    if problem:
        return down("error", f"url {problem}")
    try:
        regex = re.compile(spec.body_regex) if spec.body_regex else None
    except re.error as exc:
        return down("error", f"body_regex is not a valid regular expression: {exc}")
    try:
        client = clients.get(spec.verify_tls, spec.ca_file)
    except (OSError, ssl.SSLError) as exc:
        return down("error", f"cannot load ca_file {spec.ca_file}: {getattr(exc, 'strerror', None) or exc}")

    phases, exchange = _Phases(), _Exchange()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout):
            outcome = await _exchange(client, spec, regex, phases, exchange)
    except (TimeoutError, httpx.TimeoutException):
        outcome = down("timeout", phases.timeout_message(spec.timeout))
    except httpx.HTTPError as exc:
        outcome = await _transport_failure(exc, spec, started)
    except httpx.InvalidURL as exc:  # not an HTTPError; raised for URLs that urlsplit accepts but httpx does not
        outcome = down("error", f"url is not valid: {short_error(exc)}")
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    outcome = _judge_certificates(outcome, exchange, spec)
    if spec.expect_certificate is not None and outcome.status != DOWN:
        outcome = _expected_certificate(outcome, exchange, spec)
    details = {**exchange.details(), **outcome.details}
    if phases.totals:
        details["phases"] = phases.totals
    return replace(outcome, latency_ms=latency_ms, details=details)


async def _exchange(
    client: httpx.AsyncClient, spec: HttpCheck, regex: re.Pattern | None, phases: _Phases, exchange: _Exchange
) -> Outcome:
    request = client.build_request(
        spec.method,
        spec.url,
        headers=spec.headers,
        content=spec.body.encode() if spec.body is not None else None,
        timeout=spec.timeout,
        extensions={"trace": phases.trace},
    )
    cookies = httpx.Cookies()
    visits = {(request.method, str(request.url)): 1}
    while True:
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            exchange.status_code = response.status_code
            exchange.final_url = str(response.url)
            exchange.capture_certificate(response)
            cookies.extract_cookies(response)
            next_request = response.next_request
            if spec.follow_redirects and next_request is not None:
                target = (next_request.method, str(next_request.url))
                visits[target] = visits.get(target, 0) + 1
                exchange.redirects += 1
                if visits[target] > MAX_VISITS_PER_URL or exchange.redirects > MAX_REDIRECTS:
                    return _redirect_loop(request, next_request, exchange.redirects)
                if exchange.redirects > spec.max_redirects:
                    return down("too_many_redirects", f"more than {spec.max_redirects} redirects (max_redirects; "
                                                      f"next: {next_request.url})")
                if spec.secret_body and response.status_code in (307, 308) and \
                        origin(request.url) != origin(next_request.url):
                    # 307 and 308 resend the body as it is: a secret in it must not go to another origin.
                    return down("redirect_cross_origin",
                                f"HTTP {response.status_code} to another origin ({next_request.url.scheme}://"
                                f"{next_request.url.host}) would resend the request body, which holds a secret: "
                                "not followed; check the final URL instead")
                drop_credentials_across_origins(request, next_request, spec.secret_headers)
                cookies.set_cookie_header(next_request)
                request = next_request
                continue
            if not any(low <= response.status_code <= high for low, high in spec.expect_status):
                phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
                return down(
                    f"status_{response.status_code}",
                    f"HTTP {response.status_code}{phrase} (expected {describe_status_ranges(spec.expect_status)})",
                )
            for name, wanted in spec.expect_headers.items():
                value = response.headers.get(name)
                if value is None:
                    return down("header_mismatch", f"no {name} header (expected one containing {_quote(wanted)})")
                if wanted.lower() not in value.lower():
                    return down("header_mismatch", f"{name} is {_quote(clip(value))}, expected it to contain "
                                                   f"{_quote(wanted)}")
            phases.mark("start", "body")
            body = await _read_capped(response, spec.max_body, exchange)
            phases.mark("end", "body")
            return _judge_body(spec, regex, body, response, exchange.truncated)
        finally:
            await response.aclose()


# Headers that carry credentials whatever their value, as browsers treat them on redirects.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def drop_credentials_across_origins(request: httpx.Request, next_request: httpx.Request, secret_headers: frozenset[str]) -> None:
    """A redirect to another origin (scheme, host or port) carries no credentials and no header
    whose value came from ${...}: those were meant for the origin the check names, not for
    wherever it redirects to. httpx keeps such headers, and Authorization on http -> https."""
    if origin(request.url) == origin(next_request.url):
        return
    for name in CREDENTIAL_HEADERS | secret_headers:
        next_request.headers.pop(name, None)


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _redirect_loop(request: httpx.Request, next_request: httpx.Request, hops: int) -> Outcome:
    if hops > MAX_REDIRECTS:
        return down("redirect_loop", f"more than {MAX_REDIRECTS} redirects (last: {next_request.url})")
    return down("redirect_loop", f"redirect loop: {request.url} redirects back to {next_request.url}")


async def _read_capped(response: httpx.Response, limit: int, exchange: _Exchange) -> bytes:
    """At most `limit` bytes of the (decoded) body; an endless body is cut off, not waited for."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        room = limit - size
        if len(chunk) > room:
            chunks.append(chunk[:room])
            size = limit
            exchange.truncated = True
            break
        chunks.append(chunk)
        size += len(chunk)
    exchange.body_bytes = size
    return b"".join(chunks)


def _judge_body(
    spec: HttpCheck, regex: re.Pattern | None, body: bytes, response: httpx.Response, truncated: bool
) -> Outcome:
    """Body expectations are matched against what was read (up to max_body). A failed match on a
    truncated body is reported as body_too_large, since the missing part might have matched."""
    failure = _body_failure(spec, regex, body, response)
    if failure is None:
        return Outcome(UP, "ok", f"HTTP {response.status_code}")
    reason, message = failure
    if truncated:
        return down(
            "body_too_large",
            f"{message} in the first {_size(spec.max_body)}; the body is larger than max_body, raise it to check more",
        )
    return down(reason, message)


def _body_failure(spec: HttpCheck, regex: re.Pattern | None, body: bytes, response: httpx.Response) -> tuple[str, str] | None:
    if spec.body_contains is None and regex is None and not spec.expect_json and spec.body_not_contains is None:
        return None
    text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    if spec.body_contains is not None and spec.body_contains not in text:
        return "body_mismatch", f"body does not contain {_quote(spec.body_contains)}"
    if spec.body_not_contains is not None and spec.body_not_contains in text:
        return "body_contains_forbidden", f"body contains {_quote(spec.body_not_contains)}"
    if regex is not None and not regex.search(text):
        return "body_mismatch", f"body does not match /{clip(regex.pattern)}/"
    if spec.expect_json:
        try:
            document = json.loads(text)
        except ValueError:
            return "json_mismatch", "body is not valid JSON"
        for path, expected in spec.expect_json.items():
            found, actual = json_lookup(document, path)
            if not found:
                return "json_mismatch", f"JSON has no {path}"
            comparison = json_comparison(expected)
            if comparison is not None:
                if not json_compares(comparison, actual):
                    return "json_mismatch", f"JSON {path} is {_json_text(actual)}, expected {expected.strip()}"
            elif not json_matches(expected, actual):
                return "json_mismatch", f"JSON {path} is {_json_text(actual)}, expected {_json_text(expected)}"
    return None


def json_lookup(document: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path ("data.items.0.ok") through objects and arrays; (found, value)."""
    current = document
    for segment in path.split("."):
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and re.fullmatch(r"-?\d+", segment) and -len(current) <= int(segment) < len(current):
            current = current[int(segment)]
        else:
            return False, None
    return True, current


def json_compares(comparison: tuple[str, Any], actual: Any) -> bool:
    """Whether `actual` satisfies ("<", 1000) and the like: order needs two numbers (true is no
    number); == and != compare as `json_matches` does."""
    operator_, operand = comparison
    if operator_ in ("==", "!="):
        return json_matches(operand, actual) == (operator_ == "==")
    if not (isinstance(actual, (int, float)) and not isinstance(actual, bool)):
        return False
    return {"<": actual < operand, "<=": actual <= operand, ">": actual > operand, ">=": actual >= operand}[operator_]


def json_matches(expected: Any, actual: Any) -> bool:
    """Equality where a mapping matches any object containing (at least) its keys, and true != 1."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and json_matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(json_matches(e, a) for e, a in zip(expected, actual))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


async def _transport_failure(error: httpx.HTTPError, spec: HttpCheck, started: float) -> Outcome:
    try:
        url = error.request.url
    except RuntimeError:  # httpx raises when an error carries no request
        url = httpx.URL(spec.url)
    host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
    if isinstance(error, httpx.ConnectError):
        reason, message = classify_connection_error(error, host, port)
        if reason in ("tls_expired", "tls_invalid", "tls_self_signed", "tls_hostname"):
            return await _explain_certificate(reason, message, host, port, spec.timeout - (time.perf_counter() - started))
        return down(reason, message)
    if find(error, ConnectionResetError) is not None:
        return down("reset", f"connection reset by {host} while reading the response")
    if isinstance(error, httpx.RemoteProtocolError):
        text = short_error(error)
        if "closed" in text or "disconnected" in text:
            return down("read_error", f"{host} closed the connection early ({text})")
        return down("read_error", f"invalid HTTP response from {host}: {text}")
    if isinstance(error, (httpx.ReadError, httpx.WriteError, httpx.DecodingError)):
        return down("read_error", f"error reading the response from {host}: {short_error(error)}")
    tls_error = find(error, ssl.SSLError)
    if isinstance(tls_error, ssl.SSLError):
        return down(*classify_tls_error(tls_error, host))
    return down("error", short_error(error))


async def _explain_certificate(reason: str, message: str, host: str, port: int, time_left: float) -> Outcome:
    """Add the certificate's expiry to a TLS failure, from a second, unverified handshake."""
    der = await fetch_certificate(host, port, min(time_left, 5.0))
    if der is None:
        return down(reason, message)
    try:
        validity = validity_from_der(der)
    except (ValueError, IndexError):
        return down(reason, message)
    details = certificate_details(validity.not_after)
    if reason == "tls_expired":
        message = f"certificate for {host} expired on {validity.not_after:%Y-%m-%d}"
    return down(reason, message, **details)


def _judge_certificates(outcome: Outcome, exchange: _Exchange, spec: HttpCheck) -> Outcome:
    """Record the soonest certificate expiry seen; with verify_tls, warn about it or fail on it."""
    soonest: tuple[str, datetime] | None = None
    for host, der in exchange.certificates.items():
        try:
            not_after = validity_from_der(der).not_after
        except (ValueError, IndexError):
            continue
        if soonest is None or not_after < soonest[1]:
            soonest = (host, not_after)
    if soonest is None:
        return outcome
    host, not_after = soonest
    details = {**certificate_details(not_after), **outcome.details}
    verdict = judge_expiry(host, not_after, datetime.now(timezone.utc), spec.tls_warn_days)
    if not spec.verify_tls or verdict is None or outcome.status == DOWN:
        return replace(outcome, details=details)
    status, reason, message = verdict
    if status == DEGRADED and outcome.status == DEGRADED:
        return replace(outcome, details=details)
    return Outcome(status, reason, message, details=details)


def _expected_certificate(outcome: Outcome, exchange: _Exchange, spec: HttpCheck) -> Outcome:
    """expect: {certificate: ...} holds for the certificate of the host that gave the final answer."""

    host = urlsplit(exchange.final_url or spec.url).hostname
    der = exchange.certificates.get(host or "")
    if der is None:
        return down("certificate_mismatch", f"no certificate from {host}: expect: certificate needs an https:// URL",
                    **outcome.details)
    problem = certificate_mismatch(spec.expect_certificate, der, datetime.now(timezone.utc))
    return outcome if problem is None else down("certificate_mismatch", problem, **outcome.details)


def _quote(text: str) -> str:
    return json.dumps(clip(text), ensure_ascii=False)


def _json_text(value: Any) -> str:
    return clip(json.dumps(value, ensure_ascii=False, default=str))


def _size(size: int) -> str:
    for unit, factor in (("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"
