"""Divergences, distances, Wasserstein, sliced Wasserstein, Sinkhorn and MMD
(include/tl/metrics.h, part 1).

Every function takes numpy arrays (anything np.asarray accepts), converts
them to C-contiguous float64 and returns a Python float (sinkhorn: a dict).
Invalid input raises tl.InvalidArgumentError, NaN/Inf tl.NumericError (also
a result beyond the largest double), mismatched shapes tl.ShapeError, each a
ValueError with libtl's message.
`base` is None for the natural log, otherwise finite, > 0 and != 1 (0 is
refused: in the C API it means natural log, in Python that is None).
"""
import ctypes

import numpy as np

from .. import _check, _native
from .._errors import InvalidArgumentError, ShapeError
from .._native import c_double_p, c_size_p, status
from .. import _versions as _v

__all__ = ["kl_divergence", "entropy", "js_divergence", "js_distance",
           "renyi", "bhattacharyya", "hellinger", "total_variation", "cosine",
           "cosine_similarity", "euclidean", "wasserstein_1d",
           "wasserstein_1d_hist", "sliced_wasserstein", "sliced_directions",
           "sinkhorn", "mmd2"]

_size = ctypes.c_size_t
_double = ctypes.c_double


class _SlicedOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("n_projections", ctypes.c_size_t),
                ("p", ctypes.c_double), ("seed", ctypes.c_uint64)]


class _SinkhornOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("max_iter", ctypes.c_size_t),
                ("tol", ctypes.c_double)]


class _MmdOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("sigma", ctypes.c_double),
                ("unbiased", ctypes.c_int)]


_pair = [c_double_p, c_double_p, c_double_p, _size]
_native.register([
    ("tl_kl_divergence", _pair + [_double], status),
    ("tl_entropy", [c_double_p, c_double_p, _size, _double], status),
    ("tl_js_divergence", _pair + [_double], status),
    ("tl_js_distance", _pair + [_double], status),
    ("tl_renyi_divergence", _pair + [_double, _double], status),
    ("tl_bhattacharyya", _pair, status),
    ("tl_hellinger", _pair, status),
    ("tl_total_variation", _pair, status),
    ("tl_cosine_similarity", _pair, status),
    ("tl_cosine_distance", _pair, status),
    ("tl_euclidean", _pair, status),
    ("tl_wasserstein_1d", [c_double_p, c_double_p, _size, c_double_p,
                           c_double_p, _size, c_double_p, _double], status),
    ("tl_wasserstein_1d_hist", [c_double_p, c_double_p, c_double_p,
                                c_double_p, _size, _double], status),
    ("tl_sliced_options_init", [ctypes.POINTER(_SlicedOptions),
                                ctypes.c_uint], status),
    ("tl_sliced_wasserstein", [c_double_p, c_double_p, _size, c_double_p,
                               c_double_p, _size, c_double_p, _size,
                               ctypes.POINTER(_SlicedOptions)], status),
    ("tl_sliced_wasserstein_projected", [
        c_double_p, c_double_p, _size, c_double_p, c_double_p, _size,
        c_double_p, _size, c_double_p, _size, _double], status),
    ("tl_sliced_directions", [c_double_p, _size, _size, ctypes.c_uint64],
     status),
    ("tl_sinkhorn_options_init", [ctypes.POINTER(_SinkhornOptions),
                                  ctypes.c_uint], status),
    ("tl_sinkhorn", [c_double_p, c_double_p, c_size_p,
                     ctypes.POINTER(ctypes.c_int), c_double_p, _size,
                     c_double_p, _size, c_double_p, _double,
                     ctypes.POINTER(_SinkhornOptions)], status),
    ("tl_mmd_options_init", [ctypes.POINTER(_MmdOptions), ctypes.c_uint],
     status),
    ("tl_mmd2", [c_double_p, c_double_p, c_double_p, _size, c_double_p,
                 _size, _size, ctypes.POINTER(_MmdOptions)], status),
])
_lib = _native.lib


def _vec(x, name):
    """A 1-D C-contiguous float64 copy-or-view of x (None stays None)."""
    if x is None:
        return None
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ShapeError("%s must be 1-D (got shape %s)" % (name, a.shape))
    return a


def _mat(x, name):
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ShapeError("%s must be 2-D (got shape %s)" % (name, a.shape))
    return a


def _ptr(a):
    return None if a is None else a.ctypes.data_as(c_double_p)


def _same_length(p, q, pn="p", qn="q"):
    if p.shape[0] != q.shape[0]:
        raise ShapeError("%s and %s must have the same length (got %d and %d)"
                         % (pn, qn, p.shape[0], q.shape[0]))


def _base(base, fn):
    """The C base argument: None is the natural log (libtl's 0). Any other
    base must be finite, > 0 and != 1; 0 is refused here rather than passed
    on, where libtl would read it as the natural log."""
    if base is None:
        return 0.0
    b = float(base)
    if not (np.isfinite(b) and b > 0.0 and b != 1.0):
        raise InvalidArgumentError(
            "%s: base must be None (natural log) or finite, > 0 and != 1 "
            "(got %r)" % (fn, base), function=fn)
    return b


def _binary(fn, p, q, *extra, names=("p", "q")):
    p, q = _vec(p, names[0]), _vec(q, names[1])
    _same_length(p, q, *names)
    out = _double()
    fn(ctypes.byref(out), _ptr(p), _ptr(q), p.shape[0], *extra)
    return out.value


def kl_divergence(p, q, base=None):
    """KL(p || q) of the normalised inputs (= scipy.stats.entropy(p, q)).
    inf where q = 0 < p. base None: nats; otherwise finite, > 0 and != 1."""
    return _binary(_lib.tl_kl_divergence, p, q, _base(base, "kl_divergence"))


def entropy(p, q=None, base=None):
    """Shannon entropy of p, or KL(p || q) when q is given, as
    scipy.stats.entropy."""
    if q is not None:
        return kl_divergence(p, q, base)
    p = _vec(p, "p")
    out = _double()
    _lib.tl_entropy(ctypes.byref(out), _ptr(p), p.shape[0],
                    _base(base, "entropy"))
    return out.value


def js_divergence(p, q, base=None):
    """Jensen-Shannon divergence, in [0, log_base 2]."""
    return _binary(_lib.tl_js_divergence, p, q,
                   _base(base, "js_divergence"))


def js_distance(p, q, base=None):
    """sqrt(JS divergence) = scipy.spatial.distance.jensenshannon."""
    return _binary(_lib.tl_js_distance, p, q, _base(base, "js_distance"))


def renyi(p, q, alpha=0.99, base=None):
    """Renyi divergence of order alpha > 0 (alpha = 1 gives KL)."""
    return _binary(_lib.tl_renyi_divergence, p, q, float(alpha),
                   _base(base, "renyi"))


def bhattacharyya(p, q):
    """-log sum sqrt(p q) of the normalised inputs; inf when disjoint."""
    return _binary(_lib.tl_bhattacharyya, p, q)


def hellinger(p, q):
    """Hellinger distance of the normalised inputs, in [0, 1]."""
    return _binary(_lib.tl_hellinger, p, q)


def total_variation(p, q):
    """Total variation distance sum |p - q| / 2 of the normalised inputs."""
    return _binary(_lib.tl_total_variation, p, q)


def cosine(u, v):
    """Cosine distance 1 - u.v / (|u| |v|) (= scipy.spatial.distance.cosine);
    a zero vector raises ValueError."""
    return _binary(_lib.tl_cosine_distance, u, v, names=("u", "v"))


def cosine_similarity(u, v):
    """u.v / (|u| |v|), in [-1, 1]; a zero vector raises ValueError."""
    return _binary(_lib.tl_cosine_similarity, u, v, names=("u", "v"))


def euclidean(u, v):
    """|u - v|_2."""
    return _binary(_lib.tl_euclidean, u, v, names=("u", "v"))


def wasserstein_1d(u, v, u_weights=None, v_weights=None, p=1):
    """W_p between 1-D empirical distributions (weights normalised). p = 1 is
    scipy.stats.wasserstein_distance."""
    u, v = _vec(u, "u"), _vec(v, "v")
    uw, vw = _vec(u_weights, "u_weights"), _vec(v_weights, "v_weights")
    if uw is not None:
        _same_length(u, uw, "u", "u_weights")
    if vw is not None:
        _same_length(v, vw, "v", "v_weights")
    out = _double()
    _lib.tl_wasserstein_1d(ctypes.byref(out), _ptr(u), u.shape[0], _ptr(uw),
                           _ptr(v), v.shape[0], _ptr(vw), float(p))
    return out.value


def wasserstein_1d_hist(x, a, b, p=1):
    """W_p between histograms a and b on the sorted support x, in O(n)."""
    x, a, b = _vec(x, "x"), _vec(a, "a"), _vec(b, "b")
    _same_length(x, a, "x", "a")
    _same_length(x, b, "x", "b")
    out = _double()
    _lib.tl_wasserstein_1d_hist(ctypes.byref(out), _ptr(x), _ptr(a), _ptr(b),
                                x.shape[0], float(p))
    return out.value


def _clouds(X, Y, x_weights, y_weights):
    X, Y = _mat(X, "X"), _mat(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ShapeError("X and Y must have the same number of columns "
                         "(got %d and %d)" % (X.shape[1], Y.shape[1]))
    xw, yw = _vec(x_weights, "x_weights"), _vec(y_weights, "y_weights")
    if xw is not None and xw.shape[0] != X.shape[0]:
        raise ShapeError("x_weights needs one weight per row of X")
    if yw is not None and yw.shape[0] != Y.shape[0]:
        raise ShapeError("y_weights needs one weight per row of Y")
    return X, Y, xw, yw


def sliced_wasserstein(X, Y, n_projections=50, p=2, seed=0, projections=None,
                       x_weights=None, y_weights=None):
    """Sliced W_p between point clouds X (n x d) and Y (m x d). projections,
    if given, is (k x d), one direction per row, used as given (POT takes
    its transpose); otherwise n_projections directions come from seed."""
    X, Y, xw, yw = _clouds(X, Y, x_weights, y_weights)
    out = _double()
    if projections is not None:
        P = _mat(projections, "projections")
        if P.shape[1] != X.shape[1]:
            raise ShapeError("projections must be (k x %d) (got %s)"
                             % (X.shape[1], P.shape))
        _lib.tl_sliced_wasserstein_projected(
            ctypes.byref(out), _ptr(X), X.shape[0], _ptr(xw), _ptr(Y),
            Y.shape[0], _ptr(yw), X.shape[1], _ptr(P), P.shape[0], float(p))
        return out.value
    opts = _SlicedOptions()
    _lib.tl_sliced_options_init(ctypes.byref(opts), _v.SLICED_OPTIONS_VERSION)
    opts.n_projections = _check.size(n_projections, "n_projections",
                                     "sliced_wasserstein")
    opts.p = float(p)
    opts.seed = _check.uint64(seed, "seed", "sliced_wasserstein")
    _lib.tl_sliced_wasserstein(ctypes.byref(out), _ptr(X), X.shape[0],
                               _ptr(xw), _ptr(Y), Y.shape[0], _ptr(yw),
                               X.shape[1], ctypes.byref(opts))
    return out.value


def sliced_directions(k, d, seed=0):
    """The (k x d) unit directions sliced_wasserstein draws for seed."""
    k = _check.size(k, "k", "sliced_directions")
    d = _check.size(d, "d", "sliced_directions")
    out = np.empty((k, d), dtype=np.float64)
    _lib.tl_sliced_directions(_ptr(out), k, d,
                              _check.uint64(seed, "seed", "sliced_directions"))
    return out


def sinkhorn(a, b, M, reg, max_iter=1000, tol=1e-9, return_plan=False):
    """Entropic OT cost <gamma, M> (= POT ot.sinkhorn2(a, b, M, reg)), with a
    log-stabilised solver. a or b None: uniform. Returns the cost, or with
    return_plan=True a dict {cost, plan, iterations, converged}."""
    M = _mat(M, "M")
    n, m = M.shape
    a, b = _vec(a, "a"), _vec(b, "b")
    if a is not None and a.shape[0] != n:
        raise ShapeError("a must have M.shape[0] = %d entries (got %d)"
                         % (n, a.shape[0]))
    if b is not None and b.shape[0] != m:
        raise ShapeError("b must have M.shape[1] = %d entries (got %d)"
                         % (m, b.shape[0]))
    max_iter = _check.size(max_iter, "max_iter", "sinkhorn")
    opts = _SinkhornOptions()
    _lib.tl_sinkhorn_options_init(ctypes.byref(opts),
                                  _v.SINKHORN_OPTIONS_VERSION)
    opts.max_iter = max_iter
    opts.tol = float(tol)
    cost, iters, conv = _double(), _size(), ctypes.c_int()
    plan = np.empty((n, m), dtype=np.float64) if return_plan else None
    _lib.tl_sinkhorn(ctypes.byref(cost), _ptr(plan), ctypes.byref(iters),
                     ctypes.byref(conv), _ptr(a), n, _ptr(b), m, _ptr(M),
                     float(reg), ctypes.byref(opts))
    if not return_plan:
        return cost.value
    return {"cost": cost.value, "plan": plan, "iterations": iters.value,
            "converged": bool(conv.value)}


def mmd2(X, Y, sigma=None, unbiased=False, return_sigma=False):
    """Squared MMD with the Gaussian kernel exp(-|x-y|^2 / (2 sigma^2)).
    sigma None: median heuristic over the pooled pairs of [X; Y]."""
    X, Y, _, _ = _clouds(X, Y, None, None)
    opts = _MmdOptions()
    _lib.tl_mmd_options_init(ctypes.byref(opts), _v.MMD_OPTIONS_VERSION)
    opts.sigma = 0.0 if sigma is None else float(sigma)
    if sigma is not None and not opts.sigma > 0.0:
        raise ValueError("sigma must be > 0 or None (got %r)" % (sigma,))
    opts.unbiased = 1 if unbiased else 0
    out, used = _double(), _double()
    _lib.tl_mmd2(ctypes.byref(out), ctypes.byref(used), _ptr(X), X.shape[0],
                 _ptr(Y), Y.shape[0], X.shape[1], ctypes.byref(opts))
    return (out.value, used.value) if return_sigma else out.value
