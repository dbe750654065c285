/* A program outside the tree: public headers only, built through pkg-config.
 * Also checks that the headers compile under -std=c11 -Wall -Werror. */
#include <stdio.h>
#include <string.h>
#include <tl/tl.h>

int main(void) {
  if (tl_version_number() != TL_VERSION_NUMBER) {
    fprintf(stderr, "headers %d, library %u\n", TL_VERSION_NUMBER,
            tl_version_number());
    return 1;
  }
  if (tl_set_num_threads(0) != TL_E_INVALID_ARG || strlen(tl_last_error()) == 0)
    return 1;
  printf("outside program: libtl %s\n", tl_version_string());
  return 0;
}
