/* libFuzzer target for the text layer's parsers of untrusted bytes:
 *   mode byte & 3 == 0, 1: the word tokenizer (replace_invalid off / on)
 *     over the rest of the input; on success every token is non-empty,
 *     valid UTF-8 and NUL-free where the input was, the count matches, and
 *     a vocabulary built from the tokens encodes them back to ids that
 *     decode to the same tokens (or xxunk); with replace_invalid on, no
 *     input may fail with TL_E_FORMAT.
 *   mode 2: tl_label_vocab_from_string on the rest as a C string; an
 *     accepted text writes back byte for byte (tl_label_vocab_to_string).
 *   mode 3: tokens of the rest split at '\n' counted and made a vocabulary
 *     (min_freq 1): sizes agree, specials first.
 * Any crash, sanitizer report or broken invariant aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tl/text.h"
#include "tl/tl.h"

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const unsigned c = s[i];
    size_t k;
    unsigned cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      k = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      k = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      k = 3, cp = c & 0x07;
    } else {
      return 0;
    }
    if (i + k >= n) /* the sequence runs past the end */
      return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += k + 1;
  }
  return 1;
}

static void fuzz_tokenizer(const uint8_t *data, size_t size, int replace) {
  tl_tokenizer_options o = TL_TOKENIZER_OPTIONS_INIT;
  o.replace_invalid = replace;
  tl_tokenizer *tok = NULL;
  REQUIRE(tl_tokenizer_create(&tok, &o) == TL_OK);
  size_t count = 0;
  const tl_status s = tl_tokenizer_run(&count, tok, (const char *)data, size);
  REQUIRE(s == TL_OK || s == TL_E_FORMAT || s == TL_E_NOMEM);
  REQUIRE(!(replace && s == TL_E_FORMAT));
  if (s == TL_OK) {
    size_t n2 = 0;
    REQUIRE(tl_tokenizer_count(&n2, tok) == TL_OK && n2 == count);
    const char **toks = malloc((count ? count : 1) * sizeof *toks);
    REQUIRE(toks != NULL);
    for (size_t i = 0; i < count; i++) {
      size_t len = 0;
      REQUIRE(tl_tokenizer_token(&toks[i], &len, tok, i) == TL_OK);
      REQUIRE(len > 0 && strlen(toks[i]) <= len);
      REQUIRE(valid_utf8((const unsigned char *)toks[i], len));
    }
    size_t bad = 0;
    REQUIRE(tl_tokenizer_token(&toks[0], &bad, tok, count) == TL_E_INVALID_ARG);
    /* The tokens' own vocabulary (min_freq 1) encodes them to themselves
     * (or xxunk past max_vocab). */
    tl_token_counts *c = NULL;
    REQUIRE(tl_token_counts_create(&c) == TL_OK);
    REQUIRE(tl_token_counts_add(c, toks, count) == TL_OK);
    tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
    vo.min_freq = 1;
    tl_vocab *v = NULL;
    if (count > 0 && tl_vocab_create_from_counts(&v, c, &vo) == TL_OK) {
      int64_t *ids = malloc(count * sizeof *ids);
      REQUIRE(ids != NULL);
      REQUIRE(tl_vocab_encode(ids, count, v, toks) == TL_OK);
      size_t vs = 0;
      REQUIRE(tl_vocab_size(&vs, v) == TL_OK);
      for (size_t i = 0; i < count; i++) {
        REQUIRE(ids[i] >= 0 && (size_t)ids[i] < vs);
        const char *back = NULL;
        REQUIRE(tl_vocab_token(&back, v, ids[i]) == TL_OK);
        REQUIRE(strcmp(back, toks[i]) == 0 || strcmp(back, "xxunk") == 0);
      }
      free(ids);
      tl_vocab_free(v);
    }
    tl_token_counts_free(c);
    free(toks);
  }
  tl_tokenizer_free(tok);
}

static void fuzz_labels(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  REQUIRE(text != NULL);
  memcpy(text, data, size);
  text[size] = '\0';
  tl_label_vocab *lv = NULL;
  const tl_status s = tl_label_vocab_from_string(&lv, text);
  REQUIRE(s == TL_OK || s == TL_E_FORMAT || s == TL_E_INVALID_ARG ||
          s == TL_E_NOMEM);
  if (s == TL_OK) {
    size_t len = 0;
    REQUIRE(tl_label_vocab_to_string(NULL, 0, &len, lv) == TL_OK);
    char *back = malloc(len + 1);
    REQUIRE(back != NULL);
    REQUIRE(tl_label_vocab_to_string(back, len + 1, NULL, lv) == TL_OK);
    REQUIRE(len == strlen(text) && memcmp(back, text, len) == 0);
    free(back);
    tl_label_vocab_free(lv);
  } else {
    REQUIRE(lv == NULL);
  }
  free(text);
}

static void fuzz_counts(const uint8_t *data, size_t size) {
  /* Tokens: the rest split at '\n' (empty pieces dropped), NUL-terminated. */
  char *buf = malloc(size + 1);
  const char **toks = malloc((size + 1) * sizeof *toks);
  REQUIRE(buf != NULL && toks != NULL);
  memcpy(buf, data, size);
  buf[size] = '\0';
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= size; i++)
    if (i == size || buf[i] == '\n' || buf[i] == '\0') {
      buf[i] = '\0';
      if (i > start)
        toks[n++] = buf + start;
      start = i + 1;
    }
  tl_token_counts *c = NULL;
  REQUIRE(tl_token_counts_create(&c) == TL_OK);
  const tl_status s = tl_token_counts_add(c, toks, n);
  REQUIRE(s == TL_OK || s == TL_E_INVALID_ARG || s == TL_E_FORMAT);
  if (s == TL_OK) {
    tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
    vo.min_freq = 1;
    tl_vocab *v = NULL;
    const tl_status vs = tl_vocab_create_from_counts(&v, c, &vo);
    REQUIRE(vs == TL_OK || vs == TL_E_INVALID_ARG);
    if (vs == TL_OK) {
      const char *first = NULL;
      REQUIRE(tl_vocab_token(&first, v, 0) == TL_OK);
      REQUIRE(strcmp(first, tl_text_special(0)) == 0);
      tl_vocab_free(v);
    }
  }
  tl_token_counts_free(c);
  free(toks);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const int mode = data[0] & 3;
  data++, size--;
  if (mode <= 1)
    fuzz_tokenizer(data, size, mode);
  else if (mode == 2)
    fuzz_labels(data, size);
  else
    fuzz_counts(data, size);
  return 0;
}
