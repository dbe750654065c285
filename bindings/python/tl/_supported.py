"""The libtl versions this binding is written for, checked at load.

libtl follows Semantic Versioning with a 0.x major (CHANGELOG.md): while the
major is 0, a new minor may change the ABI, so the binding accepts exactly
the 0.1.x releases, TL_VERSION_NUMBER 100..199 (major * 10000 + minor * 100
+ patch), as the Node.js binding does. The check runs before any function is
declared, so a library of another version is named as such rather than by
the first function it lacks.
"""
import ctypes

__all__ = ["MIN_VERSION", "MAX_VERSION", "SUPPORTED", "check_library"]

MIN_VERSION = 100
MAX_VERSION = 199
SUPPORTED = "0.1.x"


def check_library(lib, path):
    """Raises ImportError naming path and its version when the loaded
    library `lib` (a ctypes.CDLL) is not a libtl version in
    [MIN_VERSION, MAX_VERSION], or is not libtl at all."""
    try:
        number_fn = lib.tl_version_number
        string_fn = lib.tl_version_string
    except AttributeError:
        raise ImportError("%s is not libtl: it has no tl_version_number"
                          % path) from None
    number_fn.argtypes, number_fn.restype = [], ctypes.c_uint
    string_fn.argtypes, string_fn.restype = [], ctypes.c_char_p
    number = number_fn()
    if not MIN_VERSION <= number <= MAX_VERSION:
        text = (string_fn() or b"?").decode("ascii", "replace")
        raise ImportError(
            "libtl at %s is version %s (tl_version_number %d); this binding "
            "supports %s (%d..%d): install matching versions"
            % (path, text, number, SUPPORTED, MIN_VERSION, MAX_VERSION))
    return number
