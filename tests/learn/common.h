/* Shared fixtures of tests/learn: a small embedding + LSTM + linear
 * language-model-like chain, host batch sources over fixed batches, and
 * the hand-written loop the learner must equal bit for bit. */
#ifndef TLT_LEARN_COMMON_H
#define TLT_LEARN_COMMON_H

#define TL_EXPERIMENTAL_API
#include "tl_test.h"

#define V 12 /* vocabulary */
#define E 6  /* embedding */
#define H 8  /* hidden */
#define T 5  /* window */
#define BS 3 /* batch */
#define NB 4 /* training batches per epoch */
#define NV 2 /* validation batches */

/* Fixed batches of ids (T, BS) and next-token targets (T * BS). */
typedef struct tlt_data {
  int64_t ids[NB + NV][T * BS];
  int64_t targets[NB + NV][T * BS];
} tlt_data;

/* A host source over batches [first, first + n) of a tlt_data. */
typedef struct tlt_source {
  const tlt_data *data;
  size_t first, n, pos;
  size_t limit;   /* yield at most this many batches per epoch (SIZE_MAX) */
  int no_targets; /* yield batches without targets */
  size_t restarts;
} tlt_source;

void tlt_data_init(tlt_data *d);
void tlt_source_init(tlt_source *s, const tlt_data *d, size_t first, size_t n);
/* A tl_batch_source reading s. */
tl_batch_source tlt_batch_source(tlt_source *s);

/* emb (V, E) -> lstm (E, H) -> linear (H, V): three layers in groups 0,
 * 1, 2, the same parameters for the same seed. */
tl_model *tlt_lm_model(uint64_t seed);
/* The two-model chain: models[0] = emb + lstm, models[1] = a decoder tied
 * to models[0]'s embedding (E == H is needed: emb (V, H)). */
void tlt_tied_chain(tl_model **out_enc, tl_model **out_dec, uint64_t seed);

/* The learner's default optimizer options (fastai's Adam = AdamW, betas
 * (0.9, 0.99), eps 1e-5, wd 0.01). */
tl_optim_options tlt_fastai_adam(void);

/* The hand-written loop: for every epoch, train mode, every batch of the
 * source: tl_plan_apply(plan, step), zero_grad, forward of each model in
 * turn, tl_cross_entropy, backward in reverse, (clip), step; then a
 * validation pass in eval mode. reset_state_each_pass resets the models'
 * recurrent state before each pass. */
void tlt_hand_loop(tl_model **models, size_t n_models, tl_optim *optim,
                   const tl_plan *plan, uint64_t step0, uint64_t epochs,
                   tlt_source *train, tlt_source *valid, double clip);

/* memcmp of every parameter of two models (same layout). */
void tlt_assert_same_params(tl_model *a, tl_model *b);

#endif
