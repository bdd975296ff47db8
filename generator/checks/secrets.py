"""``${NAME}`` references in check settings: syntax, expansion at check time, and redaction.

Values that came from the environment are treated as secrets: nothing Heliograph records
(messages, details, history) may contain them, so every recorded string goes through a
`Redactor`. URLs are scrubbed too, because credentials often live in userinfo or the query.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any, Callable, Iterable, Mapping, NamedTuple
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
        items = [_expand_value(item, env, used, missing) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)  # a named tuple stays one
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


def secret_header_names(headers: Mapping[str, str]) -> frozenset[str]:
    """The lower-cased names of the headers whose value has a ${NAME} reference."""
    return frozenset(name.lower() for name, value in headers.items() if has_references(value))


def spec_strings(spec: Any) -> list[str]:
    """Every string in a check spec's settings (keys included), e.g. to find the host names in it."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for f in dataclasses.fields(spec):
        walk(getattr(spec, f.name))
    return found


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
    """Scrubs secret values and URL credentials out of anything about to be recorded.

    A secret is found in every form the libraries and servers a check talks to may give it back
    in: any letter case (host names are lower-cased), percent-encoded (either hex case, `+` for a
    space), JSON- or repr-escaped, base64-encoded (basic auth echoed by a server), and, for the
    labels of host names it is part of, IDNA-encoded. `expanded` are the check's strings after
    expansion, where the host names to look at come from.
    """

    def __init__(self, secrets: Mapping[str, str] | None = None, expanded: Iterable[str] = ()):
        # An empty value cannot be found again, and cannot leak.
        named = [(value, f"${{{name}}}") for name, value in (secrets or {}).items() if value]
        forms: list[_Form] = []
        clipped: list[_Form] = []
        starts: list[_Form] = []
        self._base64: list[tuple[str, str]] = []
        for value, placeholder in named:
            # Matching ignores case; only a folding that changes length (ß -> ss) needs its own form.
            for variant in dict.fromkeys((value, value.casefold() if len(value.casefold()) != len(value) else value)):
                forms.append(_Form(variant, len(variant), placeholder, _plain_run(variant)))
                if len(variant) > _MIN_CLIPPED:
                    clipped.append(_Form(variant, len(variant), placeholder + ELLIPSIS))
                if len(variant) > _MIN_START:
                    starts.append(_Form(variant, len(variant), placeholder + ELLIPSIS,
                                        _plain_run(variant[:_MIN_START])))
            self._base64 += [(encoded, placeholder) for encoded in _base64_cores(value)]
        self._forms = _Alternatives(forms, build=_any_encoding)
        self._labels = _Alternatives(
            [_Form(label, len(label), MASK) for label in _secret_host_labels([v for v, _ in named], expanded)],
            build=re.escape,
        )
        # Used only for a text with an ellipsis: most never have one, and its pattern is the slowest to compile.
        self._clipped = _Alternatives(clipped, build=_clipped)
        self._starts = _Alternatives(starts, build=_secret_start)

    def text(self, text: str) -> str:
        text = self._labels.replace(self._forms.replace(text))
        for encoded, placeholder in self._base64:
            text = text.replace(encoded, placeholder)  # base64 is case-sensitive
        if ELLIPSIS in text or "\\u2026" in text.lower():
            text = self._clipped.replace(text)
        text = self._starts.replace(text)
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


# How JSON and repr escape a character in short; a form-encoded query writes a space as `+`,
# and reading one back turns a `+` into a space.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                  "\b": "\\b", "\f": "\\f", "'": "\\'", " ": "+", "+": " "}


def _any_encoding(value: str) -> str:
    """A pattern (to match ignoring case) for value with each character as itself or escaped.

    Each character is matched on its own, since libraries escape only some characters (httpx
    leaves a backslash in a path alone but percent-encodes a space).
    """
    return "".join(_character_pattern(char) for char in value)


class _Form(NamedTuple):
    text: str  # what the pattern is built from, when first needed
    length: int  # of the secret: the longest are matched first, so one that contains another is replaced whole
    replacement: str
    hint: str = ""  # lower-cased text every match contains; "" when there is none to go by


class _Alternatives:
    """Forms matched as one pattern ignoring case, built and compiled when first needed: most
    checks' texts never contain a secret."""

    def __init__(self, forms: list[_Form], build: Callable[[str], str]):
        self._forms = sorted(forms, key=lambda form: form.length, reverse=True)
        self._build = build
        self._pattern: re.Pattern | None = None
        self._hints = [form.hint for form in self._forms] if all(form.hint for form in self._forms) else None

    def replace(self, text: str) -> str:
        if not self._forms:
            return text
        if self._hints is not None:
            # Most texts contain no secret: a plain search tells, without compiling the pattern.
            folded = text.casefold()
            if not any(hint in folded for hint in self._hints):
                return text
        if self._pattern is None:
            self._pattern = re.compile("|".join(f"({self._build(form.text)})" for form in self._forms), re.IGNORECASE)
        return self._pattern.sub(lambda m: self._forms[m.lastindex - 1].replacement, text)


# Messages clip long values with an ellipsis (`result.clip`); a secret cut short there is found
# from this many characters on, and up to the longest a message clips at.
_MIN_CLIPPED = 4
_MAX_CLIPPED = 200
ELLIPSIS = "\u2026"
# A secret's first characters, this many or more, are found with no ellipsis after them too: a
# server or a library may cut a value short with "..." or nothing, and chance does not write that
# many of a secret's characters in a row. (A shorter secret is only ever found whole.)
_MIN_START = 12


def _start_of(value: str, minimum: int) -> str:
    """A pattern for value's first `minimum` characters or more, short of the whole of it."""
    rest = ""
    for char in reversed(value[minimum:min(len(value) - 1, _MAX_CLIPPED)]):
        rest = f"(?:{_character_pattern(char)}{rest})?"
    return _any_encoding(value[:minimum]) + rest


def _clipped(value: str) -> str:
    """A pattern for the start of value, cut short and followed by an ellipsis."""
    return _start_of(value, _MIN_CLIPPED) + _character_pattern(ELLIPSIS)


def _secret_start(value: str) -> str:
    """A pattern for the start of value, cut short where nothing says so."""
    return _start_of(value, _MIN_START)


def _character_pattern(char: str) -> str:
    if char in _UNRESERVED:
        return re.escape(char)  # never escaped by anyone: most of a token's characters
    code = ord(char)
    forms = {char, "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))}
    if char in _SHORT_ESCAPES:
        forms.add(_SHORT_ESCAPES[char])
    if not char.isprintable() or not char.isascii():
        if code < 0x100:
            forms.add(f"\\x{code:02x}")  # repr
        if code < 0x10000:
            forms.add(f"\\u{code:04x}")  # JSON with ensure_ascii, repr
        else:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            forms.add(f"\\u{high:04x}\\u{low:04x}")  # JSON with ensure_ascii
            forms.add(f"\\U{code:08x}")  # repr
    return "(?:" + "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)) + ")"


# Characters that percent-encoding, JSON and repr all leave as they are.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._")
_PLAIN_RUN = re.compile("[A-Za-z0-9._-]{3,}")


def _plain_run(value: str) -> str:
    """The longest run of characters that every form of value keeps as they are, lower-cased."""
    return max(_PLAIN_RUN.findall(value), key=len, default="").lower()


# Base64 of fewer bytes than this gives too few characters to tell a secret from chance.
_MIN_BASE64_BYTES = 6


def _base64_cores(value: str) -> list[str]:
    """The base64 characters that encode value alone, wherever it starts in the encoded bytes.

    A secret inside a longer encoded string ("user:secret" in basic auth) starts at one of three
    offsets in a 3-byte group; the characters at either end also carry bits of its neighbours.
    """
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) < _MIN_BASE64_BYTES:
        return []
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        core = encoded[-(-8 * offset // 6): 8 * (offset + len(raw)) // 6]
        cores.append(core)
        cores.append(core.translate(_URLSAFE))
    return cores


_URLSAFE = str.maketrans("+/", "-_")
_LABEL_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def _secret_host_labels(secrets: list[str], expanded: Iterable[str]) -> set[str]:
    """The IDNA (xn--) forms of every host-name label a secret is part of.

    An encoded label does not contain the secret's characters as they are, so it is found by
    encoding the host names the check was given.
    """
    labels: set[str] = set()
    if not secrets:
        return labels
    for text in expanded:
        for host in _host_candidates(text):
            if host.isascii():
                continue  # ASCII labels are not encoded, and the secret is found in them as it is
            spans = [(m.start(), m.end()) for secret in secrets for m in re.finditer(re.escape(secret), host, re.IGNORECASE)]
            position = 0
            for label in _LABEL_DOTS.split(host):
                start, end = position, position + len(label)
                position = end + 1
                if not label.isascii() and any(a < end and b > start for a, b in spans):
                    labels.update(_idna_forms(label))
    return labels


def _host_candidates(text: str) -> list[str]:
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return [text]
        return [host] if host else [text]
    return [text]


def _idna_forms(label: str) -> set[str]:
    """The label as IDNA 2003 (Python, dnspython) and IDNA 2008 (httpx) encode it."""
    forms = set()
    try:
        forms.add(label.encode("idna").decode("ascii"))
    except UnicodeError:
        pass
    try:
        import idna  # httpx's dependency; only a check run gets here

        forms.add(idna.encode(label, uts46=True).decode("ascii"))
    except (ImportError, UnicodeError, ValueError):
        pass
    try:
        forms.add("xn--" + label.casefold().encode("punycode").decode("ascii"))
    except UnicodeError:
        pass
    return {form for form in forms if form.lower().startswith("xn--")}
