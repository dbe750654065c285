"""tl.Learner: fastai's Learner over libtl's tl_learner (include/tl/learn.h).

    learn = tl.Learner([model], train=tl.LMLoader(...), valid=tl.LMLoader(...),
                       metrics=["accuracy", "perplexity"])
    learn.fit_one_cycle(1, 2e-2)
    learn.unfreeze()
    learn.fit_one_cycle(3, slice(1e-3 / 2.6**4, 1e-3))
    learn.recorder.values            # fastai's table, one list per epoch

Method names and arguments are fastai's (fit, fit_one_cycle, fine_tune,
fit_sgdr, freeze, freeze_to, unfreeze, lr_find, validate, save, load). A
learning rate is a float (every group), a fastai slice (slice(lo, hi) even
over the groups, slice(hi) hi for the last group and hi/10 for the others)
or a list with one rate per group. Data is a tl.LMLoader, a tl.ClasLoader
(created with pad_first=False so that masked pooling sees the lengths), or
any re-iterable of (x, y) or (x, y, lengths) numpy batches. See
docs/learner.md.
"""
import ctypes

import numpy as np

from . import _check
from . import _versions as _v
from ._errors import InvalidArgumentError, Status
from ._native import (OwnedHandle, c_double_p, c_int64_p, c_size_p, lib,
                      register, status)
from .model import _MAX_DIMS
from .plan import _LrFindOptions, _Result as _LrFindResult
from . import progress as _progress  # noqa: F401  (declares tl_reporter_*)

__all__ = ["EVENTS", "Learner", "GradientClip", "GradientAccumulation",
           "EarlyStoppingCallback", "SaveModelCallback", "CSVLogger"]

_p = ctypes.c_void_p
_f32_p = ctypes.POINTER(ctypes.c_float)


class _Batch(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("ids", c_int64_p), ("x", _f32_p),
                ("dims", ctypes.c_size_t * _MAX_DIMS), ("ndim", ctypes.c_size_t),
                ("targets", c_int64_p), ("n_targets", ctypes.c_size_t),
                ("lengths", c_size_p), ("n_lengths", ctypes.c_size_t),
                ("batch_size", ctypes.c_size_t)]


_NextFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Batch),
                           ctypes.POINTER(ctypes.c_int))
_RestartFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _BatchSource(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("next", _NextFn), ("restart", _RestartFn),
                ("payload", ctypes.c_void_p), ("n_batches", ctypes.c_uint64),
                ("reset_state", ctypes.c_int)]


class _ClasDataOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("batch_size", ctypes.c_size_t),
                ("max_len", ctypes.c_size_t), ("train_lens", c_size_p),
                ("n_train", ctypes.c_size_t), ("valid_lens", c_size_p),
                ("n_valid", ctypes.c_size_t)]


class _Options(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("opt_kind", ctypes.c_int),
                ("lr", ctypes.c_double), ("mom", ctypes.c_double),
                ("sqr_mom", ctypes.c_double), ("eps", ctypes.c_double),
                ("wd", ctypes.c_double), ("ignore_index", ctypes.c_int64)]


_LossFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, c_double_p, _f32_p, _f32_p,
                           c_size_p, ctypes.c_size_t, ctypes.POINTER(_Batch))
_MetricResetFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_MetricAccFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, _f32_p, c_size_p,
                                ctypes.c_size_t, ctypes.POINTER(_Batch))
_MetricValueFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, c_double_p)


class _HostMetric(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("name", ctypes.c_char_p),
                ("reset", _MetricResetFn), ("accumulate", _MetricAccFn),
                ("value", _MetricValueFn), ("payload", ctypes.c_void_p)]


class _State(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("event", ctypes.c_int),
                ("epoch", ctypes.c_uint64), ("n_epochs", ctypes.c_uint64),
                ("iter", ctypes.c_uint64), ("train_iter", ctypes.c_uint64),
                ("total_iters", ctypes.c_uint64), ("loss", ctypes.c_double),
                ("smooth_loss", ctypes.c_double), ("lrs", c_double_p),
                ("n_groups", ctypes.c_size_t), ("valid_loss", ctypes.c_double),
                ("metrics", c_double_p), ("n_metrics", ctypes.c_size_t)]


_CallbackFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.POINTER(_State))


class _Callback(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("fn", _CallbackFn),
                ("payload", ctypes.c_void_p), ("name", ctypes.c_char_p)]


class _MonitorOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("monitor", ctypes.c_char_p),
                ("comp", ctypes.c_int), ("min_delta", ctypes.c_double),
                ("patience", ctypes.c_uint64)]


class _FitOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("lr", ctypes.c_double),
                ("slice_lo", ctypes.c_double), ("slice_hi", ctypes.c_double),
                ("lrs", c_double_p), ("n_lrs", ctypes.c_size_t), ("wd", ctypes.c_double)]


class _OneCycleOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("lr_max", ctypes.c_double),
                ("slice_lo", ctypes.c_double), ("slice_hi", ctypes.c_double),
                ("lrs", c_double_p), ("n_lrs", ctypes.c_size_t),
                ("div", ctypes.c_double), ("div_final", ctypes.c_double),
                ("pct_start", ctypes.c_double), ("moms", ctypes.c_double * 3),
                ("wd", ctypes.c_double), ("start_epoch", ctypes.c_uint64)]


class _FineTuneOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("base_lr", ctypes.c_double),
                ("freeze_epochs", ctypes.c_uint64), ("lr_mult", ctypes.c_double),
                ("pct_start", ctypes.c_double), ("div", ctypes.c_double),
                ("div_final", ctypes.c_double), ("moms", ctypes.c_double * 3),
                ("wd", ctypes.c_double)]


class _SgdrOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("lr_max", ctypes.c_double),
                ("slice_lo", ctypes.c_double), ("slice_hi", ctypes.c_double),
                ("lrs", c_double_p), ("n_lrs", ctypes.c_size_t),
                ("cycle_mult", ctypes.c_uint64), ("wd", ctypes.c_double)]


_u64, _sz, _i64, _dbl = ctypes.c_uint64, ctypes.c_size_t, ctypes.c_int64, ctypes.c_double
register([
    ("tl_learner_options_init", [ctypes.POINTER(_Options), ctypes.c_uint], status),
    ("tl_clas_data_options_init", [ctypes.POINTER(_ClasDataOptions), ctypes.c_uint], status),
    ("tl_monitor_options_init", [ctypes.POINTER(_MonitorOptions), ctypes.c_uint], status),
    ("tl_fit_options_init", [ctypes.POINTER(_FitOptions), ctypes.c_uint], status),
    ("tl_fit_one_cycle_options_init", [ctypes.POINTER(_OneCycleOptions), ctypes.c_uint],
     status),
    ("tl_fine_tune_options_init", [ctypes.POINTER(_FineTuneOptions), ctypes.c_uint], status),
    ("tl_fit_sgdr_options_init", [ctypes.POINTER(_SgdrOptions), ctypes.c_uint], status),
    ("tl_learner_create", [ctypes.POINTER(_p), ctypes.POINTER(_p), _sz,
                           ctypes.POINTER(_Options)], status),
    ("tl_learner_free", [_p], None),
    ("tl_learner_num_models", [c_size_p, _p], status),
    ("tl_learner_model", [ctypes.POINTER(_p), _p, _sz], status),
    ("tl_learner_optim", [ctypes.POINTER(_p), _p], status),
    ("tl_learner_set_data", [_p, ctypes.POINTER(_BatchSource),
                             ctypes.POINTER(_BatchSource)], status),
    ("tl_learner_set_lm_data", [_p, _p, _p, _sz, _sz], status),
    ("tl_learner_set_clas_data", [_p, _p, _p, ctypes.POINTER(_ClasDataOptions)], status),
    ("tl_learner_set_loss", [_p, _LossFn, ctypes.c_void_p], status),
    ("tl_learner_set_group", [_p, _sz, ctypes.c_char_p, _sz], status),
    ("tl_learner_get_group", [c_size_p, _p, _sz, ctypes.c_char_p], status),
    ("tl_learner_num_groups", [c_size_p, _p], status),
    ("tl_learner_freeze_to", [_p, _i64], status),
    ("tl_learner_freeze", [_p], status),
    ("tl_learner_unfreeze", [_p], status),
    ("tl_learner_get_group_trainable", [ctypes.POINTER(ctypes.c_int), _p, _sz], status),
    ("tl_learner_add_metric", [_p, ctypes.c_int, _sz], status),
    ("tl_learner_add_host_metric", [_p, ctypes.POINTER(_HostMetric)], status),
    ("tl_learner_add_callback", [_p, ctypes.POINTER(_Callback)], status),
    ("tl_learner_request_stop", [_p], status),
    ("tl_learner_add_grad_clip", [_p, _dbl], status),
    ("tl_learner_add_grad_accum", [_p, _sz], status),
    ("tl_learner_add_early_stopping", [_p, ctypes.POINTER(_MonitorOptions)], status),
    ("tl_learner_add_save_model", [_p, ctypes.c_char_p, ctypes.POINTER(_MonitorOptions)],
     status),
    ("tl_learner_add_csv_logger", [_p, ctypes.c_char_p, ctypes.c_int], status),
    ("tl_learner_add_reporter", [_p, _p], status),
    ("tl_learner_clear_callbacks", [_p], status),
    ("tl_learner_fit", [_p, _u64, ctypes.POINTER(_FitOptions)], status),
    ("tl_learner_fit_one_cycle", [_p, _u64, ctypes.POINTER(_OneCycleOptions)], status),
    ("tl_learner_fine_tune", [_p, _u64, ctypes.POINTER(_FineTuneOptions)], status),
    ("tl_learner_fit_sgdr", [_p, _u64, _u64, ctypes.POINTER(_SgdrOptions)], status),
    ("tl_learner_validate", [c_double_p, c_double_p, _sz, _p], status),
    ("tl_learner_num_metrics", [c_size_p, _p], status),
    ("tl_learner_history_num_columns", [c_size_p, _p], status),
    ("tl_learner_history_column_name", [ctypes.POINTER(ctypes.c_char_p), _p, _sz], status),
    ("tl_learner_history_num_rows", [c_size_p, _p], status),
    ("tl_learner_history_value", [c_double_p, _p, _sz, _sz], status),
    ("tl_learner_save", [_p, ctypes.c_char_p], status),
    ("tl_learner_load", [_p, ctypes.c_char_p], status),
    ("tl_learner_lr_find", [ctypes.POINTER(_LrFindResult), ctypes.POINTER(ctypes.c_int),
                            c_double_p, c_double_p, _sz, _p, ctypes.POINTER(_LrFindOptions),
                            ctypes.c_char_p], status),
])

EVENTS = ["before_fit", "before_epoch", "before_batch", "after_backward", "after_step",
          "after_batch", "after_validate", "after_epoch", "after_fit"]
_OPT_KINDS = {"sgd": 0, "adam": 1, "adamw": 2}
_METRICS = {"accuracy": 0, "f1_score": 1, "perplexity": 2}
_COMPS = {None: 0, "less": 1, "greater": 2}


# ---- built-in callbacks (fastai's names and arguments) --------------------

class GradientClip:
    """fastai GradientClip: clip the gradients' global norm to max_norm."""

    def __init__(self, max_norm=1.0):
        self.max_norm = float(max_norm)

    def _add(self, learn):
        lib.tl_learner_add_grad_clip(learn._live(), self.max_norm)


class GradientAccumulation:
    """Step every n_acc batches on the mean gradient (counted in batches)."""

    def __init__(self, n_acc=2):
        self.n_acc = int(n_acc)

    def _add(self, learn):
        lib.tl_learner_add_grad_accum(learn._live(), self.n_acc)


def _monitor(monitor, comp, min_delta, patience):
    o = _MonitorOptions()
    lib.tl_monitor_options_init(ctypes.byref(o), _v.MONITOR_OPTIONS_VERSION)
    o.monitor = str(monitor).encode()
    if comp not in _COMPS:
        raise InvalidArgumentError("comp must be None, 'less' or 'greater' (got %r)" % (comp,))
    o.comp, o.min_delta, o.patience = _COMPS[comp], float(min_delta), int(patience)
    return o


class EarlyStoppingCallback:
    """fastai EarlyStoppingCallback(monitor, comp, min_delta, patience)."""

    def __init__(self, monitor="valid_loss", comp=None, min_delta=0.0, patience=1):
        self.args = (monitor, comp, min_delta, patience)

    def _add(self, learn):
        o = _monitor(*self.args)
        lib.tl_learner_add_early_stopping(learn._live(), ctypes.byref(o))


class SaveModelCallback:
    """fastai SaveModelCallback: save the models to fname when the monitored
    value improves (restore with Learner.load(fname))."""

    def __init__(self, monitor="valid_loss", comp=None, min_delta=0.0, fname="model.tlck"):
        self.args = (monitor, comp, min_delta, 1)
        self.fname = str(fname)

    def _add(self, learn):
        o = _monitor(*self.args)
        lib.tl_learner_add_save_model(learn._live(), self.fname.encode(), ctypes.byref(o))


class CSVLogger:
    """fastai CSVLogger: the history table written to fname."""

    def __init__(self, fname="history.csv", append=False):
        self.fname, self.append = str(fname), bool(append)

    def _add(self, learn):
        lib.tl_learner_add_csv_logger(learn._live(), self.fname.encode(), int(self.append))


class _Recorder:
    """fastai's Recorder view of the last fit: metric_names and values."""

    def __init__(self, learn):
        self._learn = learn

    @property
    def metric_names(self):
        return self._learn._columns()

    @property
    def values(self):
        """One list per epoch: train_loss, valid_loss, metrics (fastai's
        Recorder.values, without the epoch and time)."""
        return [row[1:-1] for row in self._learn._rows()]


# ---- the learner -------------------------------------------------------------

class Learner(OwnedHandle):
    """fastai's Learner over a chain of tl.Model (models[0] takes the
    batches, models[i+1] takes models[i]'s output). See the module
    docstring and docs/learner.md."""

    _free, _what = "tl_learner_free", "learner"

    def __init__(self, models, train=None, valid=None, loss_func=None, metrics=(),
                 cbs=(), opt_func="adamw", lr=1e-3, mom=0.9, sqr_mom=0.99, eps=1e-5,
                 wd=0.01, ignore_index=-100, n_classes=None, reset_state=None,
                 progress=False):
        models = list(models) if isinstance(models, (list, tuple)) else [models]
        if opt_func not in _OPT_KINDS:
            raise InvalidArgumentError("opt_func must be one of %s (got %r)"
                                       % (sorted(_OPT_KINDS), opt_func))
        opts = _Options()
        lib.tl_learner_options_init(ctypes.byref(opts), _v.LEARNER_OPTIONS_VERSION)
        opts.opt_kind, opts.lr, opts.mom = _OPT_KINDS[opt_func], float(lr), float(mom)
        opts.sqr_mom, opts.eps, opts.wd = float(sqr_mom), float(eps), float(wd)
        opts.ignore_index = int(ignore_index)
        arr = (_p * max(len(models), 1))(*[m._live() for m in models])
        handle = _p()
        lib.tl_learner_create(ctypes.byref(handle), arr, len(models), ctypes.byref(opts))
        self._handle = handle
        self.models = models  # keeps the wrappers (and their buffers) alive
        self._keep = []       # ctypes callbacks and buffers C holds on to
        self._raised = []
        self._reset_state = reset_state
        self.lr = float(lr)  # fastai's self.lr: the fits' default rate
        self.train, self.valid = None, None
        if train is not None:
            self.set_data(train, valid)
        if loss_func is not None:
            self.set_loss(loss_func)
        for m in metrics:
            self.add_metric(m, n_classes=n_classes)
        for cb in cbs:
            self.add_cb(cb)
        self.recorder = _Recorder(self)
        self._reporter = None
        if progress:
            # libtl's terminal reporter on stderr: fastprogress's bar and table
            r = _p()
            lib.tl_reporter_create_terminal(ctypes.byref(r), None, 0)
            self._reporter = r
            lib.tl_learner_add_reporter(self._live(), r)

    def _release(self):
        super()._release()
        r, self._reporter = getattr(self, "_reporter", None), None
        if r:  # after the learner, which borrowed it
            lib.tl_reporter_free(r)

    # -- calls that may run Python callbacks ----------------------------------
    def _call(self, fn, *args):
        self._raised.clear()
        try:
            return fn(*args)
        except Exception:
            if self._raised:
                raise self._raised[0] from None
            raise

    def _guard(self, fn):
        """Wraps a Python callable for C: an exception becomes TL_E_STATE
        and is raised again when the C call returns."""
        def wrapped(*args):
            try:
                fn(*args)
                return 0
            except BaseException as exc:  # noqa: B902 - re-raised in _call
                self._raised.append(exc)
                return int(Status.STATE)
        return wrapped

    # -- data -----------------------------------------------------------------
    def _host_source(self, data, reset_state):
        keep = {"data": data, "it": None, "batch": None}

        def next_fn(_payload, out, has):
            if keep["it"] is None:
                keep["it"] = iter(data)
            try:
                item = next(keep["it"])
            except StopIteration:
                keep["it"] = None
                has[0] = 0
                return
            b = out.contents
            x = np.asarray(item[0])
            if x.dtype.kind in "iu":
                x = np.ascontiguousarray(x, dtype=np.int64)
                b.ids = x.ctypes.data_as(c_int64_p)
            else:
                x = np.ascontiguousarray(x, dtype=np.float32)
                b.x = x.ctypes.data_as(_f32_p)
            if not 1 <= x.ndim <= _MAX_DIMS:
                raise InvalidArgumentError("a batch's x must have 1..%d dims" % _MAX_DIMS)
            for i, d in enumerate(x.shape):
                b.dims[i] = d
            b.ndim = x.ndim
            y = lengths = None
            if len(item) > 1 and item[1] is not None:
                y = np.ascontiguousarray(item[1], dtype=np.int64).ravel()
                b.targets, b.n_targets = y.ctypes.data_as(c_int64_p), y.size
            if len(item) > 2 and item[2] is not None:
                lengths = np.ascontiguousarray(item[2], dtype=np.uintp)
                b.lengths, b.n_lengths = lengths.ctypes.data_as(c_size_p), lengths.size
            b.batch_size = x.shape[1] if x.ndim >= 3 or (x.ndim == 2 and b.ids) else x.shape[0]
            keep["batch"] = (x, y, lengths)  # alive until the next call
            has[0] = 1

        def restart_fn(_payload):
            keep["it"] = None

        src = _BatchSource()
        src.version = _v.BATCH_SOURCE_VERSION
        src.next = _NextFn(self._guard(next_fn))
        src.restart = _RestartFn(self._guard(restart_fn))
        try:
            src.n_batches = len(data)
        except TypeError:
            src.n_batches = 0
        src.reset_state = int(bool(reset_state))
        self._keep += [keep, src.next, src.restart]
        return src

    def set_data(self, train, valid=None):
        """Training and validation data: tl.LMLoader, tl.ClasLoader, or
        re-iterables of (x, y[, lengths]) numpy batches (x int ids or
        floats, time-major (T, B, ...) for sequences)."""
        from .text import ClasLoader, LMLoader
        if isinstance(train, LMLoader):
            lib.tl_learner_set_lm_data(self._live(), train._live(),
                                       None if valid is None else valid._live(),
                                       train.bs, train.bptt)
        elif isinstance(train, ClasLoader):
            o = _ClasDataOptions()
            lib.tl_clas_data_options_init(ctypes.byref(o), _v.CLAS_DATA_OPTIONS_VERSION)
            o.batch_size, o.max_len = train.bs, train.max_len
            tl_ = (ctypes.c_size_t * max(len(train.doc_lens), 1))(*train.doc_lens)
            o.n_train = len(train.doc_lens)
            if not train.pad_first:
                o.train_lens = ctypes.cast(tl_, c_size_p)
            vl = None
            if valid is not None:
                vl = (ctypes.c_size_t * max(len(valid.doc_lens), 1))(*valid.doc_lens)
                o.n_valid = len(valid.doc_lens)
                if not valid.pad_first:
                    o.valid_lens = ctypes.cast(vl, c_size_p)
            lib.tl_learner_set_clas_data(self._live(), train._live(),
                                         None if valid is None else valid._live(),
                                         ctypes.byref(o))
        else:
            rs = bool(self._reset_state)
            t = self._host_source(train, rs)
            v = None if valid is None else self._host_source(valid, rs)
            lib.tl_learner_set_data(self._live(), ctypes.byref(t),
                                    None if v is None else ctypes.byref(v))
        self.train, self.valid = train, valid

    def set_loss(self, loss_func):
        """loss_func(y, batch) -> (loss, dy) with y the chain's output (a
        float32 numpy view) and dy its gradient (same shape), or None
        restoring the cross-entropy. batch is a dict (targets, lengths)."""
        if loss_func is None:
            lib.tl_learner_set_loss(self._live(), _LossFn(), None)
            return

        def fn(_payload, out_loss, out_dy, y, dims, ndim, batch):
            shape = tuple(dims[i] for i in range(ndim))
            ya = np.ctypeslib.as_array(y, shape=shape)
            b = batch.contents
            info = {"targets": None if not b.targets else
                    np.ctypeslib.as_array(b.targets, shape=(b.n_targets,)).copy()}
            loss, dy = loss_func(ya, info)
            out_loss[0] = float(loss)
            if out_dy:
                np.ctypeslib.as_array(out_dy, shape=shape)[...] = np.asarray(dy, np.float32)

        cfn = _LossFn(self._guard(fn))
        self._keep.append(cfn)
        lib.tl_learner_set_loss(self._live(), cfn, None)

    # -- metrics and callbacks -------------------------------------------------
    def add_metric(self, metric, n_classes=None):
        """'accuracy', 'f1_score' (macro, needs n_classes), 'perplexity', or
        a (name, fn) pair with fn(outputs, targets) -> float over the whole
        validation set (outputs and targets concatenated)."""
        if isinstance(metric, str):
            if metric not in _METRICS:
                raise InvalidArgumentError("unknown metric %r (one of %s)"
                                           % (metric, sorted(_METRICS)))
            lib.tl_learner_add_metric(self._live(), _METRICS[metric],
                                      int(n_classes or 0))
            return
        name, func = metric
        acc = {"y": [], "t": []}

        def reset(_payload):
            acc["y"], acc["t"] = [], []

        def accumulate(_payload, y, dims, ndim, batch):
            shape = tuple(dims[i] for i in range(ndim))
            acc["y"].append(np.ctypeslib.as_array(y, shape=shape).reshape(-1, shape[-1]).copy())
            b = batch.contents
            if b.targets:
                acc["t"].append(np.ctypeslib.as_array(b.targets, shape=(b.n_targets,)).copy())

        def value(_payload, out):
            out[0] = float(func(np.concatenate(acc["y"]),
                                np.concatenate(acc["t"]) if acc["t"] else None))

        m = _HostMetric()
        m.version = _v.HOST_METRIC_VERSION
        m.name = str(name).encode()
        m.reset = _MetricResetFn(self._guard(reset))
        m.accumulate = _MetricAccFn(self._guard(accumulate))
        m.value = _MetricValueFn(self._guard(value))
        self._keep += [m.reset, m.accumulate, m.value]
        lib.tl_learner_add_host_metric(self._live(), ctypes.byref(m))

    def add_cb(self, cb):
        """A built-in (GradientClip, GradientAccumulation,
        EarlyStoppingCallback, SaveModelCallback, CSVLogger) or a callable
        cb(event, state) run at every event (EVENTS; state a dict of the
        epoch, iteration, loss, smoothed loss, rates, validation loss and
        metrics). An exception stops the fit and is raised by the fit;
        learn.cancel_fit() stops it cleanly."""
        if hasattr(cb, "_add"):
            cb._add(self)
            return

        def fn(_payload, _learner, state):
            s = state.contents
            cb(EVENTS[s.event], {
                "epoch": s.epoch, "n_epochs": s.n_epochs, "iter": s.iter,
                "train_iter": s.train_iter, "total_iters": s.total_iters,
                "loss": s.loss, "smooth_loss": s.smooth_loss,
                "lrs": [s.lrs[i] for i in range(s.n_groups)],
                "valid_loss": s.valid_loss,
                "metrics": [s.metrics[i] for i in range(s.n_metrics)]})

        c = _Callback()
        c.version = _v.CALLBACK_VERSION
        c.fn = _CallbackFn(self._guard(fn))
        c.name = getattr(cb, "__name__", type(cb).__name__).encode()
        self._keep.append(c.fn)
        lib.tl_learner_add_callback(self._live(), ctypes.byref(c))

    def cancel_fit(self):
        """From a callback: stop the running fit cleanly (fastai's
        CancelFitException)."""
        lib.tl_learner_request_stop(self._live())

    def clear_cbs(self):
        lib.tl_learner_clear_callbacks(self._live())

    # -- groups ------------------------------------------------------------------
    def set_group(self, model_index, layer, group):
        """fastai's splitter, one layer at a time: layer `layer` of
        models[model_index] goes to learner group `group`."""
        lib.tl_learner_set_group(self._live(), int(model_index), str(layer).encode(),
                                 int(group))

    def get_group(self, model_index, layer):
        out = ctypes.c_size_t()
        lib.tl_learner_get_group(ctypes.byref(out), self._live(), int(model_index),
                                 str(layer).encode())
        return out.value

    @property
    def n_groups(self):
        out = ctypes.c_size_t()
        lib.tl_learner_num_groups(ctypes.byref(out), self._live())
        return out.value

    def freeze_to(self, n):
        lib.tl_learner_freeze_to(self._live(), int(n))

    def freeze(self):
        lib.tl_learner_freeze(self._live())

    def unfreeze(self):
        lib.tl_learner_unfreeze(self._live())

    def group_trainable(self, group):
        out = ctypes.c_int()
        lib.tl_learner_get_group_trainable(ctypes.byref(out), self._live(), int(group))
        return bool(out.value)

    # -- fitting -----------------------------------------------------------------
    def _lr_fields(self, opts, lr, field):
        """Fills lr / slice / per-group rates; returns what must stay alive."""
        if isinstance(lr, slice):
            opts.slice_lo = 0.0 if lr.start is None else float(lr.start)
            opts.slice_hi = float(lr.stop)
            return None
        if isinstance(lr, (list, tuple, np.ndarray)):
            arr = np.ascontiguousarray(lr, dtype=np.float64)
            opts.lrs, opts.n_lrs = arr.ctypes.data_as(c_double_p), arr.size
            return arr
        setattr(opts, field, float(lr))
        return None

    def fit(self, n_epoch, lr=None, wd=None):
        o = _FitOptions()
        lib.tl_fit_options_init(ctypes.byref(o), _v.FIT_OPTIONS_VERSION)
        keep = self._lr_fields(o, self.lr if lr is None else lr, "lr")  # noqa: F841
        o.wd = -1.0 if wd is None else float(wd)
        self._call(lib.tl_learner_fit, self._live(), int(n_epoch), ctypes.byref(o))

    def fit_one_cycle(self, n_epoch, lr_max=None, div=25.0, div_final=1e5, pct_start=0.25,
                      wd=None, moms=(0.95, 0.85, 0.95), start_epoch=0):
        o = _OneCycleOptions()
        lib.tl_fit_one_cycle_options_init(ctypes.byref(o), _v.FIT_ONE_CYCLE_OPTIONS_VERSION)
        keep = self._lr_fields(o, self.lr if lr_max is None else lr_max, "lr_max")  # noqa: F841
        o.div, o.div_final, o.pct_start = float(div), float(div_final), float(pct_start)
        o.moms[:] = [float(m) for m in moms]
        o.wd = -1.0 if wd is None else float(wd)
        o.start_epoch = _check.uint64(start_epoch, "start_epoch")
        self._call(lib.tl_learner_fit_one_cycle, self._live(), int(n_epoch), ctypes.byref(o))

    def fine_tune(self, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3,
                  div=5.0, div_final=1e5, wd=None, moms=(0.95, 0.85, 0.95)):
        o = _FineTuneOptions()
        lib.tl_fine_tune_options_init(ctypes.byref(o), _v.FINE_TUNE_OPTIONS_VERSION)
        o.base_lr, o.freeze_epochs, o.lr_mult = float(base_lr), int(freeze_epochs), \
            float(lr_mult)
        o.pct_start, o.div, o.div_final = float(pct_start), float(div), float(div_final)
        o.moms[:] = [float(m) for m in moms]
        o.wd = -1.0 if wd is None else float(wd)
        self._call(lib.tl_learner_fine_tune, self._live(), int(epochs), ctypes.byref(o))

    def fit_sgdr(self, n_cycles, cycle_len, lr_max=None, cycle_mult=2, wd=None):
        o = _SgdrOptions()
        lib.tl_fit_sgdr_options_init(ctypes.byref(o), _v.FIT_SGDR_OPTIONS_VERSION)
        keep = self._lr_fields(o, self.lr if lr_max is None else lr_max, "lr_max")  # noqa: F841
        o.cycle_mult = int(cycle_mult)
        o.wd = -1.0 if wd is None else float(wd)
        self._call(lib.tl_learner_fit_sgdr, self._live(), int(n_cycles), int(cycle_len),
                   ctypes.byref(o))

    def validate(self):
        """fastai Learner.validate: [valid_loss, metrics...]."""
        n = ctypes.c_size_t()
        lib.tl_learner_num_metrics(ctypes.byref(n), self._live())
        loss = ctypes.c_double()
        vals = (ctypes.c_double * max(n.value, 1))()
        self._call(lib.tl_learner_validate, ctypes.byref(loss), vals, n.value, self._live())
        return [loss.value] + [vals[i] for i in range(n.value)]

    def lr_find(self, start_lr=1e-7, end_lr=10.0, num_it=100, stop_div=True, beta=0.98,
                csv=None):
        """fastai Learner.lr_find: a dict with 'lrs', 'losses' (smoothed),
        'diverged', 'falling_at_end' (the loss still fell at end_lr: try a
        larger end_lr) and the suggestions 'minimum', 'steep', 'valley'
        (None without enough points). csv: write the record there
        (docs/plot_lr_find.py plots it). Weights and optimizer state are
        restored."""
        o = _LrFindOptions()
        lib.tl_lr_find_options_init(ctypes.byref(o), _v.LR_FIND_OPTIONS_VERSION)
        o.start_lr, o.end_lr, o.num_it = float(start_lr), float(end_lr), int(num_it)
        o.beta, o.stop_factor = float(beta), 4.0 if stop_div else 0.0
        cap = max(int(num_it), 1)
        lrs, losses = np.zeros(cap), np.zeros(cap)
        res = _LrFindResult(version=_v.LR_FIND_RESULT_VERSION)
        falling = ctypes.c_int()
        self._call(lib.tl_learner_lr_find, ctypes.byref(res), ctypes.byref(falling),
                   lrs.ctypes.data_as(c_double_p), losses.ctypes.data_as(c_double_p), cap,
                   self._live(), ctypes.byref(o), None if csv is None else str(csv).encode())
        out = {"lrs": lrs[:res.n].copy(), "losses": losses[:res.n].copy(),
               "diverged": bool(res.diverged), "falling_at_end": bool(falling.value),
               "minimum": None, "steep": None, "valley": None}
        if res.has_suggestions:
            out.update(minimum=res.lr_min, steep=res.lr_steep, valley=res.lr_valley)
        return out

    # -- history -----------------------------------------------------------------
    def _columns(self):
        n = ctypes.c_size_t()
        lib.tl_learner_history_num_columns(ctypes.byref(n), self._live())
        out = []
        for c in range(n.value):
            name = ctypes.c_char_p()
            lib.tl_learner_history_column_name(ctypes.byref(name), self._live(), c)
            out.append(name.value.decode())
        return out

    def _rows(self):
        rows, cols = ctypes.c_size_t(), ctypes.c_size_t()
        lib.tl_learner_history_num_rows(ctypes.byref(rows), self._live())
        lib.tl_learner_history_num_columns(ctypes.byref(cols), self._live())
        v = ctypes.c_double()
        out = []
        for r in range(rows.value):
            row = []
            for c in range(cols.value):
                lib.tl_learner_history_value(ctypes.byref(v), self._live(), r, c)
                row.append(v.value)
            row[0] = int(row[0])
            out.append(row)
        return out

    @property
    def history(self):
        """The last fit's table: a list of dicts keyed by fastai's columns
        (epoch, train_loss, valid_loss, metrics..., time in seconds)."""
        names = self._columns()
        return [dict(zip(names, row)) for row in self._rows()]

    def show_results(self):
        """The history as fastai prints it (a text table)."""
        names = self._columns()
        lines = ["  ".join("%-10s" % n for n in names)]
        for row in self._rows():
            cells = ["%-10d" % row[0]] + ["%-10.6f" % v for v in row[1:-1]]
            t = int(row[-1])
            cells.append("%02d:%02d" % (t // 60, t % 60))
            lines.append("  ".join(cells))
        return "\n".join(lines)

    # -- saving ------------------------------------------------------------------
    def save(self, fname):
        """fastai Learner.save: every model to fname (models[i] under "i.")."""
        lib.tl_learner_save(self._live(), str(fname).encode())

    def load(self, fname):
        lib.tl_learner_load(self._live(), str(fname).encode())
        return self
