"""tl.Schedule: learning-rate and momentum schedules (include/tl/sched.h).

A schedule is a pure function of the optimizer step (counted from 0), so
training can resume at any step and one schedule can drive every layer
group. Values match PyTorch's torch.optim.lr_scheduler, the ULMFiT paper and
fastai's fit_one_cycle to a relative error below 1e-9 (docs/schedules.md).

    s = tl.Schedule.stlr(0.01, total_steps=1000)
    s.lr(42), s.lrs(range(1000))            # floats, numpy array
    s = tl.Schedule.one_cycle(0.01, total_steps=500)
    s.momentum(10), s.momenta(range(500))
    s.group_lrs([0.01 / 2.6 ** 3, 0.01 / 2.6 ** 2, 0.01 / 2.6, 0.01], 42)

Bad arguments raise tl.InvalidArgumentError (a ValueError) with libtl's
message; momentum of a schedule without one raises tl.UnsupportedError.
"""
import ctypes

import numpy as np

from . import _check
from ._errors import InvalidArgumentError
from ._native import OwnedHandle, c_double_p, lib, register, status
from . import _versions as _v

__all__ = ["Schedule"]

_u64 = ctypes.c_uint64
_u64_p = ctypes.POINTER(_u64)
_sched_p = ctypes.c_void_p


def _options(name, fields):
    return type(name, (ctypes.Structure,),
                {"_fields_": [("version", ctypes.c_uint)] + fields})


_Stlr = _options("_Stlr", [("lr_max", ctypes.c_double), ("total_steps", _u64),
                          ("cut_frac", ctypes.c_double),
                          ("ratio", ctypes.c_double)])
_Cyclic = _options("_Cyclic", [
    ("base_lr", ctypes.c_double), ("max_lr", ctypes.c_double),
    ("step_size_up", _u64), ("step_size_down", _u64), ("mode", ctypes.c_int),
    ("gamma", ctypes.c_double), ("cycle_momentum", ctypes.c_int),
    ("base_momentum", ctypes.c_double), ("max_momentum", ctypes.c_double)])
_Cosine = _options("_Cosine", [("base_lr", ctypes.c_double), ("t_max", _u64),
                              ("eta_min", ctypes.c_double)])
_Restarts = _options("_Restarts", [
    ("base_lr", ctypes.c_double), ("t_0", _u64), ("t_mult", _u64),
    ("eta_min", ctypes.c_double)])
_OneCycle = _options("_OneCycle", [
    ("max_lr", ctypes.c_double), ("total_steps", _u64),
    ("pct_start", ctypes.c_double), ("div_factor", ctypes.c_double),
    ("final_div_factor", ctypes.c_double), ("three_phase", ctypes.c_int),
    ("anneal", ctypes.c_int), ("cycle_momentum", ctypes.c_int),
    ("base_momentum", ctypes.c_double), ("max_momentum", ctypes.c_double)])
_Fastai = _options("_Fastai", [
    ("lr_max", ctypes.c_double), ("total_steps", _u64),
    ("pct_start", ctypes.c_double), ("div", ctypes.c_double),
    ("div_final", ctypes.c_double), ("moms", ctypes.c_double * 3)])
_Linear = _options("_Linear", [
    ("base_lr", ctypes.c_double), ("start_factor", ctypes.c_double),
    ("end_factor", ctypes.c_double), ("total_iters", _u64)])
_Constant = _options("_Constant", [
    ("lr", ctypes.c_double), ("factor", ctypes.c_double),
    ("total_iters", _u64)])
_Step = _options("_Step", [("base_lr", ctypes.c_double), ("step_size", _u64),
                          ("gamma", ctypes.c_double)])
_Exponential = _options("_Exponential", [("base_lr", ctypes.c_double),
                                        ("gamma", ctypes.c_double)])
_MultiStep = _options("_MultiStep", [
    ("base_lr", ctypes.c_double), ("milestones", _u64_p),
    ("n_milestones", ctypes.c_size_t), ("gamma", ctypes.c_double)])

# (C name stem, options struct, options version)
_KINDS = {
    "stlr": ("stlr", _Stlr,
             _v.SCHED_STLR_OPTIONS_VERSION),
    "cyclic": ("cyclic", _Cyclic,
               _v.SCHED_CYCLIC_OPTIONS_VERSION),
    "cosine": ("cosine", _Cosine,
               _v.SCHED_COSINE_OPTIONS_VERSION),
    "cosine_restarts": ("cosine_restarts", _Restarts,
                        _v.SCHED_COSINE_RESTARTS_OPTIONS_VERSION),
    "one_cycle": ("one_cycle", _OneCycle,
                  _v.SCHED_ONE_CYCLE_OPTIONS_VERSION),
    "fastai_one_cycle": ("fastai_one_cycle", _Fastai,
                         _v.SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION),
    "linear": ("linear", _Linear,
               _v.SCHED_LINEAR_OPTIONS_VERSION),
    "constant": ("constant", _Constant,
                 _v.SCHED_CONSTANT_OPTIONS_VERSION),
    "step": ("step", _Step,
             _v.SCHED_STEP_OPTIONS_VERSION),
    "exponential": ("exponential", _Exponential,
                    _v.SCHED_EXPONENTIAL_OPTIONS_VERSION),
    "multi_step": ("multi_step", _MultiStep,
                   _v.SCHED_MULTI_STEP_OPTIONS_VERSION),
}

_table = []
for _stem, _struct, _ in _KINDS.values():
    _table.append(("tl_sched_%s_options_init" % _stem,
                   [ctypes.POINTER(_struct), ctypes.c_uint], status))
    _table.append(("tl_sched_%s_create" % _stem,
                   [ctypes.POINTER(_sched_p), ctypes.POINTER(_struct)], status))
_table += [
    ("tl_sched_sequential_create",
     [ctypes.POINTER(_sched_p), ctypes.POINTER(_sched_p), ctypes.c_size_t,
      _u64_p], status),
    ("tl_sched_free", [_sched_p], None),
    ("tl_sched_lr", [c_double_p, _sched_p, _u64], status),
    ("tl_sched_momentum", [c_double_p, _sched_p, _u64], status),
    ("tl_sched_has_momentum", [_sched_p], ctypes.c_int),
    ("tl_sched_get_kind", [ctypes.POINTER(ctypes.c_int), _sched_p], status),
    ("tl_sched_total_steps", [_u64_p, _sched_p], status),
    ("tl_sched_reference_lr", [c_double_p, _sched_p, _u64], status),
    ("tl_sched_multiplier", [c_double_p, _sched_p, _u64], status),
    ("tl_sched_fill_group_lrs",
     [c_double_p, ctypes.c_size_t, _sched_p, c_double_p, _u64], status),
    ("tl_sched_fill_group_lrs_each",
     [c_double_p, ctypes.c_size_t, ctypes.POINTER(_sched_p), _u64], status),
    ("tl_sched_fill_group_momenta",
     [c_double_p, ctypes.c_size_t, _sched_p, _u64], status),
    ("tl_sched_fill_group_momenta_each",
     [c_double_p, ctypes.c_size_t, ctypes.POINTER(_sched_p), _u64], status),
]
register(_table)

_CYCLIC_MODES = {"triangular": 0, "triangular2": 1, "exp_range": 2}
_ANNEAL = {"cos": 0, "linear": 1}
_KIND_NAMES = ["stlr", "cyclic", "cosine", "cosine_restarts", "one_cycle",
               "fastai_one_cycle", "linear", "constant", "step", "exponential",
               "multi_step", "sequential"]


def _step(step):
    """A step as uint64: a non-negative integer below 2**64 (_check)."""
    return _check.uint64(step, "step")


def _count(name, value):
    """A size option (steps, iterations): a non-negative integer. 0 reaches
    libtl, which rejects it with its own message."""
    return _check.uint64(value, name)


def _choice(name, table, value):
    try:
        return table[value]
    except (KeyError, TypeError):
        raise InvalidArgumentError("%s must be one of %s (got %r)" % (
            name, ", ".join(sorted(table)), value)) from None


class Schedule(OwnedHandle):
    """An immutable learning-rate (and maybe momentum) schedule.

    Build one with a class method (stlr, cyclic, cosine, cosine_restarts,
    one_cycle, fastai_one_cycle, linear/warmup, constant, step, exponential,
    multi_step, sequential). Holds a libtl handle freed by close(), by the
    context manager or when the object is collected.
    """

    _free, _what = "tl_sched_free", "schedule"

    def __init__(self, handle):
        # Use the class methods; this takes ownership of a tl_sched *.
        self._handle = handle if isinstance(handle, _sched_p) else _sched_p(handle)

    # ---- constructors ------------------------------------------------------

    @classmethod
    def _create(cls, kind, **fields):
        stem, struct, version = _KINDS[kind]
        opts = struct()
        getattr(lib, "tl_sched_%s_options_init" % stem)(ctypes.byref(opts), version)
        for name, value in fields.items():
            setattr(opts, name, value)
        handle = _sched_p()
        getattr(lib, "tl_sched_%s_create" % stem)(ctypes.byref(handle),
                                                  ctypes.byref(opts))
        return cls(handle)

    @classmethod
    def stlr(cls, lr_max=0.01, total_steps=0, cut_frac=0.1, ratio=32.0):
        """Slanted triangular rates (ULMFiT eq. 3)."""
        return cls._create("stlr", lr_max=float(lr_max),
                           total_steps=_count("total_steps", total_steps),
                           cut_frac=float(cut_frac), ratio=float(ratio))

    @classmethod
    def cyclic(cls, base_lr, max_lr, step_size_up=2000, step_size_down=None,
               mode="triangular", gamma=1.0, base_momentum=0.8,
               max_momentum=0.9, cycle_momentum=True):
        """torch.optim.lr_scheduler.CyclicLR, momentum cycling inversely."""
        down = 0 if step_size_down is None else _count("step_size_down",
                                                       step_size_down)
        if step_size_down is not None and down == 0:
            raise InvalidArgumentError("step_size_down must be > 0 or None (got 0)")
        return cls._create(
            "cyclic", base_lr=float(base_lr), max_lr=float(max_lr),
            step_size_up=_count("step_size_up", step_size_up),
            step_size_down=down, mode=_choice("mode", _CYCLIC_MODES, mode),
            gamma=float(gamma), cycle_momentum=int(bool(cycle_momentum)),
            base_momentum=float(base_momentum), max_momentum=float(max_momentum))

    @classmethod
    def cosine(cls, base_lr, t_max, eta_min=0.0):
        """Closed form of CosineAnnealingLR (continues past t_max, as PyTorch)."""
        return cls._create("cosine", base_lr=float(base_lr),
                           t_max=_count("t_max", t_max), eta_min=float(eta_min))

    @classmethod
    def cosine_restarts(cls, base_lr, t_0, t_mult=1, eta_min=0.0):
        """SGDR = CosineAnnealingWarmRestarts stepped once per step."""
        return cls._create("cosine_restarts", base_lr=float(base_lr),
                           t_0=_count("t_0", t_0), t_mult=_count("t_mult", t_mult),
                           eta_min=float(eta_min))

    @classmethod
    def one_cycle(cls, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                  final_div_factor=1e4, three_phase=False, anneal="cos",
                  cycle_momentum=True, base_momentum=0.85, max_momentum=0.95):
        """PyTorch's OneCycleLR; holds its last value past total_steps."""
        return cls._create(
            "one_cycle", max_lr=float(max_lr),
            total_steps=_count("total_steps", total_steps),
            pct_start=float(pct_start), div_factor=float(div_factor),
            final_div_factor=float(final_div_factor),
            three_phase=int(bool(three_phase)),
            anneal=_choice("anneal", _ANNEAL, anneal),
            cycle_momentum=int(bool(cycle_momentum)),
            base_momentum=float(base_momentum), max_momentum=float(max_momentum))

    @classmethod
    def fastai_one_cycle(cls, lr_max, total_steps, pct_start=0.25, div=25.0,
                         div_final=1e5, moms=(0.95, 0.85, 0.95)):
        """fastai's fit_one_cycle (combined_cos for lr and momentum)."""
        moms = tuple(float(m) for m in moms)
        if len(moms) != 3:
            raise InvalidArgumentError("moms must have 3 values (got %d)" % len(moms))
        return cls._create(
            "fastai_one_cycle", lr_max=float(lr_max),
            total_steps=_count("total_steps", total_steps),
            pct_start=float(pct_start), div=float(div),
            div_final=float(div_final), moms=(ctypes.c_double * 3)(*moms))

    @classmethod
    def linear(cls, base_lr, start_factor=1.0 / 3.0, end_factor=1.0,
               total_iters=5):
        """LinearLR: linear warm-up (or decay); holds end_factor after."""
        return cls._create("linear", base_lr=float(base_lr),
                           start_factor=float(start_factor),
                           end_factor=float(end_factor),
                           total_iters=_count("total_iters", total_iters))

    @classmethod
    def warmup(cls, base_lr, total_iters, start_factor=1.0 / 3.0):
        """Linear warm-up from base_lr * start_factor to base_lr."""
        return cls.linear(base_lr, start_factor, 1.0, total_iters)

    @classmethod
    def constant(cls, lr, factor=1.0, total_iters=0):
        """A constant rate (ConstantLR: lr * factor for the first total_iters)."""
        return cls._create("constant", lr=float(lr), factor=float(factor),
                           total_iters=_count("total_iters", total_iters))

    @classmethod
    def step(cls, base_lr, step_size, gamma=0.1):
        """StepLR: base_lr * gamma ** (t // step_size)."""
        return cls._create("step", base_lr=float(base_lr),
                           step_size=_count("step_size", step_size),
                           gamma=float(gamma))

    @classmethod
    def exponential(cls, base_lr, gamma):
        """ExponentialLR: base_lr * gamma ** t."""
        return cls._create("exponential", base_lr=float(base_lr),
                           gamma=float(gamma))

    @classmethod
    def multi_step(cls, base_lr, milestones, gamma=0.1):
        """MultiStepLR: gamma applied at each milestone (copied)."""
        ms = [_count("milestone", m) for m in milestones]
        arr = (_u64 * max(len(ms), 1))(*ms)
        return cls._create("multi_step", base_lr=float(base_lr),
                           milestones=ctypes.cast(arr, _u64_p),
                           n_milestones=len(ms), gamma=float(gamma))

    @classmethod
    def sequential(cls, schedules, milestones):
        """SequentialLR: schedules[i] from milestones[i-1] on, each seeing
        the step relative to its start. The new schedule holds copies."""
        schedules = list(schedules)
        for s in schedules:
            if not isinstance(s, Schedule):
                raise InvalidArgumentError("schedules must be tl.Schedule objects")
        ms = [_count("milestone", m) for m in milestones]
        if len(ms) != max(len(schedules) - 1, 0):
            raise InvalidArgumentError(
                "sequential: need len(schedules) - 1 = %d milestones (got %d)"
                % (max(len(schedules) - 1, 0), len(ms)))
        handles = (_sched_p * max(len(schedules), 1))(
            *[s._live() for s in schedules])
        arr = (_u64 * max(len(ms), 1))(*ms)
        handle = _sched_p()
        lib.tl_sched_sequential_create(ctypes.byref(handle), handles,
                                       len(schedules),
                                       ctypes.cast(arr, _u64_p) if ms else None)
        return cls(handle)

    # ---- queries -------------------------------------------------------------

    def lr(self, step):
        out = ctypes.c_double()
        lib.tl_sched_lr(ctypes.byref(out), self._live(), _step(step))
        return out.value

    def momentum(self, step):
        out = ctypes.c_double()
        lib.tl_sched_momentum(ctypes.byref(out), self._live(), _step(step))
        return out.value

    def multiplier(self, step):
        """lr(step) / the reference rate the schedule was built with."""
        out = ctypes.c_double()
        lib.tl_sched_multiplier(ctypes.byref(out), self._live(), _step(step))
        return out.value

    def lrs(self, steps):
        """The rate at every step of an iterable, as a float64 array."""
        return np.array([self.lr(s) for s in _steps(steps)], dtype=np.float64)

    def momenta(self, steps):
        return np.array([self.momentum(s) for s in _steps(steps)],
                        dtype=np.float64)

    def group_lrs(self, base_lrs, step):
        """Discriminative rates: base_lrs[g] * multiplier(step)."""
        base = np.ascontiguousarray(base_lrs, dtype=np.float64)
        if base.ndim != 1:
            raise InvalidArgumentError("base_lrs must be one-dimensional")
        out = np.empty_like(base)
        lib.tl_sched_fill_group_lrs(out.ctypes.data_as(c_double_p), base.size,
                                    self._live(),
                                    base.ctypes.data_as(c_double_p),
                                    _step(step))
        return out

    @staticmethod
    def _each_group(fill, what, schedules, step):
        schedules = list(schedules)
        for s in schedules:
            if not isinstance(s, Schedule):
                raise InvalidArgumentError(
                    "%s: schedules must be tl.Schedule objects (got %s)"
                    % (what, type(s).__name__))
        handles = (_sched_p * max(len(schedules), 1))(
            *[s._live() for s in schedules])
        out = np.empty(len(schedules), dtype=np.float64)
        fill(out.ctypes.data_as(c_double_p) if out.size else
             (ctypes.c_double * 1)(), len(schedules), handles, _step(step))
        return out

    @staticmethod
    def each_group_lrs(schedules, step):
        """One schedule per layer group: a float64 array whose entry g is
        schedules[g].lr(step), computed in one libtl call (feed it to
        Optimizer.set_lrs). Raises tl.InvalidArgumentError for an empty
        list or an item that is not an open tl.Schedule, tl.NumericError
        when a rate overflows."""
        return Schedule._each_group(lib.tl_sched_fill_group_lrs_each,
                                    "each_group_lrs", schedules, step)

    @staticmethod
    def each_group_momenta(schedules, step):
        """One momentum schedule per layer group: entry g is
        schedules[g].momentum(step). Raises as each_group_lrs, and
        tl.UnsupportedError when a schedule has no momentum."""
        return Schedule._each_group(lib.tl_sched_fill_group_momenta_each,
                                    "each_group_momenta", schedules, step)

    @property
    def has_momentum(self):
        return bool(lib.tl_sched_has_momentum(self._live()))

    @property
    def total_steps(self):
        """The natural length in steps; 0 for unbounded schedules."""
        out = _u64()
        lib.tl_sched_total_steps(ctypes.byref(out), self._live())
        return out.value

    @property
    def kind(self):
        out = ctypes.c_int()
        lib.tl_sched_get_kind(ctypes.byref(out), self._live())
        return _KIND_NAMES[out.value]

    def __repr__(self):
        if not self._handle:
            return "<tl.Schedule closed>"
        return "<tl.Schedule %s total_steps=%d>" % (self.kind, self.total_steps)


def _steps(steps):
    if isinstance(steps, np.ndarray):
        steps = steps.tolist()
    return list(steps)
