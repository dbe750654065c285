/* Democratic co-learning (Zhou & Goldman 2004): models with different
 * inductive biases label rows for the ones that disagree with a confident
 * weighted majority, under Angluin & Laird's noise-tolerance test. */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/transfer.h"

struct tl_democratic {
  size_t n_models, n_labelled, n_unlabelled;
  uint8_t *held;  /* (n_models, n_unlabelled): row u is in L_i */
  double *size;   /* |L_i| */
  double *errors; /* e_i */
};

tl_status tl_democratic_create(tl_democratic **out, size_t n_models,
                               size_t n_labelled, size_t n_unlabelled) {
  static const char fn[] = "tl_democratic_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(n_models >= 3, TL_E_INVALID_ARG,
            "%s: n_models is %zu; a majority that another model disagrees "
            "with needs >= 3",
            fn, n_models);
  TLI_CHECK(n_labelled > 0 && n_unlabelled > 0, TL_E_INVALID_ARG,
            "%s: n_labelled (%zu) and n_unlabelled (%zu) must be > 0", fn,
            n_labelled, n_unlabelled);
  size_t cells;
  TLI_CHECK(tli_mul_size(&cells, n_models, n_unlabelled), TL_E_NOMEM,
            "%s: n_models x n_unlabelled overflows size_t", fn);
  tl_democratic *d = NULL;
  TLI_TRY(tli_alloc_checked((void **)&d, 1, sizeof *d, fn));
  d->held = tli_calloc(cells, 1);
  d->size = tli_calloc(2 * n_models, sizeof *d->size);
  if (!d->held || !d->size) {
    tli_free(d->held);
    tli_free(d->size);
    tli_free(d);
    return tli_fail(TL_E_NOMEM, "%s: could not allocate the state", fn);
  }
  d->errors = d->size + n_models;
  for (size_t i = 0; i < n_models; i++)
    d->size[i] = (double)n_labelled;
  d->n_models = n_models;
  d->n_labelled = n_labelled;
  d->n_unlabelled = n_unlabelled;
  *out = d;
  return TL_OK;
}

void tl_democratic_free(tl_democratic *dem) {
  if (!dem)
    return;
  tli_free(dem->held);
  tli_free(dem->size);
  tli_free(dem);
}

/* Angluin & Laird's sample size m (1 - 2 e / m)^2 for m rows of which e
 * are mislabelled. */
static double noise_tolerant_size(double m, double e) {
  const double r = 1.0 - 2.0 * e / m;
  return m * r * r;
}

/* Row u's confident majority: the label more than half of the models
 * predict, if the weights of its voters sum to more than those of every
 * other label. Returns 1 and sets *out_label, *out_mean_low (the mean
 * lower bound of its voters) when there is one. */
static int confident_majority(int64_t *out_label, double *out_mean_low,
                              const int64_t *const *pred, size_t u, size_t nm,
                              const double *low, const double *w) {
  for (size_t i = 0; i < nm; i++) {
    const int64_t k = pred[i][u];
    size_t votes = 0;
    double wk = 0.0, lk = 0.0;
    for (size_t j = 0; j < nm; j++)
      if (pred[j][u] == k) {
        votes++;
        wk += w[j];
        lk += low[j];
      }
    if (2 * votes <= nm)
      continue;
    /* The majority label: every other label has fewer voters. */
    for (size_t j = 0; j < nm; j++) {
      if (pred[j][u] == k)
        continue;
      double wo = 0.0;
      for (size_t m = 0; m < nm; m++)
        if (pred[m][u] == pred[j][u])
          wo += w[m];
      if (!(wk > wo))
        return 0;
    }
    *out_label = k;
    *out_mean_low = lk / (double)votes;
    return 1;
  }
  return 0;
}

tl_status tl_democratic_round(uint8_t *out_join, int64_t *out_labels,
                              uint8_t *out_updated, int *out_any,
                              tl_democratic *dem,
                              const int64_t *const *pred_labelled,
                              const int64_t *labels,
                              const int64_t *const *pred_unlabelled) {
  static const char fn[] = "tl_democratic_round";
  TLI_CHECK_PTR(fn, out_join);
  TLI_CHECK_PTR(fn, out_labels);
  TLI_CHECK_PTR(fn, dem);
  TLI_CHECK_PTR(fn, pred_labelled);
  TLI_CHECK_PTR(fn, labels);
  TLI_CHECK_PTR(fn, pred_unlabelled);
  const size_t nm = dem->n_models, nl = dem->n_labelled, nu = dem->n_unlabelled;
  for (size_t r = 0; r < nl; r++)
    TLI_CHECK(labels[r] >= 0, TL_E_INVALID_ARG, "%s: labels[%zu] is negative",
              fn, r);
  for (size_t i = 0; i < nm; i++) {
    TLI_CHECK(pred_labelled[i] && pred_unlabelled[i], TL_E_INVALID_ARG,
              "%s: the predictions of model %zu are NULL", fn, i);
    for (size_t r = 0; r < nl; r++)
      TLI_CHECK(pred_labelled[i][r] >= 0, TL_E_INVALID_ARG,
                "%s: model %zu predicts a negative class for labelled row %zu",
                fn, i, r);
    for (size_t u = 0; u < nu; u++)
      TLI_CHECK(pred_unlabelled[i][u] >= 0, TL_E_INVALID_ARG,
                "%s: model %zu predicts a negative class for unlabelled row "
                "%zu",
                fn, i, u);
  }
  /* The only allocation, before the first write: per model the lower
   * bound, the weight, e'_i and |L'_i|. */
  double *work = NULL;
  TLI_TRY(tli_alloc_checked((void **)&work, 4 * nm, sizeof *work, fn));
  double *low = work, *w = work + nm, *e_add = work + 2 * nm;
  double *added = work + 3 * nm;
  for (size_t i = 0; i < nm; i++) {
    size_t right = 0;
    for (size_t r = 0; r < nl; r++)
      right += pred_labelled[i][r] == labels[r];
    const double a = (double)right / (double)nl;
    const double half = 1.96 * sqrt(a * (1.0 - a) / (double)nl);
    low[i] = a - half < 0 ? 0 : a - half;
    const double high = a + half > 1 ? 1 : a + half;
    w[i] = (low[i] + high) / 2;
    e_add[i] = 0.0;
    added[i] = 0.0;
  }
  for (size_t e = 0; e < nm * nu; e++) {
    out_join[e] = 0;
    out_labels[e] = -1;
  }
  /* Proposals L'_i and their estimated errors e'_i. */
  for (size_t u = 0; u < nu; u++) {
    int64_t k;
    double mean_low;
    if (!confident_majority(&k, &mean_low, pred_unlabelled, u, nm, low, w))
      continue;
    for (size_t i = 0; i < nm; i++)
      if (pred_unlabelled[i][u] != k && !dem->held[i * nu + u]) {
        out_join[i * nu + u] = 1;
        out_labels[i * nu + u] = k;
        e_add[i] += 1.0 - mean_low;
        added[i] += 1.0;
      }
  }
  int any = 0;
  for (size_t i = 0; i < nm; i++) {
    const double m = dem->size[i], e = dem->errors[i];
    const double m2 = m + added[i], e2 = e + e_add[i];
    const int take =
        added[i] > 0 && noise_tolerant_size(m2, e2) > noise_tolerant_size(m, e);
    if (out_updated)
      out_updated[i] = (uint8_t)take;
    if (!take) {
      for (size_t u = 0; u < nu; u++) {
        out_join[i * nu + u] = 0;
        out_labels[i * nu + u] = -1;
      }
      continue;
    }
    any = 1;
    dem->size[i] = m2;
    dem->errors[i] = e2;
    for (size_t u = 0; u < nu; u++)
      dem->held[i * nu + u] |= out_join[i * nu + u];
  }
  tli_free(work);
  if (out_any)
    *out_any = any;
  return TL_OK;
}
