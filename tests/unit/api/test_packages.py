"""``/namespaces/{ns}/packages`` and actions inside packages and bindings
(Packages.scala, Actions.scala, WhiskPackage.scala)."""

import time
from typing import Any

import pytest

from tests.unit.api.conftest import DEFAULT_LIMITS, ECHO, Api
from whiskrun.api import messages

PACKAGE_PARAMS = [{"key": "p", "value": "package"}, {"key": "q", "value": "package"},
                  {"key": "r", "value": "package"}]
ACTION_PARAMS = [{"key": "q", "value": "action"}, {"key": "r", "value": "action"}]


def without_updated(doc: dict[str, Any]) -> dict[str, Any]:
    assert abs(doc["updated"] - time.time() * 1000) < 60_000
    return {k: v for k, v in doc.items() if k != "updated"}


@pytest.fixture
def utils(api: Api) -> Api:
    """Package ``utils`` with parameters and one action ``utils/echo`` with its own."""
    api.package("utils", parameters=PACKAGE_PARAMS)
    api.create("utils/echo", parameters=ACTION_PARAMS)
    return api


def test_create_get_list_a_package(api: Api) -> None:
    response = api.put("/namespaces/_/packages/utils", json={"parameters": PACKAGE_PARAMS,
                                                              "annotations": [{"key": "description", "value": "x"}]})
    assert response.status_code == 200
    created = response.get_json()
    assert without_updated(created) == {
        "namespace": "guest", "name": "utils", "version": "0.0.1", "publish": False,
        "annotations": [{"key": "description", "value": "x"}], "parameters": PACKAGE_PARAMS, "binding": {}}
    got = api.get("/namespaces/_/packages/utils").get_json()
    assert got == {**created, "actions": [], "feeds": []}
    listed = api.get("/namespaces/_/packages").get_json()
    assert listed == [{k: v for k, v in created.items() if k != "parameters"}]


def test_an_empty_body_creates_a_package(api: Api) -> None:
    response = api.put("/namespaces/_/packages/empty")
    assert response.status_code == 200
    assert response.get_json()["parameters"] == []


def test_package_exists_and_update(api: Api) -> None:
    api.package("utils", parameters=PACKAGE_PARAMS)
    api.refused(api.put("/namespaces/_/packages/utils", json={}), 409, messages.RESOURCE_EXISTS)
    doc = api.put("/namespaces/_/packages/utils", query_string={"overwrite": "true"},
                  json={"publish": True}).get_json()
    assert (doc["version"], doc["publish"], doc["parameters"]) == ("0.0.2", True, PACKAGE_PARAMS)


def test_actions_of_a_package(utils: Api) -> None:
    api = utils
    doc = api.get("/namespaces/_/actions/utils/echo").get_json()
    assert (doc["namespace"], doc["name"], doc["parameters"]) == ("guest/utils", "echo", ACTION_PARAMS)
    api.create("top")

    listed = api.get("/namespaces/_/actions/utils/").get_json()
    assert [(e["namespace"], e["name"]) for e in listed] == [("guest/utils", "echo")]
    # The namespace's list has every action, those in packages too.
    assert sorted((e["namespace"], e["name"]) for e in api.get("/namespaces/_/actions").get_json()) == [
        ("guest", "top"), ("guest/utils", "echo")]
    package = api.get("/namespaces/_/packages/utils").get_json()
    assert package["actions"] == [{"name": "echo", "version": "0.0.1", "annotations": doc["annotations"]}]
    api.refused(api.get("/namespaces/_/actions/nopkg/"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_parameters_merge_package_then_action_then_invoke(utils: Api) -> None:
    response = utils.invoke("utils/echo", {"r": "invoke"}, result="true")
    assert (response.status_code, response.get_json()) == (200, {"p": "package", "q": "action", "r": "invoke"})
    record = utils.activation(response.headers["x-openwhisk-activation-id"])
    annotations = {a["key"]: a["value"] for a in record["annotations"]}
    assert annotations["path"] == "guest/utils/echo"
    assert "binding" not in annotations


def test_a_binding_puts_its_parameters_between_the_package_and_the_action(utils: Api) -> None:
    api = utils
    response = api.put("/namespaces/_/packages/bound", json={
        "binding": {"namespace": "_", "name": "utils"},
        "parameters": [{"key": "p", "value": "binding"}, {"key": "q", "value": "binding"}]})
    assert response.status_code == 200
    assert response.get_json()["binding"] == {"namespace": "guest", "name": "utils"}

    result = api.invoke("bound/echo", {"r": "invoke"}, result="true")
    assert (result.status_code, result.get_json()) == (200, {"p": "binding", "q": "action", "r": "invoke"})
    record = api.activation(result.headers["x-openwhisk-activation-id"])
    annotations = {a["key"]: a["value"] for a in record["annotations"]}
    assert (annotations["path"], annotations["binding"]) == ("guest/utils/echo", "guest/bound")

    # A binding lists, and its GET shows, the bound package's actions.
    assert [(e["namespace"], e["name"]) for e in api.get("/namespaces/_/actions/bound/").get_json()] == [
        ("guest/utils", "echo")]
    assert [a["name"] for a in api.get("/namespaces/_/packages/bound").get_json()["actions"]] == ["echo"]


def test_binding_refusals(utils: Api) -> None:
    api = utils
    api.refused(api.put("/namespaces/_/packages/dangling", json={"binding": {"namespace": "_", "name": "none"}}),
                400, messages.BINDING_DOES_NOT_EXIST)
    api.refused(api.put("/namespaces/_/packages/foreign", json={"binding": {"namespace": "alice", "name": "utils"}}),
                400, messages.BINDING_DOES_NOT_EXIST)
    api.package("bound", binding={"namespace": "_", "name": "utils"})
    api.refused(api.put("/namespaces/_/packages/double", json={"binding": {"namespace": "_", "name": "bound"}}),
                400, messages.BINDING_CANNOT_REFERENCE_BINDING)
    api.refused(api.put("/namespaces/_/packages/utils", query_string={"overwrite": "true"},
                        json={"binding": {"namespace": "_", "name": "bound"}}), 409,
                messages.PACKAGE_CANNOT_BECOME_BINDING)
    # No action can be put into, or deleted from, a binding.
    api.refused(api.put("/namespaces/_/actions/bound/new", json={"exec": {"kind": "python:3.11", "code": ECHO}}),
                400, messages.NOT_ALLOWED_ON_BINDING)
    for name in ("dangling", "foreign", "double"):
        api.refused(api.get(f"/namespaces/_/packages/{name}"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    assert api.names("/namespaces/_/packages") == ["bound", "utils"]
    assert api.get("/namespaces/_/packages/utils").get_json()["binding"] == {}


def test_an_action_in_a_missing_package_is_404(api: Api) -> None:
    api.refused(api.invoke("nopkg/echo"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.get("/namespaces/_/actions/nopkg/echo"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_delete_a_package(utils: Api) -> None:
    api = utils
    api.refused(api.delete("/namespaces/_/packages/utils"), 409,
                "Package not empty (contains 1 entity). Set force param or delete package contents.")
    api.create("utils/other")
    api.refused(api.delete("/namespaces/_/packages/utils"), 409,
                "Package not empty (contains 2 entities). Set force param or delete package contents.")
    assert api.get("/namespaces/_/packages/utils").status_code == 200

    # A binding of a package with actions can go; the package can once it is empty.
    api.package("bound", binding={"namespace": "_", "name": "utils"})
    assert api.delete("/namespaces/_/packages/bound").status_code == 200
    for name in ("utils/echo", "utils/other"):
        assert api.delete(f"/namespaces/_/actions/{name}").status_code == 200
    response = api.delete("/namespaces/_/packages/utils")
    assert response.status_code == 200
    assert response.get_json()["parameters"] == PACKAGE_PARAMS and "actions" not in response.get_json()
    api.refused(api.get("/namespaces/_/packages/utils"), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.delete("/namespaces/_/packages/utils"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_package_names_and_collections(api: Api) -> None:
    api.create("taken")
    api.refused(api.put("/namespaces/_/packages/taken", json={}), 409, messages.NOT_IN_COLLECTION)
    api.refused(api.put("/namespaces/_/packages/bad$name", json={}), 400, messages.ENTITY_NAME_ILLEGAL)
    api.refused(api.put("/namespaces/_/packages/p", json={"parameters": {"a": 1}}), 400,
                "The request content was malformed:\nparameters malformed!")
    api.refused(api.put("/namespaces/_/packages/p", json={"publish": "no"}), 400,
                'The request content was malformed:\nExpected JsBoolean as JsBoolean, but got "no"')
    assert api.names("/namespaces/_/packages") == []


def test_package_parameters_over_the_limit_are_413(make_api) -> None:
    api = make_api(payload_bytes=1000)
    big = [{"key": "big", "value": "x" * 998}]
    api.refused(api.put("/namespaces/_/packages/p", json={"parameters": big}), 413,
                "parameters larger than allowed: 1003 > 1000 bytes.")
    api.refused(api.put("/namespaces/_/packages/p", json={"annotations": big}), 413,
                "annotations larger than allowed: 1003 > 1000 bytes.")
    assert api.names("/namespaces/_/packages") == []


def test_package_action_limits_and_defaults(utils: Api) -> None:
    assert utils.get("/namespaces/_/actions/utils/echo").get_json()["limits"] == DEFAULT_LIMITS
