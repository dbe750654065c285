/* Internal: the layout of tl_optim, shared by the lib/optim/optim*.c
 * sources. State is one float array: per model, `slots` arrays of that
 * model's numel (SGD: the momentum buffer; Adam/AdamW: exp_avg then
 * exp_avg_sq), so element e of a model's flat buffer has its state at
 * state_base[model] + slot * numel + e. Step counters are per parameter
 * tensor, as torch keeps state['step'] per parameter. */
#ifndef TLI_OPTIM_INTERNAL_H
#define TLI_OPTIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tl/optim.h"

#define TLI_OPTIM_NUM_HPARAMS 5

struct tl_optim {
  tl_optim_kind kind;
  int nesterov;
  size_t n_models;
  tl_model **models;
  unsigned long *structure; /* each model's structure counter at create */
  size_t *groups;           /* each model's number of groups at create */
  size_t *group_base;       /* first global group of each model */
  size_t *state_base;       /* first state float of each model */
  size_t *param_base;       /* first step counter of each model */
  size_t n_groups;
  double *hp; /* n_groups * TLI_OPTIM_NUM_HPARAMS, indexed by tl_optim_hparam */
  size_t slots;
  float *state;
  size_t state_n;
  uint64_t *param_steps;
  size_t n_params;
  uint64_t steps;
};

/* Validates a hyperparameter value for this optimizer's kind. */
tl_status tli_optim_check_hparam(tl_optim_kind kind, int nesterov,
                                 tl_optim_hparam which, double value,
                                 const char *fn);
/* TL_E_STATE with a message when a model changed since create. */
tl_status tli_optim_check_models(const tl_optim *o, const char *fn);

#endif
