"""fastai's AWD-LSTM models and encoders saved with their vocabulary
(include/tl/arch.h, docs/arch.md).

    enc, dec = tl.arch.awd_lstm_lm(len(vocab), drop_mult=0.3)
    tl.arch.save_encoder(enc, vocab, "lm_enc.tlc")
    clas_enc = tl.arch.awd_lstm_encoder(len(clas_vocab), drop_mult=0.5)
    is_new = tl.arch.load_encoder(clas_enc, clas_vocab, "lm_enc.tlc")

Layer names follow fastai's modules ("encoder", "rnns_0", ..., "decoder"),
so "rnns_1.weight_hh_l0" is fastai's "0.rnns.1.weight_hh_l0_raw".
config is a dict of fastai's AWD_LSTM arguments (emb_sz, n_hid, n_layers,
pad_token, output_p, hidden_p, input_p, embed_p, weight_p) plus ar_alpha
and tar_beta; what it omits keeps fastai's defaults (AWD_LSTM_LM_CONFIG for
the language model, AWD_LSTM_CLAS_CONFIG for the classifier encoder).
"""
import ctypes
import os

import numpy as np

from . import _check
from . import _versions as _v
from ._native import lib, register, status
from .checkpoint import _Handle
from .model import Model

__all__ = ["AWD_LSTM_LM_CONFIG", "AWD_LSTM_CLAS_CONFIG", "awd_lstm_lm",
           "awd_lstm_encoder", "awd_lstm_classifier", "pooling_linear",
           "save_encoder", "load_encoder", "save_models",
           "load_models"]

_vp = ctypes.c_void_p


class _AwdLstmOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("emb_sz", ctypes.c_size_t),
                ("n_hid", ctypes.c_size_t), ("n_layers", ctypes.c_size_t),
                ("pad_token", ctypes.c_int64), ("output_p", ctypes.c_float),
                ("hidden_p", ctypes.c_float), ("input_p", ctypes.c_float),
                ("embed_p", ctypes.c_float), ("weight_p", ctypes.c_float),
                ("ar_alpha", ctypes.c_float), ("tar_beta", ctypes.c_float),
                ("seed", ctypes.c_uint64)]


_Opts_p = ctypes.POINTER(_AwdLstmOptions)

register([
    ("tl_awd_lstm_options_init", [_Opts_p, ctypes.c_uint], status),
    ("tl_awd_lstm_clas_options_init", [_Opts_p, ctypes.c_uint], status),
    ("tl_awd_lstm_lm_create", [ctypes.POINTER(_vp), ctypes.POINTER(_vp),
                               ctypes.c_size_t, _Opts_p, ctypes.c_float],
     status),
    ("tl_awd_lstm_encoder_create", [ctypes.POINTER(_vp), ctypes.c_size_t,
                                    _Opts_p, ctypes.c_float], status),
    ("tl_pooling_linear_create", [ctypes.POINTER(_vp), ctypes.c_size_t,
                                  ctypes.c_size_t,
                                  ctypes.POINTER(ctypes.c_size_t),
                                  ctypes.c_size_t,
                                  ctypes.POINTER(ctypes.c_float),
                                  ctypes.c_size_t, ctypes.c_uint64], status),
    ("tl_awd_lstm_clas_create", [ctypes.POINTER(_vp), ctypes.POINTER(_vp),
                                 ctypes.c_size_t, ctypes.c_size_t, _Opts_p,
                                 ctypes.c_float,
                                 ctypes.POINTER(ctypes.c_size_t),
                                 ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_float),
                                 ctypes.c_size_t], status),
    ("tl_encoder_save", [_vp, _vp, ctypes.c_char_p], status),
    ("tl_encoder_load", [_vp, _vp, ctypes.c_char_p,
                         ctypes.POINTER(ctypes.c_uint8)], status),
    ("tl_ckpt_store_arch", [_vp, ctypes.POINTER(_vp),
                            ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t],
     status),
    ("tl_ckpt_arch_count", [ctypes.POINTER(ctypes.c_size_t), _vp], status),
    ("tl_ckpt_arch_prefix", [ctypes.POINTER(ctypes.c_char_p), _vp,
                             ctypes.c_size_t], status),
    ("tl_ckpt_create_models", [ctypes.POINTER(_vp), ctypes.c_size_t, _vp,
                               ctypes.c_int], status),
])

_SIZES = ("emb_sz", "n_hid", "n_layers")
_FLOATS = ("output_p", "hidden_p", "input_p", "embed_p", "weight_p",
           "ar_alpha", "tar_beta")


def _defaults(init):
    o = _AwdLstmOptions()
    init(ctypes.byref(o), _v.AWD_LSTM_OPTIONS_VERSION)
    return o


def _as_dict(o):
    d = {k: int(getattr(o, k)) for k in _SIZES + ("pad_token",)}
    d.update({k: round(float(getattr(o, k)), 6) for k in _FLOATS})
    return d


# fastai's awd_lstm_lm_config and awd_lstm_clas_config (with AR/TAR).
AWD_LSTM_LM_CONFIG = _as_dict(_defaults(lib.tl_awd_lstm_options_init))
AWD_LSTM_CLAS_CONFIG = _as_dict(_defaults(lib.tl_awd_lstm_clas_options_init))


def _options(init, config, seed, fn):
    o = _defaults(init)
    for key, value in (config or {}).items():
        if key in _SIZES:
            setattr(o, key, _check.size(value, key, fn))
        elif key == "pad_token":
            o.pad_token = -1 if value is None else _check.int64(value, key, fn)
        elif key in _FLOATS:
            setattr(o, key, float(value))
        else:
            raise ValueError("%s: unknown config key %r (known: %s)"
                             % (fn, key, ", ".join(_SIZES + ("pad_token",) + _FLOATS)))
    o.seed = _check.uint64(seed, "seed", fn)
    return o


def _adopt(handle, takes_ids):
    """A Model wrapping a handle the library created (the caller's
    reference)."""
    m = Model.__new__(Model)
    m._handle = handle
    m._takes_ids = takes_ids
    m._views = []
    return m


def awd_lstm_lm(vocab_size, drop_mult=1.0, config=None, seed=0):
    """fastai's get_language_model(AWD_LSTM, vocab_size, config, drop_mult):
    (encoder, decoder) Models; the decoder's weight is the encoder's
    embedding and its bias zeros. Every dropout probability is multiplied
    by drop_mult."""
    fn = "awd_lstm_lm"
    o = _options(lib.tl_awd_lstm_options_init, config, seed, fn)
    enc, dec = _vp(), _vp()
    lib.tl_awd_lstm_lm_create(ctypes.byref(enc), ctypes.byref(dec),
                              _check.size(vocab_size, "vocab_size", fn),
                              ctypes.byref(o), float(drop_mult))
    encoder = _adopt(enc, True)
    decoder = _adopt(dec, False)
    decoder._tied = [encoder]
    return encoder, decoder


def awd_lstm_encoder(vocab_size, drop_mult=1.0, config=None, seed=0):
    """The AWD_LSTM encoder of fastai's get_text_classifier (classifier
    dropouts by default), stateful so tl.Predictor can encode long texts in
    chunks: call reset_state() before each independent batch."""
    fn = "awd_lstm_encoder"
    o = _options(lib.tl_awd_lstm_clas_options_init, config, seed, fn)
    enc = _vp()
    lib.tl_awd_lstm_encoder_create(ctypes.byref(enc),
                                   _check.size(vocab_size, "vocab_size", fn),
                                   ctypes.byref(o), float(drop_mult))
    return _adopt(enc, True)


def _sizes(values, what, fn):
    arr = (ctypes.c_size_t * max(len(values), 1))()
    for i, v in enumerate(values):
        arr[i] = _check.size(v, what, fn)
    return arr


def _floats(values):
    arr = (ctypes.c_float * max(len(values), 1))()
    for i, v in enumerate(values):
        arr[i] = float(v)
    return arr


def pooling_linear(n_features, n_classes, lin_ftrs=(50,), ps=None, seed=0):
    """fastai's PoolingLinearClassifier as a head Model: concat pooling,
    then BatchNorm1d, Dropout (omitted when 0), Linear without bias per
    layer, ReLU between. ps: len(lin_ftrs) + 1 probabilities (default 0.1
    each)."""
    fn = "pooling_linear"
    lin = list(lin_ftrs)
    ps = [0.1] * (len(lin) + 1) if ps is None else list(ps)
    head = _vp()
    lib.tl_pooling_linear_create(
        ctypes.byref(head), _check.size(n_features, "n_features", fn),
        _check.size(n_classes, "n_classes", fn), _sizes(lin, "lin_ftrs", fn),
        len(lin), _floats(ps), len(ps), _check.uint64(seed, "seed", fn))
    return _adopt(head, False)


def awd_lstm_classifier(vocab_size, n_classes, drop_mult=1.0, config=None,
                        lin_ftrs=None, ps=None, seed=0):
    """fastai's get_text_classifier(AWD_LSTM, vocab_size, n_classes, ...):
    (encoder, head) Models. lin_ftrs None is fastai's [50], ps None 0.1 per
    hidden layer; the head's first dropout is output_p * drop_mult."""
    fn = "awd_lstm_classifier"
    o = _options(lib.tl_awd_lstm_clas_options_init, config, seed, fn)
    enc, head = _vp(), _vp()
    lin = None if lin_ftrs is None else list(lin_ftrs)
    pss = None if ps is None else list(ps)
    lib.tl_awd_lstm_clas_create(
        ctypes.byref(enc), ctypes.byref(head),
        _check.size(vocab_size, "vocab_size", fn),
        _check.size(n_classes, "n_classes", fn), ctypes.byref(o),
        float(drop_mult), None if lin is None else _sizes(lin, "lin_ftrs", fn),
        0 if lin is None else len(lin), None if pss is None else _floats(pss),
        0 if pss is None else len(pss))
    return _adopt(enc, True), _adopt(head, False)


def save_encoder(encoder, vocab, path):
    """fastai's save_encoder: the encoder's parameters, its vocabulary (a
    tl.Vocab) and its architecture in one checkpoint file."""
    lib.tl_encoder_save(encoder._live(), vocab._live(),
                        os.fsencode(os.fspath(path)))


def load_encoder(encoder, vocab, path):
    """fastai's load_encoder: loads the file's parameters into encoder,
    whose embedding has vocab's rows; when the file's vocabulary differs the
    rows are remapped (a word found keeps its row, a new word gets the mean
    row). Returns a uint8 array, 1 for the words the file lacked."""
    is_new = np.zeros(len(vocab), dtype=np.uint8)
    lib.tl_encoder_load(
        encoder._live(), vocab._live(), os.fsencode(os.fspath(path)),
        is_new.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)))
    return is_new


def save_models(path, models, prefixes=None):
    """Saves models (a list; a decoder after the model it is tied to) with
    their parameters under prefixes (default "0.", "1.", ...) and their
    architecture, atomically: load_models(path) rebuilds them from the file
    alone."""
    models = list(models)
    if prefixes is None:
        prefixes = ["%d." % i for i in range(len(models))]
    prefixes = [_check.c_string(p, "prefixes", "save_models") for p in prefixes]
    if len(prefixes) != len(models):
        raise ValueError("save_models: %d models but %d prefixes"
                         % (len(models), len(prefixes)))
    handles = (_vp * len(models))(*[m._live() for m in models])
    names = (ctypes.c_char_p * len(models))(*prefixes)
    with _Handle() as ck:
        for m, p in zip(models, prefixes):
            lib.tl_ckpt_store_model(ck, m._live(), p)
        lib.tl_ckpt_store_arch(ck, handles, names, len(models))
        lib.tl_ckpt_save(ck, _check.c_path(path))


def load_models(path):
    """The models of a file written by save_models (or any checkpoint with
    an architecture section), rebuilt and their parameters restored:
    a dict prefix -> Model in the file's order. A file without an
    architecture section raises tl.NotFoundError."""
    ptr = _vp()
    lib.tl_ckpt_load(ctypes.byref(ptr), _check.c_path(path), None)
    with _Handle(ptr) as ck:
        n = ctypes.c_size_t()
        lib.tl_ckpt_arch_count(ctypes.byref(n), ck)
        out = (_vp * n.value)()
        lib.tl_ckpt_create_models(out, n.value, ck, 1)
        result = {}
        for i in range(n.value):
            p = ctypes.c_char_p()
            lib.tl_ckpt_arch_prefix(ctypes.byref(p), ck, i)
            m = _adopt(_vp(out[i]), None)
            result[p.value.decode("utf-8", "surrogateescape")] = m
    _decide_inputs(list(result.values()))
    return result


def _decide_inputs(models):
    """Sets each rebuilt Model's "takes ids" flag: an embedding first."""
    for m in models:
        kinds = m.layer_kinds()
        m._takes_ids = bool(kinds) and kinds[0] == "embedding"
