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
