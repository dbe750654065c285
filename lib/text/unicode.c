/* Character properties by binary search in the generated tables, with an
 * ASCII fast path (English text is nearly all ASCII), and a UTF-8 codec
 * that treats ill-formed input exactly as CPython's decoder does. */
#include "unicode.h"

#define TLI_TEXT_TABLES_UNICODE
#include "text_tables.h"

#define TLI_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int tli_in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (c < r[mid][0])
      hi = mid;
    else if (c > r[mid][1])
      lo = mid + 1;
    else
      return 1;
  }
  return 0;
}

int tli_uc_is_space_slow(uint32_t c) {
  for (size_t i = 0; i < TLI_NELEM(tli_space_list); i++)
    if (tli_space_list[i] == c)
      return 1;
  return 0;
}

int tli_uc_is_word_slow(uint32_t c) {
  return tli_in_ranges(tli_word_ranges, TLI_NELEM(tli_word_ranges), c);
}

int tli_uc_is_alpha(uint32_t c) {
  if (c < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return tli_in_ranges(tli_alpha_ranges, TLI_NELEM(tli_alpha_ranges), c);
}

int tli_uc_is_cased(uint32_t c) {
  return tli_in_ranges(tli_cased_ranges, TLI_NELEM(tli_cased_ranges), c);
}

int tli_uc_is_case_ignorable(uint32_t c) {
  return tli_in_ranges(tli_case_ignorable_ranges,
                       TLI_NELEM(tli_case_ignorable_ranges), c);
}

size_t tli_uc_lower(uint32_t out[2], uint32_t c) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  size_t lo = 0, hi = TLI_NELEM(tli_lower_map);
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (c < tli_lower_map[mid][0]) {
      hi = mid;
    } else if (c > tli_lower_map[mid][0]) {
      lo = mid + 1;
    } else {
      out[0] = tli_lower_map[mid][1];
      if (tli_lower_map[mid][2] == 0)
        return 1;
      out[1] = tli_lower_map[mid][2];
      return 2;
    }
  }
  out[0] = c;
  return 1;
}

/* CPython's handle_capital_sigma: final form when a cased letter precedes
 * (skipping case-ignorables) and none follows. */
static uint32_t tli_sigma(const uint32_t *s, size_t start, size_t end,
                          size_t i) {
  size_t j = i;
  uint32_t c = 0;
  int found = 0;
  while (j > start) {
    c = s[--j];
    if (!tli_uc_is_case_ignorable(c)) {
      found = 1;
      break;
    }
  }
  int final_sigma = found && tli_uc_is_cased(c);
  if (final_sigma) {
    for (j = i + 1; j < end; j++) {
      c = s[j];
      if (!tli_uc_is_case_ignorable(c))
        break;
    }
    final_sigma = j == end || !tli_uc_is_cased(c);
  }
  return final_sigma ? 0x3C2 : 0x3C3;
}

size_t tli_uc_lower_span(uint32_t *out, size_t n, const uint32_t *s,
                         size_t start, size_t end) {
  for (size_t i = start; i < end; i++) {
    const uint32_t c = s[i];
    if (c < 0x80) {
      out[n++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    } else if (c == 0x3A3) {
      out[n++] = tli_sigma(s, start, end, i);
    } else {
      uint32_t l[2];
      const size_t k = tli_uc_lower(l, c);
      out[n++] = l[0];
      if (k == 2)
        out[n++] = l[1];
    }
  }
  return n;
}

tl_status tli_utf8_decode(uint32_t *out, size_t *out_n, size_t *out_bad,
                          const uint8_t *s, size_t len, int replace) {
  size_t i = 0, n = 0;
  while (i < len) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      out[n++] = b;
      i++;
      continue;
    }
    /* Expected continuation count and the allowed range of the first
     * continuation byte (RFC 3629 table; excludes overlongs and
     * surrogates). */
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t c;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
      c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      c = b & 0x0F;
      if (b == 0xE0)
        lo = 0xA0;
      else if (b == 0xED)
        hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      c = b & 0x07;
      if (b == 0xF0)
        lo = 0x90;
      else if (b == 0xF4)
        hi = 0x8F;
    } else {
      need = 0;
      c = 0;
    }
    size_t k = 1;
    int ok = need > 0;
    for (; ok && k <= need; k++) {
      if (i + k >= len) {
        ok = 0;
        break;
      }
      const uint8_t cb = s[i + k];
      const uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (cb < l || cb > h) {
        ok = 0;
        break;
      }
      c = (c << 6) | (cb & 0x3F);
    }
    if (ok) {
      out[n++] = c;
      i += need + 1;
      continue;
    }
    if (!replace) {
      *out_bad = i;
      return TL_E_FORMAT;
    }
    /* The maximal subpart: the lead byte and the valid continuations
     * before the failure (just the byte itself for an invalid lead). */
    out[n++] = 0xFFFD;
    i += need > 0 ? k : 1;
  }
  *out_n = n;
  return TL_OK;
}

size_t tli_utf8_put(char *out, uint32_t c) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}
