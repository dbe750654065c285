#include "lm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int ul_file_fingerprint(uint64_t *out, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  uint64_t h = 1469598103934665603ull;
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    for (size_t i = 0; i < n; i++)
      h = (h ^ buf[i]) * 1099511628211ull;
  const int bad = ferror(f);
  fclose(f);
  if (bad)
    return -1;
  *out = h;
  return 0;
}

int ul_cache_valid(const char *path, const char *key) {
  char kpath[4200], buf[2048];
  struct stat sb;
  snprintf(kpath, sizeof kpath, "%s.key", path);
  if (stat(path, &sb) != 0)
    return 0;
  FILE *f = fopen(kpath, "r");
  if (!f)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strcmp(buf, key) == 0;
}

/* text into path, atomically (a temporary file renamed over it). */
static int write_text_atomic(const char *path, const char *text) {
  char tmp[4400];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  const int ok = fputs(text, f) >= 0;
  if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
    remove(tmp);
    return -1;
  }
  return 0;
}

int ul_cache_write_key(const char *path, const char *key) {
  char kpath[4200];
  snprintf(kpath, sizeof kpath, "%s.key", path);
  return write_text_atomic(kpath, key);
}

void ul_pretrained_close(ul_pretrained *p) {
  tl_vocab_free(p->vocab);
  memset(p, 0, sizeof *p);
}

/* "name=value" of ulmfit.config as an unsigned number. */
static int config_size(size_t *out, const char *config, const char *name) {
  const size_t k = strlen(name);
  const char *at = NULL;
  if (!strncmp(config, name, k) && config[k] == '=') {
    at = config + k + 1;
  } else {
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", name);
    at = strstr(config, pat);
    if (!at)
      return -1;
    at += strlen(pat);
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(at, &end, 10);
  if (errno || end == at || v == 0)
    return -1;
  *out = (size_t)v;
  return 0;
}

int ul_pretrained_open(ul_pretrained *p, const char *path, char *err,
                       size_t errcap) {
  memset(p, 0, sizeof *p);
  tl_ckpt *ck = NULL;
  if (tl_ckpt_load(&ck, path, NULL) != TL_OK)
    return ul_fail(err, errcap, "pretrained model %s: %s", path,
                   tl_last_error());
  const char *config = NULL, *result = NULL;
  size_t n = 0;
  int rc = 0;
  tl_awd_lstm_options_init(&p->awd, TL_AWD_LSTM_OPTIONS_VERSION);
  if (tl_ckpt_get_meta(&config, ck, "ulmfit.config") != TL_OK ||
      config_size(&p->awd.emb_sz, config, "emb") ||
      config_size(&p->awd.n_hid, config, "hid") ||
      config_size(&p->awd.n_layers, config, "layers"))
    rc = ul_fail(err, errcap,
                 "pretrained model %s: no readable ulmfit.config metadata "
                 "(not made by ulmfit_pretrain?)",
                 path);
  if (!rc && tl_ckpt_get_meta(&result, ck, "ulmfit.result") == TL_OK)
    snprintf(p->result, sizeof p->result, "%s", result);
  if (!rc && (tl_ckpt_vocab_size(&n, ck) != TL_OK || n == 0))
    rc = ul_fail(err, errcap, "pretrained model %s: it holds no vocabulary",
                 path);
  const char **toks = rc ? NULL : calloc(n, sizeof *toks);
  if (!rc && !toks)
    rc = ul_fail(err, errcap, "out of memory");
  for (size_t i = 0; !rc && i < n; i++)
    if (tl_ckpt_vocab_token(&toks[i], ck, i) != TL_OK)
      rc = ul_fail(err, errcap, "pretrained model %s: %s", path,
                   tl_last_error());
  if (!rc && tl_vocab_create(&p->vocab, toks, n) != TL_OK)
    rc = ul_fail(err, errcap, "pretrained model %s: bad vocabulary: %s", path,
                 tl_last_error());
  p->vocab_size = n;
  free(toks);
  tl_ckpt_free(ck);
  if (!rc && ul_file_fingerprint(&p->fingerprint, path))
    rc = ul_fail(err, errcap, "pretrained model %s: cannot read it", path);
  if (rc)
    ul_pretrained_close(p);
  return rc;
}

/* The target documents of one side, as loader arrays (views into t). */
static size_t side_docs(const int64_t **docs, size_t *lens, const ul_task *t,
                        ul_side side) {
  size_t m = 0;
  for (size_t d = 0; d < t->n_docs; d++)
    if (t->doc_side[d] == side && t->doc_lens[d] > 0) {
      docs[m] = t->doc_ids[d];
      lens[m++] = t->doc_lens[d];
    }
  return m;
}

#define TRY(call)                                                              \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      rc = ul_fail(err, errcap, "fine-tuning the LM: %s", tl_last_error());    \
      goto done;                                                               \
    }                                                                          \
  } while (0)

tl_status ul_one_cycle(tl_learner *learn, uint64_t epochs, double top,
                       int discriminative) {
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  o.lr_max = top;
  if (discriminative) {
    o.slice_lo = top / (2.6 * 2.6 * 2.6 * 2.6);
    o.slice_hi = top;
  }
  o.moms[0] = 0.8, o.moms[1] = 0.7, o.moms[2] = 0.8;
  return tl_learner_fit_one_cycle(learn, epochs, &o);
}

/* The perplexities before and after fine-tuning, cached beside the
 * fine-tuned encoder in path.ppl ("before after"). */
static int cached_ppl(double ppl[2], const char *path) {
  char kpath[4200], buf[2048];
  snprintf(kpath, sizeof kpath, "%s.ppl", path);
  FILE *f = fopen(kpath, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return sscanf(buf, "%lf %lf", &ppl[0], &ppl[1]) == 2 ? 0 : -1;
}

static int write_ppl(const double ppl[2], const char *path) {
  char kpath[4200], text[64];
  snprintf(kpath, sizeof kpath, "%s.ppl", path);
  snprintf(text, sizeof text, "%.17g %.17g\n", ppl[0], ppl[1]);
  return write_text_atomic(kpath, text);
}

int ul_ckpt_readable(const char *path) {
  tl_ckpt *ck = NULL;
  if (tl_ckpt_load(&ck, path, NULL) != TL_OK)
    return 0;
  tl_ckpt_free(ck);
  return 1;
}

int ul_lm_stage(double ppl[2], const ul_task *t, const char *pretrained,
                const ul_pretrained *p, const ul_lm_settings *s,
                const char *work_dir, tl_reporter *rep, int verbose, char *err,
                size_t errcap) {
  char enc_pre[4096], enc_ft[4096], key[1024];
  snprintf(enc_pre, sizeof enc_pre, "%s/encoder_pretrained.tlc", work_dir);
  snprintf(enc_ft, sizeof enc_ft, "%s/encoder_finetuned.tlc", work_dir);
  /* Everything the encoders depend on: the pretrained file's bytes, the
   * target vocabulary's size and its documents, the settings. */
  uint64_t docs_hash = 1469598103934665603ull;
  for (size_t d = 0; d < t->n_docs; d++)
    for (size_t i = 0; i < t->doc_lens[d]; i++)
      docs_hash = (docs_hash ^ (uint64_t)t->doc_ids[d][i] ^
                   ((uint64_t)t->doc_side[d] << 40)) *
                  1099511628211ull;
  snprintf(key, sizeof key,
           "pretrained=%016llx vocab=%zu docs=%016llx bs=%zu bptt=%zu "
           "frozen_epochs=%llu epochs=%llu lr_frozen=%.17g lr=%.17g "
           "wd=%.17g drop_mult=%.9g seed=%llu",
           (unsigned long long)p->fingerprint, t->vocab_size,
           (unsigned long long)docs_hash, s->bs, s->bptt,
           (unsigned long long)s->frozen_epochs, (unsigned long long)s->epochs,
           s->lr_frozen, s->lr, s->wd, (double)s->drop_mult,
           (unsigned long long)s->seed);
  const int keyed = ul_cache_valid(enc_pre, key) &&
                    ul_cache_valid(enc_ft, key) && cached_ppl(ppl, enc_ft) == 0;
  if (keyed && ul_ckpt_readable(enc_pre) && ul_ckpt_readable(enc_ft)) {
    if (verbose)
      fprintf(stderr, "stage 2: using the fine-tuned encoder cached in %s\n",
              enc_ft);
    return 0;
  }
  struct stat sb;
  if (verbose && (keyed || stat(enc_ft, &sb) == 0))
    fprintf(stderr,
            "stage 2: the encoders cached in %s are %s: rebuilding them\n",
            work_dir, keyed ? "damaged" : "from other inputs or settings");
  int rc = 0;
  const int64_t **docs = calloc(t->n_docs, sizeof *docs);
  size_t *lens = calloc(t->n_docs, sizeof *lens);
  tl_lm_loader *train = NULL, *test = NULL;
  tl_text_learner *lm = NULL;
  tl_learner *learn = NULL;
  if (!docs || !lens) {
    rc = ul_fail(err, errcap, "out of memory");
    goto done;
  }
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = s->bs;
  lo.bptt = s->bptt;
  lo.seed = s->seed;
  size_t m = side_docs(docs, lens, t, UL_TRAIN);
  TRY(tl_lm_loader_create(&train, docs, lens, m, t->vocab_size, &lo));
  lo.variable_length = 0;
  lo.shuffle = 0;
  m = side_docs(docs, lens, t, UL_TEST);
  TRY(tl_lm_loader_create(&test, docs, lens, m, t->vocab_size, &lo));
  tl_awd_lstm_options awd = p->awd;
  awd.seed = s->seed;
  tl_learner_options opt = TL_LEARNER_OPTIONS_INIT;
  opt.wd = s->wd;
  /* learn = language_model_learner(dls_lm, AWD_LSTM, drop_mult,
   * pretrained): the pretrained rows remapped onto the target vocabulary,
   * frozen. */
  TRY(tl_language_model_learner(&lm, t->vocab, &awd, s->drop_mult, pretrained,
                                &opt));
  TRY(tl_text_learner_learner(&learn, lm));
  TRY(tl_learner_set_lm_data(learn, train, test, s->bs, s->bptt));
  TRY(tl_learner_add_metric(learn, TL_LEARNER_METRIC_PERPLEXITY, 0));
  if (rep)
    TRY(tl_learner_add_reporter(learn, rep));
  double loss;
  TRY(tl_learner_validate(&loss, &ppl[0], 1, learn));
  if (verbose)
    fprintf(stderr,
            "stage 2: held-out target perplexity with the pretrained LM: "
            "%.2f\n",
            ppl[0]);
  TRY(tl_text_learner_save_encoder(lm, enc_pre));
  /* No validation pass after every epoch: the held-out perplexity is
   * measured once before and once after. */
  TRY(tl_learner_set_lm_data(learn, train, NULL, s->bs, s->bptt));
  if (s->frozen_epochs)
    TRY(ul_one_cycle(learn, s->frozen_epochs, s->lr_frozen, 0));
  TRY(tl_learner_unfreeze(learn));
  if (s->epochs)
    TRY(ul_one_cycle(learn, s->epochs, s->lr, 0));
  TRY(tl_learner_set_lm_data(learn, train, test, s->bs, s->bptt));
  TRY(tl_learner_validate(&loss, &ppl[1], 1, learn));
  if (verbose)
    fprintf(stderr,
            "stage 2: held-out target perplexity after fine-tuning: %.2f\n",
            ppl[1]);
  TRY(tl_text_learner_save_encoder(lm, enc_ft));
  if (write_ppl(ppl, enc_ft) || ul_cache_write_key(enc_pre, key) ||
      ul_cache_write_key(enc_ft, key))
    rc = ul_fail(err, errcap, "cannot write into the work directory %s: %s",
                 work_dir, strerror(errno));
done:
  tl_text_learner_free(lm);
  tl_lm_loader_free(test);
  tl_lm_loader_free(train);
  free(docs);
  free(lens);
  return rc;
}
