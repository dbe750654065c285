/* Bad input: a status and a message naming what was wrong, and nothing
 * changed by a call that fails before training. */
#include <unistd.h>

#include "common.h"

static tl_learner *learner_with_data(tl_model *m, tlt_source *tr,
                                     tlt_source *va) {
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  tl_batch_source bt = tlt_batch_source(tr);
  if (va == NULL) {
    TLT_ASSERT_OK(tl_learner_set_data(l, &bt, NULL));
  } else {
    tl_batch_source bv = tlt_batch_source(va);
    TLT_ASSERT_OK(tl_learner_set_data(l, &bt, &bv));
  }
  return l;
}

static void snapshot(float *out, tl_model *m) {
  float *w = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  memcpy(out, w, n * sizeof(float));
}

static void assert_unchanged(const float *before, tl_model *m) {
  float *w = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  ck_assert_int_eq(memcmp(before, w, n * sizeof(float)), 0);
}

START_TEST(create_and_accessors_reject_bad_arguments) {
  tl_model *m = tlt_lm_model(1), *empty = NULL;
  TLT_ASSERT_OK(tl_model_create(&empty, NULL));
  tl_learner *l = NULL;
  TLT_ASSERT_FAILS(tl_learner_create(NULL, &m, 1, NULL), TL_E_INVALID_ARG,
                   "out");
  TLT_ASSERT_FAILS(tl_learner_create(&l, NULL, 1, NULL), TL_E_INVALID_ARG,
                   "models");
  TLT_ASSERT_FAILS(tl_learner_create(&l, &m, 0, NULL), TL_E_INVALID_ARG,
                   "n_models");
  tl_model *twice[2] = {m, m};
  TLT_ASSERT_FAILS(tl_learner_create(&l, twice, 2, NULL), TL_E_INVALID_ARG,
                   "models[1]");
  TLT_ASSERT_FAILS(tl_learner_create(&l, &empty, 1, NULL), TL_E_STATE,
                   "no layers");
  tl_learner_options o = TL_LEARNER_OPTIONS_INIT;
  o.eps = 0.0;
  TLT_ASSERT_FAILS(tl_learner_create(&l, &m, 1, &o), TL_E_INVALID_ARG, "eps");
  o = (tl_learner_options)TL_LEARNER_OPTIONS_INIT;
  o.wd = NAN;
  TLT_ASSERT_FAILS(tl_learner_create(&l, &m, 1, &o), TL_E_INVALID_ARG, "wd");
  o = (tl_learner_options)TL_LEARNER_OPTIONS_INIT;
  o.version = 99;
  TLT_ASSERT_FAILS(tl_learner_create(&l, &m, 1, &o), TL_E_UNSUPPORTED,
                   "version");
  ck_assert_ptr_null(l);
  TLT_ASSERT_FAILS(tl_learner_options_init(NULL, 1), TL_E_INVALID_ARG, "out");
  TLT_ASSERT_FAILS(tl_fit_options_init(NULL, 1), TL_E_INVALID_ARG, "out");

  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  size_t n = 0;
  tl_model *got = NULL;
  tl_optim *opt = NULL;
  TLT_ASSERT_FAILS(tl_learner_num_models(&n, NULL), TL_E_INVALID_ARG,
                   "learner");
  TLT_ASSERT_FAILS(tl_learner_model(&got, l, 1), TL_E_INVALID_ARG, "index");
  TLT_ASSERT_OK(tl_learner_model(&got, l, 0));
  ck_assert_ptr_eq(got, m);
  TLT_ASSERT_FAILS(tl_learner_optim(NULL, l), TL_E_INVALID_ARG, "out");
  TLT_ASSERT_OK(tl_learner_optim(&opt, l));
  TLT_ASSERT_FAILS(tl_learner_set_data(l, NULL, NULL), TL_E_INVALID_ARG,
                   "train");
  tl_batch_source nonext = TL_BATCH_SOURCE_INIT;
  TLT_ASSERT_FAILS(tl_learner_set_data(l, &nonext, NULL), TL_E_INVALID_ARG,
                   "next");
  TLT_ASSERT_FAILS(tl_learner_set_lm_data(l, NULL, NULL, 4, 7),
                   TL_E_INVALID_ARG, "train");
  TLT_ASSERT_FAILS(tl_learner_set_clas_data(l, NULL, NULL, NULL),
                   TL_E_INVALID_ARG, "train");
  TLT_ASSERT_FAILS(tl_learner_add_metric(l, (tl_learner_metric)7, 0),
                   TL_E_INVALID_ARG, "metric");
  TLT_ASSERT_FAILS(tl_learner_add_metric(l, TL_LEARNER_METRIC_MACRO_F1, 0),
                   TL_E_INVALID_ARG, "n_classes");
  tl_host_metric hm = {TL_HOST_METRIC_VERSION, "", NULL, NULL, NULL, NULL};
  TLT_ASSERT_FAILS(tl_learner_add_host_metric(l, &hm), TL_E_INVALID_ARG,
                   "name");
  tl_callback cb = {TL_CALLBACK_VERSION, NULL, NULL, "x"};
  TLT_ASSERT_FAILS(tl_learner_add_callback(l, &cb), TL_E_INVALID_ARG, "fn");
  TLT_ASSERT_FAILS(tl_learner_add_grad_clip(l, 0.0), TL_E_INVALID_ARG,
                   "max_norm");
  TLT_ASSERT_FAILS(tl_learner_add_grad_accum(l, 0), TL_E_INVALID_ARG,
                   "n_batches");
  tl_monitor_options mo = TL_MONITOR_OPTIONS_INIT;
  mo.min_delta = -1.0;
  TLT_ASSERT_FAILS(tl_learner_add_early_stopping(l, &mo), TL_E_INVALID_ARG,
                   "min_delta");
  TLT_ASSERT_FAILS(tl_learner_add_save_model(l, "", NULL), TL_E_INVALID_ARG,
                   "path");
  TLT_ASSERT_FAILS(tl_learner_add_csv_logger(l, NULL, 0), TL_E_INVALID_ARG,
                   "path");
  TLT_ASSERT_FAILS(tl_learner_add_reporter(l, NULL), TL_E_INVALID_ARG,
                   "reporter");
  double v = 0.0;
  TLT_ASSERT_FAILS(tl_learner_history_value(&v, l, 0, 0), TL_E_INVALID_ARG,
                   "row");
  const char *name = NULL;
  TLT_ASSERT_FAILS(tl_learner_history_column_name(&name, l, 4),
                   TL_E_INVALID_ARG, "column");
  TLT_ASSERT_FAILS(tl_learner_save(l, NULL), TL_E_INVALID_ARG, "path");
  TLT_ASSERT_FAILS(tl_learner_load(l, "/nonexistent/x.tlck"), TL_E_IO,
                   "nonexistent");
  tl_learner_free(NULL);
  tl_learner_free(l);
  tl_model_free(m);
  tl_model_free(empty);
}
END_TEST

START_TEST(groups_out_of_range_are_refused) {
  tl_model *enc = NULL, *dec = NULL;
  tlt_tied_chain(&enc, &dec, 2);
  tl_model *chain[2] = {enc, dec};
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, chain, 2, NULL));
  size_t ng = 0;
  TLT_ASSERT_OK(tl_learner_num_groups(&ng, l));
  ck_assert_uint_eq(ng, 3); /* emb, rnn | dec */
  TLT_ASSERT_FAILS(tl_learner_set_group(l, 2, "dec", 0), TL_E_INVALID_ARG,
                   "model_index");
  TLT_ASSERT_FAILS(tl_learner_set_group(l, 0, "nope", 0), TL_E_NOT_FOUND,
                   "nope");
  TLT_ASSERT_FAILS(tl_learner_set_group(l, 1, "dec", 3), TL_E_INVALID_ARG,
                   "group 3");
  TLT_ASSERT_FAILS(tl_learner_set_group(l, 0, NULL, 0), TL_E_INVALID_ARG,
                   "layer");
  TLT_ASSERT_FAILS(tl_learner_freeze_to(l, 4), TL_E_INVALID_ARG, "n = 4");
  TLT_ASSERT_FAILS(tl_learner_freeze_to(l, -4), TL_E_INVALID_ARG, "n = -4");
  int t = 0;
  TLT_ASSERT_FAILS(tl_learner_get_group_trainable(&t, l, 3), TL_E_INVALID_ARG,
                   "group 3");
  TLT_ASSERT_OK(tl_learner_freeze_to(l, -3));
  TLT_ASSERT_OK(tl_learner_freeze_to(l, 3)); /* everything frozen */
  TLT_ASSERT_OK(tl_learner_get_group_trainable(&t, l, 2));
  ck_assert_int_eq(t, 0);
  /* nothing trainable: the fit fails at the first step, which changes
   * nothing */
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr;
  tlt_source_init(&tr, &d, 0, NB);
  tl_batch_source bt = tlt_batch_source(&tr);
  TLT_ASSERT_OK(tl_learner_set_data(l, &bt, NULL));
  float before[V * H + 8 * H * H + 8 * H + V];
  snapshot(before, enc);
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, NULL), TL_E_STATE, "trainable");
  assert_unchanged(before, enc);
  tl_learner_free(l);
  tl_model_free(enc);
  tl_model_free(dec);
}
END_TEST

static tl_status sq_loss(void *payload, double *out_loss, float *out_dy,
                         const float *y, const size_t *dims, size_t ndim,
                         const tl_batch *b) {
  (void)payload, (void)b;
  size_t n = 1;
  for (size_t i = 0; i < ndim; i++)
    n *= dims[i];
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    s += (double)y[i] * y[i];
    if (out_dy != NULL)
      out_dy[i] = 2.0f * y[i] / (float)n;
  }
  *out_loss = s / (double)n;
  return TL_OK;
}

START_TEST(fits_reject_bad_input_before_training) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va, empty;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tlt_source_init(&empty, &d, 0, 0);
  tl_model *m = tlt_lm_model(8);
  float before[V * E + 4 * H * E + 4 * H * H + 8 * H + H * V + V];
  snapshot(before, m);

  /* no training data */
  tl_learner *bare = NULL;
  TLT_ASSERT_OK(tl_learner_create(&bare, &m, 1, NULL));
  TLT_ASSERT_FAILS(tl_learner_fit(bare, 1, NULL), TL_E_STATE,
                   "no training data");
  TLT_ASSERT_FAILS(tl_learner_fit_one_cycle(bare, 1, NULL), TL_E_STATE,
                   "no training data");
  TLT_ASSERT_FAILS(tl_learner_fine_tune(bare, 1, NULL), TL_E_STATE,
                   "no training data");
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  double lrs[100], losses[100];
  TLT_ASSERT_FAILS(
      tl_learner_lr_find(&r, NULL, lrs, losses, 100, bare, NULL, NULL),
      TL_E_STATE, "no training data");
  tl_learner_free(bare);

  tl_learner *l = learner_with_data(m, &tr, &va);
  /* epochs 0 */
  TLT_ASSERT_FAILS(tl_learner_fit(l, 0, NULL), TL_E_INVALID_ARG, "n_epoch");
  TLT_ASSERT_FAILS(tl_learner_fit_one_cycle(l, 0, NULL), TL_E_INVALID_ARG,
                   "n_epoch");
  TLT_ASSERT_FAILS(tl_learner_fine_tune(l, 0, NULL), TL_E_INVALID_ARG,
                   "n_epoch");
  TLT_ASSERT_FAILS(tl_learner_fit_sgdr(l, 0, 1, NULL), TL_E_INVALID_ARG,
                   "n_cycles");
  TLT_ASSERT_FAILS(tl_learner_fit_sgdr(l, 1, 0, NULL), TL_E_INVALID_ARG,
                   "cycle_len");
  /* bad rates */
  tl_fit_options fo = TL_FIT_OPTIONS_INIT;
  fo.lr = NAN;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, &fo), TL_E_INVALID_ARG,
                   "learning rate");
  fo.lr = -1.0;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, &fo), TL_E_INVALID_ARG,
                   "learning rate");
  fo = (tl_fit_options)TL_FIT_OPTIONS_INIT;
  const double two[2] = {1e-3, 1e-2};
  fo.lrs = two;
  fo.n_lrs = 2;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, &fo), TL_E_INVALID_ARG, "n_lrs");
  fo = (tl_fit_options)TL_FIT_OPTIONS_INIT;
  fo.slice_lo = 1e-1;
  fo.slice_hi = 1e-2;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, &fo), TL_E_INVALID_ARG, "slice_lo");
  fo = (tl_fit_options)TL_FIT_OPTIONS_INIT;
  fo.wd = INFINITY;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, &fo), TL_E_INVALID_ARG, "wd");
  tl_fit_one_cycle_options co = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  co.lr_max = 0.0;
  TLT_ASSERT_FAILS(tl_learner_fit_one_cycle(l, 1, &co), TL_E_INVALID_ARG,
                   "lr_max");
  co = (tl_fit_one_cycle_options)TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  co.pct_start = 1.5;
  TLT_ASSERT_FAILS(tl_learner_fit_one_cycle(l, 1, &co), TL_E_INVALID_ARG,
                   "pct_start");
  co = (tl_fit_one_cycle_options)TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  co.moms[1] = 1.0;
  TLT_ASSERT_FAILS(tl_learner_fit_one_cycle(l, 1, &co), TL_E_INVALID_ARG,
                   "moms[1]");
  tl_fine_tune_options ft = TL_FINE_TUNE_OPTIONS_INIT;
  ft.base_lr = 0.0;
  TLT_ASSERT_FAILS(tl_learner_fine_tune(l, 1, &ft), TL_E_INVALID_ARG,
                   "base_lr");
  ft = (tl_fine_tune_options)TL_FINE_TUNE_OPTIONS_INIT;
  ft.div = -5.0;
  TLT_ASSERT_FAILS(tl_learner_fine_tune(l, 1, &ft), TL_E_INVALID_ARG, "div");
  tl_fit_sgdr_options so = TL_FIT_SGDR_OPTIONS_INIT;
  so.cycle_mult = 0;
  TLT_ASSERT_FAILS(tl_learner_fit_sgdr(l, 1, 1, &so), TL_E_INVALID_ARG,
                   "cycle_mult");
  fo = (tl_fit_options)TL_FIT_OPTIONS_INIT;
  fo.version = 2;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, &fo), TL_E_UNSUPPORTED, "version");
  /* a monitor that names no column */
  tl_monitor_options mo = TL_MONITOR_OPTIONS_INIT;
  mo.monitor = "accuracy";
  TLT_ASSERT_OK(tl_learner_add_early_stopping(l, &mo));
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, NULL), TL_E_NOT_FOUND, "accuracy");
  TLT_ASSERT_OK(tl_learner_clear_callbacks(l));
  /* lr_find: capacity below num_it */
  TLT_ASSERT_FAILS(tl_learner_lr_find(&r, NULL, lrs, losses, 10, l, NULL, NULL),
                   TL_E_INVALID_ARG, "capacity");
  assert_unchanged(before, m);

  /* batches without the targets the loss needs */
  tr.no_targets = 1;
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, NULL), TL_E_STATE, "no targets");
  assert_unchanged(before, m);
  tr.no_targets = 0;
  tl_learner_free(l);

  /* a validation source that yields nothing */
  l = learner_with_data(m, &tr, &empty);
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, NULL), TL_E_STATE, "yielded no batch");
  double vl = 0.0;
  TLT_ASSERT_FAILS(tl_learner_validate(&vl, NULL, 0, l), TL_E_STATE,
                   "yielded no batch");
  tl_learner_free(l);
  /* an empty training source */
  l = learner_with_data(m, &empty, NULL);
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, NULL), TL_E_STATE, "yielded no batch");
  tl_learner_free(l);

  /* metrics that need labels the validation batches lack */
  va.no_targets = 1;
  l = learner_with_data(m, &tr, &va);
  TLT_ASSERT_OK(tl_learner_set_loss(l, sq_loss, NULL));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_ACCURACY, 0));
  TLT_ASSERT_FAILS(tl_learner_validate(&vl, &vl, 1, l), TL_E_STATE,
                   "'accuracy' needs targets");
  TLT_ASSERT_FAILS(tl_learner_fit(l, 1, NULL), TL_E_STATE,
                   "'accuracy' needs targets");
  TLT_ASSERT_FAILS(tl_learner_validate(&vl, NULL, 0, l), TL_E_SHAPE, "n is 0");
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

START_TEST(load_of_another_model_changes_nothing) {
  tl_model *m = tlt_lm_model(1);
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  char dir[] = "/tmp/tl_learn_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/m.tlck", dir);
  TLT_ASSERT_OK(tl_learner_save(l, path));
  /* a chain of two models: "0.emb.weight" has other sizes, "1.dec.bias"
   * is missing from the file */
  tl_model *enc = NULL, *dec = NULL;
  tlt_tied_chain(&enc, &dec, 2);
  tl_model *chain[2] = {enc, dec};
  tl_learner *other = NULL;
  TLT_ASSERT_OK(tl_learner_create(&other, chain, 2, NULL));
  float before[V * H + 8 * H * H + 8 * H + V];
  snapshot(before, enc);
  TLT_ASSERT_FAILS(tl_learner_load(other, path), TL_E_SHAPE, "0.emb.weight");
  assert_unchanged(before, enc);
  /* a single model whose layer is named differently */
  tl_model *n = NULL;
  TLT_ASSERT_OK(tl_model_create(&n, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(n, "embedding", V, E, NULL));
  tl_learner *third = NULL;
  TLT_ASSERT_OK(tl_learner_create(&third, &n, 1, NULL));
  TLT_ASSERT_FAILS(tl_learner_load(third, path), TL_E_NOT_FOUND,
                   "0.embedding.weight");
  unlink(path);
  rmdir(dir);
  tl_learner_free(third);
  tl_learner_free(other);
  tl_learner_free(l);
  tl_model_free(n);
  tl_model_free(enc);
  tl_model_free(dec);
  tl_model_free(m);
}
END_TEST

void tlt_add_bad_input_tests(TCase *tc);
void tlt_add_bad_input_tests(TCase *tc) {
  tcase_add_test(tc, load_of_another_model_changes_nothing);
  tcase_add_test(tc, create_and_accessors_reject_bad_arguments);
  tcase_add_test(tc, groups_out_of_range_are_refused);
  tcase_add_test(tc, fits_reject_bad_input_before_training);
}
