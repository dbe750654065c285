#include "metrics/sort.h"

#include <string.h>

/* 11-bit digits: six passes cover 64 bits, and 2048 counters per digit stay
 * in L1. */
#define TLI_RADIX_BITS 11
#define TLI_RADIX_SIZE (1u << TLI_RADIX_BITS)
#define TLI_RADIX_PASSES 6

/* Flipping the sign bit of positives and every bit of negatives maps
 * IEEE-754 order onto unsigned integer order. */
static uint64_t tli_f64_to_key(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return (u & UINT64_C(0x8000000000000000)) ? ~u
                                            : u | UINT64_C(0x8000000000000000);
}

static double tli_key_to_f64(uint64_t k) {
  const uint64_t u = (k & UINT64_C(0x8000000000000000))
                         ? k & ~UINT64_C(0x8000000000000000)
                         : ~k;
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* Below this size insertion sort beats counting 6 x 2048 buckets. */
#define TLI_SMALL_SORT 64

static void tli_insertion_sort(double *keys, double *payload, size_t n) {
  for (size_t i = 1; i < n; i++) {
    const double k = keys[i];
    const double w = payload ? payload[i] : 0.0;
    size_t j = i;
    while (j > 0 && keys[j - 1] > k) {
      keys[j] = keys[j - 1];
      if (payload)
        payload[j] = payload[j - 1];
      j--;
    }
    keys[j] = k;
    if (payload)
      payload[j] = w;
  }
}

void tli_sort_f64(double *keys, double *payload, size_t n, uint64_t *work_keys,
                  double *work_payload) {
  if (n < TLI_SMALL_SORT) {
    tli_insertion_sort(keys, payload, n);
    return;
  }
  static const size_t passes = TLI_RADIX_PASSES;
  size_t count[TLI_RADIX_PASSES][TLI_RADIX_SIZE];
  memset(count, 0, sizeof count);
  uint64_t *src = work_keys, *dst = work_keys + n;
  for (size_t i = 0; i < n; i++) {
    const uint64_t k = tli_f64_to_key(keys[i]);
    src[i] = k;
    for (size_t p = 0; p < passes; p++)
      count[p][(k >> (p * TLI_RADIX_BITS)) & (TLI_RADIX_SIZE - 1)]++;
  }
  double *wsrc = payload, *wdst = work_payload;
  for (size_t p = 0; p < passes; p++) {
    size_t *c = count[p];
    const unsigned shift = (unsigned)(p * TLI_RADIX_BITS);
    /* A digit shared by every key (high exponent bits, usually) leaves the
     * order as it is: skip the pass. */
    if (c[(src[0] >> shift) & (TLI_RADIX_SIZE - 1)] == n)
      continue;
    size_t sum = 0;
    for (size_t b = 0; b < TLI_RADIX_SIZE; b++) {
      const size_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    if (wsrc) {
      for (size_t i = 0; i < n; i++) {
        const size_t at = c[(src[i] >> shift) & (TLI_RADIX_SIZE - 1)]++;
        dst[at] = src[i];
        wdst[at] = wsrc[i];
      }
      double *wt = wsrc;
      wsrc = wdst;
      wdst = wt;
    } else {
      for (size_t i = 0; i < n; i++)
        dst[c[(src[i] >> shift) & (TLI_RADIX_SIZE - 1)]++] = src[i];
    }
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  for (size_t i = 0; i < n; i++)
    keys[i] = tli_key_to_f64(src[i]);
  if (payload && wsrc != payload)
    memcpy(payload, wsrc, n * sizeof *payload);
}
