/* Internal: the vectorised single passes behind tl_kl_divergence and the
 * Jensen-Shannon functions, compiled for several instruction sets and
 * picked per call by what the CPU has (tli_isa_best). Each pass only
 * computes; it reports whether every bin was in its fast domain, and the
 * callers in divergence.c redo anything else on their careful paths (which
 * also write the error messages). Thread-safe: no state. */
#ifndef TLI_METRICS_LOGSUMS_H
#define TLI_METRICS_LOGSUMS_H

#include <stddef.h>

/* The instruction sets a pass can be compiled for, in increasing order.
 * Results differ between them in the last bits (FMAs, summation width) but
 * are deterministic for each. */
typedef enum {
  TLI_ISA_BASE = 0,   /* the compiler's baseline (SSE2 on x86-64) */
  TLI_ISA_AVX2 = 1,   /* x86-64 AVX2 + FMA */
  TLI_ISA_AVX512 = 2, /* x86-64 AVX-512F + AVX2 + FMA */
} tli_isa;

/* The highest level this CPU runs (and this build has): TLI_ISA_BASE off
 * x86-64 or without GCC-compatible target attributes. */
tli_isa tli_isa_best(void);

/* KL in one pass: *sp = sum p, *sq = sum q, *s = sum p log(p/q), with
 * 0 log(0/q) = 0. Returns 1 when every p, q is finite and >= 0, and every
 * bin has p = 0 (with q = 0 or normal) or p and q normal (log(p/q) then
 * has < 2 ulp of error); else 0, and *s is meaningless. A zero or
 * overflowing sum is left to the caller. isa <= tli_isa_best(); n >= 1. */
int tli_kl_pass(tli_isa isa, const double *p, const double *q, size_t n,
                double *sp, double *sq, double *s);

/* Sums of a pair in one pass: returns 1 when every value is finite and
 * >= 0 and both sums are finite (they may be 0), else 0 (the sums are then
 * meaningless). isa <= tli_isa_best(). */
int tli_pair_sums(tli_isa isa, const double *p, const double *q, size_t n,
                  double *sp, double *sq);

/* 2 JS in nats of validated inputs with sums 1/ip and 1/iq: with x = p ip,
 * y = q iq, *sum = sum x log(2x/(x+y)) + y log(2y/(x+y)). Returns 1 when
 * every x and y was 0 or normal, else 0 (and *sum is meaningless).
 * isa <= tli_isa_best(). */
int tli_js_pass(tli_isa isa, const double *p, const double *q, size_t n,
                double ip, double iq, double *sum);

#endif
