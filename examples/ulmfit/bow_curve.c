/* The bag-of-words learning curve of the ULMFiT example's task: test
 * accuracy and macro-F1 of tf-idf + logistic regression at 25, 50, 100
 * labelled passages per class and with all of them, mean and spread over
 * seeds. Usage: ulmfit_bow [DATA_DIR [SEEDS]] (defaults: data, 3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bow.h"
#include "corpora.h"

int main(int argc, char **argv) {
  const char *data_dir = argc > 1 ? argv[1] : "data";
  const int seeds = argc > 2 ? atoi(argv[2]) : 3;
  if (seeds < 1 || seeds > 100) {
    fprintf(stderr, "usage: %s [DATA_DIR [SEEDS in 1..100]]\n", argv[0]);
    return 2;
  }
  char err[512];
  ul_corpora c;
  if (ul_corpora_load(&c, data_dir, 0.1, 0.25, 0, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  const char **texts = malloc(c.n_passages * sizeof *texts);
  size_t *lens = malloc(c.n_passages * sizeof *lens);
  int64_t *labels = malloc(c.n_passages * sizeof *labels);
  size_t *train = malloc(c.n_passages * sizeof *train);
  size_t *test = malloc(c.n_passages * sizeof *test);
  int64_t *train_labels = malloc(c.n_passages * sizeof *train_labels);
  size_t *subset = malloc(c.n_passages * sizeof *subset);
  size_t *chosen = malloc(c.n_passages * sizeof *chosen);
  int64_t *pred = malloc(c.n_passages * sizeof *pred);
  int64_t *truth = malloc(c.n_passages * sizeof *truth);
  size_t n_train = 0, n_test = 0;
  for (size_t i = 0; i < c.n_passages; i++) {
    texts[i] = c.passages[i].text;
    lens[i] = c.passages[i].len;
    labels[i] = c.passages[i].label;
    if (c.passages[i].side == UL_TRAIN) {
      train_labels[n_train] = labels[i];
      train[n_train++] = i;
    } else if (c.passages[i].side == UL_TEST) {
      truth[n_test] = labels[i];
      test[n_test++] = i;
    }
  }
  tl_text_corpus *corpus;
  if (tl_text_corpus_tokenize(&corpus, texts, lens, c.n_passages, NULL, 2)) {
    fprintf(stderr, "%s\n", tl_last_error());
    return 1;
  }
  printf("passages: %zu train, %zu test (documents split by genre)\n", n_train,
         n_test);
  const size_t budgets[] = {25, 50, 100, 0};
  for (size_t b = 0; b < 4; b++) {
    double acc[100], f1[100];
    for (int s = 0; s < seeds; s++) {
      size_t n_sub = n_train;
      if (budgets[b]) {
        if (tl_text_subset_per_class(subset, c.n_passages, train_labels,
                                     n_train, UL_NUM_CLASSES, budgets[b],
                                     (uint64_t)s) != TL_OK) {
          fprintf(stderr, "%s\n", tl_last_error());
          return 1;
        }
        n_sub = budgets[b] * UL_NUM_CLASSES;
        for (size_t i = 0; i < n_sub; i++)
          chosen[i] = train[subset[i]];
      } else {
        memcpy(chosen, train, n_train * sizeof *chosen);
      }
      ul_bow_options o;
      ul_bow_options_default(&o);
      o.seed = (uint64_t)s;
      if (getenv("UL_BOW_ITERS"))
        o.iterations = (size_t)atol(getenv("UL_BOW_ITERS"));
      if (ul_bow_fit_predict(pred, corpus, labels, UL_NUM_CLASSES, chosen,
                             n_sub, test, n_test, &o, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
      }
      tl_classification_metrics(&acc[s], &f1[s], NULL, NULL, NULL,
                                UL_NUM_CLASSES, pred, truth, n_test);
      if (!budgets[b])
        break; /* all labels: the seed only moves the initialisation */
    }
    const int runs = budgets[b] ? seeds : 1;
    double ma = 0, mf = 0, sa = 0;
    for (int s = 0; s < runs; s++) {
      ma += acc[s] / runs;
      mf += f1[s] / runs;
    }
    for (int s = 0; s < runs; s++)
      sa += (acc[s] - ma) * (acc[s] - ma) / (runs > 1 ? runs - 1 : 1);
    char name[24];
    if (budgets[b])
      snprintf(name, sizeof name, "%zu", budgets[b]);
    else
      snprintf(name, sizeof name, "all");
    printf("labels/class %4s: accuracy %.3f +- %.3f  macro-F1 %.3f\n", name, ma,
           sqrt(sa), mf);
  }
  tl_text_corpus_free(corpus);
  ul_corpora_free(&c);
  return 0;
}
