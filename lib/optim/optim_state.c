/* Saving and restoring optimizer state into a caller buffer. Layout
 * (little-endian whatever the host, like every byte libtl writes; every
 * field 8-byte aligned):
 *   header    magic "TLOPTST1", kind, n_models, n_params, state_n, steps
 *   n_params  per-parameter numel (checks the layout matches on load)
 *   n_params  per-parameter step counters
 *   state_n   float32 state (momentum buffers or Adam moments), padded to 8
 */
#include <math.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/error.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"

static const char magic[8] = {'T', 'L', 'O', 'P', 'T', 'S', 'T', '1'};

/* magic, then kind, n_models, n_params, state_n, steps as uint64. */
enum { HEADER_BYTES = 8 + 5 * 8 };

static size_t state_bytes(const tl_optim *o) {
  size_t floats = o->state_n * sizeof(float);
  floats = (floats + 7) / 8 * 8;
  return HEADER_BYTES + 2 * o->n_params * sizeof(uint64_t) + floats;
}

tl_status tl_optim_state_size(size_t *out, const tl_optim *optim) {
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

tl_status tl_optim_state_save(void *out, size_t size, const tl_optim *optim) {
  const char *fn = "tl_optim_state_save";
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(size >= state_bytes(optim), TL_E_INVALID_ARG,
            "%s: size %zu is smaller than tl_optim_state_size (%zu)", fn, size,
            state_bytes(optim));
  TLI_TRY(tli_optim_check_models(optim, fn));
  unsigned char *b = out;
  memcpy(b, magic, sizeof magic);
  const uint64_t head[5] = {(uint64_t)optim->kind, optim->n_models,
                            optim->n_params, optim->state_n, optim->steps};
  tli_to_le(b + 8, head, 5, 8);
  b += HEADER_BYTES;
  for (size_t k = 0; k < optim->n_params; k++) {
    tli_store_le64(b, param_numel(optim, k));
    b += 8;
  }
  tli_to_le(b, optim->param_steps, optim->n_params, 8);
  b += optim->n_params * 8;
  const size_t fb = optim->state_n * sizeof(float);
  tli_to_le(b, optim->state, optim->state_n, sizeof(float));
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
  TLI_CHECK(size >= HEADER_BYTES, TL_E_FORMAT,
            "%s: buffer too small (%zu bytes)", fn, size);
  TLI_CHECK(memcmp(b, magic, sizeof magic) == 0, TL_E_FORMAT,
            "%s: not an optimizer state (bad magic)", fn);
  uint64_t head[5];
  tli_from_le(head, b + 8, 5, 8);
  const uint64_t kind = head[0], n_models = head[1], n_params = head[2],
                 state_n = head[3], steps = head[4];
  TLI_CHECK(kind == (uint64_t)optim->kind, TL_E_FORMAT,
            "%s: state of optimizer kind %llu, this optimizer is kind %d", fn,
            (unsigned long long)kind, (int)optim->kind);
  TLI_CHECK(n_models == optim->n_models && n_params == optim->n_params &&
                state_n == optim->state_n,
            TL_E_FORMAT,
            "%s: state is for %llu models / %llu parameters / %llu floats, "
            "this optimizer has %zu / %zu / %zu",
            fn, (unsigned long long)n_models, (unsigned long long)n_params,
            (unsigned long long)state_n, optim->n_models, optim->n_params,
            optim->state_n);
  TLI_CHECK(size >= state_bytes(optim), TL_E_FORMAT,
            "%s: buffer of %zu bytes is truncated (%zu expected)", fn, size,
            state_bytes(optim));
  b += HEADER_BYTES;
  for (size_t k = 0; k < optim->n_params; k++) {
    const uint64_t n = tli_load_le64(b + k * 8);
    TLI_CHECK(n == param_numel(optim, k), TL_E_FORMAT,
              "%s: parameter %zu has %llu elements in the state, %llu in "
              "the model",
              fn, k, (unsigned long long)n,
              (unsigned long long)param_numel(optim, k));
  }
  const unsigned char *steps_at = b + optim->n_params * 8;
  const unsigned char *floats_at = steps_at + optim->n_params * 8;
  /* Validate every value before writing any: a failed load changes
   * nothing, and non-finite moments would poison every later step. */
  for (size_t i = 0; i < optim->state_n; i++) {
    float v;
    tli_from_le(&v, floats_at + i * sizeof v, 1, sizeof v);
    TLI_CHECK(isfinite(v), TL_E_FORMAT, "%s: state value %zu is not finite", fn,
              i);
  }
  /* Adam's second moments are averages of squares: a negative one makes
   * the next step's sqrt NaN and poisons the parameters. */
  if (optim->kind != TL_OPTIM_SGD)
    for (size_t mi = 0; mi < optim->n_models; mi++) {
      const size_t numel = optim->models[mi]->numel;
      for (size_t e = 0; e < numel; e++) {
        const size_t i = optim->state_base[mi] + numel + e;
        float v;
        tli_from_le(&v, floats_at + i * sizeof v, 1, sizeof v);
        TLI_CHECK(v >= 0.0f, TL_E_FORMAT,
                  "%s: state value %zu (model %zu's exp_avg_sq element %zu) "
                  "is negative",
                  fn, i, mi, e);
      }
    }
  /* A parameter steps at most once per optimizer step: a counter above the
   * step count is not a state save writes (and one at UINT64_MAX would wrap
   * to 0 on the next step, dividing Adam's bias corrections by zero). */
  for (size_t k = 0; k < optim->n_params; k++) {
    const uint64_t n = tli_load_le64(steps_at + k * 8);
    TLI_CHECK(n <= steps, TL_E_FORMAT,
              "%s: parameter %zu has taken %llu steps, more than the "
              "optimizer's %llu",
              fn, k, (unsigned long long)n, (unsigned long long)steps);
  }
  tli_from_le(optim->param_steps, steps_at, optim->n_params, 8);
  tli_from_le(optim->state, floats_at, optim->state_n, sizeof(float));
  optim->steps = steps;
  return TL_OK;
}
