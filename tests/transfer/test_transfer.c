/* lib/transfer against tests/fixtures/gen_transfer.py (closed forms, torch
 * autograd, the tri-training paper's Table 1 written out) and on bad
 * input. */
#include "tl_test.h"

#include "../fixtures/transfer_golden.h"

/* ---- task sampling ------------------------------------------------------ */

static tl_task_sampler *sampler(tl_task_sampling mode, double tau,
                                uint64_t seed) {
  tl_task_sampler_options o;
  TLT_ASSERT_OK(
      tl_task_sampler_options_init(&o, TL_TASK_SAMPLER_OPTIONS_VERSION));
  o.mode = mode;
  o.tau = tau;
  o.seed = seed;
  tl_task_sampler *s = NULL;
  TLT_ASSERT_OK(tl_task_sampler_create(&s, sampler_sizes, 4, &o));
  return s;
}

START_TEST(sampler_probabilities) {
  const tl_task_sampling modes[5] = {
      TL_TASK_SAMPLING_UNIFORM, TL_TASK_SAMPLING_PROPORTIONAL,
      TL_TASK_SAMPLING_INVERSE, TL_TASK_SAMPLING_TEMPERATURE,
      TL_TASK_SAMPLING_TEMPERATURE};
  const double taus[5] = {1, 1, 1, 2.0, 0.5};
  for (int m = 0; m < 5; m++) {
    tl_task_sampler *s = sampler(modes[m], taus[m], 0);
    double p[4];
    TLT_ASSERT_OK(tl_task_sampler_probs(p, 4, s));
    TLT_ASSERT_ARRAY_CLOSE(p, sampler_probs + 4 * m, 4, 1e-14, 0);
    tl_task_sampler_free(s);
  }
  /* Annealed from tau 1 to 5 over 1000 draws: the probabilities of the
   * next draw after 0, 250, 1000 and 3000 draws. */
  tl_task_sampler *s = sampler(TL_TASK_SAMPLING_ANNEALED, 1.0, 0);
  const uint64_t at[4] = {0, 250, 1000, 3000};
  uint64_t done = 0;
  for (int k = 0; k < 4; k++) {
    for (; done < at[k]; done++) {
      size_t t;
      TLT_ASSERT_OK(tl_task_sampler_sample(&t, s));
    }
    double p[4];
    TLT_ASSERT_OK(tl_task_sampler_probs(p, 4, s));
    TLT_ASSERT_ARRAY_CLOSE(p, sampler_probs + 20 + 4 * k, 4, 1e-13, 0);
  }
  uint64_t draws;
  TLT_ASSERT_OK(tl_task_sampler_num_draws(&draws, s));
  ck_assert_uint_eq(draws, 3000);
  tl_task_sampler_free(s);
}
END_TEST

/* Frequencies over 200,000 draws agree with the probabilities (each
 * within 5 standard deviations), and a seed gives the same draws. */
START_TEST(sampler_frequencies) {
  const size_t n = 200000;
  tl_task_sampler *s = sampler(TL_TASK_SAMPLING_TEMPERATURE, 2.0, 42);
  tl_task_sampler *again = sampler(TL_TASK_SAMPLING_TEMPERATURE, 2.0, 42);
  tl_task_sampler *other = sampler(TL_TASK_SAMPLING_TEMPERATURE, 2.0, 43);
  size_t count[4] = {0}, differ = 0;
  for (size_t i = 0; i < n; i++) {
    size_t a, b, c;
    TLT_ASSERT_OK(tl_task_sampler_sample(&a, s));
    TLT_ASSERT_OK(tl_task_sampler_sample(&b, again));
    TLT_ASSERT_OK(tl_task_sampler_sample(&c, other));
    ck_assert_uint_lt(a, 4);
    ck_assert_uint_eq(a, b);
    differ += a != c;
    count[a]++;
  }
  ck_assert_uint_gt(differ, n / 4);
  for (int k = 0; k < 4; k++) {
    const double p = sampler_probs[12 + k];
    const double sd = sqrt(n * p * (1 - p));
    ck_assert_msg(fabs((double)count[k] - n * p) < 5 * sd,
                  "task %d drawn %zu times, expected %.0f +- %.0f", k, count[k],
                  n * p, sd);
  }
  tl_task_sampler_free(s);
  tl_task_sampler_free(again);
  tl_task_sampler_free(other);
}
END_TEST

START_TEST(sampler_bad_input) {
  tl_task_sampler *s = NULL;
  const uint64_t zero[2] = {5, 0};
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, zero, 2, NULL), TL_E_INVALID_ARG,
                   "task 1");
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 0, NULL),
                   TL_E_INVALID_ARG, "n_tasks");
  TLT_ASSERT_FAILS(tl_task_sampler_create(NULL, sampler_sizes, 4, NULL),
                   TL_E_INVALID_ARG, "out");
  tl_task_sampler_options o = TL_TASK_SAMPLER_OPTIONS_INIT;
  o.tau = 0;
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 4, &o),
                   TL_E_INVALID_ARG, "tau");
  o.tau = NAN;
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 4, &o),
                   TL_E_INVALID_ARG, "tau");
  o = (tl_task_sampler_options)TL_TASK_SAMPLER_OPTIONS_INIT;
  o.tau_end = -1;
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 4, &o),
                   TL_E_INVALID_ARG, "tau_end");
  o = (tl_task_sampler_options)TL_TASK_SAMPLER_OPTIONS_INIT;
  o.mode = (tl_task_sampling)9;
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 4, &o),
                   TL_E_INVALID_ARG, "mode");
  o = (tl_task_sampler_options)TL_TASK_SAMPLER_OPTIONS_INIT;
  o.anneal_steps = 0;
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 4, &o),
                   TL_E_INVALID_ARG, "anneal_steps");
  o = (tl_task_sampler_options)TL_TASK_SAMPLER_OPTIONS_INIT;
  o.version = 99;
  TLT_ASSERT_FAILS(tl_task_sampler_create(&s, sampler_sizes, 4, &o),
                   TL_E_UNSUPPORTED, "options");
  ck_assert_ptr_null(s);
  s = sampler(TL_TASK_SAMPLING_UNIFORM, 1, 0);
  double p[5];
  TLT_ASSERT_FAILS(tl_task_sampler_probs(p, 5, s), TL_E_SHAPE, "4 tasks");
  TLT_ASSERT_FAILS(tl_task_sampler_sample(NULL, s), TL_E_INVALID_ARG,
                   "out_task");
  tl_task_sampler_free(s);
  tl_task_sampler_free(NULL);
}
END_TEST

/* A temperature so low that small tasks' weights underflow to 0: draws
 * still land on tasks of nonzero probability only. */
START_TEST(sampler_underflow) {
  tl_task_sampler *s = sampler(TL_TASK_SAMPLING_TEMPERATURE, 1e-3, 1);
  double p[4];
  TLT_ASSERT_OK(tl_task_sampler_probs(p, 4, s));
  ck_assert(p[3] == 1.0 && p[0] == 0.0 && p[2] == 0.0);
  for (int i = 0; i < 1000; i++) {
    size_t t;
    TLT_ASSERT_OK(tl_task_sampler_sample(&t, s));
    ck_assert_uint_eq(t, 3);
  }
  tl_task_sampler_free(s);
}
END_TEST

/* ---- loss weighting ----------------------------------------------------- */

START_TEST(uncertainty_weighting) {
  float grad[3] = {0.5f, 0.0f, -1.0f};
  double total, w[3];
  TLT_ASSERT_OK(
      tl_uncertainty_weighting(&total, w, grad, uw_losses, uw_log_vars, 3));
  TLT_ASSERT_CLOSE(total, uw_total, 1e-14, 0);
  TLT_ASSERT_ARRAY_CLOSE(w, uw_weights, 3, 1e-14, 0);
  /* The gradient is added to what was there. */
  const float before[3] = {0.5f, 0.0f, -1.0f};
  for (int i = 0; i < 3; i++)
    TLT_ASSERT_CLOSE(grad[i] - before[i], uw_grad[i], 1e-6, 1);
  const double bad_loss[3] = {1, INFINITY, 1};
  TLT_ASSERT_FAILS(
      tl_uncertainty_weighting(&total, w, grad, bad_loss, uw_log_vars, 3),
      TL_E_NUMERIC, "task 1");
  const float huge_s[3] = {-800.0f, 0, 0};
  TLT_ASSERT_FAILS(
      tl_uncertainty_weighting(&total, w, grad, uw_losses, huge_s, 3),
      TL_E_NUMERIC, "overflows");
  TLT_ASSERT_FAILS(
      tl_uncertainty_weighting(&total, w, grad, uw_losses, uw_log_vars, 0),
      TL_E_INVALID_ARG, "n");
  for (int i = 0; i < 3; i++) /* nothing changed by the failures */
    TLT_ASSERT_CLOSE(grad[i] - before[i], uw_grad[i], 1e-6, 1);
}
END_TEST

START_TEST(dwa) {
  double w[3];
  TLT_ASSERT_OK(tl_dwa_weights(w, dwa_prev, dwa_prev2, 3, 2.0));
  TLT_ASSERT_ARRAY_CLOSE(w, dwa_weights, 3, 1e-14, 0);
  TLT_ASSERT_OK(tl_dwa_weights(w, NULL, NULL, 3, 2.0));
  ck_assert(w[0] == 1 && w[1] == 1 && w[2] == 1);
  TLT_ASSERT_FAILS(tl_dwa_weights(w, dwa_prev, NULL, 3, 2.0), TL_E_INVALID_ARG,
                   "both");
  TLT_ASSERT_FAILS(tl_dwa_weights(w, dwa_prev, dwa_prev2, 3, 0.0),
                   TL_E_INVALID_ARG, "temperature");
  const double zero[3] = {1, 0, 1};
  TLT_ASSERT_FAILS(tl_dwa_weights(w, dwa_prev, zero, 3, 2.0), TL_E_INVALID_ARG,
                   "task 1");
}
END_TEST

START_TEST(gradnorm) {
  float grad[3] = {0.25f, 0, 0};
  double loss, targets[3];
  TLT_ASSERT_OK(tl_gradnorm(&loss, targets, grad, gn_weights, gn_norms,
                            gn_losses, gn_initial, 3, gn_alpha));
  TLT_ASSERT_CLOSE(loss, gn_loss, 1e-13, 0);
  TLT_ASSERT_ARRAY_CLOSE(targets, gn_targets, 3, 1e-13, 0);
  const double added[3] = {grad[0] - 0.25, grad[1], grad[2]};
  TLT_ASSERT_ARRAY_CLOSE(added, gn_grad, 3, 1e-6, 1e-6);
  /* Hand-derived: one task is its own target (r = 1): loss 0, gradient 0;
   * alpha 0 and equal weighted norms: every G equals the mean. */
  const float w1[1] = {2.0f};
  const double n1[1] = {3.0}, l1[1] = {0.5}, i1[1] = {2.0};
  float g1[1] = {0};
  TLT_ASSERT_OK(tl_gradnorm(&loss, NULL, g1, w1, n1, l1, i1, 1, 1.5));
  ck_assert(loss == 0.0 && g1[0] == 0.0f);
  const float w2[2] = {1.0f, 2.0f};
  const double n2[2] = {4.0, 2.0}, l2[2] = {1.0, 3.0}, i2[2] = {2.0, 1.0};
  float g2[2] = {0, 0};
  TLT_ASSERT_OK(tl_gradnorm(&loss, NULL, g2, w2, n2, l2, i2, 2, 0.0));
  ck_assert(loss == 0.0 && g2[0] == 0.0f && g2[1] == 0.0f);
  /* Renormalised to sum to the number of tasks. */
  float w[3] = {0.5f, 1.0f, 2.5f};
  TLT_ASSERT_OK(tl_gradnorm_rescale(w, 3));
  TLT_ASSERT_CLOSE(w[0], 0.375, 1e-7, 0);
  TLT_ASSERT_CLOSE(w[1], 0.75, 1e-7, 0);
  TLT_ASSERT_CLOSE(w[2], 1.875, 1e-7, 0);
  /* Bad input writes nothing. */
  float keep[3];
  memcpy(keep, grad, sizeof keep);
  const float wneg[3] = {0.7f, 0.0f, 1.2f};
  TLT_ASSERT_FAILS(tl_gradnorm(&loss, NULL, grad, wneg, gn_norms, gn_losses,
                               gn_initial, 3, gn_alpha),
                   TL_E_INVALID_ARG, "task 1");
  const double lzero[3] = {1, 1, 0};
  TLT_ASSERT_FAILS(tl_gradnorm(&loss, NULL, grad, gn_weights, gn_norms, lzero,
                               gn_initial, 3, gn_alpha),
                   TL_E_INVALID_ARG, "task 2");
  TLT_ASSERT_FAILS(tl_gradnorm(&loss, NULL, grad, gn_weights, gn_norms,
                               gn_losses, gn_initial, 3, -1.0),
                   TL_E_INVALID_ARG, "alpha");
  const double lhuge[3] = {1e300, 1e-300, 1};
  TLT_ASSERT_FAILS(tl_gradnorm(&loss, NULL, grad, gn_weights, gn_norms, lhuge,
                               gn_initial, 3, 1e4),
                   TL_E_NUMERIC, "overflow");
  ck_assert(memcmp(keep, grad, sizeof keep) == 0);
  float wbad[2] = {1.0f, -0.1f};
  TLT_ASSERT_FAILS(tl_gradnorm_rescale(wbad, 2), TL_E_INVALID_ARG,
                   "weights[1]");
  ck_assert(wbad[0] == 1.0f);
}
END_TEST

/* ---- soft sharing ------------------------------------------------------- */

static tl_model *linear_model(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 3, 4, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_add_linear(m, "out", 4, 2, TL_ACTIVATION_NONE));
  return m;
}

START_TEST(soft_share) {
  tl_model *a = linear_model(), *b = linear_model();
  TLT_ASSERT_OK(tl_model_param_set(a, "fc.weight", ss_a, 12));
  TLT_ASSERT_OK(tl_model_param_set(b, "fc.weight", ss_b, 12));
  TLT_ASSERT_OK(tl_model_zero_grad(a));
  TLT_ASSERT_OK(tl_model_zero_grad(b));
  const char *na[1] = {"fc.weight"}, *nb[1] = {"fc.weight"};
  double pen;
  TLT_ASSERT_OK(tl_soft_share_l2(&pen, a, na, b, nb, 1, 0.3));
  TLT_ASSERT_CLOSE(pen, ss_penalty, 1e-12, 0);
  float *ga, *gb;
  TLT_ASSERT_OK(tl_model_param_view(NULL, &ga, a, "fc.weight"));
  TLT_ASSERT_OK(tl_model_param_view(NULL, &gb, b, "fc.weight"));
  TLT_ASSERT_ARRAY_CLOSE(ga, ss_grad_a, 12, 1e-6, 1e-6);
  TLT_ASSERT_ARRAY_CLOSE(gb, ss_grad_b, 12, 1e-6, 1e-6);
  /* Bad input changes nothing: a shape mismatch in the second pair. */
  float keep[12];
  memcpy(keep, ga, sizeof keep);
  const char *na2[2] = {"fc.weight", "fc.weight"};
  const char *nb2[2] = {"fc.weight", "out.weight"};
  TLT_ASSERT_FAILS(tl_soft_share_l2(&pen, a, na2, b, nb2, 2, 0.3), TL_E_SHAPE,
                   "out.weight");
  ck_assert(memcmp(keep, ga, sizeof keep) == 0);
  const char *missing[1] = {"nope"};
  TLT_ASSERT_FAILS(tl_soft_share_l2(&pen, a, missing, b, nb, 1, 0.3),
                   TL_E_NOT_FOUND, "nope");
  TLT_ASSERT_FAILS(tl_soft_share_l2(&pen, a, na, b, nb, 1, -1),
                   TL_E_INVALID_ARG, "lambda");
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

/* ---- distillation -------------------------------------------------------- */

START_TEST(distill) {
  const float *teachers[2] = {kd_teacher1, kd_teacher2};
  const double weights[2] = {3.0, 7.0}; /* normalised to 0.3, 0.7 */
  double loss;
  float grad[20];
  TLT_ASSERT_OK(tl_distill_loss(&loss, grad, kd_student, teachers, weights, 2,
                                4, 5, 2.0));
  TLT_ASSERT_CLOSE(loss, kd_loss, 1e-13, 0);
  TLT_ASSERT_ARRAY_CLOSE(grad, kd_grad, 20, 1e-6, 1e-7);
  /* One teacher equal to the student at T = 1: loss = its entropy,
   * gradient 0. */
  const float *self[1] = {kd_student};
  TLT_ASSERT_OK(
      tl_distill_loss(&loss, grad, kd_student, self, NULL, 1, 4, 5, 1.0));
  TLT_ASSERT_CLOSE(loss, kd_self_entropy, 1e-13, 0);
  for (int i = 0; i < 20; i++)
    ck_assert(fabsf(grad[i]) < 1e-7f);
  /* Finite differences of the loss against the analytic gradient. */
  float z[20];
  memcpy(z, kd_student, sizeof z);
  TLT_ASSERT_OK(
      tl_distill_loss(&loss, grad, z, teachers, weights, 2, 4, 5, 2.0));
  for (int i = 0; i < 20; i += 3) {
    const float h = 1e-2f;
    double up, down;
    z[i] = kd_student[i] + h;
    TLT_ASSERT_OK(
        tl_distill_loss(&up, NULL, z, teachers, weights, 2, 4, 5, 2.0));
    z[i] = kd_student[i] - h;
    TLT_ASSERT_OK(
        tl_distill_loss(&down, NULL, z, teachers, weights, 2, 4, 5, 2.0));
    z[i] = kd_student[i];
    TLT_ASSERT_CLOSE((up - down) / (2.0 * h), grad[i], 1e-3, 1e-3);
  }
  const double zero_w[2] = {0, 0};
  TLT_ASSERT_FAILS(
      tl_distill_loss(&loss, grad, kd_student, teachers, zero_w, 2, 4, 5, 2.0),
      TL_E_INVALID_ARG, "sum to 0");
  TLT_ASSERT_FAILS(
      tl_distill_loss(&loss, grad, kd_student, teachers, weights, 2, 4, 5, 0.0),
      TL_E_INVALID_ARG, "temperature");
  float nan_teacher[20];
  memcpy(nan_teacher, kd_teacher2, sizeof nan_teacher);
  nan_teacher[13] = NAN;
  const float *bad[2] = {kd_teacher1, nan_teacher};
  TLT_ASSERT_FAILS(
      tl_distill_loss(&loss, grad, kd_student, bad, weights, 2, 4, 5, 2.0),
      TL_E_NUMERIC, "teacher 1");
}
END_TEST

/* ---- pseudo-labels ------------------------------------------------------- */

START_TEST(pseudo_labels) {
  uint8_t sel[7];
  int64_t lab[7];
  size_t count;
  TLT_ASSERT_OK(tl_pseudo_label_select(sel, lab, &count, pl_probs, 7, 3,
                                       TL_PSEUDO_LABEL_THRESHOLD, 0.75, 0));
  ck_assert(memcmp(sel, pl_threshold, 7) == 0);
  ck_assert(memcmp(lab, pl_labels, sizeof lab) == 0);
  size_t want = 0;
  for (int i = 0; i < 7; i++)
    want += pl_threshold[i];
  ck_assert_uint_eq(count, want);
  TLT_ASSERT_OK(tl_pseudo_label_select(sel, lab, &count, pl_probs, 7, 3,
                                       TL_PSEUDO_LABEL_K_BEST, 0, 3));
  ck_assert(memcmp(sel, pl_kbest3, 7) == 0);
  ck_assert_uint_eq(count, 3);
  TLT_ASSERT_OK(tl_pseudo_label_select(sel, lab, &count, pl_probs, 7, 3,
                                       TL_PSEUDO_LABEL_K_PER_CLASS, 0, 1));
  ck_assert(memcmp(sel, pl_per_class1, 7) == 0);
  double bad[6] = {0.5, 0.6, 0.2, 0.3, 0.3, 0.4};
  TLT_ASSERT_FAILS(tl_pseudo_label_select(sel, lab, &count, bad, 2, 3,
                                          TL_PSEUDO_LABEL_THRESHOLD, 0.5, 0),
                   TL_E_INVALID_ARG, "row 0");
  TLT_ASSERT_FAILS(tl_pseudo_label_select(sel, lab, &count, pl_probs, 7, 3,
                                          TL_PSEUDO_LABEL_THRESHOLD, 1.5, 0),
                   TL_E_INVALID_ARG, "threshold");
  TLT_ASSERT_FAILS(tl_pseudo_label_select(sel, lab, &count, pl_probs, 7, 3,
                                          TL_PSEUDO_LABEL_K_BEST, 0, 0),
                   TL_E_INVALID_ARG, "k");
}
END_TEST

/* ---- tri-training -------------------------------------------------------- */

static void tri_round(tl_tri_training *tri, int dis, int rnd,
                      const uint8_t *cand, const size_t *count,
                      const uint8_t *updated) {
  const int64_t *pl[3] = {tri_pl0, tri_pl1, tri_pl2};
  const int64_t *pu[3] = {tri_pu0, tri_pu1, tri_pu2};
  enum { NU = 30 };
  uint8_t join[3 * NU], upd[3];
  int64_t lab[3 * NU];
  int any;
  TLT_ASSERT_OK(tl_tri_training_round(join, lab, upd, &any, tri, pl, tri_labels,
                                      40, pu, NU));
  int want_any = 0;
  for (int i = 0; i < 3; i++) {
    ck_assert_msg(upd[i] == updated[i], "disagreement %d round %d model %d",
                  dis, rnd, i);
    want_any |= updated[i];
    size_t joined = 0;
    for (int u = 0; u < NU; u++) {
      const size_t at = (size_t)i * NU + (size_t)u;
      if (!join[at]) {
        ck_assert_int_eq(lab[at], -1);
        continue;
      }
      joined++;
      /* A joined row is a candidate of the paper's L_i and carries the
       * label the other two models agree on. */
      ck_assert_msg(cand[at], "model %d row %d joined but is no candidate", i,
                    u);
      ck_assert_int_eq(lab[at], pu[(i + 1) % 3][u]);
      ck_assert_int_eq(lab[at], pu[(i + 2) % 3][u]);
    }
    ck_assert_msg(joined == count[i], "model %d: %zu joined, expected %zu", i,
                  joined, count[i]);
  }
  ck_assert_int_eq(any, want_any);
}

START_TEST(tri_training) {
  for (int dis = 0; dis < 2; dis++) {
    tl_tri_training *tri = NULL;
    TLT_ASSERT_OK(tl_tri_training_create(&tri, dis, 5));
    if (dis == 0) {
      tri_round(tri, 0, 1, tri_cand_d0_r1, tri_count_d0_r1, tri_updated_d0_r1);
      tri_round(tri, 0, 2, tri_cand_d0_r2, tri_count_d0_r2, tri_updated_d0_r2);
    } else {
      tri_round(tri, 1, 1, tri_cand_d1_r1, tri_count_d1_r1, tri_updated_d1_r1);
      tri_round(tri, 1, 2, tri_cand_d1_r2, tri_count_d1_r2, tri_updated_d1_r2);
    }
    tl_tri_training_free(tri);
  }
  tl_tri_training *tri = NULL;
  TLT_ASSERT_FAILS(tl_tri_training_create(&tri, 2, 0), TL_E_INVALID_ARG,
                   "disagreement");
  TLT_ASSERT_OK(tl_tri_training_create(&tri, 0, 0));
  const int64_t *pl[3] = {tri_pl0, tri_pl1, NULL};
  const int64_t *pu[3] = {tri_pu0, tri_pu1, tri_pu2};
  uint8_t join[90];
  int64_t lab[90];
  TLT_ASSERT_FAILS(tl_tri_training_round(join, lab, NULL, NULL, tri, pl,
                                         tri_labels, 40, pu, 30),
                   TL_E_INVALID_ARG, "model 2");
  pl[2] = tri_pl2;
  TLT_ASSERT_FAILS(tl_tri_training_round(join, lab, NULL, NULL, tri, pl,
                                         tri_labels, 0, pu, 30),
                   TL_E_INVALID_ARG, "n_labelled");
  /* The failures changed nothing: the first round is still round 1. */
  tri_round(tri, 0, 1, tri_cand_d0_r1, tri_count_d0_r1, tri_updated_d0_r1);
  tl_tri_training_free(tri);
}
END_TEST

/* ---- combining source models -------------------------------------------- */

START_TEST(source_weights) {
  /* Divergences measured by libtl's own JS divergence match scipy's. */
  double d[3];
  for (int i = 0; i < 3; i++)
    TLT_ASSERT_OK(
        tl_js_divergence(d + i, sw_sources + 12 * i, sw_target, 12, 0.0));
  TLT_ASSERT_ARRAY_CLOSE(d, sw_js, 3, 1e-12, 1e-15);
  double w[3];
  TLT_ASSERT_OK(
      tl_source_weights(w, sw_js, 3, TL_SOURCE_WEIGHTS_SOFTMAX, 0.05));
  TLT_ASSERT_ARRAY_CLOSE(w, sw_softmax_t05, 3, 1e-14, 1e-300);
  TLT_ASSERT_OK(tl_source_weights(w, sw_js, 3, TL_SOURCE_WEIGHTS_SOFTMAX, 1.0));
  TLT_ASSERT_ARRAY_CLOSE(w, sw_softmax_t1, 3, 1e-14, 0);
  TLT_ASSERT_OK(tl_source_weights(w, sw_js, 3, TL_SOURCE_WEIGHTS_INVERSE, 0));
  TLT_ASSERT_ARRAY_CLOSE(w, sw_inverse, 3, 1e-14, 0);
  TLT_ASSERT_OK(
      tl_source_weights(w, sw_js, 3, TL_SOURCE_WEIGHTS_LINEAR, log(2.0)));
  TLT_ASSERT_ARRAY_CLOSE(w, sw_linear_ln2, 3, 1e-14, 0);
  /* Exact limits: an infinite divergence (KL with q = 0 < p) weighs 0; a
   * source at divergence 0 takes all the inverse weight, two share it; all
   * at the bound: equal. Subnormal and huge divergences do not overflow. */
  const double inf3[3] = {0.5, INFINITY, 0.5};
  TLT_ASSERT_OK(tl_source_weights(w, inf3, 3, TL_SOURCE_WEIGHTS_SOFTMAX, 1.0));
  ck_assert(w[0] == 0.5 && w[1] == 0.0 && w[2] == 0.5);
  TLT_ASSERT_OK(tl_source_weights(w, inf3, 3, TL_SOURCE_WEIGHTS_INVERSE, 0));
  ck_assert(w[0] == 0.5 && w[1] == 0.0 && w[2] == 0.5);
  const double zeros[3] = {0.0, 0.2, 0.0};
  TLT_ASSERT_OK(tl_source_weights(w, zeros, 3, TL_SOURCE_WEIGHTS_INVERSE, 0));
  ck_assert(w[0] == 0.5 && w[1] == 0.0 && w[2] == 0.5);
  const double at_bound[2] = {1.0, 1.0};
  TLT_ASSERT_OK(
      tl_source_weights(w, at_bound, 2, TL_SOURCE_WEIGHTS_LINEAR, 1.0));
  ck_assert(w[0] == 0.5 && w[1] == 0.5);
  const double tiny[2] = {4.9406564584124654e-324, 1e-323};
  TLT_ASSERT_OK(tl_source_weights(w, tiny, 2, TL_SOURCE_WEIGHTS_INVERSE, 0));
  TLT_ASSERT_CLOSE(w[0], 2.0 / 3.0, 1e-15, 0);
  const double far[2] = {-1e308, 1e308};
  TLT_ASSERT_OK(tl_source_weights(w, far, 2, TL_SOURCE_WEIGHTS_SOFTMAX, 1.0));
  ck_assert(w[0] == 1.0 && w[1] == 0.0);
  /* Bad input: a status, a message, nothing written. */
  double keep[3] = {7, 7, 7};
  const double nan3[3] = {0.1, NAN, 0.2};
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, nan3, 3, TL_SOURCE_WEIGHTS_SOFTMAX, 1.0),
      TL_E_INVALID_ARG, "divergences[1]");
  const double neg[2] = {0.1, -0.2};
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, neg, 2, TL_SOURCE_WEIGHTS_INVERSE, 0),
      TL_E_INVALID_ARG, "divergences[1]");
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, sw_js, 3, TL_SOURCE_WEIGHTS_LINEAR, 0.1),
      TL_E_INVALID_ARG, "bound");
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, sw_js, 3, TL_SOURCE_WEIGHTS_SOFTMAX, 0.0),
      TL_E_INVALID_ARG, "temperature");
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, far, 2, TL_SOURCE_WEIGHTS_LINEAR, 1e308),
      TL_E_NUMERIC, "overflow");
  const double all_inf[2] = {INFINITY, INFINITY};
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, all_inf, 2, TL_SOURCE_WEIGHTS_INVERSE, 0),
      TL_E_INVALID_ARG, "+inf");
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, sw_js, 3, (tl_source_weighting)3, 1.0),
      TL_E_INVALID_ARG, "mode");
  TLT_ASSERT_FAILS(
      tl_source_weights(keep, sw_js, 0, TL_SOURCE_WEIGHTS_SOFTMAX, 1.0),
      TL_E_INVALID_ARG, "n");
  ck_assert(keep[0] == 7 && keep[1] == 7 && keep[2] == 7);
}
END_TEST

START_TEST(ensemble_average) {
  const double *probs[3] = {ens_probs, ens_probs + 20, ens_probs + 40};
  double out[20];
  TLT_ASSERT_OK(tl_ensemble_average(out, probs, sw_softmax_t05, 3, 5, 4));
  TLT_ASSERT_ARRAY_CLOSE(out, ens_weighted, 20, 1e-14, 1e-300);
  TLT_ASSERT_OK(tl_ensemble_average(out, probs, NULL, 3, 5, 4));
  TLT_ASSERT_ARRAY_CLOSE(out, ens_mean, 20, 1e-14, 0);
  /* Unnormalised weights mean the same as normalised ones. */
  const double w2[3] = {2, 0, 6};
  const double w2n[3] = {0.25, 0, 0.75};
  double out2[20];
  TLT_ASSERT_OK(tl_ensemble_average(out, probs, w2, 3, 5, 4));
  TLT_ASSERT_OK(tl_ensemble_average(out2, probs, w2n, 3, 5, 4));
  TLT_ASSERT_ARRAY_CLOSE(out, out2, 20, 1e-15, 0);
  for (int i = 0; i < 5; i++) {
    double s = 0;
    for (int j = 0; j < 4; j++)
      s += out[i * 4 + j];
    TLT_ASSERT_CLOSE(s, 1.0, 1e-14, 0);
  }
  /* Bad input changes nothing. */
  memcpy(out2, out, sizeof out);
  double bad[20];
  memcpy(bad, ens_probs + 20, sizeof bad);
  bad[9] += 0.01; /* row 2 of model 1 sums to 1.01 */
  const double *with_bad[3] = {ens_probs, bad, ens_probs + 40};
  TLT_ASSERT_FAILS(tl_ensemble_average(out, with_bad, NULL, 3, 5, 4),
                   TL_E_INVALID_ARG, "model 1 row 2");
  bad[9] = -0.5;
  TLT_ASSERT_FAILS(tl_ensemble_average(out, with_bad, NULL, 3, 5, 4),
                   TL_E_INVALID_ARG, "not a probability");
  const double negw[3] = {1, -1, 1}, zerow[3] = {0, 0, 0};
  TLT_ASSERT_FAILS(tl_ensemble_average(out, probs, negw, 3, 5, 4),
                   TL_E_INVALID_ARG, "weights[1]");
  TLT_ASSERT_FAILS(tl_ensemble_average(out, probs, zerow, 3, 5, 4),
                   TL_E_INVALID_ARG, "sum");
  const double *null_model[3] = {ens_probs, NULL, ens_probs + 40};
  TLT_ASSERT_FAILS(tl_ensemble_average(out, null_model, NULL, 3, 5, 4),
                   TL_E_INVALID_ARG, "probs[1]");
  TLT_ASSERT_FAILS(tl_ensemble_average(out, probs, NULL, 0, 5, 4),
                   TL_E_INVALID_ARG, "k");
  ck_assert(memcmp(out, out2, sizeof out) == 0);
}
END_TEST

/* ---- maximum cluster difference ------------------------------------------ */

START_TEST(mcd) {
  double cent[18];
  TLT_ASSERT_OK(tl_class_centroids(cent, mcd_x, mcd_labels, 30, 6, 3));
  TLT_ASSERT_ARRAY_CLOSE(cent, mcd_centroids, 18, 1e-14, 1e-15);
  double score[8];
  int64_t nearest[8];
  TLT_ASSERT_OK(tl_mcd_confidence(score, nearest, mcd_h, 8, 6, cent, 3));
  TLT_ASSERT_ARRAY_CLOSE(score, mcd_score, 8, 1e-12, 1e-14);
  ck_assert(memcmp(nearest, mcd_nearest, sizeof nearest) == 0);
  /* Two classes: the paper's |cos(h, c_pos) - cos(h, c_neg)|. */
  TLT_ASSERT_OK(tl_mcd_confidence(score, NULL, mcd_h, 8, 6, cent, 2));
  TLT_ASSERT_ARRAY_CLOSE(score, mcd_score2, 8, 1e-12, 1e-14);
  /* Exact values: h on a centroid's direction, orthogonal to the other:
   * 1 - 0; halfway between two orthogonal centroids: 0. Magnitudes near
   * FLT_MAX and DBL_MAX do not overflow the norms. */
  const double axes[4] = {1e300, 0, 0, 3};
  const float on_axis[4] = {3e38f, 0, 1, 1};
  TLT_ASSERT_OK(tl_mcd_confidence(score, nearest, on_axis, 2, 2, axes, 2));
  ck_assert(score[0] == 1.0 && nearest[0] == 0);
  TLT_ASSERT_CLOSE(score[1], 0.0, 0, 1e-15);
  /* The top-k by score: tl_select_top with theta = {1}. */
  size_t top[2];
  const double theta[1] = {1.0};
  TLT_ASSERT_OK(tl_mcd_confidence(score, NULL, mcd_h, 8, 6, cent, 3));
  TLT_ASSERT_OK(tl_select_top(top, NULL, score, 8, 1, theta, 2));
  for (int i = 0; i < 8; i++)
    if (i != (int)top[0] && i != (int)top[1])
      ck_assert(mcd_score[i] <= mcd_score[top[1]]);
  /* Bad input: nothing written. */
  double keep[18];
  memcpy(keep, cent, sizeof keep);
  int64_t lab[30];
  memcpy(lab, mcd_labels, sizeof lab);
  lab[4] = 3;
  TLT_ASSERT_FAILS(tl_class_centroids(cent, mcd_x, lab, 30, 6, 3),
                   TL_E_INVALID_ARG, "labels[4]");
  for (int i = 0; i < 30; i++)
    lab[i] = lab[i] == 2 ? 0 : mcd_labels[i];
  TLT_ASSERT_FAILS(tl_class_centroids(cent, mcd_x, lab, 30, 6, 3),
                   TL_E_INVALID_ARG, "class 2");
  float xbad[180];
  memcpy(xbad, mcd_x, sizeof xbad);
  xbad[6 * 7 + 2] = NAN;
  TLT_ASSERT_FAILS(tl_class_centroids(cent, xbad, mcd_labels, 30, 6, 3),
                   TL_E_NUMERIC, "row 7");
  ck_assert(memcmp(keep, cent, sizeof keep) == 0);
  double sk[8];
  memcpy(sk, score, sizeof sk);
  TLT_ASSERT_FAILS(tl_mcd_confidence(score, NULL, mcd_h, 8, 6, cent, 1),
                   TL_E_INVALID_ARG, "c is 1");
  float hz[48];
  memcpy(hz, mcd_h, sizeof hz);
  memset(hz + 6 * 5, 0, 6 * sizeof *hz);
  TLT_ASSERT_FAILS(tl_mcd_confidence(score, NULL, hz, 8, 6, cent, 3),
                   TL_E_INVALID_ARG, "row 5");
  double cz[18];
  memcpy(cz, cent, sizeof cz);
  memset(cz + 6, 0, 6 * sizeof *cz);
  TLT_ASSERT_FAILS(tl_mcd_confidence(score, NULL, mcd_h, 8, 6, cz, 3),
                   TL_E_INVALID_ARG, "centroid 1");
  cz[6] = INFINITY;
  TLT_ASSERT_FAILS(tl_mcd_confidence(score, NULL, mcd_h, 8, 6, cz, 3),
                   TL_E_NUMERIC, "centroid 1");
  ck_assert(memcmp(sk, score, sizeof sk) == 0);
}
END_TEST

/* ---- co-training and democratic co-learning -------------------------------
 */

START_TEST(co_training) {
  uint8_t join[24];
  int64_t lab[24];
  TLT_ASSERT_OK(
      tl_co_training_select(join, lab, co_pa, co_pb, 12, 3, co_per_class));
  ck_assert(memcmp(join, co_join, sizeof join) == 0);
  ck_assert(memcmp(lab, co_labels, sizeof lab) == 0);
  /* Hand-derived, one row per class. A's rows: class 1 (0.9), class 0
   * (0.5, an argmax tie goes to the lower class), class 1 (0.6), class 1
   * (0.7). B's rows: class 0 (0.5), class 1 (0.6), class 0 (0.95), class 1
   * (0.6). A's set gets B's best class 0 row (2) and B's best class 1 row
   * (rows 1 and 3 tie at 0.6: the lower); B's set gets A's only class 0
   * row (1) and its best class 1 row (0). */
  const double a[8] = {0.1, 0.9, 0.5, 0.5, 0.4, 0.6, 0.3, 0.7};
  const double b[8] = {0.5, 0.5, 0.4, 0.6, 0.95, 0.05, 0.4, 0.6};
  const size_t one[2] = {1, 1};
  uint8_t j2[8];
  int64_t l2[8];
  TLT_ASSERT_OK(tl_co_training_select(j2, l2, a, b, 4, 2, one));
  const uint8_t want_join[8] = {0, 1, 1, 0, 1, 1, 0, 0};
  const int64_t want_lab[8] = {-1, 1, 0, -1, 1, 0, -1, -1};
  ck_assert(memcmp(j2, want_join, sizeof j2) == 0);
  ck_assert(memcmp(l2, want_lab, sizeof l2) == 0);
  /* Bad input: nothing written. */
  uint8_t keep[24];
  memcpy(keep, join, sizeof keep);
  double bad[36];
  memcpy(bad, co_pb, sizeof bad);
  bad[3 * 4] = 1.5;
  TLT_ASSERT_FAILS(
      tl_co_training_select(join, lab, co_pa, bad, 12, 3, co_per_class),
      TL_E_INVALID_ARG, "model 1 row 4");
  const size_t none[3] = {0, 0, 0};
  TLT_ASSERT_FAILS(tl_co_training_select(join, lab, co_pa, co_pb, 12, 3, none),
                   TL_E_INVALID_ARG, "per_class");
  TLT_ASSERT_FAILS(tl_co_training_select(join, lab, co_pa, co_pb, 0, 3, none),
                   TL_E_INVALID_ARG, "n");
  ck_assert(memcmp(keep, join, sizeof keep) == 0);
}
END_TEST

static void dem_round(tl_democratic *dem, const int64_t *const *pu,
                      const uint8_t *want_join, const int64_t *want_lab,
                      const uint8_t *want_updated) {
  const int64_t *pl[4] = {dem_pl0, dem_pl1, dem_pl2, dem_pl3};
  uint8_t join[80], upd[4];
  int64_t lab[80];
  int any;
  TLT_ASSERT_OK(
      tl_democratic_round(join, lab, upd, &any, dem, pl, dem_labels, pu));
  ck_assert(memcmp(join, want_join, sizeof join) == 0);
  ck_assert(memcmp(lab, want_lab, sizeof lab) == 0);
  ck_assert(memcmp(upd, want_updated, sizeof upd) == 0);
  ck_assert_int_eq(any, want_updated[0] | want_updated[1] | want_updated[2] |
                            want_updated[3]);
}

START_TEST(democratic) {
  const int64_t *pu1[4] = {dem_pu1_0, dem_pu1_1, dem_pu1_2, dem_pu1_3};
  const int64_t *pu2[4] = {dem_pu2_0, dem_pu2_1, dem_pu2_2, dem_pu2_3};
  tl_democratic *dem = NULL;
  TLT_ASSERT_OK(tl_democratic_create(&dem, 4, 25, 20));
  /* A failing round changes nothing: the first round is still round 1. */
  const int64_t *pl[4] = {dem_pl0, dem_pl1, NULL, dem_pl3};
  uint8_t join[80];
  int64_t lab[80];
  TLT_ASSERT_FAILS(
      tl_democratic_round(join, lab, NULL, NULL, dem, pl, dem_labels, pu1),
      TL_E_INVALID_ARG, "model 2");
  int64_t neg[20];
  memcpy(neg, dem_pu1_3, sizeof neg);
  neg[7] = -1;
  const int64_t *pu_neg[4] = {dem_pu1_0, dem_pu1_1, dem_pu1_2, neg};
  pl[2] = dem_pl2;
  TLT_ASSERT_FAILS(
      tl_democratic_round(join, lab, NULL, NULL, dem, pl, dem_labels, pu_neg),
      TL_E_INVALID_ARG, "unlabelled row 7");
  dem_round(dem, pu1, dem_join_r1, dem_lab_r1, dem_updated_r1);
  dem_round(dem, pu2, dem_join_r2, dem_lab_r2, dem_updated_r2);
  tl_democratic_free(dem);
  /* Hand-derived: three models perfect on L (l = h = w = 1). Row 0: models
   * 0 and 1 say 2, model 2 says 1: proposed to model 2 labelled 2 with
   * e' = 1 - 1 = 0, q' = 5 > q = 4: taken. Row 1: all agree; row 2: no
   * majority. The same predictions again: row 0 is held, nothing new, the
   * algorithm stops. */
  const int64_t y[4] = {0, 1, 2, 0};
  const int64_t *perfect[3] = {y, y, y};
  const int64_t u0[3] = {2, 1, 0}, u1[3] = {2, 1, 1}, u2[3] = {1, 1, 2};
  const int64_t *pu[3] = {u0, u1, u2};
  TLT_ASSERT_OK(tl_democratic_create(&dem, 3, 4, 3));
  uint8_t j3[9], upd[3];
  int64_t l3[9];
  int any;
  TLT_ASSERT_OK(tl_democratic_round(j3, l3, upd, &any, dem, perfect, y, pu));
  const uint8_t want_j3[9] = {0, 0, 0, 0, 0, 0, 1, 0, 0};
  const int64_t want_l3[9] = {-1, -1, -1, -1, -1, -1, 2, -1, -1};
  ck_assert(memcmp(j3, want_j3, sizeof j3) == 0);
  ck_assert(memcmp(l3, want_l3, sizeof l3) == 0);
  ck_assert(upd[0] == 0 && upd[1] == 0 && upd[2] == 1 && any == 1);
  TLT_ASSERT_OK(tl_democratic_round(j3, l3, upd, &any, dem, perfect, y, pu));
  ck_assert(any == 0 && upd[2] == 0 && j3[6] == 0 && l3[6] == -1);
  tl_democratic_free(dem);
  /* Hand-derived, where the interval decides: |L| = 100, models 0 and 1
   * right on `right` rows (a), model 2 on all (w = 1). One unlabelled row:
   * 0 and 1 say 1 (weights 2a > 1), model 2 says 0. e' = 1 - l with
   * l = a - 1.96 sqrt(a (1 - a) / 100); q' = 101 (1 - 2 e' / 101)^2 against
   * q = 100: a = 0.82 gives l = 0.7447, q' = 99.981 (rejected); a = 0.84
   * gives l = 0.7681, q' = 100.075 (taken). */
  for (int right = 82; right <= 84; right += 2) {
    int64_t zero[100], p01[100];
    for (int r = 0; r < 100; r++) {
      zero[r] = 0;
      p01[r] = r < right ? 0 : 1;
    }
    const int64_t *plab[3] = {p01, p01, zero};
    const int64_t one_row[1] = {1}, zero_row[1] = {0};
    const int64_t *pun[3] = {one_row, one_row, zero_row};
    TLT_ASSERT_OK(tl_democratic_create(&dem, 3, 100, 1));
    TLT_ASSERT_OK(tl_democratic_round(j3, l3, upd, &any, dem, plab, zero, pun));
    ck_assert_msg(any == (right == 84) && j3[2] == (right == 84) &&
                      upd[0] == 0 && upd[1] == 0,
                  "accuracy %d%%: any %d", right, any);
    ck_assert_int_eq(l3[2], right == 84 ? 1 : -1);
    tl_democratic_free(dem);
  }
  tl_democratic_free(NULL);
  TLT_ASSERT_FAILS(tl_democratic_create(&dem, 2, 4, 3), TL_E_INVALID_ARG,
                   "n_models");
  TLT_ASSERT_FAILS(tl_democratic_create(&dem, 3, 0, 3), TL_E_INVALID_ARG,
                   "n_labelled");
}
END_TEST

/* ---- trace-norm sharing -------------------------------------------------- */

static const char *const tr_names[3] = {"fc.weight", "fc.bias", "out.bias"};

/* Three linear models holding row m of each slot's fixture matrix. */
static void trace_models(tl_model **models) {
  for (size_t m = 0; m < 3; m++) {
    models[m] = linear_model();
    TLT_ASSERT_OK(
        tl_model_param_set(models[m], "fc.weight", tr_fc_weight + 12 * m, 12));
    TLT_ASSERT_OK(
        tl_model_param_set(models[m], "fc.bias", tr_fc_bias + 4 * m, 4));
    TLT_ASSERT_OK(
        tl_model_param_set(models[m], "out.bias", tr_out_bias + 2 * m, 2));
    TLT_ASSERT_OK(tl_model_zero_grad(models[m]));
  }
}

START_TEST(trace_share) {
  tl_model *models[3];
  trace_models(models);
  const char *names[9];
  for (int m = 0; m < 3; m++)
    for (int k = 0; k < 3; k++)
      names[m * 3 + k] = tr_names[k];
  double pen;
  TLT_ASSERT_OK(tl_soft_share_trace(&pen, models, names, 3, 3, 0.7));
  TLT_ASSERT_CLOSE(pen, tr_penalty, 1e-13, 0);
  const double *want[3] = {tr_grad_fc_weight, tr_grad_fc_bias,
                           tr_grad_out_bias};
  const size_t size[3] = {12, 4, 2};
  for (size_t k = 0; k < 3; k++)
    for (size_t m = 0; m < 3; m++) {
      float *g;
      TLT_ASSERT_OK(tl_model_param_view(NULL, &g, models[m], tr_names[k]));
      TLT_ASSERT_ARRAY_CLOSE(g, want[k] + m * size[k], size[k], 1e-5, 1e-6);
    }
  /* Finite differences of the penalty (double SVD of float parameters,
   * h = 1e-3) against the gradient for some elements of each slot. */
  for (size_t k = 0; k < 3; k++)
    for (size_t m = 0; m < 3; m++) {
      float *x;
      TLT_ASSERT_OK(tl_model_param_view(&x, NULL, models[m], tr_names[k]));
      const size_t j = (m + k) % size[k];
      const float keep = x[j], h = 1e-3f;
      double up, down;
      x[j] = keep + h;
      TLT_ASSERT_OK(tl_soft_share_trace(&up, models, names, 3, 3, 0.7));
      x[j] = keep - h;
      TLT_ASSERT_OK(tl_soft_share_trace(&down, models, names, 3, 3, 0.7));
      x[j] = keep;
      const double fd = (up - down) / ((double)(keep + h) - (keep - h));
      TLT_ASSERT_CLOSE(fd, want[k][m * size[k] + j], 1e-3, 1e-4);
    }
  /* Bad input adds nothing (the finite differences above added to the
   * gradients too: compare with a snapshot). */
  float snap[12];
  float *g0;
  TLT_ASSERT_OK(tl_model_param_view(NULL, &g0, models[0], "fc.weight"));
  memcpy(snap, g0, sizeof snap);
  const char *bad_shape[9];
  memcpy(bad_shape, names, sizeof bad_shape);
  bad_shape[3 + 2] = "fc.bias"; /* model 1's slot 2: 4 elements, not 2 */
  TLT_ASSERT_FAILS(tl_soft_share_trace(&pen, models, bad_shape, 3, 3, 0.7),
                   TL_E_SHAPE, "model 1");
  bad_shape[3 + 2] = "nope";
  TLT_ASSERT_FAILS(tl_soft_share_trace(&pen, models, bad_shape, 3, 3, 0.7),
                   TL_E_NOT_FOUND, "nope");
  TLT_ASSERT_FAILS(tl_soft_share_trace(&pen, models, names, 1, 3, 0.7),
                   TL_E_INVALID_ARG, "n_models");
  TLT_ASSERT_FAILS(tl_soft_share_trace(&pen, models, names, 3, 3, -0.1),
                   TL_E_INVALID_ARG, "lambda");
  float *x2;
  TLT_ASSERT_OK(tl_model_param_view(&x2, NULL, models[2], "out.bias"));
  const float keep = x2[1];
  x2[1] = NAN;
  TLT_ASSERT_FAILS(tl_soft_share_trace(&pen, models, names, 3, 3, 0.7),
                   TL_E_NUMERIC, "out.bias");
  x2[1] = keep;
  ck_assert(memcmp(snap, g0, sizeof snap) == 0);
  for (int m = 0; m < 3; m++)
    tl_model_free(models[m]);
}
END_TEST

/* Hand-derived: K identical models holding x: W = 1 x^T has one singular
 * value sqrt(K) |x| (u = 1 / sqrt(K), v = x / |x|), so the penalty is
 * lambda sqrt(K) |x| and each model's gradient lambda x / (sqrt(K) |x|);
 * the other singular values are 0 and add nothing. */
START_TEST(trace_share_rank_one) {
  tl_model *models[4];
  const float x[4] = {3, 0, -4, 0}; /* |x| = 5 */
  const char *names[4] = {"fc.bias", "fc.bias", "fc.bias", "fc.bias"};
  for (int m = 0; m < 4; m++) {
    models[m] = linear_model();
    TLT_ASSERT_OK(tl_model_param_set(models[m], "fc.bias", x, 4));
    TLT_ASSERT_OK(tl_model_zero_grad(models[m]));
  }
  double pen;
  TLT_ASSERT_OK(tl_soft_share_trace(&pen, models, names, 4, 1, 0.5));
  TLT_ASSERT_CLOSE(pen, 0.5 * 2 * 5, 1e-15, 0);
  for (int m = 0; m < 4; m++) {
    float *g;
    TLT_ASSERT_OK(tl_model_param_view(NULL, &g, models[m], "fc.bias"));
    const double want[4] = {0.5 * 3 / 10.0, 0, 0.5 * -4 / 10.0, 0};
    TLT_ASSERT_ARRAY_CLOSE(g, want, 4, 1e-7, 1e-12);
    tl_model_free(models[m]);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("transfer");
  TCase *tc = tcase_create("transfer");
  tcase_add_test(tc, sampler_probabilities);
  tcase_add_test(tc, sampler_frequencies);
  tcase_add_test(tc, sampler_bad_input);
  tcase_add_test(tc, sampler_underflow);
  tcase_add_test(tc, uncertainty_weighting);
  tcase_add_test(tc, dwa);
  tcase_add_test(tc, gradnorm);
  tcase_add_test(tc, soft_share);
  tcase_add_test(tc, distill);
  tcase_add_test(tc, pseudo_labels);
  tcase_add_test(tc, tri_training);
  tcase_add_test(tc, source_weights);
  tcase_add_test(tc, ensemble_average);
  tcase_add_test(tc, mcd);
  tcase_add_test(tc, co_training);
  tcase_add_test(tc, democratic);
  tcase_add_test(tc, trace_share);
  tcase_add_test(tc, trace_share_rank_one);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
