"""Sending through Apprise: every channel at once, each bounded by a timeout; failures are
reported, never raised. The only module here that does network I/O.

Apprise logs what went wrong (and sometimes the URL it used) through `logging`; those records
are captured per send and redacted before anyone sees them, so a secret in a channel URL never
reaches stderr or CI logs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from generator.checks.secrets import MissingSecret, Redactor, expand_text, redact_url
from generator.alerts.message import Message
from generator.alerts.settings import Channel
from generator.checks.secrets import reference_names


@dataclass(frozen=True)
class Delivery:
    channel: str
    title: str
    ok: bool
    error: str = ""  # redacted


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted says nothing useful
            return
        self.records.setdefault(threading.get_ident(), []).append(text)


def expand_url(channel: Channel, env: Mapping[str, str]) -> tuple[str, Redactor]:
    """The channel's URL with `${NAME}` filled in, and a redactor for those values. Raises MissingSecret."""
    used: dict[str, str] = {}
    missing: list[str] = []
    url = expand_text(channel.url, env, used, missing)
    if missing:
        raise MissingSecret(missing)
    return url, Redactor(used)


def shown_url(channel: Channel) -> str:
    """The URL as written (`${NAME}` stays a name), credentials and query values masked."""
    return redact_url(channel.url)


def url_problem(channel: Channel, env: Mapping[str, str] | None = None) -> str | None:
    """Why Apprise cannot use this channel's URL, without sending anything; None when it can.

    A `${NAME}` not set here (validate runs without the CI's secrets) is filled with a
    stand-in, so the URL's shape is still checked.
    """
    import apprise  # not at the top: 89 ms of imports, paid only here

    env = env if env is not None else os.environ
    stand_in = {name: env.get(name, "placeholder") for name in _names(channel.url)}
    url, _ = expand_url(channel, stand_in)
    with _quiet_apprise():
        if apprise.Apprise.instantiate(url) is None:
            scheme = url.split("://", 1)[0]
            return (f'alert channel "{channel.name}": Apprise cannot use {shown_url(channel)!r} (scheme "{scheme}://"); '
                    "see https://github.com/caronc/apprise/wiki for each service's URL form")
    return None


def _names(text: str) -> list[str]:
    return reference_names(text)


class _quiet_apprise:
    """Apprise's log records go to a collector instead of Python's last-resort stderr handler."""

    lock = threading.Lock()
    users = 0

    def __init__(self) -> None:
        self.logger = logging.getLogger("apprise")
        self.handler = _Collect()

    def __enter__(self) -> _Collect:
        with _quiet_apprise.lock:
            self.logger.addHandler(self.handler)
            self.logger.propagate = False
            _quiet_apprise.users += 1
        return self.handler

    def __exit__(self, *exc) -> None:
        with _quiet_apprise.lock:
            self.logger.removeHandler(self.handler)
            _quiet_apprise.users -= 1
            if not _quiet_apprise.users:
                self.logger.propagate = True


def send_all(batches: Sequence[tuple[Channel, Sequence[Message]]], *, timeout: float,
             env: Mapping[str, str] | None = None) -> list[Delivery]:
    """Every channel's messages, channels concurrently, each channel's within `timeout` seconds."""
    env = env if env is not None else os.environ
    deliveries: dict[str, list[Delivery]] = {}
    threads = []
    with _quiet_apprise() as collected:
        for channel, messages in batches:
            if not messages:
                continue
            thread = threading.Thread(target=_send_channel, args=(channel, messages, timeout, env, deliveries, collected),
                                      name=f"alert-{channel.name}", daemon=True)  # a hung channel must not hold the exit
            thread.start()
            threads.append((channel, messages, thread))
        results = []
        deadline = time.monotonic() + max((len(m) for _, m, _ in threads), default=0) * timeout + 1.0
        for channel, messages, thread in threads:
            # Apprise's own timeouts (per message) come first; this is the backstop for a hung channel.
            thread.join(max(0.0, deadline - time.monotonic()))
            sent = deliveries.get(channel.name, [])
            results.extend(sent)
            for message in messages[len(sent):]:
                results.append(Delivery(channel.name, message.title, False, f"no answer within {timeout:g} s"))
    return results


def _send_channel(channel: Channel, messages: Sequence[Message], timeout: float, env: Mapping[str, str],
                  out: dict[str, list[Delivery]], collected: _Collect) -> None:
    import apprise  # not at the top: 89 ms of imports, paid only here

    done = out.setdefault(channel.name, [])
    redactor = Redactor()
    try:
        url, redactor = expand_url(channel, env)
        url = _with_timeouts(url, timeout)
        # The service's own object, not an `Apprise` set: that hands each send to a thread pool,
        # where its log records could no longer be told apart from another channel's.
        notifier = apprise.Apprise.instantiate(url)
        if notifier is None:
            raise ValueError(f"Apprise cannot use {shown_url(channel)!r}; check its form at https://github.com/caronc/apprise/wiki")
        for message in messages:
            collected.records.pop(threading.get_ident(), None)
            ok = bool(notifier.notify(title=message.title, body=message.body))
            detail = "; ".join(collected.records.pop(threading.get_ident(), [])) or "the service refused it"
            done.append(Delivery(channel.name, message.title, ok, "" if ok else redactor.text(detail)))
    except Exception as error:  # a channel's failure is a report, never a crash of the run
        text = redactor.text(f"{type(error).__name__}: {error}" if not isinstance(error, (ValueError, MissingSecret))
                             else str(error))
        for message in messages[len(done):]:
            done.append(Delivery(channel.name, message.title, False, text))


def _with_timeouts(url: str, timeout: float) -> str:
    """Apprise's connect (cto) and read (rto) timeouts, unless the URL sets its own."""
    separator = "&" if "?" in url else "?"
    extra = [f"{key}={timeout:g}" for key in ("cto", "rto") if f"{key}=" not in url]
    return url + (separator + "&".join(extra) if extra else "")
