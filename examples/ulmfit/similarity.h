/* Stage 5a of the ULMFiT example: how far the general domain the LM was
 * pretrained on is from each target genre, and the genres from each
 * other: Jensen-Shannon and Kullback-Leibler divergences of smoothed term
 * distributions (Ruder & Plank 2017), and the sliced Wasserstein distance
 * between the sets of mean document embeddings under the pretrained
 * encoder. */
#ifndef ULMFIT_SIMILARITY_H
#define ULMFIT_SIMILARITY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Domains compared: 0 is the general domain, 1..5 the task's genres. */
#define UL_SIM_DOMAINS 6

typedef struct ul_similarity {
  double js[UL_SIM_DOMAINS][UL_SIM_DOMAINS]; /* nats */
  double kl[UL_SIM_DOMAINS][UL_SIM_DOMAINS]; /* KL(row || column), nats */
  double sw[UL_SIM_DOMAINS][UL_SIM_DOMAINS]; /* sliced W2 of embeddings */
} ul_similarity;

/* counts[d] (vocab_size each): token counts of domain d; emb[d]: n_emb[d]
 * mean document embeddings of dimension dim (row-major, double). smoothing:
 * add-k per term. Returns 0, or -1 with a message. */
int ul_similarity_compute(ul_similarity *out, const double *const *counts,
                          size_t vocab_size, double smoothing,
                          const double *const *emb, const size_t *n_emb,
                          size_t dim, char *err, size_t errcap);

/* The three matrices as text tables, domains named by names[]. */
void ul_similarity_print(FILE *f, const ul_similarity *s,
                         const char *const *names);

#endif
