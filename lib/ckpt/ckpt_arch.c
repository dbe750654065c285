/* The architecture section (docs/format.md, "Architecture section"): the
 * structure of one or more models, so that a program that knows nothing
 * but the file can rebuild them (tl_ckpt_create_models). Generic over the
 * layer table: each kind writes and reads its own settings through
 * arch_values / arch_decode and is rebuilt by its public add function
 * (arch_add), so any model libtl builds can be stored.
 *
 * Payload (little-endian; strings are u32 length, bytes, NUL):
 *   u32 version (TL_CKPT_ARCH_REVISION), u32 model count, then per model:
 *     string prefix, u32 layer count, then per layer:
 *       string kind, string name, u32 group, u64 in_features,
 *       u64 out_features, u32 tie model (0xFFFFFFFF: none), string tie
 *       layer ("" when none), u32 value count, that many f64 values. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "model/layer_ops.h"

#define TLI_ARCH_NO_TIE 0xFFFFFFFFu
#define TLI_ARCH_MAX_PREFIX 255u
#define TLI_ARCH_MAX_FEATURES ((uint64_t)1 << 30)
/* The fewest bytes a model and a layer record take: bounds the counts
 * before anything is allocated or looped over. */
#define TLI_ARCH_MIN_MODEL 9u  /* "" prefix + count */
#define TLI_ARCH_MIN_LAYER 44u /* 3 strings of >= 5 or 6 bytes + fields */

/* ---- writing ------------------------------------------------------------ */

/* A writer that only counts when p is NULL (the sizing pass). */
typedef struct tli_wr {
  unsigned char *p;
  size_t n;
} tli_wr;

static void wr_u32(tli_wr *w, uint32_t v) {
  if (w->p)
    tli_store_le32(w->p + w->n, v);
  w->n += 4;
}

static void wr_u64(tli_wr *w, uint64_t v) {
  if (w->p)
    tli_store_le64(w->p + w->n, v);
  w->n += 8;
}

static void wr_f64(tli_wr *w, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  wr_u64(w, bits);
}

static void wr_str(tli_wr *w, const char *s) {
  const size_t len = strlen(s);
  wr_u32(w, (uint32_t)len);
  if (w->p) {
    memcpy(w->p + w->n, s, len);
    w->p[w->n + len] = '\0';
  }
  w->n += len + 1;
}

/* The index j <= i of the model a decoder of models[i] is tied to, or
 * TLI_ARCH_NO_TIE; TL_E_INVALID_ARG if that model is not stored before. */
static tl_status tie_index(uint32_t *out, const char **out_layer,
                           const tl_model *const *models, size_t i,
                           const tli_layer *L, const char *fn) {
  *out = TLI_ARCH_NO_TIE;
  *out_layer = "";
  if (L->tie_model == NULL)
    return TL_OK;
  for (size_t j = 0; j <= i; j++)
    if (models[j] == L->tie_model) {
      const tl_model *o = L->tie_model;
      *out = (uint32_t)j;
      *out_layer = o->layers[o->params[L->tie_param].layer].name;
      return TL_OK;
    }
  return tli_fail(TL_E_INVALID_ARG,
                  "%s: layer '%s' of models[%zu] is tied to a model that is "
                  "not among models[0..%zu] (store the embedding's model "
                  "first)",
                  fn, L->name, i, i);
}

static tl_status write_payload(tli_wr *w, const tl_model *const *models,
                               const char *const *prefixes, size_t n,
                               const char *fn) {
  wr_u32(w, TL_CKPT_ARCH_REVISION);
  wr_u32(w, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    const tl_model *m = models[i];
    wr_str(w, prefixes[i]);
    wr_u32(w, (uint32_t)m->n_layers);
    for (size_t l = 0; l < m->n_layers; l++) {
      const tli_layer *L = &m->layers[l];
      const tli_layer_ops *ops = tli_layer_ops_for(L->kind);
      TLI_CHECK(ops->arch_add != NULL, TL_E_UNSUPPORTED,
                "%s: layer '%s' of models[%zu] is of kind '%s', which an "
                "architecture section cannot describe",
                fn, L->name, i, ops->kind_name);
      uint32_t tie;
      const char *tie_layer;
      TLI_TRY(tie_index(&tie, &tie_layer, models, i, L, fn));
      double v[TLI_ARCH_MAX_VALUES];
      const size_t nv = ops->arch_values ? ops->arch_values(L, v) : 0;
      wr_str(w, ops->kind_name);
      wr_str(w, L->name);
      wr_u32(w, (uint32_t)L->group);
      wr_u64(w, L->in_features);
      wr_u64(w, L->out_features);
      wr_u32(w, tie);
      wr_str(w, tie_layer);
      wr_u32(w, (uint32_t)nv);
      for (size_t k = 0; k < nv; k++)
        wr_f64(w, v[k]);
    }
  }
  return TL_OK;
}

tl_status tl_ckpt_store_arch(tl_ckpt *ckpt, const tl_model *const *models,
                             const char *const *prefixes, size_t n) {
  const char *fn = "tl_ckpt_store_arch";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, models);
  TLI_CHECK_PTR(fn, prefixes);
  TLI_CHECK(n >= 1 && n <= TL_CKPT_ARCH_MAX_MODELS, TL_E_INVALID_ARG,
            "%s: n must be in [1, %d] (got %zu)", fn, TL_CKPT_ARCH_MAX_MODELS,
            n);
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(models[i] != NULL, TL_E_INVALID_ARG, "%s: models[%zu] is NULL",
              fn, i);
    TLI_CHECK(prefixes[i] != NULL, TL_E_INVALID_ARG,
              "%s: prefixes[%zu] is NULL", fn, i);
    TLI_CHECK(strlen(prefixes[i]) <= TLI_ARCH_MAX_PREFIX, TL_E_INVALID_ARG,
              "%s: prefixes[%zu] is longer than %u bytes", fn, i,
              TLI_ARCH_MAX_PREFIX);
    TLI_CHECK(models[i]->n_layers >= 1 &&
                  models[i]->n_layers <= TL_CKPT_ARCH_MAX_LAYERS,
              TL_E_INVALID_ARG, "%s: models[%zu] has %zu layers (1 to %d)", fn,
              i, models[i]->n_layers, TL_CKPT_ARCH_MAX_LAYERS);
    for (size_t j = 0; j < i; j++)
      TLI_CHECK(strcmp(prefixes[i], prefixes[j]) != 0, TL_E_INVALID_ARG,
                "%s: prefixes[%zu] and prefixes[%zu] are both '%s'", fn, j, i,
                prefixes[i]);
  }
  tli_wr w = {NULL, 0};
  TLI_TRY(write_payload(&w, models, prefixes, n, fn));
  void *bytes = NULL;
  TLI_TRY(tli_alloc_checked(&bytes, w.n, 1, fn));
  tli_wr out = {bytes, 0};
  (void)write_payload(&out, models, prefixes, n, fn); /* checked above */
  tli_free(ckpt->arch.bytes);
  ckpt->arch = (tli_ckpt_blob){1, 0, bytes, w.n};
  return TL_OK;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct tli_rd {
  const unsigned char *p;
  size_t size, off;
  const char *fn;
} tli_rd;

static tl_status rd_need(tli_rd *r, size_t n, const char *what) {
  TLI_CHECK(r->size - r->off >= n, TL_E_FORMAT,
            "%s: the architecture section ends inside %s (byte %zu of %zu)",
            r->fn, what, r->off, r->size);
  return TL_OK;
}

static tl_status rd_u32(tli_rd *r, uint32_t *v, const char *what) {
  TLI_TRY(rd_need(r, 4, what));
  *v = tli_load_le32(r->p + r->off);
  r->off += 4;
  return TL_OK;
}

static tl_status rd_u64(tli_rd *r, uint64_t *v, const char *what) {
  TLI_TRY(rd_need(r, 8, what));
  *v = tli_load_le64(r->p + r->off);
  r->off += 8;
  return TL_OK;
}

/* A string of at most max bytes, NUL-terminated in the payload, no NUL
 * inside: *out is a view into it. */
static tl_status rd_str(tli_rd *r, const char **out, size_t max,
                        const char *what) {
  uint32_t len;
  TLI_TRY(rd_u32(r, &len, what));
  TLI_CHECK(len <= max, TL_E_FORMAT,
            "%s: %s in the architecture section is %u bytes (at most %zu)",
            r->fn, what, (unsigned)len, max);
  TLI_TRY(rd_need(r, (size_t)len + 1, what));
  const char *s = (const char *)r->p + r->off;
  TLI_CHECK(memchr(s, '\0', len) == NULL && s[len] == '\0', TL_E_FORMAT,
            "%s: %s in the architecture section is not a NUL-terminated "
            "string without inner NUL",
            r->fn, what);
  r->off += (size_t)len + 1;
  *out = s;
  return TL_OK;
}

static int valid_layer_name(const char *s) {
  const size_t n = strlen(s);
  if (n == 0 || n >= TLI_NAME_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    const char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

/* One layer record, parsed and checked on its own. */
typedef struct tli_arch_rec {
  tli_layer_kind kind;
  const char *name, *tie_layer;
  uint32_t group, tie;
  uint64_t in, out;
  size_t n_values;
  double values[TLI_ARCH_MAX_VALUES];
} tli_arch_rec;

static tl_status kind_of(tli_layer_kind *out, const char *name,
                         const char *fn) {
  for (int k = 0; k < TLI_LAYER_KINDS; k++) {
    const tli_layer_ops *ops = tli_layer_ops_for((tli_layer_kind)k);
    if (ops->arch_add != NULL && strcmp(ops->kind_name, name) == 0) {
      *out = (tli_layer_kind)k;
      return TL_OK;
    }
  }
  return tli_fail(TL_E_FORMAT,
                  "%s: the architecture section has a layer of unknown kind "
                  "'%.64s'",
                  fn, name);
}

static tl_status rd_layer(tli_rd *r, tli_arch_rec *rec, size_t model,
                          size_t n_layers) {
  const char *fn = r->fn;
  const char *kind;
  TLI_TRY(rd_str(r, &kind, 63, "a layer kind"));
  TLI_TRY(kind_of(&rec->kind, kind, fn));
  TLI_TRY(rd_str(r, &rec->name, TLI_NAME_MAX - 1, "a layer name"));
  TLI_CHECK(valid_layer_name(rec->name), TL_E_FORMAT,
            "%s: architecture model %zu has a layer named '%s' (names are 1 "
            "to %d characters of [A-Za-z0-9_])",
            fn, model, rec->name, TLI_NAME_MAX - 1);
  TLI_TRY(rd_u32(r, &rec->group, "a layer group"));
  TLI_CHECK(rec->group < n_layers, TL_E_FORMAT,
            "%s: layer '%s' of architecture model %zu is in group %u of a "
            "model of %zu layers",
            fn, rec->name, model, (unsigned)rec->group, n_layers);
  TLI_TRY(rd_u64(r, &rec->in, "in_features"));
  TLI_TRY(rd_u64(r, &rec->out, "out_features"));
  TLI_CHECK(rec->in <= TLI_ARCH_MAX_FEATURES &&
                rec->out <= TLI_ARCH_MAX_FEATURES,
            TL_E_FORMAT,
            "%s: layer '%s' of architecture model %zu has features %llu -> "
            "%llu (at most 2^30)",
            fn, rec->name, model, (unsigned long long)rec->in,
            (unsigned long long)rec->out);
  TLI_TRY(rd_u32(r, &rec->tie, "a tie"));
  TLI_TRY(rd_str(r, &rec->tie_layer, TLI_NAME_MAX - 1, "a tie layer"));
  if (rec->tie == TLI_ARCH_NO_TIE) {
    TLI_CHECK(rec->tie_layer[0] == '\0', TL_E_FORMAT,
              "%s: layer '%s' of architecture model %zu names a tie layer "
              "without a tied model",
              fn, rec->name, model);
  } else {
    TLI_CHECK(rec->tie <= model && valid_layer_name(rec->tie_layer),
              TL_E_FORMAT,
              "%s: layer '%s' of architecture model %zu is tied to layer "
              "'%s' of model %u (a valid layer of this or an earlier model "
              "is needed)",
              fn, rec->name, model, rec->tie_layer, (unsigned)rec->tie);
  }
  uint32_t nv;
  TLI_TRY(rd_u32(r, &nv, "a value count"));
  TLI_CHECK(nv <= TLI_ARCH_MAX_VALUES, TL_E_FORMAT,
            "%s: layer '%s' of architecture model %zu has %u settings (at "
            "most %d)",
            fn, rec->name, model, (unsigned)nv, TLI_ARCH_MAX_VALUES);
  rec->n_values = nv;
  for (uint32_t k = 0; k < nv; k++) {
    uint64_t bits;
    TLI_TRY(rd_u64(r, &bits, "a setting"));
    memcpy(&rec->values[k], &bits, sizeof bits);
    TLI_CHECK(isfinite(rec->values[k]), TL_E_FORMAT,
              "%s: setting %u of layer '%s' of architecture model %zu is "
              "not finite",
              fn, (unsigned)k, rec->name, model);
  }
  return TL_OK;
}

/* What the walk calls for each model and each layer (either may be NULL:
 * validation only). */
typedef struct tli_arch_visit {
  tl_status (*model)(void *ctx, size_t index, const char *prefix,
                     size_t n_layers);
  tl_status (*layer)(void *ctx, size_t model, size_t index,
                     const tli_arch_rec *rec);
  void *ctx;
} tli_arch_visit;

static tl_status rd_header(tli_rd *r, uint32_t *n_models) {
  uint32_t version;
  TLI_TRY(rd_u32(r, &version, "the version"));
  TLI_CHECK(version != 0, TL_E_FORMAT,
            "%s: the architecture section has version 0", r->fn);
  TLI_CHECK(version <= TL_CKPT_ARCH_REVISION, TL_E_UNSUPPORTED,
            "%s: the architecture section has version %u; this library "
            "reads up to %d",
            r->fn, (unsigned)version, TL_CKPT_ARCH_REVISION);
  TLI_TRY(rd_u32(r, n_models, "the model count"));
  TLI_CHECK(*n_models >= 1 && *n_models <= TL_CKPT_ARCH_MAX_MODELS &&
                *n_models <= (r->size - r->off) / TLI_ARCH_MIN_MODEL,
            TL_E_FORMAT,
            "%s: the architecture section's model count %u is not in [1, %d] "
            "or exceeds what its %zu bytes hold",
            r->fn, (unsigned)*n_models, TL_CKPT_ARCH_MAX_MODELS, r->size);
  return TL_OK;
}

static tl_status walk(const unsigned char *p, size_t size, const char *fn,
                      const tli_arch_visit *v) {
  tli_rd r = {p, size, 0, fn};
  uint32_t n_models;
  TLI_TRY(rd_header(&r, &n_models));
  const char *prefixes[TL_CKPT_ARCH_MAX_MODELS];
  for (uint32_t mi = 0; mi < n_models; mi++) {
    TLI_TRY(rd_str(&r, &prefixes[mi], TLI_ARCH_MAX_PREFIX, "a model prefix"));
    for (uint32_t j = 0; j < mi; j++)
      TLI_CHECK(strcmp(prefixes[j], prefixes[mi]) != 0, TL_E_FORMAT,
                "%s: architecture models %u and %u have the same prefix '%s'",
                fn, (unsigned)j, (unsigned)mi, prefixes[mi]);
    uint32_t n_layers;
    TLI_TRY(rd_u32(&r, &n_layers, "a layer count"));
    TLI_CHECK(n_layers >= 1 && n_layers <= TL_CKPT_ARCH_MAX_LAYERS &&
                  n_layers <= (size - r.off) / TLI_ARCH_MIN_LAYER,
              TL_E_FORMAT,
              "%s: architecture model %u has a layer count %u not in [1, %d] "
              "or beyond what the section's bytes hold",
              fn, (unsigned)mi, (unsigned)n_layers, TL_CKPT_ARCH_MAX_LAYERS);
    if (v && v->model)
      TLI_TRY(v->model(v->ctx, mi, prefixes[mi], n_layers));
    const size_t names_at = r.off;
    for (uint32_t li = 0; li < n_layers; li++) {
      tli_arch_rec rec;
      TLI_TRY(rd_layer(&r, &rec, mi, n_layers));
      /* Names unique within the model: compare with the earlier records
       * by re-reading them (at most 1024^2 / 2 comparisons). */
      tli_rd again = {p, size, names_at, fn};
      for (uint32_t j = 0; j < li; j++) {
        tli_arch_rec prev;
        TLI_TRY(rd_layer(&again, &prev, mi, n_layers));
        TLI_CHECK(strcmp(prev.name, rec.name) != 0, TL_E_FORMAT,
                  "%s: architecture model %u has two layers named '%s'", fn,
                  (unsigned)mi, rec.name);
      }
      if (v && v->layer)
        TLI_TRY(v->layer(v->ctx, mi, li, &rec));
    }
  }
  TLI_CHECK(r.off == size, TL_E_FORMAT,
            "%s: the architecture section has %zu stray bytes at its end", fn,
            size - r.off);
  return TL_OK;
}

tl_status tli_ckpt_arch_validate(const unsigned char *p, size_t size,
                                 const char *fn) {
  return walk(p, size, fn, NULL);
}

tl_status tl_ckpt_arch_count(size_t *out, const tl_ckpt *ckpt) {
  const char *fn = "tl_ckpt_arch_count";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK(ckpt->arch.present, TL_E_NOT_FOUND,
            "%s: the checkpoint has no architecture section", fn);
  tli_rd r = {ckpt->arch.bytes, ckpt->arch.size, 0, fn};
  uint32_t n;
  TLI_TRY(rd_header(&r, &n));
  *out = n;
  return TL_OK;
}

typedef struct prefix_ctx {
  size_t want;
  const char *found;
} prefix_ctx;

static tl_status prefix_visit(void *ctx, size_t index, const char *prefix,
                              size_t n_layers) {
  (void)n_layers;
  prefix_ctx *c = ctx;
  if (index == c->want)
    c->found = prefix;
  return TL_OK;
}

tl_status tl_ckpt_arch_prefix(const char **out, const tl_ckpt *ckpt,
                              size_t index) {
  const char *fn = "tl_ckpt_arch_prefix";
  TLI_CHECK_PTR(fn, out);
  size_t n;
  TLI_TRY(tl_ckpt_arch_count(&n, ckpt));
  TLI_CHECK(index < n, TL_E_INVALID_ARG,
            "%s: index %zu is out of range (the section has %zu models)", fn,
            index, n);
  prefix_ctx c = {index, NULL};
  const tli_arch_visit v = {prefix_visit, NULL, &c};
  TLI_TRY(walk(ckpt->arch.bytes, ckpt->arch.size, fn, &v));
  *out = c.found;
  return TL_OK;
}

/* ---- rebuilding --------------------------------------------------------- */

typedef struct build_ctx {
  tl_model **models; /* n entries, filled as the walk goes */
  size_t n;
  const char *prefix;
  size_t n_layers;
  uint32_t groups[TL_CKPT_ARCH_MAX_LAYERS];
  size_t budget, used; /* parameter floats */
  const char *fn;
} build_ctx;

static tl_status build_model(void *ctx, size_t index, const char *prefix,
                             size_t n_layers) {
  build_ctx *c = ctx;
  c->prefix = prefix;
  c->n_layers = n_layers;
  return tl_model_create(&c->models[index], NULL);
}

/* The parameter and buffer elements proto registers, overflow-checked. */
static tl_status proto_numel(size_t *out, const tli_layer *proto,
                             const char *fn) {
  const tli_layer_ops *ops = tli_layer_ops_for(proto->kind);
  tli_param_spec specs[TLI_LAYER_MAX_PARAMS];
  const size_t n =
      ops->register_params ? ops->register_params(proto, specs) : 0;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    size_t e = specs[i].dims[0];
    if (specs[i].ndim == 2 && !tli_mul_size(&e, e, specs[i].dims[1]))
      return tli_fail(TL_E_FORMAT, "%s: a parameter size overflows", fn);
    TLI_CHECK(total + e >= total, TL_E_FORMAT, "%s: a parameter size overflows",
              fn);
    total += e;
  }
  /* Buffers too (BatchNorm's running statistics): allocated alongside. */
  tli_buffer_spec bufs[TLI_LAYER_MAX_BUFFERS];
  const size_t nb =
      ops->register_buffers ? ops->register_buffers(proto, bufs) : 0;
  for (size_t i = 0; i < nb; i++) {
    TLI_CHECK(total + bufs[i].numel >= total, TL_E_FORMAT,
              "%s: a buffer size overflows", fn);
    total += bufs[i].numel;
  }
  *out = total;
  return TL_OK;
}

static tl_status build_layer_checked(build_ctx *c, tl_model *m, size_t model,
                                     const tli_arch_rec *rec) {
  const char *fn = c->fn;
  const tli_layer_ops *ops = tli_layer_ops_for(rec->kind);
  tli_layer proto =
      tli_layer_proto(rec->kind, (size_t)rec->in, (size_t)rec->out);
  tl_model *tie = NULL;
  if (rec->tie != TLI_ARCH_NO_TIE)
    tie = c->models[rec->tie];
  if (ops->arch_decode != NULL)
    TLI_TRY(ops->arch_decode(&proto, rec->values, rec->n_values, fn));
  else
    TLI_TRY(tli_arch_count(rec->n_values, 0, ops->kind_name, fn));
  /* Count what the layer will allocate before it does: a tied decoder
   * registers its bias only. */
  proto.tie_model = tie;
  size_t numel = 0;
  TLI_TRY(proto_numel(&numel, &proto, fn));
  proto.tie_model = NULL;
  TLI_CHECK(numel <= c->budget - c->used, TL_E_FORMAT,
            "%s: layer '%s' needs %zu parameter floats (buffers included), "
            "beyond the %zu left (the checkpoint's tensors, or "
            "TL_CKPT_ARCH_MAX_FLOATS)",
            fn, rec->name, numel, c->budget - c->used);
  c->used += numel;
  TLI_TRY(
      ops->arch_add(m, &proto, rec->name, tie, tie ? rec->tie_layer : NULL));
  const tli_layer *L = &m->layers[m->n_layers - 1];
  TLI_CHECK(L->in_features == rec->in && L->out_features == rec->out,
            TL_E_FORMAT,
            "%s: layer '%s' rebuilt with features %zu -> %zu, the section "
            "says %llu -> %llu",
            fn, rec->name, L->in_features, L->out_features,
            (unsigned long long)rec->in, (unsigned long long)rec->out);
  (void)model;
  return TL_OK;
}

static tl_status build_layer(void *ctx, size_t model, size_t index,
                             const tli_arch_rec *rec) {
  build_ctx *c = ctx;
  tl_model *m = c->models[model];
  tl_status st = build_layer_checked(c, m, model, rec);
  if (st != TL_OK) {
    /* Whatever an add call refused, the file described it: a format
     * error naming the model and the layer (memory stays memory). */
    char msg[400];
    snprintf(msg, sizeof msg, "%s", tl_last_error());
    return tli_fail(st == TL_E_NOMEM ? st : TL_E_FORMAT,
                    "%s: architecture model '%s', layer '%s': %s", c->fn,
                    c->prefix, rec->name, msg);
  }
  c->groups[index] = rec->group;
  if (index + 1 == c->n_layers)
    for (size_t l = 0; l < c->n_layers; l++)
      m->layers[l].group = c->groups[l]; /* < n_layers: checked on read */
  return TL_OK;
}

/* The elements of all tensors: with restore_params, every parameter and
 * buffer must be filled by a tensor of its size (f32; BatchNorm's counter
 * i64), so the models can need no more. */
static size_t tensor_elements(const tl_ckpt *ckpt) {
  size_t total = 0;
  for (size_t i = 0; i < ckpt->n_tensors; i++)
    total += ckpt->tensors[i].numel;
  return total;
}

tl_status tl_ckpt_create_models(tl_model **out, size_t n, const tl_ckpt *ckpt,
                                int restore_params) {
  const char *fn = "tl_ckpt_create_models";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK(restore_params == 0 || restore_params == 1, TL_E_INVALID_ARG,
            "%s: restore_params must be 0 or 1 (got %d)", fn, restore_params);
  size_t count = 0;
  TLI_TRY(tl_ckpt_arch_count(&count, ckpt));
  TLI_CHECK(n == count, TL_E_INVALID_ARG,
            "%s: n is %zu but the architecture section has %zu models", fn, n,
            count);
  build_ctx *c = NULL;
  TLI_TRY(tli_alloc_checked((void **)&c, 1, sizeof *c, fn));
  memset(c, 0, sizeof *c);
  tl_model *models[TL_CKPT_ARCH_MAX_MODELS] = {NULL};
  c->models = models;
  c->n = n;
  c->fn = fn;
  c->budget = restore_params ? tensor_elements(ckpt) : TL_CKPT_ARCH_MAX_FLOATS;
  const tli_arch_visit v = {build_model, build_layer, c};
  tl_status st = walk(ckpt->arch.bytes, ckpt->arch.size, fn, &v);
  for (size_t i = 0; st == TL_OK && restore_params && i < n; i++) {
    const char *prefix = NULL;
    st = tl_ckpt_arch_prefix(&prefix, ckpt, i);
    tl_model_load_options o = TL_MODEL_LOAD_OPTIONS_INIT;
    o.prefix = prefix;
    if (st == TL_OK)
      st = tl_ckpt_restore_model(models[i], ckpt, &o);
  }
  tli_free(c);
  if (st != TL_OK) {
    for (size_t i = n; i-- > 0;)
      tl_model_free(models[i]);
    return st;
  }
  memcpy(out, models, n * sizeof *out);
  return TL_OK;
}
