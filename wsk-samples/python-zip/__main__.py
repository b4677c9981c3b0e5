"""A zipped Python action that needs a package from PyPI (humanize).

OpenWhisk's Python runtime runs `main` from `__main__.py` at the top of the
zip, and the action's folder is on sys.path, so packages installed next to
this file (by build.sh, with `pip install --target`) import as usual.

    ./build.sh
    wsk action update python-zip ../build/python-zip.zip --kind python:3.11
    wsk action invoke python-zip -r -p name World -p bytes 1500000
"""

import humanize


def main(args):
    name = args.get("name", "stranger")
    size = int(args.get("bytes", 1_500_000))
    return {
        "greeting": f"Hello {name}!",
        "size": humanize.naturalsize(size),  # 1500000 -> "1.5 MB"
        "words": humanize.intword(size),  # 1500000 -> "1.5 million"
        "humanize": humanize.__version__,  # shows which copy was imported
    }
