#!/usr/bin/env bash
# Compiles the worker with its CUDA code on (AVCTL_CUDA) against Debian 13's
# CUDA build of PyTorch 2.6 (libtorch-cuda-dev, contrib) and CUDA 12.4
# (nvidia-cuda-toolkit, non-free), and links avworker, on a machine without
# a GPU: what gpu-check.sh would build on a GPU node, checked on every change
# to worker/ without one. Running that build stays gpu-check.sh's job.
#
# How: the .debs are downloaded once (apt inside the Debian 13 root of
# scripts/trixie-root.sh, contrib and non-free added in a list of their own)
# and unpacked with dpkg-deb -x into an overlay of that root (the root stays
# as it was: its CPU libtorch is hidden in the overlay only), in which
# avworker is configured with -DAVCTL_REQUIRE_CUDA=ON and built. cuDNN is
# not among them: Debian's nvidia-cudnn is an installer that downloads it
# from NVIDIA, which these machines cannot reach. libtorch_cuda names
# libcudnn.so.9, so avworker is linked with --allow-shlib-undefined and
# cannot start here (the loader asks for cuDNN); the check is the compile
# and the link.
#
# Usage: scripts/check-cuda-build.sh [--jobs N]
# Environment: AVCTL_TRIXIE_ROOT, AVCTL_DEBIAN_MIRROR (scripts/trixie-root.sh);
#   AVCTL_CUDA_LAYER  the overlay's folders (default: beside the root, "-cuda")
# Exits 90 or 91 where this machine cannot make, enter or overlay the root
# (as scripts/check-torch2.sh); any other failure is the build's.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd -P)"
jobs="$(nproc)"
while (( $# )); do
  case "$1" in
    --jobs) jobs="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "check-cuda-build: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
start=$SECONDS
log() { echo "check-cuda-build [$((SECONDS - start)) s] $*"; }
sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi

root="$(scripts/trixie-root.sh)" || exit $?
log "root ready: $root"
layer="${AVCTL_CUDA_LAYER:-$root-cuda}"
packages=(libtorch-cuda-dev nvidia-cuda-toolkit)

# 1. The .debs, into the root's cache (a second run downloads nothing).
debs=/var/cache/avctl-cuda/debs
"${sudo_cmd[@]}" scripts/in-root.sh "$root" -- bash -c "
  set -euo pipefail
  mkdir -p /var/lib/avctl-cuda/lists/partial $debs/partial
  echo 'deb ${AVCTL_DEBIAN_MIRROR:-http://deb.debian.org/debian} trixie main contrib non-free' > /etc/apt/avctl-cuda.list
  o='-o Dir::Etc::SourceList=/etc/apt/avctl-cuda.list -o Dir::Etc::SourceParts=- -o Dir::State::Lists=/var/lib/avctl-cuda/lists -o Dir::Cache::Archives=$debs'
  apt-get \$o update -qq
  DEBIAN_FRONTEND=noninteractive apt-get \$o install -y -qq --download-only --no-install-recommends ${packages[*]}
" || { echo "check-cuda-build: downloading ${packages[*]} failed" >&2; exit 91; }
mapfile -t deb_files < <(cd "$root$debs" && ls -- *.deb | grep -v '^nvidia-cudnn_')
download_mib=$(cd "$root$debs" && du -cm -- "${deb_files[@]}" | tail -1 | cut -f1)
log "${#deb_files[@]} .debs, $download_mib MiB (nvidia-cudnn, the installer, left out)"

# 2. The overlay: the root below, the unpacked .debs above.
upper="$layer/upper" work="$layer/work" merged="$layer/merged"
"${sudo_cmd[@]}" mkdir -p "$upper" "$work" "$merged"
cleanup() { "${sudo_cmd[@]}" umount -l "$merged" 2> /dev/null || true; }
trap cleanup EXIT
stamp="$upper/.avctl-debs"
want="$(printf '%s\n' "${deb_files[@]}")"
if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$want" ]]; then
  log "unpacking into $upper"
  "${sudo_cmd[@]}" rm -rf "$upper" "$work"
  "${sudo_cmd[@]}" mkdir -p "$upper" "$work"
  "${sudo_cmd[@]}" mount -t overlay overlay -o "lowerdir=$root,upperdir=$upper,workdir=$work" "$merged" ||
    { echo "check-cuda-build: cannot mount an overlay of $root here" >&2; exit 90; }
  # The CPU libtorch's own files go (hidden in the overlay), so that nothing
  # of it is found where the CUDA build's should be.
  for list in "$merged"/var/lib/dpkg/info/libtorch-dev*.list "$merged"/var/lib/dpkg/info/libtorch2.6*.list; do
    [[ -f $list ]] || continue
    while IFS= read -r f; do
      if [[ -f "$merged$f" || -L "$merged$f" ]]; then "${sudo_cmd[@]}" rm -f "$merged$f"; fi
    done < "$list"
  done
  for f in "${deb_files[@]}"; do "${sudo_cmd[@]}" dpkg-deb -x "$root$debs/$f" "$merged"; done
  echo "$want" | "${sudo_cmd[@]}" tee "$stamp" > /dev/null
  log "unpacked"
else
  "${sudo_cmd[@]}" mount -t overlay overlay -o "lowerdir=$root,upperdir=$upper,workdir=$work" "$merged" ||
    { echo "check-cuda-build: cannot mount an overlay of $root here" >&2; exit 90; }
fi

# 3. Configure and build avworker (every worker source, the CUDA code on).
build=/var/cache/avctl-cuda-build
scripts/forget-foreign-build.sh "$merged$build" "$src"
"${sudo_cmd[@]}" scripts/in-root.sh "$merged" --bind "$src" -- bash -c "
  set -euo pipefail
  mkdir -p $build
  cmake -S '$src' -B $build -DCMAKE_BUILD_TYPE=Release -DAVCTL_BUILD_TESTS=OFF -DAVCTL_BUILD_BENCH=OFF \
        -DAVCTL_REQUIRE_CUDA=ON -DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined > $build.configure.log 2>&1 ||
    { cat $build.configure.log; exit 1; }
  grep -E 'CUDA (version|nvcc)|cuDNN|CUDNN' $build.configure.log || true
  cmake --build $build -j$jobs --target avworker
  grep -c -- '-DAVCTL_CUDA=1' $build/compile_commands.json | sed 's/^/sources compiled with AVCTL_CUDA: /'
  readelf -d $build/bin/avworker | grep -E 'NEEDED.*(torch_cuda|c10_cuda)'
  ldd $build/bin/avworker | grep 'not found' | sed 's/^/left unresolved: /' || true
"
log "passed: avworker compiled with AVCTL_CUDA and linked against libtorch-cuda 2.6 and CUDA 12.4"
