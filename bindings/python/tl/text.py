"""The text data layer (include/tl/text.h): fastai's word tokenizer.

    tok = tl.Tokenizer()                  # fastai 2.7 default rules
    tok("I don't like it!")               # ['xxbos', 'i', 'do', "n't", ...]
    tok.tokenize_many(texts)              # list of token lists

Texts are str (encoded as UTF-8) or bytes (must be UTF-8; invalid bytes
raise tl.FormatError naming the byte offset, or become U+FFFD with
replace_invalid=True). See docs/text.md.
"""
import ctypes

from ._native import OwnedHandle, c_size_p, lib, register, status

__all__ = ["Tokenizer", "SPECIALS"]

_p = ctypes.c_void_p


class _TokOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("add_bos", ctypes.c_int),
                ("add_eos", ctypes.c_int), ("replace_invalid", ctypes.c_int)]


register([
    ("tl_text_special", [ctypes.c_size_t], ctypes.c_char_p),
    ("tl_tokenizer_options_init", [ctypes.POINTER(_TokOptions), ctypes.c_uint], status),
    ("tl_tokenizer_create", [ctypes.POINTER(_p), ctypes.POINTER(_TokOptions)], status),
    ("tl_tokenizer_free", [_p], None),
    ("tl_tokenizer_run", [c_size_p, _p, ctypes.c_char_p, ctypes.c_size_t], status),
    ("tl_tokenizer_token", [ctypes.POINTER(ctypes.c_char_p), c_size_p, _p,
                            ctypes.c_size_t], status),
    ("tl_tokenizer_count", [c_size_p, _p], status),
])

#: fastai's special tokens, in its order (xxunk, xxpad, xxbos, ...).
SPECIALS = tuple(lib.tl_text_special(i).decode() for i in range(9))


def _as_bytes(text):
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("text must be str or bytes, not %s" % type(text).__name__)


class Tokenizer(OwnedHandle):
    """fastai's default word tokenizer (rules, then spaCy-style splitting)."""

    _free = "tl_tokenizer_free"
    _what = "tokenizer"

    def __init__(self, add_bos=True, add_eos=False, replace_invalid=False):
        opts = _TokOptions()
        lib.tl_tokenizer_options_init(ctypes.byref(opts), 1)
        opts.add_bos, opts.add_eos = int(bool(add_bos)), int(bool(add_eos))
        opts.replace_invalid = int(bool(replace_invalid))
        handle = _p()
        lib.tl_tokenizer_create(ctypes.byref(handle), ctypes.byref(opts))
        self._handle = handle

    def _run(self, text):
        data = _as_bytes(text)
        n = ctypes.c_size_t()
        lib.tl_tokenizer_run(ctypes.byref(n), self._live(), data, len(data))
        return n.value

    def _token_bytes(self, index):
        out, length = ctypes.c_char_p(), ctypes.c_size_t()
        lib.tl_tokenizer_token(ctypes.byref(out), ctypes.byref(length),
                               self._handle, index)
        return ctypes.string_at(out, length.value)

    def __call__(self, text):
        """The tokens of one text, as a list of str."""
        n = self._run(text)
        return [self._token_bytes(i).decode("utf-8") for i in range(n)]

    tokenize = __call__

    def tokenize_many(self, texts):
        return [self(t) for t in texts]
