/* Masked concat pooling (ULMFiT's PoolingLinearClassifier input): (T, B, H)
 * -> (B, 3H) = [last, max, mean] over the first lengths[b] steps of each
 * sequence (tl_model_set_lengths; by default T). */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "kernels/pool.h"
#include "model/layer_ops.h"

static tl_status out_shape(const tl_model *m, const tli_layer *L,
                           size_t *out_dims, size_t *out_ndim,
                           const size_t *in_dims, size_t in_ndim) {
  const size_t last = in_dims[in_ndim - 1];
  TLI_CHECK(in_ndim == 3, TL_E_SHAPE,
            "layer '%s' (concat pooling) needs (T, B, H) input, got %zu "
            "dims",
            L->name, in_ndim);
  TLI_CHECK(L->in_features == 0 || last == L->in_features, TL_E_SHAPE,
            "layer '%s' (concat pooling) needs %zu features, got %zu", L->name,
            L->in_features, last);
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

/* The argmax workspace (B*H) followed by the B lengths in use. */
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

static tl_status forward(tl_model *m, tli_layer *L, const float *x,
                         const int64_t *ids) {
  (void)ids;
  const size_t n_out = tli_dims_prod(L->out_dims, L->out_ndim);
  size_t *lens = NULL;
  TLI_TRY(pool_lengths(m, L, &lens));
  TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "concat pooling output"));
  tli_concat_pool_forward(L->out.p, L->argmax, x, lens, L->in_dims[0],
                          L->in_dims[1], L->in_dims[2]);
  L->y = L->out.p;
  return TL_OK;
}

static tl_status backward(tl_model *m, tli_layer *L, float *dy, int want_dx) {
  (void)m;
  if (!want_dx)
    return TL_OK;
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  TLI_TRY(tli_buf_reserve_discard(&L->dx, n_in, "input gradient"));
  const size_t B = L->in_dims[1], H = L->in_dims[2];
  memset(L->dx.p, 0, n_in * sizeof(float));
  tli_concat_pool_backward(L->dx.p, dy, L->argmax, L->argmax + B * H,
                           L->in_dims[0], B, H);
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)proto;
  (void)tie_model;
  (void)tie_layer;
  return tl_model_add_concat_pool(m, name);
}

const tli_layer_ops tli_layer_concat_pool_ops = {
    .kind_name = "concat_pool",
    .out_shape = out_shape,
    .forward = forward,
    .backward = backward,
    .release_training = tli_layer_release_scratch,
    .whole_sequence = 1,  /* pools over T: no step at a time */
    .arch_add = arch_add, /* no settings */
};

tl_status tl_model_add_concat_pool(tl_model *model, const char *name) {
  const char *fn = "tl_model_add_concat_pool";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(tli_build_check_name(model, name, fn));
  const size_t f = tli_build_last_features(model);
  tli_layer proto = tli_layer_proto(TLI_LAYER_CONCAT_POOL, f, 3 * f);
  return tli_model_append_layer(model, &proto, name, fn);
}
