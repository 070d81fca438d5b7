#!/usr/bin/env python3
"""A researcher's own PyTorch model as an avctl command job (docs/JOBS.md).

A small audiovisual emotion classifier on an avctl feature store, read with
NumPy from the store's files (README, "The feature store"): each clip's
ComParE LLD frames and VGG-face frames are z-normalised with the partition's
Train statistics and pooled (mean and standard deviation over time); one
MLP encoder per modality; fusion by concatenation ("early") or audio only
("none", the baseline). Trained with Adam on the partition's Train split,
the epoch with the best Development macro F1 is kept and scored on Test.
Every epoch is checkpointed (model, optimiser, RNG and the best state so
far) and a preempted or restarted job resumes from it with the same result.

Run by avctl (examples/pytorch/sweep.json) or by hand:
    python3 train.py --store DIR [--modalities av|audio] [--epochs N] ...
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import avctl_job  # noqa: E402  (the helper, by path)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", help="feature store folder (default: the job's dataset)")
    p.add_argument("--modalities", choices=["av", "audio"], default="av")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--batch_size", type=int, default=64)
    return p.parse_args()  # an unknown option exits 2: a bad configuration, not retried


def load_store(folder, partition):
    """Pooled, z-normalised features per split, and the class names."""
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    a_dim, v_dim = m["audio"]["dim"], m["visual"]["dim"]
    audio = np.memmap(os.path.join(folder, m["audio"]["file"]), dtype=np.float32, mode="r").reshape(-1, a_dim)
    visual = np.memmap(os.path.join(folder, m["visual"]["file"]), dtype=np.float16, mode="r").reshape(-1, v_dim)
    stats = np.fromfile(os.path.join(folder, m["norm_stats"]["file"]), dtype=np.float32)
    per = 2 * a_dim + 2 * v_dim
    s = stats[(partition - 1) * per:partition * per]
    a_mean, a_std = s[:a_dim], s[a_dim:2 * a_dim]
    v_mean, v_std = s[2 * a_dim:2 * a_dim + v_dim], s[2 * a_dim + v_dim:]

    def pooled(frames, mean, std):
        z = (np.asarray(frames, dtype=np.float32) - mean) / np.maximum(std, 1e-6)
        return np.concatenate([z.mean(axis=0), z.std(axis=0)])

    classes = m["classes"]
    splits = {}
    for clip in m["clips"]:
        split = clip["splits"][partition - 1]
        ao, an = clip["audio"]
        vo, vn = clip["visual"]
        row = splits.setdefault(split, {"ids": [], "audio": [], "visual": [], "labels": []})
        row["ids"].append(clip["id"])
        row["audio"].append(pooled(audio[ao:ao + an], a_mean, a_std))
        row["visual"].append(pooled(visual[vo:vo + vn], v_mean, v_std))
        row["labels"].append(classes.index(clip["label"]))
    out = {}
    for split, row in splits.items():
        out[split] = {"ids": row["ids"], "audio": torch.tensor(np.stack(row["audio"])),
                      "visual": torch.tensor(np.stack(row["visual"])),
                      "labels": torch.tensor(row["labels"], dtype=torch.long)}
    return out, classes


class AudioVisualNet(nn.Module):
    def __init__(self, a_in, v_in, hidden, classes, dropout, modalities):
        super().__init__()
        self.modalities = modalities
        self.audio = nn.Sequential(nn.Linear(a_in, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.visual = nn.Sequential(nn.Linear(v_in, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(hidden * (2 if modalities == "av" else 1), classes)

    def forward(self, a, v):
        h = self.audio(a)
        if self.modalities == "av":
            h = torch.cat([h, self.visual(v)], dim=1)
        return self.head(h)


def train_epoch(model, opt, data, batch_size, generator):
    model.train()
    order = torch.randperm(len(data["labels"]), generator=generator)
    total = 0.0
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(data["audio"][idx], data["visual"][idx]), data["labels"][idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(order)


def evaluate(model, data, classes):
    model.eval()
    with torch.no_grad():
        logits = model(data["audio"], data["visual"])
        loss = nn.functional.cross_entropy(logits, data["labels"]).item()
        probs = torch.softmax(logits, dim=1)
    pred = probs.argmax(dim=1).numpy()
    truth = data["labels"].numpy()
    k = len(classes)
    confusion = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(truth, pred):
        confusion[t, p] += 1
    per_class, f1s = [], []
    for c in range(k):
        tp = confusion[c, c]
        precision = tp / confusion[:, c].sum() if confusion[:, c].sum() else 0.0
        recall = tp / confusion[c, :].sum() if confusion[c, :].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"precision": float(precision), "recall": float(recall), "f1": float(f1),
                          "support": int(confusion[c, :].sum())})
        f1s.append(f1)
    metrics = {"macro_f1": float(np.mean(f1s)), "accuracy": float((pred == truth).mean()), "per_class": per_class}
    predictions = [{"id": i, "label": int(t), "pred": int(p), "probs": [round(float(x), 6) for x in pr]}
                   for i, t, p, pr in zip(data["ids"], truth, pred, probs.numpy())]
    return {"loss": loss, "metrics": metrics, "confusion": confusion.flatten().tolist(), "predictions": predictions}


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def main():
    args = parse_args()
    cfg = avctl_job.config()
    torch.set_num_threads(int(cfg.get("threads", 1)))
    avctl_job.seed_everything(cfg.seed)
    store = args.store or cfg.dataset
    if not store:
        sys.stderr.write("no feature store: give --store or a dataset in the sweep\n")
        sys.exit(avctl_job.EXIT_BAD_CONFIG)
    splits, classes = load_store(store, cfg.partition)
    train, dev, test = splits["Train"], splits["Development"], splits["Test"]
    model = AudioVisualNet(train["audio"].shape[1], train["visual"].shape[1], args.hidden, len(classes),
                           args.dropout, args.modalities)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    checkpoint = os.path.join(avctl_job.checkpoint_dir(), "last.pt")
    start, resumed_from = 0, 0
    best = {"dev_macro_f1": -1.0, "epoch": 0, "state": None}
    curves = []  # per epoch, kept in the checkpoint so that a resumed run reports them all
    if os.path.exists(checkpoint):
        ck = torch.load(checkpoint)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        generator.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        start, best, curves, resumed_from = ck["epoch"], ck["best"], ck["curves"], ck["epoch"]
    for epoch in range(start, args.epochs):
        if avctl_job.should_stop():
            avctl_job.preempted()  # the checkpoint of the last whole epoch is on disk
        train_loss = train_epoch(model, opt, train, args.batch_size, generator)
        d = evaluate(model, dev, classes)
        if d["metrics"]["macro_f1"] > best["dev_macro_f1"]:
            best = {"dev_macro_f1": d["metrics"]["macro_f1"], "epoch": epoch + 1,
                    "state": {k: v.clone() for k, v in model.state_dict().items()}}
        curves.append({"epoch": epoch + 1, "train_loss": train_loss, "dev_loss": d["loss"],
                       "dev_macro_f1": d["metrics"]["macro_f1"]})
        save_checkpoint(checkpoint, {"model": model.state_dict(), "opt": opt.state_dict(),
                                     "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
                                     "epoch": epoch + 1, "best": best, "curves": curves})
        avctl_job.progress(epoch + 1, epochs=args.epochs, train_loss=train_loss, dev_loss=d["loss"],
                           dev_macro_f1=d["metrics"]["macro_f1"])
    model.load_state_dict(best["state"])
    dev_best, test_best = evaluate(model, dev, classes), evaluate(model, test, classes)
    torch.save(best["state"], os.path.join(avctl_job.output_dir(), "best_model.pt"))
    resume = {"resumed": resumed_from > 0}
    if resumed_from:
        resume.update({"from": checkpoint, "epochs": resumed_from})
    avctl_job.write_result(test=test_best, dev=dev_best, class_names=classes, selected_epoch=best["epoch"],
                           epochs=curves, resume=resume, params=vars(args))


if __name__ == "__main__":
    with avctl_job.failure_reporting():
        main()
