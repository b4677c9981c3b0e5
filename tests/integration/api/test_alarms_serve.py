"""Events on a real `whiskrun serve` with real containers: a rule's action
started by a fire runs on the invoker with the fire's parameters; an alarm
(a cron with seconds, as node-cron writes it) fires a rule's action on
schedule, stops when its feed is deleted, and goes on after a restart;
a `once` alarm fires once; /whisk.system/utils runs for any namespace."""

import json
import time
from typing import Any

import pytest

from ..invoker_support import wait_until
from .server_support import SAMPLES, ApiClient, ServerFactory, guest_auth

pytestmark = pytest.mark.docker

NS = "/api/v1/namespaces/_"
ALARMS = "/api/v1/namespaces/whisk.system/actions/alarms"


def deploy_hello_rule(api: ApiClient, trigger: str = "tick") -> None:
    answer = api.put(f"{NS}/actions/hello?overwrite=true",
                     {"exec": {"kind": "python:3.11", "code": (SAMPLES / "hello.py").read_text()}})
    assert answer.status_code == 200, answer.text
    assert api.put(f"{NS}/triggers/{trigger}?overwrite=true",
                   {"parameters": [{"key": "name", "value": "trigger"}]}).status_code == 200
    answer = api.put(f"{NS}/rules/{trigger}-rule?overwrite=true", {"trigger": f"/_/{trigger}", "action": "/_/hello"})
    assert answer.status_code == 200, answer.text


def feed(api: ApiClient, kind: str, event: str, trigger: str, **params: Any):
    body = {"lifecycleEvent": event, "triggerName": f"/_/{trigger}", "authKey": ":".join(guest_auth()), **params}
    return api.post(f"{ALARMS}/{kind}?blocking=true&result=false", body)


def trigger_records(api: ApiClient, trigger: str) -> list[dict[str, Any]]:
    answer = api.get(f"{NS}/activations?name={trigger}&docs=true&limit=0&skip=0")
    assert answer.status_code == 200, answer.text
    return answer.json()


def action_results(api: ApiClient, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results of the activations the trigger records name."""
    ids = [json.loads(line)["activationId"] for record in records for line in record["logs"]]
    return [api.wait_for_activation(i)["response"]["result"] for i in ids]


def test_a_fire_runs_the_rules_action_with_the_payload_and_disable_stops_it(start_server: ServerFactory):
    api = start_server().client()
    deploy_hello_rule(api, "door")
    fired = api.post(f"{NS}/triggers/door", {"name": "Fire"})
    assert fired.status_code == 202, fired.text
    [record] = wait_until(lambda: trigger_records(api, "door"), 10, "trigger record")
    assert record["activationId"] == fired.json()["activationId"]
    assert action_results(api, [record]) == [{"greeting": "Hello Fire!"}]  # the payload over the parameter
    assert api.post(f"{NS}/rules/door-rule", {"status": "inactive"}).status_code == 200
    quiet = api.post(f"{NS}/triggers/door", {"name": "Nobody"})
    assert (quiet.status_code, quiet.content) == (204, b"")
    assert len(trigger_records(api, "door")) == 1


def test_an_alarm_fires_on_schedule_stops_after_delete_and_survives_a_restart(start_server: ServerFactory):
    server = start_server()
    api = server.client()
    deploy_hello_rule(api, "tick")
    created = feed(api, "alarm", "CREATE", "tick", cron="*/2 * * * * *", trigger_payload={"name": "Alarm"})
    assert created.status_code == 200, created.text
    assert created.json()["response"]["result"] == {"status": "success"}
    records = wait_until(lambda: len(trigger_records(api, "tick")) >= 2 and trigger_records(api, "tick"), 15,
                       "two alarm fires")
    assert {json.dumps(r) for r in action_results(api, records)} == {json.dumps({"greeting": "Hello Alarm!"})}
    starts = sorted(r["start"] for r in records[:2])
    assert starts[1] - starts[0] >= 1500, starts  # one fire per 2 s tick, not two

    server.restart()
    api = server.client()
    read = feed(api, "alarm", "READ", "tick").json()["response"]["result"]
    assert read["config"]["cron"] == "*/2 * * * * *" and read["status"]["active"] is True
    count = len(trigger_records(api, "tick"))
    wait_until(lambda: len(trigger_records(api, "tick")) > count, 15, "a fire after the restart")

    assert feed(api, "alarm", "DELETE", "tick").status_code == 200
    time.sleep(0.5)  # a fire already under way may still land
    settled = len(trigger_records(api, "tick"))
    time.sleep(4.5)
    assert len(trigger_records(api, "tick")) == settled, "the alarm fired after its feed was deleted"


def test_a_once_alarm_fires_once(start_server: ServerFactory):
    api = start_server().client()
    deploy_hello_rule(api, "soon")
    when = int(time.time() * 1000) + 2500
    assert feed(api, "once", "CREATE", "soon", date=when, trigger_payload={"name": "Once"}).status_code == 200
    [record] = wait_until(lambda: trigger_records(api, "soon"), 15, "the one fire")
    assert record["start"] >= when
    assert action_results(api, [record]) == [{"greeting": "Hello Once!"}]
    time.sleep(2)
    assert len(trigger_records(api, "soon")) == 1
    assert feed(api, "once", "READ", "soon").json()["response"]["result"]["status"]["active"] is False


def test_a_bad_cron_is_refused_and_the_server_goes_on(start_server: ServerFactory):
    api = start_server().client()
    deploy_hello_rule(api, "bad")
    answer = feed(api, "alarm", "CREATE", "bad", cron="every minute")
    assert answer.status_code == 502
    assert answer.json()["response"]["result"] == {"error": "cron pattern 'every minute' is not valid"}
    assert api.get(f"{NS}/triggers/bad").status_code == 200


def test_utils_run_for_any_namespace(start_server: ServerFactory):
    api = start_server().client()
    utils = "/api/v1/namespaces/whisk.system/actions/utils"
    split = api.post(f"{utils}/split?blocking=true&result=true", {"payload": "b\na"})
    assert split.status_code == 200, split.text
    assert split.json() == {"lines": ["b", "a"], "payload": "b\na"}
    sort = api.post(f"{utils}/sort?blocking=true&result=true", {"lines": ["b", "a", "c"]})
    assert sort.json() == {"lines": ["a", "b", "c"], "length": 3}
    namespace = api.post(f"{utils}/namespace?blocking=true&result=true", {})
    assert namespace.json() == {"namespace": "guest"}
    smash = api.post(f"{utils}/smash?blocking=true&result=true", {"$fieldName": "all", "a": 1})
    assert smash.json() == {"all": {"a": 1}}
    # A sequence of shared actions, as the OpenWhisk docs write it.
    answer = api.put(f"{NS}/actions/sorted-lines?overwrite=true", {"exec": {
        "kind": "sequence", "components": ["/whisk.system/utils/split", "/whisk.system/utils/sort"]}})
    assert answer.status_code == 200, answer.text
    words = api.post(f"{NS}/actions/sorted-lines?blocking=true&result=true", {"payload": "z\ny"})
    assert words.json() == {"lines": ["y", "z"], "length": 2}
