/* Self-training for domain adaptation without target labels, on the Brown
 * corpus: a part-of-speech tagger trained on the press genres (A reportage,
 * B editorial, C reviews) adapted to fiction (K general, L mystery,
 * M science fiction, N adventure, P romance, R humour) from unlabelled
 * fiction text, against the tagger trained on the source alone.
 * docs/self_training.md has the numbers and the command.
 *
 * Data (data/brown_pos.tsv.xz, examples/multitask/brown_pos.c): source =
 * sentences of the A-C documents with their tags; the fiction documents
 * split by document, stratified by genre, half unlabelled pool (their tags
 * are never used for training; they only measure how good the pseudo-
 * labels were) and half test. The vocabulary comes from the source and the
 * pool's words (unlabelled text is allowed).
 *
 * Model: embedding 64 -> LSTM (64, two layers) -> linear (12 tags), token
 * by token. Runs, with the same number of optimizer steps:
 *   source-only  all steps on source batches;
 *   self-train   SOURCE steps on the source, then ROUNDS rounds of:
 *                predict the pool, keep the tokens whose top probability
 *                is > 0.9 (tl_pseudo_label_select, threshold mode) with
 *                their predicted tags (the others are ignored), then
 *                ROUND steps alternating a source batch and a batch of
 *                pseudo-labelled pool sentences, whose loss gradient is
 *                weighted 0.5; pseudo-labels are recomputed every round;
 *   tri-train    tri-training (Zhou & Li 2005; tri_train below): three
 *                taggers on bootstrap samples of the source, pool tokens
 *                joining a model's set under the paper's conditions
 *                (tl_tri_training_round), a majority vote at test time;
 *                three models, so three times the steps of the others;
 *   target-gold  as self-train with the pool's true tags in place of the
 *                pseudo-labels (every token): the ceiling of the schedule,
 *                not an adaptation method (it uses target labels).
 *
 * Usage: self_training [--quick] [--seeds N] DATA
 *   --quick: 1 seed, a small budget, no target-gold; fails unless the
 *   source-only and tri-training taggers are far above the majority tag,
 *   pseudo-labels were selected, and the selected ones are more accurate
 *   than the tagger's predictions on the whole pool (the examples suite
 *   runs it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "multitask/brown_pos.h"
#include "multitask/tagging.h"
#include "tl/tl.h"

#define CHECK(call)                                                            \
  do {                                                                         \
    tl_status s_ = (call);                                                     \
    if (s_ != TL_OK) {                                                         \
      fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__,       \
              #call, tl_last_error(), tl_status_string(s_));                   \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

enum {
  EMB = 64,
  HID = 64,
  BATCH = 32,
  EVAL_BATCH = 64,
  TRAIN_SENT_MAX = 64, /* tokens of a training sentence kept */
  MAX_VOCAB = 12000,
  MAX_ROUNDS = 10
};
static const char SOURCE_GENRES[] = "ABC";
static const char TARGET_GENRES[] = "KLMNPR";
static const double LR = 3e-3;
static const double THRESHOLD = 0.9;
static const float PSEUDO_WEIGHT = 0.5f;

typedef enum run_kind {
  SOURCE_ONLY,
  SELF_TRAIN,
  TRI_TRAIN,
  TARGET_GOLD
} run_kind;
static const char *const RUN_NAMES[] = {"source-only", "self-train",
                                        "tri-train", "target-gold"};
/* Tri-training estimates each model's error on the tokens of this many
 * source sentences (the paper uses the labelled set). */
enum { TRI_LABELLED_SENTENCES = 1000 };

typedef struct budget {
  size_t source_steps, round_steps, rounds;
  size_t max_source, max_pool, max_test; /* sentences */
} budget;

typedef struct setup {
  bp_corpus c;
  int64_t *ids, *gold;
  size_t vocab_size;
  int64_t pad;
  size_t *source, n_source;
  size_t *pool, n_pool; /* sorted by length */
  size_t *pool_row;     /* first probability row of each pool sentence */
  size_t n_pool_tokens;
  size_t *test, n_test; /* sorted by length */
  size_t *len;
  double majority_tag;
} setup;

static void setup_load(setup *S, const char *data, const budget *bu) {
  char path[1024], err[512];
  memset(S, 0, sizeof *S);
  snprintf(path, sizeof path, "%s/brown_pos.tsv.xz", data);
  if (bp_load(&S->c, path, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  const bp_corpus *c = &S->c;
  /* Fiction documents: half pool, half test, stratified by genre. */
  size_t *fiction = tg_xmalloc(c->n_documents * sizeof *fiction);
  int64_t *label = tg_xmalloc(c->n_documents * sizeof *label);
  size_t n_fiction = 0;
  for (size_t d = 0; d < c->n_documents; d++) {
    const char *g = strchr(TARGET_GENRES, c->doc_genre[d]);
    if (g) {
      fiction[n_fiction] = d;
      label[n_fiction++] = g - TARGET_GENRES;
    }
  }
  uint8_t *is_test = tg_xmalloc(n_fiction);
  CHECK(tl_text_split_stratified(is_test, label, n_fiction,
                                 strlen(TARGET_GENRES), 0.5, 0));
  uint8_t *doc_side = calloc(c->n_documents, 1); /* 1 pool, 2 test */
  if (!doc_side)
    exit(1);
  for (size_t i = 0; i < n_fiction; i++)
    doc_side[fiction[i]] = is_test[i] ? 2 : 1;
  S->source = tg_xmalloc(c->n_sentences * sizeof *S->source);
  S->pool = tg_xmalloc(c->n_sentences * sizeof *S->pool);
  S->test = tg_xmalloc(c->n_sentences * sizeof *S->test);
  for (size_t s = 0; s < c->n_sentences; s++) {
    size_t d = c->sent_doc[s];
    if (strchr(SOURCE_GENRES, c->doc_genre[d]))
      S->source[S->n_source++] = s;
    else if (doc_side[d] == 1)
      S->pool[S->n_pool++] = s;
    else if (doc_side[d] == 2)
      S->test[S->n_test++] = s;
  }
  /* Seeded subsamples, the same for every run. */
  uint64_t rng = 12345;
  tg_shuffle(S->source, S->n_source, &rng);
  tg_shuffle(S->pool, S->n_pool, &rng);
  tg_shuffle(S->test, S->n_test, &rng);
  if (S->n_source > bu->max_source)
    S->n_source = bu->max_source;
  if (S->n_pool > bu->max_pool)
    S->n_pool = bu->max_pool;
  if (S->n_test > bu->max_test)
    S->n_test = bu->max_test;
  S->len = tg_xmalloc(c->n_sentences * sizeof *S->len);
  for (size_t s = 0; s < c->n_sentences; s++)
    S->len[s] = c->sent_start[s + 1] - c->sent_start[s];
  tg_sort_by_len(S->pool, S->n_pool, S->len);
  tg_sort_by_len(S->test, S->n_test, S->len);
  S->pool_row = tg_xmalloc(S->n_pool * sizeof *S->pool_row);
  for (size_t i = 0; i < S->n_pool; i++) {
    S->pool_row[i] = S->n_pool_tokens;
    S->n_pool_tokens += S->len[S->pool[i]];
  }
  /* Vocabulary of the source and pool words. */
  size_t *words = tg_xmalloc((S->n_source + S->n_pool) * sizeof *words);
  memcpy(words, S->source, S->n_source * sizeof *words);
  memcpy(words + S->n_source, S->pool, S->n_pool * sizeof *words);
  tg_vocab_ids(&S->ids, &S->vocab_size, &S->pad, c, words,
               S->n_source + S->n_pool, MAX_VOCAB);
  free(words);
  S->gold = tg_xmalloc(c->n_tokens * sizeof *S->gold);
  for (size_t t = 0; t < c->n_tokens; t++)
    S->gold[t] = c->tag[t];
  /* Majority tag of the source, on the test tokens. */
  size_t count[BP_NUM_TAGS] = {0}, major = 0, hit = 0, n = 0;
  for (size_t i = 0; i < S->n_source; i++)
    for (size_t t = c->sent_start[S->source[i]];
         t < c->sent_start[S->source[i] + 1]; t++)
      count[c->tag[t]]++;
  for (size_t k = 1; k < BP_NUM_TAGS; k++)
    if (count[k] > count[major])
      major = k;
  for (size_t i = 0; i < S->n_test; i++)
    for (size_t t = c->sent_start[S->test[i]];
         t < c->sent_start[S->test[i] + 1]; t++, n++)
      hit += c->tag[t] == major;
  S->majority_tag = (double)hit / (double)n;
  free(fiction);
  free(label);
  free(is_test);
  free(doc_side);
}

static void setup_free(setup *S) {
  bp_free(&S->c);
  free(S->ids);
  free(S->gold);
  free(S->source);
  free(S->pool);
  free(S->pool_row);
  free(S->test);
  free(S->len);
}

static const float *forward(tl_model *m, const tg_batch *b) {
  const float *y;
  size_t dims[TL_MODEL_MAX_DIMS], nd, in_dims[2] = {b->T, b->B};
  CHECK(tl_model_forward_ids(&y, dims, &nd, m, b->ids, in_dims, 2));
  return y;
}

/* One step on the batch of sentences idx with per-token targets; the loss
 * gradient is multiplied by weight. */
static void train_step(tl_model *m, tl_optim *opt, const setup *S,
                       const int64_t *target, const size_t *idx, float weight,
                       tg_batch *b, float *dlogits) {
  CHECK(tl_model_train(m));
  CHECK(tl_optim_zero_grad(opt));
  tg_make_batch(b, &S->c, S->ids, target, S->pad, idx, BATCH, TRAIN_SENT_MAX);
  const float *y = forward(m, b);
  size_t n = b->T * BATCH;
  float loss;
  CHECK(tl_cross_entropy(&loss, dlogits, y, b->target, n, BP_NUM_TAGS, -1));
  if (weight != 1.0f)
    for (size_t i = 0; i < n * BP_NUM_TAGS; i++)
      dlogits[i] *= weight;
  size_t dims[3] = {b->T, BATCH, BP_NUM_TAGS};
  CHECK(tl_model_backward(NULL, m, dlogits, dims, 3));
  CHECK(tl_optim_clip_grad_norm(NULL, opt, 5.0));
  CHECK(tl_optim_step(opt));
}

/* Tagging accuracy on the test sentences. */
static double eval_test(tl_model *m, const setup *S, tg_batch *b) {
  CHECK(tl_model_eval(m));
  size_t hit = 0, n = 0;
  for (size_t i = 0; i < S->n_test; i += EVAL_BATCH) {
    size_t B = S->n_test - i < EVAL_BATCH ? S->n_test - i : EVAL_BATCH;
    tg_make_batch(b, &S->c, S->ids, S->gold, S->pad, S->test + i, B, 0);
    const float *y = forward(m, b);
    for (size_t r = 0; r < b->T * B; r++)
      if (b->target[r] >= 0) {
        hit += (int64_t)tg_argmax(y + r * BP_NUM_TAGS, BP_NUM_TAGS) ==
               b->target[r];
        n++;
      }
  }
  return (double)hit / (double)n;
}

/* Softmax probabilities of every pool token into probs (n_pool_tokens,
 * 12), rows in pool order. */
static void predict_pool(tl_model *m, const setup *S, tg_batch *b,
                         double *probs) {
  CHECK(tl_model_eval(m));
  for (size_t i = 0; i < S->n_pool; i += EVAL_BATCH) {
    size_t B = S->n_pool - i < EVAL_BATCH ? S->n_pool - i : EVAL_BATCH;
    tg_make_batch(b, &S->c, S->ids, S->gold, S->pad, S->pool + i, B, 0);
    const float *y = forward(m, b);
    for (size_t j = 0; j < B; j++)
      for (size_t t = 0; t < S->len[S->pool[i + j]]; t++) {
        const float *z = y + (t * B + j) * BP_NUM_TAGS;
        double *p = probs + (S->pool_row[i + j] + t) * BP_NUM_TAGS;
        double mx = z[tg_argmax(z, BP_NUM_TAGS)], sum = 0;
        for (size_t k = 0; k < BP_NUM_TAGS; k++)
          sum += p[k] = exp((double)z[k] - mx);
        for (size_t k = 0; k < BP_NUM_TAGS; k++)
          p[k] /= sum;
      }
  }
}

/* Predicted tags of the tokens of sentences[0..n) into pred, row
 * row_start[i] + t for token t of sentence i. */
static void predict_tags(tl_model *m, const setup *S, const size_t *sentences,
                         const size_t *row_start, size_t n, tg_batch *b,
                         int64_t *pred) {
  CHECK(tl_model_eval(m));
  for (size_t i = 0; i < n; i += EVAL_BATCH) {
    size_t B = n - i < EVAL_BATCH ? n - i : EVAL_BATCH;
    tg_make_batch(b, &S->c, S->ids, S->gold, S->pad, sentences + i, B, 0);
    const float *y = forward(m, b);
    for (size_t j = 0; j < B; j++)
      for (size_t t = 0; t < S->len[sentences[i + j]]; t++)
        pred[row_start[i + j] + t] =
            (int64_t)tg_argmax(y + (t * B + j) * BP_NUM_TAGS, BP_NUM_TAGS);
  }
}

typedef struct result {
  double acc, seconds;
  /* per round: share of pool tokens selected, accuracy of the selected
   * pseudo-labels and of all pool predictions (against the hidden tags) */
  double selected[MAX_ROUNDS], selected_acc[MAX_ROUNDS], pool_acc[MAX_ROUNDS];
} result;

static tl_model *new_tagger(const setup *S, uint64_t seed) {
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = seed;
  tl_model *m;
  CHECK(tl_model_create(&m, &mo));
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  eo.padding_idx = S->pad;
  CHECK(tl_model_add_embedding(m, "emb", S->vocab_size, EMB, &eo));
  CHECK(tl_model_add_lstm(m, "rnn", EMB, HID, 2, NULL));
  CHECK(tl_model_add_linear(m, "tag", HID, BP_NUM_TAGS, TL_ACTIVATION_NONE));
  return m;
}

/* Tri-training (Zhou & Li 2005) with libtl's bookkeeping
 * (tl_tri_training_round): three taggers, each trained first on its own
 * bootstrap sample of the source sentences; each round, the rows (pool
 * tokens) on which the other two agree join a model's set as the paper's
 * error conditions allow, and a model that takes rows trains round_steps
 * more steps alternating its source sample and its joined tokens (the
 * paper retrains from scratch; continuing is cheaper). The test tokens get
 * the majority vote of the three (model 0's tag when all differ). r's
 * per-round fields: share of pool tokens joined (mean over the models)
 * and the accuracy of the joined labels. */
static void tri_train(result *r, const setup *S, const budget *bu,
                      uint64_t seed, tg_batch *b, float *dlogits) {
  tl_model *m[3];
  tl_optim *opt[3];
  tg_stream src[3];
  int64_t *target[3];
  size_t *with_target = tg_xmalloc(S->n_pool * sizeof *with_target);
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAM);
  oo.lr = LR;
  size_t *boot = tg_xmalloc(S->n_source * sizeof *boot);
  uint64_t rng = seed * 7 + 3;
  for (int i = 0; i < 3; i++) {
    m[i] = new_tagger(S, seed * 3 + (uint64_t)i);
    CHECK(tl_optim_create(&opt[i], &m[i], 1, &oo));
    for (size_t j = 0; j < S->n_source; j++)
      boot[j] = S->source[tg_next_u64(&rng) % S->n_source];
    tg_stream_init(&src[i], boot, S->n_source, S->len, seed * 2 + 1 + 100 * i);
    target[i] = tg_xmalloc(S->c.n_tokens * sizeof *target[i]);
    for (size_t step = 0; step < bu->source_steps; step++)
      train_step(m[i], opt[i], S, S->gold, tg_stream_next(&src[i], BATCH), 1.0f,
                 b, dlogits);
  }
  free(boot);
  /* Labelled rows: the tokens of the first source sentences. */
  size_t n_lab_s = S->n_source < TRI_LABELLED_SENTENCES
                       ? S->n_source
                       : TRI_LABELLED_SENTENCES;
  size_t *lab_row = tg_xmalloc(n_lab_s * sizeof *lab_row), n_lab = 0;
  for (size_t i = 0; i < n_lab_s; i++) {
    lab_row[i] = n_lab;
    n_lab += S->len[S->source[i]];
  }
  int64_t *lab_gold = tg_xmalloc(n_lab * sizeof *lab_gold);
  for (size_t i = 0; i < n_lab_s; i++)
    memcpy(lab_gold + lab_row[i], S->gold + S->c.sent_start[S->source[i]],
           S->len[S->source[i]] * sizeof *lab_gold);
  int64_t *pl[3], *pu[3];
  for (int i = 0; i < 3; i++) {
    pl[i] = tg_xmalloc(n_lab * sizeof *pl[i]);
    pu[i] = tg_xmalloc(S->n_pool_tokens * sizeof *pu[i]);
  }
  uint8_t *join = tg_xmalloc(3 * S->n_pool_tokens);
  int64_t *labels = tg_xmalloc(3 * S->n_pool_tokens * sizeof *labels);
  tl_tri_training *tri;
  CHECK(tl_tri_training_create(&tri, 0, seed));
  for (size_t round = 0; round < bu->rounds; round++) {
    for (int i = 0; i < 3; i++) {
      predict_tags(m[i], S, S->source, lab_row, n_lab_s, b, pl[i]);
      predict_tags(m[i], S, S->pool, S->pool_row, S->n_pool, b, pu[i]);
    }
    uint8_t updated[3];
    int any;
    CHECK(tl_tri_training_round(join, labels, updated, &any, tri,
                                (const int64_t *const *)pl, lab_gold, n_lab,
                                (const int64_t *const *)pu, S->n_pool_tokens));
    size_t joined = 0, right = 0;
    for (int i = 0; i < 3; i++) {
      size_t n_with = 0;
      for (size_t t = 0; t < S->c.n_tokens; t++)
        target[i][t] = -1;
      for (size_t p = 0; p < S->n_pool; p++) {
        size_t s = S->pool[p], has = 0;
        for (size_t t = 0; t < S->len[s]; t++) {
          size_t row = S->pool_row[p] + t, tok = S->c.sent_start[s] + t;
          if (!join[i * S->n_pool_tokens + row])
            continue;
          target[i][tok] = labels[i * S->n_pool_tokens + row];
          joined++;
          right += target[i][tok] == S->gold[tok];
          has = 1;
        }
        if (has)
          with_target[n_with++] = s;
      }
      if (!updated[i] || n_with == 0)
        continue;
      tg_stream pool;
      tg_stream_init(&pool, with_target, n_with, S->len,
                     seed * 2 + 2 + 1000 * round + 100 * i);
      for (size_t step = 0; step < bu->round_steps; step++) {
        if (step % 2 == 0 || n_with < BATCH)
          train_step(m[i], opt[i], S, S->gold, tg_stream_next(&src[i], BATCH),
                     1.0f, b, dlogits);
        else
          train_step(m[i], opt[i], S, target[i], tg_stream_next(&pool, BATCH),
                     1.0f, b, dlogits);
      }
      tg_stream_free(&pool);
    }
    r->selected[round] = (double)joined / (3.0 * (double)S->n_pool_tokens);
    r->selected_acc[round] = joined ? (double)right / (double)joined : 0;
    if (!any)
      break;
  }
  /* Majority vote on the test tokens. */
  size_t *test_row = tg_xmalloc(S->n_test * sizeof *test_row), n_test = 0;
  for (size_t i = 0; i < S->n_test; i++) {
    test_row[i] = n_test;
    n_test += S->len[S->test[i]];
  }
  int64_t *pt[3];
  for (int i = 0; i < 3; i++) {
    pt[i] = tg_xmalloc(n_test * sizeof *pt[i]);
    predict_tags(m[i], S, S->test, test_row, S->n_test, b, pt[i]);
  }
  size_t hit = 0;
  for (size_t i = 0; i < S->n_test; i++)
    for (size_t t = 0; t < S->len[S->test[i]]; t++) {
      size_t row = test_row[i] + t;
      int64_t vote = pt[1][row] == pt[2][row] ? pt[1][row] : pt[0][row];
      hit += vote == S->gold[S->c.sent_start[S->test[i]] + t];
    }
  r->acc = (double)hit / (double)n_test;
  for (int i = 0; i < 3; i++) {
    free(pt[i]);
    free(pl[i]);
    free(pu[i]);
    free(target[i]);
    tg_stream_free(&src[i]);
    tl_optim_free(opt[i]);
    tl_model_free(m[i]);
  }
  tl_tri_training_free(tri);
  free(test_row);
  free(join);
  free(labels);
  free(lab_row);
  free(lab_gold);
  free(with_target);
}

static result run(const setup *S, const budget *bu, run_kind kind,
                  uint64_t seed) {
  result r;
  memset(&r, 0, sizeof r);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (kind == TRI_TRAIN) {
    tg_batch b;
    tg_batch_alloc(&b, &S->c, EVAL_BATCH, 0);
    float *dlogits =
        tg_xmalloc(TRAIN_SENT_MAX * BATCH * BP_NUM_TAGS * sizeof *dlogits);
    tri_train(&r, S, bu, seed, &b, dlogits);
    tg_batch_free(&b);
    free(dlogits);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.seconds = (double)(t1.tv_sec - t0.tv_sec) +
                1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return r;
  }
  tl_model *m = new_tagger(S, seed);
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAM);
  oo.lr = LR;
  tl_optim *opt;
  CHECK(tl_optim_create(&opt, &m, 1, &oo));
  tg_batch b;
  tg_batch_alloc(&b, &S->c, EVAL_BATCH, 0);
  float *dlogits =
      tg_xmalloc(TRAIN_SENT_MAX * BATCH * BP_NUM_TAGS * sizeof *dlogits);
  tg_stream src;
  tg_stream_init(&src, S->source, S->n_source, S->len, seed * 2 + 1);
  /* Pool batches come from the pool sentences with a target. */
  size_t *with_target = tg_xmalloc(S->n_pool * sizeof *with_target);
  int64_t *target = tg_xmalloc(S->c.n_tokens * sizeof *target);
  double *probs = NULL;
  uint8_t *sel = NULL;
  int64_t *lab = NULL;
  if (kind == SELF_TRAIN) {
    probs = tg_xmalloc(S->n_pool_tokens * BP_NUM_TAGS * sizeof *probs);
    sel = tg_xmalloc(S->n_pool_tokens);
    lab = tg_xmalloc(S->n_pool_tokens * sizeof *lab);
  }
  size_t first = kind == SOURCE_ONLY
                     ? bu->source_steps + bu->rounds * bu->round_steps
                     : bu->source_steps;
  for (size_t step = 0; step < first; step++)
    train_step(m, opt, S, S->gold, tg_stream_next(&src, BATCH), 1.0f, &b,
               dlogits);
  for (size_t round = 0; kind != SOURCE_ONLY && round < bu->rounds; round++) {
    size_t n_with = 0;
    for (size_t t = 0; t < S->c.n_tokens; t++)
      target[t] = -1;
    if (kind == TARGET_GOLD) {
      for (size_t i = 0; i < S->n_pool; i++) {
        size_t s = S->pool[i];
        memcpy(target + S->c.sent_start[s], S->gold + S->c.sent_start[s],
               S->len[s] * sizeof *target);
        with_target[n_with++] = s;
      }
    } else {
      predict_pool(m, S, &b, probs);
      size_t count;
      CHECK(tl_pseudo_label_select(sel, lab, &count, probs, S->n_pool_tokens,
                                   BP_NUM_TAGS, TL_PSEUDO_LABEL_THRESHOLD,
                                   THRESHOLD, 0));
      size_t right_sel = 0, right_all = 0;
      for (size_t i = 0; i < S->n_pool; i++) {
        size_t s = S->pool[i], any = 0;
        for (size_t t = 0; t < S->len[s]; t++) {
          size_t row = S->pool_row[i] + t, tok = S->c.sent_start[s] + t;
          int right = lab[row] == S->gold[tok];
          right_all += right;
          if (sel[row]) {
            target[tok] = lab[row];
            right_sel += right;
            any = 1;
          }
        }
        if (any)
          with_target[n_with++] = s;
      }
      r.selected[round] = (double)count / (double)S->n_pool_tokens;
      r.selected_acc[round] = count ? (double)right_sel / (double)count : 0;
      r.pool_acc[round] = (double)right_all / (double)S->n_pool_tokens;
    }
    if (n_with < BATCH)
      continue; /* too few pseudo-labelled sentences for a batch */
    tg_stream pool;
    tg_stream_init(&pool, with_target, n_with, S->len,
                   seed * 2 + 2 + 1000 * round);
    for (size_t step = 0; step < bu->round_steps; step++) {
      if (step % 2 == 0)
        train_step(m, opt, S, S->gold, tg_stream_next(&src, BATCH), 1.0f, &b,
                   dlogits);
      else
        train_step(m, opt, S, target, tg_stream_next(&pool, BATCH),
                   kind == SELF_TRAIN ? PSEUDO_WEIGHT : 1.0f, &b, dlogits);
    }
    tg_stream_free(&pool);
  }
  r.acc = eval_test(m, S, &b);
  free(probs);
  free(sel);
  free(lab);
  free(target);
  free(with_target);
  tg_stream_free(&src);
  tg_batch_free(&b);
  free(dlogits);
  tl_optim_free(opt);
  tl_model_free(m);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  r.seconds = (double)(t1.tv_sec - t0.tv_sec) +
              1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  return r;
}

int main(int argc, char **argv) {
  int quick = 0;
  size_t seeds = 3;
  const char *data = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick"))
      quick = 1;
    else if (i + 1 < argc && !strcmp(argv[i], "--seeds"))
      seeds = strtoul(argv[++i], NULL, 10);
    else if (argv[i][0] != '-' && !data)
      data = argv[i];
    else {
      data = NULL;
      break;
    }
  }
  if (!data || seeds == 0 || seeds > 100) {
    fprintf(stderr, "usage: %s [--quick] [--seeds N (1..100)] DATA_DIR\n",
            argv[0]);
    return 2;
  }
  budget bu = {600, 200, 3, 10000, 6000, 4000};
  if (quick) {
    budget q = {150, 60, 2, 3000, 2000, 1000};
    bu = q;
    seeds = 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* one line per run as it ends */
  setup S;
  setup_load(&S, data, &bu);
  printf("source (A-C): %zu sentences; fiction (K-R): %zu unlabelled pool "
         "sentences (%zu tokens), %zu test sentences; vocabulary %zu\n",
         S.n_source, S.n_pool, S.n_pool_tokens, S.n_test, S.vocab_size);
  printf("majority tag on the fiction test: %.4f\n", S.majority_tag);
  printf("%zu source steps, then %zu rounds of %zu steps (batch %d); "
         "threshold %.2f, pseudo-label weight %.1f; seeds %zu\n",
         bu.source_steps, bu.rounds, bu.round_steps, BATCH, THRESHOLD,
         (double)PSEUDO_WEIGHT, seeds);
  int ok = 1;
  for (int k = SOURCE_ONLY; k <= TARGET_GOLD; k++) {
    if (quick && k == TARGET_GOLD)
      break;
    double acc[100], mean = 0, sd = 0, secs = 0;
    double sel[MAX_ROUNDS] = {0}, sel_acc[MAX_ROUNDS] = {0},
           pool_acc[MAX_ROUNDS] = {0};
    for (size_t i = 0; i < seeds; i++) {
      result r = run(&S, &bu, (run_kind)k, i);
      acc[i] = r.acc;
      mean += r.acc / (double)seeds;
      secs += r.seconds / (double)seeds;
      for (size_t j = 0; j < bu.rounds; j++) {
        sel[j] += r.selected[j] / (double)seeds;
        sel_acc[j] += r.selected_acc[j] / (double)seeds;
        pool_acc[j] += r.pool_acc[j] / (double)seeds;
      }
    }
    for (size_t i = 0; i < seeds; i++)
      sd += (acc[i] - mean) * (acc[i] - mean);
    sd = seeds > 1 ? sqrt(sd / (double)(seeds - 1)) : 0.0;
    printf("%-12s fiction test accuracy %.4f (sd %.4f), %.1f s per run\n",
           RUN_NAMES[k], mean, sd, secs);
    if (k == TRI_TRAIN)
      for (size_t j = 0; j < bu.rounds; j++)
        printf("  round %zu: %.3f%% of pool tokens joined a model's set "
               "(mean of the 3), their labels %.4f right\n",
               j + 1, 100 * sel[j], sel_acc[j]);
    if (k == SELF_TRAIN)
      for (size_t j = 0; j < bu.rounds; j++)
        printf("  round %zu: %.1f%% of pool tokens selected, their "
               "pseudo-labels %.4f right; all pool predictions %.4f\n",
               j + 1, 100 * sel[j], sel_acc[j], pool_acc[j]);
    if (quick && (k == SOURCE_ONLY || k == TRI_TRAIN) &&
        mean < S.majority_tag + 0.4) {
      fprintf(stderr,
              "%s accuracy %.4f is not 0.4 above the majority tag's "
              "%.4f\n",
              RUN_NAMES[k], mean, S.majority_tag);
      ok = 0;
    }
    if (quick && k == SELF_TRAIN &&
        (sel[0] <= 0 || sel_acc[0] <= pool_acc[0])) {
      fprintf(stderr,
              "pseudo-labels: %.4f selected, %.4f right, against "
              "%.4f for all predictions\n",
              sel[0], sel_acc[0], pool_acc[0]);
      ok = 0;
    }
  }
  setup_free(&S);
  return ok ? 0 : 1;
}
