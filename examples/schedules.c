/* Writes every libtl schedule over 1000 steps as CSV (schedule, step, lr,
 * momentum; momentum empty where the schedule has none), plus ULMFiT's
 * discriminative rates for four layer groups under one STLR.
 *
 *   ./schedules [out.csv]        (stdout without an argument)
 *
 * docs/plot_schedules.py turns the file into the figures in docs/img/. */
#include <stdio.h>
#include <stdlib.h>

#include "tl/tl.h"

#define STEPS 1000

static int check(tl_status st, const char *what) {
  if (st != TL_OK) {
    fprintf(stderr, "%s: %s: %s\n", what, tl_status_string(st),
            tl_last_error());
    return 1;
  }
  return 0;
}

static int write_schedule(FILE *f, const char *name, tl_sched *s) {
  int failed = s == NULL;
  for (uint64_t t = 0; t < STEPS && !failed; t++) {
    double lr, m;
    failed = check(tl_sched_lr(&lr, s, t), name);
    if (failed)
      break;
    if (tl_sched_has_momentum(s)) {
      failed = check(tl_sched_momentum(&m, s, t), name);
      fprintf(f, "%s,%llu,%.17g,%.17g\n", name, (unsigned long long)t, lr, m);
    } else {
      fprintf(f, "%s,%llu,%.17g,\n", name, (unsigned long long)t, lr);
    }
  }
  tl_sched_free(s);
  return failed;
}

int main(int argc, char **argv) {
  FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
  if (f == NULL) {
    perror(argv[1]);
    return EXIT_FAILURE;
  }
  int failed = 0;
  tl_sched *s = NULL;
  fprintf(f, "schedule,step,lr,momentum\n");

  tl_sched_stlr_options stlr;
  tl_sched_stlr_options_init(&stlr, TL_SCHED_STLR_OPTIONS_VERSION);
  stlr.total_steps = STEPS; /* lr_max 0.01, cut_frac 0.1, ratio 32 */
  failed |= check(tl_sched_stlr_create(&s, &stlr), "stlr");
  /* Discriminative fine-tuning: group g gets lr / 2.6^(3-g) x the shape. */
  double base[4], group[4];
  base[3] = stlr.lr_max;
  for (int g = 2; g >= 0; g--)
    base[g] = base[g + 1] / 2.6;
  for (uint64_t t = 0; t < STEPS && !failed; t++) {
    failed |= check(tl_sched_fill_group_lrs(group, 4, base, s, t), "groups");
    for (int g = 0; g < 4 && !failed; g++)
      fprintf(f, "stlr_group%d,%llu,%.17g,\n", g, (unsigned long long)t,
              group[g]);
  }
  failed |= write_schedule(f, "stlr", s);

  const struct {
    const char *name;
    tl_sched_cyclic_mode mode;
    double gamma;
  } cyclic[] = {{"cyclic_triangular", TL_SCHED_CYCLIC_TRIANGULAR, 1.0},
                {"cyclic_triangular2", TL_SCHED_CYCLIC_TRIANGULAR2, 1.0},
                {"cyclic_exp_range", TL_SCHED_CYCLIC_EXP_RANGE, 0.998}};
  for (size_t i = 0; i < 3; i++) {
    tl_sched_cyclic_options o;
    tl_sched_cyclic_options_init(&o, TL_SCHED_CYCLIC_OPTIONS_VERSION);
    o.step_size_up = 100, o.mode = cyclic[i].mode, o.gamma = cyclic[i].gamma;
    s = NULL;
    failed |= check(tl_sched_cyclic_create(&s, &o), cyclic[i].name);
    failed |= write_schedule(f, cyclic[i].name, s);
  }

  tl_sched_cosine_options cos_o;
  tl_sched_cosine_options_init(&cos_o, TL_SCHED_COSINE_OPTIONS_VERSION);
  cos_o.t_max = STEPS, cos_o.eta_min = 1e-4;
  s = NULL;
  failed |= check(tl_sched_cosine_create(&s, &cos_o), "cosine");
  failed |= write_schedule(f, "cosine", s);

  tl_sched_cosine_restarts_options sgdr;
  tl_sched_cosine_restarts_options_init(
      &sgdr, TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION);
  sgdr.t_0 = 100, sgdr.t_mult = 2;
  s = NULL;
  failed |= check(tl_sched_cosine_restarts_create(&s, &sgdr), "restarts");
  failed |= write_schedule(f, "cosine_restarts", s);

  tl_sched_one_cycle_options oc;
  tl_sched_one_cycle_options_init(&oc, TL_SCHED_ONE_CYCLE_OPTIONS_VERSION);
  oc.total_steps = STEPS;
  s = NULL;
  failed |= check(tl_sched_one_cycle_create(&s, &oc), "one_cycle");
  failed |= write_schedule(f, "one_cycle", s);
  oc.three_phase = 1, oc.anneal = TL_SCHED_ANNEAL_LINEAR;
  s = NULL;
  failed |= check(tl_sched_one_cycle_create(&s, &oc), "one_cycle_three");
  failed |= write_schedule(f, "one_cycle_three_phase_linear", s);

  tl_sched_fastai_one_cycle_options fa;
  tl_sched_fastai_one_cycle_options_init(
      &fa, TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION);
  fa.lr_max = 0.01, fa.total_steps = STEPS;
  s = NULL;
  failed |= check(tl_sched_fastai_one_cycle_create(&s, &fa), "fastai");
  failed |= write_schedule(f, "fastai_one_cycle", s);

  /* Linear warm-up for 100 steps, then cosine over the other 900. */
  tl_sched_linear_options warm_o;
  tl_sched_linear_options_init(&warm_o, TL_SCHED_LINEAR_OPTIONS_VERSION);
  warm_o.start_factor = 0.01, warm_o.total_iters = 100;
  tl_sched *warm = NULL, *tail = NULL;
  cos_o.t_max = STEPS - 100, cos_o.eta_min = 0.0;
  failed |= check(tl_sched_linear_create(&warm, &warm_o), "warmup");
  failed |= check(tl_sched_cosine_create(&tail, &cos_o), "cosine tail");
  if (!failed) {
    const tl_sched *parts[2] = {warm, tail};
    const uint64_t at[1] = {100};
    s = NULL;
    failed |= check(tl_sched_sequential_create(&s, parts, 2, at), "sequential");
    failed |= write_schedule(f, "warmup_then_cosine", s);
  }
  tl_sched_free(warm); /* the sequential schedule holds its own copies */
  tl_sched_free(tail);

  tl_sched_constant_options co;
  tl_sched_constant_options_init(&co, TL_SCHED_CONSTANT_OPTIONS_VERSION);
  co.factor = 1.0 / 3.0, co.total_iters = 100;
  s = NULL;
  failed |= check(tl_sched_constant_create(&s, &co), "constant");
  failed |= write_schedule(f, "constant", s);

  tl_sched_step_options so;
  tl_sched_step_options_init(&so, TL_SCHED_STEP_OPTIONS_VERSION);
  so.step_size = 250, so.gamma = 0.5;
  s = NULL;
  failed |= check(tl_sched_step_create(&s, &so), "step");
  failed |= write_schedule(f, "step", s);

  tl_sched_exponential_options eo;
  tl_sched_exponential_options_init(&eo, TL_SCHED_EXPONENTIAL_OPTIONS_VERSION);
  eo.gamma = 0.997;
  s = NULL;
  failed |= check(tl_sched_exponential_create(&s, &eo), "exponential");
  failed |= write_schedule(f, "exponential", s);

  const uint64_t milestones[3] = {300, 600, 900};
  tl_sched_multi_step_options mo;
  tl_sched_multi_step_options_init(&mo, TL_SCHED_MULTI_STEP_OPTIONS_VERSION);
  mo.milestones = milestones, mo.n_milestones = 3, mo.gamma = 0.3;
  s = NULL;
  failed |= check(tl_sched_multi_step_create(&s, &mo), "multi_step");
  failed |= write_schedule(f, "multi_step", s);

  if (f != stdout && fclose(f) != 0) {
    perror(argv[1]);
    failed = 1;
  }
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
