/* L stacked LSTM layers (torch.nn.LSTM(num_layers=L)) with optional locked
 * dropout between layers, built on the one-layer kernels. The reserve holds
 * each layer's one-layer reserve, then one (T,B,H) buffer per boundary for
 * the dropped-out input of the next layer (used only when that boundary has
 * a mask). Layer k's output h is read straight from its reserve. */
#include <assert.h>
#include <string.h>

#include "kernels/lstm.h"
#include "kernels/lstm_layout.h"

static tli_lstm_dims tli_lstm_layer_dims(const tli_lstm_dims *d, size_t k) {
  tli_lstm_dims dk = *d;
  if (k > 0)
    dk.input_size = d->hidden_size;
  return dk;
}

size_t tli_lstm_stack_reserve_size(const tli_lstm_dims *d, size_t L) {
  const size_t n = d->T * d->B * d->hidden_size;
  return L * TLI_LSTM_RESERVE_PER_STEP * n + (L - 1) * n;
}

size_t tli_lstm_stack_backward_workspace_size(const tli_lstm_dims *d, size_t L,
                                              int weight_drop) {
  /* The largest one-layer workspace (layer 0's when input_size > H), plus
   * two (T,B,H) buffers passing dL/dy down the stack. */
  size_t ws = tli_lstm_backward_workspace_size(d, weight_drop);
  if (L > 1) {
    const tli_lstm_dims d1 = tli_lstm_layer_dims(d, 1);
    const size_t ws1 = tli_lstm_backward_workspace_size(&d1, weight_drop);
    ws = ws1 > ws ? ws1 : ws;
  }
  return ws + 2 * d->T * d->B * d->hidden_size;
}

static float *tli_lstm_layer_reserve(const tli_lstm_dims *d, size_t k,
                                     const float *reserve) {
  return (float *)reserve +
         k * TLI_LSTM_RESERVE_PER_STEP * d->T * d->B * d->hidden_size;
}

static const float *tli_lstm_mask_at(const float *const *masks, size_t k) {
  return masks ? masks[k] : NULL;
}

/* The input layer k read in the forward: x, layer k-1's h, or its dropped-out
 * copy. */
static const float *tli_lstm_layer_input(const tli_lstm_dims *d, size_t L,
                                         size_t k,
                                         const float *const *drop_masks,
                                         const float *x, const float *reserve) {
  if (k == 0)
    return x;
  const size_t n = d->T * d->B * d->hidden_size;
  if (tli_lstm_mask_at(drop_masks, k - 1) != NULL)
    return tli_lstm_layer_reserve(d, L, reserve) + (k - 1) * n;
  const tli_lstm_dims dk = tli_lstm_layer_dims(d, k - 1);
  return tli_lstm_reserve_view(&dk, tli_lstm_layer_reserve(d, k - 1, reserve))
      .h;
}

/* out[t,b,j] = in[t,b,j] * mask[b,j]: the same mask at every step. */
static void tli_lstm_locked_mask(float *out, const float *in, const float *mask,
                                 size_t T, size_t BH) {
  for (size_t t = 0; t < T; t++)
    for (size_t k = 0; k < BH; k++)
      out[t * BH + k] = in[t * BH + k] * mask[k];
}

void tli_lstm_stack_forward_train(const tli_lstm_dims *d, size_t L,
                                  const tli_lstm_params *params,
                                  const float *const *drop_masks,
                                  const float *x, const float *h0,
                                  const float *c0, float *y, float *hN,
                                  float *cN, float *reserve) {
  assert(L >= 1 && params != NULL && reserve != NULL);
  const size_t BH = d->B * d->hidden_size;
  for (size_t k = 0; k < L; k++) {
    const tli_lstm_dims dk = tli_lstm_layer_dims(d, k);
    if (k > 0 && tli_lstm_mask_at(drop_masks, k - 1) != NULL) {
      const tli_lstm_dims dp = tli_lstm_layer_dims(d, k - 1);
      const float *h_prev_layer =
          tli_lstm_reserve_view(&dp, tli_lstm_layer_reserve(d, k - 1, reserve))
              .h;
      float *masked =
          (float *)tli_lstm_layer_input(d, L, k, drop_masks, x, reserve);
      tli_lstm_locked_mask(masked, h_prev_layer, drop_masks[k - 1], d->T, BH);
    }
    const float *in = tli_lstm_layer_input(d, L, k, drop_masks, x, reserve);
    tli_lstm_forward_train(&dk, &params[k], in, h0 ? h0 + k * BH : NULL,
                           c0 ? c0 + k * BH : NULL, k + 1 == L ? y : NULL,
                           hN ? hN + k * BH : NULL, cN ? cN + k * BH : NULL,
                           tli_lstm_layer_reserve(d, k, reserve));
  }
}

void tli_lstm_stack_backward(
    const tli_lstm_dims *d, size_t L, const tli_lstm_params *params,
    const float *const *drop_masks, const float *const *w_hh_masks,
    const float *x, const float *h0, const float *c0, const float *reserve,
    const float *dy, const float *dhN, const float *dcN, float *dx, float *dh0,
    float *dc0, tli_lstm_grads *grads, float *workspace) {
  assert(L >= 1 && params != NULL && reserve != NULL && workspace != NULL);
  const size_t n = d->T * d->B * d->hidden_size, BH = d->B * d->hidden_size;
  float *dy_buf[2] = {workspace, workspace + n};
  float *layer_ws = workspace + 2 * n;
  const float *dy_k = dy;
  for (size_t k = L; k-- > 0;) {
    const tli_lstm_dims dk = tli_lstm_layer_dims(d, k);
    float *dx_k = k ? dy_buf[k % 2] : dx;
    tli_lstm_backward_args a = {
        .x = tli_lstm_layer_input(d, L, k, drop_masks, x, reserve),
        .h0 = h0 ? h0 + k * BH : NULL,
        .c0 = c0 ? c0 + k * BH : NULL,
        .reserve = tli_lstm_layer_reserve(d, k, reserve),
        .dy = dy_k,
        .dhN = dhN ? dhN + k * BH : NULL,
        .dcN = dcN ? dcN + k * BH : NULL,
        .w_hh_mask = tli_lstm_mask_at(w_hh_masks, k),
        .dx = dx_k,
        .dh0 = dh0 ? dh0 + k * BH : NULL,
        .dc0 = dc0 ? dc0 + k * BH : NULL,
    };
    tli_lstm_backward(&dk, &params[k], &a, grads ? &grads[k] : NULL, layer_ws);
    if (k > 0) {
      const float *mask = tli_lstm_mask_at(drop_masks, k - 1);
      if (mask != NULL)
        tli_lstm_locked_mask(dx_k, dx_k, mask, d->T, BH);
      dy_k = dx_k;
    }
  }
}
