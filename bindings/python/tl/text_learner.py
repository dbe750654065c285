"""fastai's text learners over libtl (include/tl/text_learner.h).

    lm = tl.language_model_learner(vocab, drop_mult=0.3, train=lm_train,
                                   valid=lm_valid)
    lm.fit_one_cycle(1, 2e-2)
    lm.save_encoder("enc.tlc")
    clas = tl.text_classifier_learner(vocab, labels, drop_mult=0.5,
                                      train=clas_train, valid=clas_valid)
    clas.load_encoder("enc.tlc")
    clas.freeze_to(-2)
    clas.fit_one_cycle(1, slice(1e-2 / 2.6**4, 1e-2))
    clas.predict("a great film")   # ('pos', 1, array([0.2, 0.8]))
    clas.export("clas.tlc")
    back = tl.load_learner("clas.tlc")

A TextLearner is a tl.Learner (fit, fit_one_cycle, freeze_to, lr_find, ...)
plus what fastai's DataLoaders hold: the vocabulary, tokenizer settings and
class labels. Classification loaders must be created with pad_first=False
(masked pooling needs each document's valid steps first).
"""
import ctypes

import numpy as np

from . import _check
from ._native import c_size_p, lib, register, status
from .arch import _AwdLstmOptions, _options
from .learner import Learner, _Recorder
from .model import Model
from .text import ClasLoader, LabelVocab, Vocab

__all__ = ["TextLearner", "language_model_learner", "text_classifier_learner",
           "load_learner"]

_p = ctypes.c_void_p
_sz = ctypes.c_size_t
_Opts_p = ctypes.POINTER(_AwdLstmOptions)

register([
    ("tl_language_model_learner", [ctypes.POINTER(_p), _p, _Opts_p, ctypes.c_float,
                                   ctypes.c_char_p, _p], status),
    ("tl_text_classifier_learner", [ctypes.POINTER(_p), _p, _p, ctypes.c_float, _sz,
                                    c_size_p, _sz, ctypes.POINTER(ctypes.c_float), _sz,
                                    _Opts_p, _p], status),
    ("tl_text_learner_free", [_p], None),
    ("tl_text_learner_learner", [ctypes.POINTER(_p), _p], status),
    ("tl_text_learner_vocab", [ctypes.POINTER(_p), _p], status),
    ("tl_text_learner_labels", [ctypes.POINTER(_p), _p], status),
    ("tl_text_learner_set_clas_data", [_p, _p, _p, c_size_p, _sz, c_size_p, _sz, _sz,
                                       _sz], status),
    ("tl_text_learner_save_encoder", [_p, ctypes.c_char_p], status),
    ("tl_text_learner_load_encoder", [_p, ctypes.c_char_p], status),
    ("tl_text_learner_export", [_p, ctypes.c_char_p], status),
    ("tl_load_learner", [ctypes.POINTER(_p), ctypes.c_char_p, _p], status),
    ("tl_text_learner_predict", [ctypes.POINTER(ctypes.c_int64),
                                 ctypes.POINTER(ctypes.c_float), _sz, _p,
                                 ctypes.c_char_p, _sz], status),
    ("tl_text_learner_get_preds", [ctypes.POINTER(ctypes.c_float),
                                   ctypes.POINTER(ctypes.c_int64), _sz, c_size_p, _p,
                                   _p, c_size_p, _sz, _sz], status),
])


class _Borrowed(Model):
    """A model of a TextLearner: the learner owns it (no free here); this
    wrapper keeps the TextLearner alive."""

    def _release(self):
        self._handle = type(self._handle)()


class _BorrowedVocab(Vocab):
    def _release(self):
        self._handle = type(self._handle)()


class _BorrowedLabels(LabelVocab):
    def _release(self):
        self._handle = type(self._handle)()


class TextLearner(Learner):
    """A tl.Learner created by language_model_learner,
    text_classifier_learner or load_learner; it owns the C text learner
    (whose learner, models, vocabulary and labels it exposes)."""

    _free, _what = "tl_text_learner_free", "text learner"

    def __init__(self, *args, **kwargs):
        raise TypeError("use tl.language_model_learner, "
                        "tl.text_classifier_learner or tl.load_learner")

    @classmethod
    def _wrap(cls, text, train=None, valid=None, metrics=(), n_classes=None,
              progress=False):
        self = cls.__new__(cls)
        self._text = text
        inner = _p()
        lib.tl_text_learner_learner(ctypes.byref(inner), text)
        self._handle = inner
        self._keep, self._raised, self._reset_state = [], [], None
        self._reporter = None
        self.lr = 1e-3  # fastai's default rate (tl_learner_options)
        self.train, self.valid = None, None
        n = ctypes.c_size_t()
        lib.tl_learner_num_models(ctypes.byref(n), inner)
        self.models = []
        for i in range(n.value):
            h = _p()
            lib.tl_learner_model(ctypes.byref(h), inner, i)
            m = _Borrowed.__new__(_Borrowed)
            m._handle, m._takes_ids, m._views, m._owner = h, i == 0, [], self
            self.models.append(m)
        v = _p()
        lib.tl_text_learner_vocab(ctypes.byref(v), text)
        self.vocab = _BorrowedVocab.__new__(_BorrowedVocab)
        self.vocab._handle, self.vocab._owner = v, self
        self.labels = None
        lv = _p()
        try:
            lib.tl_text_learner_labels(ctypes.byref(lv), text)
            self.labels = _BorrowedLabels.__new__(_BorrowedLabels)
            self.labels._handle, self.labels._owner = lv, self
        except Exception:  # a language model: no labels
            pass
        self.recorder = _Recorder(self)
        if train is not None:
            self.set_data(train, valid)
        if n_classes is None and self.labels is not None:
            n_classes = len(self.labels)
        for m in metrics:
            self.add_metric(m, n_classes=n_classes)
        if progress:
            # As tl.Learner(progress=True): libtl's terminal reporter on
            # stderr (fastprogress's bar and table), freed in _release.
            r = _p()
            lib.tl_reporter_create_terminal(ctypes.byref(r), None, 0)
            self._reporter = r
            lib.tl_learner_add_reporter(inner, r)
        return self

    def _release(self):
        text = getattr(self, "_text", None)
        self._handle = _p()
        if text:
            self._text = None
            lib.tl_text_learner_free(text)
        r, self._reporter = getattr(self, "_reporter", None), None
        if r:  # after the learner, which borrowed it (tl.Learner's progress)
            lib.tl_reporter_free(r)

    def _text_live(self):
        self._live()
        return self._text

    @property
    def is_classifier(self):
        return self.labels is not None

    def set_data(self, train, valid=None):
        """A classifier takes tl.ClasLoader (pad_first=False): every batch
        is encoded from a zero state. Anything else as tl.Learner."""
        if self.is_classifier and isinstance(train, ClasLoader):
            for dl in (train, valid):
                if dl is not None and dl.pad_first:
                    raise ValueError("text_classifier_learner: create the "
                                     "ClasLoader with pad_first=False")
            tl_ = np.ascontiguousarray(train.doc_lens, dtype=np.uintp)
            vl = (None if valid is None
                  else np.ascontiguousarray(valid.doc_lens, dtype=np.uintp))
            self._keep += [tl_, vl]
            lib.tl_text_learner_set_clas_data(
                self._text_live(), train._live(),
                None if valid is None else valid._live(),
                tl_.ctypes.data_as(c_size_p), tl_.size,
                None if vl is None else vl.ctypes.data_as(c_size_p),
                0 if vl is None else vl.size, train.bs, train.max_len)
            self.train, self.valid = train, valid
            return
        super().set_data(train, valid)

    def save_encoder(self, path):
        """fastai's save_encoder: the encoder with the vocabulary."""
        lib.tl_text_learner_save_encoder(self._text_live(), _check.c_path(path))

    def load_encoder(self, path):
        """fastai's load_encoder (rows remapped onto this vocabulary)."""
        lib.tl_text_learner_load_encoder(self._text_live(), _check.c_path(path))

    def export(self, path):
        """fastai's export: models, architecture, vocabulary, tokenizer
        settings, labels and groups in one file (tl.load_learner)."""
        lib.tl_text_learner_export(self._text_live(), _check.c_path(path))

    def predict(self, text):
        """fastai's predict: (label, class index, probabilities)."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        k = 0 if self.labels is None else len(self.labels)  # an LM: C says so
        probs = np.zeros(k, dtype=np.float32)
        cls = ctypes.c_int64()
        lib.tl_text_learner_predict(
            ctypes.byref(cls), probs.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            k, self._text_live(), data, len(data))
        assert self.labels is not None  # C refused a language model
        return self.labels.label(cls.value), cls.value, probs

    def get_preds(self, dl=None):
        """fastai's get_preds on a tl.ClasLoader (default: the validation
        loader): (probabilities (n, n_classes), targets (n,)) in the
        loader's order."""
        dl = self.valid if dl is None else dl
        if not isinstance(dl, ClasLoader):
            raise ValueError("get_preds takes a tl.ClasLoader")
        k, n = len(self.labels), len(dl.doc_lens)
        probs = np.zeros((n, k), dtype=np.float32)
        targets = np.zeros(n, dtype=np.int64)
        lens = np.ascontiguousarray(dl.doc_lens, dtype=np.uintp)
        got = ctypes.c_size_t()
        lib.tl_text_learner_get_preds(
            probs.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            targets.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), n,
            ctypes.byref(got), self._text_live(), dl._live(),
            lens.ctypes.data_as(c_size_p), lens.size, dl.max_len)
        return probs[:got.value], targets[:got.value]


def language_model_learner(vocab, drop_mult=1.0, pretrained=None, config=None,
                           seed=0, train=None, valid=None, metrics=(),
                           progress=False):
    """fastai's language_model_learner(dls, AWD_LSTM, drop_mult,
    pretrained): pretrained is a checkpoint path (fastai names "0.", "1.",
    with its vocabulary: rows remapped onto vocab, then frozen).
    progress=True reports every fit on stderr (as tl.Learner's)."""
    fn = "language_model_learner"
    o = _options(lib.tl_awd_lstm_options_init, config, seed, fn)
    out = _p()
    lib.tl_language_model_learner(
        ctypes.byref(out), vocab._live(), ctypes.byref(o), float(drop_mult),
        None if pretrained is None else _check.c_path(pretrained), None)
    return TextLearner._wrap(out, train, valid, metrics, progress=progress)


def text_classifier_learner(vocab, labels, drop_mult=1.0, max_len=72 * 20,
                            lin_ftrs=None, ps=None, config=None, seed=0,
                            train=None, valid=None, metrics=(), progress=False):
    """fastai's text_classifier_learner(dls, AWD_LSTM, drop_mult, max_len,
    lin_ftrs, ps); labels is a tl.LabelVocab. progress=True reports every
    fit on stderr (as tl.Learner's)."""
    fn = "text_classifier_learner"
    o = _options(lib.tl_awd_lstm_clas_options_init, config, seed, fn)
    lin = None if lin_ftrs is None else [
        _check.size(v, "lin_ftrs", fn) for v in lin_ftrs]
    lin_a = None if lin is None else (ctypes.c_size_t * max(len(lin), 1))(*lin)
    ps_a = None if ps is None else (ctypes.c_float * max(len(ps), 1))(
        *[float(p) for p in ps])
    out = _p()
    lib.tl_text_classifier_learner(
        ctypes.byref(out), vocab._live(), labels._live(), float(drop_mult),
        _check.size(max_len, "max_len", fn), lin_a, 0 if lin is None else len(lin),
        ps_a, 0 if ps is None else len(ps), ctypes.byref(o), None)
    return TextLearner._wrap(out, train, valid, metrics, progress=progress)


def load_learner(path):
    """fastai's load_learner: a TextLearner rebuilt from an exported file
    alone, ready for predict and get_preds."""
    out = _p()
    lib.tl_load_learner(ctypes.byref(out), _check.c_path(path), None)
    return TextLearner._wrap(out)

