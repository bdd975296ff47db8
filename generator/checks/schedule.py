"""Cron schedules as GitHub Actions reads them: five fields (minute, hour, day of month, month,
day of week), each `*`, a number, a name (`jan`, `mon`), a range `a-b`, a step `*/n` or `a-b/n`,
or a list of those; always UTC. Used to say when a scheduled run was due, and how often a
schedule can run a check at most."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
_NAMES = {3: {name: number for number, name in enumerate(
              ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)},
          4: {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}}
# GitHub runs scheduled workflows at most every 5 minutes, and often later under load.
GITHUB_SHORTEST = timedelta(minutes=5)


class BadSchedule(ValueError):
    """Not a cron expression GitHub accepts; the message says which field and why."""


@dataclass(frozen=True)
class Schedule:
    """A five-field cron schedule (check.yml's), as the sets of minutes, hours, days and months it runs in."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month was `*`
    any_weekday: bool  # day of week was `*`

    def _day_matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7
        if self.any_day or self.any_weekday:  # cron: both restricted means either may match
            return moment.day in self.days and weekday in self.weekdays
        return moment.day in self.days or weekday in self.weekdays

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        """The last tick at or before `moment` (UTC, to the minute), within a year and a day."""
        moment = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
        day = moment.replace(hour=0, minute=0)
        for back in range(367):
            candidate_day = day - timedelta(days=back)
            if candidate_day.month not in self.months or not self._day_matches(candidate_day):
                continue
            for hour in sorted(self.hours, reverse=True):
                for minute in sorted(self.minutes, reverse=True):
                    tick = candidate_day.replace(hour=hour, minute=minute)
                    if tick <= moment:
                        return tick
        return None

    def shortest_gap(self) -> timedelta:
        """The least time between two ticks on a day that has them (at least GitHub's 5 minutes)."""
        ticks = sorted(60 * hour + minute for hour in self.hours for minute in self.minutes)
        gaps = [b - a for a, b in zip(ticks, ticks[1:])] + [ticks[0] + 1440 - ticks[-1]]
        return max(timedelta(minutes=min(gaps)), GITHUB_SHORTEST)


def parse_schedule(text: str) -> Schedule:
    fields = text.split()
    if len(fields) != 5:
        raise BadSchedule(f"{text!r} has {len(fields)} fields; a schedule has 5: minute hour day-of-month month "
                          "day-of-week, e.g. '*/5 * * * *'")
    values = [_field(field, index) for index, field in enumerate(fields)]
    weekdays = frozenset(day % 7 for day in values[4])
    return Schedule(text, values[0], values[1], values[2], values[3], weekdays, fields[2] == "*", fields[4] == "*")


def _field(text: str, index: int) -> frozenset[int]:
    name, low, high = _FIELDS[index]
    high_allowed = 7 if index == 4 else high  # 7 is Sunday too
    found: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise BadSchedule(f"the {name} field's step {step_text!r} is not a positive number")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, _, last = part.partition("-")
            start, end = _value(first, index), _value(last, index)
        else:
            start = _value(part, index)
            end = high if step > 1 else start
        if not (low <= start <= high_allowed and low <= end <= high_allowed) or start > end:
            raise BadSchedule(f"the {name} field {part!r} is outside {low}-{high}")
        found.update(range(start, end + 1, step))
    return frozenset(found)


def _value(text: str, index: int) -> int:
    lowered = text.lower()
    if lowered in _NAMES.get(index, {}):
        return _NAMES[index][lowered]
    if not text.isdigit():
        raise BadSchedule(f"{text!r} in the {_FIELDS[index][0]} field is not a number"
                          + (" or a name" if index in _NAMES else ""))
    return int(text)
