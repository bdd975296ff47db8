"""ping, websocket and ssh checks (issue #21 part 4) against real things on 127.0.0.1: ICMP to
the loopback, a websockets echo server, and an asyncssh server with a generated host key."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path

import pytest
from checkservers import run_one
from clirun import invoke
from conftest import write_site
from servers import static_server

# --- ping -------------------------------------------------------------------------------------


def _unprivileged_icmp_allowed() -> bool:
    """Whether Linux lets this process's group open ICMP datagram sockets (ping_group_range)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except (OSError, ValueError):
        return True  # not Linux: macOS allows them
    return any(low <= group <= high for group in (os.getgid(), *os.getgroups()))


def _raw_sockets_allowed() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(os.name == "nt", reason="ICMP sockets differ on Windows")
def test_ping_the_loopback_or_say_it_is_not_permitted():
    result = run_one({"type": "ping", "host": "127.0.0.1", "count": 2, "timeout": "3s", "retries": 0})
    if _unprivileged_icmp_allowed() or _raw_sockets_allowed():
        assert (result.status, result.reason) == ("up", "ok"), result.message
        assert result.details["sent"] == 2 and result.details["received"] == 2 and result.details["loss"] == 0
        assert result.latency_ms is not None and "echo replies from 127.0.0.1" in result.message
    else:
        assert (result.status, result.reason) == ("down", "ping_not_permitted")


@pytest.mark.skipif(os.name == "nt", reason="ICMP sockets differ on Windows")
def test_privileged_false_uses_only_unprivileged_icmp_sockets():
    result = run_one({"type": "ping", "host": "127.0.0.1", "count": 1, "privileged": False, "timeout": "3s",
                      "retries": 0})
    if _unprivileged_icmp_allowed():
        assert result.status == "up", result.message
    else:  # this machine's ping_group_range forbids them: the reason says so, and how to allow it
        assert (result.status, result.reason) == ("down", "ping_not_permitted")
        assert "ping_group_range" in result.message and "privileged: false" in result.message


# --- websocket --------------------------------------------------------------------------------


@pytest.fixture
def echo_socket():
    import websockets

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def echo(connection) -> None:
        async for message in connection:
            await connection.send(f"echo: {message}")

    async def main() -> None:
        async with websockets.serve(echo, "127.0.0.1", 0) as server:
            state["port"] = server.sockets[0].getsockname()[1]
            state["stop"] = asyncio.Event()
            ready.set()
            await state["stop"].wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"ws://127.0.0.1:{state['port']}/"
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(10)


def test_websocket_send_and_expect(echo_socket):
    result = run_one({"type": "websocket", "url": echo_socket, "send": "ping", "expect": {"contains": "echo: ping"}})
    assert (result.status, result.reason) == ("up", "ok"), result.message
    assert run_one({"type": "websocket", "url": echo_socket}).status == "up"  # the handshake alone
    wrong = run_one({"type": "websocket", "url": echo_socket, "send": "ping", "expect": {"regex": "^pong"},
                     "retries": 0})
    assert (wrong.status, wrong.reason) == ("down", "message_mismatch") and "'echo: ping'" in wrong.message


def test_websocket_refused_and_not_a_websocket(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = run_one({"type": "websocket", "url": f"ws://127.0.0.1:{closed}/", "retries": 0, "timeout": "3s"})
    assert (refused.status, refused.reason) == ("down", "connect_refused")
    (tmp_path / "index.html").write_text("a page")
    with static_server(tmp_path) as url:
        plain = run_one({"type": "websocket", "url": url.replace("http://", "ws://") + "/", "retries": 0})
    assert plain.status == "down" and plain.reason.startswith(("status_", "websocket_error")), plain.reason


# --- ssh --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ssh_server():
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def main() -> None:
        server = await asyncssh.create_server(asyncssh.SSHServer, "127.0.0.1", 0, server_host_keys=[key],
                                              server_version="HeliographTest_1.0")
        state["port"] = server.sockets[0].getsockname()[1]
        state["stop"] = asyncio.Event()
        ready.set()
        await state["stop"].wait()
        server.close()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield state["port"], key.get_fingerprint("sha256")
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(10)


def test_ssh_banner_and_host_key_fingerprint(ssh_server):
    port, fingerprint = ssh_server
    banner = run_one({"type": "ssh", "host": "127.0.0.1", "port": port, "expect": {"banner": "heliographtest"}})
    assert (banner.status, banner.reason) == ("up", "ok") and banner.details["banner"].startswith("SSH-2.0-")
    pinned = run_one({"type": "ssh", "host": "127.0.0.1", "port": port, "expect": {"fingerprint": fingerprint}})
    assert (pinned.status, pinned.reason) == ("up", "ok"), pinned.message
    assert pinned.details["fingerprint"] == fingerprint
    other = "SHA256:" + "A" * 43
    wrong = run_one({"type": "ssh", "host": "127.0.0.1", "port": port, "expect": {"fingerprint": other}, "retries": 0})
    assert (wrong.status, wrong.reason) == ("down", "fingerprint_mismatch") and fingerprint in wrong.message


def test_ssh_against_something_else(tmp_path):
    (tmp_path / "index.html").write_text("a page")
    with static_server(tmp_path) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        result = run_one({"type": "ssh", "host": "127.0.0.1", "port": port, "timeout": "2s", "retries": 0})
    assert result.status == "down" and result.reason in ("banner_mismatch", "timeout"), result.message


# --- validation -------------------------------------------------------------------------------


def test_ping_websocket_and_ssh_keys_are_validated_with_their_place(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://s.example/\"}\ncomponents:\n"
                                         "  - id: a\n    name: A\n"
                                         "    check: {type: ping, host: 10.0.0.1, cout: 3, privileged: maybe}\n"
                                         "  - id: b\n    name: B\n"
                                         "    check: {type: websocket, url: \"http://x.example/\", expect: {contians: x}}\n"
                                         "  - id: c\n    name: C\n"
                                         "    check: {type: ssh, host: h.example, expect: {fingerprint: \"MD5:aa\"}}\n")
    ran = invoke("--site", str(site), "validate")
    assert ran.code == 1 and "Traceback" not in ran.stderr
    errors = ran.stderr.replace("'", '"')
    assert "site.yaml:5:41: error:" in errors and 'did you mean "count"' in errors
    assert "site.yaml:5:62: error: privileged must be auto" in errors
    assert "site.yaml:8:35: error:" in errors and "must start with ws:// or wss://" in errors
    assert "site.yaml:8:65: error:" in errors and 'did you mean "contains"' in errors
    assert "site.yaml:11:63: error:" in errors and "ssh-keygen -lf" in errors
