"""The built-in /whisk.system namespace and its alarms: the packages every
namespace sees, the feed lifecycle (CREATE, READ, UPDATE, DELETE) with
openwhisk-package-alarms' parameters and messages, and the scheduler, driven
here by a clock of the test's own: fires at the ticks, never twice for one,
stops at its limits, disables itself when the trigger is gone, and goes on
after a restart. Actions run on the fake runner; the real invoker path (a
cron with seconds firing a rule's action) is in
tests/integration/api/test_alarms_serve.py."""

import json
import time
from typing import Any

import pytest

from tests.unit.api.conftest import ALICE_KEY, GUEST_KEY, Api
from whiskrun.api.alarm_scheduler import AlarmScheduler

ALARMS = "/namespaces/whisk.system/actions/alarms"
HOUR_MS = 3_600_000


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def feed(api: Api, kind: str, event: str, trigger: str = "t", *, key: str = GUEST_KEY, **params: Any):
    """A blocking invoke of /whisk.system/alarms/<kind>, as wsk and the npm client make it."""
    body = {"lifecycleEvent": event, "triggerName": f"/_/{trigger}", "authKey": key, **params}
    return api.post(f"{ALARMS}/{kind}", key=key, json=body, query_string={"blocking": "true", "result": "false"})


def created(api: Api, kind: str, trigger: str = "t", **params: Any) -> None:
    response = feed(api, kind, "CREATE", trigger, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["response"]["result"] == {"status": "success"}


def refused(api: Api, response, message: str) -> None:
    assert response.status_code == 502, response.get_data(as_text=True)
    record = response.get_json()
    assert record["response"]["result"] == {"error": message}
    assert record["response"]["status"] == "application error"


def with_rule(api: Api, trigger: str = "t") -> None:
    api.create("hello")
    assert api.put(f"/namespaces/_/triggers/{trigger}", json={}).status_code == 200
    assert api.put(f"/namespaces/_/rules/r-{trigger}", json={"trigger": f"/_/{trigger}",
                                                             "action": "/_/hello"}).status_code == 200


def scheduler(api: Api, clock: Clock) -> AlarmScheduler:
    svc = api.services
    return AlarmScheduler(api.store, svc.events, svc.firer, svc.keys, clock=clock)


def trigger_records(api: Api, trigger: str = "t") -> list[dict[str, Any]]:
    listed = api.get("/namespaces/_/activations", query_string={"name": trigger, "docs": "true"}).get_json()
    return listed


# -- /whisk.system ------------------------------------------------------------

def test_whisk_system_packages_are_there_for_every_namespace(api: Api) -> None:
    for key in (GUEST_KEY, ALICE_KEY):
        names = [p["name"] for p in api.get("/namespaces/whisk.system/packages", key=key).get_json()]
        assert sorted(names) == ["alarms", "utils"]
    alarms = api.get("/namespaces/whisk.system/packages/alarms").get_json()
    assert alarms["publish"] is True and alarms["actions"] == []
    assert sorted(f["name"] for f in alarms["feeds"]) == ["alarm", "interval", "once"]
    utils = api.get("/namespaces/whisk.system/packages/utils").get_json()
    assert sorted(a["name"] for a in utils["actions"]) == ["cat", "date", "echo", "head", "namespace", "smash",
                                                           "sort", "split"]
    echo = api.get("/namespaces/whisk.system/actions/utils/echo").get_json()
    assert echo["exec"]["kind"] == "nodejs:18" and "return params" in echo["exec"]["code"]
    for method in ("PUT", "DELETE"):
        assert api.request(method, "/namespaces/whisk.system/packages/utils", json={}).status_code == 403


def test_the_intrinsic_annotation_means_nothing_outside_whisk_system(api: Api) -> None:
    """A user's action annotated like a built-in feed is an ordinary action."""
    api.create("fake", annotations=[{"key": "whiskrun-intrinsic", "value": "alarms"}])
    response = api.invoke("fake", {"lifecycleEvent": "CREATE"})
    assert response.status_code == 200
    assert api.runner.invoked("fake"), "the user's action did not run on the invoker"


# -- the feed lifecycle ---------------------------------------------------------

def test_create_read_update_delete_a_cron_alarm(api: Api) -> None:
    with_rule(api)
    created(api, "alarm", cron="0 9 * * 1", timezone="Europe/Zurich", trigger_payload="hi")
    read = feed(api, "alarm", "READ").get_json()["response"]["result"]
    assert read["config"] == {"name": "t", "namespace": "guest", "payload": {"payload": "hi"}, "strict": False,
                              "startDate": None, "stopDate": None, "cron": "0 9 * * 1", "timezone": "Europe/Zurich"}
    assert read["status"]["active"] is True and read["status"]["dateChangedISO"].endswith("Z")
    updated = feed(api, "alarm", "UPDATE", cron="*/5 * * * *", trigger_payload={"a": 1})
    assert updated.get_json()["response"]["result"] == {"status": "success"}
    config = feed(api, "alarm", "READ").get_json()["response"]["result"]["config"]
    assert (config["cron"], config["payload"]) == ("*/5 * * * *", {"a": 1})
    refused(api, feed(api, "alarm", "UPDATE"), "no updatable parameters were specified")
    assert feed(api, "alarm", "DELETE").get_json()["response"]["result"] == {"status": "success"}
    refused(api, feed(api, "alarm", "READ"), "could not find trigger /guest/t in the alarms database")
    # DELETE of a registration (or trigger) that is gone is fine.
    assert feed(api, "alarm", "DELETE", trigger="never").status_code == 200


def future_iso(hours: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + hours * 3600))


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("alarm", {}, "alarms trigger feed is missing the cron parameter"),
    ("alarm", {"cron": "61 * * * *"}, "cron pattern '61 * * * *' is not valid"),
    ("alarm", {"cron": "* * *"}, "cron pattern '* * *' is not valid"),
    ("alarm", {"cron": "* * * * *", "timezone": "Mars/Olympus"}, "Invalid timezone."),
    ("alarm", {"cron": "* * * * *", "maxTriggers": 3, "stopDate": future_iso(2)},
     "maxTriggers is not allowed when the stopDate parameter is specified"),
    ("alarm", {"cron": "0 0 1 1 *", "stopDate": future_iso(1)},
     "the first scheduled trigger fire is not until after the stop date"),
    ("alarm", {"cron": "* * * * *", "startDate": "yesterday"}, "startDate parameter 'yesterday' is not a valid Date"),
    ("alarm", {"cron": "* * * * *", "startDate": "2001-01-01T00:00:00Z"},
     "startDate parameter '2001-01-01T00:00:00Z' must be in the future"),
    ("once", {}, "alarms once trigger feed is missing the date parameter"),
    ("once", {"date": "2001-01-01T00:00:00Z"}, "date parameter '2001-01-01T00:00:00Z' must be in the future"),
    ("once", {"date": future_iso(1), "deleteAfterFire": "maybe"},
     "deleteAfterFire parameter must be one of [false, true, rules]."),
    ("interval", {}, "interval trigger feed is missing the minutes parameter"),
    ("interval", {"minutes": "often"}, "the minutes parameter must be an integer"),
    ("interval", {"minutes": 0}, "the minutes parameter must be an integer greater than zero"),
])
def test_bad_feed_parameters_are_refused_and_register_nothing(api: Api, kind: str, params: dict,
                                                              message: str) -> None:
    with_rule(api)
    refused(api, feed(api, kind, "CREATE", **params), message)
    refused(api, feed(api, kind, "READ"), "could not find trigger /guest/t in the alarms database")
    assert api.store.alarms() == []


def test_only_the_callers_existing_trigger_with_its_own_key(api: Api) -> None:
    with_rule(api)
    refused(api, feed(api, "alarm", "CREATE", trigger="nope", cron="* * * * *"), "Trigger authentication request failed.")
    body = {"lifecycleEvent": "CREATE", "triggerName": "/alice/t", "cron": "* * * * *"}
    refused(api, api.post(f"{ALARMS}/alarm", json=body, query_string={"blocking": "true"}),
            "Trigger authentication request failed.")
    body = {"lifecycleEvent": "CREATE", "triggerName": "/_/t", "cron": "* * * * *", "authKey": ALICE_KEY}
    refused(api, api.post(f"{ALARMS}/alarm", json=body, query_string={"blocking": "true"}),
            "Trigger authentication request failed.")
    refused(api, feed(api, "alarm", "STOP"), "unsupported lifecycleEvent")
    refused(api, api.post(f"{ALARMS}/alarm", json={"lifecycleEvent": "CREATE"}, query_string={"blocking": "true"}),
            "no trigger name parameter was provided")
    assert api.store.alarms() == []


def test_the_feed_record_is_the_callers(api: Api) -> None:
    with_rule(api)
    record = feed(api, "alarm", "CREATE", cron="* * * * *").get_json()
    assert record["namespace"] == "guest"
    marks = {a["key"]: a["value"] for a in record["annotations"]}
    assert marks["path"] == "whisk.system/alarms/alarm"
    assert api.activation(record["activationId"])["response"]["result"] == {"status": "success"}
    assert api.runner.calls == []  # answered in the server, no container


# -- the scheduler ---------------------------------------------------------------

def test_a_cron_alarm_fires_each_tick_once(api: Api) -> None:
    with_rule(api)
    created(api, "alarm", cron="*/10 * * * * *", trigger_payload={"k": "v"})  # every 10 s, seconds first
    next_ms = api.store.get_alarm("guest", "t")["next"]
    assert next_ms % 10_000 == 0
    clock = Clock(next_ms / 1000 - 0.5)
    alarms = scheduler(api, clock)
    assert alarms.run_due() == 0
    clock.now_s = next_ms / 1000 + 0.2
    assert alarms.run_due() == 1
    assert alarms.run_due() == 0, "one tick fired twice"
    [record] = trigger_records(api)
    assert record["response"]["result"] == {"k": "v"}
    [line] = [json.loads(x) for x in record["logs"]]
    assert line["rule"] == "guest/r-t" and line["success"] is True
    fired = api.wait_for_activation(line["activationId"])
    assert fired["response"]["result"]["k"] == "v"
    clock.now_s += 10
    assert alarms.run_due() == 1
    assert len(trigger_records(api)) == 2


def test_max_triggers_and_stop_date_end_an_alarm(api: Api) -> None:
    with_rule(api)
    created(api, "alarm", cron="* * * * *", maxTriggers=2)
    clock = Clock(time.time())
    alarms = scheduler(api, clock)
    for _ in range(4):
        clock.now_s += 60
        alarms.run_due()
    assert len(trigger_records(api)) == 2
    alarm = api.store.get_alarm("guest", "t")
    assert alarm["status"]["active"] is False and alarm["next"] is None


def test_an_interval_fires_from_its_start_every_n_minutes(api: Api) -> None:
    with_rule(api)
    start_ms = int(time.time() * 1000) + HOUR_MS
    created(api, "interval", minutes=5, startDate=start_ms)
    assert api.store.get_alarm("guest", "t")["next"] == start_ms
    clock = Clock(start_ms / 1000)
    alarms = scheduler(api, clock)
    assert alarms.run_due() == 1
    assert api.store.get_alarm("guest", "t")["next"] == start_ms + 5 * 60_000


def test_once_with_delete_after_fire_rules_removes_the_trigger_and_its_rules(api: Api) -> None:
    with_rule(api)
    when_ms = int(time.time() * 1000) + HOUR_MS
    created(api, "once", date=when_ms, deleteAfterFire="rules")
    alarms = scheduler(api, Clock(when_ms / 1000 + 1))
    assert alarms.run_due() == 1
    assert len(trigger_records(api)) == 1
    assert api.get("/namespaces/_/triggers/t").status_code == 404
    assert api.get("/namespaces/_/rules/r-t").status_code == 404
    assert api.store.get_alarm("guest", "t") is None
    assert alarms.run_due() == 0


def test_a_deleted_trigger_disables_its_alarm(api: Api) -> None:
    with_rule(api)
    created(api, "alarm", cron="* * * * *")
    api.delete("/namespaces/_/triggers/t")
    clock = Clock(time.time() + 61)
    alarms = scheduler(api, clock)
    assert alarms.run_due() == 1
    alarm = api.store.get_alarm("guest", "t")
    assert alarm["status"] == {"active": False, "dateChanged": alarm["status"]["dateChanged"],
                               "reason": "the trigger /guest/t does not exist"}
    clock.now_s += 120
    assert alarms.run_due() == 0
    assert trigger_records(api) == []


def test_after_a_restart_the_schedule_goes_on_from_the_next_tick(make_api, tmp_path) -> None:
    first = make_api(data_dir=tmp_path / "kept")
    with_rule(first)
    created(first, "alarm", cron="* * * * *")
    next_ms = first.store.get_alarm("guest", "t")["next"]
    first.close()
    second = make_api(data_dir=tmp_path / "kept")
    # Down for five ticks: they are not fired, the next one is.
    clock = Clock(next_ms / 1000 + 5 * 60 + 1)
    alarms = scheduler(second, clock)
    alarms.resume_after_restart()
    assert second.store.get_alarm("guest", "t")["next"] == next_ms + 6 * 60_000
    assert alarms.run_due() == 0
    clock.now_s = (next_ms + 6 * 60_000) / 1000
    assert alarms.run_due() == 1
    assert len(trigger_records(second)) == 1


def test_pause_and_unpause(api: Api) -> None:
    with_rule(api)
    created(api, "alarm", cron="* * * * *")
    assert feed(api, "alarm", "PAUSE").status_code == 200
    status = feed(api, "alarm", "READ").get_json()["response"]["result"]["status"]
    assert status["active"] is False and status["reason"] == "paused (lifecycleEvent PAUSE)"
    clock = Clock(time.time() + 120)
    alarms = scheduler(api, clock)
    assert alarms.run_due() == 0
    assert feed(api, "alarm", "UNPAUSE").status_code == 200
    assert feed(api, "alarm", "READ").get_json()["response"]["result"]["status"]["active"] is True
    clock.now_s = time.time() + 61
    assert alarms.run_due() == 1


def test_a_fire_never_overwrites_a_feed_change_made_meanwhile(api: Api) -> None:
    """The scheduler read the registrations, then a feed UPDATE changed one before it
    fired: the stale copy fires nothing and the update stands."""
    with_rule(api)
    created(api, "alarm", cron="* * * * *")
    stale = api.store.get_alarm("guest", "t")
    assert feed(api, "alarm", "UPDATE", cron="0 0 1 1 *", trigger_payload={"v": 2}).status_code == 200
    alarms = scheduler(api, Clock(stale["next"] / 1000 + 1))
    alarms._fire(stale, stale["next"] + 1000)  # noqa: SLF001 - the step run_due takes for each due alarm
    kept = api.store.get_alarm("guest", "t")
    assert (kept["cron"], kept["payload"], kept["fired"]) == ("0 0 1 1 *", {"v": 2}, 0)
    assert trigger_records(api) == []
