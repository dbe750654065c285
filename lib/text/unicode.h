/* Internal: the character properties of the tokenizer, as Python sees them
 * (lib/text/text_tables.h is generated from CPython), and UTF-8 in and
 * out. */
#ifndef TLI_TEXT_UNICODE_H
#define TLI_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "tl/core.h"

/* str.isspace(): Unicode whitespace, which re's \s matches. */
int tli_uc_is_space_slow(uint32_t c);
/* re's \w: str.isalnum() or '_'. */
int tli_uc_is_word_slow(uint32_t c);

/* ASCII inline, the rest by table (English text is nearly all ASCII). */
static inline int tli_uc_is_space(uint32_t c) {
  if (c < 0x80)
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  return tli_uc_is_space_slow(c);
}

static inline int tli_uc_is_word(uint32_t c) {
  if (c < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
  return tli_uc_is_word_slow(c);
}
/* str.isalpha(). */
int tli_uc_is_alpha(uint32_t c);
/* Writes the lowercase of c (one or two code points) to out; returns how
 * many. Capital sigma is not special here: see tli_uc_lower_span. */
size_t tli_uc_lower(uint32_t out[2], uint32_t c);
/* Unicode Cased (and not Case_Ignorable) / Case_Ignorable, for final
 * sigma. */
int tli_uc_is_cased(uint32_t c);
int tli_uc_is_case_ignorable(uint32_t c);

/* Python's s[start:end].lower() of s, appended to out (capacity at least
 * 2 * (end - start) from *n on); returns the new length. Capital sigma
 * becomes final sigma by the Final_Sigma context inside [start, end). */
size_t tli_uc_lower_span(uint32_t *out, size_t n, const uint32_t *s,
                         size_t start, size_t end);

/* Decodes UTF-8 into out (room for len code points). Invalid input:
 * replace != 0 writes U+FFFD per maximal invalid subsequence (Python's
 * "replace" handler); otherwise returns TL_E_FORMAT with *out_bad the byte
 * offset. */
tl_status tli_utf8_decode(uint32_t *out, size_t *out_n, size_t *out_bad,
                          const uint8_t *s, size_t len, int replace);

/* Encodes c into out (4 bytes of room); returns the byte count. */
size_t tli_utf8_put(char *out, uint32_t c);

#endif
