"""Fixtures of the end-to-end tests: the pinned npm `openwhisk` client
(installed with `npm ci` from tests/e2e/client/package-lock.json when it is
missing) and a real `whiskrun serve` per module (tests/integration/api)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.api.server_support import (  # noqa: F401 - fixtures
    api,
    api_docker,
    api_server,
    sample_zip,
    start_server,
)

CLIENT = Path(__file__).resolve().parent / "client"


def _pinned_version() -> str:
    lock = json.loads((CLIENT / "package-lock.json").read_text())
    return lock["packages"]["node_modules/openwhisk"]["version"]


def _installed_version() -> str | None:
    manifest = CLIENT / "node_modules" / "openwhisk" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


@pytest.fixture(scope="session")
def npm_client() -> Path:
    """tests/e2e/client with node_modules as the lockfile pins them (`npm ci` when
    they are missing or another version is there); fails with npm's output otherwise."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("The end-to-end tests need Node.js 18 or newer with npm on PATH "
                    f"(node: {node}, npm: {npm}).")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
                .stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        pytest.fail(f"The npm openwhisk client needs Node.js 18 or newer; {node} is version {major}.")
    pinned = _pinned_version()
    if _installed_version() != pinned:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"`npm ci` in {CLIENT} failed (exit {done.returncode}); it installs openwhisk "
                        f"{pinned} from the npm registry, which must be reachable.\n"
                        f"{done.stdout}\n{done.stderr}")
        if _installed_version() != pinned:
            pytest.fail(f"`npm ci` in {CLIENT} did not install openwhisk {pinned} "
                        f"(found {_installed_version()}).")
    return CLIENT
