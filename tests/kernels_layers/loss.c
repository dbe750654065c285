/* lib/kernels/loss.c: softmax cross-entropy (ignore_index, all ignored, huge
 * logits) against torch and finite differences; accuracy ties. */
#include "kernels_layers_common.h"

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

/* The vectorised finiteness scan finds the first NaN or infinity wherever
 * it sits (inside a block of lanes, in the scalar tail, after another
 * block), and lets the largest finite floats and subnormals pass. */
START_TEST(find_nonfinite_finds_the_first) {
  enum { N = 101 };
  float x[N];
  for (size_t i = 0; i < N; i++)
    x[i] = i % 3 ? FLT_MAX : -FLT_MIN / 4.0f;
  ck_assert_uint_eq(tli_find_nonfinite(x, N), N);
  ck_assert_uint_eq(tli_find_nonfinite(x, 0), 0);
  const float bad[3] = {NAN, INFINITY, -INFINITY};
  for (size_t i = 0; i < N; i++)
    for (size_t b = 0; b < 3; b++) {
      const float keep = x[i];
      x[i] = bad[b];
      ck_assert_uint_eq(tli_find_nonfinite(x, N), i);
      if (i + 1 < N) { /* a later one does not hide the first */
        x[N - 1] = NAN;
        ck_assert_uint_eq(tli_find_nonfinite(x, N), i);
        x[N - 1] = (N - 1) % 3 ? FLT_MAX : -FLT_MIN / 4.0f;
      }
      x[i] = keep;
    }
}
END_TEST

TCase *kernels_layers_tcase_loss(void);
TCase *kernels_layers_tcase_loss(void) {
  TCase *tc = tcase_create("cross_entropy");
  tcase_add_test(tc, cross_entropy_matches_torch);
  tcase_add_test(tc, cross_entropy_gradient_matches_finite_differences);
  tcase_add_test(tc, cross_entropy_all_ignored_is_zero_not_nan);
  tcase_add_test(tc, cross_entropy_is_stable_for_huge_logits);
  tcase_add_test(tc, loss_find_bad_target_and_accuracy_ties);
  tcase_add_test(tc, find_nonfinite_finds_the_first);
  return tc;
}
