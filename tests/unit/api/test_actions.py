"""``/namespaces/{ns}/actions``: create, update, get, list, delete, and every refusal
of a PUT with OpenWhisk's status and message (Actions.scala, WhiskAction.scala,
Exec.scala, the limits' serdes)."""

import base64
import json
import time
from typing import Any

import pytest

from tests.unit.api.conftest import DEFAULT_LIMITS, ECHO, Api
from whiskrun.api import messages

PY = "python:3.11"
MALFORMED = "The request content was malformed:\n"
VALID = "Valid values are: 'python:3.11', 'nodejs:18', 'blackbox', 'sequence'."


def now_ms() -> int:
    return int(time.time() * 1000)


def without_updated(doc: dict[str, Any]) -> dict[str, Any]:
    assert abs(doc["updated"] - now_ms()) < 60_000
    return {k: v for k, v in doc.items() if k != "updated"}


# Create.

def test_create_answers_the_stored_action(api: Api) -> None:
    response = api.put("/namespaces/_/actions/hello", json={"exec": {"kind": "python:default", "code": ECHO}})
    assert response.status_code == 200
    assert without_updated(response.get_json()) == {
        "namespace": "guest", "name": "hello", "version": "0.0.1", "publish": False,
        "exec": {"kind": PY, "code": ECHO, "binary": False},
        "annotations": [{"key": "provide-api-key", "value": False}, {"key": "exec", "value": PY}],
        "parameters": [], "limits": DEFAULT_LIMITS,
    }
    assert api.get("/namespaces/_/actions/hello").get_json() == response.get_json()


def test_create_keeps_what_the_body_gives(api: Api) -> None:
    doc = api.create("full", kind=" NodeJS:Default ", version="2.0.0", publish=True,
                     parameters=[{"key": "a", "value": 1}, {"key": "secret", "value": "s", "init": True}],
                     annotations=[{"key": "web-export", "value": True}, {"key": "provide-api-key", "value": True}],
                     limits={"timeout": 1000, "memory": 512, "logs": 0, "concurrency": 200})
    assert without_updated(doc) == {
        "namespace": "guest", "name": "full", "version": "2.0.0", "publish": True,
        "exec": {"kind": "nodejs:18", "code": ECHO, "binary": False},
        "annotations": [{"key": "web-export", "value": True}, {"key": "provide-api-key", "value": True},
                        {"key": "exec", "value": "nodejs:18"}],
        "parameters": [{"key": "a", "value": 1}, {"key": "secret", "value": "s", "init": True}],
        "limits": {"timeout": 1000, "memory": 512, "logs": 0, "concurrency": 200},
    }


def test_create_ignores_unknown_fields_and_the_clients_binary_flag(api: Api) -> None:
    response = api.put("/namespaces/_/actions/hello", json={
        "name": "other", "namespace": "elsewhere", "exec": {"kind": PY, "code": ECHO, "binary": True}})
    doc = response.get_json()
    assert (doc["name"], doc["namespace"], doc["exec"]["binary"]) == ("hello", "guest", False)


@pytest.mark.parametrize("code, binary", [
    (base64.b64encode(b"PK\x03\x04 a zip archive").decode(), True),
    ("  " + base64.b64encode(b"abc").decode() + "\n", True),  # trimmed before the check
    ("UEsDBA=", False),  # length not a multiple of 4
    (ECHO, False),
])
def test_binary_is_computed_from_the_code(api: Api, code: str, binary: bool) -> None:
    assert api.create("hello", code)["exec"]["binary"] is binary


def test_main_is_kept(api: Api) -> None:
    response = api.put("/namespaces/_/actions/hello", json={"exec": {"kind": PY, "code": ECHO, "main": "handler"}})
    assert response.get_json()["exec"] == {"kind": PY, "code": ECHO, "main": "handler", "binary": False}


def test_blackbox_keeps_its_image(api: Api) -> None:
    response = api.put("/namespaces/_/actions/box", json={"exec": {"kind": "blackbox", "image": "me/img:1"}})
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["exec"] == {"kind": "blackbox", "image": "me/img:1", "binary": False}
    assert doc["annotations"][-1] == {"key": "exec", "value": "blackbox"}


def test_an_existing_name_is_409_without_overwrite(api: Api) -> None:
    first = api.create("hello")
    for query in ({}, {"overwrite": "false"}):
        api.refused(api.put("/namespaces/_/actions/hello", query_string=query,
                            json={"exec": {"kind": PY, "code": "changed"}}), 409, messages.RESOURCE_EXISTS)
    assert api.get("/namespaces/_/actions/hello").get_json() == first


def test_a_name_taken_by_a_package_is_409(api: Api) -> None:
    api.package("utils")
    api.refused(api.put("/namespaces/_/actions/utils", json={"exec": {"kind": PY, "code": ECHO}}), 409,
                messages.NOT_IN_COLLECTION)
    api.refused(api.get("/namespaces/_/actions/utils"), 409, messages.NOT_IN_COLLECTION)


# Update.

def test_update_merges_as_openwhisk_does(api: Api) -> None:
    api.create("hello", parameters=[{"key": "a", "value": 1}],
               annotations=[{"key": "x", "value": 1}, {"key": "y", "value": 2}], limits={"timeout": 1000})

    # No exec: the code stays. No parameters: they stay. Limits merge per field.
    update = {"limits": {"memory": 512}, "annotations": [{"key": "y", "value": 3}, {"key": "z", "value": 4}],
              "delAnnotations": ["x", "not-there"]}
    response = api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"}, json=update)
    assert response.status_code == 200
    assert without_updated(response.get_json()) == {
        "namespace": "guest", "name": "hello", "version": "0.0.2", "publish": False,
        "exec": {"kind": PY, "code": ECHO, "binary": False},
        "annotations": [{"key": "y", "value": 3}, {"key": "provide-api-key", "value": False},
                        {"key": "exec", "value": PY}, {"key": "z", "value": 4}],
        "parameters": [{"key": "a", "value": 1}],
        "limits": {"timeout": 1000, "memory": 512, "logs": 10, "concurrency": 1},
    }

    # Parameters given replace the old ones; a metadata-only update still bumps the patch.
    doc = api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                  json={"parameters": [{"key": "b", "value": 2}], "publish": True}).get_json()
    assert (doc["version"], doc["parameters"], doc["publish"]) == ("0.0.3", [{"key": "b", "value": 2}], True)

    # A new exec replaces the code and the exec annotation; an empty body only bumps the version.
    doc = api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                  json={"exec": {"kind": "nodejs:default", "code": "function main(a) { return a }"}}).get_json()
    assert doc["exec"] == {"kind": "nodejs:18", "code": "function main(a) { return a }", "binary": False}
    assert [a for a in doc["annotations"] if a["key"] == "exec"] == [{"key": "exec", "value": "nodejs:18"}]
    assert doc["version"] == "0.0.4"
    assert api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                   json={}).get_json()["version"] == "0.0.5"

    # A version in the body wins.
    assert api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                   json={"version": "1.2.3"}).get_json()["version"] == "1.2.3"
    assert api.get("/namespaces/_/actions/hello").get_json()["version"] == "1.2.3"


def test_update_does_not_add_provide_api_key(api: Api) -> None:
    api.create("hello", annotations=[{"key": "provide-api-key", "value": True}])
    doc = api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                  json={"delAnnotations": ["provide-api-key"]}).get_json()
    assert doc["annotations"] == [{"key": "exec", "value": PY}]


def test_overwrite_creates_an_absent_action(api: Api) -> None:
    response = api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                       json={"exec": {"kind": PY, "code": ECHO}})
    assert response.status_code == 200
    assert response.get_json()["version"] == "0.0.1"
    assert {"key": "provide-api-key", "value": False} in response.get_json()["annotations"]


# Get, list, delete.

def test_get_with_and_without_code(api: Api) -> None:
    created = api.create("hello", parameters=[{"key": "a", "value": 1}])
    assert api.get("/namespaces/_/actions/hello").get_json() == created
    assert api.get("/namespaces/_/actions/hello", query_string={"code": "true"}).get_json() == created
    response = api.get("/namespaces/_/actions/hello", query_string={"code": "false"})
    assert response.status_code == 200
    assert response.get_json() == {**created, "exec": {"kind": PY, "binary": False}}


def test_get_of_a_missing_action_is_404(api: Api) -> None:
    api.refused(api.get("/namespaces/_/actions/nothing"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.get("/namespaces/_/actions/nopkg/nothing"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def make_three(api: Api) -> None:
    for name in ("first", "second", "third"):
        api.create(name, parameters=[{"key": "p", "value": name}])
        time.sleep(0.002)  # distinct `updated` times


def test_list_is_newest_first_with_summaries(api: Api) -> None:
    make_three(api)
    response = api.get("/namespaces/_/actions")
    assert response.status_code == 200
    entries = response.get_json()
    assert [e["name"] for e in entries] == ["third", "second", "first"]
    for entry in entries:
        assert set(entry) == {"namespace", "name", "version", "publish", "annotations", "limits", "exec", "updated"}
        assert entry["exec"] == {"binary": False}  # no code, no parameters
        assert (entry["namespace"], entry["version"], entry["limits"]) == ("guest", "0.0.1", DEFAULT_LIMITS)
    assert api.names("/namespaces/guest/actions/") == ["third", "second", "first"]


def test_list_follows_updates(api: Api) -> None:
    make_three(api)
    api.put("/namespaces/_/actions/first", query_string={"overwrite": "true"}, json={})
    assert api.names() == ["first", "third", "second"]


@pytest.mark.parametrize("query, names", [
    ({"limit": "2"}, ["third", "second"]),
    ({"limit": "1", "skip": "1"}, ["second"]),
    ({"skip": "2"}, ["first"]),
    ({"skip": "3"}, []),
    ({"limit": "0"}, ["third", "second", "first"]),  # 0: the maximum
    ({"limit": "200", "skip": "0"}, ["third", "second", "first"]),
])
def test_list_paging(api: Api, query: dict[str, str], names: list[str]) -> None:
    make_three(api)
    assert api.names(**query) == names


def test_list_page_defaults_to_30(api: Api) -> None:
    for index in range(32):
        api.put(f"/namespaces/_/actions/a{index}", json={"exec": {"kind": PY, "code": ECHO}})
    assert len(api.names()) == 30
    assert len(api.names(limit="0")) == 32


def test_count(api: Api) -> None:
    assert api.get("/namespaces/_/actions", query_string={"count": "true"}).get_json() == {"actions": 0}
    make_three(api)
    response = api.get("/namespaces/_/actions", query_string={"count": "true"})
    assert (response.status_code, response.get_json()) == (200, {"actions": 3})


@pytest.mark.parametrize("collection", ["actions", "packages", "activations"])
@pytest.mark.parametrize("query, message", [
    ({"limit": "201"}, "The query parameter 'limit' was malformed:\nThe value '201' is not in the range of 0 to 200 "
                       "for {c}."),
    ({"limit": "-1"}, "The query parameter 'limit' was malformed:\nThe value '-1' is not in the range of 0 to 200 "
                      "for {c}."),
    ({"limit": "ten"}, "The query parameter 'limit' was malformed:\nThe value 'ten' is not an integer for {c}."),
    ({"skip": "-1"}, "The query parameter 'skip' was malformed:\nThe value '-1' is not greater than or equal to 0 "
                     "for {c}."),
    ({"skip": "1.5"}, "The query parameter 'skip' was malformed:\nThe value '1.5' is not an integer for {c}."),
])
def test_paging_errors(api: Api, collection: str, query: dict[str, str], message: str) -> None:
    api.refused(api.get(f"/namespaces/_/{collection}", query_string=query), 400, message.format(c=collection))


def test_delete_answers_the_deleted_action(api: Api) -> None:
    created = api.create("hello")
    response = api.delete("/namespaces/_/actions/hello")
    assert (response.status_code, response.get_json()) == (200, created)
    api.refused(api.get("/namespaces/_/actions/hello"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.delete("/namespaces/_/actions/hello"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    assert api.names() == []
    # The name is free again, and starts over at 0.0.1.
    assert api.create("hello")["version"] == "0.0.1"


# Refusals of a PUT: nothing is stored after any of them.

EXEC = {"kind": PY, "code": ECHO}
REFUSED_PUTS = [
    # exec
    ({}, 400, "exec undefined"),
    ({"exec": "python"}, 400, MALFORMED + "JSON object expected"),
    ({"exec": [EXEC]}, 400, MALFORMED + "JSON object expected"),
    ({"exec": {"code": ECHO}}, 400, MALFORMED + "'kind' must be a string defined in 'exec'"),
    ({"exec": {"kind": 3, "code": ECHO}}, 400, MALFORMED + "'kind' must be a string defined in 'exec'"),
    ({"exec": {"kind": PY}}, 400, MALFORMED + "'code' must be a string defined in 'exec' for 'python:3.11' actions"),
    ({"exec": {"kind": "python:default", "code": 5}}, 400,
     MALFORMED + "'code' must be a string defined in 'exec' for 'python:default' actions"),
    ({"exec": {"kind": PY, "code": ECHO, "main": 7}}, 400,
     MALFORMED + "if defined, 'main' be a string in 'exec' for 'python:3.11' actions"),
    ({"exec": {"kind": "blackbox"}}, 400,
     MALFORMED + "'image' must be a string defined in 'exec' for 'blackbox' actions"),
    ({"exec": {"kind": "blackbox", "image": 1}}, 400,
     MALFORMED + "'image' must be a string defined in 'exec' for 'blackbox' actions"),
    ({"exec": {"kind": " COBOL:85 ", "code": ECHO}}, 400,  # trimmed and lower-cased first
     MALFORMED + "The specified runtime 'cobol:85' is not supported by this platform. " + VALID),
    ({"exec": {"kind": "python:2.7", "code": ECHO}}, 400,
     MALFORMED + "The specified runtime 'python:2.7' is not supported by this platform. " + VALID),
    # parameters and annotations
    ({"exec": EXEC, "parameters": {"a": 1}}, 400, MALFORMED + "parameters malformed!"),
    ({"exec": EXEC, "parameters": [{"key": "a"}]}, 400, MALFORMED + "parameters malformed!"),
    ({"exec": EXEC, "parameters": [{"key": 1, "value": 1}]}, 400, MALFORMED + "parameters malformed!"),
    ({"exec": EXEC, "parameters": ["a"]}, 400, MALFORMED + "parameters malformed!"),
    ({"exec": EXEC, "annotations": {"web-export": True}}, 400, MALFORMED + "parameters malformed!"),
    # limits: types
    ({"exec": EXEC, "limits": "big"}, 400, MALFORMED + "'limits' must be a JSON object, not a string."),
    ({"exec": EXEC, "limits": {"timeout": 1000.5}}, 400,
     MALFORMED + "requirement failed: time limit must be whole number"),
    ({"exec": EXEC, "limits": {"timeout": "1000"}}, 400, MALFORMED + "time limit malformed"),
    ({"exec": EXEC, "limits": {"memory": 256.5}}, 400,
     MALFORMED + "requirement failed: memory limit must be whole number"),
    ({"exec": EXEC, "limits": {"memory": True}}, 400, MALFORMED + "memory limit malformed"),
    ({"exec": EXEC, "limits": {"logs": 1.5}}, 400, MALFORMED + "requirement failed: log limit must be whole number"),
    ({"exec": EXEC, "limits": {"logs": None}}, 400, MALFORMED + "log limit malformed"),
    ({"exec": EXEC, "limits": {"concurrency": 2.5}}, 400,
     MALFORMED + "requirement failed: intra concurrency limit must be whole number"),
    ({"exec": EXEC, "limits": {"concurrency": [2]}}, 400, MALFORMED + "concurrency limit malformed"),
    # limits: ranges (OpenWhisk checks the maximum first)
    ({"exec": EXEC, "limits": {"timeout": 99}}, 400,
     "requirement failed: duration 99 milliseconds below allowed threshold of 100 milliseconds"),
    ({"exec": EXEC, "limits": {"timeout": 300001}}, 400,
     "requirement failed: duration 300001 milliseconds exceeds allowed threshold of 300000 milliseconds"),
    ({"exec": EXEC, "limits": {"memory": 127}}, 400,
     "requirement failed: memory size 127 MB below allowed threshold of 128 MB"),
    ({"exec": EXEC, "limits": {"memory": 513}}, 400,
     "requirement failed: memory size 513 MB exceeds allowed threshold of 512 MB"),
    ({"exec": EXEC, "limits": {"logs": 11}}, 400,
     "requirement failed: log size 11 MB exceeds allowed threshold of 10 MB"),
    ({"exec": EXEC, "limits": {"concurrency": 0}}, 400,
     "requirement failed: concurrency 0 below allowed threshold of 1"),
    ({"exec": EXEC, "limits": {"concurrency": 501}}, 400,
     "requirement failed: concurrency 501 exceeds allowed threshold of 500"),
    # publish, version
    ({"exec": EXEC, "publish": "yes"}, 400, MALFORMED + 'Expected JsBoolean as JsBoolean, but got "yes"'),
    ({"exec": EXEC, "publish": 1}, 400, MALFORMED + "Expected JsBoolean as JsBoolean, but got 1"),
    ({"exec": EXEC, "version": "1.0"}, 400, MALFORMED + "semantic version malformed"),
    ({"exec": EXEC, "version": "01.0.0"}, 400, MALFORMED + "semantic version malformed"),
    ({"exec": EXEC, "version": 1}, 400, MALFORMED + "semantic version malformed"),
]


@pytest.mark.parametrize("body, status, message", REFUSED_PUTS)
def test_a_refused_create_stores_nothing(api: Api, body: dict[str, Any], status: int, message: str) -> None:
    api.refused(api.put("/namespaces/_/actions/hello", json=body), status, message)
    api.refused(api.get("/namespaces/_/actions/hello"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    assert api.names() == []


@pytest.mark.parametrize("body, status, message", [case for case in REFUSED_PUTS if case[0]])
def test_a_refused_update_changes_nothing(api: Api, body: dict[str, Any], status: int, message: str) -> None:
    created = api.create("hello")
    api.refused(api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"}, json=body),
                status, message)
    assert api.get("/namespaces/_/actions/hello").get_json() == created


def test_the_lower_end_of_the_log_limit(make_api) -> None:
    api = make_api(logs_mb=(1, 10, 10))
    api.refused(api.put("/namespaces/_/actions/hello", json={"exec": EXEC, "limits": {"logs": 0}}), 400,
                "requirement failed: log size 0 MB below allowed threshold of 1 MB")
    assert api.names() == []


@pytest.mark.parametrize("limits", [{"timeout": 100}, {"timeout": 300000}, {"memory": 128}, {"memory": 512},
                                    {"logs": 0}, {"logs": 10}, {"concurrency": 1}, {"concurrency": 500},
                                    {"timeout": 1000.0}])
def test_limits_at_both_ends_of_their_range_are_accepted(api: Api, limits: dict[str, int]) -> None:
    doc = api.create("hello", limits=limits)
    assert doc["limits"] == {**DEFAULT_LIMITS, **{k: int(v) for k, v in limits.items()}}


@pytest.mark.parametrize("body", ["{not json", '{"exec": ', "\xff",
                                  '{"exec": {"kind": "python:3.11", "code": "x"}, "limits": {"timeout": Infinity}}',
                                  '{"exec": {"kind": "python:3.11", "code": "x"}, "limits": {"memory": NaN}}'])
def test_malformed_json_is_400(api: Api, body: str) -> None:
    response = api.put("/namespaces/_/actions/hello", data=body.encode("latin-1"), content_type="application/json")
    error = response.get_json()
    assert response.status_code == 400
    assert error["error"].startswith(MALFORMED) and set(error) == {"error", "code"}
    api.still_serving()
    assert api.names() == []


@pytest.mark.parametrize("body", ["[]", '"hello"', "3", "null"])
def test_a_body_that_is_not_an_object_is_400(api: Api, body: str) -> None:
    response = api.put("/namespaces/_/actions/hello", data=body, content_type="application/json")
    error = response.get_json()
    assert response.status_code == 400 and error["error"].startswith(MALFORMED), error
    api.still_serving()
    assert api.names() == []


@pytest.mark.parametrize("name, message", [
    ("bad$name", messages.ENTITY_NAME_ILLEGAL),
    ("-leading-dash", messages.ENTITY_NAME_ILLEGAL),
    ("trailing%20", messages.ENTITY_NAME_ILLEGAL),
    ("%20leading", messages.ENTITY_NAME_ILLEGAL),
    ("sem;colon", messages.ENTITY_NAME_ILLEGAL),
    ("caf%C3%A9", messages.ENTITY_NAME_ILLEGAL),  # \w is ASCII in OpenWhisk's pattern
    ("a" * 257, "Name segement longer than allowed: 257 > 256."),
    ("pkg/bad$name", messages.ENTITY_NAME_ILLEGAL),
])
@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE", "POST"])
def test_illegal_names_are_400(api: Api, name: str, message: str, method: str) -> None:
    api.package("pkg")
    response = api.request(method, f"/namespaces/_/actions/{name}", json={"exec": EXEC})
    api.refused(response, 400, message)
    assert api.names() == []


@pytest.mark.parametrize("name", ["a", "A_b-c.d@e&f g", "x" * 256, "9lives", "trailing-", "_"])
def test_legal_names(api: Api, name: str) -> None:
    assert api.create(name.replace(" ", "%20"))["name"] == name


def test_an_action_in_a_missing_package_is_404(api: Api) -> None:
    api.refused(api.put("/namespaces/_/actions/nopkg/hello", json={"exec": EXEC}), 404,
                messages.RESOURCE_DOES_NOT_EXIST)


# Sizes (small limits so that the tests stay fast).

def test_code_over_the_exec_limit_is_413(make_api) -> None:
    api = make_api(code_bytes=2000, payload_bytes=1000)
    api.refused(api.put("/namespaces/_/actions/hello", json={"exec": {"kind": PY, "code": "#" * 2001}}), 413,
                "exec larger than allowed: 2001 > 2000 bytes.")
    # OpenWhisk counts the entry point with the code (Exec.size).
    api.refused(api.put("/namespaces/_/actions/hello", json={"exec": {"kind": PY, "code": "#" * 1995,
                                                                      "main": "handler"}}), 413,
                "exec larger than allowed: 2002 > 2000 bytes.")
    assert api.names() == []
    assert api.create("hello", "#" * 2000)["exec"]["code"] == "#" * 2000


def test_parameters_and_annotations_over_the_limit_are_413(make_api) -> None:
    api = make_api(code_bytes=2000, payload_bytes=1000)
    big = [{"key": "big", "value": "x" * 998}]  # 3 bytes of key + 1000 of JSON value ("x...x")
    api.refused(api.put("/namespaces/_/actions/hello", json={"exec": EXEC, "parameters": big}), 413,
                "parameters larger than allowed: 1003 > 1000 bytes.")
    api.refused(api.put("/namespaces/_/actions/hello", json={"exec": EXEC, "annotations": big}), 413,
                "annotations larger than allowed: 1003 > 1000 bytes.")
    assert api.names() == []
    fits = [{"key": "big", "value": "x" * 995}]
    assert api.create("hello", parameters=fits, annotations=fits)["parameters"] == fits


def test_update_refused_for_size_keeps_the_action(make_api) -> None:
    api = make_api(code_bytes=2000, payload_bytes=1000)
    created = api.create("hello")
    api.refused(api.put("/namespaces/_/actions/hello", query_string={"overwrite": "true"},
                        json={"exec": {"kind": PY, "code": "#" * 2001}}), 413,
                "exec larger than allowed: 2001 > 2000 bytes.")
    assert api.get("/namespaces/_/actions/hello").get_json() == created


def test_the_action_document_survives_a_json_round_trip(api: Api) -> None:
    unicode = {"key": "greeting", "value": "héllo ✓"}
    doc = api.create("hello", parameters=[unicode])
    assert json.loads(json.dumps(doc))["parameters"] == [unicode]
    assert api.get("/namespaces/_/actions/hello").get_json()["parameters"] == [unicode]
