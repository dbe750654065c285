/* libtl-mpi's suite (meson suite 'mpi'), run as
 *   mpirun --allow-run-as-root --oversubscribe -np W test_mpi MODE DIR
 * for W = 2 and 3.
 *
 * train: a small LM (embedding, LSTM, locked dropout, tied decoder) trained
 *   data-parallel for N steps on a sharded tl_lm_loader:
 *   - every rank ends with bit-identical parameters (compared byte for
 *     byte with rank 0's, and by tl_mpi_check_params_in_sync);
 *   - without dropout, they equal one process trained on the concatenated
 *     batches (batch_size W * B, the same seed) within TOL (float32 sums
 *     in another order), while training moved them by far more than TOL;
 *   - a checkpoint written at step K by rank 0 and resumed by fresh
 *     objects gives the same parameters at step N, bit for bit (dropout
 *     included: every rank's RNG is restored);
 *   - a checkpoint of another world size, a missing file and optimizers
 *     with different settings fail on every rank, naming the cause.
 * mismatch: the last rank builds another model; tl_mpi_check_layout and
 *   tl_mpi_broadcast_params fail on every rank with TL_E_STATE, naming the
 *   rank and the first differing layout line (meson's timeout catches a
 *   hang).
 * crash: the last rank dies in the middle of a step (_exit without
 *   MPI_Finalize) while the others wait in the gradient allreduce: mpirun
 *   must end the whole job with a failure, within the test's timeout
 *   (crash.sh checks the status and that the crash came where planned).
 *
 * Exit status 0 when every check passed on every rank. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl/mpi.h"

#define VOCAB 23
#define EMB 8
#define BS 2 /* rows per rank */
#define BPTT 6
#define N_STEPS 8
#define K_STEPS 3 /* checkpoint after K steps */
#define N_DOCS 40
/* Distributed vs one process, same data and initial parameters, N_STEPS
 * of AdamW (lr 1e-2): the gradients differ only by float32 summation order
 * (the mean over W B rows taken as a mean of W means, each rounded), about
 * 1e-7 relative, and Adam's normalisation keeps that at the level of the
 * parameters' rounding. 2e-5 is two orders of magnitude above what W = 2 and
 * 3 give (measured max |diff| ~ 1e-7) and two below how far the steps move
 * the parameters (checked: > 100 * TOL). */
#define TOL 2e-5

static int rank_, world_;
static int failures_;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", rank_, __FILE__,   \
              __LINE__, #cond);                                                \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      failures_++;                                                             \
    }                                                                          \
  } while (0)

/* A libtl or libtl-mpi call that must succeed: stop the whole job
 * otherwise (a half-failed collective could hang the others). */
#define OK(call)                                                               \
  do {                                                                         \
    tl_status s_ = (call);                                                     \
    if (s_ != TL_OK) {                                                         \
      fprintf(stderr, "rank %d: %s:%d: %s failed: %s / %s\n", rank_, __FILE__, \
              __LINE__, #call, tl_last_error(), tl_mpi_last_error());          \
      MPI_Abort(MPI_COMM_WORLD, 2);                                            \
    }                                                                          \
  } while (0)

/* ---- data and model ------------------------------------------------------ */

static int64_t store[N_DOCS][64];
static const int64_t *docs[N_DOCS];
static size_t lens[N_DOCS];

static void corpus(void) {
  uint64_t x = 12345;
  for (size_t d = 0; d < N_DOCS; d++) {
    lens[d] = 20 + (d * 13) % 31;
    for (size_t i = 0; i < lens[d]; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      /* A little structure to learn: the next id often follows the last. */
      store[d][i] = i > 0 && (x >> 60) < 10 ? (store[d][i - 1] + 1) % VOCAB
                                            : (int64_t)((x >> 33) % VOCAB);
    }
    docs[d] = store[d];
  }
}

static tl_lm_loader *loader(size_t bs, size_t rank, size_t world) {
  tl_lm_loader_options o;
  OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  o.batch_size = bs;
  o.bptt = BPTT;
  o.seed = 7;
  o.rank = rank;
  o.world_size = world;
  tl_lm_loader *ld = NULL;
  OK(tl_lm_loader_create(&ld, docs, lens, N_DOCS, VOCAB, &o));
  return ld;
}

static tl_model *lm(uint64_t seed, float drop, size_t hidden) {
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = seed;
  tl_model *m = NULL;
  OK(tl_model_create(&m, &mo));
  OK(tl_model_add_embedding(m, "emb", VOCAB, EMB, NULL));
  OK(tl_model_add_lstm(m, "rnn", EMB, hidden, 1, NULL));
  if (hidden != EMB)
    OK(tl_model_add_linear(m, "proj", hidden, EMB, TL_ACTIVATION_NONE));
  OK(tl_model_add_dropout(m, "drop", TL_DROPOUT_LOCKED, drop));
  OK(tl_model_add_decoder(m, "dec", EMB, VOCAB, m, "emb"));
  OK(tl_model_set_group(m, "dec", 1));
  return m;
}

static tl_optim *adamw(tl_model *m, double lr) {
  tl_optim_options o;
  OK(tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  o.lr = lr;
  tl_optim *opt = NULL;
  OK(tl_optim_create(&opt, &m, 1, &o));
  return opt;
}

/* One training step on the loader's next batch (the next epoch's first
 * when an epoch ends); ctx NULL: one process, no allreduce. */
static void step(tl_mpi *ctx, tl_model *m, tl_optim *opt, tl_lm_loader *ld,
                 size_t bs, float *dlogits) {
  const int64_t *x, *y;
  size_t t = 0;
  OK(tl_lm_loader_next(&x, &y, &t, ld));
  if (t == 0)
    OK(tl_lm_loader_next(&x, &y, &t, ld));
  const size_t dims[2] = {t, bs};
  const float *logits;
  size_t odims[4], ond;
  OK(tl_model_zero_grad(m));
  OK(tl_model_forward_ids(&logits, odims, &ond, m, x, dims, 2));
  float loss;
  OK(tl_cross_entropy(&loss, dlogits, logits, y, t * bs, VOCAB, -1));
  OK(tl_model_backward(NULL, m, dlogits, odims, ond));
  if (ctx != NULL)
    OK(tl_mpi_allreduce_grads(ctx, m, 1.0));
  OK(tl_optim_step(opt));
}

/* step() with the allreduce overlapped with backward; a rank with fail
 * set reports a failed backward to tl_mpi_overlap_finish, which must then
 * fail on every rank. Returns finish's status. */
static tl_status step_overlap(tl_mpi_overlap *ov, tl_model *m, tl_optim *opt,
                              tl_lm_loader *ld, float *dlogits, int fail) {
  const int64_t *x, *y;
  size_t t = 0;
  OK(tl_lm_loader_next(&x, &y, &t, ld));
  if (t == 0)
    OK(tl_lm_loader_next(&x, &y, &t, ld));
  const size_t dims[2] = {t, BS};
  const float *logits;
  size_t odims[4], ond;
  OK(tl_model_zero_grad(m));
  OK(tl_model_forward_ids(&logits, odims, &ond, m, x, dims, 2));
  float loss;
  OK(tl_cross_entropy(&loss, dlogits, logits, y, t * BS, VOCAB, -1));
  OK(tl_mpi_overlap_begin(ov, 1.0));
  tl_status s =
      fail ? TL_E_NUMERIC : tl_model_backward(NULL, m, dlogits, odims, ond);
  s = tl_mpi_overlap_finish(ov, s);
  if (s == TL_OK)
    OK(tl_optim_step(opt));
  return s;
}

static float *params_copy(tl_model *m, size_t *n) {
  float *p;
  OK(tl_model_flat_params(&p, n, m));
  float *c = malloc(*n * sizeof *c);
  memcpy(c, p, *n * sizeof *c);
  return c;
}

/* 1 on every rank when this rank's flat parameters equal rank 0's bit for
 * bit. */
static int same_as_rank0(tl_model *m) {
  size_t n;
  float *mine = params_copy(m, &n), *r0 = params_copy(m, &n);
  MPI_Bcast(r0, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
  int same = memcmp(mine, r0, n * sizeof *r0) == 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  free(mine);
  free(r0);
  return all;
}

static int mentions(const char *msg, const char *word) {
  return strstr(msg, word) != NULL;
}

/* ---- modes -------------------------------------------------------------- */

static void train_mode(tl_mpi *ctx, const char *dir) {
  static float dlogits[(BPTT + 50) * BS * 3 * VOCAB];
  const size_t W = (size_t)world_, r = (size_t)rank_;
  char path[512], path2[512];
  snprintf(path, sizeof path, "%s/mpi_w%zu.tlck", dir, W);
  snprintf(path2, sizeof path2, "%s/mpi_w%zu_other_world.tlck", dir, W);

  /* 1. Dropout on, per-rank seeds: broadcast, N steps, checkpoint at K. */
  tl_model *m = lm(100 + r, 0.3f, EMB);
  tl_optim *opt = adamw(m, 1e-2);
  tl_lm_loader *ld = loader(BS, r, W);
  CHECK(tl_mpi_check_params_in_sync(ctx, m) == TL_E_STATE,
        "different seeds must differ before the broadcast");
  OK(tl_mpi_broadcast_params(ctx, m, 0));
  OK(tl_mpi_check_layout(ctx, m));
  OK(tl_mpi_check_optim(ctx, opt));
  OK(tl_mpi_check_params_in_sync(ctx, m));
  for (size_t s = 0; s < N_STEPS; s++) {
    step(ctx, m, opt, ld, BS, dlogits);
    if (s + 1 == K_STEPS)
      OK(tl_mpi_save(ctx, path, m, opt, K_STEPS));
  }
  CHECK(same_as_rank0(m), "parameters differ from rank 0's after %d steps",
        N_STEPS);
  OK(tl_mpi_check_params_in_sync(ctx, m));
  size_t n;
  float *want = params_copy(m, &n);

  /* 2. Exact resume from step K with fresh objects (other seed, other
   * initial values): the same bits at step N. */
  tl_model *m2 = lm(999 + r, 0.3f, EMB);
  tl_optim *opt2 = adamw(m2, 1e-2);
  tl_lm_loader *ld2 = loader(BS, r, W);
  uint64_t at = 0;
  OK(tl_mpi_load(ctx, path, m2, opt2, &at));
  CHECK(at == K_STEPS, "step %" PRIu64, at);
  OK(tl_mpi_lm_loader_skip(ld2, at));
  for (size_t s = K_STEPS; s < N_STEPS; s++)
    step(ctx, m2, opt2, ld2, BS, dlogits);
  float *got = params_copy(m2, &n);
  CHECK(memcmp(got, want, n * sizeof *got) == 0,
        "resumed run differs from the uninterrupted one");
  free(got);

  /* 3. Bad checkpoints and settings, reported on every rank. */
  if (rank_ == 0) { /* the checkpoint as a run of W + 1 ranks would have */
    tl_ckpt *ck = NULL;
    OK(tl_ckpt_load(&ck, path, NULL));
    char ws[16];
    snprintf(ws, sizeof ws, "%zu", W + 1);
    OK(tl_ckpt_set_meta(ck, TL_MPI_META_WORLD_SIZE, ws));
    OK(tl_ckpt_save(ck, path2));
    tl_ckpt_free(ck);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  tl_status s = tl_mpi_load(ctx, path2, m2, opt2, NULL);
  CHECK(s == TL_E_STATE, "%s", tl_status_string(s));
  CHECK(mentions(tl_mpi_last_error(), "world size") &&
            mentions(tl_mpi_last_error(), "tl_mpi_load"),
        "message: %s", tl_mpi_last_error());
  char missing[600];
  snprintf(missing, sizeof missing, "%s/no_such_checkpoint.tlck", dir);
  s = tl_mpi_load(ctx, missing, m2, opt2, NULL);
  CHECK(s == TL_E_IO, "%s", tl_status_string(s));
  CHECK(mentions(tl_mpi_last_error(), "no_such_checkpoint") &&
            (rank_ == 0 || mentions(tl_mpi_last_error(), "rank 0 failed")),
        "message: %s", tl_mpi_last_error());
  if (rank_ == world_ - 1)
    OK(tl_optim_set_group_lr(opt2, 1, 5e-3));
  s = tl_mpi_check_optim(ctx, opt2);
  CHECK(s == TL_E_STATE, "%s", tl_status_string(s));
  char want_msg[128];
  snprintf(want_msg, sizeof want_msg,
           "rank %d's optimizer has lr 0.0050000000000000001 in group 1",
           world_ - 1);
  CHECK(mentions(tl_mpi_last_error(), want_msg), "message: %s",
        tl_mpi_last_error());
  CHECK(tl_mpi_allreduce_grads(ctx, m2, rank_ == 0 ? -1.0 : 1.0) ==
            TL_E_INVALID_ARG,
        "negative weight");
  CHECK(mentions(tl_mpi_last_error(), "weight must be finite and >= 0") &&
            (rank_ == 0 || mentions(tl_mpi_last_error(), "rank 0 failed")),
        "message: %s", tl_mpi_last_error());

  free(want);
  tl_lm_loader_free(ld2);
  tl_optim_free(opt2);
  tl_model_free(m2);
  tl_lm_loader_free(ld);
  tl_optim_free(opt);
  tl_model_free(m);

  /* 4. Without dropout: W ranks of BS rows equal one process of W * BS
   * rows on the same stream, within TOL. */
  tl_model *d = lm(100 + r, 0.0f, EMB);
  tl_optim *dopt = adamw(d, 1e-2);
  tl_lm_loader *dld = loader(BS, r, W);
  OK(tl_mpi_broadcast_params(ctx, d, 0));
  float *init = params_copy(d, &n);
  for (size_t k = 0; k < N_STEPS; k++)
    step(ctx, d, dopt, dld, BS, dlogits);
  CHECK(same_as_rank0(d), "parameters differ from rank 0's (no dropout)");
  float *blocking = params_copy(d, &n);
  if (rank_ == 0) {
    tl_model *one = lm(100, 0.0f, EMB); /* rank 0's seed: the broadcast */
    tl_optim *oopt = adamw(one, 1e-2);
    tl_lm_loader *old = loader(BS * W, 0, 1);
    for (size_t k = 0; k < N_STEPS; k++)
      step(NULL, one, oopt, old, BS * W, dlogits);
    float *a = params_copy(d, &n), *b = params_copy(one, &n);
    double diff = 0.0, moved = 0.0;
    for (size_t i = 0; i < n; i++) {
      diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
      moved = fmax(moved, fabs((double)b[i] - (double)init[i]));
    }
    printf("world %d: %zu parameters, max |distributed - one process| = "
           "%.3g (tolerance %g), max |step %d - initial| = %.3g\n",
           world_, n, diff, TOL, N_STEPS, moved);
    CHECK(diff <= TOL, "max diff %g > %g", diff, TOL);
    CHECK(moved > 100 * TOL, "training barely moved: %g", moved);
    free(a);
    free(b);
    tl_lm_loader_free(old);
    tl_optim_free(oopt);
    tl_model_free(one);
  }
  free(init);

  /* 5. The weighted mean (a classifier's shares of unequal size): rank r
   * sends g_r[i] = (r + 1) (i % 7 + 1) / 8 with weight r + 1, so every
   * rank must get sum_r (r + 1)^2 (i % 7 + 1) / 8 / sum_r (r + 1), the
   * same bits everywhere. */
  float *g;
  OK(tl_model_flat_grads(&g, &n, d));
  for (size_t i = 0; i < n; i++)
    g[i] = (float)(r + 1) * (float)(i % 7 + 1) / 8.0f;
  OK(tl_mpi_allreduce_grads(ctx, d, (double)(r + 1)));
  double sq = 0.0, sw = 0.0, worst = 0.0;
  for (size_t k = 1; k <= W; k++) {
    sq += (double)(k * k);
    sw += (double)k;
  }
  for (size_t i = 0; i < n; i++) {
    const double want_g = sq * (double)(i % 7 + 1) / 8.0 / sw;
    worst = fmax(worst, fabs((double)g[i] - want_g) / want_g);
  }
  CHECK(worst < 1e-6, "weighted mean off by %g (relative)", worst);
  float *g0 = malloc(n * sizeof *g0);
  memcpy(g0, g, n * sizeof *g0);
  MPI_Bcast(g0, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
  CHECK(memcmp(g0, g, n * sizeof *g0) == 0,
        "weighted mean differs from rank 0's");
  free(g0);
  /* All weights 0: nothing to average, an error on every rank. */
  CHECK(tl_mpi_allreduce_grads(ctx, d, 0.0) == TL_E_INVALID_ARG &&
            mentions(tl_mpi_last_error(), "the weights of all ranks sum to 0"),
        "message: %s", tl_mpi_last_error());

  tl_lm_loader_free(dld);
  tl_optim_free(dopt);
  tl_model_free(d);

  /* 6. The same training with the allreduce overlapped with backward, in
   * buckets of 64 floats (13 buckets, started while backward runs): the
   * same bits on every rank, the blocking run's parameters within TOL. A
   * backward failing on the last rank fails the step on every rank, and
   * the next steps still run (every rank made the same MPI calls). */
  tl_model *o = lm(100 + r, 0.0f, EMB);
  tl_optim *oopt = adamw(o, 1e-2);
  tl_lm_loader *old = loader(BS, r, W);
  OK(tl_mpi_broadcast_params(ctx, o, 0));
  tl_mpi_overlap *ov = NULL;
  OK(tl_mpi_overlap_create(&ov, ctx, o, 64 * sizeof(float)));
  for (size_t k = 0; k < N_STEPS; k++)
    OK(step_overlap(ov, o, oopt, old, dlogits, 0));
  CHECK(same_as_rank0(o), "overlapped: parameters differ from rank 0's");
  float *ovp = params_copy(o, &n);
  double odiff = 0.0;
  for (size_t i = 0; i < n; i++)
    odiff = fmax(odiff, fabs((double)ovp[i] - (double)blocking[i]));
  CHECK(odiff <= TOL, "overlapped vs blocking: %g", odiff);
  if (rank_ == 0)
    printf("world %d: max |overlapped - blocking allreduce| = %.3g\n", world_,
           odiff);
  s = step_overlap(ov, o, oopt, old, dlogits, rank_ == world_ - 1);
  CHECK(s == TL_E_NUMERIC, "%s", tl_status_string(s));
  CHECK(mentions(tl_mpi_last_error(), "backward failed on this rank") &&
            (rank_ == world_ - 1 || mentions(tl_mpi_last_error(), "failed: ")),
        "message: %s", tl_mpi_last_error());
  OK(step_overlap(ov, o, oopt, old, dlogits, 0));
  CHECK(same_as_rank0(o), "parameters differ after a failed step");
  CHECK(tl_mpi_overlap_begin(ov, -2.0) == TL_E_INVALID_ARG, "bad weight");
  s = tl_mpi_overlap_finish(ov, TL_OK);
  CHECK(s == TL_E_INVALID_ARG &&
            mentions(tl_mpi_last_error(), "weight must be finite"),
        "%s: %s", tl_status_string(s), tl_mpi_last_error());
  tl_mpi_overlap_free(ov);
  free(ovp);
  free(blocking);
  tl_lm_loader_free(old);
  tl_optim_free(oopt);
  tl_model_free(o);
}

static void mismatch_mode(tl_mpi *ctx) {
  const int last = world_ - 1;
  tl_model *m = lm(1, 0.0f, rank_ == last ? 12 : EMB);
  char want[200];
  snprintf(want, sizeof want, "rank %d's model layout differs from rank 0's",
           last);
  tl_status s = tl_mpi_check_layout(ctx, m);
  CHECK(s == TL_E_STATE, "%s", tl_status_string(s));
  CHECK(mentions(tl_mpi_last_error(), want) &&
            mentions(tl_mpi_last_error(),
                     "line 4: rank 0 has 'layer 1 rnn lstm group 1 in 8 out "
                     "8', rank") &&
            mentions(tl_mpi_last_error(), "has 'layer 1 rnn lstm group 1 "
                                          "in 8 out 12'"),
        "message: %s", tl_mpi_last_error());
  s = tl_mpi_broadcast_params(ctx, m, 0);
  CHECK(s == TL_E_STATE, "%s", tl_status_string(s));
  CHECK(mentions(tl_mpi_last_error(), "tl_mpi_broadcast_params: "
                                      "tl_mpi_check_layout: rank") &&
            mentions(tl_mpi_last_error(), want),
        "message: %s", tl_mpi_last_error());
  if (rank_ == 0)
    printf("every rank: %s\n", tl_mpi_last_error());
  tl_model_free(m);
}

static void crash_mode(tl_mpi *ctx) {
  static float dlogits[(BPTT + 50) * BS * VOCAB];
  tl_model *m = lm(3, 0.0f, EMB);
  tl_optim *opt = adamw(m, 1e-2);
  tl_lm_loader *ld = loader(BS, (size_t)rank_, (size_t)world_);
  OK(tl_mpi_broadcast_params(ctx, m, 0));
  step(ctx, m, opt, ld, BS, dlogits);
  if (rank_ == world_ - 1) {
    fprintf(stderr, "rank %d: dying in the middle of step 2\n", rank_);
    _exit(3); /* no MPI_Finalize: a crashed process */
  }
  step(ctx, m, opt, ld, BS, dlogits); /* waits in the allreduce */
  fprintf(stderr, "rank %d: the allreduce returned without rank %d\n", rank_,
          world_ - 1);
  tl_lm_loader_free(ld);
  tl_optim_free(opt);
  tl_model_free(m);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world_);
  if (argc < 2) {
    fprintf(stderr, "usage: test_mpi train DIR | mismatch | crash\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  corpus();
  tl_mpi *ctx = NULL;
  OK(tl_mpi_create(&ctx, MPI_COMM_WORLD));
  if (strcmp(argv[1], "train") == 0 && argc == 3)
    train_mode(ctx, argv[2]);
  else if (strcmp(argv[1], "mismatch") == 0)
    mismatch_mode(ctx);
  else if (strcmp(argv[1], "crash") == 0)
    crash_mode(ctx);
  else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  tl_mpi_free(ctx);
  int total = 0;
  MPI_Allreduce(&failures_, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank_ == 0)
    printf("%s, %d ranks: %d failed checks\n", argv[1], world_, total);
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
