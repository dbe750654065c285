"""tl.language_model_learner / text_classifier_learner / load_learner:
fastai's groups, a little training, save_encoder -> load_encoder onto a
classifier, export -> load_learner giving the same predict and get_preds,
and bad input with messages."""
import numpy as np
import pytest

import tl

CONFIG = {"emb_sz": 6, "n_hid": 8, "n_layers": 2}
TEXTS = ["good film", "bad plot .", "great actor , good film", "awful",
         "the plot is awful and bad", "a great great film", "bad actor",
         "good", "the film . the plot .", "awful awful film", "a good actor",
         "bad bad bad plot ."]
LABELS = ["pos", "neg", "pos", "neg", "neg", "pos", "neg", "pos", "neg",
          "neg", "pos", "neg"]


@pytest.fixture(scope="module")
def data():
    tok = tl.Tokenizer()
    counts = tl.TokenCounts()
    docs = []
    for t in TEXTS:
        toks = tok(t)
        counts.add(toks)
        docs.append(toks)
    vocab = tl.Vocab.from_counts(counts, min_freq=1)
    ids = [vocab.encode(d) for d in docs]
    return vocab, ids


def test_language_model_learner(data, tmp_path):
    vocab, ids = data
    lm = tl.language_model_learner(vocab, drop_mult=0.5, config=CONFIG)
    assert [m.layer_names() for m in lm.models] == [
        ["encoder", "rnns_0", "rnns_1"], ["decoder"]]
    assert lm.get_group(0, "encoder") == lm.get_group(1, "decoder") == 2
    train = tl.LMLoader(ids, len(vocab), bs=2, bptt=4, seed=1)
    lm.set_data(train)
    lm.fit(1, 1e-2)
    assert len(lm.recorder.values) == 1
    lm.save_encoder(tmp_path / "enc.tlc")
    lm.export(tmp_path / "lm.tlc")
    again = tl.language_model_learner(vocab, config=CONFIG,
                                      pretrained=tmp_path / "lm.tlc")
    np.testing.assert_array_equal(again.models[0].param("encoder.weight"),
                                  lm.models[0].param("encoder.weight"))
    assert not again.group_trainable(0) and again.group_trainable(2)
    with pytest.raises(tl.StateError, match="language-model"):
        lm.predict("good film")


def test_progress_reports_each_fit_on_stderr(data, capfd):
    vocab, ids = data
    train = tl.LMLoader(ids, len(vocab), bs=2, bptt=4, seed=1)
    quiet = tl.language_model_learner(vocab, config=CONFIG, train=train)
    quiet.fit(1, 1e-2)
    assert "train_loss" not in capfd.readouterr().err
    lm = tl.language_model_learner(vocab, config=CONFIG, train=train,
                                   progress=True)
    lm.fit(1, 1e-2)
    assert "train_loss" in capfd.readouterr().err  # fastai's table
    labels = tl.LabelVocab(LABELS)
    clas = tl.text_classifier_learner(
        vocab, labels, config=CONFIG, progress=True,
        train=tl.ClasLoader(ids, labels.encode(LABELS), len(vocab), 2, bs=4,
                            pad_first=False))
    clas.fit_one_cycle(2, 1e-2)
    err = capfd.readouterr().err
    assert "train_loss" in err and "\n1 " in err  # a row per epoch
    lm.close()
    clas.close()


def test_classifier_export_and_predict(data, tmp_path):
    vocab, ids = data
    labels = tl.LabelVocab(LABELS)
    y = labels.encode(LABELS)
    train = tl.ClasLoader(ids, y, len(vocab), 2, bs=4, pad_first=False, seed=2)
    valid = tl.ClasLoader(ids, y, len(vocab), 2, bs=4, pad_first=False,
                          shuffle=False)
    lm = tl.language_model_learner(vocab, config=CONFIG)
    lm.save_encoder(tmp_path / "enc.tlc")
    clas = tl.text_classifier_learner(vocab, labels, drop_mult=0.5,
                                      lin_ftrs=[5], config=CONFIG, train=train,
                                      valid=valid, metrics=["accuracy"])
    assert clas.n_groups == 4
    clas.load_encoder(tmp_path / "enc.tlc")
    np.testing.assert_array_equal(clas.models[0].param("rnns_0.weight_hh_l0"),
                                  lm.models[0].param("rnns_0.weight_hh_l0"))
    clas.freeze_to(-1)
    clas.fit(1, 1e-2)
    label, idx, probs = clas.predict("a good film")
    assert label == labels.label(idx) and probs.shape == (2,)
    assert abs(probs.sum() - 1) < 1e-6
    p, t = clas.get_preds()
    assert p.shape == (len(TEXTS), 2) and sorted(t.tolist()) == sorted(y.tolist())
    clas.export(tmp_path / "clas.tlc")
    back = tl.load_learner(tmp_path / "clas.tlc")
    assert back.labels.label(1) == labels.label(1)
    for text in TEXTS:
        a, b = clas.predict(text), back.predict(text)
        assert a[:2] == b[:2]
        np.testing.assert_array_equal(a[2], b[2])
    np.testing.assert_array_equal(back.get_preds(valid)[0], p)
    with pytest.raises(tl.InvalidArgumentError, match="empty"):
        back.predict("")
    plain = tmp_path / "plain.tlc"
    tl.checkpoint.save_model(back.models[1], plain)
    with pytest.raises(tl.NotFoundError, match="no architecture section"):
        tl.load_learner(plain)
    other = tl.text_classifier_learner(vocab, labels,
                                       config=dict(CONFIG, n_hid=9))
    with pytest.raises(tl.ShapeError, match="rnns_0.weight_ih_l0"):
        other.load_encoder(tmp_path / "enc.tlc")
    with pytest.raises(ValueError, match="pad_first"):
        other.set_data(tl.ClasLoader(ids, y, len(vocab), 2, bs=4))


def test_docs_learner_walkthrough_runs(capsys):
    """docs/learner.md's ULMFiT walk-through block, as written."""
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..")
    doc = open(os.path.join(root, "docs", "learner.md"), encoding="utf-8").read()
    part = doc.split("## The ULMFiT walk-through, line by line", 1)[1]
    code = re.search(r"```python\n(.*?)```", part, re.S).group(1)
    exec(compile(code, "docs/learner.md", "exec"), {})
    assert capsys.readouterr().out.splitlines()[-1] == "True True"
