#!/usr/bin/python3
"""torch_ref.py -- the PyTorch side of `make bench`: the same model, data and training setup as
lstmsrc (LSTM(1, H) over windows of SEQ rows, Linear(H, K) on the last hidden state, sigmoid +
binary cross-entropy with pos_weight, Adam lr 1e-3 eps 1e-7, batch 512, shuffled windows from the
first 90% of the rows, readings standardised with the training part's mean and std).

Prints "key value" lines (seconds per epoch of the training loop alone, median of the epochs;
inference windows/s at batch 4096; one-window latency) for bench/run.sh. Timing only: it does not
check accuracy. Uses Debian's python3-torch; run with /usr/bin/python3.

usage: torch_ref.py CSV HIDDEN THREADS EPOCHS [--infer] [--max-batches N]
  --max-batches N: time the first N batches of each epoch and scale to the whole epoch (keeps
  slow configurations, such as 2 threads on a busy machine, within minutes); reported as
  epoch_s_scaled next to the batch count.
"""
import statistics
import sys
import time

import numpy as np
import torch

SEQ, BATCH, VAL = 5, 512, 0.1


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    x, y = data[:, :1], data[:, 1:]
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


class Net(torch.nn.Module):
    def __init__(self, hidden, k):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, k)

    def forward(self, xb):
        out, _ = self.lstm(xb)
        return self.head(out[:, -1, :])


def main():
    path, hidden, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    infer = "--infer" in sys.argv[5:]
    max_batches = 0
    if "--max-batches" in sys.argv[5:]:
        max_batches = int(sys.argv[sys.argv.index("--max-batches") + 1])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x, y = load(path)
    n = x.shape[0]
    train_rows = n - int(n * VAL)
    mean, std = x[:train_rows].mean(), x[:train_rows].std()
    xs = torch.from_numpy((x - mean) / std)
    ys = torch.from_numpy(y)
    nw = train_rows - SEQ + 1
    # all windows as a (n - SEQ + 1, SEQ, 1) view; a batch is gathered by index
    windows = xs.unfold(0, SEQ, 1).transpose(1, 2)
    labels = ys[SEQ - 1:]
    k = y.shape[1]
    pos = labels[:nw].sum(0)
    pos_weight = ((nw - pos) / pos.clamp(min=1)).clamp(1 / 50, 50)
    model = Net(hidden, k)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    tag = "H%d_%dt" % (hidden, threads)
    times = []
    nbatches = (nw + BATCH - 1) // BATCH
    run_batches = min(max_batches, nbatches) if max_batches > 0 else nbatches
    for _ in range(epochs):
        order = torch.randperm(nw)
        t0 = time.perf_counter()
        for b0 in range(0, run_batches * BATCH, BATCH):
            idx = order[b0:b0 + BATCH]
            xb, yb = windows[idx], labels[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        times.append((time.perf_counter() - t0) * nbatches / run_batches)
    print("torch_train_%s_windows %d" % (tag, nw))
    print("torch_train_%s_batches_timed %d of %d" % (tag, run_batches, nbatches))
    print("torch_train_%s_epoch_s_median %.3f" % (tag, statistics.median(times)))
    print("torch_train_%s_epoch_s_min %.3f" % (tag, min(times)))
    if not infer:
        return
    model.eval()
    allw = windows.contiguous()
    with torch.no_grad():
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            for b0 in range(0, allw.shape[0], 4096):
                torch.sigmoid(model(allw[b0:b0 + 4096]))
            runs.append(time.perf_counter() - t0)
        print("torch_infer_H%d_windows_per_s %.0f" % (hidden, allw.shape[0] / statistics.median(runs)))
        one = allw[:1]
        for _ in range(100):
            model(one)
        lat = []
        for i in range(2000):
            t0 = time.perf_counter()
            torch.sigmoid(model(allw[i:i + 1]))
            lat.append(time.perf_counter() - t0)
        print("torch_window_H%d_us %.1f" % (hidden, statistics.median(lat) * 1e6))


if __name__ == "__main__":
    main()
