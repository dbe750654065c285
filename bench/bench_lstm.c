/* Benchmark of the LSTM kernels (lib/kernels/lstm*.c), single-threaded.
 *
 *   bench_lstm train T B E H L [reps]   forward_train + backward of L layers
 *   bench_lstm step E H [reps]          one inference step at B = 1
 *
 * "train" also times a plain sgemm of the shape that dominates the step
 * (T*B x 4H x H, the input projection) and reports the LSTM's achieved
 * GFLOP/s (GEMM FLOPs only: 6 * T*B * 4H * (in + H) per layer, dx included)
 * as a fraction of that sgemm rate. Times are the median and the minimum
 * over reps after one warm-up. Output: one "key value" pair per line, read
 * by bench/bench_lstm.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/rng.h"
#include "kernels/lstm.h"
#include "tl/core.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static float *buf(size_t n, tli_rng *rng, float scale) {
  float *p = tli_alloc(n * sizeof(float));
  if (p == NULL) {
    fprintf(stderr, "bench_lstm: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++)
    p[i] = scale * (2.0f * tli_rng_uniform_f(rng) - 1.0f);
  return p;
}

typedef struct timing {
  double median, min;
} timing;

static timing summarize(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  timing s = {t[n / 2], t[0]};
  return s;
}

static double sgemm_gflops(size_t m, size_t n, size_t k, tli_rng *rng) {
  float *a = buf(m * k, rng, 1.0f), *b = buf(k * n, rng, 1.0f);
  float *c = buf(m * n, rng, 1.0f);
  double t[7];
  tli_sgemm(0, 1, m, n, k, 1.0f, a, k, b, k, 1.0f, c, n);
  for (int r = 0; r < 7; r++) {
    const double t0 = now();
    tli_sgemm(0, 1, m, n, k, 1.0f, a, k, b, k, 1.0f, c, n);
    t[r] = now() - t0;
  }
  tli_free(a);
  tli_free(b);
  tli_free(c);
  return 2.0 * (double)m * (double)n * (double)k / summarize(t, 7).min * 1e-9;
}

static int bench_train(size_t T, size_t B, size_t E, size_t H, size_t L,
                       int reps) {
  tli_rng rng;
  tli_rng_seed(&rng, 1);
  const tli_lstm_dims d = {T, B, E, H};
  const size_t G = 4 * H;
  const float k = 1.0f / (float)H;
  tli_lstm_params *p = calloc(L, sizeof *p);
  tli_lstm_grads *g = calloc(L, sizeof *g);
  if (p == NULL || g == NULL)
    return 1;
  for (size_t l = 0; l < L; l++) {
    const size_t in = l ? H : E;
    p[l] = (tli_lstm_params){buf(G * in, &rng, k), buf(G * H, &rng, k),
                             buf(G, &rng, k), buf(G, &rng, k)};
    g[l] = (tli_lstm_grads){buf(G * in, &rng, 0), buf(G * H, &rng, 0),
                            buf(G, &rng, 0), buf(G, &rng, 0)};
  }
  float *x = buf(T * B * E, &rng, 1.0f), *y = buf(T * B * H, &rng, 0);
  float *dy = buf(T * B * H, &rng, 1.0f), *dx = buf(T * B * E, &rng, 0);
  float *reserve = buf(tli_lstm_stack_reserve_size(&d, L), &rng, 0);
  float *ws = buf(tli_lstm_stack_backward_workspace_size(&d, L, 0), &rng, 0);
  double *t = calloc((size_t)reps, sizeof *t);
  if (t == NULL)
    return 1;
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    tli_lstm_stack_forward_train(&d, L, p, NULL, x, NULL, NULL, y, NULL, NULL,
                                 reserve);
    tli_lstm_stack_backward(&d, L, p, NULL, NULL, x, NULL, NULL, reserve, dy,
                            NULL, NULL, dx, NULL, NULL, g, ws);
    if (r >= 0)
      t[r] = now() - t0;
  }
  const timing s = summarize(t, reps);
  double flops = 0.0;
  for (size_t l = 0; l < L; l++)
    flops += 6.0 * (double)(T * B) * (double)G * (double)((l ? H : E) + H);
  const double gemm = sgemm_gflops(T * B, G, H, &rng);
  printf("median_ms %.4f\nmin_ms %.4f\n", 1e3 * s.median, 1e3 * s.min);
  printf("lstm_gflops %.2f\nsgemm_gflops %.2f\nfraction %.3f\n",
         flops / s.median * 1e-9, gemm, flops / s.median * 1e-9 / gemm);
  for (size_t l = 0; l < L; l++) {
    tli_free((void *)p[l].w_ih);
    tli_free((void *)p[l].w_hh);
    tli_free((void *)p[l].b_ih);
    tli_free((void *)p[l].b_hh);
    tli_free(g[l].w_ih);
    tli_free(g[l].w_hh);
    tli_free(g[l].b_ih);
    tli_free(g[l].b_hh);
  }
  free(p);
  free(g);
  free(t);
  tli_free(x);
  tli_free(y);
  tli_free(dy);
  tli_free(dx);
  tli_free(reserve);
  tli_free(ws);
  return 0;
}

static int bench_step(size_t E, size_t H, int reps) {
  tli_rng rng;
  tli_rng_seed(&rng, 2);
  const tli_lstm_dims d = {1, 1, E, H};
  const size_t G = 4 * H;
  const float k = 1.0f / (float)H;
  const tli_lstm_params p = {buf(G * E, &rng, k), buf(G * H, &rng, k),
                             buf(G, &rng, k), buf(G, &rng, k)};
  float *x = buf(E, &rng, 1.0f), *h = buf(H, &rng, 0), *c = buf(H, &rng, 0);
  float *ws = buf(tli_lstm_step_workspace_size(&d), &rng, 0);
  double *t = calloc((size_t)reps, sizeof *t);
  if (t == NULL)
    return 1;
  /* Each sample times a batch of steps: one step is near the clock's
   * resolution. */
  const int inner = 100;
  for (int r = -1; r < reps; r++) {
    const double t0 = now();
    for (int i = 0; i < inner; i++)
      tli_lstm_step(&d, &p, x, h, c, ws);
    if (r >= 0)
      t[r] = (now() - t0) / inner;
  }
  const timing s = summarize(t, reps);
  printf("median_us %.3f\nmin_us %.3f\n", 1e6 * s.median, 1e6 * s.min);
  tli_free((void *)p.w_ih);
  tli_free((void *)p.w_hh);
  tli_free((void *)p.b_ih);
  tli_free((void *)p.b_hh);
  tli_free(x);
  tli_free(h);
  tli_free(c);
  tli_free(ws);
  free(t);
  return 0;
}

static size_t arg(const char *s) { return (size_t)strtoull(s, NULL, 10); }

int main(int argc, char **argv) {
  tl_set_num_threads(1);
  if (argc >= 7 && strcmp(argv[1], "train") == 0)
    return bench_train(arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5]),
                       arg(argv[6]), argc > 7 ? (int)arg(argv[7]) : 10);
  if (argc >= 4 && strcmp(argv[1], "step") == 0)
    return bench_step(arg(argv[2]), arg(argv[3]),
                      argc > 4 ? (int)arg(argv[4]) : 200);
  fprintf(stderr, "usage: bench_lstm train T B E H L [reps]\n"
                  "       bench_lstm step E H [reps]\n");
  return 2;
}
