/* Entropic OT by Sinkhorn iterations in log-stabilised form (Schmitzer 2019,
 * "Stabilized sparse scaling algorithms for entropy regularized transport
 * problems", Alg. 2; POT's sinkhorn_stabilized).
 *
 * The plan is gamma_ij = u_i Kt_ij v_j with Kt_ij = exp(f_i + g_j - M_ij/reg)
 * for log-domain potentials f, g. The inner loop is plain Sinkhorn on Kt
 * (two dgemv per iteration); whenever a scaling leaves [1e-50, 1e50] it is
 * absorbed into f, g and Kt is rebuilt, so nothing overflows. A half-step
 * whose kernel sums underflow to 0 is redone exactly in the log domain
 * (log-sum-exp), which is what keeps small reg stable. Mathematically the
 * iterates are those of POT ot.sinkhorn_knopp (v then u), only represented
 * differently. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "metrics/check.h"
#include "tl/metrics.h"

/* Scalings outside [1/tau, tau] are absorbed into the potentials. POT's
 * sinkhorn_stabilized uses 1e3 on the upper side only; a wide symmetric
 * band absorbs rarely (each absorption costs n m exps) while keeping every
 * kernel entry that matters (>= plan / tau^2) far inside the normal range. */
static const double tli_absorb_tau = 1e50;

TLI_VERSION_SIZES(sinkhorn_options_sizes, TL_SINKHORN_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sinkhorn_options, tol));

tl_status tl_sinkhorn_options_init(tl_sinkhorn_options *out,
                                   unsigned int version) {
  static const tl_sinkhorn_options defaults = TL_SINKHORN_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, sinkhorn_options_sizes,
                          "tl_sinkhorn_options_init");
}

typedef struct tli_sk {
  size_t n, m;
  const double *a, *b, *cost; /* a, b normalised */
  double inv_reg;
  double *kt;      /* n x m */
  double *f, *g;   /* potentials (n, m), in units of reg */
  double *u, *v;   /* scalings */
  double *s, *r;   /* Kt^T u (m), Kt v (n) */
  double *la, *lb; /* log a, log b */
} tli_sk;

/* mx + log(sum): the end of a log-sum-exp whose terms were shifted by mx.
 * A row or column with no mass (sum 0) has log-sum -inf. */
static double tli_lse(double mx, double sum) {
  return sum > 0.0 ? mx + log(sum) : -INFINITY;
}

static void tli_sk_rebuild(tli_sk *w) {
  for (size_t i = 0; i < w->n; i++) {
    const double *mi = w->cost + i * w->m;
    double *ki = w->kt + i * w->m;
    const double fi = w->f[i];
    for (size_t j = 0; j < w->m; j++)
      ki[j] = exp(fi + w->g[j] - mi[j] * w->inv_reg);
  }
}

/* f += log u, g += log v, u = v = 1, Kt rebuilt. A zero scaling (a zero
 * marginal entry) makes its potential -inf, which is exact: that row or
 * column carries no mass. */
static void tli_sk_absorb(tli_sk *w) {
  for (size_t i = 0; i < w->n; i++) {
    w->f[i] += log(w->u[i]);
    w->u[i] = 1.0;
  }
  for (size_t j = 0; j < w->m; j++) {
    w->g[j] += log(w->v[j]);
    w->v[j] = 1.0;
  }
  tli_sk_rebuild(w);
}

/* Exact log-domain v-update: g_j = log b_j - LSE_i(f_i - M_ij/reg), with
 * u absorbed into f first. Row-major passes: column maxima, then sums. */
static void tli_sk_log_update_g(tli_sk *w) {
  const size_t n = w->n, m = w->m;
  for (size_t i = 0; i < n; i++) {
    w->f[i] += log(w->u[i]);
    w->u[i] = 1.0;
  }
  double *mx = w->s, *sum = w->v; /* scratch: both are recomputed after */
  for (size_t j = 0; j < m; j++) {
    mx[j] = -INFINITY;
    sum[j] = 0.0;
  }
  for (size_t i = 0; i < n; i++) {
    const double *mi = w->cost + i * m;
    for (size_t j = 0; j < m; j++)
      mx[j] = fmax(mx[j], w->f[i] - mi[j] * w->inv_reg);
  }
  for (size_t i = 0; i < n; i++) {
    const double *mi = w->cost + i * m;
    if (w->f[i] == -INFINITY)
      continue;
    for (size_t j = 0; j < m; j++)
      sum[j] += exp(w->f[i] - mi[j] * w->inv_reg - mx[j]);
  }
  for (size_t j = 0; j < m; j++) {
    w->g[j] = w->lb[j] - tli_lse(mx[j], sum[j]);
    w->v[j] = 1.0;
  }
}

/* Exact log-domain u-update: f_i = log a_i - LSE_j(g_j - M_ij/reg). */
static void tli_sk_log_update_f(tli_sk *w) {
  const size_t n = w->n, m = w->m;
  for (size_t j = 0; j < m; j++) {
    w->g[j] += log(w->v[j]);
    w->v[j] = 1.0;
  }
  for (size_t i = 0; i < n; i++) {
    const double *mi = w->cost + i * m;
    double mx = -INFINITY;
    for (size_t j = 0; j < m; j++)
      mx = fmax(mx, w->g[j] - mi[j] * w->inv_reg);
    double sum = 0.0;
    for (size_t j = 0; j < m; j++)
      if (w->g[j] != -INFINITY)
        sum += exp(w->g[j] - mi[j] * w->inv_reg - mx);
    w->f[i] = w->la[i] - tli_lse(mx, sum);
    w->u[i] = 1.0;
  }
}

/* x_k = marg_k / sums_k; returns 1 if some x_k with marg_k > 0 is not a
 * finite positive number (its kernel sum under- or overflowed), and sets
 * *out_far when a scaling left [1/tau, tau]. A zero marginal entry gets
 * scaling 0: its row or column carries no mass. */
static int tli_sk_scale(double *x, const double *marg, const double *sums,
                        size_t len, int *out_far) {
  int bad = 0;
  for (size_t k = 0; k < len; k++) {
    if (marg[k] == 0.0) {
      x[k] = 0.0;
      continue;
    }
    const double q = marg[k] / sums[k];
    x[k] = q;
    if (!(q > 0.0) || !isfinite(q))
      bad = 1;
    else if (q > tli_absorb_tau || q < 1.0 / tli_absorb_tau)
      *out_far = 1;
  }
  return bad;
}

/* One Sinkhorn iteration given s = Kt^T u: v = b / s, u = a / (Kt v). */
static void tli_sk_iterate(tli_sk *w) {
  int far = 0;
  if (tli_sk_scale(w->v, w->b, w->s, w->m, &far)) {
    tli_sk_log_update_g(w);
    tli_sk_rebuild(w);
  }
  tli_dgemv(0, w->n, w->m, 1.0, w->kt, w->m, w->v, 0.0, w->r);
  if (tli_sk_scale(w->u, w->a, w->r, w->n, &far)) {
    tli_sk_log_update_f(w);
    tli_sk_rebuild(w);
  } else if (far) {
    tli_sk_absorb(w);
  }
}

/* || v * (Kt^T u) - b ||_2, the column-marginal violation POT checks. */
static double tli_sk_error(const tli_sk *w) {
  double e = 0.0;
  for (size_t j = 0; j < w->m; j++) {
    const double d = w->v[j] * w->s[j] - w->b[j];
    e += d * d;
  }
  return sqrt(e);
}

/* Normalised histogram (or uniform when h is NULL) into dst; log into ldst. */
static void tli_sk_marginal(double *dst, double *ldst, const double *h,
                            tli_wsum sum, size_t len) {
  for (size_t k = 0; k < len; k++) {
    /* Scaled as tli_check_weights describes: any positive sum. */
    dst[k] = h ? tli_scaled(h[k], sum.sc) / sum.sum : 1.0 / (double)len;
    ldst[k] = log(dst[k]);
  }
}

/* Argument checks of tl_sinkhorn (options already defaulted); describes
 * the marginals' sums and returns n m. */
static tl_status tli_sinkhorn_validate(const char *fn, const double *out_cost,
                                       const double *a, size_t n,
                                       const double *b, size_t m,
                                       const double *cost_matrix, double reg,
                                       const tl_sinkhorn_options *options,
                                       tli_wsum *sa, tli_wsum *sb,
                                       size_t *out_nm) {
  TLI_CHECK_PTR(fn, out_cost);
  TLI_CHECK_PTR(fn, cost_matrix);
  TLI_CHECK(options->max_iter >= 1, TL_E_INVALID_ARG,
            "%s: options->max_iter must be >= 1 (got 0)", fn);
  TLI_CHECK(isfinite(options->tol) && options->tol > 0.0, TL_E_INVALID_ARG,
            "%s: options->tol must be finite and > 0 (got %g)", fn,
            options->tol);
  TLI_CHECK(isfinite(reg) && reg > 0.0, TL_E_INVALID_ARG,
            "%s: reg must be finite and > 0 (got %g)", fn, reg);
  TLI_CHECK(n > 0 && m > 0, TL_E_INVALID_ARG,
            "%s: n and m must be >= 1 (got %zu and %zu)", fn, n, m);
  const size_t dims[] = {n, m};
  TLI_CHECK(tli_blas_dims_ok(dims, 2), TL_E_INVALID_ARG,
            "%s: n and m must each fit a BLAS int", fn);
  size_t nm;
  TLI_CHECK(tli_mul_size(&nm, n, m), TL_E_NOMEM,
            "%s: n x m = %zu x %zu overflows size_t", fn, n, m);
  *sa = tli_wsum_of(1.0);
  *sb = tli_wsum_of(1.0);
  if (a)
    TLI_TRY(tli_check_weights(fn, "a", a, n, sa));
  if (b)
    TLI_TRY(tli_check_weights(fn, "b", b, m, sb));
  TLI_TRY(tli_check_finite(fn, "cost_matrix", cost_matrix, nm));
  TLI_CHECK(isfinite(1.0 / reg), TL_E_NUMERIC,
            "%s: 1 / reg overflows (reg = %g)", fn, reg);
  *out_nm = nm;
  return TL_OK;
}

/* Lays the work arrays of w out in mem (nm + 5 (n + m) doubles) and sets
 * POT's start: normalised marginals and their logs, K = exp(-M/reg)
 * (potentials 0), u = 1/n, v = 1, s = K^T u. Where K underflows, the first
 * half-steps fall back to the log domain. */
static void tli_sinkhorn_setup(tli_sk *w, double *mem, const double *a,
                               tli_wsum sa, size_t n, const double *b,
                               tli_wsum sb, size_t m, const double *cost,
                               double reg) {
  const size_t nm = n * m;
  w->n = n;
  w->m = m;
  w->cost = cost;
  w->inv_reg = 1.0 / reg;
  w->kt = mem;
  double *an = mem + nm, *bn = an + n;
  w->la = bn + m;
  w->lb = w->la + n;
  w->f = w->lb + m;
  w->g = w->f + n;
  w->u = w->g + m;
  w->v = w->u + n;
  w->s = w->v + m;
  w->r = w->s + m;
  tli_sk_marginal(an, w->la, a, sa, n);
  tli_sk_marginal(bn, w->lb, b, sb, m);
  w->a = an;
  w->b = bn;
  for (size_t i = 0; i < n; i++) {
    w->f[i] = 0.0;
    w->u[i] = 1.0 / (double)n;
  }
  for (size_t j = 0; j < m; j++) {
    w->g[j] = 0.0;
    w->v[j] = 1.0;
  }
  tli_sk_rebuild(w);
  tli_dgemv(1, n, m, 1.0, w->kt, m, w->u, 0.0, w->s);
}

/* Iterates until the marginal error is below tol (checked every 10th
 * iteration from the 0th, as POT) or max_iter; returns the count. */
static size_t tli_sinkhorn_iterate(tli_sk *w, const tl_sinkhorn_options *o,
                                   int *converged) {
  size_t it = 0;
  *converged = 0;
  while (it < o->max_iter) {
    tli_sk_iterate(w);
    tli_dgemv(1, w->n, w->m, 1.0, w->kt, w->m, w->u, 0.0, w->s); /* K^T u */
    it++;
    if ((it - 1) % 10 == 0 && tli_sk_error(w) < o->tol) {
      *converged = 1;
      break;
    }
  }
  return it;
}

/* sum gamma_ij M_ij, writing gamma into plan when it is not NULL. */
static double tli_sinkhorn_cost(const tli_sk *w, double *plan) {
  double cost = 0.0;
  for (size_t i = 0; i < w->n; i++) {
    const double *ki = w->kt + i * w->m, *mi = w->cost + i * w->m;
    double row = 0.0;
    for (size_t j = 0; j < w->m; j++) {
      const double gij = w->u[i] * ki[j] * w->v[j];
      if (plan)
        plan[i * w->m + j] = gij;
      row += gij * mi[j];
    }
    cost += row;
  }
  return cost;
}

tl_status tl_sinkhorn(double *out_cost, double *out_plan,
                      size_t *out_iterations, int *out_converged,
                      const double *a, size_t n, const double *b, size_t m,
                      const double *cost_matrix, double reg,
                      const tl_sinkhorn_options *options) {
  static const char fn[] = "tl_sinkhorn";
  tl_sinkhorn_options options_copy = TL_SINKHORN_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, sinkhorn_options_sizes, fn,
                             "options"));
  options = &options_copy;
  tli_wsum sa, sb;
  size_t nm = 0;
  TLI_TRY(tli_sinkhorn_validate(fn, out_cost, a, n, b, m, cost_matrix, reg,
                                options, &sa, &sb, &nm));

  /* kt (n m) + a, b, log a, log b, f, g, u, v, s, r: 5 (n + m). */
  size_t total;
  if ((total = nm + 5 * (n + m)) < nm)
    return tli_fail(TL_E_NOMEM, "%s: work size overflows size_t", fn);
  double *mem = NULL;
  TLI_TRY(tli_alloc_checked((void **)&mem, total, sizeof(double),
                            "tl_sinkhorn: work memory"));

  tli_sk w;
  tli_sinkhorn_setup(&w, mem, a, sa, n, b, sb, m, cost_matrix, reg);
  int converged;
  const size_t it = tli_sinkhorn_iterate(&w, options, &converged);
  const double cost = tli_sinkhorn_cost(&w, out_plan);
  tli_free(mem);
  *out_cost = cost;
  if (out_iterations)
    *out_iterations = it;
  if (out_converged)
    *out_converged = converged;
  return TL_OK;
}
