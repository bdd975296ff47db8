"""What differs between Linux, macOS and Windows is covered by one path that works on each:
a build without os.fork (HELIOGRAPH_PARALLEL=serial, as on Windows) writes what a forked build
writes, day numbers are formatted without glibc's "%-d", and history appends without os.pread."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from clirun import REPO, run
from generator.render.environment import portable_strftime

sys.path.insert(0, str(REPO / "benchmarks"))

from make_history import generate  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
# Past each threshold at which a build spreads work over forked workers: history summaries by
# component, shard digests and shard summaries by day.
IDS = [f"comp-{n:02d}" for n in range(1, 46)]
INCIDENTS = 30


def _site(root: Path) -> Path:
    (root / "incidents").mkdir(parents=True)
    components = "".join(f"  - id: {cid}\n    name: Component {cid}\n    check: {{type: tcp, host: {cid}.example, port: 443}}\n"
                         for cid in IDS)
    (root / "site.yaml").write_text(
        "site:\n  title: Portable\n  base_url: https://status.example/\n  timezone: Europe/Berlin\n"
        f"history:\n  dir: history\n  raw_days: 40\ncomponents:\n{components}", encoding="utf-8")
    for number in range(INCIDENTS):
        day = (NOW - timedelta(days=number + 1)).date()
        (root / "incidents" / f"{day.isoformat()}-outage-{number}.md").write_text(
            f"---\ntitle: Outage {number}\nimpact: minor\ncomponents: [{IDS[number % len(IDS)]}]\n---\n\n"
            f"## {day.isoformat()} 09:05 UTC · Resolved\nBack on day {day.day}.\n\n"
            f"## {day.isoformat()} 08:00 UTC · Investigating\nLooking.\n", encoding="utf-8")
    generate(root / "history", IDS, start=NOW - timedelta(days=20), end=NOW, interval_s=3600)
    return root


def _outputs(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


_WORKERS = """
import json, os
from generator.engine.parallel import fork_map
here = os.getpid()
print(json.dumps(sorted({pid == here for pid in fork_map(lambda item: os.getpid(), list(range(64)), minimum=2)})))
"""


def _ran_here(env: dict[str, str]) -> list[bool]:
    """For the items of a fork_map in a fresh process: whether they ran in that process, or in workers."""
    done = subprocess.run([sys.executable, "-c", _WORKERS], capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env}, check=True)
    return json.loads(done.stdout)


def test_heliograph_parallel_serial_keeps_all_work_in_one_process():
    assert _ran_here({"HELIOGRAPH_PARALLEL": "serial"}) == [True]
    if hasattr(os, "fork") and (os.cpu_count() or 1) > 1:
        assert _ran_here({"HELIOGRAPH_PARALLEL": ""}) == [False]


def test_a_build_without_fork_equals_a_forked_build(tmp_path):
    forked = _site(tmp_path / "forked")
    serial = tmp_path / "serial"
    shutil.copytree(forked, serial)
    for site, parallel in ((forked, ""), (serial, "serial")):
        for _ in range(2):  # cold, then a rebuild from the cache each way made
            ran = run("build", "--now", NOW.isoformat(), cwd=site, env={"HELIOGRAPH_PARALLEL": parallel}, timeout=180)
            assert ran.code == 0, ran.stderr
    one, other = _outputs(forked / "build"), _outputs(serial / "build")
    assert len(one) > INCIDENTS + len(IDS)
    assert one.keys() == other.keys()
    assert [path for path in one if one[path] != other[path]] == []


def test_day_numbers_have_no_leading_zero_on_every_platform():
    assert portable_strftime(date(2026, 3, 5), "%b %-d, %Y") == "Mar 5, 2026"
    moment = datetime(2026, 3, 5, 7, 8, 9)
    assert portable_strftime(moment, "%-m/%-d %-H:%M:%S") == "3/5 7:08:09"
    assert portable_strftime(moment, "100%% %%-d %d") == "100% %-d 05"  # a literal percent stays one


def test_a_page_shows_day_numbers_as_people_write_them(tmp_path):
    site = tmp_path / "site"
    (site / "incidents").mkdir(parents=True)
    (site / "site.yaml").write_text("site:\n  title: Days\n  base_url: https://status.example/\n  timezone: UTC\n"
                                    "components:\n  - id: api\n    name: API\n", encoding="utf-8")
    (site / "incidents" / "2026-11-05-slow.md").write_text(
        "---\ntitle: Slow\nimpact: minor\ncomponents: [api]\n---\n\n"
        "## 2026-11-05 09:00 UTC · Resolved\nFast again.\n", encoding="utf-8")
    ran = run("build", "--now", "2026-11-06T12:00:00Z", cwd=site, env={"HELIOGRAPH_PARALLEL": "serial"})
    assert ran.code == 0, ran.stderr
    page = (site / "build" / "incidents" / "2026-11-05-slow" / "index.html").read_text(encoding="utf-8")
    assert "Nov 5, 2026" in page and "Nov 05" not in page


_APPEND_WITHOUT_PREAD = """
import os, sys
from datetime import datetime, timezone
del os.pread  # as on Windows
from generator.checks.result import CheckResult
from generator.history import append_results, read_results
from generator.history.store import raw_shard_path
history = sys.argv[1]
at = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
append_results(history, [CheckResult(component="api", time=at, status="up", reason="ok", message="", latency_ms=12.0,
                                 location="ci")])
with open(raw_shard_path(history, at.date()), "ab") as shard:
    shard.write(b'{"v":1,"c":"api","t":"2026-11-23T12:0')  # a writer killed mid-line
append_results(history, [CheckResult(component="api", time=at.replace(minute=5), status="down", reason="timeout",
                                     message="", latency_ms=None, location="ci")])
problems = []
print([(r.time.minute, r.status) for r in read_results(history, problems=problems)], len(problems))
"""


def test_appending_where_the_platform_has_no_pread_keeps_every_line_whole(tmp_path):
    done = subprocess.run([sys.executable, "-c", _APPEND_WITHOUT_PREAD, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[(0,", "'up'),", "(5,", "'down')]", "1"]


def test_the_suite_runs_on_linux_macos_and_windows_in_ci():
    import tomllib

    import yaml

    jobs = yaml.safe_load((REPO / ".github" / "workflows" / "test.yml").read_text(encoding="utf-8"))["jobs"]
    systems = set()
    for job in jobs.values():
        runner = job["runs-on"]
        names = job.get("strategy", {}).get("matrix", {}).get("os", []) if "matrix.os" in runner else [runner]
        for name in names:
            systems.add(name.split("-")[0])
            # Browser tests are skipped only where there is no Debian chromium, never on Linux.
            skips = job.get("env", {}).get("HELIOGRAPH_SKIP_BROWSER_TESTS")
            assert (skips == "1") == (name.split("-")[0] != "ubuntu"), name
    assert systems == {"ubuntu", "macos", "windows"}
    classifiers = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["classifiers"]
    assert {"Operating System :: POSIX :: Linux", "Operating System :: MacOS",
            "Operating System :: Microsoft :: Windows"} <= set(classifiers)
