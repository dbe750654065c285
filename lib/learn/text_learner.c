/* fastai's text learners (include/tl/text_learner.h): the AWD-LSTM
 * builders of lib/arch under a tl_learner, with the vocabulary, tokenizer
 * settings and labels fastai keeps in its DataLoaders, and export /
 * load_learner / predict / get_preds. Uses the public APIs of the layers
 * below only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/arch.h"
#include "tl/ckpt.h"
#include "tl/predict.h"
#include "tl/text_learner.h"

/* fastai's SentenceEncoder defaults (text_classifier_learner: seq_len 72,
 * max_len 72 * 20). */
#define TLI_TEXT_BPTT 72
#define TLI_TEXT_MAX_LEN (72 * 20)
#define TLI_STATE_MARK "@state."

/* A classification batch source that resets the encoder's carried state
 * before each batch (the classifier encoder is stateful for tl_doc_encoder;
 * batches are independent documents). */
typedef struct clas_src {
  tl_model *encoder;
  tl_clas_loader *loader;
  size_t *lens; /* per document */
  size_t n_docs, max_len;
  size_t *batch_lens;
  size_t cap;
} clas_src;

struct tl_text_learner {
  int is_clas;
  tl_learner *learner;
  tl_model *models[2]; /* our own references */
  tl_vocab *vocab;
  tl_label_vocab *labels; /* classifier */
  tl_tokenizer_options tok_opts;
  tl_tokenizer *tok;
  size_t bptt, max_len;
  tl_doc_encoder *doc;
  int64_t *ids;
  size_t ids_cap;
  float *probs;
  size_t probs_cap;
  clas_src src[2]; /* train, valid */
};

/* ---- creation ------------------------------------------------------------ */

static tl_status copy_vocab(tl_vocab **out, const tl_vocab *vocab) {
  const char *const *tokens = NULL;
  size_t n = 0;
  TLI_TRY(tl_vocab_size(&n, vocab));
  TLI_TRY(tl_vocab_tokens(&tokens, vocab));
  return tl_vocab_create(out, tokens, n);
}

static tl_status copy_labels(tl_label_vocab **out, const tl_label_vocab *lv,
                             const char *fn) {
  size_t len = 0;
  TLI_TRY(tl_label_vocab_to_string(NULL, 0, &len, lv));
  char *text = NULL;
  TLI_TRY(tli_alloc_checked((void **)&text, len + 1, 1, fn));
  tl_status st = tl_label_vocab_to_string(text, len + 1, NULL, lv);
  if (st == TL_OK)
    st = tl_label_vocab_from_string(out, text);
  tli_free(text);
  return st;
}

static void src_free(clas_src *s) {
  tli_free(s->lens);
  tli_free(s->batch_lens);
  memset(s, 0, sizeof *s);
}

void tl_text_learner_free(tl_text_learner *tl) {
  if (tl == NULL)
    return;
  tl_doc_encoder_free(tl->doc);
  tl_learner_free(tl->learner);
  tl_model_free(tl->models[1]);
  tl_model_free(tl->models[0]);
  tl_vocab_free(tl->vocab);
  tl_label_vocab_free(tl->labels);
  tl_tokenizer_free(tl->tok);
  tli_free(tl->ids);
  tli_free(tl->probs);
  src_free(&tl->src[0]);
  src_free(&tl->src[1]);
  tli_free(tl);
}

/* A text learner around models (our references taken over) and a copy of
 * vocab; the learner over them with options. */
static tl_status wrap(tl_text_learner **out, tl_model *a, tl_model *b,
                      const tl_vocab *vocab, int is_clas,
                      const tl_learner_options *options, const char *fn) {
  tl_text_learner *tl = NULL;
  tl_status st = tli_alloc_checked((void **)&tl, 1, sizeof *tl, fn);
  if (st != TL_OK) {
    tl_model_free(b);
    tl_model_free(a);
    return st;
  }
  memset(tl, 0, sizeof *tl);
  tl->models[0] = a;
  tl->models[1] = b;
  tl->is_clas = is_clas;
  tl->bptt = TLI_TEXT_BPTT;
  tl->max_len = TLI_TEXT_MAX_LEN;
  tl_tokenizer_options to = TL_TOKENIZER_OPTIONS_INIT;
  tl->tok_opts = to;
  st = copy_vocab(&tl->vocab, vocab);
  if (st == TL_OK)
    st = tl_learner_create(&tl->learner, tl->models, 2, options);
  if (st != TL_OK) {
    tl_text_learner_free(tl);
    return st;
  }
  *out = tl;
  return TL_OK;
}

/* fastai's awd_lstm_lm_split across the two models: the decoder joins the
 * embedding's group, the encoder's last. */
static tl_status lm_groups(tl_text_learner *tl) {
  size_t g = 0;
  TLI_TRY(tl_learner_get_group(&g, tl->learner, 0, "encoder"));
  return tl_learner_set_group(tl->learner, 1, "decoder", g);
}

/* The pretrained LM's rows follow vocab, then its tensors fill the
 * models: the encoder's strictly under "0.", the decoder's bias under
 * "1.". */
static tl_status load_pretrained(tl_text_learner *tl, const char *path,
                                 const char *fn) {
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_load(&ck, path, NULL));
  const char *const *tokens = NULL;
  size_t n_vocab = 0, idx = 0, old = 0;
  tl_status st = tl_vocab_tokens(&tokens, tl->vocab);
  if (st == TL_OK)
    st = tl_vocab_size(&n_vocab, tl->vocab);
  if (st == TL_OK && tl_ckpt_find_tensor(&idx, ck, "0.encoder.weight") != TL_OK)
    st = tli_fail(TL_E_NOT_FOUND,
                  "%s: the pretrained file has no tensor '0.encoder.weight' "
                  "(an AWD-LSTM LM under fastai's names)",
                  fn);
  const int has_vocab = tl_ckpt_vocab_size(&old, ck) == TL_OK;
  const int has_bias = tl_ckpt_find_tensor(&idx, ck, "1.decoder.bias") == TL_OK;
  if (st == TL_OK)
    tl_clear_error(); /* the probes' "not found" is no error */
  if (st == TL_OK && has_vocab) {
    const char *names[2] = {"0.encoder.weight", "1.decoder.bias"};
    st =
        tl_ckpt_remap_vocab(NULL, ck, tokens, n_vocab, names, has_bias ? 2 : 1);
  }
  tl_model_load_options o = TL_MODEL_LOAD_OPTIONS_INIT;
  o.prefix = "0.";
  if (st == TL_OK)
    st = tl_ckpt_restore_model(tl->models[0], ck, &o);
  o.prefix = "1.";
  o.strict = 0;
  if (st == TL_OK)
    st = tl_ckpt_restore_model(tl->models[1], ck, &o);
  tl_ckpt_free(ck);
  if (st != TL_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tl_last_error());
    return tli_fail(st, "%s: pretrained '%s': %s", fn, path, msg);
  }
  return TL_OK;
}

tl_status tl_language_model_learner(tl_text_learner **out,
                                    const tl_vocab *vocab,
                                    const tl_awd_lstm_options *awd,
                                    float drop_mult, const char *pretrained,
                                    const tl_learner_options *options) {
  const char *fn = "tl_language_model_learner";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, vocab);
  size_t n_vocab = 0;
  TLI_TRY(tl_vocab_size(&n_vocab, vocab));
  tl_model *enc = NULL, *dec = NULL;
  TLI_TRY(tl_awd_lstm_lm_create(&enc, &dec, n_vocab, awd, drop_mult));
  tl_text_learner *tl = NULL;
  TLI_TRY(wrap(&tl, enc, dec, vocab, 0, options, fn));
  tl_status st = lm_groups(tl);
  if (st == TL_OK && pretrained != NULL) {
    st = load_pretrained(tl, pretrained, fn);
    if (st == TL_OK)
      st = tl_learner_freeze(tl->learner); /* fastai: learn.freeze() */
  }
  if (st != TL_OK) {
    tl_text_learner_free(tl);
    return st;
  }
  *out = tl;
  return TL_OK;
}

tl_status tl_text_classifier_learner(
    tl_text_learner **out, const tl_vocab *vocab, const tl_label_vocab *labels,
    float drop_mult, size_t max_len, const size_t *lin_ftrs, size_t n_lin_ftrs,
    const float *ps, size_t n_ps, const tl_awd_lstm_options *awd,
    const tl_learner_options *options) {
  const char *fn = "tl_text_classifier_learner";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK_PTR(fn, labels);
  size_t n_vocab = 0, n_classes = 0;
  TLI_TRY(tl_vocab_size(&n_vocab, vocab));
  TLI_TRY(tl_label_vocab_size(&n_classes, labels));
  tl_model *enc = NULL, *head = NULL;
  TLI_TRY(tl_awd_lstm_clas_create(&enc, &head, n_vocab, n_classes, awd,
                                  drop_mult, lin_ftrs, n_lin_ftrs, ps, n_ps));
  tl_text_learner *tl = NULL;
  TLI_TRY(wrap(&tl, enc, head, vocab, 1, options, fn));
  tl->max_len = max_len ? max_len : TLI_TEXT_MAX_LEN;
  tl_status st = copy_labels(&tl->labels, labels, fn);
  if (st != TL_OK) {
    tl_text_learner_free(tl);
    return st;
  }
  *out = tl; /* groups: the models' concatenated = awd_lstm_clas_split */
  return TL_OK;
}

tl_status tl_text_learner_learner(tl_learner **out, tl_text_learner *tl) {
  TLI_CHECK_PTR("tl_text_learner_learner", out);
  TLI_CHECK_PTR("tl_text_learner_learner", tl);
  *out = tl->learner;
  return TL_OK;
}

tl_status tl_text_learner_vocab(const tl_vocab **out,
                                const tl_text_learner *tl) {
  TLI_CHECK_PTR("tl_text_learner_vocab", out);
  TLI_CHECK_PTR("tl_text_learner_vocab", tl);
  *out = tl->vocab;
  return TL_OK;
}

tl_status tl_text_learner_labels(const tl_label_vocab **out,
                                 const tl_text_learner *tl) {
  TLI_CHECK_PTR("tl_text_learner_labels", out);
  TLI_CHECK_PTR("tl_text_learner_labels", tl);
  TLI_CHECK(tl->is_clas, TL_E_STATE,
            "tl_text_learner_labels: a language-model learner has no labels");
  *out = tl->labels;
  return TL_OK;
}

/* ---- classification data -------------------------------------------------
 */

static tl_status clas_next(void *payload, tl_batch *out, int *out_has) {
  clas_src *s = payload;
  const int64_t *x = NULL, *y = NULL;
  const size_t *docs = NULL;
  size_t t = 0, b = 0;
  TLI_TRY(tl_clas_loader_next(&x, &y, &t, &b, &docs, s->loader));
  if (b == 0) {
    *out_has = 0;
    return TL_OK;
  }
  if (b > s->cap) {
    size_t *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, b, sizeof *p, "clas batches"));
    tli_free(s->batch_lens);
    s->batch_lens = p;
    s->cap = b;
  }
  for (size_t i = 0; i < b; i++) {
    TLI_CHECK(docs[i] < s->n_docs, TL_E_INVALID_ARG,
              "tl_text_learner_set_clas_data: the loader yields document %zu "
              "but only %zu lengths were given",
              docs[i], s->n_docs);
    size_t len = s->lens[docs[i]];
    if (s->max_len > 0 && len > s->max_len)
      len = s->max_len;
    s->batch_lens[i] = len < t ? len : t;
  }
  /* independent documents: each batch from a zero state */
  TLI_TRY(tl_model_reset_state(s->encoder));
  out->ids = x;
  out->x = NULL;
  out->dims[0] = t;
  out->dims[1] = b;
  out->ndim = 2;
  out->targets = y;
  out->n_targets = b;
  out->lengths = s->batch_lens;
  out->n_lengths = b;
  out->batch_size = b;
  *out_has = 1;
  return TL_OK;
}

static tl_status src_init(clas_src *s, tl_model *encoder,
                          tl_clas_loader *loader, const size_t *lens, size_t n,
                          size_t max_len, const char *arg, const char *fn) {
  memset(s, 0, sizeof *s);
  TLI_CHECK(lens != NULL && n > 0, TL_E_INVALID_ARG, "%s: %s is NULL or empty",
            fn, arg);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(lens[i] > 0, TL_E_INVALID_ARG, "%s: %s[%zu] is 0", fn, arg, i);
  TLI_TRY(tli_alloc_checked((void **)&s->lens, n, sizeof *s->lens, fn));
  memcpy(s->lens, lens, n * sizeof *lens);
  s->n_docs = n;
  s->encoder = encoder;
  s->loader = loader;
  s->max_len = max_len;
  return TL_OK;
}

tl_status tl_text_learner_set_clas_data(
    tl_text_learner *tl, tl_clas_loader *train, tl_clas_loader *valid,
    const size_t *train_lens, size_t n_train, const size_t *valid_lens,
    size_t n_valid, size_t batch_size, size_t max_len) {
  const char *fn = "tl_text_learner_set_clas_data";
  TLI_CHECK_PTR(fn, tl);
  TLI_CHECK_PTR(fn, train);
  TLI_CHECK(tl->is_clas, TL_E_STATE,
            "%s: a language-model learner takes tl_learner_set_lm_data", fn);
  TLI_CHECK(batch_size > 0, TL_E_INVALID_ARG, "%s: batch_size is 0", fn);
  clas_src s[2];
  memset(s, 0, sizeof s);
  tl_status st = src_init(&s[0], tl->models[0], train, train_lens, n_train,
                          max_len, "train_lens", fn);
  if (st == TL_OK && valid != NULL)
    st = src_init(&s[1], tl->models[0], valid, valid_lens, n_valid, max_len,
                  "valid_lens", fn);
  tl_batch_source bs[2] = {TL_BATCH_SOURCE_INIT, TL_BATCH_SOURCE_INIT};
  for (size_t i = 0; i < 2; i++) {
    bs[i].next = clas_next;
    bs[i].n_batches = (s[i].n_docs + batch_size - 1) / batch_size;
  }
  /* the sources point at tl->src, which outlives the learner's use */
  if (st == TL_OK) {
    src_free(&tl->src[0]);
    src_free(&tl->src[1]);
    tl->src[0] = s[0];
    tl->src[1] = s[1];
    bs[0].payload = &tl->src[0];
    bs[1].payload = &tl->src[1];
    st = tl_learner_set_data(tl->learner, &bs[0], valid ? &bs[1] : NULL);
    return st;
  }
  src_free(&s[0]);
  src_free(&s[1]);
  return st;
}

/* ---- encoders --------------------------------------------------------------
 */

tl_status tl_text_learner_save_encoder(const tl_text_learner *tl,
                                       const char *path) {
  TLI_CHECK_PTR("tl_text_learner_save_encoder", tl);
  return tl_encoder_save(tl->models[0], tl->vocab, path);
}

tl_status tl_text_learner_load_encoder(tl_text_learner *tl, const char *path) {
  TLI_CHECK_PTR("tl_text_learner_load_encoder", tl);
  TLI_TRY(tl_encoder_load(tl->models[0], tl->vocab, path, NULL));
  tl_optim *o = NULL;
  TLI_TRY(tl_learner_optim(&o, tl->learner));
  return tl_optim_reset_state(o); /* fastai: the optimizer is rebuilt */
}

/* ---- export / load_learner -------------------------------------------------
 */

static tl_status set_meta_size(tl_ckpt *ck, const char *key, size_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%zu", v);
  return tl_ckpt_set_meta(ck, key, buf);
}

/* "<model>.<layer>=<group>;..." of every layer of both models. */
static tl_status groups_string(char **out, const tl_text_learner *tl,
                               const char *fn) {
  size_t cap = 1, n_layers[2];
  for (size_t m = 0; m < 2; m++) {
    TLI_TRY(tl_model_num_layers(&n_layers[m], tl->models[m]));
    cap += n_layers[m] * (TL_MODEL_MAX_DIMS + 64 + 32);
  }
  char *s = NULL;
  TLI_TRY(tli_alloc_checked((void **)&s, cap, 1, fn));
  size_t at = 0;
  s[0] = '\0';
  for (size_t m = 0; m < 2; m++)
    for (size_t l = 0; l < n_layers[m]; l++) {
      const char *name = NULL;
      size_t g = 0;
      tl_status st = tl_model_layer_name(&name, tl->models[m], l);
      if (st == TL_OK)
        st = tl_learner_get_group(&g, tl->learner, m, name);
      if (st != TL_OK) {
        tli_free(s);
        return st;
      }
      at += (size_t)snprintf(s + at, cap - at, "%s%zu.%s=%zu", at ? ";" : "", m,
                             name, g);
    }
  *out = s;
  return TL_OK;
}

static tl_status export_into(tl_ckpt *ck, const tl_text_learner *tl,
                             const char *fn) {
  const char *prefixes[2] = {"0.", "1."};
  for (size_t m = 0; m < 2; m++)
    TLI_TRY(tl_ckpt_store_model(ck, tl->models[m], prefixes[m]));
  /* carried LSTM states are a run's, not the model's */
  size_t n = 0;
  TLI_TRY(tl_ckpt_tensor_count(&n, ck));
  for (size_t i = n; i-- > 0;) {
    tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT;
    TLI_TRY(tl_ckpt_tensor_info(&d, ck, i));
    if (strstr(d.name, TLI_STATE_MARK) != NULL)
      TLI_TRY(tl_ckpt_remove_tensor(ck, i));
  }
  const tl_model *models[2] = {tl->models[0], tl->models[1]};
  TLI_TRY(tl_ckpt_store_arch(ck, models, prefixes, 2));
  const char *const *tokens = NULL;
  size_t n_vocab = 0;
  TLI_TRY(tl_vocab_size(&n_vocab, tl->vocab));
  TLI_TRY(tl_vocab_tokens(&tokens, tl->vocab));
  TLI_TRY(tl_ckpt_set_vocab(ck, tokens, n_vocab));
  TLI_TRY(tl_ckpt_set_meta(ck, TL_TEXT_LEARNER_META_KIND,
                           tl->is_clas ? "classifier" : "lm"));
  char tok[96];
  snprintf(tok, sizeof tok, "add_bos=%d;add_eos=%d;replace_invalid=%d",
           tl->tok_opts.add_bos, tl->tok_opts.add_eos,
           tl->tok_opts.replace_invalid);
  TLI_TRY(tl_ckpt_set_meta(ck, TL_TEXT_LEARNER_META_TOKENIZER, tok));
  TLI_TRY(set_meta_size(ck, TL_TEXT_LEARNER_META_BPTT, tl->bptt));
  TLI_TRY(set_meta_size(ck, TL_TEXT_LEARNER_META_MAX_LEN, tl->max_len));
  char *groups = NULL;
  TLI_TRY(groups_string(&groups, tl, fn));
  tl_status st = tl_ckpt_set_meta(ck, TL_TEXT_LEARNER_META_GROUPS, groups);
  tli_free(groups);
  TLI_TRY(st);
  if (tl->is_clas) {
    size_t len = 0;
    TLI_TRY(tl_label_vocab_to_string(NULL, 0, &len, tl->labels));
    char *text = NULL;
    TLI_TRY(tli_alloc_checked((void **)&text, len + 1, 1, fn));
    st = tl_label_vocab_to_string(text, len + 1, NULL, tl->labels);
    if (st == TL_OK)
      st = tl_ckpt_set_meta(ck, TL_LABEL_VOCAB_META_KEY, text);
    tli_free(text);
    TLI_TRY(st);
  }
  return TL_OK;
}

tl_status tl_text_learner_export(const tl_text_learner *tl, const char *path) {
  const char *fn = "tl_text_learner_export";
  TLI_CHECK_PTR(fn, tl);
  TLI_CHECK_PTR(fn, path);
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_create(&ck));
  tl_status st = export_into(ck, tl, fn);
  if (st == TL_OK)
    st = tl_ckpt_save(ck, path);
  tl_ckpt_free(ck);
  return st;
}

static tl_status meta_size(size_t *out, const tl_ckpt *ck, const char *key,
                           const char *fn) {
  const char *v = NULL;
  TLI_CHECK(tl_ckpt_get_meta(&v, ck, key) == TL_OK, TL_E_NOT_FOUND,
            "%s: the file has no '%s' metadata", fn, key);
  unsigned long long x = 0;
  int used = 0;
  TLI_CHECK(sscanf(v, "%llu%n", &x, &used) == 1 && v[used] == '\0' &&
                v[0] >= '0' && v[0] <= '9' && x >= 1 && x <= (1ull << 30),
            TL_E_FORMAT,
            "%s: metadata '%s' is '%.40s', not a size in [1, 2^30]", fn, key,
            v);
  *out = (size_t)x;
  return TL_OK;
}

static tl_status read_tokenizer(tl_tokenizer_options *o, const tl_ckpt *ck,
                                const char *fn) {
  const char *v = NULL;
  TLI_CHECK(tl_ckpt_get_meta(&v, ck, TL_TEXT_LEARNER_META_TOKENIZER) == TL_OK,
            TL_E_NOT_FOUND, "%s: the file has no '%s' metadata", fn,
            TL_TEXT_LEARNER_META_TOKENIZER);
  int bos = -1, eos = -1, rep = -1, used = 0;
  TLI_CHECK(sscanf(v, "add_bos=%d;add_eos=%d;replace_invalid=%d%n", &bos, &eos,
                   &rep, &used) == 3 &&
                v[used] == '\0' && (bos == 0 || bos == 1) &&
                (eos == 0 || eos == 1) && (rep == 0 || rep == 1),
            TL_E_FORMAT, "%s: tokenizer metadata '%.80s' is malformed", fn, v);
  o->add_bos = bos;
  o->add_eos = eos;
  o->replace_invalid = rep;
  return TL_OK;
}

/* Applies "<model>.<layer>=<group>;..." to the learner. */
static tl_status apply_groups(tl_text_learner *tl, const tl_ckpt *ck,
                              const char *fn) {
  const char *v = NULL;
  TLI_CHECK(tl_ckpt_get_meta(&v, ck, TL_TEXT_LEARNER_META_GROUPS) == TL_OK,
            TL_E_NOT_FOUND, "%s: the file has no '%s' metadata", fn,
            TL_TEXT_LEARNER_META_GROUPS);
  while (*v != '\0') {
    unsigned m = 0;
    char name[64];
    unsigned long g = 0;
    int used = 0;
    TLI_CHECK(sscanf(v, "%u.%63[A-Za-z0-9_]=%lu%n", &m, name, &g, &used) == 3 &&
                  m < 2 && (v[used] == ';' || v[used] == '\0'),
              TL_E_FORMAT, "%s: groups metadata is malformed at '%.40s'", fn,
              v);
    tl_status st = tl_learner_set_group(tl->learner, m, name, (size_t)g);
    if (st != TL_OK) {
      char msg[400];
      snprintf(msg, sizeof msg, "%s", tl_last_error());
      return tli_fail(TL_E_FORMAT, "%s: groups metadata: %s", fn, msg);
    }
    v += used + (v[used] == ';');
  }
  return TL_OK;
}

static tl_status load_into(tl_text_learner **out, const tl_ckpt *ck,
                           const tl_learner_options *options, const char *fn) {
  size_t n = 0;
  if (tl_ckpt_arch_count(&n, ck) != TL_OK)
    return tli_fail(TL_E_NOT_FOUND,
                    "%s: the file has no architecture section (not an "
                    "exported learner)",
                    fn);
  TLI_CHECK(n == 2, TL_E_FORMAT,
            "%s: the architecture section has %zu models, an exported text "
            "learner has 2",
            fn, n);
  const char *kind = NULL;
  TLI_CHECK(tl_ckpt_get_meta(&kind, ck, TL_TEXT_LEARNER_META_KIND) == TL_OK,
            TL_E_NOT_FOUND, "%s: the file has no '%s' metadata", fn,
            TL_TEXT_LEARNER_META_KIND);
  const int is_clas = strcmp(kind, "classifier") == 0;
  TLI_CHECK(is_clas || strcmp(kind, "lm") == 0, TL_E_FORMAT,
            "%s: learner kind '%.40s' is neither 'lm' nor 'classifier'", fn,
            kind);
  size_t n_vocab = 0;
  TLI_CHECK(tl_ckpt_vocab_size(&n_vocab, ck) == TL_OK && n_vocab > 0,
            TL_E_NOT_FOUND, "%s: the file has no vocabulary", fn);
  tl_tokenizer_options to = TL_TOKENIZER_OPTIONS_INIT;
  TLI_TRY(read_tokenizer(&to, ck, fn));
  size_t bptt = 0, max_len = 0;
  TLI_TRY(meta_size(&bptt, ck, TL_TEXT_LEARNER_META_BPTT, fn));
  TLI_TRY(meta_size(&max_len, ck, TL_TEXT_LEARNER_META_MAX_LEN, fn));
  TLI_CHECK(max_len >= bptt, TL_E_FORMAT, "%s: max_len %zu is below bptt %zu",
            fn, max_len, bptt);
  tl_label_vocab *labels = NULL;
  if (is_clas) {
    const char *text = NULL;
    TLI_CHECK(tl_ckpt_get_meta(&text, ck, TL_LABEL_VOCAB_META_KEY) == TL_OK,
              TL_E_NOT_FOUND, "%s: a classifier file has no '%s' metadata", fn,
              TL_LABEL_VOCAB_META_KEY);
    TLI_TRY(tl_label_vocab_from_string(&labels, text));
  }
  /* the vocabulary, as a tl_vocab */
  const char **tokens = NULL;
  tl_vocab *vocab = NULL;
  tl_status st =
      tli_alloc_checked((void **)&tokens, n_vocab, sizeof *tokens, fn);
  for (size_t i = 0; st == TL_OK && i < n_vocab; i++)
    st = tl_ckpt_vocab_token(&tokens[i], ck, i);
  if (st == TL_OK)
    st = tl_vocab_create(&vocab, tokens, n_vocab);
  tli_free(tokens);
  tl_model *models[2] = {NULL, NULL};
  if (st == TL_OK)
    st = tl_ckpt_create_models(models, 2, ck, 1);
  tl_text_learner *tl = NULL;
  if (st == TL_OK) {
    st = wrap(&tl, models[0], models[1], vocab, is_clas, options, fn);
    models[0] = models[1] = NULL; /* taken over, even on failure */
  }
  tl_vocab_free(vocab);
  if (st == TL_OK) {
    tl->tok_opts = to;
    tl->bptt = bptt;
    tl->max_len = max_len;
    tl->labels = labels;
    labels = NULL;
    st = apply_groups(tl, ck, fn);
  }
  /* the classifier's label count must match its head */
  if (st == TL_OK && is_clas) {
    size_t k = 0, nd = 0, dims[TL_MODEL_MAX_DIMS], nl = 0;
    const char *last = NULL;
    st = tl_label_vocab_size(&k, tl->labels);
    if (st == TL_OK)
      st = tl_model_num_layers(&nl, tl->models[1]);
    if (st == TL_OK)
      st = tl_model_layer_name(&last, tl->models[1], nl - 1);
    char pname[96];
    snprintf(pname, sizeof pname, "%s.weight", last ? last : "");
    if (st == TL_OK)
      st = tl_model_param_shape(&nd, dims, NULL, tl->models[1], pname);
    if (st == TL_OK && dims[0] != k)
      st = tli_fail(TL_E_FORMAT,
                    "%s: the head has %zu outputs but the labels %zu classes",
                    fn, dims[0], k);
  }
  tl_label_vocab_free(labels);
  tl_model_free(models[1]);
  tl_model_free(models[0]);
  if (st != TL_OK) {
    tl_text_learner_free(tl);
    return st;
  }
  *out = tl;
  return TL_OK;
}

tl_status tl_load_learner(tl_text_learner **out, const char *path,
                          const tl_learner_options *options) {
  const char *fn = "tl_load_learner";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, path);
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_load(&ck, path, NULL));
  tl_status st = load_into(out, ck, options, fn);
  tl_ckpt_free(ck);
  if (st != TL_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tl_last_error());
    st = tli_fail(st, "%s: %s: %s", fn, path, msg);
  }
  return st;
}

/* ---- predict / get_preds --------------------------------------------------
 */

static tl_status check_clas(const tl_text_learner *tl, size_t n_classes,
                            const char *fn) {
  TLI_CHECK(tl->is_clas, TL_E_STATE,
            "%s: a language-model learner does not classify", fn);
  size_t k = 0;
  TLI_TRY(tl_label_vocab_size(&k, tl->labels));
  TLI_CHECK(n_classes == k, TL_E_INVALID_ARG,
            "%s: n_classes is %zu but the learner has %zu classes", fn,
            n_classes, k);
  return TL_OK;
}

tl_status tl_text_learner_predict(int64_t *out_class, float *out_probs,
                                  size_t n_classes, tl_text_learner *tl,
                                  const char *text, size_t len) {
  const char *fn = "tl_text_learner_predict";
  TLI_CHECK_PTR(fn, tl);
  TLI_CHECK_PTR(fn, text);
  TLI_TRY(check_clas(tl, n_classes, fn));
  TLI_CHECK(len > 0, TL_E_INVALID_ARG, "%s: the text is empty (len 0)", fn);
  if (tl->tok == NULL)
    TLI_TRY(tl_tokenizer_create(&tl->tok, &tl->tok_opts));
  if (tl->doc == NULL) {
    tl_doc_encoder_options o = TL_DOC_ENCODER_OPTIONS_INIT;
    o.bptt = tl->bptt;
    o.max_len = tl->max_len;
    TLI_TRY(tl_doc_encoder_create(&tl->doc, tl->models[0], tl->models[1], &o));
  }
  size_t n = 0;
  TLI_TRY(tl_tokenizer_run(&n, tl->tok, text, len));
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: the text has no tokens", fn);
  if (n > tl->ids_cap) {
    int64_t *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, n, sizeof *p, fn));
    tli_free(tl->ids);
    tl->ids = p;
    tl->ids_cap = n;
  }
  if (n_classes > tl->probs_cap) {
    float *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, n_classes, sizeof *p, fn));
    tli_free(tl->probs);
    tl->probs = p;
    tl->probs_cap = n_classes;
  }
  TLI_TRY(tl_vocab_encode_run(tl->ids, n, tl->vocab, tl->tok));
  /* a single document: no padding */
  TLI_TRY(tl_model_set_lengths(tl->models[1], NULL, 0));
  TLI_TRY(tl_predict_ids(tl->probs, n_classes, tl->doc, tl->ids, n));
  size_t best = 0;
  for (size_t k = 1; k < n_classes; k++)
    if (tl->probs[k] > tl->probs[best])
      best = k;
  if (out_probs != NULL)
    memcpy(out_probs, tl->probs, n_classes * sizeof *out_probs);
  if (out_class != NULL)
    *out_class = (int64_t)best;
  return TL_OK;
}

/* Softmax of row[0..k) into out, in double. */
static void softmax_row(float *out, const float *row, size_t k) {
  double m = row[0], s = 0.0;
  for (size_t j = 1; j < k; j++)
    m = row[j] > m ? row[j] : m;
  for (size_t j = 0; j < k; j++)
    s += exp((double)row[j] - m);
  for (size_t j = 0; j < k; j++)
    out[j] = (float)(exp((double)row[j] - m) / s);
}

static tl_status preds_pass(float *out_probs, int64_t *out_targets,
                            size_t capacity, size_t *out_n, tl_text_learner *tl,
                            tl_clas_loader *loader, clas_src *s, size_t k,
                            const char *fn) {
  size_t done = 0;
  for (;;) {
    tl_batch b;
    memset(&b, 0, sizeof b);
    int has = 0;
    TLI_TRY(clas_next(s, &b, &has));
    if (!has)
      break;
    const size_t bs = b.dims[1];
    TLI_CHECK(done + bs <= capacity, TL_E_INVALID_ARG,
              "%s: the loader holds more than capacity %zu documents", fn,
              capacity);
    const float *h = NULL, *y = NULL;
    size_t hd[TL_MODEL_MAX_DIMS], yd[TL_MODEL_MAX_DIMS], hn = 0, yn = 0;
    TLI_TRY(tl_model_set_lengths(tl->models[1], b.lengths, bs));
    TLI_TRY(tl_model_forward_ids(&h, hd, &hn, tl->models[0], b.ids, b.dims, 2));
    TLI_TRY(tl_model_forward(&y, yd, &yn, tl->models[1], h, hd, hn));
    TLI_CHECK(yn == 2 && yd[0] == bs && yd[1] == k, TL_E_SHAPE,
              "%s: the head's output is not (%zu, %zu)", fn, bs, k);
    for (size_t i = 0; i < bs; i++) {
      if (out_probs != NULL)
        softmax_row(out_probs + (done + i) * k, y + i * k, k);
      if (out_targets != NULL)
        out_targets[done + i] = b.targets[i];
    }
    done += bs;
  }
  (void)loader;
  *out_n = done;
  return TL_OK;
}

tl_status tl_text_learner_get_preds(float *out_probs, int64_t *out_targets,
                                    size_t capacity, size_t *out_n,
                                    tl_text_learner *tl, tl_clas_loader *loader,
                                    const size_t *lens, size_t n_lens,
                                    size_t max_len) {
  const char *fn = "tl_text_learner_get_preds";
  TLI_CHECK_PTR(fn, out_n);
  TLI_CHECK_PTR(fn, tl);
  TLI_CHECK_PTR(fn, loader);
  TLI_CHECK(tl->is_clas, TL_E_STATE,
            "%s: a language-model learner does not classify", fn);
  size_t k = 0;
  TLI_TRY(tl_label_vocab_size(&k, tl->labels));
  clas_src s;
  TLI_TRY(
      src_init(&s, tl->models[0], loader, lens, n_lens, max_len, "lens", fn));
  tl_status st = tl_clas_loader_restart(loader);
  if (st == TL_OK)
    st = tl_model_eval(tl->models[0]);
  if (st == TL_OK)
    st = tl_model_eval(tl->models[1]);
  if (st == TL_OK)
    st = preds_pass(out_probs, out_targets, capacity, out_n, tl, loader, &s, k,
                    fn);
  tl_model_set_lengths(tl->models[1], NULL, 0);
  tl_model_reset_state(tl->models[0]);
  src_free(&s);
  return st;
}
