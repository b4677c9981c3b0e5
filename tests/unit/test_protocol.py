"""The wire contract, byte for byte: OpenWhisk's runtime tests compare these strings.

The other tests import the constants; this file pins their values to the
upstream texts, and checks that the launchers' own copies have not drifted.
"""

import importlib.util
import re

import pytest

from actionproxy import protocol

from .conftest import REPO

UPSTREAM = {
    "SENTINEL": "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX",
    "REINIT_REFUSED": "Cannot initialize the action more than once.",
    "NO_CODE": "Missing main/no code to execute.",
    "BUILD_FAILED": "The action failed to generate or locate a binary. See logs for details.",
    "CANNOT_START": "Cannot start action. Check logs for details.",
    "EXITED_DURING_INIT": "Command exited abruptly during initialization.",
    "NOT_DICT_RESULT": "The action did not return a dictionary or array.",
    "NOT_DICT_ARGUMENT": "The action did not receive a dictionary or array as an argument.",
    "BUSY": "System not ready, status is running.",
    "INTERNAL_ERROR_PREFIX": "Internal system error: ",
    "COMMAND_EXITED": "command exited",
    "NO_ACTION": "no action defined yet",
    "INVALID_VIRTUALENV": "Invalid virtualenv. Zip file does not include 'activate_this.py'.",
    "ZIP_WITHOUT_MAIN": "Zip file does not include __main__.py",
    "NODE_ZIP_WITHOUT_ENTRY": "Zipped actions must contain either package.json or index.js at the root.",
    "NODE_INIT_FAILED_PREFIX": "Initialization has failed due to: ",
    "NODE_RUN_FAILED_PREFIX": "An error has occurred: ",
    "PORT": 8080,
    "MAX_ARGV_CHARS": 131071,
    "ALLOW_CONCURRENT_ENV": "__OW_ALLOW_CONCURRENT",
    "ALLOW_REINIT_ENV": "PROXY_ALLOW_REINIT",
}


@pytest.mark.parametrize(("name", "value"), UPSTREAM.items(), ids=UPSTREAM)
def test_protocol_holds_the_upstream_value(name: str, value: object) -> None:
    assert getattr(protocol, name) == value


@pytest.mark.parametrize(
    ("key", "variable"),
    [("activation_id", "__OW_ACTIVATION_ID"), ("api_key", "__OW_API_KEY"), ("deadline", "__OW_DEADLINE")],
)
def test_context_variable(key: str, variable: str) -> None:
    assert protocol.context_variable(key) == variable


def test_python_launcher_copies_match_the_protocol() -> None:
    spec = importlib.util.spec_from_file_location("python_launcher", REPO / "runtimes/python/launcher.py")
    assert spec is not None and spec.loader is not None
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    names = ["BUILD_FAILED", "CANNOT_START", "INVALID_VIRTUALENV", "NOT_DICT_RESULT"]
    assert {n: getattr(launcher, n) for n in names} == {n: getattr(protocol, n) for n in names}


def test_nodejs_launcher_copies_match_the_protocol() -> None:
    source = (REPO / "runtimes/nodejs/launcher.js").read_text()
    constants = dict(re.findall(r"^const (\w+) = '([^']*)';$", source, re.MULTILINE))
    assert {name: constants[name] for name in ("INIT_FAILED", "RUN_FAILED", "ZIP_WITHOUT_ENTRY")} == {
        "INIT_FAILED": protocol.NODE_INIT_FAILED_PREFIX,
        "RUN_FAILED": protocol.NODE_RUN_FAILED_PREFIX,
        "ZIP_WITHOUT_ENTRY": protocol.NODE_ZIP_WITHOUT_ENTRY,
    }
