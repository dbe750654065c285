/* tl_optim: creation over one or more models, per-group hyperparameters,
 * discriminative learning rates and freezing over the concatenated groups. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"

static const char *const hparam_names[TLI_OPTIM_NUM_HPARAMS] = {
    "lr", "momentum", "beta2", "eps", "weight_decay"};

TLI_VERSION_SIZES(optim_options_sizes, TL_OPTIM_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_optim_options, nesterov));

static int kind_known(tl_optim_kind kind) {
  return kind == TL_OPTIM_SGD || kind == TL_OPTIM_ADAM ||
         kind == TL_OPTIM_ADAMW;
}

tl_status tl_optim_options_init(tl_optim_options *out, unsigned int version,
                                tl_optim_kind kind) {
  static const char fn[] = "tl_optim_options_init";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_version_check(version, TL_OPTIM_OPTIONS_VERSION, fn, "version"));
  TLI_CHECK(kind_known(kind), TL_E_INVALID_ARG, "%s: kind %d is unknown", fn,
            (int)kind);
  const tl_optim_options defaults = TL_OPTIM_OPTIONS_INIT(kind);
  return TLI_OPTIONS_INIT(out, &defaults, version, optim_options_sizes, fn);
}

tl_status tli_optim_check_hparam(tl_optim_kind kind, int nesterov,
                                 tl_optim_hparam which, double value,
                                 const char *fn) {
  TLI_CHECK(isfinite(value), TL_E_INVALID_ARG, "%s: %s is not finite", fn,
            hparam_names[which]);
  switch (which) {
  case TL_OPTIM_EPS:
    /* Adam divides by sqrt(v) + eps and v is 0 wherever a gradient has been
     * 0: eps = 0 would turn those parameters into NaN (torch accepts it and
     * does). SGD ignores eps. */
    TLI_CHECK(kind == TL_OPTIM_SGD || value > 0.0, TL_E_INVALID_ARG,
              "%s: eps must be > 0 for Adam and AdamW (got %g)", fn, value);
    TLI_CHECK(value >= 0.0, TL_E_INVALID_ARG, "%s: eps must be >= 0 (got %g)",
              fn, value);
    return TL_OK;
  case TL_OPTIM_LR:
  case TL_OPTIM_WEIGHT_DECAY:
    TLI_CHECK(value >= 0.0, TL_E_INVALID_ARG, "%s: %s must be >= 0 (got %g)",
              fn, hparam_names[which], value);
    return TL_OK;
  case TL_OPTIM_MOMENTUM:
    TLI_CHECK(value >= 0.0 && value < 1.0, TL_E_INVALID_ARG,
              "%s: momentum must be in [0, 1) (got %g)", fn, value);
    TLI_CHECK(!(kind == TL_OPTIM_SGD && nesterov && value == 0.0),
              TL_E_INVALID_ARG, "%s: nesterov needs momentum > 0", fn);
    return TL_OK;
  case TL_OPTIM_BETA2:
    TLI_CHECK(value >= 0.0 && value < 1.0, TL_E_INVALID_ARG,
              "%s: beta2 must be in [0, 1) (got %g)", fn, value);
    return TL_OK;
  }
  return tli_fail(TL_E_INVALID_ARG, "%s: hyperparameter %d is unknown", fn,
                  (int)which);
}

static void destroy(tl_optim *o) {
  if (o->models)
    for (size_t i = 0; i < o->n_models; i++)
      tl_model_free(o->models[i]);
  tli_free(o->models);
  tli_free(o->structure);
  tli_free(o->groups);
  tli_free(o->group_base);
  tli_free(o->state_base);
  tli_free(o->param_base);
  tli_free(o->hp);
  tli_free(o->state);
  tli_free(o->param_steps);
  tli_free(o);
}

/* Step 1 of tl_optim_create: the caller's options as a current struct and
 * the models, checked before anything is allocated. */
static tl_status create_validate(tl_optim_options *o, tl_model *const *models,
                                 size_t n_models,
                                 const tl_optim_options *options,
                                 const char *fn) {
  /* Fields a later version appends keep these (SGD's) defaults; one whose
   * default depends on the kind must be set here from o->kind. */
  *o = (tl_optim_options)TL_OPTIM_OPTIONS_INIT(TL_OPTIM_SGD);
  TLI_TRY(TLI_OPTIONS_COPY(o, options, optim_options_sizes, fn, "options"));
  TLI_CHECK(kind_known(o->kind), TL_E_INVALID_ARG,
            "%s: options->kind %d is unknown", fn, (int)o->kind);
  TLI_CHECK(o->nesterov == 0 || o->nesterov == 1, TL_E_INVALID_ARG,
            "%s: options->nesterov must be 0 or 1", fn);
  TLI_CHECK(n_models >= 1 && n_models <= 1024, TL_E_INVALID_ARG,
            "%s: n_models must be in [1, 1024] (got %zu)", fn, n_models);
  for (size_t i = 0; i < n_models; i++) {
    TLI_CHECK(models[i] != NULL, TL_E_INVALID_ARG, "%s: models[%zu] is NULL",
              fn, i);
    for (size_t j = 0; j < i; j++)
      TLI_CHECK(models[j] != models[i], TL_E_INVALID_ARG,
                "%s: models[%zu] and models[%zu] are the same model", fn, j, i);
  }
  const double hp[TLI_OPTIM_NUM_HPARAMS] = {o->lr, o->momentum, o->beta2,
                                            o->eps, o->weight_decay};
  for (int h = 0; h < TLI_OPTIM_NUM_HPARAMS; h++)
    TLI_TRY(tli_optim_check_hparam(o->kind, o->nesterov, (tl_optim_hparam)h,
                                   hp[h], fn));
  return TL_OK;
}

/* Step 2: the per-model tables (sized by n_models), then the layout of
 * groups, state and step counters over the concatenated models, then the
 * buffers that layout sizes. On failure *out is NULL and nothing leaks. */
static tl_status create_allocate(tl_optim **out, tl_model *const *models,
                                 size_t n_models, tl_optim_kind kind,
                                 const char *fn) {
  *out = NULL;
  tl_optim *o = NULL;
  TLI_TRY(tli_alloc_checked((void **)&o, 1, sizeof *o, fn));
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->slots = kind == TL_OPTIM_SGD ? 1 : 2;
  tl_status st = TL_OK;
#define ALLOC(field, count)                                                    \
  if (st == TL_OK)                                                             \
  st = tli_alloc_checked((void **)&o->field, (count) + 1, sizeof *o->field, fn)
  ALLOC(models, n_models);
  ALLOC(structure, n_models);
  ALLOC(groups, n_models);
  ALLOC(group_base, n_models);
  ALLOC(state_base, n_models);
  ALLOC(param_base, n_models);
  if (st != TL_OK) {
    destroy(o);
    return st;
  }
  memset(o->models, 0, n_models * sizeof *o->models);
  for (size_t i = 0; i < n_models; i++) {
    const tl_model *m = models[i];
    o->structure[i] = m->structure;
    o->groups[i] = tli_model_num_groups(m);
    o->group_base[i] = o->n_groups;
    o->state_base[i] = o->state_n;
    o->param_base[i] = o->n_params;
    o->n_groups += o->groups[i];
    o->state_n += o->slots * m->numel;
    o->n_params += m->n_params;
  }
  ALLOC(hp, o->n_groups * TLI_OPTIM_NUM_HPARAMS);
  ALLOC(state, o->state_n);
  ALLOC(param_steps, o->n_params);
#undef ALLOC
  if (st != TL_OK) {
    destroy(o);
    return st;
  }
  *out = o;
  return TL_OK;
}

/* Step 3: every group's hyperparameters, the model references, zero
 * state. Cannot fail. */
static void create_fill(tl_optim *o, tl_model *const *models, size_t n_models,
                        const tl_optim_options *opts) {
  const double hp[TLI_OPTIM_NUM_HPARAMS] = {
      opts->lr, opts->momentum, opts->beta2, opts->eps, opts->weight_decay};
  o->nesterov = opts->nesterov;
  for (size_t g = 0; g < o->n_groups; g++)
    memcpy(o->hp + g * TLI_OPTIM_NUM_HPARAMS, hp, sizeof hp);
  o->n_models = n_models;
  for (size_t i = 0; i < n_models; i++) {
    o->models[i] = models[i];
    tli_model_retain(models[i]);
  }
  tl_optim_reset_state(o);
}

tl_status tl_optim_create(tl_optim **out, tl_model *const *models,
                          size_t n_models, const tl_optim_options *options) {
  static const char fn[] = "tl_optim_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, models);
  TLI_CHECK_PTR(fn, options);
  tl_optim_options opts;
  TLI_TRY(create_validate(&opts, models, n_models, options, fn));
  tl_optim *o = NULL;
  TLI_TRY(create_allocate(&o, models, n_models, opts.kind, fn));
  create_fill(o, models, n_models, &opts);
  *out = o;
  return TL_OK;
}

void tl_optim_free(tl_optim *optim) {
  if (optim != NULL)
    destroy(optim);
}

tl_status tli_optim_check_models(const tl_optim *o, const char *fn) {
  for (size_t i = 0; i < o->n_models; i++) {
    const tl_model *m = o->models[i];
    TLI_CHECK(m->structure == o->structure[i], TL_E_STATE,
              "%s: model %zu gained layers after the optimizer was created; "
              "create a new optimizer",
              fn, i);
    TLI_CHECK(tli_model_num_groups(m) == o->groups[i], TL_E_STATE,
              "%s: model %zu now has %zu groups, the optimizer was created "
              "with %zu",
              fn, i, tli_model_num_groups(m), o->groups[i]);
  }
  return TL_OK;
}

tl_status tl_optim_num_groups(size_t *out, const tl_optim *optim) {
  TLI_CHECK_PTR("tl_optim_num_groups", optim);
  TLI_CHECK_PTR("tl_optim_num_groups", out);
  *out = optim->n_groups;
  return TL_OK;
}

tl_status tl_optim_set_group_hparam(tl_optim *optim, size_t group,
                                    tl_optim_hparam which, double value) {
  const char *fn = "tl_optim_set_group_hparam";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK(group < optim->n_groups, TL_E_INVALID_ARG,
            "%s: group %zu out of range (%zu groups)", fn, group,
            optim->n_groups);
  TLI_CHECK((int)which >= 0 && (int)which < TLI_OPTIM_NUM_HPARAMS,
            TL_E_INVALID_ARG, "%s: which %d is unknown", fn, (int)which);
  TLI_TRY(
      tli_optim_check_hparam(optim->kind, optim->nesterov, which, value, fn));
  optim->hp[group * TLI_OPTIM_NUM_HPARAMS + which] = value;
  return TL_OK;
}

tl_status tl_optim_get_group_hparam(double *out, const tl_optim *optim,
                                    size_t group, tl_optim_hparam which) {
  const char *fn = "tl_optim_get_group_hparam";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(group < optim->n_groups, TL_E_INVALID_ARG,
            "%s: group %zu out of range (%zu groups)", fn, group,
            optim->n_groups);
  TLI_CHECK((int)which >= 0 && (int)which < TLI_OPTIM_NUM_HPARAMS,
            TL_E_INVALID_ARG, "%s: which %d is unknown", fn, (int)which);
  *out = optim->hp[group * TLI_OPTIM_NUM_HPARAMS + which];
  return TL_OK;
}

tl_status tl_optim_set_group_lr(tl_optim *optim, size_t group, double lr) {
  return tl_optim_set_group_hparam(optim, group, TL_OPTIM_LR, lr);
}

tl_status tl_optim_get_group_lr(double *out, const tl_optim *optim,
                                size_t group) {
  return tl_optim_get_group_hparam(out, optim, group, TL_OPTIM_LR);
}

tl_status tl_optim_set_lrs(tl_optim *optim, const double *lrs, size_t n) {
  const char *fn = "tl_optim_set_lrs";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, lrs);
  TLI_CHECK(n == optim->n_groups, TL_E_SHAPE,
            "%s: n = %zu but the optimizer has %zu groups", fn, n,
            optim->n_groups);
  for (size_t g = 0; g < n; g++)
    TLI_CHECK(isfinite(lrs[g]) && lrs[g] >= 0.0, TL_E_INVALID_ARG,
              "%s: lrs[%zu] must be finite and >= 0 (got %g)", fn, g, lrs[g]);
  for (size_t g = 0; g < n; g++)
    optim->hp[g * TLI_OPTIM_NUM_HPARAMS + TL_OPTIM_LR] = lrs[g];
  return TL_OK;
}

static tl_status check_lr_value(double v, const char *arg, const char *fn) {
  TLI_CHECK(isfinite(v) && v > 0.0, TL_E_INVALID_ARG,
            "%s: %s must be finite and > 0 (got %g)", fn, arg, v);
  return TL_OK;
}

tl_status tl_lrs_even(double *out, size_t n, double lo, double hi) {
  TLI_CHECK_PTR("tl_lrs_even", out);
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG, "tl_lrs_even: n must be >= 1");
  TLI_TRY(check_lr_value(lo, "lo", "tl_lrs_even"));
  TLI_TRY(check_lr_value(hi, "hi", "tl_lrs_even"));
  if (n == 1) {
    out[0] = hi; /* fastai even_mults(start, stop, 1) is stop */
    return TL_OK;
  }
  /* fastai even_mults: start * (stop/start)^(i/(n-1)). When stop/start
   * overflows or underflows (lo and hi further apart than the double
   * range, e.g. 1e-300 and 1e300) the same geometric sequence is
   * interpolated in log space instead; every member lies between lo and
   * hi, so it is representable. */
  const double step = (hi / lo);
  const int direct = isfinite(step) && step >= DBL_MIN;
  const double llo = log(lo), lstep = log(hi) - llo;
  for (size_t i = 0; i < n; i++) {
    const double t = (double)i / (double)(n - 1);
    out[i] = direct ? lo * pow(step, t) : exp(llo + lstep * t);
  }
  /* The ends exactly, as the direct form gives them for i = 0. */
  out[0] = lo;
  if (!direct)
    out[n - 1] = hi;
  return TL_OK;
}

tl_status tl_lrs_slice(double *out, size_t n, double hi) {
  TLI_CHECK_PTR("tl_lrs_slice", out);
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG, "tl_lrs_slice: n must be >= 1");
  TLI_TRY(check_lr_value(hi, "hi", "tl_lrs_slice"));
  for (size_t i = 0; i + 1 < n; i++)
    out[i] = hi / 10.0;
  out[n - 1] = hi;
  return TL_OK;
}

tl_status tl_lrs_factor(double *out, size_t n, double top, double factor) {
  TLI_CHECK_PTR("tl_lrs_factor", out);
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG, "tl_lrs_factor: n must be >= 1");
  TLI_TRY(check_lr_value(top, "top", "tl_lrs_factor"));
  TLI_TRY(check_lr_value(factor, "factor", "tl_lrs_factor"));
  /* top / factor^k as written (its rounding is fastai's) while factor^k is
   * a normal number; in log space when it over- or underflows (factor
   * 1e-300 at k = 2), where the quotient may still be representable. */
  for (int write = 0; write <= 1; write++)
    for (size_t i = 0; i < n; i++) {
      const double k = (double)(n - 1 - i), fk = pow(factor, k);
      const double v = fk >= DBL_MIN && fk <= DBL_MAX
                           ? top / fk
                           : exp(log(top) - k * log(factor));
      TLI_CHECK(v <= DBL_MAX, TL_E_NUMERIC,
                "tl_lrs_factor: group %zu's rate top / factor^%zu = %g / "
                "%g^%zu overflows",
                i, n - 1 - i, top, factor, n - 1 - i);
      if (write)
        out[i] = v;
    }
  return TL_OK;
}

tl_status tl_optim_freeze_to(tl_optim *optim, int64_t n) {
  const char *fn = "tl_optim_freeze_to";
  TLI_CHECK_PTR(fn, optim);
  TLI_TRY(tli_optim_check_models(optim, fn));
  const int64_t g = (int64_t)optim->n_groups;
  TLI_CHECK(n >= -g && n <= g, TL_E_INVALID_ARG,
            "%s: n = %" PRId64 " is outside [-%" PRId64 ", %" PRId64 "]", fn, n,
            g, g);
  const size_t k = (size_t)(n < 0 ? g + n : n);
  for (size_t i = 0; i < optim->n_models; i++) {
    const size_t base = optim->group_base[i];
    const size_t local = k <= base ? 0 : k - base;
    tli_model_apply_freeze_to(optim->models[i], local);
  }
  return tl_optim_reset_state(optim);
}

tl_status tl_optim_set_group_trainable(tl_optim *optim, size_t group,
                                       int trainable) {
  const char *fn = "tl_optim_set_group_trainable";
  TLI_CHECK_PTR(fn, optim);
  TLI_TRY(tli_optim_check_models(optim, fn));
  TLI_CHECK(group < optim->n_groups, TL_E_INVALID_ARG,
            "%s: group %zu out of range (%zu groups)", fn, group,
            optim->n_groups);
  TLI_CHECK(trainable == 0 || trainable == 1, TL_E_INVALID_ARG,
            "%s: trainable must be 0 or 1 (got %d)", fn, trainable);
  size_t i = optim->n_models;
  while (i-- > 0 && optim->group_base[i] > group) {
  }
  tli_model_set_group_flag(optim->models[i], group - optim->group_base[i],
                           trainable);
  return TL_OK;
}

tl_status tl_optim_zero_grad(tl_optim *optim) {
  TLI_CHECK_PTR("tl_optim_zero_grad", optim);
  for (size_t i = 0; i < optim->n_models; i++)
    tl_model_zero_grad(optim->models[i]);
  return TL_OK;
}

tl_status tl_optim_reset_state(tl_optim *optim) {
  TLI_CHECK_PTR("tl_optim_reset_state", optim);
  if (optim->state_n)
    memset(optim->state, 0, optim->state_n * sizeof(float));
  if (optim->n_params)
    memset(optim->param_steps, 0, optim->n_params * sizeof(uint64_t));
  optim->steps = 0;
  return TL_OK;
}

tl_status tl_optim_step_count(uint64_t *out, const tl_optim *optim) {
  TLI_CHECK_PTR("tl_optim_step_count", optim);
  TLI_CHECK_PTR("tl_optim_step_count", out);
  *out = optim->steps;
  return TL_OK;
}
