"""Sequences: creation checks (Actions.scala checkSequenceActionLimits) and
invocation component by component (SequenceActions.scala)."""

from typing import Any

import pytest

from tests.unit.api.conftest import ALICE_KEY, DOUBLE, ECHO, FAIL, INCR, Api
from whiskrun.api import messages

MALFORMED = "The request content was malformed:\n"


def annotations(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record["annotations"]}


@pytest.fixture
def steps(api: Api) -> Api:
    api.create("incr", INCR)
    api.create("double", DOUBLE, limits={"memory": 512})
    api.create("fail", FAIL)
    return api


def test_create_resolves_underscore_to_the_namespace(steps: Api) -> None:
    doc = steps.sequence("seq", "/_/incr", "/guest/double")
    assert doc["exec"] == {"kind": "sequence", "components": ["/guest/incr", "/guest/double"]}
    assert doc["annotations"] == [{"key": "provide-api-key", "value": False}, {"key": "exec", "value": "sequence"}]
    assert (doc["version"], doc["limits"]["memory"]) == ("0.0.1", 256)
    assert steps.get("/namespaces/_/actions/seq").get_json() == doc
    listed = next(e for e in steps.get("/namespaces/_/actions").get_json() if e["name"] == "seq")
    assert listed["exec"] == {"binary": False}


def test_components_in_packages(steps: Api) -> None:
    steps.package("utils")
    steps.create("utils/incr", INCR)
    doc = steps.sequence("seq", "/_/utils/incr", "/_/incr")
    assert doc["exec"]["components"] == ["/guest/utils/incr", "/guest/incr"]
    assert steps.invoke("seq", {"n": 0}, result="true").get_json() == {"n": 2}


@pytest.mark.parametrize("components, message", [
    (["/_/seq"], messages.SEQUENCE_CYCLIC),
    (["/_/incr", "/guest/seq"], messages.SEQUENCE_CYCLIC),
    (["/_/missing"], messages.SEQUENCE_COMPONENT_NOT_FOUND),
    (["/_/incr", "/_/nopkg/incr"], messages.SEQUENCE_COMPONENT_NOT_FOUND),
    (["/alice/incr"], messages.SEQUENCE_COMPONENT_NOT_FOUND),
    ([], messages.SEQUENCE_NO_COMPONENT),
    (["incr"], MALFORMED + messages.FQN_MALFORMED),
    (["/_"], MALFORMED + messages.FQN_MALFORMED),
    ([3], MALFORMED + "fully qualified name malformed"),
    (["/_/bad$name"], messages.ENTITY_NAME_ILLEGAL),
])
def test_refused_sequences_are_not_stored(steps: Api, components: list[Any], message: str) -> None:
    steps.create("incr", INCR, key=ALICE_KEY)
    steps.refused(steps.put("/namespaces/_/actions/seq", json={"exec": {"kind": "sequence",
                                                                        "components": components}}), 400, message)
    steps.refused(steps.get("/namespaces/_/actions/seq"), 404, messages.RESOURCE_DOES_NOT_EXIST)


@pytest.mark.parametrize("exec_, message", [
    ({"kind": "sequence"}, "'components' must be defined for sequence kind"),
    ({"kind": "sequence", "components": "/_/incr"}, "'components' must be an array"),
])
def test_malformed_sequence_exec(steps: Api, exec_: dict[str, Any], message: str) -> None:
    steps.refused(steps.put("/namespaces/_/actions/seq", json={"exec": exec_}), 400, MALFORMED + message)


def test_cycles_through_other_sequences_are_refused(steps: Api) -> None:
    steps.sequence("inner", "/_/incr")
    steps.sequence("outer", "/_/inner")
    steps.refused(steps.put("/namespaces/_/actions/inner", query_string={"overwrite": "true"},
                            json={"exec": {"kind": "sequence", "components": ["/_/outer"]}}), 400,
                  messages.SEQUENCE_CYCLIC)
    # Turning an atomic action into a sequence of itself is a cycle too.
    steps.refused(steps.put("/namespaces/_/actions/incr", query_string={"overwrite": "true"},
                            json={"exec": {"kind": "sequence", "components": ["/_/incr"]}}), 400,
                  messages.SEQUENCE_CYCLIC)
    assert steps.get("/namespaces/_/actions/inner").get_json()["exec"]["components"] == ["/guest/incr"]
    assert steps.get("/namespaces/_/actions/incr").get_json()["exec"]["kind"] == "python:3.11"


def test_too_long_counts_atomic_actions_through_nested_sequences(make_api) -> None:
    api = make_api(sequence_length=2)
    api.create("incr", INCR)
    api.refused(api.put("/namespaces/_/actions/long", json={"exec": {
        "kind": "sequence", "components": ["/_/incr"] * 3}}), 400, messages.SEQUENCE_TOO_LONG)
    api.sequence("pair", "/_/incr", "/_/incr")
    api.refused(api.put("/namespaces/_/actions/nested", json={"exec": {
        "kind": "sequence", "components": ["/_/pair", "/_/incr"]}}), 400, messages.SEQUENCE_TOO_LONG)
    api.sequence("wrapper", "/_/pair")  # still two atomic actions
    assert api.names() == ["wrapper", "pair", "incr"]
    info = api.get("/", key=None).get_json()
    assert info["limits"]["sequence_length"] == 2


def test_invoke_chains_results_and_records_the_components(steps: Api) -> None:
    steps.sequence("seq", "/_/incr", "/_/double")
    response = steps.invoke("seq", {"n": 3})
    assert response.status_code == 200
    record = response.get_json()
    assert record["response"] == {"status": "success", "success": True, "result": {"n": 8}, "size": 8}
    assert response.headers["x-openwhisk-activation-id"] == record["activationId"]
    stored = steps.activation(record["activationId"])
    # The controller builds a sequence's record, so its blocking answer has the logs: component ids.
    assert record == stored and len(stored["logs"]) == 2
    assert (stored["name"], stored["namespace"], "cause" in stored) == ("seq", "guest", False)
    assert annotations(stored) == {"topmost": True, "path": "guest/seq", "waitTime": 0, "kind": "sequence",
                                   "limits": {"timeout": 60000, "memory": 512, "logs": 10, "concurrency": 1}}
    components = [steps.activation(i) for i in stored["logs"]]
    assert [c["name"] for c in components] == ["incr", "double"]
    assert [c["response"]["result"] for c in components] == [{"n": 4}, {"n": 8}]
    for component in components:
        assert component["cause"] == record["activationId"]
        assert annotations(component)["causedBy"] == "sequence"
    # SequenceActions.scala: the sequence's duration is the sum of its components' (5 + 7 ms).
    assert stored["duration"] == sum(c["duration"] for c in components) == 12

    # WhiskActivation.summaryAsJson keeps the stored duration; components carry their cause.
    summaries = {s["activationId"]: s for s in steps.get("/namespaces/_/activations").get_json()}
    assert summaries[record["activationId"]]["duration"] == stored["duration"]
    assert summaries[components[0]["activationId"]]["cause"] == record["activationId"]
    assert steps.invoke("seq", {"n": 3}, result="true").get_json() == {"n": 8}


def test_the_first_component_gets_the_sequences_parameters(steps: Api) -> None:
    steps.create("echo", ECHO)
    steps.sequence("seq", "/_/echo", "/_/incr", parameters=[{"key": "n", "value": 10}, {"key": "k", "value": "v"}])
    assert steps.invoke("seq", {"n": 1}, result="true").get_json() == {"n": 2}
    assert steps.runner.invoked("echo")[0].params == {"n": 1, "k": "v"}
    assert steps.runner.invoked("incr")[0].params == {"n": 1, "k": "v"}


def test_a_failing_component_stops_the_sequence(steps: Api) -> None:
    steps.sequence("seq", "/_/incr", "/_/fail", "/_/double")
    response = steps.invoke("seq", {"n": 1})
    assert response.status_code == 502
    record = response.get_json()
    assert record["response"] == {"status": "application error", "success": False,
                                  "result": {"error": "it failed"}, "size": 22}
    stored = steps.activation(record["activationId"])
    assert [steps.activation(i)["name"] for i in stored["logs"]] == ["incr", "fail"]
    assert steps.runner.invoked("double") == []
    assert steps.get("/namespaces/_/activations").get_json()[0]["statusCode"] == 1
    failed = steps.invoke("seq", {"n": 1}, result="true")
    assert (failed.status_code, failed.get_json()) == (502, {"error": "it failed"})


def test_nested_sequences(steps: Api) -> None:
    steps.sequence("inner", "/_/incr", "/_/incr")
    steps.sequence("outer", "/_/inner", "/_/double")
    response = steps.invoke("outer", {"n": 0})
    assert (response.status_code, response.get_json()["response"]["result"]) == (200, {"n": 4})
    outer = steps.activation(response.get_json()["activationId"])
    inner = steps.activation(outer["logs"][0])
    assert (inner["name"], inner["cause"]) == ("inner", outer["activationId"])
    assert annotations(inner)["topmost"] is False and annotations(inner)["causedBy"] == "sequence"
    assert [steps.activation(i)["cause"] for i in inner["logs"]] == [inner["activationId"]] * 2
    assert outer["duration"] == inner["duration"] + 7 == 17


def test_a_component_deleted_after_creation_fails_the_sequence(steps: Api) -> None:
    steps.sequence("seq", "/_/incr", "/_/double")
    assert steps.delete("/namespaces/_/actions/double").status_code == 200
    response = steps.invoke("seq", {"n": 1})
    assert response.status_code == 502
    assert response.get_json()["response"]["result"] == {"error": messages.SEQUENCE_COMPONENT_NOT_FOUND}


def test_a_sequence_is_invoked_non_blocking_too(steps: Api) -> None:
    steps.sequence("seq", "/_/incr")
    response = steps.post("/namespaces/_/actions/seq", json={"n": 1})
    assert response.status_code == 202
    assert steps.wait_for_activation(response.get_json()["activationId"])["response"]["result"] == {"n": 2}
