"""`subscribe:` in site.yaml: how readers sign up by email, shown on the Subscribe page.

Either a sign-up form that posts to a provider (any RSS-to-email or newsletter service:
`email_form_action` and the name of its address field, `email_field`), or a mailing list
address readers write to (`mailing_list`). The page works without either: the feeds and the
calendar are always listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from generator.site.problems import did_you_mean

SUBSCRIBE_KEYS = ("email_form_action", "email_field", "mailing_list")

Report = Callable[[tuple, str], None]  # (path relative to `subscribe`, message)


@dataclass(frozen=True)
class SubscribeSettings:
    """How readers can follow the page by email (subscribe: in site.yaml)."""

    email_form_action: str | None = None  # an https:// URL the sign-up form posts to
    email_field: str = "email"  # the provider's name for the address field
    mailing_list: str | None = None  # an address readers write to, shown as a mailto: link


def parse_subscribe(raw: Any, report: Report) -> SubscribeSettings:
    if raw is None:
        return SubscribeSettings()
    if not isinstance(raw, dict):
        report((), "subscribe must be a mapping, e.g. `subscribe: {mailing_list: status@lists.example.com}`")
        return SubscribeSettings()
    for key in raw:
        if key not in SUBSCRIBE_KEYS:
            report((key,), f'unknown key "{key}" in subscribe{did_you_mean(str(key), SUBSCRIBE_KEYS)}; '
                   f"allowed keys: {', '.join(SUBSCRIBE_KEYS)}")
    action = _text(raw, "email_form_action", report)
    if action is not None and not action.startswith(("https://", "http://")):
        report(("email_form_action",), f'"email_form_action" must be the http(s) URL the sign-up form posts to, '
               f"not {action!r}")
        action = None
    field = _text(raw, "email_field", report) or "email"
    mailing_list = _text(raw, "mailing_list", report)
    if mailing_list is not None:
        mailing_list = mailing_list.removeprefix("mailto:")
        if "@" not in mailing_list or any(c.isspace() for c in mailing_list):
            report(("mailing_list",), f'"mailing_list" must be an email address, not {mailing_list!r}')
            mailing_list = None
    return SubscribeSettings(action, field, mailing_list)


def _text(raw: dict, key: str, report: Report) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        report((key,), f'"{key}" must be text, not {value!r}')
        return None
    return value.strip()
