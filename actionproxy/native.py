"""Native (blackbox) actions: ``/action/exec`` runs once per activation.

As in OpenWhisk's dockerskeleton: the input is JSON on stdin and, when it
fits, in argv[1]; the last line of stdout is the result, every earlier line
and all of stderr are logs; the working directory is the action folder.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .config import ProxyConfig
from .env import merged
from .errors import InitFailed, RunFailed
from .extract import decode_base64, is_archive, unpack, write_executable
from .payloads import InitRequest, RunRequest
from .protocol import BUILD_FAILED, MAX_ARGV_CHARS, NOT_DICT_RESULT


class NativeRunner:
    def __init__(self, config: ProxyConfig) -> None:
        self._config = config
        self._exec = config.action_dir / "exec"
        stub = Path(config.base_env.get("OW_NATIVE_STUB", ""))
        if not self._exec.exists() and stub.is_file():
            # /action may be an empty tmpfs (so that CRIU snapshots carry the
            # action's files): put the stub back so /run works before /init.
            config.action_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(stub, self._exec)
        self._env: dict[str, str] = dict(config.base_env)

    def init(self, request: InitRequest) -> None:
        if request.code is not None:
            self._install(request)
        if not (self._exec.is_file() and os.access(self._exec, os.X_OK)):
            raise InitFailed(
                BUILD_FAILED,
                log_detail=f"The action has no executable {self._exec}: a zipped native "
                "action needs an executable file named 'exec' at the top of the zip.",
            )
        self._env = merged(self._config.base_env, request.env)

    def _install(self, request: InitRequest) -> None:
        code = request.code or ""
        if not request.binary:
            write_executable(code.encode("utf-8"), self._exec)
            return
        data = decode_base64(code)
        if is_archive(data):
            self._exec.unlink(missing_ok=True)  # the zip must bring its own exec
            unpack(data, self._config.action_dir)
        else:
            write_executable(data, self._exec)

    def after_restore(self) -> Any:
        """Nothing to refresh: every activation is a new process."""
        return {"ok": True}

    def run(self, request: RunRequest) -> Any:
        argument = json.dumps(request.value, ensure_ascii=False)
        encoded = argument.encode("utf-8")
        argv = [str(self._exec)]
        # The kernel's limit counts bytes, and non-ASCII text is longer in
        # UTF-8 than in characters: past it, exec fails with E2BIG.
        if len(encoded) <= MAX_ARGV_CHARS:
            argv.append(argument)
        try:
            finished = subprocess.run(
                argv,
                input=encoded,
                stdout=subprocess.PIPE,
                cwd=self._config.action_dir,
                env=merged(self._env, request.context),
                check=False,
            )
        except OSError as exc:
            raise RunFailed(NOT_DICT_RESULT, log_detail=f"The action's exec could not start: {exc}") from exc
        output = finished.stdout.decode("utf-8", errors="replace").rstrip("\n")
        *log_lines, last_line = output.split("\n") if output else [""]
        if log_lines:
            os.write(1, ("\n".join(log_lines) + "\n").encode("utf-8"))
        try:
            # NaN and Infinity are not JSON: passing them on would hand the
            # invoker a body it cannot parse.
            result = json.loads(last_line, parse_constant=_reject_constant)
        except ValueError:
            result = None
        if not isinstance(result, (dict, list)):
            if last_line:
                os.write(1, (last_line + "\n").encode("utf-8"))
            raise RunFailed(NOT_DICT_RESULT)
        return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
