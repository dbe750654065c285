"""Multi-task, self-labelling and multi-source helpers (include/tl/transfer.h).

    s = tl.TaskSampler([1000, 50, 300], mode="temperature", tau=2.0, seed=0)
    s.probs()                  # the probabilities of the next draw
    task = s.sample()          # an index, seeded and reproducible

    total, weights = tl.uncertainty_weighting(losses, log_vars, grad=g)
    w = tl.dwa_weights(loss_prev, loss_prev2, temperature=2.0)
    lgrad, targets = tl.gradnorm(task_weights, grad_norms, losses, initial_losses,
                                 alpha=1.5, grad=task_weight_grad)
    tl.gradnorm_rescale(task_weights)
    penalty = tl.soft_share_l2(model_a, ["fc.weight"], model_b, ["fc.weight"], 1e-3)
    penalty = tl.soft_share_trace([model_a, model_b, model_c], ["fc.weight"], 1e-3)
    loss, dlogits = tl.distill_loss(student, [teacher1, teacher2], weights=[.3, .7],
                                    temperature=2.0)
    selected, labels = tl.pseudo_label_select(probs, threshold=0.75)
    tri = tl.TriTraining(disagreement=False, seed=0)
    join, labels, updated = tri.round(pred_labelled, labels, pred_unlabelled)
    w = tl.source_weights(divergences, mode="softmax", temperature=0.1)
    probs = tl.ensemble_average([probs_a, probs_b], weights=w)
    centroids = tl.class_centroids(source_repr, source_labels, n_classes)
    score, nearest = tl.mcd_confidence(target_repr, centroids)
    join, labels = tl.co_training_select(probs_a, probs_b, per_class=[3, 1])
    dem = tl.DemocraticCoLearning(n_models=3, n_labelled=len(y), n_unlabelled=n_u)
    join, labels, updated = dem.round(pred_labelled, y, pred_unlabelled)
"""
import ctypes

import numpy as np

from . import _check
from . import _versions as _v
from ._errors import InvalidArgumentError, ShapeError
from ._native import OwnedHandle, c_size_p, lib, register, status

__all__ = ["TaskSampler", "uncertainty_weighting", "dwa_weights", "soft_share_l2",
           "distill_loss", "pseudo_label_select", "TriTraining", "source_weights",
           "ensemble_average", "class_centroids", "mcd_confidence", "co_training_select",
           "DemocraticCoLearning", "soft_share_trace", "gradnorm", "gradnorm_rescale"]

_p = ctypes.c_void_p
_f32_p = ctypes.POINTER(ctypes.c_float)
_f64_p = ctypes.POINTER(ctypes.c_double)
_i64_p = ctypes.POINTER(ctypes.c_int64)
_u8_p = ctypes.POINTER(ctypes.c_uint8)
_u64_p = ctypes.POINTER(ctypes.c_uint64)

_MODES = {"uniform": 0, "proportional": 1, "inverse": 2, "temperature": 3, "annealed": 4}
_PSEUDO = {"threshold": 0, "k_best": 1, "k_per_class": 2}
_SOURCE = {"softmax": 0, "inverse": 1, "linear": 2}


class _SamplerOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("mode", ctypes.c_int),
                ("tau", ctypes.c_double), ("tau_end", ctypes.c_double),
                ("anneal_steps", ctypes.c_uint64), ("seed", ctypes.c_uint64)]


register([
    ("tl_task_sampler_options_init", [ctypes.POINTER(_SamplerOptions), ctypes.c_uint],
     status),
    ("tl_task_sampler_create", [ctypes.POINTER(_p), _u64_p, ctypes.c_size_t,
                                ctypes.POINTER(_SamplerOptions)], status),
    ("tl_task_sampler_free", [_p], None),
    ("tl_task_sampler_probs", [_f64_p, ctypes.c_size_t, _p], status),
    ("tl_task_sampler_sample", [c_size_p, _p], status),
    ("tl_task_sampler_num_draws", [_u64_p, _p], status),
    ("tl_uncertainty_weighting", [_f64_p, _f64_p, _f32_p, _f64_p, _f32_p, ctypes.c_size_t],
     status),
    ("tl_dwa_weights", [_f64_p, _f64_p, _f64_p, ctypes.c_size_t, ctypes.c_double], status),
    ("tl_gradnorm", [_f64_p, _f64_p, _f32_p, _f32_p, _f64_p, _f64_p, _f64_p, ctypes.c_size_t,
                     ctypes.c_double], status),
    ("tl_gradnorm_rescale", [_f32_p, ctypes.c_size_t], status),
    ("tl_soft_share_l2", [_f64_p, _p, ctypes.POINTER(ctypes.c_char_p), _p,
                          ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.c_double],
     status),
    ("tl_distill_loss", [_f64_p, _f32_p, _f32_p, ctypes.POINTER(_f32_p), _f64_p,
                         ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_double],
     status),
    ("tl_pseudo_label_select", [_u8_p, _i64_p, c_size_p, _f64_p, ctypes.c_size_t,
                                ctypes.c_size_t, ctypes.c_int, ctypes.c_double,
                                ctypes.c_size_t], status),
    ("tl_tri_training_create", [ctypes.POINTER(_p), ctypes.c_int, ctypes.c_uint64], status),
    ("tl_tri_training_free", [_p], None),
    ("tl_tri_training_round", [_u8_p, _i64_p, _u8_p, ctypes.POINTER(ctypes.c_int), _p,
                               ctypes.POINTER(_i64_p), _i64_p, ctypes.c_size_t,
                               ctypes.POINTER(_i64_p), ctypes.c_size_t], status),
    ("tl_source_weights", [_f64_p, _f64_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_double],
     status),
    ("tl_ensemble_average", [_f64_p, ctypes.POINTER(_f64_p), _f64_p, ctypes.c_size_t,
                             ctypes.c_size_t, ctypes.c_size_t], status),
    ("tl_class_centroids", [_f64_p, _f32_p, _i64_p, ctypes.c_size_t, ctypes.c_size_t,
                            ctypes.c_size_t], status),
    ("tl_mcd_confidence", [_f64_p, _i64_p, _f32_p, ctypes.c_size_t, ctypes.c_size_t,
                           _f64_p, ctypes.c_size_t], status),
    ("tl_soft_share_trace", [_f64_p, ctypes.POINTER(_p), ctypes.POINTER(ctypes.c_char_p),
                             ctypes.c_size_t, ctypes.c_size_t, ctypes.c_double], status),
    ("tl_co_training_select", [_u8_p, _i64_p, _f64_p, _f64_p, ctypes.c_size_t,
                               ctypes.c_size_t, c_size_p], status),
    ("tl_democratic_create", [ctypes.POINTER(_p), ctypes.c_size_t, ctypes.c_size_t,
                              ctypes.c_size_t], status),
    ("tl_democratic_free", [_p], None),
    ("tl_democratic_round", [_u8_p, _i64_p, _u8_p, ctypes.POINTER(ctypes.c_int), _p,
                             ctypes.POINTER(_i64_p), _i64_p, ctypes.POINTER(_i64_p)],
     status),
])


def _f64(x, name, ndim):
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != ndim:
        raise ShapeError("%s must have %d dimension(s) (got shape %s)" % (name, ndim, a.shape))
    return a


def _f32(x, name, ndim):
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != ndim:
        raise ShapeError("%s must have %d dimension(s) (got shape %s)" % (name, ndim, a.shape))
    return a


def _mode(value, table, argname):
    if value not in table:
        raise InvalidArgumentError("%s must be one of %s (got %r)"
                                   % (argname, ", ".join(sorted(table)), value))
    return table[value]


class TaskSampler(OwnedHandle):
    """Which task's batch comes next: mode "uniform", "proportional" (to the
    sizes), "inverse", "temperature" (p_i ~ n_i^(1/tau)) or "annealed"
    (the exponent moves from 1/tau to 1/tau_end over anneal_steps draws)."""
    _free = "tl_task_sampler_free"
    _what = "task sampler"

    def __init__(self, sizes, mode="proportional", tau=1.0, tau_end=5.0,
                 anneal_steps=1000, seed=0):
        a = np.ascontiguousarray(_check.int_array(sizes, "sizes", np.uint64).ravel())
        opts = _SamplerOptions()
        lib.tl_task_sampler_options_init(ctypes.byref(opts), _v.TASK_SAMPLER_OPTIONS_VERSION)
        opts.mode = _mode(mode, _MODES, "mode")
        opts.tau, opts.tau_end = float(tau), float(tau_end)
        opts.anneal_steps = _check.uint64(anneal_steps, "anneal_steps")
        opts.seed = _check.uint64(seed, "seed")
        handle = _p()
        lib.tl_task_sampler_create(ctypes.byref(handle), a.ctypes.data_as(_u64_p), a.size,
                                   ctypes.byref(opts))
        self._handle = handle
        self.n_tasks = a.size

    def probs(self):
        out = np.empty(self.n_tasks, dtype=np.float64)
        lib.tl_task_sampler_probs(out.ctypes.data_as(_f64_p), self.n_tasks, self._live())
        return out

    def sample(self):
        t = ctypes.c_size_t()
        lib.tl_task_sampler_sample(ctypes.byref(t), self._live())
        return t.value

    @property
    def num_draws(self):
        n = ctypes.c_uint64()
        lib.tl_task_sampler_num_draws(ctypes.byref(n), self._live())
        return n.value


def uncertainty_weighting(losses, log_vars, grad=None):
    """Kendall et al. (2018): (total, weights) with total = sum exp(-s) L + s
    and weights exp(-s); if grad (a float32 array like log_vars, e.g. a
    parameter's gradient view) is given, d total / d s is added to it."""
    l = _f64(losses, "losses", 1)
    s = _f32(log_vars, "log_vars", 1)
    if s.size != l.size:
        raise ShapeError("log_vars has %d entries, losses %d" % (s.size, l.size))
    gp = None
    if grad is not None:
        if not (isinstance(grad, np.ndarray) and grad.dtype == np.float32
                and grad.flags.c_contiguous and grad.size == l.size):
            raise InvalidArgumentError("grad must be a C-contiguous float32 array of %d "
                                       "entries (it is written in place)" % l.size)
        gp = grad.ctypes.data_as(_f32_p)
    total = ctypes.c_double()
    w = np.empty(l.size, dtype=np.float64)
    lib.tl_uncertainty_weighting(ctypes.byref(total), w.ctypes.data_as(_f64_p), gp,
                                 l.ctypes.data_as(_f64_p), s.ctypes.data_as(_f32_p), l.size)
    return total.value, w


def dwa_weights(loss_prev=None, loss_prev2=None, temperature=2.0, n=None):
    """Dynamic weight averaging (Liu et al. 2019); without histories (the
    first two epochs) every weight is 1 (give n then)."""
    if loss_prev is None and loss_prev2 is None:
        count = _check.size(n, "n", minimum=1)
        out = np.empty(count, dtype=np.float64)
        lib.tl_dwa_weights(out.ctypes.data_as(_f64_p), None, None, count, float(temperature))
        return out
    if loss_prev is None or loss_prev2 is None:
        raise InvalidArgumentError("give both loss_prev and loss_prev2, or neither")
    a, b = _f64(loss_prev, "loss_prev", 1), _f64(loss_prev2, "loss_prev2", 1)
    if a.size != b.size:
        raise ShapeError("loss_prev has %d entries, loss_prev2 %d" % (a.size, b.size))
    out = np.empty(a.size, dtype=np.float64)
    lib.tl_dwa_weights(out.ctypes.data_as(_f64_p), a.ctypes.data_as(_f64_p),
                       b.ctypes.data_as(_f64_p), a.size, float(temperature))
    return out


def _f32_inout(a, name, size):
    if not (isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous
            and a.flags.writeable and a.size == size):
        raise InvalidArgumentError("%s must be a writable C-contiguous float32 array of %d "
                                   "entries (it is written in place)" % (name, size))
    return a.ctypes.data_as(_f32_p)


def gradnorm(weights, grad_norms, losses, initial_losses, alpha=1.5, grad=None):
    """GradNorm (Chen et al. 2018): (L_grad, targets) for task weights w,
    the norms ||d L_i / d W|| of the unweighted task losses' gradients at the
    shared parameters W, the current and the first losses. If grad (a
    float32 array like weights, e.g. the weights' gradient view) is given,
    d L_grad / d w is added to it."""
    w = _f32(weights, "weights", 1)
    g = _f64(grad_norms, "grad_norms", 1)
    l = _f64(losses, "losses", 1)
    l0 = _f64(initial_losses, "initial_losses", 1)
    if not g.size == l.size == l0.size == w.size:
        raise ShapeError("weights, grad_norms, losses and initial_losses need one entry "
                         "per task (got %d, %d, %d, %d)" % (w.size, g.size, l.size, l0.size))
    gp = None if grad is None else _f32_inout(grad, "grad", w.size)
    out = ctypes.c_double()
    targets = np.empty(w.size, dtype=np.float64)
    lib.tl_gradnorm(ctypes.byref(out), targets.ctypes.data_as(_f64_p), gp,
                    w.ctypes.data_as(_f32_p), g.ctypes.data_as(_f64_p),
                    l.ctypes.data_as(_f64_p), l0.ctypes.data_as(_f64_p), w.size, float(alpha))
    return out.value, targets


def gradnorm_rescale(weights):
    """Rescales a float32 array of task weights in place to sum to the
    number of tasks (GradNorm's step after each update)."""
    size = weights.size if isinstance(weights, np.ndarray) else 0
    lib.tl_gradnorm_rescale(_f32_inout(weights, "weights", size), size)


def _names(names, argname):
    if isinstance(names, (str, bytes)):
        names = [names]
    encoded = [_check.c_string(n, argname) for n in names]
    return (ctypes.c_char_p * len(encoded))(*encoded), len(encoded)


def soft_share_l2(model_a, names_a, model_b, names_b, lam):
    """lam * sum ||a - b||^2 over matching parameters; its gradient is added
    to both models' gradients. Returns the penalty."""
    na, ka = _names(names_a, "names_a")
    nb, kb = _names(names_b, "names_b")
    if ka != kb:
        raise ShapeError("names_a has %d names, names_b %d" % (ka, kb))
    out = ctypes.c_double()
    lib.tl_soft_share_l2(ctypes.byref(out), model_a._live(), na, model_b._live(), nb, ka,
                         float(lam))
    return out.value


def soft_share_trace(models, names, lam):
    """lam * sum over parameter slots of the nuclear norm of the models'
    stacked parameters (Yang & Hospedales 2017); its gradient is added to
    every model's gradients. names: one list of names for all models, or
    one list per model (slot k of each list names model m's parameter).
    Returns the penalty."""
    models = list(models)
    if not names or isinstance(names, (str, bytes)) or isinstance(names[0], (str, bytes)):
        per_model = [names] * len(models)
    else:
        per_model = list(names)
    if len(per_model) != len(models):
        raise ShapeError("names has %d lists for %d models" % (len(per_model), len(models)))
    lists = [_names(n, "names[%d]" % i) for i, n in enumerate(per_model)]
    counts = {k for _, k in lists}
    if len(counts) > 1:
        raise ShapeError("every model needs the same number of names (got %s)"
                         % sorted(counts))
    n_params = lists[0][1] if lists else 0
    flat = [name for arr_, k in lists for name in arr_[:k]]
    c_names = (ctypes.c_char_p * len(flat))(*flat)
    handles = (_p * len(models))(*[m._live() for m in models])
    out = ctypes.c_double()
    lib.tl_soft_share_trace(ctypes.byref(out), handles, c_names, len(models), n_params,
                            float(lam))
    return out.value


def distill_loss(student_logits, teacher_logits, weights=None, temperature=1.0):
    """Distillation from several teachers: (loss, d loss / d student_logits)
    for student logits (n, c) and a list of teacher logits of that shape."""
    s = _f32(student_logits, "student_logits", 2)
    teachers = [_f32(t, "teacher_logits[%d]" % i, 2) for i, t in enumerate(teacher_logits)]
    if not teachers:
        raise InvalidArgumentError("teacher_logits is empty")
    for i, t in enumerate(teachers):
        if t.shape != s.shape:
            raise ShapeError("teacher_logits[%d] has shape %s, the student %s"
                             % (i, t.shape, s.shape))
    ptrs = (_f32_p * len(teachers))(*[t.ctypes.data_as(_f32_p) for t in teachers])
    w = None if weights is None else _f64(weights, "weights", 1)
    if w is not None and w.size != len(teachers):
        raise ShapeError("weights has %d entries for %d teachers" % (w.size, len(teachers)))
    loss = ctypes.c_double()
    grad = np.empty_like(s)
    lib.tl_distill_loss(ctypes.byref(loss), grad.ctypes.data_as(_f32_p),
                        s.ctypes.data_as(_f32_p), ptrs,
                        None if w is None else w.ctypes.data_as(_f64_p), len(teachers),
                        s.shape[0], s.shape[1], float(temperature))
    return loss.value, grad


def pseudo_label_select(probs, threshold=0.75, k=None, per_class=False):
    """Self-training's choice of pseudo-labelled rows from probabilities
    (n, c): rows with max > threshold, or (k given) the k most confident
    rows, or (k and per_class) the k most confident of each class.
    Returns (selected bool array, argmax labels)."""
    p = _f64(probs, "probs", 2)
    if k is None:
        mode, kk, thr = 0, 0, float(threshold)
    else:
        mode, kk, thr = (2 if per_class else 1), _check.size(k, "k", minimum=1), 0.0
    sel = np.empty(p.shape[0], dtype=np.uint8)
    lab = np.empty(p.shape[0], dtype=np.int64)
    lib.tl_pseudo_label_select(sel.ctypes.data_as(_u8_p), lab.ctypes.data_as(_i64_p), None,
                               p.ctypes.data_as(_f64_p), p.shape[0], p.shape[1], mode, thr,
                               kk)
    return sel.astype(bool), lab


class TriTraining(OwnedHandle):
    """Tri-training (Zhou & Li 2005), or with disagreement (Søgaard 2010):
    round() takes the three models' predictions on the labelled and the
    unlabelled data and returns (join (3, n_unlabelled) bool, labels
    (3, n_unlabelled) with -1 where not joined, updated (3,) bool)."""
    _free = "tl_tri_training_free"
    _what = "tri-training state"

    def __init__(self, disagreement=False, seed=0):
        handle = _p()
        lib.tl_tri_training_create(ctypes.byref(handle), 1 if disagreement else 0,
                                   _check.uint64(seed, "seed"))
        self._handle = handle

    def round(self, pred_labelled, labels, pred_unlabelled):
        pl = [_check.int_array(p, "pred_labelled[%d]" % i).ravel()
              for i, p in enumerate(pred_labelled)]
        pu = [_check.int_array(p, "pred_unlabelled[%d]" % i).ravel()
              for i, p in enumerate(pred_unlabelled)]
        y = _check.int_array(labels, "labels").ravel()
        if len(pl) != 3 or len(pu) != 3:
            raise ShapeError("tri-training takes the predictions of exactly 3 models")
        if any(p.size != y.size for p in pl) or len({p.size for p in pu}) != 1:
            raise ShapeError("each model needs one prediction per row (labelled %d)" % y.size)
        n_u = pu[0].size
        join = np.empty((3, n_u), dtype=np.uint8)
        lab = np.empty((3, n_u), dtype=np.int64)
        upd = np.empty(3, dtype=np.uint8)
        lp = (_i64_p * 3)(*[p.ctypes.data_as(_i64_p) for p in pl])
        up = (_i64_p * 3)(*[p.ctypes.data_as(_i64_p) for p in pu])
        lib.tl_tri_training_round(join.ctypes.data_as(_u8_p), lab.ctypes.data_as(_i64_p),
                                  upd.ctypes.data_as(_u8_p), None, self._live(), lp,
                                  y.ctypes.data_as(_i64_p), y.size, up, n_u)
        return join.astype(bool), lab, upd.astype(bool)


def source_weights(divergences, mode="softmax", temperature=1.0, bound=None):
    """Weights summing to 1 for source models from their divergences to the
    target (smaller: more similar): mode "softmax" exp(-d / temperature),
    "inverse" 1 / d, or "linear" bound - d (bound >= every d, e.g.
    math.log(2) for the JS divergence), each normalised."""
    d = _f64(divergences, "divergences", 1)
    m = _mode(mode, _SOURCE, "mode")
    if m == 2:
        if bound is None:
            raise InvalidArgumentError("mode 'linear' needs bound (>= every divergence)")
        param = float(bound)
    else:
        param = float(temperature)
    out = np.empty(d.size, dtype=np.float64)
    lib.tl_source_weights(out.ctypes.data_as(_f64_p), d.ctypes.data_as(_f64_p), d.size, m,
                          param)
    return out


def ensemble_average(probs, weights=None):
    """The weighted mean of several models' class probabilities, each (n, c)
    with rows summing to 1; weights (one per model, normalised; None:
    equal)."""
    arrays = [_f64(p, "probs[%d]" % i, 2) for i, p in enumerate(probs)]
    if not arrays:
        raise InvalidArgumentError("probs is empty")
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise ShapeError("probs[%d] has shape %s, probs[0] %s"
                             % (i, a.shape, arrays[0].shape))
    w = None if weights is None else _f64(weights, "weights", 1)
    if w is not None and w.size != len(arrays):
        raise ShapeError("weights has %d entries for %d models" % (w.size, len(arrays)))
    n, c = arrays[0].shape
    ptrs = (_f64_p * len(arrays))(*[a.ctypes.data_as(_f64_p) for a in arrays])
    out = np.empty((n, c), dtype=np.float64)
    lib.tl_ensemble_average(out.ctypes.data_as(_f64_p), ptrs,
                            None if w is None else w.ctypes.data_as(_f64_p), len(arrays),
                            n, c)
    return out


def class_centroids(x, labels, n_classes):
    """The mean representation of each class: (n_classes, d) float64 from
    x (n, d) and labels (n,) in [0, n_classes)."""
    a = _f32(x, "x", 2)
    y = _check.int_array(labels, "labels").ravel()
    if y.size != a.shape[0]:
        raise ShapeError("labels has %d entries for %d rows of x" % (y.size, a.shape[0]))
    c = _check.size(n_classes, "n_classes", minimum=1)
    out = np.empty((c, a.shape[1]), dtype=np.float64)
    lib.tl_class_centroids(out.ctypes.data_as(_f64_p), a.ctypes.data_as(_f32_p),
                           y.ctypes.data_as(_i64_p), a.shape[0], a.shape[1], c)
    return out


def mcd_confidence(h, centroids):
    """Maximum cluster difference (Ruder et al. 2017) of representations
    h (n, d) against class centroids (c, d), c >= 2: (score, nearest) with
    score = the largest minus the second largest cosine to a centroid
    (|cos(h, c_pos) - cos(h, c_neg)| for two classes) and nearest its
    class."""
    a = _f32(h, "h", 2)
    cen = _f64(centroids, "centroids", 2)
    if cen.shape[1] != a.shape[1]:
        raise ShapeError("centroids have %d columns, h %d" % (cen.shape[1], a.shape[1]))
    score = np.empty(a.shape[0], dtype=np.float64)
    nearest = np.empty(a.shape[0], dtype=np.int64)
    lib.tl_mcd_confidence(score.ctypes.data_as(_f64_p), nearest.ctypes.data_as(_i64_p),
                          a.ctypes.data_as(_f32_p), a.shape[0], a.shape[1],
                          cen.ctypes.data_as(_f64_p), cen.shape[0])
    return score, nearest


def co_training_select(probs_a, probs_b, per_class):
    """One co-training round (Blum & Mitchell 1998) from two models' class
    probabilities (n, c) on the same unlabelled pool: each model labels its
    per_class[k] most confident rows of each class k for the other. Returns
    (join (2, n) bool: row 0 = rows joining model A's set (chosen by B),
    row 1 = joining B's; labels (2, n), -1 where not joined)."""
    a = _f64(probs_a, "probs_a", 2)
    b = _f64(probs_b, "probs_b", 2)
    if a.shape != b.shape:
        raise ShapeError("probs_a has shape %s, probs_b %s" % (a.shape, b.shape))
    k = np.ascontiguousarray(_check.int_array(per_class, "per_class", np.uint64).ravel(),
                             dtype=np.uintp)
    n, c = a.shape
    if k.size != c:
        raise ShapeError("per_class has %d entries for %d classes" % (k.size, c))
    join = np.empty((2, n), dtype=np.uint8)
    lab = np.empty((2, n), dtype=np.int64)
    lib.tl_co_training_select(join.ctypes.data_as(_u8_p), lab.ctypes.data_as(_i64_p),
                              a.ctypes.data_as(_f64_p), b.ctypes.data_as(_f64_p), n, c,
                              k.ctypes.data_as(c_size_p))
    return join.astype(bool), lab


class DemocraticCoLearning(OwnedHandle):
    """Democratic co-learning (Zhou & Goldman 2004) for n_models >= 3
    models trained on the same labelled set (n_labelled rows) and a fixed
    unlabelled pool (n_unlabelled rows). round() takes each model's
    predicted labels on both and returns (join (n_models, n_unlabelled)
    bool: the rows joining each model's set this round, labels (-1 where
    not joined), updated (n_models,) bool)."""
    _free = "tl_democratic_free"
    _what = "democratic co-learning state"

    def __init__(self, n_models, n_labelled, n_unlabelled):
        handle = _p()
        self.n_models = _check.size(n_models, "n_models")
        self.n_labelled = _check.size(n_labelled, "n_labelled")
        self.n_unlabelled = _check.size(n_unlabelled, "n_unlabelled")
        lib.tl_democratic_create(ctypes.byref(handle), self.n_models, self.n_labelled,
                                 self.n_unlabelled)
        self._handle = handle

    def round(self, pred_labelled, labels, pred_unlabelled):
        pl = [_check.int_array(p, "pred_labelled[%d]" % i).ravel()
              for i, p in enumerate(pred_labelled)]
        pu = [_check.int_array(p, "pred_unlabelled[%d]" % i).ravel()
              for i, p in enumerate(pred_unlabelled)]
        y = _check.int_array(labels, "labels").ravel()
        if len(pl) != self.n_models or len(pu) != self.n_models:
            raise ShapeError("this state has %d models, got predictions of %d and %d"
                             % (self.n_models, len(pl), len(pu)))
        if y.size != self.n_labelled or any(p.size != self.n_labelled for p in pl):
            raise ShapeError("labels and pred_labelled need %d rows each" % self.n_labelled)
        if any(p.size != self.n_unlabelled for p in pu):
            raise ShapeError("pred_unlabelled needs %d rows per model" % self.n_unlabelled)
        join = np.empty((self.n_models, self.n_unlabelled), dtype=np.uint8)
        lab = np.empty((self.n_models, self.n_unlabelled), dtype=np.int64)
        upd = np.empty(self.n_models, dtype=np.uint8)
        lp = (_i64_p * self.n_models)(*[p.ctypes.data_as(_i64_p) for p in pl])
        up = (_i64_p * self.n_models)(*[p.ctypes.data_as(_i64_p) for p in pu])
        lib.tl_democratic_round(join.ctypes.data_as(_u8_p), lab.ctypes.data_as(_i64_p),
                                upd.ctypes.data_as(_u8_p), None, self._live(), lp,
                                y.ctypes.data_as(_i64_p), up)
        return join.astype(bool), lab, upd.astype(bool)
