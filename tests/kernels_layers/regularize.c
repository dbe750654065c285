/* lib/kernels/regularize.c: AWD-LSTM's AR and TAR against torch and finite
 * differences. */
#include "kernels_layers_common.h"

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

TCase *kernels_layers_tcase_regularize(void);
TCase *kernels_layers_tcase_regularize(void) {
  TCase *tc = tcase_create("ar_tar");
  tcase_add_test(tc, ar_tar_match_torch);
  tcase_add_test(tc, ar_tar_gradients_match_finite_differences_and_accumulate);
  tcase_add_test(tc, ar_tar_defaults_are_awd_lstm);
  return tc;
}
