#!/usr/bin/env bash
# Runs a command inside a root made by scripts/trixie-root.sh, with /proc,
# /sys and /dev mounted in it and each extra folder given with --bind
# mounted at the same path; everything is unmounted when it ends, however it
# ends. Needs root.
#
# Usage: scripts/in-root.sh ROOT [--bind DIR]... -- COMMAND [ARG]...
# Exits 90 when this machine does not let it mount or chroot (no privilege),
# else with the command's status.
set -euo pipefail
root="$1"
shift
binds=()
while (( $# )); do
  case "$1" in
    --bind) binds+=("$(realpath "$2")"); shift 2 ;;
    --) shift; break ;;
    *) echo "in-root: unknown option $1" >&2; exit 2 ;;
  esac
done
(( $# )) || { echo "in-root: no command" >&2; exit 2; }
[[ -d "$root/usr" ]] || { echo "in-root: $root is not a root (scripts/trixie-root.sh makes one)" >&2; exit 2; }

mounted=()
cleanup() {
  local i
  for (( i = ${#mounted[@]} - 1; i >= 0; i-- )); do umount -l "${mounted[$i]}" 2> /dev/null || true; done
}
trap cleanup EXIT
mount_at() {  # mount_at TARGET MOUNT-ARGS...
  local target="$1"
  shift
  mkdir -p "$target"
  mount "$@" "$target" || { echo "in-root: cannot mount $target here (mount $*)" >&2; exit 90; }
  mounted+=("$target")
}
mount_at "$root/proc" -t proc proc
mount_at "$root/sys" --rbind /sys
mount_at "$root/dev" --rbind /dev
for dir in "${binds[@]}"; do mount_at "$root$dir" --bind "$dir"; done
chroot "$root" /bin/true || { echo "in-root: cannot chroot into $root here" >&2; exit 90; }
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
  TERM="${TERM:-dumb}" "$@"
