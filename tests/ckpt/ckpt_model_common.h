/* Shared by the model-checkpoint tests (ckpt_model_io.c, ckpt_model_vocab.c,
 * ckpt_model_resume.c): the small LM they save and load, parameter
 * snapshots, load options with a report log. Defined in
 * ckpt_model_common.c. */
#ifndef CKPT_MODEL_COMMON_H
#define CKPT_MODEL_COMMON_H

#include "ckpt/ckpt_internal.h"
#include "fuzz_common.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"
#include "tl/sched.h"
#include "tl_test.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set in the re-executed --resume process, where Check's assertions cannot
 * report (they need a running test): failures print and exit instead. */
extern int in_child;

/* A call that must succeed (see in_child). */
#define OK(call)                                                               \
  do {                                                                         \
    const tl_status ok_s_ = (call);                                            \
    if (ok_s_ != TL_OK) {                                                      \
      if (in_child) {                                                          \
        fprintf(stderr, "%s: %s\n", #call, tl_last_error());                   \
        exit(1);                                                               \
      }                                                                        \
      ck_abort_msg("%s returned %s: %s", #call, tl_status_string(ok_s_),       \
                   tl_last_error());                                           \
    }                                                                          \
  } while (0)

/* The LM's vocabulary, embedding and hidden sizes, and the batch shape. */
#define V 12
#define E 6
#define H 8
#define T 5
#define B 3

/* What a load reported through tl_model_load_options.report. */
typedef struct report_log {
  int missing, unexpected;
  char last_missing[128], last_unexpected[128];
} report_log;

tl_model *build_lm_with(uint64_t seed, int stateful);
tl_model *build_lm(uint64_t seed);
void flat_copy(tl_model *m, float **out, size_t *n);
void assert_flat_equals(tl_model *m, const float *want, size_t n);
void on_report(void *payload, tl_load_issue issue, const char *name);
tl_model_load_options load_options(int strict, report_log *log);

/* ckpt_model_resume.c: the path of this binary, which the resume test
 * re-executes, and the second half of a resumed run in that process. */
extern const char *self_exe;
int resume_main(const char *ckpt_path, const char *out_path);

#endif
