/* Forward and backward of the layers other than the LSTM (lstm_layer.c):
 * embedding, linear, decoder, dropout and masked concat pooling, on top of
 * the stateless kernels. Shapes were validated by tli_layer_out_shape. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/linear.h"
#include "kernels/pool.h"
#include "model/model_internal.h"

static size_t prod(const size_t *d, size_t n) {
  size_t p = 1;
  for (size_t i = 0; i < n; i++)
    p *= d[i];
  return p;
}

static int training(const tl_model *m) {
  return m->training && m->mode == TL_MODEL_MODE_FINE_TUNE;
}

tl_status tli_layer_out_shape(const tl_model *m, const tli_layer *L,
                              size_t *out_dims, size_t *out_ndim,
                              const size_t *in_dims, size_t in_ndim) {
  const size_t last = in_dims[in_ndim - 1];
  memcpy(out_dims, in_dims, in_ndim * sizeof(size_t));
  *out_ndim = in_ndim;
  switch (L->kind) {
  case TLI_LAYER_EMBEDDING:
    TLI_CHECK(in_ndim < TL_MODEL_MAX_DIMS, TL_E_SHAPE,
              "layer '%s': ids may have at most %d dims", L->name,
              TL_MODEL_MAX_DIMS - 1);
    out_dims[in_ndim] = L->out_features;
    *out_ndim = in_ndim + 1;
    return TL_OK;
  case TLI_LAYER_LSTM:
    TLI_CHECK(in_ndim == 3, TL_E_SHAPE,
              "layer '%s' (LSTM) needs (T, B, %zu) input, got %zu dims",
              L->name, L->in_features, in_ndim);
    TLI_CHECK(last == L->in_features, TL_E_SHAPE,
              "layer '%s' (LSTM) needs %zu input features, got %zu", L->name,
              L->in_features, last);
    out_dims[2] = L->out_features;
    return TL_OK;
  case TLI_LAYER_LINEAR:
  case TLI_LAYER_DECODER:
    TLI_CHECK(last == L->in_features, TL_E_SHAPE,
              "layer '%s' (linear) needs %zu input features, got %zu", L->name,
              L->in_features, last);
    out_dims[in_ndim - 1] = L->out_features;
    return TL_OK;
  case TLI_LAYER_DROPOUT:
    TLI_CHECK(L->in_features == 0 || last == L->in_features, TL_E_SHAPE,
              "layer '%s' (dropout) needs %zu features, got %zu", L->name,
              L->in_features, last);
    return TL_OK;
  case TLI_LAYER_CONCAT_POOL:
    TLI_CHECK(in_ndim == 3, TL_E_SHAPE,
              "layer '%s' (concat pooling) needs (T, B, H) input, got %zu "
              "dims",
              L->name, in_ndim);
    TLI_CHECK(L->in_features == 0 || last == L->in_features, TL_E_SHAPE,
              "layer '%s' (concat pooling) needs %zu features, got %zu",
              L->name, L->in_features, last);
    TLI_CHECK(m->lengths == NULL || m->n_lengths == in_dims[1], TL_E_SHAPE,
              "layer '%s': %zu sequence lengths were set but the batch is %zu",
              L->name, m->n_lengths, in_dims[1]);
    if (m->lengths != NULL)
      for (size_t b = 0; b < m->n_lengths; b++)
        TLI_CHECK(m->lengths[b] <= in_dims[0], TL_E_SHAPE,
                  "layer '%s': lengths[%zu] = %zu exceeds T = %zu", L->name, b,
                  m->lengths[b], in_dims[0]);
    out_dims[0] = in_dims[1];
    out_dims[1] = 3 * last;
    *out_ndim = 2;
    return TL_OK;
  }
  return tli_fail(TL_E_INTERNAL, "layer '%s': unknown kind", L->name);
}

/* The weight a linear or decoder layer uses, its gradient (NULL when
 * frozen) and the bias with its gradient. */
static void linear_params(tl_model *m, const tli_layer *L, const float **w,
                          float **dw, const float **b, float **db) {
  size_t bias = L->first_param;
  if (L->tie_model != NULL) {
    tl_model *o = L->tie_model;
    const tli_param *p = &o->params[L->tie_param];
    *w = o->flat + p->offset;
    *dw = tli_param_is_trainable(o, L->tie_param) ? o->grad + p->offset : NULL;
  } else {
    const tli_param *p = &m->params[L->first_param];
    *w = m->flat + p->offset;
    *dw =
        tli_param_is_trainable(m, L->first_param) ? m->grad + p->offset : NULL;
    bias = L->first_param + 1;
  }
  *b = m->flat + m->params[bias].offset;
  *db =
      tli_param_is_trainable(m, bias) ? m->grad + m->params[bias].offset : NULL;
}

static tli_act act_of(tl_activation a) {
  switch (a) {
  case TL_ACTIVATION_RELU: return TLI_ACT_RELU;
  case TL_ACTIVATION_TANH: return TLI_ACT_TANH;
  case TL_ACTIVATION_SIGMOID: return TLI_ACT_SIGMOID;
  default: return TLI_ACT_IDENTITY;
  }
}

static tl_status pool_lengths(tl_model *m, tli_layer *L, size_t **lens) {
  const size_t T = L->in_dims[0], B = L->in_dims[1], H = L->in_dims[2];
  const size_t need = B * H + B;
  if (L->argmax_cap < need) {
    size_t *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, need, sizeof(size_t),
                              "concat pooling workspace"));
    tli_free(L->argmax);
    L->argmax = p;
    L->argmax_cap = need;
  }
  *lens = L->argmax + B * H;
  for (size_t b = 0; b < B; b++)
    (*lens)[b] = m->lengths ? m->lengths[b] : T;
  return TL_OK;
}

tl_status tli_layer_forward(tl_model *m, tli_layer *L, const float *x,
                            const int64_t *ids) {
  const size_t n_in = prod(L->in_dims, L->in_ndim);
  const size_t n_out = prod(L->out_dims, L->out_ndim);
  const int train = training(m);
  L->x = x;
  switch (L->kind) {
  case TLI_LAYER_EMBEDDING: {
    const tli_param *w = &m->params[L->first_param];
    const float *scale = NULL;
    TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "embedding output"));
    if (train && L->p > 0.0f) {
      TLI_TRY(
          tli_buf_reserve_discard(&L->mask, w->dims[0], "embedding dropout"));
      tli_dropout_mask(L->mask.p, w->dims[0], L->p, &m->rng);
      scale = L->mask.p;
    }
    tli_embedding_forward(L->out.p, m->flat + w->offset, scale, ids, n_in,
                          w->dims[1]);
    L->y = L->out.p;
    return TL_OK;
  }
  case TLI_LAYER_LSTM: return tli_lstm_layer_forward(m, L, x);
  case TLI_LAYER_LINEAR:
  case TLI_LAYER_DECODER: {
    const float *w, *b;
    float *dw, *db;
    linear_params(m, L, &w, &dw, &b, &db);
    TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "linear output"));
    tli_linear_forward(L->out.p, x, w, b, n_in / L->in_features, L->in_features,
                       L->out_features, act_of(L->act));
    L->y = L->out.p;
    return TL_OK;
  }
  case TLI_LAYER_DROPOUT: {
    if (!train || L->p == 0.0f) {
      L->y = x; /* identity: no copy */
      return TL_OK;
    }
    const int locked = L->drop == TL_DROPOUT_LOCKED && L->in_ndim == 3;
    const size_t nm = locked ? L->in_dims[1] * L->in_dims[2] : n_in;
    TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "dropout output"));
    TLI_TRY(tli_buf_reserve_discard(&L->mask, nm, "dropout mask"));
    tli_dropout_mask(L->mask.p, nm, L->p, &m->rng);
    if (locked)
      tli_dropout_locked_apply(L->out.p, x, L->mask.p, L->in_dims[0], nm);
    else
      tli_dropout_apply(L->out.p, x, L->mask.p, n_in);
    L->y = L->out.p;
    return TL_OK;
  }
  case TLI_LAYER_CONCAT_POOL: {
    size_t *lens = NULL;
    TLI_TRY(pool_lengths(m, L, &lens));
    TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "concat pooling output"));
    tli_concat_pool_forward(L->out.p, L->argmax, x, lens, L->in_dims[0],
                            L->in_dims[1], L->in_dims[2]);
    L->y = L->out.p;
    return TL_OK;
  }
  }
  return tli_fail(TL_E_INTERNAL, "layer '%s': unknown kind", L->name);
}

tl_status tli_layer_backward(tl_model *m, tli_layer *L, float *dy,
                             int want_dx) {
  const size_t n_in = prod(L->in_dims, L->in_ndim);
  if (want_dx && L->kind != TLI_LAYER_EMBEDDING && L->kind != TLI_LAYER_LSTM)
    TLI_TRY(tli_buf_reserve_discard(&L->dx, n_in, "input gradient"));
  switch (L->kind) {
  case TLI_LAYER_EMBEDDING: {
    const tli_param *w = &m->params[L->first_param];
    if (!tli_param_is_trainable(m, L->first_param))
      return TL_OK;
    const float *scale = (L->p > 0.0f) ? L->mask.p : NULL;
    tli_embedding_backward(m->grad + w->offset, dy, scale, m->in_ids, n_in,
                           w->dims[1], L->padding_idx);
    return TL_OK;
  }
  case TLI_LAYER_LSTM: return tli_lstm_layer_backward(m, L, dy, want_dx);
  case TLI_LAYER_LINEAR:
  case TLI_LAYER_DECODER: {
    const float *w, *b;
    float *dw, *db;
    linear_params(m, L, &w, &dw, &b, &db);
    float *dx = want_dx ? L->dx.p : NULL;
    if (dx)
      memset(dx, 0, n_in * sizeof(float));
    /* dy is this model's scratch (the next layer's dx or the copied dy), so
     * the kernel may turn it into dz in place. */
    tli_linear_backward(dx, dw, db, dy, dy, L->x, w, L->y,
                        n_in / L->in_features, L->in_features, L->out_features,
                        act_of(L->act));
    return TL_OK;
  }
  case TLI_LAYER_DROPOUT: {
    if (!want_dx)
      return TL_OK;
    if (L->p == 0.0f) {
      memcpy(L->dx.p, dy, n_in * sizeof(float));
    } else if (L->drop == TL_DROPOUT_LOCKED && L->in_ndim == 3) {
      tli_dropout_locked_apply(L->dx.p, dy, L->mask.p, L->in_dims[0],
                               L->in_dims[1] * L->in_dims[2]);
    } else {
      tli_dropout_apply(L->dx.p, dy, L->mask.p, n_in);
    }
    return TL_OK;
  }
  case TLI_LAYER_CONCAT_POOL: {
    if (!want_dx)
      return TL_OK;
    const size_t B = L->in_dims[1], H = L->in_dims[2];
    memset(L->dx.p, 0, n_in * sizeof(float));
    tli_concat_pool_backward(L->dx.p, dy, L->argmax, L->argmax + B * H,
                             L->in_dims[0], B, H);
    return TL_OK;
  }
  }
  return tli_fail(TL_E_INTERNAL, "layer '%s': unknown kind", L->name);
}

void tli_layer_release_training(tli_layer *L) {
  tli_buf_release(&L->state0);
  tli_buf_release(&L->dx);
  tli_buf_release(&L->mask);
  tli_buf_release(&L->reserve);
  if (L->kind != TLI_LAYER_LSTM)
    tli_buf_release(&L->work);
}

void tli_layer_release_all(tli_layer *L) {
  tli_layer_release_training(L);
  tli_buf_release(&L->out);
  tli_buf_release(&L->work);
  tli_buf_release(&L->aux);
  tli_buf_release(&L->state);
  tli_free(L->argmax);
  L->argmax = NULL;
  L->argmax_cap = 0;
}
