"""The report's figures on data whose answers are known: percentiles, summaries,
the median's noise, ratios to cold, phase medians, failures, grouping; and
samples read from activation records shaped as whiskrun's API returns them."""

import math
import random

import numpy
import pytest

from whiskrun.report import model
from whiskrun.report.samples import PHASES, START_PATHS, Sample, from_activation
from whiskrun.report.stats import percentile, summary

ONE_TO_HUNDRED = [float(v) for v in range(1, 101)]
SOURCE = {"kind": "bench", "command": "test"}


def ok(path: str, values: list[float], *, action: str = "python echo", runtime: str = "python:3.11",
       phases: dict[str, float] | None = None) -> list[Sample]:
    return [Sample(action, runtime, path, v, phases=dict(phases or {"run": v / 2})) for v in values]


def failed(path: str, errors: list[str], *, action: str = "python echo", runtime: str = "python:3.11",
           total_ms: float | None = None) -> list[Sample]:
    return [Sample(action, runtime, path, total_ms, phases={"run": 1e6}, success=False, error=e) for e in errors]


def groups_by_path(report: dict) -> dict[str, dict]:
    return {g["path"]: g for g in report["groups"]}


# -- stats ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, 1.0), (0.25, 26.0), (0.50, 51.0), (0.75, 75.0),
                                                    (0.95, 95.0), (0.99, 99.0), (1.0, 100.0)])
def test_percentile_of_one_to_a_hundred(fraction: float, expected: float) -> None:
    # The sample at index round(fraction * (n - 1)), Python's round (half to even): p50 of 1..100 is
    # the 51st sample (round(49.5) = 50). The textbook nearest rank, ceil(fraction * n), would give 50.
    assert percentile(ONE_TO_HUNDRED, fraction) == expected
    assert percentile(list(reversed(ONE_TO_HUNDRED)), fraction) == expected, "order of input does not matter"


def test_percentile_is_numpys_nearest_method_and_always_a_measured_sample() -> None:
    rng = random.Random(5)
    for _ in range(300):
        values = [rng.lognormvariate(0, 1) for _ in range(rng.randint(1, 60))]
        fraction = rng.choice([0.25, 0.5, 0.75, 0.95, 0.99])
        figure = percentile(values, fraction)
        assert figure in values
        assert figure == numpy.percentile(values, fraction * 100, method="nearest")


def test_percentile_of_one_sample_and_of_none() -> None:
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summary_fields() -> None:
    assert summary(ONE_TO_HUNDRED) == {"n": 100, "p50": 51.0, "p95": 95.0, "p99": 99.0, "max": 100.0,
                                       "mean": 50.5}
    assert summary([]) == {"n": 0}


def test_median_noise_is_mcgills_notch_half_width() -> None:
    # 1.58 * IQR / sqrt(n), IQR from the same percentiles: p75 75, p25 26.
    assert model.median_noise(ONE_TO_HUNDRED) == pytest.approx(1.58 * (75 - 26) / 10)
    assert model.median_noise([3.0, 3.0, 3.0, 3.0]) == 0.0
    assert model.median_noise([3.0]) == math.inf


# -- build ---------------------------------------------------------------------------------------------------


def test_a_group_has_every_summary_field() -> None:
    report = model.build(ok("warm", ONE_TO_HUNDRED), SOURCE)
    (group,) = report["groups"]
    assert group["latency_ms"] == {"n": 100, "p50": 51.0, "p95": 95.0, "p99": 99.0, "max": 100.0, "mean": 50.5,
                                   "noise_p50": pytest.approx(1.58 * 49 / 10)}
    assert (group["action"], group["runtime"], group["path"], group["primitive"]) == \
        ("python echo", "python:3.11", "warm", False)
    assert group["count"] == 100 and group["failures"] == 0 and group["failure_samples"] == []
    assert group["samples_ms"] == ONE_TO_HUNDRED
    assert report["totals"] == {"samples": 100, "failures": 0}
    assert report["source"] == SOURCE


def test_ratio_to_cold() -> None:
    samples = (ok("cold", [400.0, 500.0, 600.0]) + ok("warm", [4.0, 5.0, 6.0]) + ok("restore", [50.0])
               + ok("raw direct /run", [2.0]))
    by_path = groups_by_path(model.build(samples, SOURCE))
    assert by_path["cold"]["ratio_to_cold"] == 1.0
    assert by_path["warm"]["ratio_to_cold"] == pytest.approx(0.01)
    assert by_path["restore"]["ratio_to_cold"] == pytest.approx(0.1)
    assert by_path["raw direct /run"]["ratio_to_cold"] is None, "primitives are not start paths"


def test_no_ratio_without_a_successful_cold_start() -> None:
    no_cold = groups_by_path(model.build(ok("warm", [5.0]), SOURCE))
    assert no_cold["warm"]["ratio_to_cold"] is None
    cold_failed = groups_by_path(model.build(failed("cold", ["boom"]) + ok("warm", [5.0]), SOURCE))
    assert cold_failed["warm"]["ratio_to_cold"] is None and cold_failed["cold"]["ratio_to_cold"] is None


def test_ratio_is_per_action_and_runtime() -> None:
    samples = (ok("cold", [100.0]) + ok("warm", [10.0]) + ok("cold", [1000.0], runtime="nodejs:18")
               + ok("warm", [10.0], runtime="nodejs:18"))
    ratios = {(g["runtime"], g["path"]): g["ratio_to_cold"] for g in model.build(samples, SOURCE)["groups"]}
    assert ratios[("python:3.11", "warm")] == pytest.approx(0.1)
    assert ratios[("nodejs:18", "warm")] == pytest.approx(0.01)


def test_phase_medians_in_phase_order_from_successes_only() -> None:
    samples = [Sample("a", "k", "cold", 10.0 * i, phases={"run": float(i), "init": 2.0 * i, "queue": 0.1})
               for i in range(1, 6)]
    samples += failed("cold", ["boom"], action="a", runtime="k")  # its phase (1e6 ms) must not count
    samples.append(Sample("a", "k", "cold", 60.0, phases={"create": 7.0}))  # a phase only some samples have
    (group,) = model.build(samples, SOURCE)["groups"]
    assert group["phases_p50_ms"] == {"queue": 0.1, "create": 7.0, "init": 6.0, "run": 3.0}
    assert list(group["phases_p50_ms"]) == [p for p in PHASES if p in group["phases_p50_ms"]]


def test_every_recorded_phase_is_kept_and_unknown_ones_are_left_out() -> None:
    # The invoker records "wait" and "hook", the runc primitive "resume": all in PHASES.
    samples = [Sample("a", "k", "raw runc resume", 9.0, phases={"resume": 9.0, "run": 2.0, "bogus": 1.0}),
               Sample("a", "k", "restore", 300.0, phases={"restore": 250.0, "hook": 3.0, "run": 1.0})]
    groups = {g["path"]: g for g in model.build(samples, SOURCE)["groups"]}
    assert groups["raw runc resume"]["phases_p50_ms"] == {"resume": 9.0, "run": 2.0}
    assert groups["restore"]["phases_p50_ms"] == {"restore": 250.0, "hook": 3.0, "run": 1.0}


def test_failures_are_counted_listed_and_not_timed() -> None:
    errors = [f"error {i % 7}" for i in range(12)]
    samples = ok("cold", [100.0, 200.0, 300.0]) + failed("cold", errors, total_ms=99999.0)
    report = model.build(samples, SOURCE)
    (group,) = report["groups"]
    assert group["count"] == 15 and group["failures"] == 12
    assert group["latency_ms"]["n"] == 3 and group["latency_ms"]["max"] == 300.0
    assert group["samples_ms"] == [100.0, 200.0, 300.0]
    assert group["failure_samples"] == ["error 0", "error 1", "error 2", "error 3", "error 4"], \
        "distinct, sorted, at most five"
    assert report["totals"] == {"samples": 15, "failures": 12}


def test_a_group_with_only_failures() -> None:
    (group,) = model.build(failed("restore", ["CRIU: dump failed"]), SOURCE)["groups"]
    assert group["latency_ms"] == {"n": 0}
    assert group["samples_ms"] == [] and group["phases_p50_ms"] == {} and group["ratio_to_cold"] is None
    assert group["failure_samples"] == ["CRIU: dump failed"]


def test_grouping_and_order() -> None:
    rng = random.Random(1)
    samples = [s for action in ("b action", "a action") for runtime in ("python:3.11", "nodejs:18")
               for path in ("raw runc resume", *START_PATHS, "raw docker run")
               for s in ok(path, [rng.uniform(1, 100)], action=action, runtime=runtime)]
    rng.shuffle(samples)
    report = model.build(samples, SOURCE)
    keys = [(g["action"], g["runtime"], g["path"]) for g in report["groups"]]
    paths = [*START_PATHS, "raw docker run", "raw runc resume"]
    assert keys == [(a, r, p) for a in ("a action", "b action") for r in ("nodejs:18", "python:3.11")
                    for p in paths]
    assert [g["primitive"] for g in report["groups"][:7]] == [False] * 5 + [True] * 2


def test_an_empty_report() -> None:
    report = model.build([], SOURCE)
    assert report["groups"] == [] and report["totals"] == {"samples": 0, "failures": 0}


# -- from_activation -----------------------------------------------------------------------------------------
# Records as whiskrun's API returns them (Activation.to_json; api/activator.py for sequences).


def record(*, annotations: list[tuple[str, object]], duration: int, response: dict, name: str = "hello") -> dict:
    return {"activationId": "6f1c2a9e0b7d4c3a9e0b7d4c3a9e0b7d", "namespace": "guest", "name": name,
            "version": "0.0.1", "subject": "guest", "start": 1735787040000, "end": 1735787040000 + duration,
            "duration": duration, "response": response, "logs": [], "publish": False,
            "annotations": [{"key": k, "value": v} for k, v in annotations]}


SUCCESS = {"status": "success", "statusCode": 0, "success": True, "result": {"greeting": "Hello World!"}}
LIMITS = {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}


def test_a_cold_record() -> None:
    cold = record(duration=57, response=SUCCESS, annotations=[
        ("path", "guest/hello"), ("kind", "python:3.11"), ("limits", LIMITS), ("timeout", False),
        ("initTime", 41), ("waitTime", 388), ("startPath", "cold"), ("startReason", "no warm container"),
        ("phases", {"queue": 0.21, "create": 121.5, "start": 266.1, "init": 40.8, "run": 15.2, "logs": 1.1})])
    sample = from_activation(cold)
    assert sample == Sample(action="guest/hello", runtime="python:3.11", path="cold", total_ms=388 + 57,
                            phases={"queue": 0.21, "create": 121.5, "start": 266.1, "init": 40.8, "run": 15.2,
                                    "logs": 1.1})


def test_a_warm_record() -> None:
    warm = record(duration=3, response=SUCCESS, annotations=[
        ("path", "guest/hello"), ("kind", "python:3.11"), ("limits", LIMITS), ("timeout", False),
        ("waitTime", 0), ("startPath", "warm"), ("startReason", "a warm container of this action"),
        ("phases", {"queue": 0.05, "run": 2.4, "logs": 0.3})])
    sample = from_activation(warm)
    assert sample is not None and sample.success
    assert (sample.path, sample.total_ms, sample.phases["run"]) == ("warm", 3.0, 2.4)


def test_a_failed_record() -> None:
    failure = {"status": "action developer error", "statusCode": 2, "success": False,
               "result": {"error": "The action did not return a dictionary or array."}}
    bad = record(duration=20, response=failure, annotations=[
        ("path", "guest/broken"), ("kind", "nodejs:18"), ("limits", LIMITS), ("timeout", False),
        ("waitTime", 2), ("startPath", "warm"), ("startReason", "a warm container of this action"),
        ("phases", {"queue": 0.1, "run": 18.0, "logs": 0.2})], name="broken")
    sample = from_activation(bad)
    assert sample is not None
    assert (sample.success, sample.total_ms, sample.error) == \
        (False, None, "The action did not return a dictionary or array.")
    report = model.build([sample], SOURCE)
    assert report["groups"][0]["failures"] == 1 and report["groups"][0]["latency_ms"] == {"n": 0}


def test_a_failed_record_without_an_error_text_gives_its_status() -> None:
    bad = record(duration=20, response={"status": "application error", "statusCode": 1, "success": False,
                                        "result": "not a dict"},
                 annotations=[("path", "guest/x"), ("kind", "python:3.11"), ("waitTime", 1),
                              ("startPath", "warm")])
    sample = from_activation(bad)
    assert sample is not None and sample.error == "application error"


def test_records_without_a_start_path_are_not_samples() -> None:
    sequence = record(duration=61, response=SUCCESS, name="words", annotations=[
        ("topmost", True), ("path", "guest/words"), ("waitTime", 0), ("kind", "sequence"), ("limits", LIMITS)])
    refused = record(duration=0, response={"status": "whisk internal error", "statusCode": 3, "success": False,
                                           "result": {"error": "The action was not found."}},
                     annotations=[("path", "guest/hello"), ("kind", "python:3.11"), ("limits", LIMITS)])
    assert from_activation(sequence) is None
    assert from_activation(refused) is None
