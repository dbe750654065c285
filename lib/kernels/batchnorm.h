/* Internal: BatchNorm1d over n rows of f features (row-major (n, f)), as
 * torch.nn.BatchNorm1d on (N, C) input, in float32 with double arithmetic:
 * the statistics, every per-feature sum (mean, variance, the two backward
 * reductions) and each output element are computed in double and rounded
 * once, so a result differs from torch's float64 one by a float rounding
 * or two, also where the backward's terms cancel.
 *
 * Train mode normalises with the batch statistics (mean, biased variance),
 * eval mode with the running ones:
 *   y = (x - mean) * invstd * w + b,  invstd = 1 / sqrt(var + eps)
 * (w = 1, b = 0 when NULL). Forward keeps mean and invstd per feature, in
 * double (stats: 2 f doubles, mean then invstd); backward recomputes
 * xhat = (x - mean) * invstd from the forward's x, which it needs anyway,
 * instead of keeping a rounded copy. */
#ifndef TLI_KERNELS_BATCHNORM_H
#define TLI_KERNELS_BATCHNORM_H

#include <stddef.h>

/* Sizes and constants of one call. */
typedef struct tli_bn_dims {
  size_t n, f;     /* rows, features */
  double eps;      /* > 0 */
  double momentum; /* running-statistics update weight, in [0, 1] */
} tli_bn_dims;

/* Train-mode forward. Precondition: n >= 2, x finite. Writes stats (2 f
 * doubles) and y, and updates run_mean and run_var as torch does: run =
 * momentum * stat + (1 - momentum) * run, with the batch mean and the
 * UNBIASED batch variance (sum / (n - 1)). Returns 0, or 1 + the first
 * feature whose updated statistic would overflow float (finite inputs near
 * FLT_MAX can have a variance past it): then y and the running statistics
 * are untouched (stats is scratch). */
size_t tli_batchnorm_forward_train(const tli_bn_dims *d, float *y,
                                   double *stats, float *run_mean,
                                   float *run_var, const float *x,
                                   const float *w, const float *b);

/* Eval-mode forward with the running statistics (run_var >= 0). Writes y,
 * and stats when not NULL (a train-mode model whose layer keeps its
 * statistics, which then runs backward). */
void tli_batchnorm_forward_eval(const tli_bn_dims *d, float *y, double *stats,
                                const float *x, const float *run_mean,
                                const float *run_var, const float *w,
                                const float *b);

/* Backward of either forward from dy, given its x and stats. batch 1: the
 * statistics were the batch's, so they depend on x:
 *   dx = w invstd (dy - mean(dy) - xhat mean(dy xhat))
 * batch 0: they were fixed: dx = w invstd dy. dx (written) may be NULL;
 * dw += sum over rows of dy xhat and db += sum of dy, each skipped when
 * NULL. w NULL: 1. */
void tli_batchnorm_backward(const tli_bn_dims *d, int batch, float *dx,
                            float *dw, float *db, const float *dy,
                            const float *x, const double *stats,
                            const float *w);

#endif
