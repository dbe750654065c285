/* lib/metrics part 2: orthogonal Procrustes. */
#include "metrics_align_common.h"

/* ------------------------------------------------- Procrustes and CSLS */

START_TEST(procrustes_matches_numpy_and_recovers_the_rotation) {
  enum { D = PROC_D };
  double w[D * D];
  TLT_ASSERT_OK(tl_procrustes(w, proc_x, proc_y, PROC_N, D));
  assert_array_rel(w, proc_w, D * D, 1e-10);
  for (int a = 0; a < D; a++)
    for (int b = 0; b < D; b++) {
      double dot = 0.0;
      for (int j = 0; j < D; j++)
        dot += w[j * D + a] * w[j * D + b];
      TLT_ASSERT_CLOSE(dot, a == b ? 1.0 : 0.0, 1e-13, 1.0);
    }
  /* Noise 0.01: the planted rotation comes back to about 1e-2. */
  TLT_ASSERT_ARRAY_CLOSE(w, proc_rotation, D * D, 2e-2, 1.0);
  /* Without noise it comes back exactly. */
  double y[PROC_N * D];
  for (int i = 0; i < PROC_N; i++)
    for (int r = 0; r < D; r++) {
      double s = 0.0;
      for (int c = 0; c < D; c++)
        s += proc_rotation[r * D + c] * proc_x[i * D + c];
      y[i * D + r] = s;
    }
  TLT_ASSERT_OK(tl_procrustes(w, proc_x, y, PROC_N, D));
  TLT_ASSERT_ARRAY_CLOSE(w, proc_rotation, D * D, 1e-12, 1.0);
}
END_TEST

START_TEST(procrustes_rejects_bad_input) {
  double w[4], bad[4] = {1, NAN, 0, 1};
  TLT_ASSERT_FAILS(tl_procrustes(NULL, proc_x, proc_y, 4, 2), TL_E_INVALID_ARG,
                   "out_w");
  TLT_ASSERT_FAILS(tl_procrustes(w, NULL, proc_y, 4, 2), TL_E_INVALID_ARG,
                   "'x'");
  TLT_ASSERT_FAILS(tl_procrustes(w, proc_x, proc_y, 0, 2), TL_E_INVALID_ARG,
                   "'x'");
  TLT_ASSERT_FAILS(tl_procrustes(w, proc_x, proc_y, 4, 0), TL_E_INVALID_ARG,
                   "dimension d");
  TLT_ASSERT_FAILS(tl_procrustes(w, proc_x, bad, 2, 2), TL_E_NUMERIC, "'y'");
}
END_TEST

TCase *metrics_align_case_procrustes(void) {
  TCase *t = tcase_create("procrustes");
  tcase_add_test(t, procrustes_matches_numpy_and_recovers_the_rotation);
  tcase_add_test(t, procrustes_rejects_bad_input);
  return t;
}
