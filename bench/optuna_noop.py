#!/usr/bin/env python3
"""The reference of bench/dispatch_bench: Optuna with its SQLite (RDB)
storage, N processes optimising a no-op objective on one study.

Prints one JSON line: {"trials": ..., "seconds": ..., "trials_per_s": ...}.
Needs Debian's python3-optuna (scripts/install-deps.sh --bench).
"""
import argparse
import json
import multiprocessing
import os
import time

import optuna


def worker(storage_url, study_name, trials):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=study_name, storage=storage_url)
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0) * 0.0, n_trials=trials)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--processes", type=int, default=8)
    p.add_argument("--trials", type=int, default=800, help="trials in all")
    a = p.parse_args()
    if os.path.exists(a.db):
        os.remove(a.db)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url = f"sqlite:///{a.db}"
    # A timeout lets the processes wait for SQLite's lock instead of failing.
    storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    optuna.create_study(study_name="noop", storage=storage)
    per = a.trials // a.processes
    procs = [multiprocessing.Process(target=worker, args=(storage, "noop", per)) for _ in range(a.processes)]
    start = time.perf_counter()
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join()
    secs = time.perf_counter() - start
    done = len(optuna.load_study(study_name="noop", storage=storage).trials)
    print(json.dumps({"trials": done, "seconds": secs, "trials_per_s": done / secs, "optuna": optuna.__version__,
                      "processes": a.processes}))


if __name__ == "__main__":
    main()
