"""Quick start: synthetic data from `lstmsrc gen`, a model trained from numpy, its scores, a
stream. Run: PYTHONPATH=python python3 examples/python/quickstart.py [path/to/lstmsrc]"""

import os
import subprocess
import sys
import tempfile

import numpy as np

import lstmsrc

cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "lstmsrc")
path = os.path.join(tempfile.mkdtemp(), "gen.csv")
subprocess.check_call([cli, "gen", "--rows", "20000", "--seed", "1", "-o", path])
d = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
x, y = d[:, 0], d[:, 1:]
train, test = slice(0, 16000), slice(16000, None)

print(lstmsrc.doctor(x[train], labels=y[train]).findings[:1])
m = lstmsrc.train(x[train], labels=y[train], epochs=3, hidden=16, threads=1)
print(m)
e = m.evaluate(x[test], labels=y[test])
print("test macro F1 %.3f, subset accuracy %.3f (all off %.3f)"
      % (e["macro_f1"], e["subset_accuracy"], e["baselines"]["all_off"]["subset_accuracy"]))
s = m.stream()
decided = [dec for v in x[test][:100] for dec in s.push(v)]
print("stream: %d of 100 rows decided so far, the last %s" % (len(decided), decided[-1]))
