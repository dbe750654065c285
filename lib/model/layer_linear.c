/* The linear layer (torch.nn.Linear, then an activation): (..., in) ->
 * (..., out). Its forward and backward also serve the decoder
 * (layer_decoder.c), whose weight may be tied to another model's
 * embedding. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "kernels/linear.h"
#include "model/layer_ops.h"

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  const double bound = 1.0 / sqrt((double)L->in_features);
  specs[0] = (tli_param_spec){
      "weight", 2, {L->out_features, L->in_features}, TLI_INIT_UNIFORM, bound};
  specs[1] = (tli_param_spec){
      "bias", 1, {L->out_features, 1}, TLI_INIT_UNIFORM, bound};
  return 2;
}

tl_status tli_layer_linear_out_shape(const tl_model *m, const tli_layer *L,
                                     size_t *out_dims, size_t *out_ndim,
                                     const size_t *in_dims, size_t in_ndim) {
  (void)m;
  (void)out_ndim;
  const size_t last = in_dims[in_ndim - 1];
  TLI_CHECK(last == L->in_features, TL_E_SHAPE,
            "layer '%s' (linear) needs %zu input features, got %zu", L->name,
            L->in_features, last);
  out_dims[in_ndim - 1] = L->out_features;
  return TL_OK;
}

/* The weight the layer uses, its gradient (NULL when frozen) and the bias
 * with its gradient. */
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

tl_status tli_layer_linear_forward(tl_model *m, tli_layer *L, const float *x,
                                   const int64_t *ids) {
  (void)ids;
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  const size_t n_out = tli_dims_prod(L->out_dims, L->out_ndim);
  const float *w, *b;
  float *dw, *db;
  linear_params(m, L, &w, &dw, &b, &db);
  TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "linear output"));
  tli_linear_forward(L->out.p, x, w, b, n_in / L->in_features, L->in_features,
                     L->out_features, act_of(L->cfg.act));
  L->y = L->out.p;
  return TL_OK;
}

tl_status tli_layer_linear_backward(tl_model *m, tli_layer *L, float *dy,
                                    int want_dx) {
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  if (want_dx)
    TLI_TRY(tli_buf_reserve_discard(&L->dx, n_in, "input gradient"));
  const float *w, *b;
  float *dw, *db;
  linear_params(m, L, &w, &dw, &b, &db);
  float *dx = want_dx ? L->dx.p : NULL;
  if (dx)
    memset(dx, 0, n_in * sizeof(float));
  /* dy is this model's scratch (the next layer's dx or the copied dy), so
   * the kernel may turn it into dz in place. */
  tli_linear_backward(dx, dw, db, dy, dy, L->x, w, L->y, n_in / L->in_features,
                      L->in_features, L->out_features, act_of(L->cfg.act));
  return TL_OK;
}

const tli_layer_ops tli_layer_linear_ops = {
    .kind_name = "linear",
    .register_params = register_params,
    .out_shape = tli_layer_linear_out_shape,
    .forward = tli_layer_linear_forward,
    .backward = tli_layer_linear_backward,
    .release_training = tli_layer_release_scratch,
};

static tl_status check_act(tl_activation act, const char *fn) {
  TLI_CHECK(act == TL_ACTIVATION_NONE || act == TL_ACTIVATION_RELU ||
                act == TL_ACTIVATION_TANH || act == TL_ACTIVATION_SIGMOID,
            TL_E_INVALID_ARG, "%s: activation %d is unknown", fn, (int)act);
  return TL_OK;
}

tl_status tl_model_add_linear(tl_model *model, const char *name,
                              size_t in_features, size_t out_features,
                              tl_activation activation) {
  const char *fn = "tl_model_add_linear";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(tli_build_check_name(model, name, fn));
  TLI_TRY(tli_build_check_size(in_features, "in_features", fn));
  TLI_TRY(tli_build_check_size(out_features, "out_features", fn));
  TLI_TRY(check_act(activation, fn));
  TLI_TRY(tli_build_check_chain(model, in_features, fn));
  tli_layer proto =
      tli_layer_proto(TLI_LAYER_LINEAR, in_features, out_features);
  proto.cfg.act = activation;
  return tli_model_append_layer(model, &proto, name, fn);
}
