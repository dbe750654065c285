/* lib/metrics part 2: data-selection features (Ruder & Plank) and
 * top-k selection. */
#include "metrics_align_common.h"

/* -------------------------------------------------------- data selection */

START_TEST(selection_features_match_ruder_plank) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT];
  TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, sel_vectors, SEL_E, NULL));
  TLT_ASSERT_ARRAY_CLOSE(got, sel_features_default, N_OF(got), 1e-10, 1e-15);
  tl_selection_options o;
  TLT_ASSERT_OK(tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION));
  ck_assert(o.renyi_alpha == 0.99 && o.smoothing == 0.0);
  o.renyi_alpha = 0.5;
  o.smoothing = 1.0;
  TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, NULL, 0, &o));
  TLT_ASSERT_ARRAY_CLOSE(got, sel_features_novec_k1, N_OF(got), 1e-10, 1e-15);
}
END_TEST

/* Without smoothing the features sum over each example's types only; they
 * must equal the dense measures of tl_term_similarity. */
START_TEST(selection_sparse_path_equals_the_dense_measures) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT], p[SEL_V], want[6];
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
  const double alphas[2] = {0.99, 2.0};
  for (int a = 0; a < 2; a++) {
    o.renyi_alpha = alphas[a];
    TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                        sel_target, NULL, 0, &o));
    for (size_t i = 0; i < SEL_N; i++) {
      const size_t len = sel_offsets[i + 1] - sel_offsets[i];
      TLT_ASSERT_OK(
          tl_term_distribution(p, sel_ids + sel_offsets[i], len, SEL_V, 0.0));
      TLT_ASSERT_OK(tl_term_similarity(want, p, sel_target, SEL_V, alphas[a]));
      for (int j = 0; j < 6; j++) {
        const double g = got[i * TL_SELECTION_FEATURE_COUNT + j];
        if (isinf(want[j]))
          ck_assert(isinf(g) && g > 0); /* alpha 2, target 0 at id 9 */
        else
          TLT_ASSERT_CLOSE(g, want[j], 1e-12, 1e-15);
      }
    }
  }
}
END_TEST

START_TEST(selection_features_reject_bad_input) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT];
  const size_t bad_start[5] = {1, 4, 10, 11, 16};
  const size_t empty[5] = {0, 4, 4, 11, 16};
  const int64_t ids_big[2] = {0, 10};
  const size_t two[2] = {0, 2};
  double nan_target[SEL_V];
  memcpy(nan_target, sel_target, sizeof nan_target);
  nan_target[3] = NAN;
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
#define SF(out, ids, off, n, V, t, vec, e, opts)                               \
  tl_selection_features(out, ids, off, n, V, t, vec, e, opts)
  TLT_ASSERT_FAILS(
      SF(NULL, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, NULL),
      TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 0, 10, sel_target, NULL, 0, NULL),
      TL_E_INVALID_ARG, "n must");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, bad_start, 4, 10, sel_target, NULL, 0, NULL),
      TL_E_INVALID_ARG, "offsets[0]");
  TLT_ASSERT_FAILS(SF(got, sel_ids, empty, 4, 10, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "example 1 is empty");
  TLT_ASSERT_FAILS(SF(got, ids_big, two, 1, 10, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "ids[1] = 10");
  TLT_ASSERT_FAILS(SF(got, sel_ids, sel_offsets, 4, 10, NULL, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "'target'");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, nan_target, NULL, 0, NULL),
      TL_E_NUMERIC, "'target'");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, sel_vectors, 0, NULL),
      TL_E_INVALID_ARG, "embed_dim");
  o.version = 99;
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, &o),
      TL_E_UNSUPPORTED, "version 99");
  o.version = TL_SELECTION_OPTIONS_VERSION;
  o.renyi_alpha = 1.0;
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, &o),
      TL_E_INVALID_ARG, "renyi_alpha");
  o.renyi_alpha = 0.99;
  o.smoothing = -1.0;
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, &o),
      TL_E_INVALID_ARG, "smoothing");
  TLT_ASSERT_FAILS(tl_selection_options_init(&o, 2), TL_E_UNSUPPORTED,
                   "version 2");
#undef SF
}
END_TEST

/* Overflowing sizes and values found by probing the public functions:
 * refused with a message instead of a crash, all-zero "distributions" or a
 * NaN feature. */
START_TEST(termdist_and_selection_refuse_overflow) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT];
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 8, 1e308),
                   TL_E_INVALID_ARG, "overflows");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, SIZE_MAX, 1.0),
                   TL_E_INVALID_ARG, "vocab_size");
  TLT_ASSERT_FAILS(tl_term_similarity(got, sim_p, sim_q, SIZE_MAX, 0.99),
                   TL_E_INVALID_ARG, "too large");
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SIZE_MAX,
                                         SEL_V, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "n = ");
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SIZE_MAX, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "vocab_size");
  o.smoothing = 1e308;
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SEL_V, sel_target, NULL, 0, &o),
                   TL_E_INVALID_ARG, "opts->smoothing");
  /* Word vectors whose squared norms leave the double range would give
   * Inf / Inf = NaN cosines (or pass for zero vectors). */
  double vec[SEL_V * SEL_E];
  memcpy(vec, sel_vectors, sizeof vec);
  for (size_t j = 0; j < SEL_E; j++)
    vec[2 * SEL_E + j] = 1e200;
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SEL_V, sel_target, vec, SEL_E, NULL),
                   TL_E_NUMERIC, "word_vectors row 2 overflows");
  for (size_t j = 0; j < SEL_E; j++)
    vec[2 * SEL_E + j] = 1e-200;
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SEL_V, sel_target, vec, SEL_E, NULL),
                   TL_E_NUMERIC, "word_vectors row 2 underflows");
  /* Scaling every vector by one factor changes no cosine. */
  double want[SEL_N * TL_SELECTION_FEATURE_COUNT];
  for (size_t j = 0; j < SEL_V * SEL_E; j++)
    vec[j] = 1e-100 * sel_vectors[j];
  TLT_ASSERT_OK(tl_selection_features(want, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, sel_vectors, SEL_E, NULL));
  TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, vec, SEL_E, NULL));
  TLT_ASSERT_ARRAY_CLOSE(got, want, N_OF(got), 1e-12, 1e-15);
}
END_TEST

/* A large Renyi order: p^alpha underflows to 0 and q^(1 - alpha) overflows
 * to Inf, which made the sparse Renyi divergence 0 * Inf = NaN and the Renyi
 * entropy +Inf. */
START_TEST(selection_large_renyi_order) {
  enum { V = 4 };
  const int64_t ids[6] = {0, 0, 1, 2, 3, 3};
  const size_t offsets[3] = {0, 3, 6};
  const double target[V] = {0.6, 0.3, 0.05, 0.05};
  double got[2 * TL_SELECTION_FEATURE_COUNT], p[V], want[6];
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
  /* Example 0: p = (2/3, 1/3) on types 0, 1: (1/3)^700 = 0 and
   * 0.3^-699 = Inf in double. p / q = 10/9 on both types, so the sum
   * p^alpha q^(1-alpha) is 0.9 (10/9)^700. */
  o.renyi_alpha = 700.0;
  TLT_ASSERT_OK(
      tl_selection_features(got, ids, offsets, 2, V, target, NULL, 0, &o));
  const double by_hand = (log(0.9) + 700.0 * log(10.0 / 9.0)) / 699.0;
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_RENYI], by_hand, 1e-12, 0.0);
  TLT_ASSERT_OK(tl_term_distribution(p, ids, 3, V, 0.0));
  TLT_ASSERT_OK(tl_term_similarity(want, p, target, V, 700.0));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_RENYI],
                   want[TL_SELECTION_FEATURE_RENYI], 1e-12, 0.0);
  /* Renyi entropy, corpus P = {2, 1, 1, 2} / 6; example 1 has types 2, 3
   * with P = 1/6 and 1/3. alpha 2000: (1/6)^2000 and (1/3)^2000 are 0 in
   * double; the value is (2000 ln(1/3) + ln(1 + 2^-2000)) / (1 - 2000). */
  o.renyi_alpha = 2000.0;
  TLT_ASSERT_OK(
      tl_selection_features(got, ids, offsets, 2, V, target, NULL, 0, &o));
  TLT_ASSERT_CLOSE(
      got[TL_SELECTION_FEATURE_COUNT + TL_SELECTION_FEATURE_RENYI_ENTROPY],
      2000.0 * log(3.0) / 1999.0, 1e-14, 0.0);
}
END_TEST

START_TEST(select_top_orders_by_score_ties_by_index) {
  enum { N = 6, F = 2 };
  size_t idx[N];
  double scores[N];
  TLT_ASSERT_OK(tl_select_top(idx, scores, top_features, N, F, top_theta, N));
  TLT_ASSERT_ARRAY_CLOSE(scores, top_scores, N, 1e-15, 0.0);
  for (int i = 0; i < N; i++)
    ck_assert_uint_eq(idx[i], top_order[i]);
  /* Scores 1, 1, 1.5, 0.25, 1.5, 0.625: equal scores keep index order. */
  const size_t want[N] = {2, 4, 0, 1, 5, 3};
  for (int i = 0; i < N; i++)
    ck_assert_uint_eq(idx[i], want[i]);
  size_t three[3];
  TLT_ASSERT_OK(tl_select_top(three, NULL, top_features, N, F, top_theta, 3));
  ck_assert(memcmp(three, idx, sizeof three) == 0);
}
END_TEST

START_TEST(select_top_rejects_bad_input) {
  size_t idx[6];
  double inf_feat[2] = {INFINITY, 1.0}, nan_theta[2] = {NAN, 1.0};
  TLT_ASSERT_FAILS(tl_select_top(NULL, NULL, top_features, 6, 2, top_theta, 1),
                   TL_E_INVALID_ARG, "'out_indices'");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, top_theta, 0),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, top_theta, 7),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 0, 2, top_theta, 1),
                   TL_E_INVALID_ARG, "features");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, inf_feat, 1, 2, top_theta, 1),
                   TL_E_NUMERIC, "features");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, nan_theta, 1),
                   TL_E_NUMERIC, "theta");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, NULL, 1),
                   TL_E_INVALID_ARG, "theta");
}
END_TEST

TCase *metrics_align_case_selection(void) {
  TCase *t = tcase_create("selection");
  tcase_add_test(t, selection_features_match_ruder_plank);
  tcase_add_test(t, selection_sparse_path_equals_the_dense_measures);
  tcase_add_test(t, selection_features_reject_bad_input);
  tcase_add_test(t, termdist_and_selection_refuse_overflow);
  tcase_add_test(t, selection_large_renyi_order);
  tcase_add_test(t, select_top_orders_by_score_ties_by_index);
  tcase_add_test(t, select_top_rejects_bad_input);
  return t;
}
