#!/usr/bin/env python3
"""The ladder_av network of worker/av_model.cc written in PyTorch (Python),
for bench/train_bench: same architecture, same defaults, same batches
(length-bucketed, z-normalised with the partition's Train statistics), timed
over the same number of training steps with the same thread count.
Prints one JSON line: {"clips_per_s": ..., "clips": ..., "seconds": ...}.

    python3 bench/ladder_av_torch.py --store DIR --batch-file F --threads T [--warmup W] [--partition P]
                                     [--variant ladder_av|backbone] [--compile]

--variant backbone is the network without its ladders (MLP heads, as
worker/av_model.cc builds it for "backbone"). --compile wraps the model in
torch.compile(dynamic=True) (PyTorch 2.x; on CPU, Inductor's C++ code): the
warmup steps then include compiling, reported as warmup_seconds.

The batch file (written by train_bench) lists the clip indices of each batch,
so that both implementations train on the same clips in the same order; the
first W steps are not timed (one-time allocation costs), as in train_bench.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

D_CLASSES = 6
SPLITS = {"Train": 0}


class Layer(nn.Module):
    def __init__(self, d, heads, attn_dropout, relu_dropout, res_dropout, gated):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, dropout=attn_dropout)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        for fc in (self.fc1, self.fc2):
            nn.init.xavier_uniform_(fc.weight)
            nn.init.zeros_(fc.bias)
        self.ln0, self.ln1 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.alpha = nn.Parameter(torch.rand(1)) if gated else None
        self.relu_dropout, self.res_dropout = relu_dropout, res_dropout

    def gate(self, residual, branch):
        return residual * self.alpha + branch * (1 - self.alpha) if self.alpha is not None else residual + branch

    def forward(self, x, kv, kv_pad):
        q = self.ln0(x)
        k = self.ln0(kv) if kv is not None else q
        h, _ = self.attn(q, k, k, key_padding_mask=kv_pad, need_weights=False)
        y = self.gate(x, F.dropout(h, self.res_dropout, self.training))
        h = F.dropout(F.relu(self.fc1(self.ln1(y))), self.relu_dropout, self.training)
        return self.gate(y, F.dropout(self.fc2(h), self.res_dropout, self.training))


def positions(max_len, d):
    half = d // 2
    step = math.log(10000.0) / max(half - 1, 1)
    freq = torch.exp(torch.arange(half, dtype=torch.float64) * -step)
    angles = torch.arange(1, max_len + 1, dtype=torch.float64).unsqueeze(1) * freq.unsqueeze(0)
    table = torch.cat([torch.sin(angles), torch.cos(angles)], 1)
    if d % 2:
        table = torch.cat([table, torch.zeros(max_len, 1, dtype=torch.float64)], 1)
    return table.float()


class Encoder(nn.Module):
    def __init__(self, d, heads, layers, attn_dropout, pos, gated, relu_dropout=0.1, res_dropout=0.1, embed_dropout=0.25):
        super().__init__()
        self.d, self.pos, self.embed_dropout = d, pos, embed_dropout
        self.layers = nn.ModuleList([Layer(d, heads, attn_dropout, relu_dropout, res_dropout, gated) for _ in range(layers)])
        self.final_ln = nn.LayerNorm(d)

    def embed(self, x, pad):
        e = x * math.sqrt(self.d)
        if self.pos:
            e = e + positions(x.size(0), self.d).unsqueeze(1) * (~pad).transpose(0, 1).unsqueeze(-1).float()
        return F.dropout(e, self.embed_dropout, self.training)

    def forward(self, x, pad, kv=None, kv_pad=None):
        h = self.embed(x, pad)
        k = self.embed(kv, kv_pad) if kv is not None else None
        for layer in self.layers:
            h = layer(h, k, kv_pad if kv is not None else pad)
        return self.final_ln(h)


def pool_last(x, pad):
    lengths = (~pad).sum(1)
    idx = (lengths - 1).clamp_min(0).view(1, -1, 1).expand(1, x.size(1), x.size(2))
    return x.gather(0, idx).squeeze(0)


class LadderEncoder(nn.Module):
    def __init__(self, widths, momentum=0.1):
        super().__init__()
        self.widths, self.momentum = widths, momentum
        self.w = nn.ModuleList([nn.Linear(widths[l - 1], widths[l], bias=False) for l in range(1, len(widths))])
        self.beta = nn.ParameterList([nn.Parameter(torch.zeros(widths[l])) for l in range(1, len(widths))])
        self.gamma = nn.Parameter(torch.ones(widths[-1]))
        for l in range(1, len(widths)):
            self.register_buffer(f"rm{l}", torch.zeros(widths[l]))
            self.register_buffer(f"rv{l}", torch.ones(widths[l]))

    def forward(self, x, noise):
        def noisy(t):
            return t + noise * torch.randn_like(t) if noise > 0 else t
        z, means, stds = [noisy(x)], [None], [None]
        h = z[0]
        L = len(self.widths) - 1
        for l in range(1, L + 1):
            pre = self.w[l - 1](h)
            if self.training:
                mean, var = pre.mean(0), pre.var(0, unbiased=False)
                if noise == 0:
                    with torch.no_grad():
                        rm, rv = getattr(self, f"rm{l}"), getattr(self, f"rv{l}")
                        rm.mul_(1 - self.momentum).add_(mean.detach(), alpha=self.momentum)
                        rv.mul_(1 - self.momentum).add_(var.detach(), alpha=self.momentum)
            else:
                mean, var = getattr(self, f"rm{l}"), getattr(self, f"rv{l}")
            sd = torch.sqrt(var + 1e-5)
            zl = noisy((pre - mean) / sd)
            z.append(zl)
            means.append(mean)
            stds.append(sd)
            h = F.relu(zl + self.beta[l - 1]) if l < L else self.gamma * (zl + self.beta[l - 1])
        return {"z": z, "mean": means, "std": stds, "logits": h}


def batch_norm(x):
    return (x - x.mean(0, keepdim=True)) / torch.sqrt(x.var(0, unbiased=False, keepdim=True) + 1e-5)


class Combinator(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.a = nn.ParameterList([nn.Parameter(torch.full((width,), 1.0 if i in (2, 7) else 0.0)) for i in range(1, 11)])

    def forward(self, zt, u):
        a = self.a
        mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
        return (zt - mu) * v + mu


class LadderDecoder(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.widths = widths
        self.v = nn.ModuleList([nn.Linear(widths[l + 1], widths[l], bias=False) for l in range(len(widths) - 1)])
        self.g = nn.ModuleList([Combinator(w) for w in widths])

    def forward(self, top, lateral, clean):
        L = len(self.widths) - 1
        total, z_hat = 0.0, None
        for l in range(L, -1, -1):
            u = batch_norm(top) if l == L else batch_norm(self.v[l](z_hat))
            z_hat = self.g[l](lateral["z"][l], u)
            est = z_hat if l == 0 else (z_hat - clean["mean"][l]) / clean["std"][l]
            total = total + (est - clean["z"][l]).pow(2).sum(1).mean() / self.widths[l]
        return total


class Trunk(nn.Module):
    """The encoders both variants share (worker/av_model.cc): the projections,
    the cross-modal and self-attention stacks and the auxiliary per-modality
    encoders, pooled to the fused and the two per-modality representations."""

    def __init__(self, da, dv, d, heads, layers, repeats):
        super().__init__()
        self.repeats = repeats
        self.proj_a = nn.Linear(da, d, bias=False) if da != d else None
        self.proj_v = nn.Linear(dv, d, bias=False) if dv != d else None
        self.cross_av = Encoder(d, heads, layers, 0.0, True, False)
        self.cross_va = Encoder(d, heads, layers, 0.0, True, False)
        self.self_a = Encoder(d, heads, layers, 0.1, False, True)
        self.self_v = Encoder(d, heads, layers, 0.1, False, True)
        self.aux_a = Encoder(d, heads, layers, 0.1, False, False)
        self.aux_v = Encoder(d, heads, layers, 0.1, False, False)

    def representations(self, audio, apad, visual, vpad):
        a = (self.proj_a(audio) if self.proj_a is not None else audio).transpose(0, 1)
        v = (self.proj_v(visual) if self.proj_v is not None else visual).transpose(0, 1)
        ha = self.self_a(self.cross_av(a, apad, v, vpad), apad)
        hv = self.self_v(self.cross_va(v, vpad, a, apad), vpad)
        r_av = torch.cat([pool_last(ha, apad), pool_last(hv, vpad)], 1)
        xa, xv = a, v
        for _ in range(self.repeats):
            xa, xv = self.aux_a(xa, apad), self.aux_v(xv, vpad)
        return r_av, pool_last(xa, apad), pool_last(xv, vpad)


class LadderAV(Trunk):
    def __init__(self, da, dv, d=130, heads=10, layers=5, repeats=3, noise=0.3, lam=1.0):
        super().__init__(da, dv, d, heads, layers, repeats)
        self.noise, self.lam = noise, lam
        wav, wm = [2 * d, 2 * d, 2 * d, D_CLASSES], [d, 512, 256, d, D_CLASSES]
        self.lad_av, self.lad_a, self.lad_v = LadderEncoder(wav), LadderEncoder(wm), LadderEncoder(wm)
        self.dec_av, self.dec_a2v, self.dec_v2a = LadderDecoder(wav), LadderDecoder(wm), LadderDecoder(wm)

    def forward(self, audio, apad, visual, vpad):
        r_av, r_a, r_v = self.representations(audio, apad, visual, vpad)
        c_av, c_a, c_v = self.lad_av(r_av, 0.0), self.lad_a(r_a, 0.0), self.lad_v(r_v, 0.0)
        n_av, n_a, n_v = self.lad_av(r_av, self.noise), self.lad_a(r_a, self.noise), self.lad_v(r_v, self.noise)
        uns = self.dec_av(n_av["logits"], n_av, c_av)
        uns = uns + 0.5 * (self.dec_a2v(n_v["logits"], n_a, c_v) + self.dec_v2a(n_a["logits"], n_v, c_a))
        return [n_av["logits"], n_a["logits"], n_v["logits"]], self.lam * uns


class MlpHead(nn.Module):
    """worker/av_model.cc MakeMlpHead: ReLU layers with dropout, the last
    one residual (its width is the input's), then the class layer."""

    def __init__(self, widths, dropout=0.2):
        super().__init__()
        dims = [widths[-1]] + widths
        self.fc = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(len(widths))])
        self.out = nn.Linear(widths[-1], D_CLASSES)
        self.dropout = dropout

    def forward(self, r):
        h = r
        for fc in self.fc[:-1]:
            h = F.dropout(F.relu(fc(h)), self.dropout, self.training)
        return self.out(self.fc[-1](h) + r)


class Backbone(Trunk):
    """The backbone variant (AuxFormer: the same network without L_uns): an
    MLP head on the fused representation and one auxiliary head shared by
    the two modalities."""

    def __init__(self, da, dv, d=130, heads=10, layers=5, repeats=3):
        super().__init__(da, dv, d, heads, layers, repeats)
        self.head_av = MlpHead([2 * d, 2 * d])
        self.head_aux = MlpHead([512, 256, d])

    def forward(self, audio, apad, visual, vpad):
        r_av, r_a, r_v = self.representations(audio, apad, visual, vpad)
        logits = [self.head_av(r_av), self.head_aux(r_a), self.head_aux(r_v)]
        return logits, torch.zeros((), device=audio.device)


def load_store(path, partition):
    with open(os.path.join(path, "manifest.json")) as f:
        m = json.load(f)
    da, dv = m["audio"]["dim"], m["visual"]["dim"]
    audio = np.memmap(os.path.join(path, m["audio"]["file"]), dtype="<f4", mode="r").reshape(-1, da)
    visual = np.memmap(os.path.join(path, m["visual"]["file"]), dtype="<f2", mode="r").reshape(-1, dv)
    p = m["partitions"].index(partition)
    stats = np.fromfile(os.path.join(path, m["norm_stats"]["file"]), dtype="<f4")
    base = p * 2 * (da + dv)
    st = [stats[base:base + da], stats[base + da:base + 2 * da],
          stats[base + 2 * da:base + 2 * da + dv], stats[base + 2 * da + dv:base + 2 * (da + dv)]]
    return m, audio, visual, st


def make_batch(m, audio, visual, st, idx):
    clips = [m["clips"][i] for i in idx]
    ta = max(c["audio"][1] for c in clips)
    tv = max(c["visual"][1] for c in clips)
    da, dv = audio.shape[1], visual.shape[1]
    A = np.zeros((len(idx), ta, da), np.float32)
    V = np.zeros((len(idx), tv, dv), np.float32)
    ap = np.ones((len(idx), ta), bool)
    vp = np.ones((len(idx), tv), bool)
    for j, c in enumerate(clips):
        o, n = c["audio"]
        A[j, :n] = (audio[o:o + n] - st[0]) / st[1]
        ap[j, :n] = False
        o, n = c["visual"]
        V[j, :n] = (visual[o:o + n].astype(np.float32) - st[2]) / st[3]
        vp[j, :n] = False
    labels = [["ANG", "DIS", "FEA", "HAP", "NEU", "SAD"].index(c["label"]) for c in clips]
    return (torch.from_numpy(A), torch.from_numpy(ap), torch.from_numpy(V), torch.from_numpy(vp),
            torch.tensor(labels))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--batch-file", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--partition", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda:N (the same device as the C++ side)")
    ap.add_argument("--variant", default="ladder_av", choices=["ladder_av", "backbone"])
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the model (PyTorch 2.x; dynamic shapes: the batches' lengths vary)")
    args = ap.parse_args()
    device = torch.device(args.device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    m, audio, visual, st = load_store(args.store, args.partition)
    with open(args.batch_file) as f:
        batches = json.load(f)
    model = (LadderAV if args.variant == "ladder_av" else Backbone)(audio.shape[1], visual.shape[1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=7.25e-4)
    model.train()
    forward = model
    if args.compile:
        if not hasattr(torch, "compile"):
            raise SystemExit(f"torch.compile needs PyTorch 2.x; this is {torch.__version__}")
        forward = torch.compile(model, dynamic=True)
    compile_start = time.perf_counter()
    clips, start = 0, time.perf_counter()
    for step, idx in enumerate(batches):
        if step == args.warmup:
            sync()
            clips, start = 0, time.perf_counter()
            warmup_seconds = start - compile_start
        A, apad, V, vpad, y = (t.to(device) for t in make_batch(m, audio, visual, st, idx))
        logits, uns = forward(A, apad, V, vpad)
        sup = sum(F.cross_entropy(l, y) for l in logits) / len(logits)
        loss = sup + uns
        if not math.isfinite(loss.item()):
            raise SystemExit("non-finite loss")
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.8)
        opt.step()
        clips += len(idx)
    sync()
    seconds = time.perf_counter() - start
    print(json.dumps({"clips_per_s": clips / seconds, "clips": clips, "seconds": seconds, "device": str(device),
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "variant": args.variant,
                      "compiled": args.compile, "warmup_seconds": warmup_seconds}))


if __name__ == "__main__":
    main()
