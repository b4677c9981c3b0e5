"""OpenWhisk's ``BasicActionRunnerTests``, run against each of the three images.

Every runtime supplies the same few actions in its own language (``Runtime``);
the tests drive them over /init and /run exactly as OpenWhisk's harness does
and compare full bodies, statuses, stream contents and sentinel counts.
"""

import threading
from dataclasses import dataclass

import pytest

from actionproxy.protocol import (
    BUSY,
    INTERNAL_ERROR_PREFIX,
    NO_CODE,
    NOT_DICT_RESULT,
    REINIT_REFUSED,
    SENTINEL,
)
from tests.integration.conftest import (
    NATIVE_IMAGE,
    NODEJS_IMAGE,
    PYTHON_IMAGE,
    init,
    init_payload,
    post_on_new_connection,
    read_streams,
    settled_logs,
    wait_for_log,
)

STUB_RESULT = {"error": "This is a stub action. Replace it with custom logic."}
STUB_LOG = "This is a stub action. Replace it with custom logic."

#: The seven variables of BasicActionRunnerTests plus the transaction id.
OW_VARIABLES = (
    "__OW_API_HOST", "__OW_API_KEY", "__OW_NAMESPACE", "__OW_ACTION_NAME",
    "__OW_ACTION_VERSION", "__OW_ACTIVATION_ID", "__OW_TRANSACTION_ID", "__OW_DEADLINE",
)
ONE_MIB = 1024 * 1024


@dataclass(frozen=True)
class Runtime:
    """One image and its versions of the test actions."""

    name: str
    image: str
    has_stub: bool  # the image answers /run before any code is sent
    identity: str  # returns its argument
    niam: str  # returns its argument, from the entry point "niam"
    not_dict: str  # returns a string
    not_dict_stdout: str  # what a non-dict result leaves on stdout
    echo_print: str  # prints "hello stdout"/"hello stderr", returns its argument
    unicode: str  # {"delimiter": d} -> prints and returns {"winter": "d ☃ d"}
    env_at_load: str  # returns SOME_VAR and ANOTHER_VAR as seen at load time
    ow_env: str  # returns every OW_VARIABLES value, null when unset
    big_output: str  # returns {"out": "x" * ONE_MIB}
    slow: str  # logs "started" to stderr, waits 1.5 s, returns {"slept": true}


PYTHON = Runtime(
    name="python",
    image=PYTHON_IMAGE,
    has_stub=False,
    identity="def main(args):\n    return args\n",
    niam="def niam(args):\n    return args\n",
    not_dict="def main(args):\n    return 'not a dictionary'\n",
    not_dict_stdout="",
    echo_print=(
        "import sys\n"
        "def main(args):\n"
        "    print('hello stdout')\n"
        "    print('hello stderr', file=sys.stderr)\n"
        "    return args\n"
    ),
    unicode=(
        "def main(args):\n"
        "    winter = args['delimiter'] + ' ☃ ' + args['delimiter']\n"
        "    print(winter)\n"
        "    return {'winter': winter}\n"
    ),
    env_at_load=(
        "import os\n"
        "SOME_VAR = os.environ['SOME_VAR']\n"
        "ANOTHER_VAR = os.environ['ANOTHER_VAR']\n"
        "def main(args):\n"
        "    return {'SOME_VAR': SOME_VAR, 'ANOTHER_VAR': ANOTHER_VAR}\n"
    ),
    ow_env=(
        "import os\n"
        "def main(args):\n"
        f"    return {{name: os.environ.get(name) for name in {list(OW_VARIABLES)!r}}}\n"
    ),
    big_output=f"def main(args):\n    return {{'out': 'x' * {ONE_MIB}}}\n",
    slow=(
        "import sys, time\n"
        "def main(args):\n"
        "    print('started', file=sys.stderr, flush=True)\n"
        "    time.sleep(1.5)\n"
        "    return {'slept': True}\n"
    ),
)

NODEJS = Runtime(
    name="nodejs",
    image=NODEJS_IMAGE,
    has_stub=False,
    identity="function main(args) { return args; }\n",
    niam="function niam(args) { return args; }\n",
    not_dict="function main(args) { return 'not a dictionary'; }\n",
    not_dict_stdout="",
    echo_print=(
        "function main(args) {\n"
        "  console.log('hello stdout');\n"
        "  console.error('hello stderr');\n"
        "  return args;\n"
        "}\n"
    ),
    unicode=(
        "function main(args) {\n"
        "  const winter = `${args.delimiter} ☃ ${args.delimiter}`;\n"
        "  console.log(winter);\n"
        "  return { winter };\n"
        "}\n"
    ),
    env_at_load=(
        "const someVar = process.env.SOME_VAR;\n"
        "const anotherVar = process.env.ANOTHER_VAR;\n"
        "function main(args) { return { SOME_VAR: someVar, ANOTHER_VAR: anotherVar }; }\n"
    ),
    ow_env=(
        "function main(args) {\n"
        "  const result = {};\n"
        f"  for (const name of {list(OW_VARIABLES)!r}) result[name] = process.env[name] ?? null;\n"
        "  return result;\n"
        "}\n"
    ),
    big_output=f"function main(args) {{ return {{ out: 'x'.repeat({ONE_MIB}) }}; }}\n",
    slow=(
        "function main(args) {\n"
        "  console.error('started');\n"
        "  return new Promise((resolve) => setTimeout(() => resolve({ slept: true }), 1500));\n"
        "}\n"
    ),
)

# Native actions are shell scripts: the argument arrives on stdin (and in $1),
# the last line of stdout is the result.
NATIVE = Runtime(
    name="native",
    image=NATIVE_IMAGE,
    has_stub=True,
    identity="#!/bin/sh\ncat\n",
    niam="#!/bin/sh\ncat\n",  # the entry point name means nothing to an executable
    not_dict="#!/bin/sh\necho 'not a dictionary'\n",
    not_dict_stdout="not a dictionary",
    echo_print="#!/bin/sh\necho 'hello stdout'\necho 'hello stderr' >&2\ncat\n",
    unicode=(
        "#!/bin/sh\n"
        """delimiter=$(sed -n 's/.*"delimiter": *"\\([^"]*\\)".*/\\1/p')\n"""
        'winter="$delimiter ☃ $delimiter"\n'
        'echo "$winter"\n'
        'echo "{\\"winter\\": \\"$winter\\"}"\n'
    ),
    env_at_load=(
        "#!/bin/sh\n"
        'echo "{\\"SOME_VAR\\": \\"$SOME_VAR\\", \\"ANOTHER_VAR\\": \\"${ANOTHER_VAR-unset}\\"}"\n'
    ),
    ow_env=(
        "#!/bin/sh\n"
        "separator=''\n"
        "printf '{'\n"
        f"for name in {' '.join(OW_VARIABLES)}; do\n"
        '  if eval "[ -n \\"\\${$name+set}\\" ]"; then\n'
        '    eval "value=\\$$name"\n'
        """    printf '%s"%s": "%s"' "$separator" "$name" "$value"\n"""
        "  else\n"
        """    printf '%s"%s": null' "$separator" "$name"\n"""
        "  fi\n"
        "  separator=', '\n"
        "done\n"
        "echo '}'\n"
    ),
    big_output=f"#!/bin/sh\nprintf '{{\"out\": \"'\nhead -c {ONE_MIB} /dev/zero | tr '\\0' x\necho '\"}}'\n",
    slow="#!/bin/sh\necho started >&2\nsleep 1.5\necho '{\"slept\": true}'\n",
)

RUNTIMES = [pytest.param(runtime, id=runtime.name) for runtime in (PYTHON, NODEJS, NATIVE)]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Runtime:
    return request.param


@pytest.fixture
def container(runtime: Runtime, start_container):
    return start_container(runtime.image)


def initialized(container, code: str, **fields) -> None:
    assert init(container, code, **fields) == (200, {"ok": True})


NO_CODE_BODIES = {
    "empty body": {},
    "null code": init_payload(None),
    "empty code and main": init_payload("", main=""),
}


@pytest.mark.parametrize("body", NO_CODE_BODIES.values(), ids=NO_CODE_BODIES.keys())
def test_init_without_code(runtime, container, body):
    status, answer = container.post("/init", body)
    if not runtime.has_stub:
        # Refused without a sentinel; the container can still take real code.
        assert (status, answer) == (403, {"error": NO_CODE})
        assert read_streams(container, sentinels=0) == ("", "")
        initialized(container, runtime.identity)
        assert container.run({"a": 1}) == (200, {"a": 1})
        return
    assert (status, answer) == (200, {"ok": True})
    if body.get("value", {}).get("code") == "":
        # As the dockerskeleton: empty code replaces the stub with an empty file.
        assert container.run({}) == (502, {"error": NOT_DICT_RESULT})
        assert read_streams(container) == (
            "", "The action's exec could not start: [Errno 8] Exec format error: '/action/exec'")
    else:
        assert container.run({}) == (200, STUB_RESULT)
        assert read_streams(container) == (STUB_LOG, "")


def test_proxy_prints_nothing_of_its_own(runtime, container):
    initialized(container, runtime.identity)
    assert read_streams(container, sentinels=0) == ("", "")


def test_init_takes_null_env_no_name_and_a_run_without_value(runtime, container):
    # OpenWhisk's harness sends no name and "env": null, and may post {} to /run.
    assert "name" not in init_payload(runtime.identity)["value"]
    assert init_payload(runtime.identity)["value"]["env"] is None
    initialized(container, runtime.identity)
    assert container.post("/run", {}) == (200, {})
    assert read_streams(container) == ("", "")


def test_not_dict_result(runtime, container):
    initialized(container, runtime.not_dict)
    assert container.post("/run", {}) == (502, {"error": NOT_DICT_RESULT})
    assert read_streams(container) == (runtime.not_dict_stdout, "")


def test_second_init_refused(runtime, container):
    initialized(container, runtime.identity)
    assert init(container, runtime.not_dict) == (403, {"error": REINIT_REFUSED})
    out, err = read_streams(container, sentinels=0)
    assert REINIT_REFUSED in out + err
    # The first action is still the one that runs.
    assert container.run({"still": "identity"}) == (200, {"still": "identity"})


def test_non_standard_entry_point(runtime, container):
    initialized(container, runtime.niam, main="niam")
    assert container.run({"string": "hello"}) == (200, {"string": "hello"})
    assert read_streams(container) == ("", "")


def test_echo_with_prints_over_four_runs(runtime, container):
    initialized(container, runtime.echo_print)
    arguments = [{"string": "hello"}, {"string": "❄ ☃ ❄"}, {"numbers": [42, 1]}, {"object": {"a": "A"}}]
    for argument in arguments:
        assert container.run(argument) == (200, argument)
    # Each activation's output precedes its sentinel, on both streams.
    out, err = settled_logs(container, sentinels=4)
    assert out == f"hello stdout\n{SENTINEL}\n" * 4
    assert err == f"hello stderr\n{SENTINEL}\n" * 4


def test_unicode_in_source_input_logs_and_result(runtime, container):
    initialized(container, runtime.unicode)
    assert container.run({"delimiter": "❄"}) == (200, {"winter": "❄ ☃ ❄"})
    assert read_streams(container) == ("❄ ☃ ❄", "")


def test_init_env_visible_when_the_action_loads(runtime, container):
    initialized(container, runtime.env_at_load, env={"SOME_VAR": "xyz", "ANOTHER_VAR": ""})
    assert container.run({}) == (200, {"SOME_VAR": "xyz", "ANOTHER_VAR": ""})
    assert read_streams(container) == ("", "")


def test_ow_variables_are_fresh_each_run(runtime, start_container):
    container = start_container(runtime.image, environment={"__OW_API_HOST": "xyz"})
    initialized(container, runtime.ow_env)
    first = {"api_key": "abc", "namespace": "zzz", "action_name": "xxx", "action_version": "0.0.1",
             "activation_id": "iii", "transaction_id": "ttt", "deadline": "123"}
    assert container.post("/run", {"value": {}, **first}) == (200, {
        "__OW_API_HOST": "xyz", "__OW_API_KEY": "abc", "__OW_NAMESPACE": "zzz",
        "__OW_ACTION_NAME": "xxx", "__OW_ACTION_VERSION": "0.0.1", "__OW_ACTIVATION_ID": "iii",
        "__OW_TRANSACTION_ID": "ttt", "__OW_DEADLINE": "123",
    })
    # Run 2 leaves out api_key and transaction_id: they must not linger from run 1.
    second = {"namespace": "ns2", "action_name": "/ns2/act", "action_version": "0.0.2",
              "activation_id": "jjj", "deadline": "456"}
    assert container.post("/run", {"value": {}, **second}) == (200, {
        "__OW_API_HOST": "xyz", "__OW_API_KEY": None, "__OW_NAMESPACE": "ns2",
        "__OW_ACTION_NAME": "/ns2/act", "__OW_ACTION_VERSION": "0.0.2", "__OW_ACTIVATION_ID": "jjj",
        "__OW_TRANSACTION_ID": None, "__OW_DEADLINE": "456",
    })
    # The docs call the deadline a Number: a non-string value arrives as its JSON text.
    assert container.post("/run", {"value": {}, "deadline": 789})[1]["__OW_DEADLINE"] == "789"
    assert read_streams(container, sentinels=3) == ("", "")


def test_array_input_and_output(runtime, container):
    initialized(container, runtime.identity)
    argument = ["a", {"b": [1, 2]}, None, 3.5]
    assert container.run(argument) == (200, argument)
    assert container.run([]) == (200, [])
    assert read_streams(container, sentinels=2) == ("", "")


def test_large_input_echoed(runtime, container):
    initialized(container, runtime.identity)
    argument = {"arg": "a" * 1048561}
    assert container.run(argument) == (200, argument)
    assert read_streams(container) == ("", "")


def test_large_output(runtime, container):
    initialized(container, runtime.big_output)
    assert container.run({}) == (200, {"out": "x" * ONE_MIB})
    assert read_streams(container) == ("", "")


def test_overlapping_run_refused(runtime, start_container):
    # Only Node.js started with __OW_ALLOW_CONCURRENT=true may overlap runs;
    # the flag means nothing to the other kinds.
    flag = {} if runtime is NODEJS else {"__OW_ALLOW_CONCURRENT": "true"}
    container = start_container(runtime.image, environment=flag)
    initialized(container, runtime.slow)
    answers = {}
    first = threading.Thread(target=lambda: answers.update(first=post_on_new_connection(
        container, "/run", {"value": {}})))
    first.start()
    try:
        wait_for_log(container, "started")
        assert post_on_new_connection(container, "/run", {"value": {}}) == (403, {"error": BUSY})
    finally:
        first.join()
    assert answers["first"] == (200, {"slept": True})
    # As upstream Node.js (NodeJsNonConcurrentTests): the refused run writes
    # no sentinel, and its reason goes to stderr with the "internal" prefix.
    out, err = read_streams(container, sentinels=1)
    assert (out, err.splitlines()) == ("", ["started", INTERNAL_ERROR_PREFIX + BUSY])
