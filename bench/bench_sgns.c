/* Benchmark of tl_sgns_train (lib/embed) on a corpus prepared by
 * bench/bench_sgns.py: wall time of one training call (Hogwild threads run
 * in parallel, so CPU time would hide them), words per second per thread,
 * and the input embeddings written out for the driver's comparison with
 * gensim.
 *
 *   bench_sgns CORPUS OUT dim window negative sample min_count epochs
 *              threads seed
 *
 * CORPUS: little-endian uint64 n_ids, n_docs, vocab_size, then n_ids int64
 * ids, then n_docs uint64 document lengths. OUT: vocab_size x dim float32.
 * Output: "key value" lines (seconds, words_per_s, words_per_s_per_thread). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tl/embed.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int read_all(void *p, size_t size, size_t n, FILE *f) {
  return fread(p, size, n, f) == n;
}

int main(int argc, char **argv) {
  if (argc != 11) {
    fprintf(stderr, "usage: bench_sgns CORPUS OUT dim window negative "
                    "sample min_count epochs threads seed\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (f == NULL) {
    perror(argv[1]);
    return 1;
  }
  uint64_t head[3];
  if (!read_all(head, sizeof head[0], 3, f)) {
    fprintf(stderr, "bench_sgns: short corpus file\n");
    fclose(f);
    return 1;
  }
  const size_t n_ids = (size_t)head[0], n_docs = (size_t)head[1];
  const size_t vocab = (size_t)head[2];
  int64_t *ids = malloc(n_ids * sizeof *ids);
  size_t *lens = malloc(n_docs * sizeof *lens);
  uint64_t *lens64 = malloc(n_docs * sizeof *lens64);
  tl_sgns_options o;
  tl_sgns_options_init(&o, TL_SGNS_OPTIONS_VERSION);
  o.dim = (size_t)atol(argv[3]);
  o.window = (size_t)atol(argv[4]);
  o.negative = (size_t)atol(argv[5]);
  o.sample = atof(argv[6]);
  o.min_count = (uint64_t)atoll(argv[7]);
  o.epochs = (size_t)atol(argv[8]);
  o.n_threads = (size_t)atol(argv[9]);
  o.seed = (uint64_t)atoll(argv[10]);
  float *emb = malloc(vocab * o.dim * sizeof *emb);
  if (ids == NULL || lens == NULL || lens64 == NULL || emb == NULL ||
      !read_all(ids, sizeof *ids, n_ids, f) ||
      !read_all(lens64, sizeof *lens64, n_docs, f)) {
    fprintf(stderr, "bench_sgns: cannot read the corpus\n");
    fclose(f);
    return 1;
  }
  fclose(f);
  for (size_t d = 0; d < n_docs; d++)
    lens[d] = (size_t)lens64[d];
  const double t0 = now();
  const tl_status s = tl_sgns_train(emb, vocab * o.dim, ids, n_ids, lens,
                                    n_docs, NULL, vocab, &o);
  const double t = now() - t0;
  if (s != TL_OK) {
    fprintf(stderr, "bench_sgns: %s\n", tl_last_error());
    return 1;
  }
  FILE *g = fopen(argv[2], "wb");
  if (g == NULL ||
      fwrite(emb, sizeof *emb, vocab * o.dim, g) != vocab * o.dim) {
    fprintf(stderr, "bench_sgns: cannot write %s\n", argv[2]);
    return 1;
  }
  fclose(g);
  /* word2vec's and gensim's rate: corpus words (before sub-sampling) per
   * second over all epochs. */
  const double words = (double)n_ids * (double)o.epochs;
  printf("seconds %.4f\n", t);
  printf("words_per_s %.0f\n", words / t);
  printf("words_per_s_per_thread %.0f\n", words / t / (double)o.n_threads);
  free(ids);
  free(lens);
  free(lens64);
  free(emb);
  return 0;
}
