"""lstmsrc for Python: train an LSTM that tells which sources are on from one meter reading,
and use it, on numpy arrays, with the C library (liblstmsrc.so) doing the work.

    import numpy as np, lstmsrc
    m = lstmsrc.train(x, labels=y, epochs=5, seq=10)   # x (rows,) or (rows, inputs); y (rows, k) 0/1
    m.save("model.lsm")
    p = m.predict_proba(x)    # (rows, k) probabilities, NaN rows where no full window
    on = m.predict(x)         # (rows, k) 0/1 decisions (-1 where no window); classes: (rows,)

Options are the CLI's (`lstmsrc train --help`) as keyword arguments with the same names and
defaults (--seq -> seq, --label-at -> label_at); the same data and options train the same model
bytes as `lstmsrc train` on a CSV holding the same numbers (with threads fixed, as there).
NaN readings are missing rows: no window includes them, and the rows on either side are
separate segments, as a CSV's empty cells are.

The binding is ctypes, from the standard library: nothing to compile when the package is
installed and no dependency beyond numpy (cffi would add one, and its API mode a build step),
while every call still goes straight to the C functions, which release the GIL. The library is
found through $LSTMSRC_LIB (a path), else next to this package, else in the repository's
build/ folder, else on the system's library path.

Errors: a failed C call raises a subclass of lstmsrc.Error carrying the library's message,
which says where ("arrays: row 12, column 2: expected a finite number, found inf"); arguments
of the wrong type or shape raise TypeError or ValueError naming the argument.
"""

import ctypes
import os

import numpy as np

from . import _native as _n

__all__ = ["train", "doctor", "gen", "SourceClassifier", "Model", "Stream", "Decision", "Report",
           "Finding", "TrainProgress", "Error", "ArgumentError", "FileError", "DataError", "FormatError",
           "VersionError", "OutOfMemoryError", "LimitError", "Interrupted", "DivergedError",
           "library_version", "library_path"]


# ============================== errors ==============================

class Error(Exception):
    """A failed call of the C library: .status is its lstmsrc_status code, str() its message."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status
        self.message = message


class ArgumentError(Error, ValueError):
    """LSTMSRC_ERR_ARG: an impossible option or argument."""


class FileError(Error, OSError):
    """LSTMSRC_ERR_IO: a file could not be opened, read or written."""


class DataError(Error, ValueError):
    """LSTMSRC_ERR_PARSE: malformed or unusable data (too few rows for a window)."""


class FormatError(Error):
    """LSTMSRC_ERR_FORMAT: a truncated or corrupted model file."""


class VersionError(Error):
    """LSTMSRC_ERR_VERSION: a model file of another format version."""


class OutOfMemoryError(Error, MemoryError):
    """LSTMSRC_ERR_NOMEM."""


class LimitError(Error, ValueError):
    """LSTMSRC_ERR_LIMIT: input beyond a stated limit (inputs, sources, sizes)."""


class Interrupted(Error):
    """LSTMSRC_ERR_INTERRUPTED: stopped on request."""


class DivergedError(Error):
    """LSTMSRC_ERR_DIVERGED: training produced a non-finite loss."""


_EXC = {1: ArgumentError, 2: FileError, 3: DataError, 4: FormatError, 5: VersionError,
        6: OutOfMemoryError, 7: LimitError, 8: Interrupted, 9: DivergedError}


def _raise(status, err):
    msg = err.msg.decode("utf-8", "replace") or _n.status_str(status).decode()
    raise _EXC.get(status, Error)(msg, status)


def _check(status, err):
    if status:
        _raise(status, err)


def library_version():
    """The running liblstmsrc's version ("0.1.0")."""
    return _n.version().decode()


library_path = _n.lib_path
__version__ = library_version()


# ============================== arrays in ==============================

def _readings(x, name="x"):
    """x as a C-contiguous float32 (rows, inputs) array; a 1-D x is one input."""
    if x is None:
        raise TypeError("%s: expected an array of readings, got None" % name)
    try:
        a = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - anything numpy cannot take
        raise TypeError("%s: expected an array of readings: %s" % (name, e)) from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError("%s: expected numbers, got an array of %s" % (name, a.dtype))
    if np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError("%s: expected real numbers, got %s" % (name, a.dtype))
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError("%s: expected a (rows,) or (rows, inputs) array, got shape %s"
                         % (name, a.shape))
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError("%s: expected at least one row and one input, got shape %s"
                         % (name, a.shape))
    with np.errstate(over="ignore"):
        f = np.ascontiguousarray(a, dtype=np.float32)
    over = np.isinf(f) & np.isfinite(a)
    if over.any():
        r, c = np.argwhere(over)[0]
        raise ValueError("%s: row %d, column %d: %r does not fit a float32 (the library's "
                         "readings)" % (name, r + 1, c + 1, a[r, c].item()))
    return f


def _names(names, n, what):
    """A list of n names as a NULL-able char ** (and the bytes objects it points to)."""
    if names is None:
        return None, None
    if isinstance(names, (str, bytes)):
        names = [names]
    names = list(names)
    if len(names) != n:
        raise ValueError("%s: expected %d name%s, got %d" % (what, n, "" if n == 1 else "s",
                                                              len(names)))
    enc = []
    for i, s in enumerate(names):
        if not isinstance(s, str):
            raise TypeError("%s[%d]: expected a str, got %s" % (what, i, type(s).__name__))
        enc.append(s.encode("utf-8"))
    arr = (ctypes.c_char_p * n)(*enc)
    return arr, enc


def _label_array(labels, rows):
    a = np.asarray(labels)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape[0] != rows:
        raise ValueError("labels: expected (%d,) or (%d, sources) 0/1 values, got shape %s"
                         % (rows, rows, np.shape(labels)))
    if a.shape[1] == 0:
        raise ValueError("labels: expected at least one source, got shape %s" % (a.shape,))
    if a.dtype == bool:
        return np.ascontiguousarray(a, dtype=np.uint8)
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError("labels: expected 0/1 numbers or booleans, got %s" % a.dtype)
    # what a byte cannot hold is told here; the library checks for 0/1, row by row
    bad = (a != np.round(a)) | (a < 0) | (a > 255)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError("labels: row %d, column %d: expected 0 or 1, found %s"
                         % (r + 1, c + 1, a[r, c]))
    return np.ascontiguousarray(a, dtype=np.uint8)


def _class_array(classes, rows):
    a = np.asarray(classes)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.shape[0] != rows:
        raise ValueError("classes: expected (%d,) class indexes, got shape %s"
                         % (rows, np.shape(classes)))
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError("classes: expected integer class indexes, got %s" % a.dtype)
    # what an int32 cannot hold is told here; the library checks the rest, row by row
    bad = (a != np.round(a)) | (a < np.iinfo(np.int32).min) | (a > np.iinfo(np.int32).max)
    if bad.any():
        r = int(np.argmax(bad))
        raise ValueError("classes: row %d: expected a class index 0, 1, ..., found %s"
                         % (r + 1, a[r]))
    return np.ascontiguousarray(a, dtype=np.int32)


class _Dataset:
    """A lstmsrc_dataset built from arrays (lstmsrc_dataset_from_arrays), freed with it."""

    def __init__(self, x, labels=None, classes=None, input_names=None, label_names=None,
                 breaks=None, name=None, times=None, time_name=None, period=0.0, max_gap=0.0):
        x = _readings(x)
        rows, f = x.shape
        if labels is not None and classes is not None:
            raise ValueError("labels and classes: give one (multi-label 0/1 sources, or "
                             "multi-class indexes), not both")
        y = _label_array(labels, rows) if labels is not None else None
        c = _class_array(classes, rows) if classes is not None else None
        outputs = y.shape[1] if y is not None else 0
        marks = None
        if breaks is not None:
            b = np.asarray(breaks)
            if b.shape != (rows,):
                raise ValueError("breaks: expected (%d,) booleans, got shape %s"
                                 % (rows, b.shape))
            marks = np.ascontiguousarray(np.where(b.astype(bool), _n.ROW_BREAK, _n.ROW_OK),
                                         dtype=np.uint8)
        in_names, self._keep_in = _names(input_names, f, "input_names")
        n_lab = outputs if y is not None else 1
        lab_names, self._keep_lab = (_names(label_names, n_lab, "label_names")
                                     if y is not None or c is not None else (None, None))
        self.rows, self.inputs = rows, f
        err = _n.Error()
        out = ctypes.c_void_p()
        self._h = None
        if name is not None and not isinstance(name, str):
            raise TypeError("name: expected a str, got %r" % (name,))
        st = _n.dataset_from_arrays(
            name.encode("utf-8") if name is not None else None, x.ctypes.data_as(_n._floats), rows, f, in_names,
            y.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)) if y is not None else None,
            c.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)) if c is not None else None,
            outputs, lab_names,
            marks.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)) if marks is not None else None,
            _n.ARRAYS_NAN_MISSING, ctypes.byref(out), ctypes.byref(err))
        _check(st, err)
        self._h = out
        if times is not None:
            t = np.ascontiguousarray(times, dtype=np.float64)
            if t.shape != (rows,):
                raise ValueError("times: expected (%d,) times, got shape %s" % (rows, t.shape))
            _check(_n.dataset_set_times(
                self._h, time_name.encode("utf-8") if time_name else None,
                t.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), _seconds("period", period),
                _seconds("max_gap", max_gap), ctypes.byref(err)), err)

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and _n is not None:
            _n.dataset_free(h)


# ============================== pandas ==============================

_TIME_NAMES = ("time", "timestamp", "datetime", "date", "unix")


def _seconds(name, v):
    """A duration in seconds: a number, a pandas/datetime timedelta or a string pandas reads
    ("5m", "1h", "30s"); 0 or None: found from the times."""
    if v is None:
        return 0.0
    if isinstance(v, str):
        try:
            import pandas as pd
            return pd.Timedelta(v).total_seconds()
        except (ImportError, ValueError) as e:
            raise ValueError("%s: expected seconds or a duration like \"5m\", got %r (%s)"
                             % (name, v, e)) from None
    if hasattr(v, "total_seconds"):
        return float(v.total_seconds())
    return _float(name, v)


def _is_frame(x):
    t = type(x)
    return t.__name__ == "DataFrame" and t.__module__.startswith("pandas")


def _unix_seconds(values, what):
    """A time column or index as Unix seconds (UTC; naive times are UTC, as a file's are)."""
    import pandas as pd
    v = values
    if not isinstance(v, pd.DatetimeIndex) and pd.api.types.is_numeric_dtype(v):
        return np.asarray(v, dtype=np.float64)  # Unix seconds already
    try:
        v = pd.DatetimeIndex(pd.to_datetime(v))
    except (ValueError, TypeError) as e:
        raise ValueError("%s: expected date-times or Unix seconds: %s" % (what, e)) from None
    if v.tz is not None:
        v = v.tz_convert("UTC").tz_localize(None)
    ns = v.asi8.astype(np.float64)
    if v.hasnans:
        ns[np.asarray(v.isna())] = np.nan
    return ns / 1e9


def _frame_time(df, time):
    """(times, name, the column it came from or None) of a DataFrame: time=False none; a name:
    that column; None: a DatetimeIndex, else a column named time, timestamp, datetime, date or
    unix (any case) or of a date-time type, as the CLI finds a file's time column."""
    import pandas as pd
    if time is False:
        return None, None, None
    if time is not None and time is not True:
        if time not in df.columns:
            raise ValueError("time: no column %r in the DataFrame (columns: %s)"
                             % (time, ", ".join(map(str, df.columns))))
        return _unix_seconds(df[time], "time column %r" % time), str(time), time
    if isinstance(df.index, pd.DatetimeIndex):
        name = df.index.name if df.index.name is not None else "time"
        return _unix_seconds(df.index, "the DatetimeIndex"), str(name), None
    for c in df.columns:
        if (isinstance(c, str) and c.lower() in _TIME_NAMES) or \
                pd.api.types.is_datetime64_any_dtype(df[c]):
            return _unix_seconds(df[c], "time column %r" % (c,)), str(c), c
    if time is True:
        raise ValueError("time: the DataFrame has no DatetimeIndex and no time column")
    return None, None, None


def _columns(df, names, what):
    if isinstance(names, str):
        names = [names]
    names = list(names)
    for n in names:
        if n not in df.columns:
            raise ValueError("%s: no column %r in the DataFrame (columns: %s)"
                             % (what, n, ", ".join(map(str, df.columns))))
    return names


def _from_frame(df, labels, classes, input_names, time, inputs_by_name=None):
    """The arrays a DataFrame holds, as `lstmsrc train` reads a CSV: inputs the first column
    (or input_names, or those a model reads), labels (column names, or the other columns when
    labels and classes are both None), classes (a column name); the time column never an input
    or label. Returns a dict of _Dataset's arguments."""
    t, tname, tcol = _frame_time(df, time)
    cols = [c for c in df.columns if c != tcol]
    out = {"times": t, "time_name": tname}
    if inputs_by_name is not None:
        ins = _columns(df, inputs_by_name, "x")
    elif input_names is not None:
        ins = _columns(df, input_names, "input_names")
    else:
        ins = cols[:1]
    if not ins:
        raise ValueError("x: the DataFrame has no input column")
    out["x"] = df[ins].to_numpy(dtype=np.float64, na_value=np.nan)
    out["input_names"] = [str(c) for c in ins]
    if classes is not None and isinstance(classes, str):
        c = _columns(df, classes, "classes")[0]
        out["classes"] = df[c].to_numpy()
        out["label_names"] = [str(c)]
    elif isinstance(labels, str) or (isinstance(labels, (list, tuple)) and labels and
                                     all(isinstance(v, str) for v in labels)):
        names = _columns(df, labels, "labels")
        out["labels"] = df[names].to_numpy()
        out["label_names"] = [str(v) for v in names]
    elif labels is None and classes is None and inputs_by_name is None:
        rest = [c for c in cols if c not in ins]
        if rest:
            out["labels"] = df[rest].to_numpy()
            out["label_names"] = [str(v) for v in rest]
    else:
        out["labels"], out["classes"] = labels, classes
    return out


def _gather(x, labels, classes, input_names, label_names, time, period, max_gap):
    """train/evaluate/doctor's data: a DataFrame taken apart, or the arrays as given."""
    if not _is_frame(x):
        if time not in (None, False):
            raise ValueError("time: only with a pandas DataFrame (for arrays, give breaks)")
        return {"x": x, "labels": labels, "classes": classes, "input_names": input_names,
                "label_names": label_names}
    d = _from_frame(x, labels, classes, input_names, time)
    if label_names is not None:
        d["label_names"] = label_names
    d.setdefault("labels", None)
    d.setdefault("classes", None)
    if d["times"] is not None:
        d["period"], d["max_gap"] = period, max_gap
    return d


# ============================== training ==============================

def _int(name, v, lo, hi=None):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError("%s: expected an int, got %r" % (name, v))
    if v < lo or (hi is not None and v > hi):
        raise ValueError("%s: expected %s, got %d"
                         % (name, ("%d..%d" % (lo, hi)) if hi is not None else
                            (">= %d" % lo), v))
    return int(v)


def _float(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError("%s: expected a number, got %r" % (name, v))
    return float(v)


def _choice(name, v, choices):
    if not isinstance(v, str) or v not in choices:
        raise ValueError("%s: expected one of %s, got %r" % (name, ", ".join(choices), v))
    return choices[v]


def _features(v):
    if isinstance(v, str):
        v = v.split(",")
    bits = 0
    for p in v:
        if p == "raw":
            bits |= _n.FEATURE_RAW
        elif p == "diff":
            bits |= _n.FEATURE_DIFF
        else:
            raise ValueError("features: expected raw, diff or raw,diff, got %r" % (p,))
    if not bits:
        raise ValueError("features: expected raw, diff or raw,diff, got nothing")
    return bits


def _configure(cfg, opts, keep):
    """Applies the CLI-named options to cfg; returns the LSTMSRC_SUGGEST_* bits left to the
    data doctor, as `lstmsrc train` leaves them."""
    unset = _n.SUGGEST_FEATURES | _n.SUGGEST_SEQ_LEN | _n.SUGGEST_VAL_FRACTION
    for k, v in opts.items():
        if k == "seq":
            cfg.seq_len = _int(k, v, 1)
            unset &= ~_n.SUGGEST_SEQ_LEN
        elif k in ("hidden", "layers", "epochs", "batch", "stride", "threads", "patience"):
            setattr(cfg, k, _int(k, v, 0))
        elif k == "directions":
            cfg.bidirectional = int(_int(k, v, 1, 2) == 2)
        elif k == "bidirectional":
            if not isinstance(v, (bool, np.bool_)):
                raise TypeError("bidirectional: expected a bool, got %r" % (v,))
            cfg.bidirectional = int(bool(v))
        elif k in ("lr", "clip", "ema"):
            setattr(cfg, k, _float(k, v))
        elif k == "precision":
            cfg.precision = _choice(k, v, {"fp32": 0, "bf16": 1, "auto": 2})
        elif k == "val":
            cfg.val_fraction = _float(k, v)
            unset &= ~_n.SUGGEST_VAL_FRACTION
        elif k == "select":
            cfg.select = _choice(k, v, {"loss": 0, "f1": 1})
        elif k == "scaler":
            cfg.scaler = _choice(k, v, {"global": 0, "per-file": 1})
        elif k == "pos_weight":
            if isinstance(v, str):
                cfg.pos_weight = _choice(k, v, {"auto": 0, "none": 1})
            else:
                w = np.ascontiguousarray(np.asarray(v, dtype=np.float32).reshape(-1))
                keep.append(w)
                cfg.pos_weight = 2
                cfg.pos_weights = w.ctypes.data_as(_n._floats)
                cfg.n_pos_weights = w.size
        elif k == "threshold":
            if isinstance(v, str) and v == "tune":
                cfg.tune_thresholds = 1
            else:
                cfg.threshold = _float(k, v)
                cfg.tune_thresholds = 0
        elif k == "durations":
            cfg.tune_durations = _choice(k, v, {"tune": 1, "off": 0})
        elif k in ("min_on", "min_off"):
            setattr(cfg, k, _int(k, v, 1))
            cfg.tune_durations = 0
        elif k == "seed":
            cfg.seed = _int(k, v, 0, 2**64 - 1)
        elif k == "features":
            cfg.features = _features(v)
            unset &= ~_n.SUGGEST_FEATURES
        elif k == "label_at":
            cfg.label_at = _choice(k, v, {"last": 0, "center": 1, "centre": 1})
        else:
            raise TypeError("train() got an unexpected keyword argument %r" % (k,))
    return unset


class TrainProgress(tuple):
    """Where training stands, handed to a progress callable: epoch (1-based) of epochs, step
    (1-based mini-batch) of steps in the epoch, done of total training windows this epoch,
    seconds into the epoch, loss (the epoch's mean training loss so far), and at the end of an
    epoch (end_of_epoch True) val_loss and val_f1 (None without a validation part) and improved
    (the best epoch so far)."""

    __slots__ = ()
    _fields = ("epoch", "epochs", "step", "steps", "done", "total", "seconds", "loss",
               "val_loss", "val_f1", "end_of_epoch", "improved")

    def __new__(cls, *values):
        return tuple.__new__(cls, values)

    def __getattr__(self, name):
        try:
            return self[self._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self):
        return "TrainProgress(%s)" % ", ".join("%s=%r" % kv for kv in zip(self._fields, self))


def _progress_of(p, batch):
    steps = (p.total + batch - 1) // batch if batch > 0 else 0
    step = (p.done + batch - 1) // batch if batch > 0 else 0
    end = bool(p.end_of_epoch)
    val = end and p.val_loss >= 0
    return TrainProgress(p.epoch, p.epochs, step, steps, p.done, p.total, p.seconds, p.loss,
                         p.val_loss if val else None, p.val_f1 if val else None, end,
                         bool(p.improved) if end else False)


def _epoch_line(p):
    """The line `lstmsrc train` prints at the end of an epoch."""
    us = p.seconds * 1e6 / p.done if p.done else 0.0
    s = "Epoch %d/%d %d/%d %.1fs %.0fus/step - loss %.4f" % (
        p.epoch, p.epochs, p.done, p.total, p.seconds, us, p.loss)
    if p.val_loss is not None:
        s += " - val_loss %.4f - val_f1 %.3f%s" % (p.val_loss, p.val_f1,
                                                   " *" if p.improved else "")
    return s


class _Bar:
    """progress=True: a tqdm bar over all epochs' windows where tqdm is installed (the epoch
    lines written above it), else the CLI's epoch lines on stderr."""

    def __init__(self):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self._tqdm, self._bar, self._pos = tqdm, None, 0

    def __call__(self, p):
        import sys
        if self._tqdm is None:
            if p.end_of_epoch:
                print(_epoch_line(p), file=sys.stderr, flush=True)
            return
        if self._bar is None:
            self._bar = self._tqdm(total=p.epochs * p.total, unit="win", unit_scale=True,
                                   leave=True, dynamic_ncols=True)
        at = (p.epoch - 1) * p.total + p.done
        if at > self._pos:
            self._bar.update(at - self._pos)
            self._pos = at
        self._bar.set_description("epoch %d/%d" % (p.epoch, p.epochs), refresh=False)
        post = {"loss": "%.4f" % p.loss}
        if p.val_loss is not None:
            post.update(val_loss="%.4f" % p.val_loss, val_f1="%.3f" % p.val_f1)
        self._bar.set_postfix(post, refresh=False)
        if p.end_of_epoch:
            self._bar.write(_epoch_line(p))

    def close(self):
        if self._bar is not None:
            self._bar.close()


class _Run:
    """The progress callback and the stop flag of one lstmsrc_train call (the C library's own
    mechanism, the one `lstmsrc train` uses for its progress line and Ctrl-C): the callback
    hands the user's callable a TrainProgress, and a SIGINT while training (installed only in
    the main thread, and put back after) sets the flag, which the library polls between
    steps: it stops within about a second with the best epoch's model kept. A callable that
    returns True stops training the same way; one that raises stops it and the exception is
    raised from train()."""

    def __init__(self, cfg, progress):
        if progress is True:
            self.fn = _Bar()
        elif progress is None or progress is False:
            self.fn = None
        elif callable(progress):
            self.fn = progress
        else:
            raise TypeError("progress: expected True, False or a callable, got %r"
                            % (progress,))
        self.batch = cfg.batch
        self.stop = ctypes.c_int(0)  # sig_atomic_t
        self.signals = 0
        self.error = None
        self._c = _n.ProgressFn(self._on_progress)
        cfg.stop = ctypes.cast(ctypes.pointer(self.stop), ctypes.c_void_p)
        self._old = None

    def _on_progress(self, p, _user):
        # runs in the thread that called lstmsrc_train: Python's pending SIGINT is handled here
        if self.fn is None or self.error is not None:
            return
        try:
            if self.fn(_progress_of(p.contents, self.batch)) is True:
                self.stop.value = 1
        except BaseException as e:  # noqa: BLE001 - raised again from train()
            self.error = e
            self.stop.value = 1

    def _on_sigint(self, _signum, _frame):
        self.signals += 1
        self.stop.value = 1

    def __enter__(self):
        import signal
        import threading
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.signal(signal.SIGINT, self._on_sigint)
            except (ValueError, OSError):
                self._old = None
        return self

    def __exit__(self, *exc):
        import signal
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        if self.fn is not None and hasattr(self.fn, "close"):
            self.fn.close()
        return False

    def attach(self, cfg):
        # always: the callback is what lets Python run its SIGINT handler mid-training
        cfg.progress = ctypes.cast(self._c, ctypes.c_void_p)


def train(x, labels=None, classes=None, *, input_names=None, label_names=None, breaks=None,
          progress=False, time=None, period=None, max_gap=None, **options):
    """Trains a model on readings x ((rows,) or (rows, inputs)) and either labels ((rows,) or
    (rows, sources) 0/1: multi-label) or classes ((rows,) indexes: multi-class).

    input_names, label_names: the names a CSV header would give (default reading, x1.. and
    src1.., or class); breaks: (rows,) booleans, True where a row starts a new segment (a gap
    in time before it). NaN readings are missing rows. options: the CLI's, with its defaults:
    seq, hidden, layers, directions, bidirectional, features, label_at, epochs, batch, stride,
    lr, clip, ema, precision, val, select, patience, pos_weight, threshold, durations, min_on,
    min_off, seed, threads, scaler. As in `lstmsrc train`, seq, val and features left out are the data doctor's
    choice.

    x may be a pandas DataFrame: its first column the input (or input_names, column names),
    labels column names (default: every other column, as `lstmsrc train` reads a CSV) or
    classes a column name; a DatetimeIndex or a time column (time=NAME, found by its name
    time/timestamp/datetime/date/unix or its date-time type; time=False: none) gives the CLI's
    time handling: a step longer than max_gap (default 1.5 sampling periods; period default the
    most common step; seconds or "5m") starts a new segment, and the model records them.

    progress: True for a progress bar (tqdm where installed, else the CLI's epoch lines on
    stderr), or a callable given a TrainProgress after every step and at each epoch's end
    (returning True stops training). Ctrl-C (SIGINT) stops training within about a second and
    train() returns the best epoch's model, with model.stopped saying so (None otherwise).
    Returns a Model."""
    d = _gather(x, labels, classes, input_names, label_names, time, period, max_gap)
    if d["labels"] is None and d["classes"] is None:
        raise ValueError("labels or classes: training needs one of them")
    cfg = _n.TrainConfig()
    _n.train_config_default(ctypes.byref(cfg))
    keep = []
    unset = _configure(cfg, options, keep)
    ds = _Dataset(breaks=breaks, **d)
    rep = ctypes.POINTER(_n.Report)()
    if _n.doctor(ds._h, ctypes.byref(rep), None) == 0:
        _n.doctor_suggest(rep, unset, ctypes.byref(cfg))
        _n.report_free(rep)
    err = _n.Error()
    out = ctypes.c_void_p()
    with _Run(cfg, progress) as run:
        run.attach(cfg)
        st = _n.train(ds._h, ctypes.byref(cfg), ctypes.byref(out), ctypes.byref(err))
    if st == _n.STATUS_INTERRUPTED and out:
        m = Model(out)
        if run.error is not None:
            del m
            raise run.error
        m.stopped = err.msg.decode("utf-8", "replace")
        return m
    _check(st, err)
    return Model(out)


# ============================== models ==============================

def _list(p, n, conv=lambda v: v):
    return [conv(p[i]) for i in range(n)] if p else None


class Model:
    """A trained or loaded model (lstmsrc_model). Read-only; share it freely for prediction."""

    def __init__(self, handle):
        if not isinstance(handle, ctypes.c_void_p) or not handle:
            raise TypeError("Model: use lstmsrc.train() or Model.load(path)")
        self._h = handle
        self.stopped = None  # train(): why training stopped early on request (Ctrl-C)
        self._info = _n.ModelInfo()
        _n.model_get_info(self._h, ctypes.byref(self._info))

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and _n is not None:
            _n.model_free(h)

    @classmethod
    def load(cls, path):
        """Loads a model file written by `lstmsrc train` or Model.save."""
        err = _n.Error()
        out = ctypes.c_void_p()
        _check(_n.model_load(os.fsencode(path), ctypes.byref(out), ctypes.byref(err)), err)
        return cls(out)

    def save(self, path):
        """Writes the model (to PATH.tmp, then renamed over PATH)."""
        err = _n.Error()
        _check(_n.model_save(self._h, os.fsencode(path), ctypes.byref(err)), err)

    @property
    def info(self):
        """What `lstmsrc inspect` shows, as a dict."""
        i = self._info
        k, nl = i.outputs, i.n_labels
        dec = lambda b: b.decode("utf-8", "replace")  # noqa: E731
        return {
            "task": "multilabel" if i.task == _n.TASK_MULTILABEL else "multiclass",
            "label_mode": ("sources", "class", "combined")[i.label_mode],
            "inputs": i.inputs, "outputs": k, "hidden": i.hidden, "layers": i.layers,
            "seq": i.seq_len, "directions": i.directions, "n_params": i.n_params,
            "input_names": _list(i.input_names, i.inputs, dec),
            "label_names": _list(i.label_names, nl, dec),
            "output_names": _list(i.output_names, k, dec),
            "channels": i.channels,
            "features": ",".join(n for b, n in ((1, "raw"), (2, "diff")) if i.features & b),
            "label_at": "last" if i.label_at == 0 else "center",
            "label_offset": i.label_offset, "stride": i.stride,
            "scale_mean": _list(i.scale_mean, i.channels),
            "scale_std": _list(i.scale_std, i.channels),
            "thresholds": _list(i.thresholds, k),
            "baseline_thresholds": _list(i.baseline_thresholds, k),
            "pos_weights": _list(i.pos_weights, k) if i.task == _n.TASK_MULTILABEL else None,
            "min_on": _list(i.min_on, k), "min_off": _list(i.min_off, k),
            "decision_delay": i.decision_delay,
            "seed": i.seed, "rows_train": i.rows_train, "rows_val": i.rows_val,
            "windows_train": i.windows_train, "windows_val": i.windows_val,
            "epochs_run": i.epochs_run, "best_epoch": i.best_epoch, "batch": i.batch,
            "lr": i.lr, "val_loss": i.val_loss, "val_macro_f1": i.val_macro_f1,
            "on_above": _list(i.on_above, nl),
            "invalid_below": i.invalid_below if i.use_invalid_below else None,
            "time_name": dec(i.time_name) if i.time_name else None,
            "period": i.period, "max_gap": i.max_gap,
            "init_name": dec(i.init_name) if i.init_name else None,
            "init_crc": i.init_crc if i.init_name else None,
        }

    def __repr__(self):
        i = self.info
        return "<lstmsrc.Model %s %s -> %s, window %d, LSTM %dx%d>" % (
            i["task"], ",".join(i["input_names"]), ",".join(i["output_names"]), i["seq"],
            i["layers"], i["hidden"])

    # ---- prediction ----

    def _segments(self, x, time=None):
        """x checked against the model; the runs of rows without a NaN (nor a time gap, for a
        DataFrame with times): (start, length)."""
        breaks = None
        if _is_frame(x):
            d = _from_frame(x, None, None, None, time, inputs_by_name=self.info["input_names"])
            x, t = d["x"], d["times"]
            if t is not None and len(t) > 1:
                steps = np.diff(t)
                if not (steps > 0).all():
                    r = int(np.argmax(~(steps > 0)))
                    raise ValueError("x: row %d: time %s; rows must be in time order"
                                     % (r + 2, "repeats" if steps[r] == 0 else "goes back"))
                gap = self._info.max_gap
                if not gap > 0:  # a model without times: the data's own period, as predict
                    ms = np.round(steps * 1000.0)
                    vals, counts = np.unique(ms, return_counts=True)
                    gap = 1.5 * vals[np.argmax(counts)] / 1000.0
                breaks = np.concatenate(([False], steps > gap))
        elif time not in (None, False):
            raise ValueError("time: only with a pandas DataFrame")
        x = _readings(x)
        if x.shape[1] != self._info.inputs:
            raise ValueError("x: the model reads %d input%s (%s), got %d columns"
                             % (self._info.inputs, "" if self._info.inputs == 1 else "s",
                                ",".join(self.info["input_names"]), x.shape[1]))
        nan = np.isnan(x)
        bad = np.isinf(x)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError("x: row %d, column %d: expected a finite number (or NaN: missing), "
                             "found %s" % (r + 1, c + 1, x[r, c]))
        good = ~nan.any(axis=1)
        if self._info.features & _n.FEATURE_DIFF and x.shape[0] > 1:
            with np.errstate(over="ignore", invalid="ignore"):
                d = x[1:] - x[:-1]  # in float32, as the library computes it
            over = ~np.isfinite(d) & good[1:, None] & good[:-1, None]
            if over.any():
                r, c = np.argwhere(over)[0]
                raise ValueError("x: row %d, column %d: the step from %g to %g overflows a float "
                                 "in the model's first-difference channel"
                                 % (r + 2, c + 1, x[r, c], x[r + 1, c]))
        edges = np.flatnonzero(np.diff(np.concatenate(([0], good.view(np.int8), [0]))))
        runs = list(zip(edges[0::2], edges[1::2] - edges[0::2]))
        if breaks is not None and breaks.any():
            cut = []
            for s, n in runs:
                at = [s] + [int(b) for b in np.flatnonzero(breaks[s + 1:s + n]) + s + 1] + [s + n]
                cut += [(a, b - a) for a, b in zip(at[:-1], at[1:])]
            runs = cut
        return x, runs

    def _probs(self, x, threads, time=None):
        threads = _int("threads", threads, 0)
        x, runs = self._segments(x, time)
        seq, k, off = self._info.seq_len, self._info.outputs, self._info.label_offset
        out = np.full((x.shape[0], k), np.nan, dtype=np.float32)
        parts = []
        err = _n.Error()
        if self._info.scaler == 1:  # a per-file model: this x's own statistics first
            fit_x = np.full_like(x, np.nan)
            for s, n in runs:
                fit_x[s:s + n] = x[s:s + n]
            fit_x = np.ascontiguousarray(fit_x, dtype=np.float32)
            ds = ctypes.c_void_p()
            _check(_n.dataset_from_arrays(
                None, fit_x.ctypes.data_as(_n._floats), fit_x.shape[0], fit_x.shape[1],
                self._info.input_names, None, None, 0, None, None, _n.ARRAYS_NAN_MISSING,
                ctypes.byref(ds), ctypes.byref(err)), err)
            try:
                _check(_n.model_scaler_fit(self._h, ds, ctypes.byref(err)), err)
            finally:
                _n.dataset_free(ds)
        for s, n in runs:
            if n < seq:
                continue
            w = n - seq + 1
            p = np.empty((w, k), dtype=np.float32)
            seg = x[s:s + n]
            _check(_n.predict_rows(self._h, seg.ctypes.data_as(_n._floats), n,
                                   p.ctypes.data_as(_n._floats), w, threads,
                                   ctypes.byref(err)), err)
            first = s + seq - 1 - off  # the row window 0 belongs to
            out[first:first + w] = p
            parts.append((first, p))
        return out, parts

    def predict_proba(self, x, threads=0, time=None):
        """(rows, outputs) probabilities of the window belonging to each row of x; NaN rows where
        there is no full window (the first seq-1 rows, with a centred label seq/2 at each end,
        and around missing (NaN) rows), as `lstmsrc predict --proba` leaves them empty."""
        return self._probs(x, threads, time)[0]

    def predict(self, x, threads=0, raw=False, time=None):
        """Decisions per row of x: multi-label (rows, sources) int8, 1 = ON (probability above the
        source's tuned threshold, then its minimum on/off durations unless raw), multi-class
        (rows,) class indexes; -1 where there is no full window."""
        probs, parts = self._probs(x, threads, time)
        k = self._info.outputs
        on = np.full((probs.shape[0], k), -1, dtype=np.int8)
        for first, p in parts:
            d = np.empty(p.shape, dtype=np.uint8)
            u8 = ctypes.POINTER(ctypes.c_uint8)
            _n.decide(self._h, p.ctypes.data_as(_n._floats), p.shape[0], d.ctypes.data_as(u8))
            if not raw:
                _n.filter_rows(self._h, d.ctypes.data_as(u8), p.shape[0])
            on[first:first + p.shape[0]] = d
        if self._info.task == _n.TASK_MULTICLASS:
            cls = np.full(probs.shape[0], -1, dtype=np.int64)
            has = on[:, 0] >= 0
            cls[has] = np.argmax(on[has], axis=1)
            return cls
        return on


# ============================== evaluation ==============================

def _fewer_errors(model_err, trivial_err):
    if trivial_err <= 0.0:
        return 0.0 if model_err <= 0.0 else -1.0
    return (trivial_err - model_err) / trivial_err


def _num(v):
    """A score as `eval --json` writes it: None where it is not finite."""
    return float(v) if np.isfinite(v) else None


def _eval_dict(ev, m, raw):
    dec = lambda b: b.decode("utf-8", "replace") if b else "?"  # noqa: E731
    k = ev.outputs
    per = [ev.per[j] for j in range(k)]
    if ev.task == _n.TASK_MULTILABEL:
        d = {"task": "multilabel", "windows": ev.windows,
             "subset_accuracy": _num(ev.subset_accuracy), "hamming_loss": _num(ev.hamming_loss),
             "macro_f1": _num(ev.macro_f1),
             "sources": [{"name": dec(o.name), "precision": _num(o.precision),
                          "recall": _num(o.recall), "f1": _num(o.f1), "support": o.support,
                          "threshold": _num(o.threshold), "min_on": o.min_on,
                          "min_off": o.min_off} for o in per],
             "baselines": {
                 "all_off": {"subset_accuracy": _num(ev.all_off_subset_accuracy),
                             "macro_f1": _num(ev.all_off_macro_f1),
                             "hamming_loss": _num(ev.all_off_hamming_loss)},
                 "threshold": {"macro_f1": _num(ev.threshold_macro_f1),
                               "subset_accuracy": _num(ev.threshold_subset_accuracy),
                               "hamming_loss": _num(ev.threshold_hamming_loss),
                               "sources": [{"name": dec(o.name), "f1": _num(o.baseline_f1),
                                            "threshold": _num(o.baseline_threshold)}
                                           for o in per]}}}
        d["beats_all_off"] = {
            "subset_accuracy": _fewer_errors(1.0 - ev.subset_accuracy,
                                             1.0 - ev.all_off_subset_accuracy) >= 0.01,
            "hamming_loss": _fewer_errors(ev.hamming_loss, ev.all_off_hamming_loss) >= 0.01}
    else:
        d = {"task": "multiclass", "windows": ev.windows, "accuracy": _num(ev.accuracy),
             "macro_f1": _num(ev.macro_f1),
             "classes": [{"name": dec(o.name), "precision": _num(o.precision),
                          "recall": _num(o.recall), "f1": _num(o.f1), "support": o.support}
                         for o in per],
             "confusion": [[ev.confusion[r * k + c] for c in range(k)] for r in range(k)],
             "baselines": {"majority": {"class": dec(per[ev.majority_class].name),
                                        "accuracy": _num(ev.majority_accuracy),
                                        "macro_f1": _num(ev.majority_macro_f1)}}}
        d["beats_majority"] = {
            "accuracy": _fewer_errors(1.0 - ev.accuracy, 1.0 - ev.majority_accuracy) >= 0.01}
    d["seq_len"] = m.seq_len
    d["label_offset"] = m.label_offset
    d["durations"] = "raw" if raw else "model"
    return d


def _evaluate(self, x, labels=None, classes=None, *, breaks=None, raw=False, time=None):
    """The model's scores on labelled readings, as a dict with `lstmsrc eval --json`'s keys and
    numbers (less "model" and "data", which name files): multi-label subset_accuracy,
    hamming_loss, macro_f1, per source precision/recall/f1/support/threshold, the "all off" and
    "on if reading > t" baselines, beats_all_off; multi-class accuracy, macro_f1, per class
    scores, the confusion matrix, the majority baseline, beats_majority. raw=True: decisions
    without the model's minimum on/off durations (`eval --raw`)."""
    i = self.info
    multi = i["task"] == "multilabel"
    times = None
    if _is_frame(x):
        d = _from_frame(x, labels if labels is not None or classes is not None else
                        (i["label_names"] if multi else None),
                        classes if classes is not None or multi else i["label_names"][0],
                        None, time, inputs_by_name=i["input_names"])
        x, labels, classes, times = d["x"], d.get("labels"), d.get("classes"), d["times"]
    if multi and labels is None:
        raise ValueError("labels: a multi-label model is scored on (rows, %d) 0/1 labels"
                         % i["outputs"])
    if not multi and classes is None:
        raise ValueError("classes: a multi-class model is scored on (rows,) class indexes")
    if multi and classes is not None or not multi and labels is not None:
        raise ValueError("%s: this is a %s model" % ("classes" if multi else "labels",
                                                     i["task"]))
    ds = _Dataset(x, labels, classes, i["input_names"], i["label_names"], breaks, times=times,
                  time_name=i["time_name"], period=i["period"] if times is not None else 0.0,
                  max_gap=i["max_gap"] if times is not None else 0.0)
    m = self
    if raw:
        m = self._copy()
        err = _n.Error()
        _check(_n.model_set_durations(m._h, None, None, ctypes.byref(err)), err)
    err = _n.Error()
    ev = ctypes.POINTER(_n.Eval)()
    _check(_n.evaluate(m._h, ds._h, ctypes.byref(ev), ctypes.byref(err)), err)
    try:
        return _eval_dict(ev.contents, self._info, raw)
    finally:
        _n.eval_free(ev)


def _copy(self):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.lsm")
        self.save(p)
        return Model.load(p)


def _export_c(self, path, prefix="model"):
    """Writes the model as one self-contained C99 header (`lstmsrc export-c MODEL -o PATH
    --prefix PREFIX`): weights, scaler, thresholds, a streaming predictor and the minimum
    durations filter, no malloc."""
    if not isinstance(prefix, str):
        raise TypeError("prefix: expected a str, got %r" % (prefix,))
    err = _n.Error()
    _check(_n.export_c(self._h, prefix.encode("utf-8"), os.fsencode(path), ctypes.byref(err)),
           err)


Model.evaluate = _evaluate
Model._copy = _copy
Model.export_c = _export_c


# ============================== data doctor ==============================

_WIDTH = 100


def _wrap(text, col, indent):
    """cmd_doctor.c's wrap(): words to _WIDTH columns, the first line from column col, later
    ones indented; a space before '%' does not break ("12.5 %")."""
    out, p, start, n = [], 0, col, len(text)
    while p < n:
        while p < n and text[p] == " ":
            p += 1
        if p >= n:
            break
        e = p
        while e < n and (text[e] != " " or (e + 1 < n and text[e + 1] == "%")):
            e += 1
        w = text[p:e]
        if col > start and col + 1 + len(w) > _WIDTH:
            out.append("\n" + " " * indent)
            col = start = indent
        elif col > start:
            out.append(" ")
            col += 1
        out.append(w)
        col += len(w)
        p = e
    return "".join(out) + "\n"


def _cell(v, w):
    if not np.isfinite(v):
        return " %*s" % (w, "-")
    if abs(v) >= 100.0 or v == np.floor(v):
        return " %*.0f" % (w, v)
    return " %*.1f" % (w, v)


class Finding:
    """One finding of the data doctor: severity ("info", "warn", "problem"), code ("overlap",
    "duration", ...: lstmsrc_finding_code_str), output/input/other (the source, input channel or
    second column it is about; None when not), value (its headline number), message, advice."""

    __slots__ = ("severity", "code", "output", "input", "other", "value", "message", "advice")

    def __init__(self, f):
        self.severity = _n.severity_str(f.severity).decode()
        self.code = _n.finding_code_str(f.code).decode()
        self.output = f.output if f.output >= 0 else None
        self.input = f.input if f.input >= 0 else None
        self.other = f.other if f.other >= 0 else None
        self.value = f.value
        self.message = (f.message or b"").decode("utf-8", "replace")
        self.advice = (f.advice or b"").decode("utf-8", "replace")

    def __repr__(self):
        return "<lstmsrc.Finding %s %s: %s>" % (self.severity, self.code, self.message)


class Report:
    """What lstmsrc.doctor found: findings (a list of Finding, problems first), inputs and
    outputs (a dict of statistics per input and per source or class), suggested (the training
    settings the data suggests: seq, val, features, each None without an opinion, and why), and
    str() the text `lstmsrc doctor` prints."""

    def __init__(self, r):
        dec = lambda b: b.decode("utf-8", "replace") if b else None  # noqa: E731
        self.source = dec(r.source)
        self.rows, self.has_labels = r.rows, bool(r.has_labels)
        self.task = "multilabel" if r.task == _n.TASK_MULTILABEL else "multiclass"
        self.findings = [Finding(r.findings[i]) for i in range(r.n_findings)]
        self.inputs = [{k: (dec(getattr(s, k)) if k == "name" else getattr(s, k))
                        for k, _ in _n.InputStats._fields_} for s in
                       (r.input[i] for i in range(r.inputs))]
        self.outputs = [{k: (dec(getattr(s, k)) if k == "name" else getattr(s, k))
                         for k, _ in _n.OutputStats._fields_} for s in
                        (r.output[j] for j in range(r.outputs))] if r.output else []
        for k in ("rows_none_on", "rows_multi_on", "all_off_accuracy", "majority_class",
                  "base_p10", "base_median", "base_p90", "val_rows"):
            setattr(self, k, getattr(r, k))
        cfg = _n.TrainConfig()
        _n.train_config_default(ctypes.byref(cfg))
        default_val = cfg.val_fraction
        _n.doctor_suggest(ctypes.byref(r), _n.SUGGEST_SEQ_LEN, ctypes.byref(cfg))
        self.suggested = {
            "seq": cfg.seq_len if r.suggested_seq_len > 0 else None,
            "seq_reason": dec(r.seq_len_reason),
            "val": r.suggested_val_fraction if r.val_fraction_reason else None,
            "val_reason": dec(r.val_fraction_reason),
            "features": "diff" if r.suggested_features else None,
        }
        self._text = self._render(r, cfg.seq_len, default_val)

    def _render(self, r, seq, default_val):
        ml = r.task == _n.TASK_MULTILABEL
        o = []
        s = "%s: %d rows, %d input%s" % (self.source or "?", r.rows, r.inputs,
                                        "" if r.inputs == 1 else "s")
        if r.has_labels:
            s += ", %d %s (%s)" % (r.outputs, "sources" if ml else "classes",
                                   "multi-label" if ml else "multi-class")
        else:
            s += ", no labels"
        o.append(s + "\n")
        o.append("\n%-20s %9s %9s %9s %9s %9s %8s %7s %7s %6s\n" % (
            "input", "min", "max", "mean", "std", "median", "negative", "~0 runs", "at max",
            "jumps"))
        for st in self.inputs:
            o.append("%-20.20s" % (st["name"] or "?") + "".join(
                _cell(st[k], 9) for k in ("min", "max", "mean", "std", "median")) +
                " %8d %7d %7d %6d\n" % (st["negative"], st["outage_runs"], st["at_max"],
                                        st["jumps"]))
        if r.has_labels:
            o.append("\n%-16s %8s %7s %5s %6s %5s %5s %6s %7s %6s %13s %7s\n" % (
                "source" if ml else "class", "on rows", "share", "runs", "cycles", "cycle",
                "p90", "gap", "flicker", "val on", "level p10-p90", "as base"))
            for q in self.outputs:
                level = ("%.0f-%.0f" % (q["level_p10"], q["level_p90"])
                         if np.isfinite(q["level_median"]) else "-")
                base = "%.1f %%" % (100 * q["base_like"]) if np.isfinite(q["base_like"]) else "-"
                o.append("%-16.16s %8d %5.1f %% %5d %6d" % (
                    q["name"] or "?", q["on_rows"], 100.0 * q["on_share"], q["on_runs"],
                    q["cycles"]) + _cell(q["cycle_median"], 5) + _cell(q["cycle_p90"], 5) +
                    _cell(q["off_run_median"], 6) +
                    " %7.2f %6d %13s %7s\n" % (q["flicker"], q["val_on_rows"], level, base))
            o.append("(runs, cycles, gaps in rows: medians; cycles join on-runs across gaps of "
                     "up to 5 rows;\n val on: on-rows in the last %d rows, the default "
                     "validation part; level: input 1\n while only this one is on; as base: "
                     "share of those rows reading like nothing on)\n" % r.val_rows)
            if ml and np.isfinite(r.base_median):
                o.append("nothing on: %d rows (%.1f %%), reading p10-p90 %.0f-%.0f, median "
                         "%.0f\n" % (r.rows_none_on, 100.0 * r.rows_none_on / r.rows,
                                     r.base_p10, r.base_p90, r.base_median))
        count = [0, 0, 0]
        for i in range(r.n_findings):
            count[r.findings[i].severity] += 1
        pl = lambda n: "" if n == 1 else "s"  # noqa: E731
        o.append("\n%d problem%s, %d warning%s, %d note%s\n" % (
            count[2], pl(count[2]), count[1], pl(count[1]), count[0], pl(count[0])))
        sev = ("note", "WARN", "PROBLEM")
        ind = 23
        for i in range(r.n_findings):
            f = r.findings[i]
            o.append("\n%-8s %-13s " % (sev[f.severity], _n.finding_code_str(f.code).decode()))
            o.append(_wrap(self.findings[i].message, ind, ind))
            if self.findings[i].advice:
                o.append(" " * ind + "-> " + _wrap(self.findings[i].advice, ind + 3, ind + 3))
        sug = self.suggested
        if r.suggested_seq_len > 0 or r.val_fraction_reason or r.suggested_features:
            o.append("\nsuggested training settings:\n")
            if r.suggested_seq_len > 0:
                line = "  --seq %d   " % seq
                why = (sug["seq_reason"] or "?") + (
                    "; twice that, a cycle on each side of the centred label (once with "
                    "--label-at last)" if seq != r.suggested_seq_len else "")
                o.append(line + _wrap(why, len(line), len(line)))
            if r.val_fraction_reason:
                v = r.suggested_val_fraction
                line = "  --val %s%s   " % (_g(v), " stays" if v == default_val else "")
                o.append(line + _wrap(sug["val_reason"], len(line), len(line)))
            if r.suggested_features:
                line = "  --features diff   "
                o.append(line + _wrap("every input is a cumulative counter: its first "
                                      "difference is the signal", len(line), len(line)))
        return "".join(o)

    def __str__(self):
        return self._text

    def __repr__(self):
        return "<lstmsrc.Report %s: %d rows, %d findings>" % (self.source, self.rows,
                                                              len(self.findings))


def _g(v):
    """C's %g of a float promoted to double."""
    return "%g" % float(np.float32(v))


def gen(rows=100000, sources=3, seed=1, classes=False):
    """Synthetic meter data, as `lstmsrc gen` writes it: a reading that sums `sources` machines
    with their own levels, durations and noise, and which of them is on. Returns (x, labels):
    x (rows,) float32 readings and labels (rows, sources) uint8 0/1, or with classes=True
    (x, classes): (rows,) int32, one class per combination of sources (2^sources of them). The
    same seed gives the same rows as the CLI."""
    import tempfile

    cfg = _n.GenConfig()
    _n.gen_config_default(ctypes.byref(cfg))
    cfg.rows = _int("rows", rows, 1)
    cfg.sources = _int("sources", sources, 1)
    cfg.seed = _int("seed", seed, 0)
    cfg.classes = int(bool(classes))
    err = _n.Error()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gen.csv")
        _check(_n.gen_write(ctypes.byref(cfg), path.encode(), ctypes.byref(err)), err)
        data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    x = np.ascontiguousarray(data[:, 0], dtype=np.float32)
    if classes:
        return x, np.ascontiguousarray(data[:, 1], dtype=np.int32)
    return x, np.ascontiguousarray(data[:, 1:], dtype=np.uint8)


def doctor(x, labels=None, classes=None, *, input_names=None, label_names=None, breaks=None,
           name=None, time=None, period=None, max_gap=None):
    """What `lstmsrc doctor` says about readings x (and labels or classes when given): a Report,
    whose str() is the CLI's text and whose findings are Finding objects. name: the data set's
    name in the text (default "arrays")."""
    d = _gather(x, labels, classes, input_names, label_names, time, period, max_gap)
    ds = _Dataset(breaks=breaks, name=name, **d)
    err = _n.Error()
    rep = ctypes.POINTER(_n.Report)()
    _check(_n.doctor(ds._h, ctypes.byref(rep), ctypes.byref(err)), err)
    try:
        return Report(rep.contents)
    finally:
        _n.report_free(rep)


# ============================== streams ==============================

class Decision(tuple):
    """One row's decision from a Stream: row (0-based, in push order), on (multi-label: an int8
    array of 0/1 per source; multi-class: the class index; None where the row has no full
    window) and proba (its window's probabilities, float32, or None)."""

    __slots__ = ()

    def __new__(cls, row, on, proba):
        return tuple.__new__(cls, (row, on, proba))

    row = property(lambda self: self[0])
    on = property(lambda self: self[1])
    proba = property(lambda self: self[2])

    def __repr__(self):
        return "Decision(row=%r, on=%r, proba=%r)" % self


class Stream:
    """Readings in one at a time, decisions out as they are settled, as `lstmsrc stream` writes
    them: push(reading) returns the list of Decisions settled by it (a centred label waits
    label_offset rows, the minimum durations up to decision_delay more), in row order; a NaN
    reading is a gap (the rows before it are settled, the series starts again after it);
    flush() settles every row left (the last ones without a window). The same decisions as
    model.predict on the rows pushed."""

    def __init__(self, model):
        self._m = model  # kept alive: the stream reads it
        info = model._info
        self._k, self._inputs = info.outputs, info.inputs
        self._off, self._seq = info.label_offset, info.seq_len
        self._multi = info.task == _n.TASK_MULTILABEL
        self._s = self._f = None
        err = _n.Error()
        s, f = ctypes.c_void_p(), ctypes.c_void_p()
        _check(_n.stream_create(model._h, ctypes.byref(s), ctypes.byref(err)), err)
        self._s = s
        _check(_n.filter_create(model._h, ctypes.byref(f), ctypes.byref(err)), err)
        self._f = f
        self._row = np.empty(self._inputs, dtype=np.float32)
        self._p = np.empty(self._k, dtype=np.float32)
        self._raw = np.empty(self._k, dtype=np.uint8)
        self._on = np.empty(self._k, dtype=np.uint8)
        self._rowp = self._row.ctypes.data_as(_n._floats)
        self._pp = self._p.ctypes.data_as(_n._floats)
        u8 = ctypes.POINTER(ctypes.c_uint8)
        self._rawp = self._raw.ctypes.data_as(u8)
        self._onp = self._on.ctypes.data_as(u8)
        self._ready = ctypes.c_int(0)
        self._err = _n.Error()
        self._next = 0      # rows pushed
        self._emitted = 0   # rows handed out
        self._probs = []    # probabilities of the rows in the filter, oldest first
        self._first = None  # the row the filter's oldest held row is

    def __del__(self):
        if getattr(self, "_s", None) and _n is not None:
            _n.stream_free(self._s)
        if getattr(self, "_f", None) and _n is not None:
            _n.filter_free(self._f)

    @property
    def delay(self):
        """Rows a decision may wait after its reading: label_offset + the filter's delay."""
        return self._off + _n.filter_delay(self._f)

    def _none_until(self, row, out):
        while self._emitted < row:
            out.append(Decision(self._emitted, None, None))
            self._emitted += 1

    def _pop(self, out):
        while _n.filter_pop(self._f, self._onp):
            p = self._probs.pop(0)
            row = self._first
            self._first += 1
            self._none_until(row, out)
            on = (int(np.argmax(self._on)) if not self._multi else
                  self._on.astype(np.int8))
            out.append(Decision(row, on, p))
            self._emitted = row + 1

    def _gap(self, out):
        _n.filter_flush(self._f)
        self._pop(out)
        self._none_until(self._next, out)
        _n.stream_reset(self._s)
        self._first = None

    def push(self, reading):
        """Adds one row (a number, or the model's inputs in order); returns the Decisions it
        settles (often none or one)."""
        try:
            a = np.asarray(reading)
            if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) \
                    or np.issubdtype(a.dtype, np.complexfloating):
                raise TypeError("got %s" % a.dtype)
            with np.errstate(over="ignore"):
                r = a.astype(np.float32).reshape(-1)
        except (TypeError, ValueError) as e:
            raise TypeError("reading: expected %d number%s: %s" % (
                self._inputs, "" if self._inputs == 1 else "s", e)) from None
        if r.size != self._inputs:
            raise ValueError("reading: the model reads %d input%s, got %d" % (
                self._inputs, "" if self._inputs == 1 else "s", r.size))
        out = []
        if np.isnan(r).any():
            self._gap(out)
            out.append(Decision(self._next, None, None))
            self._next += 1
            self._emitted = self._next
            return out
        self._row[:] = r
        _check(_n.stream_push(self._s, self._rowp, self._pp, ctypes.byref(self._ready),
                              ctypes.byref(self._err)), self._err)
        t = self._next
        self._next += 1
        if self._ready.value:
            _n.decide(self._m._h, self._pp, 1, self._rawp)
            _check(_n.filter_push(self._f, self._rawp, ctypes.byref(self._err)), self._err)
            if self._first is None:
                self._first = t - self._off
            self._probs.append(self._p.copy())
            self._pop(out)
        return out

    def flush(self):
        """Settles every row pushed (the last label_offset rows have no window); the next push
        starts a new series, as after a gap."""
        out = []
        self._gap(out)
        return out


Model.stream = lambda self: Stream(self)
Model.stream.__doc__ = "A Stream over this model: push a reading, get the settled decisions."


from .estimator import SourceClassifier  # noqa: E402 - needs train() above
