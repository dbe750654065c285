/* Internal: the LSTM's activations (sigmoid, tanh) over arrays, written so
 * that the compiler vectorises them at the project's -O2: fixed-length
 * blocks of TLI_VLEN floats, branch-free, with exp built from a Cody-Waite
 * range reduction and the cephes expf polynomial (about 1 ulp) instead of a
 * libm call per element. Errors stay far below the 1e-5 relative tolerance
 * against PyTorch (tests/kernels check them against libm in double). */
#ifndef TLI_KERNELS_LSTM_MATH_H
#define TLI_KERNELS_LSTM_MATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TLI_VLEN 8

/* exp(x) for a block of TLI_VLEN floats; inputs are clamped to the range
 * where the result is a normal float, so no inf/denormal slow paths. */
static inline void tli_exp_block(float *restrict out,
                                 const float *restrict in) {
  float t[TLI_VLEN], r[TLI_VLEN];
  uint32_t bits[TLI_VLEN];
  for (int k = 0; k < TLI_VLEN; k++) {
    float x = in[k];
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* n = round(x / ln2) by the 1.5*2^23 trick: t's low mantissa bits
     * hold n. */
    const float tt = x * 1.44269504088896341f + 12582912.0f;
    const float n = tt - 12582912.0f;
    r[k] = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    t[k] = tt;
  }
  memcpy(bits, t, sizeof bits);
  for (int k = 0; k < TLI_VLEN; k++)
    bits[k] = (bits[k] - 0x4B400000u + 127u) << 23; /* 2^n */
  memcpy(t, bits, sizeof bits);
  for (int k = 0; k < TLI_VLEN; k++) {
    const float x = r[k];
    float p = 1.9875691500e-4f;
    p = p * x + 1.3981999507e-3f;
    p = p * x + 8.3334519073e-3f;
    p = p * x + 4.1665795894e-2f;
    p = p * x + 1.6666665459e-1f;
    p = p * x + 5.0000001201e-1f;
    p = p * x * x + x + 1.0f;
    out[k] = p * t[k];
  }
}

/* sigmoid(x) = 1 / (1 + exp(-x)): no cancellation anywhere. */
static inline void tli_sigmoid_block(float *restrict out,
                                     const float *restrict in) {
  float e[TLI_VLEN], m[TLI_VLEN];
  for (int k = 0; k < TLI_VLEN; k++)
    m[k] = -in[k];
  tli_exp_block(e, m);
  for (int k = 0; k < TLI_VLEN; k++)
    out[k] = 1.0f / (1.0f + e[k]);
}

/* tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|), for |x| >= 0.25
 * (1 - e >= 0.39, so little cancellation); an odd Taylor polynomial below,
 * where the quotient would lose relative accuracy. */
static inline void tli_tanh_block(float *restrict out,
                                  const float *restrict in) {
  float e[TLI_VLEN], m[TLI_VLEN];
  for (int k = 0; k < TLI_VLEN; k++) {
    const float a = in[k] < 0.0f ? -in[k] : in[k];
    m[k] = -2.0f * a;
  }
  tli_exp_block(e, m);
  for (int k = 0; k < TLI_VLEN; k++) {
    const float x = in[k];
    const float a = x < 0.0f ? -x : x;
    const float big = (1.0f - e[k]) / (1.0f + e[k]);
    const float x2 = x * x;
    float p = 21844.0f / 6081075.0f;
    p = p * x2 - 1382.0f / 155925.0f;
    p = p * x2 + 62.0f / 2835.0f;
    p = p * x2 - 17.0f / 315.0f;
    p = p * x2 + 2.0f / 15.0f;
    p = p * x2 - 1.0f / 3.0f;
    const float small = x + x * x2 * p;
    const float signed_big = x < 0.0f ? -big : big;
    out[k] = a < 0.25f ? small : signed_big;
  }
}

/* Whole-array forms: full blocks in place, the tail through a padded copy. */
static inline void tli_sigmoid_array(float *out, const float *in, size_t n) {
  size_t k = 0;
  float a[TLI_VLEN], b[TLI_VLEN];
  for (; k + TLI_VLEN <= n; k += TLI_VLEN) {
    memcpy(a, in + k, sizeof a);
    tli_sigmoid_block(b, a);
    memcpy(out + k, b, sizeof b);
  }
  if (k < n) {
    memset(a, 0, sizeof a);
    memcpy(a, in + k, (n - k) * sizeof(float));
    tli_sigmoid_block(b, a);
    memcpy(out + k, b, (n - k) * sizeof(float));
  }
}

static inline void tli_tanh_array(float *out, const float *in, size_t n) {
  size_t k = 0;
  float a[TLI_VLEN], b[TLI_VLEN];
  for (; k + TLI_VLEN <= n; k += TLI_VLEN) {
    memcpy(a, in + k, sizeof a);
    tli_tanh_block(b, a);
    memcpy(out + k, b, sizeof b);
  }
  if (k < n) {
    memset(a, 0, sizeof a);
    memcpy(a, in + k, (n - k) * sizeof(float));
    tli_tanh_block(b, a);
    memcpy(out + k, b, (n - k) * sizeof(float));
  }
}

#endif
