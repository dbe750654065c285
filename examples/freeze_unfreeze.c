/* Gradual unfreezing (ULMFiT) on a synthetic sequence-classification task.
 *
 * Encoder model: embedding -> 2-layer LSTM (groups: 0 embedding, 1 LSTM).
 * Head model: masked concat pooling -> dropout -> linear (one group).
 * One optimizer spans both models, so its groups are [emb, rnn, head].
 *
 * Task: a sequence of tokens 1..V-1 (0 pads the end); the label is 1 when
 * token 7 occurs in it. Stages: head only, then LSTM + head, then all, with
 * ULMFiT's discriminative rates lr / 2.6^k. Prints which groups train, their
 * learning rates and the loss, which goes down.
 *
 * Build: part of the examples (meson); run ./build/examples/freeze_unfreeze */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl/tl.h"

#define V 20
#define T 12
#define B 32
#define E 16
#define H 24
#define STEPS 60

#define CHECK(call)                                                            \
  do {                                                                         \
    tl_status s_ = (call);                                                     \
    if (s_ != TL_OK) {                                                         \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, tl_last_error(),          \
              tl_status_string(s_));                                           \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* A small deterministic generator for the data (libtl seeds its own). */
static unsigned long long state = 12345;
static unsigned next_rand(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(state >> 33);
}

static void make_batch(int64_t *ids, size_t *lengths, int64_t *labels) {
  for (size_t b = 0; b < B; b++) {
    lengths[b] = 4 + next_rand() % (T - 3);
    int has7 = 0;
    const int want = (int)(next_rand() % 2);
    for (size_t t = 0; t < T; t++) {
      int64_t tok = 0;
      if (t < lengths[b]) {
        tok = 1 + (int64_t)(next_rand() % (V - 1));
        if (tok == 7 && !want)
          tok = 8;
        has7 |= tok == 7;
      }
      ids[t * B + b] = tok;
    }
    if (want && !has7)
      ids[(next_rand() % lengths[b]) * B + b] = 7;
    labels[b] = want;
  }
}

int main(void) {
  tl_model *enc = NULL, *head = NULL;
  tl_model_options mo;
  CHECK(tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION));
  mo.seed = 1;
  CHECK(tl_model_create(&enc, &mo));
  tl_embedding_options eo;
  CHECK(tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.padding_idx = 0;
  CHECK(tl_model_add_embedding(enc, "emb", V, E, &eo));
  tl_lstm_options lo;
  CHECK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.1f;
  lo.hidden_p = 0.1f;
  CHECK(tl_model_add_lstm(enc, "rnn", E, H, 2, &lo));

  mo.seed = 2;
  CHECK(tl_model_create(&head, &mo));
  CHECK(tl_model_add_concat_pool(head, "pool"));
  CHECK(tl_model_add_dropout(head, "drop", TL_DROPOUT_STANDARD, 0.1f));
  CHECK(tl_model_add_linear(head, "fc", 3 * H, 2, TL_ACTIVATION_NONE));
  CHECK(tl_model_set_group(head, "drop", 0));
  CHECK(tl_model_set_group(head, "fc", 0));

  tl_optim_options oo;
  CHECK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  oo.momentum = 0.9;
  oo.beta2 = 0.99;
  oo.eps = 1e-5;
  tl_model *models[2] = {enc, head};
  tl_optim *opt = NULL;
  CHECK(tl_optim_create(&opt, models, 2, &oo));
  size_t n_groups = 0;
  CHECK(tl_optim_num_groups(&n_groups, opt));
  const char *group_names[3] = {"emb", "rnn", "head"};

  int64_t ids[T * B], labels[B];
  size_t lengths[B];
  const size_t id_dims[2] = {T, B};
  float dlogits[B * 2];
  const long stages[3] = {-1, -2, 0};
  const double lr = 1e-2;
  for (int stage = 0; stage < 3; stage++) {
    CHECK(tl_optim_freeze_to(opt, stages[stage])); /* resets Adam state */
    double lrs[3];
    CHECK(tl_lrs_factor(lrs, n_groups, lr, 2.6));
    CHECK(tl_optim_set_lrs(opt, lrs, n_groups));
    printf("stage %d: freeze_to(%ld)\n", stage + 1, stages[stage]);
    for (size_t g = 0; g < n_groups; g++) {
      int trains = 0;
      tl_model *m = g < 2 ? enc : head;
      CHECK(tl_model_get_group_trainable(&trains, m, g < 2 ? g : 0));
      printf("  group %zu %-5s %-7s lr %.5f\n", g, group_names[g],
             trains ? "trains" : "frozen", lrs[g]);
    }
    double sum = 0.0;
    for (int step = 1; step <= STEPS; step++) {
      make_batch(ids, lengths, labels);
      CHECK(tl_optim_zero_grad(opt));
      const float *h = NULL, *logits = NULL, *dh = NULL;
      size_t hd[TL_MODEL_MAX_DIMS], hn = 0, ld[TL_MODEL_MAX_DIMS], ln = 0;
      CHECK(tl_model_forward_ids(&h, hd, &hn, enc, ids, id_dims, 2));
      CHECK(tl_model_set_lengths(head, lengths, B));
      CHECK(tl_model_forward(&logits, ld, &ln, head, h, hd, hn));
      float loss = 0.0f;
      CHECK(tl_cross_entropy(&loss, dlogits, logits, labels, B, 2, -100));
      /* the encoder's backward is skipped when it is frozen */
      CHECK(tl_model_backward(&dh, head, dlogits, ld, ln));
      CHECK(tl_model_backward(NULL, enc, dh, hd, hn));
      double norm = 0.0;
      CHECK(tl_optim_clip_grad_norm(&norm, opt, 1.0));
      CHECK(tl_optim_step(opt));
      sum += loss;
      if (step % 20 == 0) {
        printf("  steps %3d-%3d  mean loss %.4f\n", step - 19, step,
               sum / 20.0);
        sum = 0.0;
      }
    }
  }

  /* evaluation on fresh batches */
  CHECK(tl_model_eval(enc));
  CHECK(tl_model_eval(head));
  double acc = 0.0;
  for (int i = 0; i < 10; i++) {
    make_batch(ids, lengths, labels);
    const float *h = NULL, *logits = NULL;
    size_t hd[TL_MODEL_MAX_DIMS], hn = 0, ld[TL_MODEL_MAX_DIMS], ln = 0;
    CHECK(tl_model_forward_ids(&h, hd, &hn, enc, ids, id_dims, 2));
    CHECK(tl_model_set_lengths(head, lengths, B));
    CHECK(tl_model_forward(&logits, ld, &ln, head, h, hd, hn));
    float a = 0.0f;
    CHECK(tl_accuracy(&a, logits, labels, B, 2, -100));
    acc += a / 10.0;
  }
  printf("held-out accuracy %.3f\n", acc);
  tl_optim_free(opt);
  tl_model_free(head);
  tl_model_free(enc);
  return 0;
}
