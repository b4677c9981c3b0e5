"""The native (blackbox) image beyond the basic cases: OpenWhisk's
``ActionProxyContainerTests`` for the dockerskeleton."""

import base64

import pytest

from actionproxy.protocol import BUILD_FAILED, NOT_DICT_ARGUMENT, NOT_DICT_RESULT
from tests.integration.conftest import NATIVE_IMAGE, init, read_streams, zip_base64

STUB_RESULT = {"error": "This is a stub action. Replace it with custom logic."}
LOGS_AND_RESULT = "#!/bin/sh\necho 'log 1'\necho 'to stderr' >&2\necho 'log 2'\necho '{\"msg\": \"hello\"}'\n"


@pytest.fixture
def container(start_container):
    return start_container(NATIVE_IMAGE)


def initialized(container, code: str, **fields) -> None:
    assert init(container, code, **fields) == (200, {"ok": True})


def test_run_before_init_runs_the_stub(container):
    assert container.run({}) == (200, STUB_RESULT)
    assert read_streams(container) == ("This is a stub action. Replace it with custom logic.", "")


def test_earlier_stdout_lines_are_logs_and_the_last_is_the_result(container):
    initialized(container, LOGS_AND_RESULT)
    assert container.run({}) == (200, {"msg": "hello"})
    assert read_streams(container) == ("log 1\nlog 2", "to stderr")


ZIPPED_EXEC = (
    "#!/bin/sh\n"
    "echo 'log line'\n"
    'echo "{\\"msg\\": \\"$(cat greeting.txt)\\"}"\n'
)
CODE_FORMS = {
    "zip with exec": (zip_base64({"exec": ZIPPED_EXEC, "greeting.txt": "hello zip"}, modes={"exec": 0o755}),
                      {"msg": "hello zip"}, ("log line", "")),
    "zip with exec in a zip folder entry": (
        zip_base64({"bin/": b"", "exec": ZIPPED_EXEC, "greeting.txt": "hi"}, modes={"exec": 0o755, "bin/": 0o755}),
        {"msg": "hi"}, ("log line", "")),
    "raw base64 executable": (base64.b64encode(LOGS_AND_RESULT.encode()).decode(),
                              {"msg": "hello"}, ("log 1\nlog 2", "to stderr")),
}


@pytest.mark.parametrize(("code", "result", "logs"), CODE_FORMS.values(), ids=CODE_FORMS.keys())
def test_binary_code_forms(container, code, result, logs):
    initialized(container, code, binary=True)
    assert container.run({}) == (200, result)
    assert read_streams(container) == logs


def test_zip_whose_exec_lost_its_execute_bit_fails_init(container):
    code = zip_base64({"exec": "#!/bin/sh\necho '{}'\n"}, modes={"exec": 0o644})
    assert init(container, code, binary=True) == (502, {"error": BUILD_FAILED})
    assert read_streams(container) == (
        "", "The action has no executable /action/exec: a zipped native action needs an "
            "executable file named 'exec' at the top of the zip.")


ARGUMENTS = {
    "small, in argv and stdin": ({"a": ["b", 1]}, {"argc": 1, "argv": {"a": ["b", 1]}, "stdin": {"a": ["b", 1]}}),
    # Longer than MAX_ARG_STRLEN: stdin only, as the dockerskeleton does.
    "too long for argv": ({"a": "x" * 131072}, {"argc": 0, "argv": None, "stdin": {"a": "x" * 131072}}),
    # 50,000 characters but 150,000 bytes: the limit counts bytes.
    "too long for argv in UTF-8": ({"a": "❄" * 50000}, {"argc": 0, "argv": None, "stdin": {"a": "❄" * 50000}}),
}


@pytest.mark.parametrize(("argument", "result"), ARGUMENTS.values(), ids=ARGUMENTS.keys())
def test_input_in_argv_and_stdin(container, argument, result):
    initialized(container, '#!/bin/sh\necho "{\\"argc\\": $#, \\"argv\\": ${1:-null}, \\"stdin\\": $(cat)}"\n')
    assert container.run(argument) == (200, result)
    assert read_streams(container) == ("", "")


def test_working_directory_is_the_action_folder(container):
    initialized(container, '#!/bin/sh\necho "{\\"pwd\\": \\"$(pwd)\\", \\"PWD\\": \\"$PWD\\"}"\n')
    assert container.run({}) == (200, {"pwd": "/action", "PWD": "/action"})


@pytest.mark.parametrize(("line", "result"), [('["a", "b"]', ["a", "b"]), ('{"error": "sorry"}', {"error": "sorry"})],
                         ids=["array", "application error"])
def test_result_line(container, line, result):
    initialized(container, f"#!/bin/sh\necho '{line}'\n")
    assert container.run({}) == (200, result)
    assert read_streams(container) == ("", "")


@pytest.mark.parametrize("output", ["", "not json\n", "42\n", '{"v": NaN}\n'],
                         ids=["nothing", "text", "a number", "NaN"])
def test_last_line_not_an_object_or_array(container, output):
    initialized(container, f"#!/bin/sh\nprintf '{output}'\n")
    assert container.run({}) == (502, {"error": NOT_DICT_RESULT})
    assert read_streams(container) == (output.strip(), "")


def test_value_not_an_object_or_array(container):
    assert container.post("/run", {"value": "A"}) == (404, {"error": NOT_DICT_ARGUMENT})
    assert read_streams(container) == ("", "")
    # The stub still answers afterwards.
    assert container.run({}) == (200, STUB_RESULT)
