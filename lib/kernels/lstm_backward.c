/* Backward of one LSTM layer through time. Per step (from T-1 down to 0):
 * the fused elementwise pass turns dh, dc into the gate gradients dG_t,
 * then one GEMM gives dh_{t-1} = dG_t W_hh. Weight and input gradients wait
 * until every dG_t is known and are then large GEMMs over all T*B rows;
 * bias gradients are summed per step while dG_t is still in cache. */
#include <assert.h>
#include <string.h>

#include "core/blas.h"
#include "kernels/lstm.h"
#include "kernels/lstm_layout.h"
#include "kernels/lstm_math.h"

size_t tli_lstm_backward_workspace_size(const tli_lstm_dims *d,
                                        int weight_drop) {
  const size_t H = d->hidden_size;
  return 4 * d->T * d->B * H + 2 * d->B * H + (weight_drop ? 4 * H * H : 0);
}

/* Gate gradients of one step for B rows. act: activations i,f,g,o (B,4H);
 * dh (B,H): dL/dh_t in full (output and recurrent parts); dc (B,H): dL/dc_t
 * from step t+1 on entry, dL/dc_{t-1} on exit. c_prev NULL means zeros. */
TLI_CPU_BODY void
tli_lstm_cell_backward_body(size_t B, size_t H, const float *act,
                            const float *c_prev, const float *tanh_c,
                            const float *dh, float *dc, float *dgates) {
  for (size_t b = 0; b < B; b++) {
    const float *i = act + b * 4 * H, *f = i + H, *g = i + 2 * H,
                *o = i + 3 * H;
    const float *tcb = tanh_c + b * H, *dhb = dh + b * H;
    const float *cp = c_prev ? c_prev + b * H : NULL;
    float *dcb = dc + b * H;
    float *di = dgates + b * 4 * H, *df = di + H, *dg = di + 2 * H,
          *d_o = di + 3 * H;
    for (size_t j = 0; j < H; j += TLI_VLEN) {
      const size_t n = H - j < TLI_VLEN ? H - j : TLI_VLEN;
      const tli_vf vi = tli_vload(i + j, n), vf = tli_vload(f + j, n);
      const tli_vf vg = tli_vload(g + j, n), vo = tli_vload(o + j, n);
      const tli_vf tc = tli_vload(tcb + j, n), dhv = tli_vload(dhb + j, n);
      const tli_vf dct = tli_vload(dcb + j, n) + dhv * vo * (1.0f - tc * tc);
      tli_vstore(di + j, dct * vg * vi * (1.0f - vi), n);
      const tli_vf cpv = cp ? tli_vload(cp + j, n) : (tli_vf){0};
      tli_vstore(df + j, dct * cpv * vf * (1.0f - vf), n);
      tli_vstore(dg + j, dct * vi * (1.0f - vg * vg), n);
      tli_vstore(d_o + j, dhv * tc * vo * (1.0f - vo), n);
      tli_vstore(dcb + j, dct * vf, n);
    }
  }
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static void
tli_lstm_cell_backward_avx2(size_t B, size_t H, const float *act,
                            const float *c_prev, const float *tanh_c,
                            const float *dh, float *dc, float *dgates) {
  tli_lstm_cell_backward_body(B, H, act, c_prev, tanh_c, dh, dc, dgates);
}
#endif

static void tli_lstm_cell_backward(size_t B, size_t H, const float *act,
                                   const float *c_prev, const float *tanh_c,
                                   const float *dh, float *dc, float *dgates) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2()) {
    tli_lstm_cell_backward_avx2(B, H, act, c_prev, tanh_c, dh, dc, dgates);
    return;
  }
#endif
  tli_lstm_cell_backward_body(B, H, act, c_prev, tanh_c, dh, dc, dgates);
}

/* dh (B,H) <- dy_t (or 0) + recurrent part (or dhN, or 0). */
static void tli_lstm_total_dh(float *dh, const float *dy_t, const float *rec,
                              size_t n) {
  if (rec == NULL)
    memset(dh, 0, n * sizeof(float));
  else if (rec != dh)
    memcpy(dh, rec, n * sizeof(float));
  if (dy_t != NULL)
    for (size_t k = 0; k < n; k++)
      dh[k] += dy_t[k];
}

/* Bias gradients: dG_t's rows (B x 4H) added to both biases (they enter
 * the gates identically), while the rows are still in cache. */
TLI_CPU_BODY void tli_lstm_bias_grads_body(const float *dgates, size_t rows,
                                           size_t G, float *db_ih,
                                           float *db_hh) {
  if (db_ih == NULL && db_hh == NULL)
    return;
  for (size_t r = 0; r < rows; r++) {
    const float *row = dgates + r * G;
    for (size_t j = 0; j < G; j += TLI_VLEN) {
      const size_t n = G - j < TLI_VLEN ? G - j : TLI_VLEN;
      const tli_vf v = tli_vload(row + j, n);
      if (db_ih != NULL)
        tli_vstore(db_ih + j, tli_vload(db_ih + j, n) + v, n);
      if (db_hh != NULL)
        tli_vstore(db_hh + j, tli_vload(db_hh + j, n) + v, n);
    }
  }
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static void tli_lstm_bias_grads_avx2(const float *dgates,
                                                         size_t rows, size_t G,
                                                         float *db_ih,
                                                         float *db_hh) {
  tli_lstm_bias_grads_body(dgates, rows, G, db_ih, db_hh);
}
#endif

static void tli_lstm_bias_grads(const float *dgates, size_t rows, size_t G,
                                float *db_ih, float *db_hh) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2()) {
    tli_lstm_bias_grads_avx2(dgates, rows, G, db_ih, db_hh);
    return;
  }
#endif
  tli_lstm_bias_grads_body(dgates, rows, G, db_ih, db_hh);
}

/* dW_hh contribution sum_t dG_t^T h_{t-1} into out (beta 0 or 1): one GEMM
 * over steps 1..T-1 (h_0..h_{T-2} are contiguous in the reserve) and one for
 * step 0 with h0 (skipped when h0 is zero). */
static void tli_lstm_whh_grad(const tli_lstm_dims *d, const float *dgates,
                              const float *h_all, const float *h0, float beta,
                              float *out) {
  const size_t T = d->T, B = d->B, H = d->hidden_size, G = 4 * H;
  if (T > 1) {
    tli_sgemm(1, 0, G, H, (T - 1) * B, 1.0f, dgates + B * G, G, h_all, H, beta,
              out, H);
    beta = 1.0f;
  }
  if (h0 != NULL) {
    tli_sgemm(1, 0, G, H, B, 1.0f, dgates, G, h0, H, beta, out, H);
    beta = 1.0f;
  }
  if (beta == 0.0f) /* T == 1 and h0 == 0: no contribution */
    memset(out, 0, G * H * sizeof(float));
}

void tli_lstm_backward(const tli_lstm_dims *d, const tli_lstm_params *p,
                       const tli_lstm_backward_args *a, tli_lstm_grads *grads,
                       float *workspace) {
  tli_lstm_assert_dims(d, p);
  assert(a != NULL && a->x != NULL && a->reserve != NULL && workspace != NULL);
  const size_t T = d->T, B = d->B, H = d->hidden_size, in = d->input_size;
  const size_t BH = B * H, G = 4 * H;
  const tli_lstm_reserve r = tli_lstm_reserve_view(d, a->reserve);
  float *dgates = workspace;
  float *dh = dgates + T * B * G, *dc = dh + BH;

  if (a->dcN != NULL)
    memcpy(dc, a->dcN, BH * sizeof(float));
  else
    memset(dc, 0, BH * sizeof(float));
  const float *rec = a->dhN;
  for (size_t t = T; t-- > 0;) {
    float *dg_t = dgates + t * B * G;
    tli_lstm_total_dh(dh, a->dy ? a->dy + t * BH : NULL, rec, BH);
    const float *c_prev = t ? r.c + (t - 1) * BH : a->c0;
    tli_lstm_cell_backward(B, H, r.gates + t * B * G, c_prev, r.tanh_c + t * BH,
                           dh, dc, dg_t);
    if (grads != NULL)
      tli_lstm_bias_grads(dg_t, B, G, grads->b_ih, grads->b_hh);
    /* dh_{t-1} = dG_t W_hh, written over dh (already consumed). Skipped at
     * t == 0 unless the caller wants dh0. */
    if (t > 0 || a->dh0 != NULL)
      tli_lstm_recurrent_backward(B, H, dg_t, p->w_hh, dh);
    rec = dh;
  }
  if (a->dh0 != NULL)
    memcpy(a->dh0, dh, BH * sizeof(float));
  if (a->dc0 != NULL)
    memcpy(a->dc0, dc, BH * sizeof(float));

  if (a->dx != NULL)
    tli_sgemm(0, 0, T * B, in, G, 1.0f, dgates, G, p->w_ih, in, 0.0f, a->dx,
              in);
  if (grads == NULL)
    return;
  if (grads->w_ih != NULL)
    tli_sgemm(1, 0, G, in, T * B, 1.0f, dgates, G, a->x, in, 1.0f, grads->w_ih,
              in);
  if (grads->w_hh != NULL) {
    if (a->w_hh_mask == NULL) {
      tli_lstm_whh_grad(d, dgates, r.h, a->h0, 1.0f, grads->w_hh);
    } else {
      /* The recurrence used W_raw * mask, so dL/dW_raw = mask * dL/dW_used:
       * form dL/dW_used in scratch, then accumulate it masked. */
      float *scratch = dc + BH;
      tli_lstm_whh_grad(d, dgates, r.h, a->h0, 0.0f, scratch);
      for (size_t k = 0; k < G * H; k++)
        grads->w_hh[k] += a->w_hh_mask[k] * scratch[k];
    }
  }
}
