/* Forward compatibility of versioned structs (lib/core/options.h): a caller
 * compiled against an older, shorter layout owns only the bytes its version
 * defines, and libtl must neither read nor write past them. Buffers are
 * malloc'd at exactly that size, so ASan (./run test's second pass) reports
 * any access past them; the sentinel checks catch writes without ASan. */
/* This file checks the experimental structs too (docs/api-conventions.md). */
#define TL_EXPERIMENTAL_API
#include "core/error.h"
#include "core/options.h"
#include "tl_test.h"

/* ---- a struct that grew: v1 as an old caller compiled it, v2 now ------- */

/* What a v1 caller was compiled against. */
typedef struct demo_v1 {
  unsigned int version;
  double rate;
  int flag; /* ends at 20: bytes 20..24 are tail padding of the v1 struct */
} demo_v1;

/* The library's current struct: v2 appended `extra`, which lands in v1's
 * tail padding, and `more` past v1's sizeof. */
typedef struct demo_v2 {
  unsigned int version;
  double rate;
  int flag;
  int extra;   /* v2, default 7 */
  double more; /* v2, default 0.5 */
} demo_v2;

TLI_VERSION_SIZES(demo_sizes, 2, TLI_FIELD_END(demo_v2, flag),
                  TLI_FIELD_END(demo_v2, more));

static const demo_v2 demo_defaults = {2, 1.0, 0, 7, 0.5};

/* The library's init and creator of the grown struct. */
static tl_status demo_init(void *out, unsigned version) {
  return TLI_OPTIONS_INIT(out, &demo_defaults, version, demo_sizes,
                          "demo_init");
}

static tl_status demo_create(demo_v2 *seen, const void *options) {
  demo_v2 o = demo_defaults;
  TLI_TRY(TLI_OPTIONS_COPY(&o, options, demo_sizes, "demo_create", "options"));
  *seen = o;
  return TL_OK;
}

START_TEST(v1_caller_of_a_grown_struct_behaves_as_v1) {
  ck_assert_uint_eq(sizeof(demo_v1), 24);
  ck_assert_uint_eq(offsetof(demo_v2, extra), 20);
  /* The v1 caller's struct, with garbage in its tail padding (a caller's
   * stack) and nothing after it. */
  unsigned char *buf = malloc(sizeof(demo_v1));
  memset(buf, 0xA5, sizeof(demo_v1));
  demo_v1 *v1 = (demo_v1 *)buf;
  TLT_ASSERT_OK(demo_init(v1, 1));
  ck_assert_uint_eq(v1->version, 1);
  ck_assert(v1->rate == 1.0);
  ck_assert_int_eq(v1->flag, 0);
  /* init wrote nothing past what v1 defines: the padding is untouched. */
  for (size_t i = TLI_FIELD_END(demo_v1, flag); i < sizeof(demo_v1); i++)
    ck_assert_uint_eq(buf[i], 0xA5);
  v1->rate = 3.0;
  v1->flag = 1;
  demo_v2 seen;
  TLT_ASSERT_OK(demo_create(&seen, v1));
  ck_assert(seen.rate == 3.0);
  ck_assert_int_eq(seen.flag, 1);
  /* The v2 fields keep their defaults: neither the padding's 0xA5 bytes
   * nor anything past the v1 struct were read as `extra` or `more`. */
  ck_assert_int_eq(seen.extra, 7);
  ck_assert(seen.more == 0.5);
  ck_assert_uint_eq(seen.version, 2);
  free(buf);
}
END_TEST

START_TEST(v2_caller_gets_every_field) {
  demo_v2 v2;
  TLT_ASSERT_OK(demo_init(&v2, 2));
  ck_assert_int_eq(v2.extra, 7);
  ck_assert(v2.more == 0.5);
  v2.extra = 9;
  v2.more = -1.0;
  demo_v2 seen;
  TLT_ASSERT_OK(demo_create(&seen, &v2));
  ck_assert_int_eq(seen.extra, 9);
  ck_assert(seen.more == -1.0);
}
END_TEST

START_TEST(unknown_versions_fail_with_one_message) {
  demo_v2 v2 = demo_defaults, seen;
  unsigned char before[sizeof v2];
  for (unsigned bad = 0; bad <= 3; bad += 3) {
    memcpy(before, &v2, sizeof v2);
    TLT_ASSERT_FAILS(demo_init(&v2, bad), TL_E_UNSUPPORTED,
                     "is not supported (this libtl knows 1..2)");
    ck_assert(memcmp(before, &v2, sizeof v2) == 0); /* untouched */
    ck_assert_ptr_nonnull(strstr(tl_last_error(), "demo_init: version"));
    v2.version = bad;
    TLT_ASSERT_FAILS(demo_create(&seen, &v2), TL_E_UNSUPPORTED,
                     "demo_create: options->version");
    v2.version = 2;
  }
  /* And a real function says the same. */
  tl_model_options mo;
  TLT_ASSERT_FAILS(tl_model_options_init(&mo, 0), TL_E_UNSUPPORTED,
                   "tl_model_options_init: version 0 is not supported "
                   "(this libtl knows 1..");
  mo = (tl_model_options)TL_MODEL_OPTIONS_INIT;
  mo.version = 99;
  tl_model *m = NULL;
  TLT_ASSERT_FAILS(tl_model_create(&m, &mo), TL_E_UNSUPPORTED,
                   "tl_model_create: options->version 99 is not supported");
  ck_assert_ptr_null(m);
}
END_TEST

START_TEST(a_filled_struct_gets_only_its_versions_bytes) {
  unsigned char *buf = malloc(sizeof(demo_v1));
  memset(buf, 0xA5, sizeof(demo_v1));
  demo_v1 *v1 = (demo_v1 *)buf;
  v1->version = 1;
  const demo_v2 full = {2, 4.0, 5, 6, 8.0};
  TLT_ASSERT_OK(tli_options_write(v1, &full, demo_sizes, 2, "demo", "out"));
  ck_assert_uint_eq(v1->version, 1); /* the caller's, kept */
  ck_assert(v1->rate == 4.0);
  ck_assert_int_eq(v1->flag, 5);
  for (size_t i = TLI_FIELD_END(demo_v1, flag); i < sizeof(demo_v1); i++)
    ck_assert_uint_eq(buf[i], 0xA5);
  free(buf);
}
END_TEST

/* ---- every public versioned struct, at exactly its v1 size ---------------
 * Today's structs are their v1 layouts; these buffers end where the last
 * v1 field ends (before any tail padding), the size an older caller may
 * legitimately own. */

/* A heap copy of the first n bytes of src: reads past n are ASan errors. */
static void *exact(const void *src, size_t n) {
  void *p = malloc(n);
  ck_assert_ptr_nonnull(p);
  memcpy(p, src, n);
  return p;
}

/* init of version 1 writes only the bytes v1 defines: checked with a
 * sentinel (any build) and an exact-size buffer (ASan). */
#define INIT_STAYS_INSIDE(type, last, ...)                                     \
  do {                                                                         \
    const size_t end_ = TLI_FIELD_END(type, last);                             \
    const size_t cap_ = sizeof(type) + 16;                                     \
    unsigned char *buf_ = malloc(cap_);                                        \
    memset(buf_, 0xA5, cap_);                                                  \
    type *out = (type *)buf_;                                                  \
    TLT_ASSERT_OK(__VA_ARGS__);                                                \
    ck_assert_uint_eq(out->version, 1);                                        \
    for (size_t i_ = end_; i_ < cap_; i_++)                                    \
      ck_assert_msg(buf_[i_] == 0xA5,                                          \
                    #type " init wrote byte %zu, past the %zu of version 1",   \
                    i_, end_);                                                 \
    free(buf_);                                                                \
    out = malloc(end_);                                                        \
    TLT_ASSERT_OK(__VA_ARGS__);                                                \
    free(out);                                                                 \
  } while (0)

START_TEST(inits_write_only_the_v1_bytes) {
  INIT_STAYS_INSIDE(tl_allocator, payload, tl_allocator_init(out, 1));
  INIT_STAYS_INSIDE(tl_model_options, seed, tl_model_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_embedding_options, embed_p,
                    tl_embedding_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_lstm_options, stateful, tl_lstm_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_gru_options, stateful, tl_gru_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_batchnorm_options, affine,
                    tl_batchnorm_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_linear_options, bias, tl_linear_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_awd_lstm_options, seed,
                    tl_awd_lstm_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_awd_lstm_options, seed,
                    tl_awd_lstm_clas_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_optim_options, nesterov,
                    tl_optim_options_init(out, 1, TL_OPTIM_ADAMW));
  INIT_STAYS_INSIDE(tl_sched_stlr_options, ratio,
                    tl_sched_stlr_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_cyclic_options, max_momentum,
                    tl_sched_cyclic_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_cosine_options, eta_min,
                    tl_sched_cosine_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_cosine_restarts_options, eta_min,
                    tl_sched_cosine_restarts_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_one_cycle_options, max_momentum,
                    tl_sched_one_cycle_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_fastai_one_cycle_options, moms,
                    tl_sched_fastai_one_cycle_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_linear_options, total_iters,
                    tl_sched_linear_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_constant_options, total_iters,
                    tl_sched_constant_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_step_options, gamma,
                    tl_sched_step_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_exponential_options, gamma,
                    tl_sched_exponential_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sched_multi_step_options, gamma,
                    tl_sched_multi_step_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_lr_find_options, stop_factor,
                    tl_lr_find_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_plan_stage, reset_state, tl_plan_stage_init(out, 1));
  INIT_STAYS_INSIDE(
      tl_plan_preset_options, div,
      tl_plan_preset_options_init(out, 1, TL_PLAN_PRESET_FINE_TUNE));
  INIT_STAYS_INSIDE(tl_sliced_options, seed, tl_sliced_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sinkhorn_options, tol, tl_sinkhorn_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_mmd_options, unbiased, tl_mmd_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_proxy_a_options, seed, tl_proxy_a_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_selection_options, smoothing,
                    tl_selection_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_pca_select_options, fit,
                    tl_pca_select_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_csls_options, top, tl_csls_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_ckpt_load_options, max_size,
                    tl_ckpt_load_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_model_load_options, report_payload,
                    tl_model_load_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_tokenizer_options, replace_invalid,
                    tl_tokenizer_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_vocab_options, pad_multiple,
                    tl_vocab_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_lm_loader_options, seed,
                    tl_lm_loader_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_clas_loader_options, seed,
                    tl_clas_loader_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_progress_options, clock_payload,
                    tl_progress_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_doc_encoder_options, max_len,
                    tl_doc_encoder_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_task_sampler_options, seed,
                    tl_task_sampler_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_sgns_options, seed, tl_sgns_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_learner_options, ignore_index,
                    tl_learner_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_clas_data_options, n_valid,
                    tl_clas_data_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_monitor_options, patience,
                    tl_monitor_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_fit_options, wd, tl_fit_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_fit_one_cycle_options, start_epoch,
                    tl_fit_one_cycle_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_fine_tune_options, wd,
                    tl_fine_tune_options_init(out, 1));
  INIT_STAYS_INSIDE(tl_fit_sgdr_options, wd, tl_fit_sgdr_options_init(out, 1));
}
END_TEST

/* The initialiser macros hold the same defaults as the init functions. */
START_TEST(init_macros_match_the_init_functions) {
  tl_optim_options a = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAMW), b;
  TLT_ASSERT_OK(
      tl_optim_options_init(&b, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  ck_assert(a.kind == b.kind && a.lr == b.lr && a.momentum == b.momentum &&
            a.beta2 == b.beta2 && a.eps == b.eps &&
            a.weight_decay == b.weight_decay && b.weight_decay == 1e-2);
  tl_plan_preset_options p = TL_PLAN_PRESET_OPTIONS_INIT(
                             TL_PLAN_PRESET_FINE_TUNE),
                         q;
  TLT_ASSERT_OK(tl_plan_preset_options_init(&q, TL_PLAN_PRESET_OPTIONS_VERSION,
                                            TL_PLAN_PRESET_FINE_TUNE));
  ck_assert(p.lr == q.lr && p.div == q.div && q.div == 5.0 && q.lr == 2e-3);
  tl_sched_linear_options l = TL_SCHED_LINEAR_OPTIONS_INIT, m;
  TLT_ASSERT_OK(tl_sched_linear_options_init(&m, 1));
  ck_assert(l.start_factor == m.start_factor && m.start_factor == 1.0 / 3.0);
  tl_model_load_options x = TL_MODEL_LOAD_OPTIONS_INIT, y;
  TLT_ASSERT_OK(tl_model_load_options_init(&y, 1));
  ck_assert(x.strict == 1 && y.strict == 1 && x.restore_rng == 1 &&
            y.restore_rng == 1 && y.prefix == NULL);
  tl_lm_loader_options la = TL_LM_LOADER_OPTIONS_INIT, lb;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&lb, 1));
  ck_assert(la.batch_size == lb.batch_size && la.bptt == lb.bptt &&
            la.variable_length == lb.variable_length &&
            la.shuffle == lb.shuffle && la.backwards == lb.backwards &&
            la.bos_id == lb.bos_id && lb.bos_id == -1 && la.seed == lb.seed);
  tl_progress_options pa = TL_PROGRESS_OPTIONS_INIT, pb;
  TLT_ASSERT_OK(tl_progress_options_init(&pb, 1));
  ck_assert(pa.n_epochs == pb.n_epochs && pb.n_epochs == 1 &&
            pa.smooth_beta == pb.smooth_beta && pb.smooth_beta == 0.98 &&
            pa.clock == NULL && pb.clock == NULL);
  tl_learner_options ea = TL_LEARNER_OPTIONS_INIT, eb;
  TLT_ASSERT_OK(tl_learner_options_init(&eb, 1));
  ck_assert(ea.opt_kind == eb.opt_kind && eb.opt_kind == TL_OPTIM_ADAMW &&
            ea.sqr_mom == eb.sqr_mom && eb.sqr_mom == 0.99 &&
            ea.eps == eb.eps && eb.eps == 1e-5 && ea.wd == eb.wd &&
            eb.wd == 0.01 && ea.ignore_index == eb.ignore_index);
  tl_fine_tune_options fa = TL_FINE_TUNE_OPTIONS_INIT, fb;
  TLT_ASSERT_OK(tl_fine_tune_options_init(&fb, 1));
  ck_assert(fa.base_lr == fb.base_lr && fb.base_lr == 2e-3 &&
            fa.div == fb.div && fb.div == 5.0 && fa.pct_start == fb.pct_start &&
            fa.moms[1] == fb.moms[1] && fb.moms[1] == 0.85);
  tl_fit_one_cycle_options oa = TL_FIT_ONE_CYCLE_OPTIONS_INIT, ob;
  TLT_ASSERT_OK(tl_fit_one_cycle_options_init(&ob, 1));
  ck_assert(oa.div_final == ob.div_final && ob.div_final == 1e5 &&
            oa.pct_start == ob.pct_start && ob.pct_start == 0.25 &&
            oa.wd == ob.wd && oa.start_epoch == 0 && ob.start_epoch == 0);
}
END_TEST

#define V1_COPY(type, last, src)                                               \
  ((type *)exact((src), TLI_FIELD_END(type, last)))

static double sched_lr_at(const tl_sched *s, uint64_t t) {
  double lr = -1.0;
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, t));
  return lr;
}

/* Every creator given an exact-size v1 struct reads only those bytes and
 * honours its values. */
START_TEST(creators_read_only_the_v1_bytes) {
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = 42;
  tl_model_options *mo1 = V1_COPY(tl_model_options, seed, &mo);
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, mo1));
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  eo.padding_idx = 1;
  tl_embedding_options *eo1 = V1_COPY(tl_embedding_options, embed_p, &eo);
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 5, 3, eo1));
  tl_lstm_options lo = TL_LSTM_OPTIONS_INIT;
  tl_lstm_options *lo1 = V1_COPY(tl_lstm_options, stateful, &lo);
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 3, 4, 1, lo1));
  tl_gru_options go = TL_GRU_OPTIONS_INIT;
  tl_gru_options *go1 = V1_COPY(tl_gru_options, stateful, &go);
  TLT_ASSERT_OK(tl_model_add_gru(m, "gru", 4, 4, 1, go1));
  tl_batchnorm_options bo = TL_BATCHNORM_OPTIONS_INIT;
  bo.momentum = 0.5;
  tl_batchnorm_options *bo1 = V1_COPY(tl_batchnorm_options, affine, &bo);
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(m, "bn", 4, bo1));
  tl_linear_options lno = TL_LINEAR_OPTIONS_INIT;
  lno.bias = 0;
  tl_linear_options *lno1 = V1_COPY(tl_linear_options, bias, &lno);
  TLT_ASSERT_OK(tl_model_add_linear_ex(m, "lin", 4, 4, lno1));
  size_t lin_params = 0;
  TLT_ASSERT_OK(tl_model_num_params(&lin_params, m));
  /* emb 1, rnn 4, gru 4, bn 2, lin 1: no "lin.bias" */
  ck_assert_uint_eq(lin_params, 1 + 4 + 4 + 2 + 1);
  free(lno1);
  tl_awd_lstm_options ao = TL_AWD_LSTM_OPTIONS_INIT;
  ao.emb_sz = 3;
  ao.n_hid = 4;
  ao.n_layers = 1;
  tl_awd_lstm_options *ao1 = V1_COPY(tl_awd_lstm_options, seed, &ao);
  tl_model *awd = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_encoder_create(&awd, 5, ao1, 1.0f));
  size_t awd_numel = 0;
  float *awd_flat = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&awd_flat, &awd_numel, awd));
  ck_assert_uint_eq(awd_numel, 5 * 3 + 4 * 3 * (3 + 3 + 2));
  tl_model_free(awd);
  free(ao1);
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAM);
  oo.lr = 0.25;
  tl_optim_options *oo1 = V1_COPY(tl_optim_options, nesterov, &oo);
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, oo1));
  double lr = 0.0;
  TLT_ASSERT_OK(tl_optim_get_group_lr(&lr, opt, 0));
  ck_assert(lr == 0.25);

  tl_sched_stlr_options so = TL_SCHED_STLR_OPTIONS_INIT;
  so.total_steps = 100;
  tl_sched_stlr_options *so1 = V1_COPY(tl_sched_stlr_options, ratio, &so);
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_stlr_create(&s, so1));
  ck_assert(sched_lr_at(s, 10) == 0.01); /* the peak at cut = 10 */
  tl_sched_free(s);
  tl_sched_cyclic_options cy = TL_SCHED_CYCLIC_OPTIONS_INIT;
  tl_sched_cyclic_options *cy1 =
      V1_COPY(tl_sched_cyclic_options, max_momentum, &cy);
  TLT_ASSERT_OK(tl_sched_cyclic_create(&s, cy1));
  tl_sched_free(s);
  tl_sched_cosine_options co = TL_SCHED_COSINE_OPTIONS_INIT;
  co.t_max = 10;
  tl_sched_cosine_options *co1 = V1_COPY(tl_sched_cosine_options, eta_min, &co);
  TLT_ASSERT_OK(tl_sched_cosine_create(&s, co1));
  tl_sched_free(s);
  tl_sched_cosine_restarts_options cr = TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT;
  cr.t_0 = 10;
  tl_sched_cosine_restarts_options *cr1 =
      V1_COPY(tl_sched_cosine_restarts_options, eta_min, &cr);
  TLT_ASSERT_OK(tl_sched_cosine_restarts_create(&s, cr1));
  tl_sched_free(s);
  tl_sched_one_cycle_options oc = TL_SCHED_ONE_CYCLE_OPTIONS_INIT;
  oc.total_steps = 10;
  tl_sched_one_cycle_options *oc1 =
      V1_COPY(tl_sched_one_cycle_options, max_momentum, &oc);
  TLT_ASSERT_OK(tl_sched_one_cycle_create(&s, oc1));
  tl_sched_free(s);
  tl_sched_fastai_one_cycle_options fa = TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT;
  fa.total_steps = 10;
  tl_sched_fastai_one_cycle_options *fa1 =
      V1_COPY(tl_sched_fastai_one_cycle_options, moms, &fa);
  TLT_ASSERT_OK(tl_sched_fastai_one_cycle_create(&s, fa1));
  tl_sched_free(s);
  tl_sched_linear_options li = TL_SCHED_LINEAR_OPTIONS_INIT;
  tl_sched_linear_options *li1 =
      V1_COPY(tl_sched_linear_options, total_iters, &li);
  TLT_ASSERT_OK(tl_sched_linear_create(&s, li1));
  tl_sched_free(s);
  tl_sched_constant_options cn = TL_SCHED_CONSTANT_OPTIONS_INIT;
  cn.lr = 0.5;
  tl_sched_constant_options *cn1 =
      V1_COPY(tl_sched_constant_options, total_iters, &cn);
  TLT_ASSERT_OK(tl_sched_constant_create(&s, cn1));
  ck_assert(sched_lr_at(s, 3) == 0.5);
  tl_sched_step_options st = TL_SCHED_STEP_OPTIONS_INIT;
  st.step_size = 2;
  tl_sched_step_options *st1 = V1_COPY(tl_sched_step_options, gamma, &st);
  tl_sched *s2 = NULL;
  TLT_ASSERT_OK(tl_sched_step_create(&s2, st1));
  tl_sched_free(s2);
  tl_sched_exponential_options ex = TL_SCHED_EXPONENTIAL_OPTIONS_INIT;
  tl_sched_exponential_options *ex1 =
      V1_COPY(tl_sched_exponential_options, gamma, &ex);
  TLT_ASSERT_OK(tl_sched_exponential_create(&s2, ex1));
  tl_sched_free(s2);
  const uint64_t miles[] = {2, 4};
  tl_sched_multi_step_options ms = TL_SCHED_MULTI_STEP_OPTIONS_INIT;
  ms.milestones = miles;
  ms.n_milestones = 2;
  tl_sched_multi_step_options *ms1 =
      V1_COPY(tl_sched_multi_step_options, gamma, &ms);
  TLT_ASSERT_OK(tl_sched_multi_step_create(&s2, ms1));
  tl_sched_free(s2);

  /* Plans: a stage and a preset. */
  tl_plan *plan = NULL;
  size_t groups = 0;
  TLT_ASSERT_OK(tl_optim_num_groups(&groups, opt));
  TLT_ASSERT_OK(tl_plan_create(&plan, groups));
  tl_plan_stage sg = TL_PLAN_STAGE_INIT;
  sg.steps = 5;
  sg.sched = s;
  tl_plan_stage *sg1 = V1_COPY(tl_plan_stage, reset_state, &sg);
  TLT_ASSERT_OK(tl_plan_add_stage(plan, sg1));
  tl_plan_free(plan);
  tl_plan_preset_options pp =
      TL_PLAN_PRESET_OPTIONS_INIT(TL_PLAN_PRESET_ULMFIT);
  pp.n_groups = 2;
  pp.stage_steps = pp.final_steps = 3;
  pp.version = 1; /* version 2 appended stage_lrs: a v1 caller lacks it */
  tl_plan_preset_options *pp1 = V1_COPY(tl_plan_preset_options, div, &pp);
  TLT_ASSERT_OK(tl_plan_preset_create(&plan, TL_PLAN_PRESET_ULMFIT, pp1));
  tl_plan_free(plan);

  /* lr_find's options and its result (a struct the call fills). */
  const double lrs[] = {1e-3, 1e-2, 1e-1, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  const double losses[] = {3.0, 2.5, 2.0, 1.0, 0.9, 1.5, 2.0, 3.0, 4.0};
  tl_lr_find_result rr = TL_LR_FIND_RESULT_INIT;
  tl_lr_find_result *rr1 = V1_COPY(tl_lr_find_result, lr_valley, &rr);
  TLT_ASSERT_OK(tl_lr_find_suggest(rr1, lrs, losses, 9, 9));
  ck_assert_uint_eq(rr1->n, 9);
  ck_assert_int_eq(rr1->has_suggestions, 1);
  tl_lr_find_options lf = TL_LR_FIND_OPTIONS_INIT;
  lf.num_it = 3;
  tl_lr_find_options *lf1 = V1_COPY(tl_lr_find_options, stop_factor, &lf);
  double out_lrs[3], out_losses[3];
  TLT_ASSERT_FAILS(
      tl_lr_find(rr1, out_lrs, out_losses, 2, opt, NULL, NULL, lf1),
      TL_E_INVALID_ARG, "step");
  free(lf1);
  free(rr1);

  /* Checkpoints: the tensor description, load options, model load. */
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  TLT_ASSERT_OK(tl_ckpt_store_model(ck, m, NULL));
  tl_ckpt_tensor_desc td = TL_CKPT_TENSOR_DESC_INIT;
  tl_ckpt_tensor_desc *td1 = V1_COPY(tl_ckpt_tensor_desc, group, &td);
  TLT_ASSERT_OK(tl_ckpt_tensor_info(td1, ck, 0));
  ck_assert_str_eq(td1->name, "emb.weight");
  ck_assert_uint_eq(td1->numel, 15);
  free(td1);
  size_t size = 0, written = 0;
  TLT_ASSERT_OK(tl_ckpt_serialized_size(&size, ck));
  void *image = malloc(size);
  TLT_ASSERT_OK(tl_ckpt_save_buffer(image, size, &written, ck));
  tl_ckpt_load_options cl = TL_CKPT_LOAD_OPTIONS_INIT;
  tl_ckpt_load_options *cl1 = V1_COPY(tl_ckpt_load_options, max_size, &cl);
  tl_ckpt *back = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&back, image, written, cl1));
  tl_model_load_options ml = TL_MODEL_LOAD_OPTIONS_INIT;
  tl_model_load_options *ml1 =
      V1_COPY(tl_model_load_options, report_payload, &ml);
  TLT_ASSERT_OK(tl_ckpt_restore_model(m, back, ml1));
  free(ml1);
  free(cl1);
  free(image);
  tl_ckpt_free(back);
  tl_ckpt_free(ck);

  /* The allocator hooks. */
  tl_allocator al;
  TLT_ASSERT_OK(tl_allocator_init(&al, 1));
  tl_allocator *al1 = V1_COPY(tl_allocator, payload, &al);
  TLT_ASSERT_OK(tl_set_allocator(al1));
  TLT_ASSERT_OK(tl_set_allocator(NULL));
  free(al1);

  tl_sched_free(s);
  tl_optim_free(opt);
  tl_model_free(m);
  free(mo1), free(eo1), free(lo1), free(go1), free(bo1), free(oo1), free(so1),
      free(cy1);
  free(co1), free(cr1), free(oc1), free(fa1), free(li1), free(cn1);
  free(st1), free(ex1), free(ms1), free(sg1), free(pp1);
}
END_TEST

START_TEST(metrics_read_only_the_v1_bytes) {
  const double x[] = {0.0, 1.0, 2.0, 0.5, 1.5, 2.5, 1.0, 0.0};
  const double y[] = {0.5, 1.0, 2.5, 0.0, 1.0, 2.0, 0.0, 1.0};
  double out = -1.0;
  tl_sliced_options sl = TL_SLICED_OPTIONS_INIT;
  tl_sliced_options *sl1 = V1_COPY(tl_sliced_options, seed, &sl);
  TLT_ASSERT_OK(tl_sliced_wasserstein(&out, x, 4, NULL, y, 4, NULL, 2, sl1));
  ck_assert(out >= 0.0);
  tl_mmd_options mm = TL_MMD_OPTIONS_INIT;
  tl_mmd_options *mm1 = V1_COPY(tl_mmd_options, unbiased, &mm);
  TLT_ASSERT_OK(tl_mmd2(&out, NULL, x, 4, y, 4, 2, mm1));
  const double a[] = {0.5, 0.5}, b[] = {0.5, 0.5};
  const double cost[] = {0.0, 1.0, 1.0, 0.0};
  tl_sinkhorn_options sk = TL_SINKHORN_OPTIONS_INIT;
  tl_sinkhorn_options *sk1 = V1_COPY(tl_sinkhorn_options, tol, &sk);
  TLT_ASSERT_OK(
      tl_sinkhorn(&out, NULL, NULL, NULL, a, 2, b, 2, cost, 0.1, sk1));
  tl_proxy_a_options pa = TL_PROXY_A_OPTIONS_INIT;
  pa.epochs = 5;
  pa.train_fraction = 0.5; /* 2 + 2 rows each side */
  tl_proxy_a_options *pa1 = V1_COPY(tl_proxy_a_options, seed, &pa);
  TLT_ASSERT_OK(tl_proxy_a_distance(&out, NULL, x, 4, y, 4, 2, pa1));
  tl_pca_select_options pc = TL_PCA_SELECT_OPTIONS_INIT;
  tl_pca_select_options *pc1 = V1_COPY(tl_pca_select_options, fit, &pc);
  size_t idx[4];
  TLT_ASSERT_OK(tl_pca_select(idx, NULL, x, 4, y, 4, 2, 2, pc1));
  tl_csls_options cs = TL_CSLS_OPTIONS_INIT;
  cs.knn = 2;
  tl_csls_options *cs1 = V1_COPY(tl_csls_options, top, &cs);
  TLT_ASSERT_OK(tl_csls_retrieve(idx, NULL, x, 4, y, 4, 2, cs1));
  const int64_t ids[] = {0, 1, 2, 1, 0};
  const size_t offsets[] = {0, 3, 5};
  const double target[] = {0.4, 0.4, 0.2};
  double feats[2 * TL_SELECTION_FEATURE_COUNT];
  tl_selection_options se = TL_SELECTION_OPTIONS_INIT;
  tl_selection_options *se1 = V1_COPY(tl_selection_options, smoothing, &se);
  TLT_ASSERT_OK(
      tl_selection_features(feats, ids, offsets, 2, 3, target, NULL, 0, se1));
  free(sl1), free(mm1), free(sk1), free(pa1), free(pc1), free(cs1), free(se1);
}
END_TEST

static void record_smooth(void *payload, const tl_progress_record *rec) {
  *(double *)payload = rec->smooth_loss;
}

/* The text layer's creators, each given an exact-size v1 struct whose
 * values differ from the defaults: they read only those bytes and honour
 * every value (the result would differ with the defaults). */
START_TEST(text_creators_read_only_the_v1_bytes) {
  tl_tokenizer_options to = TL_TOKENIZER_OPTIONS_INIT;
  to.add_bos = 0;
  to.add_eos = 1;
  tl_tokenizer_options *to1 =
      V1_COPY(tl_tokenizer_options, replace_invalid, &to);
  tl_tokenizer *tok = NULL;
  TLT_ASSERT_OK(tl_tokenizer_create(&tok, to1));
  size_t n = 0;
  TLT_ASSERT_OK(tl_tokenizer_run(&n, tok, "hi there", 8));
  ck_assert_uint_eq(n, 3);
  const char *t = NULL;
  TLT_ASSERT_OK(tl_tokenizer_token(&t, NULL, tok, 0));
  ck_assert_str_eq(t, "hi");
  TLT_ASSERT_OK(tl_tokenizer_token(&t, NULL, tok, 2));
  ck_assert_str_eq(t, "xxeos");

  tl_token_counts *counts = NULL;
  TLT_ASSERT_OK(tl_token_counts_create(&counts));
  TLT_ASSERT_OK(tl_token_counts_add_run(counts, tok));
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = 1;     /* default 3 would drop every token */
  vo.pad_multiple = 0; /* default 8 would pad to 16 */
  tl_vocab_options *vo1 = V1_COPY(tl_vocab_options, pad_multiple, &vo);
  tl_vocab *vocab = NULL;
  TLT_ASSERT_OK(tl_vocab_create_from_counts(&vocab, counts, vo1));
  size_t size = 0;
  TLT_ASSERT_OK(tl_vocab_size(&size, vocab));
  ck_assert_uint_eq(size, TL_TEXT_NUM_SPECIALS + 2); /* "hi", "there" */

  int64_t ids[21];
  for (size_t i = 0; i < 21; i++)
    ids[i] = (int64_t)(i % 7);
  const int64_t *docs[] = {ids, ids + 15};
  const size_t lens[] = {15, 6};
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = 2;
  lo.bptt = 3;
  lo.variable_length = 0;
  lo.shuffle = 0;
  lo.version = 1; /* a v1 caller: its struct ends at seed */
  tl_lm_loader_options *lo1 = V1_COPY(tl_lm_loader_options, seed, &lo);
  tl_lm_loader *lm = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&lm, docs, lens, 2, 7, lo1));
  size_t row_len = 0, len = 0;
  TLT_ASSERT_OK(tl_lm_loader_row_len(&row_len, lm));
  ck_assert_uint_eq(row_len, 10); /* (21 - 1) / 2 */
  const int64_t *x = NULL, *y = NULL;
  TLT_ASSERT_OK(tl_lm_loader_next(&x, &y, &len, lm));
  ck_assert_uint_eq(len, 3);
  ck_assert(x[0] == 0 && x[1] == ids[10] && y[0] == 1); /* unshuffled rows */

  tl_clas_loader_options co = TL_CLAS_LOADER_OPTIONS_INIT;
  co.batch_size = 1;
  co.shuffle = 0;
  co.pad_id = 0;
  co.version = 1;
  tl_clas_loader_options *co1 = V1_COPY(tl_clas_loader_options, seed, &co);
  const int64_t labels[] = {0, 1};
  tl_clas_loader *cl = NULL;
  TLT_ASSERT_OK(tl_clas_loader_create(&cl, docs, lens, labels, 2, 7, 2, co1));
  const int64_t *cy = NULL;
  size_t batch = 0;
  TLT_ASSERT_OK(tl_clas_loader_next(&x, &cy, &len, &batch, NULL, cl));
  ck_assert_uint_eq(batch, 1); /* default batch_size 64 would take both */
  ck_assert_uint_eq(len, 15);  /* by length, longest first */

  double smooth = -1.0;
  tl_progress_options po = TL_PROGRESS_OPTIONS_INIT;
  po.smooth_beta = 0.0; /* the smoothed loss is the last loss */
  po.on_step = record_smooth;
  po.payload = &smooth;
  tl_progress_options *po1 = V1_COPY(tl_progress_options, clock_payload, &po);
  tl_progress *pr = NULL;
  TLT_ASSERT_OK(tl_progress_create(&pr, po1));
  TLT_ASSERT_OK(tl_progress_step(pr, TL_PROGRESS_STAGE_TRAIN, 2.5, NULL, 0));
  ck_assert(smooth == 2.5);

  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  tl_doc_encoder_options eo = TL_DOC_ENCODER_OPTIONS_INIT;
  eo.bptt = 5;
  eo.max_len = 4;
  tl_doc_encoder_options *eo1 = V1_COPY(tl_doc_encoder_options, max_len, &eo);
  tl_doc_encoder *enc = NULL;
  TLT_ASSERT_FAILS(tl_doc_encoder_create(&enc, m, NULL, eo1), TL_E_INVALID_ARG,
                   "max_len 4 is below bptt 5");

  /* A v1 sampler options struct read to its last byte only. */
  tl_task_sampler_options so = TL_TASK_SAMPLER_OPTIONS_INIT;
  so.mode = TL_TASK_SAMPLING_UNIFORM;
  tl_task_sampler_options *so1 = V1_COPY(tl_task_sampler_options, seed, &so);
  const uint64_t sizes[2] = {3, 9};
  tl_task_sampler *ts = NULL;
  TLT_ASSERT_OK(tl_task_sampler_create(&ts, sizes, 2, so1));
  double probs[2];
  TLT_ASSERT_OK(tl_task_sampler_probs(probs, 2, ts));
  ck_assert(probs[0] == 0.5 && probs[1] == 0.5);
  tl_task_sampler_free(ts);
  free(so1);
  /* A v1 SGNS options struct read to its last byte only: its window 0 is
   * seen (and refused before anything is written). */
  tl_sgns_options sg = TL_SGNS_OPTIONS_INIT;
  sg.window = 0;
  tl_sgns_options *sg1 = V1_COPY(tl_sgns_options, seed, &sg);
  const int64_t sg_ids[2] = {0, 1};
  float sg_out[2 * 100];
  TLT_ASSERT_FAILS(tl_sgns_train(sg_out, 200, sg_ids, 2, NULL, 0, NULL, 2, sg1),
                   TL_E_INVALID_ARG, "window");
  free(sg1);
  /* a learner created from an exact-size v1 options struct */
  tl_learner_options le = TL_LEARNER_OPTIONS_INIT;
  le.eps = 0.0;
  tl_learner_options *le1 = V1_COPY(tl_learner_options, ignore_index, &le);
  tl_learner *learner = NULL;
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 2, 2, TL_ACTIVATION_NONE));
  TLT_ASSERT_FAILS(tl_learner_create(&learner, &m, 1, le1), TL_E_INVALID_ARG,
                   "eps");
  free(le1);

  tl_model_free(m);
  tl_progress_free(pr);
  tl_clas_loader_free(cl);
  tl_lm_loader_free(lm);
  tl_vocab_free(vocab);
  tl_token_counts_free(counts);
  tl_tokenizer_free(tok);
  free(to1), free(vo1), free(lo1), free(co1), free(po1), free(eo1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("options");
  TCase *tc = tcase_create("options");
  tcase_add_test(tc, v1_caller_of_a_grown_struct_behaves_as_v1);
  tcase_add_test(tc, v2_caller_gets_every_field);
  tcase_add_test(tc, unknown_versions_fail_with_one_message);
  tcase_add_test(tc, a_filled_struct_gets_only_its_versions_bytes);
  tcase_add_test(tc, inits_write_only_the_v1_bytes);
  tcase_add_test(tc, init_macros_match_the_init_functions);
  tcase_add_test(tc, creators_read_only_the_v1_bytes);
  tcase_add_test(tc, metrics_read_only_the_v1_bytes);
  tcase_add_test(tc, text_creators_read_only_the_v1_bytes);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
