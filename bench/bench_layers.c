/* Benchmark of the layer kernels (lib/kernels), single-threaded.
 *
 *   bench_layers linear N IN OUT ACT [reps]   forward + backward (dx, dW, db)
 *   bench_layers xent N C [reps]              cross-entropy loss + dlogits:
 *                                             the kernel ("xent") and the
 *                                             public tl_cross_entropy with
 *                                             its validation ("xent_api")
 *
 * ACT is 0 identity, 1 relu, 2 tanh, 3 sigmoid. Times are the median and the
 * minimum over reps after one warm-up, in milliseconds. Output: one
 * "key value" pair per line, read by bench/bench_layers.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "kernels/linear.h"
#include "kernels/loss.h"
#include "tl/core.h"
#include "tl/model.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void *must(void *p) {
  if (p == NULL) {
    fprintf(stderr, "bench_layers: out of memory\n");
    exit(1);
  }
  return p;
}

static float *buf(size_t n, tli_rng *rng, float scale) {
  float *p = must(tli_alloc(n * sizeof(float)));
  for (size_t i = 0; i < n; i++)
    p[i] = scale * (2.0f * tli_rng_uniform_f(rng) - 1.0f);
  return p;
}

static void report(const char *what, double *t, int reps) {
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  printf("%s_median_ms %.4f\n%s_min_ms %.4f\n", what, 1e3 * t[reps / 2], what,
         1e3 * t[0]);
}

static int bench_linear(size_t n, size_t in, size_t out, int act, int reps) {
  tli_rng rng;
  tli_rng_seed(&rng, 1);
  float *x = buf(n * in, &rng, 1.0f), *w = buf(out * in, &rng, 0.05f);
  float *b = buf(out, &rng, 0.1f), *dy = buf(n * out, &rng, 1.0f);
  float *y = buf(n * out, &rng, 0.0f), *work = buf(n * out, &rng, 0.0f);
  float *dx = buf(n * in, &rng, 0.0f), *dw = buf(out * in, &rng, 0.0f);
  float *db = buf(out, &rng, 0.0f);
  double *t = must(malloc((size_t)reps * sizeof *t));
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    tli_linear_forward(y, x, w, b, n, in, out, (tli_act)act);
    /* dx is accumulated, as the model would after zeroing it. */
    memset(dx, 0, n * in * sizeof *dx);
    tli_linear_backward(dx, dw, db, work, dy, x, w, y, n, in, out,
                        (tli_act)act);
    if (r >= 0)
      t[r] = now() - t0;
  }
  printf("flops %.6g\n", 6.0 * (double)n * (double)in * (double)out);
  report("linear", t, reps);
  tli_free(x), tli_free(w), tli_free(b), tli_free(dy), tli_free(y);
  tli_free(work), tli_free(dx), tli_free(dw), tli_free(db);
  free(t);
  return 0;
}

static int bench_xent(size_t n, size_t c, int reps) {
  tli_rng rng;
  tli_rng_seed(&rng, 2);
  float *logits = buf(n * c, &rng, 3.0f), *d = buf(n * c, &rng, 0.0f);
  int64_t *targets = must(malloc(n * sizeof *targets));
  for (size_t i = 0; i < n; i++)
    targets[i] = (int64_t)tli_rng_below(&rng, c);
  double *t = must(malloc((size_t)reps * sizeof *t));
  float loss = 0.0f;
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    loss = tli_cross_entropy(d, logits, targets, n, c, -100, 1.0f, NULL);
    if (r >= 0)
      t[r] = now() - t0;
  }
  printf("loss %.6g\n", (double)loss);
  report("xent", t, reps);
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    if (tl_cross_entropy(&loss, d, logits, targets, n, c, -100) != TL_OK) {
      fprintf(stderr, "bench_layers: %s\n", tl_last_error());
      return 1;
    }
    if (r >= 0)
      t[r] = now() - t0;
  }
  report("xent_api", t, reps);
  tli_free(logits), tli_free(d);
  free(targets), free(t);
  return 0;
}

int main(int argc, char **argv) {
  if (tl_set_num_threads(1) != TL_OK)
    return 1;
  if (argc >= 6 && strcmp(argv[1], "linear") == 0) {
    const int reps = argc > 6 ? atoi(argv[6]) : 20;
    return bench_linear(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                        strtoul(argv[4], NULL, 10), atoi(argv[5]),
                        reps > 0 ? reps : 1);
  }
  if (argc >= 4 && strcmp(argv[1], "xent") == 0) {
    const int reps = argc > 4 ? atoi(argv[4]) : 20;
    return bench_xent(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                      reps > 0 ? reps : 1);
  }
  fprintf(stderr, "usage: bench_layers linear N IN OUT ACT [reps] | "
                  "xent N C [reps]\n");
  return 2;
}
