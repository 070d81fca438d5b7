#!/usr/bin/env bash
# Builds the worker and its tests against PyTorch 2.6's C++ library in a
# Debian 13 (trixie) root (scripts/trixie-root.sh, made once per machine)
# and runs worker_test there: the worker keeps building and passing on the
# PyTorch 2.x that GPU nodes run, as on Debian 12's 1.13. The build folder
# is kept in the root, so a second run rebuilds only what changed. Needs
# root (sudo is used otherwise).
#
# Exits 90 or 91 when this machine cannot make or enter the root (no
# privilege to mount or chroot, no mirror): scripts/test.sh says so and goes
# on; any other failure is the build's or a test's.
#
# Usage: scripts/check-torch2.sh
# Environment: AVCTL_TRIXIE_ROOT, AVCTL_DEBIAN_MIRROR (scripts/trixie-root.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd -P)"
start=$SECONDS
root="$(scripts/trixie-root.sh)" || exit $?
echo "check-torch2: root ready in $((SECONDS - start)) s: $root"
sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi
jobs="$(nproc)"
build=/var/cache/avctl-torch2-build
# worker_test starts the real avworker and avctl binaries: build them too.
scripts/forget-foreign-build.sh "$root$build" "$src"
"${sudo_cmd[@]}" scripts/in-root.sh "$root" --bind "$src" -- bash -c "
  set -euo pipefail
  cmake -S '$src' -B $build -DCMAKE_BUILD_TYPE=Release > $build.configure.log 2>&1 || { cat $build.configure.log; exit 1; }
  grep -m1 'Found Torch\|libtorch' $build.configure.log || true
  cmake --build $build -j$jobs --target worker_test avworker avctl
  $build/bin/avworker info
  cd $build && ctest -L worker --output-on-failure -j$jobs
"
echo "check-torch2: passed in $((SECONDS - start)) s"
