/* The pretraining command end to end on a tiny model: a run stopped after
 * its first epoch and started again ends with exactly the parameters of an
 * uninterrupted run; a resume state from other settings or a corrupt one is
 * not trusted (training starts over, with a message); bad paths give a
 * message and a non-zero exit.
 * Usage: test_pretrain PRETRAIN_BINARY DATA_DIR SCRATCH_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <tl/tl.h>

static int failures = 0;
#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static const char *bin, *data, *scratch;

/* Runs the pretraining command with the tiny settings and `extra`, its
 * stderr into scratch/log; returns the exit status (-1 if it crashed). */
static int run(const char *out, const char *extra) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "'%s' --data '%s' --out '%s' --max-units 30 --emb 12 --hid 16 "
           "--epochs 3 --bs 4 --bptt 12 --max-vocab 800 --threads 1 %s "
           "2>'%s/log' >/dev/null",
           bin, data, out, extra, scratch);
  int st = system(cmd);
  if (st == -1 || !WIFEXITED(st))
    return -1;
  return WEXITSTATUS(st);
}

static int log_has(const char *word) {
  char path[4096], buf[1 << 16];
  snprintf(path, sizeof path, "%s/log", scratch);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strstr(buf, word) != NULL;
}

static int exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f)
    fclose(f);
  return f != NULL;
}

/* Every tensor of a and b equal byte for byte, and the vocabularies. */
static int same_tensors(const char *a, const char *b) {
  tl_ckpt *ca = NULL, *cb = NULL;
  if (tl_ckpt_load(&ca, a, NULL) != TL_OK ||
      tl_ckpt_load(&cb, b, NULL) != TL_OK) {
    fprintf(stderr, "%s\n", tl_last_error());
    tl_ckpt_free(ca);
    return 0;
  }
  size_t na = 0, nb = 0, va = 0, vb = 0;
  tl_ckpt_tensor_count(&na, ca);
  tl_ckpt_tensor_count(&nb, cb);
  tl_ckpt_vocab_size(&va, ca);
  tl_ckpt_vocab_size(&vb, cb);
  int same = na == nb && na > 0 && va == vb && va > 0;
  for (size_t i = 0; same && i < na; i++) {
    tl_ckpt_tensor_desc da = TL_CKPT_TENSOR_DESC_INIT,
                        db = TL_CKPT_TENSOR_DESC_INIT;
    const void *pa, *pb;
    same = tl_ckpt_tensor_info(&da, ca, i) == TL_OK &&
           tl_ckpt_tensor_info(&db, cb, i) == TL_OK &&
           strcmp(da.name, db.name) == 0 && da.nbytes == db.nbytes &&
           tl_ckpt_tensor_data(&pa, ca, i) == TL_OK &&
           tl_ckpt_tensor_data(&pb, cb, i) == TL_OK &&
           memcmp(pa, pb, da.nbytes) == 0;
    if (!same)
      fprintf(stderr, "tensor %zu (%s) differs\n", i, da.name);
  }
  for (size_t i = 0; same && i < va; i++) {
    const char *ta, *tb;
    same = tl_ckpt_vocab_token(&ta, ca, i) == TL_OK &&
           tl_ckpt_vocab_token(&tb, cb, i) == TL_OK && strcmp(ta, tb) == 0;
  }
  tl_ckpt_free(ca);
  tl_ckpt_free(cb);
  return same;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PRETRAIN_BINARY DATA_DIR SCRATCH_DIR\n",
            argv[0]);
    return 2;
  }
  bin = argv[1], data = argv[2], scratch = argv[3];
  char whole[4096], parts[4096], resume[4200];
  snprintf(whole, sizeof whole, "%s/whole.tlc", scratch);
  snprintf(parts, sizeof parts, "%s/parts.tlc", scratch);
  snprintf(resume, sizeof resume, "%s.resume", parts);
  remove(whole);
  remove(parts);
  remove(resume);

  EXPECT(run(whole, "--fresh") == 0, "uninterrupted run");
  EXPECT(run(parts, "--fresh --stop-after 1") == 3, "stopped run");
  EXPECT(exists(resume) && !exists(parts), "a resume state and no result");
  EXPECT(run(parts, "") == 0, "resumed run");
  EXPECT(log_has("resuming after epoch 1"), "the resumed run said so");
  EXPECT(!exists(resume), "the resume state is removed at the end");
  EXPECT(same_tensors(whole, parts),
         "resumed and uninterrupted runs end with the same parameters");

  /* A resume state from other settings is not trusted. */
  EXPECT(run(parts, "--fresh --stop-after 1") == 3, "stopped run");
  EXPECT(run(parts, "--lr 0.001") == 0, "run with another rate");
  EXPECT(log_has("other settings"), "the mismatch is reported");
  EXPECT(!log_has("resuming"), "and not resumed from");

  /* A corrupt resume state is reported and training starts over. */
  FILE *f = fopen(resume, "wb");
  if (f) {
    fputs("not a checkpoint", f);
    fclose(f);
  }
  EXPECT(run(parts, "") == 0, "run over a corrupt resume state");
  EXPECT(log_has("ignoring"), "the corrupt state is reported");
  EXPECT(same_tensors(whole, parts), "and the run starts over");

  /* Bad paths: a message and a non-zero exit, never a crash. */
  EXPECT(run("/nonexistent/dir/out.tlc", "--fresh") == 1, "unwritable out");
  EXPECT(log_has("/nonexistent/dir"), "the path is named");
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "'%s' --data /nonexistent 2>'%s/log'", bin,
           scratch);
  int st = system(cmd);
  EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "missing data");
  EXPECT(log_has("brown.tsv.xz"), "the missing file is named");
  snprintf(cmd, sizeof cmd, "'%s' --epochs 0 2>'%s/log'", bin, scratch);
  st = system(cmd);
  EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 2, "bad option");
  if (failures)
    fprintf(stderr, "%d failures\n", failures);
  return failures ? 1 : 0;
}
