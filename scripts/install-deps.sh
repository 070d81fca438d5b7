#!/usr/bin/env bash
# Installs avctl's build and test dependencies from Debian 12 packages.
# Only packages that are missing are installed, so a second run takes a second.
# Usage: scripts/install-deps.sh [--no-torch] [--bench] [--test]
#   --test also installs Debian's chromium, in which a test renders the HTML report headless,
#          Slurm (slurmctld, slurmd, slurm-client) with munge for the one-node Slurm test,
#          and clang with its libFuzzer runtime for the fuzz targets.
#   --bench also installs Debian's python3-torch and python3-optuna, the references of bench/train_bench and bench/dispatch_bench.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev            # ZeroMQ messaging (coordinator <-> workers)
  nlohmann-json3-dev                # JSON manifests, sweep specs, messages
  libsqlite3-dev                    # the coordinator's record
  libboost-dev                      # Asio, Beast, Math (t distribution)
  libboost-program-options-dev      # command-line parsing for avctl/avcoord/avworker
  libfmt-dev                        # formatting and logging
  libgtest-dev                      # unit and integration tests
  libxxhash-dev                     # XXH3 checksums of multi-GB feature files
  libsodium-dev                     # SHA-256 of a command job's script (provenance, the resubmit check)
)
with_torch=1
with_bench=0
with_test=0
for arg in "$@"; do
  case "$arg" in
    --no-torch) with_torch=0 ;;
    --bench) with_bench=1 ;;
    --test) with_test=1 ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
if (( with_test )); then
  packages+=(chromium)                 # headless browser check of the HTML report (tests/web)
  packages+=(slurmctld slurmd slurm-client munge)  # avctl workers slurm against a real one-node Slurm (tests/cluster)
  packages+=(clang libclang-rt-14-dev)  # libFuzzer targets with ASan/UBSan (fuzz/, scripts/fuzz.sh)
  packages+=(python3-torch python3-numpy)  # examples/pytorch, run as a command job (tests/cluster)
fi
if (( with_bench )); then
  packages+=(python3-torch)            # the PyTorch/Python reference of bench/train_bench
  packages+=(python3-optuna)           # the Optuna + SQLite reference of bench/dispatch_bench
fi
if (( with_torch )); then
  packages+=(
    libtorch-dev                    # model and training code in the worker
    libopenblas0-openmp             # fast BLAS for libtorch on CPU (2.5x over reference BLAS)
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} == 0 )); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
