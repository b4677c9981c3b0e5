"""Edges a review found: each was a wrong answer or a 500 before its fix."""

import base64
from unittest import mock

from whiskrun.api import messages

from .conftest import DOUBLE, ECHO, INCR, Api


def test_an_update_in_the_same_millisecond_runs_the_new_code(api: Api) -> None:
    with mock.patch("whiskrun.api.action_docs.time.time", return_value=1_700_000_000.0):
        api.create("counter", INCR)
        assert api.invoke("counter", {"n": 1}, result="true").get_json() == {"n": 2}
        response = api.put("/namespaces/_/actions/counter", query_string={"overwrite": "true"},
                           json={"exec": {"kind": "python:3.11", "code": DOUBLE}})
        assert response.status_code == 200
        assert response.get_json()["updated"] == 1_700_000_000_000  # the very same `updated`
    assert api.invoke("counter", {"n": 5}, result="true").get_json() == {"n": 10}


def test_a_sequence_may_not_reach_itself_through_a_binding(api: Api) -> None:
    api.package("pkg")
    api.create("pkg/step", ECHO)
    api.sequence("pkg/loop", "/_/pkg/step")
    api.put("/namespaces/_/packages/bind", json={"binding": {"namespace": "_", "name": "pkg"}})
    response = api.put("/namespaces/_/actions/pkg/loop", query_string={"overwrite": "true"},
                       json={"exec": {"kind": "sequence", "components": ["/_/bind/loop"]}})
    api.refused(response, 400, messages.SEQUENCE_CYCLIC)
    assert api.get("/namespaces/_/actions/pkg/loop").get_json()["exec"]["components"] == ["/guest/pkg/step"]


def test_credentials_that_are_not_ascii_are_refused_with_401(api: Api) -> None:
    response = api.request("GET", "/namespaces", key=None, headers={"Authorization": "Basic ünïcode"})
    api.refused(response, 401, messages.AUTH_INVALID)
    garbled = base64.b64encode("ü:ß".encode("latin-1")).decode()
    response = api.request("GET", "/namespaces", key=None, headers={"Authorization": f"Basic {garbled}"})
    api.refused(response, 401, messages.AUTH_INVALID)


def test_a_limit_too_large_for_a_number_is_malformed_not_a_crash(api: Api) -> None:
    response = api.put("/namespaces/_/actions/huge", data='{"exec": {"kind": "python:3.11", "code": "x"}, '
                                                          '"limits": {"timeout": 1e400}}',
                       content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"].startswith(messages.MALFORMED)
    assert api.get("/namespaces/_/actions/huge").status_code == 404


def test_the_package_name_default_is_reserved(api: Api) -> None:
    api.refused(api.put("/namespaces/_/packages/default", json={}), 400, "Package name 'default' is reserved.")


def test_force_deletes_a_package_with_its_actions(api: Api) -> None:
    api.package("full")
    api.create("full/a")
    api.create("full/b")
    assert api.delete("/namespaces/_/packages/full").status_code == 409
    response = api.delete("/namespaces/_/packages/full", query_string={"force": "true"})
    assert response.status_code == 200
    assert api.get("/namespaces/_/packages/full").status_code == 404
    assert api.get("/namespaces/_/actions/full/a").status_code == 404
    assert api.names() == []


def test_count_counts_one_package_and_honours_skip(api: Api) -> None:
    api.package("pkg")
    api.create("pkg/a")
    api.create("loose")
    assert api.get("/namespaces/_/actions", query_string={"count": "true"}).get_json() == {"actions": 2}
    assert api.get("/namespaces/_/actions/pkg/", query_string={"count": "true"}).get_json() == {"actions": 1}
    assert api.get("/namespaces/_/actions", query_string={"count": "true", "skip": "1"}).get_json() == {"actions": 1}
