/* The BLAS thread knob. libtl keeps its own count and applies it around its
 * own BLAS and LAPACK calls only (tli_blas_enter / tli_blas_leave in
 * blas.c), so a host that uses OpenBLAS itself keeps the count it chose:
 * nothing runs when the library is loaded, and OpenBLAS's process-wide
 * setting is left as the host had it outside libtl's calls. */
#include <cblas.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/error.h"

/* libtl's count: 0 not yet decided, -1 follow OpenBLAS's own setting (the
 * host chose one through OpenBLAS's environment variables), n >= 1 the
 * count libtl's BLAS calls run with. Decided on first use, not at load. */
static atomic_int tli_threads;

static int tli_threads_wanted(void) {
  int n = atomic_load_explicit(&tli_threads, memory_order_relaxed);
  if (n == 0) {
    /* A race here is benign: every thread decides the same value. */
    n = getenv("OPENBLAS_NUM_THREADS") != NULL ||
                getenv("OMP_NUM_THREADS") != NULL
            ? -1
            : 1;
    int unset = 0;
    if (!atomic_compare_exchange_strong(&tli_threads, &unset, n))
      n = unset; /* tl_set_num_threads got there first */
  }
  return n;
}

int tli_blas_enter(void) {
  const int want = tli_threads_wanted();
  if (want < 0)
    return 0;
  const int had = openblas_get_num_threads();
  if (had == want)
    return 0;
  openblas_set_num_threads(want);
  return had;
}

void tli_blas_leave(int had) {
  if (had > 0)
    openblas_set_num_threads(had);
}

tl_status tl_set_num_threads(int n) {
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG,
            "tl_set_num_threads: n must be >= 1 (got %d)", n);
  /* OpenBLAS caps the count at what it was built for; ask it once what n
   * becomes, so that tl_get_num_threads reports the count in effect and
   * later calls compare equal and switch nothing. */
  const int had = openblas_get_num_threads();
  openblas_set_num_threads(n);
  const int effective = openblas_get_num_threads();
  if (effective != had)
    openblas_set_num_threads(had);
  atomic_store_explicit(&tli_threads, effective >= 1 ? effective : 1,
                        memory_order_relaxed);
  return TL_OK;
}

int tl_get_num_threads(void) {
  const int n = tli_threads_wanted();
  return n < 0 ? openblas_get_num_threads() : n;
}
