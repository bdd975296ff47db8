"""SSH checks: the server's banner (`SSH-2.0-...`), and, with `expect: {fingerprint: SHA256:...}`,
its host key's fingerprint, read through a key exchange (asyncssh) without logging in."""

from __future__ import annotations

import asyncio
import time

from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, clip, down
from generator.checks.spec import SshCheck
from generator.checks.tcp import Stage, close_quietly, open_tcp, timeout_message


async def probe_ssh(spec: SshCheck, clients: object = None) -> Outcome:
    stage = Stage()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout):
            connection = await open_tcp(spec.host, spec.port, stage)
            try:
                stage.current = "banner"
                line = await connection.reader.readline()
            finally:
                await close_quietly(connection.writer)
            banner = line.decode("utf-8", errors="replace").strip()
            if not banner.startswith("SSH-"):
                return _timed(down("banner_mismatch", f"{spec.host}:{spec.port} answered {clip(banner, 60)!r}, not an SSH "
                                                      "banner"), started, banner)
            if spec.expect_banner is not None and spec.expect_banner.lower() not in banner.lower():
                return _timed(down("banner_mismatch", f"the banner {clip(banner, 60)!r} does not contain "
                                                      f"{spec.expect_banner!r}"), started, banner)
            if spec.expect_fingerprint is None:
                return _timed(Outcome("up", "ok", clip(banner, 80)), started, banner)
            stage.current = "key exchange"
            # Imported here: only sites that pin a host key pay for it.
            import asyncssh  # not at the top: 135 ms of imports, paid only here

            key = await asyncssh.get_server_host_key(spec.host, spec.port)
    except TimeoutError:
        return _timed(down("timeout", timeout_message(stage, spec.host, spec.port, spec.timeout)
                           if stage.current in ("dns", "connect") else
                           f"{spec.host}:{spec.port} sent no {stage.current} within {spec.timeout:g}s"), started)
    except OSError as exc:
        return _timed(down(*classify_connection_error(exc, spec.host, spec.port)), started)
    except Exception as exc:  # asyncssh's own errors: a failed key exchange is the server's answer
        return _timed(down("ssh_error", f"key exchange with {spec.host}:{spec.port} failed: {exc}"), started)
    fingerprint = key.get_fingerprint("sha256") if key is not None else None
    if fingerprint != spec.expect_fingerprint:
        return _timed(down("fingerprint_mismatch", f"host key {fingerprint} is not the expected "
                                                   f"{spec.expect_fingerprint}"), started, banner, fingerprint)
    return _timed(Outcome("up", "ok", f"{clip(banner, 60)}, host key {fingerprint}"), started, banner, fingerprint)


def _timed(outcome: Outcome, started: float, banner: str | None = None, fingerprint: str | None = None) -> Outcome:
    details = dict(outcome.details)
    if banner:
        details["banner"] = clip(banner, 120)
    if fingerprint:
        details["fingerprint"] = fingerprint
    return Outcome(outcome.status, outcome.reason, outcome.message, round((time.perf_counter() - started) * 1000, 1),
                   details)
