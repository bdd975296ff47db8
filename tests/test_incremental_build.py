"""An incremental build (with .heliograph-cache/ from earlier builds) writes exactly what a clean
full build writes after the same changes."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from make_history import generate  # noqa: E402

from generator.build import CACHE_DIR, build  # noqa: E402
from generator.checks.result import CheckResult  # noqa: E402
from generator.history import append_results, compact, raw_shard_path  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
IDS = [f"svc-{n}" for n in range(1, 7)]


def _site(root: Path) -> Path:
    root.mkdir(parents=True)
    components = "".join(
        f"  - id: {cid}\n    name: Service {cid}\n    group: Group {index % 2}\n"
        f"    check: {{type: http, url: \"https://{cid}.example/\"}}\n"
        for index, cid in enumerate(IDS)
    )
    (root / "site.yaml").write_text(
        "site:\n  title: Incremental\n  base_url: https://status.example/\n  timezone: UTC\n"
        "history:\n  dir: history\n  raw_days: 12\n"
        f"components:\n{components}  - id: manual\n    name: Manual\n", encoding="utf-8")
    incidents = root / "incidents"
    incidents.mkdir()
    for number in range(12):
        day = NOW - timedelta(days=2 * number + 1)
        stamp = day.strftime("%Y-%m-%d")
        body = (f"---\ntitle: Trouble {number}\nimpact: major\ncomponents: [{IDS[number % len(IDS)]}]\n---\n\n"
                f"## {stamp} 11:00 UTC · Resolved\nFixed, **really**.\n\n"
                f"## {stamp} 10:00 UTC · Investigating\nWe are looking into it:\n\n- a list\n- of things\n")
        (incidents / f"{stamp}-trouble-{number}.md").write_text(body, encoding="utf-8")
    (incidents / "2026-11-20-maintenance.md").write_text(
        "---\ntitle: Upgrade\ntype: maintenance\ncomponents: [svc-1]\n"
        "scheduled_for: 2026-11-20 03:00 UTC\nscheduled_until: 2026-11-20 05:00 UTC\n---\n\n"
        "## 2026-11-18 09:00 UTC · Scheduled\nWe will upgrade.\n", encoding="utf-8")
    generate(root / "history", IDS, start=NOW - timedelta(days=30), end=NOW)
    compact(root / "history", raw_days=12, now=NOW)
    return root


def _outputs(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _assert_same_as_clean(site: Path, now: datetime, tmp_path: Path) -> None:
    """Build incrementally (cache and build/ kept), then from a clean copy; outputs must be equal."""
    build(site, now=now)
    incremental = _outputs(site / "build")
    clean = tmp_path / f"clean-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", CACHE_DIR))
    build(clean, now=now)
    fresh = _outputs(clean / "build")
    assert incremental.keys() == fresh.keys()
    different = [path for path in fresh if incremental[path] != fresh[path]]
    assert not different, different[:10]


def _append_run(site: Path, at: datetime, status: str = "up") -> None:
    append_results(site / "history", [
        CheckResult(component=cid, time=at + timedelta(seconds=index), status=status, reason="ok" if status == "up" else "timeout",
                    message="", latency_ms=100.0 + index if status == "up" else None, location="ci")
        for index, cid in enumerate(IDS)])


def test_incremental_build_equals_clean_build(tmp_path):
    site = _site(tmp_path / "site")
    build(site, now=NOW)  # fills the cache
    assert (site / CACHE_DIR / "incidents.pickle").is_file()
    assert (site / CACHE_DIR / "incident-pages.pickle").is_file()
    assert any((site / CACHE_DIR / "history").glob("*.pickle"))

    # history appended: one more run, today and (late) yesterday
    later = NOW + timedelta(minutes=5)
    _append_run(site, later - timedelta(seconds=30), status="down")
    _append_run(site, NOW - timedelta(days=1, hours=3))
    _assert_same_as_clean(site, later, tmp_path)

    # an incident edited, one deleted, one added
    files = sorted((site / "incidents").glob("*trouble*.md"))
    text = files[0].read_text(encoding="utf-8")
    files[0].write_text(text.replace("Fixed, **really**.", "Fixed; the cause was a *full disk*."), encoding="utf-8")
    files[1].unlink()
    (site / "incidents" / "2026-11-23-new.md").write_text(
        "---\ntitle: New\nimpact: minor\ncomponents: [svc-2]\n---\n\n## 2026-11-23 11:50 UTC · Investigating\nLooking.\n",
        encoding="utf-8")
    _assert_same_as_clean(site, later, tmp_path)

    # a maintenance window moved: the days it touches are aggregated again
    maintenance = site / "incidents" / "2026-11-20-maintenance.md"
    maintenance.write_text(maintenance.read_text(encoding="utf-8").replace("05:00 UTC\n---", "07:00 UTC\n---"),
                           encoding="utf-8")
    _assert_same_as_clean(site, later, tmp_path)

    # a component renamed
    config = site / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("name: Service svc-3", "name: Renamed three"),
                      encoding="utf-8")
    _assert_same_as_clean(site, later, tmp_path)

    # a template changed
    templates = site / "templates"
    templates.mkdir(exist_ok=True)
    theme = Path(__file__).resolve().parent.parent / "templates" / "404.html"
    (templates / "404.html").write_text(theme.read_text(encoding="utf-8").replace("</main>", "<p>Custom</p></main>")
                                        + "<!-- custom -->\n", encoding="utf-8")
    _assert_same_as_clean(site, later, tmp_path)

    # a whole day later: yesterday's shard closes and is cached; the window moves
    _assert_same_as_clean(site, later + timedelta(days=1), tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "other-key"])
def test_a_corrupt_or_stale_cache_is_ignored(tmp_path, damage):
    site = _site(tmp_path / "site")
    build(site, now=NOW)
    for entry in sorted((site / CACHE_DIR).rglob("*.pickle")):
        data = entry.read_bytes()
        if damage == "garbage":
            entry.write_bytes(b"not a pickle")
        elif damage == "truncate":
            entry.write_bytes(data[: len(data) // 2])
    if damage == "other-key":
        # a shard changed behind the cache's back, keeping its size: the key (mtime, ctime) differs
        shard = raw_shard_path(site / "history", (NOW - timedelta(days=3)).date())
        data = bytearray(shard.read_bytes())
        data[data.index(b'"s":"up"') + 5:data.index(b'"s":"up"') + 7] = b"zz"  # now an unreadable line
        shard.write_bytes(bytes(data))
    _assert_same_as_clean(site, NOW, tmp_path)


def test_incident_pages_use_now_only_where_the_page_cache_expects(tmp_path):
    """pages._incident_pages caches a page with its footer time cut out, keyed by the incident's
    `_now_facts`: with the built-in theme, two builds whose `now` gives the same facts must
    differ only in that footer time."""
    from generator import pages
    from generator.build import read_inputs, render_site

    site = _site(tmp_path / "site")
    first, second = NOW, NOW + timedelta(hours=7, minutes=13)
    a, b = read_inputs(site, now=first), read_inputs(site, now=second)
    files_a, files_b = render_site(a), render_site(b)
    from generator.render import make_environment
    env = make_environment(a.site)
    footer_a = env.from_string(pages._FOOTER_TIME).render(now=first).encode()
    footer_b = env.from_string(pages._FOOTER_TIME).render(now=second).encode()
    compared = 0
    for incident in a.incidents.incidents:
        if pages._now_facts(incident, first) != pages._now_facts(incident, second):
            continue
        path = f"incidents/{incident.id}/index.html"
        assert files_a[path].replace(footer_a, b"NOW") == files_b[path].replace(footer_b, b"NOW"), path
        compared += 1
    assert compared >= 10


def test_pages_rendered_on_several_cores_are_the_same(tmp_path, monkeypatch):
    from generator import pages
    from generator.build import read_inputs, render_site

    site = _site(tmp_path / "site")
    inputs = read_inputs(site, now=NOW)
    serial = render_site(inputs)
    monkeypatch.setattr(pages, "_PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest may run threads of its own
    rendered = []
    real = pages.render_page

    def counting(env, template, path, **context):
        rendered.append(template)  # in a forked worker, its own copy of the list
        return real(env, template, path, **context)

    monkeypatch.setattr(pages, "render_page", counting)
    shutil.rmtree(site / CACHE_DIR, ignore_errors=True)
    assert render_site(inputs) == serial
    # incident files parsed by forked workers too
    from generator import incident_loading
    monkeypatch.setattr(incident_loading, "_PARALLEL_MIN_FILES", 1)
    shutil.rmtree(site / CACHE_DIR, ignore_errors=True)
    parallel = read_inputs(site, now=NOW)
    assert parallel.incidents == inputs.incidents
    assert [i.source_key for i in parallel.incidents.incidents] == [i.source_key for i in inputs.incidents.incidents]
    assert "incident.html" not in rendered  # incident pages were rendered by forked workers
    assert "index.html" in rendered
