"""Triggers and rules with the real npm `openwhisk` client (3.21.9, pinned by
tests/e2e/client's lockfile) against a real `whiskrun serve`:
tests/e2e/client/events.js makes the calls and prints what came back (see its
header), these tests check it. What the client itself makes of OpenWhisk's
answers is part of what is checked: `rules.enable`/`rules.disable` resolve to the
text body "OK" as a string, and a fire without an active rule (204, no body) to
an empty string."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_openwhisk_client import marks, node
from tests.integration.api.server_support import ApiServer
from tests.integration.invoker_support import ACTIVATION_ID

pytestmark = pytest.mark.docker

ACTION, TRIGGER, RULE = "ev-echo", "ev-trigger", "ev-rule"
PARAMETERS = [{"key": "name", "value": "Trigger"}, {"key": "place", "value": "trigger"}]
UPDATED_PARAMETERS = [{"key": "name", "value": "Trigger"}, {"key": "place", "value": "updated"}]
NOTE = [{"key": "note", "value": "made by events.js"}]
RULE_LINE_KEYS = ["statusCode", "success", "activationId", "rule", "action"]  # Triggers.scala's order
TRIGGER_REF = {"path": "guest", "name": TRIGGER}
ACTION_REF = {"path": "guest", "name": ACTION}


@pytest.fixture(scope="module")
def events(api_server: ApiServer, npm_client: Path) -> dict[str, Any]:
    lines = node(npm_client / "events.js", api_server, npm_client).strip().splitlines()
    return json.loads(lines[-1])


def refused(answer: dict[str, Any], status: int, error: str, method: str, path: str) -> None:
    """An OpenWhiskError of the client: status, OpenWhisk's error body, the message it builds."""
    assert "unexpectedSuccess" not in answer, answer
    assert (answer["name"], answer["statusCode"]) == ("OpenWhiskError", status), answer
    assert answer["error"]["error"] == error and answer["error"]["code"], answer
    assert answer["message"].startswith(f"{method} http://127.0.0.1:"), answer["message"]
    assert f"/api/v1/namespaces/_/{path} Returned HTTP {status} " in answer["message"], answer["message"]
    assert answer["message"].endswith(f'--> "{error}"'), answer["message"]


def rule_lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A trigger record's logs: one compact JSON object per rule."""
    for line in record["logs"]:
        assert line == json.dumps(json.loads(line), separators=(",", ":")), line
    return [json.loads(line) for line in record["logs"]]


def test_trigger_create_get_list_count_update(events):
    created = events["createTrigger"]
    assert list(created) == ["namespace", "name", "parameters", "limits", "version", "publish", "annotations",
                             "updated"]
    assert (created["namespace"], created["name"], created["version"], created["publish"]) == \
        ("guest", TRIGGER, "0.0.1", False)
    # The client's annotations object became OpenWhisk's key/value list.
    assert (created["parameters"], created["limits"], created["annotations"]) == (PARAMETERS, {}, NOTE)
    refused(events["createTriggerAgain"], 409, "resource already exists", "PUT", f"triggers/{TRIGGER}")
    assert events["getTrigger"] == created
    (summary,) = events["listTriggers"]
    assert summary == {key: created[key] for key in ("namespace", "name", "version", "publish", "annotations",
                                                     "updated")}
    assert events["countTriggers"] == {"triggers": 1}
    updated = events["updateTrigger"]
    assert updated["version"] == "0.0.2" and updated["parameters"] == UPDATED_PARAMETERS
    assert updated["annotations"] == NOTE  # absent from the update: kept
    assert "rules" not in updated and updated["updated"] >= created["updated"]


def test_rule_create_get_list_and_the_link_in_the_trigger(events):
    created = events["createRule"]
    assert list(created) == ["namespace", "name", "version", "publish", "annotations", "status", "trigger",
                             "action", "updated"]
    assert (created["namespace"], created["name"], created["version"], created["status"]) == \
        ("guest", RULE, "0.0.1", "active")
    assert (created["trigger"], created["action"]) == (TRIGGER_REF, ACTION_REF)
    assert events["getRule"] == created
    (listed,) = events["listRules"]  # the list has no status (wsk GETs each rule for it)
    assert listed == {key: value for key, value in created.items() if key != "status"}
    assert events["countRules"] == {"rules": 1}
    trigger = events["triggerWithRule"]
    assert trigger["rules"] == {f"guest/{RULE}": {"action": ACTION_REF, "status": "active"}}
    assert trigger["version"] == "0.0.2"  # linking a rule is no update of the trigger


def test_fire_runs_the_action_with_the_payload_over_the_trigger_parameters(events):
    accepted = events["fired"]
    assert list(accepted) == ["activationId"] and ACTIVATION_ID.fullmatch(accepted["activationId"])
    record, action = events["firedRecords"]["trigger"], events["firedRecords"]["action"]
    assert record["activationId"] == accepted["activationId"]
    assert (record["namespace"], record["name"], record["subject"], record["version"]) == \
        ("guest", TRIGGER, "guest", "0.0.2")
    assert record["response"] == {"status": "success", "success": True, "result": {"name": "Fired", "extra": 1}}
    assert "end" not in record and "duration" not in record and "cause" not in record
    assert record["annotations"] == []
    (line,) = rule_lines(record)
    assert list(line) == RULE_LINE_KEYS
    assert (line["statusCode"], line["success"], line["rule"], line["action"]) == \
        (0, True, f"guest/{RULE}", f"guest/{ACTION}")
    assert ACTIVATION_ID.fullmatch(line["activationId"]) and line["activationId"] != record["activationId"]
    # The action's activation: the echo shows what it was given.
    assert action["activationId"] == line["activationId"]
    assert (action["namespace"], action["name"], action["version"]) == ("guest", ACTION, "0.0.1")
    assert (action["response"]["status"], action["response"]["success"]) == ("success", True)
    result = action["response"]["result"]
    headers = result.pop("__ow_headers")
    assert result == {"name": "Fired", "place": "updated", "extra": 1}  # payload > trigger parameters
    assert headers["user-agent"] == "openwhisk-client-js"  # the fire's own request headers
    assert headers["authorization"].startswith("Basic ") and all(key == key.lower() for key in headers)
    assert "cause" not in action and "causedBy" not in marks(action)
    assert marks(action)["path"] == f"guest/{ACTION}"


def test_disable_and_enable_answer_the_text_ok_and_a_fire_without_active_rule_is_empty(events):
    # POST /rules/{name} answers 200 with the text body OK; needle hands the client the string.
    for key in ("disable", "disableAgain", "enable"):
        assert events[key] == {"type": "string", "value": "OK"}, key
    assert events["getRuleDisabled"]["status"] == "inactive"
    assert events["getRuleEnabled"]["status"] == "active"
    # 204 No Content: the client resolves to an empty string (no activationId, no record).
    assert events["firedDisabled"] == {"type": "string", "value": ""}
    ids = [a["activationId"] for a in events["triggerActivations"]]
    assert ids == [events["firedAgain"]["activationId"], events["fired"]["activationId"]]  # newest first


def test_a_fire_without_payload_passes_the_trigger_parameters(events):
    record, action = events["firedAgainRecords"]["trigger"], events["firedAgainRecords"]["action"]
    assert record["activationId"] == events["firedAgain"]["activationId"]
    assert record["response"]["result"] == {}
    (line,) = rule_lines(record)
    assert (line["success"], line["activationId"]) == (True, action["activationId"])
    result = action["response"]["result"]
    result.pop("__ow_headers")
    assert result == {"name": "Trigger", "place": "updated"}
    for summary in events["triggerActivations"]:  # the list's view of a trigger record
        assert summary["name"] == TRIGGER and summary["annotations"] == []
        assert not {"end", "duration", "statusCode", "response", "logs"} & set(summary), summary


def test_refusals(events):
    refused(events["ruleForMissingTrigger"], 400, "trigger /guest/nope does not exist", "PUT", "rules/ev-bad")
    refused(events["ruleForMissingAction"], 400, "action /guest/nope does not exist", "PUT", "rules/ev-bad")
    refused(events["ruleAgain"], 409, "resource already exists", "PUT", f"rules/{RULE}")
    refused(events["fireMissing"], 404, "The requested resource does not exist.", "POST", "triggers/nope")


def test_delete_rule_then_trigger(events):
    deleted = events["deleteRule"]
    assert (deleted["name"], deleted["status"]) == (RULE, "inactive")  # answered inactive, as upstream
    assert (deleted["trigger"], deleted["action"]) == (TRIGGER_REF, ACTION_REF)
    assert events["triggerAfterRuleDelete"]["rules"] == {}  # the link left the trigger
    gone = events["deleteTrigger"]
    assert (gone["name"], gone["version"], gone["parameters"]) == (TRIGGER, "0.0.2", UPDATED_PARAMETERS)
    refused(events["getDeletedTrigger"], 404, "The requested resource does not exist.", "GET",
            f"triggers/{TRIGGER}")
    refused(events["getDeletedRule"], 404, "The requested resource does not exist.", "GET", f"rules/{RULE}")
    assert events["deleteAction"] == ACTION
    assert (events["triggersAfter"], events["rulesAfter"]) == ([], [])
