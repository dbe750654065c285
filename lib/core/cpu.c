/* The CPU feature query behind the AVX2 dispatch (core/cpu.h). */
#include "core/cpu.h"

#ifdef TLI_CPU_DISPATCH
#include <stdatomic.h>

/* 0: not asked yet; 1: no AVX2; 2: AVX2. */
static atomic_int tli_avx2_state;

int tli_cpu_has_avx2(void) {
  int state = atomic_load_explicit(&tli_avx2_state, memory_order_relaxed);
  if (state == 0) {
    /* libgcc fills its CPU model once (idempotent); calling it here does
     * not depend on its constructor having run first. */
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx2") ? 2 : 1;
    atomic_store_explicit(&tli_avx2_state, state, memory_order_relaxed);
  }
  return state == 2;
}
#else
/* Elsewhere there is nothing to ask (ISO C wants a declaration here). */
typedef int tli_cpu_nothing_to_ask;
#endif
