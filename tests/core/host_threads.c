/* A host that uses OpenBLAS itself and loads libtl (path in argv[1]) with
 * dlopen: loading libtl must leave OpenBLAS's thread count as the host set
 * it, and libtl's own BLAS calls must run with libtl's count
 * (tl_set_num_threads, default 1) and give the host's back afterwards.
 *
 * The program exports cblas_dgemm (export_dynamic), so libtl's calls reach
 * this wrapper first: it records the count in effect inside the call, then
 * forwards to OpenBLAS. Exit 0: pass, 1: fail, 77: skipped (an OpenBLAS
 * that cannot run 2 threads). */
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "tl/tl.h"

static int inside_count = -1; /* OpenBLAS's count during the last dgemm */
static int dgemm_calls = 0;

typedef void (*dgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE,
                         enum CBLAS_TRANSPOSE, blasint, blasint, blasint,
                         double, const double *, blasint, const double *,
                         blasint, double, double *, blasint);

void cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta,
                 enum CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k,
                 double alpha, const double *a, blasint lda, const double *b,
                 blasint ldb, double beta, double *c, blasint ldc) {
  static dgemm_fn next;
  if (next == NULL)
    *(void **)&next = dlsym(RTLD_NEXT, "cblas_dgemm");
  inside_count = openblas_get_num_threads();
  dgemm_calls++;
  next(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static int failures = 0;
#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define SYM(name)                                                              \
  __typeof__(&name) name##_p;                                                  \
  *(void **)&name##_p = dlsym(lib, #name);                                     \
  if (name##_p == NULL) {                                                      \
    fprintf(stderr, "libtl does not export %s\n", #name);                      \
    return 1;                                                                  \
  }

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s path/to/libtl.so\n", argv[0]);
    return 1;
  }
  /* The host's choice, made through OpenBLAS's own API: 2 threads. The
   * environment variables are cleared so that libtl uses its default. */
  unsetenv("OPENBLAS_NUM_THREADS");
  unsetenv("OMP_NUM_THREADS");
  openblas_set_num_threads(2);
  const int host = openblas_get_num_threads();
  if (host != 2) {
    printf("SKIP: this OpenBLAS runs %d thread(s), not 2\n", host);
    return 77;
  }

  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  EXPECT(openblas_get_num_threads() == host,
         "loading libtl changed OpenBLAS's thread count from %d to %d", host,
         openblas_get_num_threads());

  /* Typed from the header's declarations; nothing is linked. */
  SYM(tl_get_num_threads);
  SYM(tl_set_num_threads);
  SYM(tl_coral_align);
  EXPECT(tl_get_num_threads_p() == 1, "libtl's default count is %d, not 1",
         tl_get_num_threads_p());
  EXPECT(openblas_get_num_threads() == host,
         "tl_get_num_threads changed OpenBLAS's count");

  /* 3 x 2 source and target rows: CORAL multiplies with dgemm. */
  const double xs[] = {0.0, 1.0, 2.0, 0.5, 1.0, 3.0};
  const double xt[] = {1.0, 0.0, 0.5, 2.0, 2.5, 1.0};
  double out[6];
  for (int want = 1; want <= 2; want++) {
    if (want == 2)
      EXPECT(tl_set_num_threads_p(2) == TL_OK, "tl_set_num_threads(2) failed");
    EXPECT(tl_get_num_threads_p() == want, "tl_get_num_threads is %d, not %d",
           tl_get_num_threads_p(), want);
    EXPECT(openblas_get_num_threads() == host,
           "tl_set_num_threads changed OpenBLAS's count outside libtl");
    dgemm_calls = 0;
    inside_count = -1;
    EXPECT(tl_coral_align_p(out, xs, 3, xt, 3, 2, 1.0) == TL_OK,
           "tl_coral_align failed");
    EXPECT(dgemm_calls > 0, "tl_coral_align made no dgemm call");
    EXPECT(inside_count == want,
           "libtl's dgemm ran with %d OpenBLAS threads, not libtl's %d",
           inside_count, want);
    EXPECT(openblas_get_num_threads() == host,
           "after a libtl call OpenBLAS's count is %d, not the host's %d",
           openblas_get_num_threads(), host);
  }
  /* When the two agree nothing is switched: libtl's count holds inside. */
  openblas_set_num_threads(2);
  EXPECT(tl_coral_align_p(out, xs, 3, xt, 3, 2, 1.0) == TL_OK,
         "tl_coral_align failed");
  EXPECT(inside_count == 2 && openblas_get_num_threads() == 2,
         "equal counts: inside %d, after %d", inside_count,
         openblas_get_num_threads());
  dlclose(lib);
  if (failures == 0)
    printf("ok: host count %d kept; libtl's calls ran with libtl's\n", host);
  return failures ? 1 : 0;
}
