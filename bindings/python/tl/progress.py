"""tl.Progress: training progress as fastprogress shows it (include/tl/progress.h).

    p = tl.Progress(n_epochs=3, train_steps=len(loader), terminal=True,
                    csv_steps="steps.csv", csv_epochs="epochs.csv",
                    on_step=lambda rec: ..., on_epoch=lambda rec: ...)
    for epoch in range(3):
        for x, y in loader:
            ...; p.step(loss, lrs)
        p.end_epoch(valid_loss, {"accuracy": acc})
    p.close()

The terminal reporter is libtl's: it writes to the process's stderr, one
line redrawn with \\r when stderr is a terminal, plain lines otherwise, and
fastai's epoch table. Callbacks get dicts of the C records.
"""
import ctypes
import math

from . import _versions as _v
from ._native import OwnedHandle, lib, register, status

__all__ = ["Progress"]

_p = ctypes.c_void_p
_f64_p = ctypes.POINTER(ctypes.c_double)


class _Record(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("stage", ctypes.c_int), ("epoch", ctypes.c_uint64),
                ("n_epochs", ctypes.c_uint64), ("step", ctypes.c_uint64),
                ("total_steps", ctypes.c_uint64), ("loss", ctypes.c_double),
                ("smooth_loss", ctypes.c_double), ("lrs", _f64_p),
                ("n_lrs", ctypes.c_size_t), ("elapsed", ctypes.c_double),
                ("remaining", ctypes.c_double)]


class _EpochRecord(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("epoch", ctypes.c_uint64), ("train_loss", ctypes.c_double),
                ("valid_loss", ctypes.c_double),
                ("metric_names", ctypes.POINTER(ctypes.c_char_p)),
                ("metrics", _f64_p), ("n_metrics", ctypes.c_size_t),
                ("seconds", ctypes.c_double)]


_StepFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_Record))
_EpochFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_EpochRecord))
_ClockFn = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p)


class _Options(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("n_epochs", ctypes.c_uint64),
                ("train_steps", ctypes.c_uint64), ("valid_steps", ctypes.c_uint64),
                ("smooth_beta", ctypes.c_double), ("on_step", _StepFn),
                ("on_epoch", _EpochFn), ("payload", ctypes.c_void_p),
                ("clock", _ClockFn), ("clock_payload", ctypes.c_void_p)]


register([
    ("tl_progress_options_init", [ctypes.POINTER(_Options), ctypes.c_uint], status),
    ("tl_progress_create", [ctypes.POINTER(_p), ctypes.POINTER(_Options)], status),
    ("tl_progress_free", [_p], None),
    ("tl_progress_add_reporter", [_p, _p], status),
    ("tl_progress_step", [_p, ctypes.c_int, ctypes.c_double, _f64_p, ctypes.c_size_t],
     status),
    ("tl_progress_end_epoch", [_p, ctypes.c_double, ctypes.POINTER(ctypes.c_char_p),
                               _f64_p, ctypes.c_size_t], status),
    ("tl_reporter_create_terminal", [ctypes.POINTER(_p), ctypes.c_void_p, ctypes.c_int],
     status),
    ("tl_reporter_create_csv", [ctypes.POINTER(_p), ctypes.c_char_p, ctypes.c_char_p],
     status),
    ("tl_reporter_free", [_p], None),
])

TRAIN, VALID = 0, 1
MODES = {"auto": 0, "redraw": 1, "lines": 2}


class Progress(OwnedHandle):
    _free = "tl_progress_free"
    _what = "progress tracker"

    def __init__(self, n_epochs=1, train_steps=0, valid_steps=0, smooth_beta=0.98,
                 terminal=True, mode="auto", csv_steps=None, csv_epochs=None,
                 on_step=None, on_epoch=None, clock=None):
        opts = _Options()
        lib.tl_progress_options_init(ctypes.byref(opts), _v.PROGRESS_OPTIONS_VERSION)
        opts.n_epochs, opts.train_steps = int(n_epochs), int(train_steps)
        opts.valid_steps, opts.smooth_beta = int(valid_steps), float(smooth_beta)
        # The ctypes callbacks must live as long as the tracker.
        self._cbs = []
        if on_step is not None:
            def step_cb(_payload, rec):
                r = rec.contents
                on_step({"stage": "train" if r.stage == TRAIN else "valid",
                         "epoch": r.epoch, "n_epochs": r.n_epochs, "step": r.step,
                         "total_steps": r.total_steps, "loss": r.loss,
                         "smooth_loss": r.smooth_loss,
                         "lrs": [r.lrs[i] for i in range(r.n_lrs)],
                         "elapsed": r.elapsed, "remaining": r.remaining})
            opts.on_step = _StepFn(step_cb)
            self._cbs.append(opts.on_step)
        if on_epoch is not None:
            def epoch_cb(_payload, rec):
                r = rec.contents
                on_epoch({"epoch": r.epoch, "train_loss": r.train_loss,
                          "valid_loss": r.valid_loss,
                          "metrics": {r.metric_names[i].decode(): r.metrics[i]
                                      for i in range(r.n_metrics)},
                          "seconds": r.seconds})
            opts.on_epoch = _EpochFn(epoch_cb)
            self._cbs.append(opts.on_epoch)
        if clock is not None:
            opts.clock = _ClockFn(lambda _payload: float(clock()))
            self._cbs.append(opts.clock)
        handle = _p()
        lib.tl_progress_create(ctypes.byref(handle), ctypes.byref(opts))
        self._handle = handle
        self._reporters = []
        if terminal:
            r = _p()
            lib.tl_reporter_create_terminal(ctypes.byref(r), None, MODES[mode])
            self._add(r)
        if csv_steps is not None or csv_epochs is not None:
            r = _p()
            lib.tl_reporter_create_csv(
                ctypes.byref(r), None if csv_steps is None else str(csv_steps).encode(),
                None if csv_epochs is None else str(csv_epochs).encode())
            self._add(r)

    def _add(self, r):
        self._reporters.append(r)
        lib.tl_progress_add_reporter(self._handle, r)

    def step(self, loss, lrs=(), stage="train"):
        arr = (ctypes.c_double * max(len(lrs), 1))(*[float(v) for v in lrs])
        lib.tl_progress_step(self._live(), TRAIN if stage == "train" else VALID,
                             float(loss), arr, len(lrs))

    def end_epoch(self, valid_loss=None, metrics=None):
        metrics = dict(metrics or {})
        names = (ctypes.c_char_p * max(len(metrics), 1))(*[k.encode() for k in metrics])
        vals = (ctypes.c_double * max(len(metrics), 1))(*[float(v) for v in metrics.values()])
        lib.tl_progress_end_epoch(self._live(),
                                  math.nan if valid_loss is None else float(valid_loss),
                                  names, vals, len(metrics))

    def close(self):
        super().close()
        for r in self._reporters:
            lib.tl_reporter_free(r)
        self._reporters = []
