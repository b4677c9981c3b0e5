"""Clones that share their snapshot's memory (CRIU --mmap-page-image, the
patch scripts/install-criu.sh applies), on the real Docker engine with real
CRIU: a clone of whiskrun's own image maps the snapshot's page image instead
of copying it, its writes stay its own, glibc's allocator keeps its promises
on that memory, and a clone of a custom image or with sharing off copies.

Skipped where CRIU does not work here; failed instead when
WHISKRUN_REQUIRE_CRIU=1 (CI). Where CRIU works but lacks the option (a CRIU
not built by the setup), the tests fail: the setup installs it.
"""

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from whiskrun.invoker.backend import criu_direct
from whiskrun.invoker.records import Activation

from .invoker_support import criu_available, no_leftovers_in_session, start_snapshot_invoker  # noqa: F401 - fixtures
from .invoker_support import (NATIVE, PYTHON, action, container_ids, invoke, snapshot_folder, snapshot_manager,
                              wait_for_snapshot, wait_for_spare_holder)

# Init fills 16 MB with a pattern; each run bumps a counter, writes into the
# buffer, and reports what it saw before writing.
STATEFUL = """\
import hashlib
BUFFER = bytearray(b"snapshot" * (2 * 1024 * 1024))
COUNTER = [0]

def main(args):
    before = hashlib.sha256(BUFFER).hexdigest()
    COUNTER[0] += 1
    BUFFER[args.get("at", 0)] = 0x21
    return {"counter": COUNTER[0], "before": before}
"""

# Init leaves free chunks full of 0xAB in glibc's heap (so they are in the
# snapshot's pages); a run trims the heap (madvise(MADV_DONTNEED) on those
# pages: with a mapped image they read back 0xAB, not zeroes), then asks
# calloc for the same sizes and checks that every byte is zero.
ALLOCATOR = """\
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = libc.calloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
SIZES = [64 * 1024 - 64] * 256 + [3000] * 2000
_blocks = [libc.malloc(size) for size in SIZES]
for block, size in zip(_blocks, SIZES):
    ctypes.memset(block, 0xAB, size)
for block in _blocks[::2]:
    libc.free(block)

def main(args):
    freed = _blocks[0] + 4096  # inside a free chunk: trimmed
    trimmed = libc.malloc_trim(0)
    stale = ctypes.string_at(freed, 8192).count(0xAB)
    dirty = 0
    fresh = [libc.calloc(1, size) for size in SIZES]
    for block, size in zip(fresh, SIZES):
        dirty += ctypes.string_at(block, size).count(0) != size
    for block in fresh:
        libc.free(block)
    return {"dirty": dirty, "checked": len(fresh), "trimmed": trimmed, "stale": stale}
"""

NATIVE_ECHO = """\
#!/bin/sh
echo '{"ok": true}'
"""


def restored(activation: Activation) -> dict:
    assert activation.response.success, activation.response.result
    assert activation.start_path == "restore", (activation.start_path, activation.annotation("startReason"))
    return activation.response.result


def restore_once(invoker, spec) -> tuple[dict, int]:
    """Remove the warm container, restore a clone; its result and its pid."""
    invoker.pool.remove_idle()
    wait_for_spare_holder(invoker)
    result = restored(invoke(invoker, spec))
    [clone] = container_ids(invoker)
    return result, clone_pid(invoker, clone)


def clone_pid(invoker, clone_id: str) -> int:
    clone = snapshot_manager(invoker)._backend._clones[clone_id]  # noqa: SLF001 - the clone's restored init
    assert clone.pid > 0
    return clone.pid


def image_mappings(pid: int, images: Path) -> list[str]:
    """The lines of the process's maps that map one of the snapshot's page images."""
    return [line for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
            if line.endswith(".img") and str(images) in line and "/pages-" in line]


@pytest.fixture
def shares_pages(criu_available) -> None:
    direct = criu_direct.detect(shutil.which("criu"))
    assert direct.shares_pages, f"this CRIU cannot map page images ({direct.reason}); run scripts/install-criu.sh"


def test_a_clone_maps_the_snapshot_and_keeps_its_writes_to_itself(start_snapshot_invoker, shares_pages):
    invoker = start_snapshot_invoker()
    spec = action(PYTHON, STATEFUL, memory_mb=256)
    cold = invoke(invoker, spec)
    assert cold.response.success and cold.response.result["counter"] == 1
    wait_for_snapshot(invoker, spec)
    images = snapshot_folder(invoker, spec) / "images"

    first, first_pid = restore_once(invoker, spec)
    mapped = image_mappings(first_pid, images)
    assert mapped, "the restored clone copied its memory instead of mapping the page image"
    # Its writes stay its own: the snapshot (and so the next clone) still
    # holds the state of before the first run.
    again = restored_or_warm(invoker, spec, at=1)
    assert again["counter"] == 2 and again["before"] != first["before"]
    second, second_pid = restore_once(invoker, spec)
    assert second_pid != first_pid
    assert second["counter"] == 1, "a clone saw another clone's writes"
    assert second["before"] == first["before"]
    assert image_mappings(second_pid, images)


def restored_or_warm(invoker, spec, **params) -> dict:
    activation = invoke(invoker, spec, **params)
    assert activation.response.success, activation.response.result
    assert activation.start_path == "warm", activation.start_path
    return activation.response.result


def test_calloc_gives_zeroes_after_the_heap_is_trimmed_in_a_clone(start_snapshot_invoker, shares_pages):
    invoker = start_snapshot_invoker()
    spec = action(PYTHON, ALLOCATOR, memory_mb=256)
    cold = invoke(invoker, spec)
    assert cold.response.success and cold.response.result["dirty"] == 0, cold.response.result
    wait_for_snapshot(invoker, spec)
    result, pid = restore_once(invoker, spec)
    assert image_mappings(pid, snapshot_folder(invoker, spec) / "images")
    # The trimmed pages read back the snapshot's bytes (anonymous memory would
    # read zeroes: the cold run's "stale" is 0), and calloc still zeroes them.
    assert cold.response.result["stale"] == 0 and result["stale"] == 8192, (cold.response.result, result)
    assert result["checked"] == 2256 and result["dirty"] == 0, result
    # And again in the same clone, on memory calloc handed out and freed.
    assert restored_or_warm(invoker, spec)["dirty"] == 0


def test_sharing_off_copies_the_pages(start_snapshot_invoker, shares_pages):
    invoker = start_snapshot_invoker(share_snapshot_pages=False)
    spec = action(PYTHON, STATEFUL, memory_mb=256)
    assert invoke(invoker, spec).response.success
    wait_for_snapshot(invoker, spec)
    result, pid = restore_once(invoker, spec)
    assert result["counter"] == 1
    assert image_mappings(pid, snapshot_folder(invoker, spec) / "images") == []


@pytest.fixture
def custom_image():
    """whiskrun's native image under another name: to the invoker a user's own
    blackbox image, whose allocator it cannot know."""
    name = "whiskrun-test/custom-blackbox:shared-pages"
    source = action(NATIVE, NATIVE_ECHO).image
    subprocess.run(["docker", "tag", source, name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["docker", "rmi", name], check=False, capture_output=True)


def test_a_clone_of_a_custom_image_copies_the_pages(start_snapshot_invoker, shares_pages, custom_image):
    invoker = start_snapshot_invoker()
    spec = dataclasses.replace(action(NATIVE, NATIVE_ECHO), image=custom_image)
    assert invoke(invoker, spec).response.success
    wait_for_snapshot(invoker, spec)
    result, pid = restore_once(invoker, spec)
    assert result == {"ok": True}
    assert image_mappings(pid, snapshot_folder(invoker, spec) / "images") == []
    # The same code on whiskrun's own image shares.
    own = action(NATIVE, NATIVE_ECHO)
    assert invoke(invoker, own).response.success
    wait_for_snapshot(invoker, own)
    _, own_pid = restore_once(invoker, own)
    assert image_mappings(own_pid, snapshot_folder(invoker, own) / "images")


GC_STATE = """\
import gc
OBJECTS = [[i] for i in range(10_000)]  # lists: always tracked by the GC

def main(args):
    return {"frozen": gc.get_freeze_count(), "collected": gc.collect() >= 0}
"""


def test_a_python_snapshot_holds_init_in_the_gc_permanent_generation(start_snapshot_invoker):
    """gc.freeze() before the dump: a collection in a clone never walks (and
    writes to) the objects init made, so their pages stay shared."""
    invoker = start_snapshot_invoker()
    spec = action(PYTHON, GC_STATE)
    cold = invoke(invoker, spec)
    assert cold.response.success and cold.response.result["frozen"] == 0, cold.response.result
    wait_for_snapshot(invoker, spec)
    result, _ = restore_once(invoker, spec)
    assert result["frozen"] >= 10_000, result
