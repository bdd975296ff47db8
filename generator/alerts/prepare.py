"""What the alert step needs, made ready by `heliograph check --alert` while it waits on something
else: Apprise imported with its plugins loaded, while git pushes the results.

Nothing here decides or sends anything: the alert step itself runs as `alert send` runs it,
after the results landed. A failure here is not reported: the step loads Apprise again in the
foreground, and reports what fails there.

The history is not searched ahead: searching it in a background thread while the checks ran
saved nothing measurable (docs/performance.md), its reading competing with the checks' event
loop for the GIL, so the alert step searches it after the push, as `alert send` does.
"""

from __future__ import annotations

import threading

from generator.alerts.send import _quiet_apprise


class Preparation:
    def __init__(self) -> None:
        self._apprise: threading.Thread | None = None

    def load_apprise_if_needed(self, failing_now: bool) -> None:
        """Load Apprise in the background when an alert may be due: a result not up in this run
        (a healthy site's runs never pay for it; a round that only recovers, and sends a
        resolved message, loads it in the foreground). Meant to run while the main thread waits
        on something else (git pushing the results): Apprise's imports are pure Python, and
        during the checks, whose event loop needs the GIL for every socket, they slowed the
        round by more than they cost."""
        if self._apprise is None and failing_now:
            self._apprise = threading.Thread(target=load_apprise, name="alert-apprise", daemon=True)
            self._apprise.start()

    def finish(self) -> None:
        """Wait for what is still running before the process ends: an import cut short by the
        interpreter's exit can crash it."""
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
