/* Orthogonal Procrustes: the rotation that best maps dictionary source
 * vectors onto their translations (MUSE's supervised refinement). */
#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "metrics/align_util.h"
#include "tl/metrics.h"

tl_status tl_procrustes(double *out_w, const double *x, const double *y,
                        size_t n, size_t d) {
  static const char fn[] = "tl_procrustes";
  TLI_CHECK_PTR(fn, out_w);
  TLI_TRY(tli_check_matrix(fn, "x", x, n, d, 1));
  TLI_TRY(tli_check_matrix(fn, "y", y, n, d, 1));
  size_t dd;
  TLI_CHECK(tli_mul_size(&dd, d, d) && dd <= SIZE_MAX / 64, TL_E_INVALID_ARG,
            "%s: d = %zu is too large", fn, d);
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, 3 * dd + d, sizeof *buf,
                            "procrustes work"));
  double *m = buf, *u = m + dd, *vt = u + dd, *s = vt + dd;
  /* M = Y^T X: sum over pairs of y_i x_i^T. */
  tli_dgemm(1, 0, d, d, n, 1.0, y, d, x, d, 0.0, m, d);
  const tl_status st = tli_dgesvd(d, d, m, s, u, vt);
  if (st == TL_OK)
    tli_dgemm(0, 0, d, d, d, 1.0, u, d, vt, d, 0.0, out_w, d);
  tli_free(buf);
  return st;
}
