/* Checks of the ULMFiT example's data reader on the shipped files and on
 * bad ones: sizes, the split by document, and a message (not a crash or a
 * silent result) for a missing, truncated or altered file.
 * Usage: test_corpora DATA_DIR SCRATCH_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpora.h"

static int failures = 0;
#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static void write_file(const char *path, const void *bytes, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(bytes, 1, n, f) != n) {
    perror(path);
    exit(1);
  }
  fclose(f);
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  char *b = malloc(*n);
  if (!b || fread(b, 1, *n, f) != *n) {
    perror(path);
    exit(1);
  }
  fclose(f);
  return b;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s DATA_DIR SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  char err[512];
  ul_corpora c;
  if (ul_corpora_load(&c, argv[1], 0.1, 0.25, 7, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  /* data/README.md: 500 documents, of which A 44, D 17, E 36, H 30, J 80
   * are the task's; nlp-corpus has 100,000 lines in units of 10. */
  EXPECT(c.n_target == 207, "%zu task documents", c.n_target);
  EXPECT(c.n_general == 293 + 10000, "%zu general units", c.n_general);
  size_t docs[UL_NUM_CLASSES][3] = {{0}}, passages[3] = {0};
  for (size_t i = 0; i < c.n_target; i++)
    docs[c.target_label[i]][c.target_side[i]]++;
  /* Each genre: round(0.25 n) test documents, round(0.1 n / 0.75 * ...)
   * validation among the rest; every genre on every side. */
  const size_t n_docs[UL_NUM_CLASSES] = {44, 17, 36, 30, 80};
  for (size_t k = 0; k < UL_NUM_CLASSES; k++) {
    EXPECT(docs[k][UL_TEST] == (size_t)(0.25 * n_docs[k] + 0.5),
           "genre %c: %zu test documents", ul_class_genre(k), docs[k][UL_TEST]);
    EXPECT(docs[k][UL_TRAIN] > 0 && docs[k][UL_VALID] > 0,
           "genre %c: %zu train, %zu valid", ul_class_genre(k),
           docs[k][UL_TRAIN], docs[k][UL_VALID]);
  }
  /* A passage has its document's label and side, and 5 sentences' worth
   * of text; passages are in document order. */
  for (size_t i = 0; i < c.n_passages; i++) {
    const ul_passage *p = &c.passages[i];
    passages[p->side]++;
    if (p->doc >= c.n_target || p->label != c.target_label[p->doc] ||
        p->side != c.target_side[p->doc] || p->len < 20 ||
        strlen(p->text) != p->len || (i && p->doc < c.passages[i - 1].doc)) {
      EXPECT(0, "passage %zu is inconsistent with its document", i);
      break;
    }
    /* The passage's text appears in its document. */
    if (!strstr(c.target[p->doc], p->text)) {
      EXPECT(0, "passage %zu is not in document %zu", i, p->doc);
      break;
    }
  }
  /* The sum over task documents of floor(sentences / 5), counted
   * independently: xz -dc data/brown.tsv.xz | awk -F'\t'
   * '$2~/^[ADEHJ]$/{n[$1]++} END{for(d in n) s+=int(n[d]/5); print s}' */
  EXPECT(c.n_passages == 4175, "%zu passages", c.n_passages);
  printf("passages: %zu train, %zu valid, %zu test\n", passages[UL_TRAIN],
         passages[UL_VALID], passages[UL_TEST]);
  ul_corpora_free(&c);

  /* Bad input: a missing directory, a truncated file, a flipped byte,
   * something that is not xz, and a malformed line. */
  EXPECT(ul_corpora_load(&c, "/nonexistent", 0.1, 0.25, 0, err, sizeof err) &&
             strstr(err, "brown.tsv.xz") && strstr(err, "No such file"),
         "missing: %s", err);
  char path[4096], src[4096];
  snprintf(src, sizeof src, "%s/brown.tsv.xz", argv[1]);
  size_t n;
  char *bytes = slurp(src, &n);
  snprintf(path, sizeof path, "%s/brown.tsv.xz", argv[2]);
  write_file(path, bytes, n / 2);
  char *text = NULL;
  size_t len;
  EXPECT(ul_read_xz(&text, &len, path, err, sizeof err) &&
             strstr(err, "corrupt or truncated"),
         "truncated: %s", err);
  bytes[n / 2] ^= 0x40;
  write_file(path, bytes, n);
  EXPECT(ul_read_xz(&text, &len, path, err, sizeof err) &&
             strstr(err, "not a valid xz file"),
         "flipped: %s", err);
  write_file(path, "ca01\tA\tHello.\n", 14);
  EXPECT(ul_read_xz(&text, &len, path, err, sizeof err) &&
             strstr(err, "wrong format"),
         "not xz: %s", err);
  free(bytes);
  /* A well-formed xz file whose line has no genre column. */
  snprintf(src, sizeof src, "printf 'ca01\\tHello.\\n' | xz > %s/brown.tsv.xz",
           argv[2]);
  if (system(src) == 0) {
    EXPECT(ul_corpora_load(&c, argv[2], 0.1, 0.25, 0, err, sizeof err) &&
               strstr(err, ":1: expected"),
           "malformed line: %s", err);
  }
  EXPECT(ul_corpora_load(&c, argv[1], 0.5, 0.5, 0, err, sizeof err) &&
             strstr(err, "fractions"),
         "fractions: %s", err);
  if (failures)
    fprintf(stderr, "%d failures\n", failures);
  return failures ? 1 : 0;
}
