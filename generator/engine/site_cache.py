"""site.yaml, read once per version of its bytes: every command reads the site's settings, and
parsing and checking a large site.yaml (1,000 components) takes a third of a second."""

from __future__ import annotations

import hashlib
from pathlib import Path

from generator.engine.cache_trust import CACHE_DIR
from generator.engine.files import read_cache, text_of, write_cache
from generator.engine.fingerprint import code_fingerprint, installed_version
from generator.site.config import CONFIG_FILE, MAX_CONFIG_BYTES, Site, load_site, parse_site
from generator.site.paths import check_inside, read_regular_file


def load_site_kept(root: Path) -> Site:
    """config.load_site, kept in the cache while site.yaml's bytes, its folder and the code are
    the same. Only a site.yaml without problems is kept: any other is read again, and load_site
    says what is wrong with it."""
    check_inside(root / CONFIG_FILE, root)
    try:
        if (root / CONFIG_FILE).stat().st_size > MAX_CONFIG_BYTES:
            return load_site(root)  # which says so, without reading it
        data = read_regular_file(root / CONFIG_FILE)
        text = text_of(data)
    except (OSError, UnicodeDecodeError):  # NotARegularFile among them: load_site says what it is
        return load_site(root)
    key = ("site-1", code_fingerprint(), installed_version("yaml", "pyyaml"), str(root), hashlib.sha256(data).digest())
    path = root / CACHE_DIR / "site.pickle"
    site = read_cache(path, key)
    if type(site) is not Site:
        site = parse_site(text, root=root, file=CONFIG_FILE)
        write_cache(path, key, site)
    return site
