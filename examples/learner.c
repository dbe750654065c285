/* fastai's Learner in C: fine_tune a two-model chain on a synthetic
 * sequence-classification task, with validation accuracy, early stopping
 * and fastai's epoch table.
 *
 * Encoder model: embedding -> LSTM (groups 0 and 1). Head model: masked
 * concat pooling -> linear. The learner's groups start as the two models'
 * groups concatenated; tl_learner_set_group puts the whole head in group 2,
 * so they are [embedding, LSTM, head]. fine_tune trains the head alone for
 * one epoch, then everything with discriminative rates.
 *
 * Task: a sequence of tokens 2..V-1 (padding 1 after the text); the label
 * is 1 when token 7 occurs in it. The batches come from a host batch source
 * (tl_batch_source) that walks fixed arrays.
 *
 * Build: part of the examples (meson); run ./build/examples/learner */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl/tl.h"

#define V 20
#define T 12
#define B 32
#define E 16
#define H 24
#define N_TRAIN 16 /* batches */
#define N_VALID 4

#define CHECK(call)                                                            \
  do {                                                                         \
    tl_status s_ = (call);                                                     \
    if (s_ != TL_OK) {                                                         \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, tl_last_error(),          \
              tl_status_string(s_));                                           \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

typedef struct batches {
  int64_t ids[N_TRAIN][T * B];
  size_t lengths[N_TRAIN][B];
  int64_t labels[N_TRAIN][B];
  size_t first, n, pos;
} batches;

static unsigned long long state = 12345;
static unsigned next_rand(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(state >> 33);
}

static void make(batches *d, size_t n) {
  memset(d, 0, sizeof *d);
  d->n = n;
  for (size_t i = 0; i < n; i++)
    for (size_t b = 0; b < B; b++) {
      const size_t len = 4 + next_rand() % (T - 3);
      const int want = (int)(next_rand() % 2);
      int has7 = 0;
      for (size_t t = 0; t < T; t++) {
        int64_t tok = 1; /* padding after the text */
        if (t < len) {
          tok = 2 + (int64_t)(next_rand() % (V - 2));
          if (tok == 7 && !want)
            tok = 8;
          has7 |= tok == 7;
        }
        d->ids[i][t * B + b] = tok;
      }
      if (want && !has7)
        d->ids[i][(next_rand() % len) * B + b] = 7;
      d->lengths[i][b] = len;
      d->labels[i][b] = want;
    }
}

/* tl_batch_next_fn: the next fixed batch, or the end of the epoch. */
static tl_status next(void *payload, tl_batch *out, int *out_has_batch) {
  batches *d = payload;
  if (d->pos == d->n) {
    d->pos = 0;
    *out_has_batch = 0;
    return TL_OK;
  }
  const size_t i = d->pos++;
  out->ids = d->ids[i];
  out->dims[0] = T;
  out->dims[1] = B;
  out->ndim = 2;
  out->targets = d->labels[i];
  out->n_targets = B;
  out->lengths = d->lengths[i];
  out->n_lengths = B;
  out->batch_size = B;
  *out_has_batch = 1;
  return TL_OK;
}

static tl_status restart(void *payload) {
  ((batches *)payload)->pos = 0;
  return TL_OK;
}

int main(void) {
  static batches train, valid;
  make(&train, N_TRAIN);
  make(&valid, N_VALID);

  tl_model *enc = NULL, *head = NULL;
  CHECK(tl_model_create(&enc, NULL));
  CHECK(tl_model_add_embedding(enc, "emb", V, E, NULL));
  CHECK(tl_model_add_lstm(enc, "rnn", E, H, 1, NULL));
  CHECK(tl_model_create(&head, NULL));
  CHECK(tl_model_add_concat_pool(head, "pool"));
  CHECK(tl_model_add_linear(head, "fc", 3 * H, 2, TL_ACTIVATION_NONE));

  tl_model *chain[2] = {enc, head};
  tl_learner *learn = NULL;
  CHECK(tl_learner_create(&learn, chain, 2, NULL)); /* fastai's Adam */
  tl_batch_source tr = TL_BATCH_SOURCE_INIT, va = TL_BATCH_SOURCE_INIT;
  tr.next = va.next = next;
  tr.restart = va.restart = restart;
  tr.payload = &train;
  va.payload = &valid;
  tr.n_batches = N_TRAIN;
  va.n_batches = N_VALID;
  CHECK(tl_learner_set_data(learn, &tr, &va));
  CHECK(tl_learner_add_metric(learn, TL_LEARNER_METRIC_ACCURACY, 0));
  CHECK(tl_learner_add_grad_clip(learn, 1.0));
  tl_monitor_options stop = TL_MONITOR_OPTIONS_INIT;
  stop.patience = 3; /* valid_loss, lower is better */
  CHECK(tl_learner_add_early_stopping(learn, &stop));
  tl_reporter *table = NULL;
  CHECK(tl_reporter_create_terminal(&table, stdout, TL_REPORTER_MODE_LINES));
  CHECK(tl_learner_add_reporter(learn, table));

  /* fastai's splitter: the whole head in one group (a new model numbers
   * each layer's group after the layer, so pool and fc would be two). */
  CHECK(tl_learner_set_group(learn, 1, "pool", 2));
  CHECK(tl_learner_set_group(learn, 1, "fc", 2));
  size_t groups = 0;
  CHECK(tl_learner_num_groups(&groups, learn));
  printf("learner groups: %zu (embedding, LSTM, head)\n", groups);
  if (groups != 3)
    return 1;

  /* fastai: learn.fine_tune(6, base_lr=1e-2) */
  tl_fine_tune_options ft = TL_FINE_TUNE_OPTIONS_INIT;
  ft.base_lr = 1e-2;
  CHECK(tl_learner_fine_tune(learn, 6, &ft));

  size_t rows = 0;
  CHECK(tl_learner_history_num_rows(&rows, learn));
  double acc = 0.0;
  CHECK(tl_learner_history_value(&acc, learn, rows - 1, 3));
  printf("final validation accuracy: %.3f\n", acc);

  tl_learner_free(learn);
  tl_reporter_free(table);
  tl_model_free(enc);
  tl_model_free(head);
  return acc > 0.75 ? 0 : 1;
}
