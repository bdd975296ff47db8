"""A corrupt history line: builds skip it and say where it is; validate and --strict fail on it."""

from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from conftest import DEMO_NOW


def corrupt_a_line(demo: Path) -> str:
    shard = demo / "history" / "raw" / "2026" / "11" / "20.jsonl"
    lines = shard.read_text().splitlines(keepends=True)
    lines[4] = '{"v":1,"c":"api","t":"2026-11-20T00:4\n'  # a line cut short, as by a killed writer
    shard.write_text("".join(lines))
    return "history/raw/2026/11/20.jsonl:5"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_build_skips_a_corrupt_line_and_names_it(demo_copy):
    where = corrupt_a_line(demo_copy)
    result = run("--site", str(demo_copy), "build", "--now", DEMO_NOW.isoformat())
    assert result.exit_code == 0, result.output
    assert f"{where}: warning:" in result.output
    assert (demo_copy / "build" / "index.html").is_file()


def test_validate_and_strict_build_fail_on_it(demo_copy):
    where = corrupt_a_line(demo_copy)
    validate = run("--site", str(demo_copy), "validate", "--now", DEMO_NOW.isoformat())
    assert validate.exit_code == 1
    assert f"{where}: error:" in validate.output
    strict = run("--site", str(demo_copy), "build", "--strict", "--now", DEMO_NOW.isoformat())
    assert strict.exit_code == 1 and where in strict.output


def test_demo_history_is_valid(demo_copy):
    result = run("--site", str(demo_copy), "validate", "--now", DEMO_NOW.isoformat())
    assert result.exit_code == 0, result.output
