/* Benchmark of the word tokenizer (lib/text), single-threaded: MB/s of
 * English-like text (sentences of common words with capitals, punctuation,
 * contractions, numbers and the odd HTML entity, made from a fixed seed) cut
 * into documents of about `doc_bytes` bytes. Time is the process's CPU time
 * (single-threaded, so the same as its wall time on an idle machine, and
 * less disturbed by other processes on a shared one).
 *
 *   bench_text [total_mb] [doc_bytes] [rounds]
 *
 * Output: "key value" lines (mb_per_s_median, mb_per_s_best, tokens_per_s),
 * read by bench/bench_text.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "tl/text.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const words[] = {
    "the",   "of",         "and",   "to",     "a",     "in",     "is",
    "it",    "you",        "that",  "he",     "was",   "for",    "on",
    "are",   "with",       "as",    "I",      "his",   "they",   "be",
    "at",    "one",        "have",  "this",   "from",  "or",     "had",
    "by",    "movie",      "film",  "great",  "story", "acting", "really",
    "don't", "it's",       "can't", "wasn't", "I'm",   "there",  "would",
    "about", "watched",    "plot",  "ending", "10",    "1999",   "3.5",
    "&amp;", "well-known", "New",   "York",   "BBC",   "John's", "quite"};

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const double total_mb = argc > 1 ? atof(argv[1]) : 20.0;
  const size_t doc_bytes = argc > 2 ? (size_t)atol(argv[2]) : 2000;
  const int rounds = argc > 3 ? atoi(argv[3]) : 5;
  const size_t total = (size_t)(total_mb * 1e6);
  char *text = malloc(total + 64);
  size_t *starts = malloc((total / 16 + 2) * sizeof *starts);
  if (!text || !starts)
    return 1;
  tli_rng rng;
  tli_rng_seed(&rng, 42);
  size_t len = 0, ndocs = 0, in_doc = 0, in_sent = 0;
  starts[ndocs++] = 0;
  while (len + 40 < total) {
    const char *w = words[tli_rng_below(&rng, sizeof words / sizeof *words)];
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%s", w);
    if (in_sent == 0 && tmp[0] >= 'a' && tmp[0] <= 'z')
      tmp[0] = (char)(tmp[0] - 32);
    const size_t k = strlen(tmp);
    memcpy(text + len, tmp, k);
    len += k;
    in_sent++;
    if (in_sent > 6 && tli_rng_below(&rng, 8) == 0) {
      text[len++] = tli_rng_below(&rng, 4) ? '.' : '!';
      in_sent = 0;
    } else if (tli_rng_below(&rng, 12) == 0) {
      text[len++] = ',';
    }
    text[len++] = ' ';
    in_doc += k + 2;
    if (in_doc >= doc_bytes && in_sent == 0) {
      starts[ndocs++] = len;
      in_doc = 0;
    }
  }
  starts[ndocs] = len;
  tl_tokenizer *tok = NULL;
  if (tl_tokenizer_create(&tok, NULL) != TL_OK)
    return 1;
  double *t = malloc((size_t)rounds * sizeof *t);
  size_t ntok = 0;
  for (int r = -1; r < rounds; r++) {
    const double t0 = now();
    size_t count = 0;
    ntok = 0;
    for (size_t d = 0; d < ndocs; d++) {
      if (tl_tokenizer_run(&count, tok, text + starts[d],
                           starts[d + 1] - starts[d]) != TL_OK) {
        fprintf(stderr, "bench_text: %s\n", tl_last_error());
        return 1;
      }
      ntok += count;
    }
    if (r >= 0)
      t[r] = now() - t0;
  }
  qsort(t, (size_t)rounds, sizeof *t, cmp_double);
  printf("bytes %zu\n", len);
  printf("docs %zu\n", ndocs);
  printf("tokens %zu\n", ntok);
  printf("mb_per_s_median %.2f\n", (double)len / 1e6 / t[rounds / 2]);
  printf("mb_per_s_best %.2f\n", (double)len / 1e6 / t[0]);
  printf("tokens_per_s %.0f\n", (double)ntok / t[rounds / 2]);
  tl_tokenizer_free(tok);
  free(t);
  free(text);
  free(starts);
  return 0;
}
