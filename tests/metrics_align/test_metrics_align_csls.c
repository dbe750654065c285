/* lib/metrics part 2: CSLS retrieval and precision@k. */
#include "metrics_align_common.h"

START_TEST(csls_matches_muse_formula) {
  tl_csls_options o;
  TLT_ASSERT_OK(tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION));
  ck_assert_uint_eq(o.knn, 10);
  ck_assert_uint_eq(o.top, 1);
  o.knn = CSLS_KNN;
  o.top = CSLS_TOP;
  size_t idx[CSLS_NQ * CSLS_TOP];
  double scores[CSLS_NQ * CSLS_TOP];
  TLT_ASSERT_OK(tl_csls_retrieve(idx, scores, csls_xq, CSLS_NQ, csls_y, CSLS_NT,
                                 CSLS_D, &o));
  for (size_t i = 0; i < N_OF(idx); i++)
    ck_assert_uint_eq(idx[i], csls_idx[i]);
  TLT_ASSERT_ARRAY_CLOSE(scores, csls_scores, N_OF(scores), 1e-12, 1e-12);
}
END_TEST

static int cmp_desc(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Mean of the k largest of v[0..n) (v is reordered). */
static double mean_top(double *v, size_t n, size_t k) {
  qsort(v, n, sizeof *v, cmp_desc);
  double s = 0.0;
  for (size_t i = 0; i < k; i++)
    s += v[i];
  return s / (double)k;
}

/* More queries than one 256-row block: the blocked implementation must
 * agree with a direct full-matrix computation. */
START_TEST(csls_blocks_agree_with_the_full_matrix) {
  enum { NQ = 300, NT = 270, D = 5, KNN = 4, TOP = 3 };
  double *xq = tli_alloc(NQ * D * sizeof *xq),
         *y = tli_alloc(NT * D * sizeof *y);
  double *sim = tli_alloc(NQ * NT * sizeof *sim),
         *tmp = tli_alloc(NQ * sizeof *tmp);
  double rt[NQ], rs[NT], scores[NQ * TOP];
  size_t idx[NQ * TOP];
  tli_rng rng;
  tli_rng_seed(&rng, 5);
  for (int i = 0; i < NQ * D; i++)
    xq[i] = tli_rng_normal(&rng);
  for (int i = 0; i < NT * D; i++)
    y[i] = tli_rng_normal(&rng);
  for (int i = 0; i < NQ; i++)
    for (int j = 0; j < NT; j++) {
      double dot = 0.0, a = 0.0, b = 0.0;
      for (int c = 0; c < D; c++) {
        dot += xq[i * D + c] * y[j * D + c];
        a += xq[i * D + c] * xq[i * D + c];
        b += y[j * D + c] * y[j * D + c];
      }
      sim[i * NT + j] = dot / (sqrt(a) * sqrt(b));
    }
  for (int i = 0; i < NQ; i++) {
    memcpy(tmp, sim + i * NT, NT * sizeof *tmp);
    rt[i] = mean_top(tmp, NT, KNN);
  }
  for (int j = 0; j < NT; j++) {
    for (int i = 0; i < NQ; i++)
      tmp[i] = sim[i * NT + j];
    rs[j] = mean_top(tmp, NQ, KNN);
  }
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  o.knn = KNN;
  o.top = TOP;
  TLT_ASSERT_OK(tl_csls_retrieve(idx, scores, xq, NQ, y, NT, D, &o));
  for (int i = 0; i < NQ; i++) {
    double prev = INFINITY;
    for (int r = 0; r < TOP; r++) {
      const size_t j = idx[i * TOP + r];
      const double want = 2.0 * sim[i * NT + j] - rt[i] - rs[j];
      TLT_ASSERT_CLOSE(scores[i * TOP + r], want, 1e-12, 1.0);
      ck_assert(want <= prev + 1e-12);
      prev = want;
    }
    /* No target outside the list beats the last one listed. */
    for (int j = 0; j < NT; j++) {
      int listed = 0;
      for (int r = 0; r < TOP; r++)
        listed |= idx[i * TOP + r] == (size_t)j;
      if (!listed)
        ck_assert(2.0 * sim[i * NT + j] - rt[i] - rs[j] <= prev + 1e-12);
    }
  }
  tli_free(tmp);
  tli_free(sim);
  tli_free(y);
  tli_free(xq);
}
END_TEST

START_TEST(csls_ties_keep_the_lower_index) {
  /* Two identical targets: every query scores them equally. */
  const double q[4] = {1, 0, 0.6, 0.8}, y[6] = {0.3, 0.4, 0.3, 0.4, 1, 0};
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  o.knn = 1;
  o.top = 3;
  size_t idx[6];
  TLT_ASSERT_OK(tl_csls_retrieve(idx, NULL, q, 2, y, 3, 2, &o));
  /* Query 0 is target 2; query 1 is targets 0 and 1 alike. */
  const size_t want[6] = {2, 0, 1, 0, 1, 2};
  for (int i = 0; i < 6; i++)
    ck_assert_uint_eq(idx[i], want[i]);
}
END_TEST

START_TEST(csls_rejects_bad_input) {
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  size_t idx[30 * 3];
  const double zero_row[4] = {1, 1, 0, 0};
  TLT_ASSERT_FAILS(
      tl_csls_retrieve(NULL, NULL, csls_xq, 30, csls_y, 25, 4, NULL),
      TL_E_INVALID_ARG, "out_indices");
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 5, 4, NULL),
                   TL_E_INVALID_ARG, "knn");
  o.knn = 0;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 25, 4, &o),
                   TL_E_INVALID_ARG, "knn");
  o.knn = 3;
  o.top = 26;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 25, 4, &o),
                   TL_E_INVALID_ARG, "top");
  o.top = 1;
  o.knn = 1;
  idx[0] = 12345;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, zero_row, 2, csls_y, 25, 2, &o),
                   TL_E_INVALID_ARG, "row 1 of 'xq'");
  ck_assert_uint_eq(idx[0], 12345);
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 0, 4, &o),
                   TL_E_INVALID_ARG, "'y'");
  o.version = 3;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 25, 4, &o),
                   TL_E_UNSUPPORTED, "version 3");
  TLT_ASSERT_FAILS(tl_csls_options_init(&o, 0), TL_E_UNSUPPORTED, "version 0");
}
END_TEST

START_TEST(precision_at_k_counts_distinct_source_words) {
  /* 4 queries x 3 ranked targets. */
  const size_t retrieved[12] = {5, 1, 2, 7, 8, 9, 3, 4, 0, 6, 6, 6};
  /* word 0 -> {1, 2}, word 1 -> {9}, word 2 -> {3}; word 3 not listed. */
  const size_t src[4] = {0, 0, 1, 2}, tgt[4] = {1, 2, 9, 3};
  double p;
  TLT_ASSERT_OK(tl_precision_at_k(&p, retrieved, 4, 3, 1, src, tgt, 4));
  TLT_ASSERT_CLOSE(p, 1.0 / 3.0, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_precision_at_k(&p, retrieved, 4, 3, 2, src, tgt, 4));
  TLT_ASSERT_CLOSE(p, 2.0 / 3.0, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_precision_at_k(&p, retrieved, 4, 3, 3, src, tgt, 4));
  TLT_ASSERT_CLOSE(p, 1.0, 1e-15, 0.0);
  const size_t bad_src[1] = {4};
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 4, src, tgt, 4),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 0, src, tgt, 4),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 1, bad_src, tgt, 1),
                   TL_E_INVALID_ARG, "gold_src[0] = 4");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 1, src, tgt, 0),
                   TL_E_INVALID_ARG, "n_gold");
  TLT_ASSERT_FAILS(tl_precision_at_k(NULL, retrieved, 4, 3, 1, src, tgt, 4),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, NULL, 4, 3, 1, src, tgt, 4),
                   TL_E_INVALID_ARG, "retrieved");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 0, 3, 1, src, tgt, 4),
                   TL_E_INVALID_ARG, "n_queries");
}
END_TEST

TCase *metrics_align_case_csls(void) {
  TCase *t = tcase_create("csls");
  tcase_add_test(t, csls_matches_muse_formula);
  tcase_add_test(t, csls_blocks_agree_with_the_full_matrix);
  tcase_add_test(t, csls_ties_keep_the_lower_index);
  tcase_add_test(t, csls_rejects_bad_input);
  tcase_add_test(t, precision_at_k_counts_distinct_source_words);
  return t;
}
