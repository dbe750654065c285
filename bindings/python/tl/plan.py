"""tl.Plan and tl.lr_find_suggest (include/tl/plan.h).

A Plan is a list of training stages (which layer groups train, for how many
steps, under which schedule, with which discriminative base rates). Its
queries are pure functions of the global step:

    p = tl.Plan.ulmfit(n_groups=4, lr=0.01, stage_steps=100, final_steps=400)
    p.lrs(150)            # numpy array, one rate per group
    p.stage_at(150)       # (stage, step inside it)
    p.trainable(1)        # numpy bool array over the groups

Plan.apply(optimizer, step) drives a tl.Optimizer with a plan (freezing,
state resets, per-group rates); tl.lr_find runs fastai's LR range test
through a Python callback that performs one training step; lr_find_suggest
computes fastai's suggestions from any recorded test.
"""
import ctypes

import numpy as np

from . import _check
from ._errors import InvalidArgumentError, Status

Status_STATE = Status.STATE
from ._native import OwnedHandle, c_double_p, lib, register, status
from .sched import Schedule, _count, _step
from . import _versions as _v

__all__ = ["Plan", "lr_find", "lr_find_suggest"]

_u64 = ctypes.c_uint64
_plan_p = ctypes.c_void_p


class _Stage(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("freeze", ctypes.c_int),
                ("freeze_arg", ctypes.c_int64), ("steps", _u64),
                ("sched", ctypes.c_void_p), ("base_lrs", c_double_p),
                ("reset_state", ctypes.c_int)]


class _Preset(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("n_groups", ctypes.c_size_t),
                ("lr", ctypes.c_double), ("stage_steps", _u64),
                ("final_steps", _u64), ("factor", ctypes.c_double),
                ("cut_frac", ctypes.c_double), ("ratio", ctypes.c_double),
                ("lr_mult", ctypes.c_double), ("pct_start", ctypes.c_double),
                ("div", ctypes.c_double), ("stage_lrs", ctypes.POINTER(ctypes.c_double)),
                ("n_stage_lrs", ctypes.c_size_t)]


class _LrFindOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("start_lr", ctypes.c_double),
                ("end_lr", ctypes.c_double), ("num_it", ctypes.c_size_t),
                ("beta", ctypes.c_double), ("stop_factor", ctypes.c_double)]


_STEP_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, c_double_p)


class _Result(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("n", ctypes.c_size_t),
                ("diverged", ctypes.c_int), ("has_suggestions", ctypes.c_int),
                ("lr_min", ctypes.c_double), ("lr_steep", ctypes.c_double),
                ("lr_valley", ctypes.c_double)]


register([
    ("tl_plan_stage_init", [ctypes.POINTER(_Stage), ctypes.c_uint], status),
    ("tl_plan_create", [ctypes.POINTER(_plan_p), ctypes.c_size_t], status),
    ("tl_plan_free", [_plan_p], None),
    ("tl_plan_add_stage", [_plan_p, ctypes.POINTER(_Stage)], status),
    ("tl_plan_num_stages", [ctypes.POINTER(ctypes.c_size_t), _plan_p], status),
    ("tl_plan_num_groups", [ctypes.POINTER(ctypes.c_size_t), _plan_p], status),
    ("tl_plan_total_steps", [ctypes.POINTER(_u64), _plan_p], status),
    ("tl_plan_stage_bounds", [ctypes.POINTER(_u64), ctypes.POINTER(_u64),
                              _plan_p, ctypes.c_size_t], status),
    ("tl_plan_stage_at", [ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(_u64),
                          _plan_p, _u64], status),
    ("tl_plan_group_trainable", [ctypes.POINTER(ctypes.c_int), _plan_p,
                                 ctypes.c_size_t, ctypes.c_size_t], status),
    ("tl_plan_lrs", [c_double_p, ctypes.c_size_t, _plan_p, _u64], status),
    ("tl_plan_momentum", [c_double_p, _plan_p, _u64], status),
    ("tl_plan_preset_options_init", [ctypes.POINTER(_Preset), ctypes.c_uint,
                                     ctypes.c_int], status),
    ("tl_plan_preset_create", [ctypes.POINTER(_plan_p), ctypes.c_int,
                               ctypes.POINTER(_Preset)], status),
    ("tl_plan_apply", [ctypes.POINTER(ctypes.c_int), _plan_p, ctypes.c_void_p,
                       _u64], status),
    ("tl_lr_find_options_init", [ctypes.POINTER(_LrFindOptions), ctypes.c_uint],
     status),
    ("tl_lr_find", [ctypes.POINTER(_Result), c_double_p, c_double_p,
                    ctypes.c_size_t, ctypes.c_void_p, _STEP_FN, ctypes.c_void_p,
                    ctypes.POINTER(_LrFindOptions)], status),
    ("tl_lr_find_suggest", [ctypes.POINTER(_Result), c_double_p, c_double_p,
                            ctypes.c_size_t, ctypes.c_size_t], status),
])

_PRESETS = {"ulmfit": 0, "chain_thaw": 1, "fine_tune": 2,
            "feature_extraction": 3}


class Plan(OwnedHandle):
    """Stages of (freezing, steps, schedule, discriminative rates)."""

    _free, _what = "tl_plan_free", "plan"

    def __init__(self, n_groups):
        handle = _plan_p()
        lib.tl_plan_create(ctypes.byref(handle), _count("n_groups", n_groups))
        self._handle = handle

    @classmethod
    def _preset(cls, name, **fields):
        opts = _Preset()
        lib.tl_plan_preset_options_init(ctypes.byref(opts),
                                        _v.PLAN_PRESET_OPTIONS_VERSION,
                                        _PRESETS[name])
        for key, value in fields.items():
            if value is not None:
                setattr(opts, key, value)
        handle = _plan_p()
        lib.tl_plan_preset_create(ctypes.byref(handle), _PRESETS[name],
                                  ctypes.byref(opts))
        plan = cls.__new__(cls)
        plan._handle = handle
        return plan

    @classmethod
    def ulmfit(cls, n_groups, stage_steps, final_steps, lr=0.01, factor=2.6,
               cut_frac=0.1, ratio=32.0, stage_lrs=None):
        """Gradual unfreezing with STLR and top / factor^(n-1-g) per group;
        top is stage_lrs[k] in stage k when given (one per group), else lr."""
        keep = None
        fields = {}
        if stage_lrs is not None:
            keep = np.ascontiguousarray(stage_lrs, dtype=np.float64).ravel()
            fields = {"stage_lrs": keep.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                      "n_stage_lrs": keep.size}
        plan = cls._preset("ulmfit", n_groups=_count("n_groups", n_groups),
                           lr=float(lr),
                           stage_steps=_count("stage_steps", stage_steps),
                           final_steps=_count("final_steps", final_steps),
                           factor=float(factor), cut_frac=float(cut_frac),
                           ratio=float(ratio), **fields)
        del keep  # copied by tl_plan_preset_create
        return plan

    @classmethod
    def chain_thaw(cls, n_groups, stage_steps, final_steps, lr=1e-3):
        """Felbo et al.: the head alone, each group alone, then all."""
        return cls._preset("chain_thaw", n_groups=_count("n_groups", n_groups),
                           lr=float(lr),
                           stage_steps=_count("stage_steps", stage_steps),
                           final_steps=_count("final_steps", final_steps))

    @classmethod
    def fine_tune(cls, n_groups, freeze_steps, steps, base_lr=2e-3,
                  lr_mult=100.0, pct_start=0.3, div=5.0):
        """fastai Learner.fine_tune (freeze_steps frozen, then steps)."""
        return cls._preset("fine_tune", n_groups=_count("n_groups", n_groups),
                           lr=float(base_lr),
                           stage_steps=_count("freeze_steps", freeze_steps),
                           final_steps=_count("steps", steps),
                           lr_mult=float(lr_mult), pct_start=float(pct_start),
                           div=float(div))

    @classmethod
    def feature_extraction(cls, n_groups, steps, lr=2e-3, pct_start=0.3,
                           div=25.0):
        """Only the last group (the head) trains, fastai one-cycle."""
        return cls._preset("feature_extraction",
                           n_groups=_count("n_groups", n_groups), lr=float(lr),
                           final_steps=_count("steps", steps),
                           pct_start=float(pct_start), div=float(div))

    def add_stage(self, schedule, steps, freeze_to=0, only_group=None,
                  base_lrs=None, reset_state=True):
        """Appends a stage (the schedule and base rates are copied)."""
        if not isinstance(schedule, Schedule):
            raise InvalidArgumentError("schedule must be a tl.Schedule")
        st = _Stage()
        lib.tl_plan_stage_init(ctypes.byref(st), _v.PLAN_STAGE_VERSION)
        if only_group is not None:
            st.freeze, st.freeze_arg = 1, _check.int64(
                only_group, "only_group", "Plan.add_stage")
        else:
            st.freeze, st.freeze_arg = 0, _check.int64(
                freeze_to, "freeze_to", "Plan.add_stage")
        st.steps = _count("steps", steps)
        st.sched = schedule._live()
        base = None
        if base_lrs is not None:
            base = np.ascontiguousarray(base_lrs, dtype=np.float64)
            if base.shape != (self.num_groups,):
                raise InvalidArgumentError(
                    "base_lrs must have one rate per group (%d)" % self.num_groups)
            st.base_lrs = base.ctypes.data_as(c_double_p)
        st.reset_state = int(bool(reset_state))
        lib.tl_plan_add_stage(self._live(), ctypes.byref(st))
        return self

    def _size(self, fn):
        out = ctypes.c_size_t()
        fn(ctypes.byref(out), self._live())
        return out.value

    @property
    def num_stages(self):
        return self._size(lib.tl_plan_num_stages)

    @property
    def num_groups(self):
        return self._size(lib.tl_plan_num_groups)

    @property
    def total_steps(self):
        out = _u64()
        lib.tl_plan_total_steps(ctypes.byref(out), self._live())
        return out.value

    def stage_bounds(self, stage):
        """(first global step, number of steps) of a stage."""
        start, steps = _u64(), _u64()
        lib.tl_plan_stage_bounds(ctypes.byref(start), ctypes.byref(steps),
                                 self._live(), _count("stage", stage))
        return start.value, steps.value

    def stage_at(self, step):
        stage, local = ctypes.c_size_t(), _u64()
        lib.tl_plan_stage_at(ctypes.byref(stage), ctypes.byref(local),
                             self._live(), _step(step))
        return stage.value, local.value

    def trainable(self, stage):
        out = ctypes.c_int()
        flags = []
        for g in range(self.num_groups):
            lib.tl_plan_group_trainable(ctypes.byref(out), self._live(),
                                        _count("stage", stage), g)
            flags.append(bool(out.value))
        return np.array(flags)

    def lrs(self, step):
        out = np.empty(self.num_groups, dtype=np.float64)
        lib.tl_plan_lrs(out.ctypes.data_as(c_double_p), out.size, self._live(),
                        _step(step))
        return out

    def momentum(self, step):
        out = ctypes.c_double()
        lib.tl_plan_momentum(ctypes.byref(out), self._live(), _step(step))
        return out.value

    def apply(self, optimizer, step):
        """Puts the plan's state for `step` into a tl.Optimizer (trainable
        groups, state reset at a stage's first step, lrs, momentum); call
        before every optimizer.step(). Returns True on a stage's first step."""
        started = ctypes.c_int()
        lib.tl_plan_apply(ctypes.byref(started), self._live(), optimizer._live(),
                          _step(step))
        return bool(started.value)


def lr_find_suggest(lrs, losses, num_it):
    """fastai's suggestions from a recorded LR range test: a dict with
    'minimum' (lr of the lowest loss / 10), 'steep' and 'valley', or None
    when fewer than two points remain after trimming [num_it//10:-5]."""
    lrs = np.ascontiguousarray(lrs, dtype=np.float64)
    losses = np.ascontiguousarray(losses, dtype=np.float64)
    if lrs.ndim != 1 or lrs.shape != losses.shape:
        raise InvalidArgumentError("lrs and losses must be 1-D of equal length")
    res = _Result(version=_v.LR_FIND_RESULT_VERSION)
    lib.tl_lr_find_suggest(ctypes.byref(res), lrs.ctypes.data_as(c_double_p),
                           losses.ctypes.data_as(c_double_p), lrs.size,
                           _count("num_it", num_it))
    if not res.has_suggestions:
        return None
    return {"minimum": res.lr_min, "steep": res.lr_steep,
            "valley": res.lr_valley}


def lr_find(optimizer, step_fn, start_lr=1e-7, end_lr=10.0, num_it=100,
            beta=0.98, stop_factor=4.0):
    """fastai's LR range test on a tl.Optimizer. step_fn() must run one
    training step (zero_grad, forward, loss, backward, optimizer.step())
    and return the loss. Weights, optimizer state and hyperparameters are
    restored afterwards. Returns a dict: 'lrs', 'losses' (smoothed, numpy),
    'diverged', and 'minimum', 'steep', 'valley' (None without enough
    points). An exception raised by step_fn ends the test (restored) and is
    raised again."""
    opts = _LrFindOptions()
    lib.tl_lr_find_options_init(ctypes.byref(opts), _v.LR_FIND_OPTIONS_VERSION)
    opts.start_lr, opts.end_lr = float(start_lr), float(end_lr)
    opts.num_it = _count("num_it", num_it)
    opts.beta, opts.stop_factor = float(beta), float(stop_factor)
    cap = max(opts.num_it, 1)
    lrs = np.zeros(cap, dtype=np.float64)
    losses = np.zeros(cap, dtype=np.float64)
    raised = []

    def trampoline(payload, out_loss):
        try:
            out_loss[0] = float(step_fn())
            return 0
        except BaseException as exc:  # noqa: B902 - re-raised below
            raised.append(exc)
            return int(Status_STATE)

    callback = _STEP_FN(trampoline)
    res = _Result(version=_v.LR_FIND_RESULT_VERSION)
    try:
        lib.tl_lr_find(ctypes.byref(res), lrs.ctypes.data_as(c_double_p),
                       losses.ctypes.data_as(c_double_p), cap, optimizer._live(),
                       callback, None, ctypes.byref(opts))
    except Exception:
        if raised:
            raise raised[0] from None
        raise
    n = res.n
    out = {"lrs": lrs[:n].copy(), "losses": losses[:n].copy(),
           "diverged": bool(res.diverged), "minimum": None, "steep": None,
           "valley": None}
    if res.has_suggestions:
        out.update(minimum=res.lr_min, steep=res.lr_steep, valley=res.lr_valley)
    return out
