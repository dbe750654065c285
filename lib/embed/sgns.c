/* Skip-gram with negative sampling (word2vec.c's -cbow 0 -hs 0), one
 * thread deterministic, several Hogwild. See include/tl/embed.h. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "embed/sgns_internal.h"
#include "tl/embed.h"

/* word2vec's MAX_SENTENCE_LENGTH and MAX_EXP. */
#define SGNS_MAX_SENTENCE 1000
#define SGNS_MAX_EXP 6.0f
#define SGNS_MAX_THREADS 256

TLI_VERSION_SIZES(tl_sgns_options_sizes, TL_SGNS_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sgns_options, seed)); /* v1 */

tl_status tl_sgns_options_init(tl_sgns_options *out, unsigned int version) {
  static const tl_sgns_options defaults = TL_SGNS_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_sgns_options_sizes,
                          "tl_sgns_options_init");
}

void tli_alias_build(tli_alias *t, double *prob, uint32_t *alias, size_t *work,
                     const double *w, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += w[i];
  /* Small entries fill the work array from the front, large ones from the
   * back, so one array of n serves both lists. */
  size_t n_small = 0, n_large = 0;
  for (size_t i = 0; i < n; i++) {
    prob[i] = w[i] * (double)n / sum;
    alias[i] = (uint32_t)i;
    if (prob[i] < 1.0)
      work[n_small++] = i;
    else
      work[n - 1 - n_large++] = i;
  }
  while (n_small > 0 && n_large > 0) {
    const size_t s = work[--n_small];
    const size_t l = work[n - n_large];
    alias[s] = (uint32_t)l;
    /* l gives 1 - prob[s] of its mass to s's slot. */
    prob[l] = (prob[l] + prob[s]) - 1.0;
    if (prob[l] < 1.0) {
      n_large--;
      work[n_small++] = l;
    }
  }
  /* What is left is 1 up to rounding: those slots keep themselves. */
  while (n_large > 0)
    prob[work[n - n_large--]] = 1.0;
  while (n_small > 0)
    prob[work[--n_small]] = 1.0;
  t->prob = prob;
  t->alias = alias;
  t->n = n;
}

double tli_sgns_keep_prob(uint64_t count, uint64_t total, double sample) {
  const double st = sample * (double)total;
  const double keep = (sqrt((double)count / st) + 1.0) * st / (double)count;
  return keep < 1.0 ? keep : 1.0;
}

double tli_sgns_lr(double alpha, double min_ratio, uint64_t done,
                   uint64_t total) {
  const double a = alpha * (1.0 - (double)done / ((double)total + 1.0));
  const double floor = alpha * min_ratio;
  return a < floor ? floor : a;
}

/* a . b with eight partial sums: a strict-order float sum cannot be
 * vectorised; eight fixed lanes can, and the order is still the same on
 * every run (deterministic). */
static float sgns_dot(const float *a, const float *b, size_t n) {
  float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  size_t d = 0;
  for (; d + 8 <= n; d += 8)
    for (size_t k = 0; k < 8; k++)
      acc[k] += a[d + k] * b[d + k];
  float tail = 0.0f;
  for (; d < n; d++)
    tail += a[d] * b[d];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

void tli_sgns_step(float *in, float *out, const uint32_t *targets,
                   size_t n_targets, size_t dim, float alpha, float *work) {
  for (size_t d = 0; d < dim; d++)
    work[d] = 0.0f;
  for (size_t t = 0; t < n_targets; t++) {
    float *o = out + (size_t)targets[t] * dim;
    const float x = sgns_dot(in, o, dim);
    const float label = t == 0 ? 1.0f : 0.0f;
    float sig;
    if (x > SGNS_MAX_EXP)
      sig = 1.0f;
    else if (x < -SGNS_MAX_EXP)
      sig = 0.0f;
    else
      sig = 1.0f / (1.0f + expf(-x));
    const float g = (label - sig) * alpha;
    for (size_t d = 0; d < dim; d++)
      work[d] += g * o[d];
    for (size_t d = 0; d < dim; d++)
      o[d] += g * in[d];
  }
  for (size_t d = 0; d < dim; d++)
    in[d] += work[d];
}

/* What every worker shares. */
typedef struct sgns_job {
  const tl_sgns_options *o;
  const uint32_t *stream; /* the corpus without dropped words */
  const uint8_t *doc_end; /* doc_end[i]: stream[i] ends a document */
  size_t n_stream;
  const double *keep; /* per word keep probability (sample > 0) */
  const tli_alias *neg;
  float *in, *out;
  uint64_t total;            /* epochs * n_stream, the schedule's length */
  atomic_uint_fast64_t done; /* words processed by all threads */
} sgns_job;

typedef struct sgns_worker {
  sgns_job *job;
  size_t lo, hi; /* slice of the stream */
  tli_rng rng;
  uint32_t *sen;     /* SGNS_MAX_SENTENCE */
  uint32_t *targets; /* 1 + negative */
  float *work;       /* dim */
} sgns_worker;

/* Trains one sentence sen[0..len) of kept words at rate alpha. */
static void sgns_sentence(sgns_worker *w, size_t len, float alpha) {
  const sgns_job *j = w->job;
  const size_t dim = j->o->dim, window = j->o->window;
  for (size_t pos = 0; pos < len; pos++) {
    const uint32_t word = w->sen[pos];
    /* word2vec's b = next_random % window: the window is window - b. */
    const size_t b = (size_t)tli_rng_below(&w->rng, window);
    const size_t reach = window - b;
    const size_t first = pos > reach ? pos - reach : 0;
    const size_t last = pos + reach < len - 1 ? pos + reach : len - 1;
    for (size_t c = first; c <= last; c++) {
      if (c == pos)
        continue;
      size_t nt = 0;
      w->targets[nt++] = word;
      for (size_t k = 0; k < j->o->negative; k++) {
        const uint32_t t = tli_alias_draw(j->neg, tli_rng_next(&w->rng));
        if (t != word)
          w->targets[nt++] = t;
      }
      tli_sgns_step(j->in + (size_t)w->sen[c] * dim, j->out, w->targets, nt,
                    dim, alpha, w->work);
    }
  }
}

static void *sgns_work(void *arg) {
  sgns_worker *w = arg;
  sgns_job *j = w->job;
  const tl_sgns_options *o = j->o;
  for (size_t e = 0; e < o->epochs; e++) {
    size_t i = w->lo;
    while (i < w->hi) {
      /* The rate of this sentence, from every thread's progress (exact and
       * deterministic with one thread). */
      const uint64_t done =
          atomic_load_explicit(&j->done, memory_order_relaxed);
      const float alpha =
          (float)tli_sgns_lr(o->alpha, o->min_alpha_ratio, done, j->total);
      /* Read up to a document end or SGNS_MAX_SENTENCE kept words; the
       * schedule counts words read, kept or not (as word2vec). */
      size_t len = 0;
      const size_t start = i;
      while (i < w->hi && len < SGNS_MAX_SENTENCE) {
        const uint32_t t = j->stream[i];
        const int end = j->doc_end[i];
        i++;
        if (j->keep == NULL || j->keep[t] >= 1.0 ||
            tli_rng_uniform(&w->rng) < j->keep[t])
          w->sen[len++] = t;
        if (end)
          break;
      }
      if (len > 1)
        sgns_sentence(w, len, alpha);
      atomic_fetch_add_explicit(&j->done, (uint64_t)(i - start),
                                memory_order_relaxed);
    }
  }
  return NULL;
}

/* Checks the options' values (already copied into a current struct). */
static tl_status sgns_check_options(const tl_sgns_options *o, const char *fn) {
  TLI_CHECK(o->dim >= 1 && o->dim <= ((size_t)1 << 20), TL_E_INVALID_ARG,
            "%s: options->dim must be in 1..1048576 (got %zu)", fn, o->dim);
  TLI_CHECK(o->window >= 1 && o->window <= SGNS_MAX_SENTENCE, TL_E_INVALID_ARG,
            "%s: options->window must be in 1..%d (got %zu)", fn,
            SGNS_MAX_SENTENCE, o->window);
  TLI_CHECK(o->negative >= 1 && o->negative <= 1000, TL_E_INVALID_ARG,
            "%s: options->negative must be in 1..1000 (got %zu)", fn,
            o->negative);
  TLI_CHECK(isfinite(o->sample) && o->sample >= 0.0, TL_E_INVALID_ARG,
            "%s: options->sample must be finite and >= 0 (got %g)", fn,
            o->sample);
  TLI_CHECK(isfinite(o->alpha) && o->alpha > 0.0, TL_E_INVALID_ARG,
            "%s: options->alpha must be finite and > 0 (got %g)", fn, o->alpha);
  TLI_CHECK(o->min_alpha_ratio >= 0.0 && o->min_alpha_ratio <= 1.0,
            TL_E_INVALID_ARG,
            "%s: options->min_alpha_ratio must be in [0, 1] (got %g)", fn,
            o->min_alpha_ratio);
  TLI_CHECK(isfinite(o->ns_exponent) && o->ns_exponent >= 0.0 &&
                o->ns_exponent <= 10.0,
            TL_E_INVALID_ARG,
            "%s: options->ns_exponent must be in [0, 10] (got %g)", fn,
            o->ns_exponent);
  TLI_CHECK(o->min_count >= 1, TL_E_INVALID_ARG,
            "%s: options->min_count must be >= 1 (got 0)", fn);
  TLI_CHECK(o->epochs >= 1 && o->epochs <= 1000000, TL_E_INVALID_ARG,
            "%s: options->epochs must be in 1..1000000 (got %zu)", fn,
            o->epochs);
  TLI_CHECK(o->n_threads >= 1 && o->n_threads <= SGNS_MAX_THREADS,
            TL_E_INVALID_ARG,
            "%s: options->n_threads must be in 1..%d (got %zu)", fn,
            SGNS_MAX_THREADS, o->n_threads);
  return TL_OK;
}

/* Everything tl_sgns_train allocates, freed in one place. */
typedef struct sgns_mem {
  uint64_t *counts;
  uint32_t *stream;
  uint8_t *doc_end;
  double *keep, *w, *prob;
  uint32_t *alias;
  size_t *work;
  float *syn1;
  sgns_worker *workers;
  pthread_t *threads;
  uint32_t *wbuf;
  float *fbuf;
} sgns_mem;

static void sgns_mem_free(sgns_mem *m) {
  tli_free(m->counts);
  tli_free(m->stream);
  tli_free(m->doc_end);
  tli_free(m->keep);
  tli_free(m->w);
  tli_free(m->prob);
  tli_free(m->alias);
  tli_free(m->work);
  tli_free(m->syn1);
  tli_free(m->workers);
  tli_free(m->threads);
  tli_free(m->wbuf);
  tli_free(m->fbuf);
}

tl_status tl_sgns_train(float *out, size_t n, const int64_t *ids, size_t n_ids,
                        const size_t *doc_lengths, size_t n_docs,
                        const uint64_t *counts, size_t vocab_size,
                        const tl_sgns_options *options) {
  static const char fn[] = "tl_sgns_train";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, ids);
  tl_sgns_options o = TL_SGNS_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, tl_sgns_options_sizes, fn, "options"));
  TLI_TRY(sgns_check_options(&o, fn));
  TLI_CHECK(n_ids >= 1, TL_E_INVALID_ARG, "%s: the corpus is empty (n_ids 0)",
            fn);
  TLI_CHECK(vocab_size >= 1 && vocab_size <= UINT32_MAX, TL_E_INVALID_ARG,
            "%s: vocab_size must be in 1..%u (got %zu)", fn,
            (unsigned)UINT32_MAX, vocab_size);
  size_t numel = 0;
  TLI_CHECK(tli_mul_size(&numel, vocab_size, o.dim), TL_E_NOMEM,
            "%s: vocab_size %zu x dim %zu overflows", fn, vocab_size, o.dim);
  TLI_CHECK(n == numel, TL_E_SHAPE,
            "%s: n must be vocab_size * dim = %zu (got %zu)", fn, numel, n);
  TLI_CHECK(doc_lengths != NULL || n_docs == 0, TL_E_INVALID_ARG,
            "%s: argument 'doc_lengths' is NULL with n_docs %zu", fn, n_docs);
  if (doc_lengths != NULL) {
    size_t sum = 0;
    for (size_t d = 0; d < n_docs; d++) {
      TLI_CHECK(doc_lengths[d] <= n_ids - sum, TL_E_SHAPE,
                "%s: doc_lengths sum past n_ids %zu (at document %zu)", fn,
                n_ids, d);
      sum += doc_lengths[d];
    }
    TLI_CHECK(sum == n_ids, TL_E_SHAPE,
              "%s: doc_lengths sum to %zu, not n_ids %zu", fn, sum, n_ids);
  }
  for (size_t i = 0; i < n_ids; i++)
    TLI_CHECK(ids[i] >= 0 && (uint64_t)ids[i] < vocab_size, TL_E_INVALID_ARG,
              "%s: ids[%zu] = %lld is outside [0, vocab_size %zu)", fn, i,
              (long long)ids[i], vocab_size);

  sgns_mem m;
  memset(&m, 0, sizeof m);
  tl_status s = TL_OK;
#define SGNS_ALLOC(p, cnt)                                                     \
  do {                                                                         \
    s = tli_alloc_checked((void **)&(p), (cnt), sizeof *(p), fn);              \
    if (s != TL_OK) {                                                          \
      sgns_mem_free(&m);                                                       \
      return s;                                                                \
    }                                                                          \
  } while (0)
  SGNS_ALLOC(m.counts, vocab_size);
  if (counts != NULL)
    memcpy(m.counts, counts, vocab_size * sizeof *counts);
  else {
    memset(m.counts, 0, vocab_size * sizeof *m.counts);
    for (size_t i = 0; i < n_ids; i++)
      m.counts[ids[i]]++;
  }
  /* The vocabulary that trains: count >= min_count. total is word2vec's
   * train_words (the frequencies of sub-sampling). */
  uint64_t total = 0;
  for (size_t v = 0; v < vocab_size; v++) {
    if (m.counts[v] < o.min_count)
      m.counts[v] = 0;
    if (total > UINT64_MAX - m.counts[v]) {
      sgns_mem_free(&m);
      return tli_fail(TL_E_INVALID_ARG, "%s: counts sum past 2^64", fn);
    }
    total += m.counts[v];
  }
  size_t n_stream = 0;
  for (size_t i = 0; i < n_ids; i++)
    n_stream += m.counts[ids[i]] > 0;
  if (n_stream == 0) {
    sgns_mem_free(&m);
    return tli_fail(TL_E_INVALID_ARG,
                    "%s: no token of ids has a count >= min_count %llu", fn,
                    (unsigned long long)o.min_count);
  }
  uint64_t sched_total = 0;
  if (n_stream > UINT64_MAX / o.epochs) {
    sgns_mem_free(&m);
    return tli_fail(TL_E_INVALID_ARG, "%s: epochs x corpus overflows", fn);
  }
  sched_total = (uint64_t)n_stream * o.epochs;

  SGNS_ALLOC(m.stream, n_stream);
  SGNS_ALLOC(m.doc_end, n_stream);
  SGNS_ALLOC(m.w, vocab_size);
  SGNS_ALLOC(m.prob, vocab_size);
  SGNS_ALLOC(m.alias, vocab_size);
  SGNS_ALLOC(m.work, vocab_size);
  SGNS_ALLOC(m.syn1, numel);
  SGNS_ALLOC(m.workers, o.n_threads);
  SGNS_ALLOC(m.threads, o.n_threads);
  /* n_threads <= 256, negative <= 1000 and dim <= 2^20: no overflow. */
  SGNS_ALLOC(m.wbuf, o.n_threads * (SGNS_MAX_SENTENCE + 1 + o.negative));
  SGNS_ALLOC(m.fbuf, o.n_threads * o.dim);
  if (o.sample > 0.0)
    SGNS_ALLOC(m.keep, vocab_size);
#undef SGNS_ALLOC

  /* The corpus without dropped words; a document's end moves to its last
   * kept word (a document with none vanishes). */
  {
    size_t k = 0, d = 0, left = doc_lengths ? 0 : n_ids;
    for (size_t i = 0; i < n_ids; i++) {
      while (doc_lengths != NULL && left == 0)
        left = doc_lengths[d++];
      left--;
      if (m.counts[ids[i]] > 0) {
        m.stream[k] = (uint32_t)ids[i];
        m.doc_end[k] = 0;
        k++;
      }
      if (left == 0 && k > 0)
        m.doc_end[k - 1] = 1;
    }
    m.doc_end[n_stream - 1] = 1;
  }
  for (size_t v = 0; v < vocab_size; v++) {
    m.w[v] = m.counts[v] > 0 ? pow((double)m.counts[v], o.ns_exponent) : 0.0;
    if (m.keep != NULL)
      m.keep[v] = m.counts[v] > 0
                      ? tli_sgns_keep_prob(m.counts[v], total, o.sample)
                      : 0.0;
  }
  tli_alias neg;
  tli_alias_build(&neg, m.prob, m.alias, m.work, m.w, vocab_size);

  /* word2vec's initialisation: input rows uniform in [-0.5, 0.5) / dim,
   * output rows 0. Everything is checked and allocated: out is written
   * from here on. */
  tli_rng rng;
  tli_rng_seed(&rng, o.seed);
  const float scale = 1.0f / (float)o.dim;
  for (size_t v = 0; v < vocab_size; v++) {
    float *row = out + v * o.dim;
    if (m.counts[v] == 0) {
      memset(row, 0, o.dim * sizeof *row);
      continue;
    }
    for (size_t d = 0; d < o.dim; d++)
      row[d] = (tli_rng_uniform_f(&rng) - 0.5f) * scale;
  }
  memset(m.syn1, 0, numel * sizeof *m.syn1);

  sgns_job job;
  job.o = &o;
  job.stream = m.stream;
  job.doc_end = m.doc_end;
  job.n_stream = n_stream;
  job.keep = m.keep;
  job.neg = &neg;
  job.in = out;
  job.out = m.syn1;
  job.total = sched_total;
  atomic_init(&job.done, 0);
  const size_t nt = o.n_threads;
  for (size_t k = 0; k < nt; k++) {
    sgns_worker *w = &m.workers[k];
    w->job = &job;
    w->lo = n_stream * k / nt;
    w->hi = n_stream * (k + 1) / nt;
    /* Thread k's stream: the seed's stream jumped 1 + k times (the first
     * one drew the initial vectors). */
    tli_rng_jump(&rng);
    w->rng = rng;
    w->sen = m.wbuf + k * (SGNS_MAX_SENTENCE + 1 + o.negative);
    w->targets = w->sen + SGNS_MAX_SENTENCE;
    w->work = m.fbuf + k * o.dim;
  }
  /* Worker 0 runs on the calling thread; a worker whose thread cannot be
   * started runs here after it, so every slice is trained. */
  int started[SGNS_MAX_THREADS] = {0};
  for (size_t k = 1; k < nt; k++)
    started[k] =
        pthread_create(&m.threads[k], NULL, sgns_work, &m.workers[k]) == 0;
  sgns_work(&m.workers[0]);
  for (size_t k = 1; k < nt; k++) {
    if (started[k])
      pthread_join(m.threads[k], NULL);
    else
      sgns_work(&m.workers[k]);
  }
  sgns_mem_free(&m);
  return TL_OK;
}
