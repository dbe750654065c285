/* libtl from several threads at once, as docs/api-conventions.md promises:
 * distinct models train concurrently with exactly the results of
 * sequential runs, checkpoint saves and loads run concurrently (to
 * distinct paths and to one path, where a reader sees one whole file or
 * the other, never a torn one), and each thread keeps its own error
 * message. The suite also runs under ThreadSanitizer (`./run test`,
 * build-tsan), which reports any data race these calls make. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tl_test.h"

#define T_STEPS 6
#define BATCH 4
#define VOCAB 23
#define CLASSES 3
#define TRAIN_STEPS 12

/* Check's assertions run on the main thread only: a failing ck_assert
 * longjmps (CK_FORK=no) or exits from the thread it runs on. Worker threads
 * record the first failing call in their job's `error` and stop; the main
 * thread asserts that it is empty after the join. */
#define TRY(err, call)                                                         \
  do {                                                                         \
    const tl_status s_ = (call);                                               \
    if (s_ != TL_OK) {                                                         \
      snprintf((err), sizeof(err), "%s: %s: %s", #call, tl_status_string(s_),  \
               tl_last_error());                                               \
      goto done;                                                               \
    }                                                                          \
  } while (0)

/* ---- training ------------------------------------------------------------ */

/* An embedding-LSTM-pooling-linear classifier with every kind of dropout,
 * so that the model's RNG stream matters too. On failure *out is NULL and
 * err says why. */
static void classifier(tl_model **out, uint64_t seed, char (*err)[256]) {
  tl_model *m = NULL;
  tl_model_options mo;
  TRY(*err, tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION));
  mo.seed = seed;
  TRY(*err, tl_model_create(&m, &mo));
  tl_embedding_options eo;
  TRY(*err, tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.embed_p = 0.1f;
  TRY(*err, tl_model_add_embedding(m, "emb", VOCAB, 8, &eo));
  tl_lstm_options lo;
  TRY(*err, tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.2f;
  lo.hidden_p = 0.1f;
  lo.output_p = 0.1f;
  lo.ar_alpha = 2.0f;
  lo.tar_beta = 1.0f;
  TRY(*err, tl_model_add_lstm(m, "rnn", 8, 16, 2, &lo));
  TRY(*err, tl_model_add_concat_pool(m, "pool"));
  TRY(*err, tl_model_add_dropout(m, "drop", TL_DROPOUT_STANDARD, 0.2f));
  TRY(*err, tl_model_add_linear(m, "fc", 48, CLASSES, TL_ACTIVATION_NONE));
  *out = m;
  return;
done:
  tl_model_free(m);
  *out = NULL;
}

/* classifier() on the main thread, where Check may assert. */
static tl_model *new_classifier(uint64_t seed) {
  char err[256] = "";
  tl_model *m = NULL;
  classifier(&m, seed, &err);
  ck_assert_msg(m != NULL, "%s", err);
  return m;
}

typedef struct train_job {
  uint64_t seed;
  float *params; /* out: the trained flat parameters (malloc'ed) */
  size_t n;
  float losses[TRAIN_STEPS];
  char error[256]; /* the first failure, "" if none */
} train_job;

/* Trains classifier(seed) with AdamW on data drawn from the seed. */
static void *train(void *arg) {
  train_job *job = arg;
  tl_model *m = NULL;
  tl_optim *opt = NULL;
  classifier(&m, job->seed, &job->error);
  if (m == NULL)
    return NULL;
  tl_optim_options oo;
  TRY(job->error,
      tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  oo.lr = 0.01;
  TRY(job->error, tl_optim_create(&opt, &m, 1, &oo));
  int64_t ids[T_STEPS * BATCH], y[BATCH];
  uint64_t s = job->seed * 2654435761u + 1;
  for (size_t i = 0; i < T_STEPS * BATCH; i++) {
    s = s * 6364136223846793005u + 1442695040888963407u;
    ids[i] = (int64_t)((s >> 33) % VOCAB);
  }
  for (size_t b = 0; b < BATCH; b++)
    y[b] = (int64_t)((job->seed + b) % CLASSES);
  const size_t dims[2] = {T_STEPS, BATCH};
  for (int step = 0; step < TRAIN_STEPS; step++) {
    const float *logits;
    size_t out_dims[TL_MODEL_MAX_DIMS], ndim;
    float loss, dlogits[BATCH * CLASSES];
    TRY(job->error,
        tl_model_forward_ids(&logits, out_dims, &ndim, m, ids, dims, 2));
    TRY(job->error,
        tl_cross_entropy(&loss, dlogits, logits, y, BATCH, CLASSES, -100));
    TRY(job->error, tl_optim_zero_grad(opt));
    TRY(job->error, tl_model_backward(NULL, m, dlogits, out_dims, ndim));
    TRY(job->error, tl_optim_step(opt));
    job->losses[step] = loss;
  }
  float *flat;
  TRY(job->error, tl_model_flat_params(&flat, &job->n, m));
  job->params = malloc(job->n * sizeof(float));
  if (job->params == NULL)
    snprintf(job->error, sizeof job->error, "out of memory");
  else
    memcpy(job->params, flat, job->n * sizeof(float));
done:
  tl_optim_free(opt);
  tl_model_free(m);
  return NULL;
}

/* Trains seeds 11 and 12 on two threads at once into par. */
static void train_in_parallel(train_job par[2]) {
  par[0] = (train_job){.seed = 11};
  par[1] = (train_job){.seed = 12};
  pthread_t th[2];
  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(pthread_create(&th[k], NULL, train, &par[k]), 0);
  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(pthread_join(th[k], NULL), 0);
  for (int k = 0; k < 2; k++)
    ck_assert_msg(par[k].error[0] == '\0', "thread %d: %s", k, par[k].error);
}

START_TEST(two_models_on_two_threads_match_sequential_runs) {
  /* The threaded round runs first: the two threads then also race on the
   * first use of the kernels (the AVX2 choice is made on first call,
   * core/cpu.h), which ThreadSanitizer checks. */
  train_job par[2][2];
  train_in_parallel(par[0]);
  train_job seq[2] = {{.seed = 11}, {.seed = 12}};
  train(&seq[0]);
  train(&seq[1]);
  ck_assert_msg(seq[0].error[0] == '\0', "%s", seq[0].error);
  ck_assert_msg(seq[1].error[0] == '\0', "%s", seq[1].error);
  train_in_parallel(par[1]);
  /* The two runs differ (else "equal to sequential" would prove little). */
  ck_assert_uint_eq(seq[0].n, seq[1].n);
  ck_assert_int_ne(
      memcmp(seq[0].params, seq[1].params, seq[0].n * sizeof(float)), 0);
  /* Training changed the parameters: the loss moved. */
  ck_assert(seq[0].losses[TRAIN_STEPS - 1] != seq[0].losses[0]);
  for (int round = 0; round < 2; round++) {
    for (int k = 0; k < 2; k++) {
      const train_job *p = &par[round][k];
      ck_assert_uint_eq(p->n, seq[k].n);
      ck_assert_msg(
          memcmp(p->params, seq[k].params, seq[k].n * sizeof(float)) == 0,
          "round %d: model %d trained on a thread differs from its "
          "sequential run",
          round, k);
      ck_assert_int_eq(memcmp(p->losses, seq[k].losses, sizeof seq[k].losses),
                       0);
      free(p->params);
    }
  }
  free(seq[0].params);
  free(seq[1].params);
}
END_TEST

/* ---- metrics ------------------------------------------------------------- */

#define METRIC_N 300

typedef struct metric_job {
  const double *p, *q;
  double kl, js;
  tl_status status;
} metric_job;

static void *divergences(void *arg) {
  metric_job *job = arg;
  job->status = tl_kl_divergence(&job->kl, job->p, job->q, METRIC_N, 0.0);
  if (job->status == TL_OK)
    job->status = tl_js_divergence(&job->js, job->p, job->q, METRIC_N, 0.0);
  return NULL;
}

START_TEST(divergences_on_two_threads_match_sequential_calls) {
  /* Subnormal and zero bins send KL and JS down their careful paths, the
   * loops compiled for AVX2 and the baseline (core/cpu.h). */
  static double p[2][METRIC_N], q[2][METRIC_N];
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < METRIC_N; i++) {
      p[k][i] = (i % 7 == 0) ? 1e-310 : 1.0 + (double)((i * (k + 3)) % 11);
      q[k][i] = (i % 5 == 0) ? 1e-312 : 2.0 + (double)((i * (k + 5)) % 13);
    }
  metric_job par[2], seq[2];
  pthread_t th[2];
  for (int k = 0; k < 2; k++) {
    par[k] = (metric_job){.p = p[k], .q = q[k]};
    ck_assert_int_eq(pthread_create(&th[k], NULL, divergences, &par[k]), 0);
  }
  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(pthread_join(th[k], NULL), 0);
  for (int k = 0; k < 2; k++) {
    seq[k] = (metric_job){.p = p[k], .q = q[k]};
    divergences(&seq[k]);
    ck_assert_int_eq(seq[k].status, TL_OK);
    ck_assert_int_eq(par[k].status, TL_OK);
    ck_assert(seq[k].kl > 0.0 && seq[k].js > 0.0);
    ck_assert_int_eq(memcmp(&par[k].kl, &seq[k].kl, sizeof(double)), 0);
    ck_assert_int_eq(memcmp(&par[k].js, &seq[k].js, sizeof(double)), 0);
  }
  ck_assert(seq[0].kl != seq[1].kl);
}
END_TEST

/* ---- checkpoints --------------------------------------------------------- */

#define IO_ROUNDS 20

/* The file image of model m's checkpoint, with meta "who" = who (main
 * thread). */
static unsigned char *model_image(const tl_model *m, const char *who,
                                  tl_ckpt **out_ckpt, size_t *size) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  TLT_ASSERT_OK(tl_ckpt_store_model(c, m, NULL));
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, "who", who));
  TLT_ASSERT_OK(tl_ckpt_serialized_size(size, c));
  unsigned char *img = malloc(*size);
  ck_assert_ptr_nonnull(img);
  size_t written = 0;
  TLT_ASSERT_OK(tl_ckpt_save_buffer(img, *size, &written, c));
  *out_ckpt = c;
  return img;
}

typedef struct io_job {
  const char *path;
  const tl_ckpt *ckpt;            /* saver: what it writes */
  const unsigned char *images[2]; /* loader: what it may read */
  size_t sizes[2];
  int saves, loads; /* counts of successful calls */
  int matched[2];   /* loader: how many loads equalled each image */
  int bad;          /* loads that failed or matched neither image */
  char first_error[256];
} io_job;

static void *saver(void *arg) {
  io_job *job = arg;
  for (int r = 0; r < IO_ROUNDS; r++)
    if (tl_ckpt_save(job->ckpt, job->path) == TL_OK)
      job->saves++;
    else if (job->first_error[0] == '\0')
      snprintf(job->first_error, sizeof job->first_error, "%s",
               tl_last_error());
  return NULL;
}

static void *loader(void *arg) {
  io_job *job = arg;
  for (int r = 0; r < IO_ROUNDS; r++) {
    tl_ckpt *c = NULL;
    if (tl_ckpt_load(&c, job->path, NULL) != TL_OK) {
      if (job->first_error[0] == '\0')
        snprintf(job->first_error, sizeof job->first_error, "%s",
                 tl_last_error());
      job->bad++;
      continue;
    }
    job->loads++;
    size_t size = 0, written = 0;
    unsigned char *img = NULL;
    int which = -1;
    if (tl_ckpt_serialized_size(&size, c) == TL_OK &&
        (img = malloc(size)) != NULL &&
        tl_ckpt_save_buffer(img, size, &written, c) == TL_OK)
      for (int k = 0; k < 2; k++)
        if (job->images[k] != NULL && size == job->sizes[k] &&
            memcmp(img, job->images[k], size) == 0)
          which = k;
    if (which < 0)
      job->bad++;
    else
      job->matched[which]++;
    free(img);
    tl_ckpt_free(c);
  }
  return NULL;
}

static void run_jobs(io_job *jobs, void *(**fns)(void *), int n) {
  pthread_t th[8];
  for (int k = 0; k < n; k++)
    ck_assert_int_eq(pthread_create(&th[k], NULL, fns[k], &jobs[k]), 0);
  for (int k = 0; k < n; k++)
    ck_assert_int_eq(pthread_join(th[k], NULL), 0);
}

START_TEST(concurrent_saves_and_loads_to_distinct_paths) {
  char dir[] = "/tmp/tl_threads_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  tl_model *ma = new_classifier(1), *mb = new_classifier(2);
  tl_ckpt *ca, *cb;
  size_t sa, sb;
  unsigned char *ia = model_image(ma, "a", &ca, &sa);
  unsigned char *ib = model_image(mb, "b", &cb, &sb);
  char pa[300], pb[300];
  snprintf(pa, sizeof pa, "%s/a.tlc", dir);
  snprintf(pb, sizeof pb, "%s/b.tlc", dir);
  TLT_ASSERT_OK(tl_ckpt_save(ca, pa));
  TLT_ASSERT_OK(tl_ckpt_save(cb, pb));
  /* Each path has its own saver and loader; the loader of a sees only a. */
  io_job jobs[4] = {
      {.path = pa, .ckpt = ca},
      {.path = pb, .ckpt = cb},
      {.path = pa, .images = {ia, NULL}, .sizes = {sa, 0}},
      {.path = pb, .images = {NULL, ib}, .sizes = {0, sb}},
  };
  void *(*fns[4])(void *) = {saver, saver, loader, loader};
  run_jobs(jobs, fns, 4);
  for (int k = 0; k < 4; k++)
    ck_assert_msg(jobs[k].first_error[0] == '\0', "thread %d: %s", k,
                  jobs[k].first_error);
  ck_assert_int_eq(jobs[0].saves, IO_ROUNDS);
  ck_assert_int_eq(jobs[1].saves, IO_ROUNDS);
  ck_assert_int_eq(jobs[2].matched[0], IO_ROUNDS);
  ck_assert_int_eq(jobs[3].matched[1], IO_ROUNDS);
  ck_assert_int_eq(jobs[2].bad + jobs[3].bad, 0);
  /* The files the savers left hold the models' parameters exactly. */
  tl_model *ra = new_classifier(7), *rb = new_classifier(8);
  TLT_ASSERT_OK(tl_model_load(ra, pa, NULL));
  TLT_ASSERT_OK(tl_model_load(rb, pb, NULL));
  float *fa, *fra;
  size_t na, nra;
  TLT_ASSERT_OK(tl_model_flat_params(&fa, &na, ma));
  TLT_ASSERT_OK(tl_model_flat_params(&fra, &nra, ra));
  ck_assert_uint_eq(na, nra);
  ck_assert_int_eq(memcmp(fa, fra, na * sizeof(float)), 0);
  tl_model_free(ra);
  tl_model_free(rb);
  tl_ckpt_free(ca);
  tl_ckpt_free(cb);
  free(ia);
  free(ib);
  tl_model_free(ma);
  tl_model_free(mb);
  unlink(pa);
  unlink(pb);
  rmdir(dir);
}
END_TEST

START_TEST(concurrent_saves_to_one_path_never_show_a_torn_file) {
  char dir[] = "/tmp/tl_threads_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  tl_model *ma = new_classifier(3), *mb = new_classifier(4);
  tl_ckpt *ca, *cb;
  size_t sa, sb;
  unsigned char *ia = model_image(ma, "a", &ca, &sa);
  unsigned char *ib = model_image(mb, "b", &cb, &sb);
  char path[300];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  TLT_ASSERT_OK(tl_ckpt_save(ca, path));
  /* Two savers race on one path (each save is temp + rename, so the last
   * rename wins) while two loaders read it: every load is whole. */
  io_job jobs[4] = {
      {.path = path, .ckpt = ca},
      {.path = path, .ckpt = cb},
      {.path = path, .images = {ia, ib}, .sizes = {sa, sb}},
      {.path = path, .images = {ia, ib}, .sizes = {sa, sb}},
  };
  void *(*fns[4])(void *) = {saver, saver, loader, loader};
  run_jobs(jobs, fns, 4);
  for (int k = 0; k < 4; k++)
    ck_assert_msg(jobs[k].first_error[0] == '\0', "thread %d: %s", k,
                  jobs[k].first_error);
  ck_assert_int_eq(jobs[0].saves + jobs[1].saves, 2 * IO_ROUNDS);
  for (int k = 2; k < 4; k++) {
    ck_assert_int_eq(jobs[k].bad, 0);
    ck_assert_int_eq(jobs[k].matched[0] + jobs[k].matched[1], IO_ROUNDS);
  }
  tl_ckpt_free(ca);
  tl_ckpt_free(cb);
  free(ia);
  free(ib);
  tl_model_free(ma);
  tl_model_free(mb);
  unlink(path);
  /* No temporary file is left: rmdir fails on a non-empty directory. */
  ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

typedef struct err_job {
  pthread_barrier_t *barrier;
  int which;
  char seen[512];
  tl_status status;
} err_job;

/* Each thread fails a different call, then waits until all have failed
 * (so the messages are set at the same time), then reads its own. */
static void *fail_differently(void *arg) {
  err_job *job = arg;
  tl_clear_error();
  if (job->which == 0) {
    job->status = tl_model_create(NULL, NULL);
  } else if (job->which == 1) {
    tl_ckpt *c = NULL;
    job->status = tl_ckpt_load(&c, "/nonexistent/thread1.tlc", NULL);
  } else if (job->which == 2) {
    job->status = tl_set_num_threads(-5);
  } else {
    job->status = TL_OK; /* fails nothing: its message stays empty */
  }
  pthread_barrier_wait(job->barrier);
  snprintf(job->seen, sizeof job->seen, "%s", tl_last_error());
  pthread_barrier_wait(job->barrier);
  return NULL;
}

START_TEST(each_thread_keeps_its_own_error_message) {
  pthread_barrier_t barrier;
  ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 4), 0);
  err_job jobs[4];
  pthread_t th[4];
  for (int k = 0; k < 4; k++) {
    memset(&jobs[k], 0, sizeof jobs[k]);
    jobs[k].barrier = &barrier;
    jobs[k].which = k;
    ck_assert_int_eq(pthread_create(&th[k], NULL, fail_differently, &jobs[k]),
                     0);
  }
  for (int k = 0; k < 4; k++)
    ck_assert_int_eq(pthread_join(th[k], NULL), 0);
  pthread_barrier_destroy(&barrier);
  ck_assert_int_eq(jobs[0].status, TL_E_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(jobs[0].seen, "tl_model_create"));
  ck_assert_int_eq(jobs[1].status, TL_E_IO);
  ck_assert_ptr_nonnull(strstr(jobs[1].seen, "thread1.tlc"));
  ck_assert_int_eq(jobs[2].status, TL_E_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(jobs[2].seen, "-5"));
  ck_assert_int_eq(jobs[3].status, TL_OK);
  ck_assert_str_eq(jobs[3].seen, "");
  /* None leaked into the main thread's message. */
  tl_clear_error();
  ck_assert_str_eq(tl_last_error(), "");
}
END_TEST

static Suite *threads_suite(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("threads");
  tcase_add_test(tc, two_models_on_two_threads_match_sequential_runs);
  tcase_add_test(tc, divergences_on_two_threads_match_sequential_calls);
  tcase_add_test(tc, concurrent_saves_and_loads_to_distinct_paths);
  tcase_add_test(tc, concurrent_saves_to_one_path_never_show_a_torn_file);
  tcase_add_test(tc, each_thread_keeps_its_own_error_message);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tlt_run(threads_suite()); }
