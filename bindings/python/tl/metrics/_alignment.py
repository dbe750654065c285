"""Domain adaptation and alignment (include/tl/metrics.h, Part 2): proxy
A-distance, CORAL, Frechet distance, term distributions and Ruder & Plank
data selection, PCA, orthogonal Procrustes, CSLS retrieval.

numpy arrays in (converted to C-contiguous float64), Python floats or numpy
arrays out. Shapes the C API cannot see (two matrices with different widths)
raise tl.ShapeError here; everything else is checked by libtl and raises the
tl.Error subclass for its status with libtl's message.
"""
import ctypes

import numpy as np

from .. import _check
from .._errors import InvalidArgumentError, ShapeError
from .._native import c_double_p, c_int64_p, c_size_p, lib, register, status
from .. import _versions as _v

__all__ = ["FEATURE_NAMES", "proxy_a_distance", "coral_distance", "coral_align",
           "frechet_distance", "frechet_distance_gaussian", "term_distribution",
           "term_similarity", "selection_features", "select_top", "pca_fit",
           "pca_transform", "pca_select", "procrustes", "csls_retrieve",
           "precision_at_k"]

# Column order of selection_features (enum tl_selection_feature).
FEATURE_NAMES = ("jensen_shannon", "renyi", "cosine", "euclidean",
                 "variational", "bhattacharyya", "num_types",
                 "type_token_ratio", "entropy", "simpson", "renyi_entropy",
                 "quadratic_entropy")


class _ProxyAOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("train_fraction", ctypes.c_double),
                ("epochs", ctypes.c_size_t), ("lr", ctypes.c_double),
                ("l2", ctypes.c_double), ("seed", ctypes.c_uint64)]


class _SelectionOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("renyi_alpha", ctypes.c_double),
                ("smoothing", ctypes.c_double)]


class _PcaSelectOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("n_components", ctypes.c_size_t),
                ("criterion", ctypes.c_int), ("fit", ctypes.c_int)]


class _CslsOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("knn", ctypes.c_size_t),
                ("top", ctypes.c_size_t)]


_size = ctypes.c_size_t
_double = ctypes.c_double
register([
    ("tl_proxy_a_options_init", [ctypes.POINTER(_ProxyAOptions), ctypes.c_uint], status),
    ("tl_proxy_a_distance", [c_double_p, c_double_p, c_double_p, _size, c_double_p,
                             _size, _size, ctypes.POINTER(_ProxyAOptions)], status),
    ("tl_coral_distance", [c_double_p, c_double_p, _size, c_double_p, _size, _size], status),
    ("tl_coral_align", [c_double_p, c_double_p, _size, c_double_p, _size, _size,
                        _double], status),
    ("tl_frechet_distance", [c_double_p, c_double_p, _size, c_double_p, _size, _size],
     status),
    ("tl_frechet_distance_gaussian", [c_double_p, c_double_p, c_double_p, c_double_p,
                                      c_double_p, _size], status),
    ("tl_term_distribution", [c_double_p, c_int64_p, _size, _size, _double], status),
    ("tl_term_similarity", [c_double_p, c_double_p, c_double_p, _size, _double], status),
    ("tl_selection_options_init", [ctypes.POINTER(_SelectionOptions), ctypes.c_uint],
     status),
    ("tl_selection_features", [c_double_p, c_int64_p, c_size_p, _size, _size,
                               c_double_p, c_double_p, _size,
                               ctypes.POINTER(_SelectionOptions)], status),
    ("tl_select_top", [c_size_p, c_double_p, c_double_p, _size, _size, c_double_p,
                       _size], status),
    ("tl_pca_fit", [c_double_p, c_double_p, c_double_p, c_double_p, c_double_p,
                    _size, _size, _size], status),
    ("tl_pca_transform", [c_double_p, c_double_p, _size, _size, c_double_p,
                          c_double_p, _size], status),
    ("tl_pca_select_options_init", [ctypes.POINTER(_PcaSelectOptions), ctypes.c_uint],
     status),
    ("tl_pca_select", [c_size_p, c_double_p, c_double_p, _size, c_double_p, _size,
                       _size, _size, ctypes.POINTER(_PcaSelectOptions)], status),
    ("tl_procrustes", [c_double_p, c_double_p, c_double_p, _size, _size], status),
    ("tl_csls_options_init", [ctypes.POINTER(_CslsOptions), ctypes.c_uint], status),
    ("tl_csls_retrieve", [c_size_p, c_double_p, c_double_p, _size, c_double_p, _size,
                          _size, ctypes.POINTER(_CslsOptions)], status),
    ("tl_precision_at_k", [c_double_p, c_size_p, _size, _size, _size, c_size_p,
                           c_size_p, _size], status),
])

_CRITERIA = {"centroid": 0, "mean_distance": 1}
_FITS = {"target": 0, "both": 1}


def _dptr(a):
    return None if a is None else a.ctypes.data_as(c_double_p)


def _sptr(a):
    return a.ctypes.data_as(c_size_p)


def _matrix(x, name):
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ShapeError("%s must be a 2-D (n, d) array (got %d dimensions)"
                         % (name, a.ndim))
    return a


def _vector(x, name):
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ShapeError("%s must be a 1-D array (got %d dimensions)" % (name, a.ndim))
    return a


def _same_width(a, b, na, nb):
    if a.shape[1] != b.shape[1]:
        raise ShapeError("%s has %d columns but %s has %d" % (na, a.shape[1], nb,
                                                               b.shape[1]))


def _count(v, name):
    """A size_t count: an integer (not a float, not a bool) >= 0."""
    return _check.size(v, name)


def _indices(x, name, dtype):
    """Integers only, each in dtype's range (no wrapping, no truncation)."""
    return _check.int_array(x, name, dtype)


def proxy_a_distance(Xs, Xt, train_fraction=0.8, epochs=200, lr=0.5, l2=1e-3,
                     seed=0, return_error=False):
    """Proxy A-distance 2 (1 - 2 err) of a logistic-regression domain
    classifier (held-out error err); negative when err > 0.5. With
    return_error, returns (distance, err)."""
    xs, xt = _matrix(Xs, "Xs"), _matrix(Xt, "Xt")
    _same_width(xs, xt, "Xs", "Xt")
    o = _ProxyAOptions()
    lib.tl_proxy_a_options_init(ctypes.byref(o), _v.PROXY_A_OPTIONS_VERSION)
    o.train_fraction, o.epochs, o.lr, o.l2, o.seed = (
        float(train_fraction), _count(epochs, "epochs"), float(lr), float(l2),
        _count(seed, "seed"))
    dist, err = ctypes.c_double(), ctypes.c_double()
    lib.tl_proxy_a_distance(ctypes.byref(dist), ctypes.byref(err), _dptr(xs),
                            xs.shape[0], _dptr(xt), xt.shape[0], xs.shape[1],
                            ctypes.byref(o))
    return (dist.value, err.value) if return_error else dist.value


def coral_distance(Xs, Xt):
    """|cov(Xs) - cov(Xt)|_F^2 / (4 d^2) (Deep CORAL loss)."""
    xs, xt = _matrix(Xs, "Xs"), _matrix(Xt, "Xt")
    _same_width(xs, xt, "Xs", "Xt")
    out = ctypes.c_double()
    lib.tl_coral_distance(ctypes.byref(out), _dptr(xs), xs.shape[0], _dptr(xt),
                          xt.shape[0], xs.shape[1])
    return out.value


def coral_align(Xs, Xt, lam=1.0):
    """Xs Cs^(-1/2) Ct^(1/2) with C = cov + lam I (CORAL, Sun et al. 2016)."""
    xs, xt = _matrix(Xs, "Xs"), _matrix(Xt, "Xt")
    _same_width(xs, xt, "Xs", "Xt")
    out = np.empty_like(xs)
    lib.tl_coral_align(_dptr(out), _dptr(xs), xs.shape[0], _dptr(xt), xt.shape[0],
                       xs.shape[1], float(lam))
    return out


def frechet_distance(X1, X2):
    """Frechet (FID) distance between Gaussians fitted to X1 and X2."""
    x1, x2 = _matrix(X1, "X1"), _matrix(X2, "X2")
    _same_width(x1, x2, "X1", "X2")
    out = ctypes.c_double()
    lib.tl_frechet_distance(ctypes.byref(out), _dptr(x1), x1.shape[0], _dptr(x2),
                            x2.shape[0], x1.shape[1])
    return out.value


def frechet_distance_gaussian(mu1, cov1, mu2, cov2):
    """Frechet distance from given means and covariances."""
    m1, m2 = _vector(mu1, "mu1"), _vector(mu2, "mu2")
    c1, c2 = _matrix(cov1, "cov1"), _matrix(cov2, "cov2")
    d = m1.shape[0]
    for name, shape in (("mu2", m2.shape), ("cov1", c1.shape), ("cov2", c2.shape)):
        if shape not in ((d,), (d, d)) or (name != "mu2" and shape != (d, d)):
            raise ShapeError("%s has shape %s; mu1 has %d entries" % (name, shape, d))
    out = ctypes.c_double()
    lib.tl_frechet_distance_gaussian(ctypes.byref(out), _dptr(m1), _dptr(c1),
                                     _dptr(m2), _dptr(c2), d)
    return out.value


def term_distribution(ids, vocab_size, smoothing=0.0):
    """Relative term frequencies of a token-id sequence, add-k smoothed."""
    a = _indices(ids, "ids", np.int64).ravel()
    v = _count(vocab_size, "vocab_size")
    out = np.empty(max(v, 1))  # libtl rejects vocab_size 0 with its message
    lib.tl_term_distribution(_dptr(out), a.ctypes.data_as(c_int64_p), a.size, v,
                             float(smoothing))
    return out


def term_similarity(p, q, alpha=0.99):
    """The six Ruder & Plank similarities of p and q (FEATURE_NAMES[:6])."""
    a, b = _vector(p, "p"), _vector(q, "q")
    if a.shape != b.shape:
        raise ShapeError("p has %d entries but q has %d" % (a.size, b.size))
    out = np.empty(6)
    lib.tl_term_similarity(_dptr(out), _dptr(a), _dptr(b), a.size, float(alpha))
    return out


def selection_features(examples, vocab_size, target, word_vectors=None,
                       renyi_alpha=0.99, smoothing=0.0):
    """Data-selection features (n, 12) of token-id examples against a target
    term distribution; columns as FEATURE_NAMES. Quadratic entropy needs
    word_vectors (vocab_size, e); without them its column is 0."""
    seqs = [_indices(e, "examples[%d]" % i, np.int64).ravel()
            for i, e in enumerate(examples)]
    offsets = np.zeros(len(seqs) + 1, dtype=np.uint64)
    if seqs:
        offsets[1:] = np.cumsum([s.size for s in seqs])
    ids = np.ascontiguousarray(np.concatenate(seqs) if seqs else np.zeros(0, np.int64),
                               dtype=np.int64)
    vocab_size = _count(vocab_size, "vocab_size")
    t = _vector(target, "target")
    if t.size != int(vocab_size):
        raise ShapeError("target has %d entries, vocab_size is %d" % (t.size,
                                                                     int(vocab_size)))
    vec, e = None, 0
    if word_vectors is not None:
        vec = _matrix(word_vectors, "word_vectors")
        if vec.shape[0] != int(vocab_size):
            raise ShapeError("word_vectors has %d rows, vocab_size is %d"
                             % (vec.shape[0], int(vocab_size)))
        e = vec.shape[1]
    o = _SelectionOptions()
    lib.tl_selection_options_init(ctypes.byref(o),
                                  _v.SELECTION_OPTIONS_VERSION)
    o.renyi_alpha, o.smoothing = float(renyi_alpha), float(smoothing)
    out = np.empty((max(len(seqs), 1), 12))
    lib.tl_selection_features(_dptr(out), ids.ctypes.data_as(c_int64_p),
                              _sptr(offsets), len(seqs), int(vocab_size), _dptr(t),
                              _dptr(vec), e, ctypes.byref(o))
    return out


def select_top(features, theta, k):
    """Scores features @ theta and the indices of the k best (descending,
    equal scores by lower index). Returns (indices, scores)."""
    f = _matrix(features, "features")
    th = _vector(theta, "theta")
    if th.size != f.shape[1]:
        raise ShapeError("theta has %d entries, features %d columns"
                         % (th.size, f.shape[1]))
    k = _count(k, "k")
    idx = np.empty(max(k, 1), dtype=np.uint64)
    scores = np.empty(max(f.shape[0], 1))
    lib.tl_select_top(_sptr(idx), _dptr(scores), _dptr(f), f.shape[0], f.shape[1],
                      _dptr(th), k)
    return idx.astype(np.intp), scores[:f.shape[0]]


def pca_fit(X, k, return_ratio=False):
    """PCA of X: (mean, components (k, d), explained_variance), plus the
    explained-variance ratio with return_ratio. Component signs as sklearn
    >= 1.5: the largest-magnitude entry of each component is positive."""
    x = _matrix(X, "X")
    k = _count(k, "k")
    d, kk = x.shape[1], max(k, 1)
    mean, comps = np.empty(max(d, 1)), np.empty((kk, max(d, 1)))
    var, ratio = np.empty(kk), np.empty(kk)
    lib.tl_pca_fit(_dptr(mean), _dptr(comps), _dptr(var), _dptr(ratio), _dptr(x),
                   x.shape[0], d, k)
    return (mean, comps, var, ratio) if return_ratio else (mean, comps, var)


def pca_transform(X, mean, components):
    """(X - mean) components^T."""
    x, m, c = _matrix(X, "X"), _vector(mean, "mean"), _matrix(components, "components")
    if m.size != x.shape[1] or c.shape[1] != x.shape[1]:
        raise ShapeError("X has %d columns, mean %d entries, components %d columns"
                         % (x.shape[1], m.size, c.shape[1]))
    out = np.empty((x.shape[0], max(c.shape[0], 1)))
    lib.tl_pca_transform(_dptr(out), _dptr(x), x.shape[0], x.shape[1], _dptr(m),
                         _dptr(c), c.shape[0])
    return out


def pca_select(Xs, Xt, k, n_components=0, criterion="centroid", fit="target"):
    """The k source rows closest to the target in PCA space. criterion:
    'centroid' or 'mean_distance'; fit: 'target' or 'both'; n_components 0:
    all. Returns (indices, distances), closest first."""
    xs, xt = _matrix(Xs, "Xs"), _matrix(Xt, "Xt")
    _same_width(xs, xt, "Xs", "Xt")
    if criterion not in _CRITERIA:
        raise InvalidArgumentError("criterion must be one of %s" % sorted(_CRITERIA))
    if fit not in _FITS:
        raise InvalidArgumentError("fit must be one of %s" % sorted(_FITS))
    o = _PcaSelectOptions()
    lib.tl_pca_select_options_init(ctypes.byref(o),
                                   _v.PCA_SELECT_OPTIONS_VERSION)
    o.n_components = _count(n_components, "n_components")
    o.criterion, o.fit = _CRITERIA[criterion], _FITS[fit]
    k = _count(k, "k")
    idx, dist = np.empty(max(k, 1), dtype=np.uint64), np.empty(max(k, 1))
    lib.tl_pca_select(_sptr(idx), _dptr(dist), _dptr(xs), xs.shape[0], _dptr(xt),
                      xt.shape[0], xs.shape[1], k, ctypes.byref(o))
    return idx.astype(np.intp), dist


def procrustes(X, Y):
    """Orthogonal W (d, d) minimising sum |W x_i - y_i|^2 over paired rows;
    map a source matrix with X @ W.T."""
    x, y = _matrix(X, "X"), _matrix(Y, "Y")
    if x.shape != y.shape:
        raise ShapeError("X has shape %s but Y has %s" % (x.shape, y.shape))
    d = x.shape[1]
    w = np.empty((max(d, 1), max(d, 1)))
    lib.tl_procrustes(_dptr(w), _dptr(x), _dptr(y), x.shape[0], d)
    return w


def csls_retrieve(Xmapped, Y, k=10, top=1):
    """CSLS nearest targets of every mapped source row (k: neighbourhood
    size of r_S and r_T). Returns (indices (nq, top), scores (nq, top))."""
    q, y = _matrix(Xmapped, "Xmapped"), _matrix(Y, "Y")
    _same_width(q, y, "Xmapped", "Y")
    o = _CslsOptions()
    lib.tl_csls_options_init(ctypes.byref(o), _v.CSLS_OPTIONS_VERSION)
    o.knn, o.top = _count(k, "k"), _count(top, "top")
    shape = (max(q.shape[0], 1), max(o.top, 1))
    idx, scores = np.empty(shape, dtype=np.uint64), np.empty(shape)
    lib.tl_csls_retrieve(_sptr(idx), _dptr(scores), _dptr(q), q.shape[0], _dptr(y),
                         y.shape[0], q.shape[1], ctypes.byref(o))
    return idx.astype(np.intp), scores


def precision_at_k(retrieved, gold_src, gold_tgt, k=1):
    """Fraction of distinct gold source words with a gold translation among
    their first k retrieved targets (retrieved: (n_queries, top))."""
    r = _indices(retrieved, "retrieved", np.uint64)
    if r.ndim != 2:
        raise ShapeError("retrieved must be 2-D (n_queries, top)")
    s = _indices(gold_src, "gold_src", np.uint64).ravel()
    t = _indices(gold_tgt, "gold_tgt", np.uint64).ravel()
    if s.size != t.size:
        raise ShapeError("gold_src has %d entries but gold_tgt %d" % (s.size, t.size))
    out = ctypes.c_double()
    lib.tl_precision_at_k(ctypes.byref(out), _sptr(r), r.shape[0], r.shape[1],
                          _count(k, "k"), _sptr(s), _sptr(t), s.size)
    return out.value
