#!/usr/bin/python3
"""bench/transfer_trees.py — the trees of bench/baselines.py on bench/transfer.sh's task: trained
on REFIT house 2 (2014-06..09) and IDEAL house 65 (its three months), scored on IDEAL house 175,
WashingMachine and Dishwasher, from the raw exports (outages: Aggregate < 1 W; ON above 20 W and
15 W). One HistGradientBoostingClassifier per source on the W = 60 readings around the labelled
row (29 before it, 30 after: lstmsrc's centred window of 60), windows inside segments only (no
outage, no file boundary), p > 0.5, model fitted on every training window; and the same on the
first differences of the window, which do not see the base load.

    /usr/bin/python3 bench/transfer_trees.py [RAW_DIR] [--first-week]   (default ../shared/data/raw)

--first-week: also train on house 175's first week (its first 10080 rows: the export is one row a
minute from 2018-01-01 00:00, as `train --until 2018-01-07T23:59:59` keeps), and score on the
rest (`eval --from 2018-01-08T00:00:00`), as bench/transfer.sh's fine-tuning rows.
Needs numpy and scikit-learn (Debian: python3-sklearn)."""
import csv, gzip, os, sys
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

os.environ.setdefault("OMP_NUM_THREADS", "2")
ARGS = [a for a in sys.argv[1:] if a != "--first-week"]
WEEK = "--first-week" in sys.argv[1:]
RAW = ARGS[0] if ARGS else "../shared/data/raw"
TRAIN = [f"REFIT_House2_2014-0{m}.csv.gz" for m in (6, 7, 8, 9)] + [
    f"IDEAL_House65_{m}.csv.gz" for m in ("2017-06", "2018-02", "2018-04")]
UNSEEN = ["IDEAL_House175_2018-01.csv.gz"]
if WEEK:  # (file, first row, end row): the first week joins the training files
    TRAIN = TRAIN + [(UNSEEN[0], 0, 10080)]
    UNSEEN = [(UNSEEN[0], 10080, None)]
SRC = {"WashingMachine": 20.0, "Dishwasher": 15.0}
W, LEAD = 60, 29  # window rows; the labelled row's place in it (centre)


def windows(files, diff, step=1):
    xs, ys = [], []
    for f in files:
        f, lo, hi = f if isinstance(f, tuple) else (f, 0, None)
        with gzip.open(os.path.join(RAW, f), "rt") as fp:
            r = csv.reader(fp)
            h = next(r)
            cols = [h.index(s) for s in SRC]
            rows = [(float(row[1]), [float(row[c]) for c in cols]) for row in r][lo:hi]
        x = np.array([a for a, _ in rows], dtype=np.float32)
        y = np.array([[p > t for p, t in zip(b, SRC.values())] for _, b in rows], dtype=np.uint8)
        good = x >= 1.0
        # segments: runs of good rows (the minutes are consecutive in these exports)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], good.astype(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2]):
            if b - a < W:
                continue
            seg = x[a:b]
            idx = np.arange(0, b - a - W + 1, step)
            win = np.lib.stride_tricks.sliding_window_view(seg, W)[idx]
            if diff:
                win = np.diff(win, axis=1)
            xs.append(win.astype(np.float32))
            ys.append(y[a + idx + LEAD])
    return np.concatenate(xs), np.concatenate(ys)


def f1(p, t):
    tp = int(((p == 1) & (t == 1)).sum()); fp = int(((p == 1) & (t == 0)).sum())
    fn = int(((p == 0) & (t == 1)).sum())
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


print("| trees on | unseen macro F1 | WashingMachine F1 | Dishwasher F1 |")
print("| --- | ---: | ---: | ---: |")
for diff in (False, True):
    xt, yt = windows(TRAIN, diff)
    xu, yu = windows(UNSEEN, diff)
    scores = []
    for j, s in enumerate(SRC):
        m = HistGradientBoostingClassifier(random_state=1).fit(xt, yt[:, j])
        scores.append(f1(m.predict(xu), yu[:, j]))
    name = "first differences of 60 readings" if diff else "60 readings"
    print(f"| {name} | {np.mean(scores):.3f} | {scores[0]:.3f} | {scores[1]:.3f} |")
