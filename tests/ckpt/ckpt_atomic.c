/* Atomic saving: failures injected at every write, fsync and rename leave
 * the previous file byte-identical and no temporary file behind. */
#include "ckpt_file_common.h"

/* ---- atomic saving ------------------------------------------------------ */

/* File operations that fail at a chosen point. */
typedef struct failing_ops {
  size_t write_budget; /* bytes written before pwrite fails with ENOSPC */
  int fail_fsync, fail_rename;
} failing_ops;

static ssize_t failing_pwrite(void *payload, int fd, const void *buf, size_t n,
                              off_t offset) {
  failing_ops *f = payload;
  if (f->write_budget == 0) {
    errno = ENOSPC;
    return -1;
  }
  /* Partial writes, as a nearly full disk gives, exercise the retry loop. */
  const size_t take = n < f->write_budget ? n : f->write_budget;
  const size_t chunk = take > 100 ? 100 : take;
  f->write_budget -= chunk;
  return pwrite(fd, buf, chunk, offset);
}
static int failing_fsync(void *payload, int fd) {
  if (((failing_ops *)payload)->fail_fsync) {
    errno = EIO;
    return -1;
  }
  return fsync(fd);
}
static int failing_rename(void *payload, const char *from, const char *to) {
  if (((failing_ops *)payload)->fail_rename) {
    errno = EXDEV;
    return -1;
  }
  return rename(from, to);
}

START_TEST(failed_saves_leave_the_previous_file_intact) {
  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  tl_ckpt *old = golden_checkpoint();
  TLT_ASSERT_OK(tl_ckpt_save(old, path));
  unsigned char *before;
  size_t before_size;
  read_file(path, &before, &before_size);
  ck_assert_uint_eq(before_size, sizeof ckpt_golden_tiny);

  tl_ckpt *next = golden_checkpoint();
  TLT_ASSERT_OK(tl_ckpt_set_meta(next, "epoch", "2"));
  /* A dry run measures how many bytes a save writes. */
  char scratch[300];
  snprintf(scratch, sizeof scratch, "%s/scratch.tlc", dir);
  failing_ops measure = {SIZE_MAX, 0, 0};
  tli_ckpt_fileops measure_ops = {failing_pwrite, failing_fsync, failing_rename,
                                  &measure};
  TLT_ASSERT_OK(tli_ckpt_save_with(next, scratch, &measure_ops));
  unlink(scratch);
  const size_t written = SIZE_MAX - measure.write_budget;
  const struct {
    failing_ops ops;
    const char *word;
  } cases[] = {
      {{0, 0, 0}, "No space left"},           /* the very first write */
      {{300, 0, 0}, "No space left"},         /* halfway */
      {{written - 1, 0, 0}, "No space left"}, /* the last byte */
      {{SIZE_MAX, 1, 0}, "flushing"},         /* fsync */
      {{SIZE_MAX, 0, 1}, "renaming"},         /* rename */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    failing_ops f = cases[k].ops;
    tli_ckpt_fileops ops = {failing_pwrite, failing_fsync, failing_rename, &f};
    TLT_ASSERT_FAILS(tli_ckpt_save_with(next, path, &ops), TL_E_IO,
                     cases[k].word);
    unsigned char *after;
    size_t after_size;
    read_file(path, &after, &after_size);
    ck_assert_uint_eq(after_size, before_size);
    ck_assert_int_eq(memcmp(after, before, before_size), 0);
    free(after);
    ck_assert_msg(count_temp_files(dir) == 0, "case %zu left a temp file", k);
  }
  /* The same ops with no failure replace the file. */
  failing_ops ok = {SIZE_MAX, 0, 0};
  tli_ckpt_fileops ops = {failing_pwrite, failing_fsync, failing_rename, &ok};
  TLT_ASSERT_OK(tli_ckpt_save_with(next, path, &ops));
  tl_ckpt *back = NULL;
  const char *v = NULL;
  TLT_ASSERT_OK(tl_ckpt_load(&back, path, NULL));
  TLT_ASSERT_OK(tl_ckpt_get_meta(&v, back, "epoch"));
  ck_assert_str_eq(v, "2");
  ck_assert_int_eq(count_temp_files(dir), 0);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  /* Created under the process umask, then replaced: the mode it had. */
  const mode_t mask = umask(0);
  umask(mask);
  ck_assert_int_eq(st.st_mode & 0777, 0666 & ~mask);

  char missing[300];
  snprintf(missing, sizeof missing, "%s/no/such/dir/m.tlc", dir);
  TLT_ASSERT_FAILS(tl_ckpt_save(next, missing), TL_E_IO, "temporary file");
  /* A directory, or a device or FIFO, is never replaced by the rename. */
  char sub[300];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  TLT_ASSERT_FAILS(tl_ckpt_save(next, sub), TL_E_IO, "not a regular file");
  ck_assert_int_eq(stat(sub, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  rmdir(sub);
  char fifo[300];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  ck_assert_int_eq(mkfifo(fifo, 0644), 0);
  TLT_ASSERT_FAILS(tl_ckpt_save(next, fifo), TL_E_IO, "not a regular file");
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  unlink(fifo);
  ck_assert_int_eq(count_temp_files(dir), 0);
  /* Saving through a symbolic link replaces the file it points to and
   * leaves the link a link ("latest -> run3.tlc" keeps working). */
  char link[300];
  snprintf(link, sizeof link, "%s/latest.tlc", dir);
  ck_assert_int_eq(symlink(path, link), 0);
  tl_ckpt *empty = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&empty));
  TLT_ASSERT_OK(tl_ckpt_save(empty, link));
  tl_ckpt_free(empty);
  ck_assert_int_eq(lstat(link, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  tl_ckpt *via = NULL;
  size_t n_via = 1;
  TLT_ASSERT_OK(tl_ckpt_load(&via, path, NULL));
  TLT_ASSERT_OK(tl_ckpt_tensor_count(&n_via, via));
  ck_assert_uint_eq(n_via, 0); /* the target now holds the empty checkpoint */
  tl_ckpt_free(via);
  unlink(link);
  ck_assert_int_eq(count_temp_files(dir), 0);

  tl_ckpt_free(back);
  tl_ckpt_free(next);
  tl_ckpt_free(old);
  free(before);
  unlink(path);
  rmdir(dir);
}
END_TEST

TCase *ckpt_file_tcase_ckpt_atomic(void);
TCase *ckpt_file_tcase_ckpt_atomic(void) {
  TCase *tc = tcase_create("atomic_save");
  tcase_add_test(tc, failed_saves_leave_the_previous_file_intact);
  return tc;
}
