/* The architecture section (tl_ckpt_store_arch / tl_ckpt_create_models)
 * and encoders saved with their vocabulary (tl_encoder_save / load):
 * models rebuilt from a file alone compute what the originals computed,
 * ties across models survive, hostile sections are refused with a
 * message, and a classifier vocabulary gets the LM's rows remapped. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdlib.h>
#include <unistd.h>

#include "tl_test.h"

#include "../fixtures/awd_golden.h"

static char dir[] = "/tmp/tl_arch_XXXXXX";
static char path_buf[256];

static const char *path_of(const char *name) {
  if (dir[sizeof dir - 2] == 'X')
    ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

static tl_awd_lstm_options small_options(void) {
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = AWD_E;
  o.n_hid = AWD_N;
  o.n_layers = AWD_L;
  o.seed = 3;
  return o;
}

/* A head of every other kind: pool, dropout, linear without bias, linear,
 * and a GRU model, so the section covers the whole layer table. */
static tl_model *make_head(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_concat_pool(m, "pool"));
  tl_batchnorm_options bo = TL_BATCHNORM_OPTIONS_INIT;
  bo.momentum = 0.25;
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(m, "layers_0_bn", 3 * AWD_E, &bo));
  /* running statistics that differ from the initial ones, so a rebuilt
   * model shows whether they were restored */
  double mean[3 * AWD_E], var[3 * AWD_E];
  for (size_t i = 0; i < 3 * AWD_E; i++) {
    mean[i] = 0.125 * (double)i;
    var[i] = 1.0 + 0.0625 * (double)i;
  }
  TLT_ASSERT_OK(
      tl_model_buffer_set(m, "layers_0_bn.running_mean", mean, 3 * AWD_E));
  TLT_ASSERT_OK(
      tl_model_buffer_set(m, "layers_0_bn.running_var", var, 3 * AWD_E));
  TLT_ASSERT_OK(
      tl_model_add_dropout(m, "layers_0_drop", TL_DROPOUT_STANDARD, 0.25f));
  tl_linear_options lo = TL_LINEAR_OPTIONS_INIT;
  lo.bias = 0;
  lo.activation = TL_ACTIVATION_RELU;
  TLT_ASSERT_OK(tl_model_add_linear_ex(m, "layers_0_lin", 3 * AWD_E, 5, &lo));
  TLT_ASSERT_OK(
      tl_model_add_linear(m, "layers_1_lin", 5, 3, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_set_group(m, "layers_1_lin", 0));
  return m;
}

static void same_params(const tl_model *a, const tl_model *b);

static void same_structure(const tl_model *a, const tl_model *b) {
  size_t na, nb;
  TLT_ASSERT_OK(tl_model_num_layers(&na, a));
  TLT_ASSERT_OK(tl_model_num_layers(&nb, b));
  ck_assert_uint_eq(na, nb);
  for (size_t i = 0; i < na; i++) {
    const char *x, *y;
    TLT_ASSERT_OK(tl_model_layer_name(&x, a, i));
    TLT_ASSERT_OK(tl_model_layer_name(&y, b, i));
    ck_assert_str_eq(x, y);
    size_t ga, gb;
    TLT_ASSERT_OK(tl_model_get_group(&ga, a, x));
    TLT_ASSERT_OK(tl_model_get_group(&gb, b, y));
    ck_assert_uint_eq(ga, gb);
  }
  same_params(a, b);
}

/* The same parameter names and values. */
static void same_params(const tl_model *a, const tl_model *b) {
  size_t na, nb;
  TLT_ASSERT_OK(tl_model_num_params(&na, a));
  TLT_ASSERT_OK(tl_model_num_params(&nb, b));
  ck_assert_uint_eq(na, nb);
  for (size_t i = 0; i < na; i++) {
    const char *x, *y;
    TLT_ASSERT_OK(tl_model_param_name(&x, a, i));
    TLT_ASSERT_OK(tl_model_param_name(&y, b, i));
    ck_assert_str_eq(x, y);
  }
  float *fa, *fb;
  TLT_ASSERT_OK(tl_model_flat_params(&fa, &na, (tl_model *)a));
  TLT_ASSERT_OK(tl_model_flat_params(&fb, &nb, (tl_model *)b));
  ck_assert_uint_eq(na, nb);
  ck_assert_int_eq(memcmp(fa, fb, na * sizeof *fa), 0);
}

/* The LM (encoder + decoder tied across models) and a head, stored with
 * prefixes, saved, loaded, rebuilt: the same layers, groups, parameters
 * and, in train mode (dropout masks from restored RNG streams), the same
 * outputs. */
START_TEST(models_round_trip) {
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *dec = NULL, *head = make_head();
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 1.0f));
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  const tl_model *models[3] = {enc, dec, head};
  const char *prefixes[3] = {"0.", "1.", "head."};
  for (size_t i = 0; i < 3; i++)
    TLT_ASSERT_OK(tl_ckpt_store_model(ck, models[i], prefixes[i]));
  TLT_ASSERT_OK(tl_ckpt_store_arch(ck, models, prefixes, 3));
  const char *path = path_of("lm.tlc");
  TLT_ASSERT_OK(tl_ckpt_save(ck, path));
  tl_ckpt_free(ck);

  TLT_ASSERT_OK(tl_ckpt_load(&ck, path, NULL));
  size_t n = 0;
  TLT_ASSERT_OK(tl_ckpt_arch_count(&n, ck));
  ck_assert_uint_eq(n, 3);
  const char *p;
  TLT_ASSERT_OK(tl_ckpt_arch_prefix(&p, ck, 2));
  ck_assert_str_eq(p, "head.");
  tl_model *back[3] = {NULL};
  TLT_ASSERT_FAILS(tl_ckpt_create_models(back, 2, ck, 1), TL_E_INVALID_ARG,
                   "n");
  TLT_ASSERT_OK(tl_ckpt_create_models(back, 3, ck, 1));
  tl_ckpt_free(ck);
  for (size_t i = 0; i < 3; i++)
    same_structure(models[i], back[i]);

  /* the rebuilt decoder is tied to the rebuilt encoder: a change of the
   * embedding shows in the logits, and train-mode outputs (dropouts from
   * the restored streams) equal the originals' */
  const size_t dims[2] = {AWD_T, AWD_B};
  const float *y0, *y1, *l0, *l1;
  size_t od[TL_MODEL_MAX_DIMS], ld[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_forward_ids(&y0, od, &on, enc, awd_win0_ids, dims, 2));
  TLT_ASSERT_OK(tl_model_forward(&l0, ld, &on, dec, y0, od, 3));
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y1, od, &on, back[0], awd_win0_ids, dims, 2));
  TLT_ASSERT_OK(tl_model_forward(&l1, ld, &on, back[1], y1, od, 3));
  ck_assert_int_eq(memcmp(l0, l1, AWD_T * AWD_B * AWD_V * sizeof *l0), 0);
  float *w;
  TLT_ASSERT_OK(tl_model_param_view(&w, NULL, back[0], "encoder.weight"));
  TLT_ASSERT_OK(tl_model_eval(back[0]));
  TLT_ASSERT_OK(tl_model_eval(back[1]));
  TLT_ASSERT_OK(tl_model_reset_state(back[0]));
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y1, od, &on, back[0], awd_win0_ids, dims, 2));
  TLT_ASSERT_OK(tl_model_forward(&l1, ld, &on, back[1], y1, od, 3));
  const float before = l1[0];
  for (size_t i = 0; i < AWD_V * AWD_E; i++)
    w[i] *= 2.0f;
  TLT_ASSERT_OK(tl_model_forward(&l1, ld, &on, back[1], y1, od, 3));
  ck_assert(l1[0] != before);
  const char *kinds[5] = {"concat_pool", "batchnorm1d", "dropout", "linear",
                          "linear"};
  for (size_t i = 0; i < 5; i++) {
    const char *k;
    TLT_ASSERT_OK(tl_model_layer_kind(&k, back[2], i));
    ck_assert_str_eq(k, kinds[i]);
  }
  const char *k;
  TLT_ASSERT_OK(tl_model_layer_kind(&k, back[1], 0));
  ck_assert_str_eq(k, "decoder");
  TLT_ASSERT_FAILS(tl_model_layer_kind(&k, back[1], 1), TL_E_INVALID_ARG,
                   "index");
  /* the head in eval mode: BatchNorm with the restored statistics */
  TLT_ASSERT_OK(tl_model_eval(head));
  TLT_ASSERT_OK(tl_model_eval(back[2]));
  const size_t hd[3] = {AWD_T, AWD_B, AWD_E};
  const float *h0, *h1;
  size_t hod[TL_MODEL_MAX_DIMS];
  TLT_ASSERT_OK(tl_model_forward(&h0, hod, &on, head, awd_win0_out, hd, 3));
  float h0_copy[AWD_B * 3];
  memcpy(h0_copy, h0, sizeof h0_copy);
  TLT_ASSERT_OK(tl_model_forward(&h1, hod, &on, back[2], awd_win0_out, hd, 3));
  ck_assert_int_eq(memcmp(h0_copy, h1, sizeof h0_copy), 0);
  double got_var[3 * AWD_E];
  TLT_ASSERT_OK(tl_model_buffer_get(got_var, 3 * AWD_E, back[2],
                                    "layers_0_bn.running_var"));
  ck_assert(got_var[3] == 1.1875);
  /* the bias-free linear stays bias-free */
  size_t idx;
  TLT_ASSERT_FAILS(tl_model_param_index(&idx, back[2], "layers_0_lin.bias"),
                   TL_E_NOT_FOUND, "layers_0_lin.bias");
  /* the rebuilt encoder can outlive the rebuilt decoder and vice versa */
  for (size_t i = 0; i < 3; i++)
    tl_model_free(back[i]);
  tl_model_free(head);
  tl_model_free(dec);
  tl_model_free(enc);
}
END_TEST

START_TEST(gru_and_no_params) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  eo.padding_idx = 0;
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 9, 4, &eo));
  tl_gru_options go = TL_GRU_OPTIONS_INIT;
  go.stateful = 1;
  go.weight_p = 0.125f;
  TLT_ASSERT_OK(tl_model_add_gru(m, "gru", 4, 6, 2, &go));
  TLT_ASSERT_OK(tl_model_add_dropout(m, "drop", TL_DROPOUT_LOCKED, 0.5f));
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  const tl_model *models[1] = {m};
  const char *prefixes[1] = {""};
  TLT_ASSERT_OK(tl_ckpt_store_arch(ck, models, prefixes, 1));
  /* without parameters: a fresh model of the same structure */
  tl_model *back = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_create_models(&back, 1, ck, 1), TL_E_FORMAT,
                   "parameter floats");
  TLT_ASSERT_OK(tl_ckpt_create_models(&back, 1, ck, 0));
  size_t np = 0;
  TLT_ASSERT_OK(tl_model_num_params(&np, back));
  ck_assert_uint_eq(np, 1 + 8);
  float pad[9 * 4];
  TLT_ASSERT_OK(tl_model_param_get(pad, 9 * 4, back, "emb.weight"));
  ck_assert(pad[0] == 0.0f && pad[3] == 0.0f); /* padding_idx 0 kept */
  tl_model_free(back);
  /* with them */
  TLT_ASSERT_OK(tl_ckpt_store_model(ck, m, NULL));
  TLT_ASSERT_OK(tl_ckpt_create_models(&back, 1, ck, 1));
  same_structure(m, back);
  /* stateful: two forwards continue, as the original */
  const int64_t ids[6] = {1, 2, 3, 4, 5, 6};
  const size_t dims[2] = {3, 2};
  const float *ya, *yb;
  size_t od[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(tl_model_eval(back));
  for (int k = 0; k < 2; k++) {
    TLT_ASSERT_OK(tl_model_forward_ids(&ya, od, &on, m, ids, dims, 2));
    TLT_ASSERT_OK(tl_model_forward_ids(&yb, od, &on, back, ids, dims, 2));
    ck_assert_int_eq(memcmp(ya, yb, 3 * 2 * 6 * sizeof *ya), 0);
  }
  tl_model_free(back);
  tl_ckpt_free(ck);
  tl_model_free(m);
}
END_TEST

START_TEST(store_refuses) {
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *dec = NULL, *empty = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 1.0f));
  TLT_ASSERT_OK(tl_model_create(&empty, NULL));
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  const tl_model *only_dec[1] = {dec};
  const char *p1[1] = {""};
  TLT_ASSERT_FAILS(tl_ckpt_store_arch(ck, only_dec, p1, 1), TL_E_INVALID_ARG,
                   "tied to a model");
  const tl_model *wrong_order[2] = {dec, enc};
  const char *p2[2] = {"1.", "0."};
  TLT_ASSERT_FAILS(tl_ckpt_store_arch(ck, wrong_order, p2, 2), TL_E_INVALID_ARG,
                   "store the embedding's model first");
  const tl_model *both[2] = {enc, dec};
  const char *same[2] = {"x", "x"};
  TLT_ASSERT_FAILS(tl_ckpt_store_arch(ck, both, same, 2), TL_E_INVALID_ARG,
                   "prefixes[1]");
  const tl_model *none[1] = {empty};
  TLT_ASSERT_FAILS(tl_ckpt_store_arch(ck, none, p1, 1), TL_E_INVALID_ARG,
                   "layers");
  TLT_ASSERT_FAILS(tl_ckpt_store_arch(ck, both, p2, 0), TL_E_INVALID_ARG, "n");
  TLT_ASSERT_FAILS(tl_ckpt_store_arch(NULL, both, p2, 2), TL_E_INVALID_ARG,
                   "ckpt");
  size_t n;
  TLT_ASSERT_FAILS(tl_ckpt_arch_count(&n, ck), TL_E_NOT_FOUND,
                   "no architecture section");
  tl_model *out[1];
  TLT_ASSERT_FAILS(tl_ckpt_create_models(out, 1, ck, 1), TL_E_NOT_FOUND,
                   "no architecture section");
  tl_ckpt_free(ck);
  tl_model_free(empty);
  tl_model_free(dec);
  tl_model_free(enc);
}
END_TEST

/* ---- hostile sections ---------------------------------------------------- */

/* The file image of a checkpoint holding `m` (prefix "") and its
 * architecture. */
static unsigned char *image_of(size_t *size, const tl_model *m) {
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  TLT_ASSERT_OK(tl_ckpt_store_model(ck, m, NULL));
  const tl_model *models[1] = {m};
  const char *prefixes[1] = {""};
  TLT_ASSERT_OK(tl_ckpt_store_arch(ck, models, prefixes, 1));
  TLT_ASSERT_OK(tl_ckpt_serialized_size(size, ck));
  unsigned char *buf = malloc(*size);
  size_t written;
  TLT_ASSERT_OK(tl_ckpt_save_buffer(buf, *size, &written, ck));
  tl_ckpt_free(ck);
  return buf;
}

/* Where the architecture payload starts and how long it is: the last
 * section entry (libtl writes it last, kind 0x80000007). */
static size_t payload_of(const unsigned char *buf, size_t *len) {
  const uint32_t n_tensors = (uint32_t)buf[32] | (uint32_t)buf[33] << 8;
  const uint32_t n_sections = (uint32_t)buf[36];
  const unsigned char *e =
      buf + 64 + 104 * (size_t)n_tensors + 32 * (size_t)(n_sections - 1);
  ck_assert_uint_eq(e[0], 7);
  ck_assert_uint_eq(e[3], 0x80);
  size_t off = 0;
  for (int i = 7; i >= 0; i--)
    off = off << 8 | e[8 + i];
  *len = 0;
  for (int i = 7; i >= 0; i--)
    *len = *len << 8 | e[16 + i];
  return off;
}

/* Re-seals a patched image: the payload's CRC in its section entry, then
 * the header CRC (a zlib CRC32 computed here). */
static uint32_t crc32_of(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static void reseal(unsigned char *buf) {
  const uint32_t n_tensors = (uint32_t)buf[32] | (uint32_t)buf[33] << 8;
  const uint32_t n_sections = (uint32_t)buf[36];
  unsigned char *e =
      buf + 64 + 104 * (size_t)n_tensors + 32 * (size_t)(n_sections - 1);
  size_t len;
  const size_t off = payload_of(buf, &len);
  put32(e + 24, crc32_of(buf + off, len));
  size_t index = 0;
  for (int i = 7; i >= 0; i--)
    index = index << 8 | buf[24 + i];
  put32(buf + 44, 0);
  put32(buf + 44, crc32_of(buf, 64 + index));
}

static tl_model *small_model(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 5, 3, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 3, 2, 1, NULL));
  return m;
}

/* Finds `needle` in the payload and overwrites it with `with` (same
 * length), re-seals, and expects the load to fail naming `word`. */
static void patch_fails(const char *needle, const char *with, size_t skip,
                        tl_status want, const char *word) {
  tl_model *m = small_model();
  size_t size, len;
  unsigned char *buf = image_of(&size, m);
  const size_t off = payload_of(buf, &len);
  unsigned char *hit = NULL;
  const size_t nl = strlen(needle);
  for (size_t i = 0; i + nl <= len && hit == NULL; i++)
    if (memcmp(buf + off + i, needle, nl) == 0)
      hit = buf + off + i;
  ck_assert_ptr_nonnull(hit);
  memcpy(hit + skip, with, strlen(with));
  reseal(buf);
  tl_ckpt *ck = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_load_buffer(&ck, buf, size, NULL), want, word);
  free(buf);
  tl_model_free(m);
}

START_TEST(hostile_sections) {
  /* the unpatched image loads and rebuilds */
  tl_model *m = small_model();
  size_t size, len;
  unsigned char *buf = image_of(&size, m);
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&ck, buf, size, NULL));
  tl_model *back = NULL;
  TLT_ASSERT_OK(tl_ckpt_create_models(&back, 1, ck, 1));
  tl_model_free(back);
  tl_ckpt_free(ck);
  /* every truncation of the payload (its length field shortened) fails
   * with a format error, never a crash */
  const size_t off = payload_of(buf, &len);
  const uint32_t n_tensors = (uint32_t)buf[32];
  const uint32_t n_sections = (uint32_t)buf[36];
  unsigned char *e =
      buf + 64 + 104 * (size_t)n_tensors + 32 * (size_t)(n_sections - 1);
  for (size_t cut = 0; cut < len; cut++) {
    unsigned char *copy = malloc(size);
    memcpy(copy, buf, size);
    /* zero the cut-off bytes (bytes between blobs must be zero) */
    memset(copy + off + cut, 0, len - cut);
    e = copy + 64 + 104 * (size_t)n_tensors + 32 * (size_t)(n_sections - 1);
    put32(e + 16, (uint32_t)cut);
    reseal(copy);
    tl_clear_error();
    const tl_status st = tl_ckpt_load_buffer(&ck, copy, size, NULL);
    ck_assert_msg(st == TL_E_FORMAT, "cut %zu: %s", cut, tl_status_string(st));
    ck_assert(strstr(tl_last_error(), "architecture") != NULL);
    free(copy);
  }
  free(buf);
  tl_model_free(m);
  /* fields */
  patch_fails("lstm", "lstx", 0, TL_E_FORMAT, "unknown kind 'lstx'");
  patch_fails("rnn", "r-n", 0, TL_E_FORMAT, "r-n");
  patch_fails("rnn", "emb", 0, TL_E_FORMAT, "two layers named 'emb'");
}
END_TEST

/* Settings an add call refuses are format errors naming the layer. */
START_TEST(hostile_settings) {
  tl_model *m = small_model();
  size_t size, len;
  unsigned char *buf = image_of(&size, m);
  const size_t off = payload_of(buf, &len);
  /* the lstm's last setting (stateful, 0.0) is the payload's last 8
   * bytes: 0.5 is not an integer, 2.0 not 0 or 1 */
  const double bad[3] = {0.5, 2.0, NAN};
  for (int k = 0; k < 3; k++) {
    uint64_t bits;
    memcpy(&bits, &bad[k], sizeof bits);
    for (int i = 0; i < 8; i++)
      buf[off + len - 8 + (size_t)i] = (unsigned char)(bits >> (8 * i));
    reseal(buf);
    tl_ckpt *ck = NULL;
    tl_status st = tl_ckpt_load_buffer(&ck, buf, size, NULL);
    if (st == TL_OK) {
      tl_model *back = NULL;
      TLT_ASSERT_FAILS(tl_ckpt_create_models(&back, 1, ck, 1), TL_E_FORMAT,
                       "stateful");
      ck_assert_str_ne(tl_last_error(), "");
      ck_assert(strstr(tl_last_error(), "layer 'rnn'") != NULL);
      tl_ckpt_free(ck);
    } else {
      ck_assert_int_eq(st, TL_E_FORMAT); /* NaN: refused on load */
      ck_assert(strstr(tl_last_error(), "not finite") != NULL);
    }
  }
  free(buf);
  tl_model_free(m);
}
END_TEST

/* ---- encoders with their vocabulary -------------------------------------- */

static tl_vocab *vocab_of(const char *const *extra, size_t n_extra) {
  const char *tokens[AWD_V];
  size_t n = 0;
  for (size_t i = 0; i < TL_TEXT_NUM_SPECIALS; i++)
    tokens[n++] = tl_text_special(i);
  for (size_t i = 0; i < n_extra; i++)
    tokens[n++] = extra[i];
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create(&v, tokens, n));
  return v;
}

START_TEST(encoder_save_load) {
  const char *lm_words[4] = {"the", "cat", "sat", "mat"};
  const char *clas_words[4] = {"mat", "dog", "the", "sat"};
  tl_vocab *lm_vocab = vocab_of(lm_words, 4);
  tl_vocab *clas_vocab = vocab_of(clas_words, 4);
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *dec = NULL, *clas = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 1.0f));
  /* a forward leaves a carried state that the file must not hold */
  const size_t dims[2] = {AWD_T, AWD_B};
  const float *y;
  size_t od[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &on, enc, awd_win0_ids, dims, 2));
  const char *path = path_of("enc.tlc");
  TLT_ASSERT_OK(tl_encoder_save(enc, lm_vocab, path));
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_load(&ck, path, NULL));
  size_t n, idx;
  TLT_ASSERT_OK(tl_ckpt_vocab_size(&n, ck));
  ck_assert_uint_eq(n, AWD_V);
  TLT_ASSERT_FAILS(tl_ckpt_find_tensor(&idx, ck, "@state.rnns_0"),
                   TL_E_NOT_FOUND, "@state");
  TLT_ASSERT_OK(tl_ckpt_arch_count(&n, ck));
  ck_assert_uint_eq(n, 1);
  tl_ckpt_free(ck);

  /* same vocabulary: the parameters exactly */
  o.seed = 11;
  TLT_ASSERT_OK(tl_awd_lstm_encoder_create(&clas, AWD_V, &o, 1.0f));
  uint8_t is_new[AWD_V];
  memset(is_new, 7, sizeof is_new);
  TLT_ASSERT_OK(tl_encoder_load(clas, lm_vocab, path, is_new));
  for (size_t i = 0; i < AWD_V; i++)
    ck_assert_uint_eq(is_new[i], 0);
  same_params(enc, clas); /* groups differ: LM and classifier splits */

  /* another vocabulary: known words keep their rows, "dog" gets the mean */
  TLT_ASSERT_OK(tl_encoder_load(clas, clas_vocab, path, is_new));
  float lm_w[AWD_V * AWD_E], cl_w[AWD_V * AWD_E];
  TLT_ASSERT_OK(tl_model_param_get(lm_w, AWD_V * AWD_E, enc, "encoder.weight"));
  TLT_ASSERT_OK(
      tl_model_param_get(cl_w, AWD_V * AWD_E, clas, "encoder.weight"));
  const size_t s = TL_TEXT_NUM_SPECIALS;
  /* clas "mat" (s+0) = lm "mat" (s+3); "the" (s+2) = lm s+0; "sat" s+3 =
   * lm s+2; "dog" (s+1) new */
  ck_assert_int_eq(memcmp(cl_w + (s + 0) * AWD_E, lm_w + (s + 3) * AWD_E,
                          AWD_E * sizeof(float)),
                   0);
  ck_assert_int_eq(memcmp(cl_w + (s + 2) * AWD_E, lm_w + (s + 0) * AWD_E,
                          AWD_E * sizeof(float)),
                   0);
  ck_assert_int_eq(memcmp(cl_w + (s + 3) * AWD_E, lm_w + (s + 2) * AWD_E,
                          AWD_E * sizeof(float)),
                   0);
  for (size_t j = 0; j < AWD_E; j++) {
    double mean = 0;
    for (size_t r = 0; r < AWD_V; r++)
      mean += lm_w[r * AWD_E + j];
    TLT_ASSERT_CLOSE(cl_w[(s + 1) * AWD_E + j], mean / AWD_V, 1e-5, 1e-6);
  }
  for (size_t i = 0; i < AWD_V; i++)
    ck_assert_uint_eq(is_new[i], i == s + 1);
  tl_model_free(clas);
  tl_model_free(dec);
  tl_model_free(enc);
  tl_vocab_free(lm_vocab);
  tl_vocab_free(clas_vocab);
}
END_TEST

START_TEST(encoder_bad_input) {
  const char *words[4] = {"the", "cat", "sat", "mat"};
  tl_vocab *vocab = vocab_of(words, 4);
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *other = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_encoder_create(&enc, AWD_V, &o, 1.0f));
  const char *path = path_of("enc2.tlc");
  TLT_ASSERT_OK(tl_encoder_save(enc, vocab, path));
  /* other sizes: the message names the tensor */
  o.n_hid = AWD_N + 1;
  TLT_ASSERT_OK(tl_awd_lstm_encoder_create(&other, AWD_V, &o, 1.0f));
  float before[4 * (AWD_N + 1) * AWD_E];
  TLT_ASSERT_OK(tl_model_param_get(before, 4 * (AWD_N + 1) * AWD_E, other,
                                   "rnns_0.weight_ih_l0"));
  TLT_ASSERT_FAILS(tl_encoder_load(other, vocab, path, NULL), TL_E_SHAPE,
                   "rnns_0.weight_ih_l0");
  float after[4 * (AWD_N + 1) * AWD_E];
  TLT_ASSERT_OK(tl_model_param_get(after, 4 * (AWD_N + 1) * AWD_E, other,
                                   "rnns_0.weight_ih_l0"));
  ck_assert_int_eq(memcmp(before, after, sizeof before), 0);
  tl_model_free(other);
  /* a vocabulary of another size than the embedding */
  const char *fewer[3] = {"the", "cat", "sat"};
  tl_vocab *small = vocab_of(fewer, 3);
  TLT_ASSERT_FAILS(tl_encoder_load(enc, small, path, NULL), TL_E_SHAPE,
                   "encoder.weight");
  TLT_ASSERT_FAILS(tl_encoder_save(enc, small, path), TL_E_SHAPE,
                   "encoder.weight");
  tl_vocab_free(small);
  /* a model without an embedding, a missing file, NULLs */
  tl_model *lin = NULL;
  TLT_ASSERT_OK(tl_model_create(&lin, NULL));
  TLT_ASSERT_FAILS(tl_encoder_save(lin, vocab, path), TL_E_SHAPE,
                   "no parameters");
  tl_model_free(lin);
  TLT_ASSERT_FAILS(tl_encoder_load(enc, vocab, path_of("missing.tlc"), NULL),
                   TL_E_IO, "missing.tlc");
  TLT_ASSERT_FAILS(tl_encoder_load(NULL, vocab, path, NULL), TL_E_INVALID_ARG,
                   "encoder");
  TLT_ASSERT_FAILS(tl_encoder_save(enc, NULL, path), TL_E_INVALID_ARG, "vocab");
  TLT_ASSERT_FAILS(tl_encoder_save(enc, vocab, NULL), TL_E_INVALID_ARG, "path");
  tl_model_free(enc);
  tl_vocab_free(vocab);
}
END_TEST

int main(void) {
  Suite *s = suite_create("arch_io");
  TCase *tc = tcase_create("arch_io");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, models_round_trip);
  tcase_add_test(tc, gru_and_no_params);
  tcase_add_test(tc, store_refuses);
  tcase_add_test(tc, hostile_sections);
  tcase_add_test(tc, hostile_settings);
  tcase_add_test(tc, encoder_save_load);
  tcase_add_test(tc, encoder_bad_input);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
