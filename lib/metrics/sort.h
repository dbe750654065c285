/* Internal: sorting float64 values, optionally carrying a second array
 * along (weights), for the Wasserstein functions. */
#ifndef TLI_METRICS_SORT_H
#define TLI_METRICS_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts keys[0..n) ascending (keys must not be NaN; -0.0 sorts before 0.0)
 * and applies the same permutation to payload[0..n) unless payload is NULL.
 * work_keys holds 2n uint64s; work_payload n doubles (unused when payload
 * is NULL). Stable. LSD radix sort on the order-preserving integer image of
 * each double: O(n), allocation-free, about 10x faster than qsort at 1e6. */
void tli_sort_f64(double *keys, double *payload, size_t n, uint64_t *work_keys,
                  double *work_payload);

#endif
