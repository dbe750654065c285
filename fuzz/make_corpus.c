/* Writes the fuzzers' seed corpus: real checkpoints made through the public
 * API, each prefixed with the harnesses' mode byte (fuzz_ckpt_load.c).
 * Both targets start from all of it; the model_* seeds are checkpoints of
 * fuzz_common.h's model (parameters, layer groups, a carried LSTM state,
 * RNG streams, Adam state, step) that fuzz_ckpt_model.c loads in full, and
 * model_bn of its BatchNorm head (buffers).
 * Deterministic, so re-running it leaves fuzz/corpus/ unchanged.
 * Usage: make_corpus DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void check(tl_status s) {
  if (s != TL_OK) {
    fprintf(stderr, "make_corpus: %s\n", tl_last_error());
    exit(1);
  }
}

/* A model trained for `steps` Adam steps (so the moments, step counters,
 * RNG and carried state are all non-trivial), with its optimizer. */
static tl_model *trained(uint64_t seed, int steps, tl_optim **optim) {
  tl_model *m = NULL;
  check(fuzz_build_model(&m, seed));
  check(fuzz_build_adam(optim, m));
  for (int s = 0; s < steps; s++)
    check(fuzz_train_step(m, *optim, (unsigned)s));
  return m;
}

static void write_seed(const char *dir, const char *name, unsigned mode,
                       const tl_ckpt *c) {
  size_t size = 0, written = 0;
  check(tl_ckpt_serialized_size(&size, c));
  unsigned char *img = malloc(size + 1);
  img[0] = (unsigned char)mode;
  check(tl_ckpt_save_buffer(img + 1, size, &written, c));
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(img, 1, size + 1, f) != size + 1 || fclose(f) != 0) {
    fprintf(stderr, "make_corpus: cannot write %s\n", path);
    exit(1);
  }
  free(img);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  const char *dir = argv[1];
  tl_ckpt *c = NULL;

  check(tl_ckpt_create(&c));
  write_seed(dir, "empty", 1, c);
  tl_ckpt_free(c);

  /* Every section kind, every dtype, a scalar and an empty tensor. */
  check(tl_ckpt_create(&c));
  const float w[6] = {0.5f, -1.0f, 2.0f, 3.25f, -0.125f, 1e-3f};
  const int64_t ids[2] = {1, -2};
  const int32_t i32[3] = {7, -8, 9};
  const uint8_t mask[3] = {1, 0, 1};
  const double b = 3.5;
  const size_t s23[2] = {2, 3}, s2[1] = {2}, s3[1] = {3}, s05[2] = {0, 5};
  check(tl_ckpt_add_tensor(c, "encoder.weight", TL_CKPT_F32, 2, s23, w));
  check(tl_ckpt_add_tensor(c, "ids", TL_CKPT_I64, 1, s2, ids));
  check(tl_ckpt_add_tensor(c, "i32", TL_CKPT_I32, 1, s3, i32));
  check(tl_ckpt_add_tensor(c, "mask", TL_CKPT_U8, 1, s3, mask));
  check(tl_ckpt_add_tensor(c, "b", TL_CKPT_F64, 0, NULL, &b));
  check(tl_ckpt_add_tensor(c, "empty", TL_CKPT_F32, 2, s05, NULL));
  check(tl_ckpt_set_tensor_group(c, 0, 0));
  check(tl_ckpt_set_tensor_group(c, 4, 2));
  const char *vocab[4] = {"xxunk", "xxpad", "the", ""};
  check(tl_ckpt_set_vocab(c, vocab, 4));
  check(tl_ckpt_set_meta(c, "arch", "AWD_LSTM"));
  check(tl_ckpt_set_meta(c, "empty", ""));
  check(tl_ckpt_set_section(c, TL_CKPT_SECTION_OPTIM, 2, "\x01\x02\x03", 3));
  check(tl_ckpt_set_step(c, 12345));
  check(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, 1,
                            "0123456789abcdef0123"
                            "456789abcdef",
                            32));
  write_seed(dir, "all_sections", 1, c);
  write_seed(dir, "all_sections_raw", 0, c);
  write_seed(dir, "all_sections_nocrc", 3, c);
  tl_ckpt_free(c);

  /* Many small tensors (name sorting, overlap checks). */
  check(tl_ckpt_create(&c));
  for (int i = 0; i < 24; i++) {
    char name[32];
    snprintf(name, sizeof name, "rnns.%d.weight_hh_l0_raw", i);
    const float v[2] = {(float)i, (float)-i};
    check(tl_ckpt_add_tensor(c, name, TL_CKPT_F32, 1, s2, v));
  }
  write_seed(dir, "many_tensors", 1, c);
  tl_ckpt_free(c);

  /* A vocabulary and metadata alone. */
  check(tl_ckpt_create(&c));
  const char *words[6] = {"a", "bb", "ccc", "dddd", "a", "é"};
  check(tl_ckpt_set_vocab(c, words, 6));
  for (int i = 0; i < 5; i++) {
    char key[16], value[16];
    snprintf(key, sizeof key, "k%d", i);
    snprintf(value, sizeof value, "v%d", i * i);
    check(tl_ckpt_set_meta(c, key, value));
  }
  write_seed(dir, "vocab_meta", 1, c);
  tl_ckpt_free(c);

  /* A whole LM checkpoint of the fuzzed model: parameters with groups,
   * "@state.rnn", the RNG stream "", Adam state, step, vocabulary. Loads
   * strictly (and its optimizer state) into fuzz_ckpt_model.c's model. */
  tl_optim *opt = NULL;
  tl_model *m = trained(3, 2, &opt);
  check(tl_ckpt_create(&c));
  check(tl_ckpt_store_model(c, m, NULL));
  check(tl_ckpt_store_optim(c, opt));
  check(tl_ckpt_set_step(c, 2));
  const char *toks[FUZZ_V] = {"xxunk", "xxpad", "a", "b", "c", "d", "e"};
  check(tl_ckpt_set_vocab(c, toks, FUZZ_V));
  write_seed(dir, "model_lm", 1, c);
  write_seed(dir, "model_lm_nocrc", 3, c);
  tl_ckpt_free(c);

  /* The same model under the prefix "0." (a fastai SequentialRNN's
   * encoder: the non-strict prefixed load) next to a second one under
   * "1.": two RNG streams, two carried states. */
  tl_optim *opt2 = NULL;
  tl_model *m2 = trained(4, 1, &opt2);
  check(tl_ckpt_create(&c));
  check(tl_ckpt_store_model(c, m, "0."));
  check(tl_ckpt_store_model(c, m2, "1."));
  check(tl_ckpt_store_optim(c, opt2));
  write_seed(dir, "model_prefixed", 1, c);
  tl_ckpt_free(c);

  /* Parameters only (an untrained model: no carried state, no RNG moves),
   * with fastai's name for the embedding. */
  tl_model *fresh = NULL;
  check(fuzz_build_model(&fresh, 5));
  check(tl_ckpt_create(&c));
  check(tl_ckpt_store_model(c, fresh, "0."));
  size_t at = 0;
  check(tl_ckpt_find_tensor(&at, c, "0.emb.weight"));
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  check(tl_ckpt_tensor_info(&info, c, at));
  const void *w0 = NULL;
  check(tl_ckpt_tensor_data(&w0, c, at));
  check(tl_ckpt_add_tensor(c, "0.encoder.weight", TL_CKPT_F32, info.rank,
                           info.shape, w0));
  check(tl_ckpt_remove_tensor(c, at));
  check(tl_ckpt_clear_section(c, TL_CKPT_SECTION_RNG));
  write_seed(dir, "model_params_only", 1, c);
  tl_ckpt_free(c);

  /* The LM checkpoint with its architecture section (the fuzzed model and
   * a decoder tied to its embedding), which tl_ckpt_create_models
   * rebuilds. */
  tl_model *dec = NULL;
  check(tl_model_create(&dec, NULL));
  check(tl_model_add_decoder(dec, "dec", FUZZ_E, FUZZ_V, m, "emb"));
  check(tl_ckpt_create(&c));
  check(tl_ckpt_store_model(c, m, NULL));
  check(tl_ckpt_store_model(c, dec, "dec."));
  const tl_model *arch_models[2] = {m, dec};
  const char *arch_prefixes[2] = {"", "dec."};
  check(tl_ckpt_store_arch(c, arch_models, arch_prefixes, 2));
  write_seed(dir, "model_arch", 1, c);
  tl_ckpt_free(c);
  tl_model_free(dec);
  /* The BatchNorm head after two train-mode forwards: buffers with moved
   * statistics and a count. */
  tl_model *bn = NULL;
  check(fuzz_build_bn_model(&bn));
  check(fuzz_bn_forward(bn, 1));
  check(fuzz_bn_forward(bn, 2));
  check(tl_ckpt_create(&c));
  check(tl_ckpt_store_model(c, bn, NULL));
  write_seed(dir, "model_bn", 1, c);
  tl_ckpt_free(c);
  tl_model_free(bn);

  tl_model_free(fresh);
  tl_optim_free(opt2);
  tl_model_free(m2);
  tl_optim_free(opt);
  tl_model_free(m);
  return 0;
}
