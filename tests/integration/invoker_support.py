"""Shared pieces of the invoker's integration tests (real Docker, real images).

Every invoker a test starts gets an owner label of its own, derived from one
value per test session; when the test ends the invoker is shut down and the
test fails if any container carrying that owner label is still there.
Import the fixtures into a test module to use them.
"""

import contextlib
import itertools
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest

from whiskrun import kinds
from whiskrun.invoker.backend.base import MANAGED_LABEL, OWNER_LABEL
from whiskrun.invoker.config import InvokerConfig
from whiskrun.invoker.invoker import Invocation, Invoker
from whiskrun.invoker.records import Activation, ActionSpec, Limits
from whiskrun.invoker.service import running_invoker
from whiskrun.invoker.states import ContainerState

#: One value per test session; every owner label of the session starts with it.
SESSION_OWNER = f"whiskrun-test-{uuid.uuid4().hex[:10]}"
_owners = itertools.count(1)

ACTIVATION_ID = re.compile(r"[0-9a-f]{32}")
#: OpenWhisk's log line: RFC 3339 time with a Z, padded to 30, the stream, the text.
LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z) *(stdout|stderr): (.*)", re.S)

COLD_PHASES = {"queue", "create", "start", "init", "run", "logs"}
WARM_PHASES = {"queue", "run", "logs"}

PYTHON = "python:3.11"
NODEJS = "nodejs:18"
NATIVE = "blackbox"


def unique_owner() -> str:
    return f"{SESSION_OWNER}-{next(_owners)}"


def invoker_config(owner: str, **overrides: Any) -> InvokerConfig:
    """A config for tests: its own owner, no stem cells, no snapshots, nothing
    paused or expired behind a test's back unless the test asks for it."""
    values: dict[str, Any] = {"owner": owner, "prewarm": (), "snapshot_policy": "never",
                              "hibernate": False, "pause_grace_s": 120.0,
                              "idle_timeout_s": 600.0, "user_memory_mb": 2048, "tick_s": 0.05,
                              "log_wait_s": 5.0, "startup_timeout_s": 60.0}
    values.update(overrides)
    return InvokerConfig(**values)


def owned(client: docker.DockerClient, owner: str) -> list[str]:
    """Ids of the containers (in any state) carrying ``whiskrun.owner=<owner>``.
    (The low-level call: ``containers.list`` inspects each one and fails on
    a container removed in between.)"""
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": f"{OWNER_LABEL}={owner}"})]


def remove_all(client: docker.DockerClient, container_ids: list[str]) -> None:
    for container_id in container_ids:
        try:
            client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass


def owner_of(invoker: Invoker) -> str:
    return invoker.pool._config.owner  # noqa: SLF001 - the label value the test chose


def queue_length(invoker: Invoker) -> int:
    """Activations waiting in the pool's queue."""
    return len(invoker.pool._queue)  # noqa: SLF001 - no public view of the queue


def action(kind: str, code: str, *, name: str | None = None, version: str = "0.0.1", main: str = "main",
           binary: bool = False, **limits: int) -> ActionSpec:
    """An ActionSpec for ``kind``; ``limits`` are Limits fields (timeout_ms, memory_mb, ...)."""
    chosen = kinds.resolve(kind)
    return ActionSpec(namespace="guest", name=name or f"act-{uuid.uuid4().hex[:8]}", kind=chosen.name,
                      image=chosen.image, code=code, main=main, binary=binary, version=version,
                      limits=Limits(**limits))


def invoke(invoker: Invoker, spec: ActionSpec, **params: Any) -> Activation:
    return invoker.invoke(spec, Invocation(params=params))


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def states(invoker: Invoker) -> list[ContainerState]:
    return [c.state for c in invoker.pool.snapshot()]


def container_ids(invoker: Invoker, state: ContainerState | None = None) -> set[str]:
    return {c.container_id for c in invoker.pool.snapshot()
            if c.container_id and (state is None or c.state is state)}


def hosts(invoker: Invoker) -> dict[str, str]:
    """Short container id (the container's hostname) -> full id, for the pool's containers."""
    return {c.container_id[:12]: c.container_id for c in invoker.pool.snapshot() if c.container_id}


def run_threads(count: int, target: Callable[[int], Any], timeout: float = 120.0) -> list[Any]:
    """Run ``target(i)`` in ``count`` threads released together; their results,
    re-raising the first exception any of them hit."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "activations did not finish in time"
    if errors:
        raise errors[0]
    return results


@pytest.fixture(scope="session")
def no_leftovers_in_session(docker_client: docker.DockerClient) -> Iterator[None]:
    """At the end of the session, no container of any owner of this session remains."""
    yield
    left = [c["Id"] for c in docker_client.api.containers(all=True, filters={"label": MANAGED_LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL, "").startswith(SESSION_OWNER)]
    remove_all(docker_client, left)
    assert not left, f"the session left containers behind: {[i[:12] for i in left]}"


@pytest.fixture
def start_invoker(docker_client: docker.DockerClient,
                  no_leftovers_in_session: None) -> Iterator[Callable[..., Invoker]]:
    """``start_invoker(**config_overrides)`` -> a running Invoker with an owner of
    its own; at the end of the test it is shut down and no container with its
    owner label may remain."""
    stack = contextlib.ExitStack()
    owners: list[str] = []

    def start(**overrides: Any) -> Invoker:
        owner = unique_owner()
        owners.append(owner)
        return stack.enter_context(running_invoker(invoker_config(owner, **overrides)))

    try:
        yield start
    finally:
        stack.close()
        left = {owner: owned(docker_client, owner) for owner in owners}
        for ids in left.values():
            remove_all(docker_client, ids)
        assert not any(left.values()), \
            f"containers left behind: { {o: [i[:12] for i in ids] for o, ids in left.items() if ids} }"


@pytest.fixture
def invoker(start_invoker: Callable[..., Invoker]) -> Invoker:
    """An invoker with the default test config."""
    return start_invoker()
