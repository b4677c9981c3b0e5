"""The launcher process protocol, driven by one-line ``sh`` launchers as in openwhisk-runtime-go.

``Launcher`` appends ``--result-fd N`` to the argv, so in ``sh -c SCRIPT sh``
the result descriptor is ``$2``. ``ECHO`` answers each request line with the
whole line as its result, which shows exactly what the executor sent.
"""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actionproxy.executor import Launcher, LauncherExited

#: dash redirects only fds 0-9, so the result descriptor is reopened as fd 3.
OPEN = "exec 3>/dev/fd/$2; "
ACK = OPEN + 'echo \'{"ok": true}\' >&3; '
#: Wait without answering; ``exec`` so that stopping the launcher ends it (a child
#: of ``sh`` would keep the result pipe open).
IDLE = "exec cat >/dev/null"
#: id of the request in $line (the executor writes the id first), into $id.
READ_ID = 'id=${line#*\\"id\\": }; id=${id%%,*}; '
ECHO = "while read -r line; do " + READ_ID + 'printf \'{"id": %s, "result": %s}\\n\' "$id" "$line" >&3; done'

ENV = {"PATH": "/usr/bin:/bin", "FOO": "bar"}


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    """Start ``sh -c SCRIPT`` as a launcher in ``tmp_path``; every one is stopped at teardown."""
    launchers: list[Launcher] = []

    def start_launcher(script: str, env: dict[str, str] = ENV) -> Launcher:
        launcher = Launcher(["/bin/sh", "-c", script, "sh"], env, tmp_path)
        launchers.append(launcher)
        return launcher

    yield start_launcher
    for launcher in launchers:
        launcher.stop()


@pytest.mark.parametrize(
    "ack",
    [{"ok": True}, {"error": "Cannot start action. Check logs for details."}],
    ids=["ok", "error"],
)
def test_handshake_returns_the_first_line(start: Any, ack: dict[str, Any]) -> None:
    launcher = start(OPEN + f"echo '{json.dumps(ack)}' >&3; " + IDLE)
    assert launcher.handshake() == ack
    assert launcher.running is True


def test_requests_carry_id_value_and_env_on_one_line(start: Any) -> None:
    launcher = start(ACK + ECHO)
    launcher.handshake()
    first = launcher.request({"a": [1, "❄"]}, {"__OW_ACTIVATION_ID": "x1"})
    second = launcher.request([1, 2], {})
    assert first == {
        "id": 1,
        "result": {"id": 1, "value": {"a": [1, "❄"]}, "env": {"__OW_ACTIVATION_ID": "x1"}},
    }
    assert second == {"id": 2, "result": {"id": 2, "value": [1, 2], "env": {}}}


def test_launcher_gets_only_the_given_env_its_cwd_and_the_result_fd_last(
    start: Any, tmp_path: Path
) -> None:
    answer = (
        READ_ID
        + 'printf \'{"id": %s, "result": '
        + '{"foo": "%s", "home": "%s", "pwd": "%s", "argc": %s, "flag": "%s"}}\\n\' '
        '"$id" "$FOO" "${HOME-unset}" "$(pwd)" "$#" "$1" >&3'
    )
    launcher = start(ACK + "read -r line; " + answer + "; " + IDLE)
    launcher.handshake()
    assert launcher.request({}, {})["result"] == {
        "foo": "bar",
        "home": "unset",
        "pwd": str(tmp_path),
        "argc": 2,
        "flag": "--result-fd",
    }


@pytest.mark.parametrize("status", [0, 3])
def test_launcher_exiting_before_the_ack(start: Any, status: int) -> None:
    launcher = start(f"exit {status}")
    with pytest.raises(LauncherExited) as raised:
        launcher.handshake()
    assert str(raised.value) == f"the launcher exited with status {status}"
    assert launcher.running is False
    with pytest.raises(LauncherExited) as later:
        launcher.request({}, {})
    assert str(later.value) == "the launcher is no longer running"


def test_launcher_exiting_mid_run_fails_the_pending_and_every_later_request(start: Any) -> None:
    launcher = start(ACK + "read -r line; exit 1")
    launcher.handshake()
    with pytest.raises(LauncherExited) as pending:
        launcher.request({"n": 1}, {})
    assert str(pending.value) == "the launcher exited during the activation"
    assert launcher.running is False
    with pytest.raises(LauncherExited) as later:
        launcher.request({"n": 2}, {})
    assert str(later.value) == "the launcher is no longer running"


def test_stop_fails_a_request_that_is_waiting(start: Any) -> None:
    launcher = start(ACK + IDLE)
    launcher.handshake()
    outcome: list[BaseException] = []
    waiter = threading.Thread(target=lambda: _capture(outcome, launcher.request, {}, {}))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # no answer yet: the request waits
    launcher.stop()
    waiter.join(5)
    assert [str(error) for error in outcome] == ["the launcher exited during the activation"]
    assert launcher.running is False


def test_overlapping_requests_answered_out_of_order_are_matched_by_id(start: Any) -> None:
    # Read two requests, then answer the second before the first.
    answer = 'printf \'{"id": %s, "result": %s}\\n\' "$id" "$line" >&3; '
    script = (
        ACK
        + "read -r line; " + READ_ID + "first_id=$id; first=$line; "
        + "read -r line; " + READ_ID + answer
        + 'id=$first_id; line=$first; ' + answer
        + IDLE
    )
    launcher = start(script)
    launcher.handshake()
    results: dict[str, Any] = {}

    def call(name: str) -> None:
        results[name] = launcher.request({"name": name}, {})

    threads = [threading.Thread(target=call, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert {name: answer["result"]["value"] for name, answer in results.items()} == {
        "a": {"name": "a"},
        "b": {"name": "b"},
    }
    assert sorted(answer["id"] for answer in results.values()) == [1, 2]
    assert all(answer["id"] == answer["result"]["id"] for answer in results.values())


@pytest.mark.parametrize(
    "line", ["not json", "[1, 2]"], ids=["not-json", "not-an-object"]
)
def test_a_first_line_that_is_not_an_ack_object_stops_the_launcher(start: Any, line: str) -> None:
    launcher = start(OPEN + f"echo '{line}' >&3; " + IDLE)
    with pytest.raises(LauncherExited) as raised:
        launcher.handshake()
    assert str(raised.value) == f"the launcher's first line is not a JSON object: {line!r}"
    assert launcher.running is False


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "line", ["not json", "[1, 2]"], ids=["not-json", "not-an-object"]
)
def test_an_answer_that_is_not_a_json_object_stops_the_launcher(start: Any, line: str) -> None:
    launcher = start(ACK + f"read -r line; echo '{line}' >&3; " + IDLE)
    launcher.handshake()
    with pytest.raises(LauncherExited) as raised:
        launcher.request({}, {})
    assert str(raised.value) == "the launcher exited during the activation"
    assert launcher.running is False


@pytest.mark.parametrize(
    ("script", "request_too"),
    [("exit 1", False), (OPEN + "echo 'no ack' >&3", False), (ACK + "read -r line; exit 1", True)],
    ids=["exit-before-ack", "bad-ack", "exit-mid-run"],
)
def test_an_ended_launcher_leaves_no_open_pipe(start: Any, script: str, request_too: bool) -> None:
    launcher = start(script)
    with pytest.raises(LauncherExited):
        launcher.handshake()
        if request_too:
            launcher.request({}, {})
    # The proxy's two pipe ends (counting /proc/self/fd races with other threads).
    pipes = (launcher._results, launcher._process.stdin)
    for _ in range(100):  # the result reader closes them just after answering
        if all(pipe.closed for pipe in pipes):
            break
        time.sleep(0.01)
    assert [pipe.closed for pipe in pipes] == [True, True]


def _capture(outcome: list[BaseException], function: Any, *args: Any) -> None:
    try:
        function(*args)
    except BaseException as error:  # noqa: BLE001 - handed to the test thread
        outcome.append(error)
