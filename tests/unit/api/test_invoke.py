"""``POST /namespaces/{ns}/actions/{name}``: blocking and not, results, error
statuses, the wait limit, final parameters, payload size and admission
(Actions.scala activate/doInvoke)."""

import json
import time

import pytest

from tests.unit.api.conftest import (ACTIVATION_ID, ALICE_KEY, ARRAY, FAIL, INVOKER_CRASH, NO_CONTAINER,
                                     NOT_A_DICT, POOL_FULL, SLOW, Api)
from whiskrun.api import messages
from whiskrun.api.config import GUEST_KEY

RECORD_FIELDS = {"activationId", "namespace", "name", "version", "subject", "start", "end", "duration", "response",
                 "logs", "annotations", "publish"}
HEADER = "x-openwhisk-activation-id"


def annotations(record: dict) -> dict:
    return {a["key"]: a["value"] for a in record["annotations"]}


@pytest.mark.parametrize("query", [{}, {"blocking": "false"}, {"blocking": "false", "result": "true"}])
def test_non_blocking_answers_202_with_the_id(api: Api, query: dict[str, str]) -> None:
    api.create("echo")
    response = api.post("/namespaces/_/actions/echo", json={"x": 1}, query_string=query)
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"activationId"} and ACTIVATION_ID.fullmatch(body["activationId"])
    assert response.headers[HEADER] == body["activationId"]
    record = api.wait_for_activation(body["activationId"])
    assert record["response"]["result"] == {"x": 1}


def test_blocking_answers_the_whole_record_without_logs(api: Api) -> None:
    api.create("echo")
    response = api.invoke("echo", {"x": 1})
    assert response.status_code == 200
    record = response.get_json()
    assert set(record) == RECORD_FIELDS
    assert ACTIVATION_ID.fullmatch(record["activationId"])
    assert response.headers[HEADER] == record["activationId"]
    assert (record["namespace"], record["subject"], record["name"], record["version"], record["publish"]) == (
        "guest", "guest", "echo", "0.0.1", False)
    assert record["response"] == {"status": "success", "success": True, "result": {"x": 1},
                                  "size": len(json.dumps({"x": 1}))}  # no statusCode
    assert record["logs"] == []
    assert record["duration"] == record["end"] - record["start"] == 4
    assert annotations(record) == {"path": "guest/echo", "kind": "python:3.11", "timeout": False, "initTime": 2,
                                   "waitTime": 3, "startPath": "cold",
                                   "limits": {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}}
    # The stored record has the logs.
    stored = api.activation(record["activationId"])
    assert stored == {**record, "logs": stored["logs"]}
    assert len(stored["logs"]) == 1 and stored["logs"][0].endswith(" stdout: echo")


def test_the_record_shows_the_invoked_version(api: Api) -> None:
    api.create("echo")
    assert "initTime" in annotations(api.invoke("echo").get_json())
    assert "initTime" not in annotations(api.invoke("echo").get_json())  # the same version again
    api.put("/namespaces/_/actions/echo", query_string={"overwrite": "true"}, json={"limits": {"memory": 512}})
    record = api.invoke("echo").get_json()
    assert record["version"] == "0.0.2"
    assert annotations(record)["limits"]["memory"] == 512
    # OpenWhisk reuses a container only for the same revision: the update starts anew.
    assert "initTime" in annotations(record)


@pytest.mark.parametrize("params, result", [(None, {}), ({}, {}), ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})])
def test_result_true_answers_the_result_only(api: Api, params, result) -> None:
    api.create("echo")
    response = api.invoke("echo", params, result="true")
    assert (response.status_code, response.get_json()) == (200, result)
    assert ACTIVATION_ID.fullmatch(response.headers[HEADER])


@pytest.mark.parametrize("query", [{}, {"result": "true"}])
def test_an_array_result_is_answered_bare(api: Api, query: dict[str, str]) -> None:
    api.create("array", ARRAY)
    response = api.invoke("array", **query)
    assert (response.status_code, response.get_json()) == (200, [1, 2, 3])


def test_an_application_error_is_502_with_the_record(api: Api) -> None:
    api.create("fail", FAIL)
    response = api.invoke("fail", {"why": "no coffee"})
    assert response.status_code == 502
    record = response.get_json()
    assert "code" not in record  # wsk reads a 502 body without `code` as an activation
    assert record["response"] == {"status": "application error", "success": False,
                                  "result": {"error": "no coffee"}, "size": len(json.dumps({"error": "no coffee"}))}
    assert response.headers[HEADER] == record["activationId"]
    result = api.invoke("fail", {"why": "no tea"}, result="true")
    assert (result.status_code, result.get_json()) == (502, {"error": "no tea"})


def test_a_developer_error_is_502(api: Api) -> None:
    api.create("broken", NOT_A_DICT)
    response = api.invoke("broken")
    assert response.status_code == 502
    assert response.get_json()["response"]["status"] == "action developer error"
    assert response.get_json()["response"]["result"] == {"error": "The action did not return a dictionary or array."}
    assert api.invoke("broken", result="true").get_json() == {
        "error": "The action did not return a dictionary or array."}


@pytest.mark.parametrize("code, error", [
    (NO_CONTAINER, "Failed to provision resources to run the action."),  # the invoker's whisk error
    (INVOKER_CRASH, "Failed to provision resources to run the action."),  # the invoker raised
])
def test_a_whisk_error_is_500_and_stored(api: Api, code: str, error: str) -> None:
    api.create("doomed", code)
    response = api.invoke("doomed")
    assert response.status_code == 500
    record = response.get_json()
    assert "code" not in record
    assert record["response"] == {"status": "whisk internal error", "success": False, "result": {"error": error}}
    assert api.activation(record["activationId"])["response"]["status"] == "whisk internal error"
    summary = api.get("/namespaces/_/activations").get_json()[0]
    assert (summary["activationId"], summary["statusCode"]) == (record["activationId"], 3)


def test_a_full_pool_refuses_a_blocking_call_with_503_and_keeps_the_record(api: Api) -> None:
    api.create("crowded", POOL_FULL)
    response = api.invoke("crowded")
    assert response.status_code == 503
    assert response.get_json()["error"] == messages.SYSTEM_OVERLOADED
    assert len(response.get_json()["code"]) == 32
    # A non-blocking caller already has its id: the stored record says what happened.
    accepted = api.invoke("crowded", blocking="false")
    assert accepted.status_code == 202
    summary = api.get("/namespaces/_/activations?name=crowded&limit=1").get_json()
    assert summary and summary[0]["statusCode"] == 3


def test_a_blocking_wait_that_expires_answers_202_and_the_activation_goes_on(api: Api) -> None:
    api.create("slow", SLOW)
    started = time.monotonic()
    response = api.invoke("slow", {"x": 1}, timeout="50")
    assert time.monotonic() - started < 5
    assert response.status_code == 202
    activation_id = response.get_json()["activationId"]
    assert response.get_json() == {"activationId": activation_id}
    assert response.headers[HEADER] == activation_id
    api.refused(api.get(f"/namespaces/_/activations/{activation_id}"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.runner.gate.set()
    assert api.wait_for_activation(activation_id)["response"]["result"] == {"x": 1}


@pytest.mark.parametrize("timeout", ["0", "-5", "60001", "ten", "1.5", "1e3"])
def test_a_bad_timeout_is_400(api: Api, timeout: str) -> None:
    api.create("echo")
    api.refused(api.invoke("echo", timeout=timeout), 400,
                "The query parameter 'timeout' was malformed:\nTimeout must be number of milliseconds up to 60000.")
    assert api.runner.calls == []


@pytest.mark.parametrize("timeout", ["1", "60000"])
def test_timeouts_within_range_are_accepted(api: Api, timeout: str) -> None:
    api.create("echo")
    assert api.invoke("echo", timeout=timeout).status_code in (200, 202)


def test_the_blocking_wait_follows_the_configuration(make_api) -> None:
    api = make_api(blocking_wait_ms=1000)
    api.create("echo")
    api.refused(api.invoke("echo", timeout="1001"), 400,
                "The query parameter 'timeout' was malformed:\nTimeout must be number of milliseconds up to 1000.")


def test_final_parameters_cannot_be_overridden(api: Api) -> None:
    api.package("utils", parameters=[{"key": "region", "value": "eu"}])
    api.create("utils/locked", parameters=[{"key": "x", "value": 1}], annotations=[{"key": "final", "value": True}])
    api.create("open", parameters=[{"key": "x", "value": 1}])
    for name, params in (("utils/locked", {"x": 2}), ("utils/locked", {"region": "us", "y": 1})):
        api.refused(api.invoke(name, params), 400, messages.PARAMETERS_NOT_ALLOWED)
    assert api.runner.calls == []
    assert api.invoke("utils/locked", {"y": 2}, result="true").get_json() == {"region": "eu", "x": 1, "y": 2}
    assert api.invoke("open", {"x": 2}, result="true").get_json() == {"x": 2}


def test_parameters_reach_the_action_and_the_key_only_when_asked(api: Api) -> None:
    api.create("quiet", parameters=[{"key": "p", "value": 1}, {"key": "env", "value": "v", "init": True}])
    api.create("keyed", annotations=[{"key": "provide-api-key", "value": True}])
    api.invoke("quiet", {"q": 2})
    api.invoke("keyed")
    (quiet,), (keyed,) = api.runner.invoked("quiet"), api.runner.invoked("keyed")
    assert quiet.params == {"p": 1, "q": 2}  # init parameters go to /init, not /run
    assert (quiet.subject, quiet.api_key) == ("guest", None)
    assert keyed.api_key == GUEST_KEY
    assert quiet.activation_id != keyed.activation_id
    spec = next(spec for spec, invocation in api.runner.calls if spec.name == "quiet")
    assert dict(spec.init_env) == {"env": "v"}


def test_invoking_a_missing_action_is_404(api: Api) -> None:
    api.refused(api.invoke("nothing"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.post("/namespaces/_/actions/nothing"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    assert api.runner.calls == []


@pytest.mark.parametrize("body", ["3", '"text"', "true"])
def test_a_payload_that_is_not_an_object_is_400(api: Api, body: str) -> None:
    api.create("echo")
    api.refused(api.post("/namespaces/_/actions/echo", data=body, content_type="application/json"), 400,
                "The request content was malformed:\nJSON object expected")
    assert api.runner.calls == []


def test_a_malformed_payload_is_400(api: Api) -> None:
    api.create("echo")
    response = api.post("/namespaces/_/actions/echo", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("The request content was malformed:\n")
    api.still_serving()
    assert api.runner.calls == []


def test_a_payload_over_the_limit_is_413(make_api) -> None:
    api = make_api(payload_bytes=1000)
    api.create("echo")
    body = json.dumps({"x": "y" * 992})  # 1001 bytes
    api.refused(api.post("/namespaces/_/actions/echo", data=body, content_type="application/json",
                         query_string={"blocking": "true"}), 413, "Request larger than allowed: 1001 > 1000 bytes.")
    assert api.runner.calls == []
    assert api.get("/namespaces/_/activations").get_json() == []
    fits = json.dumps({"x": "y" * 991})
    assert api.post("/namespaces/_/actions/echo", data=fits, content_type="application/json",
                    query_string={"blocking": "true"}).status_code == 200


def test_more_concurrent_activations_than_allowed_is_429(make_api) -> None:
    api = make_api(concurrent_invocations=2)
    api.create("slow", SLOW)
    api.create("slow", SLOW, key=ALICE_KEY)
    first, second = (api.post("/namespaces/_/actions/slow").get_json()["activationId"] for _ in range(2))
    api.refused(api.post("/namespaces/_/actions/slow"), 429,
                "Too many concurrent requests in flight (count: 2, allowed: 2).")
    api.refused(api.invoke("slow", timeout="50"), 429, "Too many concurrent requests in flight (count: 2, allowed: 2).")
    # The limit is per namespace.
    assert api.post("/namespaces/_/actions/slow", key=ALICE_KEY).status_code == 202
    api.runner.gate.set()
    for activation_id in (first, second):
        api.wait_for_activation(activation_id)
    deadline = time.monotonic() + 5
    while (response := api.invoke("slow")).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.005)  # the slot frees just after the record is stored
    assert response.status_code == 200
    assert len(api.runner.invoked("slow")) == 4  # refused ones never reached the invoker


def test_more_activations_per_minute_than_allowed_is_429(make_api) -> None:
    api = make_api(invocations_per_minute=2)
    api.create("echo")
    assert [api.invoke("echo").status_code for _ in range(2)] == [200, 200]
    api.refused(api.invoke("echo"), 429, "Too many requests in the last minute (count: 3, allowed: 2).")
    assert len(api.runner.calls) == 2
