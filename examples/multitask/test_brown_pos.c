/* Checks of the reader of data/brown_pos.tsv.xz on the shipped file (the
 * counts data/README.md states, the first sentence as the corpus has it)
 * and on bad files: a message, not a crash or a silent result.
 * Usage: test_brown_pos DATA_DIR SCRATCH_DIR */
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brown_pos.h"

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

/* Writes text as an .xz file (what make_data.py writes), or its first
 * `keep` bytes when keep > 0 (a truncated download). */
static void write_xz(const char *path, const char *text, size_t keep) {
  size_t cap = strlen(text) + 1024, n = 0;
  uint8_t *buf = malloc(cap);
  if (!buf ||
      lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)text,
                              strlen(text), buf, &n, cap) != LZMA_OK) {
    fprintf(stderr, "cannot compress\n");
    exit(1);
  }
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, keep ? keep : n, f) != (keep ? keep : n)) {
    perror(path);
    exit(1);
  }
  fclose(f);
  free(buf);
}

/* Loads a bad file and checks that it fails with a message containing
 * `want` and leaves the struct zeroed. */
static void expect_bad(const char *dir, const char *text, size_t keep,
                       const char *want) {
  char path[1024], err[512] = "";
  snprintf(path, sizeof path, "%s/bad_brown_pos.tsv.xz", dir);
  write_xz(path, text, keep);
  bp_corpus c;
  int rc = bp_load(&c, path, err, sizeof err);
  EXPECT(rc == -1, "loaded a bad file (%s)", want);
  EXPECT(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
  EXPECT(c.text == NULL && c.n_tokens == 0, "struct not zeroed");
  bp_free(&c);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s DATA_DIR SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  char path[1024], err[512];
  snprintf(path, sizeof path, "%s/brown_pos.tsv.xz", argv[1]);
  bp_corpus c;
  if (bp_load(&c, path, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  /* data/README.md: 500 documents, 57,340 sentences, 1,161,192 tokens and
   * the count of each universal tag. */
  EXPECT(c.n_documents == 500, "%zu documents", c.n_documents);
  EXPECT(c.n_sentences == 57340, "%zu sentences", c.n_sentences);
  EXPECT(c.n_tokens == 1161192, "%zu tokens", c.n_tokens);
  static const size_t want_tags[BP_NUM_TAGS] = {147565, 83721,  144766, 56239,
                                                38151,  137019, 275558, 14874,
                                                49334,  29829,  182750, 1386};
  size_t tags[BP_NUM_TAGS] = {0};
  for (size_t i = 0; i < c.n_tokens; i++)
    tags[c.tag[i]]++;
  for (int k = 0; k < BP_NUM_TAGS; k++)
    EXPECT(tags[k] == want_tags[k], "%s: %zu, want %zu", BP_TAGS[k], tags[k],
           want_tags[k]);
  /* Genre sizes of the Brown corpus (its CONTENTS file). */
  static const char genres[] = "ABCDEFGHJKLMNPR";
  static const size_t want_docs[] = {44, 27, 17, 17, 36, 48, 75, 30,
                                     80, 29, 24, 6,  29, 29, 9};
  for (size_t g = 0; g < 15; g++) {
    size_t n = 0;
    for (size_t d = 0; d < c.n_documents; d++)
      n += c.doc_genre[d] == genres[g];
    EXPECT(n == want_docs[g], "genre %c: %zu documents", genres[g], n);
  }
  /* The corpus's first sentence: "The/at Fulton/np-tl County/nn-tl ...". */
  EXPECT(!strcmp(c.doc_name[0], "ca01") && c.doc_genre[0] == 'A', "%s %c",
         c.doc_name[0], c.doc_genre[0]);
  EXPECT(!strcmp(c.doc_name[499], "cr09"), "%s", c.doc_name[499]);
  static const char *w0[] = {"The",   "Fulton", "County",
                             "Grand", "Jury",   "said"};
  static const char *t0[] = {"DET", "NOUN", "NOUN", "ADJ", "NOUN", "VERB"};
  for (size_t i = 0; i < 6; i++)
    EXPECT(!strcmp(c.word[i], w0[i]) && !strcmp(BP_TAGS[c.tag[i]], t0[i]),
           "token %zu: %s/%s", i, c.word[i], BP_TAGS[c.tag[i]]);
  EXPECT(c.sent_start[1] == 25, "first sentence has %zu tokens",
         c.sent_start[1]);
  for (size_t s = 0; s < c.n_sentences; s++)
    EXPECT(c.sent_start[s + 1] > c.sent_start[s], "sentence %zu empty", s);
  /* A word may hold "/": the tag follows the last one. */
  size_t slashed = 0;
  for (size_t i = 0; i < c.n_tokens; i++)
    slashed += strchr(c.word[i], '/') != NULL;
  EXPECT(slashed > 0, "no word with a slash (fractions such as 1/2 exist)");
  bp_free(&c);

  /* Bad files. */
  const char *dir = argv[2];
  const char *good = "ca01\tA\tThe/DET jury/NOUN ./.\n";
  expect_bad(dir, good, 20, "not a valid xz file");
  expect_bad(dir, "ca01\tA\tThe/DET jury/NOUNS ./.\n", 0, "jury/NOUNS");
  expect_bad(dir, "ca01\tA\tThe/DET jury ./.\n", 0, "\"jury\"");
  expect_bad(dir, "ca01\tA\tThe/DET  jury/NOUN\n", 0, "token \"\"");
  expect_bad(dir, "ca01\tA\t/NOUN\n", 0, "not word/TAG");
  expect_bad(dir, "ca01\tB\tThe/DET\n", 0, ":1: not");
  expect_bad(dir, "cz01\tZ\tThe/DET\n", 0, ":1: not");
  expect_bad(dir, "ci01\tI\tThe/DET\n", 0, ":1: not"); /* no genre I */
  expect_bad(dir, "ca01\tA\tThe/DET\nca02\tA\tA/DET\nca01\tA\tX/X\n", 0,
             ":3: document ca01 resumes");
  expect_bad(dir, "ca01\tA\tThe/DET", 0, "no newline");
  expect_bad(dir, "", 0, "no sentences");
  snprintf(path, sizeof path, "%s/no_such_file.xz", dir);
  EXPECT(bp_load(&c, path, err, sizeof err) == -1 &&
             strstr(err, "no_such_file"),
         "%s", err);
  bp_free(&c);
  if (failures) {
    fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  printf("brown_pos: 500 documents, 57340 sentences, 1161192 tokens: ok\n");
  return 0;
}
