"""The Serverless Framework v3 with the serverless-openwhisk plugin (both
pinned by wsk-samples/serverless/package-lock.json, installed with `npm ci`
when missing or other versions are there) against a real `whiskrun serve`:
`serverless deploy` of the sample service as it is, `serverless invoke` of
each function, `serverless info` and `logs`, the events it made (a custom
trigger fired over the REST API, the alarms of a seconds cron and of a
`schedule` event, an API gateway route called over plain HTTP), then
`serverless remove` and nothing of it left.

The commands need no network but the server's, and get a home folder of
their own (no login, telemetry or notifications). The plugin reads
OW_APIHOST, OW_AUTH and OW_NAMESPACE (`_`: without it `serverless remove`
sends the feed's DELETE for the trigger `/undefined/<name>`)."""

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.api.server_support import SAMPLES, ApiClient, ApiServer, guest_auth
from tests.integration.invoker_support import ACTIVATION_ID, wait_until
from whiskrun.api.config import GUEST_KEY

pytestmark = pytest.mark.docker

SERVICE = SAMPLES / "serverless"
#: What the lockfile pins, checked in node_modules (the plugin's own openwhisk client too).
PINNED = ("serverless", "serverless-openwhisk", "openwhisk")

NS = "/api/v1/namespaces/_"
ALARM_FEED = "/api/v1/namespaces/whisk.system/actions/alarms/alarm"
PREFIX = "whiskrun-sls-dev-"  # the framework's names: <service>-<stage>-<function>
ACTIONS = {f: PREFIX + f for f in ("hello", "split", "sort", "words", "tick")}
GREET, GREET_RULE = "whiskrun-sls-greet", "whiskrun-sls-greet-rule"
SECONDS, SECONDS_RULE = "whiskrun-sls-every-3s", "whiskrun-sls-every-3s-rule"
SCHEDULE, SCHEDULE_RULE = "whiskrun-sls_tick_schedule_trigger", "whiskrun-sls_tick_schedule_rule"
TRIGGERS = {GREET: GREET_RULE, SECONDS: SECONDS_RULE, SCHEDULE: SCHEDULE_RULE}
RULE_ACTIONS = {GREET_RULE: ACTIONS["hello"], SECONDS_RULE: ACTIONS["tick"], SCHEDULE_RULE: ACTIONS["tick"]}
UUID = GUEST_KEY.split(":")[0]


# -- the npm install ------------------------------------------------------------------


def _pinned_versions() -> dict[str, str]:
    lock = json.loads((SERVICE / "package-lock.json").read_text())
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in PINNED}


def _installed_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PINNED:
        manifest = SERVICE / "node_modules" / name / "package.json"
        found[name] = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    return found


@pytest.fixture(scope="session")
def serverless_cli() -> Path:
    """wsk-samples/serverless/node_modules as the lockfile pins them (`npm ci` when they are
    missing or other versions are there); the framework's bin script. Fails with npm's output."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("The Serverless Framework test needs Node.js 18 or newer with npm on PATH "
                    f"(node: {node}, npm: {npm}).")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
                .stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        pytest.fail(f"The Serverless Framework v3 needs Node.js 18 or newer here; {node} is version {major}.")
    pinned = _pinned_versions()
    if _installed_versions() != pinned:
        done = subprocess.run([npm, "ci", "--include=dev", "--no-audit", "--no-fund"], cwd=SERVICE,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"`npm ci` in {SERVICE} failed (exit {done.returncode}); it installs {pinned} "
                        f"from the npm registry, which must be reachable.\n{done.stdout}\n{done.stderr}")
        if _installed_versions() != pinned:
            pytest.fail(f"`npm ci` in {SERVICE} did not install {pinned} (found {_installed_versions()}).")
    return SERVICE / "node_modules" / "serverless" / "bin" / "serverless.js"


# -- running serverless ------------------------------------------------------------------


@dataclass
class Serverless:
    """`serverless <command>` in the sample folder, pointed at one server."""

    cli: Path
    server: ApiServer
    home: Path
    deployed: subprocess.CompletedProcess[str] | None = None
    removed: bool = False

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OW_", "__OW_", "SLS_", "SERVERLESS_", "WSK_")) and k != "FORCE_COLOR"}
        wskprops = self.home / "wskprops"
        wskprops.touch()  # neither ~/.wskprops nor anyone's WSK_CONFIG_FILE
        env.update({
            "HOME": str(self.home),  # the framework's ~/.serverless cache and config, nobody's real one
            "WSK_CONFIG_FILE": str(wskprops),
            "OW_APIHOST": self.server.base_url,
            "OW_AUTH": GUEST_KEY,
            "OW_NAMESPACE": "_",
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_TRACKING_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
            "SLS_INTERACTIVE_SETUP_DISABLE": "1",
            "NO_COLOR": "1",  # (FORCE_COLOR, even 0, turns the plugin's chalk 1 colours on)
        })
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["node", str(self.cli), *args], cwd=SERVICE, env=self.env(), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check:
            assert done.returncode == 0, (f"serverless {' '.join(args)} failed ({done.returncode}):\n"
                                          f"{done.stdout}\n{done.stderr}\n{self.server.log()[-3000:]}")
        return done

    def invoke(self, function: str, data: dict[str, Any] | None = None) -> Any:
        """The result `serverless invoke` prints (JSON, 4 spaces)."""
        done = self.run("invoke", "--function", function, *(["--data", json.dumps(data)] if data else []))
        start = done.stdout.find("{")
        assert start >= 0, f"no JSON in what serverless invoke printed:\n{done.stdout}\n{done.stderr}"
        result, _ = json.JSONDecoder().raw_decode(done.stdout[start:])
        return result

    def remove(self) -> subprocess.CompletedProcess[str]:
        self.removed = True
        return self.run("remove")


@pytest.fixture(scope="module")
def sls(serverless_cli: Path, api_server: ApiServer, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Serverless]:
    """The sample deployed with `serverless deploy`; removed again at the end whatever happened
    (test_remove removes it and checks what remains)."""
    runner = Serverless(serverless_cli, api_server, tmp_path_factory.mktemp("sls-home"))
    try:
        runner.deployed = runner.run("deploy", timeout=240)
        yield runner
    finally:
        if not runner.removed:
            runner.removed = True
            runner.run("remove", check=False)


# -- helpers -----------------------------------------------------------------------------


def records(api: ApiClient, name: str) -> list[dict[str, Any]]:
    """Activation records of ``name`` (a trigger or an action), newest first, with logs."""
    answer = api.get(f"{NS}/activations?name={name}&docs=true&limit=0&skip=0")
    assert answer.status_code == 200, answer.text
    return answer.json()


def rule_lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A trigger record's logs: one JSON line per rule it started."""
    return [json.loads(line) for line in record["logs"]]


def started_results(api: ApiClient, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The results of the activations a trigger record names (polled until stored)."""
    return [api.wait_for_activation(line["activationId"])["response"]["result"] for line in rule_lines(record)]


def alarm(api: ApiClient, trigger: str, event: str = "READ") -> requests.Response:
    """The alarms feed called as the plugin calls it (blocking, the guest key as authKey)."""
    return api.post(f"{ALARM_FEED}?blocking=true&result=true",
                    {"lifecycleEvent": event, "triggerName": f"/_/{trigger}", "authKey": GUEST_KEY})


def annotations(doc: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in doc["annotations"]}


def get_api(api: ApiClient) -> dict[str, Any]:
    answer = requests.get(f"{api.base_url}/api/v1/web/whisk.system/apimgmt/getApi.http", auth=guest_auth(),
                          timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- the tests ---------------------------------------------------------------------------


def test_deploy_creates_actions_sequence_triggers_rules_and_alarms(sls: Serverless, api: ApiClient):
    assert sls.deployed is not None
    out = sls.deployed.stdout + sls.deployed.stderr
    assert "Deployment successful!" in out and "Binding Feeds To Triggers..." in out, out
    assert "Warning" not in out and "deprecation" not in out, out  # configValidationMode off, see serverless.yml
    expected_kinds = {"hello": "python:3.11", "split": "nodejs:18", "sort": "python:3.11", "tick": "nodejs:18"}
    for function, kind in expected_kinds.items():
        answer = api.get(f"{NS}/actions/{ACTIONS[function]}")
        assert answer.status_code == 200, answer.text
        action = answer.json()
        # The plugin zips the handlers (a Python handler becomes __main__.py) and sends main.
        assert (action["exec"]["kind"], action["exec"]["binary"], action["exec"]["main"]) == (kind, True, "main")
        assert action["limits"]["timeout"] == 60000 and action["limits"]["memory"] == 256
    words = api.get(f"{NS}/actions/{ACTIONS['words']}").json()
    assert words["exec"] == {"kind": "sequence",
                             "components": [f"/guest/{ACTIONS['split']}", f"/guest/{ACTIONS['sort']}"]}
    hello = annotations(api.get(f"{NS}/actions/{ACTIONS['hello']}").json())
    # The http event made hello a web action with a random secret of the plugin's.
    assert hello["web-export"] is True and hello["final"] is True
    assert re.fullmatch(r"[0-9a-f]{128}", hello["require-whisk-auth"]), hello
    for trigger, rule in TRIGGERS.items():
        answer = api.get(f"{NS}/triggers/{trigger}")
        assert answer.status_code == 200, answer.text
        assert answer.json()["rules"] == {f"guest/{rule}": {"action": {"path": "guest", "name": RULE_ACTIONS[rule]},
                                                            "status": "active"}}
        got = api.get(f"{NS}/rules/{rule}").json()
        assert (got["status"], got["trigger"], got["action"]) == (
            "active", {"path": "guest", "name": trigger}, {"path": "guest", "name": RULE_ACTIONS[rule]})
    # The alarms registered through /whisk.system/alarms/alarm (lifecycleEvent CREATE).
    seconds = alarm(api, SECONDS).json()
    assert seconds["config"]["cron"] == "*/3 * * * * *" and seconds["config"]["payload"] == {"source": "seconds"}
    assert seconds["status"]["active"] is True
    minute = alarm(api, SCHEDULE).json()
    # serverless-openwhisk sends a schedule's params as a JSON string, which the feed wraps.
    assert minute["config"]["cron"] == "* * * * *"
    assert minute["config"]["payload"] == {"payload": '{"source":"minute"}'}
    assert minute["status"]["active"] is True


def test_invoke_each_function(sls: Serverless):
    assert sls.invoke("hello", {"name": "Ada"}) == {"greeting": "Hello Ada!", "runtime": "python:3.11"}
    assert sls.invoke("hello") == {"greeting": "Hello World!", "runtime": "python:3.11"}
    assert sls.invoke("split", {"text": "b  c a"}) == {"words": ["b", "c", "a"]}
    assert sls.invoke("sort", {"words": ["b", "c", "a"]}) == {"words": ["a", "b", "c"], "count": 3}
    assert sls.invoke("words", {"text": "the quick brown fox jumps over the lazy dog"}) == {
        "words": ["brown", "dog", "fox", "jumps", "lazy", "over", "quick", "the", "the"], "count": 9}
    assert sls.invoke("tick") == {"tick": "invoke", "runtime": "nodejs:18"}


def test_firing_the_custom_trigger_runs_hello(sls: Serverless, api: ApiClient):
    fired = api.post(f"{NS}/triggers/{GREET}", {"name": "Fired"})
    assert fired.status_code == 202, fired.text
    trigger_id = fired.json()["activationId"]
    assert ACTIVATION_ID.fullmatch(trigger_id) and fired.headers["x-openwhisk-activation-id"] == trigger_id
    record = api.wait_for_activation(trigger_id)
    assert (record["name"], record["response"]["result"]) == (GREET, {"name": "Fired"})
    (line,) = rule_lines(record)
    assert (line["statusCode"], line["success"], line["rule"], line["action"]) == (
        0, True, f"guest/{GREET_RULE}", f"guest/{ACTIONS['hello']}")
    started = api.wait_for_activation(line["activationId"])
    assert started["name"] == ACTIONS["hello"]
    assert started["response"]["result"] == {"greeting": "Hello Fired!", "runtime": "python:3.11"}
    assert any(log.endswith("stdout: greeting Fired") for log in started["logs"]), started["logs"]
    logs = sls.run("logs", "--function", "hello").stdout  # the plugin lists activations, matched by path
    assert f"activation ({started['activationId']}):\n" in logs and " greeting Fired\n" in logs, logs


def test_the_seconds_alarm_fires_tick(sls: Serverless, api: ApiClient):
    fires = wait_until(lambda: records(api, SECONDS), 15, f"fire of {SECONDS}")
    record = fires[-1]  # the oldest
    assert record["response"]["result"] == {"source": "seconds"}
    (line,) = rule_lines(record)
    assert (line["rule"], line["action"]) == (f"guest/{SECONDS_RULE}", f"guest/{ACTIONS['tick']}")
    assert started_results(api, record) == [{"tick": "seconds", "runtime": "nodejs:18"}]
    fires = wait_until(lambda: len(records(api, SECONDS)) >= 2 and records(api, SECONDS), 10, "a second fire")
    starts = sorted(r["start"] for r in fires)
    assert all(b - a >= 2500 for a, b in zip(starts, starts[1:])), starts  # one fire per 3 s tick


def test_the_http_route_serves_hello(sls: Serverless, api: ApiClient):
    (entry,) = get_api(api)["apis"]
    url = entry["value"]["gwApiUrl"]
    assert url == f"{api.base_url}/api/{UUID}/sls"
    apidoc = entry["value"]["apidoc"]
    assert (apidoc["basePath"], apidoc["info"]["title"]) == ("/sls", "whiskrun-sls")
    target = apidoc["paths"]["/hello"]["get"]["x-openwhisk"]
    assert (target["namespace"], target["package"], target["action"]) == ("guest", "default", ACTIONS["hello"])
    info = sls.run("info")
    assert f"GET {url}/hello --> {ACTIONS['hello']}" in info.stdout, info.stdout
    assert all(f"{name}" in info.stdout for name in [*ACTIONS.values(), *TRIGGERS, *TRIGGERS.values()]), info.stdout
    answer = requests.get(f"{url}/hello", params={"name": "Web"}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"greeting": "Hello Web!", "runtime": "python:3.11", "method": "get"}
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert ACTIVATION_ID.fullmatch(answer.headers["x-openwhisk-activation-id"])
    # The route adds the action's secret; the web action's own URL without it is refused.
    direct = requests.get(f"{api.base_url}/api/v1/web/guest/default/{ACTIONS['hello']}.json", timeout=60)
    assert direct.status_code == 401, direct.text
    assert requests.post(f"{url}/hello", json={}, timeout=60).status_code == 405  # only GET is routed


def test_the_schedule_event_fires_tick_on_the_minute(sls: Serverless, api: ApiClient):
    # cron(* * * * *): the next fire is at the next full minute (whiskrun fires at :00).
    wait = 60 - time.time() % 60 + 10
    fires = wait_until(lambda: records(api, SCHEDULE), wait, f"fire of {SCHEDULE}")
    record = fires[-1]
    assert record["response"]["result"] == {"payload": '{"source":"minute"}'}
    assert record["start"] % 60000 < 2000, record["start"]  # on the minute
    assert started_results(api, record) == [{"tick": "minute", "runtime": "nodejs:18"}]


def test_remove_leaves_nothing(sls: Serverless, api: ApiClient):
    done = sls.remove()
    out = done.stdout + done.stderr
    assert "Resource removal successful!" in out and "Failed" not in out, out
    for function, name in ACTIONS.items():
        assert api.get(f"{NS}/actions/{name}").status_code == 404, function
    for trigger, rule in TRIGGERS.items():
        assert api.get(f"{NS}/triggers/{trigger}").status_code == 404, trigger
        assert api.get(f"{NS}/rules/{rule}").status_code == 404, rule
    assert get_api(api) == {"apis": []}
    assert requests.get(f"{api.base_url}/api/{UUID}/sls/hello", timeout=60).status_code == 404
    # The seconds alarm's feed was deleted (remove sends lifecycleEvent DELETE); nothing fires any more.
    time.sleep(2)  # a tick under way (a cold start, perhaps) may still land
    seconds, ticks = len(records(api, SECONDS)), len(records(api, ACTIONS["tick"]))
    time.sleep(7)  # two ticks of */3
    assert (len(records(api, SECONDS)), len(records(api, ACTIONS["tick"]))) == (seconds, ticks)
