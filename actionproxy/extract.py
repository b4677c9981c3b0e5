"""Turn the ``code`` of an /init into files in the action folder.

Plain source is written to one file; ``binary`` code is base64 of a zip, a
tar.gz, or a single executable. Archives are unpacked member by member so
that a path escaping the folder is refused and execute bits survive (the
dockerskeleton loses them, which breaks a zipped ``exec``).
"""

import base64
import binascii
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

from .errors import BadRequest

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
GZIP_MAGIC = b"\x1f\x8b"


def decode_base64(code: str) -> bytes:
    try:
        return base64.b64decode(code, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(
            "The action's code is marked binary but is not valid base64 "
            f"({exc}); send the zip base64-encoded or set binary to false."
        ) from exc


def is_archive(data: bytes) -> bool:
    return data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC, GZIP_MAGIC))


def unpack(data: bytes, target: Path) -> None:
    """Unpack a zip or tar.gz archive into ``target``."""
    if data.startswith(GZIP_MAGIC):
        _untar(data, target)
    elif data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        _unzip(data, target)
    else:
        raise BadRequest(
            "The action's binary code is neither a zip nor a tar.gz archive; "
            "zip the action's files (for example `zip -r action.zip .`) and send that."
        )


def _member_path(target: Path, name: str) -> Path:
    resolved = (target / name).resolve()
    root = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise BadRequest(
            f"The archive contains the path '{name}', which points outside the "
            "action's folder; build the archive from inside the action's folder "
            "with relative paths only."
        )
    return resolved


def _unzip(data: bytes, target: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BadRequest(
            f"The action's code is not a readable zip file ({exc}); "
            "check that the whole file was sent."
        ) from exc
    # Check every path before writing anything, so a bad archive leaves nothing.
    paths = [_member_path(target, member.filename) for member in members]
    try:
        for member, path in zip(members, paths):
            mode = (member.external_attr >> 16) & 0o7777
            if member.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(path, "wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            if mode:
                os.chmod(path, mode)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadRequest(
            f"The action's zip file could not be unpacked ({exc}); "
            "check that the whole file was sent."
        ) from exc


def _untar(data: bytes, target: Path) -> None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                _member_path(target, member.name)
                if member.issym():
                    _member_path(target, os.path.join(os.path.dirname(member.name), member.linkname))
                elif member.islnk():  # a hard link names its target from the archive's root
                    _member_path(target, member.linkname)
                if (member.issym() or member.islnk()) and _climbs(member.linkname):
                    # Without Python 3.11.4's "data" filter (Debian's 3.11.2 in
                    # the images lacks it), a link pointing upwards could be used
                    # by a later member to write outside the folder.
                    raise BadRequest(
                        f"The archive's link '{member.name}' points to '{member.linkname}', outside "
                        "its own folder; replace links that climb with copies of the files.")
            # The "data" filter (Python 3.11.4+) checks each path again as it is
            # written, which also refuses one that climbs out through a symlink
            # unpacked just before; it keeps execute bits and skips chown.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(target, members=members, **safe)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BadRequest(
            f"The action's tar.gz file could not be unpacked ({exc}); "
            "check that the whole file was sent."
        ) from exc


def _climbs(link: str) -> bool:
    return os.path.isabs(link) or ".." in Path(link).parts


def write_executable(data: bytes, path: Path) -> None:
    path.write_bytes(data)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
