/* Public losses on a head's output: thin, validated wrappers over the
 * cross-entropy and accuracy kernels. */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "kernels/loss.h"
#include "tl/model.h"

static tl_status check_loss_args(const float *logits, const int64_t *targets,
                                 size_t n, size_t c, int64_t ignore_index,
                                 const char *fn) {
  TLI_CHECK_PTR(fn, logits);
  TLI_CHECK_PTR(fn, targets);
  TLI_CHECK(n >= 1 && c >= 1, TL_E_INVALID_ARG,
            "%s: n and c must be >= 1 (got %zu, %zu)", fn, n, c);
  size_t nc = 0;
  TLI_CHECK(tli_mul_size(&nc, n, c), TL_E_INVALID_ARG, "%s: n * c overflows",
            fn);
  const size_t bad = tli_loss_find_bad_target(targets, n, c, ignore_index);
  TLI_CHECK(bad == n, TL_E_INVALID_ARG,
            "%s: targets[%zu] = %lld is outside [0, %zu) and not "
            "ignore_index",
            fn, bad, bad < n ? (long long)targets[bad] : 0LL, c);
  const size_t nonfinite = tli_find_nonfinite(logits, nc);
  TLI_CHECK(nonfinite == nc, TL_E_NUMERIC, "%s: logits[%zu] is not finite", fn,
            nonfinite);
  return TL_OK;
}

tl_status tl_cross_entropy(float *out_loss, float *out_dlogits,
                           const float *logits, const int64_t *targets,
                           size_t n, size_t c, int64_t ignore_index) {
  TLI_CHECK_PTR("tl_cross_entropy", out_loss);
  TLI_TRY(
      check_loss_args(logits, targets, n, c, ignore_index, "tl_cross_entropy"));
  *out_loss = tli_cross_entropy(out_dlogits, logits, targets, n, c,
                                ignore_index, 1.0f, NULL);
  return TL_OK;
}

tl_status tl_accuracy(float *out, const float *logits, const int64_t *targets,
                      size_t n, size_t c, int64_t ignore_index) {
  TLI_CHECK_PTR("tl_accuracy", out);
  TLI_TRY(check_loss_args(logits, targets, n, c, ignore_index, "tl_accuracy"));
  *out = tli_accuracy(logits, targets, n, c, ignore_index, NULL, NULL);
  return TL_OK;
}
