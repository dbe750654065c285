/* Products of a few rows with a weight matrix (matvec.h): eight weight
 * rows at a time, each with its own vector accumulator per input row
 * (separate variables, so they stay in registers at -O2 as at -O3),
 * multiplies and adds without FMA, so the baseline and the AVX2 builds
 * give the same bits. At E = H = 128 an LSTM step's two products run about
 * 1.3x faster than two sgemv calls and at the L2 read bandwidth
 * (docs/performance.md); sgemm with a few rows packs the whole weight on
 * every call. */
#include "kernels/matvec.h"

#include <assert.h>
#include <string.h>

#include "kernels/lstm_math.h"

/* The lanes' sum in a fixed order (pairwise halves). */
TLI_VINLINE float tli_mv_sum(tli_vf a) {
#if TLI_VLEN == 8
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
#else
  return (a[0] + a[2]) + (a[1] + a[3]);
#endif
}

/* Loads TLI_VLEN floats (a full block). */
TLI_VINLINE tli_vf tli_mv_load(const float *p) {
  tli_vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* a0..a7 += rows w[0..8) (each n floats, row stride n) times v, lane-wise;
 * the partial block last, its missing lanes 0. */
TLI_VINLINE void tli_mv8(tli_vf *a, const float *w, size_t n, const float *v) {
  tli_vf a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  tli_vf a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7];
  const float *w0 = w, *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n;
  const float *w4 = w + 4 * n, *w5 = w + 5 * n, *w6 = w + 6 * n,
              *w7 = w + 7 * n;
  size_t k = 0;
  for (; k + TLI_VLEN <= n; k += TLI_VLEN) {
    const tli_vf vk = tli_mv_load(v + k);
    a0 = a0 + tli_mv_load(w0 + k) * vk;
    a1 = a1 + tli_mv_load(w1 + k) * vk;
    a2 = a2 + tli_mv_load(w2 + k) * vk;
    a3 = a3 + tli_mv_load(w3 + k) * vk;
    a4 = a4 + tli_mv_load(w4 + k) * vk;
    a5 = a5 + tli_mv_load(w5 + k) * vk;
    a6 = a6 + tli_mv_load(w6 + k) * vk;
    a7 = a7 + tli_mv_load(w7 + k) * vk;
  }
  if (k < n) {
    const size_t m = n - k;
    const tli_vf vk = tli_vload(v + k, m);
    a0 = a0 + tli_vload(w0 + k, m) * vk;
    a1 = a1 + tli_vload(w1 + k, m) * vk;
    a2 = a2 + tli_vload(w2 + k, m) * vk;
    a3 = a3 + tli_vload(w3 + k, m) * vk;
    a4 = a4 + tli_vload(w4 + k, m) * vk;
    a5 = a5 + tli_vload(w5 + k, m) * vk;
    a6 = a6 + tli_vload(w6 + k, m) * vk;
    a7 = a7 + tli_vload(w7 + k, m) * vk;
  }
  a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;
  a[4] = a4, a[5] = a5, a[6] = a6, a[7] = a7;
}

/* One row: the same arithmetic as a lane of tli_mv8. */
TLI_VINLINE tli_vf tli_mv1(tli_vf a, const float *w, size_t n, const float *v) {
  size_t k = 0;
  for (; k + TLI_VLEN <= n; k += TLI_VLEN)
    a = a + tli_mv_load(w + k) * tli_mv_load(v + k);
  if (k < n)
    a = a + tli_vload(w + k, n - k) * tli_vload(v + k, n - k);
  return a;
}

/* The rows of y, the input rows the inner loop: a block of eight weight
 * rows (8 KB at K = 256) comes from L2 once and from L1 for the other
 * input rows. */
TLI_CPU_BODY void tli_matvec_rows_body(size_t B, size_t N, const float *w1,
                                       size_t k1, const float *x1,
                                       const float *w2, size_t k2,
                                       const float *x2, float *y, int add) {
  size_t r = 0;
  for (; r + 8 <= N; r += 8)
    for (size_t b = 0; b < B; b++) {
      tli_vf a[8] = {{0}};
      tli_mv8(a, w1 + r * k1, k1, x1 + b * k1);
      if (w2 != NULL)
        tli_mv8(a, w2 + r * k2, k2, x2 + b * k2);
      float *yb = y + b * N + r;
      for (size_t j = 0; j < 8; j++)
        yb[j] = add ? yb[j] + tli_mv_sum(a[j]) : tli_mv_sum(a[j]);
    }
  /* the last N % 8 rows; the bound 8 tells the compiler so */
  for (size_t q = 0; q < 8 && r + q < N; q++)
    for (size_t b = 0; b < B; b++) {
      tli_vf a = tli_mv1((tli_vf){0}, w1 + (r + q) * k1, k1, x1 + b * k1);
      if (w2 != NULL)
        a = tli_mv1(a, w2 + (r + q) * k2, k2, x2 + b * k2);
      float *yb = y + b * N + r + q;
      *yb = add ? *yb + tli_mv_sum(a) : tli_mv_sum(a);
    }
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static void
tli_matvec_rows_avx2(size_t B, size_t N, const float *w1, size_t k1,
                     const float *x1, const float *w2, size_t k2,
                     const float *x2, float *y, int add) {
  tli_matvec_rows_body(B, N, w1, k1, x1, w2, k2, x2, y, add);
}
#endif

void tli_matvec_rows(size_t B, size_t N, const float *w1, size_t k1,
                     const float *x1, const float *w2, size_t k2,
                     const float *x2, float *y, int add) {
  assert(w1 != NULL && x1 != NULL && y != NULL);
  assert(w2 == NULL || x2 != NULL);
  if (w2 == NULL)
    k2 = 0;
  (void)k2;
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2()) {
    tli_matvec_rows_avx2(B, N, w1, k1, x1, w2, k2, x2, y, add);
    return;
  }
#endif
  tli_matvec_rows_body(B, N, w1, k1, x1, w2, k2, x2, y, add);
}
