/* lib/kernels/dropout.c: standard, locked and embedding dropout: masks against
 * torch, p = 0 identity, mask statistics and exact scale. */
#include "kernels_layers_common.h"

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

TCase *kernels_layers_tcase_dropout(void);
TCase *kernels_layers_tcase_dropout(void) {
  TCase *tc = tcase_create("dropout");
  tcase_add_test(tc, dropout_application_matches_torch);
  tcase_add_test(tc, dropout_backward_matches_finite_differences);
  tcase_add_test(tc, dropout_p0_is_exactly_identity);
  tcase_add_test(tc, dropout_mask_statistics_and_exact_scale);
  tcase_add_test(tc, locked_dropout_shares_the_mask_over_time);
  tcase_add_test(tc, embedding_dropout_drops_whole_words);
  return tc;
}
