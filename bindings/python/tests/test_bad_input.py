"""Bad input to the Python binding (issue 18's "Bad input" rows): arrays
that are non-contiguous, Fortran-ordered, byte-swapped or of another float
dtype give the same numbers as their contiguous native float copies; wrong
dtypes and shapes raise clear exceptions; a callback that raises never
crosses the C frames as anything but a clean exception (lr_find) or a
printed one (Progress)."""
import sys

import numpy as np
import pytest

import tl


def _encoder_model():
    m = tl.Model(seed=5)
    m.add_embedding("emb", 30, 6)
    m.add_lstm("rnn", 6, 6)
    m.add_concat_pool("pool")
    m.add_linear("head", 18, 3)
    return m


def _dense_model():
    m = tl.Model(seed=6)
    m.add_linear("l0", 4, 5, activation="tanh")
    m.add_linear("l1", 5, 3)
    return m


def _odd_layouts(a):
    """The same values as a in layouts the C side cannot take as they are."""
    big = a.astype(a.dtype.newbyteorder(">"))
    strided = np.zeros(a.shape + (2,), a.dtype)
    strided[..., 0] = a
    return {"fortran": np.asfortranarray(a), "strided": strided[..., 0],
            "byteswapped": big, "negative strides": a[::-1].copy()[::-1]}


def test_non_contiguous_float_inputs_match_contiguous():
    x = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    m = _dense_model()
    want = m.forward(x)
    dy = np.ones_like(want)
    m.zero_grad()
    want_dx = m.backward(dy)
    want_g = m.flat_grads().copy()
    for name, odd in _odd_layouts(x).items():
        assert not odd.flags.c_contiguous or not odd.dtype.isnative, name
        assert np.array_equal(m.forward(odd), want), name
        m.zero_grad()
        dx = m.backward(_odd_layouts(dy)[name])
        assert np.array_equal(dx, want_dx), name
        assert np.array_equal(m.flat_grads(), want_g), name
    # float64 input: converted to float32 as the C API takes it
    assert np.array_equal(m.forward(x.astype(np.float64)), want)


def test_non_contiguous_ids_and_targets():
    ids = np.random.default_rng(1).integers(0, 30, size=(8, 5))
    m = _encoder_model()
    want = m.forward(ids)
    for name, odd in _odd_layouts(ids).items():
        assert np.array_equal(m.forward(odd), want), name
    y = np.array([0, 2, 1, 1, 0])
    loss, d = tl.cross_entropy(want, y)
    for name, odd in _odd_layouts(y).items():
        loss2, d2 = tl.cross_entropy(_odd_layouts(want)[name], odd)
        assert loss2 == loss and np.array_equal(d2, d), name
        assert tl.accuracy(_odd_layouts(want)[name], odd) == tl.accuracy(want, y)


def test_non_contiguous_params_and_metrics():
    m = _dense_model()
    w = np.arange(20, dtype=np.float32).reshape(4, 5).T   # (5, 4), F-order
    m.set_param("l0.weight", w)
    assert np.array_equal(m.param("l0.weight"), np.ascontiguousarray(w))
    p = np.array([0.1, 0.0, 0.4, 0.0, 0.5, 0.0])
    q = np.array([0.3, 9.0, 0.3, 9.0, 0.4, 9.0])
    assert tl.metrics.js_distance(p[::2], q[::2]) == \
        tl.metrics.js_distance(p[::2].copy(), q[::2].copy())


@pytest.mark.parametrize("bad,exc", [
    (np.array([[0.5, 1.0]]), tl.InvalidArgumentError),     # float ids
    (np.array([[1 + 0j, 2]]), tl.InvalidArgumentError),    # complex ids
    (np.array([["a", "b"]]), tl.InvalidArgumentError),     # strings
    (np.array([[-1, 2]]), tl.InvalidArgumentError),        # outside the vocabulary
    (np.array([[40, 2]]), tl.InvalidArgumentError),
    (np.zeros((1, 1, 1, 1, 1), np.int64), tl.ShapeError),  # five dimensions
])
def test_wrong_ids_raise(bad, exc):
    m = _encoder_model()
    with pytest.raises(exc):
        m.forward(bad)


def test_wrong_shapes_raise():
    m = _dense_model()
    with pytest.raises(tl.ShapeError):
        m.forward(np.zeros((3, 5), np.float32))           # 5 features, not 4
    with pytest.raises(tl.ShapeError):
        m.set_param("l0.weight", np.zeros((4, 5)))         # transposed shape
    with pytest.raises(tl.ShapeError):
        tl.cross_entropy(np.zeros((3, 2)), np.zeros(4, np.int64))
    with pytest.raises(tl.ShapeError):
        tl.cross_entropy(np.zeros(3), np.zeros(3, np.int64))
    with pytest.raises(tl.ShapeError, match="same length"):
        tl.metrics.js_distance([0.5, 0.5], [1.0])
    m.forward(np.zeros((3, 4), np.float32))
    with pytest.raises(tl.ShapeError):
        m.backward(np.zeros((3, 4), np.float32))           # dy of 4, not 3


def test_a_raising_lr_find_step_is_raised_again_and_the_model_restored():
    m = _dense_model()
    opt = tl.Optimizer(m, "sgd", lr=0.1)
    before = m.flat_params().copy()
    calls = []

    def step():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("from the step function")
        return 1.0

    with pytest.raises(RuntimeError, match="from the step function"):
        tl.lr_find(opt, step, num_it=10)
    assert len(calls) == 3
    assert np.array_equal(m.flat_params(), before)
    m.forward(np.zeros((2, 4), np.float32))              # still usable


def test_a_raising_progress_reporter_does_not_stop_training(monkeypatch):
    # ctypes hands an exception raised in a callback to sys.unraisablehook
    # (which prints it) and returns to C normally.
    seen, unraisable = [], []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def on_step(rec):
        seen.append(rec["step"])
        raise KeyError("from on_step")

    p = tl.Progress(n_epochs=1, train_steps=3, terminal=False, on_step=on_step)
    for loss in (1.0, 0.8, 0.6):
        p.step(loss, [0.1])
    p.end_epoch(0.5)
    p.close()
    assert len(seen) == 3
    assert [type(u.exc_value) for u in unraisable] == [KeyError] * 3
    assert str(unraisable[0].exc_value) == "'from on_step'"
