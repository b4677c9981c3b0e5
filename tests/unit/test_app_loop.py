"""The proxy in loop mode (Python and Node.js launchers) through Flask's test client.

Bodies and status codes are compared whole against ``actionproxy.protocol``;
sentinels are counted per stream with ``capfd`` because the app and the
launcher write to file descriptors 1 and 2 directly.
"""

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from actionproxy.protocol import (
    BUILD_FAILED,
    BUSY,
    CANNOT_START,
    COMMAND_EXITED,
    EXITED_DURING_INIT,
    NO_ACTION,
    NO_CODE,
    NOT_DICT_ARGUMENT,
    NOT_DICT_RESULT,
    REINIT_REFUSED,
    SENTINEL,
    ZIP_WITHOUT_MAIN,
)

from .conftest import (
    API_HOST,
    LOOP_RUNTIMES,
    Proxy,
    ProxyFactory,
    b64,
    needs_node,
    read_logs,
    tgz_files,
    zip_bytes,
)

#: The same behaviour written for each launcher.
ACTIONS: dict[str, dict[str, str]] = {
    "python": {
        "echo": "def main(args):\n    return args\n",
        "niam": "def niam(args):\n    return {'niam': args}\n",
        "prints": (
            "import sys\n"
            "def main(args):\n"
            "    print('hello stdout')\n"
            "    print('hello stderr', file=sys.stderr)\n"
            "    return {'printed': True}\n"
        ),
        "string": "def main(args):\n    return 'a string'\n",
        "app_error": "def main(args):\n    return {'error': 'sorry'}\n",
        "exits_in_run": "import sys\ndef main(args):\n    sys.exit(1)\n",
        "exits_at_load": "import sys\nsys.exit(1)\n",
        # Values seen while the module loads, then the __OW_ variables of this run.
        "environment": (
            "import os\n"
            "LOADED = dict(os.environ)\n"
            "def main(args):\n"
            "    return {'loaded': {k: LOADED.get(k) for k in args.get('keys', [])},\n"
            "            'ow': {k: v for k, v in os.environ.items() if k.startswith('__OW_')}}\n"
        ),
    },
    "nodejs": {
        "echo": "function main(args) { return args; }",
        "niam": "function niam(args) { return {niam: args}; }",
        "prints": (
            "function main(args) {\n"
            "  console.log('hello stdout');\n"
            "  console.error('hello stderr');\n"
            "  return {printed: true};\n"
            "}\n"
        ),
        "string": "function main(args) { return 'a string'; }",
        "app_error": "function main(args) { return {error: 'sorry'}; }",
        "exits_in_run": "function main(args) { process.exit(1); }",
        "exits_at_load": "process.exit(1);\nfunction main(args) { return args; }",
        "environment": (
            "const LOADED = Object.assign({}, process.env);\n"
            "function main(args) {\n"
            "  const loaded = {}, ow = {};\n"
            "  for (const k of args.keys || []) loaded[k] = k in LOADED ? LOADED[k] : null;\n"
            "  for (const k of Object.keys(process.env)) if (k.startsWith('__OW_')) ow[k] = process.env[k];\n"
            "  return {loaded, ow};\n"
            "}\n"
        ),
    },
}


@pytest.fixture(params=LOOP_RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def proxy(make_proxy: ProxyFactory, runtime: str) -> Proxy:
    return make_proxy(runtime)


def initialized(proxy: Proxy, runtime: str, action: str, **fields: Any) -> Proxy:
    response = proxy.init(ACTIONS[runtime][action], **fields)
    assert (response.status_code, response.get_json()) == (200, {"ok": True})
    return proxy


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.get_json()


# --- /init -----------------------------------------------------------------


def test_init_then_runs_echo_with_one_sentinel_per_run(
    proxy: Proxy, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    initialized(proxy, runtime, "echo")
    assert read_logs(capfd).sentinels == (0, 0)  # a successful init writes none
    arguments = [
        {"string": "hello"}, {"string": "❄ ☃ ❄"}, {"numbers": [42, 1]}, {"object": {"a": "A"}}, ["a", "b"],
    ]
    for argument in arguments:
        assert answer(proxy.run(argument)) == (200, argument)
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [], (5, 5))


def test_init_with_another_entry_point(proxy: Proxy, runtime: str) -> None:
    initialized(proxy, runtime, "niam", main="niam")
    assert answer(proxy.run({"string": "hello"})) == (200, {"niam": {"string": "hello"}})


def test_action_output_precedes_the_sentinel_on_each_stream(
    proxy: Proxy, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    initialized(proxy, runtime, "prints")
    assert answer(proxy.run({})) == (200, {"printed": True})
    assert capfd.readouterr() == (f"hello stdout\n{SENTINEL}\n", f"hello stderr\n{SENTINEL}\n")


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b'{"value": null}', b'{"value": {}}', b'{"value": {"code": ""}}',
     b'{"value": {"code": null, "main": "main", "binary": false, "env": null}}'],
    ids=["empty", "object", "value-null", "value-empty", "code-empty", "code-null"],
)
def test_init_without_code_is_refused_with_no_sentinel(
    proxy: Proxy, body: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    assert answer(proxy.post("/init", body)) == (403, {"error": NO_CODE})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [], (0, 0))
    # Nothing was initialized: /run still has no action.
    assert answer(proxy.run({})) == (500, {"error": NO_ACTION})


def test_second_init_is_refused_and_the_first_action_stays(
    proxy: Proxy, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    initialized(proxy, runtime, "echo")
    assert answer(proxy.init(ACTIONS[runtime]["string"])) == (403, {"error": REINIT_REFUSED})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [REINIT_REFUSED], (0, 0))
    assert answer(proxy.run({"still": "echo"})) == (200, {"still": "echo"})


def test_reinit_replaces_the_action_when_allowed(make_proxy: ProxyFactory, runtime: str) -> None:
    proxy = initialized(make_proxy(runtime, PROXY_ALLOW_REINIT="1"), runtime, "echo")
    initialized(proxy, runtime, "niam", main="niam")
    assert answer(proxy.run({"a": 1})) == (200, {"niam": {"a": 1}})


def test_run_before_init_has_no_action(proxy: Proxy, capfd: pytest.CaptureFixture[str]) -> None:
    assert answer(proxy.run({})) == (500, {"error": NO_ACTION})
    assert read_logs(capfd).sentinels == (1, 1)


def test_module_that_exits_while_loading_cannot_start(
    proxy: Proxy, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert answer(proxy.init(ACTIONS[runtime]["exits_at_load"])) == (502, {"error": CANNOT_START})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == (
        [],
        [f"{EXITED_DURING_INIT} (the launcher exited with status 1)"],
        (1, 1),
    )
    assert answer(proxy.run({})) == (500, {"error": NO_ACTION})


PYTHON_INIT_FAILURES = {
    "syntax": ("def main(args) return args\n", "main", BUILD_FAILED, "SyntaxError: expected ':'"),
    "not-python": ("10 PRINT 'HELLO'\n20 GOTO 10\n", "main", BUILD_FAILED, "SyntaxError: invalid syntax"),
    "import": ("import no_such_module_here\ndef main(a): return a\n", "main", CANNOT_START,
               "ModuleNotFoundError: No module named 'no_such_module_here'"),
    "no-entry": (
        "def main(args): return args\n", "niam",
        "The action's entry point 'niam' is not defined in its code; define 'def niam(args):' "
        "or set main to the name of the action's function.",
        "Entry point 'niam' is not defined in the source.",
    ),
    "entry-not-function": (
        "main = 42\n", "main",
        "The action's entry point 'main' is not a function in its code; define 'def main(args):' "
        "or set main to the name of the action's function.",
        "Entry point 'main' is not a function in the source.",
    ),
}


@pytest.mark.parametrize(
    ("code", "main", "message", "last_log_line"), PYTHON_INIT_FAILURES.values(), ids=PYTHON_INIT_FAILURES
)
def test_python_init_failures(
    make_proxy: ProxyFactory, code: str, main: str, message: str, last_log_line: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    proxy = make_proxy("python")
    assert answer(proxy.init(code, main=main)) == (502, {"error": message})
    logs = read_logs(capfd)
    written = [line for line in logs.err if line]
    assert (logs.out, written[-1], logs.sentinels) == ([], last_log_line, (1, 1))


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("function main(args) { return args +; }", "SyntaxError: Unexpected token ';'"),
        ("function other(args) { return args; }", "Action entrypoint 'main' is not a function."),
        ("var main = 42;", "Action entrypoint 'main' is not a function."),
        ("throw new Error('broken module');", "Error: broken module"),
    ],
    ids=["syntax", "no-entry", "entry-not-function", "throws-at-load"],
)
@needs_node
def test_nodejs_init_failures(
    make_proxy: ProxyFactory, code: str, message: str, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("nodejs")
    assert answer(proxy.init(code)) == (502, {"error": "Initialization has failed due to: " + message})
    logs = read_logs(capfd)
    assert (logs.out, logs.sentinels) == ([], (1, 1))
    assert message in "\n".join(logs.err)


# --- malformed and wrongly typed bodies ------------------------------------


@pytest.mark.parametrize("route", ["/init", "/run"])
@pytest.mark.parametrize(
    "body", [b"{bad", b'{"value": ', b"\xff\xfe"], ids=["bad-key", "truncated", "not-utf8"]
)
def test_malformed_json_is_a_400_sentence(
    proxy: Proxy, route: str, body: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError) as parser:
        json.loads(body)
    message = f"The request body is not valid JSON ({parser.value}); send a JSON object."
    assert answer(proxy.post(route, body)) == (400, {"error": message})
    logs = read_logs(capfd)
    # /init tells the same words to the logs; both write one sentinel per stream.
    assert (logs.out, logs.err, logs.sentinels) == ([], [message] if route == "/init" else [], (1, 1))


def wrong_field(key: str, described: str, got: str) -> str:
    return f"The /init field '{key}' must be {described}, not {got}; fix the field or leave it out."


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"code": 42}, wrong_field("code", "a string", "int")),
        ({"code": "x", "binary": "yes"}, wrong_field("binary", "true or false", "str")),
        ({"code": "x", "main": 1}, wrong_field("main", "a string naming the entry point", "int")),
        ({"code": "x", "name": ["n"]}, wrong_field("name", "a string", "list")),
        ({"code": "x", "env": "A=1"}, wrong_field("env", "a JSON object of variables", "str")),
    ],
    ids=["code", "binary", "main", "name", "env"],
)
def test_init_field_of_the_wrong_type_is_a_400(
    proxy: Proxy, value: dict[str, Any], message: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert answer(proxy.client.post("/init", json={"value": value})) == (400, {"error": message})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [message], (1, 1))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", 'The /init body must be a JSON object such as {"value": {"code": ...}}.'),
        (b'"code"', 'The /init body must be a JSON object such as {"value": {"code": ...}}.'),
        (b'{"value": [1]}',
         "The /init field 'value' must be a JSON object holding code, main, binary and env."),
    ],
    ids=["array", "string", "value-array"],
)
def test_init_body_that_is_not_an_object_is_a_400(proxy: Proxy, body: bytes, message: str) -> None:
    assert answer(proxy.post("/init", body)) == (400, {"error": message})


def test_binary_code_that_is_not_base64_is_a_400(proxy: Proxy) -> None:
    assert answer(proxy.init("not base64!", binary=True)) == (
        400,
        {"error": "The action's code is marked binary but is not valid base64 (Only base64 data is "
                  "allowed); send the zip base64-encoded or set binary to false."},
    )


@pytest.mark.parametrize(
    "body",
    [b'{"value": "A"}', b'{"value": 42}', b'{"value": null}', b'{"value": true}', b"[1]", b'"A"', b"7"],
    ids=["string", "number", "null", "bool", "body-array", "body-string", "body-number"],
)
def test_argument_that_is_not_a_dictionary_or_array_is_a_404(
    proxy: Proxy, runtime: str, body: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    initialized(proxy, runtime, "echo")
    assert answer(proxy.post("/run", body)) == (404, {"error": NOT_DICT_ARGUMENT})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [], (1, 1))


@pytest.mark.parametrize("body", [b"", b"null", b"{}"], ids=["empty", "null", "no-value"])
def test_run_without_a_value_runs_with_an_empty_object(proxy: Proxy, runtime: str, body: bytes) -> None:
    initialized(proxy, runtime, "echo")
    assert answer(proxy.post("/run", body)) == (200, {})


# --- /run results ----------------------------------------------------------


def test_result_that_is_not_a_dictionary_or_array_is_a_502(
    proxy: Proxy, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    initialized(proxy, runtime, "string")
    assert answer(proxy.run({})) == (502, {"error": NOT_DICT_RESULT})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [], (1, 1))


def test_application_error_passes_through_with_200(proxy: Proxy, runtime: str) -> None:
    initialized(proxy, runtime, "app_error")
    assert answer(proxy.run({})) == (200, {"error": "sorry"})


def test_action_exiting_mid_run_is_a_400_and_later_runs_have_no_action(
    proxy: Proxy, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    initialized(proxy, runtime, "exits_in_run")
    assert answer(proxy.run({})) == (400, {"error": COMMAND_EXITED})
    assert answer(proxy.run({})) == (500, {"error": NO_ACTION})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [], (2, 2))


def test_python_action_exiting_is_noticed_although_a_background_child_lives_on(
    make_proxy: ProxyFactory,
) -> None:
    # os.system's shell inherits every inheritable descriptor; if the result
    # pipe were one of them, the exit would go unseen until the child ends.
    proxy = make_proxy("python")
    code = "import os, sys\ndef main(args):\n    os.system('sleep 3 &')\n    sys.exit(1)\n"
    assert answer(proxy.init(code)) == (200, {"ok": True})
    started = time.monotonic()
    assert answer(proxy.run({})) == (400, {"error": COMMAND_EXITED})
    assert time.monotonic() - started < 2


def test_python_exception_is_an_application_error_with_the_traceback_logged(
    make_proxy: ProxyFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("python")
    assert answer(proxy.init("def main(args):\n    return 1 / 0\n")) == (200, {"ok": True})
    assert answer(proxy.run({})) == (200, {"error": "division by zero"})
    assert answer(proxy.run({})) == (200, {"error": "division by zero"})  # the launcher goes on
    logs = read_logs(capfd)
    assert (logs.out, logs.err[0], logs.err[-1], logs.sentinels) == (
        [], "Traceback (most recent call last):", "ZeroDivisionError: division by zero", (2, 2),
    )


NODE_RUN_OUTCOMES = {
    "throw-string": ("function main() { throw 'nooooo'; }", 502, {"error": "An error has occurred: nooooo"}),
    "throw-error": ("function main() { throw new Error('bad'); }", 502,
                    {"error": "An error has occurred: Error: bad"}),
    "return-nothing": ("function main() { return; }", 200, {}),
    "return-null": ("function main() { return null; }", 502, {"error": NOT_DICT_RESULT}),
    "resolve-later": ("function main(a) { return new Promise(r => setTimeout(() => r({done: a}), 20)); }",
                      200, {"done": {"x": 1}}),
    "reject": ("function main() { return Promise.reject({no: 1}); }", 200, {"error": {"no": 1}}),
    "reject-nothing": ("function main() { return Promise.reject(); }", 200, {"error": {}}),
    "reject-error": ("async function main() { throw new Error('app error'); }", 200,
                     {"error": "Error: app error"}),
    "global-main": ("global.main = function (a) { return {global: a}; };", 200, {"global": {"x": 1}}),
    "exports-main": ("exports.main = function (a) { return {exports: a}; };", 200, {"exports": {"x": 1}}),
    "module-exports": ("module.exports.main = (a) => ({module: a});", 200, {"module": {"x": 1}}),
}


@pytest.mark.parametrize(("code", "status", "body"), NODE_RUN_OUTCOMES.values(), ids=NODE_RUN_OUTCOMES)
@needs_node
def test_nodejs_run_outcomes(
    make_proxy: ProxyFactory, code: str, status: int, body: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("nodejs")
    assert answer(proxy.init(code)) == (200, {"ok": True})
    assert answer(proxy.run({"x": 1})) == (status, body)
    assert read_logs(capfd).sentinels == (1, 1)


# --- archives --------------------------------------------------------------

ARCHIVES = {"zip": zip_bytes, "tar.gz": tgz_files}


@pytest.mark.parametrize("kind", ARCHIVES)
def test_python_archive_with_helper_module_and_data_file(make_proxy: ProxyFactory, kind: str) -> None:
    files = {
        "__main__.py": (
            "import helper\n"
            "def niam(args):\n"
            "    return {'echo': helper.echo(args), 'data': open('data.txt').read()}\n"
        ),
        "helper.py": "def echo(args):\n    return args\n",
        "data.txt": "❄ from the zip",
    }
    proxy = make_proxy("python")
    assert answer(proxy.init(b64(ARCHIVES[kind](files)), binary=True, main="niam")) == (200, {"ok": True})
    assert answer(proxy.run({"a": 1})) == (200, {"echo": {"a": 1}, "data": "❄ from the zip"})


def test_python_zip_without_main_module(make_proxy: ProxyFactory, capfd: pytest.CaptureFixture[str]) -> None:
    proxy = make_proxy("python")
    assert answer(proxy.init(b64(zip_bytes({"other.py": "x = 1\n"})), binary=True)) == (
        502, {"error": BUILD_FAILED},
    )
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [ZIP_WITHOUT_MAIN], (1, 1))


def test_zip_keeps_execute_bits(make_proxy: ProxyFactory) -> None:
    files = {
        "__main__.py": (
            "import os\n"
            "def main(args):\n"
            "    return {n: os.access(n, os.X_OK) for n in ('tool', 'data')}\n"
        ),
        "tool": "#!/bin/sh\n",
        "data": "plain",
    }
    proxy = make_proxy("python")
    assert answer(proxy.init(b64(zip_bytes(files, {"tool": 0o755})), binary=True)) == (200, {"ok": True})
    assert answer(proxy.run({})) == (200, {"tool": True, "data": False})


@pytest.mark.parametrize("kind", ARCHIVES)
def test_archive_path_traversal_is_refused_and_nothing_is_written(
    make_proxy: ProxyFactory, kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("python")
    data = ARCHIVES[kind]({"__main__.py": "def main(a): return a\n", "../escaped.py": "bad"})
    message = (
        "The archive contains the path '../escaped.py', which points outside the action's folder; "
        "build the archive from inside the action's folder with relative paths only."
    )
    assert answer(proxy.init(b64(data), binary=True)) == (400, {"error": message})
    assert sorted(os.listdir(tmp_path)) == ["action"]
    assert list(proxy.action_dir.iterdir()) == []
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == ([], [message], (1, 1))


@needs_node
def test_nodejs_zip_with_package_json(make_proxy: ProxyFactory) -> None:
    files = {
        "package.json": '{"main": "lib/entry.js"}',
        "lib/entry.js": "const fs = require('fs');\n"
                        "exports.main = (a) => ({echo: a, data: fs.readFileSync('data.txt', 'utf8')});\n",
        "data.txt": "bundled",
    }
    proxy = make_proxy("nodejs")
    assert answer(proxy.init(b64(zip_bytes(files)), binary=True)) == (200, {"ok": True})
    assert answer(proxy.run({"a": 1})) == (200, {"echo": {"a": 1}, "data": "bundled"})


# --- environment -----------------------------------------------------------

INIT_ENV = {"S": "xyz", "EMPTY": "", "NONE": None, "T": True, "F": False, "I": 42, "R": 1.5,
            "O": {"a": [1, "❄"]}}
INIT_ENV_SEEN = {"S": "xyz", "EMPTY": "", "NONE": "", "T": "true", "F": "false", "I": "42", "R": "1.5",
                 "O": '{"a":[1,"❄"]}'}


def test_init_env_is_stringified_and_exported_before_the_code_loads(proxy: Proxy, runtime: str) -> None:
    initialized(proxy, runtime, "environment", env=INIT_ENV)
    status, body = answer(proxy.run({"keys": list(INIT_ENV)}))
    assert (status, body["loaded"]) == (200, INIT_ENV_SEEN)


def test_ow_variables_are_set_for_one_run_only_and_never_in_the_proxy(
    proxy: Proxy, runtime: str
) -> None:
    before = dict(os.environ)
    initialized(proxy, runtime, "environment")
    first = proxy.run({}, api_key="abc", namespace="zzz", action_name="/zzz/xxx", action_version="0.0.1",
                      activation_id="iii", transaction_id="ttt", deadline="123")
    assert answer(first) == (200, {"loaded": {}, "ow": {
        "__OW_API_HOST": API_HOST,
        "__OW_API_KEY": "abc",
        "__OW_NAMESPACE": "zzz",
        "__OW_ACTION_NAME": "/zzz/xxx",
        "__OW_ACTION_VERSION": "0.0.1",
        "__OW_ACTIVATION_ID": "iii",
        "__OW_TRANSACTION_ID": "ttt",
        "__OW_DEADLINE": "123",
    }})
    # Non-string context values are stringified; keys of the previous run are gone.
    second = proxy.run({}, activation_id="jjj", deadline=456, flag=True, nothing=None, extra={"k": [1]})
    assert answer(second) == (200, {"loaded": {}, "ow": {
        "__OW_API_HOST": API_HOST,
        "__OW_ACTIVATION_ID": "jjj",
        "__OW_DEADLINE": "456",
        "__OW_FLAG": "true",
        "__OW_NOTHING": "",
        "__OW_EXTRA": '{"k":[1]}',
    }})
    assert dict(os.environ) == before


# --- overlapping runs ------------------------------------------------------

WAIT_FOR_GO = (
    "import os, sys, time\n"
    "def main(args):\n"
    "    open('started', 'w').close()\n"
    "    print('started', file=sys.stderr)\n"
    "    for _ in range(500):\n"
    "        if os.path.exists('go'):\n"
    "            return {'slept': True}\n"
    "        time.sleep(0.01)\n"
    "    return {'slept': False}\n"
)


def wait_for(path: Path) -> None:
    for _ in range(500):
        if path.exists():
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


def test_overlapping_run_is_refused_without_a_sentinel(
    make_proxy: ProxyFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("python")
    assert answer(proxy.init(WAIT_FOR_GO)) == (200, {"ok": True})
    answers: dict[str, Any] = {}
    first = threading.Thread(target=lambda: answers.update(first=answer(proxy.run({}))))
    first.start()
    try:
        wait_for(proxy.action_dir / "started")
        assert answer(proxy.run({})) == (403, {"error": BUSY})
    finally:
        (proxy.action_dir / "go").touch()
        first.join(10)
    assert answers["first"] == (200, {"slept": True})
    logs = read_logs(capfd)
    assert (logs.out, logs.err, logs.sentinels) == (
        [], ["started", "Internal system error: " + BUSY], (1, 1),
    )


NODE_WAITS_FOR_TWO = (
    "const waiting = [];\n"
    "function main(args) {\n"
    "  return new Promise((resolve) => {\n"
    "    waiting.push(() => resolve({args}));\n"
    "    if (waiting.length === 2) waiting.forEach((release) => release());\n"
    "  });\n"
    "}\n"
)


@pytest.mark.timeout(20)
@needs_node
def test_nodejs_overlapping_runs_when_concurrency_is_allowed(
    make_proxy: ProxyFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy = make_proxy("nodejs", __OW_ALLOW_CONCURRENT="true")
    assert answer(proxy.init(NODE_WAITS_FOR_TWO)) == (200, {"ok": True})
    answers: dict[int, Any] = {}
    threads = [
        threading.Thread(target=lambda i=i: answers.update({i: answer(proxy.run({"i": i}))}))
        for i in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == {1: (200, {"args": {"i": 1}}), 2: (200, {"args": {"i": 2}})}
    assert read_logs(capfd).sentinels == (2, 2)
