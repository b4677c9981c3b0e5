"""A long-lived launcher process and the line protocol spoken with it.

The proxy writes one JSON line per activation to the launcher's stdin; the
launcher answers with one JSON line on a separate result pipe, after it has
flushed its stdout and stderr (which are the container's own, so the action's
output precedes the sentinel). Lines carry an ``id`` so that overlapping
activations (Node.js with intra-container concurrency) get their own answers.

Handshake: right after start the launcher loads the action and writes
``{"ok": true}`` or ``{"error": "<message>"}`` (no id) before any request.
"""

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class LauncherExited(Exception):
    """The launcher process ended; it can serve no more activations."""


class _Pending:
    __slots__ = ("done", "answer")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: dict[str, Any] | None = None


class Launcher:
    """One launcher process: start it, wait for its ack, then exchange lines."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self._process = subprocess.Popen(
                [*argv, "--result-fd", str(write_fd)],
                stdin=subprocess.PIPE,
                env=dict(env),
                cwd=cwd,
                pass_fds=(write_fd,),
                # The launcher's stdout and stderr are the container's own.
            )
        finally:
            os.close(write_fd)
        self._results = os.fdopen(read_fd, "rb")
        self._write_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._exited = False

    def handshake(self) -> dict[str, Any]:
        """Wait for the launcher's ack; raise LauncherExited if it died first or sent no JSON object."""
        line = self._results.readline()
        if not line:
            self._process.wait()
            self._exited = True
            self._close_pipes()
            raise LauncherExited(f"the launcher exited with status {self._process.returncode}")
        ack = _json_object(line)
        if ack is None:
            self.stop()
            self._exited = True
            self._close_pipes()
            text = line.decode("utf-8", errors="replace").strip()
            raise LauncherExited(f"the launcher's first line is not a JSON object: {text!r}")
        threading.Thread(target=self._read_answers, name="launcher-results", daemon=True).start()
        return ack

    def request(self, value: Any, env: Mapping[str, str]) -> dict[str, Any]:
        """Send one activation and wait for its answer."""
        return self._exchange({"value": value, "env": dict(env)})

    def hook(self, name: str, seed: str = "") -> dict[str, Any]:
        """Ask the launcher to call one of the action's lifecycle hooks."""
        return self._exchange({"hook": name, "seed": seed})

    def _exchange(self, fields: dict[str, Any]) -> dict[str, Any]:
        pending = _Pending()
        with self._pending_lock:
            if self._exited:
                raise LauncherExited("the launcher is no longer running")
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = pending
        line = json.dumps({"id": request_id, **fields}, ensure_ascii=False)
        try:
            with self._write_lock:
                assert self._process.stdin is not None
                self._process.stdin.write(line.encode("utf-8") + b"\n")
                self._process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the reader notices the exit and answers every pending request
        pending.done.wait()
        if pending.answer is None:
            raise LauncherExited("the launcher exited during the activation")
        return pending.answer

    @property
    def running(self) -> bool:
        return not self._exited and self._process.poll() is None

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()

    def _read_answers(self) -> None:
        for line in self._results:
            answer = _json_object(line)
            if answer is None:
                # The line protocol is lost: stop the launcher so that every
                # waiting request fails below instead of waiting forever.
                self._process.kill()
                break
            with self._pending_lock:
                pending = self._pending.pop(answer.get("id"), None)
            if pending is not None:
                pending.answer = answer
                pending.done.set()
        # End of the result pipe: the launcher is gone. Fail whoever still waits.
        self._process.wait()
        with self._pending_lock:
            self._exited = True
            waiting, self._pending = list(self._pending.values()), {}
        for pending in waiting:
            pending.done.set()
        self._close_pipes()

    def _close_pipes(self) -> None:
        """Close the proxy's ends of both pipes, so that no ended launcher leaves two fds open."""
        with self._write_lock, contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        self._results.close()


def _json_object(line: bytes) -> dict[str, Any] | None:
    """The line as a JSON object, or None when it is anything else."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
