/* Internal: the layout of tl_model, shared by the lib/model sources and read by
 * lib/optim (which walks parameters, groups, trainable flags and masks).
 *
 * A model is an ordered array of layers and an ordered array of parameter
 * records; every parameter's values live at record.offset in one flat float
 * buffer and its gradient at the same offset in a second one. Layers own
 * grow-only workspaces (tli_buf) so that after the first forward/backward at
 * a shape nothing allocates. */
#ifndef TLI_MODEL_INTERNAL_H
#define TLI_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "tl/model.h"

#define TLI_NAME_MAX 64  /* layer names: up to 63 characters */
#define TLI_PNAME_MAX 96 /* parameter names: layer + "." + suffix */
#define TLI_LSTM_MAX_LAYERS 16

/* A grow-only float buffer: reallocated only when a larger size is asked. */
typedef struct tli_buf {
  float *p;
  size_t cap; /* in floats */
} tli_buf;

/* Makes b hold at least n floats (contents not kept). TL_E_NOMEM with a
 * message naming `what` on failure. */
tl_status tli_buf_reserve_discard(tli_buf *b, size_t n, const char *what);
void tli_buf_release(tli_buf *b);

typedef enum tli_layer_kind {
  TLI_LAYER_EMBEDDING = 0,
  TLI_LAYER_LSTM = 1,
  TLI_LAYER_LINEAR = 2,
  TLI_LAYER_DROPOUT = 3,
  TLI_LAYER_CONCAT_POOL = 4,
  TLI_LAYER_DECODER = 5
} tli_layer_kind;

typedef struct tli_param {
  char name[TLI_PNAME_MAX];
  size_t ndim;
  size_t dims[TL_MODEL_MAX_DIMS];
  size_t numel;
  size_t offset; /* into the flat buffers, in floats */
  size_t layer;  /* index of the owning layer */
  int trainable;
  uint8_t *mask; /* numel entries, 1 = trainable element; NULL: all */
} tli_param;

typedef struct tli_layer {
  tli_layer_kind kind;
  char name[TLI_NAME_MAX];
  size_t group;
  size_t first_param; /* index of its first parameter record */
  size_t n_params;
  size_t in_features;  /* last dim of the input; 0: any */
  size_t out_features; /* last dim of the output; 0: same as the input */

  /* configuration */
  tl_activation act;    /* linear */
  tl_dropout_kind drop; /* dropout */
  float p;              /* dropout p, embedding embed_p */
  int64_t padding_idx;  /* embedding */
  size_t num_layers;    /* lstm */
  tl_lstm_options lstm; /* lstm */
  tl_model *tie_model;  /* decoder: owner of the tied weight, or NULL */
  size_t tie_param;     /* decoder: index of the weight in tie_model */

  /* the last forward */
  const float *x; /* input of the last forward (the previous layer's y) */
  size_t in_ndim, in_dims[TL_MODEL_MAX_DIMS];
  const float *y;
  size_t out_ndim, out_dims[TL_MODEL_MAX_DIMS];

  /* workspaces */
  tli_buf out;        /* output */
  tli_buf dx;         /* gradient w.r.t. the input */
  tli_buf work;       /* scratch (linear dz, lstm backward workspace) */
  tli_buf mask;       /* dropout masks: standard, locked, embedding rows */
  tli_buf reserve;    /* lstm training reserve */
  tli_buf aux;        /* lstm: input copy after dropout, raw output, masks */
  tli_buf state;      /* stateful lstm: carried (h, c), 2 * L * B * H */
  tli_buf state0;     /* stateful lstm: the train forward's initial (h, c) */
  size_t state_batch; /* B of the carried state; 0: start from zeros */
  size_t *argmax;     /* pooling */
  size_t argmax_cap;
} tli_layer;

struct tl_model {
  int refs; /* the creator + optimizers + models tied to this one */
  tli_rng rng;
  int training;
  tl_model_mode mode;
  unsigned long structure; /* bumped by every structural change */

  tli_layer *layers;
  size_t n_layers;
  tli_param *params;
  size_t n_params;
  float *flat;
  float *grad;
  size_t numel;

  /* input of the last forward, copied (the caller may reuse its array) */
  tli_buf in_f;
  int64_t *in_ids;
  size_t in_ids_cap;
  size_t in_ndim, in_dims[TL_MODEL_MAX_DIMS];
  int have_train_forward; /* a train-mode forward awaits backward */
  int reg_pending;        /* AR/TAR gradient not yet added by a backward */
  double aux_loss;        /* AR + TAR of the last train forward */
  tli_buf dy;             /* copy of the caller's dy */

  size_t *lengths; /* pooling lengths, NULL: full */
  size_t n_lengths, lengths_cap;
};

/* Effective trainability: the flag, in fine-tune mode. */
int tli_param_is_trainable(const tl_model *m, size_t index);
/* The parameter record named `name`, or NULL. */
tli_param *tli_model_find_param(const tl_model *m, const char *name);
/* 1 + the largest group number (0 for an empty model). */
size_t tli_model_num_groups(const tl_model *m);
/* Takes one more reference. */
void tli_model_retain(tl_model *m);
/* Applies fastai freeze_to(n) (n already normalised to [0, num_groups]). */
void tli_model_apply_freeze_to(tl_model *m, size_t n);
void tli_model_set_group_flag(tl_model *m, size_t group, int trainable);

/* Layer kernels behind forward/backward (lib/model/layers.c). x has the
 * layer's input dims; each sets L->y and L->out_* and, in backward, writes
 * L->dx (when want_dx) from dy (which it may overwrite). */
tl_status tli_layer_forward(tl_model *m, tli_layer *L, const float *x,
                            const int64_t *ids);
tl_status tli_layer_backward(tl_model *m, tli_layer *L, float *dy, int want_dx);
/* Output dims of a layer for given input dims; TL_E_SHAPE with a message
 * on a mismatch. */
tl_status tli_layer_out_shape(const tl_model *m, const tli_layer *L,
                              size_t *out_dims, size_t *out_ndim,
                              const size_t *in_dims, size_t in_ndim);
/* The LSTM layer (lstm_layer.c), called by tli_layer_forward/backward. */
tl_status tli_lstm_layer_forward(tl_model *m, tli_layer *L, const float *x);
tl_status tli_lstm_layer_backward(tl_model *m, tli_layer *L, float *dy,
                                  int want_dx);
/* Frees the training-only workspaces (feature extraction). */
void tli_layer_release_training(tli_layer *L);
void tli_layer_release_all(tli_layer *L);

#endif
