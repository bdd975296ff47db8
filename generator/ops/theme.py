"""`heliograph theme`: the release's templates, which of them a site replaces, and copying one in.

A site holds only the templates it changes: `templates/NAME` replaces the release's file of the
same name, and every other page follows the installed release, so theme fixes reach the site
when it upgrades. `heliograph init` writes one small override to start from (`_site_footer.html`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.engine.fingerprint import default_theme_dir
from generator.site.problems import did_you_mean

STARTER_OVERRIDE = "_site_footer.html"
STARTER_TEXT = """\
{#- Shown in every page's footer. This file replaces the theme's _site_footer.html, which is empty.
    Every other template comes from the Heliograph release you run, so theme fixes reach this site
    when you upgrade it. `heliograph theme` lists the theme's templates; `heliograph theme NAME`
    copies one here to change it. Delete this file when you do not need it. -#}
{# <p>Questions? <a href="mailto:support@example.com">support@example.com</a></p> #}
"""


class ThemeError(Exception):
    """A theme file that does not exist, or a copy that would overwrite the site's own."""


@dataclass(frozen=True)
class ThemeFile:
    """One file of the release's theme, as `heliograph theme` lists it: whether the site replaces
    it, and whether that copy is still byte for byte the release's (then it misses upgrades)."""

    name: str  # relative to the theme folder, e.g. "incident.html" or "assets/style.css"
    overridden: bool  # the site has templates/NAME
    same_as_theme: bool  # ... and it is byte for byte the release's (it will not follow upgrades)


def theme_names() -> list[str]:
    theme = default_theme_dir()
    return sorted(path.relative_to(theme).as_posix() for path in theme.rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


def theme_files(site_templates: Path) -> list[ThemeFile]:
    """Every file of the release's theme, and whether the site replaces it."""
    theme = default_theme_dir()
    files = []
    for name in theme_names():
        own = site_templates / name
        overridden = own.is_file()
        files.append(ThemeFile(name, overridden,
                               overridden and own.read_bytes() == (theme / name).read_bytes()))
    return files


def copy_from_theme(names: list[str], site_templates: Path, *, force: bool = False) -> list[str]:
    """Copy the release's `names` into the site's templates/; returns what was written. Nothing
    is written if a name is unknown, or a file of the site's would be overwritten without `force`."""
    known = theme_names()
    for name in names:
        if name not in known:
            raise ThemeError(f"the theme has no {name!r}{did_you_mean(name, known)}; `heliograph theme` lists its files")
    existing = [name for name in names if (site_templates / name).exists()]
    if existing and not force:
        raise ThemeError(f"templates/{existing[0]} exists already; pass --force to replace it with the release's")
    theme = default_theme_dir()
    for name in names:
        target = site_templates / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((theme / name).read_bytes())
    return names


def starter_files() -> dict[str, bytes]:
    """What `heliograph init` puts in templates/: one override to start from, not the whole theme."""
    return {f"templates/{STARTER_OVERRIDE}": STARTER_TEXT.encode()}
