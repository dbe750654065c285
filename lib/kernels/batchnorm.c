/* BatchNorm1d kernels (batchnorm.h). Loops run per feature over the rows
 * (strided), which keeps every accumulator a single double and needs no
 * scratch memory. */
#include "kernels/batchnorm.h"

#include <math.h>

/* y[r][j] = (x - mean) * is * wj + bj for every row of feature j. */
static void normalise(const tli_bn_dims *d, size_t j, float *y, const float *x,
                      double mean, double is, const float *w, const float *b) {
  const size_t n = d->n, f = d->f;
  const double wj = w ? w[j] : 1.0, bj = b ? b[j] : 0.0;
  for (size_t r = 0; r < n; r++)
    y[r * f + j] = (float)((x[r * f + j] - mean) * is * wj + bj);
}

/* The new running statistics of feature j (mean, unbiased variance), in
 * double. */
static void updated(const tli_bn_dims *d, double mean, double var_unbiased,
                    float run_mean, float run_var, double *m, double *v) {
  const double k = d->momentum;
  *m = k * mean + (1.0 - k) * run_mean;
  *v = k * var_unbiased + (1.0 - k) * run_var;
}

size_t tli_batchnorm_forward_train(const tli_bn_dims *d, float *y,
                                   double *stats, float *run_mean,
                                   float *run_var, const float *x,
                                   const float *w, const float *b) {
  const size_t n = d->n, f = d->f;
  /* Pass 1: every feature's statistics, and the check that the running
   * ones stay finite as floats, before anything is written. stats[f + j]
   * holds the unbiased variance until pass 2 turns it into invstd. */
  for (size_t j = 0; j < f; j++) {
    double sum = 0.0;
    for (size_t r = 0; r < n; r++)
      sum += x[r * f + j];
    const double mean = sum / (double)n;
    /* Two passes: the sum of squared deviations, not E[x^2] - mean^2,
     * which cancels catastrophically when |mean| >> std. */
    double ss = 0.0;
    for (size_t r = 0; r < n; r++) {
      const double c = x[r * f + j] - mean;
      ss += c * c;
    }
    double m, v;
    updated(d, mean, ss / (double)(n - 1), run_mean[j], run_var[j], &m, &v);
    if (!isfinite((float)m) || !isfinite((float)v))
      return j + 1;
    stats[j] = mean;
    stats[f + j] = ss;
  }
  /* Pass 2: normalise and update. */
  for (size_t j = 0; j < f; j++) {
    const double mean = stats[j], ss = stats[f + j];
    const double is = 1.0 / sqrt(ss / (double)n + d->eps);
    normalise(d, j, y, x, mean, is, w, b);
    stats[f + j] = is;
    double m, v;
    updated(d, mean, ss / (double)(n - 1), run_mean[j], run_var[j], &m, &v);
    run_mean[j] = (float)m;
    run_var[j] = (float)v;
  }
  return 0;
}

void tli_batchnorm_forward_eval(const tli_bn_dims *d, float *y, double *stats,
                                const float *x, const float *run_mean,
                                const float *run_var, const float *w,
                                const float *b) {
  const size_t f = d->f;
  for (size_t j = 0; j < f; j++) {
    const double mean = run_mean[j];
    const double is = 1.0 / sqrt((double)run_var[j] + d->eps);
    normalise(d, j, y, x, mean, is, w, b);
    if (stats) {
      stats[j] = mean;
      stats[f + j] = is;
    }
  }
}

void tli_batchnorm_backward(const tli_bn_dims *d, int batch, float *dx,
                            float *dw, float *db, const float *dy,
                            const float *x, const double *stats,
                            const float *w) {
  const size_t n = d->n, f = d->f;
  for (size_t j = 0; j < f; j++) {
    const double mean = stats[j], is = stats[f + j];
    double sdy = 0.0, sdyh = 0.0;
    for (size_t r = 0; r < n; r++) {
      sdy += dy[r * f + j];
      sdyh += (double)dy[r * f + j] * ((x[r * f + j] - mean) * is);
    }
    if (dw)
      dw[j] = (float)(dw[j] + sdyh);
    if (db)
      db[j] = (float)(db[j] + sdy);
    if (dx == NULL)
      continue;
    const double scale = (w ? w[j] : 1.0) * is;
    const double mdy = batch ? sdy / (double)n : 0.0;
    const double mdyh = batch ? sdyh / (double)n : 0.0;
    for (size_t r = 0; r < n; r++) {
      const double h = (x[r * f + j] - mean) * is;
      dx[r * f + j] = (float)(scale * (dy[r * f + j] - mdy - h * mdyh));
    }
  }
}
