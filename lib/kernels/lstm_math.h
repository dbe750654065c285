/* Internal: the LSTM's fused gate math on blocks of TLI_VLEN floats, with
 * GCC/Clang vector extensions so the code is SIMD at any optimisation level
 * and on any target. exp comes from a Cody-Waite range reduction and the
 * cephes expf polynomial (about 1 ulp) instead of a libm call per element;
 * tanh switches to an odd polynomial near 0 where the exp form would lose
 * relative accuracy. Errors stay far below the 1e-5 relative tolerance
 * against PyTorch (tests/kernels_lstm checks them against libm in double).
 * Without -ffast-math and in ISO C mode (no FMA contraction) every clone
 * computes the same bits. */
#ifndef TLI_KERNELS_LSTM_MATH_H
#define TLI_KERNELS_LSTM_MATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/cpu.h"

/* Clang refuses 32-byte vector arguments, even to always-inlined helpers,
 * when the baseline target lacks AVX; it gets 4-float (SSE) blocks there,
 * which compute the same values. */
#if defined(__clang__) && defined(__x86_64__) && !defined(__AVX__)
#define TLI_VLEN 4
#else
#define TLI_VLEN 8
#endif

/* The vectors are 8 floats (4 under clang without AVX): one AVX register,
 * two SSE ones. Helpers taking
 * or returning them are static and always inlined, so the ABI note GCC gives
 * for 32-byte vectors without AVX (-Wpsabi) concerns no real call. The hot
 * loops that use them are compiled twice on x86-64 (AVX2 and the baseline)
 * and picked per call (core/cpu.h: no ifunc, so sanitizers work). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define TLI_VINLINE static inline __attribute__((always_inline))

typedef float tli_vf __attribute__((vector_size(TLI_VLEN * sizeof(float))));
typedef int32_t tli_vi __attribute__((vector_size(TLI_VLEN * sizeof(int32_t))));

/* Loads / stores n <= TLI_VLEN floats; the missing lanes read as 0. */
TLI_VINLINE tli_vf tli_vload(const float *p, size_t n) {
  tli_vf v = {0};
  if (n == TLI_VLEN)
    memcpy(&v, p, sizeof v);
  else
    memcpy(&v, p, n * sizeof(float));
  return v;
}

TLI_VINLINE void tli_vstore(float *p, tli_vf v, size_t n) {
  if (n == TLI_VLEN)
    memcpy(p, &v, sizeof v);
  else
    memcpy(p, &v, n * sizeof(float));
}

/* mask ? a : b, lane-wise (mask lanes all ones or all zeros). */
TLI_VINLINE tli_vf tli_vselect(tli_vi mask, tli_vf a, tli_vf b) {
  return (tli_vf)((mask & (tli_vi)a) | (~mask & (tli_vi)b));
}

/* exp(x), inputs clamped to where the result is a normal float (no inf or
 * denormal slow paths; sigmoid and tanh saturate there anyway). */
TLI_VINLINE tli_vf tli_vexp(tli_vf x) {
  const tli_vf zero = {0}, lo = zero - 87.0f, hi = zero + 88.0f;
  x = tli_vselect(x < lo, lo, x);
  x = tli_vselect(x > hi, hi, x);
  /* n = round(x / ln2) by the 1.5*2^23 trick: t's low mantissa bits hold
   * n, which then becomes the exponent field of 2^n. */
  const tli_vf t = x * 1.44269504088896341f + 12582912.0f;
  const tli_vf n = t - 12582912.0f;
  const tli_vf r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  const tli_vi e = ((tli_vi)t - 0x4B400000 + 127) << 23;
  tli_vf p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * (tli_vf)e;
}

/* sigmoid(x) = 1 / (1 + exp(-x)): no cancellation anywhere. */
TLI_VINLINE tli_vf tli_vsigmoid(tli_vf x) {
  return 1.0f / (1.0f + tli_vexp(-x));
}

/* tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|), for |x| >= 0.25
 * (1 - e >= 0.39: little cancellation); the odd Taylor polynomial to x^13
 * below (truncation < 1e-9 relative there). */
TLI_VINLINE tli_vf tli_vtanh(tli_vf x) {
  const tli_vi sign = (tli_vi)x & (int32_t)0x80000000;
  const tli_vf a = (tli_vf)((tli_vi)x & 0x7FFFFFFF);
  const tli_vf e = tli_vexp(-2.0f * a);
  const tli_vf big = (tli_vf)((tli_vi)((1.0f - e) / (1.0f + e)) | sign);
  const tli_vf x2 = x * x;
  tli_vf p = x2 * (21844.0f / 6081075.0f) - 1382.0f / 155925.0f;
  p = p * x2 + 62.0f / 2835.0f;
  p = p * x2 - 17.0f / 315.0f;
  p = p * x2 + 2.0f / 15.0f;
  p = p * x2 - 1.0f / 3.0f;
  const tli_vf small = x + x * x2 * p;
  return tli_vselect(a < 0.25f, small, big);
}

#endif
