/* Internal: the seeded random number generator behind every random draw in
 * libtl (dropout masks, initialisation, sliced-Wasserstein directions).
 *
 * xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64: integer
 * streams are identical on every platform; uniform floats are derived from
 * the top bits exactly, so they are too. Normals use Box-Muller and so depend
 * on libm's log/sin/cos (bit-identical on one platform and libm). */
#ifndef TLI_CORE_RNG_H
#define TLI_CORE_RNG_H

#include <stdint.h>

typedef struct tli_rng {
  uint64_t s[4];
} tli_rng;

void tli_rng_seed(tli_rng *rng, uint64_t seed);
uint64_t tli_rng_next(tli_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double tli_rng_uniform(tli_rng *rng);
/* Uniform in [0, 1) with 24 random bits (exact in float). */
float tli_rng_uniform_f(tli_rng *rng);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t tli_rng_below(tli_rng *rng, uint64_t n);
/* Standard normal. */
double tli_rng_normal(tli_rng *rng);
/* 1 with probability p, else 0. */
int tli_rng_bernoulli(tli_rng *rng, double p);
/* Advances the stream by 2^128 draws: gives non-overlapping substreams. */
void tli_rng_jump(tli_rng *rng);

#endif
