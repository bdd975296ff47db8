"""`heliograph schema`: an editor's view of site.yaml agrees with `heliograph validate`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bad_configs import BEYOND_THE_SCHEMA, SHAPES, with_check
from clirun import REPO, invoke, run
from generator.checks.options import KEYS, TYPE_KEYS
from generator.checks.spec import ALLOWED_KEYS, CHECK_TYPES
from generator.schema import SHIPPED_INCIDENT_SCHEMA, SHIPPED_SITE_SCHEMA
from generator.site.config import parse_site
from generator.site.problems import InvalidInput

MODELINE = "# yaml-language-server: $schema=.heliograph/site.schema.json"


class EditorYaml(yaml.SafeLoader):
    """YAML as yaml-language-server reads it (1.2): only true and false are booleans, so alerts'
    `on:` is the key "on" (PyYAML's 1.1 reads True, which the validator also accepts)."""


EditorYaml.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
EditorYaml.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))


def shipped(path: Path) -> jsonschema.Draft202012Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(text: str, path: Path = SHIPPED_SITE_SCHEMA) -> list[str]:
    return [error.message for error in shipped(path).iter_errors(yaml.load(text, EditorYaml))]


def validator_rejects(text: str) -> bool:
    try:
        parse_site(text, root=Path("."))
    except InvalidInput:
        return True
    return False


@pytest.mark.parametrize(("flag", "path"), [((), SHIPPED_SITE_SCHEMA), (("--incident",), SHIPPED_INCIDENT_SCHEMA)],
                         ids=["site", "incident"])
def test_the_shipped_schema_is_what_the_command_writes_now(flag, path):
    ran = run("schema", *flag)
    assert ran.code == 0, ran.stderr
    assert ran.stdout == path.read_text(encoding="utf-8"), (
        f"{path.name} is out of date with the declarations; run `heliograph schema {' '.join(flag)} -o {path}`")
    assert json.loads(ran.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_demo_site_and_its_incidents_are_valid_under_the_schemas():
    assert schema_errors((REPO / "site.yaml").read_text(encoding="utf-8")) == []
    incidents = sorted((REPO / "incidents").glob("*.md"))
    assert incidents
    for incident in incidents:
        front_matter = incident.read_text(encoding="utf-8").split("---\n")[1]
        assert schema_errors(front_matter, SHIPPED_INCIDENT_SCHEMA) == [], incident.name


def test_init_names_the_schema_it_writes_on_site_yamls_first_line_and_the_site_is_valid_under_it(tmp_path):
    assert invoke("init", "--title", "Acme", cwd=tmp_path).code == 0
    text = (tmp_path / "site.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    schema_file = tmp_path / MODELINE.split("$schema=")[1]  # relative to site.yaml, as the YAML extension reads it
    assert schema_file.read_text(encoding="utf-8") == SHIPPED_SITE_SCHEMA.read_text(encoding="utf-8")
    assert schema_errors(text, schema_file) == []
    # and the same file stays valid once its commented-out alerts example is switched on
    alerts = "\n".join(line.replace("# ", "", 1) if line.startswith(("# alerts:", "#   ")) else line
                       for line in text.splitlines())
    assert "\nalerts:\n" in alerts and schema_errors(alerts, schema_file) == []


def test_a_wrong_value_shows_the_declared_choices_and_bounds(tmp_path):
    messages = schema_errors("site: {title: T, base_url: 'https://s.example/', theme: purple}\n"
                             "display: {uptime_days: 400}\ncomponents: []\n")
    assert any("'auto', 'light', 'dark'" in m for m in messages), messages
    assert any("400 is greater than the maximum of 365" in m for m in messages), messages


@pytest.mark.parametrize("bad", SHAPES, ids=lambda bad: bad.name)
def test_the_schema_and_the_validator_both_reject(bad):
    assert validator_rejects(bad.text), "the validator accepts it"
    assert schema_errors(bad.text), "the schema accepts it"


@pytest.mark.parametrize("bad", BEYOND_THE_SCHEMA, ids=lambda bad: bad.name)
def test_mistakes_only_the_validator_sees_are_listed_as_such(bad):
    assert validator_rejects(bad.text), "the validator accepts it"
    assert schema_errors(bad.text) == [], f"the schema catches it now: move {bad.name!r} to SHAPES"


@pytest.mark.parametrize("check", [
    "https://x.test/health",
    {"url": "https://x.test"},
    {"type": "HTTP", "url": "https://x.test", "method": "post", "body": {"a": 1}, "headers": {"X-A": "b"},
     "follow_redirects": False, "verify_tls": True, "tls_warn_days": 30, "max_body": "64KB", "ca_file": "ca.pem",
     "timeout": "1m30s", "retries": 0, "interval": 60, "degraded_after": "500ms",
     "expect": {"status": ["2xx", 301, "200-299"], "body_contains": "ok", "body_regex": "o+k", "json": {"a.b": 1}}},
    {"type": "tcp", "host": "db.internal", "port": 5432},
    {"type": "dns", "name": "example.com", "record": "mx", "nameserver": "[2620:fe::fe]:53",
     "expect": ["10 mx.example.com"]},
    {"type": "tls", "host": "example.com", "warn_days": 21},
    {"type": "heartbeat", "every": "1h", "grace": "10m"},
], ids=lambda check: check if isinstance(check, str) else check.get("type", "url only"))
def test_good_checks_of_every_form_pass_both(check):
    text = with_check(check)
    assert not validator_rejects(text)
    assert schema_errors(text) == []


def test_every_key_every_check_type_allows_is_declared_for_the_schema():
    undeclared = [(kind, key) for kind in CHECK_TYPES for key in ALLOWED_KEYS[kind]
                  if key not in KEYS and (kind, key) not in TYPE_KEYS]
    assert undeclared == [], "declare these in generator/checks/options.py (KEYS or TYPE_KEYS)"


def test_schema_writes_a_file_and_says_why_when_it_cannot(tmp_path):
    target = tmp_path / "new" / "site.schema.json"
    ran = run("schema", "-o", str(target))
    assert ran.code == 0, ran.stderr
    assert target.read_text(encoding="utf-8") == SHIPPED_SITE_SCHEMA.read_text(encoding="utf-8")
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    ran = run("schema", "-o", str(blocked / "site.schema.json"))
    assert ran.code == 1
    assert ran.stderr.startswith("Error: could not write") and "Traceback" not in ran.stderr
    assert blocked.read_text() == "x"
