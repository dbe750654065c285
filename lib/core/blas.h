/* Internal: thin wrappers over cblas and LAPACKE. They take size_t
 * dimensions (row-major, as everything in libtl) and convert them to BLAS
 * integers in one place. Callers pass validated shapes: dimensions must fit
 * in an int (tli_blas_dims_ok checks it at the API boundary). */
#ifndef TLI_CORE_BLAS_H
#define TLI_CORE_BLAS_H

#include <stddef.h>

#include "tl/core.h"

/* libtl's thread count (tl_set_num_threads) around one BLAS or LAPACK
 * call: enter switches OpenBLAS's process-wide count to libtl's when they
 * differ and returns what to restore (0: nothing changed); leave restores
 * it. Every wrapper below brackets its call with them. */
int tli_blas_enter(void);
void tli_blas_leave(int had);

/* 1 if every one of the n dimensions fits a BLAS int. */
int tli_blas_dims_ok(const size_t *dims, size_t n);

/* C (m x n) = alpha * op(A) op(B) + beta * C, row-major. op(A) is m x k. */
void tli_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
               float alpha, const float *a, size_t lda, const float *b,
               size_t ldb, float beta, float *c, size_t ldc);
void tli_dgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
               double alpha, const double *a, size_t lda, const double *b,
               size_t ldb, double beta, double *c, size_t ldc);
/* y = alpha * op(A) x + beta * y, A m x n row-major. */
void tli_sgemv(int trans_a, size_t m, size_t n, float alpha, const float *a,
               size_t lda, const float *x, float beta, float *y);
void tli_dgemv(int trans_a, size_t m, size_t n, double alpha, const double *a,
               size_t lda, const double *x, double beta, double *y);
float tli_sdot(size_t n, const float *x, const float *y);
double tli_ddot(size_t n, const double *x, const double *y);

/* Eigen-decomposition of a symmetric n x n row-major matrix (LAPACKE
 * dsyevd): eigenvalues ascending into w, eigenvectors into the columns of a.
 * Returns TL_E_NUMERIC with a message if LAPACK does not converge. */
tl_status tli_dsyev(size_t n, double *a, double *w);

/* Thin SVD of an m x n row-major matrix (LAPACKE dgesdd): a = u diag(s) vt,
 * u m x min(m,n), vt min(m,n) x n. a is destroyed. */
tl_status tli_dgesvd(size_t m, size_t n, double *a, double *s, double *u,
                     double *vt);

#endif
