/* Multi-task learning with hard parameter sharing and supervision at
 * different depths (Søgaard & Goldberg 2016; Hashimoto et al. 2017) on the
 * Brown corpus: part-of-speech tagging read from the LOWER LSTM layer, the
 * genre of a passage from the top, against each task trained alone.
 * docs/multitask.md has the numbers and the command.
 *
 * Encoder (one model): embedding (vocabulary of the training documents,
 * dim 64) -> LSTM "rnn0" (64) -> LSTM "rnn1" (64) -> masked concat
 * pooling -> linear "genre" (5 genres). The two LSTMs are single-layer
 * layers so that "rnn0" can be tapped (tl/model.h, "Taps"). The tagging
 * head is a second model, linear "tag" (64 -> 12 universal tags), fed with
 * tl_model_layer_output(encoder, "rnn0"); its input gradient goes back with
 * tl_model_layer_output_grad, and the encoder's backward carries it into
 * the embedding and rnn0 together with whatever the genre head sends down.
 *
 * Data (data/brown_pos.tsv.xz, examples/multitask/brown_pos.c): the 500
 * documents split by document, stratified by genre, 20% for test (split
 * seed 0, the same for every run). Tagging: sentences of the training
 * documents of all 15 genres (at most --sentences of them, a seeded
 * subsample), tested on sentences of the test documents. Genre: passages
 * of 3 consecutive sentences (at most 80 tokens, the rest cut) of the
 * documents of the ULMFiT example's five genres: news (A), religion (D),
 * skills and hobbies (E), government (H), learned (J).
 *
 * Each training step draws a task with tl_task_sampler (temperature
 * sampling, tau 2, over the two training sets' sizes) and trains on one
 * batch of it. Runs:
 *   tag-only    only the tagging steps of that sequence of draws,
 *   genre-only  only the genre steps,
 *   mtl-fixed   every step, losses weighted 1 and 1,
 *   mtl-uw      every step, uncertainty weighting (Kendall et al. 2018):
 *               the drawn task's loss gradient is scaled by exp(-s_t) and
 *               s_t, a parameter of a third small model, is learned by the
 *               same optimizer from tl_uncertainty_weighting's gradient.
 * So a task trained alone gets exactly the batches of its own task that
 * the multi-task model gets, in the same order: the same budget for that
 * task; the multi-task model also sees the other task's batches.
 *
 * Usage: multitask [--quick] [--seeds N] [--steps N] [--sentences N] DATA
 *   --quick: 1 seed, 400 steps, 3000 sentences, runs tag-only and
 *   mtl-fixed, and fails unless tagging accuracy is far above the
 *   majority tag and genre accuracy above the majority genre (the
 *   examples suite runs it).
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
  NUM_GENRES = 5,
  BATCH = 32,
  EVAL_BATCH = 64,
  PASSAGE_SENTENCES = 3,
  PASSAGE_MAX = 80,    /* tokens of a passage kept */
  TRAIN_SENT_MAX = 64, /* tokens of a training sentence kept */
  MAX_VOCAB = 12000,
  TEST_SENTENCES = 4000 /* tagging test: a seeded subsample */
};
static const char GENRES[NUM_GENRES] = {'A', 'D', 'E', 'H', 'J'};
static const double TEST_FRAC = 0.2;
static const double LR = 3e-3;
static const double TAU = 2.0;

typedef enum run_kind { TAG_ONLY, GENRE_ONLY, MTL_FIXED, MTL_UW } run_kind;
static const char *const RUN_NAMES[] = {"tag-only", "genre-only", "mtl-fixed",
                                        "mtl-uw"};

/* What every run shares: the corpus, token ids, the two tasks' data. */
typedef struct setup {
  bp_corpus c;
  int64_t *ids;  /* vocabulary id of every token */
  int64_t *gold; /* tag index of every token */
  size_t vocab_size;
  int64_t pad;
  size_t *tag_train, n_tag_train; /* sentence indices */
  size_t *tag_test, n_tag_test;   /* sorted by length (less padding) */
  /* passages: first sentence, label, train or test */
  size_t *pass_first;
  int64_t *pass_label;
  size_t *pass_train, n_pass_train, *pass_test, n_pass_test;
  size_t *sent_len, *pass_len; /* lengths as batched (cut) */
  double majority_tag, majority_genre, word_tag_baseline;
} setup;

static size_t sent_len(const setup *S, size_t s) {
  return S->c.sent_start[s + 1] - S->c.sent_start[s];
}

static size_t passage_len(const setup *S, size_t p) {
  size_t first = S->pass_first[p], n = 0;
  for (size_t s = first; s < first + PASSAGE_SENTENCES; s++)
    n += sent_len(S, s);
  return n < PASSAGE_MAX ? n : PASSAGE_MAX;
}

static int genre_class(char g) {
  for (int k = 0; k < NUM_GENRES; k++)
    if (GENRES[k] == g)
      return k;
  return -1;
}

static void setup_load(setup *S, const char *data, size_t max_sentences) {
  char path[1024], err[512];
  memset(S, 0, sizeof *S);
  snprintf(path, sizeof path, "%s/brown_pos.tsv.xz", data);
  if (bp_load(&S->c, path, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  const bp_corpus *c = &S->c;
  /* Split the documents, stratified by genre letter. */
  static const char LETTERS[] = "ABCDEFGHJKLMNPR";
  int64_t *doc_label = tg_xmalloc(c->n_documents * sizeof *doc_label);
  for (size_t d = 0; d < c->n_documents; d++)
    doc_label[d] = strchr(LETTERS, c->doc_genre[d]) - LETTERS;
  uint8_t *is_test = tg_xmalloc(c->n_documents);
  CHECK(tl_text_split_stratified(is_test, doc_label, c->n_documents, 15,
                                 TEST_FRAC, 0));
  /* Tagging sets. */
  size_t *train = tg_xmalloc(c->n_sentences * sizeof *train);
  size_t *test = tg_xmalloc(c->n_sentences * sizeof *test);
  size_t n_train = 0, n_test = 0;
  for (size_t s = 0; s < c->n_sentences; s++) {
    if (is_test[c->sent_doc[s]])
      test[n_test++] = s;
    else
      train[n_train++] = s;
  }
  /* Vocabulary of the training documents' words. */
  tg_vocab_ids(&S->ids, &S->vocab_size, &S->pad, c, train, n_train, MAX_VOCAB);
  S->gold = tg_xmalloc(c->n_tokens * sizeof *S->gold);
  for (size_t t = 0; t < c->n_tokens; t++)
    S->gold[t] = c->tag[t];
  uint64_t rng = 12345; /* the subsamples do not change with the run seed */
  tg_shuffle(train, n_train, &rng);
  tg_shuffle(test, n_test, &rng);
  S->tag_train = train;
  S->n_tag_train = n_train < max_sentences ? n_train : max_sentences;
  S->tag_test = test;
  S->n_tag_test = n_test < TEST_SENTENCES ? n_test : TEST_SENTENCES;
  S->sent_len = tg_xmalloc(c->n_sentences * sizeof *S->sent_len);
  for (size_t s = 0; s < c->n_sentences; s++)
    S->sent_len[s] = sent_len(S, s);
  tg_sort_by_len(S->tag_test, S->n_tag_test, S->sent_len);

  /* Baselines on the tagging test tokens: the majority tag of the training
   * sentences, and each word's most frequent training tag (unknown words:
   * the majority tag). */
  uint32_t *word_tag = calloc(S->vocab_size * BP_NUM_TAGS, sizeof *word_tag);
  size_t tag_count[BP_NUM_TAGS] = {0};
  if (!word_tag)
    exit(1);
  for (size_t i = 0; i < S->n_tag_train; i++)
    for (size_t t = c->sent_start[train[i]]; t < c->sent_start[train[i] + 1];
         t++) {
      tag_count[c->tag[t]]++;
      word_tag[S->ids[t] * BP_NUM_TAGS + c->tag[t]]++;
    }
  size_t major = 0;
  for (size_t k = 1; k < BP_NUM_TAGS; k++)
    if (tag_count[k] > tag_count[major])
      major = k;
  size_t n_tok = 0, hit_major = 0, hit_word = 0;
  for (size_t i = 0; i < S->n_tag_test; i++)
    for (size_t t = c->sent_start[test[i]]; t < c->sent_start[test[i] + 1];
         t++) {
      const uint32_t *row = word_tag + S->ids[t] * BP_NUM_TAGS;
      size_t best = major;
      for (size_t k = 0; k < BP_NUM_TAGS; k++)
        if (row[k] > row[best])
          best = k;
      n_tok++;
      hit_major += c->tag[t] == major;
      hit_word += c->tag[t] == best;
    }
  S->majority_tag = (double)hit_major / (double)n_tok;
  S->word_tag_baseline = (double)hit_word / (double)n_tok;
  free(word_tag);

  /* Genre passages of the five genres' documents. */
  size_t max_pass = c->n_sentences / PASSAGE_SENTENCES + 1;
  S->pass_first = tg_xmalloc(max_pass * sizeof *S->pass_first);
  S->pass_label = tg_xmalloc(max_pass * sizeof *S->pass_label);
  S->pass_train = tg_xmalloc(max_pass * sizeof *S->pass_train);
  S->pass_test = tg_xmalloc(max_pass * sizeof *S->pass_test);
  size_t n_pass = 0;
  for (size_t d = 0; d < c->n_documents; d++) {
    int k = genre_class(c->doc_genre[d]);
    if (k < 0)
      continue;
    for (size_t s = c->doc_start[d];
         s + PASSAGE_SENTENCES <= c->doc_start[d + 1]; s += PASSAGE_SENTENCES) {
      S->pass_first[n_pass] = s;
      S->pass_label[n_pass] = k;
      if (is_test[d])
        S->pass_test[S->n_pass_test++] = n_pass;
      else
        S->pass_train[S->n_pass_train++] = n_pass;
      n_pass++;
    }
  }
  size_t genre_count[NUM_GENRES] = {0};
  for (size_t i = 0; i < S->n_pass_train; i++)
    genre_count[S->pass_label[S->pass_train[i]]]++;
  size_t gmaj = 0;
  for (size_t k = 1; k < NUM_GENRES; k++)
    if (genre_count[k] > genre_count[gmaj])
      gmaj = k;
  size_t hit = 0;
  for (size_t i = 0; i < S->n_pass_test; i++)
    hit += (size_t)S->pass_label[S->pass_test[i]] == gmaj;
  S->majority_genre = (double)hit / (double)S->n_pass_test;
  S->pass_len = tg_xmalloc(n_pass * sizeof *S->pass_len);
  for (size_t p = 0; p < n_pass; p++)
    S->pass_len[p] = passage_len(S, p);
  free(doc_label);
  free(is_test);
}

static void setup_free(setup *S) {
  bp_free(&S->c);
  free(S->ids);
  free(S->gold);
  free(S->tag_train);
  free(S->tag_test);
  free(S->pass_first);
  free(S->pass_label);
  free(S->pass_train);
  free(S->pass_test);
  free(S->sent_len);
  free(S->pass_len);
}

/* Passages idx[0..B) as a genre batch, lengths for the masked pooling. */
static void make_genre_batch(tg_batch *b, size_t *lengths, const setup *S,
                             const size_t *idx, size_t B) {
  size_t T = 0;
  for (size_t i = 0; i < B; i++) {
    lengths[i] = S->pass_len[idx[i]];
    if (lengths[i] > T)
      T = lengths[i];
  }
  for (size_t i = 0; i < B; i++) {
    size_t first = S->c.sent_start[S->pass_first[idx[i]]];
    for (size_t t = 0; t < T; t++)
      b->ids[t * B + i] = t < lengths[i] ? S->ids[first + t] : S->pad;
    b->target[i] = S->pass_label[idx[i]];
  }
  b->T = T;
  b->B = B;
}

typedef struct models {
  tl_model *enc, *tag, *lv; /* lv: the log-variances (mtl-uw only) */
  tl_optim *opt;
} models;

static void models_create(models *m, const setup *S, run_kind kind,
                          uint64_t seed) {
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = seed;
  CHECK(tl_model_create(&m->enc, &mo));
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  eo.padding_idx = S->pad;
  CHECK(tl_model_add_embedding(m->enc, "emb", S->vocab_size, EMB, &eo));
  CHECK(tl_model_add_lstm(m->enc, "rnn0", EMB, HID, 1, NULL));
  CHECK(tl_model_add_lstm(m->enc, "rnn1", HID, HID, 1, NULL));
  CHECK(tl_model_add_concat_pool(m->enc, "pool"));
  CHECK(tl_model_add_linear(m->enc, "genre", 3 * HID, NUM_GENRES,
                            TL_ACTIVATION_NONE));
  mo.seed = seed + 1000;
  CHECK(tl_model_create(&m->tag, &mo));
  CHECK(
      tl_model_add_linear(m->tag, "tag", HID, BP_NUM_TAGS, TL_ACTIVATION_NONE));
  tl_model *all[3] = {m->enc, m->tag, NULL};
  size_t n_models = 2;
  m->lv = NULL;
  if (kind == MTL_UW) {
    /* s = "lv.bias" (one per task), starting at 0 (weights 1); the layer's
     * weight never gets a gradient and stays as it is. */
    CHECK(tl_model_create(&m->lv, &mo));
    CHECK(tl_model_add_linear(m->lv, "lv", 1, 2, TL_ACTIVATION_NONE));
    float *s;
    CHECK(tl_model_param_view(&s, NULL, m->lv, "lv.bias"));
    s[0] = s[1] = 0.0f;
    all[n_models++] = m->lv;
  }
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAM);
  oo.lr = LR;
  CHECK(tl_optim_create(&m->opt, all, n_models, &oo));
}

static void models_free(models *m) {
  tl_optim_free(m->opt);
  tl_model_free(m->enc);
  tl_model_free(m->tag);
  tl_model_free(m->lv);
}

/* Tagging logits of batch b: encoder forward, then the head on rnn0. */
static const float *tag_forward(models *m, const tg_batch *b) {
  const float *y, *h;
  size_t dims[TL_MODEL_MAX_DIMS], nd, hd[TL_MODEL_MAX_DIMS], hn;
  size_t in_dims[2] = {b->T, b->B};
  CHECK(tl_model_set_lengths(m->enc, NULL, 0));
  CHECK(tl_model_forward_ids(&y, dims, &nd, m->enc, b->ids, in_dims, 2));
  CHECK(tl_model_layer_output(&h, hd, &hn, m->enc, "rnn0"));
  CHECK(tl_model_forward(&y, dims, &nd, m->tag, h, hd, hn));
  return y;
}

static const float *genre_forward(models *m, const tg_batch *b,
                                  const size_t *lengths) {
  const float *y;
  size_t dims[TL_MODEL_MAX_DIMS], nd, in_dims[2] = {b->T, b->B};
  CHECK(tl_model_set_lengths(m->enc, lengths, b->B));
  CHECK(tl_model_forward_ids(&y, dims, &nd, m->enc, b->ids, in_dims, 2));
  return y;
}

typedef struct result {
  double tag_acc, genre_acc, seconds, weights[2];
  size_t tag_steps, genre_steps;
} result;

static double eval_tags(models *m, const setup *S, tg_batch *b) {
  CHECK(tl_model_eval(m->enc));
  CHECK(tl_model_eval(m->tag));
  size_t hit = 0, n = 0;
  for (size_t i = 0; i < S->n_tag_test; i += EVAL_BATCH) {
    size_t B = S->n_tag_test - i < EVAL_BATCH ? S->n_tag_test - i : EVAL_BATCH;
    tg_make_batch(b, &S->c, S->ids, S->gold, S->pad, S->tag_test + i, B, 0);
    const float *y = tag_forward(m, b);
    for (size_t r = 0; r < b->T * B; r++) {
      if (b->target[r] < 0)
        continue;
      hit +=
          (int64_t)tg_argmax(y + r * BP_NUM_TAGS, BP_NUM_TAGS) == b->target[r];
      n++;
    }
  }
  return (double)hit / (double)n;
}

static double eval_genres(models *m, const setup *S, tg_batch *b,
                          size_t *lengths) {
  CHECK(tl_model_eval(m->enc));
  size_t hit = 0;
  for (size_t i = 0; i < S->n_pass_test; i += EVAL_BATCH) {
    size_t B =
        S->n_pass_test - i < EVAL_BATCH ? S->n_pass_test - i : EVAL_BATCH;
    make_genre_batch(b, lengths, S, S->pass_test + i, B);
    const float *y = genre_forward(m, b, lengths);
    for (size_t r = 0; r < B; r++)
      hit += (int64_t)tg_argmax(y + r * NUM_GENRES, NUM_GENRES) == b->target[r];
  }
  return (double)hit / (double)S->n_pass_test;
}

static result run(const setup *S, run_kind kind, uint64_t seed, size_t steps) {
  result r;
  memset(&r, 0, sizeof r);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  models m;
  models_create(&m, S, kind, seed);
  tg_batch b;
  tg_batch_alloc(&b, &S->c, EVAL_BATCH, PASSAGE_MAX);
  size_t *lengths = tg_xmalloc(EVAL_BATCH * sizeof *lengths);
  float *dlogits =
      tg_xmalloc(TRAIN_SENT_MAX * BATCH * BP_NUM_TAGS * sizeof(float));
  float *zeros = calloc(BATCH * NUM_GENRES, sizeof *zeros);
  if (!zeros)
    exit(1);
  /* The draws and both streams depend on the seed only, not on the run's
   * kind: every kind sees the same sequence of batches. */
  const uint64_t sizes[2] = {S->n_tag_train, S->n_pass_train};
  tl_task_sampler_options so = TL_TASK_SAMPLER_OPTIONS_INIT;
  so.mode = TL_TASK_SAMPLING_TEMPERATURE;
  so.tau = TAU;
  so.seed = seed;
  tl_task_sampler *sampler;
  CHECK(tl_task_sampler_create(&sampler, sizes, 2, &so));
  tg_stream st[2];
  tg_stream_init(&st[0], S->tag_train, S->n_tag_train, S->sent_len,
                 seed * 2 + 1);
  tg_stream_init(&st[1], S->pass_train, S->n_pass_train, S->pass_len,
                 seed * 2 + 2);
  float *s = NULL, *gs = NULL;
  if (m.lv)
    CHECK(tl_model_param_view(&s, &gs, m.lv, "lv.bias"));
  for (size_t step = 0; step < steps; step++) {
    size_t task;
    CHECK(tl_task_sampler_sample(&task, sampler));
    const size_t *idx = tg_stream_next(&st[task], BATCH);
    if ((kind == TAG_ONLY && task != 0) || (kind == GENRE_ONLY && task != 1))
      continue;
    CHECK(tl_model_train(m.enc));
    CHECK(tl_model_train(m.tag));
    CHECK(tl_optim_zero_grad(m.opt));
    float loss;
    size_t n_rows, n_cls;
    const float *y;
    if (task == 0) {
      tg_make_batch(&b, &S->c, S->ids, S->gold, S->pad, idx, BATCH,
                    TRAIN_SENT_MAX);
      y = tag_forward(&m, &b);
      n_rows = b.T * BATCH;
      n_cls = BP_NUM_TAGS;
    } else {
      make_genre_batch(&b, lengths, S, idx, BATCH);
      y = genre_forward(&m, &b, lengths);
      n_rows = BATCH;
      n_cls = NUM_GENRES;
    }
    CHECK(tl_cross_entropy(&loss, dlogits, y, b.target, n_rows, n_cls, -1));
    double w = 1.0;
    if (kind == MTL_UW) {
      /* total = exp(-s_t) L_t + s_t for the drawn task: scale its
       * gradient by exp(-s_t) and add d total / d s_t to s_t's gradient. */
      double total, l = loss;
      CHECK(tl_uncertainty_weighting(&total, &w, gs + task, &l, s + task, 1));
    }
    if (w != 1.0)
      for (size_t i = 0; i < n_rows * n_cls; i++)
        dlogits[i] *= (float)w;
    size_t enc_out[2] = {BATCH, NUM_GENRES};
    if (task == 0) {
      const float *dh;
      size_t dims[3] = {b.T, BATCH, BP_NUM_TAGS}, hd[3] = {b.T, BATCH, HID};
      CHECK(tl_model_backward(&dh, m.tag, dlogits, dims, 3));
      CHECK(tl_model_layer_output_grad(m.enc, "rnn0", dh, hd, 3));
      /* Nothing from the genre head this step: rnn1 gets zero. */
      CHECK(tl_model_backward(NULL, m.enc, zeros, enc_out, 2));
      r.tag_steps++;
    } else {
      CHECK(tl_model_backward(NULL, m.enc, dlogits, enc_out, 2));
      r.genre_steps++;
    }
    CHECK(tl_optim_clip_grad_norm(NULL, m.opt, 5.0));
    CHECK(tl_optim_step(m.opt));
  }
  if (kind != GENRE_ONLY)
    r.tag_acc = eval_tags(&m, S, &b);
  if (kind != TAG_ONLY)
    r.genre_acc = eval_genres(&m, S, &b, lengths);
  if (s) {
    r.weights[0] = exp(-s[0]);
    r.weights[1] = exp(-s[1]);
  }
  tl_task_sampler_free(sampler);
  tg_stream_free(&st[0]);
  tg_stream_free(&st[1]);
  tg_batch_free(&b);
  free(lengths);
  free(dlogits);
  free(zeros);
  models_free(&m);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  r.seconds =
      (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  return r;
}

static void mean_sd(double *mean, double *sd, const double *x, size_t n) {
  double m = 0, v = 0;
  for (size_t i = 0; i < n; i++)
    m += x[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++)
    v += (x[i] - m) * (x[i] - m);
  *mean = m;
  *sd = n > 1 ? sqrt(v / (double)(n - 1)) : 0.0;
}

int main(int argc, char **argv) {
  int quick = 0;
  size_t seeds = 3, steps = 1000, sentences = 20000;
  const char *data = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      quick = 1;
      seeds = 1;
      steps = 400;
      sentences = 3000;
    } else if (i + 1 < argc && !strcmp(argv[i], "--seeds"))
      seeds = strtoul(argv[++i], NULL, 10);
    else if (i + 1 < argc && !strcmp(argv[i], "--steps"))
      steps = strtoul(argv[++i], NULL, 10);
    else if (i + 1 < argc && !strcmp(argv[i], "--sentences"))
      sentences = strtoul(argv[++i], NULL, 10);
    else if (argv[i][0] != '-' && !data)
      data = argv[i];
    else {
      data = NULL;
      break;
    }
  }
  if (!data || seeds == 0 || seeds > 100 || steps == 0 || sentences < BATCH) {
    fprintf(stderr,
            "usage: %s [--quick] [--seeds N (1..100)] [--steps N] "
            "[--sentences N (>= %d)] DATA_DIR\n",
            argv[0], BATCH);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* one line per run as it ends */
  setup S;
  setup_load(&S, data, sentences);
  printf("vocabulary %zu; tagging: %zu training sentences, %zu test "
         "sentences; genre: %zu training passages, %zu test passages\n",
         S.vocab_size, S.n_tag_train, S.n_tag_test, S.n_pass_train,
         S.n_pass_test);
  printf("baselines: majority tag %.4f, each word's most frequent tag "
         "%.4f, majority genre %.4f\n",
         S.majority_tag, S.word_tag_baseline, S.majority_genre);
  printf("%zu steps (tasks drawn with temperature %.0f), batch %d, seeds "
         "%zu\n",
         steps, TAU, BATCH, seeds);
  static const run_kind ALL[] = {TAG_ONLY, GENRE_ONLY, MTL_FIXED, MTL_UW};
  static const run_kind QUICK[] = {TAG_ONLY, MTL_FIXED};
  const run_kind *kinds = quick ? QUICK : ALL;
  size_t n_kinds = quick ? 2 : 4;
  int ok = 1;
  printf("%-11s %8s %8s %8s %8s %6s %6s %8s\n", "run", "tag acc", "sd", "genre",
         "sd", "tag", "genre", "seconds");
  for (size_t k = 0; k < n_kinds; k++) {
    double tag[100], genre[100], secs = 0, w0 = 0, w1 = 0;
    result r;
    for (size_t i = 0; i < seeds; i++) {
      r = run(&S, kinds[k], i, steps);
      tag[i] = r.tag_acc;
      genre[i] = r.genre_acc;
      secs += r.seconds;
      w0 += r.weights[0] / (double)seeds;
      w1 += r.weights[1] / (double)seeds;
    }
    double tm, ts, gm, gs;
    mean_sd(&tm, &ts, tag, seeds);
    mean_sd(&gm, &gs, genre, seeds);
    printf("%-11s %8.4f %8.4f %8.4f %8.4f %6zu %6zu %8.1f\n",
           RUN_NAMES[kinds[k]], tm, ts, gm, gs, r.tag_steps, r.genre_steps,
           secs / (double)seeds);
    if (kinds[k] == MTL_UW)
      printf("  learned task weights exp(-s): tag %.3f, genre %.3f (mean "
             "over seeds)\n",
             w0, w1);
    if (quick && kinds[k] != GENRE_ONLY && tm < S.majority_tag + 0.4) {
      fprintf(stderr,
              "%s: tagging accuracy %.4f, not 0.4 above the "
              "majority tag's %.4f\n",
              RUN_NAMES[kinds[k]], tm, S.majority_tag);
      ok = 0;
    }
    if (quick && kinds[k] != TAG_ONLY && gm <= S.majority_genre + 0.1) {
      fprintf(stderr,
              "%s: genre accuracy %.4f, not 0.1 above the "
              "majority genre's %.4f\n",
              RUN_NAMES[kinds[k]], gm, S.majority_genre);
      ok = 0;
    }
  }
  setup_free(&S);
  return ok ? 0 : 1;
}
