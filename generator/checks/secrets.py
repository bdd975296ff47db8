"""``${NAME}`` references in check settings: syntax, expansion at check time, and redaction.

Values that came from the environment are treated as secrets: nothing Heliograph records
(messages, details, history) may contain them, so every recorded string goes through a
`Redactor`. URLs are scrubbed too, because credentials often live in userinfo or the query.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

# "$${" is the escape for a literal "${".
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
MASK = "***"


class MissingSecret(Exception):
    def __init__(self, names: list[str]):
        self.names = names
        listed = ", ".join(f'"{name}"' for name in names)
        plural = "s" if len(names) > 1 else ""
        super().__init__(f"environment variable{plural} {listed} not set (referenced as ${{...}} in the check)")


def reference_errors(text: str) -> list[str]:
    """Why the ``${...}`` references in text are malformed; empty when they are fine."""
    errors = []
    for match in _REFERENCE.finditer(text):
        token = match.group(0)
        if token == "$${":
            continue
        name = match.group(1)
        if name is None:
            errors.append('unclosed "${": write ${NAME} to use an environment variable, or $${ for a literal "${"')
        elif not _NAME.match(name):
            errors.append(
                f'"${{{name}}}" is not a valid environment variable reference: names use letters, digits and '
                'underscores and do not start with a digit (write $${ for a literal "${")'
            )
    return errors


def reference_names(text: str) -> list[str]:
    return [m.group(1) for m in _REFERENCE.finditer(text) if m.group(1) is not None and _NAME.match(m.group(1))]


def has_references(text: str) -> bool:
    return bool(reference_names(text))


def expand_text(text: str, env: Mapping[str, str], used: dict[str, str], missing: list[str]) -> str:
    """Expand references in one string; records which variables were used or missing."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name is None or not _NAME.match(name):
            return match.group(0)  # parse-time validation reports these; leave them literal
        if name not in env:
            if name not in missing:
                missing.append(name)
            return ""
        used[name] = env[name]
        return env[name]

    return _REFERENCE.sub(replace, text)


def _expand_value(value: Any, env: Mapping[str, str], used: dict[str, str], missing: list[str]) -> Any:
    if isinstance(value, str):
        return expand_text(value, env, used, missing)
    if isinstance(value, dict):
        return {
            _expand_value(k, env, used, missing): _expand_value(v, env, used, missing) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expand_value(item, env, used, missing) for item in value]
    if isinstance(value, tuple):
        return tuple(_expand_value(item, env, used, missing) for item in value)
    return value


def expand_spec(spec: Any, env: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
    """A copy of a check spec with every string field expanded, and the variables used (name -> value).

    Raises MissingSecret naming every variable that is not set.
    """
    used: dict[str, str] = {}
    missing: list[str] = []
    changes = {
        f.name: _expand_value(getattr(spec, f.name), env, used, missing)
        for f in dataclasses.fields(spec)
        if f.init and f.name != "type"
    }
    if missing:
        raise MissingSecret(missing)
    return dataclasses.replace(spec, **changes), used


def redact_url(url: str) -> str:
    """The URL without userinfo credentials or query values: https://u:p@h/x?k=v -> https://***@h/x?k=***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        query = "&".join(_mask_query_item(item) for item in query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _mask_query_item(item: str) -> str:
    if "=" not in item:
        return item
    key, value = item.split("=", 1)
    return f"{key}={MASK}" if value else item


class Redactor:
    """Scrubs secret values and URL credentials out of anything about to be recorded."""

    def __init__(self, secrets: Mapping[str, str] | None = None):
        replacements: dict[str, str] = {}
        for name, value in (secrets or {}).items():
            if not value:
                continue  # an empty value cannot be found again, and cannot leak
            replacements[value] = f"${{{name}}}"
            escaped = repr(value)[1:-1]  # the form a secret takes inside exception reprs
            if escaped != value:
                replacements[escaped] = f"${{{name}}}"
        # Longest first, so a secret that contains another is replaced whole.
        self._replacements = sorted(replacements.items(), key=lambda item: len(item[0]), reverse=True)

    def text(self, text: str) -> str:
        for value, placeholder in self._replacements:
            text = text.replace(value, placeholder)
        return _URL.sub(lambda m: redact_url(m.group(0)), text)

    def value(self, value: Any) -> Any:
        """Redacts every string inside a JSON-like value (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value
