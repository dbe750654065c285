/* Saving and restoring optimizer state into a caller buffer. Layout (host
 * byte order, every field 8-byte aligned):
 *   header    magic "TLOPTST1", kind, n_models, n_params, state_n, steps
 *   n_params  per-parameter numel (checks the layout matches on load)
 *   n_params  per-parameter step counters
 *   state_n   float32 state (momentum buffers or Adam moments), padded to 8
 */
#include <string.h>

#include "core/error.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"

static const char magic[8] = {'T', 'L', 'O', 'P', 'T', 'S', 'T', '1'};

typedef struct state_header {
  char magic[8];
  uint64_t kind;
  uint64_t n_models;
  uint64_t n_params;
  uint64_t state_n;
  uint64_t steps;
} state_header;

static size_t state_bytes(const tl_optim *o) {
  size_t floats = o->state_n * sizeof(float);
  floats = (floats + 7) / 8 * 8;
  return sizeof(state_header) + 2 * o->n_params * sizeof(uint64_t) + floats;
}

tl_status tl_optim_state_size(const tl_optim *optim, size_t *out) {
  TLI_CHECK_PTR("tl_optim_state_size", optim);
  TLI_CHECK_PTR("tl_optim_state_size", out);
  *out = state_bytes(optim);
  return TL_OK;
}

/* numel of global parameter k (walking the models in order). */
static uint64_t param_numel(const tl_optim *o, size_t k) {
  for (size_t i = 0; i < o->n_models; i++) {
    if (k < o->models[i]->n_params)
      return o->models[i]->params[k].numel;
    k -= o->models[i]->n_params;
  }
  return 0;
}

tl_status tl_optim_state_save(const tl_optim *optim, void *buffer,
                              size_t size) {
  const char *fn = "tl_optim_state_save";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, buffer);
  TLI_CHECK(size >= state_bytes(optim), TL_E_INVALID_ARG,
            "%s: size %zu is smaller than tl_optim_state_size (%zu)", fn, size,
            state_bytes(optim));
  TLI_TRY(tli_optim_check_models(optim, fn));
  unsigned char *b = buffer;
  state_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, magic, sizeof magic);
  h.kind = (uint64_t)optim->kind;
  h.n_models = optim->n_models;
  h.n_params = optim->n_params;
  h.state_n = optim->state_n;
  h.steps = optim->steps;
  memcpy(b, &h, sizeof h);
  b += sizeof h;
  for (size_t k = 0; k < optim->n_params; k++) {
    const uint64_t n = param_numel(optim, k);
    memcpy(b, &n, sizeof n);
    b += sizeof n;
  }
  memcpy(b, optim->param_steps, optim->n_params * sizeof(uint64_t));
  b += optim->n_params * sizeof(uint64_t);
  const size_t fb = optim->state_n * sizeof(float);
  memcpy(b, optim->state, fb);
  memset(b + fb, 0, (fb + 7) / 8 * 8 - fb);
  return TL_OK;
}

tl_status tl_optim_state_load(tl_optim *optim, const void *buffer,
                              size_t size) {
  const char *fn = "tl_optim_state_load";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, buffer);
  TLI_TRY(tli_optim_check_models(optim, fn));
  const unsigned char *b = buffer;
  state_header h;
  TLI_CHECK(size >= sizeof h, TL_E_FORMAT, "%s: buffer too small (%zu bytes)",
            fn, size);
  memcpy(&h, b, sizeof h);
  TLI_CHECK(memcmp(h.magic, magic, sizeof magic) == 0, TL_E_FORMAT,
            "%s: not an optimizer state (bad magic)", fn);
  TLI_CHECK(h.kind == (uint64_t)optim->kind, TL_E_FORMAT,
            "%s: state of optimizer kind %llu, this optimizer is kind %d", fn,
            (unsigned long long)h.kind, (int)optim->kind);
  TLI_CHECK(h.n_models == optim->n_models && h.n_params == optim->n_params &&
                h.state_n == optim->state_n,
            TL_E_FORMAT,
            "%s: state is for %llu models / %llu parameters / %llu floats, "
            "this optimizer has %zu / %zu / %zu",
            fn, (unsigned long long)h.n_models, (unsigned long long)h.n_params,
            (unsigned long long)h.state_n, optim->n_models, optim->n_params,
            optim->state_n);
  TLI_CHECK(size >= state_bytes(optim), TL_E_FORMAT,
            "%s: buffer of %zu bytes is truncated (%zu expected)", fn, size,
            state_bytes(optim));
  b += sizeof h;
  for (size_t k = 0; k < optim->n_params; k++) {
    uint64_t n = 0;
    memcpy(&n, b + k * sizeof n, sizeof n);
    TLI_CHECK(n == param_numel(optim, k), TL_E_FORMAT,
              "%s: parameter %zu has %llu elements in the state, %llu in "
              "the model",
              fn, k, (unsigned long long)n,
              (unsigned long long)param_numel(optim, k));
  }
  b += optim->n_params * sizeof(uint64_t);
  memcpy(optim->param_steps, b, optim->n_params * sizeof(uint64_t));
  b += optim->n_params * sizeof(uint64_t);
  memcpy(optim->state, b, optim->state_n * sizeof(float));
  optim->steps = h.steps;
  return TL_OK;
}
