"""The report's pictures, HTML page and files, from synthetic samples through
the real model (no Docker): every start path for three runtimes, the raw
primitives, a path whose samples all failed, and reports with nothing to draw."""

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from matplotlib.image import imread

from tests.report_data import SOURCE, eight_pair_report, failed_report, full_report, synthetic_samples
from whiskrun.report import charts, html, model, outputs
from whiskrun.report.samples import Sample

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode(png: bytes) -> Any:
    assert png.startswith(PNG_SIGNATURE)
    return imread(io.BytesIO(png), format="png")


DRAWERS = [charts.latency_distribution, charts.phase_breakdown, charts.latency_cdf]


@pytest.mark.parametrize("draw", DRAWERS)
@pytest.mark.parametrize("build", [full_report, eight_pair_report], ids=["3-pairs", "8-pairs"])
def test_pictures_are_pngs_of_a_sane_size(draw, build) -> None:
    image = decode(draw(build()))
    height, width = image.shape[:2]
    assert 400 <= width <= 4000 and 300 <= height <= 4000
    assert image.std() > 0.05, "the picture is a blank canvas"


@pytest.mark.parametrize("draw", DRAWERS)
def test_one_pair_gets_one_panel(draw) -> None:
    samples = [s for s in synthetic_samples() if s.action == "python echo"]
    one = decode(draw(model.build(samples, SOURCE)))
    three = decode(draw(full_report()))
    assert one.shape[1] < three.shape[1] and one.shape[0] < three.shape[0], "one panel, not a 2 x 2 grid"


@pytest.mark.parametrize("draw", DRAWERS)
def test_a_zero_latency_sample_does_not_break_log_scales(draw) -> None:
    samples = [Sample("tiny", "python:3.11", "warm", value, phases={"run": value}) for value in (0.0, 0.5, 1.0)]
    decode(draw(model.build(samples, SOURCE)))


def test_a_single_sample_has_no_notch_and_no_noise_figure() -> None:
    report = model.build([Sample("once", "python:3.11", "cold", 450.0, phases={"init": 40.0})], SOURCE)
    for draw in DRAWERS:
        decode(draw(report))
    assert "<td>n &lt; 2</td>" in html.render(report, {}), "the noise of one sample is unknown, not infinite"


def test_short_phase_bars_move_to_zoomed_axes() -> None:
    groups = [g for g in full_report()["groups"] if g["action"] == "python echo"]
    tiers = [[g["path"] for g in tier] for tier in charts._tiers(
        [g for g in groups if not g["primitive"] or g["phases_p50_ms"]])]
    # raw runc resume counts its resume phase beside its /run, which puts it with unpause.
    assert tiers == [["cold", "restore", "raw CRIU restore", "raw docker run"],
                     ["prewarm", "unpause", "raw runc resume"], ["warm"]]


def test_the_grid_follows_the_number_of_pairs() -> None:
    assert [charts._grid(n) for n in (1, 2, 3, 4, 5, 8, 9)] == [(1, 1), (1, 2), (2, 2), (2, 2), (2, 3), (3, 3),
                                                               (3, 3)]


@pytest.mark.parametrize("draw", DRAWERS)
def test_no_successful_sample_gives_no_picture(draw) -> None:
    assert draw(failed_report()) is None
    assert draw(model.build([], SOURCE)) is None


@pytest.mark.parametrize("draw", DRAWERS)
def test_a_pair_with_only_failures_is_drawn_as_a_note(draw) -> None:
    samples = synthetic_samples() + [Sample("broken", "python:3.11", "cold", None, success=False, error="x")]
    assert decode(draw(model.build(samples, SOURCE))).shape[0] > 0


def test_the_page_shows_every_group_and_escapes_errors() -> None:
    report = full_report()
    pictures = {name: draw(report) for name, _, draw in outputs.PICTURES}
    page = html.render(report, pictures)
    for group in report["groups"]:
        assert f"<td class='text'>{group['path']}</td>" in page
        assert group["action"] in page
    for source_value in SOURCE.values():
        assert source_value in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; CRIU restore failed &amp; gave up" in page
    assert "ContainerStartupError: no listening proxy after 10 s" in page
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3
    assert page.count("<img") == 3
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page), "the page must not fetch anything"
    assert "http://" not in page and "https://" not in page
    assert "window.onerror" in page and "data-images-loaded" in page


def test_the_page_says_why_a_picture_is_missing() -> None:
    report = failed_report()
    page = html.render(report, {name: draw(report) for name, _, draw in outputs.PICTURES})
    assert "<img" not in page
    assert page.count("Not drawn. No sample of this report succeeded (2 of 2 failed)") == 3
    assert "boom" in page


def test_write_all_writes_every_file(tmp_path: Path) -> None:
    report = full_report()
    out = tmp_path / "made" / "here"
    written = outputs.write_all(report, out)
    assert set(written) == {"json", "html", "latency", "phases", "cdf"}
    assert sorted(p.name for p in out.iterdir()) == ["cdf.png", "latency.png", "phases.png", "report.html",
                                                      "report.json"]
    assert json.loads((out / "report.json").read_text())["groups"] == json.loads(json.dumps(report))["groups"]
    for name in ("latency", "phases", "cdf"):
        decode(written[name].read_bytes())
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 3


def test_write_all_skips_and_removes_pictures_it_cannot_draw(tmp_path: Path) -> None:
    outputs.write_all(full_report(), tmp_path)
    written = outputs.write_all(failed_report(), tmp_path)
    assert set(written) == {"json", "html"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.json"]
