/* The BLAS thread knob. libtl keeps no count of its own: OpenBLAS's
 * process-wide setting is the state, so there is one truth. */
#include <cblas.h>
#include <stdlib.h>

#include "core/error.h"

/* libtl's default is one BLAS thread: the host decides how to spend its
 * cores. Applied when the library loads, unless the host already chose
 * through OpenBLAS's own environment variables. */
__attribute__((constructor)) static void tli_threads_default(void) {
  if (getenv("OPENBLAS_NUM_THREADS") == NULL &&
      getenv("OMP_NUM_THREADS") == NULL)
    openblas_set_num_threads(1);
}

tl_status tl_set_num_threads(int n) {
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG,
            "tl_set_num_threads: n must be >= 1 (got %d)", n);
  openblas_set_num_threads(n);
  return TL_OK;
}

int tl_get_num_threads(void) { return openblas_get_num_threads(); }
