"""Limits and faults on the real Docker engine: timeouts (init and run),
crashes, out of memory, fork bombs, the log limit, and a container killed
between activations. Each ends with the right status and message, the
faulty container is destroyed, and the pool goes on serving."""

import docker
import pytest

from whiskrun.invoker.records import Status
from whiskrun.invoker.states import ContainerState as S

from .invoker_support import invoker, no_leftovers_in_session, start_invoker  # noqa: F401 - fixtures
from .invoker_support import (LOG_LINE, NATIVE, PYTHON, action, container_ids, hosts, invoke, owned, owner_of,
                              wait_until)


SLEEPER = """\
import socket, time
def main(args):
    time.sleep(args.get("sleep", 0))
    return {"host": socket.gethostname()}
"""

HELLO = """\
def main(args):
    return {"hello": "world"}
"""


def developer_error(record, message):
    assert record.response.status is Status.DEVELOPER_ERROR, record.response
    assert record.to_json()["response"]["status"] == "action developer error"
    assert record.response.result == {"error": message}


def gone(docker_client, invoker):
    """No container of this invoker is left, in the pool or in Docker."""
    return not invoker.pool.snapshot() and not owned(docker_client, owner_of(invoker))


def test_run_timeout_destroys_the_container(invoker, docker_client):
    spec = action(PYTHON, SLEEPER, timeout_ms=1000)
    record = invoke(invoker, spec, sleep=10)
    developer_error(record, "The action exceeded its time limits of 1000 milliseconds.")
    assert record.annotation("timeout") is True
    assert 1000 <= record.annotation("phases")["run"] < 5000
    assert 1000 <= record.duration < 5000
    # The container that overran is destroyed, never reused.
    wait_until(lambda: gone(docker_client, invoker), 30, "the timed-out container to be removed")

    after = invoke(invoker, spec, sleep=0)
    assert after.response.success, after.response.result
    assert after.start_path == "cold"
    assert after.annotation("timeout") is False


def test_init_timeout(invoker, docker_client):
    hanging = action(PYTHON, "import time\ntime.sleep(60)\n" + HELLO, timeout_ms=1000)
    record = invoke(invoker, hanging)
    developer_error(record, "The action exceeded its time limits of 1000 milliseconds during initialization.")
    assert record.annotation("timeout") is True
    assert 1000 <= record.annotation("initTime") < 5000
    assert "run" not in record.annotation("phases")
    wait_until(lambda: gone(docker_client, invoker), 30, "the container to be removed")
    # The pool goes on serving.
    assert invoke(invoker, action(PYTHON, HELLO)).response.result == {"hello": "world"}


def test_crash_replaces_the_container(invoker, docker_client):
    crasher = action(PYTHON, """\
import os, socket
def main(args):
    if args.get("crash"):
        os._exit(1)
    return {"host": socket.gethostname()}
""")
    first = invoke(invoker, crasher)
    assert first.response.success
    crashed = invoke(invoker, crasher, crash=True)
    assert crashed.start_path == "warm"
    assert crashed.response.status is Status.DEVELOPER_ERROR, crashed.response
    assert set(crashed.response.result) == {"error"}
    assert crashed.annotation("timeout") is False
    wait_until(lambda: first.response.result["host"] not in hosts(invoker), 30, "the crashed container to go")

    after = invoke(invoker, crasher)
    assert after.response.success, after.response.result
    assert after.start_path == "cold"
    assert after.response.result["host"] != first.response.result["host"]


def test_out_of_memory(invoker, docker_client):
    hog = action(PYTHON, """\
def main(args):
    chunks = []
    while True:
        chunks.append(b"x" * (8 * 1024 * 1024))
""", memory_mb=128, timeout_ms=30_000)
    record = invoke(invoker, hog)
    developer_error(record, "The action exhausted its memory and was aborted.")
    assert record.annotation("timeout") is False
    wait_until(lambda: gone(docker_client, invoker), 30, "the container to be removed")
    assert invoke(invoker, action(PYTHON, HELLO, memory_mb=128)).response.success


FORK_BOMBS = {
    PYTHON: """\
import os, time
def main(args):
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
""",
    NATIVE: """\
#!/bin/sh
bomb() { bomb | bomb & }
bomb
sleep 30
echo '{"survived": true}'
""",
}


@pytest.mark.parametrize("kind", [PYTHON, NATIVE])
def test_fork_bomb_is_contained(start_invoker, docker_client, kind):
    invoker = start_invoker(pids_limit=64)
    spec = action(kind, FORK_BOMBS[kind], timeout_ms=3000)
    record = invoke(invoker, spec)
    assert record.response.status is Status.DEVELOPER_ERROR, record.response
    assert record.annotation("phases")["run"] < 3000 + 2000  # ended within its time limit
    for container_id in owned(docker_client, owner_of(invoker)):  # not yet removed: its pids limit
        try:
            assert docker_client.api.inspect_container(container_id)["HostConfig"]["PidsLimit"] == 64
        except docker.errors.NotFound:
            pass
    wait_until(lambda: gone(docker_client, invoker), 60, "the fork bomb's container to be removed")

    other = invoke(invoker, action(PYTHON, HELLO))
    assert other.response.result == {"hello": "world"}
    assert docker_client.containers.get(next(iter(container_ids(invoker)))).attrs["HostConfig"]["PidsLimit"] == 64


def test_log_limit_truncates(start_invoker):
    invoker = start_invoker(log_wait_s=20.0)
    chatty = action(PYTHON, """\
def main(args):
    for _ in range(2048):
        print("x" * 1023)
    print("the end")
    return {"lines": 2049}
""", logs_mb=1)
    record = invoke(invoker, chatty)
    assert record.response.success, record.response.result
    assert record.logs[-1].endswith(
        " stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.")
    assert LOG_LINE.fullmatch(record.logs[-1])
    kept = record.logs[:-1]
    assert 1000 <= len(kept) <= 1025
    assert all(line.endswith(" stdout: " + "x" * 1023) for line in kept)
    assert sum(len(line.split(": ", 1)[1]) for line in kept) <= 1024 * 1024
    # The next activation's logs start after this one's.
    again = invoke(invoker, action(PYTHON, 'def main(a):\n    print("only me")\n    return {}\n'))
    assert [line.split(": ", 1)[1] for line in again.logs] == ["only me"]


def test_log_limit_zero_collects_nothing(invoker):
    quiet = action(PYTHON, 'def main(a):\n    print("not collected")\n    return {"ok": True}\n', logs_mb=0)
    record = invoke(invoker, quiet)
    assert record.response.success, record.response.result
    assert record.logs == ()
    assert invoke(invoker, quiet).logs == ()


def test_killed_container_is_noticed_and_replaced(invoker, docker_client):
    spec = action(PYTHON, SLEEPER)
    first = invoke(invoker, spec)
    assert first.response.success
    (container_id,) = container_ids(invoker, S.WARM)

    victim = docker_client.containers.get(container_id)
    victim.kill()
    try:
        victim.wait(timeout=30)
    except docker.errors.NotFound:
        pass  # the pool noticed the death and removed it already: fine
    # Handed out right away, the dead container must not get the activation.
    record = invoke(invoker, spec)
    assert record.response.success, record.response.result
    assert record.start_path == "cold", record.annotation("startReason")
    assert record.response.result["host"] != container_id[:12]
    wait_until(lambda: container_id not in container_ids(invoker), 30, "the dead container to leave the pool")
    wait_until(lambda: container_id not in owned(docker_client, owner_of(invoker)), 30,
               "the dead container to be removed")


NO_NEW_PRIVS = """\
def main(args):
    status = open("/proc/self/status").read()
    return {"no_new_privs": next(line.split()[1] for line in status.splitlines() if line.startswith("NoNewPrivs"))}
"""


def test_actions_gain_no_privileges_and_holders_are_bounded(invoker, docker_client):
    """no-new-privileges on action containers (a setuid binary gives the action
    nothing); network holders: no capability, 16 MB, 8 processes."""
    record = invoke(invoker, action(PYTHON, NO_NEW_PRIVS))
    assert record.response.result == {"no_new_privs": "1"}, record.response.result
    holder = invoker.pool._backend.create_holder(owner_of(invoker))  # noqa: SLF001 - what restores get
    try:
        config = docker_client.api.inspect_container(holder.container_id)["HostConfig"]
        assert config["SecurityOpt"] == ["no-new-privileges"]
        assert config["CapDrop"] == ["ALL"]
        assert (config["Memory"], config["PidsLimit"]) == (16 * 1024 * 1024, 8)
    finally:
        docker_client.api.remove_container(holder.container_id, force=True)
