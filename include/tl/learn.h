/*
 * libtl learner: fastai's Learner in C. A tl_learner holds a chain of
 * models, one optimizer over them, the loss, the training and validation
 * batch sources, the metrics, the callbacks and the history, and runs
 * fastai's training loops on them: fit, fit_one_cycle, fine_tune,
 * fit_sgdr, with validation, metrics and a row of fastai's table after
 * every epoch (docs/learner.md).
 *
 * Everything a learner does is the hand-written loop of
 * docs/architecture.md ("One training step") with the schedules of
 * tl/sched.h and plans of tl/plan.h doing the arithmetic; tests/learn
 * checks that both give the same parameters bit for bit. One training
 * step of a batch:
 *
 *     tl_optim_zero_grad
 *     y0 = forward(models[0], batch ids or floats); y1 = forward(models[1],
 *       y0); ... y = output of the last model
 *     loss = cross_entropy(y, targets) (or the host loss), plus
 *       tl_model_aux_loss of every model (AR/TAR) in the gradient
 *     backward(last model, dloss/dy) ... backward(models[0])
 *     callbacks at TL_LEARNER_EVENT_AFTER_BACKWARD (clipping happens here)
 *     learning rate and momentum of every group for this step, tl_optim_step
 *
 * Lifetime: the learner holds a reference on each of its models (they live
 * until the learner is freed, see tl/model.h); batch loaders, reporters and
 * callback payloads are borrowed and must outlive the learner's use of
 * them. Thread-safety: one learner (and everything it holds) from one
 * thread at a time.
 *
 * Errors common to every function below: TL_E_INVALID_ARG for a NULL
 * learner or output pointer (the message names the argument), for an
 * options struct of unknown version TL_E_UNSUPPORTED. Every fit checks its
 * arguments and the learner (training data present, rates valid, monitors
 * naming history columns) before the first step, and such a failure
 * changes nothing; what only a batch can show (a batch without the targets
 * the loss or a metric needs, a validation source that yields nothing)
 * stops the fit when that batch is read.
 */
#ifndef TL_LEARN_H
#define TL_LEARN_H

#include "tl/core.h"
#include "tl/model.h"
#include "tl/optim.h"
#include "tl/plan.h"
#include "tl/progress.h"
#include "tl/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque learner handle: models (one reference each), the optimizer it
 * created over them, loss, batch sources, metrics, callbacks, history.
 * Created by tl_learner_create, freed by tl_learner_free. */
typedef struct tl_learner tl_learner;

/* ------------------------------------------------------------------------
 * Batches and batch sources
 * ------------------------------------------------------------------------ */

/* One batch, filled by a batch source (tl_batch_next_fn). Exactly one of
 * ids and x is set: ids for a chain whose models[0] starts with an
 * embedding (tl_model_forward_ids), floats otherwise (tl_model_forward).
 * The pointers are the source's and must stay valid until its next call. */
#define TL_BATCH_VERSION 1
typedef struct tl_batch {
  unsigned int version;           /* TL_BATCH_VERSION, set by the learner */
  const int64_t *ids;             /* input ids, dims[0..ndim), or NULL */
  const float *x;                 /* input floats, dims[0..ndim), or NULL */
  size_t dims[TL_MODEL_MAX_DIMS]; /* input dims: (T, B) for sequences */
  size_t ndim;                    /* entries of dims used */
  /* int64 targets: one per row of the flattened output (the output's last
   * dimension is the classes: n_targets = product of the output's other
   * dimensions, e.g. T * B for a language model, B for a classifier).
   * NULL when the batch has no labels (then only a host loss that needs
   * none can train on it, and no label metric can be computed). */
  const int64_t *targets;
  size_t n_targets; /* entries of targets */
  /* Per-sequence lengths for masked pooling (tl_model_set_lengths on every
   * model of the chain before the forward), n_lengths = the batch size;
   * NULL: every sequence full. */
  const size_t *lengths;
  size_t n_lengths; /* entries of lengths */
  /* The number of samples, weighting this batch's loss in the validation
   * mean (fastai's find_bs: the batch size B); 0 means n_targets (1 when
   * the batch has no targets). */
  size_t batch_size;
} tl_batch;

/* Writes the next batch into *out and *out_has_batch = 1, or
 * *out_has_batch = 0 at the end of an epoch (the next call starts the next
 * epoch). A failing status stops the fit with that status. */
typedef tl_status (*tl_batch_next_fn)(void *payload, tl_batch *out,
                                      int *out_has_batch);
/* Rewinds the source to the start of an epoch (optional, see
 * tl_batch_source.restart). */
typedef tl_status (*tl_batch_restart_fn)(void *payload);

/* A source of batches implemented by the host (tl_learner_set_data).
 * Every pass (a training epoch, a validation pass) reads batches until
 * next reports the end of an epoch. When a pass was interrupted (a fit
 * stopped by a callback or an error in the middle of an epoch), the next
 * pass first calls restart if it is not NULL, or else reads and drops the
 * rest of the interrupted epoch, so every pass starts at an epoch's
 * start. */
#define TL_BATCH_SOURCE_VERSION 1
typedef struct tl_batch_source {
  unsigned int version;        /* TL_BATCH_SOURCE_VERSION */
  tl_batch_next_fn next;       /* required */
  tl_batch_restart_fn restart; /* NULL: drain an interrupted epoch */
  void *payload;               /* passed to next and restart */
  /* Batches per epoch (fastai's len(dl)): sizes the schedules of
   * fit_one_cycle and fit_sgdr (total steps = epochs * n_batches) and the
   * progress display. 0 = unknown: then those fits fail with TL_E_STATE
   * and plain fit shows no total. A source may yield more or fewer
   * batches: the schedules hold their end values past the end, as
   * fastai's. */
  uint64_t n_batches;
  /* 1: reset the carried state of stateful LSTM/GRU layers
   * (tl_model_reset_state) before each pass over this source, as fastai's
   * ModelResetter does for a language model. */
  int reset_state;
} tl_batch_source;
/* The defaults of a tl_batch_source (no callbacks: next must be set):
 * tl_batch_source s = TL_BATCH_SOURCE_INIT; */
#define TL_BATCH_SOURCE_INIT                                                   \
  { TL_BATCH_SOURCE_VERSION, NULL, NULL, NULL, 0, 0 }

/* Options of tl_learner_set_clas_data: what the classification loader does
 * not say about itself. */
#define TL_CLAS_DATA_OPTIONS_VERSION 1
typedef struct tl_clas_data_options {
  unsigned int version; /* TL_CLAS_DATA_OPTIONS_VERSION */
  size_t batch_size;    /* the loaders' batch_size; default 64 */
  size_t max_len;       /* the loaders' max_len; default 0 (whole docs) */
  /* lengths of the training documents given to the training loader
   * (n_train of them): they give each batch's sequence lengths for masked
   * pooling, so the loaders must pad after the text (pad_first 0). NULL:
   * no lengths (every sequence counted full). */
  const size_t *train_lens;
  size_t n_train;           /* documents of the training loader */
  const size_t *valid_lens; /* as train_lens for the validation loader */
  size_t n_valid;           /* documents of the validation loader */
} tl_clas_data_options;
/* The defaults of tl_clas_data_options_init as a static initialiser:
 * tl_clas_data_options o = TL_CLAS_DATA_OPTIONS_INIT; */
#define TL_CLAS_DATA_OPTIONS_INIT                                              \
  { TL_CLAS_DATA_OPTIONS_VERSION, 64, 0, NULL, 0, NULL, 0 }
/* Fills *out with the defaults above. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_clas_data_options_init(tl_clas_data_options *out,
                                           unsigned int version);

/* ------------------------------------------------------------------------
 * Creating a learner
 * ------------------------------------------------------------------------ */

/* Options of tl_learner_create: the optimizer (fastai's defaults: Adam
 * with decoupled weight decay 0.01, i.e. torch's AdamW, betas (0.9, 0.99),
 * eps 1e-5) and the loss's ignore index. */
#define TL_LEARNER_OPTIONS_VERSION 1
typedef struct tl_learner_options {
  unsigned int version;   /* TL_LEARNER_OPTIONS_VERSION */
  tl_optim_kind opt_kind; /* default TL_OPTIM_ADAMW (fastai's Adam) */
  double lr;              /* initial rate of every group; default 1e-3 */
  double mom;             /* SGD momentum or Adam's beta1; default 0.9 */
  double sqr_mom;         /* Adam's beta2; default 0.99 */
  double eps;             /* Adam's eps; default 1e-5 */
  double wd;              /* weight decay; default 0.01 */
  int64_t ignore_index;   /* cross-entropy targets ignored; default -100 */
} tl_learner_options;
/* The defaults of tl_learner_options_init as a static initialiser:
 * tl_learner_options o = TL_LEARNER_OPTIONS_INIT; */
#define TL_LEARNER_OPTIONS_INIT                                                \
  {                                                                            \
    TL_LEARNER_OPTIONS_VERSION, TL_OPTIM_ADAMW, 1e-3, 0.9, 0.99, 1e-5, 0.01,   \
        -100                                                                   \
  }
/* Fills *out with fastai's defaults above. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_learner_options_init(tl_learner_options *out,
                                         unsigned int version);

/* Creates a learner over the chain models[0..n_models) (n_models >= 1,
 * distinct, each with at least one layer): models[0] takes the batches'
 * ids or floats and model i+1 takes model i's output. It takes a reference
 * on each model and creates its optimizer over them (options NULL:
 * defaults); the learner's groups start as the models' groups
 * concatenated, as tl_optim's. Models are put in train mode when a fit
 * starts. The loss is softmax cross-entropy until tl_learner_set_loss.
 * Errors: TL_E_INVALID_ARG (NULL, n_models 0, a model twice, a bad
 * hyperparameter: the message names it), TL_E_STATE (a model without
 * layers), TL_E_UNSUPPORTED, TL_E_NOMEM. Free with tl_learner_free. */
TL_API tl_status tl_learner_create(tl_learner **out, tl_model *const *models,
                                   size_t n_models,
                                   const tl_learner_options *options);
/* Frees the learner and drops its model references. NULL is a no-op. */
TL_API void tl_learner_free(tl_learner *learner);

/* The number of models of the chain into *out. */
TL_API tl_status tl_learner_num_models(size_t *out, const tl_learner *learner);
/* Model `index` of the chain into *out (a borrowed pointer: the learner
 * keeps its reference). Errors: TL_E_INVALID_ARG (index out of range). */
TL_API tl_status tl_learner_model(tl_model **out, const tl_learner *learner,
                                  size_t index);
/* The learner's optimizer into *out (borrowed): valid until the learner
 * rebuilds it (a grouping change, see tl_learner_set_group) or is freed.
 * Callbacks may clip gradients or read hyperparameters through it. */
TL_API tl_status tl_learner_optim(tl_optim **out, tl_learner *learner);

/* ------------------------------------------------------------------------
 * Data
 * ------------------------------------------------------------------------ */

/* Host batch sources (copied; payloads borrowed): train is required, valid
 * may be NULL (no validation: valid_loss and metrics are NaN). Errors:
 * TL_E_INVALID_ARG (train NULL, a source without next). */
TL_API tl_status tl_learner_set_data(tl_learner *learner,
                                     const tl_batch_source *train,
                                     const tl_batch_source *valid);

/* Language-model data from the text layer's stream loaders (borrowed; valid
 * may be NULL): batches of ids x (T, B) with targets y flattened (T * B),
 * batch size B; the stateful LSTM state is reset before each pass (each
 * training epoch and each validation), as fastai. batch_size and bptt are
 * the loaders' (both loaders must use the same batch_size): bptt gives
 * the batches per epoch as fastai's LMDataLoader counts them,
 * ceil(row_len / bptt). Errors: TL_E_INVALID_ARG (train NULL, batch_size
 * or bptt 0). */
TL_API tl_status tl_learner_set_lm_data(tl_learner *learner,
                                        tl_lm_loader *train,
                                        tl_lm_loader *valid, size_t batch_size,
                                        size_t bptt);

/* Classification data from the text layer's sorted loaders (borrowed;
 * valid may be NULL): ids (T, b), labels (b), and when the options give
 * the documents' lengths, those lengths (clipped to max_len) for masked
 * pooling (tl_model_set_lengths before every forward). Batches per epoch
 * ceil(n_train / batch_size). options NULL: defaults (then n_train is 0
 * and fit_one_cycle cannot size its schedule: TL_E_STATE). A batch
 * holding a document beyond the lengths given stops the fit with
 * TL_E_STATE. Errors: TL_E_INVALID_ARG (train NULL, batch_size 0, a
 * length 0). */
TL_API tl_status tl_learner_set_clas_data(tl_learner *learner,
                                          tl_clas_loader *train,
                                          tl_clas_loader *valid,
                                          const tl_clas_data_options *options);

/* ------------------------------------------------------------------------
 * Loss
 * ------------------------------------------------------------------------ */

/* A host loss: y (dims[0..ndim)) is the chain's output for `batch`; write
 * the batch's loss into *out_loss and its gradient d loss / d y (same
 * dims, prod(dims) floats) into out_dy. It runs in training and in
 * validation (then out_dy is NULL: compute the loss only). */
typedef tl_status (*tl_loss_fn)(void *payload, double *out_loss, float *out_dy,
                                const float *y, const size_t *dims, size_t ndim,
                                const tl_batch *batch);

/* Replaces the loss by fn (payload borrowed); fn NULL restores the default
 * softmax cross-entropy of the output's last dimension against the
 * batch's int64 targets (tl_cross_entropy, ignore_index from the options;
 * a (T, B, V) language-model output is flattened to (T * B, V)). */
TL_API tl_status tl_learner_set_loss(tl_learner *learner, tl_loss_fn fn,
                                     void *payload);

/* ------------------------------------------------------------------------
 * Groups (fastai's splitter) and freezing
 *
 * The learner's groups are what freeze_to, unfreeze and discriminative
 * rates count. By default they are the models' groups concatenated (as
 * tl_optim's). tl_learner_set_group puts any layer of any model in any
 * learner group, so a group may gather layers of several models (fastai's
 * AWD-LSTM LM split puts the embedding of models[0] and the tied decoder
 * of models[1] in the last group). The learner realises its grouping by
 * renumbering each model's layer groups (tl_model_set_group: layer groups
 * of one model are numbered in the order of their learner groups) and
 * maps each learner group to the optimizer groups of the models that hold
 * one of its layers.
 *
 * When the grouping changes (tl_learner_set_group, or a model's group
 * count changed behind the learner's back), the optimizer is rebuilt at
 * the next freeze, group query or fit: its state (moments, step counts)
 * starts from zero and its hyperparameters from the learner's options;
 * freezing flags stay on the parameters.
 * ------------------------------------------------------------------------ */

/* Puts layer `layer` of models[model_index] in learner group `group`.
 * The first call starts from the default grouping (every other layer
 * keeps its group). group must be < the total number of layers of the
 * chain. Errors: TL_E_INVALID_ARG (model_index or group out of range),
 * TL_E_NOT_FOUND (no such layer). */
TL_API tl_status tl_learner_set_group(tl_learner *learner, size_t model_index,
                                      const char *layer, size_t group);
/* The learner group of a layer into *out. */
TL_API tl_status tl_learner_get_group(size_t *out, tl_learner *learner,
                                      size_t model_index, const char *layer);
/* The number of learner groups into *out (1 + the largest group number;
 * a group may hold no layer). */
TL_API tl_status tl_learner_num_groups(size_t *out, tl_learner *learner);

/* fastai's freeze_to(n) on learner groups: groups [n:] trainable, [:n]
 * frozen; negative n counts from the end; |n| <= number of groups (else
 * TL_E_INVALID_ARG). Clears the optimizer state, as fastai does. */
TL_API tl_status tl_learner_freeze_to(tl_learner *learner, int64_t n);
/* fastai's freeze(): freeze_to(-1), only the last group trainable. */
TL_API tl_status tl_learner_freeze(tl_learner *learner);
/* fastai's unfreeze(): freeze_to(0), every group trainable. */
TL_API tl_status tl_learner_unfreeze(tl_learner *learner);
/* *out = 1 if any parameter of learner group `group` is trainable. */
TL_API tl_status tl_learner_get_group_trainable(int *out, tl_learner *learner,
                                                size_t group);

/* ------------------------------------------------------------------------
 * Metrics
 * ------------------------------------------------------------------------ */

/* Built-in metrics, computed on the validation set after every epoch
 * (fastai's names in the history). */
typedef enum tl_learner_metric {
  /* "accuracy": argmax of the output's last dimension equals the target,
   * over rows whose target is not the ignore index (fastai accuracy). */
  TL_LEARNER_METRIC_ACCURACY = 0,
  /* "f1_score": macro-F1 over n_classes classes (tl_classification_metrics,
   * scikit-learn's f1_score(average="macro"), fastai F1Score(average=
   * "macro")). */
  TL_LEARNER_METRIC_MACRO_F1 = 1,
  /* "perplexity": exp(valid_loss) (fastai Perplexity). */
  TL_LEARNER_METRIC_PERPLEXITY = 2
} tl_learner_metric;

/* Adds a built-in metric (a column of the history after valid_loss, in
 * the order added). n_classes is the number of classes for MACRO_F1 (>= 1;
 * ignored by the others). Accuracy and macro-F1 need batches with targets:
 * a fit whose validation batch has none fails with TL_E_STATE. Errors:
 * TL_E_INVALID_ARG (unknown metric, n_classes 0 for MACRO_F1). */
TL_API tl_status tl_learner_add_metric(tl_learner *learner,
                                       tl_learner_metric metric,
                                       size_t n_classes);

/* Host metric: forgets what was accumulated (before each validation
 * pass). */
typedef tl_status (*tl_metric_reset_fn)(void *payload);
/* Host metric: adds one validation batch, y (dims[0..ndim)) the chain's
 * output for `batch`. */
typedef tl_status (*tl_metric_accumulate_fn)(void *payload, const float *y,
                                             const size_t *dims, size_t ndim,
                                             const tl_batch *batch);
/* Host metric: the value over the batches accumulated since reset. */
typedef tl_status (*tl_metric_value_fn)(void *payload, double *out);

/* A host-defined metric: reset before each validation pass, accumulate
 * each validation batch, value at the end. */
#define TL_HOST_METRIC_VERSION 1
typedef struct tl_host_metric {
  unsigned int version;               /* TL_HOST_METRIC_VERSION */
  const char *name;                   /* the history column (copied) */
  tl_metric_reset_fn reset;           /* required */
  tl_metric_accumulate_fn accumulate; /* required */
  tl_metric_value_fn value;           /* required */
  void *payload; /* borrowed, passed to the three functions */
} tl_host_metric;
/* Adds a host metric (the struct is copied, the name too). Errors:
 * TL_E_INVALID_ARG (a NULL function or name, an empty name). */
TL_API tl_status tl_learner_add_host_metric(tl_learner *learner,
                                            const tl_host_metric *metric);

/* ------------------------------------------------------------------------
 * Callbacks
 * ------------------------------------------------------------------------ */

/* When a callback runs (fastai's events). */
typedef enum tl_learner_event {
  TL_LEARNER_EVENT_BEFORE_FIT = 0,     /* once, before the first epoch */
  TL_LEARNER_EVENT_BEFORE_EPOCH = 1,   /* before each training epoch */
  TL_LEARNER_EVENT_BEFORE_BATCH = 2,   /* a batch read, before forward */
  TL_LEARNER_EVENT_AFTER_BACKWARD = 3, /* gradients ready, before step */
  TL_LEARNER_EVENT_AFTER_STEP = 4,     /* after tl_optim_step */
  TL_LEARNER_EVENT_AFTER_BATCH = 5,    /* after the batch (step or not) */
  TL_LEARNER_EVENT_AFTER_VALIDATE = 6, /* valid_loss and metrics known */
  TL_LEARNER_EVENT_AFTER_EPOCH = 7,    /* the epoch's history row added */
  TL_LEARNER_EVENT_AFTER_FIT = 8       /* once, after the last epoch */
} tl_learner_event;

/* What a callback sees: filled by libtl, valid during the call only.
 * `version` is the version libtl filled (later versions append). */
#define TL_LEARNER_STATE_VERSION 1
typedef struct tl_learner_state {
  unsigned int version;   /* TL_LEARNER_STATE_VERSION of the libtl running */
  tl_learner_event event; /* the event being called */
  uint64_t epoch;         /* epoch of this fit, from 0 */
  uint64_t n_epochs;      /* epochs of this fit */
  uint64_t iter;          /* batch in this epoch, from 0 */
  uint64_t train_iter;    /* training batches done in this fit */
  uint64_t total_iters;   /* n_epochs * n_batches (0 when unknown) */
  double loss;            /* this batch's loss (without AR/TAR); NaN before */
  double smooth_loss;     /* fastai's smoothed training loss; NaN before */
  const double *lrs;      /* learning rate per learner group, this step */
  size_t n_groups;        /* entries of lrs */
  double valid_loss;      /* last validation loss; NaN before */
  const double *metrics;  /* last metric values (n_metrics); NaN before */
  size_t n_metrics;       /* entries of metrics */
} tl_learner_state;

/* A callback: any status but TL_OK stops the fit with that status and a
 * message naming the callback and the event (the callback's own message,
 * if it set one, follows). The models are then as after the last
 * completed step. */
typedef tl_status (*tl_callback_fn)(void *payload, tl_learner *learner,
                                    const tl_learner_state *state);

/* A callback and its name (copied, shown in messages). */
#define TL_CALLBACK_VERSION 1
typedef struct tl_callback {
  unsigned int version; /* TL_CALLBACK_VERSION */
  tl_callback_fn fn;    /* required */
  void *payload;        /* borrowed, passed to fn */
  const char *name;     /* NULL: "callback <index>" */
} tl_callback;

/* Adds a host callback, called at every event; callbacks and built-ins run
 * in the order they were added.
 * Errors: TL_E_INVALID_ARG (fn NULL). */
TL_API tl_status tl_learner_add_callback(tl_learner *learner,
                                         const tl_callback *callback);

/* Asks the running fit to stop cleanly (fastai's CancelFitException) and
 * return TL_OK. Requested during a training epoch (from BEFORE_EPOCH to
 * AFTER_BATCH), the fit ends after the current batch (its step still
 * happens) without validating or recording the partial epoch; requested
 * at AFTER_VALIDATE or AFTER_EPOCH, it ends after the epoch's row. In
 * both cases AFTER_FIT runs. Meant for callbacks (early stopping); outside
 * a fit it is a no-op. */
TL_API tl_status tl_learner_request_stop(tl_learner *learner);

/* Built-in: gradient clipping by global norm at AFTER_BACKWARD
 * (tl_optim_clip_grad_norm; fastai GradientClip). max_norm finite > 0. */
TL_API tl_status tl_learner_add_grad_clip(tl_learner *learner, double max_norm);

/* Built-in: gradient accumulation over n_batches batches (fastai
 * GradientAccumulation counted in batches): gradients add up over
 * n_batches batches (across epoch boundaries, as fastai's count), are
 * divided by n_batches, and then the optimizer steps and the gradients
 * are zeroed; batches left over at the end of a fit make no step.
 * AFTER_BACKWARD (and clipping) runs only on the batches that step, on the
 * averaged gradients; AFTER_STEP only when a step happened. n_batches >= 1 (1:
 * off). */
TL_API tl_status tl_learner_add_grad_accum(tl_learner *learner,
                                           size_t n_batches);

/* How a monitored value improves (early stopping, save-best-model). */
typedef enum tl_learner_compare {
  /* lower is better when the monitor's name contains "loss" or "error",
   * else higher (fastai's comp=None) */
  TL_LEARNER_COMPARE_AUTO = 0,
  TL_LEARNER_COMPARE_LESS = 1,   /* lower is better (np.less) */
  TL_LEARNER_COMPARE_GREATER = 2 /* higher is better (np.greater) */
} tl_learner_compare;

/* Options of the monitoring built-ins (fastai TrackerCallback). */
#define TL_MONITOR_OPTIONS_VERSION 1
typedef struct tl_monitor_options {
  unsigned int version;    /* TL_MONITOR_OPTIONS_VERSION */
  const char *monitor;     /* a history column; default "valid_loss" */
  tl_learner_compare comp; /* default TL_LEARNER_COMPARE_AUTO */
  double min_delta;        /* improvement needed, >= 0; default 0 */
  uint64_t patience;       /* early stopping: epochs without; default 1 */
} tl_monitor_options;
/* The defaults of tl_monitor_options_init as a static initialiser:
 * tl_monitor_options o = TL_MONITOR_OPTIONS_INIT; */
#define TL_MONITOR_OPTIONS_INIT                                                \
  { TL_MONITOR_OPTIONS_VERSION, "valid_loss", TL_LEARNER_COMPARE_AUTO, 0.0, 1 }
/* Fills *out with fastai's defaults above. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_monitor_options_init(tl_monitor_options *out,
                                         unsigned int version);

/* Built-in: fastai EarlyStoppingCallback. After each epoch the monitored
 * value is compared with the best so far (reset at each fit): an
 * improvement is value < best - min_delta (LESS) or value > best +
 * min_delta (GREATER); after `patience` epochs without one the fit stops
 * (tl_learner_request_stop). options NULL: defaults; the monitor name is
 * copied and must name a history column when the fit starts (else the
 * fit fails with TL_E_NOT_FOUND). Errors: TL_E_INVALID_ARG (min_delta
 * negative or not finite, unknown comp, monitor NULL). */
TL_API tl_status tl_learner_add_early_stopping(
    tl_learner *learner, const tl_monitor_options *options);

/* Built-in: fastai SaveModelCallback. When the monitored value improves
 * (as for early stopping; patience unused), every model is written to
 * `path` atomically (tl_ckpt_save) with the parameters of models[i] under
 * the prefix "<i>." (fastai's SequentialRNN names). Restore with
 * tl_learner_load. Errors: TL_E_INVALID_ARG (path NULL or empty, bad
 * options). */
TL_API tl_status tl_learner_add_save_model(tl_learner *learner,
                                           const char *path,
                                           const tl_monitor_options *options);

/* Built-in: fastai CSVLogger. Each fit writes (append 0: truncating the
 * file at the fit's start; 1: appending) the header "epoch,train_loss,
 * valid_loss,<metrics>,time" and one row per epoch: values with every
 * digit (%.17g; fastai writes str(value)), time as fastai's "mm:ss".
 * Errors: TL_E_INVALID_ARG (path NULL or empty). A file that
 * cannot be written stops the fit with TL_E_IO. */
TL_API tl_status tl_learner_add_csv_logger(tl_learner *learner,
                                           const char *path, int append);

/* Adds a progress reporter (tl/progress.h; borrowed, must outlive the
 * learner's fits): every fit feeds it each training and validation step
 * and each epoch's row. Errors: TL_E_INVALID_ARG, TL_E_NOMEM. */
TL_API tl_status tl_learner_add_reporter(tl_learner *learner,
                                         tl_reporter *reporter);

/* Removes every callback, built-in and reporter added so far. */
TL_API tl_status tl_learner_clear_callbacks(tl_learner *learner);

/* ------------------------------------------------------------------------
 * Fitting. Every fit resets the history and the smoothed loss (fastai's
 * Recorder), puts the models in train mode for training and eval mode for
 * validation, and leaves them in eval mode. A non-finite training loss
 * stops the fit with TL_E_NUMERIC naming the epoch and batch; the models
 * are then as after the last completed step.
 *
 * Learning rates (the lr fields of the options below, fastai's lr_max):
 * `lrs` (n_lrs == the number of learner groups) gives one rate per group;
 * else slice_hi > 0 gives fastai's slice: slice(slice_lo, slice_hi) even
 * over the groups (tl_lrs_even) when slice_lo > 0, slice(slice_hi)
 * (tl_lrs_slice) when slice_lo is 0; else `lr` for every group.
 * ------------------------------------------------------------------------ */

/* Options of tl_learner_fit: a constant rate (fastai Learner.fit). */
#define TL_FIT_OPTIONS_VERSION 1
typedef struct tl_fit_options {
  unsigned int version; /* TL_FIT_OPTIONS_VERSION */
  double lr;            /* every group's rate; default 1e-3 */
  double slice_lo;      /* fastai slice(lo, hi); default 0 */
  double slice_hi;      /* 0: not a slice (default) */
  const double *lrs;    /* one rate per learner group; default NULL */
  size_t n_lrs;         /* entries of lrs; default 0 */
  double wd;            /* weight decay for this fit; < 0 (default -1):
                           the learner's (fastai wd=None) */
} tl_fit_options;
/* The defaults of tl_fit_options_init as a static initialiser:
 * tl_fit_options o = TL_FIT_OPTIONS_INIT; */
#define TL_FIT_OPTIONS_INIT                                                    \
  { TL_FIT_OPTIONS_VERSION, 1e-3, 0.0, 0.0, NULL, 0, -1.0 }
/* Fills *out with the defaults above. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_fit_options_init(tl_fit_options *out, unsigned int version);

/* fastai Learner.fit(n_epoch, lr): n_epoch epochs at constant rates
 * (options NULL: defaults). Errors: TL_E_INVALID_ARG (n_epoch 0, a rate
 * negative or not finite, n_lrs not the number of groups, slice_lo >
 * slice_hi), TL_E_STATE (no training data, a validation source that
 * yields no batch, nothing trainable, a metric that needs targets the
 * batches lack), TL_E_NUMERIC (non-finite loss), statuses of the sources,
 * the loss, the callbacks and the models. */
TL_API tl_status tl_learner_fit(tl_learner *learner, uint64_t n_epoch,
                                const tl_fit_options *options);

/* Options of tl_learner_fit_one_cycle (fastai's arguments and defaults). */
#define TL_FIT_ONE_CYCLE_OPTIONS_VERSION 1
typedef struct tl_fit_one_cycle_options {
  unsigned int version; /* TL_FIT_ONE_CYCLE_OPTIONS_VERSION */
  double lr_max;        /* every group's peak rate; default 1e-3 */
  double slice_lo;      /* fastai slice(lo, hi); default 0 */
  double slice_hi;      /* 0: not a slice (default) */
  const double *lrs;    /* one peak rate per learner group; default NULL */
  size_t n_lrs;         /* entries of lrs; default 0 */
  double div;           /* start at lr_max / div; default 25 */
  double div_final;     /* end at lr_max / div_final; default 1e5 */
  double pct_start;     /* fraction rising; default 0.25 */
  double moms[3];       /* momentum start, middle, end; (0.95, 0.85, 0.95) */
  double wd;            /* < 0 (default -1): the learner's */
  /* fastai's start_epoch (resuming a stopped run): epochs [0, start_epoch)
   * are skipped and the schedule starts at step start_epoch * n_batches,
   * so a run stopped after k epochs and restored (models, optimizer
   * state, data sources positioned after epoch k) continues exactly; the
   * history rows are numbered from start_epoch. Must be < n_epoch;
   * default 0. */
  uint64_t start_epoch;
} tl_fit_one_cycle_options;
/* The defaults of tl_fit_one_cycle_options_init as a static initialiser:
 * tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT; */
#define TL_FIT_ONE_CYCLE_OPTIONS_INIT                                          \
  {                                                                            \
    TL_FIT_ONE_CYCLE_OPTIONS_VERSION, 1e-3, 0.0, 0.0, NULL, 0, 25.0, 1e5,      \
        0.25, {0.95, 0.85, 0.95}, -1.0, 0                                      \
  }
/* Fills *out with fastai's defaults above. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_fit_one_cycle_options_init(tl_fit_one_cycle_options *out,
                                               unsigned int version);

/* fastai Learner.fit_one_cycle: the rates of every group follow
 * tl_sched_fastai_one_cycle over n_epoch * n_batches steps (the group's
 * peak rate times the schedule's multiplier, as tl_plan_lrs), and the
 * momentum (Adam's beta1) moms. Epoch e starts at step e * n_batches
 * (fastai's pct_train = epoch / n_epoch at each epoch's start), also when
 * the epochs before yielded more or fewer batches (an LM stream with
 * variable windows); the same holds for fit_sgdr. Errors: as tl_learner_fit,
 * and TL_E_INVALID_ARG (div, div_final, pct_start, moms out of range: the
 * schedule's rules), TL_E_STATE (batches per epoch unknown). */
TL_API tl_status
tl_learner_fit_one_cycle(tl_learner *learner, uint64_t n_epoch,
                         const tl_fit_one_cycle_options *options);

/* Options of tl_learner_fine_tune (fastai's arguments and defaults). */
#define TL_FINE_TUNE_OPTIONS_VERSION 1
typedef struct tl_fine_tune_options {
  unsigned int version;   /* TL_FINE_TUNE_OPTIONS_VERSION */
  double base_lr;         /* default 2e-3 */
  uint64_t freeze_epochs; /* default 1 (0: skip the frozen stage) */
  double lr_mult;         /* default 100 */
  double pct_start;       /* the unfrozen stage's; default 0.3 */
  double div;             /* the unfrozen stage's; default 5 */
  double div_final;       /* both stages; default 1e5 */
  double moms[3];         /* both stages; default (0.95, 0.85, 0.95) */
  double wd;              /* both stages; < 0 (default -1): the learner's */
} tl_fine_tune_options;
/* The defaults of tl_fine_tune_options_init as a static initialiser:
 * tl_fine_tune_options o = TL_FINE_TUNE_OPTIONS_INIT; */
#define TL_FINE_TUNE_OPTIONS_INIT                                              \
  {                                                                            \
    TL_FINE_TUNE_OPTIONS_VERSION, 2e-3, 1, 100.0, 0.3, 5.0, 1e5,               \
        {0.95, 0.85, 0.95}, -1.0                                               \
  }
/* Fills *out with fastai's defaults above. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_fine_tune_options_init(tl_fine_tune_options *out,
                                           unsigned int version);

/* fastai Learner.fine_tune: freeze(); fit_one_cycle(freeze_epochs,
 * slice(base_lr), pct_start 0.99); base_lr /= 2; unfreeze();
 * fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), pct_start,
 * div). The history holds the second fit's rows (fastai's Recorder).
 * Errors: as tl_learner_fit_one_cycle (epochs 0, base_lr or lr_mult not
 * finite and > 0: TL_E_INVALID_ARG). */
TL_API tl_status tl_learner_fine_tune(tl_learner *learner, uint64_t epochs,
                                      const tl_fine_tune_options *options);

/* Options of tl_learner_fit_sgdr. */
#define TL_FIT_SGDR_OPTIONS_VERSION 1
typedef struct tl_fit_sgdr_options {
  unsigned int version; /* TL_FIT_SGDR_OPTIONS_VERSION */
  double lr_max;        /* every group's peak rate; default 1e-3 */
  double slice_lo;      /* fastai slice(lo, hi); default 0 */
  double slice_hi;      /* 0: not a slice (default) */
  const double *lrs;    /* one peak rate per learner group; default NULL */
  size_t n_lrs;         /* entries of lrs; default 0 */
  uint64_t cycle_mult;  /* each cycle this many times longer; default 2 */
  double wd;            /* < 0 (default -1): the learner's */
} tl_fit_sgdr_options;
/* The defaults of tl_fit_sgdr_options_init as a static initialiser:
 * tl_fit_sgdr_options o = TL_FIT_SGDR_OPTIONS_INIT; */
#define TL_FIT_SGDR_OPTIONS_INIT                                               \
  { TL_FIT_SGDR_OPTIONS_VERSION, 1e-3, 0.0, 0.0, NULL, 0, 2, -1.0 }
/* Fills *out with fastai's defaults above. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_fit_sgdr_options_init(tl_fit_sgdr_options *out,
                                          unsigned int version);

/* fastai Learner.fit_sgdr: n_cycles cosine cycles from the peak rate to 0,
 * the first cycle_len epochs long and each next one cycle_mult times
 * longer (tl_sched_cosine_restarts with t_0 = cycle_len * n_batches), for
 * cycle_len * (1 + cycle_mult + ... + cycle_mult^(n_cycles-1)) epochs. No
 * momentum schedule. Errors: as tl_learner_fit, and TL_E_INVALID_ARG
 * (n_cycles or cycle_len 0, cycle_mult 0, an epoch count beyond
 * UINT64_MAX), TL_E_STATE (batches per epoch unknown). */
TL_API tl_status tl_learner_fit_sgdr(tl_learner *learner, uint64_t n_cycles,
                                     uint64_t cycle_len,
                                     const tl_fit_sgdr_options *options);

/* Runs one validation pass now (eval mode) and writes the loss into
 * *out_loss and the metric values into out_metrics[0..n) (n must equal
 * tl_learner_num_metrics, out_metrics may be NULL when it is 0; fastai
 * Learner.validate). Errors: TL_E_STATE (no validation source, or it
 * yields no batch), TL_E_SHAPE (n), those of the fit's validation. */
TL_API tl_status tl_learner_validate(double *out_loss, double *out_metrics,
                                     size_t n, tl_learner *learner);

/* ------------------------------------------------------------------------
 * History (fastai's Recorder table): one row per epoch of the last fit,
 * columns "epoch", "train_loss" (fastai's smoothed loss at the epoch's
 * end), "valid_loss", the metrics in the order added, "time" (seconds).
 * ------------------------------------------------------------------------ */

/* The number of metrics added into *out. */
TL_API tl_status tl_learner_num_metrics(size_t *out, const tl_learner *learner);
/* The number of history columns into *out (4 + the number of metrics). */
TL_API tl_status tl_learner_history_num_columns(size_t *out,
                                                const tl_learner *learner);
/* The name of history column `column` (a view owned by the learner, valid
 * until the next metric is added or the learner freed). */
TL_API tl_status tl_learner_history_column_name(const char **out,
                                                const tl_learner *learner,
                                                size_t column);
/* The number of history rows (epochs recorded by the last fit). */
TL_API tl_status tl_learner_history_num_rows(size_t *out,
                                             const tl_learner *learner);
/* The value at (row, column) into *out: the epoch number as a double, a
 * loss, a metric (NaN when there was no validation), the seconds. Errors:
 * TL_E_INVALID_ARG (row or column out of range). */
TL_API tl_status tl_learner_history_value(double *out,
                                          const tl_learner *learner, size_t row,
                                          size_t column);

/* ------------------------------------------------------------------------
 * Saving the models (fastai Learner.save / load)
 * ------------------------------------------------------------------------ */

/* Writes every model's parameters to `path` atomically (tl_ckpt_save),
 * models[i]'s under the prefix "<i>.". Errors: TL_E_INVALID_ARG,
 * TL_E_IO, TL_E_NOMEM. */
TL_API tl_status tl_learner_save(const tl_learner *learner, const char *path);
/* Reads a file written by tl_learner_save (or the save-model built-in)
 * into the models (strict: every parameter filled, nothing left over).
 * The optimizer state is cleared. A failure leaves every parameter as it
 * was. Errors: TL_E_NOT_FOUND (a parameter without a tensor or a tensor
 * without a parameter, named), TL_E_SHAPE, those of tl_ckpt_load and
 * tl_ckpt_restore_model. */
TL_API tl_status tl_learner_load(tl_learner *learner, const char *path);

#ifdef TL_EXPERIMENTAL_API
/* ------------------------------------------------------------------------
 * LR range test on the learner (fastai Learner.lr_find), experimental as
 * tl_lr_find underneath (tl/plan.h): each iteration runs one training step
 * of the learner (its batches, loss, AR/TAR, callbacks' gradient
 * clipping), every learner group at the same rate; afterwards the models,
 * the optimizer state and its hyperparameters are restored exactly.
 * ------------------------------------------------------------------------ */

/* Runs the test (options NULL: fastai's defaults) and writes the record
 * (rates and smoothed losses, up to capacity >= num_it points) and the
 * suggestions (minimum, steep, valley) into *out (out->version set by the
 * caller), plus *out_falling_at_end (may be NULL): 1 when the test ran to
 * end_lr without diverging and the smoothed loss was still at its lowest
 * in the last 5% of the points (at least the last 2): the range should go
 * further. csv_path (may be NULL) receives the record as CSV "lr,loss"
 * with one row per point and the suggestions as comment lines starting
 * with '#' (docs/plot_lr_find.py plots it). Errors: those of tl_lr_find,
 * TL_E_STATE (no training data), TL_E_IO (the CSV). */
TL_API tl_status tl_learner_lr_find(tl_lr_find_result *out,
                                    int *out_falling_at_end, double *out_lrs,
                                    double *out_losses, size_t capacity,
                                    tl_learner *learner,
                                    const tl_lr_find_options *options,
                                    const char *csv_path);
#endif /* TL_EXPERIMENTAL_API */

#ifdef __cplusplus
}
#endif

#endif /* TL_LEARN_H */
