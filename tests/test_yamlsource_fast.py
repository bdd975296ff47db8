"""The front matter fast path reads exactly what PyYAML reads, or steps aside."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from generator.site.incidents import parse_incident
from generator.site.problems import InvalidInput
from generator.site.yamlsource import load_with_positions, simple_mapping

KEYS = ["title", "type", "impact", "components", "scheduled_for", "postmortem", "on", "null", "a_b", "Title", "x-y"]
WORDS = ["API", "errors", "on", "yes", "No", "null", "~", "12", "1e3", ".5", "0x1f", "3:25", "2026-11-20",
         "2026-11-20 02:00 UTC", "2026-11-20 02:00:00", "é", "—", "We're", "a:b", "a: b", "#", " #c", "#c", "&a",
         "*a", "!x", "|", ">", "-", "- x", "?", "%", "@", "`", "\\", '"', "'", '"q"', "'q'", '"a\\"b"', "''", "[",
         "]", "{", "}", ",", "=", "<<", "\t", "\u00a0", "\ufeff", "svc-001", "api", " ", "  ", ":"]
COMPONENTS = ["api", "svc-001", "on", "12", "a b", "a:b", '"x"', "x,y", "", " ", "[a]"]


PLAIN = ["API", "errors", "Elevated", "rates", "on", "the", "service", "2026", "é", "We're", "a.b", "x-y"]


def _scalar(rng: random.Random) -> str:
    return " ".join(rng.choice(PLAIN if rng.random() < 0.8 else WORDS) for _ in range(rng.randint(1, 4)))


def _front_matters(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        lines = []
        for _ in range(rng.randint(1, 5)):
            key = rng.choice(KEYS)
            shape = rng.random()
            if shape < 0.5:
                lines.append(f"{key}: {_scalar(rng)}")
            elif shape < 0.65:
                lines.append(f"{key}: [{', '.join(rng.choice(COMPONENTS) for _ in range(rng.randint(0, 3)))}]")
            elif shape < 0.8:
                lines.append(f"{key}:")
                indent = " " * rng.choice((2, 2, 4, 0))
                lines += [f"{indent}- {rng.choice(COMPONENTS)}" for _ in range(rng.randint(1, 3))]
            elif shape < 0.95:
                lines.append(f"{key}:")
                lines += [f"  {rng.choice(COMPONENTS)}: {_scalar(rng)}" for _ in range(rng.randint(1, 3))]
            else:
                lines.append(rng.choice(["# a comment", "", "  # indented comment", f"{key}:  ", "  continued"]))
        yield "\n".join(lines) + rng.choice(("\n", "", "\n\n"))


def _yaml(text: str):
    try:
        return load_with_positions(text, "f.md")[0]
    except Exception as exc:  # noqa: BLE001 - a YAML error: the fast path must not read it either
        return exc


def test_fast_path_reads_what_pyyaml_reads():
    taken = blocks = 0
    for text in _front_matters(20000, 5):
        fast = simple_mapping(text)
        if fast is None:
            continue
        taken += 1
        blocks += "\n " in text
        assert fast == _yaml(text), text
        assert [type(v) for v in fast.values()] == [type(v) for v in _yaml(text).values()], text
    assert taken > 1500 and blocks > 150  # the generator does reach the fast path, blocks too


@pytest.mark.parametrize("text", [
    "title: Elevated API error rates\nimpact: major\ncomponents:\n  api: partial_outage\n  dashboard: degraded_performance\n",
    "title: SEPA rotation\ntype: maintenance\ncomponents: [sepa]\nscheduled_for: 2026-11-12 05:00 UTC\n",
    "title: x  # a comment\nimpact: minor            # none, minor, major, critical\ncomponents:\n  - api\n  - sepa\n",
])
def test_the_shapes_incident_files_use_take_the_fast_path(text):
    assert simple_mapping(text) is not None
    assert simple_mapping(text) == _yaml(text)


def test_errors_still_name_the_line_and_column():
    """The fast path keeps no positions; an error in a front matter it read still points at the value."""
    text = ("---\ntitle: API errors\nimpact: major\ncomponents:\n  api: partial_outage\n  dashbord: degraded_performance\n"
            "---\n\n## 2026-11-20 14:00 UTC · Investigating\nLooking.\n")
    assert simple_mapping(text.split("---\n")[1]) is not None
    with pytest.raises(InvalidInput) as caught:
        parse_incident(text, incident_id="x", file="incidents/x.md", component_ids=("api", "dashboard"),
                       now=datetime(2026, 11, 21, tzinfo=timezone.utc))
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("incidents/x.md", 6, 3)
    assert 'unknown component "dashbord"' in problem.message and "dashboard" in problem.message


def test_the_plain_scalars_read_as_strings_are_those_pyyaml_reads_as_strings():
    """The fast path needs to know which plain scalars PyYAML leaves as strings, without
    importing PyYAML: its own table of PyYAML's implicit resolvers must agree with them."""
    import yaml

    from generator.site.yamlsource import _resolved

    resolver = yaml.resolver.Resolver()
    rng = random.Random(7)
    alphabet = "0123456789-+._:eEbxoOxXabcdfnNtTyYlLsuUrRiIAF~=<!&* \tZ"
    samples = set(WORDS) | {
        "", "~", "null", "Null", "NULL", "nULL", "true", "TRUE", "tRUE", "yes", "Off", "on", "y", "n", "0", "-0",
        "+12", "012", "08", "0o17", "0b101", "0b102", "0x1F", "0xG", "1_000", "1__0", "3:25:45", "190:20:30", "1.5",
        "1.", ".5", "-.inf", ".NaN", ".nan ", "1e3", "1.0e+3", "1.0e3", "6.8523015e+5", "2026-11-20", "2026-1-2",
        "2026-11-20T02:00:00Z", "2026-11-20 02:00:00.5 +02:00", "2026-11-20t2:00:00", "2026-11-20 02:00", "<<", "=",
        "!", "&", "*", "1:2", "1:60", "-1:2",
    }
    samples.update("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(20_000))
    for text in samples:
        expected = resolver.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
        assert (_resolved(text) is not None) == expected, text
