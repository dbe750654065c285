/*
 * libtl model: an ordered stack of layers with named parameters in one flat
 * buffer, gradients in another, layer groups, freezing and trainable masks,
 * train/eval and fine-tune/feature-extraction modes.
 *
 * The host drives the loop (docs/architecture.md, "One training step"):
 *
 *     tl_model_forward(encoder) -> features -> tl_model_forward(head) -> y
 *     tl_model_backward(head, dy) -> dfeatures -> tl_model_backward(encoder)
 *     tl_optim_step (include/tl/optim.h)
 *
 * Models compose by passing activations and their gradients: one encoder can
 * serve several heads (multi-task), an LM decoder in one model can be tied to
 * the embedding of another model, and feature extraction is "encoder in
 * feature-extraction mode, forward only, features cached by the host".
 *
 * Parameters follow PyTorch's names and layouts: an LSTM layer "rnn" with two
 * layers has "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
 * "rnn.bias_hh_l0", ... "rnn.bias_hh_l1" (torch.nn.LSTM layout, gates i, f,
 * g, o); a linear or decoder layer "fc" has "fc.weight" (out, in) and
 * "fc.bias" (out); an embedding "emb" has "emb.weight" (num, dim).
 *
 * Views: pointers returned by tl_model_flat_params, tl_model_flat_grads,
 * tl_model_param_view, tl_model_param_name and tl_model_layer_name stay valid
 * until the model is freed or its structure changes. Only the tl_model_add_*
 * calls change the structure. Activation pointers returned by forward and
 * backward stay valid until the next forward, backward or mode change.
 *
 * Lifetime: models are reference counted. tl_model_free drops the caller's
 * reference; an optimizer (tl_optim_create) and a decoder tied to another
 * model's embedding each hold a reference, so the memory lives until the
 * last holder is freed and no optimizer can touch freed memory. Objects that
 * share a model must be used from one thread at a time.
 *
 * Thread-safety: one model (and everything sharing it) from one thread at a
 * time; distinct, unshared models from different threads at once.
 *
 * Errors common to every function below: TL_E_INVALID_ARG for a NULL
 * model or output pointer (the message names the argument), TL_E_NOT_FOUND
 * for an unknown parameter or layer name. A failing call changes nothing.
 */
#ifndef TL_MODEL_H
#define TL_MODEL_H

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque model handle: layers, parameters and gradients in two flat
 * buffers, groups, flags and workspaces. Created by tl_model_create,
 * reference counted (see "Lifetime" above). */
typedef struct tl_model tl_model;

/* The largest number of dimensions of a parameter or an activation. */
#define TL_MODEL_MAX_DIMS 4

/* The activation a linear layer applies after its affine map
 * (tl_model_add_linear). */
typedef enum tl_activation {
  /* Identity: y = x W^T + b. */
  TL_ACTIVATION_NONE = 0,
  /* max(z, 0), gradient 0 at z <= 0 (torch.relu). */
  TL_ACTIVATION_RELU = 1,
  /* tanh(z). */
  TL_ACTIVATION_TANH = 2,
  /* 1 / (1 + exp(-z)), computed without overflow. */
  TL_ACTIVATION_SIGMOID = 3
} tl_activation;

/* How a dropout layer draws its mask (tl_model_add_dropout). */
typedef enum tl_dropout_kind {
  /* Every element dropped independently, survivors scaled by 1/(1-p). */
  TL_DROPOUT_STANDARD = 0,
  /* Locked (variational) dropout on (T, B, F) input: one (B, F) mask per
   * forward, shared over time steps. On (B, F) input it is standard. */
  TL_DROPOUT_LOCKED = 1
} tl_dropout_kind;

/* What a model is used for (tl_model_set_mode): adapted by training, or a
 * fixed feature extractor. */
typedef enum tl_model_mode {
  /* Gradients flow into the trainable parameters; train() keeps activations
   * for backward. The default. */
  TL_MODEL_MODE_FINE_TUNE = 0,
  /* The model is a fixed feature extractor: always in eval mode, nothing is
   * trainable, no training workspace is kept (it is freed on entry),
   * tl_model_backward fails with TL_E_STATE. Freezing flags are kept and
   * apply again when the model returns to TL_MODEL_MODE_FINE_TUNE, which leaves
   * it in eval mode until tl_model_train. */
  TL_MODEL_MODE_FEATURE_EXTRACT = 1
} tl_model_mode;

/* Options of tl_model_create. */
#define TL_MODEL_OPTIONS_VERSION 1
typedef struct tl_model_options {
  unsigned int version; /* TL_MODEL_OPTIONS_VERSION */
  uint64_t seed;        /* initialisation and dropout masks (default 0) */
} tl_model_options;
/* The defaults of tl_model_options_init as a static initialiser:
 * tl_model_options o = TL_MODEL_OPTIONS_INIT; */
#define TL_MODEL_OPTIONS_INIT                                                  \
  { TL_MODEL_OPTIONS_VERSION, 0 }

/* Fills *out with defaults. Errors: TL_E_INVALID_ARG, TL_E_UNSUPPORTED. */
TL_API tl_status tl_model_options_init(tl_model_options *out,
                                       unsigned int version);

/* Creates an empty model (no layers) in train and fine-tune mode. options
 * NULL means defaults. The caller owns one reference: release it with
 * tl_model_free. Errors: TL_E_INVALID_ARG, TL_E_UNSUPPORTED, TL_E_NOMEM. */
TL_API tl_status tl_model_create(tl_model **out,
                                 const tl_model_options *options);

/* Drops the caller's reference; the model is destroyed when no optimizer
 * and no tied decoder holds it any more. NULL is a no-op. */
TL_API void tl_model_free(tl_model *model);

/* ------------------------------------------------------------------------
 * Building the stack. Each call appends one layer, named `name` (1 to 63
 * characters of [A-Za-z0-9_], unique in the model), in group number
 * "index of the layer" (change it with tl_model_set_group). Shapes must
 * chain: a layer's input size equals the previous layer's output size.
 * Parameters are initialised as PyTorch does (Linear, LSTM and GRU
 * U(-1/sqrt(fan), 1/sqrt(fan)), Embedding N(0, 1) with the padding row 0)
 * from the model's seed. These calls change the structure: they move the
 * flat buffers and invalidate views. Errors: TL_E_INVALID_ARG (bad name,
 * size, probability), TL_E_SHAPE (does not chain), TL_E_STATE (duplicate
 * name), TL_E_NOMEM.
 * ------------------------------------------------------------------------ */

/* Options of an embedding layer (tl_model_add_embedding). */
#define TL_EMBEDDING_OPTIONS_VERSION 1
typedef struct tl_embedding_options {
  unsigned int version; /* TL_EMBEDDING_OPTIONS_VERSION */
  int64_t padding_idx;  /* row kept at 0 and given no gradient; -1: none */
  float embed_p;        /* embedding dropout: whole rows dropped (0) */
} tl_embedding_options;
/* The defaults of tl_embedding_options_init as a static initialiser:
 * tl_embedding_options o = TL_EMBEDDING_OPTIONS_INIT; */
#define TL_EMBEDDING_OPTIONS_INIT                                              \
  { TL_EMBEDDING_OPTIONS_VERSION, -1, 0.0f }
/* Fills *out with the defaults: padding_idx -1 (none), embed_p 0. Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_embedding_options_init(tl_embedding_options *out,
                                           unsigned int version);

/* Embedding: int64 ids of any shape -> that shape + (dim). Must be the first
 * layer; the model then takes ids (tl_model_forward_ids). options NULL:
 * defaults. */
TL_API tl_status tl_model_add_embedding(tl_model *model, const char *name,
                                        size_t num_embeddings, size_t dim,
                                        const tl_embedding_options *options);

/* Options of an LSTM layer (tl_model_add_lstm): AWD-LSTM's dropouts and
 * activation regularisation, and stateful windows. */
#define TL_LSTM_OPTIONS_VERSION 1
typedef struct tl_lstm_options {
  unsigned int version; /* TL_LSTM_OPTIONS_VERSION */
  float weight_p;       /* DropConnect on weight_hh, one mask per forward (0) */
  float input_p;        /* locked dropout on the input sequence (0) */
  float hidden_p;       /* locked dropout between stacked layers (0) */
  float output_p;       /* locked dropout on the output sequence (0) */
  /* AWD-LSTM activation regularisation of the output (fastai
   * RNNRegularizer; 0 = off, fastai uses 2 and 1): AR = ar_alpha *
   * mean(y^2) on the output after output_p dropout, TAR = tar_beta *
   * mean((h_t - h_{t-1})^2) on the raw output. A train-mode forward
   * computes them (tl_model_aux_loss) and the next backward adds their
   * gradient, so the host adds the value to its loss and nothing else. */
  float ar_alpha;
  /* TAR weight (temporal activation regularisation), as above. */
  float tar_beta;
  /* 0: every forward starts from a zero state (a classifier's batches).
   * 1: each forward starts from the final (h, c) of the previous forward of
   * the same batch size (fastai's AWD-LSTM language model over consecutive
   * BPTT windows); backward stops at the window's start (truncated BPTT); a
   * new batch size or tl_model_reset_state starts from zeros again. */
  int stateful;
} tl_lstm_options;
/* The defaults of tl_lstm_options_init as a static initialiser:
 * tl_lstm_options o = TL_LSTM_OPTIONS_INIT; */
#define TL_LSTM_OPTIONS_INIT                                                   \
  { TL_LSTM_OPTIONS_VERSION, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0 }
/* Fills *out with the defaults: every probability 0, AR/TAR off, not
 * stateful (a plain torch.nn.LSTM). Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_lstm_options_init(tl_lstm_options *out,
                                      unsigned int version);

/* Multi-layer LSTM (torch.nn.LSTM, time-major): (T, B, input_size) ->
 * (T, B, hidden_size); zero initial state unless options->stateful. */
TL_API tl_status tl_model_add_lstm(tl_model *model, const char *name,
                                   size_t input_size, size_t hidden_size,
                                   size_t num_layers,
                                   const tl_lstm_options *options);

/* Options of tl_model_add_gru: AWD-LSTM's recurrent regularisers on a GRU
 * and stateful BPTT, as tl_lstm_options (fields below). */
#define TL_GRU_OPTIONS_VERSION 1
typedef struct tl_gru_options {
  unsigned int version; /* TL_GRU_OPTIONS_VERSION */
  float weight_p;       /* DropConnect on weight_hh, one mask per forward (0) */
  float hidden_p;       /* locked dropout between stacked layers (0) */
  /* 0: every forward starts from a zero state. 1: each forward starts from
   * the final h of the previous forward of the same batch size, backward
   * stops at the window's start (truncated BPTT), a new batch size or
   * tl_model_reset_state starts from zeros again (as tl_lstm_options). */
  int stateful;
} tl_gru_options;
/* Defaults for a static or automatic tl_gru_options (the values
 * tl_gru_options_init writes): tl_gru_options o = TL_GRU_OPTIONS_INIT; */
#define TL_GRU_OPTIONS_INIT                                                    \
  { TL_GRU_OPTIONS_VERSION, 0.0f, 0.0f, 0 }
/* Fills *out with the defaults: weight_p and hidden_p 0, not stateful (a
 * plain torch.nn.GRU). Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version outside 1..TL_GRU_OPTIONS_VERSION). */
TL_API tl_status tl_gru_options_init(tl_gru_options *out, unsigned int version);

/* Multi-layer GRU (torch.nn.GRU, time-major, unidirectional): (T, B,
 * input_size) -> (T, B, hidden_size). Parameters "<name>.weight_ih_l{k}"
 * (3H, in), "weight_hh_l{k}" (3H, H), "bias_ih_l{k}", "bias_hh_l{k}" (3H),
 * rows in gate order r, z, n:
 *   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) n + z h
 * initialised U(-1/sqrt(H), 1/sqrt(H)); num_layers in [1, 16]. Zero
 * initial state unless options->stateful. options NULL: defaults.
 * weight_p and hidden_p act in train mode only and are AWD-LSTM's (as in
 * tl_lstm_options): torch.nn.GRU's own `dropout` argument is element-wise
 * dropout between layers, which this layer does not offer. */
TL_API tl_status tl_model_add_gru(tl_model *model, const char *name,
                                  size_t input_size, size_t hidden_size,
                                  size_t num_layers,
                                  const tl_gru_options *options);

/* Linear (torch.nn.Linear) then an activation: (..., in) -> (..., out). */
TL_API tl_status tl_model_add_linear(tl_model *model, const char *name,
                                     size_t in_features, size_t out_features,
                                     tl_activation activation);

/* Options of tl_model_add_linear_ex: the activation and whether the layer
 * has a bias (fastai's LinBnDrop drops it after a BatchNorm, bias = not
 * bn). */
#define TL_LINEAR_OPTIONS_VERSION 1
typedef struct tl_linear_options {
  unsigned int version;     /* TL_LINEAR_OPTIONS_VERSION */
  tl_activation activation; /* after the affine map (TL_ACTIVATION_NONE) */
  int bias;                 /* 1: "<name>.bias" (out) is added; 0: none (1) */
} tl_linear_options;
/* The defaults of tl_linear_options_init as a static initialiser:
 * tl_linear_options o = TL_LINEAR_OPTIONS_INIT; */
#define TL_LINEAR_OPTIONS_INIT                                                 \
  { TL_LINEAR_OPTIONS_VERSION, TL_ACTIVATION_NONE, 1 }
/* Fills *out with the defaults: no activation, with a bias (what
 * tl_model_add_linear builds with TL_ACTIVATION_NONE). Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version outside
 * 1..TL_LINEAR_OPTIONS_VERSION). */
TL_API tl_status tl_linear_options_init(tl_linear_options *out,
                                        unsigned int version);

/* Linear with options (NULL: defaults): as tl_model_add_linear, and with
 * options->bias 0 the layer is y = act(x W^T), registering only
 * "<name>.weight" (out, in) (torch.nn.Linear(in, out, bias=False)), same
 * U(-1/sqrt(in), 1/sqrt(in)) initialisation. Errors: those of
 * tl_model_add_linear, TL_E_INVALID_ARG (bias not 0 or 1),
 * TL_E_UNSUPPORTED (options->version unknown). */
TL_API tl_status tl_model_add_linear_ex(tl_model *model, const char *name,
                                        size_t in_features, size_t out_features,
                                        const tl_linear_options *options);

/* Dropout of probability p in [0, 1): active in train mode only. Keeps the
 * shape. */
TL_API tl_status tl_model_add_dropout(tl_model *model, const char *name,
                                      tl_dropout_kind kind, float p);

/* Options of tl_model_add_batchnorm1d (torch.nn.BatchNorm1d's arguments;
 * track_running_stats is always on and momentum=None, the cumulative
 * average, is not offered). */
#define TL_BATCHNORM_OPTIONS_VERSION 1
typedef struct tl_batchnorm_options {
  unsigned int version; /* TL_BATCHNORM_OPTIONS_VERSION */
  /* Weight of the new batch statistic in the running statistics'
   * update, in [0, 1] (0.1). */
  double momentum;
  /* Added to the variance before the square root, finite and > 0
   * (1e-5). */
  double eps;
  /* 1: a learnable per-feature weight (ones) and bias (zeros); 0: none
   * (1). */
  int affine;
} tl_batchnorm_options;
/* The defaults of tl_batchnorm_options_init as a static initialiser:
 * tl_batchnorm_options o = TL_BATCHNORM_OPTIONS_INIT; */
#define TL_BATCHNORM_OPTIONS_INIT                                              \
  { TL_BATCHNORM_OPTIONS_VERSION, 0.1, 1e-5, 1 }
/* Fills *out with the defaults: momentum 0.1, eps 1e-5, affine 1 (torch's).
 * Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version
 * unknown). */
TL_API tl_status tl_batchnorm_options_init(tl_batchnorm_options *out,
                                           unsigned int version);

/* BatchNorm1d (torch.nn.BatchNorm1d, fastai's classifier head: BatchNorm1d
 * -> dropout -> linear): (..., num_features) -> same shape. Input (B, F)
 * normalises each feature over the B rows; any other (..., F) input is
 * taken as rows of its flattened leading dims, each feature normalised over
 * all of them (torch's (N, C, L) layout, channels in the middle, differs:
 * transpose such input to (N, L, C) first).
 *   train mode: y = (x - mean) / sqrt(var + eps) * weight + bias with the
 *     batch mean and biased variance, computed in double; then
 *     running_mean = (1 - momentum) running_mean + momentum mean,
 *     running_var  = (1 - momentum) running_var + momentum var_unbiased
 *     (var_unbiased = var * rows / (rows - 1)), num_batches_tracked += 1.
 *     It needs at least 2 rows (TL_E_SHAPE, torch's "Expected more than 1
 *     value per channel when training").
 *   eval mode: the running statistics replace the batch ones; nothing is
 *     updated. A layer of a frozen group while the model's train_bn is 0
 *     does the same in train mode (tl_model_set_train_bn).
 * Parameters "<name>.weight" (ones) and "<name>.bias" (zeros), when affine.
 * Buffers (not parameters: tl_model_num_buffers) "<name>.running_mean"
 * (zeros), "<name>.running_var" (ones) and "<name>.num_batches_tracked"
 * (0). A non-finite input element, or finite ones whose updated running
 * statistics would overflow float, give TL_E_NUMERIC and change no
 * statistic. options NULL: defaults. Errors as the other add calls, and
 * TL_E_INVALID_ARG for num_features 0, momentum outside [0, 1], eps not
 * finite or <= 0, affine not 0 or 1. */
TL_API tl_status tl_model_add_batchnorm1d(tl_model *model, const char *name,
                                          size_t num_features,
                                          const tl_batchnorm_options *options);

/* Masked concat pooling (ULMFiT): (T, B, H) -> (B, 3H) = [last, max, mean]
 * over the first lengths[b] steps of each sequence (set with
 * tl_model_set_lengths; by default every sequence has length T). */
TL_API tl_status tl_model_add_concat_pool(tl_model *model, const char *name);

/* Decoder: Linear (..., in) -> (..., out) with a bias. If tie_layer is not
 * NULL, the weight is the embedding `tie_layer` of tie_model (this model
 * when tie_model is NULL or model), which must be (out, in): the decoder
 * has only "name.bias" of its own; its weight gradient accumulates into the
 * embedding's gradient (in the other model's flat gradient buffer) and the
 * weight is updated by whichever optimizer holds that model. A tie to
 * another model holds a reference on it. Ties may not form a cycle between
 * models (TL_E_STATE). */
TL_API tl_status tl_model_add_decoder(tl_model *model, const char *name,
                                      size_t in_features, size_t out_features,
                                      tl_model *tie_model,
                                      const char *tie_layer);

/* ------------------------------------------------------------------------
 * Layers and groups
 * ------------------------------------------------------------------------ */

/* The number of layers into *out (0 for a new model). */
TL_API tl_status tl_model_num_layers(size_t *out, const tl_model *model);
/* The name of layer `index`; the string belongs to the model (a view). */
TL_API tl_status tl_model_layer_name(const char **out, const tl_model *model,
                                     size_t index);
/* The kind of layer `index` ("embedding", "lstm", "gru", "linear",
 * "dropout", "concat_pool", "decoder", "batchnorm1d"): a static string, the
 * kind's name in checkpoint architecture sections (docs/format.md). Errors:
 * TL_E_INVALID_ARG (NULL, index out of range). */
TL_API tl_status tl_model_layer_kind(const char **out, const tl_model *model,
                                     size_t index);
/* The index of the layer named `name`; TL_E_NOT_FOUND if none. */
TL_API tl_status tl_model_layer_index(size_t *out, const tl_model *model,
                                      const char *name);

/* Groups: every layer belongs to one group numbered from 0; the number of
 * groups is 1 + the largest group number (a group may hold no parameter).
 * Moving a layer to another group does not change the structure (views
 * remain valid). group must be < the number of layers. */
TL_API tl_status tl_model_set_group(tl_model *model, const char *layer,
                                    size_t group);
/* The group number of the layer named `layer` into *out. */
TL_API tl_status tl_model_get_group(size_t *out, const tl_model *model,
                                    const char *layer);
/* The number of groups into *out: 1 + the largest group number, 0 for a
 * model without layers. */
TL_API tl_status tl_model_num_groups(size_t *out, const tl_model *model);

/* fastai freezing: groups [n:] trainable, [:n] frozen; negative n counts
 * from the end (n = num_groups + n). |n| <= num_groups, else
 * TL_E_INVALID_ARG. These set the trainable flag of every parameter of the
 * groups concerned (per-parameter flags set before are overwritten; element
 * masks are kept), except that BatchNorm parameters stay trainable while
 * the model's train_bn is 1 (tl_model_set_train_bn). freeze() =
 * freeze_to(-1); unfreeze() = freeze_to(0). Optimizer state is not
 * touched: tl_optim_freeze_to resets it as fastai does. */
TL_API tl_status tl_model_freeze_to(tl_model *model, int64_t n);
/* fastai's freeze(): only the last group trainable (freeze_to(-1)).
 * TL_E_STATE for a model without layers. */
TL_API tl_status tl_model_freeze(tl_model *model);
/* fastai's unfreeze(): every group trainable (freeze_to(0)); element masks
 * stay. */
TL_API tl_status tl_model_unfreeze(tl_model *model);
/* Freezes (trainable 0) or thaws (1) every parameter of one group
 * (chain-thaw). */
TL_API tl_status tl_model_set_group_trainable(tl_model *model, size_t group,
                                              int trainable);
/* *out = 1 if any parameter of the group is trainable, else 0. */
TL_API tl_status tl_model_get_group_trainable(int *out, const tl_model *model,
                                              size_t group);

/* fastai's train_bn (Learner(train_bn=True), the default: 1). With 1,
 * group-level freezing (tl_model_freeze_to, tl_model_freeze,
 * tl_model_unfreeze, tl_model_set_group_trainable, and so
 * tl_optim_freeze_to and tl_optim_set_group_trainable) leaves the
 * parameters of BatchNorm layers trainable, and their running statistics
 * keep updating in train mode. With 0, a BatchNorm layer of a frozen group
 * has its weight and bias frozen and keeps its statistics: it normalises
 * with the running statistics even in train mode (fastai's BnFreeze), and
 * backward flows through that fixed affine map. Changing the setting
 * re-applies it at once to the BatchNorm layers of groups frozen before.
 * tl_model_set_param_trainable stays explicit: it sets the one flag it
 * names, whatever train_bn is, and does not freeze statistics.
 * tl_model_get_group_trainable does not count BatchNorm parameters that
 * train_bn keeps trainable in a frozen group. Errors: TL_E_INVALID_ARG
 * (train_bn not 0 or 1). */
TL_API tl_status tl_model_set_train_bn(tl_model *model, int train_bn);
/* The model's train_bn (1 or 0) into *out. */
TL_API tl_status tl_model_get_train_bn(int *out, const tl_model *model);

/* ------------------------------------------------------------------------
 * Parameters. Indices run over the model's own parameters in the order they
 * were added (a tied decoder's weight belongs to the embedding's model).
 * ------------------------------------------------------------------------ */

/* The number of the model's own parameter tensors into *out (an LSTM of L
 * layers has 4 L, a linear layer 2). */
TL_API tl_status tl_model_num_params(size_t *out, const tl_model *model);
/* Name of parameter `index` (a view owned by the model). */
TL_API tl_status tl_model_param_name(const char **out, const tl_model *model,
                                     size_t index);
/* Index of the parameter named `name`; TL_E_NOT_FOUND if none. */
TL_API tl_status tl_model_param_index(size_t *out, const tl_model *model,
                                      const char *name);
/* Shape (dims[0..ndim)) and number of elements of a parameter. out_dims
 * holds TL_MODEL_MAX_DIMS entries; unused ones are set to 1. */
TL_API tl_status tl_model_param_shape(size_t *out_ndim, size_t *out_dims,
                                      size_t *out_numel, const tl_model *model,
                                      const char *name);
/* Offset (in floats) of the parameter in the flat parameter buffer; its
 * gradient sits at the same offset in the flat gradient buffer. */
TL_API tl_status tl_model_param_offset(size_t *out, const tl_model *model,
                                       const char *name);
/* Zero-copy read/write views of a parameter and of its gradient (either out
 * may be NULL). Writing through the views is allowed. */
TL_API tl_status tl_model_param_view(float **out_data, float **out_grad,
                                     tl_model *model, const char *name);
/* Copies the n = numel values of a parameter out of the model into out
 * (get) or from values into the model (set). A wrong n gives TL_E_SHAPE;
 * set rejects NaN/Inf (TL_E_NUMERIC). */
TL_API tl_status tl_model_param_get(float *out, size_t n, const tl_model *model,
                                    const char *name);
/* Copies values[0..n) into parameter `name` (n must equal its numel, else
 * TL_E_SHAPE). Every value is checked first: a NaN or Inf gives
 * TL_E_NUMERIC and leaves the parameter unchanged. Allowed whether or not
 * the parameter is trainable. */
TL_API tl_status tl_model_param_set(tl_model *model, const char *name,
                                    const float *values, size_t n);

/* The flat buffers: every parameter of the model, contiguous, and every
 * gradient at the same offsets (what an allreduce or a custom optimizer
 * needs). Read/write views, valid until the structure changes. */
TL_API tl_status tl_model_flat_params(float **out, size_t *out_n,
                                      tl_model *model);
/* The flat gradient buffer and its length in floats (equal to the
 * parameter buffer's): a read/write view, valid until the structure
 * changes. backward adds into it; tl_model_zero_grad clears it. */
TL_API tl_status tl_model_flat_grads(float **out, size_t *out_n,
                                     tl_model *model);

/* Told by tl_model_backward which part of the flat gradient buffer is
 * final: the gradients at [offset, n) (n = the buffer's length) will not
 * change again in this backward, so they can be sent (an allreduce
 * overlapped with the rest of backward, as PyTorch DDP's buckets do).
 * Parameters are laid out in layer order, and backward runs the layers
 * from the last down, so offset only decreases within one backward, and
 * the last call of every backward that runs without error has offset 0.
 * It is called after each layer whose parameters start at offset and at
 * the end. The callback may read and write the gradients at [offset, n)
 * (until the next backward or tl_model_zero_grad), and must not call
 * into this model. payload is the one given with it. */
typedef void (*tl_grad_ready_fn)(void *payload, const tl_model *model,
                                 size_t offset);
/* Sets (fn not NULL) or clears (fn NULL) the model's gradient-ready
 * callback, one per model; a new one replaces the old. It survives
 * structural changes, but offsets then refer to the new layout. */
TL_API tl_status tl_model_set_grad_ready_callback(tl_model *model,
                                                  tl_grad_ready_fn fn,
                                                  void *payload);

/* Layout fingerprint: what processes training one model together (data
 * parallelism, tl/mpi.h) compare before they exchange flat buffers. The
 * layout is a canonical text, one line per layer ("layer <index> <name>
 * <kind> group <g> in <in_features> out <out_features>", " tied" for a
 * decoder tied to an embedding) followed by one line per parameter of that
 * layer ("param <name> f32 [<dims>] offset <offset in the flat buffer>"),
 * after the header line "tl-layout 1". Two models with equal layouts have
 * flat buffers that match element for element. Values, trainable flags,
 * masks, modes and the RNG are not part of it. The fingerprint is the
 * 64-bit FNV-1a hash of that text: equal layouts give equal fingerprints
 * on every platform; unequal ones differ but for a 2^-64 chance, and
 * tl_model_layout_describe gives the text to find where. */
TL_API tl_status tl_model_layout_fingerprint(uint64_t *out,
                                             const tl_model *model);
/* The layout text above, NUL-terminated in out[0..cap); *out_len (may be
 * NULL) receives its length without the NUL. out NULL with cap 0 only
 * measures. Errors: TL_E_INVALID_ARG (model NULL, out NULL with cap > 0,
 * cap too small, naming the bytes needed; out is then untouched). */
TL_API tl_status tl_model_layout_describe(char *out, size_t cap,
                                          size_t *out_len,
                                          const tl_model *model);

/* Per-parameter trainable flag (1 trainable, 0 frozen). Frozen parameters
 * get no gradient where the kernels can skip it, no optimizer update and no
 * weight decay. */
TL_API tl_status tl_model_set_param_trainable(tl_model *model, const char *name,
                                              int trainable);
/* The trainable flag of parameter `name` into *out (1 or 0), as last set by
 * tl_model_set_param_trainable or freezing; element masks and the model's
 * mode are not reflected. */
TL_API tl_status tl_model_get_param_trainable(int *out, const tl_model *model,
                                              const char *name);
/* Per-element trainable mask: mask[i] != 0 marks element i trainable (n must
 * equal numel; the mask is copied). Masked-out elements get no update, no
 * weight decay, no optimizer state change and do not count in the gradient
 * norm. mask NULL (n 0) removes the mask. Example: train only the embedding
 * rows of words new to the target vocabulary. Errors: TL_E_SHAPE (n is not
 * numel). */
TL_API tl_status tl_model_set_param_mask(tl_model *model, const char *name,
                                         const uint8_t *mask, size_t n);

/* Sets the element mask of parameter `name` from a mask over its first
 * dimension: rows[r] != 0 makes row r trainable (every element of it),
 * 0 frozen (tl_model_set_param_mask). n_rows must equal that dimension;
 * rows NULL (n_rows 0) removes the mask. Errors: TL_E_INVALID_ARG,
 * TL_E_NOT_FOUND, TL_E_SHAPE, TL_E_NOMEM. */
TL_API tl_status tl_model_set_row_mask(tl_model *model, const char *name,
                                       const uint8_t *rows, size_t n_rows);

/* ------------------------------------------------------------------------
 * Buffers: state of a layer that is not a parameter, such as a BatchNorm
 * layer's "<name>.running_mean", "<name>.running_var" (float, one per
 * feature) and "<name>.num_batches_tracked" (an int64 count, a scalar).
 * Buffers live outside the flat parameter and gradient buffers: no
 * optimizer, weight decay, gradient clipping or gradient norm sees them.
 * Checkpoints store and restore them with the parameters
 * (tl_ckpt_store_model). Indices run over the model's buffers in the order
 * the layers registered them; names and views stay valid as parameter
 * views do.
 * ------------------------------------------------------------------------ */

/* The number of buffers into *out (3 per BatchNorm layer, 0 for a model
 * without one). */
TL_API tl_status tl_model_num_buffers(size_t *out, const tl_model *model);
/* Name of buffer `index` (a view owned by the model). Errors:
 * TL_E_INVALID_ARG (index out of range). */
TL_API tl_status tl_model_buffer_name(const char **out, const tl_model *model,
                                      size_t index);
/* Shape and number of elements of a buffer: (num_features) for a running
 * statistic, ndim 0 (a scalar, numel 1) for a count, as torch's state_dict.
 * out_dims holds TL_MODEL_MAX_DIMS entries; unused ones are set to 1. Any
 * out may be NULL. */
TL_API tl_status tl_model_buffer_shape(size_t *out_ndim, size_t *out_dims,
                                       size_t *out_numel, const tl_model *model,
                                       const char *name);
/* A read-only zero-copy view of a float buffer (a running statistic), valid
 * until the model is freed or its structure changes; its values change with
 * every train-mode forward. Read-only because every write must be checked
 * (tl_model_buffer_set). Errors: TL_E_UNSUPPORTED for a count (read it with
 * tl_model_buffer_get). */
TL_API tl_status tl_model_buffer_view(const float **out, const tl_model *model,
                                      const char *name);
/* Copies the n = numel values of a buffer into out as doubles: a float
 * statistic exactly, a count exactly up to 2^53. Doubles rather than floats
 * so that one call serves the count too. Errors: TL_E_SHAPE (wrong n). */
TL_API tl_status tl_model_buffer_get(double *out, size_t n,
                                     const tl_model *model, const char *name);
/* Copies values[0..n) into buffer `name` (n must equal its numel, else
 * TL_E_SHAPE). Every value is checked first, and a failure changes
 * nothing: TL_E_NUMERIC for a value that is NaN, infinite or out of float
 * range, a negative variance (running_var), or a count that is not a whole
 * number in [0, 2^53]. Statistics are rounded to float. */
TL_API tl_status tl_model_buffer_set(tl_model *model, const char *name,
                                     const double *values, size_t n);

/* ------------------------------------------------------------------------
 * Modes, forward, backward
 * ------------------------------------------------------------------------ */

/* train: dropout active, activations kept for backward. eval: dropout off.
 * A model in TL_MODEL_MODE_FEATURE_EXTRACT mode refuses train (TL_E_STATE). */
TL_API tl_status tl_model_train(tl_model *model);
/* Eval mode: dropout off, nothing kept for backward; a pending train-mode
 * forward is forgotten, so tl_model_backward fails (TL_E_STATE) until the
 * next train-mode forward. Always allowed, also in feature-extraction mode. */
TL_API tl_status tl_model_eval(tl_model *model);
/* *out = 1 in train mode (and fine-tune mode), else 0. */
TL_API tl_status tl_model_is_training(int *out, const tl_model *model);
/* Switches between TL_MODEL_MODE_FINE_TUNE and
 * TL_MODEL_MODE_FEATURE_EXTRACT (see tl_model_mode): entering feature
 * extraction puts the model in eval mode and frees its training workspaces.
 * Errors: TL_E_INVALID_ARG (unknown mode). */
TL_API tl_status tl_model_set_mode(tl_model *model, tl_model_mode mode);
/* The model's mode into *out. */
TL_API tl_status tl_model_get_mode(tl_model_mode *out, const tl_model *model);

/* Sequence lengths for masked pooling: lengths[b] in [1, T] for each of the
 * batch sequences of the next forwards (valid steps first, padding after).
 * lengths NULL restores "every sequence full". Copied. */
TL_API tl_status tl_model_set_lengths(tl_model *model, const size_t *lengths,
                                      size_t batch);

/* Forward of float input x with dims[0..ndim): (T, B, F) for a stack that
 * starts with an LSTM, (B, F) or (T, B, F) for linear stacks. *out_y points
 * to the model's output buffer (valid until the next forward, backward or
 * mode change); its dims go to out_dims (TL_MODEL_MAX_DIMS entries) and
 * out_ndim. In train mode the activations needed by backward are kept.
 * Errors: TL_E_INVALID_ARG, TL_E_SHAPE, TL_E_STATE (no layers, or the model
 * takes ids), TL_E_NUMERIC (NaN/Inf in x), TL_E_NOMEM (first call at a
 * shape). After the first call at a shape nothing is allocated. */
TL_API tl_status tl_model_forward(const float **out_y, size_t *out_dims,
                                  size_t *out_ndim, tl_model *model,
                                  const float *x, const size_t *dims,
                                  size_t ndim);

/* Forward of int64 ids (a model whose first layer is an embedding): dims
 * (T, B) for a sequence model, or (B). Ids must lie in [0, num_embeddings)
 * (TL_E_INVALID_ARG). Otherwise as tl_model_forward. */
TL_API tl_status tl_model_forward_ids(const float **out_y, size_t *out_dims,
                                      size_t *out_ndim, tl_model *model,
                                      const int64_t *ids, const size_t *dims,
                                      size_t ndim);

/* Backward of the last forward (which must have run in train mode):
 * dy has the output's dims. Parameter gradients accumulate (+=) into the
 * flat gradient buffer (trainable parameters only); *out_dx (if out_dx is
 * not NULL and the model takes floats) points to the gradient w.r.t. the
 * forward's input, valid until the next forward, backward or mode change.
 * Passing out_dx NULL lets backward stop below the lowest trainable layer.
 * Errors: TL_E_STATE (no train-mode forward, feature-extraction mode),
 * TL_E_SHAPE, TL_E_NUMERIC (NaN/Inf in dy: nothing changed), TL_E_NOMEM
 * (only on the first backward at a shape, when a workspace cannot grow;
 * gradients may then hold part of this backward: zero them). */
TL_API tl_status tl_model_backward(const float **out_dx, tl_model *model,
                                   const float *dy, const size_t *dims,
                                   size_t ndim);

/* Forgets the carried state of every stateful LSTM or GRU layer, and the
 * streaming state of every recurrent layer (tl_model_step): the next
 * forward or step starts from zeros (fastai's reset(), e.g. at the start of
 * an epoch or of a validation pass). */
TL_API tl_status tl_model_reset_state(tl_model *model);

/* ------------------------------------------------------------------------
 * Streaming inference: one time step of B sequences per call (a keyboard's
 * next-word model, a sensor stream on a device). The model carries the
 * state of every LSTM and GRU layer from one step to the next, whether or
 * not the layer is stateful, runs in eval mode (no dropout) and writes the
 * step's output rows into a caller's array. After tl_model_step_prepare (or
 * the first step) at a batch size, a step allocates nothing.
 *
 * A step is the forward of a window of one time step: (1, B, in_features)
 * floats or (1, B) ids. Its output equals, bit for bit, that of
 * tl_model_forward / tl_model_forward_ids on the same window with every
 * recurrent layer stateful (so N steps give what N one-step forwards of a
 * stateful model give). A stateful layer's state is the one forwards carry:
 * a prompt can be fed by one forward of (T, B) and continued by steps, and
 * the steps' state by a forward. A layer that pools over time (concat
 * pooling) cannot run a step at a time (TL_E_UNSUPPORTED).
 *
 * A step forgets a pending train-mode forward (as any forward does) and
 * leaves the model's train/eval mode as it was. The outputs of the last
 * forward (tl_model_layer_output) become the step's. A new batch size, or
 * tl_model_reset_state, starts every sequence from zeros;
 * tl_model_reset_row starts one. Mode changes to feature extraction release
 * workspaces, so the next step may allocate again.
 * ------------------------------------------------------------------------ */

/* Prepares steps of `batch` sequences: grows every workspace to the
 * one-step shape (a dry run on zeros that leaves every carried state
 * unchanged) and writes the number of output floats per sequence to
 * *out_features (may be NULL), so the caller can allocate batch *
 * out_features floats for tl_model_step. in_features: the input width of a
 * model taking floats, 0 for a model taking ids. Errors: TL_E_INVALID_ARG
 * (NULL model, batch 0 or >= 2^31, in_features 0 for a float model or not
 * 0 for an ids model), TL_E_STATE (no layers), TL_E_SHAPE (in_features does
 * not chain), TL_E_UNSUPPORTED (a layer that pools over time), TL_E_NOMEM. */
TL_API tl_status tl_model_step_prepare(size_t *out_features, tl_model *model,
                                       size_t batch, size_t in_features);

/* One step of a model taking floats: x (batch, in_features) holds the next
 * input vector of each sequence; out (out_n = batch * out_features floats,
 * tl_model_step_prepare gives out_features) receives the output rows.
 * Errors: those of tl_model_step_prepare, TL_E_INVALID_ARG (x or out NULL,
 * out_n wrong), TL_E_STATE (the model takes ids), TL_E_NUMERIC (NaN/Inf in
 * x: nothing changed). The first step at a batch size may allocate
 * (TL_E_NOMEM). */
TL_API tl_status tl_model_step(float *out, size_t out_n, tl_model *model,
                               const float *x, size_t batch,
                               size_t in_features);

/* One step of a model taking ids (its first layer an embedding): ids[b] is
 * the next token of sequence b, in [0, num_embeddings). Otherwise as
 * tl_model_step; TL_E_STATE when the model takes floats. */
TL_API tl_status tl_model_step_ids(float *out, size_t out_n, tl_model *model,
                                   const int64_t *ids, size_t batch);

/* Starts sequence `row` of the carried state from zeros again in every
 * recurrent layer that holds a state for the current batch size (one
 * finished stream of a batch is replaced by a new one; the others go on).
 * Layers holding no state are left alone. Errors: TL_E_INVALID_ARG (NULL
 * model, row >= the batch size of a layer's carried state). */
TL_API tl_status tl_model_reset_row(tl_model *model, size_t row);

/* Sum of the AR/TAR penalties (tl_lstm_options) of the last train-mode
 * forward, 0 when none is on or the forward ran in eval mode. */
TL_API tl_status tl_model_aux_loss(double *out, const tl_model *model);

/* Sets the whole flat gradient buffer to 0. */
TL_API tl_status tl_model_zero_grad(tl_model *model);

/* ------------------------------------------------------------------------
 * Taps: heads reading any layer (multi-task learning with supervision at
 * different depths, Søgaard & Goldberg 2016, Hashimoto et al. 2017).
 * A head (another model) takes tl_model_layer_output of a lower layer as
 * its input; its input gradient goes back with tl_model_layer_output_grad;
 * the next tl_model_backward adds it where that layer's output gradient
 * arrives from above, so the gradients of several heads at several depths
 * accumulate into the shared layers in one backward pass. A stacked
 * recurrent layer (num_layers > 1) shows only its top output: build a
 * stack as single-layer layers to read each depth (tl/arch.h's AWD-LSTM
 * builders do).
 * ------------------------------------------------------------------------ */

/* The output of layer `layer` in the last forward (a view, valid until the
 * next forward, backward or mode change; in train mode after dropout, as
 * the next layer sees it): *out_y, its dims in out_dims
 * (TL_MODEL_MAX_DIMS entries, unused ones 1; may be NULL) and out_ndim
 * (may be NULL). Errors: TL_E_INVALID_ARG, TL_E_NOT_FOUND (no such
 * layer), TL_E_STATE (no forward yet). */
TL_API tl_status tl_model_layer_output(const float **out_y, size_t *out_dims,
                                       size_t *out_ndim, const tl_model *model,
                                       const char *layer);

/* Adds dy (the dims of layer `layer`'s output) to the gradient the next
 * tl_model_backward sends into that layer from above. Calls add up; the
 * next backward uses and forgets them, and so does the next forward. The
 * top layer may be tapped too (dy then adds to the backward's own dy).
 * Allocates only the first time a layer is tapped at a shape. Errors:
 * TL_E_INVALID_ARG, TL_E_NOT_FOUND, TL_E_STATE (no train-mode forward,
 * feature-extraction mode), TL_E_SHAPE (dims differ from the output's),
 * TL_E_NUMERIC (NaN/Inf in dy: nothing added). */
TL_API tl_status tl_model_layer_output_grad(tl_model *model, const char *layer,
                                            const float *dy, const size_t *dims,
                                            size_t ndim);

/* ------------------------------------------------------------------------
 * Losses the host computes on a head's output (pure functions, any thread)
 * ------------------------------------------------------------------------ */

/* Mean softmax cross-entropy of logits (n, c) against int64 targets, as
 * torch.nn.functional.cross_entropy(logits, targets, ignore_index=...,
 * reduction='mean'). *out_loss gets the loss; out_dlogits (n, c) if not NULL
 * is written with its gradient. Rows whose target is ignore_index do not
 * count; if every row is ignored the loss is 0 and the gradient 0 (torch
 * gives NaN). Errors: TL_E_INVALID_ARG (NULL, n or c 0, a target outside
 * [0, c) that is not ignore_index), TL_E_NUMERIC (NaN/Inf logits). */
TL_API tl_status tl_cross_entropy(float *out_loss, float *out_dlogits,
                                  const float *logits, const int64_t *targets,
                                  size_t n, size_t c, int64_t ignore_index);

/* Fraction of counted rows whose argmax (first on ties) equals the target.
 * Errors as tl_cross_entropy. */
TL_API tl_status tl_accuracy(float *out, const float *logits,
                             const int64_t *targets, size_t n, size_t c,
                             int64_t ignore_index);

#ifdef __cplusplus
}
#endif

#endif /* TL_MODEL_H */
