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

/* Index into the layer table (layer_ops.h): every kind-specific behaviour is
 * an entry of tli_layer_ops, never a switch on the kind. */
typedef enum tli_layer_kind {
  TLI_LAYER_EMBEDDING = 0,
  TLI_LAYER_LSTM = 1,
  TLI_LAYER_LINEAR = 2,
  TLI_LAYER_DROPOUT = 3,
  TLI_LAYER_CONCAT_POOL = 4,
  TLI_LAYER_DECODER = 5,
  TLI_LAYER_GRU = 6,
  TLI_LAYER_BATCHNORM = 7,
  TLI_LAYER_KINDS = 8
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

/* What a buffer holds: it decides the checks of tl_model_buffer_set and of
 * a checkpoint load, and its storage. */
typedef enum tli_buffer_kind {
  TLI_BUFFER_STAT = 0,     /* float values, any finite (running_mean) */
  TLI_BUFFER_VARIANCE = 1, /* float values, finite and >= 0 (running_var) */
  TLI_BUFFER_COUNT = 2     /* one int64 count >= 0 (num_batches_tracked) */
} tli_buffer_kind;

/* A buffer: state a layer keeps that is not a parameter (a BatchNorm
 * layer's running statistics). Buffers live outside the flat parameter and
 * gradient buffers, so no optimizer, weight decay, clipping or gradient
 * norm ever sees them. */
typedef struct tli_buffer {
  char name[TLI_PNAME_MAX];
  tli_buffer_kind kind;
  size_t numel; /* 1 for a count */
  size_t layer; /* index of the owning layer */
  float *data;  /* numel floats, owned; NULL for a count */
  int64_t count;
} tli_buffer;

typedef struct tli_layer {
  tli_layer_kind kind;
  char name[TLI_NAME_MAX];
  size_t group;
  size_t first_param; /* index of its first parameter record */
  size_t n_params;
  size_t first_buffer; /* index of its first buffer record */
  size_t n_buffers;
  /* Its group was frozen by group-level freezing (freeze_to, freeze,
   * set_group_trainable): what tl_model_set_train_bn 0 acts on. */
  int frozen;
  size_t in_features;  /* last dim of the input; 0: any */
  size_t out_features; /* last dim of the output; 0: same as the input */

  /* A parameter borrowed from another model (a decoder tied to an
   * embedding): the owner, retained while this layer exists, or NULL; and
   * the index of the parameter in it. Generic so that freeing and the
   * "does backward train anything" test need not know the kind. */
  tl_model *tie_model;
  size_t tie_param;
  /* A linear layer without a bias (tl_linear_options.bias 0): it registers
   * only its weight. 0 for every other layer. */
  int no_bias;

  /* The kind's settings (only the member of L->kind is meaningful). */
  union {
    struct {
      size_t num_embeddings;
      int64_t padding_idx;
      float embed_p;
    } embedding;
    struct {
      size_t num_layers;
      tl_lstm_options o;
    } lstm;
    struct {
      size_t num_layers;
      tl_gru_options o;
    } gru;
    tl_activation act; /* linear; decoder: TL_ACTIVATION_NONE */
    struct {
      tl_dropout_kind kind;
      float p;
    } dropout;
    struct {
      double momentum, eps;
      int affine;
    } batchnorm;
  } cfg;
  /* Per kind, how the last forward ran, for its backward (batchnorm: 1 =
   * normalised with the batch statistics, 0 = with the running ones). */
  int forward_flags;

  /* the last forward */
  const float *x; /* input of the last forward (the previous layer's y) */
  size_t in_ndim, in_dims[TL_MODEL_MAX_DIMS];
  const float *y;
  size_t out_ndim, out_dims[TL_MODEL_MAX_DIMS];

  /* workspaces */
  tli_buf out;     /* output */
  tli_buf dx;      /* gradient w.r.t. the input */
  tli_buf work;    /* scratch (recurrent backward / inference) */
  tli_buf mask;    /* dropout masks: standard, locked, embedding rows */
  tli_buf reserve; /* recurrent layers' training reserve */
  /* tl_model_layer_output_grad: the gradient the next backward adds at this
   * layer's output (a head reading this depth), when tap_pending. */
  tli_buf tap;
  int tap_pending;
  tli_buf aux; /* per kind: lstm dropout buffers, gru layer outputs */
  /* Carried state of a stateful layer (ops->carried_state): parts * depth
   * * B * out_features floats, e.g. LSTM (h, c) per stacked layer. */
  tli_buf state;
  tli_buf state0;     /* the train forward's initial state, for backward */
  size_t state_batch; /* B of the carried state; 0: start from zeros */
  size_t *argmax;     /* pooling */
  size_t argmax_cap;
} tli_layer;

/* Which recurrent layers carry their state through a forward
 * (tli_layer_forward_carry). */
typedef enum tli_carry {
  TLI_CARRY_OPTION = 0, /* the stateful ones (a plain forward) */
  TLI_CARRY_ALL = 1,    /* every one (tl_model_step) */
  TLI_CARRY_NONE = 2    /* none (tl_model_step_prepare's dry run) */
} tli_carry;

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
  tli_buffer *buffers; /* in the order the layers registered them */
  size_t n_buffers;
  int train_bn; /* fastai's train_bn (tl_model_set_train_bn), default 1 */

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
  /* tl_model_set_grad_ready_callback: told during backward which tail of
   * the gradient buffer is final (NULL: none). */
  tl_grad_ready_fn grad_ready;
  void *grad_ready_payload;
  tli_carry carry; /* TLI_CARRY_OPTION but inside the step calls */
};

/* Effective trainability: the flag, in fine-tune mode. */
int tli_param_is_trainable(const tl_model *m, size_t index);
/* The parameter record named `name`, or NULL. */
tli_param *tli_model_find_param(const tl_model *m, const char *name);
/* The buffer record named `name`, or NULL. */
tli_buffer *tli_model_find_buffer(const tl_model *m, const char *name);
/* Checks values[0..n) for a buffer of `kind` (finite; a variance >= 0; a
 * count a whole number in [0, 2^53]): TL_E_NUMERIC naming fn, `what` and
 * the element. */
tl_status tli_buffer_check_values(tli_buffer_kind kind, const double *values,
                                  size_t n, const char *what, const char *fn);
/* 1 + the largest group number (0 for an empty model). */
size_t tli_model_num_groups(const tl_model *m);
/* Takes one more reference. */
void tli_model_retain(tl_model *m);
/* Applies fastai freeze_to(n) (n already normalised to [0, num_groups]):
 * groups below n frozen, except the parameters of normalisation layers
 * while train_bn is 1 (fastai's force_train). */
void tli_model_apply_freeze_to(tl_model *m, size_t n);
/* Freezes or thaws one group, with the same train_bn exception. */
void tli_model_set_group_flag(tl_model *m, size_t group, int trainable);

/* Frees every workspace of a layer (its kind's and the common ones). */
void tli_layer_release_all(tli_layer *L);

#endif
