/*
 * libtl progress: what fastai's fastprogress shows while a model trains.
 * A tl_progress tracker is told each step's loss and learning rates and
 * each epoch's results; it computes the smoothed loss (fastai's
 * AvgSmoothLoss: exponential moving average with beta 0.98, debiased),
 * elapsed and estimated remaining time, and hands records to callbacks
 * and to reporters: the terminal reporter (one line redrawn with \r on a
 * terminal, plain lines on a pipe, and fastai's epoch table) and the CSV
 * reporter. See docs/text.md ("Progress").
 */
#ifndef TL_PROGRESS_H
#define TL_PROGRESS_H

#include <stdio.h>

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which loop a step belongs to (tl_progress_step); each stage counts its
 * own steps within an epoch. */
typedef enum tl_progress_stage {
  /* A training step: its loss also updates the smoothed loss. */
  TL_PROGRESS_STAGE_TRAIN = 0,
  /* A validation step: counted and reported, the smoothed loss untouched. */
  TL_PROGRESS_STAGE_VALID = 1
} tl_progress_stage;

/* One step, filled by libtl and handed to callbacks. Views (lrs) are
 * valid during the callback only. A later version only appends fields;
 * `version` says which ones this libtl filled, so a callback built against
 * newer headers can tell when it runs on an older libtl. */
#define TL_PROGRESS_RECORD_VERSION 1
typedef struct tl_progress_record {
  unsigned int version;    /* TL_PROGRESS_RECORD_VERSION of the libtl running */
  tl_progress_stage stage; /* the stage given to tl_progress_step */
  uint64_t epoch;          /* from 0 */
  uint64_t n_epochs;       /* options->n_epochs */
  uint64_t step;           /* steps done in this epoch and stage, from 1 */
  uint64_t total_steps;    /* steps of this epoch and stage */
  double loss;             /* this step's */
  double smooth_loss;      /* debiased moving average of the training loss */
  const double *lrs;       /* learning rate per layer group */
  size_t n_lrs;            /* entries of lrs (0: none given) */
  double elapsed;          /* seconds since the tracker started */
  double remaining; /* estimate for the whole run, seconds: elapsed / steps
                     * done * steps left (NaN when train_steps is 0) */
} tl_progress_record;

/* One epoch, in fastai's table: epoch, train_loss (the smoothed loss at
 * the epoch's end, as fastai's Recorder shows), valid_loss, metrics, time.
 * Filled by libtl and handed to callbacks; views valid during the callback
 * only. `version` as in tl_progress_record. */
#define TL_EPOCH_RECORD_VERSION 1
typedef struct tl_epoch_record {
  unsigned int version; /* TL_EPOCH_RECORD_VERSION of the libtl running */
  uint64_t epoch;       /* from 0 */
  double train_loss;    /* the smoothed loss now (NaN before any training) */
  double valid_loss;    /* NaN when there was no validation */
  const char *const *metric_names; /* n_metrics names, as given */
  const double *metrics;           /* n_metrics values, as given */
  size_t n_metrics;                /* entries of metric_names and metrics */
  double seconds;                  /* the epoch's duration */
} tl_epoch_record;

/* Called by tl_progress_step, on the calling thread, before the
 * reporters, with options->payload first; rec and its views are valid
 * during the call only. */
typedef void (*tl_progress_fn)(void *payload, const tl_progress_record *rec);
/* Called by tl_progress_end_epoch as tl_progress_fn is by a step. */
typedef void (*tl_epoch_fn)(void *payload, const tl_epoch_record *rec);
/* A clock in seconds (monotonic); tests pass their own. */
typedef double (*tl_clock_fn)(void *payload);

/* A progress tracker (opaque): the counters, the smoothed loss and the
 * reporters it feeds. One thread at a time: callbacks and reporters run
 * inside its calls. */
typedef struct tl_progress tl_progress;
/* Where records are written (opaque): a terminal or CSV files. A reporter
 * may be added to several trackers that run one at a time. */
typedef struct tl_reporter tl_reporter;

/* Options of tl_progress_create: the run's shape, the callbacks and the
 * clock. */
#define TL_PROGRESS_OPTIONS_VERSION 1
typedef struct tl_progress_options {
  unsigned int version;   /* TL_PROGRESS_OPTIONS_VERSION */
  uint64_t n_epochs;      /* 1 */
  uint64_t train_steps;   /* training steps per epoch: 0 = unknown */
  uint64_t valid_steps;   /* validation steps per epoch: 0 */
  double smooth_beta;     /* 0.98 (fastai) */
  tl_progress_fn on_step; /* NULL */
  tl_epoch_fn on_epoch;   /* NULL */
  void *payload;          /* passed to on_step and on_epoch */
  tl_clock_fn clock;      /* NULL: CLOCK_MONOTONIC */
  void *clock_payload;    /* passed to clock */
} tl_progress_options;
/* The defaults of tl_progress_options_init as a static initialiser:
 * tl_progress_options o = TL_PROGRESS_OPTIONS_INIT; */
#define TL_PROGRESS_OPTIONS_INIT                                               \
  { TL_PROGRESS_OPTIONS_VERSION, 1, 0, 0, 0.98, NULL, NULL, NULL, NULL, NULL }

/* Fills *out with the defaults above (one epoch, unknown step counts,
 * beta 0.98, no callbacks, the monotonic clock) for `version`, writing
 * only the bytes that version defines. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version outside 1..TL_PROGRESS_OPTIONS_VERSION).
 */
TL_API tl_status tl_progress_options_init(tl_progress_options *out,
                                          unsigned int version);
/* A tracker whose clock starts now (options NULL: defaults; copied, but the
 * payloads and callbacks are the caller's and must stay valid while the
 * tracker is used). The caller owns *out: release it with
 * tl_progress_free. Errors: TL_E_INVALID_ARG (out NULL, n_epochs 0,
 * smooth_beta outside [0, 1)), TL_E_UNSUPPORTED (options->version
 * unknown), TL_E_NOMEM. */
TL_API tl_status tl_progress_create(tl_progress **out,
                                    const tl_progress_options *options);
/* Frees the tracker, not its reporters. NULL is a no-op. */
TL_API void tl_progress_free(tl_progress *progress);

/* Adds a reporter (kept by reference: it must outlive the tracker's use).
 * Errors: TL_E_INVALID_ARG, TL_E_NOMEM. */
TL_API tl_status tl_progress_add_reporter(tl_progress *progress,
                                          tl_reporter *reporter);

/* One step of `stage` with its loss (a training loss also updates the
 * smoothed loss) and the learning rate of each layer group (read during
 * the call only). Calls on_step, then each reporter, with the step's
 * tl_progress_record. Errors: TL_E_INVALID_ARG (bad stage, lrs NULL with
 * n_lrs > 0), TL_E_NUMERIC (loss NaN or Inf: the smoothed loss is left as
 * it was), TL_E_STATE (all n_epochs already ended); nothing is counted or
 * reported on error. */
TL_API tl_status tl_progress_step(tl_progress *progress,
                                  tl_progress_stage stage, double loss,
                                  const double *lrs, size_t n_lrs);

/* Ends the epoch: emits its tl_epoch_record (valid_loss NaN if none) and
 * starts the next. Errors: TL_E_INVALID_ARG (names or values NULL with
 * n_metrics > 0), TL_E_STATE (all n_epochs already ended). */
TL_API tl_status tl_progress_end_epoch(tl_progress *progress, double valid_loss,
                                       const char *const *metric_names,
                                       const double *metrics, size_t n_metrics);

/* ---- reporters ------------------------------------------------------------
 */

/* How the terminal reporter shows steps (tl_reporter_create_terminal). */
typedef enum tl_reporter_mode {
  TL_REPORTER_MODE_AUTO = 0,   /* REDRAW on a terminal, else LINES */
  TL_REPORTER_MODE_REDRAW = 1, /* one line rewritten with \r per step */
  TL_REPORTER_MODE_LINES = 2   /* a plain line every tenth of an epoch */
} tl_reporter_mode;

/* Writes to stream (NULL: stderr), which must outlive the reporter.
 * Every mode prints fastai's epoch table (a header, then one row per
 * epoch). Errors: TL_E_INVALID_ARG, TL_E_NOMEM. */
TL_API tl_status tl_reporter_create_terminal(tl_reporter **out, FILE *stream,
                                             tl_reporter_mode mode);

/* CSV files: steps_path gets one row per step (stage, epoch, step,
 * total_steps, loss, smooth_loss, elapsed, remaining, lr_0, lr_1, ...),
 * epochs_path one row per epoch (epoch, train_loss, valid_loss, metrics...,
 * time); either may be NULL. Files are created (truncated) now. Errors:
 * TL_E_INVALID_ARG, TL_E_IO (naming the path and the OS's reason),
 * TL_E_NOMEM. */
TL_API tl_status tl_reporter_create_csv(tl_reporter **out,
                                        const char *steps_path,
                                        const char *epochs_path);
/* Flushes and closes what the reporter opened. */
TL_API void tl_reporter_free(tl_reporter *reporter);

#ifdef __cplusplus
}
#endif

#endif /* TL_PROGRESS_H */
