"""The HTML report opens in a real browser: Debian's chromium, headless, dumps
the DOM after load, and the page's own probe script (whiskrun/report/html.py)
has written onto <body> how many script errors happened and how many images
decoded. A corrupt picture and a script error are each shown to be caught, so
that a passing check means something.

Needs no Docker, but lives here because it needs a program beyond Python's:
`make test` installs chromium (scripts/setup-test-tools.sh)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report_data import failed_report, full_report
from whiskrun.report import outputs

PICTURE_FILES = ("latency.png", "phases.png", "cdf.png")


def dump_dom(page: Path, scratch: Path) -> str:
    """The DOM of ``page`` after load, as headless chromium serialises it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: run `make test`, which installs it (scripts/setup-test-tools.sh), "
                    "or `apt-get install chromium`.")
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    # Its own HOME and profile: chromium writes there and must not touch the user's.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    command = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               f"--user-data-dir={home / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"chromium did not finish within {exc.timeout} s on {page}")
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    assert "<body" in done.stdout, f"chromium dumped no DOM; stderr: {done.stderr[-2000:]}"
    return done.stdout


def body_attributes(dom: str) -> dict[str, str]:
    match = re.search(r"<body\b([^>]*)>", dom)
    assert match, "no <body> in the dumped DOM"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))


def problems(dom: str, expected_images: int) -> list[str]:
    """What is wrong with the rendered page, from what its probe script recorded."""
    body = body_attributes(dom)
    if body.get("data-checked") != "load":
        return [f"the probe script never ran after load (body attributes: {body})"]
    found = []
    if body.get("data-errors") != "0":
        found.append(f"{body.get('data-errors')} script error(s): {body.get('data-error-messages')}")
    if body.get("data-images") != str(expected_images):
        found.append(f"{body.get('data-images')} <img> on the page, expected {expected_images}")
    if body.get("data-images-loaded") != body.get("data-images"):
        found.append(f"only {body.get('data-images-loaded')} of {body.get('data-images')} images loaded")
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return outputs.write_all(full_report(), tmp_path_factory.mktemp("report"))


def test_the_page_renders_with_every_picture(written: dict[str, Path], tmp_path: Path) -> None:
    folder = written["html"].parent
    pictures = [name for name in PICTURE_FILES if (folder / name).is_file()]
    assert len(pictures) == 3
    dom = dump_dom(written["html"], tmp_path)
    assert problems(dom, expected_images=len(pictures)) == []
    assert "python echo" in dom and "raw CRIU restore" in dom


def test_a_corrupt_picture_is_caught(written: dict[str, Path], tmp_path: Path) -> None:
    page = written["html"].read_text()
    # Keep the data: URI's shape, break its content: the PNG signature is gone.
    broken = re.sub(r"(data:image/png;base64,)[A-Za-z0-9+/]{40}", r"\1" + "A" * 40, page, count=1)
    assert broken != page
    variant = tmp_path / "broken.html"
    variant.write_text(broken)
    found = problems(dump_dom(variant, tmp_path), expected_images=3)
    assert found == ["only 2 of 3 images loaded"]


def test_a_script_error_is_caught(written: dict[str, Path], tmp_path: Path) -> None:
    page = written["html"].read_text().replace("</body>", "<script>noSuchFunction();</script></body>")
    variant = tmp_path / "error.html"
    variant.write_text(page)
    found = problems(dump_dom(variant, tmp_path), expected_images=3)
    assert len(found) == 1 and found[0].startswith("1 script error(s)") and "noSuchFunction" in found[0]


def test_a_report_without_pictures_says_why(tmp_path: Path) -> None:
    written = outputs.write_all(failed_report(), tmp_path / "report")
    assert set(written) == {"json", "html"}
    dom = dump_dom(written["html"], tmp_path)
    assert problems(dom, expected_images=0) == []
    assert dom.count("Not drawn.") == 3
