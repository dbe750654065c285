#include "tagging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tl/tl.h>

uint64_t tg_next_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void tg_shuffle(size_t *a, size_t n, uint64_t *state) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(tg_next_u64(state) % i);
    size_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

void *tg_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return p;
}

static void check(tl_status s, const char *what) {
  if (s != TL_OK) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, tl_last_error(),
            tl_status_string(s));
    exit(1);
  }
}

void tg_vocab_ids(int64_t **out_ids, size_t *out_size, int64_t *out_pad,
                  const bp_corpus *c, const size_t *sentences, size_t n,
                  size_t max_vocab) {
  tl_token_counts *counts;
  check(tl_token_counts_create(&counts), "tl_token_counts_create");
  for (size_t i = 0; i < n; i++) {
    size_t s = sentences[i];
    check(tl_token_counts_add(counts, c->word + c->sent_start[s],
                              c->sent_start[s + 1] - c->sent_start[s]),
          "tl_token_counts_add");
  }
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = 2;
  vo.max_vocab = max_vocab;
  tl_vocab *vocab;
  check(tl_vocab_create_from_counts(&vocab, counts, &vo),
        "tl_vocab_create_from_counts");
  tl_token_counts_free(counts);
  check(tl_vocab_size(out_size, vocab), "tl_vocab_size");
  check(tl_vocab_id(out_pad, vocab, TL_TEXT_PAD, strlen(TL_TEXT_PAD)),
        "tl_vocab_id");
  *out_ids = tg_xmalloc(c->n_tokens * sizeof **out_ids);
  check(tl_vocab_encode(*out_ids, c->n_tokens, vocab, c->word),
        "tl_vocab_encode");
  tl_vocab_free(vocab);
}

void tg_batch_alloc(tg_batch *b, const bp_corpus *c, size_t max_b,
                    size_t max_t) {
  for (size_t s = 0; s < c->n_sentences; s++)
    if (c->sent_start[s + 1] - c->sent_start[s] > max_t)
      max_t = c->sent_start[s + 1] - c->sent_start[s];
  b->ids = tg_xmalloc(max_t * max_b * sizeof *b->ids);
  b->target = tg_xmalloc(max_t * max_b * sizeof *b->target);
  b->T = b->B = 0;
}

void tg_batch_free(tg_batch *b) {
  free(b->ids);
  free(b->target);
  memset(b, 0, sizeof *b);
}

void tg_make_batch(tg_batch *b, const bp_corpus *c, const int64_t *ids,
                   const int64_t *target, int64_t pad, const size_t *idx,
                   size_t B, size_t cap) {
  size_t T = 0;
  for (size_t i = 0; i < B; i++) {
    size_t n = c->sent_start[idx[i] + 1] - c->sent_start[idx[i]];
    if (cap && n > cap)
      n = cap;
    if (n > T)
      T = n;
  }
  for (size_t i = 0; i < B; i++) {
    size_t first = c->sent_start[idx[i]];
    size_t n = c->sent_start[idx[i] + 1] - first;
    for (size_t t = 0; t < T; t++) {
      int in = t < n && (!cap || t < cap);
      b->ids[t * B + i] = in ? ids[first + t] : pad;
      b->target[t * B + i] = in ? target[first + t] : -1;
    }
  }
  b->T = T;
  b->B = B;
}

static const size_t *g_len;
static int by_len(const void *a, const void *b) {
  size_t x = g_len[*(const size_t *)a], y = g_len[*(const size_t *)b];
  return (x > y) - (x < y);
}

void tg_sort_by_len(size_t *idx, size_t n, const size_t *len) {
  g_len = len;
  qsort(idx, n, sizeof *idx, by_len);
}

void tg_stream_init(tg_stream *s, const size_t *elements, size_t n,
                    const size_t *len, uint64_t seed) {
  s->order = tg_xmalloc(n * sizeof *s->order);
  memcpy(s->order, elements, n * sizeof *s->order);
  s->n = n;
  s->pos = n; /* the first draw shuffles */
  s->rng = seed;
  s->len = len;
}

void tg_stream_free(tg_stream *s) {
  free(s->order);
  memset(s, 0, sizeof *s);
}

const size_t *tg_stream_next(tg_stream *s, size_t B) {
  if (s->pos + B > s->n) {
    tg_shuffle(s->order, s->n, &s->rng);
    for (size_t i = 0; i < s->n; i += TG_SORT_CHUNK * B) {
      size_t n = s->n - i < TG_SORT_CHUNK * B ? s->n - i : TG_SORT_CHUNK * B;
      tg_sort_by_len(s->order + i, n, s->len);
    }
    s->pos = 0;
  }
  s->pos += B;
  return s->order + s->pos - B;
}

size_t tg_argmax(const float *x, size_t n) {
  size_t best = 0;
  for (size_t k = 1; k < n; k++)
    if (x[k] > x[best])
      best = k;
  return best;
}
