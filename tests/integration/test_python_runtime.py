"""The Python image beyond the basic cases: OpenWhisk's Python test suites."""

import pytest

from actionproxy.protocol import (
    BUILD_FAILED,
    CANNOT_START,
    COMMAND_EXITED,
    EXITED_DURING_INIT,
    INVALID_VIRTUALENV,
    NO_ACTION,
    NOT_DICT_RESULT,
    SENTINEL,
    ZIP_WITHOUT_MAIN,
)
from tests.integration.conftest import PYTHON_IMAGE, init, read_streams, settled_logs, zip_base64


@pytest.fixture
def container(start_container):
    return start_container(PYTHON_IMAGE)


def initialized(container, code: str, **fields) -> None:
    assert init(container, code, **fields) == (200, {"ok": True})


def test_run_before_init_is_refused(container):
    assert container.run({}) == (500, {"error": NO_ACTION})
    assert read_streams(container) == ("", "")


def test_exception_is_an_application_error_with_traceback(container):
    initialized(container, "def main(args):\n    return {'q': 1 / args['d']}\n")
    assert container.run({"d": 0}) == (200, {"error": "division by zero"})
    out, err = read_streams(container)
    assert out == ""
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith("ZeroDivisionError: division by zero")
    # An application error keeps the action warm.
    assert container.run({"d": 2}) == (200, {"q": 0.5})


def test_error_result_is_answered_200(container):
    initialized(container, "def main(args):\n    return {'error': 'sorry'}\n")
    assert container.run({}) == (200, {"error": "sorry"})
    assert read_streams(container) == ("", "")


NOT_JSON_RESULTS = {
    "None": ("None", ""),
    "a set": ("{1, 2}", "The action's result cannot be encoded as JSON: Object of type set is not JSON serializable"),
    "NaN": ("{'v': float('nan')}",
            "The action's result cannot be encoded as JSON: Out of range float values are not JSON compliant"),
}


@pytest.mark.parametrize(("result", "logged"), NOT_JSON_RESULTS.values(), ids=NOT_JSON_RESULTS.keys())
def test_result_that_is_not_a_json_object(container, result, logged):
    initialized(container, f"def main(args):\n    return {result}\n")
    assert container.run({}) == (502, {"error": NOT_DICT_RESULT})
    assert read_streams(container) == ("", logged)


def test_init_env_values_are_strings(container):
    initialized(container, "import os\ndef main(args):\n    return {k: os.environ[k] for k in 'NBOZ'}\n",
                env={"N": 42, "B": True, "O": {"a": [1]}, "Z": None})
    assert container.run({}) == (200, {"N": "42", "B": "true", "O": '{"a":[1]}', "Z": ""})


def test_sys_exit_in_main(container):
    initialized(container, "import sys\ndef main(args):\n    sys.exit(1)\n")
    assert container.run({}) == (400, {"error": COMMAND_EXITED})
    assert read_streams(container) == ("", "")
    # As the action loop: the action is gone for good.
    assert container.run({}) == (500, {"error": NO_ACTION})


INIT_FAILURES = {
    "sys.exit at module level": (
        {"code": "import sys\nsys.exit(1)\ndef main(args):\n    return args\n"},
        CANNOT_START, [EXITED_DURING_INIT],
    ),
    "not python": (
        {"code": '10 PRINT "Hello world!"\n20 GOTO 10\n'},
        BUILD_FAILED, ["SyntaxError"],
    ),
    "missing import": (
        {"code": "import no_such_module\ndef main(args):\n    return args\n"},
        CANNOT_START, ["Traceback", "ModuleNotFoundError: No module named 'no_such_module'"],
    ),
    "zip without __main__.py": (
        {"code": zip_base64({"helper.py": "def main(args):\n    return args\n"}), "binary": True},
        BUILD_FAILED, [ZIP_WITHOUT_MAIN],
    ),
    "virtualenv without activate_this.py": (
        {"code": zip_base64({"__main__.py": "def main(args):\n    return args\n",
                             "virtualenv/bin/python": ""}), "binary": True},
        BUILD_FAILED, [INVALID_VIRTUALENV],
    ),
}


@pytest.mark.parametrize(("fields", "message", "logged"), INIT_FAILURES.values(), ids=INIT_FAILURES.keys())
def test_init_failure(container, fields, message, logged):
    assert init(container, **fields) == (502, {"error": message})
    out, err = read_streams(container)
    assert out == ""
    for text in logged:
        assert text in err


def test_env_printed_at_module_level_precedes_the_first_run(container):
    initialized(container, "import os\nprint(os.environ['X'])\ndef main(args):\n    return {}\n",
                env={"X": "xyz"})
    assert container.run({}) == (200, {})
    assert settled_logs(container) == (f"xyz\n{SENTINEL}\n", f"{SENTINEL}\n")


def test_interpreter_and_working_directory(container):
    initialized(container, "import os, sys\ndef main(args):\n"
                           "    return {'python': 'python' in sys.executable, 'cwd': os.getcwd()}\n")
    assert container.run({}) == (200, {"python": True, "cwd": "/action"})


def test_zip_with_helper_module_and_data_file(container):
    code = zip_base64({
        "__main__.py": (
            "from helper import greeting\n"
            "def niam(args):\n"
            "    with open('data/words.txt', encoding='utf-8') as words:\n"
            "        return {'echo': args, 'greeting': greeting(), 'words': words.read().split()}\n"
        ),
        "helper.py": "def greeting():\n    return 'hello from helper'\n",
        "data/words.txt": "alpha beta\n",
    })
    initialized(container, code, binary=True, main="niam")
    assert container.run({"a": 1}) == (200, {
        "echo": {"a": 1}, "greeting": "hello from helper", "words": ["alpha", "beta"],
    })
    assert read_streams(container) == ("", "")


def test_zip_with_virtualenv(container):
    # A stand-in for a real virtualenv: its activate_this.py puts the
    # virtualenv's site-packages on sys.path, as the real one does.
    code = zip_base64({
        "__main__.py": "import venvmodule\ndef naim(args):\n    return {'from': venvmodule.WHERE}\n",
        "virtualenv/bin/activate_this.py": (
            "import os, sys\n"
            "base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n"
            "sys.path.insert(0, os.path.join(base, 'lib', 'python3.11', 'site-packages'))\n"
        ),
        "virtualenv/lib/python3.11/site-packages/venvmodule.py": "WHERE = 'the virtualenv'\n",
    })
    initialized(container, code, binary=True, main="naim")
    assert container.run({}) == (200, {"from": "the virtualenv"})
    assert read_streams(container) == ("", "")
