"""What Heliograph withstands from the processes around it: a build killed outright (SIGKILL, an
out-of-memory kill, a cancelled CI job) leaves none of its forked workers running, leaves every
file in build/ whole, and the next build heals the rest.

Real processes throughout: `heliograph build` run in its own process group on a site large
enough that it forks workers, killed at several points of its work, and watched through /proc.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from clirun import process_env

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file() or not hasattr(os, "fork"),
                                reason="watches processes through /proc")

NOW = "2026-11-23T12:00:00Z"
INCIDENTS = 1200  # above the counts from which a cold build parses and renders on forked workers
TEMPORARY = re.compile(r"\..+\.[0-9]+\.[0-9a-f]{8}\.tmp")  # atomic.write_atomically's
GONE_WITHIN_SECONDS = 15  # a runaway stop, not a measure: workers follow their parent at once


def make_site(root: Path, count: int = INCIDENTS) -> Path:
    (root / "incidents").mkdir(parents=True)
    components = "".join(f"  - id: svc-{n}\n    name: Service {n}\n" for n in range(10))
    (root / "site.yaml").write_text("site:\n  title: Killed Builds\n  base_url: https://status.test.example/\n"
                                    f"components:\n{components}")
    for number in range(count):
        day = f"2026-{1 + number // 28 % 10:02d}-{1 + number % 28:02d}"
        (root / "incidents" / f"{day}-incident-{number:05d}.md").write_text(
            f"---\ntitle: Incident {number}\nimpact: minor\ncomponents: [svc-{number % 10}]\n---\n\n"
            f"## {day} 12:{number % 60:02d} UTC · Resolved\nFixed **it** for incident {number}.\n\n"
            f"## {day} 11:{number % 60:02d} UTC · Investigating\nWe are looking into `/v1` errors.\n")
    return root


def start_build(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "generator.cli", "build", "--now", NOW], cwd=root,
                            env=process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def build(root: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--now", NOW], cwd=root,
                          env=process_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def living_in_group(group: int) -> set[int]:
    """The processes of process group `group` that still run (a zombie has ended: only its
    exit status waits for whoever adopted it)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        state, _parent, process_group = stat[stat.rindex(")") + 2:].split()[:3]
        if int(process_group) == group and state not in "ZX":
            found.add(int(entry.name))
    return found


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def whole(relative: str, content: bytes) -> bool:
    """Whether `content` is a complete file of its kind, as a reader of build/ would take it."""
    if not content:
        return False
    suffix = relative.rsplit(".", 1)[-1]
    if suffix == "html":
        lxml.html.document_fromstring(content)
        return content.rstrip().endswith(b"</html>")
    if suffix == "json":
        json.loads(content)
    elif suffix in ("xml", "atom", "rss", "svg"):
        lxml.etree.fromstring(content)
    elif suffix == "ics":
        return content.rstrip().endswith(b"END:VCALENDAR")
    return True


def kill_when(process: subprocess.Popen, output: Path, files_at_least: int, since: float) -> set[int]:
    """SIGKILL the build (only its first process: what an OOM kill or `kill -9 PID` does) once
    its workers run and it has written `files_at_least` files into `output` since `since`;
    the processes of its group at that moment."""
    while process.poll() is None:
        group = living_in_group(process.pid)
        if len(group) > 1 and _written_since(output, since) >= files_at_least:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            return group
        time.sleep(0.02)
    pytest.fail(f"the build ended before it could be killed: {process.stderr.read().decode()}")


def _written_since(output: Path, since: float) -> int:
    count = 0
    for folder, _, names in os.walk(output):
        for name in names:
            try:
                count += os.stat(os.path.join(folder, name)).st_mtime >= since
            except FileNotFoundError:
                pass
    return count


def wait_until_gone(group: int) -> set[int]:
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while (left := living_in_group(group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The site, and what a clean build of it writes."""
    root = make_site(tmp_path_factory.mktemp("killed") / "site")
    reference = tmp_path_factory.mktemp("reference") / "site"
    shutil.copytree(root, reference)
    build(reference)
    return root, files_in(reference / "build")


def test_a_killed_build_leaves_no_worker_running_and_no_file_half_written(clean, tmp_path):
    template, expected = clean
    root = tmp_path / "site"
    shutil.copytree(template, root)
    output = root / "build"
    # Killed while its workers parse, as the first pages appear, and half-way through writing them.
    for files_at_least in (0, 1, INCIDENTS // 2):
        since = time.time() - 1  # file times are coarser than the clock on some file systems
        process = start_build(root)
        group = kill_when(process, output, files_at_least, since)
        assert len(group) > 1, "the build had no workers to leave behind"
        assert wait_until_gone(process.pid) == set(), "workers outlived their killed build"
        found = files_in(output) if output.is_dir() else {}
        for relative, content in found.items():
            if TEMPORARY.fullmatch(relative.rsplit("/", 1)[-1]) or relative == ".heliograph-unfinished":
                continue  # a write cut short, never under an output's own name; the next build removes it
            meant_empty = expected.get(relative) == b""  # .nojekyll: its presence is what it says
            assert meant_empty or whole(relative, content), f"{relative} is cut short"
            if relative != ".heliograph-manifest":  # lists what was claimed so far
                assert content == expected.get(relative), f"{relative} is neither absent nor as a build writes it"
    build(root)
    healed = files_in(output)
    assert healed.keys() == expected.keys()
    assert [name for name in healed if healed[name] != expected[name]] == []


def test_forked_workers_end_with_their_parent(tmp_path):
    """A cold build's workers (fork_map): killing the build leaves none of them working."""
    script = textwrap.dedent("""
        import sys, time
        from generator.engine.parallel import fork_map

        def busy(item):
            time.sleep(3600)  # a worker that would never finish by itself

        print("started", flush=True)
        fork_map(busy, range(8), minimum=2)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], env=process_env(), stdout=subprocess.PIPE,
                               start_new_session=True)
    assert process.stdout.readline() == b"started\n"
    deadline = time.monotonic() + 60
    while len(living_in_group(process.pid)) < 3 and time.monotonic() < deadline:  # the parent, 2 workers
        time.sleep(0.02)
    assert len(living_in_group(process.pid)) >= 3, "the workers never started"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert wait_until_gone(process.pid) == set()


def test_a_worker_where_the_kernel_cannot_be_asked_still_ends_with_its_parent(tmp_path):
    """macOS and the BSDs have no PR_SET_PDEATHSIG: there a thread of the worker notices that it
    was handed to another parent. Exercised here on its own, as it runs there."""
    script = textwrap.dedent("""
        import os, threading, time
        from generator.engine import parallel

        parent = os.getpid()
        if os.fork() == 0:
            try:
                threading.Thread(target=parallel._exit_when_orphaned, args=(parent,), daemon=True).start()
            finally:
                time.sleep(3600)  # a worker that would never finish by itself
                os._exit(0)
        print("started", flush=True)
        time.sleep(3600)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], env=process_env(), stdout=subprocess.PIPE,
                               start_new_session=True)
    assert process.stdout.readline() == b"started\n"
    assert len(living_in_group(process.pid)) == 2
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert wait_until_gone(process.pid) == set()
