"""tl.Model: a stack of layers with named parameters in one flat buffer
(include/tl/model.h).

    m = tl.Model(seed=0)
    m.add_embedding("emb", 100, 16, padding_idx=0)
    m.add_lstm("rnn", input_size=16, hidden_size=32, num_layers=2, weight_p=.2)
    m.add_linear("fc", 32, 10)
    y = m.forward(ids)          # int64 (T, B) -> float32 (T, B, 10), a copy
    dx = m.backward(dy)         # None for an embedding-first model
    m.params()["fc.weight"]     # writable numpy view, no copy

Lifetimes follow clang's cindex: the wrapper holds the handle as
_as_parameter_; numpy views keep the Model alive (their base object holds a
reference to it); close() or the context manager releases the handle as soon
as no view is left (otherwise when the last view dies). Views stay valid
until the structure changes: every add_* call moves the flat buffers, so
take views after building.
"""
import ctypes
import weakref

import numpy as np

from . import _check, _errors
from ._native import OwnedHandle, c_size_p, lib, register, status
from . import _versions as _v

__all__ = ["Model", "ACTIVATIONS", "cross_entropy", "accuracy"]

_c_float_pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
_c_char_pp = ctypes.POINTER(ctypes.c_char_p)
_MAX_DIMS = 4
ACTIVATIONS = {None: 0, "none": 0, "relu": 1, "tanh": 2, "sigmoid": 3}
_DROPOUT_KINDS = {"standard": 0, "locked": 1}
_MODES = {"fine_tune": 0, "feature_extract": 1}
_MODE_NAMES = {v: k for k, v in _MODES.items()}


class _ModelOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("seed", ctypes.c_uint64)]


class _EmbeddingOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("padding_idx", ctypes.c_int64),
                ("embed_p", ctypes.c_float)]


class _LstmOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("weight_p", ctypes.c_float),
                ("input_p", ctypes.c_float), ("hidden_p", ctypes.c_float),
                ("output_p", ctypes.c_float), ("ar_alpha", ctypes.c_float),
                ("tar_beta", ctypes.c_float), ("stateful", ctypes.c_int)]


class _GruOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("weight_p", ctypes.c_float),
                ("hidden_p", ctypes.c_float), ("stateful", ctypes.c_int)]


class _BatchnormOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("momentum", ctypes.c_double),
                ("eps", ctypes.c_double), ("affine", ctypes.c_int)]
class _LinearOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("activation", ctypes.c_int),
                ("bias", ctypes.c_int)]


_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_cs = ctypes.c_char_p
_f32p = ctypes.POINTER(ctypes.c_float)
_f64p = ctypes.POINTER(ctypes.c_double)
_i64p = ctypes.POINTER(ctypes.c_int64)
_u8p = ctypes.POINTER(ctypes.c_uint8)
_ip = ctypes.POINTER(ctypes.c_int)

register([
    ("tl_model_options_init", [ctypes.POINTER(_ModelOptions), ctypes.c_uint],
     status),
    ("tl_model_create", [ctypes.POINTER(_vp), ctypes.POINTER(_ModelOptions)],
     status),
    ("tl_model_free", [_vp], None),
    ("tl_embedding_options_init",
     [ctypes.POINTER(_EmbeddingOptions), ctypes.c_uint], status),
    ("tl_lstm_options_init", [ctypes.POINTER(_LstmOptions), ctypes.c_uint],
     status),
    ("tl_gru_options_init", [ctypes.POINTER(_GruOptions), ctypes.c_uint],
     status),
    ("tl_model_add_embedding",
     [_vp, _cs, _sz, _sz, ctypes.POINTER(_EmbeddingOptions)], status),
    ("tl_model_add_lstm", [_vp, _cs, _sz, _sz, _sz,
                           ctypes.POINTER(_LstmOptions)], status),
    ("tl_model_add_gru", [_vp, _cs, _sz, _sz, _sz,
                          ctypes.POINTER(_GruOptions)], status),
    ("tl_batchnorm_options_init",
     [ctypes.POINTER(_BatchnormOptions), ctypes.c_uint], status),
    ("tl_model_add_batchnorm1d",
     [_vp, _cs, _sz, ctypes.POINTER(_BatchnormOptions)], status),
    ("tl_model_set_train_bn", [_vp, ctypes.c_int], status),
    ("tl_model_get_train_bn", [_ip, _vp], status),
    ("tl_model_num_buffers", [c_size_p, _vp], status),
    ("tl_model_buffer_name", [_c_char_pp, _vp, _sz], status),
    ("tl_model_buffer_shape", [c_size_p, c_size_p, c_size_p, _vp, _cs],
     status),
    ("tl_model_buffer_view", [_c_float_pp, _vp, _cs], status),
    ("tl_model_buffer_get", [_f64p, _sz, _vp, _cs], status),
    ("tl_model_buffer_set", [_vp, _cs, _f64p, _sz], status),
    ("tl_model_add_linear", [_vp, _cs, _sz, _sz, ctypes.c_int], status),
    ("tl_linear_options_init", [ctypes.POINTER(_LinearOptions), ctypes.c_uint],
     status),
    ("tl_model_add_linear_ex",
     [_vp, _cs, _sz, _sz, ctypes.POINTER(_LinearOptions)], status),
    ("tl_model_add_dropout", [_vp, _cs, ctypes.c_int, ctypes.c_float],
     status),
    ("tl_model_add_concat_pool", [_vp, _cs], status),
    ("tl_model_add_decoder", [_vp, _cs, _sz, _sz, _vp, _cs], status),
    ("tl_model_num_layers", [c_size_p, _vp], status),
    ("tl_model_layer_name", [_c_char_pp, _vp, _sz], status),
    ("tl_model_layer_index", [c_size_p, _vp, _cs], status),
    ("tl_model_layer_kind", [_c_char_pp, _vp, _sz], status),
    ("tl_model_set_group", [_vp, _cs, _sz], status),
    ("tl_model_get_group", [c_size_p, _vp, _cs], status),
    ("tl_model_num_groups", [c_size_p, _vp], status),
    ("tl_model_freeze_to", [_vp, ctypes.c_int64], status),
    ("tl_model_freeze", [_vp], status),
    ("tl_model_unfreeze", [_vp], status),
    ("tl_model_set_group_trainable", [_vp, _sz, ctypes.c_int], status),
    ("tl_model_get_group_trainable", [_ip, _vp, _sz], status),
    ("tl_model_num_params", [c_size_p, _vp], status),
    ("tl_model_param_name", [_c_char_pp, _vp, _sz], status),
    ("tl_model_param_index", [c_size_p, _vp, _cs], status),
    ("tl_model_param_shape", [c_size_p, c_size_p, c_size_p, _vp, _cs],
     status),
    ("tl_model_param_offset", [c_size_p, _vp, _cs], status),
    ("tl_model_param_view", [_c_float_pp, _c_float_pp, _vp, _cs], status),
    ("tl_model_param_get", [_f32p, _sz, _vp, _cs], status),
    ("tl_model_param_set", [_vp, _cs, _f32p, _sz], status),
    ("tl_model_flat_params", [_c_float_pp, c_size_p, _vp], status),
    ("tl_model_flat_grads", [_c_float_pp, c_size_p, _vp], status),
    ("tl_model_layout_fingerprint", [ctypes.POINTER(ctypes.c_uint64), _vp],
     status),
    # Declared for completeness (C callers: libtl-mpi's overlapped
    # allreduce); Model has no Python method for it.
    ("tl_model_set_grad_ready_callback", [_vp, _vp, _vp], status),
    ("tl_model_layout_describe", [ctypes.c_char_p, _sz, c_size_p, _vp],
     status),
    ("tl_model_set_param_trainable", [_vp, _cs, ctypes.c_int], status),
    ("tl_model_get_param_trainable", [_ip, _vp, _cs], status),
    ("tl_model_set_param_mask", [_vp, _cs, _u8p, _sz], status),
    ("tl_model_train", [_vp], status),
    ("tl_model_eval", [_vp], status),
    ("tl_model_is_training", [_ip, _vp], status),
    ("tl_model_set_mode", [_vp, ctypes.c_int], status),
    ("tl_model_get_mode", [_ip, _vp], status),
    ("tl_model_set_lengths", [_vp, c_size_p, _sz], status),
    ("tl_model_forward", [_c_float_pp, c_size_p, c_size_p, _vp, _f32p,
                          c_size_p, _sz], status),
    ("tl_model_forward_ids", [_c_float_pp, c_size_p, c_size_p, _vp, _i64p,
                              c_size_p, _sz], status),
    ("tl_model_backward", [_c_float_pp, _vp, _f32p, c_size_p, _sz], status),
    ("tl_model_layer_output", [_c_float_pp, c_size_p, c_size_p, _vp, ctypes.c_char_p],
     status),
    ("tl_model_layer_output_grad", [_vp, ctypes.c_char_p, _f32p, c_size_p, _sz], status),
    ("tl_model_reset_state", [_vp], status),
    ("tl_model_step_prepare", [c_size_p, _vp, _sz, _sz], status),
    ("tl_model_step", [_f32p, _sz, _vp, _f32p, _sz, _sz], status),
    ("tl_model_step_ids", [_f32p, _sz, _vp, _i64p, _sz], status),
    ("tl_model_reset_row", [_vp, _sz], status),
    ("tl_model_aux_loss", [ctypes.POINTER(ctypes.c_double), _vp], status),
    ("tl_model_zero_grad", [_vp], status),
    ("tl_cross_entropy", [_f32p, _f32p, _f32p, _i64p, _sz, _sz,
                          ctypes.c_int64], status),
    ("tl_accuracy", [_f32p, _f32p, _i64p, _sz, _sz, ctypes.c_int64], status),
])


def _raw(name, argtypes):
    """A second ctypes function object for `name` without the errcheck and
    range-check wrappers: Model.step checks the status itself, and every
    integer it passes comes from a prepared step, so the per-call cost is
    ctypes' own (about 1 us less per step)."""
    fn = lib[name]
    fn.argtypes = argtypes
    fn.restype = ctypes.c_int
    return fn


_step_raw = _raw("tl_model_step", [_vp, _sz, _vp, _vp, _sz, _sz])
_step_ids_raw = _raw("tl_model_step_ids", [_vp, _sz, _vp, _vp, _sz])


def _dims(shape):
    if len(shape) > _MAX_DIMS:
        raise _errors.ShapeError(
            "inputs have at most %d dimensions (got shape %s)"
            % (_MAX_DIMS, tuple(shape)))
    return (ctypes.c_size_t * _MAX_DIMS)(*shape), len(shape)


def _copy_out(ptr, dims, ndim):
    shape = tuple(dims[i] for i in range(ndim.value))
    n = int(np.prod(shape))
    return np.ctypeslib.as_array(ptr, shape=(n,)).reshape(shape).copy()


def _name(name, argname="name", function=None):
    """A layer or parameter name as C bytes (no NUL inside: _check)."""
    return _check.c_string(name, argname, function)


class Model(OwnedHandle):
    """An ordered stack of layers (see the module docstring)."""

    _free, _what = "tl_model_free", "model"

    def __init__(self, seed=0):
        opts = _ModelOptions()
        lib.tl_model_options_init(ctypes.byref(opts), _v.MODEL_OPTIONS_VERSION)
        opts.seed = _check.uint64(seed, "seed", "Model")
        handle = _vp()
        lib.tl_model_create(ctypes.byref(handle), ctypes.byref(opts))
        self._handle = handle
        self._takes_ids = None  # decided by the first layer
        self._views = []  # weak references to the buffers behind views

    # ---- lifetime: OwnedHandle (close() waits for the last numpy view) ------
    def _pinned(self):
        return any(r() is not None for r in self._views)

    # ---- building ---------------------------------------------------------
    def _changing_structure(self):
        """The handle, once no numpy view of this model's buffers is alive:
        adding a layer moves the flat buffers (tl_model_add_* frees the old
        ones), so a live view would point at freed memory."""
        handle = self._live()
        if any(r() is not None for r in self._views):
            raise _errors.StateError(
                "adding a layer moves the parameter and gradient buffers, and "
                "numpy views of them (params(), grads(), flat_params(), "
                "param_view(), ...) are still alive: drop them first (del), "
                "or keep copies (.copy())")
        return handle

    def _first(self, takes_ids):
        if self._takes_ids is None:
            self._takes_ids = takes_ids

    def add_embedding(self, name, num_embeddings, dim, padding_idx=None,
                      embed_p=0.0):
        o = _EmbeddingOptions()
        lib.tl_embedding_options_init(ctypes.byref(o), _v.EMBEDDING_OPTIONS_VERSION)
        fn = "Model.add_embedding"
        o.padding_idx = -1 if padding_idx is None else _check.int64(
            padding_idx, "padding_idx", fn)
        o.embed_p = float(embed_p)
        lib.tl_model_add_embedding(
            self._changing_structure(), _name(name, "name", fn),
            _check.size(num_embeddings, "num_embeddings", fn),
            _check.size(dim, "dim", fn), ctypes.byref(o))
        self._first(True)

    def add_lstm(self, name, input_size, hidden_size, num_layers=1,
                 weight_p=0.0, input_p=0.0, hidden_p=0.0, output_p=0.0,
                 ar_alpha=0.0, tar_beta=0.0, stateful=False):
        o = _LstmOptions()
        lib.tl_lstm_options_init(ctypes.byref(o), _v.LSTM_OPTIONS_VERSION)
        o.weight_p, o.input_p = float(weight_p), float(input_p)
        o.hidden_p, o.output_p = float(hidden_p), float(output_p)
        o.ar_alpha, o.tar_beta = float(ar_alpha), float(tar_beta)
        o.stateful = 1 if stateful else 0
        fn = "Model.add_lstm"
        lib.tl_model_add_lstm(
            self._changing_structure(), _name(name, "name", fn),
            _check.size(input_size, "input_size", fn),
            _check.size(hidden_size, "hidden_size", fn),
            _check.size(num_layers, "num_layers", fn), ctypes.byref(o))
        self._first(False)

    def add_gru(self, name, input_size, hidden_size, num_layers=1,
                weight_p=0.0, hidden_p=0.0, stateful=False):
        """torch.nn.GRU's layout and numerics, time-major (T, B, F);
        weight_p (DropConnect on weight_hh) and hidden_p (locked dropout
        between stacked layers) as add_lstm's, in train mode only; with
        stateful=True each forward continues from the previous one's final
        h (see reset_state)."""
        o = _GruOptions()
        lib.tl_gru_options_init(ctypes.byref(o), _v.GRU_OPTIONS_VERSION)
        o.weight_p, o.hidden_p = float(weight_p), float(hidden_p)
        o.stateful = 1 if stateful else 0
        fn = "Model.add_gru"
        lib.tl_model_add_gru(
            self._changing_structure(), _name(name, "name", fn),
            _check.size(input_size, "input_size", fn),
            _check.size(hidden_size, "hidden_size", fn),
            _check.size(num_layers, "num_layers", fn), ctypes.byref(o))
        self._first(False)

    def add_linear(self, name, in_features, out_features, activation=None,
                   bias=True):
        """torch.nn.Linear then the activation; bias=False registers only
        "<name>.weight" (torch's bias=False, fastai's LinBnDrop after a
        BatchNorm)."""
        if activation not in ACTIVATIONS:
            raise ValueError("activation must be one of %s"
                             % sorted(k for k in ACTIVATIONS if k))
        if not isinstance(bias, bool):
            raise TypeError("Model.add_linear: bias must be a bool")
        fn = "Model.add_linear"
        o = _LinearOptions()
        lib.tl_linear_options_init(ctypes.byref(o), _v.LINEAR_OPTIONS_VERSION)
        o.activation = ACTIVATIONS[activation]
        o.bias = 1 if bias else 0
        lib.tl_model_add_linear_ex(
            self._changing_structure(), _name(name, "name", fn),
            _check.size(in_features, "in_features", fn),
            _check.size(out_features, "out_features", fn), ctypes.byref(o))
        self._first(False)

    def add_batchnorm1d(self, name, num_features, momentum=0.1, eps=1e-5,
                        affine=True):
        """torch.nn.BatchNorm1d(num_features, eps, momentum, affine):
        (B, F), or (..., F) taken as rows of the flattened leading dims
        (torch's (N, C, L) layout differs: transpose to (N, L, C)). Train
        mode normalises with the batch statistics and updates the running
        ones (buffers, see buffer_names); eval mode uses the running ones.
        At least 2 rows in train mode (tl.ShapeError)."""
        o = _BatchnormOptions()
        lib.tl_batchnorm_options_init(ctypes.byref(o),
                                      _v.BATCHNORM_OPTIONS_VERSION)
        o.momentum, o.eps = float(momentum), float(eps)
        o.affine = 1 if affine else 0
        fn = "Model.add_batchnorm1d"
        lib.tl_model_add_batchnorm1d(
            self._changing_structure(), _name(name, "name", fn),
            _check.size(num_features, "num_features", fn), ctypes.byref(o))
        self._first(False)

    def add_dropout(self, name, p, kind="standard"):
        if kind not in _DROPOUT_KINDS:
            raise ValueError("kind must be 'standard' or 'locked'")
        lib.tl_model_add_dropout(
            self._changing_structure(), _name(name, "name",
                                              "Model.add_dropout"),
            _DROPOUT_KINDS[kind],
            float(p))
        self._first(False)

    def add_concat_pool(self, name):
        lib.tl_model_add_concat_pool(
            self._changing_structure(), _name(name, "name",
                                              "Model.add_concat_pool"))
        self._first(False)

    def add_decoder(self, name, in_features, out_features, tie=None,
                    tie_layer=None):
        """Linear decoder; tie_layer names an embedding (of `tie`, another
        Model, or of this one) whose weight it shares."""
        fn = "Model.add_decoder"
        other = None if tie is None else tie._live()
        lib.tl_model_add_decoder(
            self._changing_structure(), _name(name, "name", fn),
            _check.size(in_features, "in_features", fn),
            _check.size(out_features, "out_features", fn), other,
            _check.opt_c_string(tie_layer, "tie_layer", fn))
        if tie is not None and tie is not self:
            self._tied = getattr(self, "_tied", []) + [tie]
        self._first(False)

    # ---- layers and groups ------------------------------------------------
    def layer_names(self):
        n = ctypes.c_size_t()
        lib.tl_model_num_layers(ctypes.byref(n), self._live())
        out = []
        for i in range(n.value):
            s = ctypes.c_char_p()
            lib.tl_model_layer_name(ctypes.byref(s), self._live(), i)
            out.append(s.value.decode("utf-8"))
        return out

    def layer_kinds(self):
        """The kind of each layer ("embedding", "lstm", "gru", "linear",
        "dropout", "concat_pool", "decoder", "batchnorm1d"), in stack order."""
        n = ctypes.c_size_t()
        lib.tl_model_num_layers(ctypes.byref(n), self._live())
        out = []
        for i in range(n.value):
            s = ctypes.c_char_p()
            lib.tl_model_layer_kind(ctypes.byref(s), self._live(), i)
            out.append(s.value.decode("ascii"))
        return out

    def layer_index(self, name):
        """The position of the layer called `name` in the stack (0 for the
        first layer added). Raises tl.NotFoundError for an unknown name."""
        i = ctypes.c_size_t()
        lib.tl_model_layer_index(ctypes.byref(i), self._live(),
                                 _name(name, "name", "Model.layer_index"))
        return i.value

    @property
    def num_groups(self):
        n = ctypes.c_size_t()
        lib.tl_model_num_groups(ctypes.byref(n), self._live())
        return n.value

    def set_group(self, layer, group):
        fn = "Model.set_group"
        lib.tl_model_set_group(self._live(), _name(layer, "layer", fn),
                               _check.index(group, "group", fn))

    def group_of(self, layer):
        g = ctypes.c_size_t()
        lib.tl_model_get_group(ctypes.byref(g), self._live(),
                                 _name(layer, "layer", "Model.group_of"))
        return g.value

    def freeze_to(self, n):
        lib.tl_model_freeze_to(self._live(),
                               _check.int64(n, "n", "Model.freeze_to"))

    def freeze(self):
        lib.tl_model_freeze(self._live())

    def unfreeze(self):
        lib.tl_model_unfreeze(self._live())

    def set_group_trainable(self, group, trainable):
        lib.tl_model_set_group_trainable(
            self._live(), _check.index(group, "group", "Model.set_group_trainable"),
            1 if trainable else 0)

    def group_trainable(self, group):
        t = ctypes.c_int()
        lib.tl_model_get_group_trainable(
            ctypes.byref(t), self._live(),
            _check.index(group, "group", "Model.group_trainable"))
        return bool(t.value)

    @property
    def train_bn(self):
        """fastai's train_bn (default True): with True, freezing leaves
        BatchNorm parameters trainable and their statistics updating; with
        False a BatchNorm layer of a frozen group is frozen and normalises
        with its running statistics even in train mode (BnFreeze)."""
        t = ctypes.c_int()
        lib.tl_model_get_train_bn(ctypes.byref(t), self._live())
        return bool(t.value)

    @train_bn.setter
    def train_bn(self, value):
        lib.tl_model_set_train_bn(self._live(), 1 if value else 0)

    # ---- buffers (BatchNorm running statistics; not parameters) -------------
    def buffer_names(self):
        """Names of the model's buffers ("bn.running_mean", "bn.running_var",
        "bn.num_batches_tracked" per BatchNorm layer), in order."""
        n = ctypes.c_size_t()
        lib.tl_model_num_buffers(ctypes.byref(n), self._live())
        out = []
        for i in range(n.value):
            s = ctypes.c_char_p()
            lib.tl_model_buffer_name(ctypes.byref(s), self._live(), i)
            out.append(s.value.decode("utf-8"))
        return out

    def buffer_shape(self, name):
        """(num_features,) for a running statistic, () for the count."""
        nd, numel = ctypes.c_size_t(), ctypes.c_size_t()
        dims = (ctypes.c_size_t * _MAX_DIMS)()
        lib.tl_model_buffer_shape(ctypes.byref(nd), dims, ctypes.byref(numel),
                                  self._live(), _name(name))
        return tuple(dims[i] for i in range(nd.value))

    def buffer(self, name):
        """A copy of one buffer: a float32 array for a running statistic
        (exactly the model's values), an int for the count."""
        shape = self.buffer_shape(name)
        out = np.empty(shape, dtype=np.float64)
        lib.tl_model_buffer_get(out.ctypes.data_as(_f64p), max(out.size, 1),
                                self._live(), _name(name))
        if shape == ():
            return int(out[()])
        return out.astype(np.float32)

    def buffer_view(self, name):
        """A read-only numpy view (no copy) of a running statistic; it
        follows every train-mode forward. Read-only because libtl checks
        every write (set_buffer). tl.UnsupportedError for the count."""
        ptr = ctypes.POINTER(ctypes.c_float)()
        lib.tl_model_buffer_view(ctypes.byref(ptr), self._live(), _name(name))
        shape = self.buffer_shape(name)
        v = self._view(ptr, int(np.prod(shape)))
        v.flags.writeable = False
        return v

    def buffers(self):
        """dict name -> buffer(name), copies (torch's buffers of a
        state_dict)."""
        return {name: self.buffer(name) for name in self.buffer_names()}

    def set_buffer(self, name, values):
        """Sets one buffer: an array shaped like it for a statistic (rounded
        to float32), a whole number >= 0 for the count. tl.NumericError for
        NaN/Inf, a negative running_var or a bad count (the buffer is then
        unchanged)."""
        shape = self.buffer_shape(name)
        # np.array, not ascontiguousarray, which makes a scalar (1,)
        a = np.array(values, dtype=np.float64, order="C")
        if a.shape != shape and a.size == max(int(np.prod(shape)), 1):
            raise _errors.ShapeError(
                "Model.set_buffer: buffer '%s' has shape %s, values have "
                "shape %s" % (name, shape, a.shape), function="set_buffer")
        lib.tl_model_buffer_set(self._live(), _name(name),
                                a.ctypes.data_as(_f64p), a.size)

    # ---- parameters -------------------------------------------------------
    def param_names(self):
        n = ctypes.c_size_t()
        lib.tl_model_num_params(ctypes.byref(n), self._live())
        out = []
        for i in range(n.value):
            s = ctypes.c_char_p()
            lib.tl_model_param_name(ctypes.byref(s), self._live(), i)
            out.append(s.value.decode("utf-8"))
        return out

    def param_index(self, name):
        """The position of parameter `name` in param_names(). Raises
        tl.NotFoundError for an unknown name."""
        i = ctypes.c_size_t()
        lib.tl_model_param_index(ctypes.byref(i), self._live(), _name(name))
        return i.value

    def param_shape(self, name):
        nd, numel = ctypes.c_size_t(), ctypes.c_size_t()
        dims = (ctypes.c_size_t * _MAX_DIMS)()
        lib.tl_model_param_shape(ctypes.byref(nd), dims, ctypes.byref(numel),
                                 self._live(), _name(name))
        return tuple(dims[i] for i in range(nd.value))

    def _view(self, ptr, n):
        """A writable float32 numpy array over n floats at ptr (model
        memory) whose base keeps this Model alive."""
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        buf = (ctypes.c_float * n).from_address(
            ctypes.addressof(ptr.contents))
        buf._tl_model = self  # the view keeps the model alive
        self._views = [r for r in self._views if r() is not None]
        self._views.append(weakref.ref(buf))
        return np.frombuffer(buf, dtype=np.float32)

    def _flat(self, fn):
        ptr = ctypes.POINTER(ctypes.c_float)()
        n = ctypes.c_size_t()
        fn(ctypes.byref(ptr), ctypes.byref(n), self._live())
        return self._view(ptr, n.value)

    def flat_params(self):
        """Writable view of the whole flat parameter buffer."""
        return self._flat(lib.tl_model_flat_params)

    def flat_grads(self):
        """Writable view of the whole flat gradient buffer."""
        return self._flat(lib.tl_model_flat_grads)

    def layout_fingerprint(self):
        """64-bit FNV-1a hash of layout_text(): equal for models whose flat
        buffers line up (layers, kinds, groups, parameter names, shapes,
        offsets), whatever their values; what data-parallel ranks compare."""
        out = ctypes.c_uint64()
        lib.tl_model_layout_fingerprint(ctypes.byref(out), self._live())
        return out.value

    def layout_text(self):
        """The canonical layout text layout_fingerprint() hashes, one line
        per layer and per parameter (docs/model-and-optim.md)."""
        n = ctypes.c_size_t()
        lib.tl_model_layout_describe(None, 0, ctypes.byref(n), self._live())
        buf = ctypes.create_string_buffer(n.value + 1)
        lib.tl_model_layout_describe(buf, n.value + 1, None, self._live())
        return buf.value.decode("utf-8")

    def _views_by_name(self, flat):
        out = {}
        for name in self.param_names():
            off = ctypes.c_size_t()
            lib.tl_model_param_offset(ctypes.byref(off), self._live(),
                                      _name(name))
            shape = self.param_shape(name)
            n = int(np.prod(shape))
            out[name] = flat[off.value:off.value + n].reshape(shape)
        return out

    def params(self):
        """dict name -> writable numpy view of the parameter (no copy)."""
        return self._views_by_name(self.flat_params())

    def grads(self):
        """dict name -> writable numpy view of the gradient (no copy)."""
        return self._views_by_name(self.flat_grads())

    def _param_view(self, name, grad):
        data = ctypes.POINTER(ctypes.c_float)()
        g = ctypes.POINTER(ctypes.c_float)()
        lib.tl_model_param_view(None if grad else ctypes.byref(data), ctypes.byref(g) if grad else None,
                                self._live(), _name(name))
        shape = self.param_shape(name)
        return self._view(g if grad else data, int(np.prod(shape))).reshape(
            shape)

    def param_view(self, name):
        """A writable numpy view (no copy) of one parameter, shaped like
        it; as params()[name] without building every view. Like every view
        it keeps the model alive and is valid until the next add_* call."""
        return self._param_view(name, grad=False)

    def grad_view(self, name):
        """A writable numpy view (no copy) of one parameter's gradient;
        see param_view."""
        return self._param_view(name, grad=True)

    def param(self, name):
        """A float32 copy of one parameter, shaped like it (the model's
        memory is not shared: writing to it changes nothing)."""
        shape = self.param_shape(name)
        out = np.empty(shape, dtype=np.float32)
        lib.tl_model_param_get(out.ctypes.data_as(_f32p), out.size, self._live(),
                               _name(name))
        return out

    def set_param(self, name, values):
        """Copies values (anything numpy converts to float32, shaped like
        the parameter) into parameter `name`. Raises tl.ShapeError for
        another shape, tl.NumericError for NaN/Inf (the parameter is then
        unchanged), tl.NotFoundError for an unknown name."""
        shape = self.param_shape(name)
        a = np.ascontiguousarray(values, dtype=np.float32)
        if a.shape != shape and a.size == int(np.prod(shape)):
            # libtl checks the element count; the layout is checked here.
            raise _errors.ShapeError(
                "Model.set_param: parameter '%s' has shape %s, values have "
                "shape %s" % (name, shape, a.shape), function="set_param")
        lib.tl_model_param_set(self._live(), _name(name),
                               a.ctypes.data_as(_f32p), a.size)

    def set_param_trainable(self, name, trainable):
        lib.tl_model_set_param_trainable(self._live(), _name(name),
                                         1 if trainable else 0)

    def param_trainable(self, name):
        t = ctypes.c_int()
        lib.tl_model_get_param_trainable(ctypes.byref(t), self._live(), _name(name))
        return bool(t.value)

    def set_param_mask(self, name, mask):
        """Per-element trainable mask (nonzero = trainable); None clears."""
        if mask is None:
            lib.tl_model_set_param_mask(self._live(), _name(name), None, 0)
            return
        # nonzero = trainable, taken as such: a cast to uint8 would turn
        # 256 into 0 and 0.5 into 0.
        m = (np.ascontiguousarray(mask).ravel() != 0).astype(np.uint8)
        lib.tl_model_set_param_mask(self._live(), _name(name),
                                    m.ctypes.data_as(_u8p), m.size)

    def set_row_mask(self, name, rows):
        """Trains only some rows of a parameter: rows is a 1-D mask over
        its first dimension (nonzero or True = row trainable, every element
        of it), e.g. the is_new flags of Checkpoint.remap_vocab on
        "emb.weight" to train only the embeddings of new words. None
        removes the mask. Raises tl.ShapeError when len(rows) is not the
        number of rows."""
        from . import checkpoint  # noqa: F401  (declares include/tl/ckpt.h)
        if rows is None:
            lib.tl_model_set_row_mask(self._live(), _name(name), None, 0)
            return
        r = np.ascontiguousarray(rows)
        if r.ndim != 1:
            raise _errors.InvalidArgumentError(
                "Model.set_row_mask: rows must be one-dimensional (got shape "
                "%s)" % (r.shape,), function="set_row_mask")
        r = (r != 0).astype(np.uint8)
        lib.tl_model_set_row_mask(self._live(), _name(name),
                                  r.ctypes.data_as(_u8p), r.size)

    # ---- running ----------------------------------------------------------
    def train(self):
        lib.tl_model_train(self._live())

    def eval(self):
        lib.tl_model_eval(self._live())

    @property
    def training(self):
        t = ctypes.c_int()
        lib.tl_model_is_training(ctypes.byref(t), self._live())
        return bool(t.value)

    def set_mode(self, mode):
        """'fine_tune' or 'feature_extract'."""
        if mode not in _MODES:
            raise ValueError("mode must be 'fine_tune' or 'feature_extract'")
        lib.tl_model_set_mode(self._live(), _MODES[mode])

    @property
    def mode(self):
        """'fine_tune' (the default) or 'feature_extract'; assigning it is
        set_mode."""
        m = ctypes.c_int()
        lib.tl_model_get_mode(ctypes.byref(m), self._live())
        return _MODE_NAMES[m.value]

    @mode.setter
    def mode(self, mode):
        self.set_mode(mode)

    def set_lengths(self, lengths):
        """Sequence lengths for masked concat pooling; None: full."""
        if lengths is None:
            lib.tl_model_set_lengths(self._live(), None, 0)
            return
        arr = _check.size_array(lengths, "lengths", "Model.set_lengths")
        lib.tl_model_set_lengths(self._live(), arr, len(arr))

    def forward(self, x):
        """float32 (T, B, F) or (B, F) input, or int64 ids for an
        embedding-first model; returns a copy of the output."""
        y = ctypes.POINTER(ctypes.c_float)()
        od = (ctypes.c_size_t * _MAX_DIMS)()
        ond = ctypes.c_size_t()
        if self._takes_ids:
            # Integer ids only (this model starts with an embedding): no
            # float truncation, no uint64 wrapping into negative ids.
            a = _check.int_array(x, "ids", np.int64, "Model.forward")
            dims, nd = _dims(a.shape)
            lib.tl_model_forward_ids(ctypes.byref(y), od, ctypes.byref(ond),
                                     self._live(),
                                     a.ctypes.data_as(_i64p), dims, nd)
        else:
            a = np.ascontiguousarray(x, dtype=np.float32)
            dims, nd = _dims(a.shape)
            lib.tl_model_forward(ctypes.byref(y), od, ctypes.byref(ond),
                                 self._live(), a.ctypes.data_as(_f32p),
                                 dims, nd)
        self._in_shape = a.shape
        return _copy_out(y, od, ond)

    def backward(self, dy, input_grad=True):
        """Accumulates parameter gradients; returns a copy of dL/dx (None
        for ids or when input_grad is False)."""
        a = np.ascontiguousarray(dy, dtype=np.float32)
        dims, nd = _dims(a.shape)
        dx = ctypes.POINTER(ctypes.c_float)()
        want = input_grad and not self._takes_ids
        lib.tl_model_backward(ctypes.byref(dx) if want else None, self._live(),
                              a.ctypes.data_as(_f32p), dims, nd)
        if not want or not dx:
            return None
        return self._input_copy(dx)

    def layer_output(self, name):
        """A copy of layer `name`'s output in the last forward: the input of
        a head reading that depth (multi-task learning)."""
        y = ctypes.POINTER(ctypes.c_float)()
        od = (ctypes.c_size_t * _MAX_DIMS)()
        ond = ctypes.c_size_t()
        lib.tl_model_layer_output(ctypes.byref(y), od, ctypes.byref(ond), self._live(),
                                  _name(name, "name", "Model.layer_output"))
        return _copy_out(y, od, ond)

    def layer_output_grad(self, name, dy):
        """Adds dy (the shape of layer `name`'s output) to the gradient the
        next backward sends into that layer: a head's input gradient."""
        a = np.ascontiguousarray(dy, dtype=np.float32)
        dims, nd = _dims(a.shape)
        lib.tl_model_layer_output_grad(self._live(), _name(name, "name", "Model.layer_output_grad"),
                                    a.ctypes.data_as(_f32p), dims, nd)

    def _input_copy(self, dx):
        # dx has the shape of the last forward's input
        n = int(np.prod(self._in_shape))
        return np.ctypeslib.as_array(dx, shape=(n,)).reshape(
            self._in_shape).copy()

    def zero_grad(self):
        lib.tl_model_zero_grad(self._live())

    def reset_state(self):
        """Stateful LSTM and GRU layers start the next forward from
        zeros."""
        lib.tl_model_reset_state(self._live())

    # ---- streaming inference (tl_model_step) --------------------------------
    def step_prepare(self, batch=1, in_features=None):
        """Prepares Model.step for `batch` sequences: grows the model's
        workspaces (no allocation per step after this) and the binding's
        input and output arrays. in_features: the input width of a model
        taking floats (None for one taking ids). Returns the number of
        output floats per sequence. Carried states are kept (a new batch
        size starts from zeros)."""
        fn = "Model.step_prepare"
        b = _check.size(batch, "batch", fn)
        ids = bool(self._takes_ids)
        if ids and in_features is not None:
            raise _errors.InvalidArgumentError(
                "%s: the model takes ids: in_features must be None" % fn,
                function=fn)
        f = 0 if ids else _check.size(in_features if in_features is not None
                                      else 0, "in_features", fn)
        of = ctypes.c_size_t()
        lib.tl_model_step_prepare(ctypes.byref(of), self._live(), b, f)
        out = np.empty((b, of.value), dtype=np.float32)
        x = np.zeros(b, dtype=np.int64) if ids else \
            np.zeros((b, f), dtype=np.float32)
        # everything a step passes, fixed now: pointers as plain ints
        self._step = (ids, x, out, out.ctypes.data, out.size, x.ctypes.data,
                      b, f)
        return of.value

    def step(self, x=None):
        """One streaming step (tl_model_step / tl_model_step_ids) of the
        prepared batch: x holds one token id per sequence (an int when the
        batch is 1, else a sequence of B ints) for a model taking ids, or
        one input vector per sequence (float, shape (B, F), or (F,) when the
        batch is 1). x None: the input is already in step_input (the
        cheapest call: nothing is checked or copied in Python). The model
        carries every LSTM/GRU state to the next step and runs in eval mode
        (its mode is kept). Returns the output rows, (B, out_features)
        float32: the binding's preallocated array, overwritten by the next
        step (copy it to keep it). The first call prepares batch 1 (and the
        input width of x) if step_prepare was not called."""
        st = self.__dict__.get("_step")
        if st is None:
            if x is None:
                raise _errors.StateError(
                    "Model.step: x is None but no step is prepared "
                    "(call step_prepare)", function="Model.step")
            if self._takes_ids:
                self.step_prepare(1 if isinstance(x, (int, np.integer))
                                  else len(x))
            else:
                a = np.asarray(x)
                self.step_prepare(1 if a.ndim == 1 else a.shape[0],
                                  a.shape[-1])
            st = self._step
        ids, buf, out, out_p, out_n, x_p, b, f = st
        if ids:
            if x is None:
                pass
            elif type(x) is int or isinstance(x, np.integer):
                if b != 1:
                    raise _errors.ShapeError(
                        "Model.step: %d ids expected (the prepared batch), "
                        "got one" % b, function="Model.step")
                if not -2**63 <= x < 2**63:
                    raise _errors.InvalidArgumentError(
                        "Model.step: id %d is outside int64" % x,
                        function="Model.step")
                buf[0] = x
            else:
                a = _check.int_array(x, "ids", np.int64, "Model.step")
                if a.shape != (b,):
                    raise _errors.ShapeError(
                        "Model.step: ids must have shape (%d,) (the prepared "
                        "batch), got %s" % (b, a.shape), function="Model.step")
                buf[...] = a
            r = _step_ids_raw(out_p, out_n, self._live(), x_p, b)
        else:
            if x is None:
                pass
            elif type(x) is np.ndarray and x.dtype == np.float32 and \
                    x.size == b * f:  # the common case, quickly
                buf.reshape(-1)[...] = x.reshape(-1)
            else:
                a = np.asarray(x)
                if a.dtype.kind not in "fiu" or a.size != b * f:
                    raise _errors.ShapeError(
                        "Model.step: x must hold %d x %d numbers (the "
                        "prepared batch and in_features), got shape %s"
                        % (b, f, a.shape), function="Model.step")
                buf.reshape(-1)[...] = a.reshape(-1)
            r = _step_raw(out_p, out_n, self._live(), x_p, b, f)
        if r < 0:
            _errors.raise_for_status(
                r, lib.tl_last_error().decode("utf-8", "replace"),
                "tl_model_step_ids" if ids else "tl_model_step")
        return out

    @property
    def step_input(self):
        """The prepared step's input array ((B,) int64 ids or (B, F)
        float32), which Model.step() without an argument reads: writing the
        next input into it in place saves the copy. None before
        step_prepare."""
        st = self.__dict__.get("_step")
        return None if st is None else st[1]

    def reset_row(self, row):
        """Sequence `row` of the carried state starts from zeros again in
        every recurrent layer (tl_model_reset_row); the others go on."""
        lib.tl_model_reset_row(self._live(),
                               _check.size(row, "row", "Model.reset_row"))

    @property
    def aux_loss(self):
        """AR + TAR penalty of the last train-mode forward."""
        v = ctypes.c_double()
        lib.tl_model_aux_loss(ctypes.byref(v), self._live())
        return v.value

    # ---- checkpoints (tl.checkpoint, include/tl/ckpt.h) ----------------------
    def save(self, path, prefix=None):
        """Writes the parameters (torch names, f32), the RNG stream and any
        carried LSTM/GRU state to a libtl checkpoint at path, atomically
        (tl_model_save; with a prefix, the names get it in front)."""
        from . import checkpoint
        checkpoint.save_model(self._live(), path, prefix)

    def load(self, path, strict=True, prefix=None, name_map=None,
             restore_rng=True):
        """Loads a checkpoint file in one libtl call (tl_model_load, as
        tl.checkpoint.Checkpoint.load_into): strict as torch's
        load_state_dict, only tensors under `prefix`, name_map {checkpoint
        name: parameter name}. Returns (missing, unexpected). On any error
        the model is left unchanged."""
        from . import checkpoint
        return checkpoint.load_model(self._live(), path, strict, prefix,
                                     name_map, restore_rng)


def _loss_args(logits, targets, what):
    """float32 (n, c) logits and n int64 targets, C-contiguous. The
    lengths are checked here because libtl reads n targets from the
    pointer: a shorter array would be read past its end."""
    lg = np.ascontiguousarray(logits, dtype=np.float32)
    tg = _check.int_array(targets, "targets", np.int64, what)
    if lg.ndim != 2:
        raise _errors.ShapeError("%s: logits must be (n, c), got shape %s"
                                 % (what, lg.shape), function=what)
    if tg.ndim != 1 or tg.shape[0] != lg.shape[0]:
        raise _errors.ShapeError("%s: targets must have shape (%d,), got %s"
                                 % (what, lg.shape[0], tg.shape),
                                 function=what)
    return lg, tg


def cross_entropy(logits, targets, ignore_index=-100):
    """Mean softmax cross-entropy of logits (n, c) against integer targets
    (n,) and its gradient: (loss float, dlogits float32 (n, c)), as
    torch.nn.functional.cross_entropy(reduction='mean'). Rows whose target
    is ignore_index do not count (all ignored: loss 0, gradient 0). Raises
    tl.InvalidArgumentError for a target outside [0, c), tl.NumericError
    for NaN/Inf logits, tl.ShapeError for mismatched shapes."""
    lg, tg = _loss_args(logits, targets, "cross_entropy")
    n, c = lg.shape
    d = np.empty_like(lg)
    loss = ctypes.c_float()
    lib.tl_cross_entropy(ctypes.byref(loss), d.ctypes.data_as(_f32p),
                         lg.ctypes.data_as(_f32p), tg.ctypes.data_as(_i64p),
                         n, c, _check.int64(ignore_index, "ignore_index",
                                            "cross_entropy"))
    return float(loss.value), d


def accuracy(logits, targets, ignore_index=-100):
    """Fraction (float in [0, 1]) of rows of logits (n, c) whose argmax
    (the first one on ties) equals the target; rows whose target is
    ignore_index do not count (all ignored: 0). Errors as cross_entropy."""
    lg, tg = _loss_args(logits, targets, "accuracy")
    n, c = lg.shape
    out = ctypes.c_float()
    lib.tl_accuracy(ctypes.byref(out), lg.ctypes.data_as(_f32p),
                    tg.ctypes.data_as(_i64p), n, c,
                    _check.int64(ignore_index, "ignore_index", "accuracy"))
    return float(out.value)
