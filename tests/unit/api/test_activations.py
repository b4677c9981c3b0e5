"""``/namespaces/{ns}/activations``: list with filters and paging, get, logs,
result, and the activation id checks (Activations.scala, the activations views)."""

from typing import Any

import pytest

from tests.unit.api.conftest import ECHO, FAIL, Api
from whiskrun.api import messages

SUMMARY_FIELDS = {"namespace", "name", "version", "publish", "annotations", "activationId", "start", "end",
                  "duration", "statusCode"}


@pytest.fixture
def ran(api: Api) -> tuple[Api, list[dict[str, Any]]]:
    """Four finished activations, oldest first: a, pkg/a, b (application error), then a through a binding."""
    api.create("a")
    api.package("pkg")
    api.create("pkg/a")
    api.create("b", FAIL)
    api.package("bound", binding={"namespace": "_", "name": "pkg"})
    records = [api.invoke("a", {"n": 1}), api.invoke("pkg/a", {"n": 2}), api.invoke("b"),
               api.invoke("bound/a", {"n": 4})]
    assert [r.status_code for r in records] == [200, 200, 502, 200]
    return api, [api.activation(r.get_json()["activationId"]) for r in records]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [entry["activationId"] for entry in response.get_json()]


def test_list_gives_summaries_newest_first(ran) -> None:
    api, records = ran
    response = api.get("/namespaces/_/activations")
    summaries = response.get_json()
    assert ids(response) == [r["activationId"] for r in reversed(records)]
    for summary, record in zip(summaries, reversed(records)):
        assert set(summary) == SUMMARY_FIELDS  # no response, no logs
        assert summary == {**{k: record[k] for k in SUMMARY_FIELDS - {"statusCode"}},
                           "statusCode": 1 if record["name"] == "b" else 0}
    assert ids(api.get("/namespaces/guest/activations/")) == ids(response)


def test_docs_gives_the_full_records(ran) -> None:
    api, records = ran
    response = api.get("/namespaces/_/activations", query_string={"docs": "true"})
    assert response.status_code == 200
    assert response.get_json() == list(reversed(records))
    for record in response.get_json():
        assert "statusCode" not in record["response"] and record["logs"]


@pytest.mark.parametrize("name, expected", [
    ("a", [0]),  # a simple name is an action outside packages
    ("/a", [0]),
    ("pkg/a", [1]),
    ("bound/a", [3]),  # found by the binding it was invoked through
    ("b", [2]),
    ("nothing", []),
    ("", [3, 2, 1, 0]),
    (" ", [3, 2, 1, 0]),
])
def test_the_name_filter(ran, name: str, expected: list[int]) -> None:
    api, records = ran
    response = api.get("/namespaces/_/activations", query_string={"name": name})
    assert ids(response) == [records[i]["activationId"] for i in expected]
    count = api.get("/namespaces/_/activations", query_string={"name": name, "count": "true"}).get_json()
    assert count == {"activations": len(expected)}


@pytest.mark.parametrize("name", ["a/b/c", "a$", "/guest/pkg/a"])
def test_a_bad_name_filter_is_400(ran, name: str) -> None:
    api, _ = ran
    api.refused(api.get("/namespaces/_/activations", query_string={"name": name}), 400,
                "The query parameter 'name' was malformed:\n"
                f"Parameter may be a 'simple' name or 'package-name/simple' name: {name}")


def test_since_and_upto_are_inclusive_bounds_on_start(ran) -> None:
    api, records = ran
    starts = [r["start"] for r in records]
    assert starts == sorted(set(starts))
    expect = lambda *indexes: [records[i]["activationId"] for i in indexes]  # noqa: E731
    assert ids(api.get("/namespaces/_/activations", query_string={"since": starts[1]})) == expect(3, 2, 1)
    assert ids(api.get("/namespaces/_/activations", query_string={"upto": starts[1]})) == expect(1, 0)
    assert ids(api.get("/namespaces/_/activations",
                       query_string={"since": starts[1], "upto": starts[2]})) == expect(2, 1)
    assert ids(api.get("/namespaces/_/activations", query_string={"since": starts[3] + 1})) == []
    assert api.get("/namespaces/_/activations", query_string={"since": starts[2], "count": "true"}).get_json() == {
        "activations": 2}


@pytest.mark.parametrize("parameter, value", [("since", "yesterday"), ("upto", "1.5"), ("since", "1e9")])
def test_a_bad_epoch_is_400(ran, parameter: str, value: str) -> None:
    api, _ = ran
    api.refused(api.get("/namespaces/_/activations", query_string={parameter: value}), 400,
                f"The query parameter '{parameter}' was malformed:\n"
                f"Parameter is not a valid value for epoch seconds: {value}")


def test_paging(ran) -> None:
    api, records = ran
    newest = [r["activationId"] for r in reversed(records)]
    assert ids(api.get("/namespaces/_/activations", query_string={"limit": "2"})) == newest[:2]
    assert ids(api.get("/namespaces/_/activations", query_string={"limit": "1", "skip": "1"})) == newest[1:2]
    assert ids(api.get("/namespaces/_/activations", query_string={"limit": "0"})) == newest
    assert ids(api.get("/namespaces/_/activations", query_string={"skip": "4"})) == []


def test_count(ran) -> None:
    api, _ = ran
    response = api.get("/namespaces/_/activations", query_string={"count": "true"})
    assert (response.status_code, response.get_json()) == (200, {"activations": 4})


def test_docs_with_count_is_400(ran) -> None:
    api, _ = ran
    api.refused(api.get("/namespaces/_/activations", query_string={"count": "true", "docs": "true"}), 400,
                messages.DOCS_NOT_ALLOWED_WITH_COUNT)


def test_the_default_page_is_30(api: Api) -> None:
    api.create("a")
    for _ in range(31):
        assert api.invoke("a").status_code == 200
    assert len(ids(api.get("/namespaces/_/activations"))) == 30
    assert len(ids(api.get("/namespaces/_/activations", query_string={"limit": "0"}))) == 31


def test_get_logs_and_result(ran) -> None:
    api, records = ran
    record = records[0]
    response = api.get(f"/namespaces/_/activations/{record['activationId']}")
    assert (response.status_code, response.get_json()) == (200, record)
    assert record["response"] == {"status": "success", "success": True, "result": {"n": 1}, "size": 8}

    logs = api.get(f"/namespaces/_/activations/{record['activationId']}/logs")
    assert (logs.status_code, logs.get_json()) == (200, {"logs": record["logs"]})
    assert record["logs"][0].endswith(" stdout: echo")

    result = api.get(f"/namespaces/_/activations/{record['activationId']}/result")
    assert (result.status_code, result.get_json()) == (200, {"result": {"n": 1}, "status": "success",
                                                              "success": True, "size": 8})
    failed = api.get(f"/namespaces/_/activations/{records[2]['activationId']}/result").get_json()
    assert failed == {"result": {"error": "it failed"}, "status": "application error", "success": False,
                      "size": 22}


@pytest.mark.parametrize("suffix", ["", "/logs", "/result"])
@pytest.mark.parametrize("activation_id, message", [
    ("abc", "Activation id length is 3 but must be 32."),
    ("0" * 33, "Activation id length is 33 but must be 32."),
    ("g" * 32, messages.ACTIVATION_ID_ILLEGAL),
    ("A" * 32, messages.ACTIVATION_ID_ILLEGAL),
    ("-" * 32, messages.ACTIVATION_ID_ILLEGAL),
])
def test_a_bad_activation_id_is_400(api: Api, suffix: str, activation_id: str, message: str) -> None:
    api.refused(api.get(f"/namespaces/_/activations/{activation_id}{suffix}"), 400, message)


@pytest.mark.parametrize("suffix", ["", "/logs", "/result"])
def test_an_unknown_activation_is_404(api: Api, suffix: str) -> None:
    api.refused(api.get(f"/namespaces/_/activations/{'0' * 32}{suffix}"), 404, messages.RESOURCE_DOES_NOT_EXIST)


def test_an_empty_namespace_lists_nothing(api: Api) -> None:
    assert ids(api.get("/namespaces/_/activations")) == []
    api.create("a", ECHO)
    assert ids(api.get("/namespaces/_/activations", query_string={"docs": "true"})) == []
