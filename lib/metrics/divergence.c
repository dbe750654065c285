/* Divergences and distances between discrete distributions (and two plain
 * vector distances). Inputs are normalised on the fly: each measure makes
 * one validating pass (sums) and one computing pass, with at most the logs
 * the formula needs per bin. Definitions: REFERENCE.md, "Divergences". */
#include <math.h>

#include "core/error.h"
#include "metrics/check.h"
#include "tl/metrics.h"

/* ln 2 (M_LN2 is not C11). */
static const double tli_ln2 = 0.69314718055994530942;

/* Validates a pair of distributions and returns their sums. */
static tl_status tli_check_pair(const char *fn, const double *p,
                                const double *q, size_t n, double *sp,
                                double *sq) {
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  TLI_TRY(tli_check_weights(fn, "p", p, n, sp));
  return tli_check_weights(fn, "q", q, n, sq);
}

#define TLI_CHECK_PAIR_PTRS(fn)                                                \
  do {                                                                         \
    TLI_CHECK_PTR(fn, out);                                                    \
    TLI_CHECK_PTR(fn, p);                                                      \
    TLI_CHECK_PTR(fn, q);                                                      \
  } while (0)

/* sum p log(p/q) over normalised inputs, in nats. With c = sq/sp the ratio of
 * normalised values is c p/q: one division and one log per bin, and the
 * same rounding pattern as scipy's rel_entr on normalised arrays. */
static double tli_kl_nats(const double *p, const double *q, size_t n, double sp,
                          double sq) {
  const double c = sq / sp;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0)
      continue;
    if (q[i] == 0.0)
      return INFINITY;
    sum += p[i] * log(c * p[i] / q[i]);
  }
  return sum / sp;
}

tl_status tl_kl_divergence(double *out, const double *p, const double *q,
                           size_t n, double base) {
  static const char fn[] = "tl_kl_divergence";
  TLI_CHECK_PAIR_PTRS(fn);
  double scale, sp, sq;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  *out = tli_kl_nats(p, q, n, sp, sq) * scale;
  return TL_OK;
}

tl_status tl_entropy(double *out, const double *p, size_t n, double base) {
  static const char fn[] = "tl_entropy";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, p);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  double scale, sp;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_check_weights(fn, "p", p, n, &sp));
  const double inv = 1.0 / sp;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] > 0.0) {
      const double x = p[i] * inv;
      sum -= x * log(x);
    }
  }
  *out = (sum > 0.0 ? sum : 0.0) * scale;
  return TL_OK;
}

/* JS in nats, clamped to [0, ln 2]. With x, y the normalised values and
 * s = x + y: x log(2x/s) + y log(2y/s), two logs per bin where both are
 * positive, one (times ln 2) where only one is. */
static double tli_js_nats(const double *p, const double *q, size_t n, double sp,
                          double sq) {
  const double ip = 1.0 / sp, iq = 1.0 / sq;
  double sum = 0.0, lone = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double x = p[i] * ip, y = q[i] * iq;
    if (x > 0.0 && y > 0.0) {
      const double s = x + y;
      sum += x * log(2.0 * x / s) + y * log(2.0 * y / s);
    } else {
      lone += x + y;
    }
  }
  double js = 0.5 * (sum + lone * tli_ln2);
  if (!(js > 0.0))
    js = 0.0;
  if (js > tli_ln2)
    js = tli_ln2;
  return js;
}

tl_status tl_js_divergence(double *out, const double *p, const double *q,
                           size_t n, double base) {
  static const char fn[] = "tl_js_divergence";
  TLI_CHECK_PAIR_PTRS(fn);
  double scale, sp, sq;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  *out = tli_js_nats(p, q, n, sp, sq) * scale;
  return TL_OK;
}

tl_status tl_js_distance(double *out, const double *p, const double *q,
                         size_t n, double base) {
  static const char fn[] = "tl_js_distance";
  TLI_CHECK_PAIR_PTRS(fn);
  double scale, sp, sq;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  *out = sqrt(tli_js_nats(p, q, n, sp, sq) * scale);
  return TL_OK;
}

tl_status tl_renyi_divergence(double *out, const double *p, const double *q,
                              size_t n, double alpha, double base) {
  static const char fn[] = "tl_renyi_divergence";
  TLI_CHECK_PAIR_PTRS(fn);
  TLI_CHECK(isfinite(alpha) && alpha > 0.0, TL_E_INVALID_ARG,
            "%s: alpha must be finite and > 0 (got %g)", fn, alpha);
  double scale, sp, sq;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  if (alpha == 1.0) {
    *out = tli_kl_nats(p, q, n, sp, sq) * scale;
    return TL_OK;
  }
  /* sum x^a y^(1-a) = sum x (y/x)^(1-a): one pow per shared bin. Bins where
   * only q is positive add 0; where only p is, 0 for a < 1, inf for a > 1. */
  const double ip = 1.0 / sp, iq = 1.0 / sq, e = 1.0 - alpha;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double x = p[i] * ip, y = q[i] * iq;
    if (x == 0.0)
      continue;
    if (y == 0.0) {
      if (alpha > 1.0) {
        *out = INFINITY;
        return TL_OK;
      }
      continue;
    }
    sum += x * pow(y / x, e);
  }
  if (sum == 0.0) {
    *out = INFINITY; /* alpha < 1 and disjoint supports */
    return TL_OK;
  }
  const double r = log(sum) / (alpha - 1.0) * scale;
  /* Renyi divergences are >= 0; only rounding goes below. */
  *out = r > 0.0 ? r : 0.0;
  return TL_OK;
}

/* Bhattacharyya coefficient sum sqrt(x y) of the normalised inputs. */
static double tli_bc(const double *p, const double *q, size_t n, double sp,
                     double sq) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += sqrt(p[i]) * sqrt(q[i]);
  return sum / (sqrt(sp) * sqrt(sq));
}

tl_status tl_bhattacharyya(double *out, const double *p, const double *q,
                           size_t n) {
  static const char fn[] = "tl_bhattacharyya";
  TLI_CHECK_PAIR_PTRS(fn);
  double sp, sq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  const double bc = tli_bc(p, q, n, sp, sq);
  if (bc == 0.0) {
    *out = INFINITY;
    return TL_OK;
  }
  const double d = -log(bc);
  *out = d > 0.0 ? d : 0.0;
  return TL_OK;
}

tl_status tl_hellinger(double *out, const double *p, const double *q,
                       size_t n) {
  static const char fn[] = "tl_hellinger";
  TLI_CHECK_PAIR_PTRS(fn);
  double sp, sq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  /* The difference form keeps accuracy for close inputs, where
   * sqrt(1 - BC) would cancel. */
  const double ip = 1.0 / sp, iq = 1.0 / sq;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double d = sqrt(p[i] * ip) - sqrt(q[i] * iq);
    sum += d * d;
  }
  const double h = sqrt(0.5 * sum);
  *out = h < 1.0 ? h : 1.0;
  return TL_OK;
}

tl_status tl_total_variation(double *out, const double *p, const double *q,
                             size_t n) {
  static const char fn[] = "tl_total_variation";
  TLI_CHECK_PAIR_PTRS(fn);
  double sp, sq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &sp, &sq));
  const double ip = 1.0 / sp, iq = 1.0 / sq;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += fabs(p[i] * ip - q[i] * iq);
  const double tv = 0.5 * sum;
  *out = tv < 1.0 ? tv : 1.0;
  return TL_OK;
}

/* Validates two plain vectors. */
static tl_status tli_check_vectors(const char *fn, const double *u,
                                   const double *v, size_t n) {
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  TLI_TRY(tli_check_finite(fn, "u", u, n));
  return tli_check_finite(fn, "v", v, n);
}

/* Largest |x_i|: the scale that keeps sums of squares from overflowing. */
static double tli_max_abs(const double *x, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(x[i]));
  return m;
}

static tl_status tli_cosine(const char *fn, double *out, const double *u,
                            const double *v, size_t n) {
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, u);
  TLI_CHECK_PTR(fn, v);
  TLI_TRY(tli_check_vectors(fn, u, v, n));
  const double su = tli_max_abs(u, n), sv = tli_max_abs(v, n);
  TLI_CHECK(su > 0.0, TL_E_INVALID_ARG,
            "%s: u is a zero vector (its cosine is undefined)", fn);
  TLI_CHECK(sv > 0.0, TL_E_INVALID_ARG,
            "%s: v is a zero vector (its cosine is undefined)", fn);
  /* Dividing by the largest magnitude keeps the sums finite and their
   * terms normal (1 / s could overflow for a subnormal s). */
  double uv = 0.0, uu = 0.0, vv = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double a = u[i] / su, b = v[i] / sv;
    uv += a * b;
    uu += a * a;
    vv += b * b;
  }
  const double c = uv / sqrt(uu * vv);
  *out = fmin(1.0, fmax(-1.0, c));
  return TL_OK;
}

tl_status tl_cosine_similarity(double *out, const double *u, const double *v,
                               size_t n) {
  return tli_cosine("tl_cosine_similarity", out, u, v, n);
}

tl_status tl_cosine_distance(double *out, const double *u, const double *v,
                             size_t n) {
  double c;
  TLI_TRY(tli_cosine("tl_cosine_distance", out ? &c : NULL, u, v, n));
  *out = 1.0 - c;
  return TL_OK;
}

tl_status tl_euclidean(double *out, const double *u, const double *v,
                       size_t n) {
  static const char fn[] = "tl_euclidean";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, u);
  TLI_CHECK_PTR(fn, v);
  TLI_TRY(tli_check_vectors(fn, u, v, n));
  /* Differences of finite values can overflow (1e308 - -1e308): scale by
   * the largest |u_i|, |v_i| first, so each difference stays finite. */
  const double s = fmax(tli_max_abs(u, n), tli_max_abs(v, n));
  if (s == 0.0) {
    *out = 0.0;
    return TL_OK;
  }
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double d = u[i] / s - v[i] / s;
    sum += d * d;
  }
  *out = sqrt(sum) * s;
  return TL_OK;
}
