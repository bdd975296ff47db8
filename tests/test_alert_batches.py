"""README's alerts section followed as a newcomer would: a site from `heliograph init`, a
Discord-style JSON webhook and an email channel added in three lines of site.yaml, `heliograph
alert test`, then an outage and its recovery through real checks, a real webhook receiver and a
real SMTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from clirun import invoke
from test_alerts import check, down, send, up, web  # noqa: F401  (web: the fixture)


def _newcomer_site(root: Path, api_url: str, webhook_port: int, smtp_port: int) -> Path:
    ran = invoke("init", str(root))
    assert ran.code == 0, ran.stderr
    config = root / "site.yaml"
    text = config.read_text()
    # README: "Three lines add one": alerts, channels, then a channel a line.
    channels = ("alerts:\n  channels:\n"
                f'    discord: "json://127.0.0.1:{webhook_port}/"\n'
                f'    team-email: "mailto://127.0.0.1:{smtp_port}?from=alerts@example.com&to=oncall@example.com'
                '&mode=insecure"\n\ncomponents:\n')
    assert text.count("\ncomponents:\n") == 1 and text.count("url: https://example.com/") == 1
    text = text.replace("\ncomponents:\n", "\n" + channels).replace("url: https://example.com/", f"url: {api_url}")
    config.write_text(text)
    for example in (root / "incidents").glob("*-example-incident.md"):
        example.unlink()  # README's next step for a new site; its dates would not matter here anyway
    return root


def test_a_newcomer_adds_two_channels_tests_them_and_hears_an_outage_once_and_its_end_once(
        tmp_path, web, webhook, mailbox):
    web_dir, url = web
    box, smtp_port = mailbox
    root = _newcomer_site(tmp_path / "site", f"{url}/api.txt", webhook.port, smtp_port)
    validated = invoke("--site", str(root), "validate")
    assert validated.code == 0, validated.stdout + validated.stderr

    tested = invoke("--site", str(root), "alert", "test")
    assert tested.code == 0, tested.stderr
    assert webhook.titles == ["[TEST] Status: alerts work"]
    assert [m["Subject"] for m in box.messages] == ["[TEST] Status: alerts work"]

    check(root)
    send(root)  # alerts switched on: the ledger starts, nothing is due
    down(web_dir)
    for run in range(3):
        check(root)
        ran = send(root)
        if run < 2:
            assert "No alerts due." in ran.stdout
    assert webhook.titles[1:] == ["[DOWN] Website is down"]
    assert [m["Subject"] for m in box.messages][1:] == ["[DOWN] Website is down"]
    assert box.messages[1]["To"] == "oncall@example.com"
    assert "https://status.example.com/components/website/" in box.text(1)

    up(web_dir)
    for _ in range(3):  # success_threshold is 2: the third good run sends nothing more
        check(root)
        send(root)
    assert webhook.titles[1:] == ["[DOWN] Website is down", "[RESOLVED] Website is up again"]
    assert [m["Subject"] for m in box.messages][1:] == ["[DOWN] Website is down", "[RESOLVED] Website is up again"]
