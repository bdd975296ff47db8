"""Absolute URLs and timestamps for what is read outside the page: feeds, API, badges, embeds.

Everything read from elsewhere links by absolute URL (a feed reader or an API client has no
page to be relative to), and the same object always gets the same URL.
"""

from __future__ import annotations

from datetime import datetime, timezone

from generator.site.config import SiteInfo


def absolute(site: SiteInfo, relative: str = "") -> str:
    return site.base_url + relative


def incident_url(site: SiteInfo, incident_id: str) -> str:
    return f"{site.base_url}incidents/{incident_id}/"


def component_url(site: SiteInfo, component_id: str) -> str:
    return f"{site.base_url}components/{component_id}/"


def logo_url(site: SiteInfo) -> str | None:
    if not site.logo:
        return None
    return site.logo if "://" in site.logo else site.base_url + site.logo


def iso_ms(moment: datetime | None) -> str | None:
    """`2026-02-11T03:15:01.913Z`: the Statuspage API's timestamp form."""
    if moment is None:
        return None
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
