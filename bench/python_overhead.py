"""The Python layer against the CLI on the same work (docs/PYTHON.md, "Overhead"): training
time, predict on 1M rows from a numpy array against `lstmsrc predict` on the same rows from
CSV, and a stream push per reading. Run from the repository after `make`:
    python3 bench/python_overhead.py [build/lstmsrc]"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import lstmsrc  # noqa: E402

CLI = sys.argv[1] if len(sys.argv) > 1 else "build/lstmsrc"


def wall(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def main():
    d = tempfile.mkdtemp()
    tr, big = os.path.join(d, "train.csv"), os.path.join(d, "big.csv")
    subprocess.check_call([CLI, "gen", "--rows", "100000", "--seed", "1", "-o", tr])
    subprocess.check_call([CLI, "gen", "--rows", "1000000", "--seed", "2", "-o", big])
    a = np.loadtxt(tr, delimiter=",", skiprows=1, dtype=np.float32)
    opts = ["--epochs", "3", "--hidden", "32", "--seq", "10", "--threads", "1"]
    model = os.path.join(d, "m.lsm")
    cli_t = min(wall(lambda: subprocess.check_call(
        [CLI, "train", tr, "-o", model, "--quiet", *opts], stdout=subprocess.DEVNULL))[0]
        for _ in range(2))
    py_t = min(wall(lambda: lstmsrc.train(a[:, 0], labels=a[:, 1:], epochs=3, hidden=32, seq=10,
                                          threads=1))[0] for _ in range(2))
    print("train 100k rows, 3 epochs, hidden 32, seq 10, 1 thread: CLI %.2f s (with reading "
          "the CSV), Python %.2f s (arrays in memory): %+.1f %%"
          % (cli_t, py_t, 100.0 * (py_t - cli_t) / cli_t))
    m = lstmsrc.Model.load(model)
    x = np.loadtxt(big, delimiter=",", skiprows=1, dtype=np.float32, usecols=0)
    cli_p = min(wall(lambda: subprocess.check_call(
        [CLI, "predict", model, big, "--proba"], stdout=subprocess.DEVNULL))[0]
        for _ in range(2))
    py_p = min(wall(lambda: m.predict_proba(x))[0] for _ in range(2))
    py_d = min(wall(lambda: m.predict(x))[0] for _ in range(2))
    print("predict 1M rows (all cores): `lstmsrc predict --proba` from CSV %.2f s, "
          "predict_proba from numpy %.2f s, predict (decisions) %.2f s" % (cli_p, py_p, py_d))
    s = m.stream()
    n = 100000
    t, _ = wall(lambda: [s.push(v) for v in x[:n]])
    print("stream push: %.1f us per reading (%d readings, Python loop included)"
          % (t * 1e6 / n, n))


if __name__ == "__main__":
    main()
