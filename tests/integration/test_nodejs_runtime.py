"""The Node.js image beyond the basic cases: OpenWhisk's Node.js test suites."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from actionproxy.protocol import (
    NO_ACTION,
    NODE_INIT_FAILED_PREFIX,
    NODE_RUN_FAILED_PREFIX,
    NODE_ZIP_WITHOUT_ENTRY,
    SENTINEL,
)
from tests.integration.conftest import (
    NODEJS_IMAGE,
    init,
    post_on_new_connection,
    read_streams,
    settled_logs,
    zip_base64,
)


@pytest.fixture
def container(start_container):
    return start_container(NODEJS_IMAGE)


def initialized(container, code: str, **fields) -> None:
    assert init(container, code, **fields) == (200, {"ok": True})


def test_run_before_init_is_refused(container):
    assert container.run({}) == (500, {"error": NO_ACTION})
    assert read_streams(container) == ("", "")


ENTRY_POINTS = {
    "function declaration": "function main(args) { return { greeting: 'hi ' + args.name }; }",
    "implicit global": "greeting = 'hi ';\nfunction main(args) { return { greeting: greeting + args.name }; }",
    "global.main": "global.main = function (args) { return { greeting: 'hi ' + args.name }; };",
    "webpack style": "(function () { global.main = (args) => ({ greeting: 'hi ' + args.name }); })();",
    "exports.main": "exports.main = (args) => ({ greeting: 'hi ' + args.name });",
    "module.exports.main": "module.exports.main = (args) => ({ greeting: 'hi ' + args.name });",
    "module.exports = {main}": "module.exports = { main: (args) => ({ greeting: 'hi ' + args.name }) };",
}


@pytest.mark.parametrize("code", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_entry_point_forms(container, code):
    initialized(container, code)
    assert container.run({"name": "x"}) == (200, {"greeting": "hi x"})
    assert read_streams(container) == ("", "")


RESULTS = {
    "return nothing": ("function main() { return; }", 200, {}),
    "payload": (
        "function main(params) { return { payload: 'Hello, ' + params.name + ' from ' + params.place }; }",
        200, {"payload": "Hello, Ada from London"},
    ),
    "error result": ("function main() { return { error: 'sorry' }; }", 200, {"error": "sorry"}),
    "resolved promise": (
        "function main(args) { return new Promise((resolve) => setTimeout(() => resolve({ done: args.name }), 100)); }",
        200, {"done": "Ada"},
    ),
    "rejected promise": ("function main() { return Promise.reject({ reason: 'no' }); }",
                         200, {"error": {"reason": "no"}}),
    "reject()": ("function main() { return new Promise((resolve, reject) => reject()); }", 200, {"error": {}}),
    "async throw": ("async function main() { throw new Error('app error'); }", 200, {"error": "Error: app error"}),
    "async reference error": ("async function main() { return a; }",
                              200, {"error": "ReferenceError: a is not defined"}),
    "default parameters": ("function main({ name = 'nobody', place }) { return { who: name + '@' + place }; }",
                           200, {"who": "Ada@London"}),
}


@pytest.mark.parametrize(("code", "status", "body"), RESULTS.values(), ids=RESULTS.keys())
def test_results(container, code, status, body):
    initialized(container, code)
    assert container.run({"name": "Ada", "place": "London"}) == (status, body)
    assert read_streams(container) == ("", "")


THROWS = {
    "throw a string": ("function main() { throw 'nooooo'; }", "nooooo", "nooooo"),
    "throw an Error": ("function main() { throw new Error('boom'); }", "Error: boom", "Error: boom\n    at main"),
}


@pytest.mark.parametrize(("code", "error", "logged"), THROWS.values(), ids=THROWS.keys())
def test_sync_throw_is_a_developer_error(container, code, error, logged):
    initialized(container, code)
    assert container.run({}) == (502, {"error": NODE_RUN_FAILED_PREFIX + error})
    out, err = read_streams(container)
    assert out == ""
    assert err.startswith(logged)


def test_require_of_a_missing_package_fails_at_run(container):
    initialized(container, "function main() { return require('no-such-package'); }")
    status, body = container.run({})
    assert status == 502
    assert body["error"].startswith(NODE_RUN_FAILED_PREFIX + "Error: Cannot find module 'no-such-package'")
    assert "Error: Cannot find module 'no-such-package'" in read_streams(container)[1]


def test_syntax_error_fails_init(container):
    status, body = init(container, "function main(args) { return { a: ; }")
    assert status == 502
    assert body == {"error": NODE_INIT_FAILED_PREFIX + "SyntaxError: Unexpected token ';'"}
    out, err = read_streams(container)
    assert out == ""
    assert "SyntaxError: Unexpected token ';'" in err


def test_throwing_module_body_fails_init(container):
    status, body = init(container, "throw new Error('module boom');\nfunction main() { return {}; }")
    assert (status, body) == (502, {"error": NODE_INIT_FAILED_PREFIX + "Error: module boom"})
    out, err = read_streams(container)
    assert out == ""
    assert err.startswith("Error: module boom\n    at ")


def test_large_source(container):
    padding = "// " + "x" * 100 + "\n"
    code = padding * 5000 + "function main(args) { return { size: 'big' }; }\n"
    assert len(code) > 500_000
    initialized(container, code)
    assert container.run({}) == (200, {"size": "big"})


HELLO = "(args) => ({ greeting: 'hello ' + args.name })"
ZIPS = {
    "package.json main": (
        {"package.json": json.dumps({"main": "src/action.js"}), "src/action.js": f"exports.main = {HELLO};"},
        "main", {"greeting": "hello zip"},
    ),
    "index.js only": ({"index.js": f"exports.main = {HELLO};"}, "main", {"greeting": "hello zip"}),
    "index.js, main niam": ({"index.js": f"exports.niam = {HELLO};"}, "niam", {"greeting": "hello zip"}),
    "other.niam": ({"other.js": f"exports.niam = {HELLO};"}, "other.niam", {"greeting": "hello zip"}),
    "nested other.niam.xyz": (
        {"other.js": f"exports.niam = {{ xyz: {HELLO} }};"}, "other.niam.xyz", {"greeting": "hello zip"},
    ),
    "package.json, main other.niam": (
        {"package.json": json.dumps({"main": "index.js"}), "index.js": "exports.main = () => ({ wrong: true });",
         "other.js": f"exports.niam = {HELLO};"},
        "other.niam", {"greeting": "hello zip"},
    ),
    "bundled node_modules": (
        {"package.json": json.dumps({"main": "index.js", "dependencies": {"shout": "1.0.0"}}),
         "index.js": "const shout = require('shout');\nexports.main = (args) => ({ greeting: shout(args.name) });",
         "node_modules/shout/package.json": json.dumps({"name": "shout", "version": "1.0.0"}),
         "node_modules/shout/index.js": "module.exports = (text) => text.toUpperCase() + '!';"},
        "main", {"greeting": "ZIP!"},
    ),
    "cwd and a bundled file": (
        {"index.js": "const fs = require('fs');\n"
                     "exports.main = () => ({ cwd: process.cwd(), text: fs.readFileSync('data.txt', 'utf8') });",
         "data.txt": "bundled text"},
        "main", {"cwd": "/action", "text": "bundled text"},
    ),
}


@pytest.mark.parametrize(("files", "main", "result"), ZIPS.values(), ids=ZIPS.keys())
def test_zip_actions(container, files, main, result):
    initialized(container, zip_base64(files), binary=True, main=main)
    assert container.run({"name": "zip"}) == (200, result)
    assert read_streams(container) == ("", "")


def test_zip_without_package_json_or_index_js(container):
    code = zip_base64({"other.js": f"exports.main = {HELLO};"})
    assert init(container, code, binary=True) == (
        502, {"error": f"{NODE_INIT_FAILED_PREFIX}Error: {NODE_ZIP_WITHOUT_ENTRY}"})
    out, err = read_streams(container)
    assert out == ""
    assert NODE_ZIP_WITHOUT_ENTRY in err


def test_concurrent_runs(start_container):
    # Every activation waits until all of them have arrived: this only
    # finishes if the runs really overlap inside one container.
    count = 20
    container = start_container(NODEJS_IMAGE, environment={"__OW_ALLOW_CONCURRENT": "true"})
    initialized(container, (
        "let arrived = 0;\n"
        "let release;\n"
        "const everyone = new Promise((resolve) => { release = resolve; });\n"
        "function main(args) {\n"
        "  console.log('arrived');\n"
        f"  if (++arrived === {count}) release();\n"
        "  return everyone.then(() => ({ id: args.id }));\n"
        "}\n"
    ))
    with ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(
            lambda i: post_on_new_connection(container, "/run", {"value": {"id": i}}, timeout=15),
            range(count)))
    assert answers == [(200, {"id": i}) for i in range(count)]
    # The log lines of all runs come first, then their sentinels as one block.
    assert settled_logs(container, sentinels=count) == (
        "arrived\n" * count + f"{SENTINEL}\n" * count, f"{SENTINEL}\n" * count)
