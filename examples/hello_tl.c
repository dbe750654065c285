/* The smallest libtl program: print the version, then show how a failing
 * call reports its error. Build: cc hello_tl.c $(pkg-config --cflags --libs tl)
 */
#include <stdio.h>
#include <tl/tl.h>

int main(void) {
  printf("libtl %s (headers %d.%d.%d)\n", tl_version_string(), TL_VERSION_MAJOR,
         TL_VERSION_MINOR, TL_VERSION_PATCH);
  tl_status s = tl_set_num_threads(0);
  printf("tl_set_num_threads(0) -> %s: %s\n", tl_status_string(s),
         tl_last_error());
  return s == TL_E_INVALID_ARG ? 0 : 1;
}
