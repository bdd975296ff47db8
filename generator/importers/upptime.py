"""Upptime (https://github.com/upptime/upptime): a repository's `.upptimerc.yml`, its `history/`,
and its incidents, which are GitHub issues, from the JSON that

    gh issue list --state all --limit 1000 --json number,title,body,labels,createdAt,closedAt,comments > issues.json

writes (given with --issues, or found as issues.json in the repository).

- `sites` become components with an http check (`method`, `headers`, `body`,
  `expectedStatusCodes`, `maxResponseTime` as `degraded_after`) or a tcp check (`check:
  tcp-ping`); Upptime's `$SECRET` placeholders become `${SECRET}`, listed for the environment.
- `status-website` gives the page's name, logo and address (`cname`, or `baseUrl`).
- `history/summary.json`'s `dailyMinutesDown`, from each site's `startTime` (in
  `history/<slug>.yml`) to its last update, becomes one daily figure per day: the share of the
  day's minutes not down. Upptime keeps no more per day (no response times, no check counts).
- Issues labelled `status` become incidents (opened when the issue was, each comment an update,
  resolved when it was closed); issues labelled `maintenance` with `start:`/`end:` in their
  body become maintenance windows. Other issues are not status posts and are left out.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from generator.importers.model import (ImportedComponent, ImportedDay, ImportedIncident, ImportedSite, ImportedUpdate,
                                      NotCarried, SourceError)
from generator.checks.spec import DEFAULT_TIMEOUT
from generator.site.authoring import DEFAULT_MESSAGES, slugify

CONFIG = ".upptimerc.yml"
# Upptime's secrets: $NAME, and the __NAME__ form some status repositories write instead.
_PLACEHOLDER = re.compile(r"\$([A-Z][A-Z0-9_]*)|__([A-Z][A-Z0-9_]*[A-Z0-9])__")
_CARRIED_SITE_KEYS = {"name", "url", "method", "headers", "body", "expectedStatusCodes", "maxResponseTime", "check",
                      "port", "slug"}
_CARRIED_WEBSITE_KEYS = {"name", "logoUrl", "cname", "baseUrl", "introMessage"}
_NOT_NEWS = {"owner", "repo", "sites", "status-website", "user-agent"}


def read(source: str, issues: Path | None = None) -> ImportedSite:
    root = Path(source)
    config_path = root / CONFIG if root.is_dir() else root
    if not config_path.is_file():
        raise SourceError(str(root), f"no {CONFIG} here: give the folder of an Upptime repository")
    root = config_path.parent
    text = config_path.read_text(encoding="utf-8-sig")
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SourceError(f"{config_path.name}:{mark.line + 1}:{mark.column + 1}" if mark else config_path.name,
                          f"not valid YAML: {getattr(error, 'problem', None) or error}") from None
    if not isinstance(config, dict):
        raise SourceError(f"{config_path.name}:1:1", "must be a mapping of settings")
    lines = text.splitlines()
    site = ImportedSite()

    def line_of(pattern: str, after: int = 0) -> int | None:
        compiled = re.compile(pattern)
        return next((n for n, line in enumerate(lines[after:], start=after + 1) if compiled.search(line)), None)

    def note(line: int | None, what: str) -> None:
        site.not_carried.append(NotCarried(config_path.name, line, what))

    website = config.get("status-website") if isinstance(config.get("status-website"), dict) else {}
    site.title = _text(website.get("name"))
    site.description = _text(website.get("introMessage"))
    if _text(website.get("cname")):
        site.base_url = f"https://{website['cname'].strip().strip('/')}/"
    elif _text(website.get("baseUrl")) and str(website["baseUrl"]).startswith("http"):
        site.base_url = website["baseUrl"].rstrip("/") + "/"
    elif config.get("owner") and config.get("repo"):
        path = str(website.get("baseUrl") or f"/{config['repo']}").strip("/")
        site.base_url = f"https://{config['owner']}.github.io/{path + '/' if path else ''}"
    logo = _text(website.get("logoUrl"))
    if logo and logo.startswith("https://"):
        site.logo = logo
    website_line = line_of(r"^status-website\s*:") or 0
    for key in website:
        if key not in _CARRIED_WEBSITE_KEYS:
            note(line_of(rf"^\s+{re.escape(key)}\s*:", website_line), f"status-website.{key}")
    for key in config:
        if key not in _NOT_NEWS:
            note(line_of(rf"^{re.escape(key)}\s*:"), f"{key} (notifications, assignees and workflow settings of Upptime)")

    slugs: dict[str, str] = {}  # Upptime slug -> component id
    secrets: list[str] = []
    taken: set[str] = set()
    for index, entry in enumerate(config.get("sites") or []):
        if not isinstance(entry, dict) or not _text(entry.get("name")):
            continue
        name = entry["name"]
        where = line_of(rf"name\s*:\s*['\"]?{re.escape(name)}")
        slug = _text(entry.get("slug")) or slugify(name)
        cid = slugify(slug)[:40].strip("-") or f"site-{index + 1}"
        base, number = cid, 2
        while cid in taken:
            cid, number = f"{base}-{number}", number + 1
        taken.add(cid)
        slugs[slug] = cid
        check = _check(entry, secrets, lambda what: note(where, f"site {name!r}: {what}"))
        site.components.append(ImportedComponent(id=cid, name=name, check=check))
        for key in entry:
            if key not in _CARRIED_SITE_KEYS:
                note(where, f"site {name!r}: {key}")
    site.secrets = sorted(dict.fromkeys(secrets))
    site.history = _history(root, slugs, site)
    issues_path = issues if issues is not None else (root / "issues.json" if (root / "issues.json").is_file() else None)
    if issues_path is None:
        site.not_carried.append(NotCarried("issues", None, "Upptime's incidents are GitHub issues: export them with "
                                           "`gh issue list --state all --limit 1000 --json number,title,body,labels,"
                                           "createdAt,closedAt,comments > issues.json` and import again with --issues"))
    else:
        site.incidents = _incidents(Path(issues_path), slugs, {c.name.lower(): c.id for c in site.components}, site)
    return site


def _check(entry: dict, secrets: list[str], note) -> dict | None:
    url = _text(entry.get("url"))
    if url is None:
        note("no url: a component without a check")
        return None
    url = _secret(url, secrets)
    kind = str(entry.get("check") or "http").lower()
    if kind == "tcp-ping":
        parts = urlsplit(url if "://" in url else f"tcp://{url}")
        port = entry.get("port") or parts.port or (443 if parts.scheme == "https" else 80)
        return {"type": "tcp", "host": parts.hostname or url, "port": int(port)}
    if kind not in ("http", "https"):
        note(f"check: {kind} (Heliograph checks http, tcp, dns, tls and heartbeats)")
        return None
    check: dict[str, Any] = {"type": "http", "url": url}
    if _text(entry.get("method")) and entry["method"].upper() != "GET":
        check["method"] = entry["method"].upper()
    headers = {}
    for header in entry.get("headers") or []:
        if isinstance(header, str) and ":" in header:
            key, value = header.split(":", 1)
            headers[key.strip()] = _secret(value.strip(), secrets)
    if headers:
        check["headers"] = headers
    if entry.get("body") is not None:
        check["body"] = _secret(str(entry["body"]), secrets) if isinstance(entry["body"], str) else entry["body"]
    codes = entry.get("expectedStatusCodes")
    if codes:
        check["expect"] = {"status": [int(code) for code in codes if str(code).isdigit()]}
    if entry.get("maxResponseTime"):
        try:
            slow_ms = int(entry["maxResponseTime"])
        except (TypeError, ValueError):
            note(f"maxResponseTime {entry['maxResponseTime']!r} is not milliseconds")
        else:
            check["degraded_after"] = f"{slow_ms}ms"
            # Upptime calls a slower answer degraded, not down: the timeout must lie beyond it,
            # or the site would not validate (degraded_after must be less than timeout).
            if slow_ms >= DEFAULT_TIMEOUT * 1000:
                check["timeout"] = f"{2 * slow_ms}ms"
    return check


def _secret(text: str, secrets: list[str]) -> str:
    """Upptime's `$NAME` (and `__NAME__`) placeholders as Heliograph's `${NAME}`."""
    def swap(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        secrets.append(name)
        return "${" + name + "}"

    return _PLACEHOLDER.sub(swap, text)


# --- history ---------------------------------------------------------------------------------


def _history(root: Path, slugs: dict[str, str], site: ImportedSite) -> list[ImportedDay]:
    summary_path = root / "history" / "summary.json"
    if not summary_path.is_file():
        site.not_carried.append(NotCarried("history/summary.json", None, "not there: no past uptime imported"))
        return []
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8-sig"))
    except ValueError as error:
        raise SourceError(f"history/summary.json:{getattr(error, 'lineno', 1)}:{getattr(error, 'colno', 1)}",
                          f"not JSON: {getattr(error, 'msg', error)}") from None
    days: list[ImportedDay] = []
    # JSON keeps no lines: what is reported names the entry by its JSON pointer (/0, /1, ...).
    for index, entry in enumerate(summary if isinstance(summary, list) else []):
        if not isinstance(entry, dict):
            continue
        slug = str(entry.get("slug") or "")
        cid = slugs.get(slug)
        if cid is None:
            site.not_carried.append(NotCarried("history/summary.json", None,
                                               f"/{index}: {slug!r}: not a site in .upptimerc.yml"))
            continue
        start, end = _span(root / "history" / f"{slug}.yml")
        down = {}
        for day, minutes in (entry.get("dailyMinutesDown") or {}).items():
            try:
                down[date.fromisoformat(day)] = min(1440.0, max(0.0, float(minutes)))
            except (TypeError, ValueError):
                continue
        if start is None:
            if not down:
                continue
            start = min(down)
            site.not_carried.append(NotCarried(f"history/{slug}.yml", None, "no startTime: the days before the first "
                                               "day with downtime are not imported"))
        end = end or max(down, default=start)
        day = start
        while day <= end:
            days.append(ImportedDay(cid, day, 1 - down.get(day, 0.0) / 1440, checks=1440))
            day += timedelta(days=1)
        site.not_carried.append(NotCarried("history/summary.json", None, f"/{index}: {slug}: response times "
                                           "(Upptime keeps no daily figures of them)"))
    return days


def _span(path: Path) -> tuple[date | None, date | None]:
    """The first and last day a site's `history/<slug>.yml` says it was checked."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    start, end = _moment(data.get("startTime")), _moment(data.get("lastUpdated"))
    return (start.date() if start else None), (end.date() if end else None)


def _moment(value: Any) -> datetime | None:
    """ISO times, and JavaScript's Date.toString() ("Sun Jan 09 2022 22:29:05 GMT+0000 (...)")."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    match = re.match(r"\w{3} (\w{3}) (\d{1,2}) (\d{4}) (\d{2}:\d{2}:\d{2}) GMT([+-]\d{4})", text)
    if match:
        try:
            return parsedate_to_datetime(f"{match.group(2)} {match.group(1)} {match.group(3)} {match.group(4)} "
                                         f"{match.group(5)}")
        except (TypeError, ValueError):
            return None
    return None


# --- incidents: GitHub issues -----------------------------------------------------------------


def _incidents(path: Path, slugs: dict[str, str], names: dict[str, str], site: ImportedSite) -> list[ImportedIncident]:
    shown = path.name
    try:
        issues = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise SourceError(shown, f"cannot be read: {error.strerror or error}") from None
    except ValueError as error:
        raise SourceError(f"{shown}:{getattr(error, 'lineno', 1)}:{getattr(error, 'colno', 1)}",
                          f"not JSON: {getattr(error, 'msg', error)}") from None
    if not isinstance(issues, list):
        raise SourceError(f"{shown}:1:1", "not the list `gh issue list --json ...` writes")
    incidents = []
    for issue in issues:
        if not isinstance(issue, dict):
            continue
        number = issue.get("number")
        where = f"{shown} (issue #{number})"
        labels = {str(label.get("name") if isinstance(label, dict) else label).lower()
                  for label in issue.get("labels") or []}
        components = {slugs[label]: None for label in labels if label in slugs}
        title = _clean_title(_text(issue.get("title")) or f"Issue #{number}")
        opened = _moment(issue.get("createdAt"))
        closed = _moment(issue.get("closedAt"))
        if opened is None:
            site.not_carried.append(NotCarried(where, None, "no createdAt: left out"))
            continue
        if "maintenance" in labels:
            incident = _maintenance(issue, title, opened, closed, components, names, where, site)
        elif "status" in labels:
            incident = _outage(issue, title, opened, closed, components, names, where)
        else:
            site.not_carried.append(NotCarried(where, None, f"{title!r} is not labelled status or maintenance: "
                                               "not a status post, left out"))
            continue
        if incident is not None:
            incidents.append(incident)
    return incidents


def _clean_title(title: str) -> str:
    return re.sub(r"^[^\w\[(]+", "", title).strip() or title


def _outage(issue: dict, title: str, opened: datetime, closed: datetime | None, components: dict[str, str | None],
            names: dict[str, str], where: str) -> ImportedIncident:
    degraded = "degraded" in title.lower()
    if not components:  # an issue opened by hand: the title may name the site
        components = {cid: None for name, cid in names.items() if name in title.lower()}
    effect = "degraded_performance" if degraded else "major_outage"
    updates = [ImportedUpdate(opened, "investigating", _text(issue.get("body")) or DEFAULT_MESSAGES["investigating"])]
    for comment in issue.get("comments") or []:
        if not isinstance(comment, dict):
            continue
        moment = _moment(comment.get("createdAt"))
        body = _text(comment.get("body"))
        if moment is None or body is None:
            continue
        resolved = bool(re.search(r"\*\*resolved:?\*\*|is back up|resolved", body, re.I))
        updates.append(ImportedUpdate(moment, "resolved" if resolved and closed else "identified", body))
    updates.sort(key=lambda update: update.time)
    # Only the last may say resolved: an earlier "resolved" comment was followed by more news.
    updates = [u if u.status != "resolved" or i == len(updates) - 1 else ImportedUpdate(u.time, "identified", u.message)
               for i, u in enumerate(updates)]
    if closed is not None and updates[-1].status != "resolved":
        updates.append(ImportedUpdate(max(closed, updates[-1].time), "resolved", DEFAULT_MESSAGES["resolved"]))
    return ImportedIncident(title=title, impact="minor" if degraded else "major", updates=tuple(reversed(updates)),
                            components={cid: effect for cid in components}, source=where,
                            id_hint=None)


def _maintenance(issue: dict, title: str, opened: datetime, closed: datetime | None,
                 components: dict[str, str | None], names: dict[str, str], where: str,
                 site: ImportedSite) -> ImportedIncident | None:
    body = issue.get("body") or ""
    meta_text = "\n".join(re.findall(r"<!--(.*?)-->", body, re.S))
    try:
        meta = yaml.safe_load(meta_text) if meta_text.strip() else {}
    except yaml.YAMLError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    start, end = _moment(meta.get("start")), _moment(meta.get("end"))
    if start is None or end is None or end <= start:
        site.not_carried.append(NotCarried(where, None, f"maintenance {title!r} without start and end: left out"))
        return None
    for key in ("expectedDown", "expectedDegraded"):
        for name in str(meta.get(key) or "").split(","):
            cid = names.get(name.strip().lower()) or name.strip().lower()
            if cid and cid in names.values():
                components[cid] = None
    text = re.sub(r"<!--.*?-->", "", body, flags=re.S).strip() or DEFAULT_MESSAGES["scheduled"]
    updates = [ImportedUpdate(min(opened, start), "scheduled", text)]
    # A window nobody closed completes on the page when its schedule says (Incident.status_at),
    # so the import writes the same files whenever it runs.
    if closed is not None:
        updates.append(ImportedUpdate(max(end, updates[0].time), "completed", DEFAULT_MESSAGES["completed"]))
    return ImportedIncident(title=title, impact="none", updates=tuple(reversed(updates)), components=components,
                            maintenance=True, scheduled_for=start, scheduled_until=end, source=where)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
