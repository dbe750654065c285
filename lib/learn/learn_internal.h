/* Internal: the layout of a tl_learner, shared by learn.c (creation,
 * groups, data, metrics, history, saving), fit.c (the loops) and
 * lr_find.c. */
#ifndef TLI_LEARN_INTERNAL_H
#define TLI_LEARN_INTERNAL_H

#include "tl/learn.h"

/* Where a batch source's batches come from. */
typedef enum tli_src_kind {
  TLI_SRC_NONE = 0,
  TLI_SRC_HOST = 1,
  TLI_SRC_LM = 2,
  TLI_SRC_CLAS = 3
} tli_src_kind;

/* One batch source (training or validation) as the learner reads it. */
typedef struct tli_src {
  tli_src_kind kind;
  tl_batch_source host; /* TLI_SRC_HOST */
  tl_lm_loader *lm;     /* TLI_SRC_LM (borrowed) */
  size_t lm_batch;      /* B of the LM loader */
  tl_clas_loader *clas; /* TLI_SRC_CLAS (borrowed) */
  size_t *doc_lens;     /* CLAS: copies of the documents' lengths, or NULL */
  size_t n_docs;        /* CLAS: entries of doc_lens */
  size_t max_len;       /* CLAS: 0 or the loader's max_len */
  size_t *batch_lens;   /* CLAS: the current batch's lengths */
  size_t batch_lens_cap;
  uint64_t n_batches; /* per epoch, 0 unknown */
  int reset_state;    /* reset stateful layers before each pass */
  int mid_epoch;      /* a pass stopped before the end of the epoch */
} tli_src;

/* What each metric column computes. */
typedef enum tli_metric_kind {
  TLI_METRIC_ACCURACY = 0,
  TLI_METRIC_MACRO_F1 = 1,
  TLI_METRIC_PERPLEXITY = 2,
  TLI_METRIC_HOST = 3
} tli_metric_kind;

typedef struct tli_metric {
  tli_metric_kind kind;
  size_t n_classes;    /* MACRO_F1 */
  tl_host_metric host; /* HOST (name points to `name`) */
  char *name;          /* owned copy */
} tli_metric;

/* The callbacks a learner runs, built-in or host. */
typedef enum tli_cb_kind {
  TLI_CB_HOST = 0,
  TLI_CB_CLIP = 1,
  TLI_CB_ACCUM = 2,
  TLI_CB_EARLY_STOP = 3,
  TLI_CB_SAVE_MODEL = 4,
  TLI_CB_CSV = 5
} tli_cb_kind;

typedef struct tli_cb {
  tli_cb_kind kind;
  tl_callback host; /* HOST */
  char *name;       /* owned: the host's name, or the built-in's */
  double max_norm;  /* CLIP */
  size_t n_acc;     /* ACCUM */
  /* EARLY_STOP, SAVE_MODEL */
  char *monitor;
  tl_learner_compare comp;
  double min_delta;
  uint64_t patience;
  size_t column; /* the monitor's history column, found at fit start */
  double best;
  uint64_t wait;
  char *path; /* SAVE_MODEL, CSV */
  int append; /* CSV */
  void *file; /* CSV: the FILE open during a fit */
} tli_cb;

struct tl_learner {
  tl_model **models;
  size_t n_models;
  tl_learner_options opts;
  tl_optim *optim;

  /* Grouping. n_opt_groups optimizer groups, each mapped to the learner
   * group opt_lg[o]; opt_model[o] and opt_mgroup[o] say which model group
   * it is. In custom mode (after tl_learner_set_group) lgroup[m][l] is the
   * learner group of layer l of models[m]. */
  int custom;
  size_t **lgroup;
  size_t *n_layers;    /* per model, when the optimizer was built */
  size_t *n_mgroups;   /* per model, when the optimizer was built */
  size_t *n_params;    /* per model, when the optimizer was built */
  int regroup;         /* the custom grouping changed: rebuild */
  size_t n_opt_groups; /* of the current optimizer */
  size_t *opt_lg, *opt_model, *opt_mgroup;
  size_t n_groups; /* learner groups */

  tli_src train, valid;
  tl_loss_fn loss_fn;
  void *loss_payload;

  tli_metric *metrics;
  size_t n_metrics;
  char **columns; /* history column names: 4 + n_metrics */

  tli_cb *cbs;
  size_t n_cbs;
  tl_reporter **reporters;
  size_t n_reporters;

  double *history; /* rows of (4 + n_metrics) values */
  size_t hist_rows, hist_cap;

  /* Run-time buffers, grown on the first use at a size. */
  float *dy;
  size_t dy_cap;
  double *lg_lrs;  /* n_groups */
  double *opt_lrs; /* n_opt_groups */
  double *opt_base;
  int64_t *f1_pred, *f1_target; /* validation predictions for macro-F1 */
  size_t f1_n, f1_cap;
  double *metric_values; /* n_metrics */
  int lengths_set;       /* some model has lengths from the last batch */
  size_t *odims;         /* output dims of each model's last forward */
  size_t *ondim;         /* (TL_MODEL_MAX_DIMS per model) and ndim */

  /* The running fit. */
  int in_fit;
  int stop_requested;
  tl_learner_state state;
  double smooth_avg; /* fastai AvgSmoothLoss, not debiased */
  uint64_t smooth_n;
  size_t acc_count; /* batches accumulated since the last step */
};

/* Brings the optimizer in line with the grouping and the models' current
 * structure (rebuilding it when either changed). */
tl_status tli_learner_sync(tl_learner *l, const char *fn);

/* Grows a buffer of `count` elements of `size` bytes to at least `need`. */
tl_status tli_learner_grow(void **buf, size_t *cap, size_t need, size_t size,
                           const char *fn);

#endif
