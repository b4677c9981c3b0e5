"""The real npm `openwhisk` client (3.21.9, pinned by tests/e2e/client's
lockfile) against a real `whiskrun serve`: tests/e2e/client/scenario.js makes
the calls and prints what came back, these tests check it; then
wsk-samples/deploy.js deploys and invokes every sample, as users without `wsk`
would (the trigger and rule, the alarm, the API route included)."""

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api.sample_results import (
    ALARM_CRON,
    ALARM_FEED,
    ALARM_PAYLOAD,
    ALARM_RESULT,
    ALARM_RULE,
    ALARM_TRIGGER,
    API_ACTION,
    API_BASE,
    API_PATH,
    FIRE_PAYLOAD,
    FIRED_RESULT,
    RESULTS,
    ROUTE_QUERY,
    ROUTE_RESULT,
    RULE,
    RULE_ACTION,
    TRIGGER,
    TRIGGER_PARAMETERS,
)
from tests.integration.api.server_support import SAMPLES, ApiServer
from tests.integration.api.wsk_replay import header_commands
from tests.integration.invoker_support import ACTIVATION_ID
from whiskrun.api.config import GUEST_KEY

pytestmark = pytest.mark.docker

HELLO_PY = (SAMPLES / "hello.py").read_text()


def node(script: Path, server: ApiServer, client: Path, *args: str, timeout: float = 240) -> str:
    """Run a Node script with the npm client, pointed at ``server``; its stdout."""
    env = {**os.environ, "__OW_API_HOST": server.base_url, "__OW_API_KEY": GUEST_KEY,
           "NODE_PATH": str(client / "node_modules")}
    done = subprocess.run(["node", str(script), *args], cwd=script.parent, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{script.name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def marks(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record["annotations"]}


@pytest.fixture(scope="module")
def scenario(api_server: ApiServer, npm_client: Path, sample_zip: Path) -> dict[str, Any]:
    lines = node(npm_client / "scenario.js", api_server, npm_client).strip().splitlines()
    return json.loads(lines[-1])


def test_namespaces_and_create(scenario):
    assert scenario["namespaces"] == ["guest"]
    py, js, zipped = scenario["createPy"], scenario["createJs"], scenario["createZip"]
    assert (py["namespace"], py["name"], py["version"]) == ("guest", "sc-hello-py", "0.0.1")
    assert py["exec"] == {"kind": "python:3.11", "code": HELLO_PY, "binary": False}
    assert js["exec"]["kind"] == "nodejs:18"  # the client's default, nodejs:default, resolved
    assert zipped["exec"]["binary"] is True and zipped["exec"]["kind"] == "python:3.11"
    again = scenario["createAgain"]
    assert (again["name"], again["statusCode"]) == ("OpenWhiskError", 409)
    assert again["error"]["error"] == "resource already exists" and again["error"]["code"]
    assert again["message"].endswith('Returned HTTP 409 (Conflict) --> "resource already exists"')


def test_update_get_and_list(scenario):
    updated = scenario["updatePy"]
    assert updated["version"] == "0.0.2"
    assert updated["exec"]["code"] == HELLO_PY  # an update without code keeps it
    assert updated["parameters"] == [{"key": "name", "value": "bound"}]
    assert marks(updated)["note"] == "updated" and marks(updated)["exec"] == "python:3.11"
    assert scenario["get"] == updated
    assert "code" not in scenario["getNoCode"]["exec"]
    assert {a["name"] for a in scenario["list"]} == {"sc-hello-py", "sc-hello-js", "sc-zip"}
    assert scenario["count"] == {"actions": 3}
    ns = scenario["namespaceGet"]
    assert {a["name"] for a in ns["actions"]} == {"sc-hello-py", "sc-hello-js", "sc-zip"}
    assert (ns["packages"], ns["triggers"], ns["rules"]) == ([], [], [])


def test_invoke_blocking_and_non_blocking(scenario):
    assert scenario["resultPy"] == {"greeting": "Hello bound!"}
    assert scenario["resultPyParams"] == {"greeting": "Hello Ada!"}
    first, second = scenario["recordJsFirst"], scenario["recordJsSecond"]
    assert first["response"]["result"] == {"greeting": "Hello World!"}
    assert marks(first)["startPath"] == "cold" and "initTime" in marks(first)
    assert second["response"]["result"] == {"greeting": "Hello Again!"}
    assert marks(second)["startPath"] == "warm" and "initTime" not in marks(second)
    accepted = scenario["accepted"]
    assert list(accepted) == ["activationId"] and ACTIVATION_ID.fullmatch(accepted["activationId"])
    polled = scenario["polled"]["record"]
    assert polled["activationId"] == accepted["activationId"]
    assert polled["response"]["result"] == {"greeting": "Hello Later!"}
    assert any(line.endswith("stdout: greeting Later") for line in polled["logs"])
    zipped = scenario["resultZip"]
    assert (zipped["greeting"], zipped["humanize"]) == ("Hello Zip!", "4.17.0")


def test_activations_list_logs_result(scenario):
    listed = scenario["activations"]
    assert len(listed) == 3 and {a["name"] for a in listed} == {"sc-hello-js"}
    assert listed[0]["activationId"] == scenario["accepted"]["activationId"]  # newest first
    assert all("response" not in a and a["statusCode"] == 0 for a in listed)
    (full,) = scenario["activationsDocs"]
    assert full["activationId"] == listed[0]["activationId"] and full["logs"] and full["response"]["success"]
    assert scenario["activationCount"] == {"activations": 3}
    assert any(line.endswith("stdout: greeting Later") for line in scenario["logs"]["logs"])
    result = scenario["result"]
    assert (result["result"], result["status"], result["success"]) == ({"greeting": "Hello Later!"}, "success",
                                                                       True)


def test_code_update_runs_the_new_version(scenario):
    assert scenario["updateJs"]["version"] == "0.0.2" and "Hi ${name}" in scenario["updateJs"]["exec"]["code"]
    record = scenario["recordJsUpdated"]
    assert record["version"] == "0.0.2" and record["response"]["result"] == {"greeting": "Hi World!"}
    assert marks(record)["startPath"] == "cold"


def test_sequence(scenario):
    created = scenario["createSequence"]
    assert created["exec"] == {"kind": "sequence", "components": ["/guest/sc-split", "/guest/sc-sort"]}
    assert scenario["resultSequence"] == {"words": ["a", "b", "c"], "count": 3}
    record = scenario["recordSequence"]
    assert record["response"]["result"] == {"words": ["x", "y"], "count": 2}
    assert (marks(record)["kind"], marks(record)["topmost"]) == ("sequence", True)
    # OpenWhisk answers a blocking sequence with its component activation ids as logs.
    assert len(record["logs"]) == 2 and all(ACTIVATION_ID.fullmatch(i) for i in record["logs"])
    failed = scenario["failedSequence"]
    assert failed["statusCode"] == 502
    assert failed["error"]["response"]["status"] == "application error"
    assert failed["error"]["response"]["result"]["error"].startswith('split needs a "text" parameter')
    assert 'Returned HTTP 502 (Bad Gateway) --> "split needs a "text" parameter' in failed["message"]


def test_failing_action_is_a_502_with_its_record(scenario):
    for key in ("failed", "failedResult"):  # the client sends result=true as blocking only
        failed = scenario[key]
        assert (failed["name"], failed["statusCode"]) == ("OpenWhiskError", 502), failed
        record = failed["error"]
        assert "code" not in record and ACTIVATION_ID.fullmatch(record["activationId"])
        assert record["response"]["status"] == "application error" and record["response"]["success"] is False
        assert record["response"]["result"] == {"error": "boom"}
        assert re.search(r'Returned HTTP 502 \(Bad Gateway\) --> "boom"$', failed["message"]), failed["message"]
    missing = scenario["missing"]
    assert missing["statusCode"] == 404 and missing["error"]["error"] == "The requested resource does not exist."


def test_delete(scenario):
    assert scenario["deleted"] == ["sc-hello-py", "sc-hello-js", "sc-zip", "sc-words", "sc-split", "sc-sort",
                                   "sc-fail"]
    assert scenario["getDeleted"]["statusCode"] == 404 and scenario["deleteAgain"]["statusCode"] == 404
    assert not [name for name in scenario["listAfter"] if name.startswith("sc-")]


def test_deploy_js_deploys_and_invokes_every_sample(scenario, api_server, npm_client):
    report = json.loads(node(SAMPLES / "deploy.js", api_server, npm_client, "--json"))
    assert report["namespace"] == "guest" and report["apihost"] == api_server.base_url
    updates = [c.split()[3] for c in header_commands() if c.startswith("wsk action update ")]
    assert [a["name"] for a in report["deployed"]] == updates  # the same actions as deploy.sh
    assert {a["version"] for a in report["deployed"]} == {"0.0.1"}
    invoked = report["invoked"]
    assert [i["name"] for i in invoked] == ["hello", "hello-js", "hello-sh", "heavy", "python-zip", "words",
                                           "greet", "hello"]
    for entry in invoked:
        assert entry["status"] == "success", entry
        result = dict(entry["result"])
        if entry["name"] == "heavy":
            assert result.pop("init_seconds") > 0
        assert result == RESULTS[entry["name"]]
    for entry in invoked[:-1]:  # each action's first activation starts a container
        if entry["name"] == "words":
            assert entry["startPath"] == "sequence"
            assert [c["name"] for c in entry["components"]] == ["split", "sort"]
            starts = entry["components"]
        else:
            starts = [entry]
        for start in starts:
            assert start["startPath"] == "cold" and isinstance(start["initTime"], int), entry
            assert isinstance(start["waitTime"], int)
    last = invoked[-1]
    assert (last["startPath"], last["initTime"]) == ("warm", None) and isinstance(last["waitTime"], int)
    web = report["web"]
    assert web["url"] == f"{api_server.base_url}/api/v1/web/guest/default/greet.http/fr?name=Ada"
    assert (web["status"], web["contentType"]) == (200, "application/json")
    assert web["body"] == {"greeting": "Bonjour Ada!", "language": "fr"}
    # The trigger/rule sample: the fire's payload, and the activation of hello its rule started.
    events = report["events"]
    assert events["trigger"] == {"name": TRIGGER, "version": "0.0.1", "parameters": TRIGGER_PARAMETERS}
    assert (events["rule"]["name"], events["rule"]["status"]) == (RULE, "active")
    assert (events["rule"]["trigger"], events["rule"]["action"]) == ({"path": "guest", "name": TRIGGER},
                                                                     {"path": "guest", "name": RULE_ACTION})
    fired = events["fired"]
    assert ACTIVATION_ID.fullmatch(fired["activationId"]) and fired["payload"] == FIRE_PAYLOAD
    (outcome,) = fired["rules"]
    assert (outcome["rule"], outcome["action"], outcome["success"]) == (f"guest/{RULE}", f"guest/{RULE_ACTION}",
                                                                        True)
    activation = outcome["activation"]
    assert (activation["name"], activation["status"], activation["result"]) == (RULE_ACTION, "success",
                                                                                FIRED_RESULT)
    assert ACTIVATION_ID.fullmatch(activation["activationId"]) and activation["startPath"] == "warm"
    # The alarm sample: the trigger with the feed's annotation, the feed's CREATE, a fire of
    # the alarm and the activation of hello its rule started, the feed's READ and DELETE.
    alarm = report["alarm"]
    assert alarm["trigger"] == {"name": ALARM_TRIGGER, "annotations": [{"key": "feed", "value": ALARM_FEED}]}
    assert alarm["created"] == {"status": "success"}
    assert (alarm["rule"]["name"], alarm["rule"]["status"]) == (ALARM_RULE, "active")
    assert (alarm["rule"]["trigger"], alarm["rule"]["action"]) == ({"path": "guest", "name": ALARM_TRIGGER},
                                                                   {"path": "guest", "name": RULE_ACTION})
    fire = alarm["fired"]
    assert ACTIVATION_ID.fullmatch(fire["activationId"]) and fire["payload"] == ALARM_PAYLOAD
    assert (fire["rule"], fire["action"]) == (f"guest/{ALARM_RULE}", f"guest/{RULE_ACTION}")
    activation = fire["activation"]
    assert (activation["name"], activation["status"], activation["result"]) == (RULE_ACTION, "success",
                                                                                ALARM_RESULT)
    assert activation["activationId"] != fire["activationId"]
    config, status = alarm["read"]["config"], alarm["read"]["status"]
    assert (config["name"], config["cron"], config["payload"], status["active"]) == (ALARM_TRIGGER, ALARM_CRON,
                                                                                     ALARM_PAYLOAD, True)
    assert alarm["deleted"] == {"status": "success"}
    # The API route sample: the managed URL answers greet's result without a key, until deleted.
    route = report["route"]
    uuid = GUEST_KEY.split(":")[0]
    assert route["gwApiUrl"] == f"{api_server.base_url}/api/{uuid}{API_BASE}"
    assert (route["basePath"], route["url"]) == (API_BASE, route["gwApiUrl"] + API_PATH)
    assert route["routes"] == [{"basepath": API_BASE, "relpath": API_PATH, "verb": "get", "action": API_ACTION}]
    assert route["paths"][API_PATH]["get"]["x-openwhisk"] == {
        "url": f"/api/v1/web/guest/default/{API_ACTION}.json", "namespace": "guest", "package": "",
        "action": API_ACTION}
    assert route["answer"] == {"status": 200, "contentType": "application/json", "body": ROUTE_RESULT}
    assert (route["afterDelete"], route["left"]) == (404, 0)
    client = api_server.client()
    assert client.get(f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}").status_code == 404
    assert client.get(f"/api/v1/namespaces/_/rules/{ALARM_RULE}").status_code == 404

    # Again, as a user reads it: every action updated (0.0.2) and run again.
    text = node(SAMPLES / "deploy.js", api_server, npm_client)
    for name in updates:
        assert re.search(rf"^updated {re.escape(name)} \([a-z0-9:.]+, version 0\.0\.2\)$", text, re.M), text
    assert re.search(r"^hello +cold +init \d+ ms; wait \d+ ms$", text, re.M), text
    assert re.search(r"^hello +warm +init -; wait \d+ ms$", text, re.M), text
    assert re.search(r"^words +sequence +split: cold, init \d+ ms, wait \d+ ms; sort: cold", text, re.M), text
    assert '200 application/json {"greeting":"Bonjour Ada!","language":"fr"}' in text
    assert re.search(rf"^updated trigger {TRIGGER} \(version 0\.0\.2\)$", text, re.M), text
    assert re.search(rf"^updated rule {RULE} \(version 0\.0\.2\): {TRIGGER} -> {RULE_ACTION}, active$", text,
                     re.M), text
    assert re.search(rf"^  rule guest/{RULE} started guest/{RULE_ACTION}: activation [0-9a-f]{{32}}$", text,
                     re.M), text
    assert 'success: {"greeting":"Hello Fired!"}' in text
    # The alarm and the route once more: what the first run made is gone, so they are made anew.
    assert (f"created trigger {ALARM_TRIGGER} with feed {ALARM_FEED} "
            '{"cron":"*/3 * * * * *","trigger_payload":{"name":"Alarm"}}: {"status":"success"}') in text, text
    assert re.search(rf"^  rule guest/{ALARM_RULE} started guest/{RULE_ACTION}: activation [0-9a-f]{{32}}$", text,
                     re.M), text
    assert 'success: {"greeting":"Hello Alarm!"}' in text
    assert f"feed READ: cron {ALARM_CRON}, payload {{\"name\":\"Alarm\"}}, active true" in text, text
    assert f"routes: GET {API_BASE}{API_PATH} -> {API_ACTION}" in text
    url = f"{api_server.base_url}/api/{uuid}{API_BASE}{API_PATH}"
    assert f"GET {url}{ROUTE_QUERY}\n  200 application/json {json.dumps(ROUTE_RESULT, separators=(',', ':'))}" in text
    assert f"deleted API {API_BASE}: GET {url} now 404, 0 APIs left" in text
