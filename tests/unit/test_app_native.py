"""The proxy in native mode (the dockerskeleton): ``exec`` runs once per /run.

Actions are one-line shell scripts; the action folder starts with the stub
``runtimes/native/exec``, as in the image.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from actionproxy.protocol import (
    BUILD_FAILED,
    MAX_ARGV_CHARS,
    NOT_DICT_ARGUMENT,
    NOT_DICT_RESULT,
    REINIT_REFUSED,
)

from .conftest import API_HOST, Proxy, ProxyFactory, b64, read_logs, tgz_files, zip_bytes

STUB_MESSAGE = "This is a stub action. Replace it with custom logic."
ECHO_ARGV = '#!/bin/sh\necho "$1"\n'


@pytest.fixture
def proxy(make_proxy: ProxyFactory) -> Proxy:
    return make_proxy("native")


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.get_json()


def initialized(proxy: Proxy, code: str, **fields: Any) -> Proxy:
    assert answer(proxy.init(code, **fields)) == (200, {"ok": True})
    return proxy


# --- the stub and /init ------------------------------------------------------


def test_run_before_init_runs_the_stub(proxy: Proxy, capfd: pytest.CaptureFixture[str]) -> None:
    assert answer(proxy.run({})) == (200, {"error": STUB_MESSAGE})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([STUB_MESSAGE], [], (1, 1))


@pytest.mark.parametrize(
    "body", [b"", b"{}", b'{"value": {"code": null, "binary": false, "env": null}}'],
    ids=["empty", "object", "code-null"],
)
def test_init_without_code_keeps_the_stub(
    proxy: Proxy, body: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    assert answer(proxy.post("/init", body)) == (200, {"ok": True})
    assert read_logs(capfd).sentinels == (0, 0)
    assert answer(proxy.run({})) == (200, {"error": STUB_MESSAGE})


def test_init_without_code_or_stub_fails(make_proxy: ProxyFactory, capfd: pytest.CaptureFixture[str]) -> None:
    proxy = make_proxy("native", stub=False)
    assert answer(proxy.init(None)) == (502, {"error": BUILD_FAILED})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == (
        [],
        [f"The action has no executable {proxy.action_dir / 'exec'}: a zipped native action needs an "
         "executable file named 'exec' at the top of the zip."],
        (1, 1),
    )


def test_empty_code_initializes_but_every_run_fails(proxy: Proxy, capfd: pytest.CaptureFixture[str]) -> None:
    initialized(proxy, "")
    assert answer(proxy.run({})) == (502, {"error": NOT_DICT_RESULT})
    # As the dockerskeleton: a JSON null body runs like {} (its "fail to run a bad script" test).
    assert answer(proxy.post("/run", b"null")) == (502, {"error": NOT_DICT_RESULT})
    logs = read_logs(capfd)
    assert logs.sentinels == (2, 2)
    assert logs.err == [
        f"The action's exec could not start: [Errno 8] Exec format error: '{proxy.action_dir / 'exec'}'"
    ] * 2


def test_second_init_is_refused(proxy: Proxy, capfd: pytest.CaptureFixture[str]) -> None:
    initialized(proxy, '#!/bin/sh\necho \'{"first": true}\'\n')
    assert answer(proxy.init('#!/bin/sh\necho \'{"second": true}\'\n')) == (403, {"error": REINIT_REFUSED})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [REINIT_REFUSED], (0, 0))
    assert answer(proxy.run({})) == (200, {"first": True})


def test_reinit_replaces_the_exec_when_allowed(make_proxy: ProxyFactory) -> None:
    proxy = initialized(make_proxy("native", PROXY_ALLOW_REINIT="1"), '#!/bin/sh\necho \'{"first": 1}\'\n')
    initialized(proxy, '#!/bin/sh\necho \'{"second": 2}\'\n')
    assert answer(proxy.run({})) == (200, {"second": 2})


# --- /run: argv, stdin, stdout, stderr ----------------------------------------

RUNS = {
    "argv": (ECHO_ARGV, {"string": "❄ ☃ ❄"}, 200, {"string": "❄ ☃ ❄"}, [], []),
    "array-argument": (ECHO_ARGV, ["a", "b"], 200, ["a", "b"], [], []),
    "stdin": ("#!/bin/sh\ncat\n", {"numbers": [42, 1]}, 200, {"numbers": [42, 1]}, [], []),
    "logs-then-result": (
        "#!/bin/sh\necho 'hello stdout'\necho 'hello stderr' >&2\necho '{\"msg\": \"hi\"}'\n",
        {}, 200, {"msg": "hi"}, ["hello stdout"], ["hello stderr"],
    ),
    "array-result": ("#!/bin/sh\necho '[\"a\", \"b\"]'\n", {}, 200, ["a", "b"], [], []),
    "not-json": ("#!/bin/sh\necho not a json object\n", {}, 502, {"error": NOT_DICT_RESULT},
                 ["not a json object"], []),
    "json-string": ("#!/bin/sh\necho '\"text\"'\n", {}, 502, {"error": NOT_DICT_RESULT}, ['"text"'], []),
    "no-output": ("#!/bin/sh\nexit 0\n", {}, 502, {"error": NOT_DICT_RESULT}, [], []),
    "result-not-last": ("#!/bin/sh\necho '{\"a\": 1}'\necho done\n", {}, 502, {"error": NOT_DICT_RESULT},
                        ['{"a": 1}', "done"], []),
    "exit-status-ignored": ("#!/bin/sh\necho '{\"a\": 1}'\nexit 3\n", {}, 200, {"a": 1}, [], []),
}


@pytest.mark.parametrize(("code", "value", "status", "body", "out", "err"), RUNS.values(), ids=RUNS)
def test_run_takes_the_last_stdout_line_as_the_result(
    proxy: Proxy, code: str, value: Any, status: int, body: Any, out: list[str], err: list[str],
    capfd: pytest.CaptureFixture[str],
) -> None:
    initialized(proxy, code)
    assert answer(proxy.run(value)) == (status, body)
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == (out, err, (1, 1))


def argument_of(size: int, char: str) -> dict[str, str]:
    """A value whose JSON text is at most ``size`` bytes in UTF-8 (exactly, for ASCII)."""
    overhead = len('{"arg": ""}')
    return {"arg": char * ((size - overhead) // len(char.encode()))}


@pytest.mark.parametrize(
    ("value", "in_argv"),
    [
        (argument_of(20, "a"), True),
        (argument_of(MAX_ARGV_CHARS, "a"), True),
        (argument_of(MAX_ARGV_CHARS + 1, "a"), False),
        # Fewer characters than the limit but more bytes: the kernel counts bytes.
        (argument_of(MAX_ARGV_CHARS + 2, "❄"), False),
    ],
    ids=["small", "at-limit", "over-limit", "multibyte-over-limit"],
)
def test_input_goes_to_argv_only_when_it_fits(proxy: Proxy, value: dict[str, str], in_argv: bool) -> None:
    size = len(json.dumps(value, ensure_ascii=False).encode())
    initialized(proxy, '#!/bin/sh\nn=$(wc -c)\necho "{\\"argc\\": $#, \\"stdin\\": $n}"\n')
    assert answer(proxy.run(value)) == (200, {"argc": 1 if in_argv else 0, "stdin": size})


def test_working_directory_is_the_action_folder(proxy: Proxy) -> None:
    initialized(proxy, '#!/bin/sh\necho "{\\"pwd_env\\": \\"$PWD\\", \\"pwd_cmd\\": \\"$(pwd)\\"}"\n')
    folder = str(proxy.action_dir)
    assert answer(proxy.run({})) == (200, {"pwd_env": folder, "pwd_cmd": folder})


@pytest.mark.parametrize(
    "body", [b'{"value": "A"}', b'{"value": null}', b"[1]"], ids=["string", "null", "array"]
)
def test_argument_that_is_not_a_dictionary_or_array_is_a_404(
    proxy: Proxy, body: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    assert answer(proxy.post("/run", body)) == (404, {"error": NOT_DICT_ARGUMENT})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [], (1, 1))


# --- environment ------------------------------------------------------------

DUMP_ENV = f"#!{sys.executable}\nimport json, os; print(json.dumps(dict(os.environ)))\n"


def test_env_is_stringified_per_run_and_never_written_to_the_proxy(proxy: Proxy) -> None:
    before = dict(os.environ)
    initialized(proxy, DUMP_ENV, env={"S": "xyz", "N": None, "T": True, "F": False, "I": 7, "O": {"a": 1}})
    watched = {"S", "N", "T", "F", "I", "O"}

    def seen(response: Any) -> dict[str, str]:
        assert response.status_code == 200
        return {k: v for k, v in response.get_json().items() if k in watched or k.startswith("__OW_")}

    init_env = {"S": "xyz", "N": "", "T": "true", "F": "false", "I": "7", "O": '{"a":1}'}
    first = proxy.run({}, api_key="abc", activation_id="iii", deadline=123, flag=False, obj={"k": None})
    assert seen(first) == {
        **init_env,
        "__OW_API_HOST": API_HOST,
        "__OW_API_KEY": "abc",
        "__OW_ACTIVATION_ID": "iii",
        "__OW_DEADLINE": "123",
        "__OW_FLAG": "false",
        "__OW_OBJ": '{"k":null}',
    }
    second = proxy.run({}, activation_id="jjj")
    assert seen(second) == {**init_env, "__OW_API_HOST": API_HOST, "__OW_ACTIVATION_ID": "jjj"}
    assert dict(os.environ) == before


# --- archives and binaries --------------------------------------------------

ARCHIVES = {"zip": zip_bytes, "tar.gz": tgz_files}
EXEC_READING_DATA = '#!/bin/sh\necho "zip log"\necho "{\\"data\\": \\"$(cat data.txt)\\"}"\n'


@pytest.mark.parametrize("kind", ARCHIVES)
def test_archive_with_executable_exec_runs(
    proxy: Proxy, kind: str, capfd: pytest.CaptureFixture[str]
) -> None:
    data = ARCHIVES[kind]({"exec": EXEC_READING_DATA, "data.txt": "hello zip"}, {"exec": 0o755})
    initialized(proxy, b64(data), binary=True)
    assert answer(proxy.run({})) == (200, {"data": "hello zip"})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == (["zip log"], [], (1, 1))


@pytest.mark.parametrize(
    ("files", "modes"),
    [({"exec": EXEC_READING_DATA}, {"exec": 0o644}), ({"README": "no exec here"}, {})],
    ids=["exec-not-executable", "no-exec"],
)
def test_archive_without_an_executable_exec_fails_even_over_the_stub(
    proxy: Proxy, files: dict[str, str], modes: dict[str, int], capfd: pytest.CaptureFixture[str]
) -> None:
    assert answer(proxy.init(b64(zip_bytes(files, modes)), binary=True)) == (502, {"error": BUILD_FAILED})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == (
        [],
        [f"The action has no executable {proxy.action_dir / 'exec'}: a zipped native action needs an "
         "executable file named 'exec' at the top of the zip."],
        (1, 1),
    )


def test_binary_that_is_not_an_archive_becomes_the_exec(proxy: Proxy) -> None:
    initialized(proxy, b64(b'#!/bin/sh\necho \'{"binary": true}\'\n'), binary=True)
    assert answer(proxy.run({})) == (200, {"binary": True})


def test_zip_path_traversal_is_refused_and_nothing_is_written(
    make_proxy: ProxyFactory, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("native", stub=False)
    data = zip_bytes({"exec": ECHO_ARGV, "../escaped": "bad"}, {"exec": 0o755})
    message = (
        "The archive contains the path '../escaped', which points outside the action's folder; "
        "build the archive from inside the action's folder with relative paths only."
    )
    assert answer(proxy.init(b64(data), binary=True)) == (400, {"error": message})
    assert sorted(os.listdir(tmp_path)) == ["action"]
    assert os.listdir(proxy.action_dir) == []
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [message], (1, 1))
