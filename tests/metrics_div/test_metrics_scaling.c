/* Property test of the overflow rule (metrics.h, "Scaling and overflow"):
 * for every metrics function, random inputs scaled by 2^k, for k across
 * the whole exponent range (-1074 .. 1023), give the result of the
 * unscaled input scaled by 2^(degree k) (degree 0 for scale-free measures,
 * 1 for distances, 2 for variances, 4 for CORAL), or TL_E_NUMERIC when that
 * result is beyond DBL_MAX, and never NaN with TL_OK.
 *
 * The reference is the function of the scaled input scaled back (exact,
 * as a power of two), so inputs that lost digits in the subnormals are
 * compared with what they became. One Check test case per area. */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "tl_test.h"

#define MAX_IN 512
#define MAX_OUT 64

/* A function under test: out[0..nout) from the scaled input `in` and the
 * exponent k (for parameters that scale with the data, e.g. a bandwidth). */
typedef tl_status (*prop_fn)(double *out, const double *in, int k);

typedef struct prop {
  const char *name;
  prop_fn f;
  size_t nin, nout;
  int degree;            /* of every output, unless out_degree is given */
  const int *out_degree; /* per output (NULL: degree) */
  const int *in_degree;  /* per input: scaled by 2^(in_degree k) (NULL: 1) */
  int numeric_below;     /* TL_E_NUMERIC is documented for k < this */
  int numeric_above;     /* ... and for k > this */
  double rel;            /* tolerance against the reference */
} prop;

static uint64_t lcg;
static double uniform(void) {
  lcg ^= lcg << 13;
  lcg ^= lcg >> 7;
  lcg ^= lcg << 17;
  return (double)(lcg >> 11) * 0x1p-53;
}

/* Values in [lo, lo + width), some spread over 2^-6 .. 1. */
static void random_fill(double *x, size_t n, double lo, double width) {
  for (size_t i = 0; i < n; i++)
    x[i] = (lo + width * uniform()) * ldexp(1.0, -(int)(uniform() * 6.0));
}

static int degree_of(const int *d, size_t i, int dflt) {
  return d ? d[i] : dflt;
}

/* The smallest k tried: outputs such as rankings are compared only while
 * the scaled scores are normal (below, ties appear where the reference has
 * none). */
static int k_first = -1074;

static void run_property(const prop *p, const double *base) {
  static double in[MAX_IN], back[MAX_IN];
  double got[MAX_OUT], ref[MAX_OUT];
  ck_assert(p->nin <= MAX_IN && p->nout <= MAX_OUT);
  for (int k = k_first; k <= 1023; k += (k < -1000 || k > 960) ? 3 : 37) {
    for (size_t i = 0; i < p->nin; i++) {
      const int e = degree_of(p->in_degree, i, 1) * k;
      in[i] = ldexp(base[i], e);
      back[i] = ldexp(in[i], -e); /* exact: a power of two */
    }
    const tl_status sr = p->f(ref, back, 0);
    if (sr != TL_OK)
      continue; /* the input lost everything (e.g. all zero) */
    for (size_t j = 0; j < MAX_OUT; j++)
      got[j] = NAN;
    const tl_status s = p->f(got, in, k);
    /* Where the reference scaled exceeds DBL_MAX (with a margin for
     * rounding), TL_E_NUMERIC is the rule. */
    int overflows = 0;
    for (size_t j = 0; j < p->nout; j++) {
      const int e = degree_of(p->out_degree, j, p->degree) * k;
      if (isfinite(ref[j]) && fabs(ldexp(ref[j], e - 2)) > DBL_MAX / 8)
        overflows = 1;
    }
    if (s == TL_E_NUMERIC) {
      ck_assert_msg(overflows || k < p->numeric_below || k > p->numeric_above,
                    "%s, k = %d: TL_E_NUMERIC but the result is "
                    "representable: %s",
                    p->name, k, tl_last_error());
      continue;
    }
    ck_assert_msg(s == TL_OK, "%s, k = %d: %s (%s)", p->name, k,
                  tl_status_string(s), tl_last_error());
    for (size_t j = 0; j < p->nout; j++) {
      const int e = degree_of(p->out_degree, j, p->degree) * k;
      ck_assert_msg(!isnan(got[j]), "%s, k = %d: out[%zu] is NaN with TL_OK",
                    p->name, k, j);
      if (isinf(ref[j])) {
        ck_assert_msg(got[j] == ref[j], "%s, k = %d: out[%zu] = %g, not %g",
                      p->name, k, j, got[j], ref[j]);
        continue;
      }
      ck_assert_msg(isfinite(got[j]), "%s, k = %d: out[%zu] = %g with TL_OK",
                    p->name, k, j, got[j]);
      const double want = ldexp(ref[j], e);
      /* Below the normal range the scaled result has fewer digits: only
       * its size is checked. */
      const double tiny = ldexp(DBL_MIN, 60);
      if (fabs(want) < tiny) {
        ck_assert_msg(fabs(got[j]) <= 2.0 * tiny, "%s, k = %d: out[%zu] = %g",
                      p->name, k, j, got[j]);
        continue;
      }
      const double floor_ = ldexp(1e-12, e);
      ck_assert_msg(fabs(got[j] - want) <= p->rel * fmax(fabs(want), floor_),
                    "%s, k = %d: out[%zu] = %.17g, expected %.17g", p->name, k,
                    j, got[j], want);
    }
  }
}

/* ---------------------------------------------------------------------- */
/* Divergences: p = in[0..N), q = in[N..2N), both scaled (degree 0).       */

#define DN 24
#define D2(name, call)                                                         \
  static tl_status name(double *out, const double *in, int k) {                \
    (void)k;                                                                   \
    const double *p = in, *q = in + DN;                                        \
    (void)q;                                                                   \
    return call;                                                               \
  }
D2(f_kl, tl_kl_divergence(out, p, q, DN, 0.0))
D2(f_kl2, tl_kl_divergence(out, p, q, DN, 2.0))
D2(f_entropy, tl_entropy(out, p, DN, 0.0))
D2(f_js, tl_js_divergence(out, p, q, DN, 0.0))
D2(f_jsd, tl_js_distance(out, p, q, DN, 2.0))
D2(f_renyi05, tl_renyi_divergence(out, p, q, DN, 0.5, 0.0))
D2(f_renyi099, tl_renyi_divergence(out, p, q, DN, 0.99, 0.0))
D2(f_renyi1p, tl_renyi_divergence(out, p, q, DN, 1.0 + 1e-9, 0.0))
D2(f_renyi3, tl_renyi_divergence(out, p, q, DN, 3.0, 0.0))
D2(f_bhatta, tl_bhattacharyya(out, p, q, DN))
D2(f_hell, tl_hellinger(out, p, q, DN))
D2(f_tv, tl_total_variation(out, p, q, DN))
D2(f_cos, tl_cosine_similarity(out, p, q, DN))
D2(f_cosd, tl_cosine_distance(out, p, q, DN))
D2(f_euclid, tl_euclidean(out, p, q, DN))
D2(f_term, tl_term_similarity(out, p, q, DN, 0.99))

START_TEST(divergences_scale) {
  lcg = 88172645463325252u; /* the same inputs forked or not */
  double base[2 * DN];
  random_fill(base, 2 * DN, 0.0, 1.0);
  base[3] = 0.0; /* a zero bin in p */
  const prop props[] = {
      {"kl", f_kl, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"kl base 2", f_kl2, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"entropy", f_entropy, DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"js", f_js, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"js distance", f_jsd, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"renyi 0.5", f_renyi05, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"renyi 0.99", f_renyi099, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"renyi 1+1e-9", f_renyi1p, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"renyi 3", f_renyi3, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"bhattacharyya", f_bhatta, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"hellinger", f_hell, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"total variation", f_tv, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"cosine", f_cos, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"cosine distance", f_cosd, 2 * DN, 1, 0, NULL, NULL, -2000, 2000, 1e-12},
      {"euclidean", f_euclid, 2 * DN, 1, 1, NULL, NULL, -2000, 2000, 1e-12},
      {"term similarity", f_term, 2 * DN, TL_TERM_SIMILARITY_COUNT, 0, NULL,
       NULL, -2000, 2000, 1e-12},
  };
  for (size_t i = 0; i < sizeof props / sizeof *props; i++)
    run_property(&props[i], base);
  /* Signed vectors for the plain distances. */
  random_fill(base, 2 * DN, -1.0, 2.0);
  for (size_t i = 12; i < 15; i++)
    run_property(&props[i], base);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Wasserstein and optimal transport: values degree 1, weights degree 0.   */

#define WN 20
#define WM 15
static const int w_in_deg[2 * WN + 2 * WM] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* u */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                /* v */
};
static tl_status f_w1(double *out, const double *in, int k) {
  (void)k;
  const double *u = in, *v = in + WN, *uw = v + WM, *vw = uw + WN;
  return tl_wasserstein_1d(out, u, WN, uw, v, WM, vw, 1.0);
}
static tl_status f_w2(double *out, const double *in, int k) {
  (void)k;
  return tl_wasserstein_1d(out, in, WN, NULL, in + WN, WM, NULL, 2.0);
}
static tl_status f_w3(double *out, const double *in, int k) {
  (void)k;
  const double *u = in, *v = in + WN, *uw = v + WM, *vw = uw + WN;
  return tl_wasserstein_1d(out, u, WN, uw, v, WM, vw, 3.0);
}
/* Weights only (positions fixed): degree 0 in every input. */
static tl_status f_whist(double *out, const double *in, int k) {
  (void)k;
  static const double x[WN] = {-3, -2, -1.5, -1, 0,   0.5, 1,   2,   2.5, 3,
                               4,  5,  6,    7,  7.5, 8,   8.5, 9.5, 10,  11};
  return tl_wasserstein_1d_hist(out, x, in, in + WN, WN, 1.5);
}
static tl_status f_sliced(double *out, const double *in, int k) {
  (void)k;
  tl_sliced_options o;
  tl_sliced_options_init(&o, TL_SLICED_OPTIONS_VERSION);
  o.n_projections = 8;
  return tl_sliced_wasserstein(out, in, 10, NULL, in + 30, 8, NULL, 3, &o);
}
/* Sinkhorn: the cost matrix and reg scale together (degree 1). */
static tl_status f_sinkhorn(double *out, const double *in, int k) {
  double plan[6 * 5];
  tl_status s = tl_sinkhorn(out, plan, NULL, NULL, NULL, 6, NULL, 5, in,
                            ldexp(1.0, k), NULL);
  if (s == TL_OK)
    out[1] = plan[7]; /* degree 0 */
  return s;
}
static const int sk_out_deg[2] = {1, 0};

START_TEST(wasserstein_and_transport_scale) {
  lcg = 88172645463325252u; /* the same inputs forked or not */
  double base[2 * WN + 2 * WM];
  random_fill(base, WN + WM, -1.0, 2.0);
  random_fill(base + WN + WM, WN + WM, 0.0, 1.0);
  const prop p1 = {"wasserstein p=1",
                   f_w1,
                   2 * WN + 2 * WM,
                   1,
                   1,
                   NULL,
                   w_in_deg,
                   -2000,
                   2000,
                   1e-12};
  const prop p2 = {
      "wasserstein p=2", f_w2, WN + WM, 1, 1, NULL, NULL, -2000, 2000, 1e-12};
  const prop p3 = {"wasserstein p=3",
                   f_w3,
                   2 * WN + 2 * WM,
                   1,
                   1,
                   NULL,
                   w_in_deg,
                   -2000,
                   2000,
                   1e-12};
  run_property(&p1, base);
  run_property(&p2, base);
  run_property(&p3, base);
  double hb[2 * WN];
  random_fill(hb, 2 * WN, 0.0, 1.0);
  const prop ph = {"wasserstein hist",
                   f_whist,
                   2 * WN,
                   1,
                   0,
                   NULL,
                   NULL,
                   -2000,
                   2000,
                   1e-12};
  run_property(&ph, hb);
  double pts[54];
  random_fill(pts, 54, -1.0, 2.0);
  const prop ps = {"sliced", f_sliced, 54,    1,    1,
                   NULL,     NULL,     -2000, 2000, 1e-10};
  run_property(&ps, pts);
  double cost[30];
  random_fill(cost, 30, 0.0, 2.0);
  /* reg = 2^k: 1 / reg overflows below k = -1023, a documented
   * TL_E_NUMERIC ("1 / reg overflows"). */
  const prop pk = {"sinkhorn", f_sinkhorn, 30,    2,    0,
                   sk_out_deg, NULL,       -1023, 2000, 1e-9};
  run_property(&pk, cost);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Kernels and classifiers: MMD (scale-free with sigma), proxy A.          */

static tl_status f_mmd_median(double *out, const double *in, int k) {
  (void)k;
  tl_status s = tl_mmd2(out, out + 1, in, 12, in + 36, 10, 3, NULL);
  return s;
}
static const int mmd_out_deg[2] = {0, 1};
static tl_status f_mmd_sigma(double *out, const double *in, int k) {
  tl_mmd_options o;
  tl_mmd_options_init(&o, TL_MMD_OPTIONS_VERSION);
  o.sigma = ldexp(1.0, k); /* exact down to k = -1074 */
  o.unbiased = 1;
  return tl_mmd2(out, NULL, in, 12, in + 36, 10, 3, &o);
}
static tl_status f_proxy(double *out, const double *in, int k) {
  (void)k;
  return tl_proxy_a_distance(out, out + 1, in, 12, in + 36, 10, 3, NULL);
}

START_TEST(kernels_scale) {
  lcg = 88172645463325252u; /* the same inputs forked or not */
  double base[66];
  random_fill(base, 66, -1.0, 2.0);
  for (size_t i = 36; i < 66; i++)
    base[i] += 0.3;
  /* The median-heuristic sigma (degree 1) overflows near DBL_MAX. */
  const prop pm = {"mmd median", f_mmd_median, 66,    2,    0,
                   mmd_out_deg,  NULL,         -2000, 2000, 1e-10};
  run_property(&pm, base);
  /* sigma = 2^k is exact over the whole range. */
  const prop ps = {"mmd sigma", f_mmd_sigma, 66,    1,    0,
                   NULL,        NULL,        -2000, 2000, 1e-10};
  run_property(&ps, base);
  const prop pp = {"proxy a", f_proxy, 66, 2, 0, NULL, NULL, -2000, 2000, 0.0};
  run_property(&pp, base);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Alignment: CORAL (degree 4; alignment 1), Frechet (2), PCA, Procrustes,  */
/* CSLS.                                                                    */

#define AN 10
#define AD 3
static tl_status f_coral(double *out, const double *in, int k) {
  (void)k;
  return tl_coral_distance(out, in, AN, in + AN * AD, AN, AD);
}
static tl_status f_coral_align(double *out, const double *in, int k) {
  (void)k;
  return tl_coral_align(out, in, AN, in + AN * AD, AN, AD, 0.0);
}
static tl_status f_frechet(double *out, const double *in, int k) {
  (void)k;
  return tl_frechet_distance(out, in, AN, in + AN * AD, AN, AD);
}
/* mu1, mu2 (degree 1), cov1, cov2 (degree 2; SPD). */
static tl_status f_frechet_g(double *out, const double *in, int k) {
  (void)k;
  return tl_frechet_distance_gaussian(out, in, in + 2 * AD, in + AD,
                                      in + 2 * AD + AD * AD, AD);
}
static const int fg_in_deg[2 * AD + 2 * AD * AD] = {
    1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
static tl_status f_pca(double *out, const double *in, int k) {
  (void)k;
  double comps[2 * AD];
  /* mean (AD, degree 1), variance (2, degree 2), ratio (2, degree 0),
   * |first component entries| (AD, degree 0: signs follow sklearn). */
  tl_status s =
      tl_pca_fit(out, comps, out + AD, out + AD + 2, in, 2 * AN, AD, 2);
  if (s == TL_OK)
    for (size_t j = 0; j < AD; j++)
      out[AD + 4 + j] = comps[j];
  return s;
}
static const int pca_out_deg[AD + 4 + AD] = {1, 1, 1, 2, 2, 0, 0, 0, 0, 0};
static tl_status f_pca_select(double *out, const double *in, int k) {
  (void)k;
  size_t idx[3];
  tl_status s = tl_pca_select(idx, out, in, AN, in + AN * AD, AN, AD, 3, NULL);
  if (s == TL_OK)
    for (size_t j = 0; j < 3; j++)
      out[3 + j] = (double)idx[j];
  return s;
}
static const int pcs_out_deg[6] = {1, 1, 1, 0, 0, 0};
/* x (AN x AD) and mean (AD) scale (degree 1), the components are fixed. */
static tl_status f_pca_transform(double *out, const double *in, int k) {
  (void)k;
  static const double comps[2 * AD] = {0.6, 0.8, 0.0, -0.48, 0.36, 0.8};
  return tl_pca_transform(out, in, AN, AD, in + AN * AD, comps, 2);
}
static tl_status f_sliced_projected(double *out, const double *in, int k) {
  (void)k;
  static const double proj[4 * AD] = {
      1, 0, 0, 0.6, 0.8, 0, 0, -0.6, 0.8, 0.5, 0.5, 0.70710678118654757};
  return tl_sliced_wasserstein_projected(out, in, AN, NULL, in + AN * AD, AN,
                                         NULL, AD, proj, 4, 2.0);
}
static tl_status f_procrustes(double *out, const double *in, int k) {
  (void)k;
  return tl_procrustes(out, in, in + AN * AD, AN, AD);
}
static tl_status f_csls(double *out, const double *in, int k) {
  (void)k;
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  o.knn = 3;
  o.top = 2;
  size_t idx[AN * 2];
  tl_status s = tl_csls_retrieve(idx, out, in, AN, in + AN * AD, AN, AD, &o);
  if (s == TL_OK)
    for (size_t j = 0; j < AN * 2; j++)
      out[AN * 2 + j] = (double)idx[j];
  return s;
}

START_TEST(alignment_scales) {
  lcg = 88172645463325252u; /* the same inputs forked or not */
  double base[2 * AN * AD];
  random_fill(base, 2 * AN * AD, -1.0, 2.0);
  const prop props[] = {
      {"coral distance", f_coral, 2 * AN * AD, 1, 4, NULL, NULL, -2000, 2000,
       1e-9},
      {"coral align", f_coral_align, 2 * AN * AD, AN * AD, 1, NULL, NULL, -2000,
       2000, 1e-8},
      {"frechet", f_frechet, 2 * AN * AD, 1, 2, NULL, NULL, -2000, 2000, 1e-9},
      {"pca fit", f_pca, 2 * AN * AD, AD + 4 + AD, 0, pca_out_deg, NULL, -2000,
       2000, 1e-9},
      {"pca select", f_pca_select, 2 * AN * AD, 6, 0, pcs_out_deg, NULL, -2000,
       2000, 1e-9},
      {"procrustes", f_procrustes, 2 * AN * AD, AD * AD, 0, NULL, NULL, -2000,
       2000, 1e-9},
      {"csls", f_csls, 2 * AN * AD, 4 * AN, 0, NULL, NULL, -2000, 2000, 1e-9},
      {"pca transform", f_pca_transform, AN * AD + AD, 2 * AN, 1, NULL, NULL,
       -2000, 2000, 1e-12},
      {"sliced projected", f_sliced_projected, 2 * AN * AD, 1, 1, NULL, NULL,
       -2000, 2000, 1e-10},
  };
  for (size_t i = 0; i < sizeof props / sizeof *props; i++)
    run_property(&props[i], base);
  /* Gaussians: covariances A A^T + I built in double, then scaled. */
  double g[2 * AD + 2 * AD * AD];
  random_fill(g, 2 * AD, -1.0, 2.0);
  for (size_t c = 0; c < 2; c++) {
    double a[AD * AD];
    random_fill(a, AD * AD, -1.0, 2.0);
    double *cov = g + 2 * AD + c * AD * AD;
    for (size_t i = 0; i < AD; i++)
      for (size_t j = 0; j < AD; j++) {
        double s = i == j ? 1.0 : 0.0;
        for (size_t t = 0; t < AD; t++)
          s += a[i * AD + t] * a[j * AD + t];
        cov[i * AD + j] = s;
      }
  }
  const prop pg = {"frechet gaussian",
                   f_frechet_g,
                   2 * AD + 2 * AD * AD,
                   1,
                   2,
                   NULL,
                   fg_in_deg,
                   -2000,
                   2000,
                   1e-9};
  run_property(&pg, g);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Data selection: target distribution (degree 0), word vectors (0).       */

static const int64_t sel_ids[12] = {0, 1, 1, 2, 3, 4, 5, 5, 6, 7, 2, 0};
static const size_t sel_off[4] = {0, 4, 8, 12};
static tl_status f_selection(double *out, const double *in, int k) {
  (void)k;
  return tl_selection_features(out, sel_ids, sel_off, 3, 8, in, in + 8, 3,
                               NULL);
}
static tl_status f_top(double *out, const double *in, int k) {
  (void)k;
  static const double theta[3] = {1.0, -0.5, 0.25};
  size_t idx[2];
  tl_status s = tl_select_top(idx, out, in, 6, 3, theta, 2);
  if (s == TL_OK) {
    out[6] = (double)idx[0];
    out[7] = (double)idx[1];
  }
  return s;
}
static const int top_out_deg[8] = {1, 1, 1, 1, 1, 1, 0, 0};

START_TEST(selection_scales) {
  lcg = 88172645463325252u; /* the same inputs forked or not */
  double base[8 + 24];
  random_fill(base, 8, 0.0, 1.0);
  random_fill(base + 8, 24, -1.0, 2.0);
  /* Word vectors whose squared norm overflows or is below DBL_MIN are a
   * documented TL_E_NUMERIC (metrics.h); the target alone scales freely. */
  const prop ps = {"selection features",
                   f_selection,
                   8 + 24,
                   3 * TL_SELECTION_FEATURE_COUNT,
                   0,
                   NULL,
                   NULL,
                   -480,
                   480,
                   1e-10};
  run_property(&ps, base);
  double f[18];
  random_fill(f, 18, -1.0, 2.0);
  const prop pt = {"select top", f_top, 18,    8,    0,
                   top_out_deg,  NULL,  -2000, 2000, 1e-12};
  k_first = -1000;
  run_property(&pt, f);
  k_first = -1074;
}
END_TEST

static Suite *metrics_scaling_suite(void) {
  Suite *s = suite_create("metrics_scaling");
  TCase *t = tcase_create("divergences");
  tcase_add_test(t, divergences_scale);
  suite_add_tcase(s, t);
  t = tcase_create("wasserstein_transport");
  tcase_add_test(t, wasserstein_and_transport_scale);
  suite_add_tcase(s, t);
  t = tcase_create("kernels");
  tcase_add_test(t, kernels_scale);
  suite_add_tcase(s, t);
  t = tcase_create("alignment");
  tcase_add_test(t, alignment_scales);
  suite_add_tcase(s, t);
  t = tcase_create("selection");
  tcase_add_test(t, selection_scales);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tlt_run(metrics_scaling_suite()); }
