"""tl.checkpoint: libtl checkpoint files (include/tl/ckpt.h, docs/format.md).

A Checkpoint is a plain Python container: an ordered mapping of tensor names
to numpy arrays, plus optional metadata (str -> str), vocabulary (list of
str), schedule step, layer groups (tensor name -> int) and opaque optimizer
and RNG state ((subkind, bytes) pairs). save()/load() and to_bytes()/
from_bytes() go through libtl, so files are exactly what the C library
writes and reads: little-endian, CRC-checked, saved atomically.

    ck = Checkpoint()
    ck["encoder.weight"] = np.zeros((10, 4), np.float32)
    ck.vocab = ["xxunk", "the", ...]
    ck.meta["arch"] = "AWD_LSTM"
    ck.save("lm.tlc")
    back = Checkpoint.load("lm.tlc")   # a corrupt file raises tl.FormatError
"""
import ctypes
from collections import OrderedDict

import numpy as np

from . import _check
from ._errors import FormatError, InvalidArgumentError, NotFoundError
from ._native import OwnedHandle, c_size_p, lib, register, status
from . import _versions as _v

__all__ = ["Checkpoint", "OPTIM", "RNG", "save_model", "load_model",
           "save_training", "load_training", "from_torch", "to_torch"]

MAX_RANK = 8
NO_GROUP = 0xFFFFFFFF
# Opaque section kinds (tl_ckpt_section).
OPTIM = 4
RNG = 6

_DTYPES = OrderedDict([(1, np.dtype(np.float32)), (2, np.dtype(np.float64)),
                       (3, np.dtype(np.int64)), (4, np.dtype(np.uint8)),
                       (5, np.dtype(np.int32))])
_CODES = {dt: code for code, dt in _DTYPES.items()}


class _TensorDesc(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint),
                ("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_size_t),
                ("shape", ctypes.c_size_t * MAX_RANK),
                ("numel", ctypes.c_size_t), ("nbytes", ctypes.c_size_t),
                ("group", ctypes.c_uint32)]


class _LoadOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("verify_data_crc", ctypes.c_int),
                ("max_size", ctypes.c_uint64)]


_REPORT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int,
                              ctypes.c_char_p)


class _ModelLoadOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("strict", ctypes.c_int),
                ("prefix", ctypes.c_char_p),
                ("map_from", ctypes.POINTER(ctypes.c_char_p)),
                ("map_to", ctypes.POINTER(ctypes.c_char_p)),
                ("map_n", ctypes.c_size_t), ("restore_rng", ctypes.c_int),
                ("report", _REPORT_FN), ("report_payload", ctypes.c_void_p)]


_LOAD_MISSING = 0
_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_cpp = ctypes.POINTER(ctypes.c_char_p)
register([
    ("tl_ckpt_dtype_size", [ctypes.c_int], ctypes.c_size_t),
    ("tl_ckpt_create", [_pp], status),
    ("tl_ckpt_free", [_p], None),
    ("tl_ckpt_add_tensor", [_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t,
                            c_size_p, _p], status),
    ("tl_ckpt_remove_tensor", [_p, ctypes.c_size_t], status),
    ("tl_ckpt_tensor_count", [c_size_p, _p], status),
    ("tl_ckpt_find_tensor", [c_size_p, _p, ctypes.c_char_p], status),
    ("tl_ckpt_tensor_info", [ctypes.POINTER(_TensorDesc), _p, ctypes.c_size_t],
     status),
    ("tl_ckpt_tensor_data", [_pp, _p, ctypes.c_size_t], status),
    ("tl_ckpt_set_tensor_group", [_p, ctypes.c_size_t, ctypes.c_uint32],
     status),
    ("tl_ckpt_set_meta", [_p, ctypes.c_char_p, ctypes.c_char_p], status),
    ("tl_ckpt_get_meta", [_cpp, _p, ctypes.c_char_p], status),
    ("tl_ckpt_meta_count", [c_size_p, _p], status),
    ("tl_ckpt_meta_at", [_cpp, _cpp, _p, ctypes.c_size_t], status),
    ("tl_ckpt_set_vocab", [_p, _cpp, ctypes.c_size_t], status),
    ("tl_ckpt_clear_vocab", [_p], status),
    ("tl_ckpt_vocab_size", [c_size_p, _p], status),
    ("tl_ckpt_vocab_token", [_cpp, _p, ctypes.c_size_t], status),
    ("tl_ckpt_set_step", [_p, ctypes.c_uint64], status),
    ("tl_ckpt_get_step", [ctypes.POINTER(ctypes.c_uint64), _p], status),
    ("tl_ckpt_set_section", [_p, ctypes.c_int, ctypes.c_uint32, _p,
                             ctypes.c_size_t], status),
    ("tl_ckpt_get_section", [_pp, c_size_p, ctypes.POINTER(ctypes.c_uint32),
                             _p, ctypes.c_int], status),
    ("tl_ckpt_clear_section", [_p, ctypes.c_int], status),
    ("tl_ckpt_save", [_p, ctypes.c_char_p], status),
    ("tl_ckpt_serialized_size", [c_size_p, _p], status),
    ("tl_ckpt_save_buffer", [_p, ctypes.c_size_t, c_size_p, _p], status),
    ("tl_ckpt_load_options_init", [ctypes.POINTER(_LoadOptions),
                                   ctypes.c_uint], status),
    ("tl_ckpt_load", [_pp, ctypes.c_char_p, ctypes.POINTER(_LoadOptions)],
     status),
    ("tl_ckpt_load_buffer", [_pp, ctypes.c_char_p, ctypes.c_size_t,
                             ctypes.POINTER(_LoadOptions)], status),
    ("tl_ckpt_store_model", [_p, _p, ctypes.c_char_p], status),
    ("tl_model_load_options_init", [ctypes.POINTER(_ModelLoadOptions),
                                    ctypes.c_uint], status),
    ("tl_ckpt_restore_model", [_p, _p, ctypes.POINTER(_ModelLoadOptions)],
     status),
    ("tl_model_save", [_p, ctypes.c_char_p], status),
    ("tl_model_load", [_p, ctypes.c_char_p,
                       ctypes.POINTER(_ModelLoadOptions)], status),
    ("tl_model_set_row_mask", [_p, ctypes.c_char_p,
                               ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t],
     status),
    ("tl_ckpt_remap_vocab", [ctypes.c_void_p, _p, _cpp, ctypes.c_size_t, _cpp,
                             ctypes.c_size_t], status),
    ("tl_ckpt_store_optim", [_p, _p], status),
    ("tl_ckpt_restore_optim", [_p, _p], status),
])


def _present(fn, *args):
    """Calls a getter whose TL_E_NOT_FOUND means "this section is absent"."""
    try:
        fn(*args)
        return True
    except NotFoundError:
        return False


def _encode(s, what):
    """A str as C bytes: NUL inside and non-str refused (_check)."""
    return _check.c_string(s, what)


def _opt_encode(s):
    return None if s is None else _encode(s, "prefix")


def _decode(b):
    return b.decode("utf-8", "surrogateescape")


class _ModelLoad:
    """tl_model_load_options for a load, and the (missing, unexpected)
    lists its report callback fills. Holds every buffer the options point
    to until it is dropped."""

    def __init__(self, strict, prefix, name_map, restore_rng):
        self.missing, self.unexpected = [], []

        def report(payload, issue, name):
            (self.missing if issue == _LOAD_MISSING else
             self.unexpected).append(_decode(name))

        self._callback = _REPORT_FN(report)
        opts = _ModelLoadOptions()
        lib.tl_model_load_options_init(ctypes.byref(opts),
                                       _v.MODEL_LOAD_OPTIONS_VERSION)
        opts.strict = 1 if strict else 0
        self._prefix = _opt_encode(prefix)
        opts.prefix = self._prefix
        opts.restore_rng = 1 if restore_rng else 0
        opts.report = self._callback
        pairs = list((name_map or {}).items())
        self._from = (ctypes.c_char_p * max(len(pairs), 1))(
            *[_encode(a, "name_map key") for a, _ in pairs])
        self._to = (ctypes.c_char_p * max(len(pairs), 1))(
            *[_encode(b, "name_map value") for _, b in pairs])
        opts.map_from = self._from
        opts.map_to = self._to
        opts.map_n = len(pairs)
        self.opts = opts


class _Handle(OwnedHandle):
    """Owns a tl_ckpt* for the duration of a with-block (a new empty one,
    or `ptr` from a load); the block gets the pointer."""

    _free, _what = "tl_ckpt_free", "checkpoint"

    def __init__(self, ptr=None):
        if ptr is None:
            ptr = ctypes.c_void_p()
            lib.tl_ckpt_create(ctypes.byref(ptr))
        self._handle = ptr

    def __enter__(self):
        return self._live()


def _as_tensor(array, name):
    a = np.asarray(array)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if a.dtype.newbyteorder("=") not in _CODES:
        raise InvalidArgumentError(
            "tensor %r has dtype %s; checkpoints hold %s" % (
                name, a.dtype, ", ".join(str(d) for d in _DTYPES.values())))
    if a.ndim > MAX_RANK:
        raise InvalidArgumentError("tensor %r has rank %d (at most %d)"
                                   % (name, a.ndim, MAX_RANK))
    # Host byte order and C layout: libtl converts to little-endian itself.
    # (np.require, not ascontiguousarray, which turns a 0-d array into 1-d.)
    return np.require(a, dtype=a.dtype.newbyteorder("="), requirements="C")


class Checkpoint:
    """Named tensors plus optional sections; see the module docstring.

    Attributes: tensors (OrderedDict name -> ndarray, also reachable by
    indexing the checkpoint), meta (dict), vocab (list or None), step (int
    or None), groups (dict name -> int), optim_state and rng_state
    ((subkind, bytes) or None).

    A Checkpoint holds no libtl handle between calls, so libtl's editing
    calls are plain Python here: tl_ckpt_find_tensor is `name in ck` (and
    list(ck).index(name)), tl_ckpt_remove_tensor `del ck[name]`,
    tl_ckpt_get_meta `ck.meta[key]`, tl_ckpt_clear_vocab `ck.vocab = None`,
    tl_ckpt_clear_section `ck.optim_state = None` / `ck.rng_state = None`.
    save(), to_bytes() and remap_vocab() hand the whole container to libtl.
    """

    def __init__(self, tensors=None, meta=None, vocab=None, step=None):
        self.tensors = OrderedDict()
        for name, value in (tensors or {}).items():
            self[name] = value
        self.meta = dict(meta or {})
        self.vocab = list(vocab) if vocab is not None else None
        self.step = step
        self.groups = {}
        self.optim_state = None
        self.rng_state = None

    # dict-like access to the tensors
    def __getitem__(self, name):
        return self.tensors[name]

    def __setitem__(self, name, array):
        self.tensors[name] = _as_tensor(array, name)

    def __delitem__(self, name):
        del self.tensors[name]
        self.groups.pop(name, None)

    def __contains__(self, name):
        return name in self.tensors

    def __iter__(self):
        return iter(self.tensors)

    def __len__(self):
        return len(self.tensors)

    def keys(self):
        return self.tensors.keys()

    def items(self):
        return self.tensors.items()

    def __repr__(self):
        return "Checkpoint(%d tensors, meta=%r, vocab=%s, step=%r)" % (
            len(self.tensors), self.meta,
            None if self.vocab is None else "%d tokens" % len(self.vocab),
            self.step)

    # ---- writing -----------------------------------------------------------
    def _fill(self, ck):
        for name, value in self.tensors.items():
            a = _as_tensor(value, name)
            shape = (ctypes.c_size_t * max(a.ndim, 1))(*a.shape)
            lib.tl_ckpt_add_tensor(ck, _encode(name, "tensor name"),
                                   _CODES[a.dtype], a.ndim, shape,
                                   a.ctypes.data_as(ctypes.c_void_p))
        index = ctypes.c_size_t()
        for name, group in self.groups.items():
            try:
                lib.tl_ckpt_find_tensor(ctypes.byref(index), ck,
                                        _encode(name, "tensor name"))
            except NotFoundError as exc:
                raise InvalidArgumentError(
                    "groups names %r, which is not a tensor (%s)"
                    % (name, exc.message), function="tl_ckpt_find_tensor"
                ) from None
            lib.tl_ckpt_set_tensor_group(
                ck, index.value,
                _check.uint32(group, "groups[%r]" % (name,)))
        for key, value in self.meta.items():
            lib.tl_ckpt_set_meta(ck, _encode(key, "metadata key"),
                                 _encode(value, "metadata value"))
        if self.vocab is not None:
            tokens = [_encode(t, "vocabulary token") for t in self.vocab]
            arr = (ctypes.c_char_p * max(len(tokens), 1))(*tokens)
            lib.tl_ckpt_set_vocab(ck, arr, len(tokens))
        if self.step is not None:
            lib.tl_ckpt_set_step(ck, _check.uint64(self.step, "step"))
        for kind, state in ((OPTIM, self.optim_state), (RNG, self.rng_state)):
            if state is not None:
                subkind, data = state
                data = bytes(data)
                lib.tl_ckpt_set_section(ck, kind,
                                        _check.uint32(subkind, "subkind"), data,
                                        len(data))

    def save(self, path):
        """Writes the checkpoint to path atomically (tl_ckpt_save)."""
        with _Handle() as ck:
            self._fill(ck)
            lib.tl_ckpt_save(ck, _check.c_path(path))

    def to_bytes(self):
        """The file image tl_ckpt_save would write, as bytes."""
        with _Handle() as ck:
            self._fill(ck)
            size = ctypes.c_size_t()
            lib.tl_ckpt_serialized_size(ctypes.byref(size), ck)
            buf = ctypes.create_string_buffer(max(size.value, 1))
            written = ctypes.c_size_t()
            lib.tl_ckpt_save_buffer(buf, size.value, ctypes.byref(written), ck)
            return buf.raw[:written.value]

    # ---- models and vocabularies -------------------------------------------
    @classmethod
    def from_model(cls, model, prefix=None):
        """The parameters (and RNG stream) of a libtl model (a tl_model*
        handle: anything ctypes passes as a pointer) as a Checkpoint."""
        with _Handle() as ck:
            lib.tl_ckpt_store_model(ck, model, _opt_encode(prefix))
            return cls._from_handle(ck)

    def load_into(self, model, strict=True, prefix=None, name_map=None,
                  restore_rng=True):
        """Copies tensors into the parameters of a libtl model
        (tl_ckpt_restore_model): strict as torch's load_state_dict, tensors
        under `prefix` only, `name_map` {checkpoint name: parameter name}.
        Returns (missing, unexpected) name lists. The model is unchanged if
        this raises."""
        load = _ModelLoad(strict, prefix, name_map, restore_rng)
        with _Handle() as ck:
            self._fill(ck)
            lib.tl_ckpt_restore_model(model, ck, ctypes.byref(load.opts))
        return load.missing, load.unexpected

    def remap_vocab(self, new_vocab, names):
        """fastai's match_embeds: the tensors `names` (first dimension =
        the current vocabulary) get one row per word of new_vocab, the old
        row of a known word or the mean row for a new one; the vocabulary
        becomes new_vocab. Returns a bool array marking the new words."""
        new_vocab = list(new_vocab)
        is_new = np.zeros(len(new_vocab), np.uint8)
        words = (ctypes.c_char_p * max(len(new_vocab), 1))(
            *[_encode(w, "vocabulary token") for w in new_vocab])
        keys = (ctypes.c_char_p * max(len(names), 1))(
            *[_encode(n, "tensor name") for n in names])
        with _Handle() as ck:
            self._fill(ck)
            lib.tl_ckpt_remap_vocab(is_new.ctypes.data_as(ctypes.c_void_p),
                                    ck, words, len(new_vocab), keys,
                                    len(names))
            back = self._from_handle(ck)
        self.__dict__.update(back.__dict__)
        return is_new.astype(bool)

    # ---- reading -----------------------------------------------------------
    @staticmethod
    def _options(verify_crc, max_size):
        opts = _LoadOptions()
        lib.tl_ckpt_load_options_init(ctypes.byref(opts),
                                      _v.CKPT_LOAD_OPTIONS_VERSION)
        opts.verify_data_crc = 1 if verify_crc else 0
        opts.max_size = _check.uint64(max_size, "max_size")
        return opts

    @classmethod
    def load(cls, path, verify_crc=True, max_size=0):
        """Reads and validates a checkpoint file. Raises tl.FormatError for a
        malformed file, tl.IOFailure (an OSError) if it cannot be read."""
        ptr = ctypes.c_void_p()
        lib.tl_ckpt_load(ctypes.byref(ptr), _check.c_path(path),
                         ctypes.byref(cls._options(verify_crc, max_size)))
        with _Handle(ptr) as ck:
            return cls._from_handle(ck)

    @classmethod
    def from_bytes(cls, data, verify_crc=True, max_size=0):
        """Parses a file image (bytes-like). Raises tl.FormatError."""
        data = bytes(data)
        ptr = ctypes.c_void_p()
        lib.tl_ckpt_load_buffer(ctypes.byref(ptr), data, len(data),
                                ctypes.byref(cls._options(verify_crc,
                                                          max_size)))
        with _Handle(ptr) as ck:
            return cls._from_handle(ck)

    @classmethod
    def _from_handle(cls, ck):
        self = cls()
        count = ctypes.c_size_t()
        lib.tl_ckpt_tensor_count(ctypes.byref(count), ck)
        for i in range(count.value):
            desc = _TensorDesc(version=_v.CKPT_TENSOR_DESC_VERSION)
            lib.tl_ckpt_tensor_info(ctypes.byref(desc), ck, i)
            data = ctypes.c_void_p()
            lib.tl_ckpt_tensor_data(ctypes.byref(data), ck, i)
            shape = tuple(desc.shape[:desc.rank])
            if desc.dtype not in _DTYPES or (
                    desc.numel * lib.tl_ckpt_dtype_size(desc.dtype)
                    != desc.nbytes):
                raise FormatError(  # a libtl newer than this binding
                    "tensor %r: dtype %d (%d bytes for %d elements) is not "
                    "one this binding reads" % (_decode(desc.name), desc.dtype,
                                                desc.nbytes, desc.numel))
            arr = np.empty(shape, dtype=_DTYPES[desc.dtype])
            if desc.nbytes:
                ctypes.memmove(arr.ctypes.data, data, desc.nbytes)
            name = _decode(desc.name)
            self.tensors[name] = arr
            if desc.group != NO_GROUP:
                self.groups[name] = desc.group
        lib.tl_ckpt_meta_count(ctypes.byref(count), ck)
        for i in range(count.value):
            key, value = ctypes.c_char_p(), ctypes.c_char_p()
            lib.tl_ckpt_meta_at(ctypes.byref(key), ctypes.byref(value), ck, i)
            self.meta[_decode(key.value)] = _decode(value.value)
        if _present(lib.tl_ckpt_vocab_size, ctypes.byref(count), ck):
            tok = ctypes.c_char_p()
            vocab = []
            for i in range(count.value):
                lib.tl_ckpt_vocab_token(ctypes.byref(tok), ck, i)
                vocab.append(_decode(tok.value))
            self.vocab = vocab
        step = ctypes.c_uint64()
        if _present(lib.tl_ckpt_get_step, ctypes.byref(step), ck):
            self.step = step.value
        for kind, attr in ((OPTIM, "optim_state"), (RNG, "rng_state")):
            data, size = ctypes.c_void_p(), ctypes.c_size_t()
            subkind = ctypes.c_uint32()
            if _present(lib.tl_ckpt_get_section, ctypes.byref(data),
                        ctypes.byref(size), ctypes.byref(subkind), ck, kind):
                setattr(self, attr, (subkind.value,
                                     ctypes.string_at(data, size.value)))
        return self


# ---- whole models ----------------------------------------------------------

def save_model(model, path, prefix=None):
    """Saves a libtl model's parameters, RNG stream and carried LSTM/GRU state
    to path atomically (the tl_model* handle may be a ctypes pointer or any
    object with _as_parameter_). Without a prefix this is one libtl call,
    tl_model_save; a prefix is put in front of every name."""
    encoded = _check.c_path(path)
    if prefix is None:
        lib.tl_model_save(model, encoded)
        return
    with _Handle() as ck:
        lib.tl_ckpt_store_model(ck, model, _opt_encode(prefix))
        lib.tl_ckpt_save(ck, encoded)


def load_model(model, path, strict=True, prefix=None, name_map=None,
               restore_rng=True):
    """Loads the checkpoint file at path into a libtl model in one libtl
    call (tl_model_load), with the options of Checkpoint.load_into.
    Returns (missing, unexpected); the model is unchanged if this raises."""
    load = _ModelLoad(strict, prefix, name_map, restore_rng)
    lib.tl_model_load(model, _check.c_path(path),
                      ctypes.byref(load.opts))
    return load.missing, load.unexpected


def save_training(path, model, optimizer=None, step=None, prefix=None,
                  meta=None):
    """An exact-resume checkpoint, written atomically: the model's
    parameters, RNG stream and carried LSTM/GRU state, the optimizer's state
    (moments, step counters) and the schedule step. Learning rates are not
    stored: schedules are functions of the step (tl.Schedule)."""
    with _Handle() as ck:
        lib.tl_ckpt_store_model(ck, model, _opt_encode(prefix))
        if optimizer is not None:
            lib.tl_ckpt_store_optim(ck, optimizer)
        if step is not None:
            lib.tl_ckpt_set_step(ck, _check.uint64(step, "step"))
        for key, value in (meta or {}).items():
            lib.tl_ckpt_set_meta(ck, _encode(key, "metadata key"),
                                 _encode(value, "metadata value"))
        lib.tl_ckpt_save(ck, _check.c_path(path))


def load_training(path, model, optimizer=None, prefix=None):
    """Restores what save_training wrote (strictly) and returns the step
    (None if none was saved). Either everything is restored or, on an
    error, the model and the optimizer are left as they were."""
    ptr = ctypes.c_void_p()
    lib.tl_ckpt_load(ctypes.byref(ptr), _check.c_path(path), None)
    with _Handle(ptr) as ck:
        snapshot = None
        if optimizer is not None:
            snapshot = optimizer.state_dict()
            lib.tl_ckpt_restore_optim(optimizer, ck)  # validates first
        opts = _ModelLoadOptions()
        lib.tl_model_load_options_init(ctypes.byref(opts),
                                       _v.MODEL_LOAD_OPTIONS_VERSION)
        opts.prefix = _opt_encode(prefix)
        try:
            lib.tl_ckpt_restore_model(model, ck, ctypes.byref(opts))
        except Exception:
            if snapshot is not None:
                optimizer.load_state_dict(snapshot)
            raise
        step = ctypes.c_uint64()
        if _present(lib.tl_ckpt_get_step, ctypes.byref(step), ck):
            return step.value
        return None


# ---- PyTorch interop ---------------------------------------------------------
# libtl layer names are [A-Za-z0-9_], parameter names "layer.suffix" with
# torch's suffixes and layouts, so most state dicts map one to one. fastai's
# AWD_LSTM differs in three ways, undone by naming="fastai":
#   rnns.{k}.module.weight_ih_l0 (and biases) -> rnns_{k}.weight_ih_l0 ...
#   rnns.{k}.weight_hh_l0_raw (WeightDropout's parameter) -> rnns_{k}.weight_hh_l0
#   encoder_dp.emb.weight: the encoder's own tensor (dropped as tied)
import re  # noqa: E402

_FASTAI_TO_TL = [
    (re.compile(r"(^|\.)rnns\.(\d+)\.module\.weight_hh_l0$"), None),
    (re.compile(r"(^|\.)rnns\.(\d+)\.weight_hh_l0_raw$"),
     r"\1rnns_\2.weight_hh_l0"),
    (re.compile(r"(^|\.)rnns\.(\d+)\.module\.(\w+)$"), r"\1rnns_\2.\3"),
]
_TL_TO_FASTAI = [
    (re.compile(r"(^|\.)rnns_(\d+)\.weight_hh_l0$"),
     r"\1rnns.\2.weight_hh_l0_raw"),
    (re.compile(r"(^|\.)rnns_(\d+)\.(\w+)$"), r"\1rnns.\2.module.\3"),
]
_TIED = "torch.tied."


def _rename(name, rules):
    for pattern, repl in rules:
        if pattern.search(name):
            return None if repl is None else pattern.sub(repl, name)
    return name


def from_torch(state_dict, path=None, naming="torch", name_map=None,
               vocab=None, meta=None):
    """A Checkpoint (saved to path if given) from a PyTorch state dict of
    nn.Embedding / nn.LSTM / nn.Linear / nn.BatchNorm1d weights (any module
    built from them, including fastai's AWD_LSTM with naming="fastai").

    Float tensors become float32 numpy arrays; integer ones keep their type
    (BatchNorm's num_batches_tracked stays an int64 scalar, which is what
    tl.Model's buffer loads from). A tensor that shares storage with
    an earlier one (a tied decoder, fastai's encoder_dp) is not stored; the
    metadata "torch.tied.<name>" = "<source>" lets to_torch restore it.
    name_map {torch name: libtl name} renames after the naming rules; a
    value of None drops the tensor."""
    if naming not in ("torch", "fastai"):
        raise InvalidArgumentError("naming must be 'torch' or 'fastai'")
    ck = Checkpoint(meta=meta, vocab=vocab)
    seen = {}
    for key, tensor in state_dict.items():
        tensor = tensor.detach()
        storage = (tensor.data_ptr(), tuple(tensor.shape), tensor.dtype)
        if tensor.numel() > 0 and storage in seen:
            ck.meta[_TIED + key] = seen[storage]
            continue
        seen[storage] = key
        name = _rename(key, _FASTAI_TO_TL) if naming == "fastai" else key
        if name_map and key in name_map:
            name = name_map[key]
        if name is None:
            continue
        array = tensor.cpu().numpy()
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        ck[name] = array
    if path is not None:
        ck.save(path)
    return ck


def to_torch(source, naming="torch", name_map=None):
    """A PyTorch state dict (OrderedDict of torch tensors) from a checkpoint
    file or Checkpoint: the inverse of from_torch, restoring tied entries
    recorded in its metadata. Needs torch."""
    import torch
    ck = source if isinstance(source, Checkpoint) else Checkpoint.load(source)
    if naming not in ("torch", "fastai"):
        raise InvalidArgumentError("naming must be 'torch' or 'fastai'")
    inverse = {v: k for k, v in (name_map or {}).items() if v is not None}
    out = OrderedDict()
    for name, array in ck.items():
        if "@" in name:  # libtl runtime state (a carried LSTM/GRU state)
            continue
        key = inverse.get(name)
        if key is None:
            key = _rename(name, _TL_TO_FASTAI) if naming == "fastai" else name
        out[key] = torch.from_numpy(np.array(array))
    for meta_key, source_key in ck.meta.items():
        if meta_key.startswith(_TIED) and source_key in out:
            out[meta_key[len(_TIED):]] = out[source_key]
    return out
