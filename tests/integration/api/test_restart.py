"""A restart loses nothing that finished: deploy and invoke, stop the server
with SIGTERM (it must leave no container), start a new one on the same data
folder, and find every action and activation there, still runnable."""

import pytest

from .server_support import SAMPLES, ApiClient, ServerFactory

pytestmark = pytest.mark.docker

ACTIONS = "/api/v1/namespaces/_/actions"
ACTIVATIONS = "/api/v1/namespaces/_/activations"


def deploy(api: ApiClient) -> dict[str, dict]:
    bodies = {
        "hello": {"exec": {"kind": "python:default", "code": (SAMPLES / "hello.py").read_text()}},
        "hello-js": {"exec": {"kind": "nodejs:default", "code": (SAMPLES / "hello.js").read_text()},
                     "parameters": [{"key": "name", "value": "bound"}], "limits": {"timeout": 5000}},
        "split": {"exec": {"kind": "nodejs:18", "code": (SAMPLES / "sequence" / "split.js").read_text()}},
        "sort": {"exec": {"kind": "python:3.11", "code": (SAMPLES / "sequence" / "sort.py").read_text()}},
        "words": {"exec": {"kind": "sequence", "components": ["/_/split", "/_/sort"]}},
    }
    docs = {}
    for name, body in bodies.items():
        answer = api.put(f"{ACTIONS}/{name}?overwrite=true", {"namespace": "_", "name": name, **body})
        assert answer.status_code == 200, answer.text
        docs[name] = answer.json()
    # One update, so that a version other than 0.0.1 must survive too.
    answer = api.put(f"{ACTIONS}/hello?overwrite=true", {"annotations": [{"key": "note", "value": "kept"}]})
    assert answer.status_code == 200 and answer.json()["version"] == "0.0.2"
    docs["hello"] = answer.json()
    return docs


def test_actions_and_activations_survive_a_restart(start_server: ServerFactory):
    server = start_server()
    api = server.client()
    docs = deploy(api)
    ids = []
    for name, params in (("hello", {"name": "One"}), ("hello-js", {}), ("words", {"text": "b a"})):
        answer = api.post(f"{ACTIONS}/{name}?blocking=true&result=false", params)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["activationId"])
    accepted = api.post(f"{ACTIONS}/hello?blocking=false&result=false", {"name": "Two"})
    assert accepted.status_code == 202
    ids.append(accepted.json()["activationId"])
    records = {i: api.wait_for_activation(i) for i in ids}
    everything = api.get(f"{ACTIVATIONS}?docs=true&limit=0&skip=0").json()
    assert len(everything) == 6  # with the sequence's two components
    assert server.containers(), "the invokes should have left warm containers"

    server.restart()  # SIGTERM: stop() fails the test if a container of its owner is left
    api = server.client()

    listed = api.get(f"{ACTIONS}?limit=30&skip=0").json()
    assert {a["name"] for a in listed} == set(docs)
    for name, doc in docs.items():
        assert api.get(f"{ACTIONS}/{name}").json() == doc
    assert api.get(f"{ACTIVATIONS}?docs=true&limit=0&skip=0").json() == everything
    for activation_id, record in records.items():
        assert api.get(f"{ACTIVATIONS}/{activation_id}").json() == record
        assert api.get(f"{ACTIVATIONS}/{activation_id}/logs").json() == {"logs": record["logs"]}
    assert any(line.endswith("stdout: Hello Two!") for line in records[ids[3]]["logs"])
    assert api.get(f"{ACTIVATIONS}?count=true").json() == {"activations": 6}

    # Everything still runs, from a cold start on the new server.
    hello = api.post(f"{ACTIONS}/hello?blocking=true&result=false", {"name": "Three"})
    assert hello.status_code == 200, hello.text
    record = hello.json()
    assert record["response"]["result"] == {"greeting": "Hello Three!"}
    assert record["version"] == "0.0.2"
    marks = {a["key"]: a["value"] for a in record["annotations"]}
    assert marks["startPath"] == "cold" and "initTime" in marks
    js = api.post(f"{ACTIONS}/hello-js?blocking=true&result=true", {})
    assert js.json() == {"greeting": "Hello bound!"}
    words = api.post(f"{ACTIONS}/words?blocking=true&result=true", {"text": "z y"})
    assert words.json() == {"words": ["y", "z"], "count": 2}
    assert api.get(f"{ACTIVATIONS}?count=true").json() == {"activations": 6 + 5}
