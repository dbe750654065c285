/* Optimizer state in checkpoints (lib/ckpt/ckpt_optim.c): kind and layout
 * checks, exact resume in a fresh process (this binary re-executes itself
 * with --resume), and the fuzzers' regression inputs (regress/). */
#include "ckpt_model_common.h"

/* ---- optimizer state and exact resume ----------------------------------- */

typedef struct trainer {
  tl_model *model;
  tl_optim *optim;
  tl_sched *sched;
} trainer;

static trainer trainer_create(uint64_t seed, uint64_t total) {
  trainer t;
  t.model = build_lm(seed);
  tl_optim_options oo;
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  OK(tl_optim_create(&t.optim, &t.model, 1, &oo));
  tl_sched_stlr_options so;
  OK(tl_sched_stlr_options_init(&so, TL_SCHED_STLR_OPTIONS_VERSION));
  so.lr_max = 0.02;
  so.total_steps = total;
  OK(tl_sched_stlr_create(&t.sched, &so));
  return t;
}

static void trainer_free(trainer *t) {
  tl_sched_free(t->sched);
  tl_optim_free(t->optim);
  tl_model_free(t->model);
}

/* One step: the batch is a function of the step (the host's data order),
 * the lr comes from the schedule at that step, dropout from the model's
 * RNG, and AdamW's moments from the optimizer. */
static void train_step(trainer *t, uint64_t step) {
  tli_rng data;
  tli_rng_seed(&data, 1000 + step);
  int64_t ids[T * B], targets[T * B];
  for (size_t i = 0; i < T * B; i++) {
    ids[i] = (int64_t)tli_rng_below(&data, V);
    targets[i] = (int64_t)tli_rng_below(&data, V);
  }
  size_t groups = 0;
  OK(tl_optim_num_groups(&groups, t->optim));
  double lr = 0, lrs[8];
  OK(tl_sched_lr(&lr, t->sched, step));
  for (size_t g = 0; g < groups; g++)
    lrs[g] = lr / (double)(1u << (groups - 1 - g)); /* discriminative */
  OK(tl_optim_set_lrs(t->optim, lrs, groups));
  OK(tl_optim_zero_grad(t->optim));
  const float *y = NULL;
  size_t dims[TL_MODEL_MAX_DIMS], ndim = 0;
  const size_t in_dims[2] = {T, B};
  OK(tl_model_forward_ids(&y, dims, &ndim, t->model, ids, in_dims, 2));
  float loss = 0, dy[T * B * V];
  OK(tl_cross_entropy(&loss, dy, y, targets, T * B, V, -100));
  OK(tl_model_backward(NULL, t->model, dy, dims, ndim));
  OK(tl_optim_step(t->optim));
}

#define RESUME_N 6
#define RESUME_M 5

const char *self_exe; /* argv[0], set by main */

/* The second half of a resumed run, in a fresh process: a model with a
 * different seed and fresh optimizer get everything from the checkpoint. */
int resume_main(const char *ckpt_path, const char *out_path) {
  in_child = 1;
  trainer t = trainer_create(999, RESUME_N + RESUME_M);
  tl_ckpt *c = NULL;
  uint64_t step = 0;
  if (tl_ckpt_load(&c, ckpt_path, NULL) != TL_OK ||
      tl_ckpt_restore_model(t.model, c, NULL) != TL_OK ||
      tl_ckpt_restore_optim(t.optim, c) != TL_OK ||
      tl_ckpt_get_step(&step, c) != TL_OK) {
    fprintf(stderr, "resume: %s\n", tl_last_error());
    return 1;
  }
  tl_ckpt_free(c);
  for (uint64_t s = step; s < RESUME_N + RESUME_M; s++)
    train_step(&t, s);
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, t.model, NULL));
  OK(tl_ckpt_store_optim(c, t.optim));
  const tl_status s = tl_ckpt_save(c, out_path);
  tl_ckpt_free(c);
  trainer_free(&t);
  return s == TL_OK ? 0 : 1;
}

START_TEST(resume_in_a_fresh_process_is_bit_identical) {
  char dir[] = "/tmp/tl_resume_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char mid[256], end[256];
  snprintf(mid, sizeof mid, "%s/mid.tlc", dir);
  snprintf(end, sizeof end, "%s/end.tlc", dir);

  /* First half, then save model + optimizer + step (+ RNG via the model). */
  trainer t = trainer_create(42, RESUME_N + RESUME_M);
  for (uint64_t s = 0; s < RESUME_N; s++)
    train_step(&t, s);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, t.model, NULL));
  OK(tl_ckpt_store_optim(c, t.optim));
  OK(tl_ckpt_set_step(c, RESUME_N));
  OK(tl_ckpt_save(c, mid));
  tl_ckpt_free(c);

  /* Second half in a new process image (exec of this binary). */
  fflush(NULL);
  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    execl("/proc/self/exe", self_exe, "--resume", mid, end, (char *)NULL);
    _exit(127);
  }
  int wstatus = 0;
  ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
  ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
                "the resumed process failed (status 0x%x)", wstatus);

  /* Uninterrupted reference: keep training the same objects. */
  for (uint64_t s = RESUME_N; s < RESUME_N + RESUME_M; s++)
    train_step(&t, s);
  tl_ckpt *resumed = NULL;
  OK(tl_ckpt_load(&resumed, end, NULL));
  tl_model *check = build_lm(5);
  OK(tl_ckpt_restore_model(check, resumed, NULL));
  float *want = NULL;
  size_t n = 0;
  flat_copy(t.model, &want, &n);
  assert_flat_equals(check, want, n); /* bit-identical parameters */
  ck_assert_int_eq(memcmp(&check->rng, &t.model->rng, sizeof check->rng), 0);
  /* ... and bit-identical optimizer state. */
  size_t size = 0;
  OK(tl_optim_state_size(&size, t.optim));
  unsigned char *state = malloc(size);
  OK(tl_optim_state_save(state, size, t.optim));
  const void *bytes = NULL;
  size_t got = 0;
  OK(tl_ckpt_get_section(&bytes, &got, NULL, resumed, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(got, size);
  ck_assert_int_eq(memcmp(bytes, state, size), 0);
  /* The run really moved: training changed the parameters after the save. */
  tl_ckpt *first = NULL;
  tl_model *at_mid = build_lm(5);
  OK(tl_ckpt_load(&first, mid, NULL));
  OK(tl_ckpt_restore_model(at_mid, first, NULL));
  float *mid_flat = NULL;
  flat_copy(at_mid, &mid_flat, &n);
  ck_assert(memcmp(mid_flat, want, n * sizeof(float)) != 0);

  free(mid_flat);
  free(state);
  free(want);
  tl_model_free(at_mid);
  tl_model_free(check);
  tl_ckpt_free(first);
  tl_ckpt_free(resumed);
  trainer_free(&t);
  unlink(mid);
  unlink(end);
  rmdir(dir);
}
END_TEST

START_TEST(optimizer_state_kind_and_layout_are_checked) {
  trainer t = trainer_create(1, 10);
  train_step(&t, 0);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(t.optim, c), TL_E_NOT_FOUND,
                   "no optimizer state");
  OK(tl_ckpt_store_optim(c, t.optim));
  uint32_t sub = 0;
  const void *bytes = NULL;
  size_t size = 0;
  OK(tl_ckpt_get_section(&bytes, &size, &sub, c, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(sub, TL_OPTIM_ADAMW);
  tl_model *m = build_lm(2);
  tl_optim_options oo;
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_SGD));
  tl_optim *sgd = NULL;
  OK(tl_optim_create(&sgd, &m, 1, &oo));
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(sgd, c), TL_E_FORMAT, "kind 2");
  /* Same kind, other layout: the optimizer's own check, state unchanged. */
  tl_model *small = NULL;
  OK(tl_model_create(&small, NULL));
  OK(tl_model_add_linear(small, "l", 2, 2, TL_ACTIVATION_NONE));
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  tl_optim *other = NULL;
  OK(tl_optim_create(&other, &small, 1, &oo));
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(other, c), TL_E_FORMAT, "parameters");
  OK(tl_ckpt_restore_optim(t.optim, c));
  tl_optim_free(other);
  tl_optim_free(sgd);
  tl_model_free(small);
  tl_model_free(m);
  tl_ckpt_free(c);
  trainer_free(&t);
}
END_TEST

/* ---- fuzzer findings (fuzz/fuzz_ckpt_model.c; inputs in regress/) ------- */

/* The bytes tl_optim_state_save writes now, to compare after a failure. */
static unsigned char *optim_bytes(const tl_optim *o, size_t *size) {
  OK(tl_optim_state_size(size, o));
  unsigned char *b = malloc(*size);
  OK(tl_optim_state_save(b, *size, o));
  return b;
}

/* Where float i of the state sits in a state save (after the 48-byte
 * header, the numel and the step counter of each parameter). */
static size_t state_float_at(const tl_optim *o, size_t i) {
  return 48 + 2 * o->n_params * 8 + i * sizeof(float);
}

START_TEST(fuzz_regress_negative_adam_second_moment) {
  /* Found by fuzz_ckpt_model: bit flips in the optimizer section made
   * three exp_avg_sq values negative; the load accepted them and the next
   * Adam step took sqrt of a negative, writing NaN into the parameters. */
  tl_ckpt *c = NULL;
  OK(tl_ckpt_load(&c, TLT_REGRESS_DIR "/optim_negative_exp_avg_sq.tlc", NULL));
  tl_model *m = NULL;
  tl_optim *o = NULL;
  OK(fuzz_build_model(&m, 7));
  OK(fuzz_build_adam(&o, m));
  OK(fuzz_train_step(m, o, 1));
  size_t size = 0, size2 = 0;
  unsigned char *before = optim_bytes(o, &size);
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(o, c), TL_E_FORMAT,
                   "exp_avg_sq element");
  unsigned char *after = optim_bytes(o, &size2);
  ck_assert_uint_eq(size, size2);
  ck_assert_int_eq(memcmp(before, after, size), 0);
  /* With those values made non-negative the state loads, and a step from
   * it keeps every parameter a number. */
  const void *sec = NULL;
  size_t sec_size = 0;
  uint32_t kind = 0;
  OK(tl_ckpt_get_section(&sec, &sec_size, &kind, c, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(sec_size, size);
  unsigned char *fixed = malloc(sec_size);
  memcpy(fixed, sec, sec_size);
  int negatives = 0;
  for (size_t e = 0; e < m->numel; e++) {
    unsigned char *at = fixed + state_float_at(o, m->numel + e);
    if (at[3] & 0x80) { /* the sign bit of a little-endian float */
      at[3] &= 0x7f;
      negatives++;
    }
  }
  ck_assert_int_eq(negatives, 3);
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_OPTIM, kind, fixed, sec_size));
  OK(tl_ckpt_restore_optim(o, c));
  OK(tl_optim_zero_grad(o));
  OK(tl_optim_step(o));
  for (size_t i = 0; i < m->numel; i++)
    ck_assert_msg(!isnan(m->flat[i]), "parameter %zu is NaN", i);
  free(fixed);
  free(after);
  free(before);
  tl_optim_free(o);
  tl_model_free(m);
  tl_ckpt_free(c);
}
END_TEST

START_TEST(optimizer_step_counters_cannot_exceed_or_wrap) {
  tl_model *m = NULL;
  tl_optim *o = NULL;
  OK(fuzz_build_model(&m, 8));
  OK(fuzz_build_adam(&o, m));
  OK(fuzz_train_step(m, o, 0));
  OK(fuzz_train_step(m, o, 1));
  size_t size = 0;
  unsigned char *saved = optim_bytes(o, &size);
  unsigned char *b = malloc(size);
  /* A parameter cannot have stepped more often than the optimizer. */
  memcpy(b, saved, size);
  tli_store_le64(b + 48 + o->n_params * 8 + 3 * 8, 3);
  TLT_ASSERT_FAILS(tl_optim_state_load(o, b, size), TL_E_FORMAT,
                   "parameter 3 has taken 3 steps, more than the optimizer's "
                   "2");
  /* At the largest step count a step would wrap the counters to 0 (Adam's
   * bias corrections would divide by zero): refused, nothing changes. */
  memcpy(b, saved, size);
  tli_store_le64(b + 40, UINT64_MAX);
  for (size_t k = 0; k < o->n_params; k++)
    tli_store_le64(b + 48 + o->n_params * 8 + k * 8, UINT64_MAX);
  OK(tl_optim_state_load(o, b, size));
  float *before = NULL;
  size_t n = 0;
  flat_copy(m, &before, &n);
  OK(tl_optim_zero_grad(o));
  TLT_ASSERT_FAILS(tl_optim_step(o), TL_E_STATE,
                   "step count is at its maximum");
  assert_flat_equals(m, before, n);
  uint64_t steps = 0;
  OK(tl_optim_step_count(&steps, o));
  ck_assert(steps == UINT64_MAX);
  /* One below the maximum still steps, to the maximum. */
  tli_store_le64(b + 40, UINT64_MAX - 1);
  for (size_t k = 0; k < o->n_params; k++)
    tli_store_le64(b + 48 + o->n_params * 8 + k * 8, UINT64_MAX - 1);
  OK(tl_optim_state_load(o, b, size));
  OK(tl_optim_step(o));
  OK(tl_optim_step_count(&steps, o));
  ck_assert(steps == UINT64_MAX);
  free(before);
  free(b);
  free(saved);
  tl_optim_free(o);
  tl_model_free(m);
}
END_TEST

TCase *ckpt_model_tcase_ckpt_model_resume(void);
TCase *ckpt_model_tcase_ckpt_model_resume(void) {
  TCase *tc = tcase_create("optim_resume");
  tcase_add_test(tc, resume_in_a_fresh_process_is_bit_identical);
  tcase_add_test(tc, optimizer_state_kind_and_layout_are_checked);
  tcase_add_test(tc, fuzz_regress_negative_adam_second_moment);
  tcase_add_test(tc, optimizer_step_counters_cannot_exceed_or_wrap);
  return tc;
}
