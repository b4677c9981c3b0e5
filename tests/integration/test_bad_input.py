"""Bad requests get a JSON error with a sentence, and the container stays usable.

Each case sends one bad /init or /run to a fresh container of every image,
checks the exact answer and logs, then shows that the same container still
accepts a correct /init and /run.
"""

import base64
import io
import tarfile

import pytest

from actionproxy.protocol import BUILD_FAILED, NODE_INIT_FAILED_PREFIX, NOT_DICT_ARGUMENT
from tests.integration.conftest import (
    NATIVE_IMAGE,
    NODEJS_IMAGE,
    PYTHON_IMAGE,
    init,
    init_payload,
    read_streams,
    zip_base64,
)

IDENTITY = {
    "python": (PYTHON_IMAGE, "def main(args):\n    return args\n"),
    "nodejs": (NODEJS_IMAGE, "function main(args) { return args; }"),
    "native": (NATIVE_IMAGE, "#!/bin/sh\ncat\n"),
}


@pytest.fixture(params=IDENTITY.keys())
def runtime(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def container(runtime, start_container):
    return start_container(IDENTITY[runtime][0])


def assert_still_usable(container, runtime: str, *, initialized: bool = False) -> None:
    if not initialized:
        assert init(container, IDENTITY[runtime][1]) == (200, {"ok": True})
    assert container.run({"still": "usable"}) == (200, {"still": "usable"})


def tar_gz_base64(name: str, link_to: str) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo(name)
        link.type, link.linkname = tarfile.SYMTYPE, link_to
        archive.addfile(link)
    return base64.b64encode(buffer.getvalue()).decode()


def outside(path: str) -> str:
    return (f"The archive contains the path '{path}', which points outside the action's folder; "
            "build the archive from inside the action's folder with relative paths only.")


def wrong_field(field: str, wanted: str, got: str) -> str:
    return f"The /init field '{field}' must be {wanted}, not {got}; fix the field or leave it out."


BAD_INITS = {
    "malformed JSON": (
        b'{"value": {"code": ',
        "The request body is not valid JSON (Expecting value: line 1 column 20 (char 19)); send a JSON object.",
    ),
    "body not an object": (b"[1, 2]", 'The /init body must be a JSON object such as {"value": {"code": ...}}.'),
    "value not an object": (
        {"value": "def main(args): pass"},
        "The /init field 'value' must be a JSON object holding code, main, binary and env.",
    ),
    "code not a string": ({"value": {"code": 42}}, wrong_field("code", "a string", "int")),
    "main not a string": ({"value": {"code": "x", "main": ["main"]}},
                          wrong_field("main", "a string naming the entry point", "list")),
    "binary not a boolean": ({"value": {"code": "x", "binary": "yes"}}, wrong_field("binary", "true or false", "str")),
    "env not an object": ({"value": {"code": "x", "env": ["A=1"]}},
                          wrong_field("env", "a JSON object of variables", "list")),
    "binary code not base64": (
        init_payload("this is not base64!", binary=True),
        "The action's code is marked binary but is not valid base64 (Only base64 data is allowed); "
        "send the zip base64-encoded or set binary to false.",
    ),
    "truncated zip": (
        init_payload(base64.b64encode(b"PK\x03\x04 and then nothing").decode(), binary=True),
        "The action's code is not a readable zip file (File is not a zip file); "
        "check that the whole file was sent.",
    ),
    "zip member ../escape": (init_payload(zip_base64({"../escape": "x"}), binary=True), outside("../escape")),
    "zip member with absolute path": (init_payload(zip_base64({"/tmp/evil": "x"}), binary=True),
                                      outside("/tmp/evil")),
    "tar.gz symlink out of the folder": (init_payload(tar_gz_base64("link", "/etc/passwd"), binary=True),
                                         outside("/etc/passwd")),
}


@pytest.mark.parametrize(("body", "message"), BAD_INITS.values(), ids=BAD_INITS.keys())
def test_bad_init(runtime, container, body, message):
    if isinstance(body, bytes):
        answer = container.post("/init", data=body)
    else:
        answer = container.post("/init", body)
    assert answer == (400, {"error": message})
    assert read_streams(container) == ("", message)
    assert_still_usable(container, runtime)
    assert read_streams(container, sentinels=2) == ("", message)


def test_base64_that_is_not_an_archive(runtime, container):
    code = base64.b64encode(b"def main(args):\n    return args\n").decode()
    status, body = init(container, code, binary=True)
    if runtime == "native":
        # A native action may be any executable, not only a zip: this one is
        # accepted as-is, and running it fails because it is not a program.
        assert (status, body) == (200, {"ok": True})
        return
    message = ("The action's binary code is neither a zip nor a tar.gz archive; "
               "zip the action's files (for example `zip -r action.zip .`) and send that.")
    assert (status, body) == (400, {"error": message})
    assert_still_usable(container, runtime)
    assert read_streams(container, sentinels=2) == ("", message)


MISSING_ENTRY_POINTS = {
    "python": (
        "def other(args):\n    return args\n",
        "The action's entry point 'main' is not defined in its code; define 'def main(args):' "
        "or set main to the name of the action's function.",
        "Entry point 'main' is not defined in the source.",
    ),
    "nodejs": (
        "function other(args) { return args; }",
        NODE_INIT_FAILED_PREFIX + "Action entrypoint 'main' is not a function.",
        "Action entrypoint 'main' is not a function.",
    ),
    "native": (
        zip_base64({"README": "no exec here"}),
        BUILD_FAILED,
        "The action has no executable /action/exec: a zipped native action needs an "
        "executable file named 'exec' at the top of the zip.",
    ),
}


def test_missing_entry_point(runtime, container):
    code, message, logged = MISSING_ENTRY_POINTS[runtime]
    assert init(container, code, binary=runtime == "native") == (502, {"error": message})
    assert read_streams(container) == ("", logged)
    assert_still_usable(container, runtime)


BAD_RUNS = {
    "malformed JSON": (
        b'{"value": ',
        400, "The request body is not valid JSON (Expecting value: line 1 column 11 (char 10)); send a JSON object.",
    ),
    "value a string": ({"value": "A"}, 404, NOT_DICT_ARGUMENT),
    "value a number": ({"value": 42}, 404, NOT_DICT_ARGUMENT),
    "body an array": (b"[1]", 404, NOT_DICT_ARGUMENT),
}


@pytest.mark.parametrize(("body", "status", "message"), BAD_RUNS.values(), ids=BAD_RUNS.keys())
def test_bad_run(runtime, container, body, status, message):
    assert init(container, IDENTITY[runtime][1]) == (200, {"ok": True})
    if isinstance(body, bytes):
        answer = container.post("/run", data=body)
    else:
        answer = container.post("/run", body)
    assert answer == (status, {"error": message})
    assert read_streams(container) == ("", "")
    assert_still_usable(container, runtime, initialized=True)
    assert read_streams(container, sentinels=2) == ("", "")
