#!/usr/bin/python3
"""bench/torch_households.py -- lstmsrc's Python package next to the PyTorch model a user would
write for the same job, on the two real households in data/: seconds per epoch and test macro F1,
one run each, same epochs.

    /usr/bin/python3 bench/torch_households.py [--epochs 2] [--threads 1] [--out FILE]

For each household: lstmsrc.train on the training file with its defaults (the data doctor picks
the window; raw reading and first difference, centred label, a bidirectional top layer, H 64,
batch 512, Adam 1e-3, pos_weight negatives/positives capped at 50, thresholds tuned on the
validation tail), scored with model.evaluate on the test file. Then the same model in PyTorch,
written as a user would with torch.nn: nn.LSTM(2, 64, bidirectional=True) over the same windows
(the window and label row lstmsrc chose, read off model.info), nn.Linear on the labelled row's
two hidden states, BCEWithLogitsLoss with the same positive weights, Adam(lr 1e-3, eps 1e-7),
batch 512, shuffled, inputs standardised with the training part's mean and std; per-source
thresholds tuned on the same validation windows for the best F1, then scored on every window of
the test file. Both on `--threads` threads. Timing is the training loop only (no file reading).
Needs numpy and Debian's python3-torch; the package from python/ (build/liblstmsrc.so).
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import lstmsrc  # noqa: E402

HOUSES = [("REFIT house 2", "refit_house2_1min"), ("IDEAL house 65", "ideal_house65_1min")]


def load(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return np.ascontiguousarray(d[:, 0]), np.ascontiguousarray(d[:, 1:]).astype(np.uint8)


def channels(x):
    d = np.zeros_like(x)
    d[1:] = x[1:] - x[:-1]
    return np.stack([x, d], axis=1)


def best_f1(p, y):
    best_t, best = 0.5, -1.0
    for t in np.linspace(0.01, 0.99, 99):
        on = p > t
        tp = np.sum(on & (y == 1))
        fp = np.sum(on & (y == 0))
        fn = np.sum(~on & (y == 1))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best:
            best_t, best = t, f1
    return best_t


def f1(on, y):
    tp = np.sum(on & (y == 1))
    fp = np.sum(on & (y == 0))
    fn = np.sum(~on & (y == 1))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def torch_run(info, xtr, ytr, xte, yte, epochs, threads):
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    T, c = info["seq"], info["seq"] - 1 - info["label_offset"]
    n_tr = info["rows_train"]
    ch = channels(xtr)
    mean, std = ch[:n_tr].mean(axis=0), ch[:n_tr].std(axis=0)
    ch = (ch - mean) / std
    che = (channels(xte) - mean) / std
    K = ytr.shape[1]

    def windows(a, y, lo, hi):  # windows lying inside rows lo..hi-1
        starts = np.arange(lo, hi - T + 1)
        return starts, y[starts + c]

    tr_s, tr_y = windows(ch, ytr, 0, n_tr)
    va_s, va_y = windows(ch, ytr, n_tr, len(ch))
    te_s, te_y = windows(che, yte, 0, len(che))
    pos = tr_y.sum(axis=0).astype(np.float64)
    pw = np.minimum((len(tr_y) - pos) / np.maximum(pos, 1), 50.0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, info["hidden"], batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * info["hidden"], K)

        def forward(self, xb):
            out, _ = self.lstm(xb)
            return self.head(out[:, c, :])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw, dtype=torch.float32))
    idx = np.arange(T)

    def gather(a, s):
        return torch.from_numpy(a[s[:, None] + idx[None, :]])

    def probs(a, starts):
        net.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(starts), 4096):
                out.append(torch.sigmoid(net(gather(a, starts[i:i + 4096]))).numpy())
        net.train()
        return np.concatenate(out)

    rng = np.random.default_rng(1)
    secs = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(tr_s))
        for i in range(0, len(order), 512):
            b = order[i:i + 512]
            opt.zero_grad()
            loss = loss_fn(net(gather(ch, tr_s[b])), torch.from_numpy(tr_y[b].astype(np.float32)))
            loss.backward()
            opt.step()
        secs.append(time.perf_counter() - t0)
    pv, pt = probs(ch, va_s), probs(che, te_s)
    f1s = []
    for j in range(K):
        t = best_f1(pv[:, j], va_y[:, j]) if va_y[:, j].any() else 0.5
        f1s.append(f1(pt[:, j] > t, te_y[:, j]))
    return float(np.median(secs)), float(np.mean(f1s)), f1s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    data = os.path.join(HERE, "..", "data")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor())
    lines = ["CPU: %s; %d thread(s), %d epochs each, one run" % (cpu, a.threads, a.epochs), "",
             "| household | window | lstmsrc s/epoch | PyTorch s/epoch | ratio | lstmsrc macro F1 | "
             "PyTorch macro F1 |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, stem in HOUSES:
        xtr, ytr = load(os.path.join(data, stem + "_train.csv"))
        xte, yte = load(os.path.join(data, stem + "_test.csv"))
        ep = []

        def progress(p):
            if p.end_of_epoch:
                ep.append(p.seconds)

        m = lstmsrc.train(xtr, ytr, epochs=a.epochs, threads=a.threads, progress=progress)
        ls = float(np.median(ep))
        lf = m.evaluate(xte, yte)["macro_f1"]
        info = m.info
        ts, tf, _ = torch_run(info, xtr, ytr, xte, yte, a.epochs, a.threads)
        lines.append("| %s | %d | %.1f | %.1f | %.1fx | %.3f | %.3f |" %
                     (name, info["seq"], ls, ts, ts / ls, lf, tf))
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
