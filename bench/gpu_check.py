#!/usr/bin/env python3
"""The measurements of scripts/gpu-check.sh, on a machine with an NVIDIA GPU.

Runs the built binaries against a full-profile store and writes one Markdown
table (and a JSON file with every number) to --out:
  - ladder_av and backbone training clips/s, bf16 autocast off and on, with
    the share of a step the training thread waited for data (train_bench,
    device synchronised after every step, next to the PyTorch reference on
    the same GPU);
  - how busy the GPU was during one ladder_av job (nvidia-smi's
    utilization.gpu sampled every 100 ms over the job's steady state: the
    share of time a kernel was running) and the job's peak GPU memory
    (the caching allocator's peak reservation, from the job's result);
  - aggregate clips/s with 1, 2, 4 and 8 ladder_av jobs packed on the GPU;
  - the projected wall time of sweeps/paper.json on this one GPU.
Each phase gets a share of --budget-s; a phase that runs out is cut short
and says so in the table. Standard library only.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def run(cmd, timeout, env=None):
    """Runs cmd in its own process group; on timeout the whole group is killed
    (train_bench's Python reference included), then TimeoutExpired is raised."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{out}\n{err}")
    return out, time.time() - t0


class GpuSampler:
    """nvidia-smi utilization.gpu and memory.used every 100 ms while alive."""

    def __init__(self, index):
        self.samples = []  # (time, util %, memory MiB)
        self.proc = subprocess.Popen(
            ["nvidia-smi", f"--id={index}", "--query-gpu=utilization.gpu,memory.used",
             "--format=csv,noheader,nounits", "-lms", "100"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                u, m = (float(x) for x in line.split(","))
                self.samples.append((time.time(), u, m))
            except ValueError:
                pass

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def between(self, t0, t1):
        return [s for s in self.samples if t0 <= s[0] <= t1]


def job_json(variant, device, bf16, batches, threads, seed=1):
    return {"variant": variant, "seed": seed, "device": device, "bf16": bf16, "threads": threads,
            "train": {"epochs": 1, "max_train_batches": batches, "evaluate": False}}


def train_jobs(a, jobs, timeout, sampler=None):
    """Runs `avworker train` for each job at once; returns (results, wall s, window)."""
    tmp = tempfile.mkdtemp(prefix="gpucheck-")
    procs = []
    t0 = time.time()
    for i, j in enumerate(jobs):
        path = os.path.join(tmp, f"job{i}.json")
        with open(path, "w") as f:
            json.dump(j, f)
        out = os.path.join(tmp, f"result{i}.json")
        cmd = [a.avworker, "train", "--job", path, "--store", a.store, "--out", out, "--no-verify",
               "--threads", str(j["threads"])]
        procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), out))
    results = []
    for p, out in procs:
        try:
            so, se = p.communicate(timeout=max(1, timeout - (time.time() - t0)))
        except subprocess.TimeoutExpired:
            for q, _ in procs:
                q.kill()
            raise
        if p.returncode != 0:
            raise RuntimeError(f"avworker train failed ({p.returncode}): {se[-2000:]}")
        with open(out) as f:
            results.append(json.load(f))
    return results, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="folder with avworker and train_bench")
    ap.add_argument("--store", required=True, help="full-profile feature store")
    ap.add_argument("--spec", required=True, help="sweeps/paper.json")
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=420)
    ap.add_argument("--cpu-smoke", action="store_true",
                    help="check this script's path on a CPU machine: tiny step counts, no nvidia-smi")
    a = ap.parse_args()
    a.avworker = os.path.join(a.bin, "avworker")
    cuda = a.device.startswith("cuda")
    gpu_index = a.device.split(":")[1] if ":" in a.device else "0"
    cores = os.cpu_count() or 1
    steps = 1 if a.cpu_smoke else 40
    deadline = time.time() + a.budget_s
    rows, notes, numbers = [], [], {"device": a.device}

    def left():
        return deadline - time.time()

    # The PyTorch reference needs torch and numpy in this interpreter.
    has_torch = subprocess.run([sys.executable, "-c", "import torch, numpy"], capture_output=True).returncode == 0
    if not has_torch:
        notes.append(f"no PyTorch reference: {sys.executable} cannot import torch and numpy (set PYTHON)")

    # 1. Single-job throughput, bf16 off and on, with the data-wait share.
    for bf16 in (False, True):
        if bf16 and not cuda and not a.cpu_smoke:
            continue
        cmd = [os.path.join(a.bin, "train_bench"), "--store", a.store, "--device", a.device,
               "--batches", str(steps), "--warmup", "3" if not a.cpu_smoke else "1", "--repeats", "1",
               "--threads", str(min(cores, 8)), "--variants", "ladder_av,backbone"]
        if bf16 or not has_torch:
            cmd += ["--no-python"]  # the Python reference runs float32 only
        if bf16:
            cmd += ["--bf16"]
        env = dict(os.environ, AVCTL_PYTHON=sys.executable)
        try:
            out, secs = run(cmd, timeout=max(30, left() * (0.45 if a.cpu_smoke else 0.3)), env=env)
        except subprocess.TimeoutExpired:
            notes.append(f"train_bench{' --bf16' if bf16 else ''} cut short: the measurement budget ran out")
            continue
        except Exception as e:  # noqa: BLE001 - reported in the table, the other phases still run
            notes.append(f"train_bench{' --bf16' if bf16 else ''} did not finish: {str(e)[:300]}")
            continue
        for line in out.splitlines():
            if line.startswith("| ladder_av") or line.startswith("| backbone"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                rows.append((f"{cells[0]}{', bf16' if bf16 else ''}", f"{cells[1]} clips/s",
                             f"data wait {cells[3]}; ratio to PyTorch {cells[4]}"))
        numbers[f"train_bench{'_bf16' if bf16 else ''}"] = out

    # 2. One real ladder_av job (no per-step synchronisation): GPU busy share and peak memory.
    sampler = GpuSampler(gpu_index) if cuda else None
    one = None
    try:
        batches = 6 if a.cpu_smoke else 300
        res, wall = train_jobs(a, [job_json("ladder_av", a.device, False, batches, min(cores, 8))],
                               timeout=max(30, left() * 0.3))
        one = res[0]
        ep = one["epochs"][0]
        rows.append(("ladder_av, one job, prefetch 2", f"{one['train_clips_per_s']:.1f} clips/s",
                     f"data wait {100 * one['data_wait_share']:.1f}% of training time"))
        peak = one.get("peak_device_memory_mib")
        rows.append(("ladder_av, peak GPU memory (caching allocator)",
                     "-" if peak is None else f"{peak:.0f} MiB", f"process peak RSS {one['peak_rss_mib']:.0f} MiB"))
        if sampler:
            t_end = time.time()
            # The training window: the epoch's training seconds before the job ended, its first 20% skipped.
            t0 = t_end - ep["train_seconds"] * 0.8 - 1.0
            util = [s[1] for s in sampler.between(t0, t_end - 1.0)]
            if util:
                busy = statistics.mean(util)
                numbers["gpu_busy_percent"] = busy
                rows.append(("ladder_av, GPU busy (nvidia-smi utilization.gpu, steady state)", f"{busy:.1f}%",
                             f"{len(util)} samples; target >= 90%"))
    except Exception as e:  # noqa: BLE001
        notes.append(f"the single ladder_av job did not finish: {str(e)[:300]}")
    finally:
        if sampler:
            sampler.stop()

    # 3. Packing: N jobs at once on the one GPU, CPU threads shared out.
    agg = {}
    for n in (1, 2, 4, 8):
        if left() < 30:
            notes.append(f"packing with {n} jobs skipped: budget spent")
            break
        batches = 4 if a.cpu_smoke else 200
        jobs = [job_json("ladder_av", a.device, False, batches, max(1, cores // n), seed=s + 1) for s in range(n)]
        try:
            res, wall = train_jobs(a, jobs, timeout=max(30, left() * 0.5))
        except subprocess.TimeoutExpired:
            notes.append(f"packing with {n} jobs cut short: the measurement budget (--budget-s) ran out")
            break
        except Exception as e:  # noqa: BLE001
            notes.append(f"packing with {n} jobs failed: {str(e)[:300]}")
            break
        per_job = sum(r["train_clips_per_s"] for r in res)
        peaks = [r["peak_device_memory_mib"] for r in res if r.get("peak_device_memory_mib") is not None]
        peak = f"largest job peak {max(peaks):.0f} MiB" if peaks else "GPU memory not measured"
        agg[n] = per_job
        rows.append((f"ladder_av, {n} job(s) packed", f"{per_job:.1f} clips/s aggregate",
                     f"sum of the jobs' training clips/s; {peak}; {wall:.0f} s wall"))
    numbers["aggregate_clips_per_s"] = agg

    # 4. Projection of sweeps/paper.json on this GPU at the best packing measured.
    with open(a.spec) as f:
        spec = json.load(f)
    if agg and one:
        best_n = max(agg, key=agg.get)
        rate = agg[best_n]
        train_clips = one["train_clips"]
        dev_clips = round(train_clips * 15 / 70)  # the partitions' 70/15/15 split
        jobs = len(spec["variants"]) * spec["seeds"] * len(spec.get("partitions", [1]))
        n_mult = spec["seeds"] if any(v["name"] == "mult" for v in spec["variants"]) else 0
        clip_epochs = (jobs - n_mult) * 30 * train_clips + n_mult * 40 * train_clips  # presets: 30 epochs, mult 40
        # Evaluation: a forward pass of the Development split every epoch (about a third of a training step per clip).
        eval_equiv = ((jobs - n_mult) * 30 + n_mult * 40) * dev_clips / 3
        seconds = (clip_epochs + eval_equiv) / rate
        numbers["projected_paper_minutes"] = seconds / 60
        rows.append(("sweeps/paper.json projected on this GPU", f"{seconds / 60:.1f} min",
                     f"{jobs} jobs, {best_n} packed ({rate:.0f} clips/s); every variant costed at ladder_av's rate "
                     f"(mult and ps2020 are cheaper: an upper bound); target < 30 min"))

    title = "GPU check" + (" (CPU smoke run: the script's path only, numbers meaningless)" if a.cpu_smoke else "")
    lines = [f"## {title}", "", f"device {a.device}; store {a.store}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             "", "| measurement | value | notes |", "| --- | ---: | --- |"]
    lines += [f"| {m} | {v} | {n} |" for m, v, n in rows]
    if notes:
        lines += ["", "Not measured:"] + [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "gpu-check.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "gpu-check.json"), "w") as f:
        json.dump(numbers, f, indent=1)
    print(text)
    return 0 if not notes else 1


if __name__ == "__main__":
    sys.exit(main())
