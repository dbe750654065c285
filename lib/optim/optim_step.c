/* The update rules (torch.optim.SGD, Adam, AdamW, step for step) and
 * gradient clipping by global norm. Arithmetic runs in double and is stored
 * in float32, so results match torch's float32 within rounding and its
 * float64 within the float32 storage. Nothing here allocates. */
#include <math.h>

#include "core/error.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"

/* Calls fn(ctx, model index, param index) for every trainable parameter. */
#define FOR_TRAINABLE(o, mi, pi)                                               \
  for (size_t mi = 0; mi < (o)->n_models; mi++)                                \
    for (size_t pi = 0; pi < (o)->models[mi]->n_params; pi++)                  \
      if (tli_param_is_trainable((o)->models[mi], pi))

static int grads_finite(const tl_optim *o, size_t *bad_model,
                        const char **bad_name) {
  FOR_TRAINABLE(o, mi, pi) {
    const tl_model *m = o->models[mi];
    const tli_param *p = &m->params[pi];
    const float *g = m->grad + p->offset;
    for (size_t e = 0; e < p->numel; e++)
      if ((p->mask == NULL || p->mask[e]) && !isfinite(g[e])) {
        *bad_model = mi;
        *bad_name = p->name;
        return 0;
      }
  }
  return 1;
}

static void sgd_param(const tl_optim *o, const double *hp, float *w,
                      const float *g, float *buf, const uint8_t *mask,
                      size_t n) {
  const double lr = hp[TL_OPTIM_LR], mom = hp[TL_OPTIM_MOMENTUM];
  const double wd = hp[TL_OPTIM_WEIGHT_DECAY];
  for (size_t e = 0; e < n; e++) {
    if (mask && !mask[e])
      continue;
    double d = (double)g[e] + wd * (double)w[e];
    if (mom != 0.0) {
      /* torch starts the buffer at d; a zeroed buffer gives the same. */
      const double b = mom * (double)buf[e] + d;
      buf[e] = (float)b;
      d = o->nesterov ? d + mom * (double)buf[e] : (double)buf[e];
    }
    w[e] = (float)((double)w[e] - lr * d);
  }
}

static void adam_param(const tl_optim *o, const double *hp, float *w,
                       const float *g, float *m1, float *m2,
                       const uint8_t *mask, size_t n, uint64_t step) {
  const double lr = hp[TL_OPTIM_LR], b1 = hp[TL_OPTIM_MOMENTUM];
  const double b2 = hp[TL_OPTIM_BETA2], eps = hp[TL_OPTIM_EPS];
  const double wd = hp[TL_OPTIM_WEIGHT_DECAY];
  const double bc1 = 1.0 - pow(b1, (double)step);
  const double bc2_sqrt = sqrt(1.0 - pow(b2, (double)step));
  const double step_size = lr / bc1;
  const int decoupled = o->kind == TL_OPTIM_ADAMW;
  for (size_t e = 0; e < n; e++) {
    if (mask && !mask[e])
      continue;
    double x = (double)w[e];
    double d = (double)g[e];
    if (decoupled)
      x *= 1.0 - lr * wd;
    else
      d += wd * x;
    const double a = b1 * (double)m1[e] + (1.0 - b1) * d;
    const double v = b2 * (double)m2[e] + (1.0 - b2) * d * d;
    m1[e] = (float)a;
    m2[e] = (float)v;
    const double denom = sqrt((double)m2[e]) / bc2_sqrt + eps;
    w[e] = (float)(x - step_size * (double)m1[e] / denom);
  }
}

tl_status tl_optim_step(tl_optim *optim) {
  const char *fn = "tl_optim_step";
  TLI_CHECK_PTR(fn, optim);
  TLI_TRY(tli_optim_check_models(optim, fn));
  int any = 0;
  FOR_TRAINABLE(optim, mi, pi) { any = 1; }
  TLI_CHECK(any, TL_E_STATE,
            "%s: nothing is trainable (every group frozen or the models in "
            "feature-extraction mode); nothing was changed",
            fn);
  size_t bad_model = 0;
  const char *bad = NULL;
  /* Step counters never exceed the step count (tl_optim_state_load checks
   * it), so refusing here keeps every counter from wrapping to 0. */
  TLI_CHECK(optim->steps < UINT64_MAX, TL_E_STATE,
            "%s: the step count is at its maximum; nothing was changed", fn);
  TLI_CHECK(grads_finite(optim, &bad_model, &bad), TL_E_NUMERIC,
            "%s: the gradient of '%s' (model %zu) holds NaN or Inf; nothing "
            "was changed",
            fn, bad, bad_model);

  FOR_TRAINABLE(optim, mi, pi) {
    tl_model *m = optim->models[mi];
    const tli_param *p = &m->params[pi];
    const size_t group = optim->group_base[mi] + m->layers[p->layer].group;
    const double *hp = optim->hp + group * TLI_OPTIM_NUM_HPARAMS;
    float *w = m->flat + p->offset;
    const float *g = m->grad + p->offset;
    float *s0 = optim->state + optim->state_base[mi] + p->offset;
    uint64_t *count = &optim->param_steps[optim->param_base[mi] + pi];
    *count += 1;
    if (optim->kind == TL_OPTIM_SGD)
      sgd_param(optim, hp, w, g, s0, p->mask, p->numel);
    else
      adam_param(optim, hp, w, g, s0, s0 + m->numel, p->mask, p->numel, *count);
  }
  optim->steps++;
  return TL_OK;
}

tl_status tl_optim_clip_grad_norm(double *out_norm, tl_optim *optim,
                                  double max_norm) {
  const char *fn = "tl_optim_clip_grad_norm";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK(!isnan(max_norm) && max_norm > 0.0, TL_E_INVALID_ARG,
            "%s: max_norm must be > 0 (got %g)", fn, max_norm);
  TLI_TRY(tli_optim_check_models(optim, fn));
  double sum = 0.0;
  FOR_TRAINABLE(optim, mi, pi) {
    const tl_model *m = optim->models[mi];
    const tli_param *p = &m->params[pi];
    const float *g = m->grad + p->offset;
    for (size_t e = 0; e < p->numel; e++)
      if (p->mask == NULL || p->mask[e])
        sum += (double)g[e] * (double)g[e];
  }
  const double norm = sqrt(sum);
  TLI_CHECK(isfinite(norm), TL_E_NUMERIC,
            "%s: the gradient norm is not finite; gradients left untouched",
            fn);
  if (out_norm)
    *out_norm = norm;
  const double coef = max_norm / (norm + 1e-6);
  if (!(coef < 1.0))
    return TL_OK;
  const float c = (float)coef; /* torch multiplies by a float32 tensor */
  FOR_TRAINABLE(optim, mi, pi) {
    tl_model *m = optim->models[mi];
    const tli_param *p = &m->params[pi];
    float *g = m->grad + p->offset;
    for (size_t e = 0; e < p->numel; e++)
      if (p->mask == NULL || p->mask[e])
        g[e] *= c;
  }
  return TL_OK;
}
