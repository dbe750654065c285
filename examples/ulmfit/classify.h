/* Stages 3 and 4 of the ULMFiT example: the AWD-LSTM classifier (fastai's
 * text_classifier_learner: concat pooling head) trained on a labelled
 * subset of the training passages, either from an encoder file with
 * ULMFiT's gradual unfreezing and discriminative rates, or from scratch;
 * and the feature-extraction baseline (frozen pretrained encoder, a linear
 * classifier on its pooled outputs). Each returns its predictions for the
 * test passages. */
#ifndef ULMFIT_CLASSIFY_H
#define ULMFIT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include <tl/text_learner.h>
#include <tl/tl.h>

#include "lm.h"
#include "task.h"

typedef struct ul_clas_settings {
  size_t bs;         /* batch size (32) */
  double lr;         /* the first stage's rate (2e-2, the walk-through's) */
  double lr_scratch; /* one-cycle peak of the from-scratch model (1e-2) */
  float drop_mult;   /* 0.5 (fastai's text_classifier_learner example) */
  size_t min_steps;  /* each stage runs at least this many steps (12) */
  uint64_t stage_epochs[4]; /* base epochs of the four stages (1, 1, 1, 2) */
  double wd;                /* 0.01 */
  uint64_t seed;
} ul_clas_settings;

void ul_clas_settings_default(ul_clas_settings *s);

/* The epochs of the four gradual-unfreezing stages for n_train passages:
 * stage_epochs (the walk-through's 1, 1, 1, 2), each multiplied by the
 * smallest factor that gives min_steps steps in a stage (a small labelled
 * set has few batches per epoch). */
void ul_clas_epochs(uint64_t epochs[4], size_t n_train,
                    const ul_clas_settings *s);

/* Trains the classifier on the passages train[0..n_train) of t (indices
 * into t's passages) and classifies the test passages: pred and truth
 * (t->n_side[UL_TEST] each) in the test loader's order. encoder: a file of
 * tl_text_learner_save_encoder, loaded then trained with gradual
 * unfreezing: fit_one_cycle(e0, lr) frozen; freeze_to(-2),
 * slice(lr/2/2.6^4, lr/2); freeze_to(-3), slice(lr/4/2.6^4, lr/4);
 * unfreeze, slice(lr/20/2.6^4, lr/20) (ULMFiT's walk-through rates);
 * NULL: the same classifier from a random initialisation, unfrozen,
 * fit_one_cycle(e0 + e1 + e2 + e3, lr_scratch). export_path (may be NULL):
 * the trained learner is exported there (for predict). Returns 0, or -1
 * with a message. */
int ul_classify(int64_t *pred, int64_t *truth, const ul_task *t,
                const ul_pretrained *p, const size_t *train, size_t n_train,
                const char *encoder, const ul_clas_settings *s,
                tl_reporter *rep, const char *export_path, char *err,
                size_t errcap);

/* Pooled features of documents under the frozen pretrained encoder
 * (fastai's masked concat pooling of the last layer's outputs: last,
 * max, mean; 3 * emb_sz floats per document), from its own vocabulary. */
typedef struct ul_features {
  tl_text_learner *lm; /* the pretrained LM learner, for its encoder */
  tl_doc_encoder *enc;
  size_t dim;
  tl_vocab *vocab; /* borrowed from the pretrained description */
} ul_features;

int ul_features_open(ul_features *f, const char *pretrained,
                     const ul_pretrained *p, char *err, size_t errcap);
void ul_features_close(ul_features *f);

/* Features of the texts of corpus docs[0..n) (tokenized with fastai's
 * rules; at most max_tokens of each, 0 for all) into out (n, f->dim). */
int ul_features_compute(float *out, ul_features *f,
                        const tl_text_corpus *corpus, const size_t *docs,
                        size_t n, size_t max_tokens, char *err, size_t errcap);

/* The feature-extraction baseline: standardised features of the training
 * passages, a logistic regression (C = 1), predictions for the test
 * passages in t's order. */
int ul_features_classify(int64_t *pred, const float *train_x,
                         const int64_t *train_y, size_t n_train,
                         const float *test_x, size_t n_test, size_t dim,
                         uint64_t seed, char *err, size_t errcap);

#endif
