"""The C library through ctypes: loading liblstmsrc.so, the structs mirrored from lstmsrc.h and
the function prototypes. Only what the package uses is declared here."""

import ctypes
import ctypes.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
# python/lstmsrc/ -> the repository root, whose build/ holds the library `make` builds
_REPO = os.path.dirname(os.path.dirname(_HERE))


def _candidates():
    env = os.environ.get("LSTMSRC_LIB")
    if env:
        yield env  # exactly this one: no silent fallback when it is set
        return
    for d in (_HERE, os.path.join(_REPO, "build")):
        for name in ("liblstmsrc.so", "liblstmsrc.so.0"):
            p = os.path.join(d, name)
            if os.path.exists(p):
                yield p
    found = ctypes.util.find_library("lstmsrc")
    yield found or "liblstmsrc.so.0"


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError(
        "lstmsrc: cannot load liblstmsrc.so; build it with `make` in the repository, or set "
        "LSTMSRC_LIB to its path. Tried: " + "; ".join(tried))


lib, lib_path = _load()

ERROR_SIZE = 256


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * ERROR_SIZE)]


class Progress(ctypes.Structure):
    """struct lstmsrc_progress, field for field."""
    _fields_ = [
        ("epoch", ctypes.c_int), ("epochs", ctypes.c_int), ("done", ctypes.c_size_t),
        ("total", ctypes.c_size_t), ("seconds", ctypes.c_double), ("loss", ctypes.c_double),
        ("val_loss", ctypes.c_double), ("val_f1", ctypes.c_double),
        ("end_of_epoch", ctypes.c_int), ("improved", ctypes.c_int),
        ("chunk_seconds", ctypes.c_double),
    ]


ProgressFn = ctypes.CFUNCTYPE(None, ctypes.POINTER(Progress), ctypes.c_void_p)
CheckpointFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


class TrainConfig(ctypes.Structure):
    """struct lstmsrc_train_config, field for field (280 bytes on LP64, tests/test_abi.c)."""
    _fields_ = [
        ("seq_len", ctypes.c_int), ("hidden", ctypes.c_int), ("layers", ctypes.c_int),
        ("bidirectional", ctypes.c_int), ("epochs", ctypes.c_int), ("batch", ctypes.c_int),
        ("patience", ctypes.c_int), ("select", ctypes.c_int), ("threads", ctypes.c_int),
        ("lr", ctypes.c_float), ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
        ("eps", ctypes.c_float), ("clip", ctypes.c_float), ("val_fraction", ctypes.c_float),
        ("seed", ctypes.c_uint64), ("pos_weight", ctypes.c_int),
        ("pos_weights", ctypes.POINTER(ctypes.c_float)), ("n_pos_weights", ctypes.c_int),
        ("pos_weight_cap", ctypes.c_float), ("tune_thresholds", ctypes.c_int),
        ("threshold", ctypes.c_float), ("features", ctypes.c_uint), ("label_at", ctypes.c_int),
        ("stride", ctypes.c_int), ("tune_durations", ctypes.c_int), ("min_on", ctypes.c_int),
        ("min_off", ctypes.c_int), ("progress", ctypes.c_void_p),
        ("progress_user", ctypes.c_void_p), ("stop", ctypes.c_void_p),
        ("checkpoint", ctypes.c_char_p), ("checkpoint_on_stop_only", ctypes.c_int),
        ("on_checkpoint", ctypes.c_void_p), ("checkpoint_user", ctypes.c_void_p),
        ("resume", ctypes.c_char_p), ("init", ctypes.c_void_p), ("init_name", ctypes.c_char_p),
        ("init_refit_scaler", ctypes.c_int), ("precision", ctypes.c_int),
        ("ema", ctypes.c_float), ("reserved32_", ctypes.c_uint32),
        ("comm", ctypes.c_void_p), ("scaler", ctypes.c_int32),
        ("reserved32b_", ctypes.c_uint32), ("reserved_", ctypes.c_uint64 * 5),
    ]


_P = ctypes.POINTER
_cstrs = _P(ctypes.c_char_p)
_floats = _P(ctypes.c_float)
_ints = _P(ctypes.c_int)


class ModelInfo(ctypes.Structure):
    """struct lstmsrc_model_info, field for field (352 bytes on LP64, tests/test_abi.c)."""
    _fields_ = [
        ("task", ctypes.c_int), ("label_mode", ctypes.c_int), ("inputs", ctypes.c_int),
        ("outputs", ctypes.c_int), ("hidden", ctypes.c_int), ("layers", ctypes.c_int),
        ("seq_len", ctypes.c_int), ("directions", ctypes.c_int), ("n_labels", ctypes.c_int),
        ("n_params", ctypes.c_size_t), ("input_names", _cstrs), ("label_names", _cstrs),
        ("output_names", _cstrs), ("channels", ctypes.c_int), ("features", ctypes.c_uint),
        ("label_at", ctypes.c_int), ("label_offset", ctypes.c_int), ("stride", ctypes.c_int),
        ("scale_mean", _floats), ("scale_std", _floats), ("thresholds", _floats),
        ("baseline_thresholds", _floats), ("pos_weights", _floats), ("seed", ctypes.c_uint64),
        ("rows_train", ctypes.c_uint64), ("rows_val", ctypes.c_uint64),
        ("windows_train", ctypes.c_uint64), ("windows_val", ctypes.c_uint64),
        ("epochs_run", ctypes.c_int), ("best_epoch", ctypes.c_int), ("batch", ctypes.c_int),
        ("threads", ctypes.c_int), ("lr", ctypes.c_float), ("val_loss", ctypes.c_float),
        ("val_macro_f1", ctypes.c_float), ("min_on", _ints), ("min_off", _ints),
        ("decision_delay", ctypes.c_int), ("on_above", _floats),
        ("use_invalid_below", ctypes.c_int), ("invalid_below", ctypes.c_float),
        ("time_name", ctypes.c_char_p), ("period", ctypes.c_double),
        ("max_gap", ctypes.c_double), ("init_name", ctypes.c_char_p),
        ("init_crc", ctypes.c_uint32), ("scaler", ctypes.c_int32),
        ("reserved32_", ctypes.c_uint32), ("reserved_", ctypes.c_uint64 * 7),
    ]


# the sizes the header fixes on LP64 Linux (tests/test_abi.c): a mirror that drifts from the
# header must fail here, not corrupt memory
if ctypes.sizeof(ctypes.c_void_p) == 8 and sys.platform.startswith("linux"):
    assert ctypes.sizeof(TrainConfig) == 280, ctypes.sizeof(TrainConfig)
    assert ctypes.sizeof(ModelInfo) == 352, ctypes.sizeof(ModelInfo)
    assert ctypes.sizeof(Error) == 260, ctypes.sizeof(Error)

_vp = ctypes.c_void_p
_err = _P(Error)
_st = ctypes.c_int


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


version = _proto("lstmsrc_version", ctypes.c_char_p)
status_str = _proto("lstmsrc_status_str", ctypes.c_char_p, ctypes.c_int)
dataset_from_arrays = _proto(
    "lstmsrc_dataset_from_arrays", _st, ctypes.c_char_p, _floats, ctypes.c_size_t, ctypes.c_int,
    _cstrs, _P(ctypes.c_uint8), _P(ctypes.c_int32), ctypes.c_int, _cstrs, _P(ctypes.c_uint8),
    ctypes.c_uint, _P(_vp), _err)
dataset_free = _proto("lstmsrc_dataset_free", None, _vp)
model_scaler_fit = _proto("lstmsrc_model_scaler_fit", _st, _vp, _vp, _err)
dataset_has_labels = _proto("lstmsrc_dataset_has_labels", ctypes.c_int, _vp)
train_config_default = _proto("lstmsrc_train_config_default", None, _P(TrainConfig))
train = _proto("lstmsrc_train", _st, _vp, _P(TrainConfig), _P(_vp), _err)
model_save = _proto("lstmsrc_model_save", _st, _vp, ctypes.c_char_p, _err)
model_load = _proto("lstmsrc_model_load", _st, ctypes.c_char_p, _P(_vp), _err)
model_free = _proto("lstmsrc_model_free", None, _vp)
model_get_info = _proto("lstmsrc_model_get_info", None, _vp, _P(ModelInfo))
predict_rows = _proto("lstmsrc_predict_rows", _st, _vp, _floats, ctypes.c_size_t, _floats,
                      ctypes.c_size_t, ctypes.c_int, _err)
decide = _proto("lstmsrc_decide", None, _vp, _floats, ctypes.c_size_t, _P(ctypes.c_uint8))
filter_rows = _proto("lstmsrc_filter_rows", None, _vp, _P(ctypes.c_uint8), ctypes.c_size_t)

ARRAYS_NAN_MISSING = 0x1
ROW_OK, ROW_MISSING, ROW_BREAK = 0, 1, 2
SUGGEST_SEQ_LEN, SUGGEST_VAL_FRACTION, SUGGEST_FEATURES = 0x1, 0x2, 0x4
FEATURE_RAW, FEATURE_DIFF = 0x1, 0x2
TASK_MULTILABEL, TASK_MULTICLASS = 0, 1
STATUS_INTERRUPTED = 8

_d, _sz, _i, _cp = ctypes.c_double, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p


class OutputMetrics(ctypes.Structure):
    _fields_ = [("name", _cp), ("precision", _d), ("recall", _d), ("f1", _d), ("support", _sz),
                ("threshold", _d), ("baseline_f1", _d), ("baseline_threshold", _d),
                ("min_on", _i), ("min_off", _i)]


class Eval(ctypes.Structure):
    _fields_ = [("task", _i), ("windows", _sz), ("outputs", _i), ("per", _P(OutputMetrics)),
                ("macro_f1", _d), ("subset_accuracy", _d), ("hamming_loss", _d),
                ("all_off_subset_accuracy", _d), ("all_off_macro_f1", _d),
                ("all_off_hamming_loss", _d), ("threshold_macro_f1", _d),
                ("threshold_subset_accuracy", _d), ("threshold_hamming_loss", _d),
                ("accuracy", _d), ("majority_class", _i), ("majority_accuracy", _d),
                ("majority_macro_f1", _d), ("confusion", _P(_sz))]


class Finding(ctypes.Structure):
    _fields_ = [("severity", _i), ("code", _i), ("output", _i), ("input", _i), ("other", _i),
                ("value", _d), ("message", _cp), ("advice", _cp)]


class InputStats(ctypes.Structure):
    _fields_ = [("name", _cp), ("mean", _d), ("std", _d), ("min", _d), ("max", _d),
                ("median", _d), ("negative", _sz), ("first_negative", _sz),
                ("outage_runs", _sz), ("outage_rows", _sz), ("longest_outage", _sz),
                ("first_outage", _sz), ("at_max", _sz), ("near_max", _sz), ("max_step", _d),
                ("jump_threshold", _d), ("jumps", _sz)]


class OutputStats(ctypes.Structure):
    _fields_ = [("name", _cp), ("on_rows", _sz), ("on_share", _d), ("on_runs", _sz),
                ("cycles", _sz), ("on_run_median", _d), ("on_run_p90", _d),
                ("off_run_median", _d), ("off_run_p90", _d), ("cycle_median", _d),
                ("cycle_p90", _d), ("flicker", _d), ("val_on_rows", _sz), ("last_on_row", _sz),
                ("alone_rows", _sz), ("level_p10", _d), ("level_median", _d),
                ("level_p90", _d), ("base_like", _d), ("pos_weight", _d)]


class Report(ctypes.Structure):
    _fields_ = [("source", _cp), ("rows", _sz), ("inputs", _i), ("outputs", _i), ("task", _i),
                ("label_mode", _i), ("has_labels", _i), ("input", _P(InputStats)),
                ("output", _P(OutputStats)), ("overlap", _P(_d)), ("rows_none_on", _sz),
                ("rows_multi_on", _sz), ("all_off_accuracy", _d), ("majority_class", _i),
                ("base_p10", _d), ("base_median", _d), ("base_p90", _d), ("val_rows", _sz),
                ("suggested_seq_len", _i), ("seq_len_reason", _cp),
                ("suggested_val_fraction", ctypes.c_float), ("val_fraction_reason", _cp),
                ("suggested_features", ctypes.c_uint), ("findings", _P(Finding)),
                ("n_findings", _i)]


class GenConfig(ctypes.Structure):
    _fields_ = [("rows", _sz), ("sources", _i), ("seed", ctypes.c_uint64), ("classes", _i),
                ("reserved_", ctypes.c_uint64 * 8)]


gen_config_default = _proto("lstmsrc_gen_config_default", None, _P(GenConfig))
gen_write = _proto("lstmsrc_gen_write", _st, _P(GenConfig), _cp, _err)
evaluate = _proto("lstmsrc_evaluate", _st, _vp, _vp, _P(_P(Eval)), _err)
eval_free = _proto("lstmsrc_eval_free", None, _P(Eval))
doctor = _proto("lstmsrc_doctor", _st, _vp, _P(_P(Report)), _err)
report_free = _proto("lstmsrc_report_free", None, _P(Report))
finding_code_str = _proto("lstmsrc_finding_code_str", _cp, _i)
severity_str = _proto("lstmsrc_severity_str", _cp, _i)
doctor_suggest = _proto("lstmsrc_doctor_suggest", ctypes.c_uint, _P(Report), ctypes.c_uint,
                          _P(TrainConfig))
model_set_durations = _proto("lstmsrc_model_set_durations", _st, _vp, _ints, _ints, _err)
model_load_mem = _proto("lstmsrc_model_load_mem", _st, _cp, _vp, _sz, _P(_vp), _err)
stream_create = _proto("lstmsrc_stream_create", _st, _vp, _P(_vp), _err)
stream_push = _proto("lstmsrc_stream_push", _st, _vp, _floats, _floats, _ints, _err)
stream_reset = _proto("lstmsrc_stream_reset", None, _vp)
stream_free = _proto("lstmsrc_stream_free", None, _vp)
filter_create = _proto("lstmsrc_filter_create", _st, _vp, _P(_vp), _err)
filter_push = _proto("lstmsrc_filter_push", _st, _vp, _P(ctypes.c_uint8), _err)
filter_pop = _proto("lstmsrc_filter_pop", _i, _vp, _P(ctypes.c_uint8))
filter_flush = _proto("lstmsrc_filter_flush", None, _vp)
filter_reset = _proto("lstmsrc_filter_reset", None, _vp)
filter_delay = _proto("lstmsrc_filter_delay", _i, _vp)
filter_free = _proto("lstmsrc_filter_free", None, _vp)
export_c = _proto("lstmsrc_export_c", _st, _vp, _cp, _cp, _err)
dataset_set_times = _proto("lstmsrc_dataset_set_times", _st, _vp, _cp, _P(_d), _d, _d, _err)
