/* Internal: run-time choice between a baseline and an AVX2 build of a hot
 * loop, instead of GCC's target_clones.
 *
 * target_clones makes an ifunc, which the dynamic loader resolves while it
 * relocates libtl, before main and before any sanitizer runtime is ready:
 * under ThreadSanitizer that crashes every program in ld.so. Here the loop
 * body is one always-inlined function, compiled into a TLI_CPU_TARGET_AVX2
 * wrapper and a plain one, and the plain entry point calls the AVX2 one
 * when tli_cpu_has_avx2() says so. Nothing runs at load time (a project
 * rule); the CPU is asked on the first call, and the answer kept in an
 * atomic, so concurrent first calls are race-free (they store the same
 * value). The cost is one relaxed load and a predictable branch per call.
 * Both builds give the same bits: ISO C mode keeps FMA contraction off and
 * the AVX2 target does not enable FMA. */
#ifndef TLI_CORE_CPU_H
#define TLI_CORE_CPU_H

#if defined(__x86_64__) && defined(__GNUC__)
#define TLI_CPU_DISPATCH 1
#define TLI_CPU_TARGET_AVX2 __attribute__((target("avx2")))
/* 1 when the CPU (and the OS, for the AVX state) runs AVX2, else 0. */
int tli_cpu_has_avx2(void);
#endif

/* The body shared by the builds: inlined into each. */
#if defined(__GNUC__)
#define TLI_CPU_BODY static inline __attribute__((always_inline))
#else
#define TLI_CPU_BODY static inline
#endif

#endif
