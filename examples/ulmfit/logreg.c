#include "logreg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tl/tl.h>

void ul_logreg_options_default(ul_logreg_options *o) {
  o->C = 1.0;
  o->iterations = 300;
  o->lr = 0.05;
  o->seed = 0;
}

int ul_logreg_fit_predict(int64_t *pred, float *probs, const float *x,
                          const int64_t *y, size_t n_train, size_t n_feat,
                          const float *xt, size_t n_test, size_t n_classes,
                          const ul_logreg_options *o, char *err,
                          size_t errcap) {
  if (!n_train || !n_test || !n_feat || n_classes < 2 || !(o->C > 0)) {
    snprintf(err, errcap, "logistic regression: empty training or test set");
    return -1;
  }
  float *dlogits = malloc(n_train * n_classes * sizeof *dlogits);
  tl_model *model = NULL;
  tl_optim *optim = NULL;
  int rc = dlogits ? 0 : -1;
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = o->seed;
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAM);
  oo.lr = o->lr;
  if (!rc)
    rc = tl_model_create(&model, &mo) == TL_OK &&
                 tl_model_add_linear(model, "fc", n_feat, n_classes,
                                     TL_ACTIVATION_NONE) == TL_OK &&
                 tl_optim_create(&optim, &model, 1, &oo) == TL_OK
             ? 0
             : -1;
  float *w = NULL, *gw = NULL;
  if (!rc)
    rc = tl_model_param_view(&w, &gw, model, "fc.weight") == TL_OK ? 0 : -1;
  /* The L2 term of scikit-learn's objective, divided by n as the loss is a
   * mean: its gradient W / (C n) is added by hand so the bias stays free. */
  const float l2 = (float)(1.0 / (o->C * (double)n_train));
  const size_t dims[2] = {n_train, n_feat};
  for (size_t it = 0; !rc && it < o->iterations; it++) {
    const float *logits;
    size_t odims[TL_MODEL_MAX_DIMS], ondim;
    float loss;
    rc = tl_optim_zero_grad(optim) == TL_OK &&
                 tl_model_forward(&logits, odims, &ondim, model, x, dims, 2) ==
                     TL_OK &&
                 tl_cross_entropy(&loss, dlogits, logits, y, n_train, n_classes,
                                  -100) == TL_OK &&
                 tl_model_backward(NULL, model, dlogits, odims, ondim) == TL_OK
             ? 0
             : -1;
    for (size_t i = 0; !rc && i < n_feat * n_classes; i++)
      gw[i] += l2 * w[i];
    if (!rc)
      rc = tl_optim_step(optim) == TL_OK ? 0 : -1;
  }
  if (!rc) {
    const float *logits;
    size_t odims[TL_MODEL_MAX_DIMS], ondim;
    const size_t tdims[2] = {n_test, n_feat};
    rc = tl_model_eval(model) == TL_OK &&
                 tl_model_forward(&logits, odims, &ondim, model, xt, tdims,
                                  2) == TL_OK
             ? 0
             : -1;
    for (size_t r = 0; !rc && r < n_test; r++) {
      const float *row = logits + r * n_classes;
      size_t best = 0;
      for (size_t k = 1; k < n_classes; k++)
        if (row[k] > row[best])
          best = k;
      pred[r] = (int64_t)best;
      if (probs) {
        double z = 0;
        for (size_t k = 0; k < n_classes; k++)
          z += exp((double)row[k] - row[best]);
        for (size_t k = 0; k < n_classes; k++)
          probs[r * n_classes + k] =
              (float)(exp((double)row[k] - row[best]) / z);
      }
    }
  }
  if (rc)
    snprintf(err, errcap, "logistic regression: %s",
             tl_last_error()[0] ? tl_last_error() : "out of memory");
  tl_optim_free(optim);
  tl_model_free(model);
  free(dlogits);
  return rc;
}
