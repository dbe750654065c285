/*
 * libtl-mpi: data-parallel training of one libtl model over MPI (a
 * companion library, built with -Dmpi=enabled or auto when meson finds MPI;
 * libtl itself never links MPI). See docs/distributed.md.
 *
 * Every rank builds the same model (tl_mpi_check_layout compares them),
 * starts from rank 0's parameters (tl_mpi_broadcast_params), reads its own
 * shard of the batches (tl_lm_loader_options.rank / world_size), runs
 * forward and backward, averages the flat gradient over the ranks
 * (tl_mpi_allreduce_grads) and takes the same optimizer step: the
 * parameters stay bit-identical on every rank without ever being sent
 * again. Rank 0 writes checkpoints (tl_mpi_save) that every rank resumes
 * from exactly (tl_mpi_load).
 *
 * Every function here is collective over the context's communicator: all
 * ranks call it, in the same order. A failure on any rank is agreed on
 * before returning, so every rank returns the same status and a message
 * naming the failing rank (tl_mpi_last_error), and no rank is left waiting
 * in a later collective for one that gave up. A rank that dies (crash,
 * MPI_Abort, kill) is handled by MPI itself: Open MPI's mpirun then
 * terminates every other rank of the job.
 *
 * A context is used by one thread at a time (MPI_THREAD_FUNNELED is
 * enough).
 */
#ifndef TL_MPI_H
#define TL_MPI_H

#include <mpi.h>

#include "tl/ckpt.h"
#include "tl/model.h"
#include "tl/optim.h"
#include "tl/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A data-parallel context (opaque): a duplicate of the caller's
 * communicator (so libtl-mpi's messages never match the caller's), its rank
 * and size, and the message of its last failure. */
typedef struct tl_mpi tl_mpi;

/* Creates a context over a duplicate of comm (collective: every rank of
 * comm calls it). MPI must be initialised. Errors: TL_E_INVALID_ARG (out
 * NULL, comm MPI_COMM_NULL, MPI not initialised), TL_E_NOMEM. */
TL_API tl_status tl_mpi_create(tl_mpi **out, MPI_Comm comm);
/* Frees the context and its communicator (collective, before
 * MPI_Finalize). NULL is a no-op. */
TL_API void tl_mpi_free(tl_mpi *ctx);

/* This process's rank in the context's communicator. */
TL_API tl_status tl_mpi_rank(size_t *out, const tl_mpi *ctx);
/* The number of processes (the world size of the loaders' options). */
TL_API tl_status tl_mpi_size(size_t *out, const tl_mpi *ctx);

/* The message of this thread's last failed tl_mpi_* call ("" if none):
 * the function, the failing rank and what was wrong, e.g.
 * "tl_mpi_check_layout: rank 2's model layout differs from rank 0's
 * (fingerprint 0x..., rank 0's 0x...): line 4: rank 0 has 'layer 1 rnn lstm
 * group 1 in 8 out 8', rank 2 has 'layer 1 rnn lstm group 1 in 8 out 12'". A
 * libtl call failing inside carries libtl's own message (tl_last_error). */
TL_API const char *tl_mpi_last_error(void);

/* Compares the layout fingerprints (tl_model_layout_fingerprint) of every
 * rank's model. Equal: TL_OK on every rank. Not equal: TL_E_STATE on every
 * rank, the message naming the lowest rank that differs from rank 0 and
 * the first line where their layout texts differ. */
TL_API tl_status tl_mpi_check_layout(tl_mpi *ctx, const tl_model *model);

/* Compares every rank's optimizer: number of groups, every group's
 * hyperparameters (tl_optim_get_group_hparam, bit for bit), the step count
 * and the state size (which differs between optimizer kinds). Not equal:
 * TL_E_STATE on every rank, naming the rank and the first difference. */
TL_API tl_status tl_mpi_check_optim(tl_mpi *ctx, const tl_optim *optim);

/* Copies rank `root`'s flat parameter buffer into every rank's model (the
 * layouts are checked first, as tl_mpi_check_layout). The model's RNG is
 * not sent: give each rank its own model seed so that dropout masks differ
 * between ranks, as they would between the rows of one large batch.
 * Errors: TL_E_INVALID_ARG (root outside the communicator), TL_E_STATE
 * (layouts differ). */
TL_API tl_status tl_mpi_broadcast_params(tl_mpi *ctx, tl_model *model,
                                         size_t root);

/* Replaces every rank's flat gradient by the weighted mean over the ranks:
 * g = sum_r weight_r g_r / sum_r weight_r (one MPI_Allreduce of the whole
 * buffer, in place, in chunks of at most 2^30 floats, plus one of the
 * weights). weight 1 on every rank is the plain mean, what a loss averaged
 * over equal shards needs (the LM stream); the number of examples of a
 * rank's batch gives the mean loss over a classifier's global batch. The
 * sum is taken in float32 in MPI's order, which is the same on every rank,
 * so every rank gets the same bits. Call it between tl_model_backward and
 * tl_optim_step (clipping, if any, after it). No allocation. Errors:
 * TL_E_INVALID_ARG (weight negative or not finite, the sum of weights 0).
 * The layouts must have been checked (tl_mpi_check_layout or
 * tl_mpi_broadcast_params): this call does not repeat the check on every
 * step. */
TL_API tl_status tl_mpi_allreduce_grads(tl_mpi *ctx, tl_model *model,
                                        double weight);

/* Compares a 64-bit hash of every rank's flat parameter bits: TL_OK when
 * all ranks hold bit-identical parameters, TL_E_STATE on every rank
 * (naming the first rank that differs from rank 0) when they have diverged.
 * Costs one small allgather: cheap enough to run every few hundred steps. */
TL_API tl_status tl_mpi_check_params_in_sync(tl_mpi *ctx,
                                             const tl_model *model);

/* Checkpoint metadata keys of tl_mpi_save. */
#define TL_MPI_META_WORLD_SIZE "tl_mpi.world_size"
/* The tensor of tl_mpi_save holding every rank's model RNG state: u8
 * (world_size, bytes), row r = rank r's RNG section as
 * tl_ckpt_store_model writes it. */
#define TL_MPI_RNG_TENSOR "tl_mpi.rng"

/* Writes a checkpoint of a data-parallel run to path, from rank 0 only
 * (atomically, tl_ckpt_save): the model (rank 0's parameters, which every
 * rank shares), the optimizer state (optim may be NULL), `step` (the
 * number of batches each rank has consumed, which tl_mpi_load returns to
 * position the loaders), the world size, and every rank's model RNG state,
 * so that dropout continues exactly on every rank. The other ranks send
 * their RNG state and write nothing; a failure to write (disk full) is
 * returned on every rank. Errors: TL_E_INVALID_ARG, TL_E_IO, TL_E_NOMEM,
 * TL_E_STATE. */
TL_API tl_status tl_mpi_save(tl_mpi *ctx, const char *path,
                             const tl_model *model, const tl_optim *optim,
                             uint64_t step);

/* Resumes from a checkpoint of tl_mpi_save: rank 0 reads and validates the
 * file and sends its bytes to every rank (so the other machines need no
 * shared file system); every rank restores the model's parameters (strict:
 * the same layout), its own RNG state, the optimizer state (optim may be
 * NULL) and sets *out_step (may be NULL). Errors, on every rank: those of
 * tl_ckpt_load (TL_E_IO, TL_E_FORMAT, ...) and tl_ckpt_restore_model,
 * TL_E_STATE (a checkpoint written by a run of another world size, naming
 * both sizes; one without tl_mpi_save's metadata). */
TL_API tl_status tl_mpi_load(tl_mpi *ctx, const char *path, tl_model *model,
                             tl_optim *optim, uint64_t *out_step);

/* Positions a loader after `n_batches` batches from its creation: restart,
 * then n_batches non-empty batches drawn (the empty end-of-epoch calls in
 * between are not counted). With the step of tl_mpi_load this puts every
 * rank's shard where the checkpointed run was. Local (not collective).
 * Errors: those of tl_lm_loader_restart and tl_lm_loader_next. */
TL_API tl_status tl_mpi_lm_loader_skip(tl_lm_loader *loader,
                                       uint64_t n_batches);

#ifdef __cplusplus
}
#endif

#endif
