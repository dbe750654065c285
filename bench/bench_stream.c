/* Benchmark of streaming inference through the public API (tl_model_step,
 * tl_model_step_ids), single-threaded.
 *
 *   bench_stream lstm E H L B [reps]   an LSTM(E, H, L) model, B sequences
 *   bench_stream lm V E H L [reps]     fastai's AWD-LSTM LM (vocabulary V,
 *                                      embedding E, hidden H, L layers):
 *                                      one token in, V logits out, B = 1
 *
 * After tl_model_step_prepare, each sample times a batch of 100 steps (one
 * step is near the clock's resolution); the state carries on from sample
 * to sample, as in a real stream. Output: "median_us" and "min_us" over
 * reps samples after one warm-up, one "key value" pair per line, read by
 * bench/bench_stream.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tl/tl.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void check(tl_status st, const char *what) {
  if (st != TL_OK) {
    fprintf(stderr, "bench_stream: %s: %s\n", what, tl_last_error());
    exit(1);
  }
}

static void report(double *t, int reps) {
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  printf("median_us %.3f\nmin_us %.3f\n", 1e6 * t[reps / 2], 1e6 * t[0]);
}

enum { INNER = 100 };

static int bench_lstm(size_t E, size_t H, size_t L, size_t B, int reps) {
  tl_model *m = NULL;
  check(tl_model_create(&m, NULL), "create");
  check(tl_model_add_lstm(m, "rnn", E, H, L, NULL), "add_lstm");
  size_t of = 0;
  check(tl_model_step_prepare(&of, m, B, E), "prepare");
  float *x = calloc(B * E, sizeof(float)), *y = calloc(B * of, sizeof(float));
  double *t = calloc((size_t)reps, sizeof *t);
  if (x == NULL || y == NULL || t == NULL)
    return 1;
  for (size_t i = 0; i < B * E; i++)
    x[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    for (int i = 0; i < INNER; i++)
      check(tl_model_step(y, B * of, m, x, B, E), "step");
    if (r >= 0)
      t[r] = (now() - t0) / INNER;
  }
  report(t, reps);
  free(x);
  free(y);
  free(t);
  tl_model_free(m);
  return 0;
}

static int bench_lm(size_t V, size_t E, size_t H, size_t L, int reps) {
  tl_awd_lstm_options o;
  check(tl_awd_lstm_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION), "options");
  o.emb_sz = E;
  o.n_hid = H;
  o.n_layers = L;
  tl_model *enc = NULL, *dec = NULL;
  check(tl_awd_lstm_lm_create(&enc, &dec, V, &o, 1.0f), "lm_create");
  size_t of = 0, ofd = 0;
  check(tl_model_step_prepare(&of, enc, 1, 0), "prepare encoder");
  check(tl_model_step_prepare(&ofd, dec, 1, of), "prepare decoder");
  float *h = calloc(of, sizeof(float)), *logits = calloc(ofd, sizeof(float));
  double *t = calloc((size_t)reps, sizeof *t);
  if (h == NULL || logits == NULL || t == NULL)
    return 1;
  int64_t id = 5;
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    for (int i = 0; i < INNER; i++) {
      check(tl_model_step_ids(h, of, enc, &id, 1), "step encoder");
      check(tl_model_step(logits, ofd, dec, h, 1, of), "step decoder");
      id = (id * 31 + 7) % (int64_t)V; /* the next token */
    }
    if (r >= 0)
      t[r] = (now() - t0) / INNER;
  }
  report(t, reps);
  free(h);
  free(logits);
  free(t);
  tl_model_free(dec);
  tl_model_free(enc);
  return 0;
}

static size_t arg(const char *s) { return (size_t)strtoull(s, NULL, 10); }

int main(int argc, char **argv) {
  check(tl_set_num_threads(1), "set_num_threads");
  if (argc >= 6 && strcmp(argv[1], "lstm") == 0)
    return bench_lstm(arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5]),
                      argc > 6 ? atoi(argv[6]) : 50);
  if (argc >= 6 && strcmp(argv[1], "lm") == 0)
    return bench_lm(arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5]),
                    argc > 6 ? atoi(argv[6]) : 20);
  fprintf(stderr, "usage: bench_stream lstm E H L B [reps]\n"
                  "       bench_stream lm V E H L [reps]\n");
  return 2;
}
