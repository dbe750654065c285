/* The layer table, indexed by kind (as KANN's operator list), the dispatch
 * through it and the helpers the kinds share. The kinds themselves are in
 * layer_<kind>.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "model/layer_ops.h"

static const tli_layer_ops *const table[TLI_LAYER_KINDS] = {
    [TLI_LAYER_EMBEDDING] = &tli_layer_embedding_ops,
    [TLI_LAYER_LSTM] = &tli_layer_lstm_ops,
    [TLI_LAYER_LINEAR] = &tli_layer_linear_ops,
    [TLI_LAYER_DROPOUT] = &tli_layer_dropout_ops,
    [TLI_LAYER_CONCAT_POOL] = &tli_layer_concat_pool_ops,
    [TLI_LAYER_DECODER] = &tli_layer_decoder_ops,
    [TLI_LAYER_GRU] = &tli_layer_gru_ops,
    [TLI_LAYER_BATCHNORM] = &tli_layer_batchnorm_ops,
};

const tli_layer_ops *tli_layer_ops_for(tli_layer_kind kind) {
  return table[kind];
}

tl_status tli_layer_out_shape(const tl_model *m, const tli_layer *L,
                              size_t *out_dims, size_t *out_ndim,
                              const size_t *in_dims, size_t in_ndim) {
  memcpy(out_dims, in_dims, in_ndim * sizeof(size_t));
  *out_ndim = in_ndim;
  return table[L->kind]->out_shape(m, L, out_dims, out_ndim, in_dims, in_ndim);
}

tl_status tli_layer_forward(tl_model *m, tli_layer *L, const float *x,
                            const int64_t *ids) {
  L->x = x;
  return table[L->kind]->forward(m, L, x, ids);
}

tl_status tli_layer_backward(tl_model *m, tli_layer *L, float *dy,
                             int want_dx) {
  return table[L->kind]->backward(m, L, dy, want_dx);
}

void tli_layer_release_training(tli_layer *L) {
  table[L->kind]->release_training(L);
}

size_t tli_layer_carried_state(const tli_layer *L, size_t *depth) {
  const tli_layer_ops *ops = table[L->kind];
  *depth = 0;
  return ops->carried_state ? ops->carried_state(L, depth) : 0;
}

size_t tli_layer_forward_carry(const tl_model *m, const tli_layer *L,
                               size_t *depth) {
  const tli_layer_ops *ops = table[L->kind];
  *depth = 0;
  if (ops->state_parts == 0 || m->carry == TLI_CARRY_NONE)
    return 0;
  const size_t own = ops->carried_state(L, depth);
  return m->carry == TLI_CARRY_ALL ? ops->state_parts : own;
}

void tli_layer_release_common_training(tli_layer *L) {
  tli_buf_release(&L->state0);
  tli_buf_release(&L->dx);
  tli_buf_release(&L->mask);
  tli_buf_release(&L->reserve);
  tli_buf_release(&L->tap);
  L->tap_pending = 0;
}

void tli_layer_release_scratch(tli_layer *L) {
  tli_layer_release_common_training(L);
  tli_buf_release(&L->work);
}

void tli_layer_release_all(tli_layer *L) {
  tli_layer_release_training(L);
  tli_layer_release_common_training(L);
  tli_buf_release(&L->out);
  tli_buf_release(&L->work);
  tli_buf_release(&L->aux);
  tli_buf_release(&L->state);
  tli_free(L->argmax);
  L->argmax = NULL;
  L->argmax_cap = 0;
}

size_t tli_dims_prod(const size_t *d, size_t n) {
  size_t p = 1;
  for (size_t i = 0; i < n; i++)
    p *= d[i];
  return p;
}

int tli_model_training(const tl_model *m) {
  return m->training && m->mode == TL_MODEL_MODE_FINE_TUNE;
}

tl_status tli_layer_state_for_batch(tli_layer *L, size_t parts, size_t depth,
                                    float **out) {
  const size_t B = L->in_dims[1], sn = parts * depth * B * L->out_features;
  if (L->state_batch != B) {
    TLI_TRY(tli_buf_reserve_discard(&L->state, sn, "carried state"));
    memset(L->state.p, 0, sn * sizeof(float));
    L->state_batch = B;
  }
  *out = L->state.p;
  return TL_OK;
}

size_t tli_layer_recurrent_params(const tli_layer *L, tli_param_spec *specs,
                                  size_t num_layers, size_t gates) {
  static const char *const kinds[4] = {"weight_ih_l", "weight_hh_l",
                                       "bias_ih_l", "bias_hh_l"};
  const size_t H = L->out_features;
  const double bound = 1.0 / sqrt((double)H);
  for (size_t k = 0; k < num_layers; k++)
    for (size_t j = 0; j < 4; j++) {
      tli_param_spec *s = &specs[4 * k + j];
      snprintf(s->suffix, sizeof s->suffix, "%s%zu", kinds[j], k);
      s->init = TLI_INIT_UNIFORM;
      s->bound = bound;
      s->dims[0] = gates * H;
      s->ndim = j < 2 ? 2 : 1;
      s->dims[1] = j == 0 ? (k == 0 ? L->in_features : H) : H;
    }
  return 4 * num_layers;
}

tl_status tli_layer_recurrent_out_shape(const tl_model *m, const tli_layer *L,
                                        size_t *out_dims, size_t *out_ndim,
                                        const size_t *in_dims, size_t in_ndim) {
  (void)m;
  (void)out_ndim;
  const char *kind = table[L->kind]->kind_name;
  TLI_CHECK(in_ndim == 3, TL_E_SHAPE,
            "layer '%s' (%s) needs (T, B, %zu) input, got %zu dims", L->name,
            kind, L->in_features, in_ndim);
  TLI_CHECK(in_dims[2] == L->in_features, TL_E_SHAPE,
            "layer '%s' (%s) needs %zu input features, got %zu", L->name, kind,
            L->in_features, in_dims[2]);
  out_dims[2] = L->out_features;
  return TL_OK;
}
