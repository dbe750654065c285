/* Internal: embedding lookup (torch nn.Embedding / F.embedding) with a
 * sparse backward, and the row scaling that implements embedding dropout.
 *
 * ids are int64 token ids, time-major (T, B) flattened to count = T * B;
 * out is (T, B, dim) = (count, dim); weight is (vocab, dim).
 *
 * Preconditions: every id is in [0, vocab). The model checks this with
 * tli_embedding_find_bad_id before calling; the kernels do not. */
#ifndef TLI_KERNELS_EMBEDDING_H
#define TLI_KERNELS_EMBEDDING_H

#include <stddef.h>
#include <stdint.h>

/* Position of the first id outside [0, vocab), or count when all are valid. */
size_t tli_embedding_find_bad_id(const int64_t *ids, size_t count,
                                 size_t vocab);

/* out[i] = weight[ids[i]] * (row_scale ? row_scale[ids[i]] : 1) for
 * i < count. As torch, the padding row is looked up like any other (it holds
 * whatever the weight holds there, zeros if initialised so). row_scale
 * (vocab floats) is an embedding-dropout mask from tli_dropout_mask (0 for a
 * dropped word, 1/(1-p) otherwise), or NULL for no dropout; it equals
 * fastai's EmbeddingDropout (weight * mask) without materialising the
 * scaled (vocab, dim) matrix. out must not alias weight. */
void tli_embedding_forward(float *out, const float *weight,
                           const float *row_scale, const int64_t *ids,
                           size_t count, size_t dim);

/* Sparse backward: dweight[ids[i]] += dout[i] * (row_scale ? row_scale[ids[i]]
 * : 1) for every i with ids[i] != padding_idx. Only rows of ids are touched
 * (ACCUMULATED; other rows are never read or written); the padding row gets
 * no gradient, as nn.Embedding(padding_idx=...). padding_idx < 0 means no
 * padding index. A repeated id sums its gradients. */
void tli_embedding_backward(float *dweight, const float *dout,
                            const float *row_scale, const int64_t *ids,
                            size_t count, size_t dim, int64_t padding_idx);

#endif
