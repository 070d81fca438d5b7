#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt-get), builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)"
