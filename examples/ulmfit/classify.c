#include "classify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logreg.h"

void ul_clas_settings_default(ul_clas_settings *s) {
  s->bs = 32;
  s->lr = 2e-2;
  s->lr_scratch = 1e-2;
  s->drop_mult = 0.5f;
  s->min_steps = 12;
  s->stage_epochs[0] = s->stage_epochs[1] = s->stage_epochs[2] = 1;
  s->stage_epochs[3] = 2;
  s->wd = 0.01;
  s->seed = 0;
}

void ul_clas_epochs(uint64_t epochs[4], size_t n_train,
                    const ul_clas_settings *s) {
  const size_t batches = (n_train + s->bs - 1) / s->bs;
  const size_t scale =
      batches >= s->min_steps ? 1 : (s->min_steps + batches - 1) / batches;
  for (int k = 0; k < 4; k++)
    epochs[k] = s->stage_epochs[k] * scale;
}

#define TRY(call)                                                              \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      rc = ul_fail(err, errcap, "classifier: %s", tl_last_error());            \
      goto done;                                                               \
    }                                                                          \
  } while (0)

int ul_classify(int64_t *pred, int64_t *truth, const ul_task *t,
                const ul_pretrained *p, const size_t *train, size_t n_train,
                const char *encoder, const ul_clas_settings *s,
                tl_reporter *rep, const char *export_path, char *err,
                size_t errcap) {
  const size_t n_test = t->n_side[UL_TEST];
  int rc = 0;
  const int64_t **docs = calloc(n_train + n_test + 1, sizeof *docs);
  size_t *lens = calloc(n_train + n_test + 1, sizeof *lens);
  int64_t *labels = calloc(n_train + n_test + 1, sizeof *labels);
  float *probs = calloc(n_test * UL_NUM_CLASSES + 1, sizeof *probs);
  tl_clas_loader *train_dl = NULL, *test_dl = NULL;
  tl_label_vocab *classes = NULL;
  tl_text_learner *clas = NULL;
  tl_learner *learn = NULL;
  if (!docs || !lens || !labels || !probs) {
    rc = ul_fail(err, errcap, "out of memory");
    goto done;
  }
  const char *names[UL_NUM_CLASSES];
  for (size_t k = 0; k < UL_NUM_CLASSES; k++)
    names[k] = ul_class_label(k);
  TRY(tl_label_vocab_create(&classes, names, UL_NUM_CLASSES));
  for (size_t k = 0; k < UL_NUM_CLASSES; k++) {
    const char *got = NULL;
    TRY(tl_label_vocab_label(&got, classes, (int64_t)k));
    if (strcmp(got, names[k]) != 0) {
      rc = ul_fail(err, errcap, "classifier: label %zu is '%s', not '%s'", k,
                   got, names[k]);
      goto done;
    }
  }
  tl_clas_loader_options co = TL_CLAS_LOADER_OPTIONS_INIT;
  co.batch_size = s->bs;
  co.pad_first = 0;
  co.seed = s->seed;
  for (size_t i = 0; i < n_train; i++) {
    docs[i] = t->ids[train[i]];
    lens[i] = t->lens[train[i]];
    labels[i] = t->labels[train[i]];
  }
  TRY(tl_clas_loader_create(&train_dl, docs, lens, labels, n_train,
                            t->vocab_size, UL_NUM_CLASSES, &co));
  size_t *test_lens = lens + n_train;
  for (size_t i = 0; i < n_test; i++) {
    const size_t j = t->side_idx[UL_TEST][i];
    docs[n_train + i] = t->ids[j];
    test_lens[i] = t->lens[j];
    labels[n_train + i] = t->labels[j];
  }
  co.shuffle = 0;
  co.batch_size = 64;
  TRY(tl_clas_loader_create(&test_dl, docs + n_train, test_lens,
                            labels + n_train, n_test, t->vocab_size,
                            UL_NUM_CLASSES, &co));
  tl_awd_lstm_options awd;
  TRY(tl_awd_lstm_clas_options_init(&awd, TL_AWD_LSTM_OPTIONS_VERSION));
  awd.emb_sz = p->awd.emb_sz;
  awd.n_hid = p->awd.n_hid;
  awd.n_layers = p->awd.n_layers;
  awd.seed = s->seed;
  tl_learner_options opt = TL_LEARNER_OPTIONS_INIT;
  opt.wd = s->wd;
  TRY(tl_text_classifier_learner(&clas, t->vocab, classes, s->drop_mult, 0,
                                 NULL, 0, NULL, 0, &awd, &opt));
  TRY(tl_text_learner_set_clas_data(clas, train_dl, NULL, lens, n_train, NULL,
                                    0, s->bs, 0));
  TRY(tl_text_learner_learner(&learn, clas));
  if (rep)
    TRY(tl_learner_add_reporter(learn, rep));
  uint64_t e[4];
  ul_clas_epochs(e, n_train, s);
  if (encoder) {
    TRY(tl_text_learner_load_encoder(clas, encoder)); /* learn.load_encoder */
    TRY(tl_learner_freeze(learn));
    TRY(ul_one_cycle(learn, e[0], s->lr, 0));
    TRY(tl_learner_freeze_to(learn, -2));
    TRY(ul_one_cycle(learn, e[1], s->lr / 2, 1));
    TRY(tl_learner_freeze_to(learn, -3));
    TRY(ul_one_cycle(learn, e[2], s->lr / 4, 1));
    TRY(tl_learner_unfreeze(learn));
    TRY(ul_one_cycle(learn, e[3], s->lr / 20, 1));
  } else {
    TRY(tl_learner_unfreeze(learn));
    TRY(ul_one_cycle(learn, e[0] + e[1] + e[2] + e[3], s->lr_scratch, 0));
  }
  size_t got = 0;
  TRY(tl_text_learner_get_preds(probs, truth, n_test, &got, clas, test_dl,
                                test_lens, n_test, 0));
  for (size_t r = 0; r < got; r++) {
    const float *row = probs + r * UL_NUM_CLASSES;
    size_t best = 0;
    for (size_t k = 1; k < UL_NUM_CLASSES; k++)
      if (row[k] > row[best])
        best = k;
    pred[r] = (int64_t)best;
  }
  if (got != n_test)
    rc = ul_fail(err, errcap,
                 "classifier: %zu test predictions for %zu passages", got,
                 n_test);
  if (!rc && export_path)
    TRY(tl_text_learner_export(clas, export_path));
done:
  tl_text_learner_free(clas);
  tl_label_vocab_free(classes);
  tl_clas_loader_free(test_dl);
  tl_clas_loader_free(train_dl);
  free(docs);
  free(lens);
  free(labels);
  free(probs);
  return rc;
}

int ul_features_open(ul_features *f, const char *pretrained,
                     const ul_pretrained *p, char *err, size_t errcap) {
  memset(f, 0, sizeof *f);
  tl_learner *learn = NULL;
  tl_model *encoder = NULL;
  tl_awd_lstm_options awd = p->awd;
  f->vocab = p->vocab;
  f->dim = 3 * awd.emb_sz;
  if (tl_language_model_learner(&f->lm, p->vocab, &awd, 1.0f, pretrained,
                                NULL) != TL_OK ||
      tl_text_learner_learner(&learn, f->lm) != TL_OK ||
      tl_learner_model(&encoder, learn, 0) != TL_OK ||
      tl_doc_encoder_create(&f->enc, encoder, NULL, NULL) != TL_OK) {
    ul_fail(err, errcap, "feature extraction: %s", tl_last_error());
    ul_features_close(f);
    return -1;
  }
  return 0;
}

void ul_features_close(ul_features *f) {
  tl_doc_encoder_free(f->enc);
  tl_text_learner_free(f->lm);
  memset(f, 0, sizeof *f);
}

int ul_features_compute(float *out, ul_features *f,
                        const tl_text_corpus *corpus, const size_t *docs,
                        size_t n, size_t max_tokens, char *err, size_t errcap) {
  for (size_t r = 0; r < n; r++) {
    int64_t *ids = NULL;
    size_t len = 0;
    if (ul_encode_doc(&ids, &len, f->vocab, corpus, docs[r]))
      return ul_fail(err, errcap, "feature extraction: %s", tl_last_error());
    if (max_tokens && len > max_tokens)
      len = max_tokens;
    const float *y = NULL;
    size_t T = 0, H = 0;
    tl_status st = len ? tl_doc_encoder_encode(&y, &T, &H, f->enc, ids, len)
                       : TL_E_INVALID_ARG;
    free(ids);
    if (st != TL_OK)
      return ul_fail(err, errcap, "feature extraction, document %zu: %s",
                     docs[r], len ? tl_last_error() : "no tokens");
    /* fastai's masked_concat_pool: [last, max, mean] over the outputs. */
    float *row = out + r * f->dim;
    for (size_t h = 0; h < H; h++) {
      double mx = -INFINITY, sum = 0;
      for (size_t s = 0; s < T; s++) {
        const double v = y[s * H + h];
        mx = v > mx ? v : mx;
        sum += v;
      }
      row[h] = y[(T - 1) * H + h];
      row[H + h] = (float)mx;
      row[2 * H + h] = (float)(sum / (double)T);
    }
  }
  return 0;
}

int ul_features_classify(int64_t *pred, const float *train_x,
                         const int64_t *train_y, size_t n_train,
                         const float *test_x, size_t n_test, size_t dim,
                         uint64_t seed, char *err, size_t errcap) {
  float *x = malloc(n_train * dim * sizeof *x);
  float *xt = malloc(n_test * dim * sizeof *xt);
  if (!x || !xt) {
    free(x);
    free(xt);
    return ul_fail(err, errcap, "out of memory");
  }
  /* Standardised with the training rows' mean and deviation. */
  for (size_t j = 0; j < dim; j++) {
    double m = 0, v = 0;
    for (size_t r = 0; r < n_train; r++)
      m += train_x[r * dim + j];
    m /= (double)n_train;
    for (size_t r = 0; r < n_train; r++) {
      const double d = train_x[r * dim + j] - m;
      v += d * d;
    }
    const double sd = sqrt(v / (double)n_train);
    const double inv = sd > 0 ? 1.0 / sd : 1.0;
    for (size_t r = 0; r < n_train; r++)
      x[r * dim + j] = (float)((train_x[r * dim + j] - m) * inv);
    for (size_t r = 0; r < n_test; r++)
      xt[r * dim + j] = (float)((test_x[r * dim + j] - m) * inv);
  }
  ul_logreg_options o;
  ul_logreg_options_default(&o);
  o.seed = seed;
  const int rc = ul_logreg_fit_predict(pred, NULL, x, train_y, n_train, dim, xt,
                                       n_test, UL_NUM_CLASSES, &o, err, errcap);
  free(x);
  free(xt);
  return rc;
}
