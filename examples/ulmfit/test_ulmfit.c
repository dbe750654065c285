/* The ULMFiT pipeline end to end in its --quick form, and its answers to
 * bad input:
 *   - a missing data directory, a damaged or mismatched pretrained
 *     checkpoint (another format version, sizes that disagree with its
 *     tensors, not an LM at all), an unwritable work directory: a message
 *     and a non-zero exit, never a crash;
 *   - --quick --assert-transfer: the fine-tuned transfer beats the same
 *     classifier from scratch, the JSON has the fields;
 *   - run again, it reuses the cached encoders and result rows (the same
 *     numbers); a cached encoder from other settings or a damaged one is
 *     rebuilt, not trusted;
 *   - predict: the exported classifier on a text, and an empty text or a
 *     missing classifier refused with a message.
 * Usage: test_ulmfit ULMFIT_BINARY DATA_DIR SCRATCH_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
static char log_path[4096], out_path[4096];

/* Runs `ulmfit ARGS`, stderr into log_path and stdout into out_path;
 * returns the exit status (-1 if it crashed). */
static int run(const char *args) {
  char cmd[16384];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s' >'%s' </dev/null", bin, args,
           log_path, out_path);
  int st = system(cmd);
  if (st == -1 || !WIFEXITED(st))
    return -1;
  return WEXITSTATUS(st);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    buf[n] = 0;
  fclose(f);
  return buf;
}

static int file_has(const char *path, const char *word) {
  char *s = slurp(path);
  int found = s && strstr(s, word) != NULL;
  free(s);
  return found;
}
#define LOG_HAS(w) file_has(log_path, w)
#define OUT_HAS(w) file_has(out_path, w)

/* The number after the first "key": in a JSON text (NaN if absent): the
 * top-level fields come before the "runs" array, whose rows repeat some
 * names. */
static double json_number(const char *json, const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char *at = strstr(json, pat);
  return at ? strtod(at + strlen(pat), NULL) : 0.0 / 0.0;
}

/* The shipped checkpoint with its ulmfit.config changed (sizes that its
 * tensors contradict), or NULL config: written unchanged. */
static int write_variant(const char *src, const char *dst, const char *config) {
  tl_ckpt *ck = NULL;
  if (tl_ckpt_load(&ck, src, NULL) != TL_OK)
    return -1;
  int rc = 0;
  if (config && tl_ckpt_set_meta(ck, "ulmfit.config", config) != TL_OK)
    rc = -1;
  if (!rc && tl_ckpt_save(ck, dst) != TL_OK)
    rc = -1;
  tl_ckpt_free(ck);
  return rc;
}

/* dst = src with the byte at offset flipped. */
static int write_flipped(const char *src, const char *dst, long offset) {
  FILE *in = fopen(src, "rb");
  FILE *out = fopen(dst, "wb");
  int rc = in && out ? 0 : -1;
  long pos = 0;
  int c;
  while (!rc && (c = fgetc(in)) != EOF) {
    if (pos++ == offset)
      c ^= 0x5a;
    fputc(c, out);
  }
  if (in)
    fclose(in);
  if (out && fclose(out) != 0)
    rc = -1;
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s ULMFIT_BINARY DATA_DIR SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  bin = argv[1], data = argv[2], scratch = argv[3];
  snprintf(log_path, sizeof log_path, "%s/ulmfit_test.log", scratch);
  snprintf(out_path, sizeof out_path, "%s/ulmfit_test.out", scratch);
  char work[4096], json[4200], args[16384], shipped[4096], bad[4200];
  snprintf(work, sizeof work, "%s/ulmfit_test_work", scratch);
  snprintf(json, sizeof json, "%s/ulmfit_test.json", scratch);
  snprintf(shipped, sizeof shipped, "%s/ulmfit_lm.tlc", data);
  snprintf(bad, sizeof bad, "%s/ulmfit_test_bad.tlc", scratch);
  /* A fresh work directory: results from an earlier run of the suite
   * would make the first run below a cached one. */
  snprintf(args, sizeof args, "rm -rf '%s'", work);
  EXPECT(system(args) == 0, "cannot clear %s", work);

  /* ---- bad input ---- */
  snprintf(args, sizeof args, "--quick --data '%s/no_such_dir' --work '%s'",
           scratch, work);
  EXPECT(run(args) == 1 && LOG_HAS("data/README.md"),
         "a missing data directory is reported");

  snprintf(args, sizeof args, "--quick --data '%s' --work /proc/ulmfit_work",
           data);
  EXPECT(run(args) == 1 && LOG_HAS("work directory"),
         "an unusable work directory is reported");

  /* An altered header (the bytes after the 8-byte magic: the format
   * version, covered by the header CRC). */
  EXPECT(write_flipped(shipped, bad, 8) == 0, "cannot write %s", bad);
  snprintf(args, sizeof args,
           "--quick --data '%s' --work '%s' --pretrained '%s'", data, work,
           bad);
  EXPECT(run(args) == 1 && LOG_HAS("pretrained model"),
         "a checkpoint with an altered header is refused");
  /* A damaged tensor (a byte in the middle of the file). */
  EXPECT(write_flipped(shipped, bad, 10000000) == 0, "cannot write %s", bad);
  EXPECT(run(args) == 1 && LOG_HAS("pretrained model"),
         "a damaged checkpoint is refused");
  /* Sizes its tensors contradict. */
  EXPECT(write_variant(shipped, bad,
                       "epochs=3 emb=300 hid=512 layers=2 max_vocab=15000") ==
             0,
         "cannot write %s", bad);
  EXPECT(run(args) == 1 && LOG_HAS("encoder.weight"),
         "a checkpoint whose sizes do not match is refused, naming the "
         "tensor");
  /* Not a pretrained LM at all (no ulmfit.config). */
  {
    tl_ckpt *ck = NULL;
    EXPECT(tl_ckpt_create(&ck) == TL_OK && tl_ckpt_save(ck, bad) == TL_OK,
           "cannot write an empty checkpoint");
    tl_ckpt_free(ck);
  }
  EXPECT(run(args) == 1 && LOG_HAS("ulmfit.config"),
         "a checkpoint that is not a pretrained LM is refused");
  snprintf(args, sizeof args, "--quick --budgets 0x --work '%s'", work);
  EXPECT(run(args) == 2, "a bad option value is a usage error");

  /* ---- the quick pipeline ---- */
  snprintf(args, sizeof args,
           "--quick --assert-transfer --data '%s' --work '%s' --json '%s' "
           "--threads 2",
           data, work, json);
  int st = run(args);
  EXPECT(st == 0, "ulmfit --quick --assert-transfer exited %d (see %s)", st,
         log_path);
  char *j1 = slurp(json);
  EXPECT(j1 != NULL, "no JSON at %s", json);
  const char *fields[] = {"scratch_accuracy", "transfer_accuracy",
                          "bow_accuracy", "labels_per_class", "seconds"};
  for (size_t i = 0; j1 && i < sizeof fields / sizeof *fields; i++)
    EXPECT(json_number(j1, fields[i]) == json_number(j1, fields[i]),
           "the JSON lacks %s", fields[i]);
  EXPECT(j1 && strstr(j1, "\"feature_extraction_accuracy\": null"),
         "--quick does not run feature extraction: null, not a number");
  const double tr = j1 ? json_number(j1, "transfer_accuracy") : 0;
  const double sc = j1 ? json_number(j1, "scratch_accuracy") : 1;
  EXPECT(tr > sc && tr > 0.3, "transfer %.4f vs scratch %.4f", tr, sc);
  EXPECT(OUT_HAS("predict: ") && OUT_HAS("ulmfit"),
         "the run ends with the table and a prediction");

  /* Again: everything from the cache, the same numbers. */
  st = run(args);
  char *j2 = slurp(json);
  EXPECT(st == 0 && LOG_HAS("using the fine-tuned encoder cached"),
         "the second run reuses the cached encoders");
  EXPECT(j2 && json_number(j2, "transfer_accuracy") == tr &&
             json_number(j2, "scratch_accuracy") == sc,
         "the second run gives the same numbers");
  /* Each method's training starts with a "== method: ..." header. */
  EXPECT(!LOG_HAS("== ulmfit:") && !LOG_HAS("== scratch:"),
         "the second run takes its rows from the cache (it trained)");
  free(j2);

  /* A cached encoder from other settings (its key changed) is rebuilt; so
   * is a damaged one under the right key. */
  char enc[4300], key_path[4400];
  snprintf(enc, sizeof enc, "%s/encoder_finetuned.tlc", work);
  snprintf(key_path, sizeof key_path, "%s.key", enc);
  FILE *kf = fopen(key_path, "a");
  EXPECT(kf && fputs(" other", kf) >= 0 && fclose(kf) == 0, "cannot edit %s",
         key_path);
  st = run(args);
  EXPECT(st == 0 && LOG_HAS("from other inputs or settings: rebuilding"),
         "an encoder cached with another key is rebuilt (exit %d)", st);
  char damaged[4400];
  snprintf(damaged, sizeof damaged, "%s.damaged", enc);
  EXPECT(write_flipped(enc, damaged, 5000) == 0 && rename(damaged, enc) == 0,
         "cannot damage %s", enc);
  /* Without the cached rows the classifiers are trained again from the
   * rebuilt encoder: the same numbers (the pipeline is deterministic). */
  char runs[4300];
  snprintf(runs, sizeof runs, "%s/runs.tsv", work);
#if !defined(__SANITIZE_ADDRESS__)
  /* (Under the sanitizers, where training is several times slower, the
   * rows stay cached: the normal pass checks this determinism.) */
  EXPECT(remove(runs) == 0, "cannot remove %s", runs);
#endif
  st = run(args);
  EXPECT(st == 0 && LOG_HAS("damaged: rebuilding"),
         "a damaged cached encoder is rebuilt (exit %d)", st);
  char *j3 = slurp(json);
  EXPECT(j3 && json_number(j3, "transfer_accuracy") == tr,
         "the rebuilt encoder gives the same numbers");
  free(j3);
  free(j1);

  /* ---- predict ---- */
  snprintf(args, sizeof args,
           "predict --work '%s' 'The committee approved the bill after a "
           "long debate in the legislature.'",
           work);
  EXPECT(run(args) == 0 && OUT_HAS("->"), "predict classifies a text");
  snprintf(args, sizeof args, "predict --work '%s' ''", work);
  EXPECT(run(args) == 1 && LOG_HAS("empty"), "an empty text is refused");
  snprintf(args, sizeof args, "predict --work '%s'", work);
  EXPECT(run(args) == 1 && LOG_HAS("no text"),
         "predict with no text and an empty stdin says so");
  snprintf(args, sizeof args, "predict --work '%s/nowhere' 'some text'",
           scratch);
  EXPECT(run(args) == 1 && LOG_HAS("cannot load the classifier"),
         "predict without a classifier says so");

  remove(bad);
  if (failures)
    fprintf(stderr, "%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
