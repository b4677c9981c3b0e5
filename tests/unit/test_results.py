"""What a container answered, classified as OpenWhisk's ActivationResult and Messages do
(openwhisk-api.md section 6): status, result and size, with the exact messages."""

from typing import Any

import pytest

from whiskrun.invoker import results
from whiskrun.invoker.records import ActivationResponse, Status

D = Status.DEVELOPER_ERROR
INVALID = "The action did not produce a valid JSON or JSON Array response"
INIT = "The action failed during initialization"
MB = 1024 * 1024


def test_the_platform_messages_are_openwhisks() -> None:
    assert results.INIT_EXITED == "The action did not initialize and exited unexpectedly."
    assert results.RUN_EXITED == "The action did not produce a valid response and exited unexpectedly."
    assert results.MEMORY_EXHAUSTED == "The action exhausted its memory and was aborted."
    assert results.PROVISION_FAILED == "Failed to provision resources to run the action."
    assert results.MAX_RESULT_BYTES == MB


@pytest.mark.parametrize("timeout_ms, during_init, message", [
    pytest.param(60000, False, "The action exceeded its time limits of 60000 milliseconds.", id="run"),
    pytest.param(60000, True, "The action exceeded its time limits of 60000 milliseconds during initialization.",
                 id="init"),
    pytest.param(100, False, "The action exceeded its time limits of 100 milliseconds.", id="the-actions-limit"),
])
def test_timed_out(timeout_ms: int, during_init: bool, message: str) -> None:
    assert results.timed_out(timeout_ms, during_init=during_init) == ActivationResponse(D, {"error": message})


def test_developer_and_whisk_errors_wrap_the_message() -> None:
    assert results.developer_error(results.RUN_EXITED) == ActivationResponse(D, {"error": results.RUN_EXITED})
    assert results.developer_error({"why": 1}) == ActivationResponse(D, {"error": {"why": 1}})
    assert results.whisk_error(results.PROVISION_FAILED) == ActivationResponse(
        Status.WHISK_ERROR, {"error": "Failed to provision resources to run the action."})


@pytest.mark.parametrize("status, body, error", [
    pytest.param(502, b'{"error": "Cannot start action. Check logs for details."}',
                 "Cannot start action. Check logs for details.", id="its-error-field"),
    pytest.param(500, b'{"error": {"code": 7}, "other": 1}', {"code": 7}, id="its-error-field-any-json"),
    pytest.param(502, b'{"ok": false}', f'{INIT}: {{"ok": false}}', id="object-without-error"),
    pytest.param(502, b'[1, 2]', f"{INIT}: [1, 2]", id="array"),
    pytest.param(500, b"Internal Server Error", f"{INIT}: Internal Server Error", id="not-json"),
    pytest.param(500, b"boom\n", f"{INIT}: boom", id="not-json-trailing-newline"),
    pytest.param(500, b"", f"{INIT}.", id="empty"),
    pytest.param(500, b"bad \xff byte", f"{INIT}: bad \ufffd byte", id="not-utf8"),
])
def test_init_failed(status: int, body: bytes, error: Any) -> None:
    assert results.init_failed(status, body) == ActivationResponse(D, {"error": error})


@pytest.mark.parametrize("status, body, expected_status, result", [
    pytest.param(200, b'{"greeting": "Hello"}', Status.SUCCESS, {"greeting": "Hello"}, id="object"),
    pytest.param(200, b"{}", Status.SUCCESS, {}, id="empty-object"),
    pytest.param(200, b"[1, 2]", Status.SUCCESS, [1, 2], id="array"),
    pytest.param(200, b"[]", Status.SUCCESS, [], id="empty-array"),
    pytest.param(200, b'{"error": "bad input", "partial": 1}', Status.APPLICATION_ERROR, {"error": "bad input"},
                 id="error-field-is-an-application-error"),
    pytest.param(200, b'{"error": null}', Status.APPLICATION_ERROR, {"error": None}, id="null-error-field"),
    pytest.param(502, b'{"error": "The action did not return a dictionary or array."}', D,
                 {"error": "The action did not return a dictionary or array."}, id="non-200-error-field"),
    pytest.param(500, b'{"ok": 1}', D, {"error": f'{INVALID}: {{"ok": 1}}'}, id="non-200-object"),
    pytest.param(502, b"[1]", D, {"error": f"{INVALID}: [1]"}, id="non-200-array"),
    pytest.param(200, b'"text"', D, {"error": f'{INVALID}: "text"'}, id="json-string"),
    pytest.param(200, b"5", D, {"error": f"{INVALID}: 5"}, id="json-number"),
    pytest.param(200, b"null", D, {"error": f"{INVALID}: null"}, id="json-null"),
    pytest.param(200, b"true", D, {"error": f"{INVALID}: true"}, id="json-true"),
    pytest.param(200, b"<html>oops</html>", D, {"error": f"{INVALID}: <html>oops</html>"}, id="not-json"),
    pytest.param(200, b"", D, {"error": f"{INVALID}."}, id="empty"),
    pytest.param(200, b"\xff\xfe", D, {"error": f"{INVALID}: \ufffd\ufffd"}, id="not-utf8"),
])
def test_run_answer(status: int, body: bytes, expected_status: Status, result: Any) -> None:
    assert results.run_answer(status, body) == ActivationResponse(expected_status, result, len(body))


def test_a_result_of_exactly_one_mb_is_not_truncated() -> None:
    body = b'{"a": "' + b"x" * (MB - 9) + b'"}'
    assert len(body) == MB
    response = results.run_answer(200, body)
    assert (response.status, response.size, len(response.result["a"])) == (Status.SUCCESS, MB, MB - 9)


@pytest.mark.parametrize("status", [200, 502])
def test_a_result_over_one_mb_is_an_application_error_with_its_prefix(status: int) -> None:
    body = b'{"a": "' + b"x" * MB + b'"}'
    response = results.run_answer(status, body)
    assert response == ActivationResponse(Status.APPLICATION_ERROR, {"error": (
        f"The action produced a response that exceeded the allowed length: {MB + 9} > {MB} bytes. "
        'The truncated response was: {"a": "' + "x" * (MB - 7))}, MB + 9)


def test_the_truncated_prefix_drops_a_character_cut_in_half() -> None:
    body = ('{"a": "' + "é" * MB + '"}').encode()  # 7 bytes, then 2 bytes per é: byte 1 MB falls inside one
    error = results.run_answer(200, body).result["error"]
    assert error.endswith('The truncated response was: {"a": "' + "é" * ((MB - 7) // 2))
    assert error.startswith(f"The action produced a response that exceeded the allowed length: {len(body)} > ")


@pytest.mark.parametrize("status, text, success", [
    (Status.SUCCESS, "success", True),
    (Status.APPLICATION_ERROR, "application error", False),
    (Status.DEVELOPER_ERROR, "action developer error", False),
    (Status.WHISK_ERROR, "whisk internal error", False),
], ids=lambda value: str(value).replace(" ", "-") if isinstance(value, str) else None)
def test_response_json(status: Status, text: str, success: bool) -> None:
    assert ActivationResponse(status, {"error": "x"}, 14).to_json() == {
        "status": text, "statusCode": int(status), "success": success, "result": {"error": "x"}, "size": 14}
    assert "size" not in ActivationResponse(status, {"error": "x"}).to_json()
    assert [int(s) for s in Status] == [0, 1, 2, 3]
