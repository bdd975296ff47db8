"""`heliograph check --push`: check on a steady beat from a machine of your own (a server, a
container, a Kubernetes pod), pushing the results in batches, until stopped.

Rounds keep to the beat however long each takes: round k starts at start + k * every. A
round that ran past the next tick, or a machine that slept, skips the ticks it missed rather
than running them back to back. SIGTERM or SIGINT (Ctrl-C; Ctrl-Break on Windows) lets the
round under way finish, pushes what is pending, and ends with exit code 0. A push that fails
(no network, a rejected push) is reported and retried with the next batch: results are
committed locally first, so they are never lost.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable


class Stop:
    """Set by the signals that ask the process to end; the round under way finishes first."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: str | None = None

    def install(self) -> None:
        for name in ("SIGTERM", "SIGINT", "SIGBREAK"):  # SIGBREAK: Ctrl-Break on Windows
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, self._handle)

    def _handle(self, number: int, _frame: object) -> None:
        self.signal = signal.Signals(number).name
        self.event.set()


@dataclass(frozen=True)
class LoopReport:
    """How a `check --push` loop went: the rounds run, the ticks skipped, the pushes that landed or
    failed, and what stopped it."""

    rounds: int  # rounds run
    skipped: int  # ticks skipped because a round ran long or the machine slept
    pushes: int  # pushes that landed
    failed_pushes: int
    stopped_by: str | None  # the signal's name, or None when `rounds` ran out


def run_rounds(check_round: Callable[[int], None], push: Callable[[], bool] | None, *, every: float,
               push_every: float, stop: Stop, rounds: int | None = None,
               clock: Callable[[], float] = time.monotonic) -> LoopReport:
    """Call `check_round(n)` on the beat until `rounds` ran or `stop` is set, and `push()` (True
    when it landed) at least `push_every` seconds apart, and once more at the end."""
    start = clock()
    tick = done = skipped = pushes = failed = 0
    last_push = start

    def pushed() -> None:
        nonlocal pushes, failed
        if push():
            pushes += 1
        else:
            failed += 1

    while rounds is None or done < rounds:
        due = start + tick * every
        late = clock() - due
        if late >= every:  # a whole beat or more behind: on to the next tick still ahead
            missed = math.ceil(late / every)
            tick, skipped = tick + missed, skipped + missed
            due = start + tick * every
        if _stopped_before(due, stop, clock):
            break
        check_round(done)
        done, tick = done + 1, tick + 1
        if push is not None and clock() - last_push >= push_every:
            pushed()
            last_push = clock()
        if stop.event.is_set():
            break
    if push is not None:
        pushed()  # what is pending, before the process ends
    return LoopReport(done, skipped, pushes, failed, stop.signal)


def _stopped_before(due: float, stop: Stop, clock: Callable[[], float]) -> bool:
    """Wait until `due`, True if asked to stop first. The wait is cut into short slices because
    on Windows a long wait on a lock lets Ctrl-C/Ctrl-Break through only when it ends."""
    while (left := due - clock()) > 0:
        if stop.event.wait(min(left, 1.0)):
            return True
    return stop.event.is_set()
