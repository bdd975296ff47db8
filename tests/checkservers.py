"""Real servers on 127.0.0.1 for the check tests: HTTP(S) with misbehaving routes, DNS over UDP, TCP ports.

Import the fixtures into a test module (``from checkservers import http_server``) to use them.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest
import trustme

JSON_DOCUMENT = {"data": {"status": "ok", "version": 3}, "items": [{"ok": True}, {"ok": False}]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(5)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                raise _HandshakeFailed from None

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.requests.append(self.path)
        route = _ROUTES.get(parts.path) or next(
            (handler for prefix, handler in _PREFIX_ROUTES.items() if parts.path.startswith(prefix)), None
        )
        if route is None:
            self.send_text(404, "not found")
            return
        route(self, parse_qs(parts.query))

    do_POST = do_GET
    do_HEAD = do_GET

    def send_text(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8", **headers: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _HandshakeFailed(Exception):
    pass


def _ok(h: _Handler, query: dict) -> None:
    h.send_text(200, "hello from heliograph tests: all systems operational")


def _slow(h: _Handler, query: dict) -> None:
    time.sleep(int(query.get("ms", ["300"])[0]) / 1000)
    h.send_text(200, "slow but fine")


def _status(h: _Handler, query: dict) -> None:
    h.send_text(int(h.path.rsplit("/", 1)[-1].split("?")[0]), "status page")


def _json(h: _Handler, query: dict) -> None:
    h.send_text(200, json.dumps(JSON_DOCUMENT), "application/json")


def _reset(h: _Handler, query: dict) -> None:
    """Promise a long body, send part of it, then abort with a TCP RST."""
    h.send_response(200)
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b"x" * 1000)
    h.wfile.flush()
    time.sleep(0.05)
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def _hang(h: _Handler, query: dict) -> None:
    """Read the request, never answer."""
    h.server.stopping.wait(30)
    h.close_connection = True


def _loop(h: _Handler, query: dict) -> None:
    target = "/loop/b" if h.path.startswith("/loop/a") else "/loop/a"
    h.send_text(302, "", Location=target)


def _redirect(h: _Handler, query: dict) -> None:
    h.send_text(302, "", Location=query["to"][0])


def _endless(h: _Handler, query: dict) -> None:
    """A chunked body that never ends; stops when the client goes away."""
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"all work and no play " * 400
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    try:
        while not h.server.stopping.is_set():
            h.wfile.write(frame)
    except OSError:
        pass
    h.close_connection = True


def _flaky(h: _Handler, query: dict) -> None:
    """Fails the first request for each path, succeeds after."""
    with h.server.lock:
        count = h.server.counters.get(h.path, 0)
        h.server.counters[h.path] = count + 1
    if count == 0:
        h.send_text(503, "warming up")
    else:
        h.send_text(200, "ready")


def _echo(h: _Handler, query: dict) -> None:
    """Echoes the request's headers as JSON (so tests can see what was sent) with status ?status=."""
    status = int(query.get("status", ["200"])[0])
    h.send_text(status, json.dumps({"headers": dict(h.headers), "path": h.path}), "application/json")


_ROUTES: dict[str, Callable[[_Handler, dict], None]] = {
    "/ok": _ok,
    "/slow": _slow,
    "/json": _json,
    "/reset": _reset,
    "/hang": _hang,
    "/redirect": _redirect,
    "/endless": _endless,
}
_PREFIX_ROUTES: dict[str, Callable[[_Handler, dict], None]] = {
    "/status/": _status,
    "/loop/": _loop,
    "/flaky/": _flaky,
    "/echo": _echo,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 50 concurrent checks must not overflow the accept queue

    def __init__(self, context: ssl.SSLContext | None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.counters: dict[str, int] = {}
        self.requests: list[str] = []
        if context is not None:
            # The handshake happens in the handler thread, so a bad client cannot stall accept().
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed handshakes and dropped clients are expected here


class HttpServer:
    def __init__(self, context: ssl.SSLContext | None = None):
        self._server = _Server(context)
        self.port = self._server.server_address[1]
        self.scheme = "https" if context is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/ok", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def requests(self) -> list[str]:
        return self._server.requests

    def close(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def serving(context: ssl.SSLContext | None = None) -> Iterator[HttpServer]:
    server = HttpServer(context)
    try:
        yield server
    finally:
        server.close()


# ---------------------------------------------------------------- certificates


class Certificates:
    """A private test CA and server contexts with good and bad certificates for 127.0.0.1."""

    def __init__(self, directory: Path):
        self.ca = trustme.CA()
        self.ca_file = str(directory / "test-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)

    def context(self, cert: trustme.LeafCert) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        return context

    def valid(self) -> ssl.SSLContext:
        return self.context(self.ca.issue_cert("127.0.0.1", "localhost"))

    def expiring_in(self, days: float) -> ssl.SSLContext:
        now = datetime.now(timezone.utc)
        return self.context(
            self.ca.issue_cert("127.0.0.1", "localhost", not_before=now - timedelta(days=30), not_after=now + timedelta(days=days))
        )

    def expired(self) -> ssl.SSLContext:
        return self.expiring_in(-2)

    def wrong_host(self) -> ssl.SSLContext:
        return self.context(self.ca.issue_cert("wrong.example"))

    def self_signed(self) -> ssl.SSLContext:
        # A fresh CA's own certificate is self-signed; serving it alone makes a depth-zero self-signed chain.
        stranger = trustme.CA()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with stranger.cert_pem.tempfile() as cert, stranger.private_key_pem.tempfile() as key:
            context.load_cert_chain(cert, key)
        return context


# ---------------------------------------------------------------- DNS


class DnsServer:
    """A tiny authoritative-ish UDP server for zone "test.":

    ok.test A 192.0.2.1 and 192.0.2.2; v6.test AAAA 2001:db8::1; mail.test MX; txt.test TXT;
    alias.test CNAME; missing.test NXDOMAIN; broken.test SERVFAIL; silent.test never answers;
    empty.test exists without the asked record type.
    """

    RECORDS = {
        ("ok.test.", "A"): ["192.0.2.1", "192.0.2.2"],
        ("v6.test.", "AAAA"): ["2001:db8::1"],
        ("mail.test.", "MX"): ["10 mx1.test.", "20 mx2.test."],
        ("txt.test.", "TXT"): ['"v=spf1 -all"'],
        ("alias.test.", "CNAME"): ["ok.test."],
        ("empty.test.", "A"): [],
    }

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.queries: list[str] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                data, client = self.socket.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            reply = self._answer(data)
            if reply is not None:
                self.socket.sendto(reply, client)

    def _answer(self, data: bytes) -> bytes | None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append(f"{name} {rdtype}")
        if name == "silent.test.":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name == "broken.test.":
            response.set_rcode(dns.rcode.SERVFAIL)
        elif (name, rdtype) in self.RECORDS:
            values = self.RECORDS[(name, rdtype)]
            if values:
                response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", rdtype, values))
        elif not any(known == name for known, _ in self.RECORDS):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(1)
        self.socket.close()


# ---------------------------------------------------------------- TCP


@contextlib.contextmanager
def udp_responder(answer: Callable[[bytes], bytes | None]) -> Iterator[int]:
    """A UDP server on 127.0.0.1 that sends each datagram's `answer` back (none where it is
    None); yields its port."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            reply = answer(data)
            if reply is not None:
                sock.sendto(reply, self.client_address)

    server = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def filtered_port() -> Iterator[int]:
    """A port where new connections get no answer at all, as behind a dropping firewall.

    Loopback cannot drop packets, but Linux drops SYNs for a listener whose accept queue is full,
    so a socket that listens with backlog 0, never accepts, and has its queue filled does the job.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.05)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpServer]:
    with serving() as server:
        yield server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


# ---------------------------------------------------------------- running checks


def spec_from(raw: object):
    """A CheckSpec from a site.yaml-like dict; fails the test if it has problems."""
    from generator.checks import parse_check

    problems: list[tuple[tuple, str]] = []
    spec = parse_check(raw, lambda path, message: problems.append((path, message)))
    assert spec is not None and not problems, problems
    return spec


def run_one(raw: object, env: dict[str, str] | None = None, component: str = "component"):
    """Parse and run a single check, as the build would; returns its CheckResult."""
    from generator.checks import run_checks_sync

    [result] = run_checks_sync([(component, spec_from(raw))], location="test", env=env if env is not None else {})
    return result
