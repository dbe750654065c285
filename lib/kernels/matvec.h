/* Internal: products of a few input rows with one or two weight matrices,
 * for what sgemm does badly: one time step of a few sequences (streaming
 * inference, the per-step recurrence at a small batch, a one-row linear
 * layer), where OpenBLAS packs the whole weight on every call. Up to
 * TLI_MATVEC_MAX_ROWS input rows the callers use it instead of sgemm.
 * Every output element is one dot product accumulated lane-wise in k order
 * and then summed over the lanes in a fixed order: its bits depend neither
 * on the other rows nor on the instruction set picked at run time. */
#ifndef TLI_KERNELS_MATVEC_H
#define TLI_KERNELS_MATVEC_H

#include <stddef.h>

/* The largest number of input rows the callers give tli_matvec_rows (it
 * is bound by arithmetic, about 6 us per row at 128 x 512 here, and sgemm
 * wins above). */
#define TLI_MATVEC_MAX_ROWS 8

/* y (B, N) = x1 (B, k1) W1^T + x2 (B, k2) W2^T, W1 (N, k1) and W2 (N, k2)
 * row-major (w2 NULL: only the first product; x2 and k2 are then
 * ignored); with add, each sum is added to y's value instead
 * (y + dot, rounded once more). k1 >= 1. */
void tli_matvec_rows(size_t B, size_t N, const float *w1, size_t k1,
                     const float *x1, const float *w2, size_t k2,
                     const float *x2, float *y, int add);

#endif
