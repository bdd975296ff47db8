"""From check results to the transitions worth telling a person about: pure functions, no I/O.

Results are grouped into rounds per component: a round ends when a location that already
reported in it reports again, so each runner's run is one vote in it. A round is down when at
least half of the locations that reported in it say down (openstatus' rule), degraded likewise
when degraded is opted in (down counts as degraded too). `failure_threshold` consecutive bad
rounds open an episode (one "down" or "degraded" transition), `success_threshold` consecutive
good rounds close it ("resolved"). With degraded alerting on, a down episode that eases to
degraded for `success_threshold` rounds says so once ("improved"): partly back, not resolved.
A transition's id is the time of the result that crossed
the threshold: derived from the history alone, so every run, late or re-run, finds the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

from generator.alerts.settings import AlertSettings

DOWN, DEGRADED, RESOLVED, REMINDER, IMPROVED = "down", "degraded", "resolved", "reminder", "improved"
_LEVEL = {"up": 0, "degraded": 1, "down": 2}
_LEVEL_KIND = {1: DEGRADED, 2: DOWN}


@dataclass(frozen=True)
class Round:
    time: datetime  # of its last result
    level: int  # 0 up, 1 degraded, 2 down, as the locations' majority says
    bad_locations: int  # how many locations saw it at `level` (or worse)
    locations: int  # how many reported in this round
    worst: object  # the CheckResult that explains it: the newest one at the round's level


@dataclass(frozen=True)
class Transition:
    component: str
    kind: str  # down, degraded, resolved, reminder, improved (down eased to degraded)
    time: datetime  # the id: the time of the result that crossed the threshold
    since: datetime  # when the episode's first bad round was
    state_level: int  # the episode's level (for resolved: the level it recovered from)
    bad_locations: int
    locations: int
    result: object  # the CheckResult to quote: reason and message of the last result
    failed_rounds: int = 0
    # The episode's worst level before this transition: who heard "down" hears it resolved, and
    # is not told "down" again when it worsens back after easing to degraded (which they never heard).
    peak_level: int = 0


def rounds_of(results: Sequence, on: tuple[str, ...]) -> list[Round]:
    """One component's results, sorted by time, as rounds (see the module's docstring)."""
    rounds: list[Round] = []
    current: dict[str, object] = {}

    def close() -> None:
        if current:
            rounds.append(_round(list(current.values()), on))
            current.clear()

    for result in results:
        if result.location in current:
            close()
        current[result.location] = result
    close()
    return rounds


def _round(results: list, on: tuple[str, ...]) -> Round:
    levels = [min(_LEVEL.get(r.status, 2), 2) for r in results]
    if DEGRADED not in on:
        levels = [2 if level == 2 else 0 for level in levels]
    level = 0
    for candidate in (2, 1):  # at least half of the locations at this level or worse
        agreeing = sum(lv >= candidate for lv in levels)
        if agreeing and 2 * agreeing >= len(levels):
            level = candidate
            break
    explaining = [r for r, lv in zip(results, levels) if lv >= level] if level else results
    worst = max(explaining, key=lambda r: r.time)
    bad = sum(lv >= level for lv in levels) if level else sum(lv > 0 for lv in levels)
    return Round(max(r.time for r in results), level, bad, len(results), worst)


def transitions(component: str, rounds: Sequence[Round], settings: AlertSettings) -> list[Transition]:
    """Every transition in the rounds, oldest first."""
    found: list[Transition] = []
    alerted = 0  # the level of the open episode; 0: none
    since: datetime | None = None
    last_told: datetime | None = None
    streak = {1: 0, 2: 0}  # consecutive rounds at this level or worse
    streak_start: dict[int, datetime | None] = {1: None, 2: None}
    good = 0
    eased = 0  # consecutive degraded rounds while a down episode is open
    peak = 0
    for round_ in rounds:
        for level in (1, 2):
            if round_.level >= level:
                streak[level] += 1
                streak_start[level] = streak_start[level] or round_.time
            else:
                streak[level], streak_start[level] = 0, None
        good = good + 1 if round_.level == 0 else 0
        eased = eased + 1 if alerted == 2 and round_.level == 1 else 0
        target = 2 if streak[2] >= settings.failure_threshold else (1 if streak[1] >= settings.failure_threshold else 0)
        if target > alerted:  # an episode opens, or degraded worsens to down
            since = since if alerted else streak_start[target]
            alerted = target
            last_told = round_.time
            found.append(Transition(component, _LEVEL_KIND[target], round_.time, since or round_.time, target,
                                    round_.bad_locations, round_.locations, round_.worst, streak[target], peak))
            peak = max(peak, target)
        elif alerted == 2 and eased >= settings.success_threshold:  # confirmed like a recovery, told once
            alerted, eased = 1, 0
            last_told = round_.time
            found.append(Transition(component, IMPROVED, round_.time, since or round_.time, 1,
                                    round_.bad_locations, round_.locations, round_.worst, 0, peak))
        elif alerted and good >= settings.success_threshold:
            found.append(Transition(component, RESOLVED, round_.time, since or round_.time, alerted,
                                    round_.bad_locations, round_.locations, round_.worst, 0, peak))
            alerted, since, last_told, peak = 0, None, None, 0
        elif alerted and settings.remind_every and last_told and round_.level and \
                (round_.time - last_told).total_seconds() >= settings.remind_every:
            last_told = round_.time
            found.append(Transition(component, REMINDER, round_.time, since or round_.time, alerted,
                                    round_.bad_locations, round_.locations, round_.worst, 0, peak))
    return found


def component_transitions(results: Iterable, settings: AlertSettings, component_on: Mapping[str, tuple[str, ...]],
                          maintenance: Mapping[str, list] | None = None) -> list[Transition]:
    """Every component's transitions, oldest first. Results inside a component's maintenance
    windows are left out: expected downtime neither opens nor counts towards an episode."""
    by_component: dict[str, list] = {}
    for result in sorted(results, key=lambda r: (r.time, r.location)):
        windows = (maintenance or {}).get(result.component, ())
        if any(start <= result.time <= end for start, end in windows):
            continue
        by_component.setdefault(result.component, []).append(result)
    found = []
    for component, series in by_component.items():
        on = component_on.get(component, settings.on)
        found.extend(transitions(component, rounds_of(series, on), settings))
    return sorted(found, key=lambda t: (t.time, t.component))


LOOKBACK = timedelta(days=2)  # how far back a run looks: a day of skipped runs still finds its transitions
