#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt-get), builds, and runs the main job
# end to end on the embedded default: `avctl demo` (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/bin/avctl demo --workdir "${AVCTL_DEMO_DIR:-avctl-demo}" "$@"
