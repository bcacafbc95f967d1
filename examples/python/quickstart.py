"""Quick start: synthetic data from lstmsrc.gen (the rows `lstmsrc gen` writes), a model
trained from numpy, its scores, a stream. Run: PYTHONPATH=python python3
examples/python/quickstart.py"""

import lstmsrc

x, y = lstmsrc.gen(rows=20000, seed=1)
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
