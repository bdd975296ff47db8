"""DNS checks with dnspython: does the name resolve, and to the expected values?"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.reversename

from generator.checks.errors import short_error
from generator.checks.result import Outcome, down
from generator.checks.spec import DnsCheck, parse_nameserver

# Per-query wait before dnspython asks again; a lost UDP packet should not cost the whole timeout.
MAX_QUERY_TIMEOUT = 2.0


async def probe_dns(spec: DnsCheck, clients: object = None) -> Outcome:
    try:
        resolver, server = _resolver(spec)
    except (ValueError, dns.exception.DNSException, OSError) as exc:
        return down("error", f"cannot set up the resolver: {short_error(exc)}")
    query_name = _query_name(spec)
    started = time.perf_counter()
    outcome = await _resolve(resolver, query_name, spec, server)
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return Outcome(outcome.status, outcome.reason, outcome.message, latency_ms, {"nameserver": server, **outcome.details})


def _resolver(spec: DnsCheck) -> tuple[dns.asyncresolver.Resolver, str]:
    if spec.nameserver is None:
        resolver = dns.asyncresolver.Resolver()  # reads /etc/resolv.conf
        server = "system"
    else:
        ip, port = parse_nameserver(spec.nameserver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ip, port)]
        server = spec.nameserver
    resolver.lifetime = spec.timeout
    resolver.timeout = min(spec.timeout, MAX_QUERY_TIMEOUT)
    resolver.cache = None
    return resolver, server


def _query_name(spec: DnsCheck) -> str:
    if spec.record == "PTR":
        try:
            return dns.reversename.from_address(spec.name).to_text()  # PTR checks may name the IP itself
        except (ValueError, dns.exception.SyntaxError):
            pass
    return spec.name


async def _resolve(resolver: dns.asyncresolver.Resolver, name: str, spec: DnsCheck, server: str) -> Outcome:
    record = spec.record
    try:
        answer = await resolver.resolve(name, record, search=False)
    except dns.resolver.NXDOMAIN:
        return down("dns_nxdomain", f"{spec.name} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return down("dns_no_answer", f"{spec.name} has no {record} records")
    except dns.resolver.LifetimeTimeout:
        where = "the system resolver" if server == "system" else server
        return down("dns_timeout", f"no answer from {where} within {spec.timeout:g}s")
    except dns.resolver.NoNameservers as exc:
        answers = "; ".join(str(error[3]) for error in exc.kwargs.get("errors") or [])
        refused = "REFUSED" in answers
        what = "refused the query" if refused else "failed to answer (SERVFAIL)"
        return down("dns_servfail", f"nameserver {what} for {spec.name} {record}")
    except dns.exception.DNSException as exc:
        return down("error", f"DNS lookup of {spec.name} failed: {short_error(exc)}")

    values = sorted(display_value(rdata) for rdata in answer)  # answer order varies; history should not
    details: dict[str, Any] = {"values": values, "ttl": answer.rrset.ttl if answer.rrset is not None else None}
    forms = set().union(*(comparable_forms(rdata) for rdata in answer))
    missing = [expected for expected in spec.expect if normalize(expected) not in forms]
    if missing:
        return down(
            "dns_mismatch",
            f"{spec.name} {record} is {_list(values)}; missing {_list(missing)}",
            **details,
        )
    return Outcome("up", "ok", f"{record} {_list(values)}", details=details)


def normalize(value: str) -> str:
    """Case, trailing dots, TXT quotes and IPv6 spelling do not matter when comparing answers."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    text = text.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def comparable_forms(rdata: Any) -> set[str]:
    """An answer matches an expected value written in full ("10 mx.example.com") or as its target alone."""
    forms = {normalize(rdata.to_text()), normalize(display_value(rdata))}
    for attribute in ("target", "exchange", "value"):
        part = getattr(rdata, attribute, None)
        if part is not None:
            forms.add(normalize(part.decode() if isinstance(part, bytes) else str(part)))
    return forms


def display_value(rdata: Any) -> str:
    if rdata.rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode(errors="replace")
    return rdata.to_text().rstrip(".")


def _list(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")
