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
 * Special tokens, in fastai's order (their ids in a fastai vocabulary).
 */
#define TL_TEXT_UNK "xxunk"
#define TL_TEXT_PAD "xxpad"
#define TL_TEXT_BOS "xxbos"
#define TL_TEXT_EOS "xxeos"
#define TL_TEXT_FLD "xxfld"
#define TL_TEXT_REP "xxrep"
#define TL_TEXT_WREP "xxwrep"
#define TL_TEXT_UP "xxup"
#define TL_TEXT_MAJ "xxmaj"
#define TL_TEXT_NUM_SPECIALS 9

/* The index-th special token (index < TL_TEXT_NUM_SPECIALS), in the order
 * above; NULL for a larger index. */
TL_API const char *tl_text_special(size_t index);

typedef struct tl_tokenizer tl_tokenizer;

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

/* Fills the defaults above for `version`. Errors: TL_E_INVALID_ARG,
 * TL_E_UNSUPPORTED (unknown version). */
TL_API tl_status tl_tokenizer_options_init(tl_tokenizer_options *out,
                                           unsigned int version);

/* A tokenizer with its work buffers (options NULL: defaults). Errors:
 * TL_E_INVALID_ARG, TL_E_UNSUPPORTED, TL_E_NOMEM. */
TL_API tl_status tl_tokenizer_create(tl_tokenizer **out,
                                     const tl_tokenizer_options *options);
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

#ifdef __cplusplus
}
#endif

#endif /* TL_TEXT_H */
