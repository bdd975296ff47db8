"""Runs many checks concurrently; every check yields a result, whatever happens to it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import traceback
from dataclasses import replace
from datetime import datetime
from typing import Awaitable, Callable, Mapping

from generator.checks.dns import probe_dns
from generator.checks.errors import short_error
from generator.checks.http import HttpClients, probe_http
from generator.checks.result import DEGRADED, DOWN, UP, CheckResult, Outcome, down
from generator.checks.secrets import MissingSecret, Redactor, expand_spec, has_references, secret_header_names, spec_strings
from generator.checks.spec import CheckSpec, HttpCheck
from generator.checks.tcp import probe_tcp
from generator.checks.tls import probe_tls
from generator.checks.udp import probe_udp
from generator.checks.mail import probe_mail
from generator.checks.grpc_health import probe_grpc
from generator.checks.ping import probe_ping
from generator.checks.ssh import probe_ssh
from generator.checks.websocket import probe_websocket
from generator.checks.spec import MAIL_TYPES
from generator.site.times import clock_now

logger = logging.getLogger(__name__)

RETRY_PAUSE = 0.3  # seconds between attempts: long enough for a blip to pass, short enough to keep runs fast
# Probes enforce their own timeout; this margin only catches a probe that fails to.
SAFETY_MARGIN = 1.0

_PROBES: dict[str, Callable[[CheckSpec, HttpClients], Awaitable[Outcome]]] = {
    "http": probe_http,  # type: ignore[dict-item]
    "tcp": probe_tcp,  # type: ignore[dict-item]
    "dns": probe_dns,  # type: ignore[dict-item]
    "tls": probe_tls,  # type: ignore[dict-item]
    "udp": probe_udp,  # type: ignore[dict-item]
    **{kind: probe_mail for kind in MAIL_TYPES},  # type: ignore[dict-item]
    "ping": probe_ping,  # type: ignore[dict-item]
    "websocket": probe_websocket,  # type: ignore[dict-item]
    "ssh": probe_ssh,  # type: ignore[dict-item]
    "grpc": probe_grpc,  # type: ignore[dict-item]
}


async def run_checks(
    targets: list[tuple[str, CheckSpec]],
    *,
    location: str,
    concurrency: int = 50,
    env: Mapping[str, str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check every (component, spec) concurrently; results come back in the order of targets.

    At most `concurrency` attempts are in flight at once. `env` supplies ${NAME} values (default
    os.environ). `on_result` is called as each result is ready; an exception from it is logged,
    not raised, so one bad callback cannot lose the other results.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    environment = os.environ if env is None else env
    semaphore = asyncio.Semaphore(concurrency)
    clients = HttpClients(concurrency)

    async def run_one(component: str, spec: CheckSpec) -> CheckResult:
        result = await run_target(component, spec, location=location, env=environment, semaphore=semaphore, clients=clients)
        if on_result is not None:
            try:
                on_result(result)
            except Exception:
                logger.exception("on_result callback failed for %s", component)
        return result

    try:
        return list(await asyncio.gather(*(run_one(component, spec) for component, spec in targets)))
    finally:
        await clients.aclose()


def run_checks_sync(
    targets: list[tuple[str, CheckSpec]],
    *,
    location: str,
    concurrency: int = 50,
    env: Mapping[str, str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    run = run_checks(targets, location=location, concurrency=concurrency, env=env, on_result=on_result)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run)
    # Called from code that already runs an event loop (a notebook, a test harness): asyncio.run
    # refuses to nest, so the run gets a thread and a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run).result()


async def run_target(
    component: str,
    spec: CheckSpec,
    *,
    location: str,
    env: Mapping[str, str],
    semaphore: asyncio.Semaphore,
    clients: HttpClients,
) -> CheckResult:
    """One check with retries, as a redacted result. Never raises (except for cancellation)."""
    started_at = _now_ms()
    redactor = Redactor()
    try:
        expanded, secrets = expand_spec(spec, env)
        redactor = Redactor(secrets, spec_strings(expanded))
        if isinstance(spec, HttpCheck):
            expanded = replace(expanded, secret_headers=secret_header_names(spec.headers),
                               secret_body=spec.body is not None and has_references(spec.body))
        outcome = await _with_retries(expanded, semaphore, clients, redactor)
    except MissingSecret as exc:
        outcome = down("secret_missing", str(exc), missing=exc.names)
    except Exception as exc:  # a bug in a probe must not cost the other checks their results
        # Redacted by hand: a traceback's messages may carry the expanded values.
        logger.debug("check %s failed unexpectedly: %s", component,
                     redactor.text("".join(traceback.format_exception(exc))))
        outcome = down("error", f"unexpected error: {exc.__class__.__name__}: {short_error(exc)}")
    return CheckResult(
        component=component,
        time=started_at,
        status=outcome.status,
        reason=outcome.reason,
        message=redactor.text(outcome.message),
        latency_ms=outcome.latency_ms,
        location=location,
        details=redactor.value(outcome.details),
    )


async def _with_retries(
    spec: CheckSpec, semaphore: asyncio.Semaphore, clients: HttpClients, redactor: Redactor
) -> Outcome:
    """Retry only 'down': a slow or expiring service is not fixed by asking again."""
    attempts = 0
    while True:
        attempts += 1
        async with semaphore:
            outcome = await attempt(spec, clients, redactor)
        if outcome.status != DOWN or attempts > spec.retries:
            break
        await asyncio.sleep(RETRY_PAUSE)
    outcome = apply_degraded_after(outcome, spec.degraded_after)
    if attempts > 1:
        outcome = replace(outcome, details={**outcome.details, "attempts": attempts})
    return outcome


async def attempt(spec: CheckSpec, clients: HttpClients, redactor: Redactor | None = None) -> Outcome:
    """One try of one check; unexpected exceptions become down/error."""
    try:
        async with asyncio.timeout(spec.timeout + SAFETY_MARGIN):
            return await _PROBES[spec.type](spec, clients)
    except TimeoutError:
        return down("timeout", f"no result within {spec.timeout:g}s")
    except Exception as exc:
        # Redacted by hand: a traceback's messages may carry the expanded values.
        logger.debug("%s check raised: %s", spec.type, (redactor or Redactor()).text("".join(traceback.format_exception(exc))))
        return down("error", f"unexpected error: {exc.__class__.__name__}: {short_error(exc)}")


def apply_degraded_after(outcome: Outcome, degraded_after: float | None) -> Outcome:
    if degraded_after is None or outcome.latency_ms is None or outcome.status == DOWN:
        return outcome
    if outcome.latency_ms <= degraded_after * 1000:
        return outcome
    slow = f"slow: {outcome.latency_ms / 1000:.2f}s (degraded after {degraded_after:g}s)"
    if outcome.status == DEGRADED:  # already degraded for a reason that outlasts one slow answer
        return replace(outcome, message=f"{outcome.message}; {slow}", details={**outcome.details, "slow": True})
    assert outcome.status == UP
    return replace(outcome, status=DEGRADED, reason="slow", message=slow)


def _now_ms() -> datetime:
    now = clock_now()  # HELIOGRAPH_NOW lets tests stamp results on simulated days
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # history stores milliseconds
