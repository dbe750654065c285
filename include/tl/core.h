/*
 * libtl core: status codes, error messages, version, allocator hooks and the
 * BLAS thread knob. Every other public header includes this one.
 *
 * Thread-safety: every function here may be called from any thread. The
 * allocator hooks and the BLAS thread count are process-wide: set them once,
 * before any other libtl call, not while another thread is inside libtl.
 * Distinct libtl handles may be used from different threads at once; one
 * handle must not be used from two threads at the same time.
 */
#ifndef TL_CORE_H
#define TL_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function as part of the public ABI. The library is built with
 * hidden visibility, so nothing else leaves libtl.so. */
#if defined(_WIN32)
#define TL_API
#elif defined(__GNUC__) || defined(__clang__)
#define TL_API __attribute__((visibility("default")))
#else
#define TL_API
#endif

/* Major version of these headers (Semantic Versioning, CHANGELOG.md): it
 * changes with an incompatible API change. The ABI rules, and what an
 * incompatible change does to the soname, are in docs/api-conventions.md.
 * tl_version_string gives the loaded library's version. */
#define TL_VERSION_MAJOR 0
/* Minor version of these headers: new functions, options fields, enum
 * values. */
#define TL_VERSION_MINOR 1
/* Patch version of these headers: fixes only. */
#define TL_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, as zstd does: 0.1.0 is 100. */
#define TL_VERSION_NUMBER                                                      \
  (TL_VERSION_MAJOR * 10000 + TL_VERSION_MINOR * 100 + TL_VERSION_PATCH)

/*
 * Status codes. The values are fixed forever: a code may be added, never
 * renumbered or reused. 0 is success; every failure is negative.
 */
typedef enum tl_status {
  /* success */
  TL_OK = 0,
  TL_E_INVALID_ARG = -1, /* a NULL pointer, a bad size, an out-of-range enum */
  TL_E_NOMEM = -2,       /* an allocation failed (or would overflow size_t) */
  TL_E_SHAPE = -3,       /* array shapes do not agree */
  TL_E_STATE = -4,       /* the call does not fit the object's state */
  TL_E_IO = -5,          /* the operating system refused a file operation */
  TL_E_FORMAT = -6,      /* a file or buffer is malformed */
  TL_E_NUMERIC = -7,     /* NaN or Inf in an input, or a result overflowed */
  TL_E_NOT_FOUND = -8,   /* a name or key does not exist */
  TL_E_UNSUPPORTED = -9, /* valid, but not supported (e.g. options version) */
  TL_E_INTERNAL = -10    /* a bug in libtl: please report it */
} tl_status;

/* The name of a status code ("TL_E_SHAPE"); never NULL. An unknown code
 * gives "TL_E_UNKNOWN". */
TL_API const char *tl_status_string(tl_status status);

/* The message of the last failure on the calling thread: which argument was
 * wrong and why. Never NULL: "" when no call has failed since the thread
 * started or since tl_clear_error(). The pointer stays valid until the next
 * libtl call on this thread. A successful call does not clear it. */
TL_API const char *tl_last_error(void);

/* Forgets the calling thread's last error message. */
TL_API void tl_clear_error(void);

/* The run-time version: "0.1.0" and TL_VERSION_NUMBER of the loaded library,
 * which may differ from the headers a program was compiled with. */
TL_API const char *tl_version_string(void);
/* The loaded library's version as a number (TL_VERSION_NUMBER's formula:
 * 100 for 0.1.0), to compare with the TL_VERSION_NUMBER a program was
 * compiled with. */
TL_API unsigned tl_version_number(void);

/*
 * Allocator hooks. Every allocation libtl makes goes through them (zstd's
 * custom-allocator habit), so an embedder can count, cap or place memory.
 * alloc returns memory aligned to `alignment` (a power of two, at least
 * sizeof(void *)) or NULL; free accepts NULL. payload is passed through.
 */
#define TL_ALLOCATOR_VERSION 1
typedef struct tl_allocator {
  unsigned int version; /* TL_ALLOCATOR_VERSION */
  /* Returns size bytes aligned to alignment, or NULL; libtl never asks for
   * 0 bytes. Must be safe to call from any thread that uses libtl. */
  void *(*alloc)(void *payload, size_t size, size_t alignment);
  /* Releases a block alloc returned; ptr may be NULL. */
  void (*free)(void *payload, void *ptr);
  /* Passed unchanged as the first argument of alloc and free. */
  void *payload;
} tl_allocator;

/* Fills *out with the default (libc) allocator at `version`. Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_allocator_init(tl_allocator *out, unsigned int version);

/* Installs process-wide allocator hooks; NULL restores libc's. Call before
 * any libtl object exists: memory must be freed by the hooks that allocated
 * it. Errors: TL_E_INVALID_ARG (missing function), TL_E_UNSUPPORTED
 * (unknown version). */
TL_API tl_status tl_set_allocator(const tl_allocator *allocator);

/* The number of threads OpenBLAS may use inside libtl's own BLAS and LAPACK
 * calls. libtl does nothing when it is loaded and never changes OpenBLAS's
 * count outside its calls: around each of its BLAS calls it switches
 * OpenBLAS's process-wide count to libtl's when the two differ, and back
 * afterwards. libtl's count is 1 by default (the host decides how to spend
 * its cores); when OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set and
 * tl_set_num_threads was never called, libtl follows OpenBLAS's own count
 * and switches nothing. n must be >= 1; OpenBLAS caps it at the thread
 * count it was built for, and tl_get_num_threads reports the count libtl's
 * calls run with. Caveat: OpenBLAS's count is one process-wide value, and
 * switching it is not thread-safe: while a libtl call runs, another thread's
 * OpenBLAS calls (the host's or another libtl call's) may see libtl's count,
 * or libtl's call the host's. A host that calls OpenBLAS or libtl from
 * several threads at once should give both the same count
 * (tl_set_num_threads(openblas_get_num_threads())): then nothing is ever
 * switched. Errors: TL_E_INVALID_ARG (n < 1). */
TL_API tl_status tl_set_num_threads(int n);
/* The number of threads OpenBLAS uses now (OpenBLAS's process-wide count,
 * after its cap), always >= 1. */
TL_API int tl_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* TL_CORE_H */
