/* The closed form of every schedule kind at one step, in double precision.
 * Each function mirrors the arithmetic order of its reference (PyTorch's
 * get_lr, fastai's sched_cos, the ULMFiT paper) so that results agree to a
 * few ulps; docs/schedules.md lists the references. */
#include <math.h>

#include "optim/sched_internal.h"

static const double tli_pi = 3.14159265358979323846;

static double stlr_lr(const tl_sched_stlr_options *o, uint64_t step) {
  const double T = (double)o->total_steps;
  const double t = (double)step;
  const double cut = floor(T * o->cut_frac);
  double p;
  if (cut == 0.0)
    p = 1.0 - t / T; /* no room for a warm-up: start at the peak */
  else if (t < cut)
    p = t / cut;
  else
    p = 1.0 - (t - cut) / (cut * (1.0 / o->cut_frac - 1.0));
  if (p < 0.0)
    p = 0.0; /* never below lr_max / ratio (past the end, or T*cut_frac
                not whole) */
  return o->lr_max * (1.0 + p * (o->ratio - 1.0)) / o->ratio;
}

/* CyclicLR's position in the cycle: the triangle s in [0, 1] and the
 * amplitude scale of the mode. */
static void cyclic_shape(const tl_sched_cyclic_options *o, uint64_t step,
                         double *s, double *scale) {
  const uint64_t down = o->step_size_down ? o->step_size_down : o->step_size_up;
  const double total = (double)o->step_size_up + (double)down;
  const double ratio = (double)o->step_size_up / total;
  const double t = (double)step;
  const double cycle = floor(1.0 + t / total);
  const double x = 1.0 + t / total - cycle;
  *s = x <= ratio ? x / ratio : (x - 1.0) / (ratio - 1.0);
  switch (o->mode) {
  case TL_SCHED_CYCLIC_TRIANGULAR2: *scale = 1.0 / pow(2.0, cycle - 1.0); break;
  case TL_SCHED_CYCLIC_EXP_RANGE: *scale = pow(o->gamma, t); break;
  case TL_SCHED_CYCLIC_TRIANGULAR:
  default: *scale = 1.0; break;
  }
}

static double cosine_lr(double base, double eta_min, double num, double den) {
  return eta_min + (base - eta_min) * (1.0 + cos(tli_pi * num / den)) / 2.0;
}

/* SGDR: the restart containing `step`, with integer cycle bounds so that
 * restarts land exactly on their step. */
static double restarts_lr(const tl_sched_cosine_restarts_options *o,
                          uint64_t step) {
  if (o->t_mult == 1)
    return cosine_lr(o->base_lr, o->eta_min, (double)(step % o->t_0),
                     (double)o->t_0);
  uint64_t start = 0, len = o->t_0;
  /* At most 64 rounds: len at least doubles each time. step - start >= len
   * means step lies beyond this cycle; comparing the difference avoids
   * overflowing start + len. */
  while (step - start >= len) {
    start += len;
    if (len > UINT64_MAX / o->t_mult) {
      len = UINT64_MAX; /* longer than any remaining step count */
      break;
    }
    len *= o->t_mult;
  }
  return cosine_lr(o->base_lr, o->eta_min, (double)(step - start), (double)len);
}

static double anneal(tl_sched_anneal a, double start, double end, double pct) {
  if (a == TL_SCHED_ANNEAL_LINEAR)
    return (end - start) * pct + start;
  const double cos_out = cos(tli_pi * pct) + 1.0;
  return end + (start - end) / 2.0 * cos_out;
}

/* OneCycleLR: finds the phase holding `step` exactly as PyTorch walks its
 * phase list and returns the interpolated rate (and momentum). */
static void one_cycle_eval(const tl_sched_one_cycle_options *o, uint64_t step,
                           double *lr, double *mom) {
  const double T = (double)o->total_steps;
  const double initial = o->max_lr / o->div_factor;
  const double min_lr = initial / o->final_div_factor;
  const double hi_m = o->max_momentum, lo_m = o->base_momentum;
  double ends[3], lr_from[3], lr_to[3], m_from[3], m_to[3];
  size_t n;
  if (o->three_phase) {
    n = 3;
    ends[0] = o->pct_start * T - 1.0;
    ends[1] = 2.0 * o->pct_start * T - 2.0;
    ends[2] = T - 1.0;
    lr_from[0] = initial, lr_to[0] = o->max_lr, m_from[0] = hi_m,
    m_to[0] = lo_m;
    lr_from[1] = o->max_lr, lr_to[1] = initial, m_from[1] = lo_m,
    m_to[1] = hi_m;
    lr_from[2] = initial, lr_to[2] = min_lr, m_from[2] = hi_m, m_to[2] = hi_m;
  } else {
    n = 2;
    ends[0] = o->pct_start * T - 1.0;
    ends[1] = T - 1.0;
    lr_from[0] = initial, lr_to[0] = o->max_lr, m_from[0] = hi_m,
    m_to[0] = lo_m;
    lr_from[1] = o->max_lr, lr_to[1] = min_lr, m_from[1] = lo_m, m_to[1] = hi_m;
  }
  /* Past the end hold the last step's value (PyTorch raises there). */
  const double t = step >= o->total_steps ? T - 1.0 : (double)step;
  double start = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (t <= ends[i] || i == n - 1) {
      const double len = ends[i] - start;
      /* A zero-length phase is finished as soon as it is entered. */
      const double pct = len != 0.0 ? (t - start) / len : 1.0;
      *lr = anneal(o->anneal, lr_from[i], lr_to[i], pct);
      *mom = anneal(o->anneal, m_from[i], m_to[i], pct);
      return;
    }
    start = ends[i];
  }
}

/* fastai's sched_cos over one piece of combined_cos. */
static double sched_cos(double start, double end, double pos) {
  return start + (1.0 + cos(tli_pi * (1.0 - pos))) * (end - start) / 2.0;
}

/* fastai's combine_scheds([pct, 1 - pct], [cos(a, b), cos(b, c)]) at pos. */
static double combined_cos(double pct, double a, double b, double c,
                           double pos) {
  if (pos >= 1.0)
    return sched_cos(b, c, 1.0);
  if (pos >= pct)
    return sched_cos(b, c, (pos - pct) / (1.0 - pct));
  return sched_cos(a, b, pos / pct);
}

static double fastai_pos(const tl_sched_fastai_one_cycle_options *o,
                         uint64_t step) {
  if (step >= o->total_steps)
    return 1.0;
  return (double)step / (double)o->total_steps;
}

static double linear_lr(const tl_sched_linear_options *o, uint64_t step) {
  const double T = (double)o->total_iters;
  const double t = step < o->total_iters ? (double)step : T;
  return o->base_lr *
         (o->start_factor + (o->end_factor - o->start_factor) * t / T);
}

/* The number of milestones <= step (bisect_right). */
static size_t milestones_passed(const uint64_t *m, size_t n, uint64_t step) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (m[mid] <= step)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

double tli_sched_leaf_lr(const tl_sched *s, uint64_t step) {
  double sh, scale, lr, mom;
  switch (s->kind) {
  case TL_SCHED_STLR: return stlr_lr(&s->u.stlr, step);
  case TL_SCHED_CYCLIC:
    cyclic_shape(&s->u.cyclic, step, &sh, &scale);
    return s->u.cyclic.base_lr +
           (s->u.cyclic.max_lr - s->u.cyclic.base_lr) * sh * scale;
  case TL_SCHED_COSINE:
    return cosine_lr(s->u.cosine.base_lr, s->u.cosine.eta_min, (double)step,
                     (double)s->u.cosine.t_max);
  case TL_SCHED_COSINE_RESTARTS: return restarts_lr(&s->u.restarts, step);
  case TL_SCHED_ONE_CYCLE:
    one_cycle_eval(&s->u.one_cycle, step, &lr, &mom);
    return lr;
  case TL_SCHED_FASTAI_ONE_CYCLE: {
    const tl_sched_fastai_one_cycle_options *o = &s->u.fastai;
    return combined_cos(o->pct_start, o->lr_max / o->div, o->lr_max,
                        o->lr_max / o->div_final, fastai_pos(o, step));
  }
  case TL_SCHED_LINEAR: return linear_lr(&s->u.linear, step);
  case TL_SCHED_CONSTANT:
    return step < s->u.constant.total_iters
               ? s->u.constant.lr * s->u.constant.factor
               : s->u.constant.lr;
  case TL_SCHED_STEP:
    return s->u.step.base_lr *
           pow(s->u.step.gamma, (double)(step / s->u.step.step_size));
  case TL_SCHED_EXPONENTIAL:
    return s->u.exponential.base_lr * pow(s->u.exponential.gamma, (double)step);
  case TL_SCHED_MULTI_STEP:
    return s->u.multi_step.base_lr *
           pow(s->u.multi_step.gamma,
               (double)milestones_passed(s->u.multi_step.milestones,
                                         s->u.multi_step.n_milestones, step));
  case TL_SCHED_SEQUENTIAL:
  default: return NAN; /* not a leaf: sched.c dispatches sequential itself */
  }
}

int tli_sched_leaf_momentum(const tl_sched *s, uint64_t step, double *out) {
  double sh, scale, lr;
  switch (s->kind) {
  case TL_SCHED_CYCLIC:
    if (!s->u.cyclic.cycle_momentum)
      return 0;
    cyclic_shape(&s->u.cyclic, step, &sh, &scale);
    *out = s->u.cyclic.max_momentum -
           (s->u.cyclic.max_momentum - s->u.cyclic.base_momentum) * sh * scale;
    return 1;
  case TL_SCHED_ONE_CYCLE:
    if (!s->u.one_cycle.cycle_momentum)
      return 0;
    one_cycle_eval(&s->u.one_cycle, step, &lr, out);
    return 1;
  case TL_SCHED_FASTAI_ONE_CYCLE: {
    const tl_sched_fastai_one_cycle_options *o = &s->u.fastai;
    *out = combined_cos(o->pct_start, o->moms[0], o->moms[1], o->moms[2],
                        fastai_pos(o, step));
    return 1;
  }
  default: return 0;
  }
}

int tli_sched_leaf_has_momentum(const tl_sched *s) {
  switch (s->kind) {
  case TL_SCHED_CYCLIC: return s->u.cyclic.cycle_momentum != 0;
  case TL_SCHED_ONE_CYCLE: return s->u.one_cycle.cycle_momentum != 0;
  case TL_SCHED_FASTAI_ONE_CYCLE: return 1;
  default: return 0;
  }
}

double tli_sched_leaf_reference(const tl_sched *s) {
  switch (s->kind) {
  case TL_SCHED_STLR: return s->u.stlr.lr_max;
  case TL_SCHED_CYCLIC: return s->u.cyclic.max_lr;
  case TL_SCHED_COSINE: return s->u.cosine.base_lr;
  case TL_SCHED_COSINE_RESTARTS: return s->u.restarts.base_lr;
  case TL_SCHED_ONE_CYCLE: return s->u.one_cycle.max_lr;
  case TL_SCHED_FASTAI_ONE_CYCLE: return s->u.fastai.lr_max;
  case TL_SCHED_LINEAR: return s->u.linear.base_lr;
  case TL_SCHED_CONSTANT: return s->u.constant.lr;
  case TL_SCHED_STEP: return s->u.step.base_lr;
  case TL_SCHED_EXPONENTIAL: return s->u.exponential.base_lr;
  case TL_SCHED_MULTI_STEP: return s->u.multi_step.base_lr;
  case TL_SCHED_SEQUENTIAL:
  default: return NAN;
  }
}
