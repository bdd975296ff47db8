"""cState (https://github.com/cstate/cstate), a Hugo site: `config.yml` and `content/issues/*.md`.

- `params.systems` become components, `params.categories` their groups (an `untitled` category
  is no group), `title`, `baseURL` and `params.description` the page's settings.
- Each issue becomes an incident file: `severity` down / disrupted / notice gives the impact and
  the effect on its `affected` systems (major outage, partial outage, none); a notice about
  maintenance becomes a maintenance window from `date` to `resolvedWhen`. The body is split at
  each `{{< track "TIME" >}}` into dated updates, a leading `*Investigating*`-style label giving
  the status; `resolved` and `resolvedWhen` close it. Untracked text is the first update, and a
  leading `*Post-mortem*` section the postmortem. `informational` posts become resolved
  incidents without impact.
- Times without a zone are UTC, as Hugo reads them unless `timeZone` says otherwise.
"""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from generator.importers.frontmatter import Page, naive_time, read_page
from generator.importers.model import (ImportedComponent, ImportedIncident, ImportedSite, ImportedUpdate, NotCarried,
                                      SourceError)
from generator.site.authoring import DEFAULT_MESSAGES, slugify
from generator.site.paths import check_inside

SEVERITY = {"down": ("critical", "major_outage"), "disrupted": ("major", "partial_outage"), "notice": ("none", None)}
LABELS = {"investigating": "investigating", "identified": "identified", "monitoring": "monitoring",
          "resolved": "resolved", "fixed": "resolved", "update": None}
_TRACK = re.compile(r"\{\{<\s*track\s+\"([^\"]+)\"\s*>\}\}")
_LABEL = re.compile(r"^\s*[*_]{1,2}([A-Za-z -]+?)[*_]{1,2}\s*[-–—:]\s*")
# config.yml keys carried over; any other is reported (colours, formats, analytics...)
_CARRIED_PARAMS = {"systems", "categories", "description", "logo", "useLogo"}
_CARRIED_TOP = {"title", "baseURL", "params", "timeZone"}
_HUGO_ONLY = {"theme", "buildFuture", "languageCode", "defaultContentLanguage", "enableGitInfo", "preserveTaxonomyNames",
              "taxonomies", "outputs", "outputFormats", "module", "disableKinds", "enableRobotsTXT", "paginate"}


def read(source: str) -> ImportedSite:
    root = Path(source)
    if (root / "exampleSite" / "config.yml").is_file() and not (root / "config.yml").is_file():
        root = root / "exampleSite"
    config_path = next((root / name for name in ("config.yml", "config.yaml", "hugo.yml", "hugo.yaml")
                        if (root / name).is_file()), None)
    if config_path is None:
        raise SourceError(str(root), "no config.yml here: give the folder of a cState site")
    site = ImportedSite()
    config, zone = _config(config_path, site)
    names = {component.name.lower(): component.id for component in site.components}
    issues = root / "content" / "issues"

    for path in sorted(issues.glob("*.md")) if issues.is_dir() else []:
        check_inside(path, root)  # a link leading out of the site is not read
        page = read_page(path, _shown(path, root))
        incident = _incident(page, names, zone, site)
        if incident is not None:
            site.incidents.append(incident)
    return site


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _config(path: Path, site: ImportedSite) -> tuple[dict, timezone | ZoneInfo]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SourceError(f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name,
                          f"not valid YAML: {getattr(error, 'problem', None) or error}") from None
    if not isinstance(config, dict):
        raise SourceError(f"{path.name}:1:1", "must be a mapping of settings")
    lines = text.splitlines()

    def line_of(key: str, after: int = 0) -> int | None:
        pattern = re.compile(rf"^\s*-?\s*{re.escape(key)}\s*:")
        return next((n for n, line in enumerate(lines[after:], start=after + 1) if pattern.match(line)), None)

    def note(key: str, what: str, after: int = 0) -> None:
        site.not_carried.append(NotCarried(path.name, line_of(key, after), what))

    params = config.get("params") if isinstance(config.get("params"), dict) else {}
    site.title = _text(config.get("title"))
    base = _text(config.get("baseURL"))
    site.base_url = (base if base.endswith("/") else base + "/") if base and base.startswith("http") else None
    site.description = _text(params.get("description"))
    zone: timezone | ZoneInfo = timezone.utc
    if _text(config.get("timeZone")):
        try:
            zone = ZoneInfo(config["timeZone"])
            site.timezone = config["timeZone"]
        except (ZoneInfoNotFoundError, ValueError):
            note("timeZone", f"timeZone {config['timeZone']!r} is not an IANA zone: times are read as UTC")
    if params.get("useLogo") and _text(params.get("logo")):
        logo = params["logo"]
        if str(logo).startswith("https://"):
            site.logo = logo
        else:
            note("logo", f"logo {logo!r}: copy the file to templates/assets/ and set site.logo")
    params_line = line_of("params") or 0
    categories = {}
    for category in params.get("categories") or []:
        if isinstance(category, dict) and _text(category.get("name")):
            categories[category["name"]] = None if category.get("untitled") else category["name"]
            if category.get("description"):
                note("description", f"category {category['name']!r}: its description (groups have none)",
                     line_of(f"name: {category['name']}", params_line) or params_line)
            if category.get("closed"):
                note("closed", f"category {category['name']!r}: closed (Heliograph shows groups open)",
                     line_of(f"name: {category['name']}", params_line) or params_line)
    taken: set[str] = set()
    for system in params.get("systems") or []:
        if not isinstance(system, dict) or not _text(system.get("name")):
            continue
        name = system["name"]
        base_id = slugify(name)[:40].strip("-") or "component"
        cid, number = base_id, 2
        while cid in taken:
            cid, number = f"{base_id}-{number}", number + 1
        taken.add(cid)
        category = system.get("category")
        site.components.append(ImportedComponent(id=cid, name=name, description=_text(system.get("description")),
                                                 group=categories.get(category, category)))
        where = line_of(f"name: {name}", params_line) or params_line
        if system.get("link"):
            site.not_carried.append(NotCarried(path.name, where, f"system {name!r}: its link {system['link']!r}"))
        if system.get("histogram") is False:
            site.not_carried.append(NotCarried(path.name, where, f"system {name!r}: histogram: false "
                                               "(set show_uptime: false on the component if you want that)"))
    for key in params:
        if key not in _CARRIED_PARAMS:
            note(key, f"params.{key}", params_line)
    for key in config:
        if key not in _CARRIED_TOP and key not in _HUGO_ONLY:
            note(key, f"{key}")
    return config, zone


def _incident(page: Page, names: dict[str, str], zone: Any, site: ImportedSite) -> ImportedIncident | None:
    meta = page.meta

    def note(key: str | None, what: str) -> None:
        site.not_carried.append(NotCarried(page.file, page.key_lines.get(key) if key else None, what))

    title = _text(meta.get("title"))
    if title is None:
        note(None, "a post without a title: left out")
        return None
    if meta.get("section") not in (None, "issue"):
        note("section", f"section {meta.get('section')!r} (not an issue): left out")
        return None
    opened = naive_time(meta.get("date"), zone)
    if opened is None:
        note("date", "no readable date: left out")
        return None
    closed_at = naive_time(meta.get("resolvedWhen"), zone)
    resolved = meta.get("resolved") is True
    informational = meta.get("informational") is True
    severity = str(meta.get("severity") or "notice").lower()
    impact, effect = SEVERITY.get(severity, ("none", None))
    if severity not in SEVERITY:
        note("severity", f"severity {meta.get('severity')!r} (down, disrupted or notice): read as notice")
    affected = meta.get("affected") or []
    affected = [affected] if isinstance(affected, str) else affected
    components: dict[str, str | None] = {}
    for name in affected:
        cid = names.get(str(name).lower())
        if cid is None:
            note("affected", f"affected system {name!r} is not in config.yml's systems")
        else:
            components[cid] = effect
    for key in ("pin", "automated", "id", "draft"):
        if key in meta:
            note(key, f"{key}: {_shown_value(meta[key])}")
    maintenance = severity == "notice" and not informational and closed_at is not None and bool(
        re.search(r"maintenance|maintain|upgrade", f"{title} {page.body}", re.I))
    postmortem, chunks = _split(page.body)
    if maintenance:
        start, end = opened, max(closed_at, opened)
        text = " ".join(message for _, _, message in chunks) or DEFAULT_MESSAGES["scheduled"]
        updates = [ImportedUpdate(start, "scheduled", text)]
        if resolved:
            updates.append(ImportedUpdate(end, "completed", DEFAULT_MESSAGES["completed"]))
        return ImportedIncident(title=title, impact="none", updates=tuple(reversed(updates)),
                                components={cid: None for cid in components}, maintenance=True, scheduled_for=start,
                                scheduled_until=end if end > start else None, source=page.file,
                                id_hint=Path(page.file).stem, postmortem=postmortem)
    dated = []
    for order, (when, label, message) in enumerate(chunks):
        moment = naive_time(when, zone) if when else opened
        if when and moment is None:
            note(None, f"a track time {when!r} that is not a time: that update is dated {opened:%Y-%m-%d %H:%M} UTC")
            moment = opened
        dated.append((moment, -order, label, message))  # posts list the newest first: same time, later in file is older
    updates = []
    status = "investigating"
    for moment, _, label, message in sorted(dated, key=lambda item: item[:2]):
        status = LABELS.get(label or "", None) or status  # "Update" keeps the status it follows
        updates.append(ImportedUpdate(moment, status, message or DEFAULT_MESSAGES[status]))
    if not updates:
        updates.append(ImportedUpdate(opened, "investigating", DEFAULT_MESSAGES["investigating"]))
    if informational:
        impact = "none"
        components = {cid: None for cid in components}
        updates[-1] = ImportedUpdate(updates[-1].time, "resolved", updates[-1].message)
        note("informational", "informational post: imported as a resolved incident without impact")
    elif resolved:
        end = closed_at or updates[-1].time
        if updates[-1].status == "resolved" or (closed_at is not None and updates[-1].time == closed_at):
            updates[-1] = ImportedUpdate(updates[-1].time, "resolved", updates[-1].message)
        else:
            updates.append(ImportedUpdate(max(end, updates[-1].time), "resolved", DEFAULT_MESSAGES["resolved"]))
    return ImportedIncident(title=title, impact=impact, updates=tuple(reversed(updates)), components=components,
                            source=page.file, id_hint=Path(page.file).stem if re.match(r"\d{4}-\d{2}-\d{2}-",
                                                                                       Path(page.file).stem) else None,
                            postmortem=postmortem)


def _split(body: str) -> tuple[str | None, list[tuple[str | None, str | None, str]]]:
    """The body's postmortem (a leading `*Post-mortem*` section before `---`), and its updates as
    (track time or None, label or None, text), in the body's order."""
    postmortem = None
    parts = re.split(r"(?m)^\s*---\s*$", body, maxsplit=1)
    if len(parts) == 2 and re.search(r"post[- ]?mortem", parts[0], re.I) and _TRACK.search(parts[1]):
        postmortem = re.sub(r"^\s*[*_]{1,2}post[- ]?mortem[*_]{1,2}\s*", "", parts[0].strip(), flags=re.I).strip() or None
        body = parts[1]
    chunks = []
    rest = body
    while True:
        match = _TRACK.search(rest)
        if match is None:
            break
        text = rest[:match.start()].strip()
        rest = rest[match.end():]
        chunks.append((match.group(1),) + _label(text))
    leftover = rest.strip()
    if leftover:
        chunks.append((None,) + _label(leftover))
    return postmortem, chunks


def _label(text: str) -> tuple[str | None, str]:
    match = _LABEL.match(text)
    if match and match.group(1).strip().lower() in LABELS:
        return match.group(1).strip().lower(), text[match.end():].strip()
    return None, text.strip()


def _shown_value(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 20).removesuffix("\n").removesuffix("\n...")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
