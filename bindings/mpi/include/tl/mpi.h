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
 * tl_optim_step (clipping, if any, after it), or use tl_mpi_overlap to
 * overlap it with backward. No allocation. Errors:
 * TL_E_INVALID_ARG (weight negative or not finite, the sum of weights 0).
 * The layouts must have been checked (tl_mpi_check_layout or
 * tl_mpi_broadcast_params): this call does not repeat the check on every
 * step. */
TL_API tl_status tl_mpi_allreduce_grads(tl_mpi *ctx, tl_model *model,
                                        double weight);

/* The gradient allreduce overlapped with backward, in buckets (PyTorch
 * DDP's scheme): the flat gradient is cut into buckets of bucket_bytes from
 * its end (the last layers' parameters), and each bucket's MPI_Iallreduce
 * starts as soon as backward has finished every layer it covers
 * (tl_model_set_grad_ready_callback), while the lower layers are still
 * being differentiated. A step:
 *
 *   tl_mpi_overlap_begin(ov, 1.0);
 *   s = tl_model_backward(NULL, model, dlogits, dims, ndim);
 *   s = tl_mpi_overlap_finish(ov, s);   // mean gradient, or an error
 *   tl_optim_step(optim);               // everywhere
 *
 * The result is the weighted mean of tl_mpi_allreduce_grads (the sums of
 * non-blocking and blocking collectives may be taken in another order, so
 * the two differ in the last bits; every rank gets the same bits either
 * way). How much is hidden depends on MPI's progress: Open MPI advances a
 * non-blocking collective only inside MPI calls, which libtl-mpi makes
 * (MPI_Testall) each time backward reports a layer. */
typedef struct tl_mpi_overlap tl_mpi_overlap;

/* Sets up overlapped allreduces for model (collective; the layouts are
 * checked first, as tl_mpi_check_layout) and installs the model's
 * gradient-ready callback, which it owns until tl_mpi_overlap_free. The
 * model's structure must not change afterwards. bucket_bytes: 4 to 2^32
 * (PyTorch's default is 25 MB); buckets are whole floats. Errors:
 * TL_E_INVALID_ARG, TL_E_STATE (layouts differ), TL_E_NOMEM. */
TL_API tl_status tl_mpi_overlap_create(tl_mpi_overlap **out, tl_mpi *ctx,
                                       tl_model *model, size_t bucket_bytes);
/* Clears the model's callback and frees the buckets (local). NULL is a
 * no-op. Not between begin and finish. */
TL_API void tl_mpi_overlap_free(tl_mpi_overlap *ov);
/* Arms the next backward with this rank's weight (as
 * tl_mpi_allreduce_grads). Local: a bad weight or a model whose structure
 * changed is returned here and again, agreed on every rank, by
 * tl_mpi_overlap_finish, which must follow every begin. */
TL_API tl_status tl_mpi_overlap_begin(tl_mpi_overlap *ov, double weight);
/* Completes the buckets (collective): starts those backward did not reach
 * (all of them after a failed backward, so every rank makes the same MPI
 * calls), waits for all, and leaves the weighted mean in the flat gradient.
 * backward_status is what tl_model_backward returned: a failure on any
 * rank (there, in begin or here) is returned on every rank, naming the
 * rank, and the gradient is then not usable. */
TL_API tl_status tl_mpi_overlap_finish(tl_mpi_overlap *ov,
                                       tl_status backward_status);

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
