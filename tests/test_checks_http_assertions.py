"""HTTP assertions beyond status and body (issue #21 part 4): answer headers, forbidden text,
JSON values compared with < > <= >= == !=, max_redirects, and a secret body never resent to
another origin by a 307 or 308. Real servers on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import quote

import pytest
from checkservers import http_server, run_one  # noqa: F401  (fixture)
from clirun import invoke
from conftest import write_site


def test_answer_headers_are_matched_by_name_in_any_case_and_by_text_within(http_server):
    good = run_one({"url": http_server.url("/json"), "expect": {"headers": {"content-type": "JSON"}}})
    assert (good.status, good.reason) == ("up", "ok")
    wrong = run_one({"url": http_server.url("/ok"), "expect": {"headers": {"Content-Type": "json"}}, "retries": 0})
    assert (wrong.status, wrong.reason) == ("down", "header_mismatch")
    assert "Content-Type is" in wrong.message and "text/plain" in wrong.message
    missing = run_one({"url": http_server.url("/ok"), "expect": {"headers": {"X-Served-By": "edge"}}, "retries": 0})
    assert (missing.status, missing.reason) == ("down", "header_mismatch") and "no X-Served-By header" in missing.message


def test_body_not_contains(http_server):
    assert run_one({"url": http_server.url("/ok"), "expect": {"body_not_contains": "maintenance"}}).status == "up"
    bad = run_one({"url": http_server.url("/ok"), "expect": {"body_not_contains": "operational"}, "retries": 0})
    assert (bad.status, bad.reason) == ("down", "body_contains_forbidden") and '"operational"' in bad.message


@pytest.mark.parametrize(("expected", "up"), [
    ("< 4", True), ("<= 3", True), ("> 3", False), (">= 3", True), ("== 3", True), ("!= 3", False),
    ("!= 4", True), ("< 3", False),
])
def test_json_values_compared(http_server, expected, up):
    result = run_one({"url": http_server.url("/json"), "expect": {"json": {"data.version": expected}}, "retries": 0})
    assert result.status == ("up" if up else "down"), result.message
    if not up:
        assert result.reason == "json_mismatch" and f"JSON data.version is 3, expected {expected}" in result.message


def test_json_comparisons_with_text_and_with_the_wrong_kind(http_server):
    assert run_one({"url": http_server.url("/json"), "expect": {"json": {"data.status": "!= error"}}}).status == "up"
    assert run_one({"url": http_server.url("/json"), "expect": {"json": {"data.status": "== ok"}}}).status == "up"
    text = run_one({"url": http_server.url("/json"), "expect": {"json": {"data.status": "> 1"}}, "retries": 0})
    assert (text.status, text.reason) == ("down", "json_mismatch")  # "ok" is no number: never in order


def test_max_redirects(http_server):
    target = http_server.url("/ok")
    for _ in range(3):
        target = http_server.url("/redirect?to=" + quote(target, safe=""))
    assert run_one({"url": target, "max_redirects": 3}).status == "up"
    result = run_one({"url": target, "max_redirects": 2, "retries": 0})
    assert (result.status, result.reason) == ("down", "too_many_redirects") and "more than 2 redirects" in result.message


class _Origin(http.server.ThreadingHTTPServer):
    """POST /go answers 307 (or ?code) to `elsewhere`; every request's body is kept."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.elsewhere = ""
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                origin.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                code = int(self.path.split("code=")[1]) if "code=" in self.path else 307
                location = origin.elsewhere if self.path.startswith("/go") else None
                self.send_response(code if location else 200)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.mark.parametrize("code", [307, 308])
def test_a_secret_body_is_never_resent_to_another_origin(code):
    first, second = _Origin(), _Origin()
    try:
        first.elsewhere = second.url("/take")
        check = {"url": first.url(f"/go?code={code}"), "method": "POST", "body": "token=${TOKEN}", "retries": 0}
        result = run_one(check, env={"TOKEN": "s3cr3t-t0ken"})
        assert (result.status, result.reason) == ("down", "redirect_cross_origin")
        assert f"HTTP {code} to another origin" in result.message and "s3cr3t" not in result.message
        assert second.bodies == [] and first.bodies == [b"token=s3cr3t-t0ken"]
        # Without a secret in it, the body goes where the server says, as HTTP has it.
        plain = run_one({**check, "body": "hello"}, env={})
        assert plain.status == "up" and second.bodies == [b"hello"]
        # Within the same origin, a secret body follows the redirect.
        first.elsewhere = first.url("/take")
        same = run_one(check, env={"TOKEN": "s3cr3t-t0ken"})
        assert same.status == "up" and first.bodies[-1] == b"token=s3cr3t-t0ken"
    finally:
        first.shutdown()
        second.shutdown()


def test_new_keys_are_validated_with_their_place_in_site_yaml(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://s.example/\"}\ncomponents:\n"
                                         "  - id: api\n    name: API\n    check:\n      type: http\n"
                                         "      url: https://api.example/\n      max_redirects: 99\n"
                                         "      expect:\n        json: {queue.depth: \"< many\"}\n"
                                         "        headers: {\"bad header\": x}\n        body_not_conatins: x\n")
    ran = invoke("--site", str(site), "validate")
    assert ran.code == 1
    assert "site.yaml:8:" in ran.stderr and "max_redirects" in ran.stderr
    assert "site.yaml:10:" in ran.stderr and '"< many" compares with <, which needs a number' in ran.stderr
    assert "site.yaml:11:" in ran.stderr and "header name 'bad header' is not valid" in ran.stderr
    assert "site.yaml:12:" in ran.stderr and 'did you mean "body_not_contains"' in ran.stderr.replace("'", '"')
