#!/usr/bin/env bash
# What the tests need beyond `make setup` (idempotent, root, Debian 12):
# Debian's chromium, to check that the HTML report opens headless and shows its
# pictures, and Node.js with npm for the npm `openwhisk` client's end-to-end
# tests (the client itself is installed by the tests with `npm ci`, pinned by
# tests/e2e/client/package-lock.json).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
    echo "==> Test tools: chromium, node and npm present"
    exit 0
fi
echo "==> Test tools: installing ${missing[*]} from Debian"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/var/log/whiskrun-test-tools.log 2>&1; then
    apt-get update -q >>/var/log/whiskrun-test-tools.log 2>&1 || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>/var/log/whiskrun-test-tools.log 2>&1 || {
        echo "whiskrun: apt-get could not install ${missing[*]} (log: /var/log/whiskrun-test-tools.log);" \
             "check the network to Debian's registry, then run make test again." >&2
        exit 1
    }
fi
