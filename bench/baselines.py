#!/usr/bin/python3
"""bench/baselines.py — what a user would pick instead of lstmsrc, on the real meters.

    make baselines                         # both households, lstmsrc from build/
    /usr/bin/python3 bench/baselines.py [--lstmsrc build/lstmsrc] [--out bench/BASELINES.md]

Per data set (REFIT house 2 and IDEAL house 65 from data/): one scikit-learn
HistGradientBoostingClassifier per source on the raw window of the last W readings (W = 5 and
W = 60), trained on the training file and scored on the later test file. The windows are the
ones lstmsrc uses (src/data/window.c, src/post/metrics.c): a window is W consecutive rows, its label is
the state at its last row, so the first W-1 rows of a file have no window and are not scored;
the validation part is the last 10 % of the training file's rows and no window straddles it.
The trees also get W = 120 readings labelled at the window's centre (row W/2 before its last:
59 readings before the labelled one, 60 after), the framing of lstmsrc's default (--label-at
center: the doctor's window doubled, a bidirectional top layer); the last-row trees compare with
lstmsrc --label-at last.

Two decision rules, both reported:
  p > 0.5  the classifier's default; model fitted on every window of the training file.
  tuned    model fitted on the training part (first 90 % of rows), per-source threshold with the
           best F1 on the validation tail (the same sweep as lstmsrc's best_f1_threshold); a
           source never on in the tail keeps 0.5.
Rows of the printed table: the threshold floor ("on if reading > T", T stored in the lstmsrc
model file, i.e. fitted on its training part; without --lstmsrc fitted here the same way), the
trees, and lstmsrc trained with every default and --threads 1, and with --label-at last (when
--lstmsrc is given).
Nothing here is tuned on the test file. Needs numpy and scikit-learn (Debian: python3-sklearn).
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # a shared machine: one core, like --threads 1

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETS = [
    ("REFIT house 2", "data/refit_house2_1min_train.csv", "data/refit_house2_1min_test.csv"),
    ("IDEAL house 65", "data/ideal_house65_1min_train.csv", "data/ideal_house65_1min_test.csv"),
]
VAL_FRACTION = 0.1
SEED = 0


def load(path):
    with open(path, encoding="utf-8-sig") as fp:
        header = fp.readline().strip().split(",")
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return header[1:], a[:, 0].astype(np.float32), a[:, 1:].astype(np.uint8)


def windows(x, w):
    """(n - w + 1, w): row i holds x[i : i + w], the window whose label is row i + w - 1."""
    return np.lib.stride_tricks.sliding_window_view(x, w)


def split_rows(n, w):
    """lstmsrc's window_split: the last floor(n * 0.1) rows are validation (none if that part
    has no full window)."""
    val = int(n * round(VAL_FRACTION * 1e6) // 1000000)
    if val < w:
        val = 0
    return n - val


def f1_counts(pred, y):
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    return 2.0 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_f1_threshold(score, y, fallback):
    """metrics.c's sweep: ON if score > t; t midway between consecutive distinct scores (or
    below all); ties in F1 go to the higher threshold; no positives -> fallback."""
    y = y.astype(bool)
    if not y.any():
        return fallback
    order = np.argsort(score, kind="stable")
    s, t = score[order].astype(np.float64), y[order]
    n, pos = len(s), int(t.sum())
    # turning OFF the first r sorted items: tp = pos - positives among them
    cum_pos = np.concatenate(([0], np.cumsum(t)))
    last_of_group = np.r_[s[1:] != s[:-1], True]  # r = index + 1 ends a group of equal scores
    best_t, best = s[0] - 1.0, 2.0 * pos / (pos + n)  # everything ON
    for r in np.nonzero(last_of_group[:-1])[0] + 1:
        tp = pos - cum_pos[r]
        fp = (n - r) - tp
        fn = pos - tp
        f1 = 2.0 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 >= best:
            best, best_t = f1, 0.5 * (s[r - 1] + s[r])
    return best_t


def trees(train, test, w, tune, off=0):
    """off: rows from the labelled row to the window's last (w // 2: centred, as lstmsrc's
    --label-at center labels row seq/2 before the last)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    names, xtr, ytr = train
    _, xte, yte = test
    n = len(xtr)
    rows = split_rows(n, w) if tune else n
    xw, yw = windows(xtr[:rows], w), ytr[w - 1 - off : rows - off]
    xv = windows(xtr[rows:], w) if tune and rows < n else None
    yv = ytr[rows + w - 1 - off : n - off] if xv is not None else None
    xt, yt = windows(xte, w), yte[w - 1 - off : len(yte) - off]
    out, thr = [], []
    for j in range(len(names)):
        clf = HistGradientBoostingClassifier(random_state=SEED)
        clf.fit(xw, yw[:, j])
        t = 0.5
        if tune and xv is not None:
            t = best_f1_threshold(clf.predict_proba(xv)[:, 1], yv[:, j], 0.5)
        out.append(f1_counts(clf.predict_proba(xt)[:, 1] > t, yt[:, j]))
        thr.append(t)
    return out, thr, len(xt)


def floor_rule(train, test):
    names, xtr, ytr = train
    _, xte, yte = test
    rows = split_rows(len(xtr), 1)
    out = []
    for j in range(len(names)):
        t = best_f1_threshold(xtr[:rows], ytr[:rows, j], float(xtr[:rows].max()))
        out.append(f1_counts(xte > t, yte[:, j]))
    return out


def run_lstmsrc(exe, train_csv, test_csv, tmp, extra=()):
    model = os.path.join(tmp, "m.lsm")
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = ru.ru_utime + ru.ru_stime
    tr = subprocess.run([exe, "train", train_csv, "-o", model, "--threads", "1", "--quiet",
                         *extra], capture_output=True, text=True)
    if tr.returncode:
        sys.exit("baselines: lstmsrc train failed: " + tr.stderr.strip())
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    secs = ru.ru_utime + ru.ru_stime - t0  # CPU time: the machine may be shared
    ev = subprocess.run([exe, "eval", model, test_csv, "--json"], capture_output=True, text=True)
    if ev.returncode:
        sys.exit("baselines: lstmsrc eval failed: " + ev.stderr.strip())
    info = subprocess.run([exe, "inspect", model, "--json"], capture_output=True, text=True)
    seq = json.loads(info.stdout).get("seq_len") if info.returncode == 0 else None
    return json.loads(ev.stdout), secs, seq


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lstmsrc", help="a built lstmsrc binary to train and evaluate as well")
    ap.add_argument("--out", default=os.path.join(HERE, "BASELINES.md"),
                    help="markdown report (default bench/BASELINES.md; '-' = none)")
    ap.add_argument("--windows", default="5,60", help="tree window lengths (default 5,60)")
    ap.add_argument("--center-windows", default="120",
                    help="tree window lengths labelled at their centre, next to lstmsrc "
                         "--label-at center (default 120; '' = none)")
    args = ap.parse_args()
    import sklearn

    ws = [(int(v), 0) for v in args.windows.split(",") if v]
    ws += [(int(v), int(v) // 2) for v in args.center_windows.split(",") if v]
    md = []
    for title, trf, tef in SETS:
        train, test = load(os.path.join(ROOT, trf)), load(os.path.join(ROOT, tef))
        names = train[0]
        rows = []  # (label, per-source F1, note)
        lsm = lsc = None
        if args.lstmsrc:
            with tempfile.TemporaryDirectory() as tmp:
                lsm = run_lstmsrc(args.lstmsrc, os.path.join(ROOT, trf), os.path.join(ROOT, tef),
                                  tmp)
                if any(not off for _, off in ws):
                    lsc = run_lstmsrc(args.lstmsrc, os.path.join(ROOT, trf),
                                      os.path.join(ROOT, tef), tmp, ("--label-at", "last"))
            ev = lsm[0]
            rows.append(("threshold floor (reading > T, T from the model file)",
                         [s["f1"] for s in ev["baselines"]["threshold"]["sources"]],
                         f"{ev['windows']} windows"))
        else:
            rows.append(("threshold floor (reading > T, T fitted on the training part)",
                         floor_rule(train, test), f"{len(test[1])} rows"))
        for w, off in ws:
            for tune in (False, True):
                t0 = time.process_time()
                f1, thr, nw = trees(train, test, w, tune, off)
                rule = "tuned thresholds" if tune else "p > 0.5"
                if off:
                    rule = "labelled at its centre, " + rule
                note = f"{nw} windows, {time.process_time() - t0:.0f} s CPU"
                if tune:
                    note += ", thresholds " + " ".join(f"{t:.3f}" for t in thr)
                rows.append((f"trees, W {w}, {rule}", f1, note))
        if lsm:
            ev, secs, seq = lsm
            rows.append((f"lstmsrc, defaults (centred label, window {seq}, bidirectional)",
                         [s["f1"] for s in ev["sources"]],
                         f"{ev['windows']} windows, trained in {secs:.0f} s CPU"))
        if lsc:
            ev, secs, seq = lsc
            rows.append((f"lstmsrc, --label-at last (window {seq})",
                         [s["f1"] for s in ev["sources"]],
                         f"{ev['windows']} windows, trained in {secs:.0f} s CPU"))
        head = "| model | " + " | ".join(names) + " | macro F1 | |"
        md.append(f"### {title} (test file `{tef}`)\n")
        md.append(head)
        md.append("| --- |" + " ---: |" * (len(names) + 1) + " --- |")
        print(f"\n{title}: {tef}")
        print(f"{'model':<46}" + "".join(f"{n[:14]:>15}" for n in names) + f"{'macro F1':>10}")
        for label, f1, note in rows:
            macro = float(np.mean(f1))
            md.append(f"| {label} | " + " | ".join(f"{v:.3f}" for v in f1) +
                      f" | **{macro:.3f}** | {note} |")
            print(f"{label[:45]:<46}" + "".join(f"{v:>15.3f}" for v in f1) + f"{macro:>10.3f}")
        md.append("")
    if args.out != "-":
        with open(args.out + ".tmp", "w", encoding="utf-8") as fp:
            fp.write("# Baselines on the real meters\n\n")
            fp.write("Written by `make baselines` (bench/baselines.py; what each row is: see its "
                     "docstring). Per-source F1 and macro F1 on each household's test file; "
                     "everything fitted on the training file only, choices made on its last "
                     "10 % (validation), never on the test file.\n\n")
            fp.write(f"Run {time.strftime('%Y-%m-%d', time.gmtime())} on {platform.machine()}, "
                     f"Python {platform.python_version()}, scikit-learn {sklearn.__version__} "
                     f"(HistGradientBoostingClassifier, default settings, random_state {SEED}, "
                     f"one per source on the W raw readings of the window).\n\n")
            fp.write("\n".join(md))
        os.replace(args.out + ".tmp", args.out)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
