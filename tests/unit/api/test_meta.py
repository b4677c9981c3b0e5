"""What needs no entity: info documents, namespaces, limits; authentication,
namespace isolation, CORS, and a crashing route."""

import base64

import pytest

from tests.unit.api.conftest import ALICE_KEY, ECHO, Api
from whiskrun.api import messages
from whiskrun.api.config import GUEST_KEY

CHALLENGE = 'Basic realm="OpenWhisk secure realm"'


def test_controller_info_needs_no_key_and_lists_runtimes_and_limits(api: Api) -> None:
    response = api.get("/", key=None)
    assert response.status_code == 200
    info = response.get_json()
    assert info["description"] == "OpenWhisk"
    assert info["api_paths"] == ["/api/v1"]
    assert info["limits"] == {
        "actions_per_minute": 0, "concurrent_actions": 30, "sequence_length": 50,
        "min_action_duration": 100, "max_action_duration": 300000,
        "min_action_memory": 128 * 1024 * 1024, "max_action_memory": 512 * 1024 * 1024,
        "min_action_logs": 0, "max_action_logs": 10 * 1024 * 1024,
    }
    runtimes = info["runtimes"]
    assert set(runtimes) == {"python", "nodejs", "blackbox"}
    assert [(r["kind"], r["default"], r["deprecated"]) for r in runtimes["python"]] == [("python:3.11", True, False)]
    assert [r["kind"] for r in runtimes["nodejs"]] == ["nodejs:18"]
    assert runtimes["blackbox"][0]["attached"] is False


@pytest.mark.parametrize("path", ["/api/v1", "/api/v1/"])
def test_api_info_needs_no_key(api: Api, path: str) -> None:
    response = api.get(path, key=None)
    assert response.status_code == 200
    info = response.get_json()
    assert (info["description"], info["api_version"], info["api_version_path"]) == ("OpenWhisk API", "1.0.0", "v1")
    assert info["build"].startswith("whiskrun ")


def test_namespaces_lists_the_callers_namespace_only(api: Api) -> None:
    assert api.get("/namespaces").get_json() == ["guest"]
    assert api.get("/namespaces", key=ALICE_KEY).get_json() == ["alice"]


@pytest.mark.parametrize("namespace", ["_", "guest"])
def test_limits_are_the_configured_ranges(api: Api, namespace: str) -> None:
    response = api.get(f"/namespaces/{namespace}/limits")
    assert response.status_code == 200
    assert response.get_json() == {
        "invocationsPerMinute": 0, "concurrentInvocations": 30, "firesPerMinute": 0,
        # OpenWhisk's units (Limits.scala): memory and logs in MB, the parameter size as a ByteSize string.
        "minActionMemory": 128, "maxActionMemory": 512, "minActionLogs": 0, "maxActionLogs": 10,
        "minActionTimeout": 100, "maxActionTimeout": 300000,
        "minActionConcurrency": 1, "maxActionConcurrency": 500, "maxParameterSize": "1048576 B",
        "maxActionInstances": 30,
    }


def test_limits_follow_the_configuration(make_api) -> None:
    api = make_api(concurrent_invocations=3, memory_mb=(128, 256, 1024))
    limits = api.get("/namespaces/_/limits").get_json()
    assert (limits["concurrentInvocations"], limits["maxActionMemory"], limits["maxActionInstances"]) == (3, 1024, 3)


# Authentication.

@pytest.mark.parametrize("path", ["/namespaces", "/namespaces/_/actions", "/namespaces/_/actions/x",
                                  "/namespaces/_/activations", "/namespaces/_/packages", "/namespaces/_/limits"])
def test_no_credentials_is_401_with_a_basic_challenge(api: Api, path: str) -> None:
    response = api.get(path, key=None)
    api.refused(response, 401, messages.AUTH_MISSING)
    assert response.headers["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("authorization", [
    "Basic " + base64.b64encode(GUEST_KEY.split(":")[0].encode() + b":wrongsecret").decode(),  # known uuid
    "Basic " + base64.b64encode(b"11111111-2222-3333-4444-555555555555:secret").decode(),  # unknown uuid
    "Basic " + base64.b64encode(b"no-colon-at-all").decode(),
    "Basic !!!not base64!!!",
    "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),  # not UTF-8
    "Bearer " + GUEST_KEY,  # a scheme other than Basic: credentials, but not valid ones
])
def test_invalid_credentials_are_401(api: Api, authorization: str) -> None:
    response = api.get("/namespaces/_/actions", key=None, headers={"Authorization": authorization})
    api.refused(response, 401, messages.AUTH_INVALID)
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_the_uuid_of_one_key_with_the_secret_of_another_is_refused(api: Api) -> None:
    mixed = GUEST_KEY.split(":")[0] + ":" + ALICE_KEY.split(":")[1]
    api.refused(api.get("/namespaces", key=mixed), 401, messages.AUTH_INVALID)


@pytest.mark.parametrize("method, path", [
    ("GET", "/namespaces/alice/actions"),
    ("GET", "/namespaces/alice/actions/hello"),
    ("PUT", "/namespaces/alice/actions/hello"),
    ("DELETE", "/namespaces/alice/actions/hello"),
    ("POST", "/namespaces/alice/actions/hello"),
    ("GET", "/namespaces/alice/activations"),
    ("GET", "/namespaces/alice/activations/" + "a" * 32),
    ("GET", "/namespaces/alice/packages/p"),  # listing alice's packages shows her published ones
    ("PUT", "/namespaces/alice/packages/p"),
    ("DELETE", "/namespaces/alice/packages/p"),
    ("PUT", "/namespaces/alice/triggers/t"),
    ("POST", "/namespaces/alice/rules/r"),
    ("GET", "/namespaces/alice/limits"),
    ("GET", "/namespaces/alice/triggers"),
    ("GET", "/namespaces/nobody/actions"),
])
def test_another_namespace_in_the_url_is_403(api: Api, method: str, path: str) -> None:
    api.create("hello", key=ALICE_KEY)
    body = {"exec": {"kind": "python:3.11", "code": ECHO}}
    api.refused(api.request(method, path, json=body), 403, messages.NOT_AUTHORIZED)
    # Nothing of alice's changed.
    assert api.get("/namespaces/_/actions/hello", key=ALICE_KEY).get_json()["version"] == "0.0.1"


def test_the_callers_own_name_works_like_underscore(api: Api) -> None:
    api.create("hello")
    assert api.get("/namespaces/guest/actions/hello").status_code == 200
    assert api.get("/namespaces/alice/actions/hello", key=ALICE_KEY).status_code == 404


def test_a_namespace_sees_nothing_of_another(api: Api) -> None:
    api.create("hello")
    api.package("utils")
    invoked = api.invoke("hello", {"x": 1})
    assert invoked.status_code == 200
    activation_id = invoked.get_json()["activationId"]

    api.refused(api.get("/namespaces/_/actions/hello", key=ALICE_KEY), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.invoke("hello", key=ALICE_KEY), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.delete("/namespaces/_/actions/hello", key=ALICE_KEY), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.get(f"/namespaces/_/activations/{activation_id}", key=ALICE_KEY), 404,
                messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.get(f"/namespaces/_/activations/{activation_id}/result", key=ALICE_KEY), 404,
                messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.get("/namespaces/_/packages/utils", key=ALICE_KEY), 404, messages.RESOURCE_DOES_NOT_EXIST)
    for collection in ("actions", "activations", "packages"):
        response = api.get(f"/namespaces/_/{collection}", key=ALICE_KEY)
        assert (response.status_code, response.get_json()) == (200, [])
    assert api.get("/namespaces/_/actions", key=ALICE_KEY, query_string={"count": "true"}).get_json() == {"actions": 0}
    assert api.get("/namespaces/_/activations", key=ALICE_KEY,
                   query_string={"count": "true"}).get_json() == {"activations": 0}

    # The same name in alice's namespace is alice's own action.
    api.create("hello", key=ALICE_KEY, parameters=[{"key": "owner", "value": "alice"}])
    assert api.invoke("hello", key=ALICE_KEY, result="true").get_json() == {"owner": "alice"}
    assert api.invoke("hello", {"x": 2}, result="true").get_json() == {"x": 2}
    assert api.activation(activation_id)["namespace"] == "guest"


# CORS and robustness.

@pytest.mark.parametrize("path", ["/api/v1/namespaces/_/actions/hello", "/api/v1/namespaces/_/activations", "/"])
def test_preflight_needs_no_key_and_allows_any_origin(api: Api, path: str) -> None:
    response = api.request("OPTIONS", path, key=None)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, DELETE, POST, PUT, HEAD"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_every_answer_allows_any_origin(api: Api) -> None:
    assert api.get("/namespaces").headers["Access-Control-Allow-Origin"] == "*"
    assert api.get("/namespaces", key=None).headers["Access-Control-Allow-Origin"] == "*"


def test_a_method_a_collection_does_not_have_is_405(api: Api) -> None:
    response = api.request("PATCH", "/namespaces/_/actions/hello")
    body = response.get_json()
    assert response.status_code == 405
    assert body["error"].startswith(messages.METHOD_NOT_ALLOWED) and "PUT" in body["error"]
    assert set(body) == {"error", "code"}
    api.still_serving()


def test_a_failing_route_answers_500_with_a_transaction_id_and_the_server_keeps_serving(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api.services.catalog, "list_actions", broken)
    api.refused(api.get("/namespaces/_/actions"), 500,
                "The server failed on this request (RuntimeError); it keeps serving others. The server's log "
                "has the details.")
    assert "disk on fire" in caplog.text
    monkeypatch.undo()
    api.create("after")
    assert api.names() == ["after"]
