"""tl.Learner: fastai's method names over tl_learner (include/tl/learn.h)."""
import csv
import math

import numpy as np
import pytest

import tl

V, E, H, T, B = 12, 6, 8, 5, 3


def batches(n, offset=0):
    rng = np.random.default_rng(7 + offset)
    out = []
    for _ in range(n):
        x = rng.integers(0, V, size=(T, B)).astype(np.int64)
        out.append((x, (x + 1) % V))
    return out


def lm_model(seed=3):
    m = tl.Model(seed=seed)
    m.add_embedding("emb", V, E)
    m.add_lstm("rnn", E, H)
    m.add_linear("fc", H, V)
    return m


def test_fit_equals_the_hand_loop_bit_for_bit():
    train, valid = batches(4), batches(2, 1)
    m = lm_model()
    learn = tl.Learner([m], train=train, valid=valid, metrics=["accuracy"])
    learn.fit(2, lr=[1e-3, 2e-3, 1e-2])
    h = lm_model()
    opt = tl.Optimizer(h, kind="adamw", lr=1e-3, betas=(0.9, 0.99), eps=1e-5,
                       weight_decay=0.01)
    opt.set_lrs([1e-3, 2e-3, 1e-2])
    for _ in range(2):
        h.train()
        for x, y in train:
            opt.zero_grad()
            out = h.forward(x)
            _, d = tl.cross_entropy(out.reshape(-1, V), y.ravel())
            h.backward(d.reshape(out.shape))
            opt.step()
    assert np.array_equal(m.flat_params(), h.flat_params())
    assert not np.array_equal(m.flat_params(), lm_model().flat_params())
    assert learn.recorder.metric_names == ["epoch", "train_loss", "valid_loss",
                                           "accuracy", "time"]
    assert len(learn.history) == 2
    assert [r["epoch"] for r in learn.history] == [0, 1]


def test_fit_one_cycle_slices_freezing_and_table(tmp_path):
    m = lm_model()
    learn = tl.Learner(m, train=batches(4), valid=batches(2, 1),
                       metrics=["accuracy", "perplexity", "f1_score"], n_classes=V,
                       cbs=[tl.GradientClip(1.0), tl.CSVLogger(tmp_path / "h.csv")])
    assert learn.n_groups == 3
    learn.freeze()
    assert [learn.group_trainable(g) for g in range(3)] == [False, False, True]
    learn.fit_one_cycle(1, 2e-2)
    learn.freeze_to(-2)
    assert [learn.group_trainable(g) for g in range(3)] == [False, True, True]
    learn.fit_one_cycle(2, slice(1e-3, 1e-2))
    learn.unfreeze()
    learn.fit_one_cycle(1, slice(1e-2), pct_start=0.5, moms=(0.9, 0.8, 0.9), wd=0.1)
    hist = learn.history
    assert len(hist) == 1
    assert hist[0]["perplexity"] == pytest.approx(math.exp(hist[0]["valid_loss"]), rel=1e-15)
    assert 0.0 <= hist[0]["accuracy"] <= 1.0 and 0.0 <= hist[0]["f1_score"] <= 1.0
    loss, acc, ppl, f1 = learn.validate()
    assert loss == hist[0]["valid_loss"] and acc == hist[0]["accuracy"]
    with open(tmp_path / "h.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "train_loss", "valid_loss", "accuracy", "perplexity",
                       "f1_score", "time"]
    assert len(rows) == 2
    assert "epoch" in learn.show_results()


def test_fine_tune_and_fit_sgdr_run_and_record(capfd):
    m = lm_model()
    learn = tl.Learner(m, train=batches(4), valid=batches(2, 1), progress=True)
    learn.fine_tune(2, base_lr=1e-2, freeze_epochs=1)
    assert len(learn.history) == 2
    learn.fit_sgdr(2, 1, lr_max=1e-2)
    assert len(learn.history) == 3
    err = capfd.readouterr().err
    assert "train_loss" in err and "valid_loss" in err  # fastai's table
    learn.close()


def test_groups_across_two_models():
    enc = tl.Model(seed=1)
    enc.add_embedding("emb", V, H)
    enc.add_lstm("rnn", H, H)
    dec = tl.Model(seed=2)
    dec.add_decoder("dec", H, V, tie=enc, tie_layer="emb")
    learn = tl.Learner([enc, dec], train=batches(4), valid=batches(2, 1))
    learn.set_group(0, "rnn", 0)
    learn.set_group(0, "emb", 1)
    learn.set_group(1, "dec", 1)
    assert learn.n_groups == 2 and learn.get_group(1, "dec") == 1
    learn.freeze()
    before = enc.param("rnn.weight_ih_l0").copy()
    emb = enc.param("emb.weight").copy()
    learn.fit_one_cycle(1, 1e-2)
    assert np.array_equal(enc.param("rnn.weight_ih_l0"), before)
    assert not np.array_equal(enc.param("emb.weight"), emb)


def test_callbacks_early_stopping_and_exceptions(tmp_path):
    m = lm_model()
    seen = []
    learn = tl.Learner(m, train=batches(4), valid=batches(2, 1))
    learn.add_cb(lambda event, state: seen.append(event))
    scores = iter([1.0, 3.0, 2.0, 2.5, 9.0, 9.0, 9.0])
    learn.add_metric(("score", lambda out, targ: next(scores)))
    learn.add_cb(tl.EarlyStoppingCallback(monitor="score", patience=2))
    learn.add_cb(tl.SaveModelCallback(monitor="score", fname=tmp_path / "best.tlck"))
    learn.fit(10, lr=1e-2)
    assert len(learn.history) == 4
    assert seen[0] == "before_fit" and seen[-1] == "after_fit"
    assert (tmp_path / "best.tlck").exists()
    learn.load(tmp_path / "best.tlck")

    def boom(event, state):
        if event == "after_step" and state["iter"] == 1:
            raise RuntimeError("stop here")

    learn.clear_cbs()
    learn.add_cb(boom)
    with pytest.raises(RuntimeError, match="stop here"):
        learn.fit(1)

    def stopper(event, state):
        if event == "after_batch" and state["iter"] == 0:
            learn.cancel_fit()

    learn.clear_cbs()
    learn.add_cb(stopper)
    learn.fit(3)
    assert learn.history == []


def test_lr_find_restores_and_writes_csv(tmp_path):
    m = lm_model()
    learn = tl.Learner(m, train=batches(4), valid=batches(2, 1))
    w = m.flat_params().copy()
    r = learn.lr_find(start_lr=1e-5, end_lr=1.0, num_it=30, csv=tmp_path / "lr.csv")
    assert np.array_equal(w, m.flat_params())
    assert r["valley"] is not None and 1e-5 < r["valley"] < 1.0
    assert isinstance(r["falling_at_end"], bool)
    lines = [ln for ln in open(tmp_path / "lr.csv") if not ln.startswith("#")]
    assert lines[0].strip() == "lr,loss" and len(lines) == 1 + len(r["lrs"])


def test_text_loaders():
    docs = [[(i * 5 + j * 3) % V for j in range(40 - i)] for i in range(6)]
    tr = tl.LMLoader(docs, V, bs=4, bptt=7, variable_length=False)
    va = tl.LMLoader(docs[:2], V, bs=4, bptt=7, variable_length=False, shuffle=False)
    m = tl.Model(seed=1)
    m.add_embedding("emb", V, E)
    m.add_lstm("rnn", E, H, stateful=True)
    m.add_linear("fc", H, V)
    learn = tl.Learner(m, train=tr, valid=va, metrics=["perplexity"])
    learn.fit_one_cycle(1, 1e-2)
    row = learn.history[0]
    assert row["perplexity"] == math.exp(row["valid_loss"])

    cdocs = [[2 + (i + j * 3) % (V - 2) for j in range(3 + (i * 7) % 9)] for i in range(10)]
    labels = [i % 3 for i in range(10)]
    ctr = tl.ClasLoader(cdocs, labels, V, bs=4, pad_first=False, shuffle=False)
    cva = tl.ClasLoader(cdocs, labels, V, bs=4, pad_first=False, shuffle=False)
    c = tl.Model(seed=2)
    c.add_embedding("emb", V, E)
    c.add_lstm("rnn", E, H)
    c.add_concat_pool("pool")
    c.add_linear("head", 3 * H, 3)
    learn = tl.Learner(c, train=ctr, valid=cva, metrics=["accuracy", "f1_score"],
                       n_classes=3)
    learn.fit_one_cycle(1, 1e-2)
    assert 0.0 <= learn.history[0]["accuracy"] <= 1.0


def test_bad_input_raises_with_a_message():
    m = lm_model()
    learn = tl.Learner(m)
    with pytest.raises(tl.StateError, match="no training data"):
        learn.fit(1)
    learn.set_data(batches(2), [])
    with pytest.raises(tl.StateError, match="yielded no batch"):
        learn.fit(1)
    learn.set_data(batches(2), batches(1))
    with pytest.raises(tl.InvalidArgumentError, match="n_epoch"):
        learn.fit_one_cycle(0)
    with pytest.raises(tl.InvalidArgumentError, match="learning rate"):
        learn.fit(1, lr=float("nan"))
    with pytest.raises(tl.InvalidArgumentError, match="n_lrs"):
        learn.fit(1, lr=[1e-3, 1e-2])
    with pytest.raises(tl.InvalidArgumentError, match="group 9"):
        learn.set_group(0, "fc", 9)
    with pytest.raises(tl.NotFoundError):
        learn.set_group(0, "nope", 0)
    with pytest.raises(tl.InvalidArgumentError, match="n = 5"):
        learn.freeze_to(5)
    with pytest.raises(tl.InvalidArgumentError):
        learn.add_metric("bleu")
    nolabels = [(x, None) for x, _ in batches(2)]
    learn.set_data(batches(2), nolabels)
    learn.add_metric("accuracy")
    with pytest.raises(tl.StateError, match="no targets"):
        learn.fit(1)
    learn.close()
    with pytest.raises(tl.ClosedError):
        learn.fit(1)


def test_docs_learner_example_runs(capsys):
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..")
    doc = open(os.path.join(root, "docs", "learner.md"), encoding="utf-8").read()
    code = re.search(r"```python\n(.*?)```", doc.split("## A complete example", 1)[1],
                     re.S).group(1)
    exec(compile(code, "docs/learner.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "['epoch', 'train_loss', 'valid_loss', 'accuracy', 'perplexity', 'time']"
    assert out[1] == "1 True"
