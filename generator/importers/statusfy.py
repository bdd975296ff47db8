"""Statusfy (https://github.com/juliomrqz/statusfy): its config (`.statusfyrc.yml`, `.json`, or
the plain object of `statusfy.config.js`), the system names in `locales/<lang>.json`, and the
incidents in `content/*.md`.

- `content.systems` become components, named by the default locale's `systems.<id>.title`.
- Each incident: `severity` (degraded-performance, partial-outage, major-outage) gives the
  impact and the effect on its `affectedsystems`; `under-maintenance` with `scheduled` and
  `duration` (minutes) is a maintenance window. Each `::: update Title | ISO-time` container is
  a dated update, its title giving the status (Investigating, Identified, Monitoring, Resolved;
  another title keeps the status before it, and the title is kept in the text); text outside
  them is the first update, at `date`. `resolved: true` closes it.
- Translations in content/<lang>/ are not carried over: a Heliograph site has one language.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from generator.importers.frontmatter import Page, naive_time, read_page
from generator.importers.model import (ImportedComponent, ImportedIncident, ImportedSite, ImportedUpdate, NotCarried,
                                      SourceError)
from generator.site.authoring import DEFAULT_MESSAGES, slugify
from generator.site.paths import check_inside

SEVERITY = {"degraded-performance": ("minor", "degraded_performance"), "partial-outage": ("major", "partial_outage"),
            "major-outage": ("critical", "major_outage"), "under-maintenance": ("none", None)}
TITLES = {"investigating": "investigating", "identified": "identified", "monitoring": "monitoring",
          "resolved": "resolved", "mitigated": "monitoring", "fixed": "resolved"}
_UPDATE = re.compile(r"(?ms)^:::\s*update\s+(?P<title>[^|\n]*?)\s*\|\s*(?P<time>[^\n]+?)\s*$\n(?P<text>.*?)^:::\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
CONFIG_FILES = (".statusfyrc.yml", ".statusfyrc.yaml", ".statusfyrc.json", "statusfy.config.js", "config.js")


def read(source: str) -> ImportedSite:
    root = Path(source)
    config_path = next((root / name for name in CONFIG_FILES if (root / name).is_file()), None)
    if config_path is None:
        raise SourceError(str(root), f"no Statusfy config here ({', '.join(CONFIG_FILES)})")
    site = ImportedSite()
    config = _config(config_path)
    site.title = _text(config.get("title"))
    site.description = _text(config.get("description"))
    base = _text(config.get("baseUrl"))
    site.base_url = (base if base.endswith("/") else base + "/") if base and base.startswith("http") else None
    content = config.get("content") if isinstance(config.get("content"), dict) else {}
    locale = _text(config.get("defaultLocale")) or "en"
    names = _system_names(root / "locales" / f"{locale}.json")
    ids: dict[str, str] = {}
    for system in content.get("systems") or []:
        key = str(system)
        cid = slugify(key)[:40].strip("-") or "component"
        ids[key] = cid
        entry = names.get(key) if isinstance(names.get(key), dict) else {}
        site.components.append(ImportedComponent(id=cid, name=_text(entry.get("title")) or key,
                                                 description=_text(entry.get("description"))))
    for key in config:
        if key not in ("title", "description", "baseUrl", "content", "defaultLocale", "locales"):
            site.not_carried.append(NotCarried(config_path.name, None, f"setting {key!r}"))
    folder = root / (_text(content.get("dir")) or "content")

    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        check_inside(path, root)
        page = read_page(path, path.relative_to(root).as_posix())
        incident = _incident(page, ids, site)
        if incident is not None:
            site.incidents.append(incident)
    translated = sorted(p for p in folder.glob("*/*.md")) if folder.is_dir() else []
    if translated:
        site.not_carried.append(NotCarried(translated[0].parent.relative_to(root).as_posix(), None,
                                           f"{len(translated)} translated incident files (one language is imported)"))
    return site


def _config(path: Path) -> dict:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".js":
        # The object exported, when it is a plain literal: quoted or bare keys, strings, lists.
        literal = re.search(r"(?s)module\.exports\s*=\s*(\{.*\})", text)
        if literal is None:
            raise SourceError(path.name, "no `module.exports = {...}` object; save the config as .statusfyrc.yml")
        body = _COMMENT.sub("", re.sub(r"(?m)//[^\n]*$", "", literal.group(1)))
        try:
            config = yaml.safe_load(re.sub(r",(\s*[}\]])", r"\1", body))
        except yaml.YAMLError:
            raise SourceError(path.name, "the exported object is not a plain literal (it computes values); "
                                         "save the config as .statusfyrc.yml") from None
    else:
        try:
            config = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark else getattr(error, "lineno", None)
            column = mark.column + 1 if mark else getattr(error, "colno", 1)
            raise SourceError(f"{path.name}:{line}:{column}" if line else path.name, f"cannot be read: {error}") from None
    if not isinstance(config, dict):
        raise SourceError(f"{path.name}:1:1", "must be a mapping of settings")
    return config


def _system_names(path: Path) -> dict[str, Any]:
    try:
        locale = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    systems = locale.get("systems") if isinstance(locale, dict) else None
    return systems if isinstance(systems, dict) else {}


def _incident(page: Page, ids: dict[str, str], site: ImportedSite) -> ImportedIncident | None:
    meta = page.meta

    def note(key: str | None, what: str) -> None:
        site.not_carried.append(NotCarried(page.file, page.key_lines.get(key) if key else None, what))

    title = _text(meta.get("title"))
    opened = naive_time(meta.get("date"))
    if title is None or opened is None:
        note("title" if title is None else "date", "no title or no readable date: left out")
        return None
    severity = str(meta.get("severity") or "")
    impact, effect = SEVERITY.get(severity, ("minor", None))
    if severity not in SEVERITY:
        note("severity", f"severity {meta.get('severity')!r}: read as minor")
    components: dict[str, str | None] = {}
    for system in meta.get("affectedsystems") or []:
        cid = ids.get(str(system))
        if cid is None:
            note("affectedsystems", f"affected system {system!r} is not in the config's systems")
        else:
            components[cid] = effect
    for key in ("id", "description"):
        if key in meta:
            note(key, f"{key}: {meta[key]!r}")
    resolved = meta.get("resolved") is True
    body = _COMMENT.sub("", page.body)
    updates = []
    status = "investigating"
    found = []
    for match in _UPDATE.finditer(body):
        moment = naive_time(match.group("time"))
        if moment is None:
            line = page.body_line + page.body[:match.start()].count("\n")
            site.not_carried.append(NotCarried(page.file, line, f"an update whose time {match.group('time')!r} is "
                                               "not a time: left out"))
            continue
        found.append((moment, match.group("title").strip(), match.group("text").strip()))
    general = _UPDATE.sub("", body).strip()
    if general:
        found.append((opened, "", general))
    for moment, heading, text in sorted(found, key=lambda item: item[0]):
        known = TITLES.get(heading.lower())
        status = known or status
        message = text if known or not heading or heading.lower() == "update" else f"**{heading}**: {text}"
        updates.append(ImportedUpdate(moment, status, message or DEFAULT_MESSAGES[status]))
    maintenance = severity == "under-maintenance" and meta.get("scheduled")
    if maintenance:
        start = naive_time(meta.get("scheduled"))
        try:
            minutes = float(meta.get("duration"))
        except (TypeError, ValueError):
            minutes = None
        if start is None or not minutes or minutes <= 0:
            note("scheduled", "a maintenance without a readable scheduled time and duration: imported as an incident")
        else:
            end = start + timedelta(minutes=minutes)
            mapped = [ImportedUpdate(u.time, {"resolved": "completed", "investigating": "scheduled",
                                              "identified": "in_progress", "monitoring": "verifying"}[u.status],
                                     u.message) for u in updates] or [ImportedUpdate(opened, "scheduled",
                                                                                     DEFAULT_MESSAGES["scheduled"])]
            if resolved and mapped[-1].status != "completed":
                mapped.append(ImportedUpdate(max(end, mapped[-1].time), "completed", DEFAULT_MESSAGES["completed"]))
            return ImportedIncident(title=title, impact="none", updates=tuple(reversed(mapped)),
                                    components={cid: None for cid in components}, maintenance=True,
                                    scheduled_for=start, scheduled_until=end, source=page.file,
                                    id_hint=_stem(page.file))
    if not updates:
        updates.append(ImportedUpdate(opened, "investigating", DEFAULT_MESSAGES["investigating"]))
    if resolved and updates[-1].status != "resolved":
        modified = naive_time(meta.get("modified"))
        updates.append(ImportedUpdate(max(modified or updates[-1].time, updates[-1].time), "resolved",
                                      DEFAULT_MESSAGES["resolved"]))
    return ImportedIncident(title=title, impact=impact, updates=tuple(reversed(updates)), components=components,
                            source=page.file, id_hint=_stem(page.file))


def _stem(file: str) -> str | None:
    """Statusfy's `YYYY-MM-DD_slug` file names, as Heliograph's `YYYY-MM-DD-slug`."""
    stem = Path(file).stem
    match = re.match(r"(\d{4}-\d{2}-\d{2})[_-](.+)$", stem)
    if not match:
        return None
    slug = slugify(match.group(2))
    return f"{match.group(1)}-{slug}" if slug else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
