/* Progress tracking and reporting (include/tl/progress.h): the numbers
 * fastprogress and fastai's Recorder show, with reporters for a terminal,
 * a pipe and CSV files. Nothing here is on a numeric hot path; a step
 * formats one short line at most. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "tl/progress.h"

#define TLI_MAX_REPORTERS 8

typedef enum tli_rkind { TLI_R_TERMINAL, TLI_R_CSV } tli_rkind;

struct tl_reporter {
  tli_rkind kind;
  FILE *out;             /* terminal */
  int redraw;            /* terminal: \r mode */
  size_t last_width;     /* terminal: length of the line on screen */
  int table_header_done; /* terminal and CSV epochs */
  FILE *steps, *epochs;  /* CSV */
  int steps_header_done;
};

struct tl_progress {
  tl_progress_options opts;
  tl_reporter *reporters[TLI_MAX_REPORTERS];
  size_t n_reporters;
  double start, epoch_start;
  double avg;        /* moving average, not debiased */
  uint64_t n_smooth; /* training losses seen */
  uint64_t epoch;    /* epochs ended */
  uint64_t step[2];  /* steps of this epoch per stage */
  uint64_t done;     /* all steps so far */
};

static double tli_monotonic(void *payload) {
  (void)payload;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

TLI_VERSION_SIZES(tl_progress_options_sizes, TL_PROGRESS_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_progress_options,
                                clock_payload)); /* version 1 */

tl_status tl_progress_options_init(tl_progress_options *out,
                                   unsigned int version) {
  static const tl_progress_options defaults = TL_PROGRESS_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_progress_options_sizes,
                          "tl_progress_options_init");
}

tl_status tl_progress_create(tl_progress **out,
                             const tl_progress_options *options) {
  const char *fn = "tl_progress_create";
  TLI_CHECK_PTR(fn, out);
  tl_progress_options options_copy = TL_PROGRESS_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, tl_progress_options_sizes,
                             fn, "options"));
  options = &options_copy;
  TLI_CHECK(options->n_epochs >= 1, TL_E_INVALID_ARG,
            "%s: options->n_epochs must be >= 1 (got 0)", fn);
  TLI_CHECK(options->smooth_beta >= 0.0 && options->smooth_beta < 1.0,
            TL_E_INVALID_ARG,
            "%s: options->smooth_beta must be in [0, 1) (got %g)", fn,
            options->smooth_beta);
  tl_progress *p = NULL;
  TLI_TRY(tli_alloc_checked((void **)&p, 1, sizeof *p, fn));
  memset(p, 0, sizeof *p);
  p->opts = options_copy;
  if (p->opts.clock == NULL)
    p->opts.clock = tli_monotonic;
  p->start = p->epoch_start = p->opts.clock(p->opts.clock_payload);
  *out = p;
  return TL_OK;
}

void tl_progress_free(tl_progress *progress) { tli_free(progress); }

tl_status tl_progress_add_reporter(tl_progress *progress,
                                   tl_reporter *reporter) {
  TLI_CHECK_PTR("tl_progress_add_reporter", progress);
  TLI_CHECK_PTR("tl_progress_add_reporter", reporter);
  TLI_CHECK(progress->n_reporters < TLI_MAX_REPORTERS, TL_E_INVALID_ARG,
            "tl_progress_add_reporter: at most %d reporters",
            TLI_MAX_REPORTERS);
  progress->reporters[progress->n_reporters++] = reporter;
  return TL_OK;
}

/* mm:ss as fastai formats times (hh:mm:ss past an hour). */
static void tli_fmt_time(char *buf, size_t cap, double s) {
  if (!(s >= 0.0) || s > 1e9) {
    snprintf(buf, cap, "--:--");
    return;
  }
  const unsigned long t = (unsigned long)(s + 0.5);
  if (t >= 3600)
    snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, cap, "%02lu:%02lu", t / 60, t % 60);
}

static void tli_term_step(tl_reporter *r, const tl_progress_record *rec) {
  char line[256], el[32], rem[32];
  tli_fmt_time(el, sizeof el, rec->elapsed);
  tli_fmt_time(rem, sizeof rem, rec->remaining);
  const char *stage = rec->stage == TL_PROGRESS_STAGE_TRAIN ? "train" : "valid";
  int n;
  if (rec->total_steps)
    n = snprintf(
        line, sizeof line, "epoch %llu/%llu %s %llu/%llu loss %.4f smooth %.4f",
        (unsigned long long)rec->epoch + 1, (unsigned long long)rec->n_epochs,
        stage, (unsigned long long)rec->step,
        (unsigned long long)rec->total_steps, rec->loss, rec->smooth_loss);
  else
    n = snprintf(
        line, sizeof line, "epoch %llu/%llu %s %llu loss %.4f smooth %.4f",
        (unsigned long long)rec->epoch + 1, (unsigned long long)rec->n_epochs,
        stage, (unsigned long long)rec->step, rec->loss, rec->smooth_loss);
  if (n > 0 && rec->n_lrs > 0 && (size_t)n < sizeof line)
    n += snprintf(line + n, sizeof line - (size_t)n, " lr %.2e",
                  rec->lrs[rec->n_lrs - 1]);
  if (n > 0 && (size_t)n < sizeof line)
    snprintf(line + n, sizeof line - (size_t)n, " [%s<%s]", el, rem);
  const size_t len = strlen(line);
  if (r->redraw) {
    /* Blank out what a longer previous line left. */
    fprintf(r->out, "\r%s%*s", line,
            (int)(r->last_width > len ? r->last_width - len : 0), "");
    r->last_width = len;
  } else {
    /* A plain line at every tenth of the stage, and at its last step. */
    const uint64_t every = rec->total_steps >= 10 ? rec->total_steps / 10 : 1;
    if (rec->step % every == 0 || rec->step == rec->total_steps)
      fprintf(r->out, "%s\n", line);
  }
  fflush(r->out);
}

static void tli_term_epoch(tl_reporter *r, const tl_epoch_record *rec) {
  if (r->redraw && r->last_width) {
    fprintf(r->out, "\r%*s\r", (int)r->last_width, "");
    r->last_width = 0;
  }
  if (!r->table_header_done) {
    fprintf(r->out, "%-7s%-12s%-12s", "epoch", "train_loss", "valid_loss");
    for (size_t k = 0; k < rec->n_metrics; k++)
      fprintf(r->out, "%-12s", rec->metric_names[k]);
    fprintf(r->out, "%s\n", "time");
    r->table_header_done = 1;
  }
  char t[32];
  tli_fmt_time(t, sizeof t, rec->seconds);
  fprintf(r->out, "%-7llu%-12.6f", (unsigned long long)rec->epoch,
          rec->train_loss);
  if (isnan(rec->valid_loss))
    fprintf(r->out, "%-12s", "None");
  else
    fprintf(r->out, "%-12.6f", rec->valid_loss);
  for (size_t k = 0; k < rec->n_metrics; k++)
    fprintf(r->out, "%-12.6f", rec->metrics[k]);
  fprintf(r->out, "%s\n", t);
  fflush(r->out);
}

static void tli_csv_step(tl_reporter *r, const tl_progress_record *rec) {
  if (!r->steps)
    return;
  if (!r->steps_header_done) {
    fprintf(r->steps, "stage,epoch,step,total_steps,loss,smooth_loss,"
                      "elapsed,remaining");
    for (size_t k = 0; k < rec->n_lrs; k++)
      fprintf(r->steps, ",lr_%zu", k);
    fprintf(r->steps, "\n");
    r->steps_header_done = 1;
  }
  fprintf(r->steps, "%s,%llu,%llu,%llu,%.17g,%.17g,%.6f,%.6f",
          rec->stage == TL_PROGRESS_STAGE_TRAIN ? "train" : "valid",
          (unsigned long long)rec->epoch, (unsigned long long)rec->step,
          (unsigned long long)rec->total_steps, rec->loss, rec->smooth_loss,
          rec->elapsed, rec->remaining);
  for (size_t k = 0; k < rec->n_lrs; k++)
    fprintf(r->steps, ",%.17g", rec->lrs[k]);
  fprintf(r->steps, "\n");
}

static void tli_csv_epoch(tl_reporter *r, const tl_epoch_record *rec) {
  if (!r->epochs)
    return;
  if (!r->table_header_done) {
    fprintf(r->epochs, "epoch,train_loss,valid_loss");
    for (size_t k = 0; k < rec->n_metrics; k++)
      fprintf(r->epochs, ",%s", rec->metric_names[k]);
    fprintf(r->epochs, ",time\n");
    r->table_header_done = 1;
  }
  char t[32];
  tli_fmt_time(t, sizeof t, rec->seconds);
  fprintf(r->epochs, "%llu,%.17g,", (unsigned long long)rec->epoch,
          rec->train_loss);
  if (!isnan(rec->valid_loss))
    fprintf(r->epochs, "%.17g", rec->valid_loss);
  for (size_t k = 0; k < rec->n_metrics; k++)
    fprintf(r->epochs, ",%.17g", rec->metrics[k]);
  fprintf(r->epochs, ",%s\n", t);
  fflush(r->epochs);
}

tl_status tl_progress_step(tl_progress *progress, tl_progress_stage stage,
                           double loss, const double *lrs, size_t n_lrs) {
  const char *fn = "tl_progress_step";
  TLI_CHECK_PTR(fn, progress);
  TLI_CHECK(stage == TL_PROGRESS_STAGE_TRAIN ||
                stage == TL_PROGRESS_STAGE_VALID,
            TL_E_INVALID_ARG, "%s: stage %d is not a tl_progress_stage", fn,
            (int)stage);
  TLI_CHECK(lrs != NULL || n_lrs == 0, TL_E_INVALID_ARG,
            "%s: argument 'lrs' is NULL with n_lrs %zu", fn, n_lrs);
  TLI_CHECK(isfinite(loss), TL_E_NUMERIC, "%s: loss is %g", fn, loss);
  tl_progress *p = progress;
  TLI_CHECK(p->epoch < p->opts.n_epochs, TL_E_STATE,
            "%s: all %llu epochs have ended", fn,
            (unsigned long long)p->opts.n_epochs);
  const double beta = p->opts.smooth_beta;
  if (stage == TL_PROGRESS_STAGE_TRAIN) {
    /* fastai's AvgSmoothLoss: val.lerp(loss, 1 - beta), debiased by
     * 1 - beta^count. */
    p->avg = beta * p->avg + (1.0 - beta) * loss;
    p->n_smooth++;
  }
  p->step[stage]++;
  p->done++;
  const double now = p->opts.clock(p->opts.clock_payload);
  tl_progress_record rec;
  rec.version = TL_PROGRESS_RECORD_VERSION;
  rec.stage = stage;
  rec.epoch = p->epoch;
  rec.n_epochs = p->opts.n_epochs;
  rec.step = p->step[stage];
  rec.total_steps = stage == TL_PROGRESS_STAGE_TRAIN ? p->opts.train_steps
                                                     : p->opts.valid_steps;
  rec.loss = loss;
  rec.smooth_loss =
      p->n_smooth ? p->avg / (1.0 - pow(beta, (double)p->n_smooth)) : NAN;
  rec.lrs = lrs;
  rec.n_lrs = n_lrs;
  rec.elapsed = now - p->start;
  const uint64_t per_epoch = p->opts.train_steps + p->opts.valid_steps;
  const double total = (double)per_epoch * (double)p->opts.n_epochs;
  rec.remaining =
      p->opts.train_steps && total >= (double)p->done
          ? rec.elapsed / (double)p->done * (total - (double)p->done)
          : NAN;
  if (p->opts.on_step)
    p->opts.on_step(p->opts.payload, &rec);
  for (size_t k = 0; k < p->n_reporters; k++) {
    tl_reporter *r = p->reporters[k];
    if (r->kind == TLI_R_TERMINAL)
      tli_term_step(r, &rec);
    else
      tli_csv_step(r, &rec);
  }
  return TL_OK;
}

tl_status tl_progress_end_epoch(tl_progress *progress, double valid_loss,
                                const char *const *metric_names,
                                const double *metrics, size_t n_metrics) {
  const char *fn = "tl_progress_end_epoch";
  TLI_CHECK_PTR(fn, progress);
  TLI_CHECK((metric_names != NULL && metrics != NULL) || n_metrics == 0,
            TL_E_INVALID_ARG,
            "%s: metric_names or metrics is NULL with n_metrics %zu", fn,
            n_metrics);
  for (size_t k = 0; k < n_metrics; k++)
    TLI_CHECK(metric_names[k] != NULL, TL_E_INVALID_ARG,
              "%s: metric_names[%zu] is NULL", fn, k);
  tl_progress *p = progress;
  TLI_CHECK(p->epoch < p->opts.n_epochs, TL_E_STATE,
            "%s: all %llu epochs have ended", fn,
            (unsigned long long)p->opts.n_epochs);
  const double now = p->opts.clock(p->opts.clock_payload);
  const double beta = p->opts.smooth_beta;
  tl_epoch_record rec;
  rec.version = TL_EPOCH_RECORD_VERSION;
  rec.epoch = p->epoch;
  rec.train_loss =
      p->n_smooth ? p->avg / (1.0 - pow(beta, (double)p->n_smooth)) : NAN;
  rec.valid_loss = valid_loss;
  rec.metric_names = metric_names;
  rec.metrics = metrics;
  rec.n_metrics = n_metrics;
  rec.seconds = now - p->epoch_start;
  if (p->opts.on_epoch)
    p->opts.on_epoch(p->opts.payload, &rec);
  for (size_t k = 0; k < p->n_reporters; k++) {
    tl_reporter *r = p->reporters[k];
    if (r->kind == TLI_R_TERMINAL)
      tli_term_epoch(r, &rec);
    else
      tli_csv_epoch(r, &rec);
  }
  p->epoch++;
  p->step[0] = p->step[1] = 0;
  p->epoch_start = now;
  return TL_OK;
}

tl_status tl_reporter_create_terminal(tl_reporter **out, FILE *stream,
                                      tl_reporter_mode mode) {
  const char *fn = "tl_reporter_create_terminal";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(mode == TL_REPORTER_MODE_AUTO || mode == TL_REPORTER_MODE_REDRAW ||
                mode == TL_REPORTER_MODE_LINES,
            TL_E_INVALID_ARG, "%s: mode %d is not a tl_reporter_mode", fn,
            (int)mode);
  tl_reporter *r = NULL;
  TLI_TRY(tli_alloc_checked((void **)&r, 1, sizeof *r, fn));
  memset(r, 0, sizeof *r);
  r->kind = TLI_R_TERMINAL;
  r->out = stream ? stream : stderr;
  r->redraw = mode == TL_REPORTER_MODE_REDRAW ||
              (mode == TL_REPORTER_MODE_AUTO && isatty(fileno(r->out)));
  *out = r;
  return TL_OK;
}

tl_status tl_reporter_create_csv(tl_reporter **out, const char *steps_path,
                                 const char *epochs_path) {
  const char *fn = "tl_reporter_create_csv";
  TLI_CHECK_PTR(fn, out);
  FILE *s = NULL, *e = NULL;
  if (steps_path) {
    s = fopen(steps_path, "w");
    if (s == NULL)
      return tli_fail(TL_E_IO, "%s: cannot open '%s': %s", fn, steps_path,
                      strerror(errno));
  }
  if (epochs_path) {
    e = fopen(epochs_path, "w");
    if (e == NULL) {
      const int err = errno;
      if (s)
        fclose(s);
      return tli_fail(TL_E_IO, "%s: cannot open '%s': %s", fn, epochs_path,
                      strerror(err));
    }
  }
  tl_reporter *r = NULL;
  const tl_status st = tli_alloc_checked((void **)&r, 1, sizeof *r, fn);
  if (st != TL_OK) {
    if (s)
      fclose(s);
    if (e)
      fclose(e);
    return st;
  }
  memset(r, 0, sizeof *r);
  r->kind = TLI_R_CSV;
  r->steps = s;
  r->epochs = e;
  *out = r;
  return TL_OK;
}

void tl_reporter_free(tl_reporter *reporter) {
  if (reporter == NULL)
    return;
  if (reporter->kind == TLI_R_TERMINAL) {
    if (reporter->redraw && reporter->last_width)
      fputc('\n', reporter->out);
    fflush(reporter->out);
  } else {
    if (reporter->steps)
      fclose(reporter->steps);
    if (reporter->epochs)
      fclose(reporter->epochs);
  }
  tli_free(reporter);
}
