"""The invoker's start paths on the real Docker engine and the real images:
cold, warm, prewarm and unpause, which container an activation gets
(versions, concurrency, eviction), and the activation record."""

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from whiskrun.invoker.errors import PoolExhausted
from whiskrun.invoker.invoker import Invocation
from whiskrun.invoker.scheduling import StemCellSpec
from whiskrun.invoker.states import ContainerState as S

from .invoker_support import invoker, no_leftovers_in_session, start_invoker  # noqa: F401 - fixtures
from .invoker_support import (ACTIVATION_ID, COLD_PHASES, LOG_LINE, NATIVE, NODEJS, PYTHON, WARM_PHASES, action,
                              container_ids, hosts, invoke, owned, owner_of, queue_length, run_threads, wait_until)


# Each echo action logs one stdout line and answers with its container's
# hostname (the short container id), so a test knows which container ran it.
ECHO = {
    PYTHON: """\
import os, socket, sys
def main(args):
    print("hello from python")
    print("python on stderr", file=sys.stderr)
    if args.get("fail"):
        return {"error": "failed on request"}
    return {"host": socket.gethostname(), "i": args.get("i"), "version": os.environ["__OW_ACTION_VERSION"]}
""",
    NODEJS: """\
const os = require('os');
function main(args) {
  console.log('hello from nodejs');
  return {host: os.hostname(), i: args.i === undefined ? null : args.i};
}
""",
    NATIVE: """\
#!/bin/sh
echo "hello from native"
echo "{\\"host\\": \\"$(cat /etc/hostname)\\"}"
""",
}

SLEEPY_PYTHON = """\
import socket, time
def main(args):
    time.sleep(args.get("sleep", 0))
    return {"host": socket.gethostname(), "i": args.get("i")}
"""

SLEEPY_NODEJS = """\
const os = require('os');
function main(args) {
  return new Promise(resolve => setTimeout(() => resolve({host: os.hostname(), i: args.i}), args.ms || 0));
}
"""

FREEZER = Path("/sys/fs/cgroup/freezer/docker")


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.mark.parametrize("kind", [PYTHON, NODEJS, NATIVE])
def test_cold_then_warm(invoker, docker_client, kind):
    spec = action(kind, ECHO[kind])

    cold = invoke(invoker, spec, i=1)
    assert cold.response.success, cold.response.result
    assert cold.start_path == "cold"
    assert cold.annotation("startReason").startswith("no container of this action"), cold.annotation("startReason")
    phases = cold.annotation("phases")
    assert set(phases) == COLD_PHASES
    assert all(ms >= 0 for ms in phases.values())
    assert phases["create"] > 0 and phases["start"] > 0 and phases["init"] > 0 and phases["run"] > 0
    init_time = cold.annotation("initTime")
    assert isinstance(init_time, int) and abs(init_time - phases["init"]) <= 1
    # waitTime covers the queue and the container's creation and start.
    assert cold.annotation("waitTime") >= int(phases["create"] + phases["start"]) - 1
    greeting = {PYTHON: "hello from python", NODEJS: "hello from nodejs", NATIVE: "hello from native"}[kind]
    assert any(LOG_LINE.fullmatch(line) and line.endswith(f" stdout: {greeting}") for line in cold.logs), cold.logs

    warm = invoke(invoker, spec, i=2)
    assert warm.response.success, warm.response.result
    assert warm.start_path == "warm"
    assert warm.annotation("startReason") == "reused an idle warm container of this action"
    assert set(warm.annotation("phases")) == WARM_PHASES
    assert "initTime" not in dict(warm.annotations)
    # The same container ran both, and it is the only one.
    assert warm.response.result["host"] == cold.response.result["host"]
    assert set(hosts(invoker)) == {cold.response.result["host"]}
    assert owned(docker_client, owner_of(invoker)) == list(hosts(invoker).values())
    if kind != NATIVE:
        assert (cold.response.result["i"], warm.response.result["i"]) == (1, 2)


def test_activation_record_fields(invoker):
    spec = action(PYTHON, ECHO[PYTHON], name="recorded", version="2.0.1", timeout_ms=30_000, memory_mb=256)
    before = wall_ms()
    record = invoke(invoker, spec, i=7)
    after = wall_ms()

    assert ACTIVATION_ID.fullmatch(record.activation_id)
    body = record.to_json()
    assert set(body) == {"activationId", "namespace", "name", "version", "subject", "start", "end", "duration",
                         "response", "logs", "annotations", "publish"}
    assert (body["namespace"], body["name"], body["version"], body["subject"]) == ("guest", "recorded", "2.0.1", "guest")
    assert before <= body["start"] <= body["end"] <= after
    assert body["duration"] == body["end"] - body["start"] >= 0
    annotations = {a["key"]: a["value"] for a in body["annotations"]}
    # start is the start of /init on a cold start: duration covers init and run.
    assert body["duration"] >= annotations["initTime"] - 1
    assert body["response"] == {"status": "success", "statusCode": 0, "success": True,
                                "result": {"host": record.response.result["host"], "i": 7, "version": "2.0.1"},
                                "size": record.response.size}
    assert annotations["path"] == "guest/recorded"
    assert annotations["kind"] == "python:3.11"
    assert annotations["limits"] == {"timeout": 30_000, "memory": 256, "logs": 10, "concurrency": 1}
    assert annotations["timeout"] is False
    assert isinstance(annotations["waitTime"], int) and annotations["waitTime"] >= 0
    assert annotations["startPath"] == "cold"

    # Logs: OpenWhisk's format, both streams, never a sentinel.
    parsed = [LOG_LINE.fullmatch(line) for line in body["logs"]]
    assert all(parsed), body["logs"]
    assert sorted((m.group(3), m.group(4)) for m in parsed) == [("stderr", "python on stderr"),
                                                                 ("stdout", "hello from python")]
    assert all(line[:30].rstrip() == m.group(1) for line, m in zip(body["logs"], parsed))
    assert not any("XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX" in line for line in body["logs"])

    # An application error is status 1 and keeps the container.
    failed = invoke(invoker, spec, fail=True)
    assert failed.to_json()["response"] == {"status": "application error", "statusCode": 1, "success": False,
                                            "result": {"error": "failed on request"}, "size": failed.response.size}
    assert failed.start_path == "warm"
    again = invoke(invoker, spec)
    assert again.start_path == "warm" and again.response.result["host"] == record.response.result["host"]

    ids = {record.activation_id, failed.activation_id, again.activation_id}
    assert len(ids) == 3 and all(ACTIVATION_ID.fullmatch(i) for i in ids)
    # An id given by the caller is kept.
    given = invoker.invoke(spec, Invocation(params={}, activation_id="0123456789abcdef0123456789abcdef"))
    assert given.activation_id == "0123456789abcdef0123456789abcdef"


def test_prewarm_then_replacement(start_invoker):
    invoker = start_invoker(prewarm=(StemCellSpec(PYTHON, 256, 1),))
    cells = wait_until(lambda: container_ids(invoker, S.PREWARMED), 90, "a python stem cell")
    (cell,) = cells

    record = invoke(invoker, action(PYTHON, ECHO[PYTHON]), i=1)
    assert record.response.success, record.response.result
    assert record.start_path == "prewarm"
    assert "took a prewarmed python:3.11 256 MB stem cell" in record.annotation("startReason")
    assert set(record.annotation("phases")) == {"queue", "init", "run", "logs"}
    assert isinstance(record.annotation("initTime"), int)
    assert record.response.result["host"] == cell[:12]

    # A new stem cell replaces the one taken.
    replacement = wait_until(lambda: container_ids(invoker, S.PREWARMED) - {cell}, 90, "a replacement stem cell")
    assert len(replacement) == 1
    assert cell in container_ids(invoker, S.WARM)

    # Only the same kind and memory take a stem cell.
    for other in (action(PYTHON, ECHO[PYTHON], memory_mb=128), action(NODEJS, ECHO[NODEJS])):
        other_record = invoke(invoker, other)
        assert other_record.response.success, other_record.response.result
        assert other_record.start_path == "cold", other_record.annotation("startReason")
    assert container_ids(invoker, S.PREWARMED) == replacement


def test_unpause(start_invoker):
    invoker = start_invoker(pause_grace_s=0.2)
    spec = action(PYTHON, ECHO[PYTHON])
    cold = invoke(invoker, spec)
    assert cold.start_path == "cold"
    (container_id,) = wait_until(lambda: container_ids(invoker, S.PAUSED), 30, "the container to be paused")
    freezer = FREEZER / container_id / "freezer.state"
    if freezer.exists():  # cgroup v1: the container is really frozen
        assert freezer.read_text().strip() == "FROZEN"

    record = invoke(invoker, spec, i=3)
    assert record.response.success, record.response.result
    assert record.start_path == "unpause"
    assert record.annotation("startReason") == "reused a paused container of this action"
    phases = record.annotation("phases")
    assert set(phases) == {"queue", "unpause", "run", "logs"}
    assert phases["unpause"] > 0
    assert "initTime" not in dict(record.annotations)
    assert record.response.result["host"] == container_id[:12]

    # Paused again after the grace period, then removed at shutdown (checked by the fixture).
    wait_until(lambda: container_ids(invoker, S.PAUSED) == {container_id}, 30, "the container to pause again")


def test_new_version_never_reuses_old_container(invoker):
    old = action(PYTHON, ECHO[PYTHON], name="versioned", version="0.0.1")
    new = action(PYTHON, ECHO[PYTHON], name="versioned", version="0.0.2")

    first = invoke(invoker, old)
    assert (first.start_path, first.response.result["version"]) == ("cold", "0.0.1")
    assert invoke(invoker, old).start_path == "warm"

    upgraded = invoke(invoker, new)
    assert upgraded.response.success, upgraded.response.result
    assert upgraded.start_path == "cold", upgraded.annotation("startReason")
    assert upgraded.response.result["version"] == "0.0.2"
    assert upgraded.response.result["host"] != first.response.result["host"]
    assert upgraded.version == "0.0.2"

    again_new = invoke(invoker, new)
    assert (again_new.start_path, again_new.response.result["host"]) == ("warm", upgraded.response.result["host"])
    again_old = invoke(invoker, old)
    assert (again_old.start_path, again_old.response.result["host"]) == ("warm", first.response.result["host"])
    assert again_old.response.result["version"] == "0.0.1"


def test_concurrent_activations_of_one_action(invoker):
    spec = action(PYTHON, SLEEPY_PYTHON)
    threads, rounds = 4, 3

    def activations(thread: int) -> list:
        return [invoke(invoker, spec, i=thread * 10 + n, sleep=0.2) for n in range(rounds)]

    records = [r for batch in run_threads(threads, activations) for r in batch]
    assert len(records) == threads * rounds
    for index, record in enumerate(records):
        assert record.response.success, record.response.result
        assert record.response.result["i"] == (index // rounds) * 10 + index % rounds
    paths = Counter(r.start_path for r in records)
    assert set(paths) <= {"cold", "warm"}, paths
    assert paths["cold"] + paths["warm"] == threads * rounds
    assert 1 <= paths["cold"] <= threads
    used = {r.response.result["host"] for r in records}
    assert len(used) == paths["cold"] == len(hosts(invoker))
    assert ACTIVATION_ID.fullmatch(records[0].activation_id)
    assert len({r.activation_id for r in records}) == len(records)
    # Concurrency 1: activations on one container never overlap.
    for host in used:
        spans = sorted((r.start, r.end) for r in records if r.response.result["host"] == host)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end - 2, spans


def test_nodejs_concurrency_shares_one_container(invoker):
    spec = action(NODEJS, SLEEPY_NODEJS, concurrency=4)
    first = invoke(invoker, spec, i=0)
    assert first.start_path == "cold" and first.response.success, first.response.result
    shared_host = first.response.result["host"]

    records = run_threads(5, lambda i: invoke(invoker, spec, i=i, ms=2500))
    for index, record in enumerate(records):
        assert record.response.success, record.response.result
        assert record.response.result["i"] == index
    on_shared = [r for r in records if r.response.result["host"] == shared_host]
    elsewhere = [r for r in records if r.response.result["host"] != shared_host]
    # Four share the warm container up to its limit; the fifth needs another one.
    assert len(on_shared) == 4 and all(r.start_path == "warm" for r in on_shared)
    assert sum("shared a busy container" in r.annotation("startReason") for r in on_shared) >= 3
    assert len(elsewhere) == 1 and elsewhere[0].start_path == "cold"
    # They really ran at the same time in that container.
    assert max(r.start for r in on_shared) < min(r.end for r in on_shared)
    assert len(hosts(invoker)) == 2


def test_nodejs_concurrency_burst_on_empty_pool_joins_the_starting_container(invoker):
    spec = action(NODEJS, SLEEPY_NODEJS, concurrency=4)
    records = run_threads(4, lambda i: invoke(invoker, spec, i=i, ms=1500))
    for index, record in enumerate(records):
        assert record.response.success, record.response.result
        assert record.response.result["i"] == index
        assert record.start_path == "cold"
    # One container for all four: three joined the one the first started.
    assert len({r.response.result["host"] for r in records}) == 1
    assert len(hosts(invoker)) == 1
    joined = [r for r in records if "joined a container" in r.annotation("startReason")]
    assert len(joined) == 3
    assert all("wait" in r.annotation("phases") and "initTime" not in dict(r.annotations) for r in joined)
    assert max(r.start for r in records) < min(r.end for r in records)


def test_eviction_under_memory_budget(start_invoker, docker_client):
    invoker = start_invoker(user_memory_mb=512)
    a, b, c = (action(PYTHON, ECHO[PYTHON], name=name, memory_mb=256) for name in "abc")

    host_a = invoke(invoker, a).response.result["host"]
    host_b = invoke(invoker, b).response.result["host"]
    assert set(hosts(invoker)) == {host_a, host_b}

    record_c = invoke(invoker, c)
    assert record_c.response.success, record_c.response.result
    assert record_c.start_path == "cold"
    assert "evicted 1 idle container(s) to free memory" in record_c.annotation("startReason")
    host_c = record_c.response.result["host"]
    # The least recently used one (a) went, from the pool and from Docker.
    wait_until(lambda: set(hosts(invoker)) == {host_b, host_c}, 30, "a's container to be removed")
    assert {i[:12] for i in owned(docker_client, owner_of(invoker))} == {host_b, host_c}

    warm_b = invoke(invoker, b)
    assert (warm_b.start_path, warm_b.response.result["host"]) == ("warm", host_b)
    back_a = invoke(invoker, a)
    assert back_a.start_path == "cold" and "evicted" in back_a.annotation("startReason")
    # Now c was the least recently used.
    wait_until(lambda: set(hosts(invoker)) == {host_b, back_a.response.result["host"]}, 30,
               "c's container to be removed")


def test_queue_waits_for_memory_then_refuses_when_full(start_invoker):
    invoker = start_invoker(user_memory_mb=256, queue_limit=1)
    busy = action(PYTHON, SLEEPY_PYTHON, name="busy")
    waiting = action(PYTHON, ECHO[PYTHON], name="waiting")
    assert invoke(invoker, busy).start_path == "cold"

    results: dict[str, object] = {}
    occupy = threading.Thread(target=lambda: results.update(busy=invoke(invoker, busy, sleep=2.5)))
    occupy.start()
    wait_until(lambda: container_ids(invoker, S.BUSY), 30, "the busy activation")
    queued = threading.Thread(target=lambda: results.update(waiting=invoke(invoker, waiting)))
    queued.start()
    wait_until(lambda: queue_length(invoker) == 1, 30, "the second activation to queue")
    # The queue holds one: a third activation is refused clearly.
    with pytest.raises(PoolExhausted, match="already waiting for memory"):
        invoke(invoker, action(PYTHON, ECHO[PYTHON], name="refused"))
    occupy.join(60)
    queued.join(60)

    assert results["busy"].response.success and results["busy"].start_path == "warm"
    record = results["waiting"]
    assert record.response.success, record.response.result
    assert record.start_path == "cold"
    assert "evicted 1 idle container(s)" in record.annotation("startReason")
    # It waited in the queue until the busy activation ended.
    assert record.annotation("phases")["queue"] >= 1000
    assert record.annotation("waitTime") >= 1000


def test_idle_container_is_paused_then_removed(start_invoker, docker_client):
    invoker = start_invoker(pause_grace_s=0.2, idle_timeout_s=1.5)
    spec = action(PYTHON, ECHO[PYTHON])
    first = invoke(invoker, spec)
    assert first.start_path == "cold"
    wait_until(lambda: container_ids(invoker, S.PAUSED), 30, "the container to be paused")
    wait_until(lambda: not invoker.pool.snapshot() and not owned(docker_client, owner_of(invoker)), 30,
               "the idle container to be removed")
    again = invoke(invoker, spec)
    assert again.start_path == "cold" and again.response.success
