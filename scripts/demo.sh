#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt-get), builds, and runs the main job
# end to end on the embedded default: a local coordinator and two worker
# daemons run sweeps/demo.json (synthetic CREMA-D-shaped data, SQLite record
# under runs/demo/). Running it again resumes: finished jobs are kept.
# Builds only the three programs the demo runs; scripts/test.sh builds the
# rest and reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target avctl --target avcoord --target avworker
build/bin/avctl sweep run sweeps/demo.json --local-workers 2 --dir "${AVCTL_DEMO_DIR:-runs/demo}" "$@"
