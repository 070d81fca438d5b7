#!/usr/bin/env bash
# Configures and builds avctl into build/ (Release).
# Usage: scripts/build.sh [--target NAME]... [CMAKE_ARGS...]
#   --target NAME  build only NAME (repeatable; default: every target). The
#                  configuration is the same either way, so a later full
#                  build reuses what a partial one compiled.
# Other arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
cmake_args=()
while (( $# )); do
  case "$1" in
    --target) targets+=(--target "$2"); shift ;;
    *) cmake_args+=("$1") ;;
  esac
  shift
done
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}" > build-configure.log || { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)" "${targets[@]}"
