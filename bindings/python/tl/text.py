"""The text data layer (include/tl/text.h): fastai's word tokenizer.

    tok = tl.Tokenizer()                  # fastai 2.7 default rules
    tok("I don't like it!")               # ['xxbos', 'i', 'do', "n't", ...]
    tok.tokenize_many(texts)              # list of token lists
    counts = tl.TokenCounts(); counts.add(tokens)
    vocab = tl.Vocab.from_counts(counts)  # fastai's make_vocab (3, 60000)
    ids = vocab.encode(tokens)            # numpy int64, unknown -> xxunk
    vocab.decode(ids)                     # "xxbos xxmaj hello ..."
    loader = tl.LMLoader(docs_ids, len(vocab), bs=64, bptt=70, seed=0)
    for x, y in loader:                   # one epoch: (T, bs) int64 views
        ...

Texts are str (encoded as UTF-8) or bytes (must be UTF-8; invalid bytes
raise tl.FormatError naming the byte offset, or become U+FFFD with
replace_invalid=True). See docs/text.md.
"""
import ctypes

from . import _versions as _v
from ._native import OwnedHandle, c_size_p, lib, register, status

__all__ = ["Tokenizer", "SPECIALS", "TokenCounts", "Vocab", "LMLoader", "ClasLoader",
           "LabelVocab", "LABEL_VOCAB_META_KEY", "split_stratified", "subset_per_class", "confusion_matrix",
           "classification_metrics", "lm_batch_metrics", "perplexity", "SentencePiece"]

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
    ("tl_text_corpus_tokenize", [ctypes.POINTER(_p), ctypes.POINTER(ctypes.c_char_p), c_size_p,
                                 ctypes.c_size_t, ctypes.POINTER(_TokOptions),
                                 ctypes.c_size_t], status),
    ("tl_text_corpus_free", [_p], None),
    ("tl_text_corpus_num_docs", [c_size_p, _p], status),
    ("tl_text_corpus_doc_len", [c_size_p, _p, ctypes.c_size_t], status),
    ("tl_text_corpus_token", [ctypes.POINTER(ctypes.c_char_p), c_size_p, _p,
                              ctypes.c_size_t, ctypes.c_size_t], status),
])

class _VocabOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("min_freq", ctypes.c_uint64),
                ("max_vocab", ctypes.c_size_t), ("pad_multiple", ctypes.c_size_t)]


_i64_p = ctypes.POINTER(ctypes.c_int64)
_strs = ctypes.POINTER(ctypes.c_char_p)

register([
    ("tl_token_counts_create", [ctypes.POINTER(_p)], status),
    ("tl_token_counts_free", [_p], None),
    ("tl_token_counts_add", [_p, _strs, ctypes.c_size_t], status),
    ("tl_token_counts_add_run", [_p, _p], status),
    ("tl_token_counts_add_corpus", [_p, _p], status),
    ("tl_token_counts_size", [c_size_p, _p], status),
    ("tl_token_counts_get", [ctypes.POINTER(ctypes.c_uint64), _p, ctypes.c_char_p], status),
    ("tl_vocab_options_init", [ctypes.POINTER(_VocabOptions), ctypes.c_uint], status),
    ("tl_vocab_create_from_counts", [ctypes.POINTER(_p), _p,
                                     ctypes.POINTER(_VocabOptions)], status),
    ("tl_vocab_create", [ctypes.POINTER(_p), _strs, ctypes.c_size_t], status),
    ("tl_vocab_free", [_p], None),
    ("tl_vocab_size", [c_size_p, _p], status),
    ("tl_vocab_token", [ctypes.POINTER(ctypes.c_char_p), _p, ctypes.c_int64], status),
    ("tl_vocab_tokens", [ctypes.POINTER(_strs), _p], status),
    ("tl_vocab_id", [_i64_p, _p, ctypes.c_char_p, ctypes.c_size_t], status),
    ("tl_vocab_encode", [_i64_p, ctypes.c_size_t, _p, _strs], status),
    ("tl_vocab_encode_run", [_i64_p, ctypes.c_size_t, _p, _p], status),
    ("tl_vocab_encode_doc", [_i64_p, ctypes.c_size_t, _p, _p, ctypes.c_size_t], status),
    ("tl_vocab_decode", [ctypes.c_char_p, ctypes.c_size_t, c_size_p, _p, _i64_p,
                         ctypes.c_size_t], status),
])


class _LMOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("batch_size", ctypes.c_size_t),
                ("bptt", ctypes.c_size_t), ("variable_length", ctypes.c_int),
                ("shuffle", ctypes.c_int), ("backwards", ctypes.c_int),
                ("bos_id", ctypes.c_int64), ("seed", ctypes.c_uint64),
                ("rank", ctypes.c_size_t), ("world_size", ctypes.c_size_t)]


register([
    ("tl_lm_loader_options_init", [ctypes.POINTER(_LMOptions), ctypes.c_uint], status),
    ("tl_lm_loader_create", [ctypes.POINTER(_p), ctypes.POINTER(_i64_p), c_size_p,
                             ctypes.c_size_t, ctypes.c_size_t,
                             ctypes.POINTER(_LMOptions)], status),
    ("tl_lm_loader_free", [_p], None),
    ("tl_lm_loader_next", [ctypes.POINTER(_i64_p), ctypes.POINTER(_i64_p), c_size_p,
                           _p], status),
    ("tl_lm_loader_restart", [_p], status),
    ("tl_lm_loader_row_len", [c_size_p, _p], status),
    ("tl_lm_loader_epoch", [ctypes.POINTER(ctypes.c_uint64), _p], status),
])


class _ClasOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("batch_size", ctypes.c_size_t),
                ("seq_len", ctypes.c_size_t), ("max_len", ctypes.c_size_t),
                ("shuffle", ctypes.c_int), ("pad_first", ctypes.c_int),
                ("pad_id", ctypes.c_int64), ("seed", ctypes.c_uint64),
                ("rank", ctypes.c_size_t), ("world_size", ctypes.c_size_t)]


register([
    ("tl_clas_loader_options_init", [ctypes.POINTER(_ClasOptions), ctypes.c_uint], status),
    ("tl_clas_loader_create", [ctypes.POINTER(_p), ctypes.POINTER(_i64_p), c_size_p, _i64_p,
                               ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                               ctypes.POINTER(_ClasOptions)], status),
    ("tl_clas_loader_free", [_p], None),
    ("tl_clas_loader_next", [ctypes.POINTER(_i64_p), ctypes.POINTER(_i64_p), c_size_p,
                             c_size_p, ctypes.POINTER(c_size_p), _p], status),
    ("tl_clas_loader_restart", [_p], status),
    ("tl_text_split_stratified", [ctypes.POINTER(ctypes.c_uint8), _i64_p, ctypes.c_size_t,
                                  ctypes.c_size_t, ctypes.c_double, ctypes.c_uint64], status),
    ("tl_text_subset_per_class", [c_size_p, ctypes.c_size_t, _i64_p, ctypes.c_size_t,
                                  ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint64], status),
])


_f64_p = ctypes.POINTER(ctypes.c_double)
_u64_p = ctypes.POINTER(ctypes.c_uint64)
register([
    ("tl_confusion_matrix", [_u64_p, ctypes.c_size_t, _i64_p, _i64_p, ctypes.c_size_t],
     status),
    ("tl_classification_metrics", [_f64_p, _f64_p, _f64_p, _f64_p, _f64_p, ctypes.c_size_t,
                                   _i64_p, _i64_p, ctypes.c_size_t], status),
    ("tl_lm_batch_metrics", [_f64_p, _u64_p, ctypes.POINTER(ctypes.c_float), _i64_p,
                             ctypes.c_size_t, ctypes.c_size_t], status),
    ("tl_perplexity", [_f64_p, ctypes.c_double, ctypes.c_uint64], status),
])


def _doc_arrays(docs):
    import numpy as np
    arrays = [np.ascontiguousarray(d, dtype=np.int64).ravel() for d in docs]
    n = len(arrays)
    ptrs = (_i64_p * max(n, 1))(*[a.ctypes.data_as(_i64_p) for a in arrays])
    lens = (ctypes.c_size_t * max(n, 1))(*[a.size for a in arrays])
    return arrays, ptrs, lens, n


def _str_array(tokens):
    enc = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in tokens]
    return (ctypes.c_char_p * max(len(enc), 1))(*enc), len(enc)


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
        lib.tl_tokenizer_options_init(ctypes.byref(opts), _v.TOKENIZER_OPTIONS_VERSION)
        opts.add_bos, opts.add_eos = int(bool(add_bos)), int(bool(add_eos))
        opts.replace_invalid = int(bool(replace_invalid))
        handle = _p()
        lib.tl_tokenizer_create(ctypes.byref(handle), ctypes.byref(opts))
        self._handle = handle
        self._opts = opts

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

    def tokenize_many(self, texts, n_threads=1):
        """Token lists of many texts, on n_threads threads (libtl's pool:
        the result does not depend on n_threads). An invalid text raises
        tl.FormatError naming the document."""
        self._live()
        data = [_as_bytes(t) for t in texts]
        n = len(data)
        arr = (ctypes.c_char_p * max(n, 1))(*data)
        lens = (ctypes.c_size_t * max(n, 1))(*[len(d) for d in data])
        corpus = _p()
        lib.tl_text_corpus_tokenize(ctypes.byref(corpus), arr, lens, n,
                                    ctypes.byref(self._opts), int(n_threads))
        try:
            out = []
            m, t, ln = ctypes.c_size_t(), ctypes.c_char_p(), ctypes.c_size_t()
            for d in range(n):
                lib.tl_text_corpus_doc_len(ctypes.byref(m), corpus, d)
                toks = []
                for i in range(m.value):
                    lib.tl_text_corpus_token(ctypes.byref(t), ctypes.byref(ln), corpus, d, i)
                    toks.append(ctypes.string_at(t, ln.value).decode("utf-8"))
                out.append(toks)
            return out
        finally:
            lib.tl_text_corpus_free(corpus)


class TokenCounts(OwnedHandle):
    """Token counts in first-seen order (Python's Counter, as fastai counts)."""

    _free = "tl_token_counts_free"
    _what = "token counts"

    def __init__(self, tokens=None):
        handle = _p()
        lib.tl_token_counts_create(ctypes.byref(handle))
        self._handle = handle
        if tokens is not None:
            self.add(tokens)

    def add(self, tokens):
        arr, n = _str_array(tokens)
        lib.tl_token_counts_add(self._live(), arr, n)

    def __len__(self):
        n = ctypes.c_size_t()
        lib.tl_token_counts_size(ctypes.byref(n), self._live())
        return n.value

    def __getitem__(self, token):
        out = ctypes.c_uint64()
        lib.tl_token_counts_get(ctypes.byref(out), self._live(), token.encode("utf-8"))
        return out.value


class Vocab(OwnedHandle):
    """id <-> token, built as fastai's make_vocab (docs/text.md)."""

    _free = "tl_vocab_free"
    _what = "vocabulary"

    def __init__(self, tokens):
        """A vocabulary that is exactly `tokens` (must contain xxunk)."""
        arr, n = _str_array(tokens)
        handle = _p()
        lib.tl_vocab_create(ctypes.byref(handle), arr, n)
        self._handle = handle

    @classmethod
    def from_counts(cls, counts, min_freq=3, max_vocab=60000, pad_multiple=8):
        if not isinstance(counts, TokenCounts):
            counts = TokenCounts(counts)
        opts = _VocabOptions()
        lib.tl_vocab_options_init(ctypes.byref(opts), _v.VOCAB_OPTIONS_VERSION)
        opts.min_freq, opts.max_vocab = int(min_freq), int(max_vocab)
        opts.pad_multiple = int(pad_multiple)
        handle = _p()
        lib.tl_vocab_create_from_counts(ctypes.byref(handle), counts._live(),
                                        ctypes.byref(opts))
        self = cls.__new__(cls)
        self._handle = handle
        return self

    def __len__(self):
        n = ctypes.c_size_t()
        lib.tl_vocab_size(ctypes.byref(n), self._live())
        return n.value

    @property
    def itos(self):
        """All tokens in id order (fastai's vocab list)."""
        arr = _strs()
        lib.tl_vocab_tokens(ctypes.byref(arr), self._live())
        return [arr[i].decode("utf-8") for i in range(len(self))]

    def token(self, i):
        out = ctypes.c_char_p()
        lib.tl_vocab_token(ctypes.byref(out), self._live(), int(i))
        return out.value.decode("utf-8")

    def encode(self, tokens):
        """numpy int64 ids of a list of tokens (unknown -> id of xxunk)."""
        import numpy as np
        arr, n = _str_array(tokens)
        out = np.empty(n, dtype=np.int64)
        lib.tl_vocab_encode(out.ctypes.data_as(_i64_p), n, self._live(), arr)
        return out

    def decode(self, ids):
        """The tokens of ids joined by spaces."""
        import numpy as np
        ids = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        p = ids.ctypes.data_as(_i64_p)
        need = ctypes.c_size_t()
        lib.tl_vocab_decode(None, 0, ctypes.byref(need), self._live(), p, ids.size)
        buf = ctypes.create_string_buffer(need.value + 1)
        lib.tl_vocab_decode(buf, need.value + 1, None, self._handle, p, ids.size)
        return buf.value.decode("utf-8")


class LMLoader(OwnedHandle):
    """fastai's LMDataLoader (docs/text.md): iterating gives one epoch of
    (x, y) batches, each a (T, bs) int64 numpy array, time-major, y = x
    shifted by one token. The arrays are views of the loader's buffers,
    overwritten by the next batch: copy them to keep them (copy=True does).
    """

    _free = "tl_lm_loader_free"
    _what = "LM loader"

    def __init__(self, docs, vocab_size, bs=64, bptt=70, variable_length=True,
                 shuffle=True, backwards=False, bos_id=None, seed=0, copy=False):
        import numpy as np
        arrays = [np.ascontiguousarray(d, dtype=np.int64).ravel() for d in docs]
        n = len(arrays)
        ptrs = (_i64_p * max(n, 1))(*[a.ctypes.data_as(_i64_p) for a in arrays])
        lens = (ctypes.c_size_t * max(n, 1))(*[a.size for a in arrays])
        opts = _LMOptions()
        lib.tl_lm_loader_options_init(ctypes.byref(opts), _v.LM_LOADER_OPTIONS_VERSION)
        opts.batch_size, opts.bptt = int(bs), int(bptt)
        opts.variable_length, opts.shuffle = int(bool(variable_length)), int(bool(shuffle))
        opts.backwards = int(bool(backwards))
        opts.bos_id = -1 if bos_id is None else int(bos_id)
        opts.seed = int(seed)
        handle = _p()
        lib.tl_lm_loader_create(ctypes.byref(handle), ptrs, lens, n, int(vocab_size),
                                ctypes.byref(opts))
        self._handle = handle
        self.bs, self.copy = int(bs), copy
        self.bptt = int(bptt)  # tl.Learner counts batches per epoch with it

    @property
    def row_len(self):
        out = ctypes.c_size_t()
        lib.tl_lm_loader_row_len(ctypes.byref(out), self._live())
        return out.value

    @property
    def epoch(self):
        out = ctypes.c_uint64()
        lib.tl_lm_loader_epoch(ctypes.byref(out), self._live())
        return out.value

    def restart(self):
        lib.tl_lm_loader_restart(self._live())

    def __iter__(self):
        import numpy as np
        x, y, t = _i64_p(), _i64_p(), ctypes.c_size_t()
        while True:
            lib.tl_lm_loader_next(ctypes.byref(x), ctypes.byref(y), ctypes.byref(t),
                                  self._live())
            if t.value == 0:
                return
            shape = (t.value, self.bs)
            xa = np.ctypeslib.as_array(x, shape=shape)
            ya = np.ctypeslib.as_array(y, shape=shape)
            yield (xa.copy(), ya.copy()) if self.copy else (xa, ya)


register([
    ("tl_label_vocab_create", [ctypes.POINTER(_p), _strs, ctypes.c_size_t], status),
    ("tl_label_vocab_free", [_p], None),
    ("tl_label_vocab_size", [c_size_p, _p], status),
    ("tl_label_vocab_label", [ctypes.POINTER(ctypes.c_char_p), _p, ctypes.c_int64], status),
    ("tl_label_vocab_encode", [_i64_p, _p, _strs, ctypes.c_size_t], status),
    ("tl_label_vocab_to_string", [ctypes.c_char_p, ctypes.c_size_t, c_size_p, _p], status),
    ("tl_label_vocab_from_string", [ctypes.POINTER(_p), ctypes.c_char_p], status),
])

#: The checkpoint metadata key of a label vocabulary (TL_LABEL_VOCAB_META_KEY).
LABEL_VOCAB_META_KEY = "labels"


def _label_array(labels, fn):
    """labels as a C array of UTF-8 strings; None stays NULL (a missing
    label, which libtl reports naming the document). A label that is not a
    str, or holds a NUL (which would cut it short in C), is refused here."""
    from . import _check
    enc = [None if lab is None else _check.c_string(lab, "document %d: label" % i, fn)
           for i, lab in enumerate(labels)]
    return (ctypes.c_char_p * max(len(enc), 1))(*enc), len(enc)


class LabelVocab(OwnedHandle):
    """Labels given as strings -> class ids (the C tl_label_vocab): the
    classes are sorted(set(labels)), as fastai's CategoryMap sorts them;
    an unknown or missing (None) label raises tl.InvalidArgumentError
    naming the document. to_string()/from_string() and store()/restore()
    keep the classes in a checkpoint's metadata under "labels"."""

    _free = "tl_label_vocab_free"
    _what = "label vocabulary"

    def __init__(self, labels):
        arr, n = _label_array(list(labels), "LabelVocab")
        handle = _p()
        lib.tl_label_vocab_create(ctypes.byref(handle), arr, n)
        self._handle = handle

    def __len__(self):
        n = ctypes.c_size_t()
        lib.tl_label_vocab_size(ctypes.byref(n), self._live())
        return n.value

    def label(self, i):
        """The class label of id i."""
        out = ctypes.c_char_p()
        from . import _check
        lib.tl_label_vocab_label(ctypes.byref(out), self._live(),
                                 _check.int64(i, "id", "LabelVocab.label"))
        return out.value.decode("utf-8")

    @property
    def itos(self):
        """The classes in id order."""
        return [self.label(i) for i in range(len(self))]

    @property
    def o2i(self):
        """class label -> id."""
        return {v: i for i, v in enumerate(self.itos)}

    def encode(self, labels):
        """numpy int64 ids of labels (all or nothing)."""
        import numpy as np
        arr, n = _label_array(list(labels), "LabelVocab.encode")
        out = np.empty(n, dtype=np.int64)
        lib.tl_label_vocab_encode(out.ctypes.data_as(_i64_p), self._live(), arr, n)
        return out

    def decode(self, ids):
        """The class labels of ids."""
        return [self.label(i) for i in ids]

    def to_string(self):
        """The text form kept in checkpoints ("v1;" then len:label per class)."""
        n = ctypes.c_size_t()
        lib.tl_label_vocab_to_string(None, 0, ctypes.byref(n), self._live())
        buf = ctypes.create_string_buffer(n.value + 1)
        lib.tl_label_vocab_to_string(buf, n.value + 1, None, self._live())
        return buf.raw[:n.value].decode("utf-8")

    @classmethod
    def from_string(cls, text):
        """The label vocabulary of a to_string() text (tl.FormatError if bad)."""
        from . import _check
        data = _check.c_string(text, "text", "LabelVocab.from_string")
        handle = _p()
        lib.tl_label_vocab_from_string(ctypes.byref(handle), data)
        self = cls.__new__(cls)
        self._handle = handle
        return self

    def store(self, checkpoint):
        """Puts the classes into a tl.Checkpoint's metadata ("labels")."""
        checkpoint.meta[LABEL_VOCAB_META_KEY] = self.to_string()

    @classmethod
    def restore(cls, checkpoint):
        """The label vocabulary stored in a tl.Checkpoint (tl.NotFoundError
        if it has none)."""
        text = checkpoint.meta.get(LABEL_VOCAB_META_KEY)
        if text is None:
            from ._errors import NotFoundError
            raise NotFoundError("LabelVocab.restore: the checkpoint has no %r metadata"
                                % LABEL_VOCAB_META_KEY, function="LabelVocab.restore")
        return cls.from_string(text)


class ClasLoader(OwnedHandle):
    """fastai's SortedDL + pad_input_chunk (docs/text.md): iterating gives
    one epoch of (x, y) with x a (T, b) int64 array (time-major, padded
    with pad_id) and y the b labels; views unless copy=True. `labels` may
    be ints in [0, n_classes) or strings (mapped through a LabelVocab,
    kept as self.label_vocab)."""

    _free = "tl_clas_loader_free"
    _what = "classifier loader"

    def __init__(self, docs, labels, vocab_size, n_classes=None, bs=64, seq_len=72,
                 max_len=0, shuffle=True, pad_first=True, pad_id=1, seed=0, copy=False):
        import numpy as np
        self.label_vocab = None
        labels = list(labels)
        if labels and isinstance(labels[0], str):
            self.label_vocab = LabelVocab(labels)
            labels = self.label_vocab.encode(labels)
            if n_classes is None:
                n_classes = len(self.label_vocab)
        lab = np.ascontiguousarray(labels, dtype=np.int64)
        if n_classes is None:
            n_classes = int(lab.max()) + 1 if lab.size else 0
        _, ptrs, lens, n = _doc_arrays(docs)
        opts = _ClasOptions()
        lib.tl_clas_loader_options_init(ctypes.byref(opts), _v.CLAS_LOADER_OPTIONS_VERSION)
        opts.batch_size, opts.seq_len, opts.max_len = int(bs), int(seq_len), int(max_len)
        opts.shuffle, opts.pad_first = int(bool(shuffle)), int(bool(pad_first))
        opts.pad_id, opts.seed = int(pad_id), int(seed)
        handle = _p()
        lib.tl_clas_loader_create(ctypes.byref(handle), ptrs, lens,
                                  lab.ctypes.data_as(_i64_p), n, int(vocab_size),
                                  int(n_classes), ctypes.byref(opts))
        self._handle = handle
        self.copy = copy
        # What tl.Learner needs for batch counts and masked pooling.
        self.bs, self.max_len, self.pad_first = int(bs), int(max_len), bool(pad_first)
        self.doc_lens = [int(lens[i]) for i in range(n)]

    def restart(self):
        lib.tl_clas_loader_restart(self._live())

    def __iter__(self):
        import numpy as np
        x, y = _i64_p(), _i64_p()
        t, b, docs = ctypes.c_size_t(), ctypes.c_size_t(), c_size_p()
        while True:
            lib.tl_clas_loader_next(ctypes.byref(x), ctypes.byref(y), ctypes.byref(t),
                                    ctypes.byref(b), ctypes.byref(docs), self._live())
            if b.value == 0:
                return
            xa = np.ctypeslib.as_array(x, shape=(t.value, b.value))
            ya = np.ctypeslib.as_array(y, shape=(b.value,))
            yield (xa.copy(), ya.copy()) if self.copy else (xa, ya)


def split_stratified(labels, valid_frac=0.2, n_classes=None, seed=0):
    """Boolean mask of the validation documents: round(valid_frac * n_c) of
    each class, chosen at random (seeded)."""
    import numpy as np
    lab = np.ascontiguousarray(labels, dtype=np.int64)
    if n_classes is None:
        n_classes = int(lab.max()) + 1 if lab.size else 0
    out = np.zeros(lab.size, dtype=np.uint8)
    lib.tl_text_split_stratified(out.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)),
                                 lab.ctypes.data_as(_i64_p), lab.size, int(n_classes),
                                 float(valid_frac), int(seed))
    return out.astype(bool)


def subset_per_class(labels, k, n_classes=None, seed=0):
    """Indices of k random documents of each class, class by class."""
    import numpy as np
    lab = np.ascontiguousarray(labels, dtype=np.int64)
    if n_classes is None:
        n_classes = int(lab.max()) + 1 if lab.size else 0
    out = np.zeros(max(int(k) * int(n_classes), 1), dtype=np.uintp)
    lib.tl_text_subset_per_class(out.ctypes.data_as(c_size_p), out.size,
                                 lab.ctypes.data_as(_i64_p), lab.size, int(n_classes),
                                 int(k), int(seed))
    return out[:int(k) * int(n_classes)].astype(np.int64)


def _pair(pred, target):
    import numpy as np
    p = np.ascontiguousarray(pred, dtype=np.int64).ravel()
    t = np.ascontiguousarray(target, dtype=np.int64).ravel()
    if p.size != t.size:
        from ._errors import ShapeError
        raise ShapeError("pred has %d entries, target %d" % (p.size, t.size))
    return p, t


def confusion_matrix(pred, target, n_classes):
    """(n_classes, n_classes) counts: row = true class, column = predicted."""
    import numpy as np
    p, t = _pair(pred, target)
    out = np.zeros((int(n_classes), int(n_classes)), dtype=np.uint64)
    lib.tl_confusion_matrix(out.ctypes.data_as(_u64_p), int(n_classes),
                            p.ctypes.data_as(_i64_p), t.ctypes.data_as(_i64_p), p.size)
    return out


def classification_metrics(pred, target, n_classes):
    """dict: accuracy, macro_f1, and per-class precision, recall, f1 arrays
    (scikit-learn's definitions, zero_division=0)."""
    import numpy as np
    p, t = _pair(pred, target)
    acc, macro = ctypes.c_double(), ctypes.c_double()
    prec, rec, f1 = (np.zeros(int(n_classes)) for _ in range(3))
    lib.tl_classification_metrics(ctypes.byref(acc), ctypes.byref(macro),
                                  prec.ctypes.data_as(_f64_p), rec.ctypes.data_as(_f64_p),
                                  f1.ctypes.data_as(_f64_p), int(n_classes),
                                  p.ctypes.data_as(_i64_p), t.ctypes.data_as(_i64_p), p.size)
    return {"accuracy": acc.value, "macro_f1": macro.value, "precision": prec,
            "recall": rec, "f1": f1}


def lm_batch_metrics(logits, targets):
    """(summed negative log-likelihood, next-token hits) of (n, vocab)
    float32 logits against n targets."""
    import numpy as np
    lg = np.ascontiguousarray(logits, dtype=np.float32)
    lg = lg.reshape(-1, lg.shape[-1])
    tg = np.ascontiguousarray(targets, dtype=np.int64).ravel()
    if tg.size != lg.shape[0]:
        from ._errors import ShapeError
        raise ShapeError("logits have %d rows, targets %d" % (lg.shape[0], tg.size))
    nll, hits = ctypes.c_double(), ctypes.c_uint64()
    lib.tl_lm_batch_metrics(ctypes.byref(nll), ctypes.byref(hits),
                            lg.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                            tg.ctypes.data_as(_i64_p), tg.size, lg.shape[1])
    return nll.value, hits.value


def perplexity(nll_sum, count):
    out = ctypes.c_double()
    lib.tl_perplexity(ctypes.byref(out), float(nll_sum), int(count))
    return out.value


register([
    ("tl_spm_load", [ctypes.POINTER(_p), ctypes.c_char_p], status),
    ("tl_spm_free", [_p], None),
    ("tl_spm_size", [c_size_p, _p], status),
    ("tl_spm_piece", [ctypes.POINTER(ctypes.c_char_p), _p, ctypes.c_int64], status),
    ("tl_spm_encode", [_i64_p, ctypes.c_size_t, c_size_p, _p, ctypes.c_char_p,
                       ctypes.c_size_t], status),
    ("tl_spm_decode", [ctypes.c_char_p, ctypes.c_size_t, c_size_p, _p, _i64_p,
                       ctypes.c_size_t], status),
])


class SentencePiece(OwnedHandle):
    """A SentencePiece .model through libtl (tl.UnsupportedError when libtl
    was built without SentencePiece)."""

    _free = "tl_spm_free"
    _what = "SentencePiece model"

    def __init__(self, path):
        handle = _p()
        lib.tl_spm_load(ctypes.byref(handle), str(path).encode())
        self._handle = handle

    def __len__(self):
        n = ctypes.c_size_t()
        lib.tl_spm_size(ctypes.byref(n), self._live())
        return n.value

    def piece(self, i):
        out = ctypes.c_char_p()
        lib.tl_spm_piece(ctypes.byref(out), self._live(), int(i))
        return out.value.decode("utf-8")

    def encode(self, text):
        import numpy as np
        data = _as_bytes(text)
        n = ctypes.c_size_t()
        lib.tl_spm_encode(None, 0, ctypes.byref(n), self._live(), data, len(data))
        out = np.empty(n.value, dtype=np.int64)
        lib.tl_spm_encode(out.ctypes.data_as(_i64_p), n.value, ctypes.byref(n),
                          self._handle, data, len(data))
        return out

    def encode_pieces(self, text):
        return [self.piece(i) for i in self.encode(text)]

    def decode(self, ids):
        import numpy as np
        ids = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        p = ids.ctypes.data_as(_i64_p)
        need = ctypes.c_size_t()
        lib.tl_spm_decode(None, 0, ctypes.byref(need), self._live(), p, ids.size)
        buf = ctypes.create_string_buffer(need.value + 1)
        lib.tl_spm_decode(buf, need.value + 1, None, self._handle, p, ids.size)
        return buf.value.decode("utf-8")
