/* Internal: setting the thread-local error message. */
#ifndef TLI_CORE_ERROR_H
#define TLI_CORE_ERROR_H

#include "tl/core.h"

#if defined(__GNUC__) || defined(__clang__)
#define TLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TLI_PRINTF(f, a)
#endif

/* Records "fmt ..." as the calling thread's last error and returns status,
 * so a failing path reads: return tli_fail(TL_E_SHAPE, "x: ...", ...). */
tl_status tli_fail(tl_status status, const char *fmt, ...) TLI_PRINTF(2, 3);

/* Argument checks used at the top of every public function. Each records a
 * message naming the function and the argument. */
#define TLI_CHECK_PTR(fn, p)                                                   \
  do {                                                                         \
    if ((p) == NULL)                                                           \
      return tli_fail(TL_E_INVALID_ARG, "%s: argument '%s' is NULL", (fn),     \
                      #p);                                                     \
  } while (0)

#define TLI_CHECK(cond, status, ...)                                           \
  do {                                                                         \
    if (!(cond))                                                               \
      return tli_fail((status), __VA_ARGS__);                                  \
  } while (0)

/* Propagates a failing status unchanged (its message is already set). */
#define TLI_TRY(expr)                                                          \
  do {                                                                         \
    tl_status tli_try_status_ = (expr);                                        \
    if (tli_try_status_ != TL_OK)                                              \
      return tli_try_status_;                                                  \
  } while (0)

#endif
