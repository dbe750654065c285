/* lib/kernels/pool.c: masked concat pooling against torch and finite
 * differences, ties, bad lengths. */
#include "kernels_layers_common.h"

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

TCase *kernels_layers_tcase_pool(void);
TCase *kernels_layers_tcase_pool(void) {
  TCase *tc = tcase_create("concat_pool");
  tcase_add_test(tc, concat_pool_matches_torch);
  tcase_add_test(tc, concat_pool_backward_matches_finite_differences);
  tcase_add_test(tc, concat_pool_ties_pick_the_first_step);
  tcase_add_test(tc, concat_pool_find_bad_length_names_the_first);
  return tc;
}
