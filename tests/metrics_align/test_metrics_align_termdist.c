/* lib/metrics part 2: term distributions and the term similarity
 * measures. */
#include "metrics_align_common.h"

/* ---------------------------------------------------- term distributions */

START_TEST(term_distribution_counts_and_smooths) {
  double got[8];
  TLT_ASSERT_OK(tl_term_distribution(got, term_ids, N_OF(term_ids), 8, 0.0));
  TLT_ASSERT_ARRAY_CLOSE(got, term_dist_k0, 8, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_term_distribution(got, term_ids, N_OF(term_ids), 8, 0.5));
  TLT_ASSERT_ARRAY_CLOSE(got, term_dist_k05, 8, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_term_distribution(got, NULL, 0, 8, 2.0));
  for (int i = 0; i < 8; i++)
    TLT_ASSERT_CLOSE(got[i], 0.125, 1e-15, 0.0);
}
END_TEST

START_TEST(term_distribution_rejects_bad_input) {
  double got[8];
  const int64_t neg[2] = {1, -1}, big[2] = {1, 8};
  TLT_ASSERT_FAILS(tl_term_distribution(NULL, term_ids, 8, 8, 0.0),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_term_distribution(got, NULL, 8, 8, 0.0), TL_E_INVALID_ARG,
                   "'ids'");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 0, 0.0),
                   TL_E_INVALID_ARG, "vocab_size");
  TLT_ASSERT_FAILS(tl_term_distribution(got, neg, 2, 8, 0.0), TL_E_INVALID_ARG,
                   "ids[1] = -1");
  TLT_ASSERT_FAILS(tl_term_distribution(got, big, 2, 8, 0.0), TL_E_INVALID_ARG,
                   "ids[1] = 8");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 8, -0.5),
                   TL_E_INVALID_ARG, "smoothing");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 8, INFINITY),
                   TL_E_INVALID_ARG, "smoothing");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 0, 8, 0.0),
                   TL_E_INVALID_ARG, "no tokens");
}
END_TEST

START_TEST(term_similarity_matches_scipy) {
  double got[TL_TERM_SIMILARITY_COUNT];
  TLT_ASSERT_OK(tl_term_similarity(got, sim_p, sim_q, 8, 0.99));
  TLT_ASSERT_ARRAY_CLOSE(got, sim_want_a099, 6, 1e-10, 0.0);
  TLT_ASSERT_OK(tl_term_similarity(got, sim_p, sim_q, 8, 0.5));
  TLT_ASSERT_ARRAY_CLOSE(got, sim_want_a05, 6, 1e-12, 0.0);
}
END_TEST

START_TEST(term_similarity_edge_cases) {
  double got[6];
  const double p[3] = {1, 2, 3}, disjoint_p[2] = {1, 0}, disjoint_q[2] = {0, 1};
  TLT_ASSERT_OK(tl_term_similarity(got, p, p, 3, 0.99));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_JENSEN_SHANNON], 0.0, 1e-15, 1.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_RENYI], 0.0, 1e-12, 1.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_COSINE], 1.0, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_BHATTACHARYYA], 0.0, 1e-15, 1.0);
  TLT_ASSERT_OK(tl_term_similarity(got, disjoint_p, disjoint_q, 2, 0.99));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_JENSEN_SHANNON], log(2.0), 1e-15,
                   0.0);
  ck_assert(isinf(got[TL_SELECTION_FEATURE_RENYI]) &&
            got[TL_SELECTION_FEATURE_RENYI] > 0);
  ck_assert(isinf(got[TL_SELECTION_FEATURE_BHATTACHARYYA]));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_VARIATIONAL], 2.0, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_COSINE], 0.0, 1e-15, 1.0);
  /* alpha > 1 with q = 0 < p: infinite. */
  const double q0[3] = {1, 1, 0};
  TLT_ASSERT_OK(tl_term_similarity(got, p, q0, 3, 2.0));
  ck_assert(isinf(got[TL_SELECTION_FEATURE_RENYI]));
}
END_TEST

START_TEST(term_similarity_rejects_bad_input) {
  double got[6];
  const double p[3] = {1, 2, 3}, neg[3] = {1, -2, 3}, zero[3] = {0, 0, 0},
               nan_[3] = {1, NAN, 0};
  TLT_ASSERT_FAILS(tl_term_similarity(NULL, p, p, 3, 0.99), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_term_similarity(got, NULL, p, 3, 0.99), TL_E_INVALID_ARG,
                   "'p'");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, p, 0, 0.99), TL_E_INVALID_ARG,
                   "n must");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, p, 3, 1.0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, p, 3, 0.0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, neg, 3, 0.99), TL_E_INVALID_ARG,
                   "negative");
  TLT_ASSERT_FAILS(tl_term_similarity(got, zero, p, 3, 0.99), TL_E_INVALID_ARG,
                   "sums to 0");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, nan_, 3, 0.99), TL_E_NUMERIC,
                   "'q'");
}
END_TEST

TCase *metrics_align_case_termdist(void) {
  TCase *t = tcase_create("termdist");
  tcase_add_test(t, term_distribution_counts_and_smooths);
  tcase_add_test(t, term_distribution_rejects_bad_input);
  tcase_add_test(t, term_similarity_matches_scipy);
  tcase_add_test(t, term_similarity_edge_cases);
  tcase_add_test(t, term_similarity_rejects_bad_input);
  return t;
}
