/* libFuzzer target for model-level checkpoint parsing: what
 * tl_ckpt_restore_model (parameter names, shapes, dtypes, layer groups, carried
 * states "@state.<layer>", the RNG streams section of ckpt_rng.c) and
 * tl_ckpt_restore_optim (tl_optim_state_load) make of a container that
 * tl_ckpt_load_buffer accepted.
 *
 * The first input byte is the mode, as in fuzz_ckpt_load.c: bit 0 repairs
 * the CRCs, bit 1 loads with data CRCs off. Each input gets a fresh copy of
 * the fixed model of fuzz_common.h (embedding -> stateful LSTM with weight
 * drop -> linear) and an Adam optimizer over it, after one training step
 * (so moments, step counters, the RNG and the carried state are all
 * non-trivial), and fuzz_common.h's BatchNorm head (buffers). Then:
 * tl_ckpt_restore_model strict without prefix, non-strict with the prefix "0."
 * and a name map, tl_ckpt_restore_optim. Invariants (the harness aborts when
 * one breaks):
 *   - a failed call sets a message and leaves the model (parameters, RNG,
 *     carried states) and the optimizer (moments, step counters) byte for
 *     byte as they were;
 *   - after a successful call every parameter, carried state, moment and
 *     running statistic is finite, every running_var and count >= 0, a
 *     carried state has the (parts, layers, B, H) size the layer expects
 *     (the layer table's carried_state), and the next forward works;
 * after a successful tl_ckpt_restore_optim an optimizer step with zero
 * gradients produces no NaN (a loaded state must be one Adam can continue
 * from). Then, when the container has an architecture section,
 * tl_ckpt_create_models with and without parameters: the models are built
 * or the call fails with a message. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "model/layer_ops.h"
#include "optim/optim_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

/* Appends n bytes of p to the snapshot being built (or only counts). */
typedef struct snap {
  unsigned char *p;
  size_t n;
} snap;

static void put(snap *s, const void *p, size_t n) {
  if (s->p != NULL)
    memcpy(s->p + s->n, p, n);
  s->n += n;
}

/* Floats of a layer's carried state; 0 for a layer that carries none. */
static size_t state_floats(const tli_layer *L) {
  size_t depth = 0;
  const size_t parts = tli_layer_carried_state(L, &depth);
  return parts * depth * L->state_batch * L->out_features;
}

static int is_stateful(const tli_layer *L) {
  size_t depth = 0;
  return tli_layer_carried_state(L, &depth) > 0;
}

static void snap_fill(snap *s, const tl_model *m, const tl_optim *o) {
  put(s, m->flat, m->numel * sizeof(float));
  for (size_t k = 0; k < m->n_buffers; k++) {
    const tli_buffer *b = &m->buffers[k];
    if (b->kind == TLI_BUFFER_COUNT)
      put(s, &b->count, sizeof b->count);
    else
      put(s, b->data, b->numel * sizeof(float));
  }
  put(s, &m->rng, sizeof m->rng);
  for (size_t l = 0; l < m->n_layers; l++) {
    const tli_layer *L = &m->layers[l];
    if (!is_stateful(L))
      continue;
    put(s, &L->state_batch, sizeof L->state_batch);
    if (L->state_batch > 0)
      put(s, L->state.p, state_floats(L) * sizeof(float));
  }
  if (o == NULL) /* a model without optimizer */
    return;
  put(s, o->state, o->state_n * sizeof(float));
  put(s, o->param_steps, o->n_params * sizeof(uint64_t));
  put(s, &o->steps, sizeof o->steps);
}

/* Everything a failed load must leave untouched, as one byte string. */
static unsigned char *snapshot(const tl_model *m, const tl_optim *o,
                               size_t *n) {
  snap s = {NULL, 0};
  snap_fill(&s, m, o);
  s.p = malloc(s.n);
  REQUIRE(s.p != NULL);
  *n = s.n;
  s.n = 0;
  snap_fill(&s, m, o);
  return s.p;
}

static void require_unchanged(const unsigned char *before, size_t n,
                              const tl_model *m, const tl_optim *o) {
  size_t n2 = 0;
  unsigned char *now = snapshot(m, o, &n2);
  REQUIRE(n2 == n && memcmp(before, now, n) == 0);
  free(now);
}

static int all_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return 0;
  return 1;
}

static void require_model_sane(tl_model *m) {
  REQUIRE(all_finite(m->flat, m->numel));
  for (size_t k = 0; k < m->n_buffers; k++) {
    const tli_buffer *b = &m->buffers[k];
    if (b->kind == TLI_BUFFER_COUNT) {
      REQUIRE(b->count >= 0);
      continue;
    }
    REQUIRE(all_finite(b->data, b->numel));
    for (size_t i = 0; b->kind == TLI_BUFFER_VARIANCE && i < b->numel; i++)
      REQUIRE(b->data[i] >= 0.0f);
  }
  for (size_t l = 0; l < m->n_layers; l++) {
    const tli_layer *L = &m->layers[l];
    if (!is_stateful(L) || L->state_batch == 0)
      continue;
    REQUIRE(L->state.cap >= state_floats(L));
    REQUIRE(all_finite(L->state.p, state_floats(L)));
  }
}

static void count_report(void *payload, tl_load_issue issue, const char *name) {
  REQUIRE(name != NULL &&
          (issue == TL_LOAD_MISSING || issue == TL_LOAD_UNEXPECTED));
  ++*(size_t *)payload;
}

/* One tl_ckpt_restore_model call under the invariants. */
static void load_model(tl_model *m, tl_optim *o, const tl_ckpt *c,
                       const tl_model_load_options *opts) {
  size_t n = 0;
  unsigned char *before = snapshot(m, o, &n);
  if (tl_ckpt_restore_model(m, c, opts) != TL_OK) {
    REQUIRE(tl_last_error()[0] != '\0');
    require_unchanged(before, n, m, o);
  } else {
    require_model_sane(m);
  }
  free(before);
}

static void load_optim(tl_model *m, tl_optim *o, const tl_ckpt *c) {
  size_t n = 0;
  unsigned char *before = snapshot(m, o, &n);
  if (tl_ckpt_restore_optim(o, c) != TL_OK) {
    REQUIRE(tl_last_error()[0] != '\0');
    require_unchanged(before, n, m, o);
  } else {
    REQUIRE(all_finite(o->state, o->state_n));
    REQUIRE(tl_optim_zero_grad(o) == TL_OK);
    REQUIRE(tl_optim_step(o) == TL_OK);
    for (size_t i = 0; i < m->numel; i++)
      REQUIRE(!isnan(m->flat[i]));
  }
  free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const unsigned mode = data[0];
  size--;
  unsigned char *buf = malloc(size ? size : 1);
  if (buf == NULL)
    return 0;
  memcpy(buf, data + 1, size);
  if (mode & 1)
    fuzz_fix_crcs(buf, size);
  tl_ckpt_load_options lo;
  tl_ckpt_load_options_init(&lo, TL_CKPT_LOAD_OPTIONS_VERSION);
  lo.verify_data_crc = !(mode & 2);
  tl_ckpt *c = NULL;
  if (tl_ckpt_load_buffer(&c, buf, size, &lo) != TL_OK) {
    free(buf);
    return 0;
  }
  free(buf);

  tl_model *m = NULL;
  tl_optim *o = NULL;
  REQUIRE(fuzz_build_model(&m, 7) == TL_OK);
  REQUIRE(fuzz_build_adam(&o, m) == TL_OK);
  REQUIRE(fuzz_train_step(m, o, 1) == TL_OK);

  size_t reports = 0;
  tl_model_load_options mo;
  tl_model_load_options_init(&mo, TL_MODEL_LOAD_OPTIONS_VERSION);
  mo.report = count_report;
  mo.report_payload = &reports;
  load_model(m, o, c, &mo); /* strict, no prefix: a whole LM checkpoint */

  /* Non-strict under a prefix, with fastai's encoder name mapped: the
   * encoder of a SequentialRNN state dict. */
  static const char *const from[1] = {"encoder.weight"};
  static const char *const to[1] = {"emb.weight"};
  mo.strict = 0;
  mo.prefix = "0.";
  mo.map_from = from;
  mo.map_to = to;
  mo.map_n = 1;
  load_model(m, o, c, &mo);

  load_optim(m, o, c);

  /* Whatever was loaded, the next window runs (a carried state of another
   * batch size is dropped, one of this size continues). */
  const float *y = NULL;
  size_t dims[TL_MODEL_MAX_DIMS], ndim = 0;
  if (fuzz_forward(m, 2, &y, dims, &ndim) != TL_OK)
    REQUIRE(tl_last_error()[0] != '\0');

  /* The BatchNorm head: strict, then non-strict under "0."; whatever was
   * loaded, train- and eval-mode forwards run or fail with a message, and
   * the statistics stay finite (outputs may overflow for huge loaded
   * values, as torch's would). */
  tl_model *bn = NULL;
  REQUIRE(fuzz_build_bn_model(&bn) == TL_OK);
  REQUIRE(fuzz_bn_forward(bn, 1) == TL_OK);
  mo.strict = 1;
  mo.prefix = NULL;
  mo.map_n = 0;
  load_model(bn, NULL, c, &mo);
  mo.strict = 0;
  mo.prefix = "0.";
  load_model(bn, NULL, c, &mo);
  if (fuzz_bn_forward(bn, 3) != TL_OK) /* e.g. an overflow below BN */
    REQUIRE(tl_last_error()[0] != '\0');
  REQUIRE(tl_model_eval(bn) == TL_OK);
  if (fuzz_bn_forward(bn, 4) != TL_OK)
    REQUIRE(tl_last_error()[0] != '\0');
  require_model_sane(bn);
  tl_model_free(bn);
  /* An architecture section: the models it describes are rebuilt and
   * their parameters restored, or the call fails with a message; whatever
   * it built, each model runs a forward or refuses it with a message. */
  size_t n_arch = 0;
  if (tl_ckpt_arch_count(&n_arch, c) == TL_OK) {
    tl_model *built[TL_CKPT_ARCH_MAX_MODELS] = {NULL};
    for (int restore = 0; restore <= 1; restore++) {
      if (tl_ckpt_create_models(built, n_arch, c, restore) != TL_OK) {
        REQUIRE(tl_last_error()[0] != '\0');
        continue;
      }
      for (size_t i = n_arch; i-- > 0;)
        tl_model_free(built[i]);
    }
  }

  tl_optim_free(o);
  tl_model_free(m);
  tl_ckpt_free(c);
  return 0;
}
