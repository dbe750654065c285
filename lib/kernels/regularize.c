#include "kernels/regularize.h"

#include <assert.h>
#include <math.h>

float tli_ar_penalty(float *dh, const float *h, size_t n, float alpha) {
  assert(h != NULL || n == 0);
  assert(isfinite(alpha) && alpha >= 0.0f);
  if (n == 0 || alpha == 0.0f)
    return 0.0f;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += (double)h[i] * h[i];
  if (dh) {
    const float g = (float)(2.0 * alpha / (double)n);
    for (size_t i = 0; i < n; i++)
      dh[i] += g * h[i];
  }
  return (float)(alpha * sum / (double)n);
}

float tli_tar_penalty(float *dh, const float *h, size_t t, size_t bh,
                      float beta) {
  assert(h != NULL || t == 0 || bh == 0);
  assert(isfinite(beta) && beta >= 0.0f);
  if (t < 2 || bh == 0 || beta == 0.0f)
    return 0.0f;
  const double count = (double)(t - 1) * (double)bh;
  const float g = (float)(2.0 * beta / count);
  double sum = 0.0;
  for (size_t s = 1; s < t; s++) {
    const float *cur = h + s * bh, *prev = cur - bh;
    for (size_t j = 0; j < bh; j++) {
      const float d = cur[j] - prev[j];
      sum += (double)d * d;
      if (dh) {
        /* d/dh[s] = +2 beta d / count, d/dh[s-1] = -2 beta d / count. */
        dh[s * bh + j] += g * d;
        dh[(s - 1) * bh + j] -= g * d;
      }
    }
  }
  return (float)(beta * sum / count);
}
