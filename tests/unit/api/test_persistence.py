"""The SQLite store: a new server on the same data folder has everything that finished."""

from pathlib import Path

from tests.unit.api.conftest import ALICE_KEY, INCR, ApiFactory


def test_actions_packages_and_activations_survive_a_restart(make_api: ApiFactory, tmp_path: Path) -> None:
    first = make_api(data_dir=tmp_path / "data")
    first.package("utils", parameters=[{"key": "from", "value": "package"}])
    first.create("utils/echo")
    first.create("incr", INCR, limits={"memory": 512})
    first.sequence("seq", "/_/incr", "/_/incr")
    first.create("mine", key=ALICE_KEY)
    invoked = [first.invoke("utils/echo", {"x": 1}), first.invoke("seq", {"n": 1})]
    assert [r.status_code for r in invoked] == [200, 200]
    views = ["/namespaces/_/actions", "/namespaces/_/actions/utils/echo", "/namespaces/_/actions/seq",
             "/namespaces/_/packages/utils", "/namespaces/_/activations?docs=true", "/namespaces/_/activations"]
    before = {path: first.get(path).get_json() for path in views}
    assert len(before["/namespaces/_/activations"]) == 4  # echo, seq and its two components
    first.close()

    second = make_api(data_dir=tmp_path / "data")
    assert {path: second.get(path).get_json() for path in views} == before
    for response in invoked:
        activation_id = response.get_json()["activationId"]
        assert second.activation(activation_id)["response"] == response.get_json()["response"]
    assert second.names(key=ALICE_KEY) == ["mine"]
    # It goes on from there: versions, new activations.
    updated = second.put("/namespaces/_/actions/incr", query_string={"overwrite": "true"}, json={}).get_json()
    assert (updated["version"], updated["limits"]["memory"]) == ("0.0.2", 512)
    assert second.invoke("seq", {"n": 5}, result="true").get_json() == {"n": 7}
    assert len(second.get("/namespaces/_/activations").get_json()) == 7
