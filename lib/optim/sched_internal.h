/* Internal: the layout of a tl_sched and the pure formulas behind it.
 * sched_formulas.c evaluates one kind at one step; sched.c owns creation,
 * copying, sequential composition and the public queries. */
#ifndef TLI_OPTIM_SCHED_INTERNAL_H
#define TLI_OPTIM_SCHED_INTERNAL_H

#include <stdint.h>

#include "tl/sched.h"

struct tl_sched {
  tl_sched_kind kind;
  union {
    tl_sched_stlr_options stlr;
    tl_sched_cyclic_options cyclic;
    tl_sched_cosine_options cosine;
    tl_sched_cosine_restarts_options restarts;
    tl_sched_one_cycle_options one_cycle;
    tl_sched_fastai_one_cycle_options fastai;
    tl_sched_linear_options linear;
    tl_sched_constant_options constant;
    tl_sched_step_options step;
    tl_sched_exponential_options exponential;
    tl_sched_multi_step_options multi_step; /* milestones: owned copy */
    struct {
      tl_sched **children; /* owned deep copies */
      uint64_t *starts;    /* starts[0] = 0, starts[i] = milestones[i-1] */
      size_t n;
    } seq;
  } u;
};

/* Learning rate and momentum of a leaf (non-sequential) schedule at step.
 * The leaf's options were validated by its constructor. The momentum
 * function returns 0 when the leaf has none (and leaves *out alone). */
double tli_sched_leaf_lr(const tl_sched *s, uint64_t step);
int tli_sched_leaf_momentum(const tl_sched *s, uint64_t step, double *out);
/* The rate the leaf was built around (lr_max, max_lr, base_lr or lr). */
double tli_sched_leaf_reference(const tl_sched *s);
/* Whether the leaf defines a momentum at every step. */
int tli_sched_leaf_has_momentum(const tl_sched *s);

#endif
