/* CSLS retrieval (Conneau et al. 2018) and precision@k of a ranked
 * retrieval against a gold dictionary (MUSE's word-translation metric).
 * Similarities are computed in blocks of queries so memory stays
 * O((nq + nt) d + block nt) whatever the vocabulary sizes. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "metrics/align_util.h"
#include "metrics/check.h"
#include "tl/metrics.h"

#define TLI_CSLS_BLOCK 256

TLI_VERSION_SIZES(csls_options_sizes, TL_CSLS_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_csls_options, top));

tl_status tl_csls_options_init(tl_csls_options *out, unsigned int version) {
  static const tl_csls_options defaults = TL_CSLS_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, csls_options_sizes,
                          "tl_csls_options_init");
}

/* Inserts (value, index) into the descending list vals/idx holding *count of
 * cap entries. A value equal to one already listed goes after it, so among
 * equal values the first inserted (lower index) stays ahead. */
static void tli_best_insert(double *vals, size_t *idx, size_t *count,
                            size_t cap, double value, size_t index) {
  if (*count == cap && !(value > vals[cap - 1]))
    return;
  size_t pos = *count < cap ? (*count)++ : cap - 1;
  while (pos > 0 && vals[pos - 1] < value) {
    vals[pos] = vals[pos - 1];
    if (idx)
      idx[pos] = idx[pos - 1];
    pos--;
  }
  vals[pos] = value;
  if (idx)
    idx[pos] = index;
}

/* Unit rows of x into out. The norm is taken of the row scaled by a power
 * of two (tli_data_scale: identity for ordinary rows), so finite rows such
 * as [1e-320, 0, 0] or [1e300, 1e300, 1e300] have a norm; only an all-zero
 * row has none. */
static tl_status tli_normalise_rows(const char *fn, const char *what,
                                    double *out, const double *x, size_t n,
                                    size_t d) {
  for (size_t i = 0; i < n; i++) {
    const double big = tli_max_abs(x + i * d, d);
    TLI_CHECK(big > 0.0, TL_E_INVALID_ARG,
              "%s: row %zu of '%s' is all zeros: its cosine with any vector "
              "is undefined",
              fn, i, what);
    const tli_scale sc = tli_data_scale(big);
    double *row = out + i * d;
    for (size_t j = 0; j < d; j++)
      row[j] = tli_scaled(x[i * d + j], sc);
    const double norm = sqrt(tli_ddot(d, row, row));
    for (size_t j = 0; j < d; j++)
      row[j] /= norm;
  }
  return TL_OK;
}

static double tli_mean(const double *v, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += v[i];
  return s / (double)n;
}

/* Argument checks of tl_csls_retrieve (options already defaulted). */
static tl_status tli_csls_validate(const char *fn, const size_t *out_indices,
                                   const double *xq, size_t nq, const double *y,
                                   size_t nt, size_t d,
                                   const tl_csls_options *opts) {
  TLI_CHECK_PTR(fn, out_indices);
  TLI_TRY(tli_check_matrix(fn, "xq", xq, nq, d, 1));
  TLI_TRY(tli_check_matrix(fn, "y", y, nt, d, 1));
  const size_t knn = opts->knn, top = opts->top;
  const size_t kmax = nq < nt ? nq : nt;
  TLI_CHECK(knn >= 1 && knn <= kmax, TL_E_INVALID_ARG,
            "%s: opts->knn must be in [1, min(nq, nt) = %zu] (got %zu)", fn,
            kmax, knn);
  TLI_CHECK(top >= 1 && top <= nt, TL_E_INVALID_ARG,
            "%s: opts->top must be in [1, nt = %zu] (got %zu)", fn, nt, top);
  size_t nqt;
  TLI_CHECK(tli_mul_size(&nqt, nq, top), TL_E_INVALID_ARG,
            "%s: the output (%zu x %zu) is too large", fn, nq, top);
  return TL_OK;
}

/* The work memory of one retrieval. */
typedef struct tli_csls_work {
  double *buf;     /* every double array below */
  size_t *counts;  /* nt neighbour-list lengths, then top indices (ti) */
  double *qn, *yn; /* unit rows of xq and y */
  double *sim;     /* a block of similarities, TLI_CSLS_BLOCK x nt */
  double *rt, *rs; /* r_T per query, r_S per target */
  double *lists;   /* knn best similarities per target */
  double *rowl;    /* knn best of one query */
  double *tv;      /* the top scores of one query */
  size_t *ti;      /* their target indices */
} tli_csls_work;

static tl_status tli_csls_alloc(tli_csls_work *w, const char *fn, size_t nq,
                                size_t nt, size_t d, size_t knn, size_t top) {
  const size_t block = TLI_CSLS_BLOCK;
  size_t a, b, c;
  if (!tli_mul_size(&a, nq + nt, d) || !tli_mul_size(&b, block, nt) ||
      !tli_mul_size(&c, nt, knn) || a > SIZE_MAX / 32 || b > SIZE_MAX / 32 ||
      c > SIZE_MAX / 32)
    return tli_fail(TL_E_NOMEM, "%s: the work size overflows", fn);
  const size_t ndouble = a + b + nq + nt + c + knn + top;
  TLI_TRY(tli_alloc_checked((void **)&w->buf, ndouble, sizeof(double),
                            "csls work"));
  const tl_status st = tli_alloc_checked((void **)&w->counts, nt + top,
                                         sizeof(size_t), "csls lists");
  if (st != TL_OK) {
    tli_free(w->buf);
    return st;
  }
  w->ti = w->counts + nt;
  w->qn = w->buf;
  w->yn = w->qn + nq * d;
  w->sim = w->yn + nt * d;
  w->rt = w->sim + b;
  w->rs = w->rt + nq;
  w->lists = w->rs + nt;
  w->rowl = w->lists + c;
  w->tv = w->rowl + knn;
  return TL_OK;
}

static void tli_csls_free(tli_csls_work *w) {
  tli_free(w->counts);
  tli_free(w->buf);
}

/* Pass 1: r_T of every query (mean of its knn best targets), and r_S of
 * every target (mean of its knn best queries). */
static void tli_csls_neighbourhoods(tli_csls_work *w, size_t nq, size_t nt,
                                    size_t d, size_t knn) {
  const size_t block = TLI_CSLS_BLOCK;
  memset(w->counts, 0, nt * sizeof *w->counts);
  for (size_t q0 = 0; q0 < nq; q0 += block) {
    const size_t bq = nq - q0 < block ? nq - q0 : block;
    tli_dgemm(0, 1, bq, nt, d, 1.0, w->qn + q0 * d, d, w->yn, d, 0.0, w->sim,
              nt);
    for (size_t i = 0; i < bq; i++) {
      size_t cnt = 0;
      const double *row = w->sim + i * nt;
      for (size_t j = 0; j < nt; j++) {
        tli_best_insert(w->rowl, NULL, &cnt, knn, row[j], j);
        tli_best_insert(w->lists + j * knn, NULL, &w->counts[j], knn, row[j],
                        0);
      }
      w->rt[q0 + i] = tli_mean(w->rowl, knn);
    }
  }
  for (size_t j = 0; j < nt; j++)
    w->rs[j] = tli_mean(w->lists + j * knn, knn);
}

/* Pass 2: CSLS scores and the top targets of every query. */
static void tli_csls_scores(size_t *out_indices, double *out_scores,
                            tli_csls_work *w, size_t nq, size_t nt, size_t d,
                            size_t top) {
  const size_t block = TLI_CSLS_BLOCK;
  for (size_t q0 = 0; q0 < nq; q0 += block) {
    const size_t bq = nq - q0 < block ? nq - q0 : block;
    tli_dgemm(0, 1, bq, nt, d, 1.0, w->qn + q0 * d, d, w->yn, d, 0.0, w->sim,
              nt);
    for (size_t i = 0; i < bq; i++) {
      size_t cnt = 0;
      const double *row = w->sim + i * nt;
      for (size_t j = 0; j < nt; j++)
        tli_best_insert(w->tv, w->ti, &cnt, top,
                        2.0 * row[j] - w->rt[q0 + i] - w->rs[j], j);
      memcpy(out_indices + (q0 + i) * top, w->ti, top * sizeof *w->ti);
      if (out_scores)
        memcpy(out_scores + (q0 + i) * top, w->tv, top * sizeof *w->tv);
    }
  }
}

tl_status tl_csls_retrieve(size_t *out_indices, double *out_scores,
                           const double *xq, size_t nq, const double *y,
                           size_t nt, size_t d, const tl_csls_options *opts) {
  static const char fn[] = "tl_csls_retrieve";
  tl_csls_options opts_copy = TL_CSLS_OPTIONS_INIT;
  if (opts != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&opts_copy, opts, csls_options_sizes, fn, "opts"));
  opts = &opts_copy;
  TLI_TRY(tli_csls_validate(fn, out_indices, xq, nq, y, nt, d, opts));
  tli_csls_work w;
  TLI_TRY(tli_csls_alloc(&w, fn, nq, nt, d, opts->knn, opts->top));
  /* Unit rows (this also rejects all-zero rows, before any output). */
  tl_status st = tli_normalise_rows(fn, "xq", w.qn, xq, nq, d);
  if (st == TL_OK)
    st = tli_normalise_rows(fn, "y", w.yn, y, nt, d);
  if (st == TL_OK) {
    tli_csls_neighbourhoods(&w, nq, nt, d, opts->knn);
    tli_csls_scores(out_indices, out_scores, &w, nq, nt, d, opts->top);
  }
  tli_csls_free(&w);
  return st;
}

tl_status tl_precision_at_k(double *out, const size_t *retrieved,
                            size_t n_queries, size_t top, size_t k,
                            const size_t *gold_src, const size_t *gold_tgt,
                            size_t n_gold) {
  static const char fn[] = "tl_precision_at_k";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, retrieved);
  TLI_CHECK_PTR(fn, gold_src);
  TLI_CHECK_PTR(fn, gold_tgt);
  TLI_CHECK(n_queries >= 1, TL_E_INVALID_ARG, "%s: n_queries must be >= 1", fn);
  TLI_CHECK(top >= 1, TL_E_INVALID_ARG, "%s: top must be >= 1", fn);
  TLI_CHECK(k >= 1 && k <= top, TL_E_INVALID_ARG,
            "%s: k must be in [1, top = %zu] (got %zu)", fn, top, k);
  TLI_CHECK(n_gold >= 1, TL_E_INVALID_ARG, "%s: n_gold must be >= 1", fn);
  size_t total;
  TLI_CHECK(tli_mul_size(&total, n_queries, top), TL_E_INVALID_ARG,
            "%s: retrieved (%zu x %zu) is too large", fn, n_queries, top);
  for (size_t g = 0; g < n_gold; g++)
    TLI_CHECK(gold_src[g] < n_queries, TL_E_INVALID_ARG,
              "%s: gold_src[%zu] = %zu is not a query index (< %zu)", fn, g,
              gold_src[g], n_queries);
  /* state per query: 0 not in the dictionary, 1 listed, 2 listed and hit. */
  unsigned char *state;
  TLI_TRY(tli_alloc_checked((void **)&state, n_queries, 1, "query flags"));
  memset(state, 0, n_queries);
  for (size_t g = 0; g < n_gold; g++) {
    const size_t s = gold_src[g];
    if (state[s] == 0)
      state[s] = 1;
    const size_t *row = retrieved + s * top;
    for (size_t r = 0; r < k; r++)
      if (row[r] == gold_tgt[g])
        state[s] = 2;
  }
  size_t listed = 0, hits = 0;
  for (size_t s = 0; s < n_queries; s++) {
    listed += state[s] != 0;
    hits += state[s] == 2;
  }
  tli_free(state);
  *out = (double)hits / (double)listed;
  return TL_OK;
}
