#include "kernels/dropout.h"

#include <assert.h>
#include <string.h>

void tli_dropout_mask(float *mask, size_t n, float p, tli_rng *rng) {
  assert(p >= 0.0f && p < 1.0f);
  if (p == 0.0f) {
    for (size_t i = 0; i < n; i++)
      mask[i] = 1.0f;
    return;
  }
  const float keep = 1.0f / (1.0f - p);
  for (size_t i = 0; i < n; i++)
    mask[i] = tli_rng_uniform_f(rng) < p ? 0.0f : keep;
}

void tli_dropout_apply(float *y, const float *x, const float *mask, size_t n) {
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] * mask[i];
}

void tli_dropout_locked_apply(float *y, const float *x, const float *mask,
                              size_t t, size_t bf) {
  for (size_t s = 0; s < t; s++)
    tli_dropout_apply(y + s * bf, x + s * bf, mask, bf);
}
