"""The binding's argument checks, in one place: no silent coercion.

ctypes and int() change values without a word: a str with an embedded NUL
reaches C cut at the NUL ("a\\x00b" names layer "a"), -1 becomes SIZE_MAX
as a size_t and 2**64 becomes 0, int(3.7) is 3 and int(0.5) is 0. Every
string and integer the binding passes to libtl goes through one of these
functions instead, which either return exactly the value the caller meant
or raise tl.InvalidArgumentError naming the argument.

Integers are accepted only from int, numpy integers and integral numpy
arrays (0-d for a scalar); bool, float, str and everything else are refused
(True is not a size). Each C type's range is checked.
"""
import ctypes
import operator
import os

import numpy as np

from ._errors import InvalidArgumentError

__all__ = ["c_string", "c_path", "opt_c_string", "integer", "index", "size", "int64",
           "uint64", "uint32", "c_int", "size_array", "int_array",
           "SIZE_MAX", "INT64_MIN", "INT64_MAX", "UINT64_MAX"]


def _bits_range(ctype):
    bits = 8 * ctypes.sizeof(ctype)
    if ctype(-1).value < 0:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


SIZE_MAX = _bits_range(ctypes.c_size_t)[1]
INT64_MIN, INT64_MAX = _bits_range(ctypes.c_int64)
UINT64_MAX = _bits_range(ctypes.c_uint64)[1]
UINT32_MAX = _bits_range(ctypes.c_uint32)[1]
INT_MIN, INT_MAX = _bits_range(ctypes.c_int)


def _fail(argname, what, function):
    """The error, as libtl words its own: "function: argument what"."""
    text = "%s %s" % (argname, what)
    if function:
        text = "%s: %s" % (function, text)
    return InvalidArgumentError(text, function=function)


def c_string(value, argname, function=None):
    """value (a str) as NUL-terminated UTF-8 bytes for a const char *.
    Lone surrogates (undecodable bytes of a file name, PEP 383) go back to
    the bytes they came from. A NUL inside would end the C string early,
    so it is refused rather than truncated."""
    if not isinstance(value, str):
        raise _fail(argname, "must be a str (got %s)" % type(value).__name__,
                    function)
    if "\x00" in value:
        raise _fail(argname, "contains a NUL character at position %d (C "
                    "strings end there): %r" % (value.index("\x00"), value),
                    function)
    return value.encode("utf-8", "surrogateescape")


def c_path(value, argname="path", function=None):
    """A file system path (str, bytes or os.PathLike) as C bytes, with the
    same NUL check as c_string ("a\x00b" would save to "a")."""
    try:
        value = os.fspath(value)
    except TypeError:
        raise _fail(argname, "must be a path (str, bytes or os.PathLike; got "
                    "%s)" % type(value).__name__, function) from None
    if isinstance(value, bytes):
        if b"\x00" in value:
            raise _fail(argname, "contains a NUL byte at position %d (C "
                        "strings end there): %r"
                        % (value.index(b"\x00"), value), function)
        return value
    return c_string(value, argname, function)


def opt_c_string(value, argname, function=None):
    """c_string, or None (a NULL pointer) for None."""
    return None if value is None else c_string(value, argname, function)


def _as_int(value, argname, function):
    """A Python int from an int, a numpy integer or a 0-d integral array."""
    if isinstance(value, (bool, np.bool_)):
        raise _fail(argname, "must be an integer (got a bool, %r)" % (value,),
                    function)
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iu":
            raise _fail(argname, "must be an integer (got a %s array of shape "
                        "%s)" % (value.dtype, value.shape), function)
        return int(value[()])
    if isinstance(value, (int, np.integer)):
        return operator.index(value)
    raise _fail(argname, "must be an integer (got %s %r)"
                % (type(value).__name__, value), function)


def integer(value, argname, lo, hi, function=None):
    """value as an int in [lo, hi], or InvalidArgumentError."""
    v = _as_int(value, argname, function)
    if v < 0 <= lo:
        raise _fail(argname, "must be >= %d (got %d)" % (lo, v), function)
    if not lo <= v <= hi:
        raise _fail(argname, "must be in [%d, %d] (got %d)" % (lo, hi, v),
                    function)
    return v


def size(value, argname, function=None, minimum=0):
    """A size_t count: an integer in [minimum, SIZE_MAX]."""
    return integer(value, argname, minimum, SIZE_MAX, function)


def index(value, argname, function=None):
    """A size_t index (a position, a group number): [0, SIZE_MAX]."""
    return integer(value, argname, 0, SIZE_MAX, function)


def int64(value, argname, function=None):
    return integer(value, argname, INT64_MIN, INT64_MAX, function)


def uint64(value, argname, function=None):
    return integer(value, argname, 0, UINT64_MAX, function)


def uint32(value, argname, function=None):
    return integer(value, argname, 0, UINT32_MAX, function)


def c_int(value, argname, function=None):
    return integer(value, argname, INT_MIN, INT_MAX, function)


def _where(argname, shape, flat_index):
    """argname[i] or argname[i, j] for element flat_index of an array."""
    if len(shape) <= 1:
        return "%s[%d]" % (argname, flat_index)
    return "%s[%s]" % (argname, ", ".join(
        str(int(i)) for i in np.unravel_index(flat_index, shape)))


def _integral_array(values, argname, function):
    """values as a numpy integer array without any conversion that could
    change a value. A numpy array must have an integer dtype (float, bool
    and object arrays are refused). Anything else (lists, tuples, nested)
    is taken element by element as Python objects, each checked by
    _as_int, since numpy's own conversion would truncate floats, turn
    True into 1 and 2**64 into a float or an object."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        a = values
    else:
        obj = np.asarray(values, dtype=object)
        flat = obj.ravel()
        ints = []
        for i, v in enumerate(flat):
            try:
                ints.append(_as_int(v, argname, None))
            except InvalidArgumentError:
                raise _fail(argname, "must hold integers (%s is %s %r)"
                            % (_where(argname, obj.shape, i),
                               type(v).__name__, v), function) from None
        lo, hi = min(ints, default=0), max(ints, default=0)
        for i, v in enumerate(ints):
            if v < INT64_MIN or v > UINT64_MAX or (lo < 0 and v > INT64_MAX):
                raise _fail(_where(argname, obj.shape, i),
                            "is out of range (got %d)" % v, function)
        dtype = np.uint64 if hi > INT64_MAX else np.int64
        a = np.array(ints, dtype=dtype).reshape(obj.shape)
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise _fail(argname, "must hold integers (got dtype %s)" % a.dtype,
                    function)
    return a


def _check_range(a, argname, lo, hi, function):
    if a.size == 0:
        return
    # Compare as Python ints: numpy would mix int64 and uint64 through float.
    amin, amax = int(a.min()), int(a.max())
    if amin < lo or amax > hi:
        flat = a.ravel()
        bad = int(np.flatnonzero(flat == (a.min() if amin < lo
                                          else a.max()))[0])
        got = int(flat[bad])
        if got < 0 <= lo:
            raise _fail(_where(argname, a.shape, bad), "must not be negative "
                        "(got %d)" % got, function)
        raise _fail(_where(argname, a.shape, bad), "must be in [%d, %d] (got "
                    "%d)" % (lo, hi, got), function)


def size_array(values, argname, function=None, minimum=0):
    """A sequence of sizes as a (c_size_t * n) array, each element checked
    to lie in [minimum, SIZE_MAX] (-1 would wrap to SIZE_MAX, 2**64 to 0)."""
    a = _integral_array(values, argname, function)
    if a.ndim != 1:
        raise _fail(argname, "must be a sequence of integers (got %d "
                    "dimensions)" % a.ndim, function)
    _check_range(a, argname, minimum, SIZE_MAX, function)
    flat = a.ravel()
    return (ctypes.c_size_t * len(flat))(*[int(v) for v in flat])


def int_array(values, argname, dtype=np.int64, function=None):
    """values as a C-contiguous numpy array of the integer dtype, keeping
    its shape; every element must fit (no wrapping, no float truncation)."""
    a = _integral_array(values, argname, function)
    info = np.iinfo(dtype)
    _check_range(a, argname, int(info.min), int(info.max), function)
    return np.ascontiguousarray(a, dtype=dtype)
