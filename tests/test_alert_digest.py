"""A mass outage: more than a few transitions for one channel in one run come as one digest
message (each still claimed once), a few come one by one. Real checks against a local server
and a real webhook receiver."""

from __future__ import annotations

from pathlib import Path

from test_alerts import check, hook, send, web  # noqa: F401  (web: the fixture)

from generator.alerts.message import DIGEST_AFTER


def _site(root: Path, receiver_port: int, url: str, count: int, mail: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "incidents").mkdir()
    components = "".join(
        f"  - {{id: api{n}, name: API {n}, check: {{type: http, url: \"{url}/api{n}.txt\", retries: 0, timeout: 5s}}}}\n"
        for n in range(count))
    (root / "site.yaml").write_text(
        "site: {title: Example, base_url: \"https://status.example.com/\"}\n"
        f"alerts:\n  channels:\n    {hook(receiver_port)}\n{mail}"
        "components:\n" + components)
    return root


def _all(web_dir: Path, count: int, up: bool) -> None:
    for n in range(count):
        path = web_dir / f"api{n}.txt"
        if up:
            path.write_text("ok\n")
        else:
            path.unlink(missing_ok=True)


def test_a_mass_outage_comes_as_one_digest_and_its_recovery_as_another(tmp_path, web, webhook):
    web_dir, url = web
    count = DIGEST_AFTER + 3
    _all(web_dir, count, up=True)
    root = _site(tmp_path / "site", webhook.port, url, count)
    send(root)
    _all(web_dir, count, up=False)
    for _ in range(3):
        check(root)
    ran = send(root)
    assert webhook.titles == [f"[{count} ALERTS] Example: {count} down"]
    body = webhook.posts[0]["message"]
    for n in range(count):  # who, why and where, for each
        assert f"API {n} is down since" in body and f"https://status.example.com/components/api{n}/" in body
    assert "status_404" in body and "Every component's state: https://status.example.com/" in body
    assert "sent to hook" in ran.stdout
    send(root)  # a re-run: every transition was claimed, so nothing again
    assert len(webhook.posts) == 1
    _all(web_dir, count, up=True)
    for _ in range(2):
        check(root)
    send(root)
    assert webhook.titles[1] == f"[{count} ALERTS] Example: {count} resolved"
    assert len(webhook.posts) == 2


def test_a_few_transitions_still_come_one_by_one(tmp_path, web, webhook):
    web_dir, url = web
    count = DIGEST_AFTER
    _all(web_dir, count, up=True)
    root = _site(tmp_path / "site", webhook.port, url, count)
    send(root)
    _all(web_dir, count, up=False)
    for _ in range(3):
        check(root)
    send(root)
    assert sorted(webhook.titles) == sorted(f"[DOWN] API {n} is down" for n in range(count))


def test_a_down_only_channel_gets_no_still_degraded_reminders(tmp_path, webhook):
    """Down eased to degraded and stayed there: the channel that follows degraded is reminded,
    the down-only one heard "down" and hears nothing more until it is resolved."""
    from datetime import datetime, timedelta, timezone

    from test_alerts import send_at, write_results, write_site

    channels = (f'oncall: "json://127.0.0.1:{webhook.port}/oncall"\n'
                f'everything: {{url: "json://127.0.0.1:{webhook.port}/everything", on: [down, degraded]}}')
    root = write_site(tmp_path / "site", channels, api_url="http://127.0.0.1:9/", extra_alerts="  remind_every: 2h\n")
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    send_at(root, start)
    send_at(root, write_results(root, start, "uuddd" + "g" * 12))  # down at 1 h, degraded from 2.5 h for 6 h
    heard = {}
    for query, title in zip(webhook.queries, webhook.titles):
        heard.setdefault(query.split("?")[0], []).append(title)
    assert heard["/oncall"] == ["[DOWN] Public API is down"]
    assert heard["/everything"][:2] == ["[DOWN] Public API is down", "[IMPROVED] Public API is degraded, no longer down"]
    assert "[STILL DEGRADED] Public API is still degraded" in heard["/everything"]
