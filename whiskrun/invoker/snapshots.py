"""The snapshot store: CRIU images of initialised actions, on disk, bounded.

One folder per snapshot, named by a hash of its key (namespace, action,
version, image id, memory): a change to any of them is another key, and
older snapshots of the same action are discarded when a new one lands.
Disk use is bounded; the least recently used snapshots go first.
"""

import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .records import ActionKey

META = "meta.json"


@dataclass
class SnapshotInfo:
    key: str
    namespace: str
    action: str
    version: str
    kind: str
    image: str
    image_id: str
    memory_mb: int
    lower_dirs: str
    size_bytes: int
    created: float
    last_used: float
    restores: int = 0
    checkpoint_ms: float = 0.0
    init_ms: float = 0.0  # what the action's /init cost in the snapshot's source
    engine: str = "runc"  # which engine took it: "criu" (direct) or "runc"; restored only by the same


def snapshot_key(action: ActionKey, image_id: str) -> str:
    parts = [action.namespace, action.name, action.version, action.revision, image_id, str(action.memory_mb)]
    if action.tenant:  # one caller's snapshot of a shared action is not another's
        parts.append(action.tenant)
    text = "|".join(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class SnapshotStore:
    def __init__(self, root: Path, budget_bytes: int) -> None:
        self.root = root
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)
        # A snapshot holds an action's memory: its parameters, its API key, whatever
        # init computed. Only root (the invoker, CRIU) may enter the folder.
        os.chmod(root, 0o700)
        # The snapshots this store has and did not remove itself: a folder of one
        # of them that is gone was deleted behind its back, which the activation
        # that then starts cold must be told (its restoreFallback).
        self._kept = {path.name for path in root.iterdir() if not path.name.startswith(".")}

    def folder(self, key: str) -> Path:
        return self.root / key

    def staging(self, key: str) -> Path:
        """A fresh folder to checkpoint into; committed by ``commit``."""
        path = self.root / f".staging-{key}-{time.monotonic_ns()}"
        path.mkdir(parents=True)
        return path

    def commit(self, staging: Path, info: SnapshotInfo) -> SnapshotInfo:
        info.size_bytes = _size(staging)
        (staging / META).write_text(json.dumps(asdict(info)))
        with self._lock:
            target = self.folder(info.key)
            shutil.rmtree(target, ignore_errors=True)
            os.chmod(staging, 0o700)
            staging.rename(target)
            self._kept.add(info.key)
            for other in self._infos():
                if (other.namespace, other.action) == (info.namespace, info.action) and other.key != info.key:
                    self._remove(other.key)
            self._evict_to_budget(keep=info.key)
        return info

    def get(self, key: str) -> SnapshotInfo | None:
        """The snapshot's record if its folder is whole enough to try."""
        meta = self.folder(key) / META
        try:
            info = SnapshotInfo(**json.loads(meta.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not (self.folder(key) / "images").is_dir() or not (self.folder(key) / "config.json").is_file():
            return None
        if info.key != key:  # another snapshot's folder copied or moved here
            return None
        return info

    def discard_if_broken(self, key: str) -> bool:
        """Delete the folder of ``key`` if it is there but unusable (half
        deleted, or another snapshot's); whether it did."""
        with self._lock:  # not while a commit or a restore count rewrites it
            if self.get(key) is not None or not self.folder(key).exists():
                return False
            self._remove(key)
            return True

    def forget_deleted(self, key: str) -> bool:
        """Whether the folder of ``key``, a snapshot this store had, was deleted
        by someone else; said once."""
        with self._lock:
            if key not in self._kept or self.folder(key).exists():
                return False
            self._kept.discard(key)
            return True

    def files_size(self, key: str) -> int:
        """Bytes of the snapshot's files, its record aside (as ``size_bytes`` was measured)."""
        return sum(p.stat().st_size for p in self.folder(key).rglob("*")
                   if p.is_file() and not p.name.startswith(META))

    def record_restore(self, key: str) -> None:
        with self._lock:
            info = self.get(key)
            if info is None:
                return
            info.restores += 1
            info.last_used = time.time()
            # Atomically: a reader must never see a half-written record.
            temporary = self.folder(key) / f"{META}.{threading.get_ident()}"
            temporary.write_text(json.dumps(asdict(info)))
            os.replace(temporary, self.folder(key) / META)

    def discard(self, key: str) -> None:
        with self._lock:
            self._remove(key)

    def _remove(self, key: str) -> None:
        """Under the lock."""
        self._kept.discard(key)
        shutil.rmtree(self.folder(key), ignore_errors=True)

    def entries(self) -> list[SnapshotInfo]:
        with self._lock:
            return self._infos()

    def clear_staging(self) -> None:
        for path in self.root.glob(".staging-*"):
            shutil.rmtree(path, ignore_errors=True)

    def _infos(self) -> list[SnapshotInfo]:
        infos = []
        for path in self.root.iterdir():
            if path.name.startswith("."):
                continue
            info = self.get(path.name)
            if info is None:
                self._remove(path.name)  # truncated or foreign: unusable
            else:
                infos.append(info)
        return infos

    def _evict_to_budget(self, keep: str) -> None:
        infos = sorted(self._infos(), key=lambda i: i.last_used)
        total = sum(i.size_bytes for i in infos)
        for info in infos:
            if total <= self.budget_bytes:
                break
            if info.key == keep:
                continue
            self._remove(info.key)
            total -= info.size_bytes


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
