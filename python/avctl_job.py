"""avctl_job: the worker-program contract (docs/JOBS.md) for Python programs.

Standard library only; use it by path, without pip:

    import sys; sys.path.insert(0, "/path/to/avctl/python")
    import avctl_job

    def main():
        cfg = avctl_job.config()                 # params, seed, partition, dataset, ...
        avctl_job.seed_everything(cfg.seed)      # random, NumPy and PyTorch when present
        for epoch in range(start, epochs):
            if avctl_job.should_stop():          # SIGTERM: preemption or cancel
                save_checkpoint(avctl_job.checkpoint_dir())
                avctl_job.preempted()            # exits 3: requeued, not counted
            ...
            avctl_job.progress(epoch=epoch + 1, epochs=epochs, train_loss=loss)
        avctl_job.write_result(test={"metrics": {"macro_f1": f1}})

    if __name__ == "__main__":
        with avctl_job.failure_reporting():      # an exception becomes a failed result
            main()

Run outside avctl (no AVCTL_CONFIG), config() returns the defaults given to
it and the folders default to ./avctl-run/, so the same script runs by hand.
"""

import json
import os
import random
import signal
import sys
import traceback

CONTRACT = 1
EXIT_BAD_CONFIG = 2
EXIT_PREEMPTED = 3

_stop = {"requested": False}


def _on_sigterm(signum, frame):  # noqa: ARG001 (signal handler signature)
    _stop["requested"] = True


signal.signal(signal.SIGTERM, _on_sigterm)


class Config(dict):
    """The job's config file as a dict, with attribute access to its keys."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e


def _local_dir(name):
    path = os.path.join(os.getcwd(), "avctl-run", name)
    os.makedirs(path, exist_ok=True)
    return path


def config(defaults=None):
    """The job's config (AVCTL_CONFIG): contract, job_key, attempt, seed,
    partition, params, dataset, result, progress, checkpoint_dir, output_dir,
    device, threads. Outside avctl: `defaults` as params, seed 0."""
    path = os.environ.get("AVCTL_CONFIG")
    if not path:
        return Config(contract=CONTRACT, job_key="local", attempt=0, seed=0, partition=1,
                      params=dict(defaults or {}), dataset=None, dataset_spec=None,
                      result=os.path.join(_local_dir("."), "result.json"),
                      progress=os.path.join(_local_dir("."), "progress.jsonl"),
                      checkpoint_dir=_local_dir("checkpoints"), output_dir=_local_dir("outputs"),
                      device="cpu", threads=1)
    with open(path, encoding="utf-8") as f:
        cfg = Config(json.load(f))
    if cfg.get("contract") != CONTRACT:
        sys.stderr.write("avctl_job: the worker speaks contract %r, this helper %d\n" % (cfg.get("contract"), CONTRACT))
        sys.exit(EXIT_BAD_CONFIG)
    params = dict(defaults or {})
    params.update(cfg.get("params") or {})
    cfg["params"] = params
    return cfg


def seed_everything(seed, deterministic=False):
    """Seeds Python's random, NumPy and PyTorch (CPU and CUDA) when they are
    importable. With deterministic=True it also asks PyTorch for
    deterministic algorithms (torch.use_deterministic_algorithms(True), cuDNN
    benchmarking off, and CUBLAS_WORKSPACE_CONFIG=:4096:8 unless already set,
    which CUDA's cuBLAS needs for it): the same seed then gives the same
    numbers on the same hardware and versions, at some cost in speed, and an
    operation without a deterministic implementation raises instead of
    running. PyTorch reads CUBLAS_WORKSPACE_CONFIG when CUDA starts: call this
    before the first CUDA operation. Returns whether deterministic algorithms
    are on."""
    random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import numpy
        numpy.random.seed(seed % (2 ** 32))
    except ImportError:
        pass
    try:
        import torch
    except ImportError:
        return False
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        if hasattr(torch.backends, "cudnn"):
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.are_deterministic_algorithms_enabled()


def checkpoint_dir():
    """The job's checkpoint folder: the same for every attempt; removed once its result is stored."""
    return os.environ.get("AVCTL_CHECKPOINT_DIR") or _local_dir("checkpoints")


def output_dir():
    """The job's output folder: kept after the job (weights, predictions, plots)."""
    return os.environ.get("AVCTL_OUTPUT_DIR") or _local_dir("outputs")


def should_stop():
    """True once the worker asked the program to stop (SIGTERM): checkpoint and call preempted()."""
    return _stop["requested"]


def progress(epoch, **numbers):
    """Appends one progress line: epoch and any numbers (epochs, train_loss, dev_macro_f1, ...)."""
    path = os.environ.get("AVCTL_PROGRESS") or os.path.join(_local_dir("."), "progress.jsonl")
    line = dict(numbers)
    line["epoch"] = int(epoch)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def _write_atomic(document):
    path = os.environ.get("AVCTL_RESULT") or os.path.join(_local_dir("."), "result.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(document, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def write_result(test, dev=None, **fields):
    """Writes the result atomically: test (and dev) as {"metrics": {...},
    "per_class": [...], "confusion": [...], "predictions": [...], "loss": x},
    and any other top-level fields (class_names, curves, resume, ...)."""
    document = {"status": "ok", "test": test}
    if dev is not None:
        document["dev"] = dev
    document.update(fields)
    return _write_atomic(document)


def preempted(reason="stopped on request after a checkpoint"):
    """Says the job stopped on request (its checkpoint written) and exits 3:
    requeued, not counted against max_attempts."""
    _write_atomic({"status": "preempted", "reason": reason})
    sys.exit(EXIT_PREEMPTED)


def _is_out_of_memory(exc):
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    text = str(exc)
    return name == "OutOfMemoryError" or "CUDA out of memory" in text or "out of memory" in text.lower()


class failure_reporting:  # noqa: N801 (used as a context manager: `with avctl_job.failure_reporting():`)
    """An exception escaping the block becomes a failed result (kind "crash",
    the traceback as its reason; out of memory marked as such) before it
    propagates. SystemExit (preempted(), sys.exit) passes untouched."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, SystemExit):
            return False
        oom = _is_out_of_memory(exc)
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        _write_atomic({"status": "failed", "kind": "worker" if oom else "crash", "out_of_memory": oom,
                       "reason": text[-4000:]})
        return False
