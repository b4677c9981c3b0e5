"""Restore from CRIU snapshots as a start path, on the real Docker engine with
real CRIU: when snapshots are taken (policy, annotation, hibernation), what a
restored container is (state kept, per-run context fresh, warm afterwards),
several clones of one snapshot at once, invalidation on update, and the
`whiskrun snapshots` listing.

Skipped where CRIU does not work here, with the reason; failed instead when
WHISKRUN_REQUIRE_CRIU=1 (CI).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from whiskrun.invoker.records import Activation

from .invoker_support import criu_available, no_leftovers_in_session, start_snapshot_invoker  # noqa: F401 - fixtures
from .invoker_support import (ACTIVATION_ID, NATIVE, NODEJS, PYTHON, action, container_ids, invoke, run_threads,
                              snapshot_folder, snapshot_manager, snapshot_of, wait_for_snapshot,
                              wait_for_spare_holder, wait_until)

# Each echo action answers with its per-run context and which container ran it
# (/etc/hostname: a clone gets its own, from its network holder). The Python
# and Node.js ones also keep module-level state set at import (x, imported),
# state an after-restore hook refreshes (refreshed) and a fresh random draw.
ECHO = {
    PYTHON: """\
import os, random, time, uuid
X = random.random()
IMPORTED = time.time()
REFRESHED = None

def after_restore():
    global REFRESHED
    REFRESHED = uuid.uuid4().hex

def main(args):
    time.sleep(args.get("sleep", 0))
    return {"x": X, "imported": IMPORTED, "refreshed": REFRESHED, "draw": random.random(),
            "host": open("/etc/hostname").read().strip(),
            "id": os.environ["__OW_ACTIVATION_ID"], "deadline": os.environ["__OW_DEADLINE"]}
""",
    NODEJS: """\
const fs = require('fs');
const crypto = require('crypto');
const X = Math.random();
const IMPORTED = Date.now() / 1000;
let refreshed = null;
// crypto's generator is the snapshot's in every clone: use the hook's seed.
global.afterRestore = function (seed) { refreshed = seed; };

function main(args) {
  return new Promise(resolve => setTimeout(() => resolve({
    x: X, imported: IMPORTED, refreshed: refreshed, draw: Math.random(),
    host: fs.readFileSync('/etc/hostname', 'utf8').trim(),
    id: process.env.__OW_ACTIVATION_ID, deadline: process.env.__OW_DEADLINE,
  }), (args.sleep || 0) * 1000));
}
""",
    NATIVE: """\
#!/bin/sh
echo "{\\"host\\": \\"$(cat /etc/hostname)\\", \\"id\\": \\"$__OW_ACTIVATION_ID\\", \\"deadline\\": \\"$__OW_DEADLINE\\"}"
""",
}

RESTORE_PHASES = {"restore.sandbox", "restore.listen", "hook", "run"}
#: The restore's own steps on each engine (criu_direct splits CRIU by its statistics).
ENGINE_STEPS = {"criu": {"restore.mount", "restore.criu.fork", "restore.criu.tasks", "restore.criu.other"},
                "runc": {"restore.runc"}}
WHISKRUN = Path(sys.executable).with_name("whiskrun")


def remove_warm(invoker) -> None:
    """Remove the idle containers, so that the next activation needs a new one,
    and let the pool get a network holder ready for a restore."""
    invoker.pool.remove_idle()
    wait_for_spare_holder(invoker)


def succeeded(activation: Activation) -> dict:
    assert activation.response.success, activation.response.result
    return activation.response.result


def assert_restored(activation: Activation) -> dict:
    result = succeeded(activation)
    assert activation.start_path == "restore", (activation.start_path, activation.annotation("startReason"))
    assert activation.annotation("initTime") is None
    assert activation.annotation("restoreFallback") is None
    phases = activation.annotation("phases")
    assert RESTORE_PHASES <= set(phases), phases
    assert "init" not in phases and "start" not in phases, phases
    assert any(ENGINE_STEPS[engine] <= set(phases) for engine in ENGINE_STEPS), phases
    restore_ms = sum(ms for name, ms in phases.items() if name.startswith("restore."))
    assert restore_ms > 0 and phases["run"] > 0, phases
    return result


def assert_own_context(activation: Activation, timeout_ms: int = 60_000) -> None:
    """The run saw its own activation id and a deadline of its own start plus the timeout."""
    result = activation.response.result
    assert result["id"] == activation.activation_id and ACTIVATION_ID.fullmatch(result["id"])
    assert abs(int(result["deadline"]) - (activation.start + timeout_ms)) < 2000, \
        (result["deadline"], activation.start)


def test_snapshot_is_taken_after_the_first_init_off_the_critical_path(start_snapshot_invoker):
    invoker = start_snapshot_invoker()
    store = snapshot_manager(invoker).store
    spec = action(PYTHON, ECHO[PYTHON])

    began = time.monotonic()
    cold = invoke(invoker, spec)
    returned_ms = (time.monotonic() - began) * 1000
    seen_at_return = store.entries()
    succeeded(cold)
    assert cold.start_path == "cold"
    # Nothing of the snapshot happened before the activation returned: no
    # snapshot yet, and the call took no longer than its own phases.
    assert seen_at_return == []
    assert returned_ms < sum(cold.annotation("phases").values()) + 150, (returned_ms, cold.annotation("phases"))

    info = wait_until(store.entries, 30, "the snapshot")[0]
    assert info.created * 1000 > cold.end
    assert (info.namespace, info.action, info.version, info.kind, info.memory_mb) == \
        ("guest", spec.name, spec.version, PYTHON, 256)
    assert info.image_id == invoker.pool._snapshots._backend.image_id(spec.image)  # noqa: SLF001
    assert info.size_bytes > 1_000_000 and info.restores == 0
    assert (snapshot_folder(invoker, spec) / "images").is_dir()
    # It holds the action's memory (parameters, API key): root only.
    assert snapshot_folder(invoker, spec).stat().st_mode & 0o777 == 0o700
    assert store.root.stat().st_mode & 0o777 == 0o700
    # Taken from a private source: the container that served is still there, warm.
    served = container_ids(invoker)
    warm = invoke(invoker, spec)
    assert warm.start_path == "warm" and succeeded(warm)["host"] == cold.response.result["host"]
    assert container_ids(invoker) == served


@pytest.mark.parametrize("kind", [PYTHON, NODEJS, NATIVE])
def test_restore_replaces_a_removed_warm_container(start_snapshot_invoker, kind):
    invoker = start_snapshot_invoker()
    spec = action(kind, ECHO[kind])
    cold = invoke(invoker, spec)
    succeeded(cold)
    assert cold.start_path == "cold"
    assert_own_context(cold)
    wait_for_snapshot(invoker, spec)
    assert invoker.pool.remove_idle() == 1
    wait_for_spare_holder(invoker)

    restored = invoke(invoker, spec)
    first = assert_restored(restored)
    assert first["host"] != cold.response.result["host"], "a restore got the cold container's identity"
    [clone] = container_ids(invoker)
    assert clone.startswith("clone-")
    assert snapshot_of(invoker, spec).restores == 1

    # The restored container then behaves as a warm one; every run has its own context.
    later = []
    for _ in range(3):
        time.sleep(0.01)
        later.append(invoke(invoker, spec))
    for activation in later:
        assert activation.start_path == "warm", activation.annotation("startReason")
        assert succeeded(activation)["host"] == first["host"]
    assert container_ids(invoker) == {clone}
    runs = [cold, restored, *later]
    for activation in runs:
        assert_own_context(activation)
    assert len({a.response.result["id"] for a in runs}) == len(runs)
    assert len({a.response.result["deadline"] for a in runs}) == len(runs)
    if kind != NATIVE:
        assert len({a.response.result["x"] for a in [restored, *later]}) == 1


@pytest.mark.parametrize("kind", [PYTHON, NODEJS])
def test_module_state_survives_restore_and_the_hook_refreshes_per_clone_state(start_snapshot_invoker, kind):
    """What init set is in every clone (the snapshot's); what the after-restore
    hook sets, and Python's random state, are each clone's own."""
    invoker = start_snapshot_invoker()
    spec = action(kind, ECHO[kind])
    cold = succeeded(invoke(invoker, spec))
    assert cold["refreshed"] is None
    info = wait_for_snapshot(invoker, spec)
    clones = []
    for _ in range(2):
        remove_warm(invoker)
        clones.append(assert_restored(invoke(invoker, spec)))
    one, two = clones
    assert one["host"] != two["host"]
    # Module state from the snapshot source's import, not from a new import.
    assert one["x"] == two["x"]
    assert one["imported"] == two["imported"] < info.created
    # The after-restore hook ran in each clone.
    assert one["refreshed"] and two["refreshed"]


@pytest.mark.parametrize("kind", [
    PYTHON,
    NODEJS,
])
def test_clones_of_one_snapshot_draw_different_random_numbers(start_snapshot_invoker, kind):
    invoker = start_snapshot_invoker()
    spec = action(kind, ECHO[kind])
    succeeded(invoke(invoker, spec))
    wait_for_snapshot(invoker, spec)
    clones = []
    for _ in range(2):
        remove_warm(invoker)
        clones.append(assert_restored(invoke(invoker, spec)))
    one, two = clones
    assert one["draw"] != two["draw"], "two clones drew the same random number"
    assert one["refreshed"] != two["refreshed"], "the hook made the same uuid in two clones"


def test_several_clones_from_one_snapshot_at_once(start_snapshot_invoker):
    # A network holder ready for each: without one a restore is estimated
    # slower, and the pool may rightly choose cold starts instead.
    invoker = start_snapshot_invoker(restore_spares=4)
    spec = action(PYTHON, ECHO[PYTHON], concurrency=1)
    succeeded(invoke(invoker, spec))
    wait_for_snapshot(invoker, spec)
    remove_warm(invoker)

    # Four at once, each running long enough that no container is free for another.
    activations = run_threads(4, lambda i: invoke(invoker, spec, sleep=1.0))
    results = [assert_restored(a) for a in activations]
    for activation in activations:
        assert_own_context(activation)
    assert len({r["host"] for r in results}) == 4
    assert len({a.activation_id for a in activations}) == 4
    assert len({r["x"] for r in results}) == 1
    assert len({r["refreshed"] for r in results}) == 4
    assert len([c for c in container_ids(invoker) if c.startswith("clone-")]) == 4
    assert snapshot_of(invoker, spec).restores == 4


def test_an_update_does_not_restore_the_old_snapshot_and_replaces_it(start_snapshot_invoker):
    invoker = start_snapshot_invoker()
    store = snapshot_manager(invoker).store
    v1 = action(PYTHON, ECHO[PYTHON], version="0.0.1")
    succeeded(invoke(invoker, v1))
    wait_for_snapshot(invoker, v1)
    old_folder = snapshot_folder(invoker, v1)
    invoker.pool.remove_idle()

    for update in (action(PYTHON, ECHO[PYTHON], name=v1.name, version="0.0.2"),
                   action(PYTHON, ECHO[PYTHON], name=v1.name, version="0.0.2", memory_mb=320)):
        activation = invoke(invoker, update)
        succeeded(activation)
        assert activation.start_path == "cold", activation.annotation("startReason")
        assert "snapshot" not in activation.annotation("startReason")
        info = wait_for_snapshot(invoker, update)
        assert (info.version, info.memory_mb) == (update.version, update.limits.memory_mb)
        # (The new folder lands first, then the old one goes.)
        wait_until(lambda: not old_folder.exists(), 5, "the earlier snapshot's removal")
        assert [e.key for e in store.entries()] == [info.key]
        old_folder = snapshot_folder(invoker, update)
        remove_warm(invoker)
    assert_restored(invoke(invoker, update))


def assert_no_snapshot_comes(invoker, spec, wait_s: float = 2.5) -> None:
    """A snapshot takes about a second here: none may appear within ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        assert snapshot_manager(invoker).store.entries() == []
        time.sleep(0.1)


@pytest.mark.parametrize("policy, annotations", [
    ("never", {}),
    ("always", {"whiskrun-snapshot": "never"}),
])
def test_no_snapshot_when_policy_or_annotation_says_never(start_snapshot_invoker, policy, annotations):
    invoker = start_snapshot_invoker(snapshot_policy=policy)
    spec = action(PYTHON, ECHO[PYTHON], annotations=annotations)
    for _ in range(2):
        activation = invoke(invoker, spec)
        succeeded(activation)
        assert activation.start_path == "cold", activation.annotation("startReason")
        invoker.pool.remove_idle()
    assert_no_snapshot_comes(invoker, spec)
    assert not any(Path(snapshot_manager(invoker).store.root).glob("[!.]*"))


def test_annotation_always_overrides_a_policy_not_yet_due(start_snapshot_invoker):
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    spec = action(PYTHON, ECHO[PYTHON], annotations={"whiskrun-snapshot": "always"})
    succeeded(invoke(invoker, spec))
    wait_for_snapshot(invoker, spec)
    remove_warm(invoker)
    assert_restored(invoke(invoker, spec))


def test_policy_after_two_cold_starts(start_snapshot_invoker):
    invoker = start_snapshot_invoker(snapshot_policy="after:2")
    spec = action(PYTHON, ECHO[PYTHON])
    first = invoke(invoker, spec)
    assert first.start_path == "cold" and succeeded(first)
    assert_no_snapshot_comes(invoker, spec)
    invoker.pool.remove_idle()

    second = invoke(invoker, spec)
    assert second.start_path == "cold" and succeeded(second)
    wait_for_snapshot(invoker, spec)
    remove_warm(invoker)
    assert_restored(invoke(invoker, spec))


def test_hibernation_snapshots_an_idle_container_before_removing_it(start_snapshot_invoker):
    # The policy alone would take no snapshot; the idle timeout does.
    invoker = start_snapshot_invoker(snapshot_policy="after:99", hibernate=True, idle_timeout_s=1.0)
    spec = action(PYTHON, ECHO[PYTHON])
    cold = invoke(invoker, spec)
    assert cold.start_path == "cold" and succeeded(cold)
    assert snapshot_of(invoker, spec) is None
    wait_until(lambda: not container_ids(invoker), 15, "the idle container's removal")
    wait_for_snapshot(invoker, spec, timeout=15)
    wait_for_spare_holder(invoker)
    assert_restored(invoke(invoker, spec))


def test_idle_removal_without_hibernation_takes_no_snapshot(start_snapshot_invoker):
    invoker = start_snapshot_invoker(snapshot_policy="after:99", hibernate=False, idle_timeout_s=0.5)
    spec = action(PYTHON, ECHO[PYTHON])
    succeeded(invoke(invoker, spec))
    wait_until(lambda: not container_ids(invoker), 15, "the idle container's removal")
    assert_no_snapshot_comes(invoker, spec, wait_s=2.0)


def test_snapshots_command_lists_action_size_and_restores(start_snapshot_invoker):
    invoker = start_snapshot_invoker()
    spec = action(PYTHON, ECHO[PYTHON])
    succeeded(invoke(invoker, spec))
    info = wait_for_snapshot(invoker, spec)
    remove_warm(invoker)
    assert_restored(invoke(invoker, spec))

    environment = {**os.environ, "WHISKRUN_SNAPSHOT_DIR": str(snapshot_manager(invoker).store.root)}
    listed = subprocess.run([str(WHISKRUN), "snapshots", "--json"], env=environment, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert (entry["action"], entry["version"], entry["restores"], entry["size_bytes"]) == \
        (spec.name, spec.version, 1, info.size_bytes)

    table = subprocess.run([str(WHISKRUN), "snapshots"], env=environment, capture_output=True, text=True,
                           timeout=60)
    assert table.returncode == 0, table.stderr
    assert f"/guest/{spec.name}" in table.stdout and f"{info.size_bytes / 1e6:.1f} MB" in table.stdout
