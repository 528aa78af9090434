"""EventBridge Scheduler expressions: cron(...), rate(...) and at(...), checked before AWS sees them.

cron has six fields (minutes hours day-of-month month day-of-week year), and
exactly one of day-of-month and day-of-week must be "?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

EXAMPLES = "cron(0 3 * * ? *), rate(15 minutes) or at(2026-12-01T09:00:00)"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    extra: str | None = None  # a regex of special forms allowed in this field

    def value(self, token: str) -> int | None:
        if token.isdigit():
            number = int(token)
            return number if self.low <= number <= self.high else None
        if token.upper() in self.names:
            return self.names.index(token.upper()) + self.low
        return None

    def problem(self, text: str) -> str | None:
        for item in text.split(","):
            if self.extra and re.fullmatch(self.extra, item, re.IGNORECASE):
                continue
            base, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"{self.name} step '{step}' must be a positive number"
            if base == "*":
                continue
            low, _, high = base.partition("-")
            bounds = [self.value(low)] + ([self.value(high)] if high else [])
            if any(b is None for b in bounds):
                allowed = f"{self.low}-{self.high}" + (f" or {self.names[0]}-{self.names[-1]}" if self.names else "")
                return f"{self.name} '{item}' is not in {allowed}"
        return None


FIELDS = [
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, extra=r"\?|L|LW|([1-9]|[12]\d|3[01])W"),
    _Field("month", 1, 12, tuple(MONTHS)),
    _Field("day-of-week", 1, 7, tuple(DAYS), extra=r"\?|L|[1-7]L|[1-7]#[1-5]|(SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5])"),
    _Field("year", 1970, 2199),
]

RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")


def schedule_expression_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid EventBridge Scheduler expression, or None."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) != 6:
            return (f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), "
                    f"got {len(fields)}: {expression!r}")
        for spec, value in zip(FIELDS, fields):
            problem = spec.problem(value)
            if problem:
                return f"{problem} in {expression!r}"
        day_of_month, day_of_week = fields[2], fields[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            return f"exactly one of day-of-month and day-of-week must be '?' in {expression!r}"
        return None
    if text.startswith("rate("):
        match = RATE.match(text)
        if not match:
            return f"{expression!r} is not rate(<number> <minute(s)|hour(s)|day(s)>)"
        value, unit = int(match["value"]), match["unit"]
        if value == 0:
            return f"the rate in {expression!r} must be at least 1"
        if (value == 1) == unit.endswith("s"):
            return f"{expression!r}: use '{value} {unit.rstrip('s') if value == 1 else unit + 's'}'"
        return None
    if text.startswith("at(") and text.endswith(")"):
        try:
            datetime.strptime(text[3:-1], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return f"{expression!r} is not at(yyyy-mm-ddThh:mm:ss)"
        return None
    return f"{expression!r} is not a schedule expression; use {EXAMPLES}"
