/* The linear layer (torch.nn.Linear, then an activation): (..., in) ->
 * (..., out). Its forward and backward also serve the decoder
 * (layer_decoder.c), whose weight may be tied to another model's
 * embedding. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "kernels/linear.h"
#include "model/layer_ops.h"

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  const double bound = 1.0 / sqrt((double)L->in_features);
  specs[0] = (tli_param_spec){
      "weight", 2, {L->out_features, L->in_features}, TLI_INIT_UNIFORM, bound};
  if (L->no_bias)
    return 1;
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
 * with its gradient (both NULL for a layer without a bias). */
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
  if (L->no_bias) {
    *b = NULL;
    *db = NULL;
    return;
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

/* Architecture settings: activation (tl_activation's value), bias (0 or
 * 1). */
static size_t arch_values(const tli_layer *L, double *v) {
  v[0] = (double)L->cfg.act;
  v[1] = L->no_bias ? 0.0 : 1.0;
  return 2;
}

static tl_status arch_decode(tli_layer *proto, const double *v, size_t n,
                             const char *fn) {
  const char *k = "linear";
  int64_t act = 0, bias = 0;
  TLI_TRY(tli_arch_count(n, 2, k, fn));
  TLI_TRY(tli_arch_int(&act, v[0], TL_ACTIVATION_NONE, TL_ACTIVATION_SIGMOID, k,
                       "activation", fn));
  TLI_TRY(tli_arch_int(&bias, v[1], 0, 1, k, "bias", fn));
  proto->cfg.act = (tl_activation)act;
  proto->no_bias = !bias;
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer);

const tli_layer_ops tli_layer_linear_ops = {
    .kind_name = "linear",
    .register_params = register_params,
    .out_shape = tli_layer_linear_out_shape,
    .forward = tli_layer_linear_forward,
    .backward = tli_layer_linear_backward,
    .release_training = tli_layer_release_scratch,
    .arch_values = arch_values,
    .arch_decode = arch_decode,
    .arch_add = arch_add,
};

static tl_status check_act(tl_activation act, const char *fn) {
  TLI_CHECK(act == TL_ACTIVATION_NONE || act == TL_ACTIVATION_RELU ||
                act == TL_ACTIVATION_TANH || act == TL_ACTIVATION_SIGMOID,
            TL_E_INVALID_ARG, "%s: activation %d is unknown", fn, (int)act);
  return TL_OK;
}

static tl_status add_linear(tl_model *model, const char *name,
                            size_t in_features, size_t out_features,
                            const tl_linear_options *o, const char *fn) {
  TLI_TRY(tli_build_check_name(model, name, fn));
  TLI_TRY(tli_build_check_size(in_features, "in_features", fn));
  TLI_TRY(tli_build_check_size(out_features, "out_features", fn));
  TLI_TRY(check_act(o->activation, fn));
  TLI_CHECK(o->bias == 0 || o->bias == 1, TL_E_INVALID_ARG,
            "%s: options->bias must be 0 or 1 (got %d)", fn, o->bias);
  TLI_TRY(tli_build_check_chain(model, in_features, fn));
  tli_layer proto =
      tli_layer_proto(TLI_LAYER_LINEAR, in_features, out_features);
  proto.cfg.act = o->activation;
  proto.no_bias = !o->bias;
  return tli_model_append_layer(model, &proto, name, fn);
}

tl_status tl_model_add_linear(tl_model *model, const char *name,
                              size_t in_features, size_t out_features,
                              tl_activation activation) {
  const char *fn = "tl_model_add_linear";
  TLI_CHECK_PTR(fn, model);
  tl_linear_options o = TL_LINEAR_OPTIONS_INIT;
  o.activation = activation;
  return add_linear(model, name, in_features, out_features, &o, fn);
}

TLI_VERSION_SIZES(linear_options_sizes, TL_LINEAR_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_linear_options, bias));

tl_status tl_linear_options_init(tl_linear_options *out, unsigned int version) {
  static const tl_linear_options defaults = TL_LINEAR_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, linear_options_sizes,
                          "tl_linear_options_init");
}

tl_status tl_model_add_linear_ex(tl_model *model, const char *name,
                                 size_t in_features, size_t out_features,
                                 const tl_linear_options *options) {
  const char *fn = "tl_model_add_linear_ex";
  TLI_CHECK_PTR(fn, model);
  tl_linear_options o = TL_LINEAR_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, linear_options_sizes, fn, "options"));
  return add_linear(model, name, in_features, out_features, &o, fn);
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)tie_model;
  (void)tie_layer;
  tl_linear_options o = TL_LINEAR_OPTIONS_INIT;
  o.activation = proto->cfg.act;
  o.bias = !proto->no_bias;
  return tl_model_add_linear_ex(m, name, proto->in_features,
                                proto->out_features, &o);
}
