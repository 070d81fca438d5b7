#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in build-fuzz/
# and runs each for SECONDS (default 20) from its seed corpus. Exits non-zero
# when a target crashes, leaks or trips a sanitizer; the input that did it is
# kept in build-fuzz/artifacts/ (turn it into a regression test).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: protocol sweep_spec opensmile_csv npy http control label_source
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(protocol sweep_spec opensmile_csv npy http control label_source)
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/install-deps.sh --test)" >&2; exit 1; }

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DAVCTL_FUZZ=ON -DAVCTL_WITH_TORCH=OFF -DAVCTL_BUILD_TESTS=OFF \
  -DAVCTL_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(printf '%s_fuzz ' "${targets[@]}")
mkdir -p build-fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s"
  if ! build-fuzz/bin/${t}_fuzz "$corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/artifacts/"$t"- -print_final_stats=1 2>build-fuzz/"$t".log; then
    echo "fuzz: $t FAILED; its log: build-fuzz/$t.log; the input: build-fuzz/artifacts/$t-*" >&2
    tail -n 40 build-fuzz/"$t".log >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/"$t".log | sed "s/^/fuzz: $t /"
done
exit $status
