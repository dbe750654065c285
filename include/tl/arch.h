/*
 * libtl arch: fastai's AWD-LSTM models built from libtl layers (fastai 2.7,
 * text/models/awdlstm.py and core.py), and encoders saved and loaded with
 * their vocabulary. See docs/arch.md.
 *
 * A fastai model is one SequentialRNN; libtl builds it as separate models
 * that pass activations (include/tl/model.h), so that an encoder can be
 * saved, loaded and shared on its own and the learner's layer groups can
 * span models:
 *
 *   language model  = encoder (ids (T, B) -> (T, B, emb_sz)) + decoder
 *                     ((T, B, emb_sz) -> (T, B, vocab) logits, weight tied
 *                     to the encoder's embedding);
 *   classifier      = encoder (the same layers, reset before each batch,
 *                     see tl_awd_lstm_encoder_create) + head (fastai's
 *                     PoolingLinearClassifier, tl_pooling_linear_create;
 *                     both: tl_awd_lstm_clas_create).
 *
 * Layer names follow fastai's module names with '.' spelt '_' (libtl names
 * are [A-Za-z0-9_]), so parameter names map one to one onto a fastai state
 * dict:
 *
 *   encoder  "encoder"  embedding (vocab, emb_sz), padding_idx pad_token,
 *                       embed_p                      fastai 0.encoder
 *            "rnns_0" .. "rnns_{n_layers-1}"  one single-layer LSTM each:
 *                       emb_sz -> n_hid -> ... -> emb_sz, weight_p
 *                       DropConnect; input_p on rnns_0's input; hidden_p on
 *                       the output of every layer but the last
 *                                                     fastai 0.rnns.k.module
 *   decoder  "decoder"  bias (vocab) zeros, weight = encoder.weight
 *                                                     fastai 1.decoder
 *
 * so "rnns_1.weight_hh_l0" is fastai's "0.rnns.1.weight_hh_l0_raw",
 * "rnns_1.bias_ih_l0" its "0.rnns.1.module.bias_ih_l0" and "encoder.weight"
 * its "0.encoder.weight" (tl.checkpoint.from_torch(naming="fastai")).
 *
 * fastai's LM output dropout (LinearDecoder.output_dp, output_p) is the
 * output dropout of the last LSTM layer of the LM encoder, not a layer of
 * the decoder model: AR is computed on the dropped output and TAR on the raw
 * one (fastai's RNNRegularizer takes both from the decoder), and libtl's LSTM
 * layer computes both itself (tl_lstm_options), so the penalties equal
 * fastai's. The LM encoder is stateful: consecutive BPTT windows carry the
 * state (fastai's AWD_LSTM.hidden); reset it at each epoch with
 * tl_model_reset_state.
 *
 * Initialisation as fastai: the embedding (every row, the padding row too)
 * U(-0.1, 0.1) (AWD_LSTM.initrange), the LSTMs torch's default
 * U(-1/sqrt(H), 1/sqrt(H)), the decoder's bias zeros, all drawn from the
 * model's RNG seeded with options->seed.
 */
#ifndef TL_ARCH_H
#define TL_ARCH_H

#include "tl/core.h"
#include "tl/model.h"
#include "tl/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The configuration of an AWD-LSTM (fastai's awd_lstm_lm_config and
 * awd_lstm_clas_config), independent of the vocabulary. The five dropout
 * probabilities are multiplied by the builders' drop_mult, as fastai's
 * get_language_model and get_text_classifier do. */
#define TL_AWD_LSTM_OPTIONS_VERSION 1
typedef struct tl_awd_lstm_options {
  unsigned int version; /* TL_AWD_LSTM_OPTIONS_VERSION */
  size_t emb_sz;        /* embedding size and last LSTM's output: 400 */
  size_t n_hid;         /* hidden size of the other LSTM layers: 1152 */
  size_t n_layers;      /* LSTM layers, 1 to 16: 3 */
  int64_t pad_token;    /* padding id (no gradient; fastai's xxpad): 1 */
  float output_p;       /* LM: output dropout; classifier: head's first: 0.1 */
  float hidden_p;       /* between LSTM layers: 0.15 */
  float input_p;        /* on the embedded input: 0.25 */
  float embed_p;        /* whole embedding rows: 0.02 */
  float weight_p;       /* DropConnect on each weight_hh: 0.2 */
  float ar_alpha;       /* AR on the last layer's output (fastai alpha): 2 */
  float tar_beta;       /* TAR on the last layer's output (fastai beta): 1 */
  uint64_t seed;        /* initialisation and dropout masks: 0 */
} tl_awd_lstm_options;
/* The language-model defaults of tl_awd_lstm_options_init as a static
 * initialiser: tl_awd_lstm_options o = TL_AWD_LSTM_OPTIONS_INIT; */
#define TL_AWD_LSTM_OPTIONS_INIT                                               \
  {                                                                            \
    TL_AWD_LSTM_OPTIONS_VERSION, 400, 1152, 3, 1, 0.1f, 0.15f, 0.25f, 0.02f,   \
        0.2f, 2.0f, 1.0f, 0                                                    \
  }

/* Fills *out with fastai's language-model defaults (awd_lstm_lm_config):
 * emb_sz 400, n_hid 1152, n_layers 3, pad_token 1, output_p 0.1, hidden_p
 * 0.15, input_p 0.25, embed_p 0.02, weight_p 0.2, AR alpha 2, TAR beta 1
 * (fastai's TextLearner), seed 0. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version outside 1..TL_AWD_LSTM_OPTIONS_VERSION). */
TL_API tl_status tl_awd_lstm_options_init(tl_awd_lstm_options *out,
                                          unsigned int version);

/* Fills *out with fastai's classifier defaults (awd_lstm_clas_config):
 * as tl_awd_lstm_options_init but output_p 0.4, hidden_p 0.3, input_p 0.4,
 * embed_p 0.05, weight_p 0.5 (AR 2 and TAR 1 too: fastai's
 * text_classifier_learner is a TextLearner with the same RNNRegularizer).
 * Errors: as tl_awd_lstm_options_init. */
TL_API tl_status tl_awd_lstm_clas_options_init(tl_awd_lstm_options *out,
                                               unsigned int version);

/* Builds fastai's AWD-LSTM language model for a vocabulary of vocab_size
 * rows (get_language_model(AWD_LSTM, vocab_size, config, drop_mult)): the
 * stateful encoder and the tied decoder described above, in train mode.
 * options NULL: the LM defaults. drop_mult (finite, >= 0) scales the five
 * probabilities, each of which must then be below 1. Layer groups are
 * fastai's awd_lstm_lm_split within each model: rnns_k in group k of the
 * encoder and "encoder" in group n_layers (its last), "decoder" in group 0
 * of the decoder model; the learner joins the encoder's last group and the
 * decoder into one group spanning both models. The caller owns both
 * models (tl_model_free each; the decoder holds a reference to the
 * encoder). On error *out_encoder and *out_decoder are untouched. Errors:
 * TL_E_INVALID_ARG (NULL, vocab_size 0 or above 2^30, pad_token outside
 * [-1, vocab_size), a size 0, n_layers outside [1, 16], a probability
 * outside [0, 1) after drop_mult, AR/TAR negative), TL_E_UNSUPPORTED
 * (options->version), TL_E_NOMEM. */
TL_API tl_status tl_awd_lstm_lm_create(tl_model **out_encoder,
                                       tl_model **out_decoder,
                                       size_t vocab_size,
                                       const tl_awd_lstm_options *options,
                                       float drop_mult);

/* Builds the encoder of fastai's AWD-LSTM classifier (the AWD_LSTM inside
 * get_text_classifier's SentenceEncoder): the same layers and names as the
 * LM encoder but no output dropout on the last layer (fastai's classifier
 * drops after pooling, in the head), groups fastai's awd_lstm_clas_split
 * ("encoder" group 0, rnns_k group k + 1). Its LSTM layers are stateful so
 * that tl_doc_encoder (include/tl/predict.h) can encode long documents in
 * bptt chunks carrying the state, as fastai's SentenceEncoder does; a
 * training loop over independent batches calls tl_model_reset_state before
 * each batch (the learner does), so a batch of length T is one forward from
 * zeros: the same outputs as fastai's chunked encoding, with
 * back-propagation through the whole batch instead of fastai's truncation
 * at chunk starts (docs/arch.md). AR/TAR apply to the last layer's output
 * (fastai's TextLearner regularises the classifier too). options NULL:
 * the classifier defaults. Errors: as tl_awd_lstm_lm_create. */
TL_API tl_status tl_awd_lstm_encoder_create(tl_model **out, size_t vocab_size,
                                            const tl_awd_lstm_options *options,
                                            float drop_mult);

/* Most hidden layers of a classifier head (lin_ftrs entries). */
#define TL_ARCH_MAX_LIN_FTRS 64

/* Builds fastai's PoolingLinearClassifier as a head model taking the
 * encoder's (T, B, n_features) outputs to (B, n_classes) logits: masked
 * concat pooling "pool" ([last, max, mean], lengths from
 * tl_model_set_lengths), then with dims = [3 n_features] + lin_ftrs +
 * [n_classes], for each i fastai's LinBnDrop(dims[i], dims[i+1], p=ps[i]):
 * "layers_{i}_bn" BatchNorm1d(dims[i]) (weight ones, bias zeros),
 * "layers_{i}_drop" Dropout(ps[i]) (omitted when ps[i] is 0, as fastai),
 * "layers_{i}_lin" Linear(dims[i], dims[i+1]) without a bias (bias = not
 * bn), followed by ReLU except for the last (fastai's layers.i.0/1/2). ps
 * has n_lin_ftrs + 1 probabilities in [0, 1) (fastai's ps after
 * get_text_classifier prepended output_p); lin_ftrs may be NULL when
 * n_lin_ftrs is 0. Every layer is in group 0 (fastai's awd_lstm_clas_split:
 * the head is one group). Linear weights U(-1/sqrt(in), 1/sqrt(in)) from
 * the model's RNG seeded with seed. Errors: TL_E_INVALID_ARG (NULL, a size
 * 0 or above 2^30, n_lin_ftrs above TL_ARCH_MAX_LIN_FTRS, n_ps not
 * n_lin_ftrs + 1, a probability outside [0, 1)), TL_E_NOMEM. */
TL_API tl_status tl_pooling_linear_create(tl_model **out, size_t n_features,
                                          size_t n_classes,
                                          const size_t *lin_ftrs,
                                          size_t n_lin_ftrs, const float *ps,
                                          size_t n_ps, uint64_t seed);

/* Builds fastai's AWD-LSTM text classifier (get_text_classifier): the
 * encoder of tl_awd_lstm_encoder_create and the head of
 * tl_pooling_linear_create on emb_sz features, with fastai's defaults:
 * lin_ftrs NULL means [50] (n_lin_ftrs must then be 0; a non-NULL lin_ftrs
 * with n_lin_ftrs 0 means no hidden layer), ps NULL means 0.1 for each
 * hidden layer (else n_ps must equal the number of hidden layers), and the
 * head's first dropout is options->output_p * drop_mult (ps themselves are
 * not scaled, as fastai). options NULL: the classifier defaults. The head
 * is seeded with options->seed + 1. On error nothing is returned. Errors:
 * those of both builders. */
TL_API tl_status tl_awd_lstm_clas_create(
    tl_model **out_encoder, tl_model **out_head, size_t vocab_size,
    size_t n_classes, const tl_awd_lstm_options *options, float drop_mult,
    const size_t *lin_ftrs, size_t n_lin_ftrs, const float *ps, size_t n_ps);

/* ---- encoders with their vocabulary (fastai's save_encoder / load_encoder)
 */

/* Saves the parameters of encoder (a model whose first layer is an
 * embedding of vocab's size) with vocab's tokens as the checkpoint's
 * vocabulary, atomically (tl_ckpt_save), under their own names
 * ("encoder.weight", "rnns_0.weight_ih_l0", ...), with the encoder's
 * architecture (tl_ckpt_store_arch, prefix "") so that a program can
 * rebuild it from the file alone. Errors: TL_E_INVALID_ARG (NULL),
 * TL_E_SHAPE (the first parameter is not (vocab size, dim)), TL_E_IO,
 * TL_E_NOMEM. */
TL_API tl_status tl_encoder_save(const tl_model *encoder, const tl_vocab *vocab,
                                 const char *path);

/* Loads an encoder saved by tl_encoder_save (or any checkpoint of the same
 * parameter names with a vocabulary) into encoder, whose embedding has
 * vocab's rows. When the file's vocabulary differs from vocab, the
 * embedding rows are remapped first (tl_ckpt_remap_vocab, fastai's
 * match_embeds: a word found keeps its row, a new word gets the mean row);
 * out_is_new (may be NULL; vocab-size entries) receives 1 for the words the
 * file's vocabulary lacked. The load is strict: every parameter filled,
 * every tensor used; a failed load leaves the encoder as it was. Errors:
 * TL_E_INVALID_ARG (NULL), TL_E_IO, TL_E_FORMAT, TL_E_SHAPE (a tensor of
 * other sizes: the message names it; an embedding that is not vocab's
 * size), TL_E_NOT_FOUND (a missing or unexpected tensor; a file whose
 * embedding rows differ from vocab's without a vocabulary to remap),
 * TL_E_NOMEM. */
TL_API tl_status tl_encoder_load(tl_model *encoder, const tl_vocab *vocab,
                                 const char *path, uint8_t *out_is_new);

#ifdef __cplusplus
}
#endif

#endif /* TL_ARCH_H */
