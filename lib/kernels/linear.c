#include "kernels/linear.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/blas.h"
#include "kernels/matvec.h"

/* Sigmoid without overflow: exp of a non-positive argument only. */
static float tli_sigmoid(float z) {
  if (z >= 0.0f)
    return 1.0f / (1.0f + expf(-z));
  const float e = expf(z);
  return e / (1.0f + e);
}

void tli_act_forward(float *y, const float *z, size_t n, tli_act act) {
  switch (act) {
  case TLI_ACT_IDENTITY:
    if (y != z && n)
      memmove(y, z, n * sizeof *y);
    break;
  case TLI_ACT_RELU:
    for (size_t i = 0; i < n; i++)
      y[i] = z[i] > 0.0f ? z[i] : 0.0f;
    break;
  case TLI_ACT_TANH:
    for (size_t i = 0; i < n; i++)
      y[i] = tanhf(z[i]);
    break;
  case TLI_ACT_SIGMOID:
    for (size_t i = 0; i < n; i++)
      y[i] = tli_sigmoid(z[i]);
    break;
  }
}

void tli_act_backward(float *dz, const float *dy, const float *y, size_t n,
                      tli_act act) {
  switch (act) {
  case TLI_ACT_IDENTITY:
    if (dz != dy && n)
      memmove(dz, dy, n * sizeof *dz);
    break;
  case TLI_ACT_RELU:
    /* y > 0 exactly when z > 0; torch's relu gradient at 0 is 0. */
    for (size_t i = 0; i < n; i++)
      dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    break;
  case TLI_ACT_TANH:
    for (size_t i = 0; i < n; i++)
      dz[i] = dy[i] * (1.0f - y[i] * y[i]);
    break;
  case TLI_ACT_SIGMOID:
    for (size_t i = 0; i < n; i++)
      dz[i] = dy[i] * y[i] * (1.0f - y[i]);
    break;
  }
}

/* Above this many weight floats (1 MB) a one-row forward uses sgemv rather
 * than kernels/matvec.h, which is faster while the weight stays in L2
 * (measured: 512 x 128 1.3x faster; 1024 x 256 and larger, sgemv by
 * 10-30%). */
#define TLI_LINEAR_SGEMV_FLOATS ((size_t)1 << 18)

void tli_linear_forward(float *y, const float *x, const float *w,
                        const float *b, size_t n, size_t in, size_t out,
                        tli_act act) {
  assert(y != x && y != w);
  if (n == 0 || out == 0)
    return;
  /* Seed y with the bias so one sgemm with beta = 1 adds x W^T onto it. */
  float beta = 0.0f;
  if (b) {
    for (size_t i = 0; i < n; i++)
      memcpy(y + i * out, b, out * sizeof *y);
    beta = 1.0f;
  }
  if (in == 0) {
    if (!b)
      memset(y, 0, n * out * sizeof *y);
  } else if (n == 1 && out * in > TLI_LINEAR_SGEMV_FLOATS) {
    /* one row against a weight that does not stay in L2 (an LM decoder):
     * OpenBLAS's sgemv, whose prefetching streams it faster from memory
     * (12k x 128: ~100 us against ~130 us) */
    tli_sgemv(0, out, in, 1.0f, w, in, x, beta, y);
  } else if (n <= TLI_MATVEC_MAX_ROWS) {
    /* a few rows (a streaming step): sgemm would pack all of W on every
     * call (a 12k-word decoder: 2.6 ms a token against ~0.3 ms) */
    tli_matvec_rows(n, out, w, in, x, NULL, 0, NULL, y, b != NULL);
  } else {
    tli_sgemm(0, 1, n, out, in, 1.0f, x, in, w, in, beta, y, out);
  }
  tli_act_forward(y, y, n * out, act);
}

void tli_linear_backward(float *dx, float *dw, float *db, float *work,
                         const float *dy, const float *x, const float *w,
                         const float *y, size_t n, size_t in, size_t out,
                         tli_act act) {
  assert(act == TLI_ACT_IDENTITY || (work != NULL && y != NULL));
  if (n == 0 || out == 0)
    return;
  const float *dz = dy;
  if (act != TLI_ACT_IDENTITY) {
    tli_act_backward(work, dy, y, n * out, act);
    dz = work;
  }
  if (dx && in)
    tli_sgemm(0, 0, n, in, out, 1.0f, dz, out, w, in, 1.0f, dx, in);
  if (dw && in)
    tli_sgemm(1, 0, out, in, n, 1.0f, dz, out, x, in, 1.0f, dw, in);
  if (db) {
    /* Row by row keeps the reads contiguous; n is small next to n * out. */
    for (size_t i = 0; i < n; i++) {
      const float *row = dz + i * out;
      for (size_t j = 0; j < out; j++)
        db[j] += row[j];
    }
  }
}
