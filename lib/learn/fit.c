/* The learner's loops (include/tl/learn.h): one training step over the
 * chain, validation with metrics, the callbacks and built-ins, fit,
 * fit_one_cycle, fine_tune, fit_sgdr and lr_find. The arithmetic of rates
 * and momenta is the schedules' and plans' (tl/sched.h, tl/plan.h); this
 * file only decides which step of which plan applies. */
/* This file defines tl_learner_lr_find, of the experimental tier. */
#define TL_EXPERIMENTAL_API
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "learn/learn_internal.h"
#include "tl/sched.h"

TLI_VERSION_SIZES(fit_options_sizes, TL_FIT_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_fit_options, wd));
TLI_VERSION_SIZES(one_cycle_options_sizes, TL_FIT_ONE_CYCLE_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_fit_one_cycle_options, start_epoch));
TLI_VERSION_SIZES(fine_tune_options_sizes, TL_FINE_TUNE_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_fine_tune_options, wd));
TLI_VERSION_SIZES(sgdr_options_sizes, TL_FIT_SGDR_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_fit_sgdr_options, wd));

tl_status tl_fit_options_init(tl_fit_options *out, unsigned int version) {
  static const tl_fit_options defaults = TL_FIT_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, fit_options_sizes,
                          "tl_fit_options_init");
}

tl_status tl_fit_one_cycle_options_init(tl_fit_one_cycle_options *out,
                                        unsigned int version) {
  static const tl_fit_one_cycle_options defaults =
      TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, one_cycle_options_sizes,
                          "tl_fit_one_cycle_options_init");
}

tl_status tl_fine_tune_options_init(tl_fine_tune_options *out,
                                    unsigned int version) {
  static const tl_fine_tune_options defaults = TL_FINE_TUNE_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, fine_tune_options_sizes,
                          "tl_fine_tune_options_init");
}

tl_status tl_fit_sgdr_options_init(tl_fit_sgdr_options *out,
                                   unsigned int version) {
  static const tl_fit_sgdr_options defaults = TL_FIT_SGDR_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, sgdr_options_sizes,
                          "tl_fit_sgdr_options_init");
}

static const char *event_name(tl_learner_event ev) {
  switch (ev) {
  case TL_LEARNER_EVENT_BEFORE_FIT: return "before_fit";
  case TL_LEARNER_EVENT_BEFORE_EPOCH: return "before_epoch";
  case TL_LEARNER_EVENT_BEFORE_BATCH: return "before_batch";
  case TL_LEARNER_EVENT_AFTER_BACKWARD: return "after_backward";
  case TL_LEARNER_EVENT_AFTER_STEP: return "after_step";
  case TL_LEARNER_EVENT_AFTER_BATCH: return "after_batch";
  case TL_LEARNER_EVENT_AFTER_VALIDATE: return "after_validate";
  case TL_LEARNER_EVENT_AFTER_EPOCH: return "after_epoch";
  case TL_LEARNER_EVENT_AFTER_FIT: return "after_fit";
  }
  return "?";
}

/* Prefixes the current message with where in the fit it happened. */
static tl_status wrap(tl_status st, const tl_learner *l, const char *fn,
                      const char *what) {
  char inner[768];
  snprintf(inner, sizeof inner, "%s", tl_last_error());
  return tli_fail(st, "%s: %s at epoch %llu, batch %llu: %s", fn, what,
                  (unsigned long long)l->state.epoch,
                  (unsigned long long)l->state.iter, inner);
}

/* ---- batch sources ----------------------------------------------------------
 */

static tl_status check_batch(const tl_batch *b, const char *fn,
                             const char *which) {
  TLI_CHECK((b->ids != NULL) != (b->x != NULL), TL_E_INVALID_ARG,
            "%s: a %s batch must set exactly one of ids and x", fn, which);
  TLI_CHECK(b->ndim >= 1 && b->ndim <= TL_MODEL_MAX_DIMS, TL_E_INVALID_ARG,
            "%s: a %s batch has ndim %zu (1..%d)", fn, which, b->ndim,
            TL_MODEL_MAX_DIMS);
  TLI_CHECK(b->targets == NULL || b->n_targets > 0, TL_E_INVALID_ARG,
            "%s: a %s batch has targets but n_targets 0", fn, which);
  TLI_CHECK(b->lengths == NULL || b->n_lengths > 0, TL_E_INVALID_ARG,
            "%s: a %s batch has lengths but n_lengths 0", fn, which);
  return TL_OK;
}

static tl_status src_next(tl_learner *l, tli_src *s, tl_batch *b, int *has,
                          const char *fn, const char *which) {
  memset(b, 0, sizeof *b);
  b->version = TL_BATCH_VERSION;
  *has = 0;
  switch (s->kind) {
  case TLI_SRC_HOST: {
    int h = 0;
    TLI_TRY(s->host.next(s->host.payload, b, &h));
    if (!h)
      break;
    TLI_TRY(check_batch(b, fn, which));
    *has = 1;
    break;
  }
  case TLI_SRC_LM: {
    const int64_t *x = NULL, *y = NULL;
    size_t len = 0;
    TLI_TRY(tl_lm_loader_next(&x, &y, &len, s->lm));
    if (len == 0)
      break;
    b->ids = x;
    b->dims[0] = len;
    b->dims[1] = s->lm_batch;
    b->ndim = 2;
    b->targets = y;
    b->n_targets = len * s->lm_batch;
    b->batch_size = s->lm_batch;
    *has = 1;
    break;
  }
  case TLI_SRC_CLAS: {
    const int64_t *x = NULL, *y = NULL;
    const size_t *docs = NULL;
    size_t len = 0, nb = 0;
    TLI_TRY(tl_clas_loader_next(&x, &y, &len, &nb, &docs, s->clas));
    if (nb == 0)
      break;
    b->ids = x;
    b->dims[0] = len;
    b->dims[1] = nb;
    b->ndim = 2;
    b->targets = y;
    b->n_targets = nb;
    b->batch_size = nb;
    if (s->doc_lens != NULL) {
      TLI_TRY(tli_learner_grow((void **)&s->batch_lens, &s->batch_lens_cap, nb,
                               sizeof(size_t), fn));
      for (size_t i = 0; i < nb; i++) {
        TLI_CHECK(docs[i] < s->n_docs, TL_E_STATE,
                  "%s: the %s loader yields document %zu but only %zu "
                  "lengths were given (tl_clas_data_options)",
                  fn, which, docs[i], s->n_docs);
        size_t L = s->doc_lens[docs[i]];
        if (s->max_len > 0 && L > s->max_len)
          L = s->max_len;
        if (L > len)
          L = len;
        s->batch_lens[i] = L;
      }
      b->lengths = s->batch_lens;
      b->n_lengths = nb;
    }
    *has = 1;
    break;
  }
  case TLI_SRC_NONE:
  default: break;
  }
  if (!*has)
    s->mid_epoch = 0;
  (void)l;
  return TL_OK;
}

/* Starts a pass over s at an epoch's start (see tl_batch_source). */
static tl_status src_begin(tl_learner *l, tli_src *s, const char *fn,
                           const char *which) {
  if (s->mid_epoch) {
    if (s->kind == TLI_SRC_HOST && s->host.restart != NULL) {
      TLI_TRY(s->host.restart(s->host.payload));
    } else {
      tl_batch b;
      int has = 1;
      while (has)
        TLI_TRY(src_next(l, s, &b, &has, fn, which));
    }
  }
  s->mid_epoch = 1;
  if (s->reset_state)
    for (size_t m = 0; m < l->n_models; m++)
      TLI_TRY(tl_model_reset_state(l->models[m]));
  return TL_OK;
}

/* ---- one batch through the chain ------------------------------------------
 */

static tl_status set_lengths(tl_learner *l, const tl_batch *b) {
  if (b->lengths != NULL) {
    for (size_t m = 0; m < l->n_models; m++)
      TLI_TRY(tl_model_set_lengths(l->models[m], b->lengths, b->n_lengths));
    l->lengths_set = 1;
  } else if (l->lengths_set) {
    for (size_t m = 0; m < l->n_models; m++)
      TLI_TRY(tl_model_set_lengths(l->models[m], NULL, 0));
    l->lengths_set = 0;
  }
  return TL_OK;
}

/* Forward of the chain; y and its dims are the last model's output. */
static tl_status chain_forward(tl_learner *l, const tl_batch *b,
                               const float **out_y) {
  TLI_TRY(set_lengths(l, b));
  const float *y = NULL;
  size_t *d0 = &l->odims[0];
  if (b->ids != NULL)
    TLI_TRY(tl_model_forward_ids(&y, d0, &l->ondim[0], l->models[0], b->ids,
                                 b->dims, b->ndim));
  else
    TLI_TRY(tl_model_forward(&y, d0, &l->ondim[0], l->models[0], b->x, b->dims,
                             b->ndim));
  for (size_t m = 1; m < l->n_models; m++) {
    const float *x = y;
    TLI_TRY(tl_model_forward(
        &y, &l->odims[m * TL_MODEL_MAX_DIMS], &l->ondim[m], l->models[m], x,
        &l->odims[(m - 1) * TL_MODEL_MAX_DIMS], l->ondim[m - 1]));
  }
  *out_y = y;
  return TL_OK;
}

static size_t numel(const size_t *dims, size_t ndim) {
  size_t n = 1;
  for (size_t i = 0; i < ndim; i++)
    n *= dims[i];
  return n;
}

/* The batch's loss (and, when dy is not NULL, its gradient into dy). */
static tl_status batch_loss(tl_learner *l, double *out_loss, float *dy,
                            const float *y, const tl_batch *b, const char *fn,
                            const char *which) {
  const size_t last = l->n_models - 1;
  const size_t *dims = &l->odims[last * TL_MODEL_MAX_DIMS];
  const size_t ndim = l->ondim[last];
  if (l->loss_fn != NULL) {
    double loss = 0.0;
    TLI_TRY(l->loss_fn(l->loss_payload, &loss, dy, y, dims, ndim, b));
    *out_loss = loss;
    return TL_OK;
  }
  TLI_CHECK(b->targets != NULL, TL_E_STATE,
            "%s: a %s batch has no targets (the cross-entropy loss needs "
            "them)",
            fn, which);
  const size_t c = dims[ndim - 1], n = numel(dims, ndim) / c;
  TLI_CHECK(b->n_targets == n, TL_E_SHAPE,
            "%s: a %s batch has %zu targets but the output has %zu rows of "
            "%zu classes",
            fn, which, b->n_targets, n, c);
  float loss = 0.0f;
  TLI_TRY(
      tl_cross_entropy(&loss, dy, y, b->targets, n, c, l->opts.ignore_index));
  *out_loss = loss;
  return TL_OK;
}

static tl_status run_event(tl_learner *l, tl_learner_event ev, const char *fn);

/* Backward of the chain from dy, down to the lowest model of the chain's
 * top run of fine-tune models (a feature extractor below takes no
 * gradient). */
static tl_status chain_backward(tl_learner *l, const float *dy) {
  size_t lo = l->n_models;
  while (lo > 0) {
    tl_model_mode mode;
    TLI_TRY(tl_model_get_mode(&mode, l->models[lo - 1]));
    if (mode != TL_MODEL_MODE_FINE_TUNE)
      break;
    lo--;
  }
  const float *g = dy;
  for (size_t m = l->n_models; m-- > lo;) {
    const float *dx = NULL;
    TLI_TRY(tl_model_backward(m > lo ? &dx : NULL, l->models[m], g,
                              &l->odims[m * TL_MODEL_MAX_DIMS], l->ondim[m]));
    g = dx;
  }
  return TL_OK;
}

static size_t accum_batches(const tl_learner *l) {
  for (size_t i = 0; i < l->n_cbs; i++)
    if (l->cbs[i].kind == TLI_CB_ACCUM)
      return l->cbs[i].n_acc;
  return 1;
}

/* One training batch: zero_grad, forward, loss, backward, after_backward,
 * step, after_step (docs at the top of tl/learn.h). *out_loss is the
 * batch's loss without AR/TAR. */
static tl_status train_batch(tl_learner *l, const tl_batch *b, double *out_loss,
                             const char *fn) {
  const size_t n_acc = accum_batches(l);
  if (l->acc_count == 0) {
    tl_status st = tl_optim_zero_grad(l->optim);
    if (st != TL_OK)
      return wrap(st, l, fn, "zero_grad");
  }
  const float *y = NULL;
  tl_status st = chain_forward(l, b, &y);
  if (st != TL_OK)
    return wrap(st, l, fn, "forward");
  const size_t last = l->n_models - 1;
  const size_t ny = numel(&l->odims[last * TL_MODEL_MAX_DIMS], l->ondim[last]);
  st = tli_learner_grow((void **)&l->dy, &l->dy_cap, ny, sizeof(float), fn);
  if (st != TL_OK)
    return st;
  double loss = 0.0, aux = 0.0;
  st = batch_loss(l, &loss, l->dy, y, b, fn, "training");
  if (st != TL_OK)
    return wrap(st, l, fn, "loss");
  for (size_t m = 0; m < l->n_models; m++) {
    double a = 0.0;
    tl_model_aux_loss(&a, l->models[m]);
    aux += a;
  }
  if (!isfinite(loss) || !isfinite(aux))
    return tli_fail(TL_E_NUMERIC,
                    "%s: the loss is %g (AR/TAR %g) at epoch %llu, batch %llu "
                    "(training step %llu): stopped before its backward",
                    fn, loss, aux, (unsigned long long)l->state.epoch,
                    (unsigned long long)l->state.iter,
                    (unsigned long long)l->state.train_iter);
  for (size_t i = 0; i < ny; i++)
    if (!isfinite(l->dy[i]))
      return tli_fail(TL_E_NUMERIC,
                      "%s: the loss gradient has %g at element %zu at epoch "
                      "%llu, batch %llu: stopped before its backward",
                      fn, (double)l->dy[i], i,
                      (unsigned long long)l->state.epoch,
                      (unsigned long long)l->state.iter);
  l->state.loss = loss;
  *out_loss = loss;
  st = chain_backward(l, l->dy);
  if (st != TL_OK)
    return wrap(st, l, fn, "backward");
  l->acc_count++;
  if (l->acc_count < n_acc)
    return TL_OK;
  if (n_acc > 1) {
    /* The step sees the mean gradient of the accumulated batches. */
    const float scale = (float)(1.0 / (double)n_acc);
    for (size_t m = 0; m < l->n_models; m++) {
      float *g = NULL;
      size_t n = 0;
      TLI_TRY(tl_model_flat_grads(&g, &n, l->models[m]));
      for (size_t i = 0; i < n; i++)
        g[i] *= scale;
    }
  }
  l->acc_count = 0;
  TLI_TRY(run_event(l, TL_LEARNER_EVENT_AFTER_BACKWARD, fn));
  st = tl_optim_step(l->optim);
  if (st != TL_OK)
    return wrap(st, l, fn, "the optimizer step");
  return run_event(l, TL_LEARNER_EVENT_AFTER_STEP, fn);
}

/* ---- validation
 * -------------------------------------------------------------- */

static int metric_needs_targets(tli_metric_kind k) {
  return k == TLI_METRIC_ACCURACY || k == TLI_METRIC_MACRO_F1;
}

/* One pass over the validation source in eval mode: *out_loss (fastai's
 * mean of batch losses weighted by batch size) and l->metric_values. */
static tl_status validate_pass(tl_learner *l, tl_progress *prog,
                               double *out_loss, const char *fn) {
  tli_src *s = &l->valid;
  TLI_CHECK(s->kind != TLI_SRC_NONE, TL_E_STATE,
            "%s: the learner has no validation source", fn);
  for (size_t m = 0; m < l->n_models; m++)
    TLI_TRY(tl_model_eval(l->models[m]));
  TLI_TRY(src_begin(l, s, fn, "validation"));
  for (size_t i = 0; i < l->n_metrics; i++)
    if (l->metrics[i].kind == TLI_METRIC_HOST)
      TLI_TRY(l->metrics[i].host.reset(l->metrics[i].host.payload));
  double loss_sum = 0.0, bs_sum = 0.0, acc_sum = 0.0;
  l->f1_n = 0;
  uint64_t n_batches = 0;
  for (;;) {
    tl_batch b;
    int has = 0;
    TLI_TRY(src_next(l, s, &b, &has, fn, "validation"));
    if (!has)
      break;
    const float *y = NULL;
    TLI_TRY(chain_forward(l, &b, &y));
    double loss = 0.0;
    TLI_TRY(batch_loss(l, &loss, NULL, y, &b, fn, "validation"));
    TLI_CHECK(isfinite(loss), TL_E_NUMERIC,
              "%s: the validation loss of batch %llu is %g", fn,
              (unsigned long long)n_batches, loss);
    const double bs = (double)(b.batch_size  ? b.batch_size
                               : b.n_targets ? b.n_targets
                                             : 1);
    loss_sum += loss * bs;
    bs_sum += bs;
    const size_t last = l->n_models - 1;
    const size_t *dims = &l->odims[last * TL_MODEL_MAX_DIMS];
    const size_t ndim = l->ondim[last];
    const size_t c = dims[ndim - 1], rows = numel(dims, ndim) / c;
    int acc_done = 0, f1_done = 0;
    for (size_t i = 0; i < l->n_metrics; i++) {
      tli_metric *mt = &l->metrics[i];
      if (metric_needs_targets(mt->kind)) {
        TLI_CHECK(b.targets != NULL, TL_E_STATE,
                  "%s: metric '%s' needs targets but validation batch %llu "
                  "has none",
                  fn, mt->name, (unsigned long long)n_batches);
        TLI_CHECK(b.n_targets == rows, TL_E_SHAPE,
                  "%s: validation batch %llu has %zu targets but the output "
                  "has %zu rows",
                  fn, (unsigned long long)n_batches, b.n_targets, rows);
      }
      if (mt->kind == TLI_METRIC_ACCURACY && !acc_done) {
        /* fastai's AvgMetric: batch accuracy weighted by batch size */
        float acc = 0.0f;
        TLI_TRY(tl_accuracy(&acc, y, b.targets, rows, c, l->opts.ignore_index));
        acc_sum += (double)acc * bs;
        acc_done = 1;
      } else if (mt->kind == TLI_METRIC_MACRO_F1 && !f1_done) {
        /* fastai's F1Score is an AccumMetric: predictions of the whole
         * pass, then scikit-learn's macro F1 */
        f1_done = 1;
        size_t tcap = l->f1_cap;
        TLI_TRY(tli_learner_grow((void **)&l->f1_target, &tcap, l->f1_n + rows,
                                 sizeof(int64_t), fn));
        TLI_TRY(tli_learner_grow((void **)&l->f1_pred, &l->f1_cap,
                                 l->f1_n + rows, sizeof(int64_t), fn));
        for (size_t r = 0; r < rows; r++) {
          if (b.targets[r] == l->opts.ignore_index)
            continue;
          const float *row = y + r * c;
          size_t best = 0;
          for (size_t k = 1; k < c; k++)
            if (row[k] > row[best])
              best = k;
          l->f1_pred[l->f1_n] = (int64_t)best;
          l->f1_target[l->f1_n] = b.targets[r];
          l->f1_n++;
        }
      } else if (mt->kind == TLI_METRIC_HOST) {
        TLI_TRY(mt->host.accumulate(mt->host.payload, y, dims, ndim, &b));
      }
    }
    if (prog != NULL)
      TLI_TRY(tl_progress_step(prog, TL_PROGRESS_STAGE_VALID, loss, NULL, 0));
    n_batches++;
  }
  TLI_CHECK(n_batches > 0, TL_E_STATE,
            "%s: the validation source yielded no batch", fn);
  const double vloss = loss_sum / bs_sum;
  for (size_t i = 0; i < l->n_metrics; i++) {
    tli_metric *mt = &l->metrics[i];
    double v = NAN;
    switch (mt->kind) {
    case TLI_METRIC_ACCURACY: v = acc_sum / bs_sum; break;
    case TLI_METRIC_PERPLEXITY: v = exp(vloss); break;
    case TLI_METRIC_MACRO_F1:
      TLI_CHECK(l->f1_n > 0, TL_E_STATE,
                "%s: metric '%s': every validation target is the ignore "
                "index",
                fn, mt->name);
      TLI_TRY(tl_classification_metrics(NULL, &v, NULL, NULL, NULL,
                                        mt->n_classes, l->f1_pred, l->f1_target,
                                        l->f1_n));
      break;
    case TLI_METRIC_HOST:
    default: TLI_TRY(mt->host.value(mt->host.payload, &v)); break;
    }
    l->metric_values[i] = v;
  }
  *out_loss = vloss;
  return TL_OK;
}

tl_status tl_learner_validate(double *out_loss, double *out_metrics, size_t n,
                              tl_learner *learner) {
  static const char fn[] = "tl_learner_validate";
  TLI_CHECK_PTR(fn, out_loss);
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK(!learner->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  TLI_CHECK(n == learner->n_metrics, TL_E_SHAPE,
            "%s: n is %zu but the learner has %zu metrics", fn, n,
            learner->n_metrics);
  TLI_CHECK(out_metrics != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: out_metrics is NULL", fn);
  TLI_TRY(tli_learner_sync(learner, fn));
  double loss = 0.0;
  TLI_TRY(validate_pass(learner, NULL, &loss, fn));
  *out_loss = loss;
  if (n > 0)
    memcpy(out_metrics, learner->metric_values, n * sizeof(double));
  return TL_OK;
}

/* ---- callbacks and built-ins ----------------------------------------------
 */

static double last_value(const tl_learner *l, size_t column) {
  const size_t w = 4 + l->n_metrics;
  return l->history[(l->hist_rows - 1) * w + column];
}

static int improved(const tli_cb *cb, double v) {
  if (cb->comp == TL_LEARNER_COMPARE_LESS)
    return v < cb->best - cb->min_delta;
  return v > cb->best + cb->min_delta;
}

static tl_status csv_row(tli_cb *cb, const tl_learner *l, const char *fn) {
  FILE *f = cb->file;
  const size_t w = 4 + l->n_metrics;
  const double *row = &l->history[(l->hist_rows - 1) * w];
  fprintf(f, "%llu", (unsigned long long)row[0]);
  /* fastai's CSVLogger writes str(value): every digit, not the table's
   * six decimals; %.17g keeps the double exactly. */
  for (size_t c = 1; c + 1 < w; c++)
    fprintf(f, ",%.17g", row[c]);
  /* fastai's format_time: mm:ss, or h:mm:ss past an hour */
  const unsigned long t = (unsigned long)row[w - 1];
  if (t >= 3600)
    fprintf(f, ",%lu:%02lu:%02lu\n", t / 3600, (t / 60) % 60, t % 60);
  else
    fprintf(f, ",%02lu:%02lu\n", (t / 60) % 60, t % 60);
  TLI_CHECK(fflush(f) == 0 && !ferror(f), TL_E_IO,
            "%s: CSVLogger could not write '%s'", fn, cb->path);
  return TL_OK;
}

static tl_status builtin(tl_learner *l, tli_cb *cb, tl_learner_event ev,
                         const char *fn) {
  switch (cb->kind) {
  case TLI_CB_CLIP:
    if (ev == TL_LEARNER_EVENT_AFTER_BACKWARD)
      return tl_optim_clip_grad_norm(NULL, l->optim, cb->max_norm);
    return TL_OK;
  case TLI_CB_EARLY_STOP:
  case TLI_CB_SAVE_MODEL:
    if (ev == TL_LEARNER_EVENT_BEFORE_FIT) {
      cb->best = cb->comp == TL_LEARNER_COMPARE_LESS ? INFINITY : -INFINITY;
      cb->wait = 0;
    } else if (ev == TL_LEARNER_EVENT_AFTER_EPOCH) {
      const double v = last_value(l, cb->column);
      const int better = improved(cb, v);
      if (better)
        cb->best = v;
      if (cb->kind == TLI_CB_SAVE_MODEL) {
        if (better)
          return tl_learner_save(l, cb->path);
      } else if (better) {
        cb->wait = 0;
      } else if (++cb->wait >= cb->patience) {
        l->stop_requested = 1;
      }
    }
    return TL_OK;
  case TLI_CB_CSV:
    if (ev == TL_LEARNER_EVENT_BEFORE_FIT) {
      FILE *f = fopen(cb->path, cb->append ? "a" : "w");
      TLI_CHECK(f != NULL, TL_E_IO, "%s: CSVLogger could not open '%s'", fn,
                cb->path);
      cb->file = f;
      for (size_t c = 0; c < 4 + l->n_metrics; c++)
        fprintf(f, "%s%s", c ? "," : "", l->columns[c]);
      fputc('\n', f);
      TLI_CHECK(fflush(f) == 0 && !ferror(f), TL_E_IO,
                "%s: CSVLogger could not write '%s'", fn, cb->path);
    } else if (ev == TL_LEARNER_EVENT_AFTER_EPOCH && cb->file != NULL) {
      return csv_row(cb, l, fn);
    } else if (ev == TL_LEARNER_EVENT_AFTER_FIT && cb->file != NULL) {
      FILE *f = cb->file;
      cb->file = NULL;
      TLI_CHECK(fclose(f) == 0, TL_E_IO, "%s: CSVLogger could not close '%s'",
                fn, cb->path);
    }
    return TL_OK;
  case TLI_CB_ACCUM:
  case TLI_CB_HOST:
  default: return TL_OK;
  }
}

static tl_status run_event(tl_learner *l, tl_learner_event ev, const char *fn) {
  l->state.event = ev;
  for (size_t i = 0; i < l->n_cbs; i++) {
    tli_cb *cb = &l->cbs[i];
    tl_clear_error();
    tl_status st = cb->kind == TLI_CB_HOST
                       ? cb->host.fn(cb->host.payload, l, &l->state)
                       : builtin(l, cb, ev, fn);
    if (st != TL_OK) {
      char inner[768];
      snprintf(inner, sizeof inner, "%s", tl_last_error());
      return tli_fail(st,
                      "%s: callback '%s' returned %s at %s (epoch %llu, "
                      "batch %llu)%s%s",
                      fn, cb->name, tl_status_string(st), event_name(ev),
                      (unsigned long long)l->state.epoch,
                      (unsigned long long)l->state.iter, inner[0] ? ": " : "",
                      inner);
    }
  }
  return TL_OK;
}

/* ---- the fit loop
 * ------------------------------------------------------------ */

/* What a fit does to the rates: a constant (plan NULL, rates in
 * l->opt_base) or one stage of a plan stepped per training batch. */
typedef struct fit_spec {
  uint64_t n_epoch;
  tl_plan *plan;
  double wd; /* < 0: the learner's */
  /* fastai's start_epoch: epochs [0, start_epoch) are skipped, the
   * schedule continues at step start_epoch * n_batches (a resumed run) */
  uint64_t start_epoch;
} fit_spec;

typedef struct progress_sink {
  tl_learner *l;
  int failed;
  uint64_t first_epoch; /* the progress counts from 0: this is added */
} progress_sink;

static void on_step(void *payload, const tl_progress_record *rec) {
  progress_sink *s = payload;
  if (rec->stage == TL_PROGRESS_STAGE_TRAIN)
    s->l->state.smooth_loss = rec->smooth_loss;
}

static void on_epoch(void *payload, const tl_epoch_record *rec) {
  progress_sink *s = payload;
  tl_learner *l = s->l;
  const size_t w = 4 + l->n_metrics;
  if (l->hist_rows + 1 > l->hist_cap) {
    const size_t rows = l->hist_cap ? 2 * l->hist_cap : 8;
    size_t cap = l->hist_rows * w; /* the values worth keeping */
    if (tli_learner_grow((void **)&l->history, &cap, rows * w, sizeof(double),
                         "tl_learner_fit") != TL_OK) {
      s->failed = 1;
      return;
    }
    l->hist_cap = rows;
  }
  double *row = &l->history[l->hist_rows * w];
  row[0] = (double)(rec->epoch + s->first_epoch);
  row[1] = rec->train_loss;
  row[2] = rec->valid_loss;
  for (size_t i = 0; i < l->n_metrics; i++)
    row[3 + i] = rec->metrics[i];
  row[w - 1] = rec->seconds;
  l->hist_rows++;
}

/* Learner-group rates of this step from the optimizer groups'. */
static void lg_from_opt(tl_learner *l, const double *opt_lrs) {
  for (size_t o = 0; o < l->n_opt_groups; o++)
    l->lg_lrs[l->opt_lg[o]] = opt_lrs[o];
}

static tl_status apply_step(tl_learner *l, const fit_spec *spec, uint64_t t,
                            const char *fn) {
  if (spec->plan == NULL)
    return TL_OK;
  tl_status st = tl_plan_lrs(l->opt_lrs, l->n_opt_groups, spec->plan, t);
  if (st == TL_OK)
    st = tl_optim_set_lrs(l->optim, l->opt_lrs, l->n_opt_groups);
  if (st == TL_OK) {
    double mom = 0.0;
    if (tl_plan_momentum(&mom, spec->plan, t) == TL_OK)
      for (size_t o = 0; st == TL_OK && o < l->n_opt_groups; o++)
        st = tl_optim_set_group_hparam(l->optim, o, TL_OPTIM_MOMENTUM, mom);
  }
  if (st != TL_OK)
    return wrap(st, l, fn, "the schedule");
  lg_from_opt(l, l->opt_lrs);
  return TL_OK;
}

static tl_status find_monitors(tl_learner *l, const char *fn) {
  for (size_t i = 0; i < l->n_cbs; i++) {
    tli_cb *cb = &l->cbs[i];
    if (cb->kind != TLI_CB_EARLY_STOP && cb->kind != TLI_CB_SAVE_MODEL)
      continue;
    size_t c = 1;
    while (c < 3 + l->n_metrics && strcmp(l->columns[c], cb->monitor) != 0)
      c++;
    TLI_CHECK(c < 3 + l->n_metrics, TL_E_NOT_FOUND,
              "%s: %s monitors '%s', which is not a history column (%s%s)", fn,
              cb->name, cb->monitor, "train_loss, valid_loss",
              l->n_metrics ? " or a metric" : "");
    cb->column = c;
  }
  return TL_OK;
}

static tl_status train_epoch(tl_learner *l, const fit_spec *spec,
                             tl_progress *prog, const char *fn) {
  for (size_t m = 0; m < l->n_models; m++) {
    tl_model_mode mode;
    TLI_TRY(tl_model_get_mode(&mode, l->models[m]));
    if (mode == TL_MODEL_MODE_FINE_TUNE)
      TLI_TRY(tl_model_train(l->models[m]));
  }
  TLI_TRY(src_begin(l, &l->train, fn, "training"));
  for (l->state.iter = 0;; l->state.iter++) {
    tl_batch b;
    int has = 0;
    tl_status st = src_next(l, &l->train, &b, &has, fn, "training");
    if (st != TL_OK)
      return wrap(st, l, fn, "the training source");
    if (!has)
      break;
    TLI_TRY(apply_step(l, spec, l->state.train_iter, fn));
    TLI_TRY(run_event(l, TL_LEARNER_EVENT_BEFORE_BATCH, fn));
    double loss = 0.0;
    TLI_TRY(train_batch(l, &b, &loss, fn));
    l->state.train_iter++;
    TLI_TRY(tl_progress_step(prog, TL_PROGRESS_STAGE_TRAIN, loss, l->lg_lrs,
                             l->n_groups));
    TLI_TRY(run_event(l, TL_LEARNER_EVENT_AFTER_BATCH, fn));
    if (l->stop_requested)
      return TL_OK;
  }
  TLI_CHECK(l->state.iter > 0, TL_E_STATE,
            "%s: the training source yielded no batch in epoch %llu", fn,
            (unsigned long long)l->state.epoch);
  return TL_OK;
}

static tl_status fit_epochs(tl_learner *l, const fit_spec *spec,
                            tl_progress *prog, progress_sink *sink,
                            const char *fn) {
  TLI_TRY(run_event(l, TL_LEARNER_EVENT_BEFORE_FIT, fn));
  for (uint64_t e = spec->start_epoch; e < spec->n_epoch && !l->stop_requested;
       e++) {
    l->state.epoch = e;
    l->state.iter = 0;
    /* fastai's TrainEvalCallback.before_train: each epoch starts at the
     * schedule position e / n_epoch whatever the previous epochs yielded
     * (a language-model stream with variable windows yields a few more or
     * fewer batches than n_batches), so a run resumed at epoch e
     * (start_epoch) continues exactly where the stopped one was. */
    if (l->train.n_batches != 0)
      l->state.train_iter = e * l->train.n_batches;
    TLI_TRY(run_event(l, TL_LEARNER_EVENT_BEFORE_EPOCH, fn));
    if (l->stop_requested)
      break;
    TLI_TRY(train_epoch(l, spec, prog, fn));
    if (l->stop_requested)
      break;
    double vloss = NAN;
    if (l->valid.kind != TLI_SRC_NONE) {
      tl_status st = validate_pass(l, prog, &vloss, fn);
      if (st != TL_OK)
        return wrap(st, l, fn, "validation");
    } else {
      for (size_t i = 0; i < l->n_metrics; i++)
        l->metric_values[i] = NAN;
    }
    l->state.valid_loss = vloss;
    TLI_TRY(run_event(l, TL_LEARNER_EVENT_AFTER_VALIDATE, fn));
    const char *const *names = (const char *const *)&l->columns[3];
    TLI_TRY(tl_progress_end_epoch(prog, vloss, names, l->metric_values,
                                  l->n_metrics));
    TLI_CHECK(!sink->failed, TL_E_NOMEM, "%s: out of memory (history)", fn);
    TLI_TRY(run_event(l, TL_LEARNER_EVENT_AFTER_EPOCH, fn));
  }
  return TL_OK;
}

static tl_status run_fit(tl_learner *l, const fit_spec *spec, const char *fn) {
  TLI_CHECK(l->train.kind != TLI_SRC_NONE, TL_E_STATE,
            "%s: the learner has no training data (tl_learner_set_data, "
            "_set_lm_data or _set_clas_data)",
            fn);
  TLI_TRY(find_monitors(l, fn));
  const double wd = spec->wd >= 0.0 ? spec->wd : l->opts.wd;
  for (size_t o = 0; o < l->n_opt_groups; o++)
    TLI_TRY(tl_optim_set_group_hparam(l->optim, o, TL_OPTIM_WEIGHT_DECAY, wd));
  if (spec->plan == NULL)
    TLI_TRY(tl_optim_set_lrs(l->optim, l->opt_base, l->n_opt_groups));
  lg_from_opt(l, l->opt_base);

  progress_sink sink = {l, 0, spec->start_epoch};
  tl_progress_options po = TL_PROGRESS_OPTIONS_INIT;
  po.n_epochs = spec->n_epoch - spec->start_epoch;
  po.train_steps = l->train.n_batches;
  po.valid_steps = l->valid.n_batches;
  po.on_step = on_step;
  po.on_epoch = on_epoch;
  po.payload = &sink;
  tl_progress *prog = NULL;
  TLI_TRY(tl_progress_create(&prog, &po));
  tl_status st = TL_OK;
  for (size_t i = 0; st == TL_OK && i < l->n_reporters; i++)
    st = tl_progress_add_reporter(prog, l->reporters[i]);
  if (st != TL_OK) {
    tl_progress_free(prog);
    return st;
  }

  memset(&l->state, 0, sizeof l->state);
  l->state.version = TL_LEARNER_STATE_VERSION;
  l->state.n_epochs = spec->n_epoch;
  l->state.total_iters = l->train.n_batches * spec->n_epoch;
  if (l->train.n_batches != 0 &&
      l->state.total_iters / l->train.n_batches != spec->n_epoch)
    l->state.total_iters = 0;
  l->state.loss = l->state.smooth_loss = l->state.valid_loss = NAN;
  l->state.lrs = l->lg_lrs;
  l->state.n_groups = l->n_groups;
  for (size_t i = 0; i < l->n_metrics; i++)
    l->metric_values[i] = NAN;
  l->state.metrics = l->metric_values;
  l->state.n_metrics = l->n_metrics;
  l->hist_rows = 0;
  l->acc_count = 0;
  l->stop_requested = 0;
  l->in_fit = 1;

  st = fit_epochs(l, spec, prog, &sink, fn);
  if (st == TL_OK)
    st = run_event(l, TL_LEARNER_EVENT_AFTER_FIT, fn);
  /* Whatever happened: close CSV files, leave eval mode and a fresh
   * recurrent state (fastai's ModelResetter.after_fit), forget partial
   * accumulated gradients. */
  for (size_t i = 0; i < l->n_cbs; i++)
    if (l->cbs[i].kind == TLI_CB_CSV && l->cbs[i].file != NULL) {
      fclose(l->cbs[i].file);
      l->cbs[i].file = NULL;
    }
  for (size_t m = 0; m < l->n_models; m++) {
    tl_model_eval(l->models[m]);
    if (l->train.reset_state)
      tl_model_reset_state(l->models[m]);
  }
  l->in_fit = 0;
  l->stop_requested = 0;
  l->acc_count = 0;
  tl_progress_free(prog);
  return st;
}

/* ---- rates ------------------------------------------------------------------
 */

/* Fills l->lg_lrs (one per learner group) from fastai's lr argument forms,
 * and l->opt_base from them. Allocates the per-group buffers. */
static tl_status resolve_lrs(double *out_top, tl_learner *l, double lr,
                             double slice_lo, double slice_hi,
                             const double *lrs, size_t n_lrs, const char *fn) {
  int is_slice = 0;
  TLI_TRY(tli_learner_sync(l, fn));
  const size_t ng = l->n_groups ? l->n_groups : 1;
  const size_t no = l->n_opt_groups ? l->n_opt_groups : 1;
  double *lg = NULL, *ob = NULL, *ol = NULL;
  TLI_TRY(tli_alloc_checked((void **)&lg, ng, sizeof(double), fn));
  tl_status st = tli_alloc_checked((void **)&ob, no, sizeof(double), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&ol, no, sizeof(double), fn);
  if (st == TL_OK) {
    if (lrs != NULL || n_lrs > 0) {
      if (lrs == NULL)
        st = tli_fail(TL_E_INVALID_ARG, "%s: options->lrs is NULL", fn);
      else if (n_lrs != l->n_groups)
        st = tli_fail(TL_E_INVALID_ARG,
                      "%s: options->n_lrs is %zu but the learner has %zu "
                      "groups",
                      fn, n_lrs, l->n_groups);
      for (size_t g = 0; st == TL_OK && g < n_lrs; g++) {
        if (!isfinite(lrs[g]) || lrs[g] < 0.0)
          st = tli_fail(TL_E_INVALID_ARG,
                        "%s: options->lrs[%zu] must be finite and >= 0 (got "
                        "%g)",
                        fn, g, lrs[g]);
        else
          lg[g] = lrs[g];
      }
    } else if (slice_hi != 0.0 || slice_lo != 0.0) {
      if (!(isfinite(slice_hi) && slice_hi > 0.0))
        st = tli_fail(TL_E_INVALID_ARG,
                      "%s: options->slice_hi must be finite and > 0 (got %g)",
                      fn, slice_hi);
      else if (!(isfinite(slice_lo) && slice_lo >= 0.0 && slice_lo <= slice_hi))
        st = tli_fail(TL_E_INVALID_ARG,
                      "%s: options->slice_lo must be in [0, slice_hi = %g] "
                      "(got %g)",
                      fn, slice_hi, slice_lo);
      else if (slice_lo > 0.0)
        st = tl_lrs_even(lg, ng, slice_lo, slice_hi);
      else
        st = tl_lrs_slice(lg, ng, slice_hi);
      is_slice = 1;
    } else if (!(isfinite(lr) && lr >= 0.0)) {
      st = tli_fail(TL_E_INVALID_ARG,
                    "%s: the learning rate must be finite and >= 0 (got %g)",
                    fn, lr);
    } else {
      for (size_t g = 0; g < ng; g++)
        lg[g] = lr;
    }
  }
  if (st != TL_OK) {
    tli_free(lg);
    tli_free(ob);
    tli_free(ol);
    return st;
  }
  for (size_t o = 0; o < l->n_opt_groups; o++)
    ob[o] = lg[l->opt_lg[o]];
  /* The schedules' reference rate: the slice's top (as tl_plan_preset's
   * fine_tune takes it), else the largest group rate. */
  double top = 0.0;
  for (size_t o = 0; o < l->n_opt_groups; o++)
    if (ob[o] > top)
      top = ob[o];
  if (out_top != NULL)
    *out_top = is_slice ? slice_hi : top;
  tli_free(l->lg_lrs);
  tli_free(l->opt_base);
  tli_free(l->opt_lrs);
  l->lg_lrs = lg, l->opt_base = ob, l->opt_lrs = ol;
  return TL_OK;
}

static tl_status check_fit(const tl_learner *l, uint64_t n_epoch,
                           const char *fn) {
  TLI_CHECK(!l->in_fit, TL_E_STATE, "%s: a fit is already running", fn);
  TLI_CHECK(n_epoch > 0, TL_E_INVALID_ARG, "%s: n_epoch must be > 0", fn);
  TLI_CHECK(l->train.kind != TLI_SRC_NONE, TL_E_STATE,
            "%s: the learner has no training data (tl_learner_set_data, "
            "_set_lm_data or _set_clas_data)",
            fn);
  return TL_OK;
}

tl_status tl_learner_fit(tl_learner *learner, uint64_t n_epoch,
                         const tl_fit_options *options) {
  static const char fn[] = "tl_learner_fit";
  TLI_CHECK_PTR(fn, learner);
  tl_fit_options o = TL_FIT_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, fit_options_sizes, fn, "options"));
  TLI_TRY(check_fit(learner, n_epoch, fn));
  TLI_CHECK(isfinite(o.wd), TL_E_INVALID_ARG, "%s: options->wd must be finite",
            fn);
  TLI_TRY(resolve_lrs(NULL, learner, o.lr, o.slice_lo, o.slice_hi, o.lrs,
                      o.n_lrs, fn));
  fit_spec spec = {n_epoch, NULL, o.wd, 0};
  return run_fit(learner, &spec, fn);
}

/* A plan of one stage: the schedule at the peak rate, every optimizer
 * group's peak rate as its base (tl_plan_lrs gives base * multiplier). */
static tl_status one_stage_plan(tl_plan **out, tl_learner *l, tl_sched *sched,
                                uint64_t steps) {
  tl_plan *p = NULL;
  TLI_TRY(tl_plan_create(&p, l->n_opt_groups));
  tl_plan_stage st = TL_PLAN_STAGE_INIT;
  st.steps = steps;
  st.sched = sched;
  st.base_lrs = l->opt_base;
  st.reset_state = 0; /* fastai's fit keeps the optimizer state */
  const tl_status s = tl_plan_add_stage(p, &st);
  if (s != TL_OK) {
    tl_plan_free(p);
    return s;
  }
  *out = p;
  return TL_OK;
}

static tl_status total_steps(uint64_t *out, const tl_learner *l,
                             uint64_t n_epoch, const char *fn) {
  const uint64_t nb = l->train.n_batches;
  TLI_CHECK(nb > 0, TL_E_STATE,
            "%s: the training source does not say how many batches an "
            "epoch has (tl_batch_source.n_batches), which the schedule "
            "needs",
            fn);
  TLI_CHECK(n_epoch <= UINT64_MAX / nb, TL_E_INVALID_ARG,
            "%s: n_epoch * batches per epoch overflows", fn);
  *out = n_epoch * nb;
  return TL_OK;
}

static tl_status one_cycle(tl_learner *l, uint64_t n_epoch,
                           const tl_fit_one_cycle_options *o, const char *fn) {
  TLI_TRY(check_fit(l, n_epoch, fn));
  TLI_CHECK(isfinite(o->wd), TL_E_INVALID_ARG, "%s: options->wd must be finite",
            fn);
  TLI_CHECK(o->start_epoch < n_epoch, TL_E_INVALID_ARG,
            "%s: options->start_epoch %llu must be below n_epoch %llu", fn,
            (unsigned long long)o->start_epoch, (unsigned long long)n_epoch);
  uint64_t steps = 0;
  TLI_TRY(total_steps(&steps, l, n_epoch, fn));
  double top = 0.0;
  TLI_TRY(resolve_lrs(&top, l, o->lr_max, o->slice_lo, o->slice_hi, o->lrs,
                      o->n_lrs, fn));
  TLI_CHECK(top > 0.0, TL_E_INVALID_ARG,
            "%s: every group's lr_max is 0 (the schedule needs a peak rate "
            "> 0)",
            fn);
  tl_sched_fastai_one_cycle_options so;
  TLI_TRY(tl_sched_fastai_one_cycle_options_init(
      &so, TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION));
  so.lr_max = top;
  so.total_steps = steps;
  so.pct_start = o->pct_start;
  so.div = o->div;
  so.div_final = o->div_final;
  memcpy(so.moms, o->moms, sizeof so.moms);
  for (size_t i = 0; i < 3; i++)
    TLI_CHECK(isfinite(o->moms[i]) && o->moms[i] >= 0.0 && o->moms[i] < 1.0,
              TL_E_INVALID_ARG,
              "%s: options->moms[%zu] must be in [0, 1) "
              "(got %g)",
              fn, i, o->moms[i]);
  tl_sched *sched = NULL;
  tl_status st = tl_sched_fastai_one_cycle_create(&sched, &so);
  if (st != TL_OK) {
    char inner[768];
    snprintf(inner, sizeof inner, "%s", tl_last_error());
    return tli_fail(st, "%s: %s", fn, inner);
  }
  tl_plan *plan = NULL;
  st = one_stage_plan(&plan, l, sched, steps);
  tl_sched_free(sched);
  TLI_TRY(st);
  fit_spec spec = {n_epoch, plan, o->wd, o->start_epoch};
  st = run_fit(l, &spec, fn);
  tl_plan_free(plan);
  return st;
}

tl_status tl_learner_fit_one_cycle(tl_learner *learner, uint64_t n_epoch,
                                   const tl_fit_one_cycle_options *options) {
  static const char fn[] = "tl_learner_fit_one_cycle";
  TLI_CHECK_PTR(fn, learner);
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, one_cycle_options_sizes, fn, "options"));
  return one_cycle(learner, n_epoch, &o, fn);
}

tl_status tl_learner_fine_tune(tl_learner *learner, uint64_t epochs,
                               const tl_fine_tune_options *options) {
  static const char fn[] = "tl_learner_fine_tune";
  TLI_CHECK_PTR(fn, learner);
  tl_fine_tune_options o = TL_FINE_TUNE_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, fine_tune_options_sizes, fn, "options"));
  TLI_TRY(check_fit(learner, epochs, fn));
  TLI_CHECK(isfinite(o.base_lr) && o.base_lr > 0.0, TL_E_INVALID_ARG,
            "%s: options->base_lr must be finite and > 0 (got %g)", fn,
            o.base_lr);
  TLI_CHECK(isfinite(o.lr_mult) && o.lr_mult > 0.0, TL_E_INVALID_ARG,
            "%s: options->lr_mult must be finite and > 0 (got %g)", fn,
            o.lr_mult);
  tl_fit_one_cycle_options c = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  c.div_final = o.div_final;
  memcpy(c.moms, o.moms, sizeof c.moms);
  c.wd = o.wd;
  /* Every argument is checked by the two fits' schedules; check the
   * second's now so that a bad pct_start or div fails before the first
   * fit trains anything. */
  tl_sched_fastai_one_cycle_options so;
  TLI_TRY(tl_sched_fastai_one_cycle_options_init(
      &so, TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION));
  so.lr_max = o.base_lr / 2.0;
  so.total_steps = 1;
  so.pct_start = o.pct_start;
  so.div = o.div;
  so.div_final = o.div_final;
  memcpy(so.moms, o.moms, sizeof so.moms);
  tl_sched *probe = NULL;
  tl_status st = tl_sched_fastai_one_cycle_create(&probe, &so);
  if (st != TL_OK) {
    char inner[768];
    snprintf(inner, sizeof inner, "%s", tl_last_error());
    return tli_fail(st, "%s: %s", fn, inner);
  }
  tl_sched_free(probe);
  double base_lr = o.base_lr;
  if (o.freeze_epochs > 0) {
    /* fastai: freeze(); fit_one_cycle(freeze_epochs, slice(base_lr),
     * pct_start=0.99) */
    TLI_TRY(tl_learner_freeze(learner));
    c.slice_lo = 0.0;
    c.slice_hi = base_lr;
    c.pct_start = 0.99;
    TLI_TRY(one_cycle(learner, o.freeze_epochs, &c, fn));
  }
  /* base_lr /= 2; unfreeze(); fit_one_cycle(epochs, slice(base_lr /
   * lr_mult, base_lr), pct_start, div) */
  base_lr /= 2.0;
  TLI_TRY(tl_learner_unfreeze(learner));
  c.slice_lo = base_lr / o.lr_mult;
  c.slice_hi = base_lr;
  c.pct_start = o.pct_start;
  c.div = o.div;
  return one_cycle(learner, epochs, &c, fn);
}

tl_status tl_learner_fit_sgdr(tl_learner *learner, uint64_t n_cycles,
                              uint64_t cycle_len,
                              const tl_fit_sgdr_options *options) {
  static const char fn[] = "tl_learner_fit_sgdr";
  TLI_CHECK_PTR(fn, learner);
  tl_fit_sgdr_options o = TL_FIT_SGDR_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, sgdr_options_sizes, fn, "options"));
  TLI_CHECK(n_cycles > 0, TL_E_INVALID_ARG, "%s: n_cycles must be > 0", fn);
  TLI_CHECK(cycle_len > 0, TL_E_INVALID_ARG, "%s: cycle_len must be > 0", fn);
  TLI_CHECK(o.cycle_mult > 0, TL_E_INVALID_ARG,
            "%s: options->cycle_mult must be > 0", fn);
  TLI_CHECK(isfinite(o.wd), TL_E_INVALID_ARG, "%s: options->wd must be finite",
            fn);
  /* n_epoch = cycle_len * (1 + mult + ... + mult^(n_cycles - 1)) */
  uint64_t n_epoch = 0, len = cycle_len;
  for (uint64_t c = 0; c < n_cycles; c++) {
    TLI_CHECK(n_epoch <= UINT64_MAX - len, TL_E_INVALID_ARG,
              "%s: the number of epochs overflows", fn);
    n_epoch += len;
    if (c + 1 < n_cycles) {
      TLI_CHECK(len <= UINT64_MAX / o.cycle_mult, TL_E_INVALID_ARG,
                "%s: the number of epochs overflows", fn);
      len *= o.cycle_mult;
    }
  }
  TLI_TRY(check_fit(learner, n_epoch, fn));
  uint64_t t0 = 0, steps = 0;
  TLI_TRY(total_steps(&t0, learner, cycle_len, fn));
  TLI_TRY(total_steps(&steps, learner, n_epoch, fn));
  double top = 0.0;
  TLI_TRY(resolve_lrs(&top, learner, o.lr_max, o.slice_lo, o.slice_hi, o.lrs,
                      o.n_lrs, fn));
  TLI_CHECK(top > 0.0, TL_E_INVALID_ARG,
            "%s: every group's lr_max is 0 (the schedule needs a peak rate "
            "> 0)",
            fn);
  tl_sched_cosine_restarts_options so;
  TLI_TRY(tl_sched_cosine_restarts_options_init(
      &so, TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION));
  so.base_lr = top;
  so.t_0 = t0;
  so.t_mult = o.cycle_mult;
  so.eta_min = 0.0;
  tl_sched *sched = NULL;
  TLI_TRY(tl_sched_cosine_restarts_create(&sched, &so));
  tl_plan *plan = NULL;
  tl_status st = one_stage_plan(&plan, learner, sched, steps);
  tl_sched_free(sched);
  TLI_TRY(st);
  fit_spec spec = {n_epoch, plan, o.wd, 0};
  st = run_fit(learner, &spec, fn);
  tl_plan_free(plan);
  return st;
}

/* ---- lr_find
 * ------------------------------------------------------------------ */

typedef struct lr_find_ctx {
  tl_learner *l;
  const char *fn;
  tl_status inner;
} lr_find_ctx;

static tl_status lr_find_step(void *payload, double *out_loss) {
  lr_find_ctx *c = payload;
  tl_learner *l = c->l;
  tl_batch b;
  int has = 0;
  for (int tries = 0; tries < 2 && !has; tries++) {
    if (!l->train.mid_epoch)
      TLI_TRY(src_begin(l, &l->train, c->fn, "training"));
    TLI_TRY(src_next(l, &l->train, &b, &has, c->fn, "training"));
  }
  TLI_CHECK(has, TL_E_STATE, "%s: the training source yielded no batch", c->fn);
  double opt_lr = 0.0;
  TLI_TRY(tl_optim_get_group_lr(&opt_lr, l->optim, 0));
  for (size_t g = 0; g < l->n_groups; g++)
    l->lg_lrs[g] = opt_lr;
  TLI_TRY(run_event(l, TL_LEARNER_EVENT_BEFORE_BATCH, c->fn));
  double loss = 0.0;
  TLI_TRY(train_batch(l, &b, &loss, c->fn));
  l->state.train_iter++;
  l->state.iter++;
  TLI_TRY(run_event(l, TL_LEARNER_EVENT_AFTER_BATCH, c->fn));
  *out_loss = loss;
  return TL_OK;
}

static tl_status write_lr_csv(const char *path, const double *lrs,
                              const double *losses, const tl_lr_find_result *r,
                              int falling, const char *fn) {
  FILE *f = fopen(path, "w");
  TLI_CHECK(f != NULL, TL_E_IO, "%s: could not create '%s'", fn, path);
  fprintf(f, "# lr_find: %zu points, diverged %d, falling_at_end %d\n", r->n,
          r->diverged, falling);
  if (r->has_suggestions)
    fprintf(f, "# suggestions: minimum %.17g, steep %.17g, valley %.17g\n",
            r->lr_min, r->lr_steep, r->lr_valley);
  fprintf(f, "lr,loss\n");
  for (size_t i = 0; i < r->n; i++)
    fprintf(f, "%.17g,%.17g\n", lrs[i], losses[i]);
  const int bad = ferror(f);
  TLI_CHECK(fclose(f) == 0 && !bad, TL_E_IO, "%s: could not write '%s'", fn,
            path);
  return TL_OK;
}

tl_status tl_learner_lr_find(tl_lr_find_result *out, int *out_falling_at_end,
                             double *out_lrs, double *out_losses,
                             size_t capacity, tl_learner *learner,
                             const tl_lr_find_options *options,
                             const char *csv_path) {
  static const char fn[] = "tl_learner_lr_find";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, out_lrs);
  TLI_CHECK_PTR(fn, out_losses);
  TLI_CHECK_PTR(fn, learner);
  tl_learner *l = learner;
  TLI_CHECK(out->version == TL_LR_FIND_RESULT_VERSION, TL_E_UNSUPPORTED,
            "%s: out->version %u is not supported (this libtl knows 1..%u)", fn,
            out->version, (unsigned)TL_LR_FIND_RESULT_VERSION);
  TLI_CHECK(!l->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  TLI_CHECK(l->train.kind != TLI_SRC_NONE, TL_E_STATE,
            "%s: the learner has no training data", fn);
  TLI_TRY(resolve_lrs(NULL, l, l->opts.lr, 0.0, 0.0, NULL, 0, fn));
  for (size_t m = 0; m < l->n_models; m++) {
    tl_model_mode mode;
    TLI_TRY(tl_model_get_mode(&mode, l->models[m]));
    if (mode == TL_MODEL_MODE_FINE_TUNE)
      TLI_TRY(tl_model_train(l->models[m]));
  }
  memset(&l->state, 0, sizeof l->state);
  l->state.version = TL_LEARNER_STATE_VERSION;
  l->state.n_epochs = 1;
  l->state.loss = l->state.smooth_loss = l->state.valid_loss = NAN;
  l->state.lrs = l->lg_lrs;
  l->state.n_groups = l->n_groups;
  l->state.metrics = l->metric_values;
  l->state.n_metrics = l->n_metrics;
  l->acc_count = 0;
  l->in_fit = 1;
  lr_find_ctx ctx = {l, fn, TL_OK};
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  tl_status st = tl_lr_find(&r, out_lrs, out_losses, capacity, l->optim,
                            lr_find_step, &ctx, options);
  for (size_t m = 0; m < l->n_models; m++) {
    tl_model_eval(l->models[m]);
    if (l->train.reset_state)
      tl_model_reset_state(l->models[m]);
  }
  l->in_fit = 0;
  l->stop_requested = 0;
  l->acc_count = 0;
  TLI_TRY(st);
  /* Still falling at the end: not diverged, and the lowest smoothed loss
   * is among the last 5% of the points (at least the last 2). */
  int falling = 0;
  if (!r.diverged && r.n >= 2) {
    size_t tail = r.n / 20;
    if (tail < 2)
      tail = 2;
    size_t best = 0;
    for (size_t i = 1; i < r.n; i++)
      if (out_losses[i] < out_losses[best])
        best = i;
    falling = best + tail >= r.n;
  }
  if (csv_path != NULL)
    TLI_TRY(write_lr_csv(csv_path, out_lrs, out_losses, &r, falling, fn));
  if (out_falling_at_end != NULL)
    *out_falling_at_end = falling;
  *out = r;
  return TL_OK;
}
