"""`whiskrun invoke` as a user runs it: a subprocess on the real Docker engine.

Each run gets an owner label of its own (WHISKRUN_OWNER) and, unless the test
is about stem cells, no stem cells (WHISKRUN_PREWARM empty); afterwards no
container with that owner may remain."""

import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .invoker_support import no_leftovers_in_session  # noqa: F401 - a fixture
from .invoker_support import ACTIVATION_ID, owned, remove_all, unique_owner, wait_until


ROOT = Path(__file__).resolve().parents[2]
WHISKRUN = Path(sys.executable).with_name("whiskrun")
SAMPLES = ROOT / "wsk-samples"


@pytest.fixture
def cli(docker_client, no_leftovers_in_session):
    """``cli(*args, prewarm="")`` runs `whiskrun` with an owner of its own; the
    test fails if a container of that owner is left afterwards."""
    owners: list[str] = []

    def environment(prewarm: str = "") -> dict[str, str]:
        owner = unique_owner()
        owners.append(owner)
        return {**os.environ, "WHISKRUN_OWNER": owner, "WHISKRUN_PREWARM": prewarm,
                "WHISKRUN_SNAPSHOT_POLICY": "never"}

    def run(*args: str, prewarm: str = "", timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(WHISKRUN), *args], env=environment(prewarm), capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT)

    run.environment = environment  # type: ignore[attr-defined]
    run.owners = owners  # type: ignore[attr-defined]
    yield run
    left = {owner: owned(docker_client, owner) for owner in owners}
    for ids in left.values():
        remove_all(docker_client, ids)
    assert not any(left.values()), f"whiskrun left containers: { {o: len(c) for o, c in left.items() if c} }"


@pytest.mark.parametrize("sample, result", [
    ("hello.py", {"greeting": "Hello stranger!"}),
    ("hello.js", {"greeting": "Hello stranger!"}),
    ("hello.sh", {"greeting": "Hello from a native action!"}),
])
def test_invoke_samples(cli, sample, result):
    done = cli("invoke", str(SAMPLES / sample))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"[0-9a-f]{32}  success  \d+ ms", lines[0]), lines
    assert re.fullmatch(r"  start path: cold \(no container of this action; .*\)", lines[1]), lines
    assert re.fullmatch(r"  phases \(ms\): queue [\d.]+, create [\d.]+, start [\d.]+, init [\d.]+, run [\d.]+, "
                        r"logs [\d.]+", lines[2]), lines
    assert lines[3] == f"  result: {json.dumps(result)}"


def test_invoke_with_params_repeat_in_text(cli):
    done = cli("invoke", str(SAMPLES / "hello.js"), "-p", "name", "Ada", "--repeat", "3")
    assert done.returncode == 0, done.stderr
    paths = re.findall(r"^  start path: (\w+) ", done.stdout, re.M)
    assert paths == ["cold", "warm", "warm"]
    assert done.stdout.count('  result: {"greeting": "Hello Ada!"}') == 3
    assert done.stdout.count("stdout: greeting Ada") == 3


def test_invoke_json_records(cli, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"name": "file", "other": 1}))
    done = cli("invoke", str(SAMPLES / "hello.py"), "--json", "--repeat", "3", "-P", str(params),
               "-p", "name", '"Grace"')
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert len(records) == 3
    assert all(ACTIVATION_ID.fullmatch(r["activationId"]) for r in records), records
    assert len({r["activationId"] for r in records}) == 3
    annotations = [{a["key"]: a["value"] for a in r["annotations"]} for r in records]
    assert [a["startPath"] for a in annotations] == ["cold", "warm", "warm"]
    assert "initTime" in annotations[0] and "initTime" not in annotations[1]
    for record in records:
        assert record["name"] == "hello" and record["namespace"] == "guest"
        # -p wins over -P for the same key.
        assert record["response"] == {"status": "success", "statusCode": 0, "success": True,
                                      "result": {"greeting": "Hello Grace!"}, "size": record["response"]["size"]}
        assert record["start"] <= record["end"] and record["duration"] == record["end"] - record["start"]


def test_failed_activation_exits_non_zero(cli, tmp_path):
    action = tmp_path / "fails.py"
    action.write_text("def main(args):\n    return {'error': 'no luck'}\n")
    done = cli("invoke", str(action), "--json")
    assert done.returncode == 1
    (record,) = json.loads(done.stdout)
    assert record["response"]["status"] == "application error"
    assert record["response"]["result"] == {"error": "no luck"}


def bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str, dict[str, str]]]:
    """name -> (arguments, a fragment of the expected message, extra environment)."""
    no_main = tmp_path / "no_main.zip"
    with zipfile.ZipFile(no_main, "w") as archive:
        archive.writestr("helper.py", "def main(args):\n    return {}\n")
    not_json = tmp_path / "not_json.json"
    not_json.write_text("{name: 1")
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    hello = str(SAMPLES / "hello.py")
    return {
        "unknown kind": (["invoke", hello, "--kind", "cobol:85"], "The kind 'cobol:85' is not supported", {}),
        "missing file": (["invoke", str(tmp_path / "missing.py")], "Cannot read the action file", {}),
        "unknown extension": (["invoke", str(not_json)], "Cannot tell the kind", {}),
        "zip without entry point": (["invoke", str(no_main), "--kind", "python:3.11"],
                                    "has no entry point: a python zip needs a __main__.py", {}),
        "param file not JSON": (["invoke", hello, "-P", str(not_json)], "is not valid JSON", {}),
        "param file not an object": (["invoke", hello, "-P", str(not_object)], "must hold a JSON object", {}),
        "param file missing": (["invoke", hello, "-P", str(tmp_path / "nope.json")],
                               "Cannot read the parameter file", {}),
        "concurrency for python": (["invoke", hello, "--concurrency", "2"], "Only Node.js actions", {}),
        "bad setting": (["invoke", hello], "WHISKRUN_USER_MEMORY_MB='lots' is not valid",
                        {"WHISKRUN_USER_MEMORY_MB": "lots"}),
        "bad prewarm setting": (["invoke", hello], "WHISKRUN_PREWARM='python' is not valid",
                                {"WHISKRUN_PREWARM": "python"}),
    }


BAD_INPUTS = ["unknown kind", "missing file", "unknown extension", "zip without entry point", "param file not JSON",
              "param file not an object", "param file missing", "concurrency for python", "bad setting",
              "bad prewarm setting"]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_sentence(cli, docker_client, tmp_path, case):
    cases = bad_inputs(tmp_path)
    assert sorted(cases) == sorted(BAD_INPUTS)
    args, fragment, extra = cases[case]
    env = {**cli.environment(), **extra}
    done = subprocess.run([str(WHISKRUN), *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode != 0
    assert done.stdout == ""
    message = done.stderr.strip()
    assert "\n" not in message and "Traceback" not in done.stderr, done.stderr
    assert message.startswith("error: ") and message.endswith("."), message
    assert fragment in message, message
    # One sentence: no sentence break inside.
    assert not re.search(r"[.!?] +[A-Z]", message[len("error: "):]), message
    assert not owned(docker_client, env["WHISKRUN_OWNER"])


@pytest.mark.parametrize("signum, prewarm, when", [
    (signal.SIGTERM, "", "serving"),
    (signal.SIGINT, "python:3.11@256=1,nodejs:18@256=1", "serving"),
    (signal.SIGTERM, "python:3.11@256=1,nodejs:18@256=1", "starting"),
], ids=["SIGTERM-serving", "SIGINT-serving-with-stem-cells", "SIGTERM-while-stem-cells-start"])
def test_signal_removes_every_container(cli, docker_client, signum, prewarm, when):
    env = cli.environment(prewarm)
    owner = env["WHISKRUN_OWNER"]
    process = subprocess.Popen([str(WHISKRUN), "invoke", str(SAMPLES / "hello.py"), "--repeat", "100",
                                "--interval", "0.2"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        if when == "serving":  # a first activation printed, containers up
            first = process.stdout.readline()
            assert ACTIVATION_ID.match(first), first + process.stderr.read()
        # "starting": the first container exists, others are being created and started.
        wait_until(lambda: owned(docker_client, owner), 60, "whiskrun's containers", interval=0.01)
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "interrupted; containers removed" in err
    assert "Traceback" not in err, err
    assert not owned(docker_client, owner)
