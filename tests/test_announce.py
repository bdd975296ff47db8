"""Announcements to readers (`heliograph announce`) and the Subscribe page.

Real channels (an SMTP server and a JSON webhook receiver on 127.0.0.1, the receivers of
test_alerts.py), real git with a bare remote for the claims, real builds. Every command runs
with `--now`, so nothing depends on the clock or on how fast anything runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import lxml.html
import pytest
from clirun import invoke
from receivers import Webhook, closed_port
from test_alerts import BOT

REPO = Path(__file__).resolve().parent.parent
BASE = "https://status.example.com/"
SWITCH_ON = "2026-11-20T12:00:00Z"


def write_site(root: Path, channels: str, *, extra: str = "") -> Path:
    (root / "incidents").mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(
        f"site: {{title: Example, base_url: \"{BASE}\"}}\n"
        "announce:\n  channels:\n" + "".join(f"    {line}\n" for line in channels.strip().splitlines()) + extra +
        "components:\n  - {id: api, name: Public API}\n  - {id: db, name: Database}\n")
    return root


def incident(root: Path, name: str, title: str, components: str, *updates: tuple[str, str, str],
             maintenance: str = "") -> None:
    """updates: (time, status, text), in any order."""
    body = "".join(f"## {time} · {status}\n{text}\n\n" for time, status, text in updates)
    (root / "incidents" / f"{name}.md").write_text(
        f"---\ntitle: {title}\ncomponents: [{components}]\n{maintenance}---\n\n{body}")


def hook(port: int) -> str:
    return f'readers: "json://127.0.0.1:{port}/"'


def announce(root: Path, now: str, *args: str, env: dict[str, str] | None = None):
    ran = invoke("--site", str(root), "announce", "--no-push", "--now", now, *args, env=env)
    assert ran.code == 0, ran.stdout + ran.stderr
    return ran


# --- exactly once -------------------------------------------------------------------------------


def test_the_first_run_announces_nothing_old_and_each_later_update_once(tmp_path, webhook):
    root = write_site(tmp_path / "site", hook(webhook.port))
    incident(root, "old", "Old outage", "api", ("2026-11-01 10:00 UTC", "Resolved", "Fixed long ago."),
             ("2026-11-01 09:00 UTC", "Investigating", "Looking."))
    first = announce(root, SWITCH_ON)
    assert "switched on" in first.stdout
    assert webhook.posts == []
    announce(root, "2026-11-20T12:05:00Z")  # nothing new since
    assert webhook.posts == []

    incident(root, "db-slow", "Slow **database**", "db", ("2026-11-20 12:10 UTC", "Investigating",
                                                         "Queries take *seconds*; see [the graph](https://x.example/g)."))
    announce(root, "2026-11-20T12:15:00Z")
    announce(root, "2026-11-20T12:16:00Z")  # the deploy re-run
    assert webhook.titles == ["[Investigating] Slow **database**"]
    body = webhook.posts[0]["message"]
    assert "Queries take seconds; see the graph." in body  # plain text, no Markdown or HTML
    assert "<" not in body and "*" not in body.replace("Slow **database**", "")
    assert "Affects: Database" in body
    assert f"{BASE}incidents/db-slow/" in body

    incident(root, "db-slow", "Slow **database**", "db",
             ("2026-11-20 12:40 UTC", "Resolved", "Back to normal."),
             ("2026-11-20 12:10 UTC", "Investigating", "Queries take *seconds*."))  # the text edited meanwhile
    announce(root, "2026-11-20T12:45:00Z")
    announce(root, "2026-11-20T12:46:00Z")
    assert webhook.titles == ["[Investigating] Slow **database**", "[Resolved] Slow **database**"]


def test_a_lost_build_cache_and_build_folder_send_nothing_again(tmp_path, webhook):
    root = write_site(tmp_path / "site", hook(webhook.port))
    announce(root, SWITCH_ON)
    incident(root, "api", "API errors", "api", ("2026-11-20 13:00 UTC", "Identified", "A bad deploy."))
    assert invoke("--site", str(root), "build", "--now", "2026-11-20T13:05:00Z").code == 0
    announce(root, "2026-11-20T13:05:00Z")
    assert len(webhook.posts) == 1
    for cache in (root / ".heliograph-cache", root / "build"):
        assert cache.is_dir()
        subprocess.run([sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1])", str(cache)], check=True)
    assert invoke("--site", str(root), "build", "--now", "2026-11-20T13:10:00Z").code == 0
    announce(root, "2026-11-20T13:10:00Z")
    assert len(webhook.posts) == 1


def test_maintenance_notices_are_announced_and_a_future_update_waits_for_its_time(tmp_path, webhook, mailbox):
    box, smtp_port = mailbox
    root = write_site(tmp_path / "site", hook(webhook.port) + "\n" +
                      f'list: "mailto://127.0.0.1:{smtp_port}?from=status@example.com&to=readers@example.com"')
    announce(root, SWITCH_ON)
    incident(root, "upgrade", "Database upgrade", "db",
             ("2026-11-22 06:00 UTC", "Completed", "Done."),  # written ahead of time
             ("2026-11-20 14:00 UTC", "Scheduled", "We upgrade the database on Sunday."),
             maintenance="type: maintenance\nscheduled_for: 2026-11-22 05:00 UTC\nscheduled_until: 2026-11-22 06:00 UTC\n")
    announce(root, "2026-11-20T14:05:00Z")
    assert webhook.titles == ["[Scheduled] Database upgrade"]
    assert "Maintenance of: Database" in webhook.posts[0]["message"]
    assert len(box.messages) == 1
    assert box.messages[0]["Subject"] == "[Scheduled] Database upgrade"
    assert "We upgrade the database on Sunday." in box.text(0)
    assert f"{BASE}incidents/upgrade/" in box.text(0)
    announce(root, "2026-11-22T06:30:00Z")
    assert webhook.titles == ["[Scheduled] Database upgrade", "[Completed] Database upgrade"]
    assert len(box.messages) == 2


def test_a_channel_that_is_down_warns_keeps_exit_0_and_never_shows_its_secret(tmp_path, webhook):
    root = write_site(tmp_path / "site", hook(webhook.port) + "\n" +
                      f'broken: "json://127.0.0.1:{closed_port()}/?token=${{HOOK_TOKEN}}"')
    env = {"HOOK_TOKEN": "s3cr3t-v4lue"}
    announce(root, SWITCH_ON, env=env)
    incident(root, "api", "API errors", "api", ("2026-11-20 13:00 UTC", "Investigating", "Errors."))
    ran = announce(root, "2026-11-20T13:05:00Z", "--format", "github", env=env)
    assert webhook.titles == ["[Investigating] API errors"]  # the other channel still got it
    assert "broken" in ran.stderr and "::warning" in ran.stdout
    ledger = (root / "history" / "announced.jsonl").read_text()
    for text in (ran.stdout, ran.stderr, ledger):
        assert "s3cr3t-v4lue" not in text


def test_a_channel_only_hears_of_its_components(tmp_path, webhook):
    root = write_site(tmp_path / "site", f'db-team: {{url: "json://127.0.0.1:{webhook.port}/", components: [db]}}')
    announce(root, SWITCH_ON)
    incident(root, "api", "API errors", "api", ("2026-11-20 13:00 UTC", "Investigating", "Errors."))
    incident(root, "db", "DB errors", "db", ("2026-11-20 13:01 UTC", "Investigating", "Errors."))
    announce(root, "2026-11-20T13:05:00Z")
    assert webhook.titles == ["[Investigating] DB errors"]


def test_a_bad_announce_setting_is_reported_at_its_line_and_column(tmp_path):
    root = write_site(tmp_path / "site", 'readers: "json://127.0.0.1:1/"', extra="  tiemout: 5s\n")
    ran = invoke("--site", str(root), "validate")
    assert ran.code == 1
    assert re.search(r'site\.yaml:5:3: error: unknown key "tiemout" in announce \(did you mean "timeout"\?\)', ran.stderr), \
        ran.stderr
    assert "Traceback" not in ran.stderr
    (root / "site.yaml").write_text((root / "site.yaml").read_text().replace("  tiemout: 5s\n", "")
                                    .replace("json://127.0.0.1:1/", "nosuchservice://x"))
    ran = invoke("--site", str(root), "validate")
    assert ran.code == 1
    assert re.search(r'site\.yaml:4:14: error: announce channel "readers": Apprise cannot use', ran.stderr), ran.stderr
    (root / "site.yaml").write_text((root / "site.yaml").read_text().replace("nosuchservice://x", "json://127.0.0.1:1/")
                                    + "subscribe: {mailing_list: not an address}\n")
    ran = invoke("--site", str(root), "validate")
    assert ran.code == 1 and re.search(r'site\.yaml:\d+:\d+: error: "mailing_list" must be an email address', ran.stderr)


# --- through git, as deploy.yml runs it ---------------------------------------------------------


def git_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, **BOT, "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": str(tmp_path / ".gitconfig"),
           "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    env.pop("HELIOGRAPH_SITE", None)
    return env


def heliograph(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def published(tmp_path: Path, webhook: Webhook):
    """A bare remote holding a site with announcements switched on, and a `git` for it."""
    env = git_env(tmp_path)

    def git(*args: str, cwd: Path) -> str:
        return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout

    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    seed = write_site(tmp_path / "seed", hook(webhook.port))
    incident(seed, "old", "Old outage", "api", ("2026-11-01 10:00 UTC", "Resolved", "Fixed long ago."))
    git("init", "--quiet", "-b", "main", cwd=seed)
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "site", cwd=seed)
    git("remote", "add", "origin", str(remote), cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    switched = heliograph("announce", "--now", SWITCH_ON, cwd=seed, env=env)
    assert switched.returncode == 0, switched.stderr
    incident(seed, "api", "API errors", "api", ("2026-11-20 13:00 UTC", "Investigating", "Errors."))
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "incident", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    return remote, git, env


def test_a_rerun_deploy_of_an_older_commit_sends_nothing_twice(tmp_path, webhook, published):
    remote, git, env = published
    git("clone", "--quiet", str(remote), "run1", cwd=tmp_path)
    run1 = tmp_path / "run1"
    commit = git("rev-parse", "HEAD", cwd=run1).strip()
    git("checkout", "--quiet", "--detach", commit, cwd=run1)  # as actions/checkout does
    done = heliograph("announce", "--branch", "main", "--now", "2026-11-20T13:05:00Z", "--base-delay", "0.05s",
                      cwd=run1, env=env)
    assert done.returncode == 0, done.stderr
    assert webhook.titles == ["[Investigating] API errors"]
    log = git("log", "--format=%s", "main", cwd=remote)
    assert "Announced: api investigating [skip ci]" in log
    # The re-run: a fresh checkout of the same commit, older than the claim since pushed.
    git("clone", "--quiet", str(remote), "rerun", cwd=tmp_path)
    rerun = tmp_path / "rerun"
    git("checkout", "--quiet", "--detach", commit, cwd=rerun)
    assert not (rerun / "history" / "announced.jsonl").read_text().count('"k":"update"')
    again = heliograph("announce", "--branch", "main", "--now", "2026-11-20T13:10:00Z", cwd=rerun, env=env)
    assert again.returncode == 0, again.stderr
    assert webhook.titles == ["[Investigating] API errors"]


def test_two_deploys_announcing_at_once_send_each_update_once(tmp_path, webhook, published):
    remote, git, env = published
    clones = []
    for name in ("a", "b"):
        git("clone", "--quiet", str(remote), name, cwd=tmp_path)
        clones.append(tmp_path / name)
    runs = []
    threads = [threading.Thread(target=lambda c=clone: runs.append(heliograph(
        "announce", "--now", "2026-11-20T13:05:00Z", "--base-delay", "0.05s", cwd=c, env=env))) for clone in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    assert webhook.titles == ["[Investigating] API errors"]


def test_no_push_without_a_repository_is_a_clear_error(tmp_path, webhook):
    root = write_site(tmp_path / "site", hook(webhook.port))
    ran = invoke("--site", str(root), "announce", "--now", SWITCH_ON,
                 env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert ran.code == 1
    assert "--no-push" in ran.stderr and "Traceback" not in ran.stderr
    assert not (root / "history" / "announced.jsonl").exists()


# --- the Subscribe page -------------------------------------------------------------------------

FEED = re.compile(r"(^|/)(feed|history)\.(rss|atom|json)$|\.ics$")


def build_site(tmp_path: Path, extra: str = "") -> Path:
    root = write_site(tmp_path / "site", 'readers: "json://127.0.0.1:1/"', extra="")
    (root / "site.yaml").write_text((root / "site.yaml").read_text() + extra)
    incident(root, "api", "API errors", "api", ("2026-11-20 13:00 UTC", "Investigating", "Errors."))
    ran = invoke("--site", str(root), "build", "--now", "2026-11-20T14:00:00Z")
    assert ran.code == 0, ran.stderr
    return root / "build"


def test_the_subscribe_page_lists_every_feed_the_build_wrote_and_every_page_links_to_it(tmp_path):
    build = build_site(tmp_path)
    feeds = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if FEED.search(p.as_posix()))
    assert "components/db/feed.rss" in feeds and "maintenance.ics" in feeds and "feed.json" in feeds
    page = lxml.html.fromstring((build / "subscribe" / "index.html").read_bytes())
    links = {href.removeprefix(BASE) for href in page.xpath("//main//a/@href")}
    assert [feed for feed in feeds if feed not in links] == []
    assert f"/feed subscribe {BASE}feed.rss" in page.text_content()
    assert not page.xpath("//script[not(@type='application/ld+json')]")  # no JavaScript needed
    assert not page.xpath("//form")  # no email sign-up unless site.yaml names one
    pages = [p for p in build.rglob("*.html") if p.parent.name != "embed" and p.name != "embed.html"]
    assert len(pages) > 5
    for html_file in pages:
        tree = lxml.html.fromstring(html_file.read_bytes())
        nav = tree.xpath("//header//nav//a[normalize-space()='Subscribe']/@href")
        assert len(nav) == 1, html_file
        if html_file.name != "404.html":  # served at any path, so it links from the site's root
            assert (html_file.parent / nav[0]).resolve() == (build / "subscribe" / "index.html").resolve(), html_file
    assert f"<loc>{BASE}subscribe/</loc>" in (build / "sitemap.xml").read_text()


def test_the_subscribe_page_offers_the_email_form_or_mailing_list_site_yaml_names(tmp_path):
    build = build_site(tmp_path / "form", "subscribe: {email_form_action: \"https://news.example.com/s?list=1&x=2\", "
                                          "email_field: EMAIL}\n")
    page = lxml.html.fromstring((build / "subscribe" / "index.html").read_bytes())
    [form] = page.xpath("//main//form")
    assert form.get("action") == "https://news.example.com/s?list=1&x=2" and form.get("method") == "post"
    [field] = form.xpath(".//input[@type='email']")
    assert field.get("name") == "EMAIL"
    assert page.xpath(f"//label[@for='{field.get('id')}']")  # the field has a visible label
    build = build_site(tmp_path / "list", "subscribe: {mailing_list: status@lists.example.com}\n")
    page = lxml.html.fromstring((build / "subscribe" / "index.html").read_bytes())
    assert page.xpath("//main//a/@href").count("mailto:status@lists.example.com") == 1
    assert not page.xpath("//form")


def test_the_subscribe_page_in_a_browser_is_reachable_and_labelled(tmp_path, browser):
    build = build_site(tmp_path, "subscribe: {email_form_action: \"https://news.example.com/s\"}\n")
    page = browser.new_page()
    page.goto((build / "index.html").as_uri())
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Subscribe").click()
    assert page.locator("h1").inner_text() == "Subscribe to updates"
    assert page.get_by_label("Your email address").get_attribute("type") == "email"
    assert page.get_by_role("button", name="Subscribe").is_visible()
    levels = page.eval_on_selector_all("main h1, main h2, main h3", "hs => hs.map(h => Number(h.tagName[1]))")
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:]))  # no skipped heading level
    unnamed = page.eval_on_selector_all("a", "as => as.filter(a => !(a.getAttribute('aria-label') || a.textContent.trim())).length")
    assert unnamed == 0
    page.close()
