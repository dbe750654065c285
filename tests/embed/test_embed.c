/* lib/embed (skip-gram with negative sampling) against
 * tests/fixtures/gen_embed.py (torch autograd of the SGNS loss, word2vec's
 * update loop, sub-sampling and schedule written out), the exact alias
 * table, determinism, a planted-structure corpus, and bad input. */
#include "tl_test.h"

#include "core/rng.h"
#include "embed/sgns_internal.h"

#include "../fixtures/embed_golden.h"

/* ---- pieces ------------------------------------------------------------- */

/* The alias table holds exactly count^0.75 / sum: entry i's mass is its own
 * keep probability plus what every slot aliased to it gives away. */
START_TEST(alias_table_exact) {
  enum { N = 9 };
  const uint64_t counts[N] = {1000, 1, 0, 57, 3, 250, 0, 12, 999999};
  double w[N], prob[N], mass[N] = {0}, sum = 0.0;
  uint32_t alias[N];
  size_t work[N];
  for (int i = 0; i < N; i++) {
    w[i] = counts[i] ? pow((double)counts[i], 0.75) : 0.0;
    sum += w[i];
  }
  tli_alias t;
  tli_alias_build(&t, prob, alias, work, w, N);
  for (int i = 0; i < N; i++) {
    ck_assert(prob[i] >= 0.0 && prob[i] <= 1.0);
    mass[i] += prob[i] / N;
    mass[alias[i]] += (1.0 - prob[i]) / N;
  }
  for (int i = 0; i < N; i++)
    TLT_ASSERT_CLOSE(mass[i], w[i] / sum, 1e-12, 1e-300);
  /* A word without count is never drawn, whatever the random word. */
  ck_assert_double_eq(mass[2], 0.0);
  ck_assert_double_eq(mass[6], 0.0);

  /* Draws: frequencies within 5 standard deviations of the table's
   * probabilities over 10^6 draws (a wrong draw rule is off by far more). */
  enum { DRAWS = 1000000 };
  size_t hits[N] = {0};
  tli_rng rng;
  tli_rng_seed(&rng, 7);
  for (int k = 0; k < DRAWS; k++)
    hits[tli_alias_draw(&t, tli_rng_next(&rng))]++;
  for (int i = 0; i < N; i++) {
    const double p = w[i] / sum;
    const double sd = sqrt(DRAWS * p * (1 - p));
    ck_assert_msg(fabs((double)hits[i] - DRAWS * p) <= 5 * sd + 1e-9,
                  "word %d: %zu hits, expected %.1f", i, hits[i], DRAWS * p);
  }
}
END_TEST

START_TEST(keep_probability) {
  for (size_t k = 0; k < sizeof embed_keep / sizeof *embed_keep; k += 4)
    TLT_ASSERT_CLOSE(tli_sgns_keep_prob((uint64_t)embed_keep[k],
                                        (uint64_t)embed_keep[k + 1],
                                        embed_keep[k + 2]),
                     embed_keep[k + 3], 1e-15, 0);
}
END_TEST

START_TEST(lr_schedule) {
  for (size_t k = 0; k < sizeof embed_lr / sizeof *embed_lr; k += 5)
    TLT_ASSERT_CLOSE(tli_sgns_lr(embed_lr[k], embed_lr[k + 1],
                                 (uint64_t)embed_lr[k + 2],
                                 (uint64_t)embed_lr[k + 3]),
                     embed_lr[k + 4], 1e-15, 0);
}
END_TEST

/* One (context, centre, negatives) step against torch autograd of the SGNS
 * loss (distinct targets) and word2vec's loop (a negative drawn twice). */
START_TEST(one_step) {
  float in[EMBED_DIM], out[EMBED_VOCAB * EMBED_DIM], work[EMBED_DIM];
  memcpy(in, embed_u, sizeof in);
  memcpy(out, embed_out, sizeof out);
  tli_sgns_step(in, out, embed_distinct, 4, EMBED_DIM, (float)EMBED_ALPHA,
                work);
  TLT_ASSERT_ARRAY_CLOSE(in, embed_distinct_u, EMBED_DIM, 1e-6, 1e-6);
  TLT_ASSERT_ARRAY_CLOSE(out, embed_distinct_out, EMBED_VOCAB * EMBED_DIM, 1e-6,
                         1e-6);
  memcpy(in, embed_u, sizeof in);
  memcpy(out, embed_out, sizeof out);
  tli_sgns_step(in, out, embed_repeated, 4, EMBED_DIM, (float)EMBED_ALPHA,
                work);
  TLT_ASSERT_ARRAY_CLOSE(in, embed_repeated_u, EMBED_DIM, 1e-6, 1e-6);
  TLT_ASSERT_ARRAY_CLOSE(out, embed_repeated_out, EMBED_VOCAB * EMBED_DIM, 1e-6,
                         1e-6);
  /* The step moved something: the golden values are not the inputs. */
  ck_assert(fabs(embed_distinct_u[0] - embed_u[0]) > 1e-4);
}
END_TEST

/* ---- training ----------------------------------------------------------- */

/* Two groups of G words: every document draws its words uniformly from one
 * group, so words co-occur only within their group. Word 2G is a rare word
 * (count 1 < min_count) placed once. */
enum { G = 10, V = 2 * G + 1, DOCS = 300, DOC_LEN = 20 };

static void planted(int64_t *ids, size_t *lens) {
  tli_rng rng;
  tli_rng_seed(&rng, 99);
  for (size_t d = 0; d < DOCS; d++) {
    const int64_t base = (int64_t)(d % 2) * G;
    lens[d] = DOC_LEN;
    for (size_t i = 0; i < DOC_LEN; i++)
      ids[d * DOC_LEN + i] = base + (int64_t)tli_rng_below(&rng, G);
  }
  ids[5] = 2 * G;
}

static tl_sgns_options small_options(void) {
  tl_sgns_options o;
  ck_assert_int_eq(tl_sgns_options_init(&o, TL_SGNS_OPTIONS_VERSION), TL_OK);
  o.dim = 16;
  o.window = 3;
  o.negative = 4;
  o.epochs = 4;
  o.min_count = 2;
  o.seed = 5;
  return o;
}

static double cosine(const float *a, const float *b, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; i++) {
    ab += (double)a[i] * b[i];
    aa += (double)a[i] * a[i];
    bb += (double)b[i] * b[i];
  }
  return ab / sqrt(aa * bb);
}

/* Mean cosine of pairs within a group and of pairs across groups. */
static void group_cosines(const float *e, size_t dim, double *within,
                          double *between) {
  double w = 0, b = 0;
  size_t nw = 0, nb = 0;
  for (int i = 0; i < 2 * G; i++)
    for (int j = i + 1; j < 2 * G; j++) {
      const double c = cosine(e + i * dim, e + j * dim, dim);
      if ((i < G) == (j < G)) {
        w += c;
        nw++;
      } else {
        b += c;
        nb++;
      }
    }
  *within = w / (double)nw;
  *between = b / (double)nb;
}

static int64_t corpus_ids[DOCS * DOC_LEN];
static size_t corpus_lens[DOCS];

START_TEST(planted_groups) {
  planted(corpus_ids, corpus_lens);
  tl_sgns_options o = small_options();
  /* Every one of 20 words is frequent here (f = 0.05): sub-sampling at
   * 1e-3 would keep only 1 in 6 of them; it is checked on its own. */
  o.sample = 0.0;
  const size_t threads[2] = {1, 2};
  for (int k = 0; k < 2; k++) {
    o.n_threads = threads[k];
    float *e = malloc(V * o.dim * sizeof *e);
    ck_assert_ptr_nonnull(e);
    TLT_ASSERT_OK(tl_sgns_train(e, V * o.dim, corpus_ids, DOCS * DOC_LEN,
                                corpus_lens, DOCS, NULL, V, &o));
    double within, between;
    group_cosines(e, o.dim, &within, &between);
    /* Random vectors give both about 0; the planted structure pulls
     * groups together and apart. */
    ck_assert_msg(within > 0.5 && within - between > 0.6,
                  "%zu threads: within %.3f, between %.3f", o.n_threads, within,
                  between);
    /* The rare word (count 1 < min_count 2) was dropped: its row is 0. */
    for (size_t d = 0; d < o.dim; d++)
      ck_assert(e[2 * G * o.dim + d] == 0.0f);
    for (size_t i = 0; i < V * o.dim; i++)
      ck_assert(isfinite(e[i]));
    free(e);
  }
}
END_TEST

/* One thread: the same seed gives the same bits; another seed does not. */
START_TEST(deterministic) {
  planted(corpus_ids, corpus_lens);
  tl_sgns_options o = small_options();
  o.epochs = 2;
  const size_t n = V * o.dim;
  float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  ck_assert(a != NULL && b != NULL);
  TLT_ASSERT_OK(tl_sgns_train(a, n, corpus_ids, DOCS * DOC_LEN, corpus_lens,
                              DOCS, NULL, V, &o));
  TLT_ASSERT_OK(tl_sgns_train(b, n, corpus_ids, DOCS * DOC_LEN, corpus_lens,
                              DOCS, NULL, V, &o));
  ck_assert(memcmp(a, b, n * sizeof *a) == 0);
  o.seed = 6;
  TLT_ASSERT_OK(tl_sgns_train(b, n, corpus_ids, DOCS * DOC_LEN, corpus_lens,
                              DOCS, NULL, V, &o));
  ck_assert(memcmp(a, b, n * sizeof *a) != 0);
  /* Caller counts equal to the corpus's own: the same training. */
  uint64_t counts[V] = {0};
  for (size_t i = 0; i < DOCS * DOC_LEN; i++)
    counts[corpus_ids[i]]++;
  o.seed = 5;
  TLT_ASSERT_OK(tl_sgns_train(b, n, corpus_ids, DOCS * DOC_LEN, corpus_lens,
                              DOCS, counts, V, &o));
  ck_assert(memcmp(a, b, n * sizeof *a) == 0);
  free(a);
  free(b);
}
END_TEST

/* Documents bound the windows: with each document a pair (x, y) of
 * words from different groups, and x next to y's group in the running
 * text, training with document boundaries never sees x with a word of
 * the other group at distance 1 across the boundary. Compared with the
 * same ids as one document, the across-group cosine is lower. */
START_TEST(documents_bound_windows) {
  enum { PAIRS = 3000 };
  static int64_t ids[2 * PAIRS];
  static size_t lens[PAIRS];
  tli_rng rng;
  tli_rng_seed(&rng, 3);
  for (size_t p = 0; p < PAIRS; p++) {
    /* Each document holds two words of ONE group. */
    const int64_t base = (int64_t)(p % 2) * G;
    ids[2 * p] = base + (int64_t)tli_rng_below(&rng, G);
    ids[2 * p + 1] = base + (int64_t)tli_rng_below(&rng, G);
    lens[p] = 2;
  }
  tl_sgns_options o = small_options();
  o.window = 1;
  o.sample = 0.0;
  float *a = malloc(2 * G * o.dim * sizeof *a);
  float *b = malloc(2 * G * o.dim * sizeof *b);
  ck_assert(a != NULL && b != NULL);
  TLT_ASSERT_OK(tl_sgns_train(a, 2 * G * o.dim, ids, 2 * PAIRS, lens, PAIRS,
                              NULL, 2 * G, &o));
  TLT_ASSERT_OK(tl_sgns_train(b, 2 * G * o.dim, ids, 2 * PAIRS, NULL, 0, NULL,
                              2 * G, &o));
  double wa, ba, wb, bb;
  group_cosines(a, o.dim, &wa, &ba);
  group_cosines(b, o.dim, &wb, &bb);
  /* With boundaries the groups never meet; as one document, every
   * boundary joins the two groups (p even and p + 1 odd). */
  ck_assert_msg(wa - ba > (wb - bb) + 0.3,
                "documents: %.3f - %.3f; one document: %.3f - %.3f", wa, ba, wb,
                bb);
  free(a);
  free(b);
}
END_TEST

/* Sub-sampling is applied: at sample 1e-9 every word here (frequency
 * 0.05) is kept with probability about 1.4e-4, so nearly no pair trains
 * and the vectors stay near their start; at sample 0 they move far. The
 * start is the same seed's run at a rate too small to change a float. */
START_TEST(subsampling_applies) {
  planted(corpus_ids, corpus_lens);
  tl_sgns_options o = small_options();
  const size_t n = V * o.dim;
  float *init = malloc(n * sizeof *init), *e = malloc(n * sizeof *e);
  ck_assert(init != NULL && e != NULL);
  o.alpha = 1e-30;
  TLT_ASSERT_OK(tl_sgns_train(init, n, corpus_ids, DOCS * DOC_LEN, corpus_lens,
                              DOCS, NULL, V, &o));
  o.alpha = 0.025;
  double moved[2];
  const double samples[2] = {0.0, 1e-9};
  for (int k = 0; k < 2; k++) {
    o.sample = samples[k];
    TLT_ASSERT_OK(tl_sgns_train(e, n, corpus_ids, DOCS * DOC_LEN, corpus_lens,
                                DOCS, NULL, V, &o));
    moved[k] = 0.0;
    for (size_t i = 0; i < n; i++)
      moved[k] += fabs((double)e[i] - init[i]);
  }
  ck_assert_msg(moved[0] > 1.0 && moved[1] < 0.05 * moved[0],
                "moved %.4g without sub-sampling, %.4g with", moved[0],
                moved[1]);
  free(init);
  free(e);
}
END_TEST

/* Trained straight into a model's embedding weight (its parameter view):
 * the same values as into a plain buffer. */
START_TEST(into_model_embedding) {
  planted(corpus_ids, corpus_lens);
  tl_sgns_options o = small_options();
  o.epochs = 1;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", V, o.dim, NULL));
  float *w = NULL;
  TLT_ASSERT_OK(tl_model_param_view(&w, NULL, m, "emb.weight"));
  TLT_ASSERT_OK(tl_sgns_train(w, V * o.dim, corpus_ids, DOCS * DOC_LEN,
                              corpus_lens, DOCS, NULL, V, &o));
  float *e = malloc(V * o.dim * sizeof *e);
  ck_assert_ptr_nonnull(e);
  TLT_ASSERT_OK(tl_sgns_train(e, V * o.dim, corpus_ids, DOCS * DOC_LEN,
                              corpus_lens, DOCS, NULL, V, &o));
  float *got = malloc(V * o.dim * sizeof *got);
  ck_assert_ptr_nonnull(got);
  TLT_ASSERT_OK(tl_model_param_get(got, V * o.dim, m, "emb.weight"));
  ck_assert(memcmp(got, e, V * o.dim * sizeof *e) == 0);
  free(got);
  free(e);
  tl_model_free(m);
}
END_TEST

/* ---- options and bad input ---------------------------------------------- */

START_TEST(options_defaults) {
  tl_sgns_options o;
  TLT_ASSERT_OK(tl_sgns_options_init(&o, TL_SGNS_OPTIONS_VERSION));
  ck_assert_uint_eq(o.dim, 100);
  ck_assert_uint_eq(o.window, 5);
  ck_assert_uint_eq(o.negative, 5);
  ck_assert_double_eq(o.sample, 1e-3);
  ck_assert_double_eq(o.alpha, 0.025);
  ck_assert_double_eq(o.min_alpha_ratio, 1e-4);
  ck_assert_double_eq(o.ns_exponent, 0.75);
  ck_assert_uint_eq(o.min_count, 5);
  ck_assert_uint_eq(o.epochs, 5);
  ck_assert_uint_eq(o.n_threads, 1);
  ck_assert_uint_eq(o.seed, 0);
  /* The static initialiser holds the same defaults (field by field: the
   * padding after version is not part of the value). */
  const tl_sgns_options s = TL_SGNS_OPTIONS_INIT;
  ck_assert(s.version == o.version && s.dim == o.dim && s.window == o.window &&
            s.negative == o.negative && s.sample == o.sample &&
            s.alpha == o.alpha && s.min_alpha_ratio == o.min_alpha_ratio &&
            s.ns_exponent == o.ns_exponent && s.min_count == o.min_count &&
            s.epochs == o.epochs && s.n_threads == o.n_threads &&
            s.seed == o.seed);
  TLT_ASSERT_FAILS(tl_sgns_options_init(&o, 2), TL_E_UNSUPPORTED, "version");
  TLT_ASSERT_FAILS(tl_sgns_options_init(NULL, 1), TL_E_INVALID_ARG, "out");
}
END_TEST

/* Every bad input: its status, a message naming the argument, and out
 * left as it was. */
START_TEST(bad_input) {
  enum { N = 4 * 3 };
  const int64_t ids[6] = {0, 1, 2, 3, 1, 2};
  const size_t lens[2] = {2, 4};
  float out[N];
  for (int i = 0; i < N; i++)
    out[i] = 42.0f;
  tl_sgns_options o;
  TLT_ASSERT_OK(tl_sgns_options_init(&o, TL_SGNS_OPTIONS_VERSION));
  o.dim = 3;
  o.min_count = 1;
#define BAD(call, status, word)                                                \
  do {                                                                         \
    TLT_ASSERT_FAILS(call, status, word);                                      \
    ck_assert_msg(strstr(tl_last_error(), "tl_sgns_train") != NULL, "%s",      \
                  tl_last_error());                                            \
    for (int i_ = 0; i_ < N; i_++)                                             \
      ck_assert(out[i_] == 42.0f);                                             \
  } while (0)
  BAD(tl_sgns_train(NULL, N, ids, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
      "out");
  BAD(tl_sgns_train(out, N, NULL, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
      "ids");
  BAD(tl_sgns_train(out, N, ids, 0, NULL, 0, NULL, 4, &o), TL_E_INVALID_ARG,
      "empty");
  BAD(tl_sgns_train(out, N, ids, 6, NULL, 2, NULL, 4, &o), TL_E_INVALID_ARG,
      "doc_lengths");
  const size_t short_lens[2] = {2, 3}, long_lens[2] = {4, 4};
  BAD(tl_sgns_train(out, N, ids, 6, short_lens, 2, NULL, 4, &o), TL_E_SHAPE,
      "doc_lengths");
  BAD(tl_sgns_train(out, N, ids, 6, long_lens, 2, NULL, 4, &o), TL_E_SHAPE,
      "doc_lengths");
  BAD(tl_sgns_train(out, N - 1, ids, 6, lens, 2, NULL, 4, &o), TL_E_SHAPE,
      "vocab_size * dim");
  BAD(tl_sgns_train(out, 0, ids, 6, lens, 2, NULL, 0, &o), TL_E_INVALID_ARG,
      "vocab_size");
  const int64_t high[6] = {0, 1, 2, 4, 1, 2}, neg[6] = {0, 1, -1, 3, 1, 2};
  BAD(tl_sgns_train(out, N, high, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
      "ids[3]");
  BAD(tl_sgns_train(out, N, neg, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
      "ids[2]");
  const uint64_t few[4] = {1, 1, 1, 1};
  o.min_count = 2;
  BAD(tl_sgns_train(out, N, ids, 6, lens, 2, few, 4, &o), TL_E_INVALID_ARG,
      "min_count");
  o.min_count = 1;
  struct {
    size_t *field;
    size_t bad;
    const char *name;
  } sizes[] = {{&o.dim, 0, "dim"},
               {&o.window, 0, "window"},
               {&o.negative, 0, "negative"},
               {&o.epochs, 0, "epochs"},
               {&o.n_threads, 0, "n_threads"},
               {&o.n_threads, 257, "n_threads"}};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    const size_t keep = *sizes[k].field;
    *sizes[k].field = sizes[k].bad;
    BAD(tl_sgns_train(out, N, ids, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
        sizes[k].name);
    *sizes[k].field = keep;
  }
  struct {
    double *field;
    double bad;
    const char *name;
  } reals[] = {{&o.sample, -1e-3, "sample"},
               {&o.sample, NAN, "sample"},
               {&o.alpha, 0.0, "alpha"},
               {&o.alpha, INFINITY, "alpha"},
               {&o.min_alpha_ratio, 1.5, "min_alpha_ratio"},
               {&o.min_alpha_ratio, NAN, "min_alpha_ratio"},
               {&o.ns_exponent, -0.5, "ns_exponent"}};
  for (size_t k = 0; k < sizeof reals / sizeof *reals; k++) {
    const double keep = *reals[k].field;
    *reals[k].field = reals[k].bad;
    BAD(tl_sgns_train(out, N, ids, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
        reals[k].name);
    *reals[k].field = keep;
  }
  o.min_count = 0;
  BAD(tl_sgns_train(out, N, ids, 6, lens, 2, NULL, 4, &o), TL_E_INVALID_ARG,
      "min_count");
  o.min_count = 1;
  o.version = 2;
  BAD(tl_sgns_train(out, N, ids, 6, lens, 2, NULL, 4, &o), TL_E_UNSUPPORTED,
      "version");
  o.version = TL_SGNS_OPTIONS_VERSION;
#undef BAD
  /* The same call with good arguments trains (and writes). */
  TLT_ASSERT_OK(tl_sgns_train(out, N, ids, 6, lens, 2, NULL, 4, &o));
  ck_assert(out[0] != 42.0f);
  /* NULL options: the defaults (dim 100, min_count 5: no word is
   * frequent enough here). */
  float big[4 * 100];
  TLT_ASSERT_FAILS(tl_sgns_train(big, 400, ids, 6, NULL, 0, NULL, 4, NULL),
                   TL_E_INVALID_ARG, "min_count");
}
END_TEST

/* An allocation failure at each allocation: TL_E_NOMEM, nothing leaked,
 * out untouched. */
START_TEST(allocation_failures) {
  const int64_t ids[6] = {0, 1, 2, 3, 1, 2};
  float out[12];
  tl_sgns_options o;
  TLT_ASSERT_OK(tl_sgns_options_init(&o, TL_SGNS_OPTIONS_VERSION));
  o.dim = 3;
  o.min_count = 1;
  o.n_threads = 2;
  for (size_t budget = 0;; budget++) {
    for (int i = 0; i < 12; i++)
      out[i] = 42.0f;
    tlt_counter c;
    tlt_counter_install_budget(&c, budget);
    const tl_status s = tl_sgns_train(out, 12, ids, 6, NULL, 0, NULL, 4, &o);
    tl_set_allocator(NULL);
    ck_assert_uint_eq(c.allocs, c.frees);
    if (s == TL_OK)
      break;
    ck_assert_int_eq(s, TL_E_NOMEM);
    for (int i = 0; i < 12; i++)
      ck_assert(out[i] == 42.0f);
    ck_assert(budget < 100);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("embed");
  TCase *tc = tcase_create("embed");
  tcase_add_test(tc, alias_table_exact);
  tcase_add_test(tc, keep_probability);
  tcase_add_test(tc, lr_schedule);
  tcase_add_test(tc, one_step);
  tcase_add_test(tc, planted_groups);
  tcase_add_test(tc, deterministic);
  tcase_add_test(tc, documents_bound_windows);
  tcase_add_test(tc, subsampling_applies);
  tcase_add_test(tc, into_model_embedding);
  tcase_add_test(tc, options_defaults);
  tcase_add_test(tc, bad_input);
  tcase_add_test(tc, allocation_failures);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
