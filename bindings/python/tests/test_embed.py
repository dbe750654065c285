"""tl.sgns_train (include/tl/embed.h): the planted-structure check of the C
suite through the binding, determinism, training into a model's embedding
weight, and bad input (an exception with libtl's message, out untouched)."""
import numpy as np
import pytest

import tl

G = 8


def planted(n_docs=200, doc_len=20, seed=1):
    """Documents whose words come from one of two groups of G words."""
    rng = np.random.RandomState(seed)
    return [(d % 2) * G + rng.randint(0, G, size=doc_len) for d in range(n_docs)]


def cosines(e):
    n = e / np.linalg.norm(e, axis=1, keepdims=True)
    c = n @ n.T
    same = np.equal.outer(np.arange(2 * G) < G, np.arange(2 * G) < G)
    off = ~np.eye(2 * G, dtype=bool)
    return c[same & off].mean(), c[~same].mean()


KW = dict(dim=16, window=3, negative=4, sample=0.0, min_count=1, epochs=4, seed=3)


def test_planted_groups_and_determinism():
    docs = planted()
    e = tl.sgns_train(docs, 2 * G, **KW)
    assert e.shape == (2 * G, 16) and e.dtype == np.float32
    within, between = cosines(e)
    assert within > 0.5 and within - between > 0.6, (within, between)
    again = tl.sgns_train(docs, 2 * G, **KW)
    assert np.array_equal(e, again)
    other = tl.sgns_train(docs, 2 * G, **dict(KW, seed=4))
    assert not np.array_equal(e, other)


def test_hogwild_threads_learn_too():
    e = tl.sgns_train(planted(), 2 * G, **dict(KW, n_threads=2))
    within, between = cosines(e)
    assert within - between > 0.6, (within, between)


def test_single_document_and_counts():
    docs = planted()
    flat = np.concatenate(docs)
    counts = np.bincount(flat, minlength=2 * G + 1)
    # word 2G has no count: its row is zero; a listed document works too.
    e = tl.sgns_train(flat, 2 * G + 1, counts=counts, **KW)
    assert np.all(e[2 * G] == 0) and np.all(np.isfinite(e))
    small = tl.sgns_train([0, 1, 0, 1, 2], 3, dim=4, min_count=1)
    assert small.shape == (3, 4)


def test_into_model_embedding():
    m = tl.Model()
    m.add_embedding("emb", 2 * G, 16)
    view = m.param_view("emb.weight")
    got = tl.sgns_train(planted(), 2 * G, out=view, **KW)
    assert got is view
    assert np.array_equal(m.param("emb.weight"), tl.sgns_train(planted(), 2 * G, **KW))


def test_bad_input_raises_and_writes_nothing():
    out = np.full((4, 3), 42.0, dtype=np.float32)
    docs = [np.array([0, 1, 2, 3]), np.array([1, 2])]
    kw = dict(dim=3, min_count=1, out=out)
    cases = [
        (dict(docs=[np.array([0, 1, 4])]), tl.InvalidArgumentError, "ids[2]"),
        (dict(docs=[np.array([0, -1])]), tl.InvalidArgumentError, "ids[1]"),
        (dict(docs=[]), tl.InvalidArgumentError, "empty"),
        (dict(window=0), tl.InvalidArgumentError, "window"),
        (dict(negative=0), tl.InvalidArgumentError, "negative"),
        (dict(epochs=0), tl.InvalidArgumentError, "epochs"),
        (dict(alpha=float("nan")), tl.InvalidArgumentError, "alpha"),
        (dict(sample=-1.0), tl.InvalidArgumentError, "sample"),
        (dict(min_count=3), tl.InvalidArgumentError, "min_count"),
        (dict(counts=[1, 1, 1]), tl.ShapeError, "counts"),
    ]
    for change, error, word in cases:
        args = dict(kw, docs=docs, vocab_size=4)
        args.update(change)
        with pytest.raises(error) as info:
            tl.sgns_train(**args)
        assert word in str(info.value), (change, str(info.value))
        assert np.all(out == 42.0)
    with pytest.raises(tl.InvalidArgumentError, match="dim"):
        tl.sgns_train(docs, 4, dim=0, min_count=1, out=np.zeros(0, dtype=np.float32))
    with pytest.raises(tl.ShapeError, match="vocab_size"):
        tl.sgns_train(docs, 4, dim=2, min_count=1, out=out)
    with pytest.raises(tl.InvalidArgumentError, match="out"):
        tl.sgns_train(docs, 4, dim=3, min_count=1, out=np.zeros((4, 3)))
    assert np.all(out == 42.0)
