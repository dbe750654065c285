/* Internal: the layer table. Each layer kind lives in one file
 * (lib/model/layer_<kind>.c) holding its public tl_model_add_<kind>, its
 * operations and its tli_layer_ops entry; the model (build, run), the
 * checkpoint code and everything else ask the table through
 * tli_layer_ops_for(kind) instead of testing for a kind. Adding a kind:
 * docs/model-and-optim.md, "Adding a layer kind".
 *
 * Also here: what the kinds share for building (argument checks, parameter
 * specs, tli_model_append_layer) and running (workspace helpers). */
#ifndef TLI_MODEL_LAYER_OPS_H
#define TLI_MODEL_LAYER_OPS_H

#include "model/model_internal.h"

/* Most settings a kind stores in a checkpoint's architecture section
 * (arch_values below; docs/format.md lists them per kind). */
#define TLI_ARCH_MAX_VALUES 16

/* Most parameters one layer registers (16 stacked recurrent layers with 4
 * tensors each). */
#define TLI_LAYER_MAX_PARAMS (4 * TLI_LSTM_MAX_LAYERS)

/* Most buffers one layer registers (BatchNorm: mean, variance, count). */
#define TLI_LAYER_MAX_BUFFERS 4

/* TLI_INIT_CONSTANT: every element `bound` (BatchNorm's weight 1, bias 0),
 * nothing drawn from the RNG, as torch. */
typedef enum tli_init_kind {
  TLI_INIT_UNIFORM,
  TLI_INIT_NORMAL,
  TLI_INIT_CONSTANT
} tli_init_kind;

/* One parameter a layer registers: "<layer>.<suffix>", its shape and its
 * PyTorch default initialisation. */
typedef struct tli_param_spec {
  char suffix[24];
  size_t ndim; /* 1 or 2 */
  size_t dims[2];
  tli_init_kind init;
  double bound; /* uniform: U(-bound, bound); constant: the value */
} tli_param_spec;

/* One buffer a layer registers: "<layer>.<suffix>", what it holds, its
 * size (1 for a count) and its initial value (every element). */
typedef struct tli_buffer_spec {
  char suffix[24];
  tli_buffer_kind kind;
  size_t numel;
  double init;
} tli_buffer_spec;

typedef struct tli_layer_ops {
  /* "lstm", "gru", ...: for messages. */
  const char *kind_name;
  /* Writes the layer's parameter specs (from its settings in L->cfg and
   * its in/out features) to specs (TLI_LAYER_MAX_PARAMS entries) and
   * returns how many. NULL: no parameters. */
  size_t (*register_params)(const tli_layer *L, tli_param_spec *specs);
  /* As register_params for buffers (TLI_LAYER_MAX_BUFFERS entries). NULL:
   * no buffers. */
  size_t (*register_buffers)(const tli_layer *L, tli_buffer_spec *specs);
  /* 1 for a normalisation layer: fastai's train_bn applies to it
   * (tl_model_set_train_bn). */
  int normalisation;
  /* Output dims for given input dims; TL_E_SHAPE with a message naming the
   * layer on a mismatch. */
  tl_status (*out_shape)(const tl_model *m, const tli_layer *L,
                         size_t *out_dims, size_t *out_ndim,
                         const size_t *in_dims, size_t in_ndim);
  /* Forward: L->in_dims/out_dims are set; x is the previous layer's output
   * (NULL for an ids layer, which reads ids). Sets L->y. No allocation once
   * the workspaces have grown to the shape. */
  tl_status (*forward)(tl_model *m, tli_layer *L, const float *x,
                       const int64_t *ids);
  /* Backward from dy (the layer's scratch to overwrite): accumulates the
   * trainable parameters' gradients and, when want_dx, writes L->dx. */
  tl_status (*backward)(tl_model *m, tli_layer *L, float *dy, int want_dx);
  /* Frees the workspaces only training needs (feature-extraction mode);
   * what inference uses stays. */
  void (*release_training)(tli_layer *L);
  /* A stateful layer's carried state: returns the number of vectors of
   * out_features per (stacked layer, batch row) (LSTM 2: h and c; GRU 1)
   * and sets *depth to the number of stacked layers; 0 when the layer
   * carries nothing. NULL: never carries state. */
  size_t (*carried_state)(const tli_layer *L, size_t *depth);
  /* A recurrent kind's number of state vectors per (stacked layer, batch
   * row), whether or not it is stateful (LSTM 2, GRU 1): the state a step
   * (tl_model_step) carries. 0: the kind has no recurrent state. */
  size_t state_parts;
  /* 1 for a kind that reduces over the time axis (concat pooling): it
   * cannot run one time step at a time (tl_model_step refuses it). */
  int whole_sequence;
  /* Non-NULL for a kind that takes int64 ids (it must come first): checks
   * them against the layer (the vocabulary) before anything runs. */
  tl_status (*check_ids)(const tl_model *m, const tli_layer *L,
                         const int64_t *ids, size_t n, const char *fn);

  /* The architecture section (tl_ckpt_store_arch, lib/ckpt/ckpt_arch.c).
   * arch_values writes the kind's settings (L->cfg) as numbers to v
   * (TLI_ARCH_MAX_VALUES entries) and returns how many; NULL: none. */
  size_t (*arch_values)(const tli_layer *L, double *v);
  /* The inverse: fills proto->cfg (kind, in and out features already set)
   * from v[0..n), checking the count and each value's domain (integers
   * integral and in range, floats finite) with TL_E_FORMAT; the add
   * function checks the rest. NULL: the kind takes no values. */
  tl_status (*arch_decode)(tli_layer *proto, const double *v, size_t n,
                           const char *fn);
  /* Appends the layer proto describes, named `name`, through the kind's
   * public add function (so every check of a hand-built model applies);
   * tie_model/tie_layer: a decoder's tie, else NULL. NULL: the kind cannot
   * be rebuilt, and tl_ckpt_store_arch refuses it. */
  tl_status (*arch_add)(tl_model *m, const tli_layer *proto, const char *name,
                        tl_model *tie_model, const char *tie_layer);
} tli_layer_ops;

/* The entry of a kind (kind < TLI_LAYER_KINDS). */
const tli_layer_ops *tli_layer_ops_for(tli_layer_kind kind);

extern const tli_layer_ops tli_layer_embedding_ops;
extern const tli_layer_ops tli_layer_lstm_ops;
extern const tli_layer_ops tli_layer_gru_ops;
extern const tli_layer_ops tli_layer_linear_ops;
extern const tli_layer_ops tli_layer_decoder_ops;
extern const tli_layer_ops tli_layer_dropout_ops;
extern const tli_layer_ops tli_layer_concat_pool_ops;
extern const tli_layer_ops tli_layer_batchnorm_ops;

/* ---- dispatch (layers.c) ---------------------------------------------- */

tl_status tli_layer_out_shape(const tl_model *m, const tli_layer *L,
                              size_t *out_dims, size_t *out_ndim,
                              const size_t *in_dims, size_t in_ndim);
tl_status tli_layer_forward(tl_model *m, tli_layer *L, const float *x,
                            const int64_t *ids);
tl_status tli_layer_backward(tl_model *m, tli_layer *L, float *dy, int want_dx);
void tli_layer_release_training(tli_layer *L);
/* The layer's carried-state parts and depth (0: it carries nothing now,
 * e.g. a stateless LSTM). */
size_t tli_layer_carried_state(const tli_layer *L, size_t *depth);

/* The parts of carried state a recurrent layer starts this forward from
 * and updates (depth set as by carried_state): its stateful option's
 * (tli_layer_carried_state) in a plain forward, ops->state_parts during a
 * step whatever the option, 0 during tl_model_step_prepare's dry run. */
size_t tli_layer_forward_carry(const tl_model *m, const tli_layer *L,
                               size_t *depth);

/* ---- helpers for the kinds -------------------------------------------- */

size_t tli_dims_prod(const size_t *d, size_t n);
/* Train mode in fine-tune mode: dropout and reserves are on. */
int tli_model_training(const tl_model *m);
/* Frees dx, mask, reserve and state0: the training-only buffers every kind
 * may use. */
void tli_layer_release_common_training(tli_layer *L);
/* The release_training of kinds that need no scratch at inference: the
 * common training buffers and work. */
void tli_layer_release_scratch(tli_layer *L);
/* The carried state of a stateful recurrent layer (parts * depth * B *
 * out_features floats, B = L->in_dims[1]), zeroed when the batch size
 * changed or after a reset. */
tl_status tli_layer_state_for_batch(tli_layer *L, size_t parts, size_t depth,
                                    float **out);

/* The linear layer's operations, shared with the decoder. */
tl_status tli_layer_linear_out_shape(const tl_model *m, const tli_layer *L,
                                     size_t *out_dims, size_t *out_ndim,
                                     const size_t *in_dims, size_t in_ndim);
tl_status tli_layer_linear_forward(tl_model *m, tli_layer *L, const float *x,
                                   const int64_t *ids);
tl_status tli_layer_linear_backward(tl_model *m, tli_layer *L, float *dy,
                                    int want_dx);

/* (T, B, in_features) -> (T, B, out_features): the recurrent kinds. */
tl_status tli_layer_recurrent_out_shape(const tl_model *m, const tli_layer *L,
                                        size_t *out_dims, size_t *out_ndim,
                                        const size_t *in_dims, size_t in_ndim);
/* torch's parameters of a stacked recurrent layer with `gates` gate blocks
 * (LSTM 4, GRU 3): weight_ih_l{k} (gates H, in), weight_hh_l{k} (gates H,
 * H), bias_ih_l{k}, bias_hh_l{k} (gates H), all U(-1/sqrt(H), 1/sqrt(H)).
 * Returns the number of specs written (4 per layer). */
size_t tli_layer_recurrent_params(const tli_layer *L, tli_param_spec *specs,
                                  size_t num_layers, size_t gates);

/* ---- architecture values (build.c) -------------------------------------- */

/* n must equal want, else TL_E_FORMAT naming the kind. */
tl_status tli_arch_count(size_t n, size_t want, const char *kind,
                         const char *fn);
/* v as an integer in [lo, hi] (integral, finite), else TL_E_FORMAT naming
 * the kind and the setting. */
tl_status tli_arch_int(int64_t *out, double v, int64_t lo, int64_t hi,
                       const char *kind, const char *what, const char *fn);
/* v as a float: finite and within float range, else TL_E_FORMAT. */
tl_status tli_arch_float(float *out, double v, const char *kind,
                         const char *what, const char *fn);

/* ---- building (build.c) ------------------------------------------------ */

/* Name valid and unused. */
tl_status tli_build_check_name(const tl_model *m, const char *name,
                               const char *fn);
/* in equals the previous layer's output size (when known). */
tl_status tli_build_check_chain(const tl_model *m, size_t in, const char *fn);
tl_status tli_build_check_prob(float p, const char *arg, const char *fn);
/* 1 <= v <= 2^30. */
tl_status tli_build_check_size(size_t v, const char *arg, const char *fn);
/* input_size, hidden_size and num_layers of a recurrent kind. */
tl_status tli_build_check_recurrent(size_t input_size, size_t hidden_size,
                                    size_t num_layers, const char *fn);
/* Feature size the next layer receives (0: unknown until forward). */
size_t tli_build_last_features(const tl_model *m);
/* A zeroed layer of the given kind, the prototype an add function fills. */
tli_layer tli_layer_proto(tli_layer_kind kind, size_t in_features,
                          size_t out_features);
/* Appends a layer copied from *proto, named `name`, with the parameters its
 * kind registers, initialised from the model's RNG, and the buffers it
 * registers. All memory is obtained first; on failure the model is
 * unchanged. */
tl_status tli_model_append_layer(tl_model *m, const tli_layer *proto,
                                 const char *name, const char *fn);

#endif
