#include "kernels/embedding.h"

#include <assert.h>
#include <string.h>

size_t tli_embedding_find_bad_id(const int64_t *ids, size_t count,
                                 size_t vocab) {
  for (size_t i = 0; i < count; i++)
    if (ids[i] < 0 || (uint64_t)ids[i] >= (uint64_t)vocab)
      return i;
  return count;
}

void tli_embedding_forward(float *out, const float *weight,
                           const float *row_scale, const int64_t *ids,
                           size_t count, size_t dim) {
  assert(out != weight);
  for (size_t i = 0; i < count; i++) {
    const float *src = weight + (size_t)ids[i] * dim;
    float *dst = out + i * dim;
    if (!row_scale) {
      memcpy(dst, src, dim * sizeof *dst);
      continue;
    }
    const float s = row_scale[ids[i]];
    for (size_t j = 0; j < dim; j++)
      dst[j] = src[j] * s;
  }
}

void tli_embedding_backward(float *dweight, const float *dout,
                            const float *row_scale, const int64_t *ids,
                            size_t count, size_t dim, int64_t padding_idx) {
  for (size_t i = 0; i < count; i++) {
    if (padding_idx >= 0 && ids[i] == padding_idx)
      continue;
    float *dst = dweight + (size_t)ids[i] * dim;
    const float *src = dout + i * dim;
    const float s = row_scale ? row_scale[ids[i]] : 1.0f;
    if (s == 0.0f)
      continue; /* a dropped word: its gradient is exactly 0 */
    for (size_t j = 0; j < dim; j++)
      dst[j] += src[j] * s;
  }
}
