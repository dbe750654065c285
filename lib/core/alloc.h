/* Internal: every allocation in libtl goes through these, which call the
 * process-wide hooks set by tl_set_allocator. */
#ifndef TLI_CORE_ALLOC_H
#define TLI_CORE_ALLOC_H

#include <stddef.h>

#include "tl/core.h"

/* Alignment of every buffer libtl allocates: one cache line, and enough for
 * any SIMD load OpenBLAS or the compiler emits. */
#define TLI_ALIGNMENT 64

/* size bytes aligned to TLI_ALIGNMENT, or NULL. size 0 gives a valid
 * pointer to a one-byte block so callers need no special case. */
void *tli_alloc(size_t size);
/* count * size bytes, zeroed; NULL on overflow or failure. */
void *tli_calloc(size_t count, size_t size);
void tli_free(void *ptr);

/* Allocation that records a TL_E_NOMEM message naming `what` on failure. */
tl_status tli_alloc_checked(void **out, size_t count, size_t size,
                            const char *what);

/* a * b without overflow; returns 0 and leaves *out alone on overflow. */
int tli_mul_size(size_t *out, size_t a, size_t b);

#endif
