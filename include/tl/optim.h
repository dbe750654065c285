/*
 * libtl optimizers: SGD (momentum, Nesterov, weight decay), Adam and AdamW
 * with per-group hyperparameters, discriminative learning rates, gradient
 * clipping by global norm, and optimizer state that can be reset, saved and
 * restored.
 *
 * Updates equal torch.optim.SGD / Adam / AdamW step for step. One optimizer
 * may span several models (an encoder and its head, as fastai's single
 * model); its groups are the models' groups concatenated in the order the
 * models were given: models[0]'s groups 0..g0-1 are groups 0..g0-1, models[1]'s
 * group 0 is group g0, and so on.
 *
 * Only trainable parameters are updated (tl_model_set_param_trainable,
 * tl_model_freeze_to, element masks): frozen ones get no update, no weight
 * decay, and their state does not change. A model in feature-extraction mode
 * has nothing trainable.
 *
 * Lifetime: the optimizer holds a reference on each of its models, so
 * tl_model_free before tl_optim_free is safe (the model lives on until the
 * optimizer is freed). Adding a layer to a model, or changing its number of
 * groups (tl_model_set_group), after the optimizer was created makes
 * tl_optim_step, clip_grad_norm, freeze_to and the state calls
 * fail with TL_E_STATE (the group and parameter layout the optimizer was
 * built for no longer exists): create a new optimizer.
 *
 * Errors common to every function below: TL_E_INVALID_ARG for a NULL
 * optimizer or output pointer, a group index >= tl_optim_num_groups, or an
 * invalid hyperparameter value (as at create); TL_E_STATE when a model
 * changed structure as above. A failing call changes nothing.
 *
 * Thread-safety: an optimizer and its models from one thread at a time.
 */
#ifndef TL_OPTIM_H
#define TL_OPTIM_H

#include "tl/core.h"
#include "tl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque optimizer handle: its models (one reference each), the
 * per-group hyperparameters, the state buffers and the step counters.
 * Created by tl_optim_create, freed by tl_optim_free. */
typedef struct tl_optim tl_optim;

/* The update rule. The value is also the subkind of a checkpoint's
 * optimizer section (tl_ckpt_store_optim), so values never change. */
typedef enum tl_optim_kind {
  TL_OPTIM_SGD = 0,  /* torch.optim.SGD, dampening 0 */
  TL_OPTIM_ADAM = 1, /* torch.optim.Adam (L2 decay added to the gradient) */
  TL_OPTIM_ADAMW = 2 /* torch.optim.AdamW (decoupled decay) */
} tl_optim_kind;

/* Per-group hyperparameters. */
typedef enum tl_optim_hparam {
  /* Learning rate, >= 0. */
  TL_OPTIM_LR = 0,
  TL_OPTIM_MOMENTUM = 1, /* SGD momentum; beta1 for Adam and AdamW */
  TL_OPTIM_BETA2 = 2,    /* Adam and AdamW only */
  TL_OPTIM_EPS = 3,      /* Adam and AdamW only */
  /* Weight decay, >= 0: L2 added to the gradient (SGD, Adam) or decoupled
   * (AdamW). */
  TL_OPTIM_WEIGHT_DECAY = 4
} tl_optim_hparam;

/* Options of tl_optim_create: the update rule and every group's initial
 * hyperparameters (change them per group afterwards). */
#define TL_OPTIM_OPTIONS_VERSION 1
typedef struct tl_optim_options {
  unsigned int version; /* TL_OPTIM_OPTIONS_VERSION */
  /* the update rule (set by tl_optim_options_init) */
  tl_optim_kind kind;
  double lr;           /* every group's initial lr */
  double momentum;     /* SGD momentum, or Adam's beta1 */
  double beta2;        /* Adam */
  double eps;          /* Adam */
  double weight_decay; /* L2 for SGD and Adam, decoupled for AdamW */
  int nesterov;        /* SGD: Nesterov momentum (needs momentum > 0) */
} tl_optim_options;
/* The defaults of tl_optim_options_init as a static initialiser:
 * tl_optim_options o = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAM); */
#define TL_OPTIM_OPTIONS_INIT(kind)                                            \
  {                                                                            \
    TL_OPTIM_OPTIONS_VERSION, (kind), 1e-3,                                    \
        (kind) == TL_OPTIM_SGD ? 0.0 : 0.9, 0.999, 1e-8,                       \
        (kind) == TL_OPTIM_ADAMW ? 1e-2 : 0.0, 0                               \
  }

/* Fills *out with PyTorch's defaults for `kind`: lr 1e-3; SGD momentum 0,
 * weight decay 0, nesterov 0; Adam betas (0.9, 0.999), eps 1e-8, weight
 * decay 0; AdamW the same with weight decay 1e-2. Errors: TL_E_INVALID_ARG
 * (NULL, unknown kind), TL_E_UNSUPPORTED (version). */
TL_API tl_status tl_optim_options_init(tl_optim_options *out,
                                       unsigned int version,
                                       tl_optim_kind kind);

/* Creates an optimizer over n_models distinct models (n_models >= 1) with
 * zero state; every group starts with the options' hyperparameters. Takes a
 * reference on each model. Errors: TL_E_INVALID_ARG (NULL, duplicate model,
 * lr < 0, momentum or betas outside [0, 1), eps <= 0 for Adam, weight decay
 * < 0, NaN/Inf, nesterov without momentum), TL_E_UNSUPPORTED, TL_E_NOMEM. */
TL_API tl_status tl_optim_create(tl_optim **out, tl_model *const *models,
                                 size_t n_models,
                                 const tl_optim_options *options);

/* Frees the optimizer and drops its model references. NULL is a no-op. */
TL_API void tl_optim_free(tl_optim *optim);

/* Number of groups (sum over the models). */
TL_API tl_status tl_optim_num_groups(size_t *out, const tl_optim *optim);

/* One hyperparameter of one group. Values are validated as at create. */
TL_API tl_status tl_optim_set_group_hparam(tl_optim *optim, size_t group,
                                           tl_optim_hparam which, double value);
/* The current value of hyperparameter `which` of `group` into *out (a
 * schedule or plan may have changed it since create). */
TL_API tl_status tl_optim_get_group_hparam(double *out, const tl_optim *optim,
                                           size_t group, tl_optim_hparam which);
/* Sets the learning rate of one group: tl_optim_set_group_hparam with
 * TL_OPTIM_LR (lr finite and >= 0). */
TL_API tl_status tl_optim_set_group_lr(tl_optim *optim, size_t group,
                                       double lr);
/* The learning rate of one group into *out. */
TL_API tl_status tl_optim_get_group_lr(double *out, const tl_optim *optim,
                                       size_t group);
/* Sets lrs[g] for every group; n must equal the number of groups
 * (TL_E_SHAPE) and each rate be finite and >= 0 (TL_E_INVALID_ARG, nothing
 * set). */
TL_API tl_status tl_optim_set_lrs(tl_optim *optim, const double *lrs, size_t n);

/* Discriminative learning rates as plain functions (fill out[0..n)):
 * even:   lr_i = lo * (hi/lo)^(i/(n-1)) (fastai slice(lo, hi)); n = 1: hi.
 * slice:  groups 0..n-2 get hi/10, the last gets hi (fastai slice(hi)).
 * factor: lr_i = top / factor^(n-1-i) (ULMFiT: factor 2.6).
 * Errors: TL_E_INVALID_ARG (NULL, n 0, lo/hi/top <= 0, factor <= 0,
 * NaN/Inf). */
TL_API tl_status tl_lrs_even(double *out, size_t n, double lo, double hi);
/* fastai slice(hi): n - 1 groups at hi / 10, the last at hi (hi finite
 * and > 0). */
TL_API tl_status tl_lrs_slice(double *out, size_t n, double hi);
/* ULMFiT: out[i] = top / factor^(n-1-i), the last group at top and each
 * one below divided by factor (top and factor finite and > 0); exact also
 * when factor^(n-1-i) alone over- or underflows. Errors: TL_E_NUMERIC (a
 * rate beyond DBL_MAX; out untouched), TL_E_INVALID_ARG. */
TL_API tl_status tl_lrs_factor(double *out, size_t n, double top,
                               double factor);

/* Freezing over the optimizer's concatenated groups, with fastai's
 * semantics (see tl_model_freeze_to; each model's train_bn applies to its
 * BatchNorm layers), and the optimizer state reset as fastai's freeze_to
 * does. |n| <= number of groups. */
TL_API tl_status tl_optim_freeze_to(tl_optim *optim, int64_t n);
/* Freezes (0) or thaws (1) one of the optimizer's groups; state kept. */
TL_API tl_status tl_optim_set_group_trainable(tl_optim *optim, size_t group,
                                              int trainable);

/* Zeroes the gradient buffers of every model of the optimizer. */
TL_API tl_status tl_optim_zero_grad(tl_optim *optim);

/* Clips the gradients of the trainable parameters (masked-out elements
 * excluded) by their global L2 norm, torch.nn.utils.clip_grad_norm_:
 * coef = max_norm / (norm + 1e-6), gradients scaled by coef when coef < 1.
 * *out_norm (may be NULL) receives the norm before clipping. max_norm must
 * be > 0 (may be +Inf: only the norm is computed). A non-finite norm gives
 * TL_E_NUMERIC and leaves the gradients untouched. */
TL_API tl_status tl_optim_clip_grad_norm(double *out_norm, tl_optim *optim,
                                         double max_norm);

/* One update of every trainable parameter from its gradient. Checks first:
 * if any trainable gradient element is NaN/Inf it returns TL_E_NUMERIC and
 * changes nothing; if nothing at all is trainable it returns TL_E_STATE and
 * changes nothing (so a forgotten unfreeze is not silent); if a model's
 * structure changed since create, TL_E_STATE; so too at the largest step
 * count (UINT64_MAX, reachable only through a loaded state), where the
 * counters would wrap. Allocates nothing. */
TL_API tl_status tl_optim_step(tl_optim *optim);

/* Number of successful steps since create or the last state reset/load. */
TL_API tl_status tl_optim_step_count(uint64_t *out, const tl_optim *optim);

/* Forgets the optimizer state (momentum buffers, Adam moments, step
 * counters); hyperparameters are kept. */
TL_API tl_status tl_optim_reset_state(tl_optim *optim);

/* State save/restore into a caller buffer: tl_optim_state_size gives the
 * number of bytes; save writes exactly that many at the start of
 * out[0..size) (size must be >= it); load reads a buffer written by save
 * from an optimizer of the same kind over models of the same parameter
 * layout (else TL_E_FORMAT, nothing changed; non-finite values, negative
 * Adam/AdamW second moments and a parameter step counter above the step
 * count are refused too). The format is little-endian whatever the host,
 * starts with a magic, and holds the step counters and moment buffers, not
 * the hyperparameters. */
TL_API tl_status tl_optim_state_size(size_t *out, const tl_optim *optim);
/* Writes the state (tl_optim_state_size bytes) at the start of
 * out[0..size). Errors: TL_E_INVALID_ARG (NULL, size too small: nothing
 * written), TL_E_STATE (a model changed structure). */
TL_API tl_status tl_optim_state_save(void *out, size_t size,
                                     const tl_optim *optim);
/* Replaces the state (step counters, moments) with that in
 * buffer[0..size), after checking all of it: TL_E_FORMAT (wrong magic,
 * another optimizer kind or parameter layout, a short buffer, a non-finite
 * value, a negative second moment, a parameter step counter above the
 * step count) leaves the optimizer unchanged. Hyperparameters are not
 * touched. */
TL_API tl_status tl_optim_state_load(tl_optim *optim, const void *buffer,
                                     size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TL_OPTIM_H */
