#include "similarity.h"

#include "corpora.h"

#include <stdlib.h>

#include <tl/tl.h>

int ul_similarity_compute(ul_similarity *out, const double *const *counts,
                          size_t vocab_size, double smoothing,
                          const double *const *emb, const size_t *n_emb,
                          size_t dim, char *err, size_t errcap) {
  double *p = malloc(UL_SIM_DOMAINS * vocab_size * sizeof *p);
  if (!p)
    return ul_fail(err, errcap, "out of memory");
  /* Smoothed term distributions: (count + k) / (n + k V). */
  for (size_t d = 0; d < UL_SIM_DOMAINS; d++) {
    double n = 0;
    for (size_t v = 0; v < vocab_size; v++)
      n += counts[d][v];
    for (size_t v = 0; v < vocab_size; v++)
      p[d * vocab_size + v] =
          (counts[d][v] + smoothing) / (n + smoothing * (double)vocab_size);
  }
  tl_sliced_options so = TL_SLICED_OPTIONS_INIT;
  so.n_projections = 200;
  int rc = 0;
  for (size_t a = 0; !rc && a < UL_SIM_DOMAINS; a++)
    for (size_t b = 0; !rc && b < UL_SIM_DOMAINS; b++) {
      const double *pa = p + a * vocab_size, *pb = p + b * vocab_size;
      if (tl_js_divergence(&out->js[a][b], pa, pb, vocab_size, 0.0) != TL_OK ||
          tl_kl_divergence(&out->kl[a][b], pa, pb, vocab_size, 0.0) != TL_OK ||
          tl_sliced_wasserstein(&out->sw[a][b], emb[a], n_emb[a], NULL, emb[b],
                                n_emb[b], NULL, dim, &so) != TL_OK)
        rc = ul_fail(err, errcap, "domain similarity: %s", tl_last_error());
    }
  free(p);
  return rc;
}

static void print_matrix(FILE *f, const char *title,
                         const double m[UL_SIM_DOMAINS][UL_SIM_DOMAINS],
                         const char *const *names) {
  fprintf(f, "%s\n%-11s", title, "");
  for (size_t b = 0; b < UL_SIM_DOMAINS; b++)
    fprintf(f, " %10s", names[b]);
  fprintf(f, "\n");
  for (size_t a = 0; a < UL_SIM_DOMAINS; a++) {
    fprintf(f, "%-11s", names[a]);
    for (size_t b = 0; b < UL_SIM_DOMAINS; b++)
      fprintf(f, " %10.4f", m[a][b]);
    fprintf(f, "\n");
  }
}

void ul_similarity_print(FILE *f, const ul_similarity *s,
                         const char *const *names) {
  print_matrix(f, "Jensen-Shannon divergence of term distributions (nats)",
               s->js, names);
  print_matrix(f, "KL(row || column) of term distributions (nats)", s->kl,
               names);
  print_matrix(f,
               "sliced Wasserstein-2 between mean document embeddings "
               "(pretrained encoder)",
               s->sw, names);
}
