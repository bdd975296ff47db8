"""Probes that tell whether a component is up: http, tcp, dns and tls checks.

    spec = parse_check({"type": "http", "url": "https://example.com"}, report)
    results = run_checks_sync([("Website", spec)], location="github-actions")

Behaviour worth knowing:

- Every check yields a CheckResult; nothing raises out of the runner (bugs become down/error).
- A down result is retried `retries` times, 0.3 s apart; degraded results are not retried.
  details["attempts"] is recorded when more than one attempt was made.
- `degraded_after` (any type) turns a slow "up" into degraded/slow.
- http: redirects are followed by hand (at most 20; revisiting a URL twice is a loop) so that
  redirect bodies are never read. A redirect to another origin (scheme, host or port) drops
  Authorization, Proxy-Authorization, Cookie and every header whose value has a ${NAME}.
  The body is read up to `max_body` and body expectations are matched against that prefix;
  only if one fails on a cut-off body is the result down/body_too_large. Without expectations
  an oversized body is simply truncated.
- http: `ca_file` adds certificates to the usual trust store (certifi or SSL_CERT_FILE).
  With `verify_tls: false` certificates are not judged at all, but their expiry is still recorded.
  Timing phases: connect (including DNS), tls, ttfb (request sent to headers received), body.
- ${NAME} references are expanded from `env` (default os.environ) when the check runs; a missing
  variable gives down/secret_missing. Expanded values (in any letter case, escaped, encoded or
  clipped; see secrets.Redactor), URL userinfo and query values never appear in results.
"""

from generator.checks.result import CheckResult
from generator.checks.secrets import Redactor, redact_url
from generator.checks.spec import CheckSpec, DnsCheck, HttpCheck, TcpCheck, TlsCheck, parse_check, parse_duration, parse_size


def __getattr__(name: str):
    # The runner pulls in httpx and dnspython (about 0.15 s); `build` reads check specs and
    # results but never runs a check, so the runner is imported only when asked for.
    if name in ("run_checks", "run_checks_sync"):
        from generator.checks import runner  # not at the top: 182 ms of imports, paid only here
        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CheckResult",
    "CheckSpec",
    "DnsCheck",
    "HttpCheck",
    "Redactor",
    "TcpCheck",
    "TlsCheck",
    "parse_check",
    "parse_duration",
    "parse_size",
    "redact_url",
    "run_checks",
    "run_checks_sync",
]
