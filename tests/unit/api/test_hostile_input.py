"""Input that once made the server answer 500 or store what it could not
answer again (issue 12's list): each is now a 400 with OpenWhisk's
`{error, code}` body and a sentence saying what is wrong, nothing is stored,
and the server goes on serving."""

import pytest

from tests.unit.api.conftest import ECHO, Api
from whiskrun.api import messages

INVOKE = "/namespaces/_/actions/echo?blocking=true"
EXEC = b'{"exec":{"kind":"python:3.11","code":"x"}'


@pytest.mark.parametrize(("body", "message"), [
    (b"[1,2]", messages.malformed(messages.JSON_OBJECT_EXPECTED)),
    (b'{"a":"\\ud800"}', messages.malformed(messages.LONE_SURROGATE)),
    (b'{"a":"\\uDFFF and more"}', messages.malformed(messages.LONE_SURROGATE)),
    (b"[" * 5000 + b"]" * 5000, messages.malformed(messages.JSON_TOO_DEEP)),
    (b'{"a": 1e999}', None),
    (b'{"a": -1e400}', None),
    (b'{"a": ' + b"9" * 400 + b"}", None),
])
def test_bad_invoke_bodies_are_400(api: Api, body: bytes, message: str | None) -> None:
    api.create("echo")
    response = api.request("POST", INVOKE, data=body, content_type="application/json")
    if message is None:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "outside the range of a JSON number" in response.get_json()["error"]
        api.still_serving()
    else:
        api.refused(response, 400, message)
    assert api.runner.invoked("echo") == []


def test_a_surrogate_pair_is_fine(api: Api) -> None:
    api.create("echo")
    response = api.request("POST", INVOKE, data=b'{"a":"\\ud83d\\ude00"}', content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["response"]["result"] == {"a": "\U0001F600"}


@pytest.mark.parametrize("query", [
    "skip=99999999999999999999999", "limit=99999999999999999999999", "skip=2147483648",
])
def test_list_numbers_past_an_int_are_400(api: Api, query: str) -> None:
    name, _, value = query.partition("=")
    for collection in ("actions", "activations", "packages", "triggers", "rules"):
        response = api.get(f"/namespaces/_/{collection}?{query}")
        api.refused(response, 400, messages.malformed_query(name, messages.argument_not_integer(collection, value)))


@pytest.mark.parametrize("parameter", ["since", "upto"])
def test_epochs_past_a_long_are_400(api: Api, parameter: str) -> None:
    value = "9" * 25
    api.refused(api.get(f"/namespaces/_/activations?{parameter}={value}"), 400,
                messages.malformed_query(parameter, messages.bad_epoch(value)))


@pytest.mark.parametrize(("extra", "fragment"), [
    (b',"limits":{"memory":1e400}', "outside the range of a JSON number"),
    (b',"limits":{"memory":' + b"9" * 300 + b"}", "exceeds allowed threshold"),
    (b',"parameters":[{"key":"a","value":1e999}]', "outside the range of a JSON number"),
    (b',"version":"' + b"9" * 5000 + b'.0.0"', messages.SEMVER_MALFORMED),
    (b',"version":"2147483648.0.0"', messages.SEMVER_MALFORMED),
])
def test_bad_numbers_in_an_action_are_400_and_store_nothing(api: Api, extra: bytes, fragment: str) -> None:
    response = api.request("PUT", "/namespaces/_/actions/x", data=EXEC + extra + b"}",
                           content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert fragment in response.get_json()["error"], response.get_json()
    assert api.get("/namespaces/_/actions/x").status_code == 404
    listed = api.get("/namespaces/_/actions")
    assert listed.status_code == 200 and listed.get_json() == []


def test_a_version_within_an_int_is_kept_and_updates_still_work(api: Api) -> None:
    made = api.request("PUT", "/namespaces/_/actions/x", data=EXEC + b',"version":"2147483646.0.0"}',
                       content_type="application/json")
    assert made.status_code == 200 and made.get_json()["version"] == "2147483646.0.0"
    updated = api.put("/namespaces/_/actions/x", query_string={"overwrite": "true"},
                      json={"exec": {"kind": "python:3.11", "code": ECHO}})
    assert updated.status_code == 200 and updated.get_json()["version"] == "2147483646.0.1"


def test_bad_web_action_json_bodies_are_400(api: Api) -> None:
    api.create("web", annotations=[{"key": "web-export", "value": True}])
    response = api.client.post("/api/v1/web/guest/default/web.json", data=b'{"a": 1e999}',
                               content_type="application/json")
    assert response.status_code == 400
    assert "outside the range of a JSON number" in response.get_json()["error"]
