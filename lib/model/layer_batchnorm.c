/* The BatchNorm1d layer (torch.nn.BatchNorm1d): (..., F) -> (..., F), every
 * row of the flattened leading dims normalised per feature. Parameters
 * "<name>.weight" (ones) and "<name>.bias" (zeros) when affine; buffers
 * "<name>.running_mean" (zeros), "<name>.running_var" (ones) and
 * "<name>.num_batches_tracked" (a count), outside the flat buffers so that
 * no optimizer sees them. Train mode normalises with the batch statistics
 * and updates the running ones; eval mode, and a layer of a frozen group
 * while the model's train_bn is 0 (fastai's BnFreeze), normalise with the
 * running statistics and leave them as they are. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "kernels/batchnorm.h"
#include "model/layer_ops.h"

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  if (!L->cfg.batchnorm.affine)
    return 0;
  const size_t f = L->in_features;
  specs[0] = (tli_param_spec){"weight", 1, {f, 1}, TLI_INIT_CONSTANT, 1.0};
  specs[1] = (tli_param_spec){"bias", 1, {f, 1}, TLI_INIT_CONSTANT, 0.0};
  return 2;
}

static size_t register_buffers(const tli_layer *L, tli_buffer_spec *specs) {
  const size_t f = L->in_features;
  specs[0] = (tli_buffer_spec){"running_mean", TLI_BUFFER_STAT, f, 0.0};
  specs[1] = (tli_buffer_spec){"running_var", TLI_BUFFER_VARIANCE, f, 1.0};
  specs[2] = (tli_buffer_spec){"num_batches_tracked", TLI_BUFFER_COUNT, 1, 0.0};
  return 3;
}

/* 1 when this forward normalises with the batch statistics: train mode,
 * unless the layer's group is frozen and train_bn is 0. */
static int uses_batch_stats(const tl_model *m, const tli_layer *L) {
  return tli_model_training(m) && !(L->frozen && !m->train_bn);
}

static tl_status out_shape(const tl_model *m, const tli_layer *L,
                           size_t *out_dims, size_t *out_ndim,
                           const size_t *in_dims, size_t in_ndim) {
  (void)out_dims;
  (void)out_ndim;
  const size_t last = in_dims[in_ndim - 1];
  TLI_CHECK(last == L->in_features, TL_E_SHAPE,
            "layer '%s' (batchnorm1d) needs %zu features, got %zu", L->name,
            L->in_features, last);
  const size_t rows = tli_dims_prod(in_dims, in_ndim - 1);
  TLI_CHECK(rows >= 2 || !uses_batch_stats(m, L), TL_E_SHAPE,
            "layer '%s' (batchnorm1d) needs more than 1 value per feature in "
            "train mode (got %zu row; torch: \"Expected more than 1 value per "
            "channel when training\")",
            L->name, rows);
  return TL_OK;
}

/* The affine parameters (NULL when not affine) and their gradients (NULL
 * when frozen). */
static void affine(tl_model *m, const tli_layer *L, const float **w,
                   const float **b, float **dw, float **db) {
  *w = *b = NULL;
  *dw = *db = NULL;
  if (!L->cfg.batchnorm.affine)
    return;
  const size_t k = L->first_param;
  *w = m->flat + m->params[k].offset;
  *b = m->flat + m->params[k + 1].offset;
  if (tli_param_is_trainable(m, k))
    *dw = m->grad + m->params[k].offset;
  if (tli_param_is_trainable(m, k + 1))
    *db = m->grad + m->params[k + 1].offset;
}

static tli_bn_dims dims_of(const tli_layer *L) {
  const size_t f = L->in_features;
  return (tli_bn_dims){tli_dims_prod(L->in_dims, L->in_ndim) / f, f,
                       L->cfg.batchnorm.eps, L->cfg.batchnorm.momentum};
}

static tl_status forward(tl_model *m, tli_layer *L, const float *x,
                         const int64_t *ids) {
  (void)ids;
  const tli_bn_dims d = dims_of(L);
  const size_t n = d.n * d.f;
  /* A layer below can overflow to Inf; the statistics must not take it in
   * (they would stay NaN for good). */
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(isfinite(x[i]), TL_E_NUMERIC,
              "layer '%s' (batchnorm1d): input element %zu is not finite",
              L->name, i);
  TLI_TRY(tli_buf_reserve_discard(&L->out, n, "batchnorm output"));
  /* Train mode keeps the per-feature mean and 1/std, in double (2 F
   * doubles in the float workspace, which tli_alloc aligns for any type),
   * for the backward. */
  double *stats = NULL;
  if (tli_model_training(m)) {
    TLI_TRY(tli_buf_reserve_discard(&L->work, 4 * d.f, "batchnorm stats"));
    stats = (double *)(void *)L->work.p;
  }
  const float *w, *b;
  float *dw, *db;
  affine(m, L, &w, &b, &dw, &db);
  tli_buffer *buf = &m->buffers[L->first_buffer];
  L->forward_flags = uses_batch_stats(m, L);
  if (L->forward_flags) {
    const size_t bad = tli_batchnorm_forward_train(
        &d, L->out.p, stats, buf[0].data, buf[1].data, x, w, b);
    TLI_CHECK(bad == 0, TL_E_NUMERIC,
              "layer '%s' (batchnorm1d): the running statistics of feature "
              "%zu would overflow float (inputs near FLT_MAX); they are "
              "unchanged",
              L->name, bad - 1);
    buf[2].count++;
  } else {
    tli_batchnorm_forward_eval(&d, L->out.p, stats, x, buf[0].data, buf[1].data,
                               w, b);
  }
  L->y = L->out.p;
  return TL_OK;
}

static tl_status backward(tl_model *m, tli_layer *L, float *dy, int want_dx) {
  const tli_bn_dims d = dims_of(L);
  const float *w, *b;
  float *dw, *db;
  affine(m, L, &w, &b, &dw, &db);
  float *dx = NULL;
  if (want_dx) {
    TLI_TRY(tli_buf_reserve_discard(&L->dx, d.n * d.f, "input gradient"));
    dx = L->dx.p;
  }
  /* L->x is the forward's input, still alive: the layer below keeps its
   * output until the next forward. */
  tli_batchnorm_backward(&d, L->forward_flags, dx, dw, db, dy, L->x,
                         (const double *)(const void *)L->work.p, w);
  return TL_OK;
}

/* Architecture settings: momentum, eps, affine (0 or 1). */
static size_t arch_values(const tli_layer *L, double *v) {
  v[0] = L->cfg.batchnorm.momentum;
  v[1] = L->cfg.batchnorm.eps;
  v[2] = L->cfg.batchnorm.affine;
  return 3;
}

static tl_status arch_decode(tli_layer *proto, const double *v, size_t n,
                             const char *fn) {
  const char *k = "batchnorm1d";
  int64_t affine = 0;
  TLI_TRY(tli_arch_count(n, 3, k, fn));
  TLI_TRY(tli_arch_int(&affine, v[2], 0, 1, k, "affine", fn));
  /* momentum and eps are finite (checked on read); the add call checks
   * their ranges */
  proto->cfg.batchnorm.momentum = v[0];
  proto->cfg.batchnorm.eps = v[1];
  proto->cfg.batchnorm.affine = (int)affine;
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer);

const tli_layer_ops tli_layer_batchnorm_ops = {
    .kind_name = "batchnorm1d",
    .register_params = register_params,
    .register_buffers = register_buffers,
    .normalisation = 1,
    .out_shape = out_shape,
    .forward = forward,
    .backward = backward,
    .release_training = tli_layer_release_scratch,
    .arch_values = arch_values,
    .arch_decode = arch_decode,
    .arch_add = arch_add,
};

TLI_VERSION_SIZES(batchnorm_options_sizes, TL_BATCHNORM_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_batchnorm_options, affine));

tl_status tl_batchnorm_options_init(tl_batchnorm_options *out,
                                    unsigned int version) {
  static const tl_batchnorm_options defaults = TL_BATCHNORM_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, batchnorm_options_sizes,
                          "tl_batchnorm_options_init");
}

tl_status tl_model_add_batchnorm1d(tl_model *model, const char *name,
                                   size_t num_features,
                                   const tl_batchnorm_options *options) {
  static const char fn[] = "tl_model_add_batchnorm1d";
  TLI_CHECK_PTR(fn, model);
  tl_batchnorm_options o = TL_BATCHNORM_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, batchnorm_options_sizes, fn, "options"));
  TLI_TRY(tli_build_check_name(model, name, fn));
  TLI_TRY(tli_build_check_size(num_features, "num_features", fn));
  TLI_TRY(tli_build_check_chain(model, num_features, fn));
  TLI_CHECK(o.momentum >= 0.0 && o.momentum <= 1.0, TL_E_INVALID_ARG,
            "%s: options->momentum must be in [0, 1] (got %g)", fn, o.momentum);
  TLI_CHECK(isfinite(o.eps) && o.eps > 0.0, TL_E_INVALID_ARG,
            "%s: options->eps must be finite and > 0 (got %g)", fn, o.eps);
  TLI_CHECK(o.affine == 0 || o.affine == 1, TL_E_INVALID_ARG,
            "%s: options->affine must be 0 or 1 (got %d)", fn, o.affine);
  tli_layer proto =
      tli_layer_proto(TLI_LAYER_BATCHNORM, num_features, num_features);
  proto.cfg.batchnorm.momentum = o.momentum;
  proto.cfg.batchnorm.eps = o.eps;
  proto.cfg.batchnorm.affine = o.affine;
  return tli_model_append_layer(model, &proto, name, fn);
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)tie_model;
  (void)tie_layer;
  tl_batchnorm_options o = TL_BATCHNORM_OPTIONS_INIT;
  o.momentum = proto->cfg.batchnorm.momentum;
  o.eps = proto->cfg.batchnorm.eps;
  o.affine = proto->cfg.batchnorm.affine;
  return tl_model_add_batchnorm1d(m, name, proto->in_features, &o);
}
