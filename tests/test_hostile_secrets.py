"""Secrets in checks against hostile echoes and redirects.

A `${NAME}` value must not come back in any form through `heliograph check`: not lower-cased
in a host name, not percent-encoded in a redirect's URL, not JSON-escaped in a message, not as
base64 in a server's echo of basic auth, not IDNA-encoded in a DNS answer, not in part where a
message clips it; in the history, stdout, stderr or $GITHUB_OUTPUT. And a header carrying a
secret is not sent on to another origin when the check is redirected there, while a redirect
within the origin keeps it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import http.server
import json
import re
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, unquote_plus

import dns.message
import dns.rrset

from checkservers import run_one, udp_responder
from clirun import run
from conftest import write_site
from servers import http_server

# ---------------------------------------------------------------- finding a secret in any form


def _json_strings(text: str) -> str:
    """Every JSON string literal in text, unescaped."""
    found = []
    for literal in re.findall(r'"(?:[^"\\]|\\.)*"', text):
        try:
            found.append(json.loads(literal))
        except ValueError:
            continue
    return "\n".join(found)


def _base64_tokens(text: str) -> str:
    found = []
    for token in re.findall(r"[A-Za-z0-9+/_-]{8,}={0,2}", text):
        for alphabet in (None, b"-_"):
            padded = token + "=" * (-len(token) % 4)
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(base64.b64decode(padded, altchars=alphabet).decode("utf-8", errors="ignore"))
    return "\n".join(found)


def _idna_labels(text: str) -> str:
    found = []
    for label in re.findall(r"xn--[a-z0-9-]+", text, re.IGNORECASE):
        with contextlib.suppress(UnicodeError):
            found.append(label[4:].lower().encode("ascii").decode("punycode"))
    return "\n".join(found)


_DECODERS = (_json_strings, unquote, unquote_plus, _base64_tokens, _idna_labels)


def decodings(text: str) -> list[str]:
    """text, and text with any two of the decoders applied in turn."""
    once = [text] + [decode(text) for decode in _DECODERS]
    return once + [decode(step) for step in once[1:] for decode in _DECODERS]


def assert_no_form_of(secret: str, text: str) -> None:
    for decoded in decodings(text):
        assert secret.casefold() not in decoded.casefold(), f"secret found in:\n{text}"


# ---------------------------------------------------------------- running `heliograph check` as a user does


def check_everything(tmp_path: Path, checks: dict[str, dict], env: dict[str, str]) -> tuple[list[dict], str]:
    """Run `heliograph check --github-output` on a site with these checks (component id -> check);
    returns the history's records and everything the run left behind, as one text."""
    components = "\n".join(f"  - {{id: {name}, name: {name}, check: {json.dumps(check)}}}" for name, check in checks.items())
    root = write_site(tmp_path / "site", f'site: {{title: Secrets, base_url: "https://status.example/"}}\ncomponents:\n{components}\n')
    github_output = tmp_path / "github_output"
    ran = run("check", "--location", "here", "--github-output", cwd=root, env={**env, "GITHUB_OUTPUT": str(github_output)})
    assert ran.code == 0, ran.stderr
    shards = sorted(path for path in (root / "history").rglob("*") if path.is_file())
    records = [json.loads(line) for path in shards if path.suffix == ".jsonl" and "raw" in path.parts
               for line in path.read_text().splitlines()]  # the results (runs.jsonl is searched below too)
    everything = "\n".join([ran.stdout, ran.stderr, github_output.read_text(), *(path.read_text() for path in shards)])
    return records, everything


class _Site(http.server.BaseHTTPRequestHandler):
    """/hop/<rest> redirects to /gone/<rest>, which is not found; /echo answers with the request's
    headers as JSON (as httpbin does), /clipped-echo with the bearer token's first 20 characters
    and "..." in a header; anything else is 200 "all good"."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/hop/"):
            self._send(302, b"", Location="/gone/" + self.path[len("/hop/"):])
        elif self.path.startswith("/gone/"):
            self._send(404, b"not here")
        elif self.path == "/echo":
            self._send(200, json.dumps({"headers": dict(self.headers)}).encode(), **{"Content-Type": "application/json"})
        elif self.path == "/clipped-echo":  # the Authorization it got, cut short as some servers log a token
            self._send(200, b"all good", **{"X-Seen-Token": self.headers.get("Authorization", "")[7:27] + "..."})
        else:
            self._send(200, b"all good")

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


# ---------------------------------------------------------------- item 3: every form a secret takes


def test_a_secret_in_a_host_name_is_not_recorded_lower_cased(tmp_path):
    secret = "MixedCaseSecretHost"
    records, everything = check_everything(
        tmp_path, {"api": {"type": "http", "url": "http://${HOST}.invalid/", "timeout": "3s", "retries": 0}}, {"HOST": secret})
    assert_no_form_of(secret, everything)
    [record] = records
    assert record["s"] == "down"
    if record["r"] != "timeout":  # a machine whose resolver never answers says nothing of the host
        assert "${HOST}.invalid" in record["m"]  # still says which host failed


def test_a_secret_in_a_url_path_is_not_recorded_percent_encoded_after_a_redirect(tmp_path):
    secret = 'Pä th"Sec\\ret+x&y'
    with http_server(_Site) as base:
        records, everything = check_everything(
            tmp_path, {"api": {"type": "http", "url": base + "/hop/${PATH_TOKEN}", "retries": 0}}, {"PATH_TOKEN": secret})
    assert_no_form_of(secret, everything)
    [record] = records
    assert (record["s"], record["r"]) == ("down", "status_404")
    assert record["d"]["redirects"] == 1 and record["d"]["final_url"].startswith(base + "/gone/")


def test_a_secret_in_an_expectation_is_not_recorded_json_escaped(tmp_path):
    secret = 'jsön"Se\\cret/ok'
    with http_server(_Site) as base:
        records, everything = check_everything(tmp_path, {
            "text": {"type": "http", "url": base + "/", "retries": 0, "expect": {"body_contains": "${WORD}"}},
            "json": {"type": "http", "url": base + "/echo", "retries": 0, "expect": {"json": {"headers.Host": "${WORD}"}}},
        }, {"WORD": secret})
    assert_no_form_of(secret, everything)
    assert sorted((r["c"], r["r"]) for r in records) == [("json", "json_mismatch"), ("text", "body_mismatch")]


def test_a_secret_cut_short_by_a_clipped_message_is_not_recorded_in_part(tmp_path):
    secret = "Long-Secret-Value-0123456789-abcdefghijklmnop"
    with http_server(_Site) as base:
        records, everything = check_everything(tmp_path, {
            "api": {"type": "http", "url": base + "/", "retries": 0, "expect": {"body_contains": "x" * 60 + "${LONG}"}},
        }, {"LONG": secret})
    assert_no_form_of(secret[:12], everything)
    [record] = records
    assert record["r"] == "body_mismatch" and record["m"].endswith("${LONG}…\"")  # clipped, and says so


def test_a_secret_in_a_udp_expectation_is_not_recorded_in_part_where_the_message_clips_it(tmp_path):
    """Its message quotes 40 characters of the expectation: those of a longer secret, unmarked, were recorded."""
    secret = "ghp_Ab3dEfGh1jKlMn0pQrStUvWxYz0123456789abcdEFGH"
    with udp_responder(lambda datagram: b"nope") as port:
        records, everything = check_everything(tmp_path, {
            "queue": {"type": "udp", "host": "127.0.0.1", "port": port, "send": "ping", "retries": 0,
                      "expect": {"contains": "${TOKEN}"}},
        }, {"TOKEN": secret})
    assert_no_form_of(secret[:8], everything)
    [record] = records
    assert record["r"] == "reply_mismatch" and "'${TOKEN}…'" in record["m"]


def test_a_secret_a_server_cuts_short_with_three_dots_is_not_recorded_in_part(tmp_path):
    secret = "Long-Secret-Value-0123456789-abcdefghijklmnop"
    with http_server(_Site) as base:
        records, everything = check_everything(tmp_path, {
            "api": {"type": "http", "url": base + "/clipped-echo", "retries": 0,
                    "headers": {"Authorization": "Bearer ${LONG}"}, "expect": {"headers": {"X-Seen-Token": "yes"}}},
        }, {"LONG": secret})
    assert_no_form_of(secret[:12], everything)
    [record] = records
    assert record["r"] == "header_mismatch" and "${LONG}…..." in record["m"]


def test_a_basic_auth_password_echoed_by_the_server_is_not_recorded_as_base64(tmp_path):
    secret = "hunter2-pässwörd"
    with http_server(_Site) as base:
        url = base.replace("http://", "http://user:${PASSWORD}@") + "/echo"
        records, everything = check_everything(tmp_path, {
            "api": {"type": "http", "url": url, "retries": 0, "expect": {"json": {"headers.Authorization": "none"}}},
        }, {"PASSWORD": secret})
    assert_no_form_of(secret, everything)
    [record] = records
    assert record["r"] == "json_mismatch" and "headers.Authorization" in record["m"]


@contextlib.contextmanager
def cname_echo_server() -> Iterator[str]:
    """A DNS server on 127.0.0.1 that answers every question with a CNAME to the name asked;
    yields its "ip:port"."""

    def answer(data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        name = query.question[0].name
        response.answer.append(dns.rrset.from_text_list(name, 60, "IN", "CNAME", [name.to_text()]))
        return response.to_wire()

    with udp_responder(answer) as port:
        yield f"127.0.0.1:{port}"


def test_a_secret_in_an_international_host_name_is_not_recorded_idna_encoded(tmp_path):
    secret = "Gëheimnïs"
    with cname_echo_server() as nameserver:
        records, everything = check_everything(tmp_path, {
            "dns": {"type": "dns", "name": "api-${LABEL}.test", "record": "CNAME", "nameserver": nameserver, "retries": 0},
        }, {"LABEL": secret})
    assert_no_form_of(secret, everything)
    [record] = records
    assert record["s"] == "up" and record["m"].startswith("CNAME ") and record["m"].endswith(".test")


# ---------------------------------------------------------------- item 4: secret headers and redirects


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records each request's headers; /to/<port>/<path> redirects to that port on 127.0.0.1."""

    protocol_version = "HTTP/1.1"
    received: list[dict[str, str]]

    def do_GET(self) -> None:
        self.received.append(dict(self.headers))
        match = re.fullmatch(r"/to/(\d+)(/.*)", self.path)
        location = f"http://127.0.0.1:{match[1]}{match[2]}" if match else None
        self.send_response(302 if location else 200)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def recording_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    with http_server(handler) as base:
        yield base, received


SECRET_HEADERS = {"X-Api-Key": "${API_KEY}", "Authorization": "Bearer ${API_KEY}", "Cookie": "session=${API_KEY}",
                  "X-Plain": "not a secret"}


def test_headers_with_secrets_follow_redirects_within_the_origin_but_not_to_another():
    secret = "k3y-0f-the-first-origin"
    with recording_server() as (first, first_saw), recording_server() as (second, second_saw):
        first_port, second_port = first.rsplit(":", 1)[1], second.rsplit(":", 1)[1]
        # first -> first (same origin) -> second (another port: another origin)
        url = f"{first}/to/{first_port}/to/{second_port}/landing"
        result = run_one({"type": "http", "url": url, "headers": SECRET_HEADERS, "retries": 0}, env={"API_KEY": secret})
    assert (result.status, result.details.get("redirects")) == ("up", 2)
    assert [sent["X-Api-Key"] for sent in first_saw] == [secret, secret]  # the check's own origin gets it each time
    assert [sent["Authorization"] for sent in first_saw] == [f"Bearer {secret}"] * 2
    [sent_second] = second_saw
    assert not any(secret in value for value in sent_second.values()), sent_second
    assert not {"x-api-key", "authorization", "cookie"} & {name.lower() for name in sent_second}
    assert sent_second["X-Plain"] == "not a secret"  # headers without a secret still follow
