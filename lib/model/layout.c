/* The layout fingerprint of a model (include/tl/model.h): a canonical text
 * of its structure and the 64-bit FNV-1a hash of that text. One writer
 * produces the text, so the hash, the length and the copy always agree and
 * nothing is allocated (the hash is taken while writing). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "model/layer_ops.h"
#include "model/model_internal.h"

#define TLI_FNV_OFFSET 0xcbf29ce484222325ull
#define TLI_FNV_PRIME 0x100000001b3ull

/* Where the text goes: counted and hashed always, copied while it fits. */
typedef struct tli_layout_sink {
  char *out;
  size_t cap, len;
  uint64_t hash;
} tli_layout_sink;

static void tli_sink_put(tli_layout_sink *s, const char *text) {
  for (const char *c = text; *c; c++) {
    s->hash = (s->hash ^ (uint8_t)*c) * TLI_FNV_PRIME;
    if (s->out != NULL && s->len < s->cap)
      s->out[s->len] = *c;
    s->len++;
  }
}

/* A line's fields are names (no spaces: [A-Za-z0-9_.]) and numbers, so
 * a fixed line buffer is enough: the longest line is a parameter with
 * TLI_PNAME_MAX characters and TL_MODEL_MAX_DIMS 20-digit sizes. */
static void tli_layout_write(tli_layout_sink *s, const tl_model *m) {
  char line[TLI_PNAME_MAX + TLI_NAME_MAX + 200];
  tli_sink_put(s, "tl-layout 1\n");
  for (size_t l = 0; l < m->n_layers; l++) {
    const tli_layer *L = &m->layers[l];
    snprintf(line, sizeof line, "layer %zu %s %s group %zu in %zu out %zu%s\n",
             l, L->name, tli_layer_ops_for(L->kind)->kind_name, L->group,
             L->in_features, L->out_features, L->tie_model ? " tied" : "");
    tli_sink_put(s, line);
    for (size_t k = 0; k < L->n_params; k++) {
      const tli_param *P = &m->params[L->first_param + k];
      int n = snprintf(line, sizeof line, "param %s f32 [", P->name);
      for (size_t d = 0; d < P->ndim && n > 0 && (size_t)n < sizeof line; d++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%zu", d ? "," : "",
                      P->dims[d]);
      if (n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "] offset %zu\n",
                 P->offset);
      tli_sink_put(s, line);
    }
  }
}

tl_status tl_model_layout_fingerprint(uint64_t *out, const tl_model *model) {
  const char *fn = "tl_model_layout_fingerprint";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, model);
  tli_layout_sink s = {NULL, 0, 0, TLI_FNV_OFFSET};
  tli_layout_write(&s, model);
  *out = s.hash;
  return TL_OK;
}

tl_status tl_model_layout_describe(char *out, size_t cap, size_t *out_len,
                                   const tl_model *model) {
  const char *fn = "tl_model_layout_describe";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK(out != NULL || cap == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with cap %zu", fn, cap);
  tli_layout_sink s = {NULL, 0, 0, TLI_FNV_OFFSET};
  tli_layout_write(&s, model); /* measure first: out is untouched on error */
  if (out_len != NULL)
    *out_len = s.len;
  if (out == NULL)
    return TL_OK;
  TLI_CHECK(cap > s.len, TL_E_INVALID_ARG,
            "%s: cap %zu is too small: the layout needs %zu bytes with its "
            "NUL",
            fn, cap, s.len + 1);
  tli_layout_sink w = {out, cap, 0, TLI_FNV_OFFSET};
  tli_layout_write(&w, model);
  out[w.len] = '\0';
  return TL_OK;
}
