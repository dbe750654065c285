/* Status names and the thread-local last-error message (libgit2's habit:
 * the message is never NULL and says which argument was wrong). */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

#define TLI_ERROR_CAPACITY 512

static _Thread_local char tli_error_message[TLI_ERROR_CAPACITY];

tl_status tli_fail(tl_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(tli_error_message, sizeof tli_error_message, fmt, args);
  va_end(args);
  return status;
}

const char *tl_last_error(void) { return tli_error_message; }

void tl_clear_error(void) { tli_error_message[0] = '\0'; }

const char *tl_status_string(tl_status status) {
  switch (status) {
  case TL_OK: return "TL_OK";
  case TL_E_INVALID_ARG: return "TL_E_INVALID_ARG";
  case TL_E_NOMEM: return "TL_E_NOMEM";
  case TL_E_SHAPE: return "TL_E_SHAPE";
  case TL_E_STATE: return "TL_E_STATE";
  case TL_E_IO: return "TL_E_IO";
  case TL_E_FORMAT: return "TL_E_FORMAT";
  case TL_E_NUMERIC: return "TL_E_NUMERIC";
  case TL_E_NOT_FOUND: return "TL_E_NOT_FOUND";
  case TL_E_UNSUPPORTED: return "TL_E_UNSUPPORTED";
  case TL_E_INTERNAL: return "TL_E_INTERNAL";
  }
  return "TL_E_UNKNOWN";
}
