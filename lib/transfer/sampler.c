/* Task samplers: the probability of each task from its size and the mode,
 * and draws by inverse CDF from libtl's seeded stream. */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "tl/transfer.h"

struct tl_task_sampler {
  tl_task_sampler_options o;
  uint64_t *sizes;
  double *probs; /* work of tl_task_sampler_sample: this draw's p_i */
  size_t n;
  uint64_t draws;
  tli_rng rng;
};

TLI_VERSION_SIZES(tl_task_sampler_options_sizes,
                  TL_TASK_SAMPLER_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_task_sampler_options, seed)); /* v1 */

tl_status tl_task_sampler_options_init(tl_task_sampler_options *out,
                                       unsigned int version) {
  static const tl_task_sampler_options defaults = TL_TASK_SAMPLER_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version,
                          tl_task_sampler_options_sizes,
                          "tl_task_sampler_options_init");
}

/* The exponent alpha of n_i^alpha for the temperature modes at draw t. */
static double sampler_alpha(const tl_task_sampler *s) {
  const double a0 = 1.0 / s->o.tau;
  if (s->o.mode != TL_TASK_SAMPLING_ANNEALED)
    return a0;
  const double a1 = 1.0 / s->o.tau_end;
  if (s->draws >= s->o.anneal_steps)
    return a1;
  return a0 + (a1 - a0) * ((double)s->draws / (double)s->o.anneal_steps);
}

/* Writes the probabilities of the next draw into probs[0..s->n). Weights
 * are computed relative to the largest (or, inverse, the smallest) task,
 * so they are <= 1 and n^alpha cannot overflow; the largest task's weight
 * is 1, so the sum is >= 1. */
static void sampler_fill(double *probs, const tl_task_sampler *s) {
  uint64_t nmax = 0, nmin = UINT64_MAX;
  for (size_t i = 0; i < s->n; i++) {
    nmax = s->sizes[i] > nmax ? s->sizes[i] : nmax;
    nmin = s->sizes[i] < nmin ? s->sizes[i] : nmin;
  }
  double sum = 0.0;
  for (size_t i = 0; i < s->n; i++) {
    double w;
    switch (s->o.mode) {
    case TL_TASK_SAMPLING_UNIFORM: w = 1.0; break;
    case TL_TASK_SAMPLING_PROPORTIONAL:
      w = (double)s->sizes[i] / (double)nmax;
      break;
    case TL_TASK_SAMPLING_INVERSE:
      w = (double)nmin / (double)s->sizes[i];
      break;
    default:
      w = pow((double)s->sizes[i] / (double)nmax, sampler_alpha(s));
      break;
    }
    probs[i] = w;
    sum += w;
  }
  for (size_t i = 0; i < s->n; i++)
    probs[i] /= sum;
}

tl_status tl_task_sampler_create(tl_task_sampler **out, const uint64_t *sizes,
                                 size_t n_tasks,
                                 const tl_task_sampler_options *options) {
  static const char fn[] = "tl_task_sampler_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, sizes);
  TLI_CHECK(n_tasks > 0, TL_E_INVALID_ARG, "%s: n_tasks is 0", fn);
  tl_task_sampler_options o = TL_TASK_SAMPLER_OPTIONS_INIT;
  if (options)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, tl_task_sampler_options_sizes, fn,
                             "options"));
  TLI_CHECK(o.mode >= TL_TASK_SAMPLING_UNIFORM &&
                o.mode <= TL_TASK_SAMPLING_ANNEALED,
            TL_E_INVALID_ARG, "%s: options->mode %d is not a tl_task_sampling",
            fn, (int)o.mode);
  TLI_CHECK(isfinite(o.tau) && o.tau > 0, TL_E_INVALID_ARG,
            "%s: options->tau must be finite and > 0 (got %g)", fn, o.tau);
  TLI_CHECK(isfinite(o.tau_end) && o.tau_end > 0, TL_E_INVALID_ARG,
            "%s: options->tau_end must be finite and > 0 (got %g)", fn,
            o.tau_end);
  TLI_CHECK(o.anneal_steps > 0, TL_E_INVALID_ARG,
            "%s: options->anneal_steps is 0", fn);
  for (size_t i = 0; i < n_tasks; i++)
    TLI_CHECK(sizes[i] > 0, TL_E_INVALID_ARG,
              "%s: task %zu has size 0 (every task needs examples)", fn, i);
  tl_task_sampler *s = NULL;
  TLI_TRY(tli_alloc_checked((void **)&s, 1, sizeof *s, fn));
  s->sizes = NULL;
  s->probs = NULL;
  tl_status st =
      tli_alloc_checked((void **)&s->sizes, n_tasks, sizeof *s->sizes, fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&s->probs, n_tasks, sizeof *s->probs, fn);
  if (st != TL_OK) {
    tl_task_sampler_free(s);
    return st;
  }
  for (size_t i = 0; i < n_tasks; i++)
    s->sizes[i] = sizes[i];
  s->o = o;
  s->n = n_tasks;
  s->draws = 0;
  tli_rng_seed(&s->rng, o.seed);
  *out = s;
  return TL_OK;
}

void tl_task_sampler_free(tl_task_sampler *sampler) {
  if (!sampler)
    return;
  tli_free(sampler->sizes);
  tli_free(sampler->probs);
  tli_free(sampler);
}

tl_status tl_task_sampler_probs(double *out, size_t n,
                                const tl_task_sampler *sampler) {
  static const char fn[] = "tl_task_sampler_probs";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, sampler);
  TLI_CHECK(n == sampler->n, TL_E_SHAPE,
            "%s: n is %zu but the sampler has %zu tasks", fn, n, sampler->n);
  sampler_fill(out, sampler);
  return TL_OK;
}

tl_status tl_task_sampler_sample(size_t *out_task, tl_task_sampler *sampler) {
  static const char fn[] = "tl_task_sampler_sample";
  TLI_CHECK_PTR(fn, out_task);
  TLI_CHECK_PTR(fn, sampler);
  TLI_CHECK(sampler->draws < UINT64_MAX, TL_E_STATE,
            "%s: the draw counter is at its largest value", fn);
  sampler_fill(sampler->probs, sampler);
  const double u = tli_rng_uniform(&sampler->rng);
  /* Inverse CDF; a u at or past the rounded total picks the last task
   * with a nonzero probability (a weight may underflow to 0 at a tiny
   * temperature). */
  size_t pick = sampler->n - 1;
  while (pick > 0 && sampler->probs[pick] == 0.0)
    pick--;
  double cum = 0.0;
  for (size_t i = 0; i < sampler->n; i++) {
    cum += sampler->probs[i];
    if (u < cum) {
      pick = i;
      break;
    }
  }
  sampler->draws++;
  *out_task = pick;
  return TL_OK;
}

tl_status tl_task_sampler_num_draws(uint64_t *out,
                                    const tl_task_sampler *sampler) {
  TLI_CHECK_PTR("tl_task_sampler_num_draws", out);
  TLI_CHECK_PTR("tl_task_sampler_num_draws", sampler);
  *out = sampler->draws;
  return TL_OK;
}
