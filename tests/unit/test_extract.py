"""Turning /init code into files: base64, zip and tar.gz, with paths kept inside the folder."""

import base64
import binascii
import os
import stat
import tarfile
from pathlib import Path

import pytest

from actionproxy.errors import BadRequest
from actionproxy.extract import decode_base64, is_archive, unpack, write_executable

from .conftest import tar_member, tgz_bytes, tgz_files, zip_bytes

NOT_AN_ARCHIVE = (
    "The action's binary code is neither a zip nor a tar.gz archive; "
    "zip the action's files (for example `zip -r action.zip .`) and send that."
)


def outside_message(name: str) -> str:
    return (
        f"The archive contains the path '{name}', which points outside the action's folder; "
        "build the archive from inside the action's folder with relative paths only."
    )


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "action"
    folder.mkdir()
    return folder


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (recursively) with its text."""
    return {
        str(path.relative_to(folder)): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_decode_base64_returns_the_bytes() -> None:
    assert decode_base64(base64.b64encode(b"\x00\xffzip").decode()) == b"\x00\xffzip"


@pytest.mark.parametrize("code", ["@@@@", "abc", "aGVsbG8=\n!"])
def test_decode_base64_refuses_what_is_not_base64(code: str) -> None:
    with pytest.raises(binascii.Error) as stdlib:
        base64.b64decode(code, validate=True)
    with pytest.raises(BadRequest) as raised:
        decode_base64(code)
    assert raised.value.status == 400
    assert raised.value.message == (
        f"The action's code is marked binary but is not valid base64 ({stdlib.value}); "
        "send the zip base64-encoded or set binary to false."
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04rest", True),
        (b"PK\x05\x06" + b"\0" * 18, True),
        (b"\x1f\x8b\x08", True),
        (b"#!/bin/sh\n", False),
        (b"\x7fELF", False),
        (b"", False),
    ],
    ids=["zip", "empty-zip", "gzip", "script", "elf", "empty"],
)
def test_is_archive_goes_by_the_magic_bytes(data: bytes, expected: bool) -> None:
    assert is_archive(data) is expected


ARCHIVES = {
    "zip": lambda files, modes: zip_bytes(files, modes),
    "tar.gz": lambda files, modes: tgz_files(files, modes),
}


@pytest.mark.parametrize("kind", ARCHIVES)
def test_unpack_writes_every_file_with_its_execute_bits(kind: str, target: Path) -> None:
    files = {"exec": "#!/bin/sh\n", "lib/data.txt": "❄ data", "lib/deep/tool": "x"}
    modes = {"exec": 0o755, "lib/deep/tool": 0o700}
    unpack(ARCHIVES[kind](files, modes), target)
    assert tree(target) == files
    assert {name: mode(target / name) for name in files} == {
        "exec": 0o755,
        "lib/data.txt": 0o644,
        "lib/deep/tool": 0o700,
    }


def test_unpack_accepts_an_empty_zip(target: Path) -> None:
    unpack(zip_bytes({}), target)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("data", [b"#!/bin/sh\necho hi\n", b"PK\x01\x02central"], ids=["script", "bad-magic"])
def test_unpack_refuses_what_is_not_an_archive(data: bytes, target: Path) -> None:
    with pytest.raises(BadRequest) as raised:
        unpack(data, target)
    assert (raised.value.status, raised.value.message) == (400, NOT_AN_ARCHIVE)


def test_unpack_refuses_a_truncated_zip(target: Path) -> None:
    data = zip_bytes({"exec": "x" * 100})
    with pytest.raises(BadRequest) as raised:
        unpack(data[:40], target)
    assert raised.value.message.startswith("The action's code is not a readable zip file (")
    assert raised.value.message.endswith("); check that the whole file was sent.")
    assert list(target.iterdir()) == []


def test_unpack_refuses_a_truncated_tar_gz(target: Path) -> None:
    data = tgz_files({"exec": "x" * 100})
    with pytest.raises(BadRequest) as raised:
        unpack(data[:20], target)
    assert raised.value.message.startswith("The action's tar.gz file could not be unpacked (")
    assert raised.value.message.endswith("); check that the whole file was sent.")


@pytest.mark.parametrize("kind", ARCHIVES)
@pytest.mark.parametrize("pattern", ["../escaped.txt", "sub/../../escaped.txt", "{tmp}/escaped.txt"])
def test_unpack_refuses_a_path_outside_the_folder_and_writes_nothing(
    kind: str, pattern: str, tmp_path: Path, target: Path
) -> None:
    name = pattern.format(tmp=tmp_path)
    # The good member comes first: it must not be written either.
    data = ARCHIVES[kind]({"good.txt": "fine", name: "bad"}, {})
    with pytest.raises(BadRequest) as raised:
        unpack(data, target)
    assert (raised.value.status, raised.value.message) == (400, outside_message(name))
    assert sorted(os.listdir(tmp_path)) == ["action"]
    assert list(target.iterdir()) == []


@pytest.mark.parametrize(
    ("member", "shown"),
    [
        (tar_member("link", kind=tarfile.SYMTYPE, link="../escaped.txt"), "../escaped.txt"),
        (tar_member("sub/link", kind=tarfile.SYMTYPE, link="/etc/passwd"), "/etc/passwd"),
        # A hard link names its target from the archive's root, not the member's folder.
        (tar_member("sub/link", kind=tarfile.LNKTYPE, link="../outside.txt"), "../outside.txt"),
    ],
    ids=["relative-symlink", "absolute-symlink", "hard-link"],
)
def test_unpack_refuses_a_tar_link_pointing_outside(
    member: tarfile.TarInfo, shown: str, tmp_path: Path, target: Path
) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    with pytest.raises(BadRequest) as raised:
        unpack(tgz_bytes([member]), target)
    assert (raised.value.status, raised.value.message) == (400, outside_message(shown))
    assert list(target.iterdir()) == []
    assert (tmp_path / "outside.txt").stat().st_nlink == 1


def test_unpack_refuses_a_tar_path_that_climbs_out_through_its_own_symlink(
    tmp_path: Path, target: Path
) -> None:
    # "a/b" -> ".." stays inside; "a/b/../escaped.txt" then resolves outside.
    members = [
        tar_member("a", mode=0o755, kind=tarfile.DIRTYPE),
        tar_member("a/b", kind=tarfile.SYMTYPE, link=".."),
        tar_member("a/b/../escaped.txt"),
    ]
    with pytest.raises(BadRequest) as raised:
        unpack(tgz_bytes(members, {"a/b/../escaped.txt": b"bad"}), target)
    # Refused before anything is written, also where tarfile has no "data"
    # filter (Debian's Python 3.11.2 in the images).
    assert (raised.value.status, raised.value.message) == (
        400,
        "The archive's link 'a/b' points to '..', outside its own folder; "
        "replace links that climb with copies of the files.",
    )
    assert not (tmp_path / "escaped.txt").exists()
    assert list(target.iterdir()) == []


def test_unpack_keeps_a_tar_symlink_that_stays_inside(target: Path) -> None:
    members = [tar_member("lib/real.txt"), tar_member("alias.txt", kind=tarfile.SYMTYPE, link="lib/real.txt")]
    unpack(tgz_bytes(members, {"lib/real.txt": b"real"}), target)
    assert os.readlink(target / "alias.txt") == "lib/real.txt"
    assert (target / "alias.txt").read_text() == "real"


@pytest.mark.parametrize("before", [0o600, 0o644])
def test_write_executable_adds_every_execute_bit(tmp_path: Path, before: int) -> None:
    path = tmp_path / "exec"
    path.write_text("old")
    path.chmod(before)
    write_executable(b"#!/bin/sh\n", path)
    assert path.read_bytes() == b"#!/bin/sh\n"
    assert mode(path) == before | 0o111
