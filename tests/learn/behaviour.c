/* Callbacks, built-ins, metrics, history, saving, lr_find and the text
 * loaders' adapters. */
#include <unistd.h>

#include "common.h"

static tl_learner *lm_learner(tl_model *m, tlt_source *tr, tlt_source *va) {
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  tl_batch_source bt = tlt_batch_source(tr);
  if (va != NULL) {
    tl_batch_source bv = tlt_batch_source(va);
    TLT_ASSERT_OK(tl_learner_set_data(l, &bt, &bv));
  } else {
    TLT_ASSERT_OK(tl_learner_set_data(l, &bt, NULL));
  }
  return l;
}

/* ---- a callback that fails, stops or records ------------------------------
 */

typedef struct probe {
  tl_learner_event fail_event;
  uint64_t fail_iter; /* at this batch of epoch 0 */
  int fail;           /* 1: return TL_E_INVALID_ARG; 2: request a stop */
  size_t events[9];
  double losses[64];
  size_t n_losses;
  float *snapshot; /* AFTER_EPOCH of epoch snap_epoch: the parameters */
  size_t snap_n;
  uint64_t snap_epoch;
  tl_model *model;
} probe;

static tl_status probe_fn(void *payload, tl_learner *l,
                          const tl_learner_state *s) {
  probe *p = payload;
  ck_assert_uint_eq(s->version, TL_LEARNER_STATE_VERSION);
  p->events[s->event]++;
  if (s->event == TL_LEARNER_EVENT_AFTER_BATCH && p->n_losses < 64)
    p->losses[p->n_losses++] = s->loss;
  if (s->event == TL_LEARNER_EVENT_AFTER_EPOCH && p->snapshot != NULL &&
      s->epoch == p->snap_epoch) {
    float *w = NULL;
    size_t n = 0;
    TLT_ASSERT_OK(tl_model_flat_params(&w, &n, p->model));
    memcpy(p->snapshot, w, n * sizeof(float));
  }
  if (p->fail && s->event == p->fail_event && s->epoch == 0 &&
      s->iter == p->fail_iter) {
    if (p->fail == 2)
      return tl_learner_request_stop(l);
    return TL_E_INVALID_ARG;
  }
  return TL_OK;
}

static void add_probe(tl_learner *l, probe *p, const char *name) {
  tl_callback cb = {TL_CALLBACK_VERSION, probe_fn, p, name};
  TLT_ASSERT_OK(tl_learner_add_callback(l, &cb));
}

/* The parameters after the first `steps` steps of fit(1, lr): a learner
 * whose source stops after `steps` batches. */
static tl_model *reference_after(const tlt_data *d, size_t steps, double lr,
                                 uint64_t seed) {
  tlt_source tr, va;
  tlt_source_init(&tr, d, 0, NB);
  tlt_source_init(&va, d, NB, NV);
  tr.limit = steps;
  tl_model *m = tlt_lm_model(seed);
  tl_learner *l = lm_learner(m, &tr, &va);
  tl_fit_options o = TL_FIT_OPTIONS_INIT;
  o.lr = lr;
  TLT_ASSERT_OK(tl_learner_fit(l, 1, &o));
  tl_learner_free(l);
  return m;
}

START_TEST(a_failing_callback_stops_after_the_last_completed_step) {
  tlt_data d;
  tlt_data_init(&d);
  const tl_learner_event ev[2] = {TL_LEARNER_EVENT_BEFORE_BATCH,
                                  TL_LEARNER_EVENT_AFTER_STEP};
  const char *names[2] = {"before_batch", "after_step"};
  for (int k = 0; k < 2; k++) {
    tlt_source tr, va;
    tlt_source_init(&tr, &d, 0, NB);
    tlt_source_init(&va, &d, NB, NV);
    tl_model *m = tlt_lm_model(9);
    tl_learner *l = lm_learner(m, &tr, &va);
    probe p;
    memset(&p, 0, sizeof p);
    p.fail = 1;
    p.fail_event = ev[k];
    p.fail_iter = 2;
    add_probe(l, &p, "my_guard");
    tl_fit_options o = TL_FIT_OPTIONS_INIT;
    o.lr = 1e-2;
    TLT_ASSERT_FAILS(tl_learner_fit(l, 3, &o), TL_E_INVALID_ARG, "my_guard");
    ck_assert_ptr_nonnull(strstr(tl_last_error(), names[k]));
    ck_assert_ptr_nonnull(strstr(tl_last_error(), "tl_learner_fit"));
    ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_FIT], 0);
    /* before_batch of batch 2: two steps done; after_step of batch 2:
     * three */
    tl_model *ref = reference_after(&d, k == 0 ? 2 : 3, 1e-2, 9);
    tlt_assert_same_params(m, ref);
    /* the next fit starts at an epoch's start: the source was rewound */
    ck_assert_uint_eq(tr.restarts, 0);
    p.fail = 0;
    TLT_ASSERT_OK(tl_learner_fit(l, 1, &o));
    ck_assert_uint_eq(tr.restarts, 1);
    tl_model_free(ref);
    tl_learner_free(l);
    tl_model_free(m);
  }
}
END_TEST

/* A host loss: the cross-entropy, but NaN at training batch nan_at. */
typedef struct nan_loss {
  size_t calls, nan_at;
} nan_loss;

static tl_status nan_loss_fn(void *payload, double *out_loss, float *out_dy,
                             const float *y, const size_t *dims, size_t ndim,
                             const tl_batch *b) {
  nan_loss *n = payload;
  ck_assert_uint_eq(ndim, 3);
  float loss = 0.0f;
  const tl_status st = tl_cross_entropy(&loss, out_dy, y, b->targets,
                                        dims[0] * dims[1], dims[2], -100);
  if (st != TL_OK)
    return st;
  *out_loss = out_dy != NULL && n->calls++ == n->nan_at ? NAN : loss;
  return TL_OK;
}

START_TEST(a_non_finite_loss_stops_the_fit_naming_the_step) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(4);
  tl_learner *l = lm_learner(m, &tr, &va);
  nan_loss n = {0, 2};
  TLT_ASSERT_OK(tl_learner_set_loss(l, nan_loss_fn, &n));
  tl_fit_options o = TL_FIT_OPTIONS_INIT;
  o.lr = 1e-2;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 2, &o), TL_E_NUMERIC, "batch 2");
  ck_assert_ptr_nonnull(strstr(tl_last_error(), "epoch 0"));
  tl_model *ref = reference_after(&d, 2, 1e-2, 4);
  tlt_assert_same_params(m, ref);
  tl_model_free(ref);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

/* ---- metrics and history ----------------------------------------------------
 */

typedef struct counter_metric {
  size_t resets, batches;
} counter_metric;

static tl_status cm_reset(void *p) {
  ((counter_metric *)p)->resets++;
  ((counter_metric *)p)->batches = 0;
  return TL_OK;
}
static tl_status cm_acc(void *p, const float *y, const size_t *dims,
                        size_t ndim, const tl_batch *b) {
  (void)y, (void)dims, (void)ndim, (void)b;
  ((counter_metric *)p)->batches++;
  return TL_OK;
}
static tl_status cm_value(void *p, double *out) {
  *out = (double)((counter_metric *)p)->batches;
  return TL_OK;
}

START_TEST(validation_metrics_and_history_match_a_direct_computation) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(21);
  tl_learner *l = lm_learner(m, &tr, &va);
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_ACCURACY, 0));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_MACRO_F1, V));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_PERPLEXITY, 0));
  counter_metric cm = {0, 0};
  tl_host_metric hm = {
      TL_HOST_METRIC_VERSION, "batches", cm_reset, cm_acc, cm_value, &cm};
  TLT_ASSERT_OK(tl_learner_add_host_metric(l, &hm));
  probe p;
  memset(&p, 0, sizeof p);
  add_probe(l, &p, "probe");
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  o.lr_max = 3e-2;
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 3, &o));
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_BEFORE_FIT], 1);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_BEFORE_EPOCH], 3);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_BATCH], 3 * NB);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_STEP], 3 * NB);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_VALIDATE], 3);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_FIT], 1);
  ck_assert_uint_eq(cm.resets, 3);

  const char *want[8] = {"epoch",    "train_loss", "valid_loss", "accuracy",
                         "f1_score", "perplexity", "batches",    "time"};
  size_t cols = 0, rows = 0;
  TLT_ASSERT_OK(tl_learner_history_num_columns(&cols, l));
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  ck_assert_uint_eq(cols, 8);
  ck_assert_uint_eq(rows, 3);
  for (size_t c = 0; c < 8; c++) {
    const char *name = NULL;
    TLT_ASSERT_OK(tl_learner_history_column_name(&name, l, c));
    ck_assert_str_eq(name, want[c]);
  }
  double row[3][8];
  for (size_t r = 0; r < 3; r++)
    for (size_t c = 0; c < 8; c++)
      TLT_ASSERT_OK(tl_learner_history_value(&row[r][c], l, r, c));

  /* train_loss: fastai's AvgSmoothLoss (beta 0.98, debiased) of the batch
   * losses up to the epoch's end */
  ck_assert_uint_eq(p.n_losses, 3 * NB);
  double val = 0.0;
  for (size_t i = 0; i < 3 * NB; i++) {
    val = p.losses[i] + 0.98 * (val - p.losses[i]);
    if ((i + 1) % NB == 0) {
      const size_t r = i / NB;
      TLT_ASSERT_CLOSE(row[r][1], val / (1.0 - pow(0.98, (double)(i + 1))),
                       1e-12, 1e-12);
      ck_assert(row[r][0] == (double)r);
      ck_assert(row[r][7] >= 0.0);
      ck_assert(row[r][5] == exp(row[r][2]));
      ck_assert(row[r][6] == (double)NV);
    }
  }

  /* the last row's validation numbers, computed directly */
  TLT_ASSERT_OK(tl_model_eval(m));
  double loss_sum = 0.0, acc_sum = 0.0;
  int64_t pred[NV * T * BS], target[NV * T * BS];
  size_t n = 0;
  for (size_t b = 0; b < NV; b++) {
    const size_t in_dims[2] = {T, BS};
    size_t od[TL_MODEL_MAX_DIMS], ond = 0;
    const float *y = NULL;
    TLT_ASSERT_OK(
        tl_model_forward_ids(&y, od, &ond, m, d.ids[NB + b], in_dims, 2));
    float loss = 0.0f, acc = 0.0f;
    TLT_ASSERT_OK(
        tl_cross_entropy(&loss, NULL, y, d.targets[NB + b], T * BS, V, -100));
    TLT_ASSERT_OK(tl_accuracy(&acc, y, d.targets[NB + b], T * BS, V, -100));
    loss_sum += (double)loss * BS;
    acc_sum += (double)acc * BS;
    for (size_t r = 0; r < T * BS; r++, n++) {
      size_t best = 0;
      for (size_t k = 1; k < V; k++)
        if (y[r * V + k] > y[r * V + best])
          best = k;
      pred[n] = (int64_t)best;
      target[n] = d.targets[NB + b][r];
    }
  }
  double f1 = 0.0;
  TLT_ASSERT_OK(tl_classification_metrics(NULL, &f1, NULL, NULL, NULL, V, pred,
                                          target, n));
  ck_assert(row[2][2] == loss_sum / (NV * BS));
  ck_assert(row[2][3] == acc_sum / (NV * BS));
  ck_assert(row[2][4] == f1);
  double vloss = 0.0, vm[4];
  TLT_ASSERT_OK(tl_learner_validate(&vloss, vm, 4, l));
  ck_assert(vloss == row[2][2]);
  ck_assert(vm[0] == row[2][3] && vm[1] == row[2][4] && vm[2] == row[2][5]);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

/* ---- early stopping, save-best-model, CSV ---------------------------------
 */

typedef struct script_metric {
  const double *values;
  size_t n, calls;
} script_metric;

static tl_status sm_reset(void *p) {
  (void)p;
  return TL_OK;
}
static tl_status sm_acc(void *p, const float *y, const size_t *dims,
                        size_t ndim, const tl_batch *b) {
  (void)p, (void)y, (void)dims, (void)ndim, (void)b;
  return TL_OK;
}
static tl_status sm_value(void *p, double *out) {
  script_metric *s = p;
  *out = s->values[s->calls < s->n ? s->calls : s->n - 1];
  s->calls++;
  return TL_OK;
}

START_TEST(early_stopping_save_best_and_csv_logger) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(13);
  tl_learner *l = lm_learner(m, &tr, &va);
  const double scores[6] = {1.0, 3.0, 2.0, 2.5, 9.0, 9.0};
  script_metric sm = {scores, 6, 0};
  tl_host_metric hm = {
      TL_HOST_METRIC_VERSION, "score", sm_reset, sm_acc, sm_value, &sm};
  TLT_ASSERT_OK(tl_learner_add_host_metric(l, &hm));
  tl_monitor_options mo = TL_MONITOR_OPTIONS_INIT;
  mo.monitor = "score"; /* no "loss" in the name: higher is better */
  mo.patience = 2;
  TLT_ASSERT_OK(tl_learner_add_early_stopping(l, &mo));
  char dir[] = "/tmp/tl_learn_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char best[64], csv[64];
  snprintf(best, sizeof best, "%s/best.tlck", dir);
  snprintf(csv, sizeof csv, "%s/history.csv", dir);
  TLT_ASSERT_OK(tl_learner_add_save_model(l, best, &mo));
  TLT_ASSERT_OK(tl_learner_add_csv_logger(l, csv, 0));
  probe p;
  memset(&p, 0, sizeof p);
  size_t np = 0;
  float *w = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &np, m));
  float *snap = malloc(np * sizeof(float));
  p.snapshot = snap;
  p.snap_epoch = 1;
  p.model = m;
  add_probe(l, &p, "probe");
  TLT_ASSERT_OK(tl_learner_fit(l, 10, NULL));
  /* improvements at epochs 0 and 1, none at 2 and 3: stop after 3 */
  size_t rows = 0;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  ck_assert_uint_eq(rows, 4);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_FIT], 1);
  /* the saved model is epoch 1's */
  TLT_ASSERT_OK(tl_learner_load(l, best));
  TLT_ASSERT_OK(tl_model_flat_params(&w, &np, m));
  ck_assert_int_eq(memcmp(w, snap, np * sizeof(float)), 0);
  /* the CSV: fastai's header and one row per epoch */
  FILE *f = fopen(csv, "r");
  ck_assert_ptr_nonnull(f);
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "epoch,train_loss,valid_loss,score,time\n");
  size_t n_lines = 0;
  while (fgets(line, sizeof line, f) != NULL)
    n_lines++;
  fclose(f);
  ck_assert_uint_eq(n_lines, 4);
  ck_assert_int_eq(strncmp(line, "3,", 2), 0);
  ck_assert_ptr_nonnull(strstr(line, ",2.5,00:00"));
  unlink(best);
  unlink(csv);
  rmdir(dir);
  free(snap);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

START_TEST(request_stop_ends_the_fit_cleanly) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(2);
  tl_learner *l = lm_learner(m, &tr, &va);
  probe p;
  memset(&p, 0, sizeof p);
  p.fail = 2;
  p.fail_event = TL_LEARNER_EVENT_AFTER_BATCH;
  p.fail_iter = 1;
  add_probe(l, &p, "stopper");
  tl_fit_options o = TL_FIT_OPTIONS_INIT;
  o.lr = 1e-2;
  TLT_ASSERT_OK(tl_learner_fit(l, 5, &o));
  size_t rows = 1;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  ck_assert_uint_eq(rows, 0);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_STEP], 2);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_FIT], 1);
  tl_model *ref = reference_after(&d, 2, 1e-2, 2);
  tlt_assert_same_params(m, ref);
  tl_model_free(ref);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

START_TEST(gradient_accumulation_equals_the_mean_gradient_by_hand) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr;
  tlt_source_init(&tr, &d, 0, NB);
  tl_model *m = tlt_lm_model(17);
  tl_learner *l = lm_learner(m, &tr, NULL);
  TLT_ASSERT_OK(tl_learner_add_grad_accum(l, 2));
  probe p;
  memset(&p, 0, sizeof p);
  add_probe(l, &p, "probe");
  tl_fit_options o = TL_FIT_OPTIONS_INIT;
  o.lr = 1e-2;
  TLT_ASSERT_OK(tl_learner_fit(l, 1, &o));
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_STEP], NB / 2);
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_BACKWARD], NB / 2);
  double vl = 0.0;
  TLT_ASSERT_FAILS(tl_learner_validate(&vl, NULL, 0, l), TL_E_STATE,
                   "validation");

  tl_model *h = tlt_lm_model(17);
  tl_optim_options oo = tlt_fastai_adam();
  oo.lr = 1e-2;
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &h, 1, &oo));
  TLT_ASSERT_OK(tl_model_train(h));
  float dy[T * BS * V], *g = NULL;
  size_t ng = 0;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &ng, h));
  for (size_t b = 0; b < NB; b++) {
    if (b % 2 == 0)
      TLT_ASSERT_OK(tl_optim_zero_grad(opt));
    const size_t in_dims[2] = {T, BS};
    size_t od[TL_MODEL_MAX_DIMS], ond = 0;
    const float *y = NULL;
    TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, h, d.ids[b], in_dims, 2));
    float loss = 0.0f;
    TLT_ASSERT_OK(
        tl_cross_entropy(&loss, dy, y, d.targets[b], T * BS, V, -100));
    TLT_ASSERT_OK(tl_model_backward(NULL, h, dy, od, ond));
    if (b % 2 == 1) {
      for (size_t i = 0; i < ng; i++)
        g[i] *= 0.5f;
      TLT_ASSERT_OK(tl_optim_step(opt));
    }
  }
  tlt_assert_same_params(m, h);
  tl_optim_free(opt);
  tl_model_free(h);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

/* ---- saving, lr_find -------------------------------------------------------
 */

START_TEST(save_load_and_lr_find_leave_no_trace) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(23);
  tl_learner *l = lm_learner(m, &tr, &va);
  float *w = NULL;
  size_t np = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &np, m));
  float *before = malloc(np * sizeof(float));
  memcpy(before, w, np * sizeof(float));
  char dir[] = "/tmp/tl_learn_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[64], csv[64];
  snprintf(path, sizeof path, "%s/m.tlck", dir);
  snprintf(csv, sizeof csv, "%s/lr.csv", dir);
  TLT_ASSERT_OK(tl_learner_save(l, path));

  tl_lr_find_options lo = TL_LR_FIND_OPTIONS_INIT;
  lo.num_it = 30;
  lo.start_lr = 1e-5;
  lo.end_lr = 1.0;
  double lrs[30], losses[30];
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  int falling = -1;
  TLT_ASSERT_OK(tl_learner_lr_find(&r, &falling, lrs, losses, 30, l, &lo, csv));
  ck_assert_uint_ge(r.n, 10);
  ck_assert(falling == 0 || falling == 1);
  ck_assert_int_eq(r.has_suggestions, 1);
  ck_assert(r.lr_valley > 1e-5 && r.lr_valley < 1.0);
  TLT_ASSERT_OK(tl_model_flat_params(&w, &np, m));
  ck_assert_int_eq(memcmp(w, before, np * sizeof(float)), 0);
  /* the CSV: comment lines, the header, one row per point */
  FILE *f = fopen(csv, "r");
  ck_assert_ptr_nonnull(f);
  char line[256];
  size_t data_rows = 0, header = 0;
  double lr0 = 0.0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (line[0] == '#')
      continue;
    if (strcmp(line, "lr,loss\n") == 0) {
      header++;
      continue;
    }
    if (data_rows == 0)
      lr0 = strtod(line, NULL);
    data_rows++;
  }
  fclose(f);
  ck_assert_uint_eq(header, 1);
  ck_assert_uint_eq(data_rows, r.n);
  ck_assert(lr0 == lrs[0]);
  /* a fit changes the parameters, load brings back the saved ones */
  TLT_ASSERT_OK(tl_learner_fit(l, 1, NULL));
  TLT_ASSERT_OK(tl_model_flat_params(&w, &np, m));
  ck_assert_int_ne(memcmp(w, before, np * sizeof(float)), 0);
  TLT_ASSERT_OK(tl_learner_load(l, path));
  ck_assert_int_eq(memcmp(w, before, np * sizeof(float)), 0);
  unlink(path);
  unlink(csv);
  rmdir(dir);
  free(before);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

/* ---- the text layer's loaders ---------------------------------------------
 */

START_TEST(lm_loader_data_resets_state_and_reports_perplexity) {
  enum { ND = 6, DL = 40 };
  int64_t docs[ND][DL];
  const int64_t *dp[ND];
  size_t lens[ND];
  for (size_t i = 0; i < ND; i++) {
    for (size_t j = 0; j < DL; j++)
      docs[i][j] = (int64_t)((i * 5 + j * 3) % V);
    dp[i] = docs[i];
    lens[i] = DL - i;
  }
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = 4;
  lo.bptt = 7;
  lo.variable_length = 0;
  tl_lm_loader *tr = NULL, *va = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&tr, dp, lens, ND, V, &lo));
  lo.shuffle = 0;
  TLT_ASSERT_OK(tl_lm_loader_create(&va, dp, lens, 2, V, &lo));
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, &mo));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  tl_lstm_options so = TL_LSTM_OPTIONS_INIT;
  so.stateful = 1;
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", E, H, 1, &so));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", H, V, TL_ACTIVATION_NONE));
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  TLT_ASSERT_OK(tl_learner_set_lm_data(l, tr, va, 4, 7));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_PERPLEXITY, 0));
  probe p;
  memset(&p, 0, sizeof p);
  add_probe(l, &p, "probe");
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 2, NULL));
  size_t row_len = 0;
  TLT_ASSERT_OK(tl_lm_loader_row_len(&row_len, tr));
  const size_t nb = (row_len + 6) / 7;
  ck_assert_uint_eq(p.events[TL_LEARNER_EVENT_AFTER_STEP], 2 * nb);
  double vl = 0.0, pp = 0.0;
  TLT_ASSERT_OK(tl_learner_history_value(&vl, l, 1, 2));
  TLT_ASSERT_OK(tl_learner_history_value(&pp, l, 1, 3));
  ck_assert(pp == exp(vl));
  ck_assert(vl > 0.0 && vl < 10.0);
  /* validation resets the carried state: the same loss twice */
  double v1 = 0.0, v2 = 0.0, pm = 0.0;
  TLT_ASSERT_OK(tl_learner_validate(&v1, &pm, 1, l));
  TLT_ASSERT_OK(tl_learner_validate(&v2, &pm, 1, l));
  ck_assert(v1 == v2 && v1 == vl);
  tl_learner_free(l);
  tl_model_free(m);
  tl_lm_loader_free(tr);
  tl_lm_loader_free(va);
}
END_TEST

START_TEST(clas_loader_data_sets_lengths_for_masked_pooling) {
  enum { ND = 10, C = 3 };
  int64_t docs[ND][12];
  const int64_t *dp[ND];
  size_t lens[ND];
  int64_t labels[ND];
  for (size_t i = 0; i < ND; i++) {
    lens[i] = 3 + (i * 7) % 9;
    for (size_t j = 0; j < lens[i]; j++)
      docs[i][j] = (int64_t)(2 + (i + j * 3) % (V - 2));
    dp[i] = docs[i];
    labels[i] = (int64_t)(i % C);
  }
  tl_clas_loader_options co = TL_CLAS_LOADER_OPTIONS_INIT;
  co.batch_size = 4;
  co.pad_first = 0;
  co.shuffle = 0;
  tl_clas_loader *tr = NULL, *va = NULL;
  TLT_ASSERT_OK(tl_clas_loader_create(&tr, dp, lens, labels, ND, V, C, &co));
  TLT_ASSERT_OK(tl_clas_loader_create(&va, dp, lens, labels, ND, V, C, &co));
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", E, H, 1, NULL));
  TLT_ASSERT_OK(tl_model_add_concat_pool(m, "pool"));
  TLT_ASSERT_OK(tl_model_add_linear(m, "head", 3 * H, C, TL_ACTIVATION_NONE));
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  tl_clas_data_options o = TL_CLAS_DATA_OPTIONS_INIT;
  o.batch_size = 4;
  o.train_lens = lens;
  o.n_train = ND;
  o.valid_lens = lens;
  o.n_valid = ND;
  TLT_ASSERT_OK(tl_learner_set_clas_data(l, tr, va, &o));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_ACCURACY, 0));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_MACRO_F1, C));
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 2, NULL));
  double vl = 0.0, vm[2];
  TLT_ASSERT_OK(tl_learner_validate(&vl, vm, 2, l));
  /* the same pass by hand, with each batch's lengths */
  TLT_ASSERT_OK(tl_model_eval(m));
  double sum = 0.0;
  size_t count = 0;
  for (;;) {
    const int64_t *x = NULL, *y = NULL;
    const size_t *di = NULL;
    size_t len = 0, nb = 0;
    TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &len, &nb, &di, va));
    if (nb == 0)
      break;
    size_t bl[4];
    for (size_t i = 0; i < nb; i++)
      bl[i] = lens[di[i]];
    TLT_ASSERT_OK(tl_model_set_lengths(m, bl, nb));
    const size_t in_dims[2] = {len, nb};
    size_t od[TL_MODEL_MAX_DIMS], ond = 0;
    const float *out = NULL;
    TLT_ASSERT_OK(tl_model_forward_ids(&out, od, &ond, m, x, in_dims, 2));
    float loss = 0.0f;
    TLT_ASSERT_OK(tl_cross_entropy(&loss, NULL, out, y, nb, C, -100));
    sum += (double)loss * (double)nb;
    count += nb;
  }
  ck_assert_uint_eq(count, ND);
  ck_assert(vl == sum / (double)count);
  ck_assert(vm[0] >= 0.0 && vm[0] <= 1.0 && vm[1] >= 0.0 && vm[1] <= 1.0);
  tl_learner_free(l);
  tl_model_free(m);
  tl_clas_loader_free(tr);
  tl_clas_loader_free(va);
}
END_TEST

/* After a first fit has grown every buffer, a longer fit allocates as much
 * as a shorter one: the training and validation steps allocate nothing
 * (what a fit allocates once: the progress tracker, the rate arrays, the
 * plan; once per epoch: macro-F1's counters). */
START_TEST(steps_allocate_nothing_after_the_first_fit) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(31);
  tl_learner *l = lm_learner(m, &tr, &va);
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_ACCURACY, 0));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_MACRO_F1, V));
  TLT_ASSERT_OK(tl_learner_add_grad_clip(l, 1.0));
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 2, NULL)); /* warm-up */
  size_t allocs[2];
  for (int k = 0; k < 2; k++) {
    tlt_counter c;
    tlt_counter_install(&c);
    TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, k == 0 ? 1 : 4, NULL));
    tl_set_allocator(NULL);
    ck_assert_uint_eq(c.allocs, c.frees);
    allocs[k] = c.allocs;
  }
  /* macro-F1 through tl_classification_metrics allocates its 3 *
   * n_classes counters once per validation pass (3 more epochs) */
  ck_assert_uint_eq(allocs[1], allocs[0] + 3);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

/* The learner holds a reference on each model: the caller may drop its
 * own at once (ASan and valgrind would see a use after free). */
START_TEST(the_learner_keeps_its_models_alive) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *enc = NULL, *dec = NULL;
  tlt_tied_chain(&enc, &dec, 41);
  tl_model *chain[2] = {enc, dec};
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, chain, 2, NULL));
  tl_model_free(enc);
  tl_model_free(dec);
  tl_batch_source bt = tlt_batch_source(&tr), bv = tlt_batch_source(&va);
  TLT_ASSERT_OK(tl_learner_set_data(l, &bt, &bv));
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 1, NULL));
  tl_model *m = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_learner_num_models(&n, l));
  ck_assert_uint_eq(n, 2);
  TLT_ASSERT_OK(tl_learner_model(&m, l, 1));
  TLT_ASSERT_OK(tl_model_num_layers(&n, m));
  ck_assert_uint_eq(n, 1);
  tl_learner_free(l);
}
END_TEST

void tlt_add_behaviour_tests(TCase *tc);
void tlt_add_behaviour_tests(TCase *tc) {
  tcase_add_test(tc, the_learner_keeps_its_models_alive);
  tcase_add_test(tc, steps_allocate_nothing_after_the_first_fit);
  tcase_add_test(tc, a_failing_callback_stops_after_the_last_completed_step);
  tcase_add_test(tc, a_non_finite_loss_stops_the_fit_naming_the_step);
  tcase_add_test(tc, validation_metrics_and_history_match_a_direct_computation);
  tcase_add_test(tc, early_stopping_save_best_and_csv_logger);
  tcase_add_test(tc, request_stop_ends_the_fit_cleanly);
  tcase_add_test(tc, gradient_accumulation_equals_the_mean_gradient_by_hand);
  tcase_add_test(tc, save_load_and_lr_find_leave_no_trace);
  tcase_add_test(tc, lm_loader_data_resets_state_and_reports_perplexity);
  tcase_add_test(tc, clas_loader_data_sets_lengths_for_masked_pooling);
}
