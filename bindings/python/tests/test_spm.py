"""tl.SentencePiece on the committed test model. When libtl was built
without SentencePiece the tests are skipped with that reason; where
python3-sentencepiece is installed its answers are compared directly."""
import os

import pytest

import tl

MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures",
                     "spm_test.model")


def _load():
    try:
        return tl.SentencePiece(MODEL)
    except tl.UnsupportedError as exc:
        pytest.skip(str(exc))


TEXTS = ["Hello World! This movie wasn't great.", "I loved this film, it's a GREAT story.",
         "\u00c9t\u00e9 \u03b5\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", ""]


def test_roundtrip_and_errors():
    sp = _load()
    assert len(sp) == 160
    for t in TEXTS:
        ids = sp.encode(t)
        assert sp.decode(ids) == t
        assert "".join(sp.encode_pieces(t)).replace("\u2581", " ").strip() == t
    with pytest.raises(tl.FormatError, match="byte offset 1"):
        sp.encode(b"a\xff")
    with pytest.raises(tl.IOFailure):
        tl.SentencePiece("/nonexistent/x.model")


def test_same_as_python_sentencepiece():
    sp = _load()
    ref = pytest.importorskip("sentencepiece")
    py = ref.SentencePieceProcessor(model_file=MODEL)
    for t in TEXTS:
        assert sp.encode(t).tolist() == py.encode(t)
        assert sp.encode_pieces(t) == py.encode(t, out_type=str)
