/* Shared by the kernels_layers test files: tolerances, comparison helpers,
 * finite differences (kernels_layers_common.c). */
#ifndef KERNELS_LAYERS_COMMON_H
#define KERNELS_LAYERS_COMMON_H

#include "core/alloc.h"
#include "core/rng.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/linear.h"
#include "kernels/loss.h"
#include "kernels/matvec.h"
#include "kernels/pool.h"
#include "kernels/regularize.h"
#include "tl_test.h"
#include <float.h>
#include <stdint.h>
#include <string.h>

/* The generated golden header defines static arrays; each file uses some. */
#include "../fixtures/layers_golden.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* float32 kernels against torch float32: relative error < 1e-5 per element;
 * the floor keeps elements that are sums cancelling to ~0 from demanding
 * more than float32 gives (absolute 1e-5 * GOLD_FLOOR_FRAC * max |want|). */
#define GOLD_REL 1e-5
#define GOLD_FLOOR_FRAC 1e-4
/* float32 kernel gradients against double central differences (exact to
 * ~1e-9): what is left is float32 rounding of the kernels' sums. */
#define FD_REL 1e-4
#define FD_FLOOR_FRAC 1e-3
/* A scalar function of the parameters a finite difference perturbs. */
typedef double (*scalar_fn)(const void *ctx);

/* Largest relative errors seen, printed by the last test of the binary. */
extern double worst_gold_err;
extern double worst_fd_err;

double max_abs_f(const float *a, size_t n);
double max_abs_d(const double *a, size_t n);
void check_gold(const char *what, const float *got, const float *want,
                size_t n);
void check_fd(const char *what, const float *got, const double *fd, size_t n);
float *fdup(const float *a, size_t n);
float *fzeros(size_t n);
double *to_double(const float *a, size_t n);
void fd_grad(double *g, double *p, size_t n, scalar_fn fn, const void *ctx);

#endif
