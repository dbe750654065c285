/* Evaluation metrics users report for text models: confusion matrix,
 * accuracy, per-class precision/recall/F1 and macro-F1 as scikit-learn
 * computes them, and a language model's summed negative log-likelihood and
 * next-token hits per batch (perplexity over a stream). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/text.h"

static tl_status tli_check_classes(const char *fn, const int64_t *v,
                                   const char *what, size_t n,
                                   size_t n_classes) {
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(v[i] >= 0 && (uint64_t)v[i] < n_classes, TL_E_INVALID_ARG,
              "%s: %s[%zu] = %lld is outside [0, %zu)", fn, what, i,
              (long long)v[i], n_classes);
  return TL_OK;
}

tl_status tl_confusion_matrix(uint64_t *out, size_t n_classes,
                              const int64_t *pred, const int64_t *target,
                              size_t n) {
  const char *fn = "tl_confusion_matrix";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(n_classes > 0, TL_E_INVALID_ARG,
            "%s: n_classes must be >= 1 (got 0)", fn);
  TLI_CHECK(pred != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'pred' is NULL", fn);
  TLI_CHECK(target != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'target' is NULL", fn);
  size_t cells;
  TLI_CHECK(tli_mul_size(&cells, n_classes, n_classes), TL_E_INVALID_ARG,
            "%s: n_classes %zu squared overflows size_t", fn, n_classes);
  TLI_TRY(tli_check_classes(fn, pred, "pred", n, n_classes));
  TLI_TRY(tli_check_classes(fn, target, "target", n, n_classes));
  memset(out, 0, cells * sizeof *out);
  for (size_t i = 0; i < n; i++)
    out[(size_t)target[i] * n_classes + (size_t)pred[i]]++;
  return TL_OK;
}

static double tli_ratio(uint64_t a, uint64_t b) {
  return b ? (double)a / (double)b : 0.0; /* zero_division=0 */
}

tl_status tl_classification_metrics(double *out_accuracy, double *out_macro_f1,
                                    double *out_precision, double *out_recall,
                                    double *out_f1, size_t n_classes,
                                    const int64_t *pred, const int64_t *target,
                                    size_t n) {
  const char *fn = "tl_classification_metrics";
  TLI_CHECK(n_classes > 0, TL_E_INVALID_ARG,
            "%s: n_classes must be >= 1 (got 0)", fn);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  TLI_CHECK_PTR(fn, pred);
  TLI_CHECK_PTR(fn, target);
  TLI_CHECK(n_classes <= SIZE_MAX / 3, TL_E_INVALID_ARG,
            "%s: n_classes is too large", fn);
  TLI_TRY(tli_check_classes(fn, pred, "pred", n, n_classes));
  TLI_TRY(tli_check_classes(fn, target, "target", n, n_classes));
  uint64_t *cnt = NULL; /* true positives, predicted, actual per class */
  TLI_TRY(tli_alloc_checked((void **)&cnt, 3 * n_classes, sizeof *cnt, fn));
  memset(cnt, 0, 3 * n_classes * sizeof *cnt);
  uint64_t *tp = cnt, *np = cnt + n_classes, *nt = cnt + 2 * n_classes;
  uint64_t hits = 0;
  for (size_t i = 0; i < n; i++) {
    np[pred[i]]++;
    nt[target[i]]++;
    if (pred[i] == target[i]) {
      tp[pred[i]]++;
      hits++;
    }
  }
  double macro = 0.0;
  for (size_t c = 0; c < n_classes; c++) {
    const double p = tli_ratio(tp[c], np[c]), r = tli_ratio(tp[c], nt[c]);
    /* sklearn: F1 = 2 tp / (2 tp + fp + fn), 0 when that is 0/0 */
    const double f = tli_ratio(2 * tp[c], np[c] + nt[c]);
    if (out_precision)
      out_precision[c] = p;
    if (out_recall)
      out_recall[c] = r;
    if (out_f1)
      out_f1[c] = f;
    macro += f;
  }
  if (out_accuracy)
    *out_accuracy = (double)hits / (double)n;
  if (out_macro_f1)
    *out_macro_f1 = macro / (double)n_classes;
  tli_free(cnt);
  return TL_OK;
}

tl_status tl_lm_batch_metrics(double *out_nll_sum, uint64_t *out_correct,
                              const float *logits, const int64_t *targets,
                              size_t n, size_t vocab) {
  const char *fn = "tl_lm_batch_metrics";
  TLI_CHECK_PTR(fn, out_nll_sum);
  TLI_CHECK_PTR(fn, out_correct);
  TLI_CHECK(vocab > 0, TL_E_INVALID_ARG, "%s: vocab must be >= 1 (got 0)", fn);
  TLI_CHECK(logits != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'logits' is NULL", fn);
  TLI_CHECK(targets != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'targets' is NULL", fn);
  size_t cells;
  TLI_CHECK(tli_mul_size(&cells, n, vocab), TL_E_INVALID_ARG,
            "%s: n * vocab overflows size_t", fn);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(targets[i] >= 0 && (uint64_t)targets[i] < vocab, TL_E_INVALID_ARG,
              "%s: targets[%zu] = %lld is outside the vocabulary [0, %zu)", fn,
              i, (long long)targets[i], vocab);
  for (size_t k = 0; k < cells; k++)
    TLI_CHECK(isfinite(logits[k]), TL_E_NUMERIC,
              "%s: logits at position %zu, id %zu is not finite", fn, k / vocab,
              k % vocab);
  double nll = 0.0;
  uint64_t correct = 0;
  for (size_t i = 0; i < n; i++) {
    const float *row = logits + i * vocab;
    size_t best = 0;
    for (size_t j = 1; j < vocab; j++)
      if (row[j] > row[best])
        best = j; /* the first maximum, as torch.argmax */
    const double m = row[best];
    double s = 1.0; /* exp(0) of the maximum, so s >= 1 */
    for (size_t j = 0; j < vocab; j++)
      if (j != best)
        s += exp((double)row[j] - m);
    nll += m + log(s) - (double)row[targets[i]];
    correct += best == (size_t)targets[i];
  }
  *out_nll_sum = nll;
  *out_correct = correct;
  return TL_OK;
}

tl_status tl_perplexity(double *out, double nll_sum, uint64_t count) {
  TLI_CHECK_PTR("tl_perplexity", out);
  TLI_CHECK(count > 0, TL_E_INVALID_ARG,
            "tl_perplexity: count must be >= 1 (got 0)");
  TLI_CHECK(isfinite(nll_sum) && nll_sum >= 0.0, TL_E_INVALID_ARG,
            "tl_perplexity: nll_sum must be finite and >= 0 (got %g)", nll_sum);
  *out = exp(nll_sum / (double)count);
  return TL_OK;
}
