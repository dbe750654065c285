#include "corpora.h"

#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tl/tl.h>

static const char TASK_GENRES[UL_NUM_CLASSES] = {'A', 'D', 'E', 'H', 'J'};
static const char *const TASK_NAMES[UL_NUM_CLASSES] = {
    "news", "religion", "hobbies", "government", "learned"};
/* Every genre letter of the Brown corpus (data/README.md). */
static const char BROWN_GENRES[] = "ABCDEFGHJKLMNPR";
/* nlp-corpus lines per general-domain unit: the LM loader shuffles units
 * each epoch, and 10 lines keep some of a source's context together. */
enum { NLP_LINES_PER_UNIT = 10 };

char ul_class_genre(size_t k) {
  return k < UL_NUM_CLASSES ? TASK_GENRES[k] : 0;
}

const char *ul_class_label(size_t k) {
  static const char *const LABELS[UL_NUM_CLASSES] = {
      "A news", "D religion", "E hobbies", "H government", "J learned"};
  return k < UL_NUM_CLASSES ? LABELS[k] : NULL;
}

const char *ul_class_name(size_t k) {
  return k < UL_NUM_CLASSES ? TASK_NAMES[k] : NULL;
}

int ul_fail(char *err, size_t errcap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errcap, fmt, ap);
  va_end(ap);
  return -1;
}

int ul_read_xz(char **out, size_t *out_len, const char *path, char *err,
               size_t errcap) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return ul_fail(err, errcap,
                   "%s: %s (the shipped data/ directory is needed; "
                   "see data/README.md)",
                   path, strerror(errno));
  lzma_stream strm = LZMA_STREAM_INIT;
  /* LZMA_CONCATENATED: the whole file must be valid xz; the stream's
   * CRC64 check catches altered bytes. */
  if (lzma_stream_decoder(&strm, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
    fclose(f);
    return ul_fail(err, errcap, "%s: cannot start the xz decoder", path);
  }
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap + 1);
  uint8_t in[1 << 16];
  int rc = 0;
  lzma_action action = LZMA_RUN;
  strm.next_out = (uint8_t *)buf;
  strm.avail_out = cap;
  while (buf) {
    if (strm.avail_in == 0 && action == LZMA_RUN) {
      strm.next_in = in;
      strm.avail_in = fread(in, 1, sizeof in, f);
      if (ferror(f)) {
        rc = ul_fail(err, errcap, "%s: read error", path);
        break;
      }
      if (feof(f))
        action = LZMA_FINISH;
    }
    lzma_ret r = lzma_code(&strm, action);
    len = cap - strm.avail_out;
    if (r == LZMA_STREAM_END)
      break;
    if (r != LZMA_OK) {
      rc = ul_fail(err, errcap,
                   "%s: not a valid xz file (%s); regenerate it with "
                   "data/make_data.py",
                   path,
                   r == LZMA_DATA_ERROR || r == LZMA_BUF_ERROR
                       ? "corrupt or truncated"
                   : r == LZMA_FORMAT_ERROR ? "wrong format"
                                            : "decoder error");
      break;
    }
    if (strm.avail_out == 0) {
      char *grown = realloc(buf, 2 * cap + 1);
      if (!grown) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      strm.next_out = (uint8_t *)buf + cap;
      strm.avail_out = cap;
      cap *= 2;
    }
  }
  lzma_end(&strm);
  fclose(f);
  if (!buf)
    return ul_fail(err, errcap, "%s: out of memory", path);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[len] = 0;
  if (memchr(buf, 0, len)) {
    free(buf);
    return ul_fail(err, errcap, "%s: a NUL byte in a text file", path);
  }
  *out = buf;
  *out_len = len;
  return 0;
}

/* A growable list of texts. */
typedef struct text_list {
  char **text;
  size_t *len;
  size_t n, cap;
} text_list;

static int list_push(text_list *l, const char *s, size_t len) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    char **t = realloc(l->text, cap * sizeof *t);
    if (!t)
      return -1;
    l->text = t;
    size_t *n = realloc(l->len, cap * sizeof *n);
    if (!n)
      return -1;
    l->len = n;
    l->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy)
    return -1;
  memcpy(copy, s, len);
  copy[len] = 0;
  l->text[l->n] = copy;
  l->len[l->n++] = len;
  return 0;
}

/* A text built by appending sentences separated by one space. */
typedef struct joiner {
  char *buf;
  size_t len, cap;
} joiner;

static int join_add(joiner *j, const char *s, size_t n) {
  size_t need = j->len + (j->len ? 1 : 0) + n + 1;
  if (need > j->cap) {
    size_t cap = j->cap ? j->cap : 1024;
    while (cap < need)
      cap *= 2;
    char *b = realloc(j->buf, cap);
    if (!b)
      return -1;
    j->buf = b;
    j->cap = cap;
  }
  if (j->len)
    j->buf[j->len++] = ' ';
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = 0;
  return 0;
}

static int class_of(char genre) {
  for (int k = 0; k < UL_NUM_CLASSES; k++)
    if (TASK_GENRES[k] == genre)
      return k;
  return -1;
}

/* The state of the Brown parse: the current document, its passage being
 * built and the lists filled. */
typedef struct brown_parse {
  text_list general, target;
  int64_t *target_label;
  size_t label_cap;
  ul_passage *passages;
  size_t n_passages, passage_cap;
  joiner doc, passage;
  size_t passage_sentences;
  char doc_id[32];
  char genre;
} brown_parse;

static int push_passage(brown_parse *p) {
  if (p->n_passages == p->passage_cap) {
    size_t cap = p->passage_cap ? 2 * p->passage_cap : 1024;
    ul_passage *g = realloc(p->passages, cap * sizeof *g);
    if (!g)
      return -1;
    p->passages = g;
    p->passage_cap = cap;
  }
  ul_passage *ps = &p->passages[p->n_passages];
  ps->text = malloc(p->passage.len + 1);
  if (!ps->text)
    return -1;
  memcpy(ps->text, p->passage.buf, p->passage.len + 1);
  ps->len = p->passage.len;
  ps->label = class_of(p->genre);
  ps->doc = p->target.n; /* the index the document gets when it ends */
  ps->side = UL_TRAIN;
  p->n_passages++;
  return 0;
}

/* Ends the current document: a task document goes to the target list with
 * its label, any other to the general domain. */
static int end_doc(brown_parse *p) {
  if (!p->doc.len)
    return 0;
  int k = class_of(p->genre);
  if (k < 0) {
    if (list_push(&p->general, p->doc.buf, p->doc.len))
      return -1;
  } else {
    if (p->target.n == p->label_cap) {
      size_t cap = p->label_cap ? 2 * p->label_cap : 256;
      int64_t *l = realloc(p->target_label, cap * sizeof *l);
      if (!l)
        return -1;
      p->target_label = l;
      p->label_cap = cap;
    }
    p->target_label[p->target.n] = k;
    if (list_push(&p->target, p->doc.buf, p->doc.len))
      return -1;
  }
  p->doc.len = 0;
  p->passage.len = 0;
  p->passage_sentences = 0;
  return 0;
}

static int parse_brown(brown_parse *p, char *text, const char *path, char *err,
                       size_t errcap) {
  size_t lineno = 0;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    char *next = nl ? nl + 1 : line + strlen(line);
    if (nl)
      *nl = 0;
    lineno++;
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!tab2 || tab1 == line || tab1 - line >= (ptrdiff_t)sizeof p->doc_id ||
        tab2 != tab1 + 2 || !strchr(BROWN_GENRES, tab1[1]) || !tab1[1] ||
        !tab2[1])
      return ul_fail(
          err, errcap,
          "%s:%zu: expected \"document<TAB>genre<TAB>sentence\" with "
          "a genre among %s",
          path, lineno, BROWN_GENRES);
    *tab1 = 0;
    const char genre = tab1[1];
    const char *sentence = tab2 + 1;
    if (strcmp(line, p->doc_id) != 0) {
      if (end_doc(p))
        return ul_fail(err, errcap, "out of memory");
      snprintf(p->doc_id, sizeof p->doc_id, "%s", line);
      p->genre = genre;
    } else if (genre != p->genre) {
      return ul_fail(err, errcap, "%s:%zu: document %s changes genre", path,
                     lineno, line);
    }
    size_t n = strlen(sentence);
    if (join_add(&p->doc, sentence, n))
      return ul_fail(err, errcap, "out of memory");
    if (class_of(genre) >= 0) {
      if (join_add(&p->passage, sentence, n))
        return ul_fail(err, errcap, "out of memory");
      if (++p->passage_sentences == UL_PASSAGE_SENTENCES) {
        if (push_passage(p))
          return ul_fail(err, errcap, "out of memory");
        p->passage.len = 0;
        p->passage_sentences = 0;
      }
    }
    line = next;
  }
  if (end_doc(p))
    return ul_fail(err, errcap, "out of memory");
  return 0;
}

static int parse_nlp(text_list *general, char *text, const char *path,
                     char *err, size_t errcap) {
  joiner unit = {0};
  size_t lines = 0, lineno = 0;
  int rc = 0;
  for (char *line = text; *line && !rc;) {
    char *nl = strchr(line, '\n');
    char *next = nl ? nl + 1 : line + strlen(line);
    size_t n = (size_t)(next - line) - (nl ? 1 : 0);
    lineno++;
    if (memchr(line, '\t', n))
      rc = ul_fail(err, errcap, "%s:%zu: a TAB in a one-sentence-per-line file",
                   path, lineno);
    else if (n && join_add(&unit, line, n))
      rc = ul_fail(err, errcap, "out of memory");
    else if (n && ++lines == NLP_LINES_PER_UNIT) {
      if (list_push(general, unit.buf, unit.len))
        rc = ul_fail(err, errcap, "out of memory");
      unit.len = 0;
      lines = 0;
    }
    line = next;
  }
  if (!rc && unit.len && list_push(general, unit.buf, unit.len))
    rc = ul_fail(err, errcap, "out of memory");
  free(unit.buf);
  return rc;
}

void ul_corpora_free(ul_corpora *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n_general; i++)
    free(c->general[i]);
  for (size_t i = 0; i < c->n_target; i++)
    free(c->target[i]);
  for (size_t i = 0; i < c->n_passages; i++)
    free(c->passages[i].text);
  free(c->general);
  free(c->general_len);
  free(c->target);
  free(c->target_len);
  free(c->target_label);
  free(c->target_side);
  free(c->passages);
  memset(c, 0, sizeof *c);
}

int ul_corpora_load(ul_corpora *out, const char *data_dir, double valid_frac,
                    double test_frac, uint64_t seed, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  if (!(valid_frac >= 0 && test_frac > 0 && valid_frac + test_frac < 1))
    return ul_fail(err, errcap,
                   "the validation and test fractions must be >= 0 and > 0 and "
                   "leave training documents");
  char path[4096];
  brown_parse p = {0};
  char *text = NULL;
  size_t len;
  int rc = 0;
  snprintf(path, sizeof path, "%s/brown.tsv.xz", data_dir);
  rc = ul_read_xz(&text, &len, path, err, errcap);
  if (!rc)
    rc = parse_brown(&p, text, path, err, errcap);
  free(text);
  text = NULL;
  if (!rc) {
    snprintf(path, sizeof path, "%s/nlp_corpus.txt.xz", data_dir);
    rc = ul_read_xz(&text, &len, path, err, errcap);
    if (!rc)
      rc = parse_nlp(&p.general, text, path, err, errcap);
    free(text);
  }
  out->general = p.general.text;
  out->general_len = p.general.len;
  out->n_general = p.general.n;
  out->target = p.target.text;
  out->target_len = p.target.len;
  out->target_label = p.target_label;
  out->n_target = p.target.n;
  out->passages = p.passages;
  out->n_passages = p.n_passages;
  free(p.doc.buf);
  free(p.passage.buf);
  if (!rc) {
    size_t seen[UL_NUM_CLASSES] = {0};
    for (size_t i = 0; i < out->n_target; i++)
      seen[out->target_label[i]]++;
    for (size_t k = 0; k < UL_NUM_CLASSES && !rc; k++)
      if (seen[k] < 3)
        rc = ul_fail(err, errcap,
                     "%s: genre %c has %zu documents; the split needs 3", path,
                     TASK_GENRES[k], seen[k]);
  }
  if (!rc)
    rc = (out->target_side = calloc(out->n_target, sizeof(ul_side)))
             ? 0
             : ul_fail(err, errcap, "out of memory");
  if (rc) {
    ul_corpora_free(out);
    return rc;
  }
  /* Split the task documents, stratified by genre: first the test side,
   * then validation among the rest (tl_text_split_stratified rounds each
   * genre's share half away from zero). */
  uint8_t *is_test = calloc(out->n_target, 1);
  uint8_t *is_valid = calloc(out->n_target, 1);
  int64_t *rest_label = calloc(out->n_target, sizeof *rest_label);
  size_t *rest_index = calloc(out->n_target, sizeof *rest_index);
  if (!is_test || !is_valid || !rest_label || !rest_index)
    rc = ul_fail(err, errcap, "out of memory");
  if (!rc && tl_text_split_stratified(is_test, out->target_label, out->n_target,
                                      UL_NUM_CLASSES, test_frac, seed) != TL_OK)
    rc = ul_fail(err, errcap, "%s", tl_last_error());
  size_t n_rest = 0;
  for (size_t i = 0; !rc && i < out->n_target; i++) {
    out->target_side[i] = is_test[i] ? UL_TEST : UL_TRAIN;
    if (!is_test[i]) {
      rest_label[n_rest] = out->target_label[i];
      rest_index[n_rest++] = i;
    }
  }
  /* valid_frac is a share of all documents: rescale it to the rest. */
  if (!rc && valid_frac > 0 &&
      tl_text_split_stratified(is_valid, rest_label, n_rest, UL_NUM_CLASSES,
                               valid_frac / (1.0 - test_frac),
                               seed ^ 0x9e3779b97f4a7c15ull) != TL_OK)
    rc = ul_fail(err, errcap, "%s", tl_last_error());
  for (size_t r = 0; !rc && r < n_rest; r++)
    if (is_valid[r])
      out->target_side[rest_index[r]] = UL_VALID;
  for (size_t i = 0; !rc && i < out->n_passages; i++)
    out->passages[i].side = out->target_side[out->passages[i].doc];
  free(is_test);
  free(is_valid);
  free(rest_label);
  free(rest_index);
  if (rc)
    ul_corpora_free(out);
  return rc;
}
