"""`whiskrun bench --quick` then `whiskrun report`, as a user runs them: real
containers, real CRIU. The bench runs once for the module (about a minute);
each test reads what it wrote.

Where CRIU does not work here, the restore path's checks are skipped with the
reason; with WHISKRUN_REQUIRE_CRIU=1 (CI) the module fails instead.
"""

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import docker
import matplotlib.image
import pytest

from whiskrun.benchmark import runfile
from whiskrun.benchmark.matrix import PRIMITIVES
from whiskrun.benchmark.runner import REFILL_PATH
from whiskrun.invoker.backend import checkpoint
from whiskrun.invoker.backend.base import MANAGED_LABEL, OWNER_LABEL
from whiskrun.invoker.backend.docker import CLONE_PREFIX
from whiskrun.invoker.config import InvokerConfig
from whiskrun.report.samples import START_PATHS, Sample

from .invoker_support import REQUIRE_CRIU

# The quick bench takes about a minute here; the whole module is one bench and one report.
pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

WHISKRUN = Path(sys.executable).with_name("whiskrun")
BENCH_OWNER = "whiskrun-bench"  # whiskrun/benchmark/runner.py: the owner of its invokers' containers
RAW_LABEL = "whiskrun.purpose=bench"  # ... and the label of its bare containers
RUNTIMES = ("python:3.11", "nodejs:18", "blackbox")
#: The workloads of the default matrix: (label, kind).
WORKLOADS = (("python echo", "python:3.11"), ("python heavy-init", "python:3.11"), ("nodejs echo", "nodejs:18"),
             ("native echo", "blackbox"))
#: Phases each start path must show (the invoker's `phases` annotation).
PHASES = {"cold": {"create", "start", "init", "run"}, "prewarm": {"init", "run"}, "restore": {"restore.sandbox", "hook", "run"},
          "unpause": {"unpause", "run"}, "warm": {"run"}}
PICTURES = ("latency.png", "phases.png", "cdf.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_SNAPSHOTS = Path(InvokerConfig.snapshot_dir)


@dataclass
class BenchRun:
    seconds: float
    process: subprocess.CompletedProcess
    folder: Path
    meta: dict
    samples: list[Sample]
    started: float  # wall clock, for what the bench may have left
    ended: float


@dataclass
class ReportRun:
    process: subprocess.CompletedProcess
    report: dict


@pytest.fixture(scope="module")
def criu() -> checkpoint.Support:
    support = checkpoint.detect()
    if not support.available and os.environ.get(REQUIRE_CRIU) == "1":
        pytest.fail(f"checkpoint/restore does not work on this machine: {support.reason} ({REQUIRE_CRIU}=1 "
                    "requires it)")
    return support


@pytest.fixture(scope="module")
def measured_paths(criu: checkpoint.Support) -> tuple[str, ...]:
    """The start paths the bench can take here: restore only with CRIU."""
    return START_PATHS if criu.available else tuple(p for p in START_PATHS if p != "restore")


def bench_containers(client: docker.DockerClient) -> list[str]:
    """Containers the bench starts (its invokers' and its bare ones) and restored clones of its invokers."""
    managed = [c for c in client.api.containers(all=True, filters={"label": MANAGED_LABEL})
               if (c.get("Labels") or {}).get(OWNER_LABEL) == BENCH_OWNER]
    raw = client.api.containers(all=True, filters={"label": RAW_LABEL})
    found = [f"{c['Id'][:12]} {c.get('Image')} {c.get('Status')} {c.get('Labels')}" for c in managed + raw]
    return found + [f"runc clone {clone}" for clone in checkpoint.list_clones()
                    if clone.startswith(f"{CLONE_PREFIX}{BENCH_OWNER}-")]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient,
          criu: checkpoint.Support) -> BenchRun:
    before = bench_containers(docker_client)
    assert not before, (f"containers of another `whiskrun bench` are there ({before}); one bench at a time: "
                        "they share the owner label whiskrun-bench")
    out = tmp_path_factory.mktemp("bench")
    started, mark = time.time(), time.monotonic()
    process = subprocess.run([str(WHISKRUN), "bench", "--quick", "--out", str(out)], capture_output=True,
                             text=True, timeout=600)
    seconds = time.monotonic() - mark
    assert process.returncode == 0, f"exit {process.returncode}\n{process.stdout}\n{process.stderr}"
    (folder,) = out.iterdir()
    meta, samples = runfile.read(folder)
    return BenchRun(seconds, process, folder, meta, samples, started, time.time())


@pytest.fixture(scope="module")
def report(bench: BenchRun) -> ReportRun:
    process = subprocess.run([str(WHISKRUN), "report", str(bench.folder)], capture_output=True, text=True,
                             timeout=300)
    assert process.returncode == 0, f"exit {process.returncode}\n{process.stdout}\n{process.stderr}"
    return ReportRun(process, json.loads((bench.folder / "report.json").read_text()))


def successes(bench: BenchRun, runtime: str, path: str, action: str | None = None) -> list[Sample]:
    return [s for s in bench.samples if s.runtime == runtime and s.path == path and s.success
            and (action is None or s.action == action)]


# -- the bench --------------------------------------------------------------

def test_the_quick_bench_runs_and_says_where_its_samples_are(bench: BenchRun, capsys: pytest.CaptureFixture[str],
                                                              record_property) -> None:
    record_property("bench_quick_seconds", round(bench.seconds, 1))
    with capsys.disabled():
        print(f"\n`whiskrun bench --quick` took {bench.seconds:.1f} s here ({len(bench.samples)} samples, "
              f"{bench.meta.get('machine')})")
    failed = sum(1 for s in bench.samples if not s.success)
    assert bench.process.stdout.strip() == (f"{len(bench.samples)} samples ({failed} failed) in "
                                            f"{bench.folder / runfile.SAMPLES_FILE}; `whiskrun report` makes "
                                            "the tables and pictures.")
    assert bench.folder.name.startswith(runfile.PREFIX)
    # The progress bar reached its end: Matrix.steps counts what the runner does.
    steps = len(WORKLOADS) * 3 * (len(START_PATHS) + 1)
    assert f"{steps}/{steps}" in bench.process.stderr, bench.process.stderr[-2000:]


def test_the_run_records_what_was_run(bench: BenchRun) -> None:
    meta = bench.meta
    assert (meta["rounds"], meta["warm_per_round"]) == (3, 5)
    assert meta["paths"] == list(START_PATHS)
    assert meta["workloads"] == [label for label, _ in WORKLOADS]
    assert meta["command"].startswith("whiskrun bench --quick --out ")
    assert meta["machine"] and meta["when"].endswith("UTC")
    assert "aborted" not in meta and "unreadable_samples" not in meta


def test_no_sample_failed(bench: BenchRun, criu: checkpoint.Support) -> None:
    failed = [s for s in bench.samples if not s.success]
    if not criu.available:  # the bench records the restore path as failed, with the reason
        failed = [s for s in failed if "restore" not in s.path]
    assert not failed, "\n".join(f"{s.action} {s.path} round {s.round}: {s.error}" for s in failed)


@pytest.mark.parametrize("path", START_PATHS)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_runtime_takes_every_start_path(bench: BenchRun, runtime: str, path: str,
                                              measured_paths: tuple[str, ...], criu: checkpoint.Support) -> None:
    if path not in measured_paths:
        pytest.skip(f"checkpoint/restore does not work on this machine: {criu.reason}")
    # A sample is recorded as successful only when the invoker said it took this path.
    taken = successes(bench, runtime, path)
    assert taken, f"no successful {path} sample of {runtime}: " + "; ".join(
        s.error for s in bench.samples if s.runtime == runtime and s.path == path)
    for action in {s.action for s in bench.samples if s.runtime == runtime}:
        count = len(successes(bench, runtime, path, action))
        assert count == (15 if path == "warm" else 3), (action, path, count)
    for sample in taken:
        assert sample.total_ms is not None and sample.total_ms > 0
        assert PHASES[path] <= set(sample.phases), (path, sample.phases)
        assert all(value >= 0 for value in sample.phases.values()), sample.phases
    assert {s.round for s in taken} == {0, 1, 2}


def test_heavy_init_is_python_only_and_takes_every_path(bench: BenchRun, measured_paths: tuple[str, ...]) -> None:
    heavy = [s for s in bench.samples if s.action == "python heavy-init"]
    assert {s.runtime for s in heavy} == {"python:3.11"}
    for path in measured_paths:
        assert successes(bench, "python:3.11", path, "python heavy-init"), path


@pytest.mark.parametrize(("action", "runtime"), WORKLOADS)
def test_the_primitives_are_measured_beside_each_workload(bench: BenchRun, action: str, runtime: str,
                                                          criu: checkpoint.Support) -> None:
    counts = Counter(s.path for s in bench.samples if s.action == action and s.success and s.is_primitive
                     and s.path != REFILL_PATH)
    expected = {"raw docker run": 3, "raw direct /run": 15, "raw runc resume": 3, "raw CRIU restore": 3}
    if not criu.available:
        del expected["raw CRIU restore"]
    assert set(expected) <= set(PRIMITIVES)
    assert dict(counts) == expected
    samples = [s for s in bench.samples if s.action == action and s.is_primitive]
    assert all(s.runtime == runtime and s.total_ms and s.total_ms > 0 for s in samples)
    resume = next(s for s in samples if s.path == "raw runc resume")
    assert set(resume.phases) == {"resume", "run"}


@pytest.mark.parametrize(("action", "runtime"), WORKLOADS)
def test_sandbox_refills_are_reported_apart_from_the_restores(bench: BenchRun, action: str, runtime: str,
                                                              criu: checkpoint.Support) -> None:
    """Each restore (3 through the invoker, 3 raw) used a sandbox that was
    then made again in the background: each refill is a sample of its own,
    with the invoker's CPU for it, never inside a restore's time."""
    refills = [s for s in bench.samples if s.action == action and s.path == REFILL_PATH]
    if not criu.available:
        assert refills == []
        return
    assert len(refills) >= 6, len(refills)
    for sample in refills:
        assert sample.success and sample.is_primitive and sample.total_ms > 0
        assert 0 < sample.phases["refill.cpu"] <= sample.total_ms, sample.phases
    restores = [s for s in bench.samples if s.action == action and s.path == "restore" and s.success]
    assert all("refill.cpu" not in s.phases for s in restores)


def test_a_heavy_init_costs_more_than_an_echo(bench: BenchRun) -> None:
    def median_ms(action: str, path: str) -> float:
        values = sorted(s.total_ms for s in bench.samples if s.action == action and s.path == path and s.success)
        return values[len(values) // 2]

    # heavy_init.py imports and builds at init; its cold start must show it (a sanity check of the matrix).
    assert median_ms("python heavy-init", "cold") > median_ms("python echo", "cold")


# -- the report -------------------------------------------------------------

def test_the_report_has_a_group_per_workload_and_path(bench: BenchRun, report: ReportRun,
                                                      measured_paths: tuple[str, ...]) -> None:
    groups = {(g["action"], g["runtime"], g["path"]): g for g in report.report["groups"]}
    for action, runtime in WORKLOADS:
        for path in measured_paths:
            group = groups.get((action, runtime, path))
            assert group is not None, (action, path, sorted(groups))
            assert group["failures"] == 0 and group["count"] == (15 if path == "warm" else 3), group
            assert group["latency_ms"]["n"] == group["count"]
            assert not group["primitive"]
            assert group["ratio_to_cold"] == pytest.approx(group["latency_ms"]["p50"] /
                                                           groups[(action, runtime, "cold")]["latency_ms"]["p50"])
        assert groups[(action, runtime, "cold")]["ratio_to_cold"] == 1.0
        assert groups[(action, runtime, "raw docker run")]["primitive"]
    assert report.report["totals"] == {"samples": len(bench.samples),
                                       "failures": sum(1 for s in bench.samples if not s.success)}
    assert report.report["source"]["run"] == str(bench.folder)


def test_the_report_prints_a_table_and_names_its_files(bench: BenchRun, report: ReportRun) -> None:
    out = report.process.stdout
    assert "Start paths (whiskrun bench --quick" in out
    for label, _ in WORKLOADS:
        assert label in out
    assert "samples failed" not in out
    for name in ("report.json", "report.html", *PICTURES):
        assert str(bench.folder / name) in out, name


def test_the_html_page_embeds_the_pictures(bench: BenchRun, report: ReportRun) -> None:
    page = (bench.folder / "report.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    embedded = [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"',
                                                              page)]
    assert len(embedded) == len(PICTURES), len(embedded)
    # The PNG files are the bytes the page embeds.
    assert sorted(embedded) == sorted((bench.folder / name).read_bytes() for name in PICTURES)
    for label, _ in WORKLOADS:
        assert label in page


@pytest.mark.parametrize("name", PICTURES)
def test_each_picture_is_a_png_that_decodes(bench: BenchRun, report: ReportRun, name: str) -> None:
    path = bench.folder / name
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000, len(data)
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert height >= 300 and width >= 400, image.shape
    assert image.std() > 0.01  # not a blank canvas


# -- what the bench leaves --------------------------------------------------

def test_the_bench_leaves_no_container(bench: BenchRun, report: ReportRun, docker_client: docker.DockerClient) -> None:
    assert bench_containers(docker_client) == []


def test_the_bench_leaves_no_snapshot(bench: BenchRun, report: ReportRun) -> None:
    # It snapshots in a folder of its own beside the default one, and removes it.
    root = DEFAULT_SNAPSHOTS.parent
    assert not list(root.glob("bench-*")), list(root.glob("bench-*"))
    # The default folder is a server's: the bench must neither add to it nor discard from it
    # (a snapshot of guest/echo there would replace the server's own).
    touched = []
    for meta in DEFAULT_SNAPSHOTS.glob("*/meta.json"):
        try:
            info = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        if (info.get("namespace"), info.get("version")) == ("guest", "3.0.0") and \
                bench.started <= info.get("created", 0) <= bench.ended:
            touched.append(info)
    assert not touched, touched
