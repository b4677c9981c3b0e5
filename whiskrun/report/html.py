"""The report as one self-contained HTML page: where the samples came from, the
table, the failures with their errors and the pictures, embedded as data: URIs
so that the file can be mailed or archived and still open offline.

A small inline script writes onto <body> whether any script error happened and
how many images loaded (data-errors, data-images, data-images-loaded), so that
a headless browser's dumped DOM proves the page renders (the integration test).
"""

import base64
import math
from html import escape
from typing import Any

from .samples import PHASES

#: The pictures the page shows, in order: name (as in outputs.PICTURES), title, caption.
PICTURES = (
    ("latency", "Latency per start path",
     "One panel per action and runtime. A notched box per start path, then the raw primitives (grey, hatched) "
     "measured in the same run for comparison; log scale. Box: quartiles; notch: median ± 1.58·IQR/√n, so "
     "two paths whose notches do not overlap differ beyond noise; whiskers: 1.5·IQR; dots: samples beyond. "
     "n under each label counts successful samples."),
    ("phases", "Phase medians",
     "The median of each phase of an activation, stacked per start path; the black bar is the median of the "
     "total, so a gap between the stack and it is time no phase accounts for. Medians of parts need not add "
     "up to the median of the whole. Hatched bars are raw primitives: their phases add the steps that follow "
     "the primitive (e.g. /init and /run after docker run)."),
    ("cdf", "Cumulative distribution",
     "For each start path, the fraction of samples at or below each latency (log scale); dashed lines are "
     "raw primitives. Dotted lines mark p50, p95 and p99: where a curve crosses them is that percentile."),
)

#: Records script errors from the first line on, and after load whether each image decoded.
_PROBE = """<script>
window.__reportErrors = [];
window.onerror = function (message, source, line) {
  window.__reportErrors.push(String(message) + " (line " + line + ")");
  if (document.body) { document.body.setAttribute("data-errors", String(window.__reportErrors.length)); }
};
window.addEventListener("load", function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
  }
  var body = document.body;
  body.setAttribute("data-images", String(images.length));
  body.setAttribute("data-images-loaded", String(loaded));
  body.setAttribute("data-errors", String(window.__reportErrors.length));
  body.setAttribute("data-error-messages", window.__reportErrors.join(" | "));
  body.setAttribute("data-checked", "load");
});
</script>"""

_STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
td.phases { text-align: left; white-space: normal; }
tr.primitive td { color: #555; font-style: italic; }
tr.first td { border-top: 2px solid #999; }
td.failed { color: #b2182b; font-weight: bold; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
figure { margin: 2em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { max-width: 70em; color: #444; }
.missing { color: #b2182b; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: 0.4em; margin: 0.2em 0; }
</style>"""

#: Source fields shown first, under these names; any other field follows under its own key.
_SOURCE_LABELS = {"command": "command", "when": "when", "machine": "machine", "kind": "samples from",
                  "run": "run folder", "apihost": "API host", "activations": "activation records read",
                  "without_start_path": "records without a start path (left out)", "aborted": "aborted"}


def render(report: dict[str, Any], pictures: dict[str, bytes | None]) -> str:
    """The page; ``pictures`` maps each name of PICTURES to PNG bytes, or None when the
    picture could not be drawn (then the page says why)."""
    totals = report.get("totals", {})
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>whiskrun start-path report: {escape(str((report.get('source') or {}).get('command', '')))}</title>",
        _STYLE, _PROBE, "</head>", "<body>",
        "<h1>whiskrun start-path report</h1>",
        f"<p>{totals.get('samples', 0)} samples, {totals.get('failures', 0)} failed. Times in milliseconds, "
        "as the caller sees them (from the request reaching the invoker to its result).</p>",
        _source(report.get("source") or {}), _table(report), _goals(report), _failures(report),
        '<section id="pictures"><h2>Pictures</h2>',
        *(_picture(name, title, caption, pictures.get(name), totals) for name, title, caption in PICTURES),
        "</section>", "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _source(source: dict[str, Any]) -> str:
    keys = [k for k in _SOURCE_LABELS if k in source] + [k for k in source if k not in _SOURCE_LABELS]
    rows = "".join(f"<dt>{escape(_SOURCE_LABELS.get(k, k))}</dt><dd>{escape(_text(source[k]))}</dd>" for k in keys)
    return f'<section id="source"><h2>Where these samples come from</h2><dl>{rows}</dl></section>'


def _table(report: dict[str, Any]) -> str:
    head = ("<tr><th class='text'>action</th><th class='text'>runtime</th><th class='text'>path</th>"
            "<th>samples</th><th>failed</th><th>p50</th><th title='half-width of the median&#39;s notch'>± noise"
            "</th><th>p95</th><th>p99</th><th>max</th><th>p50 / cold</th><th class='text'>phase medians</th></tr>")
    rows, previous = [], None
    for g in report.get("groups", []):
        key = (g["action"], g["runtime"])
        latency = g["latency_ms"]
        figures = ([_ms(latency[k]) for k in ("p50",)] + [_ms(latency.get("noise_p50", math.inf))]
                   + [_ms(latency[k]) for k in ("p95", "p99", "max")]) if latency.get("n") else ["-"] * 5
        ratio = g.get("ratio_to_cold")
        phases = ", ".join(f"{name} {g['phases_p50_ms'][name]:.1f}" for name in PHASES
                           if name in g["phases_p50_ms"])
        classes = " ".join(c for c, on in (("primitive", g["primitive"]), ("first", key != previous)) if on)
        cells = [f"<td class='text'>{escape(g['action'])}</td>", f"<td class='text'>{escape(g['runtime'])}</td>",
                 f"<td class='text'>{escape(g['path'])}</td>", f"<td>{g['count']}</td>",
                 f"<td class='{'failed' if g['failures'] else ''}'>{g['failures']}</td>",
                 *(f"<td>{escape(f)}</td>" for f in figures),
                 f"<td>{'-' if ratio is None else f'{ratio:.3f}'}</td>",
                 f"<td class='phases'>{escape(phases)}</td>"]
        rows.append(f"<tr class='{classes}'>{''.join(cells)}</tr>")
        previous = key
    return (f'<section id="table"><h2>Latency per start path (ms)</h2><table>{head}{"".join(rows)}</table>'
            "<p>Percentiles are nearest-rank over successful samples; failed samples are counted, not timed. "
            "Italic rows are raw primitives measured alongside.</p></section>")


def _goals(report: dict[str, Any]) -> str:
    goals = report.get("goals") or []
    if not goals:
        return ""
    rows = "".join(f"<tr><td class='text'>{escape(g['action'])}</td><td class='text'>{escape(g['goal'])}</td>"
                   f"<td>{g['value']:.3f}</td><td>{g['target']:g}</td>"
                   f"<td class='text{'' if g['met'] else ' failed'}'>{'met' if g['met'] else 'missed'}</td></tr>"
                   for g in goals)
    return ('<section id="goals"><h2>Goals</h2><table><tr><th class="text">action</th><th class="text">goal</th>'
            f'<th>figure</th><th>target</th><th class="text"></th></tr>{rows}</table></section>')


def _failures(report: dict[str, Any]) -> str:
    failed = [g for g in report.get("groups", []) if g["failures"]]
    if not failed:
        return '<section id="failures"><h2>Failures</h2><p>No sample failed.</p></section>'
    items = []
    for g in failed:
        errors = "".join(f"<pre>{escape(error or '(no error text)')}</pre>" for error in g["failure_samples"])
        items.append(f"<li><b>{escape(g['action'])} ({escape(g['runtime'])}), {escape(g['path'])}</b>: "
                     f"{g['failures']} of {g['count']} failed. Distinct errors (at most five shown):{errors}</li>")
    return f'<section id="failures"><h2>Failures</h2><ul>{"".join(items)}</ul></section>'


def _picture(name: str, title: str, caption: str, png: bytes | None, totals: dict[str, Any]) -> str:
    if png is None:
        why = (f"No sample of this report succeeded ({totals.get('failures', 0)} of {totals.get('samples', 0)} "
               "failed), so there is nothing to draw; the failures above say why.")
        return (f'<div id="picture-{name}"><h3>{escape(title)}</h3>'
                f'<p class="missing">Not drawn. {escape(why)}</p></div>')
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="picture-{name}"><h3>{escape(title)}</h3>'
            f'<img src="data:image/png;base64,{data}" alt="{escape(title)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _ms(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "n < 2"


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)
