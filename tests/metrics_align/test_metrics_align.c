/* lib/metrics Part 2: proxy A-distance, CORAL, Frechet, term distributions
 * and data selection, PCA, Procrustes, CSLS. Golden values come from
 * tests/fixtures/gen_metrics_align.py (numpy/scipy). */
/* One test case per concern, each in test_metrics_align_<concern>.c, so
 * that one runs alone with CK_RUN_CASE=<concern>. */
#include "metrics_align_common.h"

static Suite *metrics_align_suite(void) {
  Suite *s = suite_create("metrics_align");
  suite_add_tcase(s, metrics_align_case_coral());
  suite_add_tcase(s, metrics_align_case_frechet());
  suite_add_tcase(s, metrics_align_case_termdist());
  suite_add_tcase(s, metrics_align_case_selection());
  suite_add_tcase(s, metrics_align_case_pca());
  suite_add_tcase(s, metrics_align_case_procrustes());
  suite_add_tcase(s, metrics_align_case_csls());
  suite_add_tcase(s, metrics_align_case_proxy_a());
  return s;
}

int main(void) { return tlt_run(metrics_align_suite()); }
