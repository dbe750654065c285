/* lib/metrics part 1: the fast KL/JS paths (fastlog, the vectorised
 * logsums passes on every instruction set) against long double and plain sums.
 */
#include "metrics_div_common.h"

START_TEST(fastlog_is_within_one_ulp_and_never_inf) {
  tli_rng rng;
  tli_rng_seed(&rng, 1);
  double worst = 0.0;
  for (int i = 0; i < 200000; i++) {
    /* Log-uniform over the whole normal range, and densely around 1. */
    const double x = i % 2 ? exp(1416.0 * tli_rng_uniform(&rng) - 708.0)
                           : 1.0 + 0.2 * (tli_rng_uniform(&rng) - 0.5);
    const double want = log(x), got = tli_fastlog(x);
    if (want != 0.0) {
      const double ulp = nextafter(fabs(want), INFINITY) - fabs(want);
      worst = fmax(worst, fabs(got - want) / ulp);
    } else {
      ck_assert_double_eq(got, 0.0);
    }
  }
  ck_assert_msg(worst <= 1.0, "tli_fastlog is %g ulp off", worst);
  ck_assert_double_eq(tli_fastlog(DBL_MIN), log(DBL_MIN));
  ck_assert_double_eq(tli_fastlog(DBL_MAX), log(DBL_MAX));
  /* Out of range: some finite value (the callers rely on 0 * it == 0). */
  const double odd[] = {0.0, -0.0, 1e-310, INFINITY, -1.0, NAN};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
    ck_assert(isfinite(tli_fastlog(odd[i])));
}
END_TEST

START_TEST(fastlog_ratio_is_within_two_ulp) {
  tli_rng rng;
  tli_rng_seed(&rng, 2);
  double worst = 0.0;
  for (int i = 0; i < 200000; i++) {
    const double a = exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    const double b = i % 2 ? a * (1.0 + 1e-3 * (tli_rng_uniform(&rng) - 0.5))
                           : exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    /* Reference in long double: log1p of the exact difference near 1. */
    const long double q = (long double)a / (long double)b;
    const long double want =
        (q > 0.5L && q < 2.0L)
            ? log1pl(((long double)a - (long double)b) / (long double)b)
            : logl(q);
    const double w = (double)want;
    if (w == 0.0)
      continue;
    const double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
    worst = fmax(
        worst,
        (double)(fabsl((long double)tli_fastlog_ratio(a, b) - want) / ulp));
  }
  ck_assert_msg(worst <= 2.0, "tli_fastlog_ratio is %g ulp off", worst);
  ck_assert_double_eq(tli_fastlog_ratio(3.0, 3.0), 0.0);
  /* The ratio itself would overflow; its log does not. */
  TLT_ASSERT_CLOSE(tli_fastlog_ratio(DBL_MAX, DBL_MIN),
                   log(DBL_MAX) - log(DBL_MIN), 1e-15, 0.0);
  ck_assert(isfinite(tli_fastlog_ratio(0.0, 0.0)));
  ck_assert(isfinite(tli_fastlog_ratio(1.0, INFINITY)));
  ck_assert(isfinite(tli_fastlog_ratio(NAN, 1e-310)));
}
END_TEST

START_TEST(kl_and_js_do_not_depend_on_far_apart_scales) {
  /* sum q / sum p = 1e350 or 1e-350 overflows or underflows; the results
   * must still be those of the normalised inputs (they once were inf). */
  tli_rng rng;
  tli_rng_seed(&rng, 29);
  enum { n = 1001 };
  static double p[n], q[n], ps[n], qs[n];
  random_dist(p, n, &rng);
  random_dist(q, n, &rng);
  double kl, js;
  TLT_ASSERT_OK(tl_kl_divergence(&kl, p, q, n, 0.0));
  TLT_ASSERT_OK(tl_js_divergence(&js, p, q, n, 0.0));
  const double scale[2][2] = {{1e-200, 1e150}, {1e150, 1e-200}};
  for (int c = 0; c < 2; c++) {
    for (size_t i = 0; i < n; i++) {
      ps[i] = p[i] * scale[c][0];
      qs[i] = q[i] * scale[c][1];
    }
    double r;
    TLT_ASSERT_OK(tl_kl_divergence(&r, ps, qs, n, 0.0));
    TLT_ASSERT_CLOSE(r, kl, 1e-10, 0.0);
    TLT_ASSERT_OK(tl_js_divergence(&r, ps, qs, n, 0.0));
    TLT_ASSERT_CLOSE(r, js, 1e-13, 0.0);
  }
}
END_TEST

/* The FMA form of tli_fastlog_ratio_impl, as the AVX2 and AVX-512 passes
 * compile it (scalar FMAs round as vector ones). */
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_FUSED_LOG 1
__attribute__((target("avx2,fma"))) static double fused_log_ratio(double a,
                                                                  double b) {
  return tli_fastlog_ratio_impl(a, b, 1);
}
#endif

START_TEST(fused_fastlog_ratio_is_within_two_ulp) {
#ifdef HAVE_FUSED_LOG
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    return;
  tli_rng rng;
  tli_rng_seed(&rng, 2);
  double worst = 0.0;
  for (int i = 0; i < 200000; i++) {
    /* As fastlog_ratio_is_within_two_ulp. */
    const double a = exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    const double b = i % 2 ? a * (1.0 + 1e-3 * (tli_rng_uniform(&rng) - 0.5))
                           : exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    const long double q = (long double)a / (long double)b;
    const long double want =
        (q > 0.5L && q < 2.0L)
            ? log1pl(((long double)a - (long double)b) / (long double)b)
            : logl(q);
    const double w = (double)want;
    if (w == 0.0)
      continue;
    const double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
    worst =
        fmax(worst,
             (double)(fabsl((long double)fused_log_ratio(a, b) - want) / ulp));
  }
  ck_assert_msg(worst <= 2.0, "fused tli_fastlog_ratio is %g ulp off", worst);
  ck_assert_double_eq(fused_log_ratio(3.0, 3.0), 0.0);
  TLT_ASSERT_CLOSE(fused_log_ratio(DBL_MAX, DBL_MIN),
                   log(DBL_MAX) - log(DBL_MIN), 1e-15, 0.0);
  ck_assert(isfinite(fused_log_ratio(0.0, 0.0)));
  ck_assert(isfinite(fused_log_ratio(1.0, INFINITY)));
  ck_assert(isfinite(fused_log_ratio(NAN, 1e-310)));
#endif
}
END_TEST

/* Long double references for the passes of logsums.c. */
static void ref_kl_pass(const double *p, const double *q, size_t n,
                        long double *sp, long double *sq, long double *s) {
  *sp = *sq = *s = 0.0L;
  for (size_t i = 0; i < n; i++) {
    *sp += p[i];
    *sq += q[i];
    if (p[i] > 0.0)
      *s += (long double)p[i] * logl((long double)p[i] / (long double)q[i]);
  }
}

static long double ref_js_pass(const double *p, const double *q, size_t n,
                               double ip, double iq) {
  long double sum = 0.0L;
  for (size_t i = 0; i < n; i++) {
    const long double x = (long double)(p[i] * ip),
                      y = (long double)(q[i] * iq), m = x + y;
    if (x > 0.0L)
      sum += x * logl(2.0L * x / m);
    if (y > 0.0L)
      sum += y * logl(2.0L * y / m);
  }
  return sum;
}

START_TEST(logsums_passes_match_long_double_on_every_isa) {
  tli_rng rng;
  tli_rng_seed(&rng, 23);
  /* n = 1003: whole groups of lanes and a tail. */
  enum { n = 1003 };
  static double p[n], q[n];
  for (int isa = TLI_ISA_BASE; isa <= (int)tli_isa_best(); isa++) {
    /* Dense; zeros in p (q normal, or 0, or subnormal: all 0 terms);
     * another scale. */
    for (int c = 0; c < 3; c++) {
      random_dist(p, n, &rng);
      random_dist(q, n, &rng);
      for (size_t i = 0; i < n; i++) {
        if (c == 1 && i % 7 == 0)
          p[i] = 0.0;
        if (c == 1 && i % 21 == 0)
          q[i] = 0.0;
        if (c == 1 && i % 35 == 0)
          q[i] = 1e-310;
        if (c == 2)
          q[i] *= 1e6;
      }
      double sp, sq, s;
      long double rp, rq, rs;
      ck_assert_int_eq(tli_kl_pass((tli_isa)isa, p, q, n, &sp, &sq, &s), 1);
      ref_kl_pass(p, q, n, &rp, &rq, &rs);
      TLT_ASSERT_CLOSE(sp, (double)rp, 1e-14, 0.0);
      TLT_ASSERT_CLOSE(sq, (double)rq, 1e-14, 0.0);
      TLT_ASSERT_CLOSE(s, (double)rs, 1e-12, 1e-12 * (double)rp);
      double sp2, sq2;
      ck_assert_int_eq(tli_pair_sums((tli_isa)isa, p, q, n, &sp2, &sq2), 1);
      TLT_ASSERT_CLOSE(sp2, (double)rp, 1e-14, 0.0);
      TLT_ASSERT_CLOSE(sq2, (double)rq, 1e-14, 0.0);
      if (c == 1) /* q = 1e-310: 1/sq normalises it to a subnormal */
        continue;
      double js;
      ck_assert_int_eq(
          tli_js_pass((tli_isa)isa, p, q, n, 1.0 / sp, 1.0 / sq, &js), 1);
      TLT_ASSERT_CLOSE(js, (double)ref_js_pass(p, q, n, 1.0 / sp, 1.0 / sq),
                       1e-13, 0.0);
    }
  }
}
END_TEST

START_TEST(logsums_passes_flag_what_they_cannot_take) {
  enum { n = 19 };
  double p[n], q[n], sp, sq, s;
  for (int isa = TLI_ISA_BASE; isa <= (int)tli_isa_best(); isa++) {
    const tli_isa k = (tli_isa)isa;
    /* Each bad value in turn, at a lane of the vector part (5) and in the
     * tail (17). */
    const size_t at[] = {5, 17};
    for (size_t a = 0; a < 2; a++) {
      const size_t i = at[a];
      /* KL: p > 0 over q = 0 or subnormal, a subnormal p, a negative q
       * under p = 0, a negative p, NaN, inf. */
      const double bad_q[] = {0.0, 1e-310, -1.0, 0.5, NAN, INFINITY};
      const double bad_p[] = {0.5, 0.5, 0.0, -0.5, 0.5, 0.5};
      const double sub_p[] = {1e-310, NAN, INFINITY};
      for (size_t c = 0; c < 6; c++) {
        for (size_t j = 0; j < n; j++)
          p[j] = q[j] = 1.0 + (double)j;
        p[i] = bad_p[c];
        q[i] = bad_q[c];
        ck_assert_msg(tli_kl_pass(k, p, q, n, &sp, &sq, &s) == 0,
                      "isa %d: kl case %zu at %zu not flagged", isa, c, i);
      }
      for (size_t c = 0; c < 3; c++) {
        for (size_t j = 0; j < n; j++)
          p[j] = q[j] = 1.0 + (double)j;
        p[i] = sub_p[c];
        ck_assert_int_eq(tli_kl_pass(k, p, q, n, &sp, &sq, &s), 0);
      }
      /* Pair sums: negative, NaN, inf in either; a subnormal is valid. */
      const double bad[] = {-1e-300, NAN, INFINITY, -INFINITY};
      for (size_t c = 0; c < 4; c++) {
        for (size_t j = 0; j < n; j++)
          p[j] = q[j] = 1.0;
        p[i] = bad[c];
        ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 0);
        p[i] = 1.0;
        q[i] = bad[c];
        ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 0);
      }
      q[i] = 1e-310;
      ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 1);
      /* Overflowing sums. */
      for (size_t j = 0; j < n; j++)
        p[j] = DBL_MAX;
      ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 0);
      /* JS: a subnormal normalised value in p or in q. */
      for (size_t j = 0; j < n; j++)
        p[j] = q[j] = 1.0;
      p[i] = 1e-310;
      ck_assert_int_eq(tli_js_pass(k, p, q, n, 1.0 / n, 1.0 / n, &s), 0);
      p[i] = 1.0;
      q[i] = 1e-310;
      ck_assert_int_eq(tli_js_pass(k, p, q, n, 1.0 / n, 1.0 / n, &s), 0);
      /* ... and zeros are fine: disjoint supports give 2 ln 2. */
      for (size_t j = 0; j < n; j++) {
        p[j] = j % 2 ? 1.0 : 0.0;
        q[j] = j % 2 ? 0.0 : 1.0;
      }
      ck_assert_int_eq(tli_js_pass(k, p, q, n, 1.0 / 9, 1.0 / 10, &s), 1);
      TLT_ASSERT_CLOSE(s, 2.0 * ln2, 1e-15, 0.0);
    }
  }
}
END_TEST

/* Plain reference sums with libm, for comparison with the vectorised and
 * one-pass forms (which also switch paths on zeros, subnormals and
 * unnormalised scales). */
static double naive_kl(const double *p, const double *q, size_t n) {
  double sp = 0, sq = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    sp += p[i];
    sq += q[i];
  }
  for (size_t i = 0; i < n; i++)
    if (p[i] > 0)
      s += p[i] / sp * log((p[i] / sp) / (q[i] / sq));
  return s;
}

static double naive_js(const double *p, const double *q, size_t n) {
  double sp = 0, sq = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    sp += p[i];
    sq += q[i];
  }
  for (size_t i = 0; i < n; i++) {
    const double x = p[i] / sp, y = q[i] / sq, m = 0.5 * (x + y);
    if (x > 0)
      s += 0.5 * x * log(x / m);
    if (y > 0)
      s += 0.5 * y * log(y / m);
  }
  return s;
}

START_TEST(kl_js_paths_agree_with_plain_sums) {
  tli_rng rng;
  tli_rng_seed(&rng, 17);
  enum { n = 1000 };
  static double p[n], q[n];
  /* Cases: dense; zeros in p; zeros in both (same bins); subnormal and
   * huge entries; another scale (q ~ 1e6); a scale where the one-pass
   * split form would cancel (q ~ 1e6 p: KL ~ 1e-4, log(sq/sp) ~ 14). */
  for (int c = 0; c < 6; c++) {
    random_dist(p, n, &rng);
    random_dist(q, n, &rng);
    for (size_t i = 0; i < n; i++) {
      if (c == 1 && i % 7 == 0)
        p[i] = 0.0;
      if (c == 2 && i % 5 == 0)
        p[i] = q[i] = 0.0;
      if (c == 3 && i % 11 == 0) {
        p[i] = 1e-310 * (double)(i + 1);
        q[i] = 1e300;
      }
      if (c == 4)
        q[i] *= 1e6;
      if (c == 5)
        q[i] = 1e6 * p[i] * (1.0 + 0.05 * tli_rng_uniform(&rng));
    }
    double r;
    TLT_ASSERT_OK(tl_kl_divergence(&r, p, q, n, 0.0));
    TLT_ASSERT_CLOSE(r, naive_kl(p, q, n), 1e-10, 1e-300);
    TLT_ASSERT_OK(tl_kl_divergence(&r, q, p, n, 0.0));
    if (c == 1)
      ck_assert(isinf(r)); /* q = 0 < p now */
    else
      TLT_ASSERT_CLOSE(r, naive_kl(q, p, n), 1e-10, 1e-300);
    TLT_ASSERT_OK(tl_js_divergence(&r, p, q, n, 0.0));
    TLT_ASSERT_CLOSE(r, naive_js(p, q, n), 1e-10, 1e-300);
  }
}
END_TEST

TCase *metrics_div_case_fast_paths(void) {
  TCase *t = tcase_create("fast_paths");
  tcase_add_test(t, fastlog_is_within_one_ulp_and_never_inf);
  tcase_add_test(t, fastlog_ratio_is_within_two_ulp);
  tcase_add_test(t, kl_and_js_do_not_depend_on_far_apart_scales);
  tcase_add_test(t, fused_fastlog_ratio_is_within_two_ulp);
  tcase_add_test(t, logsums_passes_match_long_double_on_every_isa);
  tcase_add_test(t, logsums_passes_flag_what_they_cannot_take);
  tcase_add_test(t, kl_js_paths_agree_with_plain_sums);
  return t;
}
