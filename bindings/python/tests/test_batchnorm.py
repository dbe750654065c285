"""Model.add_batchnorm1d, the buffer calls and train_bn, against the torch
goldens of tests/fixtures/gen_batchnorm.py (read from the generated C
header, so torch is not needed here) and against numpy."""
import os
import re

import numpy as np
import pytest

import tl

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


def _golden():
    path = os.path.join(ROOT, "tests", "fixtures", "batchnorm_golden.h")
    with open(path) as f:
        text = f.read()
    out = {}
    for name, body in re.findall(
            r"static const float (\w+)\[\d+\] = \{([^}]*)\};", text):
        out[name] = np.array([float(v.rstrip("f")) for v in body.split(",")],
                             dtype=np.float32)
    return out


G = _golden()


def close(got, want, rel=1e-5):
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    floor = 0.05 * np.abs(want).max() + 1e-12
    err = np.abs(got - want) / np.maximum(np.abs(want), floor)
    assert err.max() <= rel, "rel err %.3g at %d" % (err.max(), err.argmax())


def bn_model(f=5, **kw):
    m = tl.Model()
    m.add_batchnorm1d("bn", f, **kw)
    return m


def trained():
    m = bn_model()
    m.set_param("bn.weight", G["bn_train_w"])
    m.set_param("bn.bias", G["bn_train_b"])
    for k in (1, 2, 3):
        y = m.forward(G["bn_train_x%d" % k].reshape(6, 5))
        close(y, G["bn_train_y%d" % k])
        close(m.buffer("bn.running_mean"), G["bn_train_rmean%d" % k])
        close(m.buffer("bn.running_var"), G["bn_train_rvar%d" % k])
    return m


def test_names_buffers_and_torch_train_mode():
    m = bn_model()
    assert m.param_names() == ["bn.weight", "bn.bias"]
    assert m.buffer_names() == ["bn.running_mean", "bn.running_var",
                                "bn.num_batches_tracked"]
    assert m.buffer_shape("bn.running_var") == (5,)
    assert m.buffer_shape("bn.num_batches_tracked") == ()
    assert m.flat_params().size == 10  # buffers are not parameters
    np.testing.assert_array_equal(m.buffer("bn.running_var"), np.ones(5))
    assert m.buffer("bn.num_batches_tracked") == 0
    m.close()
    m = trained()
    assert m.buffer("bn.num_batches_tracked") == 3
    m.zero_grad()
    dx = m.backward(G["bn_train_dy"].reshape(6, 5))
    close(dx, G["bn_train_dx"])
    g = m.grads()
    close(g["bn.weight"], G["bn_train_dw"])
    close(g["bn.bias"], G["bn_train_db"])
    del g
    m.eval()
    close(m.forward(G["bn_eval_x"].reshape(4, 5)), G["bn_eval_y"])
    assert m.buffer("bn.num_batches_tracked") == 3


def test_eval_matches_numpy_and_buffers_are_settable():
    m = bn_model(3, eps=1e-3, affine=False)
    mean = np.array([0.5, -2.0, 10.0])
    var = np.array([4.0, 0.25, 1.0])
    m.set_buffer("bn.running_mean", mean)
    m.set_buffer("bn.running_var", var)
    m.set_buffer("bn.num_batches_tracked", 7)
    assert m.buffer("bn.num_batches_tracked") == 7
    m.eval()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    close(m.forward(x), (x - mean) / np.sqrt(var + 1e-3))
    with pytest.raises(tl.NumericError, match=">= 0"):
        m.set_buffer("bn.running_var", [1.0, -1.0, 1.0])
    with pytest.raises(tl.NumericError):
        m.set_buffer("bn.running_mean", [np.nan, 0.0, 0.0])
    with pytest.raises(tl.NumericError, match="whole number"):
        m.set_buffer("bn.num_batches_tracked", 1.5)
    with pytest.raises(tl.ShapeError):
        m.set_buffer("bn.running_mean", [0.0, 0.0])
    with pytest.raises(tl.NotFoundError):
        m.buffer("bn.nope")
    np.testing.assert_array_equal(m.buffer("bn.running_var"),
                                  var.astype(np.float32))


def test_train_bn_freezing_and_the_frozen_path():
    m = trained()
    assert m.train_bn is True
    m.train_bn = False
    m.freeze_to(1)
    assert not m.param_trainable("bn.weight")
    before = m.buffers()
    # train mode, but torch's eval-mode numbers (fastai's BnFreeze)
    close(m.forward(G["bn_eval_x"].reshape(4, 5)), G["bn_eval_y"])
    close(m.backward(G["bn_eval_dy"].reshape(4, 5)), G["bn_eval_dx"])
    after = m.buffers()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
    m.train_bn = True
    assert m.param_trainable("bn.weight")
    view = m.buffer_view("bn.running_mean")
    assert not view.flags.writeable
    m.forward(G["bn_eval_x"].reshape(4, 5))
    assert m.buffer("bn.num_batches_tracked") == 4
    np.testing.assert_array_equal(view, m.buffer("bn.running_mean"))
    assert (view != before["bn.running_mean"]).any()
    with pytest.raises(tl.UnsupportedError):
        m.buffer_view("bn.num_batches_tracked")
    del view


def test_one_row_in_train_mode_and_bad_options():
    m = bn_model(2)
    with pytest.raises(tl.ShapeError, match="more than 1 value"):
        m.forward(np.ones((1, 2), dtype=np.float32))
    m.eval()
    m.forward(np.ones((1, 2), dtype=np.float32))
    for kw, word in (({"momentum": 1.5}, "momentum"), ({"eps": 0.0}, "eps"),
                     ({"eps": float("nan")}, "eps")):
        with pytest.raises(tl.InvalidArgumentError, match=word):
            bn_model(2, **kw)
    with pytest.raises(tl.InvalidArgumentError, match="num_features"):
        bn_model(0)


def test_buffers_round_trip_through_a_checkpoint(tmp_path):
    m = trained()
    m.set_buffer("bn.num_batches_tracked", 2 ** 40)
    path = str(tmp_path / "bn.tlc")
    m.save(path)
    n = bn_model()
    missing, unexpected = n.load(path)
    assert missing == [] and unexpected == []
    a, b = m.buffers(), n.buffers()
    assert b["bn.num_batches_tracked"] == 2 ** 40
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_optimizer_leaves_buffers_alone():
    m = tl.Model()
    m.add_linear("fc1", 4, 6, activation="relu")
    m.add_batchnorm1d("bn", 6)
    m.add_linear("fc2", 6, 3)
    m.flat_params()[:] = G["bn_head_w"]
    close(m.forward(G["bn_head_x"].reshape(5, 4)), G["bn_head_y"])
    m.backward(G["bn_head_dy"].reshape(5, 3))
    close(m.flat_grads(), G["bn_head_grad"])
    before = m.buffers()
    opt = tl.Optimizer([m], kind="sgd", lr=0.1, weight_decay=0.5,
                       momentum=0.9)
    opt.step()
    after = m.buffers()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
    close(after["bn.running_var"], G["bn_head_rvar"])
