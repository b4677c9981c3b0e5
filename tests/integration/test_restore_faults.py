"""Faults around CRIU snapshots, on the real Docker engine with real CRIU: a
snapshot folder truncated, deleted or from another image; a full disk while
checkpointing; CRIU killed while checkpointing or restoring; a checkpoint
while the action is serving; a shutdown while a snapshot is being taken.
Each is handled with a clear log line and a fallback: no activation fails
and the pool keeps serving.

Skipped where CRIU does not work here, with the reason; failed instead when
WHISKRUN_REQUIRE_CRIU=1 (CI).
"""

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from whiskrun.invoker.backend import checkpoint
from whiskrun.invoker.records import Activation, Status

from .invoker_support import criu_available, no_leftovers_in_session, start_snapshot_invoker  # noqa: F401 - fixtures
from .invoker_support import (NODEJS, PYTHON, CriuKiller, action, container_ids, criu_descendants, invoke,
                              snapshot_folder, snapshot_manager, snapshot_of, snapshot_then_no_container,
                              wait_for_spare_holder, wait_until)

ECHO_PYTHON = """\
import socket
def main(args):
    return {"host": socket.gethostname(), "i": args.get("i")}
"""

ECHO_NODEJS = """\
function main(args) { return {i: args.i}; }
"""

RESTORE_LOG = "whiskrun.invoker.restore"
FREEZER = Path("/sys/fs/cgroup/freezer/docker")


def succeeded(activation: Activation) -> dict:
    assert activation.response.success, activation.response.result
    return activation.response.result


def warnings_of(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith("whiskrun.invoker") and text in r.getMessage()]


def snapshotted_echo(start_snapshot_invoker):
    """An invoker that takes no snapshot of its own, the Python echo action, and
    the folder of the snapshot taken of it now (no container of it running)."""
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    spec = action(PYTHON, ECHO_PYTHON)
    snapshot_then_no_container(invoker, spec)
    return invoker, spec, snapshot_folder(invoker, spec)


def largest_page_image(folder):
    return max((folder / "images").glob("pages-*.img"), key=lambda p: p.stat().st_size)


def assert_still_serving(invoker, spec) -> None:
    """The pool serves the action on: warm, and cold again once its container is gone."""
    warm = invoke(invoker, spec)
    assert warm.start_path == "warm" and succeeded(warm)
    invoker.pool.remove_idle()
    cold = invoke(invoker, spec)
    assert cold.start_path == "cold" and succeeded(cold)


def assert_fell_back(activation: Activation) -> None:
    succeeded(activation)
    assert activation.start_path == "cold", activation.annotation("startReason")
    assert activation.annotation("restoreFallback"), activation.annotations
    phases = activation.annotation("phases")
    assert {"create", "start", "init", "run"} <= set(phases), phases
    assert not any(name.startswith("restore") or name == "hook" for name in phases), phases
    assert activation.annotation("initTime") is not None


def test_truncated_snapshot_falls_back_to_cold_and_is_discarded(start_snapshot_invoker, caplog):
    caplog.set_level(logging.WARNING)
    invoker, spec, folder = snapshotted_echo(start_snapshot_invoker)
    pages = largest_page_image(folder)
    os.truncate(pages, pages.stat().st_size // 2)

    activation = invoke(invoker, spec)
    assert_fell_back(activation)
    assert "truncated" in activation.annotation("restoreFallback"), activation.annotation("restoreFallback")
    assert not folder.exists(), "the truncated snapshot was kept"
    assert warnings_of(caplog, "discarding the snapshot of guest/" + spec.name)
    assert_still_serving(invoker, spec)


def test_hung_restore_is_killed_and_falls_back_to_cold(start_snapshot_invoker, monkeypatch, caplog):
    """CRIU blocked for good (its first image, inventory.img, replaced by a
    FIFO that nobody writes, the snapshot's size kept with a file of the
    same length): the restore is killed at its timeout, nothing of it is
    left, and the activation runs cold."""
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(checkpoint, "RESTORE_TIMEOUT_S", 3.0)
    invoker, spec, folder = snapshotted_echo(start_snapshot_invoker)
    inventory = folder / "images" / "inventory.img"
    size = inventory.stat().st_size
    inventory.unlink()
    os.mkfifo(inventory)
    (folder / "images" / "padding").write_bytes(b"\0" * size)

    began = time.monotonic()
    activation = invoke(invoker, spec)
    assert_fell_back(activation)
    assert "did not finish" in activation.annotation("restoreFallback"), activation.annotation("restoreFallback")
    assert time.monotonic() - began < 15
    assert not folder.exists()
    assert not criu_descendants()
    assert_still_serving(invoker, spec)


def test_snapshot_without_images_starts_cold_and_is_discarded(start_snapshot_invoker, caplog):
    caplog.set_level(logging.WARNING)
    invoker, spec, folder = snapshotted_echo(start_snapshot_invoker)
    shutil.rmtree(folder / "images")

    activation = invoke(invoker, spec)
    succeeded(activation)
    assert activation.start_path == "cold", activation.annotation("startReason")
    # As docs/snapshots.md promises for every fault: the record says why it did not restore.
    fallback = activation.annotation("restoreFallback")
    assert fallback and folder.name in fallback and "discarded" in fallback, fallback
    assert not folder.exists(), "the broken snapshot folder was kept"
    assert warnings_of(caplog, f"the snapshot folder {folder.name} of guest/{spec.name}")
    assert_still_serving(invoker, spec)


@pytest.mark.parametrize("claims_the_key", [False, True], ids=["copied", "copied-and-relabelled"])
def test_snapshot_from_another_image_is_not_restored(start_snapshot_invoker, caplog, claims_the_key):
    """The Node.js action's snapshot folder copied over the Python action's
    (under the Python key's name; then also with its record claiming that key)."""
    caplog.set_level(logging.WARNING)
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    manager = snapshot_manager(invoker)
    python, nodejs = action(PYTHON, ECHO_PYTHON), action(NODEJS, ECHO_NODEJS)
    snapshot_then_no_container(invoker, python)
    assert manager.take_now(nodejs) is not None
    python_folder, nodejs_folder = snapshot_folder(invoker, python), snapshot_folder(invoker, nodejs)
    shutil.rmtree(python_folder)
    shutil.copytree(nodejs_folder, python_folder, symlinks=True)
    if claims_the_key:
        meta = json.loads((python_folder / "meta.json").read_text())
        meta["key"] = python_folder.name
        (python_folder / "meta.json").write_text(json.dumps(meta))

    activation = invoke(invoker, python)
    assert succeeded(activation)["host"]
    assert activation.start_path == "cold", activation.annotation("startReason")
    assert not python_folder.exists(), "the foreign snapshot was kept under the Python action's key"
    assert snapshot_of(invoker, nodejs) is not None, "the Node.js action's own snapshot was discarded"
    assert warnings_of(caplog, "taken from another image" if claims_the_key else f"folder {python_folder.name}")
    assert_still_serving(invoker, python)


def test_full_disk_while_checkpointing_takes_no_snapshot(start_snapshot_invoker, caplog):
    caplog.set_level(logging.WARNING, logger=RESTORE_LOG)
    invoker = start_snapshot_invoker(tmpfs_mb=2)  # policy always; a snapshot needs 20+ MB
    spec = action(PYTHON, ECHO_PYTHON)
    root = snapshot_manager(invoker).store.root

    cold = invoke(invoker, spec)
    assert cold.start_path == "cold" and succeeded(cold)
    [line] = wait_until(lambda: warnings_of(caplog, f"no snapshot of guest/{spec.name}"), 30, "the log line")
    assert "No space left on device" in line or "ENOSPC" in line or "space" in line.lower(), line
    assert snapshot_manager(invoker).store.entries() == []
    wait_until(lambda: not list(root.glob(".staging-*")), 10, "the half-written snapshot's removal")
    assert_still_serving(invoker, spec)


def test_criu_killed_while_checkpointing(start_snapshot_invoker, caplog):
    caplog.set_level(logging.WARNING, logger=RESTORE_LOG)
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    spec = action(PYTHON, ECHO_PYTHON)
    assert invoke(invoker, spec).start_path == "cold"

    with CriuKiller() as killer:
        info = snapshot_manager(invoker).take_now(spec)
    assert killer.kills > 0, "no criu process was seen to kill"
    assert info is None
    assert snapshot_manager(invoker).store.entries() == []
    assert not list(snapshot_manager(invoker).store.root.glob(".staging-*"))
    assert warnings_of(caplog, f"no snapshot of guest/{spec.name}")
    assert_still_serving(invoker, spec)
    # And a later checkpoint, undisturbed, works.
    assert snapshot_manager(invoker).take_now(spec) is not None


def test_criu_killed_while_restoring_falls_back_to_cold(start_snapshot_invoker, caplog):
    caplog.set_level(logging.WARNING)
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    spec = action(PYTHON, ECHO_PYTHON)
    snapshot_then_no_container(invoker, spec)

    with CriuKiller() as killer:
        activation = invoke(invoker, spec)
    assert killer.kills > 0, "no criu process was seen to kill"
    assert_fell_back(activation)
    assert snapshot_of(invoker, spec) is None
    assert warnings_of(caplog, "restore failed")
    assert_still_serving(invoker, spec)


def test_a_checkpoint_never_freezes_a_serving_container(start_snapshot_invoker):
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    spec = action(PYTHON, ECHO_PYTHON)
    first = invoke(invoker, spec)
    assert first.start_path == "cold"
    [serving] = container_ids(invoker)
    freezer_state = FREEZER / serving / "freezer.state"

    taken: list = []
    checkpointing = threading.Thread(target=lambda: taken.append(snapshot_manager(invoker).take_now(spec)))
    checkpointing.start()
    activations, states = [], set()
    while checkpointing.is_alive():
        if freezer_state.exists():
            states.add(freezer_state.read_text().strip())
        activations.append(invoke(invoker, spec, i=len(activations)))
    checkpointing.join()

    assert taken and taken[0] is not None, "the snapshot was not taken"
    assert len(activations) >= 5
    for activation in activations:
        assert activation.start_path == "warm", activation.annotation("startReason")
        assert succeeded(activation)["host"] == first.response.result["host"]
        assert activation.annotation("phases")["run"] < taken[0].checkpoint_ms, activation.annotation("phases")
    assert container_ids(invoker) == {serving}
    assert states <= {"THAWED"}, states


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_shutdown_while_a_snapshot_is_being_taken(start_snapshot_invoker, caplog):
    """As `whiskrun invoke` does: one cold activation, then the invoker stops
    while its snapshot is in the making. Nothing is left half done (the
    fixture checks containers, clones and half-written folders), no thread
    fails, and the snapshot is there for the next run."""
    caplog.set_level(logging.WARNING)
    invoker = start_snapshot_invoker()
    spec = action(PYTHON, ECHO_PYTHON)
    root = snapshot_manager(invoker).store.root
    key = snapshot_manager(invoker).key_for(spec.key)
    assert invoke(invoker, spec).start_path == "cold"
    start_snapshot_invoker.stop(invoker)
    time.sleep(0.5)  # threads the shutdown did not wait for would fail or leave things now
    assert not list(root.glob(".staging-*"))
    assert (root / key / "images").is_dir(), "the snapshot in the making was lost"
    assert not warnings_of(caplog, "")


def test_a_short_page_image_fails_the_restore_instead_of_the_clone(start_snapshot_invoker, caplog):
    """Pages mapped from an image (shared pages) past its end would fault with
    SIGBUS only when the clone touches them: CRIU's restorer (whiskrun's patch)
    checks the image's length first, so the restore itself fails and the
    activation runs cold. The snapshot's size is kept (the cut bytes in
    another file), so that only CRIU can notice."""
    caplog.set_level(logging.WARNING)
    invoker, spec, folder = snapshotted_echo(start_snapshot_invoker)
    pages = largest_page_image(folder)
    cut = pages.stat().st_size // 2
    os.truncate(pages, pages.stat().st_size - cut)
    (folder / "images" / "padding").write_bytes(b"\0" * cut)

    activation = invoke(invoker, spec)
    assert_fell_back(activation)
    reason = activation.annotation("restoreFallback")
    assert "The page image ends at" in reason, reason
    assert not folder.exists()
    assert not criu_descendants()
    assert_still_serving(invoker, spec)


# The action makes the proxy (PID 1) the OOM killer's first choice, then runs the
# container out of memory: the container dies while its /run is under way.
KILLS_ITS_CONTAINER = """\
def main(args):
    if args.get("boom"):
        with open("/proc/1/oom_score_adj", "w") as handle:
            handle.write("1000")
        hog = b"x" * (600 * 1024 * 1024)
        return {"survived": len(hog)}
    return {"ok": True}
"""


def test_a_clone_its_action_kills_is_the_activations_outcome_not_a_rerun(start_snapshot_invoker, caplog):
    """At most once for user code: the /run reached the clone, so the action's own
    crash is its result; nothing runs it again cold, and one such death does not
    cost the snapshot (two in a row do)."""
    caplog.set_level(logging.WARNING)
    invoker = start_snapshot_invoker(snapshot_policy="after:99")
    spec = action(PYTHON, KILLS_ITS_CONTAINER, memory_mb=256)
    snapshot_then_no_container(invoker, spec)

    died = invoke(invoker, spec, boom=True)
    assert died.start_path == "restore", died.annotation("startReason")
    assert died.annotation("restoreFallback") is None, died.annotation("restoreFallback")
    assert not died.response.success and died.response.status is not Status.SUCCESS, died.response
    assert snapshot_of(invoker, spec) is not None, "one death discarded a good snapshot"
    wait_until(lambda: not container_ids(invoker), 10, "the dead clone's removal")

    wait_for_spare_holder(invoker)
    fine = invoke(invoker, spec)
    assert fine.start_path == "restore" and fine.response.result == {"ok": True}
    invoker.pool.remove_idle()

    # Two deaths in a row prove the snapshot broken.
    for _ in range(2):
        wait_for_spare_holder(invoker)
        again = invoke(invoker, spec, boom=True)
        assert again.start_path == "restore" and again.annotation("restoreFallback") is None
    assert snapshot_of(invoker, spec) is None
    assert warnings_of(caplog, "2 restored containers in a row")
    assert not criu_descendants()
