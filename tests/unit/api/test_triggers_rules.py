"""Triggers and rules over HTTP, as Triggers.scala and Rules.scala answer:
create, update, get, list, delete, fire and its activation record, rule
status and enable/disable, the one name space of a namespace, persistence,
and bad input. Actions run on the fake runner (tests/unit/api/conftest.py);
the real invoker path is in tests/integration/api/test_triggers_rules.py."""

import json
from typing import Any

import pytest

from tests.unit.api.conftest import ACTIVATION_ID, ALICE_KEY, DOUBLE, ECHO, FAIL, INCR, Api
from whiskrun.api import messages

T = "/namespaces/_/triggers"
R = "/namespaces/_/rules"


def trigger(api: Api, name: str, **fields: Any) -> dict[str, Any]:
    response = api.put(f"{T}/{name}", json=fields)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def rule(api: Api, name: str, trigger_name: str, action: str, **query: str) -> dict[str, Any]:
    response = api.put(f"{R}/{name}", json={"trigger": f"/_/{trigger_name}", "action": f"/_/{action}"},
                       query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def fire(api: Api, name: str, payload: Any = None, **kwargs: Any):
    return api.post(f"{T}/{name}", json=payload, **kwargs)


def record_of(api: Api, response) -> dict[str, Any]:
    assert response.status_code == 202, response.get_data(as_text=True)
    activation_id = response.get_json()["activationId"]
    assert response.headers["x-openwhisk-activation-id"] == activation_id
    return api.activation(activation_id)


def lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record["logs"]]


# -- triggers ---------------------------------------------------------------

def test_create_get_update_keeps_rules_and_bumps_the_version(api: Api) -> None:
    created = trigger(api, "t", parameters=[{"key": "p", "value": 1}], annotations=[{"key": "a", "value": "b"}])
    assert list(created) == ["namespace", "name", "parameters", "limits", "version", "publish", "annotations",
                             "updated"]
    assert (created["namespace"], created["name"], created["version"], created["limits"]) == ("guest", "t", "0.0.1", {})
    assert api.get(f"{T}/t").get_json() == created
    api.create("hello")
    rule(api, "r", "t", "hello")
    updated = api.put(f"{T}/t", query_string={"overwrite": "true"},
                      json={"parameters": [{"key": "p", "value": 2}]}).get_json()
    assert updated["version"] == "0.0.2"
    assert updated["parameters"] == [{"key": "p", "value": 2}]
    assert updated["annotations"] == [{"key": "a", "value": "b"}]  # absent: kept
    assert updated["rules"] == {"guest/r": {"action": {"path": "guest", "name": "hello"}, "status": "active"}}


def test_create_twice_is_409_and_missing_is_404(api: Api) -> None:
    trigger(api, "t")
    api.refused(api.put(f"{T}/t", json={}), 409, messages.RESOURCE_EXISTS)
    api.refused(api.get(f"{T}/nope"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.delete(f"{T}/nope"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(fire(api, "nope"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_list_gives_summaries_with_paging_and_count(api: Api) -> None:
    for name in ("t1", "t2", "t3"):
        trigger(api, name, parameters=[{"key": "secret", "value": "x"}])
    listed = api.get(T).get_json()
    assert [t["name"] for t in listed] == ["t3", "t2", "t1"]
    assert set(listed[0]) == {"namespace", "name", "version", "publish", "annotations", "updated"}
    assert api.names(T, limit="1", skip="1") == ["t2"]
    assert api.get(T, query_string={"count": "true"}).get_json() == {"triggers": 3}
    api.refused(api.get(T, query_string={"limit": "300"}), 400,
                messages.malformed_query("limit", messages.list_limit_out_of_range("triggers", 300, 200)))


def test_delete_answers_the_trigger_and_leaves_its_rules_inactive(api: Api) -> None:
    api.create("hello")
    trigger(api, "t")
    rule(api, "r", "t", "hello")
    deleted = api.delete(f"{T}/t").get_json()
    assert deleted["rules"]["guest/r"]["status"] == "active"
    got = api.get(f"{R}/r").get_json()
    assert got["status"] == "inactive"
    api.refused(api.get(f"{T}/t"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_a_feed_annotation_must_name_an_entity(api: Api) -> None:
    made = trigger(api, "t", annotations=[{"key": "feed", "value": "/whisk.system/alarms/alarm"}])
    assert made["annotations"] == [{"key": "feed", "value": "/whisk.system/alarms/alarm"}]
    api.refused(api.put(f"{T}/bad", json={"annotations": [{"key": "feed", "value": "a/b/c/d"}]}), 400,
                messages.FEED_NAME_INVALID)
    api.refused(api.put(f"{T}/bad", json={"annotations": [{"key": "feed", "value": 42}]}), 400,
                messages.FEED_NAME_INVALID)
    assert api.get(f"{T}/bad").status_code == 404  # nothing stored half-way


# -- one name space -----------------------------------------------------------

@pytest.mark.parametrize(("taken", "path"), [
    ("action", f"{T}/x"), ("action", f"{R}/x"), ("trigger", "/namespaces/_/actions/x"),
    ("trigger", "/namespaces/_/packages/x"), ("trigger", f"{R}/x"), ("package", f"{T}/x"),
])
def test_a_name_of_another_kind_is_409(api: Api, taken: str, path: str) -> None:
    if taken == "action":
        api.create("x")
    elif taken == "trigger":
        trigger(api, "x")
    else:
        api.package("x")
    body = {"exec": {"kind": "python:3.11", "code": ECHO}} if "/actions/" in path else {}
    if path.startswith(R):
        trigger(api, "t0")
        api.create("a0")
        body = {"trigger": "/_/t0", "action": "/_/a0"}
    api.refused(api.put(path, json=body), 409, messages.NOT_IN_COLLECTION)
    api.refused(api.get(path), 409, messages.NOT_IN_COLLECTION)


# -- rules ------------------------------------------------------------------

def test_rule_create_links_active_and_get_computes_the_status(api: Api) -> None:
    api.create("hello")
    trigger(api, "t")
    created = rule(api, "r", "t", "hello")
    assert list(created) == ["namespace", "name", "version", "publish", "annotations", "status", "trigger",
                             "action", "updated"]
    assert (created["status"], created["trigger"], created["action"]) == \
        ("active", {"path": "guest", "name": "t"}, {"path": "guest", "name": "hello"})
    assert api.get(f"{R}/r").get_json() == created
    listed = api.get(R).get_json()
    assert [r["name"] for r in listed] == ["r"] and "status" not in listed[0]
    assert api.get(R, query_string={"count": "true"}).get_json() == {"rules": 1}
    assert api.get(f"{T}/t").get_json()["rules"] == {
        "guest/r": {"action": {"path": "guest", "name": "hello"}, "status": "active"}}


def test_rule_references_in_every_form_and_to_a_packaged_action(api: Api) -> None:
    api.package("pkg")
    api.create("pkg/inner")
    trigger(api, "t")
    for name, body in [("r1", {"trigger": "/guest/t", "action": "/guest/pkg/inner"}),
                       ("r2", {"trigger": "guest/t", "action": "_/pkg/inner"}),
                       ("r3", {"trigger": {"path": "guest", "name": "t"}, "action": {"path": "_/pkg", "name": "inner"}})]:
        made = api.put(f"{R}/{name}", json={**body, "status": ""}).get_json()
        assert (made["trigger"], made["action"]) == ({"path": "guest", "name": "t"},
                                                     {"path": "guest/pkg", "name": "inner"}), made


@pytest.mark.parametrize(("body", "message"), [
    ({"action": "/_/hello"}, messages.RULE_NEEDS_TRIGGER_AND_ACTION),
    ({"trigger": "/_/t"}, messages.RULE_NEEDS_TRIGGER_AND_ACTION),
    ({"trigger": "t", "action": "/_/hello"}, messages.malformed(messages.FQN_MALFORMED)),
    ({"trigger": 7, "action": "/_/hello"}, messages.malformed(messages.FQN_MALFORMED)),
    ({"trigger": "/_/nope", "action": "/_/hello"}, "trigger /guest/nope does not exist"),
    ({"trigger": "/_/t", "action": "/_/nope"}, "action /guest/nope does not exist"),
    ({"trigger": "/alice/t", "action": "/_/hello"}, "trigger /alice/t does not exist"),
    ({"trigger": "/_/t", "action": "/alice/hello"}, "action /alice/hello does not exist"),
])
def test_rule_create_refusals(api: Api, body: dict[str, Any], message: str) -> None:
    api.create("hello")
    trigger(api, "t")
    api.create("hello", key=ALICE_KEY)
    api.put("/namespaces/_/triggers/t", key=ALICE_KEY, json={})
    api.refused(api.put(f"{R}/r", json=body), 400, message)
    api.refused(api.get(f"{R}/r"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    assert "rules" not in api.get(f"{T}/t").get_json()  # nothing linked half-way


def test_rule_update_moves_the_link_and_keeps_the_status(api: Api) -> None:
    api.create("hello")
    api.create("other")
    trigger(api, "t1")
    trigger(api, "t2")
    rule(api, "r", "t1", "hello")
    api.refused(api.put(f"{R}/r", json={"trigger": "/_/t1", "action": "/_/hello"}), 409, messages.RESOURCE_EXISTS)
    assert api.post(f"{R}/r", json={"status": "inactive"}).status_code == 200
    moved = api.put(f"{R}/r", query_string={"overwrite": "true"}, json={"trigger": "/_/t2"}).get_json()
    assert (moved["version"], moved["status"], moved["action"]["name"]) == ("0.0.2", "inactive", "hello")
    assert api.get(f"{T}/t1").get_json()["rules"] == {}
    assert api.get(f"{T}/t2").get_json()["rules"]["guest/r"]["status"] == "inactive"
    again = api.put(f"{R}/r", query_string={"overwrite": "true"}, json={"action": "/_/other"}).get_json()
    assert api.get(f"{T}/t2").get_json()["rules"]["guest/r"]["action"] == {"path": "guest", "name": "other"}
    assert again["status"] == "inactive"


def test_enable_disable_answer_ok_and_change_the_trigger_map(api: Api) -> None:
    api.create("hello")
    trigger(api, "t")
    rule(api, "r", "t", "hello")
    for state in ("inactive", "inactive", "active", "active"):
        response = api.post(f"{R}/r", json={"status": state, "trigger": None, "action": None})
        assert (response.status_code, response.get_data(as_text=True)) == (200, "OK")
        assert api.get(f"{R}/r").get_json()["status"] == state
    api.refused(api.post(f"{R}/nope", json={"status": "active"}), 404, messages.RESOURCE_DOES_NOT_EXIST)


@pytest.mark.parametrize(("body", "message"), [
    ({"status": "paused"}, messages.malformed("requirement failed: paused is not a recognized rule state")),
    ({"state": "active"}, messages.malformed("key not found: status")),
    (None, messages.malformed('The body must be {"status": "active"} or {"status": "inactive"}, not null.')),
    ([1], messages.malformed('The body must be {"status": "active"} or {"status": "inactive"}, not [1].')),
])
def test_enable_disable_refusals(api: Api, body: Any, message: str) -> None:
    api.create("hello")
    trigger(api, "t")
    rule(api, "r", "t", "hello")
    api.refused(api.post(f"{R}/r", json=body), 400, message)
    assert api.get(f"{R}/r").get_json()["status"] == "active"


def test_a_rule_whose_trigger_is_gone(api: Api) -> None:
    api.create("hello")
    trigger(api, "t")
    rule(api, "r", "t", "hello")
    api.delete(f"{T}/t")
    api.refused(api.post(f"{R}/r", json={"status": "active"}), 404, messages.RULE_NEEDS_EXISTING_TRIGGER)
    assert api.post(f"{R}/r", json={"status": "inactive"}).status_code == 200  # already inactive
    # A trigger made again has no link until the rule is enabled (what wskdeploy does).
    trigger(api, "t")
    assert api.get(f"{R}/r").get_json()["status"] == "inactive"
    assert api.post(f"{R}/r", json={"status": "active"}).status_code == 200
    assert api.get(f"{T}/t").get_json()["rules"]["guest/r"]["status"] == "active"
    deleted = api.delete(f"{R}/r").get_json()
    assert deleted["status"] == "inactive" and deleted["name"] == "r"
    assert api.get(f"{T}/t").get_json()["rules"] == {}


# -- firing -----------------------------------------------------------------

def test_fire_without_an_active_rule_is_204_and_makes_no_record(api: Api) -> None:
    trigger(api, "t")
    response = fire(api, "t", {"a": 1})
    assert (response.status_code, response.get_data()) == (204, b"")
    api.create("hello")
    rule(api, "r", "t", "hello")
    api.post(f"{R}/r", json={"status": "inactive"})
    assert fire(api, "t").status_code == 204
    assert api.get("/namespaces/_/activations").get_json() == []
    assert api.runner.invoked("hello") == []


def test_fire_runs_each_active_rule_with_parameters_headers_and_payload(api: Api) -> None:
    api.create("hello")
    api.create("second")
    trigger(api, "t", parameters=[{"key": "from_trigger", "value": 1}, {"key": "over", "value": "trigger"}])
    rule(api, "r1", "t", "hello")
    rule(api, "r2", "t", "second")
    record = record_of(api, fire(api, "t", {"over": "payload", "x": 2}, headers={"X-Custom": "yes"}))
    assert (record["namespace"], record["name"], record["version"]) == ("guest", "t", "0.0.1")
    assert record["response"] == {"status": "success", "success": True, "result": {"over": "payload", "x": 2}}
    assert "end" not in record and "duration" not in record and record["annotations"] == []
    results = lines(record)
    assert [list(line) for line in results] == [["statusCode", "success", "activationId", "rule", "action"]] * 2
    assert [(line["rule"], line["action"], line["statusCode"]) for line in results] == \
        [("guest/r1", "guest/hello", 0), ("guest/r2", "guest/second", 0)]
    for line, action in zip(results, ("hello", "second")):
        fired = api.wait_for_activation(line["activationId"])
        assert fired["name"] == action and "cause" not in fired
        params = fired["response"]["result"]
        assert (params["from_trigger"], params["over"], params["x"]) == (1, "payload", 2)
        assert params["__ow_headers"]["x-custom"] == "yes"
        assert params["__ow_headers"]["authorization"].startswith("Basic ")


def test_fire_logs_inactive_and_failed_rules(api: Api) -> None:
    api.create("hello")
    api.create("gone")
    api.create("fails", FAIL)
    trigger(api, "t")
    rule(api, "active", "t", "hello")
    rule(api, "off", "t", "hello")
    rule(api, "missing", "t", "gone")
    rule(api, "failing", "t", "fails")
    api.post(f"{R}/off", json={"status": "inactive"})
    api.delete("/namespaces/_/actions/gone")
    results = {line["rule"]: line for line in lines(record_of(api, fire(api, "t")))}
    assert results["guest/off"] == {"statusCode": 1, "success": False, "rule": "guest/off", "action": "guest/hello",
                                    "error": "Rule 'guest/off' is inactive, action 'guest/hello' was not activated."}
    assert results["guest/missing"] == {"statusCode": 1, "success": False, "rule": "guest/missing",
                                        "action": "guest/gone", "error": messages.RESOURCE_DOES_NOT_EXIST}
    # An action that fails still started: its failure is in its own record.
    assert results["guest/failing"]["success"] is True
    failed = api.wait_for_activation(results["guest/failing"]["activationId"])
    assert failed["response"]["success"] is False
    assert results["guest/active"]["success"] is True


def test_fire_payload_must_be_an_object(api: Api) -> None:
    trigger(api, "t")
    api.refused(fire(api, "t", [1, 2]), 400, messages.malformed(messages.JSON_OBJECT_EXPECTED))
    api.refused(api.post(f"{T}/t", data="{", content_type="application/json"), 400,
                messages.malformed("The body is not valid JSON (Expecting property name enclosed in double quotes: "
                                   "line 1 column 2 (char 1))."))


def test_trigger_records_are_listed_and_found_by_name(api: Api) -> None:
    api.create("hello")
    trigger(api, "t")
    rule(api, "r", "t", "hello")
    record = record_of(api, fire(api, "t", {"k": "v"}))
    api.wait_for_activation(lines(record)[0]["activationId"])
    by_name = api.get("/namespaces/_/activations", query_string={"name": "t"}).get_json()
    assert [entry["activationId"] for entry in by_name] == [record["activationId"]]
    assert set(by_name[0]) >= {"namespace", "name", "activationId", "start"}
    assert not {"end", "duration", "statusCode"} & set(by_name[0])
    logs = api.get(f"/namespaces/_/activations/{record['activationId']}/logs").get_json()
    assert logs == {"logs": record["logs"]}
    assert ACTIVATION_ID.fullmatch(record["activationId"])


def test_another_namespace_sees_none_of_it(api: Api) -> None:
    api.create("hello")
    trigger(api, "t")
    rule(api, "r", "t", "hello")
    api.refused(api.get("/namespaces/alice/triggers/t"), 403, messages.NOT_AUTHORIZED)
    api.refused(api.get("/namespaces/_/triggers/t", key=ALICE_KEY), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.post("/namespaces/_/triggers/t", key=ALICE_KEY), 404, messages.RESOURCE_DOES_NOT_EXIST)
    assert api.get("/namespaces/_/rules", key=ALICE_KEY).get_json() == []


def test_triggers_and_rules_survive_a_restart(make_api, tmp_path) -> None:
    first = make_api(data_dir=tmp_path / "kept")
    first.create("hello")
    trigger(first, "t", parameters=[{"key": "p", "value": 1}])
    rule(first, "r", "t", "hello")
    first.post(f"{R}/r", json={"status": "inactive"})
    first.close()
    second = make_api(data_dir=tmp_path / "kept")
    assert second.get(f"{T}/t").get_json()["parameters"] == [{"key": "p", "value": 1}]
    assert second.get(f"{R}/r").get_json()["status"] == "inactive"
    second.post(f"{R}/r", json={"status": "active"})
    assert fire(second, "t").status_code == 202


def test_a_rule_to_a_sequence_runs_the_sequence(api: Api) -> None:
    api.create("incr", INCR)
    api.create("double", DOUBLE)
    api.sequence("both", "/_/incr", "/_/double")
    trigger(api, "t")
    rule(api, "r", "t", "both")
    [line] = lines(record_of(api, fire(api, "t", {"n": 4})))
    record = api.wait_for_activation(line["activationId"])
    assert record["response"]["result"] == {"n": 10}
    assert {a["key"]: a["value"] for a in record["annotations"]}["kind"] == "sequence"


def test_bad_names_and_oversized_payloads(make_api) -> None:
    api = make_api(payload_bytes=1000)
    api.refused(api.put(f"{T}/bad name!", json={}), 400, messages.ENTITY_NAME_ILLEGAL)
    api.refused(api.put(f"{R}/bad name!", json={"trigger": "/_/t", "action": "/_/a"}), 400,
                messages.ENTITY_NAME_ILLEGAL)
    trigger(api, "t")
    response = fire(api, "t", {"big": "x" * 2000})
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.get_json()["error"].startswith("Request larger than allowed")
    assert api.get("/namespaces/_/activations").get_json() == []
    api.still_serving()
