#!/usr/bin/env bash
# The one-run GPU check: on a machine with an NVIDIA GPU and PyTorch 2.x,
# builds the worker against PyTorch's CUDA libtorch, runs worker_test (its
# CUDA tests run there; CI skips them), and measures training throughput,
# data wait, GPU busy share, peak GPU memory, packing and the projected wall
# time of sweeps/paper.json (bench/gpu_check.py), writing one Markdown table.
#
# The GPU machine has no package mirror: avctl's other libraries travel as
# Debian 12 .debs, fetched here and unpacked there into a private prefix.
#
#   scripts/gpu-check.sh --fetch-debs DIR      # on Debian 12 with apt: download the .debs (20 packages, about 14 MB)
#   scripts/gpu-check.sh --debs DIR [--out DIR] [--budget-s S] [--device cuda:0] [--jobs N]
#   scripts/gpu-check.sh --cpu-smoke [--out DIR] [--build DIR]
#                                              # the same build and measurement path on a CPU machine
#                                              # with Debian's libtorch (tiny sizes; numbers meaningless)
#
# Environment: PYTHON (default python3, the interpreter holding torch).
# Exits non-zero when a phase fails; the table says which measurements are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

debs_needed=(
  libzmq3-dev libzmq5 cppzmq-dev libsodium23 libsodium-dev libpgm-5.3-0 libnorm1 libbsd0 libmd0
  nlohmann-json3-dev libsqlite3-dev libsqlite3-0
  libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0
  libfmt-dev libfmt9 libgtest-dev libxxhash-dev libxxhash0
)

mode=check debs="" out="$root/build-gpu/check" budget=420 device=cuda:0 jobs="$(nproc)" build=""
while (( $# )); do
  case "$1" in
    --fetch-debs) mode=fetch; debs="$2"; shift ;;
    --debs) debs="$2"; shift ;;
    --out) out="$2"; shift ;;
    --budget-s) budget="$2"; shift ;;
    --device) device="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --build) build="$2"; shift ;;
    --cpu-smoke) mode=smoke ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "gpu-check [$(date -u +%H:%M:%S)] $*" >&2; }

if [[ $mode == fetch ]]; then
  mkdir -p "$debs"
  (cd "$debs" && apt-get download "${debs_needed[@]}")
  du -sh "$debs"
  exit 0
fi

py=${PYTHON:-python3}
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DAVCTL_BUILD_TESTS=ON -DAVCTL_BUILD_BENCH=ON)
if [[ $mode == smoke ]]; then
  # Debian's CPU libtorch and system packages: checks the script, the build
  # targets and bench/gpu_check.py, not CUDA.
  build=${build:-$root/build-gpu-smoke}
  device=cpu
else
  build=${build:-$root/build-gpu}
  command -v nvidia-smi >/dev/null || { echo "gpu-check: no nvidia-smi: not a GPU machine (try --cpu-smoke)" >&2; exit 1; }
  nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version --format=csv,noheader >&2
  torch_prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  abi=$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' >&2
  if [[ $abi != 1 ]]; then
    echo "gpu-check: this PyTorch is built with the pre-C++11 string ABI; Debian's fmt and Boost libraries are not, so they cannot be linked together" >&2
    exit 1
  fi
  prefix=$build/prefix
  if [[ -n $debs ]]; then
    log "unpacking $(ls "$debs"/*.deb | wc -l) .debs into $prefix"
    rm -rf "$prefix"; mkdir -p "$prefix"
    command -v dpkg-deb >/dev/null || { echo "gpu-check: dpkg-deb is needed to unpack the .debs" >&2; exit 1; }
    for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$prefix"; done
    # pkg-config files name /usr; point them at the prefix, and drop the
    # private requirements (static linking only) that were not carried.
    for pc in "$prefix"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc; do
      [[ -f $pc ]] || continue
      sed -i -e "s|^prefix=/usr|prefix=$prefix/usr|" -e "s|=/usr/include|=$prefix/usr/include|" \
             -e "s|=/usr/lib|=$prefix/usr/lib|" -e '/^Requires.private:/d' "$pc"
    done
    export PKG_CONFIG_PATH="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CPATH="$prefix/usr/include${CPATH:+:$CPATH}"
    cmake_args+=("-DCMAKE_PREFIX_PATH=$torch_prefix;$prefix/usr;$prefix/usr/lib/x86_64-linux-gnu/cmake")
  else
    cmake_args+=("-DCMAKE_PREFIX_PATH=$torch_prefix")
  fi
  # Newer libtorch headers may need C++20; try 17 first, as CI builds.
  std=17
  if ! echo '#include <torch/torch.h>' | g++ -std=c++17 -fsyntax-only -x c++ - \
        -I"$torch_prefix/../../include" -I"$torch_prefix/../../include/torch/csrc/api/include" 2>/dev/null; then
    std=20
  fi
  cmake_args+=("-DCMAKE_CXX_STANDARD=$std" "-DCMAKE_CUDA_ARCHITECTURES=native")
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
log "configuring $build (${cmake_args[*]})"
mkdir -p "$build"
[[ -f $build/CMakeCache.txt ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" "$build/CMakeCache.txt" && generator=()
cmake -S "$root" -B "$build" "${generator[@]}" "${cmake_args[@]}" > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
log "building avworker, avctl, worker_test, train_bench with $jobs jobs"
cmake --build "$build" -j "$jobs" --target avworker avctl worker_test train_bench

if [[ $mode == smoke && -f /usr/include/c10/cuda/CUDACachingAllocator.h && -f /usr/local/cuda/include/cuda_runtime_api.h ]]; then
  # The CUDA-only code (AVCTL_CUDA) is not built against a CPU libtorch:
  # compile it for syntax against this libtorch's c10/cuda headers and the
  # CUDA toolkit's (Debian ships c10/cuda without its generated macros file).
  macros_dir=$build/cuda-syntax/include/c10/cuda/impl
  mkdir -p "$macros_dir"
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$macros_dir/cuda_cmake_macros.h"
  log "CUDA-only code: syntax check against $(dpkg-query -W -f='libtorch ${Version}' libtorch-dev 2>/dev/null || echo 'this libtorch')"
  g++ -std=c++17 -fsyntax-only -DAVCTL_CUDA=1 -I"$root" -I"$build/cuda-syntax/include" \
      -I/usr/include/torch/csrc/api/include -I/usr/local/cuda/include "$root/worker/device.cc"
fi

log "worker_test"
(cd "$build" && ./bin/worker_test --gtest_brief=1) || { log "worker_test failed"; exit 1; }

store=$build/store-full
if [[ ! -f $store/manifest.json ]]; then
  log "synthesising the full-profile store"
  if [[ $mode == smoke ]]; then
    "$build/bin/avctl" data synth --profile full --clips-per-actor 12 --out "$store" --force --log-level warn
  else
    "$build/bin/avctl" data synth --profile full --out "$store" --force --log-level warn
  fi
fi

log "measuring (budget ${budget} s)"
smoke=()
[[ $mode == smoke ]] && smoke=(--cpu-smoke)
"$py" "$root/bench/gpu_check.py" --bin "$build/bin" --store "$store" --spec "$root/sweeps/paper.json" \
  --device "$device" --out "$out" --budget-s "$budget" "${smoke[@]}"
