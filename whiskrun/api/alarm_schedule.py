"""When an alarm fires next (pure: no clock, no store). The three kinds of
openwhisk-package-alarms: ``alarm`` (a cron pattern, 5 fields or 6 with
seconds first as node-cron has it, in a time zone), ``interval`` (every N
minutes from a start date) and ``once`` (a date)."""

import datetime
import zoneinfo
from typing import Any

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

INVALID_TIMEZONE = "Invalid timezone."


class ScheduleError(ValueError):
    """A configuration that cannot be scheduled; the message is the feed's answer."""


def parse_date(value: Any, name: str) -> int:
    """A date given as milliseconds or as an ISO 8601 string, in ms since the epoch."""
    if isinstance(value, bool):
        raise ScheduleError(f"{name} parameter '{value}' is not a valid Date")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ScheduleError(f"{name} parameter '{value}' is not a valid Date") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return int(parsed.timestamp() * 1000)
    raise ScheduleError(f"{name} parameter '{value}' is not a valid Date")


def check_cron(pattern: Any, timezone: Any) -> None:
    if not isinstance(pattern, str) or not _valid(pattern):
        raise ScheduleError(f"cron pattern '{pattern}' is not valid")
    _zone(timezone)


def _valid(pattern: str) -> bool:
    fields = pattern.split()
    if len(fields) not in (5, 6):
        return False
    return croniter.is_valid(pattern, second_at_beginning=len(fields) == 6)


def _zone(timezone: Any) -> datetime.tzinfo:
    if timezone in (None, ""):
        return datetime.timezone.utc
    if not isinstance(timezone, str):
        raise ScheduleError(INVALID_TIMEZONE)
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(INVALID_TIMEZONE) from None


def next_cron(pattern: str, timezone: str | None, after_ms: int) -> int:
    """The first tick of ``pattern`` strictly after ``after_ms``."""
    zone = _zone(timezone)
    base = datetime.datetime.fromtimestamp(after_ms / 1000, zone)
    try:
        tick = croniter(pattern, base, second_at_beginning=len(pattern.split()) == 6).get_next(datetime.datetime)
    except (CroniterBadCronError, CroniterBadDateError) as exc:
        raise ScheduleError(f"cron pattern '{pattern}' is not valid") from exc
    return int(tick.timestamp() * 1000)


def next_fire(alarm: dict[str, Any], after_ms: int) -> int | None:
    """When ``alarm`` fires next after ``after_ms`` (ms), or None when it never will
    again (past its stop date, its count, or its one date)."""
    kind = alarm["kind"]
    start = alarm.get("startDate")
    if kind == "once":
        return alarm["date"] if alarm["date"] > after_ms and not alarm.get("fired") else None
    if kind == "interval":
        period = alarm["minutes"] * 60_000
        if start > after_ms:
            tick = start
        else:
            tick = start + ((after_ms - start) // period + 1) * period
    else:
        tick = next_cron(alarm["cron"], alarm.get("timezone"), max(after_ms, (start or 0) - 1))
        maximum = alarm.get("maxTriggers", -1)
        if maximum not in (None, -1) and alarm.get("fired", 0) >= maximum:
            return None
    stop = alarm.get("stopDate")
    if stop is not None and tick > stop:
        return None
    return tick
