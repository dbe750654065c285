"""tl.Tokenizer (and later tl.Vocab, tl.LMLoader) against the fastai rules
as tests/fixtures/gen_text.py writes them."""
import os
import sys

import pytest

import tl

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                "tests", "fixtures"))
import gen_text  # noqa: E402  (the reference: fastai 2.7 rules in Python)


def test_specials_in_fastai_order():
    assert tl.SPECIALS == ("xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep",
                           "xxwrep", "xxup", "xxmaj")


@pytest.mark.parametrize("text", gen_text.TEXTS + gen_text.random_texts(100, seed=99))
def test_tokenizer_matches_reference(text):
    with tl.Tokenizer() as tok:
        assert tok(text) == gen_text.tokenize(text)


def test_contractions_and_caps():
    tok = tl.Tokenizer()
    assert tok("I don't know, it's FINE.") == [
        "xxbos", "i", "do", "n't", "know", ",", "it", "'s", "xxup", "fine", "."]


def test_eos_and_no_bos():
    tok = tl.Tokenizer(add_bos=False, add_eos=True)
    assert tok("Hi there") == gen_text.tokenize("Hi there", add_bos=False, add_eos=True)


def test_invalid_utf8():
    with pytest.raises(tl.FormatError, match="byte offset 3"):
        tl.Tokenizer()(b"abc\xff")
    lenient = tl.Tokenizer(replace_invalid=True)
    for raw in gen_text.INVALID:
        assert lenient(raw) == gen_text.tokenize(raw.decode("utf-8", "replace"))


def test_bad_type_and_closed():
    tok = tl.Tokenizer()
    with pytest.raises(TypeError):
        tok(12)
    tok.close()
    with pytest.raises(ValueError, match="closed"):
        tok("a")


def _fixture_counter():
    from collections import Counter
    tok = tl.Tokenizer()
    docs = [tok(t) for t in gen_text.TEXTS + gen_text.random_texts(400)]
    counter = Counter()
    for d in docs:
        counter.update(d)
    return docs, counter


@pytest.mark.parametrize("setting", gen_text.VOCAB_SETTINGS)
def test_vocab_matches_make_vocab(setting):
    docs, counter = _fixture_counter()
    counts = tl.TokenCounts()
    for d in docs:
        counts.add(d)
    assert len(counts) == len(counter)
    assert counts["the"] == counter["the"]
    mf, mv, pm = setting
    vocab = tl.Vocab.from_counts(counts, min_freq=mf, max_vocab=mv, pad_multiple=pm)
    assert vocab.itos == gen_text.make_vocab(counter, mf, mv, pm)


def test_vocab_encode_decode_and_errors():
    vocab = tl.Vocab(["xxunk", "xxpad", "xxbos", "hello", "world", "xxfake", "xxfake"])
    ids = vocab.encode(["xxbos", "hello", "mars", "world", "xxfake"])
    assert ids.dtype.name == "int64"
    assert ids.tolist() == [2, 3, 0, 4, 0]
    assert vocab.decode(ids) == "xxbos hello xxunk world xxunk"
    assert vocab.token(4) == "world"
    with pytest.raises(tl.InvalidArgumentError, match=r"ids\[1\] = 7"):
        vocab.decode([1, 7])
    with pytest.raises(tl.InvalidArgumentError, match="duplicates"):
        tl.Vocab(["xxunk", "a", "a"])
    with pytest.raises(tl.InvalidArgumentError, match="xxunk"):
        tl.Vocab(["a", "b"])


def test_vocab_checkpoint_roundtrip(tmp_path):
    from tl.checkpoint import Checkpoint
    _, counter = _fixture_counter()
    vocab = tl.Vocab.from_counts(tl.TokenCounts(list(counter.elements())))
    assert vocab.itos[:9] == list(tl.SPECIALS)
    assert len(vocab) % 8 == 0
    Checkpoint(vocab=vocab.itos).save(str(tmp_path / "v.tlck"))
    back = tl.Vocab(Checkpoint.load(str(tmp_path / "v.tlck")).vocab)
    assert back.itos == vocab.itos
    assert back.encode(["the", "qqq"]).tolist() == vocab.encode(["the", "qqq"]).tolist()


def _lm_docs():
    import numpy as np
    return [np.array([100 + d] + list(range(1, 5 + (d * 7) % 37)), dtype=np.int64)
            for d in range(23)]


def test_lm_loader_fixed_windows_follow_the_stream():
    import numpy as np
    docs = _lm_docs()
    stream = np.concatenate([np.concatenate([[2], d]) for d in docs])
    bs, bptt = 4, 10
    loader = tl.LMLoader(docs, 200, bs=bs, bptt=bptt, variable_length=False,
                         shuffle=False, bos_id=2, copy=True)
    row_len = (len(stream) - 1) // bs
    assert loader.row_len == row_len
    batches = list(loader)
    assert [x.shape for x, _ in batches[:-1]] == [(bptt, bs)] * (len(batches) - 1)
    xs = np.concatenate([x for x, _ in batches])   # (row_len, bs)
    ys = np.concatenate([y for _, y in batches])
    rows = stream[:bs * row_len + 1]
    for b in range(bs):
        np.testing.assert_array_equal(xs[:, b], rows[b * row_len:(b + 1) * row_len])
        np.testing.assert_array_equal(ys[:, b], rows[b * row_len + 1:(b + 1) * row_len + 1])


def test_lm_loader_deterministic_and_backwards():
    import numpy as np
    docs = _lm_docs()
    a = [x.copy() for x, _ in tl.LMLoader(docs, 200, bs=3, bptt=12, seed=5)]
    b = [x.copy() for x, _ in tl.LMLoader(docs, 200, bs=3, bptt=12, seed=5)]
    c = [x.copy() for x, _ in tl.LMLoader(docs, 200, bs=3, bptt=12, seed=6)]
    assert len(a) == len(b) and all((p == q).all() for p, q in zip(a, b))
    assert len(a) != len(c) or any((p != q).any() for p, q in zip(a, c))
    fwd = tl.LMLoader(docs, 200, bs=1, bptt=20, variable_length=False, shuffle=False)
    bwd = tl.LMLoader(docs, 200, bs=1, bptt=20, variable_length=False, shuffle=False,
                      backwards=True)
    f = np.concatenate([x.copy() for x, _ in fwd])[:, 0]
    r = np.concatenate([x.copy() for x, _ in bwd])[:, 0]
    stream = np.concatenate(docs)
    np.testing.assert_array_equal(f, stream[:len(f)])
    np.testing.assert_array_equal(r, stream[::-1][:len(r)])


def test_lm_loader_errors():
    docs = _lm_docs()
    with pytest.raises(tl.InvalidArgumentError, match="corpus is empty"):
        tl.LMLoader([], 200)
    with pytest.raises(tl.InvalidArgumentError, match="document 1 is empty"):
        tl.LMLoader([[1, 2], []], 200)
    with pytest.raises(tl.InvalidArgumentError, match="document 0, position 1: id 7"):
        tl.LMLoader([[1, 7, 2]], 5, bs=1, bptt=1)
    with pytest.raises(tl.InvalidArgumentError, match="bptt"):
        tl.LMLoader(docs, 200, bptt=0)
    with pytest.raises(tl.InvalidArgumentError, match="batch_size"):
        tl.LMLoader(docs, 200, bs=10 ** 6)


def test_text_pipeline_end_to_end():
    """Texts -> tokens -> vocabulary -> ids -> LM batches."""
    tok = tl.Tokenizer()
    texts = gen_text.TEXTS[:20] * 3
    token_lists = [tok(t) for t in texts]
    counts = tl.TokenCounts()
    for t in token_lists:
        counts.add(t)
    vocab = tl.Vocab.from_counts(counts, min_freq=2)
    ids = [vocab.encode(t) for t in token_lists]
    loader = tl.LMLoader(ids, len(vocab), bs=4, bptt=16, seed=1)
    n = 0
    for x, y in loader:
        assert x.dtype.name == "int64" and x.shape[1] == 4
        assert (x >= 0).all() and (x < len(vocab)).all()
        n += x.shape[0]
    assert n == loader.row_len
    assert vocab.decode(ids[0][:3]).startswith("xxbos xxmaj")


def test_clas_loader_sorted_padded_and_string_labels():
    import numpy as np
    docs = [[10] * n for n in (2, 7, 5, 7, 1, 3)]
    labels = ["pos", "neg", "neu", "pos", "neg", "neu"]
    ld = tl.ClasLoader(docs, labels, 100, bs=2, seq_len=3, shuffle=False, copy=True)
    assert ld.label_vocab.itos == ["neg", "neu", "pos"]
    batches = list(ld)
    assert [x.shape for x, _ in batches] == [(7, 2), (5, 2), (2, 2)]
    x, y = batches[1]   # docs 2 (len 5) and 5 (len 3): 2 short -> 2 pads after
    np.testing.assert_array_equal(x[:, 1], [10, 10, 10, 1, 1])
    assert y.tolist() == [1, 1]
    with pytest.raises(tl.InvalidArgumentError, match="document 1: label 5"):
        tl.ClasLoader(docs[:2], [0, 5], 100, n_classes=3)


def test_clas_loader_shuffle_covers_each_doc_once():
    docs = [[i % 50 + 2] * (1 + (i * 37) % 39) for i in range(300)]
    labels = [i % 3 for i in range(300)]
    seen = []
    for x, y in tl.ClasLoader(docs, labels, 100, bs=8, seed=4):
        assert x.shape[1] == y.shape[0]
        seen += y.tolist()
    assert sorted(seen) == sorted(labels)


def test_split_and_subset():
    import numpy as np
    labels = np.array([i % 3 for i in range(100)])
    valid = tl.split_stratified(labels, 0.25, seed=1)
    assert valid.dtype == bool
    for c in range(3):
        n_c = (labels == c).sum()
        assert valid[labels == c].sum() == int(np.floor(0.25 * n_c + 0.5))
    assert (valid == tl.split_stratified(labels, 0.25, seed=1)).all()
    idx = tl.subset_per_class(labels, 5, seed=2)
    assert labels[idx].tolist() == [0] * 5 + [1] * 5 + [2] * 5
    with pytest.raises(tl.InvalidArgumentError, match="fewer than k"):
        tl.subset_per_class(labels, 40)


def test_classification_metrics_against_numpy():
    import numpy as np
    rng = np.random.default_rng(3)
    t = rng.integers(0, 4, 300)
    p = np.where(rng.random(300) < 0.5, t, rng.integers(0, 3, 300))  # class 3 never predicted
    cm = tl.text.confusion_matrix(p, t, 4)
    want = np.zeros((4, 4), dtype=np.uint64)
    for a, b in zip(t, p):
        want[a, b] += 1
    np.testing.assert_array_equal(cm, want)
    m = tl.text.classification_metrics(p, t, 4)
    tp = np.diag(want).astype(float)
    prec = np.divide(tp, want.sum(0), out=np.zeros(4), where=want.sum(0) > 0)
    rec = np.divide(tp, want.sum(1), out=np.zeros(4), where=want.sum(1) > 0)
    f1 = np.divide(2 * tp, want.sum(0) + want.sum(1), out=np.zeros(4),
                   where=(want.sum(0) + want.sum(1)) > 0)
    np.testing.assert_allclose(m["precision"], prec, rtol=1e-15)
    np.testing.assert_allclose(m["recall"], rec, rtol=1e-15)
    np.testing.assert_allclose(m["f1"], f1, rtol=1e-15)
    assert m["macro_f1"] == pytest.approx(f1.mean(), rel=1e-14)
    assert m["accuracy"] == pytest.approx((p == t).mean(), rel=1e-15)


def test_lm_metrics_against_numpy():
    import numpy as np
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((40, 17)).astype(np.float32)
    targets = rng.integers(0, 17, 40)
    nll, hits = tl.text.lm_batch_metrics(logits, targets)
    x = logits.astype(np.float64)
    lse = x.max(1) + np.log(np.exp(x - x.max(1, keepdims=True)).sum(1))
    assert nll == pytest.approx((lse - x[np.arange(40), targets]).sum(), rel=1e-13)
    assert hits == int((logits.argmax(1) == targets).sum())
    assert tl.text.perplexity(nll, 40) == pytest.approx(np.exp(nll / 40), rel=1e-14)
    with pytest.raises(tl.NumericError):
        bad = logits.copy()
        bad[2, 3] = np.inf
        tl.text.lm_batch_metrics(bad, targets)


def test_tokenize_many_threads_match_serial():
    texts = gen_text.TEXTS + gen_text.random_texts(200, seed=5)
    tok = tl.Tokenizer()
    serial = [tok(t) for t in texts]
    assert tok.tokenize_many(texts, n_threads=1) == serial
    assert tok.tokenize_many(texts, n_threads=3) == serial
    with pytest.raises(tl.FormatError, match="document 2: .*byte offset 1"):
        tok.tokenize_many(["a", "b", b"x\xff"], n_threads=2)
