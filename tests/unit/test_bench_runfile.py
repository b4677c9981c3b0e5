"""A bench run on disk (whiskrun/benchmark/runfile.py), the bench matrix
(whiskrun/benchmark/matrix.py), and `whiskrun report` / `whiskrun bench`
through click's runner where they refuse or read a run: no Docker."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from whiskrun.benchmark import matrix, runfile
from whiskrun.cli import main
from whiskrun.errors import UsageError
from whiskrun.report.samples import START_PATHS, Sample

META = {"command": "whiskrun bench --quick", "when": "2026-01-01 00:00 UTC", "machine": "test", "rounds": 3,
        "warm_per_round": 5, "paths": list(START_PATHS), "workloads": ["python echo"]}


def some_samples() -> list[Sample]:
    return [
        Sample("python echo", "python:3.11", "cold", 412.5, phases={"create": 200.25, "init": 80.0, "run": 3.5}),
        Sample("python echo", "python:3.11", "warm", 1.75, phases={"run": 1.5}, round=2),
        Sample("python echo", "python:3.11", "restore", None, success=False,
               error="took cold instead (no snapshot)", round=1),
        Sample("python echo", "python:3.11", "raw docker run", 300.0, phases={"start": 300.0, "init": 70.0}),
    ]


def run_folder(parent: Path, samples: list[Sample], meta: dict | None = None) -> Path:
    folder = runfile.new_run_folder(parent)
    runfile.write(folder, dict(META if meta is None else meta), samples)
    return folder


def write_raw(folder: Path, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / runfile.SAMPLES_FILE
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


# -- write and read ---------------------------------------------------------

def test_write_then_read_gives_back_the_meta_and_every_sample(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, some_samples())
    assert folder.parent == tmp_path and folder.name.startswith(runfile.PREFIX)
    assert [p.name for p in folder.iterdir()] == [runfile.SAMPLES_FILE]  # no temporary file left
    meta, samples = runfile.read(folder)
    assert meta == META
    assert samples == some_samples()


def test_read_takes_the_folder_or_its_samples_json(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, some_samples())
    assert runfile.read(folder / runfile.SAMPLES_FILE) == runfile.read(folder)


def test_write_replaces_a_previous_samples_json(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, some_samples())
    runfile.write(folder, {"aborted": "interrupted"}, some_samples()[:1])
    assert runfile.read(folder) == ({"aborted": "interrupted"}, some_samples()[:1])


def test_an_empty_run_reads_as_no_samples(tmp_path: Path) -> None:
    assert runfile.read(run_folder(tmp_path, [])) == (META, [])


def test_new_run_folders_are_named_by_time(tmp_path: Path) -> None:
    folder = runfile.new_run_folder(tmp_path / "deeper" / "still")
    assert folder.is_dir()
    stamp = folder.name.removeprefix(runfile.PREFIX)
    assert len(stamp) == len("20260101-000000") and stamp[8] == "-" and stamp.replace("-", "").isdigit()


def test_read_of_a_missing_run_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        runfile.read(tmp_path / "nowhere")
    assert str(caught.value) == f"{tmp_path / 'nowhere'} does not exist; name a folder made by `whiskrun bench`."


def test_read_of_a_folder_without_samples_json_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        runfile.read(tmp_path)
    assert str(caught.value) == (f"{tmp_path / runfile.SAMPLES_FILE} does not exist; name a folder made by "
                                 "`whiskrun bench`.")


def test_read_of_json_cut_in_half_says_to_run_again(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, some_samples())
    path = folder / runfile.SAMPLES_FILE
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(UsageError) as caught:
        runfile.read(folder)
    message = str(caught.value)
    assert message.startswith(f"{path} is not valid JSON (")
    assert message.endswith("); the run was cut short or the file was edited. Run the bench again.")


def test_read_of_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / runfile.SAMPLES_FILE
    path.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(UsageError, match=rf"^Cannot read {path}: .*utf-8"):
        runfile.read(tmp_path)


@pytest.mark.parametrize("data", [
    [],
    "null",
    "42",
    {"samples": []},  # no format
    {"format": 2, "meta": {}, "samples": []},
    {"format": "1", "meta": {}, "samples": []},
    {"format": 1, "meta": {}},
    {"format": 1, "meta": {}, "samples": {"0": {}}},
    {"format": 1, "meta": "a string", "samples": []},
    {"format": 1, "meta": [1, 2], "samples": []},
    {"groups": [], "source": {}, "totals": {}},  # a report.json
], ids=repr)
def test_read_of_json_of_the_wrong_shape_says_what_it_expected(tmp_path: Path, data: object) -> None:
    path = write_raw(tmp_path, data)
    with pytest.raises(UsageError) as caught:
        runfile.read(tmp_path)
    assert str(caught.value) == f"{path} is not a whiskrun bench run (format 1)."


def test_malformed_samples_are_counted_and_the_rest_kept(tmp_path: Path) -> None:
    good = [s.to_json() for s in some_samples()]
    bad = [
        {"runtime": "python:3.11", "path": "cold", "total_ms": 1.0},  # no action
        {"action": "a", "runtime": "r", "path": "cold", "total_ms": "fast"},
        {"action": "a", "runtime": "r", "path": "cold", "total_ms": {"ms": 1}},
        {"action": "a", "runtime": "r", "path": "cold", "total_ms": 1.0, "phases": [1, 2]},
        {"action": "a", "runtime": "r", "path": "cold", "total_ms": 1.0, "phases": {"run": "x"}},
        {"action": "a", "runtime": "r", "path": "cold", "total_ms": 1.0, "phases": {"run": None}},
        {"action": "a", "runtime": "r", "path": "cold", "total_ms": 1.0, "round": "first"},
        "a string",
        None,
        17,
        [1, 2, 3],
    ]
    write_raw(tmp_path, {"format": 1, "meta": {"rounds": 3}, "samples": good[:2] + bad + good[2:]})
    meta, samples = runfile.read(tmp_path)
    assert samples == some_samples()
    assert meta == {"rounds": 3, "unreadable_samples": len(bad)}


def test_defaults_of_optional_sample_fields(tmp_path: Path) -> None:
    write_raw(tmp_path, {"format": 1, "samples": [{"action": "a", "runtime": "r", "path": "warm", "total_ms": 2}]})
    meta, samples = runfile.read(tmp_path)
    assert meta == {}
    assert samples == [Sample("a", "r", "warm", 2.0, phases={}, success=True, error="", round=0)]


# -- latest -----------------------------------------------------------------

def test_latest_picks_the_newest_run(tmp_path: Path) -> None:
    for stamp in ("20250101-120000", "20260301-090000", "20251231-235959"):
        write_raw(tmp_path / f"{runfile.PREFIX}{stamp}", {"format": 1, "meta": {}, "samples": []})
    # Newer, but without samples (a bench that is starting, or was killed): not a run.
    (tmp_path / f"{runfile.PREFIX}20270101-000000").mkdir()
    (tmp_path / "unrelated-20990101").mkdir()
    assert runfile.latest(tmp_path) == tmp_path / f"{runfile.PREFIX}20260301-090000"


def test_latest_picks_a_run_just_written(tmp_path: Path) -> None:
    write_raw(tmp_path / f"{runfile.PREFIX}20200101-000000", {"format": 1, "meta": {}, "samples": []})
    written = run_folder(tmp_path, some_samples())
    assert runfile.latest(tmp_path) == written


def test_latest_refuses_clearly_when_there_is_no_run(tmp_path: Path) -> None:
    (tmp_path / f"{runfile.PREFIX}20270101-000000").mkdir()  # no samples.json in it
    with pytest.raises(UsageError) as caught:
        runfile.latest(tmp_path)
    assert str(caught.value) == (f"No bench run in {tmp_path.resolve()} (folders {runfile.PREFIX}*/samples.json); "
                                 "run `whiskrun bench --quick` first, or name a run folder.")


# -- the matrix -------------------------------------------------------------

def test_workloads_of_the_default_matrix() -> None:
    chosen = matrix.workloads(["echo", "heavy-init"], ["python", "nodejs", "native"])
    assert [(w.label, w.runtime, w.memory_mb) for w in chosen] == [
        ("python echo", "python:3.11", 256), ("python heavy-init", "python:3.11", 512),
        ("nodejs echo", "nodejs:18", 256), ("native echo", "blackbox", 256)]
    assert chosen[1].code == (matrix.SAMPLES / "heavy_init.py").read_text()
    assert chosen[3].code.startswith("#!/bin/sh")


@pytest.mark.parametrize("runtime", ["ruby", "python:3.11", "Python", ""])
def test_workloads_refuse_an_unknown_runtime(runtime: str) -> None:
    with pytest.raises(UsageError) as caught:
        matrix.workloads(["echo"], ["python", runtime])
    assert str(caught.value) == f"Unknown runtime '{runtime}'; use python, nodejs, native."


@pytest.mark.parametrize("action", ["hello", "heavy_init", "ECHO"])
def test_workloads_refuse_an_unknown_action(action: str) -> None:
    with pytest.raises(UsageError) as caught:
        matrix.workloads(["echo", action], ["python"])
    assert str(caught.value) == f"Unknown action '{action}'; use echo or heavy-init."


@pytest.mark.parametrize(("actions", "runtimes"), [(["heavy-init"], ["nodejs", "native"]), ([], ["python"]),
                                                   (["echo"], [])])
def test_workloads_refuse_an_empty_matrix(actions: list[str], runtimes: list[str]) -> None:
    with pytest.raises(UsageError, match=r"^The matrix is empty: heavy-init exists for the python runtime only"):
        matrix.workloads(actions, runtimes)


@pytest.mark.parametrize(("text", "paths"), [
    ("cold,prewarm,restore,unpause,warm", START_PATHS),
    (" warm , cold ,", ("warm", "cold")),
    ("restore", ("restore",)),
    ("cold,warm,cold", ("cold", "warm")),  # each path once: the runner measures each once per round
])
def test_parse_paths(text: str, paths: tuple[str, ...]) -> None:
    assert matrix.parse_paths(text) == paths


@pytest.mark.parametrize(("text", "named"), [("cold,hot", "hot"), ("Warm", "Warm"), ("cold,x,y", "x, y"),
                                             ("", "(none)"), (" , ,", "(none)")])
def test_parse_paths_refuses_unknown_paths(text: str, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        matrix.parse_paths(text)
    assert str(caught.value) == f"Unknown start path(s) {named}; use cold, prewarm, restore, unpause, warm."


@pytest.mark.parametrize(("runtimes", "paths", "rounds", "primitives", "steps"), [
    (["python", "nodejs", "native"], START_PATHS, 3, True, 4 * 3 * 6),  # --quick: 72
    (["python", "nodejs", "native"], START_PATHS, 20, True, 4 * 20 * 6),
    (["python"], ("warm",), 5, False, 2 * 5 * 1),
    (["nodejs"], ("cold", "restore"), 1, True, 1 * 1 * 3),
])
def test_matrix_steps(runtimes: list[str], paths: tuple[str, ...], rounds: int, primitives: bool,
                      steps: int) -> None:
    bench = matrix.Matrix(matrix.workloads(["echo", "heavy-init"], runtimes), paths, rounds, 5, primitives)
    assert bench.steps == steps


# -- the commands -----------------------------------------------------------

def test_report_in_a_folder_without_runs_exits_1_and_says_what_to_do(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"error: No bench run in {tmp_path.resolve()} (folders {runfile.PREFIX}*/samples.json); "
                             "run `whiskrun bench --quick` first, or name a run folder.\n")
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_report_of_a_run_without_samples_exits_1_and_says_so(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, [])
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"error: The run {folder} has no samples (it was stopped before the first one); "
                             "run `whiskrun bench` again.\n")
    assert [p.name for p in folder.iterdir()] == [runfile.SAMPLES_FILE]


def test_report_of_the_latest_run_without_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_folder(Path("."), [])
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 1, result.output
    assert "has no samples (it was stopped before the first one)" in result.stderr


def test_report_of_a_corrupt_run_exits_1_with_the_reason(tmp_path: Path) -> None:
    path = write_raw(tmp_path, '{"format": 1, "meta": {}, "samples": [{"action": "py')
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {path} is not valid JSON (")
    assert result.stderr.endswith("Run the bench again.\n")


def test_report_as_json_counts_failures_and_unreadable_samples(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, some_samples())
    path = folder / runfile.SAMPLES_FILE
    data = json.loads(path.read_text())
    data["samples"].append({"action": "broken"})
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["report", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["totals"] == {"samples": 4, "failures": 1}
    assert report["source"]["unreadable_samples"] == 1
    assert report["source"]["run"] == str(folder)
    restore = next(g for g in report["groups"] if g["path"] == "restore")
    assert (restore["count"], restore["failures"], restore["samples_ms"]) == (1, 1, [])
    assert restore["failure_samples"] == ["took cold instead (no snapshot)"]


def failing_run(parent: Path) -> Path:
    """Two workloads, every start path and primitive, with a few failed samples."""
    samples = []
    for action, runtime in (("python echo", "python:3.11"), ("nodejs echo", "nodejs:18")):
        for round_ in range(3):
            for path, ms in (("cold", 400.0), ("prewarm", 120.0), ("restore", 60.0), ("unpause", 9.0),
                             ("raw docker run", 350.0), ("raw runc resume", 5.0), ("raw CRIU restore", 40.0)):
                samples.append(Sample(action, runtime, path, ms + round_, phases={"run": 2.0, "init": 1.0},
                                      round=round_))
            for index in range(5):
                samples.append(Sample(action, runtime, "warm", 2.0 + index / 10, phases={"run": 1.5}, round=round_))
                samples.append(Sample(action, runtime, "raw direct /run", 1.0 + index / 10, round=round_))
    samples += [Sample("python echo", "python:3.11", "restore", None, success=False,
                       error="took cold instead (no snapshot)", round=3),
                Sample("nodejs echo", "nodejs:18", "prewarm", None, success=False,
                       error="no stem cell became ready within 30 s", round=3)]
    return run_folder(parent, samples)


OUTPUTS = ("report.json", "report.html", "latency.png", "phases.png", "cdf.png")


@pytest.fixture
def outputs_module() -> None:
    try:
        import whiskrun.report.outputs  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"whiskrun/report/outputs.py is missing or broken: {exc}")


def test_report_of_a_run_with_failures_counts_them_and_writes_everything(tmp_path: Path,
                                                                        outputs_module: None) -> None:
    folder = failing_run(tmp_path)
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    total = 2 * 3 * (7 + 10) + 2
    assert f"2 of {total} samples failed; the table counts them and report.html lists their errors." in result.stdout
    for name in OUTPUTS:
        assert (folder / name).is_file(), (name, sorted(p.name for p in folder.iterdir()))
        assert f"{folder / name}" in result.stdout, name
    report = json.loads((folder / "report.json").read_text())
    assert report["totals"] == {"samples": total, "failures": 2}
    html = (folder / "report.html").read_text()
    assert "took cold instead (no snapshot)" in html
    assert "no stem cell became ready within 30 s" in html


def test_report_writes_to_out(tmp_path: Path, outputs_module: None) -> None:
    folder = failing_run(tmp_path / "runs")
    result = CliRunner().invoke(main, ["report", str(folder / runfile.SAMPLES_FILE), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(OUTPUTS)
    assert sorted(p.name for p in folder.iterdir()) == [runfile.SAMPLES_FILE]


@pytest.mark.parametrize(("option", "message"), [
    (["--runtimes", "python,ruby"], "error: Unknown runtime 'ruby'; use python, nodejs, native.\n"),
    (["--actions", "echo,hello"], "error: Unknown action 'hello'; use echo or heavy-init.\n"),
    (["--paths", "cold,hot"], "error: Unknown start path(s) hot; use cold, prewarm, restore, unpause, warm.\n"),
    (["--actions", "heavy-init", "--runtimes", "nodejs"], "error: The matrix is empty: heavy-init exists for the "
     "python runtime only; add echo or the python runtime.\n"),
])
def test_bench_refuses_a_bad_matrix_before_starting(tmp_path: Path, option: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["bench", "--quick", "--out", str(tmp_path), *option])
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith(message), result.stderr
    assert list(tmp_path.iterdir()) == []  # no run folder made
