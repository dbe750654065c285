#include "core/blas.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>

#include "core/error.h"

int tli_blas_dims_ok(const size_t *dims, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (dims[i] > (size_t)INT_MAX)
      return 0;
  return 1;
}

static enum CBLAS_TRANSPOSE tli_trans(int t) {
  return t ? CblasTrans : CblasNoTrans;
}

void tli_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
               float alpha, const float *a, size_t lda, const float *b,
               size_t ldb, float beta, float *c, size_t ldc) {
  if (m == 0 || n == 0)
    return;
  const int had = tli_blas_enter();
  cblas_sgemm(CblasRowMajor, tli_trans(trans_a), tli_trans(trans_b), (int)m,
              (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c,
              (int)ldc);
  tli_blas_leave(had);
}

void tli_dgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
               double alpha, const double *a, size_t lda, const double *b,
               size_t ldb, double beta, double *c, size_t ldc) {
  if (m == 0 || n == 0)
    return;
  const int had = tli_blas_enter();
  cblas_dgemm(CblasRowMajor, tli_trans(trans_a), tli_trans(trans_b), (int)m,
              (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c,
              (int)ldc);
  tli_blas_leave(had);
}

void tli_sgemv(int trans_a, size_t m, size_t n, float alpha, const float *a,
               size_t lda, const float *x, float beta, float *y) {
  if (m == 0 || n == 0)
    return;
  const int had = tli_blas_enter();
  cblas_sgemv(CblasRowMajor, tli_trans(trans_a), (int)m, (int)n, alpha, a,
              (int)lda, x, 1, beta, y, 1);
  tli_blas_leave(had);
}

void tli_dgemv(int trans_a, size_t m, size_t n, double alpha, const double *a,
               size_t lda, const double *x, double beta, double *y) {
  if (m == 0 || n == 0)
    return;
  const int had = tli_blas_enter();
  cblas_dgemv(CblasRowMajor, tli_trans(trans_a), (int)m, (int)n, alpha, a,
              (int)lda, x, 1, beta, y, 1);
  tli_blas_leave(had);
}

float tli_sdot(size_t n, const float *x, const float *y) {
  if (n == 0)
    return 0.0f;
  const int had = tli_blas_enter();
  const float r = cblas_sdot((int)n, x, 1, y, 1);
  tli_blas_leave(had);
  return r;
}

double tli_ddot(size_t n, const double *x, const double *y) {
  if (n == 0)
    return 0.0;
  const int had = tli_blas_enter();
  const double r = cblas_ddot((int)n, x, 1, y, 1);
  tli_blas_leave(had);
  return r;
}

tl_status tli_dsyev(size_t n, double *a, double *w) {
  if (n == 0)
    return TL_OK;
  const int had = tli_blas_enter();
  lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, a,
                                   (lapack_int)n, w);
  tli_blas_leave(had);
  if (info < 0)
    return tli_fail(TL_E_INTERNAL, "dsyevd: argument %d was illegal",
                    (int)-info);
  if (info > 0)
    return tli_fail(TL_E_NUMERIC,
                    "dsyevd: the eigen-decomposition did not converge (%d)",
                    (int)info);
  return TL_OK;
}

tl_status tli_dgesvd(size_t m, size_t n, double *a, double *s, double *u,
                     double *vt) {
  if (m == 0 || n == 0)
    return TL_OK;
  const size_t k = m < n ? m : n;
  const int had = tli_blas_enter();
  lapack_int info =
      LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, a,
                     (lapack_int)n, s, u, (lapack_int)k, vt, (lapack_int)n);
  tli_blas_leave(had);
  if (info < 0)
    return tli_fail(TL_E_INTERNAL, "dgesdd: argument %d was illegal",
                    (int)-info);
  if (info > 0)
    return tli_fail(TL_E_NUMERIC, "dgesdd: the SVD did not converge (%d)",
                    (int)info);
  return TL_OK;
}
