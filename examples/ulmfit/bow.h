/* The bag-of-words baseline of the ULMFiT example, for perspective: tf-idf
 * features as scikit-learn's TfidfVectorizer computes them (smooth idf,
 * raw term counts, rows scaled to unit L2 norm) over libtl's tokens, and a
 * multinomial logistic regression (scikit-learn's LogisticRegression
 * objective: mean cross-entropy + ||W||^2 / (2 C n), bias not penalised)
 * trained full-batch with libtl's own linear layer and Adam. */
#ifndef ULMFIT_BOW_H
#define ULMFIT_BOW_H

#include <stddef.h>
#include <stdint.h>

#include <tl/tl.h>

/* Settings of one baseline run. */
typedef struct ul_bow_options {
  size_t max_features; /* most frequent training terms kept (10000) */
  double C;            /* inverse regularisation strength (1.0) */
  size_t iterations;   /* full-batch Adam steps (300) */
  double lr;           /* Adam's rate (0.05) */
  uint64_t seed;       /* the linear layer's initialisation */
} ul_bow_options;

/* Defaults above. */
void ul_bow_options_default(ul_bow_options *o);

/* Trains on the documents train[0..n_train) of corpus (labels[doc] in
 * [0, n_classes)) and predicts the documents test[0..n_test) into
 * pred[0..n_test). Returns 0, or -1 with a message. */
int ul_bow_fit_predict(int64_t *pred, const tl_text_corpus *corpus,
                       const int64_t *labels, size_t n_classes,
                       const size_t *train, size_t n_train, const size_t *test,
                       size_t n_test, const ul_bow_options *o, char *err,
                       size_t errcap);

#endif
