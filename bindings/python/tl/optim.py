"""tl.Optimizer: SGD, Adam and AdamW over one or more tl.Model objects
(include/tl/optim.h), with per-group hyperparameters, discriminative
learning rates, clipping and state save/restore.

    opt = tl.Optimizer(m, "adamw", lr=1e-3, betas=(0.9, 0.99), eps=1e-5,
                       weight_decay=0.01)
    opt.set_lrs(tl.lrs_factor(opt.num_groups, 1e-2, 2.6))
    opt.zero_grad(); ...; opt.clip_grad_norm(0.3); opt.step()

The optimizer keeps its models alive (a Python reference and a libtl
reference count), so closing a model first is safe.
"""
import ctypes

from . import _check, _errors
from ._native import OwnedHandle, lib, register, status
from .model import Model
from . import _versions as _v

__all__ = ["Optimizer", "lrs_even", "lrs_slice", "lrs_factor"]

_KINDS = {"sgd": 0, "adam": 1, "adamw": 2}
_HPARAMS = {"lr": 0, "momentum": 1, "beta1": 1, "beta2": 2, "eps": 3,
            "weight_decay": 4}


class _OptimOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("kind", ctypes.c_int),
                ("lr", ctypes.c_double), ("momentum", ctypes.c_double),
                ("beta2", ctypes.c_double), ("eps", ctypes.c_double),
                ("weight_decay", ctypes.c_double), ("nesterov", ctypes.c_int)]


_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_dp = ctypes.POINTER(ctypes.c_double)

register([
    ("tl_optim_options_init", [ctypes.POINTER(_OptimOptions), ctypes.c_uint,
                               ctypes.c_int], status),
    ("tl_optim_create", [ctypes.POINTER(_vp), ctypes.POINTER(_vp), _sz,
                         ctypes.POINTER(_OptimOptions)], status),
    ("tl_optim_free", [_vp], None),
    ("tl_optim_num_groups", [ctypes.POINTER(_sz), _vp], status),
    ("tl_optim_set_group_hparam", [_vp, _sz, ctypes.c_int, ctypes.c_double],
     status),
    ("tl_optim_get_group_hparam", [_dp, _vp, _sz, ctypes.c_int], status),
    ("tl_optim_set_group_lr", [_vp, _sz, ctypes.c_double], status),
    ("tl_optim_get_group_lr", [_dp, _vp, _sz], status),
    ("tl_optim_set_lrs", [_vp, _dp, _sz], status),
    ("tl_lrs_even", [_dp, _sz, ctypes.c_double, ctypes.c_double], status),
    ("tl_lrs_slice", [_dp, _sz, ctypes.c_double], status),
    ("tl_lrs_factor", [_dp, _sz, ctypes.c_double, ctypes.c_double], status),
    ("tl_optim_freeze_to", [_vp, ctypes.c_int64], status),
    ("tl_optim_set_group_trainable", [_vp, _sz, ctypes.c_int], status),
    ("tl_optim_zero_grad", [_vp], status),
    ("tl_optim_clip_grad_norm", [_dp, _vp, ctypes.c_double], status),
    ("tl_optim_step", [_vp], status),
    ("tl_optim_step_count", [ctypes.POINTER(ctypes.c_uint64), _vp], status),
    ("tl_optim_reset_state", [_vp], status),
    ("tl_optim_state_size", [ctypes.POINTER(_sz), _vp], status),
    ("tl_optim_state_save", [ctypes.c_void_p, _sz, _vp], status),
    ("tl_optim_state_load", [_vp, ctypes.c_void_p, _sz], status),
])


def _lrs(fn, n, *args):
    n = _check.size(n, "n", fn.__name__)
    out = (ctypes.c_double * n)()
    fn(out, n, *[float(a) for a in args])
    return list(out)


def lrs_even(n, lo, hi):
    """fastai slice(lo, hi): lo * (hi/lo)^(i/(n-1))."""
    return _lrs(lib.tl_lrs_even, n, lo, hi)


def lrs_slice(n, hi):
    """fastai slice(hi): hi/10 for groups 0..n-2, hi for the last."""
    return _lrs(lib.tl_lrs_slice, n, hi)


def lrs_factor(n, top, factor=2.6):
    """ULMFiT: top / factor^(n-1-i)."""
    return _lrs(lib.tl_lrs_factor, n, top, factor)


class Optimizer(OwnedHandle):
    """An optimizer over one Model or a list of Models (groups concatenate
    in that order)."""

    _free, _what = "tl_optim_free", "optimizer"

    def __init__(self, models, kind="sgd", lr=None, momentum=None,
                 betas=None, eps=None, weight_decay=None, nesterov=False):
        if isinstance(models, Model):
            models = [models]
        models = list(models)
        if kind not in _KINDS:
            raise ValueError("kind must be 'sgd', 'adam' or 'adamw'")
        o = _OptimOptions()
        lib.tl_optim_options_init(ctypes.byref(o), _v.OPTIM_OPTIONS_VERSION,
                                  _KINDS[kind])
        if lr is not None:
            o.lr = float(lr)
        if momentum is not None:
            o.momentum = float(momentum)
        if betas is not None:
            o.momentum, o.beta2 = float(betas[0]), float(betas[1])
        if eps is not None:
            o.eps = float(eps)
        if weight_decay is not None:
            o.weight_decay = float(weight_decay)
        o.nesterov = 1 if nesterov else 0
        handles = (_vp * len(models))(*[m._live().value for m in models])
        h = _vp()
        lib.tl_optim_create(ctypes.byref(h), handles, len(models),
                            ctypes.byref(o))
        self._handle = h
        self._models = models  # keeps the Python wrappers alive too

    @property
    def num_groups(self):
        n = _sz()
        lib.tl_optim_num_groups(ctypes.byref(n), self._live())
        return n.value

    def set_group(self, group, **hparams):
        """set_group(g, lr=..., momentum=..., beta2=..., eps=...,
        weight_decay=...)."""
        for k, v in hparams.items():
            if k not in _HPARAMS:
                raise ValueError("unknown hyperparameter %r" % k)
            lib.tl_optim_set_group_hparam(
                self._live(), _check.index(group, "group", "Optimizer.set_group"),
                _HPARAMS[k], float(v))

    def get_group(self, group, name):
        v = ctypes.c_double()
        lib.tl_optim_get_group_hparam(
            ctypes.byref(v), self._live(),
            _check.index(group, "group", "Optimizer.get_group"),
            _HPARAMS[name])
        return v.value

    def set_group_lr(self, group, lr):
        """Sets the learning rate of one group (tl_optim_set_group_lr).
        Raises tl.InvalidArgumentError for a group out of range or a
        negative or non-finite rate."""
        lib.tl_optim_set_group_lr(
            self._live(), _check.index(group, "group", "Optimizer.set_group_lr"),
            float(lr))

    def group_lr(self, group):
        """The learning rate of one group (tl_optim_get_group_lr)."""
        v = ctypes.c_double()
        lib.tl_optim_get_group_lr(
            ctypes.byref(v), self._live(),
            _check.index(group, "group", "Optimizer.group_lr"))
        return v.value

    def set_lrs(self, lrs):
        arr = (ctypes.c_double * len(lrs))(*[float(v) for v in lrs])
        lib.tl_optim_set_lrs(self._live(), arr, len(lrs))

    def freeze_to(self, n):
        """fastai freeze_to over every model's groups; resets the state."""
        lib.tl_optim_freeze_to(self._live(),
                               _check.int64(n, "n", "Optimizer.freeze_to"))

    def set_group_trainable(self, group, trainable):
        lib.tl_optim_set_group_trainable(
            self._live(),
            _check.index(group, "group", "Optimizer.set_group_trainable"),
            1 if trainable else 0)

    def zero_grad(self):
        lib.tl_optim_zero_grad(self._live())

    def clip_grad_norm(self, max_norm):
        """Clips by global norm (torch clip_grad_norm_); returns the norm."""
        v = ctypes.c_double()
        lib.tl_optim_clip_grad_norm(ctypes.byref(v), self._live(),
                                    float(max_norm))
        return v.value

    def step(self):
        lib.tl_optim_step(self._live())

    @property
    def step_count(self):
        v = ctypes.c_uint64()
        lib.tl_optim_step_count(ctypes.byref(v), self._live())
        return v.value

    def reset_state(self):
        lib.tl_optim_reset_state(self._live())

    def state_dict(self):
        """The optimizer state as bytes (moments and step counters)."""
        n = _sz()
        lib.tl_optim_state_size(ctypes.byref(n), self._live())
        buf = ctypes.create_string_buffer(n.value)
        lib.tl_optim_state_save(buf, n.value, self._live())
        return buf.raw

    def load_state_dict(self, state):
        data = bytes(state)
        buf = ctypes.create_string_buffer(data, len(data))
        lib.tl_optim_state_load(self._live(), buf, len(data))

