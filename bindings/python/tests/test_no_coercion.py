"""No silent coercion at the binding's edge (tl/_check.py): a NUL inside a
name, an integer that would wrap in its C type, a float where an integer
is meant and a bool where a count is meant all raise
tl.InvalidArgumentError naming the argument, and libtl is not called."""
import numpy as np
import pytest

import tl
from tl import metrics
from tl.checkpoint import Checkpoint


def _clf():
    m = tl.Model(seed=0)
    m.add_lstm("rnn", 3, 4)
    m.add_concat_pool("pool")
    m.add_linear("fc", 12, 2)
    return m


# ---- the cases the issue names ------------------------------------------

def test_a_name_with_a_nul_is_refused_not_truncated():
    m = tl.Model()
    with pytest.raises(tl.InvalidArgumentError, match="name contains a NUL"):
        m.add_linear("a\x00b", 2, 2)
    assert m.layer_names() == []  # no layer "a"
    m.add_linear("a", 2, 2)
    with pytest.raises(tl.InvalidArgumentError, match="layer contains a NUL"):
        m.set_group("a\x00b", 0)


def test_set_lengths_checks_every_element():
    m = _clf()
    with pytest.raises(tl.InvalidArgumentError,
                       match=r"set_lengths: lengths\[0\] must not be negative "
                             r"\(got -1\)"):
        m.set_lengths([-1])
    with pytest.raises(tl.InvalidArgumentError,
                       match=r"lengths\[1\] .*18446744073709551616") as e:
        m.set_lengths([1, 2**64])
    assert "got 0" not in str(e.value)
    with pytest.raises(tl.InvalidArgumentError, match=r"lengths\[0\] .*1.5"):
        m.set_lengths([1.5, 2])
    with pytest.raises(tl.InvalidArgumentError, match="lengths must hold integers"):
        m.set_lengths(np.array([1.0, 2.0]))
    with pytest.raises(tl.InvalidArgumentError, match=r"lengths\[1\] must not be negative"):
        m.set_lengths(np.array([1, -3], dtype=np.int32))
    with pytest.raises(tl.InvalidArgumentError, match=r"lengths\[0\] is bool"):
        m.set_lengths([True, 2])
    # Integral values of any integer type are taken as they are.
    x = np.random.default_rng(0).standard_normal((3, 2, 3)).astype(np.float32)
    m.eval()
    m.set_lengths([3, 2])
    want = m.forward(x)
    for lengths in ([np.int64(3), np.uint8(2)], np.array([3, 2], np.uint16),
                    (3, 2)):
        m.set_lengths(lengths)
        np.testing.assert_array_equal(m.forward(x), want)
    m.set_lengths(None)
    assert not np.array_equal(m.forward(x), want)  # the lengths mattered


def test_floats_are_not_truncated_to_integers():
    m = tl.Model()
    with pytest.raises(tl.InvalidArgumentError,
                       match=r"add_linear: in_features must be an integer "
                             r"\(got float 3.7\)"):
        m.add_linear("fc", 3.7, 2)
    assert m.layer_names() == []
    m.add_linear("fc", 3, 2)
    m.add_linear("fc2", 2, 2)
    with pytest.raises(tl.InvalidArgumentError,
                       match=r"set_group: group must be an integer "
                             r"\(got float 0.5\)"):
        m.set_group("fc2", 0.5)
    assert m.group_of("fc2") == 1  # unchanged, not group 0
    # numpy integers and 0-d integral arrays are integers.
    m.set_group("fc2", np.int64(0))
    assert m.group_of("fc2") == 0
    m.set_group("fc2", np.array(1, dtype=np.uint32))
    assert m.group_of("fc2") == 1
    m.add_linear("fc3", np.int16(2), np.array(2))
    assert m.param_shape("fc3.weight") == (2, 2)


# ---- sweeps over the API --------------------------------------------------

def _optim():
    m = tl.Model()
    m.add_linear("fc", 2, 2)
    return tl.Optimizer(m, "adam")


def _emb_model():
    m = tl.Model()
    m.add_embedding("emb", 5, 2)
    return m


_LOGITS = np.zeros((2, 3), np.float32)


def _ckpt(**attrs):
    ck = Checkpoint({"w": np.zeros(2, np.float32)})
    for k, v in attrs.items():
        setattr(ck, k, v)
    return ck

# (call with one bad integer argument, the argument's name in the message)
_INTEGER_ARGS = [
    (lambda v: tl.Model(seed=v), "seed"),
    (lambda v: tl.Model().add_embedding("e", v, 4), "num_embeddings"),
    (lambda v: tl.Model().add_embedding("e", 10, v), "dim"),
    (lambda v: tl.Model().add_embedding("e", 10, 4, padding_idx=v), "padding_idx"),
    (lambda v: tl.Model().add_lstm("r", v, 4), "input_size"),
    (lambda v: tl.Model().add_lstm("r", 4, v), "hidden_size"),
    (lambda v: tl.Model().add_lstm("r", 4, 4, num_layers=v), "num_layers"),
    (lambda v: tl.Model().add_linear("f", v, 2), "in_features"),
    (lambda v: tl.Model().add_linear("f", 2, v), "out_features"),
    (lambda v: tl.Model().add_decoder("d", v, 2), "in_features"),
    (lambda v: tl.Model().add_decoder("d", 2, v), "out_features"),
    (lambda v: _clf().set_group("fc", v), "group"),
    (lambda v: _clf().freeze_to(v), "n"),
    (lambda v: _clf().set_group_trainable(v, True), "group"),
    (lambda v: _clf().group_trainable(v), "group"),
    (lambda v: _clf().set_lengths([v]), "lengths"),
    (lambda v: _emb_model().forward([[v]]), "ids"),
    (lambda v: tl.cross_entropy(_LOGITS, [0, v]), "targets"),
    (lambda v: tl.cross_entropy(_LOGITS, [0, 1], ignore_index=v), "ignore_index"),
    (lambda v: tl.accuracy(_LOGITS, [v, 1]), "targets"),
    (lambda v: tl.accuracy(_LOGITS, [0, 1], ignore_index=v), "ignore_index"),
    (lambda v: _optim().set_group(v, lr=0.1), "group"),
    (lambda v: _optim().get_group(v, "lr"), "group"),
    (lambda v: _optim().set_group_lr(v, 0.1), "group"),
    (lambda v: _optim().group_lr(v), "group"),
    (lambda v: _optim().freeze_to(v), "n"),
    (lambda v: _optim().set_group_trainable(v, True), "group"),
    (lambda v: tl.lrs_even(v, 0.1, 1.0), "n"),
    (lambda v: tl.lrs_slice(v, 1.0), "n"),
    (lambda v: tl.lrs_factor(v, 1.0), "n"),
    (lambda v: tl.set_num_threads(v), "n"),
    (lambda v: tl.Schedule.cosine(0.1, 10).lr(v), "step"),
    (lambda v: tl.Schedule.cosine(0.1, v), "t_max"),
    (lambda v: tl.Plan(v), "n_groups"),
    (lambda v: tl.Plan(2).add_stage(tl.Schedule.constant(0.1), v), "steps"),
    (lambda v: tl.Plan(2).add_stage(tl.Schedule.constant(0.1), 5,
                                    freeze_to=v), "freeze_to"),
    (lambda v: tl.Plan(2).add_stage(tl.Schedule.constant(0.1), 5,
                                    only_group=v), "only_group"),
    (lambda v: _ckpt(groups={"w": v}).to_bytes(), "groups"),
    (lambda v: Checkpoint(step=v).to_bytes(), "step"),
    (lambda v: _ckpt(optim_state=(v, b"x")).to_bytes(), "subkind"),
    (lambda v: _ckpt(rng_state=(v, b"x")).to_bytes(), "subkind"),
    (lambda v: Checkpoint.from_bytes(Checkpoint().to_bytes(), max_size=v),
     "max_size"),
    (lambda v: metrics.sliced_directions(v, 3), "k"),
    (lambda v: metrics.sliced_directions(2, v), "d"),
    (lambda v: metrics.sliced_directions(2, 3, seed=v), "seed"),
    (lambda v: metrics.sinkhorn(None, None, np.ones((2, 2)), 1.0, max_iter=v),
     "max_iter"),
    (lambda v: metrics.term_distribution([0, 1], v), "vocab_size"),
    (lambda v: metrics.term_distribution([0, v], 3), "ids"),
    (lambda v: metrics.pca_fit(np.eye(3), v), "k"),
]


@pytest.mark.parametrize("bad", [2.0, 0.5, True, "1", np.float32(1.0),
                                 np.array([1.5])],
                         ids=["float2", "float0.5", "bool", "str", "float32",
                              "array1d"])
@pytest.mark.parametrize("call,arg", _INTEGER_ARGS,
                         ids=["%d-%s" % (i, a) for i, (_, a) in
                              enumerate(_INTEGER_ARGS)])
def test_non_integers_are_refused_everywhere(call, arg, bad):
    with pytest.raises(tl.InvalidArgumentError, match=r"\b%s\b" % arg):
        call(bad)


@pytest.mark.parametrize("bad", [-1, 2**64, -2**63 - 1, 2**70],
                         ids=["minus1", "2**64", "below_int64", "2**70"])
@pytest.mark.parametrize("call,arg", _INTEGER_ARGS,
                         ids=["%d-%s" % (i, a) for i, (_, a) in
                              enumerate(_INTEGER_ARGS)])
def test_out_of_range_integers_are_refused_everywhere(call, arg, bad):
    # -1 is valid for a few signed arguments (padding_idx, freeze_to,
    # ignore_index, targets, ids...); libtl then judges it, never as a
    # wrapped value.
    try:
        call(bad)
    except tl.Error as e:
        assert arg in str(e) or str(bad) in str(e), str(e)
        assert "got 0)" not in str(e) and "18446744073709551615)" not in str(e)
        return
    assert bad == -1, "%s = %d was accepted" % (arg, bad)


def _name_calls():
    m = _clf()
    m2 = tl.Model()
    m2.add_embedding("emb", 4, 2)
    ck = Checkpoint({"w": np.zeros(2, np.float32)})
    return [
        (lambda s: tl.Model().add_embedding(s, 3, 2), "name"),
        (lambda s: tl.Model().add_lstm(s, 3, 2), "name"),
        (lambda s: tl.Model().add_linear(s, 3, 2), "name"),
        (lambda s: tl.Model().add_dropout(s, 0.1), "name"),
        (lambda s: tl.Model().add_concat_pool(s), "name"),
        (lambda s: tl.Model().add_decoder(s, 2, 4), "name"),
        (lambda s: tl.Model().add_decoder("d", 2, 4, tie=m2, tie_layer=s),
         "tie_layer"),
        (lambda s: m.layer_index(s), "name"),
        (lambda s: m.set_group(s, 0), "layer"),
        (lambda s: m.group_of(s), "layer"),
        (lambda s: m.param_index(s), "name"),
        (lambda s: m.param_shape(s), "name"),
        (lambda s: m.param(s), "name"),
        (lambda s: m.param_view(s), "name"),
        (lambda s: m.set_param_trainable(s, True), "name"),
        (lambda s: m.set_param_mask(s, None), "name"),
        (lambda s: m.set_row_mask(s, None), "name"),
        (lambda s: Checkpoint({s: np.zeros(1, np.float32)}).to_bytes(),
         "tensor name"),
        (lambda s: Checkpoint(meta={s: "v"}).to_bytes(), "metadata key"),
        (lambda s: Checkpoint(meta={"k": s}).to_bytes(), "metadata value"),
        (lambda s: Checkpoint(vocab=["a", s]).to_bytes(), "vocabulary token"),
        (lambda s: ck.save(s), "path"),
        (lambda s: Checkpoint.load(s), "path"),
        (lambda s: m.save(s), "path"),
        (lambda s: m.load(s), "path"),
        (lambda s: m.save("/nonexistent/x.tlc", prefix=s), "prefix"),
        (lambda s: tl.checkpoint.load_model(m, "/nonexistent/x.tlc",
                                            name_map={"a": s}),
         "name_map value"),
    ]


def test_names_with_a_nul_are_refused_everywhere(tmp_path):
    bad = str(tmp_path / "a\x00b")
    for call, arg in _name_calls():
        with pytest.raises(tl.InvalidArgumentError,
                           match="%s contains a NUL" % arg):
            call(bad)
    # Nothing was written under the truncated name either.
    assert not (tmp_path / "a").exists()
    with pytest.raises(tl.InvalidArgumentError, match="path contains a NUL"):
        Checkpoint().save(bytes(tmp_path / "a") + b"\x00b")
    with pytest.raises(tl.InvalidArgumentError, match="name must be a str"):
        tl.Model().add_linear(b"fc", 2, 2)


def test_masks_are_nonzero_tests_not_byte_casts():
    m = tl.Model()
    m.add_linear("fc", 2, 2)
    # 256 and 0.5 are nonzero: trainable, not cast to the byte 0.
    m.set_param_mask("fc.weight", [[256, 0], [0.5, 1]])
    before = m.param("fc.weight")
    opt = tl.Optimizer(m, "sgd", lr=1.0)
    opt.zero_grad()
    m.forward(np.ones((1, 2), np.float32))
    m.backward(np.ones((1, 2), np.float32))
    opt.step()
    changed = m.param("fc.weight") != before
    np.testing.assert_array_equal(changed, [[True, False], [True, True]])
