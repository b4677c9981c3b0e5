#!/usr/bin/env bash
# Build the runtime images FROM the local base image, only when their sources
# changed: a hash of the sources is stored as a label on each image.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Order matters: the runtime images build FROM actionproxy-base.
IMAGES=(actionproxy-base action-python-v3.11 action-nodejs-v18 dockerskeleton)

source_hash=$(cd "$ROOT" && find images actionproxy runtimes .dockerignore -type f \
    -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
label() { docker image inspect -f '{{index .Config.Labels "whiskrun.source-hash"}}' "$1" 2>/dev/null || true; }

for name in "${IMAGES[@]}"; do
    image="whiskrun/$name:latest"
    if [ "$(label "$image")" = "$source_hash" ]; then
        echo "    $image is up to date"
        continue
    fi
    echo "    building $image ..."
    log=$(mktemp /tmp/whiskrun-build.XXXXXX)
    if ! DOCKER_BUILDKIT=0 docker build --label "whiskrun.source-hash=$source_hash" \
            -t "$image" -f "$ROOT/images/$name/Dockerfile" "$ROOT" >"$log" 2>&1; then
        tail -n 20 "$log" | sed 's/^/      /' >&2
        echo "building $image failed (full log: $log)." >&2
        exit 1
    fi
    grep -E '^Step [0-9]+/[0-9]+' "$log" | sed 's/^/      /'
    rm -f "$log"
done
