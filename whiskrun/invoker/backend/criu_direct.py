"""Checkpoint and restore by driving CRIU directly, into sandboxes made ahead.

runc's restore costs here (docs/performance.md): a Go start, a second `criu
swrk` exec for a version probe, cgroup migrations of CRIU into every v1
hierarchy, a forced debug log, and, for a netns kept external, CRIU's
iptables unlock of that netns after the tasks are restored (two
`iptables-restore` children, 35-40 ms on these machines: what earlier notes
called the "resume gap"). This engine calls CRIU itself:

* **Dump** (`dump`): `criu dump` of a Docker container's init, with its netns
  declared external, `--network-lock skip` (recorded in the images, so the
  restore skips the unlock too), and every mount that CRIU would otherwise
  save by running `tar` (the /dev and /dev/shm tmpfs, the masks over /proc
  and /sys, the cgroup tmpfs) or bind from the host declared external.
  The source runs without tmpfs for /action and /tmp: what init wrote there
  is in the container's writable layer, copied into the snapshot's `upper/`
  and stacked, read-only, under each clone's own upper layer.
* **Sandbox** (`prepare_sandbox`, in the background): a network holder, the
  clone's cgroups with their pids and devices limits, its folders, its output
  pipes, and a small process already placed in those cgroups that will exec
  CRIU with the restore's arguments (`--manage-cgroups=ignore`: the restored
  tasks are born where CRIU is).
* **Restore** (`restore`): mount the clone's overlay, copy /dev's template,
  set the memory limit, hand the arguments to the sandbox's process: `criu
  restore --restore-detached --restore-sibling` (the restored init becomes a
  child of the invoker), log level 1 (errors only, enough to say why it
  failed), `--file-validation filesize` (the image layers are immutable).
  CRIU's own `stats-restore` splits the restore into its steps.
"""

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BackendError, CheckpointUnsupported
from . import cgroups, checkpoint
from .checkpoint import Clone, Holder, Support, criu_log_reason, pump_to_json_log

ENGINE = "criu"
#: Where the CRIU that scripts/install-criu.sh builds keeps criu.kdat (its RUNDIR).
KDAT_DIR = Path("/dev/shm/criu")
DUMP_TIMEOUT_S = 60.0
#: The process that waits in a sandbox's cgroups and becomes CRIU: it reads
#: NUL-separated arguments from stdin and execs them.
LAUNCHER = "import os,sys\nargs=sys.stdin.buffer.read().split(b'\\0')\nos.execv(args[0],args)\n"
ETC_FILES = ("/etc/resolv.conf", "/etc/hostname", "/etc/hosts")
#: CRIU catches each restored thread at its final sigreturn with a hardware
#: breakpoint by default. Installing one (PTRACE_POKEUSER of a debug register)
#: took 10-25 ms here whenever the kernel had RCU work pending, as after any
#: container start or removal (measured: `restore.criu.other` 8 ms on a quiet
#: machine, 26-34 ms 0.3 s after a `docker run --rm`). CRIU's
#: "no-breakpoints" mode steps each thread to the sigreturn with
#: PTRACE_SYSCALL instead; CRIU 4.2 exposes it only as fault-injection id 130
#: (FI_NO_BREAKPOINTS, criu/include/fault-injection.h), which changes nothing else.
CRIU_ENV = {"CRIU_FAULT": "130"}
#: whiskrun's CRIU patch (scripts/criu-patches/): the restorer maps a private
#: anonymous VMA's pages from pages-*.img MAP_PRIVATE instead of reading them,
#: so clones of one snapshot share every page they do not write, and a
#: restore copies no memory. The one difference from anonymous memory: after
#: madvise(MADV_DONTNEED) a page reads back the image's content, not zeroes;
#: glibc malloc, CPython and V8 do not rely on those zeroes (jemalloc's forced
#: purge does), so it is used only for whiskrun's own images.
MMAP_PAGES_OPTION = "--mmap-page-image"


def detect(criu: str | None) -> Support:
    """Whether the direct engine works here, as one sentence."""
    if not criu:
        return Support(False, "criu is not on PATH (`make setup` builds CRIU 4.2)")
    if not cgroups.v1_hierarchies():
        return Support(False, "the direct CRIU engine needs cgroup v1 hierarchies; this host has none")
    try:
        KDAT_DIR.mkdir(mode=0o700, exist_ok=True)  # CRIU does not create its RUNDIR
        on_tmpfs = _is_tmpfs(KDAT_DIR)
    except OSError as exc:
        return Support(False, f"cannot make CRIU's cache folder {KDAT_DIR} ({exc})")
    cache = "kdat cache in " + str(KDAT_DIR) if on_tmpfs else f"no kdat cache ({KDAT_DIR} is not a tmpfs)"
    shares = _has_option(criu, MMAP_PAGES_OPTION)
    sharing = ("clones share snapshot pages" if shares else
               f"clones copy snapshot pages (this CRIU has no {MMAP_PAGES_OPTION}: run scripts/install-criu.sh)")
    return Support(True, f"direct CRIU, {cache}, {sharing}", engine=ENGINE, shares_pages=shares)


def _has_option(criu: str, option: str) -> bool:
    try:
        usage = subprocess.run([criu, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return option in usage.stdout + usage.stderr


def _is_tmpfs(path: Path) -> bool:
    # statvfs has no f_type; /proc/self/mountinfo says what is mounted where.
    best, fstype = "", ""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        point = before.split()[4]
        if (str(path) + "/").startswith(point.rstrip("/") + "/") and len(point) > len(best):
            best, fstype = point, after.split()[0]
    return fstype == "tmpfs"


# -- dump ---------------------------------------------------------------------
@dataclass(frozen=True)
class SourceContainer:
    """What a dump needs to know of a running snapshot source."""

    pid: int
    rootfs: str       # the container's merged root, as its init sees /
    upper_dir: str    # its writable layer
    holder: Holder


def classify_mounts(mountinfo: str) -> list[dict[str, str]]:
    """The mounts of a source to declare external, each with the kind of host
    path a sandbox maps it to; raises for a mount the engine cannot map."""
    external: list[dict[str, str]] = []
    for line in mountinfo.splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        root, point, fstype = fields[3], fields[4], tail[0]
        if point == "/" or fstype in ("proc", "sysfs", "devpts", "mqueue"):
            continue  # the root, and kernel file systems CRIU mounts afresh
        if point in ETC_FILES:
            kind = "etc"
        elif fstype == "cgroup":
            kind = "cgroup"
        elif point == "/sys/fs/cgroup":
            kind = "cgroupfs"
        elif point == "/dev":
            kind = "dev"
        elif point == "/dev/shm":
            kind = "shm"
        elif root == "/null":
            kind = "null"     # a file masked with /dev/null
        elif fstype == "tmpfs":
            kind = "empty"    # a folder masked with an empty read-only tmpfs
        else:
            raise CheckpointUnsupported(f"the source has a {fstype} mount at {point} that a clone cannot map")
        external.append({"key": point, "kind": kind})
    return external


def dump(source: SourceContainer, folder: Path, criu: str) -> None:
    """Dump ``source`` into ``folder`` (images/, upper/, config.json); it stops."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    mountinfo = Path(f"/proc/{source.pid}/mountinfo").read_text()
    mounts = classify_mounts(mountinfo)
    stdio = [os.readlink(f"/proc/{source.pid}/fd/{fd}") for fd in range(3)]
    dev = describe_tree(Path(f"/proc/{source.pid}/root/dev"))
    netns = os.stat(source.holder.netns).st_ino
    settled = wait_for_no_connections(source.pid)
    args = [criu, "dump", "--tree", str(source.pid), "--images-dir", str(images), "--work-dir", str(folder),
            "--root", source.rootfs, "--external", f"net[{netns}]:extRootNetNS",
            "--network-lock", "skip", "--manage-cgroups=ignore", "--evasive-devices",
            "--log-file", "dump.log", "-v1"]
    if not settled:
        # A connection the proxy has not closed yet: dumped, and restored closed (--tcp-close).
        args.append("--tcp-established")
    for mount in mounts:
        args += ["--ext-mount-map", f"{mount['key']}:{mount['key']}"]
    # No pipes: a helper CRIU forked could hold them open after CRIU itself died.
    with open(folder / "dump.err", "w+b") as errors:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                                   start_new_session=True)
        returncode = wait_exit(process, DUMP_TIMEOUT_S)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if returncode != 0:
        reason = (f"it did not finish in {DUMP_TIMEOUT_S:.0f} s and was killed" if returncode is None
                  else criu_log_reason(folder / "dump.log", stderr))
        raise BackendError(f"CRIU could not dump the snapshot source: {reason}")
    _copy_upper(Path(source.upper_dir), folder / "upper", mounts)
    (folder / "config.json").write_text(json.dumps({"engine": ENGINE, "stdio": stdio, "mounts": mounts,
                                                    "dev": dev}))
    for name in ("dump.log", "dump.err"):
        with contextlib.suppress(OSError):
            (folder / name).unlink()


#: TCP states of /proc/net/tcp that CRIU can dump without --tcp-established: LISTEN,
#: CLOSE, and TIME_WAIT (held by the kernel, no process has it open).
QUIET_TCP_STATES = {"0A", "07", "06"}


def wait_for_no_connections(pid: int, timeout_s: float = 2.0) -> bool:
    """Wait until the source's network namespace has no connected TCP socket
    (the invoker's /init connection, closed by the client, lingers on the
    proxy's side until its event loop sees the end); whether it got there."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
            lines += Path(f"/proc/{pid}/net/tcp6").read_text().splitlines()[1:]
        except OSError:
            return False
        if all(line.split()[3] in QUIET_TCP_STATES for line in lines if line.strip()):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _copy_upper(upper: Path, target: Path, mounts: list[dict[str, str]]) -> None:
    """The writable layer, and the mount points that Docker keeps in a
    layer of the container's own (CRIU needs them in the clone's root)."""
    done = subprocess.run(["cp", "-a", f"{upper}/.", str(target)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackendError(f"Could not copy the source's writable layer: {done.stderr.strip()}")
    for mount in mounts:
        if mount["kind"] == "etc":
            point = target / mount["key"].lstrip("/")
            point.parent.mkdir(parents=True, exist_ok=True)
            point.touch(exist_ok=True)


def describe_tree(source: Path) -> list[dict[str, object]]:
    """A small tree (the source's /dev) as data: folders, device nodes,
    symlinks and small files, staying on one file system. Kept as data, not
    as nodes: a snapshot folder must stay safe to copy with ordinary tools
    (a device node copied as a file is read forever)."""
    entries: list[dict[str, object]] = []
    device = os.lstat(source).st_dev

    def walk(folder: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            info = entry.stat(follow_symlinks=False)
            item: dict[str, object] = {"path": prefix + entry.name, "mode": info.st_mode,
                                       "uid": info.st_uid, "gid": info.st_gid}
            if stat.S_ISLNK(info.st_mode):
                item["link"] = os.readlink(entry.path)
            elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                item["rdev"] = info.st_rdev
            elif stat.S_ISREG(info.st_mode) and info.st_size <= 65536:
                item["text"] = Path(entry.path).read_bytes().decode("latin-1")
            elif not stat.S_ISDIR(info.st_mode):
                continue
            entries.append(item)
            if stat.S_ISDIR(info.st_mode) and info.st_dev == device:
                walk(Path(entry.path), f"{prefix}{entry.name}/")

    walk(source, "")
    return entries


def make_tree(entries: list[dict[str, object]], target: Path) -> None:
    """Recreate a tree described by ``describe_tree`` (modes exactly: CRIU checks them)."""
    target.mkdir(parents=True, exist_ok=True)
    for item in entries:
        path, mode = target / str(item["path"]), int(item["mode"])  # type: ignore[call-overload]
        if "link" in item:
            os.symlink(str(item["link"]), path)
        elif "rdev" in item:
            os.mknod(path, mode, int(item["rdev"]))  # type: ignore[call-overload]
        elif "text" in item:
            path.write_bytes(str(item["text"]).encode("latin-1"))
        else:
            path.mkdir()
        os.chown(path, int(item["uid"]), int(item["gid"]), follow_symlinks=False)  # type: ignore[call-overload]
        if not stat.S_ISLNK(mode):
            os.chmod(path, stat.S_IMODE(mode))


# -- sandboxes ------------------------------------------------------------------
@dataclass
class Sandbox:
    """Everything of a clone that does not depend on the action, made ahead."""

    name: str
    holder: Holder
    directory: Path
    groups: cgroups.CgroupSet
    launcher: subprocess.Popen[bytes]
    netns_fd: int
    stdout_read: int
    stderr_read: int


@dataclass
class DirectClone(Clone):
    """A clone restored by CRIU directly (no runc state)."""

    groups: cgroups.CgroupSet = field(default_factory=lambda: cgroups.CgroupSet("", {}))


def device_rules(holder_id: str) -> list[str]:
    """Docker's device rules for its containers, read from a holder's group."""
    for mount in cgroups.v1_hierarchies().values():
        listing = mount / "docker" / holder_id / "devices.list"
        if listing.exists():
            return [line for line in listing.read_text().splitlines() if line.strip()]
    return []


def prepare_sandbox(name: str, holder: Holder, clones_dir: Path, *, pids_limit: int) -> Sandbox:
    directory = clones_dir / name
    for sub in ("upper", "work", "rootfs", "shm", "empty", "cgroupfs"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for hierarchy in cgroups.v1_hierarchies():
        (directory / "cgroupfs" / hierarchy).mkdir(exist_ok=True)
    (directory / "empty").chmod(0o555)
    groups = cgroups.create(name, pids_limit=pids_limit, device_rules=device_rules(holder.container_id))
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    netns_fd = os.open(holder.netns, os.O_RDONLY)
    try:
        # Its own session: on a timeout CRIU and what it restored so far are killed together.
        launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=out_write,
                                    stderr=err_write, pass_fds=(netns_fd,), start_new_session=True,
                                    env={**os.environ, **CRIU_ENV})
    except OSError as exc:
        for fd in (out_read, err_read, netns_fd):
            os.close(fd)
        groups.remove()
        raise BackendError(f"Could not start the CRIU launcher of {name}: {exc}") from exc
    finally:
        os.close(out_write)
        os.close(err_write)
    try:
        groups.place(launcher.pid)
    except OSError as exc:
        launcher.kill()
        launcher.wait()
        for fd in (out_read, err_read, netns_fd):
            os.close(fd)
        groups.remove()
        raise BackendError(f"Could not place the CRIU launcher of {name} in its cgroups: {exc}") from exc
    return Sandbox(name, holder, directory, groups, launcher, netns_fd, out_read, err_read)


def discard_sandbox(sandbox: Sandbox) -> None:
    """An unused sandbox: stop its launcher, close its files, remove its groups and folder."""
    with contextlib.suppress(OSError):
        sandbox.launcher.kill()
    sandbox.launcher.wait()
    for fd in (sandbox.netns_fd, sandbox.stdout_read, sandbox.stderr_read):
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    sandbox.netns_fd = sandbox.stdout_read = sandbox.stderr_read = -1
    if sandbox.launcher.stdin is not None:
        with contextlib.suppress(OSError):
            sandbox.launcher.stdin.close()
    _remove_leftovers(sandbox.name, sandbox.directory)


# -- restore --------------------------------------------------------------------
def _mount_map(mounts: list[dict[str, str]], sandbox: Sandbox) -> list[str]:
    args: list[str] = []
    for mount in mounts:
        key, kind = mount["key"], mount["kind"]
        if kind == "etc":
            value = sandbox.holder.etc_file(Path(key).name)
        elif kind == "cgroup":
            group = sandbox.groups.path(Path(key).name)
            if group is None:
                raise BackendError(f"this host has no cgroup hierarchy {Path(key).name} for {key}")
            value = str(group)
        elif kind == "cgroupfs":
            value = str(sandbox.directory / "cgroupfs")
        elif kind == "dev":
            value = str(sandbox.directory / "dev")
        elif kind == "shm":
            value = str(sandbox.directory / "shm")
        elif kind == "null":
            value = "/dev/null"
        else:
            value = str(sandbox.directory / "empty")
        args += ["--ext-mount-map", f"{key}:{value}"]
    return args


def restore(sandbox: Sandbox, snapshot_dir: Path, lower_dirs: str, memory_mb: int,
            criu: str, log_level: int = 1, share_pages: bool = False) -> tuple[DirectClone, dict[str, float]]:
    """Restore ``snapshot_dir`` into ``sandbox``; the phases it took, in ms.
    ``share_pages`` maps the snapshot's memory copy-on-write (MMAP_PAGES_OPTION)."""
    phases: dict[str, float] = {}
    directory = sandbox.directory
    clone = DirectClone(sandbox.name, sandbox.holder, directory, directory / "log.json", groups=sandbox.groups)
    mark = time.monotonic()
    try:
        config = json.loads((snapshot_dir / "config.json").read_text())
        make_tree(config["dev"], directory / "dev")
        mount_overlay(directory / "rootfs", f"{snapshot_dir / 'upper'}:{lower_dirs}",
                      directory / "upper", directory / "work")
        sandbox.groups.set_memory(memory_mb)
        stdio = config["stdio"]
        args = [criu, "restore", "--images-dir", str(snapshot_dir / "images"), "--work-dir", str(directory),
                "--root", str(directory / "rootfs"), "--manage-cgroups=ignore", "--restore-detached", "--tcp-close",
                "--restore-sibling", "--evasive-devices", "--mntns-compat-mode", "--file-validation", "filesize",
                "--pidfile", str(directory / "pid"), "--log-file", "restore.log", f"-v{log_level}",
                "--inherit-fd", f"fd[{sandbox.netns_fd}]:extRootNetNS"]
        if share_pages:
            args.append(MMAP_PAGES_OPTION)
        for fd in (1, 2):
            if stdio[fd].startswith("pipe:"):
                args += ["--inherit-fd", f"fd[{fd}]:{stdio[fd]}"]
        args += _mount_map(config["mounts"], sandbox)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        discard_sandbox(sandbox)
        raise BackendError(f"Restore of clone {sandbox.name} failed before CRIU ran: {exc}") from exc
    except BackendError as exc:
        discard_sandbox(sandbox)
        raise BackendError(f"Restore of clone {sandbox.name} failed: {exc}") from exc
    phases["restore.mount"] = (time.monotonic() - mark) * 1000
    mark = time.monotonic()
    launcher = sandbox.launcher
    try:
        assert launcher.stdin is not None
        launcher.stdin.write(b"\0".join(arg.encode() for arg in args))
        launcher.stdin.close()
        returncode = wait_exit(launcher, checkpoint.RESTORE_TIMEOUT_S)  # one limit for both engines
    except OSError:
        returncode = launcher.wait()
    criu_ms = (time.monotonic() - mark) * 1000
    os.close(sandbox.netns_fd)
    sandbox.netns_fd = -1
    if returncode != 0:
        reason = (f"CRIU did not finish in {checkpoint.RESTORE_TIMEOUT_S:.0f} s and was killed" if returncode is None
                  else criu_log_reason(directory / "restore.log", ""))
        discard_sandbox(sandbox)
        reap_failed_restore_tasks()
        raise BackendError(f"Restore of clone {sandbox.name} failed: {reason}")
    try:
        clone.pid = int((directory / "pid").read_text())
    except (OSError, ValueError):
        clone.pid = 0
    phases.update(restore_steps(directory / "stats-restore", criu_ms))
    log_file = open(clone.log_path, "ab", buffering=0)
    lock = threading.Lock()
    for fd, stream in ((sandbox.stdout_read, "stdout"), (sandbox.stderr_read, "stderr")):
        threading.Thread(target=pump_to_json_log, args=(os.fdopen(fd, "rb"), stream, log_file, lock),
                         name=f"clone-{stream}", daemon=True).start()
    sandbox.stdout_read = sandbox.stderr_read = -1  # the pumps own them now
    return clone, phases


def reap_failed_restore_tasks(timeout_s: float = 1.0) -> None:
    """A restore that failed leaves the tasks CRIU had forked for it
    (--restore-sibling makes them children of this process, still named
    criu) to exit: reap them, and only them, so that no zombie stays."""
    deadline = time.monotonic() + timeout_s
    while True:
        pending = []
        for pid, state in _children_named("criu"):
            if state == "Z":
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            else:
                pending.append(pid)
        if not pending or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _children_named(name: str) -> list[tuple[int, str]]:
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, tail = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        fields = tail.split()
        if head.partition("(")[2] == name and int(fields[1]) == me:
            found.append((int(entry.name), fields[0]))
    return found


def wait_exit(process: "subprocess.Popen[bytes]", timeout_s: float) -> int | None:
    """The process's exit code, as soon as it exits; None if it had to be
    killed after ``timeout_s``. (Popen.wait with a timeout polls with sleeps
    of up to 50 ms, which would be most of a restore.)"""
    pidfd = os.pidfd_open(process.pid)
    try:
        ready = select.poll()
        ready.register(pidfd, select.POLLIN)
        if not ready.poll(timeout_s * 1000):
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None
    finally:
        os.close(pidfd)
    return process.wait()


_LIBC = ctypes.CDLL(None, use_errno=True)


def mount_overlay(target: Path, lower: str, upper: Path, work: Path) -> None:
    """mount(2) directly: the `mount` command's fork and exec cost ~3 ms of a restore."""
    options = f"lowerdir={lower},upperdir={upper},workdir={work}".encode()
    if _LIBC.mount(b"overlay", str(target).encode(), b"overlay", 0, options) != 0:
        error = ctypes.get_errno()
        raise BackendError(f"could not mount the clone's root: {os.strerror(error)}")


def restore_steps(stats_file: Path, criu_ms: float) -> dict[str, float]:
    """Split CRIU's wall time by its own statistics: forking the tree, the
    rest of the restore (mounts, files, memory, up to the tasks being seized),
    and what is outside CRIU's restore timer (exec, image loading, resuming
    the tasks, exit)."""
    try:
        forking_us, restore_us = parse_restore_stats(stats_file.read_bytes())
    except (OSError, ValueError):
        return {"restore.criu": criu_ms}
    fork_ms, restore_ms = forking_us / 1000, restore_us / 1000
    return {"restore.criu.fork": fork_ms,
            "restore.criu.tasks": max(0.0, restore_ms - fork_ms),
            "restore.criu.other": max(0.0, criu_ms - restore_ms)}


def parse_restore_stats(data: bytes) -> tuple[int, int]:
    """(forking_time, restore_time) in µs from CRIU's stats-restore image:
    two 4-byte magics, then a 4-byte size and the `stats_entry`, whose field 2
    holds `restore_stats_entry` (forking_time = 3, restore_time = 4; images/stats.proto)."""
    if len(data) < 12:
        raise ValueError("stats-restore is truncated")
    size = int.from_bytes(data[8:12], "little")
    if 12 + size > len(data):
        raise ValueError("stats-restore is truncated")
    entry = _fields(data[12:12 + size])
    restore = entry.get(2)
    if not isinstance(restore, bytes):
        raise ValueError("stats-restore has no restore statistics")
    values = _fields(restore)
    forking, restore_time = values.get(3), values.get(4)
    if not isinstance(forking, int) or not isinstance(restore_time, int):
        raise ValueError("stats-restore lacks forking_time or restore_time")
    return forking, restore_time


def _fields(message: bytes) -> dict[int, int | bytes]:
    """The varint and length-delimited fields of one protobuf message."""
    found: dict[int, int | bytes] = {}
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            found[number], position = _varint(message, position)
        elif wire == 2:
            length, position = _varint(message, position)
            found[number] = message[position:position + length]
            position += length
        elif wire == 1:
            position += 8
        elif wire == 5:
            position += 4
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return found


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data):
            raise ValueError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


# -- life of a clone -------------------------------------------------------------
def pause(clone: DirectClone) -> bool:
    return clone.groups.freeze()


def resume(clone: DirectClone) -> bool:
    return clone.groups.thaw()


def is_running(clone: DirectClone) -> bool:
    """The clone's init is a child of this process (restored as CRIU's
    sibling): reap it when it has exited."""
    if clone.pid <= 0:
        return False
    try:
        pid, _ = os.waitpid(clone.pid, os.WNOHANG)
    except ChildProcessError:
        return Path(f"/proc/{clone.pid}").exists()
    return pid == 0


def discard_clone(clone: DirectClone) -> None:
    clone.groups.kill_all()
    if clone.pid > 0:
        with contextlib.suppress(OSError):
            os.kill(clone.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(clone.pid, 0)
    _remove_leftovers(clone.clone_id, clone.directory)


def discard_leftover(name: str, clones_dir: Path) -> None:
    """A clone or sandbox of an earlier run, known only by its name."""
    _remove_leftovers(name, clones_dir / name)


def _remove_leftovers(name: str, directory: Path) -> None:
    """Kill what is left in the groups of ``name``, unmount and delete its folder, remove the groups."""
    groups = cgroups.existing(name)
    groups.kill_all()
    inside = f"{directory}/"
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if line.split()[4].startswith(inside)]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
    shutil.rmtree(directory, ignore_errors=True)
    groups.remove()


def list_clones(clones_dir: Path) -> list[str]:
    """Names of the clones and sandboxes whose folders are here."""
    if not clones_dir.is_dir():
        return []
    return sorted(path.name for path in clones_dir.iterdir() if path.is_dir())
