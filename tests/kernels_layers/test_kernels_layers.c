/* lib/kernels layer kernels: linear, activations, embedding, dropout, AR/TAR,
 * cross-entropy, concat pooling. Forward and gradients against torch golden
 * values (tests/fixtures/gen_layers.py), every backward against central
 * finite differences of an independent double-precision forward written
 * here, plus the documented edge cases (accumulation, skip flags, padding,
 * all-ignored targets, ties, dropout with p = 0 and p > 0, no allocation). */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/layers_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/linear.h"
#include "kernels/loss.h"
#include "kernels/pool.h"
#include "kernels/regularize.h"
#include "tl_test.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* float32 kernels against torch float32: relative error < 1e-5 per element;
 * the floor keeps elements that are sums cancelling to ~0 from demanding
 * more than float32 gives (absolute 1e-5 * GOLD_FLOOR_FRAC * max |want|). */
#define GOLD_REL 1e-5
#define GOLD_FLOOR_FRAC 1e-4
/* float32 kernel gradients against double central differences (exact to
 * ~1e-9): what is left is float32 rounding of the kernels' sums. */
#define FD_REL 1e-4
#define FD_FLOOR_FRAC 1e-3

static double max_abs_f(const float *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs((double)a[i]));
  return m;
}

static double max_abs_d(const double *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(a[i]));
  return m;
}

/* Largest relative error seen against golden values, reported at the end. */
static double worst_gold_err = 0.0;
static double worst_fd_err = 0.0;

static void check_gold(const char *what, const float *got, const float *want,
                       size_t n) {
  const double floor_ = fmax(GOLD_FLOOR_FRAC * max_abs_f(want, n), 1e-30);
  for (size_t i = 0; i < n; i++) {
    const double s = fmax(fabs((double)want[i]), floor_);
    const double err = fabs((double)got[i] - (double)want[i]) / s;
    worst_gold_err = fmax(worst_gold_err, err);
    ck_assert_msg(err <= GOLD_REL, "%s[%zu] = %.9g, torch %.9g (rel err %.3g)",
                  what, i, (double)got[i], (double)want[i], err);
  }
}

static void check_fd(const char *what, const float *got, const double *fd,
                     size_t n) {
  const double floor_ = fmax(FD_FLOOR_FRAC * max_abs_d(fd, n), 1e-12);
  for (size_t i = 0; i < n; i++) {
    const double s = fmax(fabs(fd[i]), floor_);
    const double err = fabs((double)got[i] - fd[i]) / s;
    worst_fd_err = fmax(worst_fd_err, err);
    ck_assert_msg(err <= FD_REL,
                  "%s[%zu] = %.9g, finite difference %.12g (rel err %.3g)",
                  what, i, (double)got[i], fd[i], err);
  }
}

static float *fdup(const float *a, size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  ck_assert_ptr_nonnull(p);
  if (n)
    memcpy(p, a, n * sizeof *p);
  return p;
}

static float *fzeros(size_t n) {
  float *p = calloc(n ? n : 1, sizeof *p);
  ck_assert_ptr_nonnull(p);
  return p;
}

static double *to_double(const float *a, size_t n) {
  double *p = malloc((n ? n : 1) * sizeof *p);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < n; i++)
    p[i] = a[i];
  return p;
}

/* Central differences of fn(ctx) with respect to p[0..n): g[i] = (f(p + h
 * e_i) - f(p - h e_i)) / 2h, everything in double. */
typedef double (*scalar_fn)(const void *ctx);
static void fd_grad(double *g, double *p, size_t n, scalar_fn fn,
                    const void *ctx) {
  for (size_t i = 0; i < n; i++) {
    const double save = p[i], h = 1e-6 * fmax(1.0, fabs(save));
    p[i] = save + h;
    const double fp = fn(ctx);
    p[i] = save - h;
    const double fm = fn(ctx);
    p[i] = save;
    g[i] = (fp - fm) / (2.0 * h);
  }
}

/* ------------------------------------------------------------- linear */

static double ref_act(double z, int act) {
  switch (act) {
  case TLI_ACT_RELU: return z > 0 ? z : 0;
  case TLI_ACT_TANH: return tanh(z);
  case TLI_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
  default: return z;
  }
}

typedef struct linear_ctx {
  size_t n, in, out;
  int act;
  const double *x, *w, *b, *dy;
} linear_ctx;

/* sum(dy * act(x W^T + b)): its gradient is what the backward computes. */
static double ref_linear_loss(const void *vctx) {
  const linear_ctx *c = vctx;
  double total = 0.0;
  for (size_t i = 0; i < c->n; i++)
    for (size_t o = 0; o < c->out; o++) {
      double z = c->b ? c->b[o] : 0.0;
      for (size_t k = 0; k < c->in; k++)
        z += c->x[i * c->in + k] * c->w[o * c->in + k];
      total += c->dy[i * c->out + o] * ref_act(z, c->act);
    }
  return total;
}

START_TEST(linear_matches_torch) {
  for (size_t k = 0; k < NELEM(layers_linear_cases); k++) {
    const layers_linear_case *c = &layers_linear_cases[k];
    const size_t ny = c->n * c->out, nx = c->n * c->in, nw = c->out * c->in;
    float *y = fzeros(ny), *dx = fzeros(nx), *dw = fzeros(nw),
          *db = fzeros(c->out), *work = fzeros(ny);
    const float *b = c->has_bias ? c->b : NULL;
    tli_linear_forward(y, c->x, c->w, b, c->n, c->in, c->out, c->act);
    check_gold("y", y, c->y, ny);
    tli_linear_backward(dx, dw, c->has_bias ? db : NULL, work, c->dy, c->x,
                        c->w, y, c->n, c->in, c->out, c->act);
    check_gold("dx", dx, c->dx, nx);
    check_gold("dw", dw, c->dw, nw);
    if (c->has_bias)
      check_gold("db", db, c->db, c->out);
    free(y), free(dx), free(dw), free(db), free(work);
  }
}
END_TEST

START_TEST(linear_backward_matches_finite_differences) {
  for (size_t k = 0; k < NELEM(layers_linear_cases); k++) {
    const layers_linear_case *c = &layers_linear_cases[k];
    const size_t ny = c->n * c->out, nx = c->n * c->in, nw = c->out * c->in;
    double *x = to_double(c->x, nx), *w = to_double(c->w, nw),
           *b = to_double(c->b, c->has_bias ? c->out : 0),
           *dy = to_double(c->dy, ny);
    linear_ctx ctx = {c->n, c->in, c->out, c->act, x, w, c->has_bias ? b : NULL,
                      dy};
    float *y = fzeros(ny), *dx = fzeros(nx), *dw = fzeros(nw),
          *db = fzeros(c->out), *work = fzeros(ny);
    double *g = malloc((nx + nw + c->out) * sizeof *g);
    tli_linear_forward(y, c->x, c->w, c->has_bias ? c->b : NULL, c->n, c->in,
                       c->out, c->act);
    tli_linear_backward(dx, dw, db, work, c->dy, c->x, c->w, y, c->n, c->in,
                        c->out, c->act);
    fd_grad(g, x, nx, ref_linear_loss, &ctx);
    check_fd("dx", dx, g, nx);
    fd_grad(g, w, nw, ref_linear_loss, &ctx);
    check_fd("dw", dw, g, nw);
    if (c->has_bias) {
      fd_grad(g, b, c->out, ref_linear_loss, &ctx);
      check_fd("db", db, g, c->out);
    }
    free(x), free(w), free(b), free(dy), free(g);
    free(y), free(dx), free(dw), free(db), free(work);
  }
}
END_TEST

/* Two backward passes give twice the gradient: every output is +=. */
START_TEST(linear_backward_accumulates) {
  const layers_linear_case *c = &layers_linear_cases[3];
  const size_t ny = c->n * c->out, nx = c->n * c->in, nw = c->out * c->in;
  float *y = fzeros(ny), *dx = fzeros(nx), *dw = fzeros(nw),
        *db = fzeros(c->out), *work = fzeros(ny);
  tli_linear_forward(y, c->x, c->w, c->b, c->n, c->in, c->out, c->act);
  for (int rep = 0; rep < 2; rep++)
    tli_linear_backward(dx, dw, db, work, c->dy, c->x, c->w, y, c->n, c->in,
                        c->out, c->act);
  float *once_dx = fzeros(nx), *once_dw = fzeros(nw), *once_db = fzeros(c->out);
  tli_linear_backward(once_dx, once_dw, once_db, work, c->dy, c->x, c->w, y,
                      c->n, c->in, c->out, c->act);
  /* Equal up to the rounding of the different summation order. */
  for (size_t i = 0; i < nx; i++)
    TLT_ASSERT_CLOSE(dx[i], 2.0 * once_dx[i], 1e-6, 1e-3);
  for (size_t i = 0; i < nw; i++)
    TLT_ASSERT_CLOSE(dw[i], 2.0 * once_dw[i], 1e-6, 1e-3);
  for (size_t i = 0; i < c->out; i++)
    TLT_ASSERT_CLOSE(db[i], 2.0 * once_db[i], 1e-6, 1e-3);
  free(y), free(dx), free(dw), free(db), free(work);
  free(once_dx), free(once_dw), free(once_db);
}
END_TEST

/* NULL dw/db (a frozen layer) and NULL dx (the first layer) skip exactly
 * those outputs; the others are unchanged. work may be dy itself. */
START_TEST(linear_skip_flags_and_in_place_work) {
  const layers_linear_case *c = &layers_linear_cases[2]; /* relu, bias */
  const size_t ny = c->n * c->out, nx = c->n * c->in, nw = c->out * c->in;
  float *y = fzeros(ny), *dx = fzeros(nx), *dw = fzeros(nw),
        *db = fzeros(c->out), *work = fzeros(ny);
  tli_linear_forward(y, c->x, c->w, c->b, c->n, c->in, c->out, c->act);
  /* Frozen: only dx. */
  tli_linear_backward(dx, NULL, NULL, work, c->dy, c->x, c->w, y, c->n, c->in,
                      c->out, c->act);
  check_gold("dx frozen", dx, c->dx, nx);
  /* First layer: no dx; dy consumed in place as the work buffer. */
  float *dy = fdup(c->dy, ny);
  tli_linear_backward(NULL, dw, db, dy, dy, c->x, c->w, y, c->n, c->in, c->out,
                      c->act);
  check_gold("dw first layer", dw, c->dw, nw);
  check_gold("db first layer", db, c->db, c->out);
  /* dy now holds dz = dy * relu'(z). */
  for (size_t i = 0; i < ny; i++)
    ck_assert_float_eq(dy[i], y[i] > 0.0f ? c->dy[i] : 0.0f);
  free(y), free(dx), free(dw), free(db), free(work), free(dy);
}
END_TEST

START_TEST(activations_are_finite_at_extremes) {
  const float z[6] = {-1e4f, -100.0f, -0.0f, 0.0f, 100.0f, 1e4f};
  float y[6], dz[6];
  const float ones[6] = {1, 1, 1, 1, 1, 1};
  tli_act_forward(y, z, 6, TLI_ACT_SIGMOID);
  ck_assert_float_eq(y[0], 0.0f);
  ck_assert_float_eq(y[3], 0.5f);
  ck_assert_float_eq(y[5], 1.0f);
  tli_act_backward(dz, ones, y, 6, TLI_ACT_SIGMOID);
  for (int i = 0; i < 6; i++)
    ck_assert(isfinite(y[i]) && isfinite(dz[i]));
  tli_act_forward(y, z, 6, TLI_ACT_TANH);
  ck_assert_float_eq(y[0], -1.0f);
  ck_assert_float_eq(y[5], 1.0f);
  /* ReLU: gradient 0 at z = 0, as torch. */
  tli_act_forward(y, z, 6, TLI_ACT_RELU);
  tli_act_backward(dz, ones, y, 6, TLI_ACT_RELU);
  const float want_y[6] = {0, 0, 0, 0, 100, 1e4f},
              want_dz[6] = {0, 0, 0, 0, 1, 1};
  for (int i = 0; i < 6; i++) {
    ck_assert_float_eq(y[i], want_y[i]);
    ck_assert_float_eq(dz[i], want_dz[i]);
  }
  /* Identity in place is a no-op. */
  memcpy(y, z, sizeof y);
  tli_act_forward(y, y, 6, TLI_ACT_IDENTITY);
  ck_assert(memcmp(y, z, sizeof y) == 0);
}
END_TEST

/* ---------------------------------------------------------- embedding */

START_TEST(embedding_matches_torch) {
  for (size_t k = 0; k < NELEM(layers_embedding_cases); k++) {
    const layers_embedding_case *c = &layers_embedding_cases[k];
    const size_t count = c->t * c->b, no = count * c->dim,
                 nw = c->vocab * c->dim;
    const float *scale = c->dropout ? c->scale : NULL;
    float *out = fzeros(no), *dw = fzeros(nw);
    ck_assert_uint_eq(tli_embedding_find_bad_id(c->ids, count, c->vocab),
                      count);
    tli_embedding_forward(out, c->w, scale, c->ids, count, c->dim);
    check_gold("out", out, c->out, no);
    tli_embedding_backward(dw, c->dout, scale, c->ids, count, c->dim,
                           c->padding_idx);
    check_gold("dw", dw, c->dw, nw);
    free(out), free(dw);
  }
}
END_TEST

typedef struct embedding_ctx {
  const layers_embedding_case *c;
  const double *w;
} embedding_ctx;

/* sum(dout * lookup(w * scale)), with padding rows cut from the graph. */
static double ref_embedding_loss(const void *vctx) {
  const embedding_ctx *e = vctx;
  const layers_embedding_case *c = e->c;
  double total = 0.0;
  for (size_t i = 0; i < c->t * c->b; i++) {
    const size_t id = (size_t)c->ids[i];
    const double s = c->dropout ? c->scale[id] : 1.0;
    for (size_t j = 0; j < c->dim; j++) {
      /* torch's padding row is a constant: perturbing it changes nothing
       * that has a gradient, so the reference treats it as one. */
      const double v = (int64_t)id == c->padding_idx
                           ? (double)c->w[id * c->dim + j]
                           : e->w[id * c->dim + j];
      total += c->dout[i * c->dim + j] * v * s;
    }
  }
  return total;
}

START_TEST(embedding_backward_matches_finite_differences) {
  for (size_t k = 0; k < NELEM(layers_embedding_cases); k++) {
    const layers_embedding_case *c = &layers_embedding_cases[k];
    const size_t nw = c->vocab * c->dim;
    double *w = to_double(c->w, nw), *g = malloc(nw * sizeof *g);
    embedding_ctx ctx = {c, w};
    float *dw = fzeros(nw);
    tli_embedding_backward(dw, c->dout, c->dropout ? c->scale : NULL, c->ids,
                           c->t * c->b, c->dim, c->padding_idx);
    fd_grad(g, w, nw, ref_embedding_loss, &ctx);
    check_fd("dw", dw, g, nw);
    free(w), free(g), free(dw);
  }
}
END_TEST

/* Only rows that occur (and are not the padding index) are written: every
 * other row keeps its previous contents bit for bit, and touched rows are
 * accumulated onto. */
START_TEST(embedding_backward_is_sparse_and_accumulates) {
  const layers_embedding_case *c = &layers_embedding_cases[1]; /* pad 2 */
  const size_t count = c->t * c->b, nw = c->vocab * c->dim;
  float *dw = malloc(nw * sizeof *dw);
  for (size_t i = 0; i < nw; i++)
    dw[i] = 7.0f;
  tli_embedding_backward(dw, c->dout, NULL, c->ids, count, c->dim,
                         c->padding_idx);
  for (size_t r = 0; r < c->vocab; r++) {
    int used = 0;
    for (size_t i = 0; i < count; i++)
      used |= c->ids[i] == (int64_t)r;
    for (size_t j = 0; j < c->dim; j++) {
      const size_t at = r * c->dim + j;
      if (!used || (int64_t)r == c->padding_idx)
        ck_assert_float_eq(dw[at], 7.0f);
      else
        TLT_ASSERT_CLOSE(dw[at], 7.0f + c->dw[at], 1e-6, 1.0);
    }
  }
  /* The padding index is in the batch, so the check above is not vacuous. */
  int pad_seen = 0;
  for (size_t i = 0; i < count; i++)
    pad_seen |= c->ids[i] == c->padding_idx;
  ck_assert(pad_seen);
  free(dw);
}
END_TEST

START_TEST(embedding_find_bad_id_names_the_first) {
  const int64_t ok[4] = {0, 3, 4, 1};
  const int64_t neg[4] = {0, 3, -1, 9};
  const int64_t big[4] = {0, 5, -1, 2};
  ck_assert_uint_eq(tli_embedding_find_bad_id(ok, 4, 5), 4);
  ck_assert_uint_eq(tli_embedding_find_bad_id(neg, 4, 5), 2);
  ck_assert_uint_eq(tli_embedding_find_bad_id(big, 4, 5), 1);
  ck_assert_uint_eq(tli_embedding_find_bad_id(ok, 0, 5), 0);
  const int64_t huge[1] = {INT64_MAX};
  ck_assert_uint_eq(tli_embedding_find_bad_id(huge, 1, 5), 0);
}
END_TEST

/* ------------------------------------------------------------ dropout */

START_TEST(dropout_application_matches_torch) {
  for (size_t k = 0; k < NELEM(layers_dropout_cases); k++) {
    const layers_dropout_case *c = &layers_dropout_cases[k];
    const size_t bf = c->b * c->f, n = c->t * bf;
    float *y = fzeros(n), *dx = fzeros(n);
    tli_dropout_apply(y, c->x, c->std_mask, n);
    check_gold("y standard", y, c->y_std, n);
    tli_dropout_apply(dx, c->dy, c->std_mask, n);
    check_gold("dx standard", dx, c->dx_std, n);
    tli_dropout_locked_apply(y, c->x, c->locked_mask, c->t, bf);
    check_gold("y locked", y, c->y_locked, n);
    tli_dropout_locked_apply(dx, c->dy, c->locked_mask, c->t, bf);
    check_gold("dx locked", dx, c->dx_locked, n);
    free(y), free(dx);
  }
}
END_TEST

typedef struct dropout_ctx {
  const double *x, *dy;
  const float *mask;
  size_t t, bf; /* t == 1: standard dropout over bf elements */
} dropout_ctx;

static double ref_dropout_loss(const void *vctx) {
  const dropout_ctx *d = vctx;
  double total = 0.0;
  for (size_t s = 0; s < d->t; s++)
    for (size_t j = 0; j < d->bf; j++)
      total += d->dy[s * d->bf + j] * d->x[s * d->bf + j] * d->mask[j];
  return total;
}

START_TEST(dropout_backward_matches_finite_differences) {
  const layers_dropout_case *c = &layers_dropout_cases[1];
  const size_t bf = c->b * c->f, n = c->t * bf;
  double *x = to_double(c->x, n), *dy = to_double(c->dy, n),
         *g = malloc(n * sizeof *g);
  float *dx = fzeros(n);
  dropout_ctx std = {x, dy, c->std_mask, 1, n};
  tli_dropout_apply(dx, c->dy, c->std_mask, n);
  fd_grad(g, x, n, ref_dropout_loss, &std);
  check_fd("dx standard", dx, g, n);
  dropout_ctx locked = {x, dy, c->locked_mask, c->t, bf};
  tli_dropout_locked_apply(dx, c->dy, c->locked_mask, c->t, bf);
  fd_grad(g, x, n, ref_dropout_loss, &locked);
  check_fd("dx locked", dx, g, n);
  free(x), free(dy), free(g), free(dx);
}
END_TEST

/* p = 0 is no dropout bit for bit, and consumes no random numbers. */
START_TEST(dropout_p0_is_exactly_identity) {
  enum { N = 257 };
  tli_rng rng, before;
  tli_rng_seed(&rng, 5);
  before = rng;
  float mask[N], x[N], y[N];
  for (int i = 0; i < N; i++)
    x[i] = (float)tli_rng_normal(&before) * 3.0f;
  before = rng;
  tli_dropout_mask(mask, N, 0.0f, &rng);
  ck_assert(memcmp(&rng, &before, sizeof rng) == 0);
  for (int i = 0; i < N; i++)
    ck_assert_float_eq(mask[i], 1.0f);
  tli_dropout_apply(y, x, mask, N);
  ck_assert(memcmp(y, x, sizeof x) == 0);
  tli_dropout_locked_apply(y, x, mask, 1, N);
  ck_assert(memcmp(y, x, sizeof x) == 0);
  float emb[N];
  const int64_t ids[3] = {0, 5, 9};
  tli_embedding_forward(emb, x, mask, ids, 3, 10);
  for (int i = 0; i < 3; i++)
    ck_assert(memcmp(emb + i * 10, x + ids[i] * 10, 10 * sizeof(float)) == 0);
}
END_TEST

/* p > 0: the dropped fraction is p within 5 standard errors, kept entries
 * are exactly 1/(1-p), and the same seed gives the same mask. */
START_TEST(dropout_mask_statistics_and_exact_scale) {
  enum { N = 100000 };
  float *mask = malloc(N * sizeof *mask), *again = malloc(N * sizeof *again);
  const float ps[3] = {0.1f, 0.3f, 0.5f};
  for (int k = 0; k < 3; k++) {
    const float p = ps[k], keep = 1.0f / (1.0f - p);
    tli_rng rng;
    tli_rng_seed(&rng, 11 + (uint64_t)k);
    tli_dropout_mask(mask, N, p, &rng);
    size_t dropped = 0;
    double sum = 0.0;
    for (size_t i = 0; i < N; i++) {
      ck_assert(mask[i] == 0.0f || mask[i] == keep);
      dropped += mask[i] == 0.0f;
      sum += mask[i];
    }
    const double frac = (double)dropped / N, se = sqrt(p * (1.0 - p) / N);
    ck_assert_msg(fabs(frac - p) < 5 * se, "p=%g dropped %g", (double)p, frac);
    /* Inverted dropout keeps the expectation: mean mask ~ 1. */
    ck_assert_msg(fabs(sum / N - 1.0) < 5 * se * keep, "mean %g", sum / N);
    tli_rng_seed(&rng, 11 + (uint64_t)k);
    tli_dropout_mask(again, N, p, &rng);
    ck_assert(memcmp(mask, again, N * sizeof *mask) == 0);
    /* Exact rescaling of the kept inputs. */
    float x[64], y[64];
    for (int i = 0; i < 64; i++)
      x[i] = 0.37f * (float)(i - 31);
    tli_dropout_apply(y, x, mask, 64);
    for (int i = 0; i < 64; i++)
      ck_assert_float_eq(y[i], mask[i] == 0.0f ? 0.0f : x[i] * keep);
  }
  free(mask), free(again);
}
END_TEST

/* Locked dropout: one (B, F) mask, the same unit dropped at every step. */
START_TEST(locked_dropout_shares_the_mask_over_time) {
  enum { T = 6, B = 3, F = 8, BF = B * F };
  tli_rng rng;
  tli_rng_seed(&rng, 3);
  float mask[BF], x[T * BF], y[T * BF];
  tli_dropout_mask(mask, BF, 0.4f, &rng);
  for (int i = 0; i < T * BF; i++)
    x[i] = 1.0f + 0.01f * (float)i;
  memcpy(y, x, sizeof y);
  tli_dropout_locked_apply(y, y, mask, T, BF); /* in place */
  size_t dropped = 0;
  for (int j = 0; j < BF; j++) {
    dropped += mask[j] == 0.0f;
    for (int s = 0; s < T; s++)
      ck_assert_float_eq(y[s * BF + j], x[s * BF + j] * mask[j]);
  }
  ck_assert(dropped > 0 && dropped < BF); /* both kinds present */
}
END_TEST

/* Embedding dropout: a dropped word is zero at every occurrence, a kept one
 * is its row times 1/(1-p), and its gradient is scaled the same way. */
START_TEST(embedding_dropout_drops_whole_words) {
  enum { V = 40, E = 3, N = 12 };
  tli_rng rng;
  tli_rng_seed(&rng, 17);
  float w[V * E], scale[V], out[N * E], dout[N * E], dw[V * E];
  for (int i = 0; i < V * E; i++)
    w[i] = 0.5f + 0.01f * (float)i;
  for (int i = 0; i < N * E; i++)
    dout[i] = 1.0f;
  tli_dropout_mask(scale, V, 0.5f, &rng);
  int64_t ids[N];
  int64_t dropped_id = -1, kept_id = -1;
  for (int64_t v = 0; v < V; v++) {
    if (scale[v] == 0.0f && dropped_id < 0)
      dropped_id = v;
    if (scale[v] != 0.0f && kept_id < 0)
      kept_id = v;
  }
  ck_assert(dropped_id >= 0 && kept_id >= 0);
  for (int i = 0; i < N; i++)
    ids[i] = i % 2 ? dropped_id : kept_id;
  tli_embedding_forward(out, w, scale, ids, N, E);
  memset(dw, 0, sizeof dw);
  tli_embedding_backward(dw, dout, scale, ids, N, E, -1);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < E; j++)
      ck_assert_float_eq(out[i * E + j],
                         i % 2 ? 0.0f : w[kept_id * E + j] * 2.0f);
  for (int j = 0; j < E; j++) {
    ck_assert_float_eq(dw[dropped_id * E + j], 0.0f);
    ck_assert_float_eq(dw[kept_id * E + j], 2.0f * (N / 2));
  }
}
END_TEST

/* ------------------------------------------------------------- AR/TAR */

START_TEST(ar_tar_match_torch) {
  for (size_t k = 0; k < NELEM(layers_reg_cases); k++) {
    const layers_reg_case *c = &layers_reg_cases[k];
    const size_t bh = c->b * c->h, n = c->t * bh;
    float *dh = fzeros(n), *draw = fzeros(n);
    const float ar = tli_ar_penalty(dh, c->hd, n, c->alpha);
    const float tar = tli_tar_penalty(draw, c->raw, c->t, bh, c->beta);
    check_gold("ar", &ar, &c->ar, 1);
    if (c->t > 1) {
      check_gold("tar", &tar, &c->tar, 1);
    } else {
      ck_assert_float_eq(tar, 0.0f); /* a single step has no difference */
    }
    check_gold("dh", dh, c->dh, n);
    check_gold("draw", draw, c->draw, n);
    /* Without dh only the value is computed. */
    ck_assert_float_eq(tli_ar_penalty(NULL, c->hd, n, c->alpha), ar);
    ck_assert_float_eq(tli_tar_penalty(NULL, c->raw, c->t, bh, c->beta), tar);
    free(dh), free(draw);
  }
}
END_TEST

typedef struct reg_ctx {
  const double *h;
  size_t t, bh;
  double alpha, beta;
} reg_ctx;

static double ref_ar(const void *vctx) {
  const reg_ctx *r = vctx;
  double s = 0.0;
  for (size_t i = 0; i < r->t * r->bh; i++)
    s += r->h[i] * r->h[i];
  return r->alpha * s / (double)(r->t * r->bh);
}

static double ref_tar(const void *vctx) {
  const reg_ctx *r = vctx;
  double s = 0.0;
  for (size_t i = r->bh; i < r->t * r->bh; i++) {
    const double d = r->h[i] - r->h[i - r->bh];
    s += d * d;
  }
  return r->beta * s / (double)((r->t - 1) * r->bh);
}

START_TEST(ar_tar_gradients_match_finite_differences_and_accumulate) {
  const layers_reg_case *c = &layers_reg_cases[3];
  const size_t bh = c->b * c->h, n = c->t * bh;
  double *h = to_double(c->raw, n), *g = malloc(n * sizeof *g);
  reg_ctx ctx = {h, c->t, bh, c->alpha, c->beta};
  float *dh = malloc(n * sizeof *dh);
  for (size_t i = 0; i < n; i++)
    dh[i] = 0.0f;
  tli_ar_penalty(dh, c->raw, n, c->alpha);
  fd_grad(g, h, n, ref_ar, &ctx);
  check_fd("dAR", dh, g, n);
  /* Accumulation: TAR's gradient lands on top of AR's. */
  float *want = fdup(dh, n);
  double *gt = malloc(n * sizeof *gt);
  fd_grad(gt, h, n, ref_tar, &ctx);
  tli_tar_penalty(dh, c->raw, c->t, bh, c->beta);
  for (size_t i = 0; i < n; i++)
    g[i] += gt[i];
  check_fd("dAR + dTAR", dh, g, n);
  ck_assert(max_abs_f(want, n) > 0.0);
  free(h), free(g), free(gt), free(dh), free(want);
}
END_TEST

START_TEST(ar_tar_defaults_are_awd_lstm) {
  ck_assert_float_eq(TLI_AR_ALPHA_DEFAULT, 2.0f);
  ck_assert_float_eq(TLI_TAR_BETA_DEFAULT, 1.0f);
  const float h[4] = {1, 2, 3, 4};
  float dh[4] = {0, 0, 0, 0};
  ck_assert_float_eq(tli_ar_penalty(dh, h, 4, 0.0f), 0.0f);
  ck_assert_float_eq(tli_tar_penalty(dh, h, 2, 2, 0.0f), 0.0f);
  for (int i = 0; i < 4; i++)
    ck_assert_float_eq(dh[i], 0.0f);
  /* Steps (1,2) and (3,4): differences (2,2), mean square 4, times 1. */
  ck_assert_float_eq(tli_tar_penalty(NULL, h, 2, 2, 1.0f), 4.0f);
  /* 2 * (1+4+9+16)/4 = 15. */
  ck_assert_float_eq(tli_ar_penalty(NULL, h, 4, 2.0f), 15.0f);
}
END_TEST

/* ------------------------------------------------------- cross-entropy */

START_TEST(cross_entropy_matches_torch) {
  for (size_t k = 0; k < NELEM(layers_ce_cases); k++) {
    const layers_ce_case *c = &layers_ce_cases[k];
    const size_t n = c->n * c->c;
    float *d = fzeros(n), *ls = fzeros(n), *sm = fzeros(n);
    size_t count = 99, correct = 99, acc_count = 99;
    ck_assert_uint_eq(
        tli_loss_find_bad_target(c->targets, c->n, c->c, c->ignore_index),
        c->n);
    const float loss = tli_cross_entropy(d, c->logits, c->targets, c->n, c->c,
                                         c->ignore_index, 1.0f, &count);
    ck_assert_uint_eq(count, c->count);
    check_gold("loss", &loss, &c->loss, 1);
    check_gold("dlogits", d, c->dlogits, n);
    tli_log_softmax(ls, c->logits, c->n, c->c);
    check_gold("log_softmax", ls, c->logsm, n);
    tli_softmax(sm, c->logits, c->n, c->c);
    check_gold("softmax", sm, c->sm, n);
    const float acc = tli_accuracy(c->logits, c->targets, c->n, c->c,
                                   c->ignore_index, &correct, &acc_count);
    ck_assert_uint_eq(correct, c->correct);
    ck_assert_uint_eq(acc_count, c->count);
    ck_assert_float_eq(
        acc, c->count ? (float)((double)c->correct / (double)c->count) : 0.0f);
    /* In place: the logits buffer becomes the gradient. */
    float *inplace = fdup(c->logits, n);
    const float loss2 = tli_cross_entropy(inplace, inplace, c->targets, c->n,
                                          c->c, c->ignore_index, 1.0f, NULL);
    ck_assert_float_eq(loss2, loss);
    ck_assert(memcmp(inplace, d, n * sizeof *d) == 0);
    /* grad_scale scales the gradient exactly, not the loss. */
    const float loss3 = tli_cross_entropy(inplace, c->logits, c->targets, c->n,
                                          c->c, c->ignore_index, 0.5f, NULL);
    ck_assert_float_eq(loss3, loss);
    for (size_t i = 0; i < n; i++) /* exact above the subnormal range */
      if (fabsf(d[i]) >= 4 * FLT_MIN)
        ck_assert_float_eq(inplace[i], 0.5f * d[i]);
      else
        ck_assert(fabsf(inplace[i] - 0.5f * d[i]) <= FLT_MIN);
    free(d), free(ls), free(sm), free(inplace);
  }
}
END_TEST

typedef struct ce_ctx {
  const double *logits;
  const int64_t *targets;
  size_t n, c;
  int64_t ignore;
} ce_ctx;

static double ref_ce(const void *vctx) {
  const ce_ctx *e = vctx;
  double total = 0.0;
  size_t count = 0;
  for (size_t i = 0; i < e->n; i++) {
    if (e->targets[i] == e->ignore)
      continue;
    const double *row = e->logits + i * e->c;
    double mx = row[0], s = 0.0;
    for (size_t j = 1; j < e->c; j++)
      mx = fmax(mx, row[j]);
    for (size_t j = 0; j < e->c; j++)
      s += exp(row[j] - mx);
    total += mx + log(s) - row[e->targets[i]];
    count++;
  }
  return count ? total / (double)count : 0.0;
}

START_TEST(cross_entropy_gradient_matches_finite_differences) {
  for (size_t k = 0; k < NELEM(layers_ce_cases); k++) {
    const layers_ce_case *c = &layers_ce_cases[k];
    const size_t n = c->n * c->c;
    if (n > 100)
      continue; /* the vocabulary-sized case is covered against torch */
    double *logits = to_double(c->logits, n), *g = malloc(n * sizeof *g);
    ce_ctx ctx = {logits, c->targets, c->n, c->c, c->ignore_index};
    float *d = fzeros(n);
    tli_cross_entropy(d, c->logits, c->targets, c->n, c->c, c->ignore_index,
                      1.0f, NULL);
    fd_grad(g, logits, n, ref_ce, &ctx);
    check_fd("dlogits", d, g, n);
    free(logits), free(g), free(d);
  }
}
END_TEST

/* All targets ignored: loss 0 and a zero gradient (torch: NaN). */
START_TEST(cross_entropy_all_ignored_is_zero_not_nan) {
  const float logits[6] = {1, 2, 3, -1, 0, 5};
  const int64_t targets[2] = {-100, -100};
  float d[6] = {9, 9, 9, 9, 9, 9};
  size_t count = 7;
  const float loss =
      tli_cross_entropy(d, logits, targets, 2, 3, -100, 1.0f, &count);
  ck_assert_float_eq(loss, 0.0f);
  ck_assert_uint_eq(count, 0);
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq(d[i], 0.0f);
  size_t correct = 7;
  ck_assert_float_eq(
      tli_accuracy(logits, targets, 2, 3, -100, &correct, &count), 0.0f);
  ck_assert_uint_eq(correct, 0);
  ck_assert_uint_eq(count, 0);
}
END_TEST

/* Huge logits: the shifted log-sum-exp stays finite and exact. */
START_TEST(cross_entropy_is_stable_for_huge_logits) {
  const float logits[3] = {1e4f, 1e4f - 2.0f, -1e4f};
  const int64_t t[1] = {1};
  float d[3], sm[3];
  const float loss = tli_cross_entropy(d, logits, t, 1, 3, -100, 1.0f, NULL);
  const double want = log(1.0 + exp(-2.0) + exp(-2e4)) + 2.0;
  TLT_ASSERT_CLOSE(loss, want, 1e-6, 1e-30);
  tli_softmax(sm, logits, 1, 3);
  for (int i = 0; i < 3; i++)
    ck_assert(isfinite(d[i]) && isfinite(sm[i]));
  TLT_ASSERT_CLOSE(sm[0] + sm[1] + sm[2], 1.0, 1e-6, 1.0);
}
END_TEST

START_TEST(loss_find_bad_target_and_accuracy_ties) {
  const int64_t t[5] = {0, 2, 1, -100, 3};
  ck_assert_uint_eq(tli_loss_find_bad_target(t, 5, 3, -100), 4);
  ck_assert_uint_eq(tli_loss_find_bad_target(t, 4, 3, -100), 4);
  ck_assert_uint_eq(tli_loss_find_bad_target(t, 5, 4, 1), 3); /* -100 bad */
  /* Ties go to the lowest class, as torch.argmax. */
  const float logits[6] = {1, 1, 0, 0, 2, 2};
  const int64_t first[2] = {0, 1}, second[2] = {1, 2};
  size_t correct;
  ck_assert_float_eq(tli_accuracy(logits, first, 2, 3, -100, &correct, NULL),
                     1.0f);
  ck_assert_float_eq(tli_accuracy(logits, second, 2, 3, -100, &correct, NULL),
                     0.0f);
}
END_TEST

/* -------------------------------------------------------- tied decoder */

/* The LM's decoder shares the embedding matrix: lookup, tanh, decoder with
 * w = embedding weight, cross-entropy ignoring the pad. The embedding's one
 * gradient array receives the decoder's dense gradient (linear backward) and
 * the lookup's sparse gradient (embedding backward), as torch's weight.grad. */
START_TEST(tied_decoder_accumulates_into_the_embedding_gradient) {
  enum { N = TIED_T * TIED_B };
  float emb[N * TIED_E], hid[N * TIED_E], logits[N * TIED_V];
  float dlogits[N * TIED_V], dhid[N * TIED_E], dw[TIED_V * TIED_E], db[TIED_V];
  memset(dw, 0, sizeof dw);
  memset(db, 0, sizeof db);
  memset(dhid, 0, sizeof dhid);
  tli_embedding_forward(emb, tied_w, NULL, tied_ids, N, TIED_E);
  tli_act_forward(hid, emb, N * TIED_E, TLI_ACT_TANH);
  tli_linear_forward(logits, hid, tied_w, tied_b, N, TIED_E, TIED_V,
                     TLI_ACT_IDENTITY);
  const float loss = tli_cross_entropy(dlogits, logits, tied_targets, N, TIED_V,
                                       TIED_PAD, 1.0f, NULL);
  check_gold("loss", &loss, &tied_loss, 1);
  tli_linear_backward(dhid, dw, db, NULL, dlogits, hid, tied_w, NULL, N, TIED_E,
                      TIED_V, TLI_ACT_IDENTITY);
  tli_act_backward(dhid, dhid, hid, N * TIED_E, TLI_ACT_TANH);
  tli_embedding_backward(dw, dhid, NULL, tied_ids, N, TIED_E, TIED_PAD);
  check_gold("dw (decoder + lookup)", dw, tied_dw, TIED_V * TIED_E);
  check_gold("db", db, tied_db, TIED_V);
}
END_TEST

/* ------------------------------------------------------ concat pooling */

START_TEST(concat_pool_matches_torch) {
  for (size_t k = 0; k < NELEM(layers_pool_cases); k++) {
    const layers_pool_case *c = &layers_pool_cases[k];
    const size_t n = c->t * c->b * c->h, no = c->b * 3 * c->h;
    float *out = fzeros(no), *dh = malloc(n * sizeof *dh);
    size_t *argmax = malloc(c->b * c->h * sizeof *argmax);
    ck_assert_uint_eq(tli_concat_pool_find_bad_length(c->lens, c->b, c->t),
                      c->b);
    tli_concat_pool_forward(out, argmax, c->hs, c->lens, c->t, c->b, c->h);
    check_gold("out", out, c->out, no);
    /* Padding steps of dh are never touched: mark them, check afterwards. */
    for (size_t i = 0; i < n; i++)
      dh[i] = 0.0f;
    for (size_t s = 0; s < c->t; s++)
      for (size_t b = 0; b < c->b; b++)
        if (s >= c->lens[b])
          for (size_t j = 0; j < c->h; j++)
            dh[(s * c->b + b) * c->h + j] = 5.0f;
    tli_concat_pool_backward(dh, c->dout, argmax, c->lens, c->t, c->b, c->h);
    for (size_t s = 0; s < c->t; s++)
      for (size_t b = 0; b < c->b; b++)
        for (size_t j = 0; j < c->h; j++) {
          const size_t at = (s * c->b + b) * c->h + j;
          if (s >= c->lens[b]) {
            ck_assert_float_eq(dh[at], 5.0f);
            dh[at] = 0.0f; /* torch's gradient there is 0 */
          }
        }
    check_gold("dh", dh, c->dh, n);
    /* Inference needs no argmax buffer. */
    float *out2 = fzeros(no);
    tli_concat_pool_forward(out2, NULL, c->hs, c->lens, c->t, c->b, c->h);
    ck_assert(memcmp(out, out2, no * sizeof *out) == 0);
    free(out), free(out2), free(dh), free(argmax);
  }
}
END_TEST

typedef struct pool_ctx {
  const double *h, *dout;
  const size_t *lens;
  size_t t, b, hd;
} pool_ctx;

/* sum(dout * [last, max, mean]) over the real steps of each sequence. */
static double ref_pool_loss(const void *vctx) {
  const pool_ctx *p = vctx;
  double total = 0.0;
  for (size_t b = 0; b < p->b; b++)
    for (size_t j = 0; j < p->hd; j++) {
      const size_t len = p->lens[b];
      double mx = -INFINITY, sum = 0.0;
      for (size_t s = 0; s < len; s++) {
        const double v = p->h[(s * p->b + b) * p->hd + j];
        mx = fmax(mx, v);
        sum += v;
      }
      const double *d = p->dout + b * 3 * p->hd;
      total += d[j] * p->h[((len - 1) * p->b + b) * p->hd + j] +
               d[p->hd + j] * mx + d[2 * p->hd + j] * sum / (double)len;
    }
  return total;
}

START_TEST(concat_pool_backward_matches_finite_differences) {
  for (size_t k = 0; k < NELEM(layers_pool_cases); k++) {
    const layers_pool_case *c = &layers_pool_cases[k];
    const size_t n = c->t * c->b * c->h, no = c->b * 3 * c->h;
    double *h = to_double(c->hs, n), *dout = to_double(c->dout, no),
           *g = malloc(n * sizeof *g);
    pool_ctx ctx = {h, dout, c->lens, c->t, c->b, c->h};
    float *out = fzeros(no), *dh = fzeros(n);
    size_t *argmax = malloc(c->b * c->h * sizeof *argmax);
    tli_concat_pool_forward(out, argmax, c->hs, c->lens, c->t, c->b, c->h);
    tli_concat_pool_backward(dh, c->dout, argmax, c->lens, c->t, c->b, c->h);
    fd_grad(g, h, n, ref_pool_loss, &ctx);
    check_fd("dh", dh, g, n);
    free(h), free(dout), free(g), free(out), free(dh), free(argmax);
  }
}
END_TEST

/* Ties in the max go to the first step; the max gradient goes there only. */
START_TEST(concat_pool_ties_pick_the_first_step) {
  enum { T = 4, B = 2, H = 1 };
  /* seq 0 (len 4): 2, 1, 2, 2 -> max at step 0; seq 1 (len 3): 0, 3, 3. The
   * last step of seq 1 is padding holding a larger value that must be
   * ignored. */
  const float h[T * B * H] = {2, 0, 1, 3, 2, 3, 2, 99};
  const size_t lens[B] = {4, 3};
  float out[B * 3 * H], dh[T * B * H];
  size_t argmax[B * H];
  tli_concat_pool_forward(out, argmax, h, lens, T, B, H);
  ck_assert_uint_eq(argmax[0], 0);
  ck_assert_uint_eq(argmax[1], 1);
  const float want[6] = {2, 2, 7.0f / 4, 3, 3, 2};
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq(out[i], want[i]);
  const float dmax_only[6] = {0, 1, 0, 0, 1, 0};
  memset(dh, 0, sizeof dh);
  tli_concat_pool_backward(dh, dmax_only, argmax, lens, T, B, H);
  const float want_dh[8] = {1, 0, 0, 1, 0, 0, 0, 0};
  for (int i = 0; i < 8; i++)
    ck_assert_float_eq(dh[i], want_dh[i]);
}
END_TEST

START_TEST(concat_pool_find_bad_length_names_the_first) {
  const size_t ok[3] = {1, 4, 2}, zero[3] = {1, 0, 9}, big[3] = {1, 5, 0};
  ck_assert_uint_eq(tli_concat_pool_find_bad_length(ok, 3, 4), 3);
  ck_assert_uint_eq(tli_concat_pool_find_bad_length(zero, 3, 4), 1);
  ck_assert_uint_eq(tli_concat_pool_find_bad_length(big, 3, 4), 1);
}
END_TEST

/* ------------------------------------------------------- no allocation */

/* Every kernel, forward and backward, with the counting allocator
 * installed: not one allocation goes through libtl's hooks. */
START_TEST(kernels_do_not_allocate) {
  const layers_linear_case *lc = &layers_linear_cases[3];
  const layers_embedding_case *ec = &layers_embedding_cases[2];
  const layers_ce_case *cc = &layers_ce_cases[2];
  const layers_pool_case *pc = &layers_pool_cases[1];
  const layers_reg_case *rc = &layers_reg_cases[2];
  float *y = fzeros(lc->n * lc->out), *dx = fzeros(lc->n * lc->in),
        *dw = fzeros(lc->out * lc->in), *db = fzeros(lc->out),
        *work = fzeros(lc->n * lc->out);
  float *eo = fzeros(ec->t * ec->b * ec->dim),
        *edw = fzeros(ec->vocab * ec->dim), *mask = fzeros(ec->vocab);
  float *dl = fzeros(cc->n * cc->c), *ls = fzeros(cc->n * cc->c);
  float *po = fzeros(pc->b * 3 * pc->h), *pdh = fzeros(pc->t * pc->b * pc->h);
  size_t *am = malloc(pc->b * pc->h * sizeof *am);
  float *rdh = fzeros(rc->t * rc->b * rc->h);
  tli_rng rng;
  tli_rng_seed(&rng, 1);

  tlt_counter counter;
  tlt_counter_install(&counter);
  tli_linear_forward(y, lc->x, lc->w, lc->b, lc->n, lc->in, lc->out, lc->act);
  tli_linear_backward(dx, dw, db, work, lc->dy, lc->x, lc->w, y, lc->n, lc->in,
                      lc->out, lc->act);
  tli_dropout_mask(mask, ec->vocab, 0.3f, &rng);
  tli_embedding_forward(eo, ec->w, mask, ec->ids, ec->t * ec->b, ec->dim);
  tli_embedding_backward(edw, ec->dout, mask, ec->ids, ec->t * ec->b, ec->dim,
                         ec->padding_idx);
  tli_dropout_apply(eo, eo, eo, ec->dim);
  tli_dropout_locked_apply(eo, eo, mask, ec->t, ec->b);
  tli_cross_entropy(dl, cc->logits, cc->targets, cc->n, cc->c, cc->ignore_index,
                    1.0f, NULL);
  tli_log_softmax(ls, cc->logits, cc->n, cc->c);
  tli_softmax(ls, cc->logits, cc->n, cc->c);
  tli_accuracy(cc->logits, cc->targets, cc->n, cc->c, cc->ignore_index, NULL,
               NULL);
  tli_concat_pool_forward(po, am, pc->hs, pc->lens, pc->t, pc->b, pc->h);
  tli_concat_pool_backward(pdh, pc->dout, am, pc->lens, pc->t, pc->b, pc->h);
  const size_t rn = rc->t * rc->b * rc->h;
  tli_ar_penalty(rdh, rc->hd, rn, rc->alpha);
  tli_tar_penalty(rdh, rc->raw, rc->t, rc->b * rc->h, rc->beta);
  const size_t allocs = counter.allocs, frees = counter.frees;
  TLT_ASSERT_OK(tl_set_allocator(NULL));
  ck_assert_uint_eq(allocs, 0);
  ck_assert_uint_eq(frees, 0);
  /* The counter itself works: a libtl allocation would have been seen. */
  tlt_counter_install(&counter);
  void *p = tli_alloc(16);
  tli_free(p);
  ck_assert_uint_eq(counter.allocs, 1);
  TLT_ASSERT_OK(tl_set_allocator(NULL));

  free(y), free(dx), free(dw), free(db), free(work), free(eo), free(edw);
  free(mask), free(dl), free(ls), free(po), free(pdh), free(am), free(rdh);
}
END_TEST

/* Prints the worst errors seen, for the report; runs last. */
START_TEST(report_worst_errors) {
  printf("kernels_layers: worst rel err vs torch %.3g, vs finite "
         "differences %.3g\n",
         worst_gold_err, worst_fd_err);
}
END_TEST

int main(void) {
  Suite *s = suite_create("kernels_layers");
  TCase *tc = tcase_create("kernels_layers");
  tcase_add_test(tc, linear_matches_torch);
  tcase_add_test(tc, linear_backward_matches_finite_differences);
  tcase_add_test(tc, linear_backward_accumulates);
  tcase_add_test(tc, linear_skip_flags_and_in_place_work);
  tcase_add_test(tc, activations_are_finite_at_extremes);
  tcase_add_test(tc, embedding_matches_torch);
  tcase_add_test(tc, embedding_backward_matches_finite_differences);
  tcase_add_test(tc, embedding_backward_is_sparse_and_accumulates);
  tcase_add_test(tc, embedding_find_bad_id_names_the_first);
  tcase_add_test(tc, dropout_application_matches_torch);
  tcase_add_test(tc, dropout_backward_matches_finite_differences);
  tcase_add_test(tc, dropout_p0_is_exactly_identity);
  tcase_add_test(tc, dropout_mask_statistics_and_exact_scale);
  tcase_add_test(tc, locked_dropout_shares_the_mask_over_time);
  tcase_add_test(tc, embedding_dropout_drops_whole_words);
  tcase_add_test(tc, ar_tar_match_torch);
  tcase_add_test(tc, ar_tar_gradients_match_finite_differences_and_accumulate);
  tcase_add_test(tc, ar_tar_defaults_are_awd_lstm);
  tcase_add_test(tc, cross_entropy_matches_torch);
  tcase_add_test(tc, cross_entropy_gradient_matches_finite_differences);
  tcase_add_test(tc, cross_entropy_all_ignored_is_zero_not_nan);
  tcase_add_test(tc, cross_entropy_is_stable_for_huge_logits);
  tcase_add_test(tc, loss_find_bad_target_and_accuracy_ties);
  tcase_add_test(tc, tied_decoder_accumulates_into_the_embedding_gradient);
  tcase_add_test(tc, concat_pool_matches_torch);
  tcase_add_test(tc, concat_pool_backward_matches_finite_differences);
  tcase_add_test(tc, concat_pool_ties_pick_the_first_step);
  tcase_add_test(tc, concat_pool_find_bad_length_names_the_first);
  tcase_add_test(tc, kernels_do_not_allocate);
  tcase_add_test(tc, report_worst_errors);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
