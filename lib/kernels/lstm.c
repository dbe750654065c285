/* One LSTM layer forward (training, inference, single step) and weight drop.
 * Shape of the work: one GEMM projects the inputs of all T steps at once,
 * one GEMM per step adds the recurrence, a fused pass applies the gate
 * math. See lstm.h for the contract and docs/kernels.md for the layout. */
#include "kernels/lstm.h"

#include <assert.h>
#include <string.h>

#include "core/blas.h"
#include "kernels/lstm_layout.h"
#include "kernels/lstm_math.h"

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

/* rows x 4H gate pre-activations <- b_ih + b_hh (0 without biases), the
 * starting value the input-projection GEMM accumulates onto. */
static void tli_lstm_fill_bias(float *gates, size_t rows, size_t H,
                               const tli_lstm_params *p) {
  const size_t G = 4 * H;
  if (p->b_ih == NULL && p->b_hh == NULL) {
    memset(gates, 0, rows * G * sizeof(float));
    return;
  }
  for (size_t j = 0; j < G; j++)
    gates[j] = (p->b_ih ? p->b_ih[j] : 0.0f) + (p->b_hh ? p->b_hh[j] : 0.0f);
  for (size_t r = 1; r < rows; r++)
    memcpy(gates + r * G, gates, G * sizeof(float));
}

/* Pre-activations of all T steps' input part: G = bias + X W_ih^T. */
static void tli_lstm_project_inputs(const tli_lstm_dims *d,
                                    const tli_lstm_params *p, const float *x,
                                    float *gates) {
  const size_t rows = d->T * d->B, H = d->hidden_size;
  tli_lstm_fill_bias(gates, rows, H, p);
  tli_sgemm(0, 1, rows, 4 * H, d->input_size, 1.0f, x, d->input_size, p->w_ih,
            d->input_size, 1.0f, gates, 4 * H);
}

/* The fused gate math of one step for B rows. gates holds pre-activations
 * on entry and the activations i, f, g, o on exit. c_prev NULL means zeros;
 * c may alias c_prev. tanh_c may be NULL (inference keeps nothing). */
static void tli_lstm_cell(size_t B, size_t H, float *gates, const float *c_prev,
                          float *c, float *tanh_c, float *h) {
  float tc_buf[TLI_VLEN];
  for (size_t b = 0; b < B; b++) {
    float *gi = gates + b * 4 * H, *gf = gi + H, *gg = gi + 2 * H,
          *go = gi + 3 * H;
    /* i and f are adjacent: one sigmoid pass over 2H. */
    tli_sigmoid_array(gi, gi, 2 * H);
    tli_tanh_array(gg, gg, H);
    tli_sigmoid_array(go, go, H);
    const float *cp = c_prev ? c_prev + b * H : NULL;
    float *cb = c + b * H, *hb = h + b * H;
    float *tcb = tanh_c ? tanh_c + b * H : NULL;
    for (size_t j0 = 0; j0 < H; j0 += TLI_VLEN) {
      const size_t n = H - j0 < TLI_VLEN ? H - j0 : TLI_VLEN;
      float cv[TLI_VLEN] = {0};
      for (size_t k = 0; k < n; k++) {
        const size_t j = j0 + k;
        cv[k] = gi[j] * gg[j] + (cp ? gf[j] * cp[j] : 0.0f);
      }
      tli_tanh_array(tc_buf, cv, n);
      for (size_t k = 0; k < n; k++) {
        const size_t j = j0 + k;
        cb[j] = cv[k];
        hb[j] = go[j] * tc_buf[k];
        if (tcb)
          tcb[j] = tc_buf[k];
      }
    }
  }
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
      tli_sgemm(0, 1, B, 4 * H, H, 1.0f, h_prev, H, p->w_hh, H, 1.0f, g, 4 * H);
    tli_lstm_cell(B, H, g, c_prev, r.c + t * BH, r.tanh_c + t * BH,
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
  tli_lstm_project_inputs(d, p, x, gates);
  for (size_t t = 0; t < T; t++) {
    float *g = gates + t * B * 4 * H;
    /* h lives in y; c in one buffer updated in place. */
    const float *h_prev = t ? y + (t - 1) * BH : h0;
    const float *c_prev = t ? c : c0;
    if (h_prev != NULL)
      tli_sgemm(0, 1, B, 4 * H, H, 1.0f, h_prev, H, p->w_hh, H, 1.0f, g, 4 * H);
    tli_lstm_cell(B, H, g, c_prev, c, NULL, y + t * BH);
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
  tli_lstm_fill_bias(g, B, H, p);
  if (B == 1) {
    tli_sgemv(0, 4 * H, in, 1.0f, p->w_ih, in, x, 1.0f, g);
    tli_sgemv(0, 4 * H, H, 1.0f, p->w_hh, H, h, 1.0f, g);
  } else {
    tli_sgemm(0, 1, B, 4 * H, in, 1.0f, x, in, p->w_ih, in, 1.0f, g, 4 * H);
    tli_sgemm(0, 1, B, 4 * H, H, 1.0f, h, H, p->w_hh, H, 1.0f, g, 4 * H);
  }
  /* h was fully read by the products above, so it can be overwritten. */
  tli_lstm_cell(B, H, g, c, c, NULL, h);
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
