"""The "views alive" guard covers every structural change.

Only one operation moves a model's flat parameter and gradient buffers:
appending a layer (tli_model_append_layer in lib/model/build.c, reached
from every tl_model_add_* and from nothing else). So every add_* must
refuse while a numpy view of either buffer is alive, whatever function
made the view; and the other state changes (load, set_mode, freeze_to,
masks, train/eval, optimizers, checkpoints) must leave the buffers where
they are, which the tests check by writing through views taken before."""
import ctypes

import numpy as np
import pytest

import tl

ADDS = {
    "add_embedding": lambda m: m.add_embedding("e2", 10, 4),
    "add_lstm": lambda m: m.add_lstm("r2", 6, 6),
    "add_gru": lambda m: m.add_gru("g2", 6, 6),
    "add_batchnorm1d": lambda m: m.add_batchnorm1d("bn2", 6),
    "add_linear": lambda m: m.add_linear("l2", 6, 6),
    "add_dropout": lambda m: m.add_dropout("d2", 0.1),
    "add_concat_pool": lambda m: m.add_concat_pool("p2"),
    "add_decoder": lambda m: m.add_decoder("dec2", 6, 6),
}

VIEWS = {
    "params": lambda m: m.params()["fc.weight"],
    "grads": lambda m: m.grads()["fc.bias"],
    "flat_params": lambda m: m.flat_params(),
    "flat_grads": lambda m: m.flat_grads(),
    "param_view": lambda m: m.param_view("fc.weight"),
    "grad_view": lambda m: m.grad_view("fc.weight"),
    "a slice of a view": lambda m: m.flat_params()[2:5],
}


def _model():
    m = tl.Model(seed=1)
    m.add_linear("fc", 6, 6)
    return m


def test_every_add_method_is_covered():
    """A new add_* method of Model must join ADDS (and so be guarded)."""
    adds = {n for n in dir(tl.Model) if n.startswith("add_")}
    assert adds == set(ADDS)


@pytest.mark.parametrize("add", sorted(ADDS))
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_add_refused_while_a_view_is_alive(add, view):
    m = _model()
    v = VIEWS[view](m)
    before = m.layer_names()
    with pytest.raises(tl.StateError, match="views"):
        ADDS[add](m)
    assert m.layer_names() == before  # nothing was added
    v[...] = 0.5                       # the view still points at live memory
    del v
    if add == "add_embedding":
        # Once it is gone the call reaches libtl, which wants an embedding
        # first (a model with no layer has no buffer to view).
        with pytest.raises(tl.StateError, match="must be the first layer"):
            ADDS[add](m)
        return
    ADDS[add](m)                       # and once it is gone, the add works
    assert len(m.layer_names()) == len(before) + 1


def _address(a):
    return a.__array_interface__["data"][0]


def test_state_changes_leave_the_buffers_in_place(tmp_path):
    """load, set_mode, freeze/unfreeze, masks, lengths, train/eval, an
    optimizer step, saving and checkpoints do not move the buffers: views
    taken before them stay valid and see what the calls write."""
    m = tl.Model(seed=2)
    m.add_embedding("emb", 20, 6)
    m.add_lstm("rnn", 6, 6)
    m.add_concat_pool("pool")
    m.add_linear("fc", 18, 3)
    flat, grad = m.flat_params(), m.flat_grads()
    fc = m.param_view("fc.weight")
    where = (_address(flat), _address(grad))

    path = str(tmp_path / "m.tlc")
    m.save(path)
    saved = flat.copy()
    flat[:] = 0.0
    m.load(path)                      # writes through the old view
    assert np.array_equal(flat, saved)
    m.set_mode("feature_extract")
    m.set_mode("fine_tune")
    m.mode = "feature_extract"
    m.mode = "fine_tune"
    m.freeze_to(-1)
    m.unfreeze()
    m.freeze()
    m.unfreeze()
    m.set_group_trainable(0, False)
    m.set_group_trainable(0, True)
    m.set_param_trainable("fc.bias", False)
    m.set_param_trainable("fc.bias", True)
    m.set_param_mask("fc.weight", np.ones(fc.shape))
    m.set_param_mask("fc.weight", None)
    m.set_row_mask("emb.weight", np.ones(20))
    m.set_row_mask("emb.weight", None)
    m.set_lengths([5, 3])
    m.set_lengths(None)
    m.train()
    m.eval()
    m.train()
    opt = tl.Optimizer(m, "sgd", lr=0.1)
    ids = np.arange(10).reshape(5, 2) + 1
    opt.zero_grad()
    _, d = tl.cross_entropy(m.forward(ids), np.array([0, 2]))
    m.backward(d)
    assert np.any(grad != 0)          # gradients arrived in the old view
    before = flat.copy()
    opt.step()
    assert not np.array_equal(flat, before)  # and the step wrote through it
    ck = tl.checkpoint.Checkpoint.from_model(m)
    ck.load_into(m)
    m.set_param("fc.bias", [1.0, 2.0, 3.0])
    assert np.array_equal(m.param_view("fc.bias"), [1.0, 2.0, 3.0])
    m.reset_state()
    m.zero_grad()
    assert not np.any(grad)
    assert (_address(flat), _address(grad)) == where
    fc[0, 0] = 7.0
    assert m.param("fc.weight")[0, 0] == 7.0


def test_tying_to_a_model_with_views_is_allowed():
    """add_decoder(tie=other) changes this model only: views of the other
    model stay valid, and a view of this model still refuses."""
    enc = tl.Model(seed=3)
    enc.add_embedding("emb", 10, 4)
    v = enc.param_view("emb.weight")
    lm = tl.Model(seed=4)
    lm.add_linear("fc", 4, 4)
    lm.add_decoder("dec", 4, 10, tie=enc, tie_layer="emb")
    v[...] = 0.25
    assert np.all(enc.param("emb.weight") == 0.25)
    w = lm.flat_params()
    with pytest.raises(tl.StateError, match="views"):
        lm.add_decoder("dec2", 10, 10, tie=enc, tie_layer="emb")
    del w
