"""Environments for action processes: OpenWhisk's stringification, always new dicts."""

from typing import Any

import pytest

from actionproxy.env import init_environment, merged, run_context, stringify


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("xyz", "xyz"),
        ("", ""),
        ("❄ ☃", "❄ ☃"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (123, "123"),
        (-1.5, "-1.5"),
        ({"a": [1, None]}, '{"a":[1,null]}'),
        ([1, "two"], '[1,"two"]'),
        ({"snow": "❄"}, '{"snow":"❄"}'),
        ({}, "{}"),
    ],
    ids=repr,
)
def test_stringify_renders_values_as_the_invoker_does(value: Any, expected: str) -> None:
    assert stringify(value) == expected


@pytest.mark.parametrize("init_env", [None, {}])
def test_init_environment_of_nothing_is_empty(init_env: Any) -> None:
    assert init_environment(init_env) == {}


def test_init_environment_stringifies_every_value() -> None:
    assert init_environment({"SOME_VAR": "xyz", "ANOTHER_VAR": "", "N": 7, "B": False, "O": None}) == {
        "SOME_VAR": "xyz",
        "ANOTHER_VAR": "",
        "N": "7",
        "B": "false",
        "O": "",
    }


def test_run_context_maps_every_key_but_value_to_an_ow_variable() -> None:
    body = {
        "value": {"ignored": True},
        "api_key": "abc",
        "namespace": "zzz",
        "action_name": "/zzz/xxx",
        "action_version": "0.0.1",
        "activation_id": "iii",
        "transaction_id": "ttt",
        "deadline": 123,
        "future_key": {"k": True},
    }
    assert run_context(body) == {
        "__OW_API_KEY": "abc",
        "__OW_NAMESPACE": "zzz",
        "__OW_ACTION_NAME": "/zzz/xxx",
        "__OW_ACTION_VERSION": "0.0.1",
        "__OW_ACTIVATION_ID": "iii",
        "__OW_TRANSACTION_ID": "ttt",
        "__OW_DEADLINE": "123",
        "__OW_FUTURE_KEY": '{"k":true}',
    }


def test_run_context_of_a_bare_value_is_empty() -> None:
    assert run_context({"value": {}}) == {}


def test_merged_is_a_new_dict_where_later_layers_win() -> None:
    base, init, run = {"A": "1", "B": "1"}, {"B": "2", "C": "2"}, {"C": "3"}
    result = merged(base, init, run)
    assert result == {"A": "1", "B": "2", "C": "3"}
    result["A"] = "changed"
    assert (base, init, run) == ({"A": "1", "B": "1"}, {"B": "2", "C": "2"}, {"C": "3"})


def test_merged_of_nothing_is_empty() -> None:
    assert merged() == {}
