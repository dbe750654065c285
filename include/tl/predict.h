/*
 * libtl predict: text in, class probabilities out, for a ULMFiT classifier
 * made of an encoder model (embedding + stateful LSTM, taking ids) and a
 * head model (concat pooling + linear layers, taking the encoder's
 * outputs). Long documents are encoded as fastai's SentenceEncoder does:
 * in bptt-sized chunks carrying the LSTM state, keeping only the outputs
 * of the chunks that start within the last max_len tokens, so memory does
 * not grow with document length. See docs/text.md ("Prediction").
 */
#ifndef TL_PREDICT_H
#define TL_PREDICT_H

#include "tl/core.h"
#include "tl/model.h"
#include "tl/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A long-document encoder (opaque): the encoder and head models it
 * references, and its buffers. One thread at a time, and not while another
 * thread uses its models. */
typedef struct tl_doc_encoder tl_doc_encoder;

/* Options of tl_doc_encoder_create (fastai's SentenceEncoder defaults). */
#define TL_DOC_ENCODER_OPTIONS_VERSION 1
typedef struct tl_doc_encoder_options {
  unsigned int version; /* TL_DOC_ENCODER_OPTIONS_VERSION */
  size_t bptt;          /* chunk length: 72 (fastai) */
  size_t max_len;       /* outputs kept for pooling: 72 * 20 (fastai) */
} tl_doc_encoder_options;
/* The defaults of tl_doc_encoder_options_init as a static initialiser:
 * tl_doc_encoder_options o = TL_DOC_ENCODER_OPTIONS_INIT; */
#define TL_DOC_ENCODER_OPTIONS_INIT                                            \
  { TL_DOC_ENCODER_OPTIONS_VERSION, 72, 72 * 20 }

/* Fills *out with the defaults above (bptt 72, max_len 1440) for
 * `version`, writing only the bytes that version defines. Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version outside
 * 1..TL_DOC_ENCODER_OPTIONS_VERSION). */
TL_API tl_status tl_doc_encoder_options_init(tl_doc_encoder_options *out,
                                             unsigned int version);

/* encoder: a model taking ids (T, 1) whose output is (T, 1, H) and whose
 * LSTM layers are stateful; head (may be NULL for encoding only): a model
 * taking (T, 1, H) floats to (1, n_classes) logits. Both are referenced,
 * not copied, and must outlive the encoder; they are put in eval mode at
 * each call. options NULL means defaults; they are copied. The caller owns
 * *out: release it with tl_doc_encoder_free. Errors: TL_E_INVALID_ARG (out
 * or encoder NULL, bptt 0, max_len < bptt), TL_E_UNSUPPORTED
 * (options->version unknown), TL_E_NOMEM. */
TL_API tl_status tl_doc_encoder_create(tl_doc_encoder **out, tl_model *encoder,
                                       tl_model *head,
                                       const tl_doc_encoder_options *options);
/* Frees the encoder's buffers (the views tl_doc_encoder_encode returned
 * become invalid), not its models. NULL is a no-op. */
TL_API void tl_doc_encoder_free(tl_doc_encoder *enc);

/* Encodes ids[0..n) from a zero state in chunks of bptt; *out points to
 * the kept outputs, (T, 1, H) time-major with T = n - (start of the first
 * chunk that starts within the last max_len tokens), valid until the next
 * call. The kept buffer is allocated at the first call (max_len x H);
 * later calls allocate nothing unless the model meets a new chunk shape.
 * Errors: TL_E_INVALID_ARG (n 0: an empty document; an id the embedding
 * refuses), TL_E_SHAPE (encoder output not (T, 1, H)), TL_E_NOMEM. */
TL_API tl_status tl_doc_encoder_encode(const float **out, size_t *out_t,
                                       size_t *out_h, tl_doc_encoder *enc,
                                       const int64_t *ids, size_t n);

/* Class probabilities (softmax of the head's logits, computed in double)
 * of one document of ids into out[0..n_classes). Errors: as encode, and
 * TL_E_STATE (no head), TL_E_SHAPE (head output not (1, n_classes)). */
TL_API tl_status tl_predict_ids(float *out, size_t n_classes,
                                tl_doc_encoder *enc, const int64_t *ids,
                                size_t n);

/* Tokenizes texts[i][0..lens[i]) with tok, encodes with vocab (unknown ->
 * xxunk) and writes the probabilities of text i to out[i * n_classes ..].
 * Errors name the text: TL_E_FORMAT (invalid UTF-8), and those above. */
TL_API tl_status tl_predict_texts(float *out, size_t n_classes,
                                  tl_doc_encoder *enc, tl_tokenizer *tok,
                                  const tl_vocab *vocab,
                                  const char *const *texts, const size_t *lens,
                                  size_t n_texts);

#ifdef __cplusplus
}
#endif

#endif /* TL_PREDICT_H */
