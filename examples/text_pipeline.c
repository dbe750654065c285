/* Text in, batches out: reads "label<TAB>text" lines, tokenizes them with
 * fastai's rules on two threads, builds the vocabulary and the label
 * classes, splits by label, and walks one epoch of language-model batches and
 * one of classifier batches. Usage: text_pipeline FILE.tsv
 * (tests/fixtures/text_sample.tsv). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tl/tl.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      fprintf(stderr, "%s failed: %s\n", #call, tl_last_error());              \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

enum { MAX_DOCS = 1000 };

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.tsv\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  static char *texts[MAX_DOCS];
  static size_t lens[MAX_DOCS];
  static char *label_names[MAX_DOCS];
  static int64_t labels[MAX_DOCS];
  char line[4096];
  size_t n = 0;
  while (n < MAX_DOCS && fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = 0;
    label_names[n] = strdup(line);
    char *text = tab + 1;
    text[strcspn(text, "\n")] = 0;
    texts[n] = strdup(text);
    lens[n] = strlen(text);
    n++;
  }
  fclose(f);
  /* String labels -> class ids: the sorted distinct labels (fastai's
   * CategoryMap), here neg 0, pos 1. A classifier checkpoint keeps them in
   * its metadata (tl_label_vocab_to_string, docs/text.md). */
  tl_label_vocab *classes;
  CHECK(tl_label_vocab_create(&classes, (const char *const *)label_names, n));
  CHECK(tl_label_vocab_encode(labels, classes, (const char *const *)label_names,
                              n));
  size_t n_classes;
  CHECK(tl_label_vocab_size(&n_classes, classes));

  /* 1. tokens (fastai's rules), on two threads */
  tl_text_corpus *corpus;
  CHECK(tl_text_corpus_tokenize(&corpus, (const char *const *)texts, lens, n,
                                NULL, 2));
  /* 2. vocabulary: fastai's make_vocab, but keep words seen twice */
  tl_token_counts *counts;
  CHECK(tl_token_counts_create(&counts));
  CHECK(tl_token_counts_add_corpus(counts, corpus));
  tl_vocab_options vo;
  CHECK(tl_vocab_options_init(&vo, TL_VOCAB_OPTIONS_VERSION));
  vo.min_freq = 2;
  tl_vocab *vocab;
  CHECK(tl_vocab_create_from_counts(&vocab, counts, &vo));
  size_t vsize;
  CHECK(tl_vocab_size(&vsize, vocab));
  /* 3. ids per document */
  static int64_t *ids[MAX_DOCS];
  static size_t ntok[MAX_DOCS];
  size_t total = 0;
  for (size_t d = 0; d < n; d++) {
    CHECK(tl_text_corpus_doc_len(&ntok[d], corpus, d));
    ids[d] = malloc(ntok[d] * sizeof(int64_t));
    CHECK(tl_vocab_encode_doc(ids[d], ntok[d], vocab, corpus, d));
    total += ntok[d];
  }
  char first[256];
  CHECK(tl_vocab_decode(first, sizeof first, NULL, vocab, ids[0],
                        ntok[0] < 12 ? ntok[0] : 12));
  printf("%zu documents, %zu tokens, vocabulary of %zu\n", n, total, vsize);
  printf("document 0 starts: %s\n", first);

  /* 4. a stratified 25% validation split */
  static uint8_t is_valid[MAX_DOCS];
  CHECK(tl_text_split_stratified(is_valid, labels, n, n_classes, 0.25, 42));
  size_t nv = 0;
  for (size_t d = 0; d < n; d++)
    nv += is_valid[d];
  printf("validation: %zu of %zu documents\n", nv, n);

  /* 5. one epoch of language-model batches */
  tl_lm_loader_options lo;
  CHECK(tl_lm_loader_options_init(&lo, TL_LM_LOADER_OPTIONS_VERSION));
  lo.batch_size = 4;
  lo.bptt = 20;
  lo.seed = 1;
  tl_lm_loader *lm;
  CHECK(tl_lm_loader_create(&lm, (const int64_t *const *)ids, ntok, n, vsize,
                            &lo));
  size_t batches = 0, seen = 0, T;
  const int64_t *x, *y;
  for (;;) {
    CHECK(tl_lm_loader_next(&x, &y, &T, lm));
    if (T == 0)
      break;
    batches++;
    seen += T;
  }
  printf("LM epoch: %zu batches, %zu steps per row\n", batches, seen);

  /* 6. one epoch of classifier batches */
  tl_clas_loader_options co;
  CHECK(tl_clas_loader_options_init(&co, TL_CLAS_LOADER_OPTIONS_VERSION));
  co.batch_size = 8;
  co.seed = 1;
  tl_clas_loader *cl;
  CHECK(tl_clas_loader_create(&cl, (const int64_t *const *)ids, ntok, labels, n,
                              vsize, n_classes, &co));
  size_t b, cb = 0;
  for (;;) {
    CHECK(tl_clas_loader_next(&x, &y, &T, &b, NULL, cl));
    if (b == 0)
      break;
    if (cb++ == 0)
      printf("first classifier batch: %zu documents of %zu tokens\n", b, T);
  }
  printf("classifier epoch: %zu batches\n", cb);

  tl_clas_loader_free(cl);
  tl_lm_loader_free(lm);
  for (size_t d = 0; d < n; d++) {
    free(ids[d]);
    free(texts[d]);
    free(label_names[d]);
  }
  tl_label_vocab_free(classes);
  tl_vocab_free(vocab);
  tl_token_counts_free(counts);
  tl_text_corpus_free(corpus);
  return 0;
}
