/* Tri-training (Zhou & Li 2005, Table 1) and tri-training with
 * disagreement (Søgaard 2010): which unlabelled rows join which of three
 * models' training sets each round. */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "tl/transfer.h"

struct tl_tri_training {
  double e_prev[3]; /* e'_i */
  double l_prev[3]; /* l'_i (a count, kept as the paper's real number) */
  int disagreement;
  tli_rng rng;
};

tl_status tl_tri_training_create(tl_tri_training **out, int disagreement,
                                 uint64_t seed) {
  static const char fn[] = "tl_tri_training_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(disagreement == 0 || disagreement == 1, TL_E_INVALID_ARG,
            "%s: disagreement must be 0 or 1", fn);
  tl_tri_training *t = NULL;
  TLI_TRY(tli_alloc_checked((void **)&t, 1, sizeof *t, fn));
  for (int i = 0; i < 3; i++) {
    t->e_prev[i] = 0.5;
    t->l_prev[i] = 0.0;
  }
  t->disagreement = disagreement;
  tli_rng_seed(&t->rng, seed);
  *out = t;
  return TL_OK;
}

void tl_tri_training_free(tl_tri_training *tri) { tli_free(tri); }

/* The error of the pair (j, k) on the labelled rows where they agree
 * (the paper's MeasureError(h_j & h_k)); 0.5 (no evidence of improvement)
 * when they never agree. */
static double pair_error(const int64_t *pj, const int64_t *pk,
                         const int64_t *labels, size_t n) {
  size_t agree = 0, wrong = 0;
  for (size_t r = 0; r < n; r++)
    if (pj[r] == pk[r]) {
      agree++;
      wrong += pj[r] != labels[r];
    }
  return agree ? (double)wrong / (double)agree : 0.5;
}

tl_status tl_tri_training_round(uint8_t *out_join, int64_t *out_labels,
                                uint8_t *out_updated, int *out_any,
                                tl_tri_training *tri,
                                const int64_t *const *pred_labelled,
                                const int64_t *labels, size_t n_labelled,
                                const int64_t *const *pred_unlabelled,
                                size_t n_unlabelled) {
  static const char fn[] = "tl_tri_training_round";
  TLI_CHECK_PTR(fn, out_join);
  TLI_CHECK_PTR(fn, out_labels);
  TLI_CHECK_PTR(fn, tri);
  TLI_CHECK_PTR(fn, pred_labelled);
  TLI_CHECK_PTR(fn, labels);
  TLI_CHECK_PTR(fn, pred_unlabelled);
  TLI_CHECK(n_labelled > 0, TL_E_INVALID_ARG, "%s: n_labelled is 0", fn);
  for (int m = 0; m < 3; m++) {
    TLI_CHECK(pred_labelled[m] && (pred_unlabelled[m] || !n_unlabelled),
              TL_E_INVALID_ARG, "%s: the predictions of model %d are NULL", fn,
              m);
    for (size_t r = 0; r < n_labelled; r++)
      TLI_CHECK(pred_labelled[m][r] >= 0 && labels[r] >= 0, TL_E_INVALID_ARG,
                "%s: labelled row %zu: negative class (model %d)", fn, r, m);
    for (size_t u = 0; u < n_unlabelled; u++)
      TLI_CHECK(pred_unlabelled[m][u] >= 0, TL_E_INVALID_ARG,
                "%s: model %d predicts a negative class for unlabelled row %zu",
                fn, m, u);
  }
  /* Everything that can fail happens before the first write: one work
   * array for the subsampling, and the random stream advanced on a copy. */
  size_t *idx = NULL;
  TLI_TRY(tli_alloc_checked((void **)&idx, n_unlabelled ? n_unlabelled : 1,
                            sizeof *idx, fn));
  tli_rng rng = tri->rng;
  int update[3] = {0, 0, 0};
  double e_new[3], l_new[3];
  for (int i = 0; i < 3; i++) {
    const int j = (i + 1) % 3, k = (i + 2) % 3;
    uint8_t *join = out_join + (size_t)i * n_unlabelled;
    int64_t *lab = out_labels + (size_t)i * n_unlabelled;
    for (size_t u = 0; u < n_unlabelled; u++) {
      join[u] = 0;
      lab[u] = -1;
    }
    const double e =
        pair_error(pred_labelled[j], pred_labelled[k], labels, n_labelled);
    const double ep = tri->e_prev[i];
    double lp = tri->l_prev[i];
    e_new[i] = e;
    l_new[i] = lp;
    if (!(e < ep))
      continue;
    /* The paper sets l'_i = floor(e_i / (e'_i - e_i) + 1) in place when it
     * is 0, so the value stays for later rounds even without an update. */
    size_t size = 0; /* |L_i| */
    for (size_t u = 0; u < n_unlabelled; u++) {
      const int64_t a = pred_unlabelled[j][u], b = pred_unlabelled[k][u];
      if (a == b && (!tri->disagreement || pred_unlabelled[i][u] != a)) {
        join[u] = 1;
        lab[u] = a;
        size++;
      }
    }
    if (lp == 0.0)
      lp = floor(e / (ep - e) + 1.0);
    l_new[i] = lp;
    if (lp < (double)size) {
      if (e * (double)size < ep * lp) {
        update[i] = 1;
      } else if (lp > e / (ep - e)) {
        /* Subsample L_i to ceil(e' l' / e - 1) rows, uniformly (a partial
         * Fisher-Yates over the joined rows' positions). e > 0 here: with
         * e = 0 the branch above is taken. */
        const size_t keep = (size_t)ceil(ep * lp / e - 1.0);
        size_t m = 0;
        for (size_t u = 0; u < n_unlabelled; u++)
          if (join[u])
            idx[m++] = u;
        for (size_t r = 0; r < keep && r < m; r++) {
          const size_t s = r + (size_t)tli_rng_below(&rng, m - r);
          const size_t tmp = idx[r];
          idx[r] = idx[s];
          idx[s] = tmp;
        }
        for (size_t r = keep; r < m; r++) {
          join[idx[r]] = 0;
          lab[idx[r]] = -1;
        }
        size = keep < size ? keep : size;
        update[i] = 1;
      }
    }
    if (update[i]) {
      l_new[i] = (double)size;
    } else {
      for (size_t u = 0; u < n_unlabelled; u++) {
        join[u] = 0;
        lab[u] = -1;
      }
    }
  }
  tli_free(idx);
  tri->rng = rng;
  int any = 0;
  for (int i = 0; i < 3; i++) {
    if (update[i]) {
      tri->e_prev[i] = e_new[i];
      any = 1;
    }
    tri->l_prev[i] = l_new[i];
    if (out_updated)
      out_updated[i] = (uint8_t)update[i];
  }
  if (out_any)
    *out_any = any;
  return TL_OK;
}
