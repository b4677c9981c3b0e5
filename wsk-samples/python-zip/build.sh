#!/usr/bin/env bash
# Builds ../build/python-zip.zip: __main__.py plus the packages named in
# requirements.txt, installed beside it. The action's container has no
# network, so every dependency has to travel inside the zip.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$here/../build/python-zip.zip")

# Any Python 3 with pip will do (it only downloads and unpacks wheels); the
# project's virtualenv is the usual one on this machine.
python=${PYTHON:-}
if [[ -z $python ]]; then
  for candidate in "$here/../../.venv/bin/python" python3; do
    if "$candidate" -m pip --version >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
if [[ -z $python ]]; then
  echo "build.sh: no Python with pip found; install python3-pip or set PYTHON=/path/to/python3" >&2
  exit 1
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# Wheels for the image's Python (3.11), whichever Python runs pip here; pip
# insists on --only-binary when it resolves for another Python version.
PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check --no-compile \
  --target "$staging" --python-version 3.11 --only-binary=:all: \
  -r "$here/requirements.txt"
cp "$here/__main__.py" "$staging/"

# Python's own zipfile, so that the `zip` program is not needed; the names
# are relative, with __main__.py at the top as the runtime expects.
mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$staging" && "$python" -m zipfile -c "$out" ./*)
echo "built $out ($(wc -c <"$out") bytes)"
