/* fastai's ULMFiT walk-through, call for call, with libtl's learners
 * (docs/learner.md, "The ULMFiT walk-through"), on the small labelled file
 * tests/fixtures/text_sample.tsv with a tiny AWD-LSTM so that it runs in
 * seconds. The fastai line each call stands for is in the comment beside
 * it. 48 short reviews and a 16-wide model learn next to nothing: this
 * shows the calls, not a result (docs/ulmfit.md has the real run).
 * Usage: ulmfit_walkthrough FILE.tsv SCRATCH_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tl/text_learner.h>
#include <tl/tl.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      fprintf(stderr, "%s failed: %s\n", #call, tl_last_error());              \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

enum { MAX_DOCS = 256 };

/* fit_one_cycle(n, slice(top / 2.6^4, top)) or fit_one_cycle(n, top). */
static void one_cycle(tl_learner *learn, uint64_t epochs, double top,
                      int discriminative) {
  tl_fit_one_cycle_options o = TL_FIT_ONE_CYCLE_OPTIONS_INIT;
  o.lr_max = top;
  if (discriminative) {
    o.slice_lo = top / (2.6 * 2.6 * 2.6 * 2.6);
    o.slice_hi = top;
  }
  o.moms[0] = 0.8, o.moms[1] = 0.7, o.moms[2] = 0.8; /* fastai TextLearner */
  CHECK(tl_learner_fit_one_cycle(learn, epochs, &o));
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE.tsv SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  /* Data: "label<TAB>text" lines, tokenized with fastai's rules. */
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  static char *texts[MAX_DOCS], *names[MAX_DOCS];
  static size_t lens[MAX_DOCS], ntok[MAX_DOCS];
  static int64_t *ids[MAX_DOCS], labels[MAX_DOCS];
  char line[4096];
  size_t n = 0;
  while (n < MAX_DOCS && fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = 0;
    tab[1 + strcspn(tab + 1, "\n")] = 0;
    names[n] = strdup(line);
    texts[n] = strdup(tab + 1);
    lens[n] = strlen(texts[n]);
    n++;
  }
  fclose(f);
  tl_text_corpus *corpus;
  CHECK(tl_text_corpus_tokenize(&corpus, (const char *const *)texts, lens, n,
                                NULL, 2));
  tl_token_counts *counts;
  CHECK(tl_token_counts_create(&counts));
  CHECK(tl_token_counts_add_corpus(counts, corpus));
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = 1;
  tl_vocab *vocab;
  CHECK(tl_vocab_create_from_counts(&vocab, counts, &vo));
  size_t vsize;
  CHECK(tl_vocab_size(&vsize, vocab));
  for (size_t d = 0; d < n; d++) {
    CHECK(tl_text_corpus_doc_len(&ntok[d], corpus, d));
    ids[d] = malloc(ntok[d] * sizeof(int64_t));
    CHECK(tl_vocab_encode_doc(ids[d], ntok[d], vocab, corpus, d));
  }
  tl_label_vocab *classes;
  CHECK(tl_label_vocab_create(&classes, (const char *const *)names, n));
  CHECK(tl_label_vocab_encode(labels, classes, (const char *const *)names, n));

  tl_awd_lstm_options awd; /* a tiny AWD-LSTM: the walk-through, not scale */
  CHECK(tl_awd_lstm_options_init(&awd, TL_AWD_LSTM_OPTIONS_VERSION));
  awd.emb_sz = 16, awd.n_hid = 24, awd.n_layers = 3;
  char pretrained[4096], finetuned[4096], exported[4096];
  snprintf(pretrained, sizeof pretrained, "%s/walk_pretrained.tlc", argv[2]);
  snprintf(finetuned, sizeof finetuned, "%s/walk_finetuned.tlc", argv[2]);
  snprintf(exported, sizeof exported, "%s/walk_clas.tlc", argv[2]);

  /* The article starts from a model pretrained on Wikitext-103; here a
   * first LM learner trained for one epoch plays that part. */
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = 4, lo.bptt = 12;
  tl_lm_loader *lm_train;
  CHECK(tl_lm_loader_create(&lm_train, (const int64_t *const *)ids, ntok, n,
                            vsize, &lo));
  tl_text_learner *wiki;
  CHECK(tl_language_model_learner(&wiki, vocab, &awd, 0.3f, NULL, NULL));
  tl_learner *learn;
  CHECK(tl_text_learner_learner(&learn, wiki));
  CHECK(tl_learner_set_lm_data(learn, lm_train, NULL, 4, 12));
  one_cycle(learn, 1, 1e-2, 0);
  CHECK(tl_text_learner_export(wiki, pretrained));
  tl_text_learner_free(wiki);

  /* learn = language_model_learner(dls_lm, AWD_LSTM, drop_mult=0.3)
   *   (the pretrained weights remapped onto this vocabulary; frozen) */
  tl_text_learner *lm;
  CHECK(tl_language_model_learner(&lm, vocab, &awd, 0.3f, pretrained, NULL));
  CHECK(tl_text_learner_learner(&learn, lm));
  CHECK(tl_learner_set_lm_data(learn, lm_train, NULL, 4, 12));
  CHECK(tl_learner_add_metric(learn, TL_LEARNER_METRIC_ACCURACY, 0));
  CHECK(tl_learner_add_metric(learn, TL_LEARNER_METRIC_PERPLEXITY, 0));
  one_cycle(learn, 1, 2e-2, 0);      /* learn.fit_one_cycle(1, 2e-2) */
  CHECK(tl_learner_unfreeze(learn)); /* learn.unfreeze() */
  one_cycle(learn, 2, 2e-3, 0);      /* learn.fit_one_cycle(10, 2e-3) */
  CHECK(tl_text_learner_save_encoder(lm, finetuned)); /* save_encoder */
  tl_text_learner_free(lm);

  /* learn = text_classifier_learner(dls_clas, AWD_LSTM, drop_mult=0.5) */
  tl_clas_loader_options co = TL_CLAS_LOADER_OPTIONS_INIT;
  co.batch_size = 8, co.pad_first = 0, co.seed = 3;
  tl_clas_loader *train, *valid;
  size_t n_classes;
  CHECK(tl_label_vocab_size(&n_classes, classes));
  CHECK(tl_clas_loader_create(&train, (const int64_t *const *)ids, ntok, labels,
                              n, vsize, n_classes, &co));
  co.shuffle = 0;
  CHECK(tl_clas_loader_create(&valid, (const int64_t *const *)ids, ntok, labels,
                              n, vsize, n_classes, &co));
  tl_awd_lstm_options cawd;
  CHECK(tl_awd_lstm_clas_options_init(&cawd, TL_AWD_LSTM_OPTIONS_VERSION));
  cawd.emb_sz = awd.emb_sz, cawd.n_hid = awd.n_hid,
  cawd.n_layers = awd.n_layers;
  tl_text_learner *clas;
  CHECK(tl_text_classifier_learner(&clas, vocab, classes, 0.5f, 0, NULL, 0,
                                   NULL, 0, &cawd, NULL));
  CHECK(tl_text_learner_set_clas_data(clas, train, valid, ntok, n, ntok, n, 8,
                                      0));
  CHECK(tl_text_learner_learner(&learn, clas));
  CHECK(tl_learner_add_metric(learn, TL_LEARNER_METRIC_ACCURACY, 0));
  CHECK(tl_text_learner_load_encoder(clas, finetuned)); /* load_encoder */
  CHECK(tl_learner_freeze(learn));                      /* (frozen) */
  one_cycle(learn, 1, 2e-2, 0);           /* learn.fit_one_cycle(1, 2e-2) */
  CHECK(tl_learner_freeze_to(learn, -2)); /* learn.freeze_to(-2) */
  one_cycle(learn, 1, 1e-2, 1); /* fit_one_cycle(1, slice(1e-2/2.6**4, 1e-2)) */
  CHECK(tl_learner_freeze_to(learn, -3)); /* learn.freeze_to(-3) */
  one_cycle(learn, 1, 5e-3, 1); /* fit_one_cycle(1, slice(5e-3/2.6**4, 5e-3)) */
  CHECK(tl_learner_unfreeze(learn)); /* learn.unfreeze() */
  one_cycle(learn, 2, 1e-3, 1); /* fit_one_cycle(2, slice(1e-3/2.6**4, 1e-3)) */
  double acc = 0.0;
  size_t rows = 0;
  CHECK(tl_learner_history_num_rows(&rows, learn));
  CHECK(tl_learner_history_value(&acc, learn, rows - 1, 3));
  CHECK(tl_text_learner_export(clas, exported)); /* learn.export() */
  tl_text_learner_free(clas);

  /* learn = load_learner(path); learn.predict("...") */
  tl_text_learner *back;
  CHECK(tl_load_learner(&back, exported, NULL));
  const char *text = "What a wonderful film, the acting was great!";
  int64_t cls;
  float probs[8];
  CHECK(tl_text_learner_predict(&cls, probs, n_classes, back, text,
                                strlen(text)));
  const char *label;
  CHECK(tl_label_vocab_label(&label, classes, cls));
  printf("valid accuracy after the last stage %.3f\n", acc);
  printf("predict(\"%s\") = %s (p = %.3f)\n", text, label, (double)probs[cls]);
  tl_text_learner_free(back);
  tl_clas_loader_free(train);
  tl_clas_loader_free(valid);
  tl_lm_loader_free(lm_train);
  for (size_t d = 0; d < n; d++)
    free(ids[d]), free(texts[d]), free(names[d]);
  tl_label_vocab_free(classes);
  tl_vocab_free(vocab);
  tl_token_counts_free(counts);
  tl_text_corpus_free(corpus);
  return 0;
}
