#include "brown_pos.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ulmfit/corpora.h"

const char *const BP_TAGS[BP_NUM_TAGS] = {".",    "ADJ", "ADP",  "ADV",
                                          "CONJ", "DET", "NOUN", "NUM",
                                          "PRON", "PRT", "VERB", "X"};

static int fail(char *err, size_t errcap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errcap, fmt, ap);
  va_end(ap);
  return -1;
}

int bp_tag_index(const char *s, size_t len) {
  for (int k = 0; k < BP_NUM_TAGS; k++)
    if (strlen(BP_TAGS[k]) == len && !memcmp(BP_TAGS[k], s, len))
      return k;
  return -1;
}

void bp_free(bp_corpus *c) {
  if (!c)
    return;
  free(c->text);
  free(c->word);
  free(c->tag);
  free(c->sent_start);
  free(c->sent_doc);
  free(c->doc_name);
  free(c->doc_genre);
  free(c->doc_start);
  memset(c, 0, sizeof *c);
}

/* A document name as make_data.py writes them: c, the genre letter (one
 * of the Brown corpus's 15, lower case), two digits. */
static const char BROWN_GENRES[] = "abcdefghjklmnpr";
static int valid_doc(const char *s, size_t len) {
  return len == 4 && s[0] == 'c' && s[1] && strchr(BROWN_GENRES, s[1]) &&
         s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9';
}

/* Parses the decompressed text in place (c->text). Two passes: count, then
 * fill, so every array is allocated once at its size. */
static int parse(bp_corpus *c, const char *path, char *err, size_t errcap) {
  char *text = c->text;
  size_t n_lines = 0, n_tok = 0;
  for (char *p = text; *p; p++) {
    if (*p == '\n')
      n_lines++;
    else if (*p == ' ' || *p == '\t')
      ;
    else if (p == text || p[-1] == ' ' || p[-1] == '\t')
      n_tok++; /* upper bound: also counts the two leading fields */
  }
  size_t len = strlen(text);
  if (len && text[len - 1] != '\n')
    n_lines++; /* a last line without newline: reported below */
  if (n_lines == 0)
    return fail(err, errcap, "%s: no sentences", path);
  c->word = malloc(n_tok * sizeof *c->word);
  c->tag = malloc(n_tok);
  c->sent_start = malloc((n_lines + 1) * sizeof *c->sent_start);
  c->sent_doc = malloc(n_lines * sizeof *c->sent_doc);
  c->doc_name = malloc(n_lines * sizeof *c->doc_name);
  c->doc_genre = malloc(n_lines);
  c->doc_start = malloc((n_lines + 1) * sizeof *c->doc_start);
  if (!c->word || !c->tag || !c->sent_start || !c->sent_doc || !c->doc_name ||
      !c->doc_genre || !c->doc_start)
    return fail(err, errcap, "out of memory");
  char *line = text;
  size_t lineno = 0;
  while (*line) {
    lineno++;
    char *end = strchr(line, '\n');
    if (!end)
      return fail(err, errcap, "%s:%zu: the last line has no newline", path,
                  lineno);
    *end = 0;
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!tab2 || !valid_doc(line, (size_t)(tab1 - line)) || tab2 != tab1 + 2 ||
        tab1[1] != line[1] - 'a' + 'A')
      return fail(err, errcap,
                  "%s:%zu: not \"<document>\\t<genre>\\t<tokens>\" with a "
                  "document cXNN of genre X",
                  path, lineno);
    *tab1 = 0;
    if (c->n_documents == 0 ||
        strcmp(c->doc_name[c->n_documents - 1], line) != 0) {
      for (size_t d = 0; d < c->n_documents; d++)
        if (!strcmp(c->doc_name[d], line))
          return fail(err, errcap,
                      "%s:%zu: document %s resumes after another one", path,
                      lineno, line);
      memcpy(c->doc_name[c->n_documents], line, 5);
      c->doc_genre[c->n_documents] = tab1[1];
      c->doc_start[c->n_documents] = c->n_sentences;
      c->n_documents++;
    }
    c->sent_start[c->n_sentences] = c->n_tokens;
    c->sent_doc[c->n_sentences] = c->n_documents - 1;
    c->n_sentences++;
    char *tok = tab2 + 1;
    for (;;) {
      char *sp = strchr(tok, ' ');
      if (sp)
        *sp = 0;
      char *slash = strrchr(tok, '/');
      int k = slash ? bp_tag_index(slash + 1, strlen(slash + 1)) : -1;
      if (!slash || slash == tok || k < 0)
        return fail(err, errcap,
                    "%s:%zu: token \"%s\" is not word/TAG with one of the 12 "
                    "universal tags",
                    path, lineno, tok);
      *slash = 0;
      c->word[c->n_tokens] = tok;
      c->tag[c->n_tokens] = (uint8_t)k;
      c->n_tokens++;
      if (!sp)
        break;
      tok = sp + 1;
    }
    line = end + 1;
  }
  c->sent_start[c->n_sentences] = c->n_tokens;
  c->doc_start[c->n_documents] = c->n_sentences;
  return 0;
}

int bp_load(bp_corpus *out, const char *path, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  size_t len;
  int rc = ul_read_xz(&out->text, &len, path, err, errcap);
  if (!rc)
    rc = parse(out, path, err, errcap);
  if (rc)
    bp_free(out);
  return rc;
}
