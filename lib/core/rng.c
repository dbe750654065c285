#include "core/rng.h"

#include <math.h>

static uint64_t tli_splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static uint64_t tli_rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void tli_rng_seed(tli_rng *rng, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = tli_splitmix64(&x);
}

uint64_t tli_rng_next(tli_rng *rng) {
  uint64_t *s = rng->s;
  const uint64_t result = tli_rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = tli_rotl(s[3], 45);
  return result;
}

double tli_rng_uniform(tli_rng *rng) {
  return (double)(tli_rng_next(rng) >> 11) * 0x1.0p-53;
}

float tli_rng_uniform_f(tli_rng *rng) {
  return (float)(tli_rng_next(rng) >> 40) * 0x1.0p-24f;
}

uint64_t tli_rng_below(tli_rng *rng, uint64_t n) {
  /* Rejection keeps the result unbiased: draws below 2^64 mod n are dropped
   * so the remaining range is a whole number of copies of [0, n). */
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t x = tli_rng_next(rng);
    if (x >= threshold)
      return x % n;
  }
}

double tli_rng_normal(tli_rng *rng) {
  /* Box-Muller on (0, 1] x [0, 1): 1 - u avoids log(0). */
  const double u1 = 1.0 - tli_rng_uniform(rng);
  const double u2 = tli_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

int tli_rng_bernoulli(tli_rng *rng, double p) {
  return tli_rng_uniform(rng) < p;
}

void tli_rng_jump(tli_rng *rng) {
  static const uint64_t jump[] = {
      UINT64_C(0x180ec6d33cfd0aba), UINT64_C(0xd5a61266f0c9392c),
      UINT64_C(0xa9582618e03fc9aa), UINT64_C(0x39abdc4529b1661c)};
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int i = 0; i < 4; i++) {
    for (int b = 0; b < 64; b++) {
      if (jump[i] & (UINT64_C(1) << b)) {
        s0 ^= rng->s[0];
        s1 ^= rng->s[1];
        s2 ^= rng->s[2];
        s3 ^= rng->s[3];
      }
      tli_rng_next(rng);
    }
  }
  rng->s[0] = s0;
  rng->s[1] = s1;
  rng->s[2] = s2;
  rng->s[3] = s3;
}
