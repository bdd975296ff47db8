"""JSON Schema (draft 2020-12) for site.yaml, written from the declarations the validator reads
(generator/site/options.py, spec.COMMON_OPTIONS and generator/checks/options.py), so an editor
and `heliograph validate` agree on every key, type, default, bound and allowed value.

The schema checks shapes; what needs the whole site (an unknown component id, a duplicate id, a
time zone that exists, a reachable URL) is left to `heliograph validate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.alerts.announce import ANNOUNCE_KEYS
from generator.alerts.settings import ALERT_KEYS
from generator.checks.options import HTTP_EXPECT, check_options
from generator.checks.spec import CHECK_TYPES
from generator.site import options
from generator.site.config import SLUG
from generator.site.incidents import COMPONENT_EFFECTS, FRONT_MATTER_KEYS, IMPACTS
from generator.site.options import Option
from generator.site.subscribe import SUBSCRIBE_KEYS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SHIPPED_SITE_SCHEMA = Path(__file__).with_name("site.schema.json")
SHIPPED_INCIDENT_SCHEMA = Path(__file__).with_name("incident.schema.json")

# A number of seconds, or units such as 500ms, 10s, 5m, 1h, 1m30s (spec.parse_duration).
_DURATION_TEXT = r"^\s*((\d+(\.\d+)?|\.\d+)\s*|((\d+(\.\d+)?|\.\d+)\s*([mM][sS]|[sSmMhHdD])\s*)+)$"
# A number of bytes, or 64KB, 1MB, 1MiB (spec.parse_size).
_SIZE_TEXT = r"^\s*\d+(\.\d+)?\s*([bB]|[kKmM]([iI]?[bB])?)?\s*$"
_URL_SHORTHAND = r"^\s*[hH][tT][tT][pP][sS]?://"


def site_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": "https://heliograph.dev/schema/site.schema.json",
        "title": "Heliograph site.yaml",
        "description": "A Heliograph status site's configuration. `heliograph validate` checks it fully.",
        **_object(options.TOP, nullable=False, children={
            "site": _object(options.SITE, nullable=False, description=_description(options.TOP, "site"),
                            children={"links": _links()}),
            "display": _object(options.DISPLAY, description=_description(options.TOP, "display")),
            "history": _object(options.HISTORY, description=_description(options.TOP, "history")),
            "checks": _object(options.CHECKS, description=_description(options.TOP, "checks")),
            "badges": _object(options.BADGES, description=_description(options.TOP, "badges")),
            # These sections' own parsers check their values; the schema knows their key names.
            "alerts": _keys_only("alerts", ALERT_KEYS),
            "announce": _keys_only("announce", ANNOUNCE_KEYS),
            "subscribe": _keys_only("subscribe", SUBSCRIBE_KEYS),
            "components": {
                "description": _description(options.TOP, "components"),
                "type": ["array", "null"],
                "items": _object(options.COMPONENT, nullable=False, children={
                    "id": _component_id(),
                    "check": _check(), "alerts": {**_property(options.by_name(options.COMPONENT)["alerts"], True),
                                                  "items": {"type": "string"}},
                }),
            },
        }),
    }


_TIME = {"type": ["string", "null"], "description": 'A time with its zone, e.g. "2026-11-20 14:00 UTC".'}
# Incident front matter: the keys and values incidents.py allows (FRONT_MATTER_KEYS, IMPACTS,
# COMPONENT_EFFECTS); a key added there without a line here is still allowed, as any value.
_FRONT_MATTER: dict[str, dict[str, Any]] = {
    "title": {"type": "string", "description": "A short description of what happened."},
    "type": {"enum": ["incident", "maintenance"], "default": "incident",
             "description": "incident, or maintenance (planned work, with scheduled_for and scheduled_until)."},
    "impact": {"enum": list(IMPACTS), "description": "How bad it is: " + ", ".join(IMPACTS)
               + " (default: minor; none for maintenance)."},
    "components": {"description": "Component ids from site.yaml, or id -> effect (" + ", ".join(COMPONENT_EFFECTS) + ").",
                   "anyOf": [{"type": "array", "items": {"type": ["string", "number"]}},
                             {"type": "object", "additionalProperties": {"enum": [*COMPONENT_EFFECTS, None]}},
                             {"type": "string"}, {"type": "null"}]},
    "scheduled_for": {**_TIME, "description": "Maintenance only: when the work starts."},
    "scheduled_until": {**_TIME, "description": "Maintenance only: when it is planned to end."},
    "started": {**_TIME, "description": "When it began, if before the first update."},
    "postmortem": {"type": ["string", "null"], "description": "Markdown text, or an https:// URL of the postmortem."},
    "auto": {"type": "boolean", "description": "Set by `heliograph alert send` on incidents it opened."},
}


def incident_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": "https://heliograph.dev/schema/incident.schema.json",
        "title": "Heliograph incident front matter",
        "description": "The YAML between the --- lines at the top of an incidents/*.md file.",
        "type": "object",
        "properties": {key: _FRONT_MATTER.get(key, {}) for key in FRONT_MATTER_KEYS},
        "additionalProperties": False,
        "required": ["title"],
        "if": {"properties": {"type": {"const": "maintenance"}}, "required": ["type"]},
        "then": {"required": ["scheduled_for", "scheduled_until"]},
    }


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as `heliograph schema` writes it and the package ships it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _description(table: tuple[Option, ...], name: str) -> str:
    return options.by_name(table)[name].description


def _object(table: tuple[Option, ...], *, nullable: bool = True, description: str = "",
            children: dict[str, dict] | None = None) -> dict[str, Any]:
    """A mapping of the declared keys. site.yaml leaves a key empty to take its default, so its values
    may be null; a check's may not (an empty check key is an error there)."""
    children = children or {}
    schema: dict[str, Any] = {"type": ["object", "null"] if nullable else "object"}
    if description:
        schema["description"] = description
    schema["properties"] = {option.name: children.get(option.name) or _property(option, nullable_values=True)
                            for option in table}
    schema["additionalProperties"] = False
    if required := options.required(table):
        schema["required"] = list(required)
    return schema


def _property(option: Option, nullable_values: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": option.description} if option.description else {}
    null = ["null"] if nullable_values and not option.required else []
    if option.kind == "string":
        schema["type"] = ["string", "number", *null]  # the validator reads numbers as their text
    elif option.kind == "integer":
        schema["type"] = ["integer", *null]
        if option.minimum is not None:
            schema["minimum"] = option.minimum
        if option.maximum is not None:
            schema["maximum"] = option.maximum
    elif option.kind == "boolean":
        schema["type"] = ["boolean", *null]
    elif option.kind == "choice":
        values = list(option.choices)
        if option.folded:
            values += [v.swapcase() for v in option.choices if v.swapcase() != v]
        schema["enum"] = values + ([None] if null else [])
    elif option.kind == "duration":
        number: dict[str, Any] = {"type": "number"}
        number["minimum" if option.minimum == 0 else "exclusiveMinimum"] = 0
        schema["anyOf"] = [number, {"type": "string", "pattern": _DURATION_TEXT}] + ([{"type": "null"}] if null else [])
    elif option.kind == "size":
        schema["anyOf"] = [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": _SIZE_TEXT}]
    elif option.kind == "mapping":
        schema["type"] = ["object", *null]
    elif option.kind == "list":
        schema["type"] = ["array", *null]
    if option.default is not None:
        schema["default"] = option.default
    return schema


def _component_id() -> dict[str, Any]:
    """The validator's own slug rule, in JSON Schema's regular expressions (which end with $, not \\Z)."""
    return {**_property(options.by_name(options.COMPONENT)["id"]), "type": "string",
            "pattern": SLUG.pattern.replace("\\Z", "$")}


def _keys_only(section: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {"description": _description(options.TOP, section), "type": ["object", "null"],
            "properties": {name: {} for name in names}, "additionalProperties": False}


def _links() -> dict[str, Any]:
    url = {"type": "string", "pattern": r"^(https?://|mailto:)"}
    return {
        "description": _description(options.SITE, "links"),
        "anyOf": [
            {"type": "object", "additionalProperties": url},
            {"type": "array", "items": {"type": "object", "properties": {"label": {"type": ["string", "number"]},
                                                                         "url": url},
                                        "required": ["label", "url"], "additionalProperties": False}},
            {"type": "null"},
        ],
    }


def _check() -> dict[str, Any]:
    """A bare http(s) URL, or a mapping whose `type` picks the keys it may have (http when only a url)."""
    rules = []
    for kind in CHECK_TYPES:
        declared = check_options(kind)
        keys: dict[str, Any] = {option.name: _property(option) for option in declared}
        if kind == "http" and "expect" in keys:
            keys["expect"] = {**keys["expect"], "properties": {option.name: _property(option) for option in HTTP_EXPECT},
                              "additionalProperties": False}
        names = [kind, kind.swapcase()]
        when: dict[str, Any] = {"properties": {"type": {"enum": names}}}
        if kind != "http":  # a check without a type is an http check
            when["required"] = ["type"]
        rules.append({"if": when, "then": {"properties": keys, "additionalProperties": False,
                                           "required": [o.name for o in declared if o.required]}})
    every_type = [*CHECK_TYPES, *(kind.upper() for kind in CHECK_TYPES)]
    mapping = {
        "type": "object",
        "properties": {"type": {"enum": every_type, "description": "What kind of check: " + ", ".join(CHECK_TYPES)}},
        "anyOf": [{"required": ["type"]}, {"required": ["url"]}],
        "allOf": rules,
    }
    return {
        "description": _description(options.COMPONENT, "check"),
        "anyOf": [{"type": "string", "pattern": _URL_SHORTHAND}, mapping],
    }
