/* lib/core: status codes, errors, version, allocator hooks, RNG, BLAS. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/rng_golden.h"
#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/rng.h"
#include "tl_test.h"

START_TEST(status_strings_name_every_code) {
  const struct {
    tl_status code;
    int value;
    const char *name;
  } table[] = {
      {TL_OK, 0, "TL_OK"},
      {TL_E_INVALID_ARG, -1, "TL_E_INVALID_ARG"},
      {TL_E_NOMEM, -2, "TL_E_NOMEM"},
      {TL_E_SHAPE, -3, "TL_E_SHAPE"},
      {TL_E_STATE, -4, "TL_E_STATE"},
      {TL_E_IO, -5, "TL_E_IO"},
      {TL_E_FORMAT, -6, "TL_E_FORMAT"},
      {TL_E_NUMERIC, -7, "TL_E_NUMERIC"},
      {TL_E_NOT_FOUND, -8, "TL_E_NOT_FOUND"},
      {TL_E_UNSUPPORTED, -9, "TL_E_UNSUPPORTED"},
      {TL_E_INTERNAL, -10, "TL_E_INTERNAL"},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    /* The values are ABI: they must never change. */
    ck_assert_int_eq((int)table[i].code, table[i].value);
    ck_assert_str_eq(tl_status_string(table[i].code), table[i].name);
  }
  ck_assert_str_eq(tl_status_string((tl_status)-999), "TL_E_UNKNOWN");
  ck_assert_str_eq(tl_status_string((tl_status)5), "TL_E_UNKNOWN");
}
END_TEST

START_TEST(last_error_is_never_null_and_names_the_argument) {
  tl_clear_error();
  ck_assert_ptr_nonnull(tl_last_error());
  ck_assert_str_eq(tl_last_error(), "");
  TLT_ASSERT_FAILS(tl_set_num_threads(0), TL_E_INVALID_ARG, "n must be >= 1");
  TLT_ASSERT_FAILS(tl_allocator_init(NULL, TL_ALLOCATOR_VERSION),
                   TL_E_INVALID_ARG, "'out'");
  /* A successful call leaves the message alone (libgit2 semantics). */
  TLT_ASSERT_OK(tl_set_num_threads(1));
  ck_assert_ptr_nonnull(strstr(tl_last_error(), "'out'"));
  tl_clear_error();
  ck_assert_str_eq(tl_last_error(), "");
}
END_TEST

START_TEST(long_messages_are_truncated_safely) {
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(tli_fail(TL_E_SHAPE, "%s", big), TL_E_SHAPE);
  ck_assert_uint_eq(strlen(tl_last_error()), 511);
}
END_TEST

START_TEST(version_matches_the_headers) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", TL_VERSION_MAJOR, TL_VERSION_MINOR,
           TL_VERSION_PATCH);
  ck_assert_str_eq(tl_version_string(), want);
  ck_assert_uint_eq(tl_version_number(), TL_VERSION_NUMBER);
  ck_assert_uint_eq(tl_version_number(), 100);
}
END_TEST

START_TEST(allocator_rejects_bad_options) {
  tl_allocator a;
  TLT_ASSERT_FAILS(tl_allocator_init(&a, 99), TL_E_UNSUPPORTED, "version 99");
  TLT_ASSERT_OK(tl_allocator_init(&a, TL_ALLOCATOR_VERSION));
  ck_assert(a.alloc != NULL);
  a.free = NULL;
  TLT_ASSERT_FAILS(tl_set_allocator(&a), TL_E_INVALID_ARG, "free");
  a.version = 0;
  TLT_ASSERT_FAILS(tl_set_allocator(&a), TL_E_UNSUPPORTED, "version 0");
}
END_TEST

START_TEST(allocations_go_through_the_hooks) {
  tlt_counter c;
  tlt_counter_install(&c);
  void *p = tli_alloc(100);
  float *f = tli_calloc(33, sizeof(float));
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq((uintptr_t)p % TLI_ALIGNMENT, 0);
  ck_assert_uint_eq((uintptr_t)f % TLI_ALIGNMENT, 0);
  for (int i = 0; i < 33; i++)
    ck_assert_float_eq(f[i], 0.0f);
  tli_free(p);
  tli_free(f);
  tli_free(NULL);
  ck_assert_uint_eq(c.allocs, 2);
  ck_assert_uint_eq(c.frees, 2);
  TLT_ASSERT_OK(tl_set_allocator(NULL));
  void *q = tli_alloc(8);
  tli_free(q);
  ck_assert_uint_eq(c.allocs, 2);
}
END_TEST

START_TEST(allocation_overflow_is_refused) {
  size_t out = 7;
  ck_assert_int_eq(tli_mul_size(&out, SIZE_MAX / 2, 3), 0);
  ck_assert_uint_eq(out, 7);
  ck_assert_int_eq(tli_mul_size(&out, 0, SIZE_MAX), 1);
  ck_assert_uint_eq(out, 0);
  ck_assert_ptr_null(tli_calloc(SIZE_MAX / 4, 8));
  void *p = NULL;
  TLT_ASSERT_FAILS(tli_alloc_checked(&p, SIZE_MAX / 4, 8, "weights"),
                   TL_E_NOMEM, "weights");
  ck_assert_ptr_null(p);
}
END_TEST

START_TEST(rng_matches_the_reference_algorithm) {
  tli_rng r;
  tli_rng_seed(&r, 0);
  for (int i = 0; i < 8; i++)
    ck_assert_uint_eq(tli_rng_next(&r), rng_golden_seed0[i]);
  tli_rng_seed(&r, 42);
  for (int i = 0; i < 8; i++)
    ck_assert_uint_eq(tli_rng_next(&r), rng_golden_seed42[i]);
  tli_rng_seed(&r, 7);
  for (int i = 0; i < 4; i++)
    ck_assert_double_eq(tli_rng_uniform(&r), rng_golden_uniform_seed7[i]);
}
END_TEST

START_TEST(rng_distributions_have_the_right_moments) {
  tli_rng r;
  tli_rng_seed(&r, 123);
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  int ones = 0, counts[7] = {0};
  for (int i = 0; i < n; i++) {
    const double u = tli_rng_uniform(&r);
    ck_assert(u >= 0.0 && u < 1.0);
    su += u;
    su2 += u * u;
    const float uf = tli_rng_uniform_f(&r);
    ck_assert(uf >= 0.0f && uf < 1.0f);
    const double z = tli_rng_normal(&r);
    sn += z;
    sn2 += z * z;
    ones += tli_rng_bernoulli(&r, 0.3);
    const uint64_t k = tli_rng_below(&r, 7);
    ck_assert_uint_lt(k, 7);
    counts[k]++;
  }
  /* Tolerances are ~5 standard errors. */
  TLT_ASSERT_CLOSE(su / n, 0.5, 0.01, 1.0);
  TLT_ASSERT_CLOSE(su2 / n - (su / n) * (su / n), 1.0 / 12, 0.02, 1.0);
  TLT_ASSERT_CLOSE(sn / n, 0.0, 0.012, 1.0);
  TLT_ASSERT_CLOSE(sn2 / n, 1.0, 0.02, 1.0);
  TLT_ASSERT_CLOSE((double)ones / n, 0.3, 0.02, 1.0);
  for (int k = 0; k < 7; k++)
    TLT_ASSERT_CLOSE(counts[k] / (double)n, 1.0 / 7, 0.03, 1.0);
  ck_assert_uint_eq(tli_rng_below(&r, 1), 0);
}
END_TEST

START_TEST(rng_jump_gives_a_different_reproducible_stream) {
  tli_rng a, b;
  tli_rng_seed(&a, 5);
  tli_rng_seed(&b, 5);
  tli_rng_jump(&b);
  ck_assert_uint_ne(tli_rng_next(&a), tli_rng_next(&b));
  tli_rng c;
  tli_rng_seed(&c, 5);
  tli_rng_jump(&c);
  tli_rng_seed(&b, 5);
  tli_rng_jump(&b);
  for (int i = 0; i < 16; i++)
    ck_assert_uint_eq(tli_rng_next(&b), tli_rng_next(&c));
}
END_TEST

START_TEST(sgemm_matches_a_naive_product) {
  enum { M = 5, N = 3, K = 4 };
  float a[K * M], b[K * N], c[M * N];
  double want[M * N];
  for (int i = 0; i < K * M; i++)
    a[i] = (float)(i % 7) - 3.0f;
  for (int i = 0; i < K * N; i++)
    b[i] = 0.5f * (float)(i % 5) - 1.0f;
  for (int i = 0; i < M * N; i++)
    c[i] = 1.0f;
  /* C = 2 * A^T B + 0.5 C with A stored K x M. */
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < K; k++)
        s += (double)a[k * M + i] * b[k * N + j];
      want[i * N + j] = 2.0 * s + 0.5;
    }
  tli_sgemm(1, 0, M, N, K, 2.0f, a, M, b, N, 0.5f, c, N);
  TLT_ASSERT_ARRAY_CLOSE(c, want, M * N, 1e-6, 1.0);
  ck_assert_float_eq(tli_sdot(3, a, a), 9.0f + 4.0f + 1.0f);
}
END_TEST

START_TEST(dsyev_reconstructs_a_symmetric_matrix) {
  double a[9] = {4, 1, 2, 1, 3, 0, 2, 0, 5}, v[9], w[3];
  memcpy(v, a, sizeof a);
  TLT_ASSERT_OK(tli_dsyev(3, v, w));
  ck_assert(w[0] <= w[1] && w[1] <= w[2]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0;
      for (int k = 0; k < 3; k++)
        s += v[i * 3 + k] * w[k] * v[j * 3 + k];
      TLT_ASSERT_CLOSE(s, a[i * 3 + j], 1e-12, 1.0);
    }
}
END_TEST

START_TEST(dgesvd_reconstructs_a_rectangular_matrix) {
  double a[6] = {1, 2, 3, 4, 5, 6}, work[6], s[2], u[4], vt[6];
  memcpy(work, a, sizeof a);
  TLT_ASSERT_OK(tli_dgesvd(2, 3, work, s, u, vt));
  ck_assert(s[0] >= s[1]);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) {
      double r = 0;
      for (int k = 0; k < 2; k++)
        r += u[i * 2 + k] * s[k] * vt[k * 3 + j];
      TLT_ASSERT_CLOSE(r, a[i * 3 + j], 1e-12, 1.0);
    }
}
END_TEST

START_TEST(num_threads_round_trips) {
  TLT_ASSERT_FAILS(tl_set_num_threads(-3), TL_E_INVALID_ARG, "-3");
  TLT_ASSERT_OK(tl_set_num_threads(2));
  ck_assert_int_eq(tl_get_num_threads(), 2);
  TLT_ASSERT_OK(tl_set_num_threads(1));
  ck_assert_int_eq(tl_get_num_threads(), 1);
  /* More than OpenBLAS was built for is capped, and reported as such. */
  TLT_ASSERT_OK(tl_set_num_threads(1 << 30));
  ck_assert_int_ge(tl_get_num_threads(), 1);
  ck_assert_int_lt(tl_get_num_threads(), 1 << 30);
  TLT_ASSERT_OK(tl_set_num_threads(1));
}
END_TEST

/* The last-error message belongs to the thread that failed. */
static void *fail_in_thread(void *arg) {
  (void)arg;
  tl_set_num_threads(-7);
  return strstr(tl_last_error(), "-7") != NULL ? (void *)1 : NULL;
}

START_TEST(last_error_is_per_thread) {
  tl_clear_error();
  TLT_ASSERT_FAILS(tl_set_num_threads(0), TL_E_INVALID_ARG, "(got 0)");
  pthread_t t;
  void *saw_own = NULL;
  ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
  ck_assert_int_eq(pthread_join(t, &saw_own), 0);
  ck_assert_ptr_nonnull(saw_own);
  /* This thread still has its own message, untouched by the other. */
  ck_assert_ptr_nonnull(strstr(tl_last_error(), "(got 0)"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, status_strings_name_every_code);
  tcase_add_test(tc, last_error_is_never_null_and_names_the_argument);
  tcase_add_test(tc, long_messages_are_truncated_safely);
  tcase_add_test(tc, version_matches_the_headers);
  tcase_add_test(tc, allocator_rejects_bad_options);
  tcase_add_test(tc, allocations_go_through_the_hooks);
  tcase_add_test(tc, allocation_overflow_is_refused);
  tcase_add_test(tc, rng_matches_the_reference_algorithm);
  tcase_add_test(tc, rng_distributions_have_the_right_moments);
  tcase_add_test(tc, rng_jump_gives_a_different_reproducible_stream);
  tcase_add_test(tc, sgemm_matches_a_naive_product);
  tcase_add_test(tc, dsyev_reconstructs_a_symmetric_matrix);
  tcase_add_test(tc, dgesvd_reconstructs_a_rectangular_matrix);
  tcase_add_test(tc, num_threads_round_trips);
  tcase_add_test(tc, last_error_is_per_thread);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
