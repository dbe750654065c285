"""tl.LabelVocab, a thin wrapper over the C tl_label_vocab: classes and ids
as Python's sorted(set(labels)) (fastai's CategoryMap), bad labels naming
the document, and the classes kept in a checkpoint's metadata."""
import random

import numpy as np
import pytest

import tl
from tl.checkpoint import Checkpoint

LABELS = ["pos", "neg", "neu", "pos", "Neg", "z", "\u00e9", "10", "9", "",
          "a:b;c", "line\nbreak", "neg", "\u00e9", "\u0436", "\U0001f600"]


def test_classes_and_ids_are_sorted_set():
    lv = tl.LabelVocab(LABELS)
    classes = sorted(set(LABELS))
    assert lv.itos == classes
    assert len(lv) == len(classes) == 13
    np.testing.assert_array_equal(lv.encode(LABELS), [classes.index(x) for x in LABELS])
    assert lv.encode(LABELS).dtype == np.int64
    assert lv.o2i == {c: i for i, c in enumerate(classes)}
    assert lv.decode([0, 12, 3]) == [classes[0], classes[12], classes[3]]
    # Code point order, not locale order: upper case first, "10" < "9",
    # U+00E9 < U+0436 < U+1F600 after every ASCII label.
    assert lv.itos[:4] == ["", "10", "9", "Neg"]
    assert lv.itos[-3:] == ["\u00e9", "\u0436", "\U0001f600"]


def test_random_labels_match_python():
    rng = random.Random(12)
    alphabet = "abAB:;\n \u00e9\u0436\U0001f600"
    for _ in range(20):
        labels = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
                  for _ in range(rng.randint(1, 30))]
        lv = tl.LabelVocab(labels)
        classes = sorted(set(labels))
        assert lv.itos == classes
        assert lv.encode(labels).tolist() == [classes.index(x) for x in labels]
        assert tl.LabelVocab.from_string(lv.to_string()).itos == classes


def test_bad_labels_name_the_document():
    lv = tl.LabelVocab(["pos", "neg"])
    with pytest.raises(tl.InvalidArgumentError,
                       match="document 2: label 'posit' is not one of the 2 classes"):
        lv.encode(["pos", "neg", "posit", "nope"])
    with pytest.raises(tl.InvalidArgumentError, match="document 1: label is missing"):
        lv.encode(["pos", None])
    with pytest.raises(tl.InvalidArgumentError, match="document 0: label is missing"):
        tl.LabelVocab([None, "pos"])
    with pytest.raises(tl.InvalidArgumentError, match="'n' is 0"):
        tl.LabelVocab([])
    with pytest.raises(tl.InvalidArgumentError, match="document 1: label contains a NUL"):
        lv.encode(["pos", "p\0s"])
    with pytest.raises(tl.InvalidArgumentError, match="document 0: label must be a str"):
        tl.LabelVocab([3, 4])
    with pytest.raises(tl.InvalidArgumentError, match="LabelVocab.label: id must be an integer"):
        lv.label(1.0)
    with pytest.raises(tl.InvalidArgumentError, match="'id' is 2, outside"):
        lv.label(2)
    with pytest.raises(tl.InvalidArgumentError, match="'id' is -1"):
        lv.label(-1)
    lv.close()
    with pytest.raises(tl.ClosedError):
        len(lv)


def test_text_form_and_checkpoint_round_trip():
    lv = tl.LabelVocab(["neu", "pos", "neg", "a:b", "x\ny", "pos"])
    assert lv.to_string() == "v1;3:a:b3:neg3:neu3:pos3:x\ny"
    ck = Checkpoint()
    ck["head.bias"] = np.arange(5, dtype=np.float32)
    lv.store(ck)
    assert ck.meta[tl.text.LABEL_VOCAB_META_KEY] == lv.to_string()
    back = Checkpoint.from_bytes(ck.to_bytes())
    lv2 = tl.LabelVocab.restore(back)
    assert lv2.itos == ["a:b", "neg", "neu", "pos", "x\ny"]
    assert lv2.encode(["pos", "x\ny"]).tolist() == [3, 4]
    with pytest.raises(tl.NotFoundError, match="no 'labels'"):
        tl.LabelVocab.restore(Checkpoint())


@pytest.mark.parametrize("text,match", [
    ("", "does not start"),
    ("v1;", "no labels"),
    ("v1;3neg", "label 0 at byte offset 3"),
    ("v1;3:neg4:pos", "runs past the end"),
    ("v1;3:pos3:neg", "sorted and distinct"),
    ("v1;03:neg", "expected a decimal length"),
])
def test_bad_text_form(text, match):
    with pytest.raises(tl.FormatError, match=match):
        tl.LabelVocab.from_string(text)


def test_text_with_a_nul_is_refused_not_truncated():
    # "v1;1:a" alone is valid: the NUL must not cut the rest off.
    with pytest.raises(tl.InvalidArgumentError, match="text contains a NUL"):
        tl.LabelVocab.from_string("v1;1:a\x002:bc")


def test_clas_loader_uses_the_c_vocabulary():
    docs = [np.array([4, 5, 6], np.int64), np.array([7, 8], np.int64),
            np.array([9], np.int64)]
    ld = tl.ClasLoader(docs, ["b", "a", "b"], 100, bs=3, shuffle=False, copy=True)
    assert isinstance(ld.label_vocab, tl.LabelVocab)
    assert ld.label_vocab.itos == ["a", "b"]
    (_, y), = list(ld)
    assert sorted(y.tolist()) == [0, 1, 1]
