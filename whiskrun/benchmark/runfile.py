"""A bench run on disk: ``whiskrun-bench-<time>/samples.json`` with what was
run, where, and every sample; reports are written beside it."""

import json
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..report.samples import Sample

PREFIX = "whiskrun-bench-"
SAMPLES_FILE = "samples.json"
FORMAT = 1


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    memory = next(int(line.split()[1]) // (1024 * 1024) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{cpu}, {cores} cores, {memory} GiB, Linux {platform.release()}"


def new_run_folder(out: Path) -> Path:
    folder = out / f"{PREFIX}{datetime.now():%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def write(folder: Path, meta: dict[str, Any], samples: list[Sample]) -> Path:
    path = folder / SAMPLES_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"format": FORMAT, "meta": meta, "samples": [s.to_json() for s in samples]},
                                    indent=1))
    temporary.replace(path)  # a reader never sees half a file
    return path


def latest(folder: Path) -> Path:
    runs = sorted(p for p in folder.glob(f"{PREFIX}*") if (p / SAMPLES_FILE).is_file())
    if not runs:
        raise UsageError(f"No bench run in {folder.resolve()} (folders {PREFIX}*/{SAMPLES_FILE}); run "
                         "`whiskrun bench --quick` first, or name a run folder.")
    return runs[-1]


def read(run: Path) -> tuple[dict[str, Any], list[Sample]]:
    """The meta and samples of a run folder (or of its samples.json), refusing clearly
    what is missing or corrupt."""
    path = run / SAMPLES_FILE if run.is_dir() else run
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist; name a folder made by `whiskrun bench`.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}.") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); the run was cut short or the file was edited. "
                         "Run the bench again.") from None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("samples"), list)
            or not isinstance(data.get("meta") or {}, dict)):
        raise UsageError(f"{path} is not a whiskrun bench run (format {FORMAT}).")
    samples, bad = [], 0
    for item in data["samples"]:
        try:
            samples.append(Sample.from_json(item))
        except (AttributeError, KeyError, TypeError, ValueError):  # AttributeError: phases not an object
            bad += 1
    meta = dict(data.get("meta") or {})
    if bad:
        meta["unreadable_samples"] = bad
    return meta, samples


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
