/* Data selection after Ruder & Plank (2017): per-example similarity and
 * diversity features, and a linear score with a top-k pick. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "metrics/align_util.h"
#include "metrics/check.h"
#include "metrics/termdist.h"
#include "tl/metrics.h"

TLI_VERSION_SIZES(selection_options_sizes, TL_SELECTION_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_selection_options, smoothing));

tl_status tl_selection_options_init(tl_selection_options *out,
                                    unsigned int version) {
  static const tl_selection_options defaults = TL_SELECTION_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, selection_options_sizes,
                          "tl_selection_options_init");
}

static tl_status tli_check_examples(const char *fn, const int64_t *ids,
                                    const size_t *offsets, size_t n,
                                    size_t vocab_size) {
  TLI_CHECK_PTR(fn, offsets);
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG, "%s: n must be >= 1", fn);
  /* offsets holds n + 1 entries and out n x TL_SELECTION_FEATURE_COUNT doubles:
   * sizes no array can have are refused before anything is read. */
  TLI_CHECK(n <= SIZE_MAX / (TL_SELECTION_FEATURE_COUNT * sizeof(double)),
            TL_E_INVALID_ARG, "%s: n = %zu is too large", fn, n);
  TLI_CHECK(vocab_size >= 1, TL_E_INVALID_ARG, "%s: vocab_size must be >= 1",
            fn);
  TLI_CHECK(vocab_size <= SIZE_MAX / sizeof(double), TL_E_INVALID_ARG,
            "%s: vocab_size = %zu is too large", fn, vocab_size);
  TLI_CHECK(offsets[0] == 0, TL_E_INVALID_ARG,
            "%s: offsets[0] must be 0 (got %zu)", fn, offsets[0]);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(offsets[i + 1] > offsets[i], TL_E_INVALID_ARG,
              "%s: offsets must increase: example %zu is empty or offsets "
              "decrease (%zu -> %zu)",
              fn, i, offsets[i], offsets[i + 1]);
  TLI_CHECK_PTR(fn, ids);
  for (size_t t = 0; t < offsets[n]; t++)
    TLI_CHECK(ids[t] >= 0 && (uint64_t)ids[t] < (uint64_t)vocab_size,
              TL_E_INVALID_ARG,
              "%s: ids[%zu] = %lld is outside the vocabulary [0, %zu)", fn, t,
              (long long)ids[t], vocab_size);
  return TL_OK;
}

static tl_status tli_check_selection_options(const char *fn,
                                             const tl_selection_options *o) {
  TLI_CHECK(isfinite(o->renyi_alpha) && o->renyi_alpha > 0.0 &&
                o->renyi_alpha != 1.0,
            TL_E_INVALID_ARG,
            "%s: opts->renyi_alpha must be finite, > 0 and != 1 (got %g)", fn,
            o->renyi_alpha);
  TLI_CHECK(isfinite(o->smoothing) && o->smoothing >= 0.0, TL_E_INVALID_ARG,
            "%s: opts->smoothing must be finite and >= 0 (got %g)", fn,
            o->smoothing);
  return TL_OK;
}

/* Cosines divide a dot product by a product of norms: both stay finite and
 * non-zero when every non-zero word vector's squared norm is a normal double
 * (entries roughly 1e-154 .. 1e154). Outside that a cosine would be NaN
 * (Inf / Inf) or a non-zero vector would pass for a zero one. Scaling all
 * vectors by one factor changes no cosine, so the caller can rescale. */
static tl_status tli_check_vector_norms(const char *fn, const double *v,
                                        size_t vocab_size, size_t e) {
  for (size_t r = 0; r < vocab_size; r++) {
    const double *x = v + r * e;
    double ss = 0.0, amax = 0.0;
    for (size_t j = 0; j < e; j++) {
      ss += x[j] * x[j];
      amax = fmax(amax, fabs(x[j]));
    }
    TLI_CHECK(amax == 0.0 || (isfinite(ss) && ss >= DBL_MIN), TL_E_NUMERIC,
              "%s: the squared norm of word_vectors row %zu %s (largest "
              "entry %g): rescale the word vectors (cosines do not change)",
              fn, r, isfinite(ss) ? "underflows" : "overflows", amax);
  }
  return TL_OK;
}

/* Diversity features of one example whose distinct types are types[0..nt):
 * P is the corpus distribution, norms the word-vector norms (or NULL). */
static void tli_diversity(double *f, const size_t *types, size_t ntypes,
                          size_t ntokens, const double *P, double alpha,
                          const double *vectors, const double *norms,
                          size_t e) {
  double entropy = 0.0, simpson = 0.0, renyi = 0.0, quad = 0.0, pmax = 0.0;
  for (size_t a = 0; a < ntypes; a++)
    pmax = fmax(pmax, P[types[a]]);
  /* sum P^alpha = pmax^alpha sum (P / pmax)^alpha: the scaled sum is in
   * [1, ntypes], so a large alpha cannot underflow it to 0 (which made the
   * Renyi entropy +Inf instead of about -log pmax). */
  for (size_t a = 0; a < ntypes; a++) {
    const double pa = P[types[a]];
    entropy -= pa * log(pa);
    simpson += pa * pa;
    renyi += pow(pa / pmax, alpha);
  }
  if (vectors != NULL)
    for (size_t a = 0; a < ntypes; a++)
      for (size_t b = 0; b < ntypes; b++) {
        const double na = norms[types[a]], nb = norms[types[b]];
        if (na == 0.0 || nb == 0.0)
          continue; /* a zero vector has cosine 0 with everything */
        const double c =
            tli_ddot(e, vectors + types[a] * e, vectors + types[b] * e) /
            (na * nb);
        quad += c * P[types[a]] * P[types[b]];
      }
  f[TL_SELECTION_FEATURE_NUM_TYPES] = (double)ntypes;
  f[TL_SELECTION_FEATURE_TYPE_TOKEN_RATIO] = (double)ntypes / (double)ntokens;
  f[TL_SELECTION_FEATURE_ENTROPY] = entropy;
  f[TL_SELECTION_FEATURE_SIMPSON] = simpson;
  f[TL_SELECTION_FEATURE_RENYI_ENTROPY] =
      (alpha * log(pmax) + log(renyi)) / (1.0 - alpha);
  f[TL_SELECTION_FEATURE_QUADRATIC_ENTROPY] = quad;
}

/* The six similarities of an unsmoothed example distribution p (non-zero
 * only on its types) and the target q, in O(types) rather than O(vocab):
 * terms off the example's support reduce to sums of q that are known
 * (qsum, qq). Same definitions as tli_term_similarity (the dense path),
 * whose results the tests compare with. */
static void tli_sparse_similarity(double *f, const size_t *types, size_t ntypes,
                                  const double *p, const double *q, double qsum,
                                  double qq, double alpha) {
  double js = 0.0, renyi = 0.0, dot = 0.0, pp = 0.0, l2 = 0.0, l1 = 0.0,
         bc = 0.0, q_on = 0.0, qq_on = 0.0;
  int renyi_inf = 0;
  /* Near alpha = 1, S - 1 is summed directly (expm1, then log1p), as in
   * tl_renyi_divergence: log(S) with S rounded near 1 loses the digits
   * (p sums to 1 over the example's types). */
  const double e = 1.0 - alpha;
  const int near = fabs(e) <= 0.5;
  for (size_t t = 0; t < ntypes; t++) {
    const double a = p[types[t]], b = q[types[t]], m = 0.5 * (a + b);
    js += a * log(a / m) + (b > 0.0 ? b * log(b / m) : 0.0);
    /* a (b/a)^(1-alpha) rather than a^alpha b^(1-alpha), as the dense
     * tl_renyi_divergence: for a large alpha the latter is 0 * Inf = NaN. */
    if (b > 0.0)
      renyi += near ? a * expm1(e * log(b / a)) : a * pow(b / a, e);
    else if (alpha > 1.0)
      renyi_inf = 1;
    else
      renyi -= near ? a : 0.0;
    dot += a * b;
    pp += a * a;
    l2 += (a - b) * (a - b);
    l1 += fabs(a - b);
    bc += sqrt(a * b);
    q_on += b;
    qq_on += b * b;
  }
  const double q_off = fmax(qsum - q_on, 0.0), qq_off = fmax(qq - qq_on, 0.0);
  /* Off the support p = 0, m = q / 2: each term is q log 2. */
  js = 0.5 * (js + q_off * log(2.0));
  f[TL_SELECTION_FEATURE_JENSEN_SHANNON] = fmin(fmax(js, 0.0), log(2.0));
  /* No shared term (S = 0, alpha < 1) or q = 0 < p (alpha > 1): +Inf. */
  const double s_renyi = near ? 1.0 + renyi : renyi;
  f[TL_SELECTION_FEATURE_RENYI] =
      renyi_inf || !(s_renyi > 0.0)
          ? INFINITY
          : fmax((near ? log1p(renyi) : log(renyi)) / (alpha - 1.0), 0.0);
  f[TL_SELECTION_FEATURE_COSINE] =
      fmin(fmax(dot / (sqrt(pp) * sqrt(qq)), -1.0), 1.0);
  f[TL_SELECTION_FEATURE_EUCLIDEAN] = sqrt(l2 + qq_off);
  f[TL_SELECTION_FEATURE_VARIATIONAL] = l1 + q_off;
  f[TL_SELECTION_FEATURE_BHATTACHARYYA] =
      bc > 0.0 ? fmax(-log(bc), 0.0) : INFINITY;
}

/* Argument checks of tl_selection_features (options already defaulted);
 * describes the target's sum. */
static tl_status
tli_selection_validate(const char *fn, const double *out, const int64_t *ids,
                       const size_t *offsets, size_t n, size_t vocab_size,
                       const double *target, const double *word_vectors,
                       size_t embed_dim, const tl_selection_options *opts,
                       double *target_sum, int *halved) {
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_check_examples(fn, ids, offsets, n, vocab_size));
  TLI_TRY(tli_check_distribution(fn, "target", target, vocab_size, target_sum,
                                 halved));
  if (word_vectors != NULL) {
    TLI_CHECK(embed_dim >= 1, TL_E_INVALID_ARG,
              "%s: embed_dim must be >= 1 with word_vectors", fn);
    TLI_TRY(tli_check_matrix(fn, "word_vectors", word_vectors, vocab_size,
                             embed_dim, 1));
    TLI_TRY(tli_check_vector_norms(fn, word_vectors, vocab_size, embed_dim));
  }
  TLI_TRY(tli_check_selection_options(fn, opts));
  /* The longest example's smoothed denominator len + k V must be finite,
   * or every smoothed probability would be 0. */
  size_t longest = 0;
  for (size_t i = 0; i < n; i++)
    if (offsets[i + 1] - offsets[i] > longest)
      longest = offsets[i + 1] - offsets[i];
  TLI_CHECK(isfinite((double)longest + opts->smoothing * (double)vocab_size),
            TL_E_INVALID_ARG,
            "%s: opts->smoothing %g times vocab_size %zu overflows", fn,
            opts->smoothing, vocab_size);
  size_t nout;
  TLI_CHECK(tli_mul_size(&nout, n, TL_SELECTION_FEATURE_COUNT),
            TL_E_INVALID_ARG, "%s: n = %zu is too large", fn, n);
  return TL_OK;
}

/* The work memory of tl_selection_features: V = vocab_size. */
typedef struct tli_selection_work {
  double *buf;   /* q, P, p, norms: 4 V doubles */
  size_t *mark;  /* marks and types: 2 V size_t */
  double *q;     /* the normalised target */
  double *P;     /* the term distribution of all examples */
  double *p;     /* one example's distribution (zero between examples) */
  double *norms; /* word-vector norms (0 without vectors) */
  size_t *types; /* the distinct types of one example */
} tli_selection_work;

static tl_status tli_selection_alloc(tli_selection_work *w, size_t V) {
  TLI_TRY(tli_alloc_checked((void **)&w->buf, V, 4 * sizeof(double),
                            "selection work"));
  const tl_status st =
      tli_alloc_checked((void **)&w->mark, V, 2 * sizeof(size_t), "type marks");
  if (st != TL_OK) {
    tli_free(w->buf);
    return st;
  }
  w->types = w->mark + V;
  w->q = w->buf;
  w->P = w->q + V;
  w->p = w->P + V;
  w->norms = w->p + V;
  return TL_OK;
}

/* Fills q (with its sum and sum of squares), P, the norms, and zeroes p
 * and the marks. */
static void tli_selection_setup(tli_selection_work *w, double *qsum, double *qq,
                                const int64_t *ids, size_t total, size_t V,
                                const double *target, double target_sum,
                                int halved, const double *word_vectors,
                                size_t embed_dim) {
  *qsum = 0.0;
  *qq = 0.0;
  for (size_t v = 0; v < V; v++) {
    w->q[v] = (halved ? 0.5 * target[v] : target[v]) / target_sum;
    *qsum += w->q[v];
    *qq += w->q[v] * w->q[v];
    w->p[v] = 0.0;
    w->P[v] = 0.0;
    w->mark[v] = 0;
    w->norms[v] = word_vectors
                      ? sqrt(tli_ddot(embed_dim, word_vectors + v * embed_dim,
                                      word_vectors + v * embed_dim))
                      : 0.0;
  }
  for (size_t t = 0; t < total; t++)
    w->P[ids[t]] += 1.0;
  for (size_t v = 0; v < V; v++)
    w->P[v] /= (double)total;
}

/* The TL_SELECTION_FEATURE_COUNT features of example i into f. */
static tl_status tli_selection_example(double *f, tli_selection_work *w,
                                       size_t i, const int64_t *ex, size_t len,
                                       size_t V, double qsum, double qq,
                                       const tl_selection_options *opts,
                                       const double *word_vectors,
                                       size_t embed_dim) {
  const double alpha = opts->renyi_alpha, k = opts->smoothing;
  const double denom = (double)len + k * (double)V;
  double *p = w->p;
  size_t ntypes = 0;
  /* p is all zeros between examples; smoothing fills it densely. */
  if (k > 0.0)
    for (size_t v = 0; v < V; v++)
      p[v] = k;
  for (size_t t = 0; t < len; t++) {
    const size_t v = (size_t)ex[t];
    p[v] += 1.0;
    if (w->mark[v] != i + 1) { /* first time this type appears in example i */
      w->mark[v] = i + 1;
      w->types[ntypes++] = v;
    }
  }
  tl_status sim = TL_OK;
  if (k > 0.0) {
    for (size_t v = 0; v < V; v++)
      p[v] /= denom;
    sim = tli_term_similarity(f, p, w->q, V, alpha);
    memset(p, 0, V * sizeof *p);
  } else {
    for (size_t t = 0; t < ntypes; t++)
      p[w->types[t]] /= denom;
    tli_sparse_similarity(f, w->types, ntypes, p, w->q, qsum, qq, alpha);
    for (size_t t = 0; t < ntypes; t++)
      p[w->types[t]] = 0.0;
  }
  if (sim == TL_OK)
    tli_diversity(f, w->types, ntypes, len, w->P, alpha, word_vectors, w->norms,
                  embed_dim);
  return sim;
}

tl_status tl_selection_features(double *out, const int64_t *ids,
                                const size_t *offsets, size_t n,
                                size_t vocab_size, const double *target,
                                const double *word_vectors, size_t embed_dim,
                                const tl_selection_options *opts) {
  static const char fn[] = "tl_selection_features";
  tl_selection_options opts_copy = TL_SELECTION_OPTIONS_INIT;
  if (opts != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&opts_copy, opts, selection_options_sizes, fn,
                             "opts"));
  opts = &opts_copy;
  double target_sum;
  int halved;
  TLI_TRY(tli_selection_validate(fn, out, ids, offsets, n, vocab_size, target,
                                 word_vectors, embed_dim, opts, &target_sum,
                                 &halved));
  tli_selection_work w;
  TLI_TRY(tli_selection_alloc(&w, vocab_size));
  double qsum, qq;
  tli_selection_setup(&w, &qsum, &qq, ids, offsets[n], vocab_size, target,
                      target_sum, halved, word_vectors, embed_dim);
  tl_status st = TL_OK;
  for (size_t i = 0; i < n && st == TL_OK; i++)
    st = tli_selection_example(out + i * TL_SELECTION_FEATURE_COUNT, &w, i,
                               ids + offsets[i], offsets[i + 1] - offsets[i],
                               vocab_size, qsum, qq, opts, word_vectors,
                               embed_dim);
  tli_free(w.mark);
  tli_free(w.buf);
  return st;
}

tl_status tl_select_top(size_t *out_indices, double *out_scores,
                        const double *features, size_t n, size_t f,
                        const double *theta, size_t k) {
  static const char fn[] = "tl_select_top";
  TLI_CHECK_PTR(fn, out_indices);
  TLI_TRY(tli_check_matrix(fn, "features", features, n, f, 1));
  TLI_CHECK_PTR(fn, theta);
  TLI_TRY(tli_check_values_finite(fn, "theta", theta, f));
  TLI_CHECK(k >= 1 && k <= n, TL_E_INVALID_ARG,
            "%s: k must be in [1, n = %zu] (got %zu)", fn, n, k);
  double *scores;
  TLI_TRY(tli_alloc_checked((void **)&scores, n, sizeof *scores, "scores"));
  size_t *idx;
  const tl_status st =
      tli_alloc_checked((void **)&idx, n, 2 * sizeof *idx, "score order");
  if (st != TL_OK) {
    tli_free(scores);
    return st;
  }
  /* Features or weights outside 2^+-200 (tli_data_scale) are multiplied as
   * power-of-two-scaled values and the score mapped back, so products that
   * overflow (or underflow) alone do not decide; a score beyond DBL_MAX is
   * the error (the overflow rule of metrics.h). */
  const tli_scale sf = tli_data_scale(tli_max_abs(features, n * f)),
                  sth = tli_data_scale(tli_max_abs(theta, f));
  const int rescale =
      sf.f1 != 1.0 || sf.f2 != 1.0 || sth.f1 != 1.0 || sth.f2 != 1.0;
  const int e = ilogb(sf.f1) + ilogb(sf.f2) + ilogb(sth.f1) + ilogb(sth.f2);
  for (size_t i = 0; i < n; i++) {
    if (rescale) {
      double acc = 0.0;
      for (size_t j = 0; j < f; j++)
        acc += tli_scaled(features[i * f + j], sf) * tli_scaled(theta[j], sth);
      scores[i] = ldexp(acc, -e);
    } else {
      scores[i] = tli_ddot(f, features + i * f, theta);
    }
    if (!isfinite(scores[i])) {
      tli_free(idx);
      tli_free(scores);
      return tli_fail(TL_E_NUMERIC, "%s: the score of example %zu overflows",
                      fn, i);
    }
  }
  tli_rank_top(out_indices, scores, n, k, 1, idx);
  if (out_scores)
    memcpy(out_scores, scores, n * sizeof *scores);
  tli_free(idx);
  tli_free(scores);
  return TL_OK;
}
