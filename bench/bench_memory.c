/* Peak resident memory of training steps through the public API (issue 17,
 * item 5), single-threaded.
 *
 *   bench_memory lm V E H T B [steps]     an LM step: embedding V x E, LSTM
 *                                         E -> H, LSTM H -> E, decoder tied
 *                                         to the embedding, softmax
 *                                         cross-entropy over V, gradient
 *                                         clipping (0.1), Adam
 *   bench_memory lstm T B E H L [steps]   an LSTM(E, H, L) forward +
 *                                         backward with the input gradient
 *
 * Prints, in MiB: rss_start (the process before the model exists), rss_built
 * (model, optimizer and the host's arrays allocated, before any step), peak
 * (the process's high-water mark, VmHWM, after the steps) and step_delta =
 * peak - rss_start: the memory one training step needs on top of an empty
 * process, parameters, gradients and optimizer state included. Read by
 * bench/bench_memory.py, which runs torch's equivalent in its own process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl/tl.h"

static void check(tl_status st, const char *what) {
  if (st != TL_OK) {
    fprintf(stderr, "bench_memory: %s: %s\n", what, tl_last_error());
    exit(1);
  }
}

/* A /proc/self/status field (VmRSS, VmHWM) in MiB. */
static double status_mib(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kib = -1.0;
  const size_t k = strlen(key);
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, key, k) == 0 && line[k] == ':')
      kib = strtod(line + k + 1, NULL);
  if (f != NULL)
    fclose(f);
  return kib / 1024.0;
}

static void *must(void *p) {
  if (p == NULL) {
    fprintf(stderr, "bench_memory: out of memory\n");
    exit(1);
  }
  return p;
}

static void report(double start, double built) {
  const double peak = status_mib("VmHWM");
  printf("rss_start %.1f\nrss_built %.1f\npeak %.1f\nstep_delta %.1f\n", start,
         built, peak, peak - start);
}

static tl_optim *adam(tl_model *m) {
  tl_optim_options o;
  check(tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAM),
        "optim options");
  tl_optim *opt = NULL;
  check(tl_optim_create(&opt, &m, 1, &o), "optim_create");
  return opt;
}

static int bench_lm(size_t V, size_t E, size_t H, size_t T, size_t B,
                    int steps) {
  const double start = status_mib("VmRSS");
  tl_model *m = NULL;
  check(tl_model_create(&m, NULL), "create");
  check(tl_model_add_embedding(m, "emb", V, E, NULL), "embedding");
  check(tl_model_add_lstm(m, "rnn0", E, H, 1, NULL), "lstm 0");
  check(tl_model_add_lstm(m, "rnn1", H, E, 1, NULL), "lstm 1");
  check(tl_model_add_decoder(m, "dec", E, V, NULL, "emb"), "decoder");
  tl_optim *opt = adam(m);
  const size_t n = T * B;
  int64_t *ids = must(malloc(n * sizeof *ids));
  int64_t *targets = must(malloc(n * sizeof *targets));
  float *dlogits = must(malloc(n * V * sizeof *dlogits));
  for (size_t i = 0; i < n; i++) {
    ids[i] = (int64_t)((i * 7919) % V);
    targets[i] = (int64_t)((i * 104729 + 3) % V);
  }
  const double built = status_mib("VmRSS");
  const size_t dims[2] = {T, B}, ldims[3] = {T, B, V};
  for (int s = 0; s < steps; s++) {
    const float *logits = NULL;
    size_t od[TL_MODEL_MAX_DIMS], ond = 0;
    float loss = 0.0f;
    check(tl_optim_zero_grad(opt), "zero_grad");
    check(tl_model_forward_ids(&logits, od, &ond, m, ids, dims, 2), "forward");
    check(tl_cross_entropy(&loss, dlogits, logits, targets, n, V, -100),
          "cross_entropy");
    check(tl_model_backward(NULL, m, dlogits, ldims, 3), "backward");
    check(tl_optim_clip_grad_norm(NULL, opt, 0.1), "clip");
    check(tl_optim_step(opt), "step");
  }
  report(start, built);
  free(ids);
  free(targets);
  free(dlogits);
  tl_optim_free(opt);
  tl_model_free(m);
  return 0;
}

static int bench_lstm(size_t T, size_t B, size_t E, size_t H, size_t L,
                      int steps) {
  const double start = status_mib("VmRSS");
  tl_model *m = NULL;
  check(tl_model_create(&m, NULL), "create");
  check(tl_model_add_lstm(m, "rnn", E, H, L, NULL), "lstm");
  float *x = must(calloc(T * B * E, sizeof *x));
  float *dy = must(malloc(T * B * H * sizeof *dy));
  for (size_t i = 0; i < T * B * H; i++)
    dy[i] = (float)(i % 13) / 13.0f - 0.5f;
  for (size_t i = 0; i < T * B * E; i++)
    x[i] = (float)(i % 11) / 11.0f - 0.5f;
  const double built = status_mib("VmRSS");
  const size_t dims[3] = {T, B, E}, ydims[3] = {T, B, H};
  for (int s = 0; s < steps; s++) {
    const float *y = NULL, *dx = NULL;
    size_t od[TL_MODEL_MAX_DIMS], ond = 0;
    check(tl_model_zero_grad(m), "zero_grad");
    check(tl_model_forward(&y, od, &ond, m, x, dims, 3), "forward");
    check(tl_model_backward(&dx, m, dy, ydims, 3), "backward");
  }
  report(start, built);
  free(x);
  free(dy);
  tl_model_free(m);
  return 0;
}

static size_t arg(const char *s) { return (size_t)strtoull(s, NULL, 10); }

int main(int argc, char **argv) {
  check(tl_set_num_threads(1), "set_num_threads");
  if (argc >= 7 && strcmp(argv[1], "lm") == 0)
    return bench_lm(arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5]),
                    arg(argv[6]), argc > 7 ? atoi(argv[7]) : 3);
  if (argc >= 7 && strcmp(argv[1], "lstm") == 0)
    return bench_lstm(arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5]),
                      arg(argv[6]), argc > 7 ? atoi(argv[7]) : 3);
  fprintf(stderr, "usage: bench_memory lm V E H T B [steps]\n"
                  "       bench_memory lstm T B E H L [steps]\n");
  return 2;
}
