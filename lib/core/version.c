#include "tl/core.h"

#define TLI_STR_(x) #x
#define TLI_STR(x) TLI_STR_(x)

const char *tl_version_string(void) {
  return TLI_STR(TL_VERSION_MAJOR) "." TLI_STR(TL_VERSION_MINOR) "." TLI_STR(
      TL_VERSION_PATCH);
}

unsigned tl_version_number(void) { return TL_VERSION_NUMBER; }
