/*
 * libtl text learners: fastai's language_model_learner and
 * text_classifier_learner (fastai 2.7, text/learner.py) on the AWD-LSTM
 * builders of tl/arch.h and the learner of tl/learn.h, with
 * save_encoder / load_encoder, export / load_learner, predict and
 * get_preds. See docs/arch.md ("Text learners").
 *
 * A tl_text_learner owns a tl_learner (fit, fit_one_cycle, freeze_to, ...:
 * use tl_text_learner_learner and the calls of tl/learn.h) and what fastai
 * keeps in the DataLoaders and exports with the learner: the vocabulary,
 * the tokenizer settings, the class labels.
 *
 * Thread-safety: one text learner (and everything it holds) from one
 * thread at a time.
 */
#ifndef TL_TEXT_LEARNER_H
#define TL_TEXT_LEARNER_H

#include "tl/arch.h"
#include "tl/core.h"
#include "tl/learn.h"
#include "tl/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A text learner (opaque): a tl_learner over the AWD-LSTM models, the
 * vocabulary, tokenizer settings, class labels and the document encoder
 * predict uses. Free with tl_text_learner_free. */
typedef struct tl_text_learner tl_text_learner;

/* The metadata keys an exported learner file holds (besides the label
 * vocabulary under TL_LABEL_VOCAB_META_KEY): what it is ("lm" or
 * "classifier"), the tokenizer options ("add_bos=1;add_eos=0;
 * replace_invalid=0"), the classifier's bptt and max_len (decimal), and
 * the learner's groups ("<model>.<layer>=<group>" joined by ';'). */
#define TL_TEXT_LEARNER_META_KIND "tl.learner.kind"
/* Metadata key of the tokenizer options of an exported learner. */
#define TL_TEXT_LEARNER_META_TOKENIZER "tl.learner.tokenizer"
/* Metadata key of the classifier's SentenceEncoder bptt (decimal). */
#define TL_TEXT_LEARNER_META_BPTT "tl.learner.bptt"
/* Metadata key of the classifier's max_len (decimal). */
#define TL_TEXT_LEARNER_META_MAX_LEN "tl.learner.max_len"
/* Metadata key of the learner's groups. */
#define TL_TEXT_LEARNER_META_GROUPS "tl.learner.groups"

/* fastai's language_model_learner(dls, AWD_LSTM, drop_mult, pretrained):
 * the AWD-LSTM LM of tl_awd_lstm_lm_create for vocab (awd NULL: the LM
 * defaults), a learner over [encoder, decoder] (options NULL: fastai's
 * Adam defaults) with fastai's awd_lstm_lm_split as learner groups: rnns_k
 * in group k, the embedding "encoder" and the tied decoder together in
 * the last group, across the two models. pretrained (may be NULL) is a
 * checkpoint of an AWD-LSTM LM with the encoder's tensors under "0." and
 * the decoder's bias under "1." (fastai's SequentialRNN names, what
 * tl.checkpoint.from_torch(naming="fastai") writes, and what
 * tl_text_learner_export of an LM writes) and its vocabulary: its rows are
 * remapped onto vocab (fastai's match_embeds on "0.encoder.weight" and
 * "1.decoder.bias"), loaded, and the learner is frozen (freeze: only the
 * last group trains), as fastai does. Training data: tl_learner_set_lm_data
 * on tl_text_learner_learner. The loss is cross-entropy plus AR/TAR.
 * Errors: those of the builders and tl_learner_create; TL_E_INVALID_ARG
 * (NULL out or vocab), TL_E_IO, TL_E_FORMAT, TL_E_SHAPE (a pretrained
 * tensor of other sizes: the message names it), TL_E_NOT_FOUND (a
 * pretrained file lacking a tensor, or without a vocabulary while its
 * embedding differs in size). */
TL_API tl_status tl_language_model_learner(tl_text_learner **out,
                                           const tl_vocab *vocab,
                                           const tl_awd_lstm_options *awd,
                                           float drop_mult,
                                           const char *pretrained,
                                           const tl_learner_options *options);

/* fastai's text_classifier_learner(dls, AWD_LSTM, drop_mult, max_len,
 * lin_ftrs, ps): the classifier of tl_awd_lstm_clas_create for vocab and
 * the classes of labels (copied; lin_ftrs, n_lin_ftrs, ps, n_ps as there:
 * NULL for fastai's defaults), a learner over [encoder, head] with
 * fastai's awd_lstm_clas_split (embedding; each LSTM; the head) and
 * max_len (0: 72 * 20, fastai's default) as the SentenceEncoder's for
 * predict. Training data: tl_text_learner_set_clas_data. Errors: those of
 * the builders and tl_learner_create, TL_E_INVALID_ARG (NULL). */
TL_API tl_status tl_text_classifier_learner(
    tl_text_learner **out, const tl_vocab *vocab, const tl_label_vocab *labels,
    float drop_mult, size_t max_len, const size_t *lin_ftrs, size_t n_lin_ftrs,
    const float *ps, size_t n_ps, const tl_awd_lstm_options *awd,
    const tl_learner_options *options);

/* Frees the text learner, its learner, models and copies. NULL: no-op. */
TL_API void tl_text_learner_free(tl_text_learner *tl);

/* The learner (borrowed, valid until tl_text_learner_free): fit,
 * fit_one_cycle, fine_tune, freeze_to, unfreeze, metrics, callbacks,
 * lr_find and the rest of tl/learn.h. */
TL_API tl_status tl_text_learner_learner(tl_learner **out, tl_text_learner *tl);

/* The vocabulary (borrowed). */
TL_API tl_status tl_text_learner_vocab(const tl_vocab **out,
                                       const tl_text_learner *tl);

/* The class labels of a classifier (borrowed); TL_E_STATE for an LM. */
TL_API tl_status tl_text_learner_labels(const tl_label_vocab **out,
                                        const tl_text_learner *tl);

/* Classification data for a classifier learner: the loaders (borrowed;
 * valid may be NULL; built with pad_first 0 so that each document's valid
 * steps come first) and the documents' lengths (train_lens[0..n_train),
 * valid_lens[0..n_valid), copied) for masked concat pooling, clipped to
 * max_len, the loaders' max_len (0: whole documents). batch_size is the
 * loaders'. Every batch, in training and in validation, is encoded from a
 * zero state (the encoder's carried state is reset when the batch is
 * read): the batches are independent documents. Errors: TL_E_INVALID_ARG
 * (NULL, n_train 0, a length 0, batch_size 0), TL_E_STATE (an LM
 * learner), TL_E_NOMEM. */
TL_API tl_status tl_text_learner_set_clas_data(
    tl_text_learner *tl, tl_clas_loader *train, tl_clas_loader *valid,
    const size_t *train_lens, size_t n_train, const size_t *valid_lens,
    size_t n_valid, size_t batch_size, size_t max_len);

/* fastai's save_encoder: the encoder's parameters with the vocabulary and
 * its architecture (tl_encoder_save). */
TL_API tl_status tl_text_learner_save_encoder(const tl_text_learner *tl,
                                              const char *path);

/* fastai's load_encoder: tl_encoder_load into this learner's encoder (rows
 * remapped when the file's vocabulary differs), then the optimizer state
 * is cleared. Errors: those of tl_encoder_load (TL_E_SHAPE naming the
 * tensor for other sizes; the encoder is then unchanged). */
TL_API tl_status tl_text_learner_load_encoder(tl_text_learner *tl,
                                              const char *path);

/* fastai's export: one checkpoint file (atomic) with the models'
 * parameters (models[i] under "<i>."), their architecture section, the
 * vocabulary, the tokenizer options, the class labels, bptt, max_len and
 * the learner's groups (the metadata keys above). Errors: TL_E_INVALID_ARG,
 * TL_E_IO, TL_E_NOMEM. */
TL_API tl_status tl_text_learner_export(const tl_text_learner *tl,
                                        const char *path);

/* fastai's load_learner: rebuilds the learner of a file written by
 * tl_text_learner_export from the file alone (models from the
 * architecture section, parameters, groups, vocabulary, tokenizer,
 * labels), ready for predict and get_preds (and more training; the
 * optimizer starts fresh with options NULL: defaults). Errors:
 * TL_E_INVALID_ARG (NULL), TL_E_IO, TL_E_NOT_FOUND (no architecture
 * section: "not an exported learner", no vocabulary, no kind),
 * TL_E_FORMAT (a malformed section or metadata value), TL_E_NOMEM. */
TL_API tl_status tl_load_learner(tl_text_learner **out, const char *path,
                                 const tl_learner_options *options);

/* fastai's predict for a classifier: tokenizes text[0..len) with the
 * learner's tokenizer settings, encodes it with its vocabulary (unknown
 * words -> xxunk), runs the encoder in bptt chunks keeping the last
 * max_len tokens' outputs (tl_doc_encoder, eval mode) and the head; writes
 * the class with the highest probability (first on ties) to *out_class
 * (may be NULL) and the probabilities to out_probs[0..n_classes) (may be
 * NULL when n_classes is 0). Errors: TL_E_INVALID_ARG (NULL, an empty
 * text: "the text is empty", n_classes not the number of classes),
 * TL_E_FORMAT (invalid UTF-8), TL_E_STATE (an LM learner). */
TL_API tl_status tl_text_learner_predict(int64_t *out_class, float *out_probs,
                                         size_t n_classes, tl_text_learner *tl,
                                         const char *text, size_t len);

/* fastai's get_preds on a classification loader (borrowed, read for one
 * epoch from its start: tl_clas_loader_restart is called first; pad_first
 * 0; lens[0..n_lens) the documents' lengths, as for set_clas_data, clipped
 * to max_len): eval mode, each batch from a zero state; the
 * probabilities (softmax of the head's logits) of each document in the
 * loader's order into out_probs (n_classes per document) and its label into
 * out_targets (either may be NULL), at most capacity documents; *out_n
 * receives the number of documents. Errors: TL_E_INVALID_ARG (NULL, more
 * documents than capacity: nothing beyond capacity is written, a document
 * index outside lens), TL_E_STATE (an LM learner). */
TL_API tl_status tl_text_learner_get_preds(
    float *out_probs, int64_t *out_targets, size_t capacity, size_t *out_n,
    tl_text_learner *tl, tl_clas_loader *loader, const size_t *lens,
    size_t n_lens, size_t max_len);

#ifdef __cplusplus
}
#endif

#endif /* TL_TEXT_LEARNER_H */
