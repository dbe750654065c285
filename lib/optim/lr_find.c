/* The LR range test (fastai's LRFinder and its suggestion functions) on a
 * tl_optim: exponential sweep, smoothed loss, early stop, full restore. */
/* This file defines the experimental tier (docs/api-conventions.md). */
#define TL_EXPERIMENTAL_API
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"
#include "tl/model.h"
#include "tl/plan.h"

TLI_VERSION_SIZES(lr_find_options_sizes, TL_LR_FIND_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_lr_find_options, stop_factor));
TLI_VERSION_SIZES(lr_find_result_sizes, TL_LR_FIND_RESULT_VERSION,
                  TLI_FIELD_END(tl_lr_find_result, lr_valley));

tl_status tl_lr_find_options_init(tl_lr_find_options *out,
                                  unsigned int version) {
  static const tl_lr_find_options defaults = TL_LR_FIND_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, lr_find_options_sizes,
                          "tl_lr_find_options_init");
}

static tl_status check_options(const tl_lr_find_options *o, size_t capacity,
                               const char *fn) {
  TLI_CHECK(isfinite(o->start_lr) && o->start_lr > 0.0, TL_E_INVALID_ARG,
            "%s: options->start_lr must be finite and > 0 (got %g)", fn,
            o->start_lr);
  TLI_CHECK(isfinite(o->end_lr) && o->end_lr > o->start_lr, TL_E_INVALID_ARG,
            "%s: options->end_lr must be finite and > start_lr (got %g)", fn,
            o->end_lr);
  TLI_CHECK(o->num_it > 0, TL_E_INVALID_ARG,
            "%s: options->num_it must be > 0 (got 0)", fn);
  TLI_CHECK(isfinite(o->beta) && o->beta >= 0.0 && o->beta < 1.0,
            TL_E_INVALID_ARG, "%s: options->beta must be in [0, 1) (got %g)",
            fn, o->beta);
  TLI_CHECK(o->stop_factor == 0.0 ||
                (isfinite(o->stop_factor) && o->stop_factor > 1.0),
            TL_E_INVALID_ARG,
            "%s: options->stop_factor must be 0 or finite and > 1 (got %g)", fn,
            o->stop_factor);
  TLI_CHECK(capacity >= o->num_it, TL_E_INVALID_ARG,
            "%s: capacity %zu is smaller than options->num_it %zu", fn,
            capacity, o->num_it);
  return TL_OK;
}

/* ---- suggestions (fastai minimum, steep, valley) ----------------------- */

static size_t argmin(const double *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] < v[best])
      best = i;
  return best;
}

/* fastai's valley: the longest strictly decreasing subsequence ending at
 * each point (O(n^2), n <= num_it), then 2/3 of the way into the longest.
 * Index arithmetic as in Python, including a start of -1 that wraps to the
 * last point. lds is scratch of n entries. */
static size_t valley_index(const double *losses, size_t n, size_t *lds) {
  long max_start = 0;
  size_t max_end = 0;
  for (size_t i = 0; i < n; i++)
    lds[i] = 1;
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1)
        lds[i] = lds[j] + 1;
      if (lds[max_end] < lds[i]) {
        max_end = i;
        max_start = (long)max_end - (long)lds[max_end];
      }
    }
  const double sections = (double)((long)max_end - max_start) / 3.0;
  long idx = max_start + (long)sections + (long)(sections / 2.0);
  if (idx < 0)
    idx += (long)n;
  return (size_t)idx;
}

/* The suggestions into a current result struct (out->diverged untouched). */
static tl_status suggest(tl_lr_find_result *out, const double *lrs,
                         const double *losses, size_t n, size_t num_it,
                         const char *fn) {
  TLI_CHECK(n == 0 || (lrs != NULL && losses != NULL), TL_E_INVALID_ARG,
            "%s: lrs and losses must not be NULL when n > 0", fn);
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(isfinite(lrs[i]) && lrs[i] > 0.0, TL_E_INVALID_ARG,
              "%s: lrs[%zu] must be finite and > 0 (got %g)", fn, i, lrs[i]);
    TLI_CHECK(isfinite(losses[i]), TL_E_INVALID_ARG,
              "%s: losses[%zu] is not finite", fn, i);
  }
  /* fastai: recorder.lrs[num_it//10:-5]. */
  const size_t lo = num_it / 10;
  const size_t hi = n >= 5 ? n - 5 : 0;
  out->n = n;
  out->has_suggestions = 0;
  out->lr_min = out->lr_steep = out->lr_valley = 0.0;
  if (hi < lo + 2)
    return TL_OK;
  const double *l = losses + lo, *r = lrs + lo;
  const size_t m = hi - lo;
  size_t *scratch = NULL;
  TLI_TRY(tli_alloc_checked((void **)&scratch, m, sizeof *scratch, fn));
  out->lr_min = r[argmin(l, m)] / 10.0;
  size_t steep = 0;
  double best = INFINITY;
  for (size_t i = 0; i + 1 < m; i++) {
    const double g = (l[i + 1] - l[i]) / (log(r[i + 1]) - log(r[i]));
    if (g < best) {
      best = g;
      steep = i;
    }
  }
  out->lr_steep = r[steep];
  out->lr_valley = r[valley_index(l, m, scratch)];
  out->has_suggestions = 1;
  tli_free(scratch);
  return TL_OK;
}

tl_status tl_lr_find_suggest(tl_lr_find_result *out, const double *lrs,
                             const double *losses, size_t n, size_t num_it) {
  static const char fn[] = "tl_lr_find_suggest";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_version_check(out->version, TL_LR_FIND_RESULT_VERSION, fn,
                            "out->version"));
  /* Computed in a current struct, then only the caller's version's bytes
   * are written: diverged is left as the caller had it. */
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  TLI_TRY(TLI_OPTIONS_COPY(&r, out, lr_find_result_sizes, fn, "out"));
  TLI_TRY(suggest(&r, lrs, losses, n, num_it, fn));
  return tli_options_write(out, &r, lr_find_result_sizes,
                           TLI_VERSIONS(lr_find_result_sizes), fn, "out");
}

/* ---- the test ---------------------------------------------------------- */

/* Everything lr_find must put back: each model's parameters and buffers
 * (BatchNorm running statistics, which every train-mode forward of the test
 * moves; fastai restores them with the whole model), the optimizer state
 * and hyperparameters. */
typedef struct snapshot {
  float **params;
  size_t *n_params;
  float **stats;    /* per model: its float buffers, concatenated */
  int64_t **counts; /* per model: its count buffers */
  size_t n_models;
  void *state;
  size_t state_size;
  double *hp;
} snapshot;

static void snapshot_free(snapshot *s) {
  for (size_t i = 0; i < s->n_models; i++) {
    if (s->params)
      tli_free(s->params[i]);
    if (s->stats)
      tli_free(s->stats[i]);
    if (s->counts)
      tli_free(s->counts[i]);
  }
  tli_free(s->params);
  tli_free(s->stats);
  tli_free(s->counts);
  tli_free(s->n_params);
  tli_free(s->state);
  tli_free(s->hp);
  memset(s, 0, sizeof *s);
}

/* Copies model m's buffers into (to_model 0) or back from (1) stats and
 * counts; with stats NULL only counts how many floats and counts there
 * are. */
static void buffers_copy(tl_model *m, float *stats, int64_t *counts,
                         size_t *n_stats, size_t *n_counts, int to_model) {
  size_t f = 0, c = 0;
  for (size_t k = 0; k < m->n_buffers; k++) {
    tli_buffer *b = &m->buffers[k];
    if (b->kind == TLI_BUFFER_COUNT) {
      if (stats != NULL) {
        if (to_model)
          b->count = counts[c];
        else
          counts[c] = b->count;
      }
      c++;
    } else {
      if (stats != NULL) {
        if (to_model)
          memcpy(b->data, stats + f, b->numel * sizeof(float));
        else
          memcpy(stats + f, b->data, b->numel * sizeof(float));
      }
      f += b->numel;
    }
  }
  *n_stats = f;
  *n_counts = c;
}

/* Allocates and fills s->stats[i] and s->counts[i] from model m. */
static tl_status snapshot_buffers(snapshot *s, size_t i, tl_model *m,
                                  const char *fn) {
  size_t nf = 0, nc = 0;
  buffers_copy(m, NULL, NULL, &nf, &nc, 0);
  TLI_TRY(tli_alloc_checked((void **)&s->stats[i], nf, sizeof(float), fn));
  TLI_TRY(tli_alloc_checked((void **)&s->counts[i], nc, sizeof(int64_t), fn));
  buffers_copy(m, s->stats[i], s->counts[i], &nf, &nc, 0);
  return TL_OK;
}

static tl_status snapshot_take(snapshot *s, tl_optim *o, const char *fn) {
  memset(s, 0, sizeof *s);
  tl_status st =
      tli_alloc_checked((void **)&s->params, o->n_models, sizeof(float *), fn);
  if (st == TL_OK) {
    memset(s->params, 0, o->n_models * sizeof(float *));
    s->n_models = o->n_models;
    st = tli_alloc_checked((void **)&s->n_params, o->n_models, sizeof(size_t),
                           fn);
  }
  if (st == TL_OK) {
    st =
        tli_alloc_checked((void **)&s->stats, o->n_models, sizeof(float *), fn);
    if (st == TL_OK)
      memset(s->stats, 0, o->n_models * sizeof(float *));
  }
  if (st == TL_OK) {
    st = tli_alloc_checked((void **)&s->counts, o->n_models, sizeof(int64_t *),
                           fn);
    if (st == TL_OK)
      memset(s->counts, 0, o->n_models * sizeof(int64_t *));
  }
  for (size_t i = 0; st == TL_OK && i < o->n_models; i++)
    st = snapshot_buffers(s, i, o->models[i], fn);
  for (size_t i = 0; st == TL_OK && i < o->n_models; i++) {
    float *flat;
    st = tl_model_flat_params(&flat, &s->n_params[i], o->models[i]);
    if (st == TL_OK)
      st = tli_alloc_checked((void **)&s->params[i], s->n_params[i],
                             sizeof(float), fn);
    if (st == TL_OK)
      memcpy(s->params[i], flat, s->n_params[i] * sizeof(float));
  }
  if (st == TL_OK)
    st = tl_optim_state_size(&s->state_size, o);
  if (st == TL_OK)
    st = tli_alloc_checked(&s->state, s->state_size, 1, fn);
  if (st == TL_OK)
    st = tl_optim_state_save(s->state, s->state_size, o);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&s->hp, o->n_groups * TLI_OPTIM_NUM_HPARAMS,
                           sizeof(double), fn);
  if (st == TL_OK)
    memcpy(s->hp, o->hp, o->n_groups * TLI_OPTIM_NUM_HPARAMS * sizeof(double));
  if (st != TL_OK)
    snapshot_free(s);
  return st;
}

/* Restores and zeroes the gradients. Cannot fail: the buffers have the
 * sizes they had when taken (the callback may not change the structure;
 * if it did, tl_optim refuses to step and the parameters are left). */
static void snapshot_restore(const snapshot *s, tl_optim *o) {
  for (size_t i = 0; i < s->n_models; i++) {
    float *flat;
    size_t n;
    if (tl_model_flat_params(&flat, &n, o->models[i]) == TL_OK &&
        n == s->n_params[i])
      memcpy(flat, s->params[i], n * sizeof(float));
    size_t nf = 0, nc = 0;
    buffers_copy(o->models[i], s->stats[i], s->counts[i], &nf, &nc, 1);
    tl_model_zero_grad(o->models[i]);
  }
  (void)tl_optim_state_load(o, s->state, s->state_size);
  memcpy(o->hp, s->hp, o->n_groups * TLI_OPTIM_NUM_HPARAMS * sizeof(double));
}

tl_status tl_lr_find(tl_lr_find_result *out, double *out_lrs,
                     double *out_losses, size_t capacity, tl_optim *optim,
                     tl_lr_find_step_fn step, void *payload,
                     const tl_lr_find_options *options) {
  static const char fn[] = "tl_lr_find";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, out_lrs);
  TLI_CHECK_PTR(fn, out_losses);
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, step);
  TLI_TRY(tli_version_check(out->version, TL_LR_FIND_RESULT_VERSION, fn,
                            "out->version"));
  tl_lr_find_options opts = TL_LR_FIND_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&opts, options, lr_find_options_sizes, fn, "options"));
  options = &opts;
  TLI_TRY(check_options(options, capacity, fn));
  TLI_TRY(tli_optim_check_models(optim, fn));

  snapshot snap;
  TLI_TRY(snapshot_take(&snap, optim, fn));
  const double ratio = options->end_lr / options->start_lr;
  const double beta = options->beta;
  double val = 0.0, best = INFINITY;
  size_t n = 0;
  int diverged = 0;
  tl_status st = TL_OK;
  for (size_t i = 0; i < options->num_it; i++) {
    const double lr =
        options->start_lr * pow(ratio, (double)i / (double)options->num_it);
    for (size_t g = 0; g < optim->n_groups && st == TL_OK; g++)
      st = tl_optim_set_group_lr(optim, g, lr);
    if (st != TL_OK)
      break;
    double loss = NAN;
    st = step(payload, &loss);
    if (st != TL_OK) {
      /* Keep the callback's own message, say where it happened. */
      char why[256];
      snprintf(why, sizeof why, "%s", tl_last_error());
      st = tli_fail(st, "%s: the step callback failed at iteration %zu: %s", fn,
                    i, why);
      break;
    }
    if (!isfinite(loss)) {
      diverged = 1;
      break;
    }
    val = loss + beta * (val - loss); /* torch.lerp(loss, val, beta) */
    const double smooth = val / (1.0 - pow(beta, (double)(i + 1)));
    out_lrs[n] = lr;
    out_losses[n] = smooth;
    n++;
    if (smooth < best)
      best = smooth;
    if (options->stop_factor > 0.0 && smooth > options->stop_factor * best) {
      diverged = 1;
      break;
    }
  }
  snapshot_restore(&snap, optim);
  snapshot_free(&snap);
  if (st != TL_OK)
    return st;
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  TLI_TRY(suggest(&r, out_lrs, out_losses, n, options->num_it, fn));
  r.diverged = diverged;
  return tli_options_write(out, &r, lr_find_result_sizes,
                           TLI_VERSIONS(lr_find_result_sizes), fn, "out");
}
