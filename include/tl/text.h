/*
 * libtl text: the data layer that turns documents into the int64 ids a
 * model takes, as fastai's Tokenizer / Numericalize / LMDataLoader do for
 * ULMFiT. Word tokenizer (tl_tokenizer), vocabulary (tl_vocab, built from
 * token counts tl_token_counts) and the language-model batch stream
 * (tl_lm_loader). See docs/text.md.
 *
 * Text is UTF-8 throughout. A handle is used by one thread at a time;
 * distinct handles may run in different threads.
 */
#ifndef TL_TEXT_H
#define TL_TEXT_H

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tokenizer ---------------------------------------------------------- */

/*
 * fastai's default word tokenizer (fastai 2.7, text/core.py): the rules
 * fix_html, replace_rep ("xxrep n c"), replace_wrep ("xxwrep n w"),
 * spec_add_spaces, rm_useless_spaces, replace_all_caps ("xxup"),
 * replace_maj ("xxmaj") and lowercase (which puts "xxbos" first), in that
 * order and with Python's semantics (Unicode \s and \w, str.lower() with
 * its final-sigma rule, html.unescape with every HTML5 entity); then the
 * text is split as spaCy's English tokenizer does: on spaces, other
 * whitespace kept as tokens, punctuation split off as prefixes, suffixes
 * and infixes, and English contractions split ("don't" -> "do n't", "it's"
 * -> "it 's"); the exact rule set is in docs/text.md. Finally spaces inside
 * a token become U+2581, as fastai's replace_space does.
 *
 * The special tokens below come in fastai's order, which is also their id
 * in a vocabulary built by tl_vocab_create_from_counts.
 */

/* Unknown token (id 0): the id tl_vocab_id and the encoders give a token
 * that is not in the vocabulary (fastai's Numericalize). */
#define TL_TEXT_UNK "xxunk"
/* Padding (id 1): what tl_clas_loader pads short documents with by default
 * (tl_clas_loader_options.pad_id). */
#define TL_TEXT_PAD "xxpad"
/* Beginning of a text (id 2): the tokenizer's first token with add_bos. */
#define TL_TEXT_BOS "xxbos"
/* End of a text (id 3): the tokenizer's last token with add_eos. */
#define TL_TEXT_EOS "xxeos"
/* Field separator (id 4): kept for fastai's vocabulary layout; this
 * tokenizer never emits it. */
#define TL_TEXT_FLD "xxfld"
/* Character repetition (id 5): "xxrep n c" replaces a non-space character c
 * repeated n >= 3 times (fastai's replace_rep). */
#define TL_TEXT_REP "xxrep"
/* Word repetition (id 6): "xxwrep n w" replaces a word w repeated n >= 3
 * times in a row (fastai's replace_wrep). */
#define TL_TEXT_WREP "xxwrep"
/* All capitals (id 7): put before a word of two or more characters written
 * in capitals, which is then lowercased (fastai's replace_all_caps). */
#define TL_TEXT_UP "xxup"
/* Capitalised (id 8): put before a word of two or more characters whose
 * first letter only is upper case, which is then lowercased (fastai's
 * replace_maj). */
#define TL_TEXT_MAJ "xxmaj"
/* Number of special tokens: tl_text_special's indices are below it, and a
 * vocabulary's max_vocab must be at least this. */
#define TL_TEXT_NUM_SPECIALS 9

/* The index-th special token (index < TL_TEXT_NUM_SPECIALS), in the order
 * above; NULL for a larger index. */
TL_API const char *tl_text_special(size_t index);

/* A word tokenizer (opaque): its options and the work buffers and tokens of
 * its last run. One thread at a time; distinct tokenizers may run in
 * different threads. */
typedef struct tl_tokenizer tl_tokenizer;

/* Options of tl_tokenizer_create and tl_text_corpus_tokenize. */
#define TL_TOKENIZER_OPTIONS_VERSION 1
typedef struct tl_tokenizer_options {
  unsigned int version; /* TL_TOKENIZER_OPTIONS_VERSION */
  int add_bos;          /* "xxbos" before the text (fastai's default): 1 */
  int add_eos;          /* "xxeos" after the text: 0 */
  /* 0: invalid UTF-8 is TL_E_FORMAT naming the byte offset (default).
   * 1: each maximal invalid subsequence becomes U+FFFD, as Python's
   * bytes.decode("utf-8", "replace") does. */
  int replace_invalid;
} tl_tokenizer_options;
/* The defaults of tl_tokenizer_options_init as a static initialiser:
 * tl_tokenizer_options o = TL_TOKENIZER_OPTIONS_INIT; */
#define TL_TOKENIZER_OPTIONS_INIT                                              \
  { TL_TOKENIZER_OPTIONS_VERSION, 1, 0, 0 }

/* Fills *out with the defaults above (add_bos 1, add_eos 0,
 * replace_invalid 0) for `version`, writing only the bytes that version
 * defines. Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version
 * outside 1..TL_TOKENIZER_OPTIONS_VERSION). */
TL_API tl_status tl_tokenizer_options_init(tl_tokenizer_options *out,
                                           unsigned int version);

/* Creates a tokenizer with empty work buffers (they grow at the first
 * run). options NULL means defaults; they are copied, so the caller's struct
 * need not outlive the call. The caller owns *out: release it with
 * tl_tokenizer_free. Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED
 * (options->version unknown), TL_E_NOMEM. */
TL_API tl_status tl_tokenizer_create(tl_tokenizer **out,
                                     const tl_tokenizer_options *options);
/* Frees the tokenizer and its buffers; views from tl_tokenizer_token become
 * invalid. NULL is a no-op. */
TL_API void tl_tokenizer_free(tl_tokenizer *tok);

/* Tokenizes text[0..len) (UTF-8; NUL bytes are ordinary characters) and
 * keeps the tokens in the tokenizer; *out_count is their number. The work
 * buffers only grow, to fit the largest text seen, and are reused: once a
 * corpus has been tokenized, tokenizing it again allocates nothing. Views from
 * tl_tokenizer_token stay valid until the next run or free. Errors:
 * TL_E_INVALID_ARG (NULL text with len > 0), TL_E_FORMAT (invalid UTF-8,
 * naming the byte offset; the previous tokens are then gone), TL_E_NOMEM. */
TL_API tl_status tl_tokenizer_run(size_t *out_count, tl_tokenizer *tok,
                                  const char *text, size_t len);

/* The index-th token of the last run: UTF-8, NUL-terminated, *out_len
 * bytes (out_len may be NULL). Errors: TL_E_INVALID_ARG (index >= count). */
TL_API tl_status tl_tokenizer_token(const char **out, size_t *out_len,
                                    const tl_tokenizer *tok, size_t index);

/* Number of tokens of the last run (0 before the first). */
TL_API tl_status tl_tokenizer_count(size_t *out, const tl_tokenizer *tok);

/* ---- tokenized corpora (thread pool over documents) --------------------- */

/* The tokens of many documents (opaque), made by tl_text_corpus_tokenize
 * and read-only afterwards, so several threads may read one corpus. */
typedef struct tl_text_corpus tl_text_corpus;

/* Many documents tokenized at once: texts[i][0..lens[i]), i < n_docs
 * (NULL texts allowed only with length 0), each through its own run of
 * the tokenizer, on n_threads threads (the calling one included) that take
 * contiguous blocks of documents. The tokens do not depend on n_threads.
 * The allocator hooks are called from those threads, so they must be
 * thread-safe when n_threads > 1. options NULL means defaults. The caller
 * owns *out (release with tl_text_corpus_free); the texts are not kept.
 * Errors: TL_E_INVALID_ARG (out, texts or lens NULL, n_threads outside
 * [1, 256]), TL_E_FORMAT (invalid UTF-8: "document 17: ... byte offset 3",
 * the lowest failing document), TL_E_UNSUPPORTED (options->version
 * unknown), TL_E_NOMEM; on error *out is left as it was. */
TL_API tl_status tl_text_corpus_tokenize(tl_text_corpus **out,
                                         const char *const *texts,
                                         const size_t *lens, size_t n_docs,
                                         const tl_tokenizer_options *options,
                                         size_t n_threads);
/* Frees the corpus; its token views become invalid. NULL is a no-op. */
TL_API void tl_text_corpus_free(tl_text_corpus *corpus);
/* Number of documents (n_docs of tl_text_corpus_tokenize). Errors:
 * TL_E_INVALID_ARG (a NULL argument). */
TL_API tl_status tl_text_corpus_num_docs(size_t *out,
                                         const tl_text_corpus *corpus);
/* Number of tokens of document doc. Errors: TL_E_INVALID_ARG (a NULL
 * argument, doc out of range). */
TL_API tl_status tl_text_corpus_doc_len(size_t *out,
                                        const tl_text_corpus *corpus,
                                        size_t doc);
/* The index-th token of document doc: UTF-8, NUL-terminated, *out_len
 * bytes (out_len may be NULL); a view, valid until the corpus is freed.
 * Errors: TL_E_INVALID_ARG (doc or index out of range, naming both). */
TL_API tl_status tl_text_corpus_token(const char **out, size_t *out_len,
                                      const tl_text_corpus *corpus, size_t doc,
                                      size_t index);

/* ---- SentencePiece subword units ------------------------------------------
 */

/*
 * A SentencePiece model (a .model file made by spm_train), for subword
 * units as MultiFiT uses them. Encoding and decoding are SentencePiece's own
 * (Debian's libsentencepiece), so ids and pieces are those of the Python
 * sentencepiece module on the same model. libtl links it when built with
 * -Dsentencepiece=enabled (or auto and the library is found); otherwise
 * every call here returns TL_E_UNSUPPORTED. The model's memory is
 * SentencePiece's (C++ new), not libtl's allocator hooks.
 */
typedef struct tl_spm tl_spm;

/* Loads path. Errors: TL_E_INVALID_ARG, TL_E_IO (missing or unreadable,
 * naming the path), TL_E_FORMAT (not a SentencePiece model), TL_E_NOMEM,
 * TL_E_UNSUPPORTED (built without SentencePiece). */
TL_API tl_status tl_spm_load(tl_spm **out, const char *path);
/* Frees the model (SentencePiece's delete); its piece views become
 * invalid. NULL is a no-op. */
TL_API void tl_spm_free(tl_spm *spm);
/* Number of pieces of the model (ids are 0..size-1). Errors:
 * TL_E_INVALID_ARG, TL_E_UNSUPPORTED (built without SentencePiece). */
TL_API tl_status tl_spm_size(size_t *out, const tl_spm *spm);
/* The piece of id (a view, valid until the model is freed). */
TL_API tl_status tl_spm_piece(const char **out, const tl_spm *spm, int64_t id);

/* The ids of text[0..len) (UTF-8) into out[0..cap); *out_n receives their
 * number. out NULL with cap 0 only counts. Errors: TL_E_FORMAT (invalid
 * UTF-8, naming the byte offset), TL_E_INVALID_ARG (cap too small, naming
 * the count needed; out is then untouched), TL_E_NOMEM. */
TL_API tl_status tl_spm_encode(int64_t *out, size_t cap, size_t *out_n,
                               const tl_spm *spm, const char *text, size_t len);

/* The text of ids[0..n), NUL-terminated in out[0..cap); *out_len (may be
 * NULL) its length. out NULL with cap 0 only measures. Errors:
 * TL_E_INVALID_ARG (an id outside the model, naming its position; cap too
 * small). */
TL_API tl_status tl_spm_decode(char *out, size_t cap, size_t *out_len,
                               const tl_spm *spm, const int64_t *ids, size_t n);

/* ---- token counts and vocabulary ----------------------------------------- */

/* Counts of tokens in the order first seen (Python's Counter fed with
 * Counter.update, as fastai counts a corpus). */
typedef struct tl_token_counts tl_token_counts;

/* Empty counts. The caller owns *out: release it with
 * tl_token_counts_free. Errors: TL_E_INVALID_ARG (out NULL), TL_E_NOMEM. */
TL_API tl_status tl_token_counts_create(tl_token_counts **out);
/* Frees the counts. NULL is a no-op. */
TL_API void tl_token_counts_free(tl_token_counts *counts);

/* Counts tokens[0..n) (NUL-terminated UTF-8). All or nothing: on error the
 * counts are as before. Errors: TL_E_INVALID_ARG (a NULL token, naming its
 * index), TL_E_NOMEM. */
TL_API tl_status tl_token_counts_add(tl_token_counts *counts,
                                     const char *const *tokens, size_t n);

/* Counts the tokens of tok's last run. Errors: TL_E_INVALID_ARG,
 * TL_E_NOMEM. */
TL_API tl_status tl_token_counts_add_run(tl_token_counts *counts,
                                         const tl_tokenizer *tok);

/* Number of distinct tokens counted so far. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_token_counts_size(size_t *out,
                                      const tl_token_counts *counts);
/* The count of token (NUL-terminated UTF-8; 0 if never seen). Errors:
 * TL_E_INVALID_ARG (a NULL argument). */
TL_API tl_status tl_token_counts_get(uint64_t *out,
                                     const tl_token_counts *counts,
                                     const char *token);

/*
 * Vocabulary: the token of each id. Built from counts as fastai's
 * make_vocab does (fastai 2.7 text/data.py):
 *   1. the max_vocab most frequent tokens, by count, equal counts in the
 *      order first seen (Counter.most_common is a stable sort);
 *   2. of those, the ones seen at least min_freq times;
 *   3. the special tokens (tl_text_special order) moved or added in front;
 *   4. cut to max_vocab;
 *   5. "xxfake" appended (pad_multiple - size % pad_multiple) times, so the
 *      size is a multiple of pad_multiple (fastai: 8, and a size already a
 *      multiple of 8 still gets 8).
 * Encoding maps a token that is not in the vocabulary, and "xxfake", to
 * the id of "xxunk", as fastai's Numericalize maps unknowns to 0.
 */
typedef struct tl_vocab tl_vocab;

/* Options of tl_vocab_create_from_counts (fastai's make_vocab defaults). */
#define TL_VOCAB_OPTIONS_VERSION 1
typedef struct tl_vocab_options {
  unsigned int version; /* TL_VOCAB_OPTIONS_VERSION */
  uint64_t min_freq;    /* 3 */
  size_t max_vocab;     /* 60000; >= TL_TEXT_NUM_SPECIALS */
  size_t pad_multiple;  /* 8; 0: no "xxfake" padding */
} tl_vocab_options;
/* The defaults of tl_vocab_options_init as a static initialiser:
 * tl_vocab_options o = TL_VOCAB_OPTIONS_INIT; */
#define TL_VOCAB_OPTIONS_INIT                                                  \
  { TL_VOCAB_OPTIONS_VERSION, 3, 60000, 8 }

/* Fills *out with the defaults above (min_freq 3, max_vocab 60000,
 * pad_multiple 8) for `version`, writing only the bytes that version
 * defines. Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version
 * outside 1..TL_VOCAB_OPTIONS_VERSION). */
TL_API tl_status tl_vocab_options_init(tl_vocab_options *out,
                                       unsigned int version);

/* The vocabulary of counts by the steps above (options NULL: defaults).
 * The tokens are copied: counts may be freed afterwards. The caller owns
 * *out (release with tl_vocab_free). Errors: TL_E_INVALID_ARG (a NULL
 * argument, max_vocab below TL_TEXT_NUM_SPECIALS, max_vocab or
 * pad_multiple too large to size the table), TL_E_UNSUPPORTED
 * (options->version unknown), TL_E_NOMEM. */
TL_API tl_status tl_vocab_create_from_counts(tl_vocab **out,
                                             const tl_token_counts *counts,
                                             const tl_vocab_options *options);

/* A vocabulary that is exactly tokens[0..n) (for instance read back from a
 * checkpoint with tl_ckpt_vocab_token). It must contain "xxunk"; a token
 * other than "xxfake" may appear only once. Errors: TL_E_INVALID_ARG
 * (naming the duplicate's two indices, a NULL token, n == 0, no "xxunk"),
 * TL_E_NOMEM. */
TL_API tl_status tl_vocab_create(tl_vocab **out, const char *const *tokens,
                                 size_t n);
/* Frees the vocabulary; its token views become invalid. NULL is a no-op. */
TL_API void tl_vocab_free(tl_vocab *vocab);

/* Number of ids, "xxfake" padding included. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_vocab_size(size_t *out, const tl_vocab *vocab);

/* The token of id (a view, valid until the vocabulary is freed). Errors:
 * TL_E_INVALID_ARG (id outside [0, size)). */
TL_API tl_status tl_vocab_token(const char **out, const tl_vocab *vocab,
                                int64_t id);

/* All tokens in id order (a view of size tl_vocab_size), ready for
 * tl_ckpt_set_vocab(ckpt, tokens, size). */
TL_API tl_status tl_vocab_tokens(const char *const **out,
                                 const tl_vocab *vocab);

/* The id of token[0..len) (the id of "xxunk" when unknown). */
TL_API tl_status tl_vocab_id(int64_t *out, const tl_vocab *vocab,
                             const char *token, size_t len);

/* out[i] = id of tokens[i], i < n. Errors: TL_E_INVALID_ARG (NULL token,
 * naming its index). */
TL_API tl_status tl_vocab_encode(int64_t *out, size_t n, const tl_vocab *vocab,
                                 const char *const *tokens);

/* The ids of tok's last run; n must be its token count. Errors:
 * TL_E_INVALID_ARG, TL_E_SHAPE (n differs). */
TL_API tl_status tl_vocab_encode_run(int64_t *out, size_t n,
                                     const tl_vocab *vocab,
                                     const tl_tokenizer *tok);

/* The tokens of ids[0..n) joined by single spaces (fastai's decode), NUL-
 * terminated in out[0..cap). *out_len (may be NULL) receives the length
 * without the NUL; out NULL with cap 0 only measures. Errors:
 * TL_E_INVALID_ARG (an id outside the vocabulary, naming its position;
 * cap too small, naming the bytes needed); out is untouched on error. */
TL_API tl_status tl_vocab_decode(char *out, size_t cap, size_t *out_len,
                                 const tl_vocab *vocab, const int64_t *ids,
                                 size_t n);

/* Counts every token of a tokenized corpus (documents in order). All or
 * nothing. Errors: TL_E_INVALID_ARG, TL_E_NOMEM. */
TL_API tl_status tl_token_counts_add_corpus(tl_token_counts *counts,
                                            const tl_text_corpus *corpus);

/* The ids of document doc of a corpus; n must be its token count. Errors:
 * TL_E_INVALID_ARG (doc out of range), TL_E_SHAPE (n differs). */
TL_API tl_status tl_vocab_encode_doc(int64_t *out, size_t n,
                                     const tl_vocab *vocab,
                                     const tl_text_corpus *corpus, size_t doc);

/* ---- language-model batch stream ----------------------------------------- */

/*
 * fastai's LMDataLoader with the variable-length windows of AWD-LSTM and
 * ULMFiT. Each epoch: the documents are shuffled with the loader's seeded
 * RNG (the same seed gives the same batches on every platform and libm),
 * joined into one stream (bos_id before each when >= 0; with the
 * tokenizer's default add_bos they already start with xxbos), reversed
 * when backwards is set (ULMFiT's backward LM), and cut into batch_size
 * contiguous rows of row_len = (N - 1) / batch_size tokens (the tail that
 * does not fill a row is dropped, as fastai does). Batches walk the rows
 * left to right in windows of T tokens: x[t][b] = row b at pos + t and
 * y[t][b] = the token after it, so row b of one batch continues row b of
 * the previous one and a model's carried LSTM state follows the rows.
 * T is bptt, or with variable_length: bptt with probability 0.95, else
 * bptt / 2, plus a normal draw with sd 5, truncated to an integer, at
 * least 5 (and at most bptt + 50, i.e. 10 sd, so buffers are bounded); the
 * last window of an epoch is cut to what is left of the rows.
 * All memory is allocated at create: batches allocate nothing.
 */
typedef struct tl_lm_loader tl_lm_loader;

/*
 * Sharding for data-parallel training (version 2: rank, world_size). With
 * world_size W > 1 the stream is cut into W * batch_size rows instead of
 * batch_size, and rank r's batches hold the global rows
 * [r * batch_size, (r + 1) * batch_size): batch_size is per rank. Every
 * rank must be given the same documents, vocabulary size and options
 * (rank aside): the shuffle and the window lengths come from the one seeded
 * RNG, so all ranks draw the same T at every step and reach the end of an
 * epoch together, and the W batches of one step, stacked along the batch
 * dimension in rank order, are exactly the batch of a loader with
 * world_size 1 and batch_size W * batch_size. Each token of an epoch's
 * stream is thus seen by exactly one rank once, except the tail of fewer
 * than W * batch_size + 1 tokens that does not fill a row, which is
 * dropped, as with one process. Each rank keeps the whole corpus (the
 * shuffle needs every document): the memory is that of one loader.
 */
/* Options of tl_lm_loader_create (fastai's LMDataLoader defaults). Version
 * 1 ends at seed; version 2 adds rank and world_size. */
#define TL_LM_LOADER_OPTIONS_VERSION 2
typedef struct tl_lm_loader_options {
  unsigned int version; /* TL_LM_LOADER_OPTIONS_VERSION */
  size_t batch_size;    /* rows B (per rank); 64 */
  size_t bptt;          /* window length; 70 */
  int variable_length;  /* 1: random window lengths as above; 0: bptt */
  int shuffle;          /* 1: shuffle the documents every epoch */
  int backwards;        /* 0: 1 reverses the stream */
  int64_t bos_id;       /* -1: none; else inserted before each document */
  uint64_t seed;        /* 0 */
  size_t rank;          /* v2: this process's shard, < world_size; 0 */
  size_t world_size;    /* v2: number of shards (processes); 1 */
} tl_lm_loader_options;
/* The defaults of tl_lm_loader_options_init as a static initialiser:
 * tl_lm_loader_options o = TL_LM_LOADER_OPTIONS_INIT; */
#define TL_LM_LOADER_OPTIONS_INIT                                              \
  { TL_LM_LOADER_OPTIONS_VERSION, 64, 70, 1, 1, 0, -1, 0, 0, 1 }

/* Fills *out with the defaults above (batch_size 64, bptt 70, variable
 * length and shuffled, forwards, no bos_id, seed 0, rank 0 of 1) for
 * `version`, writing
 * only the bytes that version defines. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version outside
 * 1..TL_LM_LOADER_OPTIONS_VERSION). */
TL_API tl_status tl_lm_loader_options_init(tl_lm_loader_options *out,
                                           unsigned int version);

/* A loader over docs[i][0..lens[i]), i < n_docs, ids in [0, vocab_size)
 * (copied: the caller may free them). Errors: TL_E_INVALID_ARG (no
 * documents, an empty or NULL document, an id outside the vocabulary —
 * each naming the document and position —, batch_size or bptt 0, bos_id
 * outside the vocabulary, world_size 0 or rank >= world_size, a corpus too
 * small for world_size * batch_size rows, bptt longer than a row),
 * TL_E_UNSUPPORTED, TL_E_NOMEM. options NULL means
 * defaults; they are copied. The caller owns *out (release with
 * tl_lm_loader_free). */
TL_API tl_status tl_lm_loader_create(tl_lm_loader **out,
                                     const int64_t *const *docs,
                                     const size_t *lens, size_t n_docs,
                                     size_t vocab_size,
                                     const tl_lm_loader_options *options);
/* Frees the loader; the views of its last batch become invalid. NULL is a
 * no-op. */
TL_API void tl_lm_loader_free(tl_lm_loader *loader);

/* The next batch: *out_x and *out_y point to (T, batch_size) int64 ids,
 * time-major, valid until the next call; *out_len is T. At the end of an
 * epoch *out_len is 0 (and the views NULL); the next call starts the next
 * epoch. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_lm_loader_next(const int64_t **out_x, const int64_t **out_y,
                                   size_t *out_len, tl_lm_loader *loader);

/* Back to the state after create (epoch 0 not started, RNG reseeded), so
 * the next batches repeat the first epoch's. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_lm_loader_restart(tl_lm_loader *loader);

/* Tokens per row (row_len above). Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_lm_loader_row_len(size_t *out, const tl_lm_loader *loader);
/* The epochs started so far (0 after create and tl_lm_loader_restart).
 * Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_lm_loader_epoch(uint64_t *out, const tl_lm_loader *loader);

/* ---- classifier batches ------------------------------------------------- */

/*
 * fastai's SortedDL with pad_input_chunk: documents (truncated to their
 * first max_len tokens when max_len > 0) go in batches of batch_size, each
 * padded with pad_id to its longest document. Without shuffle the order is
 * by length, longest first (ties in document order). With shuffle, every
 * epoch: a random permutation with the longest document swapped to the
 * front, sorted by length (longest first, stable) within chunks of 50
 * batches, cut into batches, and the batches between the first (which
 * holds the longest document, so memory peaks at once) and the last
 * shuffled. Padding as pad_input_chunk: a document l tokens short of the
 * batch length gets (l / seq_len) * seq_len pad ids before it and l %
 * seq_len after it (pad_first; otherwise all after it).
 */
typedef struct tl_clas_loader tl_clas_loader;

/*
 * Sharding for data-parallel training (version 2: rank, world_size). With
 * world_size W > 1 the order above is computed for global batches of
 * W * batch_size documents (so the chunks sorted by length are 50 global
 * batches), and rank r takes, of a global batch of n documents, the
 * contiguous share [floor(r * n / W), floor((r + 1) * n / W)) in that
 * order: batch_size per rank in every full batch, and in the last, short
 * one shares that differ by at most one document. Every rank must be given
 * the same documents and options (rank aside); all ranks then take the
 * same number of batches per epoch and every document is in exactly one
 * rank's batch once per epoch. A last global batch with fewer documents
 * than ranks would leave a rank without a batch while the others step, so
 * tl_clas_loader_create refuses it (n_docs mod (W * batch_size) in
 * [1, W)), naming the counts: drop or add documents, or change batch_size.
 * Each rank pads its share to the share's own longest document, so with
 * pad_first a model that reads the padding sees other inputs than one
 * process with batch_size W * batch_size would.
 */
/* Options of tl_clas_loader_create (fastai's SortedDL defaults). Version 1
 * ends at seed; version 2 adds rank and world_size. */
#define TL_CLAS_LOADER_OPTIONS_VERSION 2
typedef struct tl_clas_loader_options {
  unsigned int version; /* TL_CLAS_LOADER_OPTIONS_VERSION */
  size_t batch_size;    /* 64 (per rank) */
  size_t seq_len;       /* padding chunk (fastai's seq_len): 72 */
  size_t max_len;       /* 0: keep whole documents; else their first max_len */
  int shuffle;          /* 1 */
  int pad_first;        /* 1 */
  int64_t pad_id;       /* 1 (xxpad in a fastai vocabulary) */
  uint64_t seed;        /* 0 */
  size_t rank;          /* v2: this process's shard, < world_size; 0 */
  size_t world_size;    /* v2: number of shards (processes); 1 */
} tl_clas_loader_options;
/* The defaults of tl_clas_loader_options_init as a static initialiser:
 * tl_clas_loader_options o = TL_CLAS_LOADER_OPTIONS_INIT; */
#define TL_CLAS_LOADER_OPTIONS_INIT                                            \
  { TL_CLAS_LOADER_OPTIONS_VERSION, 64, 72, 0, 1, 1, 1, 0, 0, 1 }

/* Fills *out with the defaults above (batch_size 64, seq_len 72, whole
 * documents, shuffled, padding first with id 1, seed 0, rank 0 of 1) for
 * `version`,
 * writing only the bytes that version defines. Errors: TL_E_INVALID_ARG
 * (out NULL), TL_E_UNSUPPORTED (version outside
 * 1..TL_CLAS_LOADER_OPTIONS_VERSION). */
TL_API tl_status tl_clas_loader_options_init(tl_clas_loader_options *out,
                                             unsigned int version);

/* A loader over docs[i][0..lens[i]) with labels[i] in [0, n_classes)
 * (copied: the caller may free them; options NULL means defaults, also
 * copied). The caller owns *out (release with tl_clas_loader_free). Errors:
 * TL_E_INVALID_ARG (no documents, an empty or NULL document, an id outside the
 * vocabulary, a label outside [0, n_classes) — each naming the document and
 * position —, batch_size or seq_len 0, pad_id outside the vocabulary,
 * world_size 0, rank >= world_size, a last global batch with fewer
 * documents than ranks), TL_E_UNSUPPORTED, TL_E_NOMEM. */
TL_API tl_status tl_clas_loader_create(tl_clas_loader **out,
                                       const int64_t *const *docs,
                                       const size_t *lens,
                                       const int64_t *labels, size_t n_docs,
                                       size_t vocab_size, size_t n_classes,
                                       const tl_clas_loader_options *options);
/* Frees the loader; the views of its last batch become invalid. NULL is a
 * no-op. */
TL_API void tl_clas_loader_free(tl_clas_loader *loader);

/* The next batch: *out_x (T, b) int64 ids, time-major, *out_y (b) labels,
 * *out_len T, *out_batch b (batch_size, or fewer in the last batch; a
 * rank's share when sharded), and
 * *out_docs (may be NULL) the b document indices. Views valid until the
 * next call. At the end of an epoch *out_batch is 0; the next call starts
 * the next epoch. No allocation after create. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_clas_loader_next(const int64_t **out_x,
                                     const int64_t **out_y, size_t *out_len,
                                     size_t *out_batch, const size_t **out_docs,
                                     tl_clas_loader *loader);

/* Back to the state after create: the current epoch is dropped and the
 * RNG reseeded, so the next batches repeat the first epoch's. Errors:
 * TL_E_INVALID_ARG. */
TL_API tl_status tl_clas_loader_restart(tl_clas_loader *loader);

/* ---- splits -------------------------------------------------------------- */

/* Train/validation split by document, stratified by label: in each class
 * of n_c documents, round(valid_frac * n_c) (half away from zero) chosen
 * at random (seeded) go to validation: out_is_valid[i] = 1, else 0.
 * Errors: TL_E_INVALID_ARG (valid_frac outside [0, 1], a label outside
 * [0, n_classes) naming the document), TL_E_NOMEM. */
TL_API tl_status tl_text_split_stratified(uint8_t *out_is_valid,
                                          const int64_t *labels, size_t n,
                                          size_t n_classes, double valid_frac,
                                          uint64_t seed);

/* k documents of each class chosen at random (seeded), for learning
 * curves: out[0..k * n_classes) their indices, class by class, in
 * increasing order within a class. Errors: TL_E_INVALID_ARG (a class with
 * fewer than k documents, naming it; a bad label; cap < k * n_classes),
 * TL_E_NOMEM. */
TL_API tl_status tl_text_subset_per_class(size_t *out, size_t cap,
                                          const int64_t *labels, size_t n,
                                          size_t n_classes, size_t k,
                                          uint64_t seed);

/* ---- evaluation metrics -------------------------------------------------- */

/* Confusion matrix of n predictions: out[t * n_classes + p] counts the
 * documents of class t predicted as p (scikit-learn's confusion_matrix
 * with labels 0..n_classes-1); out has n_classes^2 entries. Errors:
 * TL_E_INVALID_ARG (a class outside [0, n_classes), naming the array and
 * index). */
TL_API tl_status tl_confusion_matrix(uint64_t *out, size_t n_classes,
                                     const int64_t *pred, const int64_t *target,
                                     size_t n);

/* Accuracy, macro-F1 and per-class precision, recall and F1 (arrays of
 * n_classes; any output may be NULL), as scikit-learn's
 * precision_recall_fscore_support and f1_score(average="macro") with
 * labels 0..n_classes-1 and zero_division=0: a class never predicted has
 * precision 0, one never present recall 0, and the macro average is over
 * all n_classes. Allocates 3 * n_classes counters. Errors:
 * TL_E_INVALID_ARG (n or n_classes 0, a class out of range), TL_E_NOMEM. */
TL_API tl_status tl_classification_metrics(
    double *out_accuracy, double *out_macro_f1, double *out_precision,
    double *out_recall, double *out_f1, size_t n_classes, const int64_t *pred,
    const int64_t *target, size_t n);

/* One batch of a language model's predictions: logits (n, vocab)
 * row-major, targets (n). *out_nll_sum = sum over rows of -log
 * softmax(row)[target] (in double: PyTorch's cross_entropy with
 * reduction "sum"), *out_correct = rows whose first maximum is the target
 * (torch.argmax). Sum both over a stream; perplexity is
 * exp(nll / positions) (tl_perplexity), next-token accuracy
 * correct / positions. Errors: TL_E_INVALID_ARG (a target outside the
 * vocabulary, naming it), TL_E_NUMERIC (a NaN or Inf logit, naming its
 * row and column). */
TL_API tl_status tl_lm_batch_metrics(double *out_nll_sum, uint64_t *out_correct,
                                     const float *logits,
                                     const int64_t *targets, size_t n,
                                     size_t vocab);

/* exp(nll_sum / count). Errors: TL_E_INVALID_ARG (count 0, nll_sum
 * negative or not finite). */
TL_API tl_status tl_perplexity(double *out, double nll_sum, uint64_t count);

/* ---- label vocabulary -----------------------------------------------------
 */

/*
 * Class labels given as strings (a label vocabulary, fastai's CategoryMap
 * with its defaults sort=True, add_na=False): the classes are the sorted
 * distinct labels, and a label's id is its index among them. Sorting is by
 * bytes (strcmp), which for UTF-8 is the order of Unicode code points:
 * the order of Python's sorted(set(labels)), e.g. {"pos", "neg", "neu",
 * "pos"} -> "neg" 0, "neu" 1, "pos" 2. Labels are NUL-terminated (any other
 * byte allowed, the empty string too) and compared exactly (no case or
 * Unicode normalization).
 *
 * A handle is immutable after creation: any number of threads may use one
 * at the same time; it is freed by one thread when none uses it.
 *
 * In a checkpoint the classes are kept as the metadata value of
 * TL_LABEL_VOCAB_META_KEY, in the text form of tl_label_vocab_to_string:
 * "v1;" then, for each class in id order, its byte length in decimal (no
 * leading zeros), ':' and its bytes ("v1;3:neg3:neu3:pos"). The length
 * prefix makes every label round-trip, whatever bytes it holds (':', ';',
 * newlines, digits). The metadata value, and so the text, is limited to
 * TL_CKPT_MAX_STRING (65535) bytes: tl_ckpt_set_meta refuses a longer one.
 *
 *   size_t len; tl_label_vocab_to_string(NULL, 0, &len, lv);
 *   char *buf = malloc(len + 1);
 *   tl_label_vocab_to_string(buf, len + 1, NULL, lv);
 *   tl_ckpt_set_meta(ckpt, TL_LABEL_VOCAB_META_KEY, buf);
 *   ...
 *   const char *text; tl_ckpt_get_meta(&text, ckpt, TL_LABEL_VOCAB_META_KEY);
 *   tl_label_vocab_from_string(&lv, text);
 */
typedef struct tl_label_vocab tl_label_vocab;

/* The checkpoint metadata key under which the label vocabulary is kept. */
#define TL_LABEL_VOCAB_META_KEY "labels"

/* Builds the label vocabulary of labels[0..n) (one label per document;
 * repeats expected): *out receives a new handle, owned by the caller and
 * freed with tl_label_vocab_free; labels are copied. Errors:
 * TL_E_INVALID_ARG (out or labels NULL, n 0, a missing label: "document i:
 * label is missing"), TL_E_NOMEM. On error *out is unchanged. */
TL_API tl_status tl_label_vocab_create(tl_label_vocab **out,
                                       const char *const *labels, size_t n);

/* Frees a label vocabulary; NULL is ignored. Views from
 * tl_label_vocab_label become invalid. */
TL_API void tl_label_vocab_free(tl_label_vocab *lv);

/* The number of classes into *out. Errors: TL_E_INVALID_ARG (NULL). */
TL_API tl_status tl_label_vocab_size(size_t *out, const tl_label_vocab *lv);

/* Decodes one id: *out receives the class label of id (a NUL-terminated
 * view, valid until lv is freed). Errors: TL_E_INVALID_ARG (NULL, id
 * outside [0, size), naming it). */
TL_API tl_status tl_label_vocab_label(const char **out,
                                      const tl_label_vocab *lv, int64_t id);

/* Encodes labels[0..n): out[i] = the id of labels[i] (out has n entries;
 * both may be NULL when n is 0). All or nothing: every label is checked
 * before out is written. Errors: TL_E_INVALID_ARG (NULL arguments; a NULL
 * label: "document i: label is missing"; a label that is not a class:
 * "document i: label 'x' is not one of the k classes", the lowest such
 * document), and out is then untouched. */
TL_API tl_status tl_label_vocab_encode(int64_t *out, const tl_label_vocab *lv,
                                       const char *const *labels, size_t n);

/* Writes the text form above (NUL-terminated) into out[0..cap); *out_len
 * (may be NULL) receives its length without the NUL. out NULL with cap 0
 * only measures. Errors: TL_E_INVALID_ARG (lv NULL, out NULL with cap > 0,
 * cap too small, naming the bytes needed; out is then untouched). */
TL_API tl_status tl_label_vocab_to_string(char *out, size_t cap,
                                          size_t *out_len,
                                          const tl_label_vocab *lv);

/* Rebuilds a label vocabulary from its text form (e.g. the checkpoint's
 * TL_LABEL_VOCAB_META_KEY value): *out receives a new handle, freed with
 * tl_label_vocab_free, with the same classes and ids as the one written.
 * Errors: TL_E_INVALID_ARG (NULL), TL_E_FORMAT (no "v1;" tag, no labels,
 * a bad length prefix or one running past the end, classes not strictly
 * increasing: each naming the label and its byte offset), TL_E_NOMEM. On
 * error *out is unchanged. */
TL_API tl_status tl_label_vocab_from_string(tl_label_vocab **out,
                                            const char *text);

#ifdef __cplusplus
}
#endif

#endif /* TL_TEXT_H */
