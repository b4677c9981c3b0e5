"""Fires the triggers of the registered alarms on schedule, through the same
fire path as ``POST /triggers/{name}``, as the provider of
openwhisk-package-alarms does. At most once per tick: the next tick is
stored before a fire starts, so neither a slow fire nor a crash fires one
tick twice. After a restart the schedules go on from the next tick (ticks
missed while the server was down are not fired, as upstream's provider)."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from . import alarm_schedule
from .errors import ApiError
from .events import EventCatalog
from .firing import TriggerFirer
from .identity import KeyRing
from .store import Store

log = logging.getLogger(__name__)
#: Longest sleep between two looks at the registrations (a change wakes it at once).
MAX_SLEEP_S = 30.0


class AlarmScheduler:
    def __init__(self, store: Store, events: EventCatalog, firer: TriggerFirer, keys: KeyRing,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._events = events
        self._firer = firer
        self._keys = keys
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def changed(self) -> None:
        """A registration was made, changed or removed: look again now."""
        self._wake.set()

    def start(self) -> None:
        self.resume_after_restart()
        self._thread = threading.Thread(target=self._loop, name="alarms", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def resume_after_restart(self) -> None:
        now = self._now()
        for alarm in self._store.alarms():
            if alarm["status"]["active"] and alarm.get("next") is not None and alarm["next"] < now:
                upcoming = alarm_schedule.next_fire(alarm, now)
                reason = None if upcoming is not None else "its time passed while the server was stopped"
                self._save(alarm, upcoming, reason=reason)

    def run_due(self) -> int:
        """Fire every alarm that is due now; how many were. (The loop's one step.)"""
        now, fired = self._now(), 0
        for alarm in self._store.alarms():
            if alarm["status"]["active"] and alarm.get("next") is not None and alarm["next"] <= now:
                self._fire(alarm, now)
                fired += 1
        return fired

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - the schedule must outlive one bad registration
                log.exception("the alarm scheduler failed on a pass; it goes on")
            self._wake.clear()
            self._wake.wait(self._sleep_s())

    def _sleep_s(self) -> float:
        upcoming = [a["next"] for a in self._store.alarms() if a["status"]["active"] and a.get("next") is not None]
        if not upcoming:
            return MAX_SLEEP_S
        return min(MAX_SLEEP_S, max(0.0, (min(upcoming) - self._now()) / 1000))

    def _fire(self, seen: dict[str, Any], now: int) -> None:
        namespace, trigger = seen["namespace"], seen["trigger"]
        # The next tick first, under the store's lock, and only if the registration is
        # still the one that was due (a feed UPDATE or DELETE may have come meanwhile):
        # this tick can never be fired twice, and no change of the feed is overwritten.
        with self._store.transaction() as store:
            current = store.get_alarm(namespace, trigger)
            if current is None or current.get("next") != seen["next"] or not current["status"]["active"]:
                return
            alarm = {**current, "fired": current.get("fired", 0) + 1}
            upcoming = alarm_schedule.next_fire(alarm, now)
            self._save(alarm, upcoming, reason=None if upcoming is not None else "no more fires are scheduled")
        caller = self._keys.lookup(namespace)
        doc = self._store.get(namespace, "triggers", trigger)
        if caller is None or doc is None:
            # As upstream's provider on a 404: the alarm is disabled, not retried.
            self._save(alarm, None, reason=f"the trigger /{namespace}/{trigger} does not exist")
            return
        try:
            self._firer.fire(caller, doc, alarm["payload"], {})
        except ApiError as refused:
            log.warning("the alarm of /%s/%s could not fire: %s", namespace, trigger, refused.message)
        if alarm["kind"] == "once" and alarm.get("deleteAfterFire", "false") != "false":
            self._delete_after_fire(namespace, trigger, doc, rules=alarm["deleteAfterFire"] == "rules")

    def _delete_after_fire(self, namespace: str, trigger: str, doc: dict[str, Any], *, rules: bool) -> None:
        try:
            if rules:
                for rule in doc.get("rules", {}):
                    self._events.delete_rule(namespace, rule.split("/")[-1])
            self._events.delete_trigger(namespace, trigger)
        except ApiError as refused:
            log.warning("deleting /%s/%s after its alarm fired failed: %s", namespace, trigger, refused.message)
        self._store.delete_alarm(namespace, trigger)

    def _save(self, alarm: dict[str, Any], upcoming: int | None, *, reason: str | None) -> None:
        status = alarm["status"]
        if upcoming is None:
            status = {"active": False, "dateChanged": self._now(), **({"reason": reason} if reason else {})}
        self._store.put_alarm(alarm["namespace"], alarm["trigger"], {**alarm, "next": upcoming, "status": status})

    def _now(self) -> int:
        return int(self._clock() * 1000)
