#!/usr/bin/env bash
# Removes a CMake build folder that was configured for another source tree
# (a clone elsewhere on this machine), saying so, so that the next configure
# starts it afresh; leaves any other folder as it is. For the build folders
# kept inside the Debian 13 root (check-torch2, check-cuda-build,
# bench/torch_versions.sh), seen from outside it.
#
# Usage: scripts/forget-foreign-build.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
(( $# == 2 )) || { sed -n '2,8p' "$0"; exit 2; }
build="$1" src="$2"
cache="$build/CMakeCache.txt"
[[ -f $cache ]] || exit 0
grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$cache" && exit 0
echo "$(basename "$0" .sh): $build was configured for $(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache"), not $src; starting it afresh"
if (( EUID != 0 )); then sudo rm -rf "$build"; else rm -rf "$build"; fi
