/* The dropout layer: standard (one mask element per value) or locked (one
 * mask per (batch row, feature), shared by all T steps of a (T, B, F)
 * input, as AWD-LSTM's LockedDropout); identity in eval mode. */
#include <string.h>

#include "core/error.h"
#include "kernels/dropout.h"
#include "model/layer_ops.h"

static tl_status out_shape(const tl_model *m, const tli_layer *L,
                           size_t *out_dims, size_t *out_ndim,
                           const size_t *in_dims, size_t in_ndim) {
  (void)m;
  (void)out_dims;
  (void)out_ndim;
  const size_t last = in_dims[in_ndim - 1];
  TLI_CHECK(L->in_features == 0 || last == L->in_features, TL_E_SHAPE,
            "layer '%s' (dropout) needs %zu features, got %zu", L->name,
            L->in_features, last);
  return TL_OK;
}

static int locked(const tli_layer *L) {
  return L->cfg.dropout.kind == TL_DROPOUT_LOCKED && L->in_ndim == 3;
}

static tl_status forward(tl_model *m, tli_layer *L, const float *x,
                         const int64_t *ids) {
  (void)ids;
  const float p = L->cfg.dropout.p;
  if (!tli_model_training(m) || p == 0.0f) {
    L->y = x; /* identity: no copy */
    return TL_OK;
  }
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  const size_t nm = locked(L) ? L->in_dims[1] * L->in_dims[2] : n_in;
  TLI_TRY(tli_buf_reserve_discard(&L->out, n_in, "dropout output"));
  TLI_TRY(tli_buf_reserve_discard(&L->mask, nm, "dropout mask"));
  tli_dropout_mask(L->mask.p, nm, p, &m->rng);
  if (locked(L))
    tli_dropout_locked_apply(L->out.p, x, L->mask.p, L->in_dims[0], nm);
  else
    tli_dropout_apply(L->out.p, x, L->mask.p, n_in);
  L->y = L->out.p;
  return TL_OK;
}

static tl_status backward(tl_model *m, tli_layer *L, float *dy, int want_dx) {
  (void)m;
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  if (!want_dx)
    return TL_OK;
  TLI_TRY(tli_buf_reserve_discard(&L->dx, n_in, "input gradient"));
  if (L->cfg.dropout.p == 0.0f) {
    memcpy(L->dx.p, dy, n_in * sizeof(float));
  } else if (locked(L)) {
    tli_dropout_locked_apply(L->dx.p, dy, L->mask.p, L->in_dims[0],
                             L->in_dims[1] * L->in_dims[2]);
  } else {
    tli_dropout_apply(L->dx.p, dy, L->mask.p, n_in);
  }
  return TL_OK;
}

/* Architecture settings: kind (tl_dropout_kind's value), p. */
static size_t arch_values(const tli_layer *L, double *v) {
  v[0] = (double)L->cfg.dropout.kind;
  v[1] = L->cfg.dropout.p;
  return 2;
}

static tl_status arch_decode(tli_layer *proto, const double *v, size_t n,
                             const char *fn) {
  const char *k = "dropout";
  int64_t kind = 0;
  TLI_TRY(tli_arch_count(n, 2, k, fn));
  TLI_TRY(tli_arch_int(&kind, v[0], TL_DROPOUT_STANDARD, TL_DROPOUT_LOCKED, k,
                       "kind", fn));
  TLI_TRY(tli_arch_float(&proto->cfg.dropout.p, v[1], k, "p", fn));
  proto->cfg.dropout.kind = (tl_dropout_kind)kind;
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)tie_model;
  (void)tie_layer;
  return tl_model_add_dropout(m, name, proto->cfg.dropout.kind,
                              proto->cfg.dropout.p);
}

const tli_layer_ops tli_layer_dropout_ops = {
    .kind_name = "dropout",
    .out_shape = out_shape,
    .forward = forward,
    .backward = backward,
    .release_training = tli_layer_release_scratch,
    .arch_values = arch_values,
    .arch_decode = arch_decode,
    .arch_add = arch_add,
};

tl_status tl_model_add_dropout(tl_model *model, const char *name,
                               tl_dropout_kind kind, float p) {
  const char *fn = "tl_model_add_dropout";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(tli_build_check_name(model, name, fn));
  TLI_CHECK(kind == TL_DROPOUT_STANDARD || kind == TL_DROPOUT_LOCKED,
            TL_E_INVALID_ARG, "%s: kind %d is unknown", fn, (int)kind);
  TLI_TRY(tli_build_check_prob(p, "p", fn));
  const size_t f = tli_build_last_features(model);
  tli_layer proto = tli_layer_proto(TLI_LAYER_DROPOUT, f, f);
  proto.cfg.dropout.kind = kind;
  proto.cfg.dropout.p = p;
  return tli_model_append_layer(model, &proto, name, fn);
}
