#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt-get), builds everything, runs every
# test, then a short run of each libFuzzer target (longer runs: scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/fuzz.sh "${AVCTL_FUZZ_SECONDS:-15}"
