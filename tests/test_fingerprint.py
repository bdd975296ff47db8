"""One fingerprint of the code keys every cache: any change to any file of the package, the
theme, a library it uses or Python misses them all, and a rebuild after a code change equals a
clean build."""

from __future__ import annotations

import shutil
from pathlib import Path

from clirun import REPO, run
from generator.engine.fingerprint import LIBRARIES, CodeSources, code_fingerprint, default_theme_dir, fingerprint_of

VERSIONS = (("jinja2", "3.1.4"), ("nh3", "0.2.18"))
NOW = "2026-11-23T12:00:00Z"


def _copy_of_the_code(where: Path) -> CodeSources:
    """The package and its theme laid out as in a checkout, so the copy runs as the real one does."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "generator", where / "generator", ignore=ignore)
    shutil.copytree(REPO / "templates", where / "templates", ignore=ignore)
    return CodeSources(where / "generator", where / "templates")


def _files(sources: CodeSources) -> list[Path]:
    return sorted(p for folder in sources for p in folder.rglob("*") if p.is_file())


def test_changing_any_file_of_the_package_or_theme_changes_the_fingerprint(tmp_path):
    sources = _copy_of_the_code(tmp_path)
    files = _files(sources)
    # Every module counts, not a chosen few: those an old hand-kept list left out among them.
    for name in ("site/text.py", "site/times.py", "checks/result.py", "history/cache.py", "site/incidents.py"):
        assert sources.package / name in files
    assert sources.theme / "base.html" in files
    first = fingerprint_of(sources, VERSIONS)
    seen = {first}
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        changed = fingerprint_of(sources, VERSIONS)
        path.write_bytes(original)
        assert changed not in seen, f"changing {path.relative_to(tmp_path)} left the fingerprint as it was"
        seen.add(changed)
    assert fingerprint_of(sources, VERSIONS) == first  # the same code: the same fingerprint
    (sources.package / "newmodule.py").write_text("X = 1\n", encoding="utf-8")
    assert fingerprint_of(sources, VERSIONS) not in seen


def test_a_library_version_changes_the_fingerprint(tmp_path):
    sources = _copy_of_the_code(tmp_path)
    first = fingerprint_of(sources, VERSIONS)
    assert fingerprint_of(sources, (("jinja2", "3.1.5"), ("nh3", "0.2.18"))) != first
    assert fingerprint_of(sources, VERSIONS[:1]) != first
    named = {library for library, _ in LIBRARIES}
    assert {"yaml", "markdown", "nh3", "orjson", "jinja2"} <= named


def test_the_running_code_is_what_is_fingerprinted():
    assert default_theme_dir().resolve() == (REPO / "templates").resolve()
    assert code_fingerprint() == code_fingerprint()
    assert len(code_fingerprint()) == 40


def _site(root: Path) -> Path:
    (root / "incidents").mkdir(parents=True)
    (root / "site.yaml").write_text(
        "site:\n  title: Fingerprinted\n  base_url: https://status.example/\n  timezone: UTC\n"
        "components:\n  - id: api\n    name: API\n  - id: web\n    name: Web\n", encoding="utf-8")
    for number in range(3):
        (root / "incidents" / f"2026-11-1{number}-trouble.md").write_text(
            f"---\ntitle: Trouble {number}\nimpact: major\ncomponents: [api]\n---\n\n"
            f"## 2026-11-1{number} 11:00 UTC · Resolved\nFixed, **really** (number {number}).\n\n"
            f"## 2026-11-1{number} 10:00 UTC · Investigating\nWe are looking into it.\n", encoding="utf-8")
    return root


def _outputs(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _build(site: Path, code: Path) -> None:
    ran = run("build", "--now", NOW, cwd=site, env={"PYTHONPATH": str(code)}, timeout=120)
    assert ran.code == 0, ran.stderr


def test_a_rebuild_after_a_code_change_equals_a_clean_build(tmp_path):
    """The incident parse cache keeps each incident's plain text, which text.py makes: a change
    there must reach every feed and page on the next build, not only on a clean one."""
    code = tmp_path / "code"
    sources = _copy_of_the_code(code)
    site = _site(tmp_path / "site")
    _build(site, code)
    before = _outputs(site / "build")

    text = sources.package / "site" / "text.py"
    source = text.read_text(encoding="utf-8")
    assert "def plain_from_html(" in source
    text.write_text(source.replace("def plain_from_html(", "def _plain_from_html(")
                    + "\n\ndef plain_from_html(safe_html: str) -> str:\n"
                      "    return 'Edited: ' + _plain_from_html(safe_html)\n", encoding="utf-8")
    _build(site, code)
    rebuilt = _outputs(site / "build")

    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", ".heliograph-cache"))
    _build(clean, code)
    fresh = _outputs(clean / "build")
    assert any(b"Edited: Fixed" in content for content in fresh.values())  # the edit shows somewhere
    assert rebuilt != before
    assert rebuilt.keys() == fresh.keys()
    assert [path for path in fresh if rebuilt[path] != fresh[path]] == []



def test_build_clean_ignores_and_rewrites_every_cache(tmp_path):
    code = tmp_path / "code"
    _copy_of_the_code(code)
    site = _site(tmp_path / "site")
    _build(site, code)
    cache = site / ".heliograph-cache"
    folders = sorted(p.name for p in cache.iterdir() if p.is_dir())
    assert {"incidents", "outputs", "fragments"} <= set(folders)
    (cache / "left-by-an-old-version.pickle").write_bytes(b"junk")
    for entry in (cache / "incidents").glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    ran = run("-v", "build", "--clean", "--now", NOW, cwd=site, env={"PYTHONPATH": str(code)}, timeout=120)
    assert ran.code == 0, ran.stderr
    assert "caches: none yet" in ran.stdout
    assert not (cache / "left-by-an-old-version.pickle").exists()
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == folders
    assert all(entry.read_bytes() != b"not a pickle" for entry in (cache / "incidents").glob("*.pickle"))
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", ".heliograph-cache"))
    _build(clean, code)
    assert _outputs(site / "build") == _outputs(clean / "build")


def test_verbose_build_says_why_the_caches_miss(tmp_path):
    code = tmp_path / "code"
    sources = _copy_of_the_code(code)
    site = _site(tmp_path / "site")

    def said() -> str:
        ran = run("-v", "build", "--now", NOW, cwd=site, env={"PYTHONPATH": str(code)}, timeout=120)
        assert ran.code == 0, ran.stderr
        return next(line for line in ran.stdout.splitlines() if line.startswith("caches: "))

    assert said().startswith("caches: none yet")
    assert said().startswith("caches: kept")
    with (sources.package / "site" / "times.py").open("a", encoding="utf-8") as module:
        module.write("\n# an edit\n")
    assert said().startswith("caches: other code or library versions wrote them")
    assert said().startswith("caches: kept")
    (site / ".heliograph-cache" / "code-fingerprint.txt").write_bytes(b"\xff\xfe")
    assert said().startswith("caches: unreadable")


def test_verbose_build_says_what_each_cache_held(tmp_path):
    """`-v` names each cache the build read and what it found there: kept entries, or why they
    missed (absent, corrupt, made from other inputs)."""
    site = _site(tmp_path / "site")

    def said() -> dict[str, str]:
        ran = run("-v", "build", "--now", NOW, cwd=site, timeout=120)
        assert ran.code == 0, ran.stderr
        lines = [line.strip() for line in ran.stdout.splitlines() if line.startswith("  ")]
        return dict(line.split(": ", 1) for line in lines)

    first = said()
    assert first["site"] == "1 absent" and first["incidents (listing)"] == "1 absent"
    assert set(first["outputs (buckets)"].split(" ", 1)[1:]) == {"absent"}
    again = said()
    assert all(found.endswith(" kept") for found in again.values()), again
    bucket = sorted((site / ".heliograph-cache" / "incidents").glob("[0-9]*.pickle"))[0]
    bucket.write_bytes(b"not a pickle")
    with (site / "site.yaml").open("a", encoding="utf-8") as settings:
        settings.write("\n# an edit\n")
    third = said()
    assert "1 corrupt" in third["incidents (buckets)"]
    assert third["site"] == "1 other inputs"
