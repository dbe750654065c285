/* Data-parallel language-model pretraining over MPI (libtl-mpi,
 * docs/distributed.md) on the shipped corpus data/nlp_corpus.txt.xz:
 *
 *   mpirun -np 2 build/examples/mpi_pretrain data/nlp_corpus.txt.xz
 *
 * Every rank reads the same sentences (one document each; a .xz file is
 * read through `xz -dc`), builds the same vocabulary and model, starts from
 * rank 0's parameters, reads its own shard of the batch stream
 * (tl_lm_loader_options.rank / world_size), and averages the gradient over
 * the ranks after each backward, so every rank takes the same AdamW step.
 * Rank 0 prints the loss (the mean over all ranks' batches) and, at the
 * end, the throughput; --save writes a checkpoint (rank 0) that --resume
 * continues exactly.
 *
 * Options (defaults run in a few seconds on one core per rank):
 *   --sentences N  first N sentences of the corpus (2000)
 *   --steps N      optimizer steps (30)
 *   --bs N         rows per rank (8)      --bptt N  window length (20)
 *   --emb N        embedding size (32)    --hidden N  LSTM size (64)
 *   --lr X         AdamW learning rate (3e-3)
 *   --bucket BYTES overlap the gradient allreduce with backward in buckets
 *                  of BYTES (tl_mpi_overlap); 0: one allreduce after
 *                  backward (0)
 *   --save PATH    checkpoint after the last step (rank 0 writes)
 *   --resume PATH  continue from a checkpoint of a run of the same size
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tl/mpi.h>
#include <tl/tl.h>

static int rank_;

/* Any failure ends the whole job: every libtl-mpi call has already made
 * every rank agree on it, and MPI_Abort stops ranks in other calls. CHECK
 * for libtl calls (tl_last_error), MPI_CHECK for libtl-mpi calls
 * (tl_mpi_last_error). */
#define FAIL_WITH(call, msg)                                                   \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      fprintf(stderr, "rank %d: %s failed: %s\n", rank_, #call, (msg)());      \
      MPI_Abort(MPI_COMM_WORLD, 1);                                            \
    }                                                                          \
  } while (0)
#define CHECK(call) FAIL_WITH(call, tl_last_error)
#define MPI_CHECK(call) FAIL_WITH(call, tl_mpi_last_error)

typedef struct args {
  const char *data, *save, *resume;
  size_t sentences, steps, bs, bptt, emb, hidden, bucket;
  double lr;
} args;

static args parse(int argc, char **argv) {
  args a = {NULL, NULL, NULL, 2000, 30, 8, 20, 32, 64, 0, 3e-3};
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    size_t *num = !strcmp(k, "--sentences") ? &a.sentences
                  : !strcmp(k, "--steps")   ? &a.steps
                  : !strcmp(k, "--bs")      ? &a.bs
                  : !strcmp(k, "--bptt")    ? &a.bptt
                  : !strcmp(k, "--emb")     ? &a.emb
                  : !strcmp(k, "--hidden")  ? &a.hidden
                  : !strcmp(k, "--bucket")  ? &a.bucket
                                            : NULL;
    if (num && v) {
      *num = (size_t)strtoull(v, NULL, 10);
      i++;
    } else if (!strcmp(k, "--lr") && v) {
      a.lr = strtod(v, NULL);
      i++;
    } else if (!strcmp(k, "--save") && v) {
      a.save = argv[++i];
    } else if (!strcmp(k, "--resume") && v) {
      a.resume = argv[++i];
    } else if (k[0] != '-' && a.data == NULL) {
      a.data = k;
    } else {
      if (rank_ == 0)
        fprintf(stderr, "usage: mpi_pretrain CORPUS[.xz] [--sentences N] "
                        "[--steps N] [--bs N] [--bptt N] [--emb N] "
                        "[--hidden N] [--lr X] [--bucket BYTES] [--save PATH] "
                        "[--resume PATH]\n");
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
  }
  if (a.data == NULL || a.sentences == 0 || a.bs == 0 || a.bptt == 0) {
    if (rank_ == 0)
      fprintf(stderr, "mpi_pretrain: a corpus path and non-zero sizes are "
                      "needed (--help: see the source's header)\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  return a;
}

/* The first n non-empty lines of path (through `xz -dc` for a .xz file). */
static size_t read_lines(char **texts, size_t *lens, size_t n,
                         const char *path) {
  const size_t pl = strlen(path);
  const int xz = pl > 3 && strcmp(path + pl - 3, ".xz") == 0;
  FILE *f;
  if (xz) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "xz -dc -- '%s'", path);
    f = popen(cmd, "r");
  } else {
    f = fopen(path, "r");
  }
  if (f == NULL) {
    perror(path);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  char line[8192];
  size_t k = 0;
  while (k < n && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0')
      continue;
    texts[k] = strdup(line);
    lens[k] = strlen(line);
    k++;
  }
  if (xz)
    pclose(f); /* xz may get SIGPIPE when we stop early: expected */
  else
    fclose(f);
  return k;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  tl_mpi *ctx = NULL;
  MPI_CHECK(tl_mpi_create(&ctx, MPI_COMM_WORLD));
  size_t rank, world;
  MPI_CHECK(tl_mpi_rank(&rank, ctx));
  MPI_CHECK(tl_mpi_size(&world, ctx));
  rank_ = (int)rank;
  const args a = parse(argc, argv);

  /* Text -> ids, the same on every rank (same file, same rules). */
  char **texts = calloc(a.sentences, sizeof *texts);
  size_t *lens = calloc(a.sentences, sizeof *lens);
  const size_t n_docs = read_lines(texts, lens, a.sentences, a.data);
  tl_text_corpus *corpus;
  CHECK(tl_text_corpus_tokenize(&corpus, (const char *const *)texts, lens,
                                n_docs, NULL, 1));
  tl_token_counts *counts;
  CHECK(tl_token_counts_create(&counts));
  CHECK(tl_token_counts_add_corpus(counts, corpus));
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = 2;
  tl_vocab *vocab;
  CHECK(tl_vocab_create_from_counts(&vocab, counts, &vo));
  size_t V;
  CHECK(tl_vocab_size(&V, vocab));
  int64_t **ids = calloc(n_docs, sizeof *ids);
  size_t *n_ids = calloc(n_docs, sizeof *n_ids), tokens = 0;
  for (size_t d = 0; d < n_docs; d++) {
    CHECK(tl_text_corpus_doc_len(&n_ids[d], corpus, d));
    ids[d] = malloc(n_ids[d] * sizeof **ids);
    CHECK(tl_vocab_encode_doc(ids[d], n_ids[d], vocab, corpus, d));
    tokens += n_ids[d];
  }

  /* This rank's shard of the stream: rows rank * bs .. rank * bs + bs - 1
   * of world * bs rows, the same window lengths on every rank. */
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = a.bs;
  lo.bptt = a.bptt;
  lo.seed = 42;
  lo.rank = rank;
  lo.world_size = world;
  tl_lm_loader *loader;
  CHECK(tl_lm_loader_create(&loader, (const int64_t *const *)ids, n_ids, n_docs,
                            V, &lo));

  /* AWD-LSTM in small: embedding, LSTM, locked dropout, projection, decoder
   * tied to the embedding. A per-rank seed gives each rank its own dropout
   * masks; the broadcast below makes the parameters rank 0's. */
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = 1 + rank;
  tl_model *m;
  CHECK(tl_model_create(&m, &mo));
  CHECK(tl_model_add_embedding(m, "emb", V, a.emb, NULL));
  CHECK(tl_model_add_lstm(m, "rnn", a.emb, a.hidden, 1, NULL));
  CHECK(tl_model_add_dropout(m, "drop", TL_DROPOUT_LOCKED, 0.1f));
  CHECK(tl_model_add_linear(m, "proj", a.hidden, a.emb, TL_ACTIVATION_NONE));
  CHECK(tl_model_add_decoder(m, "dec", a.emb, V, m, "emb"));
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAMW);
  oo.lr = a.lr;
  tl_optim *opt;
  CHECK(tl_optim_create(&opt, &m, 1, &oo));

  MPI_CHECK(tl_mpi_broadcast_params(ctx, m, 0)); /* checks the layouts first */
  tl_mpi_overlap *ov = NULL;
  if (a.bucket > 0)
    MPI_CHECK(tl_mpi_overlap_create(&ov, ctx, m, a.bucket));
  MPI_CHECK(tl_mpi_check_optim(ctx, opt));
  uint64_t start = 0;
  if (a.resume) {
    MPI_CHECK(tl_mpi_load(ctx, a.resume, m, opt, &start));
    MPI_CHECK(tl_mpi_lm_loader_skip(loader, start));
  }
  size_t n_params;
  float *unused;
  CHECK(tl_model_flat_params(&unused, &n_params, m));
  if (rank == 0)
    printf("%zu ranks, %zu sentences, %zu tokens, vocabulary %zu, %zu "
           "parameters; from step %llu\n",
           world, n_docs, tokens, V, n_params, (unsigned long long)start);

  float *dlogits = malloc((a.bptt + 50) * a.bs * V * sizeof *dlogits);
  double t0 = now(), loss_sum = 0.0, seen = 0.0;
  size_t n_sum = 0;
  double t_reduce = 0.0; /* in the allreduce, waiting for others included */
  for (uint64_t s = start; s < start + a.steps; s++) {
    const int64_t *x, *y;
    size_t T;
    CHECK(tl_lm_loader_next(&x, &y, &T, loader));
    if (T == 0) /* end of an epoch (on every rank at once): next one */
      CHECK(tl_lm_loader_next(&x, &y, &T, loader));
    const size_t dims[2] = {T, a.bs};
    const float *logits;
    size_t odims[4], ond;
    float loss;
    CHECK(tl_model_zero_grad(m));
    CHECK(tl_model_forward_ids(&logits, odims, &ond, m, x, dims, 2));
    CHECK(tl_cross_entropy(&loss, dlogits, logits, y, T * a.bs, V, -1));
    if (ov != NULL) { /* buckets start while backward runs */
      MPI_CHECK(tl_mpi_overlap_begin(ov, 1.0));
      const tl_status bs = tl_model_backward(NULL, m, dlogits, odims, ond);
      const double ta = now();
      MPI_CHECK(tl_mpi_overlap_finish(ov, bs)); /* the mean gradient */
      t_reduce += now() - ta;
    } else {
      CHECK(tl_model_backward(NULL, m, dlogits, odims, ond));
      const double ta = now();
      MPI_CHECK(tl_mpi_allreduce_grads(ctx, m, 1.0)); /* the mean gradient */
      t_reduce += now() - ta;
    }
    CHECK(tl_optim_step(opt));
    seen += (double)(T * a.bs * world);
    /* The loss over all ranks' rows (for printing only). */
    double mine = loss, all = 0.0;
    MPI_Reduce(&mine, &all, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    loss_sum += all / (double)world;
    n_sum++;
    if (rank == 0 && ((s + 1) % 10 == 0 || s + 1 == start + a.steps)) {
      printf("step %llu: loss %.4f (mean of the last %zu steps)\n",
             (unsigned long long)(s + 1), loss_sum / (double)n_sum, n_sum);
      loss_sum = 0.0;
      n_sum = 0;
    }
  }
  const double secs = now() - t0;
  MPI_CHECK(tl_mpi_check_params_in_sync(ctx, m)); /* no silent divergence */
  if (rank == 0)
    printf(
        "%zu ranks: %.0f tokens/s (%.1f ms/step, %.1f of them waiting for the "
        "gradient allreduce after backward, %.2f MB)\n",
        world, seen / secs, 1e3 * secs / (double)a.steps,
        1e3 * t_reduce / (double)a.steps, (double)n_params * 4.0 / 1e6);
  if (a.save) {
    MPI_CHECK(tl_mpi_save(ctx, a.save, m, opt, start + a.steps));
    if (rank == 0)
      printf("saved %s at step %llu\n", a.save,
             (unsigned long long)(start + a.steps));
  }

  free(dlogits);
  tl_mpi_overlap_free(ov);
  tl_optim_free(opt);
  tl_model_free(m);
  tl_lm_loader_free(loader);
  for (size_t d = 0; d < n_docs; d++) {
    free(ids[d]);
    free(texts[d]);
  }
  free(ids);
  free(n_ids);
  free(texts);
  free(lens);
  tl_vocab_free(vocab);
  tl_token_counts_free(counts);
  tl_text_corpus_free(corpus);
  tl_mpi_free(ctx);
  MPI_Finalize();
  return 0;
}
