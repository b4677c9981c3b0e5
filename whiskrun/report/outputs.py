"""Every file of a report in one folder: report.json, report.html and the PNGs
(the same bytes the page embeds, for slides and issues)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import charts, html

#: Picture name (as html.PICTURES names them), its file, and what draws it.
PICTURES: tuple[tuple[str, str, Callable[[dict[str, Any]], bytes | None]], ...] = (
    ("latency", "latency.png", charts.latency_distribution),
    ("phases", "phases.png", charts.phase_breakdown),
    ("cdf", "cdf.png", charts.latency_cdf),
)


def write_all(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write the files into ``out_dir`` (made if missing); returns what was written, by
    name. A picture that cannot be drawn (no successful sample) is left out, and the
    page says why."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    written["json"] = _write(out_dir / "report.json", json.dumps(report, indent=2).encode())
    pictures = {name: draw(report) for name, _, draw in PICTURES}
    written["html"] = _write(out_dir / "report.html", html.render(report, pictures).encode())
    for name, filename, _ in PICTURES:
        png = pictures[name]
        if png is not None:
            written[name] = _write(out_dir / filename, png)
        else:  # an older report's picture in the same folder would pass for this one's
            (out_dir / filename).unlink(missing_ok=True)
    return written


def _write(path: Path, data: bytes) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)  # a viewer reloading the page never sees half a file
    return path
