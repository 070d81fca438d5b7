#!/usr/bin/env bash
# Configures and builds avctl into build/ (Release). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" > build-configure.log || { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)"
