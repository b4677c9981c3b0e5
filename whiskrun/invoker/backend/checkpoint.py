"""CRIU checkpoint and restore through runc, beside the Docker backend.

docker-py has no checkpoint API, and Docker 20.10's own restore path
(`docker start --checkpoint`) costs about 1 s here, more than a cold start.
So snapshots are taken and restored with runc directly:

* A snapshot source runs in the network namespace of a *holder* container
  (`--network container:<holder>`), which makes its netns external to the
  checkpoint; runc then restores it into the netns of any other holder.
* `runc checkpoint` dumps the source through Docker's runc state directory.
* A clone gets an overlay root (the image's layers below, a fresh upper
  layer), the source's runc config with the new holder's netns and files,
  its own cgroup, and its stdout/stderr on pipes that a thread writes to a
  json-file log in Docker's format, so logs are read the same way.

Holders are plain containers of the base image running `sleep`, created
ahead of time so that a restore need not wait for Docker.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from ..errors import BackendError, CheckpointUnsupported
from .cgroups import CgroupSet

DOCKER_RUNC_ROOT = "/run/docker/runtime-runc/moby"
DOCKER_BUNDLES = Path("/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby")
CLONE_RUNC_ROOT = "/run/whiskrun/runc"
#: CRIU's mount engine v2 cannot copy the root's slave propagation into a new
#: overlay root ("Failed to copy sharing from source"); the compat engine can.
CRIU_RESTORE_OPTIONS = "mntns-compat-mode\n"
#: A restore takes well under a second; one still running after this is hung
#: (a truncated page image makes CRIU 4.2's restorer read it in a loop).
RESTORE_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Support:
    available: bool
    reason: str
    #: Which engine takes and restores snapshots: "criu" (criu_direct) or "runc" (this module).
    engine: str = "runc"
    #: Whether this CRIU can map page images copy-on-write (--mmap-page-image,
    #: scripts/criu-patches/0001-mmap-page-image.patch), so that clones of one
    #: snapshot share its memory.
    shares_pages: bool = False


def detect(runc: str | None = None) -> Support:
    """Whether checkpoint/restore works here, as one sentence."""
    runc = runc or shutil.which("runc")
    criu = shutil.which("criu")
    if not runc:
        return Support(False, "runc is not on PATH")
    if not criu:
        return Support(False, "criu is not on PATH (`make setup` installs CRIU 4.2)")
    try:
        version = subprocess.run([criu, "--version"], capture_output=True, text=True, timeout=10).stdout
        check = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Support(False, f"criu could not run ({exc})")
    if "Looks good" not in check.stdout + check.stderr:
        last = (check.stderr or check.stdout).strip().splitlines()[-1:] or ["no output"]
        return Support(False, f"`criu check` failed: {last[0]}")
    if not os.path.isdir(DOCKER_RUNC_ROOT):
        return Support(False, f"Docker's runc state {DOCKER_RUNC_ROOT} is missing (is dockerd using runc?)")
    number = next((line.split(":", 1)[1].strip() for line in version.splitlines()
                   if line.startswith("Version")), "?")
    return Support(True, f"CRIU {number} through runc")


@dataclass(frozen=True)
class Holder:
    """A container that only holds a network namespace (and its /etc files)."""

    container_id: str
    pid: int
    ip: str

    @property
    def netns(self) -> str:
        return f"/proc/{self.pid}/ns/net"

    def etc_file(self, name: str) -> str:
        return f"/var/lib/docker/containers/{self.container_id}/{name}"


def runc(root: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runc", "--root", root, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def checkpoint(container_id: str, image_dir: Path, work_dir: Path) -> None:
    """Dump a running source container (it stops); raise BackendError with CRIU's reason."""
    image_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    bundle_config = DOCKER_BUNDLES / container_id / "config.json"
    if not bundle_config.exists():
        raise CheckpointUnsupported(f"No runc bundle for {container_id[:12]} at {bundle_config}.",
                                    container_id=container_id)
    shutil.copy2(bundle_config, image_dir.parent / "config.json")
    done = runc(DOCKER_RUNC_ROOT, "checkpoint", "--image-path", str(image_dir),
                "--work-path", str(work_dir), container_id)
    if done.returncode != 0:
        raise BackendError(f"Checkpoint of {container_id[:12]} failed: {criu_log_reason(work_dir / 'dump.log', done.stderr)}",
                           container_id=container_id)


@dataclass
class Clone:
    """A container restored by runc from a snapshot."""

    clone_id: str
    holder: Holder
    directory: Path
    log_path: Path
    pid: int = 0
    paused: bool = False

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs"


def restore(clone_id: str, snapshot_dir: Path, lower_dirs: str, holder: Holder, clones_dir: Path,
            criu_options: Path) -> Clone:
    """Restore ``snapshot_dir`` as a new container in ``holder``'s network namespace."""
    directory = clones_dir / clone_id
    clone = Clone(clone_id, holder, directory, directory / "log.json")
    for name in ("upper", "work", "rootfs"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={lower_dirs},upperdir={directory / 'upper'},workdir={directory / 'work'}",
         str(clone.rootfs)], capture_output=True, text=True, check=False)
    if mount.returncode != 0:
        discard_clone(clone)
        raise BackendError(f"Could not mount the root of clone {clone_id}: {mount.stderr.strip()}")
    _write_config(snapshot_dir / "config.json", directory / "config.json", clone, criu_options)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    log_file = open(clone.log_path, "ab", buffering=0)
    try:
        # A session of its own: on a timeout runc and its criu are killed together.
        process = subprocess.Popen(
            ["runc", "--root", CLONE_RUNC_ROOT, "restore", "--detach", "--image-path",
             str(snapshot_dir / "images"), "--work-path", str(directory / "criu"),
             "--bundle", str(directory), clone_id],
            stdin=subprocess.DEVNULL, stdout=out_write, stderr=err_write, start_new_session=True)
    finally:
        os.close(out_write)
        os.close(err_write)
    try:
        returncode: int | None = process.wait(timeout=RESTORE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill_restore(process.pid)
        process.wait()
        returncode = None
    if returncode != 0:
        os.close(out_read)
        os.close(err_read)
        log_file.close()
        reason = (f"CRIU did not finish in {RESTORE_TIMEOUT_S:.0f} s and was killed" if returncode is None
                  else criu_log_reason(directory / "criu" / "restore.log", ""))
        discard_clone(clone)
        raise BackendError(f"Restore of clone {clone_id} failed: {reason}")
    lock = threading.Lock()
    for fd, stream in ((out_read, "stdout"), (err_read, "stderr")):
        threading.Thread(target=pump_to_json_log, args=(os.fdopen(fd, "rb"), stream, log_file, lock),
                         name=f"clone-{stream}", daemon=True).start()
    state = runc(CLONE_RUNC_ROOT, "state", clone_id)
    clone.pid = json.loads(state.stdout).get("pid", 0) if state.returncode == 0 else 0
    return clone


def _kill_restore(runc_pid: int) -> None:
    """Kill a hung restore: the processes restored so far (runc's children
    outside its session: the clone's init, taking its pid namespace along),
    then runc and criu."""
    children: list[int] = []
    for task in Path(f"/proc/{runc_pid}/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            children += [int(pid) for pid in task.read_text().split()]
    for pid in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(runc_pid, signal.SIGKILL)


def _write_config(source: Path, target: Path, clone: Clone, criu_options: Path) -> None:
    config = json.loads(source.read_text())
    config["root"] = {"path": str(clone.rootfs), "readonly": False}
    config.pop("hooks", None)  # Docker's network hook belongs to the source
    for namespace in config["linux"]["namespaces"]:
        if namespace["type"] == "network":
            namespace["path"] = clone.holder.netns
    config["linux"]["cgroupsPath"] = f"/whiskrun/{clone.clone_id}"
    for mount in config["mounts"]:
        name = mount["destination"].rsplit("/", 1)[-1]
        if mount["destination"] in ("/etc/resolv.conf", "/etc/hostname", "/etc/hosts"):
            mount["source"] = clone.holder.etc_file(name)
    config.setdefault("annotations", {})["org.criu.config"] = str(criu_options)
    target.write_text(json.dumps(config))


def pump_to_json_log(source: IO[bytes], stream: str, sink: IO[bytes], lock: threading.Lock) -> None:
    """Copy one stream to the clone's log in Docker's json-file format."""
    for line in source:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
        record = json.dumps({"log": line.decode("utf-8", errors="replace"), "stream": stream,
                             "time": stamp}) + "\n"
        with lock:
            sink.write(record.encode("utf-8"))
    source.close()


def pause(clone: Clone) -> bool:
    return runc(CLONE_RUNC_ROOT, "pause", clone.clone_id).returncode == 0


def resume(clone: Clone) -> bool:
    return runc(CLONE_RUNC_ROOT, "resume", clone.clone_id).returncode == 0


def is_running(clone: Clone) -> bool:
    return clone.pid > 0 and Path(f"/proc/{clone.pid}").exists() and not _zombie(clone.pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def discard_clone(clone: Clone) -> None:
    """Kill and delete the clone, unmount its root, delete its folder."""
    if clone.paused:
        resume(clone)
    runc(CLONE_RUNC_ROOT, "kill", clone.clone_id, "KILL", timeout=30)
    for _ in range(50):
        if runc(CLONE_RUNC_ROOT, "delete", "--force", clone.clone_id, timeout=30).returncode == 0:
            break
        if "does not exist" in runc(CLONE_RUNC_ROOT, "state", clone.clone_id).stderr:
            break
        time.sleep(0.02)
    subprocess.run(["umount", "-l", str(clone.rootfs)], capture_output=True, check=False)
    # A restore killed mid-way (runc and criu too) leaves mounts in the work
    # folder (criu's cgroup yard: deleting through it would delete the host's
    # empty cgroups) and in runc's state folder, and the clone's cgroups.
    state = Path(CLONE_RUNC_ROOT) / clone.clone_id
    inside = (f"{clone.directory}/", f"{state}/")
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if line.split()[4].startswith(inside)]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
    shutil.rmtree(clone.directory, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    groups = list(Path("/sys/fs/cgroup").glob(f"*/whiskrun/{clone.clone_id}")) + \
        list(Path("/sys/fs/cgroup").glob(f"whiskrun/{clone.clone_id}"))
    # The killed processes take a moment to leave them.
    CgroupSet(clone.clone_id, {str(group): group for group in groups}).remove(timeout_s=1.0)


def list_clones() -> list[str]:
    done = runc(CLONE_RUNC_ROOT, "list", "--format", "json")
    if done.returncode != 0 or not done.stdout.strip() or done.stdout.strip() == "null":
        return []
    return [entry["id"] for entry in json.loads(done.stdout)]


def criu_log_reason(log: Path, stderr: str) -> str:
    """The first error CRIU logged (or the last line it printed), as one line."""
    errors = []
    if log.exists():
        errors = [line.strip() for line in log.read_text(errors="replace").splitlines()
                  if "Error" in line and "RLIMIT_NOFILE" not in line]
    if errors:
        return errors[0]
    if stderr.strip():
        return stderr.strip().splitlines()[-1]
    return "CRIU gave no reason"
