"""The Python package against the CLI it sits beside: the same data and options train the same
model bytes, predict_proba gives `lstmsrc predict --proba`'s numbers, a model survives save and
load, and every failure is an exception naming what and where.

Run by tests/cli_python.sh (make test) with LSTMSRC_LIB and LSTMSRC_CLI set to the build's
library and CLI; by hand: LSTMSRC_CLI=build/lstmsrc python3 -m pytest python/tests."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lstmsrc  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("LSTMSRC_CLI", os.path.join(REPO, "build", "lstmsrc"))
SMALL = {"epochs": 2, "hidden": 8, "seq": 6, "threads": 1}
SMALL_ARGS = ["--epochs", "2", "--hidden", "8", "--seq", "6", "--threads", "1"]


def cli(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def read_csv(path):
    """(header, float32 array) of a CSV whose empty or NA cells become NaN."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    data = [[np.nan if c in ("", "NA") else float(c) for c in r] for r in rows[1:]]
    return rows[0], np.array(data, dtype=np.float32)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("lstmsrc")


@pytest.fixture(scope="module")
def gen(tmp):
    p = tmp / "gen.csv"
    cli("gen", "--rows", "4000", "--seed", "3", "-o", str(p))
    return p


@pytest.fixture(scope="module")
def gen_classes(tmp):
    p = tmp / "classes.csv"
    cli("gen", "--rows", "4000", "--seed", "4", "--classes", "-o", str(p))
    return p


def train_both(tmp, csv_path, py_kwargs, cli_args, name):
    """Trains with the CLI on the file and with Python on its numbers; returns both files' bytes
    and the Python model."""
    header, d = read_csv(csv_path)
    cli_model = tmp / (name + "-cli.lsm")
    cli("train", str(csv_path), "-o", str(cli_model), "--quiet", *cli_args)
    if "class" in header:
        m = lstmsrc.train(d[:, 0], classes=d[:, 1].astype(np.int32), **py_kwargs)
    else:
        m = lstmsrc.train(d[:, 0], labels=d[:, 1:], label_names=header[1:],
                          input_names=header[:1], **py_kwargs)
    py_model = tmp / (name + "-py.lsm")
    m.save(py_model)
    return cli_model.read_bytes(), py_model.read_bytes(), m


@pytest.mark.parametrize("name,kwargs,args", [
    ("small", SMALL, SMALL_ARGS),
    ("last-raw", dict(SMALL, label_at="last", features="raw", lr=0.003, batch=128),
     SMALL_ARGS + ["--label-at", "last", "--features", "raw", "--lr", "0.003", "--batch", "128"]),
    ("doctor-defaults", {"epochs": 1, "hidden": 8, "threads": 1},
     ["--epochs", "1", "--hidden", "8", "--threads", "1"]),
    ("tuned", dict(SMALL, durations="tune", select="f1", val=0.2, seed=7, directions=1),
     SMALL_ARGS + ["--durations", "tune", "--select", "f1", "--val", "0.2", "--seed", "7",
                   "--directions", "1"]),
    ("ema-fp32", dict(SMALL, ema=0.9, precision="fp32"),
     SMALL_ARGS + ["--ema", "0.9", "--precision", "fp32"]),
])
def test_same_model_bytes_as_cli(tmp, gen, name, kwargs, args):
    a, b, _ = train_both(tmp, gen, kwargs, args, name)
    assert a == b


def test_same_model_bytes_multiclass(tmp, gen_classes):
    a, b, m = train_both(tmp, gen_classes, SMALL, SMALL_ARGS + ["--class-column", "class"], "mc")
    assert a == b
    assert m.info["task"] == "multiclass"


def test_same_model_bytes_with_missing_rows(tmp, gen):
    """NaN readings are a CSV's empty cells: missing rows, segments split there."""
    header, d = read_csv(gen)
    lines = gen.read_text().splitlines()
    for r in (0, 700, 701, 2500):
        d[r, 0] = np.nan
        cells = lines[r + 1].split(",")
        cells[0] = ""
        lines[r + 1] = ",".join(cells)
    holes = tmp / "holes.csv"
    holes.write_text("\n".join(lines) + "\n")
    cli_model = tmp / "holes-cli.lsm"
    cli("train", str(holes), "-o", str(cli_model), "--quiet", *SMALL_ARGS)
    m = lstmsrc.train(d[:, 0], d[:, 1:], **SMALL)
    m.save(tmp / "holes-py.lsm")
    assert cli_model.read_bytes() == (tmp / "holes-py.lsm").read_bytes()
    # and prediction splits there as `lstmsrc predict` does
    p = m.predict_proba(d[:, 0])
    _, want = read_csv_pred(cli("predict", str(cli_model), str(holes), "--proba"))
    np.testing.assert_allclose(p, want[:, 3:], atol=1e-6)
    assert np.isnan(p[700:702]).all()


def read_csv_pred(text):
    rows = list(csv.reader(text.splitlines()))
    data = [[np.nan if c == "" else float(c) for c in r] for r in rows[1:]]
    return rows[0], np.array(data, dtype=np.float64)


@pytest.mark.parametrize("kind", ["multilabel", "multiclass"])
def test_predict_equals_cli(tmp, gen, gen_classes, kind):
    path = gen if kind == "multilabel" else gen_classes
    extra = [] if kind == "multilabel" else ["--class-column", "class"]
    model = tmp / ("pred-%s.lsm" % kind)
    cli("train", str(path), "-o", str(model), "--quiet", *SMALL_ARGS, *extra)
    m = lstmsrc.Model.load(model)
    _, d = read_csv(path)
    header, want = read_csv_pred(cli("predict", str(model), str(path), "--proba"))
    p = m.predict_proba(d[:, 0])
    k = m.info["outputs"]
    assert p.shape == (len(d), k)
    np.testing.assert_allclose(p, want[:, -k:], atol=1e-6)  # NaN where the CLI left it empty
    assert np.isnan(p).any(axis=1).sum() == m.info["seq"] - 1
    on = m.predict(d[:, 0])
    if kind == "multilabel":
        got = np.where(on < 0, np.nan, on)
        np.testing.assert_array_equal(got, want[:, :k])
    else:
        assert header[0] == "class"
        got = np.where(on < 0, np.nan, on)
        np.testing.assert_array_equal(got, want[:, 0])


def test_save_load_round_trip(tmp, gen):
    _, d = read_csv(gen)
    m = lstmsrc.train(d[:, 0], d[:, 1:], **SMALL)
    m.save(tmp / "a.lsm")
    m2 = lstmsrc.Model.load(tmp / "a.lsm")
    m2.save(str(tmp / "b.lsm"))
    assert (tmp / "a.lsm").read_bytes() == (tmp / "b.lsm").read_bytes()
    assert m.info == m2.info
    assert m2.info["input_names"] == ["reading"]
    assert m2.info["output_names"] == ["src1", "src2", "src3"]
    assert m2.info["seq"] == 6 and m2.info["hidden"] == 8 and m2.info["epochs_run"] == 2
    np.testing.assert_array_equal(m.predict_proba(d[:, 0]), m2.predict_proba(d[:, 0]))
    assert "window 6" in repr(m2)


def test_inputs_of_any_dtype_and_layout(gen):
    _, d = read_csv(gen)
    m = lstmsrc.train(d[:, 0], d[:, 1:].astype(bool), **SMALL)
    x = d[:, 0]
    ref = m.predict_proba(x)
    np.testing.assert_array_equal(m.predict_proba(x.astype(np.float64)), ref)
    np.testing.assert_array_equal(m.predict_proba(list(x)), ref)
    wide = np.stack([x, x], axis=1)[:, ::2]  # a non-contiguous column
    np.testing.assert_array_equal(m.predict_proba(wide), ref)
    short = m.predict_proba(x[:3])  # fewer rows than a window: nothing to predict
    assert short.shape == (3, 3) and np.isnan(short).all()


def test_data_errors_are_located():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.zeros((20, 2), dtype=np.uint8)
    x[11, 1] = np.inf
    with pytest.raises(lstmsrc.DataError, match=r"row 12, column 2 \(x2\): expected a finite "
                                                r"number, found inf"):
        lstmsrc.train(x, y)
    x[11, 1] = 1
    y[3, 0] = 2
    with pytest.raises(lstmsrc.DataError, match=r"row 4, label column 1 \(Kettle\): expected 0 "
                                                r"or 1, found 2"):
        lstmsrc.train(x, y, label_names=["Kettle", "Oven"])
    c = np.zeros(20, dtype=np.int32)
    c[7] = -3
    with pytest.raises(lstmsrc.DataError, match=r"row 8, class column \(class\)"):
        lstmsrc.train(x, classes=c)
    with pytest.raises(lstmsrc.DataError, match="too few|window|rows") as e:
        lstmsrc.train(x[:3], np.zeros((3, 1)), epochs=1)
    assert e.value.status == 3


def test_file_errors(tmp):
    with pytest.raises(lstmsrc.FileError, match="nothing.lsm"):
        lstmsrc.Model.load(tmp / "nothing.lsm")
    bad = tmp / "bad.lsm"
    bad.write_bytes(b"not a model at all" * 10)
    with pytest.raises(lstmsrc.Error, match="bad.lsm") as e:
        lstmsrc.Model.load(bad)
    assert isinstance(e.value, (lstmsrc.FormatError, lstmsrc.VersionError))


def test_argument_errors_name_the_argument(gen):
    _, d = read_csv(gen)
    x, y = d[:, 0], d[:, 1:]
    with pytest.raises(TypeError, match="hidden"):
        lstmsrc.train(x, y, hidden="64")
    with pytest.raises(TypeError, match="unexpected keyword argument 'hiden'"):
        lstmsrc.train(x, y, hiden=8)
    with pytest.raises(ValueError, match="seq"):
        lstmsrc.train(x, y, seq=0)
    with pytest.raises(ValueError, match="label_at"):
        lstmsrc.train(x, y, label_at="middle")
    with pytest.raises(ValueError, match="features"):
        lstmsrc.train(x, y, features="raw,log")
    with pytest.raises(ValueError, match="labels: expected \\(4000,\\)"):
        lstmsrc.train(x, y[:10])
    with pytest.raises(ValueError, match="labels: row 2, column 1: expected 0 or 1, found 0.5"):
        lstmsrc.train(x, np.array([[0], [0.5]] + [[0]] * 3998))
    with pytest.raises(ValueError, match="labels and classes"):
        lstmsrc.train(x, y, classes=np.zeros(len(x)))
    with pytest.raises(ValueError, match="labels or classes"):
        lstmsrc.train(x)
    with pytest.raises(TypeError, match="x: expected numbers"):
        lstmsrc.train(np.array(["a"] * 10), np.zeros(10))
    with pytest.raises(ValueError, match="x: expected a \\(rows,\\) or \\(rows, inputs\\)"):
        lstmsrc.train(np.zeros((2, 2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="input_names: expected 1 name, got 2"):
        lstmsrc.train(x, y, input_names=["a", "b"])
    # what only the library knows is still a ValueError (ArgumentError or LimitError)
    with pytest.raises(ValueError, match="hidden|4096"):
        lstmsrc.train(x, y, hidden=100000, epochs=1)
    m = lstmsrc.train(x, y, epochs=1, hidden=4, threads=1)
    with pytest.raises(ValueError, match="x: the model reads 1 input \\(reading\\), got 2"):
        m.predict_proba(np.zeros((10, 2)))
    with pytest.raises(TypeError, match="threads"):
        m.predict(x, threads=1.5)


def test_predict_refuses_what_a_file_could_not_hold(gen):
    _, d = read_csv(gen)
    m = lstmsrc.train(d[:, 0], d[:, 1:], **SMALL)
    x = d[:100, 0].copy()
    x[50] = np.inf
    with pytest.raises(ValueError, match="x: row 51, column 1: expected a finite number"):
        m.predict_proba(x)
    with pytest.raises(ValueError, match="x: row 3, column 1: 1e\\+39 does not fit a float32"):
        m.predict(np.r_[1.0, 2.0, 1e39, np.zeros(10)])
    big = np.array([3.4e38, -3.4e38] * 10, dtype=np.float32)
    with pytest.raises(ValueError, match="x: row 2, column 1: the step .* overflows a float"):
        m.predict_proba(big)
    x[50] = np.nan  # missing: the rows around it are predicted, it is not
    p = m.predict_proba(x)
    assert np.isnan(p[50]).all() and not np.isnan(p[20]).any()


def test_progress_callable_sees_every_epoch(gen):
    header, d = read_csv(gen)
    seen = []
    m = lstmsrc.train(d[:, 0], labels=d[:, 1:], progress=seen.append, **SMALL)
    ends = [p for p in seen if p.end_of_epoch]
    assert [p.epoch for p in ends] == [1, 2]
    assert all(p.step == p.steps and p.done == p.total for p in ends)
    assert all(p.val_loss is not None and p.loss > 0 for p in ends)
    steps = [p for p in seen if not p.end_of_epoch and p.epoch == 1]
    assert [p.step for p in steps] == list(range(1, ends[0].steps + 1))
    assert m.stopped is None


def test_progress_true_and_the_same_bytes(tmp, gen):
    header, d = read_csv(gen)
    a = lstmsrc.train(d[:, 0], labels=d[:, 1:], progress=True, **SMALL)
    b = lstmsrc.train(d[:, 0], labels=d[:, 1:], **SMALL)
    a.save(tmp / "pa.lsm")
    b.save(tmp / "pb.lsm")
    assert (tmp / "pa.lsm").read_bytes() == (tmp / "pb.lsm").read_bytes()


def test_progress_returning_true_stops_with_a_model(gen):
    header, d = read_csv(gen)
    m = lstmsrc.train(d[:, 0], labels=d[:, 1:], progress=lambda p: p.epoch == 2,
                      **dict(SMALL, epochs=5))
    assert m.stopped and m.info["epochs_run"] == 1
    assert m.predict(d[:, 0]).shape == (d.shape[0], 3)


def test_progress_that_raises_stops_and_raises(gen):
    header, d = read_csv(gen)

    def boom(p):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        lstmsrc.train(d[:, 0], labels=d[:, 1:], progress=boom, **SMALL)
    with pytest.raises(TypeError, match="progress"):
        lstmsrc.train(d[:, 0], labels=d[:, 1:], progress=3, **SMALL)


CTRL_C = r"""
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, lstmsrc
rng = np.random.default_rng(1)
x = rng.random(40000, dtype=np.float32)
y = (x > 0.5).astype(np.uint8)
said = []
def progress(p):
    if not said:
        said.append(1)
        print("training", flush=True)
m = lstmsrc.train(x, labels=y, epochs=100000, hidden=8, seq=5, threads=1, progress=progress)
m.save(sys.argv[2])
print("stopped:", m.stopped, flush=True)
print("epochs_run:", m.info["epochs_run"], flush=True)
"""


def test_ctrl_c_stops_training_and_keeps_the_best_model(tmp):
    import signal
    import time
    path = tmp / "ctrl-c.lsm"
    pkg = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    p = subprocess.Popen([sys.executable, "-c", CTRL_C, pkg, str(path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "training"
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    try:
        out, errs = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    assert p.returncode == 0, errs
    assert "stopped: interrupted after" in out, out
    m = lstmsrc.Model.load(path)
    assert 0 < m.info["epochs_run"] < 100000
    assert m.info["best_epoch"] >= 1


def g6(v):
    """A number as `eval --json` writes it (%.6g), for comparing."""
    if isinstance(v, dict):
        return {k: g6(x) for k, x in v.items()}
    if isinstance(v, list):
        return [g6(x) for x in v]
    if isinstance(v, float):
        return float("%.6g" % v)
    return v


@pytest.fixture(scope="module")
def filtered(tmp, gen):
    """A multi-label model with minimum durations (a stream's decisions wait for them)."""
    header, d = read_csv(gen)
    m = lstmsrc.train(d[:, 0], labels=d[:, 1:], min_on=3, min_off=2, **SMALL)
    m.save(tmp / "filtered.lsm")
    return m, d


@pytest.mark.parametrize("raw", [False, True])
def test_evaluate_equals_cli_eval_json(tmp, gen, filtered, raw):
    import json
    m, d = filtered
    e = m.evaluate(d[:, 0], labels=d[:, 1:], raw=raw)
    c = json.loads(cli("eval", str(tmp / "filtered.lsm"), str(gen), "--json",
                       *(["--raw"] if raw else [])))
    del c["model"], c["data"]
    assert g6(e) == c


def test_evaluate_multiclass_equals_cli(tmp, gen_classes):
    import json
    header, d = read_csv(gen_classes)
    m = lstmsrc.train(d[:, 0], classes=d[:, 1].astype(np.int32), **SMALL)
    m.save(tmp / "mc.lsm")
    e = m.evaluate(d[:, 0], classes=d[:, 1].astype(np.int32))
    c = json.loads(cli("eval", str(tmp / "mc.lsm"), str(gen_classes), "--json"))
    del c["model"], c["data"]
    assert g6(e) == c
    with pytest.raises(ValueError, match="classes"):
        m.evaluate(d[:, 0])


def test_doctor_text_equals_cli(gen, gen_classes):
    for path in (gen, gen_classes):
        header, d = read_csv(path)
        if "class" in header:
            r = lstmsrc.doctor(d[:, 0], classes=d[:, 1].astype(np.int32), name=str(path))
        else:
            r = lstmsrc.doctor(d[:, 0], labels=d[:, 1:], name=str(path),
                               label_names=header[1:])
        flags = ["--class-column", "class"] if "class" in header else []
        assert str(r) == cli("doctor", str(path), *flags)
        assert r.findings and all(isinstance(f, lstmsrc.Finding) for f in r.findings)
        assert {f.severity for f in r.findings} <= {"info", "warn", "problem"}
    r = lstmsrc.doctor(d[:, 0])  # readings only
    assert not r.has_labels and "no labels" in str(r)


def stream_all(m, x):
    s = m.stream()
    out = []
    for v in x:
        out += s.push(v)
    return out + s.flush(), s


def test_stream_equals_predict(filtered, gen_classes):
    m, d = filtered
    x = d[:3000, 0].copy()
    x[1000] = np.nan  # a gap: the series starts again after it
    out, s = stream_all(m, x)
    assert s.delay == m.info["label_offset"] + m.info["decision_delay"] > m.info["label_offset"]
    assert [o.row for o in out] == list(range(len(x)))
    on, p = m.predict(x), m.predict_proba(x)
    for o in out:
        if o.on is None:
            assert (on[o.row] == -1).all()
        else:
            assert (o.on == on[o.row]).all() and (o.proba == p[o.row]).all()
    header, d = read_csv(gen_classes)
    mc = lstmsrc.train(d[:, 0], classes=d[:, 1].astype(np.int32), **SMALL)
    out, _ = stream_all(mc, d[:800, 0])
    cls = mc.predict(d[:800, 0])
    assert [(-1 if o.on is None else o.on) for o in out] == list(cls)
    with pytest.raises(ValueError, match="reading"):
        mc.stream().push([1.0, 2.0])


def test_export_c_equals_cli(tmp, filtered):
    m, d = filtered
    m.export_c(tmp / "py.h", prefix="kettle")
    cli("export-c", str(tmp / "filtered.lsm"), "-o", str(tmp / "cli.h"), "--prefix", "kettle")
    assert (tmp / "py.h").read_bytes() == (tmp / "cli.h").read_bytes()
    with pytest.raises(lstmsrc.ArgumentError):
        m.export_c(tmp / "bad.h", prefix="1bad")


def test_info_agrees_with_inspect(tmp, filtered):
    import json
    m, d = filtered
    c = json.loads(cli("inspect", str(tmp / "filtered.lsm"), "--json"))
    i = m.info
    assert i["seq"] == c["seq_len"] and i["label_offset"] == c["label_offset"]
    assert i["decision_delay"] == c["decision_delay"] and i["hidden"] == c["hidden"]
    assert [o["name"] for o in c["outputs"]] == i["output_names"]
    assert [o["min_on"] for o in c["outputs"]] == i["min_on"]
    assert g6(i["thresholds"]) == [o["threshold"] for o in c["outputs"]]


@pytest.fixture(scope="module")
def timed(tmp, gen):
    """gen's rows with a time column: a row a minute, 20 minutes absent before row 1500 (a
    gap: a new segment) and a missing reading at row 700; as a CSV and a DataFrame read back."""
    pd = pytest.importorskip("pandas", reason="pandas (python3-pandas) is not installed")
    d = pd.read_csv(gen)
    t = pd.date_range("2014-09-01", periods=len(d), freq="min")
    t = t.where(np.arange(len(d)) < 1500, t + pd.Timedelta("20min"))
    d.insert(0, "time", t.strftime("%Y-%m-%d %H:%M:%S"))
    d.loc[700, "reading"] = np.nan
    path = tmp / "timed.csv"
    d.to_csv(path, index=False, na_rep="NA")
    return path, pd.read_csv(path, parse_dates=["time"])


def test_dataframe_time_same_model_bytes_as_cli(tmp, timed):
    path, df = timed
    cli("train", str(path), "-o", str(tmp / "timed-cli.lsm"), "--quiet", *SMALL_ARGS)
    want = (tmp / "timed-cli.lsm").read_bytes()
    for i, frame in enumerate((df, df.set_index("time"))):  # a time column, a DatetimeIndex
        m = lstmsrc.train(frame, **SMALL)
        m.save(tmp / ("timed-py%d.lsm" % i))
        assert (tmp / ("timed-py%d.lsm" % i)).read_bytes() == want
    assert m.info["time_name"] == "time" and m.info["period"] == 60.0
    # without its time column the gap is not seen: another model
    m = lstmsrc.train(df, time=False, input_names=["reading"],
                      labels=["src1", "src2", "src3"], **SMALL)
    m.save(tmp / "timed-notime.lsm")
    assert (tmp / "timed-notime.lsm").read_bytes() != want


def test_dataframe_predict_eval_doctor_equal_cli(tmp, timed):
    import json
    path, df = timed
    model = tmp / "timed-cli2.lsm"
    cli("train", str(path), "-o", str(model), "--quiet", *SMALL_ARGS)
    m = lstmsrc.Model.load(model)
    header, want = read_csv_pred(cli("predict", str(model), str(path), "--proba")
                                 .replace("2014-", "").replace("-", "").replace(":", "")
                                 .replace(" ", ""))
    p = m.predict_proba(df.set_index("time"))
    np.testing.assert_allclose(p, want[:, -3:], atol=1e-6)
    off, seq = m.info["label_offset"], m.info["seq"]
    assert np.isnan(p[1500 - off:1500 + seq - 1 - off]).all()  # no window spans the gap
    assert not np.isnan(p[1500 + seq - 1 - off]).any()
    e = m.evaluate(df)
    c = json.loads(cli("eval", str(model), str(path), "--json"))
    del c["model"], c["data"]
    assert g6(e) == c
    assert str(lstmsrc.doctor(df, name=str(path))) == cli("doctor", str(path))


def test_dataframe_errors(timed):
    path, df = timed
    with pytest.raises(ValueError, match="labels: no column 'nope'"):
        lstmsrc.train(df, labels=["nope"], **SMALL)
    with pytest.raises(ValueError, match="time: no column"):
        lstmsrc.train(df, time="when", **SMALL)
    back = df.copy()
    back.loc[10, "time"] = back.loc[5, "time"]
    with pytest.raises(lstmsrc.DataError, match="row 11: time goes back"):
        lstmsrc.train(back, **SMALL)


def test_source_classifier_in_a_pipeline_and_cross_val_score(gen, gen_classes):
    sk = pytest.importorskip("sklearn", reason="scikit-learn (python3-sklearn) is not installed")
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    header, d = read_csv(gen)
    x, y = d[:, :1], d[:, 1:].astype(int)
    est = lstmsrc.SourceClassifier(**SMALL)
    assert est.get_params()["hidden"] == 8 and est.get_params()["lr"] is None
    assert est.set_params(hidden=4) is est and est.hidden == 4
    est.set_params(hidden=8)
    assert clone(est).get_params() == est.get_params()
    # the same model as lstmsrc.train with the same options
    est.fit(x, y)
    m = lstmsrc.train(x, labels=y, **SMALL)
    np.testing.assert_array_equal(est.model_.predict_proba(x), m.predict_proba(x))
    on = est.predict(x)
    assert on.shape == y.shape and set(np.unique(on)) <= {0, 1}
    assert est.predict_proba(x).shape == y.shape and not np.isnan(est.predict_proba(x)).any()
    pipe = make_pipeline(FunctionTransformer(lambda a: a / 1000.0),
                         lstmsrc.SourceClassifier(**SMALL))
    pipe.fit(x, y)
    assert pipe.predict(x).shape == y.shape
    scores = cross_val_score(lstmsrc.SourceClassifier(**SMALL), x, y, cv=KFold(3),
                             scoring="f1_macro")
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    # multi-class with string labels, and one 0/1 source
    header, d = read_csv(gen_classes)
    names = np.array(["c%d" % c for c in d[:, 1].astype(int)])
    mc = lstmsrc.SourceClassifier(**SMALL).fit(d[:, 0], names)
    assert set(mc.predict(d[:, 0])) <= set(mc.classes_) and mc.classes_[0] == "c0"
    assert mc.score(d[:, 0], names) > 0
    b = lstmsrc.SourceClassifier(**SMALL).fit(x, y[:, 1])
    assert b.predict(x).shape == (len(x),) and b.predict_proba(x).shape == (len(x), 2)


def bad_inputs(rng, rows):
    """Random wrong arrays: shapes, dtypes, NaN/inf, non-contiguous views, objects."""
    kinds = [
        lambda: rng.random((rows, 3, 2)),
        lambda: rng.random(0),
        lambda: rng.random((rows, 0)),
        lambda: np.full(rows, np.nan),
        lambda: np.where(rng.random(rows) < 0.1, np.inf, rng.random(rows)),
        lambda: rng.random((rows * 2, 2))[::2, ::-1],            # non-contiguous, strided
        lambda: np.asfortranarray(rng.random((rows, 2))),
        lambda: rng.integers(-2**62, 2**62, rows),
        lambda: (rng.random(rows) * 1e300),
        lambda: rng.random(rows).astype(np.complex64),
        lambda: np.array(["1.0"] * rows),
        lambda: np.array([object()] * rows),
        lambda: [[1.0, 2.0], [3.0]],
        lambda: None,
        lambda: 3.5,
        lambda: rng.random(rows).astype(np.float16),
        lambda: rng.random(rows) > 0.5,
        lambda: rng.random(rng.integers(1, 8)),
    ]
    return kinds[rng.integers(len(kinds))]()


def test_fuzz_array_entry_points_raise_never_crash(gen):
    header, d = read_csv(gen)
    m = lstmsrc.train(d[:600, 0], labels=d[:600, 1:], **dict(SMALL, epochs=1))
    rng = np.random.default_rng(7)
    calls = [
        lambda a, y: lstmsrc.train(a, labels=y, **dict(SMALL, epochs=1)),
        lambda a, y: lstmsrc.train(d[:300, 0], labels=a, **dict(SMALL, epochs=1)),
        lambda a, y: lstmsrc.train(d[:300, 0], classes=a, **dict(SMALL, epochs=1)),
        lambda a, y: lstmsrc.train(d[:300, 0], labels=y, breaks=a, **dict(SMALL, epochs=1)),
        lambda a, y: m.predict(a),
        lambda a, y: m.predict_proba(a),
        lambda a, y: m.evaluate(a, labels=y),
        lambda a, y: m.evaluate(d[:300, 0], labels=a),
        lambda a, y: lstmsrc.doctor(a),
        lambda a, y: m.stream().push(a),
    ]
    n = 0
    for i in range(300):
        rows = int(rng.integers(1, 400))
        a = bad_inputs(rng, rows)
        y = d[:rows, 1:] if rng.random() < 0.5 else rng.integers(0, 3, (rows, 3))
        if i % 3 == 0 and a is not None and not isinstance(a, (float, list)):
            y = d[:300, 1:]
        try:
            calls[i % len(calls)](a, y)
        except (TypeError, ValueError, lstmsrc.Error):
            n += 1
    assert n > 150  # most are refused; the rest are valid data; none crashed the interpreter


def test_gen_is_the_cli_gen(tmp, gen, gen_classes):
    """lstmsrc.gen gives the rows `lstmsrc gen` writes for the same seed (labels and classes)."""
    _, d = read_csv(gen)
    x, y = lstmsrc.gen(rows=4000, seed=3)
    assert x.dtype == np.float32 and y.dtype == np.uint8 and y.shape == (4000, 3)
    assert np.array_equal(x, d[:, 0].astype(np.float32)) and np.array_equal(y, d[:, 1:])
    _, c = read_csv(gen_classes)
    x, k = lstmsrc.gen(rows=4000, seed=4, classes=True)
    assert k.dtype == np.int32 and np.array_equal(k, c[:, 1])
    with pytest.raises(ValueError, match="rows"):
        lstmsrc.gen(rows=0)
    with pytest.raises(TypeError, match="sources"):
        lstmsrc.gen(sources=2.5)
