/* lib/kernels/linear.c: forward and gradients against torch golden values and
 * finite differences, accumulation, skip flags, activations at extremes. */
#include "kernels_layers_common.h"

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

/* kernels/matvec.h against a double-precision reference over shapes with
 * partial blocks (N not a multiple of 8, K not a multiple of the lanes),
 * one and two weights, overwrite and add; each output row's bits do not
 * depend on the other input rows. */
START_TEST(matvec_rows_matches_a_double_reference) {
  static const size_t Bs[] = {1, 3, 8}, Ns[] = {1, 7, 8, 13, 52};
  static const size_t Ks[] = {1, 5, 8, 17, 40};
  tli_rng rng;
  tli_rng_seed(&rng, 11);
  float w1[52 * 40], w2[52 * 40], x1[8 * 40], x2[8 * 40];
  float y[8 * 52], y0[8 * 52], row[52];
  for (size_t i = 0; i < NELEM(w1); i++) {
    w1[i] = 2.0f * tli_rng_uniform_f(&rng) - 1.0f;
    w2[i] = 2.0f * tli_rng_uniform_f(&rng) - 1.0f;
  }
  for (size_t i = 0; i < NELEM(x1); i++) {
    x1[i] = 2.0f * tli_rng_uniform_f(&rng) - 1.0f;
    x2[i] = 2.0f * tli_rng_uniform_f(&rng) - 1.0f;
  }
  for (size_t bi = 0; bi < NELEM(Bs); bi++)
    for (size_t ni = 0; ni < NELEM(Ns); ni++)
      for (size_t ki = 0; ki < NELEM(Ks); ki++)
        for (int two = 0; two < 2; two++)
          for (int add = 0; add < 2; add++) {
            const size_t B = Bs[bi], N = Ns[ni], k1 = Ks[ki];
            const size_t k2 = Ks[(ki + 2) % NELEM(Ks)];
            for (size_t i = 0; i < B * N; i++)
              y[i] = y0[i] = (float)i * 0.25f - 3.0f;
            tli_matvec_rows(B, N, w1, k1, x1, two ? w2 : NULL, k2, x2, y, add);
            for (size_t b = 0; b < B; b++)
              for (size_t r = 0; r < N; r++) {
                double want = add ? (double)y0[b * N + r] : 0.0, mag = 1.0;
                for (size_t k = 0; k < k1; k++) {
                  want += (double)w1[r * k1 + k] * x1[b * k1 + k];
                  mag += fabs((double)w1[r * k1 + k] * x1[b * k1 + k]);
                }
                for (size_t k = 0; two && k < k2; k++) {
                  want += (double)w2[r * k2 + k] * x2[b * k2 + k];
                  mag += fabs((double)w2[r * k2 + k] * x2[b * k2 + k]);
                }
                ck_assert_msg(fabs(y[b * N + r] - want) <=
                                  1e-6 * mag + 4.0 * fabs(want) * FLT_EPSILON,
                              "B %zu N %zu k1 %zu two %d add %d: y[%zu][%zu] "
                              "= %.9g, want %.9g",
                              B, N, k1, two, add, b, r, (double)y[b * N + r],
                              want);
              }
            /* the last input row alone gives the same bits */
            const size_t last = B - 1;
            for (size_t r = 0; r < N; r++)
              row[r] = y0[last * N + r];
            tli_matvec_rows(1, N, w1, k1, x1 + last * k1, two ? w2 : NULL, k2,
                            x2 + last * k2, row, add);
            ck_assert(memcmp(row, y + last * N, N * sizeof(float)) == 0);
          }
}
END_TEST

/* The three forward paths by rows and weight size (sgemm, the few-row
 * kernel, sgemv for one row against a weight over 1 MB) against a double
 * reference, with the bias and a tanh. */
START_TEST(linear_forward_paths_match_a_double_reference) {
  enum { IN = 300, OUT = 1000 }; /* 300k floats: the sgemv path at n = 1 */
  tli_rng rng;
  tli_rng_seed(&rng, 12);
  float *w = tli_alloc(IN * OUT * sizeof(float)), b[OUT], x[9 * IN];
  float *y = tli_alloc(9 * OUT * sizeof(float));
  ck_assert(w != NULL && y != NULL);
  for (size_t i = 0; i < (size_t)IN * OUT; i++)
    w[i] = 0.1f * (2.0f * tli_rng_uniform_f(&rng) - 1.0f);
  for (size_t i = 0; i < OUT; i++)
    b[i] = 2.0f * tli_rng_uniform_f(&rng) - 1.0f;
  for (size_t i = 0; i < NELEM(x); i++)
    x[i] = 2.0f * tli_rng_uniform_f(&rng) - 1.0f;
  static const size_t ns[] = {1, 2, 8, 9};
  static const size_t ins[] = {IN, 40}; /* 40k floats: the kernel at n = 1 */
  for (size_t ii = 0; ii < NELEM(ins); ii++)
    for (size_t ni = 0; ni < NELEM(ns); ni++) {
      const size_t n = ns[ni], in = ins[ii];
      tli_linear_forward(y, x, w, b, n, in, OUT, TLI_ACT_TANH);
      for (size_t r = 0; r < n; r++)
        for (size_t o = 0; o < OUT; o++) {
          double z = b[o];
          for (size_t k = 0; k < in; k++)
            z += (double)w[o * in + k] * x[r * in + k];
          ck_assert_msg(fabs(y[r * OUT + o] - tanh(z)) < 2e-6,
                        "n %zu in %zu: y[%zu][%zu] = %.9g, want %.9g", n, in, r,
                        o, (double)y[r * OUT + o], tanh(z));
        }
    }
  tli_free(w);
  tli_free(y);
}
END_TEST

TCase *kernels_layers_tcase_linear(void);
TCase *kernels_layers_tcase_linear(void) {
  TCase *tc = tcase_create("linear");
  tcase_add_test(tc, linear_matches_torch);
  tcase_add_test(tc, linear_backward_matches_finite_differences);
  tcase_add_test(tc, linear_backward_accumulates);
  tcase_add_test(tc, linear_skip_flags_and_in_place_work);
  tcase_add_test(tc, activations_are_finite_at_extremes);
  tcase_add_test(tc, matvec_rows_matches_a_double_reference);
  tcase_add_test(tc, linear_forward_paths_match_a_double_reference);
  return tc;
}
