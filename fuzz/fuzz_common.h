/* Shared by the fuzz targets and the seed-corpus writer: the CRC repair of
 * the harness's mode bit 0, and the fixed small model (and its Adam
 * optimizer) that fuzz_ckpt_model.c loads checkpoints into and
 * make_corpus.c saves seeds from. Static functions: each program that
 * includes this uses what it needs. */
#ifndef TL_FUZZ_COMMON_H
#define TL_FUZZ_COMMON_H

#include <stdint.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"
#include "ckpt/crc32.h"
#include "tl/ckpt.h"
#include "tl/model.h"
#include "tl/optim.h"

/* Recomputes the header and blob CRCs of the image b[0..n) wherever its
 * (untrusted) index lets it, so mutations reach the structural checks
 * behind the CRCs instead of dying at the first checksum. */
static inline void fuzz_fix_crcs(unsigned char *b, size_t n) {
  if (n < TLI_CKPT_HEADER_SIZE)
    return;
  const uint64_t index = tli_load_le64(b + 24);
  if (index > n - TLI_CKPT_HEADER_SIZE)
    return;
  const uint64_t tc = tli_load_le32(b + 32), sc = tli_load_le32(b + 36);
  if (tc * TLI_CKPT_TENSOR_ENTRY_SIZE + sc * TLI_CKPT_SECTION_ENTRY_SIZE <=
      index) {
    for (uint64_t i = 0; i < tc + sc; i++) {
      unsigned char *e = i < tc ? b + 64 + i * TLI_CKPT_TENSOR_ENTRY_SIZE
                                : b + 64 + tc * TLI_CKPT_TENSOR_ENTRY_SIZE +
                                      (i - tc) * TLI_CKPT_SECTION_ENTRY_SIZE;
      const size_t at = i < tc ? 80 : 8, crc_at = i < tc ? 96 : 24;
      const uint64_t off = tli_load_le64(e + at),
                     len = tli_load_le64(e + at + 8);
      if (off <= n && len <= n - off)
        tli_store_le32(e + crc_at, tli_crc32(0, b + off, (size_t)len));
    }
  }
  memset(b + TLI_CKPT_HEADER_CRC_OFFSET, 0, 4);
  tli_store_le32(b + TLI_CKPT_HEADER_CRC_OFFSET,
                 tli_crc32(0, b, TLI_CKPT_HEADER_SIZE + (size_t)index));
}

/* The fixed model: embedding (V x E, embedding dropout) -> stateful
 * 2-layer LSTM (E -> H) with weight drop and locked dropouts -> linear
 * (H -> V), so loads meet parameters of every rank, a carried LSTM state
 * and an RNG stream that matters. */
enum { FUZZ_V = 7, FUZZ_E = 3, FUZZ_H = 4, FUZZ_T = 2, FUZZ_B = 2 };

static inline tl_status fuzz_build_model(tl_model **out, uint64_t seed) {
  *out = NULL;
  tl_model_options mo;
  tl_status s = tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION);
  if (s != TL_OK)
    return s;
  mo.seed = seed;
  tl_model *m = NULL;
  if ((s = tl_model_create(&m, &mo)) != TL_OK)
    return s;
  tl_embedding_options eo;
  tl_lstm_options lo;
  if ((s = tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION)) ==
      TL_OK) {
    eo.embed_p = 0.1f;
    s = tl_model_add_embedding(m, "emb", FUZZ_V, FUZZ_E, &eo);
  }
  if (s == TL_OK &&
      (s = tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION)) == TL_OK) {
    lo.weight_p = 0.3f;
    lo.input_p = 0.1f;
    lo.hidden_p = 0.1f;
    lo.stateful = 1;
    s = tl_model_add_lstm(m, "rnn", FUZZ_E, FUZZ_H, 2, &lo);
  }
  if (s == TL_OK)
    s = tl_model_add_linear(m, "out", FUZZ_H, FUZZ_V, TL_ACTIVATION_NONE);
  if (s == TL_OK)
    s = tl_model_set_group(m, "rnn", 0); /* two groups: emb+rnn, out */
  if (s != TL_OK) {
    tl_model_free(m);
    return s;
  }
  *out = m;
  return TL_OK;
}

/* The fixed head with BatchNorm: linear (FUZZ_H -> FUZZ_E, ReLU) ->
 * BatchNorm1d(FUZZ_E) -> linear (FUZZ_E -> 2), so loads meet buffers
 * (running statistics f32, num_batches_tracked an i64 scalar). */
static inline tl_status fuzz_build_bn_model(tl_model **out) {
  *out = NULL;
  tl_model *m = NULL;
  tl_status s = tl_model_create(&m, NULL);
  if (s != TL_OK)
    return s;
  s = tl_model_add_linear(m, "fc1", FUZZ_H, FUZZ_E, TL_ACTIVATION_RELU);
  if (s == TL_OK)
    s = tl_model_add_batchnorm1d(m, "bn", FUZZ_E, NULL);
  if (s == TL_OK)
    s = tl_model_add_linear(m, "fc2", FUZZ_E, 2, TL_ACTIVATION_NONE);
  if (s != TL_OK) {
    tl_model_free(m);
    return s;
  }
  *out = m;
  return TL_OK;
}

/* A forward of the BatchNorm head on FUZZ_B x FUZZ_T rows derived from
 * salt (train mode moves the running statistics). */
static inline tl_status fuzz_bn_forward(tl_model *m, unsigned salt) {
  float x[FUZZ_B * FUZZ_T * FUZZ_H];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
    x[i] = (float)((i * 7 + salt) % 11) * 0.25f - 1.0f;
  const size_t dims[2] = {FUZZ_B * FUZZ_T, FUZZ_H};
  const float *y = NULL;
  return tl_model_forward(&y, NULL, NULL, m, x, dims, 2);
}

static inline tl_status fuzz_build_adam(tl_optim **out, tl_model *m) {
  tl_optim_options oo;
  tl_status s =
      tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAM);
  if (s != TL_OK)
    return s;
  oo.lr = 0.01;
  return tl_optim_create(out, &m, 1, &oo);
}

/* One train-mode forward of a (T, B) window of ids derived from salt:
 * moves the RNG and leaves a carried state of batch B. */
static inline tl_status fuzz_forward(tl_model *m, unsigned salt,
                                     const float **y, size_t *dims,
                                     size_t *ndim) {
  int64_t ids[FUZZ_T * FUZZ_B];
  for (size_t i = 0; i < FUZZ_T * FUZZ_B; i++)
    ids[i] = (int64_t)((i * 5 + salt) % FUZZ_V);
  const size_t in_dims[2] = {FUZZ_T, FUZZ_B};
  return tl_model_forward_ids(y, dims, ndim, m, ids, in_dims, 2);
}

/* forward, cross-entropy against shifted ids, backward, Adam step. */
static inline tl_status fuzz_train_step(tl_model *m, tl_optim *o,
                                        unsigned salt) {
  const float *y = NULL;
  size_t dims[TL_MODEL_MAX_DIMS], ndim = 0;
  tl_status s = tl_optim_zero_grad(o);
  if (s == TL_OK)
    s = fuzz_forward(m, salt, &y, dims, &ndim);
  if (s != TL_OK)
    return s;
  int64_t targets[FUZZ_T * FUZZ_B];
  for (size_t i = 0; i < FUZZ_T * FUZZ_B; i++)
    targets[i] = (int64_t)((i * 3 + salt + 1) % FUZZ_V);
  float loss = 0, dy[FUZZ_T * FUZZ_B * FUZZ_V];
  s = tl_cross_entropy(&loss, dy, y, targets, FUZZ_T * FUZZ_B, FUZZ_V, -100);
  if (s == TL_OK)
    s = tl_model_backward(NULL, m, dy, dims, ndim);
  if (s == TL_OK)
    s = tl_optim_step(o);
  return s;
}

#endif
