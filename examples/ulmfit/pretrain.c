/* Stage 1 of the ULMFiT example: pretrain fastai's AWD-LSTM language model
 * on the general-domain corpus (nlp-corpus and the Brown genres the task
 * does not use), with one-cycle rates, AR/TAR and a weight-tied decoder,
 * checkpointing after every epoch so that a stopped run resumes where it
 * was. docs/ulmfit.md gives the command that made the shipped checkpoint.
 *
 * Usage: ulmfit_pretrain [--data DIR] [--out FILE] [--epochs N] [--emb N]
 *          [--hid N] [--layers N] [--max-vocab N] [--min-freq N] [--bs N]
 *          [--bptt N] [--lr X] [--drop-mult X] [--wd X] [--seed N]
 *          [--threads N] [--max-units N] [--fresh] [--stop-after N]
 * The resume state is FILE.resume; --fresh ignores (and replaces) it.
 * --stop-after N exits with status 3 right after epoch N's resume state
 * is written, as a run killed there would (the suite's resume test). */
#define TL_EXPERIMENTAL_API
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <tl/arch.h>
#include <tl/learn.h>
#include <tl/tl.h>

#include "corpora.h"
#include "pretrain.h"

/* Everything the command line sets; also written into the checkpoints so a
 * resume state from other settings is not trusted. */
typedef struct settings {
  const char *data, *out;
  unsigned long epochs, emb, hid, layers, max_vocab, min_freq, bs, bptt;
  unsigned long seed, threads, max_units, stop_after;
  double lr, drop_mult, wd, valid_frac;
  int fresh;
} settings;

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--data DIR] [--out FILE] [--epochs N] [--emb N] "
          "[--hid N] [--layers N]\n"
          "          [--max-vocab N] [--min-freq N] [--bs N] [--bptt N] "
          "[--lr X] [--drop-mult X]\n"
          "          [--wd X] [--seed N] [--threads N] [--max-units N] "
          "[--fresh] [--stop-after N]\n",
          argv0);
}

static int parse_ulong(const char *s, unsigned long *out, unsigned long lo) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || end == s || s[0] == '-' || v < lo)
    return -1;
  *out = v;
  return 0;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || end == s || !isfinite(v) || v < 0)
    return -1;
  *out = v;
  return 0;
}

static int parse_args(settings *s, int argc, char **argv) {
  *s = (settings){.data = "data",
                  .out = "ulmfit_lm.tlc",
                  .epochs = 6,
                  .emb = 256,
                  .hid = 768,
                  .layers = 2,
                  .max_vocab = 20000,
                  .min_freq = 3,
                  .bs = 64,
                  .bptt = 70,
                  .seed = 0,
                  .threads = 2,
                  .max_units = 0,
                  .stop_after = 0,
                  .lr = 5e-3,
                  .drop_mult = 0.3,
                  .wd = 0.01,
                  .valid_frac = 0.02,
                  .fresh = 0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (!strcmp(a, "--fresh")) {
      s->fresh = 1;
      continue;
    }
    if (!v) {
      fprintf(stderr, "%s needs a value\n", a);
      return -1;
    }
    i++;
    if (!strcmp(a, "--data"))
      s->data = v;
    else if (!strcmp(a, "--out"))
      s->out = v;
    else if (!strcmp(a, "--epochs"))
      bad = parse_ulong(v, &s->epochs, 1);
    else if (!strcmp(a, "--emb"))
      bad = parse_ulong(v, &s->emb, 1);
    else if (!strcmp(a, "--hid"))
      bad = parse_ulong(v, &s->hid, 1);
    else if (!strcmp(a, "--layers"))
      bad = parse_ulong(v, &s->layers, 1);
    else if (!strcmp(a, "--max-vocab"))
      bad = parse_ulong(v, &s->max_vocab, TL_TEXT_NUM_SPECIALS);
    else if (!strcmp(a, "--min-freq"))
      bad = parse_ulong(v, &s->min_freq, 1);
    else if (!strcmp(a, "--bs"))
      bad = parse_ulong(v, &s->bs, 1);
    else if (!strcmp(a, "--bptt"))
      bad = parse_ulong(v, &s->bptt, 5);
    else if (!strcmp(a, "--seed"))
      bad = parse_ulong(v, &s->seed, 0);
    else if (!strcmp(a, "--threads"))
      bad = parse_ulong(v, &s->threads, 1);
    else if (!strcmp(a, "--stop-after"))
      bad = parse_ulong(v, &s->stop_after, 1);
    else if (!strcmp(a, "--max-units"))
      bad = parse_ulong(v, &s->max_units, 0);
    else if (!strcmp(a, "--lr"))
      bad = parse_double(v, &s->lr) || s->lr == 0;
    else if (!strcmp(a, "--drop-mult"))
      bad = parse_double(v, &s->drop_mult);
    else if (!strcmp(a, "--wd"))
      bad = parse_double(v, &s->wd);
    else {
      fprintf(stderr, "unknown option %s\n", a);
      return -1;
    }
    if (bad) {
      fprintf(stderr, "%s: bad value '%s'\n", a, v);
      return -1;
    }
  }
  return 0;
}

/* The settings that define the model and its data, as one string kept in
 * the checkpoints' metadata: a resume state must match it exactly. */
static void config_string(char *out, size_t cap, const settings *s) {
  snprintf(out, cap,
           "epochs=%lu emb=%lu hid=%lu layers=%lu max_vocab=%lu min_freq=%lu "
           "bs=%lu bptt=%lu lr=%.17g drop_mult=%.17g wd=%.17g seed=%lu "
           "valid_frac=%.17g max_units=%lu",
           s->epochs, s->emb, s->hid, s->layers, s->max_vocab, s->min_freq,
           s->bs, s->bptt, s->lr, s->drop_mult, s->wd, s->seed, s->valid_frac,
           s->max_units);
}

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      fprintf(stderr, "ulmfit_pretrain: %s\n", tl_last_error());               \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

/* The data: the general-domain units tokenized, split into training and
 * validation units, the vocabulary of the training units and the ids. */
typedef struct lm_data {
  tl_vocab *vocab;
  int64_t **ids;
  size_t *lens;
  uint8_t *is_valid;
  size_t n;
  size_t tokens[2]; /* training, validation */
} lm_data;

static void lm_data_free(lm_data *d) {
  for (size_t i = 0; d->ids && i < d->n; i++)
    free(d->ids[i]);
  free(d->ids);
  free(d->lens);
  free(d->is_valid);
  tl_vocab_free(d->vocab);
  memset(d, 0, sizeof *d);
}

static int build_data(lm_data *d, const settings *s) {
  char err[512];
  ul_corpora c;
  if (ul_corpora_load(&c, s->data, 0.1, 0.25, s->seed, err, sizeof err)) {
    fprintf(stderr, "ulmfit_pretrain: %s\n", err);
    return -1;
  }
  size_t n = c.n_general;
  if (s->max_units && s->max_units < n)
    n = s->max_units;
  tl_text_corpus *corpus = NULL;
  tl_token_counts *counts = NULL;
  int64_t *labels = calloc(n, sizeof *labels);
  const char **toks = NULL;
  size_t toks_cap = 0;
  int rc = -1;
  memset(d, 0, sizeof *d);
  d->n = n;
  d->ids = calloc(n, sizeof *d->ids);
  d->lens = calloc(n, sizeof *d->lens);
  d->is_valid = calloc(n, 1);
  if (!labels || !d->ids || !d->lens || !d->is_valid) {
    fprintf(stderr, "ulmfit_pretrain: out of memory\n");
    goto done;
  }
  CHECK(tl_text_corpus_tokenize(&corpus, (const char *const *)c.general,
                                c.general_len, n, NULL, s->threads));
  /* Validation units: valid_frac of them, chosen with the seed. */
  CHECK(tl_text_split_stratified(d->is_valid, labels, n, 1, s->valid_frac,
                                 s->seed));
  CHECK(tl_token_counts_create(&counts));
  for (size_t i = 0; i < n; i++) {
    size_t len;
    CHECK(tl_text_corpus_doc_len(&len, corpus, i));
    d->lens[i] = len;
    if (d->is_valid[i])
      continue;
    if (len > toks_cap) {
      const char **g = realloc(toks, len * sizeof *toks);
      if (!g)
        goto fail;
      toks = g;
      toks_cap = len;
    }
    for (size_t t = 0; t < len; t++)
      CHECK(tl_text_corpus_token(&toks[t], NULL, corpus, i, t));
    CHECK(tl_token_counts_add(counts, toks, len));
  }
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = s->min_freq;
  vo.max_vocab = s->max_vocab;
  CHECK(tl_vocab_create_from_counts(&d->vocab, counts, &vo));
  for (size_t i = 0; i < n; i++) {
    d->ids[i] = malloc((d->lens[i] ? d->lens[i] : 1) * sizeof(int64_t));
    if (!d->ids[i])
      goto fail;
    CHECK(tl_vocab_encode_doc(d->ids[i], d->lens[i], d->vocab, corpus, i));
    d->tokens[d->is_valid[i]] += d->lens[i];
  }
  rc = 0;
  goto done;
fail:
  rc = -1;
done:
  free(toks);
  free(labels);
  tl_token_counts_free(counts);
  tl_text_corpus_free(corpus);
  ul_corpora_free(&c);
  if (rc)
    lm_data_free(d);
  return rc;
}

/* One side's documents as the loader's arrays (views into d). */
static size_t side_docs(const int64_t **docs, size_t *lens, const lm_data *d,
                        int valid) {
  size_t m = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->is_valid[i] == valid && d->lens[i] > 0) {
      docs[m] = d->ids[i];
      lens[m++] = d->lens[i];
    }
  return m;
}

/* The run's state for the per-epoch checkpoint callback. */
typedef struct run {
  const settings *s;
  const char *config;
  const lm_data *data;
  tl_model *enc, *dec;
  char resume_path[4096];
  uint64_t start_epoch;
  double started;
} run;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The models, their vocabulary and the settings in one checkpoint; with
 * the optimizer state and the epochs done when `optim` is given (the
 * resume state). Written atomically. */
static tl_status write_ckpt(const char *path, const run *r, tl_optim *optim,
                            uint64_t epochs_done, const char *extra_key,
                            const char *extra_value) {
  tl_ckpt *ck = NULL;
  tl_status st = tl_ckpt_create(&ck);
  const char *const *tokens = NULL;
  size_t vsize = 0;
  if (st == TL_OK)
    st = tl_vocab_size(&vsize, r->data->vocab);
  if (st == TL_OK)
    st = tl_vocab_tokens(&tokens, r->data->vocab);
  if (st == TL_OK)
    st = tl_ckpt_set_vocab(ck, tokens, vsize);
  if (st == TL_OK)
    st = tl_ckpt_store_model(ck, r->enc, "0.");
  if (st == TL_OK)
    st = tl_ckpt_store_model(ck, r->dec, "1.");
  if (st == TL_OK && optim)
    st = tl_ckpt_store_optim(ck, optim);
  char buf[64];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)epochs_done);
  if (st == TL_OK)
    st = tl_ckpt_set_meta(ck, "ulmfit.config", r->config);
  if (st == TL_OK)
    st = tl_ckpt_set_meta(ck, "ulmfit.epochs_done", buf);
  if (st == TL_OK && extra_key)
    st = tl_ckpt_set_meta(ck, extra_key, extra_value);
  if (st == TL_OK)
    st = tl_ckpt_save(ck, path);
  tl_ckpt_free(ck);
  return st;
}

static tl_status after_epoch(void *payload, tl_learner *learner,
                             const tl_learner_state *state) {
  run *r = payload;
  if (state->event != TL_LEARNER_EVENT_AFTER_EPOCH)
    return TL_OK;
  tl_optim *optim = NULL;
  tl_status st = tl_learner_optim(&optim, learner);
  if (st == TL_OK)
    st = write_ckpt(r->resume_path, r, optim, state->epoch + 1, NULL, NULL);
  if (st == TL_OK)
    fprintf(stderr,
            "ulmfit_pretrain: epoch %llu done, resume state in %s (%.0f s)\n",
            (unsigned long long)state->epoch + 1, r->resume_path,
            now() - r->started);
  if (st == TL_OK && r->s->stop_after == state->epoch + 1) {
    fprintf(stderr, "ulmfit_pretrain: stopping after epoch %lu as asked\n",
            r->s->stop_after);
    exit(3);
  }
  return st;
}

/* Loads the resume state if it exists and matches the settings: the
 * models' parameters and RNG streams, the optimizer state, the epochs
 * done. A state from other settings or another vocabulary is reported and
 * ignored (training starts over), never trusted. */
static int try_resume(run *r, tl_learner *learner) {
  struct stat sb;
  if (r->s->fresh || stat(r->resume_path, &sb) != 0)
    return 0;
  tl_ckpt *ck = NULL;
  const char *cfg = NULL, *done = NULL;
  int used = 0;
  if (tl_ckpt_load(&ck, r->resume_path, NULL) != TL_OK) {
    fprintf(stderr, "ulmfit_pretrain: ignoring %s: %s\n", r->resume_path,
            tl_last_error());
    return 0;
  }
  size_t vsize = 0, want = 0;
  tl_vocab_size(&want, r->data->vocab);
  int same_vocab = tl_ckpt_vocab_size(&vsize, ck) == TL_OK && vsize == want;
  for (size_t i = 0; same_vocab && i < vsize; i++) {
    const char *a, *b;
    same_vocab = tl_ckpt_vocab_token(&a, ck, i) == TL_OK &&
                 tl_vocab_token(&b, r->data->vocab, (int64_t)i) == TL_OK &&
                 strcmp(a, b) == 0;
  }
  if (tl_ckpt_get_meta(&cfg, ck, "ulmfit.config") != TL_OK ||
      strcmp(cfg, r->config) != 0 || !same_vocab ||
      tl_ckpt_get_meta(&done, ck, "ulmfit.epochs_done") != TL_OK) {
    fprintf(stderr,
            "ulmfit_pretrain: ignoring %s: it was made with other settings "
            "or another vocabulary\n",
            r->resume_path);
    tl_ckpt_free(ck);
    return 0;
  }
  unsigned long epochs_done = strtoul(done, NULL, 10);
  tl_model_load_options lo = TL_MODEL_LOAD_OPTIONS_INIT;
  tl_optim *optim = NULL;
  size_t groups;
  lo.prefix = "0.";
  tl_status st = tl_ckpt_restore_model(r->enc, ck, &lo);
  lo.prefix = "1.";
  if (st == TL_OK)
    st = tl_ckpt_restore_model(r->dec, ck, &lo);
  /* A group query settles the learner's optimizer before its state is
   * restored into it. */
  if (st == TL_OK)
    st = tl_learner_num_groups(&groups, learner);
  if (st == TL_OK)
    st = tl_learner_optim(&optim, learner);
  if (st == TL_OK)
    st = tl_ckpt_restore_optim(optim, ck);
  if (st != TL_OK) {
    fprintf(stderr, "ulmfit_pretrain: %s does not fit the model: %s\n",
            r->resume_path, tl_last_error());
    used = -1;
  } else {
    r->start_epoch = epochs_done < r->s->epochs ? epochs_done : r->s->epochs;
    used = 1;
  }
  tl_ckpt_free(ck);
  if (used == 1)
    fprintf(stderr, "ulmfit_pretrain: resuming after epoch %llu from %s\n",
            (unsigned long long)r->start_epoch, r->resume_path);
  return used;
}

int ul_pretrain_main(int argc, char **argv) {
  settings s;
  if (parse_args(&s, argc, argv)) {
    usage(argv[0]);
    return 2;
  }
  char config[1024];
  config_string(config, sizeof config, &s);
  lm_data data;
  const double t0 = now();
  if (build_data(&data, &s))
    return 1;
  size_t vsize;
  tl_vocab_size(&vsize, data.vocab);
  fprintf(stderr,
          "ulmfit_pretrain: %zu units, %zu training and %zu validation "
          "tokens, vocabulary %zu (%.1f s)\n",
          data.n, data.tokens[0], data.tokens[1], vsize, now() - t0);

  int rc = 1;
  const int64_t **docs = calloc(data.n, sizeof *docs);
  size_t *lens = calloc(data.n, sizeof *lens);
  tl_lm_loader *train = NULL, *valid = NULL;
  tl_model *enc = NULL, *dec = NULL;
  tl_learner *learner = NULL;
  tl_reporter *term = NULL;
  if (!docs || !lens)
    goto fail;
  tl_set_num_threads((int)s.threads);
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = s.bs;
  lo.bptt = s.bptt;
  lo.seed = s.seed;
  size_t m = side_docs(docs, lens, &data, 0);
  CHECK(tl_lm_loader_create(&train, docs, lens, m, vsize, &lo));
  lo.variable_length = 0;
  lo.shuffle = 0;
  m = side_docs(docs, lens, &data, 1);
  CHECK(tl_lm_loader_create(&valid, docs, lens, m, vsize, &lo));

  tl_awd_lstm_options ao;
  CHECK(tl_awd_lstm_options_init(&ao, TL_AWD_LSTM_OPTIONS_VERSION));
  ao.emb_sz = s.emb;
  ao.n_hid = s.hid;
  ao.n_layers = s.layers;
  ao.seed = s.seed;
  CHECK(tl_awd_lstm_lm_create(&enc, &dec, vsize, &ao, (float)s.drop_mult));
  tl_model *chain[2] = {enc, dec};
  tl_learner_options opt = TL_LEARNER_OPTIONS_INIT;
  opt.wd = s.wd;
  CHECK(tl_learner_create(&learner, chain, 2, &opt));
  /* fastai's awd_lstm_lm_split: each LSTM its own group, the embedding and
   * the tied decoder together in the last. */
  CHECK(tl_learner_set_group(learner, 1, "decoder", s.layers));
  CHECK(tl_learner_set_lm_data(learner, train, valid, s.bs, s.bptt));
  CHECK(tl_learner_add_metric(learner, TL_LEARNER_METRIC_ACCURACY, 0));
  CHECK(tl_learner_add_metric(learner, TL_LEARNER_METRIC_PERPLEXITY, 0));
  CHECK(tl_reporter_create_terminal(&term, stderr, TL_REPORTER_MODE_AUTO));
  CHECK(tl_learner_add_reporter(learner, term));

  run r = {.s = &s,
           .config = config,
           .data = &data,
           .enc = enc,
           .dec = dec,
           .start_epoch = 0,
           .started = t0};
  snprintf(r.resume_path, sizeof r.resume_path, "%s.resume", s.out);
  if (try_resume(&r, learner) < 0)
    goto fail;
  tl_callback cb = {TL_CALLBACK_VERSION, after_epoch, &r, "checkpoint"};
  CHECK(tl_learner_add_callback(learner, &cb));

  if (r.start_epoch < s.epochs) {
    /* fastai's TextLearner: moms (0.8, 0.7, 0.8). */
    tl_fit_one_cycle_options fo = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
    fo.lr_max = s.lr;
    fo.moms[0] = 0.8;
    fo.moms[1] = 0.7;
    fo.moms[2] = 0.8;
    fo.start_epoch = r.start_epoch;
    /* The loader continues from where the stopped run's was: its epochs
     * done are drained (no model work; the shuffles follow the seed). */
    for (uint64_t e = 0; e < r.start_epoch; e++) {
      size_t len = 1;
      const int64_t *x, *y;
      while (len)
        CHECK(tl_lm_loader_next(&x, &y, &len, train));
    }
    CHECK(tl_learner_fit_one_cycle(learner, s.epochs, &fo));
  }
  double vloss, metrics[2];
  CHECK(tl_learner_validate(&vloss, metrics, 2, learner));
  const double seconds = now() - t0;
  char summary[256];
  snprintf(summary, sizeof summary,
           "valid_loss=%.6f accuracy=%.6f perplexity=%.4f seconds=%.0f", vloss,
           metrics[0], metrics[1], seconds);
  CHECK(write_ckpt(s.out, &r, NULL, s.epochs, "ulmfit.result", summary));
  printf("pretrained %s: %s\n", s.out, summary);
  remove(r.resume_path);
  rc = 0;
fail:
  tl_learner_free(learner);
  tl_reporter_free(term);
  tl_model_free(dec);
  tl_model_free(enc);
  tl_lm_loader_free(valid);
  tl_lm_loader_free(train);
  free(docs);
  free(lens);
  lm_data_free(&data);
  return rc;
}

int ul_pretrain_default(const char *data_dir, const char *out, int threads) {
  /* The command of docs/ulmfit.md that made data/ulmfit_lm.tlc. */
  char threads_s[16];
  snprintf(threads_s, sizeof threads_s, "%d", threads);
  char *argv[] = {"ulmfit_pretrain",
                  "--data",
                  (char *)data_dir,
                  "--out",
                  (char *)out,
                  "--epochs",
                  "3",
                  "--emb",
                  "200",
                  "--hid",
                  "512",
                  "--layers",
                  "2",
                  "--max-vocab",
                  "15000",
                  "--min-freq",
                  "3",
                  "--bs",
                  "64",
                  "--bptt",
                  "70",
                  "--lr",
                  "5e-3",
                  "--drop-mult",
                  "0.3",
                  "--wd",
                  "0.01",
                  "--seed",
                  "0",
                  "--threads",
                  threads_s,
                  NULL};
  return ul_pretrain_main((int)(sizeof argv / sizeof *argv) - 1, argv);
}
