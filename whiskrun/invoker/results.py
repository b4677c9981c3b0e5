"""Turn what a container answered into an activation response, with
OpenWhisk's exact messages (ActivationResult.scala, Messages.scala)."""

import json
from typing import Any

from .records import ActivationResponse, Status

MAX_RESULT_BYTES = 1024 * 1024

INIT_EXITED = "The action did not initialize and exited unexpectedly."
RUN_EXITED = "The action did not produce a valid response and exited unexpectedly."
MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted."
PROVISION_FAILED = "Failed to provision resources to run the action."


def timed_out(timeout_ms: int, *, during_init: bool) -> ActivationResponse:
    message = f"The action exceeded its time limits of {timeout_ms} milliseconds"
    message += " during initialization." if during_init else "."
    return developer_error(message)


def developer_error(message: Any) -> ActivationResponse:
    return ActivationResponse(Status.DEVELOPER_ERROR, {"error": message})


def whisk_error(message: str) -> ActivationResponse:
    return ActivationResponse(Status.WHISK_ERROR, {"error": message})


def init_failed(status: int, body: bytes) -> ActivationResponse:
    """A non-200 /init answer: its ``error`` if it has one, else the body."""
    parsed = _json_or_none(body)
    if isinstance(parsed, dict) and "error" in parsed:
        return developer_error(parsed["error"])
    text = body.decode("utf-8", errors="replace").strip()
    return developer_error(f"The action failed during initialization: {text}" if text
                           else "The action failed during initialization.")


def run_answer(status: int, body: bytes) -> ActivationResponse:
    """Classify a /run answer as OpenWhisk's processRunResponseContent does."""
    size = len(body)
    if size > MAX_RESULT_BYTES:
        prefix = body[:MAX_RESULT_BYTES].decode("utf-8", errors="ignore")
        return ActivationResponse(Status.APPLICATION_ERROR, {"error": (
            "The action produced a response that exceeded the allowed length: "
            f"{size} > {MAX_RESULT_BYTES} bytes. The truncated response was: {prefix}")}, size)
    parsed = _json_or_none(body)
    if status == 200 and isinstance(parsed, dict):
        code = Status.APPLICATION_ERROR if "error" in parsed else Status.SUCCESS
        return ActivationResponse(code, parsed if code is Status.SUCCESS else {"error": parsed["error"]}, size)
    if status == 200 and isinstance(parsed, list):
        return ActivationResponse(Status.SUCCESS, parsed, size)
    if isinstance(parsed, dict) and "error" in parsed:
        return ActivationResponse(Status.DEVELOPER_ERROR, {"error": parsed["error"]}, size)
    text = body.decode("utf-8", errors="replace")
    message = ("The action did not produce a valid JSON or JSON Array response: " + text if text
               else "The action did not produce a valid JSON or JSON Array response.")
    return ActivationResponse(Status.DEVELOPER_ERROR, {"error": message}, size)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
