"""A DCI subscription's notification frequency (`EventFrequency` in the core registry spec):
notifications are held and sent together at the times of a Quartz cron expression, between
`start_time` and `end_time`.

    {"start_time": "2026-12-01T00:00:00+07:00", "end_time": "2027-12-01T00:00:00+07:00",
     "frequency": "0 0 0 5,15 * ? *"}      # at midnight on the 5th and the 15th

The expression is Quartz's, as the spec's example is: seconds, minutes, hours, day of month,
month, day of week (1 = Sunday ... 7 = Saturday, or SUN-SAT), and an optional year; `?` means
"no specific value" in the day fields. Quartz's `L`, `W` and `#` are refused. Times are
Cambodia's (Asia/Phnom_Penh, UTC+7 all year). croniter computes the fire times once the
expression is rewritten in its own dialect (Sunday = 0).

Decided where the spec is silent:
- events before `start_time` or after `end_time` are not notified at all;
- an event is sent at the first fire time after it happened, or at `end_time` when the window
  closes before the next fire time, so nothing that happened inside the window is withheld.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from croniter import croniter
from croniter.croniter import CroniterError

from services.registry.dci.envelope import parse_timestamp
from shared.clock import CAMBODIA

FIELDS = ("seconds", "minutes", "hours", "day of month", "month", "day of week", "year")
_MONTHS = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
_DAYS = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
_PART = re.compile(r"^(?:\*|(?P<low>[0-9A-Z]+)(?:-(?P<high>[0-9A-Z]+))?)(?:/(?P<step>\d+))?$")
_RANGES = {0: (0, 59), 1: (0, 59), 2: (0, 23), 3: (1, 31), 4: (1, 12), 5: (1, 7), 6: (1970, 2099)}


class FrequencyError(ValueError):
    """What is wrong with a frequency, naming the field (`frequency.end_time: ...`)."""


def _value(token: str, index: int) -> str:
    names = _MONTHS if index == 4 else _DAYS if index == 5 else set()
    if token in names:
        return token
    if not token.isdigit():
        if token[-1] in "LW":
            raise FrequencyError(f"{FIELDS[index]}: L and W are not supported")
        raise FrequencyError(f"{FIELDS[index]}: {token!r} is not a value of this field")
    low, high = _RANGES[index]
    if not low <= int(token) <= high:
        raise FrequencyError(f"{FIELDS[index]}: {token} is outside {low}-{high}")
    # Quartz counts days of the week from Sunday = 1; croniter from Sunday = 0.
    return str(int(token) - 1) if index == 5 else str(int(token))


def _field(text: str, index: int) -> str:
    if text == "?":
        if index not in (3, 5):
            raise FrequencyError(f"{FIELDS[index]}: ? is only for the day fields")
        return "*"
    if "#" in text:
        raise FrequencyError(f"{FIELDS[index]}: # is not supported")
    parts = []
    for part in text.upper().split(","):
        match = _PART.match(part)
        if match is None:
            raise FrequencyError(f"{FIELDS[index]}: {part!r} is not a value, range or step")
        if match["low"] is None:
            parts.append(part)
            continue
        value = _value(match["low"], index)
        if match["high"] is not None:
            value += "-" + _value(match["high"], index)
        if match["step"] is not None:
            if int(match["step"]) == 0:
                raise FrequencyError(f"{FIELDS[index]}: a step must be at least 1")
            value += "/" + match["step"]
        parts.append(value)
    return ",".join(parts)


def cron_of(expression: str) -> str:
    """The Quartz expression in croniter's dialect (seconds first, Sunday = 0)."""
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise FrequencyError(
            "frequency: a Quartz cron expression of 6 or 7 fields (seconds minutes hours "
            "day-of-month month day-of-week [year]), such as '0 0 0 5,15 * ? *'"
        )
    if fields[3] not in ("?", "*") and fields[5] not in ("?", "*"):
        raise FrequencyError("frequency: one of day of month and day of week must be ?")
    try:
        converted = [_field(text, index) for index, text in enumerate(fields)]
    except FrequencyError as error:
        raise FrequencyError(f"frequency: {error}") from None
    if len(converted) == 7 and converted[6] == "*":
        converted.pop()
    cron = " ".join(converted)
    if not croniter.is_valid(cron, second_at_beginning=True):
        raise FrequencyError(f"frequency: {expression!r} is not a valid cron expression")
    return cron


def _moment(value: Any, name: str) -> datetime:
    moment = parse_timestamp(value)
    if moment is None:
        raise FrequencyError(f"{name}: required, an ISO 8601 date-time with its zone (+07:00, Z)")
    return moment


@dataclass(frozen=True)
class NotifySchedule:
    start: datetime
    end: datetime
    expression: str  # as the client gave it (Quartz)
    cron: str  # croniter's dialect

    @classmethod
    def parse(cls, value: Any) -> NotifySchedule:
        """From a subscription's `frequency` object; FrequencyError names what is wrong."""
        if not isinstance(value, dict):
            raise FrequencyError("frequency: an object with start_time, end_time and frequency")
        start = _moment(value.get("start_time"), "frequency.start_time")
        end = _moment(value.get("end_time"), "frequency.end_time")
        if end <= start:
            raise FrequencyError("frequency.end_time: must be after start_time")
        expression = value.get("frequency")
        if not isinstance(expression, str) or not expression.strip():
            raise FrequencyError("frequency.frequency: required, a Quartz cron expression")
        try:
            cron = cron_of(expression.strip())
        except FrequencyError as error:
            raise FrequencyError(f"frequency.{error}") from None
        return cls(start=start, end=end, expression=expression.strip(), cron=cron)

    def as_json(self) -> dict[str, str]:
        return {
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
            "frequency": self.expression,
        }

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end

    def send_at(self, occurred_at: datetime) -> datetime:
        """When a notification of an event at `occurred_at` (inside the window) is sent: the
        first fire time after it, or the window's end if that comes first."""
        try:
            fire = croniter(
                self.cron, occurred_at.astimezone(CAMBODIA), second_at_beginning=True
            ).get_next(datetime)
        except CroniterError:  # no fire time in the years croniter looks ahead
            return self.end
        return min(fire, self.end)
