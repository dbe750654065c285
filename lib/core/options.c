/* Versioned caller-allocated structs: see options.h. */
#include "core/options.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* Every versioned struct starts with `unsigned int version`. */
#define TLI_VERSION_BYTES sizeof(unsigned int)

tl_status tli_version_check(unsigned version, unsigned n_versions,
                            const char *fn, const char *arg) {
  TLI_CHECK(version >= 1 && version <= n_versions, TL_E_UNSUPPORTED,
            "%s: %s %u is not supported (this libtl knows 1..%u)", fn, arg,
            version, n_versions);
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
  /* The version field is the one part every version defines. */
  memcpy(&version, src, TLI_VERSION_BYTES);
  char what[64];
  (void)snprintf(what, sizeof what, "%s->version", arg);
  TLI_TRY(tli_version_check(version, n_versions, fn, what));
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
  memcpy(&version, out, TLI_VERSION_BYTES);
  char what[64];
  (void)snprintf(what, sizeof what, "%s->version", arg);
  TLI_TRY(tli_version_check(version, n_versions, fn, what));
  memcpy((char *)out + TLI_VERSION_BYTES,
         (const char *)full + TLI_VERSION_BYTES,
         sizes[version - 1] - TLI_VERSION_BYTES);
  return TL_OK;
}
