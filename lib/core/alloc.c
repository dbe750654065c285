/* Allocator hooks. The hooks are the one piece of process-wide mutable state
 * libtl has besides the thread-local error (docs/architecture.md): they are set
 * once, before use, and read without locking. */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"

static void *tli_default_alloc(void *payload, size_t size, size_t alignment) {
  (void)payload;
  void *ptr = NULL;
  if (posix_memalign(&ptr, alignment, size ? size : 1) != 0)
    return NULL;
  return ptr;
}

static void tli_default_free(void *payload, void *ptr) {
  (void)payload;
  free(ptr);
}

static tl_allocator tli_allocator = {TL_ALLOCATOR_VERSION, tli_default_alloc,
                                     tli_default_free, NULL};

TLI_VERSION_SIZES(allocator_sizes, TL_ALLOCATOR_VERSION,
                  TLI_FIELD_END(tl_allocator, payload));

static const tl_allocator tli_default_allocator = {
    TL_ALLOCATOR_VERSION, tli_default_alloc, tli_default_free, NULL};

tl_status tl_allocator_init(tl_allocator *out, unsigned int version) {
  return TLI_OPTIONS_INIT(out, &tli_default_allocator, version, allocator_sizes,
                          "tl_allocator_init");
}

tl_status tl_set_allocator(const tl_allocator *allocator) {
  static const char fn[] = "tl_set_allocator";
  if (allocator == NULL) {
    tli_allocator = tli_default_allocator;
    return TL_OK;
  }
  tl_allocator a = tli_default_allocator;
  TLI_TRY(TLI_OPTIONS_COPY(&a, allocator, allocator_sizes, fn, "allocator"));
  TLI_CHECK(a.alloc != NULL && a.free != NULL, TL_E_INVALID_ARG,
            "%s: allocator->alloc and allocator->free must both be set", fn);
  tli_allocator = a;
  return TL_OK;
}

void *tli_alloc(size_t size) {
  return tli_allocator.alloc(tli_allocator.payload, size ? size : 1,
                             TLI_ALIGNMENT);
}

void *tli_calloc(size_t count, size_t size) {
  size_t bytes;
  if (!tli_mul_size(&bytes, count, size))
    return NULL;
  void *ptr = tli_alloc(bytes);
  if (ptr != NULL)
    memset(ptr, 0, bytes);
  return ptr;
}

void tli_free(void *ptr) {
  if (ptr != NULL)
    tli_allocator.free(tli_allocator.payload, ptr);
}

tl_status tli_alloc_checked(void **out, size_t count, size_t size,
                            const char *what) {
  size_t bytes;
  if (!tli_mul_size(&bytes, count, size))
    return tli_fail(TL_E_NOMEM, "%s: %zu x %zu bytes overflows size_t", what,
                    count, size);
  void *ptr = tli_alloc(bytes);
  if (ptr == NULL)
    return tli_fail(TL_E_NOMEM, "%s: could not allocate %zu bytes", what,
                    bytes);
  *out = ptr;
  return TL_OK;
}

int tli_mul_size(size_t *out, size_t a, size_t b) {
  if (a != 0 && b > SIZE_MAX / a)
    return 0;
  *out = a * b;
  return 1;
}
