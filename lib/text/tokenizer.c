/* fastai's default word tokenizer (fastai 2.7, text/core.py), re-implemented
 * over arrays of code points. Each rule is one pass from one buffer into the
 * other, written as the scan Python's re.sub performs for fastai's pattern
 * (the comment above each pass gives the pattern and why the scan is
 * equivalent). The spaCy stage is the rule set of docs/text.md. The same
 * rules are written in Python in tests/fixtures/gen_text.py, whose golden
 * token lists the tests compare with. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "tl/text.h"
#include "unicode.h"

#define TLI_TEXT_TABLES_HTML
#include "text_tables.h"

static const char *const tli_specials[TL_TEXT_NUM_SPECIALS] = {
    TL_TEXT_UNK, TL_TEXT_PAD,  TL_TEXT_BOS, TL_TEXT_EOS, TL_TEXT_FLD,
    TL_TEXT_REP, TL_TEXT_WREP, TL_TEXT_UP,  TL_TEXT_MAJ};

const char *tl_text_special(size_t index) {
  return index < TL_TEXT_NUM_SPECIALS ? tli_specials[index] : NULL;
}

typedef struct tli_cpbuf {
  uint32_t *p;
  size_t n, cap;
} tli_cpbuf;

struct tl_tokenizer {
  tl_tokenizer_options opts;
  tli_cpbuf a, b; /* the text between passes, ping-pong */
  char *bytes;    /* tokens, UTF-8, each NUL-terminated */
  size_t bytes_cap, bytes_len;
  size_t *tok_off; /* start of each token in bytes; tok_off[count] = end */
  size_t tok_cap, count;
  size_t *marks; /* affix cut points of one span (tli_split_span) */
  size_t marks_cap;
};

/* Grows buf to hold at least `need` code points (contents kept). */
static tl_status tli_reserve(tli_cpbuf *buf, size_t need) {
  if (need <= buf->cap)
    return TL_OK;
  size_t cap = buf->cap ? buf->cap : 256;
  while (cap < need) {
    if (cap > SIZE_MAX / 2 / sizeof(uint32_t))
      return tli_fail(TL_E_NOMEM, "tl_tokenizer_run: text too long");
    cap *= 2;
  }
  uint32_t *p = NULL;
  TLI_TRY(tli_alloc_checked((void **)&p, cap, sizeof *p,
                            "tl_tokenizer_run: text buffer"));
  if (buf->n)
    memcpy(p, buf->p, buf->n * sizeof *p);
  tli_free(buf->p);
  buf->p = p;
  buf->cap = cap;
  return TL_OK;
}

TLI_VERSION_SIZES(tl_tokenizer_options_sizes, TL_TOKENIZER_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_tokenizer_options,
                                replace_invalid)); /* version 1 */

tl_status tl_tokenizer_options_init(tl_tokenizer_options *out,
                                    unsigned int version) {
  static const tl_tokenizer_options defaults = TL_TOKENIZER_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_tokenizer_options_sizes,
                          "tl_tokenizer_options_init");
}

tl_status tl_tokenizer_create(tl_tokenizer **out,
                              const tl_tokenizer_options *options) {
  TLI_CHECK_PTR("tl_tokenizer_create", out);
  tl_tokenizer_options options_copy = TL_TOKENIZER_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, tl_tokenizer_options_sizes,
                             "tl_tokenizer_create", "options"));
  options = &options_copy;
  tl_tokenizer *tok = NULL;
  TLI_TRY(tli_alloc_checked((void **)&tok, 1, sizeof *tok,
                            "tl_tokenizer_create: tokenizer"));
  memset(tok, 0, sizeof *tok);
  tok->opts = options_copy;
  *out = tok;
  return TL_OK;
}

void tl_tokenizer_free(tl_tokenizer *tok) {
  if (tok == NULL)
    return;
  tli_free(tok->a.p);
  tli_free(tok->b.p);
  tli_free(tok->bytes);
  tli_free(tok->tok_off);
  tli_free(tok->marks);
  tli_free(tok);
}

/* ---- helpers over code points ------------------------------------------ */

static inline int tli_ascii_upper(uint32_t c) { return c >= 'A' && c <= 'Z'; }
static inline int tli_ascii_lower(uint32_t c) { return c >= 'a' && c <= 'z'; }
static inline int tli_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static inline int tli_alnum(uint32_t c) {
  return c != '_' && tli_uc_is_word(c);
}

static inline void tli_put_ascii(tli_cpbuf *d, const char *s) {
  while (*s)
    d->p[d->n++] = (uint32_t)(unsigned char)*s++;
}

static void tli_put_uint(tli_cpbuf *d, size_t v) {
  char digits[24];
  size_t k = 0;
  do {
    digits[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k)
    d->p[d->n++] = (uint32_t)digits[--k];
}

static inline void tli_swap(tl_tokenizer *tok) {
  tli_cpbuf t = tok->a;
  tok->a = tok->b;
  tok->b = t;
}

/* Makes room in b for a pass over a that writes at most factor * n + extra
 * code points, and empties b. */
static tl_status tli_begin_pass(tl_tokenizer *tok, size_t factor,
                                size_t extra) {
  tok->b.n = 0;
  if (tok->a.n > (SIZE_MAX - extra) / factor)
    return tli_fail(TL_E_NOMEM, "tl_tokenizer_run: text too long");
  return tli_reserve(&tok->b, factor * tok->a.n + extra);
}

/* ---- fix_html ------------------------------------------------------------ */

/* One Python str.replace(old, new): leftmost non-overlapping occurrences. */
static tl_status tli_replace(tl_tokenizer *tok, const char *old,
                             const char *repl) {
  const size_t lo = strlen(old);
  const uint32_t first = (uint32_t)(unsigned char)old[0];
  const uint32_t *s = tok->a.p;
  const size_t n = tok->a.n;
  /* Most texts lack most patterns: skip the copy when absent. */
  size_t i = 0;
  for (; i + lo <= n; i++) {
    if (s[i] != first)
      continue;
    size_t k = 1;
    while (k < lo && s[i + k] == (uint32_t)(unsigned char)old[k])
      k++;
    if (k == lo)
      break;
  }
  if (i + lo > n)
    return TL_OK;
  TLI_TRY(tli_begin_pass(tok, 2, 16));
  tli_cpbuf *d = &tok->b;
  /* The new text is never longer than old + 2 here, and its bytes are
   * UTF-8: decode the replacement once. */
  uint32_t r[8];
  size_t nr = 0, tmp;
  tli_utf8_decode(r, &nr, &tmp, (const uint8_t *)repl, strlen(repl), 1);
  memcpy(d->p, s, i * sizeof *s);
  d->n = i;
  while (i < n) {
    if (s[i] == first && i + lo <= n) {
      size_t k = 1;
      while (k < lo && s[i + k] == (uint32_t)(unsigned char)old[k])
        k++;
      if (k == lo) {
        memcpy(d->p + d->n, r, nr * sizeof *r);
        d->n += nr;
        i += lo;
        continue;
      }
    }
    d->p[d->n++] = s[i++];
  }
  tli_swap(tok);
  return TL_OK;
}

static int tli_entity_cmp(const uint32_t *name, size_t len, const char *e) {
  for (size_t k = 0; k < len; k++) {
    const uint32_t c = (uint32_t)(unsigned char)e[k];
    if (c == 0)
      return 1;
    if (name[k] != c)
      return name[k] < c ? -1 : 1;
  }
  return e[len] == 0 ? 0 : -1;
}

/* The HTML5 entity spelled name[0..len) (code points), or NULL. */
static const char *tli_entity(const uint32_t *name, size_t len) {
  for (size_t k = 0; k < len; k++)
    if (name[k] >= 0x80)
      return NULL; /* every entity name is ASCII */
  size_t lo = 0, hi = sizeof tli_entities / sizeof tli_entities[0];
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int c = tli_entity_cmp(name, len, tli_entities[mid].name);
    if (c == 0)
      return tli_entities[mid].value;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

static void tli_put_utf8(tli_cpbuf *d, const char *v) {
  size_t nr = 0, tmp;
  tli_utf8_decode(d->p + d->n, &nr, &tmp, (const uint8_t *)v, strlen(v), 1);
  d->n += nr;
}

static inline int tli_is_hex(uint32_t c) {
  return tli_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* html.unescape: every match of
 *   &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
 * replaced as its _replace_charref does. Output is never longer than the
 * input (a reference of k >= 2 code points becomes at most 2, or k). */
static tl_status tli_unescape(tl_tokenizer *tok) {
  const uint32_t *s = tok->a.p;
  const size_t n = tok->a.n;
  size_t i = 0;
  while (i < n && s[i] != '&')
    i++;
  if (i == n)
    return TL_OK;
  TLI_TRY(tli_begin_pass(tok, 1, 16));
  tli_cpbuf *d = &tok->b;
  memcpy(d->p, s, i * sizeof *s);
  d->n = i;
  while (i < n) {
    if (s[i] != '&') {
      d->p[d->n++] = s[i++];
      continue;
    }
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
      const int hex = j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X');
      size_t k = j + 1 + (size_t)hex;
      const size_t d0 = k;
      uint32_t num = 0;
      int big = 0;
      while (k < n && (hex ? tli_is_hex(s[k]) : tli_digit(s[k]))) {
        const uint32_t c = s[k];
        const uint32_t v = tli_digit(c) ? c - '0' : (c | 32) - 'a' + 10;
        if (!big) {
          num = num * (hex ? 16 : 10) + v;
          if (num > 0x10FFFF)
            big = 1; /* Python's int is unbounded: anything larger is FFFD */
        }
        k++;
      }
      if (k == d0) { /* "&#" with no digits: not a reference */
        d->p[d->n++] = s[i++];
        continue;
      }
      if (k < n && s[k] == ';')
        k++;
      uint32_t rep = 0;
      int drop = 0, found = 0;
      if (!big) {
        for (size_t t = 0;
             t < sizeof tli_invalid_charrefs / sizeof tli_invalid_charrefs[0];
             t++)
          if (tli_invalid_charrefs[t][0] == num) {
            rep = tli_invalid_charrefs[t][1];
            found = 1;
            break;
          }
      }
      if (!found) {
        if (big || (num >= 0xD800 && num <= 0xDFFF)) {
          rep = 0xFFFD;
        } else {
          for (size_t t = 0; t < sizeof tli_invalid_codepoints /
                                     sizeof tli_invalid_codepoints[0];
               t++)
            if (tli_invalid_codepoints[t] == num) {
              drop = 1;
              break;
            }
          rep = num;
        }
      }
      if (!drop)
        d->p[d->n++] = rep;
      i = k;
      continue;
    }
    /* Named: up to 32 characters outside [\t\n\f <&#;], then ';'. */
    size_t k = j;
    while (k < n && k - j < 32) {
      const uint32_t c = s[k];
      if (c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' ||
          c == '&' || c == '#' || c == ';')
        break;
      k++;
    }
    if (k == j) {
      d->p[d->n++] = s[i++];
      continue;
    }
    if (k < n && s[k] == ';')
      k++;
    const size_t len = k - j;
    const char *v = tli_entity(s + j, len);
    if (v) {
      tli_put_utf8(d, v);
      i = k;
      continue;
    }
    /* The longest prefix of at least 2 characters that is an entity
     * (legacy names without ';'), the rest kept. */
    size_t x = len - 1;
    for (; x > 1; x--) {
      v = tli_entity(s + j, x);
      if (v)
        break;
    }
    if (x > 1 && v) {
      tli_put_utf8(d, v);
      i = j + x;
      continue;
    }
    for (size_t t = i; t < k; t++)
      d->p[d->n++] = s[t];
    i = k;
  }
  tli_swap(tok);
  return TL_OK;
}

static tl_status tli_fix_html(tl_tokenizer *tok) {
  /* Each pattern needs a character most texts lack (';', '\\', '<', '@'
   * or two dots): one scan finds which passes can match at all. A
   * replacement never adds any of these except that " @.@ " -> "." may
   * make two dots meet, so "..." is also tried whenever '@' is present. */
  enum { SEMI = 1, BSL = 2, LT = 4, AT = 8, DOTS = 16 };
  static const struct {
    const char *old, *repl;
    int need;
  } pairs[] = {{"#39;", "'", SEMI},
               {"amp;", "&", SEMI},
               {"#146;", "'", SEMI},
               {"nbsp;", " ", SEMI},
               {"#36;", "$", SEMI},
               {"\\n", "\n", BSL},
               {"quot;", "'", SEMI},
               {"<br />", "\n", LT},
               {"\\\"", "\"", BSL},
               {"<unk>", "xxunk", LT},
               {" @.@ ", ".", AT},
               {" @-@ ", "-", AT},
               {"...", " \xe2\x80\xa6", DOTS | AT}};
  int has = 0;
  const uint32_t *s = tok->a.p;
  for (size_t i = 0; i < tok->a.n; i++) {
    switch (s[i]) {
    case ';': has |= SEMI; break;
    case '\\': has |= BSL; break;
    case '<': has |= LT; break;
    case '@': has |= AT; break;
    case '.':
      if (i + 1 < tok->a.n && s[i + 1] == '.')
        has |= DOTS;
      break;
    default: break;
    }
  }
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
    if (has & pairs[k].need)
      TLI_TRY(tli_replace(tok, pairs[k].old, pairs[k].repl));
  return tli_unescape(tok);
}

/* ---- replace_rep: (\S)(\1{2,}) -> " xxrep {n} {c} " ----------------------
 * The leftmost match is a run of >= 3 equal non-space characters, taken
 * whole (greedy); a shorter run fails at each of its positions. */
static tl_status tli_replace_rep(tl_tokenizer *tok) {
  TLI_TRY(tli_begin_pass(tok, 4, 16));
  const uint32_t *s = tok->a.p;
  const size_t n = tok->a.n;
  tli_cpbuf *d = &tok->b;
  size_t i = 0;
  while (i < n) {
    const uint32_t c = s[i];
    size_t r = 1;
    while (i + r < n && s[i + r] == c)
      r++;
    if (r >= 3 && !tli_uc_is_space(c)) {
      tli_put_ascii(d, " xxrep ");
      tli_put_uint(d, r);
      d->p[d->n++] = ' ';
      d->p[d->n++] = c;
      d->p[d->n++] = ' ';
    } else {
      for (size_t k = 0; k < r; k++)
        d->p[d->n++] = c;
    }
    i += r;
  }
  tli_swap(tok);
  return TL_OK;
}

/* ---- replace_wrep --------------------------------------------------------
 * (?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$) -> " xxwrep {n} {w} {e}"
 * A match starts at a whitespace character (consumed) or at the start. \w+
 * must be followed by \s, so it is the whole word; every \s+ is followed by
 * \1 (a \w) so it takes all the whitespace. The repetitions take every
 * following "w<space>" word (R of them, R >= 1); the final \1 is then a
 * word that starts with w followed by a non-word character or the end
 * (n = R + 2), or, giving back one repetition, the last repeated word with
 * its first whitespace as e (n = R + 1, needs R >= 2). */
static int tli_same(const uint32_t *s, size_t n, size_t p, size_t w0,
                    size_t len) {
  return p + len <= n && memcmp(s + p, s + w0, len * sizeof *s) == 0;
}

static tl_status tli_replace_wrep(tl_tokenizer *tok) {
  TLI_TRY(tli_begin_pass(tok, 3, 16));
  const uint32_t *s = tok->a.p;
  const size_t n = tok->a.n;
  tli_cpbuf *d = &tok->b;
  size_t i = 0;
  while (i < n) {
    size_t w0;
    if (tli_uc_is_space(s[i]))
      w0 = i + 1;
    else if (i == 0)
      w0 = 0;
    else {
      d->p[d->n++] = s[i++];
      continue;
    }
    size_t w1 = w0;
    while (w1 < n && tli_uc_is_word(s[w1]))
      w1++;
    const size_t len = w1 - w0;
    size_t p = w1;
    int ok = len > 0 && p < n && tli_uc_is_space(s[p]);
    size_t reps = 0, last = 0;
    if (ok) {
      while (p < n && tli_uc_is_space(s[p]))
        p++;
      while (tli_same(s, n, p, w0, len) && p + len < n &&
             tli_uc_is_space(s[p + len])) {
        last = p;
        p += len;
        while (p < n && tli_uc_is_space(s[p]))
          p++;
        reps++;
      }
      ok = reps >= 1;
    }
    size_t count = 0, end = 0;
    int has_e = 0;
    if (ok) {
      if (tli_same(s, n, p, w0, len) &&
          (p + len == n || !tli_uc_is_word(s[p + len]))) {
        count = reps + 2;
        has_e = p + len < n;
        end = p + len + (size_t)has_e;
      } else if (reps >= 2) {
        count = reps + 1;
        has_e = 1;
        end = last + len + 1;
      } else {
        ok = 0;
      }
    }
    if (!ok) {
      d->p[d->n++] = s[i++];
      continue;
    }
    tli_put_ascii(d, " xxwrep ");
    tli_put_uint(d, count);
    d->p[d->n++] = ' ';
    memcpy(d->p + d->n, s + w0, len * sizeof *s);
    d->n += len;
    d->p[d->n++] = ' ';
    if (has_e)
      d->p[d->n++] = s[end - 1];
    i = end;
  }
  tli_swap(tok);
  return TL_OK;
}

/* ---- spec_add_spaces: ([/#\\]) -> " \1 ", then rm_useless_spaces:
 * ' {2,}' -> ' ', fused: the second is a filter on the first's output that
 * drops a U+0020 written right after another. */
static tl_status tli_spec_add_spaces(tl_tokenizer *tok) {
  TLI_TRY(tli_begin_pass(tok, 3, 16));
  const uint32_t *s = tok->a.p;
  tli_cpbuf *d = &tok->b;
  uint32_t last = 0;
  for (size_t i = 0; i < tok->a.n; i++) {
    const uint32_t c = s[i];
    if (c == '/' || c == '#' || c == '\\') {
      if (last != ' ')
        d->p[d->n++] = ' ';
      d->p[d->n++] = c;
      d->p[d->n++] = ' ';
      last = ' ';
    } else if (c != ' ' || last != ' ') {
      d->p[d->n++] = c;
      last = c;
    }
  }
  tli_swap(tok);
  return TL_OK;
}

/* ---- replace_all_caps, replace_maj and lowercase, in one pass -------------
 * (\s|^)([A-Z]+[^a-z\s]*)(?=(\s|$))  -> \1 + "xxup " if len > 1 + lower(\2)
 * (\s|^)([A-Z][^A-Z\s]*)(?=(\s|$))   -> \1 + "xxmaj " if len > 1 + lower(\2)
 * lowercase: "xxbos " + t.lower().strip() (+ " xxeos")
 * The lookahead needs whitespace or the end after group 2, which no shorter
 * backtracked group can give: group 2 is a whole whitespace-delimited word
 * starting with an ASCII capital, with no ASCII lowercase (caps) or no
 * further ASCII capital (maj); [A-Z] and [a-z] are ASCII in Python. A word
 * replace_all_caps rewrote starts in lowercase, so replace_maj, run after
 * it, sees only the words it left: one word at a time, caps is tried, then
 * maj. lower() is Unicode and its one context rule (final sigma) never
 * looks across whitespace, so lowering word by word equals lowering the
 * whole text, and lowering a rewritten word again changes nothing. */
static tl_status tli_case_and_lower(tl_tokenizer *tok) {
  TLI_TRY(tli_begin_pass(tok, 4, 32));
  const uint32_t *s = tok->a.p;
  const size_t n = tok->a.n;
  tli_cpbuf *d = &tok->b;
  if (tok->opts.add_bos)
    tli_put_ascii(d, "xxbos ");
  const size_t body = d->n;
  size_t i = 0;
  while (i < n && tli_uc_is_space(s[i])) /* strip() */
    i++;
  while (i < n) {
    if (tli_uc_is_space(s[i])) {
      d->p[d->n++] = s[i++];
      continue;
    }
    size_t e = i + 1;
    int lower_seen = 0, upper_seen = 0;
    while (e < n && !tli_uc_is_space(s[e])) {
      lower_seen |= tli_ascii_lower(s[e]);
      upper_seen |= tli_ascii_upper(s[e]);
      e++;
    }
    if (tli_ascii_upper(s[i]) && e - i > 1) {
      if (!lower_seen)
        tli_put_ascii(d, "xxup ");
      else if (!upper_seen)
        tli_put_ascii(d, "xxmaj ");
    }
    d->n = tli_uc_lower_span(d->p, d->n, s, i, e);
    i = e;
  }
  while (d->n > body && tli_uc_is_space(d->p[d->n - 1]))
    d->n--;
  if (tok->opts.add_eos)
    tli_put_ascii(d, " xxeos");
  tli_swap(tok);
  return TL_OK;
}

/* ---- the spaCy stage (docs/text.md, "Splitting") ------------------------ */

static int tli_common_punct(uint32_t c) {
  switch (c) {
  case ',':
  case ':':
  case ';':
  case '!':
  case '?':
  case 0xBF:
  case 0xA1:
  case '(':
  case ')':
  case '[':
  case ']':
  case '{':
  case '}':
  case '<':
  case '>':
  case '_':
  case '#':
  case '*':
  case '&':
  case 0x2026:
  /* quotes */
  case '\'':
  case '"':
  case '`':
  case 0xB4:
  case 0x2018:
  case 0x2019:
  case 0x201A:
  case 0x201C:
  case 0x201D:
  case 0x201E:
  case 0xAB:
  case 0xBB: return 1;
  default: return 0;
  }
}

/* clang-format off */
static int tli_prefix_only(uint32_t c) {
  return c == 0xA7 || c == '%' || c == '=' || c == 0x2014 || c == 0x2013 ||
         c == '$' || c == 0xA3 || c == 0x20AC || c == 0xA5;
}
/* clang-format on */

static int tli_suffix_only(uint32_t c) {
  return c == '%' || c == 0x2014 || c == 0x2013;
}

typedef struct tli_span {
  const uint32_t *s;
  size_t a, b; /* [a, b) */
} tli_span;

static int tli_span_eq(const uint32_t *s, size_t a, size_t b, const char *w) {
  size_t k = 0;
  for (; a + k < b; k++)
    if (w[k] == 0 || s[a + k] != (uint32_t)(unsigned char)w[k])
      return 0;
  return w[k] == 0;
}

static int tli_is_special(const uint32_t *s, size_t a, size_t b) {
  if (b - a < 4 || s[a] != 'x' || s[a + 1] != 'x')
    return 0;
  for (size_t k = 0; k < TL_TEXT_NUM_SPECIALS; k++)
    if (tli_span_eq(s, a, b, tli_specials[k]))
      return 1;
  return 0;
}

/* Whole-word exceptions (spaCy's English tokenizer exceptions): word and
 * the length of its first piece. */
static const struct {
  const char *word;
  size_t first;
} tli_exceptions[] = {{"cannot", 3}, {"gonna", 3}, {"gotta", 3}, {"wanna", 3}};

static int tli_all_word(const uint32_t *s, size_t a, size_t b) {
  if (a >= b)
    return 0;
  for (size_t k = a; k < b; k++)
    if (!tli_uc_is_word(s[k]))
      return 0;
  return 1;
}

static int tli_is_apos(uint32_t c) { return c == '\'' || c == 0x2019; }

/* "n't" at the end of a word of word characters: the stem's end, or 0. */
static size_t tli_nt_split(const uint32_t *s, size_t a, size_t b) {
  if (b - a >= 4 && s[b - 3] == 'n' && tli_is_apos(s[b - 2]) &&
      s[b - 1] == 't' && tli_all_word(s, a, b - 3))
    return b - 3;
  return 0;
}

/* Splits s[a..b) as a contraction: writes the piece ends to cut (at most 3
 * pieces) and returns the piece count, or 0 when it is none. */
static size_t tli_contraction(size_t cut[3], const uint32_t *s, size_t a,
                              size_t b) {
  /* Fast reject: every contraction has an apostrophe among its last 4
   * characters, or is an exception word (5 or 6 letters). */
  const size_t len = b - a;
  int apos = 0;
  for (size_t k = len > 4 ? b - 4 : a; k < b; k++)
    apos |= tli_is_apos(s[k]);
  const uint32_t c0 = s[a];
  if (!apos &&
      !((len == 5 || len == 6) && (c0 == 'c' || c0 == 'g' || c0 == 'w')))
    return 0;
  for (size_t k = 0; k < sizeof tli_exceptions / sizeof tli_exceptions[0]; k++)
    if (tli_span_eq(s, a, b, tli_exceptions[k].word)) {
      cut[0] = a + tli_exceptions[k].first;
      cut[1] = b;
      return 2;
    }
  static const char *const clitics[] = {"s", "re", "ve", "ll", "d", "m"};
  for (size_t k = 0; k < sizeof clitics / sizeof clitics[0]; k++) {
    const size_t lc = strlen(clitics[k]) + 1;
    if (b - a <= lc || !tli_is_apos(s[b - lc]) ||
        !tli_span_eq(s, b - lc + 1, b, clitics[k]))
      continue;
    const size_t stem = b - lc;
    if (tli_all_word(s, a, stem)) {
      cut[0] = stem;
      cut[1] = b;
      return 2;
    }
    const size_t nt = tli_nt_split(s, a, stem);
    if (nt) {
      cut[0] = nt;
      cut[1] = stem;
      cut[2] = b;
      return 3;
    }
    return 0;
  }
  const size_t nt = tli_nt_split(s, a, b);
  if (nt) {
    cut[0] = nt;
    cut[1] = b;
    return 2;
  }
  return 0;
}

static size_t tli_find_prefix(const uint32_t *s, size_t a, size_t b) {
  const uint32_t c = s[a];
  if (c == '.') {
    size_t k = a;
    while (k < b && s[k] == '.')
      k++;
    return k - a >= 2 ? k - a : 0;
  }
  if (c == '+')
    return (b - a == 1 || !tli_digit(s[a + 1])) ? 1 : 0;
  return tli_common_punct(c) || tli_prefix_only(c);
}

static size_t tli_find_suffix(const uint32_t *s, size_t a, size_t b) {
  const uint32_t c = s[b - 1];
  if (c == '.') {
    size_t k = b;
    while (k > a && s[k - 1] == '.')
      k--;
    if (b - k >= 2)
      return b - k;
    if (b - a < 2)
      return 0;
    if (tli_digit(s[b - 2]))
      return 1;
    for (size_t t = a; t < b - 1; t++)
      if (s[t] == '.')
        return 0; /* an abbreviation such as "u.s." or "e.g." */
    return 1;
  }
  if (c == '+')
    return b - a >= 2 && tli_digit(s[b - 2]);
  return tli_common_punct(c) || tli_suffix_only(c);
}

/* Length of the infix at i in s[a..b), or 0. */
static size_t tli_find_infix(const uint32_t *s, size_t a, size_t b, size_t i) {
  const uint32_t c = s[i];
  if (c == '.') {
    size_t k = i;
    while (k < b && s[k] == '.')
      k++;
    return k - i >= 2 ? k - i : 0;
  }
  if (c == 0x2026)
    return 1;
  if (i == a || i + 1 >= b)
    return 0;
  const uint32_t p = s[i - 1], q = s[i + 1];
  if ((c == '-' || c == 0x2013 || c == 0x2014 || c == '~') && tli_alnum(p) &&
      tli_uc_is_alpha(q))
    return 1;
  if (c == ',' && tli_uc_is_alpha(p) && tli_uc_is_alpha(q))
    return 1;
  if ((c == ':' || c == '<' || c == '>' || c == '=') && tli_alnum(p) &&
      tli_uc_is_alpha(q))
    return 1;
  if ((c == '+' || c == '-' || c == '*' || c == '^') && tli_digit(p) &&
      (tli_digit(q) || q == '-'))
    return 1;
  return 0;
}

/* Appends s[a..b) as one token (spaces become U+2581). */
static void tli_emit(tl_tokenizer *tok, const uint32_t *s, size_t a, size_t b) {
  if (a >= b)
    return;
  char *o = tok->bytes + tok->bytes_len;
  for (size_t k = a; k < b; k++)
    o += tli_utf8_put(o, s[k] == ' ' ? 0x2581 : s[k]);
  *o++ = 0;
  tok->bytes_len = (size_t)(o - tok->bytes);
  tok->tok_off[++tok->count] = tok->bytes_len;
}

/* checked: the caller already knows s[a..b) is neither a special token
 * nor a contraction (the peeling loop stopped for want of an affix). */
static void tli_emit_core(tl_tokenizer *tok, const uint32_t *s, size_t a,
                          size_t b, int checked) {
  if (a >= b)
    return;
  size_t cut[3];
  size_t nc = 0;
  if (!checked && tli_is_special(s, a, b)) {
    tli_emit(tok, s, a, b);
    return;
  }
  if (!checked)
    nc = tli_contraction(cut, s, a, b);
  if (nc) {
    size_t from = a;
    for (size_t k = 0; k < nc; k++) {
      tli_emit(tok, s, from, cut[k]);
      from = cut[k];
    }
    return;
  }
  size_t from = a, i = a;
  while (i < b) {
    const size_t m = tli_find_infix(s, a, b, i);
    if (m == 0) {
      i++;
      continue;
    }
    tli_emit(tok, s, from, i);
    tli_emit(tok, s, i, i + m);
    i += m;
    from = i;
  }
  tli_emit(tok, s, from, b);
}

/* One whitespace-free span: prefixes and suffixes peeled one at a time
 * until what is left is a special token or a contraction or has none. The
 * cut points go to tok->marks: prefix ends from the front, suffix starts
 * from the back (at most b - a peels in all). */
static void tli_split_span(tl_tokenizer *tok, const uint32_t *s, size_t a,
                           size_t b) {
  const size_t a0 = a, b0 = b;
  size_t np = 0, ns = 0;
  size_t *m = tok->marks;
  const size_t top = tok->marks_cap;
  size_t cut[3];
  int checked = 0;
  while (a < b) {
    if (tli_is_special(s, a, b) || tli_contraction(cut, s, a, b))
      break;
    const size_t p = tli_find_prefix(s, a, b);
    if (p) {
      a += p;
      m[np++] = a;
      continue;
    }
    const size_t q = tli_find_suffix(s, a, b);
    if (q && q < b - a) {
      b -= q;
      m[top - 1 - ns++] = b;
      continue;
    }
    checked = 1;
    break;
  }
  size_t from = a0;
  for (size_t k = 0; k < np; k++) {
    tli_emit(tok, s, from, m[k]);
    from = m[k];
  }
  tli_emit_core(tok, s, a, b, checked);
  /* Suffixes: the last peeled is innermost. */
  for (size_t k = ns; k > 0; k--) {
    const size_t st = m[top - k];
    const size_t en = k > 1 ? m[top - k + 1] : b0;
    tli_emit(tok, s, st, en);
  }
}

/* spaCy's outer loop: the text alternates runs of whitespace and of other
 * characters; a single ' ' opening a whitespace run is the previous
 * token's trailing space, any other whitespace is a token of its own. */
static void tli_split(tl_tokenizer *tok) {
  const uint32_t *s = tok->a.p;
  const size_t n = tok->a.n;
  if (n == 0)
    return;
  int in_ws = tli_uc_is_space(s[0]);
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (tli_uc_is_space(s[i]) == in_ws)
      continue;
    if (start < i) {
      if (in_ws)
        tli_emit(tok, s, start, i);
      else
        tli_split_span(tok, s, start, i);
    }
    start = s[i] == ' ' ? i + 1 : i;
    in_ws = !in_ws;
  }
  if (start < n) {
    if (in_ws)
      tli_emit(tok, s, start, n);
    else
      tli_split_span(tok, s, start, n);
  }
}

static tl_status tli_grow_size_t(size_t **p, size_t *cap, size_t need,
                                 const char *what) {
  if (need <= *cap)
    return TL_OK;
  size_t *q = NULL;
  TLI_TRY(tli_alloc_checked((void **)&q, need, sizeof *q, what));
  tli_free(*p);
  *p = q;
  *cap = need;
  return TL_OK;
}

tl_status tl_tokenizer_run(size_t *out_count, tl_tokenizer *tok,
                           const char *text, size_t len) {
  const char *fn = "tl_tokenizer_run";
  TLI_CHECK_PTR(fn, out_count);
  TLI_CHECK_PTR(fn, tok);
  TLI_CHECK(text != NULL || len == 0, TL_E_INVALID_ARG,
            "%s: argument 'text' is NULL with len %zu", fn, len);
  tok->count = 0;
  tok->bytes_len = 0;
  if (tok->tok_off)
    tok->tok_off[0] = 0;
  /* The bos/eos markers add at most 12 code points; every pass reserves
   * its own room. */
  TLI_TRY(tli_reserve(&tok->a, len + 16));
  size_t bad = 0;
  tok->a.n = 0;
  if (tli_utf8_decode(tok->a.p, &tok->a.n, &bad, (const uint8_t *)text, len,
                      tok->opts.replace_invalid) != TL_OK)
    return tli_fail(TL_E_FORMAT,
                    "%s: text is not valid UTF-8 at byte offset %zu (byte "
                    "0x%02X)",
                    fn, bad, (unsigned)(unsigned char)text[bad]);
  TLI_TRY(tli_fix_html(tok));
  TLI_TRY(tli_replace_rep(tok));
  TLI_TRY(tli_replace_wrep(tok));
  TLI_TRY(tli_spec_add_spaces(tok)); /* and rm_useless_spaces */
  TLI_TRY(tli_case_and_lower(tok));  /* all_caps, maj, lowercase */
  const size_t n = tok->a.n;
  /* At most n tokens; at most 4 bytes per code point (U+2581 for a space is
   * 3) plus a NUL per token. */
  TLI_TRY(tli_grow_size_t(&tok->tok_off, &tok->tok_cap, n + 2,
                          "tl_tokenizer_run: token offsets"));
  TLI_TRY(tli_grow_size_t(&tok->marks, &tok->marks_cap, n + 2,
                          "tl_tokenizer_run: affix marks"));
  if (5 * n + 16 > tok->bytes_cap) {
    char *q = NULL;
    TLI_TRY(tli_alloc_checked((void **)&q, 5 * n + 16, 1,
                              "tl_tokenizer_run: token bytes"));
    tli_free(tok->bytes);
    tok->bytes = q;
    tok->bytes_cap = 5 * n + 16;
  }
  tok->tok_off[0] = 0;
  tli_split(tok);
  *out_count = tok->count;
  return TL_OK;
}

tl_status tl_tokenizer_token(const char **out, size_t *out_len,
                             const tl_tokenizer *tok, size_t index) {
  TLI_CHECK_PTR("tl_tokenizer_token", out);
  TLI_CHECK_PTR("tl_tokenizer_token", tok);
  TLI_CHECK(index < tok->count, TL_E_INVALID_ARG,
            "tl_tokenizer_token: index %zu is out of range (the last run "
            "gave %zu tokens)",
            index, tok->count);
  *out = tok->bytes + tok->tok_off[index];
  if (out_len)
    *out_len = tok->tok_off[index + 1] - tok->tok_off[index] - 1;
  return TL_OK;
}

tl_status tl_tokenizer_count(size_t *out, const tl_tokenizer *tok) {
  TLI_CHECK_PTR("tl_tokenizer_count", out);
  TLI_CHECK_PTR("tl_tokenizer_count", tok);
  *out = tok->count;
  return TL_OK;
}
