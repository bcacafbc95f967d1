"""lstmsrc.SourceClassifier: the library as a scikit-learn estimator (fit, predict,
predict_proba, score, get_params, set_params), for sklearn.pipeline and cross_val_score.

scikit-learn is optional: with it installed the class is a sklearn BaseEstimator and
ClassifierMixin (clone, repr, score as accuracy); without it the same methods are here."""

import numpy as np

from . import train as _train

try:  # optional: the estimator works without it, sklearn's tools need it
    from sklearn.base import BaseEstimator as _Base, ClassifierMixin as _Mixin
except ImportError:  # pragma: no cover - exercised where scikit-learn is missing
    _Base = _Mixin = object

# the options of lstmsrc.train, each None for the library's (the CLI's) default
_OPTIONS = ("seq", "hidden", "layers", "directions", "features", "label_at", "epochs", "batch",
            "stride", "lr", "clip", "ema", "precision", "val", "select", "patience", "pos_weight", "threshold",
            "durations", "min_on", "min_off", "seed", "threads")


def _fill(a, missing):
    """Rows without a full window (the ends of a segment) take the nearest row's value, so
    every row has a prediction, as scikit-learn's scorers expect."""
    idx = np.flatnonzero(~missing)
    if idx.size == 0 or idx.size == a.shape[0]:
        return a
    near = idx[np.clip(np.searchsorted(idx, np.arange(a.shape[0])), 0, idx.size - 1)]
    prev = idx[np.clip(np.searchsorted(idx, np.arange(a.shape[0])) - 1, 0, idx.size - 1)]
    rows = np.arange(a.shape[0])
    pick = np.where(np.abs(rows - prev) <= np.abs(near - rows), prev, near)
    return a[pick]


class SourceClassifier(_Mixin, _Base):
    """An LSTM over windows of the readings X ((rows,) or (rows, inputs), rows in time order)
    that says which sources are on: y (rows, sources) 0/1 is multi-label, y (rows,) class
    labels of any kind multi-class (a 0/1 y is one source). The parameters are lstmsrc.train's
    options (the CLI's, same names; None: its default). predict gives every row a decision:
    the few rows at the ends without a full window take the nearest row's."""

    def __init__(self, seq=None, hidden=None, layers=None, directions=None, features=None,
                 label_at=None, epochs=None, batch=None, stride=None, lr=None, clip=None,
                 ema=None, precision=None, val=None, select=None, patience=None, pos_weight=None, threshold=None,
                 durations=None, min_on=None, min_off=None, seed=None, threads=None):
        for k in _OPTIONS:
            setattr(self, k, locals()[k])

    # without scikit-learn: the two methods its BaseEstimator gives
    if _Base is object:
        def get_params(self, deep=True):
            return {k: getattr(self, k) for k in _OPTIONS}

        def set_params(self, **params):
            for k, v in params.items():
                if k not in _OPTIONS:
                    raise ValueError("SourceClassifier: no parameter %r" % (k,))
                setattr(self, k, v)
            return self

    def fit(self, X, y):
        opts = {k: getattr(self, k) for k in _OPTIONS if getattr(self, k) is not None}
        y = np.asarray(y)
        if y.ndim == 2:
            self._kind = "multilabel"
            self.model_ = _train(X, labels=y, **opts)
            self.classes_ = np.arange(y.shape[1])
        elif y.ndim == 1:
            self.classes_, codes = np.unique(y, return_inverse=True)
            if set(np.unique(y).tolist()) <= {0, 1}:
                self._kind = "binary"
                self.classes_ = np.array([0, 1])
                self.model_ = _train(X, labels=y.astype(np.uint8), **opts)
            else:
                self._kind = "multiclass"
                self.model_ = _train(X, classes=codes.astype(np.int32), **opts)
        else:
            raise ValueError("y: expected (rows,) classes or (rows, sources) 0/1, got shape %s"
                             % (y.shape,))
        self.n_features_in_ = 1 if np.ndim(X) == 1 else np.shape(X)[1]
        return self

    def _model(self):
        m = getattr(self, "model_", None)
        if m is None:
            raise AttributeError("SourceClassifier: call fit first")  # sklearn's NotFitted
        return m

    def predict_proba(self, X):
        p = self._model().predict_proba(X)
        p = _fill(p, np.isnan(p).any(axis=1))
        if self._kind == "binary":
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        return p

    def predict(self, X):
        on = self._model().predict(X)
        if self._kind == "multiclass":
            return self.classes_[_fill(on, on < 0)]
        on = _fill(on, (on < 0).any(axis=1))
        return on[:, 0].astype(np.int64) if self._kind == "binary" else on.astype(np.int64)
