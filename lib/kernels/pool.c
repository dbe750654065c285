#include "kernels/pool.h"

#include <assert.h>

size_t tli_concat_pool_find_bad_length(const size_t *lengths, size_t b,
                                       size_t t) {
  for (size_t i = 0; i < b; i++)
    if (lengths[i] == 0 || lengths[i] > t)
      return i;
  return b;
}

void tli_concat_pool_forward(float *out, size_t *argmax, const float *h,
                             const size_t *lengths, size_t t, size_t b,
                             size_t hdim) {
  /* Lengths in [1, t]: the model validates them (find_bad_length). */
  assert(tli_concat_pool_find_bad_length(lengths, b, t) == b);
  (void)t;
  const size_t step = b * hdim; /* distance between time steps */
  for (size_t i = 0; i < b; i++) {
    const size_t len = lengths[i];
    const float *seq = h + i * hdim;
    float *last = out + i * 3 * hdim, *mx = last + hdim, *mean = mx + hdim;
    for (size_t j = 0; j < hdim; j++) {
      float best = seq[j];
      size_t at = 0;
      double sum = seq[j];
      for (size_t s = 1; s < len; s++) {
        const float v = seq[s * step + j];
        sum += v;
        if (v > best) { /* strict: ties keep the first step */
          best = v;
          at = s;
        }
      }
      last[j] = seq[(len - 1) * step + j];
      mx[j] = best;
      mean[j] = (float)(sum / (double)len);
      if (argmax)
        argmax[i * hdim + j] = at;
    }
  }
}

void tli_concat_pool_backward(float *dh, const float *dout,
                              const size_t *argmax, const size_t *lengths,
                              size_t t, size_t b, size_t hdim) {
  assert(argmax != NULL);
  assert(tli_concat_pool_find_bad_length(lengths, b, t) == b);
  (void)t;
  const size_t step = b * hdim;
  for (size_t i = 0; i < b; i++) {
    const size_t len = lengths[i];
    float *seq = dh + i * hdim;
    const float *dlast = dout + i * 3 * hdim, *dmax = dlast + hdim,
                *dmean = dmax + hdim;
    const float inv = 1.0f / (float)len;
    for (size_t j = 0; j < hdim; j++) {
      const float g = dmean[j] * inv;
      for (size_t s = 0; s < len; s++)
        seq[s * step + j] += g;
      seq[(len - 1) * step + j] += dlast[j];
      seq[argmax[i * hdim + j] * step + j] += dmax[j];
    }
  }
}
