"""Python and Node.js: the action lives in one launcher process between runs."""

import os
import shutil
from pathlib import Path
from typing import Any

from .config import ProxyConfig
from .env import merged
from .errors import InitFailed, ProxyError, RunFailed
from .executor import Launcher, LauncherExited
from .extract import decode_base64, unpack
from .payloads import InitRequest, RunRequest
from .protocol import CANNOT_START, COMMAND_EXITED, EXITED_DURING_INIT, NO_ACTION, NO_CODE, NOT_DICT_RESULT

#: Plain source is written here; a zipped Python action brings its own
#: ``__main__.py``, so both reach the launcher the same way.
SOURCE_FILE_ENV = "OW_SOURCE_FILE"


class LoopRunner:
    """Starts the language's launcher at /init and hands it every /run."""

    def __init__(self, config: ProxyConfig) -> None:
        self._config = config
        self._launcher: Launcher | None = None

    @property
    def initialized(self) -> bool:
        return self._launcher is not None

    def init(self, request: InitRequest) -> None:
        if not request.code:
            raise ProxyError(NO_CODE, status=403, sentinel=False)
        if self._launcher is not None:  # re-init allowed by configuration
            self._launcher.stop()
            self._launcher = None
        action_dir = self._config.action_dir
        _empty(action_dir)
        argv = [*self._config.launcher, "--action-dir", str(action_dir), "--main", request.main]
        if request.binary:
            unpack(decode_base64(request.code), action_dir)
        else:
            source = action_dir / self._config.base_env.get(SOURCE_FILE_ENV, "__main__.py")
            source.write_text(request.code, encoding="utf-8")
            argv += ["--source", str(source)]
        launcher = Launcher(argv, merged(self._config.base_env, request.env), action_dir)
        try:
            ack = launcher.handshake()
        except LauncherExited as exc:
            raise InitFailed(CANNOT_START, log_detail=f"{EXITED_DURING_INIT} ({exc})") from exc
        if "error" in ack:
            launcher.stop()
            raise InitFailed(str(ack["error"]))
        self._launcher = launcher

    def run(self, request: RunRequest) -> Any:
        launcher = self._launcher
        if launcher is None:
            raise ProxyError(NO_ACTION, status=500)
        try:
            answer = launcher.request(request.value, request.context)
        except LauncherExited as exc:
            self._launcher = None
            raise RunFailed(COMMAND_EXITED, status=400) from exc
        if "error" in answer:
            raise RunFailed(str(answer["error"]), status=int(answer.get("status", 502)))
        result = answer.get("result")
        if not isinstance(result, (dict, list)):
            raise RunFailed(NOT_DICT_RESULT)
        return result

    def after_restore(self) -> Any:
        """Let the action refresh what a snapshot made every clone share."""
        launcher = self._launcher
        if launcher is None:
            raise ProxyError(NO_ACTION, status=500)
        try:
            # Fresh kernel randomness for this clone: inside the restored
            # process every generator holds the snapshot's state.
            return launcher.hook("after_restore", seed=os.urandom(16).hex()).get("result", {})
        except LauncherExited as exc:
            self._launcher = None
            raise RunFailed(COMMAND_EXITED, status=400) from exc

    def close(self) -> None:
        if self._launcher is not None:
            self._launcher.stop()


def _empty(folder: Path) -> None:
    """Empty the action folder but keep it: it is the proxy's working
    directory, and a deleted cwd cannot be checkpointed by CRIU."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
