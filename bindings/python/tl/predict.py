"""tl.Predictor: text in, class probabilities out (include/tl/predict.h).

    enc = tl.Model(); enc.add_embedding(...); enc.add_lstm(..., stateful=True)
    head = tl.Model(); head.add_concat_pool("pool"); head.add_linear(...)
    pred = tl.Predictor(enc, head, tokenizer, vocab, n_classes, bptt=72, max_len=1440)
    pred(["great film", "awful"])          # (2, n_classes) float32 probabilities
    pred.encode(ids)                       # kept encoder outputs (T, 1, H)

Long documents are encoded in bptt chunks carrying the LSTM state, keeping
the outputs of the chunks within the last max_len tokens (fastai's
SentenceEncoder).
"""
import ctypes

import numpy as np

from . import _versions as _v
from ._native import OwnedHandle, c_size_p, lib, register, status

__all__ = ["Predictor"]

_p = ctypes.c_void_p
_i64_p = ctypes.POINTER(ctypes.c_int64)
_f32_p = ctypes.POINTER(ctypes.c_float)


class _Options(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("bptt", ctypes.c_size_t),
                ("max_len", ctypes.c_size_t)]


register([
    ("tl_doc_encoder_options_init", [ctypes.POINTER(_Options), ctypes.c_uint], status),
    ("tl_doc_encoder_create", [ctypes.POINTER(_p), _p, _p, ctypes.POINTER(_Options)],
     status),
    ("tl_doc_encoder_free", [_p], None),
    ("tl_doc_encoder_encode", [ctypes.POINTER(_f32_p), c_size_p, c_size_p, _p, _i64_p,
                               ctypes.c_size_t], status),
    ("tl_predict_ids", [_f32_p, ctypes.c_size_t, _p, _i64_p, ctypes.c_size_t], status),
    ("tl_predict_texts", [_f32_p, ctypes.c_size_t, _p, _p, _p,
                          ctypes.POINTER(ctypes.c_char_p), c_size_p, ctypes.c_size_t],
     status),
])


class Predictor(OwnedHandle):
    _free = "tl_doc_encoder_free"
    _what = "predictor"

    def __init__(self, encoder, head, tokenizer=None, vocab=None, n_classes=None,
                 bptt=72, max_len=72 * 20):
        opts = _Options()
        lib.tl_doc_encoder_options_init(ctypes.byref(opts), _v.DOC_ENCODER_OPTIONS_VERSION)
        opts.bptt, opts.max_len = int(bptt), int(max_len)
        handle = _p()
        lib.tl_doc_encoder_create(ctypes.byref(handle), encoder._live(),
                                  None if head is None else head._live(), ctypes.byref(opts))
        self._handle = handle
        # Keep the models, tokenizer and vocabulary alive as long as this.
        self.encoder, self.head, self.tokenizer, self.vocab = encoder, head, tokenizer, vocab
        self.n_classes = n_classes

    def encode(self, ids):
        a = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        out, t, h = _f32_p(), ctypes.c_size_t(), ctypes.c_size_t()
        lib.tl_doc_encoder_encode(ctypes.byref(out), ctypes.byref(t), ctypes.byref(h),
                                  self._live(), a.ctypes.data_as(_i64_p), a.size)
        return np.ctypeslib.as_array(out, shape=(t.value, 1, h.value)).copy()

    def predict_ids(self, ids):
        a = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        out = np.empty(self.n_classes, dtype=np.float32)
        lib.tl_predict_ids(out.ctypes.data_as(_f32_p), self.n_classes, self._live(),
                           a.ctypes.data_as(_i64_p), a.size)
        return out

    def __call__(self, texts):
        """(len(texts), n_classes) probabilities; one str gives one row."""
        single = isinstance(texts, (str, bytes))
        if single:
            texts = [texts]
        data = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in texts]
        n = len(data)
        arr = (ctypes.c_char_p * max(n, 1))(*data)
        lens = (ctypes.c_size_t * max(n, 1))(*[len(d) for d in data])
        out = np.empty((n, self.n_classes), dtype=np.float32)
        lib.tl_predict_texts(out.ctypes.data_as(_f32_p), self.n_classes, self._live(),
                             self.tokenizer._live(), self.vocab._live(), arr, lens, n)
        return out[0] if single else out
