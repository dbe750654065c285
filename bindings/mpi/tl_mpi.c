/* libtl-mpi: see include/tl/mpi.h and docs/distributed.md. Uses libtl's
 * public API only, and MPI.
 *
 * Failure agreement: a function that can fail on some ranks only (a bad
 * argument, a file rank 0 cannot write, a layout) ends with tli_agree, an
 * MPI_Allgather of every rank's status; when any failed, the lowest failing
 * rank broadcasts its message and every rank returns its status. So all
 * ranks leave every call together and take the same branch afterwards. */
#include "tl/mpi.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLI_MPI_MSG 1024
/* Largest count of one MPI call: an int, kept well inside it. */
#define TLI_MPI_CHUNK ((size_t)1 << 30)

struct tl_mpi {
  MPI_Comm comm;
  int rank, size;
};

static _Thread_local char tli_mpi_msg[TLI_MPI_MSG];

const char *tl_mpi_last_error(void) { return tli_mpi_msg; }

static tl_status tli_mpi_fail(tl_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tli_mpi_msg, sizeof tli_mpi_msg, fmt, ap);
  va_end(ap);
  return s;
}

/* A libtl call failed: keep its message. */
static tl_status tli_mpi_from_tl(tl_status s, const char *fn) {
  return tli_mpi_fail(s, "%s: %s", fn, tl_last_error());
}

#define TLI_MPI_TRY_TL(call, fn)                                               \
  do {                                                                         \
    tl_status s_ = (call);                                                     \
    if (s_ != TL_OK)                                                           \
      return tli_mpi_from_tl(s_, (fn));                                        \
  } while (0)

/* Every rank's status in; the same status and message out on every rank
 * (the lowest failing rank's). Two small collectives, no allocation. */
static tl_status tli_agree(const tl_mpi *ctx, tl_status mine) {
  int me = mine != TL_OK ? ctx->rank : INT_MAX, first = INT_MAX;
  MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, ctx->comm);
  if (first == INT_MAX)
    return TL_OK;
  struct {
    int status;
    char msg[TLI_MPI_MSG];
  } m;
  if (ctx->rank == first) {
    m.status = (int)mine;
    memcpy(m.msg, tli_mpi_msg, sizeof m.msg);
  }
  MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, ctx->comm);
  m.msg[sizeof m.msg - 1] = '\0';
  if (ctx->rank != first)
    tli_mpi_fail((tl_status)m.status, "rank %d failed: %s", first, m.msg);
  return (tl_status)m.status;
}

tl_status tl_mpi_create(tl_mpi **out, MPI_Comm comm) {
  const char *fn = "tl_mpi_create";
  if (out == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'out' is NULL", fn);
  int init = 0;
  MPI_Initialized(&init);
  if (!init)
    return tli_mpi_fail(TL_E_INVALID_ARG,
                        "%s: MPI is not initialised (call MPI_Init first)", fn);
  if (comm == MPI_COMM_NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: comm is MPI_COMM_NULL", fn);
  tl_mpi *ctx = malloc(sizeof *ctx);
  /* Collective even on failure: every rank duplicates, then agrees. */
  MPI_Comm dup = MPI_COMM_NULL;
  MPI_Comm_dup(comm, &dup);
  int ok = ctx != NULL, all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, dup);
  if (!all_ok) {
    free(ctx);
    MPI_Comm_free(&dup);
    return tli_mpi_fail(TL_E_NOMEM, "%s: out of memory on %s rank", fn,
                        ok ? "another" : "this");
  }
  ctx->comm = dup;
  MPI_Comm_rank(dup, &ctx->rank);
  MPI_Comm_size(dup, &ctx->size);
  *out = ctx;
  return TL_OK;
}

void tl_mpi_free(tl_mpi *ctx) {
  if (ctx == NULL)
    return;
  MPI_Comm_free(&ctx->comm);
  free(ctx);
}

tl_status tl_mpi_rank(size_t *out, const tl_mpi *ctx) {
  if (out == NULL || ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "tl_mpi_rank: argument '%s' is NULL",
                        out == NULL ? "out" : "ctx");
  *out = (size_t)ctx->rank;
  return TL_OK;
}

tl_status tl_mpi_size(size_t *out, const tl_mpi *ctx) {
  if (out == NULL || ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "tl_mpi_size: argument '%s' is NULL",
                        out == NULL ? "out" : "ctx");
  *out = (size_t)ctx->size;
  return TL_OK;
}

/* ---- comparing ranks ---------------------------------------------------- */

/* Broadcasts n bytes from root, in int-sized chunks. */
static void tli_bcast_bytes(void *buf, size_t n, int root, MPI_Comm comm) {
  for (size_t o = 0; o < n; o += TLI_MPI_CHUNK) {
    const size_t k = n - o < TLI_MPI_CHUNK ? n - o : TLI_MPI_CHUNK;
    MPI_Bcast((char *)buf + o, (int)k, MPI_BYTE, root, comm);
  }
}

/* The lowest rank whose value differs from rank 0's (-1: none), with
 * rank 0's value in *v0 and that rank's in *vb, on every rank. */
static int tli_first_differing(const tl_mpi *ctx, uint64_t mine, uint64_t *v0,
                               uint64_t *vb) {
  uint64_t zero = mine;
  MPI_Bcast(&zero, 1, MPI_UINT64_T, 0, ctx->comm);
  int me = mine != zero ? ctx->rank : INT_MAX, bad = INT_MAX;
  MPI_Allreduce(&me, &bad, 1, MPI_INT, MPI_MIN, ctx->comm);
  *v0 = *vb = zero;
  if (bad == INT_MAX)
    return -1;
  *vb = mine;
  MPI_Bcast(vb, 1, MPI_UINT64_T, bad, ctx->comm);
  return bad;
}

/* Copies line `line` (0-based) of text into out (cap bytes). */
static void tli_line(char *out, size_t cap, const char *text, size_t line) {
  const char *p = text;
  for (size_t l = 0; l < line && p; l++) {
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  if (p == NULL) {
    snprintf(out, cap, "(no line)");
    return;
  }
  size_t n = strcspn(p, "\n");
  if (n >= cap)
    n = cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

/* The first line where a and b differ (0-based). */
static size_t tli_first_line_diff(const char *a, const char *b) {
  size_t line = 0;
  for (size_t i = 0;; i++) {
    if (a[i] != b[i] || a[i] == '\0')
      return line;
    if (a[i] == '\n')
      line++;
  }
}

/* The layout text of model on rank `from`, received by every rank (NULL
 * when out of memory anywhere; the caller then reports without lines). */
static char *tli_layout_of(const tl_mpi *ctx, const tl_model *model, int from) {
  size_t len = 0;
  char *text = NULL;
  if (ctx->rank == from) {
    tl_model_layout_describe(NULL, 0, &len, model);
    text = malloc(len + 1);
    if (text == NULL ||
        tl_model_layout_describe(text, len + 1, NULL, model) != TL_OK)
      len = SIZE_MAX; /* tells the others to give up too */
  }
  uint64_t n = len;
  MPI_Bcast(&n, 1, MPI_UINT64_T, from, ctx->comm);
  if (n == SIZE_MAX) {
    free(text);
    return NULL;
  }
  if (ctx->rank != from)
    text = malloc((size_t)n + 1);
  int ok = text != NULL, all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, ctx->comm);
  if (!all_ok) {
    free(text);
    return NULL;
  }
  tli_bcast_bytes(text, (size_t)n, from, ctx->comm);
  text[n] = '\0';
  return text;
}

tl_status tl_mpi_check_layout(tl_mpi *ctx, const tl_model *model) {
  const char *fn = "tl_mpi_check_layout";
  if (ctx == NULL) /* not collective without a context: local error */
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  uint64_t mine = 0;
  tl_status s = model == NULL ? tli_mpi_fail(TL_E_INVALID_ARG,
                                             "%s: argument 'model' is NULL", fn)
                              : TL_OK;
  if (s == TL_OK && (s = tl_model_layout_fingerprint(&mine, model)) != TL_OK)
    tli_mpi_from_tl(s, fn);
  if ((s = tli_agree(ctx, s)) != TL_OK)
    return s;
  uint64_t f0 = 0, fb = 0;
  const int bad = tli_first_differing(ctx, mine, &f0, &fb);
  if (bad < 0)
    return TL_OK;
  /* Every rank knows that rank `bad` differs: all take this branch, so the
   * broadcasts below match. */
  char *t0 = tli_layout_of(ctx, model, 0);
  char *tb = t0 ? tli_layout_of(ctx, model, bad) : NULL;
  if (t0 == NULL || tb == NULL) {
    free(t0);
    free(tb);
    return tli_mpi_fail(TL_E_STATE,
                        "%s: rank %d's model layout differs from rank 0's "
                        "(fingerprint 0x%016" PRIx64 ", rank 0's 0x%016" PRIx64
                        ")",
                        fn, bad, fb, f0);
  }
  const size_t line = tli_first_line_diff(t0, tb);
  char l0[256], lb[256];
  tli_line(l0, sizeof l0, t0, line);
  tli_line(lb, sizeof lb, tb, line);
  free(t0);
  free(tb);
  return tli_mpi_fail(TL_E_STATE,
                      "%s: rank %d's model layout differs from rank 0's "
                      "(fingerprint 0x%016" PRIx64 ", rank 0's 0x%016" PRIx64
                      "): line %zu: rank 0 has '%s', rank %d has '%s'",
                      fn, bad, fb, f0, line + 1, l0, bad, lb);
}

/* FNV-1a 64 over bytes, continued from h. */
static uint64_t tli_fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}
#define TLI_FNV0 0xcbf29ce484222325ull

/* The optimizer settings every rank must share, in a fixed-size record:
 * groups, step count, state size, and the first group/hyperparameter
 * where a rank differs is found by comparing the per-group hashes. */
#define TLI_HPARAMS 5
typedef struct tli_optim_sig {
  uint64_t groups, steps, state_size, hash;
} tli_optim_sig;

static tl_status tli_optim_sig_of(tli_optim_sig *sig, const tl_optim *o) {
  size_t g = 0, state = 0;
  uint64_t steps = 0;
  tl_status s;
  if ((s = tl_optim_num_groups(&g, o)) != TL_OK ||
      (s = tl_optim_step_count(&steps, o)) != TL_OK ||
      (s = tl_optim_state_size(&state, o)) != TL_OK)
    return s;
  uint64_t h = TLI_FNV0;
  for (size_t k = 0; k < g; k++)
    for (int w = 0; w < TLI_HPARAMS; w++) {
      double v = 0.0;
      if ((s = tl_optim_get_group_hparam(&v, o, k, (tl_optim_hparam)w)) !=
          TL_OK)
        return s;
      h = tli_fnv(h, &v, sizeof v);
    }
  sig->groups = g;
  sig->steps = steps;
  sig->state_size = state;
  sig->hash = h;
  return TL_OK;
}

static const char *const tli_hparam_names[TLI_HPARAMS] = {
    "lr", "momentum", "beta2", "eps", "weight_decay"};

tl_status tl_mpi_check_optim(tl_mpi *ctx, const tl_optim *optim) {
  const char *fn = "tl_mpi_check_optim";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  tli_optim_sig mine = {0, 0, 0, 0};
  tl_status s = optim == NULL ? tli_mpi_fail(TL_E_INVALID_ARG,
                                             "%s: argument 'optim' is NULL", fn)
                              : TL_OK;
  if (s == TL_OK && (s = tli_optim_sig_of(&mine, optim)) != TL_OK)
    tli_mpi_from_tl(s, fn);
  if ((s = tli_agree(ctx, s)) != TL_OK)
    return s;
  /* One hash of the record per rank finds the rank; rank 0's and that
   * rank's records are then compared field by field. */
  uint64_t h0 = 0, hb = 0;
  const int bad =
      tli_first_differing(ctx, tli_fnv(TLI_FNV0, &mine, sizeof mine), &h0, &hb);
  if (bad < 0)
    return TL_OK;
  tli_optim_sig s0 = mine, sb = mine;
  MPI_Bcast(&s0, 4, MPI_UINT64_T, 0, ctx->comm);
  MPI_Bcast(&sb, 4, MPI_UINT64_T, bad, ctx->comm);
  if (s0.groups != sb.groups)
    return tli_mpi_fail(TL_E_STATE,
                        "%s: rank %d's optimizer has %" PRIu64
                        " parameter groups, rank 0's %" PRIu64,
                        fn, bad, sb.groups, s0.groups);
  if (s0.state_size != sb.state_size)
    return tli_mpi_fail(TL_E_STATE,
                        "%s: rank %d's optimizer state is %" PRIu64
                        " bytes, rank 0's %" PRIu64
                        " (another optimizer kind or parameter set)",
                        fn, bad, sb.state_size, s0.state_size);
  if (s0.steps != sb.steps)
    return tli_mpi_fail(TL_E_STATE,
                        "%s: rank %d's optimizer has taken %" PRIu64
                        " steps, rank 0's %" PRIu64,
                        fn, bad, sb.steps, s0.steps);
  /* Hyperparameters: find the first differing one, group by group. */
  for (uint64_t g = 0; g < s0.groups; g++)
    for (int w = 0; w < TLI_HPARAMS; w++) {
      double v = 0.0, v0, vb;
      tl_optim_get_group_hparam(&v, optim, (size_t)g, (tl_optim_hparam)w);
      v0 = vb = v;
      MPI_Bcast(&v0, 1, MPI_DOUBLE, 0, ctx->comm);
      MPI_Bcast(&vb, 1, MPI_DOUBLE, bad, ctx->comm);
      if (memcmp(&v0, &vb, sizeof v0) != 0)
        return tli_mpi_fail(TL_E_STATE,
                            "%s: rank %d's optimizer has %s %.17g in group "
                            "%" PRIu64 ", rank 0's %.17g",
                            fn, bad, tli_hparam_names[w], vb, g, v0);
    }
  return tli_mpi_fail(TL_E_INTERNAL,
                      "%s: rank %d's optimizer differs from "
                      "rank 0's, but no field does",
                      fn, bad);
}

tl_status tl_mpi_check_params_in_sync(tl_mpi *ctx, const tl_model *model) {
  const char *fn = "tl_mpi_check_params_in_sync";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  float *p = NULL;
  size_t n = 0;
  tl_status s = model == NULL ? tli_mpi_fail(TL_E_INVALID_ARG,
                                             "%s: argument 'model' is NULL", fn)
                              : TL_OK;
  /* flat_params takes a non-const model for its writable view; this only
   * reads through it. */
  if (s == TL_OK &&
      (s = tl_model_flat_params(&p, &n, (tl_model *)(uintptr_t)model)) != TL_OK)
    tli_mpi_from_tl(s, fn);
  if ((s = tli_agree(ctx, s)) != TL_OK)
    return s;
  const uint64_t h = tli_fnv(tli_fnv(TLI_FNV0, &n, sizeof n), p, n * sizeof *p);
  uint64_t h0 = 0, hb = 0;
  const int bad = tli_first_differing(ctx, h, &h0, &hb);
  if (bad < 0)
    return TL_OK;
  return tli_mpi_fail(TL_E_STATE,
                      "%s: rank %d's parameters differ from rank 0's: the "
                      "ranks have diverged (different data order, optimizer "
                      "settings or a step taken on some ranks only)",
                      fn, bad);
}

/* ---- parameters and gradients -------------------------------------------
 */

tl_status tl_mpi_broadcast_params(tl_mpi *ctx, tl_model *model, size_t root) {
  const char *fn = "tl_mpi_broadcast_params";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  tl_status s = root < (size_t)ctx->size
                    ? TL_OK
                    : tli_mpi_fail(TL_E_INVALID_ARG,
                                   "%s: root %zu is outside the %d ranks", fn,
                                   root, ctx->size);
  if ((s = tli_agree(ctx, s)) != TL_OK)
    return s;
  if ((s = tl_mpi_check_layout(ctx, model)) != TL_OK) {
    /* Keep the check's message, under this function's name. */
    char msg[TLI_MPI_MSG];
    memcpy(msg, tli_mpi_msg, sizeof msg);
    return tli_mpi_fail(s, "%s: %s", fn, msg);
  }
  float *p = NULL;
  size_t n = 0;
  tl_model_flat_params(&p, &n, model); /* checked by the layout check */
  for (size_t o = 0; o < n; o += TLI_MPI_CHUNK) {
    const size_t k = n - o < TLI_MPI_CHUNK ? n - o : TLI_MPI_CHUNK;
    MPI_Bcast(p + o, (int)k, MPI_FLOAT, (int)root, ctx->comm);
  }
  return TL_OK;
}

tl_status tl_mpi_allreduce_grads(tl_mpi *ctx, tl_model *model, double weight) {
  const char *fn = "tl_mpi_allreduce_grads";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  float *g = NULL;
  size_t n = 0;
  tl_status s = TL_OK;
  if (model == NULL)
    s = tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'model' is NULL", fn);
  else if (!(weight >= 0.0) || !isfinite(weight))
    s = tli_mpi_fail(TL_E_INVALID_ARG,
                     "%s: weight must be finite and >= 0 (got %g)", fn, weight);
  else if ((s = tl_model_flat_grads(&g, &n, model)) != TL_OK)
    tli_mpi_from_tl(s, fn);
  /* The weights' sum doubles as the agreement: a failed rank sends NaN,
   * so no rank reduces gradients unless all can (one allreduce, not two). */
  double w[2] = {s == TL_OK ? weight : NAN, s == TL_OK ? 0.0 : 1.0}, tot[2];
  MPI_Allreduce(w, tot, 2, MPI_DOUBLE, MPI_SUM, ctx->comm);
  if (tot[1] != 0.0) /* some rank failed: say which */
    return tli_agree(ctx, s);
  if (!(tot[0] > 0.0))
    return tli_mpi_fail(TL_E_INVALID_ARG,
                        "%s: the weights of all ranks sum to %g: nothing to "
                        "average",
                        fn, tot[0]);
  if (weight != 1.0)
    for (size_t i = 0; i < n; i++)
      g[i] *= (float)weight;
  for (size_t o = 0; o < n; o += TLI_MPI_CHUNK) {
    const size_t k = n - o < TLI_MPI_CHUNK ? n - o : TLI_MPI_CHUNK;
    MPI_Allreduce(MPI_IN_PLACE, g + o, (int)k, MPI_FLOAT, MPI_SUM, ctx->comm);
  }
  const float scale = (float)(1.0 / tot[0]);
  for (size_t i = 0; i < n; i++)
    g[i] *= scale;
  return TL_OK;
}

/* ---- allreduce overlapped with backward ---------------------------------
 */

struct tl_mpi_overlap {
  tl_mpi *ctx;
  tl_model *model;
  size_t numel;  /* the flat gradient's length at create */
  size_t bucket; /* floats per bucket (the lowest one may be shorter) */
  size_t n_buckets, next; /* buckets started so far in this step */
  MPI_Request *req;
  float *scratch; /* what a rank that cannot use its gradient sends */
  double weight;
  tl_status begin_status;
  int armed;
};

/* Bucket k covers [lo, hi) with hi = numel - k * bucket: the first bucket
 * holds the last layers' gradients, which backward finishes first. */
static size_t tli_bucket_lo(const tl_mpi_overlap *ov, size_t k) {
  const size_t hi = ov->numel - k * ov->bucket;
  return hi > ov->bucket ? hi - ov->bucket : 0;
}

static void tli_bucket_start(tl_mpi_overlap *ov, size_t k, float *g) {
  const size_t lo = tli_bucket_lo(ov, k), hi = ov->numel - k * ov->bucket;
  float *p = g != NULL ? g + lo : ov->scratch;
  if (g != NULL && ov->weight != 1.0)
    for (size_t i = 0; i < hi - lo; i++)
      p[i] *= (float)ov->weight;
  MPI_Iallreduce(MPI_IN_PLACE, p, (int)(hi - lo), MPI_FLOAT, MPI_SUM,
                 ov->ctx->comm, &ov->req[k]);
  if (g == NULL) /* the scratch is reused by the next bucket */
    MPI_Wait(&ov->req[k], MPI_STATUS_IGNORE);
}

/* The model's gradient-ready callback: start every bucket that lies in
 * the final tail [offset, numel), then let MPI progress the others. */
static void tli_overlap_ready(void *payload, const tl_model *model,
                              size_t offset) {
  tl_mpi_overlap *ov = payload;
  if (!ov->armed || ov->begin_status != TL_OK)
    return;
  float *g = NULL;
  size_t n = 0;
  tl_model_flat_grads(&g, &n, (tl_model *)(uintptr_t)model);
  const size_t before = ov->next;
  while (ov->next < ov->n_buckets && tli_bucket_lo(ov, ov->next) >= offset)
    tli_bucket_start(ov, ov->next++, g);
  if (ov->next > 0 && before != ov->next) {
    int done = 0;
    MPI_Testall((int)ov->next, ov->req, &done, MPI_STATUSES_IGNORE);
  }
}

tl_status tl_mpi_overlap_create(tl_mpi_overlap **out, tl_mpi *ctx,
                                tl_model *model, size_t bucket_bytes) {
  const char *fn = "tl_mpi_overlap_create";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  tl_status s = TL_OK;
  if (out == NULL || model == NULL)
    s = tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument '%s' is NULL", fn,
                     out == NULL ? "out" : "model");
  else if (bucket_bytes < sizeof(float) || bucket_bytes > ((size_t)1 << 32))
    s = tli_mpi_fail(TL_E_INVALID_ARG,
                     "%s: bucket_bytes must be in [4, 2^32] (got %zu)", fn,
                     bucket_bytes);
  if ((s = tli_agree(ctx, s)) != TL_OK)
    return s;
  if ((s = tl_mpi_check_layout(ctx, model)) != TL_OK) {
    char msg[TLI_MPI_MSG];
    memcpy(msg, tli_mpi_msg, sizeof msg);
    return tli_mpi_fail(s, "%s: %s", fn, msg);
  }
  float *g = NULL;
  size_t n = 0;
  tl_model_flat_grads(&g, &n, model);
  const size_t bucket = bucket_bytes / sizeof(float);
  const size_t nb = n == 0 ? 0 : (n + bucket - 1) / bucket;
  tl_mpi_overlap *ov = calloc(1, sizeof *ov);
  if (ov != NULL) {
    ov->req = malloc((nb ? nb : 1) * sizeof *ov->req);
    ov->scratch = calloc(bucket < n ? bucket : (n ? n : 1), sizeof(float));
  }
  if (ov == NULL || ov->req == NULL || ov->scratch == NULL)
    s = tli_mpi_fail(TL_E_NOMEM, "%s: out of memory (%zu buckets)", fn, nb);
  if ((s = tli_agree(ctx, s)) != TL_OK) {
    if (ov != NULL) {
      free(ov->req);
      free(ov->scratch);
      free(ov);
    }
    return s;
  }
  ov->ctx = ctx;
  ov->model = model;
  ov->numel = n;
  ov->bucket = bucket;
  ov->n_buckets = nb;
  for (size_t k = 0; k < nb; k++)
    ov->req[k] = MPI_REQUEST_NULL;
  tl_model_set_grad_ready_callback(model, tli_overlap_ready, ov);
  *out = ov;
  return TL_OK;
}

void tl_mpi_overlap_free(tl_mpi_overlap *ov) {
  if (ov == NULL)
    return;
  tl_model_set_grad_ready_callback(ov->model, NULL, NULL);
  free(ov->req);
  free(ov->scratch);
  free(ov);
}

tl_status tl_mpi_overlap_begin(tl_mpi_overlap *ov, double weight) {
  const char *fn = "tl_mpi_overlap_begin";
  if (ov == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ov' is NULL", fn);
  float *g = NULL;
  size_t n = 0;
  tl_model_flat_grads(&g, &n, ov->model);
  ov->next = 0;
  ov->weight = weight;
  ov->armed = 1;
  ov->begin_status = TL_OK;
  if (!(weight >= 0.0) || !isfinite(weight))
    ov->begin_status =
        tli_mpi_fail(TL_E_INVALID_ARG,
                     "%s: weight must be finite and >= 0 (got %g)", fn, weight);
  else if (n != ov->numel)
    ov->begin_status =
        tli_mpi_fail(TL_E_STATE,
                     "%s: the model's gradient has %zu floats, %zu at "
                     "tl_mpi_overlap_create: its structure changed",
                     fn, n, ov->numel);
  return ov->begin_status;
}

tl_status tl_mpi_overlap_finish(tl_mpi_overlap *ov, tl_status backward_status) {
  const char *fn = "tl_mpi_overlap_finish";
  if (ov == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ov' is NULL", fn);
  tl_status s = TL_OK;
  if (!ov->armed)
    s = tli_mpi_fail(TL_E_STATE, "%s: no tl_mpi_overlap_begin before it", fn);
  else if (ov->begin_status != TL_OK)
    s = ov->begin_status; /* its message is still the last one */
  else if (backward_status != TL_OK)
    s = tli_mpi_fail(backward_status, "%s: backward failed on this rank: %s",
                     fn, tl_last_error());
  /* The same buckets on every rank, in the same order: a rank whose
   * gradient is not usable sends zeros from the scratch. */
  float *g = NULL;
  size_t n = 0;
  tl_model_flat_grads(&g, &n, ov->model);
  const int usable = s == TL_OK && n == ov->numel;
  if (!usable && ov->armed && ov->begin_status == TL_OK && ov->next > 0)
    MPI_Waitall((int)ov->next, ov->req, MPI_STATUSES_IGNORE);
  const size_t first = ov->armed && ov->begin_status == TL_OK ? ov->next : 0;
  if (!usable)
    memset(ov->scratch, 0,
           (ov->bucket < ov->numel ? ov->bucket : ov->numel) * sizeof(float));
  for (size_t k = first; k < ov->n_buckets; k++)
    tli_bucket_start(ov, k, usable ? g : NULL);
  if (usable)
    MPI_Waitall((int)ov->n_buckets, ov->req, MPI_STATUSES_IGNORE);
  ov->armed = 0;
  double w[2] = {s == TL_OK ? ov->weight : NAN, s == TL_OK ? 0.0 : 1.0}, tot[2];
  MPI_Allreduce(w, tot, 2, MPI_DOUBLE, MPI_SUM, ov->ctx->comm);
  if (tot[1] != 0.0)
    return tli_agree(ov->ctx, s);
  if (!(tot[0] > 0.0))
    return tli_mpi_fail(TL_E_INVALID_ARG,
                        "%s: the weights of all ranks sum to %g: nothing to "
                        "average",
                        fn, tot[0]);
  const float scale = (float)(1.0 / tot[0]);
  for (size_t i = 0; i < n; i++)
    g[i] *= scale;
  return TL_OK;
}

/* ---- checkpoints ---------------------------------------------------------
 */

/* This rank's model RNG section as tl_ckpt_store_model writes it (a copy
 * the caller frees), through a scratch checkpoint. */
static tl_status tli_rng_bytes(void **out, size_t *out_n, uint32_t *out_sub,
                               const tl_model *model, const char *fn) {
  tl_ckpt *tmp = NULL;
  TLI_MPI_TRY_TL(tl_ckpt_create(&tmp), fn);
  tl_status s = tl_ckpt_store_model(tmp, model, NULL);
  const void *b = NULL;
  size_t n = 0;
  if (s == TL_OK)
    s = tl_ckpt_get_section(&b, &n, out_sub, tmp, TL_CKPT_SECTION_RNG);
  if (s != TL_OK) {
    tli_mpi_from_tl(s, fn);
    tl_ckpt_free(tmp);
    return s;
  }
  *out = malloc(n ? n : 1);
  if (*out == NULL) {
    tl_ckpt_free(tmp);
    return tli_mpi_fail(TL_E_NOMEM, "%s: out of memory (%zu bytes)", fn, n);
  }
  memcpy(*out, b, n);
  *out_n = n;
  tl_ckpt_free(tmp);
  return TL_OK;
}

tl_status tl_mpi_save(tl_mpi *ctx, const char *path, const tl_model *model,
                      const tl_optim *optim, uint64_t step) {
  const char *fn = "tl_mpi_save";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  tl_status s = TL_OK;
  if (model == NULL || (ctx->rank == 0 && path == NULL))
    s = tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument '%s' is NULL", fn,
                     model == NULL ? "model" : "path");
  void *rng = NULL;
  size_t rn = 0;
  uint32_t sub = 0;
  if (s == TL_OK)
    s = tli_rng_bytes(&rng, &rn, &sub, model, fn);
  /* Every rank's RNG section has the same size for the same layout; the
   * check makes the gather below safe. */
  uint64_t sizes[2] = {s == TL_OK ? rn : 0, s == TL_OK ? rn : UINT64_MAX},
           mm[2];
  MPI_Allreduce(&sizes[0], &mm[0], 1, MPI_UINT64_T, MPI_MAX, ctx->comm);
  MPI_Allreduce(&sizes[1], &mm[1], 1, MPI_UINT64_T, MPI_MIN, ctx->comm);
  if (s == TL_OK && (mm[0] != mm[1] || mm[0] > INT_MAX))
    s = tli_mpi_fail(TL_E_STATE,
                     "%s: the ranks' model RNG states differ in size (%" PRIu64
                     " to %" PRIu64 " bytes): different models",
                     fn, mm[1], mm[0]);
  if ((s = tli_agree(ctx, s)) != TL_OK) {
    free(rng);
    return s;
  }
  unsigned char *rows = NULL;
  if (ctx->rank == 0) {
    rows = malloc(rn * (size_t)ctx->size + 1);
    if (rows == NULL)
      s = tli_mpi_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  if ((s = tli_agree(ctx, s)) != TL_OK) {
    free(rng);
    return s;
  }
  MPI_Gather(rng, (int)rn, MPI_BYTE, rows, (int)rn, MPI_BYTE, 0, ctx->comm);
  free(rng);
  if (ctx->rank == 0) {
    tl_ckpt *ck = NULL;
    s = tl_ckpt_create(&ck);
    if (s == TL_OK)
      s = tl_ckpt_store_model(ck, model, NULL);
    if (s == TL_OK && optim != NULL)
      s = tl_ckpt_store_optim(ck, optim);
    if (s == TL_OK)
      s = tl_ckpt_set_step(ck, step);
    char ws[32];
    snprintf(ws, sizeof ws, "%d", ctx->size);
    if (s == TL_OK)
      s = tl_ckpt_set_meta(ck, TL_MPI_META_WORLD_SIZE, ws);
    const size_t shape[2] = {(size_t)ctx->size, rn};
    if (s == TL_OK)
      s = tl_ckpt_add_tensor(ck, TL_MPI_RNG_TENSOR, TL_CKPT_U8, 2, shape, rows);
    if (s == TL_OK)
      s = tl_ckpt_save(ck, path);
    if (s != TL_OK)
      tli_mpi_from_tl(s, fn);
    tl_ckpt_free(ck);
    free(rows);
  }
  return tli_agree(ctx, s);
}

/* Rank 0 loads and validates path; every rank gets its own checkpoint
 * from rank 0's file image. */
static tl_status tli_load_everywhere(tl_ckpt **out, const tl_mpi *ctx,
                                     const char *path, const char *fn) {
  tl_status s = TL_OK;
  void *img = NULL;
  uint64_t n = 0;
  if (ctx->rank == 0) {
    tl_ckpt *ck = NULL;
    size_t size = 0;
    if (path == NULL) {
      s = tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'path' is NULL", fn);
    } else {
      s = tl_ckpt_load(&ck, path, NULL);
      if (s == TL_OK)
        s = tl_ckpt_serialized_size(&size, ck);
      if (s != TL_OK)
        tli_mpi_from_tl(s, fn);
      else if ((img = malloc(size ? size : 1)) == NULL)
        s = tli_mpi_fail(TL_E_NOMEM, "%s: out of memory (%zu bytes)", fn, size);
      else if ((s = tl_ckpt_save_buffer(img, size, &size, ck)) != TL_OK)
        tli_mpi_from_tl(s, fn);
    }
    n = size;
    if (s == TL_OK)
      *out = ck;
    else
      tl_ckpt_free(ck);
  }
  if ((s = tli_agree(ctx, s)) != TL_OK) {
    free(img);
    return s;
  }
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, ctx->comm);
  if (ctx->rank != 0 && (img = malloc(n ? (size_t)n : 1)) == NULL)
    s = tli_mpi_fail(TL_E_NOMEM, "%s: out of memory (%" PRIu64 " bytes)", fn,
                     n);
  if ((s = tli_agree(ctx, s)) != TL_OK) {
    free(img);
    if (ctx->rank == 0) {
      tl_ckpt_free(*out);
      *out = NULL;
    }
    return s;
  }
  tli_bcast_bytes(img, (size_t)n, 0, ctx->comm);
  if (ctx->rank != 0 &&
      (s = tl_ckpt_load_buffer(out, img, (size_t)n, NULL)) != TL_OK)
    tli_mpi_from_tl(s, fn);
  free(img);
  return s; /* agreed on by the caller */
}

/* Restores rank ctx->rank's part of a tl_mpi_save checkpoint. */
static tl_status tli_restore(const tl_mpi *ctx, tl_ckpt *ck, tl_model *model,
                             tl_optim *optim, uint64_t *out_step,
                             const char *fn) {
  const char *ws = NULL;
  if (tl_ckpt_get_meta(&ws, ck, TL_MPI_META_WORLD_SIZE) != TL_OK)
    return tli_mpi_fail(TL_E_STATE,
                        "%s: the checkpoint has no '%s' metadata: not "
                        "written by tl_mpi_save",
                        fn, TL_MPI_META_WORLD_SIZE);
  char *end = NULL;
  const long w = strtol(ws, &end, 10);
  if (end == ws || *end != '\0' || w != ctx->size)
    return tli_mpi_fail(TL_E_STATE,
                        "%s: the checkpoint was written by a run of world "
                        "size %s, this run has %d ranks: the shards, the "
                        "batch and the RNG streams would not match",
                        fn, ws, ctx->size);
  size_t idx = 0;
  tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT;
  const void *rows = NULL;
  if (tl_ckpt_find_tensor(&idx, ck, TL_MPI_RNG_TENSOR) != TL_OK ||
      tl_ckpt_tensor_info(&d, ck, idx) != TL_OK || d.dtype != TL_CKPT_U8 ||
      d.rank != 2 || d.shape[0] != (size_t)ctx->size ||
      tl_ckpt_tensor_data(&rows, ck, idx) != TL_OK)
    return tli_mpi_fail(TL_E_FORMAT,
                        "%s: the checkpoint's '%s' tensor is missing or is "
                        "not u8 (%d, bytes)",
                        fn, TL_MPI_RNG_TENSOR, ctx->size);
  /* This rank's RNG becomes the checkpoint's RNG section; the per-rank
   * tensor goes, so the strict restore sees the model's tensors only. */
  const void *r0 = NULL;
  uint32_t sub = 0;
  size_t rn0 = 0;
  TLI_MPI_TRY_TL(tl_ckpt_get_section(&r0, &rn0, &sub, ck, TL_CKPT_SECTION_RNG),
                 fn);
  TLI_MPI_TRY_TL(tl_ckpt_set_section(ck, TL_CKPT_SECTION_RNG, sub,
                                     (const unsigned char *)rows +
                                         (size_t)ctx->rank * d.shape[1],
                                     d.shape[1]),
                 fn);
  TLI_MPI_TRY_TL(tl_ckpt_remove_tensor(ck, idx), fn);
  TLI_MPI_TRY_TL(tl_ckpt_restore_model(model, ck, NULL), fn);
  if (optim != NULL)
    TLI_MPI_TRY_TL(tl_ckpt_restore_optim(optim, ck), fn);
  uint64_t step = 0;
  TLI_MPI_TRY_TL(tl_ckpt_get_step(&step, ck), fn);
  if (out_step != NULL)
    *out_step = step;
  return TL_OK;
}

tl_status tl_mpi_load(tl_mpi *ctx, const char *path, tl_model *model,
                      tl_optim *optim, uint64_t *out_step) {
  const char *fn = "tl_mpi_load";
  if (ctx == NULL)
    return tli_mpi_fail(TL_E_INVALID_ARG, "%s: argument 'ctx' is NULL", fn);
  tl_status s = model == NULL ? tli_mpi_fail(TL_E_INVALID_ARG,
                                             "%s: argument 'model' is NULL", fn)
                              : TL_OK;
  if ((s = tli_agree(ctx, s)) != TL_OK)
    return s;
  tl_ckpt *ck = NULL;
  s = tli_load_everywhere(&ck, ctx, path, fn);
  if (s == TL_OK)
    s = tli_restore(ctx, ck, model, optim, out_step, fn);
  tl_ckpt_free(ck);
  return tli_agree(ctx, s);
}

tl_status tl_mpi_lm_loader_skip(tl_lm_loader *loader, uint64_t n_batches) {
  const char *fn = "tl_mpi_lm_loader_skip";
  TLI_MPI_TRY_TL(tl_lm_loader_restart(loader), fn);
  for (uint64_t k = 0; k < n_batches;) {
    const int64_t *x, *y;
    size_t t = 0;
    TLI_MPI_TRY_TL(tl_lm_loader_next(&x, &y, &t, loader), fn);
    k += t > 0;
  }
  return TL_OK;
}
