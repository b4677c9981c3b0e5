"""Published packages across namespaces (PackageCollection.scala, Packages.scala):
another namespace's published package, its actions and feeds can be read,
listed, bound and invoked; a private or missing one is the same 403; nothing
else of that namespace is visible, and nothing of it can be changed."""

from tests.unit.api.conftest import ALICE_KEY, ECHO, Api
from whiskrun.api import messages


def alice_publishes(api: Api) -> None:
    """alice: a published package `tools` (an action, a feed, a parameter), a
    private package `secret`, an action outside any package."""
    assert api.put("/namespaces/_/packages/tools", key=ALICE_KEY,
                   json={"publish": True, "parameters": [{"key": "from", "value": "package"}]}).status_code == 200
    api.create("tools/echo", key=ALICE_KEY)
    api.create("tools/feed", key=ALICE_KEY, annotations=[{"key": "feed", "value": True}])
    assert api.put("/namespaces/_/packages/secret", key=ALICE_KEY, json={}).status_code == 200
    api.create("secret/hidden", key=ALICE_KEY)
    api.create("loose", key=ALICE_KEY)


def test_a_published_package_is_readable_with_its_actions_and_feeds(api: Api) -> None:
    alice_publishes(api)
    package = api.get("/namespaces/alice/packages/tools").get_json()
    assert (package["namespace"], package["name"], package["publish"]) == ("alice", "tools", True)
    assert [a["name"] for a in package["actions"]] == ["echo"]
    assert [f["name"] for f in package["feeds"]] == ["feed"]
    assert [p["name"] for p in api.get("/namespaces/alice/packages").get_json()] == ["tools"]
    assert {a["name"] for a in api.get("/namespaces/alice/actions/tools/").get_json()} == {"echo", "feed"}
    assert api.get("/namespaces/alice/actions/tools/echo").get_json()["exec"]["code"] == ECHO


def test_private_missing_and_loose_entities_are_all_403(api: Api) -> None:
    alice_publishes(api)
    for path in ("/namespaces/alice/packages/secret", "/namespaces/alice/packages/nothing",
                 "/namespaces/alice/actions/secret/hidden", "/namespaces/alice/actions/loose",
                 "/namespaces/alice/actions/nothing/here", "/namespaces/alice/actions/secret/"):
        api.refused(api.get(path), 403, messages.NOT_AUTHORIZED)
    api.refused(api.post("/namespaces/alice/actions/secret/hidden", query_string={"blocking": "true"}), 403,
                messages.NOT_AUTHORIZED)
    api.refused(api.get("/namespaces/alice/actions"), 403, messages.NOT_AUTHORIZED)


def test_a_shared_action_runs_as_the_caller(api: Api) -> None:
    alice_publishes(api)
    response = api.post("/namespaces/alice/actions/tools/echo", json={"x": 1}, query_string={"blocking": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    record = response.get_json()
    assert record["namespace"] == "guest" and record["subject"] == "guest"
    assert record["response"]["result"] == {"from": "package", "x": 1}
    marks = {a["key"]: a["value"] for a in record["annotations"]}
    assert marks["path"] == "alice/tools/echo"
    [(spec, invocation)] = [call for call in api.runner.calls if call[0].name == "echo"]
    assert invocation.subject == "guest"
    # The caller's activations list has it; alice's does not.
    assert [a["activationId"] for a in api.get("/namespaces/_/activations").get_json()] == [record["activationId"]]
    assert api.get("/namespaces/_/activations", key=ALICE_KEY).get_json() == []


def test_a_binding_to_a_published_package_and_not_to_a_private_one(api: Api) -> None:
    alice_publishes(api)
    bound = api.put("/namespaces/_/packages/mine", json={"binding": {"namespace": "alice", "name": "tools"},
                                                        "parameters": [{"key": "from", "value": "binding"}]})
    assert bound.status_code == 200, bound.get_data(as_text=True)
    response = api.invoke("mine/echo", {"y": 2})
    assert response.get_json()["response"]["result"] == {"from": "binding", "y": 2}
    api.refused(api.put("/namespaces/_/packages/nope", json={"binding": {"namespace": "alice", "name": "secret"}}),
                400, messages.BINDING_DOES_NOT_EXIST)
    # Unpublished later: the binding no longer reaches it.
    api.put("/namespaces/_/packages/tools", key=ALICE_KEY, query_string={"overwrite": "true"}, json={"publish": False})
    api.refused(api.invoke("mine/echo"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_a_sequence_may_use_a_shared_action(api: Api) -> None:
    alice_publishes(api)
    api.create("local")
    api.sequence("seq", "/alice/tools/echo", "/guest/local")
    assert api.invoke("seq", {"z": 3}).get_json()["response"]["result"] == {"from": "package", "z": 3}
    api.refused(api.put("/namespaces/_/actions/bad", json={"exec": {"kind": "sequence",
                                                                   "components": ["/alice/secret/hidden"]}}),
                400, messages.SEQUENCE_COMPONENT_NOT_FOUND)


def test_nothing_of_another_namespace_can_be_changed(api: Api) -> None:
    alice_publishes(api)
    for method, path in (("PUT", "/namespaces/alice/actions/tools/echo"), ("DELETE", "/namespaces/alice/actions/tools/echo"),
                         ("PUT", "/namespaces/alice/packages/tools"), ("DELETE", "/namespaces/alice/packages/tools")):
        api.refused(api.request(method, path, json={"exec": {"kind": "python:3.11", "code": ECHO}}), 403,
                    messages.NOT_AUTHORIZED)
    assert api.get("/namespaces/_/actions/tools/echo", key=ALICE_KEY).get_json()["version"] == "0.0.1"


def test_callers_of_a_shared_action_never_share_a_container(api: Api) -> None:
    """The invoker reuses a container only for the same ActionKey: the caller's
    namespace is in it for another namespace's action (OpenWhisk keys containers
    by the invoking namespace), so guest's state and key never meet alice's."""
    alice_publishes(api)
    api.post("/namespaces/alice/actions/tools/echo", query_string={"blocking": "true"})
    api.post("/namespaces/_/actions/tools/echo", key=ALICE_KEY, query_string={"blocking": "true"})
    api.post("/namespaces/alice/actions/tools/echo", query_string={"blocking": "true"})
    keys = [spec.key for spec, _ in api.runner.calls if spec.name == "echo"]
    assert keys[0] == keys[2] and keys[0] != keys[1]
    assert (keys[0].tenant, keys[1].tenant) == ("guest", "")
    assert keys[0].namespace == keys[1].namespace == "alice"
