/* Progress tracking and its reporters: the smoothed loss against its
 * closed form, times from a fake clock, and what the terminal and CSV
 * reporters write. */
#include <unistd.h>

#include "tl_test.h"

static double fake_now;
static double fake_clock(void *payload) {
  (void)payload;
  return fake_now;
}

typedef struct seen {
  size_t steps, epochs;
  tl_progress_record last;
  double last_train_loss, last_seconds, last_valid;
} seen;

static void on_step(void *payload, const tl_progress_record *rec) {
  seen *s = payload;
  ck_assert_uint_eq(rec->version, TL_PROGRESS_RECORD_VERSION);
  s->steps++;
  s->last = *rec;
}

static void on_epoch(void *payload, const tl_epoch_record *rec) {
  seen *s = payload;
  ck_assert_uint_eq(rec->version, TL_EPOCH_RECORD_VERSION);
  s->epochs++;
  s->last_train_loss = rec->train_loss;
  s->last_seconds = rec->seconds;
  s->last_valid = rec->valid_loss;
}

static tl_progress *make(seen *s, uint64_t epochs, uint64_t train,
                         uint64_t valid) {
  tl_progress_options o;
  TLT_ASSERT_OK(tl_progress_options_init(&o, TL_PROGRESS_OPTIONS_VERSION));
  o.n_epochs = epochs;
  o.train_steps = train;
  o.valid_steps = valid;
  o.on_step = on_step;
  o.on_epoch = on_epoch;
  o.payload = s;
  o.clock = fake_clock;
  fake_now = 100.0;
  tl_progress *p = NULL;
  TLT_ASSERT_OK(tl_progress_create(&p, &o));
  return p;
}

/* fastai's AvgSmoothLoss in closed form: sum (1-b) b^(n-i) x_i / (1-b^n). */
static double smooth_ref(const double *x, size_t n, double b) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (1.0 - b) * pow(b, (double)(n - 1 - i)) * x[i];
  return s / (1.0 - pow(b, (double)n));
}

START_TEST(smooth_loss_and_times) {
  seen s = {0};
  tl_progress *p = make(&s, 2, 5, 2);
  double losses[10];
  const double lrs[3] = {1e-4, 5e-4, 1e-3};
  size_t n = 0;
  for (uint64_t e = 0; e < 2; e++) {
    for (int k = 0; k < 5; k++) {
      fake_now += 2.0;
      losses[n] = 3.0 / (1.0 + (double)n) + 0.1 * (double)(n % 3);
      TLT_ASSERT_OK(
          tl_progress_step(p, TL_PROGRESS_STAGE_TRAIN, losses[n], lrs, 3));
      n++;
      TLT_ASSERT_CLOSE(s.last.smooth_loss, smooth_ref(losses, n, 0.98), 1e-12,
                       1e-300);
      ck_assert_uint_eq(s.last.step, (uint64_t)k + 1);
      ck_assert_uint_eq(s.last.total_steps, 5);
      ck_assert_uint_eq(s.last.epoch, e);
      ck_assert_uint_eq(s.last.n_lrs, 3);
    }
    for (int k = 0; k < 2; k++) {
      fake_now += 1.0;
      TLT_ASSERT_OK(tl_progress_step(p, TL_PROGRESS_STAGE_VALID, 9.0, NULL, 0));
      /* validation losses do not move the smoothed training loss */
      TLT_ASSERT_CLOSE(s.last.smooth_loss, smooth_ref(losses, n, 0.98), 1e-12,
                       1e-300);
    }
    if (e == 0) {
      /* 7 steps done in 12 s, 7 of 14 left */
      TLT_ASSERT_CLOSE(s.last.elapsed, 12.0, 1e-15, 1e-300);
      TLT_ASSERT_CLOSE(s.last.remaining, 12.0, 1e-15, 1e-300);
    }
    const char *names[1] = {"accuracy"};
    const double vals[1] = {0.5 + 0.1 * (double)e};
    TLT_ASSERT_OK(tl_progress_end_epoch(p, 1.5, names, vals, 1));
    TLT_ASSERT_CLOSE(s.last_train_loss, smooth_ref(losses, n, 0.98), 1e-12,
                     1e-300);
    TLT_ASSERT_CLOSE(s.last_seconds, 12.0, 1e-15, 1e-300);
  }
  ck_assert_uint_eq(s.steps, 14);
  ck_assert_uint_eq(s.epochs, 2);
  TLT_ASSERT_FAILS(tl_progress_step(p, TL_PROGRESS_STAGE_TRAIN, 1.0, NULL, 0),
                   TL_E_STATE, "epochs have ended");
  TLT_ASSERT_FAILS(tl_progress_end_epoch(p, 1.0, NULL, NULL, 0), TL_E_STATE,
                   "epochs have ended");
  tl_progress_free(p);
}
END_TEST

START_TEST(bad_input) {
  seen s = {0};
  tl_progress *p = make(&s, 1, 0, 0);
  TLT_ASSERT_FAILS(tl_progress_step(p, TL_PROGRESS_STAGE_TRAIN, NAN, NULL, 0),
                   TL_E_NUMERIC, "loss");
  TLT_ASSERT_FAILS(tl_progress_step(p, (tl_progress_stage)7, 1.0, NULL, 0),
                   TL_E_INVALID_ARG, "stage 7");
  TLT_ASSERT_FAILS(tl_progress_step(p, TL_PROGRESS_STAGE_TRAIN, 1.0, NULL, 2),
                   TL_E_INVALID_ARG, "lrs");
  ck_assert_uint_eq(s.steps, 0);
  TLT_ASSERT_OK(tl_progress_step(p, TL_PROGRESS_STAGE_TRAIN, 2.0, NULL, 0));
  ck_assert(isnan(s.last.remaining)); /* unknown total */
  TLT_ASSERT_CLOSE(s.last.smooth_loss, 2.0, 1e-15, 1e-300);
  TLT_ASSERT_FAILS(tl_progress_end_epoch(p, 1.0, NULL, NULL, 1),
                   TL_E_INVALID_ARG, "n_metrics 1");
  tl_progress_free(p);
  tl_progress_options o;
  TLT_ASSERT_OK(tl_progress_options_init(&o, TL_PROGRESS_OPTIONS_VERSION));
  o.smooth_beta = 1.0;
  TLT_ASSERT_FAILS(tl_progress_create(&p, &o), TL_E_INVALID_ARG, "smooth_beta");
  o.smooth_beta = 0.98;
  o.n_epochs = 0;
  TLT_ASSERT_FAILS(tl_progress_create(&p, &o), TL_E_INVALID_ARG, "n_epochs");
  tl_reporter *r = NULL;
  TLT_ASSERT_FAILS(tl_reporter_create_csv(&r, "/nonexistent-dir/x.csv", NULL),
                   TL_E_IO, "/nonexistent-dir/x.csv");
  TLT_ASSERT_FAILS(tl_reporter_create_terminal(&r, stderr, (tl_reporter_mode)9),
                   TL_E_INVALID_ARG, "mode 9");
  ck_assert_ptr_null(r);
}
END_TEST

static char *slurp(FILE *f) {
  fflush(f);
  long n = ftell(f);
  rewind(f);
  char *buf = calloc((size_t)n + 1, 1);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  return buf;
}

static void run_two_epochs(tl_progress *p) {
  const double lrs[1] = {0.01};
  for (int e = 0; e < 2; e++) {
    for (int k = 0; k < 20; k++) {
      fake_now += 0.5;
      TLT_ASSERT_OK(
          tl_progress_step(p, TL_PROGRESS_STAGE_TRAIN, 2.0 - 0.01 * k, lrs, 1));
    }
    const char *names[2] = {"accuracy", "perplexity"};
    const double vals[2] = {0.75, 6.25};
    TLT_ASSERT_OK(tl_progress_end_epoch(p, 1.25, names, vals, 2));
  }
}

START_TEST(terminal_reporter) {
  for (int mode = 1; mode <= 2; mode++) {
    seen s = {0};
    tl_progress *p = make(&s, 2, 20, 0);
    FILE *f = tmpfile();
    tl_reporter *r = NULL;
    TLT_ASSERT_OK(tl_reporter_create_terminal(&r, f, (tl_reporter_mode)mode));
    TLT_ASSERT_OK(tl_progress_add_reporter(p, r));
    run_two_epochs(p);
    tl_reporter_free(r);
    char *text = slurp(f);
    ck_assert_msg(strstr(text, "epoch  train_loss  valid_loss  accuracy    "
                               "perplexity  time\n") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "\n0      ") != NULL || text[0] == '0' ||
                      strstr(text, "\r0      ") != NULL,
                  "%s", text);
    ck_assert(strstr(text, "1.250000    0.750000    6.250000    00:10\n"));
    ck_assert(strstr(text, "epoch 2/2 train 20/20 loss 1.8100"));
    if (mode == 1) {
      ck_assert(strchr(text, '\r') != NULL);
    } else {
      ck_assert(strchr(text, '\r') == NULL);
      /* a line every tenth of the epoch: steps 2, 4, ..., 20, per epoch */
      size_t lines = 0;
      for (const char *q = text; (q = strstr(q, "train ")) != NULL; q++)
        lines++;
      ck_assert_uint_eq(lines, 20);
    }
    free(text);
    fclose(f);
    tl_progress_free(p);
  }
}
END_TEST

START_TEST(csv_reporter) {
  char steps[] = "/tmp/tl_progress_steps_XXXXXX";
  char epochs[] = "/tmp/tl_progress_epochs_XXXXXX";
  close(mkstemp(steps));
  close(mkstemp(epochs));
  seen s = {0};
  tl_progress *p = make(&s, 2, 20, 0);
  tl_reporter *r = NULL;
  TLT_ASSERT_OK(tl_reporter_create_csv(&r, steps, epochs));
  TLT_ASSERT_OK(tl_progress_add_reporter(p, r));
  run_two_epochs(p);
  tl_reporter_free(r);
  FILE *f = fopen(epochs, "r");
  char line[512];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "epoch,train_loss,valid_loss,accuracy,perplexity,"
                         "time\n");
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_msg(strncmp(line, "0,", 2) == 0 &&
                    strstr(line, ",1.25,0.75,6.25,00:10\n") != NULL,
                "%s", line);
  fclose(f);
  f = fopen(steps, "r");
  size_t rows = 0;
  while (fgets(line, sizeof line, f))
    rows++;
  fclose(f);
  ck_assert_uint_eq(rows, 41); /* header + 40 steps */
  remove(steps);
  remove(epochs);
  tl_progress_free(p);
}
END_TEST

static Suite *progress_suite(void) {
  Suite *s = suite_create("progress");
  TCase *tc = tcase_create("progress");
  tcase_add_test(tc, smooth_loss_and_times);
  tcase_add_test(tc, bad_input);
  tcase_add_test(tc, terminal_reporter);
  tcase_add_test(tc, csv_reporter);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tlt_run(progress_suite()); }
