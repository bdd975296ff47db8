"""udp, smtp, imap and pop3 checks (issue #21 part 4) against real servers on 127.0.0.1: a UDP
echo server, aiosmtpd with STARTTLS, and small IMAP and POP3 servers speaking the few commands a
check sends (greeting, STARTTLS or STLS, LOGOUT or QUIT), with certificates from trustme."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import trustme
from checkservers import run_one, udp_responder
from clirun import invoke
from conftest import write_site

# --- udp --------------------------------------------------------------------------------------


@pytest.fixture
def udp_echo():
    with udp_responder(lambda data: None if data == b"be quiet" else b"pong: " + data) as port:
        yield port


def test_a_udp_reply_is_up_and_matched(udp_echo):
    result = run_one({"type": "udp", "host": "127.0.0.1", "port": udp_echo, "send": "ping",
                      "expect": {"contains": "pong", "regex": r"pong: \w+"}})
    assert (result.status, result.reason) == ("up", "ok") and result.details["reply_bytes"] == 10
    assert run_one({"type": "udp", "host": "127.0.0.1", "port": udp_echo, "send_hex": "70 69 6e 67",
                    "expect": {"contains": "pong: ping"}}).status == "up"
    wrong = run_one({"type": "udp", "host": "127.0.0.1", "port": udp_echo, "send": "ping",
                     "expect": {"contains": "PONG"}, "retries": 0})
    assert (wrong.status, wrong.reason) == ("down", "reply_mismatch") and "'pong: ping'" in wrong.message


def test_udp_silence_is_a_timeout_and_a_closed_port_is_refused(udp_echo):
    quiet = run_one({"type": "udp", "host": "127.0.0.1", "port": udp_echo, "send": "be quiet", "timeout": "300ms",
                     "retries": 0})
    assert (quiet.status, quiet.reason) == ("down", "timeout") and "no reply" in quiet.message
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = run_one({"type": "udp", "host": "127.0.0.1", "port": closed, "send": "x", "timeout": "2s", "retries": 0})
    assert refused.status == "down" and refused.reason in ("connect_refused", "timeout")


def test_a_secret_sent_over_udp_is_never_recorded(udp_echo):
    result = run_one({"type": "udp", "host": "127.0.0.1", "port": udp_echo, "send": "${TOKEN}",
                      "expect": {"contains": "nope"}, "retries": 0}, env={"TOKEN": "hunter2-s3cret"})
    assert result.status == "down" and "hunter2" not in result.message


# --- mail -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    soon = ca.issue_cert("127.0.0.1", not_after=datetime.now(timezone.utc) + timedelta(days=3))
    soon_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    soon.configure_cert(soon_context)
    return {"ca_file": str(ca_file), "context": context, "soon": soon_context}


class _LineServer:
    """A real asyncio server on 127.0.0.1 in a thread of its own, speaking IMAP or POP3's opening."""

    def __init__(self, kind: str, context: ssl.SSLContext, implicit: bool = False, offer_tls: bool = True):
        self.kind, self.context, self.implicit, self.offer_tls = kind, context, implicit, offer_tls
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.commands: list[str] = []
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(
            self._client, "127.0.0.1", 0, ssl=self.context if self.implicit else None))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        greeting = b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n" if self.kind == "imap" else b"+OK POP3 ready\r\n"
        writer.write(greeting)
        while line := await reader.readline():
            command = line.decode().strip()
            self.commands.append(command)
            upper = command.upper()
            if upper.endswith("STARTTLS") or upper == "STLS":
                tag = command.split()[0] if self.kind == "imap" else ""
                if not self.offer_tls:
                    writer.write(f"{tag} BAD no TLS here\r\n".encode() if tag else b"-ERR no TLS here\r\n")
                    continue
                writer.write(f"{tag} OK begin TLS\r\n".encode() if tag else b"+OK begin TLS\r\n")
                await writer.drain()
                await writer.start_tls(self.context)
            elif upper.endswith("LOGOUT") or upper == "QUIT":
                writer.write(b"* BYE\r\na2 OK bye\r\n" if self.kind == "imap" else b"+OK bye\r\n")
                await writer.drain()
                break
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.mark.parametrize("kind", ["imap", "pop3"])
def test_imap_and_pop3_with_starttls_and_implicit_tls(kind, certificates):
    plain = _LineServer(kind, certificates["context"])
    implicit = _LineServer(kind, certificates["context"], implicit=True)
    try:
        up = run_one({"type": kind, "host": "127.0.0.1", "port": plain.port, "ca_file": certificates["ca_file"]})
        assert (up.status, up.reason) == ("up", "ok") and "STARTTLS" in up.message, up.message
        assert up.details["tls_version"].startswith("TLS") and "days_left" in str(up.details) or "expires" in str(up.details)
        assert plain.commands[-1].upper().endswith(("LOGOUT", "QUIT"))  # and it said goodbye
        tls = run_one({"type": kind, "host": "127.0.0.1", "port": implicit.port, "tls": "implicit",
                       "ca_file": certificates["ca_file"]})
        assert (tls.status, tls.reason) == ("up", "ok"), tls.message
        untrusted = run_one({"type": kind, "host": "127.0.0.1", "port": plain.port, "retries": 0})
        assert untrusted.status == "down" and untrusted.reason.startswith("tls_")
        banner = run_one({"type": kind, "host": "127.0.0.1", "port": plain.port, "tls": "none",
                          "expect": {"banner": "exchange"}, "retries": 0})
        assert (banner.status, banner.reason) == ("down", "banner_mismatch")
    finally:
        plain.close()
        implicit.close()


def test_a_server_without_starttls_is_down(certificates):
    server = _LineServer("pop3", certificates["context"], offer_tls=False)
    try:
        result = run_one({"type": "pop3", "host": "127.0.0.1", "port": server.port, "retries": 0})
        assert (result.status, result.reason) == ("down", "starttls_refused")
        assert run_one({"type": "pop3", "host": "127.0.0.1", "port": server.port, "tls": "none"}).status == "up"
    finally:
        server.close()


def test_a_certificate_expiring_soon_is_degraded(certificates):
    server = _LineServer("imap", certificates["soon"], implicit=True)
    try:
        result = run_one({"type": "imap", "host": "127.0.0.1", "port": server.port, "tls": "implicit",
                          "ca_file": certificates["ca_file"], "warn_days": 14})
        assert (result.status, result.reason) == ("degraded", "tls_expiring"), result.message
    finally:
        server.close()


def test_smtp_with_starttls_against_aiosmtpd(certificates):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from receivers import free_port

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, tls_context=certificates["context"],
                            require_starttls=False, ident="ESMTP Heliograph-test")
    controller.start()
    try:
        result = run_one({"type": "smtp", "host": "127.0.0.1", "port": port, "ca_file": certificates["ca_file"],
                          "expect": {"banner": "esmtp"}})
        assert (result.status, result.reason) == ("up", "ok"), result.message
        assert "Heliograph-test" in result.details["banner"]
    finally:
        controller.stop()


def test_mail_keys_are_validated_with_their_place(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://s.example/\"}\ncomponents:\n"
                                         "  - id: mail\n    name: Mail\n    check:\n      type: imap\n"
                                         "      host: mail.example.com\n      tls: startls\n"
                                         "  - id: dns\n    name: DNS\n    check: {type: udp, host: 10.0.0.1, port: 53,"
                                         " send_hex: zz}\n")
    ran = invoke("--site", str(site), "validate")
    assert ran.code == 1
    assert "site.yaml:8:" in ran.stderr and 'tls "startls" is not one of starttls, implicit, none' in ran.stderr
    assert 'did you mean "starttls"' in ran.stderr.replace("'", '"')
    assert "site.yaml:11:" in ran.stderr and 'send_hex "zz" is not bytes written as hex' in ran.stderr
