/* Which files checkpoints are read from and written as: loads refuse
 * FIFOs, devices and directories at once (no blocking open), saves honour
 * the umask for a new file and keep the mode of the file they replace. */
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>

#include "ckpt_file_common.h"

/* SIGALRM only interrupts: a load stuck in open(2) then returns EINTR
 * instead of hanging the suite, and the test fails on its message. */
static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig) {
  (void)sig;
  alarm_fired = 1;
}

/* Milliseconds since an arbitrary point. */
static double now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

START_TEST(loading_a_fifo_or_device_fails_at_once) {
  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char fifo[256];
  snprintf(fifo, sizeof fifo, "%s/f", dir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  struct sigaction sa, old_sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: open(2) returns EINTR */
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGALRM, &sa, &old_sa), 0);
  alarm_fired = 0;
  alarm(3);
  /* No writer ever opens the FIFO: a blocking open would wait forever. */
  const double t0 = now_ms();
  tl_ckpt *c = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, fifo, NULL), TL_E_IO, "not a regular file");
  ck_assert_ptr_null(c);
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_FAILS(tl_model_load(m, fifo, NULL), TL_E_IO, "not a regular file");
  /* A character device (readable, endless) and a directory the same way. */
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, "/dev/zero", NULL), TL_E_IO,
                   "not a regular file");
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, dir, NULL), TL_E_IO, "not a regular file");
  const double elapsed = now_ms() - t0;
  alarm(0);
  ck_assert_int_eq(sigaction(SIGALRM, &old_sa, NULL), 0);
  ck_assert_msg(!alarm_fired, "a load blocked until the alarm");
  ck_assert_msg(elapsed < 1000.0, "the loads took %.0f ms", elapsed);
  /* Nothing was consumed from the FIFO: a writer can still connect. */
  struct stat st;
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  /* The file behind a link to a regular file still loads. */
  char path[256], link[256];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  snprintf(link, sizeof link, "%s/latest", dir);
  tl_ckpt *g = golden_checkpoint();
  TLT_ASSERT_OK(tl_ckpt_save(g, path));
  ck_assert_int_eq(symlink(path, link), 0);
  TLT_ASSERT_OK(tl_ckpt_load(&c, link, NULL));
  tl_ckpt_free(c);
  tl_ckpt_free(g);
  tl_model_free(m);
  unlink(link);
  unlink(path);
  unlink(fifo);
  rmdir(dir);
}
END_TEST

/* The permission bits of path. */
static mode_t file_mode(const char *path) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return st.st_mode & 07777;
}

START_TEST(saves_honour_the_umask_and_keep_a_replaced_files_mode) {
  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  tl_ckpt *c = golden_checkpoint();
  const mode_t saved_mask = umask(0);
  /* A new file: 0666 less the umask, as open(2) and fopen would make it. */
  const mode_t masks[] = {022, 077, 002, 027, 0};
  for (size_t k = 0; k < sizeof masks / sizeof masks[0]; k++) {
    umask(masks[k]);
    TLT_ASSERT_OK(tl_ckpt_save(c, path));
    ck_assert_msg(file_mode(path) == (0666 & ~masks[k]),
                  "umask %03o gave mode %03o", (unsigned)masks[k],
                  (unsigned)file_mode(path));
    unlink(path);
  }
  /* Re-saving a private checkpoint under a permissive umask keeps it
   * private, and a shared one under umask 077 keeps it shared. */
  const mode_t modes[] = {0600, 0640, 0444, 0664, 0755};
  const mode_t umasks[] = {0, 077, 022, 077, 0};
  for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
    umask(022);
    TLT_ASSERT_OK(tl_ckpt_save(c, path));
    ck_assert_int_eq(chmod(path, modes[k]), 0);
    umask(umasks[k]);
    TLT_ASSERT_OK(tl_ckpt_save(c, path));
    ck_assert_msg(file_mode(path) == modes[k],
                  "re-saving a %03o file under umask %03o gave %03o",
                  (unsigned)modes[k], (unsigned)umasks[k],
                  (unsigned)file_mode(path));
    unlink(path);
  }
  /* Through a symbolic link the mode of the file it points to is kept (the
   * link's own bits mean nothing). */
  char link[256];
  snprintf(link, sizeof link, "%s/latest", dir);
  umask(022);
  TLT_ASSERT_OK(tl_ckpt_save(c, path));
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(symlink(path, link), 0);
  umask(0);
  TLT_ASSERT_OK(tl_ckpt_save(c, link));
  ck_assert_int_eq(file_mode(path), 0600);
  /* tl_model_save goes through the same path. */
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 2, 2, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_save(m, path));
  ck_assert_int_eq(file_mode(path), 0600);
  tl_model_free(m);
  umask(saved_mask);
  ck_assert_int_eq(count_temp_files(dir), 0);
  tl_ckpt_free(c);
  unlink(link);
  unlink(path);
  rmdir(dir);
}
END_TEST

TCase *ckpt_file_tcase_ckpt_file_kinds(void);
TCase *ckpt_file_tcase_ckpt_file_kinds(void) {
  TCase *tc = tcase_create("file_kinds_and_modes");
  tcase_add_test(tc, loading_a_fifo_or_device_fails_at_once);
  tcase_add_test(tc, saves_honour_the_umask_and_keep_a_replaced_files_mode);
  return tc;
}
