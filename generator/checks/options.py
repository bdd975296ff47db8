"""The keys of each check type, declared for `heliograph schema`.

The types and which keys each allows or needs come from spec.py's own tables (CHECK_TYPES,
ALLOWED_KEYS, REQUIRED_KEYS, HTTP_EXPECT_KEYS), and defaults and bounds from its constants, so a
new check type is described here by one declaration per key it adds. A key spec.py allows that
has no declaration yet is still accepted by the schema (as any value), never rejected.
"""

from __future__ import annotations

from dataclasses import replace

from generator.checks.spec import (
    ALLOWED_KEYS, CHECK_TYPES, COMMON_OPTIONS, DEFAULT_MAX_BODY, DEFAULT_MAX_REDIRECTS, DEFAULT_WARN_DAYS, DNS_RECORDS,
    HTTP_EXPECT_KEYS,
    HTTP_METHODS, REQUIRED_KEYS,
)
from generator.site.options import Option

PORT = Option("port", "integer", "The TCP port.", minimum=1, maximum=65535)

# A key's meaning is the same in every type that has it, except where TYPE_KEYS says otherwise.
KEYS: dict[str, Option] = {option.name: option for option in (
    *COMMON_OPTIONS.values(),
    Option("type", "choice", "What kind of check: " + ", ".join(CHECK_TYPES) + ".", choices=CHECK_TYPES, folded=True),
    Option("url", "string", "The http(s) URL to request; ${NAME} reads a secret from the environment."),
    Option("method", "choice", "The HTTP method.", default="GET", choices=HTTP_METHODS, folded=True),
    Option("headers", "mapping", "Request headers: name -> text."),
    Option("body", "any", "The request body: text, or a mapping sent as JSON (not with GET or HEAD)."),
    Option("follow_redirects", "boolean", "Follow redirects.", default=True),
    Option("max_redirects", "integer", "The most redirects followed; more is down (too_many_redirects).",
           default=DEFAULT_MAX_REDIRECTS, minimum=0, maximum=50),
    Option("expect", "mapping", "What a good answer looks like: " + ", ".join(HTTP_EXPECT_KEYS) + "."),
    Option("verify_tls", "boolean", "Check the server's certificate.", default=True),
    Option("tls_warn_days", "integer", "Warn this many days before the certificate expires.",
           default=DEFAULT_WARN_DAYS, minimum=0, maximum=3650),
    Option("max_body", "size", "The most of the answer that is read, e.g. 64KB or 1MB.", default=DEFAULT_MAX_BODY),
    Option("ca_file", "string", "Extra CA certificates (PEM) to trust, for private CAs."),
    Option("host", "string", "A host name or IP address, without scheme or port."),
    PORT,
    Option("name", "string", "The domain name to resolve, e.g. example.com."),
    Option("record", "choice", "The DNS record type.", default="A", choices=DNS_RECORDS, folded=True),
    Option("nameserver", "string", 'The server to ask: "ip", "ip:port" or "[v6]:port"; default: the system resolver.'),
    Option("warn_days", "integer", "Warn this many days before the certificate expires.",
           default=DEFAULT_WARN_DAYS, minimum=0, maximum=3650),
    Option("every", "duration", "How often the job reports with `heliograph beat`."),
    Option("send", "string", "udp: the text sent (UTF-8); ${NAME} reads a secret from the environment."),
    Option("send_hex", "string", 'udp: bytes sent, written as hex, e.g. "deadbeef".'),
    Option("count", "integer", "ping: echo requests sent.", default=3, minimum=1, maximum=20),
    Option("privileged", "any", "ping: auto (unprivileged ICMP sockets where the OS allows, else raw sockets) "
           "or false (never raw sockets).", default="auto"),
    Option("tls", "choice", "smtp, imap, pop3: starttls (upgrade after the greeting), implicit (TLS from the first "
           "byte) or none.", default="starttls", choices=("starttls", "implicit", "none"), folded=True),
    Option("grace", "duration", "How late a beat may be before the component is down.", default=0.0),
)}

TYPE_KEYS: dict[tuple[str, str], Option] = {
    ("dns", "expect"): Option("expect", "list", "Answers that must all be among the records returned."),
    ("tls", "port"): replace(PORT, default=443),
    ("tls", "expect"): Option("expect", "mapping", "certificate: what the certificate must hold (issuer, subject, "
                              "names, min_days, fingerprint)."),
    ("udp", "expect"): Option("expect", "mapping", "What a good reply holds: contains (text), regex."),
    ("websocket", "expect"): Option("expect", "mapping", "What the first message holds: contains (text), regex."),
    ("websocket", "url"): Option("url", "string", "The ws:// or wss:// URL."),
    ("websocket", "send"): Option("send", "string", "A message sent first; ${NAME} reads a secret."),
    ("ssh", "expect"): Option("expect", "mapping", 'What the server shows: banner (text), fingerprint '
                              '("SHA256:..." as ssh-keygen -lf prints it).'),
    ("ssh", "port"): replace(PORT, default=22),
    ("grpc", "tls"): Option("tls", "boolean", "Speak TLS (with the certificate verified), not plaintext.", default=False),
    ("grpc", "service"): Option("service", "string", 'The service to ask about; "" (the default) asks about the server.',
                                default=""),
    **{(kind, "expect"): Option("expect", "mapping", "What a good greeting holds: banner (text, any case).")
       for kind in ("smtp", "imap", "pop3")},
    **{(kind, "port"): replace(PORT, description="The port; by default the well-known one for the type and tls "
                                                 "(smtp 587/465/25, imap 143/993, pop3 110/995).")
       for kind in ("smtp", "imap", "pop3")},
}

HTTP_EXPECT: tuple[Option, ...] = tuple(
    {
        "status": Option("status", "any", 'Good status codes: 200, "2xx", "200-299" or a list of them.'),
        "body_contains": Option("body_contains", "string", "Text the answer must contain."),
        "body_not_contains": Option("body_not_contains", "string", "Text the answer must not contain."),
        "headers": Option("headers", "mapping", "Answer headers (any case) and text each value must contain."),
        "certificate": Option("certificate", "mapping", "What the certificate must hold: issuer, subject (text), "
                              "names (DNS names), min_days, fingerprint (SHA-256)."),
        "body_regex": Option("body_regex", "string", "A regular expression the answer must match."),
        "json": Option("json", "mapping", 'Values at JSON paths (a.b.0.c) the answer must have; "< 1000", '
                       '">= 1", "!= error" compare instead.'),
    }.get(key, Option(key, "any", "")) for key in HTTP_EXPECT_KEYS)


def check_options(kind: str) -> tuple[Option, ...]:
    """Every key a check of this type allows, marked required where spec.py requires it."""
    found = []
    for key in ALLOWED_KEYS[kind]:
        option = TYPE_KEYS.get((kind, key)) or KEYS.get(key) or Option(key, "any", "")
        if key == "type":
            option = replace(option, choices=(kind,))
        found.append(replace(option, required=key in REQUIRED_KEYS.get(kind, ())))
    return tuple(found)
