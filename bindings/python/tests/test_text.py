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
