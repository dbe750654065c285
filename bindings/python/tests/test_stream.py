"""Model.step (tl_model_step, tl_model_step_ids): streaming inference with
the state carried in the model, against one-step forwards of a stateful
twin bit for bit; the preallocated output, resets, the mode kept, errors."""
import numpy as np
import pytest

import tl


def _rnn(stateful, ids, kind="lstm"):
    m = tl.Model(seed=3)
    if ids:
        m.add_embedding("emb", 30, 6)
    add = m.add_lstm if kind == "lstm" else m.add_gru
    add("rnn", 6, 10, num_layers=2, hidden_p=0.4, stateful=stateful)
    m.add_linear("fc", 10, 4, "tanh")
    return m


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("batch", [1, 3])
def test_steps_equal_one_step_forwards_of_a_stateful_twin(kind, batch):
    rng = np.random.default_rng(batch)
    for ids in (True, False):
        m, ref = _rnn(False, ids, kind), _rnn(True, ids, kind)
        ref.eval()
        assert m.step_prepare(batch, None if ids else 6) == 4
        for t in range(5):
            if ids:
                x = rng.integers(0, 30, batch)
                got = m.step(int(x[0]) if batch == 1 else x)
                want = ref.forward(x.reshape(1, batch))
            else:
                x = rng.standard_normal((batch, 6)).astype(np.float32)
                got = m.step(x[0] if batch == 1 else x)
                want = ref.forward(x.reshape(1, batch, 6))
            assert got.shape == (batch, 4)
            assert np.array_equal(got, want[0])
        assert m.training  # the step ran in eval mode, the mode is kept


def test_the_output_is_preallocated_and_reset_restarts():
    m = _rnn(False, True)
    first = m.step(5).copy()  # prepares batch 1
    out = m.step(7)
    assert m.step(7) is out
    assert not np.array_equal(out, first)
    m.reset_state()
    assert np.array_equal(m.step(5), first)


def test_reset_row_restarts_one_sequence():
    m, ref = _rnn(False, True), _rnn(False, True)
    m.step_prepare(2)
    ref.step_prepare(2)
    for t in range(3):
        m.step([t, t + 1])
        ref.step([t, t + 1])
    m.reset_row(1)
    got, want = m.step([4, 5]).copy(), ref.step([4, 5]).copy()
    assert np.array_equal(got[0], want[0])
    fresh = _rnn(False, True)
    assert np.allclose(got[1], fresh.step(5)[0], rtol=1e-6, atol=1e-7)
    with pytest.raises(tl.InvalidArgumentError, match="row 2"):
        m.reset_row(2)


def test_bad_input_is_refused():
    m = _rnn(False, True)
    m.step_prepare(2)
    with pytest.raises(tl.ShapeError, match=r"shape \(2,\)"):
        m.step([1, 2, 3])
    with pytest.raises(tl.ShapeError, match="2 ids expected"):
        m.step(1)
    with pytest.raises(tl.InvalidArgumentError, match="integers"):
        m.step([1.5, 2.0])
    with pytest.raises(tl.InvalidArgumentError, match="outside"):
        m.step([1, 30])
    with pytest.raises(tl.InvalidArgumentError, match="in_features must be None"):
        m.step_prepare(1, 6)
    f = _rnn(False, False)
    with pytest.raises(tl.ShapeError, match="input features"):
        f.step_prepare(1, 5)
    f.step_prepare(1, 6)
    with pytest.raises(tl.ShapeError, match="1 x 6"):
        f.step(np.zeros(5, np.float32))
    with pytest.raises(tl.NumericError, match="not finite"):
        f.step(np.full(6, np.nan, np.float32))
    m.close()
    with pytest.raises(tl.ClosedError):
        m.step([1, 2])


def test_step_without_argument_reads_step_input():
    m, ref = _rnn(False, False), _rnn(False, False)
    with pytest.raises(tl.StateError, match="step_prepare"):
        m.step()
    assert m.step_input is None
    m.step_prepare(2, 6)
    ref.step_prepare(2, 6)
    x = np.random.default_rng(4).standard_normal((2, 6)).astype(np.float32)
    m.step_input[...] = x
    assert np.array_equal(m.step(), ref.step(x))
