"""`alerts:` in site.yaml: the channels (Apprise URLs) and the rules, validated with every error located.

Parsing never imports Apprise (a build reads site.yaml every few minutes); `heliograph
validate` asks Apprise whether each URL parses (`send.url_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from generator.checks.secrets import reference_errors
from generator.checks.spec import parse_duration
from generator.site.problems import did_you_mean

ALERT_KEYS = ("channels", "failure_threshold", "success_threshold", "send_on_resolved", "remind_every", "on",
              "timeout", "auto_incident")
CHANNEL_KEYS = ("url", "components", "on")
STATES = ("down", "degraded")
DEFAULT_TIMEOUT = 10.0

Report = Callable[[tuple, str], None]  # (path relative to `alerts`, message)
Locate = Callable[[tuple], tuple[int | None, int | None]]  # (path relative to `alerts`) -> (line, column)


@dataclass(frozen=True)
class Channel:
    name: str
    url: str  # as written: `${NAME}` references are expanded only when sending
    components: tuple[str, ...] | None = None  # None: every component
    on: tuple[str, ...] | None = None  # None: the rules' `on`
    line: int | None = None  # where the URL is in site.yaml, for `validate`
    column: int | None = None


@dataclass(frozen=True)
class AlertSettings:
    channels: tuple[Channel, ...] = ()
    failure_threshold: int = 3  # consecutive failed rounds before the alert
    success_threshold: int = 2  # consecutive good rounds before the resolved message
    send_on_resolved: bool = True
    remind_every: float | None = None  # seconds; None: no reminders
    on: tuple[str, ...] = ("down",)
    timeout: float = DEFAULT_TIMEOUT  # per channel, seconds
    auto_incident: bool = False  # every component's default; a component's own `auto_incident` wins

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)


def parse_alerts(raw: Any, report: Report, locate: Locate) -> AlertSettings:
    if raw is None:
        return AlertSettings()
    if not isinstance(raw, dict):
        report((), "alerts must be a mapping, e.g. `alerts: {channels: {team: \"mailto://...\"}}`")
        return AlertSettings()
    on_key = _on_key(raw)
    for key in raw:
        if key not in ALERT_KEYS and key is not on_key:
            report((key,), f'unknown key "{key}" in alerts{did_you_mean(str(key), ALERT_KEYS)}; '
                   f"allowed keys: {', '.join(ALERT_KEYS)}")
    defaults = AlertSettings()
    return AlertSettings(
        channels=_channels(raw.get("channels"), report, locate),
        failure_threshold=_count(raw, "failure_threshold", defaults.failure_threshold, report),
        success_threshold=_count(raw, "success_threshold", defaults.success_threshold, report),
        send_on_resolved=_flag(raw, "send_on_resolved", defaults.send_on_resolved, report),
        remind_every=_remind_every(raw.get("remind_every"), report),
        on=_states(raw.get(on_key), (on_key,), report) or defaults.on,
        timeout=_seconds(raw.get("timeout"), ("timeout",), defaults.timeout, report),
        auto_incident=_flag(raw, "auto_incident", defaults.auto_incident, report),
    )


def parse_component_alerts(raw: Any, report: Callable[[str], None]) -> tuple[str, ...] | None:
    """A component's `alerts: [channel, ...]`: only these channels hear about it (`[]`: none)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        report('"alerts" must be a list of channel names from alerts.channels, e.g. `alerts: [team-email]`')
        return None
    return tuple(raw)


def auto_incident_components(settings: AlertSettings, components) -> frozenset[str]:
    """The ids of the components whose outages open an incident: their own `auto_incident`, else alerts'."""
    return frozenset(c.id for c in components
                     if (c.auto_incident if c.auto_incident is not None else settings.auto_incident))


def channel_name_problems(settings: AlertSettings, components: dict[str, tuple[str, ...] | None],
                          known_components: tuple[str, ...]) -> list[tuple[str, str]]:
    """(component id, message) for each component override naming a channel that does not exist."""
    names = tuple(c.name for c in settings.channels)
    return [(component_id, f'no alert channel named "{name}"{did_you_mean(name, names)}; '
             f"channels: {', '.join(names) or 'none (add alerts.channels)'}")
            for component_id, chosen in components.items() for name in chosen or () if name not in names]


def _channels(raw: Any, report: Report, locate: Locate) -> tuple[Channel, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        report(("channels",), "alerts.channels must map a name to an Apprise URL, e.g. "
               "`team-email: \"mailto://user:${SMTP_PASSWORD}@example.com\"`")
        return ()
    channels = []
    for name, value in raw.items():
        path: tuple = ("channels", name)
        entry = {"url": value} if isinstance(value, str) else value
        if not isinstance(entry, dict):
            report(path, f'alert channel "{name}" must be an Apprise URL or a mapping with `url:`')
            continue
        on_key = _on_key(entry)
        for key in entry:
            if key not in CHANNEL_KEYS and key is not on_key:
                report(path + (key,), f'unknown key "{key}" in alert channel "{name}"'
                       f"{did_you_mean(str(key), CHANNEL_KEYS)}; allowed keys: {', '.join(CHANNEL_KEYS)}")
        url = entry.get("url")
        url_path = path if isinstance(value, str) else path + ("url",)
        if not isinstance(url, str) or "://" not in url:
            report(url_path, f'alert channel "{name}" needs an Apprise URL such as "mailto://..." or '
                   '"discord://webhook_id/webhook_token" (see https://github.com/caronc/apprise/wiki)')
            continue
        for error in reference_errors(url):
            report(url_path, error)
        components = entry.get("components")
        if components is not None and not (isinstance(components, list) and all(isinstance(c, str) for c in components)):
            report(path + ("components",), "components must be a list of component ids")
            components = None
        line, column = locate(url_path)
        channels.append(Channel(str(name), url.strip(), tuple(components) if components is not None else None,
                                _states(entry.get(on_key), path + (on_key,), report), line, column))
    return tuple(channels)


def _on_key(mapping: dict) -> object:
    """How `on:` came out of YAML: a bare `on` is the boolean true in YAML 1.1, as PyYAML reads it."""
    return True if True in mapping and "on" not in mapping else "on"


def _states(raw: Any, path: tuple, report: Report) -> tuple[str, ...] | None:
    if raw is None:
        return None
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or any(v not in STATES for v in values):
        report(path, f'"on" must list the states that alert: [down] or [down, degraded], not {raw!r}')
        return None
    return tuple(dict.fromkeys(values))


def _count(raw: dict, key: str, default: int, report: Report) -> int:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        report((key,), f'"{key}" must be a whole number from 1 to 1000, not {value!r}')
        return default
    return value


def _flag(raw: dict, key: str, default: bool, report: Report) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        report((key,), f'"{key}" must be true or false, not {value!r}')
        return default
    return value


def _remind_every(value: Any, report: Report) -> float | None:
    if value is None or value is False or value in ("off", "never", 0):  # YAML reads a bare `off` as false
        return None
    seconds = _seconds(value, ("remind_every",), None, report)
    return seconds if seconds else None


def _seconds(value: Any, path: tuple, default: float | None, report: Report) -> float | None:
    if value is None:
        return default
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        report(path, f'"{path[-1]}": {error}')
        return default
    if seconds <= 0:
        report(path, f'"{path[-1]}" must be more than zero')
        return default
    return seconds
