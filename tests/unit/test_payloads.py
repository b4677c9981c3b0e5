"""The /init and /run bodies: defaults, exact refusals, and context variables."""

from typing import Any

import pytest

from actionproxy.errors import BadRequest, ProxyError
from actionproxy.payloads import InitRequest, RunRequest
from actionproxy.protocol import NOT_DICT_ARGUMENT

BODY_NOT_OBJECT = 'The /init body must be a JSON object such as {"value": {"code": ...}}.'
VALUE_NOT_OBJECT = "The /init field 'value' must be a JSON object holding code, main, binary and env."


def wrong_field(key: str, described: str, got: str) -> str:
    return f"The /init field '{key}' must be {described}, not {got}; fix the field or leave it out."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, InitRequest(code=None, binary=False, main="main", name=None, env={})),
        ({"value": None}, InitRequest(code=None, binary=False, main="main", name=None, env={})),
        # The OpenWhisk test harness sends no name, "env": null and "code": null.
        (
            {"value": {"code": None, "main": "main", "binary": False, "env": None}},
            InitRequest(code=None, binary=False, main="main", name=None, env={}),
        ),
        (
            {"value": {"code": "", "main": ""}},
            InitRequest(code="", binary=False, main="main", name=None, env={}),
        ),
        (
            {"value": {"name": "act", "code": "UEsFBg==", "binary": True, "main": "niam",
                       "env": {"S": "x", "N": None, "T": True, "I": 4, "O": {"a": 1}}}},
            InitRequest(code="UEsFBg==", binary=True, main="niam", name="act",
                        env={"S": "x", "N": "", "T": "true", "I": "4", "O": '{"a":1}'}),
        ),
    ],
    ids=["empty", "value-null", "harness-nulls", "empty-code-and-main", "everything"],
)
def test_init_request_reads_fields_with_openwhisk_defaults(body: Any, expected: InitRequest) -> None:
    assert InitRequest.from_json(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, BODY_NOT_OBJECT),
        ([], BODY_NOT_OBJECT),
        ("code", BODY_NOT_OBJECT),
        ({"value": []}, VALUE_NOT_OBJECT),
        ({"value": "def main(a): return a"}, VALUE_NOT_OBJECT),
        ({"value": {"code": 1}}, wrong_field("code", "a string", "int")),
        ({"value": {"code": "x", "binary": "true"}}, wrong_field("binary", "true or false", "str")),
        ({"value": {"code": "x", "binary": 1}}, wrong_field("binary", "true or false", "int")),
        ({"value": {"code": "x", "main": ["main"]}},
         wrong_field("main", "a string naming the entry point", "list")),
        ({"value": {"code": "x", "name": 5}}, wrong_field("name", "a string", "int")),
        ({"value": {"code": "x", "env": ["A=1"]}}, wrong_field("env", "a JSON object of variables", "list")),
        ({"value": {"code": "x", "env": "A=1"}}, wrong_field("env", "a JSON object of variables", "str")),
    ],
    ids=lambda item: repr(item)[:40],
)
def test_init_request_refuses_wrong_types_with_a_400_sentence(body: Any, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        InitRequest.from_json(body)
    assert (raised.value.status, raised.value.to_dict()) == (400, {"error": message})


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ({}, {}),
        ({"value": {"a": 1}}, {"a": 1}),
        ({"value": []}, []),
        ({"value": [1, {"b": 2}]}, [1, {"b": 2}]),
        # A JSON null body runs with {}, as the dockerskeleton does.
        (None, {}),
    ],
    ids=["no-value", "object", "empty-array", "array", "null-body"],
)
def test_run_request_accepts_an_object_or_array_value(body: Any, value: Any) -> None:
    assert RunRequest.from_json(body) == RunRequest(value=value, context={})


@pytest.mark.parametrize(
    "body",
    [{"value": "A"}, {"value": 1}, {"value": None}, {"value": True}, "x", [1, 2], 5, True],
    ids=repr,
)
def test_run_request_refuses_an_argument_that_is_not_a_dictionary_or_array(body: Any) -> None:
    with pytest.raises(ProxyError) as raised:
        RunRequest.from_json(body)
    assert (raised.value.status, raised.value.to_dict()) == (404, {"error": NOT_DICT_ARGUMENT})
    assert raised.value.sentinel is True


def test_run_request_turns_the_other_keys_into_context() -> None:
    body = {"value": {"x": 1}, "activation_id": "iii", "deadline": "123", "api_key": None}
    assert RunRequest.from_json(body) == RunRequest(
        value={"x": 1},
        context={"__OW_ACTIVATION_ID": "iii", "__OW_DEADLINE": "123", "__OW_API_KEY": ""},
    )
