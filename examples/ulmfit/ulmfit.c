/* The ULMFiT example end to end (docs/ulmfit.md): fastai's walk-through
 * redone in C on the shipped Brown and nlp-corpus data, with the baselines
 * a reviewer asks for.
 *
 *   stage 1  the general-domain AWD-LSTM LM: the shipped checkpoint, or
 *            pretrained from scratch with --full (pretrain.c)
 *   stage 2  the LM fine-tuned on the target documents (lm.c)
 *   stage 3  the classifier: load_encoder, gradual unfreezing (classify.c)
 *   stage 4  baselines: no LM fine-tuning, from scratch, feature
 *            extraction, bag of words
 *   stage 5  domain similarity (similarity.c); accuracy and macro-F1 per
 *            method and labelled budget over seeds: table, CSV, JSON
 *   stage 6  predict: the exported classifier on passages from the command
 *            line or stdin
 *
 * Usage: ulmfit [options]            the pipeline (the demo by default)
 *        ulmfit predict [options] [TEXT...]  classify TEXTs (or stdin
 *                                    lines) with the exported classifier
 * Run with --help for the options. Every result row is cached in
 * WORK/runs.tsv under a key of its inputs and settings, so a stopped run
 * started again goes on where it was and a changed setting recomputes. */
#define TL_EXPERIMENTAL_API
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <tl/text_learner.h>
#include <tl/tl.h>

#include "bow.h"
#include "classify.h"
#include "corpora.h"
#include "lm.h"
#include "pretrain.h"
#include "similarity.h"
#include "task.h"

enum { MAX_BUDGETS = 8, MAX_SEEDS = 20, MAX_TEXTS = 64 };

/* The methods of the comparison, in the table's order. */
typedef enum method {
  M_ULMFIT = 0,   /* fine-tuned LM encoder, gradual unfreezing */
  M_NO_LM_FT = 1, /* the pretrained encoder, gradual unfreezing */
  M_SCRATCH = 2,  /* the same classifier from a random initialisation */
  M_FEATURES = 3, /* frozen pretrained encoder, linear classifier */
  M_BOW = 4,      /* tf-idf + logistic regression */
  M_COUNT = 5
} method;
static const char *const METHOD_NAMES[M_COUNT] = {
    "ulmfit", "no_lm_finetune", "scratch", "feature_extraction",
    "bag_of_words"};

typedef struct options {
  const char *data, *pretrained, *work, *json, *csv;
  int quick, full, assert_transfer, similarity, verbose, report_only;
  int threads, n_seeds;
  size_t budgets[MAX_BUDGETS], n_budgets; /* 0 means all labels */
  size_t main_budget;
  size_t lm_docs;  /* target documents for stage 2 (0: all) */
  size_t test_max; /* test passages evaluated (0: all) */
  int run_method[M_COUNT];
  ul_lm_settings lm;
  ul_clas_settings clas;
  const char *texts[MAX_TEXTS];
  size_t n_texts;
  int predict_only;
} options;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: ulmfit [--quick | --full] [--data DIR] [--pretrained FILE]\n"
          "              [--work DIR] [--json PATH] [--csv PATH] "
          "[--threads N]\n"
          "              [--budgets 25,50,100,all] [--seeds N] "
          "[--lm-epochs N]\n"
          "              [--lm-docs N] [--lm-bs N] [--test-max N] "
          "[--no-similarity]\n"
          "              [--methods ulmfit,no_lm_finetune,scratch,"
          "feature_extraction,bag_of_words]\n"
          "              [--assert-transfer] [--report-only] "
          "[--predict TEXT]...\n"
          "       ulmfit predict [--work DIR] [TEXT...]   (no TEXT: one "
          "passage per stdin line)\n"
          "  default   the demo: the shipped LM, 100 labels per class, one "
          "seed, every method\n"
          "  --quick   a small budget (50 labels per class, 8 target "
          "documents for the LM,\n"
          "            300 test passages, ULMFiT, scratch and bag of words "
          "only) in about\n            two minutes\n"
          "  --full    pretrain the LM from scratch, then the learning curve "
          "25/50/100/all\n"
          "            over 3 seeds (hours; resumable)\n"
          "  --report-only  the table, CSV and JSON of the rows cached in "
          "WORK/runs.tsv,\n"
          "            training nothing (a long run's results so far)\n");
}

static int parse_size(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || end == s || s[0] == '-')
    return -1;
  *out = (size_t)v;
  return 0;
}

static int parse_budgets(options *o, const char *s) {
  o->n_budgets = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    size_t v = 0;
    if (o->n_budgets == MAX_BUDGETS)
      return -1;
    if (strcmp(tok, "all") != 0 && (parse_size(tok, &v) || v == 0))
      return -1;
    o->budgets[o->n_budgets++] = v;
  }
  return o->n_budgets ? 0 : -1;
}

/* "--methods ulmfit,scratch": only these, by the table's names. */
static int parse_methods(options *o, const char *s) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  int any = 0;
  for (int m = 0; m < M_COUNT; m++)
    o->run_method[m] = 0;
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    int found = 0;
    for (int m = 0; m < M_COUNT; m++)
      if (!strcmp(tok, METHOD_NAMES[m]))
        o->run_method[m] = found = any = 1;
    if (!found)
      return -1;
  }
  return any ? 0 : -1;
}

static void set_defaults(options *o) {
  memset(o, 0, sizeof *o);
  o->data = "data";
  o->pretrained = NULL; /* DATA/ulmfit_lm.tlc */
  o->work = "ulmfit_work";
  o->threads = 2;
  o->n_seeds = 1;
  o->budgets[0] = 100;
  o->n_budgets = 1;
  o->main_budget = 100;
  o->similarity = 1;
  o->verbose = 1;
  for (int m = 0; m < M_COUNT; m++)
    o->run_method[m] = 1;
  /* Stage 2: fastai's walk-through, fit_one_cycle(1, 2e-2) frozen, then
   * unfrozen fit_one_cycle(n, 2e-3) (the walk-through's 10 epochs of
   * IMDB-sized data are 1 here: the target documents are 0.3M tokens). */
  o->lm = (ul_lm_settings){.bs = 64,
                           .bptt = 70,
                           .frozen_epochs = 1,
                           .epochs = 1,
                           .lr_frozen = 2e-2,
                           .lr = 2e-3,
                           .wd = 0.01,
                           .drop_mult = 0.3f,
                           .seed = 0,
                           .threads = 2};
  ul_clas_settings_default(&o->clas);
}

static int parse_args(options *o, int argc, char **argv) {
  set_defaults(o);
  int i = 1;
  if (argc > 1 && !strcmp(argv[1], "predict")) {
    o->predict_only = 1;
    i = 2;
  }
  /* Modes first, so that explicit options override what they set. */
  for (int j = i; j < argc; j++) {
    if (!strcmp(argv[j], "--quick")) {
      o->quick = 1;
      o->budgets[0] = o->main_budget = 50;
      o->lm_docs = 8;
      o->test_max = 300;
      o->lm.frozen_epochs = 0;
      o->lm.epochs = 1;
      o->clas.min_steps = 0;
      o->clas.stage_epochs[3] = 1;
      o->run_method[M_FEATURES] = 0;
      o->run_method[M_NO_LM_FT] = 0;
      o->similarity = 0;
    } else if (!strcmp(argv[j], "--full")) {
      o->full = 1;
      o->n_seeds = 3;
      o->n_budgets = 4;
      o->budgets[0] = 25, o->budgets[1] = 50, o->budgets[2] = 100;
      o->budgets[3] = 0;
      o->lm.epochs = 4;
    }
  }
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    size_t n = 0;
    if (!strcmp(a, "--quick") || !strcmp(a, "--full"))
      continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    }
    if (!strcmp(a, "--assert-transfer")) {
      o->assert_transfer = 1;
      continue;
    }
    if (!strcmp(a, "--report-only")) {
      o->report_only = 1;
      o->similarity = 0;
      continue;
    }
    if (!strcmp(a, "--no-similarity")) {
      o->similarity = 0;
      continue;
    }
    if (!strcmp(a, "--quiet")) {
      o->verbose = 0;
      continue;
    }
    if (a[0] != '-' && o->predict_only) {
      if (o->n_texts == MAX_TEXTS) {
        fprintf(stderr, "ulmfit: at most %d texts\n", MAX_TEXTS);
        return -1;
      }
      o->texts[o->n_texts++] = a;
      continue;
    }
    if (!v) {
      fprintf(stderr, "ulmfit: %s needs a value (or is unknown)\n", a);
      return -1;
    }
    i++;
    int bad = 0;
    if (!strcmp(a, "--data"))
      o->data = v;
    else if (!strcmp(a, "--pretrained"))
      o->pretrained = v;
    else if (!strcmp(a, "--work"))
      o->work = v;
    else if (!strcmp(a, "--json"))
      o->json = v;
    else if (!strcmp(a, "--csv"))
      o->csv = v;
    else if (!strcmp(a, "--threads"))
      bad = parse_size(v, &n) || n == 0 || n > 256, o->threads = (int)n;
    else if (!strcmp(a, "--seeds"))
      bad = parse_size(v, &n) || n == 0 || n > MAX_SEEDS, o->n_seeds = (int)n;
    else if (!strcmp(a, "--budgets")) {
      bad = parse_budgets(o, v);
      if (!bad)
        o->main_budget = o->budgets[0];
    } else if (!strcmp(a, "--lm-epochs"))
      bad = parse_size(v, &n), o->lm.epochs = n;
    else if (!strcmp(a, "--lm-docs"))
      bad = parse_size(v, &o->lm_docs);
    else if (!strcmp(a, "--lm-bs")) /* small runs: examples/ulmfit.py's test */
      bad = parse_size(v, &o->lm.bs) || o->lm.bs == 0;
    else if (!strcmp(a, "--methods"))
      bad = parse_methods(o, v);
    else if (!strcmp(a, "--test-max"))
      bad = parse_size(v, &o->test_max);
    else if (!strcmp(a, "--predict")) {
      if (o->n_texts == MAX_TEXTS)
        bad = 1;
      else
        o->texts[o->n_texts++] = v;
    } else {
      fprintf(stderr, "ulmfit: unknown option %s\n", a);
      return -1;
    }
    if (bad) {
      fprintf(stderr, "ulmfit: %s: bad value '%s'\n", a, v);
      return -1;
    }
  }
  o->lm.threads = o->threads;
  return 0;
}

/* ---- the cache of result rows ------------------------------------------ */

typedef struct result {
  double accuracy, macro_f1, seconds;
} result;

static int runs_lookup(result *r, const char *path, const char *key) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char line[1024];
  int found = 0;
  const size_t klen = strlen(key);
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, key, klen) && line[klen] == '\t' &&
        sscanf(line + klen + 1, "%lf %lf %lf", &r->accuracy, &r->macro_f1,
               &r->seconds) == 3)
      found = 1; /* the last matching line wins */
  fclose(f);
  return found;
}

static int runs_append(const char *path, const char *key, const result *r) {
  FILE *f = fopen(path, "a");
  if (!f)
    return -1;
  fprintf(f, "%s\t%.17g %.17g %.17g\n", key, r->accuracy, r->macro_f1,
          r->seconds);
  /* One line per write and flushed: a killed run loses at most the row in
   * progress. */
  return fclose(f);
}

/* ---- the state of one run ---------------------------------------------- */

typedef struct pipeline {
  options *o;
  ul_corpora c;
  ul_task t;
  ul_pretrained p;
  char pretrained[4096], runs_path[4200], enc_pre[4200], enc_ft[4200];
  char export_path[4200];
  uint64_t config_hash;
  tl_reporter *rep;
  ul_features feat;
  int feat_open;
  /* Features of the training and test passages (pretrained encoder),
   * computed on first use: index into t's train / test sides. */
  float *train_x, *test_x;
  uint8_t *train_x_done;
  size_t n_test; /* test passages evaluated */
  double lm_ppl[2];
  result res[M_COUNT][MAX_BUDGETS][MAX_SEEDS];
  int have[M_COUNT][MAX_BUDGETS][MAX_SEEDS];
} pipeline;

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *b = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* Everything a result row depends on besides its method, budget and seed. */
static uint64_t config_hash(const pipeline *pl) {
  const options *o = pl->o;
  char buf[1024];
  snprintf(
      buf, sizeof buf,
      "pretrained=%016llx lm_docs=%zu test_max=%zu lm=%zu,%zu,%llu,%llu,"
      "%.17g,%.17g,%.17g,%.9g clas=%zu,%.17g,%.17g,%.9g,%zu,%.17g,%llu,%llu,"
      "%llu,%llu "
      "vocab=%zu",
      (unsigned long long)pl->p.fingerprint, o->lm_docs, o->test_max, o->lm.bs,
      o->lm.bptt, (unsigned long long)o->lm.frozen_epochs,
      (unsigned long long)o->lm.epochs, o->lm.lr_frozen, o->lm.lr, o->lm.wd,
      (double)o->lm.drop_mult, o->clas.bs, o->clas.lr, o->clas.lr_scratch,
      (double)o->clas.drop_mult, o->clas.min_steps, o->clas.wd,
      (unsigned long long)o->clas.stage_epochs[0],
      (unsigned long long)o->clas.stage_epochs[1],
      (unsigned long long)o->clas.stage_epochs[2],
      (unsigned long long)o->clas.stage_epochs[3], pl->t.vocab_size);
  return fnv(1469598103934665603ull, buf, strlen(buf));
}

/* The labelled subset of a budget and seed: indices into t's passages. */
static int subset(size_t *out, size_t *n_out, const pipeline *pl, size_t budget,
                  uint64_t seed) {
  const ul_task *t = &pl->t;
  const size_t n = t->n_side[UL_TRAIN];
  if (!budget) {
    memcpy(out, t->side_idx[UL_TRAIN], n * sizeof *out);
    *n_out = n;
    return 0;
  }
  size_t *pos = malloc(budget * UL_NUM_CLASSES * sizeof *pos);
  if (!pos)
    return -1;
  if (tl_text_subset_per_class(pos, budget * UL_NUM_CLASSES,
                               t->side_labels[UL_TRAIN], n, UL_NUM_CLASSES,
                               budget, seed) != TL_OK) {
    fprintf(stderr, "ulmfit: %s\n", tl_last_error());
    free(pos);
    return -1;
  }
  for (size_t i = 0; i < budget * UL_NUM_CLASSES; i++)
    out[i] = t->side_idx[UL_TRAIN][pos[i]];
  *n_out = budget * UL_NUM_CLASSES;
  free(pos);
  return 0;
}

/* Features of the train-side passages listed (passage indices) and, once,
 * of the evaluated test passages. */
static int ensure_features(pipeline *pl, const size_t *idx, size_t n, char *err,
                           size_t errcap) {
  ul_task *t = &pl->t;
  if (!pl->feat_open) {
    if (ul_features_open(&pl->feat, pl->pretrained, &pl->p, err, errcap))
      return -1;
    pl->feat_open = 1;
    const size_t dim = pl->feat.dim;
    pl->train_x = malloc(t->n * dim * sizeof *pl->train_x);
    pl->test_x = malloc(pl->n_test * dim * sizeof *pl->test_x);
    pl->train_x_done = calloc(t->n, 1);
    if (!pl->train_x || !pl->test_x || !pl->train_x_done)
      return snprintf(err, errcap, "out of memory"), -1;
    if (pl->o->verbose)
      fprintf(stderr, "feature extraction: encoding %zu test passages\n",
              pl->n_test);
    if (ul_features_compute(pl->test_x, &pl->feat, t->corpus,
                            t->side_idx[UL_TEST], pl->n_test, 0, err, errcap))
      return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const size_t j = idx[i];
    if (pl->train_x_done[j])
      continue;
    if (ul_features_compute(pl->train_x + j * pl->feat.dim, &pl->feat,
                            t->corpus, &j, 1, 0, err, errcap))
      return -1;
    pl->train_x_done[j] = 1;
  }
  return 0;
}

/* One result row: method m on budget b (index) with seed s. */
static int run_one(pipeline *pl, method m, size_t b, int s) {
  options *o = pl->o;
  ul_task *t = &pl->t;
  const size_t budget = o->budgets[b];
  char key[256], err[4800] = "";
  snprintf(key, sizeof key, "%s budget=%zu seed=%d config=%016llx",
           METHOD_NAMES[m], budget, s, (unsigned long long)pl->config_hash);
  result r;
  /* The run that exports the classifier for predict is redone if the
   * exported file is missing, damaged or from another run (its key file
   * names the row that wrote it). */
  const int export = m == M_ULMFIT && budget == o->main_budget && s == 0;
  if ((!export || o->report_only ||
       (ul_cache_valid(pl->export_path, key) &&
        ul_ckpt_readable(pl->export_path))) &&
      runs_lookup(&r, pl->runs_path, key)) {
    pl->res[m][b][s] = r;
    pl->have[m][b][s] = 1;
    return 0;
  }
  if (o->report_only)
    return 0; /* the table shows what is cached, nothing is trained */
  const size_t n_train_all = t->n_side[UL_TRAIN];
  size_t *train = malloc(n_train_all * sizeof *train);
  int64_t *pred = malloc(pl->n_test * sizeof *pred);
  int64_t *truth = malloc(pl->n_test * sizeof *truth);
  int64_t *y = malloc(n_train_all * sizeof *y);
  float *x = NULL;
  size_t n_train = 0;
  int rc = train && pred && truth && y ? 0 : -1;
  if (!rc)
    rc = subset(train, &n_train, pl, budget, (uint64_t)s);
  char bname[24];
  if (budget)
    snprintf(bname, sizeof bname, "%zu", budget);
  else
    snprintf(bname, sizeof bname, "all");
  if (!rc && o->verbose)
    fprintf(stderr, "\n== %s: %s labels per class (%zu passages), seed %d ==\n",
            METHOD_NAMES[m], bname, n_train, s);
  const double t0 = now();
  ul_clas_settings cs = o->clas;
  cs.seed = (uint64_t)s;
  /* The test passages evaluated: the first n_test of the test side. */
  ul_task view = *t;
  view.n_side[UL_TEST] = pl->n_test;
  if (!rc && (m == M_ULMFIT || m == M_NO_LM_FT || m == M_SCRATCH)) {
    const char *enc = m == M_ULMFIT     ? pl->enc_ft
                      : m == M_NO_LM_FT ? pl->enc_pre
                                        : NULL;
    rc = ul_classify(pred, truth, &view, &pl->p, train, n_train, enc, &cs,
                     pl->rep, export ? pl->export_path : NULL, err, sizeof err);
  } else if (!rc && m == M_FEATURES) {
    rc = ensure_features(pl, train, n_train, err, sizeof err);
    const size_t dim = pl->feat.dim;
    x = rc ? NULL : malloc(n_train * dim * sizeof *x);
    if (!rc && !x)
      rc = -1;
    for (size_t i = 0; !rc && i < n_train; i++) {
      memcpy(x + i * dim, pl->train_x + train[i] * dim, dim * sizeof *x);
      y[i] = t->labels[train[i]];
    }
    if (!rc)
      rc = ul_features_classify(pred, x, y, n_train, pl->test_x, pl->n_test,
                                dim, (uint64_t)s, err, sizeof err);
    for (size_t i = 0; !rc && i < pl->n_test; i++)
      truth[i] = t->side_labels[UL_TEST][i];
  } else if (!rc && m == M_BOW) {
    ul_bow_options bo;
    ul_bow_options_default(&bo);
    bo.seed = (uint64_t)s;
    rc = ul_bow_fit_predict(pred, t->corpus, t->labels, UL_NUM_CLASSES, train,
                            n_train, t->side_idx[UL_TEST], pl->n_test, &bo, err,
                            sizeof err);
    for (size_t i = 0; !rc && i < pl->n_test; i++)
      truth[i] = t->side_labels[UL_TEST][i];
  }
  if (!rc) {
    r.seconds = now() - t0;
    if (tl_classification_metrics(&r.accuracy, &r.macro_f1, NULL, NULL, NULL,
                                  UL_NUM_CLASSES, pred, truth,
                                  pl->n_test) != TL_OK) {
      snprintf(err, sizeof err, "%s", tl_last_error());
      rc = -1;
    }
  }
  if (!rc) {
    pl->res[m][b][s] = r;
    pl->have[m][b][s] = 1;
    if (o->verbose)
      fprintf(stderr,
              "%s, %s labels per class, seed %d: accuracy %.4f, "
              "macro-F1 %.4f (%.0f s)\n",
              METHOD_NAMES[m], bname, s, r.accuracy, r.macro_f1, r.seconds);
    if ((export && ul_cache_write_key(pl->export_path, key)) ||
        runs_append(pl->runs_path, key, &r)) {
      snprintf(err, sizeof err, "cannot write into the work directory %s: %s",
               o->work, strerror(errno));
      rc = -1;
    }
  }
  if (rc)
    fprintf(stderr, "ulmfit: %s\n", err[0] ? err : "out of memory");
  free(train);
  free(pred);
  free(truth);
  free(y);
  free(x);
  return rc;
}

/* ---- stage 5: domain similarity ---------------------------------------- */

/* Term counts (pretrained vocabulary) and mean embeddings of up to
 * `max_docs` documents of a tokenized corpus. */
static int domain_stats(double *counts, double *emb, size_t *n_emb,
                        pipeline *pl, const tl_text_corpus *corpus,
                        const size_t *docs, size_t n, char *err,
                        size_t errcap) {
  const size_t dim = pl->feat.dim / 3, vs = pl->p.vocab_size;
  float *f = malloc(pl->feat.dim * sizeof *f);
  if (!f)
    return snprintf(err, errcap, "out of memory"), -1;
  memset(counts, 0, vs * sizeof *counts);
  for (size_t i = 0; i < n; i++) {
    int64_t *ids = NULL;
    size_t len = 0;
    if (ul_encode_doc(&ids, &len, pl->p.vocab, corpus, docs[i])) {
      free(f);
      return snprintf(err, errcap, "%s", tl_last_error()), -1;
    }
    for (size_t k = 0; k < len; k++)
      counts[ids[k]] += 1.0;
    free(ids);
    /* The mean-pooled third of the concat-pooled features, on at most the
     * first 200 tokens (general units are longer than passages). */
    if (ul_features_compute(f, &pl->feat, corpus, &docs[i], 1, 200, err,
                            errcap)) {
      free(f);
      return -1;
    }
    for (size_t h = 0; h < dim; h++)
      emb[i * dim + h] = f[2 * dim + h];
  }
  *n_emb = n;
  free(f);
  return 0;
}

static int similarity_stage(pipeline *pl, ul_similarity *sim) {
  char err[1024] = "";
  ul_corpora *c = &pl->c;
  ul_task *t = &pl->t;
  enum { PER_DOMAIN = 150 };
  if (!pl->feat_open && ensure_features(pl, NULL, 0, err, sizeof err)) {
    fprintf(stderr, "ulmfit: %s\n", err);
    return -1;
  }
  const size_t dim = pl->feat.dim / 3, vs = pl->p.vocab_size;
  double *counts[UL_SIM_DOMAINS], *emb[UL_SIM_DOMAINS];
  size_t n_emb[UL_SIM_DOMAINS];
  size_t docs[PER_DOMAIN];
  int rc = 0;
  for (size_t d = 0; d < UL_SIM_DOMAINS; d++) {
    counts[d] = malloc(vs * sizeof *counts[d]);
    emb[d] = malloc(PER_DOMAIN * dim * sizeof *emb[d]);
    if (!counts[d] || !emb[d])
      rc = -1;
  }
  /* The general domain: every k-th unit, PER_DOMAIN in all. */
  const size_t step = c->n_general / PER_DOMAIN ? c->n_general / PER_DOMAIN : 1;
  const char *gtexts[PER_DOMAIN];
  size_t glens[PER_DOMAIN], ng = 0;
  for (size_t i = 0; i < c->n_general && ng < PER_DOMAIN; i += step) {
    gtexts[ng] = c->general[i];
    glens[ng++] = c->general_len[i];
  }
  tl_text_corpus *gc = NULL;
  if (!rc && tl_text_corpus_tokenize(&gc, gtexts, glens, ng, NULL,
                                     pl->o->threads) != TL_OK) {
    snprintf(err, sizeof err, "%s", tl_last_error());
    rc = -1;
  }
  for (size_t i = 0; i < ng; i++)
    docs[i] = i;
  if (pl->o->verbose)
    fprintf(stderr,
            "\n== stage 5: domain similarity (%d documents per "
            "domain, pretrained encoder) ==\n",
            PER_DOMAIN);
  if (!rc)
    rc = domain_stats(counts[0], emb[0], &n_emb[0], pl, gc, docs, ng, err,
                      sizeof err);
  /* Each genre: its training passages, evenly spaced. */
  for (size_t k = 0; !rc && k < UL_NUM_CLASSES; k++) {
    size_t n_k = 0, m = 0;
    for (size_t i = 0; i < t->n_side[UL_TRAIN]; i++)
      n_k += t->side_labels[UL_TRAIN][i] == (int64_t)k;
    const size_t every = n_k / PER_DOMAIN ? n_k / PER_DOMAIN : 1;
    for (size_t i = 0, seen = 0; i < t->n_side[UL_TRAIN] && m < PER_DOMAIN; i++)
      if (t->side_labels[UL_TRAIN][i] == (int64_t)k && seen++ % every == 0)
        docs[m++] = t->side_idx[UL_TRAIN][i];
    rc = domain_stats(counts[k + 1], emb[k + 1], &n_emb[k + 1], pl, t->corpus,
                      docs, m, err, sizeof err);
  }
  if (!rc)
    rc = ul_similarity_compute(sim, (const double *const *)counts, vs, 0.01,
                               (const double *const *)emb, n_emb, dim, err,
                               sizeof err);
  if (rc)
    fprintf(stderr, "ulmfit: domain similarity: %s\n",
            err[0] ? err : "out of memory");
  tl_text_corpus_free(gc);
  for (size_t d = 0; d < UL_SIM_DOMAINS; d++) {
    free(counts[d]);
    free(emb[d]);
  }
  return rc;
}

/* ---- stage 6: predict --------------------------------------------------- */

static int predict_texts(const char *model_path, const char *const *texts,
                         size_t n, FILE *out) {
  tl_text_learner *clas = NULL;
  if (tl_load_learner(&clas, model_path, NULL) != TL_OK) {
    fprintf(stderr,
            "ulmfit: cannot load the classifier %s: %s\n(run the pipeline "
            "first: it exports the classifier there)\n",
            model_path, tl_last_error());
    return -1;
  }
  const tl_label_vocab *labels = NULL;
  size_t n_classes = 0;
  int rc = tl_text_learner_labels(&labels, clas) == TL_OK &&
                   tl_label_vocab_size(&n_classes, labels) == TL_OK &&
                   n_classes <= 64
               ? 0
               : -1;
  for (size_t i = 0; !rc && i < n; i++) {
    float probs[64];
    int64_t cls = 0;
    const char *name = NULL;
    if (tl_text_learner_predict(&cls, probs, n_classes, clas, texts[i],
                                strlen(texts[i])) != TL_OK ||
        tl_label_vocab_label(&name, labels, cls) != TL_OK) {
      fprintf(stderr, "ulmfit: predict, text %zu: %s\n", i + 1,
              tl_last_error());
      rc = -1;
      break;
    }
    fprintf(out, "predict: %s\n  -> %s (", texts[i], name);
    for (size_t k = 0; k < n_classes; k++) {
      const char *kn = NULL;
      tl_label_vocab_label(&kn, labels, (int64_t)k);
      fprintf(out, "%s%s %.3f", k ? ", " : "", kn, (double)probs[k]);
    }
    fprintf(out, ")\n");
  }
  tl_text_learner_free(clas);
  return rc;
}

static int predict_main(const options *o) {
  char path[4200];
  snprintf(path, sizeof path, "%s/classifier.tlc", o->work);
  if (o->n_texts)
    return predict_texts(path, o->texts, o->n_texts, stdout) ? 1 : 0;
  /* One passage per stdin line. */
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0, any = 0;
  while (!rc && (len = getline(&line, &cap, stdin)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = 0;
    if (!len)
      continue;
    any = 1;
    const char *texts[1] = {line};
    rc = predict_texts(path, texts, 1, stdout);
  }
  free(line);
  if (!any && !rc) {
    fprintf(stderr, "ulmfit: predict: no text given (arguments or stdin "
                    "lines)\n");
    rc = 1;
  }
  return rc ? 1 : 0;
}

/* ---- the report --------------------------------------------------------- */

static void mean_sd(double *mean, double *sd, int *n, const pipeline *pl,
                    method m, size_t b, int field) {
  double s = 0, ss = 0;
  int k = 0;
  for (int i = 0; i < pl->o->n_seeds; i++)
    if (pl->have[m][b][i]) {
      const result *r = &pl->res[m][b][i];
      s += field ? r->macro_f1 : r->accuracy;
      k++;
    }
  *mean = k ? s / k : NAN;
  for (int i = 0; i < pl->o->n_seeds; i++)
    if (pl->have[m][b][i]) {
      const result *r = &pl->res[m][b][i];
      const double d = (field ? r->macro_f1 : r->accuracy) - *mean;
      ss += d * d;
    }
  *sd = k > 1 ? sqrt(ss / (k - 1)) : 0.0;
  *n = k;
}

static void budget_name(char *out, size_t cap, size_t budget) {
  if (budget)
    snprintf(out, cap, "%zu", budget);
  else
    snprintf(out, cap, "all");
}

static void print_table(FILE *f, const pipeline *pl) {
  const options *o = pl->o;
  fprintf(f,
          "\nTest accuracy / macro-F1 on %zu passages (mean +- sd over "
          "seeds)\n",
          pl->n_test);
  fprintf(f, "%-20s", "labels per class");
  for (size_t b = 0; b < o->n_budgets; b++) {
    char bn[24];
    budget_name(bn, sizeof bn, o->budgets[b]);
    fprintf(f, " %25s", bn);
  }
  fprintf(f, "\n");
  for (int m = 0; m < M_COUNT; m++) {
    if (!o->run_method[m])
      continue;
    fprintf(f, "%-20s", METHOD_NAMES[m]);
    for (size_t b = 0; b < o->n_budgets; b++) {
      double ma, sa, mf, sf;
      int n;
      mean_sd(&ma, &sa, &n, pl, (method)m, b, 0);
      mean_sd(&mf, &sf, &n, pl, (method)m, b, 1);
      char cell[64];
      if (n)
        snprintf(cell, sizeof cell, "%.3f+-%.3f / %.3f (%d)", ma, sa, mf, n);
      else
        snprintf(cell, sizeof cell, "-");
      fprintf(f, " %25s", cell);
    }
    fprintf(f, "\n");
  }
}

static int write_csv(const char *path, const pipeline *pl) {
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "method,labels_per_class,seed,accuracy,macro_f1,seconds\n");
  for (int m = 0; m < M_COUNT; m++)
    for (size_t b = 0; b < pl->o->n_budgets; b++)
      for (int s = 0; s < pl->o->n_seeds; s++)
        if (pl->have[m][b][s]) {
          char bn[24];
          budget_name(bn, sizeof bn, pl->o->budgets[b]);
          const result *r = &pl->res[m][b][s];
          fprintf(f, "%s,%s,%d,%.6f,%.6f,%.1f\n", METHOD_NAMES[m], bn, s,
                  r->accuracy, r->macro_f1, r->seconds);
        }
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    remove(tmp);
    return -1;
  }
  return 0;
}

static void json_mean(FILE *f, const char *name, const pipeline *pl, method m,
                      size_t b, int field) {
  double mean, sd;
  int n;
  mean_sd(&mean, &sd, &n, pl, m, b, field);
  if (n)
    fprintf(f, "  \"%s\": %.6f,\n", name, mean);
  else
    fprintf(f, "  \"%s\": null,\n", name);
}

static int write_json(const char *path, const pipeline *pl,
                      const ul_similarity *sim, double seconds) {
  const options *o = pl->o;
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  size_t mb = 0;
  for (size_t b = 0; b < o->n_budgets; b++)
    if (o->budgets[b] == o->main_budget)
      mb = b;
  fprintf(f, "{\n");
  if (o->main_budget)
    fprintf(f, "  \"labels_per_class\": %zu,\n", o->main_budget);
  else
    fprintf(f, "  \"labels_per_class\": \"all\",\n");
  json_mean(f, "transfer_accuracy", pl, M_ULMFIT, mb, 0);
  json_mean(f, "scratch_accuracy", pl, M_SCRATCH, mb, 0);
  json_mean(f, "feature_extraction_accuracy", pl, M_FEATURES, mb, 0);
  json_mean(f, "bow_accuracy", pl, M_BOW, mb, 0);
  json_mean(f, "no_lm_finetune_accuracy", pl, M_NO_LM_FT, mb, 0);
  json_mean(f, "transfer_macro_f1", pl, M_ULMFIT, mb, 1);
  json_mean(f, "scratch_macro_f1", pl, M_SCRATCH, mb, 1);
  fprintf(f, "  \"test_passages\": %zu,\n", pl->n_test);
  if (pl->lm_ppl[1] > 0) {
    fprintf(f, "  \"lm_perplexity_before\": %.4f,\n", pl->lm_ppl[0]);
    fprintf(f, "  \"lm_perplexity_after\": %.4f,\n", pl->lm_ppl[1]);
  } else { /* --report-only: stage 2 did not run */
    fprintf(f, "  \"lm_perplexity_before\": null,\n");
    fprintf(f, "  \"lm_perplexity_after\": null,\n");
  }
  if (sim) {
    fprintf(f, "  \"js_general_to_genre\": [");
    for (size_t k = 1; k < UL_SIM_DOMAINS; k++)
      fprintf(f, "%s%.6f", k > 1 ? ", " : "", sim->js[0][k]);
    fprintf(f, "],\n  \"sliced_w_general_to_genre\": [");
    for (size_t k = 1; k < UL_SIM_DOMAINS; k++)
      fprintf(f, "%s%.6f", k > 1 ? ", " : "", sim->sw[0][k]);
    fprintf(f, "],\n");
  }
  fprintf(f, "  \"seconds\": %.1f,\n", seconds);
  fprintf(f, "  \"runs\": [\n");
  int first = 1;
  for (int m = 0; m < M_COUNT; m++)
    for (size_t b = 0; b < o->n_budgets; b++)
      for (int s = 0; s < o->n_seeds; s++)
        if (pl->have[m][b][s]) {
          const result *r = &pl->res[m][b][s];
          char bn[24];
          budget_name(bn, sizeof bn, o->budgets[b]);
          fprintf(f,
                  "%s    {\"method\": \"%s\", \"labels_per_class\": \"%s\", "
                  "\"seed\": %d, \"accuracy\": %.6f, \"macro_f1\": %.6f, "
                  "\"seconds\": %.1f}",
                  first ? "" : ",\n", METHOD_NAMES[m], bn, s, r->accuracy,
                  r->macro_f1, r->seconds);
          first = 0;
        }
  fprintf(f, "\n  ]\n}\n");
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    remove(tmp);
    return -1;
  }
  return 0;
}

/* A passage of each kind for the closing prediction, not from Brown. */
static const char *const DEMO_TEXTS[] = {
    "The mayor told reporters on Tuesday that the city council would vote "
    "next week on the new budget, which includes money for schools and "
    "roads.",
    "The results of the experiment suggest that the rate of the reaction "
    "depends on the temperature of the solution and on the concentration of "
    "the catalyst."};

/* ---- main --------------------------------------------------------------- */

static int make_dir(const char *path) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) {
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
      return 0;
    errno = ENOTDIR;
  }
  return -1;
}

static int pipeline_main(options *o) {
  const double t0 = now();
  static pipeline pl; /* large result tables: not on the stack */
  memset(&pl, 0, sizeof pl);
  pl.o = o;
  char err[1024] = "";
  int rc = 1;
  if (make_dir(o->work)) {
    fprintf(stderr, "ulmfit: cannot use the work directory %s: %s\n", o->work,
            strerror(errno));
    return 1;
  }
  tl_set_num_threads(o->threads);
  snprintf(pl.runs_path, sizeof pl.runs_path, "%s/runs.tsv", o->work);
  snprintf(pl.enc_pre, sizeof pl.enc_pre, "%s/encoder_pretrained.tlc", o->work);
  snprintf(pl.enc_ft, sizeof pl.enc_ft, "%s/encoder_finetuned.tlc", o->work);
  snprintf(pl.export_path, sizeof pl.export_path, "%s/classifier.tlc", o->work);
  /* Is the work directory writable at all? Better to know now than after
   * an hour of training. */
  {
    char probe[4300];
    snprintf(probe, sizeof probe, "%s/.write_test", o->work);
    FILE *f = fopen(probe, "w");
    if (!f || fclose(f) != 0) {
      fprintf(stderr, "ulmfit: the work directory %s is not writable: %s\n",
              o->work, strerror(errno));
      return 1;
    }
    remove(probe);
  }

  if (o->verbose)
    fprintf(stderr, "== data: %s ==\n", o->data);
  if (ul_corpora_load(&pl.c, o->data, 0.1, 0.25, 0, err, sizeof err)) {
    fprintf(stderr, "ulmfit: %s\n", err);
    return 1;
  }
  if (ul_task_build(&pl.t, &pl.c, 3, 60000, o->threads, err, sizeof err)) {
    fprintf(stderr, "ulmfit: %s\n", err);
    goto done;
  }
  ul_task *t = &pl.t;
  pl.n_test = o->test_max && o->test_max < t->n_side[UL_TEST]
                  ? o->test_max
                  : t->n_side[UL_TEST];
  if (o->test_max && o->test_max < t->n_side[UL_TEST]) {
    /* An evenly spaced sample of the test side keeps every genre. */
    const size_t n = t->n_side[UL_TEST];
    for (size_t i = 0; i < pl.n_test; i++) {
      const size_t j = i * n / pl.n_test;
      t->side_idx[UL_TEST][i] = t->side_idx[UL_TEST][j];
      t->side_labels[UL_TEST][i] = t->side_labels[UL_TEST][j];
    }
  }
  if (o->lm_docs) {
    /* Stage 2 on the first lm_docs training documents and half as many
     * held-out ones (--quick): the others are set aside (stage 2 does
     * not read UL_VALID documents). */
    size_t kept = 0, held = 0;
    for (size_t d = 0; d < t->n_docs; d++) {
      if (t->doc_side[d] == UL_TRAIN && kept++ >= o->lm_docs)
        t->doc_side[d] = UL_VALID;
      if (t->doc_side[d] == UL_TEST && held++ >= (o->lm_docs + 1) / 2)
        t->doc_side[d] = UL_VALID;
    }
  }
  size_t tokens = 0, longest = 0;
  for (size_t i = 0; i < t->n; i++) {
    tokens += t->lens[i];
    longest = t->lens[i] > longest ? t->lens[i] : longest;
  }
  if (o->verbose)
    fprintf(stderr,
            "task: %zu passages (%zu train, %zu valid, %zu test, %zu "
            "evaluated) of %.1f tokens on average (at most %zu), target "
            "vocabulary %zu (%.1f s)\n",
            t->n, t->n_side[UL_TRAIN], t->n_side[UL_VALID], t->n_side[UL_TEST],
            pl.n_test, (double)tokens / (double)t->n, longest, t->vocab_size,
            now() - t0);
  for (size_t b = 0; b < o->n_budgets; b++)
    if (o->budgets[b] * UL_NUM_CLASSES > t->n_side[UL_TRAIN]) {
      fprintf(stderr,
              "ulmfit: %zu labels per class is more than the "
              "training passages allow\n",
              o->budgets[b]);
      goto done;
    }
  if (tl_reporter_create_terminal(&pl.rep, stderr, TL_REPORTER_MODE_AUTO) !=
      TL_OK) {
    fprintf(stderr, "ulmfit: %s\n", tl_last_error());
    goto done;
  }

  /* Stage 1: the pretrained LM. */
  if (o->full && !o->pretrained) {
    snprintf(pl.pretrained, sizeof pl.pretrained, "%s/ulmfit_lm.tlc", o->work);
    if (o->verbose)
      fprintf(stderr, "\n== stage 1: pretraining the LM into %s ==\n",
              pl.pretrained);
    if (ul_pretrain_default(o->data, pl.pretrained, o->threads))
      goto done;
  } else if (o->pretrained) {
    snprintf(pl.pretrained, sizeof pl.pretrained, "%s", o->pretrained);
  } else {
    snprintf(pl.pretrained, sizeof pl.pretrained, "%s/ulmfit_lm.tlc", o->data);
  }
  if (ul_pretrained_open(&pl.p, pl.pretrained, err, sizeof err)) {
    fprintf(stderr, "ulmfit: %s\n", err);
    goto done;
  }
  if (o->verbose)
    fprintf(stderr,
            "\n== stage 1: pretrained LM %s (emb %zu, hidden %zu, %zu layers, "
            "vocabulary %zu; %s) ==\n",
            pl.pretrained, pl.p.awd.emb_sz, pl.p.awd.n_hid, pl.p.awd.n_layers,
            pl.p.vocab_size, pl.p.result[0] ? pl.p.result : "no result");
  pl.config_hash = config_hash(&pl);

  /* Stage 2: the LM fine-tuned on the target documents. */
  if (o->verbose)
    fprintf(stderr, "\n== stage 2: fine-tuning the LM on the target "
                    "documents ==\n");
  if (!o->report_only &&
      ul_lm_stage(pl.lm_ppl, t, pl.pretrained, &pl.p, &o->lm, o->work, pl.rep,
                  o->verbose, err, sizeof err)) {
    fprintf(stderr, "ulmfit: %s\n", err);
    goto done;
  }
  if (!o->report_only)
    printf("target LM perplexity (held-out target documents): %.2f with the "
           "pretrained LM, %.2f fine-tuned\n",
           pl.lm_ppl[0], pl.lm_ppl[1]);

  /* Stages 3 and 4: every method, budget and seed, budget by budget in
   * the order given (the small, cheap ones first in --full). */
  for (size_t b = 0; b < o->n_budgets; b++)
    for (int s = 0; s < o->n_seeds; s++)
      for (int m = 0; m < M_COUNT; m++)
        if (o->run_method[m] && run_one(&pl, (method)m, b, s))
          goto done;

  ul_similarity sim;
  int have_sim = 0;
  if (o->similarity) {
    if (similarity_stage(&pl, &sim))
      goto done;
    have_sim = 1;
    const char *names[UL_SIM_DOMAINS] = {"general"};
    for (size_t k = 0; k < UL_NUM_CLASSES; k++)
      names[k + 1] = ul_class_name(k);
    printf("\n");
    ul_similarity_print(stdout, &sim, names);
  }
  print_table(stdout, &pl);
  const double seconds = now() - t0;
  char csv[4200];
  snprintf(csv, sizeof csv, "%s/results.csv", o->work);
  if (write_csv(o->csv ? o->csv : csv, &pl)) {
    fprintf(stderr, "ulmfit: cannot write %s: %s\n", o->csv ? o->csv : csv,
            strerror(errno));
    goto done;
  }
  if (o->json && write_json(o->json, &pl, have_sim ? &sim : NULL, seconds)) {
    fprintf(stderr, "ulmfit: cannot write %s: %s\n", o->json, strerror(errno));
    goto done;
  }
  /* Stage 6: predict with the exported classifier. */
  if (o->run_method[M_ULMFIT] && !o->report_only) {
    printf("\n");
    const char *const *texts = o->n_texts ? o->texts : DEMO_TEXTS;
    const size_t n = o->n_texts ? o->n_texts : 2;
    if (predict_texts(pl.export_path, texts, n, stdout))
      goto done;
  }
  printf("\n%.0f s in all\n", seconds);
  rc = 0;
  if (o->assert_transfer) {
    size_t mb = 0;
    for (size_t b = 0; b < o->n_budgets; b++)
      if (o->budgets[b] == o->main_budget)
        mb = b;
    double tr, sc, sd;
    int n1, n2;
    mean_sd(&tr, &sd, &n1, &pl, M_ULMFIT, mb, 0);
    mean_sd(&sc, &sd, &n2, &pl, M_SCRATCH, mb, 0);
    if (!n1 || !n2 || !(tr > sc)) {
      fprintf(stderr, "ulmfit: transfer (%.4f) does not beat scratch (%.4f)\n",
              tr, sc);
      rc = 4;
    }
  }
done:
  if (pl.feat_open)
    ul_features_close(&pl.feat);
  free(pl.train_x);
  free(pl.test_x);
  free(pl.train_x_done);
  tl_reporter_free(pl.rep);
  ul_pretrained_close(&pl.p);
  ul_task_free(&pl.t);
  ul_corpora_free(&pl.c);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  if (parse_args(&o, argc, argv)) {
    usage(stderr);
    return 2;
  }
  if (o.predict_only)
    return predict_main(&o);
  return pipeline_main(&o);
}
