"""What the alert step needs, made ready in the background by `heliograph check --alert`: the
history's shards read and searched for results not up (`reading`) while the checks run, so
after them only what the rounds appended is left to search; and, while git pushes the
results, Apprise imported with its plugins loaded.

Nothing here decides or sends anything: the alert step itself runs as `alert send` runs it,
after the results landed. A failure here is not reported: the step does the same work again
in the foreground, and reports what fails there.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from generator.alerts.reading import scan_shards
from generator.alerts.rules import LOOKBACK
from generator.alerts.send import _quiet_apprise


class Preparation:
    def __init__(self, history_dir: Path, now: datetime) -> None:
        self._history_dir = history_dir
        self._now = now
        self._scanned: dict | None = None
        self._scan = threading.Thread(target=self._run, name="alert-scan", daemon=True)
        self._apprise: threading.Thread | None = None

    def start(self) -> "Preparation":
        self._scan.start()
        return self

    def _run(self) -> None:
        try:
            # Up to a day ahead: a run that crosses midnight finds the new day's shard scanned
            # too if it existed; one made later is read in the foreground.
            self._scanned = scan_shards(self._history_dir, since=self._now - LOOKBACK,
                                        until=self._now + timedelta(days=1))
        except Exception:  # the foreground reads it again, and says what is wrong
            self._scanned = None

    def scanned(self) -> dict | None:
        """What the background scan found (None if it failed), once it is done."""
        self._scan.join()
        return self._scanned

    def load_apprise_if_needed(self, failing_now: bool) -> None:
        """Load Apprise in the background, when an alert may be due: a result not up in this run
        or in the window scanned (a healthy site's runs never pay for it). Meant to run while
        the main thread waits on something else (git pushing the results): Apprise's imports
        are pure Python, and during the checks, whose event loop needs the GIL for every
        socket, they slowed the round by more than they cost."""
        if self._apprise is not None:
            return
        scanned = self.scanned()
        if failing_now or (scanned and any(failures for _, _, failures in scanned.values())):
            self._apprise = threading.Thread(target=load_apprise, name="alert-apprise", daemon=True)
            self._apprise.start()

    def finish(self) -> None:
        """Wait for what is still running before the process ends: an import cut short by the
        interpreter's exit can crash it."""
        self._scan.join()
        if self._apprise is not None:
            self._apprise.join()


def load_apprise() -> None:
    """Import Apprise and load its plugins, which it otherwise does on the first channel used.
    Apprise offers no stable way to load only the plugins of the schemes in use (it maps a
    scheme to a plugin only by importing every plugin), so all are loaded."""
    try:
        import apprise  # noqa: F401  here, not at the top: 0.1 s of imports, paid only when an alert may be due
        from apprise.manager_plugins import NotificationManager  # not at the top: 84 ms of imports, paid only here


        with _quiet_apprise():
            NotificationManager().load_modules()  # the singleton every Apprise object looks plugins up in
    except Exception:  # an Apprise that cannot load fails again when used, and is reported there
        pass
