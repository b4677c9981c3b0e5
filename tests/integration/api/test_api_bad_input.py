"""Malformed requests against a real `whiskrun serve`: each is refused with
OpenWhisk's status and a JSON body with both `error` and `code` (what `wsk`
needs to show the message), and the server keeps running actions afterwards.

Messages are checked for OpenWhisk's core sentence (`in`), not whole: the
exact wrapping (pekko's query-parameter and malformed-content prefixes) is
the unit tests' business (tests/unit/api)."""

import json
import re

import pytest

from tests.integration.invoker_support import ACTIVATION_ID

from .server_support import SAMPLES, ApiClient

pytestmark = pytest.mark.docker

ACTIONS = "/api/v1/namespaces/_/actions"
MALFORMED = "The request content was malformed:\n"
HELLO = (SAMPLES / "hello.py").read_text()


def refused(answer, status: int) -> str:
    """The error message of an OpenWhisk error body, after checking its shape."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error", "code"}, body
    assert isinstance(body["code"], str) and body["code"]
    return body["error"]


@pytest.fixture(scope="module")
def hello(api: ApiClient) -> str:
    answer = api.put(f"{ACTIONS}/hello?overwrite=true",
                     {"namespace": "_", "name": "hello", "exec": {"kind": "python:default", "code": HELLO}})
    assert answer.status_code == 200, answer.text
    return "hello"


def invoke_works(api: ApiClient, name: str = "hello") -> None:
    answer = api.post(f"{ACTIONS}/{name}?blocking=true&result=true", {"name": "after"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"greeting": "Hello after!"}


def test_bad_json(api, hello):
    for method in ("PUT", "POST"):
        answer = api.request(method, f"{ACTIONS}/hello?overwrite=true", data=b'{"exec": {"kind": ',
                             headers={"Content-Type": "application/json"})
        assert refused(answer, 400).startswith(MALFORMED)
    not_an_object = api.post(f"{ACTIONS}/hello?blocking=true", "just a string")
    assert refused(not_an_object, 400).startswith(MALFORMED)
    exec_not_an_object = api.put(f"{ACTIONS}/other?overwrite=true", {"exec": "python"})
    assert refused(exec_not_an_object, 400).startswith(MALFORMED)
    invoke_works(api)


@pytest.mark.parametrize("name", ["bad$name", "-dash-first", "x" * 257, "sp%20ace%20"])
def test_illegal_names(api, hello, name):
    answer = api.put(f"{ACTIONS}/{name}?overwrite=false", {"exec": {"kind": "python:default", "code": HELLO}})
    message = refused(answer, 400)
    if len(name) > 256:
        assert f"Name segement longer than allowed: {len(name)} > 256." in message  # sic, as OpenWhisk
    else:
        assert "The name of the entity contains illegal characters." in message
    assert api.get(f"{ACTIONS}?limit=0&skip=0").json()[0]["name"] == "hello"


def test_payload_over_one_megabyte(api, hello):
    big = {"name": "x" * (1024 * 1024)}
    answer = api.post(f"{ACTIONS}/hello?blocking=true&result=true", big)
    size = len(json.dumps(big))
    assert f"Request larger than allowed: {size} > 1048576 bytes." in refused(answer, 413)
    bound = api.put(f"{ACTIONS}/hello?overwrite=true",
                    {"parameters": [{"key": "name", "value": "y" * (1024 * 1024)}]})
    assert re.search(r"larger than allowed: \d+ > 1048576 bytes\.", refused(bound, 413))
    invoke_works(api)


def test_unknown_kind_and_bad_limits(api, hello):
    answer = api.put(f"{ACTIONS}/py27?overwrite=false", {"exec": {"kind": "python:2.7", "code": HELLO}})
    message = refused(answer, 400)
    assert message.startswith(MALFORMED + "The specified runtime 'python:2.7' is not supported by this "
                                          "platform. Valid values are: ")
    assert "'python:3.11'" in message and "'nodejs:18'" in message
    memory = api.put(f"{ACTIONS}/big?overwrite=false", {"exec": {"kind": "python:default", "code": HELLO},
                                                         "limits": {"memory": 1024}})
    assert "memory size 1024 MB exceeds allowed threshold of 512 MB" in refused(memory, 400)
    timeout = api.put(f"{ACTIONS}/quick?overwrite=false", {"exec": {"kind": "python:default", "code": HELLO},
                                                            "limits": {"timeout": 50}})
    assert "duration 50 milliseconds below allowed threshold of 100 milliseconds" in refused(timeout, 400)
    sequence = api.put(f"{ACTIONS}/seq?overwrite=false",
                       {"exec": {"kind": "sequence", "components": ["/_/missing"]}})
    assert "Sequence component does not exist." in refused(sequence, 400)
    listed = {a["name"] for a in api.get(f"{ACTIONS}?limit=0&skip=0").json()}
    assert listed == {"hello"}  # nothing refused was stored
    invoke_works(api)


def test_other_refusals(api, hello):
    exists = api.put(f"{ACTIONS}/hello?overwrite=false", {"exec": {"kind": "python:default", "code": HELLO}})
    assert "resource already exists" in refused(exists, 409)
    missing = api.post(f"{ACTIONS}/nothing-here?blocking=true", {})
    assert "The requested resource does not exist." in refused(missing, 404)
    no_key = api.get(f"{ACTIONS}?limit=30&skip=0", auth=False)
    assert refused(no_key, 401)
    assert no_key.headers["WWW-Authenticate"] == 'Basic realm="OpenWhisk secure realm"'
    wrong_key = api.request("GET", f"{ACTIONS}?limit=30&skip=0", auth=False,
                            headers={"Authorization": "Basic Z3Vlc3Q6d3Jvbmc="})
    assert "The supplied authentication is invalid" in refused(wrong_key, 401)
    other_namespace = api.get("/api/v1/namespaces/whisk.system/actions?limit=30&skip=0")
    assert refused(other_namespace, 403)
    bad_id = api.get("/api/v1/namespaces/_/activations/not-an-id")
    assert "Activation id length is 9 but must be 32." in refused(bad_id, 400)
    bad_limit = api.get("/api/v1/namespaces/_/activations?limit=201&skip=0")
    assert "The value '201' is not in the range of 0 to 200 for activations." in refused(bad_limit, 400)
    bad_timeout = api.post(f"{ACTIONS}/hello?blocking=true&timeout=abc", {})
    assert "Timeout must be number of milliseconds up to 60000." in refused(bad_timeout, 400)
    invoke_works(api)


def test_a_failing_action_answers_502_with_its_record(api, hello):
    code = "def main(args):\n    raise ValueError('no way')\n"
    created = api.put(f"{ACTIONS}/fails?overwrite=true", {"exec": {"kind": "python:3.11", "code": code}})
    assert created.status_code == 200, created.text
    answer = api.post(f"{ACTIONS}/fails?blocking=true&result=false", {})
    assert answer.status_code == 502
    record = answer.json()
    assert "code" not in record  # wsk reads a 502 without `code` as an application error
    assert ACTIVATION_ID.fullmatch(answer.headers["x-openwhisk-activation-id"])
    assert record["response"]["status"] == "application error" and record["response"]["success"] is False
    assert "no way" in record["response"]["result"]["error"]
    result_only = api.post(f"{ACTIONS}/fails?blocking=true&result=true", {})
    assert result_only.status_code == 502 and "no way" in result_only.json()["error"]
    invoke_works(api)
