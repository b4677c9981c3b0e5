"""The direct CRIU engine's pure parts: which mounts a dump declares external,
CRIU's restore statistics, the /dev description, the cgroup hierarchies."""

import os
import stat
from pathlib import Path

import pytest

from whiskrun.invoker.backend import cgroups, criu_direct
from whiskrun.invoker.errors import CheckpointUnsupported

#: /proc/<pid>/mountinfo of a Docker 20.10 container on cgroup v1, as seen here (shortened).
MOUNTINFO = """\
1 0 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/l
2 1 0:43 / /proc rw,nosuid - proc proc rw
3 1 0:44 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
4 3 0:45 / /dev/pts rw - devpts devpts rw
5 1 0:46 / /sys ro - sysfs sysfs ro
6 5 0:47 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
7 6 0:27 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory
8 6 0:28 /docker/abc /sys/fs/cgroup/systemd ro - cgroup cgroup rw,xattr,name=systemd
9 3 0:42 / /dev/mqueue rw - mqueue mqueue rw
10 3 0:48 / /dev/shm rw - tmpfs shm rw,size=65536k
11 1 254:0 /var/lib/docker/containers/abc/hosts /etc/hosts rw - ext4 /dev/vda rw
12 2 0:43 /bus /proc/bus ro - proc proc rw
13 2 0:49 / /proc/acpi ro - tmpfs tmpfs ro
14 2 0:44 /null /proc/kcore rw - tmpfs tmpfs rw,size=65536k,mode=755
"""


def test_every_mount_that_would_need_tar_or_the_host_is_external() -> None:
    kinds = {m["key"]: m["kind"] for m in criu_direct.classify_mounts(MOUNTINFO)}
    assert kinds == {"/dev": "dev", "/sys/fs/cgroup": "cgroupfs", "/sys/fs/cgroup/memory": "cgroup",
                     "/sys/fs/cgroup/systemd": "cgroup", "/dev/shm": "shm", "/etc/hosts": "etc",
                     "/proc/acpi": "empty", "/proc/kcore": "null"}


def test_a_mount_a_clone_cannot_map_refuses_the_snapshot() -> None:
    volume = MOUNTINFO + "15 1 254:0 /srv/data /data rw - ext4 /dev/vda rw\n"
    with pytest.raises(CheckpointUnsupported, match="ext4 mount at /data"):
        criu_direct.classify_mounts(volume)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _stats_image(forking_us: int, restore_us: int) -> bytes:
    restore = b"\x08" + _varint(301) + b"\x10" + _varint(29) + b"\x18" + _varint(forking_us) + \
        b"\x20" + _varint(restore_us) + b"\x28" + _varint(6664)
    entry = b"\x12" + _varint(len(restore)) + restore
    return bytes.fromhex("4059105506330957") + len(entry).to_bytes(4, "little") + entry


def test_restore_statistics_as_criu_writes_them() -> None:
    # Bytes of a stats-restore that CRIU 4.2.1 wrote here.
    written = bytes.fromhex("405910550633095711000000120f08ad02101d18fd0220ffe303288834")
    assert criu_direct.parse_restore_stats(written) == (381, 61951)
    assert criu_direct.parse_restore_stats(_stats_image(1200, 45000)) == (1200, 45000)


@pytest.mark.parametrize("data", [b"", b"\x40\x59\x10\x55", _stats_image(1, 2)[:-3],
                                  bytes.fromhex("4059105506330957") + (2).to_bytes(4, "little") + b"\x08\x01"])
def test_broken_statistics_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        criu_direct.parse_restore_stats(data)


def test_restore_steps_add_up_to_criu_wall_time(tmp_path: Path) -> None:
    stats = tmp_path / "stats-restore"
    stats.write_bytes(_stats_image(2000, 30000))
    steps = criu_direct.restore_steps(stats, 40.0)
    assert steps == {"restore.criu.fork": 2.0, "restore.criu.tasks": 28.0, "restore.criu.other": 10.0}
    assert sum(steps.values()) == pytest.approx(40.0)
    assert criu_direct.restore_steps(tmp_path / "missing", 40.0) == {"restore.criu": 40.0}


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_dev_description_recreates_nodes_links_and_modes(tmp_path: Path) -> None:
    source = tmp_path / "dev"
    (source / "pts").mkdir(parents=True)
    os.mknod(source / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.chmod(source / "null", 0o666)
    os.symlink("/proc/self/fd", source / "fd")
    entries = criu_direct.describe_tree(source)
    assert all("rdev" in e or "link" in e or stat.S_ISDIR(int(e["mode"])) for e in entries)
    target = tmp_path / "clone-dev"
    criu_direct.make_tree(entries, target)
    null = os.lstat(target / "null")
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3) and stat.S_IMODE(null.st_mode) == 0o666
    assert os.readlink(target / "fd") == "/proc/self/fd" and (target / "pts").is_dir()


def test_cgroup_hierarchies_from_mountinfo() -> None:
    found = cgroups.v1_hierarchies(MOUNTINFO)
    assert found == {"memory": Path("/sys/fs/cgroup/memory"), "systemd": Path("/sys/fs/cgroup/systemd")}
