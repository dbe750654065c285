/* One LSTM layer forward (training, inference, single step) and weight drop.
 * Shape of the work: one GEMM projects the inputs of all T steps at once,
 * one GEMM per step adds the recurrence (in slices of W_hh when it is
 * large; matrix-vector products for a batch of a few sequences, and for
 * a whole step of them), a fused pass adds the biases and applies the gate
 * math. See lstm.h
 * for the contract and docs/kernels.md for the layout. */
#include "kernels/lstm.h"

#include <assert.h>
#include <string.h>

#include "core/blas.h"
#include "kernels/lstm_layout.h"
#include "kernels/lstm_math.h"
#include "kernels/matvec.h"

size_t tli_lstm_reserve_size(const tli_lstm_dims *d) {
  return TLI_LSTM_RESERVE_PER_STEP * d->T * d->B * d->hidden_size;
}

size_t tli_lstm_infer_workspace_size(const tli_lstm_dims *d) {
  return 4 * d->T * d->B * d->hidden_size + d->B * d->hidden_size;
}

size_t tli_lstm_step_workspace_size(const tli_lstm_dims *d) {
  return 4 * d->B * d->hidden_size;
}

void tli_lstm_assert_dims(const tli_lstm_dims *d, const tli_lstm_params *p) {
  (void)d;
  (void)p;
  assert(d != NULL && p != NULL);
  assert(d->T >= 1 && d->B >= 1 && d->input_size >= 1 && d->hidden_size >= 1);
  assert(p->w_ih != NULL && p->w_hh != NULL);
#ifndef NDEBUG
  const size_t blas_dims[] = {d->T * d->B, 4 * d->hidden_size, d->input_size};
  assert(tli_blas_dims_ok(blas_dims, 3));
#endif
}

/* Rows of W_hh per slice: about 1 MB of weight, a multiple of 16 rows. */
static size_t tli_lstm_slice_rows(size_t H) {
  const size_t rows = ((size_t)1 << 18) / H / 16 * 16;
  return rows < 64 ? 64 : rows;
}

void tli_lstm_recurrent_forward(size_t B, size_t H, const float *h_prev,
                                const float *w_hh, float *gates) {
  const size_t G = 4 * H, step = tli_lstm_slice_rows(H);
  if (B <= TLI_MATVEC_MAX_ROWS) { /* a small batch: no packing per step */
    tli_matvec_rows(B, G, w_hh, H, h_prev, NULL, 0, NULL, gates, 1);
    return;
  }
  for (size_t r = 0; r < G; r += step) {
    const size_t n = G - r < step ? G - r : step;
    tli_sgemm(0, 1, B, n, H, 1.0f, h_prev, H, w_hh + r * H, H, 1.0f, gates + r,
              G);
  }
}

void tli_lstm_recurrent_backward(size_t B, size_t H, const float *dgates,
                                 const float *w_hh, float *dh) {
  const size_t G = 4 * H, step = tli_lstm_slice_rows(H);
  for (size_t r = 0; r < G; r += step) {
    const size_t n = G - r < step ? G - r : step;
    tli_sgemm(0, 0, B, H, n, 1.0f, dgates + r, G, w_hh + r * H, H,
              r ? 1.0f : 0.0f, dh, H);
  }
}

/* Pre-activations of all T steps' input part: G = X W_ih^T (the biases are
 * added by the cell, which saves writing and re-reading a T*B x 4H bias
 * image). */
static void tli_lstm_project_inputs(const tli_lstm_dims *d,
                                    const tli_lstm_params *p, const float *x,
                                    float *gates) {
  const size_t rows = d->T * d->B, H = d->hidden_size;
  tli_sgemm(0, 1, rows, 4 * H, d->input_size, 1.0f, x, d->input_size, p->w_ih,
            d->input_size, 0.0f, gates, 4 * H);
}

/* ---- one step of a few sequences ----------------------------------------
 * gates (B, 4H) = x W_ih^T + h W_hh^T (no bias; h NULL: zeros) by
 * kernels/matvec.h instead of sgemm, which would pack both weights on every
 * call. */
static void tli_lstm_gates_mv(size_t B, size_t in, size_t H,
                              const tli_lstm_params *p, const float *x,
                              const float *h, float *gates) {
  tli_matvec_rows(B, 4 * H, p->w_ih, in, x, h ? p->w_hh : NULL, H, h, gates, 0);
}

/* b_ih + b_hh for gate rows [j, j+n), zeros for absent biases. */
TLI_VINLINE tli_vf tli_lstm_bias(const tli_lstm_params *p, size_t j, size_t n) {
  tli_vf b = {0};
  if (p->b_ih != NULL)
    b = tli_vload(p->b_ih + j, n);
  if (p->b_hh != NULL)
    b = b + tli_vload(p->b_hh + j, n);
  return b;
}

/* The fused gate math of one step for B rows. gates holds pre-activations
 * without bias on entry and the activations i, f, g, o on exit. c_prev NULL
 * means zeros; c may alias c_prev. tanh_c may be NULL (inference keeps
 * nothing). */
TLI_CPU_BODY void tli_lstm_cell_body(size_t B, size_t H,
                                     const tli_lstm_params *p, float *gates,
                                     const float *c_prev, float *c,
                                     float *tanh_c, float *h) {
  for (size_t b = 0; b < B; b++) {
    float *gi = gates + b * 4 * H, *gf = gi + H, *gg = gi + 2 * H,
          *go = gi + 3 * H;
    const float *cp = c_prev ? c_prev + b * H : NULL;
    float *cb = c + b * H, *hb = h + b * H;
    float *tcb = tanh_c ? tanh_c + b * H : NULL;
    for (size_t j = 0; j < H; j += TLI_VLEN) {
      const size_t n = H - j < TLI_VLEN ? H - j : TLI_VLEN;
      const tli_vf i =
          tli_vsigmoid(tli_vload(gi + j, n) + tli_lstm_bias(p, j, n));
      const tli_vf f =
          tli_vsigmoid(tli_vload(gf + j, n) + tli_lstm_bias(p, H + j, n));
      const tli_vf g =
          tli_vtanh(tli_vload(gg + j, n) + tli_lstm_bias(p, 2 * H + j, n));
      const tli_vf o =
          tli_vsigmoid(tli_vload(go + j, n) + tli_lstm_bias(p, 3 * H + j, n));
      tli_vf cv = i * g;
      if (cp != NULL)
        cv = f * tli_vload(cp + j, n) + cv;
      const tli_vf tc = tli_vtanh(cv);
      tli_vstore(gi + j, i, n);
      tli_vstore(gf + j, f, n);
      tli_vstore(gg + j, g, n);
      tli_vstore(go + j, o, n);
      tli_vstore(cb + j, cv, n);
      tli_vstore(hb + j, o * tc, n);
      if (tcb != NULL)
        tli_vstore(tcb + j, tc, n);
    }
  }
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static void
tli_lstm_cell_avx2(size_t B, size_t H, const tli_lstm_params *p, float *gates,
                   const float *c_prev, float *c, float *tanh_c, float *h) {
  tli_lstm_cell_body(B, H, p, gates, c_prev, c, tanh_c, h);
}
#endif

static void tli_lstm_cell(size_t B, size_t H, const tli_lstm_params *p,
                          float *gates, const float *c_prev, float *c,
                          float *tanh_c, float *h) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2()) {
    tli_lstm_cell_avx2(B, H, p, gates, c_prev, c, tanh_c, h);
    return;
  }
#endif
  tli_lstm_cell_body(B, H, p, gates, c_prev, c, tanh_c, h);
}

static void tli_lstm_copy_state(float *out, const float *src, size_t n) {
  if (out != NULL && out != src)
    memmove(out, src, n * sizeof(float));
}

void tli_lstm_forward_train(const tli_lstm_dims *d, const tli_lstm_params *p,
                            const float *x, const float *h0, const float *c0,
                            float *y, float *hN, float *cN, float *reserve) {
  tli_lstm_assert_dims(d, p);
  assert(x != NULL && reserve != NULL);
  const size_t T = d->T, B = d->B, H = d->hidden_size, BH = B * H;
  tli_lstm_reserve r = tli_lstm_reserve_view(d, reserve);
  tli_lstm_project_inputs(d, p, x, r.gates);
  for (size_t t = 0; t < T; t++) {
    float *g = r.gates + t * B * 4 * H;
    const float *h_prev = t ? r.h + (t - 1) * BH : h0;
    const float *c_prev = t ? r.c + (t - 1) * BH : c0;
    if (h_prev != NULL)
      tli_lstm_recurrent_forward(B, H, h_prev, p->w_hh, g);
    tli_lstm_cell(B, H, p, g, c_prev, r.c + t * BH, r.tanh_c + t * BH,
                  r.h + t * BH);
  }
  if (y != NULL)
    memcpy(y, r.h, T * BH * sizeof(float));
  tli_lstm_copy_state(hN, r.h + (T - 1) * BH, BH);
  tli_lstm_copy_state(cN, r.c + (T - 1) * BH, BH);
}

void tli_lstm_forward_infer(const tli_lstm_dims *d, const tli_lstm_params *p,
                            const float *x, const float *h0, const float *c0,
                            float *y, float *hN, float *cN, float *workspace) {
  tli_lstm_assert_dims(d, p);
  assert(x != NULL && y != NULL && workspace != NULL);
  const size_t T = d->T, B = d->B, H = d->hidden_size, BH = B * H;
  float *gates = workspace, *c = workspace + 4 * T * BH;
  if (T == 1 && B <= TLI_MATVEC_MAX_ROWS) { /* a step: tli_lstm_step's path */
    tli_lstm_gates_mv(B, d->input_size, H, p, x, h0, gates);
    tli_lstm_cell(B, H, p, gates, c0, c, NULL, y);
    tli_lstm_copy_state(hN, y, BH);
    tli_lstm_copy_state(cN, c, BH);
    return;
  }
  tli_lstm_project_inputs(d, p, x, gates);
  for (size_t t = 0; t < T; t++) {
    float *g = gates + t * B * 4 * H;
    /* h lives in y; c in one buffer updated in place. */
    const float *h_prev = t ? y + (t - 1) * BH : h0;
    const float *c_prev = t ? c : c0;
    if (h_prev != NULL)
      tli_lstm_recurrent_forward(B, H, h_prev, p->w_hh, g);
    tli_lstm_cell(B, H, p, g, c_prev, c, NULL, y + t * BH);
  }
  tli_lstm_copy_state(hN, y + (T - 1) * BH, BH);
  tli_lstm_copy_state(cN, c, BH);
}

void tli_lstm_step(const tli_lstm_dims *d, const tli_lstm_params *p,
                   const float *x, float *h, float *c, float *workspace) {
  assert(d != NULL && p != NULL && p->w_ih != NULL && p->w_hh != NULL);
  assert(x != NULL && h != NULL && c != NULL && workspace != NULL);
  const size_t B = d->B, H = d->hidden_size, in = d->input_size;
  float *g = workspace;
  if (B <= TLI_MATVEC_MAX_ROWS) {
    tli_lstm_gates_mv(B, in, H, p, x, h, g);
  } else {
    tli_sgemm(0, 1, B, 4 * H, in, 1.0f, x, in, p->w_ih, in, 0.0f, g, 4 * H);
    tli_lstm_recurrent_forward(B, H, h, p->w_hh, g);
  }
  /* h was fully read by the products above, so it can be overwritten. */
  tli_lstm_cell(B, H, p, g, c, c, NULL, h);
}

void tli_lstm_weight_drop(float *mask, float *w_dropped, const float *w_raw,
                          size_t n, float p, tli_rng *rng) {
  assert(mask != NULL && w_dropped != NULL && w_raw != NULL);
  assert(p >= 0.0f && p < 1.0f);
  if (p == 0.0f) {
    for (size_t k = 0; k < n; k++)
      mask[k] = 1.0f;
    memcpy(w_dropped, w_raw, n * sizeof(float));
    return;
  }
  assert(rng != NULL);
  const float scale = 1.0f / (1.0f - p);
  for (size_t k = 0; k < n; k++) {
    mask[k] = tli_rng_uniform_f(rng) < p ? 0.0f : scale;
    w_dropped[k] = w_raw[k] * mask[k];
  }
}
