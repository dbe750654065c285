/* "Everything a learner does equals the hand-written loop with the same
 * plan, bit for bit": fit_one_cycle, fine_tune, fit, fit_sgdr, clipping
 * and a two-model chain with a group spanning both models, compared
 * parameter by parameter (memcmp) with tests/learn/common.c's loop. */
#include "common.h"

/* The parameters moved away from a fresh model's (so equality is not the
 * trivial "nothing trained"). */
static void assert_trained(tl_model *m, uint64_t seed) {
  tl_model *fresh = tlt_lm_model(seed);
  float *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&a, &na, m));
  TLT_ASSERT_OK(tl_model_flat_params(&b, &nb, fresh));
  size_t same = 0;
  for (size_t i = 0; i < na; i++)
    same += a[i] == b[i];
  ck_assert_msg(same < na / 2, "%zu of %zu parameters never moved", same, na);
  tl_model_free(fresh);
}

static tl_learner *lm_learner(tl_model *m, tlt_source *tr, tlt_source *va) {
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, &m, 1, NULL));
  tl_batch_source bt = tlt_batch_source(tr), bv = tlt_batch_source(va);
  TLT_ASSERT_OK(tl_learner_set_data(l, &bt, &bv));
  return l;
}

/* A one-stage plan with a fastai one-cycle schedule. */
static tl_plan *cycle_plan(size_t n_groups, double top, const double *base,
                           uint64_t steps, double pct, double div,
                           int64_t freeze_arg, int reset) {
  tl_sched_fastai_one_cycle_options so = TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT;
  so.lr_max = top;
  so.total_steps = steps;
  so.pct_start = pct;
  so.div = div;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_fastai_one_cycle_create(&s, &so));
  tl_plan *p = NULL;
  TLT_ASSERT_OK(tl_plan_create(&p, n_groups));
  tl_plan_stage st = TL_PLAN_STAGE_INIT;
  st.steps = steps;
  st.sched = s;
  st.base_lrs = base;
  st.freeze_arg = freeze_arg;
  st.reset_state = reset;
  TLT_ASSERT_OK(tl_plan_add_stage(p, &st));
  tl_sched_free(s);
  return p;
}

START_TEST(fit_one_cycle_equals_the_hand_loop) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(7);
  tl_learner *l = lm_learner(m, &tr, &va);
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  o.slice_lo = 1e-3;
  o.slice_hi = 3e-2;
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 2, &o));

  /* by hand: fastai's slice(1e-3, 3e-2) over 3 groups, one-cycle at 3e-2 */
  tl_model *h = tlt_lm_model(7);
  tl_optim_options oo = tlt_fastai_adam();
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &h, 1, &oo));
  double base[3];
  TLT_ASSERT_OK(tl_lrs_even(base, 3, 1e-3, 3e-2));
  tl_plan *p = cycle_plan(3, 3e-2, base, 2 * NB, 0.25, 25.0, 0, 0);
  tlt_source htr = tr, hva = va;
  tlt_hand_loop(&h, 1, opt, p, 0, 2, &htr, &hva, 0.0);
  tlt_assert_same_params(m, h);
  assert_trained(m, 7);

  /* the history: two rows, fastai's columns */
  size_t rows = 0, cols = 0;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  TLT_ASSERT_OK(tl_learner_history_num_columns(&cols, l));
  ck_assert_uint_eq(rows, 2);
  ck_assert_uint_eq(cols, 4);
  const char *name = NULL;
  TLT_ASSERT_OK(tl_learner_history_column_name(&name, l, 2));
  ck_assert_str_eq(name, "valid_loss");
  tl_plan_free(p);
  tl_optim_free(opt);
  tl_model_free(h);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

START_TEST(fine_tune_equals_the_fine_tune_preset_by_hand) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(11);
  tl_learner *l = lm_learner(m, &tr, &va);
  tl_fine_tune_options o = TL_FINE_TUNE_OPTIONS_INIT;
  o.base_lr = 2e-2;
  TLT_ASSERT_OK(tl_learner_fine_tune(l, 2, &o));

  /* by hand with libtl's fastai fine_tune preset: stage 1 frozen over one
   * epoch, stage 2 unfrozen over two */
  tl_model *h = tlt_lm_model(11);
  tl_optim_options oo = tlt_fastai_adam();
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &h, 1, &oo));
  tl_plan_preset_options po =
      TL_PLAN_PRESET_OPTIONS_INIT(TL_PLAN_PRESET_FINE_TUNE);
  po.n_groups = 3;
  po.lr = 2e-2;
  po.stage_steps = NB;
  po.final_steps = 2 * NB;
  tl_plan *p = NULL;
  TLT_ASSERT_OK(tl_plan_preset_create(&p, TL_PLAN_PRESET_FINE_TUNE, &po));
  tlt_source htr = tr, hva = va;
  tlt_hand_loop(&h, 1, opt, p, 0, 1, &htr, &hva, 0.0);
  tlt_hand_loop(&h, 1, opt, p, NB, 2, &htr, &hva, 0.0);
  tlt_assert_same_params(m, h);
  assert_trained(m, 11);
  size_t rows = 0;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  ck_assert_uint_eq(rows, 2); /* the second fit's, as fastai's Recorder */
  tl_plan_free(p);
  tl_optim_free(opt);
  tl_model_free(h);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

START_TEST(fit_with_clipping_and_fit_sgdr_equal_the_hand_loop) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *m = tlt_lm_model(3);
  tl_learner *l = lm_learner(m, &tr, &va);
  TLT_ASSERT_OK(tl_learner_add_grad_clip(l, 0.05));
  tl_fit_options fo = TL_FIT_OPTIONS_INIT;
  const double lrs[3] = {1e-3, 2e-3, 1e-2};
  fo.lrs = lrs;
  fo.n_lrs = 3;
  TLT_ASSERT_OK(tl_learner_fit(l, 1, &fo));
  tl_fit_sgdr_options so = TL_FIT_SGDR_OPTIONS_INIT;
  so.lr_max = 5e-3;
  TLT_ASSERT_OK(tl_learner_fit_sgdr(l, 2, 1, &so)); /* 1 + 2 epochs */

  tl_model *h = tlt_lm_model(3);
  tl_optim_options oo = tlt_fastai_adam();
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &h, 1, &oo));
  TLT_ASSERT_OK(tl_optim_set_lrs(opt, lrs, 3));
  tlt_source htr = tr, hva = va;
  tlt_hand_loop(&h, 1, opt, NULL, 0, 1, &htr, &hva, 0.05);
  /* fastai fit_sgdr: cosine cycles of 1 then 2 epochs from lr_max to 0 */
  tl_sched_cosine_restarts_options co = TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT;
  co.base_lr = 5e-3;
  co.t_0 = NB;
  co.t_mult = 2;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_cosine_restarts_create(&s, &co));
  tl_plan *p = NULL;
  TLT_ASSERT_OK(tl_plan_create(&p, 3));
  tl_plan_stage st = TL_PLAN_STAGE_INIT;
  st.steps = 3 * NB;
  st.sched = s;
  const double base[3] = {5e-3, 5e-3, 5e-3};
  st.base_lrs = base;
  st.reset_state = 0;
  TLT_ASSERT_OK(tl_plan_add_stage(p, &st));
  tlt_hand_loop(&h, 1, opt, p, 0, 3, &htr, &hva, 0.05);
  tlt_assert_same_params(m, h);
  assert_trained(m, 3);
  size_t rows = 0;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  ck_assert_uint_eq(rows, 3);
  tl_sched_free(s);
  tl_plan_free(p);
  tl_optim_free(opt);
  tl_model_free(h);
  tl_learner_free(l);
  tl_model_free(m);
}
END_TEST

START_TEST(a_group_across_two_models_equals_the_hand_loop) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_model *enc = NULL, *dec = NULL;
  tlt_tied_chain(&enc, &dec, 5);
  tl_model *chain[2] = {enc, dec};
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_learner_create(&l, chain, 2, NULL));
  tl_batch_source bt = tlt_batch_source(&tr), bv = tlt_batch_source(&va);
  TLT_ASSERT_OK(tl_learner_set_data(l, &bt, &bv));
  /* fastai's AWD-LSTM LM split: the LSTM, then embedding + tied decoder */
  TLT_ASSERT_OK(tl_learner_set_group(l, 0, "rnn", 0));
  TLT_ASSERT_OK(tl_learner_set_group(l, 0, "emb", 1));
  TLT_ASSERT_OK(tl_learner_set_group(l, 1, "dec", 1));
  size_t ng = 0, g = 0;
  TLT_ASSERT_OK(tl_learner_num_groups(&ng, l));
  ck_assert_uint_eq(ng, 2);
  TLT_ASSERT_OK(tl_learner_get_group(&g, l, 1, "dec"));
  ck_assert_uint_eq(g, 1);
  TLT_ASSERT_OK(tl_learner_freeze(l));
  int t0 = -1, t1 = -1;
  TLT_ASSERT_OK(tl_learner_get_group_trainable(&t0, l, 0));
  TLT_ASSERT_OK(tl_learner_get_group_trainable(&t1, l, 1));
  ck_assert_int_eq(t0, 0);
  ck_assert_int_eq(t1, 1);
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  o.lr_max = 2e-2;
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 1, &o));
  TLT_ASSERT_OK(tl_learner_unfreeze(l));
  o.slice_lo = 1e-3;
  o.slice_hi = 1e-2;
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l, 1, &o));

  /* by hand: the encoder's groups renumbered (rnn 0, emb 1), the
   * optimizer's groups (enc 0 = rnn, enc 1 = emb, dec 0 = dec) map to
   * learner groups (0, 1, 1) */
  tl_model *he = NULL, *hd = NULL;
  tlt_tied_chain(&he, &hd, 5);
  TLT_ASSERT_OK(tl_model_set_group(he, "rnn", 0));
  TLT_ASSERT_OK(tl_model_set_group(he, "emb", 1));
  tl_model *hchain[2] = {he, hd};
  tl_optim_options oo = tlt_fastai_adam();
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, hchain, 2, &oo));
  size_t no = 0;
  TLT_ASSERT_OK(tl_optim_num_groups(&no, opt));
  ck_assert_uint_eq(no, 3);
  const double b1[3] = {2e-2, 2e-2, 2e-2};
  tl_plan *p1 = cycle_plan(3, 2e-2, b1, NB, 0.25, 25.0, 1, 1);
  tlt_source htr = tr, hva = va;
  tlt_hand_loop(hchain, 2, opt, p1, 0, 1, &htr, &hva, 0.0);
  double even[2];
  TLT_ASSERT_OK(tl_lrs_even(even, 2, 1e-3, 1e-2));
  const double b2[3] = {even[0], even[1], even[1]};
  tl_plan *p2 = cycle_plan(3, 1e-2, b2, NB, 0.25, 25.0, 0, 1);
  tlt_hand_loop(hchain, 2, opt, p2, 0, 1, &htr, &hva, 0.0);
  tlt_assert_same_params(enc, he);
  tlt_assert_same_params(dec, hd);
  tl_plan_free(p1);
  tl_plan_free(p2);
  tl_optim_free(opt);
  tl_model_free(he);
  tl_model_free(hd);
  tl_learner_free(l);
  tl_model_free(enc);
  tl_model_free(dec);
}
END_TEST

/* Stops the fit after its first epoch (a run killed after a checkpoint). */
static tl_status stop_after_first_epoch(void *payload, tl_learner *learner,
                                        const tl_learner_state *state) {
  (void)payload;
  if (state->event == TL_LEARNER_EVENT_AFTER_EPOCH && state->epoch == 0)
    return tl_learner_request_stop(learner);
  return TL_OK;
}

/* fastai's start_epoch: a run stopped after epoch 1 of 3, saved (models
 * with their RNG streams, optimizer state) and restored into a new model
 * and learner, continued with start_epoch 1, ends bit for bit where the
 * uninterrupted run ends. */
START_TEST(a_resumed_one_cycle_equals_the_uninterrupted_one) {
  tlt_data d;
  tlt_data_init(&d);
  tlt_source tr, va;
  tlt_source_init(&tr, &d, 0, NB);
  tlt_source_init(&va, &d, NB, NV);
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  o.lr_max = 2e-2;

  tl_model *whole = tlt_lm_model(13);
  tlt_source wtr = tr, wva = va;
  tl_learner *lw = lm_learner(whole, &wtr, &wva);
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(lw, 3, &o));

  tl_model *first = tlt_lm_model(13);
  tl_learner *l1 = lm_learner(first, &tr, &va);
  tl_callback cb = {TL_CALLBACK_VERSION, stop_after_first_epoch, NULL, "stop"};
  TLT_ASSERT_OK(tl_learner_add_callback(l1, &cb));
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l1, 3, &o));
  size_t rows = 0;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l1));
  ck_assert_uint_eq(rows, 1);
  tl_ckpt *ck = NULL;
  tl_optim *opt1 = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  TLT_ASSERT_OK(tl_ckpt_store_model(ck, first, NULL));
  TLT_ASSERT_OK(tl_learner_optim(&opt1, l1));
  TLT_ASSERT_OK(tl_ckpt_store_optim(ck, opt1));

  /* A new process: fresh model (another seed: everything comes from the
   * checkpoint), fresh learner, the data sources where the run stopped. */
  tl_model *second = tlt_lm_model(99);
  tl_learner *l2 = lm_learner(second, &tr, &va);
  size_t groups = 0;
  tl_optim *opt2 = NULL;
  TLT_ASSERT_OK(tl_ckpt_restore_model(second, ck, NULL));
  TLT_ASSERT_OK(tl_learner_num_groups(&groups, l2));
  TLT_ASSERT_OK(tl_learner_optim(&opt2, l2));
  TLT_ASSERT_OK(tl_ckpt_restore_optim(opt2, ck));
  o.start_epoch = 1;
  TLT_ASSERT_OK(tl_learner_fit_one_cycle(l2, 3, &o));
  tlt_assert_same_params(second, whole);
  double epoch = -1;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l2));
  ck_assert_uint_eq(rows, 2);
  TLT_ASSERT_OK(tl_learner_history_value(&epoch, l2, 0, 0));
  ck_assert(epoch == 1.0);
  o.start_epoch = 3;
  TLT_ASSERT_FAILS(tl_learner_fit_one_cycle(l2, 3, &o), TL_E_INVALID_ARG,
                   "start_epoch");
  tl_ckpt_free(ck);
  tl_learner_free(lw);
  tl_learner_free(l1);
  tl_learner_free(l2);
  tl_model_free(whole);
  tl_model_free(first);
  tl_model_free(second);
}
END_TEST

void tlt_add_equal_tests(TCase *tc);
void tlt_add_equal_tests(TCase *tc) {
  tcase_add_test(tc, fit_one_cycle_equals_the_hand_loop);
  tcase_add_test(tc, fine_tune_equals_the_fine_tune_preset_by_hand);
  tcase_add_test(tc, fit_with_clipping_and_fit_sgdr_equal_the_hand_loop);
  tcase_add_test(tc, a_group_across_two_models_equals_the_hand_loop);
  tcase_add_test(tc, a_resumed_one_cycle_equals_the_uninterrupted_one);
}
