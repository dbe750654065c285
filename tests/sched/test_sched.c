/* lib/optim/sched*.c: every schedule against golden values from PyTorch,
 * the ULMFiT paper and fastai's formulas (tests/fixtures/gen_sched.py), the
 * per-group helpers, composition, the end-of-run behaviour and every
 * rejection of bad input. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/sched_golden.h"
#include "tl_test.h"

/* Relative tolerance against the references (closed forms vs PyTorch's
 * recursive updates differ by rounding only: see docs/schedules.md). */
#define REL 1e-9
/* Values below this (exact zeros of cosine schedules reached recursively by
 * PyTorch) compare absolutely. */
#define FLOOR 1e-15

/* Builds a schedule from a generator parameter vector (order documented in
 * gen_sched.py, per kind). */
static tl_status build_leaf(tl_sched **out, const char *kind, const double *p) {
  if (strcmp(kind, "stlr") == 0) {
    tl_sched_stlr_options o;
    tl_sched_stlr_options_init(&o, TL_SCHED_STLR_OPTIONS_VERSION);
    o.lr_max = p[0], o.total_steps = (uint64_t)p[1], o.cut_frac = p[2];
    o.ratio = p[3];
    return tl_sched_stlr_create(out, &o);
  }
  if (strcmp(kind, "cyclic") == 0) {
    tl_sched_cyclic_options o;
    tl_sched_cyclic_options_init(&o, TL_SCHED_CYCLIC_OPTIONS_VERSION);
    o.base_lr = p[0], o.max_lr = p[1], o.step_size_up = (uint64_t)p[2];
    o.step_size_down = (uint64_t)p[3], o.mode = (tl_sched_cyclic_mode)p[4];
    o.gamma = p[5], o.cycle_momentum = (int)p[6], o.base_momentum = p[7];
    o.max_momentum = p[8];
    return tl_sched_cyclic_create(out, &o);
  }
  if (strcmp(kind, "cosine") == 0) {
    tl_sched_cosine_options o;
    tl_sched_cosine_options_init(&o, TL_SCHED_COSINE_OPTIONS_VERSION);
    o.base_lr = p[0], o.t_max = (uint64_t)p[1], o.eta_min = p[2];
    return tl_sched_cosine_create(out, &o);
  }
  if (strcmp(kind, "restarts") == 0) {
    tl_sched_cosine_restarts_options o;
    tl_sched_cosine_restarts_options_init(
        &o, TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION);
    o.base_lr = p[0], o.t_0 = (uint64_t)p[1], o.t_mult = (uint64_t)p[2];
    o.eta_min = p[3];
    return tl_sched_cosine_restarts_create(out, &o);
  }
  if (strcmp(kind, "one_cycle") == 0) {
    tl_sched_one_cycle_options o;
    tl_sched_one_cycle_options_init(&o, TL_SCHED_ONE_CYCLE_OPTIONS_VERSION);
    o.max_lr = p[0], o.total_steps = (uint64_t)p[1], o.pct_start = p[2];
    o.div_factor = p[3], o.final_div_factor = p[4], o.three_phase = (int)p[5];
    o.anneal = (tl_sched_anneal)p[6], o.cycle_momentum = (int)p[7];
    o.base_momentum = p[8], o.max_momentum = p[9];
    return tl_sched_one_cycle_create(out, &o);
  }
  if (strcmp(kind, "fastai") == 0) {
    tl_sched_fastai_one_cycle_options o;
    tl_sched_fastai_one_cycle_options_init(
        &o, TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION);
    o.lr_max = p[0], o.total_steps = (uint64_t)p[1], o.pct_start = p[2];
    o.div = p[3], o.div_final = p[4];
    o.moms[0] = p[5], o.moms[1] = p[6], o.moms[2] = p[7];
    return tl_sched_fastai_one_cycle_create(out, &o);
  }
  if (strcmp(kind, "linear") == 0) {
    tl_sched_linear_options o;
    tl_sched_linear_options_init(&o, TL_SCHED_LINEAR_OPTIONS_VERSION);
    o.base_lr = p[0], o.start_factor = p[1], o.end_factor = p[2];
    o.total_iters = (uint64_t)p[3];
    return tl_sched_linear_create(out, &o);
  }
  if (strcmp(kind, "constant") == 0) {
    tl_sched_constant_options o;
    tl_sched_constant_options_init(&o, TL_SCHED_CONSTANT_OPTIONS_VERSION);
    o.lr = p[0], o.factor = p[1], o.total_iters = (uint64_t)p[2];
    return tl_sched_constant_create(out, &o);
  }
  if (strcmp(kind, "step") == 0) {
    tl_sched_step_options o;
    tl_sched_step_options_init(&o, TL_SCHED_STEP_OPTIONS_VERSION);
    o.base_lr = p[0], o.step_size = (uint64_t)p[1], o.gamma = p[2];
    return tl_sched_step_create(out, &o);
  }
  if (strcmp(kind, "exponential") == 0) {
    tl_sched_exponential_options o;
    tl_sched_exponential_options_init(&o, TL_SCHED_EXPONENTIAL_OPTIONS_VERSION);
    o.base_lr = p[0], o.gamma = p[1];
    return tl_sched_exponential_create(out, &o);
  }
  if (strcmp(kind, "multi_step") == 0) {
    uint64_t m[8];
    const size_t n = (size_t)p[2];
    for (size_t i = 0; i < n; i++)
      m[i] = (uint64_t)p[3 + i];
    tl_sched_multi_step_options o;
    tl_sched_multi_step_options_init(&o, TL_SCHED_MULTI_STEP_OPTIONS_VERSION);
    o.base_lr = p[0], o.gamma = p[1], o.milestones = m, o.n_milestones = n;
    return tl_sched_multi_step_create(out, &o);
  }
  ck_abort_msg("unknown kind %s", kind);
  return TL_E_INTERNAL;
}

static tl_sched *build_case(const sched_golden_case *c) {
  tl_sched *s = NULL;
  if (strcmp(c->kind, "sequential") != 0) {
    TLT_ASSERT_OK(build_leaf(&s, c->kind, c->p));
    return s;
  }
  tl_sched *kids[8];
  for (size_t i = 0; i < c->n_children; i++)
    TLT_ASSERT_OK(build_leaf(&kids[i], c->children[i].kind, c->children[i].p));
  TLT_ASSERT_OK(tl_sched_sequential_create(&s, (const tl_sched *const *)kids,
                                           c->n_children, c->milestones));
  /* The sequential schedule holds copies: the children can go now. */
  for (size_t i = 0; i < c->n_children; i++)
    tl_sched_free(kids[i]);
  return s;
}

static double rel_err(double got, double want) {
  return fabs(got - want) / fmax(fabs(want), FLOOR);
}

START_TEST(every_case_matches_its_reference_at_every_step) {
  const sched_golden_case *c = &sched_golden_cases[_i];
  tl_sched *s = build_case(c);
  double worst_lr = 0.0, worst_mom = 0.0;
  for (size_t t = 0; t < c->n; t++) {
    double lr;
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, t));
    ck_assert_msg(rel_err(lr, c->lr[t]) <= REL,
                  "%s: lr(%zu) = %.17g, reference %.17g", c->name, t, lr,
                  c->lr[t]);
    worst_lr = fmax(worst_lr, rel_err(lr, c->lr[t]));
    if (c->mom) {
      double m;
      TLT_ASSERT_OK(tl_sched_momentum(&m, s, t));
      ck_assert_msg(rel_err(m, c->mom[t]) <= REL,
                    "%s: momentum(%zu) = %.17g, reference %.17g", c->name, t, m,
                    c->mom[t]);
      worst_mom = fmax(worst_mom, rel_err(m, c->mom[t]));
    }
  }
  if (c->mom) {
    ck_assert_int_eq(tl_sched_has_momentum(s), 1);
  } else {
    double m;
    ck_assert_int_eq(tl_sched_has_momentum(s), 0);
    TLT_ASSERT_FAILS(tl_sched_momentum(&m, s, 0), TL_E_UNSUPPORTED,
                     "no momentum");
  }
  /* The numbers quoted in docs/schedules.md come from this line. */
  printf("sched golden %-26s steps %4zu  max rel err lr %.3g  momentum %.3g\n",
         c->name, c->n, worst_lr, worst_mom);
  tl_sched_free(s);
}
END_TEST

static tl_sched *make_stlr(double lr_max, uint64_t T) {
  tl_sched_stlr_options o;
  tl_sched_stlr_options_init(&o, TL_SCHED_STLR_OPTIONS_VERSION);
  o.lr_max = lr_max, o.total_steps = T;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_stlr_create(&s, &o));
  return s;
}

START_TEST(defaults_are_the_documented_ones) {
  tl_sched_stlr_options st;
  TLT_ASSERT_OK(tl_sched_stlr_options_init(&st, TL_SCHED_STLR_OPTIONS_VERSION));
  ck_assert(st.cut_frac == 0.1 && st.ratio == 32.0 && st.lr_max == 0.01);
  tl_sched_cyclic_options cy;
  TLT_ASSERT_OK(tl_sched_cyclic_options_init(&cy, 1));
  ck_assert(cy.step_size_up == 2000 && cy.step_size_down == 0 &&
            cy.gamma == 1.0 && cy.base_momentum == 0.8 &&
            cy.max_momentum == 0.9 && cy.cycle_momentum == 1);
  tl_sched_one_cycle_options oc;
  TLT_ASSERT_OK(tl_sched_one_cycle_options_init(&oc, 1));
  ck_assert(oc.pct_start == 0.3 && oc.div_factor == 25.0 &&
            oc.final_div_factor == 1e4 && !oc.three_phase &&
            oc.anneal == TL_SCHED_ANNEAL_COS && oc.base_momentum == 0.85 &&
            oc.max_momentum == 0.95);
  tl_sched_fastai_one_cycle_options fa;
  TLT_ASSERT_OK(tl_sched_fastai_one_cycle_options_init(&fa, 1));
  ck_assert(fa.pct_start == 0.25 && fa.div == 25.0 && fa.div_final == 1e5 &&
            fa.moms[0] == 0.95 && fa.moms[1] == 0.85 && fa.moms[2] == 0.95);
  tl_sched_linear_options li;
  TLT_ASSERT_OK(tl_sched_linear_options_init(&li, 1));
  ck_assert(li.start_factor == 1.0 / 3.0 && li.end_factor == 1.0 &&
            li.total_iters == 5);
  tl_sched_step_options sp;
  TLT_ASSERT_OK(tl_sched_step_options_init(&sp, 1));
  ck_assert(sp.gamma == 0.1);
  tl_sched_cosine_restarts_options re;
  TLT_ASSERT_OK(tl_sched_cosine_restarts_options_init(&re, 1));
  ck_assert(re.t_mult == 1 && re.eta_min == 0.0);
}
END_TEST

START_TEST(options_versions_are_checked) {
  tl_sched_stlr_options o;
  TLT_ASSERT_FAILS(tl_sched_stlr_options_init(&o, 2), TL_E_UNSUPPORTED,
                   "version 2");
  TLT_ASSERT_FAILS(tl_sched_stlr_options_init(NULL, 1), TL_E_INVALID_ARG,
                   "out");
  tl_sched_stlr_options_init(&o, 1);
  o.total_steps = 10;
  o.version = 7;
  tl_sched *s = NULL;
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &o), TL_E_UNSUPPORTED, "version 7");
  ck_assert_ptr_null(s);
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, NULL), TL_E_INVALID_ARG,
                   "'options'");
  TLT_ASSERT_FAILS(tl_sched_stlr_create(NULL, &o), TL_E_INVALID_ARG, "'out'");
  tl_sched_cyclic_options c;
  TLT_ASSERT_FAILS(tl_sched_cyclic_options_init(&c, 0), TL_E_UNSUPPORTED,
                   "version 0");
  tl_sched_multi_step_options m;
  TLT_ASSERT_FAILS(tl_sched_multi_step_options_init(&m, 3), TL_E_UNSUPPORTED,
                   "version 3");
}
END_TEST

START_TEST(bad_options_are_rejected_with_a_message) {
  tl_sched *s = NULL;
  tl_sched_stlr_options st;
  tl_sched_stlr_options_init(&st, 1);
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &st), TL_E_INVALID_ARG,
                   "total_steps");
  st.total_steps = 100;
  const double bad_cut[] = {0.0, 1.0, -0.1, 1.5, NAN};
  for (size_t i = 0; i < 5; i++) {
    st.cut_frac = bad_cut[i];
    TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &st), TL_E_INVALID_ARG,
                     "cut_frac");
  }
  st.cut_frac = 0.1;
  st.ratio = 0.5;
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &st), TL_E_INVALID_ARG, "ratio");
  st.ratio = INFINITY;
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &st), TL_E_INVALID_ARG, "ratio");
  st.ratio = 32;
  st.lr_max = -0.01;
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &st), TL_E_INVALID_ARG, "lr_max");
  st.lr_max = NAN;
  TLT_ASSERT_FAILS(tl_sched_stlr_create(&s, &st), TL_E_INVALID_ARG, "lr_max");

  tl_sched_cyclic_options cy;
  tl_sched_cyclic_options_init(&cy, 1);
  cy.step_size_up = 0;
  TLT_ASSERT_FAILS(tl_sched_cyclic_create(&s, &cy), TL_E_INVALID_ARG,
                   "step_size_up");
  cy.step_size_up = 10;
  cy.mode = (tl_sched_cyclic_mode)7;
  TLT_ASSERT_FAILS(tl_sched_cyclic_create(&s, &cy), TL_E_INVALID_ARG, "mode");
  cy.mode = TL_SCHED_CYCLIC_EXP_RANGE;
  cy.gamma = 0.0;
  TLT_ASSERT_FAILS(tl_sched_cyclic_create(&s, &cy), TL_E_INVALID_ARG, "gamma");
  cy.gamma = 1.0;
  cy.base_lr = -1.0;
  TLT_ASSERT_FAILS(tl_sched_cyclic_create(&s, &cy), TL_E_INVALID_ARG,
                   "base_lr");
  cy.base_lr = 0.001;
  cy.max_momentum = -0.9;
  TLT_ASSERT_FAILS(tl_sched_cyclic_create(&s, &cy), TL_E_INVALID_ARG,
                   "max_momentum");

  tl_sched_cosine_options co;
  tl_sched_cosine_options_init(&co, 1);
  TLT_ASSERT_FAILS(tl_sched_cosine_create(&s, &co), TL_E_INVALID_ARG, "t_max");
  co.t_max = 10;
  co.eta_min = -1e-3;
  TLT_ASSERT_FAILS(tl_sched_cosine_create(&s, &co), TL_E_INVALID_ARG,
                   "eta_min");

  tl_sched_cosine_restarts_options re;
  tl_sched_cosine_restarts_options_init(&re, 1);
  TLT_ASSERT_FAILS(tl_sched_cosine_restarts_create(&s, &re), TL_E_INVALID_ARG,
                   "t_0");
  re.t_0 = 5;
  re.t_mult = 0;
  TLT_ASSERT_FAILS(tl_sched_cosine_restarts_create(&s, &re), TL_E_INVALID_ARG,
                   "t_mult");

  tl_sched_one_cycle_options oc;
  tl_sched_one_cycle_options_init(&oc, 1);
  TLT_ASSERT_FAILS(tl_sched_one_cycle_create(&s, &oc), TL_E_INVALID_ARG,
                   "total_steps");
  oc.total_steps = 100;
  oc.pct_start = 1.2;
  TLT_ASSERT_FAILS(tl_sched_one_cycle_create(&s, &oc), TL_E_INVALID_ARG,
                   "pct_start");
  oc.pct_start = 0.6;
  oc.three_phase = 1;
  TLT_ASSERT_FAILS(tl_sched_one_cycle_create(&s, &oc), TL_E_INVALID_ARG,
                   "three_phase");
  oc.pct_start = 0.3;
  oc.div_factor = 0.0;
  TLT_ASSERT_FAILS(tl_sched_one_cycle_create(&s, &oc), TL_E_INVALID_ARG,
                   "div_factor");
  oc.div_factor = 25.0;
  oc.final_div_factor = INFINITY;
  TLT_ASSERT_FAILS(tl_sched_one_cycle_create(&s, &oc), TL_E_INVALID_ARG,
                   "final_div_factor");
  oc.final_div_factor = 1e4;
  oc.anneal = (tl_sched_anneal)2;
  TLT_ASSERT_FAILS(tl_sched_one_cycle_create(&s, &oc), TL_E_INVALID_ARG,
                   "anneal");

  tl_sched_fastai_one_cycle_options fa;
  tl_sched_fastai_one_cycle_options_init(&fa, 1);
  TLT_ASSERT_FAILS(tl_sched_fastai_one_cycle_create(&s, &fa), TL_E_INVALID_ARG,
                   "total_steps");
  fa.total_steps = 10;
  fa.pct_start = 1.0;
  TLT_ASSERT_FAILS(tl_sched_fastai_one_cycle_create(&s, &fa), TL_E_INVALID_ARG,
                   "pct_start");
  fa.pct_start = 0.25;
  fa.moms[1] = NAN;
  TLT_ASSERT_FAILS(tl_sched_fastai_one_cycle_create(&s, &fa), TL_E_INVALID_ARG,
                   "moms[1]");

  tl_sched_linear_options li;
  tl_sched_linear_options_init(&li, 1);
  li.total_iters = 0;
  TLT_ASSERT_FAILS(tl_sched_linear_create(&s, &li), TL_E_INVALID_ARG,
                   "total_iters");
  li.total_iters = 5;
  li.start_factor = 0.0;
  TLT_ASSERT_FAILS(tl_sched_linear_create(&s, &li), TL_E_INVALID_ARG,
                   "start_factor");

  tl_sched_constant_options cn;
  tl_sched_constant_options_init(&cn, 1);
  cn.factor = -1.0;
  TLT_ASSERT_FAILS(tl_sched_constant_create(&s, &cn), TL_E_INVALID_ARG,
                   "factor");

  tl_sched_step_options sp;
  tl_sched_step_options_init(&sp, 1);
  TLT_ASSERT_FAILS(tl_sched_step_create(&s, &sp), TL_E_INVALID_ARG,
                   "step_size");
  sp.step_size = 3;
  sp.gamma = -0.5;
  TLT_ASSERT_FAILS(tl_sched_step_create(&s, &sp), TL_E_INVALID_ARG, "gamma");

  tl_sched_exponential_options ex;
  tl_sched_exponential_options_init(&ex, 1);
  ex.gamma = NAN;
  TLT_ASSERT_FAILS(tl_sched_exponential_create(&s, &ex), TL_E_INVALID_ARG,
                   "gamma");

  tl_sched_multi_step_options ms;
  tl_sched_multi_step_options_init(&ms, 1);
  TLT_ASSERT_FAILS(tl_sched_multi_step_create(&s, &ms), TL_E_INVALID_ARG,
                   "n_milestones");
  ms.n_milestones = 2;
  TLT_ASSERT_FAILS(tl_sched_multi_step_create(&s, &ms), TL_E_INVALID_ARG,
                   "milestones");
  const uint64_t unsorted[] = {10, 5};
  ms.milestones = unsorted;
  TLT_ASSERT_FAILS(tl_sched_multi_step_create(&s, &ms), TL_E_INVALID_ARG,
                   "non-decreasing");
  ck_assert_ptr_null(s); /* no failed call wrote *out */
}
END_TEST

START_TEST(queries_reject_null) {
  tl_sched *s = make_stlr(0.01, 100);
  double v;
  uint64_t n;
  tl_sched_kind k;
  TLT_ASSERT_FAILS(tl_sched_lr(&v, NULL, 0), TL_E_INVALID_ARG, "'sched'");
  TLT_ASSERT_FAILS(tl_sched_lr(NULL, s, 0), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_sched_momentum(&v, NULL, 0), TL_E_INVALID_ARG, "'sched'");
  TLT_ASSERT_FAILS(tl_sched_multiplier(NULL, s, 0), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_sched_reference_lr(&v, NULL, 0), TL_E_INVALID_ARG,
                   "'sched'");
  TLT_ASSERT_FAILS(tl_sched_total_steps(NULL, s), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_sched_get_kind(&k, NULL), TL_E_INVALID_ARG, "'sched'");
  ck_assert_int_eq(tl_sched_has_momentum(NULL), 0);
  TLT_ASSERT_OK(tl_sched_total_steps(&n, s));
  ck_assert_uint_eq(n, 100);
  TLT_ASSERT_OK(tl_sched_get_kind(&k, s));
  ck_assert_int_eq(k, TL_SCHED_STLR);
  tl_sched_free(s);
  tl_sched_free(NULL);
}
END_TEST

START_TEST(stlr_follows_the_paper_not_the_wrong_copies) {
  /* T = 1000, cut = 100: at t = 550 the paper's p is 1 - 450/900 = 0.5.
   * The copies with cut*(ratio-1) in the denominator give 1 - 450/3100. */
  tl_sched *s = make_stlr(0.01, 1000);
  double lr;
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 550));
  TLT_ASSERT_CLOSE(lr, 0.01 * (1 + 0.5 * 31) / 32, 1e-15, 0);
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 100));
  TLT_ASSERT_CLOSE(lr, 0.01, 1e-15, 0); /* the peak at t = cut */
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 0));
  TLT_ASSERT_CLOSE(lr, 0.01 / 32, 1e-15, 0);
  /* Past the end the rate holds lr_max / ratio, whatever the step. */
  const uint64_t late[] = {1000, 1001, 5000, UINT64_MAX};
  for (size_t i = 0; i < 4; i++) {
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, late[i]));
    TLT_ASSERT_CLOSE(lr, 0.01 / 32, 1e-15, 0);
  }
  tl_sched_free(s);
}
END_TEST

START_TEST(one_cycle_holds_its_last_value_past_the_end) {
  tl_sched_one_cycle_options o;
  tl_sched_one_cycle_options_init(&o, 1);
  o.total_steps = 50;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_one_cycle_create(&s, &o));
  double last_lr, last_m, lr, m;
  TLT_ASSERT_OK(tl_sched_lr(&last_lr, s, 49));
  TLT_ASSERT_OK(tl_sched_momentum(&last_m, s, 49));
  TLT_ASSERT_CLOSE(last_lr, 0.01 / 25 / 1e4, 1e-12, 0);
  TLT_ASSERT_CLOSE(last_m, 0.95, 1e-12, 0);
  const uint64_t late[] = {50, 51, 1000000, UINT64_MAX};
  for (size_t i = 0; i < 4; i++) {
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, late[i]));
    TLT_ASSERT_OK(tl_sched_momentum(&m, s, late[i]));
    ck_assert(lr == last_lr && m == last_m);
  }
  tl_sched_free(s);
}
END_TEST

START_TEST(one_cycle_with_an_empty_warmup_has_no_nan) {
  /* pct_start * T = 1: the first phase ends at step 0 and has length 0,
   * where PyTorch divides by zero. libtl takes the phase as finished. */
  tl_sched_one_cycle_options o;
  tl_sched_one_cycle_options_init(&o, 1);
  o.total_steps = 10, o.pct_start = 0.1, o.max_lr = 0.5;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_one_cycle_create(&s, &o));
  double lr, m;
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 0));
  TLT_ASSERT_OK(tl_sched_momentum(&m, s, 0));
  TLT_ASSERT_CLOSE(lr, 0.5, 1e-15, 0);
  TLT_ASSERT_CLOSE(m, 0.85, 1e-15, 0);
  for (uint64_t t = 0; t < 12; t++) {
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, t));
    ck_assert(isfinite(lr) && lr > 0 && lr <= 0.5);
  }
  tl_sched_free(s);
  o.pct_start = 0.0; /* no warm-up at all */
  TLT_ASSERT_OK(tl_sched_one_cycle_create(&s, &o));
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 0));
  ck_assert(isfinite(lr));
  tl_sched_free(s);
}
END_TEST

START_TEST(fastai_one_cycle_holds_the_final_value_past_the_end) {
  tl_sched_fastai_one_cycle_options o;
  tl_sched_fastai_one_cycle_options_init(&o, 1);
  o.lr_max = 0.01, o.total_steps = 20;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_fastai_one_cycle_create(&s, &o));
  double lr, m;
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 0));
  TLT_ASSERT_CLOSE(lr, 0.01 / 25, 1e-15, 0);
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 5)); /* pos = pct_start: the peak */
  TLT_ASSERT_CLOSE(lr, 0.01, 1e-15, 0);
  TLT_ASSERT_OK(tl_sched_momentum(&m, s, 5));
  TLT_ASSERT_CLOSE(m, 0.85, 1e-15, 0);
  for (uint64_t t = 20; t < 23; t++) {
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, t));
    /* fastai computes c as b + (c - b): a few ulps of b off. */
    TLT_ASSERT_CLOSE(lr, 0.01 / 1e5, 1e-9, 0);
    TLT_ASSERT_OK(tl_sched_momentum(&m, s, t));
    TLT_ASSERT_CLOSE(m, 0.95, 1e-15, 0);
  }
  tl_sched_free(s);
}
END_TEST

START_TEST(restarts_land_exactly_and_survive_huge_steps) {
  tl_sched_cosine_restarts_options o;
  tl_sched_cosine_restarts_options_init(&o, 1);
  o.base_lr = 0.1, o.t_0 = 3, o.t_mult = 3;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_cosine_restarts_create(&s, &o));
  /* Restarts at 0, 3, 12, 39, 120: the rate is back at base_lr there. */
  const uint64_t restarts[] = {0, 3, 12, 39, 120};
  double lr;
  for (size_t i = 0; i < 5; i++) {
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, restarts[i]));
    ck_assert_msg(lr == 0.1, "lr(%llu) = %.17g",
                  (unsigned long long)restarts[i], lr);
  }
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, UINT64_MAX));
  ck_assert(isfinite(lr) && lr >= 0.0 && lr <= 0.1);
  tl_sched_free(s);
  o.t_mult = 1, o.t_0 = 1;
  TLT_ASSERT_OK(tl_sched_cosine_restarts_create(&s, &o));
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, UINT64_MAX)); /* O(1), not a loop */
  ck_assert(lr == 0.1);
  tl_sched_free(s);
}
END_TEST

START_TEST(overflow_is_a_numeric_error_not_inf) {
  tl_sched_exponential_options o;
  tl_sched_exponential_options_init(&o, 1);
  o.gamma = 2.0;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_exponential_create(&s, &o));
  double lr = -1.0;
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 10));
  TLT_ASSERT_CLOSE(lr, 0.01 * 1024, 1e-15, 0);
  lr = -1.0;
  TLT_ASSERT_FAILS(tl_sched_lr(&lr, s, 5000), TL_E_NUMERIC, "not finite");
  ck_assert(lr == -1.0);
  TLT_ASSERT_FAILS(tl_sched_multiplier(&lr, s, 5000), TL_E_NUMERIC,
                   "not finite");
  tl_sched_free(s);
  /* Decay underflows gracefully to 0. */
  o.gamma = 0.5;
  TLT_ASSERT_OK(tl_sched_exponential_create(&s, &o));
  TLT_ASSERT_OK(tl_sched_lr(&lr, s, 5000));
  ck_assert(lr == 0.0);
  tl_sched_free(s);
}
END_TEST

START_TEST(group_rates_are_base_times_the_shape) {
  /* ULMFiT: four groups, lr / 2.6^(3-g), all following one STLR. */
  tl_sched *s = make_stlr(0.004, 200);
  double base[4], got[4];
  for (int g = 0; g < 4; g++)
    base[g] = 0.004 / pow(2.6, 3 - g);
  for (uint64_t t = 0; t < 220; t += 7) {
    double lr, mult;
    TLT_ASSERT_OK(tl_sched_lr(&lr, s, t));
    TLT_ASSERT_OK(tl_sched_multiplier(&mult, s, t));
    TLT_ASSERT_CLOSE(mult, lr / 0.004, 1e-15, 0);
    TLT_ASSERT_OK(tl_sched_fill_group_lrs(got, 4, base, s, t));
    for (int g = 0; g < 4; g++)
      TLT_ASSERT_CLOSE(got[g], base[g] * lr / 0.004, 1e-15, 0);
    TLT_ASSERT_CLOSE(got[3], lr, 1e-15, 0); /* the top group gets lr */
  }
  /* In place: out may alias base. */
  double inplace[4];
  memcpy(inplace, base, sizeof base);
  TLT_ASSERT_OK(tl_sched_fill_group_lrs(inplace, 4, inplace, s, 20));
  TLT_ASSERT_OK(tl_sched_fill_group_lrs(got, 4, base, s, 20));
  ck_assert(memcmp(inplace, got, sizeof got) == 0);
  /* Errors leave the output alone. */
  double keep[2] = {7.0, 7.0};
  const double bad[2] = {0.1, -0.1};
  TLT_ASSERT_FAILS(tl_sched_fill_group_lrs(keep, 2, bad, s, 0),
                   TL_E_INVALID_ARG, "base_lrs[1]");
  ck_assert(keep[0] == 7.0 && keep[1] == 7.0);
  TLT_ASSERT_FAILS(tl_sched_fill_group_lrs(keep, 0, base, s, 0),
                   TL_E_INVALID_ARG, "n_groups");
  TLT_ASSERT_FAILS(tl_sched_fill_group_lrs(keep, 2, NULL, s, 0),
                   TL_E_INVALID_ARG, "base_lrs");
  TLT_ASSERT_FAILS(tl_sched_fill_group_momenta(keep, 2, s, 0), TL_E_UNSUPPORTED,
                   "no momentum");
  ck_assert(keep[0] == 7.0);
  tl_sched_free(s);
}
END_TEST

START_TEST(groups_can_follow_schedules_of_their_own) {
  tl_sched *a = make_stlr(0.01, 100);
  tl_sched_fastai_one_cycle_options fo;
  tl_sched_fastai_one_cycle_options_init(&fo, 1);
  fo.lr_max = 0.002, fo.total_steps = 100;
  tl_sched *b = NULL;
  TLT_ASSERT_OK(tl_sched_fastai_one_cycle_create(&b, &fo));
  const tl_sched *both[2] = {a, b};
  double out[2], want_a, want_b, mom[3];
  TLT_ASSERT_OK(tl_sched_fill_group_lrs_each(out, 2, both, 42));
  TLT_ASSERT_OK(tl_sched_lr(&want_a, a, 42));
  TLT_ASSERT_OK(tl_sched_lr(&want_b, b, 42));
  ck_assert(out[0] == want_a && out[1] == want_b);
  TLT_ASSERT_OK(tl_sched_fill_group_momenta(mom, 3, b, 42));
  double m;
  TLT_ASSERT_OK(tl_sched_momentum(&m, b, 42));
  ck_assert(mom[0] == m && mom[1] == m && mom[2] == m);
  const tl_sched *holes[2] = {a, NULL};
  TLT_ASSERT_FAILS(tl_sched_fill_group_lrs_each(out, 2, holes, 0),
                   TL_E_INVALID_ARG, "scheds[1]");
  tl_sched_free(a);
  tl_sched_free(b);
}
END_TEST

START_TEST(zero_reference_has_no_multiplier) {
  tl_sched_constant_options o;
  tl_sched_constant_options_init(&o, 1);
  o.lr = 0.0;
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_constant_create(&s, &o));
  double v;
  TLT_ASSERT_OK(tl_sched_lr(&v, s, 3));
  ck_assert(v == 0.0);
  TLT_ASSERT_FAILS(tl_sched_multiplier(&v, s, 3), TL_E_STATE, "reference");
  tl_sched_free(s);
}
END_TEST

START_TEST(sequential_children_see_relative_steps) {
  tl_sched_linear_options lo;
  tl_sched_linear_options_init(&lo, 1);
  lo.base_lr = 0.01, lo.start_factor = 0.01, lo.total_iters = 10;
  tl_sched *warm = NULL, *cyc = NULL, *seq = NULL, *nested = NULL;
  TLT_ASSERT_OK(tl_sched_linear_create(&warm, &lo));
  tl_sched_cyclic_options co;
  tl_sched_cyclic_options_init(&co, 1);
  co.step_size_up = 4;
  TLT_ASSERT_OK(tl_sched_cyclic_create(&cyc, &co));
  const tl_sched *kids[2] = {warm, cyc};
  const uint64_t ms[1] = {10};
  TLT_ASSERT_OK(tl_sched_sequential_create(&seq, kids, 2, ms));
  /* Nested: the sequential schedule as the second child of another. */
  const tl_sched *outer[2] = {cyc, seq};
  const uint64_t ms2[1] = {3};
  TLT_ASSERT_OK(tl_sched_sequential_create(&nested, outer, 2, ms2));
  for (uint64_t t = 0; t < 40; t++) {
    double got, want, n_got, n_want;
    TLT_ASSERT_OK(tl_sched_lr(&got, seq, t));
    TLT_ASSERT_OK(tl_sched_lr(&want, t < 10 ? warm : cyc, t < 10 ? t : t - 10));
    ck_assert(got == want);
    TLT_ASSERT_OK(tl_sched_lr(&n_got, nested, t));
    if (t < 3)
      TLT_ASSERT_OK(tl_sched_lr(&n_want, cyc, t));
    else
      TLT_ASSERT_OK(tl_sched_lr(&n_want, seq, t - 3));
    ck_assert(n_got == n_want);
  }
  /* Momentum exists only while the cyclic child runs. */
  double m;
  ck_assert_int_eq(tl_sched_has_momentum(seq), 0);
  TLT_ASSERT_FAILS(tl_sched_momentum(&m, seq, 9), TL_E_UNSUPPORTED, "step 9");
  TLT_ASSERT_OK(tl_sched_momentum(&m, seq, 10));
  TLT_ASSERT_CLOSE(m, 0.9, 1e-15, 0);
  /* The reference follows the active child. */
  double ref;
  TLT_ASSERT_OK(tl_sched_reference_lr(&ref, seq, 0));
  ck_assert(ref == 0.01);
  TLT_ASSERT_OK(tl_sched_reference_lr(&ref, seq, 10));
  ck_assert(ref == 0.006);
  uint64_t total;
  TLT_ASSERT_OK(tl_sched_total_steps(&total, seq));
  ck_assert_uint_eq(total, 0); /* the cyclic tail is unbounded */
  tl_sched_free(warm);
  tl_sched_free(cyc);
  tl_sched_free(seq);
  tl_sched_free(nested);
}
END_TEST

START_TEST(sequential_total_and_bad_input) {
  tl_sched *a = make_stlr(0.01, 30), *b = make_stlr(0.005, 70), *s = NULL;
  const tl_sched *kids[2] = {a, b};
  const uint64_t ms[1] = {30};
  TLT_ASSERT_OK(tl_sched_sequential_create(&s, kids, 2, ms));
  uint64_t total;
  TLT_ASSERT_OK(tl_sched_total_steps(&total, s));
  ck_assert_uint_eq(total, 100);
  tl_sched_free(s);
  s = NULL;
  TLT_ASSERT_OK(tl_sched_sequential_create(&s, kids, 1, NULL));
  tl_sched_free(s);
  s = NULL;
  TLT_ASSERT_FAILS(tl_sched_sequential_create(&s, kids, 0, ms),
                   TL_E_INVALID_ARG, "n must be");
  TLT_ASSERT_FAILS(tl_sched_sequential_create(&s, kids, 2, NULL),
                   TL_E_INVALID_ARG, "milestones");
  TLT_ASSERT_FAILS(tl_sched_sequential_create(&s, NULL, 2, ms),
                   TL_E_INVALID_ARG, "scheds");
  const uint64_t zero[1] = {0};
  TLT_ASSERT_FAILS(tl_sched_sequential_create(&s, kids, 2, zero),
                   TL_E_INVALID_ARG, "milestones[0]");
  const tl_sched *three[3] = {a, b, a};
  const uint64_t flat[2] = {10, 10};
  TLT_ASSERT_FAILS(tl_sched_sequential_create(&s, three, 3, flat),
                   TL_E_INVALID_ARG, "strictly increasing");
  const tl_sched *hole[2] = {a, NULL};
  TLT_ASSERT_FAILS(tl_sched_sequential_create(&s, hole, 2, ms),
                   TL_E_INVALID_ARG, "scheds[1]");
  ck_assert_ptr_null(s);
  tl_sched_free(a);
  tl_sched_free(b);
}
END_TEST

START_TEST(queries_are_pure_and_allocate_nothing) {
  /* A schedule resumed at step 500 gives what it gave in a full run, and
   * asking in any order changes nothing. */
  const sched_golden_case *c = &sched_golden_cases[0];
  tl_sched *s = build_case(c);
  tlt_counter counter;
  double first[64], again[64];
  for (size_t i = 0; i < 64; i++)
    TLT_ASSERT_OK(tl_sched_lr(&first[i], s, 500 + i));
  tlt_counter_install(&counter);
  for (size_t i = 64; i-- > 0;)
    TLT_ASSERT_OK(tl_sched_lr(&again[i], s, 500 + i));
  double mult, out[3];
  const double base[3] = {1, 2, 3};
  TLT_ASSERT_OK(tl_sched_multiplier(&mult, s, 7));
  TLT_ASSERT_OK(tl_sched_fill_group_lrs(out, 3, base, s, 7));
  tl_set_allocator(NULL);
  ck_assert_uint_eq(counter.allocs, 0);
  ck_assert(memcmp(first, again, sizeof first) == 0);
  tl_sched_free(s);
}
END_TEST

START_TEST(allocation_failure_is_reported_and_leaks_nothing) {
  /* A nested sequential schedule with a multi-step child: every allocation
   * in the deep copy can fail; each failure must report TL_E_NOMEM, leave
   * *out alone and free what was built. */
  tlt_counter f;
  tlt_counter_install(&f);
  const uint64_t steps[2] = {5, 9};
  tl_sched_multi_step_options mo;
  tl_sched_multi_step_options_init(&mo, 1);
  mo.milestones = steps, mo.n_milestones = 2;
  tl_sched *ms = NULL, *st = make_stlr(0.01, 30), *inner = NULL;
  TLT_ASSERT_OK(tl_sched_multi_step_create(&ms, &mo));
  const tl_sched *kids[2] = {st, ms};
  const uint64_t at[1] = {30};
  TLT_ASSERT_OK(tl_sched_sequential_create(&inner, kids, 2, at));
  const tl_sched *outer[2] = {ms, inner};
  size_t failures = 0;
  for (size_t budget = 0;; budget++) {
    f.budget = budget, f.allocs = f.frees = 0;
    tl_sched *s = NULL;
    const tl_status status = tl_sched_sequential_create(&s, outer, 2, at);
    if (status == TL_OK) {
      tl_sched_free(s);
      ck_assert_uint_eq(f.allocs, f.frees);
      break;
    }
    ck_assert_int_eq(status, TL_E_NOMEM);
    ck_assert_ptr_null(s);
    ck_assert_uint_eq(f.allocs, f.frees);
    failures++;
  }
  ck_assert_uint_ge(failures, 8); /* every allocation of the copy was hit */
  f.budget = SIZE_MAX;
  tl_sched_free(inner);
  tl_sched_free(ms);
  tl_sched_free(st);
  tl_set_allocator(NULL);
}
END_TEST

static Suite *sched_suite(void) {
  Suite *suite = suite_create("sched");
  TCase *tc = tcase_create("sched");
  tcase_add_loop_test(tc, every_case_matches_its_reference_at_every_step, 0,
                      SCHED_GOLDEN_N_CASES);
  tcase_add_test(tc, defaults_are_the_documented_ones);
  tcase_add_test(tc, options_versions_are_checked);
  tcase_add_test(tc, bad_options_are_rejected_with_a_message);
  tcase_add_test(tc, queries_reject_null);
  tcase_add_test(tc, stlr_follows_the_paper_not_the_wrong_copies);
  tcase_add_test(tc, one_cycle_holds_its_last_value_past_the_end);
  tcase_add_test(tc, one_cycle_with_an_empty_warmup_has_no_nan);
  tcase_add_test(tc, fastai_one_cycle_holds_the_final_value_past_the_end);
  tcase_add_test(tc, restarts_land_exactly_and_survive_huge_steps);
  tcase_add_test(tc, overflow_is_a_numeric_error_not_inf);
  tcase_add_test(tc, group_rates_are_base_times_the_shape);
  tcase_add_test(tc, groups_can_follow_schedules_of_their_own);
  tcase_add_test(tc, zero_reference_has_no_multiplier);
  tcase_add_test(tc, sequential_children_see_relative_steps);
  tcase_add_test(tc, sequential_total_and_bad_input);
  tcase_add_test(tc, queries_are_pure_and_allocate_nothing);
  tcase_add_test(tc, allocation_failure_is_reported_and_leaks_nothing);
  suite_add_tcase(suite, tc);
  return suite;
}

int main(void) { return tlt_run(sched_suite()); }
