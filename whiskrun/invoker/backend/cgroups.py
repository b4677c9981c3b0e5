"""cgroup v1 groups for restored clones, made ahead of the restore.

The direct CRIU engine restores with `--manage-cgroups=ignore`: the restored
tasks are born in the cgroups of the CRIU process itself. So each sandbox gets
its groups (one per v1 hierarchy, under `whiskrun/<name>`) with its limits
written while the sandbox is prepared, and the process that will become CRIU
is moved into them then: no cgroup migration (each a write lock of the global
threadgroup rwsem, with an RCU grace period on this kernel) is left on the
restore's critical path.
"""

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackendError

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "whiskrun"


def v1_hierarchies(mountinfo: str | None = None) -> dict[str, Path]:
    """The cgroup v1 hierarchies mounted here: name (controllers, or the named
    hierarchy) -> mount point."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    found: dict[str, Path] = {}
    for line in text.splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) > 4 and tail and tail[0] == "cgroup":
            found[Path(fields[4]).name] = Path(fields[4])
    return found


@dataclass(frozen=True)
class CgroupSet:
    """One group in every v1 hierarchy, all named ``whiskrun/<name>``."""

    name: str
    paths: dict[str, Path]

    def path(self, hierarchy: str) -> Path | None:
        return self.paths.get(hierarchy)

    def _controller(self, key: str) -> Path | None:
        return next((path for name, path in self.paths.items() if key in name.split(",")), None)

    def place(self, pid: int) -> None:
        for path in self.paths.values():
            (path / "cgroup.procs").write_text(str(pid))

    def set_memory(self, memory_mb: int) -> None:
        memory = self._controller("memory")
        if memory is not None:
            (memory / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))

    def freeze(self, timeout_s: float = 5.0) -> bool:
        return self._freezer_to("FROZEN", timeout_s)

    def thaw(self, timeout_s: float = 5.0) -> bool:
        return self._freezer_to("THAWED", timeout_s)

    def _freezer_to(self, state: str, timeout_s: float) -> bool:
        freezer = self._controller("freezer")
        if freezer is None:
            return False
        try:
            (freezer / "freezer.state").write_text(state)
            deadline = time.monotonic() + timeout_s
            while (freezer / "freezer.state").read_text().strip() != state:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.001)
        except OSError:
            return False
        return True

    def pids(self) -> list[int]:
        group = self._controller("pids") or next(iter(self.paths.values()), None)
        if group is None:
            return []
        try:
            return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def oom_killed(self) -> bool:
        memory = self._controller("memory")
        if memory is None:
            return False
        with contextlib.suppress(OSError, ValueError):
            for line in (memory / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value) > 0
        return False

    def kill_all(self) -> None:
        """SIGKILL everything in the groups (thawed first: a frozen task dies only once thawed)."""
        self.thaw(timeout_s=1.0)
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def remove(self, timeout_s: float = 2.0) -> None:
        """Remove the groups once the killed tasks have left them."""
        left = list(self.paths.values())
        deadline = time.monotonic() + timeout_s
        while left:
            for path in list(left):
                try:
                    path.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:  # still busy
                    continue
                left.remove(path)
            if not left or time.monotonic() > deadline:
                return
            time.sleep(0.01)


def existing(name: str) -> CgroupSet:
    """The groups of ``name`` as they are now (for leftovers of an earlier run)."""
    paths = {hierarchy: mount / PARENT / name for hierarchy, mount in v1_hierarchies().items()}
    return CgroupSet(name, {h: p for h, p in paths.items() if p.is_dir()})


def create(name: str, *, pids_limit: int, device_rules: list[str]) -> CgroupSet:
    """Make the groups of a sandbox with the limits that do not depend on the
    action (pids, devices); memory is written at restore."""
    paths: dict[str, Path] = {}
    try:
        for hierarchy, mount in v1_hierarchies().items():
            parent = mount / PARENT
            group = parent / name
            group.mkdir(parents=True, exist_ok=True)
            if "cpuset" in hierarchy.split(","):
                # A new cpuset group has no CPUs or memory nodes: inherit them.
                for setting in ("cpuset.cpus", "cpuset.mems"):
                    for level in (parent, group):
                        if not (level / setting).read_text().strip():
                            (level / setting).write_text((mount / setting).read_text())
            paths[hierarchy] = group
        groups = CgroupSet(name, paths)
        pids = groups._controller("pids")
        if pids is not None and pids_limit > 0:
            (pids / "pids.max").write_text(str(pids_limit))
        devices = groups._controller("devices")
        if devices is not None and device_rules:
            # The same rules Docker gives its containers (read from a holder's group).
            (devices / "devices.deny").write_text("a")
            for rule in device_rules:
                (devices / "devices.allow").write_text(rule)
        return groups
    except OSError as exc:
        CgroupSet(name, paths).remove(timeout_s=0.5)
        raise BackendError(f"Could not prepare the cgroups of {name}: {exc}") from exc
