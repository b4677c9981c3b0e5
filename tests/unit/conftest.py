"""Fixtures for unit tests: the real launchers and tiny actions, no Docker, no network.

Every test gets a fresh app (``make_proxy``) built as ``python -m actionproxy``
builds it, from ``ProxyConfig.from_env`` with the action folder in ``tmp_path``.
"""

import base64
import io
import os
import shlex
import shutil
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from actionproxy.app import create_app
from actionproxy.config import ProxyConfig
from actionproxy.loop import LoopRunner
from actionproxy.native import NativeRunner
from actionproxy.protocol import SENTINEL

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
NATIVE_STUB = REPO / "runtimes" / "native" / "exec"

#: What each runtime image sets (images/*/Dockerfile), with the launchers of this checkout.
RUNTIME_ENV: dict[str, dict[str, str]] = {
    "python": {
        "OW_LAUNCHER": shlex.join([sys.executable, str(REPO / "runtimes/python/launcher.py")]),
        "OW_SOURCE_FILE": "__main__.py",
    },
    "nodejs": {
        "OW_LAUNCHER": shlex.join([NODE or "node", str(REPO / "runtimes/nodejs/launcher.js")]),
        "OW_SOURCE_FILE": "action.js",
        "OW_SUPPORTS_CONCURRENCY": "true",
    },
    "native": {"OW_ACTION_MODE": "native"},
}

#: The container-level variable the invoker sets at `docker run`; actions must see it.
API_HOST = "https://api.example:443"

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed on this machine")
LOOP_RUNTIMES = ["python", pytest.param("nodejs", marks=needs_node)]


@pytest.fixture(autouse=True)
def environ_unchanged() -> Iterator[None]:
    """Fail a test that leaves the test process's environment changed (and undo it)."""
    before = dict(os.environ)
    yield
    after = dict(os.environ)
    os.environ.clear()
    os.environ.update(before)
    # pytest itself rewrites PYTEST_CURRENT_TEST for every phase.
    before.pop("PYTEST_CURRENT_TEST", None)
    after.pop("PYTEST_CURRENT_TEST", None)
    assert after == before, "the test changed os.environ"


@dataclass
class Proxy:
    """One fresh action proxy behind Flask's test client."""

    client: FlaskClient
    action_dir: Path

    def init(self, code: str | None = None, **fields: Any) -> TestResponse:
        return self.client.post("/init", json={"value": {"code": code, **fields}})

    def run(self, value: Any = None, **context: Any) -> TestResponse:
        body = {"value": {} if value is None else value, **context}
        return self.client.post("/run", json=body)

    def post(self, route: str, data: bytes | str) -> TestResponse:
        return self.client.post(route, data=data, content_type="application/json")


ProxyFactory = Callable[..., Proxy]


@pytest.fixture
def make_proxy(tmp_path: Path) -> Iterator[ProxyFactory]:
    """Build a proxy for ``python``, ``nodejs`` or ``native``; launchers stop at teardown."""
    runners: list[LoopRunner] = []

    def make(runtime: str = "python", *, stub: bool = True, **environ: str) -> Proxy:
        action_dir = tmp_path / "action"
        config = ProxyConfig.from_env(
            {
                "OW_ACTION_DIR": str(action_dir),
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "__OW_API_HOST": API_HOST,
                **RUNTIME_ENV[runtime],
                **environ,
            }
        )
        if config.mode == "native":
            runner: LoopRunner | NativeRunner = NativeRunner(config)
            action_dir.mkdir()
            if stub:  # the dockerskeleton image ships this stub as /action/exec
                shutil.copy2(NATIVE_STUB, action_dir / "exec")
        else:
            runner = LoopRunner(config)
            runners.append(runner)
        app = create_app(
            runner, allow_reinit=config.allow_reinit, concurrent=config.allow_concurrent
        )
        app.testing = True  # a bug in a route raises in the test instead of a bare 500
        return Proxy(app.test_client(), action_dir)

    yield make
    for runner in runners:
        runner.close()


@dataclass(frozen=True)
class Logs:
    """What the proxy and its action wrote to fd 1 and fd 2, sentinels counted apart."""

    out: list[str]
    err: list[str]
    sentinels: tuple[int, int]


def read_logs(capfd: pytest.CaptureFixture[str]) -> Logs:
    out, err = capfd.readouterr()
    out_lines, err_lines = out.splitlines(), err.splitlines()
    return Logs(
        out=[line for line in out_lines if line != SENTINEL],
        err=[line for line in err_lines if line != SENTINEL],
        sentinels=(out_lines.count(SENTINEL), err_lines.count(SENTINEL)),
    )


def zip_bytes(files: Mapping[str, str | bytes], modes: Mapping[str, int] | None = None) -> bytes:
    """A zip of ``files``; ``modes`` sets Unix permission bits per name (default 0o644)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | (modes or {}).get(name, 0o644)) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def tgz_bytes(members: list[tarfile.TarInfo], contents: Mapping[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            data = (contents or {}).get(member.name)
            if data is not None:
                member.size = len(data)
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def tar_member(
    name: str, mode: int = 0o644, kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.mode, member.type, member.linkname = mode, kind, link
    return member


def tgz_files(files: Mapping[str, str | bytes], modes: Mapping[str, int] | None = None) -> bytes:
    """A tar.gz of regular files, the counterpart of ``zip_bytes``."""
    encoded = {name: c.encode() if isinstance(c, str) else c for name, c in files.items()}
    members = [tar_member(name, (modes or {}).get(name, 0o644)) for name in encoded]
    return tgz_bytes(members, encoded)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
