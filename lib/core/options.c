/* Versioned caller-allocated structs: see options.h. */
#include "core/options.h"

#include <assert.h>
#include <string.h>

#include "core/error.h"

/* Every versioned struct starts with `unsigned int version`. */
#define TLI_VERSION_BYTES sizeof(unsigned int)

/* The one message for a version outside 1..n; `what` is e.g. "version"
 * or "options->" (followed by "version"). */
#define TLI_VERSION_MESSAGE                                                    \
  "%s: %s%s %u is not supported (this libtl knows 1..%u)"

tl_status tli_version_check(unsigned version, unsigned n_versions,
                            const char *fn, const char *arg) {
  TLI_CHECK(version >= 1 && version <= n_versions, TL_E_UNSUPPORTED,
            TLI_VERSION_MESSAGE, fn, arg, "", version, n_versions);
  return TL_OK;
}

/* The version field of a caller's struct `arg`, checked. */
static tl_status field_version(unsigned *out, const void *s,
                               unsigned n_versions, const char *fn,
                               const char *arg) {
  /* The version field is the one part every version defines. */
  memcpy(out, s, TLI_VERSION_BYTES);
  TLI_CHECK(*out >= 1 && *out <= n_versions, TL_E_UNSUPPORTED,
            TLI_VERSION_MESSAGE, fn, arg, "->version", *out, n_versions);
  return TL_OK;
}

tl_status tli_options_init(void *out, const void *defaults, unsigned version,
                           const size_t *sizes, unsigned n_versions,
                           const char *fn) {
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_version_check(version, n_versions, fn, "version"));
  assert(sizes[version - 1] >= TLI_VERSION_BYTES);
  memcpy(out, defaults, sizes[version - 1]);
  memcpy(out, &version, TLI_VERSION_BYTES);
  return TL_OK;
}

tl_status tli_options_copy(void *dst, size_t dst_size, const void *src,
                           const size_t *sizes, unsigned n_versions,
                           const char *fn, const char *arg) {
  unsigned version;
  TLI_TRY(field_version(&version, src, n_versions, fn, arg));
  size_t n = sizes[version - 1];
  assert(n <= dst_size && sizes[n_versions - 1] <= dst_size);
  (void)dst_size;
  memcpy((char *)dst + TLI_VERSION_BYTES, (const char *)src + TLI_VERSION_BYTES,
         n - TLI_VERSION_BYTES);
  memcpy(dst, &n_versions, TLI_VERSION_BYTES);
  return TL_OK;
}

tl_status tli_options_write(void *out, const void *full, const size_t *sizes,
                            unsigned n_versions, const char *fn,
                            const char *arg) {
  unsigned version;
  TLI_TRY(field_version(&version, out, n_versions, fn, arg));
  memcpy((char *)out + TLI_VERSION_BYTES,
         (const char *)full + TLI_VERSION_BYTES,
         sizes[version - 1] - TLI_VERSION_BYTES);
  return TL_OK;
}
