"""A real household (REFIT house 2, 1-minute readings; data/README.md says where it comes from):
a pandas DataFrame with its time column in, a model out, its scores on the held-out test
file next to "all off". Run: PYTHONPATH=python python3 examples/python/households.py [EPOCHS]"""

import os
import sys

import pandas as pd

import lstmsrc

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
train = pd.read_csv(os.path.join(here, "refit_house2_1min_train.csv"))
test = pd.read_csv(os.path.join(here, "refit_house2_1min_test.csv"))
print("train %d rows, test %d rows, sources %s" % (len(train), len(test),
                                                    ", ".join(train.columns[1:])))
m = lstmsrc.train(train, epochs=epochs, hidden=32, threads=2, progress=True)
print(m, "stopped early:" if m.stopped else "", m.stopped or "")
e = m.evaluate(test)
for s in e["sources"]:
    print("%-16s F1 %.3f (threshold rule %.3f)" % (
        s["name"], s["f1"], next(b["f1"] for b in e["baselines"]["threshold"]["sources"]
                                 if b["name"] == s["name"])))
print("macro F1 %.3f; beats all off: %s" % (e["macro_f1"], e["beats_all_off"]))
