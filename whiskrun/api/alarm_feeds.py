"""The ``/whisk.system/alarms`` feed actions, answered inside the server:
``lifecycleEvent`` CREATE, READ, UPDATE and DELETE of the alarm registered
for the trigger named by ``triggerName``, with openwhisk-package-alarms'
parameters and messages (action/alarmWebAction.js). The registrations are
kept in the store; alarm_scheduler.py fires them."""

import datetime
import time
from collections.abc import Callable
from typing import Any

from . import alarm_schedule
from .alarm_schedule import ScheduleError
from .identity import Identity
from .store import Store

KINDS = ("alarm", "once", "interval")
DELETE_AFTER_FIRE = ("false", "true", "rules")
AUTH_FAILED = "Trigger authentication request failed."
#: Without a startDate an interval starts this long after its creation (as upstream).
INTERVAL_DELAY_MS = 30_000


class AlarmFeeds:
    def __init__(self, store: Store, changed: Callable[[], None], clock: Callable[[], float] = time.time) -> None:
        """``changed`` is called after every change, so that the scheduler looks again."""
        self._store = store
        self._changed = changed
        self._clock = clock

    def handle(self, caller: Identity, action: str, params: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(success, result) of the feed action ``action`` (alarm, once, interval)."""
        try:
            return True, self._lifecycle(caller, action, params)
        except ScheduleError as refused:
            return False, {"error": str(refused)}

    def _lifecycle(self, caller: Identity, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if action not in KINDS:
            raise ScheduleError(f"{action} is not one of the alarms feeds {list(KINDS)}")
        event = str(params.get("lifecycleEvent", "")).upper()
        trigger = self._trigger_of(caller, params)
        if event == "DELETE":
            self._store.delete_alarm(caller.namespace, trigger)
            self._changed()
            return {"status": "success"}
        self._authenticate(caller, trigger, params)
        if event == "CREATE":
            alarm = self._create(caller.namespace, trigger, action, params)
        elif event == "READ":
            return self._read(self._existing(caller.namespace, trigger))
        elif event == "UPDATE":
            alarm = self._update(self._existing(caller.namespace, trigger), params)
        elif event in ("PAUSE", "UNPAUSE"):
            # OpenWhisk's feed docs name these; upstream's alarms feed refuses them. Here a
            # paused alarm keeps its registration and fires again from the next tick.
            alarm = self._pause(self._existing(caller.namespace, trigger), paused=event == "PAUSE")
        else:
            raise ScheduleError("unsupported lifecycleEvent")
        self._store.put_alarm(caller.namespace, trigger, alarm)
        self._changed()
        return {"status": "success"}

    @staticmethod
    def _trigger_of(caller: Identity, params: dict[str, Any]) -> str:
        name = params.get("triggerName")
        if not isinstance(name, str) or not name.strip("/"):
            raise ScheduleError("no trigger name parameter was provided")
        parts = name.strip("/").split("/")
        namespace, trigger = (parts[0], parts[-1]) if len(parts) > 1 else ("_", parts[0])
        if namespace not in ("_", caller.namespace) or len(parts) > 2:
            raise ScheduleError(AUTH_FAILED)  # a caller registers alarms only for its own triggers
        return trigger

    def _authenticate(self, caller: Identity, trigger: str, params: dict[str, Any]) -> None:
        """As upstream's verifyTriggerAuth: the key given must be the caller's, and
        the trigger must be there to see with it."""
        key = params.get("authKey")
        if key is not None and key != caller.api_key:
            raise ScheduleError(AUTH_FAILED)
        if self._store.get(caller.namespace, "triggers", trigger) is None:
            raise ScheduleError(AUTH_FAILED)

    def _existing(self, namespace: str, trigger: str) -> dict[str, Any]:
        alarm = self._store.get_alarm(namespace, trigger)
        if alarm is None:
            raise ScheduleError(f"could not find trigger /{namespace}/{trigger} in the alarms database")
        return alarm

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _create(self, namespace: str, trigger: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        alarm: dict[str, Any] = {"namespace": namespace, "trigger": trigger, "kind": kind,
                                 "payload": _payload(params.get("trigger_payload")), "fired": 0,
                                 "status": {"active": True, "dateChanged": now}}
        if kind == "once":
            if not params.get("date"):
                raise ScheduleError("alarms once trigger feed is missing the date parameter")
            alarm["date"] = self._future(params["date"], "date")
            alarm["deleteAfterFire"] = _delete_after_fire(params.get("deleteAfterFire", "false"))
        else:
            if kind == "interval":
                if params.get("minutes") in (None, ""):
                    raise ScheduleError("interval trigger feed is missing the minutes parameter")
                alarm["minutes"] = _minutes(params["minutes"])
            else:
                if not params.get("cron"):
                    raise ScheduleError("alarms trigger feed is missing the cron parameter")
                alarm_schedule.check_cron(params["cron"], params.get("timezone"))
                alarm.update(cron=params["cron"], timezone=params.get("timezone"), strict=params.get("strict"))
            start = self._future(params["startDate"], "startDate") if params.get("startDate") else None
            alarm["startDate"] = start if start is not None or kind != "interval" else now + INTERVAL_DELAY_MS
            max_triggers = params.get("maxTriggers")
            if max_triggers and params.get("stopDate"):
                raise ScheduleError("maxTriggers is not supported for the interval trigger feed" if kind == "interval"
                                    else "maxTriggers is not allowed when the stopDate parameter is specified")
            if kind == "alarm":
                alarm["maxTriggers"] = _count(max_triggers) if max_triggers else -1
            alarm["stopDate"] = (self._future(params["stopDate"], "stopDate", after=alarm["startDate"])
                                 if params.get("stopDate") else None)
        alarm["next"] = alarm_schedule.next_fire(alarm, now)
        if alarm["next"] is None:
            raise ScheduleError("the first scheduled trigger fire is not until after the stop date")
        return alarm

    def _update(self, alarm: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        updated = dict(alarm)
        changed = False
        if "trigger_payload" in params:
            updated["payload"], changed = _payload(params["trigger_payload"]), True
        kind = alarm["kind"]
        if kind == "once":
            if params.get("date"):
                updated["date"], updated["fired"], changed = self._future(params["date"], "date"), 0, True
            if "deleteAfterFire" in params:
                updated["deleteAfterFire"], changed = _delete_after_fire(params["deleteAfterFire"]), True
        else:
            if kind == "interval" and params.get("minutes") not in (None, ""):
                updated["minutes"], changed = _minutes(params["minutes"]), True
            if kind == "alarm" and (params.get("cron") or "timezone" in params or "strict" in params):
                cron = params.get("cron") or alarm["cron"]
                timezone = params.get("timezone", alarm.get("timezone"))
                alarm_schedule.check_cron(cron, timezone)
                updated.update(cron=cron, timezone=timezone, strict=params.get("strict", alarm.get("strict")))
                changed = True
            if params.get("startDate"):
                updated["startDate"], changed = self._future(params["startDate"], "startDate"), True
            if params.get("stopDate"):
                updated["stopDate"] = self._future(params["stopDate"], "stopDate", after=updated.get("startDate"))
                changed = True
        if not changed:
            raise ScheduleError("no updatable parameters were specified")
        now = self._now()
        updated["next"] = alarm_schedule.next_fire(updated, now)
        updated["status"] = {"active": updated["next"] is not None, "dateChanged": now}
        return updated

    def _pause(self, alarm: dict[str, Any], *, paused: bool) -> dict[str, Any]:
        now = self._now()
        upcoming = None if paused else alarm_schedule.next_fire(alarm, now)
        status: dict[str, Any] = {"active": upcoming is not None, "dateChanged": now}
        if paused:
            status["reason"] = "paused (lifecycleEvent PAUSE)"
        elif upcoming is None:
            status["reason"] = "no more fires are scheduled"
        return {**alarm, "next": upcoming, "status": status}

    @staticmethod
    def _read(alarm: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {"name": alarm["trigger"], "namespace": alarm["namespace"],
                                  "payload": alarm["payload"], "strict": bool(alarm.get("strict"))}
        if alarm["kind"] == "once":
            config.update(date=alarm["date"], deleteAfterFire=alarm["deleteAfterFire"])
        else:
            config.update(startDate=alarm.get("startDate"), stopDate=alarm.get("stopDate"))
            if alarm["kind"] == "interval":
                config["minutes"] = alarm["minutes"]
            else:
                config.update(cron=alarm["cron"], timezone=alarm.get("timezone"))
        changed = alarm["status"]["dateChanged"]
        status = {"active": alarm["status"]["active"], "dateChanged": changed,
                  "dateChangedISO": datetime.datetime.fromtimestamp(changed / 1000, datetime.timezone.utc)
                  .strftime("%Y-%m-%dT%H:%M:%SZ")}
        if alarm["status"].get("reason"):
            status["reason"] = alarm["status"]["reason"]
        return {"config": config, "status": status}

    def _future(self, value: Any, name: str, after: int | None = None) -> int:
        when = alarm_schedule.parse_date(value, name)
        if when <= self._now():
            raise ScheduleError(f"{name} parameter '{value}' must be in the future")
        if after is not None and when <= after:
            raise ScheduleError(f"{name} parameter '{value}' must be greater than the startDate parameter "
                                f"'{after}'")
        return when


def _payload(value: Any) -> dict[str, Any]:
    """As upstream: a string payload becomes ``{"payload": string}``."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        return {"payload": value}
    if not isinstance(value, dict):
        raise ScheduleError("trigger_payload must be a JSON object or a string")
    return value


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
        raise ScheduleError("the minutes parameter must be an integer")
    minutes = int(value)
    if minutes <= 0:
        raise ScheduleError("the minutes parameter must be an integer greater than zero")
    return minutes


def _count(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScheduleError("maxTriggers must be an integer") from None


def _delete_after_fire(value: Any) -> str:
    text = str(value).lower() if isinstance(value, (bool, str)) else None
    if text not in DELETE_AFTER_FIRE:
        raise ScheduleError("deleteAfterFire parameter must be one of [false, true, rules].")
    return text
