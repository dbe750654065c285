"""tl.Predictor: chunked long-document encoding equals one pass, and text
probabilities equal the softmax of the head on the kept outputs."""
import numpy as np
import pytest

import tl

V, E, H, K = 40, 6, 5, 3


def _encoder(stateful):
    m = tl.Model(seed=17)
    m.add_embedding("emb", V, E)
    m.add_lstm("rnn", E, H, num_layers=2, stateful=stateful)
    return m


def _head():
    m = tl.Model(seed=3)
    m.add_concat_pool("pool")
    m.add_linear("fc", 3 * H, K)
    return m


def test_chunked_encoding_equals_one_pass():
    enc, ref = _encoder(True), _encoder(False)
    ref.eval()
    ids = (np.arange(23) * 7 + 3) % V
    kept = tl.Predictor(enc, None, bptt=5, max_len=10).encode(ids)
    full = ref.forward(ids.reshape(23, 1))
    assert kept.shape == (8, 1, H)
    np.testing.assert_allclose(kept, full[15:], rtol=1e-5, atol=1e-6)


def test_texts_to_probabilities():
    enc, head = _encoder(True), _head()
    vocab = tl.Vocab(list(tl.SPECIALS) + ["good", "bad", "movie", "!", "."])
    tok = tl.Tokenizer()
    pred = tl.Predictor(enc, head, tok, vocab, K, bptt=4, max_len=8)
    probs = pred(["Good movie!", "bad bad movie. Unknown words"])
    assert probs.shape == (2, K)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-6)
    ids = vocab.encode(tok("Good movie!"))
    np.testing.assert_array_equal(probs[0], pred.predict_ids(ids))
    kept = pred.encode(ids)
    head.eval()
    logits = head.forward(kept).astype(np.float64)[0]
    want = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(probs[0], want, rtol=1e-6)
    with pytest.raises(tl.FormatError, match="text 1"):
        pred(["fine", b"bro\xffken"])
