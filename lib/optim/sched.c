/* tl_sched: construction with validation, deep copies for composition, and
 * the public queries. The formulas live in sched_formulas.c. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "optim/sched_internal.h"

/* ---- options_init ---------------------------------------------------- */

/* One sizes table per options struct (core/options.h): the bytes each
 * version defines. */
TLI_VERSION_SIZES(stlr_sizes, TL_SCHED_STLR_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_stlr_options, ratio));
TLI_VERSION_SIZES(cyclic_sizes, TL_SCHED_CYCLIC_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_cyclic_options, max_momentum));
TLI_VERSION_SIZES(cosine_sizes, TL_SCHED_COSINE_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_cosine_options, eta_min));
TLI_VERSION_SIZES(cosine_restarts_sizes,
                  TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_cosine_restarts_options, eta_min));
TLI_VERSION_SIZES(one_cycle_sizes, TL_SCHED_ONE_CYCLE_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_one_cycle_options, max_momentum));
TLI_VERSION_SIZES(fastai_one_cycle_sizes,
                  TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_fastai_one_cycle_options, moms));
TLI_VERSION_SIZES(linear_sizes, TL_SCHED_LINEAR_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_linear_options, total_iters));
TLI_VERSION_SIZES(constant_sizes, TL_SCHED_CONSTANT_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_constant_options, total_iters));
TLI_VERSION_SIZES(step_sizes, TL_SCHED_STEP_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_step_options, gamma));
TLI_VERSION_SIZES(exponential_sizes, TL_SCHED_EXPONENTIAL_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_exponential_options, gamma));
TLI_VERSION_SIZES(multi_step_sizes, TL_SCHED_MULTI_STEP_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sched_multi_step_options, gamma));

tl_status tl_sched_stlr_options_init(tl_sched_stlr_options *out,
                                     unsigned int version) {
  static const tl_sched_stlr_options defaults = TL_SCHED_STLR_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, stlr_sizes,
                          "tl_sched_stlr_options_init");
}

tl_status tl_sched_cyclic_options_init(tl_sched_cyclic_options *out,
                                       unsigned int version) {
  static const tl_sched_cyclic_options defaults = TL_SCHED_CYCLIC_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, cyclic_sizes,
                          "tl_sched_cyclic_options_init");
}

tl_status tl_sched_cosine_options_init(tl_sched_cosine_options *out,
                                       unsigned int version) {
  static const tl_sched_cosine_options defaults = TL_SCHED_COSINE_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, cosine_sizes,
                          "tl_sched_cosine_options_init");
}

tl_status
tl_sched_cosine_restarts_options_init(tl_sched_cosine_restarts_options *out,
                                      unsigned int version) {
  static const tl_sched_cosine_restarts_options defaults =
      TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, cosine_restarts_sizes,
                          "tl_sched_cosine_restarts_options_init");
}

tl_status tl_sched_one_cycle_options_init(tl_sched_one_cycle_options *out,
                                          unsigned int version) {
  static const tl_sched_one_cycle_options defaults =
      TL_SCHED_ONE_CYCLE_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, one_cycle_sizes,
                          "tl_sched_one_cycle_options_init");
}

tl_status
tl_sched_fastai_one_cycle_options_init(tl_sched_fastai_one_cycle_options *out,
                                       unsigned int version) {
  static const tl_sched_fastai_one_cycle_options defaults =
      TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, fastai_one_cycle_sizes,
                          "tl_sched_fastai_one_cycle_options_init");
}

tl_status tl_sched_linear_options_init(tl_sched_linear_options *out,
                                       unsigned int version) {
  static const tl_sched_linear_options defaults = TL_SCHED_LINEAR_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, linear_sizes,
                          "tl_sched_linear_options_init");
}

tl_status tl_sched_constant_options_init(tl_sched_constant_options *out,
                                         unsigned int version) {
  static const tl_sched_constant_options defaults =
      TL_SCHED_CONSTANT_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, constant_sizes,
                          "tl_sched_constant_options_init");
}

tl_status tl_sched_step_options_init(tl_sched_step_options *out,
                                     unsigned int version) {
  static const tl_sched_step_options defaults = TL_SCHED_STEP_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, step_sizes,
                          "tl_sched_step_options_init");
}

tl_status tl_sched_exponential_options_init(tl_sched_exponential_options *out,
                                            unsigned int version) {
  static const tl_sched_exponential_options defaults =
      TL_SCHED_EXPONENTIAL_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, exponential_sizes,
                          "tl_sched_exponential_options_init");
}

tl_status tl_sched_multi_step_options_init(tl_sched_multi_step_options *out,
                                           unsigned int version) {
  static const tl_sched_multi_step_options defaults =
      TL_SCHED_MULTI_STEP_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, multi_step_sizes,
                          "tl_sched_multi_step_options_init");
}

/* ---- validation helpers ---------------------------------------------- */

/* Common head of every constructor: out and options present; `o` points
 * to a current copy of the caller's options (fields the caller's version
 * lacks hold their defaults). */
#define TLI_SCHED_CREATE_HEAD(fn, out, options, type, init, sizes)             \
  TLI_CHECK_PTR(fn, out);                                                      \
  TLI_CHECK_PTR(fn, options);                                                  \
  type o_ = init;                                                              \
  TLI_TRY(TLI_OPTIONS_COPY(&o_, options, sizes, fn, "options"));               \
  const type *o = &o_

/* A rate, momentum or factor: finite and >= 0. */
#define TLI_CHECK_NONNEG(fn, name, v)                                          \
  TLI_CHECK(isfinite(v) && (v) >= 0.0, TL_E_INVALID_ARG,                       \
            "%s: options->%s must be finite and >= 0 (got %g)", fn, name,      \
            (double)(v))

/* A divisor or growth factor: finite and > 0. */
#define TLI_CHECK_POS(fn, name, v)                                             \
  TLI_CHECK(isfinite(v) && (v) > 0.0, TL_E_INVALID_ARG,                        \
            "%s: options->%s must be finite and > 0 (got %g)", fn, name,       \
            (double)(v))

#define TLI_CHECK_STEPS(fn, name, v)                                           \
  TLI_CHECK((v) > 0, TL_E_INVALID_ARG, "%s: options->%s must be > 0 (got 0)",  \
            fn, name)

static tl_status sched_new(tl_sched **out, tl_sched_kind kind, const char *fn) {
  tl_sched *s = NULL;
  TLI_TRY(tli_alloc_checked((void **)&s, 1, sizeof *s, fn));
  memset(s, 0, sizeof *s);
  s->kind = kind;
  *out = s;
  return TL_OK;
}

/* ---- constructors ----------------------------------------------------- */

tl_status tl_sched_stlr_create(tl_sched **out,
                               const tl_sched_stlr_options *options) {
  static const char fn[] = "tl_sched_stlr_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_stlr_options,
                        TL_SCHED_STLR_OPTIONS_INIT, stlr_sizes);
  TLI_CHECK_NONNEG(fn, "lr_max", o->lr_max);
  TLI_CHECK_STEPS(fn, "total_steps", o->total_steps);
  TLI_CHECK(isfinite(o->cut_frac) && o->cut_frac > 0.0 && o->cut_frac < 1.0,
            TL_E_INVALID_ARG,
            "%s: options->cut_frac must be in (0, 1) (got %g)", fn,
            o->cut_frac);
  TLI_CHECK(isfinite(o->ratio) && o->ratio >= 1.0, TL_E_INVALID_ARG,
            "%s: options->ratio must be finite and >= 1 (got %g)", fn,
            o->ratio);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_STLR, fn));
  s->u.stlr = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_cyclic_create(tl_sched **out,
                                 const tl_sched_cyclic_options *options) {
  static const char fn[] = "tl_sched_cyclic_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_cyclic_options,
                        TL_SCHED_CYCLIC_OPTIONS_INIT, cyclic_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_NONNEG(fn, "max_lr", o->max_lr);
  TLI_CHECK_STEPS(fn, "step_size_up", o->step_size_up);
  TLI_CHECK(o->mode == TL_SCHED_CYCLIC_TRIANGULAR ||
                o->mode == TL_SCHED_CYCLIC_TRIANGULAR2 ||
                o->mode == TL_SCHED_CYCLIC_EXP_RANGE,
            TL_E_INVALID_ARG, "%s: options->mode %d is not a cyclic mode", fn,
            (int)o->mode);
  TLI_CHECK_POS(fn, "gamma", o->gamma);
  if (o->cycle_momentum) {
    TLI_CHECK_NONNEG(fn, "base_momentum", o->base_momentum);
    TLI_CHECK_NONNEG(fn, "max_momentum", o->max_momentum);
  }
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_CYCLIC, fn));
  s->u.cyclic = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_cosine_create(tl_sched **out,
                                 const tl_sched_cosine_options *options) {
  static const char fn[] = "tl_sched_cosine_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_cosine_options,
                        TL_SCHED_COSINE_OPTIONS_INIT, cosine_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_NONNEG(fn, "eta_min", o->eta_min);
  TLI_CHECK_STEPS(fn, "t_max", o->t_max);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_COSINE, fn));
  s->u.cosine = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_cosine_restarts_create(
    tl_sched **out, const tl_sched_cosine_restarts_options *options) {
  static const char fn[] = "tl_sched_cosine_restarts_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_cosine_restarts_options,
                        TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT,
                        cosine_restarts_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_NONNEG(fn, "eta_min", o->eta_min);
  TLI_CHECK_STEPS(fn, "t_0", o->t_0);
  TLI_CHECK(o->t_mult >= 1, TL_E_INVALID_ARG,
            "%s: options->t_mult must be >= 1 (got 0)", fn);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_COSINE_RESTARTS, fn));
  s->u.restarts = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_one_cycle_create(tl_sched **out,
                                    const tl_sched_one_cycle_options *options) {
  static const char fn[] = "tl_sched_one_cycle_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_one_cycle_options,
                        TL_SCHED_ONE_CYCLE_OPTIONS_INIT, one_cycle_sizes);
  TLI_CHECK_NONNEG(fn, "max_lr", o->max_lr);
  TLI_CHECK_STEPS(fn, "total_steps", o->total_steps);
  TLI_CHECK(
      isfinite(o->pct_start) && o->pct_start >= 0.0 && o->pct_start <= 1.0,
      TL_E_INVALID_ARG, "%s: options->pct_start must be in [0, 1] (got %g)", fn,
      o->pct_start);
  TLI_CHECK(!o->three_phase || o->pct_start <= 0.5, TL_E_INVALID_ARG,
            "%s: options->pct_start must be <= 0.5 with three_phase (got %g): "
            "the phases would overlap",
            fn, o->pct_start);
  TLI_CHECK_POS(fn, "div_factor", o->div_factor);
  TLI_CHECK_POS(fn, "final_div_factor", o->final_div_factor);
  TLI_CHECK(
      o->anneal == TL_SCHED_ANNEAL_COS || o->anneal == TL_SCHED_ANNEAL_LINEAR,
      TL_E_INVALID_ARG, "%s: options->anneal %d is not an anneal strategy", fn,
      (int)o->anneal);
  if (o->cycle_momentum) {
    TLI_CHECK_NONNEG(fn, "base_momentum", o->base_momentum);
    TLI_CHECK_NONNEG(fn, "max_momentum", o->max_momentum);
  }
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_ONE_CYCLE, fn));
  s->u.one_cycle = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_fastai_one_cycle_create(
    tl_sched **out, const tl_sched_fastai_one_cycle_options *options) {
  static const char fn[] = "tl_sched_fastai_one_cycle_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_fastai_one_cycle_options,
                        TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT,
                        fastai_one_cycle_sizes);
  TLI_CHECK_NONNEG(fn, "lr_max", o->lr_max);
  TLI_CHECK_STEPS(fn, "total_steps", o->total_steps);
  TLI_CHECK(isfinite(o->pct_start) && o->pct_start > 0.0 && o->pct_start < 1.0,
            TL_E_INVALID_ARG,
            "%s: options->pct_start must be in (0, 1) (got %g)", fn,
            o->pct_start);
  TLI_CHECK_POS(fn, "div", o->div);
  TLI_CHECK_POS(fn, "div_final", o->div_final);
  TLI_CHECK_NONNEG(fn, "moms[0]", o->moms[0]);
  TLI_CHECK_NONNEG(fn, "moms[1]", o->moms[1]);
  TLI_CHECK_NONNEG(fn, "moms[2]", o->moms[2]);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_FASTAI_ONE_CYCLE, fn));
  s->u.fastai = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_linear_create(tl_sched **out,
                                 const tl_sched_linear_options *options) {
  static const char fn[] = "tl_sched_linear_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_linear_options,
                        TL_SCHED_LINEAR_OPTIONS_INIT, linear_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_POS(fn, "start_factor", o->start_factor);
  TLI_CHECK_NONNEG(fn, "end_factor", o->end_factor);
  TLI_CHECK_STEPS(fn, "total_iters", o->total_iters);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_LINEAR, fn));
  s->u.linear = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_constant_create(tl_sched **out,
                                   const tl_sched_constant_options *options) {
  static const char fn[] = "tl_sched_constant_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_constant_options,
                        TL_SCHED_CONSTANT_OPTIONS_INIT, constant_sizes);
  TLI_CHECK_NONNEG(fn, "lr", o->lr);
  TLI_CHECK_NONNEG(fn, "factor", o->factor);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_CONSTANT, fn));
  s->u.constant = *o;
  *out = s;
  return TL_OK;
}

tl_status tl_sched_step_create(tl_sched **out,
                               const tl_sched_step_options *options) {
  static const char fn[] = "tl_sched_step_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_step_options,
                        TL_SCHED_STEP_OPTIONS_INIT, step_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_STEPS(fn, "step_size", o->step_size);
  TLI_CHECK_POS(fn, "gamma", o->gamma);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_STEP, fn));
  s->u.step = *o;
  *out = s;
  return TL_OK;
}

tl_status
tl_sched_exponential_create(tl_sched **out,
                            const tl_sched_exponential_options *options) {
  static const char fn[] = "tl_sched_exponential_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_exponential_options,
                        TL_SCHED_EXPONENTIAL_OPTIONS_INIT, exponential_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_POS(fn, "gamma", o->gamma);
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_EXPONENTIAL, fn));
  s->u.exponential = *o;
  *out = s;
  return TL_OK;
}

tl_status
tl_sched_multi_step_create(tl_sched **out,
                           const tl_sched_multi_step_options *options) {
  static const char fn[] = "tl_sched_multi_step_create";
  TLI_SCHED_CREATE_HEAD(fn, out, options, tl_sched_multi_step_options,
                        TL_SCHED_MULTI_STEP_OPTIONS_INIT, multi_step_sizes);
  TLI_CHECK_NONNEG(fn, "base_lr", o->base_lr);
  TLI_CHECK_POS(fn, "gamma", o->gamma);
  TLI_CHECK(o->n_milestones > 0, TL_E_INVALID_ARG,
            "%s: options->n_milestones must be > 0 (got 0)", fn);
  TLI_CHECK_PTR(fn, o->milestones);
  for (size_t i = 1; i < o->n_milestones; i++)
    TLI_CHECK(o->milestones[i] >= o->milestones[i - 1], TL_E_INVALID_ARG,
              "%s: options->milestones must be non-decreasing "
              "(milestones[%zu] = %llu < milestones[%zu] = %llu)",
              fn, i, (unsigned long long)o->milestones[i], i - 1,
              (unsigned long long)o->milestones[i - 1]);
  uint64_t *copy = NULL;
  TLI_TRY(tli_alloc_checked((void **)&copy, o->n_milestones, sizeof *copy, fn));
  memcpy(copy, o->milestones, o->n_milestones * sizeof *copy);
  tl_sched *s;
  tl_status st = sched_new(&s, TL_SCHED_MULTI_STEP, fn);
  if (st != TL_OK) {
    tli_free(copy);
    return st;
  }
  s->u.multi_step = *o;
  s->u.multi_step.milestones = copy;
  *out = s;
  return TL_OK;
}

/* ---- copies and sequential composition -------------------------------- */

void tl_sched_free(tl_sched *sched) {
  if (sched == NULL)
    return;
  if (sched->kind == TL_SCHED_MULTI_STEP) {
    tli_free((void *)sched->u.multi_step.milestones);
  } else if (sched->kind == TL_SCHED_SEQUENTIAL) {
    for (size_t i = 0; i < sched->u.seq.n; i++)
      tl_sched_free(sched->u.seq.children[i]);
    tli_free(sched->u.seq.children);
    tli_free(sched->u.seq.starts);
  }
  tli_free(sched);
}

static tl_status sched_clone(tl_sched **out, const tl_sched *src);

/* A sequential schedule over copies of children[0..n) starting at
 * starts[0..n). On failure everything built so far is freed. */
static tl_status sequential_build(tl_sched **out,
                                  const tl_sched *const *children, size_t n,
                                  const uint64_t *starts, const char *fn) {
  tl_sched *s;
  TLI_TRY(sched_new(&s, TL_SCHED_SEQUENTIAL, fn));
  tl_status st =
      tli_alloc_checked((void **)&s->u.seq.children, n, sizeof(tl_sched *), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&s->u.seq.starts, n, sizeof(uint64_t), fn);
  if (st != TL_OK) {
    tl_sched_free(s); /* n is still 0: frees only the arrays */
    return st;
  }
  for (size_t i = 0; i < n; i++) {
    st = sched_clone(&s->u.seq.children[i], children[i]);
    if (st != TL_OK) {
      tl_sched_free(s);
      return st;
    }
    s->u.seq.starts[i] = starts[i];
    s->u.seq.n = i + 1;
  }
  *out = s;
  return TL_OK;
}

static tl_status sched_clone(tl_sched **out, const tl_sched *src) {
  static const char fn[] = "tl_sched_sequential_create";
  if (src->kind == TL_SCHED_MULTI_STEP)
    return tl_sched_multi_step_create(out, &src->u.multi_step);
  if (src->kind == TL_SCHED_SEQUENTIAL)
    return sequential_build(out, (const tl_sched *const *)src->u.seq.children,
                            src->u.seq.n, src->u.seq.starts, fn);
  tl_sched *s;
  TLI_TRY(sched_new(&s, src->kind, fn));
  s->u = src->u; /* every other kind is plain data */
  *out = s;
  return TL_OK;
}

tl_status tl_sched_sequential_create(tl_sched **out,
                                     const tl_sched *const *scheds, size_t n,
                                     const uint64_t *milestones) {
  static const char fn[] = "tl_sched_sequential_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, scheds);
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(scheds[i] != NULL, TL_E_INVALID_ARG, "%s: scheds[%zu] is NULL",
              fn, i);
  if (n > 1) {
    TLI_CHECK_PTR(fn, milestones);
    TLI_CHECK(milestones[0] > 0, TL_E_INVALID_ARG,
              "%s: milestones[0] must be > 0 (got 0)", fn);
    for (size_t i = 1; i + 1 < n; i++)
      TLI_CHECK(milestones[i] > milestones[i - 1], TL_E_INVALID_ARG,
                "%s: milestones must be strictly increasing (milestones[%zu] = "
                "%llu <= milestones[%zu] = %llu)",
                fn, i, (unsigned long long)milestones[i], i - 1,
                (unsigned long long)milestones[i - 1]);
  }
  uint64_t *starts = NULL;
  TLI_TRY(tli_alloc_checked((void **)&starts, n, sizeof *starts, fn));
  starts[0] = 0;
  for (size_t i = 1; i < n; i++)
    starts[i] = milestones[i - 1];
  const tl_status st = sequential_build(out, scheds, n, starts, fn);
  tli_free(starts);
  return st;
}

/* ---- queries ------------------------------------------------------------ */

/* The leaf active at step and the step it sees, through nested sequential
 * schedules. */
static const tl_sched *active_leaf(const tl_sched *s, uint64_t step,
                                   uint64_t *local) {
  while (s->kind == TL_SCHED_SEQUENTIAL) {
    size_t i = s->u.seq.n - 1;
    while (i > 0 && step < s->u.seq.starts[i])
      i--;
    step -= s->u.seq.starts[i];
    s = s->u.seq.children[i];
  }
  *local = step;
  return s;
}

tl_status tl_sched_lr(double *out, const tl_sched *sched, uint64_t step) {
  const tl_sched *s = sched;
  static const char fn[] = "tl_sched_lr";
  TLI_CHECK_PTR(fn, sched);
  TLI_CHECK_PTR(fn, out);
  uint64_t local;
  const tl_sched *leaf = active_leaf(s, step, &local);
  const double lr = tli_sched_leaf_lr(leaf, local);
  TLI_CHECK(isfinite(lr), TL_E_NUMERIC,
            "%s: the rate at step %llu is not finite (a growth factor > 1 "
            "overflowed)",
            fn, (unsigned long long)step);
  *out = lr;
  return TL_OK;
}

tl_status tl_sched_momentum(double *out, const tl_sched *sched, uint64_t step) {
  const tl_sched *s = sched;
  static const char fn[] = "tl_sched_momentum";
  TLI_CHECK_PTR(fn, sched);
  TLI_CHECK_PTR(fn, out);
  uint64_t local;
  const tl_sched *leaf = active_leaf(s, step, &local);
  double m = 0.0;
  TLI_CHECK(tli_sched_leaf_momentum(leaf, local, &m), TL_E_UNSUPPORTED,
            "%s: the schedule active at step %llu has no momentum", fn,
            (unsigned long long)step);
  TLI_CHECK(isfinite(m), TL_E_NUMERIC,
            "%s: the momentum at step %llu is not finite", fn,
            (unsigned long long)step);
  *out = m;
  return TL_OK;
}

int tl_sched_has_momentum(const tl_sched *sched) {
  const tl_sched *s = sched;
  if (sched == NULL)
    return 0;
  if (s->kind != TL_SCHED_SEQUENTIAL)
    return tli_sched_leaf_has_momentum(s);
  for (size_t i = 0; i < s->u.seq.n; i++)
    if (!tl_sched_has_momentum(s->u.seq.children[i]))
      return 0;
  return 1;
}

tl_status tl_sched_get_kind(tl_sched_kind *out, const tl_sched *sched) {
  const tl_sched *s = sched;
  TLI_CHECK_PTR("tl_sched_get_kind", sched);
  TLI_CHECK_PTR("tl_sched_get_kind", out);
  *out = s->kind;
  return TL_OK;
}

static uint64_t total_steps(const tl_sched *s) {
  switch (s->kind) {
  case TL_SCHED_STLR: return s->u.stlr.total_steps;
  case TL_SCHED_COSINE: return s->u.cosine.t_max;
  case TL_SCHED_ONE_CYCLE: return s->u.one_cycle.total_steps;
  case TL_SCHED_FASTAI_ONE_CYCLE: return s->u.fastai.total_steps;
  case TL_SCHED_LINEAR: return s->u.linear.total_iters;
  case TL_SCHED_SEQUENTIAL: {
    const size_t last = s->u.seq.n - 1;
    const uint64_t tail = total_steps(s->u.seq.children[last]);
    const uint64_t start = s->u.seq.starts[last];
    if (tail == 0)
      return 0;
    return tail > UINT64_MAX - start ? UINT64_MAX : start + tail;
  }
  default: return 0;
  }
}

tl_status tl_sched_total_steps(uint64_t *out, const tl_sched *sched) {
  const tl_sched *s = sched;
  TLI_CHECK_PTR("tl_sched_total_steps", sched);
  TLI_CHECK_PTR("tl_sched_total_steps", out);
  *out = total_steps(s);
  return TL_OK;
}

tl_status tl_sched_reference_lr(double *out, const tl_sched *sched,
                                uint64_t step) {
  const tl_sched *s = sched;
  TLI_CHECK_PTR("tl_sched_reference_lr", sched);
  TLI_CHECK_PTR("tl_sched_reference_lr", out);
  uint64_t local;
  *out = tli_sched_leaf_reference(active_leaf(s, step, &local));
  return TL_OK;
}

tl_status tl_sched_multiplier(double *out, const tl_sched *sched,
                              uint64_t step) {
  const tl_sched *s = sched;
  static const char fn[] = "tl_sched_multiplier";
  TLI_CHECK_PTR(fn, sched);
  TLI_CHECK_PTR(fn, out);
  uint64_t local;
  const tl_sched *leaf = active_leaf(s, step, &local);
  const double ref = tli_sched_leaf_reference(leaf);
  TLI_CHECK(ref > 0.0, TL_E_STATE,
            "%s: the reference rate of the schedule active at step %llu is 0, "
            "so it has no multiplier form",
            fn, (unsigned long long)step);
  const double lr = tli_sched_leaf_lr(leaf, local);
  TLI_CHECK(isfinite(lr), TL_E_NUMERIC,
            "%s: the rate at step %llu is not finite", fn,
            (unsigned long long)step);
  *out = lr / ref;
  return TL_OK;
}

tl_status tl_sched_fill_group_lrs(double *out_lrs, size_t n_groups,
                                  const tl_sched *sched, const double *base_lrs,
                                  uint64_t step) {
  const tl_sched *s = sched;
  static const char fn[] = "tl_sched_fill_group_lrs";
  TLI_CHECK_PTR(fn, out_lrs);
  TLI_CHECK_PTR(fn, base_lrs);
  TLI_CHECK_PTR(fn, sched);
  TLI_CHECK(n_groups > 0, TL_E_INVALID_ARG, "%s: n_groups must be > 0", fn);
  for (size_t g = 0; g < n_groups; g++)
    TLI_CHECK(isfinite(base_lrs[g]) && base_lrs[g] >= 0.0, TL_E_INVALID_ARG,
              "%s: base_lrs[%zu] must be finite and >= 0 (got %g)", fn, g,
              base_lrs[g]);
  double m;
  TLI_TRY(tl_sched_multiplier(&m, s, step));
  for (size_t g = 0; g < n_groups; g++)
    TLI_CHECK(isfinite(base_lrs[g] * m), TL_E_NUMERIC,
              "%s: base_lrs[%zu] * multiplier overflows", fn, g);
  for (size_t g = 0; g < n_groups; g++)
    out_lrs[g] = base_lrs[g] * m;
  return TL_OK;
}

/* out[g] = get(scheds[g], step) for every group, checking every value
 * before writing any so that a failure changes nothing. */
typedef tl_status (*tli_sched_getter)(double *, const tl_sched *, uint64_t);
static tl_status fill_each(double *out, size_t n_groups,
                           const tl_sched *const *scheds, uint64_t step,
                           tli_sched_getter get, const char *fn) {
  TLI_CHECK(out != NULL, TL_E_INVALID_ARG, "%s: the output array is NULL", fn);
  TLI_CHECK_PTR(fn, scheds);
  TLI_CHECK(n_groups > 0, TL_E_INVALID_ARG, "%s: n_groups must be > 0", fn);
  for (size_t g = 0; g < n_groups; g++)
    TLI_CHECK(scheds[g] != NULL, TL_E_INVALID_ARG, "%s: scheds[%zu] is NULL",
              fn, g);
  double v;
  for (size_t g = 0; g < n_groups; g++)
    TLI_TRY(get(&v, scheds[g], step));
  for (size_t g = 0; g < n_groups; g++)
    (void)get(&out[g], scheds[g], step);
  return TL_OK;
}

tl_status tl_sched_fill_group_lrs_each(double *out_lrs, size_t n_groups,
                                       const tl_sched *const *scheds,
                                       uint64_t step) {
  return fill_each(out_lrs, n_groups, scheds, step, tl_sched_lr,
                   "tl_sched_fill_group_lrs_each");
}

tl_status tl_sched_fill_group_momenta_each(double *out_momenta, size_t n_groups,
                                           const tl_sched *const *scheds,
                                           uint64_t step) {
  return fill_each(out_momenta, n_groups, scheds, step, tl_sched_momentum,
                   "tl_sched_fill_group_momenta_each");
}

tl_status tl_sched_fill_group_momenta(double *out_momenta, size_t n_groups,
                                      const tl_sched *sched, uint64_t step) {
  const tl_sched *s = sched;
  static const char fn[] = "tl_sched_fill_group_momenta";
  TLI_CHECK_PTR(fn, out_momenta);
  TLI_CHECK_PTR(fn, sched);
  TLI_CHECK(n_groups > 0, TL_E_INVALID_ARG, "%s: n_groups must be > 0", fn);
  double m;
  TLI_TRY(tl_sched_momentum(&m, s, step));
  for (size_t g = 0; g < n_groups; g++)
    out_momenta[g] = m;
  return TL_OK;
}
