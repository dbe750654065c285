/* Allocator hooks. The hooks are the one piece of process-wide mutable state
 * libtl has besides the thread-local error (docs/architecture.md): they are set
 * once, before use, and read without locking. */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

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

tl_status tl_allocator_init(tl_allocator *out, unsigned int version) {
  TLI_CHECK_PTR("tl_allocator_init", out);
  TLI_CHECK(version == TL_ALLOCATOR_VERSION, TL_E_UNSUPPORTED,
            "tl_allocator_init: version %u is not supported (this library "
            "knows version %u)",
            version, TL_ALLOCATOR_VERSION);
  out->version = version;
  out->alloc = tli_default_alloc;
  out->free = tli_default_free;
  out->payload = NULL;
  return TL_OK;
}

tl_status tl_set_allocator(const tl_allocator *allocator) {
  if (allocator == NULL) {
    tl_allocator_init(&tli_allocator, TL_ALLOCATOR_VERSION);
    return TL_OK;
  }
  TLI_CHECK(allocator->version == TL_ALLOCATOR_VERSION, TL_E_UNSUPPORTED,
            "tl_set_allocator: allocator->version %u is not supported (this "
            "library knows version %u)",
            allocator->version, TL_ALLOCATOR_VERSION);
  TLI_CHECK(allocator->alloc != NULL && allocator->free != NULL,
            TL_E_INVALID_ARG,
            "tl_set_allocator: allocator->alloc and allocator->free must both "
            "be set");
  tli_allocator = *allocator;
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
