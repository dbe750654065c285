"""tl.arch: fastai's AWD-LSTM builders (names, groups, defaults, tied
decoder), models rebuilt from a file alone, and encoders saved with their
vocabulary and loaded onto another one (rows remapped)."""
import numpy as np
import pytest

import tl

CONFIG = {"emb_sz": 6, "n_hid": 7, "n_layers": 3}
WORDS = ["the", "cat", "sat", "mat"]


def _vocab(words):
    return tl.Vocab(list(tl.SPECIALS) + list(words))


def test_defaults_are_fastais():
    lm, clas = tl.arch.AWD_LSTM_LM_CONFIG, tl.arch.AWD_LSTM_CLAS_CONFIG
    assert (lm["emb_sz"], lm["n_hid"], lm["n_layers"], lm["pad_token"]) == \
        (400, 1152, 3, 1)
    assert [lm[k] for k in ("output_p", "hidden_p", "input_p", "embed_p",
                            "weight_p")] == [0.1, 0.15, 0.25, 0.02, 0.2]
    assert [clas[k] for k in ("output_p", "hidden_p", "input_p", "embed_p",
                              "weight_p")] == [0.4, 0.3, 0.4, 0.05, 0.5]
    assert (lm["ar_alpha"], lm["tar_beta"]) == (2.0, 1.0)


def test_language_model_layout_and_tie():
    enc, dec = tl.arch.awd_lstm_lm(13, drop_mult=0.0, config=CONFIG, seed=1)
    assert enc.layer_names() == ["encoder", "rnns_0", "rnns_1", "rnns_2"]
    assert enc.layer_kinds() == ["embedding", "lstm", "lstm", "lstm"]
    assert [enc.group_of(n) for n in enc.layer_names()] == [3, 0, 1, 2]
    assert dec.param_names() == ["decoder.bias"]
    w = enc.param("encoder.weight")
    assert w.shape == (13, 6) and np.abs(w).max() <= 0.1
    assert not dec.param("decoder.bias").any()
    enc.eval()
    dec.eval()
    ids = np.arange(15).reshape(5, 3) % 13
    out = enc.forward(ids)
    logits = dec.forward(out)
    np.testing.assert_allclose(logits, out @ w.T, rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(tl.InvalidArgumentError, match="input_p"):
        tl.arch.awd_lstm_lm(13, drop_mult=4.0, config=CONFIG)
    with pytest.raises(ValueError, match="unknown config key"):
        tl.arch.awd_lstm_encoder(13, config={"n_hidden": 3})
    with pytest.raises(tl.InvalidArgumentError, match="pad_token"):
        tl.arch.awd_lstm_encoder(13, config=dict(CONFIG, pad_token=13))


def test_models_rebuilt_from_the_file(tmp_path):
    enc, dec = tl.arch.awd_lstm_lm(13, config=CONFIG, seed=2)
    head = tl.Model()
    head.add_concat_pool("pool")
    head.add_linear("lin", 18, 4, activation="relu", bias=False)
    path = tmp_path / "models.tlc"
    tl.arch.save_models(path, [enc, dec, head], ["0.", "1.", "head."])
    back = tl.arch.load_models(path)
    assert list(back) == ["0.", "1.", "head."]
    assert back["head."].param_names() == ["lin.weight"]
    for a, b in zip([enc, dec, head], back.values()):
        assert a.layer_names() == b.layer_names()
        for name in a.param_names():
            np.testing.assert_array_equal(a.param(name), b.param(name))
    for m in (enc, dec, back["0."], back["1."]):
        m.eval()
    ids = np.arange(12).reshape(4, 3) % 13
    np.testing.assert_array_equal(
        dec.forward(enc.forward(ids)),
        back["1."].forward(back["0."].forward(ids)))
    plain = tmp_path / "plain.tlc"
    tl.checkpoint.save_model(head, plain)
    with pytest.raises(tl.NotFoundError, match="no architecture section"):
        tl.arch.load_models(plain)


def test_encoder_saved_and_remapped(tmp_path):
    lm_vocab, clas_vocab = _vocab(WORDS), _vocab(["mat", "dog", "the", "sat"])
    enc, _ = tl.arch.awd_lstm_lm(len(lm_vocab), config=CONFIG, seed=3)
    path = tmp_path / "enc.tlc"
    tl.arch.save_encoder(enc, lm_vocab, path)
    clas = tl.arch.awd_lstm_encoder(len(clas_vocab), config=CONFIG, seed=4)
    is_new = tl.arch.load_encoder(clas, clas_vocab, path)
    s = len(tl.SPECIALS)
    assert is_new.tolist() == [0] * s + [0, 1, 0, 0]
    old, new = enc.param("encoder.weight"), clas.param("encoder.weight")
    np.testing.assert_array_equal(new[s], old[s + 3])      # "mat"
    np.testing.assert_array_equal(new[s + 2], old[s])      # "the"
    np.testing.assert_allclose(new[s + 1], old.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(clas.param("rnns_1.weight_hh_l0"),
                                  enc.param("rnns_1.weight_hh_l0"))
    bigger = tl.arch.awd_lstm_encoder(len(clas_vocab),
                                      config=dict(CONFIG, n_hid=8))
    with pytest.raises(tl.ShapeError, match="rnns_0.weight_ih_l0"):
        tl.arch.load_encoder(bigger, clas_vocab, path)


def test_classifier_head_is_fastais():
    enc, head = tl.arch.awd_lstm_classifier(13, 3, drop_mult=0.5,
                                            config=CONFIG)
    assert head.layer_names() == [
        "pool", "layers_0_bn", "layers_0_drop", "layers_0_lin",
        "layers_1_bn", "layers_1_drop", "layers_1_lin"]
    assert head.param_shape("layers_0_lin.weight") == (50, 18)
    assert "layers_0_lin.bias" not in head.param_names()
    assert {head.group_of(n) for n in head.layer_names()} == {0}
    # a batch through both, eval mode: (B, n_classes) logits
    enc.eval()
    head.eval()
    y = head.forward(enc.forward(np.arange(12).reshape(4, 3) % 13))
    assert y.shape == (3, 3) and np.isfinite(y).all()
    bare = tl.arch.pooling_linear(6, 2, lin_ftrs=[], ps=[0.0])
    assert bare.layer_kinds() == ["concat_pool", "batchnorm1d", "linear"]
    with pytest.raises(tl.InvalidArgumentError, match="n_ps"):
        tl.arch.pooling_linear(6, 2, lin_ftrs=[4], ps=[0.1])
