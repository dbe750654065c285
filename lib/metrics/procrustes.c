/* Orthogonal Procrustes: the rotation that best maps dictionary source
 * vectors onto their translations (MUSE's supervised refinement). */
#include <stdint.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "metrics/align_util.h"
#include "metrics/check.h"
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
  /* W = U V^T does not change when x or y is scaled, but M = Y^T X
   * overflows for data near DBL_MAX (or loses digits in the subnormals):
   * such x and y are copied scaled by powers of two (tli_data_scale, each
   * its own), ordinary data is used as given. */
  const tli_scale sx = tli_data_scale(tli_max_abs(x, n * d)),
                  sy = tli_data_scale(tli_max_abs(y, n * d));
  const int rescale =
      sx.f1 != 1.0 || sx.f2 != 1.0 || sy.f1 != 1.0 || sy.f2 != 1.0;
  size_t copy = 0;
  TLI_CHECK(!rescale || (tli_mul_size(&copy, n * d, 2) &&
                         copy <= SIZE_MAX / 8 - 3 * dd - d),
            TL_E_NOMEM,
            "%s: the scaled copies of x and y (2 x %zu x %zu) "
            "are too large",
            fn, n, d);
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, 3 * dd + d + copy, sizeof *buf,
                            "procrustes work"));
  double *m = buf, *u = m + dd, *vt = u + dd, *s = vt + dd;
  if (rescale) {
    double *xs = s + d, *ys = xs + n * d;
    for (size_t i = 0; i < n * d; i++) {
      xs[i] = tli_scaled(x[i], sx);
      ys[i] = tli_scaled(y[i], sy);
    }
    x = xs;
    y = ys;
  }
  /* M = Y^T X: sum over pairs of y_i x_i^T. */
  tli_dgemm(1, 0, d, d, n, 1.0, y, d, x, d, 0.0, m, d);
  const tl_status st = tli_lapack_fail(tli_dgesvd(d, d, m, s, u, vt), fn,
                                       "y^T x (LAPACK dgesdd)");
  if (st == TL_OK)
    tli_dgemm(0, 0, d, d, d, 1.0, u, d, vt, d, 0.0, out_w, d);
  tli_free(buf);
  return st;
}
