/* Helpers shared by the kernels_layers test files. */
#include "kernels_layers_common.h"

double max_abs_f(const float *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs((double)a[i]));
  return m;
}

double max_abs_d(const double *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(a[i]));
  return m;
}

/* Largest relative error seen against golden values, reported at the end. */
double worst_gold_err = 0.0;
double worst_fd_err = 0.0;

void check_gold(const char *what, const float *got, const float *want,
                size_t n) {
  const double floor_ = fmax(GOLD_FLOOR_FRAC * max_abs_f(want, n), 1e-30);
  for (size_t i = 0; i < n; i++) {
    const double s = fmax(fabs((double)want[i]), floor_);
    const double err = fabs((double)got[i] - (double)want[i]) / s;
    worst_gold_err = fmax(worst_gold_err, err);
    ck_assert_msg(err <= GOLD_REL, "%s[%zu] = %.9g, torch %.9g (rel err %.3g)",
                  what, i, (double)got[i], (double)want[i], err);
  }
}

void check_fd(const char *what, const float *got, const double *fd, size_t n) {
  const double floor_ = fmax(FD_FLOOR_FRAC * max_abs_d(fd, n), 1e-12);
  for (size_t i = 0; i < n; i++) {
    const double s = fmax(fabs(fd[i]), floor_);
    const double err = fabs((double)got[i] - fd[i]) / s;
    worst_fd_err = fmax(worst_fd_err, err);
    ck_assert_msg(err <= FD_REL,
                  "%s[%zu] = %.9g, finite difference %.12g (rel err %.3g)",
                  what, i, (double)got[i], fd[i], err);
  }
}

float *fdup(const float *a, size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  ck_assert_ptr_nonnull(p);
  if (n)
    memcpy(p, a, n * sizeof *p);
  return p;
}

float *fzeros(size_t n) {
  float *p = calloc(n ? n : 1, sizeof *p);
  ck_assert_ptr_nonnull(p);
  return p;
}

double *to_double(const float *a, size_t n) {
  double *p = malloc((n ? n : 1) * sizeof *p);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < n; i++)
    p[i] = a[i];
  return p;
}

/* Central differences of fn(ctx) with respect to p[0..n): g[i] = (f(p + h
 * e_i) - f(p - h e_i)) / 2h, everything in double. */
void fd_grad(double *g, double *p, size_t n, scalar_fn fn, const void *ctx) {
  for (size_t i = 0; i < n; i++) {
    const double save = p[i], h = 1e-6 * fmax(1.0, fabs(save));
    p[i] = save + h;
    const double fp = fn(ctx);
    p[i] = save - h;
    const double fm = fn(ctx);
    p[i] = save;
    g[i] = (fp - fm) / (2.0 * h);
  }
}
