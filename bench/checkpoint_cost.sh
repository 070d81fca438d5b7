#!/usr/bin/env bash
# Checkpoint cost on the full-profile model (issue 17): the paper's dimensions
# (130-D audio, 4096-D video) and each variant's full preset, trained for two
# epochs of a few batches on a small store of those dimensions (the model,
# not the store, sets a checkpoint's size). Prints, per variant, the bytes of
# one checkpoint and the seconds each write took (encoding, fsync, rename),
# against the seconds of one training step measured in the same run.
# Usage: bench/checkpoint_cost.sh [BUILD_DIR] [THREADS]
set -euo pipefail
build=${1:-build}
threads=${2:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bin/avctl" data synth --profile full --clips-per-actor 2 --out "$work/store" >/dev/null
printf '| variant | checkpoint bytes | seconds per checkpoint | seconds per step | ratio (checkpoint / step) |\n'
printf '| --- | --- | --- | --- | --- |\n'
for variant in ladder_av backbone mult; do
  cat > "$work/job.json" <<JOB
{"key": "bench/$variant", "variant": "$variant", "seed": 1, "threads": $threads,
 "train": {"epochs": 3, "max_train_batches": 3, "batch_size": 16}}
JOB
  "$build/bin/avworker" train --job "$work/job.json" --store "$work/store" --out "$work/result.json" \
    --checkpoint-dir "$work/ckpt-$variant" --threads "$threads" >/dev/null 2>&1 || true
  # The folder goes with the result: the cost is in the result's checkpoints field.
  python3 - "$work/result.json" "$variant" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["checkpoints"]
steps = sum(e["train_clips"] for e in r["epochs"]) / 16.0
step_s = sum(e["train_seconds"] for e in r["epochs"]) / max(steps, 1)
per = c["seconds"] / max(c["written"], 1)
print(f"| {sys.argv[2]} | {c['last_bytes']:,} | {per:.3f} | {step_s:.3f} | {per / step_s:.2f} |")
PY
done
