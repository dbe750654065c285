/* lib/metrics part 1: divergences and distances, 1-D and sliced
 * Wasserstein, Sinkhorn, MMD^2. Golden values come from
 * tests/fixtures/gen_metrics_div.py (SciPy, POT, numpy). */
/* One test case per concern, each in test_metrics_div_<concern>.c, so that
 * one runs alone with CK_RUN_CASE=<concern>. */
#include "metrics_div_common.h"

static Suite *metrics_div_suite(void) {
  Suite *s = suite_create("metrics_div");
  suite_add_tcase(s, metrics_div_case_divergences());
  suite_add_tcase(s, metrics_div_case_fast_paths());
  suite_add_tcase(s, metrics_div_case_wasserstein());
  suite_add_tcase(s, metrics_div_case_sliced());
  suite_add_tcase(s, metrics_div_case_sinkhorn());
  suite_add_tcase(s, metrics_div_case_mmd());
  return s;
}

int main(void) { return tlt_run(metrics_div_suite()); }
