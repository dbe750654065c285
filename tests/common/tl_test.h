/* Shared helpers for the Check test binaries: numeric comparisons that print
 * both values, a runner, and an allocator that counts calls. */
#ifndef TL_TEST_H
#define TL_TEST_H

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl/tl.h"

/* |got - want| <= rel * max(|want|, floor) : relative error with an
 * absolute floor so that values near 0 compare sensibly. */
#define TLT_ASSERT_CLOSE(got, want, rel, floor_)                               \
  do {                                                                         \
    const double tlt_g_ = (double)(got), tlt_w_ = (double)(want);              \
    const double tlt_s_ = fmax(fabs(tlt_w_), (floor_));                        \
    ck_assert_msg(fabs(tlt_g_ - tlt_w_) <= (rel)*tlt_s_,                       \
                  "%s = %.17g, expected %.17g (rel err %.3g > %.3g)", #got,    \
                  tlt_g_, tlt_w_, fabs(tlt_g_ - tlt_w_) / tlt_s_,              \
                  (double)(rel));                                              \
  } while (0)

/* Every element of got[0..n) close to want[0..n). */
#define TLT_ASSERT_ARRAY_CLOSE(got, want, n, rel, floor_)                      \
  do {                                                                         \
    for (size_t tlt_i_ = 0; tlt_i_ < (size_t)(n); tlt_i_++) {                  \
      const double tlt_g_ = (double)(got)[tlt_i_];                             \
      const double tlt_w_ = (double)(want)[tlt_i_];                            \
      const double tlt_s_ = fmax(fabs(tlt_w_), (floor_));                      \
      ck_assert_msg(fabs(tlt_g_ - tlt_w_) <= (rel)*tlt_s_,                     \
                    "%s[%zu] = %.17g, expected %.17g (rel err %.3g)", #got,    \
                    tlt_i_, tlt_g_, tlt_w_, fabs(tlt_g_ - tlt_w_) / tlt_s_);   \
    }                                                                          \
  } while (0)

/* A failing call: its status and a non-empty message that contains `word`
 * (the argument it names). */
#define TLT_ASSERT_FAILS(call, status, word)                                   \
  do {                                                                         \
    tl_clear_error();                                                          \
    tl_status tlt_s_ = (call);                                                 \
    ck_assert_msg(tlt_s_ == (status), "%s returned %s, expected %s", #call,    \
                  tl_status_string(tlt_s_), tl_status_string(status));         \
    ck_assert_msg(strstr(tl_last_error(), (word)) != NULL,                     \
                  "message '%s' does not mention '%s'", tl_last_error(),       \
                  (word));                                                     \
  } while (0)

#define TLT_ASSERT_OK(call)                                                    \
  do {                                                                         \
    tl_status tlt_s_ = (call);                                                 \
    ck_assert_msg(tlt_s_ == TL_OK, "%s returned %s: %s", #call,                \
                  tl_status_string(tlt_s_), tl_last_error());                  \
  } while (0)

/* Counting allocator: installs hooks that count calls and requested bytes,
 * so a test can prove a hot path allocates nothing or a loader allocates a
 * bounded amount; with a budget, every allocation after the first `budget`
 * fails, so a test can walk every failure path. allocs - frees is what is
 * still live. */
typedef struct tlt_counter {
  size_t allocs;
  size_t frees;
  size_t bytes;
  size_t budget; /* SIZE_MAX: unlimited */
} tlt_counter;

static inline void *tlt_counting_alloc(void *payload, size_t size,
                                       size_t alignment) {
  tlt_counter *c = payload;
  if (c->allocs == c->budget)
    return NULL;
  c->allocs++;
  c->bytes += size;
  void *p = NULL;
  return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

static inline void tlt_counting_free(void *payload, void *ptr) {
  if (ptr)
    ((tlt_counter *)payload)->frees++;
  free(ptr);
}

static inline void tlt_counter_install_budget(tlt_counter *c, size_t budget) {
  tl_allocator a = {TL_ALLOCATOR_VERSION, tlt_counting_alloc, tlt_counting_free,
                    c};
  c->allocs = c->frees = c->bytes = 0;
  c->budget = budget;
  tl_set_allocator(&a);
}

static inline void tlt_counter_install(tlt_counter *c) {
  tlt_counter_install_budget(c, SIZE_MAX);
}

/* Runs a suite and returns the process exit status. CK_FORK is left to the
 * environment (CK_FORK=no under sanitizers keeps reports in one process). */
static inline int tlt_run(Suite *suite) {
  SRunner *runner = srunner_create(suite);
  srunner_run_all(runner, CK_NORMAL);
  const int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
