/* Internal to lib/kernels/lstm*.c: where the training reserve keeps what the
 * backward needs, and the debug-build precondition check shared by the
 * forward and backward files. */
#ifndef TLI_KERNELS_LSTM_LAYOUT_H
#define TLI_KERNELS_LSTM_LAYOUT_H

#include "kernels/lstm.h"

/* Floats kept per (step, batch row, hidden unit): i, f, g, o, c, tanh(c), h. */
#define TLI_LSTM_RESERVE_PER_STEP 7

/* The reserve, split: gates (T, B, 4H) activations in gate order i, f, g, o
 * (the GEMM's row layout, so no reshuffle), then c, tanh(c) and h, each
 * (T, B, H). h doubles as the layer's output y and as H_prev for dW_hh. */
typedef struct tli_lstm_reserve {
  float *gates;
  float *c;
  float *tanh_c;
  float *h;
} tli_lstm_reserve;

static inline tli_lstm_reserve tli_lstm_reserve_view(const tli_lstm_dims *d,
                                                     const float *reserve) {
  const size_t n = d->T * d->B * d->hidden_size;
  float *base = (float *)reserve; /* const is restored by the readers */
  tli_lstm_reserve r = {base, base + 4 * n, base + 5 * n, base + 6 * n};
  return r;
}

/* The per-step recurrence products, gates (B,4H) += h_prev (B,H) W_hh^T and
 * dh (B,H) = dgates (B,4H) W_hh, done in slices of W_hh's 4H rows. OpenBLAS
 * packs the whole weight at every call; once W_hh outgrows the L2 cache that
 * packing streams it through memory three times per step. Slices of about
 * 1 MB keep the packed copy in cache (measured at B=32, H=1152: 46 -> 64
 * GFLOP/s; no change where W_hh fits, e.g. H <= 512). Up to
 * TLI_MATVEC_MAX_ROWS sequences the forward product runs kernels/matvec.h
 * instead (no packing at all). */
void tli_lstm_recurrent_forward(size_t B, size_t H, const float *h_prev,
                                const float *w_hh, float *gates);
void tli_lstm_recurrent_backward(size_t B, size_t H, const float *dgates,
                                 const float *w_hh, float *dh);

/* assert()s the shape and parameter preconditions (no-op under NDEBUG). */
void tli_lstm_assert_dims(const tli_lstm_dims *d, const tli_lstm_params *p);

#endif
