"""Shared pieces of the invoker's integration tests (real Docker, real images).

Every invoker a test starts gets an owner label of its own, derived from one
value per test session; when the test ends the invoker is shut down and the
test fails if any container carrying that owner label is still there.
Import the fixtures into a test module to use them.
"""

import contextlib
import functools
import itertools
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from whiskrun import kinds
from whiskrun.invoker.backend import checkpoint
from whiskrun.invoker.backend.base import MANAGED_LABEL, OWNER_LABEL
from whiskrun.invoker.config import InvokerConfig
from whiskrun.invoker.invoker import Invocation, Invoker
from whiskrun.invoker.records import Activation, ActionSpec, Limits
from whiskrun.invoker.restore import SnapshotManager
from whiskrun.invoker.service import running_invoker
from whiskrun.invoker.snapshots import SnapshotInfo
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
           binary: bool = False, annotations: dict[str, Any] | None = None, **limits: int) -> ActionSpec:
    """An ActionSpec for ``kind``; ``limits`` are Limits fields (timeout_ms, memory_mb, ...)."""
    chosen = kinds.resolve(kind)
    return ActionSpec(namespace="guest", name=name or f"act-{uuid.uuid4().hex[:8]}", kind=chosen.name,
                      image=chosen.image, code=code, main=main, binary=binary, version=version,
                      limits=Limits(**limits), annotations=dict(annotations or {}))


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


# -- checkpoint/restore (CRIU) --------------------------------------------------

#: Set by .ci/run: a machine without working CRIU fails the restore tests instead of skipping them.
REQUIRE_CRIU = "WHISKRUN_REQUIRE_CRIU"
SNAPSHOT_ROOT = Path("/dev/shm")
CLONES_DIR = Path(checkpoint.CLONE_RUNC_ROOT).parent / "clones"


@functools.lru_cache(maxsize=1)
def _criu_support() -> checkpoint.Support:
    return checkpoint.detect()


@pytest.fixture
def criu_available() -> checkpoint.Support:
    """Skip the test (with the reason) where checkpoint/restore does not work here;
    with WHISKRUN_REQUIRE_CRIU=1 (CI) fail it instead."""
    support = _criu_support()
    if not support.available:
        reason = f"checkpoint/restore does not work on this machine: {support.reason}"
        if os.environ.get(REQUIRE_CRIU) == "1":
            pytest.fail(f"{reason} ({REQUIRE_CRIU}=1 requires it)")
        pytest.skip(reason)
    return support


def snapshot_manager(invoker: Invoker) -> SnapshotManager:
    manager = invoker.pool._snapshots  # noqa: SLF001 - the pool's SnapshotManager
    assert manager is not None, "the invoker runs without checkpoint/restore"
    return manager


def snapshot_of(invoker: Invoker, spec: ActionSpec) -> SnapshotInfo | None:
    """The stored snapshot of ``spec`` (its exact key), or None."""
    manager = snapshot_manager(invoker)
    return manager.store.get(manager.key_for(spec.key))


def snapshot_folder(invoker: Invoker, spec: ActionSpec) -> Path:
    manager = snapshot_manager(invoker)
    return manager.store.folder(manager.key_for(spec.key))


def wait_for_snapshot(invoker: Invoker, spec: ActionSpec, timeout: float = 30.0) -> SnapshotInfo:
    return wait_until(lambda: snapshot_of(invoker, spec), timeout, f"a snapshot of {spec.name}")


def wait_for_spare_holder(invoker: Invoker, timeout: float = 15.0) -> None:
    """Wait until the sandboxes kept for restores are ready. A restore without
    one waits for Docker to create its holder (about 0.3 s here), which the pool
    then counts in its restore estimate and may prefer a cold start next."""
    manager = snapshot_manager(invoker)
    wanted = invoker.pool._config.restore_spares  # noqa: SLF001
    wait_until(lambda: manager.sandboxes.stats()["ready"] >= wanted, timeout, "a ready restore sandbox")


def snapshot_then_no_container(invoker: Invoker, spec: ActionSpec) -> SnapshotInfo:
    """A snapshot of ``spec`` taken now (no container of it in the pool), and a
    network holder ready, so that the next activation is a restore."""
    info = snapshot_manager(invoker).take_now(spec)
    assert info is not None, "the snapshot could not be taken"
    assert not container_ids(invoker)
    wait_for_spare_holder(invoker)
    return info


def owned_clones(owner: str) -> list[str]:
    """Clones restored by an invoker of ``owner`` that runc still lists."""
    done = subprocess.run(["runc", "--root", checkpoint.CLONE_RUNC_ROOT, "list", "--quiet"],
                          capture_output=True, text=True, check=False)
    return [line for line in done.stdout.split() if line.startswith(f"clone-{owner}-")]


def _clone_mounts(owner: str) -> list[str]:
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if f"/clone-{owner}-" in line.split()[4]]


def criu_descendants() -> list[int]:
    """Pids of the criu processes started (through runc) by this test process."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        head, _, tail = stat.rpartition(")")
        names[int(entry.name)] = head.partition("(")[2]
        parents[int(entry.name)] = int(tail.split()[1])
    mine = os.getpid()

    def started_here(pid: int) -> bool:
        for _ in range(64):
            pid = parents.get(pid, 0)
            if pid == mine:
                return True
            if pid <= 1:
                return False
        return False

    def is_criu(pid: int) -> bool:
        if names[pid] == "criu":
            return True
        try:  # or run through a private dynamic loader (scripts/install-criu.sh): ld.so ... /usr/sbin/criu
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return any(os.path.basename(arg) == b"criu" for arg in argv[:8])

    return [pid for pid in names if started_here(pid) and is_criu(pid)]


class CriuKiller:
    """While active, SIGKILL every criu process this test process started (and
    only those), as often as they appear; ``kills`` counts them."""

    def __init__(self) -> None:
        self.kills = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="criu-killer", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in criu_descendants():
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.002)

    def __enter__(self) -> "CriuKiller":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def _clone_cgroups(owner: str) -> list[str]:
    return sorted(str(p) for p in Path("/sys/fs/cgroup").glob(f"*/whiskrun/clone-{owner}-*"))


@pytest.fixture
def start_snapshot_invoker(docker_client: docker.DockerClient, no_leftovers_in_session: None,
                           criu_available: checkpoint.Support) -> Iterator[Callable[..., Invoker]]:
    """``start_snapshot_invoker(tmpfs_mb=None, **config_overrides)`` -> a running
    Invoker with checkpoint/restore on (policy always, no hibernation unless
    overridden), an owner of its own and a snapshot folder of its own,
    /dev/shm/whiskrun-test-<owner> (a tmpfs of ``tmpfs_mb`` MB mounted there
    when given). ``start_snapshot_invoker.stop(invoker)`` shuts one down early.

    At the end of the test every invoker is shut down, and the test fails if
    a container with its owner label, a clone of it (in runc, or its folder,
    root mount or cgroup) or a half-written snapshot is left; then the
    snapshot folder is removed and must be gone."""
    stacks: dict[int, contextlib.ExitStack] = {}
    folders: dict[str, Path] = {}
    mounted: list[Path] = []

    def start(tmpfs_mb: int | None = None, **overrides: Any) -> Invoker:
        owner = unique_owner()
        folder = folders[owner] = SNAPSHOT_ROOT / f"whiskrun-test-{owner}"
        folder.mkdir(parents=True)
        if tmpfs_mb is not None:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_mb}m", "tmpfs", str(folder)], check=True)
            mounted.append(folder)
        values = {"snapshot_policy": "always", "hibernate": False, "snapshot_dir": str(folder), **overrides}
        stack = contextlib.ExitStack()
        invoker = stack.enter_context(running_invoker(invoker_config(owner, **values)))
        stacks[id(invoker)] = stack
        return invoker

    def stop(invoker: Invoker) -> None:
        stacks.pop(id(invoker)).close()

    start.stop = stop  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        for stack in stacks.values():
            stack.close()
        problems = []
        for owner, folder in folders.items():
            left = owned(docker_client, owner)
            remove_all(docker_client, left)
            if left:
                problems.append(f"{owner}: containers left: {[i[:12] for i in left]}")
            clones = owned_clones(owner)
            for clone in clones:
                checkpoint.discard_clone(checkpoint.Clone(clone, checkpoint.Holder("", 0, ""),
                                                          CLONES_DIR / clone, Path("/dev/null")))
            states = sorted(p.name for p in Path(checkpoint.CLONE_RUNC_ROOT).glob(f"clone-{owner}-*"))
            if clones or states:
                problems.append(f"{owner}: clones left in runc: {clones}, state folders: {states}")
            for name in states:
                shutil.rmtree(Path(checkpoint.CLONE_RUNC_ROOT) / name, ignore_errors=True)
            folders_left = sorted(p.name for p in CLONES_DIR.glob(f"clone-{owner}-*"))
            mounts_left = _clone_mounts(owner)
            for mount in mounts_left:
                subprocess.run(["umount", "-l", mount], check=False)
            for name in folders_left:
                shutil.rmtree(CLONES_DIR / name, ignore_errors=True)
            if folders_left or mounts_left:
                problems.append(f"{owner}: clone folders {folders_left} and mounts {mounts_left} left")
            cgroups = _clone_cgroups(owner)
            if cgroups:
                problems.append(f"{owner}: clone cgroups left: {cgroups}")
            staging = sorted(p.name for p in folder.glob(".staging-*")) if folder.is_dir() else []
            if staging:
                problems.append(f"{owner}: half-written snapshots left: {staging}")
            if folder in mounted:
                subprocess.run(["umount", str(folder)], check=False)
            shutil.rmtree(folder, ignore_errors=True)
            if folder.exists():
                problems.append(f"{owner}: the snapshot folder {folder} could not be removed")
        assert not problems, "; ".join(problems)
