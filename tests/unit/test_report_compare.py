"""`whiskrun report --compare`: the bootstrap interval of a percentile, the
comparison of two reports built from synthetic samples, and the command
through click's runner on run folders and on report.json files."""

import json
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from whiskrun.benchmark import runfile
from whiskrun.cli import main
from whiskrun.report import compare, model
from whiskrun.report.samples import Sample
from whiskrun.report.stats import percentile

FRACTIONS = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def latencies(n: int, *, median: float = 100.0, seed: int = 1, scale: float = 1.0) -> list[float]:
    """``n`` positive latencies around ``median`` with a right tail, as start paths give."""
    rng = random.Random(seed)
    return [scale * median * rng.lognormvariate(0, 0.15) for _ in range(n)]


def samples_of(path: str, values: list[float], *, action: str = "python echo", runtime: str = "python:3.11",
               failed: int = 0) -> list[Sample]:
    ok = [Sample(action, runtime, path, value, phases={"run": value / 10}, round=i % 3)
          for i, value in enumerate(values)]
    bad = [Sample(action, runtime, path, None, success=False, error="took cold instead", round=i)
           for i in range(failed)]
    return ok + bad


def report_of(*groups: list[Sample]) -> dict:
    return model.build([s for group in groups for s in group], {"kind": "bench", "command": "test"})


def rows_by_path(rows: list[dict]) -> dict[str, dict]:
    return {row["path"]: row for row in rows}


# -- interval ---------------------------------------------------------------

@pytest.mark.parametrize("fraction", FRACTIONS.values())
def test_interval_is_repeatable_with_its_seed(fraction: float) -> None:
    values = latencies(50)
    assert compare.interval(values, fraction) == compare.interval(values, fraction)
    assert compare.interval(values, fraction, seed=7) == compare.interval(values, fraction, seed=7)


def test_interval_depends_on_the_seed() -> None:
    values = latencies(50)
    assert compare.interval(values, 0.5, seed=1) != compare.interval(values, 0.5, seed=2)


def test_interval_is_wider_for_fewer_samples() -> None:
    # The same distribution, 10 samples against 400: the median is known far less well.
    few = compare.interval(latencies(10, seed=3), 0.5)
    many = compare.interval(latencies(400, seed=3), 0.5)
    assert few[1] - few[0] > 2 * (many[1] - many[0]), (few, many)


@pytest.mark.parametrize("n", [2, 5, 20, 200, 400])
@pytest.mark.parametrize("name", FRACTIONS)
def test_interval_contains_the_point_estimate(n: int, name: str) -> None:
    for seed in range(10):
        values = latencies(n, seed=seed)
        low, high = compare.interval(values, FRACTIONS[name])
        assert low <= percentile(values, FRACTIONS[name]) <= high, (seed, low, high)
        assert low == -math.inf or min(values) <= low
        assert high == math.inf or high <= max(values)


@pytest.mark.parametrize(("fraction", "bounded_from"), [(0.50, 6), (0.95, 72), (0.99, 368)])
def test_interval_is_open_above_where_the_samples_cannot_bound_the_percentile(fraction: float,
                                                                                bounded_from: int) -> None:
    # Below n samples, even the largest is under the true percentile more than 2.5 % of the time:
    # a bootstrap (which never reaches past the largest) would claim too much.
    assert compare.interval(latencies(bounded_from - 1), fraction)[1] == math.inf
    assert compare.interval(latencies(bounded_from), fraction)[1] < math.inf
    if fraction > 0.5:  # the smallest sample does bound a high percentile below
        assert compare.interval(latencies(bounded_from - 1), fraction)[0] > -math.inf


def test_interval_of_a_median_is_open_on_both_sides_under_six_samples() -> None:
    assert compare.interval(latencies(5), 0.5) == (-math.inf, math.inf)


def test_interval_of_constant_samples_is_a_point() -> None:
    assert compare.interval([5.0] * 12, 0.5) == (5.0, 5.0)
    assert compare.interval([5.0] * 100, 0.95) == (5.0, 5.0)


@pytest.mark.parametrize("values", [[], [42.0]])
def test_interval_of_fewer_than_two_samples_is_unbounded(values: list[float]) -> None:
    low, high = compare.interval(values, 0.5)
    assert low == float("-inf") and high == float("inf")


# -- compare ----------------------------------------------------------------

def test_the_same_samples_compare_equal() -> None:
    values = latencies(40)
    report = report_of(samples_of("cold", values), samples_of("warm", latencies(40, median=2.0, seed=9)))
    rows = compare.compare(report, report)
    assert [row["path"] for row in rows] == ["cold", "warm"]
    for row in rows:
        assert "note" not in row
        assert set(row["figures"]) == set(FRACTIONS)
        for figure in row["figures"].values():
            assert figure["ratio"] == 1.0
            assert figure["within_noise"] is True


@pytest.mark.parametrize("seed", range(5))
def test_two_runs_of_one_distribution_differ_within_noise(seed: int) -> None:
    old = report_of(samples_of("cold", latencies(60, seed=seed)),
                    samples_of("restore", latencies(60, median=20, seed=seed + 50)),
                    samples_of("warm", latencies(400, median=2, seed=seed + 70)))
    new = report_of(samples_of("cold", latencies(60, seed=seed + 100)),
                    samples_of("restore", latencies(60, median=20, seed=seed + 150)),
                    samples_of("warm", latencies(400, median=2, seed=seed + 170)))
    for row in compare.compare(old, new):
        for name, figure in row["figures"].items():
            assert figure["within_noise"], (row["path"], name, figure)
            assert figure["ratio"] == pytest.approx(1.0, abs=0.25), (row["path"], name, figure)
            assert figure["old"] == figure_of(old, row["path"], name)
            assert figure["new"] == figure_of(new, row["path"], name)


@pytest.mark.parametrize("n", [3, 6, 15, 20, 60, 150, 500])
def test_runs_of_one_distribution_are_rarely_called_different(n: int) -> None:
    # The sizes of `bench --quick` (3 per path, 15 warm), of a default bench (20, 500) and
    # between. Two intervals at 95 % overlap far more often than 95 % of the time; before the
    # open sides, p95 and p99 at 6-45 samples were called different in 7-20 % of the trials.
    trials, called = 100, {name: 0 for name in FRACTIONS}
    for seed in range(trials):
        old = report_of(samples_of("cold", latencies(n, seed=seed)))
        new = report_of(samples_of("cold", latencies(n, seed=seed + 1000)))
        for name, figure in compare.compare(old, new)[0]["figures"].items():
            called[name] += not figure["within_noise"]
    assert all(count <= 3 for count in called.values()), called


def figure_of(report: dict, path: str, name: str) -> float:
    (group,) = [g for g in report["groups"] if g["path"] == path]
    return group["latency_ms"][name]


def test_a_path_three_times_slower_is_outside_the_noise() -> None:
    old = report_of(samples_of("cold", latencies(400, seed=1)), samples_of("warm", latencies(400, median=2, seed=2)))
    new = report_of(samples_of("cold", latencies(400, seed=3, scale=3.0)),
                    samples_of("warm", latencies(400, median=2, seed=4)))
    rows = rows_by_path(compare.compare(old, new))
    for name, figure in rows["cold"]["figures"].items():
        assert figure["within_noise"] is False, (name, figure)
        assert figure["ratio"] == pytest.approx(3.0, rel=0.1), (name, figure)
    # The path that did not change stays within noise.
    assert all(f["within_noise"] for f in rows["warm"]["figures"].values()), rows["warm"]


@pytest.mark.parametrize("n", [6, 20, 100])
def test_a_median_three_times_slower_is_outside_the_noise_from_six_samples(n: int) -> None:
    old = report_of(samples_of("cold", latencies(n, seed=1)))
    new = report_of(samples_of("cold", latencies(n, seed=3, scale=3.0)))
    figures = compare.compare(old, new)[0]["figures"]
    assert figures["p50"]["within_noise"] is False
    assert figures["p50"]["ratio"] == pytest.approx(3.0, rel=0.25)
    # Tails that so few samples cannot bound are not called different, whatever their ratio.
    assert figures["p99"]["within_noise"] is True
    assert figures["p99"]["ratio"] > 2


def test_a_path_three_times_faster_is_outside_the_noise() -> None:
    old = report_of(samples_of("restore", latencies(400, seed=5, scale=3.0)))
    new = report_of(samples_of("restore", latencies(400, seed=6)))
    (row,) = compare.compare(old, new)
    for figure in row["figures"].values():
        assert not figure["within_noise"]
        assert figure["ratio"] == pytest.approx(1 / 3, rel=0.1)


def test_a_path_in_one_report_only_has_a_row_with_a_note() -> None:
    old = report_of(samples_of("cold", latencies(20)), samples_of("restore", latencies(20, median=25)))
    new = report_of(samples_of("cold", latencies(20, seed=2)), samples_of("unpause", latencies(20, median=8)))
    rows = compare.compare(old, new)
    assert [(r["path"], r.get("note")) for r in rows] == [
        ("cold", None), ("restore", "only in the old report"), ("unpause", "only in the new report")]
    for row in rows[1:]:
        assert row["figures"] == {}
        assert (row["action"], row["runtime"]) == ("python echo", "python:3.11")


def test_a_runtime_in_one_report_only_has_rows_with_notes() -> None:
    old = report_of(samples_of("cold", latencies(20)))
    new = report_of(samples_of("cold", latencies(20, seed=2)),
                    samples_of("cold", latencies(20, seed=3), action="nodejs echo", runtime="nodejs:18"))
    rows = {(r["action"], r["path"]): r for r in compare.compare(old, new)}
    assert rows[("nodejs echo", "cold")]["note"] == "only in the new report"
    assert "note" not in rows[("python echo", "cold")]


@pytest.mark.parametrize("failing_side", ["old", "new"])
def test_a_group_without_successful_samples_on_one_side_has_a_note(failing_side: str) -> None:
    good = report_of(samples_of("cold", latencies(20)), samples_of("restore", latencies(20, median=25)))
    bad = report_of(samples_of("cold", latencies(20, seed=2)), samples_of("restore", [], failed=3))
    old, new = (bad, good) if failing_side == "old" else (good, bad)
    rows = rows_by_path(compare.compare(old, new))
    assert rows["restore"]["note"] == "no successful samples on one side"
    assert rows["restore"]["figures"] == {}
    assert "note" not in rows["cold"]


def test_a_single_sample_per_side_is_within_noise() -> None:
    # One sample cannot say how much a re-run would move: never flagged as a change.
    rows = compare.compare(report_of(samples_of("cold", [100.0])), report_of(samples_of("cold", [300.0])))
    for figure in rows[0]["figures"].values():
        assert figure["ratio"] == 3.0
        assert figure["within_noise"]


def test_compare_is_repeatable() -> None:
    old = report_of(samples_of("cold", latencies(25, seed=1)))
    new = report_of(samples_of("cold", latencies(25, seed=2, scale=1.1)))
    assert compare.compare(old, new) == compare.compare(old, new)


# -- the command ------------------------------------------------------------

def write_run(parent: Path, groups: list[list[Sample]]) -> Path:
    parent.mkdir()
    folder = runfile.new_run_folder(parent)
    runfile.write(folder, {"command": "whiskrun bench --quick", "when": "now"}, [s for g in groups for s in g])
    return folder


@pytest.fixture
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An old and a new run (relative paths, so that the table's title is not wrapped):
    cold three times slower, warm unchanged, restore only in the old one."""
    monkeypatch.chdir(tmp_path)
    old = write_run(Path("old"), [samples_of("cold", latencies(400, seed=1)),
                                  samples_of("warm", latencies(400, median=2, seed=2)),
                                  samples_of("restore", latencies(20, median=20, seed=3))])
    new = write_run(Path("new"), [samples_of("cold", latencies(400, seed=4, scale=3.0)),
                                  samples_of("warm", latencies(400, median=2, seed=5))])
    return old, new


def check_comparison_output(output: str, old: Path, new: Path) -> None:
    assert f"{old} → {new}" in output, output
    lines = output.splitlines()
    cold = next(line for line in lines if " cold " in line)
    warm = next(line for line in lines if " warm " in line)
    restore = next(line for line in lines if " restore " in line)
    assert cold.count("slower") == 3 and "noise" not in cold, cold
    assert warm.count("≈ noise") == 3, warm
    assert "only in the old report" in restore, restore
    assert "≈ noise: the 95 % bootstrap intervals" in output


def test_cli_compares_two_run_folders(two_runs: tuple[Path, Path]) -> None:
    old, new = two_runs
    result = CliRunner().invoke(main, ["report", "--compare", str(old), str(new)])
    assert result.exit_code == 0, result.output
    check_comparison_output(result.output, old, new)
    # Nothing is written by a comparison.
    assert sorted(p.name for p in old.iterdir()) == [runfile.SAMPLES_FILE]


def test_cli_compares_samples_json_files(two_runs: tuple[Path, Path]) -> None:
    old, new = (run / runfile.SAMPLES_FILE for run in two_runs)
    result = CliRunner().invoke(main, ["report", "--compare", str(old), str(new)])
    assert result.exit_code == 0, result.output
    check_comparison_output(result.output, old, new)


def test_cli_compares_report_json_files(two_runs: tuple[Path, Path]) -> None:
    reports = []
    for run in two_runs:
        made = CliRunner().invoke(main, ["report", str(run), "--json"])
        assert made.exit_code == 0, made.output
        path = run / "report.json"
        path.write_text(made.stdout)
        reports.append(path)
    result = CliRunner().invoke(main, ["report", "--compare", str(reports[0]), str(reports[1])])
    assert result.exit_code == 0, result.output
    check_comparison_output(result.output, reports[0], reports[1])


def test_cli_compares_a_run_folder_with_a_report_json(two_runs: tuple[Path, Path]) -> None:
    old, new = two_runs
    made = CliRunner().invoke(main, ["report", str(new), "--json"])
    (new / "report.json").write_text(made.stdout)
    result = CliRunner().invoke(main, ["report", "--compare", str(old), str(new / "report.json")])
    assert result.exit_code == 0, result.output
    check_comparison_output(result.output, old, new / "report.json")


def test_cli_compare_as_json(two_runs: tuple[Path, Path]) -> None:
    old, new = two_runs
    result = CliRunner().invoke(main, ["report", "--compare", str(old), str(new), "--json"])
    assert result.exit_code == 0, result.output
    rows = rows_by_path(json.loads(result.stdout))
    assert set(rows) == {"cold", "warm", "restore"}
    assert all(not f["within_noise"] and f["ratio"] == pytest.approx(3, rel=0.2)
               for f in rows["cold"]["figures"].values())
    assert all(f["within_noise"] for f in rows["warm"]["figures"].values())
    assert rows["restore"]["note"] == "only in the old report"


def test_cli_compare_refuses_a_missing_run(two_runs: tuple[Path, Path]) -> None:
    old, _ = two_runs
    result = CliRunner().invoke(main, ["report", "--compare", str(old), "nowhere"])
    assert result.exit_code == 1, result.output
    assert "error: nowhere does not exist; name a folder made by `whiskrun bench`." in result.stderr


def test_cli_compare_refuses_a_json_file_that_is_not_a_report(two_runs: tuple[Path, Path]) -> None:
    old, _ = two_runs
    Path("other.json").write_text(json.dumps({"not": "a report"}))
    result = CliRunner().invoke(main, ["report", "--compare", str(old), "other.json"])
    assert result.exit_code == 1, result.output
    assert "error: other.json is not a report.json written by `whiskrun report`." in result.stderr
