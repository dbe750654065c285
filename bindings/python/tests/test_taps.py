"""Model.layer_output / Model.add_layer_grad (tl_model_layer_output,
tl_model_add_layer_grad): a head on a lower layer and one on top, trained
through one backward, against the same gradients computed by chaining
models by hand (the lower layers as their own model)."""
import numpy as np
import pytest

import tl


def _encoder(seed):
    m = tl.Model(seed=seed)
    m.add_linear("l0", 4, 6, "tanh")
    m.add_linear("l1", 6, 5, "tanh")
    return m


def test_head_on_a_lower_layer_equals_the_chained_models():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    d_top = rng.standard_normal((3, 5)).astype(np.float32)
    d_low = rng.standard_normal((3, 6)).astype(np.float32)
    enc = _encoder(1)
    enc.train()
    enc.zero_grad()
    enc.forward(x)
    low = enc.layer_output("l0")
    enc.add_layer_grad("l0", d_low)
    enc.backward(d_top)
    # by hand: l0 and l1 as two models, the two gradients added at l0's output
    a, b = tl.Model(seed=9), tl.Model(seed=9)
    a.add_linear("l0", 4, 6, "tanh")
    b.add_linear("l1", 6, 5, "tanh")
    a.set_param("l0.weight", enc.param("l0.weight"))
    a.set_param("l0.bias", enc.param("l0.bias"))
    b.set_param("l1.weight", enc.param("l1.weight"))
    b.set_param("l1.bias", enc.param("l1.bias"))
    for m in (a, b):
        m.train()
        m.zero_grad()
    h = a.forward(x)
    np.testing.assert_array_equal(h, low)
    b.forward(h)
    dh = b.backward(d_top)
    a.backward(dh + d_low)
    np.testing.assert_allclose(enc.grad_view("l0.weight"), a.grad_view("l0.weight"),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(enc.grad_view("l1.weight"), b.grad_view("l1.weight"))


def test_bad_taps():
    enc = _encoder(2)
    with pytest.raises(tl.StateError):
        enc.layer_output("l0")
    enc.train()
    enc.forward(np.zeros((2, 4), np.float32))
    with pytest.raises(tl.NotFoundError):
        enc.add_layer_grad("nope", np.zeros((2, 6), np.float32))
    with pytest.raises(tl.ShapeError):
        enc.add_layer_grad("l0", np.zeros((2, 5), np.float32))
    with pytest.raises(tl.NumericError):
        enc.add_layer_grad("l0", np.full((2, 6), np.nan, np.float32))
