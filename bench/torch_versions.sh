#!/usr/bin/env bash
# The worker's training throughput against the same network in PyTorch
# (bench/ladder_av_torch.py), on PyTorch 1.13 (Debian 12: this machine's
# build/ and /usr/bin/python3) and PyTorch 2.6 (Debian 13: the root of
# scripts/trixie-root.sh --bench, eager and torch.compile'd), one after the
# other on the same CPU, store, batches and thread count: bench/train_bench
# twice, once per side, each printing the worker's ratio to its own
# PyTorch. Needs build/bin/train_bench (scripts/build.sh) and root (sudo
# otherwise) for the Debian 13 side, whose train_bench is built in the
# folder scripts/check-torch2.sh keeps in the root.
#
# Usage: bench/torch_versions.sh STORE [train_bench options...]
#   e.g. bench/torch_versions.sh /tmp/store --repeats 3 --batches 4 --threads 2
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd -P)"
(( $# >= 1 )) || { sed -n '2,14p' "$0"; exit 2; }
store="$(realpath "$1")"
shift
opts=(--variants ladder_av,backbone --python-backbone "$@")
sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi

echo "## PyTorch 1.13 (Debian 12), $(date -u +%FT%TZ), $(git rev-parse --short HEAD)"
build/bin/train_bench --store "$store" "${opts[@]}"

root="$(scripts/trixie-root.sh --bench)"
build=/var/cache/avctl-torch2-build
echo
echo "## PyTorch 2.6 (Debian 13 root), $(date -u +%FT%TZ)"
scripts/forget-foreign-build.sh "$root$build" "$src"
"${sudo_cmd[@]}" scripts/in-root.sh "$root" --bind "$src" --bind "$store" -- bash -c "
  set -euo pipefail
  cmake -S '$src' -B $build -DCMAKE_BUILD_TYPE=Release > $build.configure.log 2>&1 || { cat $build.configure.log; exit 1; }
  cmake --build $build -j\$(nproc) --target train_bench > $build.bench-build.log 2>&1 || { tail -30 $build.bench-build.log; exit 1; }
  $build/bin/train_bench --store '$store' ${opts[*]} --python-compile
"
