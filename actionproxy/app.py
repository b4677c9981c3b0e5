"""The Flask app: routes only. State lives in the runner, never on the app."""

import json
import os
import threading
import traceback
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .errors import BadRequest, ProxyError
from .payloads import InitRequest, RunRequest
from .protocol import BUSY, INTERNAL_ERROR_PREFIX, REINIT_REFUSED, SENTINEL
from .runner import Runner

_SENTINEL_LINE = (SENTINEL + "\n").encode()


def write_sentinels() -> None:
    """Mark the end of an activation on both streams (the invoker cuts logs here)."""
    os.write(1, _SENTINEL_LINE)
    os.write(2, _SENTINEL_LINE)


def log_line(text: str) -> None:
    os.write(2, (text.rstrip("\n") + "\n").encode("utf-8", errors="replace"))


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


class _Admission:
    """Refuses an overlapping /run unless the runtime allows concurrency."""

    def __init__(self, concurrent: bool) -> None:
        self._concurrent = concurrent
        self._lock = threading.Lock()
        self._running = 0

    def enter(self) -> bool:
        with self._lock:
            if self._running and not self._concurrent:
                return False
            self._running += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._running -= 1


def _parse_body() -> Any:
    data = request.get_data()
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON ({exc}); send a JSON object.") from exc


def create_app(runner: Runner, *, allow_reinit: bool = False, concurrent: bool = False,
               on_restored: Callable[[], None] | None = None,
               after_init: Callable[[], None] | None = None) -> Flask:
    app = Flask("actionproxy")
    admission = _Admission(concurrent)
    init_lock = threading.Lock()
    initialized = threading.Event()

    @app.errorhandler(ProxyError)
    def proxy_error(error: ProxyError) -> Response:
        if error.log_detail:
            log_line(error.log_detail)
        if error.sentinel:
            write_sentinels()
        return json_response(error.to_dict(), error.status)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # A fault of the image itself (say, a launcher that is not installed):
        # still a JSON answer, with the details in the logs.
        if isinstance(error, HTTPException):
            return json_response({"error": error.description}, error.code or 500)
        log_line("".join(traceback.format_exception(error)))
        write_sentinels()
        return json_response({"error": f"The action proxy failed: {error}"}, 500)

    @app.post("/init")
    def init() -> Response:
        with init_lock:
            if initialized.is_set() and not allow_reinit:
                log_line(REINIT_REFUSED)
                raise ProxyError(REINIT_REFUSED, status=403, sentinel=False)
            try:
                runner.init(InitRequest.from_json(_parse_body()))
            except BadRequest as error:
                # A bad body is told as it is, with the same words in the logs.
                error.log_detail = error.log_detail or error.message
                raise
            initialized.set()
            if after_init is not None:
                after_init()
        return json_response({"ok": True})

    @app.post("/run")
    def run() -> Response:
        if not admission.enter():
            # As OpenWhisk's Node.js proxy: the refused run is no activation, so
            # no sentinel (its NonConcurrent test counts one per stream).
            log_line(INTERNAL_ERROR_PREFIX + BUSY)
            raise ProxyError(BUSY, status=403, sentinel=False)
        try:
            result = runner.run(RunRequest.from_json(_parse_body()))
        finally:
            admission.leave()
        write_sentinels()
        return json_response(result)

    @app.post("/restored")
    def restored() -> Response:
        # Not part of OpenWhisk's contract: whiskrun's invoker calls it once on
        # a container restored from a snapshot (see docs/snapshots.md).
        if on_restored is not None:
            on_restored()
        return json_response(runner.after_restore())

    return app
