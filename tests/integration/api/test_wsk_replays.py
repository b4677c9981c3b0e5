"""Every `wsk` command of wsk-samples/deploy.sh, replayed as the HTTP requests
the CLI sends (see wsk_replay.py), against a real `whiskrun serve` running the
samples in real containers; then the other commands users type around them
(`wsk list`, `namespace get`, `property get`, `activation get/result --last`,
`activation poll`) and what the records say about start paths. The header ends
with the trigger/rule sample (hello-trigger fired through hello-rule runs hello),
then the alarm sample (every-3s, fed by /whisk.system/alarms/alarm, runs hello
through every-3s-rule every 3 s until `wsk trigger delete` deletes its feed) and
the API route sample (greet at GET /hello/greet, called at its managed URL, then
deleted); and what wsk does when a feed refuses: it deletes the trigger again.

One server serves the whole module; the `replayed` fixture runs the header's
commands once, in order, as deploy.sh does, and the tests check what each
exchange answered. A stem cell for nodejs:18 is configured, so that a first
activation may start cold or prewarmed.
"""

import json
import re
import shlex
import time
from typing import Any

import pytest
import requests

from tests.integration.invoker_support import ACTIVATION_ID, LOG_LINE
from whiskrun.api.config import GUEST_KEY

from .sample_results import (
    ALARM_CRON,
    ALARM_FEED,
    ALARM_PAYLOAD,
    ALARM_RESULT,
    ALARM_RULE,
    ALARM_TRIGGER,
    API_ACTION,
    API_BASE,
    API_PATH,
    API_RESPONSE_TYPE,
    API_VERB,
    FIRE_PAYLOAD,
    FIRED_RESULT,
    RESULTS,
    ROUTE_QUERY,
    ROUTE_RESULT,
    RULE,
    RULE_ACTION,
    TRIGGER,
    TRIGGER_PARAMETERS,
    WORDS,
)
from .server_support import ApiClient, ApiServer, ServerFactory
from .wsk_replay import Exchange, Wsk, go_json, header_commands

pytestmark = pytest.mark.docker

HEADER = header_commands()
UPDATES = [c for c in HEADER if c.startswith("wsk action update ")]
INVOKES_R = [c for c in HEADER if c.startswith("wsk action invoke ") and " -r" in c]
WEB_CURL = "curl <url>.http/fr?name=Ada"  # the header's "(not wsk: curl ...)" step
TRIGGER_UPDATE = f"wsk trigger update {TRIGGER} -p name Trigger"
RULE_UPDATE = f"wsk rule update {RULE} {TRIGGER} {RULE_ACTION}"
RULE_ENABLE = f"wsk rule enable {RULE}"
TRIGGER_FIRE = f"wsk trigger fire {TRIGGER} -p name Fired"
EVENT_COMMANDS = [TRIGGER_UPDATE, RULE_UPDATE, RULE_ENABLE, TRIGGER_FIRE, f"wsk rule get {RULE}",
                  "wsk trigger list", "wsk rule list"]
ALARM_CREATE = (f'wsk trigger create {ALARM_TRIGGER} --feed {ALARM_FEED} -p cron "{ALARM_CRON}" '
                r'-p trigger_payload "{\"name\":\"Alarm\"}"')  # the JSON of ALARM_PAYLOAD, quoted for a shell
ALARM_RULE_UPDATE = f"wsk rule update {ALARM_RULE} {ALARM_TRIGGER} {RULE_ACTION}"
API_CREATE = f"wsk api create {API_BASE} {API_PATH} {API_VERB.lower()} {API_ACTION} --response-type {API_RESPONSE_TYPE}"
API_GET = f"wsk api get {API_BASE}"
ROUTE_CURL = f"curl <managed url>{ROUTE_QUERY}"  # the header's "(not wsk: curl ...)" step of the route
ALARM_LIST = f"wsk activation list {ALARM_TRIGGER} --limit 3"  # after the header's "(not wsk: sleep 4 ...)"
ALARM_GET = f"wsk trigger get {ALARM_TRIGGER}"
ALARM_DELETE = f"wsk trigger delete {ALARM_TRIGGER}"
ALARM_RULE_DELETE = f"wsk rule delete {ALARM_RULE}"
API_DELETE = f"wsk api delete {API_BASE}"
FEED_AND_API_COMMANDS = [ALARM_CREATE, ALARM_RULE_UPDATE, API_CREATE, "wsk api list", API_GET, ALARM_LIST,
                         ALARM_GET, ALARM_DELETE, ALARM_RULE_DELETE, API_DELETE]
FEED_TARGET = "/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true&result=false"
APIMGMT = "/api/v1/web/whisk.system/apimgmt"
UUID = GUEST_KEY.split(":")[0]
RULE_LINE_KEYS = ["statusCode", "success", "activationId", "rule", "action"]  # Triggers.scala's order
START_PATHS = {"cold", "prewarm", "warm", "unpause", "restore"}

#: action -> (kind as sent by wsk, kind stored, extra checks of the stored exec)
DEPLOYED = {
    "hello": ("python:default", "python:3.11", {"binary": False}),
    "hello-js": ("nodejs:default", "nodejs:18", {"binary": False}),
    "hello-sh": ("blackbox", "blackbox", {"image": "openwhisk/dockerskeleton", "binary": False}),
    "heavy": ("python:default", "python:3.11", {"binary": False}),
    "python-zip": ("python:3.11", "python:3.11", {"binary": True}),
    "split": ("nodejs:18", "nodejs:18", {"binary": False}),
    "sort": ("python:3.11", "python:3.11", {"binary": False}),
    "words": ("sequence", "sequence", {"components": ["/guest/split", "/guest/sort"]}),
    "greet": ("python:default", "python:3.11", {"binary": False}),
}


@pytest.fixture(scope="module")
def api_server(start_server: ServerFactory) -> ApiServer:
    return start_server(WHISKRUN_PREWARM="nodejs:18@256=1")


@pytest.fixture(scope="module")
def wsk(api: ApiClient, sample_zip: Any) -> Wsk:
    return Wsk(api)


@pytest.fixture(scope="module")
def replayed(wsk: Wsk) -> dict[str, list[Exchange]]:
    """deploy.sh's header, command by command: command -> the exchanges it made."""
    exchanges: dict[str, list[Exchange]] = {}
    for command in HEADER:
        if command == ALARM_LIST:  # deploy.sh sleeps 4 s before; the replay polls, bounded
            wait_for_a_fire(wsk.client)
        exchanges[command] = wsk(command)
        if command == "wsk action get greet --url":  # then deploy.sh curls that URL
            exchanges[WEB_CURL] = [wsk.send("GET", wsk.printed[-1].removeprefix(wsk.client.base_url)
                                            + ".http/fr?name=Ada", auth=False)]
        if command == API_GET:  # then deploy.sh curls the URL `wsk api create` printed
            url = managed_url(wsk)
            assert url.startswith(wsk.client.base_url + "/api/"), url
            exchanges[ROUTE_CURL] = [wsk.send("GET", url.removeprefix(wsk.client.base_url) + ROUTE_QUERY,
                                              auth=False)]
    return exchanges


def alarm_records(api: ApiClient) -> list[dict[str, Any]]:
    """The alarm trigger's activation records, newest first, with their logs."""
    answer = api.get(f"/api/v1/namespaces/_/activations?name={ALARM_TRIGGER}&docs=true")
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_for_a_fire(api: ApiClient, timeout: float = 12) -> dict[str, Any]:
    """A record of the alarm whose rule's activation of hello is stored: the alarm fired
    (every 3 s) with the rule linked, and hello ran."""
    deadline = time.monotonic() + timeout
    while True:
        for record in alarm_records(api):
            for line in record["logs"]:
                started = json.loads(line).get("activationId")
                if started and api.get(f"/api/v1/namespaces/_/activations/{started}").status_code == 200:
                    return record
        assert time.monotonic() < deadline, f"{ALARM_TRIGGER} did not run {RULE_ACTION} within {timeout} s"
        time.sleep(0.2)


def managed_url(wsk: Wsk) -> str:
    """The last line `wsk api create` printed: the route's managed URL."""
    shown = max(i for i, line in enumerate(wsk.printed) if line.startswith("ok: created API "))
    return wsk.printed[shown + 1]


@pytest.fixture(scope="module")
def alarm_fires(replayed: dict[str, list[Exchange]], api: ApiClient) -> list[dict[str, Any]]:
    """The alarm's trigger records once the header deleted it: after a quiet 4 s (more
    than one tick of its 3 s cron) there are no more."""
    settled = alarm_records(api)
    time.sleep(4)
    after = alarm_records(api)
    assert [r["activationId"] for r in after] == [r["activationId"] for r in settled], \
        f"{ALARM_TRIGGER} fired after `{ALARM_DELETE}`"
    return after


def alarm_started(records: list[dict[str, Any]]) -> set[str]:
    """The activations (of hello) the alarm's fires started through its rule."""
    return {json.loads(line)["activationId"] for record in records for line in record["logs"]}


@pytest.fixture(scope="module")
def fired(replayed: dict[str, list[Exchange]], api: ApiClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The trigger activation record of deploy.sh's `wsk trigger fire`, and the record of
    the activation of hello its rule started (polled: it runs after the 202, up to 30 s)."""
    (fire,) = replayed[TRIGGER_FIRE]
    assert fire.status == 202, fire.response.text
    trigger_record = api.wait_for_activation(fire.json()["activationId"], timeout=30)
    (line,) = trigger_record["logs"]
    return trigger_record, api.wait_for_activation(json.loads(line)["activationId"], timeout=30)


def annotations(doc: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in doc.get("annotations", [])}


def action_of(command: str) -> str:
    return command.split()[3]


def test_the_header_lists_every_sample_and_each_command_is_replayed(replayed):
    assert {action_of(c) for c in UPDATES} == set(DEPLOYED)
    assert {action_of(c) for c in INVOKES_R} == set(RESULTS)
    assert "wsk action list" in HEADER and "wsk action get greet --url" in HEADER
    # The events come last (each action's first activation is still the invoke above): the
    # trigger and rule, then the alarm and the API route, interleaved as deploy.sh runs them.
    assert HEADER[-len(EVENT_COMMANDS + FEED_AND_API_COMMANDS):] == EVENT_COMMANDS + FEED_AND_API_COMMANDS
    assert all(replayed[c] for c in HEADER), "a header command sent nothing"


@pytest.mark.parametrize("command", UPDATES)
def test_action_update(replayed, command):
    name = action_of(command)
    sent_kind, kind, exec_fields = DEPLOYED[name]
    got, put = replayed[command]
    # wsk reads the action first (update also creates: a 404 with OpenWhisk's error body is fine).
    assert (got.method, got.target) == ("GET", f"/api/v1/namespaces/_/actions/{name}?code=false")
    assert got.status == 404 and set(got.json()) == {"error", "code"}
    assert (put.method, put.target) == ("PUT", f"/api/v1/namespaces/_/actions/{name}?overwrite=true")
    sent = put.response.request
    assert sent.headers["Content-Type"] == "application/json" and sent.body.endswith(b"}\n")
    body = put.json()
    assert put.status == 200, body
    assert (body["namespace"], body["name"], body["version"], body["publish"]) == ("guest", name, "0.0.1", False)
    assert body["exec"]["kind"] == kind
    for key, value in exec_fields.items():
        assert body["exec"][key] == value, key
    if kind != "sequence":
        assert "code" in body["exec"]
    marks = annotations(body)
    assert marks["exec"] == kind
    assert marks["provide-api-key"] is False
    if name == "greet":  # --web true
        assert (marks["web-export"], marks["raw-http"], marks["final"]) == (True, False, True)
    else:
        assert "web-export" not in marks
    assert body["limits"] == {"timeout": 60000, "memory": 512 if name == "heavy" else 256, "logs": 10,
                              "concurrency": 1}
    sent_exec = json.loads(sent.body)["exec"]
    assert sent_exec["kind"] == sent_kind
    if name == "hello-sh":  # --native
        assert sent_exec["image"] == "openwhisk/dockerskeleton"


def test_action_list(replayed):
    (listed,) = replayed["wsk action list"]
    assert listed.target == "/api/v1/namespaces/_/actions?limit=30&skip=0"
    actions = listed.json()
    assert listed.status == 200
    assert {a["name"] for a in actions} == set(DEPLOYED)
    assert [a["updated"] for a in actions] == sorted((a["updated"] for a in actions), reverse=True)
    for entry in actions:  # the entities view: no code, no parameters; the kind from the annotation
        assert set(entry) == {"namespace", "name", "version", "publish", "annotations", "limits", "exec",
                              "updated"}
        assert entry["exec"] == {"binary": entry["name"] == "python-zip"}
        assert annotations(entry)["exec"] == DEPLOYED[entry["name"]][1]


@pytest.mark.parametrize("command", INVOKES_R)
def test_action_invoke_result(replayed, api, command):
    name = action_of(command)
    (invoked,) = replayed[command]
    assert invoked.target == f"/api/v1/namespaces/_/actions/{name}?blocking=true&result=true"
    assert invoked.status == 200, invoked.response.text
    result = invoked.json()
    if name == "heavy":
        assert result.pop("init_seconds") > 0
    assert result == RESULTS[name]
    activation_id = invoked.response.headers["x-openwhisk-activation-id"]
    assert ACTIVATION_ID.fullmatch(activation_id)
    record = api.wait_for_activation(activation_id)
    assert record["response"]["result"] == invoked.json()
    assert (record["response"]["status"], record["response"]["success"]) == ("success", True)
    marks = annotations(record)
    if name == "words":
        assert marks["kind"] == "sequence" and marks["topmost"] is True
        return
    # The first activation of each action started a container (or took a stem cell).
    assert marks["startPath"] in ("cold", "prewarm"), marks
    assert isinstance(marks["initTime"], int)
    if name in ("hello", "hello-js", "hello-sh"):
        lines = [LOG_LINE.fullmatch(line) for line in record["logs"]]
        assert all(lines), record["logs"]
        printed = {"hello": "Hello World!", "hello-js": "greeting World",
                   "hello-sh": "native action called with {"}[name]
        assert any(m.group(3) == "stdout" and m.group(4).startswith(printed) for m in lines), record["logs"]


def test_a_second_invoke_is_warm_and_blocking_returns_the_record(replayed, api):
    (first,) = replayed["wsk action invoke hello -r -p name World"]
    (second,) = replayed["wsk action invoke hello -b -p name World"]
    assert second.target == "/api/v1/namespaces/_/actions/hello?blocking=true&result=false"
    assert second.body == b'{"name":"World"}\n'
    assert second.status == 200
    record = second.json()
    assert record["activationId"] == second.response.headers["x-openwhisk-activation-id"]
    assert record["response"]["result"] == {"greeting": "Hello World!"}
    assert record["response"]["status"] == "success" and record["response"]["success"] is True
    assert "statusCode" not in record["response"]
    assert record["logs"] == []  # a blocking answer comes before the logs; GET has them
    assert (record["namespace"], record["name"], record["version"], record["subject"]) == \
        ("guest", "hello", "0.0.1", "guest")
    marks = annotations(record)
    assert marks["startPath"] == "warm", marks
    assert "initTime" not in marks
    assert marks["path"] == "guest/hello" and marks["kind"] == "python:3.11"
    assert set(marks["phases"]) >= {"queue", "run"} and "init" not in marks["phases"]
    stored = api.wait_for_activation(record["activationId"])
    assert any(line.endswith("stdout: Hello World!") for line in stored["logs"]), stored["logs"]
    cold = annotations(api.wait_for_activation(first.response.headers["x-openwhisk-activation-id"]))
    assert cold["startPath"] in ("cold", "prewarm") and "init" in cold["phases"]


def test_action_get_url_and_the_web_action_over_plain_http(replayed, wsk, api_server):
    (got,) = replayed["wsk action get greet --url"]
    assert got.target == "/api/v1/namespaces/_/actions/greet?code=false"
    assert got.status == 200 and "code" not in got.json()["exec"]
    url = f"{api_server.base_url}/api/v1/web/guest/default/greet"
    shown = wsk.printed.index("ok: got action greet")
    assert wsk.printed[shown:shown + 2] == ["ok: got action greet", url]
    (web,) = replayed[WEB_CURL]
    assert "Authorization" not in web.response.request.headers
    assert web.status == 200, web.response.text
    assert web.response.headers["Content-Type"] == "application/json"
    assert ACTIVATION_ID.fullmatch(web.response.headers["x-openwhisk-activation-id"])
    assert web.response.headers["Access-Control-Allow-Origin"] == "*"
    assert web.json() == {"greeting": "Bonjour Ada!", "language": "fr"}
    # The same action, other requests a browser or curl might send.
    assert requests.get(url + "/de?name=Bo", timeout=60).json() == {"greeting": "Hallo Bo!", "language": "de"}
    as_json = requests.get(url + ".json?name=Bo", timeout=60)
    assert as_json.status_code == 200 and as_json.json()["body"] == {"greeting": "Hello Bo!", "language": "en"}
    posted = requests.post(url + ".http", json={"name": "Bo"}, timeout=60)
    assert (posted.status_code, posted.headers["Allow"]) == (405, "GET")
    assert posted.json() == {"error": "POST is not supported; use GET."}
    unknown = requests.get(url + ".http/xx", timeout=60)
    assert unknown.status_code == 404 and "No greeting for 'xx'" in unknown.json()["error"]
    overriding = requests.get(url + ".http?__ow_method=post", timeout=60)
    assert overriding.status_code == 400 and set(overriding.json()) == {"error", "code"}


def test_sequence_records(replayed, api):
    (invoked,) = replayed[f'wsk action invoke words -r -p text "{WORDS}"']
    record = api.wait_for_activation(invoked.response.headers["x-openwhisk-activation-id"])
    marks = annotations(record)
    assert (marks["kind"], marks["topmost"], marks["path"]) == ("sequence", True, "guest/words")
    assert "cause" not in record
    assert len(record["logs"]) == 2 and all(ACTIVATION_ID.fullmatch(i) for i in record["logs"])
    components = [api.wait_for_activation(i) for i in record["logs"]]
    assert [c["name"] for c in components] == ["split", "sort"]
    assert components[0]["response"]["result"] == {"words": WORDS.split()}
    assert components[1]["response"]["result"] == RESULTS["words"]
    for component in components:
        assert component["cause"] == record["activationId"]
        assert annotations(component)["causedBy"] == "sequence"
    assert record["duration"] == sum(c["duration"] for c in components)


def test_a_blocking_sequence_answers_with_its_component_ids_as_logs(replayed, wsk):
    """SequenceActions.scala builds the record with logs = the components' ids, and
    Actions.scala answers a blocking invoke with it (only primitives answer before logs)."""
    (invoked,) = wsk(f'wsk action invoke words -b -p text "{WORDS}"')
    assert invoked.target == "/api/v1/namespaces/_/actions/words?blocking=true&result=false"
    record = invoked.json()
    assert invoked.status == 200 and record["response"]["result"] == RESULTS["words"]
    assert len(record["logs"]) == 2 and all(ACTIVATION_ID.fullmatch(i) for i in record["logs"])
    (stored,) = wsk(f"wsk activation get {record['activationId']}")
    assert stored.json()["logs"] == record["logs"]


def test_activation_list_with_limit(replayed):
    (listed,) = replayed["wsk activation list --limit 10"]
    assert listed.target == "/api/v1/namespaces/_/activations?limit=10&skip=0"
    entries = listed.json()
    assert len(entries) == 10
    assert [e["start"] for e in entries] == sorted((e["start"] for e in entries), reverse=True)
    for entry in entries:
        assert "response" not in entry and "logs" not in entry
        assert entry["statusCode"] == 0 and ACTIVATION_ID.fullmatch(entry["activationId"])
        assert entry["namespace"] == "guest" and "kind" in annotations(entry)
    assert entries[0]["name"] == "hello"  # the `hello -b` just before


def test_activation_logs_last(replayed):
    listed, logs = replayed["wsk activation logs --last"]
    assert listed.target == "/api/v1/namespaces/_/activations?limit=1&skip=0"
    newest = listed.json()[0]
    assert newest["name"] == "hello"
    assert logs.target == f"/api/v1/namespaces/_/activations/{newest['activationId']}/logs"
    assert logs.status == 200
    lines = logs.json()["logs"]
    assert lines and all(LOG_LINE.fullmatch(line) for line in lines), lines
    assert any(line.endswith(" stdout: Hello World!") for line in lines)


def test_activation_get_and_result_last(replayed, wsk, fired, alarm_fires):
    (invoked,) = wsk("wsk action invoke hello -b -p name Last")
    listed, got = wsk("wsk activation get --last")
    newest = listed.json()[0]
    assert newest["activationId"] == invoked.json()["activationId"]
    assert got.target == f"/api/v1/namespaces/_/activations/{newest['activationId']}"
    record = got.json()
    assert record["activationId"] == newest["activationId"]
    assert any(line.endswith(" stdout: Hello Last!") for line in record["logs"]), record["logs"]
    _, result = wsk("wsk activation result --last")
    assert result.target.endswith(f"/activations/{newest['activationId']}/result")
    assert result.json() == {"result": {"greeting": "Hello Last!"}, "status": "success", "success": True,
                             "size": record["response"]["size"]}
    (by_name,) = wsk("wsk activation list hello")
    assert by_name.target == "/api/v1/namespaces/_/activations?limit=30&name=hello&skip=0"
    # hello -r, hello -b, the rule's hello of the fire, and this hello -b; and the alarm's.
    assert {e["name"] for e in by_name.json()} == {"hello"}
    by_alarm = alarm_started(alarm_fires)
    assert by_alarm and by_alarm <= {e["activationId"] for e in by_name.json()}
    assert len(by_name.json()) == 4 + len(by_alarm)
    assert fired[1]["activationId"] in {e["activationId"] for e in by_name.json()}
    (missing,) = wsk("wsk activation get 0123456789abcdef0123456789abcdef")
    assert missing.status == 404 and set(missing.json()) == {"error", "code"}


def test_every_activation_record_has_its_start_path(replayed, wsk, fired, alarm_fires):
    (listed,) = wsk("wsk activation list --full --limit 200")
    assert listed.target == "/api/v1/namespaces/_/activations?docs=true&limit=200&skip=0"
    records = listed.json()
    assert len(records) >= 13
    # A trigger's own record runs nothing: no annotations at all (Triggers.scala); the alarm's too.
    triggers = [r for r in records if "kind" not in annotations(r)]
    assert sorted(r["name"] for r in triggers) == sorted([TRIGGER] + [ALARM_TRIGGER] * len(alarm_fires))
    assert all(r["annotations"] == [] for r in triggers)
    # The alarm feed's activations (CREATE, READ, DELETE) are the caller's; whiskrun answers
    # them in the server, so they have no container and no start path.
    feeds = [r for r in records if str(annotations(r).get("path", "")).startswith("whisk.system/")]
    assert [(r["name"], annotations(r)["path"]) for r in feeds] == [("alarm", "whisk.system/alarms/alarm")] * 3
    assert all("startPath" not in annotations(r) for r in feeds)
    primitive = [r for r in records if annotations(r).get("kind") not in (None, "sequence") and r not in feeds]
    sequences = [r for r in records if annotations(r).get("kind") == "sequence"]
    # A sequence's own record runs no container, so it has no start path (as upstream, no initTime).
    assert sequences and {r["name"] for r in sequences} == {"words"}
    for record in primitive:
        marks = annotations(record)
        assert marks["startPath"] in START_PATHS, record
        assert isinstance(marks["startReason"], str) and marks["startReason"], record
        phases = marks["phases"]
        assert isinstance(phases, dict) and "run" in phases and all(v >= 0 for v in phases.values()), record
        assert ("initTime" in marks) == (marks["startPath"] in ("cold", "prewarm")), record
        assert {"path", "kind", "limits", "waitTime", "timeout"} <= set(marks), record
        assert record["logs"] is not None and record["end"] >= record["start"]
    first: dict[str, str] = {}  # path -> the start path of its first activation
    for record in reversed(primitive):
        first.setdefault(annotations(record)["path"], annotations(record)["startPath"])
    assert first["guest/heavy"] == "cold" and first["guest/hello"] == "cold"
    assert first["guest/hello-js"] in ("cold", "prewarm")


def test_list_and_namespace_get(replayed, wsk):
    for command in ("wsk list", "wsk namespace get"):
        exchanges = wsk(command)  # the four lists, then each rule for its status (namespace.go)
        assert [e.target for e in exchanges] == [f"/api/v1/namespaces/_/{c}?limit=0&skip=0"
                                                 for c in ("actions", "packages", "triggers", "rules")] + \
            [f"/api/v1/namespaces/_/rules/{RULE}"]
        assert all(e.status == 200 for e in exchanges)
        actions, packages, triggers, rules, rule = (e.json() for e in exchanges)
        assert {a["name"] for a in actions} == set(DEPLOYED)
        assert packages == []
        assert [t["name"] for t in triggers] == [TRIGGER] and [r["name"] for r in rules] == [RULE]
        assert "status" not in rules[0] and rule["status"] == "active"
    (namespaces,) = wsk("wsk namespace list")
    assert (namespaces.target, namespaces.json()) == ("/api/v1/namespaces", ["guest"])


def test_property_get(wsk):
    (info,) = wsk("wsk property get")
    assert info.target == "/api/v1" and "Authorization" not in info.response.request.headers
    body = info.json()
    assert info.status == 200
    assert (body["description"], body["api_version"], body["api_version_path"]) == ("OpenWhisk API", "1.0.0", "v1")
    assert body["build"] and body["buildno"]


def test_activation_poll_sees_a_non_blocking_invoke(replayed, wsk):
    since = wsk.poll_start()
    assert wsk.exchanges[-1].target == "/api/v1/namespaces/_/activations?docs=true&limit=1&skip=0"
    assert wsk.poll_round(since) == []
    (invoked,) = wsk("wsk action invoke hello -p name Poll")
    assert invoked.target == "/api/v1/namespaces/_/actions/hello?blocking=false&result=false"
    assert invoked.status == 202
    activation_id = invoked.json()["activationId"]
    assert invoked.json() == {"activationId": activation_id}
    assert invoked.response.headers["x-openwhisk-activation-id"] == activation_id
    deadline = time.monotonic() + 30
    while True:
        seen = wsk.poll_round(since)
        assert re.fullmatch(rf"/api/v1/namespaces/_/activations\?docs=true&limit=0&since={since}&skip=0",
                            wsk.exchanges[-1].target)
        if seen:
            break
        assert time.monotonic() < deadline, "the activation never showed up in a poll"
        time.sleep(0.2)
    (record,) = seen
    assert record["activationId"] == activation_id
    assert any(line.endswith(" stdout: Hello Poll!") for line in record["logs"]), record["logs"]
    assert annotations(record)["startPath"] == "warm"


def test_deploying_again_updates_every_action(replayed, wsk, api):
    """deploy.sh run a second time: every action exists, so wsk's GET finds it and the PUT
    bumps the version; the web action keeps its annotations; a new version starts anew."""
    for command in UPDATES:
        name = action_of(command)
        got, put = wsk(command)
        assert got.status == 200 and "code" not in got.json()["exec"]
        assert put.status == 200, put.response.text
        body = put.json()
        assert body["version"] == "0.0.2"
        assert body["exec"]["kind"] == DEPLOYED[name][1]
        if name == "greet":
            marks = annotations(body)
            assert (marks["web-export"], marks["raw-http"], marks["final"]) == (True, False, True)
    (invoked,) = wsk("wsk action invoke hello -r -p name Again")
    assert invoked.json() == {"greeting": "Hello Again!"}
    record = api.wait_for_activation(invoked.response.headers["x-openwhisk-activation-id"])
    assert record["version"] == "0.0.2"
    assert annotations(record)["startPath"] == "cold"  # the old version's container is not reused
    (words,) = wsk(f'wsk action invoke words -r -p text "{WORDS}"')
    assert words.json() == RESULTS["words"]


# The trigger/rule sample (deploy.sh's last commands).

def test_trigger_update_creates_the_trigger(replayed):
    got, put = replayed[TRIGGER_UPDATE]
    # Trigger.Update reads the trigger; a 404 makes it Trigger.Create: PUT without overwrite.
    assert (got.method, got.target, got.status) == ("GET", f"/api/v1/namespaces/_/triggers/{TRIGGER}", 404)
    assert set(got.json()) == {"error", "code"}
    assert (put.method, put.target) == ("PUT", f"/api/v1/namespaces/_/triggers/{TRIGGER}?overwrite=false")
    assert put.body == b'{"name":"hello-trigger","parameters":[{"key":"name","value":"Trigger"}]}\n'
    assert put.status == 200, put.response.text
    created = put.json()
    assert list(created) == ["namespace", "name", "parameters", "limits", "version", "publish", "annotations",
                             "updated"]
    assert (created["namespace"], created["name"], created["version"], created["publish"]) == \
        ("guest", TRIGGER, "0.0.1", False)
    assert (created["parameters"], created["limits"], created["annotations"]) == (TRIGGER_PARAMETERS, {}, [])


def test_rule_update_links_the_rule_active_and_enable_says_ok(replayed, api):
    (put,) = replayed[RULE_UPDATE]
    assert (put.method, put.target) == ("PUT", f"/api/v1/namespaces/_/rules/{RULE}?overwrite=true")
    assert put.body == b'{"name":"hello-rule","status":"","trigger":"/_/hello-trigger","action":"/_/hello"}\n'
    assert put.status == 200, put.response.text
    created = put.json()
    assert list(created) == ["namespace", "name", "version", "publish", "annotations", "status", "trigger",
                             "action", "updated"]
    assert (created["namespace"], created["name"], created["version"], created["status"]) == \
        ("guest", RULE, "0.0.1", "active")
    assert (created["trigger"], created["action"]) == ({"path": "guest", "name": TRIGGER},
                                                       {"path": "guest", "name": RULE_ACTION})
    (enabled,) = replayed[RULE_ENABLE]
    assert (enabled.method, enabled.target) == ("POST", f"/api/v1/namespaces/_/rules/{RULE}")
    assert enabled.body == b'{"status":"active","trigger":null,"action":null}\n'
    assert (enabled.status, enabled.response.text) == (200, "OK")
    # The trigger records the link (and with it the rule's status).
    trigger = api.get(f"/api/v1/namespaces/_/triggers/{TRIGGER}").json()
    assert trigger["rules"] == {f"guest/{RULE}": {"action": {"path": "guest", "name": RULE_ACTION},
                                                  "status": "active"}}


def test_trigger_fire_runs_hello_through_the_rule(replayed, wsk, fired):
    (fire,) = replayed[TRIGGER_FIRE]
    assert (fire.method, fire.target) == ("POST", f"/api/v1/namespaces/_/triggers/{TRIGGER}")
    assert fire.body == b'{"name":"Fired"}\n'
    assert fire.status == 202
    activation_id = fire.json()["activationId"]
    assert fire.json() == {"activationId": activation_id} and ACTIVATION_ID.fullmatch(activation_id)
    assert fire.response.headers["x-openwhisk-activation-id"] == activation_id
    assert f"ok: triggered /_/{TRIGGER} with id {activation_id}" in wsk.printed
    trigger_record, action_record = fired
    # The trigger's record: its name, the payload as the result, no end, one line per rule.
    assert trigger_record["activationId"] == activation_id
    assert (trigger_record["namespace"], trigger_record["name"], trigger_record["subject"]) == \
        ("guest", TRIGGER, "guest")
    assert trigger_record["response"]["result"] == FIRE_PAYLOAD
    assert (trigger_record["response"]["status"], trigger_record["response"]["success"]) == ("success", True)
    assert "end" not in trigger_record and "duration" not in trigger_record
    (line,) = trigger_record["logs"]
    assert line == line.strip() and ", " not in line and ": " not in line  # compact JSON
    logged = json.loads(line)
    assert list(logged) == RULE_LINE_KEYS
    assert (logged["statusCode"], logged["success"], logged["rule"], logged["action"]) == \
        (0, True, f"guest/{RULE}", f"guest/{RULE_ACTION}")
    # The activation of hello the rule started: the fire's payload won over the trigger's parameter.
    assert action_record["activationId"] == logged["activationId"] != activation_id
    assert (action_record["namespace"], action_record["name"]) == ("guest", RULE_ACTION)
    assert action_record["response"]["result"] == FIRED_RESULT
    assert (action_record["response"]["status"], action_record["response"]["success"]) == ("success", True)
    assert "cause" not in action_record  # rule-fired activations have none (WskRuleTests)
    assert any(text.endswith("stdout: Hello Fired!") for text in action_record["logs"]), action_record["logs"]
    assert annotations(action_record)["path"] == f"guest/{RULE_ACTION}"


def test_rule_get_and_the_trigger_and_rule_lists(replayed):
    (got,) = replayed[f"wsk rule get {RULE}"]
    assert (got.method, got.target, got.status) == ("GET", f"/api/v1/namespaces/_/rules/{RULE}", 200)
    rule = got.json()
    assert (rule["name"], rule["status"], rule["trigger"], rule["action"]) == \
        (RULE, "active", {"path": "guest", "name": TRIGGER}, {"path": "guest", "name": RULE_ACTION})
    (triggers,) = replayed["wsk trigger list"]
    assert (triggers.target, triggers.status) == ("/api/v1/namespaces/_/triggers?limit=30&skip=0", 200)
    (summary,) = triggers.json()
    assert set(summary) == {"namespace", "name", "version", "publish", "annotations", "updated"}
    assert (summary["namespace"], summary["name"], summary["version"]) == ("guest", TRIGGER, "0.0.1")
    listed, status = replayed["wsk rule list"]  # the list has no status: wsk GETs each rule for it
    assert (listed.target, listed.status) == ("/api/v1/namespaces/_/rules?limit=30&skip=0", 200)
    (entry,) = listed.json()
    assert entry["name"] == RULE and "status" not in entry
    assert (status.target, status.status) == (f"/api/v1/namespaces/_/rules/{RULE}", 200)
    assert status.json() == rule


def test_deploying_again_updates_the_trigger_and_the_rule(replayed, wsk, fired):
    """deploy.sh's events a second time: the trigger exists, so `trigger update` PUTs it with
    overwrite (its rules map stays); then a disabled rule makes a fire a 204 without a record."""
    got, put = wsk(TRIGGER_UPDATE)
    assert got.status == 200 and got.json()["rules"][f"guest/{RULE}"]["status"] == "active"
    assert (put.target, put.status) == (f"/api/v1/namespaces/_/triggers/{TRIGGER}?overwrite=true", 200)
    assert put.body == b'{"name":"hello-trigger","parameters":[{"key":"name","value":"Trigger"}]}\n'
    updated = put.json()
    assert updated["version"] == "0.0.2" and updated["parameters"] == TRIGGER_PARAMETERS
    assert updated["rules"] == got.json()["rules"]
    (rule,) = wsk(RULE_UPDATE)
    assert rule.status == 200 and (rule.json()["version"], rule.json()["status"]) == ("0.0.2", "active")
    (disabled,) = wsk(f"wsk rule disable {RULE}")
    assert disabled.body == b'{"status":"inactive","trigger":null,"action":null}\n'
    assert (disabled.status, disabled.response.text) == (200, "OK")
    (status,) = wsk(f"wsk rule get {RULE}")
    assert status.json()["status"] == "inactive"
    (fire,) = wsk(f"wsk trigger fire {TRIGGER}")
    assert fire.body == b"{}\n"  # no -p: an empty map
    assert (fire.status, fire.response.content) == (204, b"")
    assert "x-openwhisk-activation-id" not in fire.response.headers
    assert wsk.printed[-1] == f"ok: triggered /_/{TRIGGER} with id "
    (enabled,) = wsk(RULE_ENABLE)
    assert (enabled.status, enabled.response.text) == (200, "OK")
    (again,) = wsk(f"wsk trigger fire {TRIGGER}")
    assert again.status == 202, again.response.text
    record = wsk.client.wait_for_activation(again.json()["activationId"], timeout=30)
    assert record["response"]["result"] == {}
    (line,) = record["logs"]
    # Without a payload the trigger's parameter is what hello gets.
    hello = wsk.client.wait_for_activation(json.loads(line)["activationId"], timeout=30)
    assert hello["response"]["result"] == {"greeting": "Hello Trigger!"}
    (by_name,) = wsk(f"wsk activation list {TRIGGER}")
    assert by_name.target == f"/api/v1/namespaces/_/activations?limit=30&name={TRIGGER}&skip=0"
    assert [e["activationId"] for e in by_name.json()] == [again.json()["activationId"], fired[0]["activationId"]]


# The alarm sample: a trigger with a feed (deploy.sh's step 8 and 10).

def test_trigger_create_with_a_feed_puts_the_trigger_and_invokes_the_feed(replayed, wsk):
    assert json.loads(shlex.split(ALARM_CREATE)[-1]) == ALARM_PAYLOAD
    put, invoked = replayed[ALARM_CREATE]
    # Old-style create (-p, no --feed-param): the trigger has only the feed annotation; -p goes to the feed.
    assert (put.method, put.target) == ("PUT", f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}?overwrite=false")
    assert put.body == b'{"name":"every-3s","annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}\n'
    assert put.status == 200, put.response.text
    created = put.json()
    assert (created["name"], created["version"], created["parameters"]) == (ALARM_TRIGGER, "0.0.1", [])
    assert created["annotations"] == [{"key": "feed", "value": ALARM_FEED}]
    # The feed, invoked blocking with one Go map: its keys sorted, the -p values JSON where they parse.
    assert (invoked.method, invoked.target) == ("POST", FEED_TARGET)
    assert invoked.body == (f'{{"authKey":"{GUEST_KEY}","cron":"*/3 * * * * *","lifecycleEvent":"CREATE",'
                            '"triggerName":"/_/every-3s","trigger_payload":{"name":"Alarm"}}\n').encode()
    assert invoked.response.request.headers["Content-Type"] == "application/json"
    assert invoked.status == 200, invoked.response.text
    record = invoked.json()
    assert (record["namespace"], record["name"], record["subject"]) == ("guest", "alarm", "guest")
    assert record["response"]["result"] == {"status": "success"}
    assert (record["response"]["status"], record["response"]["success"]) == ("success", True)
    assert annotations(record)["path"] == "whisk.system/alarms/alarm"
    assert invoked.response.headers["x-openwhisk-activation-id"] == record["activationId"]
    shown = wsk.printed.index(f"ok: created trigger {ALARM_TRIGGER}")
    assert wsk.printed[shown - 1] == f"ok: invoked /whisk.system/alarms/alarm with id {record['activationId']}"
    (rule,) = replayed[ALARM_RULE_UPDATE]
    assert rule.body == b'{"name":"every-3s-rule","status":"","trigger":"/_/every-3s","action":"/_/hello"}\n'
    assert rule.status == 200 and rule.json()["status"] == "active", rule.response.text


def test_the_alarm_fires_hello_through_its_rule_every_3_seconds(replayed, api, alarm_fires):
    (listed,) = replayed[ALARM_LIST]
    assert listed.target == f"/api/v1/namespaces/_/activations?limit=3&name={ALARM_TRIGGER}&skip=0"
    assert listed.status == 200 and listed.json(), listed.response.text
    assert {e["name"] for e in listed.json()} == {ALARM_TRIGGER}
    assert {e["activationId"] for e in listed.json()} <= {r["activationId"] for r in alarm_fires}
    fires = [r for r in alarm_fires if r["logs"]]
    assert fires, alarm_fires
    for record in alarm_fires:  # the scheduler fires through the fire path: a trigger record each
        assert (record["namespace"], record["name"], record["subject"]) == ("guest", ALARM_TRIGGER, "guest")
        assert record["response"]["result"] == ALARM_PAYLOAD  # trigger_payload is each fire's payload
        assert record["annotations"] == [] and "end" not in record
        (line,) = record["logs"]
        logged = json.loads(line)
        assert list(logged) == RULE_LINE_KEYS
        assert (logged["statusCode"], logged["success"], logged["rule"], logged["action"]) == \
            (0, True, f"guest/{ALARM_RULE}", f"guest/{RULE_ACTION}")
        hello = api.wait_for_activation(logged["activationId"], timeout=30)
        assert (hello["name"], hello["response"]["result"]) == (RULE_ACTION, ALARM_RESULT)
        assert any(text.endswith("stdout: Hello Alarm!") for text in hello["logs"]), hello["logs"]
    starts = sorted(r["start"] for r in alarm_fires)
    assert all(b - a >= 2500 for a, b in zip(starts, starts[1:])), starts  # one fire per 3 s tick
    assert all(s % 3000 < 1500 for s in starts), starts  # on the seconds the cron names (*/3)


def test_trigger_get_of_a_feed_trigger_reads_the_alarm(replayed):
    got, read = replayed[ALARM_GET]
    assert (got.method, got.target, got.status) == ("GET", f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}", 200)
    assert annotations(got.json())["feed"] == ALARM_FEED
    assert got.json()["rules"] == {f"guest/{ALARM_RULE}": {"action": {"path": "guest", "name": RULE_ACTION},
                                                           "status": "active"}}
    assert (read.method, read.target) == ("POST", FEED_TARGET)
    assert read.body == go_json({"authKey": GUEST_KEY, "lifecycleEvent": "READ",
                                 "triggerName": f"/_/{ALARM_TRIGGER}"})
    assert read.status == 200, read.response.text
    result = read.json()["response"]["result"]
    config = result["config"]
    assert (config["name"], config["namespace"], config["cron"], config["payload"]) == \
        (ALARM_TRIGGER, "guest", ALARM_CRON, ALARM_PAYLOAD)
    assert (config["timezone"], config["startDate"], config["stopDate"], config["strict"]) == (None, None, None, False)
    assert result["status"]["active"] is True and result["status"]["dateChangedISO"].endswith("Z")


def test_trigger_delete_of_a_feed_trigger_deletes_the_alarm_then_the_trigger(replayed, api, alarm_fires):
    got, stop, deleted = replayed[ALARM_DELETE]
    assert (got.method, got.target, got.status) == ("GET", f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}", 200)
    assert (stop.method, stop.target) == ("POST", FEED_TARGET)
    assert stop.body == go_json({"authKey": GUEST_KEY, "lifecycleEvent": "DELETE",
                                 "triggerName": f"/_/{ALARM_TRIGGER}"})
    assert (stop.status, stop.json()["response"]["result"]) == (200, {"status": "success"})
    assert (deleted.method, deleted.target) == ("DELETE", f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}")
    assert deleted.status == 200 and deleted.json()["name"] == ALARM_TRIGGER
    (rule,) = replayed[ALARM_RULE_DELETE]  # the trigger is gone already: the rule is inactive
    assert (rule.method, rule.target) == ("DELETE", f"/api/v1/namespaces/_/rules/{ALARM_RULE}")
    assert rule.status == 200 and rule.json()["status"] == "inactive", rule.response.text
    assert api.get(f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}").status_code == 404
    assert api.get(f"/api/v1/namespaces/_/rules/{ALARM_RULE}").status_code == 404
    # The feed's DELETE removed the registration, not only the trigger: a new trigger of that
    # name has no alarm.
    assert api.put(f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}", {}).status_code == 200
    try:
        read = api.post(FEED_TARGET, {
            "authKey": GUEST_KEY, "lifecycleEvent": "READ", "triggerName": f"/_/{ALARM_TRIGGER}"})
        assert read.status_code == 502
        assert read.json()["response"]["result"] == {
            "error": f"could not find trigger /guest/{ALARM_TRIGGER} in the alarms database"}
    finally:
        assert api.delete(f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}").status_code == 200


# The API route sample (deploy.sh's step 9 and 10).

def test_api_create_posts_the_apidoc_and_the_managed_url_answers(replayed, wsk, api_server):
    got, created = replayed[API_CREATE]
    # isWebAction: the action without its code, web-export must be true.
    assert (got.method, got.target, got.status) == ("GET", f"/api/v1/namespaces/_/actions/{API_ACTION}?code=false",
                                                    200)
    assert annotations(got.json())["web-export"] is True and "require-whisk-auth" not in annotations(got.json())
    assert (created.method, created.target) == (
        "POST", f"{APIMGMT}/createApi.http?accesstoken=DUMMY+TOKEN&responsetype=json&spaceguid={UUID}")
    assert created.body == (
        '{"apidoc":{"namespace":"_","gatewayBasePath":"/hello","gatewayPath":"/greet","gatewayMethod":"GET",'
        '"id":"API:_:/hello","action":{"name":"greet","namespace":"_","backendMethod":"GET",'
        f'"backendUrl":"{api_server.base_url}/api/v1/web/_/default/greet.http","authkey":"{GUEST_KEY}"}}}}}}\n'
    ).encode()
    assert created.response.request.headers["Authorization"].startswith("Basic ")
    assert created.status == 200, created.response.text
    answer = created.json()
    assert list(answer) == ["namespace", "gwApiActivated", "tenantId", "gwApiUrl", "apidoc"]
    assert (answer["namespace"], answer["gwApiActivated"], answer["tenantId"]) == ("Not Used", True, "Not Used")
    assert answer["gwApiUrl"] == f"{api_server.base_url}/api/{UUID}/hello"
    swagger = answer["apidoc"]
    assert (swagger["swagger"], swagger["basePath"], swagger["info"]) == ("2.0", API_BASE,
                                                                          {"title": API_BASE, "version": "1.0.0"})
    operation = swagger["paths"][API_PATH]["get"]
    assert operation["operationId"] == "getGreet"
    assert operation["x-openwhisk"] == {"url": "/api/v1/web/guest/default/greet.json", "namespace": "guest",
                                        "package": "", "action": API_ACTION}
    shown = wsk.printed.index(f"ok: created API {API_BASE}{API_PATH} {API_VERB} for action /_/{API_ACTION}")
    assert wsk.printed[shown + 1] == answer["gwApiUrl"] + API_PATH
    # The managed URL over plain HTTP, as deploy.sh curls it: greet's whole result as JSON.
    (route,) = replayed[ROUTE_CURL]
    assert route.target == f"/api/{UUID}/hello/greet{ROUTE_QUERY}"
    assert "Authorization" not in route.response.request.headers
    assert route.status == 200, route.response.text
    assert route.response.headers["Content-Type"].startswith("application/json")
    assert route.response.headers["Access-Control-Allow-Origin"] == "*"
    assert route.json() == ROUTE_RESULT


def test_api_list_and_get_show_the_route(replayed, api_server):
    (_, created) = replayed[API_CREATE]
    entry = {"id": "Not Used", "key": "Not Used", "value": created.json()}
    (listed,) = replayed["wsk api list"]
    assert (listed.method, listed.target) == (
        "GET", f"{APIMGMT}/getApi.http?accesstoken=DUMMY+TOKEN&limit=30&skip=0&spaceguid={UUID}")
    assert listed.body is None
    assert (listed.status, listed.json()) == (200, {"apis": [entry]})
    (got,) = replayed[API_GET]
    assert (got.method, got.target) == (
        "GET", f"{APIMGMT}/getApi.http?accesstoken=DUMMY+TOKEN&basepath=%2Fhello&spaceguid={UUID}")
    assert (got.status, got.json()) == (200, {"apis": [entry]})


def test_api_delete_removes_the_route(replayed, wsk, api_server):
    (deleted,) = replayed[API_DELETE]
    assert (deleted.method, deleted.target) == (
        "DELETE", f"{APIMGMT}/deleteApi.http?accesstoken=DUMMY+TOKEN&basepath=%2Fhello&spaceguid={UUID}")
    assert deleted.body is None
    assert (deleted.status, deleted.json()) == (200, {})
    assert f"ok: deleted API {API_BASE}" in wsk.printed
    gone = requests.get(f"{api_server.base_url}/api/{UUID}/hello/greet{ROUTE_QUERY}", timeout=60)
    assert gone.status_code == 404, gone.text
    (listed,) = wsk("wsk api list")
    assert (listed.status, listed.json()) == (200, {"apis": []})
    (got,) = wsk(API_GET)
    assert (got.status, got.json()) == (200, {"apis": []})
    assert wsk.errors[-1] == f"API does not exist for basepath {API_BASE}"


def test_deploying_again_makes_and_removes_the_alarm_and_the_route_again(replayed, wsk, alarm_fires):
    """deploy.sh's end a second time: its quiet `trigger delete` finds nothing (wsk stops after
    the GET), then the same commands succeed again and leave nothing behind."""
    (absent,) = wsk(ALARM_DELETE)
    assert (absent.method, absent.status) == ("GET", 404)
    assert wsk.errors[-1] == f"Unable to get trigger '{ALARM_TRIGGER}'"
    errors = len(wsk.errors)
    for command in FEED_AND_API_COMMANDS:
        for exchange in wsk(command):
            assert exchange.status == 200, (command, exchange.target, exchange.status, exchange.response.text)
    assert wsk.errors[errors:] == []
    assert wsk.client.get(f"/api/v1/namespaces/_/triggers/{ALARM_TRIGGER}").status_code == 404
    assert wsk.client.get(f"/api/v1/namespaces/_/rules/{ALARM_RULE}").status_code == 404
    assert wsk.client.get(f"/api/{UUID}/hello/greet").status_code == 404


def test_a_feed_that_refuses_makes_wsk_delete_the_trigger_again(replayed, wsk):
    """trigger.go: when the feed's CREATE fails, wsk prints the failed activation, deletes the
    trigger it made (deleteTrigger: GET, the feed's DELETE with the create's -p values still in
    Flags.common.param, DELETE) and ends with an error."""
    put, create, got, stop, deleted = wsk('wsk trigger create bad --feed /whisk.system/alarms/alarm '
                                          '-p cron "not a cron"')
    assert (put.target, put.status) == ("/api/v1/namespaces/_/triggers/bad?overwrite=false", 200)
    assert put.body == b'{"name":"bad","annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}\n'
    assert (create.method, create.target) == ("POST", FEED_TARGET)
    assert create.body == go_json({"authKey": GUEST_KEY, "cron": "not a cron", "lifecycleEvent": "CREATE",
                                   "triggerName": "/_/bad"})
    assert create.status == 502, create.response.text
    record = create.json()
    assert record["response"]["result"] == {"error": "cron pattern 'not a cron' is not valid"}
    assert (record["response"]["status"], record["response"]["success"]) == ("application error", False)
    assert (got.method, got.target, got.status) == ("GET", "/api/v1/namespaces/_/triggers/bad", 200)
    assert (stop.method, stop.target) == ("POST", FEED_TARGET)
    assert stop.body == go_json({"authKey": GUEST_KEY, "cron": "not a cron", "lifecycleEvent": "DELETE",
                                 "triggerName": "/_/bad"})
    assert (stop.status, stop.json()["response"]["result"]) == (200, {"status": "success"})
    assert (deleted.method, deleted.target, deleted.status) == ("DELETE", "/api/v1/namespaces/_/triggers/bad", 200)
    assert "ok: deleted trigger bad" in wsk.printed and "ok: created trigger bad" not in wsk.printed
    assert wsk.errors[-1] == "Unable to create trigger 'bad': Unable to configure feed '/whisk.system/alarms/alarm'"
    assert wsk.client.get("/api/v1/namespaces/_/triggers/bad").status_code == 404
