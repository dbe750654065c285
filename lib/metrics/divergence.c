/* Divergences and distances between discrete distributions (and two plain
 * vector distances). Inputs are normalised on the fly: each measure makes
 * one validating pass (sums) and one computing pass, with at most the logs
 * the formula needs per bin. Definitions: include/tl/metrics.h,
 * docs/metrics.md. */
#include <float.h>
#include <math.h>

#include "core/cpu.h"
#include "core/error.h"
#include "metrics/check.h"
#include "metrics/fastlog.h"
#include "metrics/logsums.h"
#include "tl/metrics.h"

/* ln 2 (M_LN2 is not C11). */
static const double tli_ln2 = 0.69314718055994530942;

/* Validates a pair of distributions and describes their sums. */
static tl_status tli_check_pair(const char *fn, const double *p,
                                const double *q, size_t n, tli_wsum *sp,
                                tli_wsum *sq) {
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

/* The common case of KL and JS runs in logsums.c (one pass per
 * instruction set). The careful paths below take over when an input is
 * outside its domain (q = 0 < p, subnormals, a zero or overflowing sum,
 * cancellation in the KL split). They take their logs a block at a time
 * in one branch-free loop the compiler vectorises. The same loop
 * fills `lost`, all 0 when every log argument was in range; a block where
 * it is not (q = 0 < p, a subnormal) is redone element by element with
 * libm's log. 64 bins per block measured fastest (the term buffer stays in
 * L1 next to the streaming inputs). */
#define TLI_BLOCK 64

/* On x86-64, the two log loops are also compiled for AVX2 and picked per
 * call by what the CPU runs (core/cpu.h: no ifunc, so sanitizers work):
 * twice the SSE2 width. Contraction stays off (-std=c11), so both give
 * bit-identical results. */

/* 0 for an x tli_fastlog takes exactly (0 included: its term is 0 * finite
 * = 0); > 0 or NaN for a subnormal, inf or NaN x. Scaling down and back by
 * 2^100 loses bits only below 2^-922; x * 0 is NaN only for inf or NaN. */
static double tli_lost(double x) {
  return fabs(x - (x * 0x1p-100) * 0x1p100) + x * 0.0;
}

/* Sum of t[0..len) with four accumulators (a fixed order: reproducible). */
static double tli_sum(const double *t, size_t len) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    s0 += t[i];
    s1 += t[i + 1];
    s2 += t[i + 2];
    s3 += t[i + 3];
  }
  for (; i < len; i++)
    s0 += t[i];
  return (s0 + s1) + (s2 + s3);
}

/* One KL term p log(c p / q) for any p, q >= 0. */
static double tli_kl_term(double p, double q, double c) {
  if (p == 0.0)
    return 0.0;
  if (q == 0.0)
    return INFINITY;
  const double r = c * p / q;
  return p * (r >= DBL_MIN && r <= DBL_MAX ? log(r) : log(c) + log(p) - log(q));
}

/* sum p log(p/q) over normalised inputs, in nats. With c = sq/sp the ratio
 * of normalised values is c p/q: one division and one log per bin, and the
 * same rounding pattern as scipy's rel_entr on normalised arrays. */
/* log(a / b) for positive finite a, b, also when a / b overflows or
 * underflows (scales more than the double range apart). */
static double tli_log_quotient(double a, double b) {
  const double r = a / b;
  return r >= DBL_MIN && r <= DBL_MAX ? log(r) : log(a) - log(b);
}

TLI_CPU_BODY double tli_kl_nats_body(const double *p, const double *q, size_t n,
                                     tli_wsum wp, tli_wsum wq) {
  /* Sums outside the normal range: p and q are read scaled by powers of
   * two (exact, tli_check_weights), which changes neither c p / q nor the
   * normalised terms, but keeps p log(...) from underflowing and S / sp
   * from overflowing. */
  const tli_scale cp = wp.sc, cq = wq.sc;
  const double sp = wp.sum, sq = wq.sum;
  /* When sq/sp is out of range, its log is added at the end instead
   * (sum x log(p/q) + log(sq/sp), sum x = 1). */
  double c = sq / sp, shift = 0.0;
  if (!(c >= DBL_MIN && c <= DBL_MAX)) {
    shift = tli_log_quotient(sq, sp);
    c = 1.0;
  }
  double term[TLI_BLOCK], lost[TLI_BLOCK];
  double sum = 0.0;
  for (size_t b0 = 0; b0 < n; b0 += TLI_BLOCK) {
    const size_t len = n - b0 < TLI_BLOCK ? n - b0 : TLI_BLOCK;
    const double *pb = p + b0, *qb = q + b0;
    for (size_t i = 0; i < len; i++) {
      const double x = tli_scaled(pb[i], cp), y = tli_scaled(qb[i], cq);
      /* As in tli_kl_one_pass: q = 0 divides by 1, d - q flags it. */
      const double d = y + (y == 0.0 ? 1.0 : 0.0);
      const double r = c * x / d;
      term[i] = x * tli_fastlog(r);
      /* r = 0 < p: the ratio underflowed (tli_lost passes 0). */
      const double under = r == 0.0 ? x : 0.0;
      lost[i] = tli_lost(r) + x * (d - y) + under;
    }
    if (!(tli_sum(lost, len) == 0.0)) {
      for (size_t i = 0; i < len; i++)
        term[i] = tli_kl_term(tli_scaled(pb[i], cp), tli_scaled(qb[i], cq), c);
    }
    sum += tli_sum(term, len);
    if (isinf(sum))
      return INFINITY; /* q = 0 < p */
  }
  return sum / sp + shift;
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static double tli_kl_nats_avx2(const double *p,
                                                   const double *q, size_t n,
                                                   tli_wsum wp, tli_wsum wq) {
  return tli_kl_nats_body(p, q, n, wp, wq);
}
#endif

static double tli_kl_nats(const double *p, const double *q, size_t n,
                          tli_wsum wp, tli_wsum wq) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2())
    return tli_kl_nats_avx2(p, q, n, wp, wq);
#endif
  return tli_kl_nats_body(p, q, n, wp, wq);
}

/* KL in nats of validated-pointer inputs: the one-pass form
 * (tli_kl_pass: KL = S/sp + log(sq/sp) for S = sum p log(p/q)) when it is
 * usable and accurate, else validation (with messages) and two passes. */
static tl_status tli_kl(const char *fn, double *out, const double *p,
                        const double *q, size_t n, double scale) {
  double sp, sq, s;
  /* The one-pass form divides by sp: only sums whose reciprocals are
   * normal (tiny or huge ones go through the scaled careful path). */
  if (n > 0 && tli_kl_pass(tli_isa_best(), p, q, n, &sp, &sq, &s) &&
      tli_sum_in_range(sp) && tli_sum_in_range(sq) && isfinite(s)) {
    /* Accept the split form unless its two parts cancel: its rounding error
     * is about eps (|S/sp| + |log c|), so keep it when that is within a
     * factor 1024 of the result (relative error ~1e-13). */
    const double head = s / sp, lc = tli_log_quotient(sq, sp), kl = head + lc;
    if (fabs(head) + fabs(lc) <= 1024.0 * fabs(kl)) {
      *out = (kl > 0.0 ? kl : 0.0) * scale;
      return TL_OK;
    }
  }
  tli_wsum wp, wq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &wp, &wq));
  const double kl = tli_kl_nats(p, q, n, wp, wq);
  *out = (kl > 0.0 ? kl : 0.0) * scale; /* below 0: rounding only */
  return TL_OK;
}

tl_status tl_kl_divergence(double *out, const double *p, const double *q,
                           size_t n, double base) {
  static const char fn[] = "tl_kl_divergence";
  TLI_CHECK_PAIR_PTRS(fn);
  double scale;
  TLI_TRY(tli_check_base(fn, base, &scale));
  return tli_kl(fn, out, p, q, n, scale);
}

tl_status tl_entropy(double *out, const double *p, size_t n, double base) {
  static const char fn[] = "tl_entropy";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, p);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  double scale;
  tli_wsum wp;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_check_weights(fn, "p", p, n, &wp));
  const tli_scale c = wp.sc;
  const double inv = 1.0 / wp.sum;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] > 0.0) {
      const double x = tli_scaled(p[i], c) * inv;
      sum -= x * log(x);
    }
  }
  *out = (sum > 0.0 ? sum : 0.0) * scale;
  return TL_OK;
}

/* JS in nats, clamped to [0, ln 2]. With x, y the normalised values and
 * s = x + y, each bin adds x log(2x/s) + y log(2y/s); a bin where only one
 * of x, y is positive adds (x + y) ln 2, and one where both are 0 adds 0. */
static double tli_js_term(double x, double y) {
  if (x > 0.0 && y > 0.0) {
    const double s = x + y;
    return x * log(2.0 * x / s) + y * log(2.0 * y / s);
  }
  return (x + y) * tli_ln2;
}

/* 0.5 * sum of the JS terms, clamped to [0, ln 2] (rounding only). */
static double tli_js_clamp(double js) {
  if (!(js > 0.0))
    js = 0.0;
  if (js > tli_ln2)
    js = tli_ln2;
  return js;
}

TLI_CPU_BODY double tli_js_nats_body(const double *p, const double *q, size_t n,
                                     tli_wsum wp, tli_wsum wq) {
  /* Reciprocals of sums outside the normal range overflow or lose digits:
   * the values are read scaled by powers of two (tli_check_weights). */
  const tli_scale cp = wp.sc, cq = wq.sc;
  const double ip = 1.0 / wp.sum, iq = 1.0 / wq.sum;
  double term[TLI_BLOCK], lost[TLI_BLOCK];
  double sum = 0.0;
  for (size_t b0 = 0; b0 < n; b0 += TLI_BLOCK) {
    const size_t len = n - b0 < TLI_BLOCK ? n - b0 : TLI_BLOCK;
    const double *pb = p + b0, *qb = q + b0;
    for (size_t i = 0; i < len; i++) {
      /* log(2x/s) = tli_fastlog_ratio(2x, s), one division each. A zero x
       * zeroes its half (0 * finite), and then the other half is
       * y log(2y/y) = y ln 2 exactly; two zeros give 0 + 0. */
      const double x = tli_scaled(pb[i], cp) * ip,
                   y = tli_scaled(qb[i], cq) * iq, s = x + y;
      term[i] =
          x * tli_fastlog_ratio(2.0 * x, s) + y * tli_fastlog_ratio(2.0 * y, s);
      /* Validated inputs: x, y in [0, 1]; only a subnormal is a problem. */
      const int ok =
          ((x == 0.0) | (x >= DBL_MIN)) & ((y == 0.0) | (y >= DBL_MIN));
      lost[i] = ok ? 0.0 : 1.0;
    }
    if (!(tli_sum(lost, len) == 0.0)) {
      for (size_t i = 0; i < len; i++)
        term[i] =
            tli_js_term(tli_scaled(pb[i], cp) * ip, tli_scaled(qb[i], cq) * iq);
    }
    sum += tli_sum(term, len);
  }
  return tli_js_clamp(0.5 * sum);
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static double tli_js_nats_avx2(const double *p,
                                                   const double *q, size_t n,
                                                   tli_wsum wp, tli_wsum wq) {
  return tli_js_nats_body(p, q, n, wp, wq);
}
#endif

static double tli_js_nats(const double *p, const double *q, size_t n,
                          tli_wsum wp, tli_wsum wq) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2())
    return tli_js_nats_avx2(p, q, n, wp, wq);
#endif
  return tli_js_nats_body(p, q, n, wp, wq);
}

/* JS in nats with validation: one vectorised pass for the sums (the
 * messages come from tli_check_pair when it fails), one for the logs
 * (tli_js_pass); tli_js_nats redoes the rare inputs whose normalised
 * values are subnormal. */
static tl_status tli_js(const char *fn, double *out, const double *p,
                        const double *q, size_t n) {
  const tli_isa isa = tli_isa_best();
  double sp, sq, sum;
  if (n > 0 && tli_pair_sums(isa, p, q, n, &sp, &sq) && tli_sum_in_range(sp) &&
      tli_sum_in_range(sq) &&
      tli_js_pass(isa, p, q, n, 1.0 / sp, 1.0 / sq, &sum)) {
    *out = tli_js_clamp(0.5 * sum);
    return TL_OK;
  }
  tli_wsum wp, wq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &wp, &wq));
  *out = tli_js_nats(p, q, n, wp, wq);
  return TL_OK;
}

tl_status tl_js_divergence(double *out, const double *p, const double *q,
                           size_t n, double base) {
  static const char fn[] = "tl_js_divergence";
  TLI_CHECK_PAIR_PTRS(fn);
  double scale, js;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_js(fn, &js, p, q, n));
  *out = js * scale;
  return TL_OK;
}

tl_status tl_js_distance(double *out, const double *p, const double *q,
                         size_t n, double base) {
  static const char fn[] = "tl_js_distance";
  TLI_CHECK_PAIR_PTRS(fn);
  double scale, js;
  TLI_TRY(tli_check_base(fn, base, &scale));
  TLI_TRY(tli_js(fn, &js, p, q, n));
  *out = sqrt(js * scale);
  return TL_OK;
}

/* The normalised reading of a validated pair: x_i = p_i / sum p as
 * tli_scaled(p_i, cp) * ip (see tli_scale_for), likewise y_i. */
typedef struct tli_norm_pair {
  tli_scale cp, cq;
  double ip, iq;
} tli_norm_pair;

static tli_norm_pair tli_norm_pair_for(tli_wsum wp, tli_wsum wq) {
  tli_norm_pair np;
  np.cp = wp.sc;
  np.cq = wq.sc;
  np.ip = 1.0 / wp.sum;
  np.iq = 1.0 / wq.sum;
  return np;
}

/* log sum x (y/x)^e over the bins where both are positive, in the log
 * domain (log-sum-exp), for orders where the direct sum over- or
 * underflows (e.g. alpha = 700 with y/x = 6.7). */
static double tli_renyi_log_sum(const double *p, const double *q, size_t n,
                                const tli_norm_pair *np, double e) {
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    const double x = tli_scaled(p[i], np->cp) * np->ip,
                 y = tli_scaled(q[i], np->cq) * np->iq;
    if (x > 0.0 && y > 0.0) {
      const double t = log(x) + e * (log(y) - log(x));
      top = t > top ? t : top;
    }
  }
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double x = tli_scaled(p[i], np->cp) * np->ip,
                 y = tli_scaled(q[i], np->cq) * np->iq;
    if (x > 0.0 && y > 0.0)
      sum += exp(log(x) + e * (log(y) - log(x)) - top);
  }
  /* sum >= 1: the largest term contributes exp(0) (callers have at least
   * one shared bin). */
  // cppcheck-suppress invalidFunctionArg
  return top + log(sum);
}

/* Orders this close to 1 use the expm1/log1p form (below). For
 * |1 - alpha| <= 1/2, |(1 - alpha) log(y/x)| <= 372 for any normalised
 * x, y >= 5e-324, so expm1 cannot overflow. */
#define TLI_RENYI_NEAR_ONE 0.5

tl_status tl_renyi_divergence(double *out, const double *p, const double *q,
                              size_t n, double alpha, double base) {
  static const char fn[] = "tl_renyi_divergence";
  TLI_CHECK_PAIR_PTRS(fn);
  TLI_CHECK(isfinite(alpha) && alpha > 0.0, TL_E_INVALID_ARG,
            "%s: alpha must be finite and > 0 (got %g)", fn, alpha);
  double scale;
  tli_wsum wp, wq;
  TLI_TRY(tli_check_base(fn, base, &scale));
  if (alpha == 1.0)
    return tli_kl(fn, out, p, q, n, scale);
  TLI_TRY(tli_check_pair(fn, p, q, n, &wp, &wq));
  const tli_norm_pair np = tli_norm_pair_for(wp, wq);
  /* S = sum x^a y^(1-a) = sum x (y/x)^(1-a): one pow per shared bin. Bins
   * where only q is positive add 0; where only p is, 0 for a < 1, inf for
   * a > 1. Near a = 1, S = 1 + O(a - 1) and log(S) / (a - 1) would lose
   * the digits S rounds away (0.2222 for 0.2332 at a = 1 + 1e-14), so
   * there S - 1 is summed directly: since sum x = 1,
   * S - 1 = sum x expm1((1 - a) log(y/x)) - (the x with y = 0), and the
   * result is log1p(S - 1) / (a - 1), accurate to rounding for every a
   * (at a -> 1 each term tends to x (1 - a) log(y/x): KL). */
  const double e = 1.0 - alpha;
  const int near = fabs(e) <= TLI_RENYI_NEAR_ONE;
  double sum = 0.0;
  size_t shared = 0;
  for (size_t i = 0; i < n; i++) {
    const double x = tli_scaled(p[i], np.cp) * np.ip,
                 y = tli_scaled(q[i], np.cq) * np.iq;
    if (x == 0.0)
      continue;
    if (y == 0.0) {
      if (alpha > 1.0) {
        *out = INFINITY;
        return TL_OK;
      }
      sum -= near ? x : 0.0;
      continue;
    }
    sum += near ? x * expm1(e * tli_log_quotient(y, x)) : x * pow(y / x, e);
    shared++;
  }
  if (shared == 0) {
    *out = INFINITY; /* alpha < 1 and disjoint supports */
    return TL_OK;
  }
  /* S - 1 <= -1 (rounding, when little mass is shared) gives -inf or NaN
   * in log1p: the log-domain sum takes over, as for a large order. */
  double log_sum = near ? log1p(sum) : log(sum);
  if (!isfinite(log_sum)) /* a large or tiny order over- or underflowed */
    log_sum = tli_renyi_log_sum(p, q, n, &np, e);
  const double r = log_sum / (alpha - 1.0) * scale;
  /* Renyi divergences are >= 0; only rounding goes below. */
  *out = r > 0.0 ? r : 0.0;
  return TL_OK;
}

/* Bhattacharyya coefficient sum sqrt(x y) of the normalised inputs. */
static double tli_bc(const double *p, const double *q, size_t n, tli_wsum wp,
                     tli_wsum wq) {
  /* Scaled (tli_check_weights) so that products of tiny values do not
   * underflow into subnormals. */
  const tli_scale cp = wp.sc, cq = wq.sc;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += sqrt(tli_scaled(p[i], cp)) * sqrt(tli_scaled(q[i], cq));
  return sum / (sqrt(wp.sum) * sqrt(wq.sum));
}

tl_status tl_bhattacharyya(double *out, const double *p, const double *q,
                           size_t n) {
  static const char fn[] = "tl_bhattacharyya";
  TLI_CHECK_PAIR_PTRS(fn);
  tli_wsum wp, wq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &wp, &wq));
  const double bc = tli_bc(p, q, n, wp, wq);
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
  tli_wsum wp, wq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &wp, &wq));
  /* The difference form keeps accuracy for close inputs, where
   * sqrt(1 - BC) would cancel. */
  const tli_scale cp = wp.sc, cq = wq.sc;
  const double ip = 1.0 / wp.sum, iq = 1.0 / wq.sum;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double d =
        sqrt(tli_scaled(p[i], cp) * ip) - sqrt(tli_scaled(q[i], cq) * iq);
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
  tli_wsum wp, wq;
  TLI_TRY(tli_check_pair(fn, p, q, n, &wp, &wq));
  const tli_scale cp = wp.sc, cq = wq.sc;
  const double ip = 1.0 / wp.sum, iq = 1.0 / wq.sum;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += fabs(tli_scaled(p[i], cp) * ip - tli_scaled(q[i], cq) * iq);
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
  /* The overflow rule of metrics.h: a finite distance beyond DBL_MAX is
   * an error, not +inf. */
  const double r = sqrt(sum) * s;
  TLI_CHECK(isfinite(r), TL_E_NUMERIC,
            "%s: the distance overflows (%g * %g is beyond DBL_MAX): u and "
            "v are too far apart to represent; rescale them",
            fn, sqrt(sum), s);
  *out = r;
  return TL_OK;
}
