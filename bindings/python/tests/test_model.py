"""tl.Model and tl.Optimizer through ctypes: numpy references in the default
path, torch cross-checks when torch is installed (importorskip)."""
import gc

import numpy as np
import pytest

import tl


def linear_stack(seed=0):
    m = tl.Model(seed=seed)
    m.add_linear("l0", 5, 7, activation="relu")
    m.add_linear("l1", 7, 3)
    return m


def numpy_forward(p, x):
    h = np.maximum(x @ p["l0.weight"].T + p["l0.bias"], 0)
    return h @ p["l1.weight"].T + p["l1.bias"], h


def test_names_groups_and_views():
    m = tl.Model(seed=0)
    m.add_embedding("emb", 10, 4, padding_idx=0)
    m.add_lstm("rnn", input_size=4, hidden_size=5, num_layers=2)
    m.add_linear("fc", 5, 3)
    assert m.param_names() == [
        "emb.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
        "rnn.bias_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1",
        "rnn.bias_ih_l1", "rnn.bias_hh_l1", "fc.weight", "fc.bias"]
    assert m.layer_names() == ["emb", "rnn", "fc"]
    assert m.num_groups == 3
    p = m.params()
    assert p["rnn.weight_ih_l1"].shape == (20, 5)
    assert p["emb.weight"].dtype == np.float32
    assert np.all(p["emb.weight"][0] == 0)  # padding row
    # views share memory with the flat buffer, and writes go through
    flat = m.flat_params()
    assert np.shares_memory(p["fc.bias"], flat)
    p["fc.bias"][:] = [1, 2, 3]
    assert np.all(m.params()["fc.bias"] == [1, 2, 3])
    assert flat.size == sum(v.size for v in p.values())
    m.set_group("rnn", 0)
    assert m.num_groups == 3 and m.group_of("rnn") == 0


def test_linear_stack_matches_numpy():
    m = linear_stack()
    p = m.params()
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    y = m.forward(x)
    want, h = numpy_forward(p, x)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    dy = np.ones_like(y)
    dx = m.backward(dy)
    g = m.grads()
    np.testing.assert_allclose(g["l1.weight"], dy.T @ h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g["l1.bias"], dy.sum(0), rtol=1e-5)
    dh = (dy @ p["l1.weight"]) * (h > 0)
    np.testing.assert_allclose(dx, dh @ p["l0.weight"], rtol=1e-5, atol=1e-6)
    m.zero_grad()
    assert not m.flat_grads().any()


def test_freezing_and_sgd_step():
    m = linear_stack()
    m.freeze()
    assert not m.group_trainable(0) and m.group_trainable(1)
    before = {k: v.copy() for k, v in m.params().items()}
    x = np.ones((2, 5), dtype=np.float32)
    y = m.forward(x)
    m.backward(np.ones_like(y), input_grad=False)
    assert not m.grads()["l0.weight"].any()  # frozen: no gradient work
    opt = tl.Optimizer(m, "sgd", lr=0.1)
    opt.step()
    after = m.params()
    assert np.array_equal(after["l0.weight"], before["l0.weight"])
    np.testing.assert_allclose(
        after["l1.bias"], before["l1.bias"] - 0.1 * m.grads()["l1.bias"],
        rtol=1e-6)
    m.unfreeze()
    assert m.group_trainable(0)
    m.freeze_to(2)
    with pytest.raises(tl.StateError, match="nothing is trainable"):
        opt.step()


def test_discriminative_lrs_and_groups():
    m = linear_stack()
    opt = tl.Optimizer(m, "adam", lr=1e-3, betas=(0.9, 0.99), eps=1e-5,
                       weight_decay=0.0)
    assert opt.num_groups == 2
    opt.set_lrs(tl.lrs_factor(2, 1e-2, 2.6))
    assert opt.group_lr(1) == pytest.approx(1e-2)
    assert opt.group_lr(0) == pytest.approx(1e-2 / 2.6)
    assert tl.lrs_even(3, 1e-4, 1e-2) == pytest.approx([1e-4, 1e-3, 1e-2])
    assert tl.lrs_slice(3, 1e-2) == pytest.approx([1e-3, 1e-3, 1e-2])
    opt.set_group(0, momentum=0.8)
    assert opt.get_group(0, "beta1") == pytest.approx(0.8)


def test_bad_input_raises_with_the_message():
    m = linear_stack()
    with pytest.raises(tl.ShapeError, match="needs 5 input features"):
        m.forward(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(tl.NumericError, match="not finite"):
        m.forward(np.full((2, 5), np.nan, dtype=np.float32))
    with pytest.raises(tl.NotFoundError, match="zz"):
        m.set_param_trainable("zz", False)
    with pytest.raises(tl.StateError, match="already exists"):
        m.add_linear("l0", 3, 3)
    with pytest.raises(tl.StateError):
        m.backward(np.zeros((2, 3), dtype=np.float32))  # no forward yet
    y = m.forward(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(tl.NumericError, match="dy"):
        m.backward(np.full_like(y, np.inf))
    opt = tl.Optimizer(m, "sgd", lr=0.1)
    m.flat_grads()[0] = np.nan
    before = m.flat_params().copy()
    with pytest.raises(tl.NumericError):
        opt.step()
    assert np.array_equal(before, m.flat_params())
    with pytest.raises(ValueError):
        tl.Optimizer(m, "rmsprop")
    with pytest.raises(tl.InvalidArgumentError, match="momentum"):
        tl.Optimizer(m, "sgd", momentum=1.5)


def test_lifetimes_views_and_optimizer_keep_the_model_alive():
    m = linear_stack()
    p = m.params()["l1.bias"]
    m.close()  # a view is alive: memory stays valid
    p[:] = 3.0
    assert np.all(p == 3.0)
    with pytest.raises(tl.StateError, match="closed"):
        m.forward(np.zeros((1, 5), dtype=np.float32))
    del p, m
    gc.collect()
    with linear_stack() as m2:
        opt = tl.Optimizer(m2, "adamw", lr=1e-3)
    del m2
    gc.collect()
    opt.zero_grad()
    opt.step()  # the model is still alive inside the optimizer
    opt.close()


def test_optimizer_state_round_trip():
    m = linear_stack()
    opt = tl.Optimizer(m, "adam", lr=1e-2)
    m.flat_grads()[:] = 0.5
    opt.step()
    state = opt.state_dict()
    assert opt.step_count == 1
    opt.reset_state()
    assert opt.step_count == 0
    opt.load_state_dict(state)
    assert opt.step_count == 1
    with pytest.raises(tl.FormatError):
        opt.load_state_dict(b"nonsense" * 10)


def test_feature_extraction_then_head_on_cached_features():
    enc = linear_stack()
    enc.set_mode("feature_extract")
    x = np.random.default_rng(1).standard_normal((8, 5)).astype(np.float32)
    feats = enc.forward(x)  # computed once, cached by the host
    with pytest.raises(tl.StateError):
        enc.backward(np.zeros_like(feats))
    head = tl.Model(seed=1)
    head.add_linear("out", 3, 2)
    opt = tl.Optimizer(head, "sgd", lr=0.5)
    target = np.array([0, 1] * 4)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        logits = head.forward(feats)
        loss, d = tl.cross_entropy(logits, target)
        head.backward(d, input_grad=False)
        opt.step()
        losses.append(loss)
    assert losses[-1] < losses[0]


def test_matches_torch_embedding_lstm_linear():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    emb = torch.nn.Embedding(9, 4)
    lstm = torch.nn.LSTM(4, 6, 2)
    fc = torch.nn.Linear(6, 3)
    m = tl.Model(seed=0)
    m.add_embedding("emb", 9, 4)
    m.add_lstm("rnn", input_size=4, hidden_size=6, num_layers=2)
    m.add_linear("fc", 6, 3)
    p = m.params()
    for name, mod in (("emb", emb), ("rnn", lstm), ("fc", fc)):
        for k, v in mod.named_parameters():
            p[name + "." + k][...] = v.detach().numpy()
    ids = np.random.default_rng(2).integers(0, 9, (5, 3))
    y = m.forward(ids)
    ty = fc(lstm(emb(torch.from_numpy(ids)))[0])
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dy = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
    m.backward(dy)
    (ty * torch.from_numpy(dy)).sum().backward()
    g = m.grads()
    for name, mod in (("emb", emb), ("rnn", lstm), ("fc", fc)):
        for k, v in mod.named_parameters():
            np.testing.assert_allclose(g[name + "." + k], v.grad.numpy(),
                                       rtol=1e-4, atol=1e-6)


def test_adamw_matches_torch_for_five_steps():
    torch = pytest.importorskip("torch")
    m = linear_stack()
    params = [torch.tensor(v.copy(), requires_grad=True)
              for v in m.params().values()]
    topt = torch.optim.AdamW([{"params": params[:2], "lr": 1e-2},
                              {"params": params[2:], "lr": 3e-3}],
                             betas=(0.9, 0.99), eps=1e-5, weight_decay=0.1)
    opt = tl.Optimizer(m, "adamw", lr=1e-2, betas=(0.9, 0.99), eps=1e-5,
                       weight_decay=0.1)
    opt.set_group_lr(1, 3e-3)
    rng = np.random.default_rng(4)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape).astype(np.float32)
                 for p in params]
        for tp, gv, mg in zip(params, grads, m.grads().values()):
            tp.grad = torch.from_numpy(gv)
            mg[...] = gv
        topt.step()
        opt.step()
        for tp, mp in zip(params, m.params().values()):
            np.testing.assert_allclose(mp, tp.detach().numpy(), rtol=1e-5,
                                       atol=1e-7)


def test_decoder_tied_to_another_models_embedding():
    enc = tl.Model(seed=0)
    enc.add_embedding("emb", 7, 4)
    dec = tl.Model(seed=1)
    dec.add_decoder("dec", 4, 7, tie=enc, tie_layer="emb")
    assert dec.param_names() == ["dec.bias"]
    ids = np.array([[1, 2], [3, 4]])
    h = enc.forward(ids)
    y = dec.forward(h)
    w = enc.params()["emb.weight"]
    np.testing.assert_allclose(y, h @ w.T + dec.params()["dec.bias"],
                               rtol=1e-5, atol=1e-6)
    dy = np.ones_like(y)
    dh = dec.backward(dy)
    enc.backward(dh)
    # lookup gradient (rows of ids get dh) + decoder gradient (dy^T h)
    want = dy.reshape(-1, 7).T @ h.reshape(-1, 4)
    np.add.at(want, ids.ravel(), dh.reshape(-1, 4))
    np.testing.assert_allclose(enc.grads()["emb.weight"], want, rtol=1e-5,
                               atol=1e-6)
    enc.close()  # dec still holds enc in libtl: this stays valid
    dec.forward(h)


def test_element_mask_trains_only_new_rows():
    m = tl.Model(seed=0)
    m.add_embedding("emb", 6, 3)
    m.add_linear("fc", 3, 2)
    mask = np.zeros((6, 3), dtype=np.uint8)
    mask[4:] = 1  # rows of "new words"
    m.set_param_mask("emb.weight", mask)
    m.freeze_to(0)
    opt = tl.Optimizer(m, "adamw", lr=0.1, weight_decay=0.1)
    before = m.params()["emb.weight"].copy()
    y = m.forward(np.array([[0, 4], [5, 1]]))
    m.backward(np.ones_like(y))
    opt.step()
    after = m.params()["emb.weight"]
    assert np.array_equal(after[:4], before[:4])  # no update, no decay
    assert not np.allclose(after[4:], before[4:])


def test_concat_pool_lengths_and_eval_dropout():
    m = tl.Model(seed=0)
    m.add_concat_pool("pool")
    m.add_dropout("drop", 0.5)
    x = np.arange(2 * 3 * 2, dtype=np.float32).reshape(3, 2, 2)  # T=3, B=2
    m.set_lengths([3, 1])
    m.eval()
    y = m.forward(x)
    want0 = np.concatenate([x[2, 0], x[:3, 0].max(0), x[:3, 0].mean(0)])
    want1 = np.concatenate([x[0, 1], x[0, 1], x[0, 1]])
    np.testing.assert_allclose(y, np.stack([want0, want1]), rtol=1e-6)
    m.train()
    yt = m.forward(x)
    assert np.all((yt == 0) | np.isclose(yt, 2 * y))


def test_stateful_lstm_continues_across_windows():
    def build(stateful):
        m = tl.Model(seed=3)
        m.add_lstm("rnn", input_size=2, hidden_size=3, stateful=stateful)
        return m
    s, r = build(True), build(False)
    x = np.random.default_rng(5).standard_normal((6, 2, 2)).astype(np.float32)
    full = r.forward(x)
    np.testing.assert_allclose(np.concatenate([s.forward(x[:3]),
                                               s.forward(x[3:])]),
                               full, rtol=1e-5, atol=1e-6)
    s.reset_state()
    np.testing.assert_allclose(s.forward(x[:3]), full[:3], rtol=1e-5,
                               atol=1e-6)


def test_gru_names_stateful_windows_and_checkpoint(tmp_path):
    m = tl.Model(seed=4)
    m.add_gru("rnn", input_size=2, hidden_size=3, num_layers=2, stateful=True)
    m.add_linear("fc", 3, 2)
    assert m.param_names() == [
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
        "rnn.bias_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1",
        "rnn.bias_ih_l1", "rnn.bias_hh_l1", "fc.weight", "fc.bias"]
    assert m.param_shape("rnn.weight_hh_l1") == (9, 3)
    r = tl.Model(seed=4)  # same seed: same weights, stateless
    r.add_gru("rnn", 2, 3, num_layers=2)
    r.add_linear("fc", 3, 2)
    np.testing.assert_array_equal(m.flat_params(), r.flat_params())
    x = np.random.default_rng(6).standard_normal((6, 2, 2)).astype(np.float32)
    full = r.forward(x)
    np.testing.assert_allclose(np.concatenate([m.forward(x[:3]),
                                               m.forward(x[3:])]),
                               full, rtol=1e-5, atol=1e-6)
    # the carried h goes to the checkpoint and back
    m.reset_state()
    m.forward(x[:3])
    path = str(tmp_path / "gru.tlck")
    m.save(path)
    other = tl.Model(seed=9)
    other.add_gru("rnn", 2, 3, num_layers=2, stateful=True)
    other.add_linear("fc", 3, 2)
    other.load(path)
    np.testing.assert_allclose(other.forward(x[3:]), full[3:], rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(tl.InvalidArgumentError, match="num_layers"):
        tl.Model().add_gru("g", 2, 3, num_layers=0)
    with pytest.raises(tl.InvalidArgumentError, match="hidden_p"):
        tl.Model().add_gru("g", 2, 3, hidden_p=1.5)
    # the dropouts act in train mode only
    d = tl.Model(seed=4)
    d.add_gru("rnn", 2, 3, num_layers=2, weight_p=0.5, hidden_p=0.5)
    d.add_linear("fc", 3, 2)
    assert not np.allclose(d.forward(x), full, atol=1e-4)
    d.eval()
    np.testing.assert_allclose(d.forward(x), full, rtol=1e-5, atol=1e-6)


def test_gru_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    gru = torch.nn.GRU(4, 5, 2)
    m = tl.Model(seed=0)
    m.add_gru("rnn", input_size=4, hidden_size=5, num_layers=2)
    p = m.params()
    for k, v in gru.named_parameters():
        p["rnn." + k][...] = v.detach().numpy()
    x = np.random.default_rng(2).standard_normal((5, 3, 4)).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_()
    y = m.forward(x)
    ty = gru(xt)[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dy = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
    dx = m.backward(dy)
    (ty * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    g = m.grads()
    for k, v in gru.named_parameters():
        np.testing.assert_allclose(g["rnn." + k], v.grad.numpy(), rtol=1e-4,
                                   atol=1e-6)


# ---- lookups, copies, views, modes, row masks, accuracy ---------------------

def test_layer_and_param_indices():
    m = tl.Model(seed=0)
    m.add_embedding("emb", 10, 4)
    m.add_lstm("rnn", 4, 5)
    m.add_linear("fc", 5, 3)
    assert [m.layer_index(n) for n in ("emb", "rnn", "fc")] == [0, 1, 2]
    names = m.param_names()
    assert [m.param_index(n) for n in names] == list(range(len(names)))
    assert m.param_index("fc.bias") == 6
    with pytest.raises(tl.NotFoundError,
                       match="tl_model_layer_index: no layer named 'nope'"):
        m.layer_index("nope")
    with pytest.raises(tl.NotFoundError,
                       match="tl_model_param_index: no parameter named 'fc'"):
        m.param_index("fc")  # a layer, not a parameter


def test_mode_property():
    m = linear_stack()
    assert m.mode == "fine_tune" and m.training
    m.mode = "feature_extract"
    assert m.mode == "feature_extract" and not m.training
    with pytest.raises(tl.StateError):
        m.train()  # refused in feature extraction
    m.set_mode("fine_tune")
    assert m.mode == "fine_tune" and not m.training  # back in eval mode
    with pytest.raises(ValueError, match="fine_tune"):
        m.mode = "frozen"
    assert m.mode == "fine_tune"


def test_param_copy_and_set_param():
    m = linear_stack()
    w = m.param("l1.weight")
    assert w.shape == (3, 7) and w.dtype == np.float32
    np.testing.assert_array_equal(w, m.params()["l1.weight"])
    assert not np.shares_memory(w, m.flat_params())
    w[:] = 9.0  # a copy: the model does not see it
    assert not np.any(m.params()["l1.weight"] == 9.0)

    rng = np.random.default_rng(1)
    new = {"l0.weight": rng.standard_normal((7, 5)),  # float64: converted
           "l0.bias": rng.standard_normal(7).astype(np.float32),
           "l1.weight": rng.standard_normal((3, 7)).tolist(),  # nested lists
           "l1.bias": np.array([0.5, -1.0, 2.0], np.float32)}
    for name, value in new.items():
        m.set_param(name, value)
    p = {k: np.asarray(v, np.float32) for k, v in new.items()}
    for name in new:
        np.testing.assert_array_equal(m.param(name), p[name])
    x = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(m.forward(x), numpy_forward(p, x)[0],
                               rtol=1e-5, atol=1e-5)

    before = m.param("l1.bias")
    with pytest.raises(tl.ShapeError,
                       match="tl_model_param_set: n = 4 but 'l1.bias' has 3"):
        m.set_param("l1.bias", np.zeros(4))
    with pytest.raises(tl.ShapeError, match=r"shape \(3, 7\).*\(7, 3\)"):
        m.set_param("l1.weight", np.zeros((7, 3)))  # right size, transposed
    with pytest.raises(tl.NumericError, match=r"values\[1\] is not finite"):
        m.set_param("l1.bias", [1.0, np.nan, 2.0])
    with pytest.raises(tl.NotFoundError, match="no parameter named 'zz'"):
        m.set_param("zz", [1.0])
    with pytest.raises(tl.NotFoundError, match="no parameter named 'zz'"):
        m.param("zz")
    np.testing.assert_array_equal(m.param("l1.bias"), before)


def test_param_and_grad_views_share_memory_and_keep_the_model_alive():
    m = linear_stack()
    flat = m.flat_params()
    v = m.param_view("l1.weight")
    assert v.shape == (3, 7) and np.shares_memory(v, flat)
    np.testing.assert_array_equal(v, m.params()["l1.weight"])
    v[0, 0] = 4.5  # writes go through
    assert m.param("l1.weight")[0, 0] == 4.5

    y = m.forward(np.ones((2, 5), np.float32))
    m.backward(np.ones_like(y), input_grad=False)
    g = m.grad_view("l1.bias")
    assert np.shares_memory(g, m.flat_grads())
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])  # sum of dy over B
    with pytest.raises(tl.NotFoundError,
                       match="tl_model_param_view: no parameter named 'x'"):
        m.grad_view("x")

    b = m.param_view("l0.bias")
    del flat, v, g
    m.close()
    del m
    gc.collect()
    b[:] = 1.25  # the view still owns live model memory
    assert np.all(b == 1.25)


def _embedding_model(seed=0):
    m = tl.Model(seed=seed)
    m.add_embedding("emb", 6, 3)
    m.add_linear("fc", 3, 2)
    return m


def _adamw_steps(m, steps=3):
    opt = tl.Optimizer(m, "adamw", lr=0.1, weight_decay=0.1)
    for _ in range(steps):
        opt.zero_grad()
        y = m.forward(np.array([[0, 4], [5, 1], [2, 3]]))
        m.backward(np.ones_like(y))
        opt.step()


def test_row_mask_trains_only_the_rows_it_marks():
    rows = np.array([False, False, False, False, True, True])  # new words
    a = _embedding_model()
    a.set_row_mask("emb.weight", rows)
    before = a.param("emb.weight")
    _adamw_steps(a)
    after = a.param("emb.weight")
    np.testing.assert_array_equal(after[:4], before[:4])  # no update, no decay
    assert np.all(np.abs(after[4:] - before[4:]) > 1e-3)

    # The same as the element mask it stands for, to the last bit.
    b = _embedding_model()
    b.set_param_mask("emb.weight", np.repeat(rows[:, None], 3, axis=1))
    _adamw_steps(b)
    np.testing.assert_array_equal(b.param("emb.weight"), after)

    # None removes the mask: every row moves (weight decay at least).
    c = _embedding_model()
    c.set_row_mask("emb.weight", rows)
    c.set_row_mask("emb.weight", None)
    start = c.param("emb.weight")
    _adamw_steps(c)
    assert np.all(np.any(c.param("emb.weight") != start, axis=1))

    with pytest.raises(tl.ShapeError, match="has 6 rows, n_rows is 5"):
        c.set_row_mask("emb.weight", rows[:5])
    with pytest.raises(tl.InvalidArgumentError, match="one-dimensional"):
        c.set_row_mask("emb.weight", rows[:, None])
    with pytest.raises(tl.NotFoundError,
                       match="tl_model_set_row_mask: no parameter named 'x'"):
        c.set_row_mask("x", rows)


def test_accuracy_matches_numpy():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((50, 7)).astype(np.float32)
    targets = rng.integers(0, 7, size=50)
    targets[::5] = logits.argmax(1)[::5]  # make sure several are right
    targets[3::9] = -100
    keep = targets != -100
    want = np.mean(logits.argmax(1)[keep] == targets[keep])
    assert 0.2 < want < 1.0
    assert tl.accuracy(logits, targets) == pytest.approx(want, abs=1e-7)
    # another ignore_index: those rows count as wrong under -100
    t2 = np.where(targets == -100, 6, targets)
    assert tl.accuracy(logits, t2, ignore_index=6) == pytest.approx(
        np.mean(logits.argmax(1)[t2 != 6] == t2[t2 != 6]), abs=1e-7)
    # ties go to the first maximum; all rows ignored gives 0
    tied = np.zeros((2, 3), np.float32)
    assert tl.accuracy(tied, [0, 1]) == 0.5
    assert tl.accuracy(tied, [-100, -100]) == 0.0


def test_loss_functions_reject_bad_input_with_the_message():
    lg = np.zeros((2, 3), np.float32)
    with pytest.raises(tl.InvalidArgumentError,
                       match=r"tl_accuracy: targets\[1\] = 3 is outside"):
        tl.accuracy(lg, [0, 3])
    with pytest.raises(tl.NumericError, match="tl_accuracy: logits"):
        tl.accuracy(np.full((2, 3), np.inf), [0, 1])
    for fn in (tl.accuracy, tl.cross_entropy):
        # libtl reads n targets: a short array is refused before the call
        with pytest.raises(tl.ShapeError, match=r"targets must have shape \(2,\)"):
            fn(lg, [0])
        with pytest.raises(tl.ShapeError, match=r"logits must be \(n, c\)"):
            fn(np.zeros(3), [0])


# ---- optimizer group rates ---------------------------------------------------

def test_group_lr_drives_the_sgd_step():
    m = linear_stack()
    opt = tl.Optimizer(m, "sgd", lr=0.1)
    opt.set_group_lr(1, 0.5)
    assert opt.group_lr(0) == 0.1 and opt.group_lr(1) == 0.5
    assert opt.get_group(1, "lr") == 0.5  # one hyperparameter, two views
    before = {k: v.copy() for k, v in m.params().items()}
    y = m.forward(np.ones((2, 5), np.float32))
    m.backward(np.ones_like(y), input_grad=False)
    opt.step()
    g = m.grads()
    np.testing.assert_allclose(m.param("l0.weight"),
                               before["l0.weight"] - 0.1 * g["l0.weight"],
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m.param("l1.weight"),
                               before["l1.weight"] - 0.5 * g["l1.weight"],
                               rtol=1e-6, atol=1e-7)
    with pytest.raises(tl.InvalidArgumentError,
                       match=r"group 2 out of range \(2 groups\)"):
        opt.set_group_lr(2, 0.1)
    with pytest.raises(tl.InvalidArgumentError, match="group 2 out of range"):
        opt.group_lr(2)
    with pytest.raises(tl.InvalidArgumentError, match="lr must be >= 0"):
        opt.set_group_lr(0, -1.0)
    with pytest.raises(tl.InvalidArgumentError, match="lr is not finite"):
        opt.set_group_lr(0, float("nan"))
    assert opt.group_lr(0) == 0.1  # unchanged by the failures


def test_adding_a_layer_while_views_are_alive_is_refused():
    # tl_model_add_* moves the flat buffers; a live view would dangle.
    m = tl.Model(seed=0)
    m.add_linear("l0", 3, 4)
    p = m.params()
    w = p["l0.weight"][1:]  # a view of a view keeps the buffer alive too
    del p
    with pytest.raises(tl.StateError, match="views"):
        m.add_linear("l1", 4, 2)
    assert m.layer_names() == ["l0"]
    del w
    g = m.grads()["l0.bias"].copy()  # copies do not count
    m.add_linear("l1", 4, 2)
    assert m.layer_names() == ["l0", "l1"]
    assert g.shape == (4,)
    m.params()["l1.bias"][:] = 1.0  # fresh views see the moved buffers
    assert np.all(m.params()["l1.bias"] == 1.0)


def test_layout_text_and_fingerprint_match_the_c_suite():
    # tests/model/layout.c's model and text; the hash is FNV-1a 64 of it.
    m = tl.Model(seed=0)
    m.add_embedding("emb", 11, 6)
    m.add_lstm("rnn", 6, 6)
    m.add_dropout("drop", 0.1, kind="locked")
    m.add_decoder("dec", 6, 11, tie=m, tie_layer="emb")
    m.set_group("drop", 1)
    m.set_group("dec", 1)
    text = m.layout_text()
    assert text.splitlines()[:2] == [
        "tl-layout 1", "layer 0 emb embedding group 0 in 0 out 6"]
    assert text.endswith("layer 3 dec decoder group 1 in 6 out 11 tied\n"
                         "param dec.bias f32 [11] offset 402\n")
    h = 0xcbf29ce484222325
    for c in text.encode():
        h = ((h ^ c) * 0x100000001b3) % 2**64
    assert m.layout_fingerprint() == h == 0xb890dbfbd477a261
    other = tl.Model(seed=5)
    other.add_embedding("emb", 11, 6)
    assert other.layout_fingerprint() != h
