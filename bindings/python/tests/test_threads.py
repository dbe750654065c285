"""Threads: libtl's calls release the GIL (ctypes.CDLL, not PyDLL), and two
Python threads training two models at once get bit for bit what training
them one after the other gets (each model owns its RNG stream, buffers and
optimizer; libtl keeps no shared mutable state between handles)."""
import ctypes
import threading

import numpy as np

import tl
from tl import _native


def test_calls_release_the_gil():
    # A PyDLL (FUNCFLAG_PYTHONAPI) would hold the GIL through every call.
    assert isinstance(_native.lib, ctypes.CDLL)
    assert not isinstance(_native.lib, ctypes.PyDLL)
    assert not _native.lib._func_flags_ & ctypes._FUNCFLAG_PYTHONAPI


def _build(seed):
    m = tl.Model(seed=seed)
    m.add_embedding("emb", 50, 8, padding_idx=0, embed_p=0.1)
    m.add_lstm("rnn", 8, 16, num_layers=2, weight_p=0.2, input_p=0.1,
               hidden_p=0.1, output_p=0.1, ar_alpha=1.0, tar_beta=1.0)
    m.add_concat_pool("pool")
    m.add_linear("head", 48, 3)
    opt = tl.Optimizer(m, "adamw", lr=1e-2, weight_decay=0.01)
    sched = tl.Schedule.stlr(1e-2, total_steps=STEPS)
    return m, opt, sched


STEPS = 12


def _data(seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 50, size=(STEPS, 10, 6))  # step, T, B
    labels = rng.integers(0, 3, size=(STEPS, 6))
    return ids, labels


def _train(seed, barrier=None):
    """Trains one model; with a barrier, waits for the other thread at
    every step so that the two really run their steps side by side."""
    m, opt, sched = _build(seed)
    ids, labels = _data(seed)
    losses = []
    m.train()
    for s in range(STEPS):
        if barrier is not None:
            barrier.wait()
        opt.set_lrs([sched.lr(s)] * opt.num_groups)
        opt.zero_grad()
        logits = m.forward(ids[s])
        loss, d = tl.cross_entropy(logits, labels[s])
        m.backward(d)
        opt.clip_grad_norm(1.0)
        opt.step()
        losses.append(loss)
    m.eval()
    out = m.forward(ids[0])
    params = m.flat_params().copy()
    state = opt.state_dict()
    return losses, out, params, state


def test_two_threads_train_two_models_bit_identically():
    seeds = (3, 4)
    sequential = [_train(s) for s in seeds]
    # The two models differ (otherwise the comparison below proves little).
    assert not np.array_equal(sequential[0][2][:100], sequential[1][2][:100])

    results = [None, None]
    errors = []
    barrier = threading.Barrier(2)

    def run(i):
        try:
            results[i] = _train(seeds[i], barrier)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for got, want in zip(results, sequential):
        assert got[0] == want[0]                      # losses, as floats
        assert np.array_equal(got[1], want[1])        # eval output
        assert got[2].tobytes() == want[2].tobytes()  # parameters, bit for bit
        assert got[3] == want[3]                      # optimizer state


def test_errors_stay_in_their_thread():
    """tl_last_error is per thread: a failing call in one thread does not
    change the message another thread's failure carries."""
    messages = {}
    barrier = threading.Barrier(2)

    def fail(i):
        m = tl.Model()
        m.add_linear("fc", 3, 2)
        barrier.wait()
        for _ in range(200):
            try:
                if i == 0:
                    m.layer_index("no-such-layer")
                else:
                    m.forward(np.zeros((4, 5), np.float32))
            except tl.Error as exc:
                messages.setdefault(i, set()).add(type(exc).__name__ + ": " + str(exc))

    threads = [threading.Thread(target=fail, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(messages[0]) == 1 and len(messages[1]) == 1
    (m0,), (m1,) = messages[0], messages[1]
    assert m0.startswith("NotFoundError") and "no-such-layer" in m0
    assert m1.startswith("ShapeError")
