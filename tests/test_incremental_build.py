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

from generator.engine.build import CACHE_DIR, build  # noqa: E402
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
    assert any((site / CACHE_DIR / "incidents").glob("*.pickle"))
    assert any((site / CACHE_DIR / "outputs").glob("*.pickle"))
    assert any((site / CACHE_DIR / "history").glob("*.pickle"))

    # history appended: one more run, today and (late) yesterday
    later = NOW + timedelta(minutes=5)
    _append_run(site, later - timedelta(seconds=30), status="down")
    _append_run(site, NOW - timedelta(days=1, hours=3))
    _assert_same_as_clean(site, later, tmp_path)
    # and appended again, built at the same `now`
    _append_run(site, later - timedelta(seconds=10), status="down")
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

    # an update added: the incident's latest update, which the sitemap dates its page by, moves
    new = site / "incidents" / "2026-11-23-new.md"
    new.write_text(new.read_text(encoding="utf-8").replace(
        "---\n\n## ", "---\n\n## 2026-11-23 11:58 UTC · Identified\nFound it.\n\n## "), encoding="utf-8")
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


def _states(site: Path):
    """The site's inputs at several moments and after several changes, as a rebuild meets them."""
    from generator.engine.inputs import read_inputs

    (site / "incidents" / "2026-11-23-open.md").write_text(
        "---\ntitle: Still open\nimpact: minor\ncomponents: [svc-3]\n---\n\n"
        "## 2026-11-23 09:00 UTC · Identified\nA cause is known.\n", encoding="utf-8")
    # A window nobody updates: scheduled, then in progress and over as `now` passes it.
    (site / "incidents" / "2026-11-23-window.md").write_text(
        "---\ntitle: Window\ntype: maintenance\ncomponents: [svc-2]\n"
        f"scheduled_for: {NOW + timedelta(minutes=30):%Y-%m-%d %H:%M} UTC\n"
        f"scheduled_until: {NOW + timedelta(minutes=90):%Y-%m-%d %H:%M} UTC\n---\n\n"
        "## 2026-11-22 09:00 UTC · Scheduled\nA quick one.\n", encoding="utf-8")
    yield read_inputs(site, now=NOW)
    yield read_inputs(site, now=NOW + timedelta(minutes=1))  # the open incident has lasted longer
    yield read_inputs(site, now=NOW + timedelta(hours=1))  # the window has begun
    yield read_inputs(site, now=NOW + timedelta(hours=7, minutes=13))
    _append_run(site, NOW - timedelta(seconds=30), status="down")  # history changes, `now` does not
    yield read_inputs(site, now=NOW)
    maintenance = site / "incidents" / "2026-11-20-maintenance.md"
    maintenance.write_text(maintenance.read_text(encoding="utf-8").replace("05:00 UTC\n---", "07:00 UTC\n---"),
                           encoding="utf-8")
    yield read_inputs(site, now=NOW)
    first = sorted((site / "incidents").glob("*trouble*.md"))[-1]
    first.write_text(first.read_text(encoding="utf-8").replace("Fixed, **really**.", "Fixed for good."),
                     encoding="utf-8")
    yield read_inputs(site, now=NOW)
    yield read_inputs(site, now=NOW + timedelta(days=1))
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8").replace(
        "name: Service svc-3", "name: Renamed three"), encoding="utf-8")
    yield read_inputs(site, now=NOW + timedelta(days=1))


def test_equal_output_keys_mean_equal_outputs(tmp_path):
    """A rebuild keeps a file whose key is unchanged (generator.engine.reuse), so a key must change
    whenever its output would: across `now`, history, maintenance, incident and site changes,
    outputs with the same key must be byte-identical."""
    from generator.engine.build import render_changed

    site = _site(tmp_path / "site")
    seen: dict[str, dict[str, bytes]] = {}  # path -> key -> bytes
    compared = rendered_again = 0
    fragments: dict[str, str] = {}
    reused = 0
    for inputs in _states(site):
        outputs = render_changed(inputs, {})
        # parts of pages kept from the earlier states give the same pages as parts rendered anew
        with_fragments = render_changed(inputs, {}, fragments)
        assert with_fragments.files == outputs.files
        reused += len(with_fragments.fragments_used.keys() & fragments.keys())
        fragments = {**fragments, **outputs.fragments_used}
        for path, key in outputs.keys.items():
            earlier = seen.setdefault(path, {}).get(key)
            if earlier is None:
                seen[path][key] = outputs.files[path]
                rendered_again += len(seen[path]) > 1
            else:
                assert earlier == outputs.files[path], path
                compared += 1
    kinds = {path.split("/")[0] for path in seen}
    assert {"incidents", "components", "history"} <= kinds and {"feed.atom", "maintenance.ics"} <= kinds
    assert len(seen["maintenance.ics"]) >= 3  # the window's three states
    assert compared > 100 and rendered_again > 20  # keys were both kept and changed
    assert reused > 10


def test_a_rebuild_renders_only_what_changed(tmp_path):
    from generator.engine.build import render_changed
    from generator.engine.inputs import read_inputs
    from generator.engine.reuse import KEEP, Ledger

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    build(site, now=NOW)
    reusable = Ledger.check(site / CACHE_DIR, site / "build").reusable
    assert all(render_changed(read_inputs(site, now=NOW), reusable).files[path] is KEEP for path in reusable)
    assert sum(path.startswith("incidents/") for path in reusable) == 13

    edited = sorted((site / "incidents").glob("*trouble*.md"))[0]
    edited.write_text(edited.read_text(encoding="utf-8").replace("Fixed, **really**.", "Fixed."), encoding="utf-8")
    outputs = render_changed(read_inputs(site, now=NOW), reusable)
    rendered = sorted(path for path in outputs.keys if outputs.files[path] is not KEEP)
    component = next(line.split("[")[1].split("]")[0] for line in edited.read_text().splitlines()
                     if line.startswith("components:"))
    assert rendered == sorted([f"incidents/{edited.stem}/index.html", f"components/{component}/index.html",
                               f"components/{component}/feed.atom", f"components/{component}/feed.rss",
                               "history/index.html",  # and the site's feeds, which list all 14 incidents:
                               "feed.atom", "feed.rss", "feed.json", "history.atom", "history.rss"])


@pytest.mark.parametrize("mode", ["results", "duration"])
def test_a_rebuild_seconds_later_keeps_the_component_pages_of_quiet_components(tmp_path, monkeypatch, mode):
    """`heliograph serve` builds at each save's own moment. Two days after the last result, a
    second later changes nothing a component page shows, so none is rendered again; before,
    the exact coverage of the 30 and 90 days, which drifts each second, made every one of them
    miss its key (most of serve's rebuild at 100 components)."""
    import jinja2

    site = _site(tmp_path / "site")
    yaml_text = (site / "site.yaml").read_text(encoding="utf-8")
    (site / "site.yaml").write_text(yaml_text.replace("components:\n", f"display:\n  uptime_mode: {mode}\ncomponents:\n", 1),
                                    encoding="utf-8")
    quiet = NOW + timedelta(days=2, hours=3)
    build(site, now=quiet)
    page = (site / "build" / "components" / IDS[0] / "index.html").read_text(encoding="utf-8")
    assert ("Covered by results: 24h no data, 7d " in page) == (mode == "duration")
    rendered = []
    real = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render", lambda self, *a, **k: rendered.append(self.name) or real(self, *a, **k))
    build(site, now=quiet + timedelta(seconds=1))
    assert "component.html" not in rendered
    _assert_same_as_clean(site, quiet + timedelta(seconds=1), tmp_path)


def test_parts_of_pages_outlive_a_rebuild_that_kept_their_pages(tmp_path, monkeypatch):
    """A rebuild that keeps a page (nothing changed, or an incident edit) must keep the parts it
    was made of: the next check run renders every component page again, and without them it
    rendered each one's incident list anew (a second at 10,000 incidents)."""
    import jinja2
    from generator.engine.reuse import fragment_store

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    first = fragment_store(site / CACHE_DIR).load()
    assert len(first) > len(IDS)  # each component's incident list, the front page's parts, history.csv's days
    build(site, now=NOW)
    assert fragment_store(site / CACHE_DIR).load() == first

    rendered = []
    real = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render", lambda self, *a, **k: rendered.append(self.name) or real(self, *a, **k))
    later = NOW + timedelta(minutes=5)
    append_results(site / "history", [CheckResult(component=cid, time=later - timedelta(seconds=30), status="up",
                                                  reason="ok", location="ci", message="HTTP 200", latency_ms=80.0)
                                      for cid in IDS])
    build(site, now=later)
    assert rendered.count("component.html") == len(IDS)  # every checked component's page again
    assert "_incident_list.html" not in rendered  # from the parts kept
    _assert_same_as_clean(site, later, tmp_path)


def test_an_incident_edit_renders_only_its_own_card_on_the_front_page(tmp_path, monkeypatch):
    """The front page lists a card for each recent incident, hundreds on a large site: an edit
    of one renders that card again and takes the others as kept, even after a rebuild that
    kept the whole list (a check run)."""
    from generator.render import pages
    from generator.engine.reuse import Outputs

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    later = NOW + timedelta(minutes=5)
    _append_run(site, later - timedelta(seconds=30))
    build(site, now=later)  # the list kept as it was, and with it its cards
    rendered = []
    real = Outputs.fragment

    def recording(self, key, render, **kwargs):
        return real(self, key, lambda: rendered.append(key) or render(), **kwargs)

    monkeypatch.setattr(Outputs, "fragment", recording)
    edited = site / "incidents" / f"{(NOW - timedelta(days=3)):%Y-%m-%d}-trouble-1.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Fixed, **really**.", "Fixed: a full disk."),
                      encoding="utf-8")
    build(site, now=later)
    listed = pages._recently_ended(tuple(_loaded(site, later)), later, later - timedelta(days=14))[0]
    assert len(listed) >= 5
    cards = [key for key in rendered if "|" in key]  # a card's key is its incident's facts after a digest
    assert len(cards) == 1
    assert b"a full disk" in (site / "build" / "index.html").read_bytes()
    _assert_same_as_clean(site, later, tmp_path)


def _loaded(site: Path, now: datetime):
    from generator.engine.inputs import read_inputs
    return read_inputs(site, now=now).incidents.incidents


def test_pages_rendered_on_several_cores_are_the_same(tmp_path, monkeypatch, request):
    from generator.render import pages
    from generator.engine.build import render_changed, render_site
    from generator.engine.inputs import read_inputs

    site = _site(tmp_path / "site")
    inputs = read_inputs(site, now=NOW)
    serial = render_site(inputs)
    serial_fragments = render_changed(inputs, {}).fragments_used
    request.getfixturevalue("on_every_core")
    rendered = []
    real = pages.render_page

    def counting(env, template, path, **context):
        rendered.append(template)  # in a forked worker, its own copy of the list
        return real(env, template, path, **context)

    monkeypatch.setattr(pages, "render_page", counting)
    shutil.rmtree(site / CACHE_DIR, ignore_errors=True)
    assert render_site(inputs) == serial
    # incident files parsed by forked workers too
    shutil.rmtree(site / CACHE_DIR, ignore_errors=True)
    parallel = read_inputs(site, now=NOW)
    assert parallel.incidents == inputs.incidents
    assert [i.source_key for i in parallel.incidents.incidents] == [i.source_key for i in inputs.incidents.incidents]
    # incident, component and history pages were rendered by forked workers
    assert not {"incident.html", "component.html", "history.html"} & set(rendered)
    assert {"404.html", "index.html"} <= set(rendered)
    # and the parts of pages they made came back, to be kept for the next build
    forked = render_changed(inputs, {})
    assert forked.fragments_used and forked.fragments_used == serial_fragments


def test_files_deleted_or_changed_by_hand_in_build_are_written_again(tmp_path):
    """What build/ still holds is looked up against the ledger: a file deleted or changed there
    by hand is rendered and written again, and the ledger is saved complete."""
    site = _site(tmp_path / "site")
    build(site, now=NOW)
    edited = site / "incidents" / f"{(NOW - timedelta(days=1)):%Y-%m-%d}-trouble-0.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Fixed, **really**.", "Fixed: a full disk."),
                      encoding="utf-8")
    gone = site / "build" / "incidents" / "2026-11-12-trouble-5" / "index.html"
    gone.unlink()
    tampered = site / "build" / "components" / "svc-3" / "index.html"
    tampered.write_bytes(tampered.read_bytes().replace(b"Service svc-3", b"Service svc-X"))
    report = build(site, now=NOW)
    assert gone.is_file() and b"Service svc-X" not in tampered.read_bytes()
    assert b"a full disk" in (site / "build" / "incidents" / edited.stem / "index.html").read_bytes()
    assert report.written >= 3
    assert build(site, now=NOW).written == 0
    _assert_same_as_clean(site, NOW, tmp_path)


def test_the_incident_cache_an_edits_build_writes_serves_the_next_build(tmp_path, monkeypatch):
    """After an edit, the next build finds every file as that build left it, parsing none."""
    from generator.site import incident_loading

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    edited = sorted((site / "incidents").glob("*trouble*.md"))[0]
    edited.write_text(edited.read_text(encoding="utf-8").replace("Fixed, **really**.", "Fixed: the cache."),
                      encoding="utf-8")
    assert build(site, now=NOW).written >= 1

    def refuse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(incident_loading, "parse_incident", refuse)
    assert build(site, now=NOW).written == 0
    assert b"Fixed: the cache." in (site / "build" / "incidents" / edited.stem / "index.html").read_bytes()


def test_site_yaml_is_parsed_again_only_when_it_changed(tmp_path):
    """A rebuild takes the site's settings from the cache while site.yaml's bytes are the same;
    a changed site.yaml is read again, and a broken one is reported, never taken from the cache.
    (What the build found in each cache is what `heliograph -v build` prints.)"""
    from generator.engine.files import CACHE_READS
    from generator.site.problems import InvalidInput

    def site_cache_after_build() -> str | None:
        CACHE_READS.clear()
        try:
            build(site, now=NOW)
        except InvalidInput:
            return "refused"
        return next((outcome for (cache, outcome) in CACHE_READS if cache == "site"), None)

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    assert site_cache_after_build() == "kept" and build(site, now=NOW).written == 0
    settings = site / "site.yaml"
    good = settings.read_text(encoding="utf-8")
    settings.write_text(good.replace("title: Incremental", "title: Renamed"), encoding="utf-8")
    assert site_cache_after_build() == "other inputs"
    assert b"Renamed" in (site / "build" / "index.html").read_bytes()
    assert site_cache_after_build() == "kept"
    settings.write_text(good.replace("title: Incremental", "title: [unclosed"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InvalidInput):
            build(site, now=NOW)
    settings.write_text(good, encoding="utf-8")
    assert site_cache_after_build() == "other inputs"
    assert b"Renamed" not in (site / "build" / "index.html").read_bytes()
    _assert_same_as_clean(site, NOW, tmp_path)


def test_a_copied_site_with_its_cache_rebuilds_without_parsing_or_rendering_again(tmp_path, monkeypatch):
    """A fresh clone with .heliograph-cache/ and build/ restored (as a CI cache would) has every
    file under new times and inodes but with the same bytes: the caches must still hit."""
    from generator.site import incident_loading
    from generator.history import summary
    from generator.engine.reuse import Ledger

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    copy = tmp_path / "clone"
    shutil.copytree(site, copy)
    reusable = Ledger.check(copy / CACHE_DIR, copy / "build").reusable
    assert len(reusable) > 30

    def refuse(*args, **kwargs):
        raise AssertionError("worked out again")

    monkeypatch.setattr(incident_loading, "parse_incident", refuse)
    monkeypatch.setattr(summary, "_read_window", refuse)  # the closed days
    report = build(copy, now=NOW)
    assert report.written == 0 and report.unchanged == report.files


@pytest.mark.parametrize("library, distribution", [("jinja2", None), ("markupsafe", None), ("babel", None),
                                                   ("markdown", None), ("nh3", None), ("yaml", "pyyaml")])
def test_cache_keys_name_library_versions_as_installed(library, distribution):
    """Keys name versions, not file times: a CI runner installs the same versions anew each run,
    and the cache it restores must still match."""
    import importlib.metadata

    from generator.engine.reuse import installed_version

    assert installed_version(library, distribution) == importlib.metadata.version(distribution or library)


def test_the_history_cache_forgets_days_no_page_shows(tmp_path):
    site = _site(tmp_path / "site")
    build(site, now=NOW)
    entries = site / CACHE_DIR / "history"
    days = sorted({p.name[:10] for p in entries.glob("????-??-??*.pickle")})
    assert days
    build(site, now=NOW + timedelta(days=200))  # every cached day is now older than the 90 shown
    assert not [p for p in entries.glob("????-??-??*.pickle") if p.name[:10] in days]


def test_the_statuspage_documents_state_each_build_s_moment(tmp_path):
    """They state `now` (page.updated_at): never left saying an earlier one."""
    import json

    site = _site(tmp_path / "site")
    build(site, now=NOW)
    later = NOW + timedelta(minutes=5)
    build(site, now=later)
    for name in ("summary.json", "status.json", "components.json", "incidents.json"):
        document = json.loads((site / "build" / "api" / "v2" / name).read_bytes())
        assert document["page"]["updated_at"] == later.strftime("%Y-%m-%dT%H:%M:%S.000Z"), name
