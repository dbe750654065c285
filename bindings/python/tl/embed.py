"""Word embeddings trained from token ids (include/tl/embed.h).

    docs = [vocab.encode(tokens) for tokens in tokenized_documents]
    emb = tl.sgns_train(docs, len(vocab), dim=100, window=5, negative=5,
                        epochs=5, n_threads=1, seed=0)   # (vocab, dim) float32
    # straight into a classifier's embedding layer (no copy):
    tl.sgns_train(docs, len(vocab), dim=400, out=model.param_view("emb.weight"))

Skip-gram with negative sampling as word2vec.c: random window shrinking,
negatives from the unigram^0.75 distribution, sub-sampling of frequent words
(sample), linear learning-rate decay from alpha to alpha * min_alpha_ratio,
words rarer than min_count dropped (their rows are 0). One thread is
deterministic; n_threads > 1 trains Hogwild, as word2vec, and is not
reproducible.
"""
import ctypes

import numpy as np

from . import _check
from . import _versions as _v
from ._errors import InvalidArgumentError, ShapeError
from ._native import c_size_p, lib, register, status

__all__ = ["sgns_train"]

_f32_p = ctypes.POINTER(ctypes.c_float)
_i64_p = ctypes.POINTER(ctypes.c_int64)
_u64_p = ctypes.POINTER(ctypes.c_uint64)


class _SgnsOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("dim", ctypes.c_size_t),
                ("window", ctypes.c_size_t), ("negative", ctypes.c_size_t),
                ("sample", ctypes.c_double), ("alpha", ctypes.c_double),
                ("min_alpha_ratio", ctypes.c_double), ("ns_exponent", ctypes.c_double),
                ("min_count", ctypes.c_uint64), ("epochs", ctypes.c_size_t),
                ("n_threads", ctypes.c_size_t), ("seed", ctypes.c_uint64)]


register([
    ("tl_sgns_options_init", [ctypes.POINTER(_SgnsOptions), ctypes.c_uint], status),
    ("tl_sgns_train", [_f32_p, ctypes.c_size_t, _i64_p, ctypes.c_size_t, c_size_p,
                       ctypes.c_size_t, _u64_p, ctypes.c_size_t,
                       ctypes.POINTER(_SgnsOptions)], status),
])


def _documents(docs):
    """docs as (ids, lengths): one 1-D integer array is one document; a
    sequence of them is a corpus of documents."""
    if isinstance(docs, np.ndarray) and docs.ndim == 1:
        return _check.int_array(docs, "docs"), None
    if isinstance(docs, (list, tuple)) and docs and all(np.ndim(d) == 0 for d in docs):
        return _check.int_array(list(docs), "docs"), None
    if isinstance(docs, (str, bytes)) or not hasattr(docs, "__len__"):
        raise InvalidArgumentError("docs must be a 1-D integer array or a sequence of them "
                                   "(got %s)" % type(docs).__name__)
    parts = []
    for i, d in enumerate(docs):
        a = _check.int_array(d, "docs[%d]" % i)
        if a.ndim != 1:
            raise ShapeError("docs[%d] must be 1-D (got shape %s)" % (i, a.shape))
        parts.append(a)
    lengths = np.array([a.size for a in parts], dtype=np.uintp)
    ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return np.ascontiguousarray(ids, dtype=np.int64), lengths


def sgns_train(docs, vocab_size, dim=100, window=5, negative=5, sample=1e-3, alpha=0.025,
               min_alpha_ratio=1e-4, ns_exponent=0.75, min_count=5, epochs=5, n_threads=1,
               seed=0, counts=None, out=None):
    """Skip-gram with negative sampling embeddings of the token ids in docs
    (one 1-D integer array, or a sequence of documents: no window crosses
    two) over vocab_size words; returns the (vocab_size, dim) float32 input
    embeddings, written into out when given (a C-contiguous float32 array of
    that many elements, e.g. Model.param_view of an embedding weight).
    counts (vocab_size integers) replaces the corpus's own word counts for
    min_count, sub-sampling and the negative distribution."""
    ids, lengths = _documents(docs)
    v = _check.size(vocab_size, "vocab_size")
    opts = _SgnsOptions()
    lib.tl_sgns_options_init(ctypes.byref(opts), _v.SGNS_OPTIONS_VERSION)
    opts.dim = _check.size(dim, "dim")
    opts.window = _check.size(window, "window")
    opts.negative = _check.size(negative, "negative")
    opts.sample, opts.alpha = float(sample), float(alpha)
    opts.min_alpha_ratio, opts.ns_exponent = float(min_alpha_ratio), float(ns_exponent)
    opts.min_count = _check.uint64(min_count, "min_count")
    opts.epochs = _check.size(epochs, "epochs")
    opts.n_threads = _check.size(n_threads, "n_threads")
    opts.seed = _check.uint64(seed, "seed")
    cp = None
    if counts is not None:
        c = np.ascontiguousarray(_check.int_array(counts, "counts", np.uint64).ravel())
        if c.size != v:
            raise ShapeError("counts has %d entries, vocab_size is %d" % (c.size, v))
        cp = c.ctypes.data_as(_u64_p)
    if out is None:
        result = np.empty((v, opts.dim), dtype=np.float32)
    else:
        if not (isinstance(out, np.ndarray) and out.dtype == np.float32
                and out.flags.c_contiguous and out.flags.writeable):
            raise InvalidArgumentError("out must be a writable C-contiguous float32 array "
                                       "(it is written in place)")
        result = out
    lp = lengths.ctypes.data_as(c_size_p) if lengths is not None else None
    lib.tl_sgns_train(result.ctypes.data_as(_f32_p), result.size, ids.ctypes.data_as(_i64_p),
                      ids.size, lp, 0 if lengths is None else lengths.size, cp, v,
                      ctypes.byref(opts))
    return result
