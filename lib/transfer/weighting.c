/* Multi-task loss weighting: uncertainty weighting (Kendall et al. 2018)
 * and dynamic weight averaging (Liu et al. 2019). */
#include <math.h>

#include "core/error.h"
#include "tl/transfer.h"

tl_status tl_uncertainty_weighting(double *out_total, double *out_weights,
                                   float *grad_log_vars, const double *losses,
                                   const float *log_vars, size_t n) {
  static const char fn[] = "tl_uncertainty_weighting";
  TLI_CHECK_PTR(fn, out_total);
  TLI_CHECK_PTR(fn, losses);
  TLI_CHECK_PTR(fn, log_vars);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n is 0", fn);
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(isfinite(losses[i]) && isfinite(log_vars[i]), TL_E_NUMERIC,
              "%s: task %zu: loss %g and log-variance %g must be finite", fn, i,
              losses[i], (double)log_vars[i]);
    const double w = exp(-(double)log_vars[i]);
    const double term = w * losses[i];
    TLI_CHECK(isfinite(w) && isfinite(term), TL_E_NUMERIC,
              "%s: task %zu: exp(-s) * loss overflows (s = %g, loss = %g)", fn,
              i, (double)log_vars[i], losses[i]);
    total += term + (double)log_vars[i];
  }
  TLI_CHECK(isfinite(total), TL_E_NUMERIC, "%s: the total overflows", fn);
  for (size_t i = 0; i < n; i++) {
    const double w = exp(-(double)log_vars[i]);
    if (out_weights)
      out_weights[i] = w;
    if (grad_log_vars)
      grad_log_vars[i] += (float)(1.0 - w * losses[i]);
  }
  *out_total = total;
  return TL_OK;
}

tl_status tl_dwa_weights(double *out, const double *loss_prev,
                         const double *loss_prev2, size_t n,
                         double temperature) {
  static const char fn[] = "tl_dwa_weights";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n is 0", fn);
  TLI_CHECK((loss_prev == NULL) == (loss_prev2 == NULL), TL_E_INVALID_ARG,
            "%s: give both loss histories or neither (the first two epochs)",
            fn);
  TLI_CHECK(isfinite(temperature) && temperature > 0, TL_E_INVALID_ARG,
            "%s: temperature must be finite and > 0 (got %g)", fn, temperature);
  if (!loss_prev) {
    for (size_t i = 0; i < n; i++)
      out[i] = 1.0;
    return TL_OK;
  }
  double rmax = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(isfinite(loss_prev[i]) && loss_prev[i] > 0 &&
                  isfinite(loss_prev2[i]) && loss_prev2[i] > 0,
              TL_E_INVALID_ARG,
              "%s: task %zu: losses must be finite and > 0 (got %g, %g)", fn, i,
              loss_prev[i], loss_prev2[i]);
    const double r = loss_prev[i] / loss_prev2[i];
    TLI_CHECK(isfinite(r), TL_E_INVALID_ARG,
              "%s: task %zu: the loss ratio overflows", fn, i);
    rmax = r > rmax ? r : rmax;
  }
  /* softmax(r / T) * n, shifted by the largest ratio so exp cannot
   * overflow (the shift cancels in the ratio). */
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    out[i] = exp((loss_prev[i] / loss_prev2[i] - rmax) / temperature);
    sum += out[i];
  }
  for (size_t i = 0; i < n; i++)
    out[i] = (double)n * out[i] / sum;
  return TL_OK;
}

tl_status tl_gradnorm(double *out_loss, double *out_targets,
                      float *grad_weights, const float *weights,
                      const double *grad_norms, const double *losses,
                      const double *initial_losses, size_t n, double alpha) {
  static const char fn[] = "tl_gradnorm";
  TLI_CHECK_PTR(fn, out_loss);
  TLI_CHECK_PTR(fn, weights);
  TLI_CHECK_PTR(fn, grad_norms);
  TLI_CHECK_PTR(fn, losses);
  TLI_CHECK_PTR(fn, initial_losses);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n is 0", fn);
  TLI_CHECK(isfinite(alpha) && alpha >= 0, TL_E_INVALID_ARG,
            "%s: alpha must be finite and >= 0 (got %g)", fn, alpha);
  double g_mean = 0.0, ratio_mean = 0.0;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(isfinite(weights[i]) && weights[i] > 0, TL_E_INVALID_ARG,
              "%s: task %zu: weight %g must be finite and > 0", fn, i,
              (double)weights[i]);
    TLI_CHECK(isfinite(grad_norms[i]) && grad_norms[i] >= 0, TL_E_INVALID_ARG,
              "%s: task %zu: gradient norm %g must be finite and >= 0", fn, i,
              grad_norms[i]);
    TLI_CHECK(isfinite(losses[i]) && losses[i] > 0 &&
                  isfinite(initial_losses[i]) && initial_losses[i] > 0,
              TL_E_INVALID_ARG,
              "%s: task %zu: losses must be finite and > 0 (got %g, initial "
              "%g)",
              fn, i, losses[i], initial_losses[i]);
    g_mean += (double)weights[i] * grad_norms[i];
    ratio_mean += losses[i] / initial_losses[i];
  }
  g_mean /= (double)n;
  ratio_mean /= (double)n;
  TLI_CHECK(isfinite(g_mean) && isfinite(ratio_mean) && ratio_mean > 0,
            TL_E_INVALID_ARG,
            "%s: the mean gradient norm or loss ratio is not finite", fn);
  /* First pass computes the loss only, so a target that overflows (a huge
   * ratio to a large alpha) fails before anything is written. */
  double loss = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double r = (losses[i] / initial_losses[i]) / ratio_mean;
    const double target = g_mean * pow(r, alpha);
    loss += fabs((double)weights[i] * grad_norms[i] - target);
  }
  TLI_CHECK(isfinite(loss), TL_E_NUMERIC,
            "%s: the targets overflow (alpha %g too large for the loss "
            "ratios)",
            fn, alpha);
  for (size_t i = 0; i < n; i++) {
    const double r = (losses[i] / initial_losses[i]) / ratio_mean;
    const double target = g_mean * pow(r, alpha);
    const double diff = (double)weights[i] * grad_norms[i] - target;
    if (out_targets)
      out_targets[i] = target;
    /* d|G_i - target| / d w_i with the target constant; sign(0) = 0 as
     * torch's abs backward. */
    if (grad_weights)
      grad_weights[i] +=
          (float)(diff > 0 ? grad_norms[i] : (diff < 0 ? -grad_norms[i] : 0));
  }
  *out_loss = loss;
  return TL_OK;
}

tl_status tl_gradnorm_rescale(float *weights, size_t n) {
  static const char fn[] = "tl_gradnorm_rescale";
  TLI_CHECK_PTR(fn, weights);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n is 0", fn);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(isfinite(weights[i]) && weights[i] > 0, TL_E_INVALID_ARG,
              "%s: weights[%zu] = %g must be finite and > 0", fn, i,
              (double)weights[i]);
    sum += (double)weights[i];
  }
  for (size_t i = 0; i < n; i++)
    weights[i] = (float)((double)n * (double)weights[i] / sum);
  return TL_OK;
}
