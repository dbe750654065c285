/* Multinomial logistic regression on dense features, as scikit-learn's
 * LogisticRegression fits it (mean cross-entropy + ||W||^2 / (2 C n), the
 * bias not penalised), trained full-batch with libtl's linear layer and
 * Adam: the classifier of the bag-of-words baseline (tf-idf rows) and of
 * the feature-extraction baseline (pooled encoder outputs). */
#ifndef ULMFIT_LOGREG_H
#define ULMFIT_LOGREG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ul_logreg_options {
  double C;          /* inverse regularisation strength (1.0) */
  size_t iterations; /* full-batch Adam steps (300) */
  double lr;         /* Adam's rate (0.05) */
  uint64_t seed;     /* the linear layer's initialisation */
} ul_logreg_options;

/* The defaults above. */
void ul_logreg_options_default(ul_logreg_options *o);

/* Fits on x (n_train, n_feat) row-major with labels y in [0, n_classes)
 * and writes the argmax class of each row of xt (n_test, n_feat) to pred,
 * and its class probabilities to probs (n_test, n_classes; may be NULL).
 * Returns 0, or -1 with a message. */
int ul_logreg_fit_predict(int64_t *pred, float *probs, const float *x,
                          const int64_t *y, size_t n_train, size_t n_feat,
                          const float *xt, size_t n_test, size_t n_classes,
                          const ul_logreg_options *o, char *err, size_t errcap);

#endif
