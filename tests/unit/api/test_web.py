"""Web actions (WebActions.scala): no key needed, the request as ``__ow_*``
arguments, the result as an HTTP answer by extension, require-whisk-auth, CORS."""

import base64
from typing import Any

import pytest

from tests.unit.api.conftest import (ACTIVATION_ID, ALICE_KEY, ECHO, NO_CONTAINER, NOT_A_DICT, SLOW, Api, basic,
                                     returning)
from whiskrun.api import messages
from whiskrun.api.config import GUEST_KEY

WEB = [{"key": "web-export", "value": True}]
RAW = [{"key": "web-export", "value": True}, {"key": "raw-http", "value": True}]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00binary"


def web(api: Api, method: str, path: str, **kwargs: Any):
    """A request to /api/v1/web/guest/... without credentials unless given."""
    return api.request(method, "/api/v1/web/guest/" + path, key=kwargs.pop("key", None), **kwargs)


def web_action(api: Api, name: str, code: str = ECHO, annotations: list[dict[str, Any]] | None = None,
               **fields: Any) -> None:
    api.create(name, code, annotations=WEB + (annotations or []), **fields)


def arguments(response) -> dict[str, Any]:
    """What the echo action received, without the request headers."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    body.pop("__ow_headers")
    return body


# Finding the action.

def test_an_action_that_is_not_exported_is_404(api: Api) -> None:
    api.create("hidden")
    api.create("off", annotations=[{"key": "web-export", "value": False}])
    for path in ("default/hidden.json", "default/off.json", "default/missing.json", "nopkg/hidden.json"):
        api.refused(web(api, "GET", path), 404, messages.RESOURCE_DOES_NOT_EXIST)
    api.refused(api.request("GET", "/api/v1/web/nobody/default/hidden.json", key=None), 404,
                messages.RESOURCE_DOES_NOT_EXIST)
    assert api.runner.calls == []


def test_an_exported_action_needs_no_key(api: Api) -> None:
    web_action(api, "echo")
    response = web(api, "GET", "default/echo.json", query_string={"x": "1"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert arguments(response) == {"x": "1", "__ow_method": "get", "__ow_path": ""}
    assert ACTIVATION_ID.fullmatch(response.headers["x-openwhisk-activation-id"])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # The activation belongs to the action's namespace.
    record = api.activation(response.headers["x-openwhisk-activation-id"])
    assert (record["namespace"], record["name"]) == ("guest", "echo")


def test_actions_in_packages_and_names_without_extension(api: Api) -> None:
    api.package("utils", parameters=[{"key": "from", "value": "package"}])
    web_action(api, "utils/echo")
    response = web(api, "GET", "utils/echo.json")
    assert arguments(response)["from"] == "package"
    # No known extension: .http, which needs a dictionary with a body.
    web_action(api, "page", returning({"body": "<p>hi</p>"}))
    response = web(api, "GET", "default/page")
    assert (response.status_code, response.get_data(), response.mimetype) == (200, b"<p>hi</p>", "text/html")


# Arguments.

def test_method_headers_path_query_and_json_body(api: Api) -> None:
    web_action(api, "echo", parameters=[{"key": "bound", "value": "action"}, {"key": "q", "value": "action"}])
    response = web(api, "POST", "default/echo.json/extra/path", query_string={"q": "query", "both": "query"},
                   json={"a": 1, "both": "body"}, headers={"X-Custom": "yes"})
    body = response.get_json()
    headers = body.pop("__ow_headers")
    assert body == {"bound": "action", "q": "query", "a": 1, "both": "body", "__ow_method": "post",
                    "__ow_path": "/extra/path"}
    assert headers["x-custom"] == "yes" and headers["content-type"] == "application/json"


@pytest.mark.parametrize("data, content_type, expected", [
    ("a=1&b=two", "application/x-www-form-urlencoded", {"a": "1", "b": "two"}),
    ("just text", "text/plain", {"__ow_body": "just text"}),
    ("<x/>", "application/xml", {"__ow_body": "<x/>"}),
    (PNG, "image/png", {"__ow_body": base64.b64encode(PNG).decode()}),
    ("[1, 2]", "application/json", {"__ow_body": [1, 2]}),
    ("", "application/json", {}),
])
def test_bodies_become_arguments(api: Api, data, content_type: str, expected: dict[str, Any]) -> None:
    web_action(api, "echo")
    response = web(api, "PUT", "default/echo.json", data=data, content_type=content_type)
    assert arguments(response) == {**expected, "__ow_method": "put", "__ow_path": ""}


def test_raw_http_gets_the_query_and_body_as_they_came(api: Api) -> None:
    api.create("raw", annotations=RAW)
    response = web(api, "POST", "default/raw.json", query_string="q=2&r=%20x", json={"a": 1})
    assert arguments(response) == {"__ow_method": "post", "__ow_path": "", "__ow_query": "q=2&r=%20x",
                                   "__ow_body": base64.b64encode(b'{"a": 1}').decode()}
    text = web(api, "POST", "default/raw.json", data="a=1", content_type="application/x-www-form-urlencoded")
    assert arguments(text) == {"__ow_method": "post", "__ow_path": "", "__ow_query": "", "__ow_body": "a=1"}
    empty = web(api, "GET", "default/raw.json", query_string={"__ow_method": "put"})  # nothing to override
    assert arguments(empty) == {"__ow_method": "get", "__ow_path": "", "__ow_query": "__ow_method=put",
                                "__ow_body": ""}


@pytest.mark.parametrize("query, body", [
    ({"__ow_method": "put"}, None),
    ({"__ow_headers": "x"}, None),
    ({}, {"__ow_path": "/elsewhere"}),
    ({}, {"__ow_user": "admin"}),
    ({"secret": "mine"}, None),
    ({}, {"secret": "mine"}),
])
def test_overriding_reserved_or_final_parameters_is_400(api: Api, query, body) -> None:
    web_action(api, "locked", annotations=[{"key": "final", "value": True}],
               parameters=[{"key": "secret", "value": "s3cret"}])
    api.refused(web(api, "POST", "default/locked.json", query_string=query, json=body), 400,
                messages.PARAMETERS_NOT_ALLOWED)
    assert api.runner.calls == []
    assert arguments(web(api, "GET", "default/locked.json", query_string={"other": "1"}))["secret"] == "s3cret"


def test_a_body_over_the_limit_is_413(make_api) -> None:
    api = make_api(payload_bytes=1000)
    web_action(api, "echo")
    api.refused(web(api, "POST", "default/echo.json", data="x" * 1001, content_type="text/plain"), 413,
                "Request larger than allowed: 1001 > 1000 bytes.")
    assert api.runner.calls == []


def test_malformed_json_body_is_400(api: Api) -> None:
    web_action(api, "echo")
    response = web(api, "POST", "default/echo.json", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("The request content was malformed:\n")
    api.still_serving()


# Answers by extension.

@pytest.mark.parametrize("result, status, content_type, body, headers", [
    ({"statusCode": 201, "headers": {"X-Test": "yes", "Content-Type": "text/plain"}, "body": "hello"},
     201, "text/plain", b"hello", {"X-Test": "yes"}),
    ({"body": "<b>hi</b>"}, 200, "text/html; charset=utf-8", b"<b>hi</b>", {}),
    ({"body": {"a": 1}}, 200, "application/json", b'{"a": 1}', {}),
    ({"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": base64.b64encode(PNG).decode()},
     200, "image/png", PNG, {}),
    ({"headers": {"X-Only": "header"}}, 204, None, b"", {"X-Only": "header"}),
    ({"statusCode": 302, "headers": {"Location": "/elsewhere"}}, 302, None, b"", {"Location": "/elsewhere"}),
    ({"statusCode": "404", "body": ""}, 404, None, b"", {}),
    ({"headers": {"X-Flag": True, "X-Count": 3}, "body": "x"}, 200, "text/html; charset=utf-8", b"x",
     {"X-Flag": "true", "X-Count": "3"}),
])
def test_http_results(api: Api, result, status: int, content_type, body: bytes, headers) -> None:
    web_action(api, "page", returning(result))
    response = web(api, "GET", "default/page.http")
    assert (response.status_code, response.get_data()) == (status, body)
    if content_type:
        assert response.headers["Content-Type"].lower() == content_type
    for name, value in headers.items():
        assert response.headers[name] == value
    assert ACTIVATION_ID.fullmatch(response.headers["x-openwhisk-activation-id"])
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_header_with_several_values(api: Api) -> None:
    web_action(api, "page", returning({"headers": {"Set-Cookie": ["a=1", "b=2"]}, "body": "ok"}))
    assert web(api, "GET", "default/page.http").headers.getlist("Set-Cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize("result, media", [
    ([1, 2], "message/http"),
    ({"statusCode": "teapot"}, "message/http"),
    ({"statusCode": 999}, "message/http"),
    ({"headers": "x"}, "message/http"),
    ({"headers": {"X": {"nested": 1}}}, "message/http"),
    ({"headers": {"Content-Type": "image/png"}, "body": "not base64!"}, "image/png"),
])
def test_invalid_http_results_are_400(api: Api, result, media: str) -> None:
    web_action(api, "page", returning(result))
    api.refused(web(api, "GET", "default/page.http"), 400, f"Response is not valid '{media}'.")


@pytest.mark.parametrize("extension, result, content_type, body", [
    (".html", {"html": "<p>hi</p>"}, "text/html; charset=utf-8", b"<p>hi</p>"),
    (".html", {"body": "<p>body wins</p>", "html": "no"}, "text/html; charset=utf-8", b"<p>body wins</p>"),
    (".svg", {"svg": "<svg/>"}, "image/svg+xml", b"<svg/>"),
    (".text", {"text": "plain"}, "text/plain; charset=utf-8", b"plain"),
    (".text", {"body": {"a": 1}}, "text/plain; charset=utf-8", b'{\n  "a": 1\n}'),
    (".text", {"text": True}, "text/plain; charset=utf-8", b"true"),
    (".json", {"a": [1]}, "application/json", b'{"a": [1]}'),
    (".json", [1, 2], "application/json", b"[1, 2]"),
])
def test_other_extensions(api: Api, extension: str, result, content_type: str, body: bytes) -> None:
    web_action(api, "page", returning(result))
    response = web(api, "GET", f"default/page{extension}")
    assert (response.status_code, response.headers["Content-Type"].lower(), response.get_data()) == (
        200, content_type, body)


@pytest.mark.parametrize("extension, result, status, message", [
    (".html", {"body": 5}, 400, "Response is not valid 'text/html'."),
    (".svg", {"other": "x"}, 400, "Response is not valid 'image/svg+xml'."),
    (".text", {"other": "x"}, 404, messages.PROPERTY_NOT_FOUND),
])
def test_results_an_extension_cannot_answer(api: Api, extension: str, result, status: int, message: str) -> None:
    web_action(api, "page", returning(result))
    api.refused(web(api, "GET", f"default/page{extension}"), status, message)


def test_an_application_error_answers_its_error_field(api: Api) -> None:
    web_action(api, "teapot", returning({"error": {"statusCode": 418, "body": "short and stout"}}))
    response = web(api, "GET", "default/teapot.http")
    assert (response.status_code, response.get_data()) == (418, b"short and stout")
    web_action(api, "plain", returning({"error": "no error object"}))
    api.refused(web(api, "GET", "default/plain.json"), 400, "Response is not valid 'application/json'.")


@pytest.mark.parametrize("code", [NOT_A_DICT, NO_CONTAINER])
def test_developer_and_whisk_errors_are_400(api: Api, code: str) -> None:
    web_action(api, "broken", code)
    response = web(api, "GET", "default/broken.json")
    api.refused(response, 400, messages.ERROR_PROCESSING_REQUEST)
    record = api.activation(response.headers["x-openwhisk-activation-id"])
    assert record["response"]["success"] is False


def test_an_expired_wait_is_202_response_not_ready(make_api) -> None:
    api = make_api(blocking_wait_ms=50)
    web_action(api, "slow", SLOW)
    response = web(api, "GET", "default/slow.json")
    api.refused(response, 202, messages.RESPONSE_NOT_READY)
    activation_id = response.headers["x-openwhisk-activation-id"]
    api.runner.gate.set()
    assert api.wait_for_activation(activation_id)["name"] == "slow"


# Authentication.

def test_valid_credentials_make_the_caller_known(api: Api) -> None:
    web_action(api, "echo")
    assert "__ow_user" not in arguments(web(api, "GET", "default/echo.json"))
    assert arguments(web(api, "GET", "default/echo.json", key=GUEST_KEY))["__ow_user"] == "guest"
    assert "__ow_user" not in arguments(web(api, "GET", "default/echo.json", key="nobody:nothing"))


def test_require_whisk_auth_true_needs_a_valid_key(api: Api) -> None:
    web_action(api, "private", annotations=[{"key": "require-whisk-auth", "value": True}])
    for key in (None, "nobody:nothing", GUEST_KEY.split(":")[0] + ":wrong"):
        response = web(api, "GET", "default/private.json", key=key)
        api.refused(response, 401, messages.WEB_UNAUTHORIZED)
        assert response.headers["Access-Control-Allow-Origin"] == "*"  # refusals carry CORS too
    assert api.runner.calls == []
    assert arguments(web(api, "GET", "default/private.json", key=GUEST_KEY))["__ow_user"] == "guest"
    assert arguments(web(api, "GET", "default/private.json", key=ALICE_KEY))["__ow_user"] == "alice"


@pytest.mark.parametrize("secret, header", [("s3cret", "s3cret"), (1234, "1234")])
def test_require_whisk_auth_secret_needs_the_header(api: Api, secret, header: str) -> None:
    web_action(api, "private", annotations=[{"key": "require-whisk-auth", "value": secret}])
    for headers in ({}, {"X-Require-Whisk-Auth": "wrong"}, basic(GUEST_KEY)):
        api.refused(web(api, "GET", "default/private.json", headers=headers), 401, messages.WEB_UNAUTHORIZED)
    assert api.runner.calls == []
    response = web(api, "GET", "default/private.json", headers={"X-Require-Whisk-Auth": header})
    assert arguments(response)["__ow_method"] == "get"


@pytest.mark.parametrize("value", [None, {"user": "x"}])
def test_an_unusable_require_whisk_auth_lets_no_one_in(api: Api, value) -> None:
    web_action(api, "private", annotations=[{"key": "require-whisk-auth", "value": value}])
    api.refused(web(api, "GET", "default/private.json", key=GUEST_KEY), 401, messages.WEB_UNAUTHORIZED)


def test_require_whisk_auth_false_lets_anyone_in(api: Api) -> None:
    web_action(api, "public", annotations=[{"key": "require-whisk-auth", "value": False}])
    assert web(api, "GET", "default/public.json").status_code == 200


# CORS.

def test_options_answers_cors_without_invoking(api: Api) -> None:
    web_action(api, "echo", annotations=[{"key": "require-whisk-auth", "value": True}])
    response = web(api, "OPTIONS", "default/echo.json")
    assert (response.status_code, response.get_data()) == (200, b"")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"
    assert response.headers["Access-Control-Allow-Headers"] == (
        "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent")
    asked = web(api, "OPTIONS", "default/echo.json", headers={"Access-Control-Request-Headers": "X-Mine"})
    assert asked.headers["Access-Control-Allow-Headers"] == "X-Mine"
    assert api.runner.calls == []


def test_web_custom_options_lets_the_action_answer(api: Api) -> None:
    web_action(api, "custom", returning({"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "example.com",
                                                                        "Allow": "GET"}}),
               annotations=[{"key": "web-custom-options", "value": True}])
    response = web(api, "OPTIONS", "default/custom.http")
    assert response.status_code == 200
    assert (response.headers["Access-Control-Allow-Origin"], response.headers["Allow"]) == ("example.com", "GET")
    assert "Access-Control-Allow-Methods" not in response.headers
    assert api.runner.invoked("custom")[0].params["__ow_method"] == "options"
