#!/usr/bin/env bash
# Makes, once per machine, a Debian 13 (trixie) root with PyTorch 2.6's C++
# library (libtorch-dev 2.6) and avctl's other build dependencies, with
# debootstrap from Debian's mirror; prints its path. A later run with the
# same package list reuses it (a second); a changed list installs what is new.
# Needs root (sudo is used otherwise). Exits 91 when the root cannot be
# made here (debootstrap or the mirror failed), 90 when it cannot be entered.
#
# Usage: scripts/trixie-root.sh [--bench]
#   --bench  also Python's torch 2.6 and NumPy (bench/ladder_av_torch.py), with what
#            torch.compile needs on CPU (setuptools, Python's headers)
# Environment:
#   AVCTL_TRIXIE_ROOT    where (default ${XDG_CACHE_HOME:-$HOME/.cache}/avctl/trixie-root)
#   AVCTL_DEBIAN_MIRROR  default http://deb.debian.org/debian
set -euo pipefail
cd "$(dirname "$0")/.."
root="${AVCTL_TRIXIE_ROOT:-${XDG_CACHE_HOME:-${HOME:-/var/cache}/.cache}/avctl/trixie-root}"
mirror="${AVCTL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev nlohmann-json3-dev libsqlite3-dev
  libboost-dev libboost-program-options-dev libfmt-dev libgtest-dev
  libxxhash-dev libsodium-dev
  libtorch-dev libopenblas0-openmp  # PyTorch 2.6's C++ library, CPU
  python3                           # tests/worker's Python helper tests
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch python3-numpy python3-setuptools python3-dev) ;;  # torch.compile (Inductor) builds C++ with setuptools and Python.h
    *) echo "trixie-root: unknown option $arg" >&2; exit 2 ;;
  esac
done

stamp="$root/.avctl-packages"
want="$(printf '%s\n' "${packages[@]}" | sort -u)"
if [[ -f "$stamp" ]] && [[ -z "$(comm -13 "$stamp" <(echo "$want"))" ]]; then
  echo "$root"
  exit 0
fi

sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
if [[ ! -x "$root/usr/bin/apt-get" ]]; then
  if ! command -v debootstrap > /dev/null; then
    { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y --no-install-recommends debootstrap >&2; } ||
      { echo "trixie-root: cannot install debootstrap" >&2; exit 91; }
  fi
  "${sudo_cmd[@]}" rm -rf "$root.partial"
  mkdir -p "$(dirname "$root")" || exit 91
  echo "trixie-root: debootstrap into $root (minbase, from $mirror)" >&2
  "${sudo_cmd[@]}" debootstrap --variant=minbase trixie "$root.partial" "$mirror" >&2 ||
    { echo "trixie-root: debootstrap from $mirror failed" >&2; exit 91; }
  "${sudo_cmd[@]}" mv "$root.partial" "$root"
fi
"${sudo_cmd[@]}" cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "trixie-root: installing ${packages[*]}" >&2
status=0
"${sudo_cmd[@]}" scripts/in-root.sh "$root" -- bash -c \
  "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages[*]} > /dev/null" || status=$?
if (( status == 90 )); then exit 90; fi
if (( status != 0 )); then echo "trixie-root: installing the packages failed ($status)" >&2; exit 91; fi
echo "$want" | "${sudo_cmd[@]}" tee "$stamp" > /dev/null
echo "$root"
