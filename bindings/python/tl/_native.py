"""Loading libtl and declaring its C functions (clang's cindex habit).

Each module of the binding declares the functions it uses in a table of
(name, argtypes, restype) and passes it to `register`; a missing symbol
raises ImportError naming it, so a binding newer than the library fails at
import, not in the middle of a call. Functions returning tl_status get an
errcheck that turns a negative status into a `tl.Error` subclass carrying
tl_last_error().
"""
import ctypes
import ctypes.util
import glob
import os

from ._errors import ClosedError, InvalidArgumentError, raise_for_status

__all__ = ["lib", "library_path", "register", "OwnedHandle", "status", "c_size_p", "c_float_p",
           "c_double_p", "c_int64_p"]

status = ctypes.c_int  # tl_status: an int-sized enum with fixed values
c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_double_p = ctypes.POINTER(ctypes.c_double)
c_int64_p = ctypes.POINTER(ctypes.c_int64)


def _candidates():
    env = os.environ.get("TL_LIBRARY")
    if env:
        # An explicit choice is final: a wrong path is an error, not a hint.
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for pattern in ("libtl.so.*", "libtl.so", "libtl.dylib", "tl.dll"):
        for path in sorted(glob.glob(os.path.join(here, pattern))):
            yield path
    found = ctypes.util.find_library("tl")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append("%s (%s)" % (path, exc))
            if os.environ.get("TL_LIBRARY"):
                break
    raise ImportError(
        "libtl was not found: set TL_LIBRARY to the path of libtl.so, put "
        "libtl.so next to the tl package, or install it system-wide. Tried: "
        + (", ".join(tried) or "nothing"))


lib, library_path = _load()
# A library of another version is refused here, before any declaration.
from ._supported import check_library  # noqa: E402
check_library(lib, library_path)


def _errcheck(result, func, args):
    if result < 0:
        raise_for_status(result, lib.tl_last_error().decode("utf-8", "replace"),
                         func.__name__)
    return result


# name -> (argtypes, restype) of every function declared so far; the tests
# check it covers every exported symbol.
declared = {}


def _int_range(ctype):
    bits = 8 * ctypes.sizeof(ctype)
    signed = ctype(-1).value < 0
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else \
        (0, (1 << bits) - 1)


_INT_TYPES = {t: _int_range(t) for t in (
    ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_ulong,
    ctypes.c_size_t, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int32,
    ctypes.c_uint32, ctypes.c_uint8)}


def _range_checked(fn, name, argtypes):
    """fn, refusing integer arguments that the C type would silently wrap
    (ctypes turns -1 into SIZE_MAX and 2**64 - 1 into a long -1)."""
    checks = [(i, t.__name__) + _INT_TYPES[t] for i, t in enumerate(argtypes)
              if t in _INT_TYPES]
    if not checks:
        return fn

    def call(*args):
        for i, tname, lo, hi in checks:
            if i < len(args) and isinstance(args[i], int) and \
                    not lo <= args[i] <= hi:
                raise InvalidArgumentError(
                    "%s: argument %d = %d is outside the range of its C type %s [%d, %d]"
                    % (name, i + 1, args[i], tname, lo, hi),
                    function=name)
        return fn(*args)
    call.__name__ = name
    call.raw = fn
    return call


def register(table):
    """Declares argtypes and restype for every (name, argtypes, restype)."""
    for name, argtypes, restype in table:
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError(
                "libtl at %s has no function %s: the library is older than "
                "this binding; install matching versions" % (library_path, name)
            ) from None
        fn.argtypes = argtypes
        fn.restype = restype
        declared[name] = (argtypes, restype)
        if restype is status:
            fn.errcheck = _errcheck
        setattr(lib, name, _range_checked(fn, name, argtypes))


class OwnedHandle:
    """Base of every wrapper that owns one libtl handle (Model, Optimizer,
    Schedule, Plan, and the checkpoints the binding builds for one call):
    the one lifetime pattern of the binding.

    self._handle is the ctypes pointer; _live() returns it, or raises
    tl.ClosedError (a tl.StateError and a ValueError) once the object is
    closed. An instance can be passed to
    libtl directly (_as_parameter_). close() frees the handle once; so do
    the context manager and garbage collection. A subclass whose memory may
    still be referenced when it is closed (Model's numpy views) says so in
    _pinned(): close() then marks it closed and leaves the free to garbage
    collection, which cannot run while a view keeps the object alive.
    Subclasses name their free function (_free) and what they are (_what,
    for the error after close)."""

    _free = None
    _what = "object"
    _handle = None
    _closed = False

    def _live(self):
        """The handle, or tl.ClosedError once closed (raised here rather than
        from ctypes, which would wrap it in an ArgumentError)."""
        if self._closed or not self._handle:
            raise ClosedError("the %s is closed" % self._what)
        return self._handle

    @property
    def _as_parameter_(self):
        return self._live()

    def _pinned(self):
        return False

    def close(self):
        self._closed = True
        if not self._pinned():
            self._release()

    def _release(self):
        handle = self._handle
        if handle:
            self._handle = type(handle)()
            getattr(lib, self._free)(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self._release()
        except Exception:  # interpreter shutdown: the library may be gone
            pass


class Allocator(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("alloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_size_t, ctypes.c_size_t)),
        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)),
        ("payload", ctypes.c_void_p),
    ]


# include/tl/core.h
register([
    ("tl_status_string", [ctypes.c_int], ctypes.c_char_p),
    ("tl_last_error", [], ctypes.c_char_p),
    ("tl_clear_error", [], None),
    ("tl_version_string", [], ctypes.c_char_p),
    ("tl_version_number", [], ctypes.c_uint),
    ("tl_allocator_init", [ctypes.POINTER(Allocator), ctypes.c_uint], status),
    ("tl_set_allocator", [ctypes.POINTER(Allocator)], status),
    ("tl_set_num_threads", [ctypes.c_int], status),
    ("tl_get_num_threads", [], ctypes.c_int),
])
